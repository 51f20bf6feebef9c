# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commit the failback: ASR deletes the Azure VM. Only after the on-premises VM is verified
running in vCenter (``force`` overrides, and says so); then Compute is asked whether the Azure
VM is really gone and which of its disks and NICs remain."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import operations
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import remedies

DONE = ("failback_committed", "reprotected_to_azure")
WHY = {
    "replicating_to_onprem": "it has not failed over to on-premises yet",
    "failover_failed": "its failover to on-premises failed; retry the failover",
    "running_in_azure": "it was not failed back yet",
    "reprotecting_to_onprem": "its reprotect is still running",
    "job_running": "a job is running on it; wait for it and re-run",
}


def verify_onprem(inventory, names):
    """``{vm name: (ok, fact)}``: each on-premises VM exists and is powered on in vCenter."""
    result = {}
    for name in names:
        row = inventory.vm_by_name(name)
        if row is None:
            result[name] = (False, "not found in vCenter")
        else:
            state = str(row.get("runtime.powerState"))
            result[name] = (state == "poweredOn", state)
    return result


def plan(selected, onprem, force):
    acting, results, refusals, forced = [], [], [], []
    for model, item in selected:
        stage = item["failback_stage"]
        ok, fact = onprem.get(item["name"], (False, "not checked"))
        result = {"name": item["name"], "item_name": item["item_name"], "stage_before": stage, "changed": False,
                  "action": "none", "onprem_power_state": fact, "forced": False, "job": None}
        results.append(result)
        if stage in DONE:
            result["action"] = "already_done"
            continue
        if stage != "failed_back":
            refusals.append("VM %s is at stage %s: %s." % (item["name"], stage, WHY.get(stage, "there is nothing to commit")))
            continue
        if not ok:
            if not force:
                refusals.append("VM %s is %s on-premises; the commit deletes its Azure VM, so it runs only when the "
                                "on-premises VM is verified powered on. Start it and re-run (or force: true, at the "
                                "risk of losing the only running copy)." % (item["name"], fact))
                continue
            result["forced"] = True
            forced.append(item["name"])
        result.update(action="commit", changed=True)
        acting.append((model, item))
    if refusals:
        raise AzureError("Refusing to commit the failback; nothing was changed: " + " ".join(refusals),
                         refusals=refusals, vms=results)
    return acting, results, forced


def ensure(session, vault, selection, onprem_check, force, check_mode, deadline, poll=15.0, azure_vms=None):
    """``onprem_check(names) -> {name: (ok, fact)}`` reads vCenter once for all VMs."""
    selected = asr_items.select(vault, **selection)
    recorded = {item["item_name"]: azure_vms.find(item) for _model, item in selected} if azure_vms else {}
    onprem = onprem_check([item["name"] for _model, item in selected if item["failback_stage"] == "failed_back"])
    acting, results, forced = plan(selected, onprem, force)
    outcome = {"changed": bool(acting), "vms": results, "forced": forced}
    if check_mode or not acting:
        return outcome
    started = {item["item_name"]: operations.item_action(vault, "failover_commit", model) for model, item in acting}
    summaries = operations.wait(vault, started.values(), deadline, poll=poll)
    vault.forget("items")
    after = {item["item_name"]: item for _model, item in asr_items.select(
        vault, item_names=[r["item_name"] for r in results])}
    if azure_vms is not None:
        azure_vms.forget()
    for result in results:
        result["stage_after"] = after[result["item_name"]]["failback_stage"]
        if result["action"] != "commit":
            continue
        result["job"] = operations.job_result(summaries.get(started[result["item_name"]]))
        vm = recorded.get(result["item_name"])
        if azure_vms is not None:
            still = azure_vms.find(after[result["item_name"]])
            result["azure_vm_deleted"] = not (still and still.get("exists"))
            result["leftovers"] = azure_vms.leftovers(vm) if vm else {"disks": [], "nics": []}
    failed = [r for r in results if r["job"] and r["job"]["state"] != "Succeeded"]
    if failed:
        raise AzureError("Commit failed for %s. %s" % (
            ", ".join(r["name"] for r in failed),
            " ".join("%s: %s" % (r["name"], remedies.summary(r["job"]["errors"]) or r["job"]["state"]) for r in failed)),
            vms=results, failed=[r["name"] for r in failed])
    return outcome
