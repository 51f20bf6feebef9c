# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""replicated_item_info on the whole lab: stages, recovery points, Azure VMs (running, moved, deleted,
found by tag), a recovery plan, refusals naming what is missing, check mode, and call counts."""

from conftest import run_module

from tests.lab import spec as specmod

ALL = ["app01", "app02", "db01", "web01", "web03", "web02", "fs01"]
KEYS = {"name", "item_name", "id", "provider", "protection_state", "protection_state_description", "active_location",
        "allowed_operations", "replication_health", "failover_health", "health_errors", "current_scenario",
        "current_job", "policy_id", "last_successful_failover_time", "failover_recovery_point_id", "replication_group",
        "replication_group_id", "os_type", "discovery_type", "disk_count", "target_datastore", "source",
        "onprem", "failback_stage", "next_step",
        "failed_back_before", "azure_vm", "recovery_points", "latest_recovery_point",
        "latest_app_consistent_recovery_point", "details", "recovery_point_evidence"}


def by_name(result):
    return {item["name"]: item for item in result["items"]}


def test_default_site_every_vm_runs_in_azure(full_lab):
    lab = full_lab("default.yml")
    rc, result = run_module("replicated_item_info", {"vms": ALL}, env=lab.env())
    assert rc == 0, result
    assert result["changed"] is False
    assert [i["name"] for i in result["items"]] == ALL
    assert result["summary"] == {"running_in_azure": 7}
    spec_items = {i["name"]: i for i in lab.spec["asr"]["items"]}
    for item in result["items"]:
        assert set(item) == KEYS
        spec_item = spec_items[item["name"]]
        assert item["item_name"] == spec_item["item_name"]
        assert item["provider"] == "InMageAzureV2"
        assert item["failback_stage"] == "running_in_azure" and item["next_step"] == "reprotect to on-premises"
        assert "SwitchProtection" in item["allowed_operations"]  # reprotect, as ASR offers it (tests/recorded/asr fact 1)
        vm = item["azure_vm"]
        assert (vm["exists"], vm["moved"], vm["power_state"], vm["found_by"]) == (True, False, "running", "id")
        assert (vm["name"], vm["resource_group"]) == (spec_item["azure_vm"]["name"], spec_item["azure_vm"]["resource_group"])
        assert vm["id"] == spec_item["azure_vm"]["id"]
        assert item["recovery_points"] == [] and item["latest_recovery_point"] is None
    items = by_name(result)
    assert items["web01"]["os_type"] == "Linux" and items["app01"]["os_type"] == "Windows"
    assert items["fs01"]["discovery_type"] == "Physical" and items["app01"]["discovery_type"] == "vCenter"
    assert (items["db01"]["disk_count"], items["web01"]["disk_count"], items["fs01"]["disk_count"]) == (3, 1, 2)
    assert items["db01"]["replication_group"] == "rg-app" and items["app01"]["replication_group"] is None


def test_select_by_item_name(full_lab):
    lab = full_lab("default.yml")
    names = {i["name"]: i["item_name"] for i in lab.spec["asr"]["items"]}
    rc, result = run_module("replicated_item_info", {"items": [names["web02"]], "vms": ["web02", "app01"]}, env=lab.env())
    assert rc == 0, result
    assert [i["name"] for i in result["items"]] == ["web02", "app01"]


def test_recovery_plan(full_lab):
    lab = full_lab("default.yml")
    rc, result = run_module("replicated_item_info", {"recovery_plan": "rp-app", "recovery_points": False}, env=lab.env())
    assert rc == 0, result
    plan = result["recovery_plan"]
    assert plan["name"] == "rp-app" and plan["friendly_name"] == "rp-app"
    assert plan["groups"] == [["db01", "app02"], ["app01", "web01"]]
    assert plan["replication_providers"] == ["InMageAzureV2"]
    assert isinstance(plan["allowed_operations"], list) and plan["current_scenario"] == "None"
    assert [i["name"] for i in result["items"]] == ["db01", "app02", "app01", "web01"]
    groups = {i["name"]: i["replication_group"] for i in result["items"]}
    assert groups == {"db01": "rg-app", "app02": "rg-app", "app01": None, "web01": None}
    items = by_name(result)
    assert items["db01"]["replication_group_id"] == items["app02"]["replication_group_id"]
    assert "recovery_points" not in items["db01"] and "latest_recovery_point" not in items["db01"]


def test_replicating_to_onprem_with_and_without_recovery_points(full_lab):
    item_names = {i["name"]: i["item_name"] for i in specmod.load("replicating.yml")["asr"]["items"]}
    # what the reprotect module leaves on the Azure VM: the tags that find it once the item is InMage
    tags = {"siterecovery-failback-item": item_names["app01"], "siterecovery-failback-resource-group": "rg-recovery"}
    # no new points while the test runs (the fixture's fast timings would add one every half second)
    lab = full_lab("replicating.yml", {"timings": {"initial_replication_seconds": 3600, "recovery_point_seconds": 3600},
                                       "asr": {"items": [{"name": "app01", "azure_vm": {"tags": tags}}]}})
    rc, result = run_module("replicated_item_info", {"vms": ["app01", "web01", "web02", "db01"]}, env=lab.env())
    assert rc == 0, result
    items = by_name(result)
    assert result["summary"] == {"replicating_to_onprem": 3, "running_in_azure": 1}
    app01 = items["app01"]
    assert app01["provider"] == "InMage" and app01["failback_stage"] == "replicating_to_onprem"
    points = app01["recovery_points"]
    assert [p["type"] for p in points[:2]] == ["CrashConsistent", "ApplicationConsistent"]
    assert [p["time"] for p in points] == sorted((p["time"] for p in points), reverse=True)
    assert 1.5 <= points[0]["age_minutes"] <= 3 and 29 <= points[1]["age_minutes"] <= 31
    assert points[0]["id"].endswith("/recoveryPoints/" + points[0]["name"])
    assert app01["latest_recovery_point"] == points[0]
    assert app01["latest_app_consistent_recovery_point"] == points[1]
    assert app01["azure_vm"]["found_by"] == "tag" and app01["azure_vm"]["exists"] is True
    assert app01["azure_vm"]["moved"] is False and app01["azure_vm"]["power_state"] == "running"
    web01 = items["web01"]
    assert web01["failback_stage"] == "replicating_to_onprem"
    assert web01["recovery_points"] == [] and web01["latest_recovery_point"] is None
    assert web01["latest_app_consistent_recovery_point"] is None
    # nothing names web01's Azure VM any more: it was never tagged
    assert web01["azure_vm"] is None
    assert [p["type"] for p in items["web02"]["recovery_points"]] == ["CrashConsistent"]
    assert items["web02"]["latest_app_consistent_recovery_point"] is None


def test_failback_impossible(full_lab):
    lab = full_lab("failback-impossible.yml")
    env = lab.env()
    rc, result = run_module("replicated_item_info", {"vms": ["app01", "web01", "db01", "fs01"]}, env=env)
    assert rc == 0, result
    items = by_name(result)
    moved = items["app01"]["azure_vm"]
    assert (moved["exists"], moved["moved"], moved["resource_group"], moved["recorded_resource_group"]) == (
        True, True, "rg-moved", "rg-recovery")
    assert moved["power_state"] == "running" and "/resourceGroups/rg-moved/" in moved["id"]
    deleted = items["web01"]["azure_vm"]
    assert (deleted["exists"], deleted["moved"], deleted["power_state"], deleted["found_by"]) == (False, False, None, None)
    assert deleted["name"] == "web01" and deleted["resource_group"] == "rg-recovery-web"
    assert items["db01"]["failback_stage"] == "migration_completed"
    assert items["db01"]["allowed_operations"] == []
    assert "failback is impossible" in items["db01"]["next_step"]
    assert result["summary"] == {"running_in_azure": 3, "migration_completed": 1}
    # protection disabled: the vault no longer lists the item
    rc, refused = run_module("replicated_item_info", {"vms": ["app01", "web03"]}, env=env)
    assert rc == 1
    assert "web03" in refused["msg"] and "disabled" in refused["msg"]
    assert "app01" not in refused["msg"]


def test_unknown_vm_item_and_plan_fail_naming_them(full_lab):
    lab = full_lab("default.yml")
    env = lab.env()
    rc, result = run_module("replicated_item_info", {"vms": ["ghost01"], "items": ["0000-none"]}, env=env)
    assert rc == 1
    assert "ghost01" in result["msg"] and "0000-none" in result["msg"]
    rc, result = run_module("replicated_item_info", {"recovery_plan": "rp-none"}, env=env)
    assert rc == 1
    assert "rp-none" in result["msg"] and "rp-app" in result["msg"]
    rc, result = run_module("replicated_item_info", {}, env=env)
    assert rc == 1
    assert "one of the following is required" in result["msg"]


def test_check_mode_gives_the_same_answer(full_lab):
    lab = full_lab("default.yml")
    args = {"vms": ["app01", "db01"], "recovery_plan": "rp-app"}
    rc, normal = run_module("replicated_item_info", args, env=lab.env())
    rc2, check = run_module("replicated_item_info", args, env=lab.env(), check=True)
    assert rc == rc2 == 0
    for result in (normal, check):
        result.pop("duration_seconds")
    assert check == normal


def test_api_calls_are_the_lists_plus_one_get_per_vm(full_lab):
    lab = full_lab("default.yml")
    env = lab.env()
    rc, two = run_module("replicated_item_info", {"vms": ["app01", "db01"], "recovery_points": False}, env=env)
    rc2, seven = run_module("replicated_item_info", {"vms": ALL, "recovery_points": False}, env=env)
    assert rc == rc2 == 0
    # the vault's item list and the subscription's VM list, then one GET per item (the list is sparse:
    # tests/recorded/asr fact 2)
    assert (two["api_calls"], seven["api_calls"]) == (2 + 2, 2 + 7)
    # recovery points are listed per item: that is the API
    rc, two_points = run_module("replicated_item_info", {"vms": ["app01", "db01"]}, env=env)
    rc2, seven_points = run_module("replicated_item_info", {"vms": ALL}, env=env)
    assert two_points["api_calls"] == 2 + 2 * 2 and seven_points["api_calls"] == 2 + 2 * 7
