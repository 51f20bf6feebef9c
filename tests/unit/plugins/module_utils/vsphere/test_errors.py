# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import ssl

from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError, from_exception


def test_login_fault_names_the_fix():
    err = from_exception(vim.fault.InvalidLogin(msg="Cannot complete login"), "log in to", "vc:443 as bob")
    assert isinstance(err, VSphereError)
    assert err.msg.startswith("Could not log in to vc:443 as bob: Cannot complete login (InvalidLogin)")
    assert "VMWARE_PASSWORD" in err.msg
    assert err.details["fault"] == "InvalidLogin"


def test_fault_messages_are_used_when_msg_is_empty():
    fault = vim.fault.InvalidDeviceSpec(faultMessage=[vim.LocalizableMessage(key="k", message="Unit 7 is reserved")])
    err = from_exception(fault, "reconfigure VM", "mt01")
    assert "Unit 7 is reserved" in err.msg


def test_tls_failure_points_at_the_trust_options():
    err = from_exception(ssl.SSLCertVerificationError("self-signed certificate"), "log in to", "vc:443")
    assert "ca_file" in err.msg and "thumbprint" in err.msg
    assert err.details["fault"] == "SSLError"


def test_network_failure_points_at_host_and_port():
    err = from_exception(TimeoutError("timed out"), "log in to", "vc:443")
    assert "cannot reach the server" in err.msg


def test_an_error_of_ours_passes_through_unchanged():
    original = VSphereError("already readable")
    assert from_exception(original, "do") is original


def test_thumbprint_mismatch_is_not_mistaken_for_a_missing_ca():
    from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.connection import ThumbprintMismatchError
    err = from_exception(ThumbprintMismatchError("expected aa, got bb"), "log in to", "vc:443")
    assert "does not match the pinned thumbprint" in err.msg
    assert err.details["fault"] == "ThumbprintMismatch"
