# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modernized flow's side effects in vCenter (the replication appliance's), mixed into
``effects.VCenterEffects``: the appliance replicates straight into the on-prem VM's disks, so
an original-location failback only powers the VM off and on (``power_off``/``power_on``); an
alternate-location failback creates the VM at the failover (``create_vm_on_datastore``)."""

from pyVmomi import vim


class ModernizedEffects:
    def create_vm_on_datastore(self, vm_name, datastore, num_cpu, memory_mb, guest_id, disk_sizes_gb, firmware="bios",
                               host=None, uuid=None, disk_uuids=None, nics=1):
        """Modernized alternate location: create ``vm_name`` (powered off, ``firmware`` bios or efi) with new thin
        VMDKs ``[datastore] vm_name/vm_name[_i].vmdk`` sized ``disk_sizes_gb``, on ``host`` or else on the connected
        host out of maintenance that mounts ``datastore`` with the most free memory. Returns its instance UUID. The VM
        ASR created before (``uuid``) is left alone (a re-run after a cancelled failback reuses it). ``disk_uuids``: the
        ``backing.uuid`` of each new VMDK (what the item's ``diskUuid`` reports, as ASR knows the disks it created).
        ``nics``: network adapters on the chosen host's first standard port group, set to connect at power on (no
        recording shows which network ASR gives the VM: the lab's assumption; 0 is a VM created without one)."""
        from .effects import HOST_PATHS, EffectError

        with self.lock:
            if uuid and self._find_vm(vm_name, uuid)[1] is not None:
                return uuid
            site, ds_obj, hosts = self._datastore(datastore)
            rows = site.read_objects(hosts, HOST_PATHS) if hosts else []
            usable = [r for r in rows if str(r["runtime.connectionState"]) == "connected"
                      and not r["runtime.inMaintenanceMode"] and (host is None or r["name"] == host)]
            if not usable:
                raise EffectError(8061, "Datastore %s is not accessible from any usable ESXi host%s."
                                  % (datastore, " (%s)" % host if host else ""),
                                  "The datastore is not mounted on a connected ESXi host.",
                                  "Mount the datastore on a connected host, or choose another datastore, and retry.")
            chosen = max(usable, key=lambda r: (r["summary.hardware.memorySize"] // 1048576
                                                - (r.get("summary.quickStats.overallMemoryUsage") or 0), r["name"]))
            compute = site.read_objects([chosen["parent"]], ["resourcePool"])[0]["resourcePool"]
            datacenter = self._datacenter_of(site, chosen["obj"])
            folder = site.read_objects([datacenter], ["vmFolder"])[0]["vmFolder"]
            controller = vim.vm.device.VirtualLsiLogicController(
                key=-100, busNumber=0, sharedBus=vim.vm.device.VirtualSCSIController.Sharing.noSharing)
            changes = [vim.vm.device.VirtualDeviceSpec(operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                                                       device=controller)]
            for index, size in enumerate(disk_sizes_gb):
                backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                    fileName="[%s] %s/%s%s.vmdk" % (datastore, vm_name, vm_name, "" if index == 0 else "_%d" % index),
                    diskMode="persistent", thinProvisioned=True, datastore=ds_obj,
                    uuid=(disk_uuids or [None] * len(disk_sizes_gb))[index])
                changes.append(vim.vm.device.VirtualDeviceSpec(
                    operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                    fileOperation=vim.vm.device.VirtualDeviceSpec.FileOperation.create,
                    device=vim.vm.device.VirtualDisk(key=-101 - index, controllerKey=-100,
                                                     unitNumber=index if index < 7 else index + 1, backing=backing,
                                                     capacityInKB=int(size * 1048576))))
            networks = [ref for ref in site.read_objects([chosen["obj"]], ["network"])[0].get("network") or []
                        if not isinstance(ref, vim.dvs.DistributedVirtualPortgroup)]
            if networks and nics:
                name = site.read_objects([networks[0]], ["name"])[0]["name"]
                for index in range(nics):
                    changes.append(vim.vm.device.VirtualDeviceSpec(
                        operation=vim.vm.device.VirtualDeviceSpec.Operation.add,
                        device=vim.vm.device.VirtualVmxnet3(
                            key=-400 - index,
                            backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(
                                deviceName=name, network=networks[0]),
                            connectable=vim.vm.device.VirtualDevice.ConnectInfo(
                                startConnected=True, allowGuestControl=True, connected=False))))
            config = vim.vm.ConfigSpec(name=vm_name, numCPUs=num_cpu, memoryMB=memory_mb, guestId=guest_id,
                                       firmware=firmware, deviceChange=changes,
                                       files=vim.vm.FileInfo(vmPathName="[%s] %s/%s.vmx" % (datastore, vm_name, vm_name)))
            self._effect("create VM %s" % vm_name)
            created = self._wait(folder.CreateVM_Task(config=config, pool=compute, host=chosen["obj"]),
                                 "create VM %s" % vm_name)
            return self._instance_uuid(site, created)

    def _datastore(self, name):
        """``(site, datastore, [host objects that mount it])`` for the datastore called ``name``."""
        from .effects import EffectError

        for key in self.endpoints:
            site = self.site(key)
            for row in site.read(vim.Datastore, ["name", "host"]):
                if row["name"] == name:
                    return site, row["obj"], [mount.key for mount in row.get("host") or []]
        raise EffectError("DatastoreNotFound", "Datastore %s was not found in vCenter" % name)

    @staticmethod
    def _datacenter_of(site, obj):
        while obj is not None and not isinstance(obj, vim.Datacenter):
            obj = site.read_objects([obj], ["parent"])[0].get("parent")
        return obj
