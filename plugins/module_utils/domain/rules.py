# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Safety rules that both the preflight report (``domain.readiness``) and a step's own gate apply, each defined
once: plain values in, ``None`` or a :class:`Broken` (what is wrong, and the fix) out - or, for a rule that also
chooses (a process server, a retention volume, a replication appliance), the choice or the Broken.

Sources: a Windows VM fails back through a Windows master target and a Linux VM through a Linux one ("Reprotect
from Azure to on-premises", Microsoft Learn); a master target protects at most 60 disks (``domain.limits``); failback
writes only to VMFS or vSAN datastores that the master target's ESXi host mounts (error 8061, "Troubleshoot
failback", Microsoft Learn); original-location failback cannot reuse raw device mappings or vSAN disks, and a
physical server fails back only as a new VMware VM ("Reprotect from Azure to on-premises"; "Fail back VMware VMs").
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits

# Healthy configuration servers, process servers and master targets were read 8 to 13 minutes after their last
# heartbeat (tests/recorded/asr, fact 17): a heartbeat about every 15 minutes. Twice that is the oldest accepted by
# default (domain.readiness takes it from here; its option heartbeat_max_age_seconds overrides it).
DEFAULT_HEARTBEAT_MAX_AGE_SECONDS = 1800


class Broken:
    """A rule that does not hold: ``message`` names the objects and the rule, ``remedy`` the fix."""

    def __init__(self, rule, message, remedy):
        self.rule, self.message, self.remedy = rule, message, remedy

    def sentence(self):
        """Message and fix in one sentence, for a step's refusal (the message alone when it names the fix itself:
        an empty ``remedy``)."""
        return "%s %s" % (self.message, self.remedy) if self.remedy else self.message


def _family(os_type):
    return str(os_type or "").strip().lower()


def master_target_os(vm, vm_os, master_target, master_target_os_type):
    """Rule ``mt_os``: the VM and its master target run the same OS family. Unknown on either side holds."""
    mine, theirs = _family(vm_os), _family(master_target_os_type)
    if not mine or not theirs or mine == theirs:
        return None
    return Broken("mt_os", "VM %s runs %s but master target %s runs %s." % (
        vm, mine.capitalize(), master_target, theirs.capitalize()),
        "Use a %s master target: Windows VMs fail back through a Windows master target, Linux VMs through a Linux "
        "one." % mine.capitalize())


def master_target_disks(master_target, has, adding, limit=limits.MASTER_TARGET_DISK_LIMIT, vm=None):
    """Rule ``mt_disk_limit``: the master target's ``has`` disks plus the ``adding`` ones stay within ``limit``."""
    if has + adding <= limit:
        return None
    whose = " with %s's %d" % (vm, adding) if vm else " (%d now + %d)" % (has, adding)
    return Broken("mt_disk_limit", "Master target %s would hold %d disks%s; the limit is %d." % (
        master_target, has + adding, whose, limit), "Use another master target for this VM, or add one.")


def datastore_kind(vm, datastore, kind):
    """Rule ``datastore_type``: failback writes ``vm``'s disks only to a VMFS or vSAN ``datastore`` (``kind`` as
    vSphere or ASR spells it, any case)."""
    if limits.is_failback_datastore_type(kind):
        return None
    return Broken("datastore_type", "VM %s: datastore %s is %s; failback writes disks only to VMFS or vSAN "
                  "datastores." % (vm, datastore, kind or "of an unknown type"), "Choose a VMFS or vSAN datastore.")


def datastore_reach(vm, needed, mounted, where):
    """Rule ``datastore_reachable``: every datastore in ``needed`` is one of ``mounted``, the datastores the
    machine that writes ``vm``'s disks reaches; ``where`` names it (e.g. "ESXi host esx-01 of master target
    mt-01", "the ESXi host of replication appliance app-01"). ASR's error 8061 when it does not hold."""
    missing = sorted(set(needed) - set(mounted))
    if not missing:
        return None
    return Broken("datastore_reachable", "VM %s: datastore %s is not mounted on %s (ASR error 8061; it mounts %s)." % (
        vm, ", ".join(missing), where, ", ".join(mounted) or "nothing"),
        "Choose a master target (or replication appliance) whose host mounts it, or mount it there.")


def original_disk(vm, disk_file, backing, datastore, kind):
    """Rule ``original_disk_types``: original-location failback reuses ``vm``'s own disk only when it is a
    VMDK (not a raw device mapping, ``backing == "rdm"``) on a datastore that is not vSAN."""
    if backing == "rdm":
        why = "disk %s is a raw device mapping" % disk_file
    elif limits.datastore_type(kind) == "vsan":
        why = "disk %s is on vSAN datastore %s" % (disk_file, datastore)
    else:
        return None
    return Broken("original_disk_types", "VM %s: %s; original-location failback cannot use it." % (vm, why),
                  "Fail back to an alternate location on a VMFS or vSAN datastore (new VMDKs).")


def physical_server(vm, physical, datastore):
    """Rule ``physical_alternate_only``: a physical server (``physical`` True; None = unknown, holds) fails back
    only as a new VMware VM, on the ``datastore`` an alternate-location run names (None at the original
    location)."""
    if not physical or datastore:
        return None
    return Broken("physical_alternate_only", "VM %s is a physical server: it fails back only as a new VMware VM "
                  "(alternate location) on a datastore." % vm,
                  "Run the failback with location alternate and a datastore.")


def master_target_running(master_target, power_state, heartbeat_age_seconds, max_age_seconds):
    """Rules ``mt_powered_on`` and ``mt_heartbeat``: the master target VM is powered on (``power_state`` as vSphere
    says it; None = vSphere not read, holds) and its agent's last heartbeat to Site Recovery (``lastHeartbeat`` of
    the fabric's master target, as an age in seconds; None = never or unknown) is at most ``max_age_seconds`` old.
    A master target that is off, or whose agent has stopped reporting, cannot take disks: the reprotect (and the
    failover) through it fail. The first rule that does not hold, else None."""
    if power_state is not None and power_state != "poweredOn":
        return Broken("mt_powered_on", "Master target %s is %s in vSphere: it cannot receive or hand back disks." % (
            master_target, power_state), "Power the master target on (and wait for its agent's heartbeat), or choose "
            "another master target.")
    if heartbeat_age_seconds is None or heartbeat_age_seconds > max_age_seconds:
        return Broken("mt_heartbeat", "Master target %s last sent a heartbeat to Site Recovery %s ago (the limit is %d "
                      "s): its agent is not reporting." % (
                          master_target, "%d s" % heartbeat_age_seconds if heartbeat_age_seconds is not None
                          else "an unknown time", max_age_seconds),
                      "Check the master target's agent services and its connection to the configuration server, "
                      "or choose another master target.")
    return None


def datastore_space(vm, datastore, free_bytes, needed_bytes):
    """Rule ``alternate_datastore_space``: the alternate-location ``datastore`` has ``free_bytes`` (vSphere's
    ``summary.freeSpace``) for ``vm``'s disks, ``needed_bytes`` - the sum of the protected disks' capacities ASR
    reports (``diskCapacityInBytes``). ASR reports no provisioning type for them (tests/recorded/asr: InMage and
    InMageAzureV2 ``protectedDisks`` carry only capacities), so each VMDK is counted at its full size: what a thick
    VMDK takes, and what a thin one grows to. Unknown (None) on either side holds."""
    if free_bytes is None or not needed_bytes or free_bytes >= needed_bytes:
        return None
    gib = 1024.0 ** 3
    return Broken("alternate_datastore_space", "VM %s: datastore %s has %.1f GB free; its disks need %.1f GB (the "
                  "capacities Site Recovery reports, each counted in full)." % (
                      vm, datastore, free_bytes / gib, needed_bytes / gib),
                  "Free space on %s or choose a datastore with at least %.1f GB free." % (datastore, needed_bytes / gib))


# ---------------------------------------------------------------------- names a reprotect to on-premises takes
# Each function takes plain values (what the fabric lists, as dicts) and returns what it chose, or a Broken:
# ``readiness`` reports the Broken as a finding before anything changes, and the reprotect step refuses with its
# ``sentence()``. A dict may carry the caller's own object under ``model`` (an SDK model); it is returned as is.
def _listed(values):
    return ", ".join(sorted(str(v) for v in values)) or "none"


def same_name(name, *values):
    """A name or ARM id compared as Azure does, without regard to case."""
    return (name or "").lower() in {(v or "").lower() for v in values if v is not None}


def find_master_target(name, registered):
    """``(entry, None)`` for master target ``name`` (its name or ARM id, any case) among ``registered`` ([{name,
    id}], the configuration server's master targets as the fabric lists them), else ``(None, Broken)``: rule
    ``master_target_available``."""
    for entry in registered:
        if same_name(name, entry.get("name"), entry.get("id")):
            return entry, None
    return None, Broken("master_target_available", "Master target %s is not registered with the configuration server "
                        "(registered: %s)." % (name, _listed(e.get("name") for e in registered)),
                        "Choose a registered master target, or install and register this one.")


# A process server that cannot move data: its health (Critical, or the Error the 2017 fabric shows) or its service
# says so. Warning is tolerated (a load warning does not stop replication), and heartbeat ages are not used here:
# healthy ones are 8 to 13 minutes old when read (tests/recorded/asr, fact 17).
UNHEALTHY_PROCESS_SERVER = ("critical", "error")


def process_server_problem(server):
    """Why process server ``server`` ({health, service_status}) cannot serve, or None: its health (Critical/Error) or
    a service not Running."""
    health, status = server.get("health"), server.get("service_status")
    if str(health or "").lower() in UNHEALTHY_PROCESS_SERVER:
        return "health %s" % health
    if status is not None and str(status).lower() != "running":
        return "service %s" % status
    return None


def choose_process_server(servers, name=None, own=None, vm=None):
    """Rule ``process_server``: ``(server, why it was chosen, None)`` or ``(None, None, Broken)``.

    ``servers``: [{name (friendly name), id, health, service_status}] of the configuration server whose friendly
    name is ``own``. The one called ``name`` (friendly name or id); without a name, the only healthy one - the
    configuration server's own included, which is what the recorded reprotect to on-premises used
    (lro_202.reProtect.to_onprem.InMage...); when several are healthy, the only one that is not the configuration
    server's own. ``vm``: the VM the choice is for (its name starts the refusal), or None."""
    lead = "VM %s: " % vm if vm else ""
    if name:
        for server in servers:
            if same_name(name, server.get("name"), server.get("id")):
                return server, "named", None
        return None, None, Broken("process_server", "%sProcess server %s is not registered (registered: %s)." % (
            lead, name, _listed(s.get("name") for s in servers)),
            "Name a registered process server (its name or id), or leave process_server out to use the only healthy one.")
    healthy = [s for s in servers if process_server_problem(s) is None]
    sick = "; ".join("%s: %s" % (s.get("name"), process_server_problem(s)) for s in servers if process_server_problem(s))
    if len(healthy) == 1:
        mine = " (the configuration server's own)" if same_name(own, healthy[0].get("name")) else ""
        return healthy[0], "the only healthy process server%s%s" % (mine, " (not healthy: %s)" % sick if sick else ""), None
    others = [s for s in healthy if not same_name(own, s.get("name"))]
    if len(others) == 1:
        return others[0], ("the only healthy process server besides configuration server %s's own, which stays with "
                           "replication to Azure (healthy: %s)" % (own, _listed(s.get("name") for s in healthy))), None
    if not healthy:
        why = "none of its process servers is healthy (%s)" % (sick or "it reports none")
        fix = ""
    else:
        why = "%d process servers are healthy (%s): besides configuration server %s's own, %s remain, so the choice is " \
              "yours" % (len(healthy), _listed(s.get("name") for s in healthy), own, _listed(s.get("name") for s in others))
        fix = ""
    return None, None, Broken("process_server", "%sName the process server to use (process_server): %s." % (lead, why), fix)


def choose_retention_volume(master_target, volumes, name=None):
    """Rule ``mt_retention_volume`` as the reprotect applies it: ``(volume, None)`` or ``(None, Broken)``.
    ``volumes``: [{name, free_bytes}] of ``master_target`` (its ``retentionVolumes``); the one called ``name``
    (exactly), else the one with the most free space."""
    if name:
        for volume in volumes:
            if volume.get("name") == name:
                return volume, None
        return None, Broken("mt_retention_volume", "Master target %s has no retention volume %s (it has: %s)." % (
            master_target, name, _listed(v.get("name") for v in volumes)),
            "Name one of its retention volumes, or leave retention_volume out to use the one with the most free space.")
    if not volumes:
        return None, Broken("mt_retention_volume", "Master target %s reports no retention volume; it can take 15 "
                            "minutes to appear after the master target is installed." % master_target,
                            "Wait for it (then refresh the configuration server), or choose another master target.")
    return max(volumes, key=lambda v: v.get("free_bytes") or 0), None


def find_run_as_account(name, accounts):
    """Rule ``run_as_account``: ``(account, None)`` for ``name`` (account name or id, any case) among ``accounts``
    ([{name, id}] of the configuration server), else ``(None, Broken)``."""
    for account in accounts:
        if same_name(name, account.get("name"), account.get("id")):
            return account, None
    return None, Broken("run_as_account", "Run-as account %s is not known to the configuration server (accounts: %s)."
                        % (name, _listed(a.get("name") for a in accounts)),
                        "Name an account the configuration server knows (its name or id), or leave run_as_account out.")


# ProtectionHealth of a replication appliance that can serve: Normal, or not reported (asr-api.md 3.1).
HEALTHY_APPLIANCE = ("Normal", "None", None)


def appliance_healthy(appliance, max_age_seconds=None):
    """Whether a replication appliance ({health, heartbeat_age_seconds}) is Normal (or reports no health) and, with
    ``max_age_seconds``, heard from within it (an unknown age holds)."""
    age = appliance.get("heartbeat_age_seconds")
    fresh = max_age_seconds is None or age is None or age <= max_age_seconds
    return appliance.get("health") in HEALTHY_APPLIANCE and fresh


def choose_appliance(vm, appliances, name=None, datastore=None, max_age_seconds=None):
    """Rules ``appliance_available``, ``appliance_health``, ``appliance_datastore`` (and ``datastore_reachable`` for
    a named appliance) of the modernized reprotect: ``(appliance, None)`` or ``(None, Broken)``.

    ``appliances``: [{name, id, health, heartbeat_age_seconds, accessible_datastores, protected_item_count}] (the
    InMageRcm fabric's reprotect agents). The one called ``name`` (name or id, any case) or, without a name, every
    registered one; among those, a healthy one (``appliance_healthy``) that reaches ``datastore`` (when given), the
    one with the fewest protected items (an unreported count is 0), then by name. ``vm``: the VM it is for."""
    for_vm = " for %s" % vm if vm else ""
    candidates = [a for a in appliances if same_name(name, a.get("name"), a.get("id"))] if name else list(appliances)
    if not candidates:
        message = ("Replication appliance %s is not registered in the vault (appliances: %s)." % (
            name, _listed(a.get("name") for a in appliances)) if name
            else "No replication appliance is registered in the vault.")
        return None, Broken("appliance_available", message, "Register a replication appliance on-premises (or name a "
                            "registered one) before reprotecting.")
    healthy = [a for a in candidates if appliance_healthy(a, max_age_seconds)]
    fits = [a for a in healthy if not datastore or datastore in (a.get("accessible_datastores") or [])]
    if fits:
        return min(fits, key=lambda a: (a.get("protected_item_count") or 0, a.get("name") or "")), None
    if not healthy:
        ages = ["" if a.get("heartbeat_age_seconds") is None else ", last heartbeat %s s ago" % a["heartbeat_age_seconds"]
                for a in candidates]
        states = "; ".join("%s is %s%s" % (a.get("name"), a.get("health"), age) for a, age in zip(candidates, ages, strict=True))
        within = " (a heartbeat within %d s)" % max_age_seconds if max_age_seconds is not None else ""
        return None, Broken("appliance_health", "No healthy replication appliance%s: %s." % (for_vm, states),
                            "Restore the appliance's services and connectivity to Azure%s, or name a healthy appliance, "
                            "then re-run." % within)
    if name:
        return None, datastore_reach(vm, [datastore], healthy[0].get("accessible_datastores") or [],
                                     "the ESXi host of replication appliance %s" % healthy[0].get("name"))
    return None, Broken("appliance_datastore", "No healthy replication appliance reaches datastore %s%s "
                        "(appliances: %s)." % (datastore, for_vm, "; ".join("%s %s reaches %s" % (
                            a.get("name"), a.get("health"), ", ".join(a.get("accessible_datastores") or []) or "nothing")
                            for a in candidates)),
                        "Choose a datastore an appliance reaches, or give the appliance access to it.")


def modernized_datastore(vm, datastore):
    """Rule ``appliance_datastore``, its first half: the modernized reprotect names the datastore the replication
    appliance writes ``vm``'s disks to (InMageRcmReprotectInput ``datastoreName``, asr-api.md 2.7)."""
    if datastore:
        return None
    return Broken("appliance_datastore", "VM %s: the modernized reprotect names the datastore the replication appliance "
                  "writes to, and none was given." % vm,
                  "Give datastore (for the run or in placements): a VMFS or vSAN datastore an appliance reaches.")


def log_storage_account(vm, account_id):
    """Rule ``log_storage_account``: the modernized reprotect caches ``vm``'s changes in an Azure storage account
    (InMageRcmReprotectInput ``logStorageAccountId``, asr-api.md 2.7), which the run must name."""
    if account_id:
        return None
    return Broken("log_storage_account", "VM %s: the modernized reprotect caches changes in an Azure storage account, "
                  "and no log_storage_account_id was given." % vm,
                  "Give log_storage_account_id (for the run or in placements): the ARM id of a storage account in the "
                  "vault's region.")


def route_groups(grouped, selected_ids, plans, names):
    """Rule ``replication_group_plan``: the VMs of a replication group fail over together through a recovery plan
    (ASR refuses them one by one), so a run that names them without a plan must hold every VM of one plan.

    ``grouped``: [{name, id, replication_group}] of the VMs of a replication group the run acts on without a
    recovery plan; ``selected_ids``: the lower-case ARM ids of the VMs it acts on; ``plans``: {plan name: set of the
    lower-case ids of its items} of the plans holding any of them; ``names``: {lower-case id: VM name}. Returns
    ``(plan, {})`` when exactly one plan is held whole (the run may go through it), else ``(None, {VM name: Broken})``
    for every grouped VM (the sentence is the message; it names the fix)."""
    whole = [name for name, members in plans.items() if members <= selected_ids]
    if len(whole) == 1:
        return whole[0], {}
    found = {}
    for item in grouped:
        holding = sorted(name for name, members in plans.items() if item["id"].lower() in members)
        extra = sorted({names.get(m, m) for name in holding for m in plans[name] - selected_ids})
        found[item["name"]] = Broken("replication_group_plan", "VM %s is in replication group %s, whose VMs fail over "
                                     "together through a recovery plan (ASR refuses them one by one): %s." % (
                                         item["name"], item["replication_group"],
                                         "give recovery_plan: %s (it also fails over %s)" % (
                                             ", ".join(holding), ", ".join(extra)) if holding
                                         else "no recovery plan holds it; create one"),
                                     "Fail back through the recovery plan (recovery_plan), or select every VM of one plan.")
    return None, found
