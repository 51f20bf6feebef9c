# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A failback run over several recovery plans at once and in waves, end to end through the recovery_plan playbook
(issue 17): a plan whose failover fails stops alone while the others finish; a two-wave run pauses after wave 1 and its
re-run does wave 2; a check-mode run of waves changes nothing. Judged from outside: the emulator's stages, Azure VMs
and request counters (GET /_lab/state, /_lab/stats) and vCenter through the property collector."""

from conftest import lab_requests, run_playbook
from test_roles import FINAL, control, latest_report, recap, reset_request_counters, stages

from tests.lab.calls import NO_MUTATIONS, CallWatch

WRITES = ("PUT", "PATCH", "POST", "DELETE")


def run_vars(tmp_path, **extra):
    """The recovery_plan playbook's variables: fast polls, no preflight (the readiness tests cover it), the reports in
    tmp_path/reports; ``extra`` (recovery_plans, waves, failback_...) as given."""
    base = {"failback_poll_interval": 0.5, "failback_recovery_point_delay": 1, "failback_preflight": False,
            "failback_report_dir": str(tmp_path / "reports")}
    base.update(extra)
    return base


def azure_vms(lab):
    """The names of the Azure VMs the emulator's Compute holds (the commit deletes a VM's)."""
    return {key.rsplit("/", 1)[-1] for key in lab.azure.state()["compute"]["virtual_machines"]}


def writes_touching(lab, vms, plans, methods=WRITES):
    """The ARM requests of ``methods`` (default every write: PUT, PATCH, POST, DELETE; ``{"METHOD path": count}``)
    the emulator answered since its counters were reset that name one of ``vms`` (its protected item, by the item's
    ARM name, or its Azure VM) or one of ``plans``."""
    items = lab.azure.state()["items"]
    needles = [items[vm]["item_name"].lower() for vm in vms] + ["/virtualmachines/%s" % vm.lower() for vm in vms] + [
        "/replicationrecoveryplans/%s" % plan.lower() for plan in plans]
    found = {}
    for route, count in lab_requests(lab).items():
        method, _space, path = route.partition(" ")
        target = path.split("?")[0].lower()
        if method in methods and not target.startswith("/_lab") and any(
                target.endswith(n) or (n + "/") in target for n in needles):
            found[route] = count
    return found


def test_three_plans_at_once_one_failing_its_failover_the_others_finish_and_the_rerun_finishes_it(full_lab, tmp_path):
    lab = full_lab("four-plans.yml")
    control(lab, "/jobs/fail", {"plan": "rp-b", "at_task": 1, "code": "LabInjectedFailure",
                                "message": "A failure injected by the test"})
    extra = run_vars(tmp_path, recovery_plans=["rp-a", "rp-b", "rp-c"])
    rc, out = run_playbook("recovery_plan", extra, lab.env())
    assert rc != 0, out[-4000:]
    now = stages(lab)
    # the other two plans finished: Site Recovery shows them reprotected to Azure, the commit deleted their Azure VMs
    # and vCenter runs their VMs
    assert (now["a1"], now["c1"]) == (FINAL, FINAL), now
    assert not {"a1", "c1"} & azure_vms(lab)
    for vm in ("a1", "c1"):
        assert lab.effects.vm(vm)["power_state"] == "poweredOn", vm
    # the failed plan's VMs are not committed: their Azure VMs exist, their stage is short of the commit
    assert {"b1", "b2"} <= azure_vms(lab)
    assert now["b1"] not in ("failback_committed", FINAL) and now["b2"] not in ("failback_committed", FINAL), now
    assert now["d1"] == "running_in_azure"  # not in the run
    # the run names the plan that stopped, where and why; so does the report's per-plan section
    assert "Stopped per plan - rp-b (failover_to_onprem)" in out, out[-4000:]
    report = latest_report(tmp_path)
    plans = {plan["name"]: plan for plan in report["plans"]}
    assert sorted(plans) == ["rp-a", "rp-b", "rp-c"]
    assert (plans["rp-a"]["outcome"], plans["rp-c"]["outcome"]) == ("done", "done"), plans
    assert plans["rp-b"]["outcome"] == "stopped" and plans["rp-b"]["stopped_at"] == "failover_to_onprem", plans["rp-b"]
    assert "LabInjectedFailure" in plans["rp-b"]["why"], plans["rp-b"]
    assert plans["rp-b"]["vms"] == ["b1", "b2"] and plans["rp-a"]["vms"] == ["a1"]
    # the re-run (the fault fired once) finishes rp-b and leaves the others as they are
    reset_request_counters(lab)
    rc, out = run_playbook("recovery_plan", extra, lab.env())
    assert rc == 0, out[-4000:]
    now = stages(lab)
    assert [now[vm] for vm in ("a1", "b1", "b2", "c1")] == [FINAL] * 4, now
    assert not {"a1", "b1", "b2", "c1"} & azure_vms(lab)
    assert lab.effects.vm("b2")["power_state"] == "poweredOn"
    assert writes_touching(lab, ["a1", "c1"], ["rp-a", "rp-c"], methods=("POST",)) == {}  # no ASR action on them
    plans = {plan["name"]: plan["outcome"] for plan in latest_report(tmp_path)["plans"]}
    assert plans == {"rp-a": "done", "rp-b": "done", "rp-c": "done"}


def test_two_waves_with_a_pause_the_first_run_does_wave_1_and_the_rerun_wave_2(full_lab, tmp_path):
    lab = full_lab("four-plans.yml")
    extra = run_vars(tmp_path, waves=[["rp-a", "rp-b"], ["rp-c"]], failback_wave_pause=True)
    reset_request_counters(lab)
    rc, out = run_playbook("recovery_plan", extra, lab.env())
    assert rc == 0, out[-4000:]
    assert "Next: wave 2 (rp-c) - run the same command again to start it" in out, out[-4000:]
    now = stages(lab)
    assert [now[vm] for vm in ("a1", "b1", "b2")] == [FINAL] * 3, now
    # wave 2 untouched: its VM still runs in Azure, and no ARM write named its item, its Azure VM or its plan
    assert (now["c1"], now["d1"]) == ("running_in_azure", "running_in_azure"), now
    assert "c1" in azure_vms(lab)
    assert writes_touching(lab, ["c1"], ["rp-c"]) == {}
    assert writes_touching(lab, ["a1", "b1", "b2"], ["rp-a", "rp-b"]) != {}  # the check can see a write
    report = latest_report(tmp_path)
    plans = {plan["name"]: plan for plan in report["plans"]}
    assert (plans["rp-a"]["wave"], plans["rp-b"]["wave"], plans["rp-c"]["wave"]) == (1, 1, 2)
    assert (plans["rp-a"]["outcome"], plans["rp-b"]["outcome"], plans["rp-c"]["outcome"]) == (
        "done", "done", "not_started"), plans
    # the same command again: wave 2, and nothing written to wave 1's items or plans
    reset_request_counters(lab)
    rc, out = run_playbook("recovery_plan", extra, lab.env())
    assert rc == 0, out[-4000:]
    now = stages(lab)
    assert now["c1"] == FINAL and "c1" not in azure_vms(lab), now
    assert lab.effects.vm("c1")["power_state"] == "poweredOn"
    assert now["d1"] == "running_in_azure"
    assert writes_touching(lab, ["a1", "b1", "b2"], ["rp-a", "rp-b"]) == {}
    # every wave done: a third run changes nothing
    rc, out = run_playbook("recovery_plan", extra, lab.env())
    assert rc == 0, out[-4000:]
    assert "Every wave is done (2 wave(s)): nothing left to run." in out
    assert recap(out)["changed"] == 0, out[-3000:]


def test_a_plan_that_stops_in_wave_1_keeps_wave_2_from_starting(full_lab, tmp_path):
    lab = full_lab("four-plans.yml")
    control(lab, "/jobs/fail", {"plan": "rp-a", "at_task": 1, "code": "LabInjectedFailure", "message": "injected"})
    extra = run_vars(tmp_path, waves=[["rp-a", "rp-b"], ["rp-c"]])
    reset_request_counters(lab)
    rc, out = run_playbook("recovery_plan", extra, lab.env())
    assert rc != 0, out[-4000:]
    now = stages(lab)
    assert (now["b1"], now["b2"]) == (FINAL, FINAL), now  # the other plan of wave 1 went on
    # wave 2 did not start: no ASR action on its item or plan (the run's lock, which covers every wave it would run,
    # tagged and untagged its Azure VM)
    assert now["c1"] == "running_in_azure" and writes_touching(lab, ["c1"], ["rp-c"], methods=("POST",)) == {}
    assert "Wave 2 does not start: plan rp-a of wave 1 is not committed" in out, out[-4000:]
    plans = {plan["name"]: plan for plan in latest_report(tmp_path)["plans"]}
    assert plans["rp-a"]["outcome"] == "stopped" and plans["rp-c"]["outcome"] == "not_started"
    assert plans["rp-c"]["why"].startswith("Wave 2 does not start: plan rp-a of wave 1")
    # the re-run finishes wave 1 first (rp-a), then does wave 2
    rc, out = run_playbook("recovery_plan", extra, lab.env())
    assert rc == 0, out[-4000:]
    assert [stages(lab)[vm] for vm in ("a1", "b1", "b2", "c1")] == [FINAL] * 4


def test_check_mode_of_a_waves_run_makes_no_mutating_call(full_lab, tmp_path):
    lab = full_lab("four-plans.yml")
    before, azure_before = stages(lab), azure_vms(lab)
    watch = CallWatch.of(lab)
    rc, out = run_playbook("recovery_plan", run_vars(tmp_path, waves=[["rp-a"], ["rp-b", "rp-c"]]), lab.env(),
                           options=("--check",))
    assert rc == 0, out[-5000:]
    calls = watch.since()
    assert calls["arm"], "no call reached the lab"
    assert watch.mutations(calls) == NO_MUTATIONS
    assert stages(lab) == before and azure_vms(lab) == azure_before
    # both waves were planned (the second judged on the stages the first would leave)
    assert "wave 2: rp-b, rp-c" in out, out[-5000:]
    assert "Wave 2 does not start" not in out
