#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: onprem_vm
short_description: Bring the failed-back VMs up on-premises
version_added: 0.1.0
description:
  - Ensures each failed-back VM exists, has its disks, is powered on and runs VMware Tools.
  - Original location - with O(vms[].master_target), disks of the VM still attached to the master
    target are detached from it (no file is deleted) and attached back to the VM on their slots.
  - Alternate location - a VM that does not exist yet is created on the master target's ESXi host
    and the chosen datastore, with the given CPU, memory, firmware, guest OS and networks, and the
    VMDKs that failback replicated to the master target (detached from it first). Each network must
    be a port group (standard or distributed) of that host. The VMDKs are attached as they are (never
    created) in disk order on as many LSI Logic controllers as they need (15 disks each, unit 7 is the
    controller's; at most 4 controllers, 60 disks).
  - Before powering on, compares the host's free memory with the VM's memory (error 8038 of ASR).
    With O(memory_remediation=vmotion) it moves the VM to the connected host of the same cluster with
    the most free memory that mounts all its datastores; with V(fail) it stops with the 8038 remedy.
  - Every VM is checked, and every disk's slot, network and datastore resolved, before anything
    changes; a refusal changes nothing and names the VM, the rule and the fix.
  - A VM that exists with fewer disks than it should (a failover job, or a run, stopped between detaching
    its VMDKs and attaching them to it) is repaired - its own VMDKs (C([datastore] name/name.vmdk),
    C(name_1.vmdk)... in the directory of its .vmx), found attached to no VM by a datastore search,
    are attached to it as they are (never created; vSphere reads their capacity and disk UUID from the
    VMDK) in disk order, the order of their names, so its disks come back in their original order. A
    disk that is attached where an earlier VMDK belongs (a VM created from part of its disks, its second
    disk on SCSI 0:0) is moved behind it in the same reconfigure; for that a running VM is powered off
    first (its guest started without its first disk), then powered on again. Every slot is planned
    (LSI Logic controllers added on free buses as needed, at most 4 controllers, 60 disks) and checked
    before the first change; a VMDK of the VM attached to another VM is refused by name.
  - A run that failed after its first change is completed by running it again - for example a VM
    whose VMDKs were detached from the master target but which was not created is created from its
    VMDKs where they are (C([datastore] name/), attached to no VM), found by a datastore search.
  - Reports the host, power state, VMware Tools status and how long power-on took.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.vsphere
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.ACTION_GROUP_VSPHERE
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Each VM's disks by SCSI slot before and after (predicted in check mode).
options:
  vms:
    description: The VMs to bring up.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The VM's name.
        type: str
        required: true
      location:
        description: V(original) or V(alternate). Defaults to O(location).
        type: str
        choices: [original, alternate]
      master_target:
        description:
          - The master target that holds (or held) the VM's disks. Original location - its disks still on
            it are returned to the VM. Alternate location - the VM is created on its host.
        type: str
      datastore:
        description: Alternate location - the datastore of the new VM (where its VMDKs are).
        type: str
      num_cpu:
        description: Alternate location - virtual CPUs of the new VM (the source VM's).
        type: int
      memory_mb:
        description: Alternate location - memory of the new VM in MB.
        type: int
      guest_id:
        description: Alternate location - the guest OS id of the new VM, for example V(windows2019srv_64Guest).
        type: str
      firmware:
        description: Alternate location - V(bios) or V(efi).
        type: str
        choices: [bios, efi]
      networks:
        description:
          - Alternate location - port groups for the new VM's network adapters, in order. Each must be a
            port group of the master target's ESXi host (where the VM is created).
        type: list
        elements: str
  location:
    description: The failback location for VMs that do not give their own.
    type: str
    choices: [original, alternate]
    default: original
  memory_remediation:
    description:
      - What to do when the VM's host lacks the memory to power it on (ASR error 8038).
      - V(fail) stops with the explanation; V(vmotion) moves the VM to a host of its cluster with room.
    type: str
    choices: [fail, vmotion]
    default: fail
  wait_for_tools:
    description: Wait until VMware Tools run in every VM; fail (after powering on) if they do not in O(tools_timeout).
    type: bool
    default: true
  tools_timeout:
    description: Seconds to wait for VMware Tools.
    type: int
    default: 300
  timeout:
    description: Seconds to wait for the vSphere tasks.
    type: int
    default: 900
"""

EXAMPLES = r"""
- name: Power on the failed-back VMs, moving them off a host short of memory
  siterecovery.failback.onprem_vm:
    vms:
      - name: app01
        master_target: mt-win01
      - name: db01
        master_target: mt-win01
    memory_remediation: vmotion

- name: Alternate location - create web02 on the Linux master target's host
  siterecovery.failback.onprem_vm:
    vms:
      - name: web02
        location: alternate
        master_target: mt-lin01
        datastore: vmfs-01
        num_cpu: 2
        memory_mb: 4096
        guest_id: rhel8_64Guest
        networks: [Prod-VLAN10]
"""

RETURN = r"""
vms:
  description: One entry per VM, in the order given.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The VM.
      type: str
      sample: app01
    changed:
      description: Whether anything changed (or would change, in check mode) for this VM.
      type: bool
      sample: true
    created:
      description: Whether the VM was (or would be) created.
      type: bool
      sample: false
    disks_returned:
      description: Disks moved from the master target to the VM.
      type: int
      sample: 2
    disks_attached:
      description:
        - The VM's own VMDKs that were (or would be) attached to it as they are, found attached to no VM in its
          directory (a failover or a run that stopped part-way), in disk order.
      type: list
      elements: str
      sample: ["[vmfs-01] web02/web02.vmdk"]
    powered_off:
      description:
        - Whether the VM was (or would be) powered off to put its disks in disk order (then powered on again).
      type: bool
      sample: false
    vmotion_to:
      description: The host the VM was moved to for memory, or null.
      type: str
      sample: esx02.lab
    powered_on:
      description: Whether the VM was (or would be) powered on.
      type: bool
      sample: true
    host:
      description: The VM's ESXi host now.
      type: str
      sample: esx02.lab
    power_state:
      description: The VM's power state now.
      type: str
      sample: poweredOn
    tools_running_status:
      description: VMware Tools running status.
      type: str
      sample: guestToolsRunning
    tools_status:
      description: VMware Tools status.
      type: str
      sample: toolsOk
tasks:
  description: The vSphere tasks run, in order.
  returned: success
  type: list
  elements: str
  sample: ["detach disks from mt-win01", "attach 2 disk(s) to app01", "power on app01"]
diff:
  description:
    - Each VM's disks by virtual device node (V(scsi<bus>:<unit>), in disk order) before and after; null for a VM
      that does not exist. Predicted in check mode.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"web02": {"scsi0:0": "[vmfs-01] web02/web02_1.vmdk"}},
           "after": {"web02": {"scsi0:0": "[vmfs-01] web02/web02.vmdk", "scsi0:1": "[vmfs-01] web02/web02_1.vmdk"}}}
power_on_seconds:
  description: How long the power-on tasks took, or null when nothing was powered on.
  returned: success
  type: float
  sample: 4.2
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 12.5
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import onprem


def run(module):
    params = module.params
    outcome = onprem.ensure(
        module.vsphere(), params["vms"], {"location": params["location"]}, params["memory_remediation"],
        module.check_mode, Deadline(params["timeout"]),
        Deadline(params["tools_timeout"]) if params["wait_for_tools"] else None)
    diff = outcome.pop("diff")
    if module.diff_mode:
        outcome["diff"] = diff
    return outcome


def main():
    vm_spec = {
        "name": {"type": "str", "required": True},
        "location": {"type": "str", "choices": ["original", "alternate"]},
        "master_target": {"type": "str"},
        "datastore": {"type": "str"},
        "num_cpu": {"type": "int"},
        "memory_mb": {"type": "int"},
        "guest_id": {"type": "str"},
        "firmware": {"type": "str", "choices": ["bios", "efi"]},
        "networks": {"type": "list", "elements": "str"},
    }
    spec = {
        "vms": {"type": "list", "elements": "dict", "required": True, "options": vm_spec},
        "location": {"type": "str", "choices": ["original", "alternate"], "default": "original"},
        "memory_remediation": {"type": "str", "choices": ["fail", "vmotion"], "default": "fail"},
        "wait_for_tools": {"type": "bool", "default": True},
        "tools_timeout": {"type": "int", "default": 300},
        "timeout": {"type": "int", "default": 900},
    }
    module = FailbackModule(spec, vsphere=True, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
