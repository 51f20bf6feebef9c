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

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits, readiness, rules
from ansible_collections.siterecovery.failback.plugins.module_utils.domain.readiness import WARNING, finding, rule

RULE_IDS = ("appliance_available", "appliance_health", "appliance_datastore", "appliance_disk_limit",
            "modernized_guest_changes", "log_storage_account")
readiness.MODERN_ONLY.extend(RULE_IDS)


def _candidates(vm, ctx):
    named = vm.get("appliance")
    appliances = ctx.get("appliances") or []
    return [a for a in appliances if rules.same_name(named, a.get("name"), a.get("id"))] if named else appliances


def _target_datastore(vm, ctx):
    return readiness.named(vm, ctx, "datastore")


def _limit(ctx):
    return ctx.get("heartbeat_max_age_seconds", readiness.DEFAULT_HEARTBEAT_MAX_AGE_SECONDS)


def _healthy(appliance, ctx):
    return rules.appliance_healthy(appliance, _limit(ctx))


def _appliance_problem(vm, ctx, *rule_ids):
    """The reprotect's own choice of the replication appliance (``rules.choose_appliance``: the one named, else any
    registered one; healthy - here with its heartbeat within the limit too - and reaching the datastore) as the VM's
    findings when the rule it breaks is one of ``rule_ids`` (reported under the first)."""
    broken = rules.choose_appliance(vm["name"], ctx.get("appliances") or [], vm.get("appliance"),
                                    _target_datastore(vm, ctx), _limit(ctx))[1]
    return readiness.as_findings(vm, broken, rule_ids[0]) if broken is not None and broken.rule in rule_ids else []


# Source: the modernized reprotect names a replication appliance (reprotectAgentId) that must be registered, healthy
# and reach the datastore it writes to (asr-api.md 2.7; one that does not reach it: ASR error 8061).
@rule("appliance_available", when=readiness.BEFORE_REPROTECT)
def appliance_available(vm, ctx):
    return _appliance_problem(vm, ctx, "appliance_available")


@rule("appliance_health", when=readiness.BEFORE_REPROTECT)
def appliance_health(vm, ctx):
    return _appliance_problem(vm, ctx, "appliance_health")


@rule("appliance_datastore", when=readiness.BEFORE_REPROTECT)
def appliance_datastore(vm, ctx):
    missing = rules.modernized_datastore(vm["name"], _target_datastore(vm, ctx))
    if missing is not None:
        return readiness.as_findings(vm, missing)
    return _appliance_problem(vm, ctx, "appliance_datastore", "datastore_reachable")


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


@rule("log_storage_account", when=readiness.BEFORE_REPROTECT)
def log_storage_account(vm, ctx):
    """The run names the storage account the modernized reprotect caches changes in (the reprotect's own rule)."""
    return readiness.as_findings(vm, rules.log_storage_account(vm["name"], readiness.named(vm, ctx, "log_storage_account_id")))
