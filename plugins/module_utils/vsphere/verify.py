# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What vCenter says about failed-back VMs before their commit: one property-collector read of every VM,
whatever the number of VMs to verify; nothing is changed and no task is started.

The facts are plain dicts for ``domain.commit_gate.decide``.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate, identity
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import disks as diskops
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim

VM_PATHS = ("name", "config.template", "config.instanceUuid", "runtime.powerState", "guest.toolsRunningStatus",
            "config.hardware.device", "config.extraConfig", "config.files.vmPathName", "parent", "runtime.host")


def vm_disks(devices):
    """Every virtual disk of a VM: ``[{file, uuid, capacity_bytes, backing}]`` (backing flat|rdm|other; uuid is
    the flat backing's ``uuid``, None for others; capacity from ``capacityInBytes``, else ``capacityInKB``)."""
    result = []
    for dev in devices or []:
        if not isinstance(dev, vim.vm.device.VirtualDisk):
            continue
        backing = dev.backing
        if isinstance(backing, vim.vm.device.VirtualDisk.FlatVer2BackingInfo):
            kind = "flat"
        elif isinstance(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo):
            kind = "rdm"
        else:
            kind = "other"
        capacity = getattr(dev, "capacityInBytes", None) or (dev.capacityInKB or 0) * 1024
        result.append({"file": getattr(backing, "fileName", None), "uuid": getattr(backing, "uuid", None)
                       if kind == "flat" else None, "capacity_bytes": capacity or None, "backing": kind})
    return result


def vm_nics(devices):
    """Every network adapter of a VM: ``[{label, network, connected}]`` - ``network`` the standard port group's
    name (``backing.deviceName``) or the distributed port group's key (``backing.port.portgroupKey``), None when
    it has none; ``connected`` vCenter's ``connectable.connected`` (a running VM's adapter is connected unless it
    was disconnected or its port group could not give it a port)."""
    result = []
    for dev in devices or []:
        if not isinstance(dev, vim.vm.device.VirtualEthernetCard):
            continue
        backing = dev.backing
        network = getattr(backing, "deviceName", None) or getattr(getattr(backing, "port", None), "portgroupKey", None)
        label = getattr(getattr(dev, "deviceInfo", None), "label", None) or "network adapter %s" % dev.key
        result.append({"label": label, "network": network,
                       "connected": bool(getattr(getattr(dev, "connectable", None), "connected", False))})
    return result


class OnPremVms:
    """The VMs of one read, answering :meth:`facts` for any number of failed-back VMs.

    ``rows``: property-collector rows with :data:`VM_PATHS` (from :func:`read`)."""

    def __init__(self, rows, client=None):
        self.rows = [row for row in rows if not row.get("config.template")]
        self.disks = {row["moid"]: vm_disks(row.get("config.hardware.device")) for row in self.rows}
        self.client = client
        self._places = None
        # derived once from the one read, so the facts of each of N VMs cost the same whatever N (issue 17)
        self._named = {}  # name -> [row]
        self._carrying = {}  # normalized instance UUID -> [row]
        for row in self.rows:
            self._named.setdefault(row["name"], []).append(row)
            uuid = identity.norm_uuid(row.get("config.instanceUuid"))
            if uuid:
                self._carrying.setdefault(uuid, []).append(row)
        # every attached disk with its holder, in the order of the read: (holder moid, {file, uuid, ..., holder})
        self._held = [(row["moid"], dict(disk, holder=row["name"])) for row in self.rows for disk in self.disks[row["moid"]]]
        self._held_in = {}  # the directory of a disk's file ("[ds] folder/") -> [(holder moid, entry)]
        self._held_as = {}  # a disk's file -> [(holder moid, entry)]
        for moid, entry in self._held:
            self._held_in.setdefault(diskops.vm_directory(entry.get("file")), []).append((moid, entry))
            self._held_as.setdefault(entry.get("file"), []).append((moid, entry))

    def _where(self):
        """``({folder or datacenter moid: (name, parent)}, {host moid: name})``: read (three property reads) only when
        a name is shared, to name each VM of it."""
        if self._places is None:
            parents, hosts = {}, {}
            if self.client is not None:
                for vim_type in (vim.Folder, vim.Datacenter):
                    for row in self.client.retrieve(vim_type, ["name", "parent"]):
                        parents[row["moid"]] = (row["name"], row.get("parent"), vim_type is vim.Datacenter)
                hosts = {row["moid"]: row["name"] for row in self.client.retrieve(vim.HostSystem, ["name"])}
            self._places = parents, hosts
        return self._places

    def _candidate(self, row, shared):
        power = row.get("runtime.powerState")
        candidate = {"moid": row["moid"], "name": row["name"], "instance_uuid": row.get("config.instanceUuid"),
                     "vmx": row.get("config.files.vmPathName"), "power_state": str(power) if power else None,
                     "folder": None, "host": None, "row": row}
        if shared:
            parents, hosts = self._where()
            parts, parent = [], row.get("parent")
            while parent is not None and parent._moId in parents and len(parts) < 64:
                name, parent, is_datacenter = parents[parent._moId]
                parts.append(name)
                if is_datacenter:
                    break
            host = row.get("runtime.host")
            candidate.update(folder="/".join(reversed(parts)) or None,
                             host=hosts.get(host._moId) if host is not None else None)
        return candidate

    def resolve(self, name, instance_uuid=None):
        """The VM called ``name`` - or carrying ``instance_uuid`` - by ``domain.identity.resolve`` (the rule every
        module uses); candidates of a shared name carry their folder and host. ``domain.identity.resolve`` looks only
        at the VMs of the name and those carrying the UUID, so only those are made candidates (from the indexes)."""
        same = self._named.get(name, [])
        uuid = identity.norm_uuid(instance_uuid)
        carrying = [row for row in self._carrying.get(uuid, []) if row["name"] != name] if uuid else []
        return identity.resolve(name, [self._candidate(row, len(same) > 1) for row in same]
                                + [self._candidate(row, False) for row in carrying], instance_uuid)

    def find(self, name, instance_uuid=None):
        """``(row, problem, warning)``: the VM :meth:`resolve` finds, or the reason there is none (not found, or a
        name several VMs share and none carries ``instance_uuid`` - what a modernized item records,
        ``asr.items.recorded_instance_uuid``; a classic item records none: its ``infrastructureVmId`` is the
        configuration server's own id, docs/recorded-behaviour.md); ``warning`` names the other VMs of the name."""
        found = self.resolve(name, instance_uuid)
        if found.how == identity.NOT_FOUND:
            return None, "it was not found in vCenter", None
        if found.how == identity.AMBIGUOUS:
            return None, found.refusal(prefix=False), None
        return found.vm["row"], None, found.warning()

    def facts(self, name, instance_uuid=None, given_files=None):
        """Plain facts of VM ``name`` for the commit gate: ``{found, problem, name, moid, power_state,
        tools_running_status, disks, known, elsewhere, recorded, nics, warnings}`` (``nics``: :func:`vm_nics`;
        ``warnings``: the other VMs of the name, left alone).

        ``recorded``: what says which VMDKs are the VM's - V(manifest) (its failback manifest, extraConfig
        ``siterecovery.failback.disks``, which this collection writes when it moves the VM's disks to the master
        target or creates the VM from them; files of ``given_files`` it does not list count too), V(operator) (no
        manifest; ``given_files``, the operator's list of the VM's VMDK files, option ``protected_disk_files``) or
        None (nothing: only the names of its disks).
        ``disks``: attached to it (:func:`vm_disks`), each with ``own_by`` (:func:`_own_by`); ``elsewhere``: every
        disk attached to another VM, with ``holder`` (that VM's name); ``known``: VMDKs that are the VM's although
        not attached to it - the ones the record lists (attached to another VM, to none, or deleted) and the ones
        named after it (``name.vmdk``, ``name_N.vmdk``) in its directory that another VM holds - with ``why`` and
        ``holder``."""
        row, problem, warning = self.find(name, instance_uuid)
        if row is None:
            return {"found": False, "problem": problem, "name": name, "warnings": []}
        record, recorded = _record(row, given_files)
        own = _own_by(self.disks[row["moid"]], name, row, record, recorded)
        own_files = {d["file"] for d in own}
        elsewhere = [entry for moid, entry in self._held if moid != row["moid"]]  # shared entries: read, never changed
        known = []
        for entry in record:
            if entry["file"] not in own_files:
                holder = next((e["holder"] for moid, e in reversed(self._held_as.get(entry["file"], []))
                               if moid != row["moid"]), None)  # the last other VM holding it, in the order of the read
                known.append(dict({"file": entry["file"], "uuid": entry.get("uuid"), "holder": holder},
                                  **({"why": commit_gate.WHY_MANIFEST, "manifest_key": diskops.MANIFEST_KEY}
                                     if entry.get("source") == "manifest" else {"why": commit_gate.WHY_GIVEN})))
        directory = diskops.vm_directory(row.get("config.files.vmPathName"))
        listed = {k["file"] for k in known}
        # a VMDK named after the VM lies directly in its directory, so only the disks there are looked at (a name with
        # "/" in it could reach into a subfolder: then every disk is)
        nearby = self._held if "/" in name else self._held_in.get(directory, []) if directory else []
        for disk in [entry for moid, entry in nearby if moid != row["moid"]]:
            file_name = disk.get("file") or ""
            if (diskops.is_named_after(name, directory, file_name) and file_name not in own_files
                    and file_name not in listed):
                known.append({"file": file_name, "uuid": disk.get("uuid"), "holder": disk["holder"],
                              "why": commit_gate.WHY_NAMED})
                listed.add(file_name)
        return {"found": True, "problem": None, "name": name, "moid": row["moid"],
                "power_state": str(row.get("runtime.powerState")) if row.get("runtime.powerState") else None,
                "tools_running_status": row.get("guest.toolsRunningStatus"), "disks": own, "known": known,
                "elsewhere": elsewhere, "recorded": recorded, "nics": vm_nics(row.get("config.hardware.device")),
                "warnings": [warning] if warning else []}


def _record(row, given_files):
    """``(entries, source)``: the VM's failback manifest (``[{file, uuid?, source: manifest, ...}]``) and the files of
    the operator's ``given_files`` it does not list (``[{file, source: operator}]``: a VMDK nothing pinned, which the
    operator checked); ``source`` is V(manifest) when the VM carries a manifest, else V(operator) when files are
    given, else None. A file both list keeps the manifest's entry (its disk UUID is compared)."""
    entries = [dict(e, source="manifest") for e in diskops.manifest(row.get("config.extraConfig"))
               if isinstance(e, dict) and e.get("file")]
    listed = {e["file"] for e in entries}
    given = [{"file": f.strip(), "source": "operator"} for f in given_files or []
             if isinstance(f, str) and f.strip() and f.strip() not in listed]
    return entries + given, ("manifest" if entries else "operator" if given else None)


def _own_by(disks, name, row, record, source):
    """The VM's attached disks, each with ``own_by``: why it is the VM's own VMDK - ``source`` (V(manifest) or
    V(operator): the record, :func:`_record`, lists the file, and the disk UUID when it recorded one), V(name) (no
    record: ``name.vmdk`` / ``name_N.vmdk`` in the VM's directory) - or None (with ``recorded_uuid`` when the record
    lists the file with another disk UUID: the file at that path was replaced). ASR names no file nor UUID for a
    classic protected disk, so the commit gate takes only such a disk for one by capacity: a blank disk of the same
    size put in its place is not the VM's data."""
    by_file = {e["file"]: e for e in record}
    directory = diskops.vm_directory(row.get("config.files.vmPathName"))
    found = []
    for disk in disks:
        file_name = disk.get("file") or ""
        entry = by_file.get(file_name)
        if by_file:
            same = entry is not None and (not entry.get("uuid") or not disk.get("uuid")
                                          or str(entry["uuid"]).lower() == str(disk["uuid"]).lower())
            why = entry.get("source", source) if same else None
            if entry is not None and not same:  # the file at that path is not the disk recorded (replaced)
                found.append(dict(disk, own_by=None, recorded_uuid=entry["uuid"]))
                continue
        else:
            why = "name" if diskops.is_named_after(name, directory, file_name) else None
        found.append(dict(disk, own_by=why))
    return found


def read(client):
    """One property-collector read of every VM (:data:`VM_PATHS`) as :class:`OnPremVms`."""
    return OnPremVms(client.retrieve(vim.VirtualMachine, VM_PATHS), client)
