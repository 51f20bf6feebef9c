# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ASR's side effects in the lab vCenter, checked through pyVmomi reads."""

import contextlib
import json

import pytest

from tests.lab import spec as specmod
from tests.lab.effects import EffectError, VCenterEffects
from tests.lab.vcenter import Simulator


class Stop(Exception):
    pass


@contextlib.contextmanager
def effects_of(tmp_path, spec_name):
    """The lab's vCenter effects on a simulator started from ``spec_name``; ``labels`` collects each effect."""
    spec = specmod.load(spec_name)
    inventory = tmp_path / "vcenter.json"
    inventory.write_text(json.dumps(specmod.launcher_inventories(spec)["vcenter"]))
    with Simulator(str(inventory), workdir=str(tmp_path)) as sim:
        effects = VCenterEffects({"vcenter": sim.info}, spec=spec)
        effects.labels = []
        effects.on_effect = effects.labels.append
        try:
            yield effects, spec
        finally:
            effects.close()


@pytest.fixture
def lab(tmp_path):
    with effects_of(tmp_path, "default.yml") as (effects, _spec):
        yield effects


def files(effects, vm):
    return sorted(d["file"] for d in effects.vm(vm)["disks"])


APP01 = ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
MT_OWN = ["[vmfs-01] mt-win01/mt-win01.vmdk", "[vmfs-01] mt-win01/mt-win01_1.vmdk"]


def test_original_location_moves_disks_to_the_master_target_and_back(lab):
    lab.check_reprotect("app01", "mt-win01")
    lab.prepare_original_location("app01", "mt-win01")
    assert files(lab, "app01") == []
    assert files(lab, "mt-win01") == sorted(MT_OWN + APP01)
    assert lab.labels == ["detach %s from app01" % APP01[0], "attach %s to mt-win01" % APP01[0],
                          "detach %s from app01" % APP01[1], "attach %s to mt-win01" % APP01[1]]
    lab.prepare_original_location("app01", "mt-win01")  # a re-run changes nothing
    assert len(lab.labels) == 4
    lab.restore_original_location("app01", "mt-win01")
    assert files(lab, "mt-win01") == MT_OWN
    disks = lab.vm("app01")["disks"]
    assert [(d["file"], d["unit"]) for d in disks] == [(APP01[0], 0), (APP01[1], 1)]
    lab.power_on("app01")
    assert lab.vm("app01")["power_state"] == "poweredOn"


def test_a_job_stopped_half_way_leaves_a_disk_detached_and_a_rerun_completes(lab):
    def stop_after_three(label):
        lab.labels.append(label)
        if len(lab.labels) == 3:
            raise Stop(label)

    lab.on_effect = stop_after_three
    with pytest.raises(Stop):
        lab.prepare_original_location("app01", "mt-win01")
    # first disk moved; the second was about to be detached: it is still on the VM
    assert files(lab, "mt-win01") == sorted([*MT_OWN, APP01[0]])
    assert files(lab, "app01") == [APP01[1]]
    lab.on_effect = lab.labels.append
    lab.prepare_original_location("app01", "mt-win01")
    assert files(lab, "mt-win01") == sorted(MT_OWN + APP01)
    assert files(lab, "app01") == []


def test_alternate_location_creates_disks_then_the_vm_on_the_master_target_host(lab):
    lab.check_reprotect("web02", "mt-lin01", "vmfs-01", original_location=False)
    lab.prepare_alternate_location("web02", "mt-lin01", "vmfs-01", [40, 80])
    assert "[vmfs-01] web02/web02_1.vmdk" in files(lab, "mt-lin01")
    created = lab.create_vm_from_master_target("web02", "mt-lin01", "vmfs-01", 2, 4096, "rhel8_64Guest", firmware="efi")
    vm = lab.vm("web02")
    assert vm["instance_uuid"] == created and vm["firmware"] == "efi"
    assert vm["host"] == lab.host_of("mt-lin01")["name"]
    assert [d["size_gb"] for d in vm["disks"]] == [40, 80]
    assert not any(f.startswith("[vmfs-01] web02/") for f in files(lab, "mt-lin01"))
    with pytest.raises(EffectError) as info:  # now a VM of that name is on the master target's host
        lab.check_reprotect("web02", "mt-lin01", "vmfs-01", original_location=False)
    assert info.value.code == 78052


def test_alternate_location_one_by_one_creates_the_vm_then_moves_each_disk_and_a_rerun_leaves_it(lab):
    """``alternate_disk_moves: one_by_one``: the VM first (its UUID told at once), then each VMDK detached from the
    master target and attached to it on its slot; stopped after one disk moved, the rest stays on the master target,
    and the re-run leaves the VM ASR created as it is (issue 15)."""
    web02 = ["[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"]
    lab.prepare_alternate_location("web02", "mt-lin01", "vmfs-01", [40, 80])
    replica = {d["file"]: d["uuid"] for d in lab.vm("mt-lin01")["disks"] if d["file"] in web02}
    lab.labels.clear()
    told = []

    def stop_before_the_fourth(label):  # as the job engine stops after effect 3: effect 4 never runs
        if len(lab.labels) == 3:
            raise Stop(label)
        lab.labels.append(label)

    lab.on_effect = stop_before_the_fourth
    with pytest.raises(Stop):
        lab.create_vm_from_master_target("web02", "mt-lin01", "vmfs-01", 2, 4096, "rhel8_64Guest",
                                         disk_moves="one_by_one", created=told.append)
    assert lab.labels == ["create VM web02", "detach %s from mt-lin01" % web02[0], "attach %s to web02" % web02[0]]
    vm = lab.vm("web02")
    assert told == [vm["instance_uuid"]]
    assert [(d["file"], d["unit"], d["uuid"]) for d in vm["disks"]] == [(web02[0], 0, replica[web02[0]])]
    assert web02[1] in files(lab, "mt-lin01")
    lab.on_effect = lab.labels.append
    assert lab.create_vm_from_master_target("web02", "mt-lin01", "vmfs-01", 2, 4096, "rhel8_64Guest",
                                            uuid=told[0], disk_moves="one_by_one") == told[0]
    assert len(lab.labels) == 3 and files(lab, "web02") == web02[:1] and web02[1] in files(lab, "mt-lin01")


def test_alternate_location_creates_a_16_disk_vm_in_name_order_on_two_controllers(lab):
    """As vSphere allows: 15 disks per SCSI controller (unit 7 is the controller's), the disks in the order of their
    names (web02_10 after web02_9), a second controller for the 16th (new-user try of issue 13)."""
    lab.check_reprotect("web02", "mt-lin01", "vmfs-01", original_location=False)
    lab.prepare_alternate_location("web02", "mt-lin01", "vmfs-01", [1] * 16)
    lab.create_vm_from_master_target("web02", "mt-lin01", "vmfs-01", 2, 4096, "rhel8_64Guest")
    _site, row = lab._find_vm("web02")
    bus = {c.key: c.busNumber for c in lab._controllers(row)}
    slots = sorted((bus[d["controller_key"]], d["unit"], d["file"]) for d in lab._disks(row))
    names = ["web02.vmdk"] + ["web02_%d.vmdk" % n for n in range(1, 16)]
    units = [u for u in range(16) if u != 7]
    assert slots == [(0, u, "[vmfs-01] web02/" + n) for u, n in zip(units, names[:15], strict=True)] + [
        (1, 0, "[vmfs-01] web02/web02_15.vmdk")]


def test_datastore_not_reachable_from_the_master_target_host_is_8061(lab):
    # esx03 (web01's host) does not mount vmfs-02; put a master target there by asking about web01's host
    with pytest.raises(EffectError) as info:
        lab.check_reprotect("anything", "web01", "vmfs-02", original_location=False)
    assert info.value.code == 8061
    assert "vmfs-02" in info.value.message


def test_power_on_refuses_with_8038_when_the_host_lacks_memory(lab):
    spec_host = lab.host_of("web01")
    assert spec_host["name"] == "esx03.lab"
    lab.create_vm_from_master_target("big01", "web01", "vmfs-01", 8, 200000, "rhel8_64Guest")
    with pytest.raises(EffectError) as info:
        lab.power_on("big01")
    assert info.value.code == 8038
    assert lab.vm("big01")["power_state"] == "poweredOff"


def test_power_on_starts_tools_and_counts_memory_on_the_host(lab):
    before = lab.host_of("db01")
    assert lab.vm("db01")["tools_running_status"] == "guestToolsNotRunning"
    lab.power_on("db01")
    assert lab.vm("db01")["tools_running_status"] == "guestToolsRunning"
    assert lab.host_of("db01")["memory_used_mb"] == before["memory_used_mb"] + 32768
    lab.power_off("db01")
    assert lab.vm("db01")["tools_running_status"] == "guestToolsNotRunning"
    assert lab.host_of("db01")["memory_used_mb"] == before["memory_used_mb"]


def test_create_vm_on_datastore_for_a_modernized_alternate_location(lab):
    uuids = ["6000C290-0000-4000-8000-000000000040", "6000C290-0000-4000-8000-000000000080"]
    created = lab.create_vm_on_datastore("web02", "vmfs-02", 2, 8192, "rhel8_64Guest", [40, 80], firmware="efi",
                                         disk_uuids=uuids)
    vm = lab.vm("web02")
    # each new VMDK has the backing.uuid ASR reports as its diskUuid
    assert [d["uuid"].lower() for d in sorted(vm["disks"], key=lambda d: d["file"])] == [u.lower() for u in uuids]
    assert vm["instance_uuid"] == created  # what ASR records of the VM it created
    assert sorted(d["file"] for d in vm["disks"]) == ["[vmfs-02] web02/web02.vmdk", "[vmfs-02] web02/web02_1.vmdk"]
    assert [round(d["size_gb"]) for d in sorted(vm["disks"], key=lambda d: d["file"])] == [40, 80]
    assert vm["power_state"] == "poweredOff" and vm["num_cpu"] == 2 and vm["memory_mb"] == 8192
    assert vm["firmware"] == "efi"  # a UEFI source fails back as a UEFI VM
    assert "vmfs-02" in lab.host_of("web02")["datastores"]
    assert lab.labels == ["create VM web02"]
    # a re-run for the VM ASR created changes nothing
    assert lab.create_vm_on_datastore("web02", "vmfs-02", 2, 8192, "rhel8_64Guest", [40, 80], uuid=created) == created
    assert lab.labels == ["create VM web02"]
    lab.power_on("web02")
    assert lab.vm("web02")["power_state"] == "poweredOn"
    with pytest.raises(EffectError) as missing:
        lab.create_vm_on_datastore("web09", "no-such-ds", 1, 1024, "rhel8_64Guest", [10])
    assert missing.value.code == "DatastoreNotFound"


def test_a_uefi_source_is_uefi_in_vcenter(lab):
    # default.yml's app01 is UEFI (firmware: efi), as ASR reports it (firmwareType UEFI, azureVmGeneration V2)
    assert lab.vm("app01")["firmware"] == "efi" and lab.vm("db01")["firmware"] == "bios"


@pytest.fixture
def duplicate(tmp_path):
    with effects_of(tmp_path, "duplicate-name.yml") as found:
        yield found


def test_effects_act_on_the_vm_whose_instance_uuid_asr_recorded(duplicate):
    lab, spec = duplicate
    item = next(i for i in spec["asr"]["items"] if i["name"] == "app01")
    copy = next(vm for vm in spec["vcenter"]["datacenters"][0]["vms"] if vm["name"] == "app01" and vm["folder"])
    mt = next(m for m in spec["asr"]["master_targets"] if m["vm"] == "mt-win01")
    assert item["instance_uuid"] != copy["instance_uuid"]
    with pytest.raises(EffectError) as ambiguous:  # a name is not an identity when two VMs share it
        lab.power_on("app01")
    assert ambiguous.value.code == "VmNameAmbiguous"
    assert lab.vm("app01", copy["instance_uuid"])["folder"] == "app01-copy"
    lab.check_reprotect("app01", "mt-win01", uuid=item["instance_uuid"], mt_uuid=mt["instance_uuid"])
    lab.prepare_original_location("app01", "mt-win01", uuid=item["instance_uuid"], mt_uuid=mt["instance_uuid"])
    assert sorted(d["file"] for d in lab.vm("app01", item["instance_uuid"])["disks"]) == []
    assert files_of(lab, "mt-win01") == sorted(MT_OWN + APP01)
    lab.restore_original_location("app01", "mt-win01", uuid=item["instance_uuid"], mt_uuid=mt["instance_uuid"])
    lab.power_on("app01", uuid=item["instance_uuid"])
    assert lab.vm("app01", item["instance_uuid"])["power_state"] == "poweredOn"
    stale = lab.vm("app01", copy["instance_uuid"])  # the stale copy was never touched
    assert stale["power_state"] == "poweredOff"
    assert sorted(d["file"] for d in stale["disks"]) == [
        "[vmfs-02] app01-copy/app01.vmdk", "[vmfs-02] app01-copy/app01_1.vmdk"]


def files_of(effects, vm):
    return sorted(d["file"] for d in effects.vm(vm)["disks"])


def test_networks_per_host(lab):
    from pyVmomi import vim

    site = lab.site("vcenter")
    networks = {row["name"]: sorted(n.name for n in row["network"]) for row in site.read(vim.HostSystem, ["name", "network"])}
    # default.yml: esx03 carries VM Network and Prod-VLAN10 only; the other hosts every network of DC1
    assert networks["esx03.lab"] == ["Prod-VLAN10", "VM Network"]
    assert networks["esx01.lab"] == networks["esx02.lab"] == ["Prod-VLAN10", "Prod-VLAN20", "VM Network"]
