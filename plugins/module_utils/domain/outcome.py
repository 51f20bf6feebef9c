# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per inventory host, the outcome of a failback run whose play ran against one host per VM, in pure Python.

The run's steps are batched (one module call per stage for every VM); what each VM came to is the report's
(``domain.report``: per VM ``failure``, read with the stage from Site Recovery). A host fails when its VM has a
failure, so the play's recap (AWX's host summary) shows each VM, and "relaunch on failed hosts" runs exactly the
VMs left to finish.
"""

from __future__ import annotations


def host_outcomes(report, hosts, unlock_error=None):
    """``{host: {"vm", "failed", "msg"}}`` for ``hosts`` = ``{host: VM name}``.

    ``report``: ``domain.report.assemble``'s report (``run``; ``vms`` with ``name``, ``failure`` ({step, message} or
    None), ``stage``, ``final_stage``, ``rerun``); ``unlock_error``: why the run's locks could not be released (every
    VM's host fails then: the lease lapses by itself, and the message says so). A VM the report does not list
    (the run stopped before it read the VMs) fails with the run's own failure, or passes when the run did not fail.
    """
    run = report.get("run") or {}
    by_name = {vm.get("name"): vm for vm in report.get("vms") or []}
    result = {}
    for host, vm_name in hosts.items():
        vm = by_name.get(vm_name)
        failure = vm.get("failure") if vm else (
            {"step": run.get("failed_stage") or "the run", "message": run.get("failed_message") or ""}
            if run.get("result") == "failed" else None)
        said = []
        if failure:
            said.append("%s failed: %s" % (failure.get("step") or "a step", (failure.get("message") or "no detail").strip()))
        if unlock_error:
            said.append("the run's locks could not be released (%s); they lapse by themselves" % unlock_error)
        if not said:
            result[host] = {"vm": vm_name, "failed": False, "msg": "VM %s: nothing failed for it." % vm_name}
            continue
        where = (vm.get("stage") or vm.get("final_stage")) if vm else None
        rerun = (vm.get("rerun") or "").rstrip(".") if vm else ""
        result[host] = {"vm": vm_name, "failed": True, "msg": "VM %s%s - %s. Fix that, then re-run (relaunch on failed "
                        "hosts)%s." % (vm_name, " at %s" % where if where else "", "; ".join(s.rstrip(".") for s in said),
                                       ": the re-run will %s" % rerun if rerun else "")}
    return result
