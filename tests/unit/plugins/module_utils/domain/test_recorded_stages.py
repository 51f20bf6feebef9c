# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every protected item the live service returned (tests/recorded/asr) through items.normalize and
domain.stages.derive, with the answer written by hand from the recording (its README, fact 1, and the
file's own _source note), never from the collection's code or the lab.

Stages the corpus does not hold as an item body - an item while its reprotect runs - are the recorded body
of the stage before, with the currentScenario a recorded reprotect job gives (scenarioName
SwitchReplicationGroupProtection, its jobId and startTime)."""

import copy

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages
from ansible_collections.siterecovery.failback.tests.recorded import asr
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk

JOB_RUNNING = "ff6b4a20-ccd2-47be-b1b0-1db96787cff6"  # the EnableProtection job the list entry names

# file, friendlyName, provider, stage, failed_back_before, current job, (disk count, OS) of a GET or None for a list
RECORDED = [
    # classic, V2ATestSwitchProtection: failed over to Azure and committed, read before the reprotect to on-premises
    ("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection", "V2A-W2K16-201", "InMageAzureV2",
     "running_in_azure", False, None, (2, "Windows")),
    # classic, V2ATestFailback: reprotected, replicating to on-premises (GET and list), and a forward item
    ("item_get.InMage.replicating_to_onprem.V2ATestFailback", "V2A-W2K16-201", "InMage",
     "replicating_to_onprem", False, None, (2, "Windows")),
    ("items_list.V2ATestFailback.before_failover", "V2A-W2K16-201", "InMage", "replicating_to_onprem", False, None, None),
    ("items_list.V2ATestFailback.before_failover", "V2A-W2K19-202", "InMageAzureV2", "protected_to_azure", False, None,
     None),
    # classic, V2ATestReprotect: failback committed (GET: consistencyPoints {}; list: null) and the forward item
    ("item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect", "V2A-W2K16-201", "InMage", "failback_committed",
     False, None, (2, "Windows")),
    ("items_list.after_failback_committed.V2ATestReprotect", "V2A-W2K16-201", "InMage", "failback_committed", False,
     None, None),
    ("items_list.after_failback_committed.V2ATestReprotect", "V2A-W2K19-202", "InMageAzureV2", "protected_to_azure",
     False, None, None),
    # modernized
    ("item_get.InMageRcm.Protected.TestV2ARCMRecoveryPlan", "Rcm-W2K16-153", "InMageRcm", "protected_to_azure", False,
     None, (3, "Windows")),
    ("item_get.InMageRcm.UnplannedFailoverCommitPendingStatesBegin.TestV2ARCMCommit", "Rcm-W2K19-152", "InMageRcm",
     "failed_over_to_azure", False, None, (2, "Windows")),
    ("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect", "Rcm-W2K19-152", "InMageRcm",
     "running_in_azure", False, None, (2, "Windows")),
    ("item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback", "Rcm-W2K19-152", "InMageRcmFailback",
     "replicating_to_onprem", False, None, (2, "Windows")),
    ("item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect", "Rcm-W2K19-152", "InMageRcmFailback",
     "failed_back", False, None, (2, "Windows")),
    ("items_list.modernized.TestV2ARCMFailback", "Rcm-Ub18-154", "InMageRcm", "protected_to_azure", False, None, None),
    ("items_list.modernized.TestV2ARCMFailback", "Rcm-W2K16-153", "InMageRcm", "protected_to_azure", False, None, None),
    ("items_list.modernized.TestV2ARCMFailback", "Rcm-W2K19-155", "InMageRcmFailback", "replicating_to_onprem", False,
     None, None),
    ("items_list.modernized.TestV2ARCMFailback", "Rcm-W2K19-152", "InMageRcmFailback", "replicating_to_onprem", False,
     None, None),
    # a job (EnableProtection) runs on the item: UnprotectedStatesBegin, no operation offered
    ("items_list_entry.InMageRcm.UnprotectedStatesBegin_job_running.TestV2ARCMTestFailover", "Rcm-W2K16-153",
     "InMageRcm", "job_running", False, JOB_RUNNING, None),
]


def normalized(name, friendly):
    return asr_items.normalize(recorded_sdk.one("item", name, friendly))


@pytest.mark.parametrize("row", RECORDED, ids=["%s:%s" % (r[0].split(".", 2)[-1], r[1]) for r in RECORDED])
def test_every_recorded_item_gets_the_stage_it_was_recorded_in(row):
    name, friendly, provider, stage, failed_back_before, job, get = row
    item = normalized(name, friendly)
    assert (item["provider"], item["failback_stage"], item["failed_back_before"], item["current_job"]) == (
        provider, stage, failed_back_before, job)
    assert item["next_step"] == stages.NEXT[stage]
    if get is not None:  # the GET carries the disks and the OS a list leaves empty (fact 2)
        assert (item["disk_count"], item["os_type"]) == get


def test_every_recorded_item_body_is_in_the_table():
    held = {(name, body["properties"]["friendlyName"]) for name in asr.names("item*") for body in recorded_sdk.bodies(name)}
    assert held == {(row[0], row[1]) for row in RECORDED}


def test_the_sparse_list_entries_leave_disks_and_os_empty():
    # why every decision reads the GET (fact 2): the same InMage item, listed and read a minute apart
    listed = normalized("items_list.V2ATestFailback.before_failover", "V2A-W2K16-201")
    got = normalized("item_get.InMage.replicating_to_onprem.V2ATestFailback", "V2A-W2K16-201")
    assert (listed["disk_count"], listed["os_type"], listed["onprem"]["master_target_id"]) == (0, None, None)
    assert (got["disk_count"], got["os_type"], got["onprem"]["master_target_id"]) == (
        2, "Windows", "30AE6187-5869-8E44-B8AF6AA66E3ECC8F")


# ------------------------------------------------------------------------------------------ failed_back_before
def test_a_forward_failover_is_not_a_failback():
    # fault: failed_back_before was true for an item only ever failed over to Azure (its lastSuccessfulFailoverTime
    # and failoverRecoveryPointId come from the forward failover)
    for name in ("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection",
                 "item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect",
                 "item_get.InMageRcm.UnplannedFailoverCommitPendingStatesBegin.TestV2ARCMCommit"):
        item = normalized(name, None)
        assert item["last_successful_failover_time"] is not None
        assert item["failover_recovery_point_id"].lower().startswith("/subscriptions/")
        assert item["active_location"] == "Recovery"
        assert item["failed_back_before"] is False, name


def test_a_forward_item_active_on_premises_after_a_failover_was_failed_back():
    # no recording shows an item reprotected back to Azure: the recorded forward Protected item, carrying the
    # recorded failback's failover time (item_get.InMage.UnplannedFailoverCommitted...), as the service would show it
    body = recorded_sdk.body("items_list.after_failback_committed.V2ATestReprotect", "V2A-W2K19-202")
    before = asr_items.normalize(recorded_sdk.sdk("item", body))
    assert (before["failed_back_before"], before["failback_stage"]) == (False, "protected_to_azure")
    body["properties"]["lastSuccessfulFailoverTime"] = "2021-04-06T12:02:36.0102234Z"
    after = asr_items.normalize(recorded_sdk.sdk("item", body))
    assert (after["failed_back_before"], after["failback_stage"]) == (True, "reprotected_to_azure")


def test_failback_direction_items_are_never_failed_back_before():
    # the committed failback (InMage, lastSuccessfulFailoverTime set) is failback_committed, not "replicating again"
    item = normalized("item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect", None)
    assert item["last_successful_failover_time"] is not None and item["failed_back_before"] is False


# ------------------------------------------------------------------------------------------ a running reprotect
def with_job(name, friendly, job):
    """The recorded item body with the currentScenario the recorded reprotect job gives while it runs."""
    body = copy.deepcopy(recorded_sdk.body(name, friendly))
    recorded_job = recorded_sdk.body(job)
    vault = body["id"].split("/replicationFabrics/")[0]
    body["properties"]["currentScenario"] = {
        "scenarioName": recorded_job["properties"]["scenarioName"], "jobId": vault + "/replicationJobs/" + recorded_job["name"],
        "startTime": recorded_job["properties"]["startTime"]}
    body["properties"]["allowedOperations"] = []
    return asr_items.normalize(recorded_sdk.sdk("item", body))


@pytest.mark.parametrize("item_file,job_file,stage", [
    # to on-premises: the forward item, active in Azure, while SwitchReplicationGroupProtection runs on it
    ("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection",
     "job.reprotect_to_onprem.inprogress_first_poll.child_job.InMageAzureV2.V2ATestSwitchProtection",
     "reprotecting_to_onprem"),
    ("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect",
     "job.reprotect_to_onprem.inprogress_first_poll.InMageRcm.TestV2ARCMReprotect", "reprotecting_to_onprem"),
    # back to Azure, after the committed classic failback and from the uncommitted modernized one: some job runs
    ("item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect",
     "job.reprotect_to_azure.inprogress_first_poll.child_job.InMage.V2ATestReprotect", "job_running"),
    ("item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect",
     "job.reprotect_to_azure.inprogress_first_poll.InMageRcmFailback.TestV2ARCM540Reprotect", "job_running"),
])
def test_a_running_reprotect_is_named_by_its_recorded_scenario(item_file, job_file, stage):
    item = with_job(item_file, None, job_file)
    assert item["current_scenario"] == "SwitchReplicationGroupProtection"
    assert item["current_job"] == recorded_sdk.body(job_file)["name"]
    assert item["failback_stage"] == stage


def test_a_running_reprotect_after_the_provider_switched():
    # the failback item replicating to on-premises (Primary) while the reprotect job still finishes
    item = with_job("item_get.InMage.replicating_to_onprem.V2ATestFailback", None,
                    "job.reprotect_to_onprem.inprogress_first_poll.child_job.InMageAzureV2.V2ATestSwitchProtection")
    assert item["failback_stage"] == "reprotecting_to_onprem"


# ------------------------------------------------------------------------------------------ recorded strings
def test_pending_commit_states_are_the_literal_commit_pending_strings():
    # UnplannedFailoverCommitPendingStatesBegin (forward) and CommitPendingStatesBegin with CancelFailover (failback)
    forward = normalized("item_get.InMageRcm.UnplannedFailoverCommitPendingStatesBegin.TestV2ARCMCommit", None)
    failback = normalized("item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect", None)
    assert forward["protection_state"] == "UnplannedFailoverCommitPendingStatesBegin"
    assert failback["protection_state"] == "CommitPendingStatesBegin" and "CancelFailover" in failback["allowed_operations"]
    # the stage follows from the state string alone too, whatever operations are offered
    for item, stage in ((forward, "failed_over_to_azure"), (failback, "failed_back")):
        assert stages.derive(dict(item, allowed_operations=[])) == stage


def test_switch_protection_and_complete_migration_alone_say_committed():
    # the committed states offer CompleteMigration, DisableProtection, SwitchProtection - never ReverseReplicate
    for name, stage in (("item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection", "running_in_azure"),
                        ("item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect", "failback_committed")):
        item = normalized(name, None)
        assert "ReverseReplicate" not in item["allowed_operations"]
        assert stages.derive(dict(item, protection_state="StateNotInAnyRecording")) == stage
