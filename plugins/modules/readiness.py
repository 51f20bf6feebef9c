#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: readiness
short_description: Check every documented failback prerequisite before anything changes
version_added: 0.1.0
description:
  - For VMs (O(vms)) or a recovery plan (O(recovery_plan)) and a target location, checks every
    prerequisite of a failback from Azure to on-premises vSphere that Microsoft documents - the
    configuration server, vCenter and ESXi hosts, the Azure VMs, the recovery points, the master
    target, the datastores, the host memory - and reports each problem as a finding with a stable
    rule id, a severity (V(blocker) or V(warning)), a message naming the objects and a remedy.
  - Changes nothing. Reads the vault's fabrics, vCenters and items (and recovery plans, for a plan
    or when a VM of a replication group is named without one) in one list call each, the
    subscription's VMs in one (paged) call, and vCenter in six
    property-collector reads, whatever the number of VMs; then each selected item with a GET (the item
    list leaves disks, OS, master target and recovery-point facts empty) and, for classic VMs
    replicating to on-premises, their recovery-point lists (the only place point types are named), at
    most eight reads at once.
  - When O(master_target) is not given, each VM is checked against the master target Site Recovery
    recorded for it, else against the one automatic placement chooses (same OS, host reaching the
    VM's datastores, at most 60 disks, one per replication group, sized from every member of the group).
  - A recovery plan, and a replication group, is judged as a whole - every member of a VM's replication group is
    read (a member outside the run with one more GET), and when one VM of a plan (or of a replication group of the
    run) is blocked, the others are not ready either (rule C(fails_back_together)).
  - Each VM is checked with the names the reprotect to on-premises will use for it - O(placements) over the
    run-wide O(master_target), O(process_server), O(datastore), O(retention_volume), O(run_as_account),
    O(appliance) and O(log_storage_account_id) - by the same rules the reprotect applies, and every name that
    does not hold is reported, not only the first.
  - A vSphere login failure is reported as the finding V(vsphere_connected), not as a module
    failure; the vSphere checks are then skipped. The module fails only when Azure cannot be read
    or the recovery plan does not exist.
  - The rules and their sources are listed in the collection's C(docs/readiness.md).
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.vsphere
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.state_store
  - siterecovery.failback.deadline
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_BOTH
options:
  vms:
    description:
      - VM names (the protected items' friendly names) to check.
      - A VM the vault no longer protects (protection disabled) is reported as the finding
        V(protection_enabled).
    type: list
    elements: str
  recovery_plan:
    description:
      - The recovery plans (names or friendly names) whose VMs to check, plan after plan, each in plan order; one name
        is one plan. Each plan is judged on its own (its boot groups, its stages), the master targets' room for all of
        them together.
    type: list
    elements: str
    aliases: [recovery_plans]
  location:
    description:
      - V(original) fails back into the on-premises VM that still exists; V(alternate) creates a new VM
        on the master target's host, on O(datastore).
    type: str
    required: true
    choices: [original, alternate]
  master_target:
    description:
      - The master target VM to check the VMs against. Default is the one Site Recovery recorded, else
        the one automatic placement chooses.
    type: str
  datastore:
    description:
      - The datastore the new VM is created on (alternate location); must be VMFS or vSAN and mounted by
        the master target's host. In the modernized flow, the datastore the replication appliance writes to.
    type: str
  appliance:
    description:
      - Modernized flow - the replication appliance the VMs will reprotect through; default any registered one.
    type: str
  process_server:
    description:
      - Classic flow - the process server the reprotect to on-premises will use; default the only healthy one.
    type: str
  retention_volume:
    description:
      - Classic flow - the master target's retention volume the reprotect will use; default the one with the most
        free space.
    type: str
  run_as_account:
    description:
      - Classic flow - the run-as account (name or id) the reprotect will use; default the configuration server's
        first.
    type: str
  log_storage_account_id:
    description:
      - Modernized flow - the ARM id of the storage account the reprotect caches changes in; the modernized reprotect
        needs one.
    type: str
  placements:
    description:
      - Per VM, the names the reprotect will use for it instead of the run-wide ones, as
        M(siterecovery.failback.reprotect) takes them - a dictionary keyed by VM name, each entry a dictionary of
        C(master_target), C(process_server), C(datastore), C(retention_volume), C(run_as_account), C(appliance) and
        C(log_storage_account_id); a null value keeps the run-wide one.
    type: dict
    default: {}
  recovery_point:
    description:
      - The recovery point the failover will use. V(latest_app_consistent) also checks that each
        replicating VM has an application-consistent point, no older than O(app_consistent_max_age_minutes).
      - The name or ARM id of one recovery point (what M(siterecovery.failback.failover) takes for a single VM) is
        accepted and checked as the failover will take it (rule C(named_recovery_point)) - one VM, without a recovery
        plan, of the classic flow, already reprotected to on-premises, and the point listed among the VM's recovery
        points.
    type: str
    default: latest_processed
  app_consistent_max_age_minutes:
    description:
      - The oldest application-consistent recovery point accepted, in minutes (a point exactly this old passes).
    type: int
  heartbeat_max_age_seconds:
    description:
      - The oldest heartbeat accepted, in seconds (exactly this old passes), of the configuration server, the vCenter
        discovery, the process server and the master target (and, in the modernized flow, the replication appliance).
        Site Recovery reports healthy configuration servers 8 to 13 minutes after their last heartbeat, so the default
        is twice the 15 minutes that suggests.
    type: int
    default: 1800
  memory_remediation:
    description:
      - What the run does when the VM's host is short of memory for its power-on (error 8038), as the run's option
        of that name. With V(vmotion) and a host that can run the VM, rule C(host_memory) is a warning naming that
        host (the run moves the VM there); with V(fail), or no such host, it is a blocker.
    type: str
    choices: [vmotion, fail]
    default: fail
  verification:
    description:
      - How the run verifies each on-premises VM, as the run's option of that name - a mode (V(tools), V(power_only),
        V(probe)) or C({default, per_vm}). Rule C(onprem_tools) blocks a VM verified by V(tools) whose vCenter says
        VMware Tools are not installed (the run would stop after the failover).
    type: raw
    default: tools
notes:
  - At least one of O(vms) and O(recovery_plan) is required; given together, the plans' VMs and the VMs named are
    checked (a VM named outside every plan is judged on its own, without a plan).
  - Ages are computed against the clock of the controller that runs the module.
"""

EXAMPLES = r"""
- name: Can app01 and db01 fail back into their original VMs?
  siterecovery.failback.readiness:
    vms: [app01, db01]
    location: original
  register: readiness

- name: Stop on any blocker
  ansible.builtin.assert:
    that: readiness.summary.blockers == 0
    fail_msg: "{{ readiness.findings | selectattr('severity', 'equalto', 'blocker') | map(attribute='message') | join(' ') }}"

- name: A recovery plan to a new location, on the latest application-consistent point of at most an hour
  siterecovery.failback.readiness:
    recovery_plan: rp-app
    location: alternate
    datastore: vmfs-01
    master_target: mt-win01
    recovery_point: latest_app_consistent
    app_consistent_max_age_minutes: 60
  register: plan_readiness

- name: The names one VM will fail back with, checked as the reprotect will check them
  siterecovery.failback.readiness:
    vms: [web02]
    location: alternate
    datastore: vmfs-01
    placements:
      web02: {master_target: mt-lin01, datastore: vmfs-02, retention_volume: /mnt/retention}
  register: web02_readiness
"""

RETURN = r"""
findings:
  description: Every problem found, site-wide ones first.
  returned: success
  type: list
  elements: dict
  contains:
    vm:
      description: The VM the finding is about, or null for a site-wide finding (configuration server, vCenter).
      type: str
      sample: app01
    rule:
      description: The stable id of the rule (see C(docs/readiness.md)).
      type: str
      sample: mt_snapshots
    severity:
      description: V(blocker) (the failback would fail) or V(warning).
      type: str
      sample: blocker
    message:
      description: What is wrong, naming the objects.
      type: str
      sample: "Master target mt-win01 has 1 snapshot(s): reprotect and failback through it fail."
    remedy:
      description: What to do about it.
      type: str
      sample: Delete the master target's snapshots.
verdicts:
  description: One entry per VM, in the order asked (plan order for a plan).
  returned: success
  type: list
  elements: dict
  contains:
    vm:
      description: The VM name (for an item of a plan that is no longer protected, its item name).
      type: str
      sample: app01
    ready:
      description: Whether no blocker (of the VM or site-wide) stands in the way.
      type: bool
      sample: true
    stage:
      description: The VM's failback stage, or null when the vault no longer protects it.
      type: str
      sample: running_in_azure
    master_target:
      description: The master target the VM was checked against, or null.
      type: str
      sample: mt-win01
    blockers:
      description: The blockers of the VM (site-wide ones included), each as the rule id, a colon and the message.
      type: list
      elements: str
      sample: []
    warnings:
      description: The warnings of the VM (site-wide ones included), each as the rule id, a colon and the message.
      type: list
      elements: str
      sample: ["recovery_point: app01 has no failback recovery point yet..."]
summary:
  description: Counts.
  returned: success
  type: dict
  contains:
    vms:
      description: VMs checked.
      type: int
      sample: 5
    ready:
      description: VMs without a blocker.
      type: int
      sample: 4
    not_ready:
      description: VMs with at least one blocker.
      type: int
      sample: 1
    blockers:
      description: Findings of severity blocker.
      type: int
      sample: 1
    warnings:
      description: Findings of severity warning.
      type: int
      sample: 5
    rules:
      description: Rules evaluated, those of the flows (classic, modernized) of the VMs checked.
      type: int
      sample: 33
placement:
  description: Per VM, the master target it was checked against and where that choice came from.
  returned: success
  type: dict
  sample: {"app01": {"master_target": "mt-win01", "source": "placement"}}
api_calls:
  description:
    - Resource Manager requests made - the lists (fabrics, vCenters, items, Azure VMs, and recovery plans for a plan or
      a VM of a replication group named without one), then one GET per VM, one per member of a replication group that
      the run does not hold, and one recovery-point list per classic VM replicating to on-premises.
  returned: success
  type: int
  sample: 4
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
property_reads:
  description:
    - vSphere property-collector calls made - seven (six of the inventory, one of the networks the hosts have), or
      none when vSphere did not answer.
  returned: success
  type: int
  sample: 7
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 1.2
"""

from ansible_collections.siterecovery.failback.plugins.module_utils import readiness_context
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def check(module):
    params = module.params
    # placements as the reprotect refuses them (unknown keys, VMs not in the run), before any request
    problems = options.check_placements("placements", params["placements"], params["vms"] or None)
    problems += options.check_module(params, ("timeout",))
    if problems:
        raise FailbackError(options.summary(problems, "the readiness check (nothing was read)"), problems=problems)
    session = module.azure(deadline=Deadline(params["timeout"]))
    vault = module.vault()
    clients = []

    def connect():
        clients.append(module.vsphere())
        return clients[-1]

    result = readiness_context.run(vault, module.azure_vms(), connect, params)
    result["changed"] = False
    result.update(session.call_counts())
    result["property_reads"] = clients[0].stats["property_reads"] if clients else 0
    return result


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "list", "elements": "str", "aliases": ["recovery_plans"]},
        "location": {"type": "str", "required": True, "choices": ["original", "alternate"]},
        "master_target": {"type": "str"},
        "datastore": {"type": "str"},
        "appliance": {"type": "str"},
        "process_server": {"type": "str"},
        "retention_volume": {"type": "str"},
        "run_as_account": {"type": "str"},
        "log_storage_account_id": {"type": "str"},
        "placements": {"type": "dict", "default": {}},
        "recovery_point": {"type": "str", "default": "latest_processed"},
        "app_consistent_max_age_minutes": {"type": "int"},
        "heartbeat_max_age_seconds": {"type": "int", "default": 1800},
        "timeout": {"type": "int", "default": 300},
        "memory_remediation": {"type": "str", "choices": ["vmotion", "fail"], "default": "fail"},
        "verification": {"type": "raw", "default": "tools"},
    }
    module = FailbackModule(spec, vsphere=True, azure=True, vault=True, state_store=True, supports_check_mode=True,
                            required_one_of=[["vms", "recovery_plan"]])
    module.run(check)


if __name__ == "__main__":
    main()
