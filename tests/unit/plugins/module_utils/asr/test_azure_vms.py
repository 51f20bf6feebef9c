# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.azure_vms: finding the failed-over VM by id, tag or name; recording the tags; leftovers."""

import json
import types

import pytest
from azure.mgmt.compute.models import Disk, VirtualMachine

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import azure_vms, lock
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.azure_vms import AzureVms
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import (
    RecordingTransport,
    StaticCredential,
)

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

    def begin_update(self, rg, name, update, **conditions):
        self.calls.append(("begin_update", rg, name, dict(update.tags)))
        return types.SimpleNamespace(result=lambda: None)

    def get(self, rg, name):
        self.calls.append(("get", rg, name))
        return types.SimpleNamespace(etag=None)


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


# ------------------------------------------------------------------ the cached list
def test_the_list_is_read_once_until_forgotten():
    compute = FakeCompute([vm("rg-recovery", "app01", power="stopped")])
    vms = AzureVms(session(compute))
    assert vms.find(item())["power_state"] == "stopped"
    compute.virtual_machines.models = [vm("rg-recovery", "app01", power="running")]
    assert vms.find(item())["power_state"] == "stopped"  # cached
    vms.forget()
    assert vms.find(item())["power_state"] == "running"
    assert compute.virtual_machines.calls == [("list_all", "true"), ("list_all", "true")]


# ------------------------------------------------------------------ finding: the InMageRcm path (name + resource group, no id)
def test_a_named_vm_without_id_is_found_in_its_recorded_resource_group():
    compute = FakeCompute([vm("rg-dev", "app01"), vm("RG-Recovery", "APP01", power="deallocated")])
    found = AzureVms(session(compute)).find(item(recorded_id=False))
    assert (found["id"], found["found_by"], found["moved"], found["power_state"]) == (
        vm_id("RG-Recovery", "APP01"), "name", False, "deallocated")


def test_a_named_vm_without_id_that_left_its_resource_group_is_found_when_unique():
    found = AzureVms(session(FakeCompute([vm("rg-moved", "app01")]))).find(item(recorded_id=False))
    assert (found["resource_group"], found["found_by"], found["moved"], found["recorded_resource_group"]) == (
        "rg-moved", "name", True, "rg-recovery")


def test_a_named_vm_without_id_or_resource_group_is_not_counted_as_moved():
    recorded = {"item_name": "item-1", "azure_vm": {"id": None, "resource_group": None, "name": "app01"}}
    found = AzureVms(session(FakeCompute([vm("rg-x", "app01")]))).find(recorded)
    assert (found["exists"], found["moved"], found["recorded_resource_group"]) == (True, False, "rg-x")


def test_a_named_vm_without_id_that_is_gone_is_reported_missing():
    found = AzureVms(session(FakeCompute([vm("rg-recovery", "web01")]))).find(item(recorded_id=False))
    assert found == {"id": None, "resource_group": "rg-recovery", "name": "app01", "power_state": None,
                     "exists": False, "moved": False, "recorded_resource_group": "rg-recovery", "found_by": None}


def test_the_recorded_id_wins_over_a_tagged_namesake():
    tags = {azure_vms.TAG_ITEM: "item-1", azure_vms.TAG_RESOURCE_GROUP: "rg-recovery"}
    compute = FakeCompute([vm("rg-copy", "app01", tags=tags), vm("rg-recovery", "app01")])
    found = AzureVms(session(compute)).find(item())
    assert (found["resource_group"], found["found_by"]) == ("rg-recovery", "id")


# ------------------------------------------------------------------ finding by the tags record() wrote
def test_tag_values_are_case_sensitive():
    tags = {azure_vms.TAG_ITEM: "ITEM-1"}
    assert AzureVms(session(FakeCompute([vm("rg-recovery", "app01", tags=tags)]))).find(item(vm_name=None)) is None


def test_an_item_without_a_name_matches_no_untagged_vm():
    assert AzureVms(session(FakeCompute([vm("rg-recovery", "app01")]))).find({"item_name": None, "azure_vm": None}) is None


def test_a_tagged_vm_without_the_resource_group_tag_keeps_the_recorded_one():
    tags = {azure_vms.TAG_ITEM: "item-1"}
    found = AzureVms(session(FakeCompute([vm("rg-moved", "app01", tags=tags)]))).find(item(recorded_id=False))
    # the recorded VM is not in rg-recovery, but the tag names it: moved from the recorded group
    assert (found["found_by"], found["moved"], found["recorded_resource_group"]) == ("tag", True, "rg-recovery")
    alone = AzureVms(session(FakeCompute([vm("rg-moved", "app01", tags=tags)]))).find(item(vm_name=None))
    assert (alone["found_by"], alone["moved"], alone["recorded_resource_group"]) == ("tag", False, "rg-moved")


# ------------------------------------------------------------------ record: which PATCH, if any
def test_record_tags_a_moved_vm_with_the_recorded_resource_group():
    compute = FakeCompute([vm("rg-moved", "app01")])
    vms = AzureVms(session(compute))
    assert vms.record(vms.find(item()), item()) is True
    assert compute.virtual_machines.calls[-1] == ("begin_update", "rg-moved", "app01", {
        azure_vms.TAG_ITEM: "item-1", azure_vms.TAG_RESOURCE_GROUP: "rg-recovery"})


def test_record_without_a_recorded_resource_group_uses_the_vms_own():
    compute = FakeCompute([vm("rg-recovery", "app01")])
    vms = AzureVms(session(compute))
    found = dict(vms.find(item()), recorded_resource_group=None)
    assert vms.record(found, item()) is True
    assert compute.virtual_machines.calls[-1][3][azure_vms.TAG_RESOURCE_GROUP] == "rg-recovery"


def test_record_repairs_a_half_written_pair_of_tags():
    tags = {azure_vms.TAG_ITEM: "item-1", azure_vms.TAG_RESOURCE_GROUP: "rg-old"}
    compute = FakeCompute([vm("rg-recovery", "app01", tags=tags)])
    vms = AzureVms(session(compute))
    assert vms.record(vms.find(item()), item()) is True
    assert compute.virtual_machines.calls[-1][3] == {azure_vms.TAG_ITEM: "item-1",
                                                     azure_vms.TAG_RESOURCE_GROUP: "rg-recovery"}


def test_record_leaves_tags_that_differ_only_in_name_case():
    tags = {"SiteRecovery-Failback-Item": "item-1", "SITERECOVERY-FAILBACK-RESOURCE-GROUP": "rg-recovery"}
    compute = FakeCompute([vm("rg-recovery", "app01", tags=tags)])
    vms = AzureVms(session(compute))
    assert vms.record(vms.find(item()), item()) is False
    assert [c[0] for c in compute.virtual_machines.calls] == ["list_all"]


def test_record_does_not_tag_a_vm_that_is_no_longer_listed():
    compute = FakeCompute([vm("rg-recovery", "app01")])
    vms = AzureVms(session(compute))
    found = vms.find(item())
    compute.virtual_machines.models = []
    vms.forget()
    assert vms.record(found, item()) is False
    assert "begin_update" not in [c[0] for c in compute.virtual_machines.calls]


# ------------------------------------------------------------------ tag / set_tags
def test_tag_reads_a_tag_by_name_in_any_case():
    vms = AzureVms(session(FakeCompute([vm("rg-recovery", "app01", tags={"Siterecovery-Failback-Lock": "run-1|99"})])))
    assert vms.tag(vm_id("rg-recovery", "app01"), "siterecovery-failback-lock") == "run-1|99"
    assert vms.tag(vm_id("rg-recovery", "app01"), "SITERECOVERY-FAILBACK-LOCK") == "run-1|99"
    assert vms.tag(vm_id("rg-recovery", "app01"), "other") is None
    assert vms.tag(vm_id("rg-recovery", "gone"), "siterecovery-failback-lock") is None


def test_set_tags_replaces_and_removes_by_name_in_any_case_and_keeps_the_rest():
    tags = {"createdBy": "AzureSiteRecovery", "SiteRecovery-Failback-Lock": "run-1|99", "Owner": "ops"}
    compute = FakeCompute([vm("rg-recovery", "app01", tags=tags)])
    vms = AzureVms(session(compute))
    vms.set_tags(vm_id("rg-recovery", "app01"), {"siterecovery-failback-lock": "run-2|120"}, remove=["OWNER"])
    assert compute.virtual_machines.calls[-1] == ("begin_update", "rg-recovery", "app01", {
        "createdBy": "AzureSiteRecovery", "siterecovery-failback-lock": "run-2|120"})
    # the cached list follows the PATCH: no second list call is needed to see it
    assert vms.tag(vm_id("rg-recovery", "app01"), "siterecovery-failback-lock") == "run-2|120"
    assert vms.tag(vm_id("rg-recovery", "app01"), "owner") is None
    assert [c[0] for c in compute.virtual_machines.calls] == ["list_all", "begin_update"]


# ------------------------------------------------------------------ the real Compute SDK over a scripted transport

def vm_json(rg, name, tags=None):
    return {"id": vm_id(rg, name), "name": name, "location": "westeurope", "tags": tags or {},
            "properties": {"storageProfile": {"osDisk": {"name": name + "-osdisk", "createOption": "Attach"}},
                           "instanceView": {"statuses": [{"code": "PowerState/running"}]}}}


def sdk_vms(answers):
    transport = RecordingTransport(answers)
    real = AzureSession(AzureParams(subscription_id="00000000-0000-4000-8000-0000000000a1"), credential=StaticCredential())
    real.client_kwargs_extra = {"transport": transport}
    return AzureVms(real), transport


def arm_error(status, code, message):
    return (status, {}, {"error": {"code": code, "message": message}})


def test_the_vms_are_listed_with_their_power_state_in_one_call():
    vms, transport = sdk_vms([(200, {}, {"value": [vm_json("rg-recovery", "app01")]})])
    assert vms.find(item())["power_state"] == "running"
    [request] = transport.sent
    assert request.method == "GET"
    assert "/subscriptions/00000000-0000-4000-8000-0000000000a1/providers/Microsoft.Compute/virtualMachines" in request.url
    assert "statusOnly=true" in request.url


def test_a_failed_list_is_one_readable_error():
    vms = sdk_vms([arm_error(403, "AuthorizationFailed", "The client has no read access.")])[0]
    with pytest.raises(AzureError) as info:
        vms.find(item())
    assert "Could not list the virtual machines of subscription 00000000-0000-4000-8000-0000000000a1" in info.value.msg
    assert info.value.details["status"] == 403


def test_removing_the_last_tag_sends_an_empty_tag_set():
    lock = {"siterecovery-failback-lock": "run-1|99"}
    vms, transport = sdk_vms([(200, {}, {"value": [vm_json("rg-recovery", "app01", lock)]}),
                              (200, {}, vm_json("rg-recovery", "app01"))])
    vms.set_tags(vm_id("rg-recovery", "app01"), {}, remove=["siterecovery-failback-lock"])
    request = transport.sent[-1]
    assert (request.method, request.url.split("?")[0]) == ("PATCH", "https://management.azure.com" + vm_id(
        "rg-recovery", "app01").replace("/sub/", "/00000000-0000-4000-8000-0000000000a1/"))
    assert json.loads(request.content) == {"tags": {}}


def test_a_failed_tag_patch_is_readable_and_changes_nothing_cached():
    lock = {"siterecovery-failback-lock": "run-1|99"}
    vms = sdk_vms([(200, {}, {"value": [vm_json("rg-recovery", "app01", lock)]}),
                   arm_error(409, "OperationNotAllowed", "Operation 'update' is not allowed on VM 'app01'.")])[0]
    with pytest.raises(AzureError) as info:
        vms.set_tags(vm_id("rg-recovery", "app01"), {"siterecovery-failback-lock": "run-2|120"})
    assert "Could not tag the Azure VM " + vm_id("rg-recovery", "app01") in info.value.msg
    assert vms.tag(vm_id("rg-recovery", "app01"), "siterecovery-failback-lock") == "run-1|99"


def test_a_deleted_resource_group_has_no_leftovers_but_an_unreadable_one_is_an_error():
    gone = arm_error(404, "ResourceGroupNotFound", "Resource group 'rg-recovery' could not be found.")
    vms = sdk_vms([(200, {}, {"value": []}), gone, gone])[0]
    assert vms.leftovers(vms.find(item())) == {"disks": [], "nics": [], "resource_groups": ["rg-recovery"]}
    denied = arm_error(403, "AuthorizationFailed", "no access")
    vms = sdk_vms([(200, {}, {"value": []}), denied])[0]
    with pytest.raises(AzureError, match="Could not list the managed disks of resource group rg-recovery"):
        vms.leftovers(vms.find(item()))
    vms = sdk_vms([(200, {}, {"value": []}), (200, {}, {"value": []}), denied])[0]
    with pytest.raises(AzureError, match="Could not list the network interfaces of resource group rg-recovery"):
        vms.leftovers(vms.find(item()))


def test_network_interfaces_are_read_page_by_page():
    first = "https://management.azure.com/subscriptions/00000000-0000-4000-8000-0000000000a1/resourceGroups/rg-recovery/" \
            "providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01"
    second = first + "&$skiptoken=page2"
    vms, transport = sdk_vms([(200, {}, {"value": []}), (200, {}, {"value": []}),
                              (200, {}, {"value": [{"name": "app01-nic0", "id": "n0", "properties": {}}],
                                         "nextLink": second}),
                              (200, {}, {"value": [{"name": "app01-nic1", "id": "n1", "properties": {}}]})])
    left = vms.leftovers(vms.find(item()))
    assert [n["name"] for n in left["nics"]] == ["app01-nic0", "app01-nic1"]
    assert [r.url for r in transport.sent[2:]] == [first, second]


# ------------------------------------------------------------------ leftovers: which resource groups, which names
def test_leftovers_of_a_moved_vm_look_in_both_resource_groups_once_each():
    disks = {"rg-moved": [Disk({"id": "d1", "name": "app01-old", "location": "x"})],
             "rg-recovery": [Disk({"id": "d2", "name": "APP01_osdisk", "location": "x"})]}
    compute = FakeCompute([vm("rg-moved", "app01")], disks=disks)
    vms = AzureVms(session(compute))
    left = vms.leftovers(vms.find(item()))
    assert left["resource_groups"] == ["rg-moved", "rg-recovery"]
    assert [(d["name"], d["resource_group"]) for d in left["disks"]] == [
        ("app01-old", "rg-moved"), ("APP01_osdisk", "rg-recovery")]
    same = {"id": vm_id("RG-Recovery", "app01"), "resource_group": "RG-Recovery", "name": "app01", "exists": True,
            "recorded_resource_group": "rg-recovery"}
    assert vms.leftovers(same)["resource_groups"] == ["RG-Recovery"]


def test_leftover_names_are_the_vm_name_or_the_name_and_a_separator():
    names = ["app01", "APP01.nic", "app01_nic", "app01-nic", "app01nic", "app010", "xapp01-nic"]
    nics = {"rg-recovery": [{"name": n, "id": n, "properties": {}} for n in names]}
    disks = {"rg-recovery": [Disk({"id": n, "name": n, "location": "x"}) for n in [*names, "Seed-XYZ"]]}
    vms = AzureVms(session(FakeCompute([], disks=disks, nics=nics)))
    left = vms.leftovers(vms.find(item()), disk_names=["seed-xyz"])
    assert [n["name"] for n in left["nics"]] == ["app01", "APP01.nic", "app01_nic", "app01-nic"]
    assert [d["name"] for d in left["disks"]] == ["app01", "APP01.nic", "app01_nic", "app01-nic", "Seed-XYZ"]
    assert azure_vms._named_like("-nic", "") is False


def test_a_nic_still_attached_counts_only_when_its_vm_is_gone():
    dead = vm_id("rg-recovery", "app01")
    nics = {"rg-recovery": [{"name": "app01-nic0", "id": "n0",
                             "properties": {"virtualMachine": {"id": dead.upper()}}}]}
    gone = AzureVms(session(FakeCompute([], nics=nics)))
    assert [n["attached_to"] for n in gone.leftovers(gone.find(item()))["nics"]] == [dead.upper()]
    alive = AzureVms(session(FakeCompute([vm("rg-recovery", "app01")], nics=nics)))
    assert alive.leftovers(alive.find(item()))["nics"] == []


# ---------------------------------------------------------- exact matches only (names and groups are compared, not ordered)
@pytest.mark.parametrize("other", ["aaa01", "zzz01"])
def test_a_vm_with_another_name_is_never_the_moved_vm(other):
    assert AzureVms(session(FakeCompute([vm("rg-x", other)]))).find(item())["exists"] is False
    assert AzureVms(session(FakeCompute([vm("rg-x", other)]))).find(item(recorded_id=False))["exists"] is False


@pytest.mark.parametrize("other", ["aaa01", "zzz01"])
def test_a_vm_with_another_name_in_the_recorded_group_is_not_the_vm(other):
    found = AzureVms(session(FakeCompute([vm("rg-recovery", other)]))).find(item(recorded_id=False))
    assert found["exists"] is False


def test_namesakes_in_two_other_groups_are_not_the_vm_without_id():
    compute = FakeCompute([vm("rg-aaa", "app01"), vm("rg-zzz", "app01")])
    assert AzureVms(session(compute)).find(item(recorded_id=False))["exists"] is False


def test_a_vm_moved_to_a_group_sorting_after_the_recorded_one_is_moved():
    found = AzureVms(session(FakeCompute([vm("rg-zone", "app01")]))).find(item())
    assert (found["exists"], found["moved"], found["resource_group"]) == (True, True, "rg-zone")


def test_tag_values_from_separate_responses_compare_by_value():
    # the item name comes from the ASR response, the tag from the Compute one: equal strings, distinct objects
    item_name = "".join(["item", "-", "1"])
    tags = {azure_vms.TAG_ITEM: "item-1", azure_vms.TAG_RESOURCE_GROUP: "rg-recovery"}
    compute = FakeCompute([vm("rg-recovery", "app01", tags=tags)])
    vms = AzureVms(session(compute))
    assert vms.find({"item_name": item_name, "azure_vm": None})["found_by"] == "tag"
    recorded = dict(item(name=item_name), azure_vm=dict(item()["azure_vm"], resource_group="".join(["rg-", "recovery"])))
    assert vms.record(vms.find(recorded), recorded) is False
    assert [c[0] for c in compute.virtual_machines.calls] == ["list_all"]


def test_a_disk_attached_to_another_vm_is_not_left_over_whatever_its_name():
    dead = vm_id("rg-recovery", "app01")
    disks = {"rg-recovery": [Disk({"id": "d0", "name": "app01-data0", "location": "x",
                                   "managedBy": vm_id("rg-recovery", "app00")}),
                             Disk({"id": "d1", "name": "app01-data1", "location": "x", "managedBy": dead})]}
    vms = AzureVms(session(FakeCompute([], disks=disks)))
    assert [d["name"] for d in vms.leftovers(vms.find(item()))["disks"]] == ["app01-data1"]


def test_names_sorting_before_the_vm_name_are_not_leftovers():
    disks = {"rg-recovery": [Disk({"id": n, "name": n, "location": "x"}) for n in ("app", "app0", "aaa-osdisk")]}
    vms = AzureVms(session(FakeCompute([], disks=disks)))
    assert vms.leftovers(vms.find(item()))["disks"] == []


def test_a_resource_group_being_deleted_is_an_error_not_an_empty_group():
    # only 404 means "nothing there"; 409 (ResourceGroupBeingDeleted) is reported
    busy = arm_error(409, "ResourceGroupBeingDeleted", "The resource group 'rg-recovery' is in deprovisioning state.")
    vms = sdk_vms([(200, {}, {"value": []}), busy])[0]
    with pytest.raises(AzureError, match="Could not list the managed disks of resource group rg-recovery"):
        vms.leftovers(vms.find(item()))
    vms = sdk_vms([(200, {}, {"value": []}), (200, {}, {"value": []}), busy])[0]
    with pytest.raises(AzureError, match="Could not list the network interfaces of resource group rg-recovery"):
        vms.leftovers(vms.find(item()))


def test_leftovers_of_many_vms_list_each_resource_group_once_until_forget():
    disks = {"rg-recovery": [Disk({"id": "d1", "name": "app01-osdisk", "location": "x"}),
                             Disk({"id": "d2", "name": "web01-osdisk", "location": "x"})]}
    nics = {"rg-recovery": [{"name": "web01-nic0", "id": "n1", "properties": {}}]}
    listed = []
    compute = FakeCompute([], disks=disks, nics=nics)
    compute.disks = types.SimpleNamespace(list_by_resource_group=lambda rg: listed.append(rg) or disks.get(rg, []))
    vms = AzureVms(session(compute))
    app = vms.leftovers(vms.find(item("item-1", vm_name="app01")))
    web = vms.leftovers(vms.find(item("item-2", vm_name="web01")))
    assert [d["name"] for d in app["disks"]] == ["app01-osdisk"] and app["nics"] == []
    assert [d["name"] for d in web["disks"]] == ["web01-osdisk"] and [n["name"] for n in web["nics"]] == ["web01-nic0"]
    # one disk list and one NIC list for the resource group, whatever the number of VMs in it
    assert listed == ["rg-recovery"] and len(compute.requests) == 1
    vms.forget()  # a commit deleted VMs: read again
    vms.leftovers(vms.find(item("item-1", vm_name="app01")))
    assert listed == ["rg-recovery"] * 2 and len(compute.requests) == 2


def test_the_lock_claim_carries_the_identity_record_so_the_reprotect_writes_none():
    compute = FakeCompute([vm("rg-recovery", "app01")])
    vms = AzureVms(session(compute))
    store = lock.TagStore(vms)
    changed, results, _lease = lock.acquire(store, [(None, dict(item(), name="app01"))], "run-1", 300, False,
                                            clock=lambda: 1000.0, host="ctl")
    assert changed and results[0]["status"] == "acquired"
    [update] = [c for c in compute.virtual_machines.calls if c[0] == "begin_update"]
    assert update[3][lock.TAG_LOCK] == "run-1" and lock.TAG_LEASE in update[3]
    assert (update[3][azure_vms.TAG_ITEM], update[3][azure_vms.TAG_RESOURCE_GROUP]) == ("item-1", "rg-recovery")
    # one PATCH per VM: the identity record is there already
    assert vms.record(vms.find(item()), item()) is False
    assert len([c for c in compute.virtual_machines.calls if c[0] == "begin_update"]) == 1
