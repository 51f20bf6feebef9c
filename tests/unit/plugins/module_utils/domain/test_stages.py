# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain.stages.derive over every row of the lab's stage table (tests/lab/README.md) and the
transient states: a job running, a reprotect in progress, a completed migration, a failed failover."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages


def item(provider, state, active, ops, scenario="None", failed_back_before=False):
    return {"provider": provider, "protection_state": state, "active_location": active, "allowed_operations": ops,
            "current_scenario": scenario, "failed_back_before": failed_back_before}


# the README table: stage, provider, protectionState / activeLocation, allowedOperations
TABLE = [
    ("replicating_to_azure", "InMageAzureV2", "Protected", "Primary", ["UnplannedFailover", "DisableProtection", "TestFailover"]),
    ("failed_over_to_azure", "InMageAzureV2", "UnplannedFailoverCompleted", "Recovery",
     ["Commit", "ChangePit", "DisableProtection"]),
    ("running_in_azure", "InMageAzureV2", "UnplannedFailoverCommitted", "Recovery", ["ReverseReplicate", "DisableProtection"]),
    ("replicating_to_onprem", "InMage", "Protected", "Primary", ["UnplannedFailover", "DisableProtection"]),
    ("failed_back", "InMage", "UnplannedFailoverCompleted", "Recovery", ["Commit", "DisableProtection"]),
    ("failback_committed", "InMage", "UnplannedFailoverCommitted", "Recovery",
     ["CompleteMigration", "DisableProtection", "SwitchProtection"]),
    ("reprotected_to_azure", "InMageAzureV2", "Protected", "Primary", ["UnplannedFailover", "DisableProtection", "TestFailover"]),
]
# the lab's replicating_to_azure is our protected_to_azure (never failed over); reprotected_to_azure differs
# from it only by an earlier failback
EXPECTED = {"replicating_to_azure": "protected_to_azure"}


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_every_stage_of_the_table(row):
    lab_stage, provider, state, active, ops = row
    derived = stages.derive(item(provider, state, active, ops, failed_back_before=lab_stage == "reprotected_to_azure"))
    assert derived == EXPECTED.get(lab_stage, lab_stage)
    assert derived in stages.STAGES and derived in stages.NEXT


def test_same_asr_strings_before_and_after_a_failback():
    row = item("InMageAzureV2", "Protected", "Primary", ["UnplannedFailover"])
    assert stages.derive(row) == "protected_to_azure"
    assert stages.derive(dict(row, failed_back_before=True)) == "reprotected_to_azure"


@pytest.mark.parametrize("provider,state,active", [
    ("InMageAzureV2", "UnplannedFailoverCommitted", "Recovery"),
    ("InMage", "Protected", "Primary"),
    ("InMage", "UnplannedFailoverCompleted", "Recovery"),
])
def test_a_running_job_wins_over_the_state(provider, state, active):
    for scenario in ("UnplannedFailover", "CommitFailover", "TestFailover"):
        assert stages.derive(item(provider, state, active, [], scenario=scenario)) == "job_running"


def test_reprotect_to_onprem_in_progress():
    # past the prerequisites check: InMage, ReprotectInProgress, the job named in currentScenario
    assert stages.derive(item("InMage", "ReprotectInProgress", "Primary", [], scenario="Reprotect")) == "reprotecting_to_onprem"
    # the same state when ASR does not name the scenario
    assert stages.derive(item("InMage", "ReprotectInProgress", "Primary", [])) == "reprotecting_to_onprem"
    # the job has started but the item still shows the forward provider
    started = item("InMageAzureV2", "UnplannedFailoverCommitted", "Recovery", [], scenario="Reprotect")
    assert stages.derive(started) == "job_running"


def test_reprotect_back_to_azure_after_the_failback_commit_is_not_a_reprotect_to_onprem():
    row = item("InMage", "UnplannedFailoverCommitted", "Recovery", [], scenario="Reprotect")
    assert stages.derive(row) == "job_running"


@pytest.mark.parametrize("provider", ["InMageAzureV2", "InMage"])
def test_migration_completed(provider):
    assert stages.derive(item(provider, "MigrationCompleted", "Recovery", [])) == "migration_completed"
    # even while ASR still names an old scenario
    assert stages.derive(item(provider, "MigrationCompleted", "Recovery", [], scenario="CompleteMigration")) == \
        "migration_completed"


def test_failover_to_onprem_failed():
    row = item("InMage", "UnplannedFailoverFailed", "Primary", ["UnplannedFailover", "DisableProtection"])
    assert stages.derive(row) == "failover_failed"
    assert stages.NEXT["failover_failed"].startswith("retry")


def test_unknown_provider_and_state():
    assert stages.derive(item("A2A", "Protected", "Primary", ["UnplannedFailover"])) == "unknown"
    assert stages.derive(item("InMageAzureV2", "SomethingNew", "Primary", [])) == "unknown"
    assert stages.derive(item("InMage", "SomethingNew", "Primary", [])) == "unknown"
    assert stages.derive({}) == "unknown"


def test_modernized_providers_map_onto_the_same_stages():
    assert stages.derive(item("InMageRcm", "UnplannedFailoverCommitted", "Recovery", ["ReverseReplicate"])) == "running_in_azure"
    assert stages.derive(item("InMageRcmFailback", "Protected", "Primary", ["PlannedFailover"])) == "replicating_to_onprem"
    assert stages.derive(item("InMageRcmFailback", "PlannedFailoverCompleted", "Recovery", ["Commit", "CancelFailover"])) == \
        "failed_back"


def test_decided_from_allowed_operations_when_the_state_string_is_new():
    # an unconfirmed state string: the allowed operations decide
    assert stages.derive(item("InMageAzureV2", "FailedOverSomehow", "Recovery", ["ReverseReplicate"])) == "running_in_azure"
    assert stages.derive(item("InMage", "FailedBackSomehow", "Recovery", ["Commit"])) == "failed_back"


def test_is_past():
    assert stages.is_past("replicating_to_onprem", "reprotecting_to_onprem")
    assert not stages.is_past("running_in_azure", "replicating_to_onprem")
    assert not stages.is_past("job_running", "running_in_azure")
