# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""POST actions on items, plans and jobs, and the long-running-operation URLs (asr-api.md 1.3).

An accepted action answers ``202`` the way the recordings show (tests/recorded/asr, fact 9): an empty
body, ``Location`` (``/Subscriptions/.../operationresults/{job}``), ``Azure-AsyncOperation``
(``/Subscriptions/.../replicationOperationStatus/{job}``), both with ``api-version=2021-06-01`` whatever
the request's, ``Retry-After`` (``timings.retry_after_seconds``; ASR sends 30) and ``x-ms-request-id``
= the job's ARM id, sent twice. Requests the item's stage cannot take are refused synchronously
(400 naming the allowed operations, 409 while another job runs); conditions of the world fail the
job instead (errors.py)."""

import uuid

from ..compute import iso
from ..server import ArmError, Response, asr_not_found
from . import serialize

LRO_API_VERSION = "2021-06-01"  # Location and Azure-AsyncOperation carry this whatever the request used (recorded)
OP_STATUS = {"NotStarted": "InProgress", "InProgress": "InProgress", "Suspended": "InProgress", "Succeeded": "Succeeded",
             "Failed": "Failed", "Cancelled": "Canceled", "Other": "Succeeded"}


def bad(message, code="InvalidParameterValue"):
    return ArmError(400, code, message)


def _props(body):
    props = body.get("properties")
    if not isinstance(props, dict):
        raise bad("The request body must have a 'properties' object.", "InvalidRequestContent")
    return props


class Actions:
    def __init__(self, world, engine, flows, plan_flows):
        self.world = world
        self.engine = engine
        self.flows = flows
        self.plan_flows = plan_flows
        self.modern = None
        if world.modernized:  # InMageRcm / InMageRcmFailback (modern_actions.py)
            from .modern_actions import ModernActions
            self.modern = ModernActions(self)

    # ------------------------------------------------------------------ LRO plumbing
    def accepted(self, request, job, target_id, kind):
        """Register the operation and answer 202 the way ASR does."""
        with self.world.lock:
            self.world.operations[job.name] = {"kind": kind, "job": job.name, "target_id": target_id}
        self.engine.submit(job)
        return self.lro_response(request, job.name, target_id)

    def lro_response(self, request, op_name, target_id):
        def upper(arm_id):  # the service writes "/Subscriptions/" in these URLs
            return "/Subscriptions/" + arm_id.split("/", 2)[2]
        job_id = "%s/replicationJobs/%s" % (upper(self.world.vault_id), op_name)
        headers = {
            "Location": "%s%s/operationresults/%s?api-version=%s" % (request.base_url, upper(target_id), op_name,
                                                                     LRO_API_VERSION),
            "Azure-AsyncOperation": "%s%s/replicationOperationStatus/%s?api-version=%s"
                                    % (request.base_url, upper(self.world.vault_id), op_name, LRO_API_VERSION),
            "Retry-After": str(int(float(self.world.timings.get("retry_after_seconds", 30)))),
            "x-ms-request-id": [job_id, job_id]}  # recorded twice
        return Response(202, None, headers)

    def _operation(self, name):
        with self.world.lock:
            operation = self.world.operations.get(name)
            job = self.world.jobs.get(operation["job"]) if operation else None
        if operation is None or job is None:
            raise asr_not_found("The operation '%s' was not found." % name)
        return operation, job

    @staticmethod
    def _status(operation, job):
        """The LRO's status: an action's follows its job; a job cancel ends when the job does; a restart at once."""
        if operation["kind"] == "restart":
            return "Succeeded"
        if operation["kind"] == "cancel":
            return "InProgress" if OP_STATUS[job.state] == "InProgress" else "Succeeded"
        return OP_STATUS[job.state]

    def operation_status(self, request, op):
        operation, job = self._operation(op)
        with self.world.lock:
            status = self._status(operation, job)
            body = {"id": "%s/replicationOperationStatus/%s" % (self.world.vault_id, op), "name": op,
                    "status": status, "startTime": iso(job.start)}
            if job.end and status != "InProgress":
                body["endTime"] = iso(job.end)
            if status not in ("Failed", "Canceled"):
                return body
            if job.state == "Failed":
                first = (job.errors or [{}])[0].get("serviceErrorDetails", {})
                body["error"] = {"code": first.get("code", "JobFailed"),
                                 "message": "The job '%s' failed: %s" % (job.name, first.get("message", "see the job"))}
            elif job.state == "Cancelled":
                body["error"] = {"code": "OperationCanceled", "message": "The job '%s' was cancelled." % job.name}
        return body

    def operation_result(self, request, op, **groups):
        operation, job = self._operation(op)
        with self.world.lock:
            status = self._status(operation, job)
            if status == "InProgress":
                return self.lro_response(request, op, operation["target_id"])
            if status != "Succeeded":
                error = self.operation_status(request, op)["error"]
                return Response(400, {"error": error})
            if operation["kind"] == "item":
                return serialize.protected_item(self.world, job.target)
            if operation["kind"] == "plan":
                return serialize.recovery_plan(self.world, job.target)
            return job.body()

    # ------------------------------------------------------------------ item actions
    def item_reprotect(self, request, fabric, container, item):
        with self.world.lock:
            found = self.world.item_by_arm_name(fabric, container, item)
            self.world.check_action(found, "reProtect", "Reprotect")
            props = _props(request.json(required=True))
            direction = props.get("failoverDirection")
            if direction not in (None, "RecoveryToPrimary"):
                raise bad("failoverDirection must be 'RecoveryToPrimary' to reprotect '%s' (got %r)."
                          % (found["name"], direction))
            details = props.get("providerSpecificDetails") or {}
            if self.modern is not None:
                job = self.modern.reprotect_job(found, details)
            elif found["stage"] in ("running_in_azure", "failed_over_to_azure"):
                params = self._inmage_reprotect(details)
                job = self.flows.reprotect_to_onprem(found, params)
            else:
                params = self._azure_v2_reprotect(details)
                job = self.flows.reprotect_to_azure(found, params)
        return self.accepted(request, job, found["id"], "item")

    def _expect_instance(self, details, wanted, what):
        got = details.get("instanceType")
        if got != wanted:
            raise bad("providerSpecificDetails.instanceType must be '%s' for %s (got %r)." % (wanted, what, got),
                      "InvalidProviderSpecificInput")

    def _inmage_reprotect(self, details):
        self._expect_instance(details, "InMage", "a reprotect from Azure to on-premises")
        for key in ("masterTargetId", "processServerId", "retentionDrive", "profileId"):
            if not details.get(key):
                raise bad("InMageReprotectInput.%s is required." % key)
        mt = self.world.master_target(details["masterTargetId"])
        if mt is None:
            raise bad("The master target '%s' is not registered with the configuration server." % details["masterTargetId"])
        ps = next((p for p in self.world.asr["process_servers"] if p["id"].lower() == details["processServerId"].lower()), None)
        if ps is None:
            raise bad("The process server '%s' is not registered with the configuration server." % details["processServerId"])
        volumes = [v["name"] for v in mt["retention_volumes"]]
        if details["retentionDrive"] not in volumes:
            raise bad("The retention drive '%s' is not a retention volume of the master target '%s' (%s)."
                      % (details["retentionDrive"], mt["name"], ", ".join(volumes)))
        datastore = details.get("datastoreName")
        if datastore:
            names = [d["symbolicName"] for d in serialize.mt_datastores(self.world, mt)]
            if datastore not in names:
                raise bad("The datastore '%s' is not available to the master target '%s' (available: %s)."
                          % (datastore, mt["name"], ", ".join(names) or "none"))
        self._check_run_as(details.get("runAsAccountId"))
        policy = self.world.policy(details["profileId"])
        if policy is None or policy["provider"] != "InMage":
            raise bad("profileId '%s' is not a failback (InMage) replication policy of the vault." % details["profileId"])
        return {"master_target": mt, "process_server": ps, "retention_drive": details["retentionDrive"],
                "datastore": datastore, "run_as_account_id": details.get("runAsAccountId"), "policy": policy,
                "disk_exclusion": details.get("diskExclusionInput"), "disks_to_include": details.get("disksToInclude")}

    def _check_run_as(self, account):
        if account and account not in [a["id"] for a in self.world.asr["run_as_accounts"]]:
            raise bad("The run-as account '%s' is not known to the configuration server." % account)

    def _azure_v2_reprotect(self, details):
        self._expect_instance(details, "InMageAzureV2", "a reprotect from on-premises to Azure")
        for key in ("processServerId", "masterTargetId", "policyId"):
            if not details.get(key):
                raise bad("InMageAzureV2ReprotectInput.%s is required." % key)
        ids = [p["id"].lower() for p in self.world.asr["process_servers"]]
        if details["processServerId"].lower() not in ids:
            raise bad("The process server '%s' is not registered with the configuration server." % details["processServerId"])
        if details["masterTargetId"].lower() not in ids and self.world.master_target(details["masterTargetId"]) is None:
            raise bad("The master target '%s' is not registered with the configuration server." % details["masterTargetId"])
        self._check_run_as(details.get("runAsAccountId"))
        policy = self.world.policy(details["policyId"])
        if policy is None or policy["provider"] != "InMageAzureV2":
            raise bad("policyId '%s' is not an InMageAzureV2 replication policy of the vault." % details["policyId"])
        return {"policy": policy, "process_server_id": details["processServerId"]}

    def item_unplanned_failover(self, request, fabric, container, item):
        with self.world.lock:
            found = self.world.item_by_arm_name(fabric, container, item)
            if self.modern is not None:
                self.modern.refuse_unplanned(found)
            self.world.check_action(found, "unplannedFailover", "Unplanned failover")
            props = _props(request.json(required=True))
            spec = found["spec"]
            if spec["multi_vm_group_name"] != spec["multi_vm_group_id"]:
                raise bad("The replication protected item '%s' belongs to the replication group '%s'; fail it over "
                          "through a recovery plan that contains the group." % (found["name"], spec["multi_vm_group_name"]),
                          "OperationNotAllowed")
            if props.get("failoverDirection") != "PrimaryToRecovery":
                raise bad("failoverDirection must be 'PrimaryToRecovery' for the replication protected item '%s' "
                          "(active location %s); got %r." % (found["name"], self.world.stage_row(found)[3],
                                                             props.get("failoverDirection")))
            sso = props.get("sourceSiteOperations") or "Required"
            if sso not in ("Required", "NotRequired"):
                raise bad("sourceSiteOperations must be Required or NotRequired (got %r)." % sso)
            details = props.get("providerSpecificDetails") or {}
            params = {"source_site_operations": sso}
            if found["stage"] == "replicating_to_onprem":
                self._expect_instance(details, "InMage", "a failover to on-premises")
                kind = details.get("recoveryPointType") or "LatestTime"
                if kind not in ("LatestTime", "LatestTag", "Custom"):
                    raise bad("recoveryPointType must be LatestTime, LatestTag or Custom (got %r)." % kind)
                if kind == "Custom" and not details.get("recoveryPointId"):
                    raise bad("recoveryPointId is required when recoveryPointType is Custom.")
                params.update(recovery_point_type=kind, recovery_point_id=details.get("recoveryPointId"))
                job = self.flows.failover_to_onprem(found, params)
            elif self.modern is not None:
                params.update(self.modern.forward_failover_params(details, props))
                job = self.flows.failover_to_azure(found, params)
            else:
                self._expect_instance(details, "InMageAzureV2", "a failover to Azure")
                point = details.get("recoveryPointId")
                params.update(recovery_point_type="Custom" if point else "LatestTime", recovery_point_id=point)
                job = self.flows.failover_to_azure(found, params)
        return self.accepted(request, job, found["id"], "item")

    def item_commit(self, request, fabric, container, item):
        with self.world.lock:
            found = self.world.item_by_arm_name(fabric, container, item)
            self.world.check_action(found, "failoverCommit", "Commit")
            job = self.flows.commit(found)
        return self.accepted(request, job, found["id"], "item")

    def item_refused(self, request, fabric, container, item, action):
        if self.modern is not None and action.lower() in ("plannedfailover", "failovercancel"):
            return self.modern.item_action(request, fabric, container, item, action)
        with self.world.lock:
            found = self.world.item_by_arm_name(fabric, container, item)
            provider = self.world.provider(found)
            if action.lower() == "plannedfailover":
                raise bad("Planned failover is not supported for the replication provider '%s' of the replication "
                          "protected item '%s'; use unplanned failover." % (provider, found["name"]), "OperationNotSupported")
            label = {"failovercancel": "Cancel failover", "applyrecoverypoint": "Change recovery point"}.get(
                action.lower(), action)
            self.world.check_action(found, action, label)
        raise bad("%s is not supported by the lab." % label, "OperationNotSupported")

    # ------------------------------------------------------------------ plan actions
    def plan_unplanned_failover(self, request, plan):
        with self.world.lock:
            found = self.world.plan(plan)
            if self.modern is not None:
                self.modern.refuse_plan_unplanned(found)
            items = self._plan_ready(found, "unplannedFailover", "Unplanned failover")
            props = _props(request.json(required=True))
            failback = items[0]["stage"] == "replicating_to_onprem"
            direction = props.get("failoverDirection")
            wanted = "RecoveryToPrimary" if failback else "PrimaryToRecovery"
            if direction != wanted:
                raise bad("failoverDirection must be '%s' to fail over the recovery plan '%s' %s (got %r)."
                          % (wanted, found["spec"]["name"], "back to on-premises" if failback else "to Azure", direction))
            sso = props.get("sourceSiteOperations")
            if sso not in ("Required", "NotRequired"):
                raise bad("sourceSiteOperations is required: Required or NotRequired (got %r)." % sso)
            provider = "InMage" if failback else self.world.forward_provider
            entries = props.get("providerSpecificDetails") or []
            if not isinstance(entries, list):
                raise bad("providerSpecificDetails must be a list, one entry per replication provider of the plan.")
            entry = next((e for e in entries if isinstance(e, dict) and e.get("instanceType") == provider), None)
            kind = (entry or {}).get("recoveryPointType") or "LatestTime"
            valid = ("LatestTime", "LatestTag") if failback else ("Latest", "LatestApplicationConsistent",
                                                                  "LatestCrashConsistent", "LatestProcessed")
            if entry is None and failback:
                raise bad("providerSpecificDetails needs an 'InMage' entry (RecoveryPlanInMageFailoverInput).")
            if entry is not None and kind not in valid:
                raise bad("recoveryPointType must be one of %s for a recovery plan (got %r)." % (", ".join(valid), kind))
            job = self.plan_flows.unplanned_failover(found, {"source_site_operations": sso, "failback": failback,
                                                             "recovery_point_type": kind})
        return self.accepted(request, job, found["spec"]["id"], "plan")

    def _plan_ready(self, plan, action, label):
        items = [i for g in self.world.plan_items(plan) for i in g]
        if not items:
            raise bad("The recovery plan '%s' has no protected items." % plan["spec"]["name"], "OperationNotAllowed")
        for item in items:
            self.world.check_action(item, action, "%s of the recovery plan '%s'" % (label, plan["spec"]["name"]))
        if len({i["stage"] for i in items}) != 1:
            raise bad("The items of the recovery plan '%s' are in different states (%s)." % (
                plan["spec"]["name"], ", ".join("%s: %s" % (i["name"], self.world.stage_row(i)[1]) for i in items)),
                "OperationNotAllowed")
        return items

    def plan_commit(self, request, plan):
        with self.world.lock:
            found = self.world.plan(plan)
            self._plan_ready(found, "failoverCommit", "Commit")
            job = self.plan_flows.commit(found)
        return self.accepted(request, job, found["spec"]["id"], "plan")

    def plan_refused(self, request, plan, action):
        if self.modern is not None and action.lower() in ("plannedfailover", "failovercancel"):
            return self.modern.plan_action(request, plan, action)
        with self.world.lock:
            found = self.world.plan(plan)
        name = found["spec"]["name"]
        if action.lower() == "reprotect":
            raise bad("Reprotect of a recovery plan is deprecated and no longer works for VMware/physical (InMage and "
                      "InMageAzureV2) items; reprotect each replication protected item of the plan '%s' instead." % name,
                      "OperationNotSupported")
        if action.lower() == "plannedfailover":
            raise bad("Planned failover is not supported for the recovery plan '%s': its items use the classic "
                      "VMware/physical providers (InMage, InMageAzureV2); use unplanned failover." % name,
                      "OperationNotSupported")
        raise bad("%s is not allowed on the recovery plan '%s' in its current state." % (action, name), "OperationNotAllowed")

    # ------------------------------------------------------------------ job actions
    def _job_lro(self, request, job, kind):
        op = str(uuid.uuid4())
        with self.world.lock:
            self.world.operations[op] = {"kind": kind, "job": job.name, "target_id": job.id}
        return self.lro_response(request, op, job.id)

    def find_job(self, name):
        job = self.world.jobs.get(name) or next((j for n, j in self.world.jobs.items() if n.lower() == name.lower()), None)
        if job is None:
            raise asr_not_found("The job '%s' was not found in vault '%s'." % (name, self.world.asr["vault"]))
        return job

    def job_cancel(self, request, job):
        found = self.find_job(job)
        if found.state not in ("NotStarted", "InProgress"):
            raise bad("The job '%s' is %s and cannot be cancelled." % (found.name, found.state), "OperationNotAllowed")
        self.engine.cancel(found)
        return self._job_lro(request, found, "cancel")

    def job_restart(self, request, job):
        found = self.find_job(job)
        if found.state != "Failed" or found.restart is None:
            raise bad("The job '%s' is %s; only failed jobs can be restarted." % (found.name, found.state),
                      "OperationNotAllowed")
        with self.world.lock:
            for holder in found.locks:
                if holder.get("current_job"):
                    raise ArmError(409, "OperationInProgress", "Another job (%s) is running on '%s'."
                                   % (holder["current_job"], holder.get("name") or holder["spec"]["name"]))
            new = found.restart()
            self.world.operations[new.name] = {"kind": found.target_kind, "job": new.name, "target_id": found.target_id}
        self.engine.submit(new)
        return self._job_lro(request, new, "restart")

    def job_resume(self, request, job):
        found = self.find_job(job)
        raise bad("The job '%s' is %s; only suspended jobs can be resumed." % (found.name, found.state),
                  "OperationNotAllowed")
