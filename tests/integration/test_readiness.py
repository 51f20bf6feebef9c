# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""readiness on the whole lab: every rule tripped by its rule spec (rule id + VM), the default
site's VMs ready, the preflight playbook failing on a blocker and writing its reports."""

import glob
import json
import os
import pathlib
import subprocess
import sys

import pytest
from conftest import COLLECTIONS, ROOT, run_module

ORIGINAL = ["app01", "app02", "db01", "web01", "web03"]
# app02 and db01 are replication group rg-app, which fails over only through its recovery plan rp-app (with app01
# and web01): named without it they are refused (rule replication_group_plan), as the reprotect refuses them
UNGROUPED = ["app01", "web01", "web03"]
NO_POINTS_YET = {"timings": {"initial_replication_seconds": 3600, "recovery_point_seconds": 3600}}


def check(lab, env=None, **args):
    rc, result = run_module("readiness", args, env=dict(lab.env(), **(env or {})))
    assert rc == 0, result
    assert result["changed"] is False
    return result


def tripped(result, rule_id, severity="blocker"):
    """The VMs (None for site-wide) with a finding of that rule and severity."""
    return sorted((f["vm"] for f in result["findings"] if f["rule"] == rule_id and f["severity"] == severity),
                  key=str)


def blockers(result):
    return sorted({f["rule"] for f in result["findings"] if f["severity"] == "blocker"})


def test_default_site_is_ready(full_lab):
    lab = full_lab("default.yml")
    result = check(lab, vms=UNGROUPED, location="original")
    assert blockers(result) == [], result["findings"]
    assert {f["rule"] for f in result["findings"]} == {"recovery_point"}  # before reprotect: a warning, no more
    assert [v["vm"] for v in result["verdicts"]] == UNGROUPED and all(v["ready"] for v in result["verdicts"])
    assert result["summary"]["ready"] == 3 and result["summary"]["blockers"] == 0
    assert {vm: p["master_target"] for vm, p in result["placement"].items()} == {
        "app01": "mt-win01", "web01": "mt-lin01", "web03": "mt-lin01"}
    # fabrics, vCenters, items, Azure VMs, then one GET per VM (the item list is sparse: tests/recorded/asr fact 2);
    # no recovery-point list before reprotect; six property reads of the inventory and one of the networks
    assert (result["api_calls"], result["property_reads"]) == (4 + len(UNGROUPED), 7)

    grouped = check(lab, vms=ORIGINAL, location="original")
    assert blockers(grouped) == ["replication_group_plan"] and tripped(grouped, "replication_group_plan") == ["app02", "db01"]
    assert {vm: p["master_target"] for vm, p in grouped["placement"].items()} == {
        "app01": "mt-win01", "app02": "mt-win01", "db01": "mt-win01", "web01": "mt-lin01", "web03": "mt-lin01"}
    assert grouped["api_calls"] == 5 + len(ORIGINAL)  # and the plan list, once

    alternate = check(lab, vms=["web02", "fs01"], location="alternate", datastore="vmfs-01")
    assert blockers(alternate) == [] and all(v["ready"] for v in alternate["verdicts"])

    plan = check(lab, recovery_plan="rp-app", location="original")
    assert [v["vm"] for v in plan["verdicts"]] == ["db01", "app02", "app01", "web01"]
    assert blockers(plan) == [] and plan["api_calls"] == 5 + 4
    assert "recovery plan rp-app" in plan["findings"][0]["message"]

    rc, checked = run_module("readiness", {"vms": UNGROUPED, "location": "original"}, env=lab.env(), check=True)
    assert rc == 0 and checked["verdicts"] == result["verdicts"]


def test_rules_tripped_by_parameters_on_the_default_site(full_lab):
    lab = full_lab("default.yml")
    result = check(lab, vms=["fs01", "web02"], location="original")
    assert tripped(result, "physical_alternate_only") == ["fs01"]
    assert tripped(result, "original_vm_present") == ["web02"]
    result = check(lab, vms=["web02"], location="alternate", datastore="nfs-01")
    assert tripped(result, "alternate_datastore") == ["web02"]
    refused = [f["message"] for f in result["findings"] if f["rule"] == "alternate_datastore"]
    assert len(refused) == 1 and "nfs-01" in refused[0] and "NFS" in refused[0], refused
    result = check(lab, vms=["app01"], location="original", master_target="mt-lin01")
    assert tripped(result, "mt_os") == ["app01"]
    result = check(lab, vms=["app01"], location="original", master_target="mt-nope")
    assert tripped(result, "master_target_available") == ["app01"]
    result = check(lab, vms=["app01"], location="original", password="wrong")
    assert tripped(result, "vsphere_connected") == [None]
    assert result["property_reads"] == 0 and result["verdicts"][0]["ready"] is False
    result = check(lab, vms=["app01"], location="original", heartbeat_max_age_seconds=0)
    assert tripped(result, "cs_heartbeat") == [None]


def test_configuration_server(full_lab):
    result = check(full_lab("cs-unhealthy.yml"), vms=ORIGINAL, location="original")
    assert tripped(result, "cs_running") == [None]
    assert tripped(result, "cs_heartbeat") == [None]
    assert tripped(result, "vm_in_cs_database") == ["db01"]
    assert not any(v["ready"] for v in result["verdicts"])


def test_vcenter_and_hosts(full_lab):
    result = check(full_lab("vcenter-disconnected.yml"), vms=ORIGINAL, location="original")
    assert tripped(result, "vcenter_connected") == [None]
    assert tripped(result, "esx_host_connected") == ["web01", "web03"]
    assert "esx03.lab" in next(f["message"] for f in result["findings"] if f["rule"] == "esx_host_connected")


def test_failback_impossible(full_lab):
    lab = full_lab("failback-impossible.yml")
    result = check(lab, vms=["app01", "web01", "web03", "db01"], location="original")
    assert tripped(result, "azure_vm_present") == ["app01", "web01"]
    messages = {f["vm"]: f["message"] for f in result["findings"] if f["rule"] == "azure_vm_present"}
    assert "rg-moved" in messages["app01"] and "deleted" in messages["web01"]
    assert tripped(result, "protection_enabled") == ["web03"]
    assert tripped(result, "migration_not_completed") == ["db01"]
    result = check(lab, vms=["fs01"], location="alternate", datastore="vmfs-01")
    assert tripped(result, "physical_os_supported") == ["fs01"]


def test_original_location_unsupported(full_lab):
    result = check(full_lab("original-unsupported.yml"), vms=["app01", "web03", "db01"], location="original")
    assert tripped(result, "original_disk_types") == ["app01", "web03"]
    # db01 runs on-premises and was never failed over: nothing to fail back, a warning (every step skips it)
    assert tripped(result, "failback_stage") == []
    assert tripped(result, "failback_stage", "warning") == ["db01"]


def test_master_target_snapshots(full_lab):
    result = check(full_lab("mt-snapshots.yml"), vms=["app01", "web01"], location="original")
    assert tripped(result, "mt_snapshots") == ["app01"]


def test_master_target_misconfigured(full_lab):
    result = check(full_lab("mt-misconfigured.yml"), vms=["app01", "web01"], location="original")
    for rule_id in ("mt_controller", "mt_enable_uuid", "mt_tools", "mt_version"):
        assert tripped(result, rule_id) == ["app01"], rule_id
    assert [v["ready"] for v in result["verdicts"]] == [False, True]


def test_master_target_disk_limit(full_lab):
    lab = full_lab("mt-full.yml")
    result = check(lab, vms=["app01"], location="original", master_target="mt-win01")
    assert blockers(result) == []  # 58 + 2 = 60 fits
    result = check(lab, vms=["db01"], location="original", master_target="mt-win01")
    assert tripped(result, "mt_disk_limit") == ["db01"]  # 58 + 3 = 61
    result = check(lab, vms=["db01"], location="original")
    assert tripped(result, "master_target_available") == ["db01"]  # automatic placement finds no room


def test_retention_volumes(full_lab):
    result = check(full_lab("retention-unusable.yml"), vms=["app01", "web01"], location="original")
    assert tripped(result, "mt_retention_volume") == ["app01", "web01"]
    messages = {f["vm"]: f["message"] for f in result["findings"] if f["rule"] == "mt_retention_volume"}
    assert "FAT32" in messages["app01"] and "10 of 500 GB free" in messages["web01"]


def test_replication_group_mixes_os(full_lab):
    result = check(full_lab("group-mixed-os.yml"), recovery_plan="rp-app", location="original")
    assert tripped(result, "replication_group") == ["app02", "db01", "web01"]
    assert tripped(result, "master_target_available") == []


def test_datastore_unreachable(full_lab):
    lab = full_lab("datastore-unreachable.yml")
    result = check(lab, vms=["app02"], location="original", master_target="mt-win01")
    assert tripped(result, "datastore_reachable") == ["app02"]
    result = check(lab, vms=["app02"], location="original")
    assert tripped(result, "master_target_available") == ["app02"]


def test_name_clash(full_lab):
    result = check(full_lab("name-clash.yml"), vms=["web02"], location="alternate", datastore="vmfs-01")
    assert tripped(result, "name_clash") == ["web02"]


def test_host_memory(full_lab):
    result = check(full_lab("memory-short.yml"), vms=["app01", "db01"], location="original")
    assert tripped(result, "host_memory") == ["app01", "db01"]
    remedy = next(f["remedy"] for f in result["findings"] if f["rule"] == "host_memory" and f["vm"] == "app01")
    assert "esx02.lab" in remedy


def test_recovery_points(full_lab):
    lab = full_lab("replicating.yml", NO_POINTS_YET)
    result = check(lab, vms=["app01", "web01"], location="original")
    assert tripped(result, "recovery_point") == ["web01"]
    assert tripped(result, "recovery_point", "warning") == []
    result = check(lab, vms=["app01"], location="original", recovery_point="latest_app_consistent",
                   app_consistent_max_age_minutes=10)
    assert tripped(result, "app_consistent_point_age") == ["app01"]
    result = check(lab, vms=["app01"], location="original", recovery_point="latest_app_consistent",
                   app_consistent_max_age_minutes=60)
    assert blockers(result) == []


def test_standalone_host(full_lab):
    def esx_env(lab):
        env = lab.env()
        return {"VMWARE_" + k[len("LAB_ESX_ESX_EDGE01_"):]: v for k, v in env.items() if k.startswith("LAB_ESX_ESX_EDGE01_")}

    lab = full_lab("standalone-host.yml")
    result = check(lab, env=esx_env(lab), vms=["edge01", "app01"], location="original")
    assert tripped(result, "standalone_host_discovered") == []
    assert tripped(result, "original_infrastructure") == ["app01"]  # the ESXi host is not app01's vCenter
    lab = full_lab("standalone-undiscovered.yml")
    result = check(lab, env=esx_env(lab), vms=["edge01"], location="original")
    assert tripped(result, "standalone_host_discovered") == ["edge01"]


@pytest.mark.parametrize(("spec", "fails"), [("default.yml", False), ("mt-snapshots.yml", True)])
def test_preflight_playbook(full_lab, tmp_path, spec, fails):
    lab = full_lab(spec)
    reports = tmp_path / "reports"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", **lab.env())
    # the recovery plan: its replication group rg-app (app02, db01) fails back only through it (rp-app: db01, app02,
    # app01, web01; web01 on the Linux master target)
    extra = {"preflight_recovery_plan": "rp-app", "preflight_location": "original",
             "preflight_report_dir": str(reports)}
    proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           os.path.join(ROOT, "playbooks", "preflight.yml"), "-e", json.dumps(extra)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert (proc.returncode != 0) is fails, proc.stdout + proc.stderr
    # named after the run (issue 16): the preflight playbook alone names it run-<UTC time>-<random>
    [found] = glob.glob(str(reports / "preflight-run-*.json"))
    data = json.loads(pathlib.Path(found).read_text())
    markdown = pathlib.Path(found[:-len(".json")] + ".md").read_text()
    assert {"findings", "verdicts", "summary"} <= set(data)
    assert "| VM |" in markdown
    if fails:
        assert "mt_snapshots" in proc.stdout and "mt-win01" in proc.stdout
        assert "mt_snapshots" in markdown
        assert {f["vm"] for f in data["findings"] if f["rule"] == "mt_snapshots"} == {"app01", "app02", "db01"}
    else:
        assert data["summary"]["blockers"] == 0
