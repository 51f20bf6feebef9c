#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: run_lock
short_description: Make sure two failback runs never act on the same VM at once
version_added: 0.1.0
description:
  - O(state=locked) claims each selected VM for the run O(owner) and starts the run's lease, a record
    that lasts O(lease_seconds) after its last renewal. Every write is conditional (C(If-Match) on the
    record's ETag), so of two runs that start at the same instant exactly one gets the VMs they share.
    A run takes its VMs all or nothing.
  - While the run lives, a detached keeper renews the lease (O(keep_alive)). When the run is killed
    (SIGKILL, a cancelled AWX job, a lost execution node) the lease lapses by itself, and the identical
    re-run proceeds without O(lock_break).
  - A VM held by another run whose lease is live is waited for up to O(lease_wait_seconds); when the
    lease is renewed meanwhile (that run is alive) or would outlast the wait, the module refuses,
    changing nothing, and names the run, its host, since and until when it holds the VM, and the
    playbook variable that overrides it (O(lock_break_variable)).
  - O(state=unlocked) drops this owner's claims and lease; other runs' records stay.
  - With O(state_store=tags) (the default) claims and the lease are tags of the VMs' failed-over Azure VMs
    (C(siterecovery-failback-lock), C(siterecovery-failback-lease)), written with the VM's ETag as C(If-Match).
    With O(state_store=blob) they are blobs of the vault's folder in O(state_container)
    (C(claims/<resource group>/<Azure VM>), C(leases/<owner>)), created with C(If-None-Match) C(*) and replaced or
    deleted with C(If-Match), and no tag is written; a live claim a tags-store run wrote is still honoured.
    Either way runs from any AWX node or controller see them. VMs whose Azure VM is already gone (committed)
    need no claim and are skipped. See C(docs/locking.md).
  - When an Azure Policy denies the tag write (C(403 RequestDisallowedByPolicy)), the refusal names the policy
    assignment and the variables that switch to the blob store (O(lock_break_variable)'s prefix +
    C(state_store), C(state_storage_account)).
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.state_store
  - siterecovery.failback.progress
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.ACTION_GROUP_AZURE
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  vms:
    description: The VMs to lock, by name.
    type: list
    elements: str
  recovery_plan:
    description:
      - Lock every VM of these recovery plans (one name, or a list).
    type: list
    elements: str
    aliases: [recovery_plans]
  plan_vms:
    description:
      - With O(recovery_plan), the VMs the run expects the plan to hold, exactly - the play's hosts when the
        failback playbook runs against inventory hosts (C(run_options)' C(run.plan_vms)). A plan holding VMs
        outside them, or not all of them, is refused before anything is locked or changed, naming the plan and
        the VMs - a job slice or C(--limit) never fails over part of a recovery plan, whose boot order and
        replication groups span all its VMs.
      - Empty (the default) checks nothing.
    type: list
    elements: str
    default: []
  request_budget:
    description:
      - The most Azure Resource Manager requests (reads and writes) the run may make. Before it locks anything, the
        module estimates the requests a whole failback of the selected VMs will make from where each stands (its
        stage in the vault's item list; the per-step costs measured on the lab, C(domain/budget.py)) and refuses,
        changing nothing, when the estimate exceeds the budget - naming the plans, the numbers and the ways out.
      - The default is ARM's documented per-subscription budget of about 12,000 reads an hour; V(0) checks nothing.
        Only with O(state=locked).
    type: int
    default: 12000
  poll_interval:
    description: The steps' seconds between job reads (the run's C(poll_interval)), for the estimate's job polls.
    type: float
    default: 15
  owner:
    description:
      - Who holds the lease - the run's id, for example C(awx-job-1234). It must be the same for lock and unlock.
      - The failback roles name the run after the AWX job (C(awx_job_id), C(JOB_ID)) when there is one.
    type: str
    required: true
  state:
    description: V(locked) or V(unlocked).
    type: str
    choices: [locked, unlocked]
    default: locked
  lease_seconds:
    description:
      - How long the lease lasts after its last renewal, in seconds (at least 30). A killed run's VMs are
        free again this long after its keeper stopped.
    type: int
    default: 180
  lease_wait_seconds:
    description:
      - How long to wait, in seconds, for another run's lease to lapse before refusing. Default
        O(lease_seconds) + 60, so the re-run of a killed run proceeds by itself; V(0) refuses at once.
    type: int
  keep_alive:
    description:
      - Start a detached keeper that renews the lease every O(lease_seconds)/5 seconds (at most 60) while
        the C(ansible-playbook) process that runs this task lives. Without it the lease lasts
        O(lease_seconds) from this call.
    type: bool
    default: true
  lock_break:
    description: Take the VMs even when another live run holds them (when you know that run is gone).
    type: bool
    default: false
  lock_break_variable:
    description:
      - The name a refusal gives for overriding it - the playbook variable a role sets O(lock_break) from.
      - Its prefix (what precedes C(lock_break)) also names the store variables in the refusal of a tag write an
        Azure Policy denies (C(original_location_state_store)).
    type: str
    default: lock_break
"""

EXAMPLES = r"""
- name: Lock the VMs of this run
  siterecovery.failback.run_lock:
    vms: [app01, db01]
    owner: "awx-job-{{ awx_job_id }}"

- name: Unlock them at the end, whatever happened
  siterecovery.failback.run_lock:
    vms: [app01, db01]
    owner: "awx-job-{{ awx_job_id }}"
    state: unlocked
"""

RETURN = r"""
vms:
  description: One entry per selected VM.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
      sample: app01
    azure_vm:
      description: The Azure VM that carries the lock, or null when it no longer exists.
      type: str
      sample: /subscriptions/.../virtualMachines/app01
    status:
      description: >-
        V(acquired), V(held_by_us) (already claimed by O(owner); its lease is renewed), V(released),
        V(skipped) (no Azure VM), V(not_ours) or V(none).
      type: str
      sample: acquired
    broken:
      description: The owner of a live lock that O(lock_break) took over, or null.
      type: str
      returned: when O(state=locked)
      sample: null
estimate:
  description:
    - The Azure Resource Manager requests a whole failback of the VMs is estimated to make from where each stands
      (O(state=locked)) - C(reads), C(writes), C(calls), C(per_vm), C(vms), C(plans) and C(by_step) (per step, its
      C(reads) and C(writes)) - checked against O(request_budget).
    - Also returned with the refusal when it exceeds the budget.
  returned: O(state=locked)
  type: dict
  sample: {"reads": 2310, "writes": 3010, "calls": 5320, "per_vm": 5.3, "vms": 1000, "plans": ["rp-01"], "by_step": {}}
lease:
  description: The run's lease after this call.
  returned: when O(state=locked)
  type: dict
  contains:
    owner:
      description: The run, O(owner).
      type: str
      sample: awx-job-1234
    since:
      description: When the run took its lease (UTC).
      type: str
      sample: "2026-12-01 03:01:10 UTC"
    until:
      description: When the lease lapses unless renewed (UTC).
      type: str
      sample: "2026-12-01 03:04:10 UTC"
    host:
      description: The controller (or AWX execution node) the run runs on.
      type: str
      sample: awx-ee-7f9c
    store:
      description: Where claims and lease live - V(tags) (the Azure VMs' tags) or V(blob) (the blob container).
      type: str
      sample: tags
    keeper:
      description: >-
        The pid of the keeper that renews the lease, or null (check mode, O(keep_alive=false), no playbook
        process found).
      type: int
      sample: 4242
api_calls:
  description: Resource Manager (and, with O(state_store=blob), Blob service) requests made.
  returned: success
  type: int
  sample: 4
api_reads:
  description: The GET (and HEAD) requests among RV(api_calls); ARM budgets reads per subscription and hour.
  returned: success, and on a failure after the module made a request
  type: int
  sample: 3
api_writes:
  description: The PUT, PATCH, POST and DELETE requests among RV(api_calls).
  returned: success, and on a failure after the module made a request
  type: int
  sample: 1
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 1.2
"""

import socket

from ansible_collections.siterecovery.failback.plugins.module_utils import argspec
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import azure_vms, blob_state, lease_keeper, lock
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import budget
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def plan_slice_problem(plan, members, expected):
    """Why a run whose play holds ``expected`` (VM names) must not fail over recovery plan ``plan`` holding
    ``members``; None when they are the same VMs."""
    outside = [vm for vm in members if vm not in expected]
    unknown = [vm for vm in expected if vm not in members]
    if not outside and not unknown:
        return None
    said = []
    if outside:
        said.append("holds %s, which the play does not (a --limit or a job slice left them out)" % ", ".join(outside))
    if unknown:
        said.append("does not hold %s, which the play runs against" % ", ".join(unknown))
    return ("Recovery plan %s %s: a recovery plan fails over whole (its boot groups and replication groups span all its "
            "VMs). Run it against all of its VMs - the inventory group of the plan, without --limit, and with job "
            "slicing off - or fail back the VMs as a list, without the recovery plan." % (plan, " and ".join(said)))


def _plan_vms(vault, plans, selected):
    """``{plan name: [VM names]}`` of the run's recovery plans (each VM in the first plan that holds it)."""
    plan_of = asr_items.plan_units(vault, plans)
    result = {}
    for _model, item in selected:
        plan = plan_of.get((item.get("id") or "").lower())
        if plan:
            result.setdefault(plan, []).append(item["name"])
    return result


def build_store(session, params):
    """The store ``state_store`` names: lock.TagStore, or blob_state.BlobStore over the vault's container."""
    container, vms = azure_vms.for_state(session, params)
    return lock.TagStore(vms) if container is None else blob_state.BlobStore(container, vms)


def _renewer(params, owner, ttl):
    """``(renew_once, lapse)``: what the keeper calls at each tick (one renewal, True while the run holds claims) and
    when the run is gone (its lease ended at once). The keeper's own Azure
    session (and store: the one the run took its lease in) is built at its first tick (the module's connections stay
    with the module) and serves every tick after: one token for the keeper's life, renewed by the credential, not one
    per tick."""
    kept = {}

    def store():
        if "store" not in kept:
            kept["store"] = build_store(AzureSession(argspec.azure_params(params)), params)
        return kept["store"]

    def renew_once(ending=False):
        return lock.renew(store(), owner, ttl, host=socket.gethostname() + lock.ENDING if ending else None)

    def lapse():
        return lock.lapse(store(), owner)
    return renew_once, lapse


def _prefix(variable):
    """``original_location_`` of ``original_location_lock_break``; '' for a module's own option name."""
    return variable[:-len("lock_break")] if variable.endswith("lock_break") else ""


def _with_switch_hint(error, params):
    """A policy denial of a tag write, with the variables that move the state to the blob store."""
    if params["state_store"] == "tags" and blob_state.with_switch_hint(error, _prefix(params["lock_break_variable"])):
        error.details["rule"] = "state_store_tags_denied"
    return error


def run(module):
    params = module.params
    if params["lease_seconds"] < 30:
        module.fail_json(msg="lease_seconds is %d: a lease must last at least 30 seconds (the keeper renews it every "
                             "lease_seconds/5)." % params["lease_seconds"])
    session = module.azure()
    vault = module.vault()
    # a claim's key is the item's Azure VM, which the item list names (targetVmId / recoveryAzureVMName,
    # azureVirtualMachineId, targetVmName: tests/recorded/asr items_list.*): no GET per item
    selected = asr_items.select(vault, vms=params["vms"] or [], plan=params["recovery_plan"], details=False)
    if params["recovery_plan"] and params["plan_vms"] and params["state"] == "locked":
        problem = plan_slice_problem(", ".join(asr_items.plan_names(params["recovery_plan"])),
                                     [item["name"] for _model, item in selected],
                                     params["plan_vms"])
        if problem:
            module.fail(problem, api_calls=session.stats["calls"])
    estimated = None
    if params["state"] == "locked":
        estimated = budget.estimate({item["name"]: item["failback_stage"] for _model, item in selected},
                                    plans=_plan_vms(vault, params["recovery_plan"], selected),
                                    poll_interval=params["poll_interval"], state_store=params["state_store"])
        refusal = budget.check(estimated, params["request_budget"],
                               variable=_prefix(params["lock_break_variable"]) + "request_budget")
        if refusal:
            module.fail("Refusing to start the run; nothing was locked or changed: " + refusal, estimate=estimated,
                        api_calls=session.stats["calls"])
    store = build_store(session, params)
    if params["state"] == "unlocked":
        try:
            changed, results = lock.release(store, selected, params["owner"], module.check_mode)
        except AzureError as error:
            raise _with_switch_hint(error, params) from None
        return {"changed": changed, "vms": results, **session.call_counts()}
    ttl = params["lease_seconds"]
    wait = params["lease_wait_seconds"] if params["lease_wait_seconds"] is not None else ttl + 60
    progress = module.progress("lock")

    def waiting(held):  # a progress line per VM while the run waits for another run's lease to end
        for item, (holder, until, lease) in held:
            progress.item(item["name"], "the lease of run %s" % holder, state="until %s%s" % (
                lock.utc(until), " (its playbook ended, a step it started still runs)" if lock.ending(lease) else ""))
    try:
        changed, results, lease = lock.acquire(store, selected, params["owner"], ttl, module.check_mode,
                                               break_lock=params["lock_break"], wait_seconds=wait,
                                               variable=params["lock_break_variable"], on_wait=waiting)
    except AzureError as error:
        raise _with_switch_hint(error, params) from None
    lease["keeper"] = None
    claimed = any(r["status"] in ("acquired", "held_by_us") for r in results)
    if claimed and params["keep_alive"] and not module.check_mode:
        watched = lease_keeper.playbook_pid()
        if watched:
            interval = max(5.0, min(60.0, ttl / 5.0))
            renew_once, lapse = _renewer(params, params["owner"], ttl)
            lease["keeper"] = lease_keeper.start(renew_once, interval, watched, lapse=lapse)
        else:
            module.warn("No ansible-playbook process found to watch: the lease is not renewed and lasts %d s from "
                        "now; a longer step needs a longer lease_seconds." % ttl)
    return {"changed": changed, "vms": results, "lease": lease, "estimate": estimated, **session.call_counts()}


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "list", "elements": "str", "aliases": ["recovery_plans"]},
        "plan_vms": {"type": "list", "elements": "str", "default": []},
        "request_budget": {"type": "int", "default": 12000},
        "poll_interval": {"type": "float", "default": 15},
        "owner": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["locked", "unlocked"], "default": "locked"},
        "lease_seconds": {"type": "int", "default": 180},
        "lease_wait_seconds": {"type": "int"},
        "keep_alive": {"type": "bool", "default": True},
        "lock_break": {"type": "bool", "default": False},
        "lock_break_variable": {"type": "str", "default": "lock_break"},
        "progress_file": {"type": "path"},
    }
    module = FailbackModule(spec, azure=True, vault=True, state_store=True, supports_check_mode=True,
                            required_one_of=[("vms", "recovery_plan")])
    module.run(run)


if __name__ == "__main__":
    main()
