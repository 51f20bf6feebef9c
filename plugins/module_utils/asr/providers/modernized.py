# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modernized flow's request bodies (InMageRcm forward, InMageRcmFailback failback through the
replication appliance), built from names. Pure functions over the InMageRcm fabric's details."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import rules

RECOVERY_POINT_TYPES = {"latest_processed": "CrashConsistent", "latest_app_consistent": "ApplicationConsistent"}


def appliance(details, name=None, datastore=None, vm=None):
    """The reprotect agent (replication appliance) called ``name`` - healthy and reaching ``datastore`` - or, without
    a name, the healthy one that reaches ``datastore`` with the fewest protected items: the rules
    ``appliance_available``, ``appliance_health`` and ``appliance_datastore`` the preflight applies too
    (``domain.rules.choose_appliance``). This step reads no heartbeat age: the preflight judges it. ``vm``: the VM
    the refusal names."""
    agents = [{"name": a.name, "id": a.id, "health": plain(a.health),
               "accessible_datastores": list(a.accessible_datastores or []),
               "protected_item_count": a.protected_item_count, "model": a} for a in details.reprotect_agents or []]
    found, broken = rules.choose_appliance(vm, agents, name, datastore)
    if broken:
        raise AzureError(broken.sentence(), rule=broken.rule)
    return found["model"]


def check_datastore(agent, datastore, vm):
    """Rule ``datastore_reachable`` (``domain.rules``) for the replication appliance ``agent``."""
    broken = rules.datastore_reach(vm, [datastore], agent.accessible_datastores or [],
                                   "the ESXi host of replication appliance %s" % agent.name)
    if broken:
        raise AzureError(broken.sentence(), rule=broken.rule)


def reprotect_to_onprem(agent, datastore_name, log_storage_account_id, policy_id=None):
    """ReverseReplicationInput with InMageRcmReprotectInput (asr-api.md §2.7)."""
    provider = {"instanceType": "InMageRcm", "reprotectAgentId": agent.id, "datastoreName": datastore_name,
                "logStorageAccountId": log_storage_account_id}
    if policy_id:
        provider["policyId"] = policy_id
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": provider}}


def reprotect_to_azure(process_server_id, policy_id, run_as_account_id=None):
    """ReverseReplicationInput with InMageRcmFailbackReprotectInput (§2.7)."""
    provider = {"instanceType": "InMageRcmFailback", "processServerId": process_server_id, "policyId": policy_id}
    if run_as_account_id:
        provider["runAsAccountId"] = run_as_account_id
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": provider}}


def _point_type(recovery_point):
    if recovery_point not in RECOVERY_POINT_TYPES:
        raise AzureError("The modernized failback (a planned failover) goes to the latest crash-consistent or "
                         "application-consistent point: use latest_processed or latest_app_consistent.",
                         rule="modernized_custom_point")
    return RECOVERY_POINT_TYPES[recovery_point]


def planned_failover(recovery_point):
    """PlannedFailoverInput for an InMageRcmFailback item: failback is a planned failover."""
    return {"properties": {"providerSpecificDetails": {"instanceType": "InMageRcmFailback",
                                                       "recoveryPointType": _point_type(recovery_point)}}}


def plan_planned_failover(recovery_point):
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": [
        {"instanceType": "InMageRcmFailback", "recoveryPointType": _point_type(recovery_point)}]}}
