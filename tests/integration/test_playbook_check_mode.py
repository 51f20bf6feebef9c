# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`ansible-playbook <failback playbook> --check --diff` runs to the end, changes nothing (the lab's counters:
no ARM write, no mutating vSphere call; the emulator's stages and vCenter as before) and prints the plan step
by step."""

import re
import socket

import pytest
from conftest import NO_MUTATIONS, run_playbook, watch_calls
from test_roles import recap, stages, vars_for

CASES = [
    ("original_location", {"vms": ["app01"]}, ["app01"]),
    ("alternate_location", {"vms": ["web02"], "datastore": "vmfs-01"}, ["web02"]),
    ("recovery_plan", None, ["app01", "app02"]),
]
WATCHED = ("app01", "app02", "web02", "mt-win01", "mt-lin01")


def vcenter_vms(lab):
    """The watched on-premises VMs' power state and disk files, read through the property collector."""
    found = {name: lab.effects.vm(name) for name in WATCHED}
    return {name: (vm["power_state"], tuple(sorted(d["file"] for d in vm["disks"]))) if vm else None
            for name, vm in found.items()}


@pytest.mark.parametrize("playbook, given, names", CASES, ids=[c[0] for c in CASES])
def test_check_mode_of_a_failback_playbook_runs_through_and_changes_nothing(full_lab, tmp_path, playbook, given, names):
    lab = full_lab("default.yml")
    extra = vars_for(playbook, tmp_path, **given) if given is not None else {
        "recovery_plan": "rp-app", "failback_poll_interval": 0.5, "failback_recovery_point_delay": 1,
        "failback_report_dir": str(tmp_path / "reports"), "failback_preflight": False}
    before_stages, before_vms = stages(lab), vcenter_vms(lab)
    watch = watch_calls(lab)
    rc, out = run_playbook(playbook, extra, lab.env(), options=("--check", "--diff"))
    assert rc == 0, out[-5000:]
    assert recap(out)["failed"] == 0
    assert watch.mutations() == NO_MUTATIONS
    assert stages(lab) == before_stages
    assert vcenter_vms(lab) == before_vms
    # the plan, step by step: each step's diff moves each VM one stage on, in the lifecycle's order
    for vm in names:
        path = re.findall(r'^\+\s+"%s": "([a-z_]+)"' % re.escape(vm), out, re.M)
        assert path == ["replicating_to_onprem", "failed_back", "failback_committed", "reprotected_to_azure"], (
            vm, path, out[-6000:])


def closed_port():
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_check_mode_stops_the_vm_whose_commit_would_be_refused_and_the_other_goes_on(full_lab, tmp_path):
    """Both VMs failed back for real, then `--check`: app01's health probe does not answer, so its commit would be
    refused. The check run says so, per VM, at the commit (not as a later step's refusal), predicts web01 to the end,
    fails as the real run would, and changes nothing."""
    lab = full_lab("default.yml")
    rc, out = run_playbook("original_location", vars_for("original_location", tmp_path, vms=["app01", "web01"],
                                                         commit=False), lab.env())
    assert rc == 0, out[-4000:]
    assert {stages(lab)[n] for n in ("app01", "web01")} == {"failed_back"}
    probe = {"tcp": [{"host": "127.0.0.1", "port": closed_port(), "timeout": 2, "vm": "app01"}]}
    extra = vars_for("original_location", tmp_path, vms=["app01", "web01"], health_checks=probe)
    before_stages, before_vms = stages(lab), vcenter_vms(lab)
    watch = watch_calls(lab)
    rc, out = run_playbook("original_location", extra, lab.env(), options=("--check", "--diff"))
    assert rc != 0, out[-5000:]
    assert watch.mutations() == NO_MUTATIONS
    assert stages(lab) == before_stages and vcenter_vms(lab) == before_vms
    stopped = re.search(r"Stopped per VM - ([^:]+):(.*)", out)
    assert stopped and stopped.group(1).strip() == "app01", out[-5000:]
    assert "health probe" in stopped.group(2) and "127.0.0.1" in stopped.group(2), stopped.group(0)
    assert "TASK [siterecovery.failback.reprotect_to_azure : Stop - the reprotect to Azure failed]" not in out
    # web01 goes on: the reprotect to Azure plans it from the stage the commit predicted (a failed task prints no
    # diff, so the commit's own prediction shows as the next step's "before")
    assert re.findall(r'^-\s+"web01": "([a-z_]+)"\n\+\s+"web01": "([a-z_]+)"', out, re.M) == [
        ("failback_committed", "reprotected_to_azure")], out[-6000:]
    assert not re.findall(r'^\+\s+"app01": "([a-z_]+)"', out, re.M)
    # the run's per-VM lines: app01 blamed on its commit, web01 predicted to the end
    per_vm = out[out.rindex("Per VM - "):]
    assert "app01 at failed_back - commit failed: VM app01: health probe(s) did not answer" in per_vm, per_vm
    assert "web01 at failed_back - nothing failed for it, and the run would take it to reprotected_to_azure" in per_vm
