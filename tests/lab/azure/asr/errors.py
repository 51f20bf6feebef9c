# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ASR's documented job errors (asr-api.md section 6, failback-domain.md), raised in job tasks.

Numeric codes are the documented ones (78093; 78052, 8061 and 8038 come from the vCenter
effects). Conditions the docs describe without a number get a name as the service code and
a lab provider code (see ``jobs.LAB_PROVIDER_CODES``): that choice is the lab's.
"""

from ..jobs import JobFailed


def cs_not_running(cs):
    return JobFailed("ConfigurationServerNotRunning",
                     "The configuration server '%s' is not running or not connected to the vault (service status: %s)."
                     % (cs["name"], cs["service_status"]),
                     "The configuration server is stopped, or it cannot reach the vault.",
                     "Start the configuration server's services and make sure it is connected and healthy, then retry.")


def not_in_cs_database(item, cs):
    return JobFailed("VmNotInConfigurationServerDatabase",
                     "The virtual machine '%s' was not found in the database of the configuration server '%s'."
                     % (item["name"], cs["name"]),
                     "The configuration server was rebuilt or restored without this machine.",
                     "Restore the configuration server with the same IP address from a backup that knows the machine.")


def os_not_supported(item):
    return JobFailed("FailbackNotSupportedForOs",
                     "The physical server '%s' runs %s, which cannot be failed back." % (item["name"], item["spec"]["os_name"]),
                     "Failback of a physical server running Windows Server 2008 R2 SP1 is not supported.",
                     "Keep the machine in Azure or migrate it another way.")


def azure_vm_missing(item, moved_to=None):
    avm = item["azure_vm"] or {}
    where = ("It was moved to the resource group '%s'." % moved_to) if moved_to else "It was deleted."
    return JobFailed("AzureVmNotFound",
                     "The failed-over Azure virtual machine '%s' was not found in the resource group '%s'. %s"
                     % (avm.get("name", item["name"]), avm.get("resource_group", "?"), where),
                     "Failback is not possible after the Azure VM was moved to another resource group or deleted.",
                     "Move the VM back to its original resource group; a deleted VM cannot be failed back.")


def azure_vm_not_running(item, state):
    return JobFailed("78093",
                     "The Azure virtual machine '%s' is %s, so the Mobility service cannot register for reprotect."
                     % (item["name"], state),
                     "The VM is stopped, hung or unreachable.",
                     "Start (or restart) the Azure VM, then retry the reprotect.")


def vcenter_not_connected(name):
    return JobFailed("VCenterNotConnected",
                     "The vCenter server '%s' is not connected to the configuration server; disks cannot be detached or "
                     "attached." % name,
                     "The vCenter server is unreachable or its credentials are no longer valid.",
                     "Reconnect the vCenter server (check the run-as account) and retry.")


def master_target_os_mismatch(item, mt):
    return JobFailed("MasterTargetOsMismatch",
                     "The master target '%s' runs %s but the virtual machine '%s' runs %s."
                     % (mt["name"], mt["os"], item["name"], item["spec"]["os"]),
                     "Windows VMs need a Windows master target and Linux VMs a Linux one.",
                     "Choose a master target with the same operating system family.")


def no_recovery_point(item, kind="recovery point"):
    return JobFailed("NoRecoveryPoint",
                     "The virtual machine '%s' has no %s yet, so it cannot fail over." % (item["name"], kind),
                     "Initial replication has not finished, or no point of that type was generated yet.",
                     "Wait until the item has a recovery point of the requested type, then retry.")


def recovery_point_not_found(item, point_id):
    return JobFailed("RecoveryPointNotFound",
                     "The recovery point '%s' of the virtual machine '%s' was not found." % (point_id, item["name"]),
                     "The point expired from the retention window or belongs to another item.",
                     "List the item's recovery points and choose one of them.")


def agent_not_registered(item, seconds_left):
    return JobFailed("AgentNotRegistered",
                     "The Mobility service agent on '%s' is not installed or has not registered with the configuration "
                     "server yet." % item["name"],
                     "After the on-premises VM boots, its agent can take up to 15 minutes to register "
                     "(about %d more seconds in this lab)." % max(0, int(seconds_left + 0.999)),
                     "Wait a few minutes and retry the reprotect.")


def appliance_not_healthy(appliance, health, age):
    return JobFailed("ApplianceNotHealthy",
                     "The replication appliance '%s' is %s (last heartbeat %d seconds ago); it cannot reprotect or fail "
                     "back virtual machines." % (appliance["name"], health, age),
                     "The appliance's services are stopped, it lost connectivity to Azure, or it is overloaded.",
                     "Repair the appliance, or retry the job on another healthy appliance.")


def appliance_disk_limit(appliance, used, adding, limit):
    return JobFailed("ApplianceDiskLimitReached",
                     "The replication appliance '%s' replicates %d disks; %d more would exceed its limit of %d."
                     % (appliance["name"], used, adding, limit),
                     "An appliance can replicate a limited number of disks back to on-premises.",
                     "Choose another appliance, or wait until other failbacks are committed.")


def master_target_without_datastores(item, mt):
    return JobFailed("MasterTargetHasNoDatastores",
                     "The master target '%s' (the configuration server) has no datastores; it cannot hold the disks of "
                     "'%s'." % (mt["name"], item["name"]),
                     "The configuration server is listed as a master target, but failback disks need a master target "
                     "VM on an ESXi host that mounts the datastores.",
                     "Choose a scale-out master target VM on the vCenter server.")
