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

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import hosts, limits, options


def names_for(given, vm):
    """The names the reprotect to on-premises uses for ``vm`` - and the preflight checks for it: ``given`` holds the
    run-wide names (``options.PLACEMENT_KEYS``: master_target, process_server, datastore, retention_volume,
    run_as_account, appliance, log_storage_account_id; None or absent when unset) and ``placements`` ({VM name:
    {key: name}}); a name of the VM's own entry wins unless it is None. Returns a new dict of every key."""
    chosen = {key: given.get(key) for key in options.PLACEMENT_KEYS}
    chosen.update({k: v for k, v in ((given.get("placements") or {}).get(vm) or {}).items() if v is not None})
    return chosen


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
    memory_mb}]; ``master_targets``: [{name, os_type, datastores, disk_count, unusable (why it cannot serve now, or
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
        skipped = {}
        for mt in master_targets:
            why = mt.get("unusable") or _host_problem(mt, members, needed)
            if why:
                skipped[mt["name"]] = why
        fits = [mt for mt in master_targets
                if mt["name"] not in skipped and (mt.get("os_type") or "").lower() == os_type
                and needed <= set(mt["datastores"]) and used[mt["name"]] + disks <= limit]
        if not fits:
            listed = "; ".join("%s %s, %d/%d disks, reaches %s%s" % (
                mt["name"], mt.get("os_type"), used[mt["name"]], limit, ", ".join(mt["datastores"]) or "nothing",
                ", skipped: %s" % skipped[mt["name"]] if mt["name"] in skipped else "") for mt in master_targets)
            problems.append("No master target can take %s: it needs a %s master target whose host reaches %s with room "
                            "for %d more disk(s) (master targets: %s)." % (
                                label, os_type or "matching", ", ".join(sorted(needed)) or "its datastores", disks,
                                listed or "none"))
            continue
        best = max(fits, key=lambda mt: (limit - used[mt["name"]], mt["name"]))
        used[best["name"]] += disks
        for member in members:
            choice[member["name"]] = best["name"]
    return choice, problems
