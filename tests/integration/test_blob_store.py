# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The blob state store on the lab (issue 15): where an Azure Policy denies every tag write, a failback keeps its
lease and the Azure VM identity records in a blob container and converges; two runs at the same instant with a
slowed blob write (exactly one acts); a run killed mid-job whose identical re-run converges without lock_break; and
the default store under the same policy, which refuses before any ASR request naming the policy assignment and the
variables that switch to the blob store. End state is judged from the emulator's state (tags, blobs, stages) and
request counters."""

import json
import re
import signal
import threading

import pytest
from conftest import lab_control, lab_requests, run_check_mode, run_module, run_playbook
from test_lease import FINAL, holders, race_two_lock_runs, run_held_in, stages, tags

CONTAINER = "labstate/siterecovery-failback"
TAG_PATCH = {"method": "PATCH", "path_regex": "/virtualMachines/", "kind": "policy",
             "policy_assignment": "deny-tag-changes-prod"}


def blob_url(lab):
    return lab.env()["AZURE_ARM_ENDPOINT"] + "/labstate"


def blobs(lab):
    """``{name under the vault's folder: JSON body}`` of the state container, as the emulator holds it; every blob
    is in the vault's folder ``<subscription>/<vault resource group>/<vault>/`` (lower case)."""
    env = lab.env()
    prefix = "/".join(env[key].lower() for key in ("AZURE_SUBSCRIPTION_ID", "AZURE_SITE_RECOVERY_RESOURCE_GROUP",
                                                   "AZURE_SITE_RECOVERY_VAULT")) + "/"
    found = {}
    for name, blob in lab.azure.state()["blobs"].get(CONTAINER, {}).items():
        assert name.startswith(prefix), (name, prefix)
        found[name[len(prefix):]] = json.loads(blob["text"])
    return found


def blob_writes(lab):
    return {key: n for key, n in lab_requests(lab).items() if key.startswith(("PUT /labstate/", "DELETE /labstate/"))}


def options(tmp_path, lab, **extra):
    base = {"poll_interval": 0.5, "recovery_point_delay": 1, "report_dir": str(tmp_path / "reports"), "preflight": False,
            "lease_seconds": 30, "vms": ["app01"], "state_store": "blob", "state_account_url": blob_url(lab)}
    base.update(extra)
    return {"original_location_" + key: value for key, value in base.items()}


def no_failback_tags(lab):
    """No Azure VM carries a tag of this collection."""
    return {name: {k: v for k, v in vm_tags.items() if k.startswith("siterecovery-failback")}
            for name, vm_tags in tags(lab).items() if any(k.startswith("siterecovery-failback") for k in vm_tags)}


def test_where_policy_denies_every_tag_write_the_blob_store_runs_the_whole_failback_and_a_rerun_changes_nothing(
        full_lab, tmp_path):
    """Every tag PATCH is denied by policy; with the blob store the failback runs to the end: no tag is written, the
    identity record and (during the run) the claim and lease are blobs, app01 reaches its last stage; the re-run
    reports no change."""
    lab = full_lab("default.yml")
    lab_control(lab, "POST", "/faults", TAG_PATCH)
    seen, done = set(), threading.Event()

    def watch():  # the blobs the running failback keeps in the container, polled while it runs
        while not done.is_set():
            seen.update(blobs(lab))
            done.wait(0.3)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        rc, out = run_playbook("original_location", options(tmp_path, lab), lab.env())
    finally:
        done.set()
        watcher.join(timeout=60)
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL
    assert no_failback_tags(lab) == {}
    assert [f["hits"] for f in lab.azure.state()["faults"]] == [0]  # no tag write was even tried
    records = blobs(lab)
    (record,) = [body for name, body in records.items() if name.startswith("items/")]
    assert record["azure_vm"].lower().endswith("/resourcegroups/rg-recovery/providers/microsoft.compute/virtualmachines/app01")
    assert (record["name"], record["resource_group"]) == ("app01", "rg-recovery")
    assert not [name for name in records if name.startswith(("claims/", "leases/"))]  # released at the end
    assert "claims/rg-recovery/app01" in seen and any(name.startswith("leases/run-") for name in seen), seen
    writes = blob_writes(lab)
    rc, out = run_playbook("original_location", options(tmp_path, lab), lab.env())
    assert rc == 0, out[-4000:]
    assert re.search(r"localhost\s*: ok=\d+\s+changed=0 ", out), out[-2000:]
    assert stages(lab)["app01"] == FINAL and no_failback_tags(lab) == {}
    assert blobs(lab) == records and blob_writes(lab) == writes


@pytest.mark.parametrize("attempt", [1, 2])
def test_two_runs_at_the_same_instant_with_a_slowed_blob_write_exactly_one_acts(full_lab, attempt):
    """A VM run and a plan run start together while every blob write takes 2 s: exactly one gets the VM they share,
    the other refuses and leaves no claim and no lease blob; no tag is written."""
    lab = full_lab("default.yml")
    lab_control(lab, "POST", "/faults", {"method": "PUT", "path_regex": "^/labstate/", "kind": "latency",
                                         "delay_seconds": 2})
    winner = race_two_lock_runs(lab, state_store="blob", state_account_url=blob_url(lab))
    state = blobs(lab)
    claims = {name: body["owner"] for name, body in state.items() if name.startswith("claims/")}
    leases = {name: body["owner"] for name, body in state.items() if name.startswith("leases/")}
    assert set(claims.values()) == {winner} and set(leases.values()) == {winner}, state
    assert claims["claims/rg-recovery/app01"] == winner
    assert len(claims) == {"vm-run": 1, "plan-run": 4}[winner] and len(leases) == 1, claims
    assert holders(lab) == ({}, {})  # no tag


def test_a_run_killed_mid_job_with_the_blob_store_is_finished_by_the_identical_rerun(full_lab, tmp_path):
    """SIGKILL of ansible-playbook while ASR's reprotect job runs, with the blob store: the killed run's blob lease
    lapses by itself, and the identical command - no lock_break - waits that out and finishes the failback."""
    lab = full_lab("default.yml")
    args = options(tmp_path, lab)
    with run_held_in(lab, args, "SwitchReplicationGroupProtection", "/reProtect",
                     lambda: any(name.startswith("leases/") for name in blobs(lab))) as killed:
        claims = {name: body["owner"] for name, body in blobs(lab).items() if name.startswith("claims/")}
        assert list(claims) == ["claims/rg-recovery/app01"], claims
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=60)
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc == 0, out[-4000:]
    assert "lock_break" not in json.dumps(args)
    assert stages(lab)["app01"] == FINAL
    assert not [name for name in blobs(lab) if name.startswith(("claims/", "leases/"))]
    assert [(b["name"], b["resource_group"]) for n, b in blobs(lab).items() if n.startswith("items/")] == [
        ("app01", "rg-recovery")]
    assert holders(lab) == ({}, {})
    posts = sum(n for key, n in lab_requests(lab).items() if key.startswith("POST ") and key.endswith("/reProtect"))
    assert posts == 2  # the killed run's to on-premises and the re-run's back to Azure


def test_the_default_store_under_a_tag_deny_policy_refuses_before_any_asr_request_naming_the_blob_variables(
        full_lab, tmp_path):
    """The default store (tags) where a policy denies tag writes: the run stops at its lock, before any ASR request
    that changes something, naming the policy assignment and the variables that select the blob store."""
    lab = full_lab("default.yml")
    lab_control(lab, "POST", "/faults", TAG_PATCH)
    extra = {key: value for key, value in options(tmp_path, lab).items()
             if not key.endswith(("state_store", "state_account_url"))}
    rc, out = run_playbook("original_location", extra, lab.env())
    assert rc != 0
    assert "deny-tag-changes-prod" in out, out[-3000:]
    assert "original_location_state_store: blob" in out and "original_location_state_storage_account" in out, out[-3000:]
    assert "Storage Blob Data Contributor" in out
    assert "lacks a role" not in out
    assert stages(lab)["app01"] == "running_in_azure"
    assert not any(key.startswith(("POST ", "PUT ", "DELETE ")) for key in lab_requests(lab)
                   if "/Microsoft.RecoveryServices/" in key)
    assert holders(lab) == ({}, {}) and blobs(lab) == {}


def test_a_blob_store_run_refuses_a_vm_a_live_tags_store_run_holds(full_lab):
    """Mixing stores: a tags-store run holds app01 (a live lease in tags); a blob-store run refuses it, naming that
    run, and writes no blob."""
    lab = full_lab("default.yml")
    rc, result = run_module("run_lock", {"vms": ["app01"], "owner": "awx-job-7", "keep_alive": False,
                                         "lease_seconds": 600}, env=lab.env())
    assert rc == 0, result
    assert holders(lab)[0] == {"rg-recovery/app01": "awx-job-7"}
    rc, result = run_module("run_lock", {"vms": ["app01"], "owner": "awx-job-8", "keep_alive": False,
                                         "lease_wait_seconds": 0, "state_store": "blob",
                                         "state_account_url": blob_url(lab)}, env=lab.env())
    assert rc != 0
    assert "VM app01 is held by run awx-job-7" in result["msg"], result
    assert blobs(lab) == {}


@pytest.mark.parametrize("args, words", [
    ({"state_store": "blob"}, ["state_storage_account"]),
    ({"state_store": "blob", "state_storage_account": "Bad_Name"}, ["Bad_Name", "3 to 24 lower-case"]),
    ({"state_store": "blob", "state_storage_account": "contoso", "state_container": "a--b"}, ["a--b", "single hyphens"]),
    ({"state_store": "blob", "state_account_url": "http://127.0.0.1/labstate"}, ["https"]),
])
def test_bad_store_options_are_refused_before_any_request(full_lab, args, words):
    lab = full_lab("default.yml")
    before = lab_requests(lab)
    rc, result = run_module("run_lock", dict({"vms": ["app01"], "owner": "run-x"}, **args), env=lab.env())
    assert rc != 0
    for word in words:
        assert word in result["msg"], result
    assert lab_requests(lab) == before


def test_check_mode_with_the_blob_store_writes_no_blob(full_lab):
    """run_lock in check mode with the blob store predicts the claim and writes nothing (no blob PUT or DELETE, no
    ARM write reaches the lab)."""
    lab = full_lab("default.yml")
    rc, result = run_check_mode("run_lock", {"vms": ["app01"], "owner": "run-check", "state_store": "blob",
                                             "state_account_url": blob_url(lab)}, lab)
    assert rc == 0 and result["changed"] is True, result
    assert result["lease"]["store"] == "blob"
    assert blobs(lab) == {} and holders(lab) == ({}, {})


def test_an_identity_without_the_data_role_is_told_which_role_on_which_container(full_lab):
    """The Blob service answers the first write 403 AuthorizationPermissionMismatch (a missing data role): run_lock
    stops naming Storage Blob Data Contributor and the container, and nothing is written."""
    lab = full_lab("default.yml")
    lab_control(lab, "POST", "/faults", {"method": "PUT", "path_regex": "^/labstate/", "kind": "status", "status": 403,
                                         "code": "AuthorizationPermissionMismatch"})
    rc, result = run_module("run_lock", {"vms": ["app01"], "owner": "run-role", "keep_alive": False,
                                         "state_store": "blob", "state_account_url": blob_url(lab)}, env=lab.env())
    assert rc != 0
    assert "Storage Blob Data Contributor" in result["msg"] and "container siterecovery-failback" in result["msg"], result
    assert "403 AuthorizationPermissionMismatch" in result["msg"]
    assert blobs(lab) == {} and holders(lab) == ({}, {})
