# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain.waves: which waves of recovery plans a run takes, from each plan member's stage in Site Recovery."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import waves

WAVES = [["rp-db"], ["rp-app", "rp-web"], ["rp-edge"]]
MEMBERS = {"rp-db": ["db01", "db02"], "rp-app": ["app01"], "rp-web": ["web01", "web02"], "rp-edge": ["edge01"]}
ALL = [vm for vms in MEMBERS.values() for vm in vms]


def at(stage, *vms, base=None):
    stages = dict(base or dict.fromkeys(ALL, "running_in_azure"))
    stages.update(dict.fromkeys(vms, stage))
    return stages


def test_a_fresh_run_takes_every_wave_from_the_first():
    decision = waves.plan_run(WAVES, MEMBERS, at("running_in_azure"))
    assert [w["state"] for w in decision["waves"]] == ["untouched"] * 3
    assert decision["done"] == [] and decision["next"] == 1 and decision["run"] == [1, 2, 3]
    assert decision["lock_plans"] == ["rp-db", "rp-app", "rp-web", "rp-edge"]
    assert decision["finish"] is False and decision["after"] is None
    assert decision["units"] == [{"index": 1, "plans": ["rp-db"], "steps": list(waves.STEPS), "finish": False},
                                 {"index": 2, "plans": ["rp-app", "rp-web"], "steps": list(waves.STEPS), "finish": False},
                                 {"index": 3, "plans": ["rp-edge"], "steps": list(waves.STEPS), "finish": False}]


def test_a_paused_run_takes_one_wave_and_names_the_next():
    decision = waves.plan_run(WAVES, MEMBERS, at("running_in_azure"), pause=True)
    assert decision["run"] == [1] and decision["lock_plans"] == ["rp-db"] and decision["after"] == 2
    assert "running the same command again starts wave 2 (rp-app, rp-web)" in decision["message"]
    # the re-run: wave 1 committed and reprotected (complete), so wave 2 is next
    second = waves.plan_run(WAVES, MEMBERS, at("reprotected_to_azure", "db01", "db02"), pause=True)
    assert second["done"] == [1] and second["run"] == [2] and second["after"] == 3
    assert second["lock_plans"] == ["rp-app", "rp-web"]
    last = waves.plan_run(WAVES, MEMBERS, at("reprotected_to_azure", *ALL[:-1]), pause=True)
    assert last["run"] == [3] and last["after"] is None


def test_a_plan_of_a_wave_that_stopped_keeps_the_next_wave_from_starting():
    stages = at("failback_committed", "db01", "db02", "app01")
    stages.update(web01="failover_failed", web02="replicating_to_onprem")
    decision = waves.plan_run(WAVES, MEMBERS, stages)
    assert decision["next"] == 2 and decision["run"] == [1, 2, 3]  # wave 1 still to reprotect to Azure, then wave 2
    assert [w["state"] for w in decision["waves"]] == ["at_gate", "unfinished", "untouched"]
    start, why = waves.may_start(decision, 3)
    assert start is False
    assert why.startswith("Wave 3 does not start: plan rp-web of wave 2 is not committed: web01 at failover_failed; "
                          "web02 at replicating_to_onprem.")
    assert "finishes wave 2 first" in why
    assert waves.may_start(decision, 2) == (True, None)
    assert waves.stopped_plans(decision, [1, 2]) == [
        {"name": "rp-web", "wave": 2, "why": "not committed: web01 at failover_failed; web02 at replicating_to_onprem"}]


def test_a_rerun_after_a_partial_failure_finishes_the_unfinished_wave_first():
    # wave 1 failed part-way (db02's failover failed), wave 2 untouched: the re-run starts at wave 1, even paused
    stages = at("failback_committed", "db01")
    stages["db02"] = "failover_failed"
    decision = waves.plan_run(WAVES, MEMBERS, stages, pause=True)
    assert decision["next"] == 1 and decision["run"] == [1] and decision["after"] == 2


def test_the_verified_gate_commits_every_wave_at_the_end():
    decision = waves.plan_run(WAVES, MEMBERS, at("failed_back", "db01", "db02"), gate="verified")
    assert decision["done"] == [1] and decision["run"] == [2, 3]  # a wave at the gate is not run again
    assert decision["finish"] is True and decision["lock_plans"] == ["rp-db", "rp-app", "rp-web", "rp-edge"]
    assert "commits and reprotects to Azure of every plan run at the end" in decision["message"]
    assert [(u["index"], u["steps"], u["finish"]) for u in decision["units"]] == [
        (2, ["reprotect_to_onprem", "failover_to_onprem"], False), (3, ["reprotect_to_onprem", "failover_to_onprem"], False),
        (4, ["commit", "reprotect_to_azure"], True)]
    assert decision["units"][-1]["plans"] == ["rp-db", "rp-app", "rp-web", "rp-edge"]
    paused = waves.plan_run(WAVES, MEMBERS, at("failed_back", "db01", "db02"), gate="verified", pause=True)
    assert paused["run"] == [2] and paused["finish"] is False and paused["lock_plans"] == ["rp-app", "rp-web"]
    # every wave verified: the run only finishes (commits); once all committed and reprotected, nothing is left
    verified = waves.plan_run(WAVES, MEMBERS, at("failed_back", *ALL), gate="verified", pause=True)
    assert verified["run"] == [] and verified["finish"] is True and verified["next"] is None
    done = waves.plan_run(WAVES, MEMBERS, at("reprotected_to_azure", *ALL), gate="verified")
    assert done["run"] == [] and done["finish"] is False and done["lock_plans"] == []
    assert done["message"] == "Every wave is done (3 wave(s)): nothing left to run."
    # the end asks for the wave after the last: every plan must be at the gate
    start, why = waves.may_start(waves.plan_run(WAVES, MEMBERS, at("failed_back", *ALL[:-1]), gate="verified"), 4)
    assert start is False and "plan rp-edge of wave 3 is not failed back and verified: edge01 at running_in_azure" in why


def test_without_commit_a_verified_run_never_finishes_with_commits():
    decision = waves.plan_run(WAVES, MEMBERS, at("failed_back", *ALL), gate="verified", commit=False)
    assert decision["run"] == [] and decision["finish"] is False
    assert [w["state"] for w in decision["waves"]] == ["complete"] * 3


def test_a_committed_wave_still_to_reprotect_to_azure_is_run_again():
    decision = waves.plan_run(WAVES, MEMBERS, at("failback_committed", "db01", "db02"), pause=True)
    assert decision["run"] == [1, 2] and decision["after"] == 3
    no_reprotect = waves.plan_run(WAVES, MEMBERS, at("failback_committed", "db01", "db02"), pause=True,
                                  reprotect_to_azure=False)
    assert no_reprotect["run"] == [2]


@pytest.mark.parametrize("stage,at_gate", [
    ("running_in_azure", False), ("reprotecting_to_onprem", False), ("replicating_to_onprem", False),
    ("failover_failed", False), ("failed_back", False), ("failback_committed", True), ("reprotected_to_azure", True),
    ("job_running", False), ("unknown", False), (None, False)])
def test_the_committed_gate_is_the_commit(stage, at_gate):
    state = waves.plan_state("rp", ["vm1"], {"vm1": stage}, "committed", waves.COMPLETE[(True, True)])
    assert state["at_gate"] is at_gate
    assert (state["why"] is None) is at_gate


def test_a_plan_the_vault_lacks_or_without_items_never_reaches_the_gate():
    missing = waves.plan_state("rp-x", None, {}, "committed", waves.COMPLETE[(True, True)])
    assert missing["at_gate"] is False and missing["why"] == "recovery plan rp-x was not found in the vault"
    empty = waves.plan_state("rp-x", [], {}, "verified", waves.COMPLETE[(True, True)])
    assert empty["at_gate"] is False and empty["why"] == "recovery plan rp-x holds no protected item"
    unprotected = waves.plan_state("rp-x", ["vm1"], {}, "verified", waves.COMPLETE[(True, True)])
    assert unprotected["why"] == "not failed back and verified: vm1 without a protected item"


def test_wave_of_names_each_plans_wave():
    assert waves.wave_of(WAVES) == {"rp-db": 1, "rp-app": 2, "rp-web": 2, "rp-edge": 3}
