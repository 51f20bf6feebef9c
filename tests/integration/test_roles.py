# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failback playbooks end to end on the lab: both locations, a list, a plan with a
replication group, a re-run after success, a failure at every step boundary followed by a
re-run, and a concurrent second run."""

import glob
import json
import os
import re

import pytest
import requests
from conftest import run_module, run_playbook

FINAL = "reprotected_to_azure"


def vars_for(role, tmp_path, **extra):
    base = {"poll_interval": 0.5, "recovery_point_delay": 1, "report_dir": str(tmp_path / "reports"), "preflight": False}
    base.update(extra)
    return {"%s_%s" % (role, key): value for key, value in base.items()}


def stages(lab):
    return {name: item["stage"] for name, item in lab.azure.state()["items"].items()}


def recap(output):
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", output)
    assert match, output[-3000:]
    return {"ok": int(match.group(1)), "changed": int(match.group(2)), "failed": int(match.group(3))}


def latest_report(tmp_path):
    files = sorted(glob.glob(str(tmp_path / "reports" / "*.json")), key=os.path.getmtime)
    with open(files[-1]) as handle:
        return json.load(handle)


def control(lab, path, body):
    env = lab.env()
    response = requests.post(env["LAB_CONTROL_URL"] + path, json=body, verify=env["AZURE_CA_BUNDLE"], timeout=10)
    assert response.status_code < 300, response.text


def test_original_location_single_vm_then_rerun_changes_nothing(full_lab, tmp_path):
    lab = full_lab("default.yml")
    rc, out = run_playbook("original_location", vars_for("original_location", tmp_path, vms=["app01"]), lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL
    assert "rg-recovery/app01" not in lab.azure.state()["compute"]["virtual_machines"]
    vm = lab.effects.vm("app01")
    assert vm["power_state"] == "poweredOn" and len(vm["disks"]) == 2
    report = latest_report(tmp_path)
    entry = report["vms"][0]
    assert report["run"]["result"] == "success" and entry["name"] == "app01"
    assert [s["stage"] for s in entry["stages"]] == ["reprotect_to_onprem", "failover_to_onprem", "commit",
                                                     "reprotect_to_azure"]
    assert entry["data_loss_window_seconds"] is not None and entry["rto_seconds"] > 0
    for kind in ("md", "html"):
        # named after the report and the run: <report id>-<run id>.<kind>
        assert len(glob.glob(str(tmp_path / "reports" / ("%s-*.%s" % (report["run"]["id"], kind))))) == 1
    rc, again = run_playbook("original_location", vars_for("original_location", tmp_path, vms=["app01"]), lab.env())
    assert rc == 0, again[-3000:]
    assert recap(again)["changed"] == 0, again[-3000:]


def test_alternate_location_list_of_vms(full_lab, tmp_path):
    lab = full_lab("default.yml")
    rc, out = run_playbook("alternate_location", vars_for("alternate_location", tmp_path, vms=["web02", "fs01"],
                                                          datastore="vmfs-01"), lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["web02"] == FINAL and stages(lab)["fs01"] == FINAL
    web02, mt = lab.effects.vm("web02"), lab.effects.host_of("mt-lin01")
    assert web02["power_state"] == "poweredOn" and web02["host"] == mt["name"]
    assert lab.effects.vm("fs01")["host"] == lab.effects.host_of("mt-win01")["name"]


def test_recovery_plan_with_a_replication_group(full_lab, tmp_path):
    lab = full_lab("default.yml")
    rc, out = run_playbook("recovery_plan", {"recovery_plan": "rp-app", "failback_poll_interval": 0.5,
                                             "failback_recovery_point_delay": 1, "failback_preflight": False,
                                             "failback_report_dir": str(tmp_path / "reports")}, lab.env())
    assert rc == 0, out[-4000:]
    final = stages(lab)
    assert [final[n] for n in ("db01", "app02", "app01", "web01")] == [FINAL] * 4
    report = latest_report(tmp_path)
    assert sorted(vm["name"] for vm in report["vms"]) == ["app01", "app02", "db01", "web01"]
    assert {vm["name"]: [s["stage"] for s in vm["stages"]][1] for vm in report["vms"]}["db01"] == "failover_to_onprem"


BOUNDARIES = [
    ("reprotect", {"path": "/jobs/fail", "body": {"item": "app01", "at_task": 2, "code": "LabInjectedFailure",
                                                  "message": "injected"}}),
    ("half-moved disks", {"path": "/jobs/stop_after_effect", "body": {"effects": 3}}),
    ("failover", "failover"),
    ("commit", "commit"),
    ("reprotect to azure", "reprotect to azure"),
]
APP01_DISKS = ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
REPROTECT_TASK = "Stop - the reprotect to on-premises failed"
# What the failed run must leave, per boundary: the task the report names, each stage's result in the report,
# the stage the lab holds, the only ASR actions (POSTs) the run made, the on-prem VM (power, disks) and the disks
# of app01 still on the master target as vCenter shows them, and whether the Azure VM still exists.
AFTER_FAILURE = {
    "reprotect": {
        "failed_task": REPROTECT_TASK, "stages": [("reprotect_to_onprem", "failed")], "lab_stage": "running_in_azure",
        "actions": ["reProtect"], "power": "poweredOff", "disks": APP01_DISKS, "on_mt": [], "azure_vm": True},
    "half-moved disks": {  # effects 1-3: detach disk 0, attach it to the master target, detach disk 1; then stop
        "failed_task": REPROTECT_TASK, "stages": [("reprotect_to_onprem", "failed")], "lab_stage": "running_in_azure",
        "actions": ["reProtect"], "power": "poweredOff", "disks": [], "on_mt": APP01_DISKS[:1], "azure_vm": True},
    "failover": {
        "failed_task": "Stop - the failover to on-premises failed",
        "stages": [("reprotect_to_onprem", "skipped"), ("failover_to_onprem", "failed")],
        "lab_stage": "replicating_to_onprem", "actions": ["unplannedFailover"], "power": "poweredOff", "disks": [],
        "on_mt": APP01_DISKS, "azure_vm": True},
    "commit": {
        "failed_task": "Stop - the commit failed",
        "stages": [("reprotect_to_onprem", "skipped"), ("failover_to_onprem", "skipped"), ("commit", "failed")],
        "lab_stage": "failed_back", "actions": ["failoverCommit"], "power": "poweredOn", "disks": APP01_DISKS,
        "on_mt": [], "azure_vm": True},
    "reprotect to azure": {
        "failed_task": "Stop - the reprotect to Azure failed",
        "stages": [("reprotect_to_onprem", "skipped"), ("failover_to_onprem", "skipped"), ("commit", "skipped"),
                   ("reprotect_to_azure", "failed")],
        "lab_stage": "failback_committed", "actions": ["reProtect"], "power": "poweredOn", "disks": APP01_DISKS,
        "on_mt": [], "azure_vm": False},
}


def asr_actions(lab):
    """The ASR actions (POST .../replicationProtectedItems/<item>/<action>) that reached the emulator since its
    request counters were last reset, one entry per request."""
    env = lab.env()
    response = requests.get(env["LAB_CONTROL_URL"] + "/stats", verify=env["AZURE_CA_BUNDLE"], timeout=10)
    assert response.status_code == 200, response.text
    actions = []
    for key, count in response.json()["requests"].items():
        method, path = key.split(" ", 1)
        if method == "POST" and "/replicationProtectedItems/" in path:
            actions += [path.rsplit("/", 1)[1]] * count
    return sorted(actions)


def reset_request_counters(lab):
    env = lab.env()
    response = requests.delete(env["LAB_CONTROL_URL"] + "/stats", verify=env["AZURE_CA_BUNDLE"], timeout=10)
    assert response.status_code < 300, response.text


@pytest.mark.parametrize("boundary,fault", BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_a_failure_at_each_step_then_a_rerun_finishes(full_lab, tmp_path, boundary, fault):
    lab = full_lab("default.yml")
    args = vars_for("original_location", tmp_path, vms=["app01"])
    if isinstance(fault, dict):
        control(lab, fault["path"], fault["body"])
    else:  # run up to the step before, then make its job fail
        if fault == "failover":
            rc, out = run_module("reprotect", {"vms": ["app01"], "direction": "to_onprem", "poll_interval": 0.5},
                                 env=lab.env())
            assert rc == 0, out
        else:
            stop_before = {"commit": {"original_location_commit": False},
                           "reprotect to azure": {"original_location_reprotect_to_azure": False}}[fault]
            rc, out = run_playbook("original_location", dict(args, **stop_before), lab.env())
            assert rc == 0, out[-3000:]
        control(lab, "/jobs/fail", {"item": "app01", "at_task": 1, "code": "LabInjectedFailure", "message": "injected"})
    reset_request_counters(lab)
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc != 0, out[-3000:]
    expected = AFTER_FAILURE[boundary]
    report = latest_report(tmp_path)
    assert report["run"]["result"] == "failed"
    assert report["run"]["failed_stage"] == expected["failed_task"], report["run"]
    assert [(s["stage"], s["result"]) for s in report["vms"][0]["stages"]] == expected["stages"], report["vms"]
    assert stages(lab)["app01"] == expected["lab_stage"]
    # nothing after the failed step ran: its job is the only ASR action of the run
    assert asr_actions(lab) == expected["actions"]
    # the on-prem VM as vCenter shows it (property collector), not as the run reported it
    vm, mt = lab.effects.vm("app01"), lab.effects.vm("mt-win01")
    assert vm["power_state"] == expected["power"], out[-3000:]
    assert sorted(d["file"] for d in vm["disks"]) == expected["disks"]
    assert sorted(d["file"] for d in mt["disks"] if d["file"].startswith("[vmfs-01] app01/")) == expected["on_mt"]
    assert ("rg-recovery/app01" in lab.azure.state()["compute"]["virtual_machines"]) is expected["azure_vm"]
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL
    vm = lab.effects.vm("app01")
    assert vm["power_state"] == "poweredOn"
    assert sorted(d["file"] for d in vm["disks"]) == APP01_DISKS
    assert "rg-recovery/app01" not in lab.azure.state()["compute"]["virtual_machines"]  # deleted by the commit


@pytest.mark.parametrize("remediation", ["vmotion", "fail"])
def test_a_host_short_of_memory_8038_is_remediated_by_vmotion_or_stops_the_run(full_lab, tmp_path, remediation):
    # app01 replicates to on-premises; its host esx01 lacks the memory to start it (memory-short.yml), esx02 has room
    lab = full_lab("memory-short.yml", overrides={"asr": {"items": [
        {"name": "app01", "stage": "replicating_to_onprem", "master_target": "mt-win01",
         "recovery_points": [{"age_minutes": 2}]}]}})
    reset_request_counters(lab)
    rc, out = run_playbook("original_location", vars_for("original_location", tmp_path, vms=["app01"], commit=False,
                                                         memory_remediation=remediation), lab.env())
    vm = lab.effects.vm("app01")
    report = latest_report(tmp_path)
    if remediation == "vmotion":  # moved to a host with room, started, and the failover retried
        assert rc == 0, out[-4000:]
        assert (vm["host"], vm["power_state"]) == ("esx02.lab", "poweredOn")
        assert asr_actions(lab) == ["unplannedFailover", "unplannedFailover"]
        assert stages(lab)["app01"] == "failed_back"
        assert report["run"]["result"] == "success"
    else:  # stopped on the failover's own error; the VM stays off where it was
        assert rc != 0, out[-3000:]
        assert "[8038]" in out
        assert (vm["host"], vm["power_state"]) == ("esx01.lab", "poweredOff")
        assert asr_actions(lab) == ["unplannedFailover"]
        assert report["run"]["failed_stage"] == "Stop - the failover to on-premises failed"
    assert sorted(d["file"] for d in vm["disks"]) == APP01_DISKS
    assert "rg-recovery/app01" in lab.azure.state()["compute"]["virtual_machines"]  # no commit was asked for


def test_a_concurrent_second_run_refuses(full_lab, tmp_path):
    lab = full_lab("default.yml")
    # a lease longer than the second run's wait (lease_seconds 180 + 60): refused at once, not waited out
    rc, out = run_module("run_lock", {"vms": ["app01"], "owner": "awx-job-41", "lease_seconds": 3600,
                                      "keep_alive": False}, env=lab.env())
    assert rc == 0 and out["vms"][0]["status"] == "acquired", out
    rc, out = run_playbook("original_location", vars_for("original_location", tmp_path, vms=["app01"]), lab.env())
    assert rc != 0
    assert "VM app01 is held by run awx-job-41" in out and "original_location_lock_break: true" in out
    assert stages(lab)["app01"] == "running_in_azure"
    rc, out = run_module("run_lock", {"vms": ["app01"], "owner": "awx-job-41", "state": "unlocked"}, env=lab.env())
    assert rc == 0 and out["vms"][0]["status"] == "released"
