# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bodies of the modernized flow (SDK models ``InMageRcmFabricSpecificDetails``,
``InMageRcmReplicationDetails``, ``InMageRcmFailbackReplicationDetails``, the InMageRcm policy
details): serialize.py calls these when ``asr.flow`` is ``modernized``.

Every replication appliance is listed once per component it runs (process server, RCM proxy,
push installer, replication agent, reprotect agent, MARS agent, DRA), each with its own id;
``reprotectAgents[].id`` is what ``InMageRcmReprotectInput.reprotectAgentId`` takes and
``processServers[].id`` what ``InMageRcmFailbackReprotectInput.processServerId`` takes."""

import time

from ..compute import iso
from . import modern

SEVERITY = {"None": 0, "Normal": 0, "Warning": 1, "Critical": 2}


def _bytes(gb):
    return int(gb * 1024 ** 3)


def _ago(seconds):
    return iso(time.time() - float(seconds))


def _error(code, summary, message, level, action):
    return {"errorSource": "ReplicationAppliance", "errorType": code, "errorLevel": level, "errorCategory": "Configuration",
            "errorCode": code, "summaryMessage": summary, "errorMessage": message, "possibleCauses": "",
            "recommendedAction": action, "creationTimeUtc": iso(), "customerResolvability": "Allowed",
            "innerHealthErrors": []}


def appliance_health(entry):
    """(health, healthErrors) of an appliance: its spec health, Critical when its heartbeat is stale."""
    errors = []
    health = entry["health"]
    if entry["heartbeat_age_seconds"] > modern.HEARTBEAT_STALE_SECONDS:
        health = "Critical"
        errors.append(_error("ApplianceHeartbeatMissing", "The replication appliance is not connected.",
                             "No heartbeat from the replication appliance '%s' for %d minutes."
                             % (entry["name"], entry["heartbeat_age_seconds"] // 60), "Critical",
                             "Check the appliance's connectivity to Azure and that its services run."))
    if health in ("Warning", "Critical") and not errors:
        errors.append(_error("ApplianceUnhealthy", "The replication appliance is unhealthy.",
                             "The replication appliance '%s' reports %s health." % (entry["name"], health), health,
                             "Check the appliance's services and resources in the appliance configuration manager."))
    return health, errors


def _component(world, entry, kind):
    health, errors = appliance_health(entry)
    return {"id": entry["id"] if kind == "reprotect" else entry["process_server_id"] if kind == "ps"
            else modern_guid(entry, kind), "name": entry["name"], "biosId": entry["bios_id"],
            "fabricObjectId": entry["fabric_object_id"], "fqdn": entry["fqdn"], "version": entry["version"],
            "lastHeartbeatUtc": _ago(entry["heartbeat_age_seconds"]), "health": health, "healthErrors": errors}


def modern_guid(entry, kind):
    import uuid
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "appliance/%s/%s" % (entry["name"], kind)))


def _vcenter_id(world):
    name = world.spec["vcenter"]["name"]
    entry = next((v for v in world.asr["vcenters"] if v["name"] == name), None)
    return entry["internal_id"] if entry else None


def reprotect_agent(world, entry):
    items = modern.appliance_items(world, entry)
    body = _component(world, entry, "reprotect")
    body.update(protectedItemCount=entry["protected_item_count"] if entry["protected_item_count"] is not None
                else len(items), accessibleDatastores=list(entry["accessible_datastores"]),
                vcenterId=_vcenter_id(world), lastDiscoveryInUtc=_ago(600))
    return body


def process_server(world, entry):
    body = _component(world, entry, "ps")
    body.pop("healthErrors")
    health, errors = appliance_health(entry)
    count = len([i for i in world.items.values() if i["process_server_id"] == entry["process_server_id"]])
    body.update(ipAddresses=[entry["ip"]], totalMemoryInBytes=34359738368, availableMemoryInBytes=17179869184,
                usedMemoryInBytes=17179869184, memoryUsagePercentage=50.0, totalSpaceInBytes=1099511627776,
                availableSpaceInBytes=824633720832, usedSpaceInBytes=274877906944, freeSpacePercentage=75.0,
                throughputUploadPendingDataInBytes=0, throughputInBytes=0, processorUsagePercentage=12.0,
                throughputStatus="Healthy", systemLoad=2, systemLoadStatus="Healthy", diskUsageStatus="Healthy",
                memoryUsageStatus="Healthy", processorUsageStatus="Healthy", health=health, healthErrors=errors,
                protectedItemCount=count, historicHealth=health)
    return body


def _site_id(world):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OffAzure/VMwareSites/%s-site" % (
        world.spec["azure"]["subscription_id"], world.asr["resource_group"], world.asr["configuration_server"]["name"])


def fabric_details(world):
    site = _site_id(world)
    appliances = world.asr["appliances"]
    return {
        "instanceType": "InMageRcm", "vmwareSiteId": site,
        "physicalSiteId": site.replace("VMwareSites", "ServerSites"),
        "serviceEndpoint": "https://%s-rcm.lab" % world.spec["azure"]["location"],
        "serviceResourceId": world.asr["fabric_name"][:32], "serviceContainerId": world.asr["container_name"],
        "dataPlaneUri": "https://%s-dp.rcm.lab" % world.spec["azure"]["location"],
        "controlPlaneUri": "https://%s-cp.rcm.lab" % world.spec["azure"]["location"],
        "sourceAgentIdentityDetails": {"tenantId": world.spec["azure"]["tenant"],
                                       "applicationId": modern_guid({"name": "site"}, "app"),
                                       "objectId": modern_guid({"name": "site"}, "object"),
                                       "audience": "api://%s" % modern_guid({"name": "site"}, "app"),
                                       "aadAuthority": "https://login.microsoftonline.com/%s" % world.spec["azure"]["tenant"]},
        "processServers": [process_server(world, a) for a in appliances],
        "rcmProxies": [dict(_component(world, a, "proxy"), clientAuthenticationType="Certificate") for a in appliances],
        "pushInstallers": [_component(world, a, "push") for a in appliances],
        "replicationAgents": [_component(world, a, "replication") for a in appliances],
        "reprotectAgents": [reprotect_agent(world, a) for a in appliances],
        "marsAgents": [_component(world, a, "mars") for a in appliances],
        "dras": [dict({k: v for k, v in _component(world, a, "dra").items() if k not in ("fqdn", "fabricObjectId")},
                      forwardProtectedItemCount=sum(1 for i in world.items.values()
                                                    if world.provider(i) == "InMageRcm"),
                      reverseProtectedItemCount=len(modern.appliance_items(world, a))) for a in appliances],
        "agentDetails": []}


def fabric_health(world):
    """(health, healthErrorDetails) of the fabric: the worst appliance's health (Critical shows as Warning)."""
    worst = max([SEVERITY.get(appliance_health(a)[0], 0) for a in world.asr["appliances"]] or [0])
    if worst == 0:
        return "Normal", []
    bad = [a["name"] for a in world.asr["appliances"] if SEVERITY.get(appliance_health(a)[0], 0)]
    return "Warning", [_error("ApplianceUnhealthy", "A replication appliance is unhealthy.",
                              "Replication appliance(s) %s report(s) unhealthy." % ", ".join(bad), "Warning",
                              "Check the replication appliances.")]


def policy_details(entry):
    if entry["provider"] == "InMageRcm":
        return {"instanceType": "InMageRcm", "recoveryPointHistoryInMinutes": entry["recovery_point_history_minutes"],
                "appConsistentFrequencyInMinutes": entry["app_consistent_frequency_minutes"],
                "crashConsistentFrequencyInMinutes": 5, "enableMultiVmSync": "True"}
    return {"instanceType": "InMageRcmFailback",
            "appConsistentFrequencyInMinutes": entry["app_consistent_frequency_minutes"],
            "crashConsistentFrequencyInMinutes": 5}


# ---------------------------------------------------------------------- protected items
def _disk_guid(item, index):
    return "%s-%04d" % (item["vm_id"][:31], index)


def _sync(done, size_bytes):
    return {"progressHealth": "None" if done else "InProgress", "transferredBytes": size_bytes if done else 0,
            "last15MinutesTransferredBytes": 0, "lastDataTransferTimeUtc": _ago(30), "processedBytes": size_bytes if done
            else 0, "startTime": _ago(3600), "lastRefreshTime": _ago(30), "progressPercentage": 100 if done else 0}


def _ip(world, item):
    return "10.0.1.%d" % (10 + list(world.items).index(item["name"]))


def inmage_rcm(world, item, points, src):
    """``InMageRcmReplicationDetails``: forward (on-prem -> Azure) and the failed-over item."""
    spec = item["spec"]
    avm = item["azure_vm"] or {}
    sub = world.spec["azure"]["subscription_id"]
    rg = avm.get("resource_group", "rg-recovery")
    latest = points[0] if points else None
    rpo = int(time.time() - latest["epoch"]) if latest else 0
    ps = world.asr["appliances"][0] if world.asr["appliances"] else None
    disks = spec["disk_sizes_gb"]
    targets = [avm.get("os_disk"), *list(avm.get("data_disk_list", []))] if avm else []
    log = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/asrcache%s" % (
        sub, world.asr["resource_group"], item["vm_id"][:8])
    details = {
        "instanceType": "InMageRcm", "internalIdentifier": item["vm_id"],
        "fabricDiscoveryMachineId": "%s/machines/%s" % (_site_id(world), spec["infrastructure_vm_id"]),
        "multiVmGroupName": spec["multi_vm_group_name"],
        "discoveryType": "Physical" if spec["source"] == "physical" else "vCenter",
        "processServerId": ps["process_server_id"] if ps else None, "processServerName": ps["name"] if ps else None,
        "processorCoreCount": src["cpu"], "allocatedMemoryInMB": float(src["memory"]),
        "runAsAccountId": (world.asr["run_as_accounts"] or [{"id": None}])[0]["id"], "osType": spec["os"],
        "osName": spec["os_name"], "firmwareType": src["firmware"], "primaryNicIpAddress": _ip(world, item),
        "targetGeneration": "V2" if src["firmware"] == "UEFI" else "V1", "licenseType": "NoLicenseType",
        "linuxLicenseType": "NoLicenseType", "sqlServerLicenseType": "NotSpecified", "storageAccountId": log,
        "targetVmName": avm.get("name", item["name"]), "targetVmSize": avm.get("size", "Standard_D4s_v5"),
        "targetResourceGroupId": "/subscriptions/%s/resourceGroups/%s" % (sub, rg),
        "targetLocation": world.spec["azure"]["location"],
        "targetNetworkId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-recovery"
                           % (sub, rg), "testNetworkId": None,
        "lastRpoInSeconds": rpo, "lastRpoCalculatedTime": _ago(30),
        "initialReplicationProgressPercentage": 100, "initialReplicationProcessedBytes": _bytes(sum(disks)),
        "initialReplicationTransferredBytes": _bytes(sum(disks)), "initialReplicationProgressHealth": "None",
        "resyncProgressPercentage": 0, "resyncProcessedBytes": 0, "resyncTransferredBytes": 0,
        "resyncProgressHealth": "None", "resyncRequired": "false", "resyncState": "None", "agentUpgradeState": "None",
        "isLastUpgradeSuccessful": "true", "isAgentRegistrationSuccessfulAfterFailover": True,
        "protectedDisks": [{"diskId": _disk_guid(item, i), "diskName": "Disk%d" % i, "isOSDisk": str(i == 0).lower(),
                            "capacityInBytes": _bytes(gb), "logStorageAccountId": log, "diskType": "Premium_LRS",
                            "diskState": "Available", "seedManagedDiskId": "/subscriptions/%s/resourceGroups/%s/providers/"
                            "Microsoft.Compute/disks/asrseeddisk-%s-%d" % (sub, rg, item["name"], i),
                            "targetManagedDiskId": targets[i]["id"] if i < len(targets) and targets[i] else None,
                            "dataPendingInLogDataStoreInMB": 0.0, "dataPendingAtSourceAgentInMB": 0.0,
                            "isInitialReplicationComplete": "true", "irDetails": _sync(True, _bytes(gb)),
                            "resyncDetails": _sync(True, 0), "diskSizeInGB": round(gb)}
                           for i, gb in enumerate(disks)],
        "unprotectedDisks": [],
        "mobilityAgentDetails": {"version": "9.63.7187.1", "latestVersion": "9.63.7187.1", "driverVersion": "9.63.7187.1",
                                 "isUpgradeable": "false", "lastHeartbeatUtc": _ago(30),
                                 "agentVersionExpiryDate": _ago(-365 * 86400), "reasonsBlockingUpgrade": []},
        "lastAgentUpgradeErrorDetails": [], "agentUpgradeBlockingErrorDetails": [],
        "vmNics": [{"nicId": mac, "isPrimaryNic": "true" if n == 0 else "false", "isSelectedForFailover": "true",
                    "sourceIPAddress": _ip(world, item), "sourceIPAddressType": "Dynamic",
                    "sourceNetworkId": src["network"], "targetSubnetName": "default", "targetIPAddressType": "Dynamic",
                    "targetNicName": (avm.get("nics") or [{}])[0].get("name") if n == 0 else None}
                   for n, mac in enumerate(src["macs"])],
        "discoveredVmDetails": _discovered(world, item, src),
        "targetVmTags": {}, "seedManagedDiskTags": {}, "targetManagedDiskTags": {}, "targetNicTags": {},
        "supportedOSVersions": []}
    # keys the recorded InMageRcm items carry, null (or empty) where the lab has no value
    details.update({
        "lastRecoveryPointReceived": latest["time"] if latest else None,
        "lastRecoveryPointId": "%s/recoveryPoints/%s" % (item["id"], latest["name"]) if latest else None,
        "failoverRecoveryPointId": item["failover_point_id"] if item["failover_point_id"] and item["stage"] in (
            "failed_over_to_azure", "running_in_azure") else None,
        "agentUpgradeAttemptToVersion": None, "agentUpgradeJobId": None, "lastAgentUpgradeType": None,
        "targetAvailabilitySetId": "", "targetAvailabilityZone": "", "targetProximityPlacementGroupId": "",
        "targetBootDiagnosticsStorageAccountId": None})
    return details


def _discovered(world, item, src):
    vm = world.source_vm(item)
    on = item["stage"] in ("replicating_to_azure", "failed_back", "failback_committed", "reprotected_to_azure")
    return {"vCenterId": _vcenter_id(world), "vCenterFqdn": world.spec["vcenter"]["name"],
            "datastores": src["datastores"] or ([item["datastore"]] if item.get("datastore") else []),
            "ipAddresses": [_ip(world, item)], "vmwareToolsStatus": "Running" if on else "NotRunning",
            "powerStatus": "ON" if on else "OFF", "vmFqdn": "%s.lab" % item["name"], "osName": item["spec"]["os_name"],
            "createdTimestamp": _ago(90 * 86400), "updatedTimestamp": _ago(600),
            "isDeleted": vm is None and item["spec"]["source"] != "physical", "lastDiscoveryTimeInUtc": _ago(600)}


def inmage_rcm_failback(world, item, points, src):
    """``InMageRcmFailbackReplicationDetails``: from the reprotect to on-premises to the failback commit."""
    spec = item["spec"]
    avm = item["azure_vm"] or {}
    agent = modern.appliance(world, item.get("appliance"))
    initial = item["stage"] in ("reprotecting_to_onprem", "replicating_to_onprem") and not points
    forward = world.policy(item["forward_policy_id"])
    registered = (modern.agent_registered(world, item, time.time())
                  if item["stage"] in ("failed_back", "failback_committed") else True)
    details = {
        "instanceType": "InMageRcmFailback", "internalIdentifier": item["vm_id"],
        "azureVirtualMachineId": avm.get("recorded_id"), "multiVmGroupName": spec["multi_vm_group_name"],
        "reprotectAgentId": agent["id"] if agent else None, "reprotectAgentName": agent["name"] if agent else None,
        "osType": spec["os"], "logStorageAccountId": item.get("log_storage_account_id"),
        "targetvCenterId": _vcenter_id(world), "targetDataStoreName": item["datastore"],
        "targetVmName": item["name"],
        "initialReplicationProgressPercentage": 0 if initial else 100,
        "initialReplicationProcessedBytes": 0 if initial else _bytes(sum(spec["disk_sizes_gb"])),
        "initialReplicationTransferredBytes": 0 if initial else _bytes(sum(spec["disk_sizes_gb"])),
        "initialReplicationProgressHealth": "InProgress" if initial else "None",
        "resyncProgressPercentage": 0, "resyncProcessedBytes": 0, "resyncTransferredBytes": 0,
        "resyncProgressHealth": "None", "resyncRequired": "false", "resyncState": "None",
        "protectedDisks": [{"diskId": _disk_guid(item, i), "diskName": "Disk%d" % i, "isOSDisk": str(i == 0).lower(),
                            "capacityInBytes": _bytes(gb), "diskUuid": _disk_guid(item, i),
                            "dataPendingInLogDataStoreInMB": 0.0, "dataPendingAtSourceAgentInMB": 0.0,
                            "isInitialReplicationComplete": "false" if initial else "true",
                            "irDetails": _sync(not initial, _bytes(gb)), "resyncDetails": _sync(True, 0),
                            "lastSyncTime": points[0]["time"] if points else None}
                           for i, gb in enumerate(spec["disk_sizes_gb"])],
        "mobilityAgentDetails": {"version": "9.63.7187.1", "latestVersion": "9.63.7187.1", "driverVersion": "9.63.7187.1",
                                 "latestUpgradableVersionWithoutReboot": "9.63.7187.1",
                                 "agentVersionExpiryDate": _ago(-365 * 86400), "driverVersionExpiryDate": _ago(-365 * 86400),
                                 "lastHeartbeatUtc": _ago(30), "reasonsBlockingUpgrade": [], "isUpgradeable": "false"},
        "vmNics": [{"macAddress": mac, "networkName": src["network"], "adapterType": "Vmxnet3",
                    "sourceIpAddress": _ip(world, item)} for mac in src["macs"]],
        "discoveredVmDetails": _discovered(world, item, src),
        "lastUsedPolicyId": forward["id"] if forward else None,
        "lastUsedPolicyFriendlyName": forward["name"] if forward else None,
        "isAgentRegistrationSuccessfulAfterFailover": registered}
    # present on every recorded item, null until a planned failover ran
    details["lastPlannedFailoverStartTime"] = iso(item["pf_start"]) if item["pf_start"] else None
    details["lastPlannedFailoverStatus"] = item["pf_status"] or None
    return details


def recovery_point_details(world, item):
    if world.provider(item) == "InMageRcm":
        return {"instanceType": "InMageRcm", "isMultiVmSyncPoint": "True" if item["spec"]["replication_group"] else "False"}
    return None
