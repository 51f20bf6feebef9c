# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan, validate, apply on the lab (issue 13): every vSphere step plans every disk, slot and network
before its first change; a refusal changes nothing; a failure after the first change is repaired by
the same step re-run.

End state is read from outside: vCenter through the property collector (tests/lab/effects.Site),
and the mutating calls counted by the lab (tests/lab/calls.CallWatch: SOAP calls and ARM writes).
onprem_vm reads each VM's protected item first: its tests run on a whole lab in which Site Recovery failed web02
back while its VMDKs are still on the master target (a failover that stopped before moving them).
"""

import time

from conftest import run_check_mode, run_module, watch_calls
from pyVmomi import vim

from tests.lab.calls import NO_MUTATIONS
from tests.lab.effects import Site

WEB02 = ["[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"]
WEB02_16 = ["[vmfs-01] web02/web02.vmdk"] + ["[vmfs-01] web02/web02_%d.vmdk" % i for i in range(1, 16)]
# ASR says web02 failed back; vCenter is as while it replicated: its VMDKs on mt-lin01, no VM web02
FAILED_BACK_DISKS_ON_MT = {"asr": {"items": [
    {"name": "web02", "stage": "failed_back", "onprem_as_at": "replicating_to_onprem"}]}}


def web02(**changes):
    """onprem_vm's entry for web02 at the alternate location, created on mt-lin01's host (esx02.lab)."""
    entry = {"name": "web02", "location": "alternate", "master_target": "mt-lin01", "datastore": "vmfs-01",
             "num_cpu": 2, "memory_mb": 4096, "guest_id": "rhel8_64Guest", "firmware": "bios",
             "networks": ["Prod-VLAN10"]}
    entry.update(changes)
    return {"vms": [entry], "wait_for_tools": False}


def vcenter(sim):
    """Every VM's name, disk files, power state and host name, read through the property collector (``sim``: the
    vCenter Simulator, ``lab.simulators["vcenter"]`` of a full lab)."""
    site = Site("vcenter", sim.info)
    try:
        hosts = {row["obj"]._moId: row["name"] for row in site.read(vim.HostSystem, ["name"])}
        result = {}
        for row in site.read(vim.VirtualMachine, ["name", "config.hardware.device", "runtime.powerState",
                                                  "runtime.host"]):
            disks = [d for d in row.get("config.hardware.device") or [] if isinstance(d, vim.vm.device.VirtualDisk)]
            result.setdefault(row["name"], []).append({
                "disks": sorted(d.backing.fileName for d in disks),
                "controllers": sorted(d.busNumber for d in row.get("config.hardware.device") or []
                                      if isinstance(d, vim.vm.device.VirtualSCSIController)),
                "power_state": str(row["runtime.powerState"]),
                "host": hosts.get(row["runtime.host"]._moId) if row.get("runtime.host") is not None else None})
        return result
    finally:
        site.close()


def web02_files(state):
    """web02's VMDKs on mt-lin01, from a vcenter() read."""
    return [f for f in state["mt-lin01"][0]["disks"] if f.startswith("[vmfs-01] web02/")]


def refused(lab, module, args, *phrases):
    """Run ``module``, which must fail naming every phrase, with no mutating call reaching the lab."""
    sim = lab.simulators["vcenter"]
    before = vcenter(sim)
    watch = watch_calls(lab)
    rc, result = run_module(module, args, env=lab.env())
    assert rc != 0, result
    assert watch.mutations() == NO_MUTATIONS
    for phrase in phrases:
        assert phrase in result["msg"], result["msg"]
    assert "nothing was changed" in result["msg"]
    assert vcenter(sim) == before
    return result


def test_a_network_that_does_not_exist_is_refused_and_the_vmdks_stay_on_the_master_target(full_lab):
    lab = full_lab("replicating.yml", FAILED_BACK_DISKS_ON_MT)
    sim = lab.simulators["vcenter"]
    refused(lab, "onprem_vm", web02(networks=["Prod-VLAN-10"]),
            "VM web02: network Prod-VLAN-10 is not a port group of ESXi host esx02.lab",
            "That host has: Prod-VLAN10, Prod-VLAN20, VM Network.")
    state = vcenter(sim)
    assert web02_files(state) == WEB02 and "web02" not in state


def test_a_port_group_the_target_host_lacks_is_refused_naming_the_host_and_its_port_groups(full_lab):
    lab = full_lab("alternate-16-disks.yml", FAILED_BACK_DISKS_ON_MT)  # Prod-VLAN20 exists in DC1, not on esx02.lab
    sim = lab.simulators["vcenter"]
    refused(lab, "onprem_vm", web02(networks=["Prod-VLAN10", "Prod-VLAN20"]),
            "VM web02: network Prod-VLAN20 is not a port group of ESXi host esx02.lab, where the VM is created "
            "(the host of master target mt-lin01). That host has: Prod-VLAN10, VM Network.")
    assert web02_files(vcenter(sim)) == sorted(WEB02_16)


def test_a_vm_with_16_disks_is_created_with_all_16_on_two_controllers(full_lab):
    lab = full_lab("alternate-16-disks.yml", FAILED_BACK_DISKS_ON_MT)
    sim = lab.simulators["vcenter"]
    rc, check = run_check_mode("onprem_vm", web02(), lab)
    assert rc == 0 and check["vms"][0]["created"] is True and check["vms"][0]["disks_returned"] == 16, check
    rc, applied = run_module("onprem_vm", web02(), env=lab.env())
    assert rc == 0, applied
    state = vcenter(sim)
    assert len(state["web02"]) == 1
    vm = state["web02"][0]
    assert vm["disks"] == sorted(WEB02_16)
    assert vm["controllers"] == [0, 1] and vm["host"] == "esx02.lab" and vm["power_state"] == "poweredOn"
    assert web02_files(state) == []
    rc, again = run_module("onprem_vm", web02(), env=lab.env())
    assert rc == 0 and again["changed"] is False, again


def test_reattaching_existing_vmdks_to_the_master_target_succeeds(full_lab):
    # the repair onprem_vm's refusal recommends: the VMDKs are on the datastore, attached to nothing (detached at
    # failed_back: at replicating_to_onprem they are Site Recovery's replica and state detached refuses)
    lab = full_lab("replicating.yml", {"asr": {"items": [
        {"name": "web02", "stage": "failed_back", "onprem_as_at": "replicating_to_onprem"}]}})
    sim = lab.simulators["vcenter"]
    args = {"vms": [{"name": "web02", "master_target": "mt-lin01", "location": "alternate", "datastore": "vmfs-01",
                     "disk_sizes_gb": [40, 80]}]}
    rc, detached = run_module("master_target_disks", dict(args, state="detached"), env=lab.env())
    assert rc == 0 and detached["changed"] is True, detached
    assert web02_files(vcenter(sim)) == []
    rc, check = run_check_mode("master_target_disks", args, lab)
    assert rc == 0 and check["changed"] is True, check
    rc, attached = run_module("master_target_disks", args, env=lab.env())
    assert rc == 0, attached  # it used to fail with FileAlreadyExists
    assert [(d["before"], d["after"]) for d in attached["vms"][0]["disks"]] == [("none", "mt"), ("none", "mt")]
    assert web02_files(vcenter(sim)) == WEB02
    rc, again = run_module("master_target_disks", args, env=lab.env())
    assert rc == 0 and again["changed"] is False, again


def _datastore_path(sim, action, path):
    """Make (``mkdir``) or delete (``delete``) ``path`` on a datastore of DC1 through the FileManager."""
    site = Site("vcenter", sim.info)
    try:
        datacenter = site.read(vim.Datacenter, ["name"])[0]["obj"]
        manager = site.content.fileManager
        if action == "mkdir":
            manager.MakeDirectory(name=path, datacenter=datacenter, createParentDirectories=True)
            return
        task = manager.DeleteDatastoreFile_Task(name=path, datacenter=datacenter)
        for _attempt in range(600):
            state = site.read_objects([task], ["info.state"])[0]["info.state"]
            if str(state) in ("success", "error"):
                break
            time.sleep(0.1)
        assert str(state) == "success", state
    finally:
        site.close()


def test_a_creation_that_fails_after_the_detach_is_completed_by_a_rerun(full_lab):
    lab = full_lab("replicating.yml", FAILED_BACK_DISKS_ON_MT)
    sim = lab.simulators["vcenter"]
    # a fault after the first change: something holds web02's .vmx path, so vSphere's CreateVM_Task fails
    # (FileAlreadyExists) after the VMDKs were taken off the master target
    _datastore_path(sim, "mkdir", "[vmfs-01] web02/web02.vmx")
    rc, failed = run_module("onprem_vm", web02(), env=lab.env())
    assert rc != 0, failed
    assert "create web02 on esx02.lab" in failed["msg"] and "a re-run creates the VM with them" in failed["msg"]
    assert "holds the VM's path, [vmfs-01] web02/web02.vmx" in failed["msg"], failed["msg"]  # what is in the way
    state = vcenter(sim)
    assert "web02" not in state and web02_files(state) == []  # on the datastore, attached to nothing

    _datastore_path(sim, "delete", "[vmfs-01] web02/web02.vmx")
    rc, check = run_check_mode("onprem_vm", web02(), lab)
    assert rc == 0 and check["vms"][0]["created"] is True and check["vms"][0]["disks_returned"] == 2, check
    rc, repaired = run_module("onprem_vm", web02(), env=lab.env())
    assert rc == 0, repaired
    state = vcenter(sim)
    assert len(state["web02"]) == 1 and state["web02"][0]["disks"] == WEB02
    assert state["web02"][0]["power_state"] == "poweredOn"
    assert web02_files(state) == []
    assert not any(f.startswith("[vmfs-01] web02/") for name, vms in state.items() if name != "web02"
                   for vm in vms for f in vm["disks"])  # no VMDK attached twice
    rc, again = run_module("onprem_vm", web02(), env=lab.env())
    assert rc == 0 and again["changed"] is False, again
