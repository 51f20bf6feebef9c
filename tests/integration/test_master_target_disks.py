# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""master_target_disks on the lab: check mode, apply, idempotent re-run, every refusal, repair."""

import pytest
from conftest import NO_MUTATIONS, lab_state, run_check_mode, run_module, watch_calls

from tests.lab.effects import VCenterEffects

APP01 = ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
MT_WIN = ["[vmfs-01] mt-win01/mt-win01.vmdk", "[vmfs-01] mt-win01/mt-win01_1.vmdk"]


def disk_files(sim, *names):
    rc, result = run_module("esx_host_info", {"vms": list(names)}, env=sim.env())
    assert rc == 0, result
    return {vm["name"]: sorted(d["file"] for d in vm["disks"]) for vm in result["vms"]}


def test_original_location_check_apply_rerun_and_detach_back(full_lab):
    sim = full_lab()  # app01 at running_in_azure: not reprotected yet, its disks may be taken off again
    args = {"master_target": "mt-win01", "vms": [{"name": "app01"}]}
    before = disk_files(sim, "app01", "mt-win01")

    rc, check = run_check_mode("master_target_disks", args, sim, diff=True)
    assert rc == 0, check
    assert check["changed"] is True
    assert check["diff"]["after"] == {"app01": [], "mt-win01": sorted(MT_WIN + APP01)}
    assert check["tasks"] == []
    assert disk_files(sim, "app01", "mt-win01") == before  # check mode changed nothing

    rc, applied = run_module("master_target_disks", args, env=sim.env(), diff=True)
    assert rc == 0, applied
    assert applied["changed"] is True
    assert applied["diff"]["after"] == check["diff"]["after"]
    assert applied["tasks"] == ["detach disks from app01", "attach 2 disk(s) to mt-win01"]
    assert [(d["before"], d["after"]) for d in applied["vms"][0]["disks"]] == [("vm", "mt"), ("vm", "mt")]
    assert disk_files(sim, "app01", "mt-win01") == {"app01": [], "mt-win01": sorted(MT_WIN + APP01)}

    rc, again = run_module("master_target_disks", args, env=sim.env())
    assert rc == 0 and again["changed"] is False, again

    back = dict(args, state="detached", reattach=True)
    rc, check = run_check_mode("master_target_disks", back, sim)
    assert rc == 0 and check["changed"] is True
    assert disk_files(sim, "app01", "mt-win01") == {"app01": [], "mt-win01": sorted(MT_WIN + APP01)}
    rc, detached = run_module("master_target_disks", back, env=sim.env())
    assert rc == 0 and detached["changed"] is True, detached
    assert disk_files(sim, "app01", "mt-win01") == before
    rc, again = run_module("master_target_disks", back, env=sim.env())
    assert rc == 0 and again["changed"] is False, again


def test_alternate_location_creates_disks_once(lab_vcenter):
    sim = lab_vcenter()
    args = {"vms": [{"name": "web02", "master_target": "mt-lin01", "location": "alternate", "datastore": "vmfs-01",
                     "disk_sizes_gb": [40, 80]}]}
    rc, check = run_check_mode("master_target_disks", args, sim)
    assert rc == 0 and check["changed"] is True
    assert len(disk_files(sim, "mt-lin01")["mt-lin01"]) == 2
    rc, applied = run_module("master_target_disks", args, env=sim.env())
    assert rc == 0 and applied["changed"] is True, applied
    files = disk_files(sim, "mt-lin01")["mt-lin01"]
    assert "[vmfs-01] web02/web02.vmdk" in files and "[vmfs-01] web02/web02_1.vmdk" in files
    rc, again = run_module("master_target_disks", args, env=sim.env())
    assert rc == 0 and again["changed"] is False, again
    assert disk_files(sim, "mt-lin01")["mt-lin01"] == files


REFUSALS = [
    ("original-unsupported.yml", {"master_target": "mt-win01", "vms": [{"name": "app01"}]}, "raw device mapping"),
    ("original-unsupported.yml", {"master_target": "mt-lin01", "vms": [{"name": "web03"}]}, "on vSAN datastore vsan-01"),
    ("original-unsupported.yml", {"master_target": "mt-win01", "vms": [{"name": "db01"}]}, "VM db01 is poweredOn"),
    ("default.yml", {"vms": [{"name": "web02", "master_target": "mt-lin01", "location": "alternate",
                              "datastore": "nfs-01", "disk_sizes_gb": [40]}]}, "datastore nfs-01 is NFS"),
    ("mt-full.yml", {"master_target": "mt-win01", "vms": [{"name": "db01"}]}, "would hold 61 disks"
     " (58 now + 3); the limit is 60"),
    ("mt-snapshots.yml", {"master_target": "mt-win01", "vms": [{"name": "app01"}]}, "has 1 snapshot(s)"),
    ("datastore-unreachable.yml", {"master_target": "mt-win01", "vms": [{"name": "app02"}]},
     "datastore vmfs-02 is not mounted on ESXi host esx03.lab of master target mt-win01"),
    ("vcenter-disconnected.yml", {"master_target": "mt-lin01", "vms": [{"name": "web01"}]},
     "its ESXi host esx03.lab is notResponding"),
]


@pytest.mark.parametrize("spec,args,message", REFUSALS, ids=[r[2][:30] for r in REFUSALS])
def test_refusals_name_the_rule_and_change_nothing(lab_vcenter, spec, args, message):
    sim = lab_vcenter(spec)
    names = sorted({v["name"] for v in args["vms"]} | {v.get("master_target") or args["master_target"] for v in args["vms"]})
    names = [n for n in names if n != "web02"]
    before = disk_files(sim, *names)
    rc, result = run_module("master_target_disks", args, env=sim.env())
    assert rc != 0
    assert message in result["msg"], result["msg"]
    assert "nothing was changed" in result["msg"]
    assert disk_files(sim, *names) == before


def test_mt_full_still_takes_what_fits(lab_vcenter):
    sim = lab_vcenter("mt-full.yml")
    rc, result = run_module("master_target_disks", {"master_target": "mt-win01", "vms": [{"name": "app01"}]},
                            env=sim.env())
    assert rc == 0 and result["changed"], result
    assert len(disk_files(sim, "mt-win01")["mt-win01"]) == 60


@pytest.mark.parametrize("stop_at", [3, 4])
def test_a_half_finished_move_is_completed_by_a_rerun(lab_vcenter, stop_at):
    """ASR's job stopped after side effect k: k=3 leaves app01_1 on the VM, k=4 leaves it detached
    from the VM and attached nowhere. A re-run of the module completes the move, no duplicates."""
    sim = lab_vcenter()
    effects = VCenterEffects({"vcenter": sim.info}, spec=sim.spec)
    count = []

    def stop(label):
        count.append(label)
        if len(count) == stop_at:
            raise RuntimeError("job stopped at %s" % label)

    effects.on_effect = stop
    with pytest.raises(RuntimeError):
        effects.prepare_original_location("app01", "mt-win01")
    effects.close()
    half = disk_files(sim, "app01", "mt-win01")
    assert APP01[0] in half["mt-win01"] and APP01[1] not in half["mt-win01"]
    assert half["app01"] == ([APP01[1]] if stop_at == 3 else [])
    rc, result = run_module("master_target_disks", {"master_target": "mt-win01", "vms": [{"name": "app01"}]},
                            env=sim.env())
    assert rc == 0 and result["changed"] is True, result
    assert disk_files(sim, "app01", "mt-win01") == {"app01": [], "mt-win01": sorted(MT_WIN + APP01)}
    rc, again = run_module("master_target_disks", {"master_target": "mt-win01", "vms": [{"name": "app01"}]},
                           env=sim.env())
    assert rc == 0 and again["changed"] is False


@pytest.mark.parametrize("stage", ["replicating_to_onprem", "reprotecting"])
def test_detaching_the_replica_while_site_recovery_uses_it_is_refused_before_any_vcenter_read(full_lab, stage):
    # new-user re-try of issue 13: state detached took Site Recovery's live replica off the master target while the
    # VM still replicated (onprem_vm refused the same)
    if stage == "reprotecting":  # the reprotect job of app01 runs (slow jobs), its disks already on mt-win01
        lab = full_lab("default.yml", {"timings": {"job_seconds": 600}})
        rc, started = run_module("reprotect", {"vms": ["app01"], "direction": "to_onprem", "master_target": "mt-win01",
                                               "timeout": 5, "poll_interval": 0.5}, env=lab.env())
        assert rc != 0, started  # its wait ended; the job goes on
    else:
        lab = full_lab("replicating.yml")
    before = disk_files(lab, "app01", "mt-win01")
    stage_before = lab_state(lab)["items"]["app01"]["stage"]
    watch = watch_calls(lab)
    rc, refused = run_module("master_target_disks", {"master_target": "mt-win01", "vms": [{"name": "app01"}],
                                                     "state": "detached", "reattach": True}, env=lab.env())
    assert rc != 0, refused
    assert refused["msg"].startswith("Refusing to detach disks; nothing was changed: VM app01 is at stage "), refused
    assert "Site Recovery's replica" in refused["msg"]
    calls = watch.since()
    assert watch.mutations(calls) == NO_MUTATIONS and not any(calls["soap"].values()), calls
    assert disk_files(lab, "app01", "mt-win01") == before
    assert lab_state(lab)["items"]["app01"]["stage"] == stage_before
