# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The whole lab: every spec starts and shows as specified; ASR's side effects land in the real
vCenter simulator; the CLI brings a lab up and down."""

import glob
import os
import subprocess
import sys

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError

from tests.lab import spec as specmod
from tests.lab.lab import Lab
from tests.lab.tests.conftest import Lab as Clients
from tests.lab.tests.test_azure_lifecycle import failback_inputs, failover_input
from tests.recorded import asr as recorded_asr

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SPECS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(specmod.SPECS, "*.yml")))
FAST = {"timings": {"job_seconds": 0.05, "initial_replication_seconds": 0.1, "recovery_point_seconds": 0.2,
                    "agent_registration_seconds": 0.3, "retry_after_seconds": 0, "job_start_seconds": 0.05}}


# The oracle is the live service: the protected items recorded from it (tests/recorded/asr, see its README),
# never the lab's README or the emulator's own state.
API_VERSION = "2025-08-01"  # the SDK's default (asr-api.md section 1)
RECORDED_LISTS = ("items_list.V2ATestFailback.before_failover", "items_list.modernized.TestV2ARCMFailback")
RECORDED_GETS = ("item_get.InMage.replicating_to_onprem.V2ATestFailback",
                 "item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback")
# keys an item has once it has that history (a failover of its current provider, a test failover, a planned
# failover): compared where the conformance check gives the lab item the same history
HISTORY_KEYS = {"lastSuccessfulFailoverTime", "lastSuccessfulTestFailoverTime", "lastPlannedFailoverStartTime",
                "lastPlannedFailoverStatus"}
# (provider, the stage the spec gives the item) -> (protectionState, activeLocation, allowedOperations) as recorded
# (the forward items replicated to Azure, never failed over; the failback items replicated to on-premises) or as
# asr-api.md section 3.2 gives them from a recording (REC-RP: the failback committed)
FORWARD_PROTECTED = ("Protected", "Primary", ["UnplannedFailover", "DisableProtection", "TestFailover"])
RECORDED_STRINGS = {
    ("InMageAzureV2", "replicating_to_azure"): FORWARD_PROTECTED,
    ("InMage", "replicating_to_onprem"): ("Protected", "Primary", ["UnplannedFailover", "DisableProtection"]),
    ("InMageRcm", "replicating_to_azure"): FORWARD_PROTECTED,
    ("InMageRcmFailback", "replicating_to_onprem"): ("Protected", "Primary", ["PlannedFailover", "DisableProtection"]),
    ("InMage", "failback_committed"): ("UnplannedFailoverCommitted", "Recovery",
                                       ["CompleteMigration", "DisableProtection", "SwitchProtection"]),
}
# each spec as it is, plus the stages no spec starts in but a recording shows
CASES = [(name, None) for name in SPECS] + [
    ("default.yml", {"asr": {"items": [
        {"name": "app01", "stage": "failback_committed", "master_target": "mt-win01"},
        {"name": "web01", "stage": "replicating_to_azure", "azure_vm": None, "recovery_points": [{"age_minutes": 2}]}]}}),
    ("modernized.yml", {"asr": {"items": [
        {"name": "app01", "stage": "replicating_to_onprem", "appliance": "appl01", "datastore": "vmfs-01",
         "recovery_points": [{"age_minutes": 2}]},
        {"name": "web01", "stage": "replicating_to_azure", "azure_vm": None, "recovery_points": [{"age_minutes": 2}]}]}}),
]


def recorded_bodies():
    """{("list" | "get", provider): a recorded item body}: the first list entry of each provider, each single GET."""
    bodies = {}
    for kind, names in (("list", RECORDED_LISTS), ("get", RECORDED_GETS)):
        for name in names:
            body = recorded_asr.load(name)[0]
            for value in body.get("value", [body]):
                bodies.setdefault((kind, value["properties"]["providerSpecificDetails"]["instanceType"]), value)
    return bodies


def served_items(emulator):
    """{friendlyName: (list entry, GET body)} as the emulator serves them over ARM."""
    clients = Clients(emulator)
    token = clients.credential.get_token(clients.url + "/.default").token

    def get(url, **params):
        response = requests.get(url, params=params or None, headers={"Authorization": "Bearer " + token},
                                verify=clients.ca, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    url = "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/replicationProtectedItems" % (
        clients.url, clients.env["AZURE_SUBSCRIPTION_ID"], clients.rg, clients.vault)
    listed, page = [], get(url, **{"api-version": API_VERSION})
    while True:
        listed += page["value"]
        if not page.get("nextLink"):
            break
        page = get(page["nextLink"])
    return {entry["properties"]["friendlyName"]: (entry, get(clients.url + entry["id"], **{"api-version": API_VERSION}))
            for entry in listed}


@pytest.mark.parametrize("name,overrides", CASES, ids=[c[0] + ("+recorded-stages" if c[1] else "") for c in CASES])
def test_every_spec_serves_its_items_as_asr_does(name, overrides, tmp_path):
    recorded = recorded_bodies()
    with Lab(name, workdir=str(tmp_path), overrides=specmod.merge(FAST, overrides or {})) as lab:
        env = lab.env()
        served = served_items(lab.azure)
    checked = set()
    for item in lab.spec["asr"]["items"]:
        if item["protection_disabled"]:  # the vault no longer lists it
            assert item["name"] not in served
            continue
        for kind, body in zip(("list", "get"), served[item["name"]], strict=True):
            props = body["properties"]
            provider = props["providerSpecificDetails"]["instanceType"]
            reference = recorded.get((kind, provider)) or recorded[("list", provider)]
            # every key the service sends is there (the emulator may add the SDK's other fields)
            assert set(reference) - {"_source"} <= set(body), (item["name"], kind)
            assert set(reference["properties"]) - set(props) - HISTORY_KEYS == set(), (item["name"], kind)
            assert set(reference["properties"]["providerSpecificDetails"]) - set(props["providerSpecificDetails"]) \
                - HISTORY_KEYS == set(), (item["name"], kind)
            assert props["currentScenario"]["scenarioName"] == "None"  # idle, as recorded
            expected = RECORDED_STRINGS.get((provider, item["stage"]))
            if expected and not item["migration_completed"]:
                assert (props["protectionState"], props["activeLocation"], props["allowedOperations"]) == expected, \
                    (item["name"], kind)
                checked.add((provider, item["stage"]))
    if overrides:  # the added items did reach the strings a recording shows
        assert len(checked) == 2, checked
    assert set(env) >= {"VMWARE_HOST", "VMWARE_CA_FILE", "AZURE_ARM_ENDPOINT", "AZURE_CA_BUNDLE", "LAB_CONTROL_URL"}


def test_failback_side_effects_land_in_vcenter(tmp_path):
    """Reprotect, failover and commit of app01 (original location) with the real effects."""
    with Lab("default.yml", workdir=str(tmp_path), overrides=FAST) as lab:
        clients = Clients(lab.azure)
        effects = lab.effects
        assert [d["file"] for d in effects.vm("app01")["disks"]] == ["[vmfs-01] app01/app01.vmdk",
                                                                     "[vmfs-01] app01/app01_1.vmdk"]
        poller, job, _headers = clients.item_call("reprotect", "app01", failback_inputs(clients, "mt-win01"))
        poller.result()
        assert clients.wait_job(job).properties.state == "Succeeded"
        assert effects.vm("app01")["disks"] == []
        mt_files = [d["file"] for d in effects.vm("mt-win01")["disks"]]
        assert "[vmfs-01] app01/app01.vmdk" in mt_files and "[vmfs-01] app01/app01_1.vmdk" in mt_files
        clients.wait_points("app01")
        poller, job, _headers = clients.item_call("unplanned_failover", "app01", failover_input())
        poller.result()
        assert clients.wait_job(job).properties.state == "Succeeded"
        vm = effects.vm("app01")
        assert vm["power_state"] == "poweredOn" and len(vm["disks"]) == 2
        azure_vm = clients.compute.virtual_machines.get("rg-recovery", "app01", expand="instanceView")
        # shut down by the failover (sourceSiteOperations Required), as the emulator's shutdown task does
        assert [s.code for s in azure_vm.instance_view.statuses if s.code.startswith("PowerState/")] == ["PowerState/stopped"]
        poller, job, _headers = clients.item_call("failover_commit", "app01")
        poller.result()
        assert clients.wait_job(job).properties.state == "Succeeded"
        with pytest.raises(ResourceNotFoundError):
            clients.compute.virtual_machines.get("rg-recovery", "app01")


def test_cli_up_env_state_down():
    name = "clitest%d" % os.getpid()
    python = sys.executable
    up = subprocess.run([python, "-m", "tests.lab", "up", "--name", name, "--spec", "default.yml"], cwd=ROOT,
                        capture_output=True, text=True, timeout=600, check=False)
    try:
        assert up.returncode == 0, up.stderr
        exported = dict(line[len("export "):].split("=", 1) for line in up.stdout.splitlines())
        assert {"VMWARE_HOST", "VMWARE_PORT", "AZURE_SUBSCRIPTION_ID", "AZURE_ARM_ENDPOINT",
                "AZURE_SITE_RECOVERY_VAULT"} <= set(exported)
        env = subprocess.run([python, "-m", "tests.lab", "env", "--name", name], cwd=ROOT, capture_output=True,
                             text=True, timeout=30, check=False)
        assert env.stdout == up.stdout
        state = subprocess.run([python, "-m", "tests.lab", "state", "--name", name], cwd=ROOT, capture_output=True,
                               text=True, timeout=30, check=False)
        assert state.returncode == 0, state.stderr
        assert '"running_in_azure"' in state.stdout
    finally:
        down = subprocess.run([python, "-m", "tests.lab", "down", "--name", name], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, check=False)
    assert down.returncode == 0 and "stopped" in down.stdout
    again = subprocess.run([python, "-m", "tests.lab", "env", "--name", name], cwd=ROOT, capture_output=True,
                           text=True, timeout=30, check=False)
    assert again.returncode != 0 and "not running" in again.stderr
