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
        assert os.path.exists(str(tmp_path / "reports" / ("%s.%s" % (report["run"]["id"], kind))))
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
]


@pytest.mark.parametrize("boundary,fault", BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_a_failure_at_each_step_then_a_rerun_finishes(full_lab, tmp_path, boundary, fault):
    lab = full_lab("default.yml")
    args = vars_for("original_location", tmp_path, vms=["app01"])
    if isinstance(fault, dict):
        control(lab, fault["path"], fault["body"])
    else:  # run up to the step before, then make its job fail
        stop_before = {"failover": {"original_location_commit": False},
                       "commit": {"original_location_reprotect_to_azure": False}}[fault]
        if fault == "failover":
            rc, out = run_module("reprotect", {"vms": ["app01"], "direction": "to_onprem", "poll_interval": 0.5},
                                 env=lab.env())
            assert rc == 0, out
        else:
            rc, out = run_playbook("original_location", dict(args, **stop_before), lab.env())
            assert rc == 0, out[-3000:]
        control(lab, "/jobs/fail", {"item": "app01", "at_task": 1, "code": "LabInjectedFailure", "message": "injected"})
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc != 0, out[-3000:]
    assert latest_report(tmp_path)["run"]["result"] == "failed"
    assert stages(lab)["app01"] != FINAL
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL
    vm = lab.effects.vm("app01")
    assert vm["power_state"] == "poweredOn"
    assert sorted(d["file"] for d in vm["disks"]) == ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
    assert "rg-recovery/app01" not in lab.azure.state()["compute"]["virtual_machines"]  # deleted by the commit


def test_a_concurrent_second_run_refuses(full_lab, tmp_path):
    lab = full_lab("default.yml")
    rc, out = run_module("run_lock", {"vms": ["app01"], "owner": "awx-job-41"}, env=lab.env())
    assert rc == 0 and out["vms"][0]["status"] == "acquired", out
    rc, out = run_playbook("original_location", vars_for("original_location", tmp_path, vms=["app01"]), lab.env())
    assert rc != 0
    assert "VM app01 is being failed back by run awx-job-41" in out
    assert stages(lab)["app01"] == "running_in_azure"
    rc, out = run_module("run_lock", {"vms": ["app01"], "owner": "awx-job-41", "state": "unlocked"}, env=lab.env())
    assert rc == 0 and out["vms"][0]["status"] == "released"
