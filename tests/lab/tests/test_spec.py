# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab specs: loading, extends, derived ids, and every spec's vCenter served as specified."""

import glob
import json
import os
import ssl

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

from tests.lab import spec as specmod
from tests.lab.vcenter import Simulator

SPECS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(specmod.SPECS, "*.yml")))


def item(spec, name):
    return next(i for i in spec["asr"]["items"] if i["name"] == name)


def vm(spec, name):
    return next(v for dc in spec["vcenter"]["datacenters"] for v in dc["vms"] if v["name"] == name)


def test_default_spec_is_the_site_the_issue_describes():
    spec = specmod.load("default.yml")
    dc = spec["vcenter"]["datacenters"][0]
    assert len(dc["clusters"][0]["hosts"]) == 3
    assert {d["type"] for d in dc["datastores"]} == {"VMFS", "vsan", "NFS"}
    assert {m["os"] for m in spec["asr"]["master_targets"]} == {"Windows", "Linux"}
    items = spec["asr"]["items"]
    # "six VMs and a physical server" (the spec's description)
    assert len(items) == 7
    assert {i["original_location"] for i in items} == {True, False}
    assert [i["name"] for i in items if i["source"] == "physical"] == ["fs01"]
    plan = spec["asr"]["recovery_plans"][0]
    group = {i["replication_group"] for i in items if i["name"] in plan["groups"][0]["items"]}
    assert group == {"rg-app"}


def test_ids_are_derived_and_stable():
    first, second = specmod.load("default.yml"), specmod.load("default.yml")
    assert item(first, "app01")["item_name"] == item(second, "app01")["item_name"]
    assert len(first["asr"]["fabric_name"]) == 64
    assert first["asr"]["container_name"].startswith("cloud_")
    app02, db01 = item(first, "app02"), item(first, "db01")
    assert app02["multi_vm_group_id"] == db01["multi_vm_group_id"] != app02["vm_id"]
    assert app02["multi_vm_group_name"] == "rg-app"
    web01 = item(first, "web01")
    assert web01["multi_vm_group_name"] == web01["multi_vm_group_id"] == web01["vm_id"]
    assert item(first, "app01")["azure_vm"]["id"].endswith("/resourceGroups/rg-recovery/providers/"
                                                           "Microsoft.Compute/virtualMachines/app01")


def test_extends_merges_named_lists_and_keeps_the_rest():
    spec = specmod.load("mt-snapshots.yml")
    assert spec["name"] == "mt-snapshots"
    assert vm(spec, "mt-win01")["snapshots"] == [{"name": "before-agent-upgrade"}]
    assert vm(spec, "mt-win01")["memory_mb"] == 16384  # kept from default.yml
    assert len(spec["vcenter"]["datacenters"][0]["vms"]) == len(specmod.load("default.yml")["vcenter"]["datacenters"][0]["vms"])


def test_a_replicating_item_has_its_disks_on_the_master_target():
    spec = specmod.load("replicating.yml")
    app01 = vm(spec, "app01")
    assert app01["power_state"] == "poweredOff"
    assert app01["disks"] == []
    mt_files = [d["file"] for d in vm(spec, "mt-win01")["disks"]]
    assert "app01/app01.vmdk" in mt_files and "app01/app01_1.vmdk" in mt_files
    alternate = [d["file"] for d in vm(spec, "mt-lin01")["disks"]]
    assert "web02/web02.vmdk" in alternate


@pytest.mark.parametrize("raw,message", [
    ({"vcenter": {"datacenters": [{"name": "DC", "hosts": [{"name": "h"}], "vms": [{"name": "v", "host": "x"}]}]}},
     "VM v is on unknown host 'x'"),
    ({"asr": {"items": [{"name": "a", "stage": "flying"}]}}, "stage 'flying'"),
    ({"asr": {"items": [{"name": "a", "stage": "replicating_to_onprem"}]}}, "needs master_target"),
    ({"asr": {"items": [{"name": "a"}], "recovery_plans": [{"name": "p", "groups": [{"items": ["b"]}]}]}},
     "names unknown item b"),
    ({"asr": {"policies": [{"name": "p", "provider": "InMageAzureV2"}]}}, "needs an InMage"),
    ({"vcenter": {"datacenters": [{"name": "DC", "hosts": [{"name": "h"}], "vms": [
        {"name": "v", "host": "h"}, {"name": "v", "host": "h", "folder": "old"}]}]}, "asr": {"items": [{"name": "v"}]}},
     "2 VMs are named v .*vm_folder"),
    ({"vcenter": {"datacenters": [{"name": "DC", "hosts": [{"name": "h"}], "vms": [
        {"name": "v", "host": "h", "folder": "f"}, {"name": "v", "host": "h", "folder": "f"}]}]}},
     "two VMs are named v in the same folder"),
    ({"vcenter": {"datacenters": [{"name": "DC", "networks": ["VM Network", "VLAN9"],
                                   "hosts": [{"name": "h", "networks": ["VM Network"]}],
                                   "vms": [{"name": "v", "host": "h", "nics": [{"network": "VLAN9"}]}]}]}},
     "NIC on VLAN9, which host h does not have"),
    ({"asr": {"items": [{"name": "p1", "source": "physical", "firmware": "uefi"}]}}, "firmware 'uefi'"),
])
def test_inconsistent_specs_are_refused_with_the_object_named(raw, message):
    with pytest.raises(specmod.SpecError, match=message):
        specmod.normalize(raw)


def read_inventory(info):
    context = ssl.create_default_context(cafile=info["ca_file"])
    si = SmartConnect(host=info["host"], port=info["port"], user=info["username"], pwd=info["password"],
                      sslContext=context)
    try:
        content = si.RetrieveContent()
        pc = vmodl.query.PropertyCollector
        result = {}
        for vim_type, paths in ((vim.HostSystem, ["name", "summary.hardware.memorySize", "runtime.connectionState"]),
                                (vim.Datastore, ["name", "summary.type"]),
                                (vim.VirtualMachine, ["name", "runtime.powerState", "config.hardware.device",
                                                      "snapshot", "config.instanceUuid", "config.firmware"])):
            view = content.viewManager.CreateContainerView(content.rootFolder, [vim_type], True)
            spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[
                pc.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
                propSet=[pc.PropertySpec(type=vim_type, pathSet=paths)])
            rows = content.propertyCollector.RetrieveContents([spec])
            key = "config.instanceUuid" if vim_type is vim.VirtualMachine else "name"  # VM names may repeat
            result[vim_type.__name__] = {
                props[key]: props for props in ({p.name: p.val for p in row.propSet} for row in rows)}
            view.Destroy()
        return result
    finally:
        Disconnect(si)


@pytest.mark.parametrize("name", SPECS)
def test_every_spec_starts_and_vcenter_shows_it_as_specified(name, tmp_path):
    spec = specmod.load(name)
    path = tmp_path / "vcenter.json"
    path.write_text(json.dumps(specmod.launcher_inventories(spec)["vcenter"]))
    with Simulator(str(path), workdir=str(tmp_path)) as sim:
        seen = read_inventory(sim.info)
    dc = spec["vcenter"]["datacenters"][0]
    for host in dc["hosts"]:
        got = seen["vim.HostSystem"][host["name"]]
        assert got["summary.hardware.memorySize"] == host["memory_mb"] * 1024 * 1024
        assert str(got["runtime.connectionState"]) == host["connection_state"]
    for ds in dc["datastores"]:
        assert seen["vim.Datastore"][ds["name"]]["summary.type"] == ds["type"]
    for expected in dc["vms"]:
        got = seen["vim.VirtualMachine"][expected["instance_uuid"]]
        assert got["name"] == expected["name"]
        assert str(got["runtime.powerState"]) == expected["power_state"], expected["name"]
        assert got["config.firmware"] == expected["firmware"], expected["name"]
        files = sorted(d.backing.fileName for d in got["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualDisk))
        assert files == sorted("[%s] %s" % (d["datastore"], d["file"]) for d in expected["disks"]), expected["name"]
        assert (got.get("snapshot") is not None) == bool(expected["snapshots"]), expected["name"]


def test_recorded_defaults_of_the_spec():
    """What the recordings show is the default (tests/recorded/asr): Retry-After 30, the configuration server a master
    target too, heartbeats minutes old, Entra ID's token lifetime."""
    spec = specmod.load("default.yml")
    asr = spec["asr"]
    assert specmod.TIMINGS["retry_after_seconds"] == 30 and spec["timings"]["retry_after_seconds"] == 30
    assert spec["azure"]["token_lifetime_seconds"] == 3599
    cs = asr["configuration_server"]
    assert cs["master_target"] is True and [p["name"] for p in asr["process_servers"]] == ["cs01"]
    assert asr["process_servers"][0]["id"] == cs["id"]
    assert 8 * 60 <= cs["heartbeat_age_seconds"] <= 13 * 60
    assert all(8 * 60 <= s["heartbeat_age_seconds"] <= 13 * 60 for s in asr["process_servers"] + asr["master_targets"])
    assert asr["vcenters"][0]["heartbeat_age_seconds"] == 30
    # ids as ASR writes a process server's or master target's: 8-4-4-16 upper-case hex
    assert all(len(part) == size for part, size in zip(cs["id"].split("-"), (8, 4, 4, 16), strict=True))
    assert cs["id"] == cs["id"].upper()


def test_a_duplicate_name_is_resolved_by_the_folder_and_the_item_keeps_the_instance_uuid():
    spec = specmod.load("duplicate-name.yml")
    copies = [v for v in spec["vcenter"]["datacenters"][0]["vms"] if v["name"] == "app01"]
    assert sorted(str(v["folder"]) for v in copies) == ["None", "Restored/app01-copy"]
    original = next(v for v in copies if v["folder"] is None)
    app01 = item(spec, "app01")
    assert app01["instance_uuid"] == original["instance_uuid"]  # the lab's own record, for its effects
    # what ASR sends is the configuration server's id of the machine, never the instance UUID (tests/recorded/asr)
    assert app01["infrastructure_vm_id"] == app01["vm_id"] != original["instance_uuid"]
    assert app01["firmware"] == "efi" and app01["original_location"]


def test_classic_machine_ids_are_time_based_uuids_of_the_configuration_server():
    """As recorded (d3731098-963a-11eb-a892-000d3ad78fab, d375a4fa-963a-11eb-a892-000d3ad78fab): version 1, one node
    and clock sequence for every id, 17 ms apart in discovery order; the Azure VM's id at the reprotect is another."""
    import itertools
    import uuid

    spec = specmod.load("default.yml")
    items = spec["asr"]["items"]
    ids = [uuid.UUID(i["vm_id"]) for i in items]
    assert {u.version for u in ids} == {1} and len({(u.node, u.clock_seq) for u in ids}) == 1
    assert [(b.time - a.time) for a, b in itertools.pairwise(ids)] == [170000] * (len(ids) - 1)  # 100 ns steps
    vms = {v["name"]: v for dc in spec["vcenter"]["datacenters"] for v in dc["vms"]}
    for entry in items:
        assert entry["infrastructure_vm_id"] == entry["vm_id"] == entry["replica_id"]
        assert entry["failback_vm_id"] != entry["vm_id"] and uuid.UUID(entry["failback_vm_id"]).version == 1
        if entry["name"] in vms:
            assert entry["vm_id"] != vms[entry["name"]]["instance_uuid"]
    assert specmod.load("default.yml")["asr"]["items"][0]["vm_id"] == items[0]["vm_id"]  # a spec's ids are stable
