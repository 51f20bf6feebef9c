# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``replicated_item_info`` returns: selected items with their stage, recovery points, Azure VM
and recovery plan. The item list, the plan list and the subscription's VM list are read once; each
selected item is then read with a GET (the list leaves its disks, OS and point facts empty) and, when
asked, its recovery-point list (the API lists them per item; point types come only from there)."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import ids
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.fabric import age_seconds, now_utc
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import recovery_points as points_domain


def recovery_points(vault, model, now=None):
    """The item's recovery points, newest first: ``[{name, id, type, time, age_minutes}]``."""
    points = []
    read = vault.recovery_points(model)
    now = now or now_utc()
    for point in read:
        props = point.properties
        moment = props.recovery_point_time
        age = age_seconds(moment, now)
        points.append({"name": point.name, "id": point.id, "type": plain(props.recovery_point_type),
                       "time": moment.isoformat() if hasattr(moment, "isoformat") else moment,
                       "age_minutes": round(age / 60.0, 1) if age is not None else None, "_sort": age})
    points.sort(key=lambda p: p["_sort"] if p["_sort"] is not None else float("inf"))
    for point in points:
        del point["_sort"]
    return points


def plan_facts(vault, name):
    """``{name, friendly_name, groups: [[item names per boot group]], allowed_operations, replication_providers,
    current_scenario}`` of a recovery plan."""
    plan = vault.plan(name)
    props = plan.properties
    names = {item.id.lower(): item.properties.friendly_name for item in vault.items()}
    groups = {}
    for arm_id, index in asr_items.plan_members(plan):
        groups.setdefault(index, []).append(names.get(arm_id.lower(), ids.last(arm_id)))
    scenario = getattr(props.current_scenario, "scenario_name", None) if props.current_scenario else None
    return {"name": plan.name, "friendly_name": props.friendly_name,
            "groups": [groups[index] for index in sorted(groups)],
            "allowed_operations": list(props.allowed_operations or []),
            "replication_providers": list(props.replication_providers or []),
            "current_scenario": scenario or asr_items.NO_SCENARIO}


def describe(vault, azure_vms, vms=(), item_names=(), plan=None, with_points=True, now=None):
    """``{items, summary[, recovery_plan, recovery_plans]}`` for the selection (raises naming an unknown VM, item or
    plan). ``plan``: one recovery plan's name or a list; ``recovery_plans`` describes each, ``recovery_plan`` the
    first."""
    selected = asr_items.select(vault, vms=vms, item_names=item_names, plan=plan)
    result_items = []
    summary = {}
    for model, item in selected:
        entry = dict(item)
        entry["azure_vm"] = azure_vms.find(item)
        if with_points:
            points = recovery_points(vault, model, now)
            entry["recovery_points"] = points
            entry["latest_recovery_point"] = points[0] if points else None
            entry["latest_app_consistent_recovery_point"] = next(
                (p for p in points if points_domain.is_app_consistent(p["type"])), None)
        summary[item["failback_stage"]] = summary.get(item["failback_stage"], 0) + 1
        result_items.append(entry)
    result = {"items": result_items, "summary": summary}
    names = asr_items.plan_names(plan)
    if names:
        result["recovery_plans"] = [plan_facts(vault, name) for name in names]
        result["recovery_plan"] = result["recovery_plans"][0]
    return result
