# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failed-back VM on-premises: which VM is created with which spec, where it powers on, which
host a vMotion picks for memory (ASR error 8038), which VM is refused and why.

Every test runs against the in-memory vSphere of fakes.py; expected specs are written from the
vSphere API (ConfigSpec, VirtualDeviceSpec, VirtualVmxnet3, RelocateSpec), never read back from the
code under test. No VMDK is ever destroyed.
"""

import json
from types import SimpleNamespace

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import disks as diskops
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import master_target, onprem
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import (
    POWERED_OFF,
    POWERED_ON,
    TOOLS_NOT_RUNNING,
    TOOLS_RUNNING,
    FakeVSphere,
    flat_disk,
    lsi_logic,
)

DEV = vim.vm.device
FS = vim.host.FileSystemVolume.FileSystemType
HOST_STATE = vim.HostSystem.ConnectionState
ADD = DEV.VirtualDeviceSpec.Operation.add
REMOVE = DEV.VirtualDeviceSpec.Operation.remove
DESTROY = DEV.VirtualDeviceSpec.FileOperation.destroy
REPLACE = DEV.VirtualDeviceSpec.FileOperation.replace  # deletes the old backing too
GB_IN_KB = 1024 * 1024
ERROR_8038 = ("ASR error 8038: the on-premises VM could not be brought online because its ESXi host lacks memory. "
              "Add memory to the host, or vMotion the VM to another host with enough memory "
              "(memory_remediation: vmotion does that), and retry.")

MT_OS = "[vmfs-01] mt-lin01/mt-lin01.vmdk"
APP0 = "[vmfs-01] app01/app01.vmdk"
APP1 = "[vmfs-01] app01/app01_1.vmdk"
WEB0 = "[vmfs-01] web02/web02.vmdk"
WEB1 = "[vmfs-01] web02/web02_1.vmdk"


# -- the site ------------------------------------------------------------------------------------

def site(esx01_free_mb=4096, mt_devices=()):
    """dc1 / cluster cl1 with esx01 (16 GB, ``esx01_free_mb`` free, mounts vmfs-01 and vmfs-02) and
    the master target mt-lin01 on it; cluster cl2 exists (empty)."""
    world = FakeVSphere()
    dc = world.add_datacenter("dc1")
    world.add_cluster("cl1", dc)
    world.add_cluster("cl2", dc)
    world.add_datastore("vmfs-01", FS.VMFS)
    world.add_datastore("vmfs-02", FS.VMFS)
    world.add_host("esx01", cluster(world, "cl1"), memory_mb=16384, used_mb=16384 - esx01_free_mb,
                   datastores=("vmfs-01", "vmfs-02"))
    world.add_vm("mt-lin01", host(world, "esx01"),
                 [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, MT_OS, 60), *mt_devices],
                 power=POWERED_ON, vm_path="[vmfs-01] mt-lin01/mt-lin01.vmx", tools=TOOLS_RUNNING)
    return world


def cluster(world, name):
    return next(c for c in world.computes.values() if c["name"] == name)


def host(world, name):
    return next(h for h in world.hosts.values() if h["name"] == name)


def vm(world, name):
    return next(r for r in world.vms.values() if r["name"] == name)


def add_app(world, name="app01", memory_mb=4096, power=POWERED_OFF, on="esx01", devices=None, extra=None):
    if devices is None:
        devices = [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, "[vmfs-01] %s/%s.vmdk" % (name, name), 40)]
    return world.add_vm(name, host(world, on) if on else None, devices, power=power, memory_mb=memory_mb,
                        extra_config=extra, vm_path="[vmfs-01] %s/%s.vmx" % (name, name))


def add_host(world, name, free_mb, on="cl1", datastores=("vmfs-01",), **kwargs):
    return world.add_host(name, cluster(world, on) if on else None, memory_mb=32768, used_mb=32768 - free_mb,
                          datastores=datastores, **kwargs)


def deadline(seconds=600, clock=None):
    clock = clock or FakeClock()
    return Deadline(seconds, clock=clock, sleeper=clock.sleep)


def ensure(world, vms, remediation="fail", check_mode=False, tools_deadline=None, **defaults):
    defaults.setdefault("location", "original")
    return onprem.ensure(world, vms, defaults, remediation, check_mode, deadline(), tools_deadline)


def refusals(world, vms, remediation="fail", **defaults):
    """The refusals of a run that must change nothing."""
    with pytest.raises(VSphereError) as info:
        ensure(world, vms, remediation=remediation, **defaults)
    assert changing_calls(world) == []
    assert info.value.msg == "Refusing to bring the VMs up; nothing was changed: " + " ".join(
        info.value.details["refusals"])
    return info.value.details["refusals"]


def changing_calls(world):
    """Every call but the datastore searches (read-only tasks)."""
    return [(method, target) for method, target, _args in world.calls if method != "SearchDatastoreSubFolders_Task"]


def timeline(world):
    return ["%s %s" % (e[1], e[2]) if e[0] == "call" else "wait %d" % len(e[1]) for e in world.events]


# an existing VM's own directory is searched first for VMDKs of it attached to nothing (read-only)
SEARCHED = ["SearchDatastoreSubFolders_Task vmfs-01", "wait 1"]


def changes(world):
    """The calls that change something: every call but the read-only datastore searches."""
    return [c for c in world.calls if c[0] != "SearchDatastoreSubFolders_Task"]


def assert_nothing_destroyed(world, files_before):
    for _target, args in world.calls_of("ReconfigVM_Task"):
        assert all(c.fileOperation not in (DESTROY, REPLACE) for c in args["spec"].deviceChange)
    assert files_before <= world.files


def entry(**changes):
    """A result entry of a VM left as it was, with ``changes``."""
    result = {"name": "app01", "created": False, "disks_returned": 0, "disks_attached": [], "powered_off": False,
              "disks_recorded": False, "vmotion_to": None, "powered_on": False, "changed": False}
    result.update(changes)
    return result


# -- Want ------------------------------------------------------------------------------------------

def test_want_takes_each_setting_from_the_vm_first_then_the_module():
    want = onprem.Want({"name": "web02", "location": "alternate", "num_cpu": 4, "firmware": "efi"},
                       {"location": "original", "num_cpu": 2, "memory_mb": 8192})
    assert (want.name, want.location, want.num_cpu, want.memory_mb, want.firmware, want.networks) == (
        "web02", "alternate", 4, 8192, "efi", None)


def test_want_treats_a_setting_given_as_none_as_not_given():
    want = onprem.Want({"name": "web02", "location": None, "num_cpu": None}, {"location": "alternate", "num_cpu": 2})
    assert (want.location, want.num_cpu) == ("alternate", 2)


def test_want_location_is_original_when_nobody_gives_one():
    assert onprem.Want({"name": "app01"}, {}).location == "original"


# -- power on, memory (ASR error 8038) ----------------------------------------------------------

def test_a_powered_off_vm_that_fits_in_its_hosts_free_memory_is_powered_on_there(monkeypatch):
    monkeypatch.setattr(onprem, "time", SimpleNamespace(monotonic=iter([100.0, 104.25]).__next__))
    world = site(esx01_free_mb=4096)
    add_app(world, memory_mb=4096)  # exactly the free memory
    outcome = ensure(world, [{"name": "app01"}], tools_deadline=deadline(300))
    assert world.calls_of("PowerOnVM_Task") == [("app01", {})]
    assert timeline(world) == [*SEARCHED, "PowerOnVM_Task app01", "wait 1"]
    assert outcome == {"changed": True, "tasks": ["power on app01"], "power_on_seconds": 4.25,
                       "vms": [entry(powered_on=True, changed=True, host="esx01", power_state="poweredOn",
                                     tools_running_status="guestToolsRunning", tools_status="toolsOk")],
                       "diff": {"before": {"app01": {"scsi0:0": APP0}}, "after": {"app01": {"scsi0:0": APP0}}}}


def test_a_power_on_reads_the_inventory_once_to_plan_and_once_to_report():
    world = site()
    add_app(world)
    ensure(world, [{"name": "app01"}])
    assert [t for t, _paths in world.reads if t is vim.VirtualMachine] == [vim.VirtualMachine] * 2
    assert len([p for t, p in world.reads if t is None and "info.state" in p]) == 2  # the search's, the power-on's


def test_a_vm_that_needs_one_mb_more_than_its_host_has_free_is_refused_with_error_8038():
    world = site(esx01_free_mb=4096)
    add_app(world, memory_mb=4097)
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01 needs 4097 MB but ESXi host esx01 has 4096 MB free. " + ERROR_8038]


def test_a_host_without_memory_figures_has_no_free_memory():
    world = site()
    host(world, "esx01").update({"summary.hardware.memorySize": None, "summary.quickStats.overallMemoryUsage": None})
    add_app(world, memory_mb=1)
    assert refusals(world, [{"name": "app01"}]) == ["VM app01 needs 1 MB but ESXi host esx01 has 0 MB free. " + ERROR_8038]


def test_vms_powered_on_on_one_host_share_its_free_memory():
    world = site(esx01_free_mb=4096)
    add_app(world, "app01", memory_mb=2048)
    add_app(world, "app02", memory_mb=2048)
    outcome = ensure(world, [{"name": "app01"}, {"name": "app02"}])
    assert outcome["tasks"] == ["power on app01", "power on app02"]
    assert timeline(world) == [*SEARCHED, "PowerOnVM_Task app01", "PowerOnVM_Task app02", "wait 2"]


def test_the_second_vm_is_refused_when_the_first_took_the_memory():
    world = site(esx01_free_mb=4096)
    add_app(world, "app01", memory_mb=2048)
    add_app(world, "app02", memory_mb=2049)
    assert refusals(world, [{"name": "app01"}, {"name": "app02"}]) == [
        "VM app02 needs 2049 MB but ESXi host esx01 has 2048 MB free. " + ERROR_8038]


def test_a_powered_on_vm_is_left_alone():
    world = site(esx01_free_mb=0)  # no memory check for a VM that runs already
    add_app(world, power=POWERED_ON)
    vm(world, "app01")["guest.toolsRunningStatus"] = TOOLS_RUNNING
    outcome = ensure(world, [{"name": "app01"}])
    assert changes(world) == []
    assert outcome == {"changed": False, "tasks": [], "power_on_seconds": None,
                       "vms": [entry(host="esx01", power_state="poweredOn", tools_running_status="guestToolsRunning",
                                     tools_status=None)],
                       "diff": {"before": {"app01": {"scsi0:0": APP0}}, "after": {"app01": {"scsi0:0": APP0}}}}


def test_a_suspended_vm_is_powered_on():
    world = site()
    add_app(world, power=vim.VirtualMachine.PowerState.suspended)
    assert ensure(world, [{"name": "app01"}])["tasks"] == ["power on app01"]


@pytest.mark.parametrize("state", [HOST_STATE.disconnected, HOST_STATE.notResponding])
def test_a_vm_on_a_host_that_is_not_connected_is_refused(state):
    world = site()
    add_host(world, "esx09", 65536, state=state)
    add_app(world, on="esx09")
    assert refusals(world, [{"name": "app01"}], remediation="vmotion") == [
        "VM app01: its ESXi host esx09 is %s; it cannot be powered on until the host is connected." % state]


def test_a_running_vm_whose_host_is_not_in_the_inventory_reports_no_host():
    world = site()
    add_app(world, power=POWERED_ON, on=None)
    outcome = ensure(world, [{"name": "app01"}])
    assert outcome["vms"][0]["host"] is None and outcome["changed"] is False


def test_a_failed_power_on_names_the_vm():
    world = site()
    add_app(world)
    world.faults[("PowerOnVM_Task", "app01")] = vim.fault.InvalidPowerState(msg="The VM is powered on")
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}])
    assert info.value.msg == "vSphere task(s) failed: power on app01: The VM is powered on"
    assert info.value.details == {"failed": ["power on app01"], "changed": False}  # its only task failed


# -- vMotion for memory ----------------------------------------------------------------------------

def crowded(need_mb=6144):
    """app01 (``need_mb``) on esx01 with 4096 MB free; esx02 in the same cluster has 8192 MB free and
    mounts vmfs-01; every other host has more memory but cannot take it."""
    world = site(esx01_free_mb=4096)
    add_host(world, "esx03", 30000, datastores=("vmfs-02",))  # does not mount the VM's datastore
    add_host(world, "esx04", 30000, maintenance=True)
    add_host(world, "esx05", 30000, state=HOST_STATE.disconnected)
    add_host(world, "esx06", 30000, on="cl2")  # another cluster
    add_host(world, "esx07", 30000, on=None)  # no parent
    add_host(world, "esx02", 8192)
    add_app(world, memory_mb=need_mb)
    return world


def test_vmotion_moves_the_vm_to_the_host_of_its_cluster_that_can_take_it_then_powers_it_on():
    world = crowded()
    outcome = ensure(world, [{"name": "app01"}], remediation="vmotion")
    (target, args), = world.calls_of("RelocateVM_Task")
    assert target == "app01"
    assert args["spec"].host == host(world, "esx02")["obj"]
    assert args["spec"].pool._moId == "resgroup-" + cluster(world, "cl1")["moid"]
    assert timeline(world) == [*SEARCHED, "RelocateVM_Task app01", "wait 1", "PowerOnVM_Task app01", "wait 1"]
    assert outcome["tasks"] == ["vMotion app01 to esx02", "power on app01"]
    assert outcome["vms"] == [entry(vmotion_to="esx02", powered_on=True, changed=True, host="esx02",
                                    power_state="poweredOn", tools_running_status="guestToolsRunning",
                                    tools_status="toolsOk")]


def test_vmotion_check_mode_names_the_host_and_moves_nothing():
    world = crowded()
    outcome = ensure(world, [{"name": "app01"}], remediation="vmotion", check_mode=True)
    assert changes(world) == []
    assert outcome["vms"][0]["vmotion_to"] == "esx02" and outcome["vms"][0]["host"] == "esx01"
    assert outcome["changed"] is True and outcome["tasks"] == []


def test_vmotion_picks_the_host_with_the_most_free_memory():
    world = crowded()
    add_host(world, "esx08", 12288)
    ensure(world, [{"name": "app01"}], remediation="vmotion")
    (_target, args), = world.calls_of("RelocateVM_Task")
    assert args["spec"].host == host(world, "esx08")["obj"]


def test_vmotion_keeps_the_first_host_on_a_tie():
    world = crowded()
    add_host(world, "esx08", 8192)
    ensure(world, [{"name": "app01"}], remediation="vmotion")
    (_target, args), = world.calls_of("RelocateVM_Task")
    assert args["spec"].host == host(world, "esx02")["obj"]


def test_vmotion_takes_a_host_with_exactly_the_memory_needed():
    world = crowded(need_mb=8192)
    assert ensure(world, [{"name": "app01"}], remediation="vmotion")["vms"][0]["vmotion_to"] == "esx02"


def test_vmotion_needs_the_memory_and_is_refused_without_a_host_that_has_it():
    world = crowded(need_mb=8193)
    assert refusals(world, [{"name": "app01"}], remediation="vmotion") == [
        "VM app01 needs 8193 MB but ESXi host esx01 has 4096 MB free, and no other host can run it (a host must be "
        "connected, out of maintenance mode, in its cluster, with the memory, every datastore of its files and every "
        "network of it): esx02 (it has 8192 MB free of the 8193 MB the VM needs); esx03 (it does not mount datastore "
        "vmfs-01); esx04 (it is in maintenance mode); esx05 (it is disconnected); esx06 (it is not in cluster cl1); "
        "esx07 (it is not in cluster cl1). " + ERROR_8038]


def test_vmotion_needs_every_datastore_of_the_vm_mounted():
    world = crowded()
    vm(world, "app01")["config.hardware.device"].append(flat_disk(2001, 1000, 1, "[vmfs-02] app01/app01_1.vmdk", 5))
    add_host(world, "esx08", 7000, datastores=("vmfs-01", "vmfs-02"))
    ensure(world, [{"name": "app01"}], remediation="vmotion")
    (_target, args), = world.calls_of("RelocateVM_Task")
    assert args["spec"].host == host(world, "esx08")["obj"]  # esx02 has more memory but no vmfs-02


def test_vmotion_of_two_vms_counts_the_memory_the_first_one_takes():
    world = crowded()
    add_app(world, "app02", memory_mb=6144)
    add_host(world, "esx08", 7000)
    outcome = ensure(world, [{"name": "app01"}, {"name": "app02"}], remediation="vmotion")
    assert [v["vmotion_to"] for v in outcome["vms"]] == ["esx02", "esx08"]
    assert timeline(world) == [*SEARCHED, "RelocateVM_Task app01", "RelocateVM_Task app02", "wait 2",
                               "PowerOnVM_Task app01", "PowerOnVM_Task app02", "wait 2"]


def test_vmotion_is_refused_for_a_host_outside_any_cluster():
    world = site(esx01_free_mb=4096)
    dc = next(iter(world.datacenters.values()))
    add_host(world, "esx09", 4096, on=None)
    host(world, "esx09")["parent"] = world.add_standalone("esx09", dc)["obj"]
    add_app(world, memory_mb=6144, on="esx09")
    assert refusals(world, [{"name": "app01"}], remediation="vmotion") == [
        "VM app01 needs 6144 MB but ESXi host esx09 has 4096 MB free, and no other host can run it (a host must be "
        "connected, out of maintenance mode, in its cluster, with the memory, every datastore of its files and every "
        "network of it): esx01 (the VM's host is in no cluster, so no host shares one with it, it has 4096 MB free of "
        "the 6144 MB the VM needs). " + ERROR_8038]


def test_without_vmotion_remediation_a_vm_short_of_memory_is_refused_even_if_another_host_could_take_it():
    world = crowded()
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01 needs 6144 MB but ESXi host esx01 has 4096 MB free. " + ERROR_8038]


def test_a_host_that_left_its_cluster_after_the_plan_gets_no_resource_pool():
    world = crowded()
    inventory = Inventory(world)
    planned = onprem.plan(inventory, [onprem.Want({"name": "app01"}, {})], "vmotion")
    host(world, "esx02")["parent"] = None
    onprem.apply(world, inventory, planned, deadline())
    (_target, args), = world.calls_of("RelocateVM_Task")
    assert args["spec"].host == host(world, "esx02")["obj"] and args["spec"].pool is None


# -- alternate location: create the VM --------------------------------------------------------------

def web02(**changes):
    want = {"name": "web02", "location": "alternate", "master_target": "mt-lin01", "datastore": "vmfs-01",
            "num_cpu": 2, "memory_mb": 4096, "guest_id": "rhel8_64Guest", "firmware": "bios",
            "networks": ["Prod-VLAN10", "Backup-VLAN20"]}
    want.update(changes)
    return want


def alternate_site(**kwargs):
    world = site(mt_devices=[flat_disk(2001, 1000, 1, WEB1, 80, "6000C29-w1"),
                             flat_disk(2002, 1000, 2, WEB0, 40, "6000C29-w0"),
                             flat_disk(2003, 1000, 3, "[vmfs-01] web021/web021.vmdk", 10),  # another VM's
                             flat_disk(2004, 1000, 4, "[vmfs-02] web02/web02.vmdk", 10)],  # another datastore
                 **kwargs)
    world.add_network("Prod-VLAN10")
    world.add_network("Backup-VLAN20")
    return world


def test_alternate_location_creates_the_vm_on_the_master_targets_host_with_its_vmdks():
    world = alternate_site()
    files = set(world.files)
    outcome = ensure(world, [web02()])

    (mt_target, mt_args), = world.calls_of("ReconfigVM_Task")
    assert mt_target == "mt-lin01"
    assert [(c.operation, c.device.key, c.fileOperation) for c in mt_args["spec"].deviceChange] == [
        (REMOVE, 2002, None), (REMOVE, 2001, None)]  # in disk order: web02.vmdk, web02_1.vmdk

    (name, args), = world.calls_of("CreateVM_Task")
    mt = vm(world, "mt-lin01")
    assert name == "web02"
    assert args["folder"] is mt["parent"] and args["pool"] == mt["resourcePool"]
    assert args["host"] == host(world, "esx01")["obj"]
    config = args["config"]
    assert (config.name, config.numCPUs, config.memoryMB, config.guestId, config.firmware) == (
        "web02", 2, 4096, "rhel8_64Guest", "bios")
    assert config.files.vmPathName == "[vmfs-01] web02/web02.vmx"
    controller, disk0, disk1, nic0, nic1 = config.deviceChange
    assert (controller.operation, type(controller.device), controller.device.key, controller.device.busNumber,
            controller.device.sharedBus) == (ADD, DEV.VirtualLsiLogicController, -300, 0,
                                             DEV.VirtualSCSIController.Sharing.noSharing)
    # the VMDKs replicated to the master target, attached as they are: no file operation, same disk UUID
    assert [(c.operation, c.fileOperation, c.device.key, c.device.controllerKey, c.device.unitNumber,
             c.device.backing.fileName, c.device.backing.uuid, c.device.capacityInKB) for c in (disk0, disk1)] == [
        (ADD, None, -301, -300, 0, WEB0, "6000C29-w0", 40 * GB_IN_KB),
        (ADD, None, -302, -300, 1, WEB1, "6000C29-w1", 80 * GB_IN_KB)]
    networks = {row["name"]: row["obj"] for row in world.networks.values()}
    assert [(type(c.device), c.operation, c.fileOperation, c.device.key, c.device.backing.deviceName,
             c.device.backing.network, c.device.connectable.startConnected, c.device.connectable.allowGuestControl,
             c.device.connectable.connected) for c in (nic0, nic1)] == [
        (DEV.VirtualVmxnet3, ADD, None, -400, "Prod-VLAN10", networks["Prod-VLAN10"], True, True, False),
        (DEV.VirtualVmxnet3, ADD, None, -401, "Backup-VLAN20", networks["Backup-VLAN20"], True, True, False)]

    assert timeline(world) == ["SearchDatastoreSubFolders_Task vmfs-01", "wait 1",
                               "ReconfigVM_Task mt-lin01", "wait 1", "CreateVM_Task web02", "wait 1",
                               "PowerOnVM_Task web02", "wait 1"]
    assert outcome["tasks"] == ["detach web02's disks from mt-lin01", "create web02 on esx01", "power on web02"]
    assert outcome["vms"] == [{"name": "web02", "created": True, "disks_returned": 2, "disks_attached": [],
                               "powered_off": False, "disks_recorded": True, "vmotion_to": None,
                               "powered_on": True, "changed": True, "host": "esx01", "power_state": "poweredOn",
                               "tools_running_status": "guestToolsRunning", "tools_status": "toolsOk"}]
    assert world.disk_files("web02") == [WEB0, WEB1]
    assert world.disk_files("mt-lin01") == [MT_OS, "[vmfs-01] web021/web021.vmdk", "[vmfs-02] web02/web02.vmdk"]
    assert world.files == files
    assert_nothing_destroyed(world, files)


@pytest.mark.parametrize("field, value, reason", [
    ("runtime.inMaintenanceMode", True, "it is in maintenance mode"),
    ("runtime.connectionState", "notResponding", "it is notResponding"),
])
def test_an_alternate_location_vm_is_not_created_on_a_host_that_cannot_run_it(field, value, reason):
    # issue 14, item 7: one rule (domain.hosts) judges the master target's host before the VM is created on it
    world = alternate_site()
    host(world, "esx01")[field] = value
    found = refusals(world, [web02()], location="alternate")
    assert len(found) == 1 and found[0].startswith("VM web02 cannot be created on ESXi host esx01, the host of "
                                                   "master target mt-lin01"), found
    assert reason in found[0]
    assert changes(world) == []


def test_a_planned_creation_is_a_change_by_itself():
    world = alternate_site()
    result = onprem.Plan()
    entry_ = entry(name="web02")
    host_row, problems = onprem._plan_create(Inventory(world), onprem.Want(web02(), {}), result, entry_,
                                             port_groups=onprem.PortGroups(world))
    assert (host_row["name"], problems) == ("esx01", [])
    assert entry_ == entry(name="web02", created=True, disks_returned=2, disks_recorded=True, changed=True)
    assert [(w.name, mt["name"], [d["file"] for d in own]) for w, mt, own in result.creates] == [
        ("web02", "mt-lin01", [WEB0, WEB1])]


def test_the_firmware_given_is_used():
    world = alternate_site()
    ensure(world, [web02(firmware="efi", networks=[])])
    (_name, args), = world.calls_of("CreateVM_Task")
    assert args["config"].firmware == "efi"
    assert [type(c.device) for c in args["config"].deviceChange] == [DEV.VirtualLsiLogicController] + [
        DEV.VirtualDisk] * 2


def test_a_created_vm_with_nine_disks_skips_scsi_unit_7():
    names = ["[vmfs-01] web02/web02.vmdk"] + ["[vmfs-01] web02/web02_%d.vmdk" % i for i in range(1, 9)]
    world = site(mt_devices=[flat_disk(3000 + i, 1000, u, n, 1)
                             for i, (u, n) in enumerate(zip((1, 2, 3, 4, 5, 6, 8, 9, 10), names, strict=True))])
    ensure(world, [web02(networks=[])])
    (_name, args), = world.calls_of("CreateVM_Task")
    assert [(c.device.backing.fileName, c.device.unitNumber) for c in args["config"].deviceChange[1:]] == list(
        zip(names, (0, 1, 2, 3, 4, 5, 6, 8, 9), strict=True))


def test_check_mode_plans_the_creation_and_creates_nothing():
    world = alternate_site()
    outcome = ensure(world, [web02()], check_mode=True, tools_deadline=deadline(300))
    assert changing_calls(world) == []
    assert outcome == {"changed": True, "tasks": [], "power_on_seconds": None,
                       "vms": [{"name": "web02", "created": True, "disks_returned": 2, "disks_attached": [],
                               "powered_off": False, "disks_recorded": True, "vmotion_to": None,
                                "powered_on": True, "changed": True, "host": None, "power_state": None,
                                "tools_running_status": None, "tools_status": None}],
                       "diff": {"before": {"web02": None}, "after": {"web02": {"scsi0:0": WEB0, "scsi0:1": WEB1}}}}


@pytest.mark.parametrize("missing", ["master_target", "datastore", "num_cpu", "memory_mb"])
def test_a_vm_to_create_needs_each_setting(missing):
    world = alternate_site()
    assert refusals(world, [web02(**{missing: None})]) == [
        "VM web02 does not exist and cannot be created without %s." % missing]


def test_a_vm_to_create_names_every_missing_setting():
    world = alternate_site()
    assert refusals(world, [{"name": "web02", "location": "alternate", "num_cpu": 0}]) == [
        "VM web02 does not exist and cannot be created without master_target, datastore, num_cpu, memory_mb."]


def test_a_missing_vm_is_refused_for_original_location():
    world = alternate_site()
    assert refusals(world, [web02(location="original")]) == [
        "VM web02 does not exist; original-location failback needs it. Use location: alternate to create it on the "
        "master target's host."]


def test_a_vm_to_create_without_its_disks_on_the_master_target_is_refused():
    world = site(mt_devices=[flat_disk(2003, 1000, 3, "[vmfs-01] web021/web021.vmdk", 10)])
    assert refusals(world, [web02(networks=[])]) == [
        "VM web02: no disk under [vmfs-01] web02/ is attached to master target mt-lin01 or left on datastore vmfs-01; "
        "the VM would boot without its data. Reprotect it first (or attach its disks with master_target_disks)."]


def test_a_vm_to_create_on_a_host_short_of_memory_is_refused_even_with_vmotion():
    world = alternate_site(esx01_free_mb=4095)
    assert refusals(world, [web02()], remediation="vmotion") == [
        "VM web02 would be created on the master target's host esx01, which has 4095 MB free of the 4096 MB it "
        "needs. Free memory on that host or use another master target. " + ERROR_8038]


def test_a_vm_to_create_on_a_host_short_of_memory_is_refused_with_error_8038():
    world = alternate_site(esx01_free_mb=4095)
    assert refusals(world, [web02()]) == [
        "VM web02 needs 4096 MB but ESXi host esx01 has 4095 MB free. " + ERROR_8038]


def test_a_network_that_does_not_exist_is_refused_before_the_vmdks_leave_the_master_target():
    # issue 13: `networks: [Prod-VLAN-10]` detached the VMDKs, then failed to create the VM
    world = alternate_site()
    assert refusals(world, [web02(networks=["Prod-VLAN-10"])]) == [
        "VM web02: network Prod-VLAN-10 is not a port group of ESXi host esx01, where the VM is created (the host of "
        "master target mt-lin01). That host has: Backup-VLAN20, Prod-VLAN10. Use one of them, or a master target on "
        "a host that has Prod-VLAN-10."]
    assert world.disk_files("mt-lin01") == [MT_OS, WEB0, WEB1, "[vmfs-01] web021/web021.vmdk",
                                            "[vmfs-02] web02/web02.vmdk"]


def test_a_port_group_of_another_host_is_refused_on_the_host_the_vm_is_created_on():
    world = alternate_site()
    add_host(world, "esx02", 32768)
    world.add_network("Prod-VLAN30", hosts=["esx02"])  # a port group of the datacenter, but not of esx01
    assert refusals(world, [web02(networks=["Prod-VLAN10", "Prod-VLAN30", "Nowhere"])]) == [
        "VM web02: network Prod-VLAN30 is not a port group of ESXi host esx01, where the VM is created (the host of "
        "master target mt-lin01). That host has: Backup-VLAN20, Prod-VLAN10. Use one of them, or a master target on "
        "a host that has Prod-VLAN30.",
        "VM web02: network Nowhere is not a port group of ESXi host esx01, where the VM is created (the host of "
        "master target mt-lin01). That host has: Backup-VLAN20, Prod-VLAN10. Use one of them, or a master target on "
        "a host that has Nowhere."]


def test_two_port_groups_of_one_name_on_the_host_are_refused_as_ambiguous():
    world = alternate_site()
    world.add_network("Prod-VLAN10", distributed=True, switch="DSwitch-A")
    assert refusals(world, [web02(networks=["Prod-VLAN10"])]) == [
        "VM web02: 2 port groups of ESXi host esx01 are called Prod-VLAN10 (on a standard switch and distributed "
        "switch DSwitch-A), so the NIC's network is ambiguous. Name it with its distributed switch - e.g. "
        "DSwitch-A/Prod-VLAN10 - (in networks, or as the value in network_map), or rename one of them."]


def test_a_distributed_port_group_is_connected_by_switch_uuid_and_port_group_key():
    world = alternate_site()
    dvpg = world.add_network("Prod-DVS", distributed=True)
    ensure(world, [web02(networks=["Prod-DVS"])])
    (_name, args), = world.calls_of("CreateVM_Task")
    nic, = [c.device for c in args["config"].deviceChange if isinstance(c.device, DEV.VirtualVmxnet3)]
    assert isinstance(nic.backing, DEV.VirtualEthernetCard.DistributedVirtualPortBackingInfo)
    assert (nic.backing.port.portgroupKey, nic.backing.port.switchUuid) == (dvpg._moId, "50 2a dv s0 00 00 00 01")


def test_a_distributed_port_group_without_its_switch_in_the_read_is_refused_before_any_change():
    # its key and switch UUID come from the plan's one read of the port groups and switches (issue 17); a switch that
    # went missing between the two reads leaves no UUID to connect to
    world = alternate_site()
    world.add_network("Prod-DVS", distributed=True, switch="dvs-gone")
    del world.switches["dvs-gone"]["uuid"]
    with pytest.raises(VSphereError) as info:
        ensure(world, [web02(networks=["Prod-DVS"])])
    assert info.value.msg.startswith("Distributed port group Prod-DVS (dvportgroup-")
    assert "was not found with its key and its distributed switch's UUID" in info.value.msg
    assert changes(world) == []


def test_a_failed_creation_stops_before_power_on():
    world = alternate_site()
    world.faults[("CreateVM_Task", "web02")] = vim.fault.DuplicateName(msg="web02 exists")
    with pytest.raises(VSphereError) as info:
        ensure(world, [web02()])
    assert info.value.details == {"failed": ["create web02 on esx01"], "changed": True}  # detached from the MT first
    assert world.calls_of("PowerOnVM_Task") == []


def test_a_detach_that_would_destroy_a_vmdk_is_refused_before_it_is_sent(monkeypatch):
    world = alternate_site()

    def destroying_remove(device):
        return DEV.VirtualDeviceSpec(operation=REMOVE, device=device, fileOperation=DESTROY)

    monkeypatch.setattr(diskops, "remove_spec", destroying_remove)
    with pytest.raises(VSphereError) as info:
        ensure(world, [web02()])
    assert info.value.msg == "Internal safety check: a reconfigure would destroy a VMDK; refused."
    assert changing_calls(world) == []


# -- original location: disks back from the master target ------------------------------------------

def disks_on_master_target(power=POWERED_OFF, on_vm=()):
    """app01's disks on mt-lin01 (units 1, 2), recorded in app01's manifest at bus 0 units 0, 1."""
    manifest = vim.option.OptionValue(key="siterecovery.failback.disks", value=(
        '[{"bus":0,"file":"%s","size_gb":40.0,"unit":0,"uuid":"6000C29-a0"},'
        '{"bus":0,"file":"%s","size_gb":80.0,"unit":1,"uuid":"6000C29-a1"}]' % (APP0, APP1)))
    world = site(mt_devices=[flat_disk(2001 + i, 1000, 1 + i, f, s, "6000C29-a%d" % i)
                             for i, (f, s) in enumerate(((APP0, 40), (APP1, 80))) if f not in on_vm])
    devices = [lsi_logic(1000, 0)] + [flat_disk(2000 + i, 1000, i, f, 40) for i, f in enumerate(on_vm)]
    add_app(world, power=power, devices=devices, extra=[manifest])
    return world


def test_original_location_returns_the_disks_to_the_vm_then_powers_it_on():
    world = disks_on_master_target()
    files = set(world.files)
    outcome = ensure(world, [{"name": "app01", "master_target": "mt-lin01"}])
    assert timeline(world) == ["SearchDatastoreSubFolders_Task vmfs-01", "wait 1",
                               "ReconfigVM_Task mt-lin01", "wait 1", "ReconfigVM_Task app01", "wait 1",
                               "PowerOnVM_Task app01", "wait 1"]
    (_mt, mt_args), (_vm, vm_args) = world.calls_of("ReconfigVM_Task")
    assert [(c.operation, c.device.key, c.fileOperation) for c in mt_args["spec"].deviceChange] == [
        (REMOVE, 2001, None), (REMOVE, 2002, None)]
    assert [(c.operation, c.fileOperation, c.device.backing.fileName, c.device.controllerKey, c.device.unitNumber,
             c.device.backing.uuid) for c in vm_args["spec"].deviceChange] == [
        (ADD, None, APP0, 1000, 0, "6000C29-a0"), (ADD, None, APP1, 1000, 1, "6000C29-a1")]
    assert outcome["tasks"] == ["detach disks from mt-lin01", "attach 2 disk(s) to app01", "power on app01"]
    assert outcome["vms"][0]["disks_returned"] == 2 and outcome["vms"][0]["changed"] is True
    assert world.disk_files("app01") == [APP0, APP1] and world.disk_files("mt-lin01") == [MT_OS]
    assert_nothing_destroyed(world, files)


def test_a_disk_already_on_the_vm_is_not_counted_as_returned():
    world = disks_on_master_target(on_vm=(APP0,))
    outcome = ensure(world, [{"name": "app01", "master_target": "mt-lin01"}])
    assert outcome["vms"][0]["disks_returned"] == 1


def test_a_running_vm_gets_its_disks_back_without_a_power_on(monkeypatch):
    monkeypatch.setattr(onprem, "time", SimpleNamespace(monotonic=iter([100.0, 104.25]).__next__))
    world = disks_on_master_target(power=POWERED_ON)
    outcome = ensure(world, [{"name": "app01", "master_target": "mt-lin01"}])
    assert outcome["tasks"] == ["detach disks from mt-lin01", "attach 2 disk(s) to app01"]
    assert outcome["power_on_seconds"] is None
    assert outcome["vms"][0] == entry(disks_returned=2, changed=True, host="esx01", power_state="poweredOn",
                                      tools_running_status="guestToolsNotRunning", tools_status=None)


def test_a_vm_with_all_its_disks_and_running_changes_nothing():
    world = disks_on_master_target(power=POWERED_ON, on_vm=(APP0, APP1))
    outcome = ensure(world, [{"name": "app01", "master_target": "mt-lin01"}])
    assert changing_calls(world) == [] and outcome["changed"] is False
    assert outcome["vms"][0]["disks_returned"] == 0


@pytest.mark.parametrize("want", [{"name": "app01"}, {"name": "app01", "pins_from": "mt-win01"}])
def test_disks_are_returned_only_from_the_master_target_of_the_item_or_the_one_given(want):
    # without either, app01's VMDKs stay on mt-lin01: refused by name, and app01 is not powered on with no disk
    world = disks_on_master_target()
    found = refusals(world, [want])
    assert len(found) == 2 and all("is attached to VM mt-lin01" in f for f in found), found


@pytest.mark.parametrize("want", [{"name": "app01", "master_target": "mt-lin01", "location": "alternate"},
                                  {"name": "app01", "pins_from": "mt-lin01"}])
def test_an_existing_vm_gets_its_vmdks_off_the_master_target_of_its_item_or_the_one_given(want):
    # issue 15: the VMDKs named after the VM in its directory come off that master target in name order
    world = disks_on_master_target()
    files = set(world.files)
    outcome = ensure(world, [want])
    assert slots(world, "app01") == [(0, 0, APP0), (0, 1, APP1)]
    assert world.disk_files("mt-lin01") == [MT_OS]
    assert outcome["vms"][0]["disks_returned"] == 2 and outcome["vms"][0]["disks_attached"] == []
    assert_nothing_destroyed(world, files)


def test_a_vm_with_no_disk_and_none_to_attach_is_not_powered_on():
    # new-user try of issue 14: a VM of the name with no disk (a stale copy, or one whose VMDKs are elsewhere) was
    # powered on with nothing to boot, and the step reported success
    world = site()
    add_app(world, "ghost01", devices=[lsi_logic(1000, 0)])
    assert refusals(world, [{"name": "ghost01"}]) == [
        "VM ghost01 has no disk, and none of its VMDKs was found to attach (on a master target, or attached to no VM "
        "in its directory): powering it on would boot nothing. Check that it is the VM Site Recovery fails back (a "
        "classic item records no instance UUID, so the VM is found by its name) and where its VMDKs are, then re-run."]


def test_an_unknown_master_target_is_a_refusal():
    world = disks_on_master_target()
    assert refusals(world, [{"name": "app01", "master_target": "mt-gone"}]) == [
        "Master target 'mt-gone' was not found by MOID, instance UUID or name."]


def test_a_master_target_on_a_disconnected_host_is_a_refusal_listed_with_the_others():
    world = disks_on_master_target()
    add_host(world, "esx02", 65536, state=HOST_STATE.disconnected)
    vm(world, "mt-lin01")["runtime.host"] = host(world, "esx02")["obj"]
    add_app(world, "app02", memory_mb=8192)
    assert refusals(world, [{"name": "app01", "master_target": "mt-lin01"}, {"name": "app02"}]) == [
        "VM app02 needs 8192 MB but ESXi host esx01 has 0 MB free. " + ERROR_8038,
        "Master target mt-lin01: its ESXi host esx02 is disconnected; disks cannot be detached or attached until "
        "the host (and vCenter) is connected. Reconnect it and re-run."]


# -- VMware Tools ----------------------------------------------------------------------------------

def test_tools_are_waited_for_one_read_per_poll_until_they_run():
    world = site()
    add_app(world, power=POWERED_ON)
    world.tools["app01"] = [TOOLS_NOT_RUNNING, TOOLS_NOT_RUNNING, TOOLS_RUNNING]
    clock = FakeClock()
    statuses = onprem.wait_for_tools(world, Inventory(world), ["app01"], deadline(300, clock))
    assert statuses == {"app01": {"tools_running_status": "guestToolsRunning", "tools_status": None}}
    assert clock.sleeps == [1.0, 1.0]


def test_the_tools_wait_ends_at_its_deadline():
    world = site()
    add_app(world, power=POWERED_ON)
    world.tools["app01"] = [TOOLS_NOT_RUNNING]
    clock = FakeClock()
    statuses = onprem.wait_for_tools(world, Inventory(world), ["app01"], deadline(3, clock), poll=1.0)
    assert statuses == {"app01": {"tools_running_status": "guestToolsNotRunning", "tools_status": None}}
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_the_tools_wait_reads_nothing_for_vms_that_do_not_exist():
    world = site()
    inventory = Inventory(world)
    reads = world.stats["property_reads"]
    assert onprem.wait_for_tools(world, inventory, ["gone"], deadline()) == {}
    assert world.stats["property_reads"] == reads


def test_vms_whose_tools_do_not_run_fail_the_run_after_power_on():
    world = site()
    add_app(world)
    vm(world, "app01")["boots_tools"] = False
    clock = FakeClock()
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}], tools_deadline=deadline(3, clock))
    assert info.value.msg == ("VMware Tools are not running in app01 after 3 s: the VM is on but its guest has not "
                              "come up. Check the console; do not commit the failback until it runs.")
    assert info.value.details["not_running"] == ["app01"]
    assert info.value.details["tasks"] == ["power on app01"]
    assert info.value.details["vms"] == [entry(powered_on=True, changed=True, host="esx01", power_state="poweredOn",
                                               tools_running_status="guestToolsNotRunning",
                                               tools_status="toolsNotRunning")]


def test_tools_that_come_up_during_the_wait_are_reported_running():
    world = site()
    add_app(world)
    vm(world, "app01")["boots_tools"] = False  # not running yet when the VM is read after power on
    world.tools["app01"] = [TOOLS_NOT_RUNNING, TOOLS_RUNNING]
    clock = FakeClock()
    outcome = ensure(world, [{"name": "app01"}], tools_deadline=deadline(300, clock))
    assert outcome["vms"][0]["tools_running_status"] == "guestToolsRunning"
    assert clock.sleeps == [1.0]


def test_without_a_tools_deadline_tools_are_not_waited_for():
    world = site()
    add_app(world)
    vm(world, "app01")["boots_tools"] = False
    outcome = ensure(world, [{"name": "app01"}])
    assert outcome["vms"][0]["tools_running_status"] == "guestToolsNotRunning"
    assert [paths for _type, paths in world.reads if "guest.toolsRunningStatus" in paths and _type is None] == []


def test_check_mode_does_not_wait_for_tools():
    world = site()
    add_app(world)
    outcome = ensure(world, [{"name": "app01"}], check_mode=True, tools_deadline=deadline(3))
    assert changes(world) == [] and outcome["vms"][0]["tools_running_status"] == "guestToolsNotRunning"
    # no wait for Tools: the only object read is the read-only search's task
    assert [paths for _type, paths in world.reads if _type is None and "info.state" not in paths] == []


# -- the plan on its own -----------------------------------------------------------------------------

def test_an_empty_plan_has_no_change():
    assert onprem.Plan().changed() is False


@pytest.mark.parametrize("field", ["creates", "vmotions", "power_ons"])
def test_any_planned_action_makes_a_plan_changed(field):
    planned = onprem.Plan()
    getattr(planned, field).append("x")
    assert planned.changed() is True


def test_a_disk_plan_counts_only_when_it_changes_something():
    planned = onprem.Plan()
    planned.disk_plan = master_target.Plan()
    assert planned.changed() is False
    planned.disk_plan.vm_attach["vm-1"] = ("row", [])
    assert planned.changed() is True


# -- plan, validate, apply: every disk's slot, refusals before the first change ----------------------

def web02_disks(count):
    """web02's ``count`` VMDKs in disk order: web02.vmdk, web02_1.vmdk ... web02_<count-1>.vmdk."""
    return ["[vmfs-01] web02/web02.vmdk"] + ["[vmfs-01] web02/web02_%d.vmdk" % i for i in range(1, count)]


def many_disks_site(count):
    """mt-lin01 holds web02's ``count`` VMDKs on buses 0-3 (as many LSI Logic controllers as needed)."""
    slots = [(bus, unit) for bus in range(4) for unit in (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)][1:]
    controllers = [lsi_logic(1000 + bus, bus) for bus in range(1, 4)]
    disks = [flat_disk(4000 + i, 1000 + bus, unit, name, 1 + i, "6000C29-w%d" % i)
             for i, (name, (bus, unit)) in enumerate(zip(web02_disks(count), slots, strict=False))]
    return site(mt_devices=controllers + disks)


def test_a_vm_with_16_disks_is_created_with_two_scsi_controllers_and_every_disk():
    # issue 13: "tuple index out of range" after all 16 VMDKs were detached
    world = many_disks_site(16)
    files = set(world.files)
    outcome = ensure(world, [web02(networks=[])])
    (_name, args), = world.calls_of("CreateVM_Task")
    changes = args["config"].deviceChange
    assert [(type(c.device), c.device.key, c.device.busNumber) for c in changes[:2]] == [
        (DEV.VirtualLsiLogicController, -300, 0), (DEV.VirtualLsiLogicController, -290, 1)]
    units = (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)
    expected = [(name, -300, unit, None) for name, unit in zip(web02_disks(15), units, strict=True)]
    expected.append(("[vmfs-01] web02/web02_15.vmdk", -290, 0, None))
    assert [(c.device.backing.fileName, c.device.controllerKey, c.device.unitNumber, c.fileOperation)
            for c in changes[2:]] == expected
    assert world.disk_files("web02") == sorted(web02_disks(16))
    assert world.disk_files("mt-lin01") == [MT_OS]
    assert outcome["vms"][0]["disks_returned"] == 16
    assert world.files == files
    assert_nothing_destroyed(world, files)


def test_a_vm_with_60_disks_takes_four_controllers():
    world = site()
    world.files.update(web02_disks(60))  # on the datastore, attached to nothing
    ensure(world, [web02(networks=[])])
    (_name, args), = world.calls_of("CreateVM_Task")
    disks = [c.device for c in args["config"].deviceChange if isinstance(c.device, DEV.VirtualDisk)]
    assert [c.device.busNumber for c in args["config"].deviceChange[:4]] == [0, 1, 2, 3]
    assert (len(disks), disks[-1].controllerKey, disks[-1].unitNumber) == (60, -270, 15)


def test_a_vm_with_61_disks_is_refused_before_any_change():
    world = site()
    world.files.update(web02_disks(61))
    assert refusals(world, [web02(networks=[])]) == [
        "VM web02 has 61 disks; a VM takes at most 60 (4 SCSI controllers x 15 disks, unit 7 is the controller's). "
        "Fail it back with fewer disks."]


def test_a_datastore_the_master_targets_host_does_not_mount_is_refused():
    world = alternate_site()
    world.add_datastore("vmfs-09", FS.VMFS)
    assert refusals(world, [web02(datastore="vmfs-09")])[0] == (
        "VM web02: no disk under [vmfs-09] web02/ is attached to master target mt-lin01 or left on datastore vmfs-09; "
        "the VM would boot without its data. Reprotect it first (or attach its disks with master_target_disks).")
    assert "VM web02: datastore vmfs-09 is not mounted on ESXi host esx01, where the VM is created (the master " \
           "target's host) (ASR error 8061; it mounts vmfs-01, vmfs-02). Choose a master target (or replication " \
           "appliance) whose host mounts it, or mount it there." in refusals(world, [web02(datastore="vmfs-09")])


def test_an_nfs_datastore_is_refused_for_the_new_vm():
    world = alternate_site()
    world.add_datastore("nfs-01", FS.NFS)
    host(world, "esx01")["datastore"].append(next(d for d in world.datastores.values() if d["name"] == "nfs-01")["obj"])
    world.files.add("[nfs-01] web02/web02.vmdk")
    assert refusals(world, [web02(datastore="nfs-01")]) == [
        "VM web02: datastore nfs-01 is NFS; failback writes disks only to VMFS or vSAN datastores. Choose a VMFS or "
        "vSAN datastore."]


def test_a_vmdk_of_the_vm_attached_to_another_vm_is_refused():
    world = alternate_site()
    world.add_vm("web02-old", host(world, "esx01"), [lsi_logic(1000, 0), flat_disk(2000, 1000, 0,
                                                                                   "[vmfs-01] web02/web02_2.vmdk")])
    assert refusals(world, [web02()]) == [
        "VM web02: its VMDK [vmfs-01] web02/web02_2.vmdk is attached to VM web02-old, not to master target mt-lin01. "
        "Detach it from web02-old (without deleting it) and re-run."]


def test_two_vms_of_the_name_are_refused_rather_than_a_third_created():
    world = alternate_site()
    add_app(world, "web02")
    add_app(world, "web02")
    assert refusals(world, [web02()]) == [
        "VM web02: 2 VMs have that name and Site Recovery records no instance UUID for a classic (InMage/InMageAzureV2) "
        "VM, so the VM it fails back cannot be told from the others: vm-10 (folder dc1/vm, [vmfs-01] web02/web02.vmx, "
        "instance UUID 50030000-0000-0000-0000-000000000010, host esx01, poweredOff); vm-11 (folder dc1/vm, [vmfs-01] "
        "web02/web02.vmx, instance UUID 50030000-0000-0000-0000-000000000011, host esx01, poweredOff). Nothing was "
        "changed. Rename or remove the stale copy (keep the VM Site Recovery protects), or give the instance UUID of "
        "the right one as instance_uuid, and re-run."]
    # the instance UUID picks vm-11 (an existing VM: no third one is created); the name is no longer refused, and
    # vm-11 gets web02's VMDKs off the master target given (issue 15: domain.replica_holder)
    picked = ensure(world, [web02(instance_uuid="50030000-0000-0000-0000-000000000011")], check_mode=True)
    assert picked["vms"][0]["created"] is False and picked["vms"][0]["disks_returned"] == 2, picked
    assert changing_calls(world) == []


def test_two_vms_created_from_one_master_target_are_detached_in_one_reconfigure():
    world = alternate_site(esx01_free_mb=8192)
    world.vms[vm(world, "mt-lin01")["moid"]]["config.hardware.device"].append(
        flat_disk(2010, 1000, 10, "[vmfs-01] web05/web05.vmdk", 10))
    world.files.add("[vmfs-01] web05/web05.vmdk")
    outcome = ensure(world, [web02(), web02(name="web05")])
    assert [target for target, _args in world.calls_of("ReconfigVM_Task")] == ["mt-lin01"]
    assert outcome["tasks"][:3] == ["detach web02's and web05's disks from mt-lin01", "create web02 on esx01",
                                    "create web05 on esx01"]
    assert world.disk_files("web05") == ["[vmfs-01] web05/web05.vmdk"]


# -- a failure after the first change is repaired by the same call -----------------------------------

def end_state(world, name):
    """Where every VMDK is, read from the fake vCenter itself: {vm name: [files]} for VMs with disks."""
    return {row["name"]: world.disk_files(row["name"]) for row in world.vms.values() if world.disk_files(row["name"])}


@pytest.mark.parametrize("fail_at", [1, 2, 3])  # 1 detach from mt-lin01, 2 create web02, 3 power on web02
def test_alternate_location_a_fault_at_each_change_is_repaired_by_a_rerun(fail_at):
    world = alternate_site()
    files = set(world.files)
    world.fail_change = fail_at
    with pytest.raises(VSphereError) as info:
        ensure(world, [web02()])
    assert "injected fault at change %d" % fail_at in info.value.msg
    if fail_at == 2:
        assert "a re-run creates the VM with them" in info.value.msg
        assert WEB0 not in world.disk_files("mt-lin01") and vm_names(world).count("web02") == 0
    world.fail_change = None
    outcome = ensure(world, [web02()])
    assert outcome["changed"] is True
    assert vm_names(world).count("web02") == 1
    assert end_state(world, "web02") == {"mt-lin01": [MT_OS, "[vmfs-01] web021/web021.vmdk",
                                                      "[vmfs-02] web02/web02.vmdk"], "web02": [WEB0, WEB1]}
    assert str(vm(world, "web02")["runtime.powerState"]) == "poweredOn"
    assert world.files == files  # no VMDK created or lost
    assert_nothing_destroyed(world, files)
    for _name, args in world.calls_of("CreateVM_Task"):
        assert all(c.fileOperation is None for c in args["config"].deviceChange)
    again = ensure(world, [web02()])
    assert again["changed"] is False


def test_alternate_location_rerun_after_a_failed_creation_of_16_disks_creates_the_vm_with_all_16():
    world = many_disks_site(16)
    files = set(world.files)
    world.faults[("CreateVM_Task", "web02")] = vim.fault.InvalidDeviceSpec(msg="invalid spec", deviceIndex=3)
    with pytest.raises(VSphereError):
        ensure(world, [web02(networks=[])])
    assert world.disk_files("mt-lin01") == [MT_OS]  # detached, attached to nothing
    del world.faults[("CreateVM_Task", "web02")]
    outcome = ensure(world, [web02(networks=[])])
    assert outcome["vms"][0]["disks_returned"] == 16
    assert world.disk_files("web02") == sorted(web02_disks(16))
    _first, (_name, args) = world.calls_of("CreateVM_Task")
    disks = [c.device for c in args["config"].deviceChange if isinstance(c.device, DEV.VirtualDisk)]
    assert [d.backing.fileName for d in disks] == web02_disks(16)  # disk order kept (web02_10 after web02_9)
    assert world.files == files


def vm_names(world):
    return [row["name"] for row in world.vms.values()]


@pytest.mark.parametrize("manifest", [True, False])
@pytest.mark.parametrize("fail_at", [1, 2, 3])  # 1 detach from mt-lin01, 2 attach to app01, 3 power on app01
def test_original_location_a_fault_at_each_change_is_repaired_by_a_rerun(fail_at, manifest):
    world = disks_on_master_target()
    if not manifest:  # ASR moved the disks: app01 carries no record of them, its directory finds them
        vm(world, "app01")["config.extraConfig"] = []
    files = set(world.files)
    world.fail_change = fail_at
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01", "master_target": "mt-lin01"}])
    assert "injected fault at change %d" % fail_at in info.value.msg
    world.fail_change = None
    ensure(world, [{"name": "app01", "master_target": "mt-lin01"}])
    assert end_state(world, "app01") == {"mt-lin01": [MT_OS], "app01": [APP0, APP1]}
    assert str(vm(world, "app01")["runtime.powerState"]) == "poweredOn"
    assert world.files == files
    assert_nothing_destroyed(world, files)
    assert ensure(world, [{"name": "app01", "master_target": "mt-lin01"}])["changed"] is False


# -- an existing VM with fewer disks than it should: its own VMDKs attached to no VM are attached again -------------
# (issue 13: a failover job or a run stopped between detaching a VM's VMDKs and attaching them to it)

APP2 = "[vmfs-01] app01/app01_2.vmdk"


def loose(world, *files):
    """VMDKs on the datastore, attached to no VM."""
    world.files.update(files)


def slots(world, name):
    """The VM's disks in disk order, read from the fake vCenter: [(bus, unit, file)]."""
    devices = world.devices(name)
    buses = {d.key: d.busNumber for d in devices if isinstance(d, DEV.VirtualSCSIController)}
    return sorted((buses.get(d.controllerKey), d.unitNumber, d.backing.fileName) for d in devices
                  if isinstance(d, DEV.VirtualDisk))


def disk_changes(spec):
    """(operation, file operation, file, controller key, unit, backing uuid, capacity in KB) of each disk change."""
    return [(c.operation, c.fileOperation, c.device.backing.fileName, c.device.controllerKey, c.device.unitNumber,
             c.device.backing.uuid, c.device.capacityInKB) for c in spec.deviceChange
            if isinstance(c.device, DEV.VirtualDisk)]


def test_an_existing_vm_gets_its_own_vmdks_attached_to_nothing_back_in_disk_order_then_starts():
    # the new-user review of issue 13: the VM existed with one of its disks; it used to be started (later: refused)
    world = site()
    add_app(world)  # app01.vmdk on SCSI 0:0
    loose(world, APP1, APP2)
    files = set(world.files)
    outcome = ensure(world, [{"name": "app01"}])
    (target, args), = world.calls_of("ReconfigVM_Task")
    assert target == "app01"
    # attached as they are: no file operation, no uuid nor capacity of our own (vSphere reads both from the VMDK)
    assert disk_changes(args["spec"]) == [(ADD, None, APP1, 1000, 1, None, 0), (ADD, None, APP2, 1000, 2, None, 0)]
    assert timeline(world) == [*SEARCHED, "ReconfigVM_Task app01", "wait 1", "PowerOnVM_Task app01", "wait 1"]
    assert outcome["tasks"] == ["attach 2 disk(s) to app01", "power on app01"]
    assert outcome["vms"] == [entry(disks_attached=[APP1, APP2], powered_on=True, changed=True, host="esx01",
                                    power_state="poweredOn", tools_running_status="guestToolsRunning",
                                    tools_status="toolsOk")]
    assert slots(world, "app01") == [(0, 0, APP0), (0, 1, APP1), (0, 2, APP2)]
    assert outcome["diff"] == {"before": {"app01": {"scsi0:0": APP0}},
                               "after": {"app01": {"scsi0:0": APP0, "scsi0:1": APP1, "scsi0:2": APP2}}}
    assert world.files == files
    assert_nothing_destroyed(world, files)
    again = ensure(world, [{"name": "app01"}])
    assert again["changed"] is False and again["tasks"] == []


def test_the_vmdks_follow_their_names_in_natural_order_not_the_searchs():
    world = site()
    add_app(world, power=POWERED_ON)
    names = ["[vmfs-01] app01/app01_%d.vmdk" % i for i in (10, 2, 1, 11)]
    loose(world, *names)
    ensure(world, [{"name": "app01"}])
    assert [f for _bus, _unit, f in slots(world, "app01")] == [APP0] + [
        "[vmfs-01] app01/app01_%d.vmdk" % i for i in (1, 2, 10, 11)]
    assert [u for _bus, u, _f in slots(world, "app01")] == [0, 1, 2, 3, 4]


def test_a_running_vm_whose_disks_stay_in_order_gets_them_hot_added_and_is_not_restarted():
    world = site(esx01_free_mb=0)
    add_app(world, power=POWERED_ON)
    loose(world, APP1)
    outcome = ensure(world, [{"name": "app01"}])
    assert timeline(world) == [*SEARCHED, "ReconfigVM_Task app01", "wait 1"]
    assert outcome["tasks"] == ["attach 1 disk(s) to app01"]
    assert outcome["vms"][0]["powered_off"] is False and outcome["vms"][0]["powered_on"] is False


def test_a_loose_vmdk_takes_the_first_free_slot_between_its_attached_neighbours():
    world = site()
    add_app(world, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40), flat_disk(2001, 1000, 5, APP2, 20)])
    loose(world, APP1)
    ensure(world, [{"name": "app01"}])
    assert slots(world, "app01") == [(0, 0, APP0), (0, 1, APP1), (0, 5, APP2)]
    assert world.calls_of("PowerOffVM_Task") == []


def test_a_loose_vmdk_with_no_slot_between_its_neighbours_moves_the_later_disk_of_a_vm_that_is_off():
    world = site()
    add_app(world, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40),
                            flat_disk(2001, 1000, 1, APP2, 20, "6000C29-a2")])
    loose(world, APP1)
    files = set(world.files)
    ensure(world, [{"name": "app01"}])
    (_target, args), = world.calls_of("ReconfigVM_Task")
    assert [(c.operation, c.fileOperation, c.device.key) for c in args["spec"].deviceChange
            if c.operation == REMOVE] == [(REMOVE, None, 2001)]
    assert disk_changes(args["spec"])[1:] == [(ADD, None, APP2, 1000, 2, "6000C29-a2", 20 * GB_IN_KB),
                                              (ADD, None, APP1, 1000, 1, None, 0)]
    assert slots(world, "app01") == [(0, 0, APP0), (0, 1, APP1), (0, 2, APP2)]
    assert world.calls_of("PowerOffVM_Task") == []  # it was off
    assert_nothing_destroyed(world, files)


def partway_alternate(power=POWERED_ON, esx01_free_mb=4096):
    """web02 as a failover that stopped after moving one of its two disks leaves it, re-run: created from what was
    left on the master target (web02_1.vmdk, on SCSI 0:0), started; web02.vmdk (its first disk) on the datastore,
    attached to no VM."""
    world = site(esx01_free_mb=esx01_free_mb)
    add_app(world, "web02", power=power, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, WEB1, 80, "6000C29-w1")])
    loose(world, WEB0)
    return world


def test_a_vm_created_from_part_of_its_disks_is_powered_off_to_get_its_first_disk_back_in_front():
    # issue 13: an alternate-location failover job stopped after moving one of web02's two disks
    world = partway_alternate()
    files = set(world.files)
    outcome = ensure(world, [{"name": "web02"}])
    assert timeline(world) == [*SEARCHED, "PowerOffVM_Task web02", "wait 1", "ReconfigVM_Task web02", "wait 1",
                               "PowerOnVM_Task web02", "wait 1"]
    (_target, args), = world.calls_of("ReconfigVM_Task")
    assert [(c.operation, c.fileOperation, c.device.key) for c in args["spec"].deviceChange
            if c.operation == REMOVE] == [(REMOVE, None, 2000)]
    # web02_1.vmdk off SCSI 0:0 and on again at 0:1 (its own uuid and capacity); web02.vmdk as it is at 0:0
    assert disk_changes(args["spec"])[1:] == [(ADD, None, WEB1, 1000, 1, "6000C29-w1", 80 * GB_IN_KB),
                                              (ADD, None, WEB0, 1000, 0, None, 0)]
    assert slots(world, "web02") == [(0, 0, WEB0), (0, 1, WEB1)]
    assert outcome["tasks"] == ["power off web02 to attach its disks in order",
                                "attach 1 disk(s) to web02 (moving 1 to keep disk order)", "power on web02"]
    assert outcome["vms"][0] | {"name": "app01"} == entry(
        disks_attached=[WEB0], powered_off=True, powered_on=True, changed=True, host="esx01", power_state="poweredOn",
        tools_running_status="guestToolsRunning", tools_status="toolsOk")
    assert outcome["diff"] == {"before": {"web02": {"scsi0:0": WEB1}},
                               "after": {"web02": {"scsi0:0": WEB0, "scsi0:1": WEB1}}}
    assert world.files == files
    assert_nothing_destroyed(world, files)
    assert ensure(world, [{"name": "web02"}])["changed"] is False


def manifest_of(spec_or_config):
    """The failback manifest a ConfigSpec writes: ``[(file, uuid)]``, or None when it writes none."""
    options = {o.key: o.value for o in spec_or_config.extraConfig or []}
    if "siterecovery.failback.disks" not in options:
        return None
    return [(e["file"], e["uuid"]) for e in json.loads(options["siterecovery.failback.disks"])]


def test_taking_the_vmdks_off_the_master_target_pins_their_uuids_there_in_the_same_reconfigure():
    world = alternate_site()
    pin(world, "mt-lin01", ("[vmfs-01] gone01/gone01.vmdk", "6000C29-g0"), (MT_OS, "6000C29-stale"))
    ensure(world, [web02()])
    (_mt, args), = world.calls_of("ReconfigVM_Task")
    pinned = json.loads({o.key: o.value for o in args["spec"].extraConfig}["siterecovery.failback.pinned"])
    # web02's two VMDKs with the UUIDs they had on mt-lin01; an earlier entry still attached to no VM is kept, one
    # attached to a VM (mt-lin01's own disk) is dropped
    assert sorted((e["file"], e["uuid"]) for e in pinned) == [
        ("[vmfs-01] gone01/gone01.vmdk", "6000C29-g0"), (WEB0, "6000C29-w0"), (WEB1, "6000C29-w1")]


def test_a_creation_stopped_after_the_detach_is_recorded_on_rerun_with_the_pinned_uuids():
    world = alternate_site()
    world.fail_change = 2  # the detach (change 1) succeeds, the creation (change 2) fails
    with pytest.raises(VSphereError):
        ensure(world, [web02(pins_from="mt-lin01")])
    assert world.disk_files("mt-lin01") == [MT_OS, "[vmfs-01] web021/web021.vmdk", "[vmfs-02] web02/web02.vmdk"]
    ensure(world, [web02(pins_from="mt-lin01")])
    (_name, args), = world.calls_of("CreateVM_Task")[-1:]
    assert manifest_of(args["config"]) == [(WEB0, "6000C29-w0"), (WEB1, "6000C29-w1")]


def test_a_vm_created_from_a_vmdk_nothing_pinned_carries_no_manifest():
    world = alternate_site()
    vm(world, "mt-lin01")["config.hardware.device"] = [
        d for d in vm(world, "mt-lin01")["config.hardware.device"]
        if not (isinstance(d, DEV.VirtualDisk) and d.backing.fileName == WEB0)]
    loose(world, WEB0)
    outcome = ensure(world, [web02()])
    (_name, args), = world.calls_of("CreateVM_Task")
    assert manifest_of(args["config"]) is None
    assert outcome["vms"][0]["disks_recorded"] is False
    assert "no run pinned" in outcome["vms"][0]["warnings"][0]


def test_a_created_vm_carries_the_failback_manifest_of_the_vmdks_it_was_created_from():
    # the commit gate trusts this record over a disk's name (rule protected_disks_recorded, issue 13)
    world = alternate_site()
    ensure(world, [web02()])
    (_name, args), = world.calls_of("CreateVM_Task")
    assert manifest_of(args["config"]) == [(WEB0, "6000C29-w0"), (WEB1, "6000C29-w1")]
    # with the new VM's slots, not the ones the VMDKs had on the master target (new-user re-try of issue 14)
    recorded = json.loads({o.key: o.value for o in args["config"].extraConfig}["siterecovery.failback.disks"])
    assert [(e["bus"], e["unit"]) for e in recorded] == [(0, 0), (0, 1)]


def test_record_disks_writes_the_failback_manifest_of_the_disks_attached_once():
    # the failover module asks for it for a classic VM whose failover it has just run (domain.commit_gate)
    world = site()
    add_app(world, power=POWERED_ON, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40, "6000C29-a0"),
                                              flat_disk(2001, 1000, 1, APP1, 80, "6000C29-a1")])
    files = set(world.files)
    planned = ensure(world, [{"name": "app01", "record_disks": True}], check_mode=True)
    assert changes(world) == [] and planned["changed"] is True and planned["vms"][0]["disks_recorded"] is True
    outcome = ensure(world, [{"name": "app01", "record_disks": True}])
    (_target, args), = world.calls_of("ReconfigVM_Task")
    assert args["spec"].deviceChange in (None, [])  # no device change, no file operation
    assert manifest_of(args["spec"]) == [(APP0, "6000C29-a0"), (APP1, "6000C29-a1")]
    assert outcome["vms"][0] == entry(disks_recorded=True, changed=True, host="esx01", power_state="poweredOn",
                                      tools_running_status="guestToolsNotRunning", tools_status=None)
    assert outcome["tasks"] == ["record the 2 disk(s) of app01 in its failback manifest"]
    assert_nothing_destroyed(world, files)
    # recorded once: a VM that carries a manifest keeps it (it was written before anything could stand in)
    again = ensure(world, [{"name": "app01", "record_disks": True}])
    assert again["changed"] is False and len(world.calls_of("ReconfigVM_Task")) == 1


def test_the_failover_records_the_disks_of_each_vm_without_a_manifest():
    world = site()
    add_app(world, power=POWERED_ON, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40, "6000C29-a0")])
    add_app(world, "web01", extra=[vim.option.OptionValue(key="siterecovery.failback.disks",
                                                          value=json.dumps([{"file": "[vmfs-01] web01/web01.vmdk"}]))])
    outcome = onprem.record_disks(world, [{"name": "app01"}, {"name": "web01"}, {"name": "ghost"}], deadline())
    assert outcome == {"app01": None, "web01": None,
                       "ghost": "VM ghost was not found (or not told apart from another of its name)"}
    (target, args), = world.calls_of("ReconfigVM_Task")  # web01 keeps the manifest it has
    assert target == "app01" and manifest_of(args["spec"]) == [(APP0, "6000C29-a0")]
    assert args["spec"].deviceChange in (None, [])


def pin(world, holder, *disks):
    """What a run that took VMDKs off ``holder`` (a master target) pinned there: ``disks`` as (file, uuid)."""
    vm(world, holder)["config.extraConfig"] = [*vm(world, holder)["config.extraConfig"], vim.option.OptionValue(
        key="siterecovery.failback.pinned", value=json.dumps([{"file": f, "uuid": u, "size_gb": 40} for f, u in disks]))]


@pytest.mark.parametrize("recorded", [True, False])
def test_a_repair_adds_the_vmdks_it_attaches_to_a_manifest_with_their_pinned_uuids_and_never_starts_one(recorded):
    world = partway_alternate()
    pin(world, "mt-lin01", (WEB0, "6000C29-w0"))
    if recorded:
        vm(world, "web02")["config.extraConfig"] = [vim.option.OptionValue(
            key="siterecovery.failback.disks", value=json.dumps([{"file": WEB1, "uuid": "6000C29-w1"}]))]
    ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}])
    (_target, args), = world.calls_of("ReconfigVM_Task")
    # a record written after the failover would prove nothing, so a VM without one is not given one
    assert manifest_of(args["spec"]) == ([(WEB1, "6000C29-w1"), (WEB0, "6000C29-w0")] if recorded else None)
    # attached as it is: the pinned UUID goes to the record, never into the backing (vSphere reads the VMDK's)
    assert [c[5] for c in disk_changes(args["spec"]) if c[2] == WEB0] == [None]
    if recorded:  # the VMDK attached now is recorded at the slot it takes
        entries = json.loads({o.key: o.value for o in args["spec"].extraConfig}["siterecovery.failback.disks"])
        assert (entries[1]["bus"], entries[1]["unit"]) == (0, 0)


def test_a_repair_never_records_a_vmdk_nothing_pinned():
    # issue 13 re-try: a VMDK found attached to no VM was recorded by its path; a blank file at that path passed
    world = partway_alternate()
    vm(world, "web02")["config.extraConfig"] = [vim.option.OptionValue(
        key="siterecovery.failback.disks", value=json.dumps([{"file": WEB1, "uuid": "6000C29-w1"}]))]
    outcome = ensure(world, [{"name": "web02"}])
    (_target, args), = world.calls_of("ReconfigVM_Task")
    assert manifest_of(args["spec"]) is None  # the record stays as it was
    assert slots(world, "web02") == [(0, 0, WEB0), (0, 1, WEB1)]  # attached all the same
    (warning,) = outcome["vms"][0]["warnings"]
    assert warning.startswith("VM web02: its VMDK(s) %s were found attached to no VM, and no run pinned" % WEB0)
    assert "protected_disk_files" in warning


def test_a_running_vm_created_before_its_vmdks_were_back_is_restarted_to_boot_from_its_first_disk():
    # new-user try of issue 14: ASR created web02 with no disk (its failover had left both VMDKs attached to no VM)
    # and started it; the VMDKs were hot-added to the running guest, which had booted with no disk at all
    world = site()
    add_app(world, "web02", power=POWERED_ON, devices=[lsi_logic(1000, 0)])
    loose(world, WEB0, WEB1)
    outcome = ensure(world, [{"name": "web02", "record_disks": True}])
    assert timeline(world)[:len(SEARCHED) + 2] == [*SEARCHED, "PowerOffVM_Task web02", "wait 1"]
    assert "PowerOnVM_Task web02" in timeline(world)[-2:]
    assert slots(world, "web02") == [(0, 0, WEB0), (0, 1, WEB1)]
    # nothing pinned their UUIDs when they left a master target: not recorded (the commit asks the operator)
    assert [c for c in world.calls_of("ReconfigVM_Task") if c[1]["spec"].extraConfig] == []
    assert outcome["vms"][0]["disks_recorded"] is False and "no run pinned" in outcome["vms"][0]["warnings"][0]
    assert outcome["vms"][0]["powered_off"] is True and outcome["vms"][0]["powered_on"] is True


def test_vmdks_a_run_pinned_are_recorded_with_the_pinned_uuids_not_those_of_the_files_found():
    world = site()
    add_app(world, "web02", power=POWERED_OFF, devices=[lsi_logic(1000, 0)])
    loose(world, WEB0, WEB1)
    pin(world, "mt-lin01", (WEB0, "6000C29-w0"), (WEB1, "6000C29-w1"))
    add_app(world, "mt-copy", power=POWERED_OFF)  # a VM copied from the master target: its pin does not count
    pin(world, "mt-copy", (WEB0, "6000C29-stale"))
    outcome = ensure(world, [{"name": "web02", "record_disks": True, "pins_from": "mt-lin01"}])
    (_target, record), = [c for c in world.calls_of("ReconfigVM_Task") if c[1]["spec"].extraConfig]
    assert manifest_of(record["spec"]) == [(WEB0, "6000C29-w0"), (WEB1, "6000C29-w1")]
    assert outcome["vms"][0]["disks_recorded"] is True


def test_the_failover_leaves_a_vm_with_no_disk_yet_to_onprem_vm():
    world = site()
    add_app(world, "web02", power=POWERED_ON, devices=[lsi_logic(1000, 0)])
    assert onprem.record_disks(world, [{"name": "web02"}], deadline()) == {
        "web02": "VM web02 has no disk attached yet (its VMDKs are left attached to no VM)"}
    assert world.calls_of("ReconfigVM_Task") == []


def test_a_vm_would_not_be_created_without_a_network_adapter_unless_asked():
    world = alternate_site()
    found = refusals(world, [web02(networks=None)])
    assert found == ["VM web02 would be created without a network adapter: ASR reports nothing about the source's "
                     "NICs (a classic item never does), and no networks were given. Give networks: [port group, ...] "
                     "for its adapters, in order (networks: [] for a VM without one)."]


def test_check_mode_reports_the_repair_and_changes_nothing():
    world = partway_alternate()
    outcome = ensure(world, [{"name": "web02"}], check_mode=True, tools_deadline=deadline(300))
    assert changes(world) == []
    assert outcome["changed"] is True and outcome["tasks"] == []
    vm_entry = outcome["vms"][0]
    assert (vm_entry["disks_attached"], vm_entry["powered_off"], vm_entry["powered_on"]) == ([WEB0], True, True)
    assert outcome["diff"] == {"before": {"web02": {"scsi0:0": WEB1}},
                               "after": {"web02": {"scsi0:0": WEB0, "scsi0:1": WEB1}}}
    assert slots(world, "web02") == [(0, 0, WEB1)]


@pytest.mark.parametrize("fail_at", [1, 2, 3])  # 1 power off web02, 2 attach to web02, 3 power on web02
def test_a_fault_at_each_change_of_the_repair_is_repaired_by_a_rerun(fail_at):
    world = partway_alternate()
    files = set(world.files)
    world.fail_change = fail_at
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "web02"}])
    assert "injected fault at change %d" % fail_at in info.value.msg
    world.fail_change = None
    ensure(world, [{"name": "web02"}])
    assert slots(world, "web02") == [(0, 0, WEB0), (0, 1, WEB1)]
    assert str(vm(world, "web02")["runtime.powerState"]) == "poweredOn"
    attached = [f for row in world.vms.values() for f in world.disk_files(row["name"])]
    assert attached.count(WEB0) == 1 and attached.count(WEB1) == 1  # none lost, none attached twice
    assert world.files == files
    assert_nothing_destroyed(world, files)
    assert ensure(world, [{"name": "web02"}])["changed"] is False


def test_a_running_vm_powered_off_for_its_disks_frees_its_memory_for_the_power_on():
    world = partway_alternate(esx01_free_mb=0)  # web02's 4096 MB are among the host's used memory
    outcome = ensure(world, [{"name": "web02"}])
    assert outcome["vms"][0]["powered_on"] is True


def test_a_vmdk_of_the_vm_that_another_vm_holds_is_refused_by_name():
    world = site()
    add_app(world)
    loose(world, APP2)
    world.add_vm("app01-old", host(world, "esx01"), [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP1)])
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01: its VMDK %s is attached to VM app01-old. Site Recovery names no master target for its item, so "
        "nothing says app01-old holds its replica. If app01-old is the master target that holds Site Recovery's "
        "replica, give master_target: app01-old for app01 (onprem_vm then takes the VMDK off it); otherwise detach it "
        "from app01-old without deleting it and re-run." % APP1]
    # the item's master target is another one: app01-old's disk is never taken
    found = refusals(world, [{"name": "app01", "pins_from": "mt-lin01"}])
    assert found == ["VM app01: its VMDK %s is attached to VM app01-old. Site Recovery names master target mt-lin01 "
                     "for its item, and a VMDK of the VM is taken only off that one: app01-old is not it. If app01-old "
                     "holds it by mistake, detach it from app01-old without deleting it and re-run; if app01-old holds "
                     "Site Recovery's replica, give master_target: app01-old for app01." % APP1], found


def test_vmdks_not_named_after_the_vm_or_in_another_directory_are_left_alone():
    world = site()
    add_app(world, power=POWERED_ON)
    loose(world, "[vmfs-01] app01/app01-old.vmdk", "[vmfs-01] app01/other.vmdk", "[vmfs-02] app01/app01_1.vmdk",
          "[vmfs-01] app011/app011_1.vmdk")
    outcome = ensure(world, [{"name": "app01"}])
    assert outcome["changed"] is False and changes(world) == []


def test_a_vm_with_no_free_slot_for_its_vmdk_is_refused_before_any_change():
    world = site()
    devices = [lsi_logic(1000 + bus, bus) for bus in range(4)]
    devices += [flat_disk(2000 + i, 1000 + i // 15, (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)[i % 15],
                          APP0 if i == 0 else "[vmfs-01] app01/data%d.vmdk" % i) for i in range(60)]
    add_app(world, devices=devices)
    loose(world, APP1)
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01 would have 61 disks with its VMDK(s) %s; a VM takes at most 60 (4 SCSI controllers x 15 disks, "
        "unit 7 is the controller's). Free a SCSI slot on it and re-run." % APP1]


def test_a_vmdk_beyond_a_full_controller_gets_a_new_lsi_logic_controller_on_the_next_bus():
    world = site()
    names = [APP0] + ["[vmfs-01] app01/app01_%d.vmdk" % i for i in range(1, 16)]
    units = (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)
    add_app(world, devices=[lsi_logic(1000, 0)] + [flat_disk(2000 + i, 1000, u, n)
                                                   for i, (n, u) in enumerate(zip(names[:15], units, strict=True))])
    loose(world, names[15])
    ensure(world, [{"name": "app01"}])
    (_target, args), = world.calls_of("ReconfigVM_Task")
    controller, disk = args["spec"].deviceChange
    assert (type(controller.device), controller.device.busNumber, controller.operation) == (
        DEV.VirtualLsiLogicController, 1, ADD)
    assert (disk.device.controllerKey, disk.device.unitNumber, disk.fileOperation) == (controller.device.key, 0, None)
    assert slots(world, "app01")[-1] == (1, 0, names[15])


def test_a_repair_on_a_host_that_is_not_connected_is_refused():
    world = site()
    add_host(world, "esx09", 65536, state=HOST_STATE.disconnected)
    add_app(world, on="esx09", power=POWERED_ON)
    loose(world, APP1)
    assert refusals(world, [{"name": "app01"}]) == [
        "VM app01: its ESXi host esx09 is disconnected; disks cannot be detached or attached until the host (and "
        "vCenter) is connected. Reconnect it and re-run."]


def test_a_repair_that_would_create_a_vmdk_is_refused_before_it_is_sent(monkeypatch):
    world = partway_alternate(power=POWERED_OFF)
    real = diskops.attach_spec
    monkeypatch.setattr(diskops, "attach_spec", lambda disk, slot, key, create=False: real(disk, slot, key, create=True))
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "web02"}])
    assert info.value.msg == ("Internal safety check: attaching VM web02's VMDKs would create or destroy a VMDK; they "
                              "are attached as they are. Refused.")
    assert changes(world) == []


# -- issue 14: the new VM's firmware, guest OS, controllers and networks from what ASR reports --------------------

# what replicated_item_info returns as ``source`` for the recorded InMageRcm item (item_get.InMageRcm.*)
RCM_SOURCE = {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
              "os_name": "Microsoft Windows Server 2016 or later (64-bit)", "networks": ["VM Network"]}


def from_asr(**changes):
    """web02 created from ASR's facts alone: no firmware, guest_id, networks of its own."""
    return web02(**dict({"firmware": None, "guest_id": None, "networks": None, "source": dict(RCM_SOURCE)}, **changes))


def created_config(world):
    (_name, args), = world.calls_of("CreateVM_Task")
    return args["config"]


def test_a_uefi_source_is_created_efi_with_its_guest_os_and_an_lsi_logic_sas_controller():
    world = alternate_site()
    world.add_network("VM Network")
    ensure(world, [from_asr()])
    config = created_config(world)
    assert (config.firmware, config.guestId) == ("efi", "windows9Server64Guest")
    assert config.bootOptions is None  # secure boot: ASR does not report the source's, so it is left off
    controller, = [c.device for c in config.deviceChange if isinstance(c.device, DEV.VirtualSCSIController)]
    assert (type(controller), controller.busNumber) == (DEV.VirtualLsiLogicSASController, 0)
    nic, = [c.device for c in config.deviceChange if isinstance(c.device, DEV.VirtualVmxnet3)]
    assert nic.backing.deviceName == "VM Network"


def test_the_users_firmware_guest_id_and_scsi_type_win_over_asr():
    world = alternate_site()
    world.add_network("VM Network")
    ensure(world, [from_asr(firmware="bios", guest_id="windows2019srv_64Guest", scsi_type="pvscsi")])
    config = created_config(world)
    assert (config.firmware, config.guestId) == ("bios", "windows2019srv_64Guest")
    assert [type(c.device) for c in config.deviceChange if isinstance(c.device, DEV.VirtualSCSIController)] == [
        DEV.ParaVirtualSCSIController]


def test_sixteen_disks_of_a_windows_source_take_two_lsi_logic_sas_controllers():
    world = site(mt_devices=[lsi_logic(1001, 1), lsi_logic(1002, 2)]
                 + [flat_disk(2100 + i, 1001, i if i < 7 else i + 1, "[vmfs-01] web02/web02%s.vmdk"
                              % ("_%d" % i if i else ""), 1) for i in range(15)]
                 + [flat_disk(2200, 1002, 0, "[vmfs-01] web02/web02_15.vmdk", 1)])
    ensure(world, [from_asr(source=dict(RCM_SOURCE, networks=[]))])
    config = created_config(world)
    controllers = [c.device for c in config.deviceChange if isinstance(c.device, DEV.VirtualSCSIController)]
    sas = DEV.VirtualLsiLogicSASController
    assert [(type(c), c.busNumber) for c in controllers] == [(sas, 0), (sas, 1)]
    disks = [c.device for c in config.deviceChange if isinstance(c.device, DEV.VirtualDisk)]
    assert [(d.controllerKey, d.unitNumber) for d in disks][6:9] == [(-300, 6), (-300, 8), (-300, 9)]
    assert (disks[-1].controllerKey, disks[-1].unitNumber, disks[-1].backing.fileName) == (
        -290, 0, "[vmfs-01] web02/web02_15.vmdk")


def test_a_source_asr_reports_no_firmware_for_is_refused_before_any_change():
    world = alternate_site()
    world.add_network("VM Network")
    problems = refusals(world, [from_asr(source=dict(RCM_SOURCE, firmware_type=None, azure_vm_generation=None))])
    assert problems == [
        "VM web02 cannot be created: ASR reports no firmwareType nor VM generation for the source machine "
        "(failback-direction items, InMage and InMageRcmFailback, carry none; the forward item read before the "
        "reprotect does). Set firmware: efi (UEFI) or bios for it, as the source VM had."]
    assert world.disk_files("mt-lin01")[:3] == [MT_OS, WEB0, WEB1]


def test_a_source_network_is_mapped_to_the_users_port_group():
    world = alternate_site()
    dvpg = world.add_network("DPG-Prod", distributed=True, switch="DSwitch-A")
    ensure(world, [from_asr(network_map={"VM Network": "DPG-Prod"})])
    nic, = [c.device for c in created_config(world).deviceChange if isinstance(c.device, DEV.VirtualVmxnet3)]
    assert nic.backing.port.portgroupKey == dvpg._moId


def test_a_module_wide_network_map_applies_and_the_vms_own_map_wins():
    world = alternate_site()
    world.add_network("A")
    world.add_network("B")
    ensure(world, [from_asr(network_map={"VM Network": "B"})], network_map={"VM Network": "A"})
    nic, = [c.device for c in created_config(world).deviceChange if isinstance(c.device, DEV.VirtualVmxnet3)]
    assert nic.backing.deviceName == "B"


def test_a_mapped_port_group_the_host_does_not_have_is_refused():
    world = alternate_site()
    add_host(world, "esx02", 32768)
    world.add_network("DPG-Prod", hosts=["esx02"])
    problems = refusals(world, [from_asr(network_map={"VM Network": "DPG-Prod"})])
    assert problems == [
        "VM web02: network DPG-Prod is not a port group of ESXi host esx01, where the VM is created (the host of "
        "master target mt-lin01). That host has: Backup-VLAN20, Prod-VLAN10. Use one of them, or a master target on "
        "a host that has DPG-Prod."]


def test_one_port_group_name_on_two_distributed_switches_is_refused_naming_both():
    world = alternate_site()
    world.add_network("DPG-Prod", distributed=True, switch="DSwitch-A")
    world.add_network("DPG-Prod", distributed=True, switch="DSwitch-B")
    assert refusals(world, [from_asr(network_map={"VM Network": "DPG-Prod"})]) == [
        "VM web02: 2 port groups of ESXi host esx01 are called DPG-Prod (on distributed switch DSwitch-A and "
        "distributed switch DSwitch-B), so the NIC's network is ambiguous. Name it with its distributed switch - e.g. "
        "DSwitch-A/DPG-Prod - (in networks, or as the value in network_map), or rename one of them."]


@pytest.mark.parametrize("switch", ["DSwitch-A", "DSwitch-B"])
def test_a_port_group_named_with_its_distributed_switch_picks_that_one(switch):
    world = alternate_site()
    groups = {name: world.add_network("DPG-Prod", distributed=True, switch=name) for name in ("DSwitch-A", "DSwitch-B")}
    ensure(world, [from_asr(network_map={"VM Network": "%s/DPG-Prod" % switch})])
    # each port group's switch, key and switch UUID come from one read of the plan, not from reads per port group
    assert [paths for obj_type, paths in world.reads if obj_type is vim.dvs.DistributedVirtualPortgroup] == [
        ("key", "config.distributedVirtualSwitch")]
    assert [paths for obj_type, paths in world.reads if obj_type is vim.DistributedVirtualSwitch] == [
        ("name", "uuid", "config.uplinkPortgroup")]
    assert [paths for obj_type, paths in world.reads if obj_type is None and "info.state" not in paths] == []
    (_name, args), = world.calls_of("CreateVM_Task")
    nic, = [c.device for c in args["config"].deviceChange if isinstance(c.device, DEV.VirtualEthernetCard)]
    assert nic.backing.port.portgroupKey == groups[switch]._moId
    # a switch that has no port group of that name on the host is refused, naming what the host has
    world = alternate_site()
    world.add_network("DPG-Prod", distributed=True, switch="DSwitch-A")
    assert "network DSwitch-C/DPG-Prod is not a port group of ESXi host esx01" in refusals(
        world, [web02(networks=["DSwitch-C/DPG-Prod"])])[0]


def test_an_uplink_port_group_is_no_port_group_a_vm_can_take():
    """vCenter refuses a VM NIC on a distributed switch's uplink port group: it is neither offered nor accepted, so
    the refusal comes before any change (new-user try of issue 14: the VMDKs were detached, then the create failed)."""
    world = alternate_site()
    world.add_network("DSwitch-A-DVUplinks-55", distributed=True, switch="DSwitch-A", uplink=True)
    before = world.disk_files("mt-lin01")
    found = refusals(world, [web02(networks=["DSwitch-A-DVUplinks-55"])])
    assert len(found) == 1 and "network DSwitch-A-DVUplinks-55 is not a port group of ESXi host esx01" in found[0]
    assert "DSwitch-A-DVUplinks-55" not in found[0].split("That host has:")[1].split(". Use one")[0]
    assert world.disk_files("mt-lin01") == before


def test_a_map_key_no_source_nic_is_on_is_refused():
    world = alternate_site()
    world.add_network("VM Network")
    assert refusals(world, [from_asr(network_map={"VM Netwrok": "Prod-VLAN10"})]) == [
        "VM web02: network_map maps VM Netwrok, but ASR reports its NICs on VM Network. Map the networks ASR reports "
        "(replicated_item_info's source.networks)."]


def test_networks_and_a_network_map_together_are_refused():
    world = alternate_site()
    assert refusals(world, [from_asr(networks=["Prod-VLAN10"], network_map={"VM Network": "Prod-VLAN10"})]) == [
        "VM web02: network_map maps the source's networks (as ASR reports them), networks names the port groups "
        "directly; give one of them."]


def test_a_source_nic_whose_network_asr_does_not_name_is_refused():
    world = alternate_site()
    assert refusals(world, [from_asr(source=dict(RCM_SOURCE, networks=[None]))]) == [
        "VM web02: ASR does not name the network of source NIC 0. Give networks: [port group, ...] for every NIC, in "
        "order."]


# -- a VM whose failover failed: only the 8038 remedy (issue 13: onprem_vm never took ASR's stage into account) ------

def test_a_vm_whose_failover_failed_is_only_moved_and_started():
    world = crowded()
    outcome = onprem.ensure(world, [{"name": "app01"}], {"location": "original"}, "vmotion", False, deadline(),
                            remedy_only=["app01"])
    assert outcome["tasks"] == ["vMotion app01 to esx02", "power on app01"]


def test_a_vm_whose_failover_failed_is_refused_when_its_disks_are_still_on_the_master_target():
    # the failover stopped before attaching them: taking the replica off the master target is the failover's job
    world = disks_on_master_target()
    with pytest.raises(VSphereError) as info:
        onprem.ensure(world, [{"name": "app01", "master_target": "mt-lin01"}], {"location": "original"}, "vmotion",
                      False, deadline(), remedy_only=["app01"])
    assert changing_calls(world) == []
    (refusal,) = info.value.details["refusals"]
    assert refusal.startswith("VM app01: its failover to on-premises failed (stage failover_failed), and bringing it "
                              "up would take 2 disk(s) off its master target.")
    assert "run the failover again" in refusal


# -- pinning before ASR's failover job (failover module) ------------------------------------------------------------

def test_the_replica_vmdks_are_pinned_on_their_master_target_once():
    world = alternate_site()
    entries = [{"name": "web02", "pins_from": "mt-lin01"}, {"name": "ghost", "pins_from": "mt-lin01"},
               {"name": "app01", "pins_from": None}]
    assert onprem.pin_replicas(world, entries, deadline()) == {
        "web02": None, "ghost": "no VMDK named after VM ghost is attached to master target mt-lin01 or pinned there",
        "app01": "Site Recovery names no master target for it"}
    (target, args), = world.calls_of("ReconfigVM_Task")
    assert target == "mt-lin01" and args["spec"].deviceChange in (None, [])  # no device change
    pinned = json.loads({o.key: o.value for o in args["spec"].extraConfig}["siterecovery.failback.pinned"])
    # the VMDKs named after web02 in a folder of its name, whatever the datastore (a pin is looked up by exact path);
    # not web021's
    assert sorted((e["file"], e["uuid"]) for e in pinned) == [
        (WEB0, "6000C29-w0"), (WEB1, "6000C29-w1"), ("[vmfs-02] web02/web02.vmdk", None)]
    assert onprem.pin_replicas(world, entries[:1], deadline()) == {"web02": None}
    assert len(world.calls_of("ReconfigVM_Task")) == 1  # pinned already: no second reconfigure


def test_a_pin_never_overrides_the_uuid_of_a_disk_attached_before_the_run():
    # new-user re-try of issue 13: a stale pin (a VM copied from a master target) won over the disk ASR attached, and
    # the VM could never be committed
    world = site()
    add_app(world, power=POWERED_ON, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40, "6000C29-a0")])
    add_app(world, "copy01", power=POWERED_OFF)
    pin(world, "copy01", (APP0, "6000C29-stale"))
    assert onprem.record_disks(world, [{"name": "app01"}], deadline()) == {"app01": None}
    (_target, args), = world.calls_of("ReconfigVM_Task")
    assert manifest_of(args["spec"]) == [(APP0, "6000C29-a0")]
    world.calls.clear()
    vm(world, "app01")["config.extraConfig"] = []
    ensure(world, [{"name": "app01", "record_disks": True}])
    (_target, args), = world.calls_of("ReconfigVM_Task")
    assert manifest_of(args["spec"]) == [(APP0, "6000C29-a0")]


def test_only_the_pins_of_the_items_master_target_count():
    # new-user re-try of issue 13: a stale pin on another VM (a copy of a master target) stood for a disk
    world = site()
    add_app(world, "web02", power=POWERED_OFF, devices=[lsi_logic(1000, 0)])
    loose(world, WEB0, WEB1)
    add_app(world, "mt-copy", power=POWERED_OFF)
    pin(world, "mt-copy", (WEB0, "6000C29-other"), (WEB1, "6000C29-other1"))
    outcome = ensure(world, [{"name": "web02", "record_disks": True, "pins_from": "mt-lin01"}])
    assert [c for c in world.calls_of("ReconfigVM_Task") if c[1]["spec"].extraConfig] == []
    assert outcome["vms"][0]["disks_recorded"] is False
    (warning,) = outcome["vms"][0]["warnings"]
    assert "no run pinned their disk UUIDs" in warning


def test_the_failover_records_a_vmdk_pinned_on_the_items_master_target_with_the_pinned_uuid():
    # new-user re-try of issue 13: after a stopped job, a blank put at a loose VMDK's path was attached by ASR's re-run
    # and recorded with its own UUID; the commit then deleted the Azure VM
    world = site()
    add_app(world, power=POWERED_ON, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40, "6000C29-blank")])
    pin(world, "mt-lin01", (APP0, "6000C29-a0"))
    add_app(world, "copy01", power=POWERED_OFF)
    pin(world, "copy01", (APP0, "6000C29-stale"))
    assert onprem.record_disks(world, [{"name": "app01", "pins_from": "mt-lin01"}], deadline()) == {"app01": None}
    (_target, args), = world.calls_of("ReconfigVM_Task")
    assert manifest_of(args["spec"]) == [(APP0, "6000C29-a0")]  # the commit gate then finds the file replaced


# -- issue 15: an alternate-location failover stopped after moving one disk, the rest still on the master target -------

def one_disk_moved(power=POWERED_ON, recorded=True):
    """web02 as Site Recovery's failover left it when it created the VM, moved web02.vmdk onto it (SCSI 0:0) and
    stopped, then ran again (it leaves the VM it created as it is) and started it: web02_1.vmdk (80 GB) is still
    attached to mt-lin01, its UUID pinned there before the job; web02's failback manifest records web02.vmdk only
    (the failover recorded what was attached)."""
    world = site(mt_devices=[flat_disk(2011, 1000, 1, WEB1, 80, "6000C29-w1")])
    world.vms[vm(world, "mt-lin01")["moid"]]["config.extraConfig"] = [vim.option.OptionValue(
        key="siterecovery.failback.pinned", value=json.dumps([{"file": WEB1, "size_gb": 80, "uuid": "6000C29-w1"}]))]
    extra = [diskops.manifest_option([{"file": WEB0, "size_gb": 40, "uuid": "6000C29-w0", "bus": 0, "unit": 0}])]
    add_app(world, "web02", power=power, devices=[lsi_logic(1000, 0), flat_disk(2000, 1000, 0, WEB0, 40, "6000C29-w0")],
            extra=extra if recorded else None)
    return world


def test_the_vmdk_left_on_the_master_target_of_the_item_is_taken_off_it_and_attached_in_disk_order():
    world = one_disk_moved()
    files = set(world.files)
    outcome = ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}])
    # one reconfigure takes it off mt-lin01 (no file operation, its UUID pinned there), one hot-adds it to web02 at 0:1
    assert timeline(world) == [*SEARCHED, "ReconfigVM_Task mt-lin01", "wait 1", "ReconfigVM_Task web02", "wait 1"]
    (_mt, mt_args), (_vm, vm_args) = world.calls_of("ReconfigVM_Task")
    assert [(c.operation, c.fileOperation, c.device.key) for c in mt_args["spec"].deviceChange] == [(REMOVE, None, 2011)]
    pinned = json.loads({o.key: o.value for o in mt_args["spec"].extraConfig}["siterecovery.failback.pinned"])
    assert [(e["file"], e["uuid"]) for e in pinned] == [(WEB1, "6000C29-w1")]
    assert disk_changes(vm_args["spec"]) == [(ADD, None, WEB1, 1000, 1, "6000C29-w1", 80 * GB_IN_KB)]
    assert manifest_of(vm_args["spec"]) == [(WEB0, "6000C29-w0"), (WEB1, "6000C29-w1")]
    assert slots(world, "web02") == [(0, 0, WEB0), (0, 1, WEB1)] and world.disk_files("mt-lin01") == [MT_OS]
    assert outcome["tasks"] == ["take web02's disks off mt-lin01", "attach 1 disk(s) to web02 (1 from mt-lin01)"]
    assert outcome["vms"][0] | {"name": "app01"} == entry(
        disks_returned=1, changed=True, host="esx01", power_state="poweredOn",
        tools_running_status="guestToolsNotRunning", tools_status=None)
    assert outcome["diff"]["after"] == {"web02": {"scsi0:0": WEB0, "scsi0:1": WEB1}}
    assert_nothing_destroyed(world, files)
    assert ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}])["changed"] is False


def test_check_mode_plans_the_move_off_the_master_target_and_changes_nothing():
    world = one_disk_moved()
    outcome = ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}], check_mode=True)
    assert changing_calls(world) == [] and outcome["changed"] is True
    assert outcome["vms"][0]["disks_returned"] == 1
    assert outcome["diff"] == {"before": {"web02": {"scsi0:0": WEB0}},
                               "after": {"web02": {"scsi0:0": WEB0, "scsi0:1": WEB1}}}


@pytest.mark.parametrize("fail_at", [1, 2])  # 1 take web02_1.vmdk off mt-lin01, 2 attach it to web02
def test_a_fault_at_each_change_of_the_move_off_the_master_target_is_repaired_by_a_rerun(fail_at):
    world = one_disk_moved()
    files = set(world.files)
    world.fail_change = fail_at
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}])
    assert "injected fault at change %d" % fail_at in info.value.msg
    world.fail_change = None
    ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}])
    assert slots(world, "web02") == [(0, 0, WEB0), (0, 1, WEB1)]
    attached = [f for row in world.vms.values() for f in world.disk_files(row["name"])]
    assert attached.count(WEB0) == 1 and attached.count(WEB1) == 1  # none lost, none attached twice
    # recorded with the UUID pinned on mt-lin01, whichever run attached it
    assert [(e["file"], e["uuid"], e["bus"], e["unit"]) for e in diskops.manifest(
        vm(world, "web02")["config.extraConfig"])] == [(WEB0, "6000C29-w0", 0, 0), (WEB1, "6000C29-w1", 0, 1)]
    assert_nothing_destroyed(world, files)
    assert ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}])["changed"] is False


def test_a_vm_whose_failover_failed_never_gets_a_vmdk_off_the_master_target():
    # at failover_failed the VMDKs on the master target are still Site Recovery's: the failover, run again, moves them
    world = one_disk_moved(power=POWERED_OFF)
    with pytest.raises(VSphereError) as info:
        onprem.ensure(world, [{"name": "web02", "pins_from": "mt-lin01"}], {"location": "original"}, "vmotion", False,
                      deadline(), remedy_only=["web02"])
    assert changing_calls(world) == []
    (refusal,) = info.value.details["refusals"]
    assert refusal.startswith("VM web02: its failover to on-premises failed (stage failover_failed), and bringing it "
                              "up would take 1 disk(s) off its master target. At that stage"), refusal


# -- round trips and work that do not grow with the number of VMs (issue 17) -----------------------------------------

def many_apps(count):
    """site() with ``count`` running VMs app01.. (one disk each, in their own directory, VMware Tools running), none
    carrying a failback manifest."""
    world = site()
    world.add_host("esx02", cluster(world, "cl1"), memory_mb=1048576, datastores=("vmfs-01",))
    for index in range(1, count + 1):
        name = "app%02d" % index
        disk = flat_disk(2000, 1000, 0, "[vmfs-01] %s/%s.vmdk" % (name, name), 10, "u-%s" % name)
        world.add_vm(name, host(world, "esx02"), [lsi_logic(1000, 0), disk], power=POWERED_ON,
                     vm_path="[vmfs-01] %s/%s.vmx" % (name, name), tools=TOOLS_RUNNING)
    return world


def test_the_failover_records_the_disks_of_every_vm_with_one_wait_whatever_their_number():
    reads = {}
    for count in (2, 12):
        world = many_apps(count)
        outcome = onprem.record_disks(world, [{"name": "app%02d" % i} for i in range(1, count + 1)], deadline())
        assert outcome == {"app%02d" % i: None for i in range(1, count + 1)}
        # one reconfigure per VM (its own extraConfig), all started before the one wait for them all
        assert timeline(world) == ["ReconfigVM_Task app%02d" % i for i in range(1, count + 1)] + ["wait %d" % count]
        reads[count] = world.stats["property_reads"]
    assert reads[12] == reads[2] == 6 + 1  # the inventory's six reads, one read of every task


def test_a_failed_record_is_that_vms_problem_alone_and_the_others_are_recorded():
    world = many_apps(3)
    world.faults[("ReconfigVM_Task", "app02")] = vim.fault.TaskInProgress(msg="busy")
    outcome = onprem.record_disks(world, [{"name": "app01"}, {"name": "app02"}, {"name": "app03"}], deadline())
    assert outcome == {"app01": None, "app03": None,
                       "app02": "vSphere task(s) failed: record the 1 disk(s) of app02 in its failback manifest: busy"}
    assert [e for e in timeline(world) if e.startswith("wait")] == ["wait 3"]


def test_tasks_still_running_are_read_again_together_and_the_deadline_names_them():
    world = many_apps(3)
    world.slow[("ReconfigVM_Task", "app02")] = 2  # two reads find it running
    assert onprem.record_disks(world, [{"name": "app01"}, {"name": "app02"}, {"name": "app03"}], deadline()) == dict.fromkeys(
        ("app01", "app02", "app03"))
    assert [e for e in timeline(world) if e.startswith("wait")] == ["wait 3", "wait 1", "wait 1"]
    world = many_apps(2)
    world.slow[("ReconfigVM_Task", "app01")] = 1000
    with pytest.raises(DeadlineExceeded) as info:
        onprem.record_disks(world, [{"name": "app01"}, {"name": "app02"}], deadline(5))
    assert "1 of 2 vSphere task(s) still running" in info.value.msg and "app01" in info.value.msg


def test_the_replicas_of_vms_on_two_master_targets_are_pinned_with_one_wait():
    world = site()
    world.add_vm("mt-lin02", host(world, "esx01"), [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, WEB0, 40, "6000C29-w0")],
                 power=POWERED_ON, vm_path="[vmfs-01] mt-lin02/mt-lin02.vmx", tools=TOOLS_RUNNING)
    world.add_vm("mt-lin03", host(world, "esx01"), [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40, "6000C29-a0")],
                 power=POWERED_ON, vm_path="[vmfs-01] mt-lin03/mt-lin03.vmx", tools=TOOLS_RUNNING)
    world.faults[("ReconfigVM_Task", "mt-lin03")] = vim.fault.TaskInProgress(msg="busy")
    outcome = onprem.pin_replicas(world, [{"name": "web02", "pins_from": "mt-lin02"},
                                          {"name": "app01", "pins_from": "mt-lin03"}], deadline())
    assert outcome == {"web02": None,
                       "app01": "vSphere task(s) failed: pin the disk UUIDs of app01 on mt-lin03: busy"}
    assert timeline(world) == ["ReconfigVM_Task mt-lin02", "ReconfigVM_Task mt-lin03", "wait 2"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_onprem_vm_reads_as_much_for_twelve_vms_as_for_two(check_mode, monkeypatch):
    # the reads (inventory, datastore search, tasks, tools) and the identity work: each VM is resolved from an index
    # built once, so the candidates of domain.identity are built once per inventory read, not once per question
    built = []
    original = Inventory.candidates

    def counted(self):
        if self._candidates is None:
            built.append(len(self.vms))
        return original(self)

    monkeypatch.setattr(Inventory, "candidates", counted)
    reads = {}
    for count in (2, 12):
        world = many_apps(count)
        del built[:]
        outcome = onprem.ensure(world, [{"name": "app%02d" % i, "record_disks": True} for i in range(1, count + 1)],
                                {"location": "original"}, "fail", check_mode, deadline(), deadline())
        assert outcome["changed"] is True and [vm["disks_recorded"] for vm in outcome["vms"]] == [True] * count
        # a record is one VM's reconfigure (a change per VM by nature), all awaited together
        assert len(world.calls_of("ReconfigVM_Task")) == (0 if check_mode else count)
        reads[count] = world.stats["property_reads"]
        # candidates built once per inventory read (the master target and the VMs): before, and after the records
        assert built == [count + 1] * (1 if check_mode else 2)
    assert reads[12] == reads[2]
