# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain.identity: which VM is the one Site Recovery fails back (every branch of the one rule)."""

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import identity

ORIGINAL = {"moid": "vm-12", "name": "app01", "instance_uuid": "50158471-87c2-d4ad-caa2-abe22face6d8",
            "folder": "DC1/vm", "vmx": "[vmfs-01] app01/app01.vmx", "host": "esx01.lab", "power_state": "poweredOff"}
STALE = {"moid": "vm-40", "name": "app01", "instance_uuid": "5003aaaa-0000-0000-0000-000000000040",
         "folder": "DC1/vm/Restored/app01-copy", "vmx": "[vmfs-02] app01-copy/app01.vmx", "host": "esx02.lab",
         "power_state": "poweredOff"}
OTHER = {"moid": "vm-7", "name": "db01", "instance_uuid": "5003bbbb-0000-0000-0000-000000000007", "folder": "DC1/vm",
         "vmx": "[vmfs-01] db01/db01.vmx", "host": "esx01.lab", "power_state": "poweredOn"}

STALE_TEXT = ("vm-40 (folder DC1/vm/Restored/app01-copy, [vmfs-02] app01-copy/app01.vmx, instance UUID "
              "5003aaaa-0000-0000-0000-000000000040, host esx02.lab, poweredOff)")
ORIGINAL_TEXT = ("vm-12 (folder DC1/vm, [vmfs-01] app01/app01.vmx, instance UUID 50158471-87c2-d4ad-caa2-abe22face6d8, "
                 "host esx01.lab, poweredOff)")


def test_the_vm_carrying_the_recorded_uuid_wins_and_the_stale_copy_is_reported():
    found = identity.resolve("app01", [STALE, OTHER, ORIGINAL], "50158471-87C2-D4AD-CAA2-ABE22FACE6D8")
    assert (found.how, found.vm["moid"], found.found) == (identity.FOUND_BY_UUID, "vm-12", True)
    assert found.uuid_missing is False
    assert [c["moid"] for c in found.others] == ["vm-40"]
    assert found.refusal() is None
    assert found.warning() == (
        "VM app01 was identified by the instance UUID 50158471-87C2-D4AD-CAA2-ABE22FACE6D8 (%s); another VM of the "
        "same name is left alone: %s. Rename or remove it when it is stale." % (ORIGINAL_TEXT, STALE_TEXT))


def test_a_uuid_without_dashes_matches_and_wins_over_the_name():
    renamed = dict(ORIGINAL, name="app01-old")
    found = identity.resolve("app01", [STALE, renamed], "5015847187c2d4adcaa2abe22face6d8")
    assert found.how == identity.FOUND_BY_UUID and found.vm["moid"] == "vm-12"
    assert [c["moid"] for c in found.others] == ["vm-40"]  # the VM of the name that is not the one


def test_a_classic_item_two_vms_of_the_name_are_refused_naming_each_and_never_advising_alternate():
    found = identity.resolve("app01", [ORIGINAL, OTHER, STALE])
    assert (found.how, found.vm, found.found, found.others) == (identity.AMBIGUOUS, None, False, [])
    assert [c["moid"] for c in found.same_name] == ["vm-12", "vm-40"]
    assert found.warning() is None
    assert found.refusal() == (
        "VM app01: 2 VMs have that name and Site Recovery records no instance UUID for a classic (InMage/InMageAzureV2) "
        "VM, so the VM it fails back cannot be told from the others: %s; %s. Nothing was changed. Rename or remove the "
        "stale copy (keep the VM Site Recovery protects), and re-run." % (ORIGINAL_TEXT, STALE_TEXT))
    assert "alternate" not in found.refusal()


def test_the_refusal_names_the_modules_own_way_to_pick_the_vm_and_drops_its_prefix_on_request():
    found = identity.resolve("app01", [ORIGINAL, STALE])
    text = found.refusal("give the instance UUID of the right one as instance_uuid", prefix=False)
    assert text.startswith("2 VMs have that name")
    assert text.endswith("Rename or remove the stale copy (keep the VM Site Recovery protects), or give the instance "
                         "UUID of the right one as instance_uuid, and re-run.")


def test_a_recorded_uuid_no_vm_carries_and_a_shared_name_is_refused_saying_so():
    found = identity.resolve("app01", [ORIGINAL, STALE], "5003ffff-0000-0000-0000-000000000001")
    assert found.how == identity.AMBIGUOUS and found.uuid_missing
    assert found.refusal().startswith("VM app01: 2 VMs have that name and none of them carries the instance UUID "
                                      "5003ffff-0000-0000-0000-000000000001 that identifies the VM: vm-12 (")


def test_a_recorded_uuid_no_vm_carries_falls_back_to_the_one_vm_of_the_name_and_says_so():
    found = identity.resolve("app01", [STALE, OTHER], "5003ffff-0000-0000-0000-000000000001")
    assert (found.how, found.vm["moid"], found.uuid_missing, found.others) == (identity.FOUND_BY_NAME, "vm-40", True, [])
    assert found.warning() is None


def test_a_classic_item_the_one_vm_of_the_name_is_the_vm():
    found = identity.resolve("app01", [ORIGINAL, OTHER])
    assert (found.how, found.vm["moid"], found.uuid_missing, found.uuid) == (identity.FOUND_BY_NAME, "vm-12", False,
                                                                             None)
    assert found.refusal() is None and found.warning() is None


def test_no_vm_of_the_name_is_not_found():
    for uuid in (None, "", "5003ffff-0000-0000-0000-000000000001"):
        found = identity.resolve("ghost", [ORIGINAL, STALE], uuid)
        assert (found.how, found.vm, found.found, found.same_name) == (identity.NOT_FOUND, None, False, [])
        assert found.refusal() is None and found.warning() is None
    assert identity.resolve("ghost", []).how == identity.NOT_FOUND


def test_a_uuid_two_vms_carry_does_not_choose_and_the_name_decides():
    twin = dict(OTHER, instance_uuid=ORIGINAL["instance_uuid"])
    assert identity.resolve("app01", [ORIGINAL, twin], ORIGINAL["instance_uuid"]).how == identity.FOUND_BY_NAME
    assert identity.resolve("app01", [ORIGINAL, STALE, twin], ORIGINAL["instance_uuid"]).how == identity.AMBIGUOUS


def test_several_others_are_reported_in_the_plural():
    third = dict(STALE, moid="vm-41", folder="DC1/vm/Old")
    found = identity.resolve("app01", [ORIGINAL, STALE, third], ORIGINAL["instance_uuid"])
    assert "2 other VMs of the same name are left alone" in found.warning()
    assert found.warning().endswith("Rename or remove them when they are stale.")


def test_a_candidate_is_described_with_what_is_known():
    assert identity.describe({"moid": "vm-3"}) == "vm-3 (instance UUID (none))"
    assert identity.describe(STALE) == STALE_TEXT
    assert identity.norm_uuid(" 5003-AB ") == "5003ab" and identity.norm_uuid(None) == ""
