# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight checks each VM with the names the reprotect will use (its placements over the run's names), by the
reprotect's own rules, and reports every name that does not hold: the four inputs of the new-user try of issue 13
that the preflight passed and the reprotect refused, and more of their kind."""

import copy

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import (  # pylint: disable=unused-import
    placement,
    readiness,
    readiness_modern,  # noqa: F401  (registers the modernized rules)
)
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.domain import test_readiness as base

RUN_WIDE = dict.fromkeys(("master_target", "process_server", "datastore", "retention_volume", "run_as_account",
                          "appliance", "log_storage_account_id"))
PS = {"name": "cs01", "id": "PS-1", "fabric_name": "fab", "health": "Normal", "service_status": "Running"}


def placed(entry, run_wide=None, **mine):
    """Give a VM entry the names the reprotect uses for it, as readiness_context does."""
    names = dict(RUN_WIDE, **(run_wide or {}), placements={entry["name"]: mine})
    entry["placement"] = placement.names_for(names, entry["name"])
    entry["appliance"] = entry["placement"]["appliance"]
    if entry["placement"]["master_target"]:
        entry["master_target"], entry["master_target_source"] = entry["placement"]["master_target"], "given"
    return entry


def site(**changes):
    ctx = base.site()
    ctx.update(process_servers=[dict(PS)], run_as_accounts=[{"name": "vcenter-discovery", "id": "1", "fabric_name": "fab"}],
               **changes)
    return ctx


def blockers(result, vm):
    return [(f["rule"], f["message"]) for f in result["findings"] if f["vm"] == vm and f["severity"] == readiness.BLOCKER]


def test_names_for_a_vm_are_its_placements_over_the_run_wide_ones():
    names = dict(RUN_WIDE, datastore="vmfs-01", process_server="cs01",
                 placements={"web02": {"datastore": "vmfs-02", "process_server": None}})
    assert placement.names_for(names, "web02") == dict(RUN_WIDE, datastore="vmfs-02", process_server="cs01")
    assert placement.names_for(names, "app01") == dict(RUN_WIDE, datastore="vmfs-01", process_server="cs01")


# ---------------------------------------------------------------------- case 1: three names that do not exist
def alternate_web02(**names):
    """An alternate-location run of web02 (no on-premises VM yet) with the placement ``names``."""
    ctx = site(location="alternate")
    web02 = placed(base.vm_entry("web02", mt=None, os_type="Linux"), **names)
    web02["onprem"] = None
    ctx["vms"] = [web02]
    return ctx


def test_every_bad_name_of_a_placement_is_reported_not_only_the_first():
    ctx = alternate_web02(master_target="mt-nope", datastore="vmfs-99", retention_volume="Z:")
    found = blockers(readiness.evaluate(ctx), "web02")
    assert found == [
        ("master_target_available", "Master target mt-nope is not registered with the configuration server (registered: "
                                    "mt-lin01, mt-win01)."),
        ("mt_retention_volume", "Retention volume Z: of web02 cannot be used: its master target mt-nope is not "
                                "registered (the registered master targets' retention volumes - mt-lin01: /mnt/retention; "
                                "mt-win01: R:)."),
        ("alternate_datastore", "Datastore vmfs-99 does not exist in vSphere server vcenter01.lab."),
    ]


def test_a_named_retention_volume_and_datastore_of_a_registered_master_target():
    ctx = alternate_web02(master_target="mt-lin01", datastore="vmfs-01", retention_volume="Z:")
    web02, = ctx["vms"]
    found = dict(blockers(readiness.evaluate(ctx), "web02"))
    assert found["mt_retention_volume"] == "Master target mt-lin01 has no retention volume Z: (it has: /mnt/retention)."
    assert "alternate_datastore" not in found  # esx02 mounts vmfs-01
    web02["placement"]["retention_volume"] = "/mnt/retention"
    assert blockers(readiness.evaluate(ctx), "web02") == []
    # the run-wide datastore is what a VM without its own gets: nfs-01 is refused by its type
    ctx["datastore"] = "nfs-01"
    web02["placement"] = placement.names_for(dict(RUN_WIDE, datastore="nfs-01"), "web02")
    web02["master_target"] = "mt-lin01"
    assert [r for r, _m in blockers(readiness.evaluate(ctx), "web02")] == ["alternate_datastore"]


def test_a_named_retention_volume_must_be_usable():
    ctx = site()
    ctx["master_targets"]["mt-win01"]["asr"]["retention_volumes"].append(
        {"name": "S:", "capacity_gb": 500, "free_gb": 10, "threshold_percentage": 80})
    ctx["vms"] = [placed(base.vm_entry("app01"), retention_volume="S:")]
    assert blockers(readiness.evaluate(ctx), "app01") == [
        ("mt_retention_volume", "Master target mt-win01's retention volume is not usable: S: (10 of 500 GB free, the "
                                "threshold is 80% used).")]


# ---------------------------------------------------------------------- case 2: a Linux VM on a Windows master target
def test_a_linux_vm_placed_on_a_windows_master_target_is_refused_in_the_reprotects_sentence():
    ctx = site()
    web01 = placed(base.vm_entry("web01", mt="mt-lin01", os_type="Linux"), master_target="mt-win01")
    ctx["vms"] = [web01]
    result = readiness.evaluate(ctx)
    assert blockers(result, "web01") == [("mt_os", "VM web01 runs Linux but master target mt-win01 runs Windows.")]
    assert result["verdicts"][0]["master_target"] == "mt-win01"


# ---------------------------------------------------------------------- case 3: part of a replication group
def grouped_site(plans):
    ctx = site()
    ids = {}
    ctx["vms"] = []
    for name, group in (("app02", "rg-app"), ("db01", "rg-app"), ("web03", None)):
        entry = placed(base.vm_entry(name, group=group))
        entry["item"]["id"] = "/items/" + name.upper()
        ids[name] = entry["item"]["id"].lower()
        ctx["vms"].append(entry)
    ids.update(app01="/items/app01", web01="/items/web01")
    ctx["plans"] = {plan: {ids[m] for m in members} for plan, members in plans.items()}
    ctx["item_names"] = {ids[name]: name for name in ids}
    return ctx


def test_vms_of_a_replication_group_named_without_their_plan_are_refused():
    ctx = grouped_site({"rp-app": ["db01", "app02", "app01", "web01"]})
    result = readiness.evaluate(ctx)
    for vm in ("app02", "db01"):
        assert blockers(result, vm) == [("replication_group_plan", "VM %s is in replication group rg-app, whose VMs fail "
                                         "over together through a recovery plan (ASR refuses them one by one): give "
                                         "recovery_plan: rp-app (it also fails over app01, web01)." % vm)]
    assert blockers(result, "web03") == []
    assert [v["ready"] for v in result["verdicts"]] == [False, False, True]


def test_a_plan_holding_exactly_the_group_or_a_run_of_the_plan_passes():
    assert blockers(readiness.evaluate(grouped_site({"rp-grp": ["app02", "db01"]})), "app02") == []
    ctx = grouped_site({"rp-app": ["db01", "app02", "app01", "web01"]})
    ctx["plan"] = "rp-app"
    assert blockers(readiness.evaluate(ctx), "app02") == []
    nowhere = readiness.evaluate(grouped_site({}))
    assert blockers(nowhere, "db01")[0][1].endswith("no recovery plan holds it; create one.")


# ---------------------------------------------------------------------- case 4: modernized without a log storage account
def modernized(entry_names=None, run_wide=None):
    vm = {"name": "app01", "missing": None, "master_target": None, "azure_vm": {"name": "app01", "exists": True},
          "item": {"name": "app01", "provider": "InMageRcm", "disk_count": 2, "failback_stage": "running_in_azure"}}
    placed(vm, run_wide=run_wide, **(entry_names or {}))
    return {"location": "original", "vms": [vm], "vsphere": {"connected": False}, "heartbeat_max_age_seconds": 900,
            "appliances": [{"name": "appl01", "id": "A1", "health": "Normal", "heartbeat_age_seconds": 60,
                            "accessible_datastores": ["vmfs-01"]}]}


def test_a_modernized_run_needs_a_log_storage_account_and_a_datastore():
    found = blockers(readiness.evaluate(modernized(run_wide={"datastore": "vmfs-01"})), "app01")
    assert found == [("log_storage_account", "VM app01: the modernized reprotect caches changes in an Azure storage "
                                             "account, and no log_storage_account_id was given.")]
    both = [r for r, _m in blockers(readiness.evaluate(modernized()), "app01")]
    assert both == ["appliance_datastore", "log_storage_account"]
    for names in ({"run_wide": {"datastore": "vmfs-01", "log_storage_account_id": "/sa/log"}},
                  {"run_wide": {"datastore": "vmfs-01"}, "entry_names": {"log_storage_account_id": "/sa/log"}}):
        assert blockers(readiness.evaluate(modernized(**names)), "app01") == []


@pytest.mark.parametrize(("appliance", "rule", "text"), [
    ("appl09", "appliance_available", "Replication appliance appl09 is not registered in the vault (appliances: appl01)."),
    ("APPL01", None, None),  # by name in any case, as the reprotect finds it
])
def test_a_named_appliance_as_the_reprotect_finds_it(appliance, rule, text):
    ctx = modernized(entry_names={"appliance": appliance},
                     run_wide={"datastore": "vmfs-01", "log_storage_account_id": "/sa/log"})
    assert blockers(readiness.evaluate(ctx), "app01") == ([(rule, text)] if rule else [])


def test_a_named_appliance_that_does_not_reach_the_vms_datastore():
    ctx = modernized(entry_names={"appliance": "appl01", "datastore": "vmfs-02"}, run_wide={"log_storage_account_id": "/s"})
    [(rule, message)] = blockers(readiness.evaluate(ctx), "app01")
    assert rule == "appliance_datastore" and message.startswith(
        "VM app01: datastore vmfs-02 is not mounted on the ESXi host of replication appliance appl01 (ASR error 8061")


# ---------------------------------------------------------------------- process server, run-as account
def test_process_server_named_unknown_or_none_healthy():
    ctx = site()
    ctx["vms"] = [placed(base.vm_entry("app01"), process_server="ps-nope")]
    assert blockers(readiness.evaluate(ctx), "app01") == [
        ("process_server", "VM app01: Process server ps-nope is not registered (registered: cs01).")]
    ctx["vms"] = [placed(base.vm_entry("app01"))]
    ctx["process_servers"][0]["service_status"] = "Stopped"
    [(rule, message)] = blockers(readiness.evaluate(ctx), "app01")
    assert (rule, message) == ("process_server", "VM app01: Name the process server to use (process_server): none of its "
                                                 "process servers is healthy (cs01: service Stopped).")
    remedy = next(f["remedy"] for f in readiness.evaluate(ctx)["findings"] if f["rule"] == "process_server")
    assert remedy  # the rule's own sentence names the fix; the finding still has one


def test_run_as_account_named_unknown():
    ctx = site()
    ctx["vms"] = [placed(base.vm_entry("app01"), run_as_account="nope")]
    assert blockers(readiness.evaluate(ctx), "app01") == [
        ("run_as_account", "Run-as account nope is not known to the configuration server (accounts: vcenter-discovery).")]
    ctx["vms"] = [placed(base.vm_entry("app01"), run_as_account="VCENTER-discovery")]
    assert blockers(readiness.evaluate(ctx), "app01") == []


def test_good_names_leave_the_site_ready_and_the_context_unchanged():
    ctx = site()
    ctx["vms"] = [placed(base.vm_entry("app01"), master_target="mt-win01", process_server="cs01", retention_volume="R:",
                         run_as_account="1"),
                  placed(base.vm_entry("web01", mt="mt-lin01", os_type="Linux"))]
    ctx["vms"][1]["onprem"].update(os_family="linux", host=ctx["hosts"]["esx02"])
    before = copy.deepcopy(ctx)
    result = readiness.evaluate(ctx)
    assert [f for f in result["findings"] if f["severity"] == readiness.BLOCKER] == []
    assert ctx == before
