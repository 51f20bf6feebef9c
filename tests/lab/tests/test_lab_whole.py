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

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SPECS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(specmod.SPECS, "*.yml")))
FAST = {"timings": {"job_seconds": 0.05, "initial_replication_seconds": 0.1, "recovery_point_seconds": 0.2,
                    "agent_registration_seconds": 0.3, "retry_after_seconds": 0}}


@pytest.mark.parametrize("name", SPECS)
def test_every_spec_starts_and_state_shows_it(name, tmp_path):
    with Lab(name, workdir=str(tmp_path), overrides=FAST) as lab:
        env = lab.env()
        state = requests.get(env["LAB_CONTROL_URL"] + "/state", verify=env["AZURE_CA_BUNDLE"], timeout=10).json()
    spec = lab.spec
    served = state["items"]
    for item in spec["asr"]["items"]:
        if item["protection_disabled"]:
            continue
        assert served[item["name"]]["stage"] == item["stage"], item["name"]
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
        assert any(s.code in ("PowerState/stopped", "PowerState/deallocated") for s in azure_vm.instance_view.statuses)
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
