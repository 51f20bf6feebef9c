# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import disks

DEV = vim.vm.device


def disk(key, ctrl, unit, name):
    return DEV.VirtualDisk(key=key, controllerKey=ctrl, unitNumber=unit, capacityInKB=1024 * 1024,
                           backing=DEV.VirtualDisk.FlatVer2BackingInfo(fileName=name))


def test_vm_disk_set_finds_disks_on_the_vm_on_the_master_target_and_in_the_manifest():
    vm_disks = [{"file": "[ds] a/a_1.vmdk", "size_gb": 2, "uuid": "u1", "controller_bus": 0, "unit": 1, "backing": "flat"},
                {"file": "[ds] a/a_rdm.vmdk", "size_gb": 5, "uuid": None, "controller_bus": 0, "unit": 2, "backing": "rdm"}]
    mt_disks = [{"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": "u0"}, {"file": "[ds] mt/mt.vmdk", "size_gb": 9, "uuid": "m"}]
    recorded = [{"file": "[ds] a/a_2.vmdk", "size_gb": 3, "uuid": "u2", "bus": 0, "unit": 3}]
    result = disks.vm_disk_set(vm_disks, mt_disks, recorded, "[ds] a/")
    assert [(d["file"], d["where"]) for d in result] == [
        ("[ds] a/a.vmdk", "mt"), ("[ds] a/a_1.vmdk", "vm"), ("[ds] a/a_2.vmdk", "none")]


def test_slot_allocator_fills_lsi_logic_skips_unit_7_and_adds_a_controller_when_full():
    devices = [DEV.VirtualLsiLogicController(key=1000, busNumber=0), DEV.ParaVirtualSCSIController(key=1001, busNumber=1)]
    devices += [disk(2000 + u, 1000, u, "[ds] x/%d.vmdk" % u) for u in range(16) if u not in (7, 15)]
    allocator = disks.SlotAllocator(devices)
    assert allocator.take() == (1000, 15)
    key, unit = allocator.take()  # LSI controller full; PVSCSI is never used for a master target
    assert unit == 0 and key < 0
    assert allocator.new_controllers == [{"key": key, "bus": 2, "type": "lsilogic"}]


def test_slot_allocator_keeps_the_original_slot_when_free():
    devices = [DEV.ParaVirtualSCSIController(key=1000, busNumber=0), disk(2000, 1000, 0, "[ds] a/os.vmdk")]
    allocator = disks.SlotAllocator(devices, any_controller=True)
    assert allocator.take(bus=0, unit=4) == (1000, 4)
    assert allocator.take(bus=0, unit=0) == (1000, 1)  # taken: the next free unit on that bus


def test_the_manifest_round_trips_through_extra_config():
    option = disks.manifest_option([{"file": "[ds] a/a.vmdk", "size_gb": 1.5, "uuid": "u", "bus": 0, "unit": 0,
                                     "where": "vm"}])
    assert option.key == "siterecovery.failback.disks"
    assert disks.manifest([option]) == [{"file": "[ds] a/a.vmdk", "size_gb": 1.5, "uuid": "u", "bus": 0, "unit": 0}]
    assert disks.manifest([vim.option.OptionValue(key=disks.MANIFEST_KEY, value="not json")]) == []


def test_orphans_are_the_vms_own_disks_attached_nowhere():
    found = {"[ds] a/": ["a.vmdk", "a_1.vmdk", "a_2.vmdk", "other.vmdk", "ab.vmdk"]}
    result = disks.orphans("a", "[ds] a/", found, {"[ds] a/a.vmdk"})
    assert [d["file"] for d in result] == ["[ds] a/a_1.vmdk", "[ds] a/a_2.vmdk"]


def test_folder_paths_in_both_server_spellings():
    assert disks._folder_key("[vmfs-01] app01/") == "[vmfs-01] app01/"
    assert disks._folder_key("[vmfs-01]/app01") == "[vmfs-01] app01/"


def test_alternate_files_are_named_after_the_vm():
    assert [d["file"] for d in disks.alternate_files("web02", "vmfs-01", [40, 80])] == [
        "[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"]


def test_detach_never_destroys_and_the_guard_catches_a_destroy():
    remove = disks.remove_spec(disk(2000, 1000, 0, "[ds] a/a.vmdk"))
    assert remove.fileOperation is None
    assert disks.never_destroys(vim.vm.ConfigSpec(deviceChange=[remove]))
    remove.fileOperation = DEV.VirtualDeviceSpec.FileOperation.destroy
    assert not disks.never_destroys(vim.vm.ConfigSpec(deviceChange=[remove]))
