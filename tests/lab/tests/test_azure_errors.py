# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each documented failback error appears in the job's errors, with its code, when its cause
is in the spec (or in vCenter, through the effects)."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.lab.effects import EffectError

from .conftest import FakeEffects
from .test_azure_lifecycle import failback_inputs, failover_input


def _items(*entries):
    return {"asr": {"items": list(entries)}}


SOLO = {"name": "app02", "replication_group": None}  # app02 outside its replication group: item-level failover works
# the reprotect job's tasks (tests/recorded/asr, fact 12): the checks of the vault run in the preflight, those of
# vCenter when the replica is discovered
PREFLIGHT, DISCOVER = "SwitchReplicationGroupProtectionPreflightTask", "DiscoverReplicaTask"
REPROTECT = [
    ("78052", None, ("check_reprotect", EffectError(78052, "a VM named app01 exists on the MT host", "name clash", "rename it")),
     DISCOVER),
    ("8061", None, ("check_reprotect", EffectError(8061, "vmfs-01 is not accessible", "not mounted", "mount it")), DISCOVER),
    ("MasterTargetHasSnapshots", None,
     ("check_reprotect", EffectError("MasterTargetHasSnapshots", "MT has snapshots", "snapshots", "delete them")), DISCOVER),
    ("VCenterNotConnected", {"asr": {"vcenters": [{"name": "vcenter01.lab", "connected": False}]}}, None, PREFLIGHT),
    ("ConfigurationServerNotRunning", {"asr": {"configuration_server": {"service_status": "Stopped"}}}, None, PREFLIGHT),
    ("VmNotInConfigurationServerDatabase", _items({"name": "app01", "in_cs_database": False}), None, PREFLIGHT),
    ("AzureVmNotFound", _items({"name": "app01", "azure_vm": {"moved_to_resource_group": "rg-elsewhere"}}), None,
     PREFLIGHT),
    ("AzureVmNotFound", _items({"name": "app01", "azure_vm": {"deleted": True}}), None, PREFLIGHT),
    ("78093", _items({"name": "app01", "azure_vm": {"power_state": "deallocated"}}), None, PREFLIGHT),
    ("MasterTargetOsMismatch", _items({"name": "app01", "os": "Linux"}), None, PREFLIGHT),
]
COMMITTED_OPERATIONS = ["CompleteMigration", "DisableProtection", "SwitchProtection"]  # recorded (fact 1)


@pytest.mark.parametrize(("code", "changes", "raises", "task"), REPROTECT,
                         ids=["78052", "8061", "mt-snapshots", "vcenter", "cs", "cs-db", "moved", "deleted", "78093", "os"])
def test_reprotect_errors(lab_factory, code, changes, raises, task):
    effects = FakeEffects()
    if raises:
        effects.raises[raises[0]] = raises[1]
    lab = lab_factory(changes, effects=effects)
    poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"))
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert code in str(failed.value)
    job = lab.wait_job(job_name)
    assert job.properties.state == "Failed"
    error = job.properties.errors[0]
    assert error.service_error_details.code == code
    assert isinstance(error.provider_error_details.error_code, int)
    if code.isdigit():  # a documented number comes from the provider; a named condition is the service's (errorCode 0)
        assert error.provider_error_details.error_code == int(code)
    elif raises is None:
        assert error.provider_error_details.error_code == 0 and error.provider_error_details.error_message is None
    assert error.service_error_details.possible_causes and error.service_error_details.recommended_action
    failed_task = next(t for t in job.properties.tasks if t.state == "Failed")
    assert failed_task.name == task and failed_task.errors[0].service_error_details.code == code
    assert error.task_id == failed_task.task_id
    # the tasks after the failed one are shown skipped (as the recorded failed job shows them)
    after = job.properties.tasks[job.properties.tasks.index(failed_task) + 1:]
    assert after and {(t.state, t.state_description) for t in after} == {("Other", "Skipped")}
    assert lab.stage("app01") == "running_in_azure"
    assert "prepare_original_location" not in effects.names()
    item = lab.item("app01")
    assert item.properties.allowed_operations == COMMITTED_OPERATIONS


def test_moved_vm_error_names_the_new_group(lab_factory):
    lab = lab_factory(_items({"name": "app01", "azure_vm": {"moved_to_resource_group": "rg-elsewhere"}}))
    _poller, job_name, _headers = lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"), polling=False)
    job = lab.wait_job(job_name)
    assert "rg-elsewhere" in job.properties.errors[0].service_error_details.message
    assert lab.compute.virtual_machines.get("rg-elsewhere", "app01").name == "app01"
    with pytest.raises(ResourceNotFoundError):
        lab.compute.virtual_machines.get("rg-recovery", "app01")


FAILOVER = [
    ("NoRecoveryPoint", {"timings": {"initial_replication_seconds": 60},
                         "asr": {"items": [dict(SOLO, recovery_points=[])]}}, None, "VmUfoPrerequisitesCheck"),
    ("8038", _items(SOLO), ("power_on", EffectError(8038, "esx02.lab lacks memory")), "VmFoStartVmOnSecondary"),
    ("VCenterNotConnected", {"asr": {"items": [SOLO], "vcenters": [{"name": "vcenter01.lab", "connected": False}]}}, None,
     "VmUfoPrerequisitesCheck"),
    ("AzureVmNotFound", _items(dict(SOLO, azure_vm={"deleted": True})), None, "VmUfoPrerequisitesCheck"),
]


@pytest.mark.parametrize(("code", "changes", "raises", "task"), FAILOVER, ids=["no-point", "8038", "vcenter", "deleted"])
def test_failover_errors(lab_factory, code, changes, raises, task):
    effects = FakeEffects()
    if raises:
        effects.raises[raises[0]] = raises[1]
    lab = lab_factory(changes, effects=effects)
    poller, job_name, _headers = lab.item_call("unplanned_failover", "app02", failover_input())
    with pytest.raises(HttpResponseError):
        poller.result()
    job = lab.wait_job(job_name)
    failed_task = next(t for t in job.properties.tasks if t.state == "Failed")
    assert failed_task.name == task
    assert job.properties.errors[0].service_error_details.code == code
    item = lab.item("app02")
    assert item.properties.protection_state == "UnplannedFailoverFailed"
    assert item.properties.allowed_operations == ["UnplannedFailover", "DisableProtection"]


def test_latest_tag_without_application_consistent_point(lab_factory):
    lab = lab_factory({"timings": {"initial_replication_seconds": 60}, "asr": {"items": [dict(SOLO)]}})
    _poller, job_name, _headers = lab.item_call("unplanned_failover", "app02", failover_input("LatestTag"), polling=False)
    job = lab.wait_job(job_name)
    assert job.properties.errors[0].service_error_details.code == "NoRecoveryPoint"
    assert "application-consistent" in job.properties.errors[0].service_error_details.message


def test_refusals_that_need_no_job(lab_factory):
    lab = lab_factory(_items({"name": "app01", "migration_completed": True}, {"name": "web02", "protection_disabled": True},
                             {"name": "fs09", "source": "physical", "os_name": "Windows Server 2008 R2 SP1",
                              "stage": "running_in_azure"}))
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("reprotect", "app01", failback_inputs(lab, "mt-win01"))
    assert refused.value.status_code == 400 and "completed migration" in str(refused.value)
    from tests.lab.spec import guid
    with pytest.raises(ResourceNotFoundError):
        lab.asr.replication_protected_items.get(lab.rg, lab.vault, lab.fabric, lab.container, guid("item", "web02"))
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("unplanned_failover", "db01", failover_input())
    assert refused.value.status_code == 400 and "replication group 'rg-app'" in str(refused.value)
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("planned_failover", "db01", {"properties": {"failoverDirection": "PrimaryToRecovery"}})
    assert refused.value.error.code == "OperationNotSupported"
    bad = failback_inputs(lab, "mt-win01")
    bad["properties"]["providerSpecificDetails"]["datastoreName"] = "nfs-01"
    with pytest.raises(HttpResponseError) as refused:
        lab.item_call("reprotect", "fs09", bad)
    assert "nfs-01" in str(refused.value) and refused.value.status_code == 400
    _poller, job_name, _headers = lab.item_call("reprotect", "fs09", failback_inputs(lab, "mt-win01", "vmfs-01"),
                                                polling=False)
    assert lab.wait_job(job_name).properties.errors[0].service_error_details.code == "FailbackNotSupportedForOs"
