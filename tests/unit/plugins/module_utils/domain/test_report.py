# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run report, assembled in Python from the steps' results and the items Site Recovery shows after the run."""

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import report

STARTED = 1764500000.0  # 2025-11-30T10:53:20Z
FINISHED = STARTED + 300.0


def job(state="Succeeded", start=STARTED + 60, errors=()):
    return {"name": "job-%s" % state, "state": state, "start_time": "2025-11-30T10:54:20Z",
            "end_time": "2025-11-30T10:58:20Z", "start_epoch": start, "duration_seconds": 240.0, "errors": list(errors)}


def vm(name, action="reprotect", stage_after="replicating_to_onprem", **extra):
    return dict({"name": name, "action": action, "stage_before": "running_in_azure", "stage_after": stage_after,
                 "job": job() if action not in ("already_done", "none") else None}, **extra)


POINT = {"name": "p1", "type": "CrashConsistent", "time": "2025-11-30T10:50:00Z"}


def success_steps():
    return {
        "reprotect_to_onprem": {"changed": True, "vms": [vm("app01")]},
        "failover_to_onprem": [{"changed": True, "vms": [
            vm("app01", "failover", "failed_back", recovery_point=POINT, data_loss_window_seconds=260.0)]}, {}],
        "commit": {"vms": [vm("app01", "commit", "failback_committed")]},
        "reprotect_to_azure": {"vms": [vm("app01", "reprotect", "reprotected_to_azure")]},
    }


def test_the_keys_of_the_report_the_collection_always_wrote():
    data = report.assemble("original-location", str(STARTED), FINISHED, "success", "", "", success_steps(),
                           onprem={"vms": [{"name": "app01"}]}, verified_at=STARTED + 200,
                           items=[{"name": "app01", "failback_stage": "reprotected_to_azure"}])
    assert data["run"]["id"] == "original-location-20251130T105820Z"
    assert (data["run"]["started"], data["run"]["finished"], data["run"]["duration_seconds"]) == (
        "2025-11-30T10:53:20Z", "2025-11-30T10:58:20Z", 300.0)
    assert data["run"]["result"] == "success" and data["run"]["failed_stage"] is None
    entry = data["vms"][0]
    assert [s["stage"] for s in entry["stages"]] == list(report.STEPS)
    assert [s["result"] for s in entry["stages"]] == ["done"] * 4
    assert entry["stages"][0] == {"stage": "reprotect_to_onprem", "action": "reprotect", "result": "done",
                                  "start": "2025-11-30T10:54:20Z", "end": "2025-11-30T10:58:20Z",
                                  "duration_seconds": 240.0, "job": "job-Succeeded", "errors": [],
                                  "stage_after": "replicating_to_onprem", "start_epoch": STARTED + 60,
                                  "end_epoch": None, "job_state": "Succeeded"}
    assert (entry["recovery_point"], entry["recovery_point_type"], entry["recovery_point_time"]) == (
        "p1", "CrashConsistent", "2025-11-30T10:50:00Z")
    assert entry["data_loss_window_seconds"] == 260.0 and entry["rto_seconds"] == 140.0
    assert entry["final_stage"] == entry["stage"] == "reprotected_to_azure"
    assert entry["failure"] is None and entry["rerun"].startswith("change nothing")


def test_a_skipped_step_and_the_retry_after_8038_stand_for_the_failover():
    steps = {"reprotect_to_onprem": {"vms": [vm("app01", "already_done")]},
             "failover_to_onprem": [
                 {"failed": True, "vms": [vm("app01", "failover", "failover_failed",
                                             job=job("Failed", errors=[{"code": "8038"}]))]},
                 {"vms": [vm("app01", "failover", "failed_back")]}]}
    entry = report.assemble("r", None, FINISHED, "success", "", "", steps)["vms"][0]
    assert [(s["stage"], s["result"]) for s in entry["stages"]] == [("reprotect_to_onprem", "skipped"),
                                                                    ("failover_to_onprem", "done")]
    assert entry["final_stage"] == "failed_back" and entry["stage"] is None  # Site Recovery not read


def test_a_failed_job_names_the_vm_its_step_and_the_remedy():
    failed = vm("app01", "failover", "failover_failed", job=job("Failed", errors=[
        {"code": "8038", "message": "no memory", "remedy": "vMotion it"}]), error_code="8038", remedy="vMotion it")
    steps = {"failover_to_onprem": {"failed": True, "msg": "Failover to on-premises failed for app01.",
                                    "vms": [failed, vm("db01", "failover", "failed_back")]}}
    data = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the failover to on-premises failed",
                           "Failover to on-premises failed for app01.", steps,
                           items=[{"name": "app01", "failback_stage": "failover_failed"},
                                  {"name": "db01", "failback_stage": "failed_back"}])
    app01, db01 = data["vms"]
    assert app01["stages"][0]["result"] == "failed" and app01["stages"][0]["errors"][0]["code"] == "8038"
    assert app01["failure"] == {"step": "failover_to_onprem", "message": "[8038] vMotion it"}
    assert app01["rerun"].startswith("fail it over to on-premises again")
    # db01 failed over: the run stopped for it too, at the run's failed task
    assert db01["failure"] == {"step": "Stop - the failover to on-premises failed",
                               "message": "Failover to on-premises failed for app01."}
    assert db01["rerun"].startswith("verify the on-premises VM, then commit")
    lines = report.lines(data)
    assert lines[0] == ("app01 at failover_failed - failover_to_onprem failed: [8038] vMotion it; a re-run will fail "
                        "it over to on-premises again, then verify it, commit and reprotect it to Azure.")
    assert lines[1] == ("db01 at failed_back - the run stopped at 'Stop - the failover to on-premises failed' (the "
                        "error above); a re-run will verify the on-premises VM, then commit (its failover is done) "
                        "and reprotect it to Azure.")


def test_an_error_that_is_not_a_job_error_still_names_each_vm_from_site_recovery():
    # a throttled read ended the failover's wait: the module returned no per-VM result at all
    steps = {"reprotect_to_onprem": {"vms": [vm("app01", "already_done")]},
             "failover_to_onprem": [{"failed": True, "msg": "Could not read job: throttled", "error": {"kind": "azure"}},
                                    {}]}
    data = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the failover to on-premises failed",
                           "Could not read job: throttled", steps,
                           items=[{"name": "app01", "failback_stage": "job_running"},
                                  {"name": "db01", "failback_stage": "reprotected_to_azure"}])
    app01, db01 = data["vms"]
    assert [s["stage"] for s in app01["stages"]] == ["reprotect_to_onprem"]
    assert app01["failure"]["message"] == "Could not read job: throttled"
    assert app01["stage"] == "job_running"
    assert app01["rerun"].startswith("go on from the result of the job running on it, once that job has ended")
    assert db01["stages"] == [] and db01["failure"] is None  # done already: nothing failed for it


def test_when_site_recovery_cannot_be_read_the_report_says_so():
    data = report.assemble("r", "", FINISHED, "failed", "Lock the VMs for this run", "throttled", {},
                           items=None, read_error="Site Recovery could not be read: throttled")
    assert data["vms"] == [] and data["run"]["stages_read_error"].endswith("throttled")
    assert data["run"]["duration_seconds"] == 0.0 and data["run"]["stages_read_from"] is None
    entry = report.assemble("r", "", FINISHED, "failed", "x", "y", {"commit": {"vms": [vm("app01", "commit")]}},
                            read_error="boom")["vms"][0]
    assert entry["stage"] is None and "boom" in entry["rerun"] and entry["final_stage"] == "replicating_to_onprem"


def test_older_failed_results_carry_their_vms_under_error():
    assert report.vms_of({"failed": True, "error": {"vms": [{"name": "app01"}, {"no": "name"}]}}) == [{"name": "app01"}]
    assert report.vms_of("skipped") == [] and report.vms_of({"vms": None, "error": "text"}) == []
    assert report.step_result([{}, {"vms": [{"name": "a"}]}, {"skipped": True}]) == {"vms": [{"name": "a"}]}


def test_rerun_for_every_stage():
    assert report.rerun("running_in_azure").startswith("reprotect it to on-premises")
    assert "inspect the item" in report.rerun("unknown") and "migration" in report.rerun("migration_completed")
    assert "inspect the item" in report.rerun("a stage nobody knows")


def test_a_refused_step_is_never_reported_done():
    gate = {"rule": "protected_disks_attached", "message": "VM web02 has 1 of ASR's 2 protected disks attached."}
    steps = {
        "reprotect_to_onprem": {"vms": [vm("web02")]},
        "failover_to_onprem": {"vms": [vm("web02", "failover", "failed_back")]},
        # the commit gate refused web02 (a refusal changes nothing: no job)
        "commit": {"failed": True, "vms": [dict(vm("web02", "commit", "failed_back"), job=None, refusals=[gate])]},
    }
    entry = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the commit failed", "refused", steps)["vms"][0]
    assert [(s["stage"], s["result"]) for s in entry["stages"]] == [
        ("reprotect_to_onprem", "done"), ("failover_to_onprem", "done"), ("commit", "refused")]
    assert entry["stages"][2]["refused"] == gate["message"]
    assert entry["failure"] == {"step": "commit", "message": gate["message"], "gate": "protected_disks_attached"}
    assert entry["committed"] is None and entry["next_action"].startswith("Read where it stands")


def test_a_vm_that_stopped_per_vm_or_a_step_refused_as_a_whole_is_refused():
    stopped = dict(vm("app01", "none", "running_in_azure"), stopped="VM app01 is in replication group rg-app ...")
    steps = {"reprotect_to_onprem": {"failed": True, "vms": [stopped, vm("web01")]}}
    found = {e["name"]: e["stages"][0]["result"] for e in report.assemble(
        "r", STARTED, FINISHED, "failed", "x", "y", steps)["vms"]}
    assert found == {"app01": "refused", "web01": "done"}
    # a step that refused every VM: those it would have acted on did nothing either
    steps = {"failover_to_onprem": {"failed": True, "vms": [dict(vm("app01", "failover", "replicating_to_onprem"),
                                                                 job=None)]}}
    entry = report.assemble("r", STARTED, FINISHED, "failed", "x", "y", steps)["vms"][0]
    assert entry["stages"][0]["result"] == "refused"


def test_a_vm_the_step_took_on_while_it_stopped_another_is_not_refused_even_without_a_job():
    """Check mode (no job ever runs): the commit stopped app01 per VM and went on with web01."""
    stopped = dict(vm("app01", "none", "failed_back"), job=None, stopped="VM app01: health probe(s) did not answer")
    steps = {"commit": {"failed": True, "continue_with": ["web01"],
                        "vms": [stopped, dict(vm("web01", "commit", "failed_back"), job=None,
                                              stage_after="failback_committed")]}}
    found = {e["name"]: (e["stages"][0]["result"], e["final_stage"]) for e in report.assemble(
        "r", STARTED, FINISHED, "failed", "x", "y", steps)["vms"]}
    assert found == {"app01": ("refused", "failed_back"), "web01": ("done", "failback_committed")}


def test_check_mode_predicts_each_vm_and_blames_only_the_vm_that_stopped():
    stopped = dict(vm("app01", "none", "failed_back"), job=None, stopped="VM app01: health probe(s) did not answer")
    steps = {"commit": {"failed": True, "continue_with": ["web01"],
                        "vms": [stopped, dict(vm("web01", "commit", "failed_back"), job=None,
                                              stage_after="failback_committed")]},
             "reprotect_to_azure": {"vms": [dict(vm("web01", "reprotect", "failback_committed"), job=None,
                                                 stage_after="reprotected_to_azure")]}}
    items = [{"name": "app01", "failback_stage": "failed_back"}, {"name": "web01", "failback_stage": "failed_back"}]
    data = report.assemble("r", STARTED, FINISHED, "failed", "Fail the run when a VM stopped", "Stopped per VM - app01",
                           steps, items=items, check_mode=True)
    by_name = {e["name"]: e for e in data["vms"]}
    assert data["run"]["check_mode"] is True
    assert by_name["web01"]["predicted_stage"] == "reprotected_to_azure" and by_name["web01"]["failure"] is None
    assert by_name["app01"]["failure"]["step"] == "commit"
    web01 = next(line for line in report.lines(data) if line.startswith("web01"))
    assert "would take it to reprotected_to_azure (check mode" in web01
    # a step that failed for every VM without detail (throttled) after web01's reprotect: the run's failure is its
    steps["failover_to_onprem"] = [{"failed": True, "msg": "throttled"}, {"skipped": True}]
    steps.pop("commit"), steps.pop("reprotect_to_azure")
    steps["reprotect_to_onprem"] = {"vms": [vm("web01")]}
    data = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the failover failed", "throttled", steps,
                           items=items[1:])
    assert data["vms"][0]["failure"] == {"step": "Stop - the failover failed", "message": "throttled"}


def plan_job(state="Succeeded", failed_group=None):
    """A recovery plan's failover job (one for every VM): prerequisites, shutdown, then a start task per boot group."""
    tasks = [{"name": "RecoveryPlanPrerequisitesCheck", "friendly_name": "Prerequisites check", "state": "Succeeded",
              "start_time": "2025-11-30T10:54:20Z", "end_time": "2025-11-30T10:54:30Z"}]
    for number, end in ((1, "2025-11-30T10:55:20Z"), (2, "2025-11-30T10:56:50Z")):
        failed = failed_group == number
        tasks.append({"name": "RecoveryPlanGroupTask", "friendly_name": "Group %d: Start" % number,
                      "state": "Failed" if failed else "Succeeded", "start_time": "2025-11-30T10:54:30Z",
                      "end_time": end})
    return {"name": "plan-job", "state": state, "start_time": "2025-11-30T10:54:20Z",
            "end_time": "2025-11-30T10:57:00Z", "start_epoch": STARTED + 60, "end_epoch": STARTED + 220,
            "duration_seconds": 160.0, "tasks": tasks, "errors": []}


PLAN = {"name": "rp-app", "boot_groups": [["db01"], ["app01"]]}


def test_a_plans_vms_each_get_their_own_rto_from_their_boot_groups_start():
    steps = {"failover_to_onprem": {"vms": [
        vm(name, "failover", "failed_back", job=plan_job(), recovery_point=POINT, data_loss_window_seconds=dl)
        for name, dl in (("db01", 260.0), ("app01", 262.5))]}}
    verified = {"vms": [{"name": "db01"}, {"name": "app01"}]}
    data = report.assemble("r", STARTED, FINISHED, "success", "", "", steps, onprem=verified,
                           verified_at=STARTED + 250, plan=PLAN,
                           items=[{"name": "db01", "failback_stage": "failed_back"},
                                  {"name": "app01", "failback_stage": "failed_back"}])
    assert data["run"]["recovery_plan"] == "rp-app" and data["run"]["boot_groups"] == [["db01"], ["app01"]]
    db01, app01 = data["vms"]
    # the job started at +60; group 1 started at 10:55:20 (+120), group 2 at 10:56:50 (+210); verified at +250
    assert (db01["boot_group"], db01["rto_seconds"], db01["verified_seconds"]) == (1, 60.0, 190.0)
    assert (app01["boot_group"], app01["rto_seconds"], app01["verified_seconds"]) == (2, 150.0, 190.0)
    assert db01["onprem_running_at"] == "2025-11-30T10:55:20Z"
    assert app01["outage"] == {"start_epoch": STARTED + 60, "end_epoch": STARTED + 210,
                               "start": "2025-11-30T10:54:20Z", "end": "2025-11-30T10:56:50Z"}
    assert (db01["data_loss_window_seconds"], app01["data_loss_window_seconds"]) == (260.0, 262.5)
    assert db01["committed"] is False and db01["running_copy"].startswith("on-premises VM; the Azure VM still exists")
    assert db01["next_action"].startswith("Re-run the playbook: it will verify the on-premises VM")


def test_a_single_vms_rto_ends_at_its_jobs_end_or_at_the_verification():
    job_done = dict(job(), end_epoch=STARTED + 200)
    steps = {"failover_to_onprem": {"vms": [vm("app01", "failover", "failed_back", job=job_done)]}}
    entry = report.assemble("r", STARTED, FINISHED, "success", "", "", steps, onprem={"vms": [{"name": "app01"}]},
                            verified_at=STARTED + 230)["vms"][0]
    assert entry["rto_seconds"] == 140.0 and entry["verified_seconds"] == 170.0 and entry["boot_group"] is None
    # a job end after the verification (clocks apart) never makes the RTO longer than the verified one
    entry = report.assemble("r", STARTED, FINISHED, "success", "", "", steps, onprem={"vms": [{"name": "app01"}]},
                            verified_at=STARTED + 190)["vms"][0]
    assert entry["rto_seconds"] == 130.0
    # not verified: no RTO; the outage ended when ASR started it
    entry = report.assemble("r", STARTED, FINISHED, "failed", "x", "y", steps)["vms"][0]
    assert "rto_seconds" not in entry and entry["outage"] == {"start_epoch": STARTED + 60, "end_epoch": STARTED + 200,
                                                              "start": "2025-11-30T10:54:20Z",
                                                              "end": "2025-11-30T10:56:40Z"}
    # its job failed: not running on-premises, the outage stays open
    steps = {"failover_to_onprem": {"failed": True, "vms": [vm("app01", "failover", "failover_failed",
                                                               job=dict(job("Failed"), end_epoch=STARTED + 200))]}}
    entry = report.assemble("r", STARTED, FINISHED, "failed", "x", "y", steps)["vms"][0]
    assert entry["outage"]["end"] is None and "onprem_running_at" not in entry


def test_a_failed_plan_job_names_its_failed_task_and_what_to_do_next():
    failed = dict(plan_job("Failed", failed_group=2), errors=[{"code": "LabInjectedFailure", "message": "injected",
                                                               "remedy": "Clear the fault and retry."}])
    steps = {"failover_to_onprem": {"failed": True, "vms": [
        vm("app01", "failover", "failover_failed", job=failed, error_code="LabInjectedFailure",
           remedy="Clear the fault and retry.")]}}
    data = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the failover to on-premises failed", "x", steps,
                           plan=PLAN, items=[{"name": "app01", "failback_stage": "failover_failed"}])
    entry = data["vms"][0]
    assert entry["stages"][0]["failed_task"] == "Group 2: Start"
    assert entry["failure"] == {"step": "failover_to_onprem", "message": "[LabInjectedFailure] Clear the fault and retry.",
                                "task": "Group 2: Start"}
    assert entry["committed"] is False and entry["running_copy"].startswith("Azure VM (still exists")
    assert entry["next_action"] == (
        "Fix what failed at Group 2: Start ([LabInjectedFailure] Clear the fault and retry), then re-run the playbook: "
        "it will fail it over to on-premises again, then verify it, commit and reprotect it to Azure.")
    assert "rto_seconds" not in entry and "onprem_running_at" not in entry
    short = report.compact(data)
    assert short == {"run_id": data["run"]["id"], "result": "failed", "recovery_plan": "rp-app",
                     "started": data["run"]["started"], "finished": data["run"]["finished"],
                     "failed_stage": "Stop - the failover to on-premises failed",
                     "vms": [{"name": "app01", "stage": "failover_failed", "result": "failed", "boot_group": 2,
                              "committed": False, "running_copy": entry["running_copy"], "rto_seconds": None,
                              "data_loss_window_seconds": None, "failure": entry["failure"],
                              "next_action": entry["next_action"]}]}


def test_a_job_still_running_when_the_step_stopped_waiting_is_running_not_failed():
    steps = {"commit": {"failed": True, "msg": "timed out", "vms": [
        vm("app01", "commit", "failed_back", job=dict(job("InProgress"), end_epoch=None, end_time=None))]}}
    data = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the commit failed", "timed out", steps,
                           items=[{"name": "app01", "failback_stage": "job_running"}])
    entry = data["vms"][0]
    assert entry["stages"][0]["result"] == "running" and entry["stages"][0]["end_epoch"] is None
    assert entry["failure"] == {"step": "Stop - the commit failed", "message": "timed out"}
    assert entry["committed"] is None and entry["running_copy"].startswith("unknown")
    assert report.compact(data)["vms"][0]["result"] == "running"


def test_the_short_form_carries_no_option_and_a_complete_vm_needs_nothing():
    data = report.assemble("r", STARTED, FINISHED, "success", "", "", success_steps(),
                           onprem={"vms": [{"name": "app01"}]}, verified_at=STARTED + 200,
                           items=[{"name": "app01", "failback_stage": "reprotected_to_azure"}])
    short = report.compact(data)
    assert short["vms"][0]["result"] == "done" and short["vms"][0]["next_action"] == "Nothing: its failback is complete."
    assert short["vms"][0]["committed"] is True and short["recovery_plan"] is None
    assert set(short) == {"run_id", "result", "recovery_plan", "started", "finished", "failed_stage", "vms"}
    # a refusal by the commit gate is named as the gate
    gate = {"rule": "health_probe", "message": "VM app01: health probe(s) did not answer"}
    steps = {"commit": {"failed": True, "vms": [dict(vm("app01", "commit", "failed_back"), job=None, refusals=[gate])]}}
    data = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the commit failed", "refused", steps,
                           items=[{"name": "app01", "failback_stage": "failed_back"}])
    assert data["vms"][0]["next_action"].startswith("Fix what failed at health_probe (VM app01: health probe(s)")
    assert report.compact(data)["vms"][0]["result"] == "refused"
    assert report._epoch_of("not a time") is None and report._epoch_of("2025-11-30T10:54:20") == STARTED + 60


# A run of several plans, in waves (issue 17): each step's results of every unit merged, and a per-plan section.
def _plan_step(plans, vms, failed=False, going=None):
    result = {"vms": vms, "plans": plans, "failed": failed}
    if going is not None:
        result["continue_with"] = going
    return result


def test_the_units_of_a_run_are_merged_and_each_plan_says_its_outcome_wave_and_why():
    wave1 = {"failover_to_onprem": [_plan_step(
        [{"name": "rp-a", "vms": ["a1"], "outcome": "done"},
         {"name": "rp-b", "vms": ["b1"], "outcome": "stopped", "why": "job f-1 failed: injected"}],
        [vm("a1", "failover", "failed_back"), vm("b1", "failover", "failover_failed", stopped="plan rp-b stopped")],
        failed=True, going=["a1"]), {}],
        "commit": _plan_step([{"name": "rp-a", "vms": ["a1"], "outcome": "done"}], [vm("a1", "commit", "failback_committed")])}
    wave2 = {"failover_to_onprem": [_plan_step([{"name": "rp-c", "vms": ["c1"], "outcome": "done"}],
                                               [vm("c1", "failover", "failed_back")]), {}]}
    data = report.assemble("r", STARTED, FINISHED, "failed", "Fail the run when a plan or VM stopped", "Stopped per plan",
                           wave2, unit_steps=[wave1], waves=[["rp-a", "rp-b"], ["rp-c"], ["rp-d"]],
                           plans=[{"name": "rp-a", "vms": ["a1"]}, {"name": "rp-b", "vms": ["b1"]},
                                  {"name": "rp-c", "vms": []}, {"name": "rp-d", "vms": ["d1"]}],
                           items=[{"name": n, "failback_stage": s} for n, s in (
                               ("a1", "failback_committed"), ("b1", "failover_failed"), ("c1", "failed_back"),
                               ("d1", "running_in_azure"))])
    by_name = {v["name"]: v for v in data["vms"]}
    assert [s["stage"] for s in by_name["a1"]["stages"]] == ["failover_to_onprem", "commit"]  # both units' steps
    assert by_name["a1"]["failure"] is None and by_name["c1"]["failure"] is None  # not blamed: a plan stopped alone
    assert by_name["b1"]["failure"]["step"] == "failover_to_onprem"
    plans = {p["name"]: p for p in data["plans"]}
    assert (plans["rp-a"]["outcome"], plans["rp-a"]["wave"], plans["rp-a"]["vms"]) == ("done", 1, ["a1"])
    assert (plans["rp-b"]["outcome"], plans["rp-b"]["stopped_at"], plans["rp-b"]["why"]) == (
        "stopped", "failover_to_onprem", "job f-1 failed: injected")
    assert plans["rp-c"]["vms"] == ["c1"] and plans["rp-c"]["outcome"] == "done"  # its VMs from the step when unread
    assert plans["rp-d"]["outcome"] == "not_started" and "wave (3)" in plans["rp-d"]["why"]
    assert plans["rp-b"]["stages"] == {"b1": "failover_failed"}
    assert report.plan_lines(data)[1] == ("rp-b (wave 1): stopped at failover_to_onprem - job f-1 failed: injected "
                                          "(1 VM(s): b1).")
    short = report.compact(data)
    assert [(p["name"], p["outcome"]) for p in short["plans"]] == [
        ("rp-a", "done"), ("rp-b", "stopped"), ("rp-c", "done"), ("rp-d", "not_started")]


def test_a_wave_that_did_not_start_says_why_and_a_failed_vm_stops_its_plan():
    steps = {"commit": {"failed": True, "vms": [vm("a1", "commit", "failed_back", refusals=[
        {"rule": "health_probes", "message": "VM a1: health probe(s) did not answer"}])], "continue_with": ["x"]}}
    why = "Wave 2 does not start: plan rp-a of wave 1 is not committed: a1 at failed_back."
    data = report.assemble("r", STARTED, FINISHED, "failed", "x", "y", steps, waves=[["rp-a"], ["rp-b"]], blocked=why,
                           plans=[{"name": "rp-a", "vms": ["a1"]}, {"name": "rp-b", "vms": ["b1"]}])
    plans = {p["name"]: p for p in data["plans"]}
    assert plans["rp-a"]["outcome"] == "stopped" and plans["rp-a"]["stopped_at"] == "commit"
    assert plans["rp-a"]["why"] == "VM a1: VM a1: health probe(s) did not answer"
    assert plans["rp-b"] == {"name": "rp-b", "wave": 2, "vms": ["b1"], "stages": {"b1": None}, "outcome": "not_started",
                             "stopped_at": None, "why": why}
    assert data["run"]["blocked"] == why
    assert report.plan_lines(data)[1].startswith("rp-b (wave 2): not started - Wave 2 does not start")


def test_one_unit_is_reported_as_before():
    steps = success_steps()
    assert report.merge_units([steps["commit"]]) is steps["commit"]
    assert report.merge_units([{}, {"skipped": True}]) == {}
    one = report.assemble("r", STARTED, FINISHED, "success", "", "", steps)
    assert report.assemble("r", STARTED, FINISHED, "success", "", "", steps, unit_steps=[]) == one
    assert one["plans"] == [] and "plans" not in report.compact(one) and report.plan_lines(one) == []


def test_the_report_sums_the_steps_arm_reads_and_writes_over_units_and_attempts():
    first = {"reprotect_to_onprem": {"api_calls": 12, "api_reads": 9, "api_writes": 3, "vms": []},
             "failover_to_onprem": [{"api_calls": 5, "api_reads": 4, "api_writes": 1}, {"api_calls": 2}]}
    last = {"commit": {"api_calls": 7, "api_reads": 5, "api_writes": 2}, "reprotect_to_azure": {"failed": True}}
    counted = report.requests_of([first, last])
    assert counted["by_step"] == {"reprotect_to_onprem": {"reads": 9, "writes": 3},
                                  "failover_to_onprem": {"reads": 6, "writes": 1}, "commit": {"reads": 5, "writes": 2}}
    assert (counted["reads"], counted["writes"], counted["calls"]) == (20, 6, 26)


def test_the_runs_failure_is_no_plans_stop_and_a_plan_done_before_is_already_done():
    # the run failed at a task (not a step): a plan no step took is not blamed with it, a plan done earlier is done
    data = report.assemble("r", STARTED, FINISHED, "failed", "Stop - the commit failed", "Commit stopped for a1", {},
                           waves=[["rp-a"], ["rp-c"]], blocked=None, items=[
                               {"name": "a1", "failback_stage": "reprotected_to_azure"},
                               {"name": "c1", "failback_stage": "running_in_azure"}],
                           plans=[{"name": "rp-a", "vms": ["a1"]}, {"name": "rp-c", "vms": ["c1"]}])
    plans = {p["name"]: p for p in data["plans"]}
    assert plans["rp-c"]["outcome"] == "not_started" and "Commit stopped" not in (plans["rp-c"]["why"] or "")
    assert plans["rp-a"]["outcome"] == "already_done" and plans["rp-a"]["why"] is None
