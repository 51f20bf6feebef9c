# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which waves of a failback run are done, which runs next, and whether the next may start - from Site Recovery.

A run's ``waves`` are ordered groups of recovery plans; wave N+1 starts when every plan of wave N reached the run's
gate. The truth is where each plan's VMs stand in Site Recovery (their failback stages, ``domain.stages``), never a
file on the controller: a re-run after a failure (or after a pause) reads them again and finishes the unfinished wave
first.

Pure Python: plain data in (the waves, each plan's VM names, each VM's stage), a plain dict out. The
``failback_waves`` module reads the data (the vault's item list and recovery plan list: two Resource Manager calls).

The gates (the run option ``wave_gate``):

* ``committed``: every VM of the plan is committed - ``failback_committed`` or ``reprotected_to_azure`` (ASR deleted its
  Azure VM). Each wave runs the whole stage sequence (reprotect, failover, verification, commit, reprotect to Azure).
* ``verified``: every VM of the plan failed back - ``failed_back`` or later. The run verified each VM running on-premises
  (VMware Tools, or its own verification) right after its failover, and the commit gate verifies it again before its
  commit; Site Recovery cannot say more. Each wave runs the reprotect and the failover; the commits and the reprotects to
  Azure of every wave run once, at the end, when the last wave reached the gate (:func:`plan_run` ``finish``).
"""

from __future__ import annotations

GATES = ("committed", "verified")
# The steps of a failback run, in order (the report's stage names): a wave gated on the commit runs them all; a wave
# gated on verification the first two, and the run's end the last two for every wave (:func:`plan_run` ``units``).
STEPS = ("reprotect_to_onprem", "failover_to_onprem", "commit", "reprotect_to_azure")
# The stages at or past each gate (domain.stages).
AT_GATE = {
    "committed": ("failback_committed", "reprotected_to_azure"),
    "verified": ("failed_back", "failback_committed", "reprotected_to_azure"),
}
# A VM that no step has touched yet: it still runs in Azure.
UNTOUCHED = ("running_in_azure",)
# Where a VM stands when the run has nothing left to do for it, by what the run does (its commit and reprotect_to_azure
# options): the last step's stage and the stages past it.
COMPLETE = {
    (True, True): ("reprotected_to_azure",),
    (True, False): ("failback_committed", "reprotected_to_azure"),
    (False, True): ("failed_back", "failback_committed", "reprotected_to_azure"),
    (False, False): ("failed_back", "failback_committed", "reprotected_to_azure"),
}


def plan_state(plan, vms, stages, gate, complete):
    """One plan as the waves see it: ``{name, vms, stages: {vm: stage}, at_gate, complete, untouched, why}``.

    ``vms``: the plan's VM names in plan order, or None when the vault has no such plan; ``stages``: ``{vm: stage or
    None}`` (None: no protected item); ``complete``: the stages at which the run has nothing left to do. ``why`` says,
    when the plan is not at the gate, which VMs stand where (``"app01 at failover_failed; db01 at running_in_azure"``);
    else None."""
    if vms is None:
        return {"name": plan, "vms": [], "stages": {}, "at_gate": False, "complete": False, "untouched": False,
                "why": "recovery plan %s was not found in the vault" % plan}
    mine = {vm: stages.get(vm) for vm in vms}
    at_gate = bool(vms) and all(stage in AT_GATE[gate] for stage in mine.values())
    short = [(vm, stage) for vm, stage in mine.items() if stage not in AT_GATE[gate]]
    why = None
    if not vms:
        why = "recovery plan %s holds no protected item" % plan
    elif short:
        by_stage = {}
        for vm, stage in short:
            by_stage.setdefault(stage, []).append(vm)
        why = "not %s: %s" % ("committed" if gate == "committed" else "failed back and verified", "; ".join(
            "%s %s" % (", ".join(names), "at %s" % stage if stage else "without a protected item")
            for stage, names in by_stage.items()))
    return {"name": plan, "vms": list(vms), "stages": mine, "at_gate": at_gate,
            "complete": bool(vms) and all(stage in complete for stage in mine.values()),
            "untouched": bool(vms) and all(stage in UNTOUCHED for stage in mine.values()), "why": why}


def plan_run(waves, members, stages, gate="committed", pause=False, commit=True, reprotect_to_azure=True):
    """What a run of ``waves`` does now.

    ``waves``: ``[[plan name, ...], ...]`` in order; ``members``: ``{plan: [VM name, ...]}`` in plan order (a plan the
    vault lacks is absent); ``stages``: ``{VM name: failback stage}`` as Site Recovery shows them now (or as a check-mode
    run predicts them); ``gate``: ``committed`` or ``verified``; ``pause``: stop after one wave reached the gate;
    ``commit`` / ``reprotect_to_azure``: the run's options (what "complete" means).

    Returns ``{waves: [{index, plans: [plan_state], state}], done: [index], next: index or None, run: [index],
    finish: bool, lock_plans: [plan], after: index or None, message}``:

    * a wave's ``state`` is ``complete`` (nothing left to do), ``at_gate`` (its plans reached the gate, some step after
      it is left), ``untouched`` (no VM of it moved) or ``unfinished``; ``done`` lists the waves at the gate or complete;
    * ``next``: the first wave not at the gate (None: every wave reached it);
    * ``run``: the waves this run takes, in order - the waves before ``next`` that are at the gate but not complete
      (gate ``committed``: their reprotect to Azure is left), then ``next`` and, without ``pause``, every wave after it.
      With gate ``verified`` a wave at the gate is never run again: the end does what is left;
    * ``finish``: gate ``verified``, the commit on, and this run reaches the end (no wave left after ``run``): the
      commits and reprotects to Azure of every wave's plans run at the end, one batched call each;
    * ``lock_plans``: every plan this run acts on (the lock takes them all): the plans of ``run``, and every plan when
      ``finish``;
    * ``after``: the wave a paused run leaves for the next run (None when none is left);
    * ``units``: what the run does, in order, each ``{index, plans, steps, finish}``: a wave of ``run`` (its plans and
      the steps it takes: all four with gate ``committed``, the reprotect and failover with ``verified``), then, when
      ``finish``, the end (index: the wave after the last, which every wave must be at the gate to start; every plan;
      the commit and the reprotect to Azure);
    * ``message``: one sentence for people.
    """
    complete = COMPLETE[(bool(commit), bool(reprotect_to_azure))]
    entries = []
    for index, wave in enumerate(waves, 1):
        plans = [plan_state(plan, members.get(plan), stages, gate, complete) for plan in wave]
        if all(p["complete"] for p in plans):
            state = "complete"
        elif all(p["at_gate"] for p in plans):
            state = "at_gate"
        elif all(p["untouched"] for p in plans):
            state = "untouched"
        else:
            state = "unfinished"
        entries.append({"index": index, "plans": plans, "state": state})
    done = [w["index"] for w in entries if w["state"] in ("complete", "at_gate")]
    following = [w["index"] for w in entries if w["state"] not in ("complete", "at_gate")]
    upcoming = following[0] if following else None
    run = []
    if gate == "committed":
        run = [w["index"] for w in entries if w["state"] == "at_gate" and (upcoming is None or w["index"] < upcoming)]
    if upcoming is not None:
        run += [upcoming] if pause else list(range(upcoming, len(entries) + 1))
    left = list(range(max(run) + 1, len(entries) + 1)) if run else []
    after = left[0] if left and pause else None
    finish = gate == "verified" and bool(commit) and not left and any(
        not p["complete"] for w in entries for p in w["plans"])
    lock = [p["name"] for w in entries if w["index"] in run or finish for p in w["plans"]]
    steps = list(STEPS) if gate == "committed" else list(STEPS[:2])
    units = [{"index": i, "plans": [p["name"] for p in entries[i - 1]["plans"]], "steps": steps, "finish": False}
             for i in run]
    if finish:
        units.append({"index": len(entries) + 1, "plans": [p["name"] for w in entries for p in w["plans"]],
                      "steps": list(STEPS[2:]), "finish": True})
    return {"waves": entries, "done": done, "next": upcoming, "run": run, "finish": finish,
            "lock_plans": list(dict.fromkeys(lock)), "after": after, "units": units,
            "message": _message(entries, run, upcoming, after, finish, gate)}


def _names(entry):
    return ", ".join(p["name"] for p in entry["plans"])


def _message(entries, run, upcoming, after, finish, gate):
    if not run and not finish:
        return "Every wave is done (%d wave(s)): nothing left to run." % len(entries)
    parts = []
    if upcoming is not None:
        parts.append("Next: wave %d (%s)." % (upcoming, _names(entries[upcoming - 1])))
    if run:
        parts.append("This run takes wave(s) %s." % ", ".join(str(i) for i in run))
    if after is not None:
        parts.append("It stops when wave %d reached the gate (%s); running the same command again starts wave %d (%s)."
                     % (run[-1], gate, after, _names(entries[after - 1])))
    if finish:
        parts.append("Every wave then failed back: the commits and reprotects to Azure of every plan run at the end.")
    return " ".join(parts)


def may_start(decision, index):
    """Whether wave ``index`` may start now, and why not: ``(True, None)`` when every wave before it reached the gate;
    else ``(False, why)`` naming each plan of an earlier wave that did not, where its VMs stand, and what to do."""
    blocking = [(w["index"], p) for w in decision["waves"] if w["index"] < index
                for p in w["plans"] if not p["at_gate"] and not p["complete"]]
    if not blocking:
        return True, None
    return False, "Wave %d does not start: %s. Fix what stopped %s, then run the same command again: it finishes " \
        "wave %d first." % (index, "; ".join("plan %s of wave %d is %s" % (p["name"], wave, p["why"])
                                             for wave, p in blocking),
                            "it" if len(blocking) == 1 else "them", blocking[0][0])


def stopped_plans(decision, indexes):
    """``[{name, wave, why}]``: the plans of waves ``indexes`` that did not reach the gate (after those waves ran)."""
    return [{"name": p["name"], "wave": w["index"], "why": p["why"]} for w in decision["waves"]
            if w["index"] in indexes for p in w["plans"] if not p["at_gate"] and not p["complete"]]


def wave_of(waves):
    """``{plan: wave index}`` of ``waves`` (1-based), for the report."""
    return {plan: index for index, wave in enumerate(waves, 1) for plan in wave}
