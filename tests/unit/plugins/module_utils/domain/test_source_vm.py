# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The alternate-location VM's firmware, guest OS, SCSI controller and networks, from what ASR reports."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import source_vm

# as recorded (tests/recorded/asr): item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection
CLASSIC_FORWARD = {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
                   "os_name": "Microsoft Windows Server 2016 Datacenter", "networks": None}
# item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback: no firmware, one NIC with networkName null
MODERN_FAILBACK = {"firmware_type": None, "azure_vm_generation": None, "os_type": "Windows",
                   "os_name": "Microsoft Windows Server 2016 or later (64-bit)", "networks": [None]}


@pytest.mark.parametrize("reported, expected", [("UEFI", "efi"), ("uefi", "efi"), ("BIOS", "bios"), (" Bios ", "bios")])
def test_asr_firmware_type_maps_to_vsphere_firmware(reported, expected):
    assert source_vm.firmware({"firmware_type": reported}) == (expected, None)


def test_a_generation_2_source_without_firmware_type_boots_uefi():
    assert source_vm.firmware({"azure_vm_generation": "V2"}) == ("efi", None)
    assert source_vm.firmware({"azure_vm_generation": "V1"}) == ("bios", None)


def test_the_users_firmware_wins_over_asr():
    assert source_vm.firmware(CLASSIC_FORWARD, "bios") == ("bios", None)


def test_a_failback_item_reports_no_firmware_and_is_refused():
    value, problem = source_vm.firmware(MODERN_FAILBACK)
    assert value is None
    assert problem.startswith("ASR reports no firmwareType nor VM generation for the source machine")
    assert "Set firmware: efi (UEFI) or bios" in problem


def test_an_unknown_firmware_type_is_refused_even_with_a_generation():
    value, problem = source_vm.firmware({"firmware_type": "Other", "azure_vm_generation": "V2"})
    assert value is None and "firmwareType 'Other'" in problem


@pytest.mark.parametrize("name, expected", [
    ("Microsoft Windows Server 2016 Datacenter", "windows9Server64Guest"),
    ("Microsoft Windows Server 2016 or later (64-bit)", "windows9Server64Guest"),
    ("Windows Server 2019", "windows2019srv_64Guest"),
    ("Microsoft Windows Server 2022 Datacenter", "windows2019srvNext_64Guest"),
    ("Microsoft Windows Server 2012 R2 Standard", "windows8Server64Guest"),
    ("Red Hat Enterprise Linux 8", "rhel8_64Guest"),
    ("Red Hat Enterprise Linux 9 (64-bit)", "rhel9_64Guest"),
    ("CentOS 7 (64-bit)", "centos7_64Guest"),
    ("Ubuntu Linux (64-bit)", "ubuntu64Guest"),
    ("SUSE Linux Enterprise 15 (64-bit)", "sles15_64Guest"),
])
def test_guest_id_from_the_os_name_asr_reports(name, expected):
    assert source_vm.guest_id({"os_name": name, "os_type": "Windows" if "Windows" in name else "Linux"}) == (
        expected, None)


def test_an_unknown_linux_gets_the_generic_64_bit_linux_id():
    assert source_vm.guest_id({"os_type": "Linux", "os_name": "Gentoo"}) == ("otherLinux64Guest", None)


def test_an_unknown_windows_is_refused_naming_what_asr_reported():
    value, problem = source_vm.guest_id({"os_type": "Windows", "os_name": "Windows NT 4.0"})
    assert value is None
    assert problem == ("ASR reports OS 'Windows NT 4.0' (osType 'Windows'), which has no known vSphere guest OS id. "
                       "Set guest_id for it (for example windows2019srv_64Guest), as the source VM had.")


def test_nothing_reported_is_refused():
    assert source_vm.guest_id({})[0] is None


def test_the_users_guest_id_wins():
    assert source_vm.guest_id(CLASSIC_FORWARD, "windows2019srv_64Guest") == ("windows2019srv_64Guest", None)


@pytest.mark.parametrize("guest, given, expected", [
    ("windows9Server64Guest", None, "lsilogic-sas"), ("rhel8_64Guest", None, "lsilogic"),
    (None, None, "lsilogic"), ("windows9Server64Guest", "pvscsi", "pvscsi")])
def test_scsi_controller_type_by_guest_os(guest, given, expected):
    assert source_vm.scsi_type(guest, given) == expected


def test_networks_given_win_over_the_source_nics():
    assert source_vm.target_networks({"networks": ["VM Network"]}, ["Prod"], {"VM Network": "X"}) == (["Prod"], [])


def test_source_networks_go_through_the_map_and_keep_their_name_otherwise():
    source = {"networks": ["VM Network", "Backup"]}
    assert source_vm.target_networks(source, None, {"VM Network": "DPG-Prod"}) == (["DPG-Prod", "Backup"], [])


def test_a_source_nic_whose_network_asr_does_not_name_is_a_problem():
    names, problems = source_vm.target_networks(MODERN_FAILBACK)
    assert names == [] and problems == [
        "ASR does not name the network of source NIC 0. Give networks: [port group, ...] for every NIC, in order."]


def test_classic_items_report_no_networks_so_none_are_created():
    assert source_vm.target_networks(CLASSIC_FORWARD) == ([], [])


def test_map_keys_no_nic_uses_are_named():
    assert source_vm.unused_map_keys({"networks": ["VM Network"]}, {"VM Netwrok": "A", "VM Network": "B"}) == [
        "VM Netwrok"]
