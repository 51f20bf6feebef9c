#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: failover
short_description: Fail over reprotected VMs from Azure to on-premises (the failback itself)
version_added: 0.1.0
description:
  - Triggers ASR's failover from Azure to the on-premises site for VMs that were reprotected to
    on-premises and replicate, with the recovery point you choose - the latest processed
    (crash-consistent) point, the latest application-consistent point, or a point by name or id.
  - Refuses, changing nothing, when a VM has no recovery point yet (for a recovery plan, when any VM
    of the plan has none), or no application-consistent one when that is asked for. A modernized item
    needs none - its planned failover copies the pending changes and takes a fresh point, so its
    data-loss window is reported as 0.
  - VMs of a user replication group fail over together through their recovery plan, as ASR requires;
    selecting every VM of that plan routes the failover through it, otherwise the module refuses and
    names the plan.
  - With O(source_site_operations=required) (the default) ASR shuts the Azure VMs down and
    synchronises their latest changes first, so two copies never run at once.
  - VMs already failed back are left alone (C(changed=false)).
  - "Right after the job, for each classic VM it failed over, it records the disks ASR attached to the on-premises VM
    in the VM's failback manifest (extraConfig C(siterecovery.failback.disks)), when the VM carries none: ASR names
    no file nor UUID for a classic disk, and the commit gate trusts this record over a disk's name. That needs the
    vSphere server (O(hostname) and its credentials, or C(module_defaults) for C(group/siterecovery.failback.vsphere));
    without it, or when a VM could not be recorded (a warning says why), C(verify_onprem) marks the VM C(record_disks)
    and M(siterecovery.failback.onprem_vm) records it."
  - The flow is read from each item - classic items (InMage) take an unplanned failover through the
    master target; modernized items (InMageRcmFailback) take a planned failover through the
    replication appliance, which copies the pending changes and creates a fresh recovery point first.
  - With O(cancel=true) it cancels a failback that is not committed yet (modernized flow only - ASR
    reverts the on-premises disks and resumes replication); a classic failback cannot be cancelled, and
    the module refuses it.
  - Returns per VM the recovery point used and its data-loss window, the job with its tasks,
    errors (ASR codes with the documented remedy) and duration, and the Azure VM's power state after.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.state_store
  - siterecovery.failback.vsphere
  - siterecovery.failback.step
  - siterecovery.failback.progress
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.ACTION_GROUP_BOTH
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows each VM's failback stage before and after (predicted in check mode).
options:
  vms:
    description: The VMs to fail over, by name.
    type: list
    elements: str
  items:
    description: The protected items to fail over, by ARM name.
    type: list
    elements: str
  recovery_plan:
    description:
      - Fail over these recovery plans (one name, or a list) - each through its own plan job (all its VMs, group by
        group), at most O(plan_concurrency) at once. With O(per_vm=true) a plan that cannot fail over, or whose job
        fails, stops whole, and the other plans go on.
    type: list
    elements: str
    aliases: [recovery_plans]
  plan_concurrency:
    description:
      - At most this many recovery-plan failover jobs run at once, 1 to 100; the next plan starts as soon as one
        finishes.
        Inside a plan, its boot groups run in order (the plan job's own).
      - ASR holds up to 100 VMs per plan and documents no limit on concurrent plan failovers; the default of 10 plans
        covers 1,000 VMs. Lower it when the on-premises hosts or the master targets cannot take that many VMs at once.
    type: int
    default: 10
  recovery_point:
    description:
      - V(latest_processed) (each VM to its latest crash-consistent point), V(latest_app_consistent), or
        the name or ARM id of one recovery point (single VMs only; the id is matched without regard to case).
      - Point types come from each item's recovery-point list. When that list is empty but the item shows a
        recovery point (its consistency points or retention window), V(latest_processed) still fails over and
        Site Recovery picks its latest point.
    type: str
    default: latest_processed
  source_site_operations:
    description: V(required) shuts the Azure VMs down and synchronises the latest changes first.
    type: str
    choices: [required, not_required]
    default: required
  cancel:
    description:
      - Cancel the failback of the selected VMs instead (modernized flow; before the commit). VMs already back to
        replicating are left alone.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the failover jobs, 0 to 604800 (7 days).
    type: int
    default: 3600
  poll_interval:
    description: Seconds between reads of the ASR jobs, 0.5 to 3600.
    type: float
    default: 15
"""

EXAMPLES = r"""
- name: Fail back app01 to its latest processed recovery point
  siterecovery.failback.failover:
    resource_group: rg-dr
    vault_name: vault-dr
    vms: [app01]

- name: Fail back a recovery plan to the latest application-consistent point
  siterecovery.failback.failover:
    recovery_plan: rp-app
    recovery_point: latest_app_consistent
  register: failback

- name: Show the data-loss window of each VM
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.data_loss_window_seconds }} s before failover"
  loop: "{{ failback.vms }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
vms:
  description: >-
    One entry per selected VM - on success, and at the top level too when a job failed (with C(error.vms), kept
    for older callers).
  returned: success and on a failed job
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
      sample: app01
    item_name:
      description: The protected item's ARM name.
      type: str
      sample: f2c69697-83d9-5f99-b3a4-9de996b0af0e
    stage_before:
      description: The failback stage before the module ran.
      type: str
      sample: replicating_to_onprem
    stage_after:
      description: >-
        The failback stage after the job; in check mode, the stage the step would leave it at. Absent when
        nothing ran.
      type: str
      sample: failed_back
    assumed:
      description: >-
        Check mode - the VM was planned from a stage an earlier step predicted (O(assume_stages)), not its own.
      type: bool
      sample: false
    action:
      description: V(failover), V(cancel), V(already_done) or V(none).
      type: str
      sample: failover
    changed:
      description: Whether this VM failed (or would fail) over.
      type: bool
      sample: true
    disks_recorded:
      description: >-
        A classic VM failed over here - whether the disks ASR attached were recorded in its failback manifest (it
        carried one already, or it got one now); false when they could not be (C(verify_onprem) then marks it
        C(record_disks)).
      returned: for a classic VM failed over by this task, when a vSphere server is given
      type: bool
      sample: true
    via_plan:
      description: The recovery plan the failover went through, or null.
      type: str
      sample: rp-app
    recovery_point:
      description: >-
        The recovery point chosen (name, id, type, time). Name, id and time are null when Site Recovery picks its
        latest point itself (type V(LatestTime): an item whose recovery-point list is empty) and in the modernized
        flow (a fresh point).
      type: dict
      sample: {"name": "674e...", "type": "CrashConsistent", "time": "2026-11-26T07:18:10+00:00"}
    data_loss_window_seconds:
      description: >-
        Age of the recovery point when the module chose it - the changes made in Azure since then are lost; null when
        its time is unknown.
      type: float
      sample: 120.4
    job:
      description: The ASR job - name, id, scenario, state, timings, tasks and errors (each with code and remedy).
      type: dict
      sample: {"name": "3675...", "scenario": "UnplannedFailover", "state": "Succeeded", "duration_seconds": 214.0}
    azure_vm_power_state:
      description: The Azure VM's power state after the job (V(stopped) or V(deallocated) when ASR shut it down).
      type: str
      sample: stopped
    error_code:
      description: The first error code of the VM's failed job (ASR's provider code first), or null.
      type: str
      returned: on a failed job
      sample: "8038"
    remedy:
      description: What to do about that error (the documented remedy), or null when its job did not fail.
      type: str
      returned: on a failed job
      sample: The on-premises VM could not be started - its ESXi host lacks memory...
short_of_memory:
  description: >-
    The VMs whose failover job failed with ASR error 8038 (their ESXi host lacks memory to start them), each as
    C(name) - what M(siterecovery.failback.onprem_vm) takes in its O(siterecovery.failback.onprem_vm#module:vms).
  returned: on a failed job
  type: list
  elements: dict
  sample: [{"name": "app01"}]
failed_otherwise:
  description: The VMs whose failover job failed with another error.
  returned: on a failed job
  type: list
  elements: str
  sample: []
vmotion_fixes_all:
  description: >-
    True when some VM is short of memory and none failed otherwise - moving those VMs to hosts with room and
    failing over again is then the documented fix.
  returned: on a failed job
  type: bool
  sample: true
recovery_plan:
  description: The recovery plan used, or null for item-level failovers.
  returned: success, when O(cancel=false)
  type: str
  sample: rp-app
job_ids:
  description: The ASR jobs that ran.
  returned: when a failover ran
  type: list
  elements: str
  sample: ["3675597c-1899-4771-90c8-2a5be1c7f0f1"]
verify_onprem:
  description: >-
    The VMs to verify on-premises next, each as C(name) - what M(siterecovery.failback.onprem_vm) takes - with
    C(instance_uuid) when Site Recovery records the VM's (modernized items; it identifies the VM when a stale copy
    shares its name) and C(record_disks) for a classic VM whose failover this task ran and whose disks it could not
    record itself (no vSphere server given, or a failure) - onprem_vm records them in its failback manifest, which
    the commit gate trusts over a disk's name: every VM of the run; in
    check mode only those already failed back (the others are verified once the real failover brought them back).
    A classic VM comes with C(pins_from), the master target Site Recovery names for it (onprem_vm then reads no item
    for it).
  returned: success, when O(cancel=false); on a failure with O(per_vm=true), the VMs that go on
  type: list
  elements: dict
  sample: [{"name": "app01"}]
predicted_stages:
  description: >-
    Check mode - the stage each VM would be at after this step, by VM name (for the next step's
    O(assume_stages)).
  returned: check mode (on success, and on a failure that stops VMs)
  type: dict
  sample: {"app01": "failed_back"}
plans:
  description: >-
    Per recovery plan named (O(recovery_plan)) - C(name), C(vms) (its VMs, in plan order), C(outcome) (V(done): this
    step acted on it; V(already_done); V(stopped): a VM of it could not take the step or its job failed, so the whole
    plan stopped) and C(why) (the first stopped VM and its reason, else null).
  returned: when O(recovery_plan) is given (on success, and on a failure that stops a plan with O(per_vm=true))
  type: list
  elements: dict
  sample: [{"name": "rp-app", "vms": ["app01", "app02"], "outcome": "done", "why": null}]
plans_going:
  description: The recovery plans that go on to the next step (every plan on success).
  returned: when O(recovery_plan) is given
  type: list
  elements: str
  sample: ["rp-app"]
recovery_plans:
  description: The recovery plans whose plan jobs ran (or would run, in check mode), in start order.
  returned: success, when O(cancel=false)
  type: list
  elements: str
  sample: ["rp-app", "rp-web"]
api_calls:
  description: Resource Manager requests made.
  returned: success
  type: int
  sample: 12
api_reads:
  description: The GET (and HEAD) requests among RV(api_calls); ARM budgets reads per subscription and hour.
  returned: success, and on a failure after the module made a request
  type: int
  sample: 2
api_writes:
  description: The PUT, PATCH, POST and DELETE requests among RV(api_calls).
  returned: success, and on a failure after the module made a request
  type: int
  sample: 0
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 230.1
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import failover, runner
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import failover_outcome, options
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def run(module):
    params = module.params
    problems = options.check_module(params, ("timeout", "poll_interval"))
    if not 1 <= params["plan_concurrency"] <= 100:
        problems.append(options.Problem("plan_concurrency", "must be from 1 to 100",
                                        "give a whole number of recovery-plan failover jobs at once from 1 to 100",
                                        params["plan_concurrency"]))
    if problems:
        raise FailbackError(options.summary(problems, "the failover"), problems=problems)
    deadline = Deadline(params["timeout"], progress=module.progress("cancel failover" if params["cancel"] else "failover"))
    session = module.azure(deadline=deadline)
    vault = module.vault()
    selection = module.selection()
    if params["cancel"]:
        outcome = failover.cancel(vault, selection, module.check_mode, deadline, poll=params["poll_interval"])
    else:
        outcome = failover.ensure(
            session, vault, selection,
            params["recovery_point"], "Required" if params["source_site_operations"] == "required" else "NotRequired",
            module.check_mode, deadline, poll=params["poll_interval"], azure_vms=module.azure_vms(),
            assumed=params["assume_stages"], per_vm=params["per_vm"], record=on_vsphere(module, deadline, "record_disks"),
            pin=on_vsphere(module, deadline, "pin_replicas"), plan_concurrency=params["plan_concurrency"])
        for warning in outcome.pop("warnings", None) or []:
            module.ansible.warn(warning)
    if module.diff_mode:
        outcome["diff"] = runner.diff(outcome["vms"])
    outcome.update(session.call_counts())
    return outcome


def on_vsphere(module, deadline, step):
    """``entries -> {name: None | problem}`` running ``vsphere.onprem.<step>`` on the module's vSphere server
    (``record_disks``: the disks ASR attached, right after the failover jobs; ``pin_replicas``: the replicas' disk
    UUIDs on their master targets, right before them), or None without a vSphere server (O(hostname)): then onprem_vm
    records the disks (``record_disks`` in ``verify_onprem``) and nothing is pinned. A vSphere error is every entry's
    problem (the failover goes on; the result warns)."""
    if not module.params.get("hostname"):
        return None

    def call(entries):
        # imported here: without a vSphere server the module needs no pyVmomi
        from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import onprem
        try:
            return getattr(onprem, step)(module.vsphere(), entries, deadline)
        except FailbackError as error:
            return {entry["name"]: error.msg for entry in entries}
    return call


def per_vm_failure(error):
    """On a failure that carries per-VM results: those results at the top level (as on success), each with
    ``error_code`` and ``remedy``, and which VMs were short of memory (ASR error 8038) or failed otherwise."""
    vms = [dict(vm, **failover_outcome.per_vm(vm)) for vm in (error.details.get("vms") or [])]
    # per_vm: the VMs that go on are verified on-premises next, as on success
    going = error.details.get("verify_onprem")
    return dict(failover_outcome.classify(vms), vms=vms, verify_onprem=going if going is not None else [
        {"name": name} for name in error.details.get("continue_with") or []])


def main_body(module):
    try:
        return run(module)
    except FailbackError as error:
        if not isinstance(error.details.get("vms"), list):
            raise
        module.fail(error, **per_vm_failure(error))
    return None  # not reached: module.fail exits


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "items": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "list", "elements": "str", "aliases": ["recovery_plans"]},
        "recovery_point": {"type": "str", "default": "latest_processed"},
        "plan_concurrency": {"type": "int", "default": 10},
        "source_site_operations": {"type": "str", "choices": ["required", "not_required"], "default": "required"},
        "cancel": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 3600},
        "progress_file": {"type": "path"},
        "poll_interval": {"type": "float", "default": 15},
        "assume_stages": {"type": "dict", "default": {}},
        "per_vm": {"type": "bool", "default": False},
    }
    module = FailbackModule(spec, azure=True, vault=True, state_store=True, vsphere=True, supports_check_mode=True,
                            required_one_of=[("vms", "items", "recovery_plan")])
    module.run(main_body)


if __name__ == "__main__":
    main()
