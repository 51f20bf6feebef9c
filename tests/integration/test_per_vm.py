# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Failure is per VM: when one VM's failover job fails, that VM stops with its on-premises VM untouched and its
Azure VM kept, the other VM of the run goes to the end, and the run ends failed naming the VM that stopped. Judged
from outside: the emulator's stages and Compute, vCenter through the property collector."""

from conftest import run_module, run_playbook
from test_roles import APP01_DISKS, FINAL, control, latest_report, stages, vars_for


def test_a_failed_failover_stops_its_vm_and_the_other_vm_fails_back(full_lab, tmp_path):
    lab = full_lab("default.yml")
    args = vars_for("original_location", tmp_path, vms=["app01", "web01"])
    # both reprotected first, then app01's failover job fails at its first task
    rc, out = run_module("reprotect", {"vms": ["app01", "web01"], "direction": "to_onprem", "poll_interval": 0.5},
                         env=lab.env())
    assert rc == 0, out
    control(lab, "/jobs/fail", {"item": "app01", "at_task": 1, "code": "LabInjectedFailure", "message": "injected"})
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc != 0, out[-3000:]
    assert "Stopped per VM - app01" in out, out[-3000:]
    # web01 went through every step; app01 stopped at its failover, nothing after it ran for app01
    assert stages(lab)["web01"] == FINAL
    assert stages(lab)["app01"] in ("replicating_to_onprem", "failover_failed")
    compute = lab.azure.state()["compute"]["virtual_machines"]
    assert "rg-recovery-web/web01" not in compute  # committed: its Azure VM deleted
    assert "rg-recovery/app01" in compute  # never committed: its Azure VM kept
    app01 = lab.effects.vm("app01")
    assert app01["power_state"] == "poweredOff" and app01["disks"] == []  # untouched: its disks on the master target
    web01 = lab.effects.vm("web01")
    assert web01["power_state"] == "poweredOn"
    report = latest_report(tmp_path)
    assert report["run"]["result"] == "failed"
    where = {vm["name"]: vm["stage"] for vm in report["vms"]}
    assert where["web01"] == FINAL and where["app01"] in ("replicating_to_onprem", "failover_failed")
    # a re-run finishes app01 and leaves web01 alone
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL and stages(lab)["web01"] == FINAL
    app01 = lab.effects.vm("app01")
    assert app01["power_state"] == "poweredOn" and sorted(d["file"] for d in app01["disks"]) == APP01_DISKS
