# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import placement

MTS = [
    {"name": "mt-win01", "os_type": "Windows", "datastores": ["vmfs-01", "vmfs-02"], "disk_count": 2},
    {"name": "mt-win02", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 50},
    {"name": "mt-lin01", "os_type": "Linux", "datastores": ["vmfs-01", "vmfs-02"], "disk_count": 2},
]


def vm(name, os_type="Windows", datastores=("vmfs-01",), disks=2, group=None):
    return {"name": name, "os_type": os_type, "datastores": list(datastores), "disk_count": disks, "group": group}


def test_os_reach_and_room_decide_and_the_roomiest_wins():
    choice, problems = placement.place([vm("a"), vm("b", datastores=["vmfs-02"]), vm("c", "Linux")], MTS)
    assert problems == []
    assert choice == {"a": "mt-win01", "b": "mt-win01", "c": "mt-lin01"}


def test_a_replication_group_shares_one_master_target():
    vms = [vm("db", disks=5, group="g"), vm("app", datastores=["vmfs-02"], disks=5, group="g")]
    choice, problems = placement.place(vms, MTS)
    assert problems == [] and choice == {"db": "mt-win01", "app": "mt-win01"}


def test_exactly_sixty_fits_and_sixty_one_does_not():
    mts = [{"name": "mt", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 55}]
    assert placement.place([vm("a", disks=5)], mts)[0] == {"a": "mt"}
    choice, problems = placement.place([vm("a", disks=6)], mts)
    assert choice == {} and "room for 6 more disk(s)" in problems[0] and "mt Windows, 55/60 disks" in problems[0]


def test_a_group_of_mixed_os_is_refused():
    choice, problems = placement.place([vm("a", group="g"), vm("b", "Linux", group="g")], MTS)
    assert choice == {} and "mixes operating systems" in problems[0]


def test_disk_budget_is_shared_between_vms_placed_in_one_run():
    mts = [{"name": "m1", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 40},
           {"name": "m2", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 45}]
    choice, problems = placement.place([vm("a", disks=15), vm("b", disks=15)], mts)
    assert problems == [] and choice == {"a": "m1", "b": "m2"}


def member(name, stage, in_run=False, provider="InMageAzureV2", mt_id=None, disks=3, datastores=("vmfs-01",)):
    item = {"name": name, "provider": provider, "onprem": {"datastores": list(datastores), "master_target_id": mt_id}}
    return {"name": name, "stage": stage, "in_run": in_run, "os_type": "Windows", "disk_count": disks, "item": item}


WAITING = ("running_in_azure",)
BY_ID = {"mt-win02-id": "mt-win02"}


def test_companions_count_the_members_outside_the_run_still_to_reprotect():
    groups = {"g": [member("app", "running_in_azure", in_run=True), member("db", "running_in_azure"),
                    member("old", "failback_committed"), member("rcm", "running_in_azure", provider="InMageRcm")]}
    found = placement.companions([{"name": "app", "replication_group": "g"}], groups, WAITING, BY_ID)
    # db counts with its disks and datastores; a member past the reprotect, or a modernized one (no master target), not
    assert found == [{"name": "db", "os_type": "Windows", "group": "g", "disk_count": 3, "alternate": False,
                      "memory_mb": None, "datastores": ["vmfs-01"]}]
    assert placement.companions([{"name": "x", "replication_group": None}], groups, WAITING, BY_ID) == []


def test_a_group_member_already_on_a_master_target_pins_the_group_there():
    groups = {"g": [member("app", "running_in_azure", in_run=True),
                    member("db", "replicating_to_onprem", in_run=True, provider="InMage", mt_id="MT-WIN02-ID")]}
    found = placement.companions([{"name": "app", "replication_group": "g"}], groups, WAITING, BY_ID)
    assert [(f["name"], f["fixed_master_target"], f["disk_count"]) for f in found] == [("db", "mt-win02", 0)]
    # mt-win01 has the most room, but the group is on mt-win02 already
    choice, problems = placement.place([vm("app", group="g"), *found], MTS)
    assert problems == [] and choice["app"] == "mt-win02"


def test_a_group_pinned_to_a_full_or_unreachable_master_target_is_refused_naming_it():
    pinned = dict(vm("db", disks=0, group="g"), fixed_master_target="mt-win02")
    choice, problems = placement.place([vm("app", disks=11, group="g"), pinned], MTS)
    assert choice == {} and "it must be mt-win02, which already holds members of the group" in problems[0], problems
    far = placement.place([vm("app", datastores=["vmfs-02"], group="g"), pinned], MTS)
    assert far[0] == {} and "mt-win02" in far[1][0]


def test_a_group_already_split_across_master_targets_is_refused():
    a = dict(vm("a", disks=0, group="g"), fixed_master_target="mt-win01")
    b = dict(vm("b", disks=0, group="g"), fixed_master_target="mt-win02")
    choice, problems = placement.place([vm("c", group="g"), a, b], MTS)
    assert choice == {} and "already split across master targets mt-win01, mt-win02" in problems[0]
