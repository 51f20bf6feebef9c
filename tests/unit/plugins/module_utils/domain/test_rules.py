# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules the preflight and the steps share: one sentence each, from the same function."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import rules


@pytest.mark.parametrize("vm_os, mt_os, holds", [
    ("Windows", "windows", True), ("LINUX", "Linux", True), (None, "Linux", True), ("Windows", "", True),
    ("Windows", "Linux", False), ("linux", "WINDOWS", False)])
def test_master_target_os(vm_os, mt_os, holds):
    broken = rules.master_target_os("app01", vm_os, "mt-01", mt_os)
    assert (broken is None) is holds
    if broken:
        assert broken.rule == "mt_os" and broken.message.startswith("VM app01 runs ")
        assert broken.sentence() == broken.message + " " + broken.remedy


def test_master_target_disks_counts_to_sixty():
    assert rules.master_target_disks("mt-01", 58, 2) is None
    broken = rules.master_target_disks("mt-01", 58, 3)
    assert broken.message == "Master target mt-01 would hold 61 disks (58 now + 3); the limit is 60."
    assert rules.master_target_disks("mt-01", 57, 4, vm="db01").message == (
        "Master target mt-01 would hold 61 disks with db01's 4; the limit is 60.")


@pytest.mark.parametrize("kind, holds", [
    ("VMFS", True), ("vsan", True), (" vSAN ", True), ("NFS", False), ("NFS41", False), ("vvol", False), (None, False)])
def test_datastore_kind(kind, holds):
    broken = rules.datastore_kind("web02", "ds-1", kind)
    assert (broken is None) is holds
    if broken:
        assert broken.rule == "datastore_type"
        assert broken.message.startswith("VM web02: datastore ds-1 is %s;" % (kind or "of an unknown type"))


def test_datastore_reach_names_what_is_missing_and_what_is_mounted_in_the_given_order():
    assert rules.datastore_reach("app01", ["b", "a"], ["a", "b", "c"], "ESXi host esx01") is None
    assert rules.datastore_reach("app01", [], [], "ESXi host esx01") is None
    broken = rules.datastore_reach("app01", ["z", "a", "y"], ["c", "a"], "ESXi host esx01 of master target mt-01")
    assert broken.rule == "datastore_reachable"
    assert broken.message == ("VM app01: datastore y, z is not mounted on ESXi host esx01 of master target mt-01 "
                              "(ASR error 8061; it mounts c, a).")
    assert "it mounts nothing" in rules.datastore_reach("app01", ["a"], [], "x").message


@pytest.mark.parametrize("backing, kind, why", [
    ("rdm", "VMFS", "is a raw device mapping"), ("flat", "vsan", "is on vSAN datastore ds-1"),
    ("flat", "vSAN", "is on vSAN datastore ds-1"), ("flat", "VMFS", None), ("sparse", None, None)])
def test_original_disk(backing, kind, why):
    broken = rules.original_disk("app01", "[ds-1] app01/app01.vmdk", backing, "ds-1", kind)
    assert (broken is None) is (why is None)
    if broken:
        assert broken.rule == "original_disk_types"
        assert broken.message == "VM app01: disk [ds-1] app01/app01.vmdk %s; original-location failback cannot use it." % why


@pytest.mark.parametrize("physical, datastore, holds", [
    (True, None, False), (True, "", False), (True, "vmfs-01", True), (False, None, True), (None, None, True)])
def test_physical_server(physical, datastore, holds):
    broken = rules.physical_server("srv01", physical, datastore)
    assert (broken is None) is holds
    if broken:
        assert broken.rule == "physical_alternate_only" and "location alternate and a datastore" in broken.remedy
