#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: master_target_disks
short_description: Attach VMs' disks to a master target, or take them off
version_added: 0.1.0
description:
  - O(state=attached) puts each VM's disks on its master target, where ASR's failback replication
    writes to them. Original location moves the VM's existing VMDKs (the VM must be powered off) -
    each disk is detached from the VM without deleting its file and attached to a free slot of an
    LSI Logic controller of the master target, adding an LSI Logic controller when needed.
    Alternate location attaches the VMDKs C([datastore] name/name[_N].vmdk) to the master target -
    existing ones (left on the datastore, attached to no VM, by a run that stopped) as they are,
    missing ones created sized like the source disks on the chosen VMFS or vSAN datastore.
  - O(state=detached) takes them off the master target (without deleting any file) and, with
    O(reattach=true), attaches them back to the VM on their original slots. The same reconfigure pins the disks'
    UUIDs on the master target (extraConfig C(siterecovery.failback.pinned)), so VMDKs a stopped run leaves
    attached to no VM are later recorded with the UUIDs they had there (see M(siterecovery.failback.onprem_vm)).
  - O(state=detached) first reads each VM's protected item (one GET per VM) and refuses, before anything is read in
    vCenter, a VM whose VMDKs on the master target Site Recovery still uses - stages V(reprotecting_to_onprem),
    V(replicating_to_onprem) (it writes to them), V(failover_failed) (the failover, run again, takes them from
    there) and V(job_running). Taking them off would break the replication; fail the VM over instead.
  - Use it to verify, and repair, what an ASR reprotect or failover job left behind. It recognises
    disks that are already where they should be (by file, disk UUID and the VM's directory), and a VM
    whose disks it moves records them in its C(extraConfig), so a re-run after a half-finished move
    completes it without duplicates.
  - Every rule is checked for every VM before anything changes; a refusal changes nothing and names
    the VM, the rule and the fix. It refuses RDM or vSAN disks for original location, a target
    datastore that is not VMFS or vSAN, more than 60 disks on a master target, a master target with
    snapshots, a datastore the master target's host does not mount, a powered-on VM, hosts that
    are not connected, a master target or VM without a free SCSI slot for every disk, new VMDKs
    larger than the datastore's free space, and a VMDK attached to another VM.
  - No VMDK is ever destroyed, and an existing VMDK is never created again.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vsphere
  - siterecovery.failback.progress
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.ACTION_GROUP_BOTH
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  resource_group:
    description:
      - The resource group of the Recovery Services vault. Required with O(state=detached) (each VM's protected
        item is read then).
      - If not set, the value of E(AZURE_SITE_RECOVERY_RESOURCE_GROUP) is used.
    type: str
  vault_name:
    description:
      - The name of the Recovery Services vault that holds the replicated items. Required with O(state=detached).
      - If not set, the value of E(AZURE_SITE_RECOVERY_VAULT) is used.
    type: str
  vms:
    description:
      - The VMs whose disks to place, each with its own settings or the module-level defaults.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The VM's name. For alternate location the VM may not exist; the new VMDKs are named after it.
        type: str
        required: true
      instance_uuid:
        description:
          - The VM's vCenter instance UUID (C(config.instanceUuid)), which identifies it whatever its name. A classic
            (InMage) item records none, so without it the VM is the one VM called O(vms[].name); give it when a stale
            copy shares the name - such a name is otherwise refused, naming every VM that has it.
        type: str
      master_target:
        description: The master target VM (name, MOID or instance UUID). Defaults to O(master_target).
        type: str
      location:
        description: V(original) or V(alternate). Defaults to O(location).
        type: str
        choices: [original, alternate]
      datastore:
        description: Alternate location - the VMFS or vSAN datastore for the new VMDKs. Defaults to O(datastore).
        type: str
      disk_sizes_gb:
        description:
          - Alternate location - the sizes of the source disks, in GB, in order. When omitted, the sizes
            of the existing VM's disks are used.
        type: list
        elements: float
  master_target:
    description: The master target for VMs that do not name their own.
    type: str
  location:
    description: The failback location for VMs that do not give their own.
    type: str
    choices: [original, alternate]
    default: original
  datastore:
    description: The alternate-location datastore for VMs that do not give their own.
    type: str
  state:
    description: V(attached) puts the disks on the master target; V(detached) takes them off.
    type: str
    choices: [attached, detached]
    default: attached
  reattach:
    description: With O(state=detached), attach the disks back to the VM (original slots where known).
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the reconfigure tasks; on expiry the module reports what was done.
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Make sure app01's and db01's disks sit on the Windows master target (repair a failed reprotect)
  siterecovery.failback.master_target_disks:
    master_target: mt-win01
    vms:
      - name: app01
      - name: db01
    state: attached

- name: Alternate location - new disks for web02 on a VMFS datastore of the Linux master target's host
  siterecovery.failback.master_target_disks:
    vms:
      - name: web02
        master_target: mt-lin01
        location: alternate
        datastore: vmfs-01
        disk_sizes_gb: [40, 80]

- name: Give app01 its disks back (undo a reprotect that will not be completed)
  siterecovery.failback.master_target_disks:
    master_target: mt-win01
    vms:
      - name: app01
    state: detached
    reattach: true
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
    master_target:
      description: The master target.
      type: str
      sample: mt-win01
    location:
      description: V(original) or V(alternate).
      type: str
      sample: original
    state:
      description: The state asked for.
      type: str
      sample: attached
    changed:
      description: Whether this VM's disks moved (or would move, in check mode).
      type: bool
      sample: true
    warnings:
      description:
        - Other VMs of the same name, left alone (the VM was identified by its instance UUID, or as the one VM of
          the name); each sentence names them by folder, .vmx, instance UUID, host and power state.
      returned: when another VM has the VM's name
      type: list
      elements: str
      sample:
        - >-
          VM app01 was identified by the instance UUID 5015... (vm-12 (folder DC1/vm, ...)); another VM of the same
          name is left alone: vm-40 (folder DC1/vm/Restored/app01-copy, ...). Rename or remove it when it is stale.
    disks:
      description: >-
        Each of the VM's disks, where it was (V(vm), V(mt) or V(none) - attached nowhere, or not created yet) and
        where it is now.
      type: list
      elements: dict
      sample: [{"file": "[vmfs-01] app01/app01.vmdk", "size_gb": 100.0, "before": "vm", "after": "mt"}]
tasks:
  description: The reconfigure tasks run, in order (empty in check mode and when nothing changed).
  returned: success
  type: list
  elements: str
  sample: ["detach disks from app01", "attach 2 disk(s) to mt-win01"]
diff:
  description: The disk files of every VM and master target involved, before and after.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"app01": ["[vmfs-01] app01/app01.vmdk"], "mt-win01": []},
           "after": {"app01": [], "mt-win01": ["[vmfs-01] app01/app01.vmdk"]}}
property_reads:
  description: Property-collector calls made (six before, six after a change).
  returned: success
  type: int
  sample: 12
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 3.2
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import lifecycle
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import master_target


def stage_gate(module, deadline):
    """With state detached: read each VM's item once and refuse, before anything is read in vCenter, a VM whose VMDKs
    on the master target Site Recovery still uses (``domain.lifecycle.detach_refusal``)."""
    params = module.params
    if params["state"] != "detached":
        return
    # the stage alone decides, and the item list gives it (no GET per item: tests/recorded/asr fact 1)
    items = asr_items.by_vm(module.vault(deadline=deadline), [entry["name"] for entry in params["vms"]], details=False)
    refusals = [r for r in (lifecycle.detach_refusal(name, item["failback_stage"]) for name, item in items.items()) if r]
    if refusals:
        raise FailbackError("Refusing to detach disks; nothing was changed: " + " ".join(refusals), refusals=refusals,
                            rule="stage_allows_step")


def run(module):
    params = module.params
    stage_gate(module, Deadline(params["timeout"]))
    client = module.vsphere()
    defaults = {"master_target": params["master_target"], "location": params["location"],
                "datastore": params["datastore"]}
    deadline = Deadline(params["timeout"], progress=module.progress("master target disks"))
    outcome = master_target.ensure(client, params["vms"], defaults, params["state"], params["reattach"],
                                   module.check_mode, deadline)
    result = {"changed": outcome["changed"], "vms": outcome["vms"], "tasks": outcome["tasks"],
              "property_reads": client.stats["property_reads"]}
    if module.diff_mode:
        result["diff"] = outcome["diff"]
    return result


def main():
    vm_spec = {
        "name": {"type": "str", "required": True},
        "instance_uuid": {"type": "str"},
        "master_target": {"type": "str"},
        "location": {"type": "str", "choices": ["original", "alternate"]},
        "datastore": {"type": "str"},
        "disk_sizes_gb": {"type": "list", "elements": "float"},
    }
    spec = {
        "vms": {"type": "list", "elements": "dict", "required": True, "options": vm_spec},
        "master_target": {"type": "str"},
        "location": {"type": "str", "choices": ["original", "alternate"], "default": "original"},
        "datastore": {"type": "str"},
        "state": {"type": "str", "choices": ["attached", "detached"], "default": "attached"},
        "reattach": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 600},
        "progress_file": {"type": "path"},
    }
    spec.update({  # the vault: needed with state detached only (the stage of each VM's item is read then)
        "resource_group": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_RESOURCE_GROUP"])},
        "vault_name": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_VAULT"])},
    })
    module = FailbackModule(spec, vsphere=True, azure=True, supports_check_mode=True,
                            required_if=[("state", "detached", ("resource_group", "vault_name"))])
    module.run(run)


if __name__ == "__main__":
    main()
