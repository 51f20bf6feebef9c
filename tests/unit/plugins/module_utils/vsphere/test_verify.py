# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vsphere.verify: the facts the commit gate decides on, from one property-collector read of every VM."""

import json

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import identity
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import verify
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import (
    POWERED_OFF,
    POWERED_ON,
    TOOLS_RUNNING,
    FakeClient,
    flat_disk,
    lsi_logic,
    rdm_disk,
    vim,
)


def row(moid, name, devices, power=POWERED_ON, tools=TOOLS_RUNNING, uuid=None, vmx=None, extra=None, template=False):
    return {"obj": vim.VirtualMachine(moid), "moid": moid, "name": name, "config.template": template,
            "config.instanceUuid": uuid, "runtime.powerState": power, "guest.toolsRunningStatus": tools,
            "config.hardware.device": [lsi_logic(1000, 0), *devices],
            "config.extraConfig": [vim.option.OptionValue(key=k, value=v) for k, v in (extra or {}).items()],
            "config.files.vmPathName": vmx or "[vmfs-01] %s/%s.vmx" % (name, name), "missing": {}}


def test_one_read_of_every_vm_with_explicit_paths():
    client = FakeClient(lambda obj_type, paths, objects: [])
    verify.read(client)
    assert client.calls == [(vim.VirtualMachine, verify.VM_PATHS, None)]


def test_facts_of_a_vm_with_one_disk_back_and_one_on_the_master_target():
    rows = [row("vm-1", "web02", [flat_disk(2000, 1000, 0, "[vmfs-01] web02/web02_1.vmdk", 80, "6000C29a-1")]),
            row("vm-2", "mt-lin01", [flat_disk(2000, 1000, 0, "[vmfs-01] mt-lin01/mt-lin01.vmdk", 60),
                                     flat_disk(2001, 1000, 1, "[vmfs-01] web02/web02.vmdk", 40, "6000C29a-0"),
                                     rdm_disk(2002, 1000, 2, "[vmfs-01] web02/web02_rdm.vmdk")]),
            row("vm-3", "web02", [], template=True)]
    facts = verify.OnPremVms(rows).facts("web02")
    assert facts["found"] is True and facts["moid"] == "vm-1"
    assert (facts["power_state"], facts["tools_running_status"]) == ("poweredOn", "guestToolsRunning")
    assert facts["disks"] == [
        {"file": "[vmfs-01] web02/web02_1.vmdk", "uuid": "6000C29a-1", "capacity_bytes": 80 * 1024 ** 3, "backing": "flat",
         "own_by": "name"}]
    # named after the VM in its directory, held by the master target; the RDM mapping is not named like a disk of it
    assert facts["known"] == [{"file": "[vmfs-01] web02/web02.vmdk", "uuid": "6000C29a-0", "holder": "mt-lin01",
                               "why": "named after the VM in its directory"}]
    assert [(d["file"], d["holder"], d["backing"]) for d in facts["elsewhere"]] == [
        ("[vmfs-01] mt-lin01/mt-lin01.vmdk", "mt-lin01", "flat"), ("[vmfs-01] web02/web02.vmdk", "mt-lin01", "flat"),
        ("[vmfs-01] web02/web02_rdm.vmdk", "mt-lin01", "rdm")]


def test_a_disk_is_the_vms_own_by_its_manifest_or_else_by_its_name():
    """A blank disk put in the place of one of the VM's VMDKs is not its own: the commit gate does not take it
    for a protected disk of the same capacity (new-user try of issue 13)."""
    named = [flat_disk(2000, 1000, 0, "[vmfs-01] app01/app01.vmdk", 60, "u0"),
             flat_disk(2001, 1000, 1, "[vmfs-01] app01/blank-250.vmdk", 250, "u9"),
             flat_disk(2002, 1000, 2, "[vmfs-02] elsewhere/app01_1.vmdk", 250, "u8")]
    facts = verify.OnPremVms([row("vm-1", "app01", named)]).facts("app01")
    assert [(d["file"], d["own_by"]) for d in facts["disks"]] == [
        ("[vmfs-01] app01/app01.vmdk", "name"), ("[vmfs-01] app01/blank-250.vmdk", None),
        ("[vmfs-02] elsewhere/app01_1.vmdk", None)]
    # with a manifest, only what it records counts, and a file it records with another disk UUID does not
    manifest = json.dumps([{"file": "[vmfs-01] app01/app01.vmdk", "uuid": "u7"},
                           {"file": "[vmfs-02] elsewhere/app01_1.vmdk", "uuid": "U8"}])
    facts = verify.OnPremVms([row("vm-1", "app01", named, extra={"siterecovery.failback.disks": manifest})]).facts(
        "app01")
    assert [(d["file"], d["own_by"]) for d in facts["disks"]] == [
        ("[vmfs-01] app01/app01.vmdk", None), ("[vmfs-01] app01/blank-250.vmdk", None),
        ("[vmfs-02] elsewhere/app01_1.vmdk", "manifest")]


def test_without_a_manifest_the_operators_list_is_the_record_and_it_extends_a_manifest():
    named = [flat_disk(2000, 1000, 0, "[vmfs-01] app01/app01.vmdk", 60, "u0"),
             flat_disk(2001, 1000, 1, "[vmfs-01] app01/app01_2.vmdk", 250, "u9")]
    vms = verify.OnPremVms([row("vm-1", "app01", named)])
    # nothing records the VM's VMDKs: only the names say which are its own (the gate refuses a classic item)
    assert vms.facts("app01")["recorded"] is None
    given = ["[vmfs-01] app01/app01.vmdk", " [vmfs-01] app01/app01_1.vmdk "]
    facts = vms.facts("app01", given_files=given)
    assert facts["recorded"] == "operator"
    assert [(d["file"], d["own_by"]) for d in facts["disks"]] == [
        ("[vmfs-01] app01/app01.vmdk", "operator"), ("[vmfs-01] app01/app01_2.vmdk", None)]
    assert facts["known"] == [{"file": "[vmfs-01] app01/app01_1.vmdk", "uuid": None, "holder": None,
                               "why": "named in protected_disk_files"}]
    manifest = json.dumps([{"file": "[vmfs-01] app01/app01_2.vmdk", "uuid": "u9"}])
    facts = verify.OnPremVms([row("vm-1", "app01", named, extra={"siterecovery.failback.disks": manifest})]).facts(
        "app01", given_files=given)
    # a VMDK nothing pinned (attached, not in the manifest) is the VM's once the operator names it; a file both
    # list keeps the manifest's entry, whose disk UUID is compared (new-user re-try of issue 13: the manifest used
    # to win, and a VM whose manifest missed a loose VMDK could never be committed)
    assert facts["recorded"] == "manifest"
    assert [(d["file"], d["own_by"]) for d in facts["disks"]] == [
        ("[vmfs-01] app01/app01.vmdk", "operator"), ("[vmfs-01] app01/app01_2.vmdk", "manifest")]
    assert facts["known"] == [{"file": "[vmfs-01] app01/app01_1.vmdk", "uuid": None, "holder": None,
                               "why": "named in protected_disk_files"}]
    swapped = json.dumps([{"file": "[vmfs-01] app01/app01_2.vmdk", "uuid": "u-replica"}])
    facts = verify.OnPremVms([row("vm-1", "app01", named, extra={"siterecovery.failback.disks": swapped})]).facts(
        "app01", given_files=["[vmfs-01] app01/app01_2.vmdk"])
    assert [(d["file"], d["own_by"], d.get("recorded_uuid")) for d in facts["disks"]] == [
        ("[vmfs-01] app01/app01.vmdk", None, None),
        ("[vmfs-01] app01/app01_2.vmdk", None, "u-replica")]  # u9 is not u-replica: the file was replaced


def test_the_failback_manifest_names_vmdks_attached_nowhere():
    manifest = json.dumps([{"file": "[vmfs-01] app01/app01.vmdk", "uuid": "u0"},
                           {"file": "[vmfs-01] data/x.vmdk", "uuid": "u1"}])
    rows = [row("vm-1", "app01", [flat_disk(2000, 1000, 0, "[vmfs-01] app01/app01.vmdk", 60, "u0")], power=POWERED_OFF,
                extra={"siterecovery.failback.disks": manifest})]
    facts = verify.OnPremVms(rows).facts("app01")
    assert facts["power_state"] == "poweredOff"
    assert facts["known"] == [{"file": "[vmfs-01] data/x.vmdk", "uuid": "u1", "holder": None,
                               "why": "recorded in its failback manifest", "manifest_key": "siterecovery.failback.disks"}]


def test_a_shared_name_is_resolved_by_the_instance_uuid_asr_records():
    rows = [row("vm-1", "app01", [], uuid="AAAA"), row("vm-2", "app01", [], uuid="bbbb")]
    vms = verify.OnPremVms(rows)
    chosen = vms.facts("app01", "BBBB")
    assert chosen["moid"] == "vm-2"
    assert len(chosen["warnings"]) == 1 and "vm-1 (" in chosen["warnings"][0] and "left alone" in chosen["warnings"][0]
    ambiguous = vms.facts("app01")
    assert ambiguous["found"] is False
    assert ambiguous["problem"] == (
        "2 VMs have that name and Site Recovery records no instance UUID for a classic (InMage/InMageAzureV2) VM, so "
        "the VM it fails back cannot be told from the others: vm-1 ([vmfs-01] app01/app01.vmx, instance UUID AAAA, "
        "poweredOn); vm-2 ([vmfs-01] app01/app01.vmx, instance UUID bbbb, poweredOn). Nothing was changed. Rename or "
        "remove the stale copy (keep the VM Site Recovery protects), and re-run.")
    assert "alternate" not in ambiguous["problem"]
    assert vms.facts("ghost") == {"found": False, "problem": "it was not found in vCenter", "name": "ghost",
                                  "warnings": []}


def test_the_network_adapters_of_a_vm_with_their_network_and_connection():
    standard = vim.vm.device.VirtualVmxnet3(
        key=4000, deviceInfo=vim.Description(label="Network adapter 1", summary="VM Network"),
        backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network"),
        connectable=vim.vm.device.VirtualDevice.ConnectInfo(connected=True, startConnected=True))
    distributed = vim.vm.device.VirtualE1000(
        key=4001, backing=vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
            port=vim.dvs.PortConnection(portgroupKey="dvportgroup-12", switchUuid="50 1a")),
        connectable=vim.vm.device.VirtualDevice.ConnectInfo(connected=False, startConnected=True))
    facts = verify.OnPremVms([row("vm-1", "app01", [standard, distributed])]).facts("app01")
    assert facts["nics"] == [{"label": "Network adapter 1", "network": "VM Network", "connected": True},
                             {"label": "network adapter 4001", "network": "dvportgroup-12", "connected": False}]
    assert verify.OnPremVms([row("vm-1", "app01", [])]).facts("app01")["nics"] == []


# -- the facts of each of N VMs cost the same whatever N (issue 17) --------------------------------------------------

def test_a_vm_is_resolved_as_domain_identity_decides_over_every_vm():
    rows = [row("vm-1", "app01", [], uuid="AAAA"), row("vm-2", "app01", [], uuid="bbbb"),
            row("vm-3", "web02", [], uuid="cccc"), row("vm-4", "web02", [], uuid="dddd", template=True),
            row("vm-5", "db03", [], uuid=None)]
    vms = verify.OnPremVms(rows)
    everyone = [vms._candidate(r, sum(o["name"] == r["name"] for o in vms.rows) > 1) for r in vms.rows]
    for name, uuid in [("app01", None), ("app01", "bbbb"), ("app01", "CCCC"), ("web02", None), ("web02", "aaaa"),
                       ("web02", "dddd"), ("db03", None), ("db03", "0000"), ("ghost", "cccc"), ("ghost", None)]:
        indexed = vms.resolve(name, uuid)
        full = identity.resolve(name, everyone, uuid)
        assert (indexed.how, indexed.vm and indexed.vm["moid"], [c["moid"] for c in indexed.same_name],
                [c["moid"] for c in indexed.others]) == (
            full.how, full.vm and full.vm["moid"], [c["moid"] for c in full.same_name], [c["moid"] for c in full.others])


def test_the_facts_of_one_vm_make_candidates_of_the_vms_of_its_name_only(monkeypatch):
    rows = [row("vm-%d" % i, "app%02d" % i, [flat_disk(2000, 1000, 0, "[vmfs-01] app%02d/app%02d.vmdk" % (i, i), 10)])
            for i in range(1, 41)]
    made = []
    original = verify.OnPremVms._candidate
    monkeypatch.setattr(verify.OnPremVms, "_candidate", lambda self, r, shared: made.append(r["moid"]) or original(
        self, r, shared))
    vms = verify.OnPremVms(rows)
    for i in range(1, 41):
        facts = vms.facts("app%02d" % i)
        assert facts["found"] and len(facts["elsewhere"]) == 39 and facts["known"] == []
    assert len(made) == 40  # one candidate per question, not one per VM of the vCenter per question


def test_known_names_the_last_other_vm_that_holds_a_recorded_vmdk_and_only_vmdks_in_its_directory():
    manifest = json.dumps([{"file": "[vmfs-01] data/x.vmdk", "uuid": "u1"}])
    rows = [row("vm-1", "app01", [], extra={"siterecovery.failback.disks": manifest}),
            row("vm-2", "mt-a", [flat_disk(2000, 1000, 0, "[vmfs-01] data/x.vmdk", 10, "u1"),
                                 flat_disk(2001, 1000, 1, "[vmfs-01] app01/app01_1.vmdk", 10, "u2")]),
            row("vm-3", "mt-b", [flat_disk(2000, 1000, 0, "[vmfs-01] data/x.vmdk", 10, "u1"),
                                 flat_disk(2001, 1000, 1, "[vmfs-01] app01/sub/app01.vmdk", 10, "u3"),
                                 flat_disk(2002, 1000, 2, "[vmfs-02] app01/app01.vmdk", 10, "u4")])]
    facts = verify.OnPremVms(rows).facts("app01")
    assert [(k["file"], k["holder"], k["why"]) for k in facts["known"]] == [
        ("[vmfs-01] data/x.vmdk", "mt-b", "recorded in its failback manifest"),
        ("[vmfs-01] app01/app01_1.vmdk", "mt-a", "named after the VM in its directory")]
    # a name with "/" in it (vCenter allows it) reaches into a subfolder of the VM's directory: every disk is looked at
    rows = [row("vm-1", "a/b", [], vmx="[vmfs-01] x/a-b.vmx"),
            row("vm-2", "mt-a", [flat_disk(2000, 1000, 0, "[vmfs-01] x/a/b_1.vmdk", 10, "u5")])]
    assert [k["file"] for k in verify.OnPremVms(rows).facts("a/b")["known"]] == ["[vmfs-01] x/a/b_1.vmdk"]
