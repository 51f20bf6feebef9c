# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run report: per VM and per step what the run did, and where each VM stands now.

Pure Python: the steps' module results (as Ansible registered them, failed or not) and the items as Site
Recovery shows them after the run come in as plain dicts; the report goes out as a plain dict. The keys are
those of the report the collection always wrote (``run``: id, name, started, finished, duration_seconds,
result, failed_stage; ``vms[]``: name, stages[], recovery point facts, rto_seconds, final_stage), plus per VM
``stage`` (read from Site Recovery after the run, null when that read failed), ``next_step``, ``failure``
(what failed for it) and ``rerun`` (what a re-run will do), and ``run.failed_message``.

Since 0.3.0 also: ``run.recovery_plan`` / ``run.boot_groups`` (a plan's name and its boot groups' VMs, in boot
order), ``run.started_epoch`` / ``run.finished_epoch``; per stage ``start_epoch``, ``end_epoch``, ``job_state``
(a job still running when the run ended has result ``running``) and ``failed_task``; per VM ``boot_group``,
``onprem_running_at``, ``verified_seconds``, ``outage`` (epochs and ISO times), ``committed``, ``running_copy`` and
``next_action``; ``failure.gate`` (the commit gate's rule) and ``failure.task`` (the ASR job's failed task) when
known. The timeline's geometry is :mod:`timeline`'s.
"""

from __future__ import annotations

import datetime

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import recovery_points, remedies, stages

# The steps in run order, by the report's stage names.
STEPS = ("reprotect_to_onprem", "failover_to_onprem", "commit", "reprotect_to_azure")

# What a re-run of the failback does for a VM at each stage (the steps skip what is done).
RERUN = {
    "running_in_azure": "reprotect it to on-premises, then fail it over, verify it, commit and reprotect it to Azure",
    "reprotecting_to_onprem": "wait for its reprotect job, then go on from its result",
    "replicating_to_onprem": "fail it over to on-premises (its reprotect is done), then verify it, commit and "
                             "reprotect it to Azure",
    "failover_failed": "fail it over to on-premises again, then verify it, commit and reprotect it to Azure",
    "failed_back": "verify the on-premises VM, then commit (its failover is done) and reprotect it to Azure",
    "failback_committed": "reprotect it to Azure (its failback is committed)",
    "reprotected_to_azure": "change nothing: its failback is complete",
    "job_running": "go on from the result of the job running on it, once that job has ended (a re-run while it runs refuses)",
}


def vms_of(result):
    """The per-VM entries of one module result, on success (``vms``) as on failure (``vms`` at the top level, or
    the older ``error.vms``); ``[]`` for anything else (a skipped step, a failure with no VM detail)."""
    if not isinstance(result, dict):
        return []
    found = result.get("vms")
    if not isinstance(found, list):
        error = result.get("error")
        found = error.get("vms") if isinstance(error, dict) else None
    return [vm for vm in found or [] if isinstance(vm, dict) and vm.get("name")]


def step_result(value):
    """The result that stands for a step: ``value`` itself, or of a list of attempts (a failover and its retry
    after moving VMs short of memory) the last one with per-VM entries."""
    attempts = value if isinstance(value, list) else [value]
    with_vms = [attempt for attempt in attempts if vms_of(attempt)]
    return with_vms[-1] if with_vms else {}


def merge_units(results):
    """One step's results of several units of a run (its waves, each a result as :func:`step_result` picks it) as one:
    ``vms`` of every unit (a VM in two units: the later one's entry), ``plans`` likewise, ``failed`` when one unit's
    failed, ``continue_with`` the VMs a failed unit went on with and every VM of the units that did not fail. One
    result (or none) is returned as it is."""
    results = [result for result in results if vms_of(result) or (isinstance(result, dict) and result.get("plans"))]
    if len(results) <= 1:
        return results[0] if results else {}
    vms, plans, going = {}, {}, []
    for result in results:
        vms.update((vm["name"], vm) for vm in vms_of(result))
        plans.update((plan["name"], plan) for plan in result.get("plans") or [] if isinstance(plan, dict) and plan.get("name"))
        going += (result.get("continue_with") or []) if result.get("failed") else [vm["name"] for vm in vms_of(result)]
    merged = {"vms": list(vms.values()), "plans": list(plans.values()),
              "failed": any(bool(result.get("failed")) for result in results)}
    if merged["failed"]:
        merged["continue_with"] = list(dict.fromkeys(going))
    return merged


def requests_of(units):
    """The Resource Manager requests the run's steps made, from each step result's ``api_reads`` / ``api_writes`` (or
    ``api_calls`` alone, counted as reads) over every unit and attempt: ``{reads, writes, calls, by_step: {step:
    {reads, writes}}}`` - what a re-run or the next wave will cost again, against ARM's per-subscription budget
    (docs/failback.md, "Requests to Azure Resource Manager")."""
    by_step = {}
    for unit in units:
        for step in STEPS:
            value = unit.get(step)
            for attempt in value if isinstance(value, list) else [value]:
                if not isinstance(attempt, dict) or not (attempt.get("api_calls") or attempt.get("api_reads")):
                    continue
                reads = _number(attempt.get("api_reads"))
                writes = _number(attempt.get("api_writes")) or 0
                if reads is None:
                    reads = (_number(attempt.get("api_calls")) or 0) - writes
                counted = by_step.setdefault(step, {"reads": 0, "writes": 0})
                counted["reads"] += int(reads)
                counted["writes"] += int(writes)
    reads = sum(c["reads"] for c in by_step.values())
    writes = sum(c["writes"] for c in by_step.values())
    return {"reads": reads, "writes": writes, "calls": reads + writes, "by_step": by_step}


def _per_vm_only(steps):
    """Whether every step that failed stopped some VMs and went on with the others (``continue_with``), and one
    did: the run's failure is then those VMs', not everyone's."""
    failed = [attempt for value in steps.values() for attempt in (value if isinstance(value, list) else [value])
              if isinstance(attempt, dict) and attempt.get("failed")]
    return bool(failed) and all(isinstance(a.get("continue_with"), list) and a["continue_with"] for a in failed)


# ASR job states of a job that had not ended when its step stopped waiting (a timeout, a cancelled run).
RUNNING_STATES = ("NotStarted", "InProgress", "Cancelling", "Suspended")

# Where the running copy of a VM is, and whether its failback is committed, by stage (domain.stages): the Azure
# VM exists until the commit deletes it; the on-premises VM runs from the failover to on-premises on.
WHERE = {
    "protected_to_azure": (False, "on-premises VM (never failed over to Azure)"),
    "failed_over_to_azure": (False, "Azure VM (still exists)"),
    "running_in_azure": (False, "Azure VM (still exists)"),
    "reprotecting_to_onprem": (False, "Azure VM (still exists)"),
    "replicating_to_onprem": (False, "Azure VM (still exists)"),
    "failover_failed": (False, "Azure VM (still exists; its failover to on-premises failed)"),
    "failed_back": (False, "on-premises VM; the Azure VM still exists until the commit"),
    "failback_committed": (True, "on-premises VM; the commit deleted the Azure VM"),
    "reprotected_to_azure": (True, "on-premises VM (replicating to Azure); the commit deleted the Azure VM"),
}


def _job_failed(job):
    return bool(job) and job.get("state") not in ("Succeeded", *RUNNING_STATES)


def _failed_task(job):
    """The friendly name of the job's first failed task, or None."""
    for task in (job or {}).get("tasks") or []:
        if isinstance(task, dict) and task.get("state") in ("Failed", "Cancelled"):
            return task.get("friendly_name") or task.get("name")
    return None


def _refused(vm, step_failed):
    """Why the step did not act for the VM although it should have: it stopped alone (per VM), the commit gate
    refused it, the step refused it by its stage (action none), or the step failed before any job for it ran."""
    if vm.get("stopped"):
        return vm["stopped"]
    if vm.get("refusals"):
        return " ".join(r.get("message", "") for r in vm["refusals"] if isinstance(r, dict))
    if vm.get("action") == "already_done":
        return None
    if vm.get("action") in (None, "none") or (step_failed and not vm.get("job")):
        return "the step refused it before any change"
    return None


def _stage_entry(step, vm, step_failed=False):
    """One step of one VM for the report: ``result`` failed (its job failed), refused (the step did not act for
    it: never taken for done), skipped (already done) or done."""
    job = vm.get("job") or None
    failed = _job_failed(job)
    running = bool(job) and job.get("state") in RUNNING_STATES
    refused = None if failed or running else _refused(vm, step_failed)
    entry = {
        "stage": step,
        "action": vm.get("action") or "none",
        "result": "failed" if failed else "running" if running else "refused" if refused else (
            "skipped" if vm.get("action") == "already_done" else "done"),
        "start": job.get("start_time") if job else None,
        "end": job.get("end_time") if job else None,
        "duration_seconds": job.get("duration_seconds") if job else None,
        "job": job.get("name") if job else None,
        "errors": (job.get("errors") or []) if job else [],
        "stage_after": vm.get("stage_after", vm.get("stage_before")),
        "start_epoch": _number(job.get("start_epoch")) if job else None,
        "end_epoch": _number(job.get("end_epoch")) if job else None,
        "job_state": job.get("state") if job else None,
    }
    if failed:
        entry["failed_task"] = _failed_task(job)
    if refused:
        entry["refused"] = refused
    return entry


def _number(value):
    return None if value in (None, "") else float(value)


def _failure(step, vm, entry):
    """What failed for a VM at ``step``: ``{step, message}``, with ``gate`` (the commit gate's rule that refused it)
    and ``task`` (the ASR job's failed task) when known."""
    failure = {"step": step, "message": _failure_text(vm, entry)}
    rules = [r.get("rule") for r in vm.get("refusals") or [] if isinstance(r, dict) and r.get("rule")]
    if rules and entry["result"] == "refused":
        failure["gate"] = ", ".join(rules)
    if entry.get("failed_task"):
        failure["task"] = entry["failed_task"]
    return failure


def _failure_text(vm, entry):
    if entry.get("refused"):
        return entry["refused"]
    if vm.get("remedy") or vm.get("error_code"):
        code = vm.get("error_code")
        return "%s%s" % ("[%s] " % code if code else "", vm.get("remedy") or "")
    return remedies.summary(entry["errors"]) or "job %s" % ((vm.get("job") or {}).get("state") or "failed")


def _iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _running_at(job, boot_group):
    """When ASR's failover job had the VM running on-premises (epoch): the end of its boot group's start task
    (``Group N: Start``, a recovery plan's job), else the job's end; None while unknown."""
    if boot_group:
        for task in (job or {}).get("tasks") or []:
            if isinstance(task, dict) and (task.get("friendly_name") or "").strip().lower() == (
                    "group %d: start" % boot_group) and task.get("state") == "Succeeded":
                return _epoch_of(task.get("end_time"))
    return _number((job or {}).get("end_epoch")) if (job or {}).get("state") == "Succeeded" else None


def _epoch_of(iso):
    """Epoch seconds of an ISO 8601 time (``recovery_points.moment``); None when empty or unparsable."""
    parsed = recovery_points.moment(str(iso)) if iso else None
    return parsed.timestamp() if parsed else None


def _vm_entry(vm_name, steps, verified, verified_at, boot_group=None):
    """``(entry, failure)``: one VM's stages and recovery-point facts from the steps' results.

    RTO (``rto_seconds``): from the start of its failover job to the VM running on-premises as ASR's job shows it
    (its boot group's start task, or its job's end), counted only when the run verified it running (``verified``,
    ``verified_at``); without those job times, to ``verified_at``. ``verified_seconds``: to the verification's end.
    ``outage``: from the failover job's start to the VM running on-premises (verified or not; open while not).
    """
    entry = {"name": vm_name, "stages": [], "boot_group": boot_group}
    failure = None
    for step in STEPS:
        step_failed = isinstance(steps.get(step), dict) and bool(steps[step].get("failed"))
        going = (steps[step].get("continue_with") or []) if step_failed else []
        for vm in vms_of(steps.get(step)):
            if vm["name"] != vm_name:
                continue
            # a step that failed per VM (it stopped another VM) still took this one on: not refused
            stage = _stage_entry(step, vm, step_failed and vm_name not in going)
            entry["stages"].append(stage)
            if stage["result"] in ("failed", "refused") and failure is None:
                failure = _failure(step, vm, stage)
            job = vm.get("job") or None
            if step == "failover_to_onprem" and vm.get("recovery_point"):
                point = vm["recovery_point"]
                entry.update(recovery_point=point.get("name"), recovery_point_type=point.get("type"),
                             recovery_point_time=point.get("time"),
                             data_loss_window_seconds=vm.get("data_loss_window_seconds"))
            if step == "failover_to_onprem" and job and job.get("start_epoch"):
                start = float(job["start_epoch"])
                entry["outage"] = {"start_epoch": start, "end_epoch": None, "start": _iso(start), "end": None}
                is_verified = verified_at not in (None, "") and vm_name in verified
                running = _running_at(job, boot_group)
                end = running
                if running is not None:
                    entry["onprem_running_at"] = _iso(running)
                if is_verified:
                    end = running if running is not None and running <= float(verified_at) else float(verified_at)
                    entry["rto_seconds"] = round(end - start, 1)
                    entry["verified_seconds"] = round(float(verified_at) - start, 1)
                if end is not None:  # ASR started it on-premises (verified or not): the outage ended there
                    entry["outage"].update(end_epoch=end, end=_iso(end))
            entry["final_stage"] = vm.get("stage_after", vm.get("stage_before"))
    return entry, failure


def _next_action(vm, current, read_error):
    """What a person does next for one VM: fix what failed, then re-run; or nothing."""
    failure = vm.get("failure")
    if current is None:
        return "Read where it stands (siterecovery.failback.replicated_item_info; %s), then re-run the playbook." % (
            read_error or "not read")
    if current == "reprotected_to_azure" and not failure:
        return "Nothing: its failback is complete."
    what = "re-run the playbook: it will %s." % vm["rerun"].rstrip(".")
    if failure:
        cause = failure.get("gate") or failure.get("task") or failure["step"]
        return "Fix what failed at %s (%s), then %s" % (
            cause, (failure.get("message") or "see the run's error").rstrip("."), what)
    return what[0].upper() + what[1:]


def assemble(name, started, finished, result, failed_stage, failed_message, steps, onprem=None, verified_at=None,
             items=None, read_error=None, check_mode=False, plan=None, unit_steps=None, plans=None, waves=None,
             blocked=None):
    """The report dict.

    ``started`` / ``finished``: epoch seconds (``started`` None or empty: the run had not started its clock);
    ``result``: V(success) or V(failed); ``steps``: ``{step name: module result, or a list of attempts}`` for the
    names in ``STEPS`` (a missing or empty one did not run); ``onprem``: the on-premises verification's result
    (``vms`` with ``name``); ``verified_at``: epoch when the on-premises VMs were verified; ``items``: the items as
    replicated_item_info normalizes them after the run (``name``, ``failback_stage``), or None when not read;
    ``read_error``: why they could not be read. ``check_mode``: the run changed nothing and its steps only
    predicted; each VM gets ``predicted_stage`` (where the run would leave it). When the run failed only because
    VMs stopped per VM (each failed step went on with the others, ``continue_with``), a VM that failed in no step
    is not blamed for the run's failure. ``plan``: the run's recovery plan, ``{name, boot_groups: [[VM name, ...],
    ...]}`` in boot order (from Site Recovery), or None.

    A run of several units (its waves, docs/scale.md): ``unit_steps`` holds the steps' results of the units before the
    last (``[{step: result}]``, in order), ``steps`` the last's; each step's results are merged (:func:`merge_units`).
    ``plans``: the run's recovery plans, ``[{name, vms: [VM name, ...]}]`` (from Site Recovery; ``vms`` empty when not
    read), ``waves``: the run's waves (``[[plan, ...], ...]``), ``blocked``: why a wave did not start; the report then
    has a per-plan section (``plans``, :func:`plan_section`).
    """
    finished = float(finished)
    plan = plan or {}
    boot_group = {vm_name: index for index, group in enumerate(plan.get("boot_groups") or [], 1) for vm_name in group}
    started = float(started) if started not in (None, "") else finished
    units = [unit for unit in (unit_steps or []) if isinstance(unit, dict)] + [steps or {}]
    per_vm_only = _per_vm_only({"%s/%d" % (step, index): unit.get(step) for index, unit in enumerate(units)
                                for step in STEPS})
    requests = requests_of(units)
    steps = {step: merge_units([step_result(unit.get(step)) for unit in units]) for step in STEPS}
    names = []
    for name_seen in [vm["name"] for step in STEPS for vm in vms_of(steps[step])] + [
            item.get("name") for item in items or []]:
        if name_seen and name_seen not in names:
            names.append(name_seen)
    now_stage = {item["name"]: item.get("failback_stage") for item in items or [] if item.get("name")}
    verified = {vm.get("name") for vm in vms_of(onprem)}
    vms = []
    for vm_name in names:
        entry, failure = _vm_entry(vm_name, steps, verified, verified_at, boot_group.get(vm_name))
        current = now_stage.get(vm_name)
        if check_mode:
            entry["predicted_stage"] = entry.get("final_stage")
        if result == "failed" and failure is None and current != "reprotected_to_azure" and not per_vm_only:
            failure = {"step": failed_stage or "unknown step", "message": failed_message or ""}
        entry["final_stage"] = current or entry.get("final_stage")
        entry.update(stage=current, next_step=stages.NEXT.get(current) if current else None, failure=failure,
                     rerun=rerun(current) if current else "read where it stands (siterecovery.failback."
                     "replicated_item_info; %s) and continue from there" % (read_error or "not read"))
        committed, copy = WHERE.get(current, (None, "unknown: read the item in Site Recovery"))
        entry.update(committed=committed, running_copy=copy, next_action=_next_action(entry, current, read_error))
        vms.append(entry)
    section = plan_section(plans, steps, vms, waves, blocked) if plans else []
    return {
        "run": {"id": "%s-%s" % (name, datetime.datetime.fromtimestamp(finished, datetime.timezone.utc)
                                 .strftime("%Y%m%dT%H%M%SZ")),
                "name": name, "started": _iso(started), "finished": _iso(finished),
                "duration_seconds": round(finished - started, 1), "result": result,
                "failed_stage": failed_stage or None, "failed_message": failed_message or None,
                "check_mode": bool(check_mode), "stages_read_from": "site_recovery" if items is not None else None,
                "stages_read_error": read_error, "started_epoch": started, "finished_epoch": finished,
                "recovery_plan": plan.get("name") or None,
                "boot_groups": [list(group) for group in plan.get("boot_groups") or []],
                "blocked": blocked or None, "requests": requests},
        "vms": vms,
        "plans": section,
    }


def plan_section(plans, steps, vms, waves=None, blocked=None):
    """The report's per-plan section: ``[{name, wave, vms, outcome, stopped_at, why, stages}]`` in the run's order.

    ``plans``: ``[{name, vms}]`` (the plan's VMs as Site Recovery lists them); ``steps``: ``{step: merged result}``,
    whose ``plans`` entries (``{name, vms, outcome: done | already_done | stopped, why}``, the step modules') say what
    each step did for each plan; ``vms``: the report's VM entries (``stage``, ``stages``, ``failure``); ``waves``: the
    run's waves; ``blocked``: why a wave did not start.

    ``outcome``: ``stopped`` when a step stopped the plan (``stopped_at`` that step, ``why`` the step's reason), or a
    VM of it failed in a step that took the plan (the VM's failure); ``done`` when a step took it and nothing stopped
    it; ``already_done`` when no step took it and every VM of it is reprotected to Azure (an earlier run); else
    ``not_started`` (``why``: its wave did not start, or the run paused before it)."""
    wave_of = {plan: index for index, wave in enumerate(waves or [], 1) if isinstance(wave, list) for plan in wave}
    by_vm = {vm["name"]: vm for vm in vms}
    section = []
    for plan in plans:
        name = plan.get("name")
        touched, stopped = [], None
        for step in STEPS:
            for entry in (steps.get(step) or {}).get("plans") or []:
                if not isinstance(entry, dict) or entry.get("name") != name:
                    continue
                touched.append(entry)
                if entry.get("outcome") == "stopped" and stopped is None:
                    stopped = (step, entry.get("why") or "no detail")
        members = list(plan.get("vms") or []) or list(dict.fromkeys(vm for e in touched for vm in e.get("vms") or []))
        # a VM's own failure in a step (not the run's failure given to every VM short of the end: that names a task of
        # the run, and says nothing of a plan no step took or that reached its gate)
        failed = [(vm, by_vm[vm]["failure"]) for vm in members if by_vm.get(vm, {}).get("failure")
                  and by_vm[vm]["failure"].get("step") in STEPS]
        if stopped is None and failed:
            stopped = (failed[0][1].get("step"), "VM %s: %s" % (failed[0][0], failed[0][1].get("message") or "no detail"))
        entry = {"name": name, "wave": wave_of.get(name), "vms": members,
                 "stages": {vm: by_vm.get(vm, {}).get("stage") for vm in members}}
        if stopped:
            entry.update(outcome="stopped", stopped_at=stopped[0], why=stopped[1])
        elif touched or any(by_vm.get(vm, {}).get("stages") for vm in members):
            entry.update(outcome="done", stopped_at=None, why=None)
        elif members and all(by_vm.get(vm, {}).get("stage") == "reprotected_to_azure" for vm in members):
            entry.update(outcome="already_done", stopped_at=None, why=None)  # an earlier run failed it back
        else:
            entry.update(outcome="not_started", stopped_at=None, why=_not_started(name, wave_of, blocked))
        section.append(entry)
    return section


def _not_started(name, wave_of, blocked):
    if not wave_of.get(name):
        return "no step took it"
    if blocked:
        return blocked
    return "the run did not take its wave (%d): the run paused before it, or an earlier wave stopped" % wave_of[name]


def rerun(stage):
    """What a re-run of the failback does for a VM at ``stage`` (a stage of domain.stages)."""
    return RERUN.get(stage) or "nothing until this is done: %s" % stages.NEXT.get(stage, stages.NEXT["unknown"])


def lines(report):
    """One line per VM for people: ``"app01 at failover_failed - failover_to_onprem failed: [8038] ...; a re-run
    will fail it over ..."``; a failure that is the run's own (no VM detail) points at the run's message instead of
    repeating it."""
    out = []
    run_message = report["run"].get("failed_message")
    for vm in report["vms"]:
        failure = vm.get("failure")
        if not failure:
            what = "nothing failed for it"
            if report["run"].get("check_mode") and vm.get("predicted_stage"):
                what += ", and the run would take it to %s (check mode: nothing was changed)" % vm["predicted_stage"]
        elif failure["message"] and failure["message"] == run_message:
            what = "the run stopped at '%s' (the error above)" % failure["step"]
        else:
            what = "%s failed: %s" % (failure["step"], failure["message"] or "no detail")
        out.append("%s at %s - %s; a re-run will %s." % (
            vm["name"], vm.get("stage") or vm.get("final_stage") or "an unknown stage", what, vm["rerun"].rstrip(".")))
    return out


def plan_lines(report):
    """One line per recovery plan for people: ``"rp-app (wave 1): done (2 VM(s): app01, db01)."``, ``"rp-web (wave 1):
    stopped at failover_to_onprem - <why> (1 VM(s): web01)."``."""
    out = []
    for plan in report.get("plans") or []:
        head = "%s%s: %s" % (plan["name"], " (wave %d)" % plan["wave"] if plan.get("wave") else "",
                             plan["outcome"].replace("_", " "))
        if plan["outcome"] == "stopped":
            head += " at %s - %s" % (plan.get("stopped_at") or "a step", plan.get("why") or "no detail")
        elif plan["outcome"] == "not_started":
            head += " - %s" % plan.get("why")
        out.append("%s (%d VM(s): %s)." % (head.rstrip("."), len(plan["vms"]), ", ".join(plan["vms"]) or "none read"))
    return out


def compact(report):
    """The short form AWX shows in the job's artifacts (``set_stats``): the run's id, result and plan, and per VM
    its stage, result (failed, refused, running or done), RTO, data-loss window and next action. Only facts of the
    report: names, stages, numbers and the messages ASR and the steps gave; no option, address or credential."""
    run = report["run"]
    vms = []
    for vm in report["vms"]:
        results = [stage["result"] for stage in vm.get("stages") or []]
        result = next((r for r in ("failed", "refused", "running") if r in results), None) or (
            "failed" if vm.get("failure") else "done")
        vms.append({"name": vm["name"], "stage": vm.get("stage") or vm.get("final_stage"), "result": result,
                    "boot_group": vm.get("boot_group"), "committed": vm.get("committed"),
                    "running_copy": vm.get("running_copy"), "rto_seconds": vm.get("rto_seconds"),
                    "data_loss_window_seconds": vm.get("data_loss_window_seconds"),
                    "failure": vm.get("failure"), "next_action": vm.get("next_action")})
    short = {"run_id": run["id"], "result": run["result"], "recovery_plan": run.get("recovery_plan"),
             "started": run["started"], "finished": run["finished"], "failed_stage": run.get("failed_stage"), "vms": vms}
    if report.get("plans"):  # a run of several plans: each plan's outcome, wave and why it stopped
        short["plans"] = [{key: plan.get(key) for key in ("name", "wave", "outcome", "stopped_at", "why", "vms")}
                          for plan in report["plans"]]
    return short
