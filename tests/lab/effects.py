# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ASR's side effects in vCenter, done through pyVmomi as ASR (the configuration server and
the master target) does them. The emulator's job engine calls these from job tasks.

Every single mutation (a power operation, one disk detached, one disk attached, one VMDK
created, a VM created) first calls ``self.on_effect(label)``; the job engine sets it to
count effects and to stop a job after effect k (a fault the control API injects), which
leaves the world half-done exactly as a crashed job would.

Documented failures raise :class:`EffectError` with ASR's provider error code.
"""

import re
import ssl
import threading
import time

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from .effects_modern import ModernizedEffects


class EffectError(Exception):
    """A documented ASR failure caused by the state of vCenter."""

    def __init__(self, code, message, possible_causes="", recommended_action=""):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.possible_causes = possible_causes
        self.recommended_action = recommended_action


VM_PATHS = ["name", "runtime.host", "runtime.powerState", "config.hardware.device", "config.hardware.memoryMB",
            "config.hardware.numCPU", "config.guestId", "config.firmware", "snapshot", "datastore",
            "config.instanceUuid", "guest.toolsRunningStatus", "resourcePool", "parent"]
HOST_PATHS = ["name", "summary.hardware.memorySize", "summary.quickStats.overallMemoryUsage",
              "runtime.connectionState", "runtime.inMaintenanceMode", "datastore", "vm", "parent"]


class Site:
    """One logged-in simulator (the vCenter or a standalone ESXi host)."""

    def __init__(self, key, info):
        self.key = key
        context = ssl.create_default_context(cafile=info["ca_file"])
        self.si = SmartConnect(host=info["host"], port=info["port"], user=info["username"], pwd=info["password"],
                               sslContext=context)
        self.content = self.si.RetrieveContent()

    def read(self, vim_type, paths):
        pc = vmodl.query.PropertyCollector
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, [vim_type], True)
        try:
            spec = pc.FilterSpec(
                objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[
                    pc.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
                propSet=[pc.PropertySpec(type=vim_type, pathSet=paths, all=False)])
            rows = []
            result = self.content.propertyCollector.RetrievePropertiesEx([spec], pc.RetrieveOptions())
            while result:
                for obj in result.objects:
                    row = {"obj": obj.obj}
                    row.update({p.name: p.val for p in obj.propSet})
                    rows.append(row)
                result = self.content.propertyCollector.ContinueRetrievePropertiesEx(result.token) \
                    if result.token else None
            return rows
        finally:
            view.Destroy()

    def read_objects(self, objects, paths):
        """``paths`` of the given objects only (one round trip, whatever the inventory's size)."""
        pc = vmodl.query.PropertyCollector
        types = list({type(obj) for obj in objects})
        spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=obj, skip=False) for obj in objects],
                             propSet=[pc.PropertySpec(type=t, pathSet=paths, all=False) for t in types])
        rows = []
        for obj in self.content.propertyCollector.RetrieveContents([spec]) or []:
            row = {"obj": obj.obj}
            row.update({p.name: p.val for p in obj.propSet})
            rows.append(row)
        return rows

    def close(self):
        Disconnect(self.si)


class VCenterEffects(ModernizedEffects):
    """ASR's side effects on the lab's simulators.

    ``endpoints`` maps "vcenter" and each standalone host's name to a Simulator ``info``
    (url, host, port, username, password, ca_file). A VM is found by its instance UUID when the caller knows it
    (``uuid=``: ASR knows a protected VM by identity, so a stale copy of the same name in another folder is never
    touched), else by name, which must then be unique on every site.
    """

    def __init__(self, endpoints, spec=None):
        self.endpoints = endpoints
        self.spec = spec
        self.sites = {}
        self.lock = threading.RLock()
        self.on_effect = lambda label: None
        self.powered_on_at = {}
        self._vm_refs = {}  # name -> [(site key, VM)]
        self._uuid_refs = {}  # instance UUID (lower case) -> (site key, VM)
        # the spec's protected items by name (looked up once per VM and disk: a scan would cost O(N) each time)
        self._items = {}
        for entry in (spec or {}).get("asr", {}).get("items", []):
            self._items.setdefault(entry["name"], entry)

    # ------------------------------------------------------------------ plumbing
    def site(self, key):
        with self.lock:
            if key not in self.sites:
                self.sites[key] = Site(key, self.endpoints[key])
            return self.sites[key]

    def close(self):
        with self.lock:
            for site in self.sites.values():
                try:
                    site.close()
                except Exception:
                    pass
            self.sites = {}

    def _effect(self, label):
        self.on_effect(label)

    def _wait(self, task, label):
        """Wait for a vSphere task; returns its result (the new VM of a CreateVM_Task)."""
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=task)],
                             propSet=[pc.PropertySpec(type=vim.Task, pathSet=["info.state", "info.error",
                                                                              "info.result"])])
        collector = vim.PropertyCollector("propertyCollector", task._stub)
        while True:
            props = {p.name: p.val for p in collector.RetrieveContents([spec])[0].propSet}
            if props["info.state"] in ("success", "error"):
                break
            time.sleep(0.02)
        if props["info.state"] != "success":
            raise RuntimeError("vSphere task %s failed: %s" % (label, props.get("info.error")))
        return props.get("info.result")

    def _index(self):
        self._vm_refs, self._uuid_refs = {}, {}
        for key in self.endpoints:
            for row in self.site(key).read(vim.VirtualMachine, ["name", "config.instanceUuid"]):
                self._vm_refs.setdefault(row["name"], []).append((key, row["obj"]))
                if row.get("config.instanceUuid"):
                    self._uuid_refs[row["config.instanceUuid"].lower()] = (key, row["obj"])

    def _find_vm(self, name, uuid=None):
        """``(site, row)`` for the VM whose instance UUID is ``uuid`` or, without one, the only VM called ``name``;
        ``(None, None)`` when there is none. A name two VMs share is an error (EffectError VmNameAmbiguous): ASR never
        picks a VM by name. References are cached, so finding one VM reads that VM only."""
        for attempt in range(2):
            if attempt:
                self._index()
            if uuid:
                found = [self._uuid_refs[uuid.lower()]] if uuid.lower() in self._uuid_refs else []
            else:
                found = self._vm_refs.get(name, [])
            if len(found) > 1:
                raise EffectError("VmNameAmbiguous", "%d VMs are named %s; the lab needs the instance UUID of the one "
                                  "ASR protects" % (len(found), name))
            if not found:
                continue
            key, ref = found[0]
            site = self.site(key)
            try:
                rows = site.read_objects([ref], VM_PATHS)
            except vmodl.fault.ManagedObjectNotFound:
                rows = []
            row = rows[0] if rows else None
            if row is None:
                continue
            same = ((row.get("config.instanceUuid") or "").lower() == uuid.lower()) if uuid else row.get("name") == name
            if same:
                return site, row
        return None, None

    def _host_row(self, site, host_obj):
        rows = site.read_objects([host_obj], HOST_PATHS) if host_obj is not None else []
        return rows[0] if rows else None

    # ------------------------------------------------------------------ helpers over rows
    def _item(self, name):
        return self._items.get(name)

    @staticmethod
    def _disks(row):
        """The VM's virtual disks: file, key, controller key, unit, size, backing kind."""
        disks = []
        for dev in row.get("config.hardware.device") or []:
            if isinstance(dev, vim.vm.device.VirtualDisk):
                backing = dev.backing
                kind = "rdm" if isinstance(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo) else "flat"
                disks.append({"file": backing.fileName, "key": dev.key, "controller_key": dev.controllerKey,
                              "unit": dev.unitNumber, "size_gb": dev.capacityInKB / 1048576.0, "backing": kind,
                              "uuid": getattr(backing, "uuid", None), "device": dev})
        return disks

    @staticmethod
    def _controllers(row):
        return [dev for dev in row.get("config.hardware.device") or []
                if isinstance(dev, vim.vm.device.VirtualSCSIController)]

    def _vm_or_fail(self, name, role="VM", uuid=None):
        site, row = self._find_vm(name, uuid)
        if row is None:
            raise EffectError("VmNotFound", "%s %s%s was not found in vCenter" % (
                role, name, " (instance UUID %s)" % uuid if uuid else ""))
        return site, row

    def _reconfigure(self, row, changes, label):
        self._effect(label)
        spec = vim.vm.ConfigSpec(deviceChange=changes)
        self._wait(row["obj"].ReconfigVM_Task(spec=spec), label)

    def _detach(self, row, disk, label):
        """Remove a disk from a VM without any file operation: the VMDK stays on the datastore."""
        change = vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.remove,
                                                 device=disk["device"])
        self._reconfigure(row, [change], label)

    def _attach(self, row, file_name, size_gb, label, controller_bus=None, unit=None, uuid=None):
        """Attach an existing VMDK to a VM on a free slot of an LSI Logic controller (added when needed)."""
        controllers = self._controllers(row)
        used = {(d["controller_key"], d["unit"]) for d in self._disks(row)}
        changes = []
        target = None
        lsi = (vim.vm.device.VirtualLsiLogicController, vim.vm.device.VirtualLsiLogicSASController)
        candidates = [c for c in controllers if isinstance(c, lsi)]
        if controller_bus is not None:
            candidates = [c for c in controllers if c.busNumber == controller_bus] or candidates
        for controller in candidates:
            units = [unit] if unit is not None and controller.busNumber == controller_bus else \
                [u for u in range(16) if u != 7]
            for candidate in units:
                if (controller.key, candidate) not in used:
                    target = (controller.key, candidate)
                    break
            if target:
                break
        if target is None:
            buses = {c.busNumber for c in controllers}
            bus = next((b for b in range(4) if b not in buses), None)
            if bus is None:
                raise EffectError("NoFreeScsiSlot", "VM %s has no free SCSI slot for %s" % (row["name"], file_name))
            controller = vim.vm.device.VirtualLsiLogicController(
                key=-100, busNumber=bus, sharedBus=vim.vm.device.VirtualSCSIController.Sharing.noSharing)
            changes.append(vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                                                           device=controller))
            target = (-100, 0)
        backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=file_name, diskMode="persistent",
                                                                thinProvisioned=True)
        if uuid:
            backing.uuid = uuid
        disk = vim.vm.device.VirtualDisk(key=-101, controllerKey=target[0], unitNumber=target[1], backing=backing,
                                         capacityInKB=int(size_gb * 1048576))
        changes.append(vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                                                       device=disk))
        self._reconfigure(row, changes, label)

    def _refresh(self, name, uuid=None):
        return self._find_vm(name, uuid)[1]

    # ------------------------------------------------------------------ reads
    def vm(self, name, uuid=None):
        """The VM's facts as the emulator needs them, or None when it does not exist."""
        with self.lock:
            site, row = self._find_vm(name, uuid)
            if row is None:
                return None
            host = self._host_row(site, row["runtime.host"])
            return {
                "name": row["name"], "site": site.key, "host": host["name"] if host else None,
                "power_state": str(row["runtime.powerState"]), "memory_mb": row.get("config.hardware.memoryMB"),
                "num_cpu": row.get("config.hardware.numCPU"), "guest_id": row.get("config.guestId"),
                "firmware": row.get("config.firmware"), "instance_uuid": row.get("config.instanceUuid"),
                "folder": row["parent"].name if row.get("parent") is not None and hasattr(row["parent"], "name") else None,
                "snapshots": row.get("snapshot") is not None,
                "tools_running_status": row.get("guest.toolsRunningStatus"),
                "disks": [{k: v for k, v in d.items() if k != "device"} for d in self._disks(row)],
            }

    def host_of(self, vm_name, uuid=None, vms=True):
        """Facts of the ESXi host of ``vm_name``: name, memory_mb, memory_used_mb,
        connection_state, maintenance_mode, datastores (names), vms (names; read only with ``vms``: the names of
        every VM on the host cost a read that grows with the inventory, an empty list without it)."""
        with self.lock:
            site, row = self._vm_or_fail(vm_name, uuid=uuid)
            host = self._host_row(site, row["runtime.host"])
            datastores = list(host.get("datastore") or [])
            vm_refs = list(host.get("vm") or []) if vms else []
            names = {r["obj"]: r["name"] for r in site.read_objects(datastores, ["name"])} if datastores else {}
            vm_names = {r["obj"]: r["name"] for r in site.read_objects(vm_refs, ["name"])} if vm_refs else {}
            return {
                "name": host["name"], "site": site.key,
                "memory_mb": host["summary.hardware.memorySize"] // (1024 * 1024),
                "memory_used_mb": host.get("summary.quickStats.overallMemoryUsage") or 0,
                "connection_state": str(host["runtime.connectionState"]),
                "maintenance_mode": bool(host["runtime.inMaintenanceMode"]),
                "datastores": sorted(names[d] for d in host.get("datastore") or [] if d in names),
                "vms": sorted(vm_names[v] for v in host.get("vm") or [] if v in vm_names),
            }

    # ------------------------------------------------------------------ reprotect to on-prem
    def check_reprotect(self, vm_name, master_target, datastore=None, original_location=True, uuid=None, mt_uuid=None):
        """Raise EffectError for what makes reprotect fail in vCenter:
        78052 a VM named ``vm_name`` exists on the master target's host (alternate location),
        8061 a datastore of the VM (original) or ``datastore`` (alternate) is not reachable
        from the master target's host, MasterTargetHasSnapshots when the MT has snapshots."""
        with self.lock:
            mt = self.vm(master_target, mt_uuid)
            if mt is None:
                raise EffectError("MasterTargetNotFound", "Master target %s was not found in vCenter" % master_target)
            if mt["snapshots"]:
                raise EffectError(
                    "MasterTargetHasSnapshots",
                    "Master target %s has snapshots; reprotect and failback fail while it has any." % master_target,
                    "Snapshots exist on the master target virtual machine.",
                    "Delete all snapshots of the master target and retry the job.")
            host = self.host_of(master_target, mt_uuid, vms=not original_location)
            if original_location:
                item = self._item(vm_name)
                wanted = sorted({d["datastore"] for d in (item or {}).get("disks", [])})
            else:
                wanted = [datastore]
                if vm_name in host["vms"]:
                    raise EffectError(
                        78052, "Protection couldn't be completed: a virtual machine named %s already exists on "
                        "ESXi host %s of master target %s." % (vm_name, host["name"], master_target),
                        "A VM with the same name exists on the master target's host.",
                        "Choose a master target on another host, vMotion the master target, or rename the VM.")
            unreachable = [d for d in wanted if d not in host["datastores"]]
            if unreachable:
                raise EffectError(
                    8061, "Datastore %s is not accessible from ESXi host %s of master target %s."
                    % (", ".join(unreachable), host["name"], master_target),
                    "The datastore is not mounted on the master target's ESXi host.",
                    "Choose a master target whose host mounts the datastore, or mount it, and retry.")

    def prepare_original_location(self, vm_name, master_target, uuid=None, mt_uuid=None):
        """Power the VM off; detach each of its flat disks (no file operation: the VMDK
        stays) and attach it to a free slot of an LSI Logic controller of the master target
        (adding one when needed). Disks already on the master target are left alone."""
        with self.lock:
            self.power_off(vm_name, uuid=uuid)
            item = self._item(vm_name)
            recorded = (item or {}).get("disks") or [
                {"file": d["file"], "size_gb": d["size_gb"], "uuid": d["uuid"]}
                for d in self._disks(self._vm_or_fail(vm_name, uuid=uuid)[1]) if d["backing"] == "flat"]
            for disk in recorded:
                vm_row = self._refresh(vm_name, uuid)
                mt_row = self._vm_or_fail(master_target, "Master target", mt_uuid)[1]
                if any(d["file"] == disk["file"] for d in self._disks(mt_row)):
                    continue
                on_vm = next((d for d in self._disks(vm_row) if d["file"] == disk["file"]), None)
                if on_vm is not None:
                    self._detach(vm_row, on_vm, "detach %s from %s" % (disk["file"], vm_name))
                self._attach(mt_row, disk["file"], disk["size_gb"], "attach %s to %s" % (disk["file"], master_target),
                             uuid=disk.get("uuid"))

    def prepare_alternate_location(self, vm_name, master_target, datastore, disk_sizes_gb, mt_uuid=None):
        """Create new VMDKs ``[datastore] vm_name/vm_name[_i].vmdk`` sized like the source
        disks, attached to the master target. Existing ones are left alone."""
        with self.lock:
            for index, size in enumerate(disk_sizes_gb):
                file_name = "[%s] %s/%s%s.vmdk" % (datastore, vm_name, vm_name, "" if index == 0 else "_%d" % index)
                site, mt_row = self._vm_or_fail(master_target, "Master target", mt_uuid)
                if any(d["file"] == file_name for d in self._disks(mt_row)):
                    continue
                self._mkdir(site, "[%s] %s" % (datastore, vm_name))
                self._create_disk(mt_row, file_name, size, "create %s on %s" % (file_name, master_target))

    @staticmethod
    def _mkdir(site, path):
        datacenter = site.read(vim.Datacenter, ["name"])[0]["obj"]
        try:
            site.content.fileManager.MakeDirectory(name=path, datacenter=datacenter, createParentDirectories=True)
        except vim.fault.FileAlreadyExists:
            pass

    def _create_disk(self, row, file_name, size_gb, label):
        controllers = [c for c in self._controllers(row) if isinstance(
            c, (vim.vm.device.VirtualLsiLogicController, vim.vm.device.VirtualLsiLogicSASController))]
        used = {(d["controller_key"], d["unit"]) for d in self._disks(row)}
        slot = next(((c.key, u) for c in controllers for u in range(16) if u != 7 and (c.key, u) not in used), None)
        changes = []
        if slot is None:
            buses = {c.busNumber for c in self._controllers(row)}
            bus = next((b for b in range(4) if b not in buses), None)
            if bus is None:
                raise EffectError("NoFreeScsiSlot", "VM %s has no free SCSI slot for %s" % (row["name"], file_name))
            changes.append(vim.vm.device.VirtualDeviceSpec(
                operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                device=vim.vm.device.VirtualLsiLogicController(
                    key=-100, busNumber=bus, sharedBus=vim.vm.device.VirtualSCSIController.Sharing.noSharing)))
            slot = (-100, 0)
        backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=file_name, diskMode="persistent",
                                                                thinProvisioned=True)
        disk = vim.vm.device.VirtualDisk(key=-101, controllerKey=slot[0], unitNumber=slot[1], backing=backing,
                                         capacityInKB=int(size_gb * 1048576))
        changes.append(vim.vm.device.VirtualDeviceSpec(
            operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
            fileOperation=vim.vm.device.VirtualDeviceSpec.FileOperation.create, device=disk))
        self._reconfigure(row, changes, label)

    # ------------------------------------------------------------------ failover to on-prem
    def restore_original_location(self, vm_name, master_target, uuid=None, mt_uuid=None):
        """Detach the VM's disks from the master target (no file operation) and attach them
        back to the VM, on their original controller slots."""
        with self.lock:
            item = self._item(vm_name) or {}
            for disk in item.get("disks", []):
                vm_row = self._vm_or_fail(vm_name, uuid=uuid)[1]
                if any(d["file"] == disk["file"] for d in self._disks(vm_row)):
                    continue
                mt_row = self._vm_or_fail(master_target, "Master target", mt_uuid)[1]
                on_mt = next((d for d in self._disks(mt_row) if d["file"] == disk["file"]), None)
                if on_mt is not None:
                    self._detach(mt_row, on_mt, "detach %s from %s" % (disk["file"], master_target))
                self._attach(self._refresh(vm_name, uuid), disk["file"], disk["size_gb"],
                             "attach %s to %s" % (disk["file"], vm_name), controller_bus=disk.get("bus"),
                             unit=disk.get("unit"), uuid=disk.get("uuid"))

    def create_vm_from_master_target(self, vm_name, master_target, datastore, num_cpu, memory_mb, guest_id,
                                     firmware="bios", mt_uuid=None, uuid=None, nics=1, disk_moves="at_creation",
                                     created=None):
        """Alternate location: take ``vm_name``'s VMDKs off the master target and create the VM on the master
        target's host and ``datastore`` with them (``firmware`` bios or efi: a UEFI source fails back UEFI) and
        ``nics`` network adapters on the master target's first network, set to connect at power on (no recording
        shows which network ASR gives the VM it creates: the master target's, on the same host, is the lab's
        assumption; 0 is a VM created without one). Returns the VM's instance UUID; a VM ASR created before
        (``uuid``) is left alone - whatever VMDKs of it are still on the master target stay there.

        ``disk_moves`` - no recording shows the order of ASR's vCenter operations, so the lab has both (the spec
        item's ``alternate_disk_moves``): ``at_creation`` detaches every VMDK, then creates the VM with them;
        ``one_by_one`` creates the VM with its SCSI controllers and no disk (``created(uuid)`` is told its instance
        UUID at once: ASR records the VM it created), then moves each VMDK in name order - detached from the master
        target, attached to the VM on its slot - as the original-location failover moves them. A job stopped part-way
        leaves, respectively, VMDKs attached to nothing and no VM, or a VM with some of its disks and the others
        still on the master target."""
        with self.lock:
            if uuid and self._find_vm(vm_name, uuid)[1] is not None:
                return uuid
            prefix = "[%s] %s/" % (datastore, vm_name)
            site, mt_row = self._vm_or_fail(master_target, "Master target", mt_uuid)
            disks = [d for d in self._disks(mt_row) if d["file"].startswith(prefix)]
            if disk_moves == "one_by_one":
                return self._create_then_move(site, mt_row, vm_name, master_target, datastore,
                                              (num_cpu, memory_mb, guest_id, firmware), disks, nics, mt_uuid, created)
            for disk in disks:
                self._detach(self._vm_or_fail(master_target, uuid=mt_uuid)[1], disk,
                             "detach %s from %s" % (disk["file"], master_target))
            return self._create_vm(site, mt_row, vm_name, datastore, num_cpu, memory_mb, guest_id, firmware, disks,
                                   nics)

    def _create_then_move(self, site, mt_row, vm_name, master_target, datastore, shape, disks, nics, mt_uuid,
                          created):
        """``disk_moves: one_by_one`` of :meth:`create_vm_from_master_target`."""
        ordered = sorted(disks, key=lambda d: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", d["file"])])
        units = [u for u in range(16) if u != 7]
        num_cpu, memory_mb, guest_id, firmware = shape
        uuid = self._create_vm(site, mt_row, vm_name, datastore, num_cpu, memory_mb, guest_id, firmware, [], nics,
                               controllers=max(1, -(-len(ordered) // len(units))))
        if created is not None:
            created(uuid)
        for index, disk in enumerate(ordered):
            self._detach(self._vm_or_fail(master_target, uuid=mt_uuid)[1], disk,
                         "detach %s from %s" % (disk["file"], master_target))
            self._attach(self._vm_or_fail(vm_name, uuid=uuid)[1], disk["file"], disk["size_gb"],
                         "attach %s to %s" % (disk["file"], vm_name), controller_bus=index // len(units),
                         unit=units[index % len(units)], uuid=disk.get("uuid"))
        return uuid

    def _create_vm(self, site, mt_row, vm_name, datastore, num_cpu, memory_mb, guest_id, firmware, disks, nics=1,
                   controllers=None):
        host_obj = mt_row["runtime.host"]
        pool = mt_row["resourcePool"]
        folder = mt_row["parent"]
        # the VM's disks in the order of their names (name.vmdk, name_1.vmdk, ... name_10.vmdk), 15 per SCSI
        # controller (unit 7 is the controller's own), as many controllers as they need (at most 4, as vSphere)
        ordered = sorted(disks, key=lambda d: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", d["file"])])
        units = [u for u in range(16) if u != 7]
        if len(ordered) > 4 * len(units):
            raise EffectError("NoFreeScsiSlot", "VM %s would need %d disks; a VM takes at most %d" % (
                vm_name, len(ordered), 4 * len(units)))
        changes = []
        for bus in range(controllers or max(1, -(-len(ordered) // len(units)))):
            controller = vim.vm.device.VirtualLsiLogicController(
                key=-100 - bus, busNumber=bus, sharedBus=vim.vm.device.VirtualSCSIController.Sharing.noSharing)
            changes.append(vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                                                           device=controller))
        for index, disk in enumerate(ordered):
            backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName=disk["file"], diskMode="persistent",
                                                                    thinProvisioned=True, uuid=disk.get("uuid"))
            changes.append(vim.vm.device.VirtualDeviceSpec(
                operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                device=vim.vm.device.VirtualDisk(key=-200 - index, controllerKey=-100 - index // len(units),
                                                 unitNumber=units[index % len(units)], backing=backing,
                                                 capacityInKB=int(disk["size_gb"] * 1048576))))
        network = next((d.backing for d in mt_row["config.hardware.device"] or []
                        if isinstance(d, vim.vm.device.VirtualEthernetCard)), None)
        for index in range(nics if network is not None else 0):
            changes.append(vim.vm.device.VirtualDeviceSpec(
                operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                device=vim.vm.device.VirtualVmxnet3(key=-400 - index, backing=network, connectable=(
                    vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, allowGuestControl=True,
                                                            connected=False)))))
        config = vim.vm.ConfigSpec(name=vm_name, numCPUs=num_cpu, memoryMB=memory_mb, guestId=guest_id,
                                   firmware=firmware,
                                   files=vim.vm.FileInfo(vmPathName="[%s] %s/%s.vmx" % (datastore, vm_name, vm_name)),
                                   deviceChange=changes)
        self._effect("create VM %s" % vm_name)
        created = self._wait(folder.CreateVM_Task(config=config, pool=pool, host=host_obj), "create VM %s" % vm_name)
        return self._instance_uuid(site, created)

    def _instance_uuid(self, site, vm_obj):
        """The instance UUID of a VM just created (and the name and UUID caches refreshed)."""
        self._index()
        return site.read_objects([vm_obj], ["config.instanceUuid"])[0]["config.instanceUuid"] if vm_obj is not None \
            else None

    def power_on(self, vm_name, uuid=None):
        """Power the VM on. Raise EffectError(8038) when its host's free memory is below the
        VM's memory (the simulator itself would not refuse)."""
        with self.lock:
            row = self._vm_or_fail(vm_name, uuid=uuid)[1]
            if str(row["runtime.powerState"]) == "poweredOn":
                return
            host = self.host_of(vm_name, uuid, vms=False)
            free = host["memory_mb"] - host["memory_used_mb"]
            if free < (row.get("config.hardware.memoryMB") or 0):
                raise EffectError(
                    8038, "Could not bring the on-premises virtual machine %s online: ESXi host %s has %d MB of "
                    "free memory and the VM needs %d MB." % (vm_name, host["name"], free, row["config.hardware.memoryMB"]),
                    "The ESXi host lacks memory to power on the virtual machine.",
                    "Add memory to the ESXi host, or vMotion the VM to another ESXi host with enough memory, and retry.")
            self._effect("power on %s" % vm_name)
            self._wait(row["obj"].PowerOnVM_Task(), "power on %s" % vm_name)
            self.powered_on_at[vm_name] = time.time()

    def power_off(self, vm_name, uuid=None):
        """Power the VM off (no-op when already off)."""
        with self.lock:
            row = self._vm_or_fail(vm_name, uuid=uuid)[1]
            if str(row["runtime.powerState"]) != "poweredOn":
                return
            self._effect("power off %s" % vm_name)
            self._wait(row["obj"].PowerOffVM_Task(), "power off %s" % vm_name)
