# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compute: the subscription-wide VM list (paged, statusOnly), VM tags and their PATCH."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import VirtualMachineUpdate

from tests.lab.tests.models import unknown_keys


def _power(vm):
    return [s.code for s in vm.instance_view.statuses if s.code.startswith("PowerState/")]


def test_list_all_status_only_gives_power_state_of_every_vm(lab):
    vms = list(lab.compute.virtual_machines.list_all(status_only="true"))
    assert sorted((v.id.split("/")[4], v.name) for v in vms) == [
        ("rg-recovery", "app01"), ("rg-recovery", "app02"), ("rg-recovery", "db01"), ("rg-recovery-web", "web02")]
    for vm in vms:
        assert unknown_keys(vm) == []
        assert _power(vm) == ["PowerState/running"]
        assert vm.tags == {"createdBy": "AzureSiteRecovery"}
    plain = list(lab.compute.virtual_machines.list_all())
    assert all(v.instance_view is None for v in plain)


def test_list_all_is_paged(lab_factory):
    lab = lab_factory({"timings": {"page_size": 1}})
    lab.control("DELETE", "/stats")
    vms = list(lab.compute.virtual_machines.list_all(status_only="true"))
    assert [v.name for v in vms] == ["app01", "app02", "db01", "web02"]
    path = "GET /subscriptions/%s/providers/Microsoft.Compute/virtualMachines" % lab.env["AZURE_SUBSCRIPTION_ID"]
    assert lab.control("GET", "/stats")["requests"][path] == 4
    assert all(_power(v) == ["PowerState/running"] for v in vms)


def test_power_state_follows_power_operations(lab):
    lab.compute.virtual_machines.begin_deallocate("rg-recovery", "app01").result()
    by_name = {v.name: v for v in lab.compute.virtual_machines.list_all(status_only="true")}
    assert _power(by_name["app01"]) == ["PowerState/deallocated"]
    assert _power(by_name["web02"]) == ["PowerState/running"]
    lab.compute.virtual_machines.begin_power_off("rg-recovery", "app01").result()
    by_name = {v.name: v for v in lab.compute.virtual_machines.list_all(status_only="true")}
    assert _power(by_name["app01"]) == ["PowerState/stopped"]


def test_tags_from_the_spec(lab_factory):
    lab = lab_factory({"asr": {"items": [{"name": "app01", "azure_vm": {"tags": {"owner": "ops"}}}]}})
    vm = lab.compute.virtual_machines.get("rg-recovery", "app01")
    assert vm.tags == {"createdBy": "AzureSiteRecovery", "owner": "ops"}


def test_patch_replaces_tags_and_keeps_the_rest(lab):
    compute = lab.compute
    before = compute.virtual_machines.get("rg-recovery", "app01")
    tags = dict(before.tags, **{"siterecovery-failback-item": "abc", "siterecovery-failback-resource-group": "rg-recovery"})
    updated = compute.virtual_machines.begin_update("rg-recovery", "app01", VirtualMachineUpdate(tags=tags)).result()
    assert unknown_keys(updated) == []
    assert updated.tags == tags
    again = compute.virtual_machines.get("rg-recovery", "app01")
    assert again.tags == tags
    assert again.hardware_profile.vm_size == before.hardware_profile.vm_size
    assert again.storage_profile.os_disk.name == before.storage_profile.os_disk.name
    listed = {v.name: v for v in compute.virtual_machines.list_all(status_only="true")}
    assert listed["app01"].tags == tags
    assert lab.emulator.state()["compute"]["virtual_machines"]["rg-recovery/app01"]["tags"] == tags
    # a PATCH replaces the whole map, as in ARM
    compute.virtual_machines.begin_update("rg-recovery", "app01", VirtualMachineUpdate(tags={"only": "one"})).result()
    assert compute.virtual_machines.get("rg-recovery", "app01").tags == {"only": "one"}


def test_patch_errors(lab):
    compute = lab.compute
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.begin_update("rg-recovery", "nope", VirtualMachineUpdate(tags={})).result()
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_update("rg-recovery", "app01", {"properties": {"hardwareProfile": {
            "vmSize": "Standard_B2s"}}}).result()
    assert "tags only" in str(caught.value)
