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
  - O(state=locked) tags each selected VM's failed-over Azure VM with the run's owner and an expiry
    (C(siterecovery-failback-lock)). When another run holds a lock that has not expired, it refuses,
    changing nothing, and names the run and the expiry.
  - O(state=unlocked) removes this owner's locks; other runs' locks stay.
  - The lock lives in Azure, so runs from any AWX node or controller see it. VMs whose Azure VM is
    already gone (committed) need no lock and are skipped.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
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
    description: Lock every VM of this recovery plan.
    type: str
  owner:
    description: Who holds the lock - the run's id, for example C(awx-job-1234). It must be the same for lock and unlock.
    type: str
    required: true
  state:
    description: V(locked) or V(unlocked).
    type: str
    choices: [locked, unlocked]
    default: locked
  ttl_minutes:
    description: How long a lock holds when its run dies without unlocking.
    type: int
    default: 240
  lock_break:
    description: Take the lock even when another live run holds it (when you know that run is gone).
    type: bool
    default: false
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
        V(acquired), V(held_by_us) (already locked by O(owner): a live lock is left as it is, an expired one
        renewed), V(released), V(skipped) (no Azure VM), V(not_ours) or V(none).
      type: str
      sample: acquired
    broken:
      description: The owner of a live lock that O(lock_break) took over, or null.
      type: str
      returned: when O(state=locked)
      sample: null
api_calls:
  description: Resource Manager requests made.
  returned: success
  type: int
  sample: 4
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 1.2
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import lock
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.azure_vms import AzureVms
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def run(module):
    params = module.params
    session = module.azure()
    vault = module.vault()
    selected = asr_items.select(vault, vms=params["vms"] or [], plan=params["recovery_plan"])
    azure_vms = AzureVms(session)
    if params["state"] == "locked":
        changed, results = lock.acquire(azure_vms, selected, params["owner"], params["ttl_minutes"] * 60,
                                        module.check_mode, break_lock=params["lock_break"])
    else:
        changed, results = lock.release(azure_vms, selected, params["owner"], module.check_mode)
    return {"changed": changed, "vms": results, "api_calls": session.stats["calls"]}


def main():
    spec = {
        "vms": {"type": "list", "elements": "str"},
        "recovery_plan": {"type": "str"},
        "owner": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["locked", "unlocked"], "default": "locked"},
        "ttl_minutes": {"type": "int", "default": 240},
        "lock_break": {"type": "bool", "default": False},
    }
    module = FailbackModule(spec, azure=True, vault=True, supports_check_mode=True,
                            required_one_of=[("vms", "recovery_plan")])
    module.run(run)


if __name__ == "__main__":
    main()
