#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: replicated_item_info
short_description: Report where replicated VMs stand in the failback from Azure, with recovery points and Azure VMs
version_added: 0.1.0
description:
  - For each selected protected item of a Recovery Services vault, reports its Site Recovery state,
    the failback stage derived from it (for example V(running_in_azure), V(replicating_to_onprem),
    V(failed_back)) and the next step, its recovery points, and where its failed-over Azure VM is
    now and whether it runs.
  - Select items by VM name (O(vms)), by item ARM name (O(items)) or by recovery plan
    (O(recovery_plan)); the selections add up. A VM, item or plan that the vault does not hold
    makes the module fail naming it (a VM whose protection was disabled is no longer listed by the
    vault, so it fails the same way).
  - Reads the vault's items in one list call, the recovery plans in one, and every VM of the
    subscription in one (paged) call; then each selected item with a GET, because the list leaves
    its disks, OS, master target and recovery-point facts empty, and its recovery points, because
    the API lists them per item (O(recovery_points=false) skips them). At most eight reads run at once.
  - The Azure VM is found by the ARM id Site Recovery recorded at failover, else by the identity record
    the M(siterecovery.failback.reprotect) module writes before the first reprotect, because the
    failback-direction details no longer name the VM - with O(state_store=blob) the blob
    C(items/<item>) of the vault's folder, then (also with the blob store, for records of earlier runs)
    the tags C(siterecovery-failback-item) (the item's ARM name) and
    C(siterecovery-failback-resource-group) (the resource group recorded at failover); else, by the
    recorded name in exactly one other resource group (a moved VM).
  - Ages are computed against the clock of the controller that runs the module.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.progress
  - siterecovery.failback.state_store
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_AZURE
options:
  vms:
    description:
      - VM names (the protected items' friendly names) to report.
      - A name that matches more than one protected item is refused; give the item names instead.
    type: list
    elements: str
  items:
    description:
      - Protected item ARM names (GUIDs) to report.
    type: list
    elements: str
  recovery_plan:
    description:
      - Recovery plans (names or friendly names; one name, or a list) whose items to report, plan after plan, each in
        plan order; also returns RV(recovery_plans) (and RV(recovery_plan), the first).
    type: list
    elements: str
    aliases: [recovery_plans]
  recovery_points:
    description:
      - Whether to list each item's recovery points (one call per item).
      - With O(wait_for_recovery_points) and O(recovery_points=false), a point is what the GET of an item replicating
        to on-premises shows (consistency points or a retention window; RV(items[].recovery_point_evidence)), and no
        point list is read - what a failover to C(latest_processed) needs, at one call per item less per read.
    type: bool
    default: true
  wait_for_recovery_points:
    description:
      - Wait until no selected item is still reprotecting to on-premises and every item replicating to on-premises
        has a recovery point (what a failover to on-premises needs); items at other stages do not hold the wait up.
      - Reads again every O(poll_interval) seconds; fails naming the VMs still waiting, and their stage, after
        O(timeout) seconds. Implies O(recovery_points=true).
    type: bool
    default: false
  timeout:
    description:
      - Seconds this task may take, 0 to 604800 (7 days). With O(wait_for_recovery_points) the wait (default 3600;
        its reads may take 300 s more); without, the reads (default 300).
      - A throttled read (HTTP 429) is retried as long as it allows; a C(Retry-After) longer than what is left of it
        fails at once, naming the value of O(timeout) that would wait it out (ARM has been seen asking for 372 s).
    type: int
  poll_interval:
    description: With O(wait_for_recovery_points) - seconds between reads, 0.5 to 3600.
    type: float
    default: 30
notes:
  - At least one of O(vms), O(items) and O(recovery_plan) is required.
"""

EXAMPLES = r"""
- name: Where do app01 and db01 stand?
  siterecovery.failback.replicated_item_info:
    resource_group: rg-dr
    vault_name: vault-dr
    vms: [app01, db01]
  register: state

- name: Stop unless every VM can be reprotected to on-premises
  ansible.builtin.assert:
    that: state.items | rejectattr('failback_stage', 'equalto', 'running_in_azure') | list | length == 0
    fail_msg: >-
      {{ state.items | rejectattr('failback_stage', 'equalto', 'running_in_azure')
         | map(attribute='name') | join(', ') }} cannot be reprotected now.

- name: The items of a recovery plan, without recovery points
  siterecovery.failback.replicated_item_info:
    recovery_plan: rp-app
    recovery_points: false
  register: plan

- name: Boot groups of the plan
  ansible.builtin.debug:
    msg: "{{ plan.recovery_plan.groups }}"

- name: Wait up to an hour for the first recovery points after a reprotect to on-premises
  siterecovery.failback.replicated_item_info:
    vms: [app01, db01]
    wait_for_recovery_points: true
    timeout: 3600
    poll_interval: 30
"""

RETURN = r"""
items:
  description: One entry per selected item, in the order asked (plan order for a plan), without duplicates.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The VM name (the item's friendly name).
      type: str
      sample: app01
    item_name:
      description: The protected item's ARM name.
      type: str
      sample: 3f2a1b4c-0000-4000-8000-000000000011
    id:
      description: The protected item's ARM id.
      type: str
      sample: /subscriptions/.../replicationProtectedItems/3f2a1b4c-0000-4000-8000-000000000011
    provider:
      description: >-
        The replication provider, V(InMageAzureV2) (to Azure) or V(InMage) (to on-premises), or the modernized
        V(InMageRcm) / V(InMageRcmFailback).
      type: str
      sample: InMageAzureV2
    protection_state:
      description: Site Recovery's protection state, for example V(Protected) or V(UnplannedFailoverCommitted).
      type: str
      sample: UnplannedFailoverCommitted
    protection_state_description:
      description: Its description.
      type: str
      sample: Failover committed
    active_location:
      description: V(Primary) or V(Recovery).
      type: str
      sample: Recovery
    allowed_operations:
      description: The operations Site Recovery allows now, for example V(ReverseReplicate) or V(UnplannedFailover).
      type: list
      elements: str
      sample: [ReverseReplicate, DisableProtection]
    replication_health:
      description: V(None), V(Normal), V(Warning) or V(Critical).
      type: str
      sample: Normal
    failover_health:
      description: V(None), V(Normal), V(Warning) or V(Critical).
      type: str
      sample: Normal
    health_errors:
      description: The item's health errors, each with code, level, category, message and recommended_action.
      type: list
      elements: dict
      sample: []
    current_scenario:
      description: The operation running on the item, or V(None).
      type: str
      sample: None
    current_job:
      description: The ARM name of the job running on the item, or null.
      type: str
      sample: null
    policy_id:
      description: The ARM id of the replication policy.
      type: str
      sample: /subscriptions/.../replicationPolicies/policy-24h
    last_successful_failover_time:
      description: When the last failover succeeded (ISO 8601), or null.
      type: str
      sample: "2026-11-20T10:00:00+00:00"
    failover_recovery_point_id:
      description: The recovery point the last failover used, or null.
      type: str
      sample: null
    replication_group:
      description: The user replication group (multi-VM consistency), or null when the item has none.
      type: str
      sample: rg-app
    replication_group_id:
      description: The replication group's id (the item's own GUID when it has no user group).
      type: str
      sample: 7d1e0000-0000-4000-8000-000000000021
    os_type:
      description: V(Windows) or V(Linux), or null while Site Recovery does not report it.
      type: str
      sample: Windows
    discovery_type:
      description: >-
        V(vCenter) or V(Physical), as a forward item (InMageAzureV2, InMageRcm) says; null for a failback item
        (InMage), which Site Recovery reports as V(Physical) whatever the source was (it replicates the Azure VM).
      type: str
      sample: vCenter
    disk_count:
      description: The number of disks Site Recovery protects for the item.
      type: int
      sample: 2
    source:
      description:
        - What Site Recovery reports about the source machine, in its own words; give it to
          M(siterecovery.failback.onprem_vm) as O(siterecovery.failback.onprem_vm#module:vms[].source) to create the
          alternate-location VM like the source. A key the item's provider does not carry is null.
        - C(firmware_type) (V(UEFI) or V(BIOS)) and C(azure_vm_generation) (V(V1) or V(V2)) are on forward items only
          (InMageAzureV2, InMageRcm); failback items (InMage, InMageRcmFailback) carry neither, so read the item
          before the reprotect to on-premises.
        - C(os_type), C(os_name) (vCenter's guest OS name for modernized items, the guest's caption for
          InMageAzureV2), and C(networks) - the vSphere network of each source NIC, in order (InMageRcm
          C(sourceNetworkId), InMageRcmFailback C(networkName); null for classic items, which name the guest's
          adapter, not a network).
      type: dict
      sample: {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
               "os_name": "Microsoft Windows Server 2016 or later (64-bit)", "networks": ["VM Network"]}
    target_datastore:
      description: Modernized flow, failback direction - the datastore the appliance writes to (null otherwise).
      type: str
      sample: vmfs-01
    onprem:
      description: >-
        The on-premises side as Site Recovery knows it: infrastructure_vm_id and vm_id (the configuration server's
        id of the machine, not the vCenter instance UUID), instance_uuid (the VM's instance UUID where the item
        names it, modernized flow; else null), vcenter_infrastructure_id, datastores, master_target_id and
        process_server_id.
      type: dict
      sample: {"infrastructure_vm_id": "d3731098-963a-11eb-...", "instance_uuid": null, "vm_id": "d3731098-963a-11eb-...",
               "vcenter_infrastructure_id": "9",
               "datastores": ["vmfs-01"], "master_target_id": null, "process_server_id": "30AE6187-..."}
    failback_stage:
      description: >-
        Where the item stands: V(protected_to_azure), V(failed_over_to_azure), V(running_in_azure),
        V(reprotecting_to_onprem), V(replicating_to_onprem), V(failed_back), V(failback_committed),
        V(reprotected_to_azure), V(job_running), V(failover_failed), V(migration_completed) or V(unknown).
      type: str
      sample: running_in_azure
    next_step:
      description: What is left to do in that stage, in words.
      type: str
      sample: reprotect to on-premises
    failed_back_before:
      description: >-
        Whether the item replicates to Azure again after an earlier failback - a forward item (InMageAzureV2,
        InMageRcm) active on the primary (on-premises) side that records a successful failover. Always false for
        an item only ever failed over to Azure (active on the recovery side) and for failback-direction items.
      type: bool
      sample: false
    azure_vm:
      description: >-
        The failed-over Azure VM, or null when nothing names it (a failback-direction item whose VM the
        reprotect module never recorded).
      type: dict
      contains:
        id:
          description: The VM's ARM id where it is now (the recorded id when it does not exist).
          type: str
          sample: /subscriptions/.../resourceGroups/rg-recovery/providers/Microsoft.Compute/virtualMachines/app01
        resource_group:
          description: The VM's resource group now.
          type: str
          sample: rg-recovery
        name:
          description: The VM's name.
          type: str
          sample: app01
        power_state:
          description: >-
            V(running), V(stopped), V(deallocated), V(starting), V(stopping), V(deallocating) or V(unknown);
            null when the VM does not exist.
          type: str
          sample: running
        exists:
          description: Whether the VM exists (false when it was deleted, or never created).
          type: bool
          sample: true
        moved:
          description: >-
            Whether the VM is in another resource group than the one recorded at failover (failback is then
            impossible).
          type: bool
          sample: false
        recorded_resource_group:
          description: The resource group recorded at failover.
          type: str
          sample: rg-recovery
        found_by:
          description: >-
            V(id) (the id Site Recovery recorded), V(record) (the blob identity record written before reprotect
            with O(state_store=blob)), V(tag) (the tags set before reprotect), V(name) (a moved VM), or null when
            the VM was not found.
          type: str
          sample: id
    recovery_points:
      description: >-
        The recovery points of the current replication direction, newest first, each with name, id, type
        (V(ApplicationConsistent) or V(CrashConsistent)), time (ISO 8601) and age_minutes.
      returned: when O(recovery_points=true)
      type: list
      elements: dict
      sample: [{"name": "9c0e...", "id": "/subscriptions/.../recoveryPoints/9c0e...", "type": "CrashConsistent",
                "time": "2026-11-26T08:28:00+00:00", "age_minutes": 2.0}]
    latest_recovery_point:
      description: The newest recovery point, or null when there is none.
      returned: when O(recovery_points=true)
      type: dict
      sample: {"name": "9c0e...", "id": "/subscriptions/.../recoveryPoints/9c0e...", "type": "CrashConsistent",
               "time": "2026-11-26T08:28:00+00:00", "age_minutes": 2.0}
    recovery_point_evidence:
      description:
        - Whether the item's GET shows a recovery point (consistency points or a retention window); null for an item
          read from the item list alone (the list leaves them empty).
      returned: always
      type: bool
      sample: true
    latest_app_consistent_recovery_point:
      description: The newest application-consistent recovery point, or null when there is none.
      returned: when O(recovery_points=true)
      type: dict
      sample: null
recovery_plans:
  description: Each recovery plan of O(recovery_plan), in the order given, as RV(recovery_plan) describes one.
  returned: when O(recovery_plan) is given
  type: list
  elements: dict
  sample: [{"name": "rp-app", "friendly_name": "rp-app"}]
recovery_plan:
  description: The first recovery plan of O(recovery_plan).
  returned: when O(recovery_plan) is given
  type: dict
  contains:
    name:
      description: The plan's ARM name.
      type: str
      sample: rp-app
    friendly_name:
      description: The plan's friendly name.
      type: str
      sample: rp-app
    groups:
      description: The VM names of each boot group, in boot order (items of the plan's failover group come first).
      type: list
      elements: list
      sample: [[db01, app02], [app01, web01]]
    allowed_operations:
      description: The operations Site Recovery allows on the plan now.
      type: list
      elements: str
      sample: [UnplannedFailover]
    replication_providers:
      description: The replication providers of the plan's items.
      type: list
      elements: str
      sample: [InMageAzureV2]
    current_scenario:
      description: The operation running on the plan, or V(None).
      type: str
      sample: None
polls:
  description: With O(wait_for_recovery_points) - how many times the items were read.
  returned: when O(wait_for_recovery_points=true)
  type: int
  sample: 4
waited_seconds:
  description: With O(wait_for_recovery_points) - how long the wait took, in seconds.
  returned: when O(wait_for_recovery_points=true)
  type: float
  sample: 92.3
summary:
  description: The number of selected items per failback stage.
  returned: success
  type: dict
  sample: {"running_in_azure": 5, "replicating_to_onprem": 2}
api_calls:
  description: >-
    Resource Manager requests made (retries and pages included): the lists, plus one GET per selected item
    and one recovery point list per item when O(recovery_points=true).
  returned: success
  type: int
  sample: 3
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
  sample: 0.8
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import item_info, point_wait
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def gather(module):
    params = module.params
    problems = options.check_module(params, ("timeout", "poll_interval") if params["wait_for_recovery_points"] else ("timeout",))
    if problems:
        raise FailbackError(options.summary(problems, "the wait for recovery points"), problems=problems)
    if params["wait_for_recovery_points"]:
        timeout = 3600 if params["timeout"] is None else params["timeout"]
        deadline = Deadline(timeout, progress=module.progress("recovery point wait"))
        session = module.azure(deadline=Deadline(timeout + 300))
        result = point_wait.wait(module.vault(), module.azure_vms(), deadline, params["poll_interval"],
                                 vms=params["vms"] or [], item_names=params["items"] or [], plan=params["recovery_plan"],
                                 with_points=params["recovery_points"])
    else:
        session = module.azure(deadline=Deadline(300 if params["timeout"] is None else params["timeout"]))
        result = item_info.describe(module.vault(), module.azure_vms(), vms=params["vms"] or [],
                                    item_names=params["items"] or [], plan=params["recovery_plan"],
                                    with_points=params["recovery_points"])
    result["changed"] = False
    result.update(session.call_counts())
    return result


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "items": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "list", "elements": "str", "aliases": ["recovery_plans"]},
        "recovery_points": {"type": "bool", "default": True},
        "wait_for_recovery_points": {"type": "bool", "default": False},
        "timeout": {"type": "int"},
        "progress_file": {"type": "path"},
        "poll_interval": {"type": "float", "default": 30},
    }
    module = FailbackModule(spec, azure=True, vault=True, state_store=True, supports_check_mode=True,
                            required_one_of=[["vms", "items", "recovery_plan"]])
    module.run(gather)


if __name__ == "__main__":
    main()
