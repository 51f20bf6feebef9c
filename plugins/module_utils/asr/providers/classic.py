# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The classic flow's request bodies (InMageAzureV2 forward, InMage failback), built from names.

Pure functions over the VMware fabric's details (SDK models read as attributes), unit-tested.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import rules

TEMPORARY_STORAGE = {"volumeOptions": [{"volumeLabel": "Temporary Storage", "onlyExcludeIfSingleVolume": "Yes"}]}


def _entries(objects, **attributes):
    """SDK models as the plain dicts ``domain.rules`` takes: ``{key: the model's attribute}`` for each of
    ``attributes``, plus the model itself under ``model``."""
    return [dict({key: plain(getattr(o, attr, None)) for key, attr in attributes.items()}, model=o) for o in objects or []]


def _refuse(broken):
    raise AzureError(broken.sentence(), rule=broken.rule)


def master_target(details, name):
    """The master target called ``name`` (name or id, any case); refuses by rule ``master_target_available``
    (``domain.rules.find_master_target``, the preflight's rule too)."""
    found, broken = rules.find_master_target(name, _entries(details.master_target_servers, name="name", id="id"))
    if broken:
        _refuse(broken)
    return found["model"]


def process_server(details, name=None, own=None, vm=None):
    """``(process server, why it was chosen)`` by rule ``process_server`` (``domain.rules.choose_process_server``,
    the preflight's rule too): the one called ``name``, else the only healthy one, else the only healthy one that is
    not configuration server ``own``'s; refuses naming every candidate and why. ``vm`` starts the refusal."""
    found, why, broken = rules.choose_process_server(_entries(
        details.process_servers, name="friendly_name", id="id", health="health", service_status="ps_service_status"),
        name, own, vm)
    if broken:
        _refuse(broken)
    return found["model"], why


def retention_volume(mt, name=None):
    """Master target ``mt``'s retention volume called ``name``, else the one with the most free space (rule
    ``mt_retention_volume``, ``domain.rules.choose_retention_volume``)."""
    found, broken = rules.choose_retention_volume(mt.name, _entries(
        mt.retention_volumes, name="volume_name", free_bytes="free_space_in_bytes"), name)
    if broken:
        _refuse(broken)
    return found["model"]


def datastore(mt, name, vm):
    """The datastore ``name`` as master target ``mt`` reports it; raises on rules ``datastore_reachable`` and
    ``datastore_type`` (``domain.rules``)."""
    stores = list(mt.data_stores or [])
    found = next((ds for ds in stores if ds.symbolic_name == name), None)
    where = "the ESXi host of master target %s" % mt.name
    broken = (rules.datastore_reach(vm, [name], [ds.symbolic_name for ds in stores], where) if found is None
              else rules.datastore_kind(vm, name, plain(found.type)))
    if broken:
        _refuse(broken)
    return found


def run_as_account(details, name=None):
    """The run-as account called ``name`` (rule ``run_as_account``, ``domain.rules.find_run_as_account``); without a
    name, the configuration server's first one, or None."""
    accounts = list(details.run_as_accounts or [])
    if name is None:
        return accounts[0] if accounts else None
    found, broken = rules.find_run_as_account(name, _entries(accounts, name="account_name", id="account_id"))
    if broken:
        _refuse(broken)
    return found["model"]


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
