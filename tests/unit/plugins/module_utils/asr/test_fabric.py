# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.fabric: the failback infrastructure from a fabric list and a vCenter list (asr-api.md 3.5)."""

import datetime

from azure.mgmt.recoveryservicessiterecovery.models import Fabric, VCenter

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)


def vmware_fabric():
    return Fabric({"id": "/x/replicationFabrics/fab1", "name": "fab1", "properties": {
        "friendlyName": "cs01", "health": "Critical",
        "healthErrorDetails": [{"errorCode": "ConfigurationServerNotRunning", "errorLevel": "Critical",
                                "errorCategory": "Configuration", "summaryMessage": "not running"}],
        "customDetails": {
            "instanceType": "VMware", "csServiceStatus": "Stopped", "lastHeartbeat": "2026-11-26T10:00:00Z",
            "agentVersion": "9.62", "versionStatus": "Supported", "ipAddress": "10.0.0.10",
            "agentVersionDetails": {"version": "9.62", "status": "UpdateRequired"},
            "processServers": [{"friendlyName": "ps1", "id": "PS-1", "ipAddress": "10.1.0.4", "health": "Normal",
                                "psServiceStatus": "Running", "lastHeartbeat": "2026-11-26T11:59:30Z",
                                "versionStatus": "Supported", "osType": "Windows"}],
            "masterTargetServers": [{"id": "MT-1", "name": "mt-win01", "osType": "Windows", "osVersion": "2019",
                                     "agentVersion": "9.62", "versionStatus": "Supported", "diskCount": 58,
                                     "lastHeartbeat": "2026-11-26T11:59:00Z",
                                     "validationErrors": [{"errorCode": "RetentionVolumeFileSystemNotSupported",
                                                           "errorLevel": "Warning"}],
                                     "dataStores": [{"symbolicName": "vmfs-01", "type": "VMFS", "capacity": "8192",
                                                     "freeSpace": "4096.5"}],
                                     "retentionVolumes": [{"volumeName": "R:", "capacityInBytes": 500 * 1024 ** 3,
                                                           "freeSpaceInBytes": 420 * 1024 ** 3,
                                                           "thresholdPercentage": 80}]}],
            "runAsAccounts": [{"accountId": "1", "accountName": "discovery"}]}}})


def rcm_fabric():
    return Fabric({"id": "/x/replicationFabrics/fab2", "name": "fab2", "properties": {
        "friendlyName": "appliance", "customDetails": {"instanceType": "InMageRcm"}}})


class FakeVault:
    def fabrics(self):
        return [vmware_fabric(), rcm_fabric()]

    def vcenters(self):
        return [VCenter({"id": "/x/replicationvCenters/vc1", "name": "vc1", "properties": {
            "friendlyName": "vcenter01.lab", "ipAddress": "10.0.0.20", "port": "443", "discoveryStatus": "Failed",
            "lastHeartbeat": "2026-11-26T10:00:00Z", "runAsAccountId": "1", "processServerId": "PS-1",
            "internalId": "9", "fabricArmResourceName": "fab1", "healthErrors": [{"errorCode": "VCenterNotConnected"}]}})]


def test_describe():
    result = fabric.describe(FakeVault(), now=NOW)
    cs = result["configuration_servers"]
    assert len(cs) == 1
    assert cs[0]["name"] == "cs01" and cs[0]["fabric_name"] == "fab1"
    assert (cs[0]["service_status"], cs[0]["heartbeat_age_seconds"], cs[0]["health"]) == ("Stopped", 7200, "Critical")
    assert (cs[0]["version_status"], cs[0]["agent_version_status"]) == ("Supported", "UpdateRequired")
    assert cs[0]["health_errors"][0]["code"] == "ConfigurationServerNotRunning"
    ps = result["process_servers"][0]
    assert (ps["name"], ps["id"], ps["ip"], ps["service_status"], ps["heartbeat_age_seconds"]) == (
        "ps1", "PS-1", "10.1.0.4", "Running", 30)
    mt = result["master_targets"][0]
    assert (mt["disk_count"], mt["disk_limit"], mt["heartbeat_age_seconds"]) == (58, 60, 60)
    assert mt["datastores"] == [{"name": "vmfs-01", "type": "VMFS", "capacity_gb": 8192.0, "free_gb": 4096.5}]
    assert [e["code"] for e in mt["validation_errors"]] == ["RetentionVolumeFileSystemNotSupported"]
    assert mt["retention_volumes"] == [{"name": "R:", "capacity_gb": 500.0, "free_gb": 420.0, "threshold_percentage": 80}]
    assert result["run_as_accounts"] == [{"id": "1", "name": "discovery", "fabric_name": "fab1"}]
    vc = result["vcenters"][0]
    assert (vc["name"], vc["discovery_status"], vc["heartbeat_age_seconds"], vc["fabric_name"]) == (
        "vcenter01.lab", "Failed", 7200, "fab1")
    assert vc["health_errors"][0]["code"] == "VCenterNotConnected"


def test_age_seconds():
    assert fabric.age_seconds(None, NOW) is None
    assert fabric.age_seconds("2026-11-26T11:59:00Z", NOW) == 60
    assert fabric.age_seconds(datetime.datetime(2026, 11, 26, 11, 0, 0), NOW) == 3600  # naive means UTC
    assert fabric.age_seconds("not a time", NOW) is None
