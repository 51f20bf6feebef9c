# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS verification turned off is said in every run: by every module that connects to vSphere (a module warning),
and once at the start of a failback run (run_options' action) - AWX's VMware vCenter credential injects
VMWARE_VALIDATE_CERTS=False by default."""

from unittest import mock

import pytest

from ansible_collections.siterecovery.failback.plugins.action import run_options as action
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.connection import tls_warning
from ansible_collections.siterecovery.failback.plugins.modules import vsphere_connection_info
from ansible_collections.siterecovery.failback.tests.unit.helpers import run_module
from ansible_collections.siterecovery.failback.tests.unit.plugins.modules.test_vsphere_connection_info import (
    CONNECT,
    FakeClient,
)


@pytest.fixture
def as_a_module(monkeypatch):
    """Warnings recorded as a module records them (once the controller's code is imported in the test process, e.g.
    the action plugin, ansible-core would hand them to the controller's display instead)."""
    from ansible.module_utils import _internal
    from ansible.module_utils.common import warnings
    monkeypatch.setattr(_internal, "is_controller", False)
    warnings._global_warnings.clear()  # pylint: disable=protected-access  # one module run per process, as in Ansible


def warning_texts(result):
    """The module's warnings as text (ansible-core 2.19 returns each as a WarningSummary with its event's msg)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def test_no_warning_while_verified_or_pinned():
    assert tls_warning("vc.lab", True) is None
    assert tls_warning("vc.lab", False, thumbprint="AB:CD") is None  # pinned: the certificate is checked


def test_the_warning_names_the_server_and_every_way_to_turn_it_on():
    text = tls_warning("vc.lab", False)
    for words in ("vc.lab", "OFF", "VMWARE_VALIDATE_CERTS=False", "AWX", "VMWARE_VALIDATE_CERTS=True",
                  "failback_vcenter_validate_certs=true", "ca_file", "VMWARE_CA_FILE", "thumbprint"):
        assert words in text


@pytest.mark.parametrize("defaults, environ, off", [
    ({}, {}, False),
    ({}, {"VMWARE_VALIDATE_CERTS": "False", "VMWARE_HOST": "vc.env"}, True),  # what AWX's credential injects
    ({}, {"VMWARE_VALIDATE_CERTS": "false"}, True),
    ({}, {"VMWARE_VALIDATE_CERTS": "True"}, False),
    ({"validate_certs": True}, {"VMWARE_VALIDATE_CERTS": "False"}, False),  # the extra variable wins
    ({"validate_certs": "false"}, {}, True),
    ({}, {"VMWARE_VALIDATE_CERTS": "False", "VMWARE_THUMBPRINT": "AB:CD"}, False),
    ({}, {"VMWARE_VALIDATE_CERTS": "maybe"}, False),  # not a boolean: the module refuses it
])
def test_run_options_action_reads_defaults_over_environment(defaults, environ, off):
    warning = action.vsphere_tls_warning(defaults, environ)
    assert (warning is not None) == off
    if off:
        assert (defaults.get("hostname") or environ.get("VMWARE_HOST") or "vCenter") in warning


@pytest.mark.parametrize("validate_certs, warned", [(False, True), (True, False)])
def test_a_connecting_module_warns(capsys, as_a_module, validate_certs, warned):
    args = {"hostname": "vc.lab", "username": "bob", "password": "Sup3rS3cret!", "validate_certs": validate_certs}
    with mock.patch(CONNECT, return_value=FakeClient(0)) as connect:
        failed, result = run_module(vsphere_connection_info.main, args, capsys)
    assert connect.called and not failed, result
    warnings = [w for w in warning_texts(result) if "TLS verification of vc.lab is OFF" in w]
    assert len(warnings) == (1 if warned else 0)


def test_a_failed_connection_still_warns(capsys, as_a_module):
    from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
    args = {"hostname": "vc.lab", "username": "bob", "password": "Sup3rS3cret!", "validate_certs": False}
    with mock.patch(CONNECT, side_effect=VSphereError("Cannot reach vc.lab:443")):
        failed, result = run_module(vsphere_connection_info.main, args, capsys)
    assert failed and any("TLS verification of vc.lab is OFF" in w for w in warning_texts(result))
