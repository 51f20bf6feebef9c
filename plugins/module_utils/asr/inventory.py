# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The replicated items of a vault as inventory records (Ansible-free; the ``replicated_items`` inventory plugin
turns them into hosts and groups).

Reads, per vault, in a number of calls that does not grow with the number of items: the item list (paged, one call
per page of the service's page size), the recovery plan list and, with ``details``, the fabric list. Every fact is
taken from the list where the list carries it (tests/recorded/asr, fact 2: the list leaves some provider details
empty); ``details=True`` adds one GET and one recovery-point list per item (at most ``vault.MAX_PARALLEL_READS`` at
once) for the facts only those carry.

A record is plain JSON data (it is what the inventory cache stores): ages are not in it, they are computed from the
times at the moment the inventory is built (:func:`with_ages`)."""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import ids
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.fabric import (
    age_seconds,
    master_target_names,
    master_target_of,
    now_utc,
)
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.item_info import recovery_points
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.vault import MAX_PARALLEL_READS, parallel
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages

# Host variables the item list leaves empty for some providers, read with ``details`` (plugin DOCUMENTATION says the
# same): asr_os_type and asr_master_target of classic failback items (InMage osDetails, masterTargetId), asr_disk_count
# of every item (protectedDisks), asr_latest_recovery_point of failback items and the type of every point (recovery
# points are listed per item).

# characters a host pattern (--limit, hosts:) gives a meaning to, and white space
_PATTERN_CHARACTERS = re.compile(r"[\s,:!&*?\[\]~\\/'\"=]")


def flow_of(provider):
    """``classic`` (InMageAzureV2 / InMage), ``modernized`` (InMageRcm / InMageRcmFailback) or None."""
    if provider in stages.CLASSIC_FORWARD + stages.CLASSIC_FAILBACK:
        return "classic"
    if provider in stages.MODERN_FORWARD + stages.MODERN_FAILBACK:
        return "modernized"
    return None


def source_type(item):
    """``vmware_vm``, ``physical`` or ``unknown``, as the item's provider says it (readiness decides the same way):
    only a forward item's ``discoveryType`` says it; a failback item replicates the Azure VM, which the configuration
    server registers as physical whatever the source was (tests/recorded/asr, fact 21)."""
    if item.get("provider") in stages.FAILBACK:
        return "unknown"
    return {"physical": "physical", "vcenter": "vmware_vm"}.get((item.get("discovery_type") or "").lower(), "unknown")


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _plan_memberships(plans):
    """``{item ARM id (lower case): [(plan name, boot group)]}``; boot group 1, 2, ... in boot order, 0 for the
    plan's failover group (which ASR fails over before the first boot group)."""
    members = {}
    for plan in plans:
        for arm_id, group in asr_items.plan_members(plan):
            members.setdefault((arm_id or "").lower(), []).append((plan.name, group))
    return members


def _list_point(model):
    """The newest recovery point an item's list entry names (forward items: ``lastRecoveryPointReceived``, InMageRcm
    also ``lastRecoveryPointId``), else None."""
    details = model.properties.provider_specific_details
    moment = getattr(details, "last_recovery_point_received", None)
    if moment is None:
        return None
    point_id = getattr(details, "last_recovery_point_id", None)
    return {"name": ids.last(point_id) if point_id else None, "id": point_id, "type": None, "time": _iso(moment)}


def record(vault, model, memberships, master_targets=None, points=None):
    """One inventory record of an item: its normalized facts (asr.items.normalize, of the list entry or of the GET
    with ``details``) as ``asr_*`` variables, plus where it sits in the vault's recovery plans."""
    item = asr_items.normalize(model)
    details = model.properties.provider_specific_details
    plans = memberships.get((item["id"] or "").lower(), [])
    onprem = item["onprem"]
    if points is not None:
        latest = dict(points[0]) if points else None
        if latest:
            latest.pop("age_minutes", None)
    else:
        latest = _list_point(model)
    azure_vm = item["azure_vm"] or {}
    azure_vm_id = azure_vm.get("id")
    if not azure_vm_id and azure_vm.get("name") and azure_vm.get("resource_group"):
        azure_vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
            ids.parse(item["id"]).get("subscriptions"), azure_vm["resource_group"], azure_vm["name"])
    appliance = getattr(details, "reprotect_agent_name", None)
    return {
        "asr_vm_name": item["name"],
        "asr_item_name": item["item_name"],
        "asr_item_id": item["id"],
        "asr_resource_group": vault.resource_group,
        "asr_vault": vault.name,
        "asr_stage": item["failback_stage"],
        "asr_next_step": item["next_step"],
        "asr_provider": item["provider"],
        "asr_flow": flow_of(item["provider"]),
        "asr_protection_state": item["protection_state"],
        "asr_allowed_operations": item["allowed_operations"],
        "asr_replication_health": item["replication_health"],
        "asr_current_job": item["current_job"],
        "asr_os_type": item["os_type"],
        "asr_source_type": source_type(item),
        "asr_recovery_plans": sorted({name for name, _group in plans}),
        "asr_boot_groups": dict(plans),
        "asr_replication_group": item["replication_group"],
        "asr_replication_group_id": item["replication_group_id"],
        "asr_azure_vm_id": azure_vm_id,
        "asr_azure_vm_name": azure_vm.get("name"),
        "asr_azure_vm_resource_group": azure_vm.get("resource_group"),
        "asr_onprem_vm_uuid": onprem["instance_uuid"],
        "asr_onprem_vm_id": onprem["infrastructure_vm_id"],
        "asr_master_target": master_target_of(item, master_targets) if master_targets is not None else None,
        "asr_appliance": appliance,
        "asr_disk_count": item["disk_count"] if points is not None else None,
        "asr_latest_recovery_point": latest,
        "asr_details": points is not None,
    }


def read_vault(vault, details=False, concurrency=None, now=None):
    """The inventory records of every replicated item of ``vault`` (an asr.vault.Vault), in the list's order.

    Reads: the item list and the plan list; with ``details`` also the fabric list, each item's GET and its recovery
    point list, at most ``concurrency`` (default vault.MAX_PARALLEL_READS) at once."""
    listed = vault.items()
    memberships = _plan_memberships(vault.plans())
    if not details:
        return [record(vault, model, memberships) for model in listed]
    masters = master_target_names(vault)

    def one(model):
        full = vault.item(model.id)
        return record(vault, full, memberships, masters, recovery_points(vault, full, now))

    return parallel(one, listed, concurrency or MAX_PARALLEL_READS)


def with_ages(records, now=None):
    """``records`` with ``asr_latest_recovery_point_age_minutes`` computed against ``now`` (the controller's clock):
    a cached inventory shows the age at the time it is read, not the time it was cached."""
    now = now or now_utc()
    result = []
    for entry in records:
        point = entry.get("asr_latest_recovery_point") or {}
        age = age_seconds(point.get("time"), now)
        result.append(dict(entry, asr_latest_recovery_point_age_minutes=round(age / 60.0, 1) if age is not None else None))
    return result


def _counts(names):
    counts = {}
    for name in names:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    return counts


def host_names(records):
    """``[(host name, record)]``: the host name is the VM name (what the failback roles take in ``<prefix>vms``).

    Where it cannot be: a name with white space or a character host patterns give a meaning to (``, : ! & * ? [ ]
    ~ \\ / ' " =``) has each replaced by ``_``; a name that several items share (two vaults, or an item whose
    protection was enabled again) is suffixed ``_<item ARM name>`` for each of them, and, where that is not unique
    either (the same item name in two vaults), ``_<resource group>_<vault>_<item ARM name>``. ``asr_vm_name`` always
    keeps the VM name, and ``asr_host_name_changed`` says why the host name differs (``invalid_characters`` or
    ``duplicate_vm_name``): the roles refuse a VM name two items share, so select those by item name."""
    def clean(text):
        return _PATTERN_CHARACTERS.sub("_", text or "")

    base = [clean(entry["asr_vm_name"] or entry["asr_item_name"]) for entry in records]
    counts = _counts(base)
    first = [name if counts[name.lower()] == 1 else "%s_%s" % (name, clean(entry["asr_item_name"]))
             for name, entry in zip(base, records, strict=True)]
    again = _counts(first)
    named = []
    for name, candidate, entry in zip(base, first, records, strict=True):
        original = entry["asr_vm_name"] or entry["asr_item_name"]
        reason = "invalid_characters" if name != original else None
        host = candidate
        if candidate != name:
            reason = "duplicate_vm_name"
            if again[candidate.lower()] > 1:
                host = "%s_%s_%s_%s" % (name, clean(entry.get("asr_resource_group")), clean(entry.get("asr_vault")),
                                        clean(entry["asr_item_name"]))
        named.append((host, dict(entry, asr_host_name_changed=reason)))
    return named


def group_names(entry):
    """The plugin's own groups of a record (before Ansible sanitizes them): ``replicated_items`` (every host: the
    failback playbooks' default host pattern), stage, recovery plan and boot group, replication group, OS, source
    type, flow."""
    groups = ["replicated_items", "asr_stage_%s" % entry["asr_stage"], "asr_source_%s" % entry["asr_source_type"]]
    if entry.get("asr_flow"):
        groups.append("asr_flow_%s" % entry["asr_flow"])
    groups.append("asr_os_%s" % (entry["asr_os_type"] or "unknown").lower())
    for plan, group in sorted((entry.get("asr_boot_groups") or {}).items()):
        groups.append("asr_plan_%s" % plan)
        groups.append("asr_plan_%s_boot_group_%d" % (plan, group))
    if entry.get("asr_replication_group"):
        groups.append("asr_replication_group_%s" % entry["asr_replication_group"])
    return groups
