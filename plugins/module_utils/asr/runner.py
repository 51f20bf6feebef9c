# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One runner for every ASR step (reprotect, failover, cancel, commit), item by item:
read, skip what is done, refuse what cannot start (naming stage and rule), act on the rest, wait with a
deadline, read again, verify.

A step supplies what differs: its lifecycle entry (``domain.lifecycle``), a ``check`` per item that may
refuse it or fill its result, and how its jobs start. Every refusal is collected before anything starts,
so a refusal changes nothing. Results are one dict per item, in the order of the selection, returned on
success and carried by the AzureError (``vms``) on failure.
"""

from __future__ import annotations

import copy

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import operations
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import lifecycle, remedies, stages


class Words:
    """How a step names itself in its two messages: ``refuse`` completes "Refusing to ...; nothing was
    changed", ``failed`` starts "... failed for <VMs>"."""

    def __init__(self, refuse, failed, action):
        self.refuse, self.failed, self.action = refuse, failed, action


def decide(step, words, selected, check, extra=None, assumed=None, on_refuse=None):
    """Per item of ``selected`` (``(model, item)`` pairs from ``asr.items.select``): skip, refuse or act.

    ``check(model, item, result)`` runs for items at a stage the step starts from; it returns a refusal
    sentence (or raises AzureError, whose message is the refusal) or None to act, and may fill ``result``.
    ``extra``: keys every result starts with. ``assumed``: ``{VM name: stage}`` that an earlier step of the same
    check-mode run predicted (see ``assume``). ``on_refuse(result, sentence)`` hears of each refusal by stage.
    Returns ``(acting, results, refusals)``; ``acting`` holds the
    ``(model, item)`` pairs to act on, each result of those has ``action`` = ``words.action``, ``changed`` True."""
    acting, results, refusals = [], [], []
    for model, item in selected:
        stage, assumed_here = assume(item, assumed)
        result = {"name": item["name"], "item_name": item["item_name"], "stage_before": stage, "changed": False,
                  "action": "none", "job": None, "assumed": assumed_here}
        result.update(copy.deepcopy(extra or {}))  # each result its own lists
        results.append(result)
        action, _why = step.decide(stage)
        if action == lifecycle.SKIP:
            result["action"] = "already_done"
            continue
        if action == lifecycle.REFUSE:
            refusals.append(step.refusal(item["name"], stage))
            if on_refuse is not None:
                on_refuse(result, refusals[-1])
            continue
        try:
            refusal = check(model, item, result)
        except AzureError as error:
            refusal = error.msg
        if refusal:
            refusals.append(refusal)
            continue
        result.update(action=words.action, changed=True)
        acting.append((model, item))
    return acting, results, refusals


def assume(item, assumed):
    """``(stage, assumed)``: the stage to decide from, and whether it is an earlier step's prediction.

    In check mode a run's later steps cannot see what its earlier steps would do: a VM to be reprotected is
    still ``running_in_azure``. The earlier step's predicted stage (``predict``) stands in for the real one
    when it is further along the lifecycle; what that step would create (recovery points, on-premises disks)
    is then unknown and its checks are left to the real run (the result says ``assumed``)."""
    wanted = (assumed or {}).get(item["name"])
    real = item["failback_stage"]
    if wanted and wanted != real and stages.ORDER.get(wanted, -1) > stages.ORDER.get(real, -1):
        return wanted, True
    return real, False


def predict(step, results):
    """Check mode: each result's ``stage_after`` as the step would leave it (``leads_to`` for the items it acts
    on, the stage it decided from for the others); returns ``{VM name: stage}`` for the next step's ``assume``."""
    for result in results:
        result["stage_after"] = step.leads_to if result["changed"] else result["stage_before"]
    return {r["name"]: r["stage_after"] for r in results}


def diff(results):
    """The module's diff: each VM's stage before, and after (the prediction in check mode; the stage read again
    after the jobs otherwise; unchanged where nothing ran)."""
    return {"before": {r["name"]: r["stage_before"] for r in results},
            "after": {r["name"]: r.get("stage_after", r["stage_before"]) for r in results}}


def refuse(words, refusals, results):
    """Raise the step's refusal (nothing was changed) when there is any."""
    if refusals:
        raise AzureError("Refusing to %s; nothing was changed: %s" % (words.refuse, " ".join(refusals)),
                         refusals=refusals, vms=results)


def finish(vault, words, results, summaries, after=None, step=None):
    """After the jobs: read every item again, record each one's stage and job, verify.

    ``summaries``: ``{item name: job summary}`` of the items acted on; ``after(result, item)`` adds what a step
    reads after its jobs; ``step`` (a ``lifecycle.Step``): an item acted on must now be where the step leads
    (``leads_to``, ``passes_through`` or ``done_at``), else the step failed for it whatever its job said - a
    request ASR answered without a job, or a job lost to a retried request, is never taken for done (an item
    still ``job_running`` after its own job succeeded holds: another job of ASR's runs on it). Raises AzureError
    naming every VM whose job did not succeed or that is not where the step leads, with its remedy."""
    vault.forget("items")
    now = {item["item_name"]: item for _model, item in asr_items.select(
        vault, item_names=[r["item_name"] for r in results])}
    for result in results:
        item = now[result["item_name"]]
        result["stage_after"] = item["failback_stage"]
        if result["action"] == words.action and result["item_name"] in summaries:
            result["job"] = operations.job_result(summaries[result["item_name"]])
        if after is not None:
            after(result, item)
    failed = [r for r in results if r["job"] and r["job"]["state"] != "Succeeded"]
    why = {r["name"]: remedies.summary(r["job"]["errors"]) or r["job"]["state"] for r in failed}
    if step is not None:
        reached = {step.leads_to, step.passes_through, *step.done_at} - {None}
        for result in results:
            if result["action"] != words.action or result in failed or result["stage_after"] in reached:
                continue
            if result["stage_after"] == "job_running" and result["job"]:
                continue
            failed.append(result)
            why[result["name"]] = "it is at stage %s, not %s, after the request%s; re-run to see where it stands." % (
                result["stage_after"], step.leads_to, " (job %s %s)" % (result["job"]["name"], result["job"]["state"])
                if result["job"] else " (Site Recovery named no job for it)")
    if failed:
        names = [r["name"] for r in failed]
        raise AzureError("%s failed for %s. %s" % (words.failed, ", ".join(names),
                                                   " ".join("%s: %s" % (name, why[name]) for name in names)),
                         vms=results, failed=names)
    return results


def unit_keys(selected, plan_of=None):
    """``{VM name: unit key or None}``: ``recovery plan <name>`` for a VM of a named recovery plan (``plan_of``:
    ``{lower-case item ARM id: plan name}``, ``asr.items.plan_units``), else ``replication group <name>`` for a VM of a
    replication group, else None (the VM moves alone)."""
    keys = {}
    for _model, item in selected:
        plan = (plan_of or {}).get((item.get("id") or "").lower())
        group = item.get("replication_group")
        keys[item["name"]] = ("recovery plan %s" % plan if plan else
                              "replication group %s" % group if group else None)
    return keys


def units(selected, keys=None):
    """The selection in independent units, in selection order: the VMs of one recovery plan of the run together
    (ASR fails a plan over whole), the VMs of one replication group together (ASR keeps a group consistent, so its
    VMs move together), every other VM alone. ``keys``: :func:`unit_keys` (default: replication groups only)."""
    keys = keys if keys is not None else unit_keys(selected)
    found, groups = [], {}
    for pair in selected:
        group = keys.get(pair[1]["name"])
        if not group:
            found.append([pair])
        elif group in groups:
            groups[group].append(pair)
        else:
            groups[group] = [pair]
            found.append(groups[group])
    return found


class PerVm:
    """A step in per-VM mode: a VM that cannot take the step stops alone (with the rest of its replication group),
    and the other VMs go on; the step still fails at its end, naming each VM that stopped, its stage and why.

    Over recovery plans (``plan_of``, ``asr.items.plan_units``) each plan is one unit: a plan that cannot take the
    step, or whose job fails, stops whole, and the other plans go on (``plans`` / ``plans_going`` say which).

    Off (``enabled`` False) it changes nothing: the first refusal refuses the whole step, as before."""

    def __init__(self, words, selected, enabled, plan_of=None):
        self.words, self.enabled = words, enabled
        self.order = [item["name"] for _model, item in selected]
        self.group = unit_keys(selected, plan_of)
        self.plans = {}  # plan name -> [VM names], in selection order
        for _model, item in selected:
            plan = (plan_of or {}).get((item.get("id") or "").lower())
            if plan:
                self.plans.setdefault(plan, []).append(item["name"])
        self.stopped = {}  # VM name -> (why, its result)

    def plan_outcomes(self, results, stopped=()):
        """``(plans, plans_going)``: per recovery plan of the run ``{name, vms, outcome, why}`` - ``stopped`` when a
        VM of it stopped (``why`` the first VM's reason), ``done`` when this step acted on a VM of it, else
        ``already_done`` - and the names of the plans that go on. ``([], [])`` for a run without plans."""
        why = {s["name"]: s["why"] for s in stopped}
        acted = {r["name"] for r in results if r.get("changed")}
        plans, going = [], []
        for name, vms in self.plans.items():
            halted = [vm for vm in vms if vm in why]
            outcome = "stopped" if halted else "done" if any(vm in acted for vm in vms) else "already_done"
            plans.append({"name": name, "vms": list(vms), "outcome": outcome,
                          "why": "%s: %s" % (halted[0], why[halted[0]]) if halted else None})
            if not halted:
                going.append(name)
        return plans, going

    def sift(self, selected, try_plan):
        """The pairs of ``selected`` that go on. ``try_plan(unit)`` plans one unit and returns ``(refusals,
        results)``: a unit with a refusal stops, every VM of it, before anything changes."""
        if not self.enabled:
            return selected
        going = []
        for unit in units(selected, self.group):
            refusals, results = try_plan(unit)
            if not refusals:
                going += unit
                continue
            by_name = {r["name"]: r for r in results}
            for _model, item in unit:
                result = by_name.get(item["name"]) or {
                    "name": item["name"], "item_name": item["item_name"], "stage_before": item["failback_stage"],
                    "changed": False, "action": "none", "job": None}
                self.stopped[item["name"]] = (" ".join(refusals), result)
        return going

    def conclude(self, results, error=None, predicted=None):
        """Every VM's result in selection order; raises AzureError when a VM stopped or its job failed (``error``,
        the step's own failure), with ``stopped`` (``[{name, stage, why}]``) and ``continue_with`` (the VMs the next
        step takes: those done, not of a replication group with a VM that stopped). ``predicted`` (check mode,
        ``{VM name: stage}`` from :func:`predict`) goes with that failure as ``predicted_stages``, so the next step
        of a check-mode run plans the VMs that go on from where this one would leave them."""
        if error is not None and not self.enabled:
            raise error
        # a refusal of the VMs that went on (nothing changed for them) stops them all; a failed job, its VMs
        failed = dict.fromkeys((error.details.get("failed") or [r["name"] for r in error.details.get("vms") or []])
                               if error is not None else [])
        by_name = {r["name"]: r for r in (error.details.get("vms") if error is not None else None) or results}
        for name, (why, result) in self.stopped.items():
            result["stopped"] = why
            by_name[name] = result
        if error is not None:
            for name in failed:
                by_name[name]["stopped"] = error.msg
        halted = set(self.stopped) | set(failed)
        held = {self.group[n] for n in halted if self.group.get(n)}
        merged = [by_name[name] for name in self.order if name in by_name]
        if not halted:
            if error is not None:
                raise error
            return merged
        going = [n for n in self.order if n not in halted and not (self.group.get(n) and self.group[n] in held)]
        stopped = [{"name": n, "stage": by_name[n].get("stage_after", by_name[n]["stage_before"]),
                    "why": by_name[n].get("stopped") or "the rest of its %s stopped" % self.group[n]}
                   for n in self.order if n not in going]
        plans, plans_going = self.plan_outcomes(merged, stopped)
        extra = {"plans": plans, "plans_going": plans_going} if self.plans else {}
        raise AzureError("%s stopped for %s; %s" % (
            self.words.failed, "; ".join("%s (%s): %s" % (s["name"], s["stage"], s["why"]) for s in stopped),
            "the other VMs go on: %s." % ", ".join(going) if going else "no VM goes on."),
            vms=merged, failed=[s["name"] for s in stopped], stopped=stopped, continue_with=going,
            **extra, **({"predicted_stages": predicted} if predicted is not None else {}))

    def outcome(self, result):
        """``result`` (a step's success dict, with ``vms``) plus ``plans`` and ``plans_going`` for a run over plans."""
        if self.plans:
            result["plans"], result["plans_going"] = self.plan_outcomes(result["vms"])
        return result


def trying(plan_unit):
    """``try_plan`` for :meth:`PerVm.sift` from a step's ``plan_unit(unit)`` that raises AzureError to refuse."""
    def try_plan(unit):
        try:
            plan_unit(unit)
        except AzureError as error:
            return error.details.get("refusals") or [error.msg], error.details.get("vms") or []
        return [], []
    return try_plan
