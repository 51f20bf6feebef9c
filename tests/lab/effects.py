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

import threading

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl


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
        import ssl
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

    def close(self):
        Disconnect(self.si)


class VCenterEffects:
    """ASR's side effects on the lab's simulators.

    ``endpoints`` maps "vcenter" and each standalone host's name to a Simulator ``info``
    (url, host, port, username, password, ca_file). VMs are found by name on any site.
    """

    def __init__(self, endpoints):
        self.endpoints = endpoints
        self.sites = {}
        self.lock = threading.RLock()
        self.on_effect = lambda label: None

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
        while task.info.state in (vim.TaskInfo.State.queued, vim.TaskInfo.State.running):
            import time
            time.sleep(0.05)
        if task.info.state != vim.TaskInfo.State.success:
            raise RuntimeError("vSphere task %s failed: %s" % (label, task.info.error))
        return task.info.result

    def _find_vm(self, name):
        """``(site, row)`` for the VM called ``name``, or ``(None, None)``."""
        for key in self.endpoints:
            site = self.site(key)
            for row in site.read(vim.VirtualMachine, VM_PATHS):
                if row["name"] == name:
                    return site, row
        return None, None

    def _host_row(self, site, host_obj):
        for row in site.read(vim.HostSystem, HOST_PATHS):
            if row["obj"] == host_obj:
                return row
        return None

    # ------------------------------------------------------------------ reads
    def vm(self, name):
        """The VM's facts as the emulator needs them, or None when it does not exist."""
        raise NotImplementedError

    def host_of(self, vm_name):
        """Facts of the ESXi host of ``vm_name``: name, memory_mb, memory_used_mb,
        connection_state, maintenance_mode, datastores (names), vms (names)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ reprotect to on-prem
    def check_reprotect(self, vm_name, master_target, datastore=None, original_location=True):
        """Raise EffectError for what makes reprotect fail in vCenter:
        78052 a VM named ``vm_name`` exists on the master target's host (alternate location),
        8061 a datastore of the VM (original) or ``datastore`` (alternate) is not reachable
        from the master target's host, 'MasterTargetHasSnapshots' when the MT has snapshots."""
        raise NotImplementedError

    def prepare_original_location(self, vm_name, master_target):
        """Power the VM off; detach each of its flat disks (no file operation: the VMDK
        stays) and attach it to a free slot of an LSI Logic controller of the master target
        (adding one when needed). Disks already on the master target are left alone."""
        raise NotImplementedError

    def prepare_alternate_location(self, vm_name, master_target, datastore, disk_sizes_gb):
        """Create new VMDKs ``[datastore] vm_name/vm_name[_i].vmdk`` sized like the source
        disks, attached to the master target. Existing ones are left alone."""
        raise NotImplementedError

    # ------------------------------------------------------------------ failover to on-prem
    def restore_original_location(self, vm_name, master_target):
        """Detach the VM's disks from the master target (no file operation) and attach them
        back to the VM, on its own controller(s)."""
        raise NotImplementedError

    def create_vm_from_master_target(self, vm_name, master_target, datastore, num_cpu, memory_mb, guest_id,
                                     firmware="bios"):
        """Alternate location: detach ``vm_name``'s VMDKs from the master target and create
        the VM on the master target's host and ``datastore`` with those disks."""
        raise NotImplementedError

    def power_on(self, vm_name):
        """Power the VM on. Raise EffectError(8038) when its host's free memory is below the
        VM's memory (the simulator itself would not refuse)."""
        raise NotImplementedError

    def power_off(self, vm_name):
        """Power the VM off (no-op when already off)."""
        raise NotImplementedError
