# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Readiness rules of ASR's modernized flow (failback through the replication appliance).

Registered with the same ``rule`` decorator as domain/readiness.py; they apply only to
InMageRcm / InMageRcmFailback items. The context adds ``appliances``: [{name, id, health,
heartbeat_age_seconds, accessible_datastores, protected_item_count}] and each VM's
``appliance`` (the one named, or None).
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits, readiness
from ansible_collections.siterecovery.failback.plugins.module_utils.domain.readiness import BLOCKER, WARNING, finding, rule

RULE_IDS = ("appliance_available", "appliance_health", "appliance_datastore", "appliance_disk_limit",
            "modernized_guest_changes")
readiness.MODERN_ONLY.extend(RULE_IDS)


def _candidates(vm, ctx):
    named = vm.get("appliance")
    appliances = ctx.get("appliances") or []
    return [a for a in appliances if a["name"] == named] if named else appliances


def _target_datastore(vm, ctx):
    return ctx.get("datastore") or ((vm.get("item") or {}).get("target_datastore"))


def _healthy(appliance, ctx):
    age = appliance.get("heartbeat_age_seconds")
    limit = ctx.get("heartbeat_max_age_seconds", readiness.DEFAULT_HEARTBEAT_MAX_AGE_SECONDS)
    return appliance.get("health") in ("Normal", None) and (age is None or age <= limit)


@rule("appliance_available", when=readiness.BEFORE_REPROTECT)
def appliance_available(vm, ctx):
    if _candidates(vm, ctx):
        return []
    return [finding(vm["name"], "appliance_available", BLOCKER,
                    "No replication appliance %s is registered in the vault for %s." % (
                        ("named %s" % vm["appliance"]) if vm.get("appliance") else "at all", vm["name"]),
                    "Register a replication appliance on-premises (or name a registered one) before reprotecting.")]


@rule("appliance_health", when=readiness.BEFORE_REPROTECT)
def appliance_health(vm, ctx):
    candidates = _candidates(vm, ctx)
    if not candidates or any(_healthy(a, ctx) for a in candidates):
        return []
    return [finding(vm["name"], "appliance_health", BLOCKER,
                    "No healthy replication appliance for %s: %s." % (vm["name"], "; ".join(
                        "%s is %s, last heartbeat %s s ago" % (a["name"], a.get("health"), a.get("heartbeat_age_seconds"))
                        for a in candidates)),
                    "Restore the appliance's services and connectivity to Azure (heartbeat within %d s), then re-run."
                    % ctx.get("heartbeat_max_age_seconds", readiness.DEFAULT_HEARTBEAT_MAX_AGE_SECONDS))]


@rule("appliance_datastore", when=readiness.BEFORE_REPROTECT)
def appliance_datastore(vm, ctx):
    datastore = _target_datastore(vm, ctx)
    candidates = [a for a in _candidates(vm, ctx) if _healthy(a, ctx)]
    if not datastore:
        return [finding(vm["name"], "appliance_datastore", BLOCKER,
                        "The modernized reprotect of %s needs the datastore the appliance writes to." % vm["name"],
                        "Give the datastore (a VMFS or vSAN datastore the appliance reaches).")]
    if not candidates or any(datastore in (a.get("accessible_datastores") or []) for a in candidates):
        return []
    return [finding(vm["name"], "appliance_datastore", BLOCKER,
                    "No healthy replication appliance reaches datastore %s for %s (%s)." % (
                        datastore, vm["name"], "; ".join("%s reaches %s" % (a["name"], ", ".join(
                            a.get("accessible_datastores") or []) or "nothing") for a in candidates)),
                    "Choose a datastore an appliance reaches, or give the appliance access to it.")]


@rule("appliance_disk_limit", when=readiness.BEFORE_REPROTECT)
def appliance_disk_limit(vm, ctx):
    total = sum((e.get("item") or {}).get("disk_count", 0) for e in ctx.get("vms") or []
                if readiness.flow_of(e) == "modernized" and not e.get("missing"))
    appliances = [a for a in _candidates(vm, ctx) if _healthy(a, ctx)] or _candidates(vm, ctx)
    if not appliances or total <= limits.MASTER_TARGET_DISK_LIMIT * len(appliances):
        return []
    return [finding(vm["name"], "appliance_disk_limit", WARNING,
                    "The VMs of this run have %d disks; %d appliance(s) take at most %d." % (
                        total, len(appliances), limits.MASTER_TARGET_DISK_LIMIT * len(appliances)),
                    "Fail back in smaller batches or add a replication appliance.")]


@rule("modernized_guest_changes", when=readiness.BEFORE_REPROTECT)
def modernized_guest_changes(vm, ctx):
    return [finding(vm["name"], "modernized_guest_changes", WARNING,
                    "%s fails back through the modernized flow: static IP addresses are not kept and changes made in "
                    "Azure to /etc/fstab or LVM are carried back." % vm["name"],
                    "Plan the on-premises IP configuration and check fstab/LVM after failback.")]
