# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plain facts from property-collector rows: disks, controllers, host memory, datastores.

Pure functions over rows (dicts of pyVmomi data objects), unit-tested without a server.
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim

MB = 1024 * 1024
GB = 1024 * MB
_DATASTORE_RE = re.compile(r"^\[([^\]]+)\]")
LINUX_GUESTS = ("rhel", "centos", "ubuntu", "debian", "sles", "oracle", "linux", "other26xLinux", "other3xLinux",
                "other4xLinux", "otherLinux", "fedora", "asianux", "mandriva", "opensuse", "suse", "rocky", "alma",
                "amazonlinux", "coreos", "photon", "vmwarePhoton")


def controller_type(device):
    """'lsilogic', 'lsilogic-sas', 'pvscsi', 'buslogic' or 'other' for a SCSI controller."""
    if isinstance(device, vim.vm.device.VirtualLsiLogicSASController):
        return "lsilogic-sas"
    if isinstance(device, vim.vm.device.VirtualLsiLogicController):
        return "lsilogic"
    if isinstance(device, vim.vm.device.ParaVirtualSCSIController):
        return "pvscsi"
    if isinstance(device, vim.vm.device.VirtualBusLogicController):
        return "buslogic"
    return "other"


def is_lsi_logic(type_name):
    return type_name in ("lsilogic", "lsilogic-sas")


def datastore_of_file(file_name):
    match = _DATASTORE_RE.match(file_name or "")
    return match.group(1) if match else None


def controllers(devices):
    return [{"key": dev.key, "bus": dev.busNumber, "type": controller_type(dev)}
            for dev in devices or [] if isinstance(dev, vim.vm.device.VirtualSCSIController)]


def disks(devices, datastore_types=None):
    """Every virtual disk: key, file, size, backing (flat/rdm), datastore, controller, unit, uuid."""
    by_key = {c["key"]: c for c in controllers(devices)}
    result = []
    for dev in devices or []:
        if not isinstance(dev, vim.vm.device.VirtualDisk):
            continue
        backing = dev.backing
        rdm = isinstance(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo)
        file_name = getattr(backing, "fileName", None)
        datastore = datastore_of_file(file_name)
        controller = by_key.get(dev.controllerKey, {"key": dev.controllerKey, "bus": None, "type": "other"})
        result.append({
            "key": dev.key, "file": file_name, "size_gb": round((dev.capacityInKB or 0) / (1024.0 * 1024.0), 3),
            "backing": "rdm" if rdm else "flat", "datastore": datastore,
            "datastore_type": (datastore_types or {}).get(datastore), "controller_key": dev.controllerKey,
            "controller_bus": controller["bus"], "controller_type": controller["type"], "unit": dev.unitNumber,
            "uuid": getattr(backing, "uuid", None) if not rdm else None,
            "lun_uuid": getattr(backing, "lunUuid", None) if rdm else None,
        })
    return result


def extra_config(options):
    return {opt.key: opt.value for opt in options or []}


def enable_uuid(options):
    return str(extra_config(options).get("disk.EnableUUID", "")).lower() == "true"


def os_family(row):
    family = str(row.get("guest.guestFamily") or "")
    guest = str(row.get("config.guestId") or "")
    if family.startswith("windows") or guest.lower().startswith("win"):
        return "windows"
    if family.startswith("linux") or guest.lower().startswith(tuple(g.lower() for g in LINUX_GUESTS)):
        return "linux"
    return "other"


def snapshot_count(snapshot_info):
    if snapshot_info is None:
        return 0
    count = 0
    stack = list(snapshot_info.rootSnapshotList or [])
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.childSnapshotList or [])
    return count


def datastore_facts(row):
    return {
        "name": row["name"], "moid": row["moid"], "type": str(row.get("summary.type") or "other"),
        "capacity_gb": round((row.get("summary.capacity") or 0) / float(GB), 1),
        "free_gb": round((row.get("summary.freeSpace") or 0) / float(GB), 1),
        "accessible": bool(row.get("summary.accessible")),
    }


def host_facts(inventory, host_row):
    cluster = inventory.cluster_of(host_row)
    datacenter = inventory.datacenter_of(inventory.compute_of(host_row) or host_row)
    total = (host_row.get("summary.hardware.memorySize") or 0) // MB
    used = host_row.get("summary.quickStats.overallMemoryUsage") or 0
    return {
        "name": host_row["name"], "moid": host_row["moid"], "cluster": cluster["name"] if cluster else None,
        "datacenter": datacenter["name"] if datacenter else None, "managed_by_vcenter": inventory.is_vcenter,
        "connection_state": str(host_row.get("runtime.connectionState")),
        "maintenance_mode": bool(host_row.get("runtime.inMaintenanceMode")),
        "memory_total_mb": total, "memory_used_mb": used, "memory_free_mb": max(0, total - used),
        "datastores": sorted((datastore_facts(d) for d in inventory.datastore_rows(host_row.get("datastore"))),
                             key=lambda d: d["name"]),
    }


def vm_facts(inventory, row):
    types = {d["name"]: str(d.get("summary.type") or "other") for d in inventory.datastores.values()}
    devices = row.get("config.hardware.device")
    host = inventory.host_of(row)
    vm_disks = disks(devices, types)
    return {
        "name": row["name"], "moid": row["moid"], "instance_uuid": row.get("config.instanceUuid"),
        "bios_uuid": row.get("config.uuid"), "power_state": str(row.get("runtime.powerState")),
        "guest_id": row.get("config.guestId"), "guest_full_name": row.get("config.guestFullName"),
        "os_family": os_family(row), "num_cpu": row.get("config.hardware.numCPU"),
        "memory_mb": row.get("config.hardware.memoryMB"), "firmware": row.get("config.firmware"),
        "host": host_facts(inventory, host) if host else None,
        "disks": vm_disks, "scsi_controllers": controllers(devices),
        "datastores": sorted({d["datastore"] for d in vm_disks if d["datastore"]}),
        "snapshot_count": snapshot_count(row.get("snapshot")),
        "disk_enable_uuid": enable_uuid(row.get("config.extraConfig")),
        "tools_status": str(row.get("guest.toolsStatus")) if row.get("guest.toolsStatus") is not None else None,
        "tools_running_status": row.get("guest.toolsRunningStatus"),
    }


def master_target_facts(inventory, row):
    facts = vm_facts(inventory, row)
    types = [c["type"] for c in facts["scsi_controllers"]]
    facts.update({
        "disk_count": len(facts["disks"]), "disk_limit": limits.MASTER_TARGET_DISK_LIMIT,
        "disk_slots_left": max(0, limits.MASTER_TARGET_DISK_LIMIT - len(facts["disks"])),
        "has_lsi_logic_controller": any(is_lsi_logic(t) for t in types),
        "only_lsi_logic_controllers": bool(types) and all(is_lsi_logic(t) for t in types),
        "tools_installed": facts["tools_status"] not in (None, "toolsNotInstalled"),
    })
    return facts


def reachability(vm, master_target):
    """Which of the VM's datastores the master target's host mounts."""
    mounted = {d["name"] for d in (master_target.get("host") or {}).get("datastores", [])}
    wanted = vm["datastores"]
    return {"vm": vm["name"], "master_target": master_target["name"],
            "reachable": [d for d in wanted if d in mounted], "unreachable": [d for d in wanted if d not in mounted],
            "all_reachable": all(d in mounted for d in wanted)}
