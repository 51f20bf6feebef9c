# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Protected items as plain dicts, selected by VM name, item name or recovery plan."""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import ids
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages

NO_SCENARIO = "None"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def health_errors(errors):
    """ASR HealthError models as {code, level, category, message, recommended_action}."""
    return [{"code": getattr(e, "error_code", None), "level": getattr(e, "error_level", None),
             "category": getattr(e, "error_category", None), "message": getattr(e, "summary_message", None)
             or getattr(e, "error_message", None), "recommended_action": getattr(e, "recommended_action", None)}
            for e in errors or []]


def azure_vm_of(details):
    """The failed-over Azure VM named in forward (InMageAzureV2 / InMageRcm) or modernized failback details."""
    vm_id = getattr(details, "target_vm_id", None) or getattr(details, "azure_virtual_machine_id", None)
    rg, name = ids.vm_path(vm_id)
    if not name and getattr(details, "instance_type", None) != "InMageRcmFailback":  # its target VM is on-premises
        rg = ids.last(getattr(details, "recovery_azure_resource_group_id", None)
                      or getattr(details, "target_resource_group_id", None))
        name = getattr(details, "recovery_azure_vm_name", None) or getattr(details, "target_vm_name", None)
        vm_id = None
    if not name:
        return None
    disks = [getattr(d, "target_disk_name", None) for d in getattr(details, "protected_managed_disks", None) or []]
    return {"id": vm_id, "resource_group": rg, "name": name, "disk_names": [d for d in disks if d]}


def normalize(item):
    """The facts of a ReplicationProtectedItem that failback decisions need."""
    props = item.properties
    details = props.provider_specific_details
    provider = getattr(details, "instance_type", None)
    scenario = getattr(props.current_scenario, "scenario_name", None) if props.current_scenario else None
    job_id = getattr(props.current_scenario, "job_id", None) if props.current_scenario else None
    group_id = getattr(details, "multi_vm_group_id", None)
    group_name = getattr(details, "multi_vm_group_name", None)
    os_details = getattr(details, "os_details", None)
    result = {
        "name": props.friendly_name,
        "item_name": item.name,
        "id": item.id,
        "provider": provider,
        "protection_state": props.protection_state,
        "protection_state_description": props.protection_state_description,
        "active_location": props.active_location,
        "allowed_operations": list(props.allowed_operations or []),
        "replication_health": props.replication_health,
        "failover_health": props.failover_health,
        "health_errors": health_errors(props.health_errors),
        "current_scenario": scenario or NO_SCENARIO,
        "current_job": ids.last(job_id) if scenario not in (None, NO_SCENARIO) else None,
        "policy_id": props.policy_id,
        "last_successful_failover_time": _iso(props.last_successful_failover_time),
        "failover_recovery_point_id": props.failover_recovery_point_id,
        # no user group: the name is the id (classic), or a bare GUID (modernized, which has no group id field)
        "replication_group": group_name if group_name and group_name != group_id and not _GUID.match(group_name) else None,
        "replication_group_id": group_id,
        "os_type": getattr(details, "os_type", None) or getattr(os_details, "os_type", None),
        "discovery_type": getattr(details, "discovery_type", None),
        "disk_count": len(getattr(details, "protected_disks", None) or []),
        "target_datastore": getattr(details, "target_data_store_name", None),
        "azure_vm": azure_vm_of(details),
        "onprem": {
            "infrastructure_vm_id": getattr(details, "infrastructure_vm_id", None),
            "vm_id": getattr(details, "vm_id", None),
            "vcenter_infrastructure_id": getattr(details, "v_center_infrastructure_id", None),
            "datastores": list(getattr(details, "datastores", None) or []),
            "master_target_id": getattr(details, "master_target_id", None),
            "process_server_id": getattr(details, "process_server_id", None),
        },
    }
    result["failed_back_before"] = bool(result["last_successful_failover_time"]) and provider in stages.FORWARD
    result["failback_stage"] = stages.derive(result)
    result["next_step"] = stages.NEXT.get(result["failback_stage"])
    return result


def plan_members(plan):
    """Item ARM ids of a recovery plan, in group order, with each one's group index (Boot groups)."""
    members = []
    index = 0
    for group in plan.properties.groups or []:
        if group.group_type not in ("Boot", "Failover"):
            continue
        entries = list(group.replication_protected_items or [])
        if group.group_type == "Boot":
            index += 1
        members.extend((entry.id, index) for entry in entries)
    return members


def _by_vm(vault, by_friendly, vms, chosen, problems):
    for vm in vms or []:
        found = by_friendly.get(vm, [])
        if len(found) == 1:
            chosen.append(found[0])
        elif not found:
            problems.append("VM %s has no protected item in vault %s/%s: it was never protected, or protection was "
                            "disabled (then failback is impossible)." % (vm, vault.resource_group, vault.name))
        else:
            problems.append("VM name %s matches %d protected items (%s); select it by item name."
                            % (vm, len(found), ", ".join(i.name for i in found)))


def _by_plan(vault, plan, by_id, chosen, problems):
    for arm_id, _group in plan_members(vault.plan(plan)):
        item = by_id.get(arm_id.lower())
        if item is None:
            problems.append("Recovery plan %s names item %s, which is no longer protected." % (plan, ids.last(arm_id)))
        else:
            chosen.append(item)


def select(vault, vms=(), item_names=(), plan=None):
    """Items by VM (friendly) name, item (ARM) name or recovery plan; raise naming what is missing.

    Returns ``[(item model, normalized dict)]`` in the order asked (plan order for a plan).
    """
    all_items = vault.items()
    by_friendly = {}
    for item in all_items:
        by_friendly.setdefault(item.properties.friendly_name, []).append(item)
    by_name = {item.name: item for item in all_items}
    chosen = []
    problems = []
    _by_vm(vault, by_friendly, vms, chosen, problems)
    for name in item_names or []:
        if name in by_name:
            chosen.append(by_name[name])
        else:
            problems.append("Protected item %s was not found in vault %s/%s." % (name, vault.resource_group, vault.name))
    if plan:
        _by_plan(vault, plan, {item.id.lower(): item for item in all_items}, chosen, problems)
    if problems:
        raise AzureError(" ".join(problems), rule="item_not_found")
    unique = list({item.name: item for item in chosen}.values())  # first appearance order, no duplicates
    return [(item, normalize(item)) for item in unique]
