# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`ansible-playbook <failback playbook> --check --diff` runs to the end, changes nothing (the lab's counters:
no ARM write, no mutating vSphere call; the emulator's stages and vCenter as before) and prints the plan step
by step."""

import re

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
