# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The commit gate takes a disk for a protected disk only when it is the VM's own VMDK (new-user try of issue 13):
ASR names no file nor UUID for a classic disk, so a blank disk of the same capacity put in the place of one of the
VM's VMDKs must not let the Azure VM be deleted.

Judged from outside: the emulator's state (the item's stage, the Azure VM) and vCenter through the property
collector (lab.effects.vm); the disk swap is made on the lab's vCenter with pyVmomi, as an operator would."""

from conftest import NO_MUTATIONS, lab_state, run_module, watch_calls

FAST = {"poll_interval": 0.5}
BLANK = "[vmfs-01] app01/blank-250.vmdk"


def swap_for_a_blank_disk(lab, name, file_name):
    """Detach ``file_name`` from VM ``name`` (the VMDK stays on the datastore) and add a new empty disk of the
    same capacity in the VM's directory."""
    with lab.effects.lock:
        _site, row = lab.effects._find_vm(name)
        disk = next(d for d in lab.effects._disks(row) if d["file"] == file_name)
        lab.effects._detach(row, disk, "test: detach %s" % file_name)
        _site, row = lab.effects._find_vm(name)
        lab.effects._create_disk(row, BLANK, disk["size_gb"], "test: blank disk")


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
