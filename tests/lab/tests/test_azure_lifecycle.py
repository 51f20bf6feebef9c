# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The classic failback lifecycle through the real SDKs: reprotect, failover, commit, reprotect
back to Azure, for one original-location and one alternate-location item."""


import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.lab import spec as lab_spec

from . import recorded_values as rec
from .models import assert_known

COMMITTED = rec.allowed_operations(rec.COMMITTED_FORWARD)  # CompleteMigration, DisableProtection, SwitchProtection
PENDING = rec.allowed_operations(rec.PENDING_FORWARD)  # ... Commit ... (the lab's InMage pending rows take it too)


def failback_inputs(lab, mt_name, datastore=None):
    details = lab.fabric_details()
    mt = next(m for m in details.master_target_servers if m.name == mt_name)
    # the configuration server's own process server, as the recorded failback reprotect used it (no PS in Azure)
    cs = lab.asr.replication_fabrics.get(lab.rg, lab.vault, lab.fabric).properties.friendly_name
    ps = next(p for p in details.process_servers if p.friendly_name == cs)
    mappings = lab.asr.replication_protection_container_mappings.list_by_replication_protection_containers(
        lab.rg, lab.vault, lab.fabric, lab.container)
    profile = next(m.properties.policy_id for m in mappings
                   if m.properties.target_protection_container_id.endswith(lab.container))
    provider = {"instanceType": "InMage", "masterTargetId": mt.id, "processServerId": ps.id,
                "retentionDrive": mt.retention_volumes[0].volume_name, "runAsAccountId": details.run_as_accounts[0].account_id,
                "profileId": profile,
                "diskExclusionInput": {"volumeOptions": [{"volumeLabel": "Temporary Storage",
                                                          "onlyExcludeIfSingleVolume": "Yes"}]}}
    if datastore:
        provider["datastoreName"] = datastore
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": provider}}


def failover_input(kind="LatestTime", site="Required", point=None):
    provider = {"instanceType": "InMage", "recoveryPointType": kind}
    if point:
        provider["recoveryPointId"] = point
    return {"properties": {"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": site,
                           "providerSpecificDetails": provider}}


def azure_reprotect_input(lab):
    details = lab.fabric_details()
    onprem = next(p for p in details.process_servers if p.friendly_name == "cs01")
    policy = next(p.id for p in lab.asr.replication_policies.list(lab.rg, lab.vault)
                  if p.properties.provider_specific_details.instance_type == "InMageAzureV2")
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
        "instanceType": "InMageAzureV2", "masterTargetId": onprem.id, "processServerId": onprem.id, "runAsAccountId": "2",
        "policyId": policy}}}


def test_lro_headers_are_the_ones_asr_sends(lab):
    recorded = rec.asr.load(rec.LRO_202)[1]["headers"]
    version = recorded["Location"][0].rsplit("api-version=", 1)[1]  # pinned, whatever the request's (2021-06-01)
    poller, job_name, headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"))
    item = lab.emulator.world.items["app01"]
    assert headers["Location"] == "%s/Subscriptions/%s/operationresults/%s?api-version=%s" % (
        lab.url, item["id"].split("/", 2)[2], job_name, version)
    assert headers["Azure-AsyncOperation"] == "%s/Subscriptions/%s/replicationOperationStatus/%s?api-version=%s" % (
        lab.url, lab.emulator.world.vault_id.split("/", 2)[2], job_name, version)
    job_id = "/Subscriptions/%s/replicationJobs/%s" % (lab.emulator.world.vault_id.split("/", 2)[2], job_name)
    # sent twice as recorded (requests joins the repeated header)
    assert len(recorded["x-ms-request-id"]) == 2 and headers["x-ms-request-id"] == "%s, %s" % (job_id, job_id)
    assert headers["Retry-After"] == "0"  # timings.retry_after_seconds; ASR's 30 is the spec's default
    assert recorded["Retry-After"] == ["30"] and lab_spec.TIMINGS["retry_after_seconds"] == 30
    poller.result()


def test_original_location_lifecycle(lab, effects):
    compute = lab.compute
    lab.control("POST", "/timings", {"agent_registration_seconds": 30})
    before = lab.item("app01")
    assert before.properties.allowed_operations == COMMITTED
    target_vm = before.properties.provider_specific_details.target_vm_id

    # 1. reprotect Azure -> on-prem: the SDK poller returns the item, the job shows every task done but the commit
    # (the failover was committed): the recorded SwitchProtection job
    poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"))
    item = poller.result()
    assert_known(item)
    job = lab.wait_job(job_name)
    assert (job.properties.scenario_name, job.properties.friendly_name, job.properties.custom_details.instance_type) \
        == rec.job_names(rec.REPROTECT_JOB) and job.properties.state == "Succeeded"
    assert [t.name for t in job.properties.tasks] == rec.job_tasks(rec.REPROTECT_JOB)
    assert [t.state for t in job.properties.tasks] == ["Succeeded", "Other", "Succeeded", "Succeeded", "Succeeded"]
    assert job.properties.custom_details.new_replication_protected_item_id == lab.emulator.world.items["app01"]["id"]
    child = job.properties.tasks[2].group_task_custom_details.child_tasks[0].custom_details.job_task
    assert child.job_scenario_name == "DiscoverReplica" and child.target_instance_type == "Vm"
    assert lab.asr.replication_jobs.get(lab.rg, lab.vault, child.job_id.rsplit("/", 1)[1]).properties.state == "Succeeded"
    assert job.properties.allowed_actions == []
    item = lab.item("app01")
    details = item.properties.provider_specific_details
    assert details.instance_type == "InMage" and details.active_site_type == "Azure"
    assert item.properties.protection_state == "Protected" and item.properties.active_location == "Primary"
    assert item.properties.allowed_operations == rec.allowed_operations(rec.REPLICATING_BACK)
    assert item.properties.policy_id.endswith("/replicationPolicies/policy-24h-failback")
    assert effects.names() == ["check_reprotect", "prepare_original_location"]
    assert effects.calls[0] == ("check_reprotect", "app01", "mt-win01", None, True)
    # the VMs are named by the instance UUIDs ASR recorded (the spec's app01 and mt-win01)
    uuids = {vm["name"]: vm["instance_uuid"] for vm in lab.emulator.spec["vcenter"]["datacenters"][0]["vms"]}
    assert effects.uuids[:2] == [("check_reprotect", uuids["app01"], uuids["mt-win01"]),
                                 ("prepare_original_location", uuids["app01"], uuids["mt-win01"])]

    # 2. replication produces recovery points (crash-consistent, every 2nd application-consistent)
    points = lab.wait_points("app01", 4)  # two of them application-consistent: LatestTag has a choice to make
    assert {p.properties.recovery_point_type for p in points} == {"CrashConsistent", "ApplicationConsistent"}

    # 3. failover from Azure with the Azure VM shut down (sourceSiteOperations Required)
    poller, job_name, _headers = lab.item_call("unplanned_failover", "app01", failover_input("LatestTag"))
    item = poller.result()
    job = lab.wait_job(job_name)
    assert (job.properties.scenario_name, job.properties.friendly_name, job.properties.custom_details.instance_type) \
        == rec.job_names(rec.FAILBACK_JOB)
    assert [t.name for t in job.properties.tasks] == rec.job_tasks(rec.FAILBACK_JOB)
    assert all(t.state == "Succeeded" for t in job.properties.tasks)
    assert job.properties.custom_details.affected_object_details["recoveryFabricProviderId"] == "VMware"
    item = lab.item("app01")
    assert item.properties.protection_state == "UnplannedFailoverCommitPendingStatesBegin"
    assert item.properties.allowed_operations == PENDING
    assert item.properties.last_successful_failover_time is not None
    # LatestTag: the newest application-consistent point when the failover stopped the replication (the points
    # served now end there); an InMage item shows "" as its failover point (fact 5): the lab's state names it
    tagged = sorted((p for p in lab.wait_points("app01") if p.properties.recovery_point_type == "ApplicationConsistent"),
                    key=lambda p: p.properties.recovery_point_time, reverse=True)
    assert item.properties.failover_recovery_point_id == ""
    assert lab.emulator.world.items["app01"]["failover_point_id"].rsplit("/", 1)[1] == tagged[0].name
    assert item.properties.provider_specific_details.active_site_type == "OnPrem"
    assert item.properties.provider_specific_details.master_target_id
    vm = compute.virtual_machines.get("rg-recovery", "app01", expand="instanceView")
    assert "PowerState/stopped" in [s.code for s in vm.instance_view.statuses]
    assert effects.names()[2:] == ["restore_original_location", "power_on"]

    # 4. commit deletes the Azure VM; its disks and NIC stay behind (deleteOption Detach)
    poller, job_name, _headers = lab.item_call("failover_commit", "app01")
    poller.result()
    job = lab.wait_job(job_name)
    assert (job.properties.scenario_name, job.properties.friendly_name) == rec.job_names(rec.COMMIT_JOB)[:2]
    assert [t.name for t in job.properties.tasks] == rec.job_tasks(rec.COMMIT_JOB)
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get("rg-recovery", "app01")
    assert target_vm.endswith("/virtualMachines/app01")
    leftovers = [d for d in compute.disks.list_by_resource_group("rg-recovery") if d.name.startswith("app01")]
    assert len(leftovers) == 2 and all(d.managed_by is None and d.properties.disk_state == "Unattached" for d in leftovers)
    item = lab.item("app01")
    assert (item.properties.protection_state, item.properties.protection_state_description) == rec.protection_state(
        rec.COMMITTED_BACK)
    assert item.properties.active_location == "Recovery"
    assert item.properties.allowed_operations == rec.allowed_operations(rec.COMMITTED_BACK)

    # 5. reprotect back to Azure: refused until the agent registered, then accepted
    poller, job_name, _headers = lab.item_call("reprotect", "app01", azure_reprotect_input(lab))
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert "AgentNotRegistered" in str(failed.value)
    job = lab.wait_job(job_name)
    assert job.properties.state == "Failed"
    assert job.properties.errors[0].service_error_details.code == "AgentNotRegistered"
    # registration is due at once (0 s after power-on): no sleep, no race with the clock
    lab.control("POST", "/timings", {"agent_registration_seconds": 0})
    poller, job_name, _headers = lab.item_call("reprotect", "app01", azure_reprotect_input(lab))
    item = poller.result()
    assert item.properties.provider_specific_details.instance_type == "InMageAzureV2"
    assert item.properties.protection_state == "Protected"
    assert lab.stage("app01") == "reprotected_to_azure"
    assert effects.names() == ["check_reprotect", "prepare_original_location", "restore_original_location", "power_on"]


def test_alternate_location_lifecycle_with_job_polling_only(lab, effects):
    inputs = failback_inputs(lab, "mt-lin01", datastore="vmfs-01")
    _poller, job_name, _headers = lab.item_call("reprotect", "web02", inputs, polling=False)
    job = lab.wait_job(job_name)
    assert job.properties.state == "Succeeded", job.properties.errors
    assert effects.calls == [("check_reprotect", "web02", "mt-lin01", "vmfs-01", False),
                             ("prepare_alternate_location", "web02", "mt-lin01", "vmfs-01", [40, 80])]
    lab.wait_points("web02")
    _poller, job_name, _headers = lab.item_call("unplanned_failover", "web02", failover_input(site="NotRequired"),
                                                polling=False)
    job = lab.wait_job(job_name)
    assert job.properties.state == "Succeeded", job.properties.errors
    assert [(t.state, t.state_description) for t in job.properties.tasks[1:3]] == [("Other", "Skipped")] * 2
    assert effects.calls[2:] == [("create_vm_from_master_target", "web02", "mt-lin01", "vmfs-01", 2, 8192,
                                  "rhel8_64Guest", "bios"), ("power_on", "web02")]
    vm = lab.compute.virtual_machines.get("rg-recovery-web", "web02", expand="instanceView")
    assert "PowerState/running" in [s.code for s in vm.instance_view.statuses]  # NotRequired: ASR left it running
    _poller, job_name, _headers = lab.item_call("failover_commit", "web02", polling=False)
    assert lab.wait_job(job_name).properties.state == "Succeeded"
    assert lab.stage("web02") == "failback_committed"
    jobs = list(lab.asr.replication_jobs.list(lab.rg, lab.vault, filter="targetObjectName eq 'web02'"))
    # the reprotect's DiscoverReplica child is a job of its own (recorded), started by the reprotect's third task
    assert [j.properties.scenario_name for j in jobs] == [
        "CommitFailover", "UnplannedFailover", "DiscoverReplica", "SwitchReplicationGroupProtection"]


def test_custom_recovery_point_and_wrong_stage(lab, effects):
    points = lab.wait_points("db01", 1)
    chosen = points[-1]
    lab.emulator.world.items["db01"]["spec"]["multi_vm_group_name"] = lab.emulator.world.items["db01"]["spec"][
        "multi_vm_group_id"]  # leave the replication group so that item-level failover is allowed
    poller, _job_name, _headers = lab.item_call("unplanned_failover", "db01", failover_input("Custom", point=chosen.id))
    poller.result()
    assert lab.emulator.world.items["db01"]["failover_point_id"] == chosen.id
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("unplanned_failover", "db01", failover_input())
    assert refused.value.status_code == 400 and "Allowed operations: %s." % ", ".join(PENDING) in str(refused.value)


def test_forward_failover_to_azure_and_commit(lab_factory):
    lab = lab_factory({"asr": {"items": [{"name": "fs02", "source": "physical", "stage": "reprotected_to_azure",
                                          "recovery_points": [{"age_minutes": 1}]}]}})
    body = {"properties": {"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
                           "providerSpecificDetails": {"instanceType": "InMageAzureV2"}}}
    poller, job_name, _headers = lab.item_call("unplanned_failover", "fs02", body)
    item = poller.result()
    assert (item.properties.protection_state, item.properties.protection_state_description) == rec.protection_state(
        rec.PENDING_FORWARD)
    assert lab.wait_job(job_name).properties.custom_details.affected_object_details["recoveryFabricProviderId"] == "Azure"
    vm = lab.compute.virtual_machines.get("rg-recovery", "fs02", expand="instanceView")
    assert "PowerState/running" in [s.code for s in vm.instance_view.statuses]
    poller, job_name, _headers = lab.item_call("failover_commit", "fs02")
    item = poller.result()
    assert item.properties.allowed_operations == COMMITTED
    assert item.properties.provider_specific_details.target_vm_id == vm.id


def test_reprotect_of_an_uncommitted_failback_commits_it_first(lab_factory, effects):
    """ASR offers SwitchProtection before the commit and its reprotect job commits first (CommitFailoverTask runs:
    lro_202.reProtect.to_azure.InMageRcmFailback...; here the classic stack, where the lab does the same)."""
    lab = lab_factory({"timings": {"agent_registration_seconds": 0},
                       "asr": {"items": [{"name": "app01", "stage": "failed_back", "master_target": "mt-win01"}]}})
    assert "SwitchProtection" in lab.item("app01").properties.allowed_operations
    poller, job_name, _headers = lab.item_call("reprotect", "app01", azure_reprotect_input(lab))
    item = poller.result()
    job = lab.wait_job(job_name)
    assert [(t.name, t.state) for t in job.properties.tasks][1] == ("VmCommitFailover", "Succeeded")
    child = job.properties.tasks[4].group_task_custom_details.child_tasks[0].custom_details.job_task
    assert child.job_scenario_name == "EnableDr" and child.job_friendly_name == "Enable replication"
    with pytest.raises(ResourceNotFoundError):  # the commit deleted the Azure VM
        lab.compute.virtual_machines.get("rg-recovery", "app01")
    assert item.properties.provider_specific_details.instance_type == "InMageAzureV2"
    assert lab.stage("app01") == "reprotected_to_azure"


def test_reprotect_of_an_uncommitted_failover_to_azure_commits_it_first(lab_factory, effects):
    lab = lab_factory({"asr": {"items": [{"name": "app01", "stage": "failed_over_to_azure"}]}})
    poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"))
    poller.result()
    job = lab.wait_job(job_name)
    assert job.properties.state == "Succeeded" and job.properties.tasks[1].state == "Succeeded"
    assert lab.stage("app01") == "replicating_to_onprem"
    assert lab.compute.virtual_machines.get("rg-recovery", "app01").name == "app01"  # a forward commit keeps the VM


def test_the_job_list_pages_leaves_tasks_and_errors_to_the_get_and_takes_the_query_parameters(lab_factory):
    lab = lab_factory({"timings": {"page_size": 1}})
    inputs = failback_inputs(lab, "mt-lin01", datastore="vmfs-01")
    _poller, reprotect, _headers = lab.item_call("reprotect", "web02", inputs, polling=False)
    assert lab.wait_job(reprotect).properties.state == "Succeeded"
    since = "startTime eq '2000-01-01T00:00:00Z'"
    jobs = list(lab.asr.replication_jobs.list(lab.rg, lab.vault, filter=since))
    # one job per page here: the SDK followed nextLink through every page (the reprotect and its child)
    assert {j.properties.scenario_name for j in jobs} == {"SwitchReplicationGroupProtection", "DiscoverReplica"}
    # as ReplicationJobs_List.json: the list leaves tasks and errors empty; the GET has them
    listed = next(j for j in jobs if j.name == reprotect)
    assert listed.properties.tasks == [] and listed.properties.errors == []
    assert lab.asr.replication_jobs.get(lab.rg, lab.vault, reprotect).properties.tasks
    named = list(lab.asr.replication_jobs.list(lab.rg, lab.vault, filter=since + " and jobName eq 'DiscoverReplica'"
                                               " and timezoneOffset eq '0'"))
    assert [j.properties.scenario_name for j in named] == ["DiscoverReplica"]
    assert list(lab.asr.replication_jobs.list(lab.rg, lab.vault, filter="startTime eq '2999-01-01T00:00:00Z'")) == []
