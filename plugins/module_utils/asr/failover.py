# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail over from Azure to on-premises (classic: unplanned failover of InMage items) with a
chosen recovery point, for items or a recovery plan."""

from __future__ import annotations

import datetime

from ansible_collections.siterecovery.failback.plugins.module_utils import progress
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric, ids, operations, runner
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.providers import classic, modernized
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import lifecycle, recovery_points, rules, stages

STEP = lifecycle.step("failover")
CANCEL = lifecycle.step("cancel")


def _point(point):
    props = point.properties
    when = props.recovery_point_time
    return {"name": point.name, "id": point.id, "type": plain(props.recovery_point_type),
            "time": when.isoformat() if hasattr(when, "isoformat") else when, "_time": when}


def choose_point(points, wanted):
    """The recovery point ``wanted`` selects among ``points`` (dicts from _point), or None (domain.recovery_points)."""
    return recovery_points.choose(points, wanted)


# The item's GET shows a point (consistency points, retention window) but its recovery-point list is empty: ASR
# fails over to its latest point itself (recoveryPointType LatestTime, as recorded), so the latest processed point
# needs no listed point. Its time is unknown (the GET's times are not comparable with the clock).
LATEST_UNLISTED = {"name": None, "id": None, "type": classic.RECOVERY_POINT_TYPES["latest_processed"], "time": None,
                   "_time": None}


def _public(point, now):
    if point is None:
        return None, None
    when = recovery_points.moment(point["_time"])
    window = (now - when).total_seconds() if when is not None else None
    return {k: v for k, v in point.items() if not k.startswith("_")}, round(window, 1) if window is not None else None


def _plans_of(vault, item_ids):
    """``{plan name: set of member item ids}`` for the plans holding any of ``item_ids``."""
    result = {}
    for plan in vault.plans():
        members = {arm_id.lower() for arm_id, _group in asr_items.plan_members(plan)}
        if members & item_ids:
            result[plan.name] = members
    return result


def route_groups(vault, acting, plan_name, refusals):
    """Items of a user replication group fail over through their recovery plan (ASR refuses them
    one by one). Returns the plan to use, if the whole plan is being failed back."""
    grouped = [item for _model, item in acting if item["replication_group"]]
    if plan_name or not grouped:
        return plan_name
    selected_ids = {item["id"].lower() for _model, item in acting}
    plans = _plans_of(vault, {item["id"].lower() for item in grouped})
    names = {model.id.lower(): model.properties.friendly_name for model in vault.items()}  # the cached list
    # the preflight's rule replication_group_plan is this one (domain.rules.route_groups): the same sentences
    use, broken = rules.route_groups(grouped, selected_ids, plans, names)
    refusals.extend(b.message for b in broken.values())
    return use


class ClassicFailback:
    """InMage items (through a master target): an unplanned failover to a chosen recovery point."""

    action = "unplanned_failover"

    @staticmethod
    def choose(vault, model, item, recovery_point, plan_name, result, now):
        """Fill the result's recovery point; a refusal sentence when there is none to fail over to."""
        if result["assumed"]:  # check mode after a predicted reprotect: the point is chosen when the run gets here
            return None
        points = [_point(p) for p in vault.recovery_points(model)]
        chosen = choose_point(points, recovery_point)
        if chosen is None and not points and recovery_point == "latest_processed" and asr_items.point_evidence(model):
            chosen = dict(LATEST_UNLISTED)
        if chosen is None:
            return _no_point(item, points, recovery_point, plan_name)
        result["recovery_point"], result["data_loss_window_seconds"] = _public(chosen, now)
        return None

    @staticmethod
    def start(vault, model, item, recovery_point, source_site_operations):
        body = classic.failover(item["active_location"], recovery_point if recovery_point in classic.RECOVERY_POINT_TYPES
                                else _custom_id(vault, model, recovery_point), source_site_operations)
        return operations.item_action(vault, "unplanned_failover", model, body)

    @staticmethod
    def start_plan(vault, plan_name, recovery_point, source_site_operations):
        return operations.plan_action(vault, "unplanned_failover", plan_name,
                                      classic.plan_failover(recovery_point, source_site_operations))


class ModernizedFailback:
    """InMageRcmFailback items (through the replication appliance): a planned failover, which copies the pending
    changes and takes a fresh crash- or application-consistent point (no data-loss window)."""

    action = "planned_failover"

    @staticmethod
    def choose(_vault, _model, item, recovery_point, _plan_name, result, _now):
        if recovery_point not in modernized.RECOVERY_POINT_TYPES:
            return ("VM %s fails back through the modernized flow, a planned failover to the latest crash- or "
                    "application-consistent point: use latest_processed or latest_app_consistent." % item["name"])
        result["recovery_point"] = {"name": None, "id": None, "type": modernized.RECOVERY_POINT_TYPES[recovery_point],
                                    "time": None}
        result["data_loss_window_seconds"] = 0.0
        return None

    @staticmethod
    def start(vault, model, _item, recovery_point, _source_site_operations):
        return operations.item_action(vault, "planned_failover", model, modernized.planned_failover(recovery_point))

    @staticmethod
    def start_plan(vault, plan_name, recovery_point, _source_site_operations):
        return operations.plan_action(vault, "planned_failover", plan_name, modernized.plan_planned_failover(recovery_point))


def provider(item):
    """The failback flow an item takes: ModernizedFailback for InMageRcmFailback (and for an InMageRcm item a
    check-mode run assumes reprotected), else ClassicFailback."""
    return ModernizedFailback if item["provider"] in stages.MODERN_FAILBACK + stages.MODERN_FORWARD else ClassicFailback


WORDS = runner.Words("fail over to on-premises", "Failover to on-premises", "failover")
CANCEL_WORDS = runner.Words("cancel the failback", "Cancelling the failback", "cancel")


def plan(vault, selected, recovery_point, plan_name, assumed=None):
    """Decide per item; raise listing every refusal. Returns (acting, results, plan to use).

    ``assumed``: check mode only, ``{VM name: stage}`` an earlier step predicted (``runner.assume``)."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def check(model, item, result):
        return provider(item).choose(vault, model, item, recovery_point, plan_name, result, now)

    acting, results, refusals = runner.decide(STEP, WORDS, selected, check, extra={
        "recovery_point": None, "data_loss_window_seconds": None, "via_plan": None}, assumed=assumed)
    use_plan = route_groups(vault, acting, plan_name, refusals)
    if use_plan and recovery_point not in classic.RECOVERY_POINT_TYPES:
        refusals.append("Recovery plan %s fails over to latest_processed or latest_app_consistent only." % use_plan)
    runner.refuse(WORDS, refusals, results)
    for result in results:
        if result["action"] == "failover":
            result["via_plan"] = use_plan
    return acting, results, use_plan


def _no_point(item, points, wanted, plan_name):
    where = " Recovery plan %s cannot fail back until every VM has one." % plan_name if plan_name else ""
    if not points:
        return "VM %s has no recovery point yet: a VM cannot fail back before its first one.%s" % (item["name"], where)
    if wanted == "latest_app_consistent":
        return "VM %s has no application-consistent recovery point yet (its %d listed point(s) are %s).%s" % (
            item["name"], len(points), ", ".join(sorted({str(p["type"]) for p in points})), where)
    return "VM %s has no recovery point %s (it has %s)." % (item["name"], wanted, ", ".join(p["name"] for p in points))


def plan_units(vault, selected, recovery_point, plan_of, assumed=None):
    """:func:`plan` per recovery plan of the run (``plan_of``: ``{lower-case item ARM id: plan name}``,
    ``asr.items.plan_units``) and once for the VMs of no named plan; raise listing every refusal of every unit.

    Returns ``(acting, results, routes)``: ``results`` in selection order, ``routes`` ``[(plan to use or None,
    acting pairs)]`` - a named plan fails over through its own job, the other VMs by item (or through the plan
    that holds exactly their replication group, :func:`route_groups`)."""
    units = {}
    for pair in selected:
        units.setdefault(plan_of.get((pair[1].get("id") or "").lower()), []).append(pair)
    acting, results, routes, refusals = [], {}, [], []
    for name, pairs in units.items():
        try:
            unit_acting, unit_results, use = plan(vault, pairs, recovery_point, name, assumed=assumed)
        except AzureError as error:
            refusals.extend(error.details.get("refusals") or [error.msg])
            results.update((r["name"], r) for r in error.details.get("vms") or [])
            continue
        acting += unit_acting
        results.update((r["name"], r) for r in unit_results)
        routes.append((use, unit_acting))
    ordered = [results[item["name"]] for _model, item in selected if item["name"] in results]
    runner.refuse(WORDS, refusals, ordered)
    return acting, ordered, routes


def _start_failed(error):
    """A job summary for a failover Site Recovery refused to start (one plan of several: the others go on)."""
    return {"name": None, "id": None, "scenario": None, "state": "Failed", "state_description": "NotStarted",
            "start_time": None, "end_time": None, "start_epoch": None, "end_epoch": None, "duration_seconds": None,
            "tasks": [], "errors": [{"task": None, "code": error.details.get("code"), "message": error.msg,
                                     "possible_causes": None, "recommended_action": None, "provider_error_code": None,
                                     "provider_message": None, "provider_recommended_action": None, "level": "Error"}]}


def apply(vault, routes, recovery_point, source_site_operations, deadline, poll, plan_concurrency=10):
    """Start the failovers and wait; returns {item name: summary}.

    ``routes`` (:func:`plan_units`): each plan to use fails over through one plan job - at most ``plan_concurrency``
    plan jobs at once, the next plan starting as soon as one finishes (boot order inside a plan is the plan job's) -
    and the other items through one job each, all at once. A plan whose items fail back through the appliance takes
    a planned failover. With several units, a plan Site Recovery refuses to start fails alone (its summary says why)."""
    summaries = {}
    item_jobs = {}
    plans = [(use, pairs) for use, pairs in routes if use and pairs]
    several = len(plans) + sum(len(pairs) for use, pairs in routes if not use) > 1
    for use, pairs in routes:
        if not use:
            for model, item in pairs:
                item_jobs[item["item_name"]] = provider(item).start(vault, model, item, recovery_point,
                                                                    source_site_operations)
    running = {}
    limit = max(1, int(plan_concurrency or 1))
    while plans or running:
        while plans and len(running) < limit:
            use, pairs = plans.pop(0)
            flow = ModernizedFailback if any(provider(item) is ModernizedFailback for _model, item in pairs) \
                else ClassicFailback
            try:
                job = flow.start_plan(vault, use, recovery_point, source_site_operations)
            except AzureError as error:
                if not several:
                    raise
                summaries.update((item["item_name"], _start_failed(error)) for _model, item in pairs)
                continue
            # the plan's job names the plan as its target: the progress lines name each VM it fails over
            getattr(deadline, "progress", progress.NONE).members(use, [item["name"] for _model, item in pairs])
            running[job] = pairs
        if not running:
            break
        read = operations.wait(vault, list(running), deadline, poll=poll, any_finished=bool(plans))
        for job, summary in read.items():
            if summary["state"] in operations.FINISHED:
                summaries.update((item["item_name"], summary) for _model, item in running.pop(job))
    if item_jobs:
        read = operations.wait(vault, item_jobs.values(), deadline, poll=poll)
        summaries.update((name, read.get(job)) for name, job in item_jobs.items())
    return summaries


def cancel(vault, selection, check_mode, deadline, poll=15.0):
    """Cancel a failback that is not committed (modernized flow): ASR reverts the on-premises disks to
    their pre-failover snapshots and resumes replication from Azure. Classic failback cannot be cancelled."""
    selected = asr_items.select(vault, **selection)

    def check(_model, item, _result):
        if provider(item) is ModernizedFailback and "CancelFailover" in item["allowed_operations"]:
            return None
        return ("VM %s fails back through ASR's classic flow, whose failback cannot be cancelled (ASR allows %s): fix "
                "the on-premises VM and commit, or fail over again." % (
                    item["name"], ", ".join(item["allowed_operations"]) or "nothing"))

    acting, results, refusals = runner.decide(CANCEL, CANCEL_WORDS, selected, check)
    runner.refuse(CANCEL_WORDS, refusals, results)
    if check_mode or not acting:
        return {"changed": bool(acting), "vms": results}
    started = {item["item_name"]: operations.item_action(vault, "failover_cancel", model) for model, item in acting}
    summaries = operations.wait(vault, started.values(), deadline, poll=poll)
    runner.finish(vault, CANCEL_WORDS, results, {name: summaries.get(job) for name, job in started.items()},
                  step=CANCEL)
    return {"changed": True, "vms": results}


def _custom_id(vault, model, wanted):
    chosen = choose_point([_point(p) for p in vault.recovery_points(model)], wanted)
    return chosen["id"] if chosen else wanted


def _holders(vault, selected):
    """``{VM name: the master target Site Recovery names for its classic item}`` (``asr.fabric.master_target_of``)."""
    classic = [item for _model, item in selected if provider(item) is ClassicFailback]
    if not classic:
        return {}
    names = fabric.master_target_names(vault)
    return {item["name"]: fabric.master_target_of(item, names) for item in classic}


def _pin(acting, pin, holders):
    """Pin the VMDKs of the classic VMs about to fail over (``pin``, see :func:`ensure`) on the master target Site
    Recovery names for each (``holders``); returns the warnings."""
    names = [item["name"] for _model, item in acting if provider(item) is ClassicFailback]
    if pin is None or not names:
        return []
    outcome = pin([{"name": name, "pins_from": holders.get(name)} for name in names])
    return ["VM %s: the disk UUIDs of its VMDKs were not pinned before the failover (%s); should the job stop "
            "part-way, a VMDK it leaves attached to no VM is not recorded, and the commit asks for protected_disk_files."
            % (name, outcome.get(name)) for name in names if outcome.get(name, "not pinned")]


def _record(entries, results, record, holders=None):
    """Record the disks of the VMs of ``entries`` marked ``record_disks`` with ``record(entries) -> {name: problem or
    None}`` (the module's vSphere, right after their failover jobs); a VM recorded loses the mark, one that could
    not be recorded keeps it (onprem_vm records it next). Each result gets ``disks_recorded`` (True, False, or None:
    not asked). Returns the problems."""
    wanted = [e for e in entries if e.get("record_disks")]
    if not wanted or record is None:
        return []
    outcome = record([dict(e, pins_from=(holders or {}).get(e["name"])) for e in wanted])
    problems = []
    for entry in wanted:
        problem = outcome.get(entry["name"], "not recorded")
        if problem is None:
            del entry["record_disks"]
        else:
            problems.append("VM %s: its disks were not recorded after the failover (%s); the verification "
                            "(siterecovery.failback.onprem_vm given verify_onprem) records them." % (entry["name"], problem))
    for result in results:
        if any(e["name"] == result["name"] for e in wanted):
            result["disks_recorded"] = outcome.get(result["name"], "not recorded") is None
    return problems


def ensure(session, vault, selection, recovery_point, source_site_operations, check_mode, deadline, poll=15.0,
           azure_vms=None, assumed=None, per_vm=False, record=None, pin=None, plan_concurrency=10):
    """The failover module's whole job: ``{changed, vms, recovery_plan, recovery_plans[, plans, plans_going][, job_ids]
    [, predicted_stages]}``; raises AzureError listing every refusal (nothing changed) or every failed job (per VM).
    ``assumed``: check mode only, the stages an earlier step of the same run predicted. ``per_vm``: a VM that cannot
    fail over (or whose job fails) stops alone with its replication group, the others go on (``runner.PerVm``); over
    recovery plans (``selection["plan"]``, one or a list) each plan is one unit: a plan that cannot fail over, or whose
    job fails, stops whole and the other plans go on. ``plan_concurrency``: at most that many plan jobs at once.
    ``record(entries) -> {name: problem or None}``: records the disks ASR attached to each classic VM failed over
    here (``vsphere.onprem.record_disks``), right after its job; None leaves that to onprem_vm (``record_disks`` in
    ``verify_onprem``). ``pin(names) -> {name: problem or None}``: pins the disk UUIDs of those classic VMs' VMDKs on
    their master targets right before the jobs start (``vsphere.onprem.pin_replicas``), so VMDKs a job that stops
    part-way leaves attached to no VM are recorded with them. ``warnings`` lists a VM it could not record or pin."""
    selected = asr_items.select(vault, **selection)
    plan_of = asr_items.plan_units(vault, selection.get("plan"))
    assumed = assumed if check_mode else None
    gate = runner.PerVm(WORDS, selected, per_vm, plan_of=plan_of)
    selected = gate.sift(selected, runner.trying(
        lambda unit: plan_units(vault, unit, recovery_point, plan_of, assumed=assumed)))
    try:
        acting, results, routes = plan_units(vault, selected, recovery_point, plan_of, assumed=assumed)
    except AzureError as error:
        gate.conclude([], error)
    used = [use for use, pairs in routes if use and pairs]
    named = {"recovery_plan": used[0] if len(used) == 1 else None, "recovery_plans": used}
    if check_mode:  # only the VMs already back can be verified on-premises now; the others would be after the job
        predicted = runner.predict(STEP, results)
        results = gate.conclude(results, predicted=predicted)
        return gate.outcome(dict(named, changed=bool(acting), vms=results, predicted_stages=predicted,
                                 verify_onprem=_verify([r for r in results if not r["changed"]], selected)))
    if not acting:
        results = gate.conclude(results)
        return gate.outcome(dict(named, changed=False, vms=results, verify_onprem=_verify(results, selected)))
    holders = _holders(vault, selected) if (pin or record) else {}
    pin_warnings = _pin(acting, pin, holders)
    summaries = apply(vault, routes, recovery_point, source_site_operations, deadline, poll,
                      plan_concurrency=plan_concurrency)

    def after(result, item):
        found = azure_vms.find(item) if azure_vms is not None else None
        result["azure_vm_power_state"] = found["power_state"] if found else None

    try:
        runner.finish(vault, WORDS, results, {k: v for k, v in summaries.items() if v is not None}, after=after,
                      step=STEP)
    except AzureError as error:
        try:
            gate.conclude(results, error)
        except AzureError as stopped:  # per VM: the VMs that go on are verified next, as on success
            going = set(stopped.details.get("continue_with") or [])
            verify = _verify([r for r in results if r["name"] in going], selected, True)
            stopped.details.update(verify_onprem=verify,
                                   warnings=pin_warnings + _record(verify, results, record, holders))
            raise
    results = gate.conclude(results)
    verify = _verify(results, selected, True)
    warnings = pin_warnings + _record(verify, results, record, holders)
    return gate.outcome(dict(named, changed=True, vms=results, verify_onprem=verify, warnings=warnings,
                             job_ids=sorted({ids.last(r["job"]["id"]) for r in results if r["job"] and r["job"]["id"]})))


def _verify(results, selected, ran=False):
    """The VMs the next step verifies on-premises (each as ``{name}``, what onprem_vm takes, plus ``instance_uuid``
    when the item records its VM's - a modernized item, ``items.recorded_instance_uuid``: onprem_vm then acts on that
    VM whatever other VM shares its name, domain.identity): every VM of ``results``.

    ``ran``: the failover jobs of ``results`` ran in this call and succeeded; a classic VM failed over by one of them
    gets ``record_disks: true`` (onprem_vm records the disks ASR attached in its failback manifest, when it carries
    none: ASR names no file nor UUID for a classic disk, and the commit gate trusts that record over a name)."""
    uuids = {item["item_name"]: (item.get("onprem") or {}).get("instance_uuid") for _model, item in selected}
    classic = {item["item_name"] for _model, item in selected if provider(item) is ClassicFailback}
    entries = []
    for result in results:
        entry = {"name": result["name"]}
        if uuids.get(result.get("item_name")):
            entry["instance_uuid"] = uuids[result["item_name"]]
        if ran and result.get("action") == "failover" and result.get("item_name") in classic:
            entry["record_disks"] = True
        entries.append(entry)
    return entries
