# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 13, new-user try, judged from outside: the failback playbooks' preflight checks each VM with the names the
reprotect will use (its placements over the run's names, from the run's options) by the reprotect's own rules, and
stops naming every one that does not hold - before the run lock: no ARM write, no mutating vSphere call, the
emulator's state unchanged. Each input below passed the preflight ("ready, 0 blockers") and was refused by the
reprotect after the run lock had been written and removed."""

import glob
import json

import pytest
from conftest import lab_state, run_module, run_playbook
from test_modernized import LOG
from test_roles import vars_for

from tests.lab.calls import NO_MUTATIONS, CallWatch

LOCK_TAG = "siterecovery-failback-lock"


@pytest.fixture(scope="module")
def default_lab(module_lab):
    """One default lab for the refusals: each must leave it exactly as it was, which every test checks."""
    return module_lab


# playbook, the run's options, and what the refusal must name: (rule, VM, text of its finding)
CASES = {
    "placements naming a master target, datastore and retention volume that do not exist": (
        "alternate_location",
        {"vms": ["web02"], "datastore": "vmfs-01",  # the run's datastore; web02's placement names its own
         "placements": {"web02": {"master_target": "mt-nope", "datastore": "vmfs-99", "retention_volume": "Z:"}}},
        [("master_target_available", "web02", "Master target mt-nope is not registered with the configuration server"),
         ("mt_retention_volume", "web02", "Retention volume Z: of web02 cannot be used: its master target mt-nope"),
         ("alternate_datastore", "web02", "Datastore vmfs-99 does not exist in vSphere server")]),
    "a Linux VM placed on a Windows master target": (
        "original_location",
        {"vms": ["web01"], "placements": {"web01": {"master_target": "mt-win01"}}},
        [("mt_os", "web01", "VM web01 runs Linux but master target mt-win01 runs Windows.")]),
    "VMs of a replication group named without their recovery plan": (
        "original_location",
        {"vms": ["app02", "db01", "web03"]},
        [("replication_group_plan", vm, "VM %s is in replication group rg-app, whose VMs fail over together through a "
          "recovery plan (ASR refuses them one by one): give recovery_plan: rp-app (it also fails over app01, web01)."
          % vm) for vm in ("app02", "db01")]),
}


def preflight_findings(tmp_path):
    [found] = glob.glob(str(tmp_path / "reports" / "preflight-*.json"))  # named after the run (issue 16)
    with open(found) as handle:
        return json.load(handle)["findings"]


def refused_before_any_change(lab, tmp_path, playbook, options, expected):
    """Run ``playbook`` with ``options``; it must stop at the preflight naming each expected finding, with no ARM
    write (the lock is not even written), no mutating vSphere call and the emulator's state as it was."""
    before = lab_state(lab)
    watch = CallWatch.of(lab)
    rc, out = run_playbook(playbook, vars_for(playbook, tmp_path, **dict(options, preflight=True)), lab.env())
    calls = watch.since()
    assert rc != 0, out[-3000:]
    assert "Failback is blocked" in out, out[-3000:]
    for rule, vm, text in expected:
        assert "[%s] %s: %s" % (rule, vm, text) in out, (rule, vm, text, out[-3000:])
    assert watch.mutations(calls) == NO_MUTATIONS, watch.mutations(calls)
    assert calls["arm"], "the preflight read nothing: %s" % calls  # the check ran against the lab
    after = lab_state(lab)
    assert LOCK_TAG not in json.dumps(after)
    assert after == before
    assert "reprotect_to_onprem : " not in out  # the run stopped before its first step
    found = {(f["rule"], f["vm"]) for f in preflight_findings(tmp_path) if f["severity"] == "blocker"}
    assert {(rule, vm) for rule, vm, _text in expected} <= found, found
    return out


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_preflight_refuses_what_the_reprotect_would_refuse(default_lab, tmp_path, case):
    playbook, options, expected = CASES[case]
    refused_before_any_change(default_lab, tmp_path, playbook, options, expected)


def test_the_same_names_when_right_pass_the_preflight(default_lab, tmp_path):
    # the control: the names of the cases, corrected, are ready (the rules refuse only what is wrong)
    watch = CallWatch.of(default_lab)
    rc, result = run_module("readiness", {"vms": ["web02"], "location": "alternate", "placements": {
        "web02": {"master_target": "mt-lin01", "datastore": "vmfs-01", "retention_volume": "/mnt/retention"}}},
        env=default_lab.env(), tmp_dir=str(tmp_path))
    assert rc == 0 and result["summary"]["blockers"] == 0, result.get("findings")
    assert result["placement"]["web02"] == {"master_target": "mt-lin01", "source": "given"}
    rc, grouped = run_module("readiness", {"vms": ["app02", "db01", "web03"], "location": "original"},
                             env=default_lab.env(), tmp_dir=str(tmp_path))
    # the group's VMs named without their plan: the plan list is read once, whatever the number of VMs
    assert rc == 0 and grouped["api_calls"] == 5 + 3, grouped
    rc, plan = run_module("readiness", {"recovery_plan": "rp-app", "location": "original"}, env=default_lab.env(),
                          tmp_dir=str(tmp_path))
    assert rc == 0 and [f for f in plan["findings"] if f["rule"] == "replication_group_plan"] == [], plan
    assert watch.mutations() == NO_MUTATIONS


def test_a_modernized_run_without_a_log_storage_account_is_refused_at_the_preflight(full_lab, tmp_path):
    lab = full_lab("modernized.yml")
    refused_before_any_change(lab, tmp_path, "original_location", {"vms": ["app01"], "datastore": "vmfs-01"}, [
        ("log_storage_account", "app01", "VM app01: the modernized reprotect caches changes in an Azure storage account, "
                                         "and no log_storage_account_id was given.")])
    # given, for the run or in placements, it passes the preflight
    for names in ({"log_storage_account_id": LOG}, {"placements": {"app01": {"log_storage_account_id": LOG}}}):
        rc, result = run_module("readiness", dict({"vms": ["app01"], "location": "original", "datastore": "vmfs-01"},
                                                  **names), env=lab.env(), tmp_dir=str(tmp_path))
        assert rc == 0 and [f for f in result["findings"] if f["rule"] == "log_storage_account"] == [], result
