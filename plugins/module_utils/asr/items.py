# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Protected items as plain dicts, selected by VM name, item name or recovery plan.

Items are found in the vault's item list, then each selected item is read with a GET (concurrently,
``vault.read_items``): the list leaves the provider details empty - no protected disks, consistency
points, retention window, OS or master target (tests/recorded/asr, fact 2) - so every decision is made
on the GET.
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import ids
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages

NO_SCENARIO = "None"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def health_errors(errors):
    """ASR HealthError models as {code, level, category, message, recommended_action}."""
    return [{"code": getattr(e, "error_code", None), "level": plain(getattr(e, "error_level", None)),
             "category": plain(getattr(e, "error_category", None)), "message": getattr(e, "summary_message", None)
             or getattr(e, "error_message", None), "recommended_action": getattr(e, "recommended_action", None)}
            for e in errors or []]


def azure_vm_of(details):
    """The failed-over Azure VM named in forward (InMageAzureV2 / InMageRcm) or modernized failback details."""
    vm_id = getattr(details, "target_vm_id", None) or getattr(details, "azure_virtual_machine_id", None)
    rg, name = ids.vm_path(vm_id)
    if not name and plain(getattr(details, "instance_type", None)) != "InMageRcmFailback":  # its target VM is on-premises
        rg = ids.last(getattr(details, "recovery_azure_resource_group_id", None)
                      or getattr(details, "target_resource_group_id", None))
        name = getattr(details, "recovery_azure_vm_name", None) or getattr(details, "target_vm_name", None)
        vm_id = None
    if not name:
        return None
    return {"id": vm_id, "resource_group": rg, "name": name, "disk_names": azure_disk_names(details)}


def azure_disk_names(details):
    """The Azure managed-disk names of an item's failed-over VM, in the order ASR lists them, each once.

    Where the service puts them (tests/recorded/asr): InMageAzureV2 in ``azureVMDiskDetails[].targetDiskName``
    (item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection; its ``protectedManagedDisks``
    carry no name there, newer API versions may add ``targetDiskName``); InMageRcm in
    ``protectedDisks[].targetManagedDiskId`` (an ARM id, the name is its last segment)."""
    names = [getattr(d, "target_disk_name", None) for d in getattr(details, "azure_vm_disk_details", None) or []]
    names += [getattr(d, "target_disk_name", None) for d in getattr(details, "protected_managed_disks", None) or []]
    if plain(getattr(details, "instance_type", None)) == "InMageRcm":
        names += [ids.last(getattr(d, "target_managed_disk_id", None)) for d in getattr(details, "protected_disks", None) or []]
    seen = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return seen


def failed_back_before(provider, active_location, last_failover_time):
    """Whether a forward (InMageAzureV2 / InMageRcm) item replicates to Azure again after a failback.

    ``lastSuccessfulFailoverTime`` alone does not say which way the last failover went: the forward
    failover sets it too (item_get.InMageAzureV2.UnplannedFailoverCommitted, ...InMageRcm.UnplannedFailover*).
    What the recordings show per direction: a forward item that failed over to Azure is active on
    ``Recovery`` (pending commit and committed alike), while a forward item active on ``Primary`` never
    failed over (``lastSuccessfulFailoverTime`` and ``failoverRecoveryPointId`` null, every recorded one).
    So a forward item active on ``Primary`` that records a successful failover came back through a
    failback; failback-direction items (InMage / InMageRcmFailback) are never "failed back before"."""
    return provider in stages.FORWARD and bool(last_failover_time) and (active_location or "").lower() == "primary"


# a modernized item's ARM name (and its fabricDiscoveryMachineId's last segment) is "<vCenter>_<VM instance UUID>"
# (item_get.InMageRcm.*: vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8); some are named after the VM instead
_DISCOVERED_MACHINE = re.compile(r"^.+_([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")


def discovery_type(provider, details):
    """How the source machine was discovered, where the item's provider says it: ``discoveryType`` of a forward
    item (InMageAzureV2 ``vCenter`` / ``Physical``, InMageRcm ``VCenter``); None (unknown) for a failback item.

    An InMage item replicates the failed-over Azure VM back, and the configuration server registers that VM as
    a new physical machine: the same VMware VM that was ``discoveryType: vCenter``, ``vCenterInfrastructureId:
    "9"`` while it replicated to Azure (item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection)
    is ``Physical`` with ``vCenterInfrastructureId: null`` from the reprotect on (item_get.InMage.*, both lists;
    its vmNics are the Azure VM's 00:22:48 MACs). InMageRcmFailback details carry no ``discoveryType``."""
    if provider not in stages.FORWARD:
        return None
    return plain(getattr(details, "discovery_type", None))


def recorded_instance_uuid(item_name, provider, details):
    """The vCenter instance UUID of a modernized item's VM, from its ARM name or ``fabricDiscoveryMachineId``
    (``vcenter67_50158471-...``); None for classic items and for modernized items named otherwise.

    Classic items record no instance UUID: ``infrastructureVmId`` / ``vmId`` are ids the configuration server
    mints (time-based UUIDs, a new one after each reprotect; docs/recorded-behaviour.md)."""
    if provider not in stages.MODERN_FORWARD + stages.MODERN_FAILBACK:
        return None
    for text in (item_name, ids.last(getattr(details, "fabric_discovery_machine_id", None))):
        match = _DISCOVERED_MACHINE.match(text or "")
        if match:
            return match.group(1).lower()
    return None


def source_facts(provider, details):
    """What ASR reports about the source machine, in its own words (``domain.source_vm`` decides from them):
    ``{firmware_type, azure_vm_generation, os_type, os_name, networks}``, None where the provider does not say.

    Where the service puts them (tests/recorded/asr): ``firmwareType`` on forward items only (InMageAzureV2 with
    ``azureVmGeneration``, InMageRcm with ``targetGeneration``); ``osType`` (InMage: ``osDetails.osType``);
    ``discoveredVmDetails.osName`` (modernized: vCenter's guest OS name) or ``osVersion`` (InMageAzureV2);
    ``networks``, one per NIC in ASR's order: InMageRcm ``vmNics[].sourceNetworkId``, InMageRcmFailback
    ``vmNics[].networkName``; None for classic items, whose ``vMNetworkName`` is the guest's adapter name
    (item_get.InMage.*, item_get.InMageAzureV2.*), not a vSphere network."""
    os_details = getattr(details, "os_details", None)
    discovered = getattr(details, "discovered_vm_details", None)
    nics = list(getattr(details, "vm_nics", None) or [])
    if provider == "InMageRcm":
        networks = [getattr(n, "source_network_id", None) for n in nics
                    if str(getattr(n, "is_selected_for_failover", "true")).lower() != "false"]
    elif provider == "InMageRcmFailback":
        networks = [getattr(n, "network_name", None) for n in nics]
    else:
        networks = None
    return {
        "firmware_type": getattr(details, "firmware_type", None),
        "azure_vm_generation": (getattr(details, "azure_vm_generation", None)
                                or getattr(details, "target_generation", None)),
        "os_type": plain(getattr(details, "os_type", None) or getattr(os_details, "os_type", None)),
        "os_name": getattr(discovered, "os_name", None) or getattr(details, "os_version", None),
        "networks": networks,
    }


def _disks(details):
    disks = getattr(details, "protected_disks", None) or getattr(details, "protected_managed_disks", None)
    return len(disks or [])


def point_evidence(model):
    """Whether the item's GET shows a recovery point of the failback direction: InMage details carry
    ``consistencyPoints`` and a retention window once points exist. Only their presence counts: their
    times are not comparable with the clock (tests/recorded/asr, fact 3)."""
    details = getattr(model.properties, "provider_specific_details", None)
    return bool(getattr(details, "consistency_points", None)) or any(
        getattr(details, key, None) is not None for key in ("retention_window_start", "retention_window_end"))


def normalize(item):
    """The facts of a ReplicationProtectedItem (its GET) that failback decisions need."""
    props = item.properties
    details = props.provider_specific_details
    provider = plain(getattr(details, "instance_type", None))
    scenario = plain(getattr(props.current_scenario, "scenario_name", None)) if props.current_scenario else None
    job_id = getattr(props.current_scenario, "job_id", None) if props.current_scenario else None
    group_id = getattr(details, "multi_vm_group_id", None)
    group_name = getattr(details, "multi_vm_group_name", None)
    os_details = getattr(details, "os_details", None)
    result = {
        "name": props.friendly_name,
        "item_name": item.name,
        "id": item.id,
        "provider": provider,
        "protection_state": plain(props.protection_state),
        "protection_state_description": props.protection_state_description,
        "active_location": plain(props.active_location),
        "allowed_operations": [plain(op) for op in props.allowed_operations or []],
        "replication_health": plain(props.replication_health),
        "failover_health": plain(props.failover_health),
        "health_errors": health_errors(props.health_errors),
        "current_scenario": scenario or NO_SCENARIO,
        "current_job": ids.last(job_id) if scenario not in (None, NO_SCENARIO) else None,
        "policy_id": props.policy_id,
        "last_successful_failover_time": _iso(props.last_successful_failover_time),
        "failover_recovery_point_id": props.failover_recovery_point_id,
        # no user group: the name is the id (classic), or a bare GUID (modernized, which has no group id field)
        "replication_group": group_name if group_name and group_name.lower() != (group_id or "").lower()
        and not _GUID.match(group_name) else None,
        "replication_group_id": group_id,
        "os_type": plain(getattr(details, "os_type", None) or getattr(os_details, "os_type", None)),
        "discovery_type": discovery_type(provider, details),
        "disk_count": _disks(details),
        "source": source_facts(provider, details),
        "target_datastore": getattr(details, "target_data_store_name", None),
        "azure_vm": azure_vm_of(details),
        "onprem": {
            # the configuration server's id of the machine (not the vCenter instance UUID), new after a reprotect
            "infrastructure_vm_id": getattr(details, "infrastructure_vm_id", None),
            "instance_uuid": recorded_instance_uuid(item.name, provider, details),
            "vm_id": getattr(details, "vm_id", None),
            "vcenter_infrastructure_id": getattr(details, "v_center_infrastructure_id", None),
            "datastores": list(getattr(details, "datastores", None) or []),
            "master_target_id": getattr(details, "master_target_id", None),
            "process_server_id": getattr(details, "process_server_id", None),
        },
    }
    result["failed_back_before"] = failed_back_before(provider, result["active_location"],
                                                      result["last_successful_failover_time"])
    result["failback_stage"] = stages.derive(result)
    result["next_step"] = stages.NEXT.get(result["failback_stage"])
    return result


def plan_members(plan):
    """Item ARM ids of a recovery plan, in group order, with each one's group index (Boot groups)."""
    members = []
    index = 0
    for group in plan.properties.groups or []:
        group_type = plain(group.group_type)
        if group_type not in ("Boot", "Failover"):
            continue
        entries = list(group.replication_protected_items or [])
        if group_type == "Boot":
            index += 1
        members.extend((entry.id, index) for entry in entries)
    return members


def _index(vault):
    """``(by friendly name {name: [models]}, by ARM name {lower name: model}, by id {lower id: model})`` of the list."""
    by_friendly, by_name, by_id = {}, {}, {}
    for model in vault.items():
        by_friendly.setdefault(model.properties.friendly_name, []).append(model)
        by_name[(model.name or "").lower()] = model
        by_id[(model.id or "").lower()] = model
    return by_friendly, by_name, by_id


def _find(vault, index, kind, name):
    """``(listed model or None, problem or None)`` for one VM (friendly) name or item (ARM) name."""
    by_friendly, by_name, _by_id = index
    if kind == "item":
        found = by_name.get((name or "").lower())
        return (found, None) if found is not None else (None, "Protected item %s was not found in vault %s/%s." % (
            name, vault.resource_group, vault.name))
    found = by_friendly.get(name, [])
    if len(found) == 1:
        return found[0], None
    if not found:
        return None, ("VM %s has no protected item in vault %s/%s: it was never protected, or protection was "
                      "disabled (then failback is impossible)." % (name, vault.resource_group, vault.name))
    return None, "VM name %s matches %d protected items (%s); select it by item name." % (
        name, len(found), ", ".join(i.name for i in found))


def resolve(vault, wanted):
    """``[(asked name, listed model or None, problem or None)]`` for ``wanted`` = [("vm" | "item", name)], from
    the vault's item list alone (no GET)."""
    index = _index(vault)
    return [(name, *_find(vault, index, kind, name)) for kind, name in wanted]


def read(vault, listed):
    """``[(GET model, normalized)]`` of listed models, in order: one GET per item, concurrently."""
    return [(model, normalize(model)) for model in vault.read_items(listed)]


def plan_names(plan):
    """The recovery plans a selection names: ``plan`` is None, one name, or a list of names (in order, once each)."""
    if not plan:
        return []
    return list(dict.fromkeys([plan] if isinstance(plan, str) else [p for p in plan if p]))


def plan_units(vault, plan):
    """``{lower-case item ARM id: plan name}`` for the plans of ``plan`` (one name or a list; see :func:`plan_names`):
    the unit each item of a run over recovery plans moves in. An item two named plans hold belongs to the first."""
    result = {}
    for name in plan_names(plan):
        found = vault.plan(name)
        for arm_id, _group in plan_members(found):
            result.setdefault((arm_id or "").lower(), found.name)
    return result


def select(vault, vms=(), item_names=(), plan=None):
    """Items by VM (friendly) name, item (ARM) name or recovery plan(s); raise naming what is missing.

    ``plan``: one recovery plan's name, or a list of names (:func:`plan_names`). Returns ``[(item model,
    normalized dict)]`` in the order asked (plan order for a plan, plan after plan), each read with a GET.
    """
    index = _index(vault)
    chosen = []
    problems = []
    for kind, names in (("vm", vms), ("item", item_names)):
        for name in names or []:
            model, problem = _find(vault, index, kind, name)
            chosen.extend([model] if model is not None else [])
            problems.extend([problem] if problem else [])
    for name in plan_names(plan):
        for arm_id, _group in plan_members(vault.plan(name)):
            model = index[2].get((arm_id or "").lower())
            if model is None:
                problems.append("Recovery plan %s names item %s, which is no longer protected." % (name, ids.last(arm_id)))
            else:
                chosen.append(model)
    if problems:
        raise AzureError(" ".join(problems), rule="item_not_found")
    unique = {}
    for model in chosen:  # first appearance order, no duplicates
        unique.setdefault(model.name.lower(), model)
    return read(vault, list(unique.values()))


def by_vm(vault, names):
    """``{VM name: normalized item}`` for VM (friendly) ``names``, each read once (:func:`select`: one GET per item,
    the list says too little to derive a stage); raises naming a VM no item protects."""
    return {item["name"]: item for _model, item in select(vault, vms=list(dict.fromkeys(names)))}


def group_members(vault, in_run):
    """``{replication group: [{name, id, os_type, disk_count, stage, in_run, item}]}``: every member of each replication
    group an item of ``in_run`` (normalized items of the run) belongs to, from the vault's item list (cached); a member
    the run does not hold is read with a GET (the list leaves its disks, stage facts and master target empty:
    tests/recorded/asr fact 2) - no GET when the run holds whole groups. ``{}`` when no item is in a group."""
    held = {(item["id"] or "").lower(): item for item in in_run}
    wanted = {item["replication_group"] for item in in_run if item.get("replication_group")}
    if not wanted:
        return {}
    members, others = {}, []
    for model in vault.items():
        listed = normalize(model)
        if listed["replication_group"] not in wanted:
            continue
        members.setdefault(listed["replication_group"], []).append((model.id or "").lower())
        if (model.id or "").lower() not in held:
            others.append(model)
    read_now = {model.id.lower(): item for model, item in read(vault, others)}
    result = {}
    for group, arm_ids in members.items():
        for arm_id in arm_ids:
            item = held.get(arm_id) or read_now[arm_id]
            result.setdefault(group, []).append({
                "name": item["name"], "id": item["id"], "os_type": item.get("os_type"),
                "disk_count": item.get("disk_count") or 0, "stage": item.get("failback_stage"), "in_run": arm_id in held,
                "item": item})
    return result
