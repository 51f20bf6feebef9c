# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failed-back VM on-premises: created (alternate location), its disks on it, powered on
on a host with the memory for it, VMware Tools running.

Plan on one inventory read, refuse before changing anything, then apply in phases (create,
disks, vMotion, power on), each phase's tasks started together and awaited with one property
read per poll.
"""

from __future__ import annotations

import time

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import disks as diskops
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import facts, master_target
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.tasks import wait_for_tasks

ERROR_8038 = ("ASR error 8038: the on-premises VM could not be brought online because its ESXi host lacks memory. "
              "Add memory to the host, or vMotion the VM to another host with enough memory "
              "(memory_remediation: vmotion does that), and retry.")


class Want:
    def __init__(self, entry, defaults):
        self.name = entry["name"]
        for key in ("location", "master_target", "datastore", "num_cpu", "memory_mb", "guest_id", "firmware",
                    "networks", "disk_sizes_gb"):
            setattr(self, key, entry.get(key) if entry.get(key) is not None else defaults.get(key))
        self.location = self.location or "original"


def _free_mb(host_row, planned):
    total = (host_row.get("summary.hardware.memorySize") or 0) // facts.MB
    used = host_row.get("summary.quickStats.overallMemoryUsage") or 0
    return total - used - planned.get(host_row["moid"], 0)


def _vmotion_target(inventory, vm_row, host_row, memory_mb, planned):
    """The connected host of the same cluster with the most free memory (at least ``memory_mb``)
    that mounts every datastore of the VM; None when there is none."""
    cluster = inventory.cluster_of(host_row)
    if cluster is None:
        return None
    wanted = {facts.datastore_of_file(d["file"]) for d in facts.disks(vm_row.get("config.hardware.device"))}
    best = None
    for candidate in inventory.hosts.values():
        parent = candidate.get("parent")
        if candidate["moid"] == host_row["moid"] or parent is None or parent._moId != cluster["moid"]:
            continue
        if str(candidate.get("runtime.connectionState")) != "connected" or candidate.get("runtime.inMaintenanceMode"):
            continue
        mounted = {d["name"] for d in inventory.datastore_rows(candidate.get("datastore"))}
        if not wanted <= mounted:
            continue
        free = _free_mb(candidate, planned)
        if free >= memory_mb and (best is None or free > best[1]):
            best = (candidate, free)
    return best[0] if best else None


class Plan:
    def __init__(self):
        self.creates = []      # (want, mt_row, disks on the master target)
        self.disk_plan = None  # master_target.Plan returning disks from master targets
        self.vmotions = []     # (vm name, vm_row or None, host_row)
        self.power_ons = []    # vm names
        self.results = {}

    def changed(self):
        return bool(self.creates or (self.disk_plan and self.disk_plan.changed()) or self.vmotions or self.power_ons)


def _plan_create(inventory, want, result, entry):
    """An alternate-location VM that does not exist yet: create it from its VMDKs on the master target.
    Returns ``(host row, problems)``."""
    if want.location != "alternate":
        return None, ["VM %s does not exist; original-location failback needs it. Use location: alternate to create it "
                      "on the master target's host." % want.name]
    missing = [k for k in ("master_target", "datastore", "num_cpu", "memory_mb", "guest_id") if not getattr(want, k)]
    if missing:
        return None, ["VM %s does not exist and cannot be created without %s." % (want.name, ", ".join(missing))]
    mt_row = inventory.find_vms([want.master_target], kind="Master target")[want.master_target]
    prefix = "[%s] %s/" % (want.datastore, want.name)
    own = [d for d in facts.disks(mt_row.get("config.hardware.device")) if d["file"].startswith(prefix)]
    if not own:
        return None, ["VM %s: no disk under %s is attached to master target %s; the VM would boot without its data. "
                      "Reprotect it first (or attach its disks with master_target_disks)." % (
                          want.name, prefix, mt_row["name"])]
    result.creates.append((want, mt_row, own))
    entry.update(created=True, disks_returned=len(own), changed=True)
    return inventory.host_of(mt_row), []


def _plan_power(inventory, want, row, host_row, vm_memory, remediation, planned_memory, result, entry):
    """Where the VM powers on: its host, or (vmotion remediation) a host of its cluster with the memory."""
    if str(host_row.get("runtime.connectionState")) != "connected":
        return ["VM %s: its ESXi host %s is %s; it cannot be powered on until the host is connected."
                % (want.name, host_row["name"], host_row.get("runtime.connectionState"))]
    free = _free_mb(host_row, planned_memory)
    target = host_row
    if free < vm_memory:
        if remediation != "vmotion":
            return ["VM %s needs %d MB but ESXi host %s has %d MB free. %s"
                    % (want.name, vm_memory, host_row["name"], free, ERROR_8038)]
        if row is None:
            return ["VM %s would be created on the master target's host %s, which has %d MB free of the %d MB it "
                    "needs. Free memory on that host or use another master target. %s"
                    % (want.name, host_row["name"], free, vm_memory, ERROR_8038)]
        target = _vmotion_target(inventory, row, host_row, vm_memory, planned_memory)
        if target is None:
            return ["VM %s needs %d MB but ESXi host %s has %d MB free, and no other connected host of its cluster has "
                    "the memory and mounts all its datastores. %s"
                    % (want.name, vm_memory, host_row["name"], free, ERROR_8038)]
        result.vmotions.append((want.name, row, target))
        entry.update(vmotion_to=target["name"], changed=True)
    planned_memory[target["moid"]] = planned_memory.get(target["moid"], 0) + vm_memory
    result.power_ons.append(want.name)
    entry.update(powered_on=True, changed=True)
    return []


def plan(inventory, wants, remediation):
    """Check every VM, then plan; raise listing every refusal (nothing changed)."""
    result = Plan()
    refusals = []
    planned_memory = {}
    detach_requests = []
    for want in wants:
        row = inventory.vm_by_name(want.name)
        entry = {"name": want.name, "created": False, "disks_returned": 0, "vmotion_to": None, "powered_on": False,
                 "changed": False}
        result.results[want.name] = entry
        if row is None:
            host_row, problems = _plan_create(inventory, want, result, entry)
            vm_memory, vm_power = want.memory_mb, "poweredOff"
        else:
            host_row, problems = inventory.host_of(row), []
            vm_memory, vm_power = row.get("config.hardware.memoryMB") or 0, str(row.get("runtime.powerState"))
            if want.master_target and want.location == "original":
                detach_requests.append(master_target.Request(
                    {"name": want.name, "master_target": want.master_target, "location": "original"}, {}))
        if not problems and vm_power != "poweredOn":
            problems = _plan_power(inventory, want, row, host_row, vm_memory, remediation, planned_memory, result, entry)
        refusals += problems
    if detach_requests:
        try:
            result.disk_plan = master_target.plan_detach(inventory, detach_requests, reattach=True)
        except VSphereError as error:
            refusals.extend(error.details.get("refusals") or [error.msg])
        else:
            for disk_result in result.disk_plan.results:
                returned = len([d for d in disk_result["disks"] if d["before"] != "vm"])
                result.results[disk_result["name"]]["disks_returned"] = returned
                result.results[disk_result["name"]]["changed"] |= bool(returned)
    if refusals:
        raise VSphereError("Refusing to bring the VMs up; nothing was changed: " + " ".join(refusals), refusals=refusals)
    return result


def _detach_from_master_target(want, mt_row, own):
    """Start detaching the VM's VMDKs from the master target (no file operation)."""
    devices = {d.key: d for d in mt_row.get("config.hardware.device") or []}
    spec = vim.vm.ConfigSpec(deviceChange=[diskops.remove_spec(devices[d["key"]]) for d in own])
    if not diskops.never_destroys(spec):
        raise VSphereError("Internal safety check: a reconfigure would destroy a VMDK; refused.")
    return mt_row["obj"].ReconfigVM_Task(spec=spec), "detach %s's disks from %s" % (want.name, mt_row["name"])


def _create_vm(inventory, want, mt_row, own, networks):
    """Start creating the VM on the master target's host and ``datastore`` with its VMDKs."""
    controller = {"key": -300, "bus": 0, "type": "lsilogic"}
    changes = [diskops.controller_spec(controller)]
    for index, disk in enumerate(sorted(own, key=lambda d: d["file"])):
        changes.append(diskops.attach_spec(disk, (controller["key"], diskops.UNITS[index]), -301 - index))
    for index, name in enumerate(want.networks or []):
        network = networks.get(name)
        if network is None:
            raise VSphereError("VM %s: network %s was not found." % (want.name, name))
        nic = vim.vm.device.VirtualVmxnet3(
            key=-400 - index,
            backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=name, network=network),
            connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, allowGuestControl=True,
                                                                connected=False))
        changes.append(vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                                                       device=nic))
    config = vim.vm.ConfigSpec(name=want.name, numCPUs=want.num_cpu, memoryMB=want.memory_mb, guestId=want.guest_id,
                               firmware=want.firmware or "bios", deviceChange=changes,
                               files=vim.vm.FileInfo(vmPathName="[%s] %s/%s.vmx" % (want.datastore, want.name,
                                                                                    want.name)))
    host = mt_row["runtime.host"]
    return (mt_row["parent"].CreateVM_Task(config=config, pool=mt_row["resourcePool"], host=host),
            "create %s on %s" % (want.name, inventory.hosts[host._moId]["name"]))


def _wait_all(client, pairs, deadline):
    if not pairs:
        return []
    client.stats["tasks"] += len(pairs)
    summaries = wait_for_tasks(client, [t for t, _label in pairs], deadline, labels=[label for _t, label in pairs])
    failed = [s for s in summaries if s["state"] == "error"]
    if failed:
        raise VSphereError("vSphere task(s) failed: " + "; ".join("%s: %s" % (s["label"], s["error"]) for s in failed),
                           failed=[s["label"] for s in failed])
    return [s["label"] for s in summaries]


def apply(client, inventory, planned, deadline):
    done = []
    if planned.creates:
        # each VM: detach its VMDKs from the master target, then create it; VMs side by side
        done += _wait_all(client, [_detach_from_master_target(w, mt, own) for w, mt, own in planned.creates], deadline)
        networks = {row["name"]: row["obj"] for row in client.retrieve(vim.Network, ["name"])}
        done += _wait_all(client, [_create_vm(inventory, w, mt, own, networks) for w, mt, own in planned.creates],
                          deadline)
    if planned.disk_plan is not None and planned.disk_plan.changed():
        done += master_target.apply(client, planned.disk_plan, deadline)
    after = Inventory(client) if (planned.creates or planned.vmotions) else inventory
    pairs = []
    for name, _row, host in planned.vmotions:
        row = after.vm_by_name(name)
        cluster = after.cluster_of(after.hosts[host["moid"]])
        pool = cluster["obj"].resourcePool if cluster else None
        pairs.append((row["obj"].RelocateVM_Task(spec=vim.vm.RelocateSpec(host=host["obj"], pool=pool)),
                      "vMotion %s to %s" % (name, host["name"])))
    done += _wait_all(client, pairs, deadline)
    started = time.monotonic()
    after = Inventory(client) if planned.creates else after
    pairs = [(after.vm_by_name(name)["obj"].PowerOnVM_Task(), "power on %s" % name) for name in planned.power_ons]
    done += _wait_all(client, pairs, deadline)
    return done, round(time.monotonic() - started, 3) if pairs else None


def wait_for_tools(client, inventory, names, deadline, poll=1.0):
    """Wait until VMware Tools run in every VM of ``names`` (one property read per poll for all)."""
    rows = [inventory.vm_by_name(name) for name in names]
    objects = [row["obj"] for row in rows if row is not None]
    statuses = {}
    while objects:
        statuses = {row["name"]: row for row in client.retrieve(None, ["name", "guest.toolsRunningStatus",
                                                                       "guest.toolsStatus"], objects=objects)}
        waiting = [name for name, row in statuses.items() if row.get("guest.toolsRunningStatus") != "guestToolsRunning"]
        if not waiting or deadline.expired():
            break
        deadline.sleep(poll)
    return {name: {"tools_running_status": row.get("guest.toolsRunningStatus"),
                   "tools_status": str(row.get("guest.toolsStatus")) if row.get("guest.toolsStatus") else None}
            for name, row in statuses.items()}


def ensure(client, entries, defaults, remediation, check_mode, deadline, tools_deadline=None):
    """The module's whole job: returns ``{changed, vms, tasks, power_on_seconds}``."""
    wants = [Want(entry, defaults) for entry in entries]
    inventory = Inventory(client)
    planned = plan(inventory, wants, remediation)
    outcome = {"changed": planned.changed(), "vms": [planned.results[w.name] for w in wants], "tasks": [],
               "power_on_seconds": None}
    if check_mode or not planned.changed():
        after = inventory
    else:
        outcome["tasks"], outcome["power_on_seconds"] = apply(client, inventory, planned, deadline)
        after = Inventory(client)
    names = [w.name for w in wants if after.vm_by_name(w.name) is not None]
    tools = {}
    if tools_deadline is not None and not check_mode:
        tools = wait_for_tools(client, after, names, tools_deadline)
    for entry in outcome["vms"]:
        row = after.vm_by_name(entry["name"])
        if row is not None:
            host = after.host_of(row)
            entry.update(host=host["name"] if host else None, power_state=str(row.get("runtime.powerState")),
                         tools_running_status=row.get("guest.toolsRunningStatus"),
                         tools_status=str(row.get("guest.toolsStatus")) if row.get("guest.toolsStatus") else None)
            entry.update(tools.get(entry["name"], {}))
        else:  # check mode for a VM to be created
            entry.update(host=None, power_state=None, tools_running_status=None, tools_status=None)
    not_running = [e["name"] for e in outcome["vms"]
                   if tools_deadline is not None and not check_mode and e["tools_running_status"] != "guestToolsRunning"]
    if not_running:
        raise VSphereError("VMware Tools are not running in %s after %.0f s: the VM is on but its guest has not "
                           "come up. Check the console; do not commit the failback until it runs."
                           % (", ".join(not_running), tools_deadline.elapsed()), not_running=not_running,
                           vms=outcome["vms"], tasks=outcome["tasks"])
    return outcome
