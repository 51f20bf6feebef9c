# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start ASR actions for many items, then follow their jobs together, with a deadline."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import ids
from ansible_collections.siterecovery.failback.plugins.module_utils.azure import jobs
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import remedies


def _started(vault, job_name, target):
    """Tell the session a job started (AzureSession.job_started): a later failure of the module then reports
    ``changed: true`` and the job, whatever fails after this point."""
    record = getattr(getattr(vault, "session", None), "job_started", None)
    if record is not None and job_name:
        record(job_name, vault.resource_group, vault.name, target)
    return job_name


def item_action(vault, method, item, body=None):
    """Start ``begin_<method>`` on a protected item; returns the job name."""
    fabric, container, name = ids.item_path(item.id)
    begin = getattr(vault.client.replication_protected_items, "begin_" + method)
    args = [vault.resource_group, vault.name, fabric, container, name]
    if body is not None:
        args.append(body)
    return _started(vault, jobs.start(begin, *args)[0], "%s of item %s" % (method, name))


def plan_action(vault, method, plan_name, body=None):
    begin = getattr(vault.client.replication_recovery_plans, "begin_" + method)
    args = [vault.resource_group, vault.name, plan_name]
    if body is not None:
        args.append(body)
    return _started(vault, jobs.start(begin, *args)[0], "%s of recovery plan %s" % (method, plan_name))


FINISHED = jobs.FINISHED + jobs.STOPPED


def wait(vault, job_names, deadline, poll=5.0, any_finished=False):
    """``{job name: summary}`` with every error explained (code and remedy). ``any_finished``: return as soon as one
    job finished (or stopped for a manual action), with the latest summary of every job (state in ``FINISHED`` or not)."""
    names = [name for name in job_names if name]
    if not names:
        return {}
    summaries = jobs.wait(vault.client, vault.resource_group, vault.name, names, deadline, poll=poll,
                          max_poll=max(poll, 15.0), any_finished=any_finished)
    for summary in summaries.values():
        summary["errors"] = remedies.explain(summary["errors"])
    return summaries


def job_result(summary):
    """The part of a job summary a module returns per item."""
    if summary is None:
        return None
    return {key: summary.get(key) for key in ("name", "id", "scenario", "state", "state_description", "start_time",
                                              "end_time", "start_epoch", "end_epoch", "duration_seconds", "tasks",
                                              "errors")}
