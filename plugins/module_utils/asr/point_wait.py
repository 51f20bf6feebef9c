# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait, with a deadline, until the VMs reprotected to on-premises replicate and have a recovery point.

A failover to on-premises needs a recovery point (classic flow): after the reprotect job the item is
``reprotecting_to_onprem`` while its initial replication runs, then ``replicating_to_onprem``; its first point
follows. The wait reads the items (``item_info.describe``) every ``poll`` seconds until no item is still
reprotecting and every replicating one shows a point; items at any other stage (done already, or not in this
flow) do not hold it up.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import item_info
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import stages
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.plugins.module_utils.progress import NONE

WAITS_FOR_POINT = ("reprotecting_to_onprem", "replicating_to_onprem")


def waiting(items):
    """The names of the items (describe()'s entries) a failover still waits for: reprotecting, or - classic items -
    replicating without a recovery point (listed, or shown by the item's GET: ``recovery_point_evidence``). A
    modernized item (InMageRcmFailback) waits for none: its planned failover copies the pending changes and takes a
    fresh point (asr-api.md, modernized failback), and its GET shows no consistency points to wait for."""
    return [item["name"] for item in items
            if item["failback_stage"] == "reprotecting_to_onprem"
            or (item["failback_stage"] in WAITS_FOR_POINT and item.get("provider") not in stages.MODERN_FAILBACK
                and not item.get("latest_recovery_point") and not item.get("recovery_point_evidence"))]


def _replicating(item):
    """The items whose GET the wait reads: those replicating to on-premises (their point evidence is in the GET only,
    tests/recorded/asr fact 2); the others' stage comes from the list."""
    return item["failback_stage"] == "replicating_to_onprem"


def wait(vault, azure_vms, deadline, poll, vms=(), item_names=(), plan=None, with_points=True):
    """describe()'s result once nothing waits; raises DeadlineExceeded naming the VMs still waiting and their
    stage when ``deadline`` expires first. Returns the result with ``polls`` (reads made) and
    ``waited_seconds``. ``with_points``: list each item's recovery points at each read (one call per item); without,
    a point is the evidence of the GET of each item replicating to on-premises (consistency points or a retention
    window: what a failover to latest_processed takes), and the other items are read from the list alone."""
    polls = 0
    while True:
        result = item_info.describe(vault, azure_vms, vms=vms, item_names=item_names, plan=plan, with_points=with_points,
                                    details=True if with_points else _replicating)
        polls += 1
        pending = waiting(result["items"])
        if not pending:
            result.update(polls=polls, waited_seconds=round(deadline.elapsed(), 1))
            return result
        for item in result["items"]:
            if item["name"] in pending:
                getattr(deadline, "progress", NONE).item(item["name"], "the first recovery point",
                                                         state=item.get("failback_stage"))
        if deadline.expired():
            stage = {item["name"]: item["failback_stage"] for item in result["items"]}
            raise DeadlineExceeded(
                "No recovery point after %.0f s for %s. Replication goes on in Azure: re-run (the steps done are "
                "skipped) or raise the timeout (recovery_point_timeout)." % (deadline.elapsed(), ", ".join(
                    "%s (%s)" % (name, stage[name]) for name in pending)),
                partial=result, waiting=pending)
        deadline.sleep(poll)
        vault.forget()
