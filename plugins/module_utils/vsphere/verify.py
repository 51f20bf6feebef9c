# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What vCenter says about failed-back VMs before their commit: one property-collector read of every VM,
whatever the number of VMs to verify; nothing is changed and no task is started.

The facts are plain dicts for ``domain.commit_gate.decide``.
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import disks as diskops
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim

VM_PATHS = ("name", "config.template", "config.instanceUuid", "runtime.powerState", "guest.toolsRunningStatus",
            "config.hardware.device", "config.extraConfig", "config.files.vmPathName")


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


class OnPremVms:
    """The VMs of one read, answering :meth:`facts` for any number of failed-back VMs.

    ``rows``: property-collector rows with :data:`VM_PATHS` (from :func:`read`)."""

    def __init__(self, rows):
        self.rows = [row for row in rows if not row.get("config.template")]
        self.disks = {row["moid"]: vm_disks(row.get("config.hardware.device")) for row in self.rows}

    def find(self, name, instance_uuid=None):
        """``(row, problem)``: the only VM called ``name``, or among several the one whose instance UUID is
        ``instance_uuid`` (what a modernized item records, ``asr.items.recorded_instance_uuid``; a classic item
        records none: its ``infrastructureVmId`` is the configuration server's own id, docs/recorded-behaviour.md)."""
        found = [row for row in self.rows if row["name"] == name]
        if len(found) > 1 and instance_uuid:
            found = [row for row in found if (row.get("config.instanceUuid") or "").lower() == instance_uuid.lower()]
        if not found:
            return None, "it was not found in vCenter"
        if len(found) > 1:
            return None, ("%d VMs are named %s (%s) and ASR records none of their instance UUIDs, so the gate cannot "
                          "tell which one failed back; rename or remove the stale copies" % (
                              len(found), name, ", ".join("%s %s" % (r["moid"], r.get("config.instanceUuid"))
                                                          for r in sorted(found, key=lambda r: r["moid"]))))
        return found[0], None

    def facts(self, name, instance_uuid=None):
        """Plain facts of VM ``name`` for the commit gate: ``{found, problem, name, moid, power_state,
        tools_running_status, disks, known, elsewhere}``.

        ``disks``: attached to it (:func:`vm_disks`); ``elsewhere``: every disk attached to another VM, with
        ``holder`` (that VM's name); ``known``: VMDKs that are the VM's although not attached to it - the ones its
        failback manifest (extraConfig ``siterecovery.failback.disks``) records and the ones named after it
        (``name.vmdk``, ``name_N.vmdk``) in its directory that another VM holds - with ``why`` and ``holder``."""
        row, problem = self.find(name, instance_uuid)
        if row is None:
            return {"found": False, "problem": problem, "name": name}
        own = self.disks[row["moid"]]
        own_files = {d["file"] for d in own}
        elsewhere = [dict(disk, holder=other["name"]) for other in self.rows if other["moid"] != row["moid"]
                     for disk in self.disks[other["moid"]]]
        holders = {d["file"]: d["holder"] for d in elsewhere}
        known = []
        for entry in diskops.manifest(row.get("config.extraConfig")):
            if entry.get("file") and entry["file"] not in own_files:
                known.append({"file": entry["file"], "uuid": entry.get("uuid"), "holder": holders.get(entry["file"]),
                              "why": commit_gate.WHY_MANIFEST, "manifest_key": diskops.MANIFEST_KEY})
        directory = diskops.vm_directory(row.get("config.files.vmPathName"))
        named = re.compile(r"^%s(_\d+)?\.vmdk$" % re.escape(name))
        listed = {k["file"] for k in known}
        for disk in elsewhere:
            file_name = disk.get("file") or ""
            if (directory and file_name.startswith(directory) and named.match(file_name[len(directory):])
                    and file_name not in own_files and file_name not in listed):
                known.append({"file": file_name, "uuid": disk.get("uuid"), "holder": disk["holder"],
                              "why": commit_gate.WHY_NAMED})
                listed.add(file_name)
        return {"found": True, "problem": None, "name": name, "moid": row["moid"],
                "power_state": str(row.get("runtime.powerState")) if row.get("runtime.powerState") else None,
                "tools_running_status": row.get("guest.toolsRunningStatus"), "disks": own, "known": known,
                "elsewhere": elsewhere}


def read(client):
    """One property-collector read of every VM (:data:`VM_PATHS`) as :class:`OnPremVms`."""
    return OnPremVms(client.retrieve(vim.VirtualMachine, VM_PATHS))
