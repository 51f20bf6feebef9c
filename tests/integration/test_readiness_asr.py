# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""readiness on the whole lab, the ASR-side rules of issue 15: a vCenter whose discovery heartbeat is hours old, a
process server without a heartbeat, a stopped Azure VM (78093), a named recovery point, replication groups and
recovery plans judged as a whole. Each spec trips its rule; the default site trips none of them
(test_readiness.test_default_site_is_ready)."""

import json

from conftest import lab_requests, run_module, run_playbook
from test_readiness import UNGROUPED, blockers, check, tripped

MT_WIN01_AT_56 = {"vcenter": {"datacenters": [{"name": "DC1", "vms": [{
    "name": "mt-win01", "filler_disks": {"count": 54, "size_gb": 1},
    "scsi_controllers": [{"bus": 0, "type": "lsilogic-sas"}, {"bus": 1, "type": "lsilogic"}, {"bus": 2, "type": "lsilogic"},
                         {"bus": 3, "type": "lsilogic"}]}]}]}}


def test_vcenter_discovery_heartbeat_hours_old(full_lab):
    result = check(full_lab("vcenter-stale.yml"), vms=UNGROUPED, location="original")
    assert tripped(result, "vcenter_heartbeat") == [None]
    message = next(f["message"] for f in result["findings"] if f["rule"] == "vcenter_heartbeat")
    assert "vcenter01.lab" in message and "Completed" in message, message
    assert tripped(result, "vcenter_connected") == []  # ASR still says Completed, without a health error
    assert not any(v["ready"] for v in result["verdicts"])


def test_process_server_without_heartbeat(full_lab):
    result = check(full_lab("ps-stale.yml"), vms=UNGROUPED, location="original")
    assert tripped(result, "process_server_heartbeat") == sorted(UNGROUPED)
    assert tripped(result, "process_server") == []  # health Normal, service Running: only the heartbeat tells
    assert "cs01" in next(f["message"] for f in result["findings"] if f["rule"] == "process_server_heartbeat")


def test_azure_vm_stopped(full_lab):
    result = check(full_lab("azure-vm-stopped.yml"), vms=UNGROUPED, location="original")
    assert tripped(result, "azure_vm_running") == ["app01"]
    assert "deallocated" in next(f["message"] for f in result["findings"] if f["rule"] == "azure_vm_running")
    assert [v["vm"] for v in result["verdicts"] if v["ready"]] == ["web01", "web03"]


def test_named_recovery_point(full_lab, tmp_path):
    lab = full_lab("replicating.yml")
    rc, info = run_module("replicated_item_info", {"vms": ["app01"], "recovery_points": True}, env=lab.env())
    assert rc == 0, info
    points = info["items"][0]["recovery_points"]
    assert len(points) >= 2, points
    oldest = points[-1]
    for wanted in (oldest["name"], oldest["id"]):  # by name or by ARM id, as the failover takes it
        result = check(lab, vms=["app01"], location="original", recovery_point=wanted)
        assert tripped(result, "named_recovery_point") == [], result["findings"]
        assert blockers(result) == [] and result["verdicts"][0]["ready"]
    result = check(lab, vms=["app01"], location="original", recovery_point="rp-that-does-not-exist")
    assert tripped(result, "named_recovery_point") == ["app01"]
    refused = next(f["message"] for f in result["findings"] if f["rule"] == "named_recovery_point")
    assert "rp-that-does-not-exist" in refused and "newest first: " in refused, refused
    # a named point for several VMs, which only a single VM fails over to
    result = check(lab, vms=["app01", "web02"], location="original", recovery_point=oldest["name"])
    assert tripped(result, "named_recovery_point") == ["app01", "web02"]

    # the preflight playbook takes the name through its argument check and passes on it
    reports = tmp_path / "reports"
    rc, out = run_playbook("preflight", {"preflight_vms": ["app01"], "preflight_location": "original",
                                         "preflight_recovery_point": oldest["name"], "preflight_report_dir": str(reports)},
                           lab.env())
    assert rc == 0, out
    [found] = reports.glob("preflight-*.json")  # named after the run (issue 16)
    assert json.loads(found.read_text())["summary"]["blockers"] == 0


def test_named_recovery_point_before_reprotect(full_lab):
    result = check(full_lab("default.yml"), vms=["app01"], location="original", recovery_point="any-point-name")
    assert tripped(result, "named_recovery_point") == ["app01"]
    assert "not been reprotected" in next(f["message"] for f in result["findings"] if f["rule"] == "named_recovery_point")


def test_plan_holding_part_of_a_replication_group(full_lab):
    lab = full_lab("group-split-plan.yml")
    result = check(lab, recovery_plan="rp-app", location="original")
    assert [v["vm"] for v in result["verdicts"]] == ["app02", "app01", "web01"]
    assert tripped(result, "replication_group_whole") == ["app02"]
    assert "db01" in next(f["message"] for f in result["findings"] if f["rule"] == "replication_group_whole")
    # the plan fails back as a whole: app01 and web01 have no blocker of their own, and are not ready either
    assert tripped(result, "fails_back_together") == ["app01", "web01"]
    assert not any(v["ready"] for v in result["verdicts"])
    # the item list and one GET of db01, the member outside the plan
    assert result["api_calls"] == 5 + 3 + 1


def test_group_placement_counts_the_members_outside_the_plan(full_lab):
    # mt-win01 holds 56 disks: app02's 2 alone would fit (58), the group's 5 (app02 and db01's 3) do not (61)
    lab = full_lab("group-split-plan.yml", MT_WIN01_AT_56)
    result = check(lab, recovery_plan="rp-app", location="original")
    assert tripped(result, "master_target_available") == ["app02"]
    message = next(f["message"] for f in result["findings"] if f["rule"] == "master_target_available")
    assert "db01" in message and "5 more disk" in message, message
    assert result["placement"]["app02"]["master_target"] is None


def test_replication_group_judged_whole(full_lab):
    # web01 (Linux) is in replication group rg-app with app02 and db01 (Windows): app02 named alone mixes OS too
    result = check(full_lab("group-mixed-os.yml"), vms=["app02"], location="original")
    assert tripped(result, "replication_group") == ["app02"]
    message = next(f["message"] for f in result["findings"] if f["rule"] == "replication_group")
    assert "web01 (not in this run)" in message and "db01 (not in this run)" in message, message


def test_a_blocked_plan_leaves_no_vm_ready(full_lab):
    result = check(full_lab("mt-snapshots.yml"), recovery_plan="rp-app", location="original")
    assert tripped(result, "mt_snapshots") == ["app01", "app02", "db01"]
    assert tripped(result, "fails_back_together") == ["web01"]  # on the Linux master target, blocked with its plan
    assert [v["ready"] for v in result["verdicts"]] == [False] * 4
    assert result["summary"]["ready"] == 0


def test_reprotect_places_a_group_whole_with_its_members_outside_the_plan(full_lab):
    # preflight off: the reprotect's own automatic placement must size rg-app with db01 too (outside rp-app), so
    # mt-win01 at 56 disks cannot take it; sized from app02 alone (2 disks) it would have gone ahead
    lab = full_lab("group-split-plan.yml", MT_WIN01_AT_56)
    env = lab.env()

    def writes():
        # ARM's mutating requests (the AAD token POST is not one)
        return sum(n for call, n in lab_requests(lab).items()
                   if not call.startswith("GET ") and call.split(" ", 1)[1].lower().startswith("/subscriptions/"))

    before = writes()
    rc, result = run_module("reprotect", {"direction": "to_onprem", "recovery_plan": "rp-app", "poll_interval": 0.5},
                            env=env)
    assert rc != 0, result
    assert "replication group rg-app (app02, db01)" in result["msg"] and "5 more disk" in result["msg"], result["msg"]
    state = lab.azure.state()["items"]
    assert state["app02"]["stage"] == "running_in_azure" and state["app02"]["current_job"] is None
    assert writes() == before, lab_requests(lab)


def test_a_plan_partly_failed_back_by_name_is_refused_before_its_reprotect(full_lab):
    # app01 and web01 of rp-app were failed back by name; app02 and db01 still run in Azure
    lab = full_lab("plan-partly-failed-back.yml")
    result = check(lab, recovery_plan="rp-app", location="original")
    assert tripped(result, "plan_stages") == ["app02", "db01"]
    message = next(f["message"] for f in result["findings"] if f["rule"] == "plan_stages")
    assert "app01 (reprotected_to_azure)" in message and "web01 (reprotected_to_azure)" in message, message
    remedy = next(f["remedy"] for f in result["findings"] if f["rule"] == "plan_stages")
    assert "without this plan" in remedy and "rp-app" in remedy, remedy
    assert not any(v["ready"] for v in result["verdicts"] if v["vm"] in ("app02", "db01"))
    # the same VMs by name, without the plan, are not judged by it
    assert tripped(check(lab, vms=["app02", "db01"], location="original"), "plan_stages") == []
