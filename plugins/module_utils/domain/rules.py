# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Safety rules that both the preflight report (``domain.readiness``) and a step's own gate apply, each defined
once: plain values in, ``None`` or a :class:`Broken` (what is wrong, and the fix) out.

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
        """Message and fix in one sentence, for a step's refusal."""
        return "%s %s" % (self.message, self.remedy)


def _family(os_type):
    return str(os_type or "").strip().lower()


def master_target_os(vm, vm_os, master_target, master_target_os_type):
    """Rule ``mt_os``: the VM and its master target run the same OS family. Unknown on either side holds."""
    mine, theirs = _family(vm_os), _family(master_target_os_type)
    if not mine or not theirs or mine == theirs:
        return None
    return Broken("mt_os", "%s runs %s but master target %s runs %s." % (
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
