# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 13, the re-try's second gap: VMDKs left attached to no VM were trusted by their path. A blank file put at
the path of one, before the re-run, was attached, recorded and committed (Site Recovery deleted the Azure VM).

Now the reconfigure that takes VMDKs off a master target pins their disk UUIDs there, and a VMDK found loose later
is recorded with its pinned UUID; one nothing pinned is attached but not recorded. Judged from outside: vCenter
through the property collector (disk backings, extraConfig), the emulator's GET /_lab/state (the Azure VM, the
item's stage) and the call counters."""

import json
import time

from conftest import NO_MUTATIONS, lab_control, lab_state, run_module, watch_calls
from pyVmomi import vim

from tests.lab.effects import Site

FAILED_BACK_DISKS_ON_MT = {"asr": {"items": [
    {"name": "web02", "stage": "failed_back", "onprem_as_at": "replicating_to_onprem"}]}}
WEB0, WEB1 = "[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"


def web02_args():
    return {"vms": [{"name": "web02", "location": "alternate", "master_target": "mt-lin01", "datastore": "vmfs-01",
                     "num_cpu": 2, "memory_mb": 4096, "guest_id": "rhel8_64Guest", "firmware": "bios",
                     "networks": ["VM Network"]}], "wait_for_tools": False}


def read(lab, name):
    """``{disks: {file: backing uuid}, extra: {key: value}}`` of VM ``name`` through the property collector, or None."""
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        for row in site.read(vim.VirtualMachine, ["name", "config.hardware.device", "config.extraConfig"]):
            if row["name"] == name:
                return {"disks": {d.backing.fileName: d.backing.uuid for d in row["config.hardware.device"]
                                  if isinstance(d, vim.vm.device.VirtualDisk)},
                        "extra": {o.key: o.value for o in row.get("config.extraConfig") or []}}
        return None
    finally:
        site.close()


def _wait(site, task):
    for _attempt in range(600):
        row = site.read_objects([task], ["info.state", "info.error"])[0]
        state = str(row["info.state"])
        if state in ("success", "error"):
            return state if state == "success" else "error: %s" % row.get("info.error")
        time.sleep(0.1)
    return state


def datastore(lab, action, path, capacity_gb=80):
    """On DC1: ``mkdir`` / ``delete`` a path (FileManager), ``delete_disk`` a VMDK, or ``blank``: create an empty
    thin VMDK at ``path`` (VirtualDiskManager, as an operator or a script would)."""
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        datacenter = site.read(vim.Datacenter, ["name"])[0]["obj"]
        if action == "mkdir":
            site.content.fileManager.MakeDirectory(name=path, datacenter=datacenter, createParentDirectories=True)
            return
        if action == "delete":
            task = site.content.fileManager.DeleteDatastoreFile_Task(name=path, datacenter=datacenter)
        elif action == "delete_disk":  # the descriptor and its extent
            task = site.content.virtualDiskManager.DeleteVirtualDisk_Task(name=path, datacenter=datacenter)
        else:
            spec = vim.VirtualDiskManager.FileBackedVirtualDiskSpec(
                diskType="thin", adapterType="lsiLogic", capacityKb=capacity_gb * 1024 * 1024)
            task = site.content.virtualDiskManager.CreateVirtualDisk_Task(name=path, datacenter=datacenter, spec=spec)
        assert _wait(site, task) == "success"
    finally:
        site.close()


def detach_without_pin(lab, vm_name, files):
    """Take ``files`` off ``vm_name`` as a script would (no file operation, no pin): they stay attached to no VM."""
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        row = next(r for r in site.read(vim.VirtualMachine, ["name", "config.hardware.device"]) if r["name"] == vm_name)
        changes = [vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.remove, device=d)
                   for d in row["config.hardware.device"]
                   if isinstance(d, vim.vm.device.VirtualDisk) and d.backing.fileName in files]
        assert len(changes) == len(files)
        assert _wait(site, row["obj"].ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=changes))) == "success"
    finally:
        site.close()


def layout(lab, name):
    """``[(bus, unit, file, capacity KB, uuid)]`` of VM ``name``'s disks, through the property collector."""
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        row = next(r for r in site.read(vim.VirtualMachine, ["name", "config.hardware.device"]) if r["name"] == name)
        devices = row["config.hardware.device"]
        buses = {d.key: d.busNumber for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)}
        return sorted((buses.get(d.controllerKey), d.unitNumber, d.backing.fileName, d.capacityInKB, d.backing.uuid)
                      for d in devices if isinstance(d, vim.vm.device.VirtualDisk))
    finally:
        site.close()


def set_extra_config(lab, name, key, value):
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        row = next(r for r in site.read(vim.VirtualMachine, ["name"]) if r["name"] == name)
        spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=key, value=value)])
        assert _wait(site, row["obj"].ReconfigVM_Task(spec=spec)) == "success"
    finally:
        site.close()


def manifest(vm):
    return {e["file"]: e["uuid"] for e in json.loads(vm["extra"]["siterecovery.failback.disks"])}


def commit_refused(lab, vm="web02", azure_vm="rg-recovery-web/web02", **args):
    watch = watch_calls(lab)
    rc, result = run_module("commit", dict({"vms": [vm], "poll_interval": 0.5}, **args), env=lab.env())
    assert rc != 0, result
    assert watch.mutations() == NO_MUTATIONS, result
    state = lab_state(lab)
    assert azure_vm in state["compute"]["virtual_machines"]  # the Azure VM is kept
    assert state["items"][vm]["stage"] == "failed_back"
    return result


def test_a_vmdk_swapped_for_a_blank_after_a_stopped_creation_is_recorded_by_its_pinned_uuid_and_never_committed(
        full_lab):
    lab = full_lab("replicating.yml", FAILED_BACK_DISKS_ON_MT)
    replica = {f: u for f, u in read(lab, "mt-lin01")["disks"].items() if f.startswith("[vmfs-01] web02/")}
    assert sorted(replica) == [WEB0, WEB1] and all(replica.values())
    # a fault after the first change: something holds web02's .vmx path, so CreateVM_Task fails after the detach
    datastore(lab, "mkdir", "[vmfs-01] web02/web02.vmx")
    rc, failed = run_module("onprem_vm", web02_args(), env=lab.env())
    assert rc != 0 and "a re-run creates the VM with them" in failed["msg"], failed
    mt = read(lab, "mt-lin01")
    assert not any(f.startswith("[vmfs-01] web02/") for f in mt["disks"])
    pinned = {e["file"]: e["uuid"] for e in json.loads(mt["extra"]["siterecovery.failback.pinned"])}
    assert pinned == replica  # the UUIDs they had while Site Recovery's replica was attached

    # before the re-run the loose web02_1.vmdk is gone and a blank stands at its path
    datastore(lab, "delete", "[vmfs-01] web02/web02.vmx")
    datastore(lab, "delete_disk", WEB1)
    datastore(lab, "blank", WEB1)
    rc, created = run_module("onprem_vm", web02_args(), env=lab.env())
    assert rc == 0, created
    web02 = read(lab, "web02")
    assert sorted(web02["disks"]) == [WEB0, WEB1]
    assert web02["disks"][WEB1] != replica[WEB1]  # vCenter reads the blank's own UUID
    assert manifest(web02) == replica  # recorded with the replica's UUIDs, not the blank's

    # the blank has the capacity of the disk it stands for (CreateVirtualDisk_Task of 80 GB): only its UUID gives it away
    sizes = {f: c for _b, _u, f, c, _i in layout(lab, "web02")}
    assert sizes[WEB1] == 80 * 1024 * 1024, sizes
    for force in (False, True):
        result = commit_refused(lab, force=force, verification="power_only")
        assert ("attached VMDK %s has disk UUID %s, but the VM's record (its failback manifest) gives %s: the file at "
                "that path is not the disk recorded (it was replaced)" % (WEB1, web02["disks"][WEB1], replica[WEB1])
                in result["msg"]), result["msg"]


def test_a_stale_pin_on_a_copy_of_a_master_target_never_stands_for_the_disk_asr_attached(full_lab):
    # new-user re-try of issue 13: a pin on another VM (one copied from a master target) won over the disk ASR
    # attached, and a clean failback could never be committed
    lab = full_lab("replicating.yml")
    replica = {f: u for f, u in read(lab, "mt-win01")["disks"].items() if f.startswith("[vmfs-01] app01/")}
    assert len(replica) == 2
    stale = [{"file": f, "uuid": "6000C29d-dead-beef-0000-00000000000%d" % i, "size_gb": 40}
             for i, f in enumerate(sorted(replica))]
    set_extra_config(lab, "app02", "siterecovery.failback.pinned", json.dumps(stale))
    rc, failed_over = run_module("failover", {"vms": ["app01"], "poll_interval": 0.5}, env=lab.env())
    assert rc == 0, failed_over
    app01 = read(lab, "app01")
    assert app01["disks"] == replica  # ASR attached the replica
    assert manifest(app01) == replica  # recorded as attached, whatever app02 pins
    rc, verified = run_module("onprem_vm", {"vms": [{"name": "app01"}], "tools_timeout": 120}, env=lab.env())
    assert rc == 0, verified
    rc, committed = run_module("commit", {"vms": ["app01"], "poll_interval": 0.5}, env=lab.env())
    assert rc == 0, committed
    assert lab_state(lab)["items"]["app01"]["stage"] == "failback_committed"


def test_a_loose_vmdk_nothing_pinned_is_attached_but_not_recorded_and_the_commit_asks_for_protected_disk_files(
        full_lab):
    lab = full_lab("replicating.yml", FAILED_BACK_DISKS_ON_MT)
    detach_without_pin(lab, "mt-lin01", [WEB1])
    rc, created = run_module("onprem_vm", web02_args(), env=lab.env())
    assert rc == 0, created
    web02 = read(lab, "web02")
    assert sorted(web02["disks"]) == [WEB0, WEB1]
    assert "siterecovery.failback.disks" not in web02["extra"]  # no record: nothing proves web02_1 is the replica
    assert created["vms"][0]["disks_recorded"] is False
    assert any("no run pinned" in w for w in created.get("warnings", [])), created
    result = commit_refused(lab, verification="power_only")
    assert "protected_disk_files" in result["msg"], result["msg"]


def test_a_blank_asr_attaches_after_a_stopped_failover_is_recorded_as_the_pinned_replica_and_never_committed(full_lab):
    # new-user re-try of issue 13: app01's reprotect ran outside the collection (no manifest); its failover stopped
    # after taking app01.vmdk off the master target; a blank was put at that path; the failover's re-run attached
    # it, recorded its UUID, and the commit deleted the Azure VM
    lab = full_lab("replicating.yml", {"asr": {"items": [{"name": "app01", "failback_manifest": False}]}})
    replica = {f: u for f, u in read(lab, "mt-win01")["disks"].items() if f.startswith("[vmfs-01] app01/")}
    app0 = "[vmfs-01] app01/app01.vmdk"
    size_gb = {f: c for _b, _u, f, c, _i in layout(lab, "mt-win01")}[app0] // (1024 * 1024)
    lab_control(lab, "POST", "/jobs/stop_after_effect", {"effects": 1})
    rc, failed = run_module("failover", {"vms": ["app01"], "poll_interval": 0.5}, env=lab.env())
    assert rc != 0, failed
    pinned = {e["file"]: e["uuid"] for e in json.loads(read(lab, "mt-win01")["extra"]["siterecovery.failback.pinned"])}
    assert {f: pinned[f] for f in replica} == replica  # pinned right before the job
    assert app0 not in read(lab, "mt-win01")["disks"]  # taken off, attached to no VM

    datastore(lab, "delete_disk", app0)
    datastore(lab, "blank", app0, capacity_gb=size_gb)
    rc, rerun = run_module("failover", {"vms": ["app01"], "poll_interval": 0.5}, env=lab.env())
    assert rc == 0, rerun
    app01 = read(lab, "app01")
    assert app01["disks"][app0] != replica[app0]  # ASR attached the blank
    assert manifest(app01)[app0] == replica[app0]  # recorded as the replica pinned on mt-win01
    for force in (False, True):
        result = commit_refused(lab, "app01", "rg-recovery/app01", force=force, verification="power_only")
        assert "%s has disk UUID %s" % (app0, app01["disks"][app0]) in result["msg"], result["msg"]
