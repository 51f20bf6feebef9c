# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.operations: which ASR call is started (path, body) and how its job is followed.

The SDK client is real; only the transport is scripted. Paths, bodies, headers and job bodies are
those of the live Site Recovery traffic recorded in Azure PowerShell's session records
V2ATestFailback.json and TestV2ARCMFailback.json (Azure/azure-powershell,
src/RecoveryServices/RecoveryServices.SiteRecovery.Test/SessionRecords/; asr-api.md 1.3 and 2.x),
trimmed to the fields that matter.
"""

import json
import types
import urllib.parse

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import operations
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.vault import Vault
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import (
    RecordingTransport,
    StaticCredential,
)

# --- V2ATestFailback (classic failback of one VM) -------------------------------------------------------------
SUB = "b8aef8e1-37df-4f17-a537-f10e183c8eca"
VAULT = "/subscriptions/%s/resourceGroups/PwsTestRG/providers/Microsoft.RecoveryServices/vaults/PwsTestVault" % SUB
ITEM_PATH = (VAULT + "/replicationFabrics/9a60d28b65543435e52e1b81073c6a3aca7dd5d00d201e49fbe4e86848c495ed"
             "/replicationProtectionContainers/cloud_01fbe5d9-6391-45fc-a729-bef0b458c9fe"
             "/replicationProtectedItems/V2A-W2K16-201-new")
# ASR writes its own ids with a capital S (item_get.InMage.replicating_to_onprem.V2ATestFailback.json)
ITEM_ID = ITEM_PATH.replace("/subscriptions/", "/Subscriptions/", 1)
FAILOVER_JOB = "a2e9f617-66a6-4933-9ffc-d5665da42abf"
COMMIT_JOB = "a422ca87-173b-4a70-80fd-4ce89bfa1c52"
# lro_202.unplannedFailover.V2ATestFailback.json: request body, as sent by PowerShell
UNPLANNED_BODY = {"properties": {"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
                                 "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"}}}

# --- TestV2ARCMFailback (modernized) ----------------------------------------------------------------------------
RCM_SUB = "b364ed8d-4279-4bf8-8fd1-56f8fa0ae05c"
RCM_VAULT = "/subscriptions/%s/resourceGroups/V2A-ECY/providers/Microsoft.RecoveryServices/vaults/Rcm-Vault-150" % RCM_SUB
RCM_ITEM_PATH = (RCM_VAULT + "/replicationFabrics/Rcm-Vault-150-vmwarefabric/replicationProtectionContainers/"
                 "Rcm-Vault-4678replicationcontainer/replicationProtectedItems/vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8")
RCM_JOB = "8a30cd0a-523b-4960-b524-e2f0d3836549"
# lro_202.plannedFailover.modernized.TestV2ARCMFailback.json: request body
PLANNED_BODY = {"properties": {"providerSpecificDetails": {"instanceType": "InMageRcmFailback",
                                                           "recoveryPointType": "ApplicationConsistent"}}}


def accepted(path, job):
    """A 202 as ASR sends it (asr-api.md 1.3): regional Location, Azure-AsyncOperation, Retry-After: 30 and
    x-ms-request-id twice (folded into one header line, as HTTP clients do), empty body."""
    upper = path.replace("/subscriptions/", "/Subscriptions/", 1)
    vault = upper.split("/replicationFabrics/")[0].split("/replicationRecoveryPlans/")[0]
    host = "https://centraluseuap.management.azure.com"
    return (202, {"Location": host + upper + "/operationresults/" + job + "?api-version=2021-06-01",
                  "Azure-AsyncOperation": host + vault + "/replicationOperationStatus/" + job + "?api-version=2021-06-01",
                  "Retry-After": "30",
                  "x-ms-request-id": ", ".join([vault + "/replicationJobs/" + job] * 2),
                  "Content-Length": "0"}, None)


def vault(answers, subscription=SUB, resource_group="PwsTestRG", name="PwsTestVault"):
    transport = RecordingTransport(answers)
    session = AzureSession(AzureParams(subscription_id=subscription), credential=StaticCredential())
    session.client_kwargs_extra = {"transport": transport}
    return Vault(session, resource_group, name), transport


def item(arm_id=ITEM_ID):
    return types.SimpleNamespace(id=arm_id, name=arm_id.rsplit("/", 1)[-1])


def path_of(request):
    return urllib.parse.urlsplit(request.url).path


def body_of(request):
    return json.loads(request.content) if request.content else None


# ------------------------------------------------------------------ starting an item action
def test_failback_failover_posts_the_recorded_body_to_the_items_unplanned_failover():
    v, transport = vault([accepted(ITEM_PATH, FAILOVER_JOB)])
    assert operations.item_action(v, "unplanned_failover", item(), UNPLANNED_BODY) == FAILOVER_JOB
    [request] = transport.sent
    assert request.method == "POST"
    # fabric, container and item come from the item's ARM id, in that order (the recorded request path)
    assert path_of(request) == ITEM_PATH + "/unplannedFailover"
    assert body_of(request) == UNPLANNED_BODY


def test_commit_posts_no_body():
    v, transport = vault([accepted(ITEM_PATH, COMMIT_JOB)])
    assert operations.item_action(v, "failover_commit", item()) == COMMIT_JOB
    [request] = transport.sent
    assert (request.method, path_of(request)) == ("POST", ITEM_PATH + "/failoverCommit")
    assert not request.content  # the recorded commit request has an empty body


def test_modernized_failback_is_a_planned_failover_of_the_item():
    v, transport = vault([accepted(RCM_ITEM_PATH, RCM_JOB)], subscription=RCM_SUB, resource_group="V2A-ECY",
                         name="Rcm-Vault-150")
    rcm_item = item(RCM_ITEM_PATH.replace("/subscriptions/", "/Subscriptions/", 1))
    assert operations.item_action(v, "planned_failover", rcm_item, PLANNED_BODY) == RCM_JOB
    [request] = transport.sent
    assert path_of(request) == RCM_ITEM_PATH + "/plannedFailover"
    assert body_of(request) == PLANNED_BODY


def test_the_vault_of_the_session_is_used_not_the_one_in_the_item_id():
    # item ids name their vault too; the call goes to the vault the module was given
    v, transport = vault([accepted(ITEM_PATH, COMMIT_JOB)], resource_group="rg-other", name="vault-other")
    operations.item_action(v, "failover_commit", item())
    assert "/resourceGroups/rg-other/providers/Microsoft.RecoveryServices/vaults/vault-other/replicationFabrics/" \
        in path_of(transport.sent[0])


def test_a_200_answer_starts_no_job_and_nothing_is_waited_for():
    # a 200 carries the item itself and names no job (asr-api.md 1.3)
    answer = (200, {}, {"id": ITEM_ID, "name": "V2A-W2K16-201-new", "properties": {}})
    v, transport = vault([answer])
    job = operations.item_action(v, "failover_commit", item())
    assert job is None
    clock = FakeClock()
    assert operations.wait(v, [job], Deadline(60, clock=clock, sleeper=clock.sleep)) == {}
    assert len(transport.sent) == 1  # no job GET


def test_a_refused_start_is_one_readable_error_naming_the_operation():
    refusal = (400, {}, {"error": {"code": "InvalidOperation", "message": "Failover is not allowed in this state."}})
    v = vault([refusal])[0]
    with pytest.raises(AzureError) as info:
        operations.item_action(v, "unplanned_failover", item(), UNPLANNED_BODY)
    assert "start begin_unplanned_failover" in info.value.msg
    assert "Failover is not allowed in this state." in info.value.msg
    assert info.value.details["status"] == 400


# ------------------------------------------------------------------ starting a plan action
PLAN_PATH = VAULT + "/replicationRecoveryPlans/plan-app"
# asr-api.md 2.3: a failback unplanned failover of a recovery plan (providerSpecificDetails is a list)
PLAN_BODY = {"properties": {"failoverDirection": "RecoveryToPrimary", "sourceSiteOperations": "Required",
                            "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": "LatestTime"}]}}


def test_plan_failover_posts_the_body_to_the_plan():
    v, transport = vault([accepted(PLAN_PATH, FAILOVER_JOB)])
    assert operations.plan_action(v, "unplanned_failover", "plan-app", PLAN_BODY) == FAILOVER_JOB
    [request] = transport.sent
    assert (request.method, path_of(request)) == ("POST", PLAN_PATH + "/unplannedFailover")
    assert body_of(request) == PLAN_BODY


def test_plan_commit_posts_no_body():
    v, transport = vault([accepted(PLAN_PATH, COMMIT_JOB)])
    assert operations.plan_action(v, "failover_commit", "plan-app") == COMMIT_JOB
    [request] = transport.sent
    assert path_of(request) == PLAN_PATH + "/failoverCommit"
    assert not request.content


# ------------------------------------------------------------------ following the jobs
def job_path(job, vault_path=VAULT):
    return vault_path + "/replicationJobs/" + job


def recorded_commit_job(state):
    """job.commit.*.V2ATestFailback.json: the first poll is NotStarted with no scenario, start time or tasks."""
    properties = {"scenarioName": None, "friendlyName": None, "state": state, "stateDescription": state, "tasks": [],
                  "errors": [], "allowedActions": [], "targetObjectName": None, "targetInstanceType": "ProtectionEntity",
                  "customDetails": {"instanceType": "AsrJobDetails", "affectedObjectDetails": {}}}
    if state != "NotStarted":
        done = state == "Succeeded"
        properties.update({
            "scenarioName": "CommitFailover", "friendlyName": "Commit", "targetObjectName": "V2A-W2K16-201",
            "stateDescription": "Completed" if done else "InProgress", "startTime": "2021-04-06T12:06:12.4149852Z",
            "tasks": [
                {"taskId": "aaaf4e1c-09e4-4494-b32b-240c9454335d", "name": "VmCommitPrerequisitesCheck",
                 "friendlyName": "Prerequisite check", "state": "Succeeded", "stateDescription": "Completed",
                 "startTime": "2021-04-06T12:06:13.3443855Z", "endTime": "2021-04-06T12:06:13.4993879Z", "errors": []},
                {"taskId": "bc146bf0-d907-4d6d-9390-8da89a527a16", "name": "VmCommit", "friendlyName": "Commit",
                 "state": state, "stateDescription": "Completed" if done else "InProgress",
                 "startTime": "2021-04-06T12:06:13.5643915Z",
                 "endTime": "2021-04-06T12:08:03.2605069Z" if done else "0001-01-01T00:00:00", "errors": []}]})
        if done:
            properties["endTime"] = "2021-04-06T12:08:03Z"
    return (200, {}, {"id": job_path(COMMIT_JOB).replace("/subscriptions/", "/Subscriptions/", 1), "name": COMMIT_JOB,
                      "type": "Microsoft.RecoveryServices/vaults/replicationJobs", "properties": properties})


def test_wait_follows_the_job_from_not_started_to_succeeded():
    answers = [recorded_commit_job("NotStarted"), recorded_commit_job("InProgress"), recorded_commit_job("Succeeded")]
    v, transport = vault(answers)
    clock = FakeClock()
    summaries = operations.wait(v, [COMMIT_JOB], Deadline(600, clock=clock, sleeper=clock.sleep))
    assert [(r.method, path_of(r)) for r in transport.sent] == [("GET", job_path(COMMIT_JOB))] * 3
    summary = summaries[COMMIT_JOB]
    assert (summary["state"], summary["scenario"]) == ("Succeeded", "CommitFailover")
    assert [t["name"] for t in summary["tasks"]] == ["VmCommitPrerequisitesCheck", "VmCommit"]
    assert summary["errors"] == []
    assert summary["duration_seconds"] == pytest.approx(110.585, abs=0.001)  # 12:06:12.4149852 -> 12:08:03


def test_wait_skips_missing_job_names_and_reads_nothing_without_a_job():
    clock = FakeClock()
    v, transport = vault([recorded_commit_job("Succeeded")])
    summaries = operations.wait(v, [None, COMMIT_JOB, ""], Deadline(60, clock=clock, sleeper=clock.sleep))
    assert list(summaries) == [COMMIT_JOB]
    assert len(transport.sent) == 1
    v, transport = vault([])
    assert operations.wait(v, [None, ""], Deadline(60, clock=clock, sleeper=clock.sleep)) == {}
    assert transport.sent == []


def test_the_poll_interval_backs_off_to_at_least_15_seconds_between_reads():
    # five unfinished reads: the wait between them grows by half each time, capped at max(poll, 15 s)
    answers = [recorded_commit_job("InProgress")] * 5 + [recorded_commit_job("Succeeded")]
    v = vault(answers)[0]
    clock = FakeClock()
    operations.wait(v, [COMMIT_JOB], Deadline(3600, clock=clock, sleeper=clock.sleep), poll=5.0)
    assert clock.sleeps == [5.0, 7.5, 11.25, 15.0, 15.0]
    # a poll above 15 s is kept as it is, never shortened to 15 s
    v = vault([recorded_commit_job("InProgress")] * 2 + [recorded_commit_job("Succeeded")])[0]
    clock = FakeClock()
    operations.wait(v, [COMMIT_JOB], Deadline(3600, clock=clock, sleeper=clock.sleep), poll=20.0)
    assert clock.sleeps == [20.0, 20.0]


def test_the_first_wait_is_five_seconds_by_default():
    v = vault([recorded_commit_job("NotStarted"), recorded_commit_job("Succeeded")])[0]
    clock = FakeClock()
    operations.wait(v, [COMMIT_JOB], Deadline(600, clock=clock, sleeper=clock.sleep))
    assert clock.sleeps == [5.0]


def test_an_expired_deadline_reports_the_jobs_still_running():
    v = vault([recorded_commit_job("InProgress")] * 3)[0]
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded) as info:
        operations.wait(v, [COMMIT_JOB], Deadline(10, clock=clock, sleeper=clock.sleep), poll=5.0)
    assert COMMIT_JOB + " (CommitFailover, V2A-W2K16-201)" in info.value.msg
    assert info.value.partial[COMMIT_JOB]["state"] == "InProgress"


def failed_job(errors):
    """A failed job in the shape of the SDK's Job / ASRTask / JobErrorDetails (asr-api.md 1.3)."""
    return (200, {}, {"id": job_path(FAILOVER_JOB), "name": FAILOVER_JOB, "properties": {
        "scenarioName": "UnplannedFailover", "friendlyName": "Failover", "state": "Failed", "stateDescription": "Failed",
        "targetObjectName": "V2A-W2K16-201", "errors": [], "tasks": [
            {"name": "VmFoStartVmOnSecondary", "friendlyName": "Start the replica virtual machine", "state": "Failed",
             "stateDescription": "Failed", "errors": errors}]}})


def test_every_job_error_gets_its_code_and_a_remedy():
    # 8038 (failback): the ESXi host lacks memory; add memory or vMotion the VM (asr-api.md 6)
    memory = {"serviceErrorDetails": {"code": "ServiceError", "message": "Failover failed."},
              "providerErrorDetails": {"errorCode": 8038, "errorMessage": "Insufficient memory on host esx01."},
              "errorLevel": "Error"}
    # a code with no remedy of ours keeps ASR's recommended action
    other = {"serviceErrorDetails": {"code": "InternalError", "message": "The VM could not be started.",
                                     "recommendedAction": "Retry the operation after some time."}, "errorLevel": "Error"}
    v = vault([failed_job([memory, other])])[0]
    clock = FakeClock()
    errors = operations.wait(v, [FAILOVER_JOB], Deadline(60, clock=clock, sleeper=clock.sleep))[FAILOVER_JOB]["errors"]
    assert [(e["task"], e["code"]) for e in errors] == [("VmFoStartVmOnSecondary", "8038"),
                                                        ("VmFoStartVmOnSecondary", "InternalError")]
    assert "memory" in errors[0]["remedy"] and "vMotion" in errors[0]["remedy"]
    assert errors[1]["remedy"] == "Retry the operation after some time."


def listed(*answers, next_link=None):
    """A page of the vault's job list: the jobs' GET bodies with ``tasks`` and ``errors`` empty, as the list gives them
    (azure-rest-api-specs ReplicationJobs_List.json)."""
    return (200, {}, {"value": [dict(body, properties=dict(body["properties"], tasks=[], errors=[]))
                                for _status, _headers, body in answers], "nextLink": next_link})


def test_two_items_jobs_are_waited_for_together():
    failed = failed_job([])
    commit_running = (200, {}, dict(recorded_commit_job("InProgress")[2], name=COMMIT_JOB, id=job_path(COMMIT_JOB)))
    page_two = "https://management.azure.com" + job_path("") + "?api-version=2025-08-01&$skiptoken=1"
    v, transport = vault([listed(commit_running, next_link=page_two), listed(failed), failed,
                          recorded_commit_job("Succeeded")])
    clock = FakeClock()
    summaries = operations.wait(v, [COMMIT_JOB, FAILOVER_JOB], Deadline(600, clock=clock, sleeper=clock.sleep))
    assert {name: s["state"] for name, s in summaries.items()} == {COMMIT_JOB: "Succeeded", FAILOVER_JOB: "Failed"}
    # one list of the vault's jobs (two pages through nextLink) for both; the failed job's GET for its tasks and errors;
    # then the one job left by its GET
    sent = [path_of(r).rstrip("/").rsplit("/", 1)[-1] for r in transport.sent]
    assert sent == ["replicationJobs", "replicationJobs", FAILOVER_JOB, COMMIT_JOB]
    assert "startTime eq '" in urllib.parse.parse_qs(urllib.parse.urlsplit(transport.sent[0].url).query)["$filter"][0]
    assert summaries[FAILOVER_JOB]["tasks"][0]["name"] == "VmFoStartVmOnSecondary"
    assert v.session.call_counts() == {"api_calls": 4, "api_reads": 4, "api_writes": 0}


# ------------------------------------------------------------------ what a module returns per item
def test_job_result_keeps_the_reported_fields_only():
    v = vault([recorded_commit_job("Succeeded")])[0]
    clock = FakeClock()
    summary = operations.wait(v, [COMMIT_JOB], Deadline(60, clock=clock, sleeper=clock.sleep))[COMMIT_JOB]
    result = operations.job_result(summary)
    assert sorted(result) == sorted(["name", "id", "scenario", "state", "state_description", "start_time", "end_time",
                                     "start_epoch", "end_epoch", "duration_seconds", "tasks", "errors"])
    assert (result["name"], result["state"], result["state_description"]) == (COMMIT_JOB, "Succeeded", "Completed")
    assert result["start_time"].startswith("2021-04-06T12:06:12")
    assert result["tasks"][1]["name"] == "VmCommit"


def test_job_result_of_no_job_is_none():
    assert operations.job_result(None) is None
    assert operations.job_result({"name": "j"})["state"] is None  # a missing field is reported as None
