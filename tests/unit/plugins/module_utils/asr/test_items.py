# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.items: normalize SDK models built from REST bodies (asr-api.md section 3), select, plan members."""

import pytest
from azure.mgmt.recoveryservicessiterecovery.models import RecoveryPlan, ReplicationProtectedItem

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

SUB = "/subscriptions/00000000-0000-4000-8000-000000000003"
VAULT = SUB + "/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-dr"
CONTAINER = VAULT + "/replicationFabrics/fab1/replicationProtectionContainers/cloud_1"
VM_ID = SUB + "/resourceGroups/rg-recovery/providers/Microsoft.Compute/virtualMachines/app01"


def body(name, friendly, details, **props):
    base = {"friendlyName": friendly, "protectionState": "UnplannedFailoverCommitted",
            "protectionStateDescription": "Failover committed", "activeLocation": "Recovery",
            "allowedOperations": ["ReverseReplicate", "DisableProtection"], "replicationHealth": "Normal",
            "failoverHealth": "Warning", "policyId": VAULT + "/replicationPolicies/policy-24h",
            "currentScenario": {"scenarioName": "None", "jobId": VAULT + "/replicationJobs/None",
                                "startTime": "1753-01-01T01:01:01Z"},
            "healthErrors": [{"errorCode": "161011", "errorType": "8010", "errorLevel": "Warning",
                              "errorCategory": "TestFailover", "summaryMessage": "No test failover yet",
                              "errorMessage": "long text", "recommendedAction": "Run a test failover"}],
            "providerSpecificDetails": details}
    base.update(props)
    return ReplicationProtectedItem({"id": "%s/replicationProtectedItems/%s" % (CONTAINER, name), "name": name,
                                     "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/"
                                             "replicationProtectionContainers/replicationProtectedItems",
                                     "properties": base})


def forward(name="item-app01", friendly="app01", group=None, **props):
    return body(name, friendly, {
        "instanceType": "InMageAzureV2", "infrastructureVmId": "infra-1", "vCenterInfrastructureId": "9",
        "vmId": "vm-guid-1", "osType": "Windows", "discoveryType": "vCenter", "datastores": ["vmfs-01"],
        "processServerId": "PS-1", "masterTargetId": "PS-1", "multiVmGroupId": "grp-guid",
        "multiVmGroupName": group or "grp-guid", "targetVmId": VM_ID,
        "recoveryAzureResourceGroupId": SUB + "/resourceGroups/rg-recovery", "recoveryAzureVMName": "app01",
        "protectedManagedDisks": [{"diskId": "d0", "targetDiskName": "app01-osdisk"},
                                  {"diskId": "d1", "targetDiskName": "app01-datadisk-0"}]}, **props)


def failback(name="item-web01", friendly="web01", **props):
    return body(name, friendly, {
        "instanceType": "InMage", "activeSiteType": "Azure", "vmId": "vm-guid-2", "infrastructureVmId": "infra-2",
        "vCenterInfrastructureId": "9", "discoveryType": "vCenter", "datastores": ["vmfs-01"],
        "processServerId": "PS-AZ", "masterTargetId": None, "multiVmGroupId": "g2", "multiVmGroupName": "g2",
        "osDetails": {"osType": "Linux"}}, **dict({"protectionState": "Protected", "protectionStateDescription": "Protected",
                                                   "activeLocation": "Primary",
                                                   "allowedOperations": ["UnplannedFailover", "DisableProtection"]}, **props))


def test_normalize_forward_item_running_in_azure():
    result = items.normalize(forward())
    assert result["name"] == "app01" and result["item_name"] == "item-app01"
    assert result["id"].endswith("/replicationProtectedItems/item-app01")
    assert result["provider"] == "InMageAzureV2"
    assert (result["protection_state"], result["protection_state_description"], result["active_location"]) == (
        "UnplannedFailoverCommitted", "Failover committed", "Recovery")
    assert result["allowed_operations"] == ["ReverseReplicate", "DisableProtection"]
    assert (result["replication_health"], result["failover_health"]) == ("Normal", "Warning")
    assert result["health_errors"] == [{"code": "161011", "level": "Warning", "category": "TestFailover",
                                        "message": "No test failover yet", "recommended_action": "Run a test failover"}]
    assert result["current_scenario"] == "None" and result["current_job"] is None
    assert result["policy_id"].endswith("/policy-24h")
    assert result["last_successful_failover_time"] is None and result["failover_recovery_point_id"] is None
    assert result["replication_group"] is None and result["replication_group_id"] == "grp-guid"
    assert (result["os_type"], result["discovery_type"]) == ("Windows", "vCenter")
    assert result["azure_vm"] == {"id": VM_ID, "resource_group": "rg-recovery", "name": "app01",
                                  "disk_names": ["app01-osdisk", "app01-datadisk-0"]}
    assert result["onprem"] == {"infrastructure_vm_id": "infra-1", "vm_id": "vm-guid-1", "vcenter_infrastructure_id": "9",
                                "instance_uuid": None,  # a classic item names no instance UUID
                                "datastores": ["vmfs-01"], "master_target_id": "PS-1", "process_server_id": "PS-1"}
    assert result["failed_back_before"] is False
    assert result["failback_stage"] == "running_in_azure"
    assert result["next_step"] == "reprotect to on-premises"


def test_normalize_failback_item_has_no_azure_vm_and_reads_os_details():
    result = items.normalize(failback())
    assert result["provider"] == "InMage"
    assert result["os_type"] == "Linux"
    assert result["azure_vm"] is None
    assert result["onprem"]["master_target_id"] is None and result["onprem"]["process_server_id"] == "PS-AZ"
    assert result["failback_stage"] == "replicating_to_onprem"


def test_normalize_user_replication_group_and_running_job():
    model = forward(group="rg-app", currentScenario={"scenarioName": "UnplannedFailover",
                                                     "jobId": VAULT + "/replicationJobs/job-42",
                                                     "startTime": "2026-11-26T08:00:00Z"}, allowedOperations=[])
    result = items.normalize(model)
    assert result["replication_group"] == "rg-app"
    assert (result["current_scenario"], result["current_job"]) == ("UnplannedFailover", "job-42")
    assert result["failback_stage"] == "job_running"
    # updated: a reprotect running on a forward item active in Azure goes to on-premises (it was job_running)
    model = forward(currentScenario={"scenarioName": "Reprotect", "jobId": VAULT + "/replicationJobs/job-42",
                                     "startTime": "2026-11-26T08:00:00Z"}, allowedOperations=[])
    assert items.normalize(model)["failback_stage"] == "reprotecting_to_onprem"


def test_normalize_failed_back_before_and_times():
    model = forward(protectionState="Protected", activeLocation="Primary", allowedOperations=["UnplannedFailover"],
                    lastSuccessfulFailoverTime="2026-11-20T10:00:00Z", failoverRecoveryPointId="rp-1")
    result = items.normalize(model)
    assert result["last_successful_failover_time"].startswith("2026-11-20T10:00:00")
    assert result["failover_recovery_point_id"] == "rp-1"
    assert result["failed_back_before"] is True
    assert result["failback_stage"] == "reprotected_to_azure"


def test_azure_vm_before_failover_comes_from_the_recovery_settings():
    # targetVmId ends in an empty name before failover (asr-api.md 3.3)
    model = forward(protectionState="Protected", activeLocation="Primary", allowedOperations=["UnplannedFailover"])
    model.properties.provider_specific_details["targetVmId"] = SUB + "/resourceGroups/rg-recovery/providers/" \
                                                                     "Microsoft.Compute/virtualMachines/"
    result = items.normalize(model)
    assert result["azure_vm"]["id"] is None
    assert (result["azure_vm"]["resource_group"], result["azure_vm"]["name"]) == ("rg-recovery", "app01")


def test_normalize_migration_completed():
    model = forward(protectionState="MigrationCompleted", allowedOperations=[])
    assert items.normalize(model)["failback_stage"] == "migration_completed"


class FakeVault:
    resource_group = "rg-dr"
    name = "vault-dr"

    def __init__(self, models, plans=()):
        self._items = models
        self._plans = list(plans)

    def items(self):
        return self._items

    def read_items(self, listed):
        return list(listed)

    def plan(self, name):
        for plan in self._plans:
            if plan.name == name:
                return plan
        raise AzureError("Recovery plan %s was not found" % name)


def plan(name, *groups):
    return RecoveryPlan({"id": VAULT + "/replicationRecoveryPlans/" + name, "name": name, "properties": {
        "friendlyName": name, "groups": [{"groupType": "Shutdown", "replicationProtectedItems": []},
                                         {"groupType": "Failover", "replicationProtectedItems": []}] + [
            {"groupType": "Boot", "replicationProtectedItems": [{"id": m.id} for m in group]} for group in groups]}})


def test_select_by_vm_item_and_plan_in_order_without_duplicates():
    app01, web01, db01 = forward(), failback(), forward("item-db01", "db01", group="rg-app")
    vault = FakeVault([app01, web01, db01], [plan("rp", [db01], [app01])])
    chosen = items.select(vault, vms=["web01"], item_names=["item-app01"], plan="rp")
    assert [n["name"] for _m, n in chosen] == ["web01", "app01", "db01"]
    assert items.plan_members(vault.plan("rp")) == [(db01.id, 1), (app01.id, 2)]


def test_select_names_what_is_missing():
    vault = FakeVault([forward(), forward("item-app01b", "app01")])
    with pytest.raises(AzureError) as caught:
        items.select(vault, vms=["app01", "ghost"], item_names=["nope"])
    message = str(caught.value)
    assert "VM ghost has no protected item" in message
    assert "matches 2 protected items" in message
    assert "Protected item nope was not found" in message
    with pytest.raises(AzureError, match="Recovery plan missing"):
        items.select(vault, plan="missing")
