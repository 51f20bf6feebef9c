# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from pyVmomi import vim, vmodl

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import properties
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import (
    FakeCollector,
    FakeContent,
    FakeView,
    moref,
    object_content,
)

PATHS = ["name", "runtime.powerState"]


def test_container_view_read_is_one_call_with_explicit_paths_and_destroys_the_view():
    vms = [moref(vim.VirtualMachine, "vm-%d" % i) for i in range(3)]
    collector = FakeCollector([[object_content(vm, {"name": vm._moId, "runtime.powerState": "poweredOn"}) for vm in vms]])
    content = FakeContent(collector)

    rows = properties.retrieve(content, vim.VirtualMachine, PATHS)

    assert collector.calls == 1
    spec = collector.specs[0][0]
    assert spec.propSet[0].type is vim.VirtualMachine
    assert list(spec.propSet[0].pathSet) == PATHS
    assert spec.propSet[0].all is False
    assert spec.objectSet[0].selectSet[0].path == "view"
    assert [row["moid"] for row in rows] == ["vm-0", "vm-1", "vm-2"]
    assert rows[0]["runtime.powerState"] == "poweredOn"
    assert content.viewManager.requests[0][1] == [vim.VirtualMachine]
    assert all(view._moId in FakeView.destroyed_ids for view in content.viewManager.views)


def test_explicit_objects_make_one_object_spec_each_and_one_property_spec_per_type():
    objs = [moref(vim.VirtualMachine, "vm-1"), moref(vim.VirtualMachine, "vm-2"), moref(vim.HostSystem, "host-9")]
    spec = properties.filter_spec(None, ["name"], objects=objs)
    assert [o.obj._moId for o in spec.objectSet] == ["vm-1", "vm-2", "host-9"]
    assert [p.type for p in spec.propSet] == [vim.VirtualMachine, vim.HostSystem]


def test_paging_follows_the_token_until_the_last_page():
    pages = [[object_content(moref(vim.VirtualMachine, "vm-%d" % (p * 2 + i)), {"name": "x"}) for i in range(2)]
             for p in range(3)]
    collector = FakeCollector(pages)
    rows = properties.retrieve(FakeContent(collector), vim.VirtualMachine, ["name"])
    assert len(rows) == 6
    assert collector.calls == 3


def test_unset_and_missing_properties_are_none_and_reported():
    vm = moref(vim.VirtualMachine, "vm-7")
    collector = FakeCollector([[object_content(vm, {"name": "app"}, missing={"guest.toolsStatus": vim.fault.NoPermission()})]])
    rows = properties.retrieve(FakeContent(collector), vim.VirtualMachine, ["name", "guest.toolsStatus", "snapshot"])
    assert rows[0]["guest.toolsStatus"] is None
    assert rows[0]["snapshot"] is None
    assert rows[0]["missing"] == {"guest.toolsStatus": "NoPermission"}


def test_empty_object_list_makes_no_call():
    collector = FakeCollector([])
    assert properties.retrieve(FakeContent(collector), None, ["name"], objects=[]) == []
    assert collector.calls == 0


def test_a_failed_read_raises_a_readable_error_and_still_destroys_the_view():
    collector = FakeCollector([], error=vmodl.fault.InvalidArgument(msg="bad path", invalidProperty="nope"))
    content = FakeContent(collector)
    with pytest.raises(VSphereError, match=r"read VirtualMachine \(name, nope\).*bad path"):
        properties.retrieve(content, vim.VirtualMachine, ["name", "nope"])
    assert content.viewManager.views[0]._moId in FakeView.destroyed_ids
