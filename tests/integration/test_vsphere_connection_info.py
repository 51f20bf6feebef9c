# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vsphere_connection_info against the lab's vCenter and standalone ESXi simulators."""

import json

from conftest import run_module


def assert_no_secret(result, secret):
    """Ansible replaces every copy of a no_log value in a module's result by ********, so the secret itself can
    never show here: a module that copied it into its result shows the mask instead."""
    text = json.dumps(result)
    assert secret not in text and "********" not in text, text


def test_vcenter_with_ca_file_from_the_environment(vcenter):
    rc, result = run_module("vsphere_connection_info", env=vcenter.env())
    assert rc == 0, result
    assert result["changed"] is False
    assert result["server"]["api_type"] == "VirtualCenter"
    assert result["server"]["is_vcenter"] is True
    assert result["tls"] == {"verified": True, "method": "ca_file"}
    # both clocks are this machine's: any skew is the round trip, seconds at most even under load
    assert abs(result["clock_skew_seconds"]) < 60
    assert_no_secret(result, vcenter.info["password"])


def test_check_mode_answers_the_same(vcenter):
    rc, result = run_module("vsphere_connection_info", env=vcenter.env(), check=True)
    assert rc == 0 and result["server"]["api_type"] == "VirtualCenter"


def test_untrusted_certificate_is_refused_by_default(vcenter):
    env = vcenter.env()
    del env["VMWARE_CA_FILE"]
    rc, result = run_module("vsphere_connection_info", env=env)
    assert rc != 0
    assert "TLS verification failed" in result["msg"]
    assert "ca_file" in result["msg"]


def test_pinned_thumbprint_is_accepted_and_a_wrong_one_refused(vcenter):
    env = vcenter.env()
    del env["VMWARE_CA_FILE"]
    rc, result = run_module("vsphere_connection_info", {"thumbprint": vcenter.info["thumbprint"]}, env=env)
    assert rc == 0, result
    assert result["tls"]["method"] == "thumbprint"
    wrong = "00" * 20
    rc, result = run_module("vsphere_connection_info", {"thumbprint": wrong}, env=env)
    assert rc != 0
    assert "does not match the pinned thumbprint" in result["msg"]


def test_wrong_password_names_the_fix(vcenter):
    env = dict(vcenter.env(), VMWARE_PASSWORD="not-the-password")
    rc, result = run_module("vsphere_connection_info", env=env)
    assert rc != 0
    assert "InvalidLogin" in result["msg"] and "VMWARE_PASSWORD" in result["msg"]
    assert_no_secret(result, "not-the-password")


def test_standalone_esxi_reports_hostagent(esxi):
    rc, result = run_module("vsphere_connection_info", env=esxi.env())
    assert rc == 0, result
    assert result["server"]["api_type"] == "HostAgent"
    assert result["server"]["is_vcenter"] is False
