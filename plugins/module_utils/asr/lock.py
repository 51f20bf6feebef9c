# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A run lock on each failed-over Azure VM, so two runs never act on the same VM at once.

The lock is a tag on the Azure VM (``siterecovery-failback-lock: <owner>|<expiry epoch>``): it
lives in Azure, not on a controller, so a run on any AWX node sees it. The Azure VM exists from
the failover to Azure until the commit deletes it, which covers every step that must not run
twice; the last step (reprotect to Azure) is serialized by ASR itself.
"""

from __future__ import annotations

import time

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

TAG_LOCK = "siterecovery-failback-lock"


def parse(value):
    """'owner|1764140000' -> ('owner', 1764140000.0); anything else -> (None, 0)."""
    owner, _sep, expiry = (value or "").rpartition("|")
    try:
        return (owner or None), float(expiry)
    except ValueError:
        return None, 0.0


def acquire(azure_vms, selected, owner, ttl_seconds, check_mode, break_lock=False, clock=time.time):
    """Lock every selected item's Azure VM for ``owner``; refuse (changing nothing) when another
    live run holds one. Returns ``(changed, results)``."""
    now = clock()
    results, refusals, to_lock = [], [], []
    for _model, item in selected:
        vm = azure_vms.find(item)
        result = {"name": item["name"], "azure_vm": vm["id"] if vm and vm.get("exists") else None, "status": "skipped"}
        results.append(result)
        if not vm or not vm.get("exists"):
            continue  # committed already: nothing left that two runs could both do
        holder, expiry = parse(azure_vms.tag(vm["id"], TAG_LOCK))
        if holder == owner:
            result["status"] = "held_by_us"
            if expiry <= now:  # ours but expired: renewed; a live one is left as it is (a re-run changes nothing)
                to_lock.append((vm, result))
        elif holder and expiry > now and not break_lock:
            refusals.append("VM %s is being failed back by run %s (lock on %s until %s UTC). Two runs must not act on "
                            "the same VM: wait for that run, or if it died, re-run after the lock expires or with "
                            "lock_break: true." % (item["name"], holder, vm["name"],
                                                   time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(expiry))))
        else:
            result["status"] = "acquired"
            result["broken"] = holder if holder and expiry > now else None
            to_lock.append((vm, result))
    if refusals:
        raise AzureError("Refusing to start; nothing was changed: " + " ".join(refusals), refusals=refusals, vms=results)
    value = "%s|%d" % (owner, now + ttl_seconds)
    if not check_mode:
        for vm, _result in to_lock:
            azure_vms.set_tags(vm["id"], {TAG_LOCK: value})
        azure_vms.forget()
        lost = [r["name"] for vm, r in to_lock if parse(azure_vms.tag(vm["id"], TAG_LOCK))[0] != owner]
        if lost:
            raise AzureError("Another run took the lock of %s at the same moment; this run stops." % ", ".join(lost),
                             vms=results)
    return bool(to_lock), results


def release(azure_vms, selected, owner, check_mode):
    """Remove ``owner``'s lock from the selected items' Azure VMs (other runs' locks stay)."""
    results, changed = [], False
    for _model, item in selected:
        vm = azure_vms.find(item)
        result = {"name": item["name"], "azure_vm": vm["id"] if vm and vm.get("exists") else None, "status": "none"}
        results.append(result)
        if not vm or not vm.get("exists"):
            continue
        holder, _expiry = parse(azure_vms.tag(vm["id"], TAG_LOCK))
        if holder != owner:
            result["status"] = "not_ours" if holder else "none"
            continue
        result["status"] = "released"
        changed = True
        if not check_mode:
            azure_vms.set_tags(vm["id"], {}, remove=[TAG_LOCK])
    return changed, results
