# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The call counters that prove check mode: a reconfigure, a new folder or directory, an ARM PATCH
show up as mutations; property reads, views, sessions and ARM GETs (and tokens) do not."""

import json
import ssl
import time

import pytest
from azure.mgmt.compute.models import VirtualMachineUpdate
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from tests.lab import calls
from tests.lab import spec as specmod
from tests.lab.vcenter import Simulator


@pytest.fixture
def vcenter(tmp_path):
    spec = specmod.load("default.yml")
    inventory = tmp_path / "vcenter.json"
    inventory.write_text(json.dumps(specmod.launcher_inventories(spec)["vcenter"]))
    with Simulator(str(inventory), workdir=str(tmp_path)) as sim:
        context = ssl.create_default_context(cafile=sim.info["ca_file"])
        si = SmartConnect(host=sim.info["host"], port=sim.info["port"], user=sim.info["username"],
                          pwd=sim.info["password"], sslContext=context)
        try:
            yield sim, si.RetrieveContent()
        finally:
            Disconnect(si)


def find_vm(content, name):
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return next(vm for vm in view.view if vm.name == name)
    finally:
        view.Destroy()


def wait_task(task, timeout=120):
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if task.info.state in ("success", "error"):
            return task.info
        time.sleep(0.1)
    raise AssertionError("task did not finish")


def test_reads_are_counted_but_are_no_mutations(vcenter):
    sim, content = vcenter
    watch = calls.CallWatch({"vcenter": sim.info})
    vm = find_vm(content, "app01")
    assert vm.config.hardware.numCPU >= 1 and vm.runtime.powerState
    seen = watch.since()["soap"]["vcenter"]
    assert seen["CreateContainerView"] == 1 and seen["DestroyView"] == 1, seen
    assert sum(seen.get(m, 0) for m in ("Fetch", "RetrieveProperties", "RetrievePropertiesEx")) >= 3, seen
    assert watch.mutations() == calls.NO_MUTATIONS


def test_a_reconfigure_and_non_task_mutators_are_mutations(vcenter):
    sim, content = vcenter
    vm = find_vm(content, "app01")
    datacenter = content.rootFolder.childEntity[0]
    watch = calls.CallWatch({"vcenter": sim.info})
    info = wait_task(vm.ReconfigVM_Task(vim.vm.ConfigSpec(annotation="counted")))
    assert info.state == "success", info.error
    assert vm.config.annotation == "counted"  # the counter passed the call through
    assert watch.mutations() == {"soap": {"vcenter": {"ReconfigVM_Task": 1}}, "arm": {}}
    datacenter.vmFolder.CreateFolder("counted")
    content.fileManager.MakeDirectory(name="[vmfs-01] counted", datacenter=datacenter, createParentDirectories=True)
    assert watch.mutations() == {"soap": {"vcenter": {"ReconfigVM_Task": 1, "CreateFolder": 1, "MakeDirectory": 1}},
                                 "arm": {}}
    calls.reset_soap_calls(sim.info)
    assert "ReconfigVM_Task" not in calls.soap_calls(sim.info)


def test_an_arm_write_is_a_mutation_a_read_and_a_token_are_not(lab):
    watch = calls.CallWatch(control_url=lab.env["LAB_CONTROL_URL"], ca_file=lab.ca)
    vm = lab.compute.virtual_machines.get("rg-recovery", "app01")
    seen = watch.since()["arm"]
    assert any(key.startswith("GET ") and key.endswith("/virtualMachines/app01") for key in seen), seen
    assert any(key.startswith("POST ") and key.endswith("/oauth2/v2.0/token") for key in seen), seen
    assert watch.mutations() == calls.NO_MUTATIONS
    lab.compute.virtual_machines.begin_update("rg-recovery", "app01",
                                              VirtualMachineUpdate(tags=dict(vm.tags, counted="yes"))).result()
    path = "PATCH /subscriptions/%s/resourceGroups/rg-recovery/providers/Microsoft.Compute/virtualMachines/app01" % (
        lab.env["AZURE_SUBSCRIPTION_ID"])
    assert watch.mutations() == {"soap": {}, "arm": {path: 1}}


def test_classification():
    assert calls.is_mutating_soap("PowerOnVM_Task") and calls.is_mutating_soap("SetField")
    assert calls.is_mutating_soap("RegisterVM_Task") and calls.is_mutating_soap("<unparsed>")
    assert calls.is_mutating_soap("HTTP PUT /folder/app01/app01.vmx")
    assert not calls.is_mutating_soap("RetrievePropertiesEx") and not calls.is_mutating_soap("SearchDatastoreSubFolders_Task")
    assert calls.is_arm_write("DELETE /subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/disks/d")
    assert calls.is_arm_write("POST /subscriptions/s/resourceGroups/r/providers/x/replicationProtectedItems/i/reProtect")
    assert not calls.is_arm_write("POST /tenant/oauth2/v2.0/token")
    assert not calls.is_arm_write("POST /_lab/faults") and not calls.is_arm_write("GET /subscriptions/s/providers/x")
