#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: commit
short_description: Commit the failback - ASR deletes the Azure VMs - once the on-premises VMs run
version_added: 0.1.0
description:
  - Commits the failover to on-premises of VMs that failed back; ASR then deletes their Azure VMs.
  - "Refuses, changing nothing (no Azure VM is deleted), unless the commit gate holds for every selected VM:
    every protected disk ASR lists for the item is attached to the on-premises VM (matched by the VMDK's disk UUID
    where ASR gives one - modernized items - else by capacity, and every VMDK recorded as the VM's - its failback
    manifest or O(protected_disk_files), the VMDKs named after it in its directory - attached to it, not to the
    master target nor to nothing); for a classic item, a record of the VM's VMDKs - its failback manifest, which
    this collection writes when its reprotect moves the VM's disks to the master target, when
    M(siterecovery.failback.onprem_vm) creates the VM, or right after a failover it ran, else
    O(protected_disk_files) (a blank disk named like one of its VMDKs must not stand for it);
    the VM is powered on; VMware Tools run in it (its O(verification) is V(tools), the default); and every health
    probe answers (a VM verified by V(probe) needs at least one)."
  - The gate is checked here, in the module, so no role, playbook or template can commit without it. Options are
    validated before anything is read.
  - A powered-on VM must also have a network adapter, each one connected (C(connectable.connected)) - a VM
    without one serves nobody whatever its guest says.
  - O(force=true) overrides the VMware Tools rule and the network adapter rule only, and says so in the result
    (C(forced)). It never overrides the disk rules, the power state or the health probes.
  - In check mode the module reads ASR, vCenter and the probes, changes nothing and predicts for each VM whether it
    would be committed. A VM the gate would refuse fails the task as the real run would (with O(per_vm), it stops
    alone and C(continue_with) names the others), and the failure carries C(predicted_stages) for the next step.
    A VM an earlier step of a check-mode run only predicted (O(assume_stages)) is not on-premises yet, so its gate
    is left to the real run.
  - After the job, asks Compute whether each Azure VM is really gone and reports the managed disks and
    network interfaces left behind.
  - VMs already committed are left alone (C(changed=false)).
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
    details: The diff shows each VM's failback stage before and (predicted in check mode) after.
options:
  vms:
    description: The VMs whose failback to commit, by name.
    type: list
    elements: str
  items:
    description: The protected items to commit, by ARM name.
    type: list
    elements: str
  recovery_plan:
    description:
      - Commit every VM of these recovery plans (one name, or a list). With O(per_vm=true) each plan is one unit - a
        plan with a VM the gate refuses stops whole, and the other plans are committed.
    type: list
    elements: str
    aliases: [recovery_plans]
  force:
    description:
      - Commit even when VMware Tools are not running in an on-premises VM, or it has no connected network adapter.
        The result says which VMs were forced.
      - It does not override any other rule of the gate - every protected disk attached (and recorded, for a
        classic VM), the VM powered on, the health probes answering.
    type: bool
    default: false
  verification:
    description:
      - "How each on-premises VM is verified before its commit, besides every protected disk attached - one mode for
        every VM, or a dictionary C({default: <mode>, per_vm: {<vm>: <mode>}})."
      - V(tools) - powered on with VMware Tools running (C(guest.toolsRunningStatus) C(guestToolsRunning)).
      - V(power_only) - powered on (a guest without VMware Tools). V(power), its former name, is still accepted.
      - V(probe) - powered on, and the health probes are the proof that the guest came up - O(health_checks) must
        have a probe naming the VM (C(vm)), else the module refuses before reading anything.
      - Checked before anything is read. A C(per_vm) key that is not among the VMs committed is ignored (a run
        passes its whole verification to the commit of the VMs still going).
    type: raw
    default: tools
  health_checks:
    description:
      - Probes that must answer, from the controller, before the commit of the VMs they gate.
      - C(tcp) - a list of C(host), C(port) (an integer 1-65535), optional C(timeout) (seconds) and C(vm).
      - C(http) - a list of C(url) (http:// or https://), C(status) (a code or a list of codes, default 200),
        C(validate_certs) (default true - the server's certificate is verified), C(ca_file), optional C(timeout)
        and C(vm).
      - A probe with C(vm) gates that VM only; without it, every VM. A probe retries until it answers or its timeout.
      - Every probe is validated before anything is read or changed.
    type: dict
    default: {}
  protected_disk_files:
    description:
      - "The VMDK files of each classic (InMage) VM's protected disks, as C({<vm>: ['[datastore] folder/name.vmdk',
        ...]}), for a VM that carries no failback manifest (its reprotect and failover to on-premises ran outside this
        collection), or whose manifest misses a VMDK nothing pinned. ASR names no file nor UUID for a classic disk;
        without a record the commit refuses (rule C(protected_disks_recorded)), as a blank disk named like one of the
        VM's VMDKs could stand in for it."
      - Name a VMDK only after checking in vCenter that it holds the VM's data. Each file listed must be attached to
        the VM, and a disk attached to it that is not listed is not taken for a protected disk.
      - For a VM with a failback manifest, only the files the manifest does not list count (a VMDK found attached to
        no VM whose disk UUID no run pinned, see M(siterecovery.failback.onprem_vm)); a file the manifest lists keeps
        its recorded disk UUID, which the attached disk must have. Ignored for modernized items (ASR gives each
        disk's UUID). Checked before anything is read; with O(recovery_plan), each VM named must be
        a VM of the plan. A VM not committed here is ignored (a run passes its whole list to the commit of the VMs
        still going; the run checked the names against its VMs at its start).
    type: dict
    default: {}
  probe_timeout:
    description: Seconds a health probe may take when it gives no C(timeout).
    type: int
    default: 60
  timeout:
    description: Seconds to wait for the commit jobs.
    type: int
    default: 1800
  poll_interval:
    description: Seconds between reads of the ASR jobs (at least 0.5).
    type: float
    default: 15
notes:
  - The module is in both action groups, so C(module_defaults) for C(group/siterecovery.failback.azure) and
    C(group/siterecovery.failback.vsphere) both apply; it reads vCenter to verify the on-premises VMs.
"""

EXAMPLES = r"""
- name: Commit app01 and db01 once they run on-premises
  siterecovery.failback.commit:
    resource_group: rg-dr
    vault_name: vault-dr
    vms: [app01, db01]
  register: committed

- name: Commit db01 once its disks are back, it runs and its database port and web page answer
  siterecovery.failback.commit:
    resource_group: rg-dr
    vault_name: vault-dr
    vms: [db01]
    health_checks:
      tcp:
        - {host: db01.example.com, port: 1433}
      http:
        - {url: "https://db01.example.com/health", status: [200, 204], ca_file: /etc/pki/corp-ca.pem}

- name: Report what the deleted Azure VMs left behind
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.leftovers }}"
  loop: "{{ committed.vms }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
vms:
  description: One entry per selected VM (also when the gate refuses or a job fails).
  returned: success, on a refusal (nothing changed) and on a failed job
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
      sample: failed_back
    stage_after:
      description: >-
        The failback stage after the job; in check mode, the stage the step would leave it at. Absent when
        nothing ran.
      type: str
      sample: failback_committed
    assumed:
      description: >-
        Check mode - the VM was planned from a stage an earlier step predicted (O(assume_stages)), not its own.
      type: bool
      sample: false
    action:
      description: V(commit), V(already_done) or V(none).
      type: str
      sample: commit
    changed:
      description: Whether this VM was (or would be) committed.
      type: bool
      sample: true
    onprem_power_state:
      description: The on-premises VM's power state as vCenter reported it before the commit.
      type: str
      sample: poweredOn
    tools_running_status:
      description: VMware Tools' running status in the on-premises VM, as vCenter reported it (failed-back VMs).
      type: str
      sample: guestToolsRunning
    disks:
      description:
        - Each protected disk ASR lists for the item and the VMDK of the on-premises VM it matched (C(file) null
          when it is not attached), C(matched_by) V(uuid) or V(capacity) (failed-back VMs).
      type: list
      elements: dict
      sample: [{"id": "{5D628CF2-...}", "name": "Disk0", "capacity_gb": 40.0, "uuid": null,
                "file": "[vmfs-01] app01/app01.vmdk", "matched_by": "capacity"}]
    probes:
      description: The answers of the VM's health probes (null when they did not run because another rule refused).
      type: list
      elements: dict
      sample: [{"label": "tcp db01.example.com:1433", "vm": null, "ok": true, "fact": "connected"}]
    refusals:
      description:
        - Why the VM is not (or would not be) committed - each with the C(rule) (V(stage_failed_back),
          V(onprem_vm_found), V(protected_disks_known), V(protected_disks_attached), V(protected_disks_recorded),
          V(onprem_vm_powered_on), V(vmware_tools_running), V(onprem_vm_network), V(health_probes_answer)) and the
          C(message) naming the VM, what is wrong and the fix. Empty when it passes.
      type: list
      elements: dict
      sample: []
    forced:
      description: >-
        Whether the commit ran although VMware Tools were not verified running or a network adapter was missing or
        not connected (O(force=true)).
      type: bool
      sample: false
    job:
      description: The ASR job - name, id, scenario, state, timings, tasks and errors.
      type: dict
      sample: {"name": "9a1e...", "scenario": "CommitFailover", "state": "Succeeded"}
    azure_vm_deleted:
      description: Whether Compute confirms the Azure VM is gone.
      type: bool
      sample: true
    leftovers:
      description: Managed disks and network interfaces of the deleted Azure VM that still exist.
      type: dict
      sample: {"disks": ["/subscriptions/.../disks/app01-osdisk"], "nics": []}
forced:
  description: The VMs committed although VMware Tools were not verified running.
  returned: success
  type: list
  elements: str
  sample: []
refused:
  description: The VMs the gate refuses (in check mode too).
  returned: success and on a refusal
  type: list
  elements: str
  sample: []
diff:
  description: Each VM's failback stage before and after (predicted in check mode), with C(--diff).
  returned: diff mode
  type: dict
  sample: {"before": {"app01": "failed_back"}, "after": {"app01": "failback_committed"}}
predicted_stages:
  description: >-
    Check mode - the stage each VM would be at after this step, by VM name (for the next step's
    O(assume_stages)).
  returned: check mode (on success, and on a failure that stops VMs)
  type: dict
  sample: {"app01": "failback_committed"}
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
api_calls:
  description: Resource Manager requests made.
  returned: success
  type: int
  sample: 10
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
  sample: 125.0
"""

from ansible_collections.siterecovery.failback.plugins.module_utils import probes as health
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import commit, runner
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate, options
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import verify


def validated(params):
    """The health probes, once every option is valid; raise naming each problem (nothing read yet)."""
    # the verification's per_vm keys are not held to the VMs selected: a run passes its whole verification to the
    # commit of the VMs still going (run_options checked the keys against the run's VMs at its start)
    probes, problems = commit_gate.validate_options(params["health_checks"], params["probe_timeout"], params["timeout"],
                                                    params["poll_interval"], params["verification"],
                                                    protected_disk_files=params["protected_disk_files"])
    if params.get("vms") and not params.get("items") and not params.get("recovery_plan"):
        problems += commit_gate.unknown_probe_vms(probes, params["vms"])
    if problems:
        raise FailbackError(options.summary(problems, "the commit (nothing was read)"), problems=problems,
                            rule="options_valid")
    return probes


def run(module):
    params = module.params
    probes = validated(params)
    deadline = Deadline(params["timeout"], progress=module.progress("commit"))
    session = module.azure(deadline=deadline)
    vault = module.vault()

    def run_probes(wanted):
        # the probes retry until they answer or time out: a progress line per VM names the ones it waits for
        for vm in sorted({p.get("vm") or "every VM" for p in wanted}):
            labels = [p["label"] for p in wanted if (p.get("vm") or "every VM") == vm]
            deadline.progress.item(vm, "health probes", task=", ".join(labels))
        return health.run(wanted)

    def gate_of(candidates):
        return commit.gate(candidates, lambda: verify.read(module.vsphere()), run_probes, probes,
                           params["verification"], params["force"], params["protected_disk_files"])

    def check_selected(names):
        found = commit_gate.unknown_probe_vms(probes, names)
        if params["recovery_plan"]:  # the plan's VMs are known only now; a run checked its own VMs at its start
            found += options.check_disk_files("protected_disk_files", params["protected_disk_files"], names)
        return [p["message"] for p in found]

    try:
        outcome = commit.ensure(session, vault, module.selection(), gate_of, module.check_mode, deadline,
                                poll=params["poll_interval"], azure_vms=module.azure_vms(), check_selected=check_selected,
                                assumed=params["assume_stages"], per_vm=params["per_vm"])
    except FailbackError as error:  # per-VM results at the top level on failure as on success
        vms = error.details.get("vms") or []
        module.fail(error, changed=any(r.get("job") for r in vms), vms=vms, refused=error.details.get("refused", []))
    if module.diff_mode:
        outcome["diff"] = runner.diff(outcome["vms"])
    if outcome["forced"]:
        module.ansible.warn("Committed without VMware Tools verified running or a connected network adapter (force: "
                            "true): %s."
                            % ", ".join(outcome["forced"]))
    outcome.update(session.call_counts())
    return outcome


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "items": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "list", "elements": "str", "aliases": ["recovery_plans"]},
        "force": {"type": "bool", "default": False},
        "verification": {"type": "raw", "default": "tools"},
        "health_checks": {"type": "dict", "default": {}},
        "protected_disk_files": {"type": "dict", "default": {}},
        "probe_timeout": {"type": "int", "default": 60},
        "timeout": {"type": "int", "default": 1800},
        "progress_file": {"type": "path"},
        "poll_interval": {"type": "float", "default": 15},
        "assume_stages": {"type": "dict", "default": {}},
        "per_vm": {"type": "bool", "default": False},
    }
    module = FailbackModule(spec, azure=True, vault=True, state_store=True, vsphere=True, supports_check_mode=True,
                            required_one_of=[("vms", "items", "recovery_plan")])
    module.run(run)


if __name__ == "__main__":
    main()
