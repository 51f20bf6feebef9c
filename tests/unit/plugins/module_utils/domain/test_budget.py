# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The request budget: what a whole failback costs from where each VM stands, and the refusal."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import budget


def plan_of(count, stage="running_in_azure", prefix="vm"):
    return {"%s%03d" % (prefix, i): stage for i in range(count)}


def test_polls_follow_the_waits_growing_pauses():
    assert budget.polls(0) == 1  # read once: done already
    assert budget.polls(30, poll=15) == 3  # read, 15 s, read, 15 s, read
    assert budget.polls(10, poll=1, max_poll=15) == 6  # 1 + 1.5 + 2.25 + 3.375 + 5.06 >= 10


def test_a_whole_failback_of_one_plan_counts_every_step():
    vms = plan_of(20)
    est = budget.estimate(vms, {"rp-a": list(vms)}, poll_interval=15)
    # per VM: 1 + 2 + 1 + 1 + 1 + 2 + 1 item/job reads, 1 claim + 2 reProtect + 1 commit writes
    assert est["writes"] == 20 * 4 + 1  # and one plan failover
    assert est["by_step"]["lock"] == {"reads": 3, "writes": 20}
    assert est["by_step"]["reprotect_to_onprem"] == {"reads": 7 + 40 + budget.polls(120), "writes": 20}
    assert est["by_step"]["failover"]["writes"] == 1
    assert est["by_step"]["commit"] == {"reads": 6 + 40 + budget.polls(111), "writes": 20}
    assert est["calls"] == est["reads"] + est["writes"] and est["per_vm"] == round(est["calls"] / 20.0, 1)
    assert est["plans"] == ["rp-a"] and est["vms"] == 20


def test_vms_further_along_cost_less_and_done_vms_only_the_bookkeeping():
    start = budget.estimate(plan_of(10))
    committed = budget.estimate(plan_of(10, "failback_committed"))
    done = budget.estimate(plan_of(10, "reprotected_to_azure"))
    assert start["calls"] > committed["calls"] > done["calls"]
    assert committed["by_step"]["commit"] == {"reads": 0, "writes": 0}
    assert committed["by_step"]["reprotect_to_azure"]["writes"] == 10
    # no Azure VM after the commit: no claim to write
    assert committed["by_step"]["lock"]["writes"] == 0 and done["writes"] == 0


def test_vms_alone_fail_over_one_job_each_and_blob_claims_are_no_arm_writes():
    est = budget.estimate(plan_of(5, "replicating_to_onprem"), state_store="blob")
    assert est["by_step"]["failover"]["writes"] == 5
    assert est["by_step"]["lock"]["writes"] == 0
    assert est["by_step"]["reprotect_to_onprem"] == {"reads": 0, "writes": 0}


def test_estimates_grow_linearly_in_the_vms():
    small = budget.estimate(plan_of(100), {"rp": list(plan_of(100))})
    plans = {"rp%d" % i: list(plan_of(100, prefix="p%d-" % i)) for i in range(10)}
    large = budget.estimate({vm: "running_in_azure" for members in plans.values() for vm in members}, plans)
    assert large["vms"] == 1000 and large["by_step"]["failover"]["writes"] == 10
    # nothing grows faster than the VMs: the fixed lists spread, the job list's pages grow with the jobs
    assert large["per_vm"] <= small["per_vm"] and large["calls"] <= 10 * small["calls"]


def test_an_unknown_step_is_refused_by_name():
    with pytest.raises(ValueError, match="job_seconds names no step of a failback: failbak"):
        budget.estimate(plan_of(1), job_seconds={"failbak": 10})


def test_check_refuses_naming_plans_numbers_and_the_fixes():
    vms = plan_of(200)
    plans = {"rp-a": list(vms)[:100], "rp-b": list(vms)[100:]}
    est = budget.estimate(vms, plans)
    assert budget.check(est, est["calls"]) is None and budget.check(est, 0) is None and budget.check(est, None) is None
    refusal = budget.check(est, est["calls"] - 1)
    assert "recovery plans rp-a, rp-b (200 VMs)" in refusal
    numbers = (est["calls"], est["reads"], est["writes"])
    assert "about %d Azure Resource Manager requests (%d reads, %d writes" % numbers in refusal
    assert "budget of %d" % (est["calls"] - 1) in refusal
    for fix in ("Raise failback_request_budget", "split the plans into waves", "run fewer plans at once"):
        assert fix in refusal
    assert "The failback of 3 VMs would make" in budget.check(budget.estimate(plan_of(3)), 1)
