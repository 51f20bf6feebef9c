# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime

import pytest
from azure.core.exceptions import HttpResponseError, ServiceResponseError
from azure.mgmt.recoveryservicessiterecovery import models

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import jobs
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock

VAULT = "/Subscriptions/sub/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
JOB = "3c7b6a1e-0000-4a6f-9d1b-2f5d8c9e0a11"


def test_job_name_from_location_as_asr_sends_it():
    headers = {
        "Location": "https://centraluseuap.management.azure.com" + VAULT
        + "/replicationFabrics/f/replicationProtectionContainers/c/replicationProtectedItems/i/operationresults/"
        + JOB + "?api-version=2021-06-01",
        "Azure-AsyncOperation": "https://x" + VAULT + "/replicationOperationStatus/other?api-version=1",
    }
    assert jobs.job_name_from_headers(headers) == JOB


@pytest.mark.parametrize("headers", [
    {"azure-asyncoperation": "https://x" + VAULT + "/replicationOperationStatus/" + JOB + "?api-version=1"},
    {"x-ms-request-id": VAULT + "/replicationJobs/" + JOB},
])
def test_job_name_from_the_other_headers(headers):
    assert jobs.job_name_from_headers(headers) == JOB


def test_no_job_in_headers():
    assert jobs.job_name_from_headers({"x-ms-request-id": "4b9e-plain-guid"}) is None


class FakeHttp:
    def __init__(self, status, headers):
        self.status_code = status
        self.headers = headers


class FakePipelineResponse:
    def __init__(self, status, headers):
        self.http_response = FakeHttp(status, headers)


def test_start_calls_without_the_sdk_poller_and_returns_the_job():
    seen = {}

    def begin_failover_commit(rg, vault, fabric, container, item, **kwargs):
        seen.update(kwargs)
        kwargs["raw_response_hook"](FakePipelineResponse(202, {"Location": VAULT + "/operationresults/" + JOB}))

    assert jobs.start(begin_failover_commit, "rg", "v", "f", "c", "i") == (JOB, 202)
    assert seen["polling"] is False


@pytest.mark.parametrize("first", [429, 500, 503])
def test_start_takes_the_job_of_the_last_attempt_after_a_retried_answer(first):
    """azure-core's retry policy repeats a throttled or failed POST and calls the hook for each attempt."""
    def begin(**kwargs):
        kwargs["raw_response_hook"](FakePipelineResponse(first, {"x-ms-request-id": "4b9e-plain-guid",
                                                                 "Retry-After": "1"}))
        kwargs["raw_response_hook"](FakePipelineResponse(202, {"Location": VAULT + "/operationresults/" + JOB}))

    assert jobs.start(begin) == (JOB, 202)


def test_a_202_without_a_job_is_an_error():
    def begin(**kwargs):
        kwargs["raw_response_hook"](FakePipelineResponse(202, {}))

    with pytest.raises(AzureError, match="named no job"):
        jobs.start(begin)


def job_model(state, tasks=None, errors=None):
    return models.Job({
        "name": JOB, "id": VAULT + "/replicationJobs/" + JOB,
        "properties": {
            "scenarioName": "UnplannedFailover", "friendlyName": "Failover", "state": state,
            "stateDescription": "Completed" if state != "InProgress" else "InProgress",
            "startTime": "2026-11-26T12:02:36Z",
            "endTime": "2026-11-26T12:06:11Z" if state != "InProgress" else None,
            "targetObjectName": "app01", "allowedActions": ["Cancel"] if state == "InProgress" else [],
            "tasks": tasks or [], "errors": errors or [],
        },
    })


def test_an_error_listed_at_job_level_and_on_its_task_is_reported_once():
    error = {"serviceErrorDetails": {"code": "LabFailoverFailed", "message": "Injected failover failure"},
             "errorLevel": "Error"}
    task = {"name": "VmFoStartVmOnSecondary", "state": "Failed", "errors": [error]}
    summary = jobs.summarize(job_model("Failed", [task], errors=[dict(error, taskId="task-7")]))
    assert [(e["code"], e["message"]) for e in summary["errors"]] == [("LabFailoverFailed", "Injected failover failure")]


def test_summary_carries_tasks_timings_and_provider_error_codes():
    task = {
        "name": "VmFoStartVmOnSecondary", "friendlyName": "Start the replica virtual machine", "state": "Failed",
        "stateDescription": "Failed", "startTime": "2026-11-26T12:05:00Z", "endTime": "2026-11-26T12:06:00Z",
        "errors": [{
            "serviceErrorDetails": {"code": "8038", "message": "Could not bring the VM online.",
                                    "recommendedAction": "Add memory or vMotion the VM."},
            "providerErrorDetails": {"errorCode": 8038, "errorMessage": "Insufficient memory on host esx01."},
            "errorLevel": "Error",
        }],
    }
    summary = jobs.summarize(job_model("Failed", [task]))
    assert summary["state"] == "Failed"
    assert summary["duration_seconds"] == 215
    assert summary["tasks"][0]["name"] == "VmFoStartVmOnSecondary"
    error = summary["errors"][0]
    assert error["code"] == "8038"
    assert error["provider_error_code"] == 8038
    assert error["task"] == "VmFoStartVmOnSecondary"
    assert "vMotion" in error["recommended_action"]


class FakeJobs:
    def __init__(self, states):
        self.states = {name: list(seq) for name, seq in states.items()}
        self.gets = []

    def get(self, rg, vault, name):
        self.gets.append(name)
        seq = self.states[name]
        state = seq.pop(0) if len(seq) > 1 else seq[0]
        if isinstance(state, Exception):
            raise state
        return job_model(state)


class FakeClient:
    def __init__(self, states):
        self.replication_jobs = FakeJobs(states)


def test_wait_returns_when_every_job_finished():
    client = FakeClient({"a": ["InProgress", "InProgress", "Succeeded"], "b": ["InProgress", "Failed"]})
    clock = FakeClock()
    result = jobs.wait(client, "rg", "v", ["a", "b"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1)
    assert {name: s["state"] for name, s in result.items()} == {"a": "Succeeded", "b": "Failed"}
    # finished jobs are not read again
    assert client.replication_jobs.gets == ["a", "b", "a", "b", "a"]


def test_wait_stops_at_a_suspended_plan_job():
    client = FakeClient({"a": ["Suspended"]})
    clock = FakeClock()
    assert jobs.wait(client, "rg", "v", ["a"], Deadline(60, clock=clock, sleeper=clock.sleep))["a"]["state"] == "Suspended"


def throttled():
    error = HttpResponseError(message="(SubscriptionRequestsThrottled) Number of requests exceeded the limit.")
    error.status_code = 429
    return error


def test_wait_reads_a_throttled_job_again_at_the_next_poll():
    client = FakeClient({"a": ["InProgress", throttled(), throttled(), ServiceResponseError("reset"), "Succeeded"]})
    clock = FakeClock()
    result = jobs.wait(client, "rg", "v", ["a"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1)
    assert result["a"]["state"] == "Succeeded" and client.replication_jobs.gets == ["a"] * 5


def test_wait_gives_up_on_a_throttled_job_at_its_deadline_and_on_any_other_error_at_once():
    client = FakeClient({"a": ["InProgress", throttled()]})
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded, match=r"a \(not read: Could not read ASR job a: \(SubscriptionRequestsThrottled"):
        jobs.wait(client, "rg", "v", ["a"], Deadline(30, clock=clock, sleeper=clock.sleep), poll=10)
    forbidden = HttpResponseError(message="(AuthorizationFailed) no")
    forbidden.status_code = 403
    client = FakeClient({"a": ["InProgress", forbidden]})
    with pytest.raises(AzureError, match="AuthorizationFailed"):
        jobs.wait(client, "rg", "v", ["a"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1)
    assert len(client.replication_jobs.gets) == 2


def test_wait_deadline_reports_every_job_in_partial():
    client = FakeClient({"a": ["Succeeded"], "b": ["InProgress"]})
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded) as info:
        jobs.wait(client, "rg", "v", ["a", "b"], Deadline(30, clock=clock, sleeper=clock.sleep), poll=10)
    assert "1 ASR job(s) still running after 30 s: b (UnplannedFailover, app01)" in info.value.msg
    assert info.value.partial["a"]["state"] == "Succeeded"
    assert info.value.partial["b"]["state"] == "InProgress"
    assert info.value.to_dict()["partial"]["b"]["allowed_actions"] == ["Cancel"]


def named(model, name):
    model["name"] = name
    return model


class ListingJobs(FakeJobs):
    """A vault whose job list shows ``listing[poll]`` = {name: state} (or an exception) at each list call, with the tasks
    and errors empty as ASR's list leaves them (ReplicationJobs_List.json); GETs answer from ``states``."""

    def __init__(self, states, listing):
        super().__init__(states)
        self.listing = list(listing)
        self.filters = []

    def list(self, rg, vault, filter=None):  # the SDK's keyword
        self.filters.append(filter)
        shown = self.listing.pop(0) if len(self.listing) > 1 else self.listing[0]
        if isinstance(shown, Exception):
            raise shown
        return [named(job_model(state), name) for name, state in shown.items()]


def test_wait_polls_many_jobs_with_one_list_and_gets_each_once_when_it_finished():
    client = FakeClient({})
    client.replication_jobs = ListingJobs({"a": ["Succeeded"], "b": ["Failed"], "c": ["Succeeded"]}, [
        {"a": "InProgress", "b": "InProgress", "c": "InProgress", "other": "InProgress"},
        {"a": "Succeeded", "b": "InProgress", "c": "InProgress"},
        {"a": "Succeeded", "b": "Failed", "c": "InProgress"},
        {"a": "Succeeded", "b": "Failed", "c": "Succeeded"}])
    clock = FakeClock()
    result = jobs.wait(client, "rg", "v", ["a", "b", "c"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1,
                       now=datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.timezone.utc))
    assert {name: s["state"] for name, s in result.items()} == {"a": "Succeeded", "b": "Failed", "c": "Succeeded"}
    # one list per poll while several jobs run, then the last job alone by its GET; each finished job read once
    assert len(client.replication_jobs.filters) == 3
    assert client.replication_jobs.gets == ["a", "b", "c"]
    # jobs started from 15 minutes before the wait (the controller's clock may be behind ASR's)
    assert client.replication_jobs.filters[0] == "startTime eq '2026-11-26T11:45:00Z'"


def test_item_jobs_that_succeeded_come_from_the_list_and_only_a_failed_one_is_read_again():
    client = FakeClient({})
    client.replication_jobs = ListingJobs({"a": ["Succeeded"], "b": ["Failed"], "c": ["Succeeded"], "d": ["Succeeded"]}, [
        {"a": "InProgress", "b": "InProgress", "c": "InProgress", "d": "InProgress"},
        {"a": "Succeeded", "b": "Failed", "c": "InProgress", "d": "InProgress"},
        {"a": "Succeeded", "b": "Failed", "c": "Succeeded", "d": "Succeeded"}])
    clock = FakeClock()
    result = jobs.wait(client, "rg", "v", ["a", "b", "c", "d"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1,
                       succeeded_tasks=False)
    assert {name: s["state"] for name, s in result.items()} == {"a": "Succeeded", "b": "Failed", "c": "Succeeded",
                                                                "d": "Succeeded"}
    # the failed job is read for its errors; the succeeded ones are the list's (no tasks)
    assert client.replication_jobs.gets == ["b"]
    assert result["a"]["tasks"] == [] and result["c"]["end_time"] is not None


def test_wait_gets_a_job_the_list_does_not_show():
    client = FakeClient({})
    client.replication_jobs = ListingJobs({"a": ["InProgress", "Succeeded"], "b": ["Succeeded"]}, [
        {"b": "InProgress"}, {"b": "Succeeded"}])
    clock = FakeClock()
    result = jobs.wait(client, "rg", "v", ["a", "b"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1)
    assert result["a"]["state"] == "Succeeded" and result["b"]["state"] == "Succeeded"
    assert client.replication_jobs.gets == ["a", "a", "b"]


def test_a_throttled_list_is_read_again_and_a_refused_filter_turns_to_gets():
    client = FakeClient({})
    client.replication_jobs = ListingJobs({"a": ["Succeeded"], "b": ["Succeeded"]}, [
        throttled(), {"a": "Succeeded", "b": "Succeeded"}])
    clock = FakeClock()
    result = jobs.wait(client, "rg", "v", ["a", "b"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1)
    assert {s["state"] for s in result.values()} == {"Succeeded"}
    assert len(client.replication_jobs.filters) == 2 and client.replication_jobs.gets == ["a", "b"]
    refused = HttpResponseError(message="(InvalidFilter) The $filter is not valid.")
    refused.status_code = 400
    client.replication_jobs = ListingJobs({"a": ["InProgress", "Succeeded"], "b": ["Succeeded"]}, [refused])
    result = jobs.wait(client, "rg", "v", ["a", "b"], Deadline(600, clock=clock, sleeper=clock.sleep), poll=1)
    assert {s["state"] for s in result.values()} == {"Succeeded"}
    assert len(client.replication_jobs.filters) == 1 and client.replication_jobs.gets == ["a", "b", "a"]


def test_a_throttled_list_past_the_deadline_names_each_job_not_read():
    client = FakeClient({})
    client.replication_jobs = ListingJobs({}, [throttled()])
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded, match=r"a \(not read: .*Throttled.*b \(not read"):
        jobs.wait(client, "rg", "v", ["a", "b"], Deadline(20, clock=clock, sleeper=clock.sleep), poll=10)
