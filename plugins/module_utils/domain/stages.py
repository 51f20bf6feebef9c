# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a protected item stands in the failback lifecycle, derived from plain data.

ASR's strings are not a closed set (protectionState and allowedOperations are free strings
in the REST spec), so the stage is decided from the provider, the allowed operations, the
active location and the current scenario together, never from one string alone.
"""

from __future__ import annotations

CLASSIC_FORWARD = ("InMageAzureV2",)
CLASSIC_FAILBACK = ("InMage",)
MODERN_FORWARD = ("InMageRcm",)
MODERN_FAILBACK = ("InMageRcmFailback",)
FORWARD = CLASSIC_FORWARD + MODERN_FORWARD
FAILBACK = CLASSIC_FAILBACK + MODERN_FAILBACK

STAGES = (
    "protected_to_azure", "failed_over_to_azure", "running_in_azure", "reprotecting_to_onprem",
    "replicating_to_onprem", "failed_back", "failback_committed", "reprotected_to_azure", "job_running",
    "failover_failed", "migration_completed", "unknown",
)

# What is left to do, per stage (for people and for roles).
NEXT = {
    "protected_to_azure": "nothing to fail back: the VM was never failed over to Azure",
    "failed_over_to_azure": "commit the failover to Azure first (outside failback)",
    "running_in_azure": "reprotect to on-premises",
    "reprotecting_to_onprem": "wait for the reprotect job",
    "replicating_to_onprem": "wait for a recovery point, then fail over to on-premises",
    "failed_back": "verify the on-premises VM, then commit",
    "failback_committed": "reprotect to Azure (optional)",
    "reprotected_to_azure": "nothing: failback is complete",
    "job_running": "wait for the running job",
    "failover_failed": "retry the failover to on-premises",
    "migration_completed": "nothing possible: the migration was completed, failback is impossible",
    "unknown": "inspect the item in the Azure portal",
}

ORDER = {name: index for index, name in enumerate((
    "protected_to_azure", "failed_over_to_azure", "running_in_azure", "reprotecting_to_onprem",
    "replicating_to_onprem", "failover_failed", "failed_back", "failback_committed", "reprotected_to_azure"))}


# ASR's names for reprotect: the operation is offered as SwitchProtection (every recording, both directions and
# both stacks; ReverseReplicate is the SDK's older name), and the reprotect job runs as scenario
# SwitchReplicationGroupProtection (friendlyName "Reprotect").
REPROTECT_OPERATIONS = ("SwitchProtection", "ReverseReplicate")
REPROTECT_SCENARIOS = ("reprotect", "switchprotection", "switchreplicationgroupprotection")
FAILOVER_OPERATIONS = ("UnplannedFailover", "PlannedFailover")


def _has(operations, *names):
    return any(name.lower() in operations for name in names)


def _pending_commit(state, ops):
    """Failed over, not committed: Commit is offered (the recorded UnplannedFailoverCommitPendingStatesBegin and
    CommitPendingStatesBegin), or a state names it (the SDK era's ...FailoverCompleted)."""
    return _has(ops, "Commit") or "commitpending" in state or "failovercompleted" in state


def _forward_stage(item, state, ops):
    if _pending_commit(state, ops):
        return "failed_over_to_azure"
    if _has(ops, *REPROTECT_OPERATIONS) or ("committed" in state and (item.get("active_location") or "").lower() == "recovery"):
        return "running_in_azure"
    if state == "protected" or _has(ops, *FAILOVER_OPERATIONS):
        return "reprotected_to_azure" if item.get("failed_back_before") else "protected_to_azure"
    return "unknown"


def _failback_stage(state, ops):
    if "failed" in state and _has(ops, *FAILOVER_OPERATIONS):
        return "failover_failed"
    if _pending_commit(state, ops):
        return "failed_back"
    if "committed" in state or _has(ops, "CompleteMigration", *REPROTECT_OPERATIONS):
        return "failback_committed"
    if state == "protected" or _has(ops, *FAILOVER_OPERATIONS):
        return "replicating_to_onprem"
    return "unknown"


def is_reprotect(scenario):
    """Whether a job's (or an item's current) scenario name is a reprotect."""
    name = (scenario or "").lower()
    return any(word in name for word in REPROTECT_SCENARIOS)


def _reprotect_goes_onprem(item, provider, state):
    """Which way a running reprotect goes, from where the item is active: a forward item active in Azure
    (Recovery) and a failback item not failed over yet (Primary) head to on-premises; a failback item active
    on-premises (Recovery: failed back, committed or not) and a forward item on Primary head back to Azure."""
    active = (item.get("active_location") or "").lower()
    if provider in FORWARD:
        return active == "recovery"
    return provider in FAILBACK and (active == "primary" or (not active and "committed" not in state))


def derive(item):
    """The failback stage of a normalized item (keys: provider, protection_state, active_location,
    allowed_operations, current_scenario, failed_back_before)."""
    provider = item.get("provider")
    state = (item.get("protection_state") or "").lower()
    ops = {str(op).lower() for op in item.get("allowed_operations") or []}
    scenario = item.get("current_scenario") or "None"
    if "migrationcompleted" in state or state == "migrated":
        stage = "migration_completed"
    elif scenario.lower() != "none":
        to_onprem = is_reprotect(scenario) and _reprotect_goes_onprem(item, provider, state)
        stage = "reprotecting_to_onprem" if to_onprem else "job_running"
    elif "reprotectinprogress" in state:
        stage = "reprotecting_to_onprem"
    elif provider in FORWARD:
        stage = _forward_stage(item, state, ops)
    elif provider in FAILBACK:
        stage = _failback_stage(state, ops)
    else:
        stage = "unknown"
    return stage


def is_past(stage, step):
    """True when ``stage`` is at or beyond the point ``step`` (a stage name) leads to."""
    return stage in ORDER and step in ORDER and ORDER[stage] >= ORDER[step]
