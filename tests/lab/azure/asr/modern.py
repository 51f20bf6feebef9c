# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modernized flow's stage table (``asr.flow: modernized``): replication appliance,
providers ``InMageRcm`` (forward) and ``InMageRcmFailback`` (failback).

Failback is a planned failover that can be cancelled. The rows both flows share are here too.
"""

# rows of the stage tables that the recordings show for both stacks (tests/recorded/asr, fact 1)
PENDING_COMMIT = ("UnplannedFailoverCommitPendingStatesBegin", "Failover completed", "Recovery",
                  ["CompleteMigration", "Commit", "DisableProtection", "ChangePit", "SwitchProtection"])
COMMITTED = ("UnplannedFailoverCommitted", "Failover committed", "Recovery",
             ["CompleteMigration", "DisableProtection", "SwitchProtection"])
PROTECTED_FORWARD = ("Protected", "Protected", "Primary", ["UnplannedFailover", "DisableProtection", "TestFailover"])

# stage -> provider, protectionState, description, activeLocation, allowedOperations (tests/recorded/asr, fact 1).
# Not recorded, the lab's choice: failback_committed (InMageRcmFailback after the commit) keeps
# PlannedFailoverCommitted and offers what the recorded committed states offer; reprotecting_to_onprem is the lab's.
MODERN_STAGE_TABLE = {
    "replicating_to_azure": ("InMageRcm", *PROTECTED_FORWARD),
    "failed_over_to_azure": ("InMageRcm", *PENDING_COMMIT),
    "running_in_azure": ("InMageRcm", *COMMITTED),
    "reprotecting_to_onprem": ("InMageRcmFailback", "ReprotectInProgress", "Reprotect in progress", "Primary", []),
    "replicating_to_onprem": ("InMageRcmFailback", "Protected", "Protected", "Primary",
                              ["PlannedFailover", "DisableProtection"]),
    "failed_back": ("InMageRcmFailback", "CommitPendingStatesBegin", "Planned failover finished", "Recovery",
                    ["CompleteMigration", "Commit", "DisableProtection", "SwitchProtection", "CancelFailover"]),
    "failback_committed": ("InMageRcmFailback", "PlannedFailoverCommitted", "Planned failover committed", "Recovery",
                           ["CompleteMigration", "DisableProtection", "SwitchProtection"]),
    "reprotected_to_azure": ("InMageRcm", *PROTECTED_FORWARD),
}
MODERN_ACCEPTS = {
    "replicating_to_azure": {"unplannedFailover"},
    "failed_over_to_azure": {"failoverCommit", "reProtect"},
    "running_in_azure": {"reProtect"},
    "replicating_to_onprem": {"plannedFailover"},
    "failed_back": {"failoverCommit", "failoverCancel", "reProtect"},
    "failback_committed": {"reProtect"},
    "reprotected_to_azure": {"unplannedFailover"},
}
# a recovery plan whose items all sit in one stage offers these
MODERN_PLAN_OPERATIONS = {
    "replicating_to_onprem": ["PlannedFailover"], "failed_back": ["Commit", "CancelFailover"],
    "replicating_to_azure": ["UnplannedFailover", "TestFailover"],
    "reprotected_to_azure": ["UnplannedFailover", "TestFailover"], "failed_over_to_azure": ["Commit"]}
# an appliance whose last heartbeat is older than this is not connected (the lab's threshold)
HEARTBEAT_STALE_SECONDS = 900
# disks one appliance can replicate back to on-premises (DOC-MOD: "up to 60 disks")
APPLIANCE_DISK_LIMIT = 60


def appliance(world, key):
    """The appliance (reprotect agent) by id (any case) or name."""
    for entry in world.asr.get("appliances", []):
        if key and (entry["id"].lower() == str(key).lower() or entry["name"].lower() == str(key).lower()):
            return entry
    return None


def appliance_items(world, entry):
    """The items the appliance replicates to on-premises (or was last used for)."""
    return [i for i in world.items.values() if i.get("appliance") == entry["name"]
            and i["stage"] in ("reprotecting_to_onprem", "replicating_to_onprem", "failed_back")]


def appliance_disks(world, entry):
    if entry["disk_count"] is not None:
        return int(entry["disk_count"])
    return sum(len(i["spec"]["disk_sizes_gb"]) for i in appliance_items(world, entry))


def agent_registered(world, item, now):
    """The Mobility agent of the on-prem VM registered after the failback (``onprem_on_since`` + the
    spec's ``agent_registration_seconds``)."""
    since = item["onprem_on_since"]
    return since is not None and now - since >= float(world.timings["agent_registration_seconds"])
