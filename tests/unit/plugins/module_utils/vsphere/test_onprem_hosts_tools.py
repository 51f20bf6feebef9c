# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""onprem_vm's side of issue 14 (items 5 and 7) on the fake vCenter: the per-VM verification, toolsNotInstalled
answered at once, changed on a failure after a change, and the 8038 remedy's host chosen by domain.hosts (every
datastore of every file, every network)."""

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import onprem
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import flat_disk
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.test_onprem import (
    add_app,
    add_host,
    changing_calls,
    crowded,
    deadline,
    host,
    site,
    vm,
)

NOT_INSTALLED = vim.vm.GuestInfo.ToolsStatus.toolsNotInstalled


def ensure(world, vms, verification=None, tools_seconds=300, clock=None, remediation="fail"):
    clock = clock or FakeClock()
    return onprem.ensure(world, vms, {"location": "original"}, remediation, False, deadline(),
                         deadline(tools_seconds, clock), verification)


def test_a_vm_without_tools_verified_by_tools_is_refused_at_once_before_any_change():
    world = site(esx01_free_mb=16384)
    add_app(world)
    add_app(world, "db01")
    vm(world, "db01")["guest.toolsStatus"] = NOT_INSTALLED
    clock = FakeClock()
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}, {"name": "db01"}], clock=clock)
    assert info.value.msg == (
        "Refusing to bring the VMs up; nothing was changed: VM db01: vCenter says VMware Tools are not installed in it "
        "(guest.toolsStatus toolsNotInstalled), so its verification tools can never pass. Install VMware Tools in it, "
        "or verify it by power_only or probe (verification: {per_vm: {db01: power_only}}).")
    assert changing_calls(world) == [] and clock.sleeps == []  # no change, no wait


@pytest.mark.parametrize("mode", ["power_only", "probe", "power"])
def test_a_vm_verified_otherwise_is_powered_on_and_not_waited_for(mode):
    world = site(esx01_free_mb=16384)
    add_app(world)
    add_app(world, "db01")
    vm(world, "db01")["guest.toolsStatus"] = NOT_INSTALLED
    vm(world, "db01")["boots_tools"] = False
    clock = FakeClock()
    outcome = ensure(world, [{"name": "app01"}, {"name": "db01"}],
                     verification={"default": "tools", "per_vm": {"db01": mode}}, clock=clock)
    assert outcome["changed"] is True
    assert [(v["name"], v["power_state"], v["powered_on"]) for v in outcome["vms"]] == [
        ("app01", "poweredOn", True), ("db01", "poweredOn", True)]
    assert clock.sleeps == []  # app01's Tools ran at once; db01 is not waited for


def test_tools_that_do_not_come_up_fail_with_changed_true_after_the_power_on():
    world = site(esx01_free_mb=16384)
    add_app(world)
    vm(world, "app01")["boots_tools"] = False
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}], tools_seconds=3)
    assert info.value.details["changed"] is True and info.value.details["tasks"] == ["power on app01"]
    assert "VMware Tools are not running in app01 after 3 s" in info.value.msg


def test_a_vm_reporting_tools_not_installed_after_power_on_is_answered_at_once():
    world = site(esx01_free_mb=16384)
    add_app(world)
    vm(world, "app01")["boots_tools"] = False
    original = world.power_on

    def power_on_without_tools(moid):
        task = original(moid)
        vm(world, "app01")["guest.toolsStatus"] = NOT_INSTALLED
        return task
    world.power_on = power_on_without_tools
    clock = FakeClock()
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}], clock=clock)
    assert info.value.details["not_installed"] == ["app01"] and info.value.details["changed"] is True
    assert "vCenter says VMware Tools are not installed in app01" in info.value.msg
    assert clock.sleeps == []  # not the whole tools_timeout


def test_vmotion_skips_a_host_without_the_vms_network_or_the_datastore_of_its_vmx():
    world = crowded()
    app01 = vm(world, "app01")
    app01["config.files.vmPathName"] = "[vmfs-02] app01/app01.vmx"           # its .vmx is on vmfs-02
    add_host(world, "esx08", 7000, datastores=("vmfs-01",))                  # mounts the disk's datastore only
    add_host(world, "esx09", 7500, datastores=("vmfs-01", "vmfs-02"))         # lacks the VM's network
    add_host(world, "esx10", 6500, datastores=("vmfs-01", "vmfs-02"))         # can run it
    prod = world.add_network("Prod-VLAN10", hosts=["esx01", "esx02", "esx08", "esx10"])
    app01["network"] = [prod]
    outcome = ensure(world, [{"name": "app01"}], remediation="vmotion")
    assert outcome["vms"][0]["vmotion_to"] == "esx10"
    (_target, args), = world.calls_of("RelocateVM_Task")
    assert args["spec"].host == host(world, "esx10")["obj"]


def test_vmotion_refusal_names_why_each_host_cannot_run_the_vm():
    world = crowded()
    app01 = vm(world, "app01")
    app01["config.hardware.device"].append(flat_disk(2001, 1000, 1, "[vmfs-02] app01/app01_1.vmdk", 5))
    world.add_network("Prod-VLAN10", hosts=["esx01"])
    app01["network"] = [n["obj"] for n in world.networks.values()]
    with pytest.raises(VSphereError) as info:
        ensure(world, [{"name": "app01"}], remediation="vmotion")
    assert ("esx02 (it does not mount datastore vmfs-02, it does not have network Prod-VLAN10)" in info.value.msg)
    assert changing_calls(world) == []


def test_without_waiting_for_tools_a_vm_without_them_is_powered_on():
    world = site(esx01_free_mb=16384)
    add_app(world)
    vm(world, "app01")["guest.toolsStatus"] = NOT_INSTALLED
    outcome = onprem.ensure(world, [{"name": "app01"}], {"location": "original"}, "fail", False, deadline(), None)
    assert outcome["vms"][0]["power_state"] == "poweredOn" and outcome["changed"] is True


def test_the_hosts_networks_are_read_once_for_every_vm_the_8038_remedy_moves():
    """One read of the networks and of the hosts' networks for the whole plan, however many VMs must move (they
    were read again for each VM)."""
    world = crowded(need_mb=2048)
    add_host(world, "esx11", 30000)
    add_app(world, "db01", memory_mb=3072)
    add_app(world, "web01", memory_mb=3072)
    outcome = ensure(world, [{"name": "app01"}, {"name": "db01"}, {"name": "web01"}], remediation="vmotion")
    assert sum(1 for v in outcome["vms"] if v["vmotion_to"]) >= 2
    assert sum(1 for obj_type, _paths in world.reads if obj_type is vim.Network) == 1
