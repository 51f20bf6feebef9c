# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A snapshot of the vSphere inventory in a fixed number of property-collector reads.

Six reads (VMs, hosts, datastores, compute resources, folders, datacenters) answer every
question the failback modules ask, whatever the number of VMs. The snapshot never changes once
read, so what is derived from every VM (the identity candidates, the index by name and instance
UUID, the disk files and who holds each) is derived once: a step that asks about each of N VMs
costs O(N) in all, not O(N) per VM.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import identity
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import facts, lookup
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim

VM_PATHS = (
    "name", "config.instanceUuid", "config.uuid", "config.template", "runtime.host", "runtime.powerState",
    "config.hardware.device", "config.hardware.numCPU", "config.hardware.memoryMB", "config.guestId",
    "config.guestFullName", "config.firmware", "config.extraConfig", "snapshot", "guest.toolsStatus",
    "guest.toolsRunningStatus", "guest.guestFamily", "resourcePool", "parent", "network", "config.files.vmPathName",
)
HOST_PATHS = (
    "name", "parent", "runtime.connectionState", "runtime.inMaintenanceMode", "summary.hardware.memorySize",
    "summary.quickStats.overallMemoryUsage", "datastore", "vm",
)
DATASTORE_PATHS = ("name", "summary.type", "summary.capacity", "summary.freeSpace", "summary.accessible", "browser")
PARENT_PATHS = ("name", "parent")
COMPUTE_PATHS = ("name", "parent", "resourcePool")  # a vMotion's pool, read here rather than per VM moved


class Inventory:
    """Rows keyed by MOID for VMs, hosts, datastores, compute resources, folders and datacenters."""

    def __init__(self, client):
        self.client = client
        self.is_vcenter = client.is_vcenter
        self.vms = {row["moid"]: row for row in client.retrieve(vim.VirtualMachine, VM_PATHS)}
        self.hosts = {row["moid"]: row for row in client.retrieve(vim.HostSystem, HOST_PATHS)}
        self.datastores = {row["moid"]: row for row in client.retrieve(vim.Datastore, DATASTORE_PATHS)}
        self.computes = {row["moid"]: row for row in client.retrieve(vim.ComputeResource, COMPUTE_PATHS)}
        self.folders = {row["moid"]: row for row in client.retrieve(vim.Folder, PARENT_PATHS)}
        self.datacenters = {row["moid"]: row for row in client.retrieve(vim.Datacenter, PARENT_PATHS)}
        self._candidates = None  # derived on first use, once (see the module docstring)
        self._by_name = None
        self._by_uuid = None
        self._found = {}
        self._disks = {}
        self._holders = None
        self._named = None
        self._by_any_uuid = None
        self._candidate_of = None
        self._attached = None

    def find_vms(self, identifiers, kind="VM"):
        """Resolve names, MOIDs or instance/BIOS UUIDs to VM rows (templates excluded); an identifier found once is
        not looked up again (the snapshot does not change)."""
        problems = []
        for ident in [i for i in dict.fromkeys(identifiers) if i not in self._found]:
            # lookup.resolve looks at the VM of that MOID, those carrying that UUID and those of that name: only
            # those rows are given to it (from the indexes), so each identifier costs the same whatever the VMs
            found, more = lookup.resolve([ident], self._rows_for(ident), kind=kind,
                                         uuid_paths=("config.instanceUuid", "config.uuid"),
                                         candidate=lambda row: self._candidate_of[row["moid"]])
            self._found.update(found)
            problems += more
        if problems:
            raise VSphereError(" ".join(problems), not_found=[i for i in identifiers if i not in self._found])
        return {i: self._found[i] for i in identifiers}

    def _rows_for(self, ident):
        """The VM rows (no template) :func:`lookup.resolve` may match ``ident`` to: of that MOID, carrying it as
        instance or BIOS UUID, or of that name."""
        by_name, _by_uuid = self._index()
        if self._by_any_uuid is None:
            self._by_any_uuid = {}
            for candidate in self.candidates():
                row = candidate["row"]
                for uuid in {lookup.norm_uuid(row.get(p)) for p in ("config.instanceUuid", "config.uuid")} - {""}:
                    self._by_any_uuid.setdefault(uuid, []).append(row)
        rows = [c["row"] for c in by_name.get(ident, [])]
        rows += [row for row in self._by_any_uuid.get(lookup.norm_uuid(ident), []) if row not in rows]
        row = self.vms.get(ident)
        if row is not None and not row.get("config.template") and row not in rows:
            rows.append(row)
        return rows

    def folder_path(self, row):
        """The inventory path of a VM's folder, ``DC1/vm/Restored/app01-copy`` (its datacenter, then folders)."""
        parts, parent, seen = [], row.get("parent"), 0
        while parent is not None and seen < 64:
            seen += 1
            moid = parent._moId
            nxt = self.folders.get(moid) or self.datacenters.get(moid)
            if nxt is None:
                break
            parts.append(nxt["name"])
            if moid in self.datacenters:
                break
            parent = nxt.get("parent")
        return "/".join(reversed(parts)) or None

    def candidates(self):
        """Every VM that is not a template as ``domain.identity`` candidates (``row``: its property row), built once
        per snapshot (the same list on every call: do not change it)."""
        if self._candidates is None:
            result = []
            for row in self.vms.values():
                if row.get("config.template"):
                    continue
                host = self.host_of(row)
                result.append({"moid": row["moid"], "name": row["name"], "instance_uuid": row.get("config.instanceUuid"),
                               "folder": self.folder_path(row), "vmx": row.get("config.files.vmPathName"),
                               "host": host["name"] if host else None, "power_state": str(row.get("runtime.powerState"))
                               if row.get("runtime.powerState") else None, "row": row})
            self._candidates = result
            self._candidate_of = {c["moid"]: c for c in result}
        return self._candidates

    def _index(self):
        """``({name: [candidate]}, {normalized instance UUID: [candidate]})`` over :meth:`candidates`, built once."""
        if self._by_name is None:
            self._by_name, self._by_uuid = {}, {}
            for candidate in self.candidates():
                self._by_name.setdefault(candidate["name"], []).append(candidate)
                uuid = identity.norm_uuid(candidate.get("instance_uuid"))
                if uuid:
                    self._by_uuid.setdefault(uuid, []).append(candidate)
        return self._by_name, self._by_uuid

    def resolve_vm(self, name, instance_uuid=None):
        """The VM ``name`` (or carrying ``instance_uuid``) as a ``domain.identity.Resolution`` (``vm["row"]``: its
        row): the one decision every module makes (see that module). ``domain.identity.resolve`` looks only at the
        VMs of that name and those carrying that UUID, so it is given just those (from the index): one VM's
        resolution costs the same whatever the number of VMs."""
        by_name, by_uuid = self._index()
        same = by_name.get(name, [])
        uuid = identity.norm_uuid(instance_uuid)
        carrying = [c for c in by_uuid.get(uuid, []) if c.get("name") != name] if uuid else []
        return identity.resolve(name, same + carrying, instance_uuid)

    def vms_named(self, name):
        """Every VM row called ``name`` (templates included), in the order of the read: one dict lookup."""
        if self._named is None:
            self._named = {}
            for row in self.vms.values():
                self._named.setdefault(row["name"], []).append(row)
        return self._named.get(name, []) if name else []

    def vm_by_name(self, name, instance_uuid=None):
        """The row of the VM :meth:`resolve_vm` finds; None when it finds none or the name is ambiguous (a step
        refuses an ambiguous name from :meth:`resolve_vm` before it reads with this)."""
        found = self.resolve_vm(name, instance_uuid)
        return found.vm["row"] if found.vm is not None else None

    def host_of(self, vm_row):
        host = vm_row.get("runtime.host")
        return self.hosts.get(host._moId) if host is not None else None

    def compute_of(self, host_row):
        parent = host_row.get("parent")
        return self.computes.get(parent._moId) if parent is not None else None

    def cluster_of(self, host_row):
        compute = self.compute_of(host_row)
        if compute is not None and isinstance(compute["obj"], vim.ClusterComputeResource):
            return compute
        return None

    def datacenter_of(self, row):
        """Walk the parent chain (compute resource, folders) up to the datacenter."""
        parent = row.get("parent")
        seen = 0
        while parent is not None and seen < 64:
            seen += 1
            moid = parent._moId
            if moid in self.datacenters:
                return self.datacenters[moid]
            nxt = self.folders.get(moid) or self.computes.get(moid)
            parent = nxt.get("parent") if nxt else None
        return None

    def datastore_rows(self, refs):
        return [self.datastores[ref._moId] for ref in refs or [] if ref._moId in self.datastores]

    def datastore_by_name(self, name):
        matches = [row for row in self.datastores.values() if row["name"] == name]
        return matches[0] if len(matches) == 1 else None

    def disks_of(self, row):
        """``facts.disks`` of a VM row of this snapshot, parsed once per VM."""
        if row["moid"] not in self._disks:
            self._disks[row["moid"]] = facts.disks(row.get("config.hardware.device"))
        return self._disks[row["moid"]]

    def disk_holders(self):
        """``{disk file: [(VM row, its disk dict (facts.disks)), ...]}``: every disk attached to a VM of the snapshot
        (templates included), the VMs in the order of the read; built once."""
        if self._holders is None:
            self._holders = {}
            for row in self.vms.values():
                for disk in self.disks_of(row):
                    self._holders.setdefault(disk["file"], []).append((row, disk))
        return self._holders

    def holder_of(self, file_name, besides=None):
        """``(VM row, disk dict)`` of the first VM (in the order of the read) the disk file is attached to, leaving out
        the VM of MOID ``besides``; ``(None, None)`` when no such VM holds it."""
        return next(((row, disk) for row, disk in self.disk_holders().get(file_name, ()) if row["moid"] != besides),
                    (None, None))

    def attached_files(self):
        """Every disk file attached to any VM of the inventory (a frozenset, built once)."""
        if self._attached is None:
            self._attached = frozenset(self.disk_holders())
        return self._attached

    def vms_on_host(self, host_row):
        return [self.vms[ref._moId] for ref in host_row.get("vm") or [] if ref._moId in self.vms]
