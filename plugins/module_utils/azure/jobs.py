# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Follow ASR work through its job: start an operation, name its job, wait with a deadline.

ASR answers reProtect / unplannedFailover / plannedFailover / failoverCommit with 202 and
Location: .../operationresults/{job}; the job (``replicationJobs/{job}``) carries the
state, the tasks and the provider error codes that a module must report.
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError, from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.plugins.module_utils.progress import NONE

FINISHED = ("Succeeded", "Failed", "Cancelled")
# Suspended: the job waits for a manual action of a recovery plan (resume it in the portal or with resume).
STOPPED = ("Suspended",)

# Location and Azure-AsyncOperation name the job in every recorded 202 (tests/recorded/asr, fact 9);
# x-ms-request-id is the job's ARM id given twice for item and plan operations, and for a PUT/PATCH of a
# vCenter one "<client request id> <M/d/yyyy h:mm:ss AM>" value that names no job: it is the last resort.
_PATTERNS = (
    ("location", re.compile(r"/operationresults/([^/?,\s]+)", re.I)),
    ("azure-asyncoperation", re.compile(r"/replicationOperationStatus/([^/?,\s]+)", re.I)),
    ("x-ms-request-id", re.compile(r"/replicationJobs/([^/?,\s]+)", re.I)),
)


def _values(value):
    """A header's values: a list (as recorded), or one string in which the HTTP stack joined a repeated header
    with ', ' (requests / urllib3 do)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return [part.strip() for v in values if v is not None for part in str(v).split(",") if part.strip()]


def job_name_from_headers(headers):
    """The job name from a 202's headers (Location first, as PowerShell does, then Azure-AsyncOperation, then
    x-ms-request-id), or None. Repeated headers, as a list or joined with commas, give the job name once."""
    lowered = {}
    for key, value in dict(headers or {}).items():
        lowered.setdefault(str(key).lower(), []).extend(_values(value))
    for header, pattern in _PATTERNS:
        for value in lowered.get(header, []):
            match = pattern.search(value)
            if match:
                return match.group(1)
    return None


def start(begin, *args, **kwargs):
    """Call an SDK ``begin_*`` method without the SDK's poller and return the job name.

    Returns ``(job_name, status_code)``; a 200 answer carries no job (the name is None). azure-core calls the
    hook once per attempt: a throttled (429) or failed (5xx) attempt that its retry policy repeats comes first,
    and only the last answer, the one the SDK returns, names the job.
    """
    seen = {}

    def hook(response):
        seen["status"] = response.http_response.status_code
        seen["headers"] = dict(response.http_response.headers)

    try:
        begin(*args, polling=False, raw_response_hook=hook, **kwargs)
    except Exception as exc:  # pylint: disable=broad-except  # one readable error
        raise from_exception(exc, "start %s" % getattr(begin, "__name__", "the operation")) from exc
    name = job_name_from_headers(seen.get("headers") or {})
    if seen.get("status") == 202 and not name:
        raise AzureError("Site Recovery accepted the request but named no job in Location, "
                         "Azure-AsyncOperation or x-ms-request-id.", headers=seen.get("headers"))
    return name, seen.get("status")


def _unset(value):
    """ASR writes ``0001-01-01T00:00:00`` for a time not reached yet (unstarted tasks): read as no time."""
    return value is None or getattr(value, "year", None) == 1 or str(value).startswith("0001-01-01")


def _iso(value):
    if _unset(value):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else value


def _epoch(value):
    return round(value.timestamp(), 3) if hasattr(value, "timestamp") and not _unset(value) else None


def _errors(errors, task=None):
    result = []
    for error in errors or []:
        service = getattr(error, "service_error_details", None)
        provider = getattr(error, "provider_error_details", None)
        result.append({
            "task": task or getattr(error, "task_id", None),
            "code": getattr(service, "code", None),
            "message": getattr(service, "message", None),
            "possible_causes": getattr(service, "possible_causes", None),
            "recommended_action": getattr(service, "recommended_action", None),
            "provider_error_code": getattr(provider, "error_code", None),
            "provider_message": getattr(provider, "error_message", None),
            "provider_recommended_action": getattr(provider, "recommended_action", None),
            "level": getattr(error, "error_level", None),
        })
    return result


def _top_level_error(job):
    """The 2017 API's ``error`` beside ``properties`` ({code, message}; tests/recorded/asr, fact 13)."""
    error = job.get("error") if hasattr(job, "get") else None
    if not isinstance(error, dict) or not (error.get("code") or error.get("message")):
        return []
    return [{"task": None, "code": error.get("code"), "message": error.get("message"), "possible_causes": None,
             "recommended_action": None, "provider_error_code": None, "provider_message": None,
             "provider_recommended_action": None, "level": "Error"}]


def _unique(errors):
    """A failed task's error is also listed at job level (with a taskId that need not be the task's name): report
    each error once, by code and message, in the first place it appears."""
    seen = set()
    result = []
    for error in errors:
        key = (str(error["code"]), error["message"], str(error["provider_error_code"]), error.get("provider_message"))
        if key not in seen:
            seen.add(key)
            result.append(error)
    return result


def summarize(job):
    """A plain dict of what matters in an ASR job: state, timings, tasks and every error (once each).

    Tolerant of the shapes recorded: a first poll with no scenario, no tasks and no times; unstarted task times
    ``0001-01-01T00:00:00``; an end time truncated to the second before a fractional start (duration 0, not
    negative); errors at job level, per task, or (2017) beside ``properties``."""
    props = job.properties
    tasks = []
    errors = _errors(getattr(props, "errors", None))
    for task in props.tasks or []:
        task_errors = _errors(task.errors, task=task.name)
        errors.extend(task_errors)
        tasks.append({"name": task.name, "friendly_name": task.friendly_name, "state": plain(task.state),
                      "state_description": task.state_description, "start_time": _iso(task.start_time),
                      "end_time": _iso(task.end_time), "errors": task_errors})
    errors = _unique(errors) or _top_level_error(job)
    duration = None
    if not _unset(props.start_time) and not _unset(props.end_time):
        duration = max(0.0, (props.end_time - props.start_time).total_seconds())
    return {"name": job.name, "id": job.id, "scenario": props.scenario_name, "friendly_name": props.friendly_name,
            "state": plain(props.state), "state_description": props.state_description,
            "start_time": _iso(props.start_time), "end_time": _iso(props.end_time), "duration_seconds": duration,
            "start_epoch": _epoch(props.start_time), "end_epoch": _epoch(props.end_time),
            "target": props.target_object_name, "allowed_actions": list(props.allowed_actions or []),
            "tasks": tasks, "errors": errors}


def get(client, resource_group, vault, job_name):
    try:
        return summarize(client.replication_jobs.get(resource_group, vault, job_name))
    except Exception as exc:  # pylint: disable=broad-except  # one readable error
        raise from_exception(exc, "read ASR job", job_name) from exc


TRANSIENT_STATUS = frozenset((408, 429, 500, 502, 503, 504))
TRANSIENT_ERRORS = frozenset(("ServiceRequestError", "ServiceResponseError"))


def transient(error):
    """Whether a failed read may answer on the next poll: throttled (429), a 408 or 5xx the session's retry policy
    gave up on, or the connection (azure-core's ServiceRequestError / ServiceResponseError)."""
    details = getattr(error, "details", {}) or {}
    return details.get("status") in TRANSIENT_STATUS or details.get("error_type") in TRANSIENT_ERRORS


def wait(client, resource_group, vault, job_names, deadline, poll=10.0, max_poll=30.0, any_finished=False):
    """Wait until every job finished (or stopped for a manual action); one GET per job per poll. ``any_finished``:
    return as soon as one has (the others' latest summaries with it).

    A read that fails transiently (:func:`transient`: throttled, 5xx, connection) does not end the wait: the job
    goes on in Azure, so the next poll reads it again, until the deadline. Returns {job_name: summary}. On expiry
    raises :class:`DeadlineExceeded` whose partial holds the latest summary of every job (and the last failed
    read, when that is all there is).
    """
    latest = {}
    unread = {}
    pending = list(dict.fromkeys(job_names))
    total = len(pending)
    interval = poll
    while pending:
        for name in pending:
            try:
                latest[name] = get(client, resource_group, vault, name)
                unread.pop(name, None)
            except AzureError as error:
                if not transient(error):
                    raise
                unread[name] = error.msg
        pending = [n for n in pending if n in unread or latest[n]["state"] not in FINISHED + STOPPED]
        getattr(deadline, "progress", NONE).jobs([latest[n] for n in pending if n in latest])
        if not pending or (any_finished and len(pending) < total):
            break
        if deadline.expired():
            raise DeadlineExceeded(
                "%d ASR job(s) still running after %.0f s: %s. They go on in Azure; re-run to continue from "
                "their result, or raise the timeout." % (len(pending), deadline.elapsed(), ", ".join(
                    "%s (not read: %s)" % (n, unread[n]) if n in unread else
                    "%s (%s, %s)" % (n, latest[n]["scenario"], latest[n]["target"]) for n in pending)),
                partial=latest)
        deadline.sleep(interval)
        interval = min(max_poll, interval * 1.5)
    return latest
