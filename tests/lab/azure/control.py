# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's control API under ``/_lab/`` (never under an ARM path) and request faults.

POST   /_lab/faults                {method, path_regex, kind: status|throttle|reset|latency|policy, status,
                                    code, message, retry_after, delay_seconds, times, policy_assignment}  -> {"id"}
                                   policy: ARM's 403 RequestDisallowedByPolicy for the matched requests;
                                   on a Blob service path (blob.py) a status fault answers in the Blob service's
                                   shape (x-ms-error-code and an XML Error body; code e.g.
                                   AuthorizationPermissionMismatch with status 403)
GET    /_lab/faults                the active faults
DELETE /_lab/faults[/{id}]         remove all faults (or one)
POST   /_lab/jobs/fail             {item | plan, at_task (1-based number or task name), code, message}
POST   /_lab/jobs/stop_after_effect {effects: k}: the next job fails right after its k-th side effect
POST   /_lab/timings               {job_seconds, ...}: changes timings from now on
POST   /_lab/tokens/expire         every token handed out so far expires
POST   /_lab/tokens/lifetime       {seconds}: the lifetime of the tokens handed out from now on
POST   /_lab/jobs/hold             {item | plan, at_task, scenario}: the next job of the item or plan (of that
                                   scenario, e.g. UnplannedFailover, when given) waits at that task
                                   (1-based number or name: the task, and its first child, started) until
                                   released; at_task 0 keeps the job NotStarted
POST   /_lab/jobs/release          {job (optional)}: held jobs (or that one) go on
GET    /_lab/state                 the whole state as JSON
GET    /_lab/stats, DELETE /_lab/stats   request counts per method and path
"""

import re
import threading
import time
import uuid

from .server import ArmError, Response

KINDS = ("status", "throttle", "reset", "latency", "policy")


def delay(seconds):
    """The latency fault's wait (a function of its own so that a test can record it instead)."""
    time.sleep(seconds)


def policy_denial(assignment, definition=None):
    """ARM's answer to a write an Azure Policy assignment with effect ``deny`` refuses: 403
    ``RequestDisallowedByPolicy`` whose ``additionalInfo`` holds one ``PolicyViolation`` naming the
    assignment and the definition (the shape of learn.microsoft.com's "Resolve errors for policy
    definitions" and azure-rest-api-specs' common ErrorResponse ``additionalInfo``)."""
    sub = "00000000-0000-0000-0000-000000000000"
    assignment_id = "/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/%s" % (sub, assignment)
    definition = definition or "Deny changes to tags"
    definition_id = "/providers/Microsoft.Authorization/policyDefinitions/%s" % uuid.uuid5(uuid.NAMESPACE_URL, definition)
    identifiers = '[{"policyAssignment":{"name":"%s","id":"%s"},"policyDefinition":{"name":"%s","id":"%s"}}]' % (
        assignment, assignment_id, definition, definition_id)
    return Response(403, {"error": {
        "code": "RequestDisallowedByPolicy", "target": assignment,
        "message": "Resource was disallowed by policy. Policy identifiers: '%s'." % identifiers,
        "additionalInfo": [{"type": "PolicyViolation", "info": {
            "evaluationDetails": {"evaluatedExpressions": []},
            "policyDefinitionId": definition_id, "policyDefinitionName": str(uuid.uuid5(uuid.NAMESPACE_URL, definition)),
            "policyDefinitionDisplayName": definition, "policyDefinitionEffect": "deny",
            "policyAssignmentId": assignment_id, "policyAssignmentName": assignment,
            "policyAssignmentDisplayName": assignment, "policyAssignmentScope": "/subscriptions/%s" % sub,
            "policyAssignmentParameters": {}}}]}})


class Fault:
    def __init__(self, body):
        self.id = str(uuid.uuid4())
        self.method = (body.get("method") or "*").upper()
        self.path_regex = body.get("path_regex") or ".*"
        try:
            self.regex = re.compile(self.path_regex, re.IGNORECASE)
        except re.error as exc:
            raise ArmError(400, "InvalidFault", "path_regex is not a valid regular expression: %s" % exc) from exc
        self.kind = body.get("kind", "status")
        if self.kind not in KINDS:
            raise ArmError(400, "InvalidFault", "kind must be one of %s" % ", ".join(KINDS))
        self.status = int(body.get("status", 503 if self.kind == "status" else 429))
        self.code = body.get("code")
        self.message = body.get("message")
        self.retry_after = body.get("retry_after")
        self.delay_seconds = float(body.get("delay_seconds", 1.0))
        self.times = body.get("times")  # None: until removed
        self.policy_assignment = body.get("policy_assignment") or "deny-tag-changes"
        self.blob_paths = None  # set by Faults.add: the Blob service's paths
        self.hits = 0

    def describe(self):
        return {"id": self.id, "method": self.method, "path_regex": self.path_regex, "kind": self.kind,
                "status": self.status, "retry_after": self.retry_after, "delay_seconds": self.delay_seconds,
                "times": self.times, "hits": self.hits}

    def apply(self, request=None):
        """A Response, None (drop the connection) or "pass" (go on after a delay). ``request`` on a Blob service
        path (``Faults.blob_paths``) gets a status or throttle answer in the Blob service's shape."""
        if self.kind == "latency":
            delay(self.delay_seconds)
            return "pass"
        if self.kind == "reset":
            return None
        if self.kind == "policy":
            return policy_denial(self.policy_assignment, self.message)
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if request is not None and self.blob_paths is not None and self.blob_paths.match(request.path):
            from .blob import storage_error  # pylint: disable=import-outside-toplevel
            code = self.code or ("ServerBusy" if self.kind == "throttle" else "LabInjectedFault")
            return storage_error(503 if self.kind == "throttle" else self.status, code,
                                 self.message or "A fault injected by the lab.", request.method, headers).response()
        if self.kind == "throttle":
            headers.setdefault("Retry-After", "1")
            return Response(429, {"error": {
                "code": self.code or "SubscriptionRequestsThrottled",
                "message": self.message or "Number of requests exceeded the limit. Please try again after '%s' seconds."
                % headers["Retry-After"]}}, headers)
        return Response(self.status, {"error": {"code": self.code or "LabInjectedFault",
                                                "message": self.message or "A fault injected by the lab."}}, headers)


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.blob_paths = None  # a compiled regex of the Blob service's paths (the emulator sets it)

    def add(self, body):
        fault = Fault(body)
        fault.blob_paths = self.blob_paths
        with self.lock:
            self.faults.append(fault)
        return fault

    def match(self, method, path):
        with self.lock:
            for fault in self.faults:
                if fault.method not in ("*", method) or not fault.regex.search(path):
                    continue
                fault.hits += 1
                if fault.times is not None:
                    fault.times = int(fault.times) - 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def clear(self, fault_id=None):
        with self.lock:
            self.faults = [f for f in self.faults if fault_id is not None and f.id != fault_id]

    def describe(self):
        with self.lock:
            return [f.describe() for f in self.faults]


class Control:
    """The /_lab routes; ``emulator`` gives access to the world, the job engine and the stats."""

    def __init__(self, emulator):
        self.emulator = emulator

    def add_fault(self, request):
        fault = self.emulator.faults.add(request.json(required=True))
        return Response(201, fault.describe())

    def list_faults(self, request):
        return {"value": self.emulator.faults.describe()}

    def clear_faults(self, request, fault_id=None):
        self.emulator.faults.clear(fault_id)
        return Response(204, None)

    def fail_job(self, request):
        body = request.json(required=True)
        target = body.get("item") or body.get("plan")
        if not target or "at_task" not in body:
            raise ArmError(400, "InvalidRequest", "give item (or plan) and at_task")
        kind = "item" if body.get("item") else "plan"
        self.emulator.world.lookup_target(kind, target)
        self.emulator.engine.arm_failure(kind, target, body["at_task"], body.get("code", "LabInjectedFailure"),
                                         body.get("message", "A job failure injected by the lab."))
        return Response(201, {"armed": {"kind": kind, "target": target, "at_task": body["at_task"]}})

    def stop_after_effect(self, request):
        body = request.json(required=True)
        count = int(body.get("effects", 0))
        if count < 0:
            raise ArmError(400, "InvalidRequest", "effects must be 0 or more")
        self.emulator.engine.arm_stop(count)
        return Response(201, {"armed": {"effects": count}})

    def set_timings(self, request):
        body = request.json(required=True)
        timings = self.emulator.spec["timings"]
        for key, value in body.items():
            timings[key] = value
        return dict(timings)

    def hold_job(self, request):
        body = request.json(required=True)
        target = body.get("item") or body.get("plan")
        if not target or "at_task" not in body:
            raise ArmError(400, "InvalidRequest", "give item (or plan) and at_task")
        kind = "item" if body.get("item") else "plan"
        found = self.emulator.world.lookup_target(kind, target)
        name = found["name"] if kind == "item" else found["spec"]["name"]
        self.emulator.engine.arm_hold(kind, name, body["at_task"], body.get("scenario"))
        return Response(201, {"armed": {"kind": kind, "target": name, "at_task": body["at_task"],
                                        "scenario": body.get("scenario")}})

    def release_jobs(self, request):
        body = request.json()
        job = None
        if body.get("job"):
            job = self.emulator.world.jobs.get(body["job"])
            if job is None:
                raise ArmError(404, "NotFound", "no job %s" % body["job"])
        self.emulator.engine.release(job)
        return Response(204, None)

    def token_lifetime(self, request):
        seconds = int(request.json(required=True).get("seconds", 0))
        if seconds < 0:
            raise ArmError(400, "InvalidRequest", "seconds must be 0 or more")
        self.emulator.directory.token_seconds = seconds
        return {"seconds": seconds}

    def expire_tokens(self, request):
        self.emulator.directory.expire_all()
        return Response(204, None)

    def state(self, request):
        return self.emulator.state()

    def stats(self, request):
        return self.emulator.app.stats.snapshot()

    def reset_stats(self, request):
        self.emulator.app.stats.reset()
        return Response(204, None)

    def register(self, router):
        add = router.add
        add("POST", r"/_lab/faults", self.add_fault, arm=False)
        add("GET", r"/_lab/faults", self.list_faults, arm=False)
        add("DELETE", r"/_lab/faults", self.clear_faults, arm=False)
        add("DELETE", r"/_lab/faults/(?P<fault_id>[^/]+)", self.clear_faults, arm=False)
        add("POST", r"/_lab/jobs/fail", self.fail_job, arm=False)
        add("POST", r"/_lab/jobs/stop_after_effect", self.stop_after_effect, arm=False)
        add("POST", r"/_lab/timings", self.set_timings, arm=False)
        add("POST", r"/_lab/tokens/expire", self.expire_tokens, arm=False)
        add("POST", r"/_lab/tokens/lifetime", self.token_lifetime, arm=False)
        add("POST", r"/_lab/jobs/hold", self.hold_job, arm=False)
        add("POST", r"/_lab/jobs/release", self.release_jobs, arm=False)
        add("GET", r"/_lab/state", self.state, arm=False)
        add("GET", r"/_lab/stats", self.stats, arm=False)
        add("DELETE", r"/_lab/stats", self.reset_stats, arm=False)
