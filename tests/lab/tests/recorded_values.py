# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Expected values of the lab's tests, read from the recordings of the live service (tests/recorded/asr): the
strings a stage shows, the tasks of a job. The tests compare the emulator with these, never with itself."""

from tests.recorded import asr


def _properties(name):
    return asr.load(name)[0]["properties"]


def allowed_operations(name):
    return list(_properties(name)["allowedOperations"])


def protection_state(name):
    props = _properties(name)
    return props["protectionState"], props["protectionStateDescription"]


def job_tasks(name):
    """The task names of a recorded job, in order."""
    return [task["name"] for task in _properties(name)["tasks"]]


def job_names(name):
    props = _properties(name)
    return props["scenarioName"], props["friendlyName"], props["customDetails"]["instanceType"]


# the recordings of each stage (tests/recorded/asr/README.md, fact 1)
COMMITTED_FORWARD = "item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection"
PENDING_FORWARD = "item_get.InMageRcm.UnplannedFailoverCommitPendingStatesBegin.TestV2ARCMCommit"
REPLICATING_BACK = "item_get.InMage.replicating_to_onprem.V2ATestFailback"
COMMITTED_BACK = "item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect"
PROTECTED_FORWARD = "item_get.InMageRcm.Protected.TestV2ARCMRecoveryPlan"
MODERN_REPLICATING_BACK = "item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback"
MODERN_PENDING_BACK = "item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect"
MODERN_COMMITTED_FORWARD = "item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect"
REPROTECT_JOB = "job.reprotect_to_azure.succeeded.child_job.InMage.V2ATestReprotect"
FAILBACK_JOB = "job.failback_failover.succeeded.V2ATestFailback"
COMMIT_JOB = "job.commit.succeeded.V2ATestFailback"
PLANNED_FAILOVER_JOB = "job.modernized_planned_failover.inprogress.TestV2ARCMFailback"
CANCEL_JOB = "job.cancel_failback_modernized.inprogress_first_poll.InMageRcmFailback.TestV2ARCMCancelFailover"
LRO_202 = "lro_202.reProtect.to_onprem.InMage.V2ATestSwitchProtection"
