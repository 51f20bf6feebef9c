# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every recorded fabric and vCenter of the live service (tests/recorded/asr) through asr.fabric, the site
readiness rules and the providers' choices; the reprotect requests the collection builds from them against the
requests the service accepted. Heartbeat ages are taken at the recorded read time (README fact 17); expected
values are written by hand from the recordings."""

import datetime

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric, reprotect
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.providers import classic, modernized
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import readiness, readiness_modern
from ansible_collections.siterecovery.failback.tests.recorded import asr
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk as rec
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes


def at(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# fabric file, read time (x-ms-routing-request-id, or the next recorded request for the shared copies)
READ = {
    "fabric_get.VMware.healthy.v2aFailbackReprotect": at("2021-04-05T17:50:51Z"),
    "fabrics_list.V2ATestFailback": at("2021-04-06T12:02:35Z"),
    "fabric_get.VMware.unhealthy_cs.V2AFabricTests": at("2017-09-19T05:40:06Z"),
    "fabric_get.InMageRcm.TestV2ARCMFailback": at("2021-08-26T08:11:35Z"),
}


def describe(name, now=None):
    client = fakes.FakeSiteRecovery(fabrics=rec.models_of("fabric", name),
                                    vcenters=rec.models_of("vcenter", "vcenter_get.classic.V2AVCenterTest"))
    return fabric.describe(fakes.vault(client), now=now or READ[name])


def test_every_recorded_fabric_is_read():
    assert set(asr.names("fabric*")) == set(READ)


def test_the_healthy_classic_fabric():
    infra = describe("fabric_get.VMware.healthy.v2aFailbackReprotect")
    [cs] = infra["configuration_servers"]
    assert (cs["name"], cs["service_status"], cs["health"], cs["version_status"], cs["agent_version_status"],
            cs["heartbeat_age_seconds"]) == ("PwsTestCS", "Running", "Normal", "Supported", "Supported", 480)
    assert {p["name"]: (p["id"], p["health"], p["service_status"], p["heartbeat_age_seconds"])
            for p in infra["process_servers"]} == {
        "V2A-PS-200": ("30AE6187-5869-8E44-B8AF6AA66E3ECC8F", "Normal", "Running", 607),
        "PwsTestCS": ("14968BDF-E18E-7F45-A9B0E3EFAC2DDCA2", "Normal", "Running", 578)}
    mts = {m["name"]: m for m in infra["master_targets"]}
    assert (mts["PwsTestCS"]["disk_count"], mts["PwsTestCS"]["datastores"], mts["PwsTestCS"]["heartbeat_age_seconds"]) == (
        0, [], 547)
    assert mts["V2A-PS-200"]["datastores"] == [
        {"name": "datastore1", "type": "VMFS", "capacity_gb": 439.5, "free_gb": 154.11},
        {"name": "DS-77", "type": "VMFS", "capacity_gb": 2047.75, "free_gb": 247.02}]
    assert (mts["V2A-PS-200"]["disk_count"], mts["V2A-PS-200"]["heartbeat_age_seconds"]) == (3, 533)
    assert mts["V2A-PS-200"]["retention_volumes"] == [{"name": "F", "capacity_gb": 10.0, "free_gb": 9.95,
                                                       "threshold_percentage": None}]
    assert [a["id"] for a in infra["run_as_accounts"]] == ["1", "2", "3"]
    [vcenter] = infra["vcenters"]
    assert (vcenter["name"], vcenter["discovery_status"], vcenter["internal_id"], vcenter["port"],
            vcenter["process_server_id"]) == ("vcenter67", "Completed", "8", "443", "14968BDF-E18E-7F45-A9B0E3EFAC2DDCA2")
    assert describe("fabric_get.VMware.healthy.v2aFailbackReprotect", now=at("2021-04-05T18:02:34Z"))[
        "vcenters"][0]["heartbeat_age_seconds"] == 29


def test_values_are_the_services_strings_not_sdk_enums():
    # fault: the SDK turns a process server's / appliance's health and agentVersionDetails.status into enums, which
    # print as ProtectionHealth.NORMAL
    infra = describe("fabric_get.VMware.healthy.v2aFailbackReprotect")
    modern = describe("fabric_get.InMageRcm.TestV2ARCMFailback")
    for value in ([p["health"] for p in infra["process_servers"]] + [infra["configuration_servers"][0]["agent_version_status"]]
                  + [a["health"] for a in modern["appliances"]]):
        assert value.__class__ is str and "." not in value  # a plain str, not an SDK enum (a str subclass)


def test_the_unhealthy_2017_configuration_server_is_refused():
    infra = describe("fabric_get.VMware.unhealthy_cs.V2AFabricTests")
    [cs] = infra["configuration_servers"]
    assert (cs["health"], cs["version_status"], cs["heartbeat_age_seconds"]) == ("Error", "NotSupported", 916)
    assert [p["health"] for p in infra["process_servers"]] == [None]  # this older shape has no process server health
    ctx = {"configuration_servers": infra["configuration_servers"]}
    assert [f["message"] for f in readiness.cs_running(ctx)] == [
        "Configuration server V2A-W2K12-400 is not running and healthy (service status Running, health Error, health "
        "errors UnsupportedDraVersionForAcsToAadMigration, version NotSupported)."]
    # its heartbeat, 15 minutes old, is within the tolerated age: the health is what refuses it
    assert readiness.cs_heartbeat(ctx) == []


@pytest.mark.parametrize("name", ["fabric_get.VMware.healthy.v2aFailbackReprotect", "fabrics_list.V2ATestFailback"])
def test_healthy_classic_fabrics_pass_the_site_rules(name):
    # heartbeats 8 to 13 minutes old are what healthy configuration servers show (fact 17)
    infra = describe(name)
    ctx = {"configuration_servers": infra["configuration_servers"], "vcenters": infra["vcenters"], "vsphere": {}}
    assert readiness.cs_running(ctx) == readiness.cs_heartbeat(ctx) == readiness.vcenter_connected(ctx) == []
    ages = [infra["configuration_servers"][0]["heartbeat_age_seconds"]] + [
        s["heartbeat_age_seconds"] for s in infra["process_servers"] + infra["master_targets"]]
    assert all(8 * 60 <= age <= 13 * 60 for age in ages), ages


def test_the_appliance_message_prints_the_health_value():
    # fault: "Rcm-App-150 is ProtectionHealth.NORMAL, last heartbeat ..."
    later = at("2021-08-26T10:11:35Z")  # two hours after the recorded read: both heartbeats are stale
    appliances = describe("fabric_get.InMageRcm.TestV2ARCMFailback", now=later)["appliances"]
    vm = {"name": "Rcm-W2K16-153", "appliance": None, "item": {"failback_stage": "running_in_azure"}}
    [finding] = readiness_modern.appliance_health(vm, {"appliances": appliances})
    assert finding["message"] == ("No healthy replication appliance for Rcm-W2K16-153: Rcm-App-150 is Normal, last heartbeat "
                                  "7311 s ago; Rcm-App-151 is Normal, last heartbeat 7222 s ago.")
    # at the read time both are healthy (0 to 2 minutes old)
    fresh = describe("fabric_get.InMageRcm.TestV2ARCMFailback")["appliances"]
    assert [a["heartbeat_age_seconds"] for a in fresh] == [111, 22]
    assert readiness_modern.appliance_health(vm, {"appliances": fresh}) == []


def test_the_appliance_choice_and_its_refusal_print_values():
    details = rec.one("fabric", "fabric_get.InMageRcm.TestV2ARCMFailback").properties.custom_details
    # the one the recorded reprotect used: both reach SharedDS-84-85, the first by name
    assert modernized.appliance(details, None, "SharedDS-84-85").id == "7d30ec24-f20e-4c17-8dfd-d7ccb444b072"
    assert modernized.appliance(details, "RCM-APP-151").name == "Rcm-App-151"
    with pytest.raises(AzureError) as caught:
        modernized.appliance(details, None, "vmfs-99")
    assert "Rcm-App-150 Normal reaches datastore-85" in caught.value.msg


def test_a_process_servers_health_is_printed_as_its_value():
    body = rec.body("fabric_get.VMware.healthy.v2aFailbackReprotect")
    for server in body["properties"]["customDetails"]["processServers"]:
        server["health"] = "Critical"
    details = rec.sdk("fabric", body).properties.custom_details
    with pytest.raises(AzureError) as caught:
        classic.process_server(details, own="PwsTestCS")
    assert caught.value.msg == ("Name the process server to use (process_server): none of its process servers is healthy "
                                "(V2A-PS-200: health Critical; PwsTestCS: health Critical).")


# ------------------------------------------------------------------------------------------ the accepted requests
def vault_of(item_file, fabric_file, policies, mappings, after=None):
    """``after(name, friendly)``: the model ASR makes of each item once the action starts."""
    client = fakes.FakeSiteRecovery(items=rec.models_of("item", item_file), fabrics=rec.models_of("fabric", fabric_file),
                                    policies=rec.models_of("policy", policies), mappings=rec.models_of("mapping", mappings))
    for model in client.items if after else ():
        client.after[model.name] = after(model.name, model.properties.friendly_name)
    return client, fakes.vault(client)


names = fakes.reprotect_names


def test_classic_reprotect_back_to_azure_is_the_accepted_request():
    client, vault = vault_of("item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect",
                             "fabric_get.VMware.healthy.v2aFailbackReprotect", "policies.classic.V2ATestFailback",
                             "container_mappings_list.V2ATestFailback",
                             after=lambda name, friendly: fakes.forward_item(
                                 name=name, friendly=friendly, lastSuccessfulFailoverTime="2021-04-06T12:30:00Z"))
    outcome = reprotect.ensure(None, vault, {"vms": ["V2A-W2K16-201"]}, "to_azure",
                               names(process_server="V2A-PS-200", run_as_account="2"), False, fakes.deadline(), poll=0.01)
    assert outcome["vms"][0]["stage_before"] == "failback_committed"
    assert client.action_bodies("reprotect")["V2A-W2K16-201-new"] == rec.source(
        "lro_202.reProtect.to_azure.InMageAzureV2.V2ATestReprotect")["request_body"]


def test_modernized_reprotect_to_onprem_is_the_accepted_request():
    client, vault = vault_of("item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect",
                             "fabric_get.InMageRcm.TestV2ARCMFailback", "policies.modernized.TestV2ARCMFailback",
                             "container_mappings_list.modernized.TestV2ARCMFailback",
                             after=lambda name, friendly: fakes.rcm_item(name=name, friendly=friendly))
    storage = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/V2A-ECY/providers/" \
              "Microsoft.Storage/storageAccounts/v2aecystor"
    outcome = reprotect.ensure(None, vault, {"vms": ["Rcm-W2K19-152"]}, "to_onprem",
                               names(datastore="SharedDS-84-85", log_storage_account_id=storage), False,
                               fakes.deadline(), poll=0.01)
    assert (outcome["vms"][0]["stage_before"], outcome["vms"][0]["appliance"]) == ("running_in_azure", "Rcm-App-150")
    assert client.action_bodies("reprotect")["vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8"] == rec.source(
        "lro_202.reProtect.to_onprem.InMageRcm.TestV2ARCMReprotect")["request_body"]
