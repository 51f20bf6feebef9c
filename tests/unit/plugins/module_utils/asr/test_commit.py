# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.commit: the Azure VM is deleted (failoverCommit) only for failed-back items that pass the commit gate
(domain.commit_gate: every protected disk attached, powered on, Tools or force, probes); everything else is skipped
or refused before any change."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import commit
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes

# ------------------------------------------------------------------------------------------------ helpers
TWO_DISKS = ({"file": "[ds1] vm/vm.vmdk", "uuid": None, "capacity_bytes": 30 * 1024 ** 3, "backing": "flat"},
             {"file": "[ds1] vm/vm_1.vmdk", "uuid": None, "capacity_bytes": 5 * 1024 ** 3, "backing": "flat"})


def running_vm(power="poweredOn", tools="guestToolsRunning", disks=TWO_DISKS):
    return {"found": True, "problem": None, "power_state": power, "tools_running_status": tools, "disks": list(disks),
            "known": [], "elsewhere": [], "recorded": "manifest"}


class FakeVms:
    """vsphere.verify.OnPremVms answering from ``facts`` ({VM name: facts}); records what it was asked."""

    def __init__(self, facts):
        self.by_name = facts
        self.asked = []

    def facts(self, name, instance_uuid=None, given_files=None):
        self.asked.append((name, instance_uuid) if given_files is None else (name, instance_uuid, given_files))
        return self.by_name.get(name, {"found": False, "problem": "it was not found in vCenter", "name": name})


class OnPrem:
    """A gate_of for ensure: commit.gate over FakeVms and canned probe answers; records each call."""

    def __init__(self, facts, answers=None, probes=(), force=False, verification="tools"):
        self.vms = FakeVms(facts)
        self.answers = answers or {}
        self.probes = list(probes)
        self.force = force
        self.verification = verification
        self.asked = []
        self.reads = 0
        self.probed = []

    def read(self):
        self.reads += 1
        return self.vms

    def run_probes(self, probes):
        self.probed.append([p["label"] for p in probes])
        return [{"label": p["label"], "vm": p.get("vm"), "ok": self.answers.get(p["label"], (True, "ok"))[0],
                 "fact": self.answers.get(p["label"], (True, "ok"))[1]} for p in probes]

    def __call__(self, candidates):
        self.asked.append([item["name"] for _model, item in candidates])
        return commit.gate(candidates, self.read, self.run_probes, self.probes, self.verification, self.force)


def item(name, stage):
    return None, {"name": name, "item_name": "item-" + name, "failback_stage": stage}


def decision(name, **onprem):
    disks = [{"id": "{D0}", "name": "Disk0", "capacity_bytes": 30 * 1024 ** 3, "uuid": None},
             {"id": "{D1}", "name": "Disk1", "capacity_bytes": 5 * 1024 ** 3, "uuid": None}]
    return commit_gate.decide(name, disks, running_vm(**onprem), probes=[])


# ------------------------------------------------------------------------------------------------ protected disks
def test_protected_disks_of_the_fake_items():
    assert [d["id"] for d in commit.protected_disks(fakes.inmage_item(fakes.FAILED_BACK))] == [
        "{5D628CF2-6CAA-468D-9E7A-35881C0D00DE}", "{A0F5A31E-BE66-4F83-A382-F3478D1C800F}"]
    assert commit.protected_disks(None) == []


def test_the_onprem_vm_of_a_modernized_item_is_its_target_vm():
    model = fakes.rcm_item(fakes.RCM_FAILED_BACK)
    assert commit.onprem_name(model, {"name": "friendly"}) == "Rcm-W2K19-152"
    assert commit.onprem_name(fakes.inmage_item(fakes.FAILED_BACK), {"name": "friendly"}) == "friendly"


# ------------------------------------------------------------------------------------------------ gate
def test_gate_reads_vcenter_once_and_probes_only_vms_that_pass_every_other_rule():
    probes, _problems = commit_gate.validate_options({"tcp": [{"host": "a", "port": 1}, {"host": "b", "port": 2,
                                                                                         "vm": "web01"}]})
    onprem = OnPrem({"app01": running_vm(), "web01": running_vm(power="poweredOff")}, probes=probes)
    app = fakes.inmage_item(fakes.FAILED_BACK, name="item-app01", friendly="app01")
    web = fakes.inmage_item(fakes.FAILED_BACK, name="item-web01", friendly="web01")
    decisions = onprem([(app, {"name": "app01", "item_name": "item-app01", "onprem": {"instance_uuid": "u1"}}),
                        (web, {"name": "web01", "item_name": "item-web01", "onprem": {}})])
    assert onprem.reads == 1 and onprem.vms.asked == [("app01", "u1"), ("web01", None)]
    assert onprem.probed == [["tcp a:1"]]  # web01 is refused already: its probe does not run
    assert decisions["item-app01"]["commit"] is True and decisions["item-app01"]["probes"][0]["ok"] is True
    assert [r["rule"] for r in decisions["item-web01"]["refusals"]] == ["onprem_vm_powered_on"]


def test_gate_of_nothing_reads_nothing():
    onprem = OnPrem({})
    assert onprem([]) == {} and onprem.reads == 0


# ------------------------------------------------------------------------------------------------ plan
def test_plan_commits_a_failed_back_vm_that_passes_the_gate():
    acting, results, forced, refusals = commit.plan([item("app01", "failed_back")], {"item-app01": decision("app01")})
    assert [i["name"] for _m, i in acting] == ["app01"] and refusals == [] and forced == []
    assert {k: results[0][k] for k in ("action", "changed", "onprem_power_state", "tools_running_status", "forced")} == {
        "action": "commit", "changed": True, "onprem_power_state": "poweredOn",
        "tools_running_status": "guestToolsRunning", "forced": False}
    assert [d["file"] for d in results[0]["disks"]] == ["[ds1] vm/vm.vmdk", "[ds1] vm/vm_1.vmdk"]


@pytest.mark.parametrize("stage", ["failback_committed", "reprotected_to_azure", "protected_to_azure"])
def test_plan_leaves_committed_vms_alone(stage):
    acting, results, forced, refusals = commit.plan([item("app01", stage)], {})
    assert acting == [] and forced == [] and refusals == []
    assert (results[0]["action"], results[0]["changed"], results[0]["onprem_power_state"]) == (
        "already_done", False, "not checked")


@pytest.mark.parametrize("stage, why", [
    ("replicating_to_onprem", "it has not failed over to on-premises yet"),
    ("failover_failed", "its failover to on-premises failed; retry the failover"),
    ("running_in_azure", "it was not failed back yet"),
    ("reprotecting_to_onprem", "its reprotect is still running"),
    ("job_running", "a job is running on it; wait for it and re-run"),
    ("unknown", "its state is not one failback knows; inspect the item in the Azure portal"),
])
def test_plan_refuses_vms_that_did_not_fail_back(stage, why):
    _acting, results, _forced, refusals = commit.plan([item("app01", stage)], {})
    assert refusals == ["VM app01 is at stage %s: %s." % (stage, why)]
    assert results[0]["refusals"] == [{"rule": "stage_failed_back", "message": refusals[0]}]


def test_plan_without_a_decision_refuses():
    _acting, results, _forced, refusals = commit.plan([item("app01", "failed_back")], {})
    assert [r["rule"] for r in results[0]["refusals"]] == ["onprem_vm_found"] and len(refusals) == 1


def test_plan_reports_forced_vms():
    forced_decision = commit_gate.decide("app01", [], running_vm(), force=True, probes=[])
    assert forced_decision["commit"] is False  # no protected disk known: force does not help
    tools_off = decision("app01", tools="guestToolsNotRunning")
    assert tools_off["commit"] is False
    disks = [{"id": "{D0}", "name": "Disk0", "capacity_bytes": None, "uuid": None}]
    forced = commit_gate.decide("app01", disks, running_vm(tools="guestToolsNotRunning"), force=True, probes=[])
    acting, results, names, refusals = commit.plan([item("app01", "failed_back")], {"item-app01": forced})
    assert len(acting) == 1 and names == ["app01"] and results[0]["forced"] is True and refusals == []


def test_plan_lists_every_refusal_and_every_vm():
    decisions = {"item-app01": decision("app01"), "item-web01": decision("web01", power="poweredOff")}
    acting, results, _forced, refusals = commit.plan(
        [item("app01", "failed_back"), item("web01", "failed_back"), item("db01", "job_running"),
         item("old01", "failback_committed")], decisions)
    assert [r.split(" ")[1] for r in refusals] == ["web01", "db01"]
    assert [(r["name"], r["action"]) for r in results] == [
        ("app01", "commit"), ("web01", "none"), ("db01", "none"), ("old01", "already_done")]
    assert len(acting) == 1


# ------------------------------------------------------------------------------------------------ ensure
OTHER_ITEM, OTHER_VM = "V2A-W2K16-301-new", "V2A-W2K16-301"
COMMITTED_ITEM, COMMITTED_VM = "V2A-W2K16-401-new", "V2A-W2K16-401"


def setup(*items):
    client = fakes.FakeSiteRecovery(items=items)
    # what ASR does on commit: the item is committed (asr-api.md 3.2)
    client.after.update({m.name: fakes.inmage_item(fakes.COMMITTED, name=m.name, friendly=m.properties.friendly_name)
                         for m in items})
    return client, fakes.vault(client)


def ensure(vault, onprem, check_mode=False, azure_vms=None, **selection):
    return commit.ensure(None, vault, dict({"vms": [], "item_names": [], "plan": None}, **selection), onprem,
                         check_mode, fakes.deadline(), poll=1.0, azure_vms=azure_vms)


def test_ensure_commits_with_an_empty_body_and_reports_the_azure_vm_gone():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.COMMITTED, name=COMMITTED_ITEM, friendly=COMMITTED_VM))
    azure = fakes.azure_vm(fakes.VM)
    azure_vms = fakes.FakeAzureVms({fakes.ITEM: azure}, after_forget={fakes.ITEM: dict(azure, exists=False)})
    onprem = OnPrem({fakes.VM: running_vm()})
    outcome = ensure(vault, onprem, azure_vms=azure_vms, vms=[fakes.VM, COMMITTED_VM])
    # asr-api.md 2.4 / lro_202.failoverCommit: POST failoverCommit with no body, on that item only
    assert client.actions == [("failover_commit", fakes.ITEM, None,
                               (fakes.RG, fakes.VAULT_NAME, fakes.FABRIC, fakes.CONTAINER, fakes.ITEM))]
    assert onprem.asked == [[fakes.VM]]  # vCenter is asked about failed-back VMs only
    assert outcome["changed"] is True and outcome["forced"] == []
    done, skipped = outcome["vms"]
    assert (done["action"], done["stage_before"], done["stage_after"]) == ("commit", "failed_back", "failback_committed")
    assert done["job"]["state"] == "Succeeded" and done["job"]["scenario"] == "CommitFailover"
    assert done["job"]["name"] == next(iter(client.jobs))
    assert done["azure_vm_deleted"] is True
    assert done["leftovers"] == {"disks": [{"name": "left-osdisk"}], "nics": [], "resource_groups": []}
    assert ("leftovers", azure["id"], []) in azure_vms.calls
    assert (skipped["action"], skipped["stage_after"], skipped["job"]) == ("already_done", "failback_committed", None)
    assert "azure_vm_deleted" not in skipped and "leftovers" not in skipped


def test_ensure_reads_the_azure_vm_again_after_the_commit():
    _client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    azure = fakes.azure_vm(fakes.VM)
    azure_vms = fakes.FakeAzureVms({fakes.ITEM: azure})  # Compute still shows it after the commit
    outcome = ensure(vault, OnPrem({fakes.VM: running_vm()}), azure_vms=azure_vms, vms=[fakes.VM])
    assert outcome["vms"][0]["azure_vm_deleted"] is False
    assert azure_vms.calls.count(("forget",)) == 1
    assert azure_vms.calls.index(("forget",)) < max(i for i, c in enumerate(azure_vms.calls) if c[0] == "find")


def test_ensure_without_a_recorded_azure_vm_has_no_leftovers():
    _client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    azure_vms = fakes.FakeAzureVms({fakes.ITEM: None})
    result = ensure(vault, OnPrem({fakes.VM: running_vm()}), azure_vms=azure_vms, vms=[fakes.VM])["vms"][0]
    assert result["azure_vm_deleted"] is True
    assert result["leftovers"] == {"disks": [], "nics": []}
    assert not [c for c in azure_vms.calls if c[0] == "leftovers"]


def test_ensure_without_azure_vms_reports_no_azure_facts():
    _client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    result = ensure(vault, OnPrem({fakes.VM: running_vm()}), vms=[fakes.VM])["vms"][0]
    assert result["action"] == "commit" and result["stage_after"] == "failback_committed"
    assert "azure_vm_deleted" not in result and "leftovers" not in result


def test_ensure_check_mode_changes_nothing_and_predicts_the_commit():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    outcome = ensure(vault, OnPrem({fakes.VM: running_vm()}), check_mode=True, vms=[fakes.VM])
    assert client.actions == []
    assert {k: outcome[k] for k in ("changed", "forced", "refused")} == {"changed": True, "forced": [], "refused": []}
    assert "refusals" not in outcome
    vm = outcome["vms"][0]
    assert {k: vm[k] for k in ("name", "item_name", "stage_before", "changed", "action", "onprem_power_state", "forced",
                               "job", "refusals")} == {
        "name": fakes.VM, "item_name": fakes.ITEM, "stage_before": "failed_back", "changed": True, "action": "commit",
        "onprem_power_state": "poweredOn", "forced": False, "job": None, "refusals": []}


def test_ensure_check_mode_fails_on_a_refusal_as_the_real_run_would_with_the_prediction():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    with pytest.raises(AzureError, match="1 of ASR's 2 protected disk") as caught:
        ensure(vault, OnPrem({fakes.VM: running_vm(disks=TWO_DISKS[:1])}), check_mode=True, vms=[fakes.VM])
    assert client.actions == []
    details = caught.value.details
    assert details["refused"] == [fakes.VM] and details["vms"][0]["action"] == "none"
    assert [r["rule"] for r in details["vms"][0]["refusals"]] == ["protected_disks_attached"]
    assert details["predicted_stages"] == {fakes.VM: "failed_back"}


def test_per_vm_in_check_mode_the_refused_vm_stops_and_the_other_is_predicted_committed():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    onprem = OnPrem({fakes.VM: running_vm(), OTHER_VM: running_vm(power="poweredOff")})
    with pytest.raises(AzureError) as caught:
        commit.ensure(None, vault, {"vms": [fakes.VM, OTHER_VM], "item_names": [], "plan": None}, onprem, True,
                      fakes.deadline(), poll=1.0, per_vm=True)
    details = caught.value.details
    assert client.actions == []
    assert details["continue_with"] == [fakes.VM] and [s["name"] for s in details["stopped"]] == [OTHER_VM]
    assert details["predicted_stages"] == {fakes.VM: "failback_committed"}


def test_ensure_with_nothing_to_commit():
    client, vault = setup(fakes.inmage_item(fakes.COMMITTED))
    onprem = OnPrem({})
    outcome = ensure(vault, onprem, vms=[fakes.VM])
    assert client.actions == [] and onprem.asked == [[]]
    assert outcome["changed"] is False and outcome["vms"][0]["action"] == "already_done"
    assert "stage_after" not in outcome["vms"][0]


def test_ensure_refuses_a_stopped_onprem_vm_before_any_commit():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    with pytest.raises(AzureError, match="VM V2A-W2K16-301 is poweredOff on-premises"):
        ensure(vault, OnPrem({fakes.VM: running_vm(), OTHER_VM: running_vm(power="poweredOff")}),
               vms=[fakes.VM, OTHER_VM])
    assert client.actions == []


def test_force_does_not_commit_a_stopped_vm_nor_one_missing_a_disk():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    with pytest.raises(AzureError, match="VM V2A-W2K16-201 is poweredOff on-premises") as caught:
        ensure(vault, OnPrem({fakes.VM: running_vm(power="poweredOff")}, force=True), vms=[fakes.VM])
    assert caught.value.details["refused"] == [fakes.VM]
    with pytest.raises(AzureError, match="1 of ASR's 2 protected disk"):
        ensure(vault, OnPrem({fakes.VM: running_vm(disks=TWO_DISKS[1:])}, force=True), vms=[fakes.VM])
    assert client.actions == []


def test_ensure_forced_commit_when_tools_do_not_run():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    outcome = ensure(vault, OnPrem({fakes.VM: running_vm(tools="guestToolsNotRunning")}, force=True), vms=[fakes.VM])
    assert [a[0] for a in client.actions] == ["failover_commit"]
    assert outcome["forced"] == [fakes.VM] and outcome["vms"][0]["forced"] is True


def test_a_probe_that_does_not_answer_stops_every_commit():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    probes, _problems = commit_gate.validate_options({"http": [{"url": "https://app/health"}]})
    onprem = OnPrem({fakes.VM: running_vm()}, probes=probes, answers={"http https://app/health": (False, "status 503")})
    with pytest.raises(AzureError, match="health probe"):
        ensure(vault, onprem, vms=[fakes.VM])
    assert client.actions == [] and onprem.probed == [["http https://app/health"]]


def test_ensure_selects_by_item_name():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    ensure(vault, OnPrem({OTHER_VM: running_vm()}), item_names=[OTHER_ITEM])
    assert [a[1] for a in client.actions] == [OTHER_ITEM]


def test_a_failed_commit_job_raises_naming_the_vm_and_the_remedy():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    client.outcomes[OTHER_ITEM] = [("Failed", [fakes.job_error("VmCommitFailed", "The commit did not complete.",
                                                               action="Retry the commit.")])]
    client.after.pop(OTHER_ITEM)  # the failed item stays failed back
    with pytest.raises(AzureError) as caught:
        ensure(vault, OnPrem({fakes.VM: running_vm(), OTHER_VM: running_vm()}), vms=[fakes.VM, OTHER_VM])
    error = caught.value
    assert error.msg == ("Commit failed for V2A-W2K16-301. V2A-W2K16-301: [VmCommitFailed] The commit did not "
                         "complete. Remedy: Retry the commit.")
    assert error.details["failed"] == [OTHER_VM]
    assert [(r["name"], r["job"]["state"], r["stage_after"]) for r in error.details["vms"]] == [
        (fakes.VM, "Succeeded", "failback_committed"), (OTHER_VM, "Failed", "failed_back")]
    assert len(client.actions) == 2  # both were started: a job failure comes after the changes


def test_a_job_that_ended_without_errors_is_reported_by_its_state():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.outcomes[fakes.ITEM] = ["Cancelled"]
    with pytest.raises(AzureError) as caught:
        ensure(vault, OnPrem({fakes.VM: running_vm()}), vms=[fakes.VM])
    assert caught.value.msg == "Commit failed for V2A-W2K16-201. V2A-W2K16-201: Cancelled"


def test_an_answer_without_a_job_is_not_a_failure():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.answer_200.add(fakes.ITEM)
    outcome = ensure(vault, OnPrem({fakes.VM: running_vm()}), vms=[fakes.VM])
    assert outcome["changed"] is True and outcome["vms"][0]["job"] is None
    assert outcome["vms"][0]["stage_after"] == "failback_committed"


def test_an_answer_without_a_job_that_left_the_item_where_it_was_is_a_failure():
    """A request answered without a job (or whose job was lost to a retried request) is done only when the item
    is where the step leads: read again, it is still failed_back, so the commit failed for it."""
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.answer_200.add(fakes.ITEM)
    client.after.clear()
    with pytest.raises(AzureError) as caught:
        ensure(vault, OnPrem({fakes.VM: running_vm()}), vms=[fakes.VM])
    assert caught.value.msg == ("Commit failed for V2A-W2K16-201. V2A-W2K16-201: it is at stage failed_back, not "
                                "failback_committed, after the request (Site Recovery named no job for it); re-run to "
                                "see where it stands.")
    assert caught.value.details["failed"] == [fakes.VM]


def test_a_succeeded_job_that_left_the_item_where_it_was_is_a_failure_but_another_running_job_is_not():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.after.clear()
    with pytest.raises(AzureError, match="it is at stage failed_back, not failback_committed, after the request "
                                         r"\(job \S+ Succeeded\)"):
        ensure(vault, OnPrem({fakes.VM: running_vm()}), vms=[fakes.VM])
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.after[fakes.ITEM] = fakes.inmage_item(fakes.running("TestFailover"))
    outcome = ensure(vault, OnPrem({fakes.VM: running_vm()}), vms=[fakes.VM])
    assert outcome["vms"][0]["stage_after"] == "job_running" and outcome["vms"][0]["job"]["state"] == "Succeeded"


def test_every_failed_commit_is_named():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    client.outcomes = {fakes.ITEM: ["Failed"], OTHER_ITEM: ["Cancelled"]}
    with pytest.raises(AzureError) as caught:
        ensure(vault, OnPrem({fakes.VM: running_vm(), OTHER_VM: running_vm()}), vms=[fakes.VM, OTHER_VM])
    assert caught.value.msg == ("Commit failed for V2A-W2K16-201, V2A-W2K16-301. V2A-W2K16-201: Failed "
                                "V2A-W2K16-301: Cancelled")
    assert caught.value.details["failed"] == [fakes.VM, OTHER_VM]


def test_the_commit_job_is_followed_from_its_first_not_started_poll():
    # job.commit.notstarted_first_poll / .inprogress / .succeeded: NotStarted, then InProgress, then Succeeded
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.first_polls = ["NotStarted", "InProgress"]
    clock = FakeClock()
    outcome = commit.ensure(None, vault, {"vms": [fakes.VM], "item_names": [], "plan": None},
                            OnPrem({fakes.VM: running_vm()}), False, fakes.deadline(clock=clock))
    assert outcome["vms"][0]["job"]["state"] == "Succeeded"
    assert clock.sleeps == [15.0, 15.0]  # the default poll interval, on the fake clock


def test_a_probe_for_a_vm_that_is_not_selected_is_refused_before_vcenter_is_read():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    onprem = OnPrem({fakes.VM: running_vm()})
    with pytest.raises(AzureError, match="names VM db01") as caught:
        commit.ensure(None, vault, {"vms": [], "item_names": [fakes.ITEM], "plan": None}, onprem, False,
                      fakes.deadline(), check_selected=lambda names: ["probe names VM db01, not in %s" % names])
    assert caught.value.details["rule"] == "options_valid"
    assert onprem.asked == [] and client.actions == []


def test_check_mode_commits_a_vm_an_earlier_step_predicted_failed_back_without_gating_it_yet():
    # the failover of the same check-mode run predicted failed_back; vCenter cannot show its disks yet
    acting, results, _forced, refusals = commit.plan([item("app01", "replicating_to_onprem")], {},
                                                     assumed={"app01": "failed_back"})
    assert refusals == [] and len(acting) == 1
    assert (results[0]["action"], results[0]["assumed"], results[0]["refusals"]) == ("commit", True, [])
    # a stage behind the real one is never assumed
    _acting, results, _forced, refusals = commit.plan([item("app01", "failback_committed")], {},
                                                      assumed={"app01": "failed_back"})
    assert results[0]["action"] == "already_done" and refusals == []


def test_refusals_of_two_vms_stay_apart():
    _acting, results, _forced, refusals = commit.plan([item("app01", "job_running"), item("web01", "unknown")], {})
    assert [len(r["refusals"]) for r in results] == [1, 1] and len(refusals) == 2


def test_per_vm_a_vm_the_gate_refuses_stops_alone_and_the_other_is_committed():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    onprem = OnPrem({fakes.VM: running_vm(), OTHER_VM: running_vm(power="poweredOff")})
    with pytest.raises(AzureError) as caught:
        commit.ensure(None, vault, {"vms": [fakes.VM, OTHER_VM], "item_names": [], "plan": None}, onprem, False,
                      fakes.deadline(), poll=1.0, per_vm=True)
    details = caught.value.details
    assert [a[:2] for a in client.actions] == [("failover_commit", fakes.ITEM)]  # the Azure VM of the stopped one stays
    assert details["continue_with"] == [fakes.VM]
    assert details["stopped"][0]["name"] == OTHER_VM and "poweredOff" in details["stopped"][0]["why"]
