# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.commit: the Azure VM is deleted (failoverCommit) only for failed-back items whose on-premises VM
is verified powered on, or with force; everything else is skipped or refused before any change."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import commit
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes


# ------------------------------------------------------------------------------------------------ verify_onprem
class FakeInventory:
    def __init__(self, rows):
        self.rows = rows

    def vm_by_name(self, name):
        return self.rows.get(name)


def test_verify_onprem_reads_the_power_state():
    # vSphere's VirtualMachinePowerState values
    inventory = FakeInventory({"app01": {"name": "app01", "runtime.powerState": "poweredOn"},
                               "web01": {"name": "web01", "runtime.powerState": "poweredOff"},
                               "db01": {"name": "db01", "runtime.powerState": "suspended"},
                               "new01": {"name": "new01"}})
    assert commit.verify_onprem(inventory, ["app01", "web01", "db01", "new01", "ghost"]) == {
        "app01": (True, "poweredOn"), "web01": (False, "poweredOff"), "db01": (False, "suspended"),
        "new01": (False, "None"), "ghost": (False, "not found in vCenter")}


def test_verify_onprem_of_nothing():
    assert commit.verify_onprem(FakeInventory({}), []) == {}


# ------------------------------------------------------------------------------------------------ plan
def item(name, stage):
    return None, {"name": name, "item_name": "item-" + name, "failback_stage": stage}


def refused(selected, onprem, force=False):
    with pytest.raises(AzureError) as caught:
        commit.plan(selected, onprem, force)
    return caught.value


def test_plan_commits_a_failed_back_vm_that_runs_on_premises():
    acting, results, forced = commit.plan([item("app01", "failed_back")], {"app01": (True, "poweredOn")}, False)
    assert [i["name"] for _m, i in acting] == ["app01"]
    assert results == [{"name": "app01", "item_name": "item-app01", "stage_before": "failed_back", "changed": True,
                        "action": "commit", "onprem_power_state": "poweredOn", "forced": False, "job": None}]
    assert forced == []


@pytest.mark.parametrize("stage", ["failback_committed", "reprotected_to_azure"])
def test_plan_leaves_committed_vms_alone(stage):
    acting, results, forced = commit.plan([item("app01", stage)], {}, False)
    assert acting == [] and forced == []
    assert (results[0]["action"], results[0]["changed"], results[0]["onprem_power_state"]) == (
        "already_done", False, "not checked")


@pytest.mark.parametrize("stage, why", [
    ("replicating_to_onprem", "it has not failed over to on-premises yet"),
    ("failover_failed", "its failover to on-premises failed; retry the failover"),
    ("running_in_azure", "it was not failed back yet"),
    ("reprotecting_to_onprem", "its reprotect is still running"),
    ("job_running", "a job is running on it; wait for it and re-run"),
    ("protected_to_azure", "there is nothing to commit"),
    ("unknown", "there is nothing to commit"),
])
def test_plan_refuses_vms_that_did_not_fail_back(stage, why):
    error = refused([item("app01", stage)], {"app01": (True, "poweredOn")})
    assert error.details["refusals"] == ["VM app01 is at stage %s: %s." % (stage, why)]
    assert error.msg == "Refusing to commit the failback; nothing was changed: VM app01 is at stage %s: %s." % (stage, why)


@pytest.mark.parametrize("fact", ["poweredOff", "suspended", "not found in vCenter"])
def test_plan_refuses_to_delete_the_azure_vm_when_the_onprem_vm_is_not_running(fact):
    error = refused([item("app01", "failed_back")], {"app01": (False, fact)})
    assert error.details["refusals"] == [
        "VM app01 is %s on-premises; the commit deletes its Azure VM, so it runs only when the on-premises VM is "
        "verified powered on. Start it and re-run (or force: true, at the risk of losing the only running copy)." % fact]
    assert error.details["vms"][0]["action"] == "none" and error.details["vms"][0]["changed"] is False


def test_plan_treats_an_unchecked_vm_as_not_running():
    error = refused([item("app01", "failed_back")], {})
    assert error.details["refusals"][0].startswith("VM app01 is not checked on-premises;")


def test_plan_with_force_commits_and_says_so():
    acting, results, forced = commit.plan([item("app01", "failed_back"), item("web01", "failed_back")],
                                          {"app01": (False, "poweredOff"), "web01": (True, "poweredOn")}, True)
    assert [i["name"] for _m, i in acting] == ["app01", "web01"]
    assert forced == ["app01"]
    assert [(r["forced"], r["action"], r["onprem_power_state"]) for r in results] == [
        (True, "commit", "poweredOff"), (False, "commit", "poweredOn")]


def test_force_does_not_override_the_stage():
    error = refused([item("app01", "running_in_azure")], {}, force=True)
    assert error.details["refusals"] == ["VM app01 is at stage running_in_azure: it was not failed back yet."]


def test_plan_lists_every_refusal_and_every_vm():
    error = refused([item("app01", "failed_back"), item("web01", "failed_back"), item("db01", "job_running"),
                     item("old01", "failback_committed")],
                    {"app01": (True, "poweredOn"), "web01": (False, "poweredOff")})
    assert [r.split(" ")[1] for r in error.details["refusals"]] == ["web01", "db01"]
    assert error.msg == "Refusing to commit the failback; nothing was changed: " + " ".join(error.details["refusals"])
    assert [(r["name"], r["action"]) for r in error.details["vms"]] == [
        ("app01", "commit"), ("web01", "none"), ("db01", "none"), ("old01", "already_done")]


# ------------------------------------------------------------------------------------------------ ensure
OTHER_ITEM, OTHER_VM = "V2A-W2K16-301-new", "V2A-W2K16-301"
COMMITTED_ITEM, COMMITTED_VM = "V2A-W2K16-401-new", "V2A-W2K16-401"


class OnPrem:
    """onprem_check: answers from ``facts`` and records what it was asked."""

    def __init__(self, facts):
        self.facts = facts
        self.asked = []

    def __call__(self, names):
        self.asked.append(list(names))
        return {name: self.facts[name] for name in names if name in self.facts}


def setup(*items):
    client = fakes.FakeSiteRecovery(items=items)
    # what ASR does on commit: the item is committed (asr-api.md 3.2)
    client.after.update({m.name: fakes.inmage_item(fakes.COMMITTED, name=m.name, friendly=m.properties.friendly_name)
                         for m in items})
    return client, fakes.vault(client)


def ensure(vault, onprem, force=False, check_mode=False, azure_vms=None, **selection):
    return commit.ensure(None, vault, dict({"vms": [], "item_names": [], "plan": None}, **selection), onprem, force,
                         check_mode, fakes.deadline(), poll=1.0, azure_vms=azure_vms)


def test_ensure_commits_with_an_empty_body_and_reports_the_azure_vm_gone():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.COMMITTED, name=COMMITTED_ITEM, friendly=COMMITTED_VM))
    azure = fakes.azure_vm(fakes.VM)
    azure_vms = fakes.FakeAzureVms({fakes.ITEM: azure}, after_forget={fakes.ITEM: dict(azure, exists=False)})
    onprem = OnPrem({fakes.VM: (True, "poweredOn")})
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
    assert ("leftovers", azure["id"]) in azure_vms.calls
    assert (skipped["action"], skipped["stage_after"], skipped["job"]) == ("already_done", "failback_committed", None)
    assert "azure_vm_deleted" not in skipped and "leftovers" not in skipped


def test_ensure_reads_the_azure_vm_again_after_the_commit():
    _client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    azure = fakes.azure_vm(fakes.VM)
    azure_vms = fakes.FakeAzureVms({fakes.ITEM: azure})  # Compute still shows it after the commit
    outcome = ensure(vault, OnPrem({fakes.VM: (True, "poweredOn")}), azure_vms=azure_vms, vms=[fakes.VM])
    assert outcome["vms"][0]["azure_vm_deleted"] is False
    assert azure_vms.calls.count(("forget",)) == 1
    assert azure_vms.calls.index(("forget",)) < max(i for i, c in enumerate(azure_vms.calls) if c[0] == "find")


def test_ensure_without_a_recorded_azure_vm_has_no_leftovers():
    _client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    azure_vms = fakes.FakeAzureVms({fakes.ITEM: None})
    result = ensure(vault, OnPrem({fakes.VM: (True, "poweredOn")}), azure_vms=azure_vms, vms=[fakes.VM])["vms"][0]
    assert result["azure_vm_deleted"] is True
    assert result["leftovers"] == {"disks": [], "nics": []}
    assert not [c for c in azure_vms.calls if c[0] == "leftovers"]


def test_ensure_without_azure_vms_reports_no_azure_facts():
    _client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    result = ensure(vault, OnPrem({fakes.VM: (True, "poweredOn")}), vms=[fakes.VM])["vms"][0]
    assert result["action"] == "commit" and result["stage_after"] == "failback_committed"
    assert "azure_vm_deleted" not in result and "leftovers" not in result


def test_ensure_check_mode_changes_nothing_and_predicts_the_commit():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    outcome = ensure(vault, OnPrem({fakes.VM: (True, "poweredOn")}), check_mode=True, vms=[fakes.VM])
    assert client.actions == []
    assert outcome == {"changed": True, "forced": [], "vms": [
        {"name": fakes.VM, "item_name": fakes.ITEM, "stage_before": "failed_back", "changed": True, "action": "commit",
         "onprem_power_state": "poweredOn", "forced": False, "job": None}]}


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
        ensure(vault, OnPrem({fakes.VM: (True, "poweredOn"), OTHER_VM: (False, "poweredOff")}),
               vms=[fakes.VM, OTHER_VM])
    assert client.actions == []


def test_ensure_forced_commit_of_a_stopped_vm():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    outcome = ensure(vault, OnPrem({fakes.VM: (False, "poweredOff")}), force=True, vms=[fakes.VM])
    assert [a[0] for a in client.actions] == ["failover_commit"]
    assert outcome["forced"] == [fakes.VM] and outcome["vms"][0]["forced"] is True


def test_ensure_selects_by_item_name():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    ensure(vault, OnPrem({OTHER_VM: (True, "poweredOn")}), item_names=[OTHER_ITEM])
    assert [a[1] for a in client.actions] == [OTHER_ITEM]


def test_a_failed_commit_job_raises_naming_the_vm_and_the_remedy():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    client.outcomes[OTHER_ITEM] = [("Failed", [fakes.job_error("VmCommitFailed", "The commit did not complete.",
                                                               action="Retry the commit.")])]
    client.after.pop(OTHER_ITEM)  # the failed item stays failed back
    with pytest.raises(AzureError) as caught:
        ensure(vault, OnPrem({fakes.VM: (True, "poweredOn"), OTHER_VM: (True, "poweredOn")}), vms=[fakes.VM, OTHER_VM])
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
        ensure(vault, OnPrem({fakes.VM: (True, "poweredOn")}), vms=[fakes.VM])
    assert caught.value.msg == "Commit failed for V2A-W2K16-201. V2A-W2K16-201: Cancelled"


def test_an_answer_without_a_job_is_not_a_failure():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.answer_200.add(fakes.ITEM)
    outcome = ensure(vault, OnPrem({fakes.VM: (True, "poweredOn")}), vms=[fakes.VM])
    assert outcome["changed"] is True and outcome["vms"][0]["job"] is None
    assert outcome["vms"][0]["stage_after"] == "failback_committed"


def test_every_failed_commit_is_named():
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK),
                          fakes.inmage_item(fakes.FAILED_BACK, name=OTHER_ITEM, friendly=OTHER_VM))
    client.outcomes = {fakes.ITEM: ["Failed"], OTHER_ITEM: ["Cancelled"]}
    with pytest.raises(AzureError) as caught:
        ensure(vault, OnPrem({fakes.VM: (True, "poweredOn"), OTHER_VM: (True, "poweredOn")}), vms=[fakes.VM, OTHER_VM])
    assert caught.value.msg == ("Commit failed for V2A-W2K16-201, V2A-W2K16-301. V2A-W2K16-201: Failed "
                                "V2A-W2K16-301: Cancelled")
    assert caught.value.details["failed"] == [fakes.VM, OTHER_VM]


def test_the_commit_job_is_followed_from_its_first_not_started_poll():
    # job.commit.notstarted_first_poll / .inprogress / .succeeded: NotStarted, then InProgress, then Succeeded
    client, vault = setup(fakes.inmage_item(fakes.FAILED_BACK))
    client.first_polls = ["NotStarted", "InProgress"]
    clock = FakeClock()
    outcome = commit.ensure(None, vault, {"vms": [fakes.VM], "item_names": [], "plan": None},
                            OnPrem({fakes.VM: (True, "poweredOn")}), False, False, fakes.deadline(clock=clock))
    assert outcome["vms"][0]["job"]["state"] == "Succeeded"
    assert clock.sleeps == [15.0, 15.0]  # the default poll interval, on the fake clock
