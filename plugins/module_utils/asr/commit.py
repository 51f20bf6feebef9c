# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commit the failback: ASR deletes the Azure VM. Only after the commit gate
(``domain.commit_gate``) holds for every VM - every protected disk attached to the on-premises VM,
the VM powered on with VMware Tools running (or the chosen verification), the health probes
answering, a connected network adapter; ``force`` overrides the Tools and network rules only, and
says so. Then Compute is asked whether the Azure VM is really gone and which of its disks and NICs
remain."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import operations, runner
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate, lifecycle

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


def gate(candidates, read_onprem, run_probes, probes=(), verification="tools", force=False, disk_files=None):
    """The commit gate of every failed-back VM: ``{item name: commit_gate.decide(...)}``.

    ``candidates``: ``[(item GET model, normalized item)]``; ``read_onprem()`` -> ``vsphere.verify.OnPremVms`` (one
    vCenter read for all); ``run_probes(probes)`` -> ``[{label, vm, ok, fact}]``. Probes run only for VMs that pass
    every other rule, each probe once. ``disk_files``: ``{VM name: [VMDK file]}``, the operator's record of a
    classic VM's disks where the VM carries no failback manifest (option ``protected_disk_files``)."""
    if not candidates:
        return {}
    vms = read_onprem()
    staged = []
    for model, item in candidates:
        # a modernized item names its VM's instance UUID (items.recorded_instance_uuid); a classic one records none
        name = onprem_name(model, item)
        given = (disk_files or {}).get(item["name"], (disk_files or {}).get(name))
        facts = vms.facts(name, (item.get("onprem") or {}).get("instance_uuid"), given)
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


WORDS = runner.Words("commit the failback", "Commit", "commit")


def plan(selected, decisions, assumed=None):
    """``(acting, results, forced, refusals)`` from the items and their gate decisions (``runner.decide``).

    ``assumed``: check mode only, ``{VM name: stage}`` an earlier step of the run predicted; such a VM is not
    failed back yet, so its gate is left to the real run (its result says ``assumed``)."""
    forced = []

    def check(model, item, result):
        if result["assumed"]:
            return None
        decision = decisions.get(item["item_name"])
        if decision is None:
            decision = commit_gate.decide(item["name"], protected_disks(model), None)
        result.update(onprem_power_state=decision["power_state"], tools_running_status=decision["tools_running_status"],
                      disks=decision["disks"], probes=decision["probes"], refusals=list(decision["refusals"]))
        if decision["refusals"] or not decision["commit"]:
            return " ".join(r["message"] for r in decision["refusals"])
        if decision["forced"]:
            result["forced"] = True
            forced.append(item["name"])
        return None

    def stage_refusal(result, message):
        result["refusals"].append({"rule": RULE_STAGE, "message": message})

    acting, results, refusals = runner.decide(STEP, WORDS, selected, check, extra={
        "onprem_power_state": "not checked", "forced": False, "refusals": []}, assumed=assumed, on_refuse=stage_refusal)
    return acting, results, forced, refusals


def ensure(session, vault, selection, gate_of, check_mode, deadline, poll=15.0, azure_vms=None, check_selected=None,
           assumed=None, per_vm=False):
    """Commit every selected VM the gate lets through, or none: any refusal raises before the first change.

    ``gate_of(candidates) -> {item name: decision}`` (see :func:`gate`) reads vCenter once for all failed-back
    VMs; ``check_selected(vm names) -> [problem messages]`` checks the options against the VMs selected (a probe's
    ``vm``) before anything else is read. In check mode nothing is started, and a refusal fails as
    it would in the real run (with ``predicted_stages``); ``assumed`` (check mode only) are the stages an earlier
    step predicted, whose gate is left to the real run.
    ``per_vm``: a VM the gate refuses (or whose job fails) stops alone with its replication group, the others are
    committed (``runner.PerVm``); over recovery plans (``selection["plan"]``, one or a list) a plan is one unit, stopped
    whole; the step still fails, naming each VM that stopped (and ``plans`` / ``plans_going``)."""
    selected = asr_items.select(vault, **selection)
    problems = check_selected([item["name"] for _model, item in selected]) if check_selected else []
    if problems:
        raise AzureError("Refusing to commit the failback; nothing was changed: " + " ".join(problems),
                         refusals=problems, rule="options_valid")
    recorded = {item["item_name"]: azure_vms.find(item) for _model, item in selected} if azure_vms else {}
    decisions = gate_of([(model, item) for model, item in selected
                         if STEP.decide(item["failback_stage"])[0] == lifecycle.ACT])
    assumed = assumed if check_mode else None
    per = runner.PerVm(WORDS, selected, per_vm, plan_of=asr_items.plan_units(vault, selection.get("plan")))

    def try_unit(unit):
        _acting, unit_results, _forced, unit_refusals = plan(unit, decisions, assumed=assumed)
        return unit_refusals, unit_results

    selected = per.sift(selected, try_unit)
    acting, results, forced, refusals = plan(selected, decisions, assumed=assumed)
    refused = [r["name"] for r in results if r["refusals"]]
    predicted = runner.predict(STEP, results) if check_mode else None
    if refusals:
        raise AzureError("Refusing to commit the failback; nothing was changed (the Azure VMs are kept): "
                         + " ".join(refusals), refusals=refusals, vms=results, refused=refused,
                         **({"predicted_stages": predicted} if check_mode else {}))
    outcome = {"changed": bool(acting), "vms": results, "forced": forced, "refused": refused}
    if check_mode:
        outcome["predicted_stages"] = predicted
    if check_mode or not acting:
        outcome["vms"] = per.conclude(results, predicted=predicted)
        return per.outcome(outcome)
    started = {item["item_name"]: operations.item_action(vault, "failover_commit", model) for model, item in acting}
    summaries = operations.wait(vault, started.values(), deadline, poll=poll)
    if azure_vms is not None:
        azure_vms.forget()
    disk_names = {item["item_name"]: (item.get("azure_vm") or {}).get("disk_names") or [] for _model, item in selected}

    def after(result, item):
        if result["action"] != "commit" or azure_vms is None:
            return
        vm = recorded.get(result["item_name"])
        still = azure_vms.find(item)
        result["azure_vm_deleted"] = not (still and still.get("exists"))
        # ASR's own names for the VM's disks (azureVMDiskDetails / targetManagedDiskId) count, not only name prefixes
        names = disk_names[result["item_name"]] + ([vm["os_disk"]] if vm and vm.get("os_disk") else [])
        result["leftovers"] = azure_vms.leftovers(vm, disk_names=names) if vm else {"disks": [], "nics": []}

    try:
        runner.finish(vault, WORDS, results, {name: summaries.get(job) for name, job in started.items()}, after=after,
                      step=STEP)
    except AzureError as error:
        per.conclude(results, error)
    outcome["vms"] = per.conclude(results)
    return per.outcome(outcome)
