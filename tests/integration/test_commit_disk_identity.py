# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The commit gate takes a disk for a protected disk only when it is the VM's own VMDK (new-user try of issue 13):
ASR names no file nor UUID for a classic disk, so a blank disk of the same capacity put in the place of one of the
VM's VMDKs must not let the Azure VM be deleted.

Judged from outside: the emulator's state (the item's stage, the Azure VM) and vCenter through the property
collector (lab.effects.vm); the disk swap is made on the lab's vCenter with pyVmomi, as an operator would."""

import json

import pytest
from conftest import NO_MUTATIONS, lab_state, run_module, watch_calls
from pyVmomi import vim

from tests.lab.effects import Site

FAST = {"poll_interval": 0.5}
BLANK = "[vmfs-01] app01/blank-250.vmdk"
# a blank disk named like one of the VM's own VMDKs (name_N.vmdk in its directory)
BLANK_NAMED = "[vmfs-01] app01/app01_2.vmdk"
REAL = ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
# replicating.yml's app01, staged failed back as if its reprotect and failover ran outside this collection: no
# failback manifest records its VMDKs
UNRECORDED = {"asr": {"items": [{"name": "app01", "stage": "failed_back", "failback_manifest": False}]}}


def swap_for_a_blank_disk(lab, name, file_name, blank=BLANK, delete=False):
    """Detach ``file_name`` from VM ``name`` (the VMDK stays on the datastore, or is deleted with ``delete``) and
    add a new empty disk of the same capacity in the VM's directory."""
    with lab.effects.lock:
        site, row = lab.effects._find_vm(name)
        disk = next(d for d in lab.effects._disks(row) if d["file"] == file_name)
        lab.effects._detach(row, disk, "test: detach %s" % file_name)
        if delete:
            datacenter = site.read(vim.Datacenter, ["name"])[0]["obj"]
            lab.effects._wait(site.content.virtualDiskManager.DeleteVirtualDisk_Task(name=file_name,
                                                                                     datacenter=datacenter),
                              "test: delete %s" % file_name)
        _site, row = lab.effects._find_vm(name)
        lab.effects._create_disk(row, blank, disk["size_gb"], "test: blank disk")


def failed_back(lab):
    rc, done = run_module("failover", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc == 0, done
    assert sorted(d["file"] for d in lab.effects.vm("app01")["disks"]) == REAL


def assert_refused_and_kept(lab, args, *fragments):
    """The commit fails, makes no mutating call, names each fragment, and the Azure VM is still there."""
    watch = watch_calls(lab)
    rc, result = run_module("commit", dict(FAST, vms=["app01"], **args), env=lab.env())
    assert rc != 0, result
    assert watch.mutations() == NO_MUTATIONS
    for fragment in fragments:
        assert fragment in result["msg"], (fragment, result["msg"])
    state = lab_state(lab)
    assert state["items"]["app01"]["stage"] == "failed_back"
    assert "rg-recovery/app01" in state["compute"]["virtual_machines"]
    return result


def test_a_blank_disk_of_the_same_capacity_does_not_stand_for_a_protected_disk(full_lab):
    lab = full_lab("replicating.yml")
    rc, done = run_module("failover", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc == 0, done
    before = sorted(d["file"] for d in lab.effects.vm("app01")["disks"])
    assert before == ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
    swap_for_a_blank_disk(lab, "app01", "[vmfs-01] app01/app01_1.vmdk")
    assert sorted(d["file"] for d in lab.effects.vm("app01")["disks"]) == ["[vmfs-01] app01/app01.vmdk", BLANK]
    for force in (False, True):
        watch = watch_calls(lab)
        rc, result = run_module("commit", dict(FAST, vms=["app01"], force=force), env=lab.env())
        assert rc != 0, result
        assert watch.mutations() == NO_MUTATIONS
        assert "protected disk Disk1" in result["msg"] and BLANK in result["msg"], result["msg"]
        state = lab_state(lab)
        assert state["items"]["app01"]["stage"] == "failed_back"
        assert "rg-recovery/app01" in state["compute"]["virtual_machines"]


@pytest.mark.parametrize("delete", [False, True])
def test_a_blank_disk_named_like_the_vms_own_does_not_stand_for_the_vmdk_its_manifest_records(full_lab, delete):
    # new-user try of issue 13: the real app01_1.vmdk left attached to nothing (or deleted), a blank
    # app01_2.vmdk of the same capacity attached in its place
    lab = full_lab("replicating.yml")
    failed_back(lab)
    swap_for_a_blank_disk(lab, "app01", REAL[1], blank=BLANK_NAMED, delete=delete)
    assert sorted(d["file"] for d in lab.effects.vm("app01")["disks"]) == [REAL[0], BLANK_NAMED]
    for force in (False, True):
        assert_refused_and_kept(lab, {"force": force}, "protected disk Disk",
                                "VMDK %s (recorded in its failback manifest) is attached to no VM" % REAL[1])


def test_a_classic_vm_whose_vmdks_nothing_records_waits_for_the_operators_list(full_lab):
    lab = full_lab("replicating.yml", UNRECORDED)
    assert sorted(d["file"] for d in lab.effects.vm("app01")["disks"]) == REAL
    result = assert_refused_and_kept(lab, {}, "nothing records which VMDKs hold this VM's disks", "protected_disk_files")
    assert [r["rule"] for r in result["vms"][0]["refusals"]] == ["protected_disks_recorded"]
    # the swap for a blank disk named like its own: the operator's list of the real VMDKs still refuses it
    swap_for_a_blank_disk(lab, "app01", REAL[1], blank=BLANK_NAMED)
    assert_refused_and_kept(lab, {}, "protected_disk_files")
    assert_refused_and_kept(lab, {"protected_disk_files": {"app01": REAL}},
                            "VMDK %s (named in protected_disk_files) is attached to no VM" % REAL[1])
    # put back as it was: the operator's list lets the commit through, and only then is the Azure VM deleted
    with lab.effects.lock:
        _site, row = lab.effects._find_vm("app01")
        blank = next(d for d in lab.effects._disks(row) if d["file"] == BLANK_NAMED)
        lab.effects._detach(row, blank, "test: detach the blank disk")
        _site, row = lab.effects._find_vm("app01")
        lab.effects._attach(row, REAL[1], blank["size_gb"], "test: attach the real VMDK again")
    rc, done = run_module("commit", dict(FAST, vms=["app01"], protected_disk_files={"app01": REAL}), env=lab.env())
    assert rc == 0, done
    state = lab_state(lab)
    assert state["items"]["app01"]["stage"] == "failback_committed"
    assert "rg-recovery/app01" not in state["compute"]["virtual_machines"]


def recorded_and_attached(lab, name):
    """VM ``name``'s failback manifest ``[(file, uuid)]`` (None: it has none) and its attached disks ``[(file, uuid)]``,
    read from vCenter through the property collector."""
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        row = next(r for r in site.read(vim.VirtualMachine, ["name", "config.extraConfig", "config.hardware.device"])
                   if r["name"] == name)
    finally:
        site.close()
    options = {o.key: o.value for o in row.get("config.extraConfig") or []}
    raw = options.get("siterecovery.failback.disks")
    manifest = sorted((e["file"], e["uuid"]) for e in json.loads(raw)) if raw else None
    return manifest, sorted((d.backing.fileName, d.backing.uuid) for d in row["config.hardware.device"]
                            if isinstance(d, vim.vm.device.VirtualDisk))


def test_the_failover_records_the_disks_asr_attached_so_a_later_swap_is_refused(full_lab):
    # the reprotect ran outside this collection (no manifest), the failover through it: right after ASR's job the
    # failover module records the disks ASR attached, with their disk UUIDs (new-user try of issue 13)
    lab = full_lab("replicating.yml", {"asr": {"items": [{"name": "app01", "failback_manifest": False}]}})
    assert recorded_and_attached(lab, "app01")[0] is None
    failed_back(lab)
    manifest, attached = recorded_and_attached(lab, "app01")
    assert manifest == attached and [f for f, _u in manifest] == REAL and all(u for _f, u in manifest)
    swap_for_a_blank_disk(lab, "app01", REAL[1], blank=BLANK_NAMED)
    assert_refused_and_kept(lab, {}, "VMDK %s (recorded in its failback manifest) is attached to no VM" % REAL[1])
    # a re-run of the failover (the VM is failed back) leaves the record as it was
    rc, again = run_module("failover", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc == 0 and again["changed"] is False, again
    assert recorded_and_attached(lab, "app01")[0] == manifest
