# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Steps over several recovery plans at once (issue 17): one module call per step for every plan, each plan one unit
(a plan whose job fails stops alone, the other plans go on), at most plan_concurrency plan jobs at once. Judged from
outside: the emulator's stages, jobs and request counters."""

import threading

from conftest import NO_MUTATIONS, lab_control, lab_requests, run_check_mode, run_module, wait_until, watch_calls
from test_roles import control, stages

PLANS = ["rp-a", "rp-b", "rp-c"]
VMS = ["a1", "a2", "b1", "b2", "c1", "c2"]


def plan_jobs(lab, scenario="UnplannedFailover"):
    """``{plan name: [job state, ...]}`` of the emulator's plan jobs of ``scenario``."""
    found = {}
    for job in lab.azure.state()["jobs"].values():
        if job["scenario"] == scenario and job["target"] in PLANS:
            found.setdefault(job["target"], []).append(job["state"])
    return found


def failover_posts(lab):
    """``{plan name: POST count}`` of the plans' unplannedFailover requests the emulator answered."""
    counts = {}
    for route, count in lab_requests(lab).items():
        method, _space, path = route.partition(" ")
        for plan in PLANS:
            if method == "POST" and path.split("?")[0].lower().endswith("/replicationrecoveryplans/%s/unplannedfailover" % plan):
                counts[plan] = counts.get(plan, 0) + count
    return counts


def reprotect_all(lab):
    rc, out = run_module("reprotect", {"recovery_plan": PLANS, "direction": "to_onprem", "poll_interval": 0.5,
                                       "per_vm": True}, env=lab.env())
    assert rc == 0, out
    assert {stages(lab)[vm] for vm in VMS} == {"replicating_to_onprem"}, stages(lab)
    assert [p["outcome"] for p in out["plans"]] == ["done"] * 3 and out["plans_going"] == PLANS


def test_a_plan_whose_failover_fails_stops_alone_and_the_other_plans_fail_back(full_lab):
    lab = full_lab("three-plans.yml")
    reprotect_all(lab)
    # check mode plans the three plans and starts nothing
    rc, out = run_check_mode("failover", {"recovery_plans": PLANS, "per_vm": True}, lab)
    assert rc == 0 and out["changed"] and out["recovery_plans"] == PLANS, out
    control(lab, "/jobs/fail", {"plan": "rp-b", "at_task": 1, "code": "LabInjectedFailure", "message": "injected"})
    rc, out = run_module("failover", {"recovery_plan": PLANS, "per_vm": True, "poll_interval": 0.5, "plan_concurrency": 2},
                         env=lab.env())
    assert rc != 0, out
    now = stages(lab)
    assert [now[vm] for vm in ("a1", "a2", "c1", "c2")] == ["failed_back"] * 4, now
    assert now["b1"] != "failed_back" and now["b2"] != "failed_back", now
    assert failover_posts(lab) == {"rp-a": 1, "rp-b": 1, "rp-c": 1}
    # the failure names the plan that stopped and why; the others go on
    by_plan = {p["name"]: p for p in out["plans"]}
    assert by_plan["rp-b"]["outcome"] == "stopped" and "LabInjectedFailure" in by_plan["rp-b"]["why"], out["plans"]
    assert by_plan["rp-a"]["outcome"] == by_plan["rp-c"]["outcome"] == "done", out["plans"]
    assert out["plans_going"] == ["rp-a", "rp-c"] and sorted(out["continue_with"]) == ["a1", "a2", "c1", "c2"], out
    assert "b1" in out["msg"] and "LabInjectedFailure" in out["msg"], out["msg"]
    # the failed step still says what it cost (the run's report sums it): the three plan failovers at least
    assert out.get("api_writes", 0) >= 3 and out.get("api_reads", 0) > 0, out
    # the re-run fails over rp-b alone, then a re-run changes nothing
    rc, out = run_module("failover", {"recovery_plan": PLANS, "per_vm": True, "poll_interval": 0.5}, env=lab.env())
    assert rc == 0, out
    assert {stages(lab)[vm] for vm in VMS} == {"failed_back"}, stages(lab)
    assert failover_posts(lab) == {"rp-a": 1, "rp-b": 2, "rp-c": 1}
    outcomes = {p["name"]: p["outcome"] for p in out["plans"]}
    assert outcomes == {"rp-a": "already_done", "rp-b": "done", "rp-c": "already_done"}, outcomes
    rc, out = run_module("failover", {"recovery_plan": PLANS, "per_vm": True, "poll_interval": 0.5}, env=lab.env())
    assert rc == 0 and not out["changed"], out
    assert failover_posts(lab) == {"rp-a": 1, "rp-b": 2, "rp-c": 1}


def test_plan_concurrency_starts_the_next_plan_only_when_a_slot_frees(full_lab):
    lab = full_lab("three-plans.yml")
    reprotect_all(lab)
    control(lab, "/jobs/hold", {"plan": "rp-a", "at_task": 1})
    outcome = {}

    def failover():
        outcome["result"] = run_module("failover", {"recovery_plan": PLANS, "per_vm": True, "poll_interval": 0.5,
                                                    "plan_concurrency": 1}, env=lab.env())
    worker = threading.Thread(target=failover)
    worker.start()
    try:
        wait_until(lambda: "rp-a" in plan_jobs(lab), "the failover job of rp-a")
        polls = lab_requests(lab)

        def job_reads(counts):
            return sum(n for route, n in counts.items() if route.startswith("GET ") and "/replicationJobs" in route)
        # the module has read the held job three more times: it had its chance to start another plan, and did not
        wait_until(lambda: job_reads(lab_requests(lab)) >= job_reads(polls) + 3, "three more reads of the jobs")
        assert set(plan_jobs(lab)) == {"rp-a"}, plan_jobs(lab)
        assert failover_posts(lab) == {"rp-a": 1}
    finally:
        lab_control(lab, "POST", "/jobs/release", {})
        worker.join(600)
    rc, out = outcome["result"]
    assert rc == 0, out
    assert {stages(lab)[vm] for vm in VMS} == {"failed_back"}, stages(lab)
    assert failover_posts(lab) == {"rp-a": 1, "rp-b": 1, "rp-c": 1}


def test_a_run_over_its_request_budget_is_refused_before_anything_is_locked(full_lab):
    lab = full_lab("three-plans.yml")
    watch = watch_calls(lab)
    rc, out = run_module("run_lock", {"recovery_plans": PLANS, "owner": "budget-test", "request_budget": 40,
                                      "keep_alive": False}, env=lab.env())
    assert rc != 0, out
    assert "rp-a, rp-b, rp-c (6 VMs)" in out["msg"] and "request budget of 40" in out["msg"], out["msg"]
    assert "request_budget" in out["msg"] and out["estimate"]["calls"] > 40, out
    assert watch.mutations() == NO_MUTATIONS  # nothing locked: no tag written
    # within the budget the lock is taken, and the estimate says what the run will cost
    rc, out = run_module("run_lock", {"recovery_plans": PLANS, "owner": "budget-test", "keep_alive": False},
                         env=lab.env())
    assert rc == 0 and out["changed"], out
    assert out["estimate"]["vms"] == 6 and out["estimate"]["plans"] == PLANS, out["estimate"]
    assert watch.mutations() != NO_MUTATIONS
    rc, out = run_module("run_lock", {"recovery_plans": PLANS, "owner": "budget-test", "state": "unlocked"}, env=lab.env())
    assert rc == 0, out


def test_plans_and_vms_named_together_are_checked_together(full_lab):
    lab = full_lab("three-plans.yml")
    rc, out = run_module("readiness", {"recovery_plans": ["rp-a"], "vms": ["c1"], "location": "original",
                                       "datastore": "vmfs-01"}, env=lab.env())
    assert rc == 0 and "mutually exclusive" not in out.get("msg", ""), out
    assert [verdict["vm"] for verdict in out["verdicts"]] == ["a1", "a2", "c1"], out
    # c1 is named outside every plan: no plan rule judges it with rp-a
    assert not [f for f in out["findings"] if f["vm"] == "c1" and "recovery plan" in f.get("message", "")], out["findings"]
