# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a failed failover to on-premises leaves per VM, and whether moving VMs fixes it (ASR error 8038).

Pure Python over the failover module's per-VM results (``name``, ``action``, ``job`` with ``state`` and
``errors``, each error with ``code`` as domain.remedies explains it). ASR reports 8038 when the ESXi host of
the on-premises VM lacks the memory to start it; its documented fix is to vMotion the VM to a host with room
and start it, then fail over again (failback-domain.md). Any other failure is not fixed that way.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import remedies

SHORT_OF_MEMORY = "8038"


def _codes(vm):
    job = vm.get("job") or {}
    return [remedies.code_of(error) for error in job.get("errors") or []]


def per_vm(vm):
    """``{error_code, remedy}`` of one VM's failed job (the first error's code and its documented remedy), or
    ``{error_code: None, remedy: None}`` when its job did not fail."""
    job = vm.get("job") or {}
    if not job or job.get("state") == "Succeeded":
        return {"error_code": None, "remedy": None}
    errors = remedies.explain(job.get("errors") or [])
    if not errors:
        return {"error_code": None, "remedy": "the job ended %s without an error; see it in the Azure portal" % (
            job.get("state") or "unfinished")}
    first = errors[0]
    return {"error_code": first.get("code"), "remedy": first.get("remedy")}


def classify(vms):
    """``{short_of_memory: [{name}], failed_otherwise: [names], vmotion_fixes_all: bool}``.

    ``short_of_memory``: VMs whose failed job reports 8038, each as ``{name}`` (what onprem_vm takes);
    ``failed_otherwise``: VMs whose job failed without
    it; ``vmotion_fixes_all``: some VM is short of memory
    and no VM failed otherwise - the only case where moving VMs and failing over again is the fix."""
    short, other = [], []
    for vm in vms or []:
        job = vm.get("job") or {}
        if not job or job.get("state") == "Succeeded":
            continue
        codes = _codes(vm)
        if SHORT_OF_MEMORY in codes:
            short.append({"name": vm["name"]})
        else:
            other.append(vm["name"])
    return {"short_of_memory": short, "failed_otherwise": other, "vmotion_fixes_all": bool(short) and not other}
