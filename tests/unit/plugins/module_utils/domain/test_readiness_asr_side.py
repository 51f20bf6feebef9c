# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ASR-side readiness rules of issue 15 over plain dicts: vCenter and process server heartbeats, the Azure VM's
power state (78093), a named recovery point, replication groups and recovery plans judged as a whole."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import readiness

from .test_readiness import found, message, run, site, vm_of


def process_server(age, name="cs01", server_id="PS-1"):
    return {"name": name, "id": server_id, "fabric_name": "fab", "health": "Normal", "service_status": "Running",
            "heartbeat_age_seconds": age}


# ---------------------------------------------------------------------- vCenter discovery heartbeat
@pytest.mark.parametrize(("age", "severity"), [(29, None), (900, None), (901, readiness.BLOCKER), (14400, readiness.BLOCKER),
                                               (None, readiness.WARNING)])
def test_vcenter_heartbeat(age, severity):
    ctx = site()  # heartbeat_max_age_seconds 900: exactly the limit passes
    ctx["vcenters"][0]["heartbeat_age_seconds"] = age
    result = run(ctx)
    for level in (readiness.BLOCKER, readiness.WARNING):
        assert found(result, "vcenter_heartbeat", level) == ([None] if level == severity else [])
    if severity == readiness.BLOCKER:
        assert "vcenter01.lab" in message(result, "vcenter_heartbeat") and "Completed" in message(result, "vcenter_heartbeat")
        assert not any(v["ready"] for v in result["verdicts"])


def test_vcenter_heartbeat_leaves_a_lost_vcenter_to_vcenter_connected():
    ctx = site()
    ctx["vcenters"][0].update(heartbeat_age_seconds=7200, discovery_status="Failed")
    result = run(ctx)
    assert found(result, "vcenter_connected") == [None] and found(result, "vcenter_heartbeat") == []


def test_vcenter_heartbeat_judges_the_vcenter_connected_to():
    ctx = site()
    ctx["vcenters"].append({"name": "vcenter-old.lab", "ip": "10.9.9.9", "discovery_status": "Completed",
                            "health_errors": [], "heartbeat_age_seconds": 99999})
    assert found(run(ctx), "vcenter_heartbeat") == []  # the one named like the connection's hostname is fresh


# ---------------------------------------------------------------------- process server heartbeat
def test_process_server_heartbeat_before_reprotect():
    ctx = site()
    ctx["process_servers"] = [process_server(600)]
    assert found(run(ctx), "process_server_heartbeat") == []
    ctx["process_servers"] = [process_server(18000)]
    result = run(ctx)
    assert found(result, "process_server_heartbeat") == ["app01", "web01"]
    assert "cs01" in message(result, "process_server_heartbeat") and "5.0 h" in message(result, "process_server_heartbeat")
    ctx["process_servers"] = [process_server(None)]
    assert found(run(ctx), "process_server_heartbeat", readiness.WARNING) == ["app01", "web01"]


def test_process_server_heartbeat_while_replicating_is_the_items_own():
    ctx = site()
    ctx["process_servers"] = [process_server(18000, "ps-azure", "PS-AZ"), process_server(60, "cs01", "PS-CS")]
    entry = vm_of(ctx, "app01")
    entry["item"].update(failback_stage="replicating_to_onprem", provider="InMage")
    entry["item"]["onprem"]["process_server_id"] = "ps-cs"  # ids compared without regard to case
    entry["points"] = {"has_point": True}
    assert "app01" not in found(run(ctx), "process_server_heartbeat")
    entry["item"]["onprem"]["process_server_id"] = "PS-AZ"
    assert "app01" in found(run(ctx), "process_server_heartbeat")


# ---------------------------------------------------------------------- the Azure VM runs (78093)
@pytest.mark.parametrize(("state", "severity"), [("running", None), ("deallocated", readiness.BLOCKER),
                                                 ("stopped", readiness.BLOCKER), ("unknown", readiness.WARNING)])
def test_azure_vm_running(state, severity):
    ctx = site()
    vm_of(ctx, "app01")["azure_vm"]["power_state"] = state
    result = run(ctx)
    for level in (readiness.BLOCKER, readiness.WARNING):
        assert found(result, "azure_vm_running", level) == (["app01"] if level == severity else [])
    if severity == readiness.BLOCKER:
        assert "78093" in message(result, "azure_vm_running")


def test_azure_vm_running_only_before_reprotect_and_not_for_a_gone_vm():
    ctx = site()
    vm_of(ctx, "app01")["azure_vm"].update(power_state="deallocated", exists=False)
    assert found(run(ctx), "azure_vm_running") == [] and found(run(ctx), "azure_vm_present") == ["app01"]
    ctx = site()
    entry = vm_of(ctx, "app01")
    entry["azure_vm"]["power_state"] = "deallocated"
    entry["item"].update(failback_stage="replicating_to_onprem", provider="InMage")
    entry["points"] = {"has_point": True}
    assert found(run(ctx), "azure_vm_running") == []


# ---------------------------------------------------------------------- a named recovery point
def _replicating(ctx, name="app01"):
    entry = vm_of(ctx, name)
    entry["item"].update(failback_stage="replicating_to_onprem", provider="InMage")
    entry["points"] = {"has_point": True, "count": 2, "listed": [
        {"name": "rp-new", "id": "/Subscriptions/s/.../recoveryPoints/rp-new", "type": "CrashConsistent",
         "time": "2026-11-26T12:00:00Z"},
        {"name": "rp-old", "id": "/Subscriptions/s/.../recoveryPoints/rp-old", "type": "ApplicationConsistent",
         "time": "2026-11-26T11:00:00Z"}]}
    return entry


@pytest.mark.parametrize(("wanted", "blocked"), [("rp-old", False), ("RP-NEW", False),
                                                 ("/subscriptions/s/.../recoveryPoints/rp-old", False),
                                                 ("rp-gone", True), ("latest_processed", False)])
def test_named_recovery_point_is_one_of_the_items(wanted, blocked):
    ctx = site()
    ctx["vms"] = [_replicating(ctx)]
    ctx["recovery_point"] = wanted
    result = run(ctx)
    assert found(result, "named_recovery_point") == (["app01"] if blocked else [])
    if blocked:
        assert "rp-new, rp-old" in message(result, "named_recovery_point")  # newest first


def test_named_recovery_point_refusals():
    ctx = site()
    ctx["vms"] = ctx["vms"][:1]
    ctx["recovery_point"] = "rp-old"
    assert "not been reprotected" in message(run(ctx), "named_recovery_point")  # before reprotect: no failback point
    ctx = site()
    _replicating(ctx)
    ctx["recovery_point"] = "rp-old"
    assert found(run(ctx), "named_recovery_point") == ["app01", "web01"]  # two VMs: a point belongs to one
    ctx = site()
    ctx["vms"] = [_replicating(ctx)]
    ctx.update(recovery_point="rp-old", plan="rp-app")
    assert "recovery plan rp-app" in message(run(ctx), "named_recovery_point")
    ctx = site()
    ctx["vms"] = [_replicating(ctx)]
    ctx["vms"][0]["item"]["provider"] = "InMageRcmFailback"
    ctx["recovery_point"] = "rp-old"
    assert "modernized" in message(run(ctx), "named_recovery_point")
    ctx = site()
    ctx["vms"] = [_replicating(ctx)]
    ctx["vms"][0]["points"]["listed"] = None  # the list was not read: nothing to judge it by
    ctx["recovery_point"] = "rp-gone"
    assert found(run(ctx), "named_recovery_point") == []


# ---------------------------------------------------------------------- replication groups and plans, whole
def _grouped(ctx, *names, group="rg-app"):
    for name in names:
        vm_of(ctx, name)["item"]["replication_group"] = group


def member(name, os_type="Windows", in_run=False, stage="running_in_azure", disks=3):
    return {"name": name, "id": "/x/" + name, "os_type": os_type, "disk_count": disks, "stage": stage, "in_run": in_run}


def test_replication_group_is_judged_over_every_member():
    ctx = site()
    ctx["vms"] = ctx["vms"][:1]
    _grouped(ctx, "app01")
    ctx["groups"] = {"rg-app": [member("app01", in_run=True), member("db01")]}
    assert found(run(ctx), "replication_group") == []
    ctx["groups"]["rg-app"].append(member("web01", "Linux"))  # not in the run, and Linux
    result = run(ctx)
    assert found(result, "replication_group") == ["app01"]
    assert "Linux: web01 (not in this run)" in message(result, "replication_group")


def test_replication_group_whole_in_a_plan():
    ctx = site()
    ctx["plan"] = "rp-app"
    ctx["vms"] = ctx["vms"][:1]
    _grouped(ctx, "app01")
    ctx["groups"] = {"rg-app": [member("app01", in_run=True), member("db01")]}
    result = run(ctx)
    assert found(result, "replication_group_whole") == ["app01"]
    assert "db01" in message(result, "replication_group_whole") and "rp-app" in message(result, "replication_group_whole")
    ctx["groups"]["rg-app"][1]["stage"] = "failback_committed"  # already failed back: nothing left to hold
    assert found(run(ctx), "replication_group_whole") == []
    ctx["groups"]["rg-app"][1].update(stage="running_in_azure", in_run=True)
    assert found(run(ctx), "replication_group_whole") == []
    ctx["plan"] = None  # named VMs: rule replication_group_plan's
    ctx["groups"]["rg-app"][1]["in_run"] = False
    assert found(run(ctx), "replication_group_whole") == []


def test_a_blocked_vm_blocks_its_plan():
    ctx = site()
    ctx["plan"] = "rp-app"
    ctx["master_targets"]["mt-win01"]["vm"]["snapshot_count"] = 1  # app01's master target
    result = run(ctx)
    assert found(result, "mt_snapshots") == ["app01"]
    assert found(result, "fails_back_together") == ["web01"]
    text = message(result, "fails_back_together")
    assert "recovery plan rp-app" in text and "app01 is blocked: app01 (mt_snapshots)" in text, text
    assert [v["ready"] for v in result["verdicts"]] == [False, False] and result["summary"]["ready"] == 0
    ctx["plan"] = None  # the same VMs named: each fails back on its own
    result = run(ctx)
    assert found(result, "fails_back_together") == [] and [v["ready"] for v in result["verdicts"]] == [False, True]


def test_a_blocked_vm_blocks_its_replication_group_and_a_site_blocker_adds_nothing():
    ctx = site()
    _grouped(ctx, "app01", "web01")
    ctx["vms"][1]["master_target"] = "mt-win01"
    vm_of(ctx, "web01")["item"]["os_type"] = "Windows"
    vm_of(ctx, "web01")["onprem"]["os_family"] = "windows"
    vm_of(ctx, "app01")["azure_vm"]["power_state"] = "deallocated"
    result = run(ctx)
    assert found(result, "azure_vm_running") == ["app01"] and found(result, "fails_back_together") == ["web01"]
    assert "replication group rg-app" in message(result, "fails_back_together")
    ctx = site()
    ctx["plan"] = "rp-app"
    ctx["configuration_servers"][0]["service_status"] = "Stopped"  # every VM has the site blocker already
    assert found(run(ctx), "fails_back_together") == []


# ---------------------------------------------------------------------- a plan partly failed back by name
@pytest.mark.parametrize(("stage", "blocked"), [("reprotected_to_azure", True), ("failback_committed", True),
                                                ("failed_back", False), ("replicating_to_onprem", False)])
def test_plan_stages_a_committed_vm_beside_vms_still_in_azure(stage, blocked):
    ctx = site()
    ctx["plan"] = "rp-app"
    ctx["vms"][1]["item"]["failback_stage"] = stage  # web01; app01 still runs in Azure
    result = run(ctx)
    assert found(result, "plan_stages") == (["app01"] if blocked else [])
    if blocked:
        assert "web01 (%s)" % stage in message(result, "plan_stages") and "rp-app" in message(result, "plan_stages")
        assert not next(v for v in result["verdicts"] if v["vm"] == "app01")["ready"]
    ctx["plan"] = None  # the same VMs by name: each fails back on its own
    assert found(run(ctx), "plan_stages") == []
