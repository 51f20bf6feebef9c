# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failback infrastructure of a vault as plain dicts: configuration servers (VMware fabrics),
process servers, master targets, run-as accounts and discovered vCenters (asr-api.md 3.5).

Everything comes from the fabric list and the vault-wide vCenter list: no per-object reads.
Heartbeat ages are computed against the clock of the machine this runs on (the controller).
"""

from __future__ import annotations

import datetime

from ansible_collections.siterecovery.failback.plugins.module_utils.asr.items import health_errors
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits

GIB = 1024 ** 3


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def age_seconds(moment, now):
    """Whole seconds from ``moment`` (a datetime or ISO string; naive means UTC) to ``now``; None when unknown."""
    if moment is None:
        return None
    if isinstance(moment, str):
        try:
            moment = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int((now - moment).total_seconds())


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _gb(value):
    """A GB figure that ASR sends as a string (datastores) or a number; None when absent or unreadable."""
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return None


def _bytes_to_gb(value):
    return round(value / GIB, 2) if isinstance(value, (int, float)) else None


def _status(details):
    return plain(getattr(details, "status", None)) if details is not None else None


def configuration_server(fabric, now):
    props = fabric.properties
    details = props.custom_details
    heartbeat = getattr(details, "last_heartbeat", None)
    return {
        "name": props.friendly_name,
        "fabric_name": fabric.name,
        "service_status": plain(getattr(details, "cs_service_status", None)),
        "last_heartbeat": _iso(heartbeat),
        "heartbeat_age_seconds": age_seconds(heartbeat, now),
        "version": getattr(details, "agent_version", None),
        "version_status": plain(getattr(details, "version_status", None)),
        "agent_version_status": _status(getattr(details, "agent_version_details", None)),
        "ip_address": getattr(details, "ip_address", None),
        "health": plain(props.health),
        "health_errors": health_errors(props.health_error_details),
    }


def process_server(fabric, server, now):
    return {
        "name": server.friendly_name,
        "id": server.id,
        "fabric_name": fabric.name,
        "ip": server.ip_address,
        "health": plain(server.health),
        "service_status": plain(server.ps_service_status),
        "last_heartbeat": _iso(server.last_heartbeat),
        "heartbeat_age_seconds": age_seconds(server.last_heartbeat, now),
        "version_status": plain(server.version_status),
        "os_type": plain(server.os_type),
        "health_errors": health_errors(server.health_errors),
    }


def master_target(fabric, server, now):
    return {
        "name": server.name,
        "id": server.id,
        "fabric_name": fabric.name,
        "ip": server.ip_address,
        "os_type": plain(server.os_type),
        "os_version": server.os_version,
        "version": server.agent_version,
        "version_status": plain(server.version_status),
        "last_heartbeat": _iso(server.last_heartbeat),
        "heartbeat_age_seconds": age_seconds(server.last_heartbeat, now),
        "disk_count": server.disk_count,
        "disk_limit": limits.MASTER_TARGET_DISK_LIMIT,
        "datastores": [{"name": d.symbolic_name, "type": plain(d.type), "capacity_gb": _gb(d.capacity),
                        "free_gb": _gb(d.free_space)} for d in server.data_stores or []],
        "retention_volumes": [{"name": v.volume_name, "capacity_gb": _bytes_to_gb(v.capacity_in_bytes),
                               "free_gb": _bytes_to_gb(v.free_space_in_bytes),
                               "threshold_percentage": v.threshold_percentage} for v in server.retention_volumes or []],
        "validation_errors": health_errors(server.validation_errors),
        "health_errors": health_errors(server.health_errors),
    }


def vcenter(entry, now):
    props = entry.properties
    return {
        "name": props.friendly_name,
        "fabric_name": props.fabric_arm_resource_name,
        "ip": props.ip_address,
        "port": props.port,
        "discovery_status": plain(props.discovery_status),
        "last_heartbeat": _iso(props.last_heartbeat),
        "heartbeat_age_seconds": age_seconds(props.last_heartbeat, now),
        "run_as_account_id": props.run_as_account_id,
        "process_server_id": props.process_server_id,
        "internal_id": props.internal_id,
        "health_errors": health_errors(props.health_errors),
    }


def appliance(fabric, agent, now):
    """A replication appliance (reprotect agent) of the modernized flow's InMageRcm fabric."""
    return {
        "name": agent.name, "id": agent.id, "fabric_name": fabric.name, "health": plain(agent.health),
        "last_heartbeat": _iso(agent.last_heartbeat_utc),
        "heartbeat_age_seconds": age_seconds(agent.last_heartbeat_utc, now), "version": agent.version,
        "accessible_datastores": list(agent.accessible_datastores or []),
        "protected_item_count": agent.protected_item_count, "vcenter_id": agent.vcenter_id,
        "health_errors": health_errors(agent.health_errors),
    }


def describe(vault, now=None):
    """The whole failback infrastructure of ``vault`` (an :class:`asr.vault.Vault`) in two list calls."""
    fabrics, vcenters = vault.fabrics(), vault.vcenters()
    now = now or now_utc()  # after the reads: an age is never less than the server meant
    result = {"configuration_servers": [], "process_servers": [], "master_targets": [], "run_as_accounts": [],
              "appliances": []}
    for fabric in fabrics:
        details = getattr(fabric.properties, "custom_details", None)
        if plain(getattr(details, "instance_type", None)) == "InMageRcm":
            result["appliances"].extend(appliance(fabric, agent, now) for agent in details.reprotect_agents or [])
            continue
        if plain(getattr(details, "instance_type", None)) != "VMware":
            continue
        result["configuration_servers"].append(configuration_server(fabric, now))
        result["process_servers"].extend(process_server(fabric, s, now) for s in details.process_servers or [])
        result["master_targets"].extend(master_target(fabric, s, now) for s in details.master_target_servers or [])
        result["run_as_accounts"].extend({"id": a.account_id, "name": a.account_name, "fabric_name": fabric.name}
                                         for a in details.run_as_accounts or [])
    result["vcenters"] = [vcenter(entry, now) for entry in vcenters]
    return result


def master_target_names(vault):
    """``{master target id (lower case): its name}`` of the vault's VMware fabrics (the fabric list, cached by the
    vault): what a classic failback item's ``masterTargetId`` names - the master target whose vCenter VM of that name
    holds the item's replica VMDKs."""
    names = {}
    for fabric in vault.fabrics():
        details = getattr(fabric.properties, "custom_details", None)
        for server in getattr(details, "master_target_servers", None) or []:
            if server.id:
                names[server.id.lower()] = server.name
    return names


def master_target_of(item, names):
    """The name of the master target a classic failback item replicates to (``names``: :func:`master_target_names`),
    or None (a forward or modernized item, or one whose master target the fabric does not list)."""
    return names.get(((item.get("onprem") or {}).get("master_target_id") or "").lower())
