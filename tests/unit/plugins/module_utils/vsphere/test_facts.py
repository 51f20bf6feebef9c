# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import facts

DEV = vim.vm.device


def devices():
    return [
        DEV.VirtualLsiLogicController(key=1000, busNumber=0),
        DEV.ParaVirtualSCSIController(key=1001, busNumber=1),
        DEV.VirtualDisk(key=2000, controllerKey=1000, unitNumber=0, capacityInKB=100 * 1024 * 1024,
                        backing=DEV.VirtualDisk.FlatVer2BackingInfo(fileName="[vmfs-01] a/a.vmdk", uuid="6000C29-1")),
        DEV.VirtualDisk(key=2001, controllerKey=1001, unitNumber=3, capacityInKB=50 * 1024 * 1024,
                        backing=DEV.VirtualDisk.RawDiskMappingVer1BackingInfo(fileName="[vsan-01] a/a_rdm.vmdk",
                                                                              lunUuid="0200aa")),
        DEV.VirtualVmxnet3(key=4000),
    ]


def test_disks_carry_backing_datastore_and_controller():
    result = facts.disks(devices(), {"vmfs-01": "VMFS", "vsan-01": "vsan"})
    assert [(d["file"], d["size_gb"], d["backing"], d["datastore_type"], d["controller_type"], d["controller_bus"],
             d["unit"]) for d in result] == [
        ("[vmfs-01] a/a.vmdk", 100.0, "flat", "VMFS", "lsilogic", 0, 0),
        ("[vsan-01] a/a_rdm.vmdk", 50.0, "rdm", "vsan", "pvscsi", 1, 3)]
    assert result[0]["uuid"] == "6000C29-1" and result[1]["lun_uuid"] == "0200aa"


@pytest.mark.parametrize("device,expected", [
    (DEV.VirtualLsiLogicController(), "lsilogic"), (DEV.VirtualLsiLogicSASController(), "lsilogic-sas"),
    (DEV.ParaVirtualSCSIController(), "pvscsi"), (DEV.VirtualBusLogicController(), "buslogic"),
])
def test_controller_types(device, expected):
    assert facts.controller_type(device) == expected


@pytest.mark.parametrize("row,family", [
    ({"config.guestId": "windows2019srv_64Guest"}, "windows"),
    ({"config.guestId": "rhel8_64Guest"}, "linux"),
    ({"config.guestId": "ubuntu64Guest"}, "linux"),
    ({"config.guestId": "otherGuest", "guest.guestFamily": "linuxGuest"}, "linux"),
    ({"config.guestId": "freebsd12_64Guest"}, "other"),
])
def test_os_family(row, family):
    assert facts.os_family(row) == family


def test_snapshot_tree_is_counted_whole():
    tree = vim.vm.SnapshotTree
    info = vim.vm.SnapshotInfo(rootSnapshotList=[tree(childSnapshotList=[tree(childSnapshotList=[tree()]), tree()])])
    assert facts.snapshot_count(info) == 4
    assert facts.snapshot_count(None) == 0


def test_enable_uuid_reads_the_option_case_insensitively():
    assert facts.enable_uuid([vim.option.OptionValue(key="disk.EnableUUID", value="TRUE")])
    assert not facts.enable_uuid([vim.option.OptionValue(key="disk.EnableUUID", value="false")])
    assert not facts.enable_uuid(None)


def test_reachability_names_the_unreachable_datastores():
    vm = {"name": "app02", "datastores": ["vmfs-01", "vmfs-02"]}
    mt = {"name": "mt", "host": {"datastores": [{"name": "vmfs-01"}, {"name": "nfs-01"}]}}
    assert facts.reachability(vm, mt) == {"vm": "app02", "master_target": "mt", "reachable": ["vmfs-01"],
                                          "unreachable": ["vmfs-02"], "all_reachable": False}
