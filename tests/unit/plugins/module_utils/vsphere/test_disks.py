# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import disks
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import FakeClient, moref

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


# ------------------------------------------------------------------ manifest and paths
def test_a_vm_without_a_usable_manifest_has_none():
    option = vim.option.OptionValue
    assert disks.manifest(None) == []
    assert disks.manifest([option(key="disk.EnableUUID", value="TRUE")]) == []
    assert disks.manifest([option(key=disks.MANIFEST_KEY, value="")]) == []
    assert disks.manifest([option(key=disks.MANIFEST_KEY, value='{"file": "[ds] a/a.vmdk"}')]) == []
    assert disks.manifest([option(key=disks.MANIFEST_KEY, value='[{"file": "[ds] a/a.vmdk"}]')]) == [
        {"file": "[ds] a/a.vmdk"}]


def test_the_manifest_keeps_five_fields_in_compact_json():
    option = disks.manifest_option([{"file": "[ds] a/a.vmdk", "size_gb": 2, "uuid": None, "bus": 1, "unit": 8,
                                     "where": "mt", "key": 2001}])
    assert json.loads(option.value) == [{"bus": 1, "file": "[ds] a/a.vmdk", "size_gb": 2, "unit": 8, "uuid": None}]
    assert ", " not in option.value and ": " not in option.value


def test_vm_directory_from_the_vmx_path():
    assert disks.vm_directory("[vmfs-01] app01/app01.vmx") == "[vmfs-01] app01/"
    assert disks.vm_directory("[vmfs-01] vms/app01/app01.vmx") == "[vmfs-01] vms/app01/"
    assert disks.vm_directory("[vmfs-01] app01.vmx") is None
    assert disks.vm_directory(None) is None
    assert disks.vm_directory("") is None


def test_alternate_files_carry_their_sizes_and_no_slot():
    assert disks.alternate_files("web02", "vmfs-01", [40, 80, 1.5]) == [
        {"file": "[vmfs-01] web02/web02.vmdk", "size_gb": 40, "uuid": None, "bus": None, "unit": None},
        {"file": "[vmfs-01] web02/web02_1.vmdk", "size_gb": 80, "uuid": None, "bus": None, "unit": None},
        {"file": "[vmfs-01] web02/web02_2.vmdk", "size_gb": 1.5, "uuid": None, "bus": None, "unit": None}]


def test_vm_disk_set_follows_a_recorded_disk_by_uuid_and_keeps_its_recorded_slot():
    recorded = [{"file": "[ds] a/a_1.vmdk", "size_gb": 3, "uuid": "u1", "bus": 1, "unit": 4}]
    vm_disks = [{"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": "u0", "controller_bus": 0, "unit": 0, "backing": "flat"}]
    mt_disks = [{"file": "[ds2] mt/renamed.vmdk", "size_gb": 3, "uuid": "u1"},
                {"file": "[ds2] mt/other.vmdk", "size_gb": 3, "uuid": None}]
    result = disks.vm_disk_set(vm_disks, mt_disks, recorded, None)
    assert result == [
        {"file": "[ds2] mt/renamed.vmdk", "size_gb": 3, "uuid": "u1", "bus": None, "unit": None, "where": "mt"},
        {"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": "u0", "bus": 0, "unit": 0, "where": "vm"},
        {"file": "[ds] a/a_1.vmdk", "size_gb": 3, "uuid": "u1", "bus": 1, "unit": 4, "where": "none"}]


def test_vm_disk_set_a_recorded_disk_back_on_the_vm_is_on_the_vm():
    recorded = [{"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": "u0", "bus": 0, "unit": 3}]
    vm_disks = [{"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": "u0", "controller_bus": 1, "unit": 9, "backing": "flat"}]
    [entry] = disks.vm_disk_set(vm_disks, [], recorded, "[ds] a/")
    assert (entry["where"], entry["bus"], entry["unit"]) == ("vm", 0, 3)


def test_vm_disk_set_without_a_directory_takes_only_known_disks_from_the_master_target():
    mt_disks = [{"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": None}]
    assert disks.vm_disk_set([], mt_disks, [], None) == []
    assert [d["where"] for d in disks.vm_disk_set([], mt_disks, [], "[ds] a/")] == ["mt"]
    assert disks.vm_disk_set([], mt_disks, [], "[ds] ab/") == []


# ------------------------------------------------------------------ SCSI slots (LSI Logic, 4 buses x 15 units, unit 7 reserved)
def lsi(key, bus, sas=False):
    cls = DEV.VirtualLsiLogicSASController if sas else DEV.VirtualLsiLogicController
    return cls(key=key, busNumber=bus)


def full(key, units=None):
    """Disks on every usable unit of controller ``key`` (0-6 and 8-15)."""
    return [disk(key * 100 + u, key, u, "[ds] x/%d_%d.vmdk" % (key, u)) for u in (units or disks.UNITS)]


def test_unit_7_is_the_controllers_own_and_never_handed_out():
    allocator = disks.SlotAllocator([lsi(1000, 0), *full(1000, range(7))])
    assert allocator.take() == (1000, 8)


def test_a_controller_holds_15_disks_then_a_new_one_is_added_on_the_next_bus():
    allocator = disks.SlotAllocator([lsi(1000, 0)])
    slots = [allocator.take() for _slot in range(15)]
    assert slots == [(1000, u) for u in (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)]
    assert allocator.new_controllers == []
    key, unit = allocator.take()
    assert unit == 0 and key not in (1000,) and key < 0
    assert allocator.new_controllers == [{"key": key, "bus": 1, "type": "lsilogic"}]
    # the new controller is filled next, from unit 1
    assert allocator.take() == (key, 1)


def test_a_vm_without_a_controller_gets_one_on_bus_0():
    allocator = disks.SlotAllocator([])
    key, unit = allocator.take()
    assert unit == 0 and allocator.new_controllers == [{"key": key, "bus": 0, "type": "lsilogic"}]


def test_new_controllers_take_the_lowest_free_bus_and_distinct_keys():
    devices = [lsi(1000, 0), lsi(1002, 2), *full(1000), *full(1002)]
    allocator = disks.SlotAllocator(devices)
    first = allocator.take()
    assert allocator.new_controllers[0]["bus"] == 1
    allocator.used.update((first[0], u) for u in disks.UNITS)  # fill the new controller
    second = allocator.take()
    assert [c["bus"] for c in allocator.new_controllers] == [1, 3]
    assert second[0] != first[0]


def test_a_bus_used_by_a_paravirtual_controller_is_not_reused_for_a_new_one():
    devices = [lsi(1000, 0), DEV.ParaVirtualSCSIController(key=1001, busNumber=1), *full(1000)]
    allocator = disks.SlotAllocator(devices)
    allocator.take()
    assert [c["bus"] for c in allocator.new_controllers] == [2]


def test_four_full_buses_leave_no_slot():
    devices = [lsi(1000 + b, b) for b in range(4)]
    for b in range(4):
        devices += full(1000 + b)
    allocator = disks.SlotAllocator(devices)
    assert allocator.take() is None
    assert allocator.new_controllers == []
    # three full buses: the fourth bus is still free
    three = [lsi(1000 + b, b) for b in range(3)]
    for b in range(3):
        three += full(1000 + b)
    allocator = disks.SlotAllocator(three)
    allocator.take()
    assert [c["bus"] for c in allocator.new_controllers] == [3]


def test_lsi_logic_sas_is_lsi_logic_and_paravirtual_only_when_any_controller_will_do():
    assert disks.SlotAllocator([lsi(1000, 0, sas=True)]).take() == (1000, 0)
    pvscsi = [DEV.ParaVirtualSCSIController(key=1000, busNumber=0)]
    assert disks.SlotAllocator(pvscsi, any_controller=True).take() == (1000, 0)
    other = disks.SlotAllocator(pvscsi)
    assert other.take()[0] != 1000 and other.new_controllers[0]["bus"] == 1


def test_the_original_bus_is_preferred_even_when_it_is_not_the_first_controller():
    devices = [lsi(1001, 1), lsi(1000, 0)]
    allocator = disks.SlotAllocator(devices)
    assert allocator.take(bus=0, unit=5) == (1000, 5)
    assert allocator.take(bus=0) == (1000, 0)
    assert allocator.take(bus=0, unit=5) == (1000, 1)
    # a bus that no longer has a controller: any free slot
    assert allocator.take(bus=3, unit=2) == (1001, 0)


def test_a_slot_is_handed_out_once():
    allocator = disks.SlotAllocator([lsi(1000, 0)])
    slots = [allocator.take(bus=0, unit=2) for _slot in range(3)]
    assert slots == [(1000, 2), (1000, 0), (1000, 1)]


# ------------------------------------------------------------------ the reconfigure specs
def test_attaching_an_existing_vmdk_adds_the_device_with_no_file_operation():
    change = disks.attach_spec({"file": "[ds] a/a_1.vmdk", "size_gb": 1.5, "uuid": "6000C29a-uuid"}, (1000, 9), -100)
    assert change.operation == DEV.VirtualDeviceSpec.Operation.add
    assert change.fileOperation is None  # no file operation: the existing VMDK is used as it is
    device = change.device
    assert isinstance(device, DEV.VirtualDisk)
    assert (device.key, device.controllerKey, device.unitNumber) == (-100, 1000, 9)
    assert device.capacityInKB == 1572864  # 1.5 GB in KB
    backing = device.backing
    assert isinstance(backing, DEV.VirtualDisk.FlatVer2BackingInfo)
    assert (backing.fileName, backing.diskMode, backing.uuid) == ("[ds] a/a_1.vmdk", "persistent", "6000C29a-uuid")
    assert disks.attach_spec({"file": "[ds] a/b.vmdk", "size_gb": 1}, (1000, 0), -101).device.backing.uuid is None


def test_creating_a_vmdk_is_a_thin_create_without_the_old_uuid():
    change = disks.attach_spec({"file": "[ds] w/w.vmdk", "size_gb": 40, "uuid": "6000C29a-uuid"}, (1000, 0), -100,
                               create=True)
    assert change.fileOperation == DEV.VirtualDeviceSpec.FileOperation.create
    assert change.device.backing.uuid is None
    assert change.device.backing.thinProvisioned is True
    assert change.device.capacityInKB == 40 * 1024 * 1024


def test_a_new_controller_is_an_lsi_logic_without_bus_sharing():
    change = disks.controller_spec({"key": -201, "bus": 2, "type": "lsilogic"})
    assert change.operation == DEV.VirtualDeviceSpec.Operation.add
    assert change.fileOperation is None
    assert change.device.__class__ is DEV.VirtualLsiLogicController  # exactly LSI Logic, no subclass
    assert (change.device.key, change.device.busNumber) == (-201, 2)
    assert change.device.sharedBus == DEV.VirtualSCSIController.Sharing.noSharing


def test_attach_specs_add_the_new_controllers_before_the_disks_on_them():
    devices = [lsi(1000, 0), *full(1000, [u for u in disks.UNITS if u != 15])]
    wanted = [{"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": "u0"}, {"file": "[ds] a/a_1.vmdk", "size_gb": 2, "uuid": "u1"}]
    changes = disks.attach_specs(devices, wanted)
    assert [type(c.device).__name__ for c in changes] == ["vim.vm.device.VirtualLsiLogicController",
                                                          "vim.vm.device.VirtualDisk", "vim.vm.device.VirtualDisk"]
    controller = changes[0].device
    assert [(c.device.key, c.device.controllerKey, c.device.unitNumber) for c in changes[1:]] == [
        (-100, 1000, 15), (-101, controller.key, 0)]
    assert [c.fileOperation for c in changes] == [None, None, None]


def test_attach_specs_is_all_or_nothing():
    devices = [lsi(1000 + b, b) for b in range(4)]
    for b in range(4):
        devices += full(1000 + b, [u for u in disks.UNITS if not (b == 3 and u == 15)])
    one = [{"file": "[ds] a/a.vmdk", "size_gb": 1}]
    assert len(disks.attach_specs(devices, one)) == 1
    assert disks.attach_specs(devices, [*one, {"file": "[ds] a/a_1.vmdk", "size_gb": 1}]) is None


def test_attach_specs_keep_the_recorded_slots_only_when_asked():
    devices = [DEV.ParaVirtualSCSIController(key=1000, busNumber=0)]
    back = [{"file": "[ds] a/a_1.vmdk", "size_gb": 1, "uuid": "u1", "bus": 0, "unit": 5}]
    kept = disks.attach_specs(devices, back, keep_slots=True, any_controller=True)
    assert [(c.device.controllerKey, c.device.unitNumber) for c in kept] == [(1000, 5)]
    moved = disks.attach_specs(devices, back, any_controller=True)
    assert [(c.device.controllerKey, c.device.unitNumber) for c in moved] == [(1000, 0)]
    # a master target (no any_controller) never gets disks on the paravirtual controller
    on_mt = disks.attach_specs(devices, back)
    assert isinstance(on_mt[0].device, DEV.VirtualLsiLogicController) and on_mt[1].device.controllerKey != 1000


def test_attach_specs_create_every_new_vmdk():
    changes = disks.attach_specs([lsi(1000, 0)], disks.alternate_files("w", "ds", [10, 20]), create=True)
    assert [c.fileOperation for c in changes] == [DEV.VirtualDeviceSpec.FileOperation.create] * 2


def test_the_guard_allows_adds_creates_and_detaches():
    assert disks.never_destroys(vim.vm.ConfigSpec())
    assert disks.never_destroys(vim.vm.ConfigSpec(deviceChange=[]))
    remove = disks.remove_spec(disk(2000, 1000, 0, "[ds] a/a.vmdk"))
    create = disks.attach_spec({"file": "[ds] w/w.vmdk", "size_gb": 1}, (1000, 1), -100, create=True)
    assert disks.never_destroys(vim.vm.ConfigSpec(deviceChange=[remove, create]))


def test_the_guard_refuses_a_destroy_anywhere_in_the_spec():
    keep = disks.remove_spec(disk(2000, 1000, 0, "[ds] a/a.vmdk"))
    destroy = disks.remove_spec(disk(2001, 1000, 1, "[ds] a/a_1.vmdk"))
    destroy.fileOperation = DEV.VirtualDeviceSpec.FileOperation.destroy
    assert not disks.never_destroys(vim.vm.ConfigSpec(deviceChange=[keep, destroy]))


def test_the_guard_refuses_a_replace_which_deletes_the_existing_backing():
    # vSphere API, VirtualDeviceConfigSpecFileOperation.replace: "the deletion of the existing backing for a
    # virtual device and the creation of a new backing"
    replace = disks.attach_spec({"file": "[ds] a/a.vmdk", "size_gb": 1}, (1000, 0), -100)
    replace.fileOperation = DEV.VirtualDeviceSpec.FileOperation.replace
    assert not disks.never_destroys(vim.vm.ConfigSpec(deviceChange=[replace]))


def test_detach_keeps_the_device_it_was_given():
    device = disk(2000, 1000, 0, "[ds] a/a.vmdk")
    change = disks.remove_spec(device)
    assert change.operation == DEV.VirtualDeviceSpec.Operation.remove
    assert change.device is device


# ------------------------------------------------------------------ searching the datastores for VMDKs
class FakeBrowser(vim.host.DatastoreBrowser):
    """A real DatastoreBrowser reference whose search starts no server call; it records the request."""

    def __init__(self, moid, searches):
        super().__init__(moid)
        self.searches = searches

    def SearchDatastoreSubFolders_Task(self, datastorePath, searchSpec):
        self.searches.append((datastorePath, searchSpec))
        return moref(vim.Task, "task-search-%d" % len(self.searches))


class FakeInventory:
    def __init__(self, rows):
        self.rows = rows

    def datastore_by_name(self, name):
        return self.rows.get(name)


def folder(path, *files):
    return vim.host.DatastoreBrowser.SearchResults(
        folderPath=path, file=[vim.host.DatastoreBrowser.VmDiskInfo(path=f, fileSize=1024) for f in files] or None)


def search(results, names, states=None, seconds=600):
    """Run search_vmdks with one answer per search task, in start order."""
    searches = []
    rows = {"vmfs-01": {"name": "vmfs-01", "browser": FakeBrowser("datastoreBrowser-1", searches)},
            "vmfs-02": {"name": "vmfs-02", "browser": FakeBrowser("datastoreBrowser-2", searches)},
            "no-browser": {"name": "no-browser", "browser": None}}

    def responder(obj_type, paths, objects):
        answer = []
        for task in objects:
            index = int(task._moId.rsplit("-", 1)[1]) - 1
            state = (states or {}).get(index, "success")
            answer.append({"moid": task._moId, "obj": task, "info.state": state,
                           "info.error": vim.fault.FileNotFound(msg="not found") if state == "error" else None,
                           "info.result": results[index] if state == "success" else None})
        return answer

    client = FakeClient(responder)
    client.stats["tasks"] = 0
    clock = FakeClock()
    found = disks.search_vmdks(client, FakeInventory(rows), names, Deadline(seconds, clock=clock, sleeper=clock.sleep))
    return found, searches, client


def test_one_vmdk_search_task_per_known_datastore_with_a_browser():
    found, searches, client = search([[], []], ["vmfs-02", "vmfs-01", "vmfs-01", "gone", "no-browser"])
    assert [path for path, _spec in searches] == ["[vmfs-01]", "[vmfs-02]"]
    spec = searches[0][1]
    assert spec.matchPattern == ["*.vmdk"]
    assert [type(q) for q in spec.query] == [vim.host.DatastoreBrowser.VmDiskQuery]
    assert spec.details.fileSize is True
    assert client.stats["tasks"] == 2
    assert client.stats["property_reads"] == 1  # both tasks read together
    assert found == {}


def test_vmdks_are_grouped_by_folder_in_either_server_spelling():
    results = [[folder("[vmfs-01] app01", "app01.vmdk", "app01_1.vmdk"), folder("[vmfs-01]/app01", "app01_2.vmdk"),
                folder("[vmfs-01]", "loose.vmdk"), folder("[vmfs-01] empty/"), folder("not a datastore path", "x.vmdk")],
               None]
    found = search(results, ["vmfs-01", "vmfs-02"])[0]
    assert found == {"[vmfs-01] app01/": ["app01.vmdk", "app01_1.vmdk", "app01_2.vmdk"],
                     "[vmfs-01] ": ["loose.vmdk"], "[vmfs-01] empty/": []}


def test_a_failed_search_contributes_nothing():
    results = [[folder("[vmfs-01] app01", "app01.vmdk")], [folder("[vmfs-02] db01", "db01.vmdk")]]
    found = search(results, ["vmfs-01", "vmfs-02"], states={1: "error"})[0]
    assert found == {"[vmfs-01] app01/": ["app01.vmdk"]}


def test_a_search_past_the_deadline_names_the_datastore():
    with pytest.raises(DeadlineExceeded, match="search vmfs-02"):
        search([[], []], ["vmfs-01", "vmfs-02"], states={1: "running"}, seconds=0)


def test_no_datastore_no_task():
    found, searches, client = search([], ["gone"])
    assert (found, searches, client.stats["tasks"]) == ({}, [], 0)


def test_folder_keys():
    assert disks._folder_key("[vmfs-01]") == "[vmfs-01] "
    assert disks._folder_key("[vmfs-01] ") == "[vmfs-01] "
    assert disks._folder_key("[vmfs-01] vms/app01/") == "[vmfs-01] vms/app01/"
    assert disks._folder_key("vmfs-01/app01") is None
    assert disks._folder_key(None) is None


def test_orphans_match_the_vm_name_literally_and_only_numbered_copies():
    found = {"[ds] app.01/": ["app.01.vmdk", "appX01.vmdk", "app.01_3.vmdk", "app.01_x.vmdk", "app.01.vmdk.bak",
                              "old-app.01.vmdk", "app.01_12.vmdk"]}
    result = disks.orphans("app.01", "[ds] app.01/", found, set())
    assert result == [
        {"file": "[ds] app.01/app.01.vmdk", "size_gb": 0, "uuid": None, "bus": None, "unit": None, "where": "none"},
        {"file": "[ds] app.01/app.01_12.vmdk", "size_gb": 0, "uuid": None, "bus": None, "unit": None, "where": "none"},
        {"file": "[ds] app.01/app.01_3.vmdk", "size_gb": 0, "uuid": None, "bus": None, "unit": None, "where": "none"}]
    assert disks.orphans("app.01", "[ds] other/", found, set()) == []


def test_vm_disk_set_skips_an_rdm_and_goes_on_with_the_next_disks():
    vm_disks = [{"file": "[ds] a/a_rdm.vmdk", "size_gb": 5, "uuid": None, "controller_bus": 0, "unit": 0, "backing": "rdm"},
                {"file": "[ds] a/a.vmdk", "size_gb": 1, "uuid": "u0", "controller_bus": 0, "unit": 1, "backing": "flat"}]
    assert [d["file"] for d in disks.vm_disk_set(vm_disks, [], [], "[ds] a/")] == ["[ds] a/a.vmdk"]


def test_the_manifest_value_is_stable_whatever_the_field_order():
    # the same disks always give the same extraConfig value (sorted keys), so a re-run sees no change
    first = disks.manifest_option([{"unit": 8, "bus": 1, "uuid": None, "size_gb": 2, "file": "[ds] a/a.vmdk"}])
    second = disks.manifest_option([{"file": "[ds] a/a.vmdk", "size_gb": 2, "uuid": None, "bus": 1, "unit": 8}])
    assert first.value == second.value == '[{"bus":1,"file":"[ds] a/a.vmdk","size_gb":2,"unit":8,"uuid":null}]'


# -- the SCSI layout of a VM being created, disk order, creates over existing files ----------------

def test_a_new_vm_gets_one_controller_per_15_disks_and_skips_unit_7():
    controllers, slots = disks.new_vm_slots(16)
    assert controllers == [{"key": -300, "bus": 0, "type": "lsilogic"}, {"key": -290, "bus": 1, "type": "lsilogic"}]
    assert slots[:8] == [(-300, 0), (-300, 1), (-300, 2), (-300, 3), (-300, 4), (-300, 5), (-300, 6), (-300, 8)]
    assert slots[14:] == [(-300, 15), (-290, 0)]


def test_a_new_vm_takes_60_disks_on_four_controllers_and_not_61():
    controllers, slots = disks.new_vm_slots(60)
    assert [c["bus"] for c in controllers] == [0, 1, 2, 3] and slots[-1] == (-270, 15) and len(set(slots)) == 60
    assert disks.new_vm_slots(61) is None


def test_a_new_vm_without_disks_still_gets_its_first_controller():
    assert disks.new_vm_slots(0) == ([{"key": -300, "bus": 0, "type": "lsilogic"}], [])


def test_disk_files_sort_in_disk_order():
    files = ["[ds] a/a_10.vmdk", "[ds] a/a_2.vmdk", "[ds] a/a.vmdk", "[ds] a/a_1.vmdk"]
    assert sorted(files, key=disks.natural_key) == ["[ds] a/a.vmdk", "[ds] a/a_1.vmdk", "[ds] a/a_2.vmdk",
                                                    "[ds] a/a_10.vmdk"]


def test_a_create_over_an_existing_file_is_named():
    create = vim.vm.device.VirtualDeviceSpec.FileOperation.create
    spec = vim.vm.ConfigSpec(deviceChange=[
        disks.attach_spec({"file": "[ds] a/a.vmdk", "size_gb": 1}, (1000, 0), -1, create=True),
        disks.attach_spec({"file": "[ds] a/a_1.vmdk", "size_gb": 1}, (1000, 1), -2, create=True),
        disks.attach_spec({"file": "[ds] a/a_2.vmdk", "size_gb": 1}, (1000, 2), -3)])
    assert [c.fileOperation for c in spec.deviceChange] == [create, create, None]
    assert disks.creates_existing(spec, {"[ds] a/a_1.vmdk", "[ds] a/a_2.vmdk"}) == ["[ds] a/a_1.vmdk"]


def test_the_search_asks_for_each_disks_capacity_and_reports_it():
    result = vim.host.DatastoreBrowser.SearchResults(folderPath="[vmfs-01] web02", file=[
        vim.host.DatastoreBrowser.VmDiskInfo(path="web02.vmdk", capacityKb=40 * 1024 * 1024),
        vim.host.DatastoreBrowser.VmDiskInfo(path="web02_1.vmdk")])
    searches = []
    rows = {"vmfs-01": {"name": "vmfs-01", "browser": FakeBrowser("datastoreBrowser-1", searches)}}

    def responder(obj_type, paths, objects):
        return [{"moid": t._moId, "obj": t, "info.state": "success", "info.error": None, "info.result": [result]}
                for t in objects]

    client = FakeClient(responder)
    client.stats["tasks"] = 0
    clock = FakeClock()
    sizes = {}
    found = disks.search_vmdks(client, FakeInventory(rows), ["vmfs-01"], Deadline(60, clock=clock, sleeper=clock.sleep),
                               sizes=sizes)
    assert found == {"[vmfs-01] web02/": ["web02.vmdk", "web02_1.vmdk"]}
    assert sizes == {"[vmfs-01] web02/web02.vmdk": 40.0}
    assert searches[0][1].query[0].details.capacityKb is True
