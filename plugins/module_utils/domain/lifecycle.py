# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failback lifecycle as data: each step, the stages it starts from, the stage it leads to, the stages
at which it is already done, and why it refuses every other stage.

Plain data in, decisions out. Every module of a step decides from this table (``decide``), the preflight
report derives each rule's stages from the steps the rule gates (``stages_of``), and ``docs/failback.md``
shows the table ``markdown_table`` prints (a unit test compares them), so a stage is named in one place.

Stages are those of ``domain.stages`` (derived from ASR's provider, allowed operations, active location and
current scenario, as recorded in ``tests/recorded/asr``).
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages

ACT, SKIP, REFUSE = "act", "already_done", "refuse"

# Why a step refuses an item at a stage that it neither starts from nor has passed. Shared by every step;
# a step may override one in its own ``why``.
WHY = {
    "protected_to_azure": "it was never failed over to Azure",
    "failed_over_to_azure": "its failover to Azure is not committed yet; commit it first (outside failback)",
    "running_in_azure": "it is not reprotected to on-premises yet; reprotect it first",
    "reprotecting_to_onprem": "its reprotect is still running; wait for it",
    "replicating_to_onprem": "it has not failed over to on-premises yet",
    "failover_failed": "its failover to on-premises failed; retry the failover",
    "failed_back": "its failback is not committed yet",
    "job_running": "a job is running on it; wait for it and re-run",
    "migration_completed": "its migration was completed; failback is impossible",
    "unknown": "its state is not one failback knows; inspect the item in the Azure portal",
}


class Step:
    """One step of the lifecycle.

    ``starts_from``: stages the step acts on; ``passes_through``: the stage an item is at while the step's
    job runs; ``leads_to``: the stage after it succeeds; ``done_at``: stages at which the step has nothing
    left to do (a re-run skips them); ``why``: refusal reasons that differ from the shared ``WHY``.
    """

    def __init__(self, name, title, starts_from, leads_to, done_at, passes_through=None, why=None, module=None):
        self.name, self.title, self.module = name, title, module
        self.starts_from, self.leads_to, self.done_at = tuple(starts_from), leads_to, tuple(done_at)
        self.passes_through = passes_through
        self.why = dict(WHY, **(why or {}))

    def decide(self, stage):
        """``(ACT | SKIP | REFUSE, reason)`` for an item at ``stage``; the reason is None unless refused."""
        if stage in self.done_at:
            return SKIP, None
        if stage in self.starts_from:
            return ACT, None
        return REFUSE, self.why.get(stage, "%s starts from %s" % (self.title, " or ".join(self.starts_from)))

    def refusal(self, vm_name, stage):
        """The sentence naming the VM, its stage and why this step cannot start there."""
        return "VM %s is at stage %s: %s." % (vm_name, stage, self.decide(stage)[1])


# protected_to_azure: replicating to Azure with no failover on record. Nothing to fail back: the VM runs
# on-premises. It is also where a reprotect back to Azure may leave an item: the reprotect to on-premises cleared
# lastSuccessfulFailoverTime (recorded: item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection
# has it, the InMage item after the reprotect has null), and if the way back clears it too a finished failback
# reads as never failed over. Either way every step skips it, so a re-run after success changes nothing.
_NOTHING_TO_DO = ("protected_to_azure",)
_AFTER_FAILOVER = ("failed_back", "failback_committed", "reprotected_to_azure", *_NOTHING_TO_DO)

STEPS = (
    Step("reprotect_to_onprem", "reprotect to on-premises", ("running_in_azure",), "replicating_to_onprem",
         ("reprotecting_to_onprem", "replicating_to_onprem", "failover_failed", *_AFTER_FAILOVER),
         passes_through="reprotecting_to_onprem", module="reprotect (direction: to_onprem)"),
    Step("failover", "fail over to on-premises", ("replicating_to_onprem", "failover_failed"), "failed_back",
         _AFTER_FAILOVER, module="failover",
         why={"failed_over_to_azure": "its failover to Azure is not committed"}),
    Step("verify_onprem", "verify on-premises", ("failed_back",), "failed_back",
         ("failback_committed", "reprotected_to_azure", *_NOTHING_TO_DO), module="onprem_vm",
         why={"failover_failed": "its failover to on-premises failed; retry the failover (onprem_vm starts a VM whose "
                                 "failover failed only as the remedy of ASR error 8038, with memory_remediation: "
                                 "vmotion)",
              "replicating_to_onprem": "it has not failed over to on-premises yet: its VMDKs on the master target "
                                       "are Site Recovery's replica; fail it over first"}),
    # ASR error 8038: the failover job attached the VM's disks, then could not power it on (its host lacks memory).
    # The documented fix moves the VM to a host with room and starts it; then the failover is run again.
    Step("start_short_of_memory", "move a VM short of memory (ASR error 8038) and start it", ("failover_failed",),
         "failover_failed", _AFTER_FAILOVER, module="onprem_vm (memory_remediation: vmotion)"),
    Step("commit", "commit (ASR deletes the Azure VMs)", ("failed_back",), "failback_committed",
         ("failback_committed", "reprotected_to_azure", *_NOTHING_TO_DO), module="commit",
         why={"running_in_azure": "it was not failed back yet",
              "reprotecting_to_onprem": "its reprotect is still running"}),
    Step("reprotect_to_azure", "reprotect to Azure", ("failback_committed",), "reprotected_to_azure",
         ("reprotected_to_azure", *_NOTHING_TO_DO), module="reprotect (direction: to_azure)",
         why={"running_in_azure": "it has not failed back yet"}),
    Step("cancel", "cancel the failback (modernized flow)", ("failed_back",), "replicating_to_onprem",
         ("replicating_to_onprem", "failover_failed"), module="failover (cancel: true)",
         why={"failback_committed": "its failback is committed; a committed failback cannot be cancelled",
              "reprotected_to_azure": "its failback is committed; a committed failback cannot be cancelled"}),
)

BY_NAME = {step.name: step for step in STEPS}

# The steps a full failback runs, in order (cancel is the way back, not part of it).
FAILBACK = ("reprotect_to_onprem", "failover", "verify_onprem", "commit", "reprotect_to_azure")


def step(name):
    """The Step called ``name``; KeyError for an unknown one."""
    return BY_NAME[name]


def onprem_decision(stage, memory_remediation):
    """What ``onprem_vm`` may do with a VM whose item is at ``stage``: ``(ACT | SKIP | REFUSE, reason, remedy_only)``.

    ``verify on-premises`` acts at ``failed_back``; with ``memory_remediation`` V(vmotion) a VM whose failover
    failed (``failover_failed``) may be moved and started (``start_short_of_memory``), ``remedy_only`` True: it
    must take no disk off a master target and create no VM (the failover, run again, does that)."""
    remedy = BY_NAME["start_short_of_memory"]
    if memory_remediation == "vmotion" and stage in remedy.starts_from:
        return ACT, None, True
    action, reason = BY_NAME["verify_onprem"].decide(stage)
    return action, reason, False


def onprem_gate(stages_by_vm, memory_remediation):
    """Sort the VMs ``onprem_vm`` was given by their items' stages (``{VM name: stage}``, in the order given).

    Returns ``{act: [names], remedy_only: [names], skip: {name: stage}, refusals: [sentences]}``: ``act`` the VMs to
    bring up (``remedy_only`` among them: only moved and started, see :func:`onprem_decision`), ``skip`` those past
    the verification (a re-run after the commit changes nothing), ``refusals`` one sentence per VM at a stage the
    verification cannot start from (naming the VM, its stage and what to do)."""
    gate = {"act": [], "remedy_only": [], "skip": {}, "refusals": []}
    for name, stage in stages_by_vm.items():
        action, reason, remedy_only = onprem_decision(stage, memory_remediation)
        if action == SKIP:
            gate["skip"][name] = stage
        elif action == REFUSE:
            gate["refusals"].append("VM %s is at stage %s: %s." % (name, stage, reason))
        else:
            gate["act"].append(name)
            if remedy_only:
                gate["remedy_only"].append(name)
    return gate


# The stages at which Site Recovery writes to (or will fail over from) the VMDKs on a master target: taking them off
# it then breaks the replication or the failover. ``master_target_disks`` with state detached refuses them.
REPLICA_IN_USE = ("reprotecting_to_onprem", "replicating_to_onprem", "failover_failed", "job_running")


def detach_refusal(vm_name, stage):
    """The refusal of taking VM ``vm_name``'s VMDKs off its master target at ``stage``, or None when it may be."""
    if stage not in REPLICA_IN_USE:
        return None
    return ("VM %s is at stage %s: its VMDKs on the master target are Site Recovery's replica (%s); taking them off "
            "would break it. %s" % (vm_name, stage, "it writes to them" if stage != "failover_failed" else
                                    "the failover, run again, takes them from there",
                                    "Fail it over instead (siterecovery.failback.failover)." if stage != "job_running"
                                    else "Wait for its job to end and re-run."))


def stages_of(*step_names):
    """The stages at which any of the named steps starts (a gate rule of those steps applies there)."""
    found = []
    for name in step_names:
        for stage in BY_NAME[name].starts_from:
            if stage not in found:
                found.append(stage)
    return tuple(found)


def gates(rules):
    """``{step name: [rule id, ...]}``: the preflight rules that gate each step.

    ``rules``: dicts with ``id`` and ``when`` (the stages the rule applies in, None for every stage), as
    ``domain.readiness.RULES`` holds them. A rule gates a step when it applies at a stage the step starts from."""
    found = {}
    for item in STEPS:
        found[item.name] = [r["id"] for r in rules
                            if r["when"] is None or set(r["when"]) & set(item.starts_from)]
    return found


def markdown_table(rules=()):
    """The step table of ``docs/failback.md`` (between its ``step-table`` markers); ``rules`` as for ``gates``."""
    gated = gates(rules)
    rows = ["| Step | Module | Starts from | Leads to | Already done at | Preflight rules that gate it |",
            "|---|---|---|---|---|---|"]
    for item in STEPS:
        via = " (through `%s`)" % item.passes_through if item.passes_through else ""
        rows.append("| %s | `%s` | %s | `%s`%s | %s | %s |" % (
            item.title, item.module, ", ".join("`%s`" % s for s in item.starts_from), item.leads_to, via,
            ", ".join("`%s`" % s for s in item.done_at), ", ".join("`%s`" % r for r in gated[item.name]) or "none"))
    return "\n".join(rows) + "\n"


def check_table():
    """Raise ValueError when a step names a stage domain.stages does not know (run at import)."""
    unknown = [(s.name, stage) for s in STEPS for stage in s.starts_from + s.done_at + (s.leads_to,)
               if stage not in stages.STAGES]
    if unknown:
        raise ValueError("lifecycle names stages domain.stages does not know: %s" % unknown)


check_table()
