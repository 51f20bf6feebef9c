# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait for vSphere tasks with a real deadline: one property read per poll for all tasks."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.plugins.module_utils.progress import NONE
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import (
    VSphereError,
    fault_message,
    fault_name,
)

TASK_PATHS = ("info.state", "info.error", "info.result", "info.progress", "info.descriptionId")


def _summary(row, label):
    error = row.get("info.error")
    return {
        "task": row["moid"],
        "label": label,
        "state": str(row.get("info.state")),
        "result": row.get("info.result"),
        "progress": row.get("info.progress"),
        "error": fault_message(error) if error is not None else None,
        "fault": fault_name(error) if error is not None else None,
    }


def wait_for_tasks(client, tasks, deadline, labels=None, poll=0.5, max_poll=5.0):
    """Wait until every task ends; returns one summary dict per task, in order.

    labels (one per task) name what each task does, for messages. On expiry,
    :class:`DeadlineExceeded` carries the summaries of all tasks in partial.
    """
    tasks = list(tasks)
    labels = list(labels) if labels else [task._moId for task in tasks]
    label_of = {task._moId: label for task, label in zip(tasks, labels, strict=False)}
    latest = {}
    pending = tasks
    interval = poll
    while pending:
        for row in client.retrieve(None, TASK_PATHS, objects=pending):
            latest[row["moid"]] = _summary(row, label_of[row["moid"]])
        pending = [task for task in pending if latest.get(task._moId, {}).get("state") not in ("success", "error")]
        for task in pending:
            getattr(deadline, "progress", NONE).item(label_of[task._moId], "vSphere task", job=task._moId,
                                                     state="%s %s%%" % (latest.get(task._moId, {}).get("state"),
                                                                        latest.get(task._moId, {}).get("progress") or 0))
        if not pending:
            break
        if deadline.expired():
            raise DeadlineExceeded(
                "%d of %d vSphere task(s) still running after %.0f s: %s. They go on in vCenter; "
                "re-run to pick up their result, or raise the timeout."
                % (len(pending), len(tasks), deadline.elapsed(), ", ".join(label_of[t._moId] for t in pending)),
                partial=[latest.get(task._moId) for task in tasks])
        deadline.sleep(interval)
        interval = min(max_poll, interval * 1.5)
    return [latest[task._moId] for task in tasks]


def wait_for_task(client, task, deadline, label):
    """Wait for one task; raise :class:`VSphereError` naming label if it failed."""
    summary = wait_for_tasks(client, [task], deadline, labels=[label])[0]
    if summary["state"] == "error":
        raise VSphereError("vSphere task '%s' failed: %s (%s)" % (label, summary["error"], summary["fault"]),
                           fault=summary["fault"], task=summary["task"])
    return summary
