# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failed-back VM on-premises: created (alternate location), its disks on it, powered on
on a host with the memory for it, VMware Tools running.

Plan on one inventory read (plus a datastore search for VMDKs attached to nothing, and the port
groups of the hosts VMs are created on), validate all of it and refuse before changing anything,
then apply in phases (detach from the master target, create, disks, vMotion, power on), each
phase's tasks started together and awaited with one property read per poll.

Every state a failure after the first change leaves is one the same call repairs: an
alternate-location VM whose VMDKs were detached from the master target but which was not
created is created on a re-run from its VMDKs where they are (``[datastore] name/``, attached to
nothing); no VMDK is created, destroyed or attached twice.
"""

from __future__ import annotations

import re
import time

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits, rules
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
        self.creates = []      # (want, mt_row, [disks with their slot]) - see Create for the rest
        self.create_plans = {}  # vm name -> Create
        self.disk_plan = None  # master_target.Plan returning disks from master targets
        self.vmotions = []     # (vm name, vm_row or None, host_row)
        self.power_ons = []    # vm names
        self.results = {}
        self.existing = set()  # VMDK files known to exist (never created)

    def changed(self):
        return bool(self.creates or (self.disk_plan and self.disk_plan.changed()) or self.vmotions or self.power_ons)


class Create:
    """Everything the creation of one alternate-location VM needs, resolved at plan time.

    ``host``: the master target's ESXi host row (the VM is created there); ``disks``: its VMDKs in disk
    order, each ``{file, size_gb, uuid, where (mt|none), slot (controller key, unit)}``;
    ``controllers``: the LSI Logic controllers to add (``disks.new_vm_slots``); ``nics``: one
    ``(port group name, network moref, backing)`` per network, resolved on ``host``.
    """

    def __init__(self, want, mt_row, host, disks, controllers, nics):
        self.want, self.mt_row, self.host, self.disks = want, mt_row, host, disks
        self.controllers, self.nics = controllers, nics


class PortGroups:
    """The port groups (standard or distributed) of each ESXi host, read once when a VM is created
    with networks: ``of(host_row)`` -> ``{name: [network moref, ...]}``."""

    def __init__(self, client):
        self.client = client
        self._hosts = None
        self._names = None

    def of(self, host_row):
        if self._hosts is None:
            self._names = {row["moid"]: row["name"] for row in self.client.retrieve(vim.Network, ["name"])}
            self._hosts = {row["moid"]: row.get("network") or []
                           for row in self.client.retrieve(vim.HostSystem, ["name", "network"])}
        result = {}
        for ref in self._hosts.get(host_row["moid"], []):
            if ref._moId in self._names:
                result.setdefault(self._names[ref._moId], []).append(ref)
        return result

    def backing(self, name, network):
        """The NIC backing for ``network``: a distributed port group needs its key and its switch's UUID."""
        if isinstance(network, vim.dvs.DistributedVirtualPortgroup):
            row = self.client.retrieve(None, ["key", "config.distributedVirtualSwitch"], objects=[network])[0]
            switch = self.client.retrieve(None, ["uuid"], objects=[row["config.distributedVirtualSwitch"]])[0]
            return vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
                port=vim.dvs.PortConnection(portgroupKey=row["key"], switchUuid=switch["uuid"]))
        return vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=name, network=network)


def search(client, inventory, wants, deadline):
    """Search the datastores where VMDKs of these VMs may sit attached to nothing (a run that stopped
    between detaching them and attaching them): an alternate-location VM's datastore, an original-location
    VM's directory. Read-only (SearchDatastoreSubFolders tasks); returns a ``master_target.Found``."""
    names = set()
    for want in wants:
        row = inventory.vm_by_name(want.name)
        if row is None and want.location == "alternate" and want.datastore:
            names.add(want.datastore)
        elif row is not None:  # its own directory: VMDKs of it a stopped job or run left attached to nothing
            names.add(facts.datastore_of_file(row.get("config.files.vmPathName")))
    names = sorted(n for n in names if n and inventory.datastore_by_name(n) is not None)
    if not names:
        return master_target.Found()
    sizes = {}
    return master_target.Found(diskops.search_vmdks(client, inventory, names, deadline, sizes=sizes), sizes)


def _plan_existing(inventory, want, row, found, detach_requests):
    """A VM that exists: its disks come back from the master target (original location with one), or none of its
    own VMDKs may be left attached to nothing. Returns its problems."""
    if want.master_target and want.location == "original":
        detach_requests.append(master_target.Request(
            {"name": want.name, "master_target": want.master_target, "location": "original"}, {}))
        return []
    return _stray_disks(inventory, want, row, found)


def _stray_disks(inventory, want, row, found):
    """An existing VM's own VMDKs (``[ds] name/name[_N].vmdk``, in the directory of its .vmx) that no VM holds: a
    job or a run stopped between detaching and attaching them. The VM must not run without them (its commit would
    be refused, or worse): a refusal naming each, and the repair."""
    vmx = row.get("config.files.vmPathName") or ""
    directory = vmx.rpartition("/")[0] + "/" if "/" in vmx else None
    if not directory:
        return []
    pattern = re.compile(r"^%s(_\d+)?\.vmdk$" % re.escape(want.name))
    attached = {f for f in inventory.attached_files() if f}
    strays = sorted((directory + name for name in found.get(directory, [])
                     if pattern.match(name) and directory + name not in attached), key=diskops.natural_key)
    if not strays:
        return []
    return ["VM %s: its VMDK(s) %s are attached to no VM; it is not started without them. Attach them to %s "
            "(siterecovery.failback.master_target_disks with state: detached and reattach: true, or the vSphere "
            "client: add existing hard disk), then re-run." % (want.name, ", ".join(strays), want.name)]


def _own_disks(inventory, want, mt_row, found, holders):
    """The VM's VMDKs ``[datastore] name/name[_N].vmdk``: on the master target, or on the datastore
    attached to nothing. Returns ``(disks in disk order, problems)``."""
    directory = "[%s] %s/" % (want.datastore, want.name)
    pattern = re.compile(r"^%s(_\d+)?\.vmdk$" % re.escape(want.name))
    problems = []
    own = [dict(d, where="mt") for d in facts.disks(mt_row.get("config.hardware.device"))
           if d["file"] and d["file"].startswith(directory)]
    known = {d["file"] for d in own}
    for name in found.get(directory, []):
        file_name = directory + name
        if file_name in known or not pattern.match(name):
            continue
        holder = holders.get(file_name)
        if holder is None:
            own.append({"file": file_name, "size_gb": found.sizes.get(file_name, 0), "uuid": None, "where": "none"})
        else:
            problems.append("VM %s: its VMDK %s is attached to VM %s, not to master target %s. Detach it from %s "
                            "(without deleting it) and re-run."
                            % (want.name, file_name, holder, mt_row["name"], holder))
    return sorted(own, key=lambda d: diskops.natural_key(d["file"])), problems


def _plan_create(inventory, want, result, entry, found=None, port_groups=None):
    """An alternate-location VM that does not exist yet: create it on the master target's host from its
    VMDKs (on the master target, or left on the datastore by a run that stopped). Resolves and checks
    the host, the datastore, every disk's SCSI slot and every network on that host.
    Returns ``(host row, problems)``."""
    found = found if found is not None else master_target.Found()
    if want.location != "alternate":
        return None, ["VM %s does not exist; original-location failback needs it. Use location: alternate to create it "
                      "on the master target's host." % want.name]
    missing = [k for k in ("master_target", "datastore", "num_cpu", "memory_mb", "guest_id") if not getattr(want, k)]
    if missing:
        return None, ["VM %s does not exist and cannot be created without %s." % (want.name, ", ".join(missing))]
    mt_row = inventory.find_vms([want.master_target], kind="Master target")[want.master_target]
    host_row = inventory.host_of(mt_row)
    if host_row is None:
        return None, ["VM %s: master target %s has no ESXi host in the inventory, so there is no host to create the "
                      "VM on." % (want.name, mt_row["name"])]
    holders = {}
    for row in inventory.vms.values():
        if row["moid"] != mt_row["moid"]:
            for disk in facts.disks(row.get("config.hardware.device")):
                holders.setdefault(disk["file"], row["name"])
    own, problems = _own_disks(inventory, want, mt_row, found, holders)
    prefix = "[%s] %s/" % (want.datastore, want.name)
    if not own and not problems:
        problems.append("VM %s: no disk under %s is attached to master target %s or left on datastore %s; the VM would "
                        "boot without its data. Reprotect it first (or attach its disks with master_target_disks)."
                        % (want.name, prefix, mt_row["name"], want.datastore))
    problems += _datastore_problems(inventory, want, host_row)
    slots = diskops.new_vm_slots(len(own))
    if slots is None:
        problems.append("VM %s has %d disks; a VM takes at most %d (%d SCSI controllers x %d disks, unit %d is the "
                        "controller's). Fail it back with fewer disks." % (
                            want.name, len(own), limits.SCSI_MAX_DISKS, limits.SCSI_MAX_CONTROLLERS,
                            limits.SCSI_UNITS_PER_CONTROLLER, limits.SCSI_RESERVED_UNIT))
        controllers = []
    else:
        controllers, taken = slots
        own = [dict(d, slot=slot) for d, slot in zip(own, taken, strict=True)]
    nics, nic_problems = _resolve_networks(want, host_row, mt_row, port_groups)
    problems += nic_problems
    if problems:
        return host_row, problems
    result.creates.append((want, mt_row, own))
    result.create_plans[want.name] = Create(want, mt_row, host_row, own, controllers, nics)
    entry.update(created=True, disks_returned=len(own), changed=True)
    return host_row, []


def _datastore_problems(inventory, want, host_row):
    row = inventory.datastore_by_name(want.datastore)
    if row is None:
        return ["VM %s: datastore %s does not exist." % (want.name, want.datastore)]
    mounted = [d["name"] for d in inventory.datastore_rows(host_row.get("datastore"))]
    broken = (rules.datastore_reach(want.name, [want.datastore], mounted,
                                    "ESXi host %s, where the VM is created (the master target's host)" % host_row["name"])
              or rules.datastore_kind(want.name, want.datastore, str(row.get("summary.type") or "other")))
    return [broken.sentence()] if broken else []


def _resolve_networks(want, host_row, mt_row, port_groups):
    """One ``(name, network, backing)`` per network of ``want``, each a port group of ``host_row``."""
    if not want.networks:
        return [], []
    if port_groups is None:
        return [], ["VM %s: the port groups of ESXi host %s were not read; networks cannot be checked."
                    % (want.name, host_row["name"])]
    available = port_groups.of(host_row)
    nics, problems = [], []
    for name in want.networks:
        matches = available.get(name, [])
        if len(matches) == 1:
            nics.append((name, matches[0], port_groups.backing(name, matches[0])))
        elif not matches:
            problems.append("VM %s: network %s is not a port group of ESXi host %s, where the VM is created (the host "
                            "of master target %s). That host has: %s. Use one of them, or a master target on a host "
                            "that has %s." % (want.name, name, host_row["name"], mt_row["name"],
                                              ", ".join(sorted(available)) or "no port group", name))
        else:
            problems.append("VM %s: %d port groups of ESXi host %s are called %s; rename one so the network is "
                            "unambiguous." % (want.name, len(matches), host_row["name"], name))
    return nics, problems


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


def plan(inventory, wants, remediation, found=None, port_groups=None):
    """Check every VM, then plan; raise listing every refusal (nothing changed).

    ``found``: :func:`search`'s answer (VMDKs attached to nothing); ``port_groups``: a :class:`PortGroups`
    (read only when a VM is created with networks; None refuses such a VM)."""
    found = found if found is not None else master_target.Found()
    if port_groups is None and any(w.networks for w in wants):
        port_groups = PortGroups(inventory.client)
    result = Plan()
    refusals = []
    planned_memory = {}
    detach_requests = []
    for want in wants:
        row = inventory.vm_by_name(want.name)
        entry = {"name": want.name, "created": False, "disks_returned": 0, "vmotion_to": None, "powered_on": False,
                 "changed": False}
        result.results[want.name] = entry
        same_name = [r for r in inventory.vms.values() if r["name"] == want.name and not r.get("config.template")]
        if row is None and same_name:
            refusals.append("VM %s: %d VMs have that name; rename the ones that are not this VM and re-run."
                            % (want.name, len(same_name)))
            continue
        if row is None:
            host_row, problems = _plan_create(inventory, want, result, entry, found, port_groups)
            vm_memory, vm_power = want.memory_mb, "poweredOff"
        else:
            host_row, vm_memory, vm_power = inventory.host_of(row), row.get("config.hardware.memoryMB") or 0, str(
                row.get("runtime.powerState"))
            problems = _plan_existing(inventory, want, row, found, detach_requests)
        if not problems and vm_power != "poweredOn":
            problems = _plan_power(inventory, want, row, host_row, vm_memory, remediation, planned_memory, result, entry)
        refusals += problems
    if detach_requests:
        try:
            result.disk_plan = master_target.plan_detach(inventory, detach_requests, reattach=True, found=found)
        except VSphereError as error:
            refusals.extend(error.details.get("refusals") or [error.msg])
        else:
            for disk_result in result.disk_plan.results:
                returned = len([d for d in disk_result["disks"] if d["before"] != "vm"])
                result.results[disk_result["name"]]["disks_returned"] = returned
                result.results[disk_result["name"]]["changed"] |= bool(returned)
    if refusals:
        raise VSphereError("Refusing to bring the VMs up; nothing was changed: " + " ".join(refusals), refusals=refusals)
    result.existing = {f for f in inventory.attached_files() if f} | {
        folder + name for folder, names in found.items() for name in names}
    return result


def _detach_from_master_target(mt_row, creates):
    """Start detaching the VMDKs of ``creates`` (VMs to be created) from one master target, in one
    reconfigure (no file operation: every VMDK stays on its datastore)."""
    devices = {d.key: d for d in mt_row.get("config.hardware.device") or []}
    keys = [d["key"] for c in creates for d in c.disks if d["where"] == "mt"]
    spec = vim.vm.ConfigSpec(deviceChange=[diskops.remove_spec(devices[key]) for key in keys])
    if not diskops.never_destroys(spec):
        raise VSphereError("Internal safety check: a reconfigure would destroy a VMDK; refused.")
    names = " and ".join("%s's" % c.want.name for c in creates)
    return mt_row["obj"].ReconfigVM_Task(spec=spec), "detach %s disks from %s" % (names, mt_row["name"])


def _create_vm(create, existing):
    """Start creating the VM on its planned host and datastore with its VMDKs attached as they are
    (no file operation) on their planned slots, and its planned NICs."""
    want = create.want
    changes = [diskops.controller_spec(c) for c in create.controllers]
    for index, disk in enumerate(create.disks):
        changes.append(diskops.attach_spec(disk, disk["slot"], -301 - index))
    for index, (_name, _network, backing) in enumerate(create.nics):
        nic = vim.vm.device.VirtualVmxnet3(
            key=-400 - index, backing=backing,
            connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, allowGuestControl=True,
                                                                connected=False))
        changes.append(vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                                                       device=nic))
    config = vim.vm.ConfigSpec(name=want.name, numCPUs=want.num_cpu, memoryMB=want.memory_mb, guestId=want.guest_id,
                               firmware=want.firmware or "bios", deviceChange=changes,
                               files=vim.vm.FileInfo(vmPathName="[%s] %s/%s.vmx" % (want.datastore, want.name,
                                                                                    want.name)))
    if not diskops.never_destroys(config) or diskops.creates_existing(config, existing) or any(
            c.fileOperation for c in changes if isinstance(c.device, vim.vm.device.VirtualDisk)):
        raise VSphereError("Internal safety check: creating VM %s would create or destroy a VMDK; its VMDKs are "
                           "attached as they are. Refused." % want.name)
    mt_row = create.mt_row
    return (mt_row["parent"].CreateVM_Task(config=config, pool=mt_row["resourcePool"], host=create.host["obj"]),
            "create %s on %s" % (want.name, create.host["name"]))


def _wait_all(client, pairs, deadline, after_failure=""):
    if not pairs:
        return []
    client.stats["tasks"] += len(pairs)
    summaries = wait_for_tasks(client, [t for t, _label in pairs], deadline, labels=[label for _t, label in pairs])
    failed = [s for s in summaries if s["state"] == "error"]
    if failed:
        raise VSphereError("vSphere task(s) failed: " + "; ".join("%s: %s" % (s["label"], s["error"]) for s in failed)
                           + after_failure, failed=[s["label"] for s in failed])
    return [s["label"] for s in summaries]


def apply(client, inventory, planned, deadline):
    done = []
    creates = [planned.create_plans[want.name] for want, _mt, _own in planned.creates]
    if creates:
        # one reconfigure per master target takes the VMs' VMDKs off it; then every VM is created
        by_mt = {}
        for create in creates:
            if any(d["where"] == "mt" for d in create.disks):
                by_mt.setdefault(create.mt_row["moid"], (create.mt_row, []))[1].append(create)
        done += _wait_all(client, [_detach_from_master_target(mt, group) for mt, group in by_mt.values()], deadline)
        done += _wait_all(client, [_create_vm(c, planned.existing) for c in creates], deadline,
                          " The VMDKs of a VM that was not created are on its datastore, attached to no VM: a re-run "
                          "creates the VM with them.")
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
    planned = plan(inventory, wants, remediation, search(client, inventory, wants, deadline))
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
