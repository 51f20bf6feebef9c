# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.azure_vms: finding the failed-over VM by id, tag or name; recording the tags; leftovers."""

import types

import pytest
from azure.mgmt.compute.models import Disk, VirtualMachine

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import azure_vms
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.azure_vms import AzureVms
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

SUB = "/subscriptions/sub"


def vm_id(rg, name):
    return "%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (SUB, rg, name)


def vm(rg, name, power="running", tags=None, os_disk=None):
    return VirtualMachine({"id": vm_id(rg, name), "name": name, "location": "westeurope", "tags": tags or {},
                           "properties": {"storageProfile": {"osDisk": {"name": os_disk or name + "-osdisk",
                                                                        "createOption": "Attach"}},
                                          "instanceView": {"statuses": [
                                              {"code": "ProvisioningState/succeeded"},
                                              {"code": "PowerState/" + power}]}}})


class FakeVirtualMachines:
    def __init__(self, models):
        self.models = models
        self.calls = []

    def list_all(self, status_only=None):
        self.calls.append(("list_all", status_only))
        return iter(self.models)

    def begin_update(self, rg, name, update):
        self.calls.append(("begin_update", rg, name, dict(update.tags)))
        return types.SimpleNamespace(result=lambda: None)


class FakeResponse:
    def __init__(self, status, body):
        self.status_code = status
        self.body = body

    def raise_for_status(self):
        pass

    def json(self):
        return self.body


class FakeCompute:
    def __init__(self, models, disks=None, nics=None):
        self.virtual_machines = FakeVirtualMachines(models)
        self.disks = types.SimpleNamespace(list_by_resource_group=lambda rg: (disks or {}).get(rg, []))
        self.nics = nics or {}
        self.requests = []

    def send_request(self, request):
        self.requests.append(request.url)
        rg = request.url.split("/resourceGroups/")[1].split("/")[0]
        if rg not in self.nics:
            return FakeResponse(404, {})
        return FakeResponse(200, {"value": self.nics[rg]})


def session(compute):
    return types.SimpleNamespace(compute=compute, params=types.SimpleNamespace(subscription_id="sub"),
                                 endpoints=types.SimpleNamespace(arm_endpoint="https://arm.example/"))


def item(name="item-1", rg="rg-recovery", vm_name="app01", recorded_id=True, disks=()):
    azure_vm = {"id": vm_id(rg, vm_name) if recorded_id else None, "resource_group": rg, "name": vm_name,
                "disk_names": list(disks)}
    return {"item_name": name, "azure_vm": azure_vm if vm_name else None}


def test_power_state():
    assert azure_vms.power_state(vm("rg", "a", power="deallocated")) == "deallocated"
    assert azure_vms.power_state(VirtualMachine({"id": vm_id("rg", "b"), "location": "x"})) == "unknown"


def test_found_by_recorded_id_in_one_list_call():
    compute = FakeCompute([vm("rg-recovery", "app01"), vm("rg-other", "db01", power="stopped")])
    vms = AzureVms(session(compute))
    assert vms.find(item()) == {"id": vm_id("rg-recovery", "app01"), "resource_group": "rg-recovery", "name": "app01",
                                "power_state": "running", "exists": True, "moved": False,
                                "recorded_resource_group": "rg-recovery", "found_by": "id"}
    assert vms.find(item(vm_name="db01", rg="rg-other"))["power_state"] == "stopped"
    assert compute.virtual_machines.calls == [("list_all", "true")]


def test_id_match_ignores_case():
    compute = FakeCompute([vm("RG-Recovery", "APP01")])
    found = AzureVms(session(compute)).find(item())
    assert found["exists"] is True and found["moved"] is False


def test_deleted_vm_does_not_exist():
    found = AzureVms(session(FakeCompute([]))).find(item())
    assert found == {"id": vm_id("rg-recovery", "app01"), "resource_group": "rg-recovery", "name": "app01",
                     "power_state": None, "exists": False, "moved": False, "recorded_resource_group": "rg-recovery",
                     "found_by": None}


def test_moved_vm_is_found_by_name_in_another_resource_group():
    compute = FakeCompute([vm("rg-moved", "app01")])
    found = AzureVms(session(compute)).find(item(disks=["app01-osdisk"]))
    assert (found["exists"], found["moved"], found["resource_group"], found["recorded_resource_group"], found["found_by"]) == (
        True, True, "rg-moved", "rg-recovery", "name")


def test_a_namesake_with_other_disks_or_two_namesakes_are_not_the_moved_vm():
    assert AzureVms(session(FakeCompute([vm("rg-dev", "app01", os_disk="other")]))).find(
        item(disks=["app01-osdisk"]))["exists"] is False
    assert AzureVms(session(FakeCompute([vm("rg-a", "app01"), vm("rg-b", "app01")]))).find(item())["exists"] is False


def test_failback_item_found_by_tags():
    tags = {azure_vms.TAG_ITEM: "item-1", azure_vms.TAG_RESOURCE_GROUP: "rg-recovery"}
    found = AzureVms(session(FakeCompute([vm("rg-recovery", "app01", tags=tags)]))).find(item(vm_name=None))
    assert (found["exists"], found["moved"], found["found_by"]) == (True, False, "tag")
    moved = AzureVms(session(FakeCompute([vm("rg-moved", "app01", tags=tags)]))).find(item(vm_name=None))
    assert (moved["moved"], moved["recorded_resource_group"]) == (True, "rg-recovery")
    # tag names are case-insensitive in ARM
    upper = {k.upper(): v for k, v in tags.items()}
    assert AzureVms(session(FakeCompute([vm("rg-recovery", "app01", tags=upper)]))).find(item(vm_name=None))["exists"]


def test_failback_item_without_tags_is_not_found():
    assert AzureVms(session(FakeCompute([vm("rg-recovery", "app01")]))).find(item(vm_name=None)) is None


def test_two_vms_with_the_same_item_tag_are_refused():
    tags = {azure_vms.TAG_ITEM: "item-1"}
    vms = AzureVms(session(FakeCompute([vm("rg-a", "app01", tags=tags), vm("rg-b", "app01", tags=tags)])))
    with pytest.raises(AzureError, match="carry the tag"):
        vms.find(item(vm_name=None))


def test_record_merges_tags_once():
    compute = FakeCompute([vm("rg-recovery", "app01", tags={"createdBy": "AzureSiteRecovery"})])
    vms = AzureVms(session(compute))
    found = vms.find(item())
    assert vms.record(found, item()) is True
    assert compute.virtual_machines.calls[-1] == ("begin_update", "rg-recovery", "app01", {
        "createdBy": "AzureSiteRecovery", azure_vms.TAG_ITEM: "item-1", azure_vms.TAG_RESOURCE_GROUP: "rg-recovery"})
    assert vms.record(found, item()) is False
    assert [c[0] for c in compute.virtual_machines.calls] == ["list_all", "begin_update"]
    # after reprotect the item no longer names the VM: the tags find it
    assert vms.find(item(vm_name=None))["found_by"] == "tag"


def test_record_nothing_to_tag():
    vms = AzureVms(session(FakeCompute([])))
    assert vms.record(None, item()) is False
    assert vms.record(vms.find(item()), item()) is False


def test_leftovers_of_a_deleted_vm():
    dead = vm_id("rg-recovery", "app01")
    disks = {"rg-recovery": [
        Disk({"id": "d1", "name": "app01-osdisk", "location": "x", "properties": {"diskSizeGB": 100}}),
        Disk({"id": "d2", "name": "app01-datadisk-0", "location": "x", "managedBy": dead}),
        Disk({"id": "d3", "name": "app010-osdisk", "location": "x"}),
        Disk({"id": "d4", "name": "app01-data", "location": "x", "managedBy": vm_id("rg-recovery", "other")}),
        Disk({"id": "d5", "name": "seed-xyz", "location": "x"})]}
    other = {"virtualMachine": {"id": vm_id("rg-recovery", "x")}}
    nics = {"rg-recovery": [{"name": "app01-nic0", "id": "n1", "properties": {}},
                            {"name": "app01-nic1", "id": "n2", "properties": other},
                            {"name": "web01-nic0", "id": "n3", "properties": {}}]}
    compute = FakeCompute([], disks=disks, nics=nics)
    vms = AzureVms(session(compute))
    gone = vms.find(item())
    left = vms.leftovers(gone, disk_names=["seed-xyz"])
    assert [(d["name"], d["size_gb"]) for d in left["disks"]] == [
        ("app01-osdisk", 100), ("app01-datadisk-0", None), ("seed-xyz", None)]
    assert [n["name"] for n in left["nics"]] == ["app01-nic0"]
    assert left["resource_groups"] == ["rg-recovery"]
    assert compute.requests == ["https://arm.example/subscriptions/sub/resourceGroups/rg-recovery/providers/"
                                "Microsoft.Network/networkInterfaces?api-version=2024-05-01"]


def test_leftovers_of_a_living_vm_are_only_the_unattached_namesakes():
    alive = vm_id("rg-recovery", "app01")
    disks = {"rg-recovery": [Disk({"id": "d1", "name": "app01-osdisk", "location": "x", "managedBy": alive}),
                             Disk({"id": "d2", "name": "app01-old", "location": "x"})]}
    vms = AzureVms(session(FakeCompute([vm("rg-recovery", "app01")], disks=disks)))
    left = vms.leftovers(vms.find(item()))
    assert [d["name"] for d in left["disks"]] == ["app01-old"] and left["nics"] == []
    assert vms.leftovers(None) == {"disks": [], "nics": [], "resource_groups": []}
