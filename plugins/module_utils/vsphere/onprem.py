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
nothing); a VM that exists with fewer disks than it should (a failover job or a run stopped between
detaching its VMDKs and attaching them to it) gets its own VMDKs (``[ds] name/name[_N].vmdk`` in the
directory of its .vmx, attached to no VM) attached as they are, in disk order; no VMDK is created,
destroyed or attached twice.
"""

from __future__ import annotations

import time

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import hosts as hosts_rule
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits, replica_holder, rules, source_vm
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import verification as verifications
from ansible_collections.siterecovery.failback.plugins.module_utils.progress import NONE
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
                    "networks", "disk_sizes_gb", "instance_uuid", "scsi_type"):
            setattr(self, key, entry.get(key) if entry.get(key) is not None else defaults.get(key))
        self.location = self.location or "original"
        # what ASR reports about the source machine (replicated_item_info's ``source``), and the user's
        # {source network: target port group}: the VM's own map over the module-wide one
        self.source = entry.get("source") or {}
        self.own_network_map = dict(entry.get("network_map") or {})
        # record the VM's disks in a failback manifest when it carries none: the failover module asks for it for
        # a classic VM whose failover it has just run (the disks ASR attached), domain.commit_gate
        self.record_disks = bool(entry.get("record_disks"))
        # the master target Site Recovery names for the VM's item (its masterTargetId, asr.fabric.master_target_of):
        # only the disk UUIDs pinned there count (a copy of a master target carries a stale pin)
        self.pins_from = entry.get("pins_from")
        self.network_map = dict(defaults.get("network_map") or {}, **self.own_network_map)


def _free_mb(host_row, planned):
    total = (host_row.get("summary.hardware.memorySize") or 0) // facts.MB
    used = host_row.get("summary.quickStats.overallMemoryUsage") or 0
    return total - used - planned.get(host_row["moid"], 0)


def vm_needs(inventory, vm_row, memory_mb):
    """The VM as ``domain.hosts`` reads it: its memory, its cluster (moid), the datastore of every file (the
    .vmx directory and every disk) and the network (moid) of every adapter."""
    host_row = inventory.host_of(vm_row)
    cluster = inventory.cluster_of(host_row) if host_row is not None else None
    files = [vm_row.get("config.files.vmPathName")] + [d["file"] for d in facts.disks(vm_row.get("config.hardware.device"))]
    return {"name": vm_row["name"], "memory_mb": memory_mb, "cluster": cluster["moid"] if cluster else None,
            "cluster_name": cluster["name"] if cluster else None,
            "datastores": sorted({facts.datastore_of_file(f) for f in files if f} - {None, ""}),
            "networks": sorted(ref._moId for ref in vm_row.get("network") or [])}


def host_offers(inventory, host_row, planned, networks):
    """An ESXi host as ``domain.hosts`` reads it (cluster and networks by moid, free memory less ``planned``)."""
    cluster = inventory.cluster_of(host_row)
    return {"name": host_row["name"], "moid": host_row["moid"], "cluster": cluster["moid"] if cluster else None,
            "connection_state": str(host_row.get("runtime.connectionState")),
            "maintenance_mode": bool(host_row.get("runtime.inMaintenanceMode")),
            "memory_free_mb": _free_mb(host_row, planned),
            "datastores": [d["name"] for d in inventory.datastore_rows(host_row.get("datastore"))],
            "networks": sorted(networks.get(host_row["moid"], ()))}


def _vmotion_target(inventory, vm_row, host_row, memory_mb, planned, port_groups):
    """The host the 8038 remedy moves the VM to: by ``domain.hosts`` (connected, not in maintenance, the memory,
    every datastore of every file of the VM, every network of it, the same cluster), the one with the most free
    memory. Returns ``(host row or None, {host name: [why it cannot run the VM]})``. Checked here, before the
    vMotion is asked for: a real vCenter refuses what the simulator may accept."""
    networks, names = port_groups.host_networks()
    vm = vm_needs(inventory, vm_row, memory_mb)
    candidates = [host_offers(inventory, row, planned, networks) for row in inventory.hosts.values()]
    chosen, rejected = hosts_rule.choose(vm, candidates, exclude={host_row["name"]}, network_names=names)
    return (inventory.hosts[chosen["moid"]] if chosen else None), rejected


class Plan:
    def __init__(self):
        self.creates = []      # (want, mt_row, [disks with their slot]) - see Create for the rest
        self.create_plans = {}  # vm name -> Create
        self.disk_plan = None  # master_target.Plan returning disks from master targets
        self.vmotions = []     # (vm name, vm_row or None, host_row)
        self.power_ons = []    # vm names
        self.results = {}
        self.existing = set()  # VMDK files known to exist (never created)
        self.repairs = {}      # vm name -> Repair (an existing VM's own VMDKs attached to no VM)
        self.instance_uuids = {}  # vm name -> the instance UUID that identifies it (None: its unique name)
        self.records = []      # vm names whose disks get a failback manifest (record_disks, none yet)

    def changed(self):
        return bool(self.creates or (self.disk_plan and self.disk_plan.changed()) or self.vmotions or self.power_ons
                    or self.repairs or self.records)


class Create:
    """Everything the creation of one alternate-location VM needs, resolved at plan time.

    ``host``: the master target's ESXi host row (the VM is created there); ``disks``: its VMDKs in disk
    order, each ``{file, size_gb, uuid, where (mt|none), slot (controller key, unit)}``;
    ``controllers``: the SCSI controllers to add (``disks.new_vm_slots``, of ``shape["scsi_type"]``); ``nics``: one
    ``(port group name, network moref, backing)`` per network, resolved on ``host``; ``shape``: ``{firmware
    (efi|bios), guest_id, scsi_type}`` (:func:`_shape`).
    """

    def __init__(self, want, mt_row, host, disks, controllers, nics, shape=None):
        self.want, self.mt_row, self.host, self.disks = want, mt_row, host, disks
        self.controllers, self.nics = controllers, nics
        self.record = True  # its failback manifest is written in the create (every disk's UUID is known)
        self.shape = shape or {"firmware": want.firmware or "bios", "guest_id": want.guest_id,
                               "scsi_type": want.scsi_type or source_vm.DEFAULT_SCSI}


class Repair:
    """Attaching an existing VM's own VMDKs that are attached to no VM, resolved at plan time.

    ``row``: the VM's inventory row; ``attach``: the loose VMDKs in disk order, each ``{file, size_gb (its
    capacity as the datastore search reported it, 0 when unknown), uuid (None: vSphere reads it from the VMDK),
    position (bus, unit), slot (controller key, unit)}``; ``moves``: the VM's own disks attached on a slot that
    breaks disk order, each ``{file, key, size_gb, uuid, before (bus, unit), position, slot}`` (taken off without
    a file operation and attached again on ``slot`` in the same reconfigure, which needs the VM powered off);
    ``controllers``: the LSI Logic controllers to add ``[{key, bus, type}]``; ``power_off``: the VM runs and must
    be powered off for ``moves``; ``from_mt``: ``[(master target row, [its disks])]``, the VM's VMDKs still attached
    to the master target Site Recovery names for its item (a failover job stopped after moving some of them,
    ``domain.replica_holder``), taken off it - their UUIDs pinned there - before the attach (those of ``attach``
    with ``from``, the master target's name).
    """

    def __init__(self, row, attach, moves, controllers, power_off, from_mt=()):
        self.row, self.attach, self.moves, self.controllers, self.power_off = row, attach, moves, controllers, power_off
        self.from_mt = list(from_mt)


class PortGroups:
    """The port groups (standard or distributed) of each ESXi host, read once when a VM is created
    with networks: ``of(host_row)`` -> ``{name: [network moref, ...]}``. A distributed switch's uplink port
    group (its ``config.uplinkPortgroup``) carries the hosts' physical adapters, not VMs: vCenter refuses a VM NIC
    on it (InvalidArgument), so it is no port group a VM can take and is left out (new-user try of issue 14)."""

    def __init__(self, client):
        self.client = client
        self._hosts = None
        self._names = None
        self._switches = None  # distributed port group moid -> its switch's name
        self._ports = None  # distributed port group moid -> (its key, its switch's UUID): a NIC's backing

    def _read(self):
        """The reads of networks, hosts, distributed switches (name, UUID, uplink port groups) and distributed port
        groups (key, switch), once for the whole plan: a NIC's backing needs no read of its own."""
        if self._hosts is None:
            switches = {row["moid"]: row for row in self.client.retrieve(vim.DistributedVirtualSwitch,
                                                                         ["name", "uuid", "config.uplinkPortgroup"])}
            uplinks = {ref._moId for row in switches.values() for ref in row.get("config.uplinkPortgroup") or []}
            self._switches, self._ports = {}, {}
            for row in self.client.retrieve(vim.dvs.DistributedVirtualPortgroup,
                                            ["key", "config.distributedVirtualSwitch"]):
                switch = row.get("config.distributedVirtualSwitch")
                self._switches[row["moid"]] = (switches.get(switch._moId) or {}).get("name") if switch else None
                self._ports[row["moid"]] = (row.get("key"), (switches.get(switch._moId) or {}).get("uuid")
                                            if switch else None)
            self._names = {row["moid"]: row["name"] for row in self.client.retrieve(vim.Network, ["name"])
                           if row["moid"] not in uplinks}
            self._hosts = {row["moid"]: row.get("network") or []
                           for row in self.client.retrieve(vim.HostSystem, ["name", "network"])}

    def host_networks(self):
        """``({host moid: {network moid}}, {network moid: name})`` for ``domain.hosts`` (the 8038 remedy), from the
        same reads as :meth:`of`."""
        self._read()
        return {moid: {ref._moId for ref in refs} for moid, refs in self._hosts.items()}, dict(self._names)

    def of(self, host_row):
        self._read()
        result = {}
        for ref in self._hosts.get(host_row["moid"], []):
            if ref._moId in self._names:
                result.setdefault(self._names[ref._moId], []).append(ref)
        return result

    def switch_name(self, network):
        """The name of the distributed switch of a distributed port group; None for a standard switch's (from the
        plan's one read, :meth:`_read`)."""
        self._read()
        return self._switches.get(network._moId)

    def switch_of(self, network):
        """Where a port group lives, as vSphere names it: ``distributed switch <name>`` or ``a standard switch``."""
        switch = self.switch_name(network)
        return "distributed switch %s" % switch if switch else "a standard switch"

    def find(self, host_row, name):
        """``(port group name, [network moref])``: the port groups of ``host_row`` called ``name``, or - for
        ``<distributed switch>/<port group>``, which picks one of two port groups of one name - the one of that
        distributed switch (a name that is itself a port group's wins)."""
        available = self.of(host_row)
        if name in available or "/" not in name:
            return name, available.get(name, [])
        switch, group = name.split("/", 1)
        return group, [ref for ref in available.get(group, []) if self.switch_name(ref) == switch]

    def backing(self, name, network):
        """The NIC backing for ``network``: a distributed port group needs its key and its switch's UUID (both from
        the plan's one read, :meth:`_read`)."""
        if isinstance(network, vim.dvs.DistributedVirtualPortgroup):
            self._read()
            key, switch_uuid = self._ports.get(network._moId, (None, None))
            if key is None or switch_uuid is None:
                raise VSphereError("Distributed port group %s (%s) was not found with its key and its distributed "
                                   "switch's UUID in vCenter's port groups; re-run (it may have been removed meanwhile)."
                                   % (name, network._moId))
            return vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
                port=vim.dvs.PortConnection(portgroupKey=key, switchUuid=switch_uuid))
        return vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=name, network=network)


def search(client, inventory, wants, deadline):
    """Search the datastores where VMDKs of these VMs may sit attached to nothing (a run that stopped
    between detaching them and attaching them): an alternate-location VM's datastore, an original-location
    VM's directory. Read-only (SearchDatastoreSubFolders tasks); returns a ``master_target.Found``."""
    names = set()
    for want in wants:
        row = inventory.vm_by_name(want.name, want.instance_uuid)
        if row is None and want.location == "alternate" and want.datastore:
            names.add(want.datastore)
        elif row is not None:  # its own directory: VMDKs of it a stopped job or run left attached to nothing
            names.add(facts.datastore_of_file(row.get("config.files.vmPathName")))
    names = sorted(n for n in names if n and inventory.datastore_by_name(n) is not None)
    if not names:
        return master_target.Found()
    sizes = {}
    return master_target.Found(diskops.search_vmdks(client, inventory, names, deadline, sizes=sizes), sizes)


def _plan_existing(inventory, want, row, found, detach_requests, result, entry):
    """A VM that exists: its disks come back from the master target (original location with one), or its own
    VMDKs left attached to no VM are attached to it (:func:`_plan_repair`); its disks are recorded in a failback
    manifest when asked (``record_disks``) and it carries none. Returns its problems."""
    if want.record_disks and not diskops.manifest(row.get("config.extraConfig")):
        result.records.append(want.name)
        entry.update(disks_recorded=True, changed=True)
    if want.master_target and want.location == "original":
        detach_requests.append(master_target.Request(
            {"name": want.name, "master_target": want.master_target, "location": "original"}, {}))
        return []
    return _plan_repair(inventory, want, row, found, result, entry)


def _position(disk):
    """A disk's place in disk order: ``(bus, unit)``; ``None`` when its controller is not a SCSI controller."""
    return None if disk["controller_bus"] is None else (disk["controller_bus"], disk["unit"])


def _positions():
    """Every SCSI slot a disk may take, in disk order: bus 0 units 0-6, 8-15, then bus 1... (domain.limits)."""
    return [(bus, unit) for bus in limits.SCSI_BUSES for unit in limits.SCSI_UNITS]


def _ordered_slots(own, occupied):
    """Positions for ``own`` (the VM's own VMDKs in disk order: ``{file, position}`` with position None for a
    VMDK attached to no VM) such that their order by (bus, unit) is their disk order.

    First keeping every attached disk where it is (a hot add, any power state): each loose VMDK takes the first
    free position between its attached neighbours. When that cannot be done (an attached disk sits where an
    earlier VMDK belongs: a VM created from part of its disks), every own disk is laid out again from the first
    free position, around ``occupied`` (the positions of the VM's other disks).
    Returns one (bus, unit) per entry of ``own`` (None when no slot is left)."""
    taken = set(occupied) | {d["position"] for d in own if d["position"] is not None}
    placed, previous = [], None
    for index, disk in enumerate(own):
        if disk["position"] is not None:
            if previous is not None and disk["position"] <= previous:
                break
            placed.append(disk["position"])
            previous = disk["position"]
            continue
        upper = next((d["position"] for d in own[index + 1:] if d["position"] is not None), None)
        free = next((p for p in _positions() if p not in taken and (previous is None or p > previous)
                     and (upper is None or p < upper)), None)
        if free is None:
            break
        taken.add(free)
        placed.append(free)
        previous = free
    else:
        return placed
    taken, placed = set(occupied), []
    for _disk in own:
        free = next((p for p in _positions() if p not in taken), None)
        if free is not None:
            taken.add(free)
        placed.append(free)
    return placed


def _loose_vmdks(inventory, want, row, directory, pattern, found):
    """The VM's own VMDKs in ``directory`` (names matching ``pattern``) that no other VM holds, or that the master
    target Site Recovery names for its item (or the one given) holds (``domain.replica_holder``): ``(files attached to
    no VM, in the search's order; [(file, master target row, its disk)], problems)`` - a refusal naming each one
    another VM holds."""
    on_mt = {}  # the VM's VMDKs the master target holds, whether the datastore search listed them or not
    for mt_name in {want.pins_from, want.master_target} - {None, ""}:
        mt_row = _one_vm(inventory, mt_name)
        for disk in inventory.disks_of(mt_row) if mt_row is not None else []:
            if (disk["file"] or "").startswith(directory) and pattern.match(disk["file"][len(directory):]):
                on_mt[disk["file"]] = (mt_row, disk)
    names = list(found.get(directory, [])) + [f[len(directory):] for f in on_mt
                                              if f[len(directory):] not in found.get(directory, [])]
    loose, taken, problems = [], [], []
    for name in names:
        file_name = directory + name
        holder, disk = inventory.holder_of(file_name)
        if not pattern.match(name) or (holder is not None and holder["moid"] == row["moid"]):
            continue
        if holder is None:
            loose.append(file_name)
            continue
        verdict, refusal = replica_holder.decide(want.name, file_name, holder["name"], want.pins_from,
                                                 want.master_target)
        if verdict == replica_holder.TAKE and file_name in on_mt:
            taken.append((file_name, holder, disk))
        else:
            problems.append(refusal or "VM %s: its VMDK %s is attached to VM %s." % (want.name, file_name,
                                                                                     holder["name"]))
    return loose, taken, problems


def _plan_repair(inventory, want, row, found, result, entry):
    """An existing VM's own VMDKs (``[ds] name/name[_N].vmdk``, in the directory of its .vmx) that no VM holds: a
    failover job or a run stopped between detaching them and attaching them to it. Plans each one's SCSI slot (disk
    order follows the VMDK names, so the VM's disks come back in their original order) and records a
    :class:`Repair`; a VMDK of it that another VM holds is refused by name. Returns its problems."""
    directory = diskops.vm_directory(row.get("config.files.vmPathName"))
    if not directory:
        return []
    pattern = diskops.named_after(want.name)
    devices = row.get("config.hardware.device")
    mine = {d["file"]: d for d in facts.disks(devices) if d["file"]}
    loose, taken, problems = _loose_vmdks(inventory, want, row, directory, pattern, found)
    if problems or not (loose or taken):
        return problems
    problems = master_target._host_problems(inventory, row, "VM")
    for mt_row in {id(mt): mt for _f, mt, _d in taken}.values():
        problems += master_target._host_problems(inventory, mt_row, "Master target")
    own_attached = [d for d in mine.values() if d["backing"] == "flat" and d["file"].startswith(directory)
                    and pattern.match(d["file"][len(directory):]) and _position(d) is not None]
    own = sorted([{"file": d["file"], "position": _position(d), "disk": d} for d in own_attached]
                 + [{"file": f, "position": None, "disk": None} for f in loose]
                 + [{"file": f, "position": None, "disk": None, "mt": (mt, d)} for f, mt, d in taken],
                 key=lambda d: diskops.natural_key(d["file"]))
    loose = loose + [f for f, _mt, _d in taken]
    occupied = {_position(d) for d in mine.values() if _position(d) is not None} - {o["position"] for o in own}
    positions = _ordered_slots(own, occupied)
    if None in positions:
        count = len(mine) + len(loose)
        problems.append("VM %s would have %d disks with its VMDK(s) %s; a VM takes at most %d (%d SCSI controllers x "
                        "%d disks, unit %d is the controller's). Free a SCSI slot on it and re-run." % (
                            want.name, count, ", ".join(loose), limits.SCSI_MAX_DISKS, limits.SCSI_MAX_CONTROLLERS,
                            limits.SCSI_UNITS_PER_CONTROLLER, limits.SCSI_RESERVED_UNIT))
    if problems:
        return problems
    controllers = {c["bus"]: c for c in facts.controllers(devices)}
    new_controllers = []
    for bus in sorted({p[0] for p in positions} - set(controllers)):
        controller = {"key": diskops.NEW_VM_CONTROLLER_KEYS[bus], "bus": bus, "type": "lsilogic"}
        controllers[bus] = controller
        new_controllers.append(controller)
    attach, moves = [], []
    pins = _pins(inventory, want.pins_from)
    from_mt = {}  # master target moid -> (its row, [its disks taken off it for this VM])
    for disk, position in zip(own, positions, strict=True):
        slot = (controllers[position[0]]["key"], position[1])
        if disk.get("mt") is not None:
            # on the master target: taken off it (its disk UUID pinned there in the same reconfigure) and attached
            # as it is, recorded with the UUID pinned before the failover job, else the one it has there now
            mt_row, mt_disk = disk["mt"]
            from_mt.setdefault(mt_row["moid"], (mt_row, []))[1].append(mt_disk)
            attach.append({"file": disk["file"], "size_gb": mt_disk["size_gb"], "uuid": mt_disk["uuid"],
                           "pinned_uuid": diskops.pinned(mt_row).get(disk["file"]) or mt_disk["uuid"],
                           "position": position, "slot": slot, "from": mt_row["name"]})
        elif disk["disk"] is None:
            attach.append({"file": disk["file"], "size_gb": found.sizes.get(disk["file"], 0), "uuid": None,
                           "pinned_uuid": pins.get(disk["file"]), "position": position,
                           "slot": slot})
        elif position != disk["position"]:
            moves.append({"file": disk["file"], "key": disk["disk"]["key"], "size_gb": disk["disk"]["size_gb"],
                          "uuid": disk["disk"]["uuid"], "before": disk["position"], "position": position, "slot": slot})
    # a running guest that started without its first disk (the VM ASR created before its VMDKs were back) started
    # without its boot disk: it is powered off for the attach and on again, as for a move
    boot_missing = own[0]["disk"] is None
    power_off = (bool(moves) or boot_missing) and str(row.get("runtime.powerState")) != "poweredOff"
    result.repairs[want.name] = Repair(row, attach, moves, new_controllers, power_off, list(from_mt.values()))
    entry.update(disks_attached=[d["file"] for d in attach if not d.get("from")], powered_off=power_off, changed=True,
                 disks_returned=len([d for d in attach if d.get("from")]))
    unproven = [d["file"] for d in attach if not d["pinned_uuid"]]
    if unproven and (diskops.manifest(row.get("config.extraConfig")) or want.name in result.records):
        # recorded only with the UUIDs they had on a master target: the record stays as it is (or is not written)
        entry.setdefault("warnings", []).append(_unproven_warning(want.name, unproven))
        if want.name in result.records:
            result.records.remove(want.name)
            entry["disks_recorded"] = False
    return []


def _pins(inventory, holder):
    """The disk UUIDs pinned on master target ``holder`` (a VM name; ``diskops.pinned``), ``{}`` when Site Recovery
    names none for the item or vCenter has no one VM of that name."""
    row = _one_vm(inventory, holder)
    return diskops.pinned(row) if row is not None else {}


def _one_vm(inventory, name):
    """The row of the one VM called ``name``; None when ``name`` is empty or not one VM's."""
    rows = inventory.vms_named(name)
    return rows[0] if len(rows) == 1 else None


def _own_disks(inventory, want, mt_row, found):
    """The VM's VMDKs ``[datastore] name/name[_N].vmdk``: on the master target, or on the datastore
    attached to nothing (each with ``pinned_uuid``: its UUID pinned when a run took it off a master target,
    ``diskops.pinned``, on the item's master target; None when nothing pinned it). Returns ``(disks in disk order,
    problems)``."""
    pins = _pins(inventory, want.pins_from)
    directory = "[%s] %s/" % (want.datastore, want.name)
    pattern = diskops.named_after(want.name)
    problems = []
    own = [dict(d, where="mt") for d in facts.disks(mt_row.get("config.hardware.device"))
           if d["file"] and d["file"].startswith(directory)]
    known = {d["file"] for d in own}
    for name in found.get(directory, []):
        file_name = directory + name
        if file_name in known or not pattern.match(name):
            continue
        holder = (inventory.holder_of(file_name, besides=mt_row["moid"])[0] or {}).get("name")
        if holder is None:  # attached as it is (no uuid of ours in the backing); recorded with its pinned UUID
            own.append({"file": file_name, "size_gb": found.sizes.get(file_name, 0), "uuid": None, "where": "none",
                        "pinned_uuid": pins.get(file_name)})
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
    missing = [k for k in ("master_target", "datastore", "num_cpu", "memory_mb") if not getattr(want, k)]
    if missing:
        return None, ["VM %s does not exist and cannot be created without %s." % (want.name, ", ".join(missing))]
    mt_row = inventory.find_vms([want.master_target], kind="Master target")[want.master_target]
    host_row = inventory.host_of(mt_row)
    if host_row is None:
        return None, ["VM %s: master target %s has no ESXi host in the inventory, so there is no host to create the "
                      "VM on." % (want.name, mt_row["name"])]
    own, problems = _own_disks(inventory, want, mt_row, found)
    prefix = "[%s] %s/" % (want.datastore, want.name)
    if not own and not problems:
        problems.append("VM %s: no disk under %s is attached to master target %s or left on datastore %s; the VM would "
                        "boot without its data. Reprotect it first (or attach its disks with master_target_disks)."
                        % (want.name, prefix, mt_row["name"], want.datastore))
    problems += _datastore_problems(inventory, want, host_row)
    shape, shape_problems = _shape(want)
    problems += shape_problems
    slots = diskops.new_vm_slots(len(own))
    if slots is None:
        problems.append("VM %s has %d disks; a VM takes at most %d (%d SCSI controllers x %d disks, unit %d is the "
                        "controller's). Fail it back with fewer disks." % (
                            want.name, len(own), limits.SCSI_MAX_DISKS, limits.SCSI_MAX_CONTROLLERS,
                            limits.SCSI_UNITS_PER_CONTROLLER, limits.SCSI_RESERVED_UNIT))
        controllers = []
    else:
        controllers, taken = slots
        controllers = [dict(c, type=shape["scsi_type"]) for c in controllers]
        own = [dict(d, slot=slot) for d, slot in zip(own, taken, strict=True)]
    nics, nic_problems = _resolve_networks(want, host_row, mt_row, port_groups)
    problems += nic_problems
    if not problems:
        problems += _creation_host_problems(inventory, want, host_row, mt_row, own, nics, port_groups)
    if problems:
        return host_row, problems
    result.creates.append((want, mt_row, own))
    create = Create(want, mt_row, host_row, own, controllers, nics, shape)
    unproven = [d["file"] for d in own if d["where"] == "none" and not d.get("pinned_uuid")]
    create.record = not unproven
    result.create_plans[want.name] = create
    entry.update(created=True, disks_returned=len(own), disks_recorded=create.record, changed=True)
    if unproven:
        entry.setdefault("warnings", []).append(_unproven_warning(want.name, unproven))
    return host_row, []


def _unproven_warning(name, files):
    """The warning for VM ``name``'s VMDKs ``files``, found attached to no VM with no UUID pinned on its master target."""
    return ("VM %s: its VMDK(s) %s were found attached to no VM, and no run pinned their disk UUIDs on its master target "
            "when they left it (siterecovery.failback.pinned): nothing proves they are Site Recovery's replica. They are "
            "attached, but not recorded, so the commit refuses the VM until you check them and name them (with the "
            "VM's other VMDKs) in the run option protected_disk_files." % (name, ", ".join(files)))


def _shape(want):
    """``({firmware, guest_id, scsi_type}, problems)`` of a VM to create: the user's ``firmware`` / ``guest_id`` /
    ``scsi_type`` win, else what ASR reports about the source (``want.source``, decided by ``domain.source_vm``);
    a refusal names the VM and what to set when ASR reports nothing usable. Secure boot stays off: ASR does not
    report the source's."""
    firmware, firmware_problem = source_vm.firmware(want.source, want.firmware)
    guest, guest_problem = source_vm.guest_id(want.source, want.guest_id)
    problems = ["VM %s cannot be created: %s" % (want.name, p) for p in (firmware_problem, guest_problem) if p]
    return {"firmware": firmware, "guest_id": guest, "scsi_type": source_vm.scsi_type(guest, want.scsi_type)}, problems


def _creation_host_problems(inventory, want, host_row, mt_row, disks, nics, port_groups):
    """Whether the master target's host can run the VM created on it, by ``domain.hosts`` (the rule of the 8038
    remedy and the preflight): connected, not in maintenance mode, every datastore of the VM's files (its .vmx and
    every VMDK), every network of its adapters. Its memory is the power-on's to judge (``_plan_power``, with the
    8038 remedy), and it is created where its master target runs, whatever the cluster. Returns its problems."""
    networks, names = port_groups.host_networks() if nics else ({}, {})
    files = ["[%s] %s/%s.vmx" % (want.datastore, want.name, want.name)] + [d["file"] for d in disks]
    vm = {"name": want.name, "memory_mb": None, "cluster": None,
          "datastores": sorted({facts.datastore_of_file(f) for f in files} - {None, ""}),
          "networks": sorted({network._moId for _name, network, _backing in nics})}
    found = hosts_rule.reasons(vm, host_offers(inventory, host_row, {}, networks), names, same_cluster=False)
    if not found:
        return []
    return ["VM %s cannot be created on ESXi host %s, the host of master target %s where an alternate-location VM is "
            "created: %s. Bring the host back (connected, out of maintenance mode) or fail the VM back through a "
            "master target on a host that can run it." % (want.name, host_row["name"], mt_row["name"],
                                                          "; ".join(found))]


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
    """One ``(name, network, backing)`` per NIC of the new VM, each a port group (standard or distributed) of
    ``host_row``, the host the VM is created on: ``want.networks`` (target port groups, in order), else the networks
    of the source's NICs as ASR reports them (``want.source["networks"]``) through ``want.network_map`` ({source
    network: target port group}; an unmapped network keeps its name). Refused, naming the VM and the fix: a
    port group the host does not have; a name more than one port group of the host carries (the switches named);
    a source NIC whose network ASR does not name; a key of the VM's own ``network_map`` that no source NIC is on,
    or a ``network_map`` next to ``networks``. Returns ``(nics, problems)``."""
    if want.networks and want.own_network_map:
        return [], ["VM %s: network_map maps the source's networks (as ASR reports them), networks names the port "
                    "groups directly; give one of them." % want.name]
    names, problems = source_vm.target_networks(want.source, want.networks, want.network_map)
    problems = ["VM %s: %s" % (want.name, p) for p in problems]
    unused = [] if want.networks else source_vm.unused_map_keys(want.source, want.own_network_map)
    if unused:
        problems.append("VM %s: network_map maps %s, but ASR reports its NICs on %s. Map the networks ASR reports "
                        "(replicated_item_info's source.networks)." % (
                            want.name, ", ".join(unused), ", ".join(n for n in want.source.get("networks") or [] if n)
                            or "no network"))
    if not names and not problems and want.networks is None and (want.source or {}).get("networks") is None:
        problems.append("VM %s would be created without a network adapter: ASR reports nothing about the source's "
                        "NICs (a classic item never does), and no networks were given. Give networks: [port group, "
                        "...] for its adapters, in order (networks: [] for a VM without one)." % want.name)
    if not names or problems:
        return [], problems
    if port_groups is None:
        return [], ["VM %s: the port groups of ESXi host %s were not read; networks cannot be checked."
                    % (want.name, host_row["name"])]
    available = port_groups.of(host_row)
    nics = []
    for name in names:
        group, matches = port_groups.find(host_row, name)
        if len(matches) == 1:
            nics.append((group, matches[0], port_groups.backing(group, matches[0])))
        elif not matches:
            problems.append("VM %s: network %s is not a port group of ESXi host %s, where the VM is created (the host "
                            "of master target %s). That host has: %s. Use one of them, or a master target on a host "
                            "that has %s." % (want.name, name, host_row["name"], mt_row["name"],
                                              ", ".join(sorted(available)) or "no port group", name))
        else:
            switches = sorted(port_groups.switch_of(m) for m in matches)
            pick = next((port_groups.switch_name(m) for m in matches if port_groups.switch_name(m)), None)
            problems.append("VM %s: %d port groups of ESXi host %s are called %s (on %s), so the NIC's network is "
                            "ambiguous. Name it with its distributed switch%s (in networks, or as the value in "
                            "network_map), or rename one of them." % (
                                want.name, len(matches), host_row["name"], name, " and ".join(switches),
                                " - e.g. %s/%s -" % (pick, name) if pick else ""))
    return nics, problems


def _plan_power(inventory, want, row, host_row, vm_memory, remediation, planned_memory, result, entry,
                port_groups):
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
        target, rejected = _vmotion_target(inventory, row, host_row, vm_memory, planned_memory, port_groups)
        if target is None:
            return ["VM %s needs %d MB but ESXi host %s has %d MB free, and no other host can run it (a host must be "
                    "connected, out of maintenance mode, in its cluster, with the memory, every datastore of its "
                    "files and every network of it): %s. %s"
                    % (want.name, vm_memory, host_row["name"], free, hosts_rule.explain(rejected) or "there is none",
                       ERROR_8038)]
        result.vmotions.append((want.name, row, target))
        entry.update(vmotion_to=target["name"], changed=True)
    planned_memory[target["moid"]] = planned_memory.get(target["moid"], 0) + vm_memory
    result.power_ons.append(want.name)
    entry.update(powered_on=True, changed=True)
    return []


def _power_after_repair(repair, power_state, host_row, vm_memory, planned_memory):
    """The power state of an existing VM once its :class:`Repair` ran: powered off when it moves disks (its memory
    on its host is free meanwhile, then taken again by the power-on planned after)."""
    if repair is None or not repair.power_off:
        return power_state
    if host_row is not None and power_state == "poweredOn":
        planned_memory[host_row["moid"]] = planned_memory.get(host_row["moid"], 0) - vm_memory
    return "poweredOff"


def _diskless_power_ons(inventory, result, from_master_target):
    """Refusals of the existing VMs the plan would power on with no disk at all - none attached, none planned to be
    attached or brought back from a master target: its guest would boot nothing (a VM of the same name that is not
    the failed-back VM, or one whose VMDKs are elsewhere). A VM whose disks come back from its master target
    (``from_master_target``: names) is the master target plan's to judge."""
    refusals = []
    for name in result.power_ons:
        if name in result.create_plans or name in from_master_target:
            continue
        row = inventory.vm_by_name(name, result.instance_uuids.get(name))
        repair = result.repairs.get(name)
        count = (len([d for d in facts.disks(row.get("config.hardware.device")) if d["backing"] == "flat"])
                 + (len(repair.attach) if repair else 0) + result.results[name]["disks_returned"]) if row else 1
        if not count:
            refusals.append("VM %s has no disk, and none of its VMDKs was found to attach (on a master target, or "
                            "attached to no VM in its directory): powering it on would boot nothing. Check that it is "
                            "the VM Site Recovery fails back (a classic item records no instance UUID, so the VM is "
                            "found by its name) and where its VMDKs are, then re-run." % name)
    return refusals


def _beyond_the_remedy(result, remedy_only):
    """Refusals for the VMs of ``remedy_only`` (their failover failed) whose plan does more than move and start them."""
    refusals = []
    for name in remedy_only:
        entry = result.results.get(name)
        if entry is None:
            continue
        more = [what for what, planned in (
            ("create it", name in result.create_plans),
            ("take %d disk(s) off its master target" % entry["disks_returned"], entry["disks_returned"]),
            ("attach VMDKs attached to no VM", bool(entry["disks_attached"]) or (
                name in result.repairs and not entry["disks_returned"])),
            ("record its disks", name in result.records)) if planned]
        if more:
            refusals.append(
                "VM %s: its failover to on-premises failed (stage failover_failed), and bringing it up would %s. At that "
                "stage only the remedy of ASR error 8038 runs (move the VM to a host with room and start it, once the "
                "failover attached its disks); run the failover again instead: it attaches the disks Site Recovery "
                "replicated." % (name, " and ".join(more)))
    return refusals


def new_entry(name):
    """A VM's result before anything is planned for it: nothing created, returned, attached, recorded, moved or
    powered."""
    return {"name": name, "created": False, "disks_returned": 0, "disks_attached": [], "powered_off": False,
            "disks_recorded": False, "vmotion_to": None, "powered_on": False, "changed": False}


def plan(inventory, wants, remediation, found=None, port_groups=None, remedy_only=()):
    """Check every VM, then plan; raise listing every refusal (nothing changed).

    ``found``: :func:`search`'s answer (VMDKs attached to nothing); ``port_groups``: a :class:`PortGroups`
    (read once, on first use: a VM created with networks, or the 8038 remedy); ``remedy_only``: names of VMs whose
    failover failed (``domain.lifecycle.onprem_decision``), which may only be moved and started: a plan that creates
    one, takes disks off a master target for it, attaches VMDKs to it or records its disks is refused."""
    found = found if found is not None else master_target.Found()
    if port_groups is None:  # read on first use only: a VM created with networks, or one that must move (8038)
        port_groups = PortGroups(inventory.client)
    result = Plan()
    refusals = []
    planned_memory = {}
    detach_requests = []
    for want in wants:
        identified = inventory.resolve_vm(want.name, want.instance_uuid)  # domain.identity: every module's rule
        row = identified.vm["row"] if identified.vm is not None else None
        result.instance_uuids[want.name] = want.instance_uuid
        entry = new_entry(want.name)
        result.results[want.name] = entry
        if identified.warning():
            entry["warnings"] = [identified.warning()]
        if identified.refusal():
            refusals.append(identified.refusal("give the instance UUID of the right one as instance_uuid"))
            continue
        if row is None:
            host_row, problems = _plan_create(inventory, want, result, entry, found, port_groups)
            vm_memory, vm_power = want.memory_mb, "poweredOff"
        else:
            host_row, vm_memory, vm_power = inventory.host_of(row), row.get("config.hardware.memoryMB") or 0, str(
                row.get("runtime.powerState"))
            problems = _plan_existing(inventory, want, row, found, detach_requests, result, entry)
            vm_power = _power_after_repair(result.repairs.get(want.name), vm_power, host_row, vm_memory,
                                           planned_memory)
        if not problems and vm_power != "poweredOn":
            problems = _plan_power(inventory, want, row, host_row, vm_memory, remediation, planned_memory, result, entry,
                                   port_groups)
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
    refusals += _diskless_power_ons(inventory, result, {r.name for r in detach_requests})
    refusals += _beyond_the_remedy(result, remedy_only)
    if refusals:
        raise VSphereError("Refusing to bring the VMs up; nothing was changed: " + " ".join(refusals), refusals=refusals)
    result.existing = {f for f in inventory.attached_files() if f} | {
        folder + name for folder, names in found.items() for name in names}
    return result


def _take_off_master_target(mt_row, disks, label, attached_files):
    """Start taking the VMDKs ``disks`` (the master target's own disk dicts) off master target ``mt_row`` (``label``:
    the task's label) in one reconfigure (no file operation: every VMDK stays on its datastore) that also pins their disk
    UUIDs on it (``diskops.pinned``): a run stopped before they are attached (or the VM created) leaves them attached
    to no VM, and its re-run records them with the UUIDs they had here. The VMs to be created, and the existing VMs
    whose VMDKs a stopped failover left on the master target (``Repair.from_mt``), both come off this way."""
    devices = {d.key: d for d in mt_row.get("config.hardware.device") or []}
    spec = vim.vm.ConfigSpec(deviceChange=[diskops.remove_spec(devices[d["key"]]) for d in disks],
                             extraConfig=[diskops.pin_option(mt_row, disks, attached_files)])
    if not diskops.never_destroys(spec) or any(c.fileOperation for c in spec.deviceChange):
        raise VSphereError("Internal safety check: a reconfigure would destroy a VMDK; refused.")
    return mt_row["obj"].ReconfigVM_Task(spec=spec), label


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
    buses = {c["key"]: c["bus"] for c in create.controllers}  # the record names the new VM's slots, not the MT's
    # its failback manifest: the VMDKs ASR's failover wrote for it, with the UUIDs they had on the master target (now,
    # or pinned when a run took them off it), recorded before anything can stand in for one (the commit gate's rule
    # protected_disks_recorded); none when a VMDK found attached to no VM was never pinned
    record = [diskops.manifest_option([dict(d, bus=buses[d["slot"][0]], unit=d["slot"][1],
                                            uuid=d["uuid"] if d["where"] == "mt" else d.get("pinned_uuid"))
                                       for d in create.disks])] if create.record else None
    config = vim.vm.ConfigSpec(name=want.name, numCPUs=want.num_cpu, memoryMB=want.memory_mb,
                               guestId=create.shape["guest_id"], firmware=create.shape["firmware"], deviceChange=changes,
                               files=vim.vm.FileInfo(vmPathName="[%s] %s/%s.vmx" % (want.datastore, want.name,
                                                                                    want.name)),
                               extraConfig=record)
    if not diskops.never_destroys(config) or diskops.creates_existing(config, existing) or any(
            c.fileOperation for c in changes if isinstance(c.device, vim.vm.device.VirtualDisk)):
        raise VSphereError("Internal safety check: creating VM %s would create or destroy a VMDK; its VMDKs are "
                           "attached as they are. Refused." % want.name)
    mt_row = create.mt_row
    return (mt_row["parent"].CreateVM_Task(config=config, pool=mt_row["resourcePool"], host=create.host["obj"]),
            "create %s on %s" % (want.name, create.host["name"]))


def _repair_vm(name, repair, existing):
    """Start the one reconfigure that attaches an existing VM's loose VMDKs as they are (no file operation, no
    backing uuid nor capacity of our own: vSphere reads both from the VMDK) on their planned slots, with the LSI
    Logic controllers they need; a disk that sits out of disk order is taken off (no file operation) and attached
    again on its slot in the same reconfigure. A VM with a failback manifest (one this collection created) has the
    attached VMDKs added to it in the same reconfigure; a VM without one is not given one here (a record written
    after the failover would prove nothing)."""
    devices = {d.key: d for d in repair.row.get("config.hardware.device") or []}
    changes = [diskops.controller_spec(c) for c in repair.controllers]
    changes += [diskops.remove_spec(devices[m["key"]]) for m in repair.moves]
    for index, disk in enumerate(repair.moves + repair.attach):
        changes.append(diskops.attach_spec(disk, disk["slot"], -500 - index))
    spec = vim.vm.ConfigSpec(deviceChange=changes)
    recorded = diskops.manifest(repair.row.get("config.extraConfig"))
    proven = [d for d in repair.attach if d.get("pinned_uuid")]
    if recorded and proven and len(proven) == len(repair.attach):
        # a VM this collection created: its manifest gains the VMDKs attached now, with the UUIDs pinned when they left
        # the master target (one never pinned leaves the record as it is: nothing proves it is the replica)
        files = {entry.get("file") for entry in recorded}
        spec.extraConfig = [diskops.manifest_option(recorded + [
            dict(d, bus=d["position"][0], unit=d["position"][1], uuid=d["pinned_uuid"])
            for d in repair.attach if d["file"] not in files])]
    if not diskops.never_destroys(spec) or diskops.creates_existing(spec, existing) or any(
            c.fileOperation for c in changes):
        raise VSphereError("Internal safety check: attaching VM %s's VMDKs would create or destroy a VMDK; they are "
                           "attached as they are. Refused." % name)
    label = "attach %d disk(s) to %s" % (len(repair.attach), name)
    returned = sorted({d["from"] for d in repair.attach if d.get("from")})
    if returned:
        label += " (%d from %s)" % (len([d for d in repair.attach if d.get("from")]), " and ".join(returned))
    if repair.moves:
        label += " (moving %d to keep disk order)" % len(repair.moves)
    return repair.row["obj"].ReconfigVM_Task(spec=spec), label


def _record_disks(row, name, pinned=None):
    """Start the reconfigure that gives VM ``name`` its failback manifest (extraConfig ``siterecovery.failback.disks``)
    of the flat disks attached to it now, with their disk UUIDs - for a VMDK that came off the item's master target
    (``pinned``: ``{file: UUID pinned there when it was taken off}``, ``diskops.pinned``), the pinned UUID, so a file
    standing in for it fails the commit gate: no device change, no file operation."""
    pinned = pinned or {}
    attached = [{"file": d["file"], "size_gb": d["size_gb"], "uuid": pinned.get(d["file"]) or d["uuid"],
                 "bus": d["controller_bus"],
                 "unit": d["unit"]} for d in facts.disks(row.get("config.hardware.device"))
                if d["backing"] == "flat" and d["file"]]
    spec = vim.vm.ConfigSpec(extraConfig=[diskops.manifest_option(attached)])
    return row["obj"].ReconfigVM_Task(spec=spec), "record the %d disk(s) of %s in its failback manifest" % (
        len(attached), name)


def record_disks(client, entries, deadline):
    """Record the disks attached now to each VM of ``entries`` (``[{name, instance_uuid?, pins_from?}]``) in its
    failback manifest, when it carries none: what the failover module does right after ASR's failover job brought a
    classic VM's disks back (the commit gate trusts that record over a disk's name). A disk whose VMDK is pinned on
    the item's master target (``pins_from``: :func:`pin_replicas` pinned it right before the job) is recorded with
    the pinned UUID: a file put in its place while the job was stopped fails the gate. One read, one reconfigure per
    VM (no device change), all started together and awaited with one property read per poll for all of them.
    Returns ``{name: None (recorded now or before) | problem}``: a VM not found, or a task that failed, is a problem
    (onprem_vm records it later)."""
    inventory = Inventory(client)
    outcome, pairs = {}, []
    for entry in entries:
        row = inventory.vm_by_name(entry["name"], entry.get("instance_uuid"))
        if row is None:
            outcome[entry["name"]] = "VM %s was not found (or not told apart from another of its name)" % entry["name"]
        elif diskops.manifest(row.get("config.extraConfig")):
            outcome[entry["name"]] = None
        elif not [d for d in facts.disks(row.get("config.hardware.device")) if d["backing"] == "flat"]:
            outcome[entry["name"]] = ("VM %s has no disk attached yet (its VMDKs are left attached to no VM)"
                                      % entry["name"])
        else:
            pairs.append((entry["name"], _record_disks(row, entry["name"], _pins(inventory, entry.get("pins_from")))))
    for (name, _pair), problem in zip(pairs, _each_outcome(client, [pair for _name, pair in pairs], deadline),
                                      strict=True):
        outcome[name] = problem
    return outcome


def _is_replica_file(name, file_name):
    """Whether ``file_name`` is one of VM ``name``'s VMDKs, ``[datastore] name/name[_N].vmdk`` on any datastore."""
    folder, _sep, base = (file_name or "").rpartition("/")
    return folder.endswith("] " + name) and bool(diskops.named_after(name).match(base))


def pin_replicas(client, entries, deadline):
    """Pin, on the master target that holds them (``entries``: ``[{name, pins_from}]``, ``pins_from`` the master
    target Site Recovery names for the item), the disk UUIDs of each VM's VMDKs (``[datastore] name/name[_N].vmdk``)
    before Site Recovery's failover job takes them off it: a job that stops part-way leaves VMDKs attached to no VM
    that are then recorded with these UUIDs (``diskops.pinned``). One read, one reconfigure per master target whose pin
    changes (no device change), all started together and awaited with one property read per poll for all of them.
    Returns ``{name: None | problem}``: no master target named, or none of that name in vCenter, or no VMDK of the VM
    on it nor pinned there (a job that stopped earlier took them), or a failed task."""
    inventory = Inventory(client)
    attached = {f for f in inventory.attached_files() if f}
    by_holder, outcome = {}, {}
    for entry in entries:
        name, holder = entry["name"], entry.get("pins_from")
        row = _one_vm(inventory, holder)
        if row is None:
            outcome[name] = ("Site Recovery names no master target for it" if not holder else
                             "master target %s is not one VM of that name in vCenter" % holder)
            continue
        disks = [d for d in facts.disks(row.get("config.hardware.device"))
                 if d["backing"] == "flat" and _is_replica_file(name, d["file"])]
        pinned_before = any(_is_replica_file(name, f) for f in diskops.pinned(row))
        outcome[name] = None if disks or pinned_before else (
            "no VMDK named after VM %s is attached to master target %s or pinned there" % (name, holder))
        if disks:
            by_holder.setdefault(row["moid"], (row, [], []))[1].extend(disks)
            by_holder[row["moid"]][2].append(name)
    pairs = []
    for row, disks, owners in by_holder.values():
        option = diskops.pin_option(row, disks, attached)
        if facts.extra_config(row.get("config.extraConfig")).get(diskops.PIN_KEY) == option.value:
            continue  # pinned already (a re-run of the failover)
        pairs.append((owners, (row["obj"].ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=[option])),
                               "pin the disk UUIDs of %s on %s" % (", ".join(owners), row["name"]))))
    for (owners, _pair), problem in zip(pairs, _each_outcome(client, [pair for _owners, pair in pairs], deadline),
                                        strict=True):
        if problem is not None:
            outcome.update(dict.fromkeys(owners, problem))
    return outcome


def _each_outcome(client, pairs, deadline):
    """Wait for the tasks of ``pairs`` (``[(task, label)]``, all started) together - one property read per poll for
    all of them, whatever their number - and return one outcome per pair, in order: None when it succeeded, else
    ``"vSphere task(s) failed: <label>: <error>"``. A failed task does not stop the wait for the others; the deadline
    expiring raises ``DeadlineExceeded`` (:func:`tasks.wait_for_tasks`)."""
    if not pairs:
        return []
    client.stats["tasks"] += len(pairs)
    summaries = wait_for_tasks(client, [t for t, _label in pairs], deadline, labels=[label for _t, label in pairs])
    return [None if s["state"] != "error" else "vSphere task(s) failed: %s: %s" % (s["label"], s["error"])
            for s in summaries]


def _wait_all(client, pairs, deadline, after_failure=""):
    if not pairs:
        return []
    client.stats["tasks"] += len(pairs)
    summaries = wait_for_tasks(client, [t for t, _label in pairs], deadline, labels=[label for _t, label in pairs])
    failed = [s for s in summaries if s["state"] == "error"]
    if failed:
        raise VSphereError("vSphere task(s) failed: " + "; ".join("%s: %s" % (s["label"], s["error"]) for s in failed)
                           + after_failure, failed=[s["label"] for s in failed], changed=len(failed) < len(pairs))
    return [s["label"] for s in summaries]


def apply(client, inventory, planned, deadline):
    """Run the planned changes in phases; returns ``(task labels, power-on seconds or None)``. A failure raises
    with ``changed`` True when a task of this or an earlier phase succeeded (a re-run repairs the state left)."""
    done = []
    try:
        return _apply(client, inventory, planned, deadline, done)
    except VSphereError as error:
        error.details["changed"] = bool(done) or bool(error.details.get("changed"))
        raise


def _apply(client, inventory, planned, deadline, done):
    creates = [planned.create_plans[want.name] for want, _mt, _own in planned.creates]
    if creates:
        # one reconfigure per master target takes the VMs' VMDKs off it; then every VM is created
        by_mt = {}
        for create in creates:
            detached = [d for d in create.disks if d["where"] == "mt"]
            if detached:
                mt_row, disks, names = by_mt.setdefault(create.mt_row["moid"], (create.mt_row, [], []))
                disks.extend(detached)
                names.append(create.want.name)
        attached_files = {f for f in inventory.attached_files() if f}
        detaches = [_take_off_master_target(mt_row, disks, "detach %s disks from %s" % (
            " and ".join("%s's" % n for n in names), mt_row["name"]), attached_files) for mt_row, disks, names in by_mt.values()]
        done += _wait_all(client, detaches, deadline)
        paths = ", ".join("[%s] %s/%s.vmx" % (c.want.datastore, c.want.name, c.want.name) for c in creates)
        done += _wait_all(client, [_create_vm(c, planned.existing) for c in creates], deadline,
                          " The VMDKs of a VM that was not created are on its datastore, attached to no VM: once the "
                          "cause is cleared (FileAlreadyExists: a file or folder holds the VM's path, %s), a re-run "
                          "creates the VM with them." % paths)
    if planned.disk_plan is not None and planned.disk_plan.changed():
        done += master_target.apply(client, planned.disk_plan, deadline)
    if planned.repairs:
        done += _wait_all(client, [(r.row["obj"].PowerOffVM_Task(), "power off %s to attach its disks in order" % name)
                                   for name, r in planned.repairs.items() if r.power_off], deadline,
                          " No disk was attached yet: a re-run attaches them.")
        by_mt = {}
        for name, repair in planned.repairs.items():
            for mt_row, disks in repair.from_mt:
                _row, taken, names = by_mt.setdefault(mt_row["moid"], (mt_row, [], []))
                taken.extend(disks)
                names.append(name)
        attached_files = {f for f in inventory.attached_files() if f}
        take_offs = [_take_off_master_target(mt_row, disks, "take %s's disks off %s" % (" and ".join(names), mt_row["name"]),
                                             attached_files) for mt_row, disks, names in by_mt.values()]
        done += _wait_all(client, take_offs, deadline, " A VMDK taken off the master target is on its datastore, attached "
                          "to no VM, its disk UUID pinned there: a re-run attaches it.")
        done += _wait_all(client, [_repair_vm(name, r, planned.existing) for name, r in planned.repairs.items()],
                          deadline, " The VMDKs not attached are still on the datastore, attached to no VM: a re-run "
                          "attaches them.")
    if planned.records:
        current = Inventory(client) if (planned.repairs or planned.disk_plan is not None) else inventory
        pairs = []
        for name in planned.records:
            loose = planned.repairs[name].attach if name in planned.repairs else []
            pairs.append(_record_disks(current.vm_by_name(name, planned.instance_uuids.get(name)), name,
                                       {d["file"]: d["pinned_uuid"] for d in loose}))
        done += _wait_all(client, pairs, deadline, " The VM's disks are attached as they were: a re-run records them.")
    after = Inventory(client) if (planned.creates or planned.vmotions) else inventory
    pairs = []
    for name, _row, host in planned.vmotions:
        row = after.vm_by_name(name, planned.instance_uuids.get(name))
        cluster = after.cluster_of(after.hosts[host["moid"]])
        pool = cluster.get("resourcePool") if cluster else None  # from the inventory's read: no read per VM
        pairs.append((row["obj"].RelocateVM_Task(spec=vim.vm.RelocateSpec(host=host["obj"], pool=pool)),
                      "vMotion %s to %s" % (name, host["name"])))
    done += _wait_all(client, pairs, deadline)
    started = time.monotonic()
    after = Inventory(client) if planned.creates else after
    pairs = [(after.vm_by_name(name, planned.instance_uuids.get(name))["obj"].PowerOnVM_Task(), "power on %s" % name)
             for name in planned.power_ons]
    done += _wait_all(client, pairs, deadline)
    return done, round(time.monotonic() - started, 3) if pairs else None


def wait_for_tools(client, inventory, names, deadline, poll=1.0, settled=(), uuids=None):
    """Wait until VMware Tools run in every VM of ``names`` (one property read per poll for all).

    A VM of ``settled`` (VMs this call did not create: vCenter knows their Tools) whose ``guest.toolsStatus`` is
    ``toolsNotInstalled`` is not waited for: Tools will never run in it. A VM just created has no Tools status
    yet (vCenter says ``toolsNotInstalled`` until its guest's Tools first report), so it is waited for.
    ``uuids``: ``{name: instance UUID}`` identifying VMs whose name others share (domain.identity)."""
    rows = [inventory.vm_by_name(name, (uuids or {}).get(name)) for name in names]
    objects = [row["obj"] for row in rows if row is not None]
    statuses = {}
    while objects:
        statuses = {row["name"]: row for row in client.retrieve(None, ["name", "guest.toolsRunningStatus",
                                                                       "guest.toolsStatus"], objects=objects)}
        waiting = [name for name, row in statuses.items() if row.get("guest.toolsRunningStatus") != "guestToolsRunning"
                   and not (name in settled and verifications.tools_never_run(row.get("guest.toolsStatus")))]
        for name in waiting:
            getattr(deadline, "progress", NONE).item(name, "VMware Tools",
                                                     state=str(statuses[name].get("guest.toolsRunningStatus")))
        if not waiting or deadline.expired():
            break
        deadline.sleep(poll)
    return {name: {"tools_running_status": row.get("guest.toolsRunningStatus"),
                   "tools_status": str(row.get("guest.toolsStatus")) if row.get("guest.toolsStatus") else None}
            for name, row in statuses.items()}


def _slot_name(bus, unit):
    """'scsi0:1': a disk's virtual device node, as the VM's .vmx names it."""
    return "scsi%s:%s" % ("?" if bus is None else bus, "?" if unit is None else unit)


def disk_layout(inventory, names, uuids=None):
    """``{vm name: {"scsi<bus>:<unit>": VMDK file}}`` for each VM of ``names`` (None for a VM that does not
    exist): its disks in disk order, as vCenter shows them. ``uuids``: ``{name: instance UUID}`` (domain.identity)."""
    result = {}
    for name in names:
        row = inventory.vm_by_name(name, (uuids or {}).get(name))
        result[name] = None if row is None else {
            _slot_name(d["controller_bus"], d["unit"]): d["file"]
            for d in sorted(facts.disks(row.get("config.hardware.device")),
                            key=lambda d: (d["controller_bus"] is None, d["controller_bus"] or 0, d["unit"] or 0))}
    return result


def predicted_layout(inventory, planned, names):
    """What :func:`disk_layout` would show after :func:`apply` of ``planned`` (check mode's diff)."""
    result = disk_layout(inventory, names, planned.instance_uuids)
    for name in names:
        create = planned.create_plans.get(name)
        if create is not None:
            buses = {c["key"]: c["bus"] for c in create.controllers}
            result[name] = {_slot_name(buses.get(d["slot"][0]), d["slot"][1]): d["file"] for d in create.disks}
        repair = planned.repairs.get(name)
        if repair is not None:
            layout = {k: v for k, v in result[name].items() if v not in {m["file"] for m in repair.moves}}
            for disk in repair.moves + repair.attach:
                layout[_slot_name(*disk["position"])] = disk["file"]
            result[name] = _in_slot_order(layout)
    for disk_result in (planned.disk_plan.results if planned.disk_plan is not None else []):
        name = disk_result["name"]
        if result.get(name) is not None:
            files = set(result[name].values())
            for index, disk in enumerate(d for d in disk_result["disks"] if d["after"] == "vm" and d["file"] not in files):
                result[name]["returned%d" % index] = disk["file"]
    return result


def _in_slot_order(layout):
    def key(slot):
        bus, _colon, unit = slot[len("scsi"):].partition(":")
        return (int(bus), int(unit)) if bus.isdigit() and unit.isdigit() else (99, 99)
    return {slot: layout[slot] for slot in sorted(layout, key=key)}


def _tools_refusals(inventory, wants, verification):
    """Refusals, before any change, of the VMs verified by ``tools`` in which vCenter already says VMware Tools are
    not installed (``guest.toolsStatus`` ``toolsNotInstalled``): their verification could never pass."""
    refusals = []
    for want in wants:
        row = inventory.vm_by_name(want.name, want.instance_uuid)
        mode = verifications.mode_of(verification, want.name)
        if row is not None and verifications.waits_for_tools(mode) and verifications.tools_never_run(
                row.get("guest.toolsStatus")):
            refusals.append("VM %s: vCenter says VMware Tools are not installed in it (guest.toolsStatus "
                            "toolsNotInstalled), so its verification tools can never pass. Install VMware Tools in "
                            "it, or verify it by power_only or probe (verification: {per_vm: {%s: power_only}})."
                            % (want.name, want.name))
    return refusals


def ensure(client, entries, defaults, remediation, check_mode, deadline, tools_deadline=None, verification=None,
           remedy_only=()):
    """The module's whole job: returns ``{changed, vms, tasks, power_on_seconds, diff}``; ``diff`` holds each VM's
    disks before and after (:func:`disk_layout`; predicted in check mode).

    ``verification``: a mode or ``{default, per_vm}`` (``domain.verification``; None is ``tools``). Only VMs verified
    by ``tools`` are waited for (when ``tools_deadline`` is given); then one in which vCenter already says Tools are
    not installed is refused before any change. A failure after the first change carries ``changed`` True.
    ``remedy_only``: as for :func:`plan`."""
    wants = [Want(entry, defaults) for entry in entries]
    inventory = Inventory(client)
    # Tools are verified only when waited for (wait_for_tools); check mode refuses as the real run would
    tools_refusals = _tools_refusals(inventory, wants, verification) if tools_deadline is not None else []
    try:
        planned = plan(inventory, wants, remediation, search(client, inventory, wants, deadline),
                       remedy_only=remedy_only)
    except VSphereError as error:
        if not tools_refusals:
            raise
        refusals = (error.details.get("refusals") or [error.msg]) + tools_refusals
        raise VSphereError("Refusing to bring the VMs up; nothing was changed: " + " ".join(refusals),
                           refusals=refusals) from error
    if tools_refusals:
        raise VSphereError("Refusing to bring the VMs up; nothing was changed: " + " ".join(tools_refusals),
                           refusals=tools_refusals)
    names = [w.name for w in wants]
    uuids = {w.name: w.instance_uuid for w in wants}
    outcome = {"changed": planned.changed(), "vms": [planned.results[w.name] for w in wants], "tasks": [],
               "power_on_seconds": None, "diff": {"before": disk_layout(inventory, names, uuids)}}
    if check_mode or not planned.changed():
        after = inventory
        outcome["diff"]["after"] = predicted_layout(inventory, planned, names)
    else:
        outcome["tasks"], outcome["power_on_seconds"] = apply(client, inventory, planned, deadline)
        after = Inventory(client)
        outcome["diff"]["after"] = disk_layout(after, names, uuids)
    waited = [w.name for w in wants if after.vm_by_name(w.name, w.instance_uuid) is not None
              and verifications.waits_for_tools(verifications.mode_of(verification, w.name))]
    tools = {}
    if tools_deadline is not None and not check_mode:
        tools = wait_for_tools(client, after, waited, tools_deadline, settled=set(waited) - set(planned.create_plans),
                               uuids=uuids)
    for entry in outcome["vms"]:
        row = after.vm_by_name(entry["name"], uuids.get(entry["name"]))
        if row is not None:
            host = after.host_of(row)
            entry.update(host=host["name"] if host else None, power_state=str(row.get("runtime.powerState")),
                         tools_running_status=row.get("guest.toolsRunningStatus"),
                         tools_status=str(row.get("guest.toolsStatus")) if row.get("guest.toolsStatus") else None)
            entry.update(tools.get(entry["name"], {}))
        else:  # check mode for a VM to be created
            entry.update(host=None, power_state=None, tools_running_status=None, tools_status=None)
    not_running = [e["name"] for e in outcome["vms"] if tools_deadline is not None and not check_mode
                   and e["name"] in waited and e["tools_running_status"] != "guestToolsRunning"]
    if not_running:
        never = [n for n in not_running if verifications.tools_never_run(tools.get(n, {}).get("tools_status"))
                 and n not in planned.create_plans]
        late = [n for n in not_running if n not in never]
        parts = []
        if late:
            parts.append("VMware Tools are not running in %s after %.0f s: the VM is on but its guest has not come up. "
                         "Check the console; do not commit the failback until it runs." % (
                             ", ".join(late), tools_deadline.elapsed()))
        if never:
            parts.append("vCenter says VMware Tools are not installed in %s (guest.toolsStatus toolsNotInstalled): its "
                         "verification tools cannot pass. Install VMware Tools, or verify it by power_only or probe." %
                         ", ".join(never))
        raise VSphereError(" ".join(parts), not_running=not_running, not_installed=never, vms=outcome["vms"],
                           tasks=outcome["tasks"], changed=bool(outcome["tasks"]))
    return outcome
