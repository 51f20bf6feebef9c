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
    and the chosen datastore, with the given CPU and memory, and the VMDKs that failback replicated to
    the master target (detached from it first). The VMDKs are attached as they are (never created) in
    disk order on as many SCSI controllers as they need (15 disks each, unit 7 is the controller's; at
    most 4 controllers, 60 disks).
  - Alternate location - the new VM's firmware, guest OS and SCSI controller type follow the source machine as
    Site Recovery reports it (O(vms[].source), what M(siterecovery.failback.replicated_item_info) returns as
    C(source)) - C(firmwareType) V(UEFI) gives V(efi), V(BIOS) gives V(bios) (else the Azure VM generation, V(V2)
    gives V(efi)); the guest OS id comes from the OS name (a table; an unknown Linux gets the generic
    V(otherLinux64Guest), an unknown Windows is refused); Windows guests get LSI Logic SAS controllers (Windows
    Server 2008 and later have no driver for the parallel LSI Logic), others LSI Logic. O(vms[].firmware),
    O(vms[].guest_id) and O(vms[].scsi_type) win over what Site Recovery reports. When it reports nothing usable
    (failback-direction items, InMage and InMageRcmFailback, carry no firmware) and none is given, the VM is
    refused before any change. Secure boot is left off - Site Recovery does not report the source's - and Site
    Recovery reports neither the source's controller types nor its disks' bus and unit, so disk order is the
    order of the VMDK names.
  - Alternate location - one network adapter (VMXNET 3) per network, each a port group (standard or distributed)
    of the master target's ESXi host, where the VM is created - O(vms[].networks), or the networks of the source's
    NICs as Site Recovery reports them (modernized items; classic items name no network) through
    O(vms[].network_map) / O(network_map). A port group the host does not have, a name two port groups of the host
    carry (the switches are named), and a source NIC whose network is not reported are refused before any change.
  - Reads each VM's protected item first (one GET per VM) and acts only where Site Recovery has failed the VM back
    (stage V(failed_back), failed over and not committed yet). A VM still replicating to on-premises is refused
    before anything is read in vCenter - its VMDKs on the master target are Site Recovery's replica, and taking them
    off would break its replication. A VM whose failover failed is refused unless O(memory_remediation=vmotion) -
    then it is only moved to a host with room and started (the remedy of ASR error 8038, after which the failover
    is run again), and refused if bringing it up would create it or take disks off a master target. A VM past the
    verification (failback committed, or reprotected to Azure) is left alone and reported C(skipped).
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
  - A VM that exists while some of its own VMDKs are still attached to the master target Site Recovery names for its
    item (or the one given in O(vms[].master_target)) - an alternate-location failover job that stopped after moving
    some of its disks, then run again, leaves the VM it created as it is - gets them in the same repair, only once
    Site Recovery reports it failed back. One reconfigure takes them off the master target (no file operation; their
    disk UUIDs pinned there) and the repair attaches them as they are, in disk order, recorded in the VM's failback
    manifest with those UUIDs. A VMDK of the VM that any other VM holds is still refused by name.
  - A run that failed after its first change is completed by running it again - for example a VM
    whose VMDKs were detached from the master target but which was not created is created from its
    VMDKs where they are (C([datastore] name/), attached to no VM), found by a datastore search.
  - The reconfigure that takes a VM's VMDKs off the master target also pins their disk UUIDs there (extraConfig
    C(siterecovery.failback.pinned), the UUIDs vCenter reported while Site Recovery's replica was attached). A VMDK
    found later attached to no VM is recorded in the VM's failback manifest with its pinned UUID, never with one read
    from whatever file sits at its path, so a file standing in for it fails the commit gate. A VMDK found attached
    to no VM that no run pinned is attached, but not recorded (a warning says so) - the commit then refuses the VM
    until the run option C(protected_disk_files) names its VMDKs.
  - Reports the host, power state, VMware Tools status and how long power-on took. A failure after a change (a
    VM powered on whose VMware Tools do not run) reports C(changed=true).
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.vsphere
  - siterecovery.failback.progress
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.ACTION_GROUP_BOTH
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
      instance_uuid:
        description:
          - The VM's vCenter instance UUID (C(config.instanceUuid)), which identifies it whatever its name. Site
            Recovery records it for a modernized item (the failover module returns it in C(verify_onprem));
            a classic item records none, so its VM is the one VM called O(vms[].name). Give it when a stale copy
            shares the VM's name - without it such a name is refused, naming every VM that has it.
        type: str
      record_disks:
        description:
          - Record the disks attached to the VM now in its failback manifest (extraConfig
            C(siterecovery.failback.disks)) when it carries none - one reconfigure, no device change.
          - The commit gate trusts that record over a disk's name for a classic VM (ASR names no file nor UUID for its
            disks). The failover module sets it in C(verify_onprem) for a classic VM whose failover it has just run, so
            the record is of the disks ASR attached. Set it yourself only right after a failover you checked.
        type: bool
        default: false
      pins_from:
        description:
          - The master target Site Recovery names for the VM's classic item, whose pinned disk UUIDs count for the VM
            (the failover module returns it in C(verify_onprem) for a classic VM, from its own read). Without it the
            module reads the VM's protected item for it (one GET per VM).
        type: str
      location:
        description: V(original) or V(alternate). Defaults to O(location).
        type: str
        choices: [original, alternate]
      master_target:
        description:
          - The master target that holds (or held) the VM's disks. Original location - its disks still on
            it are returned to the VM. Alternate location - the VM is created on its host; a VM that exists gets
            its own VMDKs still attached to it (as from the master target Site Recovery names for its item).
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
        description:
          - Alternate location - the guest OS id of the new VM, for example V(windows2019srv_64Guest). Default - from
            the OS name in O(vms[].source).
        type: str
      firmware:
        description:
          - Alternate location - V(bios) or V(efi). Default - from O(vms[].source) (C(firmware_type), else
            C(azure_vm_generation)); refused when neither is given nor reported.
        type: str
        choices: [bios, efi]
      scsi_type:
        description:
          - Alternate location - the type of the new VM's SCSI controllers. Default - V(lsilogic-sas) for a Windows
            guest OS id, V(lsilogic) otherwise.
        type: str
        choices: [lsilogic, lsilogic-sas, pvscsi]
      networks:
        description:
          - Alternate location - port groups for the new VM's network adapters, in order. Each must be a
            port group of the master target's ESXi host (where the VM is created). Default - the source's NICs'
            networks from O(vms[].source) through O(vms[].network_map).
          - A name two port groups of the host share is refused; C(<distributed switch>/<port group>) picks the one
            of that distributed switch (here and as a value of O(vms[].network_map) / O(network_map)).
          - When ASR reports nothing about the source's NICs (classic items) and this is not given, the VM is not
            created (it would have no network adapter); V([]) creates it without one.
        type: list
        elements: str
      network_map:
        description:
          - Alternate location - a mapping of source network to target port group for the networks Site Recovery reports for
            the source's NICs (O(vms[].source) C(networks)); a network not in it keeps its name. Merged over
            O(network_map). Every key must be a network of the source; not together with O(vms[].networks).
        type: dict
      source:
        description:
          - Alternate location - the source machine as Site Recovery reports it - the C(source) that
            M(siterecovery.failback.replicated_item_info) returns for the VM's item. Read the item before the
            reprotect to on-premises to have its firmware (only forward items carry it).
        type: dict
        suboptions:
          firmware_type:
            description: C(firmwareType) - V(UEFI) or V(BIOS).
            type: str
          azure_vm_generation:
            description: C(azureVmGeneration) or C(targetGeneration) - V(V1) or V(V2).
            type: str
          os_type:
            description: C(osType) - V(Windows) or V(Linux).
            type: str
          os_name:
            description: The OS name (C(discoveredVmDetails.osName) or C(osVersion)).
            type: str
          networks:
            description: The vSphere network of each source NIC, in order (null where Site Recovery names none).
            type: list
            elements: raw
  network_map:
    description:
      - Alternate location - a mapping of source network to target port group for every VM created; a VM's own
        O(vms[].network_map) wins for the networks it maps.
    type: dict
    default: {}
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
    description:
      - Wait until VMware Tools run in every VM verified by V(tools) (O(verification)); fail (after powering on,
        with C(changed=true)) if they do not in O(tools_timeout).
    type: bool
    default: true
  verification:
    description:
      - "How each VM is verified once powered on - one mode for every VM, or a dictionary
        C({default: <mode>, per_vm: {<vm>: <mode>}}). The commit module takes the same value."
      - V(tools) - VMware Tools must run (with O(wait_for_tools), waited for up to O(tools_timeout)). A VM in which
        vCenter already says Tools are not installed (C(guest.toolsStatus) C(toolsNotInstalled)) is refused before
        any change, as its verification could never pass, and an existing VM that reports it after its power-on
        fails at once; a VM this call creates has no Tools status yet (vCenter says C(toolsNotInstalled) until
        its guest's Tools first report), so it is waited for.
      - V(power_only) - powered on; Tools are not waited for (a guest without VMware Tools).
      - V(probe) - powered on; the health probes of the commit
        (O(siterecovery.failback.commit#module:health_checks) with C(vm)) are the proof that the guest came up,
        so Tools are not waited for here.
    type: raw
    default: tools
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
# The vault comes from module_defaults (group/siterecovery.failback.azure) or the AZURE_SITE_RECOVERY_RESOURCE_GROUP
# and AZURE_SITE_RECOVERY_VAULT environment variables, as in every example below but the first.
- name: Power on the failed-back VMs, moving them off a host short of memory
  siterecovery.failback.onprem_vm:
    resource_group: rg-asr
    vault_name: vault-dr
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

- name: Read what Site Recovery reports about the source (before the reprotect to on-premises)
  siterecovery.failback.replicated_item_info:
    vms: [web03]
  register: web03_item

- name: Alternate location - create web03 like its source (firmware, guest OS), its network mapped
  siterecovery.failback.onprem_vm:
    vms:
      - name: web03
        location: alternate
        master_target: mt-win01
        datastore: vmfs-01
        num_cpu: 4
        memory_mb: 8192
        source: "{{ web03_item['items'][0].source }}"
        network_map: {VM Network: DPG-Prod-VLAN10}

- name: Power on app01 and db01; db01 has no VMware Tools, so it is verified by power state only
  siterecovery.failback.onprem_vm:
    vms:
      - name: app01
      - name: db01
    verification:
      default: tools
      per_vm: {db01: power_only}
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
    failback_stage:
      description:
        - The stage of the VM's protected item when the module read it (see
          M(siterecovery.failback.replicated_item_info)).
      type: str
      sample: failed_back
    skipped:
      description: The VM is past the verification (its failback is committed); nothing was read in vCenter for it.
      type: bool
      returned: when the VM was skipped
      sample: true
    changed:
      description: Whether anything changed (or would change, in check mode) for this VM.
      type: bool
      sample: true
    created:
      description: Whether the VM was (or would be) created.
      type: bool
      sample: false
    warnings:
      description:
        - Other VMs of the same name, left alone (the VM was identified by its instance UUID, or as the one VM of
          the name); each sentence names them by folder, .vmx, instance UUID, host and power state.
        - VMDKs found attached to no VM that no run pinned, attached but not recorded in the failback manifest.
        - Each is also issued as an Ansible warning.
      returned: when another VM has the VM's name, or a VMDK was not recorded
      type: list
      elements: str
      sample:
        - >-
          VM app01 was identified by the instance UUID 5015... (vm-12 (folder DC1/vm, ...)); another VM of the same
          name is left alone: vm-40 (folder DC1/vm/Restored/app01-copy, ...). Rename or remove it when it is stale.
    disks_returned:
      description:
        - Disks moved (or to be moved) from the master target to the VM - the original-location return, or the VMDKs
          of an existing VM still on the master target of its item.
      type: int
      sample: 2
    disks_recorded:
      description:
        - The VM's disks were (or would be) recorded in its failback manifest (extraConfig
          C(siterecovery.failback.disks)) - a VM created here, or one asked to by O(vms[].record_disks) that carried
          none. False when a VMDK of it was found attached to no VM and no run pinned its disk UUID.
      type: bool
      sample: false
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

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import lifecycle, options
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import verification as verifications
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import onprem


def stage_gate(module, deadline):
    """Read each VM's item once and sort the VMs by its stage (``domain.lifecycle.onprem_gate``); refuse, before
    anything is read in vCenter, a VM Site Recovery has not failed back: its VMDKs on the master target are still
    Site Recovery's replica. Returns ``(items by VM name, the gate, {VM name: its item's master target})``."""
    vault = module.vault(deadline=deadline)
    # the master target of each classic item: only the disk UUIDs pinned there count (vsphere.onprem._pins); the
    # failover module names it (pins_from in its verify_onprem), else the item's GET does (tests/recorded/asr fact 2:
    # the list leaves masterTargetId empty) - the stage comes from the list
    given = {entry["name"]: entry["pins_from"] for entry in module.params["vms"] if entry.get("pins_from")}
    items = asr_items.by_vm(vault, [entry["name"] for entry in module.params["vms"]],
                            details=lambda item: item["name"] not in given)
    holders = dict(given)
    if any((item.get("onprem") or {}).get("master_target_id") for item in items.values()):
        mt_names = fabric.master_target_names(vault)
        holders.update((name, fabric.master_target_of(item, mt_names)) for name, item in items.items()
                       if name not in given)
    gate = lifecycle.onprem_gate({name: item["failback_stage"] for name, item in items.items()},
                                 module.params["memory_remediation"])
    if gate["refusals"]:
        raise FailbackError("Refusing to bring the VMs up; nothing was changed: " + " ".join(gate["refusals"]),
                            refusals=gate["refusals"], rule="stage_allows_step")
    return items, gate, holders


def run(module):
    params = module.params
    # probe VMs are proved by the commit gate's probes, which this module does not run: no probe rule here; a per_vm
    # key may name a VM of the run that is not among these VMs (the roles pass the run's verification as is)
    problems = verifications.check("verification", params["verification"])
    if problems:
        raise FailbackError(options.summary(problems, "the on-premises verification (nothing was read)"),
                            problems=problems, rule="options_valid")
    deadline = Deadline(params["timeout"], progress=module.progress("on-premises VM"))
    items, gate, holders = stage_gate(module, deadline)
    entries = [dict(entry, pins_from=holders.get(entry["name"])) for entry in params["vms"] if entry["name"] in gate["act"]]
    outcome = {"changed": False, "vms": [], "tasks": [], "power_on_seconds": None, "diff": {"before": {}, "after": {}}}
    tools_deadline = Deadline(params["tools_timeout"], progress=deadline.progress) if params["wait_for_tools"] else None
    if entries:
        try:
            outcome = onprem.ensure(
                module.vsphere(), entries, {"location": params["location"], "network_map": params["network_map"]},
                params["memory_remediation"], module.check_mode, deadline,
                tools_deadline, params["verification"],
                remedy_only=gate["remedy_only"])
        except FailbackError as error:  # powered on (or changed) before the failure: changed is true
            module.fail(error, changed=bool(error.details.get("changed")))
            return None
    for entry in outcome["vms"]:
        for warning in entry.get("warnings") or []:
            module.ansible.warn(warning)
    # in the order given; a VM past the verification is reported skipped (nothing read in vCenter, nothing changed)
    acted = {entry["name"]: entry for entry in outcome["vms"]}
    outcome["vms"] = [dict(acted.get(name) or dict(onprem.new_entry(name), skipped=True),
                           failback_stage=items[name]["failback_stage"])
                      for name in (entry["name"] for entry in params["vms"])]
    diff = outcome.pop("diff")
    if module.diff_mode:
        outcome["diff"] = diff
    return outcome


def main():
    vm_spec = {
        "name": {"type": "str", "required": True},
        "instance_uuid": {"type": "str"},
        "location": {"type": "str", "choices": ["original", "alternate"]},
        "master_target": {"type": "str"},
        "datastore": {"type": "str"},
        "num_cpu": {"type": "int"},
        "memory_mb": {"type": "int"},
        "guest_id": {"type": "str"},
        "firmware": {"type": "str", "choices": ["bios", "efi"]},
        "scsi_type": {"type": "str", "choices": ["lsilogic", "lsilogic-sas", "pvscsi"]},
        "networks": {"type": "list", "elements": "str"},
        "network_map": {"type": "dict"},
        "record_disks": {"type": "bool", "default": False},
        "pins_from": {"type": "str"},
        "source": {"type": "dict", "options": {
            "firmware_type": {"type": "str"}, "azure_vm_generation": {"type": "str"}, "os_type": {"type": "str"},
            "os_name": {"type": "str"}, "networks": {"type": "list", "elements": "raw"}}},
    }
    spec = {
        "vms": {"type": "list", "elements": "dict", "required": True, "options": vm_spec},
        "location": {"type": "str", "choices": ["original", "alternate"], "default": "original"},
        "network_map": {"type": "dict", "default": {}},
        "memory_remediation": {"type": "str", "choices": ["fail", "vmotion"], "default": "fail"},
        "wait_for_tools": {"type": "bool", "default": True},
        "verification": {"type": "raw", "default": "tools"},
        "tools_timeout": {"type": "int", "default": 300},
        "timeout": {"type": "int", "default": 900},
        "progress_file": {"type": "path"},
    }
    module = FailbackModule(spec, vsphere=True, azure=True, vault=True, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
