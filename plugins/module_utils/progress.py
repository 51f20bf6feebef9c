# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a waiting module says what it waits for, so the controller can show it while the module runs.

A module's waits (the ASR jobs of a reprotect, failover or commit, VMware Tools, the first recovery points, vSphere
tasks) last minutes to an hour, and a module's output reaches Ansible only when it ends. The module writes its
progress to a file the controller gives it (the ``progress_file`` option); the module's action plugin
(``plugins/plugin_utils/progress.py``) reads the file while the module runs and prints one line per VM at a fixed
interval, so AWX's idle timeout does not kill the job and an operator sees which job, and which of its tasks, each VM
waits for. Without a file (the module run without its action plugin) nothing is written.

The file is JSON, replaced whole at each write (written beside it, then renamed, so a reader never sees half)::

    {"stage": "failover", "updated": <epoch s>,
     "items": {"<VM or plan>": {"what": "ASR job", "job": "<job name>", "job_id": "<ARM id>",
                                "task": "<the job's current task>", "state": "InProgress", "since": <epoch s>}}}

``since`` is when the wait began for that item (the ASR job's start time when ASR gives it). Pure Python: no
Ansible, no Azure SDK; a failed write never fails the module (progress is a courtesy, the job goes on).
"""

from __future__ import annotations

import json
import os
import tempfile
import time


def current_task(summary):
    """The task of an ASR job summary (``azure.jobs.summarize``) the job is at: the first task in progress, else the
    last one started, else the first; its friendly name (ASR's text, as the portal shows it), else its name. None
    when the job has no tasks yet (ASR's first answers have none)."""
    tasks = summary.get("tasks") or []
    if not tasks:
        return None
    running = [task for task in tasks if task.get("state") == "InProgress"]
    started = [task for task in tasks if task.get("state") not in (None, "NotStarted")]
    task = running[0] if running else started[-1] if started else tasks[0]
    return task.get("friendly_name") or task.get("name")


class Progress:
    """``Progress(path, stage)`` writes the progress of the waits of one module run to ``path`` (None: nothing is
    written, every method is a no-op). ``stage`` names the step (``reprotect to_onprem``, ``failover``, ...);
    ``clock`` gives epoch seconds (a test's)."""

    def __init__(self, path=None, stage="", clock=time.time):
        self.path = path
        self.stage = stage
        self._clock = clock
        self.items = {}
        self.failed_writes = 0
        self._members = {}

    def item(self, name, what, since=None, **fields):
        """Record that the wait of ``name`` (a VM, or a recovery plan) is at ``what`` (``ASR job``, ``VMware
        Tools``, ...) with the other ``fields`` (job, job_id, task, state: strings or None); ``since`` (epoch s)
        is when that wait began, kept from the first record of the same ``what`` when not given."""
        if not self.path or not name:
            return
        previous = self.items.get(name) or {}
        if since is None:
            since = previous.get("since") if previous.get("what") == what else None
        entry = {"what": what, "since": self._clock() if since is None else since}
        entry.update({key: value for key, value in fields.items() if value is not None})
        self.items[name] = entry
        self.write()

    def members(self, target, names):
        """A job whose target is ``target`` (a recovery plan) acts on the VMs ``names``: :meth:`jobs` records it under
        each of them (with ``plan``), so the lines name every VM, not the plan."""
        if self.path:  # NONE, the shared no-op, keeps nothing
            self._members[target] = list(names)

    def jobs(self, summaries):
        """Record each ASR job of ``summaries`` (``azure.jobs.summarize``'s dicts) under its target (the VM or the
        recovery plan ASR names): job name, ARM id, current task and state; since = the job's start time."""
        if not self.path:
            return
        for summary in summaries:
            if summary.get("target"):  # ASR's first answer may name no target yet: it was kept under the job's name
                self.items.pop(summary.get("name"), None)
            target = summary.get("target") or summary.get("name")
            entry = {"what": "ASR job", "job": summary.get("name"), "job_id": summary.get("id"),
                     "task": current_task(summary), "state": summary.get("state"),
                     "since": summary.get("start_epoch") or self._since(target)}
            for name in self._members.get(target) or [target]:
                self.items[name] = dict(entry, plan=target) if name != target else entry
        self.write()

    def _since(self, name):
        previous = self.items.get(name) or {}
        return previous.get("since") or self._clock()

    def write(self):
        """Replace the file with the current progress (atomically); a failed write is counted, never raised."""
        if not self.path:
            return
        document = {"stage": self.stage, "updated": self._clock(), "items": self.items}
        try:
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(self.path) or ".", prefix=".progress-")
            with os.fdopen(handle, "w") as out:
                json.dump(document, out)
            os.replace(temporary, self.path)
        except (OSError, TypeError, ValueError):
            self.failed_writes += 1


NONE = Progress()


def read(path):
    """The progress document at ``path`` (see the module's docstring), or None when there is none yet or it cannot
    be read (the module may not have written yet)."""
    try:
        with open(path) as source:
            document = json.load(source)
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def lines(document, stage, now, started):
    """The lines to show for a module run: one per item of ``document`` (:func:`read`'s, or None), each
    ``<item>: <stage> - <what> <job> (<job id>), task '<task>', <state>, <elapsed> elapsed``; a single line naming
    ``stage`` and the time since ``started`` (epoch s) when the module has recorded nothing yet. ``now``: epoch s."""
    items = (document or {}).get("items") or {}
    stage = (document or {}).get("stage") or stage
    if not items:
        return ["%s: running, %s elapsed (no wait recorded yet)" % (stage, duration(now - started))]
    out = []
    for name in sorted(items):
        entry = items[name] if isinstance(items[name], dict) else {}
        parts = ["%s: %s - waiting for %s" % (name, stage, entry.get("what") or "?")]
        if entry.get("job"):
            parts.append("job %s" % entry["job"] + (" (%s)" % entry["job_id"] if entry.get("job_id") else "")
                         + (" of recovery plan %s" % entry["plan"] if entry.get("plan") else ""))
        if entry.get("task"):
            parts.append("task '%s'" % entry["task"])
        if entry.get("state"):
            parts.append(str(entry["state"]))
        since = entry.get("since")
        parts.append("%s elapsed" % duration(now - (since if isinstance(since, (int, float)) else started)))
        out.append(", ".join(parts))
    return out


def duration(seconds):
    """``"1h02m05s"``, ``"4m10s"`` or ``"35s"`` for a number of seconds (a negative one, from clock skew, is 0)."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh%02dm%02ds" % (hours, minutes, secs)
    if minutes:
        return "%dm%02ds" % (minutes, secs)
    return "%ds" % secs
