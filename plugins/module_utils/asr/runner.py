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


def finish(vault, words, results, summaries, after=None):
    """After the jobs: read every item again, record each one's stage and job, verify.

    ``summaries``: ``{item name: job summary}`` of the items acted on; ``after(result, item)`` adds what a step
    reads after its jobs. Raises AzureError naming every VM whose job did not succeed, with its remedy."""
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
    if failed:
        raise AzureError("%s failed for %s. %s" % (
            words.failed, ", ".join(r["name"] for r in failed),
            " ".join("%s: %s" % (r["name"], remedies.summary(r["job"]["errors"]) or r["job"]["state"]) for r in failed)),
            vms=results, failed=[r["name"] for r in failed])
    return results
