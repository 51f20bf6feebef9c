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


def _names(objects, attr):
    return ", ".join(sorted(str(getattr(o, attr, None)) for o in objects or [])) or "none"


def master_target(details, name):
    for mt in details.master_target_servers or []:
        if _same(name, mt.name, mt.id):
            return mt
    raise AzureError("Master target %s is not registered with the configuration server (registered: %s)."
                     % (name, _names(details.master_target_servers, "name")), rule="master_target_unknown")


# A process server that cannot move data: its health (Critical, or the Error the 2017 fabric shows) or its service
# says so. Warning is tolerated (a load warning does not stop replication), and heartbeat ages are not used here:
# healthy ones are 8 to 13 minutes old when read (tests/recorded/asr, fact 17).
UNHEALTHY = ("critical", "error")


def _same(name, *values):
    """ASR names and ids compared as Azure does, without regard to case."""
    return (name or "").lower() in {(v or "").lower() for v in values}


def _ps_problem(ps):
    """Why a process server cannot serve, or None: its health (Critical/Error) or a service not Running."""
    health = plain(ps.health)
    status = plain(ps.ps_service_status)
    if str(health or "").lower() in UNHEALTHY:
        return "health %s" % health
    if status is not None and str(status).lower() != "running":
        return "service %s" % status
    return None


def process_server(details, name=None, own=None):
    """``(process server, why it was chosen)``: the one called ``name`` (friendly name or id); without a name, the
    only healthy one - the configuration server's own (``own``, its friendly name) included, which is what the
    recorded reprotect to on-premises used (lro_202.reProtect.to_onprem.InMage...); when several are healthy, the
    only one that is not the configuration server's own. Refuses naming every candidate and why otherwise."""
    servers = list(details.process_servers or [])
    if name:
        for ps in servers:
            if _same(name, ps.friendly_name, ps.id):
                return ps, "named"
        raise AzureError("Process server %s is not registered (registered: %s)." % (name, _names(servers, "friendly_name")),
                         rule="process_server_unknown")
    healthy = [ps for ps in servers if _ps_problem(ps) is None]
    sick = "; ".join("%s: %s" % (ps.friendly_name, _ps_problem(ps)) for ps in servers if _ps_problem(ps))
    if len(healthy) == 1:
        ps = healthy[0]
        mine = " (the configuration server's own)" if _same(own, ps.friendly_name) else ""
        return ps, "the only healthy process server%s%s" % (mine, " (not healthy: %s)" % sick if sick else "")
    others = [ps for ps in healthy if not _same(own, ps.friendly_name)]
    if len(others) == 1:
        return others[0], ("the only healthy process server besides configuration server %s's own, which stays with "
                           "replication to Azure (healthy: %s)" % (own, _names(healthy, "friendly_name")))
    if not healthy:
        why = "none of its process servers is healthy (%s)" % (sick or "it reports none")
    else:
        why = "%d process servers are healthy (%s): besides configuration server %s's own, %s remain, so the choice is " \
              "yours" % (len(healthy), _names(healthy, "friendly_name"), own, _names(others, "friendly_name"))
    raise AzureError("Name the process server to use (process_server): %s." % why,
                     rule="process_server_ambiguous" if healthy else "process_server_unhealthy")


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


def datastore(mt, name, vm):
    """The datastore ``name`` as master target ``mt`` reports it; raises on rules ``datastore_reachable`` and
    ``datastore_type`` (``domain.rules``)."""
    stores = list(mt.data_stores or [])
    found = next((ds for ds in stores if ds.symbolic_name == name), None)
    where = "the ESXi host of master target %s" % mt.name
    broken = (rules.datastore_reach(vm, [name], [ds.symbolic_name for ds in stores], where) if found is None
              else rules.datastore_kind(vm, name, plain(found.type)))
    if broken:
        raise AzureError(broken.sentence(), rule=broken.rule)
    return found


def run_as_account(details, name=None):
    accounts = list(details.run_as_accounts or [])
    if name is None:
        return accounts[0] if accounts else None
    for account in accounts:
        if _same(name, account.account_name, account.account_id):
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
