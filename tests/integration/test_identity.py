# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two VMs with one name (issue 14): a stale, powered-off copy of app01 in another folder (tests/lab/specs/
duplicate-name.yml). A classic item records no instance UUID, so the failback is refused before any change, naming
both VMs; once the user renames the copy, the same run goes through. A modernized item records its VM's instance
UUID, which picks the right VM: that VM is failed back and the copy is never touched.

Every judgement is made from outside: vCenter through the property collector, the emulator's counters of mutating
calls and ARM writes (tests/lab/calls.py)."""

import os
import ssl
import time

import yaml
from conftest import ROOT, run_module, run_playbook, watch_calls
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from tests.lab.calls import NO_MUTATIONS

FINAL = "reprotected_to_azure"
LOG = ("/subscriptions/00000000-0000-4000-8000-000000000003/resourceGroups/rg-dr/providers/"
       "Microsoft.Storage/storageAccounts/failbacklog")  # the modernized vault's log storage account (modernized.yml)
COPY_FOLDER = "app01-copy"  # the stale copy's folder (Restored/app01-copy in duplicate-name.yml)


class VCenter:
    """vCenter as an outsider sees it: every VM's name, folder, instance UUID, power state and disk files."""

    def __init__(self, lab):
        info = lab.simulators["vcenter"].info
        self.si = SmartConnect(host=info["host"], port=info["port"], user=info["username"], pwd=info["password"],
                               sslContext=ssl.create_default_context(cafile=info["ca_file"]))
        self.content = self.si.RetrieveContent()

    def close(self):
        Disconnect(self.si)

    def vms(self, name):
        """Every VM called ``name``: ``[{obj, folder, uuid, power, disks}]``."""
        pc = vmodl.query.PropertyCollector
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, [vim.VirtualMachine], True)
        try:
            spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[
                pc.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
                propSet=[pc.PropertySpec(type=vim.VirtualMachine, all=False, pathSet=[
                    "name", "parent", "config.instanceUuid", "runtime.powerState", "config.hardware.device"])])
            objects = self.content.propertyCollector.RetrieveContents([spec])
        finally:
            view.Destroy()
        result = []
        for obj in objects:
            props = {p.name: p.val for p in obj.propSet}
            if props.get("name") != name:
                continue
            result.append({"obj": obj.obj, "folder": props["parent"].name, "uuid": props["config.instanceUuid"],
                           "power": str(props["runtime.powerState"]),
                           "disks": sorted(d.backing.fileName for d in props["config.hardware.device"]
                                           if isinstance(d, vim.vm.device.VirtualDisk))})
        return result

    def by_folder(self, name):
        return {vm["folder"]: vm for vm in self.vms(name)}

    def rename(self, vm_obj, new_name):
        """What the user does to the stale copy: rename it (a Rename_Task), and wait for it."""
        task = vm_obj.Rename_Task(newName=new_name)
        deadline = time.monotonic() + 120
        while task.info.state not in ("success", "error") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert task.info.state == "success", task.info.error


def duplicate_overrides():
    """The stale copy of duplicate-name.yml, to lay over another spec (modernized.yml)."""
    with open(os.path.join(ROOT, "tests", "lab", "specs", "duplicate-name.yml")) as handle:
        raw = yaml.safe_load(handle)
    return {"vcenter": raw["vcenter"], "asr": raw["asr"]}


def stages(lab):
    return {name: item["stage"] for name, item in lab.azure.state()["items"].items()}


def play_vars(role, tmp_path, **extra):
    base = {"poll_interval": 0.5, "recovery_point_delay": 1, "report_dir": str(tmp_path / "reports"), "preflight": True}
    base.update(extra)
    return {"%s_%s" % (role, key): value for key, value in base.items()}


def test_classic_failback_of_a_shared_name_is_refused_before_any_change_then_goes_through_once_renamed(
        full_lab, tmp_path):
    lab = full_lab("duplicate-name.yml")
    vc = VCenter(lab)
    try:
        before = vc.by_folder("app01")
        assert sorted(before) == [COPY_FOLDER, "vm"], before  # the original in the root folder, the stale copy
        original_uuid, copy_uuid = before["vm"]["uuid"], before[COPY_FOLDER]["uuid"]
        assert before["vm"]["power"] == before[COPY_FOLDER]["power"] == "poweredOff"
        args = play_vars("original_location", tmp_path, vms=["app01"])

        watch = watch_calls(lab)
        rc, out = run_playbook("original_location", args, lab.env())
        assert rc != 0, out[-3000:]
        mutations = watch.mutations(watch.since())
        assert mutations == NO_MUTATIONS, mutations  # no ARM write, no mutating vSphere call
        for uuid in (original_uuid, copy_uuid):
            assert uuid in out, out[-4000:]  # each VM of the name is named ...
        assert "Restored/app01-copy" in out, out[-4000:]  # ... with its folder
        assert "location: alternate" not in out and "alternate location (a new VM)" not in out
        assert stages(lab)["app01"] != FINAL and vc.by_folder("app01") == before

        # the disk step itself, as the issue saw it after a reprotect: the same refusal, never "not found". onprem_vm
        # acts only where Site Recovery failed the VM back: it runs on a second lab of the same spec in which app01 is
        # failed back with its disks still on the master target (a failover that stopped before moving them)
        failed_back = full_lab("duplicate-name.yml", {"asr": {"items": [
            {"name": "app01", "stage": "failed_back", "master_target": "mt-win01",
             "onprem_as_at": "replicating_to_onprem"}]}})
        for target, module, entry in ((lab, "master_target_disks", {"name": "app01", "master_target": "mt-win01"}),
                                      (failed_back, "onprem_vm", {"name": "app01"})):
            watch = watch_calls(target)
            rc, result = run_module(module, {"vms": [entry]}, env=target.env())
            assert rc == 1, result
            assert watch.mutations(watch.since()) == NO_MUTATIONS
            assert "2 VMs have that name" in result["msg"] and original_uuid in result["msg"] \
                and copy_uuid in result["msg"], result["msg"]
            assert "was not found" not in result["msg"] and "alternate" not in result["msg"], result["msg"]

        # the user renames the stale copy; the same run now goes through and never touches the copy
        vc.rename(before[COPY_FOLDER]["obj"], "app01-restore-test")
        rc, out = run_playbook("original_location", args, lab.env())
        assert rc == 0, out[-4000:]
        assert stages(lab)["app01"] == FINAL
        [original] = vc.vms("app01")
        assert (original["uuid"], original["power"]) == (original_uuid, "poweredOn")
        assert original["disks"] == before["vm"]["disks"]  # its disks are back on it
        [stale] = vc.vms("app01-restore-test")
        assert (stale["uuid"], stale["power"], stale["disks"]) == (copy_uuid, "poweredOff", before[COPY_FOLDER]["disks"])
    finally:
        vc.close()


def test_modernized_failback_acts_on_the_vm_whose_instance_uuid_asr_records_and_leaves_the_copy_alone(
        full_lab, tmp_path):
    lab = full_lab("modernized.yml", overrides=duplicate_overrides())
    vc = VCenter(lab)
    try:
        before = vc.by_folder("app01")
        assert sorted(before) == [COPY_FOLDER, "vm"], before
        copy_obj = before[COPY_FOLDER]["obj"]
        args = play_vars("original_location", tmp_path, vms=["app01"], datastore="vmfs-01",
                         log_storage_account_id=LOG)
        rc, out = run_playbook("original_location", args, lab.env())
        assert rc == 0, out[-4000:]
        assert stages(lab)["app01"] == FINAL
        after = vc.by_folder("app01")
        # the VM ASR names by its instance UUID: shut down since the failover to Azure, running again, on its own disks
        assert (before["vm"]["power"], after["vm"]["power"]) == ("poweredOff", "poweredOn")
        assert after["vm"]["uuid"] == before["vm"]["uuid"] and after["vm"]["disks"] == before["vm"]["disks"]
        # the stale copy: same object, still powered off, the same disks
        assert after[COPY_FOLDER] == dict(before[COPY_FOLDER], obj=copy_obj)
        assert after[COPY_FOLDER]["power"] == "poweredOff"
    finally:
        vc.close()
