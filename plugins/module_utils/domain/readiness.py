# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Failback readiness: every documented prerequisite as a small rule over plain dicts.

Each rule has a stable id (docs/readiness.md lists them with their sources) and returns
findings ``{vm, rule, severity, message, remedy}``; :func:`evaluate` runs them all over a
context that ``readiness_context.gather`` builds from vCenter, ASR and Compute. Pure Python:
no SDK, no Ansible, no clock (ages arrive computed).

The context (every key optional unless said)::

    location            'original' | 'alternate' (required)
    datastore           target datastore name (alternate location), for a context without per-VM ``placement``
    process_servers     [{name, id, fabric_name, health, service_status}] (asr.fabric.describe)
    run_as_accounts     [{name, id, fabric_name}]
    plans               {plan name: set of lower-case item ids} of the recovery plans holding a VM of a replication
                        group, read when the VMs are named without a plan (rule replication_group_plan)
    groups              {replication group name: [{name, id, os_type, disk_count, stage, in_run}]}: every member of
                        each replication group a VM of the run belongs to, from the vault's item list (a member not in
                        the run read with a GET too); ``in_run`` says whether the run holds it (rules replication_group,
                        replication_group_whole)
    item_names          {lower-case item id: VM name} of the vault's items
    recovery_point      'latest_processed' | 'latest_app_consistent'
    app_consistent_max_age_minutes, heartbeat_max_age_seconds
    plan                recovery plan name, when the VMs come from one
    vsphere             {connected, error, hostname, is_vcenter}
    configuration_servers  [{name, fabric_name, service_status, heartbeat_age_seconds, version, health, health_errors}]
    vcenters            [{name, ip, discovery_status, heartbeat_age_seconds, health_errors}]
    hosts               {name: {name, cluster, connection_state, maintenance_mode, memory_free_mb,
                                datastores: [{name, type}], vms: [names]}}
    datastores          {name: {name, type}}
    master_targets      {name: {name, asr: {os_type, version, disk_count, retention_volumes, validation_errors},
                                vm: master target facts (vsphere.facts) or None}}
    vms                 [{name, missing (message when the vault no longer protects it), item (normalized item
                          plus os_name, memory_mb, fabric_name), azure_vm, onprem (VM facts or None),
                          same_name_uuid (instance UUID of a VM of its name that is not the one a modernized
                          item names), same_name_vms ([{name, moid, instance_uuid, host, folder, vmx, power_state}]
                          when several VMs have its name and none can be chosen: domain.identity), same_name_warning
                          (the other VMs of its name when its VM was chosen), points {has_point, count, app_consistent_count,
                          latest_app_consistent_age_minutes, listed: [{name, id, type, time}] or None when the list was not
                          read} (domain.recovery_points.facts),
                          master_target, master_target_source, placement_problem,
                          placement: the names the reprotect to on-premises uses for the VM - run-wide, overridden by its
                          ``placements`` entry (domain.placement.names_for: master_target, process_server, datastore,
                          retention_volume, run_as_account, appliance, log_storage_account_id)}]
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import (
    hosts,
    identity,
    lifecycle,
    recovery_points,
    rules,
    stages,
    verification,
)

BLOCKER = "blocker"
WARNING = "warning"
# Healthy classic configuration servers, process servers and master targets were read 8 to 13 minutes after their
# last heartbeat (tests/recorded/asr, fact 17; 15 to 17 minutes on a 2017 server whose only fault was its version):
# a heartbeat about every 15 minutes. Twice that is the oldest accepted by default.
DEFAULT_HEARTBEAT_MAX_AGE_SECONDS = rules.DEFAULT_HEARTBEAT_MAX_AGE_SECONDS
UNHEALTHY = ("critical", "error")
UNSUPPORTED_RETENTION_FS = ("fat", "fat32")

# The stages each rule applies in come from the steps it gates (domain.lifecycle): BEFORE_REPROTECT gates the
# reprotect to on-premises, REPLICATING the failover, PENDING every step up to the failover (and a VM whose job
# still runs); DONE is where the failover has nothing left to do.
BEFORE_REPROTECT = lifecycle.stages_of("reprotect_to_onprem")
REPLICATING = lifecycle.stages_of("failover")
PENDING = (*BEFORE_REPROTECT, lifecycle.step("reprotect_to_onprem").passes_through, *REPLICATING, "job_running")
DONE = lifecycle.step("failover").done_at
VMWARE_PROVIDERS = stages.FORWARD + stages.FAILBACK

RULES = []


def rule(rule_id, scope="vm", when=PENDING, needs_vsphere=False):
    """Register a rule: ``scope`` 'site' (called with ctx), 'vm' (called with vm, ctx) or 'run' (called with ctx and
    the findings of the other rules, after them); ``when`` the
    stages a VM rule applies in (None: always); ``needs_vsphere`` skips it when vSphere did not answer."""
    def register(func):
        func.rule_id = rule_id
        RULES.append({"id": rule_id, "scope": scope, "when": when, "needs_vsphere": needs_vsphere, "check": func})
        return func
    return register


def finding(vm, rule_id, severity, message, remedy):
    return {"vm": vm, "rule": rule_id, "severity": severity, "message": message, "remedy": remedy}


def _lower(value):
    return str(value or "").lower()


def _version(text):
    """'9.62.7172.1' -> (9, 62, 7172, 1); None when unreadable."""
    parts = re.findall(r"\d+", str(text or ""))
    return tuple(int(p) for p in parts) if parts else None


def _codes(errors):
    return {str(e.get("code") or "") for e in errors or []}


def _stage(vm):
    return (vm.get("item") or {}).get("failback_stage")


def _mt(vm, ctx):
    """The master target entry the VM fails back through, or None."""
    return (ctx.get("master_targets") or {}).get(vm.get("master_target") or "")


def named(vm, ctx, key):
    """The name ``key`` (one of ``domain.options.PLACEMENT_KEYS``) the reprotect to on-premises uses for ``vm``: its
    ``placement`` (the run-wide names with its ``placements`` entry over them, as the reprotect merges them), else the
    context's run-wide name (a context built without placements)."""
    placement = vm.get("placement")
    if placement is not None:
        return placement.get(key)
    return ctx.get(key)


def _vm_host(vm, ctx):
    """The ESXi host the failed-back VM runs on: its own host (original location) or the master target's."""
    if ctx["location"] == "original":
        host = ((vm.get("onprem") or {}).get("host") or {}).get("name")
    else:
        mt = _mt(vm, ctx)
        host = (((mt or {}).get("vm") or {}).get("host") or {}).get("name")
    return (ctx.get("hosts") or {}).get(host or "")


def _source(vm):
    """'physical', 'vmware' or 'unknown': what Site Recovery says the VM's source machine is.

    Only a forward item (InMageAzureV2, InMageRcm) says it, by ``discoveryType``. A failback item (InMage) reports
    ``Physical`` for every source - it replicates the Azure VM, which the configuration server registers as a
    physical machine (tests/recorded/asr: the same VMware VM is ``vCenter`` before the reprotect and ``Physical``
    after it) - so there it is unknown, and vSphere decides (does the original VM exist)."""
    item = vm.get("item") or {}
    if item.get("provider") in stages.FAILBACK:
        return "unknown"
    value = _lower(item.get("discovery_type"))
    return {"physical": "physical", "vcenter": "vmware"}.get(value, "unknown")


def _is_physical(vm):
    return _source(vm) == "physical"


def _vm_datastores(vm):
    """The VM's datastores as vCenter shows them, plus those ASR recorded."""
    names = set((vm.get("onprem") or {}).get("datastores") or [])
    names |= set(((vm.get("item") or {}).get("onprem") or {}).get("datastores") or [])
    return sorted(names)


def _vm_os(vm):
    os_type = (vm.get("item") or {}).get("os_type") or (vm.get("onprem") or {}).get("os_family")
    return _lower(os_type) or None


# ---------------------------------------------------------------------- site: configuration server, vCenter
@rule("cs_running", scope="site")
def cs_running(ctx):
    servers = ctx.get("configuration_servers") or []
    if not servers:
        return [finding(None, "cs_running", BLOCKER, "The vault has no configuration server (no VMware fabric): failback "
                        "needs the original configuration server.",
                        "Restore the original configuration server with the same IP address from a backup.")]
    result = []
    for cs in servers:
        codes = sorted(c for c in _codes(cs.get("health_errors")) if c)
        unhealthy = _lower(cs.get("health")) in UNHEALTHY or "ConfigurationServerNotRunning" in codes
        if _lower(cs.get("service_status")) != "running" or unhealthy:
            result.append(finding(None, "cs_running", BLOCKER, "Configuration server %s is not running and healthy (service "
                                  "status %s, health %s%s%s)." % (
                                      cs["name"], cs.get("service_status"), cs.get("health"),
                                      ", health errors " + ", ".join(codes) if codes else "",
                                      ", version %s" % cs["version_status"] if cs.get("version_status") else ""),
                                  "Start the configuration server's services, fix its health errors (upgrade it when its "
                                  "version is not supported) and make sure it is connected to the vault."))
    return result


@rule("cs_heartbeat", scope="site")
def cs_heartbeat(ctx):
    limit = ctx.get("heartbeat_max_age_seconds", DEFAULT_HEARTBEAT_MAX_AGE_SECONDS)
    result = []
    for cs in ctx.get("configuration_servers") or []:
        age = cs.get("heartbeat_age_seconds")
        if age is None or age > limit:
            result.append(finding(None, "cs_heartbeat", BLOCKER, "Configuration server %s last sent a heartbeat %s ago "
                                  "(the limit is %d s): the vault may have lost it." % (
                                      cs["name"], "%d s" % age if age is not None else "an unknown time", limit),
                                  "Check the configuration server's connection to the vault (proxy, firewall, services)."))
    return result


@rule("vsphere_connected", scope="site")
def vsphere_connected(ctx):
    vsphere = ctx.get("vsphere") or {}
    if vsphere.get("connected"):
        return []
    return [finding(None, "vsphere_connected", BLOCKER, "Cannot connect to vSphere server %s: %s" % (
        vsphere.get("hostname"), vsphere.get("error") or "unknown error"),
        "Fix the vSphere connection options (hostname, credentials, CA) and check that vCenter is up.")]


def _relevant_vcenters(ctx):
    """ASR's vCenter entries for the server we connect to (by name or IP), else all of them."""
    entries = ctx.get("vcenters") or []
    hostname = _lower((ctx.get("vsphere") or {}).get("hostname"))
    mine = [v for v in entries if hostname and hostname in (_lower(v.get("name")), _lower(v.get("ip")))]
    return mine or entries


@rule("vcenter_connected", scope="site")
def vcenter_connected(ctx):
    result = []
    for entry in _relevant_vcenters(ctx):
        codes = _codes(entry.get("health_errors"))
        if _lower(entry.get("discovery_status")) == "failed" or "VCenterNotConnected" in codes:
            result.append(finding(None, "vcenter_connected", BLOCKER, "Site Recovery has lost vCenter %s (discovery status "
                                  "%s%s): disks cannot be detached from or attached to the master target." % (
                                      entry["name"], entry.get("discovery_status"),
                                      ", " + ", ".join(sorted(c for c in codes if c)) if codes - {""} else ""),
                                  "Reconnect vCenter to the configuration server (check its discovery account), then "
                                  "refresh the server in the vault."))
    return result


def _vcenter_lost(entry):
    return _lower(entry.get("discovery_status")) == "failed" or "VCenterNotConnected" in _codes(entry.get("health_errors"))


@rule("vcenter_heartbeat", scope="site")
def vcenter_heartbeat(ctx):
    """The configuration server's discovery of the vCenter (ASR's ``replicationvCenters`` ``lastHeartbeat``; recorded
    29 s old on a healthy vCenter, tests/recorded/asr vcenter_get.classic) is at most ``heartbeat_max_age_seconds``
    old: an old one means the configuration server no longer reaches vCenter, though ``discoveryStatus`` may still
    say Completed. An entry rule vcenter_connected refuses is not judged again; an unknown age is a warning."""
    limit = _heartbeat_limit(ctx)
    result = []
    for entry in _relevant_vcenters(ctx):
        age = entry.get("heartbeat_age_seconds")
        if _vcenter_lost(entry) or (age is not None and age <= limit):
            continue
        if age is None:
            result.append(finding(None, "vcenter_heartbeat", WARNING, "Site Recovery reports no discovery heartbeat for "
                                  "vCenter %s: whether the configuration server still reaches it is unknown." % entry["name"],
                                  "Check vCenter %s under the configuration server in the vault (Refresh server)."
                                  % entry["name"]))
            continue
        result.append(finding(None, "vcenter_heartbeat", BLOCKER, "The configuration server last discovered vCenter %s %s "
                              "ago (its heartbeat in the vault; the limit is %d s), though its discovery status says %s: "
                              "it no longer reaches vCenter, so the reprotect and the failover cannot detach disks from "
                              "or attach them to the master target." % (
                                  entry["name"], _duration(age), limit, entry.get("discovery_status")),
                              "Check that the configuration server reaches vCenter %s (network, the discovery run-as "
                              "account's password and permissions), refresh the configuration server in the vault, and "
                              "run the preflight again once the vCenter's heartbeat is recent." % entry["name"]))
    return result


def _duration(seconds):
    """'7200 s (2.0 h)' for a heartbeat age."""
    if seconds >= 3600:
        return "%d s (%.1f h)" % (seconds, seconds / 3600.0)
    return "%d s" % seconds


# ---------------------------------------------------------------------- the item: can it fail back at all
@rule("protection_enabled", when=None)
def protection_enabled(vm, ctx):
    if not vm.get("missing"):
        return []
    return [finding(vm["name"], "protection_enabled", BLOCKER, vm["missing"],
                    "Failback is impossible once protection is disabled; re-protect the VM from scratch instead.")]


@rule("migration_not_completed", when=None)
def migration_not_completed(vm, ctx):
    if _stage(vm) != "migration_completed":
        return []
    return [finding(vm["name"], "migration_not_completed", BLOCKER, "The migration of %s to Azure was completed: it can no "
                    "longer fail back." % vm["name"], "None: a migrated VM stays in Azure.")]


@rule("failback_stage", when=None)
def failback_stage(vm, ctx):
    stage = _stage(vm)
    item = vm.get("item") or {}
    if stage in (None, "migration_completed", "running_in_azure", "replicating_to_onprem", "failover_failed"):
        return []
    if stage in ("reprotecting_to_onprem", "job_running"):
        return [finding(vm["name"], "failback_stage", WARNING, "%s has a job running (%s)." % (
            vm["name"], item.get("current_scenario")), "Wait for the job to finish, then run the preflight again.")]
    if stage in DONE:  # the failover's done stages: past it, or nothing to fail back (domain.lifecycle)
        return [finding(vm["name"], "failback_stage", WARNING, "%s is already at stage %s." % (vm["name"], stage),
                        "Nothing to check: %s." % stages.NEXT.get(stage))]
    return [finding(vm["name"], "failback_stage", BLOCKER, "%s is at stage %s: %s." % (
        vm["name"], stage, stages.NEXT.get(stage, "it cannot fail back")),
        "Failback starts from a VM running in Azure after a committed failover.")]


@rule("target_is_vmware", when=None)
def target_is_vmware(vm, ctx):
    provider = (vm.get("item") or {}).get("provider")
    if vm.get("missing") or provider in VMWARE_PROVIDERS:
        return []
    return [finding(vm["name"], "target_is_vmware", BLOCKER, "%s is replicated by provider %s: only VMware VMs and physical "
                    "servers (InMage providers) fail back to vSphere, and never to a Hyper-V host." % (vm["name"], provider),
                    "Fail it back with the tooling of its own scenario.")]


@rule("original_infrastructure", needs_vsphere=True)
def original_infrastructure(vm, ctx):
    """Failback goes only to the original configuration server and vCenter."""
    item = vm.get("item") or {}
    fabrics = {cs.get("fabric_name") for cs in ctx.get("configuration_servers") or []}
    result = []
    if item.get("fabric_name") and item["fabric_name"] not in fabrics:
        result.append(finding(vm["name"], "original_infrastructure", BLOCKER, "%s is protected through fabric %s, which is "
                              "not a configuration server of the vault." % (vm["name"], item["fabric_name"]),
                              "Fail back through the original configuration server (restore it with the same IP)."))
    vsphere = ctx.get("vsphere") or {}
    known = [v for v in ctx.get("vcenters") or []
             if _lower(vsphere.get("hostname")) in (_lower(v.get("name")), _lower(v.get("ip")))]
    mts_here = any((mt.get("vm") is not None) for mt in (ctx.get("master_targets") or {}).values())
    if not (known or vm.get("onprem") or mts_here):
        result.append(finding(vm["name"], "original_infrastructure", BLOCKER, "vSphere server %s is not one the configuration "
                              "server discovered (%s), it does not hold %s, and no master target runs there." % (
                                  vsphere.get("hostname"), ", ".join(v["name"] for v in ctx.get("vcenters") or []) or "none",
                                  vm["name"]),
                              "Connect to the original vCenter (or standalone ESXi host) the configuration server knows."))
    return result


@rule("vm_in_cs_database")
def vm_in_cs_database(vm, ctx):
    item = vm.get("item") or {}
    codes = _codes(item.get("health_errors")) | _codes(item.get("validation_errors"))
    if "VmNotInConfigurationServerDatabase" not in codes:
        return []
    cs = ", ".join(c["name"] for c in ctx.get("configuration_servers") or []) or "the configuration server"
    return [finding(vm["name"], "vm_in_cs_database", BLOCKER, "%s is no longer in the database of configuration server %s "
                    "(it was rebuilt or replaced)." % (vm["name"], cs),
                    "Restore the configuration server from a backup with the same IP address; failback only works "
                    "through the original configuration server.")]


@rule("azure_vm_present")
def azure_vm_present(vm, ctx):
    found = vm.get("azure_vm")
    stage = _stage(vm)
    if found is None:
        if stage == "running_in_azure":
            return [finding(vm["name"], "azure_vm_present", BLOCKER, "Site Recovery names no Azure VM for %s." % vm["name"],
                            "Check the item in the Azure portal; failback needs the failed-over Azure VM.")]
        return [finding(vm["name"], "azure_vm_present", WARNING, "The Azure VM of %s cannot be found: nothing names it since "
                        "reprotect (it was not tagged by the reprotect module)." % vm["name"],
                        "Check in the Azure portal that the VM still exists in its resource group.")]
    if not found.get("exists"):
        return [finding(vm["name"], "azure_vm_present", BLOCKER, "The Azure VM %s of %s was deleted from resource group %s: "
                        "failback is impossible." % (found.get("name"), vm["name"], found.get("recorded_resource_group")),
                        "None: a deleted Azure VM cannot fail back.")]
    if found.get("moved"):
        return [finding(vm["name"], "azure_vm_present", BLOCKER, "The Azure VM %s of %s was moved from resource group %s to %s: "
                        "failback is impossible while it is there." % (
                            found.get("name"), vm["name"], found.get("recorded_resource_group"), found.get("resource_group")),
                        "Move the VM back to resource group %s." % found.get("recorded_resource_group"))]
    return []


@rule("azure_vm_running", when=BEFORE_REPROTECT)
def azure_vm_running(vm, ctx):
    """Error 78093 (DOC-TS "Troubleshoot failback to on-premises from Azure"): the reprotect needs the failed-over
    Azure VM running, so that its Mobility service registers with the configuration server. The power state is the
    instance view's ``PowerState/...`` of the subscription's VM list; a VM that is gone is rule azure_vm_present's."""
    found = vm.get("azure_vm")
    if not found or not found.get("exists") or found.get("moved"):
        return []
    state = _lower(found.get("power_state"))
    if state == "running":
        return []
    if state in ("", "unknown"):
        return [finding(vm["name"], "azure_vm_running", WARNING, "Azure does not report the power state of %s's Azure VM "
                        "%s: the reprotect needs it running (error 78093)." % (vm["name"], found.get("name")),
                        "Check in the Azure portal that VM %s runs." % found.get("name"))]
    return [finding(vm["name"], "azure_vm_running", BLOCKER, "The Azure VM %s of %s is %s: the reprotect to on-premises "
                    "needs it running, so that its Mobility service registers with the configuration server (error "
                    "78093)." % (found.get("name"), vm["name"], state),
                    "Start Azure VM %s (resource group %s), check that it reaches the configuration server, and run the "
                    "preflight again." % (found.get("name"), found.get("resource_group")))]


@rule("physical_alternate_only")
def physical_alternate_only(vm, ctx):
    # at the alternate location without a datastore, alternate_datastore says it once
    return _broken(vm, rules.physical_server(vm["name"], _is_physical(vm), ctx["location"] == "alternate" or None))


@rule("physical_os_supported")
def physical_os_supported(vm, ctx):
    os_name = _lower((vm.get("item") or {}).get("os_name"))
    if _is_physical(vm) and "2008 r2" in os_name and ("sp1" in os_name or "service pack 1" in os_name):
        return [finding(vm["name"], "physical_os_supported", BLOCKER, "%s is a physical server running %s, which cannot fail "
                        "back." % (vm["name"], vm["item"]["os_name"]), "Keep it in Azure or move it another way.")]
    return []


# ---------------------------------------------------------------------- vSphere hosts
@rule("standalone_host_discovered", needs_vsphere=True)
def standalone_host_discovered(vm, ctx):
    vsphere = ctx.get("vsphere") or {}
    host = ((vm.get("onprem") or {}).get("host") or {})
    if vsphere.get("is_vcenter", True) or not host:
        return []
    names = {_lower(v.get("name")) for v in ctx.get("vcenters") or []} | {_lower(v.get("ip")) for v in ctx.get("vcenters") or []}
    if _lower(host.get("name")) in names or _lower(vsphere.get("hostname")) in names:
        return []
    return [finding(vm["name"], "standalone_host_discovered", BLOCKER, "%s runs on ESXi host %s, which vCenter does not "
                    "manage and the configuration server has not discovered (discovered: %s)." % (
                        vm["name"], host.get("name"), ", ".join(sorted(v["name"] for v in ctx.get("vcenters") or [])) or "none"),
                    "Add the ESXi host to the configuration server (discovery) before reprotect.")]


@rule("esx_host_connected", needs_vsphere=True)
def esx_host_connected(vm, ctx):
    result = []
    hosts = []
    if ctx["location"] == "original" and vm.get("onprem"):
        hosts.append(("the VM's host", vm["onprem"].get("host")))
    mt = _mt(vm, ctx)
    if mt and mt.get("vm"):
        hosts.append(("master target %s's host" % mt["name"], mt["vm"].get("host")))
    seen = set()
    for role, host in hosts:
        if not host or host["name"] in seen:
            continue
        seen.add(host["name"])
        state = (ctx.get("hosts") or {}).get(host["name"], host)
        if _lower(state.get("connection_state")) != "connected" or state.get("maintenance_mode"):
            result.append(finding(vm["name"], "esx_host_connected", BLOCKER, "ESXi host %s (%s) is %s%s." % (
                host["name"], role, state.get("connection_state"),
                ", in maintenance mode" if state.get("maintenance_mode") else ""),
                "Reconnect the host and take it out of maintenance mode, or use another host."))
    return result


# ---------------------------------------------------------------------- recovery points
@rule("recovery_point")
def recovery_point(vm, ctx):
    stage = _stage(vm)
    points = vm.get("points") or {}
    if flow_of(vm) == "modernized":
        return []  # a planned failover copies the pending changes and takes a fresh point first
    plan = " (recovery plan %s fails back only when every VM has one)" % plan_of(vm, ctx) if plan_of(vm, ctx) else ""
    if stage in BEFORE_REPROTECT:
        return [finding(vm["name"], "recovery_point", WARNING, "%s has no failback recovery point yet: the first one comes "
                        "after the reprotect's initial replication%s." % (vm["name"], plan),
                        "Nothing to do now: the failover waits for the first recovery point.")]
    if stage in REPLICATING and not points.get("has_point"):
        return [finding(vm["name"], "recovery_point", BLOCKER, "%s has no recovery point yet: it cannot fail back%s." % (
            vm["name"], plan), "Wait until the initial replication completes and a recovery point appears.")]
    return []


@rule("app_consistent_point_age")
def app_consistent_point_age(vm, ctx):
    """Classic only: the modernized failback is a planned failover that takes a fresh application-consistent point
    (the recorded plannedFailover with recoveryPointType ApplicationConsistent was accepted), so it waits for none."""
    if ctx.get("recovery_point") != "latest_app_consistent" or _stage(vm) not in REPLICATING or flow_of(vm) == "modernized":
        return []
    points = vm.get("points") or {}
    age = points.get("latest_app_consistent_age_minutes")
    limit = ctx.get("app_consistent_max_age_minutes")
    if not points.get("app_consistent_count", 1 if age is not None else 0):
        return [finding(vm["name"], "app_consistent_point_age", BLOCKER, "%s has no application-consistent recovery point "
                        "yet (its recovery-point list shows %d point(s), none of type ApplicationConsistent)." % (
                            vm["name"], points.get("count") or 0), "Wait for one (every 60 minutes by default), or fail "
                        "over to the latest processed point.")]
    if limit is not None and age is not None and age > limit:
        return [finding(vm["name"], "app_consistent_point_age", BLOCKER, "The latest application-consistent recovery point of "
                        "%s is %.1f minutes old (the limit is %d)." % (vm["name"], age, limit),
                        "Wait for a newer one, or fail over to the latest processed point (more recent data).")]
    return []


KEYWORD_POINTS = ("latest_processed", "latest_app_consistent")


def _named_point_refusal(vm, ctx, wanted):
    """``(message, remedy)`` when the failover could not take recovery point ``wanted`` for the VM, else None."""
    stage = _stage(vm)
    runs = list(ctx.get("vms") or [])
    fix_keyword = "Fail over to latest_processed (or latest_app_consistent) instead."
    if ctx.get("plan") or len(runs) > 1:
        where = "recovery plan %s" % ctx["plan"] if ctx.get("plan") else "a run of %d VMs" % len(runs)
        return ("Recovery point %s is named for %s: a named point belongs to one VM, and only a single VM (without a "
                "recovery plan) fails over to one." % (wanted, where), fix_keyword)
    if flow_of(vm) == "modernized":
        return ("%s fails back through the modernized flow, a planned failover to a fresh crash- or application-"
                "consistent point: it cannot take recovery point %s." % (vm["name"], wanted), fix_keyword)
    if stage in BEFORE_REPROTECT:
        return ("%s has not been reprotected to on-premises yet, so no failback recovery point exists: recovery point %s "
                "cannot be one of its points (the run would reprotect it, then the failover would refuse)." % (
                    vm["name"], wanted),
                "Run the failback with latest_processed, or reprotect first and name one of the points "
                "replicated_item_info lists for %s." % vm["name"])
    listed = (vm.get("points") or {}).get("listed")
    if stage not in REPLICATING or listed is None or recovery_points.choose(listed, wanted) is not None:
        return None
    names = [p.get("name") for p in recovery_points.newest_first(listed)][:5]
    return ("%s has no recovery point %s (its %d listed point(s)%s)." % (
        vm["name"], wanted, len(listed), ", newest first: " + ", ".join(str(n) for n in names) if names else ""),
        "Name one of the points replicated_item_info lists for %s (by name or ARM id), or fail over to "
        "latest_processed." % vm["name"])


@rule("named_recovery_point")
def named_recovery_point(vm, ctx):
    """A recovery point named by its name or ARM id (``recovery_point``) is one the failover can take for this VM,
    the failover's own conditions (``asr.failover``, ``domain.recovery_points.choose``): one VM run without a recovery
    plan, a classic item (a modernized failback is a planned failover to a fresh point), replicating to on-premises
    (a failback point exists only after the reprotect), and listed among the item's recovery points."""
    wanted = ctx.get("recovery_point")
    refusal = _named_point_refusal(vm, ctx, wanted) if wanted and wanted not in KEYWORD_POINTS else None
    return [finding(vm["name"], "named_recovery_point", BLOCKER, refusal[0], refusal[1])] if refusal else []


# ---------------------------------------------------------------------- master target
@rule("master_target_available")
def master_target_available(vm, ctx):
    name = vm.get("master_target")
    if vm.get("placement_problem"):
        return [finding(vm["name"], "master_target_available", BLOCKER, vm["placement_problem"],
                        "Add or free a master target of the VM's OS whose host reaches its datastores.")]
    if not name:
        return []
    mt = _mt(vm, ctx)
    if mt is None or mt.get("asr") is None:
        # the reprotect's own rule (rules.find_master_target), so both say the same sentence
        _found, broken = rules.find_master_target(name, _registered(ctx))
        return _broken(vm, broken, "master_target_available")
    if (ctx.get("vsphere") or {}).get("connected") and mt.get("vm") is None and mt.get("ambiguous"):
        return [finding(vm["name"], "master_target_available", BLOCKER, "Master target %s: %d VMs of vSphere server %s "
                        "have that name, so the master target cannot be told from the others: %s." % (
                            name, len(mt["ambiguous"]), ctx["vsphere"].get("hostname"), "; ".join(mt["ambiguous"])),
                        "Rename or remove the stale copy (keep the master target Site Recovery registered), and "
                        "re-run.")]
    if (ctx.get("vsphere") or {}).get("connected") and mt.get("vm") is None:
        return [finding(vm["name"], "master_target_available", BLOCKER, "Master target %s is not a VM of vSphere server %s."
                        % (name, ctx["vsphere"].get("hostname")), "Connect to the vCenter that runs the master target.")]
    return []


def _registered(ctx):
    """The master targets the configuration server registered: [{name, id, ...}] (ASR's view)."""
    return [dict(m["asr"], name=n) for n, m in sorted((ctx.get("master_targets") or {}).items()) if m.get("asr")]


def _mt_vm_rule(rule_id, test, message, remedy):
    """A rule over the master target VM's vSphere facts: ``test(facts)`` true means fine."""
    def check(vm, ctx):
        mt = _mt(vm, ctx)
        facts = (mt or {}).get("vm")
        if not facts or test(facts):
            return []
        severity, text = message(mt["name"], facts)
        return [finding(vm["name"], rule_id, severity, text, remedy)]
    check.__name__ = rule_id
    return rule(rule_id, needs_vsphere=True)(check)


mt_snapshots = _mt_vm_rule(
    "mt_snapshots", lambda f: not f.get("snapshot_count"),
    lambda name, f: (BLOCKER, "Master target %s has %d snapshot(s): reprotect and failback through it fail." % (
        name, f["snapshot_count"])),
    "Delete the master target's snapshots.")


def _controller_ok(facts):
    return facts.get("only_lsi_logic_controllers", facts.get("has_lsi_logic_controller"))


def _controller_message(name, facts):
    types = ", ".join(c["type"] for c in facts.get("scsi_controllers") or []) or "none"
    if facts.get("has_lsi_logic_controller"):
        return WARNING, "Master target %s mixes LSI Logic with other SCSI controllers (%s): disks must attach to LSI Logic." % (
            name, types)
    return BLOCKER, "Master target %s has no LSI Logic SCSI controller (controllers: %s)." % (name, types)


mt_controller = _mt_vm_rule("mt_controller", _controller_ok, _controller_message,
                            "Give the master target LSI Logic (parallel or SAS) controllers only; Paravirtual SCSI is "
                            "not supported.")
mt_enable_uuid = _mt_vm_rule(
    "mt_enable_uuid", lambda f: f.get("disk_enable_uuid"),
    lambda name, f: (BLOCKER, "Master target %s does not have disk.EnableUUID=TRUE." % name),
    "Power the master target off, set the advanced parameter disk.EnableUUID to TRUE, and power it on.")
mt_tools = _mt_vm_rule(
    "mt_tools", lambda f: f.get("tools_installed", f.get("tools_status") not in (None, "toolsNotInstalled")),
    lambda name, f: (BLOCKER, "VMware Tools are not installed on master target %s (status %s)." % (name, f.get("tools_status"))),
    "Install VMware Tools on the master target.")


@rule("mt_os", when=BEFORE_REPROTECT)
def mt_os(vm, ctx):
    mt = _mt(vm, ctx)
    if not mt:
        return []
    mt_os_type = _lower((mt.get("asr") or {}).get("os_type")) or _lower((mt.get("vm") or {}).get("os_family"))
    return _broken(vm, rules.master_target_os(vm["name"], _vm_os(vm), mt["name"], mt_os_type))


@rule("mt_version", when=BEFORE_REPROTECT)
def mt_version(vm, ctx):
    mt = _mt(vm, ctx)
    asr = (mt or {}).get("asr") or {}
    versions = [(cs["name"], _version(cs.get("version"))) for cs in ctx.get("configuration_servers") or []]
    mine = _version(asr.get("version"))
    newer = [(name, v) for name, v in versions if mine and v and mine > v]
    if not newer:
        return []
    return [finding(vm["name"], "mt_version", BLOCKER, "Master target %s runs version %s, newer than configuration server %s "
                    "(%s)." % (mt["name"], asr.get("version"), newer[0][0], ".".join(str(p) for p in newer[0][1])),
                    "Upgrade the configuration server first; a master target may not be newer than it.")]


@rule("mt_disk_limit", when=BEFORE_REPROTECT)
def mt_disk_limit(vm, ctx):
    """The master target's disks plus those of every VM before this one that reprotects through it: at most 60."""
    mt = _mt(vm, ctx)
    if not mt:
        return []
    base = max(((mt.get("asr") or {}).get("disk_count") or 0), len(((mt.get("vm") or {}).get("disks")) or []))
    total = base
    for other in ctx.get("vms") or []:
        if other.get("master_target") == mt["name"] and _stage(other) in BEFORE_REPROTECT and not other.get("missing"):
            total += (other.get("item") or {}).get("disk_count") or 0
        if other is vm:
            break
    adding = vm["item"].get("disk_count") or 0
    return _broken(vm, rules.master_target_disks(mt["name"], total - adding, adding, vm=vm["name"]))


def _broken(vm, broken, rule_id=None, remedy=None):
    """A ``rules.Broken`` (or None) as the VM's blocker findings, under the preflight's ``rule_id`` when the
    preflight rule groups several step rules (``alternate_datastore``); ``remedy`` when the rule's message names
    the fix itself (its remedy is empty)."""
    return [finding(vm["name"], rule_id or broken.rule, BLOCKER, broken.message, broken.remedy or remedy)] if broken else []


# the same, for the modernized flow's rules (domain.readiness_modern)
as_findings = _broken


def _mounted(host, ctx):
    """The datastore names an ESXi host mounts (the hosts' read, else the host row itself)."""
    return [d["name"] for d in ((ctx.get("hosts") or {}).get(host["name"], host)).get("datastores") or []]


def _where(master_target, host):
    return "ESXi host %s of master target %s" % (host, master_target)


def _retention_problem(volume, invalid):
    name = volume.get("name")
    if _lower(name) in invalid:
        return "%s (%s file system)" % (name, invalid[_lower(name)])
    capacity, free = volume.get("capacity_gb"), volume.get("free_gb")
    threshold = volume.get("threshold_percentage") or 80
    if capacity and free is not None and (free <= 0 or (capacity - free) * 100.0 / capacity >= threshold):
        return "%s (%.0f of %.0f GB free, the threshold is %d%% used)" % (name, free, capacity, threshold)
    return None


@rule("mt_retention_volume", when=BEFORE_REPROTECT)
def mt_retention_volume(vm, ctx):
    """A usable retention volume on the master target: the one named (``retention_volume``, checked by the
    reprotect's own rule ``rules.choose_retention_volume``), else any."""
    mt = _mt(vm, ctx)
    asr = (mt or {}).get("asr")
    wanted = named(vm, ctx, "retention_volume")
    if asr is None:
        if not wanted or not vm.get("master_target"):
            return []
        held = "; ".join("%s: %s" % (m["name"], ", ".join(v["name"] for v in m.get("retention_volumes") or []) or "none")
                         for m in _registered(ctx))
        return [finding(vm["name"], "mt_retention_volume", BLOCKER, "Retention volume %s of %s cannot be used: its master "
                        "target %s is not registered (the registered master targets' retention volumes - %s)." % (
                            wanted, vm["name"], vm["master_target"], held or "none"),
                        "Name a retention volume of the registered master target the VM fails back through.")]
    invalid = {}
    for error in asr.get("validation_errors") or []:
        text = " ".join(str(error.get(k) or "") for k in ("code", "message"))
        match = re.search(r"volume '([^']+)'.*?\b(FAT32|FAT)\b", text, re.I)
        if match:
            invalid[_lower(match.group(1))] = match.group(2).upper()
    volumes = asr.get("retention_volumes") or []
    if wanted:
        volume, broken = rules.choose_retention_volume(mt["name"], volumes, wanted)
        problem = _retention_problem(volume, invalid) if volume else None
        if problem:
            return [finding(vm["name"], "mt_retention_volume", BLOCKER, "Master target %s's retention volume is not usable: "
                            "%s." % (mt["name"], problem),
                            "Name a usable retention volume (not FAT/FAT32, below its usage threshold), or free space on it.")]
        return _broken(vm, broken)
    problems = [p for p in (_retention_problem(v, invalid) for v in volumes) if p]
    if volumes and len(problems) < len(volumes):
        return []
    return [finding(vm["name"], "mt_retention_volume", BLOCKER, "Master target %s has no usable retention volume: %s." % (
        mt["name"], "; ".join(problems) or "none is reported"),
        "Give the master target a retention volume that is not FAT/FAT32 and has free space (NTFS on Windows, ext4/xfs "
        "on Linux), then refresh the configuration server.")]


def _group_members(vm, ctx):
    """Every member of the VM's replication group: the vault's (``ctx['groups']``), else the VMs of the run that
    share it. Each {name, os_type, stage, in_run, entry (the run's VM entry, or None)}."""
    group = (vm.get("item") or {}).get("replication_group")
    in_run = {o["name"]: o for o in ctx.get("vms") or [] if (o.get("item") or {}).get("replication_group") == group}
    known = (ctx.get("groups") or {}).get(group)
    if known is None:
        return [{"name": n, "os_type": _vm_os(o), "stage": _stage(o), "in_run": True, "entry": o} for n, o in in_run.items()]
    members = []
    for member in known:
        entry = in_run.get(member["name"]) if member.get("in_run") else None
        members.append({"name": member["name"], "os_type": _vm_os(entry) if entry else _lower(member.get("os_type")) or None,
                        "stage": _stage(entry) if entry else member.get("stage"), "in_run": bool(member.get("in_run")),
                        "entry": entry})
    return members


@rule("replication_group", when=BEFORE_REPROTECT)
def replication_group(vm, ctx):
    """The whole replication group - every member the vault holds, not only those of this run - shares one OS, and
    the members of the run one master target (DOC-RP: "all have the same operating system ... All VMs in a
    replication group must use the same master target server")."""
    group = (vm.get("item") or {}).get("replication_group")
    if not group:
        return []
    members = _group_members(vm, ctx)
    oses = {}
    mts = {}
    for member in members:
        label = member["name"] if member["in_run"] else "%s (not in this run)" % member["name"]
        oses.setdefault(member["os_type"] or "unknown", []).append(label)
        if member["entry"] is not None and member["entry"].get("master_target"):
            mts.setdefault(member["entry"]["master_target"], []).append(member["name"])
    result = []
    if len(oses) > 1:
        result.append(finding(vm["name"], "replication_group", BLOCKER, "Replication group %s mixes operating systems (%s): "
                              "one group fails back through one master target of one OS." % (
                                  group, "; ".join("%s: %s" % (k.capitalize(), ", ".join(v)) for k, v in sorted(oses.items()))),
                              "Keep VMs of one OS in a replication group (disable and re-enable protection to regroup)."))
    elif len(mts) > 1:
        result.append(finding(vm["name"], "replication_group", BLOCKER, "Replication group %s would use master targets %s: all "
                              "its VMs must fail back through one." % (group, ", ".join(sorted(mts))),
                              "Give every VM of the group the same master target."))
    return result


@rule("replication_group_whole")
def replication_group_whole(vm, ctx):
    """A recovery plan that holds a VM of a replication group holds every member the group still has to fail back:
    the group reprotects and fails over as a whole, only through a recovery plan (DOC-RP, API section 5). Named VMs
    (no plan) are rule replication_group_plan's. Members already failed back or beyond do not count."""
    group = (vm.get("item") or {}).get("replication_group")
    plan = plan_of(vm, ctx)
    if not plan or not group or (ctx.get("groups") or {}).get(group) is None:
        return []
    outside = [m["name"] for m in _group_members(vm, ctx) if not m["in_run"] and m["stage"] not in DONE]
    if not outside:
        return []
    return [finding(vm["name"], "replication_group_whole", BLOCKER, "Recovery plan %s holds %s of replication group %s but "
                    "not %s: a replication group reprotects and fails over as a whole, through one recovery plan that "
                    "holds all of it." % (plan, vm["name"], group, ", ".join(outside)),
                    "Add %s to recovery plan %s (or fail the group back through the plan that holds all of it)." % (
                        ", ".join(outside), plan))]


def plan_of(vm, ctx):
    """The recovery plan of the run that holds ``vm``: its entry's ``plan`` when the entry says (None: a VM named
    outside every plan of the run), else the run's plan (``ctx["plan"]``), else None."""
    return vm["plan"] if "plan" in vm else ctx.get("plan")


# Source: a recovery plan fails over as one job, and a replication group as one unit (DOC-FB: "a recovery plan
# cannot fail back until every VM in it has at least one [recovery point]"; DOC-RP: groups through their plan).
TOGETHER = "fails_back_together"


def fails_back_together(ctx, findings):
    """Rule fails_back_together: a VM with no blocker of its own in a recovery plan (or, without a plan, in a
    replication group of the run) where another VM is blocked: the plan, or the group, fails back as a whole, so it
    is not ready either. Called by :func:`evaluate` with the VM findings."""
    blocked = {}
    for f in findings:
        if f["severity"] == BLOCKER and f["vm"] is not None:
            blocked.setdefault(f["vm"], []).append(f["rule"])
    if not blocked:
        return []
    units = []
    vms = ctx.get("vms") or []
    by_plan, groups = {}, {}
    for vm in vms:
        plan = plan_of(vm, ctx)
        group = (vm.get("item") or {}).get("replication_group")
        if plan:
            by_plan.setdefault(plan, []).append(vm["name"])
        elif group and not vm.get("missing"):  # a VM named outside every plan: its replication group is its unit
            groups.setdefault(group, []).append(vm["name"])
    units.extend(("recovery plan %s" % plan, names) for plan, names in by_plan.items())
    units.extend(("replication group %s" % g, names) for g, names in sorted(groups.items()) if len(names) > 1)
    result = []
    for label, names in units:
        stuck = [n for n in names if n in blocked]
        if not stuck:
            continue
        why = "; ".join("%s (%s)" % (n, ", ".join(sorted(set(blocked[n])))) for n in stuck)
        for name in names:
            if name not in blocked:
                result.append(finding(name, TOGETHER, BLOCKER, "%s has no blocker of its own, but %s fails back as a "
                                      "whole and %s %s blocked: %s." % (
                                          name, label, ", ".join(stuck), "are" if len(stuck) > 1 else "is", why),
                                      "Fix the blockers of %s, then run the preflight again." % ", ".join(stuck)))
    return result


# ---------------------------------------------------------------------- original location
@rule("original_vm_present", needs_vsphere=True)
def original_vm_present(vm, ctx):
    """The original VM is the one VM of the item's name in the vSphere server (classic items record no instance UUID:
    ``infrastructureVmId`` is the configuration server's id), or the VM whose instance UUID a modernized item names
    (``domain.identity``); other VMs of the name beside the one found are a warning."""
    if ctx["location"] == "original" and vm.get("onprem") and vm.get("same_name_warning"):
        return [finding(vm["name"], "original_vm_present", WARNING, vm["same_name_warning"],
                        "Nothing to do for the failback; rename or remove the stale copy to keep names unique.")]
    if ctx["location"] != "original" or _is_physical(vm) or vm.get("onprem"):
        return []
    server = (ctx.get("vsphere") or {}).get("hostname")
    several = vm.get("same_name_vms") or []
    if len(several) > 1:
        # the same sentence master_target_disks, onprem_vm and the commit refuse with (domain.identity); never the
        # advice to fail back to an alternate location: that would create one more VM of the name
        recorded = ((vm.get("item") or {}).get("onprem") or {}).get("instance_uuid")
        text = identity.Resolution(vm["name"], identity.AMBIGUOUS, None, several, recorded).refusal()
        return [finding(vm["name"], "original_vm_present", BLOCKER, "In vSphere server %s: %s" % (server, text),
                        "Rename or remove every VM named %s but the one Site Recovery protects (the stale copy), then "
                        "run the preflight again." % vm["name"])]
    other = vm.get("same_name_uuid")
    recorded = ((vm.get("item") or {}).get("onprem") or {}).get("instance_uuid")
    if other:
        text = ("A VM named %s exists, but it is another VM (instance UUID %s%s)." % (
            vm["name"], other, ", Site Recovery records %s" % recorded if recorded else ""))
    elif recorded:
        text = "No VM has the instance UUID Site Recovery records (%s)." % recorded
    else:
        text = "No VM of that name exists there."
    if _source(vm) == "unknown":
        text += (" Site Recovery does not say whether %s was a VMware VM or a physical server (a failback item reports "
                 "every source as Physical); a physical server fails back only to an alternate location." % vm["name"])
    return [finding(vm["name"], "original_vm_present", BLOCKER, "Original-location failback needs the original VM %s, and "
                    "vSphere server %s does not hold it. %s" % (vm["name"], server, text),
                    "Fail back to an alternate location (a new VM), or connect to the original vCenter.")]


@rule("datastore_reachable", when=BEFORE_REPROTECT, needs_vsphere=True)
def datastore_reachable(vm, ctx):
    mt = _mt(vm, ctx)
    host = ((mt or {}).get("vm") or {}).get("host")
    if ctx["location"] != "original" or not host or not vm.get("onprem"):
        return []
    return _broken(vm, rules.datastore_reach(vm["name"], _vm_datastores(vm), _mounted(host, ctx),
                                             _where(mt["name"], host["name"])))


@rule("original_disk_types", when=BEFORE_REPROTECT, needs_vsphere=True)
def original_disk_types(vm, ctx):
    if ctx["location"] != "original" or not vm.get("onprem"):
        return []
    found = []
    for disk in vm["onprem"].get("disks") or []:
        found += _broken(vm, rules.original_disk(vm["name"], disk.get("file") or disk.get("key"), disk.get("backing"),
                                                 disk.get("datastore"), disk.get("datastore_type")))
    return found


# ---------------------------------------------------------------------- alternate location
@rule("alternate_datastore", when=BEFORE_REPROTECT, needs_vsphere=True)
def alternate_datastore(vm, ctx):
    """The datastore the reprotect names for the VM (its ``placements`` entry, else the run's): required at an
    alternate location; wherever one is named, it exists, is VMFS or vSAN, and the master target's host mounts it
    (the reprotect checks the last two against ASR's view of the master target: ``rules.datastore_kind``,
    ``rules.datastore_reach``)."""
    name = named(vm, ctx, "datastore")
    if ctx["location"] != "alternate" and not name:
        return []
    if not name:
        return [finding(vm["name"], "alternate_datastore", BLOCKER, "Alternate-location failback of %s needs a target "
                        "datastore." % vm["name"], "Give the datastore (VMFS or vSAN) the new VM is created on.")]
    store = (ctx.get("datastores") or {}).get(name)
    if store is None:
        return [finding(vm["name"], "alternate_datastore", BLOCKER, "Datastore %s does not exist in vSphere server %s." % (
            name, (ctx.get("vsphere") or {}).get("hostname")), "Choose an existing VMFS or vSAN datastore.")]
    broken = rules.datastore_kind(vm["name"], name, store.get("type"))
    mt = _mt(vm, ctx)
    host = ((mt or {}).get("vm") or {}).get("host")
    if broken is None and host:
        broken = rules.datastore_reach(vm["name"], [name], _mounted(host, ctx), _where(mt["name"], host["name"]))
    return _broken(vm, broken, "alternate_datastore")


@rule("name_clash", when=BEFORE_REPROTECT, needs_vsphere=True)
def name_clash(vm, ctx):
    mt = _mt(vm, ctx)
    host = ((mt or {}).get("vm") or {}).get("host")
    if ctx["location"] != "alternate" or not host:
        return []
    names = ((ctx.get("hosts") or {}).get(host["name"]) or {}).get("vms") or []
    if vm["name"] not in names:
        return []
    return [finding(vm["name"], "name_clash", BLOCKER, "A VM named %s already exists on master target %s's host %s: the new "
                    "VM cannot be created there (error 78052)." % (vm["name"], mt["name"], host["name"]),
                    "Rename or remove the other VM, vMotion the master target, or choose a master target on another host.")]


def _candidates(vm, host, needed, ctx):
    """The host the 8038 remedy would move the VM to, by the one rule of ``domain.hosts`` (connected, out of
    maintenance mode, the memory, every datastore of every file of the VM, every network of it, its cluster), and
    why each other host cannot run it: ``(host or None, {host name: [reasons]})``."""
    onprem = vm.get("onprem") or {}
    if ctx["location"] == "original":
        wanted = onprem.get("file_datastores") or _vm_datastores(vm)
        networks = onprem.get("networks") or []
    else:  # the new VM: its datastore; its networks are given to onprem_vm, which checks them on the host
        wanted, networks = [d for d in [named(vm, ctx, "datastore")] if d], []
    needs = {"name": vm["name"], "memory_mb": needed, "cluster": host.get("cluster"), "datastores": wanted,
             "networks": networks}
    offers = [dict(h, datastores=[d["name"] for d in h.get("datastores") or []])
              for h in (ctx.get("hosts") or {}).values()]
    return hosts.choose(needs, offers, exclude={host["name"]})


@rule("host_memory", needs_vsphere=True)
def host_memory(vm, ctx):
    host = _vm_host(vm, ctx)
    onprem = vm.get("onprem") or {}
    if not host or (ctx["location"] == "original" and onprem.get("power_state") == "poweredOn"):
        return []
    needed = onprem.get("memory_mb") if ctx["location"] == "original" else None
    needed = needed or (vm.get("item") or {}).get("memory_mb")
    free = host.get("memory_free_mb")
    if not needed or free is None or free >= needed:
        return []
    best, rejected = _candidates(vm, host, needed, ctx)
    if best and ctx.get("memory_remediation") == "vmotion":
        return [finding(vm["name"], "host_memory", WARNING, "Host %s has %d MB free, %s needs %d MB to power on "
                        "(error 8038); the run will vMotion it to host %s (%d MB free, same cluster, mounts every "
                        "datastore of its files, has its networks) before it powers it on." % (
                            host["name"], free, vm["name"], needed, best["name"], best["memory_free_mb"]),
                        "Nothing, or free memory on %s to keep the VM there (memory_remediation: fail stops "
                        "instead)." % host["name"])]
    remedy = ("vMotion %s to host %s (%d MB free, same cluster, mounts every datastore of its files, has its "
              "networks) before the failover (onprem_vm memory_remediation: vmotion), or free memory on %s." % (
                  vm["name"], best["name"], best["memory_free_mb"], host["name"]) if best else
              "Free memory on %s or add memory to it: no other host can run %s (%s)." % (
                  host["name"], vm["name"], hosts.explain(rejected) or "there is no other host"))
    return [finding(vm["name"], "host_memory", BLOCKER, "Host %s has %d MB free, %s needs %d MB to power on (error 8038)." % (
        host["name"], free, vm["name"], needed), remedy)]


@rule("onprem_tools", needs_vsphere=True)
def onprem_tools(vm, ctx):
    """A VM the run verifies by VMware Tools whose vCenter already says Tools are not installed would be failed
    over, then stop at the verification: say it now (domain.verification)."""
    onprem = vm.get("onprem") or {}
    mode = verification.mode_of(ctx.get("verification"), vm["name"])
    if ctx["location"] != "original" or not verification.waits_for_tools(mode) or not verification.tools_never_run(
            onprem.get("tools_status")):
        return []
    return [finding(vm["name"], "onprem_tools", BLOCKER, "vCenter says VMware Tools are not installed in %s, and the "
                    "run verifies it by Tools: it would fail it over, then stop waiting for them." % vm["name"],
                    "Verify it by its power state or a health probe (the run's verification: {per_vm: {%s: "
                    "power_only}}, e.g. original_location_verification), or install VMware Tools in it."
                    % vm["name"])]


# ---------------------------------------------------------------------- master target running, datastore space
def _heartbeat_limit(ctx):
    return ctx.get("heartbeat_max_age_seconds", DEFAULT_HEARTBEAT_MAX_AGE_SECONDS)


def mt_problem(mt, ctx, unknown_heartbeat_holds=False):
    """A ``rules.Broken`` when master target entry ``mt`` ({name, asr, vm}) is powered off or its agent's heartbeat
    is stale (rules ``mt_powered_on``, ``mt_heartbeat``); None when it runs (or is not registered: the rule
    master_target_available says that). Also what automatic placement skips a master target for - with
    ``unknown_heartbeat_holds``, as an unknown heartbeat is then the rule mt_heartbeat's to report."""
    if not mt or mt.get("asr") is None:
        return None
    power = (mt.get("vm") or {}).get("power_state") if mt.get("vm") else None
    age = mt["asr"].get("heartbeat_age_seconds")
    if age is None and unknown_heartbeat_holds:
        age = 0
    return rules.master_target_running(mt["name"], power, age, _heartbeat_limit(ctx))


def _mt_running_rule(rule_id):
    def check(vm, ctx):
        broken = mt_problem(_mt(vm, ctx), ctx)
        return _broken(vm, broken) if broken is not None and broken.rule == rule_id else []
    check.__name__ = rule_id
    return rule(rule_id)(check)


# Source: a master target receives the VM's disks during the reprotect and hands them back at the failover
# ("Reprotect from Azure to on-premises", Microsoft Learn: the master target must be running); its agent reports to
# the configuration server every 15 minutes or so (tests/recorded/asr, fact 17; the limit is cs_heartbeat's).
mt_powered_on = _mt_running_rule("mt_powered_on")
mt_heartbeat = _mt_running_rule("mt_heartbeat")


@rule("alternate_datastore_space", when=BEFORE_REPROTECT, needs_vsphere=True)
def alternate_datastore_space(vm, ctx):
    """The alternate-location datastore holds the disks of this VM and of every VM before it that goes there."""
    name = named(vm, ctx, "datastore")
    store = (ctx.get("datastores") or {}).get(name or "")
    if ctx["location"] != "alternate" or store is None or store.get("free_gb") is None:
        return []
    if not sum(c or 0 for c in (vm.get("item") or {}).get("disk_capacities_bytes") or []):
        return []
    needed = 0
    for other in ctx.get("vms") or []:
        if _stage(other) in BEFORE_REPROTECT and not other.get("missing") and named(other, ctx, "datastore") == name:
            needed += sum(c or 0 for c in (other.get("item") or {}).get("disk_capacities_bytes") or [])
        if other is vm:
            break
    return _broken(vm, rules.datastore_space(vm["name"], name, store["free_gb"] * 1024 ** 3, needed))


# ---------------------------------------------------------------------- the other names of the reprotect
def _fabric_of(vm, ctx, key):
    """The entries of ``ctx[key]`` of the VM's configuration server (by the item's fabric)."""
    fabric = (vm.get("item") or {}).get("fabric_name")
    return [e for e in ctx.get(key) or [] if not fabric or e.get("fabric_name") in (None, fabric)]


@rule("process_server", when=BEFORE_REPROTECT)
def process_server(vm, ctx):
    """The process server the reprotect to on-premises moves the VM's data through, by the reprotect's own rule
    (``rules.choose_process_server``): the one named, else the only healthy one (the configuration server's own
    set apart when several are). Not judged from a context without the fabric's process servers."""
    if "process_servers" not in ctx:
        return []
    fabric = (vm.get("item") or {}).get("fabric_name")
    own = next((cs["name"] for cs in ctx.get("configuration_servers") or [] if cs.get("fabric_name") == fabric), None)
    _server, _why, broken = rules.choose_process_server(_fabric_of(vm, ctx, "process_servers"),
                                                        named(vm, ctx, "process_server"), own, vm["name"])
    return _broken(vm, broken, remedy="Name a healthy process server of the configuration server (process_server), or "
                   "restore the health of one.")


def _process_server_of(vm, ctx):
    """The process server the VM's data flows through: before the reprotect, the one the reprotect chooses
    (``rules.choose_process_server``); once it replicates to on-premises, the one the item names
    (``processServerId``). None when there is none (rule process_server says why)."""
    servers = _fabric_of(vm, ctx, "process_servers")
    if _stage(vm) in BEFORE_REPROTECT:
        fabric = (vm.get("item") or {}).get("fabric_name")
        own = next((cs["name"] for cs in ctx.get("configuration_servers") or [] if cs.get("fabric_name") == fabric), None)
        return rules.choose_process_server(servers, named(vm, ctx, "process_server"), own, vm["name"])[0]
    wanted = _lower(((vm.get("item") or {}).get("onprem") or {}).get("process_server_id"))
    return next((s for s in servers if wanted and _lower(s.get("id")) == wanted), None)


@rule("process_server_heartbeat")
def process_server_heartbeat(vm, ctx):
    """The process server the VM's data flows through sent Site Recovery a heartbeat at most
    ``heartbeat_max_age_seconds`` ago (the fabric's ``processServers[].lastHeartbeat``; healthy ones were read 8 to
    13 minutes after it, tests/recorded/asr fact 17). DOC-TS: "a process server should also have a heartbeat when
    it's connected to the configuration server"; health and service state are rule process_server's. An unknown
    heartbeat is a warning."""
    if "process_servers" not in ctx or flow_of(vm) != "classic":
        return []
    server = _process_server_of(vm, ctx)
    if server is None:
        return []
    age, limit = server.get("heartbeat_age_seconds"), _heartbeat_limit(ctx)
    if age is not None and age <= limit:
        return []
    role = "the reprotect would move %s's data through it" if _stage(vm) in BEFORE_REPROTECT else \
        "%s replicates to on-premises through it"
    if age is None:
        return [finding(vm["name"], "process_server_heartbeat", WARNING, "Site Recovery reports no heartbeat for process "
                        "server %s (%s)." % (server.get("name"), role % vm["name"]),
                        "Check the process server's services and its connection to the configuration server.")]
    return [finding(vm["name"], "process_server_heartbeat", BLOCKER, "Process server %s last sent Site Recovery a heartbeat "
                    "%s ago (the limit is %d s), and %s: it is not connected to the configuration server." % (
                        server.get("name"), _duration(age), limit, role % vm["name"]),
                    "Start the process server's services and check that it reaches the configuration server (port 443), "
                    "or name another healthy process server (process_server).")]


@rule("run_as_account", when=BEFORE_REPROTECT)
def run_as_account(vm, ctx):
    """A named run-as account is one the configuration server knows (the reprotect's rule
    ``rules.find_run_as_account``)."""
    wanted = named(vm, ctx, "run_as_account")
    if not wanted:
        return []
    return _broken(vm, rules.find_run_as_account(wanted, _fabric_of(vm, ctx, "run_as_accounts"))[1])


REPROTECT_STEP = lifecycle.step("reprotect_to_onprem")


@rule("replication_group_plan")
def replication_group_plan(vm, ctx):
    """A VM of a replication group named without a recovery plan: the VMs named must hold every VM of one plan
    holding it, as the reprotect (and the failover) refuse otherwise (``rules.route_groups``). The reprotect weighs
    the VMs of a replication group it does not refuse by stage. Not judged from a context without ``plans``."""
    if plan_of(vm, ctx) or "plans" not in ctx or not (vm.get("item") or {}).get("replication_group"):
        return []
    grouped = [{"name": o["name"], "id": (o["item"].get("id") or ""), "replication_group": o["item"]["replication_group"]}
               for o in ctx.get("vms") or [] if not o.get("missing") and (o.get("item") or {}).get("replication_group")
               and REPROTECT_STEP.decide(_stage(o))[0] != lifecycle.REFUSE]
    _plan, broken = rules.route_groups(grouped, {g["id"].lower() for g in grouped}, ctx["plans"],
                                       ctx.get("item_names") or {})
    return _broken(vm, broken.get(vm["name"]))


COMMITTED = ("failback_committed", "reprotected_to_azure")


@rule("plan_stages", when=BEFORE_REPROTECT)
def plan_stages(vm, ctx):
    """In a recovery-plan run, a VM still in Azure and a VM of the same plan whose failback is already committed (it
    was failed back by name, outside the plan): Site Recovery fails a recovery plan over as a whole, so the run
    would reprotect the VMs still in Azure and then stop at the plan's failover (the lab answers OperationNotAllowed
    "items of the recovery plan are in different states"), leaving them reprotected by a failed run. Not judged
    without a plan."""
    plan = plan_of(vm, ctx)
    if not plan:
        return []
    same = [o for o in ctx.get("vms") or [] if not o.get("missing") and plan_of(o, ctx) == plan]
    done = sorted("%s (%s)" % (o["name"], _stage(o)) for o in same if _stage(o) in COMMITTED)
    if not done:
        return []
    waiting = sorted(o["name"] for o in same if _stage(o) in BEFORE_REPROTECT)
    return [finding(vm["name"], "plan_stages", BLOCKER, "Recovery plan %s holds VMs whose failback is already committed "
                    "(%s) and VMs still in Azure (%s): Site Recovery fails a recovery plan over as a whole, so this run "
                    "would reprotect %s and then stop at the plan's failover." % (
                        plan, ", ".join(done), ", ".join(waiting), vm["name"]),
                    "Fail back %s without this plan: name them as a list (a replication group among them needs a "
                    "recovery plan holding exactly it - create one in the vault), or take the failed-back VMs out of "
                    "recovery plan %s." % (", ".join(waiting), plan))]


# ---------------------------------------------------------------------- evaluation
rule(TOGETHER, scope="run")(fails_back_together)
RULE_IDS = tuple(r["id"] for r in RULES)


# Rules about the classic flow's configuration server and master target; the modernized flow (the
# replication appliance) has its own rules in domain/readiness_modern.py.
CLASSIC_ONLY = ("cs_running", "cs_heartbeat", "vm_in_cs_database", "original_infrastructure", "master_target_available",
                "mt_snapshots", "mt_controller", "mt_enable_uuid", "mt_tools", "mt_os", "mt_version", "mt_disk_limit",
                "mt_retention_volume", "replication_group", "datastore_reachable", "name_clash", "mt_powered_on",
                "mt_heartbeat", "process_server", "run_as_account", "process_server_heartbeat")
MODERN_ONLY = []


def flow_of(vm):
    """'modernized' for InMageRcm / InMageRcmFailback items, else 'classic'."""
    provider = (vm.get("item") or {}).get("provider")
    return "modernized" if provider in stages.MODERN_FORWARD + stages.MODERN_FAILBACK else "classic"


def _applies(entry, vm, ctx):
    if entry["needs_vsphere"] and not (ctx.get("vsphere") or {}).get("connected"):
        return False
    if vm.get("missing"):
        return entry["id"] == "protection_enabled"
    if entry["id"] in CLASSIC_ONLY and flow_of(vm) != "classic":
        return False
    if entry["id"] in MODERN_ONLY and flow_of(vm) != "modernized":
        return False
    return entry["when"] is None or _stage(vm) in entry["when"]


def evaluate(ctx):
    """``{findings, verdicts, summary}``: site findings (vm null) count as blockers or warnings of every VM."""
    findings = []
    flows = {flow_of(vm) for vm in ctx.get("vms") or [] if not vm.get("missing")} or {"classic"}
    # the rules of the flows present: a classic-only site is not checked against the modernized rules, nor the reverse
    evaluated = [entry for entry in RULES
                 if not ((entry["id"] in CLASSIC_ONLY and "classic" not in flows)
                         or (entry["id"] in MODERN_ONLY and "modernized" not in flows))]
    for entry in evaluated:
        if entry["scope"] == "site":
            findings.extend(entry["check"](ctx))
    for vm in ctx.get("vms") or []:
        for entry in RULES:
            if entry["scope"] == "vm" and _applies(entry, vm, ctx):
                findings.extend(entry["check"](vm, ctx))
    for entry in evaluated:  # over the findings so far: a plan or group is ready only when all of it is
        if entry["scope"] == "run":
            findings.extend(entry["check"](ctx, list(findings)))
    site = [f for f in findings if f["vm"] is None]
    verdicts = []
    for vm in ctx.get("vms") or []:
        mine = site + [f for f in findings if f["vm"] == vm["name"]]
        blockers = ["%s: %s" % (f["rule"], f["message"]) for f in mine if f["severity"] == BLOCKER]
        warnings = ["%s: %s" % (f["rule"], f["message"]) for f in mine if f["severity"] == WARNING]
        verdicts.append({"vm": vm["name"], "ready": not blockers, "stage": _stage(vm), "master_target": vm.get("master_target"),
                         "blockers": blockers, "warnings": warnings})
    summary = {"vms": len(verdicts), "ready": sum(1 for v in verdicts if v["ready"]),
               "not_ready": sum(1 for v in verdicts if not v["ready"]),
               "blockers": sum(1 for f in findings if f["severity"] == BLOCKER),
               "warnings": sum(1 for f in findings if f["severity"] == WARNING),
               "rules": len(evaluated)}
    return {"findings": findings, "verdicts": verdicts, "summary": summary}
