# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ASR job engine: a job is a list of tasks run in a background thread over
``timings.job_seconds``; side effects happen inside tasks; the job's ``on_success`` /
``on_failure`` callbacks move the item (or plan) to its next stage under the world lock.

A task fails by raising :class:`JobFailed` (or the effects' ``EffectError``); the error is
recorded as ASR's ``JobErrorDetails`` on the task and on the job. The control API can arm a
failure at a task of the next job of an item or plan, stop the next job right after its
k-th side effect (``effects.on_effect`` counts them per job), or hold the next job at a task
(started, not run) until released, so that a test sees it at the moment a recording shows.
Bodies follow the recordings of tests/recorded/asr (a NotStarted job shows no scenario, names,
tasks or start time; unstarted task times are ``0001-01-01T00:00:00``).
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
    "ApplianceNotHealthy": 90011, "ApplianceDiskLimitReached": 90012, "MasterTargetHasNoDatastores": 90013,
    "LabInjectedFailure": 90098, "LabStoppedAfterEffect": 90099,
}


class JobFailed(Exception):
    """Fail the running task with ASR's error details. ``provider``: the error comes from the provider (the
    configuration server, master target or appliance), which fills ``providerErrorDetails``; default: the documented
    numeric codes do, named conditions are the service's own."""

    def __init__(self, code, message, possible_causes="", recommended_action="", provider=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.possible_causes = possible_causes
        self.recommended_action = recommended_action
        self.provider = str(code).isdigit() if provider is None else provider


class StopJob(Exception):
    """Raised from ``on_effect``: the job stops here, half done."""


class JobCancelled(Exception):
    pass


def provider_code(code):
    text = str(code)
    if text.isdigit():
        return int(text)
    return LAB_PROVIDER_CODES.get(text, 90000)


UNSET_TIME = "0001-01-01T00:00:00"  # ASR's time of a task that has not started (or ended): no "Z"


class Task:
    """One task of a job. ``task_id`` is ASR's (a name for most tasks, a GUID for commit tasks; default a GUID).

    Kinds: a plain task (``taskType`` TaskDetails); a group task with ``children`` (``taskType``
    GroupTaskDetails, ``customDetails`` null, the children in ``groupTaskCustomDetails.childTasks``); a child
    that runs a separate job (``child_job``: a :class:`Job` shown as ``JobTaskDetails.jobTask``); a plan's group
    task (``group``: the RecoveryPlanGroupTaskDetails fields) whose children name their item (``item``)."""

    def __init__(self, name, friendly, run=None, skip=False, children=None, group=None, item=None, task_id=None,
                 child_job=None):
        self.task_id = task_id or str(uuid.uuid4())
        self.name = name
        self.friendly = friendly
        self.run = run
        self.skip = skip
        self.children = children or []
        self.group = group  # groupTaskCustomDetails without childTasks, for plan group tasks
        self.item = item  # the protected item of a plan's VM task (dict with id/name)
        self.child_job = child_job  # the separate job a child task stands for (reprotect's DiscoverReplica, EnableDr)
        self.state = "NotStarted"
        self.state_description = "NotStarted"
        self.start = self.end = None
        self.errors = []

    def body(self, job):
        body = {"taskId": self.task_id, "name": self.name,
                "startTime": iso(self.start) if self.start else UNSET_TIME,
                "endTime": iso(self.end) if self.end else UNSET_TIME,
                "allowedActions": [], "friendlyName": self.friendly, "state": self.state,
                "stateDescription": self.state_description, "taskType": "TaskDetails",
                "customDetails": {"instanceType": "TaskDetails"}, "groupTaskCustomDetails": None}
        if self.group is not None or self.children:
            group = dict(self.group or {"instanceType": "GroupTaskDetails"})
            body.update(taskType="GroupTaskDetails", customDetails=None,
                        groupTaskCustomDetails=dict(group, childTasks=[c.body(job) for c in self.children]))
        elif self.child_job is not None:
            child = self.child_job
            body.update(taskType="JobTaskDetails", customDetails={"jobTask": {
                "jobId": child.id, "jobFriendlyName": child.friendly, "targetObjectId": child.target_object_id,
                "targetObjectName": child.target_name, "targetInstanceType": child.target_type,
                "jobScenarioName": child.scenario}, "instanceType": "JobTaskDetails"})
        elif self.item is not None:
            # a plan's VM task: JobTaskDetails naming the plan job and the item (not recorded: the lab's choice)
            body.update(taskType="JobTaskDetails", customDetails={"jobTask": {
                "jobId": job.id, "jobFriendlyName": job.friendly, "targetObjectId": self.item["id"],
                "targetObjectName": self.item["name"], "targetInstanceType": "ProtectionEntity",
                "jobScenarioName": job.scenario}, "instanceType": "JobTaskDetails"})
        body["errors"] = list(self.errors)
        return body


class Job:
    """An ASR job. ``target_object_id`` is what ASR shows as ``targetObjectId`` (an item's VM id, a plan's id);
    ``affected`` the ``affectedObjectDetails``; ``details_type`` AsrJobDetails, FailoverJobDetails (with
    ``protectedItemDetails: []``, as recorded) or SwitchProtectionJobDetails (``newReplicationProtectedItemId``
    set when the job succeeded). Until its thread starts it the job is NotStarted and shows what ASR's first
    poll of a commit showed: no scenario, names, start time, tasks or affected objects."""

    def __init__(self, world, scenario, friendly, target_kind, target, tasks, details_type="AsrJobDetails",
                 affected=None, locks=(), on_success=None, on_failure=None, restart=None, target_object_id=None,
                 target_type=None, target_name=None):
        self.name = str(uuid.uuid4())
        self.id = "%s/replicationJobs/%s" % (world.vault_id, self.name)
        self.activity_id = "%s ActivityId: %s" % (uuid.uuid4(), uuid.uuid4())
        self.scenario = scenario
        self.friendly = friendly
        self.target_kind = target_kind  # "item", "plan" or "child" (a job another job's task runs)
        self.target = target  # the item or plan dict
        self.tasks = tasks
        self.details_type = details_type
        self.affected = affected or {}
        self.locks = list(locks)  # items/plans whose current_job is this job while it runs
        self.on_success = on_success
        self.on_failure = on_failure
        self.restart = restart
        self.target_object_id = target_object_id
        self.target_type = target_type or ("RecoveryPlan" if target_kind == "plan" else "ProtectionEntity")
        self._target_name = target_name
        self.new_item_id = None  # SwitchProtectionJobDetails.newReplicationProtectedItemId once it succeeded
        self.state = "NotStarted"
        self.state_description = "NotStarted"
        self.start = time.time()  # when it was submitted; shown once it started
        self.started = False
        self.end = None
        self.errors = []
        self.effects = []
        self.cancel_requested = False
        self.fail_at = None
        self.stop_after = None
        self.hold_at = None
        self.polled = threading.Event()  # set once a GET of the job answered (NotStarted): then it may start
        self.held = threading.Event()  # set while the job waits at its hold point
        self.release = threading.Event()
        self.done = threading.Event()

    @property
    def target_name(self):
        if self._target_name is not None:
            return self._target_name
        return self.target["name"] if self.target_kind != "plan" else self.target["spec"]["name"]

    @property
    def target_id(self):
        return self.target["id"] if self.target_kind != "plan" else self.target["spec"]["id"]

    def all_tasks(self):
        return [t for task in self.tasks for t in [task, *task.children]]

    def summary(self):
        return {"scenario": self.scenario, "target": self.target_name, "state": self.state, "effects": list(self.effects),
                "tasks": [(t.name, t.state) for t in self.tasks],
                "errors": [e["serviceErrorDetails"]["code"] for e in self.errors]}

    def _custom(self, started):
        custom = {"instanceType": self.details_type, "affectedObjectDetails": dict(self.affected) if started else {}}
        if self.details_type == "FailoverJobDetails":
            custom = {"instanceType": self.details_type, "protectedItemDetails": [],
                      "affectedObjectDetails": custom["affectedObjectDetails"]}
        elif self.details_type == "SwitchProtectionJobDetails":
            custom = {"newReplicationProtectedItemId": self.new_item_id, "instanceType": self.details_type,
                      "affectedObjectDetails": custom["affectedObjectDetails"]}
        return custom

    def body(self):
        if not self.started:
            props = {"activityId": self.activity_id, "scenarioName": None, "friendlyName": None, "state": self.state,
                     "stateDescription": self.state_description, "tasks": [], "errors": list(self.errors),
                     "allowedActions": [], "targetObjectId": None, "targetObjectName": None,
                     "targetInstanceType": self.target_type, "customDetails": self._custom(False)}
        else:
            props = {"activityId": self.activity_id, "scenarioName": self.scenario, "friendlyName": self.friendly,
                     "state": self.state, "stateDescription": self.state_description,
                     "tasks": [t.body(self) for t in self.tasks], "errors": list(self.errors),
                     "startTime": iso(self.start)}
            if self.end:
                props["endTime"] = iso(self.end)
            props.update({"allowedActions": ["Cancel"] if self.state in RUNNING and self.target_kind != "child" else [],
                          "targetObjectId": self.target_object_id, "targetObjectName": self.target_name,
                          "targetInstanceType": self.target_type, "customDetails": self._custom(True)})
        return {"id": self.id, "name": self.name, "type": "Microsoft.RecoveryServices/vaults/replicationJobs",
                "properties": props}


class Engine:
    """Runs jobs; holds the failures, stops and holds the control API arms."""

    def __init__(self, world, effects=None):
        self.world = world
        self.effects = effects
        self.local = threading.local()
        self.pending_failures = {}
        self.pending_holds = {}
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

    def arm_hold(self, kind, name, at_task, scenario=None):
        """The next job of the item or plan (of that ``scenario``, e.g. ``UnplannedFailover``, when given) waits at
        task ``at_task`` (1-based number or name: the task is started, its first child too, and waits there) until
        :meth:`release`; 0 keeps the job NotStarted."""
        with self.world.lock:
            self.pending_holds[(kind, name)] = (at_task, scenario)

    def release(self, job=None):
        """Let held jobs (or one) go on."""
        with self.world.lock:
            jobs = [job] if job is not None else list(self.world.jobs.values())
        for held in jobs:
            held.release.set()

    def on_effect(self, label):
        job = getattr(self.local, "job", None)
        if job is None:
            return
        with self.world.lock:
            if job.stop_after is not None and len(job.effects) >= job.stop_after:
                raise StopJob("stopped before side effect %d (%s)" % (len(job.effects) + 1, label))
            job.effects.append(label)

    # ------------------------------------------------------------------ running
    def register(self, job):
        """Make a job known to the vault without running it (a child job that another job's task runs)."""
        with self.world.lock:
            self.world.jobs[job.name] = job
        return job

    def submit(self, job):
        with self.world.lock:
            key_name = job.target_name
            job.fail_at = self.pending_failures.pop((job.target_kind, key_name), None)
            hold_at, scenario = self.pending_holds.get((job.target_kind, key_name), (None, None))
            if hold_at is not None and scenario in (None, job.scenario):
                job.hold_at = self.pending_holds.pop((job.target_kind, key_name))[0]
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
        job.release.set()

    def stop(self, timeout=5.0):
        self.stopping.set()
        self.release()
        for thread in self.threads:
            thread.join(timeout)

    def _sleep(self, seconds):
        if seconds > 0:
            self.stopping.wait(seconds)

    def _hold(self, job):
        job.held.set()
        while not job.release.wait(0.05):
            if self.stopping.is_set():
                break
        job.held.clear()

    @staticmethod
    def _matches(armed, task, index):
        return str(armed) == str(index) or str(armed) in (task.name, task.task_id)

    def _run(self, job):
        self.local.job = job
        failure = None
        try:
            if job.hold_at is not None and str(job.hold_at) == "0":
                self._hold(job)
            # ASR's first poll of a job can find it NotStarted (recorded): the job starts once it was polled, or after
            # job_start_seconds when nobody polls it
            job.polled.wait(float(self.world.timings.get("job_start_seconds", 0) or 0))
            with self.world.lock:
                job.started = True
                job.start = time.time()
                job.state = job.state_description = "InProgress"
            seconds = float(self.world.timings.get("job_seconds", 0) or 0)
            per_task = seconds / max(1, len(job.tasks))
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

    def _error(self, job, task, exc, provider):
        """ASR's JobErrorDetails. A side effect's failure comes from the provider (the configuration server or the
        appliance reports it); every other condition is the service's, whose provider details are empty (as the
        recorded failed commit shows: errorCode 0, errorMessage null)."""
        return {"serviceErrorDetails": {"code": str(exc.code), "message": exc.message,
                                        "possibleCauses": exc.possible_causes, "recommendedAction": exc.recommended_action,
                                        "activityId": job.activity_id},
                "providerErrorDetails": {"errorCode": provider_code(exc.code) if provider else 0,
                                         "errorMessage": exc.message if provider else None,
                                         "errorId": str(uuid.uuid4()),
                                         "possibleCauses": exc.possible_causes if provider else "",
                                         "recommendedAction": exc.recommended_action if provider else ""},
                "errorLevel": "Error", "creationTime": iso(), "taskId": task.task_id}

    def _begin(self, job, task):
        with self.world.lock:
            task.state = task.state_description = "InProgress"
            task.start = time.time()
            child = task.child_job
            if child is not None and not child.started:
                child.started, child.start = True, task.start
                child.state = child.state_description = "InProgress"

    def _run_task(self, job, task, index, parent=None, hold=False):
        armed = job.fail_at
        try:
            if armed and parent is None and self._matches(armed[0], task, index):
                raise JobFailed(armed[1], armed[2], "The lab injected this failure.", "Clear the fault and retry.",
                                provider=False)
            if task.skip:
                with self.world.lock:
                    task.state, task.state_description = "Other", "Skipped"
                return
            self._begin(job, task)
            hold = hold or (parent is None and job.hold_at is not None and self._matches(job.hold_at, task, index))
            if hold and not task.children:
                self._hold(job)
            for number, child in enumerate(task.children, 1):
                self._run_task(job, child, number, parent=task, hold=hold and number == 1)
            if task.run is not None:
                task.run()
            if job.stop_after is not None and len(job.effects) >= job.stop_after and parent is None:
                raise StopJob("stopped after side effect %d" % len(job.effects))
        except (JobFailed, EffectError, StopJob) as exc:
            if isinstance(exc, StopJob):
                exc = JobFailed("LabStoppedAfterEffect", "The job stopped after %d side effect(s), as the lab was told to."
                                % len(job.effects), "A fault injected by the lab.", "Restart the job.", provider=False)
            elif isinstance(exc, EffectError):
                exc = JobFailed(exc.code, exc.message, exc.possible_causes, exc.recommended_action, provider=True)
            provider = exc.provider
            with self.world.lock:
                if task.start is None:
                    task.start = time.time()
                error = self._error(job, task, exc, provider)
                if not task.errors:
                    task.errors.append(error)
                task.state, task.state_description, task.end = "Failed", "Failed", time.time()
                self._end_child(task, "Failed", [error])
            raise exc from None
        with self.world.lock:
            task.state, task.state_description, task.end = "Succeeded", "Completed", time.time()
            self._end_child(task, "Succeeded", [])

    @staticmethod
    def _end_child(task, state, errors):
        child = task.child_job
        if child is None:
            return
        child.state, child.state_description = state, "Completed" if state == "Succeeded" else state
        child.end = task.end
        child.errors = list(errors)
        child.done.set()

    def _finish(self, job, failure):
        with self.world.lock:
            job.end = time.time()
            job.started = True
            try:
                if failure is None:
                    job.state, job.state_description = "Succeeded", "Completed"
                    if job.on_success:
                        job.on_success(job)
                else:
                    left = "Cancelled" if failure == "cancelled" else "Other"
                    for task in job.all_tasks():
                        if task.state == "NotStarted":
                            # after a failure ASR shows the tasks it did not run as skipped (Other / Skipped)
                            task.state, task.state_description = (left, "Skipped") if left == "Other" else (left, left)
                    if failure == "cancelled":
                        job.state = job.state_description = "Cancelled"
                    else:
                        job.state, job.state_description = "Failed", "Failed"
                        job.errors = [e for t in job.all_tasks() for e in t.errors][:1] or job.errors
                    if job.on_failure:
                        job.on_failure(job)
            finally:
                for holder in job.locks:
                    if holder.get("current_job") == job.name:
                        holder["current_job"] = None
                job.done.set()
