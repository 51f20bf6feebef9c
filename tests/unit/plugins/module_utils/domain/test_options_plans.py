# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of a run over many recovery plans and waves (issue 17): recovery_plans, plan_concurrency,
request_budget, waves, wave_gate, wave_pause - each refused at the start naming the option and the fix."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options


def problems(**given):
    return options.check_run(given, prefix="failback_")


def rules(**given):
    return [(p["option"], p["rule"]) for p in problems(**given)]


def test_the_defaults_are_asrs_documented_limits():
    run = options.with_defaults({})
    assert run["recovery_plans"] == [] and run["waves"] == []
    assert run["plan_concurrency"] == 10  # 10 plans x ASR's 100 VMs per plan = the 1,000-VM target
    assert run["request_budget"] == 12000  # ARM's per-subscription read budget per hour
    assert run["wave_gate"] == "committed" and run["wave_pause"] is False
    assert [p["option"] for p in problems(**run)] == ["failback_vms"]  # the run names no VM and no plan


def test_several_plans_and_waves_are_accepted():
    assert problems(vms=[], recovery_plans=["rp-a", "rp-b", "rp-c"], plan_concurrency=3) == []
    assert problems(vms=["app01"], recovery_plan="rp-a", recovery_plans=["rp-b"]) == []
    assert problems(vms=[], waves=[["rp-db"], ["rp-app", "rp-web"]], wave_gate="verified", wave_pause=True,
                    commit=False) == []
    assert problems(waves=[["rp-db"]], commit=False) == []  # one wave: nothing waits for its commit


@pytest.mark.parametrize("given,option,words", [
    ({"recovery_plans": ["rp-a", "rp-b", "rp-a"]}, "failback_recovery_plans", "rp-a more than once (twice in"),
    ({"recovery_plan": "rp-a", "recovery_plans": ["rp-a"]}, "failback_recovery_plans",
     "rp-a more than once (failback_recovery_plan, failback_recovery_plans)"),
    ({"waves": [["rp-a"], ["rp-b", "rp-a"]]}, "failback_waves", "rp-a more than once (wave 1, wave 2)"),
    ({"waves": [["rp-a", "rp-a"]]}, "failback_waves", "rp-a more than once (twice in wave 1)"),
    ({"waves": [["rp-a"]], "recovery_plans": ["rp-a"]}, "failback_recovery_plans", "is set with failback_waves"),
    ({"waves": [["rp-a"]], "recovery_plan": "rp-b"}, "failback_recovery_plan", "is set with failback_waves"),
    ({"waves": [["rp-a"]], "vms": ["app01"]}, "failback_vms", "waves fail back recovery plans only"),
    ({"waves": [["rp-a"], []]}, "failback_waves[1]", "is an empty wave"),
    ({"waves": ["rp-a", "rp-b"]}, "failback_waves[0]", "must be a list of recovery plan names"),
    ({"waves": "rp-a"}, "failback_waves", "must be a list of waves"),
    ({"recovery_plans": "rp-a"}, "failback_recovery_plans", "must be a list of recovery plan names"),
    ({"recovery_plans": ["rp-a", ""]}, "failback_recovery_plans", "must be a list of recovery plan names"),
    ({"recovery_plans": ["rp-a"], "plan_concurrency": 0}, "failback_plan_concurrency", "must be at least 1"),
    ({"recovery_plans": ["rp-a"], "plan_concurrency": "ten"}, "failback_plan_concurrency", "must be a whole number"),
    ({"recovery_plans": ["rp-a"], "request_budget": -1}, "failback_request_budget", "must be at least 0"),
    ({"waves": [["rp-a"]], "wave_gate": "started"}, "failback_wave_gate", "must be one of committed, verified"),
    ({"waves": [["rp-a"], ["rp-b"]], "commit": False}, "failback_wave_gate", "the second wave would never start"),
    ({"recovery_plans": ["rp-a"], "wave_pause": True}, "failback_wave_pause", "pauses between waves"),
    ({"waves": [["rp-a"]], "wave_pause": "maybe"}, "failback_wave_pause", "must be true or false"),
    ({"recovery_plans": ["rp-a", "rp-b"], "recovery_point": "a1b2c3"}, "failback_recovery_point", "a single VM"),
])
def test_each_bad_plan_option_is_refused_naming_it_and_the_fix(given, option, words):
    found = [p for p in problems(**given) if p["option"] == option]
    assert found, problems(**given)
    assert any(words in p["rule"] or words in p["message"] for p in found), found
    assert all(p["fix"] for p in found)


def test_a_refused_plan_option_says_how_to_fix_it():
    twice = problems(waves=[["rp-a"], ["rp-a"]])[0]
    assert twice["fix"].startswith("name each recovery plan once")
    gate = next(p for p in problems(waves=[["rp-a"], ["rp-b"]], commit=False) if p["option"] == "failback_wave_gate")
    assert "failback_wave_gate to verified" in gate["fix"] and "failback_commit to true" in gate["fix"]


def test_placements_of_a_plans_run_are_not_held_to_its_vm_list():
    # the plans' VMs are known only to Site Recovery: placements may name any of them
    assert problems(vms=["app01"], recovery_plans=["rp-a"], placements={"db01": {"master_target": "mt-win01"}}) == []
    assert problems(vms=["app01"], placements={"db01": {"master_target": "mt-win01"}})[0]["option"] == \
        "failback_placements.db01"


def test_run_plans_lists_every_named_plan_in_order():
    assert options.run_plans({"recovery_plan": "rp-a", "recovery_plans": ["rp-b", ""]}) == ["rp-a", "rp-b"]
    assert options.run_plans({"waves": [["rp-c"], ["rp-d", 3], "x"]}) == ["rp-c", "rp-d"]
    assert options.run_plans({"recovery_plans": "rp-a"}) == []


def test_waves_given_as_text_are_read_as_json():
    assert options.split_lists({"waves": '[["rp-a"], ["rp-b"]]'})["waves"] == [["rp-a"], ["rp-b"]]
    assert options.split_lists({"waves": ""})["waves"] == []
    assert options.split_lists({"waves": "rp-a,rp-b"})["waves"] == "rp-a,rp-b"  # refused by check_run
    assert options.split_lists({"recovery_plans": "rp-a, rp-b"})["recovery_plans"] == ["rp-a", "rp-b"]


def test_normalize_types_the_new_numbers_and_bool():
    run = options.normalize({"plan_concurrency": "5", "request_budget": "0", "wave_pause": "yes"})
    assert run == {"plan_concurrency": 5, "request_budget": 0, "wave_pause": True}


def test_a_misspelled_plan_option_is_suggested():
    found = options.unknown_variables({"failback_plan_concurency": 3, "failback_wave": [], "failback_plans": []},
                                      "failback_", options.OPTIONS)
    assert found == [("failback_plan_concurency", "failback_plan_concurrency"), ("failback_plans",
                                                                                 "failback_recovery_plans"),
                     ("failback_wave", "failback_waves")]


def test_inventory_hosts_and_plans():
    selection, found = options.play_selection([["app01", "app01"], ["db01", "db01"]], {"recovery_plans": ["rp-a"]})
    assert found == [] and selection["plan_vms"] == ["app01", "db01"] and selection["vms"] == []
    _selection, found = options.play_selection([["app01", "app01"]], {"waves": [["rp-a"]]}, "failback_")
    assert [p["option"] for p in found] == ["failback_waves"] and "failback_hosts=localhost" in found[0]["fix"]
