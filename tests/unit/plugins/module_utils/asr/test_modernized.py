# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from azure.mgmt.recoveryservicessiterecovery import models

from ansible_collections.siterecovery.failback.plugins.module_utils.asr.providers import modernized
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import readiness, readiness_modern


def details():
    return models.InMageRcmFabricSpecificDetails({"instanceType": "InMageRcm", "reprotectAgents": [
        {"id": "a1", "name": "app-a", "health": "Normal", "accessibleDatastores": ["vmfs-01"], "protectedItemCount": 9},
        {"id": "a2", "name": "app-b", "health": "Normal", "accessibleDatastores": ["vmfs-01", "vmfs-02"],
         "protectedItemCount": 3},
        {"id": "a3", "name": "app-c", "health": "Critical", "accessibleDatastores": ["vmfs-03"], "protectedItemCount": 0},
    ]})


def test_appliance_choice_is_healthy_reaching_and_least_loaded():
    assert modernized.appliance(details(), datastore="vmfs-01").name == "app-b"
    assert modernized.appliance(details(), name="app-a").id == "a1"
    with pytest.raises(AzureError, match="No healthy replication appliance reaches datastore vmfs-03"):
        modernized.appliance(details(), datastore="vmfs-03")
    with pytest.raises(AzureError, match="datastore vmfs-02 is not mounted on the ESXi host of replication appliance app-a"):
        modernized.check_datastore(modernized.appliance(details(), name="app-a"), "vmfs-02", "vm1")


def test_request_bodies_deserialize_into_the_sdk_inputs():
    agent = modernized.appliance(details(), name="app-b")
    body = modernized.reprotect_to_onprem(agent, "vmfs-02", "/subscriptions/s/.../storageAccounts/log", "pol")
    parsed = models.ReverseReplicationInput(body)
    assert isinstance(parsed.properties.provider_specific_details, models.InMageRcmReprotectInput)
    assert parsed.properties.provider_specific_details.reprotect_agent_id == "a2"
    failover = models.PlannedFailoverInput(modernized.planned_failover("latest_app_consistent"))
    assert failover.properties.provider_specific_details.recovery_point_type == "ApplicationConsistent"
    plan = models.RecoveryPlanPlannedFailoverInput(modernized.plan_planned_failover("latest_processed"))
    assert plan.properties.provider_specific_details[0].recovery_point_type == "CrashConsistent"
    back = models.ReverseReplicationInput(modernized.reprotect_to_azure("ps1", "pol2"))
    assert isinstance(back.properties.provider_specific_details, models.InMageRcmFailbackReprotectInput)
    with pytest.raises(AzureError, match="latest_processed or latest_app_consistent"):
        modernized.planned_failover("some-point-id")


def vm(name, provider="InMageRcm", disks=2, stage_ops=("ReverseReplicate",)):
    return {"name": name, "missing": None, "appliance": None,
            "item": {"name": name, "provider": provider, "disk_count": disks, "protection_state": "UnplannedFailoverCommitted",
                     "allowed_operations": list(stage_ops), "current_scenario": "None", "failback_stage": "running_in_azure"}}


def run(vms, appliances, **ctx):
    base = {"location": "original", "datastore": "vmfs-01", "log_storage_account_id": "/sa/log", "vms": vms,
            "appliances": appliances,
            "vsphere": {"connected": False}, "heartbeat_max_age_seconds": 900}
    base.update(ctx)
    return readiness.evaluate(base)["findings"]


def rules_of(findings, name):
    return sorted(f["rule"] for f in findings if f["vm"] == name)


def test_modernized_items_get_appliance_rules_not_master_target_rules():
    healthy = [{"name": "app-b", "health": "Normal", "heartbeat_age_seconds": 900, "accessible_datastores": ["vmfs-01"]}]
    findings = run([vm("app01")], healthy)
    appliance_rules = [r for r in rules_of(findings, "app01") if r in readiness_modern.RULE_IDS]
    assert appliance_rules == ["modernized_guest_changes"]  # a warning only
    assert not [f for f in findings if f["rule"].startswith(("mt_", "cs_", "master_target"))]
    assert readiness_modern.RULE_IDS[0] == "appliance_available"


def test_unhealthy_or_unreaching_appliances_block():
    late = [{"name": "app-b", "health": "Normal", "heartbeat_age_seconds": 901, "accessible_datastores": ["vmfs-01"]}]
    assert "appliance_health" in rules_of(run([vm("app01")], late), "app01")
    far = [{"name": "app-b", "health": "Normal", "heartbeat_age_seconds": 10, "accessible_datastores": ["vmfs-02"]}]
    assert "appliance_datastore" in rules_of(run([vm("app01")], far), "app01")
    assert "appliance_available" in rules_of(run([vm("app01")], []), "app01")


def test_sixty_disks_per_appliance_is_the_edge():
    one = [{"name": "a", "health": "Normal", "heartbeat_age_seconds": 1, "accessible_datastores": ["vmfs-01"]}]
    assert "appliance_disk_limit" not in rules_of(run([vm("a%d" % i, disks=6) for i in range(10)], one), "a0")
    assert "appliance_disk_limit" in rules_of(run([vm("a%d" % i, disks=6) for i in range(10)] + [vm("z", disks=1)], one),
                                              "a0")


# ---------------------------------------------------------------------------------------------------------------
# The two replication appliances of the recorded modernized vault (fabric_get.InMageRcm.TestV2ARCMFailback.json):
# both Normal, protectedItemCount null, sharing three datastores and each reaching one of its own.
RCM_APP_150 = "7d30ec24-f20e-4c17-8dfd-d7ccb444b072"
RCM_APP_151 = "c145803b-80bc-4a11-b8ae-d2a4d150700e"


def recorded_details(reverse=False):
    recorded = [
        {"id": RCM_APP_150, "name": "Rcm-App-150", "health": "Normal", "protectedItemCount": None,
         "accessibleDatastores": ["datastore-85", "SharedDS-84-85", "DS-84-85", "DS-5TB-84-85"]},
        {"id": RCM_APP_151, "name": "Rcm-App-151", "health": "Normal", "protectedItemCount": None,
         "accessibleDatastores": ["datastore-84", "SharedDS-84-85", "DS-84-85", "DS-5TB-84-85"]},
    ]
    return models.InMageRcmFabricSpecificDetails({"instanceType": "InMageRcm",
                                                  "reprotectAgents": recorded[::-1] if reverse else recorded})


def agents(*rows):
    return models.InMageRcmFabricSpecificDetails({"instanceType": "InMageRcm", "reprotectAgents": [
        dict(zip(("id", "name", "health", "accessibleDatastores", "protectedItemCount"), row, strict=True))
        for row in rows]})


def test_recorded_appliances_the_only_one_reaching_the_datastore_is_chosen():
    assert modernized.appliance(recorded_details(), datastore="datastore-84").id == RCM_APP_151
    assert modernized.appliance(recorded_details(), datastore="datastore-85").id == RCM_APP_150


def test_recorded_appliances_without_item_counts_are_tied_and_chosen_by_name():
    # ASR reports protectedItemCount null: counted as 0, so the name decides, whatever the list order
    assert modernized.appliance(recorded_details(), datastore="SharedDS-84-85").name == "Rcm-App-150"
    assert modernized.appliance(recorded_details(reverse=True), datastore="SharedDS-84-85").name == "Rcm-App-150"


def test_without_a_datastore_any_healthy_appliance_will_do():
    assert modernized.appliance(recorded_details()).name == "Rcm-App-150"
    assert modernized.appliance(agents(("x", "app-x", "Normal", None, 0))).name == "app-x"


def test_a_named_appliance_is_found_by_name_or_by_id():
    assert modernized.appliance(recorded_details(), name="Rcm-App-151").id == RCM_APP_151
    assert modernized.appliance(recorded_details(), name=RCM_APP_151).name == "Rcm-App-151"
    # a named appliance is held to the preflight's rules too (domain.rules.choose_appliance): healthy, and reaching
    # the datastore (ASR's reprotect through a Critical appliance, or to a datastore it does not reach, fails)
    critical = agents(("c", "app-c", "Critical", [], 0))
    with pytest.raises(AzureError) as info:
        modernized.appliance(critical, name="app-c", datastore="vmfs-09", vm="vm1")
    assert info.value.details["rule"] == "appliance_health"
    assert info.value.msg.startswith("No healthy replication appliance for vm1: app-c is Critical.")
    with pytest.raises(AzureError) as info:
        modernized.appliance(recorded_details(), name="Rcm-App-150", datastore="datastore-84", vm="vm1")
    assert info.value.details["rule"] == "datastore_reachable"
    assert info.value.msg.startswith("VM vm1: datastore datastore-84 is not mounted on the ESXi host of replication "
                                     "appliance Rcm-App-150")


def test_an_unknown_appliance_name_is_refused_listing_the_registered_ones():
    with pytest.raises(AzureError) as info:
        modernized.appliance(recorded_details(), name="Rcm-App-152")
    assert info.value.details["rule"] == "appliance_available"
    assert "Replication appliance Rcm-App-152 is not registered" in info.value.msg
    assert "(appliances: Rcm-App-150, Rcm-App-151)" in info.value.msg
    with pytest.raises(AzureError, match=r"\(appliances: none\)"):
        modernized.appliance(agents(), name="Rcm-App-150")


def test_only_normal_or_unreported_health_counts_as_healthy():
    # ProtectionHealth is None | Normal | Warning | Critical (asr-api.md 3.1); Warning and Critical are skipped
    # even when they carry fewer items
    rows = [("w", "app-w", "Warning", ["vmfs-01"], 0), ("c", "app-c", "Critical", ["vmfs-01"], 0),
            ("n", "app-n", "Normal", ["vmfs-01"], 7)]
    assert modernized.appliance(agents(*rows), datastore="vmfs-01").id == "n"
    assert modernized.appliance(agents(("s", "app-s", "None", ["vmfs-01"], 1), rows[2]), datastore="vmfs-01").id == "s"
    assert modernized.appliance(agents(("u", "app-u", None, ["vmfs-01"], 1), rows[2]), datastore="vmfs-01").id == "u"


def test_the_least_loaded_appliance_wins_over_the_name():
    rows = [("a", "app-a", "Normal", ["vmfs-01"], 2), ("b", "app-b", "Normal", ["vmfs-01"], 1)]
    assert modernized.appliance(agents(*rows), datastore="vmfs-01").id == "b"


def test_an_unreported_item_count_weighs_as_no_items():
    # null (as recorded) is 0: lighter than one item, tied with zero items (then the name decides)
    unknown = ("z", "app-z", "Normal", ["vmfs-01"], None)
    assert modernized.appliance(agents(("a", "app-a", "Normal", ["vmfs-01"], 1), unknown)).id == "z"
    assert modernized.appliance(agents(("a", "app-a", "Normal", ["vmfs-01"], 0), unknown)).id == "a"


def test_no_reaching_appliance_is_refused_with_what_each_one_reaches():
    rows = [("w", "app-w", "Warning", ["vmfs-01"], 0), ("c", "app-c", "Critical", None, 0)]
    with pytest.raises(AzureError) as info:
        modernized.appliance(agents(*rows), datastore="vmfs-01")
    assert info.value.details["rule"] == "appliance_health"  # none is healthy: that is what is named
    assert "No healthy replication appliance: app-w is Warning; app-c is Critical." in info.value.msg
    rows[0] = ("w", "app-w", "Normal", ["vmfs-02"], 0)
    with pytest.raises(AzureError) as info:
        modernized.appliance(agents(*rows), datastore="vmfs-01")
    assert info.value.details["rule"] == "appliance_datastore"
    assert "reaches datastore vmfs-01 (appliances: app-w Normal reaches vmfs-02; app-c Critical reaches nothing)" in \
        info.value.msg
    with pytest.raises(AzureError, match=r"No replication appliance is registered in the vault"):
        modernized.appliance(agents(), datastore="vmfs-01")


def test_check_datastore_passes_a_reachable_datastore_and_names_what_is_reachable_otherwise():
    agent = modernized.appliance(recorded_details(), name="Rcm-App-150")
    assert modernized.check_datastore(agent, "DS-84-85", "vm1") is None
    with pytest.raises(AzureError) as info:
        modernized.check_datastore(agent, "datastore-84", "vm1")
    assert info.value.details["rule"] == "datastore_reachable"
    assert "(ASR error 8061; it mounts datastore-85, SharedDS-84-85, DS-84-85, DS-5TB-84-85)" in info.value.msg
    lonely = modernized.appliance(agents(("l", "app-l", "Normal", None, 0)), name="app-l")
    with pytest.raises(AzureError, match=r"vmfs-01 is not mounted on the ESXi host of replication appliance app-l "
                                         r"\(ASR error 8061; it mounts nothing\)"):
        modernized.check_datastore(lonely, "vmfs-01", "vm1")


LOG = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/log"


def test_reprotect_to_onprem_body():
    # InMageRcmReprotectInput: reprotectAgentId (the appliance's id, not its name), datastoreName and
    # logStorageAccountId required, policyId optional; direction RecoveryToPrimary (asr-api.md 2.7)
    agent = modernized.appliance(recorded_details(), name="Rcm-App-151")
    assert modernized.reprotect_to_onprem(agent, "datastore-84", LOG) == {"properties": {
        "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMageRcm", "reprotectAgentId": RCM_APP_151, "datastoreName": "datastore-84",
            "logStorageAccountId": LOG}}}
    with_policy = modernized.reprotect_to_onprem(agent, "datastore-84", LOG, policy_id="pol-failback")
    assert with_policy["properties"]["providerSpecificDetails"]["policyId"] == "pol-failback"


def test_reprotect_to_azure_body():
    # InMageRcmFailbackReprotectInput: processServerId and policyId required, runAsAccountId optional (2.7)
    assert modernized.reprotect_to_azure("ps-1", "pol-forward") == {"properties": {
        "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMageRcmFailback", "processServerId": "ps-1", "policyId": "pol-forward"}}}
    body = modernized.reprotect_to_azure("ps-1", "pol-forward", run_as_account_id="run-as-2")
    assert body["properties"]["providerSpecificDetails"]["runAsAccountId"] == "run-as-2"
    parsed = models.ReverseReplicationInput(body).properties.provider_specific_details
    assert parsed.run_as_account_id == "run-as-2"


def test_planned_failover_body_is_the_recorded_one():
    # lro_202.plannedFailover.modernized.TestV2ARCMFailback.json: the request PowerShell sent
    assert modernized.planned_failover("latest_app_consistent") == {"properties": {"providerSpecificDetails": {
        "instanceType": "InMageRcmFailback", "recoveryPointType": "ApplicationConsistent"}}}
    # the latest processed point is the crash-consistent one (asr-api.md 2.7)
    assert modernized.planned_failover("latest_processed")["properties"]["providerSpecificDetails"][
        "recoveryPointType"] == "CrashConsistent"


def test_plan_planned_failover_body():
    # a plan keeps its orientation (RecoveryToPrimary) and lists one input per provider (asr-api.md 2.3, 2.7)
    assert modernized.plan_planned_failover("latest_app_consistent") == {"properties": {
        "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": [
            {"instanceType": "InMageRcmFailback", "recoveryPointType": "ApplicationConsistent"}]}}


@pytest.mark.parametrize("point", ["latest", "latest_tag", "/subscriptions/s/.../recoveryPoints/rp1", None])
def test_a_custom_or_classic_point_is_refused_for_the_modernized_failback(point):
    with pytest.raises(AzureError) as info:
        modernized.planned_failover(point)
    assert info.value.details["rule"] == "modernized_custom_point"
    with pytest.raises(AzureError, match="latest_processed or latest_app_consistent"):
        modernized.plan_planned_failover(point)
