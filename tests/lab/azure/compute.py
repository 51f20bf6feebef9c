# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ARM Compute (virtual machines, managed disks) and Network (network interfaces).

VMs carry tags (``azure_vm.tags`` in the spec, besides ASR's ``createdBy``) that a PATCH replaces,
as ARM does; the subscription-wide VM list is paged (``timings.page_size``) and takes
``statusOnly=true`` (each VM then carries its instance view's statuses).

The Azure VMs are the failed-over copies of the spec's protected items (``azure_vm``). A VM
that was moved lives in its new resource group only; a deleted one does not exist. Power
operations and deletes are long-running operations answered with 202 and the two ARM
monitor URLs. Deleting a VM deletes its disks and NICs only where their ``deleteOption`` is
``Delete``; VMs that ASR created use ``Detach`` (the lab's default), so they stay behind.
"""

import datetime
import threading
import time
import urllib.parse
import uuid

from .server import ArmError, Response

RESOURCE_PREFIX = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers"
POWER_DISPLAY = {"running": "VM running", "stopped": "VM stopped", "deallocated": "VM deallocated",
                 "starting": "VM starting", "stopping": "VM stopping", "deallocating": "VM deallocating"}


def iso(moment=None):
    moment = moment or time.time()
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(rg, name):
    return (rg.lower(), name.lower())


def arm_not_found(kind, name, rg):
    return ArmError(404, "ResourceNotFound",
                    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to "
                    "https://aka.ms/ARMResourceNotFoundFix" % (kind, name, rg))


class Compute:
    """The VMs, disks and NICs of the subscription, and the operations that changed them."""

    def __init__(self, spec, lock=None):
        self.lock = lock or threading.RLock()
        self.sub = spec["azure"]["subscription_id"]
        self.location = spec["azure"]["location"]
        self.timings = spec["timings"]
        self.vms, self.disks, self.nics, self.operations = {}, {}, {}, {}
        self.resource_groups = {spec["asr"]["resource_group"].lower()}
        for item in spec["asr"]["items"]:
            avm = item.get("azure_vm")
            if not avm or item.get("protection_disabled"):
                continue
            self.resource_groups.add(avm["resource_group"].lower())
            if avm.get("moved_to_resource_group"):
                self.resource_groups.add(avm["moved_to_resource_group"].lower())
            if not avm.get("deleted"):
                self.create_vm(self.template(item))

    # ------------------------------------------------------------------ model
    def template(self, item):
        """What ASR builds in Azure at failover for ``item`` (from its normalized ``azure_vm``)."""
        avm = item["azure_vm"]
        rg = avm.get("moved_to_resource_group") or avm["resource_group"]
        option = avm.get("delete_option", "Detach")
        return {"name": avm["name"], "resource_group": rg, "size": avm["size"], "os_type": item["os"],
                "tags": dict({"createdBy": "AzureSiteRecovery"}, **(avm.get("tags") or {})),
                "power_state": avm.get("power_state", "running"), "vm_uuid": avm["vm_uuid"],
                "hyperv_generation": "V2" if item.get("firmware") == "efi" else "V1",
                "os_disk": dict(avm["os_disk"], delete_option=option),
                "data_disks": [dict(d, delete_option=option) for d in avm["data_disk_list"]],
                "nics": [dict(n, delete_option=option) for n in avm["nics"]], "ip": "10.2.0.%d" % (4 + len(self.vms))}

    def create_vm(self, template):
        """Create the VM, its managed disks and NICs (the ASR failover does this)."""
        with self.lock:
            rg = template["resource_group"]
            self.resource_groups.add(rg.lower())
            vm = dict(template, created=time.time(), version=1)
            vm["tags"] = dict(template.get("tags") or {"createdBy": "AzureSiteRecovery"})
            vm["id"] = self._id(rg, "Microsoft.Compute/virtualMachines", vm["name"])
            for disk in [vm["os_disk"]] + vm["data_disks"]:
                disk["id"] = self._id(rg, "Microsoft.Compute/disks", disk["name"])
                self.disks[_key(rg, disk["name"])] = {
                    "name": disk["name"], "id": disk["id"], "resource_group": rg, "size_gb": disk["size_gb"],
                    "managed_by": vm["id"], "os_type": vm["os_type"] if disk is vm["os_disk"] else None,
                    "unique_id": str(uuid.uuid4()), "created": time.time(),
                    "hyperv_generation": vm["hyperv_generation"]}
            for nic in vm["nics"]:
                nic["id"] = self._id(rg, "Microsoft.Network/networkInterfaces", nic["name"])
                self.nics[_key(rg, nic["name"])] = {"name": nic["name"], "id": nic["id"], "resource_group": rg,
                                                    "vm_id": vm["id"], "ip": vm["ip"], "guid": str(uuid.uuid4())}
            self.vms[_key(rg, vm["name"])] = vm
            return vm

    def _id(self, rg, kind, name):
        return "/subscriptions/%s/resourceGroups/%s/providers/%s/%s" % (self.sub, rg, kind, name)

    def find_vm(self, rg, name):
        with self.lock:
            return self.vms.get(_key(rg, name))

    def vm_by_id(self, arm_id):
        parts = arm_id.split("/")
        if len(parts) < 9:
            return None
        return self.find_vm(parts[4], parts[8])

    def set_power(self, rg, name, state):
        with self.lock:
            vm = self.vms.get(_key(rg, name))
            if vm is not None:
                vm["power_state"] = state
            return vm

    def delete_vm(self, rg, name):
        """Delete the VM; its disks and NICs go too only where deleteOption says Delete."""
        with self.lock:
            vm = self.vms.pop(_key(rg, name), None)
            if vm is None:
                return None
            for disk in [vm["os_disk"]] + vm["data_disks"]:
                key = _key(rg, disk["name"])
                if disk.get("delete_option") == "Delete":
                    self.disks.pop(key, None)
                elif key in self.disks:
                    self.disks[key]["managed_by"] = None
            for nic in vm["nics"]:
                key = _key(rg, nic["name"])
                if nic.get("delete_option") == "Delete":
                    self.nics.pop(key, None)
                elif key in self.nics:
                    self.nics[key]["vm_id"] = None
            return vm

    def state(self):
        with self.lock:
            return {"virtual_machines": {"%s/%s" % k: {"power_state": v["power_state"], "id": v["id"], "size": v["size"],
                                                       "tags": dict(v["tags"])}
                                         for k, v in self.vms.items()},
                    "disks": {"%s/%s" % k: {"id": v["id"], "managed_by": v["managed_by"]} for k, v in self.disks.items()},
                    "network_interfaces": {"%s/%s" % k: {"id": v["id"], "vm_id": v["vm_id"]} for k, v in self.nics.items()}}

    # ------------------------------------------------------------------ bodies
    def vm_body(self, vm, expand=None, status_only=False):
        disk_ref = {"storageAccountType": "Premium_LRS"}
        os_disk = vm["os_disk"]
        props = {
            "vmId": vm["vm_uuid"], "provisioningState": "Succeeded", "timeCreated": iso(vm["created"]),
            "hardwareProfile": {"vmSize": vm["size"]},
            "storageProfile": {
                "osDisk": {"osType": vm["os_type"], "name": os_disk["name"], "createOption": "Attach", "caching": "ReadWrite",
                           "diskSizeGB": os_disk["size_gb"], "deleteOption": os_disk.get("delete_option", "Detach"),
                           "managedDisk": dict(disk_ref, id=os_disk["id"])},
                "dataDisks": [{"lun": d["lun"], "name": d["name"], "createOption": "Attach", "caching": "None",
                               "diskSizeGB": d["size_gb"], "toBeDetached": False,
                               "deleteOption": d.get("delete_option", "Detach"), "managedDisk": dict(disk_ref, id=d["id"])}
                              for d in vm["data_disks"]],
                "diskControllerType": "SCSI"},
            "networkProfile": {"networkInterfaces": [
                {"id": n["id"], "properties": {"primary": i == 0, "deleteOption": n.get("delete_option", "Detach")}}
                for i, n in enumerate(vm["nics"])]},
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
        }
        if expand and expand.lower() == "instanceview":
            props["instanceView"] = self.instance_view(vm)
        elif status_only:
            props["instanceView"] = {"statuses": self.instance_view(vm)["statuses"]}
        return {"name": vm["name"], "id": vm["id"], "type": "Microsoft.Compute/virtualMachines",
                "location": self.location, "tags": dict(vm["tags"]), "etag": '"%d"' % vm.get("version", 1),
                "properties": props}

    def instance_view(self, vm):
        provisioned = {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                       "time": iso(vm["created"])}
        power = vm["power_state"]
        return {"computerName": vm["name"], "osName": "Windows Server 2019 Datacenter" if vm["os_type"] == "Windows" else "rhel",
                "hyperVGeneration": vm["hyperv_generation"],
                "disks": [{"name": d["name"], "statuses": [provisioned]} for d in [vm["os_disk"]] + vm["data_disks"]],
                "statuses": [provisioned, {"code": "PowerState/%s" % power, "level": "Info",
                                           "displayStatus": POWER_DISPLAY.get(power, "VM " + power)}]}

    def disk_body(self, disk):
        size = disk["size_gb"]
        props = {"timeCreated": iso(disk["created"]), "hyperVGeneration": disk["hyperv_generation"],
                 "creationData": {"createOption": "Copy", "sourceResourceId": self._id(
                     disk["resource_group"], "Microsoft.Compute/disks", "asrseeddisk-" + disk["name"])},
                 "diskSizeGB": size, "diskSizeBytes": size * 1024 ** 3, "uniqueId": disk["unique_id"],
                 "provisioningState": "Succeeded", "diskState": "Attached" if disk["managed_by"] else "Unattached",
                 "encryption": {"type": "EncryptionAtRestWithPlatformKey"}, "networkAccessPolicy": "AllowAll",
                 "publicNetworkAccess": "Enabled", "tier": "P10"}
        if disk["os_type"]:
            props["osType"] = disk["os_type"]
        body = {"name": disk["name"], "id": disk["id"], "type": "Microsoft.Compute/disks", "location": self.location,
                "tags": {}, "sku": {"name": "Premium_LRS", "tier": "Premium"}, "properties": props}
        if disk["managed_by"]:
            body["managedBy"] = disk["managed_by"]
        return body

    def nic_body(self, nic):
        props = {"provisioningState": "Succeeded", "resourceGuid": nic["guid"], "primary": True,
                 "enableAcceleratedNetworking": False, "enableIPForwarding": False, "nicType": "Standard",
                 "ipConfigurations": [{"name": "ipconfig1", "id": nic["id"] + "/ipConfigurations/ipconfig1",
                                       "properties": {"provisioningState": "Succeeded", "privateIPAddress": nic["ip"],
                                                      "privateIPAllocationMethod": "Dynamic", "primary": True,
                                                      "privateIPAddressVersion": "IPv4", "subnet": {"id": self._id(
                                                          nic["resource_group"], "Microsoft.Network/virtualNetworks",
                                                          "vnet-recovery/subnets/default")}}}]}
        if nic["vm_id"]:
            props["virtualMachine"] = {"id": nic["vm_id"]}
        return {"name": nic["name"], "id": nic["id"], "etag": 'W/"%s"' % nic["guid"],
                "type": "Microsoft.Network/networkInterfaces", "location": self.location, "properties": props}

    # ------------------------------------------------------------------ LRO
    def _operation(self, request, provider, kind):
        op_id = str(uuid.uuid4())
        with self.lock:
            self.operations[op_id] = {"start": time.time(), "seconds": float(self.timings.get("compute_seconds", 0)),
                                      "kind": kind}
        base = "%s/subscriptions/%s/providers/%s/locations/%s" % (request.base_url, self.sub, provider, self.location)
        version = request.query["api-version"]
        return Response(202, None, {
            "Azure-AsyncOperation": "%s/operations/%s?p=%s&api-version=%s" % (base, op_id, uuid.uuid4(), version),
            "Location": "%s/operations/%s?p=%s&monitor=true&api-version=%s" % (base, op_id, uuid.uuid4(), version),
            # no recording of Compute's LROs: 1 s (or less when a test lowers the ASR knob), not ASR's 30
            "Retry-After": str(int(self.timings.get("compute_retry_after_seconds",
                                                    min(1.0, float(self.timings.get("retry_after_seconds", 1))))))})

    def get_operation(self, request, sub, provider, loc, op_id):
        with self.lock:
            operation = self.operations.get(op_id)
        if operation is None:
            raise ArmError(404, "NotFound", "The operation '%s' was not found." % op_id)
        done = time.time() >= operation["start"] + operation["seconds"]
        if request.query.get("monitor") == "true":
            return Response(200 if done else 202, None, {} if done else {"Retry-After": "1"})
        body = {"name": op_id, "startTime": iso(operation["start"]), "status": "Succeeded" if done else "InProgress"}
        if done:
            body["endTime"] = iso(operation["start"] + operation["seconds"])
        return body

    # ------------------------------------------------------------------ routes
    def _rg(self, rg):
        if rg.lower() not in self.resource_groups:
            raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg)

    def _vm(self, rg, name):
        self._rg(rg)
        vm = self.find_vm(rg, name)
        if vm is None:
            raise arm_not_found("Microsoft.Compute/virtualMachines", name, rg)
        return vm

    def get_vm(self, request, sub, rg, vm):
        return self.vm_body(self._vm(rg, vm), request.query.get("$expand"))

    def get_instance_view(self, request, sub, rg, vm):
        return self.instance_view(self._vm(rg, vm))

    def list_vms(self, request, sub, rg):
        self._rg(rg)
        with self.lock:
            vms = [v for k, v in sorted(self.vms.items()) if k[0] == rg.lower()]
        return {"value": [self.vm_body(v) for v in vms]}

    def list_all_vms(self, request, sub):
        """Every VM of the subscription, paged; ``statusOnly=true`` adds each one's power statuses."""
        status_only = (request.query.get("statusonly") or "").lower() == "true"
        with self.lock:
            vms = [v for k, v in sorted(self.vms.items())]
            return self._page(request, vms, lambda v: self.vm_body(v, status_only=status_only))

    def _page(self, request, values, render=None):
        """One page of ``values``, each rendered by ``render`` when given (only the page's values are)."""
        size = int(self.timings.get("page_size", 100))
        start = int(request.query.get("$skiptoken") or 0)
        chosen = values[start:start + size]
        body = {"value": [render(v) for v in chosen] if render else chosen}
        if start + size < len(values):
            parts = urllib.parse.urlsplit(request.raw_path)
            query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "$skiptoken"]
            query.append(("$skiptoken", str(start + size)))
            body["nextLink"] = "%s%s?%s" % (request.base_url, parts.path, urllib.parse.urlencode(query))
        return body

    def update_vm(self, request, sub, rg, vm):
        """PATCH (VirtualMachineUpdate): only ``tags`` is supported; given tags replace the old ones, as in ARM."""
        found = self._vm(rg, vm)
        body = request.json(required=True)
        unsupported = sorted(set(body) - {"tags"}) + sorted(set(body.get("properties") or {}))
        if unsupported:
            raise ArmError(400, "LabNotSupported", "The lab's VM PATCH takes tags only, not %s." % ", ".join(unsupported))
        tags = body.get("tags")
        if tags is not None and (not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values())):
            raise ArmError(400, "InvalidTagNameOrValue", "Tags must be a map of strings.")
        with self.lock:  # the If-Match check and the write are one step, as ARM's optimistic concurrency is
            etag = '"%d"' % found.get("version", 1)
            wanted = request.headers.get("If-Match")
            if wanted and wanted.strip() not in ("*", etag):
                # the message of Compute's 412 as reported publicly (kubernetes-sigs/cloud-provider-azure#9728)
                raise ArmError(412, "PreconditionFailed", "Etag provided in if-match header %s does not match etag %s "
                               "of resource." % (wanted.strip(), etag))
            if tags is not None:
                found["tags"] = dict(tags)
                found["version"] = found.get("version", 1) + 1
        return self.vm_body(found)

    def vm_action(self, request, sub, rg, vm, action):
        target = {"poweroff": "stopped", "deallocate": "deallocated", "start": "running", "restart": "running"}
        self._vm(rg, vm)
        self.set_power(rg, vm, target[action.lower()])
        return self._operation(request, "Microsoft.Compute", action)

    def delete_vm_route(self, request, sub, rg, vm):
        self._rg(rg)
        if self.delete_vm(rg, vm) is None:
            return Response(204, None)
        return self._operation(request, "Microsoft.Compute", "delete")

    def get_disk(self, request, sub, rg, disk):
        self._rg(rg)
        with self.lock:
            found = self.disks.get(_key(rg, disk))
        if found is None:
            raise arm_not_found("Microsoft.Compute/disks", disk, rg)
        return self.disk_body(found)

    def list_disks(self, request, sub, rg):
        self._rg(rg)
        with self.lock:
            disks = [v for k, v in sorted(self.disks.items()) if k[0] == rg.lower()]
        return {"value": [self.disk_body(d) for d in disks]}

    def delete_disk(self, request, sub, rg, disk):
        self._rg(rg)
        with self.lock:
            found = self.disks.get(_key(rg, disk))
            if found is None:
                return Response(204, None)
            if found["managed_by"]:
                raise ArmError(409, "OperationNotAllowed", "Disk %s is attached to VM %s." % (disk, found["managed_by"]))
            del self.disks[_key(rg, disk)]
        return self._operation(request, "Microsoft.Compute", "deleteDisk")

    def get_nic(self, request, sub, rg, nic):
        self._rg(rg)
        with self.lock:
            found = self.nics.get(_key(rg, nic))
        if found is None:
            raise arm_not_found("Microsoft.Network/networkInterfaces", nic, rg)
        return self.nic_body(found)

    def list_nics(self, request, sub, rg):
        self._rg(rg)
        with self.lock:
            nics = [v for k, v in sorted(self.nics.items()) if k[0] == rg.lower()]
        return {"value": [self.nic_body(n) for n in nics]}

    def delete_nic(self, request, sub, rg, nic):
        self._rg(rg)
        with self.lock:
            found = self.nics.get(_key(rg, nic))
            if found is None:
                return Response(204, None)
            if found["vm_id"]:
                raise ArmError(400, "NicInUse",
                               "Network Interface %s is used by existing resource %s. In order to delete the network "
                               "interface, it must be dissociated from the resource." % (found["id"], found["vm_id"]))
            del self.nics[_key(rg, nic)]
        return self._operation(request, "Microsoft.Network", "deleteNic")

    def _check_sub(self, handler):
        def wrapped(request, sub, **groups):
            if sub.lower() != self.sub.lower():
                raise ArmError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % sub)
            return handler(request, sub, **groups)
        return wrapped

    def register(self, router):
        vms = RESOURCE_PREFIX + r"/Microsoft\.Compute/virtualMachines"
        disks = RESOURCE_PREFIX + r"/Microsoft\.Compute/disks"
        nics = RESOURCE_PREFIX + r"/Microsoft\.Network/networkInterfaces"
        add = router.add
        add("GET", vms, self._check_sub(self.list_vms))
        add("GET", vms + r"/(?P<vm>[^/]+)", self._check_sub(self.get_vm))
        add("GET", vms + r"/(?P<vm>[^/]+)/instanceView", self._check_sub(self.get_instance_view))
        add("POST", vms + r"/(?P<vm>[^/]+)/(?P<action>powerOff|deallocate|start|restart)", self._check_sub(self.vm_action))
        add("DELETE", vms + r"/(?P<vm>[^/]+)", self._check_sub(self.delete_vm_route))
        add("PATCH", vms + r"/(?P<vm>[^/]+)", self._check_sub(self.update_vm))
        add("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.Compute/virtualMachines",
            self._check_sub(self.list_all_vms))
        add("GET", disks, self._check_sub(self.list_disks))
        add("GET", disks + r"/(?P<disk>[^/]+)", self._check_sub(self.get_disk))
        add("DELETE", disks + r"/(?P<disk>[^/]+)", self._check_sub(self.delete_disk))
        add("GET", nics, self._check_sub(self.list_nics))
        add("GET", nics + r"/(?P<nic>[^/]+)", self._check_sub(self.get_nic))
        add("DELETE", nics + r"/(?P<nic>[^/]+)", self._check_sub(self.delete_nic))
        add("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/(?P<provider>Microsoft\.(?:Compute|Network))/locations/"
                   r"(?P<loc>[^/]+)/(?:operations|operationResults)/(?P<op_id>[^/]+)", self._check_sub(self.get_operation))
