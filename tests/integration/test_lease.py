# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run's lease on the lab (issue 15): two runs at the same instant with a slowed tag write (exactly one
acts), a run killed (SIGKILL) during each ASR job whose identical re-run converges without lock_break, and a
live run that refuses a second one. End state is judged from the emulator's tags, stages and request counts."""

import contextlib
import signal
import subprocess
import threading
import time

import pytest
from conftest import lab_control, lab_requests, playbook_command, run_module, run_playbook, wait_until

LOCK = "siterecovery-failback-lock"
LEASE = "siterecovery-failback-lease"
FINAL = "reprotected_to_azure"


def tags(lab):
    return {name: vm["tags"] for name, vm in lab.azure.state()["compute"]["virtual_machines"].items()}


def holders(lab):
    """{Azure VM: claim} and {Azure VM: lease owner} as the emulator holds them."""
    claims, leases = {}, {}
    for name, vm_tags in tags(lab).items():
        if vm_tags.get(LOCK):
            claims[name] = vm_tags[LOCK]
        if vm_tags.get(LEASE):
            leases[name] = vm_tags[LEASE].split("|")[0]
    return claims, leases


def stages(lab):
    return {name: item["stage"] for name, item in lab.azure.state()["items"].items()}


def options(tmp_path, **extra):
    base = {"poll_interval": 0.5, "recovery_point_delay": 1, "report_dir": str(tmp_path / "reports"), "preflight": False,
            "lease_seconds": 30, "vms": ["app01"]}
    base.update(extra)
    return {"original_location_" + key: value for key, value in base.items()}


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_two_runs_at_the_same_instant_with_a_slowed_write_exactly_one_acts(full_lab, attempt):
    """A VM run and a recovery-plan run start together while every tag write takes 2 s: exactly one gets the VM
    they share; the other refuses and leaves no claim and no lease anywhere (the issue's 2-of-3 race)."""
    lab = full_lab("default.yml")
    lab_control(lab, "POST", "/faults", {"method": "PATCH", "path_regex": "/virtualMachines/", "kind": "latency",
                                         "delay_seconds": 2})
    winner = race_two_lock_runs(lab)
    claims, leases = holders(lab)
    assert set(claims.values()) == {winner} and set(leases.values()) == {winner}, (claims, leases)
    assert claims["rg-recovery/app01"] == winner
    expected = {"vm-run": 1, "plan-run": 4}[winner]  # the plan's four VMs, or app01
    assert len(claims) == expected and len(leases) == 1, claims


def race_two_lock_runs(lab, **store):
    """A VM run (app01) and a plan run (rp-app, which holds app01) take their locks at the same instant; exactly one
    may win, and the other must refuse naming it. Returns the winner's name (``vm-run`` or ``plan-run``)."""
    results = {}

    def run(name, args):
        results[name] = run_module("run_lock", dict(args, owner=name, lease_wait_seconds=0, keep_alive=False, **store),
                                   env=lab.env())
    threads = [threading.Thread(target=run, args=("vm-run", {"vms": ["app01"]})),
               threading.Thread(target=run, args=("plan-run", {"recovery_plan": "rp-app"}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    winners = [name for name, (rc, _out) in results.items() if rc == 0]
    assert len(winners) == 1, results
    loser = "plan-run" if winners == ["vm-run"] else "vm-run"
    assert "held by run %s" % winners[0] in results[loser][1]["msg"], results[loser]
    return winners[0]


def _popen_playbook(extra_vars, env):
    argv, full_env = playbook_command("original_location", extra_vars, env)
    return subprocess.Popen(argv, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def run_held_in(lab, args, scenario, action, lease_seen):
    """original_location with ``args`` started while app01's next ``scenario`` job is held at its first task; yields
    the running ansible-playbook once the job was started (a POST ending in ``action``) and ``lease_seen()`` is true;
    on leaving, kills it if it still runs and releases the held job."""
    lab_control(lab, "POST", "/jobs/hold", {"item": "app01", "at_task": 1, "scenario": scenario})
    running = _popen_playbook(args, lab.env())
    try:
        wait_until(lambda: any(k.startswith("POST ") and k.endswith(action) for k in lab_requests(lab)), scenario + " started")
        wait_until(lease_seen, "the lease")
        yield running
    finally:
        if running.poll() is None:
            running.kill()
        lab_control(lab, "POST", "/jobs/release", {})


@pytest.mark.parametrize("scenario, action, posts", [
    # reProtect: the killed run's to on-premises and the re-run's back to Azure - never a second one to on-premises
    ("SwitchReplicationGroupProtection", "/reProtect", 2),
    ("UnplannedFailover", "/unplannedFailover", 1),
])
def test_a_run_killed_during_each_asr_job_is_finished_by_the_identical_rerun(full_lab, tmp_path, scenario, action,
                                                                             posts):
    """SIGKILL of ansible-playbook while ASR's job runs: the killed run's lease lapses by itself (its keeper
    stops renewing), and the identical command - no lock_break - waits that out and finishes the failback."""
    lab = full_lab("default.yml")
    args = options(tmp_path)
    with run_held_in(lab, args, scenario, action, lambda: holders(lab)[1]) as killed:
        claims, _leases = holders(lab)
        assert claims == {"rg-recovery/app01": claims["rg-recovery/app01"]}, claims
        first_owner = claims["rg-recovery/app01"]
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=60)
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL
    assert "rg-recovery/app01" not in lab.azure.state()["compute"]["virtual_machines"]  # committed after the re-run
    vm = lab.effects.vm("app01")
    assert vm["power_state"] == "poweredOn" and len(vm["disks"]) == 2
    assert holders(lab) == ({}, {})
    requests_seen = lab_requests(lab)
    assert sum(n for key, n in requests_seen.items() if key.startswith("POST ") and key.endswith(action)) == posts
    assert first_owner.startswith("run-")


def lease_ends(lab):
    """{Azure VM: lease end (epoch s)} as the emulator holds them."""
    return {name: float(vm_tags[LEASE].split("|")[2]) for name, vm_tags in tags(lab).items() if vm_tags.get(LEASE)}


def test_a_cancelled_run_ends_its_lease_at_once_and_the_rerun_needs_no_wait(full_lab, tmp_path):
    """AWX's cancel stops ansible-playbook (SIGINT, as ansible-runner's cancel does first): the run's keeper sees every
    process of the run gone and ends the lease at once, though it was taken for an hour (lease_seconds 3600): the
    identical re-run (no lock_break) finishes the failback: an hour-long lease of another run would make it refuse."""
    lab = full_lab("default.yml")
    args = options(tmp_path, lease_seconds=3600)
    with run_held_in(lab, args, "SwitchReplicationGroupProtection", "/reProtect", lambda: lease_ends(lab)) as cancelled:
        assert min(lease_ends(lab).values()) > time.time() + 3000  # an hour's lease
        cancelled.send_signal(signal.SIGINT)
        try:
            cancelled.wait(timeout=60)
        except subprocess.TimeoutExpired:  # ansible-runner's cancel escalates to SIGKILL when SIGINT is not enough
            cancelled.kill()
            cancelled.wait(timeout=60)
    # the keeper ends it (it renews every 60 s at most: poll with a generous deadline, no time is asserted)
    wait_until(lambda: all(until <= time.time() for until in lease_ends(lab).values()), "the lease ended", seconds=300)
    assert holders(lab)[0] == {"rg-recovery/app01": holders(lab)[1]["rg-recovery/app01"]}  # who held it stays said
    rc, out = run_playbook("original_location", dict(args, original_location_lease_seconds=30), lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL and holders(lab) == ({}, {})


def test_a_live_run_is_refused_naming_it_and_the_variable_that_overrides(full_lab, tmp_path):
    """A second run while the first one waits in its reprotect job: the first renews its lease, so the second
    refuses (it does not wait the first one out), naming the run and original_location_lock_break."""
    lab = full_lab("default.yml")
    lab_control(lab, "POST", "/jobs/hold", {"item": "app01", "at_task": 1})
    first = _popen_playbook(options(tmp_path, owner="awx-job-41"), lab.env())
    try:
        wait_until(lambda: holders(lab)[1], "the first run's lease")
        rc, out = run_playbook("original_location", options(tmp_path, owner="awx-job-42"), lab.env())
        assert rc != 0
        assert "VM app01 is held by run awx-job-41" in out, out[-3000:]
        assert "alive" in out and "original_location_lock_break: true" in out, out[-3000:]
        claims, _leases = holders(lab)
        assert claims == {"rg-recovery/app01": "awx-job-41"}
    finally:
        lab_control(lab, "POST", "/jobs/release", {})
        first.wait(timeout=600)
    assert first.returncode == 0
    assert stages(lab)["app01"] == FINAL and holders(lab) == ({}, {})


def test_a_policy_that_denies_tag_writes_stops_the_run_before_any_change_naming_the_assignment(full_lab, tmp_path):
    """An Azure Policy assignment with effect deny on tag changes: the lease cannot be written, so the run stops
    at its lock - before any ASR job - and says it is a policy (naming the assignment), not a missing role."""
    lab = full_lab("default.yml")
    lab_control(lab, "POST", "/faults", {"method": "PATCH", "path_regex": "/virtualMachines/", "kind": "policy",
                                         "policy_assignment": "deny-tag-changes-prod"})
    rc, out = run_playbook("original_location", options(tmp_path), lab.env())
    assert rc != 0
    assert "deny-tag-changes-prod" in out and "policy" in out.lower(), out[-3000:]
    assert "lacks a role" not in out, out[-3000:]
    assert stages(lab)["app01"] == "running_in_azure"
    assert not any(key.startswith("POST ") for key in lab_requests(lab) if "/replicationProtectedItems/" in key)
    assert holders(lab) == ({}, {})
