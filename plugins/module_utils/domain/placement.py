# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Automatic master target placement, in pure Python.

A VM (or a whole replication group, which must share one master target) goes to a master
target of the same OS whose ESXi host reaches every datastore it needs and whose disk count
stays within 60; among those, the one with the most room left.

A master target that cannot serve now is skipped, and the refusal says why: one its caller marks ``unusable``
(powered off in vSphere, or its agent's last heartbeat older than the limit - ``domain.readiness``
``mt_running``), and, for VMs created at an alternate location on its ESXi host, one whose host cannot run them
(``domain.hosts``: connected, out of maintenance mode, the VMs' memory, the datastore) when the caller gives the
host.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import hosts, limits, options, stages


def names_for(given, vm):
    """The names the reprotect to on-premises uses for ``vm`` - and the preflight checks for it: ``given`` holds the
    run-wide names (``options.PLACEMENT_KEYS``: master_target, process_server, datastore, retention_volume,
    run_as_account, appliance, log_storage_account_id; None or absent when unset) and ``placements`` ({VM name:
    {key: name}}); a name of the VM's own entry wins unless it is None. Returns a new dict of every key."""
    chosen = {key: given.get(key) for key in options.PLACEMENT_KEYS}
    chosen.update({k: v for k, v in ((given.get("placements") or {}).get(vm) or {}).items() if v is not None})
    return chosen


def companions(todo, groups, waiting, master_target_by_id):
    """The members of the replication groups of ``todo`` that placement must count though it does not place them:
    a group fails back through one master target, whole (docs: "all VMs of a replication group must use the same
    master target").

    ``todo``: the normalized items being placed ({name, replication_group, ...}); ``groups``: {group: [{name, stage,
    in_run, os_type, disk_count, item}]} (``asr.items.group_members``); ``waiting``: the stages of a member still to
    reprotect; ``master_target_by_id``: {lower-case master target id: name}. Returns :func:`place`'s ``vms`` entries:
    a member outside the run still to reprotect counts with its OS, disks and datastores; a member already
    reprotected (a failback item whose ``masterTargetId`` is a known master target) pins the group to that master
    target (``fixed_master_target``) and adds no disks (its disks are already attached there)."""
    placing = {item["name"] for item in todo}
    result = []
    for group in sorted({item["replication_group"] for item in todo if item.get("replication_group")}):
        for member in (groups or {}).get(group) or []:
            if member["name"] in placing:
                continue
            item = member["item"]
            held_by = master_target_by_id.get((item.get("onprem", {}).get("master_target_id") or "").lower())
            if item.get("provider") in stages.FAILBACK and held_by:
                result.append({"name": member["name"], "os_type": member["os_type"], "group": group, "disk_count": 0,
                               "alternate": False, "memory_mb": None, "datastores": [], "fixed_master_target": held_by})
            elif not member["in_run"] and member["stage"] in waiting and item.get("provider") not in stages.MODERN_FORWARD:
                result.append({"name": member["name"], "os_type": member["os_type"], "group": group,
                               "disk_count": member["disk_count"], "alternate": False, "memory_mb": None,
                               "datastores": list(item["onprem"]["datastores"])})
    return result


def _units(vms):
    """Replication groups and single VMs, biggest first."""
    units = {}
    for vm in vms:
        key = ("group", vm["group"]) if vm.get("group") else ("vm", vm["name"])
        units.setdefault(key, []).append(vm)
    return sorted(units.values(), key=lambda members: -sum(m["disk_count"] for m in members))


def _host_problem(mt, members, needed):
    """Why the ESXi host of ``mt`` cannot run the alternate-location VMs ``members`` (None when it can, or when the
    caller gave no host): the one rule of ``domain.hosts``, without the cluster (the VMs are created there)."""
    if not mt.get("host") or not all(m.get("alternate") for m in members):
        return None
    memory = sum(m.get("memory_mb") or 0 for m in members)
    why = hosts.reasons({"name": members[0]["name"], "memory_mb": memory, "datastores": sorted(needed)}, mt["host"],
                        same_cluster=False)
    return "its ESXi host %s cannot run them: %s" % (mt["host"]["name"], ", ".join(why)) if why else None


def place(vms, master_targets, limit=limits.MASTER_TARGET_DISK_LIMIT):
    """``vms``: [{name, os_type, datastores, disk_count, group, alternate (created on the master target's host),
    memory_mb, fixed_master_target (optional: a member already on that master target, so its unit goes there or
    nowhere)}]; ``master_targets``: [{name, os_type, datastores, disk_count, unusable (why it cannot serve now, or
    None), host (``domain.hosts``' host shape, optional)}]. Returns ``(choice {vm name: master target name},
    problems)``; a problem names every master target skipped and why."""
    used = {mt["name"]: mt["disk_count"] for mt in master_targets}
    choice = {}
    problems = []
    for members in _units(vms):
        os_types = {(m.get("os_type") or "").lower() for m in members}
        needed = set()
        for member in members:
            needed |= set(member["datastores"])
        disks = sum(m["disk_count"] for m in members)
        label = ("replication group %s (%s)" % (members[0]["group"], ", ".join(m["name"] for m in members))
                 if members[0].get("group") else "VM %s" % members[0]["name"])
        if len(os_types) > 1:
            problems.append("%s mixes operating systems (%s); one master target serves one OS." % (
                label, ", ".join(sorted(os_types))))
            continue
        os_type = os_types.pop()
        fixed = sorted({m["fixed_master_target"] for m in members if m.get("fixed_master_target")})
        if len(fixed) > 1:
            problems.append("%s is already split across master targets %s; one master target serves a whole group: "
                            "disable and re-enable replication of the members on the wrong one." % (label, ", ".join(fixed)))
            continue
        skipped = {}
        for mt in master_targets:
            why = mt.get("unusable") or _host_problem(mt, members, needed)
            if why:
                skipped[mt["name"]] = why
        fits = [mt for mt in master_targets
                if mt["name"] not in skipped and (not fixed or mt["name"] == fixed[0])
                and (mt.get("os_type") or "").lower() == os_type
                and needed <= set(mt["datastores"]) and used[mt["name"]] + disks <= limit]
        if not fits:
            listed = "; ".join("%s %s, %d/%d disks, reaches %s%s" % (
                mt["name"], mt.get("os_type"), used[mt["name"]], limit, ", ".join(mt["datastores"]) or "nothing",
                ", skipped: %s" % skipped[mt["name"]] if mt["name"] in skipped else "") for mt in master_targets)
            problems.append("No master target can take %s: it needs a %s master target whose host reaches %s with room "
                            "for %d more disk(s)%s (master targets: %s)." % (
                                label, os_type or "matching", ", ".join(sorted(needed)) or "its datastores", disks,
                                ", and it must be %s, which already holds members of the group" % fixed[0] if fixed else "",
                                listed or "none"))
            continue
        best = max(fits, key=lambda mt: (limit - used[mt["name"]], mt["name"]))
        used[best["name"]] += disks
        for member in members:
            choice[member["name"]] = best["name"]
    return choice, problems
