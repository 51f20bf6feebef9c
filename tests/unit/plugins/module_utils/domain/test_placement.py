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
