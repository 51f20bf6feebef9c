# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Disk moves between a VM and a master target, planned on facts and applied as one
reconfigure per VM. No VMDK is ever destroyed: disks are detached without a file operation
and attached again; only new (alternate-location) VMDKs are created.

A VM whose disks are moved carries a manifest of them in its extraConfig
(``siterecovery.failback.disks``), written in the same reconfigure as the detach, so a run
that stopped half-way finds a detached disk that is attached nowhere.
"""

from __future__ import annotations

import json
import re

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import facts
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.tasks import wait_for_tasks

MANIFEST_KEY = "siterecovery.failback.disks"
MAX_BUS = limits.SCSI_BUSES[-1]  # SCSI buses 0-3
UNITS = limits.SCSI_UNITS  # unit 7 is the controller's own


def manifest(extra_config_options):
    """The disks recorded on a VM before they were moved: ``[{file, size_gb, uuid, bus, unit}]``."""
    raw = facts.extra_config(extra_config_options).get(MANIFEST_KEY)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def vm_directory(vm_path):
    """'[vmfs-01] app01/app01.vmx' -> '[vmfs-01] app01/'."""
    if not vm_path or "/" not in vm_path:
        return None
    return vm_path.rsplit("/", 1)[0] + "/"


def alternate_files(vm_name, datastore, sizes_gb):
    """The VMDKs an alternate-location failback creates: [datastore] name/name.vmdk, name_1.vmdk, ..."""
    return [{"file": "[%s] %s/%s%s.vmdk" % (datastore, vm_name, vm_name, "" if index == 0 else "_%d" % index),
             "size_gb": size, "uuid": None, "bus": None, "unit": None} for index, size in enumerate(sizes_gb)]


def vm_disk_set(vm_disks, mt_disks, recorded, directory):
    """The VM's flat disks wherever they are now: on the VM, on the master target (by file,
    UUID, or the VM's directory) or recorded in the manifest and attached nowhere.

    Returns a list of ``{file, size_gb, uuid, bus, unit, where}`` with where in vm|mt|none.
    """
    result = {}
    for disk in recorded:
        result[disk["file"]] = dict(disk, where="none")
    recorded_uuids = {d.get("uuid") for d in recorded if d.get("uuid")}
    for disk in vm_disks:
        if disk["backing"] != "flat":
            continue
        entry = result.setdefault(disk["file"], {"file": disk["file"], "size_gb": disk["size_gb"], "uuid": disk["uuid"],
                                                 "bus": disk["controller_bus"], "unit": disk["unit"]})
        entry["where"] = "vm"
    for disk in mt_disks:
        belongs = (disk["file"] in result or (disk["uuid"] and disk["uuid"] in recorded_uuids)
                   or (directory and disk["file"].startswith(directory)))
        if belongs:
            entry = result.setdefault(disk["file"], {"file": disk["file"], "size_gb": disk["size_gb"],
                                                     "uuid": disk["uuid"], "bus": None, "unit": None})
            entry["where"] = "mt"
    return sorted(result.values(), key=lambda d: d["file"])


class SlotAllocator:
    """Free SCSI slots on a VM: LSI Logic controllers first, adding LSI Logic controllers on free
    buses when they are full (or when there is none)."""

    def __init__(self, devices, any_controller=False):
        self.controllers = facts.controllers(devices)
        self.used = {(d["controller_key"], d["unit"]) for d in facts.disks(devices)}
        self.new_controllers = []
        self.any_controller = any_controller
        self._next_key = -200

    def _key(self):
        self._next_key -= 1
        return self._next_key

    def take(self, bus=None, unit=None):
        """``(controller_key, unit)`` of a free slot; the original ``bus``/``unit`` when free."""
        candidates = [c for c in self.controllers if self.any_controller or facts.is_lsi_logic(c["type"])]
        if bus is not None:
            exact = [c for c in self.controllers if c["bus"] == bus]
            if exact and unit is not None and (exact[0]["key"], unit) not in self.used:
                self.used.add((exact[0]["key"], unit))
                return exact[0]["key"], unit
            candidates = exact + [c for c in candidates if c not in exact]
        for controller in candidates:
            for candidate in UNITS:
                if (controller["key"], candidate) not in self.used:
                    self.used.add((controller["key"], candidate))
                    return controller["key"], candidate
        taken = {c["bus"] for c in self.controllers}
        free = [b for b in range(MAX_BUS + 1) if b not in taken]
        if not free:
            return None
        controller = {"key": self._key(), "bus": free[0], "type": "lsilogic"}
        self.controllers.append(controller)
        self.new_controllers.append(controller)
        self.used.add((controller["key"], UNITS[0]))
        return controller["key"], UNITS[0]


def remove_spec(device):
    """Detach a disk: operation remove with NO file operation, so the VMDK stays on the datastore."""
    return vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.remove, device=device)


CONTROLLER_CLASSES = {"lsilogic": "VirtualLsiLogicController", "lsilogic-sas": "VirtualLsiLogicSASController",
                      "pvscsi": "ParaVirtualSCSIController"}  # facts.controller_type's names


def controller_spec(controller):
    """Add a SCSI controller ``{key, bus, type}`` (type as :func:`facts.controller_type` names it; LSI Logic when
    absent)."""
    device_class = getattr(vim.vm.device, CONTROLLER_CLASSES[controller.get("type") or "lsilogic"])
    return vim.vm.device.VirtualDeviceSpec(
        operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
        device=device_class(
            key=controller["key"], busNumber=controller["bus"],
            sharedBus=vim.vm.device.VirtualSCSIController.Sharing.noSharing))


def attach_spec(disk, slot, key, create=False):
    """Attach an existing VMDK (or create a new one when ``create``) at ``slot``."""
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=disk["file"], diskMode="persistent",
                                                            thinProvisioned=True)
    if disk.get("uuid") and not create:
        backing.uuid = disk["uuid"]
    device = vim.vm.device.VirtualDisk(key=key, controllerKey=slot[0], unitNumber=slot[1], backing=backing,
                                       capacityInKB=round(float(disk["size_gb"]) * 1024 * 1024))
    change = vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.add, device=device)
    if create:
        change.fileOperation = vim.vm.device.VirtualDeviceSpec.FileOperation.create
    return change


def attach_specs(devices, disks, create=False, keep_slots=False, any_controller=False):
    """Device changes that attach ``disks`` to a VM with ``devices``; None when no slot is left."""
    allocator = SlotAllocator(devices, any_controller=any_controller)
    changes = []
    for index, disk in enumerate(disks):
        slot = allocator.take(disk.get("bus") if keep_slots else None, disk.get("unit") if keep_slots else None)
        if slot is None:
            return None
        changes.append(attach_spec(disk, slot, -100 - index, create=create))
    return [controller_spec(c) for c in allocator.new_controllers] + changes


def natural_key(file_name):
    """Sort key that puts name.vmdk, name_1.vmdk, name_2.vmdk ... name_10.vmdk in disk order
    (a plain sort puts name_10 before name_2)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", file_name or "")]


NEW_VM_CONTROLLER_KEYS = (-300, -290, -280, -270)  # bus 0-3 of a VM being created; its disks are -301, -302...


def new_vm_slots(count):
    """Where ``count`` disks go on a VM being created: ``(controllers, slots)`` with controllers
    ``[{key, bus, type}]`` (LSI Logic, as many as needed, 15 disks each) and one ``(controller key,
    unit)`` per disk, in order (bus 0 units 0-6, 8-15, then bus 1...); None when more than 4
    controllers (60 disks) would be needed."""
    needed = limits.scsi_controllers_needed(count)
    if needed is None:
        return None
    controllers = [{"key": NEW_VM_CONTROLLER_KEYS[bus], "bus": bus, "type": "lsilogic"} for bus in range(needed)]
    slots = [(controllers[index // limits.SCSI_UNITS_PER_CONTROLLER]["key"],
              UNITS[index % limits.SCSI_UNITS_PER_CONTROLLER]) for index in range(count)]
    return controllers, slots


def creates_existing(config_spec, existing_files):
    """The files of ``config_spec`` that carry fileOperation create although they exist (a create over
    an existing VMDK fails with FileAlreadyExists, or worse): must be empty before every reconfigure."""
    create = vim.vm.device.VirtualDeviceSpec.FileOperation.create
    return [change.device.backing.fileName for change in config_spec.deviceChange or []
            if change.fileOperation == create and getattr(change.device.backing, "fileName", None) in existing_files]


PIN_KEY = "siterecovery.failback.pinned"


def _pin_entries(row):
    """The entries of a VM's pin (extraConfig ``siterecovery.failback.pinned``): ``[{file, size_gb, uuid}]``."""
    raw = facts.extra_config(row.get("config.extraConfig")).get(PIN_KEY)
    try:
        entries = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [e for e in entries if isinstance(e, dict) and e.get("file")] if isinstance(entries, list) else []


def pinned(mt_row):
    """``{file: disk UUID}``: the VMDKs pinned on master target ``mt_row`` (an inventory row with
    ``config.extraConfig``).

    A master target's pin (extraConfig ``siterecovery.failback.pinned``, a compact JSON list of ``{file, size_gb,
    uuid}``) is written in the very reconfigure that takes a VM's VMDKs off it (``onprem_vm``,
    ``master_target_disks``), and by the failover right before ASR's job: each disk's UUID as vCenter reported it
    while the VMDK was attached to the master target, so Site Recovery's replica. A VMDK found later attached to no VM
    is recorded in a failback manifest with that UUID, never with one read from whatever file then sits at its path
    (the commit gate compares the disk attached with the record)."""
    return {e["file"]: e["uuid"] for e in _pin_entries(mt_row) if e.get("uuid")}


def pin_option(mt_row, detached, attached_files):
    """The master target's pin after detaching ``detached`` (``[{file, size_gb, uuid}]``): those disks, plus the
    earlier entries whose VMDK is still attached to no VM (``attached_files``: every file attached to a VM now)."""
    now = {d["file"] for d in detached}
    kept = [e for e in _pin_entries(mt_row) if e["file"] not in now and e["file"] not in attached_files]
    value = json.dumps(kept + [{k: d.get(k) for k in ("file", "size_gb", "uuid")} for d in detached],
                       sort_keys=True, separators=(",", ":"))
    return vim.option.OptionValue(key=PIN_KEY, value=value)


def manifest_option(disks):
    value = json.dumps([{k: d.get(k) for k in ("file", "size_gb", "uuid", "bus", "unit")} for d in disks],
                       sort_keys=True, separators=(",", ":"))
    return vim.option.OptionValue(key=MANIFEST_KEY, value=value)


def never_destroys(config_spec):
    """True when no device change of ``config_spec`` destroys a file (checked before every reconfigure).
    ``replace`` deletes the existing backing and creates a new one, so it destroys the VMDK too."""
    destructive = (vim.vm.device.VirtualDeviceSpec.FileOperation.destroy,
                   vim.vm.device.VirtualDeviceSpec.FileOperation.replace)
    return all(change.fileOperation not in destructive for change in config_spec.deviceChange or [])


def _folder_key(folder_path):
    """'[vmfs-01] app01/' and '[vmfs-01]/app01' (as some servers write it) -> '[vmfs-01] app01/'."""
    match = re.match(r"^\[([^\]]+)\]\s*/?(.*?)/?$", folder_path or "")
    if not match:
        return None
    return "[%s] %s/" % (match.group(1), match.group(2)) if match.group(2) else "[%s] " % match.group(1)


def search_vmdks(client, inventory, datastore_names, deadline, sizes=None):
    """Every ``*.vmdk`` on the named datastores, one SearchDatastoreSubFolders task per datastore.

    Returns ``{"[ds] folder/": [file name, ...]}``. When ``sizes`` (a dict) is given it is filled with
    ``{"[ds] folder/name.vmdk": size in GB}`` for the disks whose capacity the server reports
    (VmDiskFileInfo.capacityKb).
    """
    browser = vim.host.DatastoreBrowser
    spec = browser.SearchSpec(matchPattern=["*.vmdk"],
                              query=[browser.VmDiskQuery(details=browser.VmDiskQuery.Details(
                                  diskType=False, capacityKb=True, hardwareVersion=False))],
                              details=browser.FileInfo.Details(fileSize=True))
    rows = [inventory.datastore_by_name(name) for name in sorted(set(datastore_names))]
    rows = [row for row in rows if row is not None and row.get("browser") is not None]
    tasks = [row["browser"].SearchDatastoreSubFolders_Task(datastorePath="[%s]" % row["name"], searchSpec=spec)
             for row in rows]
    client.stats["tasks"] += len(tasks)
    found = {}
    for summary in wait_for_tasks(client, tasks, deadline, labels=["search %s" % r["name"] for r in rows]):
        for folder in summary["result"] or []:
            key = _folder_key(folder.folderPath)
            if key:
                found.setdefault(key, []).extend(f.path for f in folder.file or [])
                for info in folder.file or []:
                    if sizes is not None and getattr(info, "capacityKb", None):
                        sizes[key + info.path] = round(info.capacityKb / (1024.0 * 1024.0), 3)
    return found


def named_after(vm_name):
    """The names a VM's own VMDKs take in its directory: ``name.vmdk``, ``name_N.vmdk`` (a compiled pattern)."""
    return re.compile(r"^%s(_\d+)?\.vmdk$" % re.escape(vm_name))


def is_named_after(vm_name, directory, file_name):
    """Whether ``file_name`` (``[datastore] path``) is one of VM ``vm_name``'s own VMDK names in ``directory``."""
    file_name = file_name or ""
    return bool(directory) and file_name.startswith(directory) and bool(
        named_after(vm_name).match(file_name[len(directory):]))


def orphans(vm_name, directory, found, attached_files):
    """VMDKs named after the VM (name.vmdk, name_N.vmdk) in its directory and attached to no VM:
    what a disk move that stopped between detach and attach leaves behind."""
    pattern = named_after(vm_name)
    return [{"file": directory + name, "size_gb": 0, "uuid": None, "bus": None, "unit": None, "where": "none"}
            for name in sorted(found.get(directory, [])) if pattern.match(name)
            and directory + name not in attached_files]
