# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A step's start request answered 429 or 500 once, then accepted on the SDK's retry, and its job fails: the step
follows the job of the accepted request and fails naming it, never reports "done" (new-user try of issue 13).

Judged from outside: the emulator's state (the item's stage, the Azure VM, the job that ran) and vCenter through
the property collector (lab.effects.vm)."""

import pytest
from conftest import lab_control as control
from conftest import lab_state, run_module

FAST = {"poll_interval": 0.5}
ANSWERS = [{"kind": "throttle", "retry_after": 1}, {"kind": "status", "status": 500}]


def fail_once(lab, path_regex, answer, item, code):
    control(lab, "POST", "/faults", dict(answer, method="POST", path_regex=path_regex, times=1))
    control(lab, "POST", "/jobs/fail", {"item": item, "at_task": 1, "code": code, "message": "injected"})


@pytest.mark.parametrize("answer", ANSWERS, ids=["429", "500"])
def test_a_commit_whose_retried_request_started_a_failing_job_fails_naming_the_job(full_lab, answer):
    lab = full_lab("replicating.yml")
    rc, done = run_module("failover", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc == 0, done
    fail_once(lab, "failoverCommit", answer, "app01", "LabCommitFailed")
    rc, result = run_module("commit", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc != 0, result
    assert "LabCommitFailed" in result["msg"], result["msg"]
    state = lab_state(lab)
    assert state["items"]["app01"]["stage"] != "failback_committed"
    assert "rg-recovery/app01" in state["compute"]["virtual_machines"]  # the Azure VM is kept
    assert result["vms"][0]["job"] and result["vms"][0]["job"]["state"] == "Failed", result["vms"][0]


@pytest.mark.parametrize("answer", ANSWERS, ids=["429", "500"])
def test_a_reprotect_whose_retried_request_started_a_failing_job_fails_and_changes_nothing_on_premises(
        full_lab, answer):
    lab = full_lab("default.yml")
    before = lab.effects.vm("web01")
    fail_once(lab, "reProtect", answer, "web01", "LabReprotectFailed")
    rc, result = run_module("reprotect", dict(FAST, vms=["web01"], direction="to_onprem"), env=lab.env())
    assert rc != 0, result
    assert "LabReprotectFailed" in result["msg"], result["msg"]
    assert lab_state(lab)["items"]["web01"]["stage"] == "running_in_azure"
    after = lab.effects.vm("web01")
    assert sorted(d["file"] for d in after["disks"]) == sorted(d["file"] for d in before["disks"])
