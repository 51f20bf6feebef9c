# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import json

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.plugins.modules import vsphere_connection_info
from ansible_collections.siterecovery.failback.tests.unit.helpers import run_module, run_module_unmasked

CONNECT = "ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.connection.connect"
ARGS = {"hostname": "vc.lab", "username": "bob", "password": "Sup3rS3cret!", "ca_file": "/etc/ca.pem"}


class FakeClient:
    is_vcenter = True
    about = vim.AboutInfo(apiType="VirtualCenter", name="VMware vCenter Server", fullName="VMware vCenter Server 8.0.2",
                          version="8.0.2", build="22617221", apiVersion="8.0.2.0", instanceUuid="5b1c")

    def __init__(self, skew):
        self.skew = skew
        self.stats = {"property_reads": 0}
        self.disconnected = False

    def server_time(self):
        return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.skew)

    def session_user(self):
        self.stats["property_reads"] += 1
        return "VSPHERE.LOCAL\\bob"

    def disconnect(self):
        self.disconnected = True


@pytest.fixture
def fake(monkeypatch):
    seen = {}

    def connect(params):
        seen["params"] = params
        seen["client"] = FakeClient(skew=120)
        return seen["client"]

    monkeypatch.setattr(CONNECT, connect)
    return seen


def test_reports_the_server_and_clock_skew(fake, capsys):
    failed, result = run_module(vsphere_connection_info.main, ARGS, capsys)
    assert not failed
    assert result["changed"] is False
    assert result["server"]["api_type"] == "VirtualCenter"
    assert result["server"]["is_vcenter"] is True
    assert result["clock_skew_seconds"] == pytest.approx(120, abs=2)
    assert result["tls"] == {"verified": True, "method": "ca_file"}
    assert result["property_reads"] == 1
    assert fake["params"].ca_file == "/etc/ca.pem"
    assert fake["client"].disconnected


def test_check_mode_gives_the_same_answer(fake, capsys):
    failed, result = run_module(vsphere_connection_info.main, ARGS, capsys, check_mode=True)
    assert not failed and result["server"]["version"] == "8.0.2"


def test_failure_is_readable_structured_and_never_shows_the_password(monkeypatch, capsys):
    def connect(params):
        raise VSphereError("Could not log in to vc.lab:443 as bob: Cannot complete login (InvalidLogin)",
                           fault="InvalidLogin")

    monkeypatch.setattr(CONNECT, connect)
    # the result as the module built it: Ansible's own no_log masking would hide a password copied into it
    failed, result, module = run_module_unmasked(vsphere_connection_info.main, {**ARGS, "validate_certs": False}, capsys)
    assert failed
    assert "InvalidLogin" in result["msg"]
    assert result["error"]["fault"] == "InvalidLogin"
    assert result["error"]["kind"] == "vsphere"
    assert "Sup3rS3cret!" not in json.dumps(result)
    assert module["argument_spec"]["password"]["no_log"] is True and "Sup3rS3cret!" in module["no_log_values"]


def test_a_successful_result_carries_no_password(fake, capsys):
    failed, result, module = run_module_unmasked(vsphere_connection_info.main, ARGS, capsys)
    assert not failed and result["server"]["api_type"] == "VirtualCenter", result
    assert "Sup3rS3cret!" not in json.dumps(result, default=str)
    assert module["argument_spec"]["password"]["no_log"] is True
