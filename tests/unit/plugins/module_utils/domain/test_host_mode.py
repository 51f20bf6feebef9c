# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A failback run against inventory hosts (issue 16): which VMs the play's hosts make, what is refused, and each
host's outcome from the report."""

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options, outcome
from ansible_collections.siterecovery.failback.plugins.modules.run_lock import plan_slice_problem


def test_the_controller_alone_keeps_the_options_vms():
    assert options.play_selection([], {"vms": ["app01"]}) == (None, [])
    assert options.play_selection([["localhost", "localhost"]], {"vms": ["app01"]}) == (None, [])


def test_vm_hosts_are_the_run_s_vms_in_play_order_and_the_controller_is_not_one():
    selection, problems = options.play_selection([["web01", "web01"], ["localhost", "localhost"], ["db_01", "db 01"]], {})
    assert problems == []
    assert selection == {"hosts": {"web01": "web01", "db_01": "db 01"}, "vms": ["web01", "db 01"], "plan_vms": []}


def test_with_a_recovery_plan_the_hosts_are_what_the_plan_must_hold():
    selection, problems = options.play_selection([["app01", "app01"], ["web01", "web01"]], {"recovery_plan": "rp-app"})
    assert problems == [] and selection["vms"] == [] and selection["plan_vms"] == ["app01", "web01"]


def test_vms_named_as_well_as_hosts_is_refused_naming_the_variable_and_both_ways_out():
    selection, problems = options.play_selection([["app01", "app01"]], {"vms": ["web03"]}, "original_location_")
    assert selection["vms"] == ["app01"]
    [problem] = problems
    assert problem["option"] == "original_location_vms" and "inventory hosts (app01)" in problem["message"]
    assert "failback_hosts=localhost" in problem["fix"] and "--limit" in problem["fix"]


def test_two_hosts_naming_one_vm_are_refused():
    problems = options.play_selection([["a", "app01"], ["b", "app01"]], {}, "failback_")[1]
    assert len(problems) == 1 and "hosts a, b name the same VM app01" in problems[0]["message"]


def test_a_slice_of_a_plan_is_refused_naming_what_is_left_out_and_what_is_extra():
    assert plan_slice_problem("rp-app", ["app02", "app01"], ["app01", "app02"]) is None
    message = plan_slice_problem("rp-app", ["app02", "app01", "web01"], ["app01", "web01", "web03"])
    assert message.startswith("Recovery plan rp-app holds app02, which the play does not")
    assert "does not hold web03, which the play runs against" in message and "job slicing off" in message


REPORT = {"run": {"result": "failed", "failed_stage": "Fail over", "failed_message": "boom"},
          "vms": [{"name": "app01", "stage": "failover_failed", "rerun": "fail it over again.",
                   "failure": {"step": "failover_to_onprem", "message": "[8038] short of memory"}},
                  {"name": "web01", "stage": "reprotected_to_azure", "rerun": "nothing.", "failure": None}]}


def test_a_host_fails_exactly_when_its_vm_has_a_failure():
    got = outcome.host_outcomes(REPORT, {"app01": "app01", "web01": "web01"})
    assert got["web01"] == {"vm": "web01", "failed": False, "msg": "VM web01: nothing failed for it."}
    assert got["app01"]["failed"] is True
    assert got["app01"]["msg"] == ("VM app01 at failover_failed - failover_to_onprem failed: [8038] short of memory. "
                                   "Fix that, then re-run (relaunch on failed hosts): the re-run will fail it over again.")


def test_a_vm_the_report_does_not_list_takes_the_run_s_result():
    got = outcome.host_outcomes(REPORT, {"db01": "db01"})
    assert got["db01"]["failed"] and "Fail over failed: boom" in got["db01"]["msg"]
    passed = outcome.host_outcomes({"run": {"result": "success"}, "vms": []}, {"db01": "db01"})
    assert passed["db01"]["failed"] is False


def test_locks_left_behind_fail_every_host_saying_they_lapse():
    got = outcome.host_outcomes(REPORT, {"web01": "web01"}, unlock_error="403 on the tag write")
    assert got["web01"]["failed"] and "locks could not be released (403 on the tag write)" in got["web01"]["msg"]
    assert outcome.host_outcomes(REPORT, {}) == {}
