# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commit the failback: ASR deletes the Azure VM. Only after the commit gate
(``domain.commit_gate``) holds for every VM - every protected disk attached to the on-premises VM,
the VM powered on with VMware Tools running (or the chosen verification), the health probes
answering; ``force`` overrides the Tools rule only, and says so. Then Compute is asked whether the
Azure VM is really gone and which of its disks and NICs remain."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import operations
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate, lifecycle, remedies

STEP = lifecycle.step("commit")  # the stages it starts from, is done at, and why it refuses the others
RULE_STAGE = "stage_failed_back"


def protected_disks(model):
    """ASR's protected disks of an item's GET as ``[{id, name, capacity_bytes, uuid}]``.

    Where the service puts them (tests/recorded/asr): InMage ``protectedDisks[]`` - ``diskId`` (a braced GUID),
    ``diskName`` (``Disk0``...), ``diskCapacityInBytes``, no UUID and no file (item_get.InMage.*);
    InMageRcmFailback ``protectedDisks[]`` - ``diskId``, ``diskName`` (the guest's device, PHYSICALDRIVE0), ``capacityInBytes``
    and ``diskUuid``, the VMDK's vSphere ``backing.uuid`` (``6000C29b-...``, item_get.InMageRcmFailback.*).
    A list leaves them empty (fact 2): read with a GET."""
    details = getattr(getattr(model, "properties", None), "provider_specific_details", None)
    result = []
    for disk in getattr(details, "protected_disks", None) or []:
        capacity = getattr(disk, "disk_capacity_in_bytes", None) or getattr(disk, "capacity_in_bytes", None)
        result.append({"id": getattr(disk, "disk_id", None), "name": getattr(disk, "disk_name", None),
                       "capacity_bytes": capacity, "uuid": getattr(disk, "disk_uuid", None) or None})
    return result


def onprem_name(model, item):
    """The on-premises VM's name: InMageRcmFailback's ``targetVmName``, else the item's friendly name."""
    details = getattr(getattr(model, "properties", None), "provider_specific_details", None)
    if plain(getattr(details, "instance_type", None)) == "InMageRcmFailback":
        return getattr(details, "target_vm_name", None) or item["name"]
    return item["name"]


def gate(candidates, read_onprem, run_probes, probes=(), verification="tools", force=False):
    """The commit gate of every failed-back VM: ``{item name: commit_gate.decide(...)}``.

    ``candidates``: ``[(item GET model, normalized item)]``; ``read_onprem()`` -> ``vsphere.verify.OnPremVms`` (one
    vCenter read for all); ``run_probes(probes)`` -> ``[{label, vm, ok, fact}]``. Probes run only for VMs that pass
    every other rule, each probe once."""
    if not candidates:
        return {}
    vms = read_onprem()
    staged = []
    for model, item in candidates:
        # a modernized item names its VM's instance UUID (items.recorded_instance_uuid); a classic one records none
        facts = vms.facts(onprem_name(model, item), (item.get("onprem") or {}).get("instance_uuid"))
        disks = protected_disks(model)
        staged.append((item, disks, facts, commit_gate.decide(item["name"], disks, facts, verification, force)))
    wanted = []
    for item, _disks, _facts, first in staged:
        if commit_gate.ready_for_probes(first):
            wanted += [p for p in commit_gate.probes_of(item["name"], probes) if p not in wanted]
    answers = dict(zip([id(p) for p in wanted], run_probes(wanted) if wanted else [], strict=True))
    decisions = {}
    for item, disks, facts, first in staged:
        if not commit_gate.ready_for_probes(first):
            decisions[item["item_name"]] = first
            continue
        mine = [answers[id(p)] for p in wanted if p in commit_gate.probes_of(item["name"], probes)]
        decisions[item["item_name"]] = commit_gate.decide(item["name"], disks, facts, verification, force, probes=mine)
    return decisions


def plan(selected, decisions):
    """``(acting, results, forced, refusals)`` from the items and their gate decisions."""
    acting, results, refusals, forced = [], [], [], []
    for model, item in selected:
        stage = item["failback_stage"]
        decision = decisions.get(item["item_name"])
        result = {"name": item["name"], "item_name": item["item_name"], "stage_before": stage, "changed": False,
                  "action": "none", "onprem_power_state": decision["power_state"] if decision else "not checked",
                  "forced": False, "job": None, "refusals": []}
        results.append(result)
        action, _why = STEP.decide(stage)
        if action == lifecycle.SKIP:
            result["action"] = "already_done"
            continue
        if action == lifecycle.REFUSE:
            message = STEP.refusal(item["name"], stage)
            result["refusals"].append({"rule": RULE_STAGE, "message": message})
            refusals.append(message)
            continue
        if decision is None:
            decision = commit_gate.decide(item["name"], protected_disks(model), None)
        result.update(tools_running_status=decision["tools_running_status"], disks=decision["disks"],
                      probes=decision["probes"], refusals=list(decision["refusals"]))
        if decision["refusals"] or not decision["commit"]:
            refusals.extend(r["message"] for r in decision["refusals"])
            continue
        if decision["forced"]:
            result["forced"] = True
            forced.append(item["name"])
        result.update(action="commit", changed=True)
        acting.append((model, item))
    return acting, results, forced, refusals


def ensure(session, vault, selection, gate_of, check_mode, deadline, poll=15.0, azure_vms=None, check_selected=None):
    """Commit every selected VM the gate lets through, or none: any refusal raises before the first change.

    ``gate_of(candidates) -> {item name: decision}`` (see :func:`gate`) reads vCenter once for all failed-back
    VMs; ``check_selected(vm names) -> [problem messages]`` checks the options against the VMs selected (a probe's
    ``vm``) before anything else is read. In check mode nothing is started and a refusal is a prediction
    (``refused``), not a failure."""
    selected = asr_items.select(vault, **selection)
    problems = check_selected([item["name"] for _model, item in selected]) if check_selected else []
    if problems:
        raise AzureError("Refusing to commit the failback; nothing was changed: " + " ".join(problems),
                         refusals=problems, rule="options_valid")
    recorded = {item["item_name"]: azure_vms.find(item) for _model, item in selected} if azure_vms else {}
    decisions = gate_of([(model, item) for model, item in selected
                         if STEP.decide(item["failback_stage"])[0] == lifecycle.ACT])
    acting, results, forced, refusals = plan(selected, decisions)
    refused = [r["name"] for r in results if r["refusals"]]
    if refusals and not check_mode:
        raise AzureError("Refusing to commit the failback; nothing was changed (the Azure VMs are kept): "
                         + " ".join(refusals), refusals=refusals, vms=results, refused=refused)
    outcome = {"changed": bool(acting) and not refusals, "vms": results, "forced": forced, "refused": refused}
    if check_mode or not acting:
        if refusals:
            outcome["refusals"] = refusals
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
