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
    with pytest.raises(AzureError, match="cannot reach datastore vmfs-02"):
        modernized.check_datastore(modernized.appliance(details(), name="app-a"), "vmfs-02")


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
    base = {"location": "original", "datastore": "vmfs-01", "vms": vms, "appliances": appliances,
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
