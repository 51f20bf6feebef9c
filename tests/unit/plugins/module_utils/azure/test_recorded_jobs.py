# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every recorded 202, job and error of the live service (tests/recorded/asr) through azure.jobs and
azure.errors: the job name of each 202 (headers as recorded, and as the HTTP stack hands them over), each
job's summary, the failed job's error and remedy, the 404 body. Expected values are copied by hand from the
recordings (the GUID after operationresults/ in Location; the job bodies' own fields)."""

import json

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.core.exceptions import ARMErrorFormat
from requests.structures import CaseInsensitiveDict

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import operations
from ansible_collections.siterecovery.failback.plugins.module_utils.azure import jobs
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import remedies, stages
from ansible_collections.siterecovery.failback.tests.recorded import asr
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk as rec
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes

# each recorded 202 and the job its Location names (after operationresults/)
ACCEPTED = {
    "lro_202.add_vcenter.V2AVCenterTest": "cca660a6-c211-40e0-acfa-0ab5edbc9f43",
    "lro_202.failoverCommit.V2ATestFailback": "a422ca87-173b-4a70-80fd-4ce89bfa1c52",
    "lro_202.failoverCommit.modernized.TestV2ARCMCommit": "f2c09259-f703-4db3-a330-6e625fba7925",
    "lro_202.plannedFailover.modernized.TestV2ARCMFailback": "8a30cd0a-523b-4960-b524-e2f0d3836549",
    "lro_202.reProtect.to_azure.InMageAzureV2.V2ATestReprotect": "3e53d760-0533-4692-88ba-bbf28b26823a",
    "lro_202.reProtect.to_azure.InMageRcmFailback.TestV2ARCM540Reprotect": "504cdfb9-2fdd-44a0-903d-325a583299b3",
    "lro_202.reProtect.to_onprem.InMage.V2ATestSwitchProtection": "8dfa5a4f-f24c-4e84-a640-1969a06a02ce",
    "lro_202.reProtect.to_onprem.InMageRcm.TestV2ARCMReprotect": "35545cdd-48dd-4c36-9201-28e3256ceb21",
    "lro_202.unplannedFailover.V2ATestFailback": "a2e9f617-66a6-4933-9ffc-d5665da42abf",
}
VCENTER_202 = "lro_202.add_vcenter.V2AVCenterTest"  # x-ms-request-id "<client request id> <M/d/yyyy h:mm:ss AM>"


def recorded_headers(name):
    return asr.load(name)[1]["headers"]


def joined(headers):
    """What requests / urllib3 hand over: one value per header, a repeated header joined with ', '."""
    return CaseInsensitiveDict({key: ", ".join(values) for key, values in headers.items()})


def test_every_recorded_202_is_in_the_table():
    assert set(asr.names("lro_202.*")) == set(ACCEPTED)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_job_of_every_recorded_202(name):
    headers = recorded_headers(name)
    assert jobs.job_name_from_headers(headers) == ACCEPTED[name]  # values as recorded: lists
    assert jobs.job_name_from_headers(joined(headers)) == ACCEPTED[name]  # as the HTTP stack joins them
    # without Location, Azure-AsyncOperation names the same job
    rest = {k: v for k, v in headers.items() if k.lower() != "location"}
    assert jobs.job_name_from_headers(joined(rest)) == ACCEPTED[name]


@pytest.mark.parametrize("name", sorted(set(ACCEPTED) - {VCENTER_202}))
def test_a_repeated_request_id_gives_the_job_name_once(name):
    # fault: the job id given twice came out as "<guid>, "
    headers = recorded_headers(name)
    assert len(headers["x-ms-request-id"]) == 2
    only = {"x-ms-request-id": headers["x-ms-request-id"]}
    assert jobs.job_name_from_headers(joined(only)) == ACCEPTED[name]
    assert jobs.job_name_from_headers(only) == ACCEPTED[name]


def test_the_vcenter_request_id_names_no_job():
    headers = recorded_headers(VCENTER_202)
    assert headers["x-ms-request-id"] == ["68b4a43a-a514-4c69-b926-35bfe468da43 4/5/2021 5:58:58 PM"]
    assert jobs.job_name_from_headers({"x-ms-request-id": headers["x-ms-request-id"]}) is None
    assert jobs.job_name_from_headers(joined(headers)) == ACCEPTED[VCENTER_202]
    assert jobs.job_name_from_headers({}) is None and jobs.job_name_from_headers(None) is None


class Http:
    def __init__(self, status, headers):
        self.status_code = status
        self.headers = headers


class Pipeline:
    def __init__(self, status, headers):
        self.http_response = Http(status, headers)


@pytest.mark.parametrize("name", ["lro_202.unplannedFailover.V2ATestFailback",
                                  "lro_202.reProtect.to_azure.InMageRcmFailback.TestV2ARCM540Reprotect"])
def test_operations_start_names_the_job_of_the_recorded_202(name):
    headers = joined(recorded_headers(name))

    class Items:
        def begin_unplanned_failover(self, *args, polling=True, raw_response_hook=None):
            raw_response_hook(Pipeline(202, headers))

    vault = fakes.vault(type("Client", (), {"replication_protected_items": Items()})())
    item = rec.one("item", "item_get.InMage.replicating_to_onprem.V2ATestFailback")
    assert operations.item_action(vault, "unplanned_failover", item, {}) == ACCEPTED[name]


# ------------------------------------------------------------------------------------------------------ jobs
# name, scenario, state, task count, errors (task, code), duration (s) or None, allowed actions
JOBS = {
    "job.cancel_failback_modernized.inprogress_first_poll.InMageRcmFailback.TestV2ARCMCancelFailover":
        ("77b349d8-9854-449b-bf32-e5f9d4b29a24", "CancelFailover", "InProgress", 4, [], None, ["Cancel"]),
    "job.commit.inprogress.V2ATestFailback":
        ("a422ca87-173b-4a70-80fd-4ce89bfa1c52", "CommitFailover", "InProgress", 2, [], None, ["Cancel"]),
    "job.commit.notstarted_first_poll.V2ATestFailback":
        ("a422ca87-173b-4a70-80fd-4ce89bfa1c52", None, "NotStarted", 0, [], None, []),
    "job.commit.succeeded.V2ATestFailback":
        ("a422ca87-173b-4a70-80fd-4ce89bfa1c52", "CommitFailover", "Succeeded", 2, [], 110.585015, []),
    "job.commit_failback.failed_with_errors.V2ATestJob":
        ("f1d8e44a-bf43-416b-9255-634c4deb894b", "FinalizeFailback", "Failed", 2,
         [("FinalizeRestoreOnRecovery", "25037")], 0.615948, []),
    "job.commit_modernized.succeeded.InMageRcm.TestV2ARCMCommit":
        ("f2c09259-f703-4db3-a330-6e625fba7925", "CommitFailover", "Succeeded", 2, [], 0.591196, []),
    "job.failback_failover.inprogress_first_poll.V2ATestFailback":
        ("a2e9f617-66a6-4933-9ffc-d5665da42abf", "UnplannedFailover", "InProgress", 5, [], None, ["Cancel"]),
    "job.failback_failover.inprogress_mid.V2ATestFailback":
        ("a2e9f617-66a6-4933-9ffc-d5665da42abf", "UnplannedFailover", "InProgress", 5, [], None, ["Cancel"]),
    "job.failback_failover.succeeded.V2ATestFailback":
        ("a2e9f617-66a6-4933-9ffc-d5665da42abf", "UnplannedFailover", "Succeeded", 5, [], 214.989777, []),
    "job.modernized_planned_failover.inprogress.TestV2ARCMFailback":
        ("8a30cd0a-523b-4960-b524-e2f0d3836549", "PlannedFailover", "InProgress", 5, [], None, ["Cancel"]),
    # ended 08:10:47Z (whole seconds) after starting 08:10:47.614Z: no negative duration
    "job.recovery_plan_save.succeeded_first_poll.TestV2ARCMRecoveryPlan":
        ("8c51284d-5741-45b5-a08c-914f07940c56", "SaveRecoveryPlan", "Succeeded", 1, [], 0.0, []),
    "job.remove_vcenter.succeeded.V2AVCenterTest":
        ("498e4fb2-8894-4a50-b4cb-128e84ce710e", "RemoveVCenter", "Succeeded", 1, [], 4.589343, []),
    "job.reprotect_to_azure.inprogress_first_poll.InMageRcmFailback.TestV2ARCM540Reprotect":
        ("504cdfb9-2fdd-44a0-903d-325a583299b3", "SwitchReplicationGroupProtection", "InProgress", 5, [], None, ["Cancel"]),
    "job.reprotect_to_azure.inprogress_first_poll.child_job.InMage.V2ATestReprotect":
        ("3e53d760-0533-4692-88ba-bbf28b26823a", "SwitchReplicationGroupProtection", "InProgress", 5, [], None, ["Cancel"]),
    "job.reprotect_to_azure.succeeded.child_job.InMage.V2ATestReprotect":
        ("3e53d760-0533-4692-88ba-bbf28b26823a", "SwitchReplicationGroupProtection", "Succeeded", 5, [], 128.974454, []),
    "job.reprotect_to_onprem.inprogress_first_poll.InMageRcm.TestV2ARCMReprotect":
        ("35545cdd-48dd-4c36-9201-28e3256ceb21", "SwitchReplicationGroupProtection", "InProgress", 5, [], None, ["Cancel"]),
    "job.reprotect_to_onprem.inprogress_first_poll.child_job.InMageAzureV2.V2ATestSwitchProtection":
        ("8dfa5a4f-f24c-4e84-a640-1969a06a02ce", "SwitchReplicationGroupProtection", "InProgress", 5, [], None, ["Cancel"]),
}


def test_every_recorded_job_is_in_the_table():
    assert set(asr.names("job.*")) == set(JOBS)


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_recorded_job_is_summarized(name):
    job_name, scenario, state, tasks, errors, duration, actions = JOBS[name]
    summary = jobs.summarize(rec.one("job", name))
    assert (summary["name"], summary["scenario"], summary["state"], len(summary["tasks"])) == (
        job_name, scenario, state, tasks)
    assert [(e["task"], e["code"]) for e in summary["errors"]] == errors
    assert summary["duration_seconds"] == (pytest.approx(duration) if duration is not None else None)
    assert summary["allowed_actions"] == actions
    assert (summary["end_time"] is None) == (state not in jobs.FINISHED)
    for task in summary["tasks"]:  # a time not reached yet is 0001-01-01T00:00:00 in the body: no time
        assert task["start_time"] is None or task["start_time"] > "2000"
        assert task["end_time"] is None or task["end_time"] > "2000"
        assert (task["state"] == "NotStarted") <= (task["start_time"] is None)
    # reprotect jobs are recognised by their recorded scenario name, nothing else is a reprotect
    assert stages.is_reprotect(summary["scenario"]) == (summary["scenario"] == "SwitchReplicationGroupProtection")


def test_the_failed_job_reports_its_error_once_with_the_services_remedy():
    summary = jobs.summarize(rec.one("job", "job.commit_failback.failed_with_errors.V2ATestJob"))
    [error] = summary["errors"]  # listed at job level and on its task: one error
    assert (error["code"], error["provider_error_code"], error["task"], error["level"]) == (
        "25037", 0, "FinalizeRestoreOnRecovery", "Error")
    explained = remedies.explain(summary["errors"])
    assert remedies.summary(explained) == ("[25037] The virtual machine 'V2aVm1' isn't ready for committing failback. "
                                           "Remedy: Resolve the issue and retry the operation.")
    assert [t["errors"][0]["code"] for t in summary["tasks"] if t["errors"]] == ["25037"]
    assert [(t["state"], t["state_description"]) for t in summary["tasks"]] == [("Failed", "Failed"),
                                                                                ("Other", "Skipped")]


def test_a_failed_job_with_only_the_2017_top_level_error():
    body = rec.body("job.commit_failback.failed_with_errors.V2ATestJob")
    body["properties"]["errors"] = []
    body["properties"]["tasks"][0]["errors"] = []
    [error] = jobs.summarize(rec.sdk("job", body))["errors"]
    assert (error["code"], error["message"]) == ("25037", "The virtual machine 'V2aVm1' isn't ready for committing failback.")
    body.pop("error")
    assert jobs.summarize(rec.sdk("job", body))["errors"] == []


def test_waiting_follows_the_recorded_polls_of_the_commit():
    polls = [rec.one("job", "job.commit.notstarted_first_poll.V2ATestFailback"),
             rec.one("job", "job.commit.inprogress.V2ATestFailback"),
             rec.one("job", "job.commit.succeeded.V2ATestFailback")]
    seen = []

    class Jobs:
        def get(self, rg, vault, name):
            seen.append(name)
            return polls[min(len(seen), len(polls)) - 1]

    client = type("Client", (), {"replication_jobs": Jobs()})()
    summary = jobs.wait(client, "PwsTestRG", "PwsTestVault", ["a422ca87-173b-4a70-80fd-4ce89bfa1c52"], fakes.deadline(),
                        poll=0.01)["a422ca87-173b-4a70-80fd-4ce89bfa1c52"]
    assert len(seen) == 3 and (summary["state"], summary["scenario"]) == ("Succeeded", "CommitFailover")


# ------------------------------------------------------------------------------------------------------ errors
class Response:
    status_code = 404
    reason = "Not Found"
    headers = {}
    content_type = "application/json"
    request = None

    def __init__(self, body):
        self._text = json.dumps(body)

    def text(self, encoding=None):
        return self._text

    def body(self):
        return self._text.encode()


def test_the_recorded_404_is_read():
    body, source = asr.load("error.404_not_found.recovery_plan.TestEnumerateRP")
    assert source["status"] == 404
    error = from_exception(ResourceNotFoundError(response=Response(body), error_format=ARMErrorFormat),
                           "read recovery plan RPSwag96 in", "vault E2ERg/E2ETest")
    assert (error.details["status"], error.details["code"]) == (404, "NotFound")
    assert error.msg.startswith("Could not read recovery plan RPSwag96 in vault E2ERg/E2ETest: (NotFound) Specified "
                                "resource with name 'RPSwag96' does not exist.")
    assert error.msg.endswith("Check subscription_id, resource_group and vault_name.")
