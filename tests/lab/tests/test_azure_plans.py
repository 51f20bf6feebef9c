# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery plan failover and commit: one plan job, groups in order."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .models import assert_known

PLAN_FAILBACK = {"properties": {"failoverDirection": "RecoveryToPrimary", "sourceSiteOperations": "Required",
                                "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": "LatestTime"}]}}


def test_plan_failover_and_commit(lab, effects):
    plan = lab.asr.replication_recovery_plans.get(lab.rg, lab.vault, "rp-app")
    assert plan.properties.allowed_operations == ["UnplannedFailover"]
    assert [len(g.replication_protected_items) for g in plan.properties.groups if g.group_type == "Boot"] == [1, 1]
    poller, job_name = lab.plan_call("unplanned_failover", "rp-app", PLAN_FAILBACK)
    plan = poller.result()
    assert_known(plan)
    job = lab.wait_job(job_name)
    assert_known(job)
    assert job.properties.state == "Succeeded" and job.properties.target_instance_type == "RecoveryPlan"
    assert [t.friendly_name for t in job.properties.tasks] == [
        "Prerequisites check for the recovery plan", "Shut down the virtual machines", "Group 1: Start", "Group 2: Start"]
    group = job.properties.tasks[2].group_task_custom_details
    assert group.instance_type == "RecoveryPlanGroupTaskDetails" and group.child_tasks[0].state == "Succeeded"
    assert job.properties.custom_details.protected_item_details == []  # as every recorded failover job
    assert all(lab.emulator.world.items[name]["failover_point_id"] for name in ("db01", "app02"))
    assert effects.calls == [("restore_original_location", "db01", "mt-win01"), ("power_on", "db01"),
                             ("restore_original_location", "app02", "mt-win01"), ("power_on", "app02")]
    assert lab.stage("db01") == lab.stage("app02") == "failed_back"
    plan = lab.asr.replication_recovery_plans.get(lab.rg, lab.vault, "rp-app")
    assert plan.properties.allowed_operations == ["Commit"] and plan.properties.last_unplanned_failover_time
    assert plan.properties.current_scenario.scenario_name == "UnplannedFailover"

    poller, job_name = lab.plan_call("failover_commit", "rp-app")
    poller.result()
    assert lab.wait_job(job_name).properties.state == "Succeeded"
    assert lab.stage("db01") == lab.stage("app02") == "failback_committed"
    for name in ("db01", "app02"):
        with pytest.raises(ResourceNotFoundError):
            lab.compute.virtual_machines.get("rg-recovery", name)


def test_plan_refusals(lab):
    wrong = {"properties": dict(PLAN_FAILBACK["properties"], failoverDirection="PrimaryToRecovery")}
    with pytest.raises(HttpResponseError) as refused:
        lab.plan_call("unplanned_failover", "rp-app", wrong)
    assert refused.value.status_code == 400 and "RecoveryToPrimary" in str(refused.value)
    with pytest.raises(HttpResponseError) as refused:
        lab.plan_call("reprotect", "rp-app")
    assert refused.value.error.code == "OperationNotSupported" and "deprecated" in str(refused.value)
    with pytest.raises(HttpResponseError) as refused:
        lab.plan_call("planned_failover", "rp-app", {"properties": {"failoverDirection": "RecoveryToPrimary"}})
    assert refused.value.error.code == "OperationNotSupported"
    with pytest.raises(HttpResponseError) as refused:
        lab.plan_call("failover_commit", "rp-app")
    assert refused.value.status_code == 400 and "Allowed operations" in str(refused.value)
    with pytest.raises(ResourceNotFoundError):
        lab.asr.replication_recovery_plans.get(lab.rg, lab.vault, "no-such-plan")
