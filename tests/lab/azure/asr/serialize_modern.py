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
import uuid

from ..compute import iso
from . import modern

SEVERITY = {"None": 0, "Normal": 0, "Warning": 1, "Critical": 2}


def _bytes(gb):
    return int(gb * 1024 ** 3)


def _ago(seconds):
    return iso(time.time() - float(seconds))


def _error(code, summary, message, level, action):
    return {"innerHealthErrors": [], "errorSource": "ReplicationAppliance", "errorType": code, "errorLevel": level,
            "errorCategory": "Configuration", "errorCode": code, "summaryMessage": summary, "errorMessage": message,
            "possibleCauses": "", "recommendedAction": action, "creationTimeUtc": iso(),
            "recoveryProviderErrorMessage": None, "entityId": None, "errorId": None, "customerResolvability": "Allowed"}


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
    """One component of an appliance. Every component of an appliance has the appliance's id (recorded: the
    process server, reprotect agent, DRA... of Rcm-App-150 are all 7d30ec24-...)."""
    health, errors = appliance_health(entry)
    return {"id": entry["id"], "name": entry["name"], "biosId": entry["bios_id"],
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
    del items  # ASR sends protectedItemCount null (recorded); a spec may still give one
    body.update(protectedItemCount=entry["protected_item_count"], accessibleDatastores=list(entry["accessible_datastores"]),
                vcenterId=_vcenter_id(world), lastDiscoveryInUtc=_ago(600))
    return body


def process_server(world, entry):
    body = _component(world, entry, "ps")
    body.pop("healthErrors")
    health, errors = appliance_health(entry)
    body.update(ipAddresses=[entry["ip"]], totalMemoryInBytes=34359738368, availableMemoryInBytes=17179869184,
                usedMemoryInBytes=17179869184, memoryUsagePercentage=50.0, totalSpaceInBytes=1099511627776,
                availableSpaceInBytes=824633720832, usedSpaceInBytes=274877906944, freeSpacePercentage=75.0,
                throughputUploadPendingDataInBytes=0, throughputInBytes=0, processorUsagePercentage=12.0,
                throughputStatus="Healthy", systemLoad=2, systemLoadStatus="Healthy", diskUsageStatus="Healthy",
                memoryUsageStatus="Healthy", processorUsageStatus="Healthy", health=health, healthErrors=errors,
                protectedItemCount=entry["protected_item_count"], historicHealth=health)
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
                      forwardProtectedItemCount=None, reverseProtectedItemCount=None) for a in appliances],
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
                "crashConsistentFrequencyInMinutes": 5, "enableMultiVmSync": "false"}  # a string, lower case (recorded)
    return {"instanceType": "InMageRcmFailback",
            "appConsistentFrequencyInMinutes": entry["app_consistent_frequency_minutes"],
            "crashConsistentFrequencyInMinutes": 5}


# ---------------------------------------------------------------------- protected items
# Keys, order and forms of the recorded InMageRcm / InMageRcmFailback items (tests/recorded/asr). serialize.py blanks
# what a list leaves empty (protectedDisks, vmNics, discoveredVmDetails).
FAILED_OVER = ("failed_over_to_azure", "running_in_azure")
# the Mobility agent's last heartbeat at read time (recorded, fact 17): 4 min while it replicates to Azure, 23.6 min
# after the failover to Azure, 21 min while replicating back; after the failback it is the Azure VM's agent that
# stopped (three weeks in the recording): the time since the planned failover
AGENT_HEARTBEAT = {"forward": 240, "failed_over": 1416, "failback": 1260}


def _disk_id(item, index):
    from .serialize import disk_id
    return disk_id(item, index)


def _vcenter_os_name(spec):
    """discoveredVmDetails.osName as recorded: vCenter's guest OS name of the VM ("Microsoft Windows Server 2016 or
    later (64-bit)" in item_get.InMageRcm*.TestV2ARCM*), not the guest's own caption."""
    name = spec["os_name"]
    return ("Microsoft %s (64-bit)" % name) if spec["os"] == "Windows" else "%s (64-bit)" % name


def _ip(world, item):
    from .serialize import ip_of
    return ip_of(world, item)


def disk_uuid(item, index):
    """The vSphere ``backing.uuid`` of an item's on-prem disk, as ``diskUuid`` reports it (recorded shape
    ``6000C29b-29e4-...``): the source VM's disk's, else (alternate location) the one the lab gives the VMDK the
    failover creates (``effects.create_vm_on_datastore``)."""
    disks = item["spec"]["disks"]
    if index < len(disks) and disks[index].get("uuid"):
        return disks[index]["uuid"]
    return "6000C29" + str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/vmdk/%d" % (item["vm_id"], index)))[7:]


def _disk_name(item, index):
    return "\\\\.\\PHYSICALDRIVE%d" % index if item["spec"]["os"] == "Windows" else "/dev/sd%s" % "abcdefghij"[index % 10]


def _log_account(world, item):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/asrcache%s" % (
        world.spec["azure"]["subscription_id"], world.asr["resource_group"], item["vm_id"][:8])


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
    failed_over = item["stage"] in FAILED_OVER
    log = _log_account(world, item)
    network = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-recovery" % (sub, rg)
    point = "%s/recoveryPoints/%s" % ("/Subscriptions/" + item["id"].split("/", 2)[2], latest["name"]) if latest else None
    if failed_over and point is None:  # the point the failover used (a spec item failed over before the lab started)
        point = "%s/recoveryPoints/%s" % ("/Subscriptions/" + item["id"].split("/", 2)[2],
                                          uuid.uuid5(uuid.NAMESPACE_URL, item["id"] + "/failover"))
    return {
        "instanceType": "InMageRcm", "internalIdentifier": item["vm_id"],
        # recorded: .../machines/vcenter67_<instance UUID> for a VMware VM (the item's own name)
        "fabricDiscoveryMachineId": "%s/machines/%s" % (_site_id(world), item["item_name"] if "_" in item["item_name"]
                                                        else spec["infrastructure_vm_id"]),
        "multiVmGroupName": spec["replication_group"],  # null without a user group (recorded)
        "discoveryType": "Physical" if spec["source"] == "physical" else "VCenter",
        "processServerId": ps["id"] if ps else None, "processorCoreCount": src["cpu"],
        "allocatedMemoryInMB": float(src["memory"]), "processServerName": ps["name"] if ps else None,
        "runAsAccountId": "%s/runasaccounts/%s" % (_site_id(world), modern_guid({"name": "site"}, "runas")),
        "osType": spec["os"], "firmwareType": src["firmware"], "primaryNicIpAddress": _ip(world, item),
        "targetGeneration": "V2" if src["firmware"] == "UEFI" else "V1", "licenseType": "NotSpecified",
        "storageAccountId": None, "targetVmName": avm.get("name", item["name"]),
        "targetVmSize": avm.get("size", "Standard_D4s_v5"),
        "targetResourceGroupId": "/subscriptions/%s/resourceGroups/%s" % (sub, rg),
        "targetLocation": world.spec["azure"]["location"], "targetAvailabilitySetId": "", "targetAvailabilityZone": "",
        "targetProximityPlacementGroupId": "", "targetBootDiagnosticsStorageAccountId": log.lower(),
        "targetNetworkId": network, "testNetworkId": network,
        "failoverRecoveryPointId": (item["failover_point_id"] or point) if failed_over else None,
        "lastRecoveryPointReceived": latest["time"] if latest else _ago(300), "lastRpoInSeconds": rpo,
        "lastRpoCalculatedTime": _ago(30), "lastRecoveryPointId": point,
        "initialReplicationProgressPercentage": None, "initialReplicationProcessedBytes": None,
        "initialReplicationTransferredBytes": None, "initialReplicationProgressHealth": "None",
        "resyncProgressPercentage": None, "resyncProcessedBytes": None, "resyncTransferredBytes": None,
        "resyncProgressHealth": "None", "resyncRequired": "false", "resyncState": "None", "agentUpgradeState": "None",
        "lastAgentUpgradeType": None, "agentUpgradeJobId": None, "agentUpgradeAttemptToVersion": None,
        "protectedDisks": [{"diskId": _disk_id(item, i), "diskName": _disk_name(item, i), "isOSDisk": str(i == 0).lower(),
                            "capacityInBytes": _bytes(gb), "logStorageAccountId": log.lower(), "diskEncryptionSetId": None,
                            "seedManagedDiskId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/"
                                                 "asrseeddisk-%s-%d" % (sub, rg, item["name"], i),
                            "seedBlobUri": None,
                            "targetManagedDiskId": targets[i]["id"] if failed_over and i < len(targets) and targets[i]
                            else None, "targetBlobUri": None, "diskType": "Standard_LRS",
                            "dataPendingInLogDataStoreInMB": 0.0, "dataPendingAtSourceAgentInMB": 0.0,
                            "isInitialReplicationComplete": "true"} for i, gb in enumerate(disks)],
        "isLastUpgradeSuccessful": "true",
        "isAgentRegistrationSuccessfulAfterFailover": True if failed_over else None,
        "mobilityAgentDetails": {"version": "9.63.7187.1", "latestVersion": None, "latestAgentReleaseDate": None,
                                 "driverVersion": "9.63.7187.1", "latestUpgradableVersionWithoutReboot": None,
                                 "lastHeartbeatUtc": _ago(AGENT_HEARTBEAT["failed_over" if failed_over else "forward"]),
                                 "reasonsBlockingUpgrade": ["AlreadyOnLatestVersion"], "isUpgradeable": "false"},
        "lastAgentUpgradeErrorDetails": [], "agentUpgradeBlockingErrorDetails": [],
        "vmNics": [{"nicId": mac, "isPrimaryNic": "true" if n == 0 else "false", "isSelectedForFailover": "true",
                    "sourceIPAddress": _ip(world, item), "sourceIPAddressType": "Static", "sourceNetworkId": src["network"],
                    "sourceSubnetName": None, "targetIPAddress": "", "targetIPAddressType": "Dynamic",
                    "targetSubnetName": "default", "testSubnetName": "default", "testIPAddress": None,
                    "testIPAddressType": "Dynamic"} for n, mac in enumerate(src["macs"])],
        # null while the item replicates to Azure (recorded), the VM as discovered once it failed over
        "discoveredVmDetails": _discovered(world, item, src) if failed_over else None}


def _discovered(world, item, src):
    """The VM as the appliance last discovered it. The recordings show it ON with tools OK after the failover to Azure
    and while replicating back: the discovery is not refreshed by the failover, and the lab does the same."""
    vm = world.source_vm(item)
    return {"vCenterId": _vcenter_id(world), "vCenterFQDN": "",
            "datastores": src["datastores"] or ([item["datastore"]] if item.get("datastore") else []),
            "ipAddresses": [_ip(world, item)], "vmwareToolsStatus": "OK",
            "powerStatus": "ON", "vmFqdn": item["name"], "osName": _vcenter_os_name(item["spec"]),
            "createdTimestamp": _ago(90 * 86400), "updatedTimestamp": _ago(600),
            "isDeleted": vm is None and item["spec"]["source"] != "physical", "lastDiscoveryTimeInUtc": _ago(600)}


def inmage_rcm_failback(world, item, points, src):
    """``InMageRcmFailbackReplicationDetails``: from the reprotect to on-premises to the failback commit."""
    spec = item["spec"]
    avm = item["azure_vm"] or {}
    agent = modern.appliance(world, item.get("appliance"))
    initial = item["stage"] in ("reprotecting_to_onprem", "replicating_to_onprem") and not points
    forward = world.policy(item["forward_policy_id"])
    back = item["stage"] in ("failed_back", "failback_committed")
    # null before the item's first planned failover, false after one until the failback, then true once the on-prem
    # VM's agent registered (recorded)
    registered = modern.agent_registered(world, item, time.time()) if back else (False if item["pf_start"] else None)
    heartbeat = (time.time() - item["pf_start"] + AGENT_HEARTBEAT["forward"]) if back and item["pf_start"] \
        else AGENT_HEARTBEAT["failback"]
    details = {
        "instanceType": "InMageRcmFailback", "internalIdentifier": item["vm_id"],
        "azureVirtualMachineId": avm.get("recorded_id"), "multiVmGroupName": spec["replication_group"],
        "reprotectAgentId": agent["id"] if agent else None, "reprotectAgentName": agent["name"] if agent else None,
        "osType": spec["os"], "logStorageAccountId": item.get("log_storage_account_id") or _log_account(world, item),
        "targetvCenterId": _vcenter_id(world), "targetDataStoreName": item["datastore"],
        "targetVmName": item["name"],
        # null in every recording; the lab shows numbers only while the initial replication runs (not recorded)
        "initialReplicationProgressPercentage": 0 if initial else None,
        "initialReplicationProcessedBytes": 0 if initial else None,
        "initialReplicationTransferredBytes": 0 if initial else None,
        "initialReplicationProgressHealth": "InProgress" if initial else "None",
        "resyncProgressPercentage": None, "resyncProcessedBytes": None, "resyncTransferredBytes": None,
        "resyncProgressHealth": "None", "resyncRequired": "false", "resyncState": "None",
        "protectedDisks": [{"diskId": _disk_id(item, i), "diskName": _disk_name(item, i), "isOSDisk": str(i == 0).lower(),
                            "capacityInBytes": _bytes(gb), "diskUuid": disk_uuid(item, i),
                            "dataPendingInLogDataStoreInMB": 0.0, "dataPendingAtSourceAgentInMB": 0.0,
                            "isInitialReplicationComplete": "false" if initial else "true",
                            "lastSyncTime": points[0]["time"] if points else (iso(item["pf_start"]) if item["pf_start"]
                                                                              else None)}
                           for i, gb in enumerate(spec["disk_sizes_gb"])],
        "mobilityAgentDetails": {"version": "9.63.7187.1", "latestVersion": None, "driverVersion": "9.63.7187.1",
                                 "latestUpgradableVersionWithoutReboot": None, "lastHeartbeatUtc": _ago(heartbeat),
                                 "reasonsBlockingUpgrade": ["UnsupportedProtectionScenario"], "isUpgradeable": "false"},
        "vmNics": [{"macAddress": mac, "networkName": None, "adapterType": None, "sourceIpAddress": _ip(world, item)}
                   for mac in src["macs"]]}
    if item["pf_start"]:  # present once a planned failover ran, kept across later reprotects (recorded)
        details["lastPlannedFailoverStartTime"] = iso(item["pf_start"])
        details["lastPlannedFailoverStatus"] = item["pf_status"]
    details.update({"discoveredVmDetails": _discovered(world, item, src),
                    "lastUsedPolicyId": forward["id"] if forward else None,
                    "lastUsedPolicyFriendlyName": forward["name"] if forward else None,
                    "isAgentRegistrationSuccessfulAfterFailover": registered})
    return details


def recovery_point_details(world, item):
    if world.provider(item) == "InMageRcm":
        return {"instanceType": "InMageRcm", "isMultiVmSyncPoint": "True" if item["spec"]["replication_group"] else "False"}
    return None
