# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Response bodies of Site Recovery resources (asr-api.md sections 3 to 5), from the World.

Every body deserialises into the SDK's models with no unknown keys (the tests check it)."""

import re
import time

from ..compute import iso
from . import serialize_modern as modern
from .state import FAILBACK_STAGES

AZURE = "Microsoft Azure"
NO_SCENARIO = {"scenarioName": "None", "startTime": "1753-01-01T01:01:01Z"}
T = "Microsoft.RecoveryServices/vaults/"


def _ago(seconds):
    return iso(time.time() - float(seconds))


def _version_details(version, status="Supported"):
    return {"version": version, "expiryDate": _ago(-365 * 86400), "status": status}


def _health_error(code, summary, message, level="Error", causes="", action="", category="Configuration"):
    return {"errorSource": "ConfigurationServer", "errorType": code, "errorLevel": level, "errorCategory": category,
            "errorCode": code, "summaryMessage": summary, "errorMessage": message, "possibleCauses": causes,
            "recommendedAction": action, "creationTimeUtc": iso(), "customerResolvability": "Allowed", "innerHealthErrors": []}


def resource(world, arm_id, type_suffix, props):
    return {"id": arm_id, "name": arm_id.rsplit("/", 1)[1], "type": T + type_suffix,
            "location": world.spec["azure"]["location"], "properties": props}


# ---------------------------------------------------------------------- fabric and infrastructure
def mt_datastores(world, mt):
    """The datastores the master target's host mounts that failback can use (VMFS and vSAN; NFS is never listed)."""
    result = []
    for dc in world.spec["vcenter"]["datacenters"]:
        for ds in dc["datastores"]:
            if mt["host"] in ds["hosts"] and ds["type"].lower() in ("vmfs", "vsan"):
                result.append({"symbolicName": ds["name"], "uuid": "%08x-%s" % (abs(hash(ds["name"])) % 2 ** 32, mt["id"][9:]),
                               "capacity": str(ds["capacity_gb"]), "freeSpace": str(ds["free_gb"]),
                               "type": "VMFS" if ds["type"].lower() == "vmfs" else "vsan"})
    return result


def _mt_disk_count(world, mt):
    vm = world.vms.get(mt["vm"])
    count = len(vm["disks"]) if vm else 1
    for item in world.items.values():
        if item["stage"] in ("reprotecting_to_onprem", "replicating_to_onprem") and item["master_target"] == mt["vm"]:
            count += len(item["spec"]["disk_sizes_gb"])
    return count


def _process_server(world, ps):
    return {"friendlyName": ps["name"], "id": ps["id"], "ipAddress": ps["ip"], "osType": "Windows",
            "agentVersion": world.asr["configuration_server"]["version"], "lastHeartbeat": _ago(ps["heartbeat_age_seconds"]),
            "versionStatus": ps["version_status"], "hostId": ps["id"].lower(),
            "machineCount": str(sum(1 for i in world.items.values() if i["process_server_id"] == ps["id"])),
            "replicationPairCount": "0", "systemLoad": "2", "systemLoadStatus": "Green", "cpuLoad": "12",
            "cpuLoadStatus": "Green", "totalMemoryInBytes": 17179869184, "availableMemoryInBytes": 9663676416,
            "memoryUsageStatus": "Green", "totalSpaceInBytes": 1099511627776, "availableSpaceInBytes": 824633720832,
            "spaceUsageStatus": "Green", "psServiceStatus": ps["service_status"], "sslCertExpiryDate": _ago(-700 * 86400),
            "sslCertExpiryRemainingDays": 700, "osVersion": "Windows Server 2016", "healthErrors": [],
            "agentExpiryDate": _ago(-365 * 86400),
            "agentVersionDetails": _version_details(world.asr["configuration_server"]["version"], ps["version_status"]),
            "health": ps["health"], "psStatsRefreshTime": _ago(60), "throughputUploadPendingDataInBytes": 0,
            "throughputInMBps": 0, "throughputInBytes": 0, "throughputStatus": "Green",
            "marsCommunicationStatus": "Connected", "marsRegistrationStatus": "Registered", "mobilityServiceUpdates": []}


def _retention_errors(mt):
    """A retention volume on FAT/FAT32 is listed with a validation error naming it (the lab's choice: the
    RetentionVolume model has no file-system field)."""
    return [_health_error("RetentionVolumeFileSystemNotSupported", "The retention volume is not supported.",
                          "The retention volume '%s' of the master target '%s' uses the %s file system, which cannot "
                          "hold retention data." % (v["name"], mt["name"], v["file_system"]), level="Warning",
                          action="Use an NTFS (Windows) or ext4/XFS (Linux) volume for retention.")
            for v in mt["retention_volumes"] if v["file_system"].upper() in ("FAT", "FAT32")]


def _master_target(world, mt, index):
    return {"id": mt["id"], "ipAddress": "10.0.0.%d" % (30 + index), "name": mt["name"], "osType": mt["os"],
            "agentVersion": mt["version"], "lastHeartbeat": _ago(mt["heartbeat_age_seconds"]),
            "versionStatus": mt["version_status"],
            "retentionVolumes": [{"volumeName": v["name"], "capacityInBytes": int(v["capacity_gb"] * 1024 ** 3),
                                  "freeSpaceInBytes": int(v["free_gb"] * 1024 ** 3), "thresholdPercentage": 80}
                                 for v in mt["retention_volumes"]],
            "dataStores": mt_datastores(world, mt), "validationErrors": _retention_errors(mt), "healthErrors": [],
            "diskCount": _mt_disk_count(world, mt),
            "osVersion": "Windows Server 2019" if mt["os"] == "Windows" else "Red Hat Enterprise Linux 8",
            "agentExpiryDate": _ago(-365 * 86400), "marsAgentVersion": "2.0.9249.0", "marsAgentExpiryDate": _ago(-365 * 86400),
            "agentVersionDetails": _version_details(mt["version"], mt["version_status"]),
            "marsAgentVersionDetails": _version_details("2.0.9249.0")}


def fabric(world):
    if world.modernized:
        health, errors = modern.fabric_health(world)
        props = {"friendlyName": world.asr["configuration_server"]["name"], "bcdrState": "Valid",
                 "internalIdentifier": world.asr["fabric_name"][:36], "customDetails": modern.fabric_details(world),
                 "healthErrorDetails": errors, "health": health}
        return resource(world, world.fabric_id, "replicationFabrics", props)
    cs = world.asr["configuration_server"]
    running = cs["service_status"] == "Running"
    details = {
        "instanceType": "VMware", "processServers": [_process_server(world, p) for p in world.asr["process_servers"]],
        "masterTargetServers": [_master_target(world, m, i) for i, m in enumerate(world.asr["master_targets"])],
        "runAsAccounts": [{"accountId": a["id"], "accountName": a["name"]} for a in world.asr["run_as_accounts"]],
        "replicationPairCount": str(len(world.items)), "processServerCount": str(len(world.asr["process_servers"])),
        "agentCount": str(len(world.items)), "protectedServers": str(len(world.items)),
        "systemLoad": "1", "systemLoadStatus": "Green", "cpuLoad": "8", "cpuLoadStatus": "Green",
        "totalMemoryInBytes": 17179869184, "availableMemoryInBytes": 8589934592, "memoryUsageStatus": "Green",
        "totalSpaceInBytes": 1099511627776, "availableSpaceInBytes": 549755813888, "spaceUsageStatus": "Green",
        "webLoad": "0", "webLoadStatus": "Green", "databaseServerLoad": "0", "databaseServerLoadStatus": "Green",
        "csServiceStatus": cs["service_status"], "ipAddress": cs["ip"], "agentVersion": cs["version"], "hostName": cs["name"],
        "lastHeartbeat": _ago(cs["heartbeat_age_seconds"]), "versionStatus": cs["version_status"],
        "sslCertExpiryDate": _ago(-700 * 86400), "sslCertExpiryRemainingDays": 700, "psTemplateVersion": "1.0.0.0",
        "agentExpiryDate": _ago(-365 * 86400), "agentVersionDetails": _version_details(cs["version"], cs["version_status"]),
        "switchProviderBlockingErrorDetails": []}
    errors = [] if running else [_health_error(
        "ConfigurationServerNotRunning", "The configuration server is not running.",
        "The configuration server '%s' services are %s." % (cs["name"], cs["service_status"]), level="Critical",
        action="Start the configuration server's services.")]
    props = {"friendlyName": cs["name"], "internalIdentifier": world.asr["fabric_name"][:36], "bcdrState": "Valid",
             "customDetails": details, "healthErrorDetails": errors, "health": "Normal" if running else "Critical"}
    return resource(world, world.fabric_id, "replicationFabrics", props)


def vcenter(world, entry):
    onprem = world.process_servers("onprem") or world.process_servers()
    errors = [] if entry["connected"] else [_health_error(
        "VCenterNotConnected", "The vCenter server is not connected.",
        "The configuration server cannot connect to '%s'." % entry["name"], causes="The server is unreachable or the "
        "run-as account's credentials changed.", action="Reconnect the vCenter server.")]
    props = {"friendlyName": entry["name"], "internalId": entry["internal_id"],
             "lastHeartbeat": _ago(entry["heartbeat_age_seconds"]), "discoveryStatus": entry["discovery_status"],
             "processServerId": onprem[0]["id"] if onprem else None, "ipAddress": entry["ip"],
             "infrastructureId": entry["internal_id"], "port": "443", "runAsAccountId": entry["run_as_account"],
             "fabricArmResourceName": world.asr["fabric_name"], "healthErrors": errors}
    return resource(world, "%s/replicationvCenters/%s" % (world.fabric_id, entry["name"]),
                    "replicationFabrics/replicationvCenters", props)


def container(world):
    cs = world.asr["configuration_server"]
    props = {"fabricFriendlyName": cs["name"], "friendlyName": cs["name"],
             "fabricType": "InMageRcm" if world.modernized else "VMware", "protectedItemCount": len(world.items),
             "pairingStatus": "Paired", "role": "Primary"}
    return resource(world, world.container_id, "replicationFabrics/replicationProtectionContainers", props)


def mappings(world):
    cs = world.asr["configuration_server"]["name"]
    result = []
    for policy in world.asr["policies"]:
        forward = policy["provider"] in ("InMageAzureV2", "InMageRcm")
        props = {"targetProtectionContainerId": AZURE if forward else world.container_id,
                 "targetProtectionContainerFriendlyName": AZURE if forward else cs, "health": "Normal",
                 "healthErrorDetails": [], "policyId": policy["id"], "state": "Paired",
                 "sourceProtectionContainerFriendlyName": cs, "sourceFabricFriendlyName": cs,
                 "targetFabricFriendlyName": AZURE if forward else cs, "policyFriendlyName": policy["name"]}
        arm_id = "%s/replicationProtectionContainerMappings/%s-mapping" % (world.container_id, policy["name"])
        result.append(resource(world, arm_id, "replicationFabrics/replicationProtectionContainers/"
                                              "replicationProtectionContainerMappings", props))
    return result


def policy(world, entry):
    if entry["provider"] in ("InMageRcm", "InMageRcmFailback"):
        return resource(world, entry["id"], "replicationPolicies",
                        {"friendlyName": entry["name"], "providerSpecificDetails": modern.policy_details(entry)})
    details = {"instanceType": entry["provider"], "recoveryPointThresholdInMinutes": entry["rpo_threshold_minutes"],
               "recoveryPointHistory": entry["recovery_point_history_minutes"],
               "appConsistentFrequencyInMinutes": entry["app_consistent_frequency_minutes"], "multiVmSyncStatus": "Enabled"}
    if entry["provider"] == "InMageAzureV2":
        details["crashConsistentFrequencyInMinutes"] = 5
    return resource(world, entry["id"], "replicationPolicies",
                    {"friendlyName": entry["name"], "providerSpecificDetails": details})


# ---------------------------------------------------------------------- recovery points
def point_id(item, point):
    return "%s/recoveryPoints/%s" % (item["id"], point["name"])


def recovery_point(world, item, point):
    props = {"recoveryPointTime": point["time"], "recoveryPointType": point["type"]}
    if world.modernized and modern.recovery_point_details(world, item):
        props["providerSpecificDetails"] = modern.recovery_point_details(world, item)
    elif world.provider(item) == "InMageAzureV2":
        props["providerSpecificDetails"] = {"instanceType": "InMageAzureV2",
                                            "isMultiVmSyncPoint": "True" if item["spec"]["replication_group"] else "False"}
    return resource(world, point_id(item, point),
                    "replicationFabrics/replicationProtectionContainers/replicationProtectedItems/recoveryPoints", props)


# ---------------------------------------------------------------------- protected items
def _source(world, item):
    """cpu, memory, firmware, datastores, disks (GB), MACs of the on-prem machine."""
    vm = world.source_vm(item)
    if vm is not None:
        return {"cpu": vm["num_cpu"], "memory": vm["memory_mb"], "firmware": "UEFI" if vm["firmware"] == "efi" else "BIOS",
                "datastores": sorted({d["datastore"] for d in vm["disks"] if d.get("datastore")}),
                "macs": [n["mac"] for n in vm["nics"]], "network": vm["nics"][0]["network"] if vm["nics"] else "VM Network"}
    size = (item["azure_vm"] or {}).get("size", "Standard_D4s_v5")
    digits = re.search(r"(\d+)", size)
    cpu = int(digits.group(1)) if digits else 4
    return {"cpu": cpu, "memory": cpu * 4096, "firmware": "BIOS", "datastores": [],
            "macs": ["00:15:5d:%02x:00:01" % (abs(hash(item["name"])) % 256)], "network": "VM Network"}


def _pad(values, count):
    return (list(values) + [None] * count)[:count]


def _disk_guid(item, index):
    return "%s-%04d" % (item["vm_id"][:31], index)


def _common(world, item):
    provider, state, description, active = world.stage_row(item)[:4]
    if item["failed_scenario"] == "UnplannedFailover" and item["stage"] in ("replicating_to_onprem", "replicating_to_azure",
                                                                            "reprotected_to_azure"):
        state, description = "UnplannedFailoverFailed", "Failover failed"
    if item["spec"]["migration_completed"]:
        state, description = "MigrationCompleted", "Migration completed"
    cs = world.asr["configuration_server"]["name"]
    in_db = item["spec"]["in_cs_database"]
    failback = item["stage"] in FAILBACK_STAGES
    policy_id = item["failback_policy_id"] if failback else item["forward_policy_id"]
    job = world.jobs.get(item["current_job"]) if item["current_job"] else None
    scenario = dict(NO_SCENARIO, jobId=world.vault_id + "/replicationJobs/None")
    if job is not None:
        scenario = {"scenarioName": job.scenario, "jobId": job.id, "startTime": iso(job.start)}
    props = {
        "friendlyName": item["name"], "protectedItemType": "PhysicalMachine" if item["spec"]["source"] == "physical"
        else "VMwareVirtualMachine", "protectableItemId": "%s/replicationProtectableItems/%s" % (world.container_id,
                                                                                                 item["vm_id"]),
        "recoveryServicesProviderId": "%s/replicationRecoveryServicesProviders/%s" % (world.fabric_id, item["vm_id"][:8]),
        "primaryFabricFriendlyName": cs, "primaryFabricProvider": "InMageFabric",
        "recoveryFabricFriendlyName": cs if failback else AZURE, "recoveryFabricId": world.fabric_id if failback else AZURE,
        "primaryProtectionContainerFriendlyName": cs, "recoveryProtectionContainerFriendlyName": cs if failback else AZURE,
        "protectionState": state, "protectionStateDescription": description, "activeLocation": active,
        "testFailoverState": "None", "testFailoverStateDescription": "None", "switchProviderState": "None",
        "switchProviderStateDescription": "None", "allowedOperations": world.allowed_operations(item),
        "replicationHealth": "Normal" if in_db else "Critical", "failoverHealth": "Normal" if in_db else "Critical",
        "healthErrors": [] if in_db else [_health_error(
            "VmNotInConfigurationServerDatabase", "The machine is not in the configuration server's database.",
            "The virtual machine '%s' was not found in the database of the configuration server '%s'." % (item["name"], cs),
            level="Critical", causes="The configuration server was rebuilt or restored without this machine.",
            action="Restore the configuration server with the same IP address from a backup that knows the machine.",
            category="Replication")], "policyId": policy_id,
        "policyFriendlyName": policy_id.rsplit("/", 1)[1], "currentScenario": scenario,
        "recoveryContainerId": world.container_id if failback else AZURE, "eventCorrelationId": item["vm_id"]}
    props["lastSuccessfulFailoverTime"] = iso(item["last_failover_time"]) if item["last_failover_time"] else None
    # present on every item, as recorded: empty until a failover chose a point
    props["failoverRecoveryPointId"] = item["failover_point_id"] or ""
    return props, provider


def _replication_stats(world, item, points):
    now = time.time()
    latest = points[0] if points else None
    rpo = int(now - latest["epoch"]) if latest else 0
    return latest, rpo


def _inmage_azure_v2(world, item, points):
    spec = item["spec"]
    src = _source(world, item)
    avm = item["azure_vm"] or {}
    sub = world.spec["azure"]["subscription_id"]
    rg = avm.get("resource_group", "rg-recovery")
    failed_over = item["stage"] in ("failed_over_to_azure", "running_in_azure")
    onprem_ps = world.process_servers("onprem") or world.process_servers()
    latest, rpo = _replication_stats(world, item, points)
    disks = spec["disk_sizes_gb"]
    target_disks = [avm.get("os_disk"), *list(avm.get("data_disk_list", []))] if avm else []
    details = {
        "instanceType": "InMageAzureV2", "infrastructureVmId": spec["infrastructure_vm_id"],
        "vCenterInfrastructureId": "9" if spec["source"] != "physical" else None, "protectionStage": "DifferentialSync",
        "vmId": item["vm_id"], "vmProtectionState": "Protected" if not failed_over else "FailedOver",
        "vmProtectionStateDescription": "Protected" if not failed_over else "Failed over",
        "resyncProgressPercentage": 100, "rpoInSeconds": rpo, "compressedDataRateInMB": 0.0,
        "uncompressedDataRateInMB": 0.0, "ipAddress": "10.0.1.%d" % (10 + list(world.items).index(item["name"])),
        "agentVersion": world.asr["configuration_server"]["version"], "agentExpiryDate": iso(time.time() + 365 * 86400),
        "isAgentUpdateRequired": "NotRequired", "isRebootAfterUpdateRequired": "NotRequired", "lastHeartbeat": _ago(30),
        "processServerId": onprem_ps[0]["id"] if onprem_ps else None,
        "processServerName": onprem_ps[0]["name"] if onprem_ps else None,
        "multiVmGroupId": spec["multi_vm_group_id"], "multiVmGroupName": spec["multi_vm_group_name"],
        "multiVmSyncStatus": "Enabled" if spec["replication_group"] else "Disabled",
        "protectedDisks": [{"diskId": _disk_guid(item, i), "diskName": "Disk%d" % i, "protectionStage": "DifferentialSync",
                            "rpoInSeconds": rpo, "resyncRequired": "false", "resyncProgressPercentage": 100,
                            "diskCapacityInBytes": int(size * 1024 ** 3), "progressHealth": "None",
                            "progressStatus": "Completed"} for i, size in enumerate(disks)],
        "diskResized": "false", "masterTargetId": onprem_ps[0]["id"] if onprem_ps else None,
        "sourceVmCpuCount": src["cpu"], "sourceVmRamSizeInMB": src["memory"], "osType": spec["os"],
        "vhdName": "\\\\.\\PHYSICALDRIVE0" if spec["os"] == "Windows" else "/dev/sda", "osDiskId": _disk_guid(item, 0),
        "azureVMDiskDetails": [{"vhdType": "OperatingSystem" if i == 0 else "DataDisk", "vhdId": _disk_guid(item, i),
                                "diskId": _disk_guid(item, i), "vhdName": "Disk%d" % i, "maxSizeMB": str(int(size * 1024)),
                                "targetDiskLocation": target_disks[i]["id"] if i < len(target_disks) else None,
                                "targetDiskName": target_disks[i]["name"] if i < len(target_disks) else None,
                                "lunId": str(i - 1) if i else "-1"} for i, size in enumerate(disks)],
        "recoveryAzureVMName": avm.get("name", item["name"]), "recoveryAzureVMSize": avm.get("size", "Standard_D4s_v5"),
        "recoveryAzureLogStorageAccountId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/"
                                            "storageAccounts/asrcache%s" % (sub, world.asr["resource_group"], item["vm_id"][:8]),
        "vmNics": [{"nicId": mac, "replicaNicId": nic["id"] if nic else None,
                    "recoveryNicName": nic["name"] if nic else None, "recoveryNicResourceGroupName": rg,
                    "vMNetworkName": src["network"], "selectionType": "SelectedByUser",
                    "recoveryVMNetworkId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
                                           "virtualNetworks/vnet-recovery" % (sub, rg),
                    "enableAcceleratedNetworkingOnRecovery": False, "reuseExistingNic": False,
                    "ipConfigs": [{"name": "ipconfig1", "isPrimary": True, "subnetName": "default", "ipAddressType": "Dynamic",
                                   "isSeletedForFailover": True, "recoverySubnetName": "default",
                                   "recoveryIPAddressType": "Dynamic"}]}
                   for mac, nic in zip(src["macs"], _pad(avm.get("nics") or [], len(src["macs"])), strict=True)],
        "selectedRecoveryAzureNetworkId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/"
                                          "vnet-recovery" % (sub, rg),
        "discoveryType": "Physical" if spec["source"] == "physical" else "vCenter", "enableRdpOnTargetOption": "Never",
        "datastores": src["datastores"],
        "targetVmId": avm["recorded_id"] if failed_over and avm else
        "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/" % (sub, rg),
        "recoveryAzureResourceGroupId": "/subscriptions/%s/resourceGroups/%s" % (sub, rg),
        "useManagedDisks": "true", "licenseType": "NoLicenseType", "sqlServerLicenseType": "NotSpecified",
        "validationErrors": [], "lastRpoCalculatedTime": _ago(30), "lastUpdateReceivedTime": _ago(30),
        "replicaId": item["vm_id"], "osVersion": spec["os_name"], "osName": spec["os_name"],
        "protectedManagedDisks": [{"diskId": _disk_guid(item, i), "seedManagedDiskId": "/subscriptions/%s/resourceGroups/%s/"
                                   "providers/Microsoft.Compute/disks/asrseeddisk-%s-%d" % (sub, rg, item["name"], i),
                                   "replicaDiskType": "Premium_LRS",
                                   "targetDiskName": target_disks[i]["name"] if i < len(target_disks) else None}
                                  for i in range(len(disks))],
        "firmwareType": src["firmware"], "azureVmGeneration": "V2" if src["firmware"] == "UEFI" else "V1",
        "isAdditionalStatsAvailable": False, "totalDataTransferred": 0, "totalProgressHealth": "NoProgress",
        "targetVmTags": {}, "seedManagedDiskTags": {}, "targetManagedDiskTags": {}, "targetNicTags": {}}
    # keys the recorded InMageAzureV2 items carry, null (or absent a value) in the lab
    details.update({"lastRecoveryPointReceived": latest["time"] if latest else None, "recoveryAvailabilitySetId": None,
                    "recoveryAzureStorageAccount": None, "selectedSourceNicId": src["macs"][0] if src["macs"] else None,
                    "selectedTfoAzureNetworkId": None, "targetAvailabilityZone": None,
                    "targetProximityPlacementGroupId": None})
    return details


def _inmage(world, item, points):
    spec = item["spec"]
    src = _source(world, item)
    onprem = item["stage"] in ("failed_back", "failback_committed")
    rpo = _replication_stats(world, item, points)[1]
    resyncing = item["stage"] in ("reprotecting_to_onprem", "replicating_to_onprem") and not points
    stage_text = "Resync" if resyncing else ("DifferentialSync" if not onprem else "None")
    mt = world.master_target(item["master_target"])
    details = {
        "instanceType": "InMage", "activeSiteType": "OnPrem" if onprem else "Azure", "sourceVmCpuCount": src["cpu"],
        "sourceVmRamSizeInMB": src["memory"], "protectionStage": stage_text, "vmId": item["vm_id"],
        "vmProtectionState": world.stage_row(item)[1], "vmProtectionStateDescription": world.stage_row(item)[2],
        "resyncDetails": {"initialReplicationType": "InitialReplication",
                          "initialReplicationProgressPercentage": "0" if resyncing else "100"},
        "compressedDataRateInMB": 0.0, "uncompressedDataRateInMB": 0.0, "rpoInSeconds": rpo,
        "protectedDisks": [{"diskId": _disk_guid(item, i), "diskName": "Disk%d" % i, "protectionStage": stage_text,
                            "rpoInSeconds": rpo, "resyncRequired": "false", "resyncProgressPercentage": 0 if resyncing else 100,
                            "diskCapacityInBytes": int(size * 1024 ** 3), "progressHealth": "None"}
                           for i, size in enumerate(spec["disk_sizes_gb"])],
        "ipAddress": "10.0.1.%d" % (10 + list(world.items).index(item["name"])), "lastHeartbeat": _ago(30),
        "processServerId": item["process_server_id"],
        "masterTargetId": mt["id"] if mt and onprem else None,
        "consistencyPoints": {}, "diskResized": "false", "rebootAfterUpdateStatus": "NotRequired",
        "multiVmGroupId": spec["multi_vm_group_id"], "multiVmGroupName": spec["multi_vm_group_name"],
        "multiVmSyncStatus": "Enabled" if spec["replication_group"] else "Disabled",
        "agentDetails": {"agentVersion": world.asr["configuration_server"]["version"], "agentUpdateStatus": "NotRequired",
                         "postUpdateRebootStatus": "NotRequired", "agentExpiryDate": iso(time.time() + 365 * 86400)},
        "vCenterInfrastructureId": "9" if spec["source"] != "physical" else None,
        "infrastructureVmId": spec["infrastructure_vm_id"],
        "vmNics": [{"nicId": mac, "vMNetworkName": src["network"], "selectionType": "SelectedByUser"} for mac in src["macs"]],
        "discoveryType": "Physical" if spec["source"] == "physical" else "vCenter",
        "datastores": [item["datastore"]] if item["datastore"] else src["datastores"], "validationErrors": [],
        "lastRpoCalculatedTime": _ago(30), "lastUpdateReceivedTime": _ago(30), "replicaId": item["vm_id"],
        "osVersion": spec["os_name"], "isAdditionalStatsAvailable": False, "totalDataTransferred": 0,
        "totalProgressHealth": "NoProgress"}
    for point in points:
        details["consistencyPoints"].setdefault(point["type"], point["time"])
    # keys the recorded InMage items carry even when they have no value (null)
    details.update({"azureStorageAccountId": None, "retentionWindowStart": points[-1]["time"] if points else None,
                    "retentionWindowEnd": points[0]["time"] if points else None, "osDetails": None})
    if onprem:
        details["osDetails"] = {"osType": spec["os"], "osVhdId": _disk_guid(item, 0),
                                "vhdName": "[%s] %s/%s.vmdk" % (item["datastore"] or (src["datastores"] or ["?"])[0],
                                                                item["name"], item["name"])}
    return details


def protected_item(world, item):
    props, provider = _common(world, item)
    points = world.points(item)
    if provider == "InMageRcmFailback":
        props["primaryFabricProvider"] = "InMageRcmFabric"
        props["providerSpecificDetails"] = modern.inmage_rcm_failback(world, item, points, _source(world, item))
    elif provider == "InMageRcm":
        props["primaryFabricProvider"] = "InMageRcmFabric"
        props["providerSpecificDetails"] = modern.inmage_rcm(world, item, points, _source(world, item))
    else:
        props["providerSpecificDetails"] = (_inmage(world, item, points) if provider == "InMage"
                                            else _inmage_azure_v2(world, item, points))
    return resource(world, item["id"],
                    "replicationFabrics/replicationProtectionContainers/replicationProtectedItems", props)


# ---------------------------------------------------------------------- recovery plans
def recovery_plan(world, plan):
    groups = world.plan_items(plan)
    items = [i for g in groups for i in g]
    stages = {i["stage"] for i in items}
    job = world.jobs.get(plan["current_job"] or plan["last_job"] or "")
    running = plan["current_job"] is not None or any(i["current_job"] for i in items)
    if running or not items or len(stages) != 1:
        allowed = []
    elif world.modernized:
        allowed = list(modern.modern.MODERN_PLAN_OPERATIONS.get(stages.pop(), []))
    else:
        allowed = {"replicating_to_onprem": ["UnplannedFailover"], "failed_back": ["Commit"],
                   "replicating_to_azure": ["UnplannedFailover", "TestFailover"],
                   "reprotected_to_azure": ["UnplannedFailover", "TestFailover"],
                   "failed_over_to_azure": ["Commit"]}.get(stages.pop(), [])
    providers = sorted({world.provider(i) for i in items}) or ["InMageAzureV2"]
    props = {"friendlyName": plan["spec"]["name"], "primaryFabricId": world.fabric_id,
             "primaryFabricFriendlyName": world.asr["configuration_server"]["name"], "recoveryFabricId": AZURE,
             "recoveryFabricFriendlyName": AZURE, "failoverDeploymentModel": "ResourceManager",
             "replicationProviders": providers, "allowedOperations": allowed,
             "currentScenario": dict(NO_SCENARIO, jobId=world.vault_id + "/replicationJobs/None"),
             "currentScenarioStatus": "None", "currentScenarioStatusDescription": "None",
             "groups": [{"groupType": "Shutdown", "replicationProtectedItems": [], "startGroupActions": [],
                         "endGroupActions": []},
                        {"groupType": "Failover", "replicationProtectedItems": [], "startGroupActions": [],
                         "endGroupActions": []}] +
             [{"groupType": "Boot", "replicationProtectedItems": [
                 {"id": i["id"], "virtualMachineId": i["spec"]["infrastructure_vm_id"]} for i in group],
               "startGroupActions": [], "endGroupActions": []} for group in groups],
             "providerSpecificDetails": []}
    if job is not None:
        props["currentScenario"] = {"scenarioName": job.scenario, "jobId": job.id, "startTime": iso(job.start)}
        props["currentScenarioStatus"] = job.state
        props["currentScenarioStatusDescription"] = job.state_description
    if plan["last_unplanned"]:
        props["lastUnplannedFailoverTime"] = iso(plan["last_unplanned"])
    if plan.get("last_planned"):
        props["lastPlannedFailoverTime"] = iso(plan["last_planned"])
    return resource(world, plan["spec"]["id"], "replicationRecoveryPlans", props)
