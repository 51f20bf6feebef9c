# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Entra ID, the control API's faults and job failures, and refusals while a job runs."""

import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.core.pipeline.transport import RequestsTransport

from tests.lab.azure import control

from .test_azure_lifecycle import failback_inputs

FABRICS = "/replicationFabrics$"


def test_token_flow_and_wrong_secret(lab):
    from azure.identity import ClientSecretCredential
    token = lab.credential.get_token(lab.url + "/.default")
    assert token.token and token.expires_on > time.time() + 3000
    wrong = ClientSecretCredential(lab.env["AZURE_TENANT"], lab.env["AZURE_CLIENT_ID"], "not-the-secret", authority=lab.url,
                                   disable_instance_discovery=True, connection_verify=lab.ca)
    with pytest.raises(ClientAuthenticationError) as refused:
        wrong.get_token(lab.url + "/.default")
    assert "AADSTS7000215" in str(refused.value)
    arm = lab.url + "/subscriptions/%s/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-dr/" \
                    "replicationFabrics?api-version=2025-08-01" % lab.env["AZURE_SUBSCRIPTION_ID"]
    response = requests.get(arm, verify=lab.ca, timeout=5)
    assert response.status_code == 401 and response.json()["error"]["code"] == "AuthenticationFailed"
    response = requests.get(arm, verify=lab.ca, timeout=5, headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert response.headers["x-ms-request-id"]
    response = requests.get(arm, verify=lab.ca, timeout=5, headers={"Authorization": "Bearer " + token.token})
    assert response.status_code == 200 and response.headers["x-ms-request-id"]


def _fabrics(lab):
    return list(lab.asr.replication_fabrics.list(lab.rg, lab.vault))


def _count(lab, suffix):
    stats = lab.control("GET", "/stats")["requests"]
    return sum(n for key, n in stats.items() if key.startswith("GET ") and key.endswith(suffix))


def test_fault_status_times_then_normal(lab):
    lab.control("POST", "/faults", {"method": "GET", "path_regex": FABRICS, "kind": "status", "status": 409,
                                    "code": "Conflict", "times": 2})
    for _attempt in range(2):
        with pytest.raises(HttpResponseError) as failed:
            _fabrics(lab)
        assert failed.value.status_code == 409 and failed.value.error.code == "Conflict"
    assert len(_fabrics(lab)) == 1
    assert lab.control("GET", "/faults")["value"] == []


def test_fault_throttle_honours_retry_after(lab, monkeypatch):
    waits = []  # what the SDK's retry policy asks its transport to sleep, recorded instead of slept
    monkeypatch.setattr(RequestsTransport, "sleep", lambda _transport, seconds: waits.append(seconds))
    lab.control("POST", "/faults", {"path_regex": FABRICS, "kind": "throttle", "retry_after": 7, "times": 1})
    assert len(_fabrics(lab)) == 1
    assert waits == [7]  # one 429 with Retry-After: 7, one wait of 7 s, then the retry that succeeded
    assert _count(lab, "/replicationFabrics") == 2


def test_fault_reset_is_retried(lab):
    lab.control("POST", "/faults", {"path_regex": FABRICS, "kind": "reset", "times": 1})
    assert len(_fabrics(lab)) == 1
    assert _count(lab, "/replicationFabrics") == 2


def test_fault_latency_and_clear(lab, monkeypatch):
    delays = []  # the emulator's delays, recorded instead of slept
    monkeypatch.setattr(control, "delay", delays.append)
    lab.control("POST", "/faults", {"path_regex": FABRICS, "kind": "latency", "delay_seconds": 0.4})
    assert len(_fabrics(lab)) == 1  # a delayed request still succeeds
    assert delays == [0.4]
    assert [f["hits"] for f in lab.control("GET", "/faults")["value"]] == [1]
    lab.control("DELETE", "/faults")
    assert len(_fabrics(lab)) == 1
    assert delays == [0.4]  # cleared: no further delay
    assert _count(lab, "/replicationFabrics") == 2


def test_fault_status_retried_by_the_sdk(lab):
    lab.control("POST", "/faults", {"path_regex": FABRICS, "kind": "status", "status": 503, "retry_after": 0, "times": 1})
    assert len(_fabrics(lab)) == 1
    assert _count(lab, "/replicationFabrics") == 2


def test_injected_job_failure(lab, effects):
    lab.control("POST", "/jobs/fail", {"item": "app01", "at_task": 2, "code": "LabBoom", "message": "boom"})
    poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"), polling=False)
    job = lab.wait_job(job_name)
    # task 2 is the commit of the failover, which an item running in Azure has done: the injected failure hits it
    # anyway; the tasks after a failed one show as skipped and a failed job offers nothing (as recorded)
    assert [t.state for t in job.properties.tasks] == ["Succeeded", "Failed", "Other", "Other", "Other"]
    assert job.properties.errors[0].service_error_details.code == "LabBoom"
    assert job.properties.errors[0].provider_error_details.error_code == 0
    assert job.properties.allowed_actions == []
    assert effects.names() == []
    # the next job is normal again
    poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"))
    poller.result()
    assert lab.stage("app01") == "replicating_to_onprem"


def test_stop_after_effect_then_restart(lab, effects):
    lab.control("POST", "/jobs/stop_after_effect", {"effects": 2})
    _poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"), polling=False)
    job = lab.wait_job(job_name)
    assert job.properties.state == "Failed"
    assert job.properties.errors[0].service_error_details.code == "LabStoppedAfterEffect"
    assert effects.done == ["power off app01", "detach disk 0 of app01"]  # half done, as a crashed job leaves it
    assert lab.stage("app01") == "running_in_azure"
    state = lab.control("GET", "/state")
    assert state["jobs"][job_name]["effects"] == effects.done
    restarted = lab.asr.replication_jobs.begin_restart(lab.rg, lab.vault, job_name).result()
    assert restarted.name != job_name
    done = lab.wait_job(restarted.name)
    assert done.properties.state == "Succeeded" and done.properties.scenario_name == "SwitchReplicationGroupProtection"
    assert lab.stage("app01") == "replicating_to_onprem"


def test_second_action_while_a_job_runs_is_refused_then_cancel(lab, effects):
    lab.control("POST", "/jobs/hold", {"item": "app01", "at_task": 1})  # the job waits in its first task
    _poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"), polling=False)
    assert lab.emulator.world.jobs[job_name].held.wait(60)
    job = lab.asr.replication_jobs.get(lab.rg, lab.vault, job_name)
    assert job.properties.state == "InProgress" and job.properties.allowed_actions == ["Cancel"]
    item = lab.item("app01")
    assert item.properties.current_scenario.scenario_name == "SwitchReplicationGroupProtection"
    assert item.properties.current_scenario.job_id.endswith(job_name) and item.properties.allowed_operations == []
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"))
    assert refused.value.status_code == 409 and job_name in str(refused.value)
    cancelled = lab.asr.replication_jobs.begin_cancel(lab.rg, lab.vault, job_name)  # a cancel releases the hold
    assert cancelled.result().properties.state == "Cancelled"
    assert lab.stage("app01") == "running_in_azure"
    assert lab.item("app01").properties.current_scenario.scenario_name == "None"


def test_hold_keeps_a_job_not_started_or_at_a_task_until_released(lab, effects):
    lab.control("POST", "/jobs/hold", {"item": "app01", "at_task": 0})
    _poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"), polling=False)
    assert lab.emulator.world.jobs[job_name].held.wait(60)
    job = lab.asr.replication_jobs.get(lab.rg, lab.vault, job_name)
    # what ASR's first poll of a job can show (job.commit.notstarted_first_poll): no scenario, names, time or tasks
    assert job.properties.state == "NotStarted" and job.properties.scenario_name is None
    assert job.properties.tasks == [] and job.properties.start_time is None and job.properties.allowed_actions == []
    assert effects.calls == []
    lab.control("POST", "/jobs/release", {"job": job_name})
    assert lab.wait_job(job_name).properties.state == "Succeeded"
    assert lab.stage("app01") == "replicating_to_onprem"


def _token(lab):
    response = requests.post("%s/%s/oauth2/v2.0/token" % (lab.url, lab.env["AZURE_TENANT"]), verify=lab.ca, timeout=5,
                             data={"grant_type": "client_credentials", "client_id": lab.env["AZURE_CLIENT_ID"],
                                   "client_secret": lab.env["AZURE_SECRET"], "scope": lab.url + "/.default"})
    assert response.status_code == 200, response.text
    return response.json()


def test_token_lifetime_is_configurable(lab_factory):
    lab = lab_factory({"azure": {"token_lifetime_seconds": 120}})
    assert _token(lab)["expires_in"] == 120  # the spec's azure.token_lifetime_seconds
    lab.control("POST", "/tokens/lifetime", {"seconds": 0})
    token = _token(lab)["access_token"]  # expired as soon as it was issued: ARM refuses it as ARM does
    arm = lab.url + "/subscriptions/%s/resourceGroups/rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-dr/" \
                    "replicationFabrics?api-version=2025-08-01" % lab.env["AZURE_SUBSCRIPTION_ID"]
    response = requests.get(arm, verify=lab.ca, timeout=5, headers={"Authorization": "Bearer " + token})
    assert response.status_code == 401 and response.json()["error"]["code"] == "ExpiredAuthenticationToken"


def test_default_token_lifetime_is_entra_ids(lab):
    assert _token(lab)["expires_in"] == 3599


def test_a_jobs_first_poll_finds_it_not_started(lab_factory):
    """The recorded first poll of a commit (job.commit.notstarted_first_poll): NotStarted, no scenario, names, start time
    or tasks; the job runs once it was polled (job_start_seconds only bounds the wait of a job nobody polls)."""
    from tests.recorded import asr as recorded

    expected = recorded.load("job.commit.notstarted_first_poll.V2ATestFailback")[0]["properties"]
    lab = lab_factory({"timings": {"job_start_seconds": 600},
                       "asr": {"items": [{"name": "app01", "stage": "failed_back", "master_target": "mt-win01"}]}})
    _poller, job_name, _headers = lab.item_call("failover_commit", "app01", polling=False)
    first = lab.asr.replication_jobs.get(lab.rg, lab.vault, job_name).properties
    assert (first.state, first.scenario_name, first.friendly_name, first.start_time, first.tasks, first.allowed_actions) \
        == (expected["state"], expected["scenarioName"], expected["friendlyName"], None, expected["tasks"],
            expected["allowedActions"])
    job = lab.wait_job(job_name)
    assert job.properties.state == "Succeeded" and job.properties.scenario_name == "CommitFailover"
