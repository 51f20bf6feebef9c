# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The classic flow's request bodies (InMageAzureV2 forward, InMage failback), built from names.

Pure functions over the VMware fabric's details (SDK models read as attributes), unit-tested.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

FAILBACK_DATASTORE_TYPES = ("VMFS", "vsan", "VSAN", "vSAN")
TEMPORARY_STORAGE = {"volumeOptions": [{"volumeLabel": "Temporary Storage", "onlyExcludeIfSingleVolume": "Yes"}]}


def _names(objects, attr):
    return ", ".join(sorted(str(getattr(o, attr, None)) for o in objects or [])) or "none"


def master_target(details, name):
    for mt in details.master_target_servers or []:
        if mt.name == name:
            return mt
    raise AzureError("Master target %s is not registered with the configuration server (registered: %s)."
                     % (name, _names(details.master_target_servers, "name")), rule="master_target_unknown")


def process_server(details, name=None, exclude=None):
    """The process server called ``name``; without a name, the only one that is not ``exclude``
    (the configuration server's own, which serves replication to Azure, not failback)."""
    servers = list(details.process_servers or [])
    if name:
        for ps in servers:
            if ps.friendly_name == name:
                return ps
        raise AzureError("Process server %s is not registered (registered: %s)." % (name, _names(servers, "friendly_name")),
                         rule="process_server_unknown")
    candidates = [ps for ps in servers if ps.friendly_name != exclude]
    if len(candidates) == 1:
        return candidates[0]
    raise AzureError("Name the process server to use (process_server): the vault has %s." % _names(servers, "friendly_name"),
                     rule="process_server_ambiguous")


def retention_volume(mt, name=None):
    volumes = list(mt.retention_volumes or [])
    if name:
        for volume in volumes:
            if volume.volume_name == name:
                return volume
        raise AzureError("Master target %s has no retention volume %s (it has: %s)."
                         % (mt.name, name, _names(volumes, "volume_name")), rule="retention_volume_unknown")
    if not volumes:
        raise AzureError("Master target %s reports no retention volume; it can take 15 minutes to appear after the "
                         "master target is installed." % mt.name, rule="retention_volume_missing")
    return max(volumes, key=lambda v: v.free_space_in_bytes or 0)


def datastore(mt, name):
    for ds in mt.data_stores or []:
        if ds.symbolic_name == name:
            if ds.type not in FAILBACK_DATASTORE_TYPES:
                raise AzureError("Datastore %s is %s; failback writes only to VMFS or vSAN datastores." % (name, ds.type),
                                 rule="datastore_type")
            return ds
    raise AzureError("Datastore %s is not visible to master target %s (its host mounts: %s). Choose a datastore its "
                     "ESXi host mounts, or another master target." % (name, mt.name, _names(mt.data_stores, "symbolic_name")),
                     rule="datastore_unreachable")


def run_as_account(details, name=None):
    accounts = list(details.run_as_accounts or [])
    if name is None:
        return accounts[0] if accounts else None
    for account in accounts:
        if name in (account.account_name, account.account_id):
            return account
    raise AzureError("Run-as account %s is not known to the configuration server (accounts: %s)."
                     % (name, _names(accounts, "account_name")), rule="run_as_account_unknown")


def reprotect_to_onprem(mt, ps, volume, profile_id, datastore_name=None, account=None):
    """ReverseReplicationInput with InMageReprotectInput (asr-api.md §2.1)."""
    provider = {"instanceType": "InMage", "masterTargetId": mt.id, "processServerId": ps.id,
                "retentionDrive": volume.volume_name, "profileId": profile_id,
                "diskExclusionInput": TEMPORARY_STORAGE}
    if datastore_name:
        provider["datastoreName"] = datastore_name
    if account is not None:
        provider["runAsAccountId"] = account.account_id
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": provider}}


def reprotect_to_azure(ps, policy_id, account=None, master_target_id=None):
    """ReverseReplicationInput with InMageAzureV2ReprotectInput (asr-api.md §2.5)."""
    provider = {"instanceType": "InMageAzureV2", "processServerId": ps.id, "masterTargetId": master_target_id or ps.id,
                "policyId": policy_id}
    if account is not None:
        provider["runAsAccountId"] = account.account_id
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": provider}}


RECOVERY_POINT_TYPES = {"latest_processed": "LatestTime", "latest_app_consistent": "LatestTag"}


def failover(active_location, recovery_point, source_site_operations):
    """UnplannedFailoverInput for an InMage item (§2.2): direction from where the item is active."""
    direction = "PrimaryToRecovery" if active_location == "Primary" else "RecoveryToPrimary"
    provider = {"instanceType": "InMage"}
    if recovery_point in RECOVERY_POINT_TYPES:
        provider["recoveryPointType"] = RECOVERY_POINT_TYPES[recovery_point]
    else:
        provider.update(recoveryPointType="Custom", recoveryPointId=recovery_point)
    return {"properties": {"failoverDirection": direction, "sourceSiteOperations": source_site_operations,
                           "providerSpecificDetails": provider}}


def plan_failover(recovery_point, source_site_operations):
    """RecoveryPlanUnplannedFailoverInput for InMage items (§2.3): the plan keeps its orientation."""
    if recovery_point not in RECOVERY_POINT_TYPES:
        raise AzureError("A recovery plan fails over to latest_processed or latest_app_consistent; a custom recovery "
                         "point is not available for plans.", rule="plan_custom_point")
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "sourceSiteOperations": source_site_operations,
                           "providerSpecificDetails": [{"instanceType": "InMage",
                                                        "recoveryPointType": RECOVERY_POINT_TYPES[recovery_point]}]}}
