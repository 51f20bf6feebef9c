# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ASR job engine: a job is a list of tasks run in a background thread over
``timings.job_seconds``; side effects happen inside tasks; the job's ``on_success`` /
``on_failure`` callbacks move the item (or plan) to its next stage under the world lock.

A task fails by raising :class:`JobFailed` (or the effects' ``EffectError``); the error is
recorded as ASR's ``JobErrorDetails`` on the task and on the job. The control API can arm a
failure at a task of the next job of an item or plan, or stop the next job right after its
k-th side effect (``effects.on_effect`` counts them per job).
"""

import threading
import time
import uuid

from .compute import iso

try:  # the effects module imports pyVmomi; the engine must work without it
    from ..effects import EffectError
except ImportError:  # pragma: no cover - pyVmomi missing
    class EffectError(Exception):
        pass

RUNNING = ("NotStarted", "InProgress")
# provider error codes for conditions the docs name without a number (the lab's choice)
LAB_PROVIDER_CODES = {
    "AgentNotRegistered": 90001, "ConfigurationServerNotRunning": 90002, "VmNotInConfigurationServerDatabase": 90003,
    "VCenterNotConnected": 90004, "NoRecoveryPoint": 90005, "AzureVmNotFound": 90006, "MasterTargetHasSnapshots": 90007,
    "MasterTargetOsMismatch": 90008, "FailbackNotSupportedForOs": 90009, "RecoveryPointNotFound": 90010,
    "ApplianceNotHealthy": 90011, "ApplianceDiskLimitReached": 90012,
    "LabInjectedFailure": 90098, "LabStoppedAfterEffect": 90099,
}


class JobFailed(Exception):
    """Fail the running task with ASR's error details."""

    def __init__(self, code, message, possible_causes="", recommended_action=""):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.possible_causes = possible_causes
        self.recommended_action = recommended_action


class StopJob(Exception):
    """Raised from ``on_effect``: the job stops here, half done."""


class JobCancelled(Exception):
    pass


def provider_code(code):
    text = str(code)
    if text.isdigit():
        return int(text)
    return LAB_PROVIDER_CODES.get(text, 90000)


class Task:
    def __init__(self, name, friendly, run=None, skip=False, children=None, group=None, item=None):
        self.task_id = str(uuid.uuid4())
        self.name = name
        self.friendly = friendly
        self.run = run
        self.skip = skip
        self.children = children or []
        self.group = group  # groupTaskCustomDetails without childTasks, for plan group tasks
        self.item = item  # the protected item of a VM task (dict with id/name)
        self.state = "NotStarted"
        self.state_description = "NotStarted"
        self.start = self.end = None
        self.errors = []

    def body(self, job):
        body = {"taskId": self.task_id, "name": self.name, "friendlyName": self.friendly, "state": self.state,
                "stateDescription": self.state_description, "allowedActions": [], "errors": list(self.errors)}
        if self.start:
            body["startTime"] = iso(self.start)
        if self.end:
            body["endTime"] = iso(self.end)
        if self.group is not None:
            body["taskType"] = self.group["instanceType"]
            body["groupTaskCustomDetails"] = dict(self.group, childTasks=[c.body(job) for c in self.children])
        elif self.item is not None:
            # JobTaskDetails, not its VirtualMachineTaskDetails subclass: SDK 2.0.0 resolves only one level of
            # discriminator, so a VirtualMachineTaskDetails body would deserialise as the bare base class
            body["taskType"] = "JobTaskDetails"
            body["customDetails"] = {"instanceType": "JobTaskDetails", "jobTask": {
                "jobId": job.id, "jobFriendlyName": job.friendly, "targetObjectId": self.item["id"],
                "targetObjectName": self.item["name"], "targetInstanceType": "ProtectionEntity",
                "jobScenarioName": job.scenario}}
        return body


class Job:
    def __init__(self, world, scenario, friendly, target_kind, target, tasks, details_type="AsrJobDetails",
                 affected=None, locks=(), on_success=None, on_failure=None, restart=None, point_details=None):
        self.name = str(uuid.uuid4())
        self.id = "%s/replicationJobs/%s" % (world.vault_id, self.name)
        self.activity_id = "%s ActivityId: %s" % (uuid.uuid4(), uuid.uuid4())
        self.scenario = scenario
        self.friendly = friendly
        self.target_kind = target_kind  # "item" or "plan"
        self.target = target  # the item or plan dict
        self.tasks = tasks
        self.details_type = details_type
        self.affected = affected or {}
        self.locks = list(locks)  # items/plans whose current_job is this job while it runs
        self.on_success = on_success
        self.on_failure = on_failure
        self.restart = restart
        self.point_details = point_details  # callable -> protectedItemDetails (FailoverJobDetails)
        self.state = "NotStarted"
        self.state_description = "NotStarted"
        self.start = time.time()
        self.end = None
        self.errors = []
        self.effects = []
        self.cancel_requested = False
        self.fail_at = None
        self.stop_after = None
        self.done = threading.Event()

    @property
    def target_name(self):
        return self.target["name"]

    @property
    def target_id(self):
        return self.target["id"] if self.target_kind == "item" else self.target["spec"]["id"]

    def summary(self):
        return {"scenario": self.scenario, "target": self.target_name, "state": self.state, "effects": list(self.effects),
                "tasks": [(t.name, t.state) for t in self.tasks],
                "errors": [e["serviceErrorDetails"]["code"] for e in self.errors]}

    def body(self):
        custom = {"instanceType": self.details_type, "affectedObjectDetails": dict(self.affected)}
        if self.details_type == "FailoverJobDetails" and self.point_details:
            custom["protectedItemDetails"] = self.point_details()
        props = {"activityId": self.activity_id, "scenarioName": self.scenario, "friendlyName": self.friendly,
                 "state": self.state, "stateDescription": self.state_description,
                 "tasks": [t.body(self) for t in self.tasks], "errors": list(self.errors), "startTime": iso(self.start),
                 "allowedActions": ["Cancel"] if self.state in RUNNING else (["Restart"] if self.state == "Failed" else []),
                 "targetObjectId": self.target_id, "targetObjectName": self.target_name,
                 "targetInstanceType": "ProtectionEntity" if self.target_kind == "item" else "RecoveryPlan",
                 "customDetails": custom}
        if self.end:
            props["endTime"] = iso(self.end)
        return {"id": self.id, "name": self.name, "type": "Microsoft.RecoveryServices/vaults/replicationJobs",
                "properties": props}


class Engine:
    """Runs jobs; holds the failures and stops the control API arms."""

    def __init__(self, world, effects=None):
        self.world = world
        self.effects = effects
        self.local = threading.local()
        self.pending_failures = {}
        self.pending_stop = None
        self.stopping = threading.Event()
        self.threads = []
        if effects is not None:
            effects.on_effect = self.on_effect

    # ------------------------------------------------------------------ control
    def arm_failure(self, kind, name, at_task, code, message):
        with self.world.lock:
            self.pending_failures[(kind, name)] = (at_task, code, message)

    def arm_stop(self, count):
        with self.world.lock:
            self.pending_stop = count

    def on_effect(self, label):
        job = getattr(self.local, "job", None)
        if job is None:
            return
        with self.world.lock:
            if job.stop_after is not None and len(job.effects) >= job.stop_after:
                raise StopJob("stopped before side effect %d (%s)" % (len(job.effects) + 1, label))
            job.effects.append(label)

    # ------------------------------------------------------------------ running
    def submit(self, job):
        with self.world.lock:
            key_name = job.target["name"] if job.target_kind == "item" else job.target["spec"]["name"]
            job.fail_at = self.pending_failures.pop((job.target_kind, key_name), None)
            job.stop_after, self.pending_stop = self.pending_stop, None
            self.world.jobs[job.name] = job
            for holder in job.locks:
                holder["current_job"] = job.name
        thread = threading.Thread(target=self._run, args=(job,), daemon=True, name="asr-job-" + job.name[:8])
        self.threads.append(thread)
        thread.start()
        return job

    def cancel(self, job):
        with self.world.lock:
            job.cancel_requested = True

    def stop(self, timeout=5.0):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)

    def _sleep(self, seconds):
        if seconds > 0:
            self.stopping.wait(seconds)

    def _run(self, job):
        self.local.job = job
        with self.world.lock:
            job.state = job.state_description = "InProgress"
        seconds = float(self.world.timings.get("job_seconds", 0) or 0)
        per_task = seconds / max(1, len(job.tasks))
        failure = None
        try:
            for index, task in enumerate(job.tasks, 1):
                self._sleep(per_task)
                if job.cancel_requested or self.stopping.is_set():
                    raise JobCancelled()
                self._run_task(job, task, index)
        except JobFailed as exc:
            failure = exc
        except JobCancelled:
            failure = "cancelled"
        finally:
            self._finish(job, failure)
            self.local.job = None

    def _error(self, job, task, exc):
        return {"serviceErrorDetails": {"code": str(exc.code), "message": exc.message,
                                        "possibleCauses": exc.possible_causes, "recommendedAction": exc.recommended_action,
                                        "activityId": job.activity_id},
                "providerErrorDetails": {"errorCode": provider_code(exc.code), "errorMessage": exc.message,
                                         "errorId": str(uuid.uuid4()), "possibleCauses": exc.possible_causes,
                                         "recommendedAction": exc.recommended_action},
                "errorLevel": "Error", "creationTime": iso(), "taskId": task.task_id}

    def _run_task(self, job, task, index, parent=None):
        with self.world.lock:
            task.state = task.state_description = "InProgress"
            task.start = time.time()
        try:
            if task.skip:
                with self.world.lock:
                    task.state, task.state_description, task.end = "Other", "Skipped", time.time()
                return
            armed = job.fail_at
            if armed and parent is None and (str(armed[0]) == str(index) or str(armed[0]) == task.name):
                raise JobFailed(armed[1], armed[2], "The lab injected this failure.", "Clear the fault and retry.")
            for number, child in enumerate(task.children, 1):
                self._run_task(job, child, number, parent=task)
            if task.run is not None:
                task.run()
            if job.stop_after is not None and len(job.effects) >= job.stop_after and parent is None:
                raise StopJob("stopped after side effect %d" % len(job.effects))
        except (JobFailed, EffectError, StopJob) as exc:
            if isinstance(exc, StopJob):
                exc = JobFailed("LabStoppedAfterEffect", "The job stopped after %d side effect(s), as the lab was told to."
                                % len(job.effects), "A fault injected by the lab.", "Restart the job.")
            elif isinstance(exc, EffectError):
                exc = JobFailed(exc.code, exc.message, exc.possible_causes, exc.recommended_action)
            with self.world.lock:
                error = self._error(job, task, exc)
                if not task.errors:
                    task.errors.append(error)
                task.state, task.state_description, task.end = "Failed", "Failed", time.time()
            raise exc from None
        with self.world.lock:
            task.state, task.state_description, task.end = "Succeeded", "Completed", time.time()

    def _finish(self, job, failure):
        with self.world.lock:
            job.end = time.time()
            try:
                if failure is None:
                    job.state, job.state_description = "Succeeded", "Completed"
                    if job.on_success:
                        job.on_success(job)
                else:
                    if failure == "cancelled":
                        job.state = job.state_description = "Cancelled"
                        for task in job.tasks:
                            if task.state == "NotStarted":
                                task.state = task.state_description = "Cancelled"
                    else:
                        job.state, job.state_description = "Failed", "Failed"
                        job.errors = [e for t in job.tasks for e in t.errors][:1] or job.errors
                    if job.on_failure:
                        job.on_failure(job)
            finally:
                for holder in job.locks:
                    if holder.get("current_job") == job.name:
                        holder["current_job"] = None
                job.done.set()
