# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain.stages.derive on ASR's real strings: the protected items recorded from the live service
(tests/recorded/asr, loaded with tests/recorded/asr.py, see its README) and the lifecycle table of asr-api.md
section 3.2. Where no recording or public document gives ASR's exact string, the tests use a state string ASR is
not known to send, so the stage is shown to follow from the documented vocabulary of allowedOperations and never
from a string the lab made up. Every recorded item body is checked in test_recorded_stages.py."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk

# a protectionState no recording and no document shows: the decision must not rest on the state string
UNRECORDED = "StateNotInAnyRecording"


def item(provider, state, active, ops, scenario="None", failed_back_before=False):
    return {"provider": provider, "protection_state": state, "active_location": active, "allowed_operations": ops,
            "current_scenario": scenario, "failed_back_before": failed_back_before}


def recorded(name):
    return recorded_sdk.models_of("item", name[:-5] if name.endswith(".json") else name)


# each recorded protected item (list entries and single GETs) and the stage it was recorded in (the recording's
# README and file names: the failback items were replicating to on-premises, just before the failback's failover;
# the forward items replicated to Azure, never failed over)
RECORDED_ITEMS = [
    ("items_list.V2ATestFailback.before_failover.json", "V2A-W2K16-201", "InMage", "replicating_to_onprem"),
    ("items_list.V2ATestFailback.before_failover.json", "V2A-W2K19-202", "InMageAzureV2", "protected_to_azure"),
    ("item_get.InMage.replicating_to_onprem.V2ATestFailback.json", "V2A-W2K16-201", "InMage", "replicating_to_onprem"),
    ("items_list.modernized.TestV2ARCMFailback.json", "Rcm-Ub18-154", "InMageRcm", "protected_to_azure"),
    ("items_list.modernized.TestV2ARCMFailback.json", "Rcm-W2K16-153", "InMageRcm", "protected_to_azure"),
    ("items_list.modernized.TestV2ARCMFailback.json", "Rcm-W2K19-155", "InMageRcmFailback", "replicating_to_onprem"),
    ("items_list.modernized.TestV2ARCMFailback.json", "Rcm-W2K19-152", "InMageRcmFailback", "replicating_to_onprem"),
    ("item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback.json", "Rcm-W2K19-152", "InMageRcmFailback",
     "replicating_to_onprem"),
]


@pytest.mark.parametrize("recording,vm,provider,stage", RECORDED_ITEMS,
                         ids=["%s:%s" % (r[0].split(".")[0], r[1]) for r in RECORDED_ITEMS])
def test_every_recorded_item_gets_the_stage_it_was_recorded_in(recording, vm, provider, stage):
    found = [asr_items.normalize(model) for model in recorded(recording)]
    normalized = next(n for n in found if n["name"] == vm)
    assert normalized["provider"] == provider
    assert normalized["failback_stage"] == stage
    assert normalized["current_job"] is None  # idle: scenarioName None, jobId .../replicationJobs/None


def test_every_recorded_item_is_covered():
    listed = {(r, model.properties.friendly_name) for r in {row[0] for row in RECORDED_ITEMS} for model in recorded(r)}
    assert listed == {(row[0], row[1]) for row in RECORDED_ITEMS}


# asr-api.md section 3.2 (classic V2A lifecycle as observed): stage, provider, protectionState / activeLocation,
# allowedOperations, the document's source
DOCUMENTED = [
    ("protected_to_azure", "InMageAzureV2", "Protected", "Primary", ["UnplannedFailover", "DisableProtection", "TestFailover"],
     "REC-FB, REC-FO"),
    ("replicating_to_onprem", "InMage", "Protected", "Primary", ["UnplannedFailover", "DisableProtection"], "REC-FB"),
    ("failback_committed", "InMage", "UnplannedFailoverCommitted", "Recovery",
     ["CompleteMigration", "DisableProtection", "SwitchProtection"], "REC-RP"),
    # UNCONFIRMED in asr-api.md, recorded since (tests/recorded/asr fact 1): reprotect is offered as SwitchProtection
    ("running_in_azure", "InMageAzureV2", "UnplannedFailoverCommitted", "Recovery",
     ["CompleteMigration", "DisableProtection", "SwitchProtection"], "item_get.InMageAzureV2.UnplannedFailoverCommitted"),
    ("running_in_azure", "InMageAzureV2", "UnplannedFailoverCommitted", "Recovery", ["ReverseReplicate", "DisableProtection"],
     "the SDK's older operation name"),
]


@pytest.mark.parametrize("row", DOCUMENTED, ids=[r[0] for r in DOCUMENTED])
def test_every_documented_stage(row):
    stage, provider, state, active, ops, _source = row
    assert stages.derive(item(provider, state, active, ops)) == stage
    assert stage in stages.STAGES and stage in stages.NEXT


@pytest.mark.parametrize("stage,provider,ops", [
    # failed over, not committed: Commit is offered (architecture.md "failover done, not committed")
    ("failed_over_to_azure", "InMageAzureV2", ["Commit", "ChangePit", "DisableProtection"]),
    ("failed_back", "InMage", ["Commit", "DisableProtection"]),
    ("failed_back", "InMageRcmFailback", ["Commit", "CancelFailover"]),
    # committed: reprotect (ReverseReplicate) offered
    ("running_in_azure", "InMageRcm", ["ReverseReplicate"]),
    # the recorded operation sets (tests/recorded/asr fact 1), under a state string no recording shows
    ("failed_over_to_azure", "InMageRcm", ["CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection"]),
    ("running_in_azure", "InMageAzureV2", ["CompleteMigration", "DisableProtection", "SwitchProtection"]),
    ("failed_back", "InMageRcmFailback", ["CompleteMigration", "Commit", "DisableProtection", "SwitchProtection",
                                          "CancelFailover"]),
    ("failback_committed", "InMage", ["CompleteMigration", "DisableProtection", "SwitchProtection"]),
])
def test_stages_without_a_recorded_state_string_follow_the_allowed_operations(stage, provider, ops):
    assert stages.derive(item(provider, UNRECORDED, "Recovery", ops)) == stage


def test_same_asr_strings_before_and_after_a_failback():
    row = item("InMageAzureV2", "Protected", "Primary", ["UnplannedFailover", "DisableProtection", "TestFailover"])
    assert stages.derive(row) == "protected_to_azure"
    assert stages.derive(dict(row, failed_back_before=True)) == "reprotected_to_azure"


@pytest.mark.parametrize("provider,state,active", [
    ("InMageAzureV2", "UnplannedFailoverCommitted", "Recovery"),
    ("InMage", "Protected", "Primary"),
    ("InMage", "UnplannedFailoverCommitted", "Recovery"),
])
def test_a_running_job_wins_over_the_state(provider, state, active):
    # scenario names as the recorded jobs carry them (scenarioName of job.*.json)
    for scenario in ("UnplannedFailover", "CommitFailover", "PlannedFailover"):
        assert stages.derive(item(provider, state, active, [], scenario=scenario)) == "job_running"


@pytest.mark.parametrize("scenario", ["Reprotect", "SwitchReplicationGroupProtection", "SwitchProtection"])
def test_reprotect_to_onprem_in_progress(scenario):
    # a reprotect job on a failback item (currentScenario names it while it runs, asr-api.md section 3.1); ASR's
    # reprotect job is scenario SwitchReplicationGroupProtection (tests/recorded/asr fact 12)
    assert stages.derive(item("InMage", UNRECORDED, "Primary", [], scenario=scenario)) == "reprotecting_to_onprem"
    # updated (it was job_running): the item still shows the forward provider, active in Azure - the reprotect
    # running on it goes to on-premises
    started = item("InMageAzureV2", "UnplannedFailoverCommitted", "Recovery", [], scenario=scenario)
    assert stages.derive(started) == "reprotecting_to_onprem"
    # a forward item active on-premises again (Primary): a reprotect to Azure is finishing, not one to on-premises
    assert stages.derive(item("InMageRcm", UNRECORDED, "Primary", [], scenario=scenario)) == "job_running"


@pytest.mark.parametrize("scenario", ["Reprotect", "SwitchReplicationGroupProtection"])
def test_reprotect_back_to_azure_after_the_failback_commit_is_not_a_reprotect_to_onprem(scenario):
    row = item("InMage", "UnplannedFailoverCommitted", "Recovery", [], scenario=scenario)
    assert stages.derive(row) == "job_running"
    # from an uncommitted failback too (recorded: lro_202.reProtect.to_azure.InMageRcmFailback...)
    assert stages.derive(item("InMageRcmFailback", "CommitPendingStatesBegin", "Recovery", [], scenario=scenario)) == \
        "job_running"
    # no active location known: the state decides, as before
    assert stages.derive(item("InMage", "UnplannedFailoverCommitted", None, [], scenario=scenario)) == "job_running"
    assert stages.derive(item("InMage", UNRECORDED, None, [], scenario=scenario)) == "reprotecting_to_onprem"


@pytest.mark.parametrize("provider", ["InMageAzureV2", "InMage"])
def test_migration_completed(provider):
    # UNCONFIRMED: no recording or public document shows how ASR reports a completed migration; this is the
    # string domain/stages.py matches, not a known ASR value
    assert stages.derive(item(provider, "MigrationCompleted", "Recovery", [])) == "migration_completed"
    # even while ASR still names an old scenario
    assert stages.derive(item(provider, "MigrationCompleted", "Recovery", [], scenario="CompleteMigration")) == \
        "migration_completed"


def test_failover_to_onprem_failed():
    # UnplannedFailoverFailed: asr-api.md section 3.1 (seen in a public JSON example)
    row = item("InMage", "UnplannedFailoverFailed", "Primary", ["UnplannedFailover", "DisableProtection"])
    assert stages.derive(row) == "failover_failed"
    assert stages.NEXT["failover_failed"].startswith("retry")


def test_unknown_provider_and_state():
    assert stages.derive(item("A2A", "Protected", "Primary", ["UnplannedFailover"])) == "unknown"
    assert stages.derive(item("InMageAzureV2", "SomethingNew", "Primary", [])) == "unknown"
    assert stages.derive(item("InMage", "SomethingNew", "Primary", [])) == "unknown"
    assert stages.derive({}) == "unknown"


def test_is_past():
    assert stages.is_past("replicating_to_onprem", "reprotecting_to_onprem")
    assert not stages.is_past("running_in_azure", "replicating_to_onprem")
    assert not stages.is_past("job_running", "running_in_azure")
