# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Response bodies of Site Recovery resources (asr-api.md sections 3 to 5), from the World.

Every body deserialises into the SDK's models with no unknown keys (the tests check it)."""

import itertools
import re
import time
import uuid

from ..compute import iso
from . import serialize_modern as modern
from .state import FAILBACK_STAGES

AZURE = "Microsoft Azure"
NO_SCENARIO = {"scenarioName": "None", "startTime": "1753-01-01T01:01:01Z"}
T = "Microsoft.RecoveryServices/vaults/"


def _ago(seconds):
    return iso(time.time() - float(seconds))


NEVER_EXPIRES = "9999-12-31T23:59:59.9999999"  # ASR's agentExpiryDate of agents that do not expire (recorded)
NO_ENCRYPTION = {"kekState": "None", "kekCertThumbprint": None}
MOBILITY_UPDATES = [{"version": None, "rebootStatus": "NotRequired", "osType": "Windows"},
                    {"version": None, "rebootStatus": "NotRequired", "osType": "Linux"}]


def _version_details(version, status="Supported"):
    return {"version": version, "expiryDate": NEVER_EXPIRES, "status": status}


def _health_error(code, summary, message, level="Error", causes="", action="", category="Configuration"):
    """A HealthError with the keys and order ASR sends (fact 6; errorType/errorCode strings)."""
    return {"innerHealthErrors": [], "errorSource": "ConfigurationServer", "errorType": code, "errorLevel": level,
            "errorCategory": category, "errorCode": code, "summaryMessage": summary, "errorMessage": message,
            "possibleCauses": causes, "recommendedAction": action, "creationTimeUtc": iso(),
            "recoveryProviderErrorMessage": None, "entityId": None, "errorId": None, "customerResolvability": "Allowed"}


def resource(world, arm_id, type_suffix, props):
    """An ASR resource: id, name, type and properties; ASR sends no ``location`` (tests/recorded/asr, fact 19)."""
    return {"id": arm_id, "name": arm_id.rsplit("/", 1)[1], "type": T + type_suffix, "properties": props}


# ---------------------------------------------------------------------- fabric and infrastructure
def mt_datastores(world, mt):
    """The datastores the master target's host mounts that failback can use (VMFS and vSAN; NFS is never listed)."""
    result = []
    for dc in world.spec["vcenter"]["datacenters"]:
        for ds in dc["datastores"]:
            if mt["host"] is not None and mt["host"] in ds["hosts"] and ds["type"].lower() in ("vmfs", "vsan"):
                result.append({"symbolicName": ds["name"], "uuid": "%08x-%s" % (abs(hash(ds["name"])) % 2 ** 32, mt["id"][9:]),
                               "capacity": str(ds["capacity_gb"]), "freeSpace": str(ds["free_gb"]),
                               "type": "VMFS" if ds["type"].lower() == "vmfs" else "vsan"})
    return result


def _mt_disk_count(world, mt):
    if mt.get("configuration_server"):
        return 0  # as recorded: the configuration server as a master target holds no disks
    vm = world.vms.get(mt["vm"])
    count = len(vm["disks"]) if vm else 1
    for item in world.items.values():
        if item["stage"] in ("reprotecting_to_onprem", "replicating_to_onprem") and item["master_target"] == mt["vm"]:
            count += len(item["spec"]["disk_sizes_gb"])
    return count


def _process_server(world, ps, listed=False):
    """A classic process server, keys and forms as recorded (tests/recorded/asr, fact 15); ``historicHealth`` only in
    the fabric list."""
    version = world.asr["configuration_server"]["version"]
    body = {"friendlyName": ps["name"], "id": ps["id"], "ipAddress": ps["ip"], "osType": "Windows",
            "agentVersion": version, "lastHeartbeat": _ago(ps["heartbeat_age_seconds"]),
            "versionStatus": ps["version_status"],
            "mobilityServiceUpdates": [dict(u, version=version) for u in MOBILITY_UPDATES], "hostId": ps["id"],
            "machineCount": str(sum(1 for i in world.items.values() if i["process_server_id"] == ps["id"])),
            "replicationPairCount": "0", "systemLoad": "0", "systemLoadStatus": "Green", "cpuLoad": "0%",
            "cpuLoadStatus": "Green", "totalMemoryInBytes": 17179869184, "availableMemoryInBytes": 9663676416,
            "memoryUsageStatus": "Green", "totalSpaceInBytes": 1099511627776, "availableSpaceInBytes": 824633720832,
            "spaceUsageStatus": "Green", "psServiceStatus": ps["service_status"], "sslCertExpiryDate": _ago(-700 * 86400),
            "sslCertExpiryRemainingDays": 700, "osVersion": None, "healthErrors": [], "agentExpiryDate": NEVER_EXPIRES,
            "agentVersionDetails": _version_details(version, ps["version_status"]), "health": ps["health"]}
    if listed:
        body["historicHealth"] = ps["health"]
    body.update({"psStatsRefreshTime": _ago(60), "throughputUploadPendingDataInBytes": 0, "throughputInMBps": 0,
                 "throughputInBytes": 0, "throughputStatus": "Green", "marsCommunicationStatus": "1",
                 "marsRegistrationStatus": "1"})
    return body


def _retention_errors(mt):
    """A retention volume on FAT/FAT32 is listed with a validation error naming it (the lab's choice: the
    RetentionVolume model has no file-system field)."""
    return [_health_error("RetentionVolumeFileSystemNotSupported", "The retention volume is not supported.",
                          "The retention volume '%s' of the master target '%s' uses the %s file system, which cannot "
                          "hold retention data." % (v["name"], mt["name"], v["file_system"]), level="Warning",
                          action="Use an NTFS (Windows) or ext4/XFS (Linux) volume for retention.")
            for v in mt["retention_volumes"] if v["file_system"].upper() in ("FAT", "FAT32")]


def _master_target(world, mt, index):
    return {"id": mt["id"], "ipAddress": mt.get("ip") or "10.0.0.%d" % (30 + index), "name": mt["name"],
            "osType": mt["os"], "agentVersion": mt["version"], "lastHeartbeat": _ago(mt["heartbeat_age_seconds"]),
            "versionStatus": mt["version_status"],
            "retentionVolumes": [{"volumeName": v["name"], "capacityInBytes": int(v["capacity_gb"] * 1024 ** 3),
                                  "freeSpaceInBytes": int(v["free_gb"] * 1024 ** 3),
                                  "thresholdPercentage": v["threshold_percentage"]}
                                 for v in mt["retention_volumes"]],
            "dataStores": mt_datastores(world, mt), "validationErrors": _retention_errors(mt), "healthErrors": [],
            "diskCount": _mt_disk_count(world, mt),
            "osVersion": "Microsoft Windows Server 2019 Datacenter" if mt["os"] == "Windows" else
            "Red Hat Enterprise Linux 8",
            "agentExpiryDate": NEVER_EXPIRES, "marsAgentVersion": "2.0.9249.0", "marsAgentExpiryDate": NEVER_EXPIRES,
            "agentVersionDetails": _version_details(mt["version"], mt["version_status"]),
            "marsAgentVersionDetails": _version_details("2.0.9249.0")}


def _fabric_props(world, details, errors, health):
    return {"friendlyName": world.asr["configuration_server"]["name"], "encryptionDetails": dict(NO_ENCRYPTION),
            "rolloverEncryptionDetails": dict(NO_ENCRYPTION), "internalIdentifier": world.asr["container_name"][6:],
            "bcdrState": "Valid", "customDetails": details, "healthErrorDetails": errors, "health": health}


def fabric(world, listed=False):
    if world.modernized:
        health, errors = modern.fabric_health(world)
        return resource(world, world.fabric_id, "replicationFabrics",
                        _fabric_props(world, modern.fabric_details(world), errors, health))
    cs = world.asr["configuration_server"]
    running = cs["service_status"] == "Running"
    details = {
        "instanceType": "VMware",
        "processServers": [_process_server(world, p, listed) for p in world.asr["process_servers"]],
        "masterTargetServers": [_master_target(world, m, i) for i, m in enumerate(world.master_targets())],
        "runAsAccounts": [{"accountId": a["id"], "accountName": a["name"]} for a in world.asr["run_as_accounts"]],
        "replicationPairCount": str(len(world.items)), "processServerCount": str(len(world.asr["process_servers"])),
        "agentCount": str(len(world.items)), "protectedServers": str(len(world.items)),
        "systemLoad": "0", "systemLoadStatus": "Green", "cpuLoad": "0%", "cpuLoadStatus": "Green",
        "totalMemoryInBytes": 17179869184, "availableMemoryInBytes": 8589934592, "memoryUsageStatus": "Green",
        "totalSpaceInBytes": 1099511627776, "availableSpaceInBytes": 549755813888, "spaceUsageStatus": "Green",
        "webLoad": "0", "webLoadStatus": "Green", "databaseServerLoad": "0", "databaseServerLoadStatus": "Green",
        "csServiceStatus": cs["service_status"], "ipAddress": cs["ip"], "agentVersion": cs["version"], "hostName": cs["name"],
        "lastHeartbeat": _ago(cs["heartbeat_age_seconds"]), "versionStatus": cs["version_status"],
        "sslCertExpiryDate": _ago(-700 * 86400), "sslCertExpiryRemainingDays": 700, "psTemplateVersion": "202102.14.00",
        "agentExpiryDate": NEVER_EXPIRES, "agentVersionDetails": _version_details(cs["version"], cs["version_status"])}
    errors = []
    if not running:  # a fabric-level error: health and level "Error", no source or type (recorded, fact 16)
        error = _health_error("ConfigurationServerNotRunning", "The configuration server is not running.",
                              "The configuration server '%s' services are %s." % (cs["name"], cs["service_status"]),
                              level="Error", causes="The configuration server's services are stopped.",
                              action="Start the configuration server's services.")
        error.update(errorSource=None, errorType=None, entityId="")
        errors.append(error)
    return resource(world, world.fabric_id, "replicationFabrics",
                    _fabric_props(world, details, errors, "Normal" if running else "Error"))


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
             "pairingStatus": "Paired", "role": "Primary", "fabricSpecificDetails": None}
    return resource(world, world.container_id, "replicationFabrics/replicationProtectionContainers", props)


def mappings(world):
    cs = world.asr["configuration_server"]["name"]
    result = []
    for policy in world.asr["policies"]:
        forward = policy["provider"] in ("InMageAzureV2", "InMageRcm")
        # a modernized forward mapping says whether the agents upgrade themselves; the others have none (recorded)
        details = {"instanceType": "InMageRcm", "enableAgentAutoUpgrade": "true"} \
            if policy["provider"] == "InMageRcm" else None
        props = {"targetProtectionContainerId": AZURE if forward else world.container_id,
                 "targetProtectionContainerFriendlyName": AZURE if forward else cs, "providerSpecificDetails": details,
                 "health": "Normal",
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
# Bodies as the recordings show them (tests/recorded/asr): keys, their order, enum strings, null vs absent. A GET of
# an item has the provider details a LIST leaves empty or null (fact 2); ``listed=True`` serves the list's shape.
FAILED_OVER = ("failed_over_to_azure", "running_in_azure")
AGENT_HEARTBEAT_SECONDS = 600  # a classic Mobility agent's last heartbeat at read time: 8 to 13 min (recorded)
SPARSE = {  # what a list leaves empty (fact 2), per provider
    "InMage": {"osDetails": None, "retentionWindowStart": None, "retentionWindowEnd": None, "protectedDisks": [],
               "masterTargetId": None, "consistencyPoints": None, "diskResized": None},
    "InMageAzureV2": {"protectedDisks": [], "diskResized": None, "masterTargetId": None, "sourceVmCpuCount": 0,
                      "sourceVmRamSizeInMB": 0, "vhdName": None, "osDiskId": None, "azureVMDiskDetails": None,
                      "protectedManagedDisks": []},
    "InMageRcm": {"protectedDisks": [], "vmNics": []},
    "InMageRcmFailback": {"protectedDisks": [], "vmNics": []},
}


def _source(world, item):
    """cpu, memory, firmware, datastores, disks (GB), MACs of the on-prem machine."""
    vm = world.source_vm(item)
    firmware = "UEFI" if item["firmware"] == "efi" else "BIOS"
    if vm is not None:
        return {"cpu": vm["num_cpu"], "memory": vm["memory_mb"], "firmware": firmware,
                "datastores": sorted({d["datastore"] for d in vm["disks"] if d.get("datastore")}),
                "macs": [n["mac"] for n in vm["nics"]], "network": vm["nics"][0]["network"] if vm["nics"] else "VM Network"}
    size = (item["azure_vm"] or {}).get("size", "Standard_D4s_v5")
    digits = re.search(r"(\d+)", size)
    cpu = int(digits.group(1)) if digits else 4
    return {"cpu": cpu, "memory": cpu * 4096, "firmware": firmware, "datastores": [],
            "macs": ["00:15:5d:%02x:00:01" % (abs(hash(item["name"])) % 256)], "network": "VM Network"}


def _pad(values, count):
    return (list(values) + [None] * count)[:count]


def disk_id(item, index):
    """A replicated disk's id as ASR writes it: an upper-case GUID in braces."""
    # the same disk keeps its id across the reprotect (recorded) while vmId changes: keyed by the first vmId
    return "{%s}" % str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/disk/%d" % (item["spec"]["vm_id"], index))).upper()


def ip_of(world, item):
    return "10.0.1.%d" % (10 + list(world.items).index(item["name"]))


def test_failover_error(world, item):
    """The failover-health warning every forward-protected item carries until a test failover (fact 6)."""
    return {"innerHealthErrors": [], "errorSource": "ReplicationUnitFailoverValidatorError", "errorType": "15",
            "errorLevel": "Warning", "errorCategory": "TestFailover", "errorCode": "161011", "summaryMessage": "",
            "errorMessage": "No successful test failover has been done on the virtual machine '%s'." % item["name"],
            "possibleCauses": "No successful test failover has been done on the virtual machine after it was replicated.",
            "recommendedAction": "Do a test failover on the virtual machine.", "creationTimeUtc": _ago(3600),
            "recoveryProviderErrorMessage": None, "entityId": item["vm_id"], "errorId": "6:15",
            "customerResolvability": "NotAllowed"}


def _failover_point(world, item):
    """failoverRecoveryPointId (fact 5): null before any failover, "" on failback items after one, the point's full
    id on forward items after one."""
    if not item["failed_over_once"]:
        return None
    if world.provider(item) in ("InMage", "InMageRcmFailback"):
        return ""
    if item["last_failover_time"] is None:
        return ""
    return item["failover_point_id"] or "%s/recoveryPoints/%s" % (
        "/Subscriptions/" + item["id"].split("/", 2)[2], uuid.uuid5(uuid.NAMESPACE_URL, item["id"] + "/failover"))


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
    errors = []
    if not in_db:
        errors.append(_health_error(
            "VmNotInConfigurationServerDatabase", "The machine is not in the configuration server's database.",
            "The virtual machine '%s' was not found in the database of the configuration server '%s'." % (item["name"], cs),
            level="Critical", causes="The configuration server was rebuilt or restored without this machine.",
            action="Restore the configuration server with the same IP address from a backup that knows the machine.",
            category="Replication"))
    forward_protected = state == "Protected" and not failback and item["test_failover_time"] is None
    if forward_protected:
        errors.append(test_failover_error(world, item))
    container = world.asr["container_name"] if world.modernized else cs
    tested = item["test_failover_time"] is not None and world.provider(item) in ("InMageAzureV2", "InMageRcm") \
        and item["stage"] in FAILED_OVER
    props = {
        "friendlyName": item["name"], "protectedItemType": "",
        "protectableItemId": None if world.modernized
        else "%s/replicationProtectableItems/%s" % (world.container_id, item["vm_id"]),
        "recoveryServicesProviderId": "%s/replicationRecoveryServicesProviders/%s" % (
            world.fabric_id, world.asr["container_name"].split("_", 1)[-1]),
        "primaryFabricFriendlyName": cs, "primaryFabricProvider": "InMageRcmFabric" if world.modernized else "InMageFabric",
        "recoveryFabricFriendlyName": cs if failback else AZURE, "recoveryFabricId": world.fabric_id if failback else AZURE,
        "primaryProtectionContainerFriendlyName": container,
        "recoveryProtectionContainerFriendlyName": container if failback else AZURE,
        "protectionState": state, "protectionStateDescription": description, "activeLocation": active,
        # a test failover's clean-up state stays on the item long after it (fact 6)
        "testFailoverState": "MarkedForDeletion" if tested else "None",
        "testFailoverStateDescription": "Cleaning up test environment" if tested else "None",
        "allowedOperations": world.allowed_operations(item),
        "replicationHealth": "Normal" if in_db else "Critical",
        "failoverHealth": "Critical" if not in_db else ("Warning" if forward_protected else "Normal"),
        "healthErrors": errors, "policyId": policy_id, "policyFriendlyName": policy_id.rsplit("/", 1)[1]}
    if item["last_failover_time"]:
        props["lastSuccessfulFailoverTime"] = iso(item["last_failover_time"])
    if tested:
        props["lastSuccessfulTestFailoverTime"] = iso(item["test_failover_time"])
    props.update({"currentScenario": scenario, "failoverRecoveryPointId": _failover_point(world, item)})
    return props, provider


def _replication_stats(world, item, points):
    now = time.time()
    latest = points[0] if points else None
    rpo = int(now - latest["epoch"]) if latest else 0
    return latest, rpo


def vm_nic(mac, network, subnet="default", recovery_network=None, rg=None, nic=None, selected=True):
    """VMNicDetails (InMage and InMageAzureV2 items), every key as recorded."""
    return {"nicId": mac, "replicaNicId": nic["id"] if nic else None, "sourceNicArmId": None, "vMNetworkName": network,
            "recoveryVMNetworkId": recovery_network,
            "ipConfigs": [{"name": None, "isPrimary": True, "subnetName": subnet, "staticIPAddress": None,
                           "ipAddressType": "Dynamic", "isSeletedForFailover": True,
                           "recoverySubnetName": "default" if recovery_network else "",
                           "recoveryStaticIPAddress": None if recovery_network else "",
                           "recoveryIPAddressType": "Dynamic", "recoveryPublicIPAddressId": None,
                           "recoveryLBBackendAddressPoolIds": None, "tfoSubnetName": None, "tfoStaticIPAddress": None,
                           "tfoPublicIPAddressId": None, "tfoLBBackendAddressPoolIds": None}],
            "selectionType": "SelectedByUser" if selected else "NotSelected", "recoveryNetworkSecurityGroupId": None,
            "enableAcceleratedNetworkingOnRecovery": None, "tfoVMNetworkId": None, "tfoNetworkSecurityGroupId": None,
            "enableAcceleratedNetworkingOnTfo": None, "recoveryNicName": nic["name"] if nic else None,
            "recoveryNicResourceGroupName": rg if nic else None, "reuseExistingNic": False, "tfoRecoveryNicName": None,
            "tfoRecoveryNicResourceGroupName": None, "tfoReuseExistingNic": False}


def _classic_disk(item, index, size_gb, rpo, stage_text, mega, failed_over=False, resyncing=False):
    """A classic replicated disk; InMageAzureV2 says sourceDataInMegaBytes where InMage says sourceDataInMB (fact 7)."""
    suffix = "MegaBytes" if mega else "MB"
    return {"diskId": disk_id(item, index), "diskName": "Disk%d" % index, "protectionStage": stage_text,
            "healthErrorCode": "ECH0007" if failed_over else None, "rpoInSeconds": rpo,
            "resyncRequired": "Required" if failed_over else "NotRequired",
            "resyncProgressPercentage": 0, "resyncDurationInSeconds": 600, "diskCapacityInBytes": int(size_gb * 1024 ** 3),
            "fileSystemCapacityInBytes": int(size_gb * 1024 ** 3), "sourceDataIn" + suffix: 0.0, "psDataIn" + suffix: 0.0,
            "targetDataIn" + suffix: 0.0, "diskResized": "NotResized", "lastRpoCalculatedTime": _ago(60),
            "resyncProcessedBytes": 0, "resyncTotalTransferredBytes": 0, "resyncLast15MinutesTransferredBytes": 0,
            "resyncLastDataTransferTimeUTC": None, "resyncStartTime": None,
            "progressHealth": "InProgress" if resyncing else "Completed", "progressStatus": "Grey"}


def _inmage_azure_v2(world, item, points):
    spec = item["spec"]
    src = _source(world, item)
    avm = item["azure_vm"] or {}
    sub = world.spec["azure"]["subscription_id"]
    rg = avm.get("resource_group", "rg-recovery")
    failed_over = item["stage"] in FAILED_OVER
    onprem_ps = world.process_servers("onprem") or world.process_servers()
    latest, rpo = _replication_stats(world, item, points)
    disks = spec["disk_sizes_gb"]
    target_disks = [avm.get("os_disk"), *list(avm.get("data_disk_list", []))] if avm else []
    network = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-recovery" % (sub, rg)
    vm_state, vm_description = world.stage_row(item)[1:3]
    return {
        # infrastructureVmId = vmId: the configuration server's id of the machine, not its instance UUID (recorded)
        "instanceType": "InMageAzureV2", "infrastructureVmId": item["vm_id"],
        "vCenterInfrastructureId": "9" if spec["source"] != "physical" else None, "protectionStage": "DifferentialSync",
        "vmId": item["vm_id"], "vmProtectionState": vm_state, "vmProtectionStateDescription": vm_description,
        "resyncProgressPercentage": 0, "rpoInSeconds": rpo, "compressedDataRateInMB": 0.0,
        "uncompressedDataRateInMB": 0.0, "ipAddress": ip_of(world, item),
        "agentVersion": world.asr["configuration_server"]["version"], "agentExpiryDate": NEVER_EXPIRES,
        "isAgentUpdateRequired": "NotRequired", "isRebootAfterUpdateRequired": "NotRequired",
        "lastHeartbeat": _ago(AGENT_HEARTBEAT_SECONDS),
        "processServerId": onprem_ps[0]["id"] if onprem_ps else None,
        "processServerName": onprem_ps[0]["name"] if onprem_ps else None,
        "multiVmGroupId": spec["multi_vm_group_id"], "multiVmGroupName": spec["multi_vm_group_name"],
        "multiVmSyncStatus": "Enabled",
        "protectedDisks": [_classic_disk(item, i, size, rpo, "DifferentialSync", True, failed_over)
                           for i, size in enumerate(disks)],
        "diskResized": "NotResized", "masterTargetId": onprem_ps[0]["id"] if onprem_ps else None,
        "sourceVmCpuCount": src["cpu"], "sourceVmRamSizeInMB": src["memory"], "osType": spec["os"],
        "vhdName": "\\\\.\\PHYSICALDRIVE0" if spec["os"] == "Windows" else "/dev/sda", "osDiskId": disk_id(item, 0),
        "azureVMDiskDetails": [{"vhdType": None, "vhdId": disk_id(item, i), "diskId": None, "vhdName": None,
                                "maxSizeMB": None, "targetDiskLocation": None,
                                "targetDiskName": target_disks[i]["name"] if i < len(target_disks) and target_disks[i]
                                else None, "lunId": None, "diskEncryptionSetId": None} for i in range(len(disks))],
        "recoveryAzureVMName": avm.get("name", item["name"]), "recoveryAzureVMSize": avm.get("size", "Standard_D4s_v5"),
        "recoveryAzureStorageAccount": None,
        "recoveryAzureLogStorageAccountId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/"
                                            "storageAccounts/asrcache%s" % (sub, world.asr["resource_group"], spec["vm_id"][:8]),
        # the recorded items name no replica NIC, even failed over
        "vmNics": [vm_nic(mac, src["network"], recovery_network=network, rg=rg) for mac in src["macs"]],
        "selectedRecoveryAzureNetworkId": network, "selectedTfoAzureNetworkId": None,
        "selectedSourceNicId": src["macs"][0] if src["macs"] else None,
        "discoveryType": "Physical" if spec["source"] == "physical" else "vCenter", "enableRdpOnTargetOption": "Never",
        "datastores": src["datastores"],
        "targetVmId": avm["recorded_id"] if failed_over and avm else
        "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/" % (sub, rg),
        "recoveryAzureResourceGroupId": "/subscriptions/%s/resourceGroups/%s" % (sub, rg),
        "recoveryAvailabilitySetId": None, "targetAvailabilityZone": None, "targetProximityPlacementGroupId": None,
        "useManagedDisks": "true", "licenseType": "NotSpecified", "sqlServerLicenseType": "NotSpecified",
        "validationErrors": [], "lastRpoCalculatedTime": _ago(60), "lastUpdateReceivedTime": _ago(55),
        "replicaId": "%s_replica_%s" % (item["vm_id"], world.asr["container_name"]),
        "osVersion": "Microsoft " + spec["os_name"] if spec["os"] == "Windows" else spec["os_name"],
        "protectedManagedDisks": [{"diskId": disk_id(item, i), "seedManagedDiskId": "/subscriptions/%s/resourceGroups/%s/"
                                   "providers/Microsoft.Compute/disks/asrseeddisk-%s-%d" % (sub, rg, item["name"], i),
                                   "replicaDiskType": "Premium_LRS", "diskEncryptionSetId": None}
                                  for i in range(len(disks))],
        "lastRecoveryPointReceived": latest["time"] if latest else _ago(300),
        "firmwareType": src["firmware"], "azureVmGeneration": "V2" if src["firmware"] == "UEFI" else "V1",
        "isAdditionalStatsAvailable": False, "totalDataTransferred": -1, "totalProgressHealth": "Completed",
        "targetVmTags": {}, "seedManagedDiskTags": None, "targetManagedDiskTags": None, "targetNicTags": {}}


def consistency_points(points):
    """InMage consistency points: tags named after their kind and their Unix time in hex (fact 3), never
    ApplicationConsistent/CrashConsistent. The lab tags its application-consistent points: the newest as the
    file-system tag, the one before as the system-level tag; the values are the points' times."""
    tagged = list(itertools.islice((p for p in points if p["type"] == "ApplicationConsistent"), 2))
    return {"%s%08x" % (kind, int(point["epoch"])): point["time"]
            for kind, point in zip(("fileSystem", "systemLevelTag"), tagged, strict=False)}


def _inmage(world, item, points):
    spec = item["spec"]
    src = _source(world, item)
    onprem = item["stage"] in ("failed_back", "failback_committed")
    rpo = _replication_stats(world, item, points)[1]
    resyncing = item["stage"] in ("reprotecting_to_onprem", "replicating_to_onprem") and not points
    stage_text = "Resync" if resyncing else "DifferentialSync"
    mt = world.master_target(item["master_target"])
    vm_state, vm_description = world.stage_row(item)[1:3]
    return {
        "instanceType": "InMage", "activeSiteType": "OnPrem" if onprem else "Azure",
        # the recorded InMage items report 0 for the source VM's size, in the GET too
        "sourceVmCpuCount": 0, "sourceVmRamSizeInMB": 0,
        "osDetails": {"osVhdId": None, "osType": spec["os"], "vhdName": None}, "protectionStage": stage_text,
        "vmId": item["vm_id"], "vmProtectionState": vm_state, "vmProtectionStateDescription": vm_description,
        "resyncDetails": {"initialReplicationType": "InitialReplication",
                          "initialReplicationProgressPercentage": "0" if resyncing else "100"},
        # the window of the points; after the commit the last window stays (recorded) while the points are gone
        "retentionWindowStart": points[-1]["time"] if points else item["retention_window"][0],
        "retentionWindowEnd": points[0]["time"] if points else item["retention_window"][1],
        "compressedDataRateInMB": 0.0, "uncompressedDataRateInMB": 0.0, "rpoInSeconds": rpo,
        "protectedDisks": [_classic_disk(item, i, size, rpo, stage_text, False, resyncing=resyncing)
                           for i, size in enumerate(spec["disk_sizes_gb"])],
        "ipAddress": ip_of(world, item), "lastHeartbeat": _ago(AGENT_HEARTBEAT_SECONDS),
        "processServerId": item["process_server_id"], "masterTargetId": mt["id"] if mt else None,
        "consistencyPoints": consistency_points(points), "diskResized": "NotResized", "rebootAfterUpdateStatus": None,
        "multiVmGroupId": spec["multi_vm_group_id"], "multiVmGroupName": spec["multi_vm_group_name"],
        "multiVmSyncStatus": "Enabled",
        "agentDetails": {"agentVersion": world.asr["configuration_server"]["version"], "agentUpdateStatus": "NotRequired",
                         "postUpdateRebootStatus": "NotRequired", "agentExpiryDate": NEVER_EXPIRES},
        # the InMage item replicates the Azure VM, which the configuration server registered as a new physical
        # machine: Physical, no vCenter, a new id, for a vCenter VM too (item_get.InMage.*, both recorded lists)
        "vCenterInfrastructureId": None,
        "infrastructureVmId": item["vm_id"],
        "vmNics": [vm_nic(mac, src["network"], selected=False) for mac in src["macs"]],
        "discoveryType": "Physical", "azureStorageAccountId": None,
        # where the failback writes: the alternate datastore, else the original VM's datastores as ASR recorded them
        # (recorded: ["datastore1"] while the VM's disks sit on the master target)
        "datastores": [item["datastore"]] if item["datastore"] else (
            sorted({d["datastore"] for d in spec["disks"]}) or src["datastores"]), "validationErrors": [],
        "lastRpoCalculatedTime": _ago(60), "lastUpdateReceivedTime": _ago(55), "replicaId": item["spec"]["replica_id"],
        "osVersion": None, "isAdditionalStatsAvailable": False, "totalDataTransferred": -1,
        "totalProgressHealth": "InProgress" if resyncing else "Completed"}


def protected_item(world, item, listed=False):
    """An item as a GET answers it, or as one element of a list (``listed``: the provider details a list leaves empty
    or null, tests/recorded/asr fact 2)."""
    props, provider = _common(world, item)
    points = world.points(item)
    if provider == "InMageRcmFailback":
        props["primaryFabricProvider"] = "InMageRcmFabric"
        details = modern.inmage_rcm_failback(world, item, points, _source(world, item))
    elif provider == "InMageRcm":
        props["primaryFabricProvider"] = "InMageRcmFabric"
        details = modern.inmage_rcm(world, item, points, _source(world, item))
    else:
        details = _inmage(world, item, points) if provider == "InMage" else _inmage_azure_v2(world, item, points)
    if listed:
        details.update((key, value) for key, value in SPARSE[provider].items() if key in details)
    props["providerSpecificDetails"] = details
    props["recoveryContainerId"] = world.container_id if item["stage"] in FAILBACK_STAGES else AZURE
    props["eventCorrelationId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, item["vm_id"] + "/event"))
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
             # null until a job ran on the plan (recorded; unlike an item's "None" scenario)
             "currentScenario": None, "currentScenarioStatus": None, "currentScenarioStatusDescription": None,
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
