"""Smoke test of the vcsim lab launcher, driven through pyvmomi.

Starts the launcher (built by `make bootstrap`) with sample.json (vCenter) and
sample-esx.json (standalone ESXi, side by side on another port) and checks
what the collection's code relies on: TLS verification against the printed
CA file, property-collector reads, disk detach/attach/create reconfigures,
CreateVM, vMotion, power operations and SearchIndex.FindByUuid.

Run:  /work/main/.venv/bin/python tests/lab/vcsim/smoke.py [-v]
Ends with a "N passed, N failed" line; exit status 1 when a check failed.

`Launcher` can be imported by other test code:

    with Launcher(spec_path) as lab:
        si = lab.connect()
"""

import os
import pathlib
import ssl
import sys
import time

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
from tests.lab.vcenter import Simulator  # noqa: E402

VERBOSE = "-v" in sys.argv


class Launcher(Simulator):
    """The lab's Simulator, plus what the smoke checks need: the launcher log on stop and
    pyVmomi connections with or without TLS verification."""

    def __init__(self, spec_path, ready_timeout=120):
        super().__init__(str(spec_path), ready_timeout=ready_timeout)

    def stop(self):
        super().stop()
        with open(self.log_path) as handle:
            return handle.read()

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.info["ca_file"])
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def connect(self, verify=True):
        kw = {"host": self.info["host"], "port": self.info["port"],
              "user": self.info["username"], "pwd": self.info["password"]}
        if verify:
            return SmartConnect(sslContext=self.ssl_context(), **kw)
        return SmartConnect(disableSslCertValidation=True, **kw)


# ---------------------------------------------------------------- helpers

RESULTS = []


def check(name, cond, detail=""):
    RESULTS.append((name, bool(cond), detail))
    mark = "PASS" if cond else "FAIL"
    print("%s  %s%s" % (mark, name, ("  -- " + str(detail)) if (detail and (VERBOSE or not cond)) else ""))
    return bool(cond)


def attempt(name, fn):
    """Run fn(); a raised exception is a failed check."""
    try:
        res = fn()
    except Exception as e:
        check(name, False, "%s: %s" % (type(e).__name__, getattr(e, "msg", e)))
        return None
    return res


def wait(task, timeout=300):
    deadline = time.monotonic() + timeout
    while task.info.state not in (vim.TaskInfo.State.success, vim.TaskInfo.State.error):
        if time.monotonic() > deadline:
            raise TimeoutError("task %s still %s" % (task, task.info.state))
        time.sleep(0.05)
    if task.info.state == vim.TaskInfo.State.error:
        raise task.info.error
    return task.info.result


def collect(si, obj_type, paths):
    """RetrievePropertiesEx over a ContainerView with explicit paths.
    Returns {name: {path: value}} (objects keyed by their 'name')."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [obj_type], True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(
                obj=view, skip=True,
                selectSet=[vmodl.query.PropertyCollector.TraversalSpec(
                    name="view", path="view", skip=False, type=vim.view.ContainerView)])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(
                type=obj_type, pathSet=sorted({"name", *list(paths)}))])
        out = {}
        pc = content.propertyCollector
        res = pc.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
        while res:
            for oc in res.objects:
                props = {p.name: p.val for p in oc.propSet}
                props["_obj"] = oc.obj
                out[props["name"]] = props
            res = pc.ContinueRetrievePropertiesEx(res.token) if res.token else None
        return out
    finally:
        view.DestroyView()


def find(si, obj_type, name):
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [obj_type], True)
    try:
        for o in view.view:
            if o.name == name:
                return o
    finally:
        view.DestroyView()
    raise LookupError("%s %s not found" % (obj_type.__name__, name))


def disks_of(vm):
    return [d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk)]


def disk_by_file(vm, path):
    for d in disks_of(vm):
        if d.backing.fileName == path:
            return d
    return None


def ds_file_exists(si, dc_name, ds_path):
    """Datastore browser search (what real code would do) for '[ds] dir/f.vmdk'."""
    ds_name, rel = ds_path[1:].split("] ", 1)
    folder, fname = rel.rsplit("/", 1)
    ds = find(si, vim.Datastore, ds_name)
    spec = vim.host.DatastoreBrowser.SearchSpec(matchPattern=[fname])
    res = wait(ds.browser.SearchDatastore_Task("[%s] %s" % (ds_name, folder), spec))
    names = [f.path for f in (res.file or [])]
    return fname in names


def ds_local_file(si, ds_path):
    """In the simulator, datastore info.url is the local backing directory."""
    ds_name, rel = ds_path[1:].split("] ", 1)
    ds = find(si, vim.Datastore, ds_name)
    return os.path.join(ds.info.url, rel)


def next_unit(vm, ctrl_key):
    used = {d.unitNumber for d in vm.config.hardware.device if d.controllerKey == ctrl_key}
    return next(u for u in range(16) if u != 7 and u not in used)


def flat_backing(path, uuid=None):
    return vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
        fileName=path, diskMode="persistent", thinProvisioned=True, uuid=uuid)


def add_existing_disk_spec(ctrl_key, unit, backing, capacity_kb):
    disk = vim.vm.device.VirtualDisk(
        key=-1, controllerKey=ctrl_key, unitNumber=unit, backing=backing,
        capacityInKB=capacity_kb)
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=disk)  # no fileOperation


def remove_disk_spec(disk):
    return vim.vm.device.VirtualDeviceSpec(operation="remove", device=disk)  # no fileOperation


def reconfig(vm, changes=None, **kw):
    return wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=changes or [], **kw)))


# ---------------------------------------------------------------- checks

def check_connect(lab):
    si = attempt("connect with verifying SSL context (ca_file)", lambda: lab.connect(verify=True))
    check("connect with verifying SSL context (ca_file)", si is not None)
    si2 = attempt("connect with disableSslCertValidation", lambda: lab.connect(verify=False))
    check("connect with disableSslCertValidation", si2 is not None)
    if si2:
        Disconnect(si2)
    # a context with the system CAs only must reject the self-signed cert
    try:
        SmartConnect(host=lab.info["host"], port=lab.info["port"], user=lab.info["username"],
                     pwd=lab.info["password"], sslContext=ssl.create_default_context())
        check("untrusted context is rejected", False, "connected without the CA file")
    except ssl.SSLError:
        check("untrusted context is rejected", True)
    except Exception as e:
        check("untrusted context is rejected", "CERTIFICATE_VERIFY_FAILED" in str(e), repr(e))
    try:
        SmartConnect(host=lab.info["host"], port=lab.info["port"], user=lab.info["username"],
                     pwd="wrong", sslContext=lab.ssl_context())
        check("wrong password is rejected", False)
    except vim.fault.InvalidLogin:
        check("wrong password is rejected", True)
    return si


def check_reads(si):
    about = si.content.about
    check("about.apiType is VirtualCenter", about.apiType == "VirtualCenter", about.apiType)
    check("api_version from spec negotiated", about.apiVersion == "7.0.3.0" and si._stub.versionId == "\"urn:vim25/7.0.3.0\"",
          (about.apiVersion, si._stub.versionId))

    hosts = collect(si, vim.HostSystem, [
        "summary.hardware.memorySize", "hardware.memorySize", "summary.quickStats.overallMemoryUsage",
        "summary.hardware.numCpuCores", "runtime.connectionState", "runtime.inMaintenanceMode",
        "datastore", "parent", "vm"])
    check("only the spec's hosts exist", sorted(hosts) == ["esx01.lab", "esx02.lab", "esx09.lab"], sorted(hosts))
    h1 = hosts.get("esx01.lab", {})
    check("host memory (summary.hardware / hardware / quickStats)",
          h1.get("summary.hardware.memorySize") == 262144 << 20
          and h1.get("hardware.memorySize") == 262144 << 20
          and h1.get("summary.quickStats.overallMemoryUsage") == 100000,
          {k: v for k, v in h1.items() if "emory" in k})
    check("host cpu cores", h1.get("summary.hardware.numCpuCores") == 16)
    check("host connectionState / maintenance",
          h1.get("runtime.connectionState") == "connected" and h1.get("runtime.inMaintenanceMode") is False
          and hosts["esx09.lab"]["runtime.inMaintenanceMode"] is True)
    check("host esx09 is standalone (ComputeResource parent)",
          type(hosts["esx09.lab"]["parent"]).__name__ == "vim.ComputeResource",
          type(hosts["esx09.lab"]["parent"]).__name__)
    check("host.datastore lists only mounted datastores",
          sorted(d.name for d in h1["datastore"]) == ["vmfs-01", "vsan-01"]
          and [d.name for d in hosts["esx09.lab"]["datastore"]] == ["nfs-09"],
          {n: [d.name for d in h["datastore"]] for n, h in hosts.items()})

    dss = collect(si, vim.Datastore, ["summary.type", "summary.capacity", "summary.freeSpace",
                                      "summary.accessible", "host", "info"])
    check("only the spec's datastores exist", sorted(dss) == ["nfs-09", "vmfs-01", "vsan-01"], sorted(dss))
    check("datastore summary.type VMFS/vsan/NFS",
          [dss[n]["summary.type"] for n in ("vmfs-01", "vsan-01", "nfs-09")] == ["VMFS", "vsan", "NFS"],
          {n: d["summary.type"] for n, d in dss.items()})
    v = dss["vmfs-01"]
    check("datastore capacity / freeSpace / accessible",
          v["summary.capacity"] == 2048 << 30 and v["summary.freeSpace"] == 1024 << 30
          and v["summary.accessible"] is True,
          (v["summary.capacity"], v["summary.freeSpace"]))
    check("datastore.host mounts only listed hosts",
          sorted(m.key.name for m in v["host"]) == ["esx01.lab", "esx02.lab"]
          and [m.key.name for m in dss["nfs-09"]["host"]] == ["esx09.lab"])
    check("datastore info types (Vmfs/Vsan/Nas)",
          [type(dss[n]["info"]).__name__ for n in ("vmfs-01", "vsan-01", "nfs-09")]
          == ["vim.host.VmfsDatastoreInfo", "vim.host.VsanDatastoreInfo", "vim.host.NasDatastoreInfo"],
          [type(dss[n]["info"]).__name__ for n in ("vmfs-01", "vsan-01", "nfs-09")])

    vms = collect(si, vim.VirtualMachine, [
        "config.hardware.device", "config.extraConfig", "snapshot", "runtime.powerState",
        "guest.toolsStatus", "guest.toolsRunningStatus", "config.instanceUuid", "config.uuid",
        "config.firmware", "config.guestId", "layoutEx", "runtime.host", "parent"])
    check("only the spec's VMs exist", sorted(vms) == ["app01", "db09", "master01"], sorted(vms))
    app = vms["app01"]
    devs = app["config.hardware.device"]
    disks = {d.unitNumber: d for d in devs if isinstance(d, vim.vm.device.VirtualDisk)}
    ctrl = [d for d in devs if isinstance(d, vim.vm.device.VirtualLsiLogicController)]
    check("VM scsi controller lsilogic bus 0", len(ctrl) == 1 and ctrl[0].busNumber == 0)
    d0, d2 = disks.get(0), disks.get(2)
    check("flat disk backing (FlatVer2, uuid, fileName, thin)",
          d0 is not None and isinstance(d0.backing, vim.vm.device.VirtualDisk.FlatVer2BackingInfo)
          and d0.backing.uuid == "6000C291-aaaa-bbbb-cccc-000000000001"
          and d0.backing.fileName == "[vmfs-01] app01/app01.vmdk" and d0.backing.thinProvisioned is True
          and d0.controllerKey == ctrl[0].key and d0.capacityInKB == 60 << 20,
          d0 and (type(d0.backing).__name__, d0.backing.fileName))
    check("RDM disk backing (lunUuid, deviceName, physicalMode)",
          d2 is not None and isinstance(d2.backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo)
          and d2.backing.lunUuid == "0200000000600a098038303053453f463045617a4c554e303031"
          and d2.backing.deviceName == "/vmfs/devices/disks/naa.600a098038303053453f463045617a4c"
          and d2.backing.compatibilityMode == "physicalMode"
          and d2.backing.fileName == "[vmfs-01] app01/app01_rdm.vmdk",
          d2 and type(d2.backing).__name__)
    extra = {o.key: o.value for o in app["config.extraConfig"]}
    check("extraConfig disk.EnableUUID", extra.get("disk.EnableUUID") == "TRUE", extra)
    snap = app.get("snapshot")
    check("snapshot.rootSnapshotList", snap is not None and [s.name for s in snap.rootSnapshotList] == ["before-patch"])
    check("layoutEx.snapshot present", bool(app["layoutEx"].snapshot))
    check("powerState / toolsStatus / toolsRunningStatus",
          app["runtime.powerState"] == "poweredOn" and app["guest.toolsStatus"] == "toolsOk"
          and app["guest.toolsRunningStatus"] == "guestToolsRunning"
          and vms["db09"]["runtime.powerState"] == "poweredOff")
    check("instanceUuid / bios uuid / firmware / guestId",
          app["config.instanceUuid"] == "5003a1b2-c3d4-e5f6-0718-293a4b5c6d01"
          and app["config.uuid"] == "4203a1b2-c3d4-e5f6-0718-293a4b5c6d01"
          and app["config.firmware"] == "efi" and app["config.guestId"] == "windows2019srv_64Guest")
    check("VM in nested folder Infra/Masters",
          vms["master01"]["parent"].name == "Masters" and vms["master01"]["parent"].parent.name == "Infra")
    nic = [d for d in devs if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    check("NIC network + manual MAC",
          len(nic) == 1 and nic[0].macAddress == "00:50:56:aa:bb:01" and nic[0].backing.deviceName == "Prod-VLAN10")
    return vms


def check_disk_moves(si):
    app = find(si, vim.VirtualMachine, "app01")
    master = find(si, vim.VirtualMachine, "master01")
    path = "[vmfs-01] app01/app01_1.vmdk"
    local = ds_local_file(si, path)

    if attempt("power off app01", lambda: wait(app.PowerOffVM_Task())) is not None or \
            app.runtime.powerState == "poweredOff":
        check("power off app01", app.runtime.powerState == "poweredOff")

    # 1. detach flat disk from A, keep the file
    disk = disk_by_file(app, path)
    ok = attempt("detach disk from A (remove, no fileOperation)",
                 lambda: reconfig(app, [remove_disk_spec(disk)]) or True)
    if ok:
        check("detach disk from A (remove, no fileOperation)", disk_by_file(app, path) is None)
        check("detached VMDK still on datastore (browser search + local file)",
              ds_file_exists(si, "DC1", path) and os.path.exists(local), local)
        check("RDM on A survived the reconfigure",
              isinstance(disk_by_file(app, "[vmfs-01] app01/app01_rdm.vmdk").backing,
                         vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo))

    # 2. attach it to B on a new LSI Logic controller (bus 1)
    ctrl = vim.vm.device.VirtualLsiLogicController(key=-101, busNumber=1, sharedBus="noSharing")
    changes = [vim.vm.device.VirtualDeviceSpec(operation="add", device=ctrl),
               add_existing_disk_spec(-101, 0, flat_backing(path, disk.backing.uuid), disk.capacityInKB)]
    ok = attempt("attach existing VMDK to B on new LSI Logic controller", lambda: reconfig(master, changes) or True)
    if ok:
        b_disk = disk_by_file(master, path)
        b_ctrl = [d for d in master.config.hardware.device
                  if isinstance(d, vim.vm.device.VirtualLsiLogicController) and d.busNumber == 1]
        check("attach existing VMDK to B on new LSI Logic controller",
              b_disk is not None and b_ctrl and b_disk.controllerKey == b_ctrl[0].key and b_disk.unitNumber == 0,
              b_disk and (b_disk.controllerKey, b_disk.unitNumber))
        check("attached disk keeps its uuid",
              b_disk is not None and b_disk.backing.uuid == "6000C291-aaaa-bbbb-cccc-000000000002",
              b_disk and b_disk.backing.uuid)

    # 3. detach from B, reattach to A on its existing controller
    b_disk = disk_by_file(master, path)
    if b_disk is not None:
        ok = attempt("detach from B", lambda: reconfig(master, [remove_disk_spec(b_disk)]) or True)
        check("detach from B", ok and disk_by_file(master, path) is None and os.path.exists(local))
    a_ctrl = next(d for d in app.config.hardware.device if isinstance(d, vim.vm.device.VirtualLsiLogicController))
    ok = attempt("reattach to A (VM with RDM)",
                 lambda: reconfig(app, [add_existing_disk_spec(a_ctrl.key, 1, flat_backing(path), 20 << 20)]) or True)
    if ok:
        d = disk_by_file(app, path)
        check("reattach to A (VM with RDM)", d is not None and d.unitNumber == 1 and d.controllerKey == a_ctrl.key)
        check("RDM on A still RDM after attach", isinstance(
            disk_by_file(app, "[vmfs-01] app01/app01_rdm.vmdk").backing,
            vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo))

    # 3b. as vSphere's "add existing hard disk": file name only, no capacity, no uuid. vCenter reads both from the
    # VMDK (its descriptor's size and ddb.uuid); the launcher must too (vmdkfacts.go), or a VMDK detached and
    # attached again comes back as another, empty disk
    d = disk_by_file(app, path)
    if d is not None:
        ok = attempt("detach from A and attach again with file name only",
                     lambda: reconfig(app, [remove_disk_spec(d)]) is None and reconfig(
                         app, [add_existing_disk_spec(a_ctrl.key, 1, flat_backing(path), 0)]) is None)
        again = disk_by_file(app, path)
        check("an existing VMDK attached keeps its own capacity and uuid",
              ok and again is not None and again.capacityInKB == 20 << 20
              and again.backing.uuid == "6000C291-aaaa-bbbb-cccc-000000000002",
              again and (again.capacityInKB, again.backing.uuid))

    # 4. plain reconfigure of the RDM VM (no device change)
    ok = attempt("non-device reconfigure of RDM VM",
                 lambda: reconfig(app, numCPUs=4, extraConfig=[vim.option.OptionValue(key="lab.mark", value="1")]) or True)
    check("non-device reconfigure of RDM VM", ok and app.config.hardware.numCPU == 4)

    # 5. move the RDM itself from A to B and back (RDM backing in the request)
    rdm_path = "[vmfs-01] app01/app01_rdm.vmdk"
    rdm = disk_by_file(app, rdm_path)

    def move_rdm(src, dst):
        cur = disk_by_file(src, rdm_path)
        reconfig(src, [remove_disk_spec(cur)])
        dctrl = next(d for d in dst.config.hardware.device if isinstance(d, vim.vm.device.VirtualSCSIController))
        backing = vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo(
            fileName=rdm_path, compatibilityMode="physicalMode", diskMode="independent_persistent",
            lunUuid=cur.backing.lunUuid, deviceName=cur.backing.deviceName)
        reconfig(dst, [add_existing_disk_spec(dctrl.key, next_unit(dst, dctrl.key), backing, cur.capacityInKB)])
        return True

    if attempt("move RDM A -> B", lambda: move_rdm(app, master)):
        d = disk_by_file(master, rdm_path)
        check("move RDM A -> B", d is not None and isinstance(
            d.backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo)
            and d.backing.lunUuid == rdm.backing.lunUuid and disk_by_file(app, rdm_path) is None,
            d and type(d.backing).__name__)
    if attempt("move RDM B -> A", lambda: move_rdm(master, app)):
        d = disk_by_file(app, rdm_path)
        check("move RDM B -> A", d is not None and isinstance(
            d.backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo))

    # 6. create a new VMDK on a datastore attached to B
    pv = next(d for d in master.config.hardware.device if isinstance(d, vim.vm.device.ParaVirtualSCSIController))
    new_path = "[vsan-01] master01/master01_asr.vmdk"
    new_disk = vim.vm.device.VirtualDisk(
        key=-1, controllerKey=pv.key, unitNumber=next_unit(master, pv.key), capacityInKB=1 << 20,
        backing=flat_backing(new_path))
    ok = attempt("create new VMDK on B (fileOperation=create)", lambda: reconfig(master, [
        vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=new_disk)]) or True)
    if ok:
        d = disk_by_file(master, new_path)
        check("create new VMDK on B (fileOperation=create)",
              d is not None and os.path.exists(ds_local_file(si, new_path)))
        check("created disk has a uuid", d is not None and bool(d.backing.uuid), d and d.backing.uuid)

    # 7. power on again
    ok = attempt("power on app01", lambda: wait(app.PowerOnVM_Task()) or True)
    check("power on app01", ok and app.runtime.powerState == "poweredOn")


def check_create_and_vmotion(si):
    host = find(si, vim.HostSystem, "esx02.lab")
    dc = find(si, vim.Datacenter, "DC1")
    pool = host.parent.resourcePool
    ctrl = vim.vm.device.VirtualLsiLogicController(key=-100, busNumber=0, sharedBus="noSharing")
    disk = vim.vm.device.VirtualDisk(key=-1, controllerKey=-100, unitNumber=0, capacityInKB=2 << 20,
                                     backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                                         fileName="", diskMode="persistent", thinProvisioned=True))
    cfg = vim.vm.ConfigSpec(
        name="asr-target01", guestId="windows2019srv_64Guest", numCPUs=2, memoryMB=4096, firmware="efi",
        files=vim.vm.FileInfo(vmPathName="[vmfs-01]"),
        deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", device=ctrl),
                      vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)])
    vm = attempt("CreateVM_Task on host/datastore",
                 lambda: wait(dc.vmFolder.CreateVM_Task(config=cfg, pool=pool, host=host)))
    if vm is not None:
        check("CreateVM_Task on host/datastore",
              vm.runtime.host == host and vm.datastore[0].name == "vmfs-01" and len(disks_of(vm)) == 1
              and vm in host.vm, (vm.config.files.vmPathName, [d.backing.fileName for d in disks_of(vm)]))
        found = si.content.searchIndex.FindByUuid(None, vm.config.instanceUuid, True, True)
        check("FindByUuid finds the created VM", found == vm)

    app = find(si, vim.VirtualMachine, "app01")
    src = app.runtime.host
    ok = attempt("RelocateVM_Task (vMotion) esx01 -> esx02",
                 lambda: wait(app.RelocateVM_Task(vim.vm.RelocateSpec(host=host, pool=pool))) or True)
    if ok:
        check("RelocateVM_Task (vMotion) esx01 -> esx02",
              app.runtime.host == host and app.summary.runtime.host == host)
        check("host.vm lists follow the vMotion", app in host.vm and app not in src.vm,
              ([v.name for v in host.vm], [v.name for v in src.vm]))
        check("RDM survives vMotion", isinstance(disk_by_file(app, "[vmfs-01] app01/app01_rdm.vmdk").backing,
                                                 vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo))


def check_find_by_uuid(si):
    idx = si.content.searchIndex
    vm = idx.FindByUuid(None, "5003a1b2-c3d4-e5f6-0718-293a4b5c6d01", True, True)
    check("FindByUuid(instanceUuid=True)", vm is not None and vm.name == "app01")
    vm = idx.FindByUuid(None, "4203a1b2-c3d4-e5f6-0718-293a4b5c6d01", True, False)
    check("FindByUuid(bios uuid)", vm is not None and vm.name == "app01")
    vm = idx.FindByUuid(None, "00000000-0000-0000-0000-000000000000", True, True)
    check("FindByUuid(unknown) is None", vm is None)


def probe_lazy_properties(si):
    """Informational: which properties fault or are unset when read lazily."""
    faults, unset = [], []
    for t, name in ((vim.VirtualMachine, "app01"), (vim.HostSystem, "esx01.lab"),
                    (vim.Datastore, "vmfs-01"), (vim.ClusterComputeResource, "Cluster1")):
        obj = find(si, t, name)
        for prop in t._propInfo:
            try:
                if getattr(obj, prop) is None:
                    unset.append("%s.%s" % (t.__name__.split(".")[-1], prop))
            except Exception as e:
                faults.append("%s.%s (%s)" % (t.__name__.split(".")[-1], prop, type(e).__name__))
    print("info: properties that raise on lazy read: %s" % (", ".join(faults) or "none"))
    print("info: properties that read as None: %s" % ", ".join(unset))
    return faults


def check_esx(spec_path, vc_port):
    with Launcher(spec_path) as lab:
        check("ESX instance on its own port", lab.info["port"] != vc_port and lab.info["mode"] == "esx",
              lab.info["port"])
        si = attempt("ESX connect (verified TLS)", lab.connect)
        if si is None:
            return
        check("ESX about.apiType is HostAgent", si.content.about.apiType == "HostAgent", si.content.about.apiType)
        hosts = collect(si, vim.HostSystem, ["summary.hardware.memorySize", "datastore"])
        check("ESX host renamed and sized", list(hosts) == ["esx50.lab"]
              and hosts["esx50.lab"]["summary.hardware.memorySize"] == 65536 << 20, list(hosts))
        vm = find(si, vim.VirtualMachine, "vm50")
        rdm = [d for d in disks_of(vm) if isinstance(d.backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo)]
        check("ESX VM with RDM", len(rdm) == 1 and vm.runtime.powerState == "poweredOn")
        ok = attempt("ESX reconfigure RDM VM", lambda: reconfig(vm, memoryMB=2048) or True)
        check("ESX reconfigure RDM VM", ok and vm.config.hardware.memoryMB == 2048)
        found = si.content.searchIndex.FindByUuid(None, "52000000-0000-0000-0000-000000000050", True, True)
        check("ESX FindByUuid(instanceUuid)", found == vm)
        Disconnect(si)


def main():
    with Launcher(HERE / "sample.json") as lab:
        info = lab.info
        check("ready line has all fields", set(info) == {
            "url", "host", "port", "thumbprint", "ca_file", "username", "password", "mode"}, info)
        check("url is https://127.0.0.1:PORT/sdk", info["url"] == "https://127.0.0.1:%d/sdk" % info["port"])
        si = check_connect(lab)
        if si is not None:
            for step in (check_reads, check_find_by_uuid, check_disk_moves, check_create_and_vmotion,
                         probe_lazy_properties):
                attempt(step.__name__, lambda step=step: step(si))
            check_esx(HERE / "sample-esx.json", info["port"])  # runs while the vCenter one still serves
            Disconnect(si)
        err = lab.stop()
        check("launcher exits cleanly on SIGTERM", lab.proc.returncode == 0, "rc=%s %s" % (lab.proc.returncode, err[-500:]))
        check("no panic in launcher log", "panic" not in err, err[-2000:])
    passed = sum(1 for r in RESULTS if r[1])
    failed = len(RESULTS) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
