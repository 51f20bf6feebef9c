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
  - Refuses, changing nothing, unless each on-premises VM is verified powered on in vCenter.
    O(force=true) commits anyway and says so in the result (C(forced)); use it only when you are sure
    the on-premises copy is good.
  - After the job, asks Compute whether each Azure VM is really gone and reports the managed disks and
    network interfaces left behind.
  - VMs already committed are left alone (C(changed=false)).
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.vsphere
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.ACTION_GROUP_BOTH
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
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
    description: Commit every VM of this recovery plan.
    type: str
  force:
    description: Commit even when an on-premises VM is not verified powered on. The result says which VMs were forced.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the commit jobs.
    type: int
    default: 1800
  poll_interval:
    description: Seconds between reads of the ASR jobs.
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

- name: Report what the deleted Azure VMs left behind
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.leftovers }}"
  loop: "{{ committed.vms }}"
  loop_control:
    label: "{{ item.name }}"
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
      sample: failed_back
    stage_after:
      description: The failback stage after the job (absent in check mode and when nothing ran).
      type: str
      sample: failback_committed
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
    forced:
      description: Whether the commit ran although the on-premises VM was not verified powered on.
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
  description: The VMs committed although not verified powered on.
  returned: success
  type: list
  elements: str
  sample: []
api_calls:
  description: Resource Manager requests made.
  returned: success
  type: int
  sample: 10
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 125.0
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import commit
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.azure_vms import AzureVms
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory


def run(module):
    params = module.params
    deadline = Deadline(params["timeout"])
    session = module.azure(deadline=deadline)
    vault = module.vault()

    def onprem_check(names):
        return commit.verify_onprem(Inventory(module.vsphere()), names) if names else {}

    outcome = commit.ensure(
        session, vault, module.selection(),
        onprem_check, params["force"], module.check_mode, deadline, poll=params["poll_interval"],
        azure_vms=AzureVms(session))
    if outcome["forced"]:
        module.ansible.warn("Committed without verifying the on-premises VM is running: %s." % ", ".join(outcome["forced"]))
    outcome["api_calls"] = session.stats["calls"]
    return outcome


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "items": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "str"},
        "force": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 1800},
        "poll_interval": {"type": "float", "default": 15},
    }
    module = FailbackModule(spec, azure=True, vault=True, vsphere=True, supports_check_mode=True,
                            required_one_of=[("vms", "items", "recovery_plan")])
    module.run(run)


if __name__ == "__main__":
    main()
