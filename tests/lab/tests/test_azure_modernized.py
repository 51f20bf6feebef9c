# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modernized flow (replication appliance; InMageRcm -> InMageRcmFailback) through the real
SDKs: bodies, the lifecycle of an original- and an alternate-location item, cancel, plans, refusals."""


import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.lab.effects import EffectError

from . import recorded_values as rec
from .models import assert_known

COMMITTED = rec.allowed_operations(rec.MODERN_COMMITTED_FORWARD)  # CompleteMigration, DisableProtection, SwitchProtection
PENDING_BACK = rec.allowed_operations(rec.MODERN_PENDING_BACK)  # ... Commit ... SwitchProtection, CancelFailover
REPLICATING_BACK = rec.allowed_operations(rec.MODERN_REPLICATING_BACK)  # PlannedFailover, DisableProtection


def chosen_point_time(lab, name):
    """The time of the point the item's last failover used (the lab's state: an InMageRcmFailback item shows "")."""
    item = lab.emulator.world.items[name]
    wanted = item["failover_point_id"].rsplit("/", 1)[1]
    return next(p["time"] for p in lab.emulator.world.points(item) if p["name"] == wanted)


MODERN = {"asr": {
    "flow": "modernized",
    "appliances": [{"name": "appl01", "host": "esx01.lab"},
                   {"name": "appl02", "host": "esx02.lab", "accessible_datastores": ["vmfs-01"]}],
    "items": [{"name": "db01", "appliance": "appl01"}, {"name": "app02", "appliance": "appl01"}]}}
LOG_SA = "/subscriptions/00000000-0000-4000-8000-000000000003/resourceGroups/rg-dr/providers/Microsoft.Storage/" \
         "storageAccounts/asrlog01"


def modern(extra=None):
    from tests.lab import spec as lab_spec
    return lab_spec.merge(MODERN, extra) if extra else MODERN


def agent(lab, name):
    return next(a for a in lab.fabric_details().reprotect_agents if a.name == name)


def reprotect_input(lab, appliance, datastore, **overrides):
    policy = next(p.id for p in lab.asr.replication_policies.list(lab.rg, lab.vault)
                  if p.properties.provider_specific_details.instance_type == "InMageRcmFailback")
    details = {"instanceType": "InMageRcm", "reprotectAgentId": agent(lab, appliance).id, "datastoreName": datastore,
               "logStorageAccountId": LOG_SA, "policyId": policy}
    details.update(overrides)
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": details}}


def planned_input(kind="CrashConsistent"):
    return {"properties": {"providerSpecificDetails": {"instanceType": "InMageRcmFailback", "recoveryPointType": kind}}}


def azure_reprotect_input(lab, appliance="appl01"):
    ps = next(p for p in lab.fabric_details().process_servers if p.name == appliance)
    policy = next(p.id for p in lab.asr.replication_policies.list(lab.rg, lab.vault)
                  if p.properties.provider_specific_details.instance_type == "InMageRcm")
    return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
        "instanceType": "InMageRcmFailback", "processServerId": ps.id, "policyId": policy, "runAsAccountId": "1"}}}


PLAN_PLANNED = {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": [
    {"instanceType": "InMageRcmFailback", "recoveryPointType": "ApplicationConsistent", "useMultiVmSyncPoint": "Enable"}]}}


def power(lab, rg, name):
    view = lab.compute.virtual_machines.instance_view(rg, name)
    return next(s.code for s in view.statuses if s.code.startswith("PowerState/"))


def reprotect_and_replicate(lab, name, appliance="appl01", datastore="vmfs-01"):
    poller, job_name, _headers = lab.item_call("reprotect", name, reprotect_input(lab, appliance, datastore))
    poller.result()
    assert lab.wait_job(job_name).properties.state == "Succeeded"
    lab.wait_points(name)


def test_modernized_bodies_deserialise_cleanly(lab_factory, effects):
    lab = lab_factory(modern({"asr": {"items": [
        {"name": "s5", "source": "physical", "stage": "failed_back", "appliance": "appl02", "datastore": "vmfs-01"},
        {"name": "s3", "source": "physical", "stage": "failback_committed", "appliance": "appl02",
         "datastore": "vmfs-01"}]}}), effects=effects)
    asr, rg, vault = lab.asr, lab.rg, lab.vault
    fabric = asr.replication_fabrics.get(rg, vault, lab.fabric)
    assert_known(fabric, *asr.replication_fabrics.list(rg, vault))
    details = fabric.properties.custom_details
    assert details.instance_type == "InMageRcm"
    assert [(a.name, a.accessible_datastores) for a in details.reprotect_agents] == [
        ("appl01", ["vmfs-01", "vsan-01"]), ("appl02", ["vmfs-01"])]
    assert details.reprotect_agents[0].protected_item_count is None  # ASR sends null (recorded)
    assert details.reprotect_agents[0].vcenter_id == asr.replicationv_centers.get(
        rg, vault, lab.fabric, "vcenter01.lab").properties.internal_id
    assert {p.name for p in details.process_servers} == {"appl01", "appl02"}
    assert lab.asr.replication_protection_containers.get(rg, vault, lab.fabric, lab.container).properties.fabric_type \
        == "InMageRcm"
    policies = list(asr.replication_policies.list(rg, vault))
    assert_known(*policies)
    assert {p.properties.provider_specific_details.instance_type for p in policies} == {"InMageRcm", "InMageRcmFailback"}
    mappings = list(asr.replication_protection_container_mappings.list_by_replication_protection_containers(
        rg, vault, lab.fabric, lab.container))
    assert_known(*mappings)
    items = {i.properties.friendly_name: i for i in asr.replication_protected_items.list(rg, vault)}
    assert_known(*items.values())
    forward = items["app01"].properties.provider_specific_details
    assert forward.instance_type == "InMageRcm" and forward.target_vm_name == "app01"
    assert forward.target_resource_group_id.endswith("/resourceGroups/rg-recovery")
    assert items["app01"].properties.allowed_operations == COMMITTED
    back = items["db01"].properties.provider_specific_details
    assert back.instance_type == "InMageRcmFailback" and back.reprotect_agent_name == "appl01"
    assert back.azure_virtual_machine_id.endswith("/resourceGroups/rg-recovery/providers/Microsoft.Compute/"
                                                  "virtualMachines/db01")
    assert back.target_data_store_name == "vmfs-01" and back.multi_vm_group_name == "rg-app"
    assert items["db01"].properties.allowed_operations == REPLICATING_BACK
    assert (items["s5"].properties.protection_state, items["s5"].properties.protection_state_description) == \
        rec.protection_state(rec.MODERN_PENDING_BACK)
    assert items["s5"].properties.allowed_operations == PENDING_BACK
    assert items["s3"].properties.allowed_operations == COMMITTED  # not recorded: as the recorded committed states
    for name in ("app01", "db01"):
        points = list(asr.recovery_points.list_by_replication_protected_items(rg, vault, lab.fabric, lab.container,
                                                                              lab.item_name(name)))
        assert_known(*points)
    plan = asr.replication_recovery_plans.get(rg, vault, "rp-app")
    assert_known(plan)
    assert plan.properties.allowed_operations == ["PlannedFailover"]
    assert plan.properties.replication_providers == ["InMageRcmFailback"]
    poller, job_name, _headers = lab.item_call("failover_cancel", "s5")
    assert_known(poller.result())
    job = lab.wait_job(job_name)
    assert_known(job, *asr.replication_jobs.list(rg, vault))
    assert (job.properties.scenario_name, job.properties.friendly_name) == rec.job_names(rec.CANCEL_JOB)[:2]


def test_original_location_lifecycle(lab_factory, effects):
    lab = lab_factory(modern(), effects=effects)
    lab.control("POST", "/timings", {"agent_registration_seconds": 30})
    # 1. reprotect through appl01: the on-prem VM powers off, its disks stay (the appliance writes into them)
    poller, job_name, _headers = lab.item_call("reprotect", "app01", reprotect_input(lab, "appl01", "vmfs-01"))
    item = poller.result()
    assert_known(item)
    job = lab.wait_job(job_name)
    assert [t.name for t in job.properties.tasks] == rec.job_tasks(rec.REPROTECT_JOB)
    assert job.properties.tasks[2].group_task_custom_details is None  # modernized: no child jobs (recorded)
    item = lab.item("app01")
    details = item.properties.provider_specific_details
    assert details.instance_type == "InMageRcmFailback" and details.reprotect_agent_id == agent(lab, "appl01").id
    assert details.log_storage_account_id == LOG_SA and details.target_data_store_name == "vmfs-01"
    assert item.properties.allowed_operations == REPLICATING_BACK
    assert effects.calls == [("power_off", "app01")]
    lab.wait_points("app01")
    # null once the initial replication is done, as every recording shows it
    assert lab.item("app01").properties.provider_specific_details.initial_replication_progress_percentage is None

    # 2. unplanned failover is not the failback of the modernized flow
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("unplanned_failover", "app01", {"properties": {
            "failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "Required",
            "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"}}})
    assert refused.value.status_code == 400 and refused.value.error.code == "OperationNotSupported"

    # 3. planned failover: the Azure VM shuts down, a fresh point is taken, the on-prem VM powers on
    poller, job_name, _headers = lab.item_call("planned_failover", "app01", planned_input("ApplicationConsistent"))
    item = poller.result()
    job = lab.wait_job(job_name)
    assert (job.properties.scenario_name, job.properties.friendly_name, job.properties.custom_details.instance_type) \
        == rec.job_names(rec.PLANNED_FAILOVER_JOB) and job.properties.state == "Succeeded"
    assert [t.name for t in job.properties.tasks] == rec.job_tasks(rec.PLANNED_FAILOVER_JOB)
    item = lab.item("app01")
    details = item.properties.provider_specific_details
    assert item.properties.protection_state == rec.protection_state(rec.MODERN_PENDING_BACK)[0]
    assert item.properties.allowed_operations == PENDING_BACK
    assert details.last_planned_failover_status == "Succeeded" and details.last_planned_failover_start_time
    assert details.is_agent_registration_successful_after_failover is False
    assert item.properties.failover_recovery_point_id == ""  # an InMageRcmFailback item names no point (fact 5)
    point = lab.asr.recovery_points.get(lab.rg, lab.vault, lab.fabric, lab.container, lab.item_name("app01"),
                                        lab.emulator.world.items["app01"]["failover_point_id"].rsplit("/", 1)[1])
    assert point.properties.recovery_point_type == "ApplicationConsistent"
    assert power(lab, "rg-recovery", "app01") == "PowerState/stopped"
    assert effects.calls == [("power_off", "app01"), ("power_on", "app01")]

    # 4. commit deletes the Azure VM
    poller, job_name, _headers = lab.item_call("failover_commit", "app01")
    poller.result()
    with pytest.raises(ResourceNotFoundError):
        lab.compute.virtual_machines.get("rg-recovery", "app01")
    item = lab.item("app01")
    assert item.properties.protection_state == "PlannedFailoverCommitted"  # not recorded: the lab's choice
    assert item.properties.allowed_operations == COMMITTED

    # 5. reprotect to Azure: refused until the agent registered again, then InMageRcm Protected
    poller, job_name, _headers = lab.item_call("reprotect", "app01", azure_reprotect_input(lab))
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert "AgentNotRegistered" in str(failed.value)
    # registration is due at once (0 s after power-on): no sleep, no race with the clock
    lab.control("POST", "/timings", {"agent_registration_seconds": 0})
    assert lab.item("app01").properties.provider_specific_details.is_agent_registration_successful_after_failover
    poller, job_name, _headers = lab.item_call("reprotect", "app01", azure_reprotect_input(lab))
    item = poller.result()
    assert item.properties.provider_specific_details.instance_type == "InMageRcm"
    assert item.properties.protection_state == "Protected" and lab.stage("app01") == "reprotected_to_azure"
    assert effects.calls == [("power_off", "app01"), ("power_on", "app01")]


def test_alternate_location_lifecycle(lab_factory, effects):
    lab = lab_factory(modern(), effects=effects)
    reprotect_and_replicate(lab, "web02", appliance="appl02")
    assert effects.calls == []  # nothing on-premises yet: the VM is created at the failover
    assert power(lab, "rg-recovery-web", "web02") == "PowerState/running"
    _poller, job_name, _headers = lab.item_call("planned_failover", "web02", planned_input(), polling=False)
    job = lab.wait_job(job_name)
    assert job.properties.state == "Succeeded", job.properties.errors
    assert effects.calls == [("create_vm_on_datastore", "web02", "vmfs-01", 2, 8192, "rhel8_64Guest", [40, 80], "bios"),
                             ("power_on", "web02")]
    created = lab.emulator.world.items["web02"]["instance_uuid"]  # ASR knows the new VM by its instance UUID
    assert created and effects.uuids[-1] == ("power_on", created, None)
    assert effects.done == ["create vm web02 on vmfs-01", "power on web02"]
    assert power(lab, "rg-recovery-web", "web02") == "PowerState/stopped"
    _poller, job_name, _headers = lab.item_call("failover_commit", "web02", polling=False)
    assert lab.wait_job(job_name).properties.state == "Succeeded"
    assert lab.stage("web02") == "failback_committed"
    jobs = list(lab.asr.replication_jobs.list(lab.rg, lab.vault, filter="targetObjectName eq 'web02'"))
    assert [j.properties.scenario_name for j in jobs] == [
        "CommitFailover", "PlannedFailover", "SwitchReplicationGroupProtection"]


def test_cancel_after_failback_and_failed_failback(lab_factory, effects):
    lab = lab_factory(modern(), effects=effects)
    reprotect_and_replicate(lab, "app01")
    poller, _job, _headers = lab.item_call("planned_failover", "app01", planned_input())
    poller.result()
    poller, job_name, _headers = lab.item_call("failover_cancel", "app01")
    item = poller.result()
    job = lab.wait_job(job_name)
    assert (job.properties.scenario_name, job.properties.friendly_name) == rec.job_names(rec.CANCEL_JOB)[:2]
    assert [t.name for t in job.properties.tasks] == rec.job_tasks(rec.CANCEL_JOB)
    item = lab.item("app01")
    assert item.properties.protection_state == "Protected"
    assert item.properties.allowed_operations == REPLICATING_BACK
    assert item.properties.provider_specific_details.last_planned_failover_status == "Cancelled"
    assert power(lab, "rg-recovery", "app01") == "PowerState/running"  # the Azure VM runs again
    assert effects.names() == ["power_off", "power_on", "power_off"]

    # a failback that fails (8038) is cancelled at once: the Azure VM runs again, PlannedFailover is offered
    effects.raises["power_on"] = EffectError(8038, "Could not bring the on-premises virtual machine app01 online.")
    poller, job_name, _headers = lab.item_call("planned_failover", "app01", planned_input())
    with pytest.raises(HttpResponseError):
        poller.result()
    job = lab.wait_job(job_name)
    assert job.properties.errors[0].provider_error_details.error_code == 8038
    item = lab.item("app01")
    assert item.properties.provider_specific_details.last_planned_failover_status == "Failed"
    assert item.properties.allowed_operations == REPLICATING_BACK
    assert power(lab, "rg-recovery", "app01") == "PowerState/running"
    del effects.raises["power_on"]
    poller, _job, _headers = lab.item_call("planned_failover", "app01", planned_input())
    assert poller.result().properties.protection_state == rec.protection_state(rec.MODERN_PENDING_BACK)[0]


def test_plan_planned_failover_cancel_and_commit(lab_factory, effects):
    lab = lab_factory(modern(), effects=effects)
    lab.wait_points("db01")
    lab.wait_points("app02")
    with pytest.raises(HttpResponseError) as refused:
        lab.plan_call("unplanned_failover", "rp-app", {"properties": {
            "failoverDirection": "RecoveryToPrimary", "sourceSiteOperations": "Required",
            "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": "LatestTime"}]}})
    assert refused.value.error.code == "OperationNotSupported"
    with pytest.raises(HttpResponseError) as refused:  # a group member fails back through its plan only
        lab.item_call("planned_failover", "db01", planned_input())
    assert refused.value.status_code == 400 and "replication group" in str(refused.value)

    poller, job_name = lab.plan_call("planned_failover", "rp-app", PLAN_PLANNED)
    plan = poller.result()
    assert_known(plan)
    job = lab.wait_job(job_name)
    assert_known(job)
    assert job.properties.scenario_name == "PlannedFailover" and job.properties.state == "Succeeded"
    assert [t.friendly_name for t in job.properties.tasks] == [
        "Prerequisites check for the recovery plan", "Shut down the virtual machines", "Group 1: Start", "Group 2: Start"]
    assert job.properties.custom_details.protected_item_details == []  # as every recorded failover job
    assert chosen_point_time(lab, "db01") == chosen_point_time(lab, "app02")  # useMultiVmSyncPoint: one moment
    assert effects.calls == [("power_on", "db01"), ("power_on", "app02")]
    plan = lab.asr.replication_recovery_plans.get(lab.rg, lab.vault, "rp-app")
    assert plan.properties.allowed_operations == ["Commit", "CancelFailover"]
    assert plan.properties.last_planned_failover_time

    poller, job_name = lab.plan_call("failover_cancel", "rp-app")
    poller.result()
    assert lab.wait_job(job_name).properties.state == "Succeeded"
    assert lab.stage("db01") == lab.stage("app02") == "replicating_to_onprem"
    assert effects.names()[2:] == ["power_off", "power_off"]
    assert power(lab, "rg-recovery", "db01") == "PowerState/running"

    poller, job_name = lab.plan_call("planned_failover", "rp-app", PLAN_PLANNED)
    poller.result()
    poller, job_name = lab.plan_call("failover_commit", "rp-app")
    poller.result()
    assert lab.wait_job(job_name).properties.state == "Succeeded"
    assert lab.stage("db01") == lab.stage("app02") == "failback_committed"
    with pytest.raises(ResourceNotFoundError):
        lab.compute.virtual_machines.get("rg-recovery", "db01")


def test_reprotect_refusals_and_unhealthy_appliance(lab_factory, effects):
    lab = lab_factory(modern({"asr": {"appliances": [{"name": "appl01", "health": "Critical",
                                                      "heartbeat_age_seconds": 7200}]}}), effects=effects)
    fabric = lab.fabric_details()
    sick = agent(lab, "appl01")
    assert sick.health == "Critical" and sick.health_errors[0].error_code == "ApplianceHeartbeatMissing"
    assert_known(lab.asr.replication_fabrics.get(lab.rg, lab.vault, lab.fabric))
    assert fabric.reprotect_agents[1].accessible_datastores == ["vmfs-01"]
    with pytest.raises(HttpResponseError) as refused:  # appl02 cannot reach vsan-01
        lab.item_call("reprotect", "app01", reprotect_input(lab, "appl02", "vsan-01"))
    assert refused.value.status_code == 400 and "not accessible from the replication appliance 'appl02'" in \
        str(refused.value)
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("reprotect", "app01", reprotect_input(lab, "appl02", "vmfs-01", logStorageAccountId=None))
    assert "logStorageAccountId is required" in str(refused.value)
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("reprotect", "app01", reprotect_input(lab, "appl02", "vmfs-01", reprotectAgentId="nope"))
    assert "not a replication appliance" in str(refused.value)
    # a Critical appliance: the job fails in its prerequisites check, the item stays in Azure
    poller, job_name, _headers = lab.item_call("reprotect", "app01", reprotect_input(lab, "appl01", "vmfs-01"))
    with pytest.raises(HttpResponseError):
        poller.result()
    job = lab.wait_job(job_name)
    assert job.properties.errors[0].service_error_details.code == "ApplianceNotHealthy"
    assert lab.stage("app01") == "running_in_azure" and effects.calls == []
    # a failed reprotect can be retried on any healthy appliance
    reprotect_and_replicate(lab, "app01", appliance="appl02")
    assert lab.item("app01").properties.provider_specific_details.reprotect_agent_name == "appl02"


def test_modernized_side_effects_land_in_vcenter(tmp_path):
    """modernized.yml with the real effects: app01 (original) and web02 (alternate) fail back; web02's
    failback is cancelled."""
    from tests.lab.lab import Lab
    from tests.lab.tests.conftest import Lab as Clients
    from tests.lab.tests.test_lab_whole import FAST

    with Lab("modernized.yml", workdir=str(tmp_path), overrides=FAST) as whole:
        lab = Clients(whole.azure)
        effects = whole.effects
        assert effects.vm("web02") is None and effects.vm("app01")["power_state"] == "poweredOff"
        reprotect_and_replicate(lab, "app01", appliance="appl01", datastore="vmfs-01")
        reprotect_and_replicate(lab, "web02", appliance="appl02", datastore="vmfs-02")
        assert effects.vm("app01")["power_state"] == "poweredOff" and len(effects.vm("app01")["disks"]) == 2
        for name in ("app01", "web02"):
            poller, job_name, _headers = lab.item_call("planned_failover", name, planned_input())
            poller.result()
            assert lab.wait_job(job_name).properties.state == "Succeeded"
        assert effects.vm("app01")["power_state"] == "poweredOn"
        web02 = effects.vm("web02")
        assert web02["power_state"] == "poweredOn" and web02["guest_id"] == "rhel8_64Guest"
        assert sorted(d["file"] for d in web02["disks"]) == ["[vmfs-02] web02/web02.vmdk", "[vmfs-02] web02/web02_1.vmdk"]
        assert power(lab, "rg-recovery-web", "web02") == "PowerState/stopped"
        poller, job_name, _headers = lab.item_call("failover_cancel", "web02")
        poller.result()
        assert effects.vm("web02")["power_state"] == "poweredOff"
        assert power(lab, "rg-recovery-web", "web02") == "PowerState/running"
        poller, job_name, _headers = lab.item_call("failover_commit", "app01")
        poller.result()
        with pytest.raises(ResourceNotFoundError):
            lab.compute.virtual_machines.get("rg-recovery", "app01")


def test_forward_failover_of_a_reprotected_inmage_rcm_item(lab_factory):
    lab = lab_factory(modern({"asr": {"items": [{"name": "fs02", "source": "physical", "stage": "reprotected_to_azure",
                                                 "recovery_points": [{"age_minutes": 1}]}]}}))
    body = {"properties": {"failoverDirection": "PrimaryToRecovery", "providerSpecificDetails": {
        "instanceType": "InMageRcm", "performShutdown": "false"}}}
    poller, job_name, _headers = lab.item_call("unplanned_failover", "fs02", body)
    item = poller.result()
    assert_known(item)
    assert item.properties.protection_state == rec.protection_state(rec.PENDING_FORWARD)[0]
    assert item.properties.provider_specific_details.instance_type == "InMageRcm"
    assert lab.wait_job(job_name).properties.tasks[1].state_description == "Skipped"


def test_spec_checks_for_the_modernized_flow():
    from tests.lab import spec as lab_spec
    from tests.lab.tests.conftest import make_spec

    with pytest.raises(lab_spec.SpecError, match="needs appliance"):
        make_spec({"asr": {"flow": "modernized"}})  # db01/app02 replicate to on-prem without an appliance
    with pytest.raises(lab_spec.SpecError, match=r"asr\.flow"):
        make_spec({"asr": {"flow": "hybrid"}})
    with pytest.raises(lab_spec.SpecError, match="unknown datastore"):
        make_spec(modern({"asr": {"appliances": [{"name": "appl02", "accessible_datastores": ["nope"]}]}}))
    spec = make_spec(modern())
    assert [p["provider"] for p in spec["asr"]["policies"]] == ["InMageRcm", "InMageRcmFailback"]
    vms = {vm["name"]: vm for vm in spec["vcenter"]["datacenters"][0]["vms"]}
    assert vms["db01"]["power_state"] == "poweredOff" and len(vms["db01"]["disks"]) == 3  # disks stay on the VM
    assert len(vms["mt-win01"]["disks"]) == 2  # nothing attached to a master target
