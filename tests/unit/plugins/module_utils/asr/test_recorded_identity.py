# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a recorded item says about the machine it replicates (tests/recorded/asr, README facts and
docs/recorded-behaviour.md): whether it is a VMware VM or a physical server, and which vSphere VM is the original.

The same VMware VM, V2A-W2K16-201 (item V2A-W2K16-201-new), is ``discoveryType: vCenter`` with
``vCenterInfrastructureId: "9"`` and ``infrastructureVmId`` d3731098-963a-11eb-... while it replicates to Azure, and
``Physical``, null and 35dd7b4c-96c2-11eb-... once it is reprotected (the service failed it back minutes later).
Expected answers are written by hand from the recordings."""

import datetime
import uuid

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils import readiness_context
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import readiness as rules
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import inventory as inventory_mod
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk as rec
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import test_recorded_items as recorded

FORWARD = "item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection"
FAILBACK = "item_get.InMage.replicating_to_onprem.V2ATestFailback"
COMMITTED = "item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect"
LISTS = ("items_list.V2ATestFailback.before_failover", "items_list.after_failback_committed.V2ATestReprotect")
VM = recorded.VM
# a vCenter instance UUID has the shape the modernized item names carry (vcenter67_50158471-87c2-d4ad-caa2-...)
INSTANCE_UUID = "50151c0e-3a3b-7c49-1f0e-6a5e1f3c2b11"
RCM_GETS = ("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect",
            "item_get.InMageRcm.UnplannedFailoverCommitPendingStatesBegin.TestV2ARCMCommit",
            "item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback",
            "item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect")
RCM_VM, RCM_UUID = "Rcm-W2K19-152", "50158471-87c2-d4ad-caa2-abe22face6d8"


def normalized(name, friendly=None):
    return asr_items.normalize(rec.one("item", name, friendly))


class FakeInventory:
    """The part of vsphere.inventory.Inventory the readiness context reads: VMs (rows of the property collector),
    no hosts, datastores or master targets."""

    is_vcenter = True

    def __init__(self, vms):
        self.vms = {row["moid"]: dict(row, **{"config.template": False}) for row in vms}
        self.hosts, self.datastores, self.folders, self.datacenters = {}, {}, {}, {}

    def host_of(self, row):
        return None

    # the one identity rule, as the real inventory applies it (domain.identity), with its index built once
    folder_path = inventory_mod.Inventory.folder_path
    candidates = inventory_mod.Inventory.candidates
    _index = inventory_mod.Inventory._index
    resolve_vm = inventory_mod.Inventory.resolve_vm
    vm_by_name = inventory_mod.Inventory.vm_by_name
    _candidates = _candidate_of = _by_name = _by_uuid = None

    def vms_on_host(self, row):
        return []


def vm_row(moid, name, instance_uuid):
    return {"moid": moid, "name": name, "config.instanceUuid": instance_uuid}


def context_entry(item, vms):
    onprem, other, several, _warning = readiness_context._onprem(FakeInventory(vms), item)
    return {"name": item["name"], "item": item, "onprem": onprem, "same_name_uuid": other, "same_name_vms": several}


def original_vm_present(item, vms):
    ctx = {"location": "original", "vsphere": {"hostname": "vcenter67", "connected": True}}
    return rules.original_vm_present(context_entry(item, vms), ctx)


# ---------------------------------------------------------------------------------------- physical or VMware
def test_a_vmware_vm_says_vcenter_only_while_it_replicates_forward():
    assert normalized(FORWARD)["discovery_type"] == "vCenter"
    assert normalized(FORWARD)["onprem"]["vcenter_infrastructure_id"] == "9"
    # the same VM reprotected, in a GET and in both lists: Physical and no vCenter there, which is not evidence
    for name, friendly in ((FAILBACK, None), (COMMITTED, None), (LISTS[0], VM), (LISTS[1], VM)):
        body = rec.body(name, friendly)["properties"]["providerSpecificDetails"]
        assert (body["discoveryType"], body["vCenterInfrastructureId"]) == ("Physical", None)  # what ASR sends
        assert normalized(name, friendly)["discovery_type"] is None, name  # what we conclude: unknown
    # the other item of the lists still replicates forward: its discoveryType stands
    assert normalized(LISTS[0], "V2A-W2K19-202")["discovery_type"] == "vCenter"


@pytest.mark.parametrize("name", [FAILBACK, COMMITTED, "item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback"])
def test_a_failback_item_is_neither_physical_nor_vmware(name):
    entry = {"name": "x", "item": normalized(name)}
    assert rules._source(entry) == "unknown" and not rules._is_physical(entry)
    # even when a caller hands over the raw value the service sent
    entry["item"] = dict(entry["item"], discovery_type="Physical")
    assert rules._source(entry) == "unknown"


def test_readiness_of_the_reprotected_vmware_vm_is_not_a_physical_server():
    # fault: "V2A-W2K16-201 is a physical server: it fails back only as a new VMware VM (alternate location)" - a
    # blocker for the healthy VM the service failed back to its original location a minute later
    _client, vault = recorded.classic_vault()
    result = recorded.readiness(vault)
    assert recorded.findings(result, VM, "physical_alternate_only") == []
    verdict = next(v for v in result["verdicts"] if v["vm"] == VM)
    assert verdict["stage"] == "replicating_to_onprem"
    assert not [b for b in verdict["blockers"] if "physical" in b.lower()], verdict["blockers"]


def test_a_physical_server_is_still_one_where_its_forward_item_says_so():
    body = rec.body(FORWARD)
    body["properties"]["providerSpecificDetails"].update(discoveryType="Physical", vCenterInfrastructureId=None)
    item = asr_items.normalize(rec.sdk("item", body))
    entry = {"name": VM, "item": item, "onprem": None}
    assert rules._source(entry) == "physical"
    assert [f["rule"] for f in rules.physical_alternate_only(entry, {"location": "original"})] == ["physical_alternate_only"]
    assert original_vm_present(item, []) == []  # physical_alternate_only says it all


# ---------------------------------------------------------------------------------------- which VM is the original
def test_infrastructure_vm_ids_are_the_configuration_servers_time_based_ids():
    ids = {name: normalized(name)["onprem"] for name in (FORWARD, FAILBACK, COMMITTED)}
    forward, back = ids[FORWARD]["infrastructure_vm_id"], ids[FAILBACK]["infrastructure_vm_id"]
    assert forward == ids[FORWARD]["vm_id"] == "d3731098-963a-11eb-a892-000d3ad78fab"
    assert back == ids[COMMITTED]["infrastructure_vm_id"] == "35dd7b4c-96c2-11eb-a892-000d3ad78fab"
    assert {uuid.UUID(forward).version, uuid.UUID(back).version} == {1}  # minted by the CS, not vCenter's
    # a new id for the same, unchanged VM 40 s after the reprotect was posted
    minted = datetime.datetime(1582, 10, 15, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        microseconds=uuid.UUID(back).time // 10)
    assert minted.replace(microsecond=0) == datetime.datetime(2021, 4, 6, 10, 24, 3, tzinfo=datetime.timezone.utc)
    # classic items name no instance UUID
    assert {i["instance_uuid"] for i in ids.values()} == {None}


@pytest.mark.parametrize("name", [FORWARD, FAILBACK, COMMITTED])
def test_the_original_vm_of_a_classic_item_is_the_one_vm_of_its_name(name):
    # fault: "vSphere server vcenter67 does not hold it (instance UUID d3731098-...). A VM named V2A-W2K16-201 exists,
    # but it is another VM" - for every classic VM on the real service
    item = normalized(name)
    vms = [vm_row("vm-1", VM, INSTANCE_UUID), vm_row("vm-2", "V2A-W2K19-202", "50150000-0000-0000-0000-000000000002")]
    entry = context_entry(item, vms)
    assert entry["onprem"]["moid"] == "vm-1" and entry["onprem"]["instance_uuid"] == INSTANCE_UUID
    assert original_vm_present(item, vms) == []


def test_two_vms_of_the_name_are_refused_naming_both_and_the_fix():
    item = normalized(FAILBACK)
    vms = [vm_row("vm-1", VM, INSTANCE_UUID), vm_row("vm-7", VM, "50157777-0000-0000-0000-000000000007")]
    assert context_entry(item, vms)["onprem"] is None
    [found] = original_vm_present(item, vms)
    assert found["severity"] == "blocker"
    assert found["message"].startswith("In vSphere server vcenter67: VM V2A-W2K16-201: 2 VMs have that name and Site "
                                       "Recovery records no instance UUID for a classic")
    assert "vm-1 (instance UUID %s)" % INSTANCE_UUID in found["message"]
    assert "vm-7 (instance UUID 50157777-0000-0000-0000-000000000007)" in found["message"]
    assert found["remedy"].startswith("Rename or remove every VM named V2A-W2K16-201 but the one Site Recovery protects")
    assert "alternate" not in found["message"] + found["remedy"]  # a new VM of the name would be one more copy


def test_no_vm_of_the_name_blocks_and_says_what_is_unknown():
    [found] = original_vm_present(normalized(FAILBACK), [vm_row("vm-2", "V2A-W2K19-202", INSTANCE_UUID)])
    assert "vSphere server vcenter67 does not hold it. No VM of that name exists there." in found["message"]
    assert "does not say whether V2A-W2K16-201 was a VMware VM or a physical server" in found["message"]
    assert "d3731098" not in found["message"] and "35dd7b4c" not in found["message"]
    # the forward item knows it is a VMware VM: nothing to add
    [found] = original_vm_present(normalized(FORWARD), [])
    assert "does not say whether" not in found["message"]


@pytest.mark.parametrize("name", RCM_GETS)
def test_a_modernized_item_names_its_vms_instance_uuid(name):
    item = normalized(name)
    assert item["onprem"]["instance_uuid"] == RCM_UUID  # from the item name, vcenter67_<instance UUID>
    renamed = [vm_row("vm-5", "renamed-in-vcenter", RCM_UUID.upper()), vm_row("vm-6", RCM_VM, INSTANCE_UUID)]
    entry = context_entry(item, renamed)
    assert entry["onprem"]["moid"] == "vm-5"  # the VM with that UUID, whatever its name
    [found] = original_vm_present(item, renamed[1:])
    assert "A VM named Rcm-W2K19-152 exists, but it is another VM (instance UUID %s, Site Recovery records %s)" % (
        INSTANCE_UUID, RCM_UUID) in found["message"]


def test_a_modernized_item_named_otherwise_uses_the_fabric_discovery_machine_or_the_name():
    body = rec.body("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect")
    body["name"] = RCM_VM  # as Rcm-W2K16-153 is named in another recording (fact 8)
    assert asr_items.normalize(rec.sdk("item", body))["onprem"]["instance_uuid"] == RCM_UUID  # fabricDiscoveryMachineId
    body["properties"]["providerSpecificDetails"]["fabricDiscoveryMachineId"] = None
    item = asr_items.normalize(rec.sdk("item", body))
    assert item["onprem"]["instance_uuid"] is None
    assert context_entry(item, [vm_row("vm-1", RCM_VM, INSTANCE_UUID)])["onprem"]["moid"] == "vm-1"


def test_readiness_through_vsphere_finds_the_original_vm_of_the_recorded_item(monkeypatch):
    vms = [vm_row("vm-1", VM, INSTANCE_UUID)]
    monkeypatch.setattr(inventory_mod, "Inventory", lambda client: FakeInventory(vms))
    _client, vault = recorded.classic_vault()
    result = readiness_context.run(vault, fakes.FakeAzureVms(), object,
                                   {"location": "original", "vms": [VM], "hostname": "vcenter67"},
                                   now=recorded.FAILOVER_TIME)
    assert recorded.findings(result, VM, "original_vm_present") == []
    assert recorded.findings(result, VM, "physical_alternate_only") == []
    vms.append(vm_row("vm-9", VM, "50159999-0000-0000-0000-000000000009"))
    result = readiness_context.run(vault, fakes.FakeAzureVms(), object,
                                   {"location": "original", "vms": [VM], "hostname": "vcenter67"},
                                   now=recorded.FAILOVER_TIME)
    [found] = recorded.findings(result, VM, "original_vm_present")
    assert "vm-1" in found["message"] and "vm-9" in found["message"]


# ---------------------------------------------------------------------------------------- the recorded time
def test_heartbeat_ages_are_taken_at_the_time_given():
    # fault: gather(now=...) aged the fabric's heartbeats by the wall clock: years, so cs_heartbeat always blocked
    _client, vault = recorded.classic_vault()
    ctx = readiness_context.gather(vault, fakes.FakeAzureVms(), recorded.no_vsphere,
                                   {"location": "original", "vms": [VM]}, now=recorded.FAILOVER_TIME)
    ages = [cs["heartbeat_age_seconds"] for cs in ctx["configuration_servers"]]
    assert ages and all(8 * 60 <= age <= 13 * 60 for age in ages), ages  # README fact 17
    result = recorded.readiness(vault)
    assert recorded.findings(result, None, "cs_heartbeat") == []
