#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: esx_host_info
short_description: Detect the ESX host, datastores and disks of VMs and master targets
version_added: 0.1.0
description:
  - For each VM and master target, reports its ESXi host (cluster, datacenter, managed by vCenter
    or standalone, connection state, maintenance mode, memory total, used and free), the
    datastores the host mounts (type VMFS, vsan, NFS or other, capacity, free space,
    accessibility) and each disk of the VM (file, size, flat or RDM backing, datastore, controller).
  - For master targets also the SCSI controller types, the attached disk count against the limit
    of 60, the snapshot count, C(disk.EnableUUID), the VMware Tools status and the OS family.
  - Answers the question a failback asks - which of a VM's datastores the master target's host can
    reach - for every VM and master target pair.
  - Reads the inventory in six property-collector calls, whatever the number of VMs.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.vsphere
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_VSPHERE
options:
  vms:
    description:
      - The VMs to describe, each by name, MOID (V(vm-42)) or instance UUID.
      - A name that matches more than one VM is refused; give its MOID or UUID.
    type: list
    elements: str
    default: []
  master_targets:
    description:
      - The master target VMs, by name, MOID or instance UUID.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Where do app01 and db01 live, and can the master target reach their datastores?
  siterecovery.failback.esx_host_info:
    vms: [app01, db01]
    master_targets: [mt-win01]
  register: placement

- name: Stop when a datastore of a VM is out of the master target's reach
  ansible.builtin.assert:
    that: placement.reachability | rejectattr('all_reachable') | list | length == 0
    fail_msg: >-
      {{ placement.reachability | rejectattr('all_reachable')
         | map(attribute='vm') | join(', ') }} cannot be reached from the master target's host.

- name: Master target disk budget
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.disk_count }} of {{ item.disk_limit }} disks attached"
  loop: "{{ placement.master_targets }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
vms:
  description: One entry per requested VM, in the order given.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
      sample: app01
    moid:
      description: Managed object id.
      type: str
      sample: vm-42
    instance_uuid:
      description: vCenter instance UUID.
      type: str
      sample: 5003a1b2-c3d4-e5f6-0718-293a4b5c6d01
    bios_uuid:
      description: BIOS UUID.
      type: str
      sample: 4203a1b2-c3d4-e5f6-0718-293a4b5c6d01
    power_state:
      description: V(poweredOn), V(poweredOff) or V(suspended).
      type: str
      sample: poweredOff
    guest_id:
      description: Configured guest OS id.
      type: str
      sample: windows2019srv_64Guest
    guest_full_name:
      description: Configured guest OS name.
      type: str
      sample: Microsoft Windows Server 2019 (64-bit)
    os_family:
      description: V(windows), V(linux) or V(other).
      type: str
      sample: windows
    num_cpu:
      description: Virtual CPUs.
      type: int
      sample: 4
    memory_mb:
      description: Memory in MB.
      type: int
      sample: 16384
    firmware:
      description: V(bios) or V(efi).
      type: str
      sample: efi
    host:
      description: The ESXi host the VM is registered on.
      type: dict
      contains:
        name:
          description: Host name.
          type: str
          sample: esx01.example.com
        moid:
          description: Managed object id.
          type: str
          sample: host-21
        cluster:
          description: Cluster name, or null for a host outside a cluster.
          type: str
          sample: Cluster1
        datacenter:
          description: Datacenter name.
          type: str
          sample: DC1
        managed_by_vcenter:
          description: Whether the host is managed by vCenter (false for a standalone ESXi connection).
          type: bool
          sample: true
        connection_state:
          description: V(connected), V(disconnected) or V(notResponding).
          type: str
          sample: connected
        maintenance_mode:
          description: Whether the host is in maintenance mode.
          type: bool
          sample: false
        memory_total_mb:
          description: Physical memory in MB.
          type: int
          sample: 262144
        memory_used_mb:
          description: Memory in use in MB.
          type: int
          sample: 98304
        memory_free_mb:
          description: Memory free in MB.
          type: int
          sample: 163840
        datastores:
          description: Datastores the host mounts.
          type: list
          elements: dict
          sample: [{"name": "vmfs-01", "moid": "datastore-11", "type": "VMFS", "capacity_gb": 4096.0,
                    "free_gb": 2048.0, "accessible": true}]
    disks:
      description: Every virtual disk of the VM.
      type: list
      elements: dict
      sample: [{"key": 2000, "file": "[vmfs-01] app01/app01.vmdk", "size_gb": 100.0, "backing": "flat",
                "datastore": "vmfs-01", "datastore_type": "VMFS", "controller_key": 1000, "controller_bus": 0,
                "controller_type": "lsilogic", "unit": 0, "uuid": "6000C29...", "lun_uuid": null}]
    scsi_controllers:
      description: SCSI controllers with key, bus number and type (V(lsilogic), V(lsilogic-sas), V(pvscsi), V(buslogic)).
      type: list
      elements: dict
      sample: [{"key": 1000, "bus": 0, "type": "lsilogic"}]
    datastores:
      description: Names of the datastores holding the VM's disks.
      type: list
      elements: str
      sample: [vmfs-01]
    snapshot_count:
      description: Number of snapshots.
      type: int
      sample: 0
    disk_enable_uuid:
      description: Whether C(disk.EnableUUID) is true.
      type: bool
      sample: true
    tools_status:
      description: VMware Tools status (V(toolsOk), V(toolsOld), V(toolsNotRunning), V(toolsNotInstalled)).
      type: str
      sample: toolsOk
    tools_running_status:
      description: VMware Tools running status.
      type: str
      sample: guestToolsRunning
master_targets:
  description: >-
    One entry per requested master target, with every key of RV(vms) plus the master target checks.
  returned: success
  type: list
  elements: dict
  contains:
    disk_count:
      description: Disks attached to the master target.
      type: int
      sample: 12
    disk_limit:
      description: The most disks a master target may have attached (60).
      type: int
      sample: 60
    disk_slots_left:
      description: Disks that can still be attached within the limit.
      type: int
      sample: 48
    has_lsi_logic_controller:
      description: Whether the master target has an LSI Logic (parallel or SAS) controller.
      type: bool
      sample: true
    only_lsi_logic_controllers:
      description: Whether every SCSI controller is LSI Logic (no Paravirtual SCSI).
      type: bool
      sample: true
    tools_installed:
      description: Whether VMware Tools are installed.
      type: bool
      sample: true
reachability:
  description: For each VM and master target pair, which of the VM's datastores the master target's host mounts.
  returned: success
  type: list
  elements: dict
  contains:
    vm:
      description: VM name.
      type: str
      sample: app01
    master_target:
      description: Master target name.
      type: str
      sample: mt-win01
    reachable:
      description: The VM's datastores the master target's host mounts.
      type: list
      elements: str
      sample: [vmfs-01]
    unreachable:
      description: The VM's datastores the master target's host does not mount.
      type: list
      elements: str
      sample: []
    all_reachable:
      description: Whether every datastore of the VM is reachable.
      type: bool
      sample: true
property_reads:
  description: Property-collector calls made (six, whatever the number of VMs).
  returned: success
  type: int
  sample: 6
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 0.4
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import facts
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory


def gather(module):
    client = module.vsphere()
    inventory = Inventory(client)
    wanted_vms = module.params["vms"]
    wanted_mts = module.params["master_targets"]
    found = inventory.find_vms(list(dict.fromkeys(wanted_vms + wanted_mts)))
    vms = [facts.vm_facts(inventory, found[name]) for name in wanted_vms]
    mts = [facts.master_target_facts(inventory, found[name]) for name in wanted_mts]
    return {
        "changed": False,
        "vms": vms,
        "master_targets": mts,
        "reachability": [facts.reachability(vm, mt) for vm in vms for mt in mts],
        "property_reads": client.stats["property_reads"],
    }


def main():
    spec = {
        "vms": {"type": "list", "elements": "str", "default": []},
        "master_targets": {"type": "list", "elements": "str", "default": []},
    }
    module = FailbackModule(spec, vsphere=True, supports_check_mode=True)
    module.run(gather)


if __name__ == "__main__":
    main()
