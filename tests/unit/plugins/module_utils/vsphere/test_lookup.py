# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import lookup
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import FakeClient

ROWS = [
    {"moid": "vm-1", "name": "app01", "config.instanceUuid": "5003aaaa-1111-2222-3333-444455556666", "config.uuid": "4203-x"},
    {"moid": "vm-2", "name": "db01", "config.instanceUuid": "5003bbbb-1111-2222-3333-444455556666", "config.uuid": None},
    {"moid": "vm-3", "name": "web", "config.instanceUuid": "5003cccc-1111-2222-3333-444455556666", "config.uuid": None},
    {"moid": "vm-4", "name": "web", "config.instanceUuid": "5003dddd-1111-2222-3333-444455556666", "config.uuid": None},
]


def test_resolves_by_moid_uuid_and_name():
    found, problems = lookup.resolve(["vm-2", "5003AAAA11112222333344445555 6666".replace(" ", ""), "db01"], ROWS)
    assert problems == []
    assert found["vm-2"]["name"] == "db01"
    assert found["5003AAAA111122223333444455556666"]["moid"] == "vm-1"
    assert found["db01"]["moid"] == "vm-2"


def test_ambiguous_name_names_the_candidates_and_the_fix():
    found, problems = lookup.resolve(["web"], ROWS)
    assert found == {}
    assert problems == ["VM name 'web' is ambiguous: 2 VMs have it: vm-3 (instance UUID 5003cccc-1111-2222-3333-444455556666); "
                        "vm-4 (instance UUID 5003dddd-1111-2222-3333-444455556666). Nothing was changed. Rename or remove "
                        "the stale copy, or give the MOID or instance UUID instead."]


def test_unknown_identifier_is_reported():
    problems = lookup.resolve(["ghost"], ROWS)[1]
    assert problems == ["VM 'ghost' was not found by MOID, instance UUID or name."]


def test_find_vms_reads_once_whatever_the_number_of_identifiers():
    client = FakeClient(lambda obj_type, paths, objects: ROWS)
    found = lookup.find_vms(client, ["app01", "db01", "vm-3", "5003dddd-1111-2222-3333-444455556666"],
                            paths=["runtime.host"])
    assert len(found) == 4
    assert client.stats["property_reads"] == 1
    obj_type, paths = client.calls[0][:2]
    assert obj_type is vim.VirtualMachine
    assert paths == ("name", "config.instanceUuid", "config.uuid", "runtime.host")


def test_find_raises_with_every_problem_and_the_unresolved_list():
    client = FakeClient(lambda obj_type, paths, objects: ROWS)
    with pytest.raises(VSphereError) as info:
        lookup.find_vms(client, ["app01", "ghost", "web"])
    assert "ghost" in info.value.msg and "ambiguous" in info.value.msg
    assert info.value.details["not_found"] == ["ghost", "web"]
