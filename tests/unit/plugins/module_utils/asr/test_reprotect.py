# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.reprotect: which items are reprotected, with which body (master target, process server, retention
volume, datastore, policy, appliance), which are skipped or refused and why; retries of the
agent-not-registered failure."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import reprotect
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes

SEL = {"vms": [], "item_names": [], "plan": None}
ITEM2, VM2 = "V2A-W2K19-302", "V2A-W2K19-302"
TEMPORARY_STORAGE = {"volumeOptions": [{"volumeLabel": "Temporary Storage", "onlyExcludeIfSingleVolume": "Yes"}]}
# asr-api.md 2.5 / 6 and failback-domain.md stage 4: reprotect to Azure fails saying the agent isn't installed
AGENT = fakes.job_error(None, "The mobility service agent isn't installed on the source machine.")
OTHER = fakes.job_error("78052", "Protection couldn't be completed.", 78052, "A VM with the same name exists on the host.")


names = fakes.reprotect_names


def running_in_azure(name=fakes.FORWARD_ITEM, friendly=fakes.FORWARD_VM, **kwargs):
    return fakes.forward_item(fakes.RUNNING_IN_AZURE, name=name, friendly=friendly, **kwargs)


def classic_setup(*items, fabric=None, mappings=None, others=()):
    client = fakes.FakeSiteRecovery(items=items, fabrics=[*others, fabric or fakes.classic_fabric()],
                                    policies=fakes.classic_policies(),
                                    mappings=fakes.classic_mappings() if mappings is None else mappings)
    for m in items:  # what ASR does: to on-premises the item becomes InMage; to Azure InMageAzureV2 again
        friendly = m.properties.friendly_name
        client.after[m.name] = fakes.inmage_item(name=m.name, friendly=friendly) \
            if m.properties.provider_specific_details.instance_type == "InMageAzureV2" else \
            fakes.forward_item(name=m.name, friendly=friendly, lastSuccessfulFailoverTime="2021-04-06T12:30:00Z")
    return client, fakes.vault(client)


def rcm_setup(*items, agents=None, mappings=None, process_servers=False):
    client = fakes.FakeSiteRecovery(items=items, fabrics=[fakes.rcm_fabric(agents, process_servers)],
                                    policies=fakes.rcm_policies(),
                                    mappings=fakes.rcm_mappings() if mappings is None else mappings)
    for m in items:  # what ASR does: to on-premises the item becomes InMageRcmFailback; to Azure InMageRcm again
        friendly = m.properties.friendly_name
        client.after[m.name] = fakes.rcm_item(name=m.name, friendly=friendly) \
            if m.properties.provider_specific_details.instance_type == "InMageRcm" else \
            fakes.rcm_forward_item(name=m.name, friendly=friendly, lastSuccessfulFailoverTime="2021-08-26T07:42:34Z")
    return client, fakes.vault(client)


def ensure(vault, direction="to_onprem", given=None, check_mode=False, agent_deadline=None, poll=15.0, on_start=None,
           **sel):
    return reprotect.ensure(None, vault, dict(SEL, **sel), direction, given or names(), check_mode, fakes.deadline(),
                            agent_deadline=agent_deadline, poll=poll, record_azure_vm=on_start)


def refusals(vault, direction="to_onprem", given=None, **sel):
    with pytest.raises(AzureError) as caught:
        ensure(vault, direction, given, **sel)
    return caught.value.details["refusals"]


def body_of(client, target=fakes.FORWARD_ITEM):
    return client.action_bodies("reprotect")[target]["properties"]["providerSpecificDetails"]


# ------------------------------------------------------------------------------------------------ classic, to on-premises
def test_reprotect_to_onprem_with_named_infrastructure():
    client, vault = classic_setup(running_in_azure(), others=[fakes.rcm_fabric()])
    started = []
    outcome = ensure(vault, given=names(master_target=fakes.PS, process_server=fakes.CS, datastore="datastore1",
                                        run_as_account="windowsuser"),
                     on_start=lambda model, item: started.append((model.name, item["name"], len(client.actions))),
                     vms=[fakes.FORWARD_VM])
    # asr-api.md 2.1; the ids are the recorded fabric's; the failback (InMage) policy of the container's mapping,
    # which is the policy the recorded InMage item carries
    assert client.actions == [("reprotect", fakes.FORWARD_ITEM, {"properties": {
        "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMage", "masterTargetId": fakes.PS_ID, "processServerId": fakes.CS_PS_ID,
            "retentionDrive": "F", "profileId": fakes.FAILBACK_POLICY, "diskExclusionInput": TEMPORARY_STORAGE,
            "datastoreName": "datastore1", "runAsAccountId": "2"}}},
        (fakes.RG, fakes.VAULT_NAME, fakes.FABRIC, fakes.CONTAINER, fakes.FORWARD_ITEM))]
    # the Azure VM is recorded before the reprotect starts (the InMage item no longer names it)
    assert started == [(fakes.FORWARD_ITEM, fakes.FORWARD_VM, 0)]
    assert outcome["changed"] is True
    result = outcome["vms"][0]
    assert {k: result[k] for k in ("master_target", "process_server", "retention_volume", "datastore",
                                   "run_as_account", "attempts", "action", "stage_before", "stage_after")} == {
        "master_target": fakes.PS, "process_server": fakes.CS, "retention_volume": "F", "datastore": "datastore1",
        "run_as_account": "windowsuser", "attempts": 1, "action": "reprotect", "stage_before": "running_in_azure",
        "stage_after": "replicating_to_onprem"}
    assert result["job"]["state"] == "Succeeded" and result["job"]["scenario"] == "Reprotect"


def test_reprotect_to_onprem_defaults():
    client, vault = classic_setup(running_in_azure())
    result = ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM])["vms"][0]
    provider = body_of(client)
    # without a name: the process server that is not the configuration server's own (the code's rule, from
    # failback-domain.md; note the recorded InMage item replicates through the configuration server's own),
    # the first run-as account, no datastore (original location)
    assert provider["processServerId"] == fakes.PS_ID and result["process_server"] == fakes.PS
    assert provider["runAsAccountId"] == "1" and result["run_as_account"] == "vcenteruser"
    assert "datastoreName" not in provider and result["datastore"] is None


def test_reprotect_to_onprem_without_any_run_as_account():
    client, vault = classic_setup(running_in_azure(), fabric=fakes.classic_fabric(accounts=[]))
    result = ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM])["vms"][0]
    assert "runAsAccountId" not in body_of(client) and result["run_as_account"] is None


def test_master_target_is_placed_automatically_where_the_vm_datastore_is_reachable():
    # the configuration server's master target mounts no datastore; V2A-PS-200 mounts datastore1 (the VM's)
    client, vault = classic_setup(running_in_azure())
    assert ensure(vault, vms=[fakes.FORWARD_VM])["vms"][0]["master_target"] == fakes.PS
    assert body_of(client)["masterTargetId"] == fakes.PS_ID


def test_automatic_placement_keeps_the_vm_placement_and_uses_its_datastore():
    client, vault = classic_setup(running_in_azure(details={"datastores": ["datastore-gone"]}))
    result = ensure(vault, given=names(placements={fakes.FORWARD_VM: {"datastore": "DS-77"}}),
                    vms=[fakes.FORWARD_VM])["vms"][0]
    assert (result["master_target"], result["datastore"]) == (fakes.PS, "DS-77")
    assert body_of(client)["datastoreName"] == "DS-77"


def test_no_master_target_reaches_the_vm_datastore():
    client, vault = classic_setup(running_in_azure(details={"datastores": ["DS-99"]}))
    found = refusals(vault, vms=[fakes.FORWARD_VM])
    assert found[0].startswith("No master target can take VM V2A-W2K19-202")
    assert found[1:] == ["VM V2A-W2K19-202: no master target was chosen for it."]
    assert client.actions == []


def test_placements_override_the_defaults_but_not_with_none():
    client, vault = classic_setup(running_in_azure(), running_in_azure(ITEM2, VM2))
    outcome = ensure(vault, given=names(master_target=fakes.PS, placements={
        fakes.FORWARD_VM: {"master_target": fakes.CS, "retention_volume": None}, VM2: {"master_target": None}}),
        vms=[fakes.FORWARD_VM, VM2])
    assert [(r["master_target"], r["retention_volume"]) for r in outcome["vms"]] == [(fakes.CS, "D"), (fakes.PS, "F")]
    assert body_of(client)["masterTargetId"] == fakes.CS_PS_ID and body_of(client, ITEM2)["masterTargetId"] == fakes.PS_ID


def test_a_named_retention_volume_and_datastore_are_checked():
    client, vault = classic_setup(running_in_azure())
    assert refusals(vault, given=names(master_target=fakes.PS, retention_volume="R"), vms=[fakes.FORWARD_VM]) == [
        "Master target V2A-PS-200 has no retention volume R (it has: F). Name one of its retention volumes, or leave "
        "retention_volume out to use the one with the most free space."]
    assert refusals(vault, given=names(master_target=fakes.CS, datastore="datastore1"), vms=[fakes.FORWARD_VM])[0] \
        .startswith("VM V2A-W2K19-202: datastore datastore1 is not mounted on the ESXi host of master target PwsTestCS "
                    "(ASR error 8061; it mounts nothing).")
    assert client.actions == []


def linux_fabric():
    linux = {"id": "MT-L", "name": "mt-linux01", "osType": "Linux", "diskCount": 0,
             "retentionVolumes": [{"volumeName": "/mnt/retention", "freeSpaceInBytes": 1}],
             "dataStores": [{"symbolicName": "datastore1", "type": "VMFS"}]}
    upper = dict(linux, id="MT-W", name="mt-win01", osType="WINDOWS")
    return fakes.classic_fabric(master_targets=[linux, upper])


def test_a_windows_vm_is_refused_a_linux_master_target():
    client, vault = classic_setup(running_in_azure(), fabric=linux_fabric())
    assert refusals(vault, given=names(master_target="mt-linux01"), vms=[fakes.FORWARD_VM]) == [
        "VM V2A-W2K19-202 runs Windows but master target mt-linux01 runs Linux. Use a Windows master target: Windows "
        "VMs fail back through a Windows master target, Linux VMs through a Linux one."]
    assert client.actions == []


def test_the_os_match_ignores_case_and_unknown_os():
    _client, vault = classic_setup(running_in_azure(), running_in_azure(ITEM2, VM2, details={"osType": None}),
                                   fabric=linux_fabric())
    outcome = ensure(vault, given=names(placements={fakes.FORWARD_VM: {"master_target": "mt-win01"},
                                                    VM2: {"master_target": "mt-linux01"}}),
                     vms=[fakes.FORWARD_VM, VM2])
    assert [r["master_target"] for r in outcome["vms"]] == ["mt-win01", "mt-linux01"]


def test_a_master_target_without_os_is_not_refused():
    no_os = {"id": "MT-X", "name": "mt-x", "osType": None, "retentionVolumes": [{"volumeName": "E"}], "dataStores": []}
    _client, vault = classic_setup(running_in_azure(), fabric=fakes.classic_fabric(master_targets=[no_os]))
    assert ensure(vault, given=names(master_target="mt-x"), vms=[fakes.FORWARD_VM])["vms"][0]["master_target"] == "mt-x"


def test_a_physical_server_needs_a_datastore():
    client, vault = classic_setup(running_in_azure(details={"discoveryType": "Physical"}))
    assert refusals(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM]) == [
        "VM V2A-W2K19-202 is a physical server: it fails back only as a new VMware VM (alternate location) on a "
        "datastore. Run the failback with location alternate and a datastore."]
    ensure(vault, given=names(master_target=fakes.PS, datastore="DS-77"), vms=[fakes.FORWARD_VM])
    assert body_of(client)["datastoreName"] == "DS-77"


def test_no_failback_policy_mapped_to_the_container():
    client, vault = classic_setup(running_in_azure(), mappings=fakes.classic_mappings()[1:])
    assert refusals(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM]) == [
        "No InMage policy is mapped to the protection container of V2A-W2K19-202; ASR creates the failback policy "
        "with the first reprotect through the portal, or map one to the container."]
    assert client.actions == []


def test_a_mapping_without_a_policy_is_passed_over():
    no_policy = fakes.mapping(fakes.CONTAINER_ID, "empty", None, fakes.CONTAINER_ID)
    client, vault = classic_setup(running_in_azure(), mappings=[no_policy, *fakes.classic_mappings()])
    ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM])
    assert body_of(client)["profileId"] == fakes.FAILBACK_POLICY


def test_the_fabric_of_the_item_is_missing():
    client = fakes.FakeSiteRecovery(items=[running_in_azure()], fabrics=[], policies=fakes.classic_policies(),
                                    mappings=fakes.classic_mappings())
    vault = fakes.vault(client)
    assert refusals(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM]) == [
        "The fabric of item V2A-W2K19-202 was not found."]
    with pytest.raises(AzureError, match=r"The fabric of item V2A-W2K19-202 was not found\.") as caught:
        ensure(vault, vms=[fakes.FORWARD_VM])  # placement needs the fabric too
    assert caught.value.details["rule"] == "fabric_missing"
    assert client.actions == []


def test_a_replication_group_must_share_one_master_target():
    a, b = running_in_azure(group="grp-sql"), running_in_azure(ITEM2, VM2, group="grp-sql")
    client, vault = classic_setup(a, b)
    client.plans = [fakes.recovery_plan("rp-sql", [a, b])]  # the group's plan: the failover will go through it
    split = names(placements={fakes.FORWARD_VM: {"master_target": fakes.PS}, VM2: {"master_target": fakes.CS}})
    assert refusals(vault, given=split, vms=[fakes.FORWARD_VM, VM2]) == [
        "Replication group grp-sql would use master targets PwsTestCS, V2A-PS-200; all its VMs must fail back through "
        "one master target."]
    assert client.actions == []
    outcome = ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM, VM2])
    assert [r["master_target"] for r in outcome["vms"]] == [fakes.PS, fakes.PS]


# ------------------------------------------------------------------------------------------------ stages
@pytest.mark.parametrize("model, stage", [
    (fakes.inmage_item(fakes.running("Reprotect")), "reprotecting_to_onprem"),
    (fakes.inmage_item(), "replicating_to_onprem"),
    (fakes.inmage_item(fakes.FAILOVER_FAILED), "failover_failed"),
    (fakes.inmage_item(fakes.FAILED_BACK), "failed_back"),
    (fakes.inmage_item(fakes.COMMITTED), "failback_committed"),
    (fakes.forward_item(lastSuccessfulFailoverTime="2021-04-06T12:30:00Z"), "reprotected_to_azure"),
    (fakes.forward_item(), "protected_to_azure"),  # nothing to fail back
])
def test_items_past_the_reprotect_to_onprem_are_left_alone(model, stage):
    client, vault = classic_setup(model)
    outcome = ensure(vault, item_names=[model.name])
    assert outcome == {"changed": False, "vms": [{"name": model.properties.friendly_name, "item_name": model.name,
                                                  "stage_before": stage, "changed": False, "action": "already_done",
                                                  "job": None, "attempts": 0, "assumed": False}]}
    assert client.actions == []


@pytest.mark.parametrize("model, why", [
    (fakes.forward_item({"allowedOperations": ["Commit"]}),
     "its failover to Azure is not committed yet; commit it first (outside failback)"),
    (fakes.forward_item(fakes.MIGRATED), "its migration was completed; failback is impossible"),
    (fakes.forward_item(fakes.running("UnplannedFailover")), "a job is running on it; wait for it and re-run"),
    (fakes.forward_item({"protectionState": None, "allowedOperations": []}),
     "its state is not one failback knows; inspect the item in the Azure portal"),
])
def test_items_that_cannot_start_a_reprotect_to_onprem_are_refused(model, why):
    client, vault = classic_setup(model, running_in_azure(ITEM2, VM2))
    with pytest.raises(AzureError) as caught:
        ensure(vault, given=names(master_target=fakes.PS), item_names=[model.name, ITEM2])
    stage = caught.value.details["vms"][0]["stage_before"]
    assert caught.value.details["refusals"] == ["VM %s is at stage %s: %s." % (model.properties.friendly_name, stage, why)]
    assert caught.value.msg.startswith("Refusing to reprotect to on-premises; nothing was changed: VM ")
    assert client.actions == []
    assert [(r["action"], r["changed"]) for r in caught.value.details["vms"]] == [("none", False), ("reprotect", True)]


def test_check_mode_predicts_and_starts_nothing():
    client, vault = classic_setup(running_in_azure())
    outcome = ensure(vault, given=names(master_target=fakes.PS), check_mode=True, vms=[fakes.FORWARD_VM])
    assert client.actions == []
    assert outcome["changed"] is True
    assert (outcome["vms"][0]["action"], outcome["vms"][0]["master_target"]) == ("reprotect", fakes.PS)
    assert outcome["predicted_stages"] == {fakes.FORWARD_VM: "replicating_to_onprem"}


def test_every_refusal_is_listed():
    client, vault = classic_setup(fakes.forward_item(fakes.MIGRATED),
                                  running_in_azure(ITEM2, VM2, details={"discoveryType": "Physical"}))
    with pytest.raises(AzureError) as caught:
        ensure(vault, given=names(master_target=fakes.PS), item_names=[fakes.FORWARD_ITEM, ITEM2])
    found = caught.value.details["refusals"]
    assert [r.split(" ")[1] for r in found] == [fakes.FORWARD_VM, VM2]
    assert caught.value.msg == "Refusing to reprotect to on-premises; nothing was changed: " + " ".join(found)
    assert client.actions == []


def test_every_failed_reprotect_is_named():
    client, vault = classic_setup(running_in_azure(), running_in_azure(ITEM2, VM2))
    client.outcomes = {fakes.FORWARD_ITEM: ["Failed"], ITEM2: ["Cancelled"]}
    with pytest.raises(AzureError) as caught:
        ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM, VM2])
    assert caught.value.msg == ("Reprotect to on-premises failed for V2A-W2K19-202, V2A-W2K19-302. V2A-W2K19-202: "
                                "Failed V2A-W2K19-302: Cancelled")
    assert caught.value.details["failed"] == [fakes.FORWARD_VM, VM2]


def test_a_failed_reprotect_raises_with_the_remedy():
    client, vault = classic_setup(running_in_azure(), running_in_azure(ITEM2, VM2))
    client.outcomes[fakes.FORWARD_ITEM] = [("Failed", [OTHER])]
    client.after.pop(fakes.FORWARD_ITEM)
    with pytest.raises(AzureError) as caught:
        ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM, VM2])
    error = caught.value
    assert error.msg.startswith("Reprotect to on-premises failed for V2A-W2K19-202. V2A-W2K19-202: [78052] A VM with "
                                "the same name exists on the host. Remedy: ")
    assert error.details["failed"] == [fakes.FORWARD_VM]
    assert [(r["stage_after"], r["job"]["state"], r["attempts"]) for r in error.details["vms"]] == [
        ("running_in_azure", "Failed", 1), ("replicating_to_onprem", "Succeeded", 1)]


def test_a_job_without_errors_is_reported_by_its_state():
    client, vault = classic_setup(running_in_azure())
    client.outcomes[fakes.FORWARD_ITEM] = ["Cancelled"]
    with pytest.raises(AzureError) as caught:
        ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM])
    assert caught.value.msg == "Reprotect to on-premises failed for V2A-W2K19-202. V2A-W2K19-202: Cancelled"


def test_an_answer_without_a_job():
    client, vault = classic_setup(running_in_azure())
    client.answer_200.add(fakes.FORWARD_ITEM)
    outcome = ensure(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM])
    assert outcome["vms"][0]["job"] is None and outcome["vms"][0]["stage_after"] == "replicating_to_onprem"


# ------------------------------------------------------------------------------------------------ modernized, to on-premises
def rcm_running_in_azure():
    return fakes.rcm_forward_item(fakes.RUNNING_IN_AZURE)


def test_modernized_reprotect_to_onprem_goes_through_an_appliance():
    client, vault = rcm_setup(rcm_running_in_azure())
    result = ensure(vault, given=names(datastore="SharedDS-84-85", log_storage_account_id=fakes.LOG_STORAGE),
                    vms=[fakes.RCM_FORWARD_VM])["vms"][0]
    # asr-api.md 2.7; the recorded InMageRcmFailback item shows the same agent, datastore, storage and policy
    assert client.actions == [("reprotect", fakes.RCM_FORWARD_ITEM, {"properties": {
        "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMageRcm", "reprotectAgentId": fakes.APPLIANCE_150[0], "datastoreName": "SharedDS-84-85",
            "logStorageAccountId": fakes.LOG_STORAGE, "policyId": fakes.RCM_APP_FAILBACK_POLICY}}},
        (fakes.RG, fakes.VAULT_NAME, fakes.RCM_FABRIC, fakes.RCM_CONTAINER, fakes.RCM_FORWARD_ITEM))]
    assert {k: result[k] for k in ("appliance", "datastore", "master_target", "process_server", "retention_volume",
                                   "run_as_account")} == {
        "appliance": fakes.APPLIANCE_150[1], "datastore": "SharedDS-84-85", "master_target": None,
        "process_server": None, "retention_volume": None, "run_as_account": None}


def test_modernized_reprotect_to_the_appliance_that_reaches_the_datastore():
    client, vault = rcm_setup(rcm_running_in_azure())
    ensure(vault, given=names(datastore="datastore-84", log_storage_account_id=fakes.LOG_STORAGE),
           vms=[fakes.RCM_FORWARD_VM])
    assert body_of(client, fakes.RCM_FORWARD_ITEM)["reprotectAgentId"] == fakes.APPLIANCE_151[0]


def test_modernized_named_appliance_must_reach_the_datastore():
    client, vault = rcm_setup(rcm_running_in_azure())
    found = refusals(vault, given=names(appliance=fakes.APPLIANCE_150[1], datastore="datastore-84",
                                        log_storage_account_id=fakes.LOG_STORAGE), vms=[fakes.RCM_FORWARD_VM])
    assert found == ["VM Rcm-W2K16-153: datastore datastore-84 is not mounted on the ESXi host of replication appliance "
                     "Rcm-App-150 (ASR error 8061; it mounts datastore-85, SharedDS-84-85, DS-84-85, DS-5TB-84-85). Choose "
                     "a master target (or replication appliance) whose host mounts it, or mount it there."]
    assert client.actions == []


def test_modernized_reprotect_needs_a_datastore_and_a_log_storage_account():
    client, vault = rcm_setup(rcm_running_in_azure())
    assert refusals(vault, given=names(log_storage_account_id=fakes.LOG_STORAGE), vms=[fakes.RCM_FORWARD_VM]) == [
        "VM Rcm-W2K16-153: the modernized reprotect names the datastore the replication appliance writes to, and none "
        "was given. Give datastore (for the run or in placements): a VMFS or vSAN datastore an appliance reaches."]
    assert refusals(vault, given=names(datastore="SharedDS-84-85"), vms=[fakes.RCM_FORWARD_VM]) == [
        "VM Rcm-W2K16-153: the modernized reprotect caches changes in an Azure storage account, and no "
        "log_storage_account_id was given. Give log_storage_account_id (for the run or in placements): the ARM id of "
        "a storage account in the vault's region."]
    # both missing: both named in one refusal
    [both] = refusals(vault, given=names(), vms=[fakes.RCM_FORWARD_VM])
    assert "names the datastore" in both and "no log_storage_account_id was given" in both
    assert client.actions == []


def test_modernized_reprotect_without_a_failback_policy_leaves_it_to_asr():
    client, vault = rcm_setup(rcm_running_in_azure(), mappings=fakes.rcm_mappings()[1:2])
    ensure(vault, given=names(datastore="SharedDS-84-85", log_storage_account_id=fakes.LOG_STORAGE),
           vms=[fakes.RCM_FORWARD_VM])
    assert "policyId" not in body_of(client, fakes.RCM_FORWARD_ITEM)


# ------------------------------------------------------------------------------------------------ to Azure
def committed(name=fakes.ITEM, friendly=fakes.VM):
    return fakes.inmage_item(fakes.COMMITTED, name=name, friendly=friendly)


def test_reprotect_to_azure_sends_the_recorded_body():
    client, vault = classic_setup(committed())
    outcome = ensure(vault, "to_azure", names(process_server=fakes.PS, run_as_account="windowsuser"), vms=[fakes.VM])
    # asr-api.md 2.5 (REC-RP, captured live): process server and master target 30AE..., run-as account 2,
    # the forward (InMageAzureV2) policy
    assert client.actions == [("reprotect", fakes.ITEM, {"properties": {
        "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMageAzureV2", "processServerId": fakes.PS_ID, "masterTargetId": fakes.PS_ID,
            "policyId": fakes.FORWARD_POLICY, "runAsAccountId": "2"}}},
        (fakes.RG, fakes.VAULT_NAME, fakes.FABRIC, fakes.CONTAINER, fakes.ITEM))]
    result = outcome["vms"][0]
    assert (result["process_server"], result["run_as_account"], result["stage_before"], result["stage_after"]) == (
        fakes.PS, "windowsuser", "failback_committed", "reprotected_to_azure")


def test_reprotect_to_azure_defaults_to_the_configuration_servers_process_server():
    client, vault = classic_setup(committed())
    result = ensure(vault, "to_azure", vms=[fakes.VM])["vms"][0]
    assert body_of(client, fakes.ITEM)["processServerId"] == fakes.CS_PS_ID
    assert (result["process_server"], result["run_as_account"]) == (fakes.CS, "vcenteruser")


def test_reprotect_to_azure_without_run_as_accounts():
    client, vault = classic_setup(committed(), fabric=fakes.classic_fabric(accounts=[]))
    assert ensure(vault, "to_azure", vms=[fakes.VM])["vms"][0]["run_as_account"] is None
    assert "runAsAccountId" not in body_of(client, fakes.ITEM)


def test_reprotect_to_azure_needs_the_forward_policy():
    client, vault = classic_setup(committed(), mappings=fakes.classic_mappings()[:1])
    assert refusals(vault, "to_azure", vms=[fakes.VM]) == [
        "No InMageAzureV2 policy is mapped to the protection container of V2A-W2K16-201; ASR creates the failback "
        "policy with the first reprotect through the portal, or map one to the container."]
    assert client.actions == []


@pytest.mark.parametrize("model, why", [
    (fakes.inmage_item(), "it has not failed over to on-premises yet"),
    (fakes.inmage_item(fakes.FAILED_BACK), "its failback is not committed yet"),
    (running_in_azure(), "it has not failed back yet"),
    (fakes.forward_item(fakes.MIGRATED), "its migration was completed; failback is impossible"),
])
def test_reprotect_to_azure_starts_only_after_the_commit(model, why):
    client, vault = classic_setup(model)
    with pytest.raises(AzureError) as caught:
        ensure(vault, "to_azure", item_names=[model.name])
    stage = caught.value.details["vms"][0]["stage_before"]
    assert caught.value.details["refusals"] == ["VM %s is at stage %s: %s." % (model.properties.friendly_name, stage, why)]
    assert caught.value.msg.startswith("Refusing to reprotect to Azure; nothing was changed: ")
    assert client.actions == []


def test_check_mode_reprotects_to_azure_from_the_commit_an_earlier_step_predicted():
    client, vault = classic_setup(fakes.inmage_item(fakes.FAILED_BACK))
    outcome = reprotect.ensure(None, vault, dict(SEL, vms=[fakes.VM]), "to_azure", names(), True, fakes.deadline(),
                               assumed={fakes.VM: "failback_committed"})
    entry = outcome["vms"][0]
    assert (entry["action"], entry["assumed"], entry["stage_before"]) == ("reprotect", True, "failback_committed")
    assert outcome["predicted_stages"] == {fakes.VM: "reprotected_to_azure"}
    assert client.actions == []
    with pytest.raises(AzureError, match="its failback is not committed yet"):  # not outside check mode
        reprotect.ensure(None, vault, dict(SEL, vms=[fakes.VM]), "to_azure", names(), False, fakes.deadline(),
                         assumed={fakes.VM: "failback_committed"})
    assert client.actions == []


@pytest.mark.parametrize("model", [fakes.forward_item(), fakes.forward_item(lastSuccessfulFailoverTime="2021-04-06Z")])
def test_items_protected_to_azure_are_done(model):
    client, vault = classic_setup(model)
    assert ensure(vault, "to_azure", item_names=[model.name])["vms"][0]["action"] == "already_done"
    assert client.actions == []


def test_modernized_reprotect_to_azure():
    client, vault = rcm_setup(fakes.rcm_item(fakes.COMMITTED))
    result = ensure(vault, "to_azure", vms=[fakes.RCM_VM])["vms"][0]
    # asr-api.md 2.7: InMageRcmFailbackReprotectInput, the InMageRcm (forward) policy of the container
    assert body_of(client, fakes.RCM_ITEM) == {"instanceType": "InMageRcmFailback",
                                               "processServerId": fakes.APPLIANCE_150[0],
                                               "policyId": fakes.RCM_FORWARD_POLICY}
    assert (result["process_server"], result["run_as_account"]) == (fakes.APPLIANCE_150[1], None)


@pytest.mark.parametrize("wanted", [fakes.APPLIANCE_151[1], fakes.APPLIANCE_151[0]])
def test_modernized_reprotect_to_azure_through_a_named_process_server(wanted):
    client, vault = rcm_setup(fakes.rcm_item(fakes.COMMITTED))
    account = "/subscriptions/b364ed8d-4279-4bf8-8fd1-56f8fa0ae05c/resourceGroups/V2A-ECY/providers/Microsoft.OffAzure/" \
              "VMwareSites/Rcm-Vault-4678vmwaresite/runasaccounts/5c2bde49-8300-5006-b99d-d7a90f37a816"
    ensure(vault, "to_azure", names(process_server=wanted, run_as_account=account), vms=[fakes.RCM_VM])
    provider = body_of(client, fakes.RCM_ITEM)
    assert (provider["processServerId"], provider["runAsAccountId"]) == (fakes.APPLIANCE_151[0], account)


def test_modernized_reprotect_to_azure_unknown_process_server():
    client, vault = rcm_setup(fakes.rcm_item(fakes.COMMITTED))
    assert refusals(vault, "to_azure", names(process_server="Rcm-App-999"), vms=[fakes.RCM_VM]) == [
        "Process server Rcm-App-999 is not registered (registered: Rcm-App-150, Rcm-App-151)."]
    assert client.actions == []


# ------------------------------------------------------------------------------------------------ agent retries
def agent_deadline(seconds=1200):
    clock = FakeClock()
    return clock, Deadline(seconds, clock=clock, sleeper=clock.sleep)


@pytest.mark.parametrize("poll, pause", [(10.0, 40.0), (15.0, 60.0), (20.0, 60.0)])
def test_agent_not_registered_is_retried_after_a_pause(poll, pause):
    client, vault = classic_setup(committed())
    client.outcomes[fakes.ITEM] = [("Failed", [AGENT]), ("Failed", [AGENT]), "Succeeded"]
    clock, waiting = agent_deadline()
    result = ensure(vault, "to_azure", agent_deadline=waiting, poll=poll, vms=[fakes.VM])["vms"][0]
    assert [a[0] for a in client.actions] == ["reprotect"] * 3
    assert clock.sleeps == [pause, pause]
    assert result["attempts"] == 3 and result["job"]["state"] == "Succeeded"


def test_only_the_items_with_the_agent_failure_are_started_again():
    client, vault = classic_setup(committed(), committed(ITEM2, VM2))
    client.outcomes[fakes.ITEM] = [("Failed", [AGENT]), "Succeeded"]
    ensure(vault, "to_azure", agent_deadline=agent_deadline()[1], vms=[fakes.VM, VM2])
    assert [a[1] for a in client.actions] == [fakes.ITEM, ITEM2, fakes.ITEM]


def test_agent_retries_stop_at_the_agent_deadline():
    client, vault = classic_setup(committed())
    client.outcomes[fakes.ITEM] = [("Failed", [AGENT])]
    clock, waiting = agent_deadline(100)  # 60 s pauses: tries at 0 and 60, expired at 120
    with pytest.raises(AzureError) as caught:
        ensure(vault, "to_azure", agent_deadline=waiting, vms=[fakes.VM])
    assert len(client.actions) == 3 and clock.sleeps == [60.0, 40.0]
    assert caught.value.details["vms"][0]["attempts"] == 3
    assert caught.value.msg.startswith("Reprotect to Azure failed for V2A-W2K16-201. V2A-W2K16-201: ")


def test_an_expired_agent_deadline_means_no_retry():
    client, vault = classic_setup(committed())
    client.outcomes[fakes.ITEM] = [("Failed", [AGENT]), "Succeeded"]
    clock, waiting = agent_deadline(0)
    with pytest.raises(AzureError):
        ensure(vault, "to_azure", agent_deadline=waiting, vms=[fakes.VM])
    assert len(client.actions) == 1 and clock.sleeps == []


@pytest.mark.parametrize("direction, errors, model, given", [
    ("to_azure", [AGENT, OTHER], committed(), None),   # another error too: retrying will not help
    ("to_azure", [OTHER], committed(), None),
    ("to_azure", [], committed(), None),
    ("to_onprem", [AGENT], running_in_azure(name=fakes.ITEM, friendly=fakes.VM), names(master_target=fakes.PS)),
])
def test_other_failures_are_not_retried(direction, errors, model, given):
    client, vault = classic_setup(model)
    client.outcomes[fakes.ITEM] = [("Failed", errors), "Succeeded"]
    clock, waiting = agent_deadline()
    with pytest.raises(AzureError) as caught:
        ensure(vault, direction, given, agent_deadline=waiting, vms=[fakes.VM])
    assert len(client.actions) == 1 and clock.sleeps == []
    assert caught.value.details["failed"] == [fakes.VM]


def test_without_an_agent_deadline_nothing_is_retried():
    client, vault = classic_setup(committed())
    client.outcomes[fakes.ITEM] = [("Failed", [AGENT]), "Succeeded"]
    with pytest.raises(AzureError):
        ensure(vault, "to_azure", vms=[fakes.VM])
    assert len(client.actions) == 1


def test_two_items_of_one_vm_name_each_keep_their_own_job():
    # items.select lets a VM name that matches two items be selected by item name: each job is its item's
    client, vault = classic_setup(committed(), committed(ITEM2, fakes.VM))
    client.outcomes[fakes.ITEM] = [("Failed", [OTHER])]
    client.after.pop(fakes.ITEM)
    with pytest.raises(AzureError) as caught:
        ensure(vault, "to_azure", item_names=[fakes.ITEM, ITEM2])
    first, second = caught.value.details["vms"]
    assert (first["item_name"], first["job"]["state"], first["stage_after"]) == (
        fakes.ITEM, "Failed", "failback_committed")
    assert (second["item_name"], second["job"]["state"], second["stage_after"]) == (
        ITEM2, "Succeeded", "reprotected_to_azure")
    assert first["job"]["name"] != second["job"]["name"]


def test_the_policy_rule_names_what_is_missing():
    client, vault = classic_setup(running_in_azure(), mappings=[])
    with pytest.raises(AzureError) as caught:
        reprotect._policy_for(vault, client.items[0], "InMage")
    assert caught.value.details["rule"] == "policy_missing"


def disks(count):
    """protectedDisks as a GET shows them (the list leaves them empty: README fact 1)."""
    return [{"diskId": "{%08d-0000-0000-0000-000000000000}" % n, "diskName": "Disk%d" % n} for n in range(count)]


def windows_mt(name, disk_count, **extra):
    target = {"id": "MT-" + name, "name": name, "osType": "Windows", "diskCount": disk_count,
              "retentionVolumes": [{"volumeName": "F", "freeSpaceInBytes": 1}],
              "dataStores": [{"symbolicName": "datastore1", "type": "VMFS"}]}
    target.update(extra)
    return target


def test_placement_counts_the_disks_already_on_a_master_target():
    # 60 disks per master target (asr-api.md 6): 59 + 2 does not fit, 58 + 2 does
    fabric = fakes.classic_fabric(master_targets=[windows_mt("mt-full", 59), windows_mt("mt-room", 58)])
    _client, vault = classic_setup(running_in_azure(details={"protectedDisks": disks(2)}), fabric=fabric)
    assert ensure(vault, vms=[fakes.FORWARD_VM])["vms"][0]["master_target"] == "mt-room"
    fabric = fakes.classic_fabric(master_targets=[windows_mt("mt-full", 59)])
    client, vault = classic_setup(running_in_azure(details={"protectedDisks": disks(2)}), fabric=fabric)
    assert refusals(vault, vms=[fakes.FORWARD_VM])[0].startswith("No master target can take VM V2A-W2K19-202")
    assert client.actions == []


def test_placement_of_master_targets_that_report_no_disks_or_datastores():
    bare = {"id": "MT-B", "name": "mt-bare", "osType": "Windows", "retentionVolumes": [{"volumeName": "F"}]}
    fabric = fakes.classic_fabric(master_targets=[bare, windows_mt("mt-win01", None)])
    client, vault = classic_setup(running_in_azure(), fabric=fabric)
    assert ensure(vault, vms=[fakes.FORWARD_VM])["vms"][0]["master_target"] == "mt-win01"
    assert body_of(client)["masterTargetId"] == "MT-mt-win01"
    # a master target that reports no disk count is taken as empty: 60 disks still fit
    fabric = fakes.classic_fabric(master_targets=[windows_mt("mt-win01", None)])
    _client, vault = classic_setup(running_in_azure(details={"protectedDisks": disks(60)}), fabric=fabric)
    assert ensure(vault, vms=[fakes.FORWARD_VM])["vms"][0]["master_target"] == "mt-win01"


def test_placement_without_any_master_target():
    client, vault = classic_setup(running_in_azure(), fabric=fakes.classic_fabric(master_targets=None))
    found = refusals(vault, vms=[fakes.FORWARD_VM])
    assert found[0].startswith("No master target can take VM V2A-W2K19-202") and found[0].endswith("(master targets: none).")
    assert client.actions == []


def test_a_replication_group_is_placed_as_one():
    # together the group needs 4 disks; no master target has room for 4, though each has room for one VM
    fabric = fakes.classic_fabric(master_targets=[windows_mt("mt-a", 57), windows_mt("mt-b", 58)])
    client, vault = classic_setup(running_in_azure(group="grp-sql", details={"protectedDisks": disks(2)}),
                                  running_in_azure(ITEM2, VM2, group="grp-sql", details={"protectedDisks": disks(2)}),
                                  fabric=fabric)
    found = refusals(vault, vms=[fakes.FORWARD_VM, VM2])
    assert found[0].startswith("No master target can take replication group grp-sql (V2A-W2K19-202, V2A-W2K19-302)")
    assert client.actions == []


def test_modernized_reprotect_to_azure_without_process_servers():
    client, vault = rcm_setup(fakes.rcm_item(fakes.COMMITTED), process_servers=None)
    assert refusals(vault, "to_azure", vms=[fakes.RCM_VM]) == ["Process server None is not registered (registered: none)."]
    assert client.actions == []


def test_a_cancelled_reprotect_is_not_retried():
    client, vault = classic_setup(committed())
    client.outcomes[fakes.ITEM] = [("Cancelled", [AGENT]), "Succeeded"]
    with pytest.raises(AzureError):
        ensure(vault, "to_azure", agent_deadline=agent_deadline()[1], vms=[fakes.VM])
    assert len(client.actions) == 1


def test_a_reprotect_to_azure_answered_without_a_job():
    client, vault = classic_setup(committed())
    client.answer_200.add(fakes.ITEM)
    outcome = ensure(vault, "to_azure", agent_deadline=agent_deadline()[1], vms=[fakes.VM])
    assert outcome["vms"][0]["job"] is None and len(client.actions) == 1


def test_the_reprotect_job_is_followed_until_it_ends():
    client, vault = classic_setup(committed())
    client.first_polls = ["NotStarted", "InProgress"]
    clock = FakeClock()
    outcome = reprotect.ensure(None, vault, dict(SEL, vms=[fakes.VM]), "to_azure", names(), False,
                               fakes.deadline(clock=clock))
    assert outcome["vms"][0]["job"]["state"] == "Succeeded"
    assert clock.sleeps == [15.0, 15.0]  # the default poll interval, on the fake clock


@pytest.mark.parametrize("plans, why", [
    ([], "no recovery plan holds it; create one"),
    (["rp-sql"], "give recovery_plan: rp-sql (it also fails over %s)" % VM2),
])
def test_part_of_a_replication_group_is_refused_before_its_reprotect(plans, why):
    # the failover would refuse it (ASR fails a group over through its recovery plan): refuse before any change
    a, b = running_in_azure(group="grp-sql"), running_in_azure(ITEM2, VM2, group="grp-sql")
    client, vault = classic_setup(a, b)
    client.plans = [fakes.recovery_plan(name, [a, b]) for name in plans]
    found = refusals(vault, given=names(master_target=fakes.PS), vms=[fakes.FORWARD_VM])
    assert found == ["VM %s is in replication group grp-sql, whose VMs fail over together through a recovery plan "
                     "(ASR refuses them one by one): %s." % (fakes.FORWARD_VM, why)]
    assert client.actions == []
