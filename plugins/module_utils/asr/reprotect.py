# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reprotect items to on-premises (InMageAzureV2 -> InMage) or back to Azure, item by item.

Every item is checked first; refusals change nothing. Items already past the reprotect are
left alone (changed: false). Reprotect to Azure retries the "agent not registered" failure
until the agent-registration deadline, as the docs say to.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric as asr_fabric
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import failover, ids, operations, runner
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.providers import classic, modernized
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import (
    lifecycle,
    limits,
    placement,
    remedies,
    rules,
    stages,
)

STEPS = {"to_onprem": lifecycle.step("reprotect_to_onprem"), "to_azure": lifecycle.step("reprotect_to_azure")}
WORDS = {"to_onprem": runner.Words("reprotect to on-premises", "Reprotect to on-premises", "reprotect"),
         "to_azure": runner.Words("reprotect to Azure", "Reprotect to Azure", "reprotect")}


def _policy_ids(vault, instance_type):
    return {p.id.lower() for p in vault.policies()
            if plain(getattr(p.properties.provider_specific_details, "instance_type", None)) == instance_type}


def _policy_for(vault, model, instance_type):
    """The policy of ``instance_type`` mapped to the item's container (the failback policy for InMage)."""
    fabric, container, _name = ids.item_path(model.id)
    wanted = _policy_ids(vault, instance_type)
    for mapping in vault.mappings(fabric, container):
        policy = getattr(mapping.properties, "policy_id", None)
        if policy and policy.lower() in wanted:
            return policy
    raise AzureError("No %s policy is mapped to the protection container of %s; ASR creates the failback policy "
                     "with the first reprotect through the portal, or map one to the container." % (
                         instance_type, model.properties.friendly_name), rule="policy_missing")


def _fabric_details(vault, model):
    fabric_name = ids.item_path(model.id)[0]
    for fabric in vault.fabrics():
        if fabric.name == fabric_name:
            return fabric, fabric.properties.custom_details
    raise AzureError("The fabric of item %s was not found." % model.properties.friendly_name, rule="fabric_missing")


def _place(names, vm):
    """The names for one VM: its ``placements`` entry over the module-level defaults (``placement.names_for``, the
    merge the preflight makes too)."""
    return placement.names_for(names, vm)


def _optional_policy(vault, model, instance_type):
    try:
        return _policy_for(vault, model, instance_type)
    except AzureError:
        return None


def _build_onprem_modernized(vault, model, item, details, place):
    """Modernized: reprotect through a replication appliance straight into the on-premises disks. The rules are the
    preflight's (``domain.rules``: modernized_datastore, log_storage_account, choose_appliance); every one that does
    not hold is named in one refusal."""
    missing = [b for b in (rules.modernized_datastore(item["name"], place["datastore"]),
                           rules.log_storage_account(item["name"], place["log_storage_account_id"])) if b is not None]
    if missing:
        raise AzureError(" ".join(b.sentence() for b in missing), rule=missing[0].rule)
    agent = modernized.appliance(details, place["appliance"], place["datastore"], vm=item["name"])
    body = modernized.reprotect_to_onprem(agent, place["datastore"], place["log_storage_account_id"],
                                          _optional_policy(vault, model, "InMageRcmFailback"))
    return body, {"appliance": agent.name, "datastore": place["datastore"], "master_target": None,
                  "process_server": None, "process_server_reason": None, "retention_volume": None, "run_as_account": None}


def _build_onprem(vault, model, item, names):
    fabric, details = _fabric_details(vault, model)
    place = _place(names, item["name"])
    if item["provider"] in stages.MODERN_FORWARD:
        return _build_onprem_modernized(vault, model, item, details, place)
    if not place["master_target"]:
        raise AzureError("VM %s: no master target was chosen for it." % item["name"], rule="master_target_required")
    # every name is checked by the preflight's own rules (domain.rules), and every one that does not hold is named
    # in one refusal, in the preflight's sentences
    refused = []

    def attempt(func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AzureError as error:
            refused.append((error.msg, error.details.get("rule")))
            return None

    def hold(broken):
        if broken is not None:
            refused.append((broken.sentence(), broken.rule))

    mt = attempt(classic.master_target, details, place["master_target"])
    if mt is not None:
        hold(rules.master_target_os(item["name"], item["os_type"], mt.name, plain(mt.os_type)))
    hold(rules.physical_server(item["name"], item["discovery_type"] == "Physical", place["datastore"]))
    chosen = attempt(classic.process_server, details, place["process_server"], own=fabric.properties.friendly_name,
                     vm=item["name"])
    volume = attempt(classic.retention_volume, mt, place["retention_volume"]) if mt is not None else None
    if mt is not None and place["datastore"]:
        attempt(classic.datastore, mt, place["datastore"], item["name"])
    account = attempt(classic.run_as_account, details, place["run_as_account"])
    if refused:
        raise AzureError(" ".join(message for message, _rule in refused), rule=refused[0][1])
    ps, why = chosen
    body = classic.reprotect_to_onprem(mt, ps, volume, _policy_for(vault, model, "InMage"), place["datastore"], account)
    return body, {"master_target": mt.name, "process_server": ps.friendly_name, "process_server_reason": why,
                  "retention_volume": volume.volume_name, "datastore": place["datastore"],
                  "run_as_account": account.account_name if account else None}


def _build_azure(vault, model, item, names):
    fabric, details = _fabric_details(vault, model)
    place = _place(names, item["name"])
    if item["provider"] in stages.MODERN_FAILBACK:
        servers = list(details.process_servers or [])
        wanted = (place["process_server"] or "").lower()
        ps = next((p for p in servers if not wanted or wanted in ((p.name or "").lower(), (p.id or "").lower())), None)
        if ps is None:
            raise AzureError("Process server %s is not registered (registered: %s)." % (
                place["process_server"], ", ".join(sorted(p.name for p in servers)) or "none"), rule="process_server_unknown")
        body = modernized.reprotect_to_azure(ps.id, _policy_for(vault, model, "InMageRcm"), place["run_as_account"])
        return body, {"process_server": ps.name, "process_server_reason": "named" if wanted else "the first registered",
                      "run_as_account": place["run_as_account"]}
    # back to Azure, data flows through the on-premises process server (the configuration server's own by default)
    ps, why = classic.process_server(details, place["process_server"] or fabric.properties.friendly_name)
    if not place["process_server"]:
        why = "configuration server %s's own (the default back to Azure)" % fabric.properties.friendly_name
    account = classic.run_as_account(details, place["run_as_account"])
    body = classic.reprotect_to_azure(ps, _policy_for(vault, model, "InMageAzureV2"), account)
    return body, {"process_server": ps.friendly_name, "process_server_reason": why,
                  "run_as_account": account.account_name if account else None}


def _check_groups(selected, names):
    """Every member of a replication group reprotects through one master target."""
    groups = {}
    for _model, item in selected:
        if item["replication_group"]:
            groups.setdefault(item["replication_group"], set()).add(_place(names, item["name"])["master_target"])
    return ["Replication group %s would use master targets %s; all its VMs must fail back through one master target."
            % (group, ", ".join(sorted(str(m) for m in mts))) for group, mts in sorted(groups.items()) if len(mts) > 1]


def auto_place(vault, selected, names, now=None):
    """Choose a master target for every VM that has none (placement by OS, datastore reach and the
    60-disk budget, one per replication group, sized with the group's members outside the selection and sent to the
    master target already holding some of them: ``placement.companions``); returns names with the choices as
    placements.

    A master target whose agent's last heartbeat (the fabric's ``lastHeartbeat``) is known and older than the
    preflight's default limit is skipped, and a refusal says why (``rules.master_target_running``; this step reads no vSphere,
    so the power state is the preflight's to check). ``now``: the time to age the heartbeats at (a test's)."""
    unplaced = [(model, item) for model, item in selected if not _place(names, item["name"])["master_target"]
                and item["provider"] not in stages.MODERN_FORWARD]
    if not unplaced:
        return names, []
    details = _fabric_details(vault, unplaced[0][0])[1]
    now = now or asr_fabric.now_utc()
    master_targets, by_id = [], {}
    for mt in details.master_target_servers or []:
        by_id[(mt.id or "").lower()] = mt.name
        age = asr_fabric.age_seconds(getattr(mt, "last_heartbeat", None), now)
        # an unknown heartbeat is the preflight's to judge (mt_heartbeat); a known stale one rules the master target out
        broken = rules.master_target_running(mt.name, None, age, rules.DEFAULT_HEARTBEAT_MAX_AGE_SECONDS) if (
            age is not None) else None
        master_targets.append({"name": mt.name, "os_type": plain(mt.os_type), "disk_count": mt.disk_count or 0,
                               "datastores": [d.symbolic_name for d in mt.data_stores or []
                                              if limits.is_failback_datastore_type(plain(d.type))],
                               "unusable": broken.message if broken else None})
    vms = [{"name": item["name"], "os_type": item["os_type"], "group": item["replication_group"],
            "disk_count": item["disk_count"],
            "datastores": [_place(names, item["name"])["datastore"]] if _place(names, item["name"])["datastore"]
            else item["onprem"]["datastores"]} for _model, item in unplaced]
    # a replication group is placed whole: its members outside the selection count too (asr.items.group_members)
    todo = [item for _model, item in unplaced]
    vms += placement.companions(todo, asr_items.group_members(vault, [item for _model, item in selected]),
                                lifecycle.stages_of("reprotect_to_onprem"), by_id)
    choice, problems = placement.place(vms, master_targets)
    placing = {item["name"] for item in todo}
    choice = {vm: mt for vm, mt in choice.items() if vm in placing}
    placements = {vm: dict(spec) for vm, spec in (names.get("placements") or {}).items()}
    for vm, mt in choice.items():
        placements.setdefault(vm, {})["master_target"] = mt
    return dict(names, placements=placements), problems


def plan(vault, selected, direction, names, assumed=None, selection_plan=None, now=None):
    """Decide per item: act (with its request body), skip, or refuse; raise listing every refusal.

    Returns ``(actions, results)``: ``actions`` are ``(model, item, body, result)`` of the items to reprotect."""
    step = STEPS[direction]
    build = _build_onprem if direction == "to_onprem" else _build_azure
    problems = []
    if direction == "to_onprem":
        startable = [s for s in selected if step.decide(s[1]["failback_stage"])[0] == lifecycle.ACT]
        names, problems = auto_place(vault, startable, names, now=now)
        problems += _check_groups(startable, names)
        # a replication group fails over through its recovery plan, whole: refuse now what the failover would
        # refuse after this reprotect (selected by VM name, part of a group, no plan holding exactly the selection)
        if not selection_plan:
            failover.route_groups(vault, [(m, i) for m, i in selected
                                          if i["replication_group"] and step.decide(i["failback_stage"])[0] != lifecycle.REFUSE],
                                  None, problems)
    bodies = {}

    def check(model, item, result):
        body, chosen = build(vault, model, item, names)
        result.update(chosen)
        bodies[item["item_name"]] = body

    acting, results, refusals = runner.decide(step, WORDS[direction], selected, check, extra={"attempts": 0},
                                              assumed=assumed)
    runner.refuse(WORDS[direction], problems + refusals, results)
    by_name = {r["item_name"]: r for r in results}
    return [(model, item, bodies[item["item_name"]], by_name[item["item_name"]]) for model, item in acting], results


def apply(vault, actions, direction, deadline, agent_deadline, poll, on_start=None):
    """Start each reprotect, wait for all jobs; retry agent-not-registered failures (to Azure)."""
    pending = list(actions)
    while pending:
        started = {}
        for model, item, body, result in pending:
            if on_start is not None:
                on_start(model, item)
            started[item["item_name"]] = operations.item_action(vault, "reprotect", model, body)
            result["attempts"] += 1
        summaries = operations.wait(vault, started.values(), deadline, poll=poll)
        retry = []
        for entry in pending:
            result = entry[3]
            summary = summaries.get(started[entry[1]["item_name"]])
            result["job"] = operations.job_result(summary)
            agent = direction == "to_azure" and summary and summary["state"] == "Failed" and summary["errors"] and all(
                remedies.is_agent_not_registered(e) for e in summary["errors"])
            if agent and agent_deadline is not None and not agent_deadline.expired():
                retry.append(entry)
        if retry:
            agent_deadline.sleep(min(poll * 4, 60.0))
        pending = retry


def ensure(session, vault, selection, direction, names, check_mode, deadline, agent_deadline=None, poll=15.0,
           record_azure_vm=None, assumed=None, per_vm=False, now=None):
    """The module's whole job: ``{changed, vms[, predicted_stages]}``; raises AzureError when a job failed.
    ``now``: the time master target heartbeats are aged at for automatic placement (a test's; default the clock).
    ``assumed``: check mode only, the stages an earlier step of the same run predicted (``runner.assume``).
    ``per_vm``: a VM that cannot be reprotected (or whose job fails) stops alone with its replication group, the
    others go on (``runner.PerVm``); over recovery plans (``selection["plan"]``, one or a list) a plan is one unit,
    stopped whole while the other plans go on."""
    selected = asr_items.select(vault, **selection)
    assumed = assumed if check_mode else None
    gate = runner.PerVm(WORDS[direction], selected, per_vm, plan_of=asr_items.plan_units(vault, selection.get("plan")))
    in_plan = asr_items.plan_names(selection.get("plan"))

    def plan_unit(unit):
        return plan(vault, unit, direction, names, assumed=assumed, selection_plan=in_plan, now=now)

    selected = gate.sift(selected, runner.trying(plan_unit))
    try:
        actions, results = plan(vault, selected, direction, names, assumed=assumed, selection_plan=in_plan, now=now)
    except AzureError as error:
        gate.conclude([], error)
    if check_mode:
        predicted = runner.predict(STEPS[direction], results)
        return gate.outcome({"changed": bool(actions), "vms": gate.conclude(results, predicted=predicted),
                             "predicted_stages": predicted})
    if not actions:
        return gate.outcome({"changed": False, "vms": gate.conclude(results)})
    apply(vault, actions, direction, deadline, agent_deadline, poll, on_start=record_azure_vm)
    try:
        runner.finish(vault, WORDS[direction], results, {}, step=STEPS[direction])
    except AzureError as error:
        gate.conclude(results, error)
    return gate.outcome({"changed": True, "vms": gate.conclude(results)})
