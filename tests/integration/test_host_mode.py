# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failback playbooks against inventory hosts, one per VM (issue 16): the play's hosts are the run's VMs
(--limit and "relaunch on failed hosts" choose them), each VM's host shows its own outcome in the recap, the run
still makes one batched module call per stage, and a play holding part of a replication group or of a recovery plan
is refused before anything changes. Judged from outside: the emulator's stages and request counters, the recap."""

import re

import yaml
from conftest import lab_requests, run_module, run_playbook
from test_roles import FINAL, control, stages, vars_for


def inventory(tmp_path, hosts, group="replicated_items"):
    path = tmp_path / "items.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {group: {"hosts": {h: {} for h in hosts}}}}}))
    return str(path)


def recap(output):
    """``{host: {"ok", "changed", "failed", "skipped"}}`` of the play recap."""
    found = {}
    for host, ok, changed, failed, skipped in re.findall(
            r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)", output, re.M):
        found[host] = {"ok": int(ok), "changed": int(changed), "failed": int(failed), "skipped": int(skipped)}
    assert found, output[-3000:]
    return found


def arm_writes(lab):
    return sum(n for call, n in lab_requests(lab).items()
               if not call.startswith("GET ") and call.split(" ", 1)[1].lower().startswith("/subscriptions/"))


def jobs_of(lab, vm):
    """The emulator's ASR jobs (name: scenario) that targeted ``vm``'s item."""
    state = lab.azure.state()
    item = state["items"][vm]["item_name"]
    return {name: job["scenario"] for name, job in state["jobs"].items() if job["target"] in (vm, item)}


def args_without_vms(tmp_path, **extra):
    return vars_for("original_location", tmp_path, **extra)


def test_each_vm_host_shows_its_outcome_and_a_relaunch_on_the_failed_host_finishes_it(full_lab, tmp_path):
    lab = full_lab("default.yml")
    hosts = inventory(tmp_path, ["app01", "web01"])
    rc, out = run_module("reprotect", {"vms": ["app01", "web01"], "direction": "to_onprem", "poll_interval": 0.5},
                         env=lab.env())
    assert rc == 0, out
    control(lab, "/jobs/fail", {"item": "app01", "at_task": 1, "code": "LabInjectedFailure", "message": "injected"})
    rc, out = run_playbook("original_location", args_without_vms(tmp_path), lab.env(), options=("-i", hosts))
    assert rc != 0, out[-3000:]
    summary = recap(out)
    # the host summary: app01 failed (its failover job failed), web01 went through; localhost is not a VM
    assert summary["app01"]["failed"] == 1 and summary["web01"]["failed"] == 0, out[-6000:]
    assert re.search(r"fatal: \[app01\].*VM app01 at failover_failed - failover_to_onprem failed: \[LabInjectedFailure\]", out), (
        out[-3000:])
    assert stages(lab)["web01"] == FINAL
    assert stages(lab)["app01"] in ("replicating_to_onprem", "failover_failed")
    # one batched call per stage: a single failover job was started for both VMs' stage (not one play per VM)
    assert out.count("TASK [siterecovery.failback.failover_to_onprem : Fail over from Azure to on-premises") == 1
    # "relaunch on failed hosts": the same command limited to the failed host finishes it and leaves web01 alone
    web01_jobs = jobs_of(lab, "web01")
    rc, out = run_playbook("original_location", args_without_vms(tmp_path), lab.env(), options=("-i", hosts, "--limit", "app01"))
    assert rc == 0, out[-4000:]
    assert set(recap(out)) == {"app01"}
    assert stages(lab)["app01"] == FINAL and stages(lab)["web01"] == FINAL
    assert jobs_of(lab, "web01") == web01_jobs  # no ASR job touched web01


def test_a_play_holding_part_of_a_replication_group_is_refused_before_any_change(full_lab, tmp_path):
    lab = full_lab("default.yml")
    before = arm_writes(lab)
    # app02 and db01 are replication group rg-app: a job slice or --limit holding app02 alone
    rc, out = run_playbook("original_location", args_without_vms(tmp_path, preflight=True), lab.env(),
                           options=("-i", inventory(tmp_path, ["app02", "db01", "web01"]), "--limit", "app02"))
    assert rc != 0, out[-3000:]
    assert "rg-app" in out and "db01" in out, out[-3000:]
    assert recap(out)["app02"]["failed"] == 1
    assert arm_writes(lab) == before
    assert stages(lab)["app02"] == "running_in_azure"


def test_a_play_holding_part_of_a_recovery_plan_is_refused_naming_the_vms_left_out(full_lab, tmp_path):
    lab = full_lab("group-split-plan.yml")  # rp-app boots app02, then app01 and web01
    before = arm_writes(lab)
    rc, out = run_playbook("recovery_plan", {"recovery_plan": "rp-app", "failback_preflight": False,
                                             "failback_report_dir": str(tmp_path / "reports"),
                                             "failback_poll_interval": 0.5},
                           lab.env(), options=("-i", inventory(tmp_path, ["app02", "app01", "web01"]), "--limit", "app01,web01"))
    assert rc != 0, out[-3000:]
    assert "Recovery plan rp-app holds app02, which the play does not" in out, out[-3000:]
    summary = recap(out)
    assert summary["app01"]["failed"] == 1 and summary["web01"]["failed"] == 1, summary
    # the lock refused before it wrote anything: no claim, no job
    assert arm_writes(lab) == before
    assert {stages(lab)[vm] for vm in ("app02", "app01", "web01")} == {"running_in_azure"}


def test_vms_named_while_the_play_runs_against_vm_hosts_is_refused_and_every_vm_host_fails(full_lab, tmp_path):
    lab = full_lab("default.yml")
    rc, out = run_playbook("original_location", vars_for("original_location", tmp_path, vms=["web03"]), lab.env(),
                           options=("-i", inventory(tmp_path, ["app01", "web01"])))
    assert rc != 0
    assert "original_location_vms" in out and "inventory hosts (app01, web01)" in out, out[-3000:]
    # refused at the run's start (on app01, which runs the batched steps): web01's host fails too, saying why
    summary = recap(out)
    assert summary["app01"]["failed"] == 1 and summary["web01"]["failed"] == 1, out[-3000:]
    assert re.search(r"fatal: \[web01\].*The failback run \(on app01\) stopped: .*original_location_vms", out), out[-3000:]
    assert {stages(lab)[vm] for vm in ("web03", "app01", "web01")} == {"running_in_azure"}
