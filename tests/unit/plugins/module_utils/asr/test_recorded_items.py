# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Decisions made on what the live service returns (tests/recorded/asr): the sparse item list and the full GET,
recovery-point types, the modernized planned failback, the process server of a reprotect, the 60-disk budget.
Each vault serves the recorded bodies through the real Vault (fakes.FakeSiteRecovery); expected answers are
written by hand from the recordings and their README."""

import datetime
import threading
import time

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils import readiness_context
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import failover, item_info, reprotect
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import vault as vault_mod
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk as rec
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes

CLASSIC_LIST = "items_list.V2ATestFailback.before_failover"
CLASSIC_GET = "item_get.InMage.replicating_to_onprem.V2ATestFailback"
INMAGE_ITEM, VM = "V2A-W2K16-201-new", "V2A-W2K16-201"
RCM_LIST = "items_list.modernized.TestV2ARCMFailback"
RCM_GET = "item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback"
RCM_ITEM, RCM_VM = "vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8", "Rcm-W2K19-152"
PS_ID, CS_PS_ID = "30AE6187-5869-8E44-B8AF6AA66E3ECC8F", "14968BDF-E18E-7F45-A9B0E3EFAC2DDCA2"
# the failback's failover was posted at 12:02:36Z, one second after the recorded reads of the item (README fact 3)
FAILOVER_TIME = datetime.datetime(2021, 4, 6, 12, 2, 35, tzinfo=datetime.timezone.utc)


def no_vsphere():
    raise FailbackError("vSphere is not part of this test")


def classic_vault(gets=True, points=None, fabrics=("fabrics_list.V2ATestFailback",)):
    """The classic vault of V2ATestFailback as recorded: the sparse list, and (``gets``) the item's GET."""
    client = fakes.FakeSiteRecovery(items=rec.models_of("item", CLASSIC_LIST),
                                    fabrics=[f for name in fabrics for f in rec.models_of("fabric", name)],
                                    policies=rec.models_of("policy", "policies.classic.V2ATestFailback"),
                                    mappings=rec.models_of("mapping", "container_mappings_list.V2ATestFailback"),
                                    vcenters=rec.models_of("vcenter", "vcenter_get.classic.V2AVCenterTest"),
                                    points=points)
    if gets:
        client.gets[INMAGE_ITEM] = rec.one("item", CLASSIC_GET)
    return client, fakes.vault(client)


def readiness(vault, vms=(VM,), **params):
    return readiness_context.run(vault, fakes.FakeAzureVms(), no_vsphere,
                                 dict({"location": "original", "vms": list(vms)}, **params), now=FAILOVER_TIME)


def findings(result, vm, rule):
    return [f for f in result["findings"] if f["vm"] == vm and f["rule"] == rule]


def point(item_id, name, kind, when):
    """A recovery point as asr-api.md section 4 documents it (no recording lists the points of any item)."""
    return fakes.models.RecoveryPoint({
        "id": item_id + "/recoveryPoints/" + name, "name": name,
        "properties": {"recoveryPointTime": when, "recoveryPointType": kind}})


# ---------------------------------------------------------------------------------------- 1. list vs GET
def test_readiness_decides_from_the_get_not_the_sparse_list():
    # fault: "VM has no recovery point yet: it cannot fail back" for the VM the service failed back a minute later
    client, vault = classic_vault()
    result = readiness(vault)
    assert findings(result, VM, "recovery_point") == []
    verdict = next(v for v in result["verdicts"] if v["vm"] == VM)
    assert verdict["stage"] == "replicating_to_onprem"
    assert not [b for b in verdict["blockers"] if b.startswith("recovery_point")]
    # the item was read with a GET; the other item of the list was not
    assert "item/" + INMAGE_ITEM in client.reads and "item/V2A-W2K19-202" not in client.reads


def test_the_list_alone_would_block():
    # the same vault answering the GET with the list entry: no disks, no point, no OS - the old reading
    _client, vault = classic_vault(gets=False)
    result = readiness(vault)
    assert [f["message"] for f in findings(result, VM, "recovery_point")] == [
        "V2A-W2K16-201 has no recovery point yet: it cannot fail back."]


def test_selected_items_carry_the_gets_disks_os_and_master_target():
    _client, vault = classic_vault()
    [(model, item)] = asr_items.select(vault, vms=[VM])
    assert model.properties.provider_specific_details.protected_disks
    assert (item["disk_count"], item["os_type"], item["onprem"]["master_target_id"]) == (2, "Windows", PS_ID)


def test_item_gets_are_concurrent_bounded_and_only_for_the_selection():
    body = rec.body(CLASSIC_GET)
    listed = []
    for n in range(20):
        copy = dict(body, name="item-%02d" % n, id=body["id"].replace(INMAGE_ITEM, "item-%02d" % n))
        copy["properties"] = dict(body["properties"], friendlyName="vm-%02d" % n)
        listed.append(rec.sdk("item", copy))
    client = fakes.FakeSiteRecovery(items=listed)
    lock, state = threading.Lock(), {"now": 0, "max": 0}
    plain_get = client.replication_protected_items.get

    def slow_get(*args):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return plain_get(*args)

    client.replication_protected_items.get = slow_get
    vault = fakes.vault(client)
    selected = asr_items.select(vault, vms=["vm-%02d" % n for n in range(12)], item_names=["ITEM-03"])
    assert [item["name"] for _m, item in selected] == ["vm-%02d" % n for n in range(12)]
    assert 1 < state["max"] <= vault_mod.MAX_PARALLEL_READS
    assert sorted(r for r in client.reads if r.startswith("item/")) == ["item/item-%02d" % n for n in range(12)]
    # cached: a second selection reads nothing again; forgetting the items forgets their GETs
    asr_items.select(vault, vms=["vm-00"])
    assert client.reads.count("item/item-00") == 1
    vault.forget("items")
    asr_items.select(vault, vms=["vm-00"])
    assert client.reads.count("item/item-00") == 2


def test_a_get_that_fails_names_the_item():
    _client, vault = classic_vault(gets=False)

    def refuse(*_args):
        raise RuntimeError("boom")

    vault.client.replication_protected_items.get = refuse
    with pytest.raises(AzureError, match="Could not read protected item V2A-W2K16-201-new in vault PwsTestRG/PwsTestVault"):
        asr_items.select(vault, vms=[VM])


def test_parallel_keeps_order_and_raises_the_first_error():
    assert vault_mod.parallel(lambda n: n * 2, range(10)) == [n * 2 for n in range(10)]
    assert vault_mod.parallel(lambda n: n, []) == []

    def fail(n):
        raise ValueError(n)

    with pytest.raises(ValueError):
        vault_mod.parallel(fail, [1, 2])


def test_item_names_and_plan_members_match_without_regard_to_case():
    client = fakes.FakeSiteRecovery(items=rec.models_of("item", RCM_LIST),
                                    plans=rec.models_of("plan", "recovery_plan_get.InMageRcm.TestV2ARCMRecoveryPlan"))
    vault = fakes.vault(client)
    plan = client.plans[0]
    # the plan names its member with /Subscriptions/ (as ASR writes ids); look it up the way a request path writes it
    member = plan.properties.groups[2].replication_protected_items[0]
    member["id"] = member["id"].replace("/Subscriptions/", "/subscriptions/").replace("vcenter67_", "VCENTER67_")
    assert [item["name"] for _m, item in asr_items.select(vault, plan="v2arcm-pwsh-rp")] == ["Rcm-W2K16-153"]
    assert [item["name"] for _m, item in asr_items.select(vault, item_names=[RCM_ITEM.upper()])] == [RCM_VM]


def test_readiness_for_a_recorded_plan_and_a_vm_no_longer_protected():
    client = fakes.FakeSiteRecovery(items=rec.models_of("item", RCM_LIST),
                                    fabrics=rec.models_of("fabric", "fabric_get.InMageRcm.TestV2ARCMFailback"),
                                    plans=rec.models_of("plan", "recovery_plan_get.InMageRcm.TestV2ARCMRecoveryPlan"))
    client.gets["vcenter67_50159b46-9b4c-de0a-71bb-0bb32fe964af"] = rec.one(
        "item", "item_get.InMageRcm.Protected.TestV2ARCMRecoveryPlan")
    result = readiness_context.run(fakes.vault(client), fakes.FakeAzureVms(), no_vsphere,
                                   {"location": "original", "recovery_plan": "v2arcm-pwsh-rp", "vms": ["Rcm-W2K16-153", "gone"]},
                                   now=FAILOVER_TIME)
    # the plan's member once (it is also named as a VM), then the VM the vault no longer holds
    assert [(v["vm"], v["stage"]) for v in result["verdicts"]] == [("Rcm-W2K16-153", "protected_to_azure"), ("gone", None)]
    assert [f["rule"] for f in result["findings"] if f["vm"] == "gone"] == ["protection_enabled"]
    assert client.reads.count("item/vcenter67_50159b46-9b4c-de0a-71bb-0bb32fe964af") == 1


def test_a_plan_member_no_longer_protected_is_named():
    client = fakes.FakeSiteRecovery(items=rec.models_of("item", CLASSIC_LIST),
                                    plans=rec.models_of("plan", "recovery_plan_get.InMageRcm.TestV2ARCMRecoveryPlan"))
    with pytest.raises(AzureError) as caught:
        asr_items.select(fakes.vault(client), plan="v2arcm-pwsh-rp")
    assert caught.value.msg == ("Recovery plan v2arcm-pwsh-rp names item vcenter67_50159b46-9b4c-de0a-71bb-0bb32fe964af, "
                                "which is no longer protected.")


# ---------------------------------------------------------------------------------------- 2. recovery-point types
def test_consistency_point_tags_are_not_application_consistent_points():
    # the GET's consistencyPoints: {"fileSystem606c46c6": ..., "systemLevelTag606c3e8d": ...}; no list of points
    _client, vault = classic_vault()
    result = readiness(vault, recovery_point="latest_app_consistent")
    assert findings(result, VM, "recovery_point") == []  # a point exists (the GET shows one)
    assert [f["message"] for f in findings(result, VM, "app_consistent_point_age")] == [
        "V2A-W2K16-201 has no application-consistent recovery point yet (its recovery-point list shows 0 point(s), "
        "none of type ApplicationConsistent)."]


def test_application_consistent_points_come_from_the_recovery_point_list():
    # fault: latest_app_consistent was always blocked (it looked for a consistencyPoints key ApplicationConsistent)
    get = rec.one("item", CLASSIC_GET)
    listed = [point(get.id, "rp-crash", "CrashConsistent", "2021-04-06T12:00:35Z"),
              point(get.id, "rp-app", "ApplicationConsistent", "2021-04-06T11:32:35Z")]
    _client, vault = classic_vault(points={INMAGE_ITEM: listed})
    result = readiness(vault, recovery_point="latest_app_consistent", app_consistent_max_age_minutes=60)
    assert findings(result, VM, "app_consistent_point_age") == []
    # 30 minutes old, over a 20-minute limit: the age is the listed point's
    result = readiness(vault, recovery_point="latest_app_consistent", app_consistent_max_age_minutes=20)
    assert [f["message"] for f in findings(result, VM, "app_consistent_point_age")] == [
        "The latest application-consistent recovery point of V2A-W2K16-201 is 30.0 minutes old (the limit is 20)."]
    # the failover takes that point, and replicated_item_info names it
    _acting, results, _plan = failover.plan(vault, asr_items.select(vault, vms=[VM]), "latest_app_consistent", None)
    assert results[0]["recovery_point"]["name"] == "rp-app"
    described = item_info.describe(vault, fakes.FakeAzureVms(), vms=[VM], now=FAILOVER_TIME)["items"][0]
    assert described["latest_app_consistent_recovery_point"]["name"] == "rp-app"
    assert described["latest_recovery_point"]["name"] == "rp-crash"


def test_point_types_are_read_in_any_case():
    get = rec.one("item", CLASSIC_GET)
    listed = [point(get.id, "rp-app", "applicationConsistent", "2021-04-06T11:32:35Z")]
    _client, vault = classic_vault(points={INMAGE_ITEM: listed})
    _acting, results, _plan = failover.plan(vault, asr_items.select(vault, vms=[VM]), "latest_app_consistent", None)
    assert results[0]["recovery_point"]["type"] == "applicationConsistent"


def test_latest_processed_fails_over_on_the_gets_point_when_none_is_listed():
    # the recorded failback failover: recoveryPointType LatestTime, the item showing its point in the GET only
    client, vault = classic_vault()
    acting, results, _plan = failover.plan(vault, asr_items.select(vault, vms=[VM]), "latest_processed", None)
    assert [item["item_name"] for _m, item in acting] == [INMAGE_ITEM]
    assert results[0]["recovery_point"] == {"name": None, "id": None, "type": "LatestTime", "time": None}
    assert results[0]["data_loss_window_seconds"] is None
    failover.apply(vault, [(None, acting)], "latest_processed", "NotRequired", fakes.deadline(), poll=0.01)
    recorded = rec.source("lro_202.unplannedFailover.V2ATestFailback")["request"]["body"]
    assert client.action_bodies("unplanned_failover")[INMAGE_ITEM] == recorded
    # without the GET's point the failover waits, as before
    _client, vault = classic_vault(gets=False)
    with pytest.raises(AzureError, match="VM V2A-W2K16-201 has no recovery point yet"):
        failover.plan(vault, asr_items.select(vault, vms=[VM]), "latest_processed", None)


def test_a_custom_point_is_found_by_its_id_in_either_case():
    get = rec.one("item", CLASSIC_GET)
    listed = [point(get.id, "rp-1", "CrashConsistent", "2021-04-06T11:50:00Z")]
    client, vault = classic_vault(points={INMAGE_ITEM: listed})
    wanted = listed[0].id.replace("/Subscriptions/", "/subscriptions/")
    acting, results, _plan = failover.plan(vault, asr_items.select(vault, vms=[VM]), wanted, None)
    assert results[0]["recovery_point"]["id"] == listed[0].id
    failover.apply(vault, [(None, acting)], wanted, "NotRequired", fakes.deadline(), poll=0.01)
    provider = client.action_bodies("unplanned_failover")[INMAGE_ITEM]["properties"]["providerSpecificDetails"]
    assert provider == {"instanceType": "InMage", "recoveryPointType": "Custom", "recoveryPointId": listed[0].id}


# ---------------------------------------------------------------------------------------- 3. modernized failback
def modern_vault():
    client = fakes.FakeSiteRecovery(items=rec.models_of("item", RCM_LIST),
                                    fabrics=rec.models_of("fabric", "fabric_get.InMageRcm.TestV2ARCMFailback"),
                                    policies=rec.models_of("policy", "policies.modernized.TestV2ARCMFailback"),
                                    mappings=rec.models_of("mapping", "container_mappings_list.modernized.TestV2ARCMFailback"))
    client.gets[RCM_ITEM] = rec.one("item", RCM_GET)
    return client, fakes.vault(client)


def test_modernized_application_consistent_failback_is_not_blocked():
    # fault: readiness blocked it although the planned failover takes a fresh point (recorded: plannedFailover with
    # recoveryPointType ApplicationConsistent, accepted with 202)
    client, vault = modern_vault()
    result = readiness(vault, vms=[RCM_VM], recovery_point="latest_app_consistent", app_consistent_max_age_minutes=10)
    assert findings(result, RCM_VM, "app_consistent_point_age") == []
    assert findings(result, RCM_VM, "recovery_point") == []
    assert next(v for v in result["verdicts"] if v["vm"] == RCM_VM)["stage"] == "replicating_to_onprem"
    assert not [r for r in client.reads if r.startswith("points/")]  # a planned failover needs no listed point
    # and the failover sends what the service accepted
    acting, _results, _plan = failover.plan(vault, asr_items.select(vault, vms=[RCM_VM]), "latest_app_consistent", None)
    failover.apply(vault, [(None, acting)], "latest_app_consistent", "NotRequired", fakes.deadline(), poll=0.01)
    recorded = rec.source("lro_202.plannedFailover.modernized.TestV2ARCMFailback")["request"]["body"]
    assert client.action_bodies("planned_failover")[RCM_ITEM] == recorded


# ---------------------------------------------------------------------------------------- 7. process server, disks
def forward_vault(process_servers=None, mt_disks=None, list_sparse=True):
    """The classic item of V2ATestSwitchProtection, failed over and committed (running in Azure), its fabric as
    read the day before, the recorded policies and mappings; the list entry as sparse as fact 2 says."""
    fabric = rec.body("fabric_get.VMware.healthy.v2aFailbackReprotect")
    details = fabric["properties"]["customDetails"]
    if process_servers is not None:
        details["processServers"] = [p for p in details["processServers"] if p["friendlyName"] in process_servers]
    if mt_disks is not None:
        next(m for m in details["masterTargetServers"] if m["name"] == "V2A-PS-200")["diskCount"] = mt_disks
    get = rec.body("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection")
    entry = rec.body("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection")
    if list_sparse:
        entry["properties"]["providerSpecificDetails"].update(protectedDisks=[], protectedManagedDisks=[],
                                                              azureVMDiskDetails=[])
    client = fakes.FakeSiteRecovery(items=[rec.sdk("item", entry)], fabrics=[rec.sdk("fabric", fabric)],
                                    policies=rec.models_of("policy", "policies.classic.V2ATestFailback"),
                                    mappings=rec.models_of("mapping", "container_mappings_list.V2ATestFailback"))
    client.gets[INMAGE_ITEM] = rec.sdk("item", get)
    # what ASR makes of it once the reprotect starts: the InMage (failback) item
    client.after[INMAGE_ITEM] = fakes.inmage_item(name=INMAGE_ITEM, friendly=VM)
    return client, fakes.vault(client)


# when fabric_get.VMware.healthy.v2aFailbackReprotect was read (its master targets' heartbeats were minutes old)
FABRIC_READ = datetime.datetime(2021, 4, 5, 18, 2, 34, tzinfo=datetime.timezone.utc)
NAMES = {"master_target": "V2A-PS-200", "process_server": None, "datastore": "datastore1", "retention_volume": None,
         "run_as_account": "windowsuser", "appliance": None, "log_storage_account_id": None, "placements": {}}
SELECT = {"vms": [VM], "item_names": [], "plan": None}


def test_reprotect_to_onprem_chooses_the_configuration_servers_own_process_server_when_it_is_the_only_one():
    # fault: refused unless a process server was named, because the configuration server's own was set apart
    client, vault = forward_vault(process_servers=("PwsTestCS",))
    outcome = reprotect.ensure(None, vault, SELECT, "to_onprem", NAMES, False, fakes.deadline(), poll=0.01)
    result = outcome["vms"][0]
    assert (result["process_server"], result["process_server_reason"]) == (
        "PwsTestCS", "the only healthy process server (the configuration server's own)")
    # the request is the one the service accepted (lro_202.reProtect.to_onprem.InMage.V2ATestSwitchProtection)
    recorded = rec.source("lro_202.reProtect.to_onprem.InMage.V2ATestSwitchProtection")["request_body"]
    assert client.action_bodies("reprotect")[INMAGE_ITEM] == recorded


def test_reprotect_to_onprem_with_two_healthy_process_servers_says_which_and_why():
    _client, vault = forward_vault()
    outcome = reprotect.ensure(None, vault, SELECT, "to_onprem", NAMES, True, fakes.deadline())
    assert (outcome["vms"][0]["process_server"], outcome["vms"][0]["process_server_reason"]) == (
        "V2A-PS-200", "the only healthy process server besides configuration server PwsTestCS's own, which stays with "
                      "replication to Azure (healthy: PwsTestCS, V2A-PS-200)")


def test_reprotect_to_onprem_refusal_names_the_vm_and_the_process_servers():
    _client, vault = forward_vault(process_servers=())
    with pytest.raises(AzureError) as caught:
        reprotect.ensure(None, vault, SELECT, "to_onprem", NAMES, True, fakes.deadline())
    assert caught.value.details["refusals"] == [
        "VM V2A-W2K16-201: Name the process server to use (process_server): none of its process servers is healthy "
        "(it reports none)."]


def test_the_60_disk_budget_counts_the_disks_of_the_get():
    # V2A-PS-200 holds 59 disks; the VM has 2 (its GET), 0 in the sparse list
    _client, vault = forward_vault(mt_disks=59)
    names = dict(NAMES, master_target=None)
    with pytest.raises(AzureError) as caught:
        reprotect.ensure(None, vault, SELECT, "to_onprem", names, True, fakes.deadline(), now=FABRIC_READ)
    assert caught.value.details["refusals"][0].startswith(
        "No master target can take VM V2A-W2K16-201: it needs a windows master target whose host reaches datastore1 "
        "with room for 2 more disk(s)")
    # within budget, placement chooses the master target whose host reaches the VM's datastore
    _client, vault = forward_vault(mt_disks=58)
    outcome = reprotect.ensure(None, vault, SELECT, "to_onprem", names, True, fakes.deadline(), now=FABRIC_READ)
    assert outcome["vms"][0]["master_target"] == "V2A-PS-200"


def test_placement_skips_master_targets_whose_agents_stopped_reporting_and_says_why():
    # the recorded master targets read years after their last heartbeat: neither is chosen, each named with why
    _client, vault = forward_vault(mt_disks=0)
    names = dict(NAMES, master_target=None)
    later = FABRIC_READ + datetime.timedelta(hours=5)
    with pytest.raises(AzureError) as caught:
        reprotect.ensure(None, vault, SELECT, "to_onprem", names, True, fakes.deadline(), now=later)
    refusal = caught.value.details["refusals"][0]
    assert refusal.startswith("No master target can take VM V2A-W2K16-201")
    assert "V2A-PS-200 Windows, 0/60 disks, reaches datastore1, DS-77, skipped: Master target V2A-PS-200 last sent a " \
           "heartbeat to Site Recovery" in refusal and "(the limit is 1800 s): its agent is not reporting." in refusal


# ---------------------------------------------------------------------------------------- every recorded item
# GET (or the list entry of the running job), its fabric, the stage, and the severity of the failback_stage and
# recovery_point findings (None: no finding) - from the README's stage table and docs/readiness.md
EVERY = [
    ("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection", "fabrics_list.V2ATestFailback",
     "running_in_azure", None, "warning"),
    ("item_get.InMage.replicating_to_onprem.V2ATestFailback", "fabrics_list.V2ATestFailback",
     "replicating_to_onprem", None, None),
    ("item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect", "fabrics_list.V2ATestFailback",
     "failback_committed", "warning", None),
    # never failed over: nothing to fail back (a warning; every step skips it)
    ("item_get.InMageRcm.Protected.TestV2ARCMRecoveryPlan", "fabric_get.InMageRcm.TestV2ARCMFailback",
     "protected_to_azure", "warning", None),
    ("item_get.InMageRcm.UnplannedFailoverCommitPendingStatesBegin.TestV2ARCMCommit",
     "fabric_get.InMageRcm.TestV2ARCMFailback", "failed_over_to_azure", "blocker", None),
    ("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect", "fabric_get.InMageRcm.TestV2ARCMFailback",
     "running_in_azure", None, None),
    ("item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback", "fabric_get.InMageRcm.TestV2ARCMFailback",
     "replicating_to_onprem", None, None),
    ("item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect",
     "fabric_get.InMageRcm.TestV2ARCMFailback", "failed_back", "warning", None),
    ("items_list_entry.InMageRcm.UnprotectedStatesBegin_job_running.TestV2ARCMTestFailover",
     "fabric_get.InMageRcm.TestV2ARCMFailback", "job_running", "warning", None),
]


@pytest.mark.parametrize("row", EVERY, ids=[r[0].split(".", 2)[-1] for r in EVERY])
def test_readiness_of_every_recorded_item(row):
    item_file, fabric_file, stage, stage_finding, point_finding = row
    model = rec.one("item", item_file)
    client = fakes.FakeSiteRecovery(items=[model], fabrics=rec.models_of("fabric", fabric_file))
    friendly = model.properties.friendly_name
    result = readiness(fakes.vault(client), vms=[friendly])
    assert [v["stage"] for v in result["verdicts"]] == [stage]
    assert [f["severity"] for f in findings(result, friendly, "failback_stage")] == ([stage_finding] if stage_finding else [])
    assert [f["severity"] for f in findings(result, friendly, "recovery_point")] == ([point_finding] if point_finding else [])
    assert findings(result, friendly, "app_consistent_point_age") == []
    assert "item/" + model.name in client.reads


@pytest.mark.parametrize("name, expected", [
    # azureVMDiskDetails carries the names; the recorded protectedManagedDisks carry none
    ("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection",
     ["PHYSICALDRIVE1-V2A_W2K16_201", "PHYSICALDRIVE0-V2A_W2K16_201"]),
    # InMageRcm: the last segment of each protectedDisks[].targetManagedDiskId
    ("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect",
     ["PHYSICALDRIVE1-Rcm_W2K19_152", "PHYSICALDRIVE0-Rcm_W2K19_152"]),
])
def test_azure_disk_names_come_from_where_the_service_puts_them(name, expected):
    model = rec.one("item", name)
    assert asr_items.azure_disk_names(model.properties.provider_specific_details) == expected
    assert asr_items.normalize(model)["azure_vm"]["disk_names"] == expected


# -- what ASR reports about the source machine (items.source_facts), per provider, as recorded -----------------

@pytest.mark.parametrize("name, expected", [
    ("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection",
     {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
      "os_name": "Microsoft Windows Server 2016 Datacenter", "networks": None}),
    ("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect",
     {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
      "os_name": "Microsoft Windows Server 2016 or later (64-bit)", "networks": ["VM Network"]}),
    ("item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback",
     {"firmware_type": None, "azure_vm_generation": None, "os_type": "Windows",
      "os_name": "Microsoft Windows Server 2016 or later (64-bit)", "networks": [None]}),
    # the classic failback item: no firmware, no OS name, and vMNetworkName is the guest's adapter, not a network
    ("item_get.InMage.replicating_to_onprem.V2ATestFailback",
     {"firmware_type": None, "azure_vm_generation": None, "os_type": "Windows", "os_name": None, "networks": None}),
])
def test_source_facts_are_read_where_each_provider_puts_them(name, expected):
    assert asr_items.normalize(rec.one("item", name))["source"] == expected
