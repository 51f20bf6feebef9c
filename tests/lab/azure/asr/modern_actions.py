# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""POST actions of the modernized flow (asr-api.md 2.7): input validation, then the job.
actions.py hands these over when ``asr.flow`` is ``modernized``.

Refused synchronously (400): an unknown reprotect agent, a datastore the agent cannot reach,
a missing ``logStorageAccountId``, a policy of the wrong provider, an unplanned failover of an
``InMageRcmFailback`` item or plan (failback is a planned failover), an item-level planned
failover of a member of a user replication group (use its recovery plan)."""

from . import modern
from .actions import _props, bad
from .modern_flows import ModernFlows
from .modern_plans import ModernPlanFlows

POINT_TYPES = ("ApplicationConsistent", "CrashConsistent")
PLAN_POINT_TYPES = POINT_TYPES
SYNC = ("Enable", "Disable")


class ModernActions:
    def __init__(self, actions):
        self.actions = actions
        self.world = actions.world
        self.flows = ModernFlows(actions.flows)
        self.plan_flows = ModernPlanFlows(actions.plan_flows, self.flows)

    # ------------------------------------------------------------------ item reprotect (either direction)
    def reprotect_job(self, found, details):
        if found["stage"] in ("running_in_azure", "failed_over_to_azure"):
            return self.flows.reprotect_to_onprem(found, self._rcm_reprotect(details))
        return self.actions.flows.reprotect_to_azure(found, self._rcm_failback_reprotect(details))

    def _rcm_reprotect(self, details):
        self.actions._expect_instance(details, "InMageRcm", "a reprotect from Azure to on-premises")
        for key in ("reprotectAgentId", "datastoreName", "logStorageAccountId"):
            if not details.get(key):
                raise bad("InMageRcmReprotectInput.%s is required." % key)
        agent = modern.appliance(self.world, details["reprotectAgentId"])
        if agent is None:
            raise bad("The reprotect agent '%s' is not a replication appliance of the vault (known: %s)."
                      % (details["reprotectAgentId"], ", ".join(a["id"] for a in self.world.asr["appliances"]) or "none"))
        if details["datastoreName"] not in agent["accessible_datastores"]:
            raise bad("The datastore '%s' is not accessible from the replication appliance '%s' (accessible: %s)."
                      % (details["datastoreName"], agent["name"], ", ".join(agent["accessible_datastores"]) or "none"))
        if "/providers/microsoft.storage/storageaccounts/" not in details["logStorageAccountId"].lower():
            raise bad("logStorageAccountId '%s' is not the ARM id of a storage account." % details["logStorageAccountId"])
        policy = self.world.policy(details.get("policyId")) if details.get("policyId") else \
            next(p for p in self.world.asr["policies"] if p["provider"] == "InMageRcmFailback")
        if policy is None or policy["provider"] != "InMageRcmFailback":
            raise bad("policyId '%s' is not an InMageRcmFailback replication policy of the vault." % details.get("policyId"))
        return {"appliance": agent, "datastore": details["datastoreName"],
                "log_storage_account_id": details["logStorageAccountId"], "policy": policy}

    def _rcm_failback_reprotect(self, details):
        self.actions._expect_instance(details, "InMageRcmFailback", "a reprotect from on-premises to Azure")
        for key in ("processServerId", "policyId"):
            if not details.get(key):
                raise bad("InMageRcmFailbackReprotectInput.%s is required." % key)
        ids = [a["process_server_id"].lower() for a in self.world.asr["appliances"]]
        if details["processServerId"].lower() not in ids:
            raise bad("The process server '%s' is not a process server of the vault's replication appliances."
                      % details["processServerId"])
        self.actions._check_run_as(details.get("runAsAccountId"))
        policy = self.world.policy(details["policyId"])
        if policy is None or policy["provider"] != "InMageRcm":
            raise bad("policyId '%s' is not an InMageRcm replication policy of the vault." % details["policyId"])
        return {"policy": policy, "process_server_id": details["processServerId"]}

    # ------------------------------------------------------------------ item failovers
    def refuse_unplanned(self, found):
        if self.world.provider(found) == "InMageRcmFailback":
            raise bad("Unplanned failover is not supported for the replication provider 'InMageRcmFailback' of the "
                      "replication protected item '%s': fail back with a planned failover." % found["name"],
                      "OperationNotSupported")

    def forward_failover_params(self, details, props):
        self.actions._expect_instance(details, "InMageRcm", "a failover to Azure")
        shutdown = str(details.get("performShutdown", "")).lower()
        if shutdown not in ("true", "false"):
            raise bad("InMageRcmUnplannedFailoverInput.performShutdown is required: 'true' or 'false'.")
        point = details.get("recoveryPointId")
        return {"source_site_operations": "Required" if shutdown == "true" else "NotRequired",
                "recovery_point_type": "Custom" if point else "LatestTime", "recovery_point_id": point}

    def item_action(self, request, fabric, container, item, action):
        with self.world.lock:
            found = self.world.item_by_arm_name(fabric, container, item)
            if action.lower() == "plannedfailover":
                self.world.check_action(found, "plannedFailover", "Planned failover")
                job = self.flows.planned_failover(found, self._planned_params(found, request))
            else:
                self.world.check_action(found, "failoverCancel", "Cancel failover")
                job = self.flows.cancel(found)
        return self.actions.accepted(request, job, found["id"], "item")

    def _planned_params(self, found, request):
        props = _props(request.json(required=True))
        spec = found["spec"]
        if spec["multi_vm_group_name"] != spec["multi_vm_group_id"]:
            raise bad("The replication protected item '%s' belongs to the replication group '%s'; fail it back "
                      "through a recovery plan that contains the group." % (found["name"], spec["multi_vm_group_name"]),
                      "OperationNotAllowed")
        direction = props.get("failoverDirection")
        if direction not in (None, "PrimaryToRecovery", "RecoveryToPrimary"):
            raise bad("failoverDirection must be PrimaryToRecovery or RecoveryToPrimary (got %r)." % direction)
        details = props.get("providerSpecificDetails") or {}
        self.actions._expect_instance(details, "InMageRcmFailback", "a planned failover to on-premises")
        kind = details.get("recoveryPointType")
        if kind not in POINT_TYPES:
            raise bad("InMageRcmFailbackPlannedFailoverProviderInput.recoveryPointType must be ApplicationConsistent or "
                      "CrashConsistent (got %r)." % kind)
        return {"recovery_point_type": kind}

    # ------------------------------------------------------------------ plans
    def refuse_plan_unplanned(self, plan):
        items = [i for g in self.world.plan_items(plan) for i in g]
        if any(self.world.provider(i) == "InMageRcmFailback" for i in items):
            raise bad("Unplanned failover is not supported for the recovery plan '%s': its items replicate with "
                      "InMageRcmFailback; fail back with a planned failover." % plan["spec"]["name"],
                      "OperationNotSupported")

    def plan_action(self, request, plan, action):
        with self.world.lock:
            found = self.world.plan(plan)
            if action.lower() == "plannedfailover":
                self.actions._plan_ready(found, "plannedFailover", "Planned failover")
                job = self.plan_flows.planned_failover(found, self._plan_planned_params(found, request))
            else:
                self.actions._plan_ready(found, "failoverCancel", "Cancel failover")
                job = self.plan_flows.cancel(found)
        return self.actions.accepted(request, job, found["spec"]["id"], "plan")

    def _plan_planned_params(self, plan, request):
        props = _props(request.json(required=True))
        if props.get("failoverDirection") != "RecoveryToPrimary":
            raise bad("failoverDirection must be 'RecoveryToPrimary' to fail the recovery plan '%s' back to on-premises "
                      "(got %r)." % (plan["spec"]["name"], props.get("failoverDirection")))
        entries = props.get("providerSpecificDetails") or []
        if not isinstance(entries, list):
            raise bad("providerSpecificDetails must be a list, one entry per replication provider of the plan.")
        entry = next((e for e in entries if isinstance(e, dict) and e.get("instanceType") == "InMageRcmFailback"), None)
        if entry is None:
            raise bad("providerSpecificDetails needs an 'InMageRcmFailback' entry "
                      "(RecoveryPlanInMageRcmFailbackFailoverInput).")
        if entry.get("recoveryPointType") not in PLAN_POINT_TYPES:
            raise bad("recoveryPointType must be ApplicationConsistent or CrashConsistent (got %r)."
                      % entry.get("recoveryPointType"))
        sync = entry.get("useMultiVmSyncPoint") or "Disable"
        if sync not in SYNC:
            raise bad("useMultiVmSyncPoint must be Enable or Disable (got %r)." % sync)
        return {"recovery_point_type": entry["recoveryPointType"], "use_multi_vm_sync_point": sync == "Enable"}
