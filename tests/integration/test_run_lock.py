# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_lock on the lab: check mode writes nothing, lock, re-run unchanged, unlock the same way."""

from conftest import run_check_mode, run_module

LOCK = "siterecovery-failback-lock"
LEASE = "siterecovery-failback-lease"


def lock_tag(lab, vm="rg-recovery/app01", tag=LOCK):
    return lab.azure.state()["compute"]["virtual_machines"][vm]["tags"].get(tag)


def test_lock_and_unlock_check_apply_rerun(full_lab):
    lab = full_lab("default.yml")
    args = {"vms": ["app01"], "owner": "awx-job-7"}

    rc, check = run_check_mode("run_lock", args, lab)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["status"] == "acquired", check
    assert lock_tag(lab) is None
    rc, locked = run_module("run_lock", args, env=lab.env())
    assert rc == 0 and locked["changed"] is True and locked["vms"][0]["status"] == "acquired", locked
    assert lock_tag(lab) == "awx-job-7" and lock_tag(lab, tag=LEASE).startswith("awx-job-7|")
    assert locked["lease"]["owner"] == "awx-job-7" and locked["lease"]["store"] == "tags", locked
    held = lock_tag(lab)
    rc, again = run_module("run_lock", args, env=lab.env())
    assert rc == 0 and again["changed"] is False and again["vms"][0]["status"] == "held_by_us", again
    assert lock_tag(lab) == held

    unlock = dict(args, state="unlocked")
    rc, check = run_check_mode("run_lock", unlock, lab)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["status"] == "released", check
    assert lock_tag(lab) == held
    rc, released = run_module("run_lock", unlock, env=lab.env())
    assert rc == 0 and released["changed"] is True, released
    assert lock_tag(lab) is None and lock_tag(lab, tag=LEASE) is None
    rc, again = run_module("run_lock", unlock, env=lab.env())
    assert rc == 0 and again["changed"] is False and again["vms"][0]["status"] == "none", again


def test_check_mode_lock_break_writes_nothing(full_lab):
    lab = full_lab("default.yml")
    rc, out = run_module("run_lock", {"vms": ["app01"], "owner": "awx-job-1"}, env=lab.env())
    assert rc == 0 and out["changed"] is True, out
    held = lock_tag(lab)
    args = {"vms": ["app01"], "owner": "awx-job-2", "lock_break": True}
    rc, check = run_check_mode("run_lock", args, lab)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["broken"] == "awx-job-1", check
    assert lock_tag(lab) == held
    rc, broken = run_module("run_lock", args, env=lab.env())
    assert rc == 0 and broken["changed"] is True, broken
    assert lock_tag(lab) == "awx-job-2" and lock_tag(lab, tag=LEASE).startswith("awx-job-2|")
