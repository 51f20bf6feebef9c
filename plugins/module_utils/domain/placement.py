# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Automatic master target placement, in pure Python.

A VM (or a whole replication group, which must share one master target) goes to a master
target of the same OS whose ESXi host reaches every datastore it needs and whose disk count
stays within 60; among those, the one with the most room left.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits


def _units(vms):
    """Replication groups and single VMs, biggest first."""
    units = {}
    for vm in vms:
        key = ("group", vm["group"]) if vm.get("group") else ("vm", vm["name"])
        units.setdefault(key, []).append(vm)
    return sorted(units.values(), key=lambda members: -sum(m["disk_count"] for m in members))


def place(vms, master_targets, limit=limits.MASTER_TARGET_DISK_LIMIT):
    """``vms``: [{name, os_type, datastores, disk_count, group}]; ``master_targets``: [{name, os_type,
    datastores, disk_count}]. Returns ``(choice {vm name: master target name}, problems)``."""
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
        fits = [mt for mt in master_targets
                if (mt.get("os_type") or "").lower() == os_type and needed <= set(mt["datastores"])
                and used[mt["name"]] + disks <= limit]
        if not fits:
            problems.append("No master target can take %s: it needs a %s master target whose host reaches %s with room "
                            "for %d more disk(s) (master targets: %s)." % (
                                label, os_type or "matching", ", ".join(sorted(needed)) or "its datastores", disks,
                                "; ".join("%s %s, %d/%d disks, reaches %s" % (
                                    mt["name"], mt.get("os_type"), used[mt["name"]], limit,
                                    ", ".join(mt["datastores"]) or "nothing") for mt in master_targets) or "none"))
            continue
        best = max(fits, key=lambda mt: (limit - used[mt["name"]], mt["name"]))
        used[best["name"]] += disks
        for member in members:
            choice[member["name"]] = best["name"]
    return choice, problems
