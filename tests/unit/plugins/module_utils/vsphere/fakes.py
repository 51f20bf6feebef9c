# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes for vSphere unit tests: real pyVmomi managed-object references, fake server calls."""

from copy import deepcopy

from pyVmomi import vim, vmodl


def moref(cls, moid):
    """A real pyVmomi managed-object reference with no server behind it."""
    return cls(moid)


def object_content(obj, props, missing=None):
    pc = vmodl.query.PropertyCollector
    return pc.ObjectContent(
        obj=obj,
        propSet=[vmodl.DynamicProperty(name=name, val=value) for name, value in props.items()],
        missingSet=[pc.MissingProperty(path=path, fault=fault) for path, fault in (missing or {}).items()],
    )


class FakeCollector:
    """Answers RetrievePropertiesEx from ``pages`` (lists of ObjectContent), recording each spec."""

    def __init__(self, pages, error=None):
        self.pages = list(pages)
        self.error = error
        self.specs = []
        self.calls = 0

    def _page(self, index):
        token = str(index + 1) if index + 1 < len(self.pages) else None
        return vmodl.query.PropertyCollector.RetrieveResult(objects=self.pages[index], token=token)

    def RetrievePropertiesEx(self, specs, options):
        self.calls += 1
        self.specs.append(specs)
        if self.error is not None:
            raise self.error
        return self._page(0) if self.pages else None

    def ContinueRetrievePropertiesEx(self, token):
        self.calls += 1
        return self._page(int(token))


class FakeView(vim.view.ContainerView):
    """A real ContainerView type (the filter spec checks it) whose Destroy makes no call."""

    destroyed = False

    def Destroy(self):
        type(self).destroyed_ids.append(self._moId)

    destroyed_ids = []


class FakeViewManager:
    def __init__(self):
        self.views = []
        self.requests = []

    def CreateContainerView(self, container, types, recursive):
        self.requests.append((container, types, recursive))
        view = FakeView("session[test]view-%d" % len(self.views))
        self.views.append(view)
        return view


class FakeContent:
    def __init__(self, collector):
        self.propertyCollector = collector
        self.viewManager = FakeViewManager()
        self.rootFolder = moref(vim.Folder, "group-d1")


class FakeClient:
    """Stands in for VSphereClient.retrieve: rows come from ``responder(obj_type, paths, objects)``."""

    def __init__(self, responder):
        self.responder = responder
        self.calls = []
        self.stats = {"property_reads": 0}

    def retrieve(self, obj_type, paths, objects=None, container=None):
        self.stats["property_reads"] += 1
        self.calls.append((obj_type, tuple(paths), tuple(objects) if objects is not None else None))
        return self.responder(obj_type, paths, objects)


__all__ = ["vim"]


# ---------------------------------------------------------------------------------------------
# An in-memory vSphere for plan -> apply tests (master_target, onprem). Rows are what Inventory
# reads; the VM, folder, datastore-browser and file-manager objects record every call made on
# them and apply its effect, so a second Inventory read sees the world after the change. Values
# (enums, device and fault types) are pyVmomi's own.
# ---------------------------------------------------------------------------------------------

DEV = vim.vm.device
CONNECTED = vim.HostSystem.ConnectionState.connected
POWERED_ON = vim.VirtualMachine.PowerState.poweredOn
POWERED_OFF = vim.VirtualMachine.PowerState.poweredOff
TOOLS_RUNNING = vim.vm.GuestInfo.ToolsRunningStatus.guestToolsRunning
TOOLS_NOT_RUNNING = vim.vm.GuestInfo.ToolsRunningStatus.guestToolsNotRunning


def lsi_logic(key, bus):
    return DEV.VirtualLsiLogicController(key=key, busNumber=bus)


def lsi_logic_sas(key, bus):
    return DEV.VirtualLsiLogicSASController(key=key, busNumber=bus)


def pvscsi(key, bus):
    return DEV.ParaVirtualSCSIController(key=key, busNumber=bus)


def flat_disk(key, controller_key, unit, file_name, size_gb=1, uuid=None):
    return DEV.VirtualDisk(key=key, controllerKey=controller_key, unitNumber=unit, capacityInKB=int(size_gb * 1024 * 1024),
                           backing=DEV.VirtualDisk.FlatVer2BackingInfo(fileName=file_name, uuid=uuid,
                                                                       diskMode="persistent"))


def rdm_disk(key, controller_key, unit, file_name, size_gb=1, lun_uuid="0200000000"):
    return DEV.VirtualDisk(key=key, controllerKey=controller_key, unitNumber=unit, capacityInKB=int(size_gb * 1024 * 1024),
                           backing=DEV.VirtualDisk.RawDiskMappingVer1BackingInfo(fileName=file_name, lunUuid=lun_uuid,
                                                                                 compatibilityMode="physicalMode"))


class FakeVirtualMachine(vim.VirtualMachine):
    """A VirtualMachine reference whose task methods go to the in-memory world."""

    def ReconfigVM_Task(self, spec):
        return self.world.reconfigure(self._moId, spec)

    def PowerOnVM_Task(self, host=None):
        return self.world.power_on(self._moId)

    def PowerOffVM_Task(self):
        return self.world.power_off(self._moId)

    def RelocateVM_Task(self, spec, priority=None):
        return self.world.relocate(self._moId, spec)


class FakeFolder(vim.Folder):
    def CreateVM_Task(self, config, pool, host=None):
        return self.world.create_vm(self, config, pool, host)


class FakeCluster(vim.ClusterComputeResource):
    """A cluster reference. Reading one of its properties from the reference would be a round trip per object on a
    real server (pyVmomi reads it lazily): its ``resourcePool`` is in its row, from the property collector."""

    @property
    def resourcePool(self):
        raise AssertionError("cluster %s: resourcePool read from the reference (one round trip per object); read it "
                             "with the property collector" % self._moId)


class FakeDatastoreBrowser(vim.host.DatastoreBrowser):
    def SearchDatastoreSubFolders_Task(self, datastorePath, searchSpec=None):
        return self.world.search(datastorePath, searchSpec)


class FakeFileManager:
    def __init__(self, world):
        self.world = world

    def MakeDirectory(self, name, datacenter=None, createParentDirectories=False):
        self.world.calls.append(("MakeDirectory", name, {"datacenter": datacenter,
                                                         "createParentDirectories": createParentDirectories}))
        self.world.events.append(("call", "MakeDirectory", name))
        fault = self.world.injected_fault("MakeDirectory")
        if fault is not None:
            raise fault
        if name in self.world.directories:
            raise vim.fault.FileAlreadyExists(file=name)
        self.world.directories.add(name)


class FakeServiceContent:
    def __init__(self, world):
        self.fileManager = FakeFileManager(world)


class FakeVSphere:
    """A vCenter (or standalone ESXi) in memory, standing in for VSphereClient.

    ``calls`` lists ``(method, object name, arguments)`` in order; ``events`` interleaves the calls
    with the task reads (``("wait", [task moids])``). A task has ended when first read: ``success``,
    or ``error`` carrying the fault set in ``faults[(method, object name)]`` (then the call has no
    effect). ``fail_change = N`` makes the Nth change (a task other than a datastore search, or a
    MakeDirectory) fail with a SystemError and no effect, once, counted in ``changes``.
    ``files`` are the VMDKs on the datastores: only a destroy file operation removes one; as vSphere
    does, attaching a VMDK that does not exist fails with FileNotFound, creating one that exists with
    FileAlreadyExists (and the whole reconfigure or creation has no effect).
    """

    def __init__(self, is_vcenter=True):
        self.is_vcenter = is_vcenter
        self.stats = {"property_reads": 0, "tasks": 0}
        self.vms, self.hosts, self.datastores, self.networks = {}, {}, {}, {}
        self.computes, self.folders, self.datacenters = {}, {}, {}
        self.files = set()
        self.directories = set()
        self.calls = []
        self.events = []
        self.faults = {}
        self.tasks = {}
        self.tools = {}  # vm name -> [guest.toolsRunningStatus per tools read], the last repeats
        self.slow = {}   # (method, object name) -> task reads that still find the task running
        self.reads = []
        self.fail_change = None
        self.changes = 0
        self.content = FakeServiceContent(self)
        self._next = 0

    def _id(self):
        self._next += 1
        return self._next

    # -- building the inventory --------------------------------------------------------------

    def add_datacenter(self, name="dc1"):
        n = self._id()
        dc = {"moid": "datacenter-%d" % n, "name": name, "parent": moref(vim.Folder, "group-d1")}
        dc["obj"] = moref(vim.Datacenter, dc["moid"])
        self.datacenters[dc["moid"]] = dc
        vm_folder = FakeFolder("group-v%d" % n)
        vm_folder.world = self
        self.folders[vm_folder._moId] = {"moid": vm_folder._moId, "obj": vm_folder, "name": "vm", "parent": dc["obj"]}
        host_folder = moref(vim.Folder, "group-h%d" % n)
        self.folders[host_folder._moId] = {"moid": host_folder._moId, "obj": host_folder, "name": "host",
                                           "parent": dc["obj"]}
        dc["vm_folder"], dc["host_folder"] = vm_folder, host_folder
        return dc

    def add_cluster(self, name, datacenter):
        obj = FakeCluster("domain-c%d" % self._id())
        row = {"moid": obj._moId, "obj": obj, "name": name, "parent": datacenter["host_folder"],
               "resourcePool": vim.ResourcePool("resgroup-" + obj._moId)}
        self.computes[row["moid"]] = row
        return row

    def add_standalone(self, name, datacenter):
        """The ComputeResource a host outside any cluster sits in."""
        obj = moref(vim.ComputeResource, "domain-s%d" % self._id())
        row = {"moid": obj._moId, "obj": obj, "name": name, "parent": datacenter["host_folder"],
               "resourcePool": vim.ResourcePool("resgroup-" + obj._moId)}
        self.computes[row["moid"]] = row
        return row

    def add_datastore(self, name, fs_type=vim.host.FileSystemVolume.FileSystemType.VMFS):
        n = self._id()
        browser = FakeDatastoreBrowser("datastoreBrowser-%d" % n)
        browser.world = self
        row = {"moid": "datastore-%d" % n, "name": name, "summary.type": fs_type, "summary.capacity": 1024 ** 4,
               "summary.freeSpace": 512 * 1024 ** 3, "summary.accessible": True, "browser": browser}
        row["obj"] = moref(vim.Datastore, row["moid"])
        self.datastores[row["moid"]] = row
        return row

    def add_host(self, name, compute=None, memory_mb=65536, used_mb=0, state=CONNECTED, maintenance=False,
                 datastores=()):
        obj = moref(vim.HostSystem, "host-%d" % self._id())
        by_name = {d["name"]: d for d in self.datastores.values()}
        row = {"moid": obj._moId, "obj": obj, "name": name, "parent": compute["obj"] if compute else None,
               "runtime.connectionState": state, "runtime.inMaintenanceMode": maintenance,
               "summary.hardware.memorySize": memory_mb * 1024 * 1024,
               "summary.quickStats.overallMemoryUsage": used_mb,
               "datastore": [by_name[d]["obj"] for d in datastores], "vm": []}
        self.hosts[row["moid"]] = row
        return row

    def add_network(self, name, hosts=None, distributed=False, switch="dvs-1", uplink=False):
        """A port group; ``hosts``: the names of the hosts that have it (None: every host); ``switch``: the
        distributed switch's name (and moid) of a distributed one; ``uplink``: it is that switch's uplink port
        group (``config.uplinkPortgroup``)."""
        n = self._id()
        obj = (moref(vim.dvs.DistributedVirtualPortgroup, "dvportgroup-%d" % n) if distributed
               else moref(vim.Network, "network-%d" % n))
        self.networks[obj._moId] = {"moid": obj._moId, "obj": obj, "name": name, "hosts": hosts,
                                    "key": "dvportgroup-%d" % n,
                                    "config.distributedVirtualSwitch": vim.DistributedVirtualSwitch(switch),
                                    "uuid": "50 2a dv s0 00 00 00 01"}
        if distributed:
            self.switches = getattr(self, "switches", {})
            self.switches.setdefault(switch, {"name": switch, "uuid": "50 2a dv s0 00 00 00 %02d"
                                              % (len(self.switches) + 1), "config.uplinkPortgroup": []})
            if uplink:
                self.switches[switch]["config.uplinkPortgroup"].append(obj)
        return obj

    def _host_networks(self, host_name):
        return [n["obj"] for n in self.networks.values() if n["hosts"] is None or host_name in n["hosts"]]

    def add_vm(self, name, host, devices=(), power=POWERED_OFF, memory_mb=4096, vm_path=None, extra_config=None,
               snapshots=0, datacenter=None, tools=TOOLS_NOT_RUNNING, boots_tools=True, template=False):
        n = self._id()
        obj = FakeVirtualMachine("vm-%d" % n)
        obj.world = self
        folder = datacenter["vm_folder"] if datacenter else next(
            (f["obj"] for f in self.folders.values() if isinstance(f["obj"], FakeFolder)), None)
        snapshot = None
        if snapshots:
            snapshot = vim.vm.SnapshotInfo(rootSnapshotList=[vim.vm.SnapshotTree(name="s%d" % i)
                                                             for i in range(snapshots)])
        row = {"moid": obj._moId, "obj": obj, "name": name, "config.template": template,
               "config.instanceUuid": "50030000-0000-0000-0000-%012d" % n,
               "config.uuid": "42030000-0000-0000-0000-%012d" % n,
               "runtime.host": host["obj"] if host else None, "runtime.powerState": power,
               "config.hardware.device": list(devices), "config.hardware.numCPU": 2,
               "config.hardware.memoryMB": memory_mb, "config.guestId": "windows2019srv_64Guest",
               "config.guestFullName": None, "config.firmware": "bios",
               "config.extraConfig": list(extra_config or []), "snapshot": snapshot,
               "guest.toolsStatus": None, "guest.toolsRunningStatus": tools, "guest.guestFamily": None,
               "resourcePool": vim.ResourcePool("resgroup-%d" % n), "parent": folder, "network": [],
               "config.files.vmPathName": vm_path, "boots_tools": boots_tools}
        self.vms[row["moid"]] = row
        if host:
            host["vm"].append(obj)
        for dev in devices:
            if isinstance(dev, DEV.VirtualDisk):
                self.files.add(dev.backing.fileName)
        return row

    def devices(self, name):
        """The devices of the VM called ``name`` now."""
        return next(row for row in self.vms.values() if row["name"] == name)["config.hardware.device"]

    def disk_files(self, name):
        return sorted(d.backing.fileName for d in self.devices(name) if isinstance(d, DEV.VirtualDisk))

    def calls_of(self, method):
        return [(target, args) for m, target, args in self.calls if m == method]

    # -- VSphereClient.retrieve -----------------------------------------------------------------

    def retrieve(self, obj_type, paths, objects=None, container=None):
        self.stats["property_reads"] += 1
        self.reads.append((obj_type, tuple(paths)))
        if objects is not None and "info.state" in paths:
            self.events.append(("wait", [o._moId for o in objects]))
            rows = []
            for o in objects:
                row = dict(self.tasks[o._moId])
                if row.pop("running_reads"):
                    self.tasks[o._moId]["running_reads"] -= 1
                    row.update({"info.state": vim.TaskInfo.State.running, "info.error": None, "info.result": None})
                rows.append(row)
            return rows
        switches = getattr(self, "switches", {})
        if objects is not None and any(o._moId in self.networks or o._moId in switches for o in objects):
            return [dict(self.networks.get(o._moId) or switches[o._moId], obj=o, moid=o._moId) for o in objects]
        if objects is not None:
            rows = [self._snapshot(self.vms[o._moId]) for o in objects if o._moId in self.vms]
            for row in rows:
                script = self.tools.get(row["name"])
                if script:
                    row["guest.toolsRunningStatus"] = script.pop(0) if len(script) > 1 else script[0]
            return rows
        table = {vim.VirtualMachine: self.vms, vim.HostSystem: self.hosts, vim.Datastore: self.datastores,
                 vim.ComputeResource: self.computes, vim.Folder: self.folders, vim.Datacenter: self.datacenters,
                 vim.Network: self.networks,
                 vim.dvs.DistributedVirtualPortgroup: {k: v for k, v in self.networks.items()
                                                       if k.startswith("dvportgroup-")},
                 vim.DistributedVirtualSwitch: {k: dict(v, moid=k) for k, v in getattr(self, "switches", {}).items()}
                 }[obj_type]
        rows = [self._snapshot(row) for row in table.values()]
        if obj_type is vim.HostSystem:
            for row in rows:
                row["network"] = self._host_networks(row["name"])
        return rows

    @staticmethod
    def _snapshot(row):
        copy = dict(row)
        for key in ("config.hardware.device", "config.extraConfig", "datastore", "vm"):
            if isinstance(copy.get(key), list):
                copy[key] = list(copy[key])
        return copy

    # -- tasks -----------------------------------------------------------------------------------

    def injected_fault(self, method):
        """The fault of the change ``fail_change`` names (counting this one), or None."""
        if method == "SearchDatastoreSubFolders_Task":
            return None
        self.changes += 1
        if self.fail_change is not None and self.changes == self.fail_change:
            return vmodl.fault.SystemError(msg="injected fault at change %d (%s)" % (self.changes, method),
                                           reason="injected")
        return None

    def _task(self, method, target, args, effect):
        self.calls.append((method, target, args))
        self.events.append(("call", method, target))
        task = moref(vim.Task, "task-%d" % self._id())
        fault = self.faults.get((method, target)) or self.injected_fault(method)
        result = None
        if fault is None:
            try:
                result = effect()
            except vmodl.MethodFault as raised:  # vSphere's own refusal: the task fails, nothing changed
                fault = raised
        self.tasks[task._moId] = {"moid": task._moId, "obj": task, "info.progress": None,
                                  "info.state": vim.TaskInfo.State.error if fault else vim.TaskInfo.State.success,
                                  "info.error": fault, "info.result": result, "info.descriptionId": method,
                                  "running_reads": self.slow.get((method, target), 0)}
        return task

    def reconfigure(self, moid, spec):
        row = self.vms[moid]
        return self._task("ReconfigVM_Task", row["name"], {"spec": spec}, lambda: self._apply_spec(row, spec))

    def _apply_spec(self, row, spec):
        devices = list(row["config.hardware.device"])
        devices, _keys = self._device_changes(devices, spec.deviceChange)
        row["config.hardware.device"] = devices
        options = {o.key: o for o in row["config.extraConfig"]}
        options.update({o.key: o for o in spec.extraConfig or []})
        row["config.extraConfig"] = list(options.values())

    def _device_changes(self, devices, changes):
        for change in changes or []:  # checked before anything changes, as vSphere does
            backing = getattr(change.device, "backing", None)
            if change.operation != DEV.VirtualDeviceSpec.Operation.add or not isinstance(change.device, DEV.VirtualDisk):
                continue
            if change.fileOperation == DEV.VirtualDeviceSpec.FileOperation.create and backing.fileName in self.files:
                raise vim.fault.FileAlreadyExists(file=backing.fileName, msg="File %s already exists" % backing.fileName)
            if change.fileOperation is None and backing.fileName not in self.files:
                raise vim.fault.FileNotFound(file=backing.fileName, msg="File %s was not found" % backing.fileName)
        keys = {}
        for change in changes or []:
            if change.operation == DEV.VirtualDeviceSpec.Operation.remove:
                devices = [d for d in devices if d.key != change.device.key]
                if change.fileOperation == DEV.VirtualDeviceSpec.FileOperation.destroy:
                    self.files.discard(change.device.backing.fileName)
            elif change.operation == DEV.VirtualDeviceSpec.Operation.add:
                device = deepcopy(change.device)
                keys[device.key] = device.key = 3000 + self._id()
                if device.controllerKey in keys:
                    device.controllerKey = keys[device.controllerKey]
                if change.fileOperation == DEV.VirtualDeviceSpec.FileOperation.create:
                    self.files.add(device.backing.fileName)
                devices.append(device)
        return devices, keys

    def power_on(self, moid):
        row = self.vms[moid]

        def effect():
            row["runtime.powerState"] = POWERED_ON
            row["guest.toolsRunningStatus"] = TOOLS_RUNNING if row["boots_tools"] else TOOLS_NOT_RUNNING
            row["guest.toolsStatus"] = (vim.vm.GuestInfo.ToolsStatus.toolsOk if row["boots_tools"]
                                        else vim.vm.GuestInfo.ToolsStatus.toolsNotRunning)
        return self._task("PowerOnVM_Task", row["name"], {}, effect)

    def power_off(self, moid):
        row = self.vms[moid]

        def effect():
            if str(row["runtime.powerState"]) == str(POWERED_OFF):  # as vSphere: InvalidPowerState
                raise vim.fault.InvalidPowerState(msg="The VM is powered off", requestedState=POWERED_OFF,
                                                  existingState=POWERED_OFF)
            row["runtime.powerState"] = POWERED_OFF
            row["guest.toolsRunningStatus"] = TOOLS_NOT_RUNNING
            row["guest.toolsStatus"] = vim.vm.GuestInfo.ToolsStatus.toolsNotRunning
        return self._task("PowerOffVM_Task", row["name"], {}, effect)

    def relocate(self, moid, spec):
        row = self.vms[moid]

        def effect():
            old = self.hosts[row["runtime.host"]._moId]
            old["vm"] = [o for o in old["vm"] if o._moId != moid]
            row["runtime.host"] = spec.host
            self.hosts[spec.host._moId]["vm"].append(row["obj"])
        return self._task("RelocateVM_Task", row["name"], {"spec": spec}, effect)

    def create_vm(self, folder, config, pool, host):
        def effect():
            devices, _keys = self._device_changes([], config.deviceChange)
            created = self.add_vm(config.name, self.hosts[host._moId] if host else None, devices=devices,
                                  memory_mb=config.memoryMB, vm_path=config.files.vmPathName)
            created.update({"parent": folder, "resourcePool": pool, "config.hardware.numCPU": config.numCPUs,
                            "config.guestId": config.guestId, "config.firmware": config.firmware})
            return created["obj"]
        return self._task("CreateVM_Task", config.name, {"config": config, "pool": pool, "host": host,
                                                         "folder": folder}, effect)

    def search(self, datastore_path, spec):
        name = datastore_path.strip("[]")
        folders = {}
        for file_name in sorted(self.files):
            if file_name.startswith("[%s] " % name) and file_name.endswith(".vmdk") and "/" in file_name:
                folder, base = file_name.rsplit("/", 1)
                folders.setdefault(folder, []).append(base)
        return self._task("SearchDatastoreSubFolders_Task", name, {"datastorePath": datastore_path, "spec": spec},
                          lambda: [vim.host.DatastoreBrowser.SearchResults(
                              folderPath=folder, file=[vim.host.DatastoreBrowser.FileInfo(path=b) for b in bases])
                              for folder, bases in folders.items()])
