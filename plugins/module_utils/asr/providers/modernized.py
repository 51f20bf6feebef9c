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
HEALTHY = ("Normal", "None", None)


def _names(objects, attr="name"):
    return ", ".join(sorted(str(getattr(o, attr, None)) for o in objects or [])) or "none"


def appliance(details, name=None, datastore=None):
    """The reprotect agent (replication appliance) called ``name``; without a name, the healthy one that
    reaches ``datastore`` with the fewest protected items."""
    agents = list(details.reprotect_agents or [])
    if name:
        for agent in agents:
            if name.lower() in ((agent.name or "").lower(), (agent.id or "").lower()):
                return agent
        raise AzureError("Replication appliance %s is not registered in the vault (appliances: %s)." % (
            name, _names(agents)), rule="appliance_unknown")
    fits = [a for a in agents if plain(a.health) in HEALTHY
            and (not datastore or datastore in (a.accessible_datastores or []))]
    if not fits:
        raise AzureError("No healthy replication appliance reaches datastore %s (appliances: %s)." % (
            datastore, "; ".join("%s %s reaches %s" % (a.name, plain(a.health),
                                                       ", ".join(a.accessible_datastores or []) or "nothing")
                                 for a in agents) or "none"), rule="appliance_none")
    return min(fits, key=lambda a: (a.protected_item_count or 0, a.name))


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
