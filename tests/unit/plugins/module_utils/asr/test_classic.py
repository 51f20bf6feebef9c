# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.providers.classic: names resolved against the recorded VMware fabric, and the request bodies
against the recorded requests (lro_202.unplannedFailover) and asr-api.md section 2."""

import pytest
from azure.mgmt.recoveryservicessiterecovery import models

from ansible_collections.siterecovery.failback.plugins.module_utils.asr.providers import classic
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes


def details(**kwargs):
    return fakes.classic_fabric(**kwargs).properties.custom_details


def refusal(call, *args, **kwargs):
    with pytest.raises(AzureError) as caught:
        call(*args, **kwargs)
    return caught.value


# ------------------------------------------------------------------------------------------------ master target
def test_master_target_by_name():
    assert classic.master_target(details(), fakes.PS).id == fakes.PS_ID
    # the configuration server is one of the master targets too (fabrics_list)
    assert classic.master_target(details(), fakes.CS).id == fakes.CS_PS_ID


def test_unknown_master_target_names_the_registered_ones_sorted():
    error = refusal(classic.master_target, details(), "mt-linux01")
    assert error.details["rule"] == "master_target_available"  # the preflight's rule (domain.rules)
    assert error.msg == ("Master target mt-linux01 is not registered with the configuration server "
                         "(registered: PwsTestCS, V2A-PS-200). Choose a registered master target, or install and "
                         "register this one.")


def test_no_master_target_at_all():
    error = refusal(classic.master_target, details(master_targets=[]), fakes.PS)
    assert "(registered: none)" in error.msg


# ------------------------------------------------------------------------------------------------ process server
def test_process_server_by_name_or_id_in_any_case():
    assert classic.process_server(details(), fakes.CS, own=fakes.CS)[0].id == fakes.CS_PS_ID
    assert classic.process_server(details(), fakes.PS) == (classic.process_server(details(), fakes.PS_ID.lower())[0],
                                                           "named")
    assert classic.process_server(details(), "v2a-ps-200")[0].id == fakes.PS_ID


def test_unknown_process_server():
    error = refusal(classic.process_server, details(), "ps-azure-01")
    assert error.details["rule"] == "process_server"
    assert error.msg == ("Process server ps-azure-01 is not registered (registered: PwsTestCS, V2A-PS-200). Name a "
                         "registered process server (its name or id), or leave process_server out to use the only "
                         "healthy one.")


def test_two_healthy_ones_the_one_that_is_not_the_configuration_servers_own():
    ps, why = classic.process_server(details(), own=fakes.CS)
    assert ps.id == fakes.PS_ID
    assert why == ("the only healthy process server besides configuration server PwsTestCS's own, which stays with "
                   "replication to Azure (healthy: PwsTestCS, V2A-PS-200)")
    assert classic.process_server(details(), own=fakes.PS)[0].id == fakes.CS_PS_ID


def test_two_healthy_ones_and_no_configuration_server_to_set_apart_are_ambiguous():
    error = refusal(classic.process_server, details(), own="other")
    assert error.details["rule"] == "process_server"
    assert error.msg == ("Name the process server to use (process_server): 2 process servers are healthy (PwsTestCS, "
                         "V2A-PS-200): besides configuration server other's own, PwsTestCS, V2A-PS-200 remain, so the "
                         "choice is yours.")


def test_only_the_configuration_servers_own_is_chosen():
    # the all-in-one configuration server of fabric_get.VMware.unhealthy_cs (health null, service Running)
    only_cs = [{"friendlyName": fakes.CS, "id": fakes.CS_PS_ID, "psServiceStatus": "Running"}]
    ps, why = classic.process_server(details(process_servers=only_cs), own=fakes.CS)
    assert ps.id == fakes.CS_PS_ID
    assert why == "the only healthy process server (the configuration server's own)"


def test_the_only_healthy_one_is_chosen_and_the_others_are_named():
    servers = [{"friendlyName": fakes.PS, "id": fakes.PS_ID, "health": "Critical", "psServiceStatus": "Running"},
               {"friendlyName": fakes.CS, "id": fakes.CS_PS_ID, "health": "Normal", "psServiceStatus": "Running"}]
    ps, why = classic.process_server(details(process_servers=servers), own=fakes.CS)
    assert ps.id == fakes.CS_PS_ID
    assert why == "the only healthy process server (the configuration server's own) (not healthy: V2A-PS-200: health Critical)"
    # a Warning is tolerated: both fit, the rule sets the configuration server's own apart
    servers[0]["health"] = "Warning"
    assert classic.process_server(details(process_servers=servers), own=fakes.CS)[0].id == fakes.PS_ID


def test_none_healthy():
    stopped = [{"friendlyName": fakes.CS, "id": fakes.CS_PS_ID, "health": "Normal", "psServiceStatus": "Stopped"},
               {"friendlyName": fakes.PS, "id": fakes.PS_ID, "health": "Error", "psServiceStatus": "Running"}]
    error = refusal(classic.process_server, details(process_servers=stopped), own=fakes.CS)
    assert error.details["rule"] == "process_server"
    assert error.msg == ("Name the process server to use (process_server): none of its process servers is healthy "
                         "(PwsTestCS: service Stopped; V2A-PS-200: health Error).")
    assert refusal(classic.process_server, details(process_servers=[])).msg.endswith(
        "none of its process servers is healthy (it reports none).")


# ------------------------------------------------------------------------------------------------ retention volume
def mt(name=fakes.PS):
    return classic.master_target(details(), name)


def volume(name, free):
    return {"volumeName": name, "capacityInBytes": 10734268416, "freeSpaceInBytes": free}


def mt_with(volumes, datastores=()):
    target = {"id": "MT", "name": "mt", "osType": "Windows", "retentionVolumes": volumes, "dataStores": list(datastores)}
    return classic.master_target(details(master_targets=[target]), "mt")


def test_retention_volume_by_name():
    assert classic.retention_volume(mt(), "F").volume_name == "F"


def test_unknown_retention_volume():
    error = refusal(classic.retention_volume, mt(), "R")
    assert error.details["rule"] == "mt_retention_volume"
    assert error.msg == ("Master target V2A-PS-200 has no retention volume R (it has: F). Name one of its retention "
                         "volumes, or leave retention_volume out to use the one with the most free space.")


def test_no_retention_volume_reported_yet():
    error = refusal(classic.retention_volume, mt_with([]))
    assert error.details["rule"] == "mt_retention_volume"
    assert "15 minutes" in error.msg and "mt" in error.msg


def test_retention_volume_default_is_the_one_with_most_free_space():
    assert classic.retention_volume(mt_with([volume("E", 5), volume("F", 9), volume("G", 7)])).volume_name == "F"
    assert classic.retention_volume(mt_with([volume("G", 9), volume("F", 5)])).volume_name == "G"
    # an unknown free space counts as none
    assert classic.retention_volume(mt_with([volume("E", None), volume("F", 1)])).volume_name == "F"
    assert classic.retention_volume(mt_with([volume("E", None)])).volume_name == "E"


# ------------------------------------------------------------------------------------------------ datastore
def test_datastore_visible_to_the_master_target():
    assert classic.datastore(mt(), "DS-77", "vm1").uuid == "5c5d35b2-509cd314-afbf-f8bc124d5eea"


@pytest.mark.parametrize("kind", ["VMFS", "vsan", "VSAN", "vSAN"])
def test_failback_writes_to_vmfs_and_vsan(kind):
    target = mt_with([volume("F", 1)], [{"symbolicName": "ds", "type": kind}])
    assert classic.datastore(target, "ds", "vm1").type == kind


@pytest.mark.parametrize("kind", ["NFS", "NFS41", "vvol", None])
def test_failback_refuses_other_datastore_types(kind):
    target = mt_with([volume("F", 1)], [{"symbolicName": "ds", "type": kind}])
    error = refusal(classic.datastore, target, "ds", "vm1")
    assert error.details["rule"] == "datastore_type"
    assert error.msg == ("VM vm1: datastore ds is %s; failback writes disks only to VMFS or vSAN datastores. Choose a "
                         "VMFS or vSAN datastore." % (kind or "of an unknown type"))


def test_datastore_not_mounted_on_the_master_target_host():
    error = refusal(classic.datastore, mt(), "DS-99", "vm1")
    assert error.details["rule"] == "datastore_reachable"
    assert error.msg.startswith("VM vm1: datastore DS-99 is not mounted on the ESXi host of master target V2A-PS-200 "
                                "(ASR error 8061; it mounts datastore1, DS-77).")
    # the configuration server's master target mounts nothing (fabrics_list)
    assert "(ASR error 8061; it mounts nothing)" in refusal(classic.datastore, mt(fakes.CS), "datastore1", "vm1").msg


# ------------------------------------------------------------------------------------------------ run-as account
def test_run_as_account_by_name_or_id():
    assert classic.run_as_account(details(), "windowsuser").account_id == "2"
    assert classic.run_as_account(details(), "3").account_name == "linuxuser"


def test_run_as_account_default_is_the_first_or_none():
    assert classic.run_as_account(details()).account_name == "vcenteruser"
    assert classic.run_as_account(details(accounts=[])) is None


def test_unknown_run_as_account():
    error = refusal(classic.run_as_account, details(), "root")
    assert error.details["rule"] == "run_as_account"
    assert "(accounts: linuxuser, vcenteruser, windowsuser)." in error.msg
    # a name is looked up even when no account is known
    assert "(accounts: none)." in refusal(classic.run_as_account, details(accounts=[]), "root").msg


# ------------------------------------------------------------------------------------------------ bodies
def test_reprotect_to_onprem_body_is_inmage_reprotect_input():
    d = details()
    body = classic.reprotect_to_onprem(classic.master_target(d, fakes.PS), classic.process_server(d, fakes.CS)[0],
                                       classic.retention_volume(classic.master_target(d, fakes.PS)),
                                       fakes.FAILBACK_POLICY, "datastore1", classic.run_as_account(d, "windowsuser"))
    # asr-api.md 2.1: RecoveryToPrimary, profileId (not policyId), the temporary disk excluded by label
    assert body == {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
        "instanceType": "InMage", "masterTargetId": fakes.PS_ID, "processServerId": fakes.CS_PS_ID,
        "retentionDrive": "F", "profileId": fakes.FAILBACK_POLICY, "datastoreName": "datastore1", "runAsAccountId": "2",
        "diskExclusionInput": {"volumeOptions": [{"volumeLabel": "Temporary Storage",
                                                  "onlyExcludeIfSingleVolume": "Yes"}]}}}}
    parsed = models.ReverseReplicationInput(body).properties.provider_specific_details
    assert isinstance(parsed, models.InMageReprotectInput)
    assert parsed.disk_exclusion_input.volume_options[0].volume_label == "Temporary Storage"


def test_reprotect_to_onprem_body_leaves_out_what_was_not_given():
    d = details()
    target = classic.master_target(d, fakes.PS)
    provider = classic.reprotect_to_onprem(target, classic.process_server(d, fakes.PS)[0], target.retention_volumes[0],
                                           fakes.FAILBACK_POLICY)["properties"]["providerSpecificDetails"]
    assert "datastoreName" not in provider and "runAsAccountId" not in provider
    assert provider["processServerId"] == fakes.PS_ID
    assert "datastoreName" not in classic.reprotect_to_onprem(target, target, target.retention_volumes[0], "p",
                                                              "")["properties"]["providerSpecificDetails"]


def test_reprotect_to_azure_body_as_recorded():
    # asr-api.md 2.5, captured live (REC-RP): the process server's id as master target, run-as account "2"
    d = details()
    body = classic.reprotect_to_azure(classic.process_server(d, fakes.PS)[0], fakes.FORWARD_POLICY,
                                      classic.run_as_account(d, "windowsuser"))
    assert body == {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
        "instanceType": "InMageAzureV2", "masterTargetId": fakes.PS_ID, "processServerId": fakes.PS_ID,
        "runAsAccountId": "2", "policyId": fakes.FORWARD_POLICY}}}
    assert isinstance(models.ReverseReplicationInput(body).properties.provider_specific_details,
                      models.InMageAzureV2ReprotectInput)


def test_reprotect_to_azure_with_another_master_target_and_no_account():
    provider = classic.reprotect_to_azure(classic.process_server(details(), fakes.PS)[0], fakes.FORWARD_POLICY,
                                          master_target_id="MT-2")["properties"]["providerSpecificDetails"]
    assert provider["masterTargetId"] == "MT-2" and provider["processServerId"] == fakes.PS_ID
    assert "runAsAccountId" not in provider


def test_failover_body_of_an_item_active_on_primary_is_the_recorded_request():
    # lro_202.unplannedFailover.V2ATestFailback: the InMage item (activeLocation Primary) failed back with this body
    assert classic.failover("Primary", "latest_processed", "NotRequired") == {"properties": {
        "failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
        "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"}}}


@pytest.mark.parametrize("location", ["Recovery", None])
def test_failover_direction_otherwise_recovery_to_primary(location):
    assert classic.failover(location, "latest_processed", "Required")["properties"]["failoverDirection"] == \
        "RecoveryToPrimary"


def test_failover_latest_app_consistent_is_latest_tag():
    provider = classic.failover("Primary", "latest_app_consistent", "Required")["properties"]["providerSpecificDetails"]
    assert provider == {"instanceType": "InMage", "recoveryPointType": "LatestTag"}


def test_failover_to_a_custom_point_sends_its_id():
    point_id = fakes.CONTAINER_ID + "/replicationProtectedItems/" + fakes.ITEM + "/recoveryPoints/rp-1"
    body = classic.failover("Primary", point_id, "Required")
    assert body["properties"]["providerSpecificDetails"] == {"instanceType": "InMage", "recoveryPointType": "Custom",
                                                             "recoveryPointId": point_id}
    assert body["properties"]["sourceSiteOperations"] == "Required"
    parsed = models.UnplannedFailoverInput(body).properties.provider_specific_details
    assert isinstance(parsed, models.InMageUnplannedFailoverInput) and parsed.recovery_point_id == point_id


@pytest.mark.parametrize("wanted, kind", [("latest_processed", "LatestTime"), ("latest_app_consistent", "LatestTag")])
def test_plan_failover_body(wanted, kind):
    # asr-api.md 2.3: the plan keeps its orientation; providerSpecificDetails is a list
    body = classic.plan_failover(wanted, "Required")
    assert body == {"properties": {"failoverDirection": "RecoveryToPrimary", "sourceSiteOperations": "Required",
                                   "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": kind}]}}
    parsed = models.RecoveryPlanUnplannedFailoverInput(body).properties.provider_specific_details[0]
    assert isinstance(parsed, models.RecoveryPlanInMageFailoverInput)


def test_plan_failover_refuses_a_custom_point():
    error = refusal(classic.plan_failover, "rp-1", "Required")
    assert error.details["rule"] == "plan_custom_point"
