# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which disk goes where, which reconfigure spec vSphere receives, which VM is refused and why.

Every test runs against the in-memory vSphere of fakes.py; expected specs are written from the
vSphere API (VirtualDeviceSpec, VirtualDisk.FlatVer2BackingInfo, VirtualLsiLogicController), never
read back from the code under test. No VMDK is ever destroyed: every test that applies a plan checks
that no device change carries the destroy file operation and that every VMDK is still there.
"""

import json

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import master_target
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import (
    POWERED_OFF,
    POWERED_ON,
    FakeVSphere,
    flat_disk,
    lsi_logic,
    lsi_logic_sas,
    pvscsi,
    rdm_disk,
)

DEV = vim.vm.device
FS = vim.host.FileSystemVolume.FileSystemType
HOST_STATE = vim.HostSystem.ConnectionState
ADD = DEV.VirtualDeviceSpec.Operation.add
REMOVE = DEV.VirtualDeviceSpec.Operation.remove
CREATE = DEV.VirtualDeviceSpec.FileOperation.create
DESTROY = DEV.VirtualDeviceSpec.FileOperation.destroy
REPLACE = DEV.VirtualDeviceSpec.FileOperation.replace  # deletes the old backing too
MANIFEST_KEY = "siterecovery.failback.disks"
SCSI_UNITS = (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)  # unit 7 is the SCSI controller's own
GB_IN_KB = 1024 * 1024

MT_OS = "[vmfs-01] mt-win01/mt-win01.vmdk"
APP0 = "[vmfs-01] app01/app01.vmdk"
APP1 = "[vmfs-01] app01/app01_1.vmdk"


# -- the site ------------------------------------------------------------------------------------

def site(mt_devices=None, mt_snapshots=0, mt_host="esx01"):
    """dc1 / cluster cl1: esx01 mounts vmfs-01, vsan-01 and nfs-01, esx02 mounts vmfs-02; master
    target mt-win01 on esx01 with its own disk on LSI Logic bus 0 unit 0."""
    world = FakeVSphere()
    dc = world.add_datacenter("dc1")
    cluster = world.add_cluster("cl1", dc)
    world.add_datastore("vmfs-01", FS.VMFS)
    world.add_datastore("vmfs-02", FS.VMFS)
    world.add_datastore("vsan-01", FS.vsan)
    world.add_datastore("nfs-01", FS.NFS)
    world.add_host("esx01", cluster, datastores=("vmfs-01", "vsan-01", "nfs-01"))
    world.add_host("esx02", cluster, datastores=("vmfs-02",))
    if mt_devices is None:
        mt_devices = [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60, "6000C29-mt")]
    world.add_vm("mt-win01", host(world, mt_host), mt_devices, power=POWERED_ON, snapshots=mt_snapshots,
                 vm_path="[vmfs-01] mt-win01/mt-win01.vmx")
    return world


def host(world, name):
    return next(h for h in world.hosts.values() if h["name"] == name)


def add_app(world, name="app01", datastore="vmfs-01", sizes=(40, 80), power=POWERED_OFF, on="esx01", extra=None,
            devices=None):
    """A VM with flat disks [datastore] name/name.vmdk, name_1.vmdk... on LSI Logic bus 0, units 0, 1..."""
    if devices is None:
        devices = [lsi_logic(1000, 0)] + [
            flat_disk(2000 + i, 1000, i, vmdk(datastore, name, i), size, "6000C29-%s-%d" % (name, i))
            for i, size in enumerate(sizes)]
    return world.add_vm(name, host(world, on) if on else None, devices, power=power, extra_config=extra,
                        vm_path="[%s] %s/%s.vmx" % (datastore, name, name))


def vmdk(datastore, name, index):
    return "[%s] %s/%s%s.vmdk" % (datastore, name, name, "_%d" % index if index else "")


def big_master_target(world, count, name="mt-big"):
    """A master target with four LSI Logic controllers (buses 0-3) and ``count`` disks in slot order."""
    devices = [lsi_logic(1000 + bus, bus) for bus in range(4)]
    slots = [(1000 + bus, unit) for bus in range(4) for unit in SCSI_UNITS]
    devices += [flat_disk(5000 + i, key, unit, "[vmfs-01] %s/%s_%d.vmdk" % (name, name, i))
                for i, (key, unit) in enumerate(slots[:count])]
    return world.add_vm(name, host(world, "esx01"), devices, power=POWERED_ON,
                        vm_path="[vmfs-01] %s/%s.vmx" % (name, name))


def deadline():
    clock = FakeClock()
    return Deadline(600, clock=clock, sleeper=clock.sleep)


def ensure(world, vms, state="attached", reattach=False, check_mode=False, **defaults):
    defaults.setdefault("master_target", "mt-win01")
    return master_target.ensure(world, vms, defaults, state, reattach, check_mode, deadline())


def plan_attach(world, vms, **defaults):
    defaults.setdefault("master_target", "mt-win01")
    inventory = Inventory(world)
    requests = [master_target.Request(vm, defaults) for vm in vms]
    found = master_target.orphan_search(world, inventory, requests, deadline())
    return master_target.plan_attach(inventory, requests, found)


def refusals(world, vms, state="attached", reattach=False, **defaults):
    """The refusals of a run that must change nothing."""
    with pytest.raises(VSphereError) as info:
        ensure(world, vms, state=state, reattach=reattach, **defaults)
    assert changing_calls(world) == []
    return info.value.details["refusals"]


# -- what vSphere received -----------------------------------------------------------------------

def changing_calls(world):
    return [(method, target) for method, target, _args in world.calls if method != "SearchDatastoreSubFolders_Task"]


def specs(world, vm_name):
    return [args["spec"] for target, args in world.calls_of("ReconfigVM_Task") if target == vm_name]


def removed(spec):
    """(device key, file operation) of every remove."""
    return [(c.device.key, c.fileOperation) for c in spec.deviceChange if c.operation == REMOVE]


def added_disks(spec):
    """(file, controller key, unit, file operation, backing uuid, capacity KB) of every disk added."""
    return [(c.device.backing.fileName, c.device.controllerKey, c.device.unitNumber, c.fileOperation,
             c.device.backing.uuid, c.device.capacityInKB)
            for c in spec.deviceChange if c.operation == ADD and isinstance(c.device, DEV.VirtualDisk)]


def added_controllers(spec):
    return [(type(c.device), c.device.key, c.device.busNumber, c.device.sharedBus, c.fileOperation)
            for c in spec.deviceChange if c.operation == ADD and isinstance(c.device, DEV.VirtualSCSIController)]


def timeline(world):
    """The calls and task waits in order: 'ReconfigVM_Task app01', 'wait 2'..."""
    return ["%s %s" % (e[1], e[2]) if e[0] == "call" else "wait %d" % len(e[1]) for e in world.events]


def assert_nothing_destroyed(world, files_before):
    for _target, args in world.calls_of("ReconfigVM_Task"):
        assert all(c.fileOperation not in (DESTROY, REPLACE) for c in args["spec"].deviceChange)
    assert files_before <= world.files


def manifest_of(spec):
    assert [o.key for o in spec.extraConfig] == [MANIFEST_KEY]
    return json.loads(spec.extraConfig[0].value)


# -- Request -------------------------------------------------------------------------------------

def test_request_takes_each_setting_from_the_vm_first_then_the_module():
    request = master_target.Request({"name": "web02", "master_target": "mt-lin01", "location": "alternate",
                                     "datastore": "vmfs-02", "disk_sizes_gb": [40]},
                                    {"master_target": "mt-win01", "location": "original", "datastore": "vmfs-01"})
    assert (request.name, request.master_target, request.location, request.datastore, request.disk_sizes_gb) == (
        "web02", "mt-lin01", "alternate", "vmfs-02", [40])


def test_request_falls_back_to_the_module_defaults():
    request = master_target.Request({"name": "web02"}, {"master_target": "mt-win01", "location": "alternate",
                                                        "datastore": "vmfs-01"})
    assert (request.master_target, request.location, request.datastore, request.disk_sizes_gb) == (
        "mt-win01", "alternate", "vmfs-01", [])


def test_request_location_is_original_when_nobody_gives_one():
    request = master_target.Request({"name": "app01"}, {"master_target": "mt-win01"})
    assert (request.location, request.datastore) == ("original", None)


def test_request_without_a_master_target_is_refused():
    with pytest.raises(VSphereError) as info:
        master_target.Request({"name": "app01"}, {})
    assert info.value.msg == "VM app01: no master_target given (per VM or for the module)."
    assert info.value.details == {"vm": "app01", "rule": "master_target_required"}


def test_alternate_request_without_a_datastore_is_refused():
    with pytest.raises(VSphereError) as info:
        master_target.Request({"name": "web02", "location": "alternate"}, {"master_target": "mt-lin01"})
    assert info.value.details == {"vm": "web02", "rule": "datastore_required"}
    assert "alternate location needs a datastore" in info.value.msg


# -- attach, original location: the decisions ----------------------------------------------------

def test_original_location_detaches_the_vms_disks_and_attaches_them_to_free_slots_of_the_master_target():
    world = site()
    add_app(world)
    files = set(world.files)
    result = ensure(world, [{"name": "app01"}])

    vm_spec, = specs(world, "app01")
    assert removed(vm_spec) == [(2000, None), (2001, None)]  # detached, no file operation: the VMDKs stay
    assert added_disks(vm_spec) == []
    assert manifest_of(vm_spec) == [
        {"file": APP0, "size_gb": 40.0, "uuid": "6000C29-app01-0", "bus": 0, "unit": 0},
        {"file": APP1, "size_gb": 80.0, "uuid": "6000C29-app01-1", "bus": 0, "unit": 1}]

    mt_spec, = specs(world, "mt-win01")
    assert removed(mt_spec) == [] and added_controllers(mt_spec) == []
    assert added_disks(mt_spec) == [  # the existing VMDKs, same disk UUID, on LSI Logic bus 0 after unit 0
        (APP0, 1000, 1, None, "6000C29-app01-0", 40 * GB_IN_KB),
        (APP1, 1000, 2, None, "6000C29-app01-1", 80 * GB_IN_KB)]
    assert [c.device.key for c in mt_spec.deviceChange] == [-100, -101]
    assert {(c.device.backing.diskMode, c.device.backing.thinProvisioned) for c in mt_spec.deviceChange} == {
        ("persistent", True)}
    assert list(mt_spec.extraConfig) == []

    # all detaches are over before the first attach starts
    assert timeline(world) == ["SearchDatastoreSubFolders_Task vmfs-01", "wait 1", "ReconfigVM_Task app01", "wait 1",
                               "ReconfigVM_Task mt-win01", "wait 1"]
    assert result["changed"] is True
    assert result["tasks"] == ["detach disks from app01", "attach 2 disk(s) to mt-win01"]
    assert result["vms"] == [{"name": "app01", "master_target": "mt-win01", "location": "original",
                              "state": "attached", "changed": True,
                              "disks": [{"file": APP0, "size_gb": 40.0, "before": "vm", "after": "mt"},
                                        {"file": APP1, "size_gb": 80.0, "before": "vm", "after": "mt"}]}]
    assert result["diff"] == {"before": {"app01": [APP0, APP1], "mt-win01": [MT_OS]},
                              "after": {"app01": [], "mt-win01": [APP0, APP1, MT_OS]}}
    assert world.disk_files("app01") == [] and world.disk_files("mt-win01") == [APP0, APP1, MT_OS]
    assert_nothing_destroyed(world, files)
    assert world.stats["tasks"] == 3  # the search, one reconfigure per VM and one per master target


def test_check_mode_predicts_the_same_move_and_changes_nothing():
    world = site()
    add_app(world)
    result = ensure(world, [{"name": "app01"}], check_mode=True)
    assert changing_calls(world) == []
    assert result["changed"] is True and result["tasks"] == []
    assert result["vms"][0]["disks"] == [{"file": APP0, "size_gb": 40.0, "before": "vm", "after": "mt"},
                                         {"file": APP1, "size_gb": 80.0, "before": "vm", "after": "mt"}]
    assert result["diff"] == {"before": {"app01": [APP0, APP1], "mt-win01": [MT_OS]},
                              "after": {"app01": [], "mt-win01": [APP0, APP1, MT_OS]}}


def test_a_second_run_finds_the_disks_on_the_master_target_and_changes_nothing():
    world = site()
    add_app(world)
    ensure(world, [{"name": "app01"}])
    calls = len(changing_calls(world))
    result = ensure(world, [{"name": "app01"}])
    assert len(changing_calls(world)) == calls
    assert result["changed"] is False and result["tasks"] == []
    assert result["vms"][0]["changed"] is False
    assert [(d["before"], d["after"]) for d in result["vms"][0]["disks"]] == [("mt", "mt"), ("mt", "mt")]
    assert result["diff"]["after"] == result["diff"]["before"] == {"app01": [], "mt-win01": [APP0, APP1, MT_OS]}


def test_a_powered_on_vm_whose_disks_are_all_on_the_master_target_is_not_refused():
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, APP0, 40), flat_disk(2002, 1000, 2, APP1, 80)])
    add_app(world, power=POWERED_ON, devices=[lsi_logic(1000, 0)])
    result = ensure(world, [{"name": "app01"}])
    assert result["changed"] is False
    assert [(d["file"], d["before"]) for d in result["vms"][0]["disks"]] == [(APP0, "mt"), (APP1, "mt")]


def test_only_the_vms_flat_disks_in_its_directory_or_manifest_move_not_the_master_targets_own():
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, "[vmfs-01] db01/db01.vmdk", 10)])
    add_app(world, sizes=(40,))
    ensure(world, [{"name": "app01"}])
    vm_spec, = specs(world, "app01")
    assert removed(vm_spec) == [(2000, None)]
    mt_spec, = specs(world, "mt-win01")
    assert [d[:3] for d in added_disks(mt_spec)] == [(APP0, 1000, 2)]  # units 0 and 1 are taken


# -- slots on the master target --------------------------------------------------------------------

def test_a_full_lsi_logic_bus_skips_unit_7_then_adds_an_lsi_logic_controller_on_the_next_free_bus():
    own = [flat_disk(2000 + u, 1000, u, "[vmfs-01] mt-win01/mt-win01_%d.vmdk" % u) for u in SCSI_UNITS[:-1]]
    world = site(mt_devices=[lsi_logic(1000, 0), *own])  # units 0-6 and 8-14 used: 15 is the last free one
    add_app(world)
    ensure(world, [{"name": "app01"}])
    mt_spec, = specs(world, "mt-win01")
    controllers = added_controllers(mt_spec)
    assert len(controllers) == 1
    kind, key, bus, sharing, file_operation = controllers[0]
    assert (kind, bus, sharing, file_operation) == (
        DEV.VirtualLsiLogicController, 1, DEV.VirtualSCSIController.Sharing.noSharing, None)
    assert key < 0  # a new device
    assert mt_spec.deviceChange[0].device.key == key  # the controller comes before the disks that use it
    assert [d[:3] for d in added_disks(mt_spec)] == [(APP0, 1000, 15), (APP1, key, 0)]


def test_a_paravirtual_controller_is_never_used_on_a_master_target():
    world = site(mt_devices=[pvscsi(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60)])
    add_app(world, sizes=(40,))
    ensure(world, [{"name": "app01"}])
    mt_spec, = specs(world, "mt-win01")
    (kind, key, bus, _sharing, _op), = added_controllers(mt_spec)
    assert (kind, bus) == (DEV.VirtualLsiLogicController, 1)
    assert [d[:3] for d in added_disks(mt_spec)] == [(APP0, key, 0)]


def test_an_lsi_logic_sas_controller_is_used_as_it_is():
    world = site(mt_devices=[lsi_logic_sas(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60)])
    add_app(world, sizes=(40,))
    ensure(world, [{"name": "app01"}])
    mt_spec, = specs(world, "mt-win01")
    assert added_controllers(mt_spec) == []
    assert [d[:3] for d in added_disks(mt_spec)] == [(APP0, 1000, 1)]


def test_sixty_disks_fill_the_last_two_slots_of_the_fourth_controller():
    world = site()
    big_master_target(world, 58)
    add_app(world)
    result = ensure(world, [{"name": "app01", "master_target": "mt-big"}])
    mt_spec, = specs(world, "mt-big")
    assert added_controllers(mt_spec) == []
    assert [d[:3] for d in added_disks(mt_spec)] == [(APP0, 1003, 14), (APP1, 1003, 15)]
    assert result["tasks"] == ["detach disks from app01", "attach 2 disk(s) to mt-big"]


def test_a_master_target_without_a_free_scsi_slot_is_refused_before_the_vms_disks_are_detached():
    # four paravirtual controllers: no LSI Logic slot and no free bus for a new controller. The slots
    # are planned before any change, so the VM keeps its disks (it used to lose them to the manifest).
    world = site(mt_devices=[pvscsi(1000 + bus, bus) for bus in range(4)])
    add_app(world)
    assert refusals(world, [{"name": "app01"}]) == [
        "Master target mt-win01 has no free SCSI slot (4 controllers x 15 disks, LSI Logic only). Use another "
        "master target for some VMs."]
    assert world.disk_files("app01") == [APP0, APP1]


# -- the disk limit of a master target (60) --------------------------------------------------------

def test_sixty_disks_on_a_master_target_are_allowed():
    world = site()
    big_master_target(world, 58)
    add_app(world)
    plan = plan_attach(world, [{"name": "app01", "master_target": "mt-big"}])
    assert [d["file"] for d in plan.mt_changes[next(iter(plan.mt_changes))][1]] == [APP0, APP1]


def test_sixty_one_disks_on_a_master_target_are_refused():
    world = site()
    big_master_target(world, 58)
    add_app(world, sizes=(40, 80, 20))
    assert refusals(world, [{"name": "app01", "master_target": "mt-big"}]) == [
        "Master target mt-big would hold 61 disks (58 now + 3); the limit is 60. Use another master target for this "
        "VM, or add one."]


def test_the_disk_limit_counts_every_vm_sent_to_the_same_master_target():
    world = site()
    big_master_target(world, 57)
    add_app(world, "app01")
    add_app(world, "app02")
    assert refusals(world, [{"name": "app01"}, {"name": "app02"}], master_target="mt-big") == [
        "Master target mt-big would hold 61 disks (57 now + 4); the limit is 60. Use another master target for this "
        "VM, or add one."]


def test_the_disk_limit_allows_several_vms_up_to_sixty():
    world = site()
    big_master_target(world, 56)
    add_app(world, "app01")
    add_app(world, "app02")
    plan = plan_attach(world, [{"name": "app01"}, {"name": "app02"}], master_target="mt-big")
    [(_row, wanted, creates)] = list(plan.mt_changes.values())
    assert [d["file"] for d in wanted] == [APP0, APP1, vmdk("vmfs-01", "app02", 0), vmdk("vmfs-01", "app02", 1)]
    assert creates == [False] * 4


def test_disks_already_on_the_master_target_do_not_count_again():
    world = site()
    mt = big_master_target(world, 59)
    mt["config.hardware.device"][-1].backing.fileName = APP0  # app01's first disk is the 59th
    add_app(world, devices=[lsi_logic(1000, 0), flat_disk(2001, 1000, 1, APP1, 80)])
    plan = plan_attach(world, [{"name": "app01", "master_target": "mt-big"}])
    [(_row, wanted, _creates)] = list(plan.mt_changes.values())
    assert [d["file"] for d in wanted] == [APP1]


# -- attach refusals: original location -----------------------------------------------------------

@pytest.mark.parametrize("power", [vim.VirtualMachine.PowerState.poweredOn, vim.VirtualMachine.PowerState.suspended])
def test_a_vm_that_is_not_powered_off_keeps_its_disks(power):
    world = site()
    add_app(world, power=power)
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01 is %s; its disks can only be moved to the master target while it is powered off (reprotect "
        "powers it off). Power it off and re-run." % power]


def test_an_rdm_disk_is_refused_for_original_location():
    world = site()
    add_app(world, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40),
                            rdm_disk(2001, 1000, 1, "[vmfs-01] app01/app01_rdm.vmdk")])
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01: disk [vmfs-01] app01/app01_rdm.vmdk is a raw device mapping; original-location failback cannot "
        "use it. Fail back to an alternate location on a VMFS or vSAN datastore (new VMDKs)."]


def test_a_vsan_disk_is_refused_for_original_location():
    world = site()
    add_app(world, datastore="vsan-01", sizes=(40,))
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01: disk [vsan-01] app01/app01.vmdk is on vSAN datastore vsan-01; original-location failback cannot "
        "use it. Fail back to an alternate location on a VMFS or vSAN datastore (new VMDKs)."]


def test_an_rdm_on_vsan_is_reported_once_as_an_rdm():
    world = site()
    add_app(world, devices=[lsi_logic(1000, 0), rdm_disk(2000, 1000, 0, "[vsan-01] app01/app01.vmdk")],
            datastore="vsan-01")
    found = refusals(world, [{"name": "app01"}])
    assert [r for r in found if "app01.vmdk" in r] == [
        "VM app01: disk [vsan-01] app01/app01.vmdk is a raw device mapping; original-location failback cannot "
        "use it. Fail back to an alternate location on a VMFS or vSAN datastore (new VMDKs)."]


def test_vmfs_and_nfs_flat_disks_are_not_refused_as_vsan():
    world = site()
    add_app(world, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40),
                            flat_disk(2001, 1000, 1, "[nfs-01] app01/app01_1.vmdk", 10)])
    plan = plan_attach(world, [{"name": "app01"}])
    assert [d["file"] for d in plan.mt_changes[next(iter(plan.mt_changes))][1]] == [
        "[nfs-01] app01/app01_1.vmdk", APP0]  # in file order


def test_a_datastore_the_master_targets_host_does_not_mount_is_refused():
    world = site()
    add_app(world, "app02", datastore="vmfs-02", on="esx02")
    assert refusals(world, [{"name": "app02"}]) == [
        "VM app02: datastore vmfs-02 is not mounted on ESXi host esx01 of master target mt-win01 (ASR error 8061; it mounts "
        "nfs-01, vmfs-01, vsan-01). Choose a master target (or replication appliance) whose host mounts it, or mount it there."]


@pytest.mark.parametrize("state", [HOST_STATE.disconnected, HOST_STATE.notResponding])
def test_a_vm_on_a_host_that_is_not_connected_is_refused(state):
    world = site()
    world.add_host("esx03", None, state=state, datastores=("vmfs-01",))
    add_app(world, on="esx03")
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01: its ESXi host esx03 is %s; disks cannot be detached or attached until the host (and vCenter) is "
        "connected. Reconnect it and re-run." % state]


def test_a_master_target_on_a_host_that_is_not_connected_is_refused():
    world = site()
    host(world, "esx01")["runtime.connectionState"] = HOST_STATE.disconnected
    world.add_host("esx03", None, datastores=("vmfs-01",))
    add_app(world, on="esx03")
    assert refusals(world, [{"name": "app01"}]) == [
        "Master target mt-win01: its ESXi host esx01 is disconnected; disks cannot be detached or attached until "
        "the host (and vCenter) is connected. Reconnect it and re-run."]


def test_a_vm_without_a_host_in_the_inventory_is_refused():
    world = site()
    add_app(world, on=None)
    assert refusals(world, [{"name": "app01"}]) == ["VM app01 has no ESXi host in the inventory"]


def test_a_master_target_without_a_host_is_refused_and_its_datastores_are_unreachable():
    world = site(mt_host="esx01")
    world.vms[next(m for m, r in world.vms.items() if r["name"] == "mt-win01")]["runtime.host"] = None
    add_app(world)
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01: datastore vmfs-01 is not mounted on ESXi host None of master target mt-win01 (ASR error 8061; it mounts "
        "nothing). Choose a master target (or replication appliance) whose host mounts it, or mount it there.",
        "Master target mt-win01 has no ESXi host in the inventory"]


def test_a_master_target_with_a_snapshot_is_refused():
    world = site(mt_snapshots=1)
    add_app(world)
    assert refusals(world, [{"name": "app01"}]) == [
        "Master target mt-win01 has 1 snapshot(s); ASR fails reprotect and failback through a master target with "
        "snapshots. Delete its snapshots and re-run."]


def test_a_missing_vm_is_refused_for_original_location():
    world = site()
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}])
    assert info.value.details == {"vm": "app01", "rule": "original_vm_missing"}
    assert "Use location: alternate if it no longer exists." in info.value.msg
    assert changing_calls(world) == []


def test_a_missing_master_target_is_refused():
    world = site()
    add_app(world)
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01", "master_target": "mt-gone"}])
    assert info.value.msg == "Master target 'mt-gone' was not found by MOID, instance UUID or name."
    assert changing_calls(world) == []


def test_every_refusal_of_every_vm_is_reported_once_and_the_good_vm_is_not_moved_either():
    world = site()
    add_app(world, "app01")  # fine on its own
    add_app(world, "app02", power=POWERED_ON)
    add_app(world, "app03", datastore="vmfs-02", on="esx02")
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}, {"name": "app02"}, {"name": "app03"}, {"name": "app02"}])
    assert changing_calls(world) == []
    assert [r.split(";")[0].split(":")[0] for r in info.value.details["refusals"]] == [
        "VM app02 is poweredOn", "VM app03"]
    assert info.value.msg.startswith("Refusing to attach disks; nothing was changed: VM app02 is poweredOn;")
    assert info.value.msg.count("VM app02 is poweredOn") == 1


# -- re-runs after a half-finished move: manifest and orphans -------------------------------------

def test_a_disk_recorded_in_the_manifest_and_attached_nowhere_goes_to_the_master_target_once():
    manifest = vim.option.OptionValue(key=MANIFEST_KEY, value=json.dumps([
        {"file": APP0, "size_gb": 40.0, "uuid": "6000C29-app01-0", "bus": 0, "unit": 0},
        {"file": APP1, "size_gb": 80.0, "uuid": "6000C29-app01-1", "bus": 0, "unit": 1}]))
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, APP0, 40, "6000C29-app01-0")])
    # the detach happened, one attach did: the VM is back on (nothing of it to move from the VM)
    add_app(world, power=POWERED_ON, devices=[lsi_logic(1000, 0)], extra=[manifest])
    world.files.add(APP1)  # the search also finds it: it must not be attached twice
    result = ensure(world, [{"name": "app01"}])
    assert specs(world, "app01") == []
    mt_spec, = specs(world, "mt-win01")
    assert added_disks(mt_spec) == [(APP1, 1000, 2, None, "6000C29-app01-1", 80 * GB_IN_KB)]
    assert [(d["file"], d["before"], d["after"]) for d in result["vms"][0]["disks"]] == [
        (APP0, "mt", "mt"), (APP1, "none", "mt")]
    assert result["tasks"] == ["attach 1 disk(s) to mt-win01"]


def test_a_vmdk_named_after_the_vm_and_attached_nowhere_is_found_by_the_search():
    world = site()
    add_app(world, sizes=(40,))
    add_app(world, "other", sizes=())
    world.vms[next(m for m, r in world.vms.items() if r["name"] == "other")]["config.hardware.device"].append(
        flat_disk(2000, 1000, 0, "[vmfs-01] app01/app01_2.vmdk", 5))  # attached elsewhere: not an orphan
    world.files.update({APP1, "[vmfs-01] app01/app01_2.vmdk", "[vmfs-01] app01/app01-old.vmdk",
                        "[vmfs-01] app01x/app01_3.vmdk"})
    result = ensure(world, [{"name": "app01"}])
    vm_spec, = specs(world, "app01")
    assert removed(vm_spec) == [(2000, None)]
    mt_spec, = specs(world, "mt-win01")
    assert [d[:3] for d in added_disks(mt_spec)] == [(APP0, 1000, 1), (APP1, 1000, 2)]
    assert [(d["file"], d["before"]) for d in result["vms"][0]["disks"]] == [(APP0, "vm"), (APP1, "none")]
    assert [d["file"] for d in manifest_of(vm_spec)] == [APP0, APP1]


def test_the_search_reads_each_datastore_of_the_original_location_vms_once():
    world = site()
    add_app(world, "app01")
    add_app(world, "app02")
    add_app(world, "app03", datastore="vmfs-02", on="esx02")
    inventory = Inventory(world)
    requests = [master_target.Request({"name": n}, {"master_target": "mt-win01"}) for n in ("app01", "app02", "app03")]
    requests.append(master_target.Request({"name": "web02", "location": "alternate", "datastore": "nfs-01"},
                                          {"master_target": "mt-win01"}))
    requests.append(master_target.Request({"name": "gone"}, {"master_target": "mt-win01"}))
    found = master_target.orphan_search(world, inventory, requests, deadline())
    # the alternate-location datastore is searched too: a half-finished move leaves VMDKs there
    assert sorted(target for target, _args in world.calls_of("SearchDatastoreSubFolders_Task")) == [
        "nfs-01", "vmfs-01", "vmfs-02"]
    assert sorted(found) == ["[vmfs-01] app01/", "[vmfs-01] app02/", "[vmfs-01] mt-win01/", "[vmfs-02] app03/"]


def test_alternate_location_searches_its_datastore_once_for_existing_vmdks():
    world = site()
    world.files.add(WEB0)
    inventory = Inventory(world)
    requests = [master_target.Request({"name": n, "location": "alternate", "datastore": "vmfs-01"},
                                      {"master_target": "mt-win01"}) for n in ("web02", "web03")]
    found = master_target.orphan_search(world, inventory, requests, deadline())
    assert [target for target, _args in world.calls_of("SearchDatastoreSubFolders_Task")] == ["vmfs-01"]
    assert found == {"[vmfs-01] mt-win01/": ["mt-win01.vmdk"], "[vmfs-01] web02/": ["web02.vmdk"]}
    assert found.exists(WEB0) and not found.exists(WEB1)


def test_no_search_for_a_vm_without_a_vmx_path():
    world = site()
    add_app(world)["config.files.vmPathName"] = None
    inventory = Inventory(world)
    requests = [master_target.Request({"name": "app01"}, {"master_target": "mt-win01"})]
    assert master_target.orphan_search(world, inventory, requests, deadline()) == {}
    assert world.calls == []


# -- attach, alternate location ------------------------------------------------------------------

WEB0 = "[vmfs-01] web02/web02.vmdk"
WEB1 = "[vmfs-01] web02/web02_1.vmdk"


def test_alternate_location_creates_new_vmdks_in_a_new_directory_on_the_master_target():
    world = site()
    files = set(world.files)
    dc = next(iter(world.datacenters.values()))
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80.5]}])
    assert world.calls_of("MakeDirectory") == [
        ("[vmfs-01] web02", {"datacenter": dc["obj"], "createParentDirectories": True})]
    mt_spec, = specs(world, "mt-win01")
    assert added_disks(mt_spec) == [(WEB0, 1000, 1, CREATE, None, 40 * GB_IN_KB),
                                    (WEB1, 1000, 2, CREATE, None, round(80.5 * GB_IN_KB))]
    assert timeline(world) == ["SearchDatastoreSubFolders_Task vmfs-01", "wait 1", "MakeDirectory [vmfs-01] web02",
                               "ReconfigVM_Task mt-win01", "wait 1"]
    assert result["vms"] == [{"name": "web02", "master_target": "mt-win01", "location": "alternate",
                              "state": "attached", "changed": True,
                              "disks": [{"file": WEB0, "size_gb": 40, "before": "none", "after": "mt"},
                                        {"file": WEB1, "size_gb": 80.5, "before": "none", "after": "mt"}]}]
    assert result["diff"] == {"before": {"mt-win01": [MT_OS], "web02": None},
                              "after": {"mt-win01": [MT_OS, WEB0, WEB1], "web02": None}}
    assert world.files == files | {WEB0, WEB1}
    assert_nothing_destroyed(world, files)


def test_alternate_location_check_mode_creates_nothing():
    world = site()
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40]}], check_mode=True)
    assert changing_calls(world) == []
    assert result["diff"]["after"] == {"mt-win01": [MT_OS, WEB0], "web02": None}


def test_alternate_location_takes_the_sizes_of_the_existing_vms_disks():
    world = site()
    add_app(world, "web02", sizes=(30, 70), on="esx02", datastore="vmfs-02")
    ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01"}])
    mt_spec, = specs(world, "mt-win01")
    assert [(d[0], d[3], d[5]) for d in added_disks(mt_spec)] == [
        (WEB0, CREATE, 30 * GB_IN_KB), (WEB1, CREATE, 70 * GB_IN_KB)]
    assert specs(world, "web02") == []  # the existing VM is left alone


def test_alternate_location_on_vsan_is_allowed():
    world = site()
    plan = plan_attach(world, [{"name": "web02", "location": "alternate", "datastore": "vsan-01",
                                "disk_sizes_gb": [40]}])
    [(_row, wanted, creates)] = list(plan.mt_changes.values())
    assert [d["file"] for d in wanted] == ["[vsan-01] web02/web02.vmdk"] and creates == [True]
    assert [path for _dc, path in plan.directories] == ["[vsan-01] web02"]


def test_alternate_location_on_nfs_is_refused():
    world = site()
    assert refusals(world, [{"name": "web02", "location": "alternate", "datastore": "nfs-01",
                             "disk_sizes_gb": [40]}]) == [
        "VM web02: datastore nfs-01 is NFS; failback writes disks only to VMFS or vSAN datastores. Choose a VMFS "
        "or vSAN datastore."]


def test_alternate_location_on_a_datastore_the_host_does_not_mount_is_refused():
    world = site()
    assert refusals(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-02",
                             "disk_sizes_gb": [40]}]) == [
        "VM web02: datastore vmfs-02 is not mounted on ESXi host esx01 of master target mt-win01 (ASR error 8061; it mounts "
        "nfs-01, vmfs-01, vsan-01). Choose a master target (or replication appliance) whose host mounts it, or mount it there."]


def test_alternate_location_on_a_missing_datastore_is_refused():
    world = site()
    assert refusals(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-09",
                             "disk_sizes_gb": [40]}]) == [
        "VM web02: datastore vmfs-09 does not exist.",
        "VM web02: datastore vmfs-09 is not mounted on ESXi host esx01 of master target mt-win01 (ASR error 8061; it mounts "
        "nfs-01, vmfs-01, vsan-01). Choose a master target (or replication appliance) whose host mounts it, or mount it there."]


def test_alternate_location_without_sizes_or_a_vm_is_refused():
    world = site()
    assert refusals(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01"}]) == [
        "VM web02: give disk_sizes_gb for alternate location (the sizes of the source disks)."]


def test_alternate_location_with_the_disks_already_on_the_master_target_changes_nothing():
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, WEB0, 40)])
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40]}])
    assert changing_calls(world) == [] and result["changed"] is False
    assert result["vms"][0]["disks"] == [{"file": WEB0, "size_gb": 40, "before": "mt", "after": "mt"}]


def test_alternate_location_creates_only_the_missing_vmdk():
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, WEB0, 40)])
    world.directories.add("[vmfs-01] web02")  # MakeDirectory answers FileAlreadyExists: not an error
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80]}])
    mt_spec, = specs(world, "mt-win01")
    assert added_disks(mt_spec) == [(WEB1, 1000, 2, CREATE, None, 80 * GB_IN_KB)]
    assert result["tasks"] == ["attach 1 disk(s) to mt-win01"]


def test_the_directory_is_made_in_the_datacenter_of_the_master_target_when_its_host_has_no_compute_resource():
    world = site()
    host(world, "esx01")["parent"] = None
    dc = next(iter(world.datacenters.values()))
    plan = plan_attach(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                                "disk_sizes_gb": [40]}])
    assert [(datacenter["name"], path) for datacenter, path in plan.directories] == [("dc1", "[vmfs-01] web02")]
    assert plan.directories[0][0]["moid"] == dc["moid"]


def test_without_a_datacenter_the_directory_is_made_without_one():
    world = site()
    world.datacenters.clear()
    ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01", "disk_sizes_gb": [40]}])
    assert world.calls_of("MakeDirectory") == [
        ("[vmfs-01] web02", {"datacenter": None, "createParentDirectories": True})]


# -- detach ----------------------------------------------------------------------------------------

def on_master_target(reattach_manifest=True, units=(0, 1)):
    """app01's two disks on mt-win01 (units 1, 2), recorded in app01's manifest at bus 0 ``units``."""
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, APP0, 40, "6000C29-app01-0"),
                             flat_disk(2002, 1000, 2, APP1, 80, "6000C29-app01-1")])
    extra = []
    if reattach_manifest:
        extra = [vim.option.OptionValue(key=MANIFEST_KEY, value=json.dumps([
            {"file": APP0, "size_gb": 40.0, "uuid": "6000C29-app01-0", "bus": 0, "unit": units[0]},
            {"file": APP1, "size_gb": 80.0, "uuid": "6000C29-app01-1", "bus": 0, "unit": units[1]}]))]
    add_app(world, devices=[lsi_logic(1000, 0)], extra=extra)
    return world


def test_detach_removes_only_the_vms_disks_from_the_master_target_and_deletes_no_file():
    world = on_master_target()
    files = set(world.files)
    result = ensure(world, [{"name": "app01"}], state="detached")
    mt_spec, = specs(world, "mt-win01")
    assert removed(mt_spec) == [(2001, None), (2002, None)]
    assert added_disks(mt_spec) == []
    # the only option written: the disk UUIDs the VMDKs had on the master target, pinned there (a move that stops
    # now leaves them attached to no VM; they are recorded with these UUIDs, not those of the files found later)
    (pin,) = mt_spec.extraConfig
    assert pin.key == "siterecovery.failback.pinned"
    assert [(e["file"], e["uuid"]) for e in json.loads(pin.value)] == [(APP0, "6000C29-app01-0"),
                                                                       (APP1, "6000C29-app01-1")]
    assert specs(world, "app01") == []
    assert result["tasks"] == ["detach disks from mt-win01"]
    assert result["vms"] == [{"name": "app01", "master_target": "mt-win01", "location": "original",
                              "state": "detached", "changed": True,
                              "disks": [{"file": APP0, "size_gb": 40.0, "before": "mt", "after": "none"},
                                        {"file": APP1, "size_gb": 80.0, "before": "mt", "after": "none"}]}]
    assert result["diff"] == {"before": {"app01": [], "mt-win01": [APP0, APP1, MT_OS]},
                              "after": {"app01": [], "mt-win01": [MT_OS]}}
    assert world.files == files
    assert_nothing_destroyed(world, files)


def test_detach_with_reattach_puts_the_disks_back_on_their_recorded_slots():
    world = on_master_target(units=(0, 3))
    files = set(world.files)
    result = ensure(world, [{"name": "app01"}], state="detached", reattach=True)
    assert timeline(world) == ["SearchDatastoreSubFolders_Task vmfs-01", "wait 1",  # VMDKs attached to nothing
                               "ReconfigVM_Task mt-win01", "wait 1", "ReconfigVM_Task app01", "wait 1"]
    vm_spec, = specs(world, "app01")
    assert added_disks(vm_spec) == [(APP0, 1000, 0, None, "6000C29-app01-0", 40 * GB_IN_KB),
                                    (APP1, 1000, 3, None, "6000C29-app01-1", 80 * GB_IN_KB)]
    assert result["tasks"] == ["detach disks from mt-win01", "attach 2 disk(s) to app01"]
    assert [(d["before"], d["after"]) for d in result["vms"][0]["disks"]] == [("mt", "vm"), ("mt", "vm")]
    assert result["diff"]["after"] == {"app01": [APP0, APP1], "mt-win01": [MT_OS]}
    assert world.disk_files("app01") == [APP0, APP1]
    assert_nothing_destroyed(world, files)


def test_detach_check_mode_predicts_the_reattach():
    world = on_master_target()
    result = ensure(world, [{"name": "app01"}], state="detached", reattach=True, check_mode=True)
    assert changing_calls(world) == []
    assert result["diff"] == {"before": {"app01": [], "mt-win01": [APP0, APP1, MT_OS]},
                              "after": {"app01": [APP0, APP1], "mt-win01": [MT_OS]}}


def test_reattach_uses_any_controller_of_the_vm_including_paravirtual():
    world = on_master_target()
    vm = next(r for r in world.vms.values() if r["name"] == "app01")
    vm["config.hardware.device"] = [pvscsi(1000, 0)]
    ensure(world, [{"name": "app01"}], state="detached", reattach=True)
    vm_spec, = specs(world, "app01")
    assert added_controllers(vm_spec) == []
    assert [d[:3] for d in added_disks(vm_spec)] == [(APP0, 1000, 0), (APP1, 1000, 1)]


def test_reattach_without_a_recorded_slot_takes_a_free_slot_of_any_controller():
    world = on_master_target(reattach_manifest=False)  # found by the VM's directory: no bus, no unit
    vm = next(r for r in world.vms.values() if r["name"] == "app01")
    vm["config.hardware.device"] = [pvscsi(1000, 0), flat_disk(2000, 1000, 0, "[vmfs-01] app01/os.vmdk")]
    ensure(world, [{"name": "app01"}], state="detached", reattach=True)
    vm_spec, = specs(world, "app01")
    assert added_controllers(vm_spec) == []  # the VM's own paravirtual controller, no new LSI Logic one
    assert [d[:3] for d in added_disks(vm_spec)] == [(APP0, 1000, 1), (APP1, 1000, 2)]


def test_reattach_to_a_vm_without_a_free_slot_is_refused_before_the_master_target_lets_go():
    world = on_master_target()
    vm = next(r for r in world.vms.values() if r["name"] == "app01")
    vm["config.hardware.device"] = [pvscsi(1000 + b, b) for b in range(4)] + [
        flat_disk(3000 + 15 * b + i, 1000 + b, u, "[vmfs-01] app01/data_%d_%d.vmdk" % (b, u))
        for b in range(4) for i, u in enumerate(SCSI_UNITS)]
    assert refusals(world, [{"name": "app01"}], state="detached", reattach=True) == [
        "VM app01 has no free SCSI slot for its 2 disk(s) (4 controllers x 15 disks, unit 7 reserved). Free a slot "
        "on it and re-run."]
    assert world.disk_files("mt-win01") == [APP0, APP1, MT_OS]


def test_detach_without_disks_on_the_master_target_changes_nothing():
    world = site()
    add_app(world)
    result = ensure(world, [{"name": "app01"}], state="detached")
    assert world.calls == [] and result["changed"] is False and result["tasks"] == []
    assert [(d["before"], d["after"]) for d in result["vms"][0]["disks"]] == [("vm", "vm"), ("vm", "vm")]


def test_detach_of_two_vms_is_one_reconfigure_of_the_master_target():
    world = on_master_target()
    mt = next(r for r in world.vms.values() if r["name"] == "mt-win01")
    mt["config.hardware.device"].append(flat_disk(2003, 1000, 3, "[vmfs-01] db01/db01.vmdk", 10))
    add_app(world, "db01", devices=[lsi_logic(1000, 0)])
    result = ensure(world, [{"name": "app01"}, {"name": "db01"}], state="detached")
    mt_spec, = specs(world, "mt-win01")
    assert removed(mt_spec) == [(2001, None), (2002, None), (2003, None)]
    assert result["tasks"] == ["detach disks from mt-win01"]


def test_detach_for_a_missing_original_vm_is_refused():
    world = on_master_target()
    assert refusals(world, [{"name": "gone"}], state="detached") == [
        "VM gone was not found; original-location disks are detached back to it."]


def test_detach_from_a_master_target_on_a_disconnected_host_is_refused():
    world = on_master_target()
    host(world, "esx01")["runtime.connectionState"] = HOST_STATE.disconnected
    found = refusals(world, [{"name": "app01"}], state="detached")
    assert found == ["Master target mt-win01: its ESXi host esx01 is disconnected; disks cannot be detached or "
                     "attached until the host (and vCenter) is connected. Reconnect it and re-run."]


def test_reattach_to_a_vm_on_a_disconnected_host_is_refused_but_a_plain_detach_is_not():
    world = on_master_target()
    world.add_host("esx03", None, state=HOST_STATE.disconnected, datastores=("vmfs-01",))
    vm = next(r for r in world.vms.values() if r["name"] == "app01")
    vm["runtime.host"] = host(world, "esx03")["obj"]
    assert refusals(world, [{"name": "app01"}], state="detached", reattach=True) == [
        "VM app01: its ESXi host esx03 is disconnected; disks cannot be detached or attached until the host (and "
        "vCenter) is connected. Reconnect it and re-run."]
    assert ensure(world, [{"name": "app01"}], state="detached")["tasks"] == ["detach disks from mt-win01"]


def alternate_on_master_target():
    return site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                            flat_disk(2001, 1000, 1, WEB0, 40, "6000C29-web-0"),
                            flat_disk(2002, 1000, 2, WEB1, 80, "6000C29-web-1")])


def test_alternate_detach_finds_the_vmdks_by_name_without_sizes():
    world = alternate_on_master_target()
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01"}], state="detached")
    mt_spec, = specs(world, "mt-win01")
    assert removed(mt_spec) == [(2001, None), (2002, None)]
    assert result["vms"][0]["disks"] == [{"file": WEB0, "size_gb": 40.0, "before": "mt", "after": "none"},
                                         {"file": WEB1, "size_gb": 80.0, "before": "mt", "after": "none"}]


def test_alternate_detach_with_sizes_takes_only_that_many_vmdks():
    world = alternate_on_master_target()
    ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01", "disk_sizes_gb": [40]}],
           state="detached")
    mt_spec, = specs(world, "mt-win01")
    assert removed(mt_spec) == [(2001, None)]


def test_alternate_reattach_needs_the_vm():
    world = alternate_on_master_target()
    assert refusals(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01"}],
                    state="detached", reattach=True) == [
        "VM web02 does not exist, so its disks cannot be reattached to it."]


def test_alternate_reattach_to_an_existing_vm_moves_only_what_is_on_the_master_target():
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, WEB1, 80, "6000C29-web-1")])
    add_app(world, "web02", sizes=(40,))  # web02.vmdk is already on the VM
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80]}], state="detached", reattach=True)
    vm_spec, = specs(world, "web02")
    assert [(d[0], d[1], d[2], d[4]) for d in added_disks(vm_spec)] == [(WEB1, 1000, 1, "6000C29-web-1")]
    assert [(d["file"], d["before"], d["after"]) for d in result["vms"][0]["disks"]] == [
        (WEB1, "mt", "vm"), (WEB0, "vm", "vm")]
    assert result["diff"]["after"] == {"mt-win01": [MT_OS], "web02": [WEB0, WEB1]}


def test_alternate_detach_without_reattach_leaves_the_vms_own_disk_where_it_is():
    world = site(mt_devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60),
                             flat_disk(2001, 1000, 1, WEB1, 80)])
    add_app(world, "web02", sizes=(40,))
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80]}], state="detached")
    assert specs(world, "web02") == []
    assert [(d["file"], d["after"]) for d in result["vms"][0]["disks"]] == [(WEB1, "none"), (WEB0, "vm")]
    assert result["diff"]["after"] == {"mt-win01": [MT_OS], "web02": [WEB0]}


# -- apply: concurrency, failures, the safety check -----------------------------------------------

def three_vms():
    world = site()
    for name in ("app01", "app02", "app03"):
        add_app(world, name, sizes=(10,))
    inventory = Inventory(world)
    requests = [master_target.Request({"name": n}, {"master_target": "mt-win01"}) for n in ("app01", "app02", "app03")]
    return world, master_target.plan_attach(inventory, requests)


def test_reconfigures_are_started_concurrency_at_a_time():
    world, plan = three_vms()
    done = master_target.apply(world, plan, deadline(), concurrency=2)
    assert timeline(world) == ["ReconfigVM_Task app01", "ReconfigVM_Task app02", "wait 2",
                               "ReconfigVM_Task app03", "wait 1", "ReconfigVM_Task mt-win01", "wait 1"]
    assert done == ["detach disks from app01", "detach disks from app02", "detach disks from app03",
                    "attach 3 disk(s) to mt-win01"]
    assert world.stats["tasks"] == 4


@pytest.mark.parametrize("count", [3, 30])
def test_by_default_each_phase_starts_all_its_reconfigures_and_waits_with_one_read_per_poll(count):
    # issue 17: the task waits do not grow with the number of VMs (vCenter queues what it cannot run at once)
    world = site()
    names = ["app%02d" % i for i in range(1, count + 1)]
    for name in names:
        add_app(world, name, sizes=(1,))
    inventory = Inventory(world)
    plan = master_target.plan_attach(inventory, [master_target.Request({"name": n}, {"master_target": "mt-win01"})
                                                 for n in names])
    reads = world.stats["property_reads"]
    master_target.apply(world, plan, deadline())
    assert [e for e in timeline(world) if e.startswith("wait")] == ["wait %d" % count, "wait 1"]
    assert world.stats["property_reads"] - reads == 2  # one read of the tasks per phase (each ends when first read)


def test_a_failed_detach_stops_its_batch_and_starts_no_attach():
    world, plan = three_vms()
    world.faults[("ReconfigVM_Task", "app02")] = vim.fault.InvalidPowerState(msg="The VM is powered on")
    with pytest.raises(VSphereError) as info:
        master_target.apply(world, plan, deadline(), concurrency=2)
    assert info.value.details == {"failed": ["detach disks from app02"], "completed": ["detach disks from app01"]}
    assert info.value.msg == "vSphere task(s) failed: detach disks from app02: The VM is powered on"
    assert [target for target, _args in world.calls_of("ReconfigVM_Task")] == ["app01", "app02"]


def test_a_failure_in_a_later_batch_reports_the_earlier_batches_as_completed():
    world, plan = three_vms()
    world.faults[("ReconfigVM_Task", "app03")] = vim.fault.TaskInProgress(msg="busy")
    with pytest.raises(VSphereError) as info:
        master_target.apply(world, plan, deadline(), concurrency=2)
    assert info.value.details == {"failed": ["detach disks from app03"],
                                  "completed": ["detach disks from app01", "detach disks from app02"]}


def test_a_reconfigure_that_would_destroy_a_vmdk_is_refused_before_it_is_sent():
    world = site()
    row = add_app(world)
    change = DEV.VirtualDeviceSpec(operation=REMOVE, device=row["config.hardware.device"][1], fileOperation=DESTROY)
    with pytest.raises(VSphereError) as info:
        master_target._reconfigure(row, [change])
    assert info.value.msg == "Internal safety check: a reconfigure of app01 would destroy a VMDK; refused."
    assert world.calls == []


def test_a_reconfigure_carries_extra_config_only_when_given():
    world = site()
    row = add_app(world)
    master_target._reconfigure(row, [])
    option = vim.option.OptionValue(key="a", value="b")
    master_target._reconfigure(row, [], [option])
    plain, with_option = specs(world, "app01")
    assert list(plain.extraConfig) == []
    assert [(o.key, o.value) for o in with_option.extraConfig] == [("a", "b")]


# -- the plan and the predicted diff on their own ---------------------------------------------------

def test_disks_and_create_flags_that_disagree_are_an_error_not_a_shorter_attach():
    world = site()
    mt = next(r for r in world.vms.values() if r["name"] == "mt-win01")
    disk = {"file": APP0, "size_gb": 40, "uuid": None}
    with pytest.raises(ValueError):
        master_target._attach_changes(mt, [disk, dict(disk, file=APP1)], [False])


def test_an_empty_plan_has_no_change():
    assert master_target.Plan().changed() is False


@pytest.mark.parametrize("field", ["vm_changes", "mt_changes", "vm_attach"])
def test_any_change_makes_a_plan_changed(field):
    plan = master_target.Plan()
    getattr(plan, field)["vm-1"] = ("row", [])
    assert plan.changed() is True


def test_the_prediction_moves_each_file_to_its_new_holder():
    before = {"app01": ["a", "b"], "mt": ["m"], "web02": None}
    results = [{"name": "app01", "master_target": "mt", "disks": [
        {"file": "a", "after": "mt"}, {"file": "b", "after": "vm"}, {"file": "n", "after": "none"}]},
        {"name": "web02", "master_target": "mt", "disks": [{"file": "w", "after": "vm"}, {"file": "x", "after": "mt"}]}]
    assert master_target._predicted(before, results) == {"app01": ["b"], "mt": ["a", "m", "x"], "web02": None}
    assert before == {"app01": ["a", "b"], "mt": ["m"], "web02": None}  # the before map is not touched


# -- existing VMDKs are attached as they are; refusals before the first change ----------------------

def test_reattaching_existing_vmdks_never_asks_vsphere_to_create_them():
    # issue 13: the repair onprem_vm recommends (attach the VMDKs a failed creation left on the datastore)
    # asked vSphere to create them again and failed with FileAlreadyExists
    world = site()
    world.files.update({WEB0, WEB1})  # detached from the master target, attached to nothing
    world.directories.add("[vmfs-01] web02")
    files = set(world.files)
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80]}])
    mt_spec, = specs(world, "mt-win01")
    assert [(d[0], d[3]) for d in added_disks(mt_spec)] == [(WEB0, None), (WEB1, None)]
    assert world.calls_of("MakeDirectory") == []  # nothing new to put in it
    assert world.disk_files("mt-win01") == [MT_OS, WEB0, WEB1]
    assert world.files == files
    assert [(d["file"], d["before"], d["after"]) for d in result["vms"][0]["disks"]] == [
        (WEB0, "none", "mt"), (WEB1, "none", "mt")]
    again = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                            "disk_sizes_gb": [40, 80]}])
    assert again["changed"] is False


def test_an_existing_vmdk_is_attached_and_only_the_missing_one_created():
    world = site()
    world.files.add(WEB0)
    ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01", "disk_sizes_gb": [40, 80]}])
    mt_spec, = specs(world, "mt-win01")
    assert [(d[0], d[3]) for d in added_disks(mt_spec)] == [(WEB0, None), (WEB1, CREATE)]


def test_an_alternate_vmdk_attached_to_another_vm_is_refused():
    world = site()
    world.add_vm("web02-old", host(world, "esx01"), [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, WEB1, 80)])
    assert refusals(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80]}]) == [
        "VM web02: VMDK [vmfs-01] web02/web02_1.vmdk is attached to VM web02-old; alternate-location failback "
        "attaches it to master target mt-win01 only when no other VM uses it. Detach it from web02-old (without "
        "deleting it) or use location: original for an existing VM."]


def test_new_vmdks_larger_than_the_free_space_of_the_datastore_are_refused():
    world = site()
    next(d for d in world.datastores.values() if d["name"] == "vmfs-01")["summary.freeSpace"] = 100 * 1024 ** 3
    assert refusals(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80]}]) == [
        "VM web02: datastore vmfs-01 has 100.0 GB free; the new VMDKs need 120.0 GB (replication fills them). Free "
        "space on it or choose another datastore."]


def test_a_reconfigure_that_would_create_an_existing_vmdk_is_refused_before_it_is_sent():
    world = site()
    row = next(r for r in world.vms.values() if r["name"] == "mt-win01")
    change = DEV.VirtualDeviceSpec(operation=ADD, fileOperation=CREATE, device=DEV.VirtualDisk(
        key=-1, controllerKey=1000, unitNumber=5, backing=DEV.VirtualDisk.FlatVer2BackingInfo(fileName=WEB0)))
    with pytest.raises(VSphereError) as info:
        master_target._reconfigure(row, [change], existing={WEB0})
    assert info.value.msg == ("Internal safety check: a reconfigure of mt-win01 would create [vmfs-01] web02/web02.vmdk, "
                              "which exist(s); an existing VMDK is attached as it is. Refused.")
    assert world.calls == []


# -- a failure after the first change is repaired by the same call -----------------------------------

def disk_map(world, *names):
    return {name: world.disk_files(name) for name in names}


@pytest.mark.parametrize("fail_at", [1, 2])  # 1 detach from app01 (with its manifest), 2 attach to mt-win01
def test_original_attach_a_fault_at_each_change_is_repaired_by_a_rerun(fail_at):
    world = site()
    add_app(world)
    files = set(world.files)
    world.fail_change = fail_at
    with pytest.raises(VSphereError, match="injected fault at change %d" % fail_at):
        ensure(world, [{"name": "app01"}])
    world.fail_change = None
    assert ensure(world, [{"name": "app01"}])["changed"] is True
    assert disk_map(world, "app01", "mt-win01") == {"app01": [], "mt-win01": [APP0, APP1, MT_OS]}
    assert world.files == files
    assert_nothing_destroyed(world, files)
    assert ensure(world, [{"name": "app01"}])["changed"] is False


@pytest.mark.parametrize("fail_at", [1, 2])  # 1 make [vmfs-01] web02, 2 create the VMDKs on mt-win01
def test_alternate_attach_a_fault_at_each_change_is_repaired_by_a_rerun(fail_at):
    world = site()
    world.fail_change = fail_at
    with pytest.raises(VSphereError, match="injected fault at change %d" % fail_at):
        ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01", "disk_sizes_gb": [40, 80]}])
    world.fail_change = None
    ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01", "disk_sizes_gb": [40, 80]}])
    assert world.disk_files("mt-win01") == [MT_OS, WEB0, WEB1]
    assert sorted(f for f in world.files if "web02" in f) == [WEB0, WEB1]


@pytest.mark.parametrize("manifest", [True, False])
@pytest.mark.parametrize("fail_at", [1, 2])  # 1 detach from mt-win01, 2 attach to app01
def test_detach_and_reattach_a_fault_at_each_change_is_repaired_by_a_rerun(fail_at, manifest):
    world = on_master_target(reattach_manifest=manifest)
    files = set(world.files)
    world.fail_change = fail_at
    with pytest.raises(VSphereError, match="injected fault at change %d" % fail_at):
        ensure(world, [{"name": "app01"}], state="detached", reattach=True)
    world.fail_change = None
    ensure(world, [{"name": "app01"}], state="detached", reattach=True)
    assert disk_map(world, "app01", "mt-win01") == {"app01": [APP0, APP1], "mt-win01": [MT_OS]}
    assert world.files == files
    assert ensure(world, [{"name": "app01"}], state="detached", reattach=True)["changed"] is False


def test_alternate_reattach_finds_the_vmdks_a_stopped_run_left_attached_to_nothing():
    world = site()
    add_app(world, "web02", sizes=())
    world.files.update({WEB0, WEB1})
    result = ensure(world, [{"name": "web02", "location": "alternate", "datastore": "vmfs-01",
                             "disk_sizes_gb": [40, 80]}], state="detached", reattach=True)
    vm_spec, = specs(world, "web02")
    assert [(d[0], d[3]) for d in added_disks(vm_spec)] == [(WEB0, None), (WEB1, None)]
    assert [(d["file"], d["before"], d["after"]) for d in result["vms"][0]["disks"]] == [
        (WEB0, "none", "vm"), (WEB1, "none", "vm")]


# -- identity: a stale copy of the VM's name (issue 14) -------------------------------------------

def disk_files_of(row):
    return sorted(d.backing.fileName for d in row["config.hardware.device"] if isinstance(d, DEV.VirtualDisk))


def test_a_stale_copy_of_the_name_is_refused_naming_both_then_the_instance_uuid_picks_the_vm():
    # fault: "VM app01 was not found ... Use location: alternate" on every re-run, with a stale powered-off copy of
    # app01 in another folder (the look-up by name saw two VMs and answered "none")
    world = site()
    original = add_app(world)
    stale = add_app(world, datastore="vmfs-02", on="esx02")
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}])
    assert changing_calls(world) == []
    message = info.value.msg
    assert message.startswith("Refusing to attach disks; nothing was changed: VM app01: 2 VMs have that name")
    for row in (original, stale):
        assert "%s (folder dc1/vm, %s, instance UUID %s, host %s, poweredOff)" % (
            row["moid"], row["config.files.vmPathName"], row["config.instanceUuid"],
            "esx01" if row is original else "esx02") in message
    assert "give the instance UUID of the right one as instance_uuid" in message
    assert "not found" not in message and "alternate" not in message
    before_stale = disk_files_of(stale)
    outcome = ensure(world, [{"name": "app01", "instance_uuid": original["config.instanceUuid"].upper()}])
    assert outcome["changed"] is True
    assert disk_files_of(original) == [] and disk_files_of(stale) == before_stale == [
        "[vmfs-02] app01/app01.vmdk", "[vmfs-02] app01/app01_1.vmdk"]
    assert world.disk_files("mt-win01") == sorted([MT_OS, APP0, APP1])  # the original's disks, not the copy's
    assert stale["moid"] in outcome["vms"][0]["warnings"][0] and "left alone" in outcome["vms"][0]["warnings"][0]


def test_a_name_no_other_vm_has_carries_no_warning():
    world = site()
    add_app(world)
    outcome = ensure(world, [{"name": "app01"}])
    assert outcome["changed"] is True and "warnings" not in outcome["vms"][0]
