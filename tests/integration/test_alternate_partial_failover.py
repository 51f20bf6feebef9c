# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 15: an alternate-location failover job that stopped after moving one disk. Site Recovery created web02 and
moved its first VMDK off the master target onto it; web02_1.vmdk was still attached to mt-lin01 when the job stopped.
The re-run of Site Recovery's failover leaves the VM it created as it is (the lab's ``alternate_disk_moves:
one_by_one``), so the playbook's re-run must take the replica still on the master target over to the VM itself, as
the original-location re-run ends with every disk of the VM.

Judged from outside: vCenter through the property collector (every VM's disks: slot, file, capacity, disk UUID), the
emulator's GET /_lab/state (the item's stage and failed scenario, the Azure VM) and the lab's call counters."""

from conftest import NO_MUTATIONS, lab_control, lab_state, run_module, run_playbook, vcenter_layout, watch_calls
from test_roles import recap, vars_for

ONE_BY_ONE = {"asr": {"items": [{"name": "web02", "alternate_disk_moves": "one_by_one"}]}}
WEB02 = ["[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"]
# the failover's vCenter effects (one_by_one): create web02, detach web02.vmdk from mt-lin01, attach it to web02,
# detach web02_1.vmdk, attach it, power on. Stopped after the third: one disk moved
ONE_DISK_MOVED = 3


def replica(lab):
    """web02's VMDKs on mt-lin01 as Site Recovery's reprotect left them: ``{file: (capacity KB, disk UUID)}``."""
    return {f: (capacity, uuid) for _b, _u, f, capacity, uuid in vcenter_layout(lab)["mt-lin01"] if f in WEB02}


def item(lab):
    return lab_state(lab)["items"]["web02"]


def azure_vm_exists(lab):
    return "rg-recovery-web/web02" in lab_state(lab)["compute"]["virtual_machines"]


def stop_the_failover_after_one_disk(lab, tmp_path):
    """Run the alternate_location playbook with the failover job armed to stop after moving one disk; return its
    arguments, once the state it left is checked."""
    args = vars_for("alternate_location", tmp_path, vms=["web02"], datastore="vmfs-01")
    lab_control(lab, "POST", "/jobs/stop_after_effect", {"effects": ONE_DISK_MOVED})
    rc, out = run_playbook("alternate_location", args, lab.env())
    assert rc != 0, out[-3000:]
    assert "Stop - the failover to on-premises failed" in out and "LabStoppedAfterEffect" in out, out[-3000:]
    partway = vcenter_layout(lab)
    assert [(b, u, f) for b, u, f, _c, _i in partway["web02"]] == [(0, 0, WEB02[0])]
    assert [f for _b, _u, f, _c, _i in partway["mt-lin01"] if f in WEB02] == [WEB02[1]]
    assert item(lab)["failed_scenario"] == "UnplannedFailover" and azure_vm_exists(lab)
    return args


def test_the_rerun_of_a_failover_stopped_after_moving_one_disk_ends_with_every_disk_and_commits(full_lab, tmp_path):
    lab = full_lab("replicating.yml", ONE_BY_ONE)
    own = replica(lab)
    assert sorted(own) == WEB02
    args = stop_the_failover_after_one_disk(lab, tmp_path)
    partway = vcenter_layout(lab)

    # the re-run in check mode writes nothing (ARM or vSphere) and leaves vCenter as it was
    watch = watch_calls(lab)
    rc, out = run_playbook("alternate_location", args, lab.env(), options=("--check", "--diff"))
    assert rc == 0, out[-5000:]
    assert watch.mutations() == NO_MUTATIONS
    assert vcenter_layout(lab) == partway and item(lab)["failed_scenario"] == "UnplannedFailover"

    # the identical re-run: Site Recovery's failover, then the verification takes web02_1.vmdk off mt-lin01 onto web02
    rc, out = run_playbook("alternate_location", args, lab.env())
    assert rc == 0, out[-5000:]
    after = vcenter_layout(lab)
    assert [(b, u, f) for b, u, f, _c, _i in after["web02"]] == [(0, 0, WEB02[0]), (0, 1, WEB02[1])]
    # each replica VMDK attached exactly once, as the same disk (capacity, UUID) it was on the master target
    attached = [f for disks in after.values() for _b, _u, f, _c, _i in disks]
    assert [attached.count(f) for f in WEB02] == [1, 1], after
    assert {f: (capacity, uuid) for _b, _u, f, capacity, uuid in after["web02"]} == own
    vm = lab.effects.vm("web02")
    assert vm["power_state"] == "poweredOn" and vm["tools_running_status"] == "guestToolsRunning", vm
    assert item(lab)["stage"] == "reprotected_to_azure" and not azure_vm_exists(lab)

    # a re-run after success changes nothing
    rc, again = run_playbook("alternate_location", args, lab.env())
    assert rc == 0 and recap(again)["changed"] == 0, again[-3000:]
    assert vcenter_layout(lab) == after


def test_after_the_failover_rerun_the_commit_waits_for_the_verification_that_moves_the_last_disk(full_lab, tmp_path):
    lab = full_lab("replicating.yml", ONE_BY_ONE)
    own = replica(lab)
    stop_the_failover_after_one_disk(lab, tmp_path)
    # Site Recovery's failover, run again on its own: it fails web02 back (the stage moves on) and leaves the VM it
    # created as it is - web02_1.vmdk stays on mt-lin01
    rc, rerun = run_module("failover", {"vms": ["web02"], "poll_interval": 0.5}, env=lab.env())
    assert rc == 0, rerun
    assert item(lab)["stage"] == "failed_back"
    partway = vcenter_layout(lab)
    assert [f for _b, _u, f, _c, _i in partway["mt-lin01"] if f in WEB02] == [WEB02[1]]

    # the commit refuses while a protected disk is missing, even forced: nothing changes, the Azure VM is kept
    for force in (False, True):
        watch = watch_calls(lab)
        rc, refused = run_module("commit", {"vms": ["web02"], "poll_interval": 0.5, "force": force}, env=lab.env())
        assert rc != 0 and "1 of ASR's 2 protected disk(s) attached" in refused["msg"], refused
        assert watch.mutations() == NO_MUTATIONS
        assert azure_vm_exists(lab) and item(lab)["stage"] == "failed_back"

    # the verification (what the role runs, given verify_onprem) plans the move in check mode and changes nothing
    verify = {"vms": [{"name": "web02"}], "tools_timeout": 60}
    watch = watch_calls(lab)
    rc, check = run_module("onprem_vm", verify, env=lab.env(), check=True, diff=True)
    assert rc == 0 and check["changed"] is True, check
    assert watch.mutations() == NO_MUTATIONS and vcenter_layout(lab) == partway
    assert (check["vms"][0]["disks_returned"], check["vms"][0]["disks_attached"]) == (1, []), check
    assert check["diff"]["after"] == {"web02": {"scsi0:0": WEB02[0], "scsi0:1": WEB02[1]}}, check["diff"]

    rc, repaired = run_module("onprem_vm", verify, env=lab.env())
    assert rc == 0, repaired
    after = vcenter_layout(lab)
    assert {f: (capacity, uuid) for _b, _u, f, capacity, uuid in after["web02"]} == own
    assert not any(f in WEB02 for _b, _u, f, _c, _i in after["mt-lin01"])
    rc, again = run_module("onprem_vm", verify, env=lab.env())
    assert rc == 0 and again["changed"] is False, again

    rc, committed = run_module("commit", {"vms": ["web02"], "poll_interval": 0.5}, env=lab.env())
    assert rc == 0, committed
    assert item(lab)["stage"] == "failback_committed" and not azure_vm_exists(lab)
    assert vcenter_layout(lab)["web02"] == after["web02"]
