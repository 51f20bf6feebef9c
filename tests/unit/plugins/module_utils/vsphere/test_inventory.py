# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vsphere.inventory: what is derived from every VM of the snapshot (identity candidates, the index by name and
instance UUID, disk holders, attached files) is derived once, and answers as domain.identity does over every VM
(issue 17: resolving each of N VMs cost O(N) each)."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import identity
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import lookup
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import (
    POWERED_ON,
    FakeVSphere,
    flat_disk,
    lsi_logic,
)

APP0 = "[vmfs-01] app01/app01.vmdk"


def world_with_copies():
    """app01 twice (a stale copy beside it), web02 once and a template of that name, db03; master target mt-lin01
    holds a disk of app01's VMDK file too (listed first, as a move that stopped would leave it)."""
    world = FakeVSphere()
    dc = world.add_datacenter("dc1")
    cluster = world.add_cluster("cl1", dc)
    world.add_datastore("vmfs-01")
    esx = world.add_host("esx01", cluster, datastores=("vmfs-01",))
    world.add_vm("mt-lin01", esx, [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40, "6000C29-mt")],
                 power=POWERED_ON, vm_path="[vmfs-01] mt-lin01/mt-lin01.vmx")
    world.add_vm("app01", esx, [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, APP0, 40, "6000C29-a0")],
                 vm_path="[vmfs-01] app01/app01.vmx")
    world.add_vm("app01", esx, [], vm_path="[vmfs-01] app01_1/app01.vmx")
    world.add_vm("web02", esx, [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, "[vmfs-01] web02/web02.vmdk", 40)],
                 vm_path="[vmfs-01] web02/web02.vmx")
    world.add_vm("web02", None, [lsi_logic(1000, 0), flat_disk(2000, 1000, 0, "[vmfs-01] tpl/tpl.vmdk", 40)],
                 template=True)
    world.add_vm("db03", esx, [], vm_path="[vmfs-01] db03/db03.vmx")
    return world


def uuid_of(world, name, index=0):
    return [row for row in world.vms.values() if row["name"] == name][index]["config.instanceUuid"]


def cases(world):
    """(name, instance UUID) pairs covering every outcome of domain.identity.resolve."""
    return [("app01", None), ("app01", uuid_of(world, "app01", 1)), ("app01", uuid_of(world, "app01", 1).upper()),
            ("app01", "00000000-0000-0000-0000-000000000000"), ("web02", None), ("web02", uuid_of(world, "db03")),
            ("db03", None), ("ghost", None), ("ghost", uuid_of(world, "web02")), ("", None), ("app01", "")]


def test_resolve_vm_decides_as_domain_identity_over_every_vm():
    world = world_with_copies()
    inventory = Inventory(world)
    for name, uuid in cases(world):
        indexed = inventory.resolve_vm(name, uuid)
        full = identity.resolve(name, inventory.candidates(), uuid)
        assert (indexed.how, indexed.vm, indexed.same_name, indexed.others, indexed.uuid_missing) == (
            full.how, full.vm, full.same_name, full.others, full.uuid_missing), (name, uuid)
        assert (indexed.refusal("fix"), indexed.warning()) == (full.refusal("fix"), full.warning())


def test_a_template_is_never_a_candidate():
    inventory = Inventory(world_with_copies())
    found = inventory.resolve_vm("web02")
    assert found.how == identity.FOUND_BY_NAME and found.vm["vmx"] == "[vmfs-01] web02/web02.vmx"
    assert found.others == []


def test_the_candidates_are_built_once_per_snapshot_whatever_the_questions(monkeypatch):
    world = world_with_copies()
    inventory = Inventory(world)
    walked = []
    original = Inventory.folder_path
    monkeypatch.setattr(Inventory, "folder_path", lambda self, row: walked.append(row["moid"]) or original(self, row))
    for name, uuid in cases(world) * 3:
        inventory.resolve_vm(name, uuid)
        inventory.vm_by_name(name, uuid)
    assert len(walked) == len([r for r in world.vms.values() if not r["config.template"]])  # one walk per VM
    assert inventory.candidates() is inventory.candidates()


def test_find_vms_reads_nothing_and_resolves_a_known_identifier_once():
    world = world_with_copies()
    inventory = Inventory(world)
    reads = world.stats["property_reads"]
    db03 = next(r for r in world.vms.values() if r["name"] == "db03")
    found = inventory.find_vms(["web02", db03["moid"], db03["config.uuid"]], kind="Master target")
    assert [row["moid"] for row in found.values()] == [
        next(r for r in world.vms.values() if r["name"] == "web02" and not r["config.template"])["moid"],
        db03["moid"], db03["moid"]]
    assert list(found) == ["web02", db03["moid"], db03["config.uuid"]]
    assert inventory.find_vms(["web02"]) == {"web02": found["web02"]}
    assert world.stats["property_reads"] == reads
    with pytest.raises(VSphereError) as info:
        inventory.find_vms(["web02", "app01", "ghost"])
    assert "VM name 'app01' is ambiguous: 2 VMs have it" in info.value.msg
    assert "VM 'ghost' was not found by MOID, instance UUID or name." in info.value.msg
    assert info.value.details["not_found"] == ["app01", "ghost"]


def test_disk_holders_attached_files_and_vms_named():
    world = world_with_copies()
    inventory = Inventory(world)
    mt, app01 = [r for r in world.vms.values() if r["name"] in ("mt-lin01", "app01")][:2]
    holder, disk = inventory.holder_of(APP0)
    assert (holder["name"], disk["uuid"]) == ("mt-lin01", "6000C29-mt")  # the first in the order of the read
    holder, disk = inventory.holder_of(APP0, besides=mt["moid"])
    assert (holder["moid"], disk["uuid"]) == (app01["moid"], "6000C29-a0")
    assert inventory.holder_of("[vmfs-01] nowhere/nowhere.vmdk") == (None, None)
    assert inventory.attached_files() == {APP0, "[vmfs-01] web02/web02.vmdk", "[vmfs-01] tpl/tpl.vmdk"}
    assert [r["moid"] for r in inventory.vms_named("web02")] == [
        r["moid"] for r in world.vms.values() if r["name"] == "web02"]  # templates too
    assert inventory.vms_named("ghost") == [] and inventory.vms_named(None) == []
    assert inventory.disks_of(app01) is inventory.disks_of(app01)


def test_find_vms_answers_as_lookup_resolve_over_every_vm():
    world = world_with_copies()
    template = next(r for r in world.vms.values() if r["config.template"])
    web02 = next(r for r in world.vms.values() if r["name"] == "web02" and not r["config.template"])
    identifiers = ["web02", "db03", web02["moid"], web02["config.instanceUuid"].upper(),
                   web02["config.uuid"].replace("-", ""), "app01", uuid_of(world, "app01", 1), "ghost",
                   template["moid"], template["config.instanceUuid"], "", "mt-lin01"]
    inventory = Inventory(world)
    rows = [row for row in inventory.vms.values() if not row["config.template"]]
    candidates = {c["moid"]: c for c in inventory.candidates()}
    for ident in identifiers:
        expected, problems = lookup.resolve([ident], rows, kind="VM", uuid_paths=("config.instanceUuid", "config.uuid"),
                                            candidate=lambda row: candidates[row["moid"]])
        if problems:
            with pytest.raises(VSphereError) as info:
                Inventory(world).find_vms([ident])
            assert info.value.msg == " ".join(problems), ident
        else:
            assert {k: v["moid"] for k, v in Inventory(world).find_vms([ident]).items()} == {
                k: v["moid"] for k, v in expected.items()}, ident
