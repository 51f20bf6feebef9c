# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failed-over Azure VMs, read in one (paged) list call whatever the number of items.

ASR records the Azure VM's ARM id only in the forward (InMageAzureV2) details; once an item is
reprotected to on-premises (InMage) no field names it any more (asr-api.md 3.4). So before the
first reprotect :meth:`AzureVms.record` records the VM's identity - as tags of the VM (the item's ARM name
and the resource group ASR recorded), or, with the blob state store, as a blob of the vault's folder
(``asr/blob_state.BlobRecords``) and no tag - and :meth:`AzureVms.find` finds it again by id, then by that
record (a blob record first, then tags an earlier run wrote).
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import blob_state, ids
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.lock import Conflict
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError, from_exception

TAG_ITEM = "siterecovery-failback-item"
TAG_RESOURCE_GROUP = "siterecovery-failback-resource-group"
NETWORK_API_VERSION = "2024-05-01"


def _lower(value):
    return (value or "").lower()


def _tags(model):
    """Tags with lower-cased names (ARM tag names are case-insensitive, values are not)."""
    return {_lower(k): v for k, v in (getattr(model, "tags", None) or {}).items()}


def power_state(model):
    """``running``, ``stopped``, ``deallocated``, ``starting``... from the instance view, or ``unknown``."""
    view = getattr(model, "instance_view", None)
    for status in getattr(view, "statuses", None) or []:
        code = getattr(status, "code", None) or ""
        if code.startswith("PowerState/"):
            return code.split("/", 1)[1]
    return "unknown"


def _describe(model):
    rg, name = ids.vm_path(model.id)
    storage = getattr(model, "storage_profile", None)
    os_disk = getattr(storage, "os_disk", None)
    return {"id": model.id, "resource_group": rg, "name": name or model.name, "power_state": power_state(model),
            "tags": _tags(model), "raw_tags": dict(getattr(model, "tags", None) or {}), "etag": getattr(model, "etag", None),
            "os_disk": getattr(os_disk, "name", None)}


def _named_like(name, prefix):
    """``app01-osdisk`` and ``app01_nic`` are named like ``app01``; ``app010-osdisk`` is not."""
    name, prefix = _lower(name), _lower(prefix)
    return bool(prefix) and (name == prefix or (name.startswith(prefix) and name[len(prefix)] in "-_."))


class AzureVms:
    """``AzureVms(session)``: every VM of the subscription with its power state, listed once
    (``virtual_machines.list_all(status_only="true")``) on first use and cached."""

    def __init__(self, session, records=None):
        self.session = session
        self.records = records  # asr/blob_state.BlobRecords, or None: the identity record is tags
        self._vms = None
        self._by_rg = {}  # (kind, lower resource group) -> listed disks / NICs, once per module run

    @property
    def client(self):
        return self.session.compute

    def forget(self):
        """Drop the cached lists (after power operations, a failover or a commit changed the VMs)."""
        self._vms = None
        self._by_rg = {}

    def all(self):
        if self._vms is None:
            try:
                models = list(self.client.virtual_machines.list_all(status_only="true"))
            except Exception as exc:  # pylint: disable=broad-except  # one readable error
                raise from_exception(exc, "list the virtual machines of subscription",
                                     self.session.params.subscription_id) from exc
            self._vms = [_describe(model) for model in models]
        return self._vms

    # ------------------------------------------------------------------ finding
    def _by_id(self, arm_id):
        wanted = _lower(arm_id)
        return next((vm for vm in self.all() if wanted and _lower(vm["id"]) == wanted), None)

    def _by_tag(self, item_name):
        found = [vm for vm in self.all() if item_name and vm["tags"].get(TAG_ITEM) == item_name]
        if len(found) > 1:
            raise AzureError("Azure VMs %s all carry the tag %s=%s; remove it from the VMs that are not the failed-over "
                             "copy of this item." % (", ".join(sorted(vm["id"] for vm in found)), TAG_ITEM, item_name),
                             item=item_name, rule="azure_vm_ambiguous")
        return found[0] if found else None

    def _moved(self, recorded):
        """The recorded VM's name in exactly one other resource group (with the recorded OS disk, when known)."""
        disks = {_lower(n) for n in recorded.get("disk_names") or []}
        found = [vm for vm in self.all()
                 if _lower(vm["name"]) == _lower(recorded["name"]) and _lower(vm["resource_group"]) != _lower(
                     recorded.get("resource_group")) and (not disks or _lower(vm["os_disk"]) in disks)]
        return found[0] if len(found) == 1 else None

    def find(self, item):
        """Where the Azure VM of a normalized item is now, or None when nothing names it.

        Returns ``{id, resource_group, name, power_state, exists, moved, recorded_resource_group, found_by}``.
        ``found_by`` is ``id`` (the id ASR recorded), ``record`` (the blob record :meth:`record` wrote with
        the blob store), ``tag`` (the tags :meth:`record` set), ``name`` (the recorded name in another resource
        group) or None (not found: ``exists`` is false).
        """
        recorded = item.get("azure_vm") or {}
        recorded_rg = recorded.get("resource_group")
        vm = self._by_id(recorded.get("id"))
        found_by = "id" if vm else None
        if vm is None and self.records is not None and item.get("item_name"):
            blob = self.records.get(item["item_name"])
            vm = self._by_id((blob or {}).get("azure_vm"))
            if vm is not None:
                found_by = "record"
                recorded_rg = blob.get("resource_group") or recorded_rg
        if vm is None:
            vm = self._by_tag(item.get("item_name"))
            if vm is not None:
                found_by = "tag"
                recorded_rg = vm["tags"].get(TAG_RESOURCE_GROUP) or recorded_rg
        if vm is None and recorded.get("name") and not recorded.get("id") and recorded_rg:
            # the forward details name the VM and its resource group but no id (InMageRcm)
            vm = next((v for v in self.all() if _lower(v["name"]) == _lower(recorded["name"])
                       and _lower(v["resource_group"]) == _lower(recorded_rg)), None)
            found_by = "name" if vm else None
        if vm is None and recorded.get("name"):
            vm = self._moved(recorded)
            found_by = "name" if vm else None
        if vm is None:
            if not recorded.get("name"):
                return None
            return {"id": recorded.get("id"), "resource_group": recorded_rg, "name": recorded["name"],
                    "power_state": None, "exists": False, "moved": False, "recorded_resource_group": recorded_rg,
                    "found_by": None}
        return {"id": vm["id"], "resource_group": vm["resource_group"], "name": vm["name"],
                "power_state": vm["power_state"], "exists": True,
                "moved": bool(recorded_rg) and _lower(vm["resource_group"]) != _lower(recorded_rg),
                "recorded_resource_group": recorded_rg or vm["resource_group"], "found_by": found_by}

    # ------------------------------------------------------------------ recording
    def record(self, vm, item):
        """Record the VM's identity (a :meth:`find` result): the item's ARM name and the recorded resource
        group, so that :meth:`find` finds it after reprotect. As tags of the VM (its other tags kept), or, with
        ``records`` (the blob store), as the item's blob and no tag. Returns True when it wrote, False when the
        record was already there or there is no VM to record."""
        if not vm or not vm.get("exists"):
            return False
        current = self._by_id(vm["id"])
        if current is None:
            return False
        rg = vm.get("recorded_resource_group") or vm["resource_group"]
        if self.records is not None:
            return self.records.put(item["item_name"], {"item": item["item_name"], "azure_vm": current["id"],
                                                        "name": current["name"], "resource_group": rg})
        wanted = self.identity_tags(vm, item)
        if all(current["tags"].get(name) == value for name, value in wanted.items()):
            return False
        try:
            self.set_tags(vm["id"], wanted)
        except AzureError as error:
            blob_state.with_switch_hint(error)  # a tag-deny policy: say how to run without tags
            raise
        return True

    def identity_tags(self, vm, item):
        """The tags :meth:`record` writes on ``vm`` (a :meth:`find` result that exists) for ``item``: ``{TAG_ITEM: item
        name, TAG_RESOURCE_GROUP: recorded resource group}``; None when the record is a blob (``records``) or there is no
        VM. The lock's claim carries them in the same PATCH (``lock.TagStore``), so the reprotect writes none."""
        if self.records is not None or not vm or not vm.get("exists"):
            return None
        return {TAG_ITEM: item["item_name"], TAG_RESOURCE_GROUP: vm.get("recorded_resource_group") or vm["resource_group"]}

    def tag(self, vm_id, name):
        """The value of tag ``name`` (case-insensitive) on the listed VM ``vm_id``, or None."""
        current = self._by_id(vm_id)
        return current["tags"].get(_lower(name)) if current else None

    def set_tags(self, vm_id, wanted, remove=(), conditional=False):
        """PATCH the listed VM's tags: ``wanted`` set, ``remove`` dropped, every other tag kept.

        ``conditional``: send the listed VM's ETag as ``If-Match`` (Compute API 2023-09-01 and later), so
        the write fails with :class:`Conflict` when anyone changed the VM since it was listed; a VM
        listed without an ETag is read once (GET) for one. Returns the VM's new ETag (None when ARM gives
        none).
        """
        current = self._by_id(vm_id)
        dropped = {_lower(name) for name in list(wanted) + list(remove)}
        merged = {name: value for name, value in current["raw_tags"].items() if _lower(name) not in dropped}
        merged.update(wanted)
        from azure.core import MatchConditions  # pylint: disable=import-outside-toplevel  # SDK loaded by the session
        from azure.mgmt.compute.models import VirtualMachineUpdate  # pylint: disable=import-outside-toplevel  # SDK loaded by the session
        kwargs = {}
        if conditional:
            etag = current.get("etag") or self._etag(current)
            if etag:
                kwargs = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            model = self.client.virtual_machines.begin_update(current["resource_group"], current["name"],
                                                              VirtualMachineUpdate(tags=merged), **kwargs).result()
        except Exception as exc:  # pylint: disable=broad-except  # one readable error
            if getattr(exc, "status_code", None) == 412:
                raise Conflict("The Azure VM %s changed since it was read (ETag %s)." % (current["id"], kwargs.get("etag")),
                               key=current["id"]) from exc
            raise from_exception(exc, "tag the Azure VM", current["id"]) from exc
        current["raw_tags"] = merged
        current["tags"] = {_lower(name): value for name, value in merged.items()}
        current["etag"] = getattr(model, "etag", None)
        return current["etag"]

    def _etag(self, current):
        try:
            model = self.client.virtual_machines.get(current["resource_group"], current["name"])
        except Exception as exc:  # pylint: disable=broad-except  # one readable error
            raise from_exception(exc, "read the Azure VM", current["id"]) from exc
        current["etag"] = getattr(model, "etag", None)
        return current["etag"]

    # ------------------------------------------------------------------ what a deleted VM left behind
    def _in_group(self, kind, rg, read):
        """``read(rg)`` once per resource group and kind (``disks``, ``nics``) until :meth:`forget`: the leftovers of every
        VM of a resource group come from one list of its disks and one of its NICs, not one per VM."""
        key = (kind, _lower(rg))
        if key not in self._by_rg:
            self._by_rg[key] = read(rg)
        return self._by_rg[key]

    def _disks(self, rg):
        return self._in_group("disks", rg, self._list_disks)

    def _nics(self, rg):
        return self._in_group("nics", rg, self._list_nics)

    def _list_disks(self, rg):
        try:
            return list(self.client.disks.list_by_resource_group(rg))
        except Exception as exc:  # pylint: disable=broad-except  # one readable error
            if getattr(exc, "status_code", None) == 404:
                return []
            raise from_exception(exc, "list the managed disks of resource group", rg) from exc

    def _list_nics(self, rg):
        """NICs of a resource group through a raw ARM request (azure-mgmt-network is not a dependency)."""
        from azure.core.rest import HttpRequest  # pylint: disable=import-outside-toplevel  # SDK loaded by the session
        url = "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/networkInterfaces?api-version=%s" % (
            self.session.endpoints.arm_endpoint.rstrip("/"), self.session.params.subscription_id, rg, NETWORK_API_VERSION)
        result = []
        while url:
            try:
                response = self.client.send_request(HttpRequest("GET", url))
                if response.status_code == 404:
                    return []
                response.raise_for_status()
                body = response.json()
            except Exception as exc:  # pylint: disable=broad-except  # one readable error
                raise from_exception(exc, "list the network interfaces of resource group", rg) from exc
            result.extend(body.get("value") or [])
            url = body.get("nextLink")
        return result

    def leftovers(self, vm, disk_names=()):
        """Managed disks and NICs named like the VM (a :meth:`find` result) that no VM uses, in its
        current and its recorded resource group: ``{disks: [...], nics: [...], resource_groups: [...]}``.

        A disk or NIC still attached to the VM itself counts only when the VM no longer exists.
        ``disk_names`` adds exact disk names (ASR's ``targetDiskName``) to the name match.
        """
        if not vm:
            return {"disks": [], "nics": [], "resource_groups": []}
        groups = []
        for rg in (vm.get("resource_group"), vm.get("recorded_resource_group")):
            if rg and _lower(rg) not in [_lower(g) for g in groups]:
                groups.append(rg)
        exact = {_lower(name) for name in disk_names or []}
        dead = _lower(vm.get("id")) if not vm.get("exists") else None

        def free(owner):
            return not owner or (dead is not None and _lower(owner) == dead)

        disks, nics = [], []
        for rg in groups:
            for disk in self._disks(rg):
                if (_named_like(disk.name, vm["name"]) or _lower(disk.name) in exact) and free(disk.managed_by):
                    disks.append({"name": disk.name, "id": disk.id, "resource_group": rg,
                                  "size_gb": getattr(disk, "disk_size_gb", None), "attached_to": disk.managed_by})
            for nic in self._nics(rg):
                owner = ((nic.get("properties") or {}).get("virtualMachine") or {}).get("id")
                if _named_like(nic.get("name"), vm["name"]) and free(owner):
                    nics.append({"name": nic.get("name"), "id": nic.get("id"), "resource_group": rg, "attached_to": owner})
        return {"disks": disks, "nics": nics, "resource_groups": groups}


def for_state(session, params):
    """``(container, AzureVms)``: the vault's blob container of the run state (``blob_state.container_for``; None with
    ``state_store: tags``) and the subscription's Azure VMs whose identity records live there (or in tags).
    ``params``: a module's parameters (``state_*``, ``resource_group``, ``vault_name``)."""
    container = blob_state.container_for(session, params, params["resource_group"], params["vault_name"])
    return container, AzureVms(session, records=blob_state.BlobRecords(container) if container is not None else None)
