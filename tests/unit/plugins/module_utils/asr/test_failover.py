# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.failover: which items fail over to on-premises, to which recovery point, through which ASR call and
body (item or recovery plan, classic or modernized); which are skipped or refused and why; cancel."""

import datetime
import types

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import failover, runner
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes

# the recorded item's consistency points are at 16:52:06Z (item_get.InMage...); "now" is ten minutes later
NOW = datetime.datetime(2021, 4, 6, 17, 2, 6, tzinfo=datetime.timezone.utc)
SEL = {"vms": [], "item_names": [], "plan": None}
ITEM2, VM2 = "V2A-W2K16-301-new", "V2A-W2K16-301"
ITEM3, VM3 = "V2A-W2K16-401-new", "V2A-W2K16-401"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return NOW
    monkeypatch.setattr(failover, "datetime", types.SimpleNamespace(datetime=Frozen, timezone=datetime.timezone))


def points_of(model):
    """Listed out of order on purpose: newest crash-consistent, app-consistent, oldest."""
    return [fakes.point(model, "rp-old", "2021-04-06T16:47:06Z"),
            fakes.point(model, "rp-new", "2021-04-06T16:57:05.94Z"),
            fakes.point(model, "rp-app", "2021-04-06T16:52:06Z", "ApplicationConsistent")]


def setup(*models, points=True, plans=()):
    client = fakes.FakeSiteRecovery(items=models, plans=plans,
                                    points={m.name: points_of(m) for m in models} if points else {})
    for m in models:  # what ASR does: the item failed back (asr-api.md 3.2, not recorded)
        state = fakes.RCM_FAILED_BACK if m.properties.provider_specific_details.instance_type == "InMageRcmFailback" \
            else fakes.FAILED_BACK
        maker = fakes.rcm_item if state is fakes.RCM_FAILED_BACK else fakes.inmage_item
        client.after[m.name] = maker(state, name=m.name, friendly=m.properties.friendly_name)
    return client, fakes.vault(client)


def ensure(vault, recovery_point="latest_processed", site="NotRequired", check_mode=False, azure_vms=None, record=None,
           pin=None, **sel):
    return failover.ensure(None, vault, dict(SEL, **sel), recovery_point, site, check_mode, fakes.deadline(), poll=1.0,
                           azure_vms=azure_vms, record=record, pin=pin)


def refused(vault, recovery_point="latest_processed", **sel):
    with pytest.raises(AzureError) as caught:
        ensure(vault, recovery_point, **sel)
    return caught.value


def point_id(name, item=fakes.ITEM):
    return fakes.CONTAINER_ID + "/replicationProtectedItems/" + item + "/recoveryPoints/" + name


# ------------------------------------------------------------------------------------------------ choose_point
def dicts(model, order=None):
    points = [failover._point(p) for p in points_of(model)]
    return [points[i] for i in order] if order else points


def test_latest_processed_is_the_newest_point_whatever_the_order():
    model = fakes.inmage_item()
    for order in ([0, 1, 2], [1, 2, 0], [2, 0, 1], [1, 0, 2]):
        assert failover.choose_point(dicts(model, order), "latest_processed")["name"] == "rp-new"


def test_latest_app_consistent_is_the_newest_application_consistent_point():
    model = fakes.inmage_item()
    older_app = fakes.point(model, "rp-app-old", "2021-04-06T15:52:06Z", "ApplicationConsistent")
    points = [failover._point(p) for p in [older_app, *points_of(model)]]
    assert failover.choose_point(points, "latest_app_consistent")["name"] == "rp-app"
    assert failover.choose_point(list(reversed(points)), "latest_app_consistent")["name"] == "rp-app"


def test_a_named_point_by_name_or_id():
    points = dicts(fakes.inmage_item())
    assert failover.choose_point(points, "rp-old")["id"] == point_id("rp-old")
    assert failover.choose_point(points, point_id("rp-app"))["name"] == "rp-app"


def test_no_point_chosen():
    points = dicts(fakes.inmage_item())
    assert failover.choose_point([], "latest_processed") is None
    assert failover.choose_point([], "latest_app_consistent") is None
    assert failover.choose_point([], "rp-new") is None
    assert failover.choose_point([p for p in points if p["type"] == "CrashConsistent"], "latest_app_consistent") is None
    assert failover.choose_point(points, "rp-9") is None


# ------------------------------------------------------------------------------------------------ classic, per item
def test_classic_failover_sends_the_recorded_body_to_the_item():
    client, vault = setup(fakes.inmage_item())
    outcome = ensure(vault, vms=[fakes.VM])
    # lro_202.unplannedFailover.V2ATestFailback: this body, to this item
    assert client.actions == [("unplanned_failover", fakes.ITEM, {"properties": {
        "failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
        "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"}}},
        (fakes.RG, fakes.VAULT_NAME, fakes.FABRIC, fakes.CONTAINER, fakes.ITEM))]
    job = next(iter(client.jobs))
    assert outcome["changed"] is True and outcome["recovery_plan"] is None and outcome["job_ids"] == [job]
    # a classic VM failed over by this call: onprem_vm records the disks ASR attached (domain.commit_gate)
    assert outcome["verify_onprem"] == [{"name": fakes.VM, "record_disks": True}]
    result = outcome["vms"][0]
    assert (result["action"], result["changed"], result["stage_before"], result["stage_after"], result["via_plan"]) == (
        "failover", True, "replicating_to_onprem", "failed_back", None)
    assert result["recovery_point"] == {"name": "rp-new", "id": point_id("rp-new"), "type": "CrashConsistent",
                                        "time": "2021-04-06T16:57:05.940000+00:00"}
    assert result["data_loss_window_seconds"] == 300.1  # 300.06 s, to a tenth
    assert (result["job"]["name"], result["job"]["state"], result["job"]["scenario"]) == (
        job, "Succeeded", "UnplannedFailover")
    assert result["azure_vm_power_state"] is None


def test_required_source_site_operations_is_passed_through():
    client, vault = setup(fakes.inmage_item())
    ensure(vault, site="Required", vms=[fakes.VM])
    assert client.actions[0][2]["properties"]["sourceSiteOperations"] == "Required"


def test_latest_app_consistent_fails_over_with_latest_tag():
    client, vault = setup(fakes.inmage_item())
    result = ensure(vault, "latest_app_consistent", vms=[fakes.VM])["vms"][0]
    assert client.actions[0][2]["properties"]["providerSpecificDetails"] == {"instanceType": "InMage",
                                                                             "recoveryPointType": "LatestTag"}
    assert result["recovery_point"]["name"] == "rp-app"
    assert result["data_loss_window_seconds"] == 600.0


@pytest.mark.parametrize("wanted", ["rp-old", point_id("rp-old")])
def test_a_chosen_point_is_sent_as_custom_with_its_arm_id(wanted):
    # asr-api.md 4: a Custom failover names the point's full ARM id
    client, vault = setup(fakes.inmage_item())
    result = ensure(vault, wanted, vms=[fakes.VM])["vms"][0]
    assert client.actions[0][2]["properties"]["providerSpecificDetails"] == {
        "instanceType": "InMage", "recoveryPointType": "Custom", "recoveryPointId": point_id("rp-old")}
    assert result["recovery_point"]["name"] == "rp-old" and result["data_loss_window_seconds"] == 900.0


def test_custom_id_falls_back_to_what_was_asked():
    client, vault = setup(fakes.inmage_item())
    model = client.items[0]
    assert failover._custom_id(vault, model, "rp-app") == point_id("rp-app")
    assert failover._custom_id(vault, model, "rp-9") == "rp-9"


def test_a_point_without_a_time_has_no_data_loss_window():
    client, vault = setup(fakes.inmage_item(), points=False)
    client.points[fakes.ITEM] = [fakes.point(client.items[0], "rp-x", None)]
    result = ensure(vault, check_mode=True, vms=[fakes.VM])["vms"][0]
    assert result["recovery_point"] == {"name": "rp-x", "id": point_id("rp-x"), "type": "CrashConsistent", "time": None}
    assert result["data_loss_window_seconds"] is None


def test_a_failed_failover_is_retried():
    client, vault = setup(fakes.inmage_item(fakes.FAILOVER_FAILED))
    result = ensure(vault, vms=[fakes.VM])["vms"][0]
    assert result["stage_before"] == "failover_failed" and result["action"] == "failover"
    assert [a[0] for a in client.actions] == ["unplanned_failover"]


def test_azure_vm_power_state_is_read_after_the_failover():
    _client, vault = setup(fakes.inmage_item())
    azure_vms = fakes.FakeAzureVms({fakes.ITEM: fakes.azure_vm(fakes.VM, power_state="stopped")})
    assert ensure(vault, azure_vms=azure_vms, vms=[fakes.VM])["vms"][0]["azure_vm_power_state"] == "stopped"
    _client, vault = setup(fakes.inmage_item())
    assert ensure(vault, azure_vms=fakes.FakeAzureVms({fakes.ITEM: None}),
                  vms=[fakes.VM])["vms"][0]["azure_vm_power_state"] is None


def test_a_run_with_an_item_already_failed_back_reports_both():
    client, vault = setup(fakes.inmage_item(), fakes.inmage_item(fakes.FAILED_BACK, name=ITEM2, friendly=VM2))
    outcome = ensure(vault, vms=[fakes.VM, VM2])
    assert [a[1] for a in client.actions] == [fakes.ITEM]
    assert [(r["action"], r["stage_after"], r["job"] and r["job"]["state"], r["via_plan"]) for r in outcome["vms"]] == [
        ("failover", "failed_back", "Succeeded", None), ("already_done", "failed_back", None, None)]
    assert len(outcome["job_ids"]) == 1


def test_public_point_of_no_point():
    assert failover._public(None, NOW) == (None, None)


@pytest.mark.parametrize("model, stage", [
    (fakes.inmage_item(fakes.FAILED_BACK), "failed_back"), (fakes.inmage_item(fakes.COMMITTED), "failback_committed"),
    # replicating to Azure with no failover on record: nothing to fail back, a re-run after success changes nothing
    (fakes.forward_item(), "protected_to_azure")])
def test_items_past_the_failover_are_left_alone(model, stage):
    client, vault = setup(model)
    outcome = ensure(vault, item_names=[model.name])
    assert client.actions == [] and "points/" + model.name not in client.reads
    vm = model.properties.friendly_name
    assert outcome == {"changed": False, "recovery_plan": None, "recovery_plans": [], "verify_onprem": [{"name": vm}], "vms": [{
        "name": vm, "item_name": model.name, "stage_before": stage, "changed": False, "action": "already_done",
        "recovery_point": None, "data_loss_window_seconds": None, "job": None, "via_plan": None, "assumed": False}]}


def test_reprotected_to_azure_is_done_too():
    client, vault = setup(fakes.forward_item(lastSuccessfulFailoverTime="2021-04-06T12:06:11Z"))
    assert ensure(vault, vms=[fakes.FORWARD_VM])["vms"][0]["action"] == "already_done"
    assert client.actions == []


@pytest.mark.parametrize("model, why", [
    (fakes.forward_item(fakes.RUNNING_IN_AZURE), "it is not reprotected to on-premises yet; reprotect it first"),
    (fakes.inmage_item(fakes.running("Reprotect")), "its reprotect is still running; wait for it"),
    (fakes.inmage_item(fakes.running("UnplannedFailover")), "a job is running on it; wait for it and re-run"),
    (fakes.forward_item(fakes.MIGRATED), "its migration was completed; failback is impossible"),
    (fakes.forward_item({"allowedOperations": ["Commit"]}), "its failover to Azure is not committed"),
    (fakes.inmage_item({"protectionState": None, "allowedOperations": []}),
     "its state is not one failback knows; inspect the item in the Azure portal"),
])
def test_items_not_ready_are_refused_and_nothing_starts(model, why):
    client, vault = setup(model, fakes.inmage_item(name=ITEM2, friendly=VM2))
    error = refused(vault, item_names=[model.name, ITEM2])
    stage = error.details["vms"][0]["stage_before"]
    assert error.details["refusals"] == ["VM %s is at stage %s: %s." % (model.properties.friendly_name, stage, why)]
    assert error.msg.startswith("Refusing to fail over to on-premises; nothing was changed: ")
    assert client.actions == []
    assert [(r["action"], r["changed"]) for r in error.details["vms"]] == [("none", False), ("failover", True)]


def test_every_refusal_is_listed():
    client, vault = setup(fakes.forward_item(fakes.RUNNING_IN_AZURE), fakes.inmage_item(name=ITEM2, friendly=VM2),
                          points=False)
    error = refused(vault, item_names=[fakes.FORWARD_ITEM, ITEM2])
    assert [r.split(" ")[1] for r in error.details["refusals"]] == [fakes.FORWARD_VM, VM2]
    assert error.msg == "Refusing to fail over to on-premises; nothing was changed: " + " ".join(error.details["refusals"])
    assert client.actions == []


def test_no_recovery_point_yet():
    client, vault = setup(fakes.inmage_item(), points=False)
    error = refused(vault, vms=[fakes.VM])
    assert error.details["refusals"] == [
        "VM V2A-W2K16-201 has no recovery point yet: a VM cannot fail back before its first one."]
    assert (error.details["vms"][0]["action"], error.details["vms"][0]["changed"]) == ("none", False)
    assert client.actions == []


def test_no_application_consistent_point_yet():
    client, vault = setup(fakes.inmage_item(), points=False)
    client.points[fakes.ITEM] = points_of(client.items[0])[:2]
    assert refused(vault, "latest_app_consistent", vms=[fakes.VM]).details["refusals"] == [
        "VM V2A-W2K16-201 has no application-consistent recovery point yet (its 2 listed point(s) are "
        "CrashConsistent)."]


def test_an_unknown_point_names_the_points_there_are():
    client, vault = setup(fakes.inmage_item())
    assert refused(vault, "rp-9", vms=[fakes.VM]).details["refusals"] == [
        "VM V2A-W2K16-201 has no recovery point rp-9 (it has rp-old, rp-new, rp-app)."]
    assert client.actions == []


def test_check_mode_predicts_and_starts_nothing():
    client, vault = setup(fakes.inmage_item())
    outcome = ensure(vault, check_mode=True, vms=[fakes.VM])
    assert client.actions == []
    assert outcome["changed"] is True and outcome["recovery_plan"] is None
    assert (outcome["vms"][0]["action"], outcome["vms"][0]["recovery_point"]["name"]) == ("failover", "rp-new")
    assert "job_ids" not in outcome
    # the prediction: where the failover would leave the VM, for the next step of a check-mode run
    assert outcome["vms"][0]["stage_after"] == "failed_back" and outcome["predicted_stages"] == {fakes.VM: "failed_back"}
    assert outcome["verify_onprem"] == []  # the VM is verified on-premises once the real failover brought it back


def test_a_failed_job_raises_with_the_error_and_its_remedy():
    client, vault = setup(fakes.inmage_item(), fakes.inmage_item(name=ITEM2, friendly=VM2))
    # asr-api.md 6: 8038 is the documented failback error (the host lacks memory)
    client.outcomes[fakes.ITEM] = [("Failed", [fakes.job_error("8038", "Could not bring the VM online.", 8038,
                                                               "Insufficient memory on host esx01.")])]
    client.after.pop(fakes.ITEM)
    with pytest.raises(AzureError) as caught:
        ensure(vault, vms=[fakes.VM, VM2])
    error = caught.value
    assert error.msg.startswith("Failover to on-premises failed for V2A-W2K16-201. V2A-W2K16-201: [8038] "
                                "Insufficient memory on host esx01. Remedy: ")
    assert VM2 + ":" not in error.msg
    assert error.details["failed"] == [fakes.VM]
    assert [(r["job"]["state"], r["stage_after"]) for r in error.details["vms"]] == [
        ("Failed", "replicating_to_onprem"), ("Succeeded", "failed_back")]


def test_every_failed_failover_is_named():
    client, vault = setup(fakes.inmage_item(), fakes.inmage_item(name=ITEM2, friendly=VM2))
    client.outcomes = {fakes.ITEM: ["Failed"], ITEM2: ["Cancelled"]}
    with pytest.raises(AzureError) as caught:
        ensure(vault, vms=[fakes.VM, VM2])
    assert caught.value.msg == ("Failover to on-premises failed for V2A-W2K16-201, V2A-W2K16-301. V2A-W2K16-201: Failed "
                                "V2A-W2K16-301: Cancelled")


def test_a_job_ended_without_errors_is_reported_by_its_state():
    client, vault = setup(fakes.inmage_item())
    client.outcomes[fakes.ITEM] = ["Cancelled"]
    with pytest.raises(AzureError) as caught:
        ensure(vault, vms=[fakes.VM])
    assert caught.value.msg == "Failover to on-premises failed for V2A-W2K16-201. V2A-W2K16-201: Cancelled"


def test_an_answer_without_a_job():
    client, vault = setup(fakes.inmage_item())
    client.answer_200.add(fakes.ITEM)
    outcome = ensure(vault, vms=[fakes.VM])
    assert outcome["job_ids"] == [] and outcome["vms"][0]["job"] is None


# ------------------------------------------------------------------------------------------------ modernized
def test_modernized_failback_is_a_planned_failover_with_the_recorded_body():
    client, vault = setup(fakes.rcm_item())
    result = ensure(vault, "latest_app_consistent", vms=[fakes.RCM_VM])["vms"][0]
    # lro_202.plannedFailover.modernized.TestV2ARCMFailback: this body, no failoverDirection
    assert client.actions == [("planned_failover", fakes.RCM_ITEM, {"properties": {"providerSpecificDetails": {
        "instanceType": "InMageRcmFailback", "recoveryPointType": "ApplicationConsistent"}}},
        (fakes.RG, fakes.VAULT_NAME, fakes.RCM_FABRIC, fakes.RCM_CONTAINER, fakes.RCM_ITEM))]
    # the planned failover takes a fresh point: no point is read, no data is lost
    assert "points/" + fakes.RCM_ITEM not in client.reads
    assert result["recovery_point"] == {"name": None, "id": None, "type": "ApplicationConsistent", "time": None}
    assert result["changed"] is True
    assert result["data_loss_window_seconds"] == 0.0
    assert (result["stage_after"], result["job"]["scenario"]) == ("failed_back", "PlannedFailover")


def test_modernized_latest_processed_is_crash_consistent():
    client, vault = setup(fakes.rcm_item(), points=False)
    result = ensure(vault, vms=[fakes.RCM_VM])["vms"][0]
    assert client.actions[0][2]["properties"]["providerSpecificDetails"]["recoveryPointType"] == "CrashConsistent"
    assert result["recovery_point"]["type"] == "CrashConsistent"


def test_modernized_refuses_a_chosen_point():
    client, vault = setup(fakes.rcm_item())
    error = refused(vault, "rp-old", vms=[fakes.RCM_VM])
    assert error.details["refusals"] == [
        "VM Rcm-W2K19-152 fails back through the modernized flow, a planned failover to the latest crash- or "
        "application-consistent point: use latest_processed or latest_app_consistent."]
    assert (error.details["vms"][0]["action"], error.details["vms"][0]["recovery_point"]) == ("none", None)
    assert client.actions == []


# ------------------------------------------------------------------------------------------------ recovery plans
def grouped(name, friendly, group="grp-sql"):
    return fakes.inmage_item(name=name, friendly=friendly, group=group)


def test_a_whole_replication_group_fails_over_through_its_plan():
    a, b = grouped(fakes.ITEM, fakes.VM), grouped(ITEM2, VM2)
    client, vault = setup(a, b, plans=[fakes.recovery_plan("rp-sql", [a], [b])])
    outcome = ensure(vault, site="Required", vms=[fakes.VM, VM2])
    # asr-api.md 2.3: one plan call, RecoveryToPrimary, a list of provider inputs
    assert client.actions == [("unplanned_failover", "rp-sql", {"properties": {
        "failoverDirection": "RecoveryToPrimary", "sourceSiteOperations": "Required",
        "providerSpecificDetails": [{"instanceType": "InMage", "recoveryPointType": "LatestTime"}]}},
        (fakes.RG, fakes.VAULT_NAME, "rp-sql"))]
    assert outcome["recovery_plan"] == "rp-sql" and outcome["job_ids"] == [next(iter(client.jobs))]
    assert [(r["via_plan"], r["stage_after"], r["job"]["state"]) for r in outcome["vms"]] == [
        ("rp-sql", "failed_back", "Succeeded"), ("rp-sql", "failed_back", "Succeeded")]


def test_part_of_a_replication_group_is_refused_naming_the_plan_and_the_others():
    a, b, c = grouped(fakes.ITEM, fakes.VM), grouped(ITEM2, VM2), grouped(ITEM3, VM3)
    client, vault = setup(a, b, c, plans=[fakes.recovery_plan("rp-sql", [a, b, c])])
    error = refused(vault, vms=[fakes.VM])
    assert error.details["refusals"] == [
        "VM V2A-W2K16-201 is in replication group grp-sql, whose VMs fail over together through a recovery plan "
        "(ASR refuses them one by one): give recovery_plan: rp-sql (it also fails over V2A-W2K16-301, V2A-W2K16-401)."]
    assert client.actions == []


def test_a_replication_group_no_plan_holds():
    a, b = grouped(fakes.ITEM, fakes.VM), fakes.inmage_item(name=ITEM2, friendly=VM2)
    client, vault = setup(a, b, plans=[fakes.recovery_plan("rp-other", [b])])
    assert refused(vault, vms=[fakes.VM]).details["refusals"] == [
        "VM V2A-W2K16-201 is in replication group grp-sql, whose VMs fail over together through a recovery plan "
        "(ASR refuses them one by one): no recovery plan holds it; create one."]
    assert client.actions == []


def test_two_plans_holding_exactly_the_selection_are_ambiguous():
    a = grouped(fakes.ITEM, fakes.VM)
    client, vault = setup(a, plans=[fakes.recovery_plan("rp-1", [a]), fakes.recovery_plan("rp-2", [a])])
    refusals = refused(vault, vms=[fakes.VM]).details["refusals"]
    assert len(refusals) == 1 and "give recovery_plan: rp-1, rp-2 " in refusals[0]
    assert client.actions == []


def test_a_given_plan_is_used_as_is():
    a, b = grouped(fakes.ITEM, fakes.VM), fakes.inmage_item(name=ITEM2, friendly=VM2)
    client, vault = setup(a, b, plans=[fakes.recovery_plan("rp-app", [a], [b])])
    outcome = ensure(vault, "latest_app_consistent", plan="rp-app")
    assert [(m, t) for m, t, _b, _a in client.actions] == [("unplanned_failover", "rp-app")]
    assert client.actions[0][2]["properties"]["providerSpecificDetails"] == [
        {"instanceType": "InMage", "recoveryPointType": "LatestTag"}]
    assert [r["via_plan"] for r in outcome["vms"]] == ["rp-app", "rp-app"]


def test_a_given_plan_wins_over_another_plan_holding_the_same_vms():
    a, b = grouped(fakes.ITEM, fakes.VM), grouped(ITEM2, VM2)
    client, vault = setup(a, b, plans=[fakes.recovery_plan("rp-app", [a, b]), fakes.recovery_plan("rp-dr", [a], [b])])
    assert ensure(vault, plan="rp-app")["recovery_plan"] == "rp-app"
    assert [(m, t) for m, t, _b, _a in client.actions] == [("unplanned_failover", "rp-app")]


def test_a_plan_without_groups_is_used_when_given():
    a, b = fakes.inmage_item(), fakes.inmage_item(fakes.FAILED_BACK, name=ITEM2, friendly=VM2)
    client, vault = setup(a, b, plans=[fakes.recovery_plan("rp-web", [a, b])])
    outcome = ensure(vault, plan="rp-web")
    assert outcome["recovery_plan"] == "rp-web"
    assert [(m, t) for m, t, _b, _a in client.actions] == [("unplanned_failover", "rp-web")]
    assert [(r["action"], r["via_plan"]) for r in outcome["vms"]] == [("failover", "rp-web"), ("already_done", None)]


def test_a_plan_refuses_a_chosen_point():
    a, b = grouped(fakes.ITEM, fakes.VM), grouped(ITEM2, VM2)
    client, vault = setup(a, b, plans=[fakes.recovery_plan("rp-sql", [a, b])])
    error = refused(vault, "rp-old", vms=[fakes.VM, VM2])
    assert error.details["refusals"] == [
        "Recovery plan rp-sql fails over to latest_processed or latest_app_consistent only."]
    assert [r["via_plan"] for r in error.details["vms"]] == [None, None]
    assert client.actions == []


def test_a_plan_of_a_vm_with_no_point_says_the_plan_waits():
    a = fakes.inmage_item()
    client, vault = setup(a, points=False, plans=[fakes.recovery_plan("rp-web", [a])])
    assert refused(vault, plan="rp-web").details["refusals"] == [
        "VM V2A-W2K16-201 has no recovery point yet: a VM cannot fail back before its first one. Recovery plan rp-web "
        "cannot fail back until every VM has one."]
    client, vault = setup(a, points=False, plans=[fakes.recovery_plan("rp-web", [a])])
    client.points[fakes.ITEM] = points_of(a)[:1]
    assert refused(vault, "latest_app_consistent", plan="rp-web").details["refusals"] == [
        "VM V2A-W2K16-201 has no application-consistent recovery point yet (its 1 listed point(s) are CrashConsistent). "
        "Recovery plan "
        "rp-web cannot fail back until every VM has one."]


def test_a_modernized_plan_takes_a_planned_failover():
    a = fakes.rcm_item()
    client, vault = setup(a, plans=[fakes.recovery_plan("rp-rcm", [a])])
    outcome = ensure(vault, plan="rp-rcm")
    assert client.actions == [("planned_failover", "rp-rcm", {"properties": {
        "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": [
            {"instanceType": "InMageRcmFailback", "recoveryPointType": "CrashConsistent"}]}},
        (fakes.RG, fakes.VAULT_NAME, "rp-rcm"))]
    assert outcome["vms"][0]["via_plan"] == "rp-rcm"


def test_items_without_a_group_fail_over_one_by_one_even_if_a_plan_holds_them():
    a, b = fakes.inmage_item(), fakes.inmage_item(name=ITEM2, friendly=VM2)
    client, vault = setup(a, b, plans=[fakes.recovery_plan("rp-web", [a, b])])
    outcome = ensure(vault, vms=[fakes.VM, VM2])
    assert [(m, t) for m, t, _b, _a in client.actions] == [("unplanned_failover", fakes.ITEM),
                                                           ("unplanned_failover", ITEM2)]
    assert outcome["recovery_plan"] is None and len(outcome["job_ids"]) == 2
    assert "plans" not in client.reads


# ------------------------------------------------------------------------------------------------ cancel
def cancel(vault, check_mode=False, **sel):
    return failover.cancel(vault, dict(SEL, **sel), check_mode, fakes.deadline(), poll=1.0)


def cancel_refused(vault, **sel):
    with pytest.raises(AzureError) as caught:
        cancel(vault, **sel)
    return caught.value


def test_cancel_a_modernized_failback():
    client, vault = setup(fakes.rcm_item(fakes.RCM_FAILED_BACK))
    client.after[fakes.RCM_ITEM] = fakes.rcm_item()  # replication from Azure resumes
    outcome = cancel(vault, vms=[fakes.RCM_VM])
    assert client.actions == [("failover_cancel", fakes.RCM_ITEM, None,
                               (fakes.RG, fakes.VAULT_NAME, fakes.RCM_FABRIC, fakes.RCM_CONTAINER, fakes.RCM_ITEM))]
    assert outcome["changed"] is True
    result = outcome["vms"][0]
    assert (result["action"], result["stage_before"], result["stage_after"], result["job"]["state"]) == (
        "cancel", "failed_back", "replicating_to_onprem", "Succeeded")


@pytest.mark.parametrize("state", [fakes.RCM_REPLICATING_TO_ONPREM, fakes.FAILOVER_FAILED])
def test_cancel_of_a_failback_not_started_is_done(state):
    client, vault = setup(fakes.rcm_item(state))
    assert cancel(vault, vms=[fakes.RCM_VM]) == {"changed": False, "vms": [{
        "name": fakes.RCM_VM, "item_name": fakes.RCM_ITEM, "stage_before": cancel_stage(state), "changed": False,
        "action": "already_done", "job": None, "assumed": False}]}
    assert client.actions == []


def cancel_stage(state):
    return "replicating_to_onprem" if state is fakes.RCM_REPLICATING_TO_ONPREM else "failover_failed"


def test_cancel_after_the_commit_is_refused():
    client, vault = setup(fakes.inmage_item(fakes.COMMITTED), fakes.rcm_item(fakes.RCM_FAILED_BACK))
    error = cancel_refused(vault, vms=[fakes.VM, fakes.RCM_VM])
    assert error.details["refusals"] == ["VM V2A-W2K16-201 is at stage failback_committed: its failback is committed; "
                                         "a committed failback cannot be cancelled."]
    assert [(r["action"], r["changed"]) for r in error.details["vms"]] == [("none", False), ("cancel", True)]
    assert error.msg.startswith("Refusing to cancel the failback; nothing was changed: ")
    assert client.actions == []


def test_cancel_of_a_classic_failback_is_refused():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    assert cancel_refused(vault, vms=[fakes.VM]).details["refusals"] == [
        "VM V2A-W2K16-201 fails back through ASR's classic flow, whose failback cannot be cancelled (ASR allows "
        "Commit, DisableProtection): fix the on-premises VM and commit, or fail over again."]
    assert client.actions == []


def test_a_classic_failback_is_refused_even_if_cancel_were_offered():
    client, vault = setup(fakes.inmage_item({"allowedOperations": ["Commit", "CancelFailover"]}))
    assert "fails back through ASR's classic flow" in cancel_refused(vault, vms=[fakes.VM]).details["refusals"][0]
    assert client.actions == []


def test_every_cancel_refusal_is_listed():
    client, vault = setup(fakes.inmage_item(fakes.COMMITTED), fakes.inmage_item(fakes.FAILED_BACK, name=ITEM2, friendly=VM2))
    error = cancel_refused(vault, vms=[fakes.VM, VM2])
    assert [r.split(" ")[1] for r in error.details["refusals"]] == [fakes.VM, VM2]
    assert error.msg == "Refusing to cancel the failback; nothing was changed: " + " ".join(error.details["refusals"])
    assert client.actions == []


def test_cancel_when_asr_does_not_offer_it_is_refused():
    client, vault = setup(fakes.rcm_item({"allowedOperations": ["Commit", "DisableProtection"]}))
    error = cancel_refused(vault, vms=[fakes.RCM_VM])
    assert "(ASR allows Commit, DisableProtection)" in error.details["refusals"][0]
    assert client.actions == []


def test_cancel_check_mode_predicts():
    client, vault = setup(fakes.rcm_item(fakes.RCM_FAILED_BACK))
    outcome = cancel(vault, check_mode=True, vms=[fakes.RCM_VM])
    assert outcome["changed"] is True and outcome["vms"][0]["action"] == "cancel"
    assert client.actions == [] and "stage_after" not in outcome["vms"][0]


def test_a_failed_cancel_raises():
    client, vault = setup(fakes.rcm_item(fakes.RCM_FAILED_BACK), fakes.rcm_item(name=ITEM2, friendly=VM2))
    client.outcomes[fakes.RCM_ITEM] = [("Failed", [fakes.job_error("CancelFailed", "The disks could not be reverted.",
                                                                   action="Retry the cancel.")])]
    client.after[fakes.RCM_ITEM] = fakes.rcm_item(fakes.RCM_FAILED_BACK)
    with pytest.raises(AzureError) as caught:
        cancel(vault, vms=[fakes.RCM_VM, VM2])
    assert caught.value.msg == ("Cancelling the failback failed for Rcm-W2K19-152. Rcm-W2K19-152: [CancelFailed] The "
                                "disks could not be reverted. Remedy: Retry the cancel.")
    assert caught.value.details["failed"] == [fakes.RCM_VM]
    assert [(r["action"], r["stage_after"]) for r in caught.value.details["vms"]] == [
        ("cancel", "failed_back"), ("already_done", "replicating_to_onprem")]


def test_every_failed_cancel_is_named():
    client, vault = setup(fakes.rcm_item(fakes.RCM_FAILED_BACK),
                          fakes.rcm_item(fakes.RCM_FAILED_BACK, name=ITEM2, friendly=VM2))
    client.outcomes = {fakes.RCM_ITEM: ["Failed"], ITEM2: ["Cancelled"]}
    with pytest.raises(AzureError) as caught:
        cancel(vault, vms=[fakes.RCM_VM, VM2])
    assert caught.value.msg == ("Cancelling the failback failed for Rcm-W2K19-152, V2A-W2K16-301. Rcm-W2K19-152: "
                                "Failed V2A-W2K16-301: Cancelled")


# ------------------------------------------------------------------------------------------------ job polling
def test_the_failover_job_is_followed_until_it_ends():
    # job.failback_failover.inprogress_first_poll / inprogress_mid / succeeded: InProgress twice, then Succeeded
    client, vault = setup(fakes.inmage_item())
    client.first_polls = ["InProgress", "InProgress"]
    clock = FakeClock()
    outcome = failover.ensure(None, vault, dict(SEL, vms=[fakes.VM]), "latest_processed", "NotRequired", False,
                              fakes.deadline(clock=clock))
    assert outcome["vms"][0]["job"]["state"] == "Succeeded"
    assert clock.sleeps == [15.0, 15.0]  # the default poll interval, on the fake clock


def test_the_cancel_job_is_followed_until_it_ends():
    client, vault = setup(fakes.rcm_item(fakes.RCM_FAILED_BACK))
    client.after[fakes.RCM_ITEM] = fakes.rcm_item()
    client.first_polls = ["NotStarted"]
    clock = FakeClock()
    outcome = failover.cancel(vault, dict(SEL, vms=[fakes.RCM_VM]), False, fakes.deadline(clock=clock))
    assert outcome["vms"][0]["job"]["state"] == "Succeeded"
    assert clock.sleeps == [15.0]


# ------------------------------------------------------------------------ check mode after a predicted reprotect
def test_check_mode_plans_from_the_stage_an_earlier_step_predicted():
    # the VM is still running in Azure; the reprotect of the same check-mode run predicted replicating_to_onprem
    client, vault = setup(fakes.forward_item(fakes.RUNNING_IN_AZURE))
    outcome = failover.ensure(None, vault, dict(SEL, vms=[fakes.FORWARD_VM]), "latest_processed", "NotRequired", True,
                              fakes.deadline(), assumed={fakes.FORWARD_VM: "replicating_to_onprem"})
    entry = outcome["vms"][0]
    assert (entry["action"], entry["assumed"], entry["stage_before"]) == ("failover", True, "replicating_to_onprem")
    assert entry["recovery_point"] is None  # chosen when the real run gets there
    assert outcome["predicted_stages"] == {fakes.FORWARD_VM: "failed_back"}
    assert client.actions == [] and not [r for r in client.reads if r.startswith("points/")]


def test_an_assumed_stage_never_moves_a_vm_back_and_counts_only_in_check_mode():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    outcome = failover.ensure(None, vault, dict(SEL, vms=[fakes.VM]), "latest_processed", "NotRequired", True,
                              fakes.deadline(), assumed={fakes.VM: "replicating_to_onprem"})
    assert (outcome["vms"][0]["action"], outcome["vms"][0]["assumed"]) == ("already_done", False)
    client, vault = setup(fakes.forward_item(fakes.RUNNING_IN_AZURE))
    with pytest.raises(AzureError, match="is at stage running_in_azure"):
        failover.ensure(None, vault, dict(SEL, vms=[fakes.FORWARD_VM]), "latest_processed", "NotRequired", False,
                        fakes.deadline(), assumed={fakes.FORWARD_VM: "replicating_to_onprem"})
    assert client.actions == []


def test_a_modernized_vm_assumed_reprotected_is_planned_as_a_planned_failover():
    client, vault = setup(fakes.rcm_forward_item(fakes.RUNNING_IN_AZURE))
    outcome = failover.ensure(None, vault, dict(SEL, vms=[fakes.RCM_FORWARD_VM]), "latest_app_consistent", "NotRequired",
                              True, fakes.deadline(), assumed={fakes.RCM_FORWARD_VM: "replicating_to_onprem"})
    entry = outcome["vms"][0]
    assert entry["action"] == "failover" and entry["assumed"] is True
    assert entry["recovery_point"]["type"] == "ApplicationConsistent" and entry["data_loss_window_seconds"] == 0.0
    assert client.actions == []


def test_the_diff_shows_each_vms_stage_before_and_after():
    results = [{"name": "app01", "stage_before": "replicating_to_onprem", "stage_after": "failed_back"},
               {"name": "web01", "stage_before": "failed_back"}]
    assert runner.diff(results) == {"before": {"app01": "replicating_to_onprem", "web01": "failed_back"},
                                    "after": {"app01": "failed_back", "web01": "failed_back"}}


# ------------------------------------------------------------------------------------------------ per-VM mode
ITEM4, VM4 = "V2A-W2K16-501-new", "V2A-W2K16-501"


def per_vm(vault, **sel):
    return failover.ensure(None, vault, dict(SEL, **sel), "latest_processed", "NotRequired", False, fakes.deadline(),
                           poll=1.0, per_vm=True)


def test_per_vm_a_refused_vm_stops_alone_and_the_others_fail_over():
    client, vault = setup(fakes.forward_item(fakes.RUNNING_IN_AZURE), fakes.inmage_item(name=ITEM2, friendly=VM2))
    with pytest.raises(AzureError) as caught:
        per_vm(vault, item_names=[fakes.FORWARD_ITEM, ITEM2])
    details = caught.value.details
    assert [a[1] for a in client.actions] == [ITEM2]  # the other VM failed over
    assert details["continue_with"] == [VM2]
    assert details["stopped"] == [{"name": fakes.FORWARD_VM, "stage": "running_in_azure", "why": (
        "VM V2A-W2K19-202 is at stage running_in_azure: it is not reprotected to on-premises yet; reprotect it first.")}]
    assert [(r["name"], r["action"], r.get("stage_after")) for r in details["vms"]] == [
        (fakes.FORWARD_VM, "none", None), (VM2, "failover", "failed_back")]
    assert caught.value.msg.startswith("Failover to on-premises stopped for V2A-W2K19-202 (running_in_azure): ")
    assert caught.value.msg.endswith("the other VMs go on: V2A-W2K16-301.")


def test_per_vm_a_failed_job_stops_its_vm_and_the_others_go_on():
    client, vault = setup(fakes.inmage_item(), fakes.inmage_item(name=ITEM2, friendly=VM2))
    client.outcomes[fakes.ITEM] = ["Failed"]
    client.after.pop(fakes.ITEM)
    with pytest.raises(AzureError) as caught:
        per_vm(vault, vms=[fakes.VM, VM2])
    details = caught.value.details
    assert sorted(a[1] for a in client.actions) == [fakes.ITEM, ITEM2]
    assert details["continue_with"] == [VM2] and details["failed"] == [fakes.VM]
    assert details["stopped"][0]["name"] == fakes.VM and "Failed" in details["stopped"][0]["why"]


def test_per_vm_a_replication_group_stops_as_a_unit():
    # VM and VM2 form a group no recovery plan holds (refused); VM4 is alone and fails over
    a, b = grouped(fakes.ITEM, fakes.VM), grouped(ITEM2, VM2)
    client, vault = setup(a, b, fakes.inmage_item(name=ITEM4, friendly=VM4))
    with pytest.raises(AzureError) as caught:
        per_vm(vault, vms=[fakes.VM, VM2, VM4])
    details = caught.value.details
    assert [a[1] for a in client.actions] == [ITEM4]
    assert details["continue_with"] == [VM4]
    assert [s["name"] for s in details["stopped"]] == [fakes.VM, VM2]


def test_per_vm_with_nothing_stopped_is_a_plain_success_and_off_refuses_the_whole_step():
    client, vault = setup(fakes.inmage_item(), fakes.inmage_item(name=ITEM2, friendly=VM2))
    outcome = per_vm(vault, vms=[fakes.VM, VM2])
    assert outcome["changed"] is True and [r["name"] for r in outcome["vms"]] == [fakes.VM, VM2]
    assert all("stopped" not in r for r in outcome["vms"])
    client, vault = setup(fakes.forward_item(fakes.RUNNING_IN_AZURE), fakes.inmage_item(name=ITEM2, friendly=VM2))
    with pytest.raises(AzureError, match=r"^Refusing to fail over"):
        ensure(vault, item_names=[fakes.FORWARD_ITEM, ITEM2])
    assert client.actions == []


def test_units_keep_a_replication_group_together_in_selection_order():
    pairs = [(None, {"name": n, "replication_group": g}) for n, g in
             [("a", None), ("b", "g1"), ("c", None), ("d", "g1"), ("e", "g2")]]
    assert [[p[1]["name"] for p in unit] for unit in runner.units(pairs)] == [["a"], ["b", "d"], ["c"], ["e"]]


def test_per_vm_passes_on_an_error_that_names_no_vm():
    gate = runner.PerVm(failover.WORDS, [(None, {"name": "a", "item_name": "ia", "replication_group": None})], True)
    with pytest.raises(AzureError, match=r"^the service is down$"):
        gate.conclude([], AzureError("the service is down"))


@pytest.mark.parametrize("problem", [None, "vSphere task(s) failed: record ..."])
def test_the_disks_asr_attached_are_recorded_right_after_the_job(problem):
    # the commit gate trusts that record over a disk's name for a classic VM (ASR names no file nor UUID)
    client, vault = setup(fakes.inmage_item())
    asked = []

    def record(entries):
        asked.append([dict(e) for e in entries])
        assert client.actions, "recorded only after the failover was asked for"
        return {e["name"]: problem for e in entries}
    outcome = ensure(vault, vms=[fakes.VM], record=record)
    # pins_from: the master target the vault's fabric names for the item (this vault lists no fabric: None)
    assert asked == [[{"name": fakes.VM, "record_disks": True, "pins_from": None}]]
    assert outcome["vms"][0]["disks_recorded"] is (problem is None)
    if problem is None:  # recorded: nothing left for onprem_vm
        assert outcome["verify_onprem"] == [{"name": fakes.VM}] and outcome["warnings"] == []
    else:  # not recorded: onprem_vm records it, and a warning says why
        assert outcome["verify_onprem"] == [{"name": fakes.VM, "record_disks": True}]
        assert len(outcome["warnings"]) == 1 and problem in outcome["warnings"][0]
    # a VM already failed back is not recorded again (its disks may have changed since ASR attached them)
    asked.clear()
    again = ensure(vault, vms=[fakes.VM], record=record)
    assert asked == [] and again["changed"] is False


@pytest.mark.parametrize("problem", [None, "no VMDK named after VM x is attached to a master target"])
def test_the_disk_uuids_are_pinned_right_before_the_job_starts(problem):
    # a job that stops part-way leaves VMDKs attached to no VM; onprem_vm records them with the pinned UUIDs
    client, vault = setup(fakes.inmage_item())
    asked = []

    def pin(entries):
        asked.append([dict(e) for e in entries])
        assert not client.actions, "pinned before the failover is asked for"
        return dict.fromkeys([e["name"] for e in entries], problem)
    outcome = ensure(vault, vms=[fakes.VM], pin=pin)
    assert asked == [[{"name": fakes.VM, "pins_from": None}]] and client.actions
    if problem is None:
        assert outcome["warnings"] == []
    else:
        (warning,) = outcome["warnings"]
        assert warning.startswith("VM %s: the disk UUIDs of its VMDKs were not pinned before the failover (%s)"
                                  % (fakes.VM, problem))
    asked.clear()
    assert ensure(vault, vms=[fakes.VM], pin=pin)["changed"] is False and asked == []  # nothing to fail over


def test_verify_onprem_carries_the_instance_uuid_a_modernized_item_records():
    # onprem_vm acts on the VM of that UUID when a stale copy shares its name (domain.identity); a classic item
    # records none, so its entry stays {name}
    modern = {"item_name": "vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8", "provider": "InMageRcmFailback",
              "onprem": {"instance_uuid": "50158471-87c2-d4ad-caa2-abe22face6d8"}}
    classic = {"item_name": "d3731098-963a-11eb-a892-000d3ad78fab", "provider": "InMage",
               "onprem": {"instance_uuid": None}}
    results = [{"name": "Rcm-W2K19-152", "item_name": modern["item_name"], "action": "failover"},
               {"name": "V2A-W2K16-201", "item_name": classic["item_name"], "action": "failover"}]
    assert failover._verify(results, [(None, modern), (None, classic)]) == [
        {"name": "Rcm-W2K19-152", "instance_uuid": "50158471-87c2-d4ad-caa2-abe22face6d8"}, {"name": "V2A-W2K16-201"}]
    # after this call's failover jobs: the classic VM's disks are recorded (ASR gives the modernized one's UUIDs)
    assert failover._verify(results, [(None, modern), (None, classic)], ran=True) == [
        {"name": "Rcm-W2K19-152", "instance_uuid": "50158471-87c2-d4ad-caa2-abe22face6d8"},
        {"name": "V2A-W2K16-201", "record_disks": True}]
    # a VM left alone (already failed back) is not recorded: its disks may have changed since ASR attached them
    results[1]["action"] = "skip"
    assert failover._verify(results, [(None, classic)], ran=True)[1] == {"name": "V2A-W2K16-201"}


def test_the_master_target_of_a_classic_item_is_the_one_its_master_target_id_names():
    from types import SimpleNamespace

    from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric
    servers = [SimpleNamespace(id="AB-01", name="mt-win01"), SimpleNamespace(id="CD-02", name="mt-lin01")]
    vault = SimpleNamespace(fabrics=lambda: [SimpleNamespace(properties=SimpleNamespace(
        custom_details=SimpleNamespace(master_target_servers=servers)))])
    names = fabric.master_target_names(vault)
    assert fabric.master_target_of({"onprem": {"master_target_id": "cd-02"}}, names) == "mt-lin01"
    assert fabric.master_target_of({"onprem": {"master_target_id": None}}, names) is None
    assert fabric.master_target_of({"onprem": {"master_target_id": "EF-03"}}, names) is None
