# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Resource Manager requests a whole failback will make, estimated before it starts, and the refusal when
they exceed the run's budget. Pure Python: stages in, numbers and a sentence out.

Why: ARM throttles each subscription (about 12,000 reads and 1,200 writes an hour, per the Azure Resource Manager
throttling documentation); a run that exceeds that stalls on 429s in the middle of an outage. ``estimate`` counts
from where each VM stands (its stage, read from the vault's item list) the steps still ahead of it, and each step's
requests, and ``check`` compares them with ``request_budget`` (run_lock) before anything is locked.

The per-step costs are the collection's own, measured on the lab (tests/bench/bench.py, one recovery plan of classic
VMs, tag state store, zero-length jobs; /tmp breakdown of the emulator's request counters per route) after the
read layer of issue 17: each module reads the item list once (stages), GETs an item only where its step needs
provider details (tests/recorded/asr fact 2), polls its jobs with one list of the vault's recent jobs per poll and
GETs each job once when it finished. Measured at 20 VMs (324 calls in all, 16.2 per VM; 640, 32.0 per VM, before),
per VM (fixed costs per step in parentheses; each module's ``api_reads`` / ``api_writes``):

============================  =====================================  ==============================
step                          reads per VM                           writes per VM
============================  =====================================  ==============================
preflight (readiness)         1 item GET (+ 5 lists)                 0
lock (run_lock)               0 (+ 3 lists)                          1 tag PATCH (claim and identity)
reprotect to on-premises      1 item GET, 1 job GET (+ 7 lists)      1 reProtect
recovery point wait           1 item GET per read (+ 1 list)         0
failover to on-premises       1 item GET (+ 4 lists, 1 job GET)      1 per plan (or 1 per VM alone)
on-premises VM (onprem_vm)    1 item GET (+ 1 list)                  0
commit                        1 item GET, 1 job GET (+ 6 lists)      1 failoverCommit
reprotect to Azure            1 job GET (+ 5 lists)                  1 reProtect
unlock (run_lock)             0 (+ 3 lists)                          0 (a committed VM has no Azure VM)
report                        0 (+ 2 lists)                          0
============================  =====================================  ==============================

Job polls add one list call (one page per ``page_size`` jobs) per poll while a step's jobs run: the wait starts
at the module's ``poll_interval`` and grows 1.5 times per poll up to 15 s or the interval (``azure.jobs.wait``);
a job's length is a guess, by default the recorded ones (tests/recorded/asr: a failback failover 215 s, a commit
111 s, a reprotect to Azure about 120 s; a reprotect to on-premises taken as 120 s too).
"""

from __future__ import annotations

import math

# steps of a whole failback, in order (their names are the by_step keys)
STEPS = ("preflight", "lock", "reprotect_to_onprem", "recovery_point_wait", "failover", "onprem_vm", "commit",
         "reprotect_to_azure", "unlock", "report")

# per step: item/job reads per VM, writes per VM, fixed reads (lists), whether it runs ASR jobs, and the default
# length of one of its jobs in seconds (see the module docstring for the measurements and sources)
COSTS = {
    "preflight": {"reads": 1, "writes": 0, "fixed": 5, "job_seconds": 0},
    "lock": {"reads": 0, "writes": 1, "fixed": 3, "job_seconds": 0},
    "reprotect_to_onprem": {"reads": 2, "writes": 1, "fixed": 7, "job_seconds": 120},
    "recovery_point_wait": {"reads": 1, "writes": 0, "fixed": 1, "job_seconds": 0},
    "failover": {"reads": 1, "writes": 0, "fixed": 4, "job_seconds": 215},
    "onprem_vm": {"reads": 1, "writes": 0, "fixed": 1, "job_seconds": 0},
    "commit": {"reads": 2, "writes": 1, "fixed": 6, "job_seconds": 111},
    "reprotect_to_azure": {"reads": 1, "writes": 1, "fixed": 5, "job_seconds": 120},
    "unlock": {"reads": 0, "writes": 0, "fixed": 3, "job_seconds": 0},
    "report": {"reads": 0, "writes": 0, "fixed": 2, "job_seconds": 0},
}

# the first step still ahead of a VM at each stage (domain.stages names); a VM done takes only the bookkeeping steps
FIRST_STEP = {
    "running_in_azure": "reprotect_to_onprem",
    "reprotecting_to_onprem": "recovery_point_wait",
    "replicating_to_onprem": "recovery_point_wait",
    "failover_failed": "failover",
    "job_running": "reprotect_to_onprem",  # unknown which job: counted from the start (an over-estimate)
    "failed_back": "onprem_vm",
    "failback_committed": "reprotect_to_azure",
}
BOOKKEEPING = ("preflight", "lock", "unlock", "report")
# a VM that leaves a step past the commit has no Azure VM: no claim to write, none to drop
NO_AZURE_VM = ("failback_committed", "reprotected_to_azure")

PAGE_SIZE = 100  # jobs per page of the job list (the lab's default; ARM pages through nextLink)
MAX_POLL = 15.0  # the longest pause between job polls (asr.operations.wait: max(poll, 15))


def polls(job_seconds, poll=15.0, max_poll=None):
    """How many times ``azure.jobs.wait`` reads while a job of ``job_seconds`` runs: a read, then pauses of ``poll``
    seconds growing 1.5 times up to ``max(poll, MAX_POLL)``, until the pauses cover the job; at least 1."""
    limit = max(poll, MAX_POLL) if max_poll is None else max_poll
    count, waited, interval = 1, 0.0, max(poll, 0.1)
    while waited < job_seconds:
        waited += interval
        interval = min(limit, interval * 1.5)
        count += 1
    return count


def _steps_of(stage):
    """The steps still ahead of a VM at ``stage``: from its first step on, plus the bookkeeping ones."""
    first = FIRST_STEP.get(stage)
    if first is None:
        return list(BOOKKEEPING)
    ahead = STEPS[STEPS.index(first):]
    return [s for s in STEPS if s in BOOKKEEPING or s in ahead]


def estimate(vms, plans=None, poll_interval=15.0, job_seconds=None, page_size=PAGE_SIZE, state_store="tags"):
    """``{reads, writes, calls, per_vm, vms, plans, by_step: {step: {reads, writes}}}``: the ARM requests a whole
    failback of ``vms`` will make from where each stands.

    ``vms``: ``{VM name: stage}`` (``domain.stages`` names, from the vault's item list); ``plans``: ``{plan name: [VM
    names]}`` - the VMs of a plan fail over in one plan job (one write), the others one job each. ``poll_interval``:
    the steps' seconds between job polls; ``job_seconds``: ``{step: seconds}`` over the recorded defaults (``COSTS``);
    ``state_store``: ``tags`` (the claim is a PATCH of the Azure VM) or ``blob`` (claims are blobs: no ARM write).
    ``per_vm`` is ``calls / len(vms)`` rounded to 0.1 (0 without VMs). Raises ValueError naming an unknown step in
    ``job_seconds``."""
    vms = dict(vms or {})
    plans = {name: list(members) for name, members in (plans or {}).items()}
    unknown = sorted(set(job_seconds or {}) - set(STEPS))
    if unknown:
        raise ValueError("job_seconds names no step of a failback: %s (steps: %s)." % (", ".join(unknown), ", ".join(STEPS)))
    lengths = {step: (job_seconds or {}).get(step, COSTS[step]["job_seconds"]) for step in STEPS}
    in_plan = {vm for members in plans.values() for vm in members}
    by_step = {step: {"reads": 0, "writes": 0} for step in STEPS}
    taking = {step: [name for name, stage in vms.items() if step in _steps_of(stage)] for step in STEPS}
    for step in STEPS:
        names = taking[step]
        if not names:
            continue
        cost = COSTS[step]
        reads = cost["fixed"] + cost["reads"] * len(names)
        writes = cost["writes"] * len(names)
        if step == "failover":
            # one plan job per plan with a VM to fail over (and its GET once it finished), one job per VM alone
            moving_plans = [p for p, members in plans.items() if set(members) & set(names)]
            alone = [n for n in names if n not in in_plan]
            writes = len(moving_plans) + len(alone)
            reads += len(moving_plans) + len(alone)
        if step in ("lock", "unlock"):
            holding = [n for n in names if vms[n] not in NO_AZURE_VM] if step == "lock" else []
            writes = len(holding) if state_store == "tags" else 0
        if lengths[step]:
            jobs = writes if step != "lock" else 0
            pages = max(1, math.ceil(jobs / float(page_size))) if jobs > 1 else 0
            reads += pages * polls(lengths[step], poll_interval)
            if jobs == 1:  # one job alone is polled by its GET
                reads += polls(lengths[step], poll_interval)
        by_step[step] = {"reads": reads, "writes": writes}
    reads = sum(s["reads"] for s in by_step.values())
    writes = sum(s["writes"] for s in by_step.values())
    calls = reads + writes
    return {"reads": reads, "writes": writes, "calls": calls, "per_vm": round(calls / float(len(vms)), 1) if vms else 0,
            "vms": len(vms), "plans": sorted(plans), "by_step": by_step}


def check(estimated, budget, variable="failback_request_budget"):
    """None when ``estimated`` (from :func:`estimate`) fits ``budget`` ARM requests (0 or None: no check), else the
    refusal: which plans and VMs, the numbers, and the three ways out."""
    if not budget or estimated["calls"] <= budget:
        return None
    what = ("recovery plan%s %s (%d VMs)" % ("s" if len(estimated["plans"]) > 1 else "", ", ".join(estimated["plans"]),
                                             estimated["vms"])) if estimated["plans"] else "%d VMs" % estimated["vms"]
    heaviest = max(estimated["by_step"].items(), key=lambda kv: kv[1]["reads"] + kv[1]["writes"])
    numbers = (what, estimated["calls"], estimated["reads"], estimated["writes"], estimated["per_vm"], heaviest[0],
               heaviest[1]["reads"] + heaviest[1]["writes"], budget, variable)
    return ("The failback of %s would make about %d Azure Resource Manager requests (%d reads, %d writes; %.1f per VM; "
            "the most in step %s: %d), more than the request budget of %d. Raise %s, split the plans into waves "
            "(failback_waves), or run fewer plans at once; ARM allows a subscription about 12,000 reads and 1,200 "
            "writes an hour." % numbers)
