#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: reprotect
short_description: Reprotect failed-over VMs to on-premises, or back to Azure after failback
version_added: 0.1.0
description:
  - O(direction=to_onprem) reprotects VMs that run in Azure (failed over and committed) to the
    on-premises site, the first stage of a failback - through a master target in ASR's classic flow,
    through a replication appliance in the modernized flow; the flow is read from each item, the user
    does not choose it. The ASR request
    (InMage provider) is built from names - master target, process server, datastore, retention
    volume and run-as account - and the failback policy mapped to the item's protection container;
    the Azure temporary disk is excluded, as ASR's own tools do.
  - O(direction=to_azure) reprotects VMs whose failback was committed back to Azure (InMageAzureV2)
    through the on-premises process server. The mobility agent needs up to 15 minutes after the VM
    boots to register; until then ASR fails the reprotect, and the module retries it until
    O(agent_registration_timeout).
  - Items are reprotected one by one (recovery-plan reprotect is deprecated in the service), and all
    VMs of a replication group must use one master target.
  - Before the first reprotect to on-premises, the Azure VM's identity is recorded - its protected item
    and the resource group recorded at failover - because the failback provider no longer names the Azure
    VM; later runs, from any controller, find it by that record. With O(state_store=tags) (the default) the
    record is tags of the Azure VM (C(siterecovery-failback-item), C(siterecovery-failback-resource-group));
    with O(state_store=blob) it is the blob C(items/<item>) of the vault's folder in O(state_container), and
    no tag is written (for subscriptions whose Azure Policy denies tag writes).
  - Items already reprotected are left alone (C(changed=false)); every item is checked before
    anything changes, and a refusal changes nothing.
  - Waits for the ASR jobs with a deadline and reports their tasks, errors (with ASR's codes) and the
    documented remedy.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.state_store
  - siterecovery.failback.step
  - siterecovery.failback.progress
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.ACTION_GROUP_AZURE
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows each VM's failback stage before and after (predicted in check mode).
options:
  vms:
    description: The VMs to reprotect, by name (the protected item's friendly name).
    type: list
    elements: str
  items:
    description: The protected items to reprotect, by ARM name.
    type: list
    elements: str
  recovery_plan:
    description:
      - Reprotect every VM of these recovery plans (one name, or a list; item by item). With O(per_vm=true) each plan
        is one unit - a plan with a VM that cannot be reprotected stops whole, and the other plans go on.
    type: list
    elements: str
    aliases: [recovery_plans]
  direction:
    description: V(to_onprem) starts a failback; V(to_azure) protects the failed-back VMs again.
    type: str
    choices: [to_onprem, to_azure]
    required: true
  master_target:
    description:
      - To on-premises - the master target (its name as registered with the configuration server).
      - When neither this nor O(placements) names one for a VM, it is chosen automatically - a master target of
        the VM's OS whose host reaches all the VM's datastores (or O(datastore)) with room within 60 disks, the
        one with the most room; all VMs of a replication group go to the same one.
    type: str
  process_server:
    description:
      - The process server by name (or id). To on-premises, the default is the only healthy process server
        (health neither Critical nor Error, service running), the configuration server's own included; when several
        are healthy, the only one that is not the configuration server's own; otherwise the module refuses naming
        them. To Azure, the default is the configuration server's own.
    type: str
  datastore:
    description:
      - To on-premises - the VMFS or vSAN datastore of the master target's host that receives the disks.
        Required for alternate location and physical servers.
    type: str
  retention_volume:
    description: To on-premises - the master target's retention volume; default the one with the most free space.
    type: str
  run_as_account:
    description: The configuration server's run-as account (name or id); default the first.
    type: str
  appliance:
    description:
      - Modernized flow, to on-premises - the replication appliance (reprotect agent) by name; default the healthy one
        that reaches O(datastore) with the fewest protected items.
    type: str
  log_storage_account_id:
    description:
      - Modernized flow, to on-premises - the ARM id of the storage account that caches the changes (required there).
    type: str
  placements:
    description:
      - Per-VM overrides of O(master_target), O(process_server), O(datastore), O(retention_volume),
        O(run_as_account), O(appliance) and O(log_storage_account_id), keyed by VM name.
      - Any other key, and (when only O(vms) selects) a VM that is not in O(vms), is refused before any change.
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for the reprotect jobs, 0 to 604800 (7 days).
    type: int
    default: 3600
  agent_registration_timeout:
    description: To Azure - seconds during which an "agent not registered" failure is retried, 0 to 604800.
    type: int
    default: 1200
  poll_interval:
    description: Seconds between reads of the ASR jobs, 0.5 to 3600.
    type: float
    default: 15
"""

EXAMPLES = r"""
- name: Reprotect app01 and db01 to on-premises through the Windows master target
  siterecovery.failback.reprotect:
    resource_group: rg-dr
    vault_name: vault-dr
    direction: to_onprem
    vms: [app01, db01]
    master_target: mt-win01
    process_server: ps-azure01
    datastore: vmfs-01

- name: Alternate location for web02, other VMs of the plan on their defaults
  siterecovery.failback.reprotect:
    direction: to_onprem
    recovery_plan: rp-web
    master_target: mt-lin01
    placements:
      web02:
        datastore: vmfs-02

- name: Protect the failed-back VMs again (retries until their agents register)
  siterecovery.failback.reprotect:
    direction: to_azure
    vms: [app01, db01]
"""

RETURN = r"""
vms:
  description: One entry per selected VM.
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
      sample: running_in_azure
    stage_after:
      description: >-
        The failback stage after the job; in check mode, the stage the step would leave it at. Absent when
        nothing ran.
      type: str
      sample: replicating_to_onprem
    assumed:
      description: >-
        Check mode - the VM was planned from a stage an earlier step predicted (O(assume_stages)), not its own.
      type: bool
      sample: false
    action:
      description: V(reprotect) (done or, in check mode, to do), V(already_done) or V(none).
      type: str
      sample: reprotect
    changed:
      description: Whether this VM was (or would be) reprotected.
      type: bool
      sample: true
    master_target:
      description: To on-premises, classic flow - the master target used.
      type: str
      sample: mt-win01
    appliance:
      description: To on-premises, modernized flow - the replication appliance used.
      type: str
      sample: appliance01
    process_server:
      description: The process server used.
      type: str
      sample: ps-azure01
    process_server_reason:
      description: Why that process server - V(named), or the rule that chose it.
      type: str
      sample: >-
        the only healthy process server besides configuration server cs01's own, which stays with replication
        to Azure (healthy: cs01, ps-azure01)
    datastore:
      description: To on-premises - the datastore given, or null.
      type: str
      sample: vmfs-01
    retention_volume:
      description: To on-premises - the retention volume used.
      type: str
      sample: "R:"
    run_as_account:
      description: The run-as account used, or null.
      type: str
      sample: vcenter-discovery
    attempts:
      description: Reprotect requests sent (more than one when the agent was not registered yet).
      type: int
      sample: 1
    job:
      description: The last ASR job - name, id, scenario, state, timings, tasks and errors (each with code and remedy).
      type: dict
      sample: {"name": "3c7b...", "scenario": "Reprotect", "state": "Succeeded", "duration_seconds": 212.0,
               "tasks": [], "errors": []}
predicted_stages:
  description: >-
    Check mode - the stage each VM would be at after this step, by VM name (for the next step's
    O(assume_stages)).
  returned: check mode (on success, and on a failure that stops VMs)
  type: dict
  sample: {"app01": "replicating_to_onprem"}
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
  sample: 9
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
  sample: 215.2
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import reprotect, runner
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def check(params):
    """Refuse (before any request) intervals and timeouts out of range and placements with unknown keys or VMs."""
    problems = options.check_module(params, ("timeout", "agent_registration_timeout", "poll_interval"))
    named_only = params["vms"] and not params["items"] and not params["recovery_plan"]
    problems += options.check_placements("placements", params["placements"], params["vms"] if named_only else None)
    if problems:
        raise FailbackError(options.summary(problems, "the reprotect"), problems=problems)


def run(module):
    params = module.params
    check(params)
    deadline = Deadline(params["timeout"], progress=module.progress("reprotect " + params["direction"]))
    session = module.azure(deadline=deadline)
    vault = module.vault()
    names = {key: params[key] for key in ("master_target", "process_server", "datastore", "retention_volume",
                                          "run_as_account", "appliance", "log_storage_account_id", "placements")}
    record = None
    if params["direction"] == "to_onprem":
        azure_vms = module.azure_vms()

        def record(model, item):
            azure_vms.record(azure_vms.find(item), item)

    agent_deadline = None
    if params["direction"] == "to_azure":
        agent_deadline = Deadline(params["agent_registration_timeout"], progress=deadline.progress)
    outcome = reprotect.ensure(
        session, vault, module.selection(),
        params["direction"], names, module.check_mode, deadline,
        agent_deadline=agent_deadline,
        poll=params["poll_interval"], record_azure_vm=record, assumed=params["assume_stages"],
        per_vm=params["per_vm"])
    if module.diff_mode:
        outcome["diff"] = runner.diff(outcome["vms"])
    outcome.update(session.call_counts())
    return outcome


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "items": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "list", "elements": "str", "aliases": ["recovery_plans"]},
        "direction": {"type": "str", "choices": ["to_onprem", "to_azure"], "required": True},
        "master_target": {"type": "str"},
        "process_server": {"type": "str"},
        "datastore": {"type": "str"},
        "retention_volume": {"type": "str"},
        "run_as_account": {"type": "str"},
        "appliance": {"type": "str"},
        "log_storage_account_id": {"type": "str"},
        "placements": {"type": "dict", "default": {}},
        "timeout": {"type": "int", "default": 3600},
        "progress_file": {"type": "path"},
        "agent_registration_timeout": {"type": "int", "default": 1200},
        "poll_interval": {"type": "float", "default": 15},
        "assume_stages": {"type": "dict", "default": {}},
        "per_vm": {"type": "bool", "default": False},
    }
    module = FailbackModule(spec, azure=True, vault=True, state_store=True, supports_check_mode=True,
                            required_one_of=[("vms", "items", "recovery_plan")])
    module.run(run)


if __name__ == "__main__":
    main()
