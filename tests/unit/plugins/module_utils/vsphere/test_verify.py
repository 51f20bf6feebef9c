# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vsphere.verify: the facts the commit gate decides on, from one property-collector read of every VM."""

import json

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
        {"file": "[vmfs-01] web02/web02_1.vmdk", "uuid": "6000C29a-1", "capacity_bytes": 80 * 1024 ** 3, "backing": "flat"}]
    # named after the VM in its directory, held by the master target; the RDM mapping is not named like a disk of it
    assert facts["known"] == [{"file": "[vmfs-01] web02/web02.vmdk", "uuid": "6000C29a-0", "holder": "mt-lin01",
                               "why": "named after the VM in its directory"}]
    assert [(d["file"], d["holder"], d["backing"]) for d in facts["elsewhere"]] == [
        ("[vmfs-01] mt-lin01/mt-lin01.vmdk", "mt-lin01", "flat"), ("[vmfs-01] web02/web02.vmdk", "mt-lin01", "flat"),
        ("[vmfs-01] web02/web02_rdm.vmdk", "mt-lin01", "rdm")]


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
    assert vms.facts("app01", "BBBB")["moid"] == "vm-2"
    ambiguous = vms.facts("app01")
    assert ambiguous["found"] is False
    assert ambiguous["problem"] == ("2 VMs are named app01 (vm-1 AAAA, vm-2 bbbb) and ASR records none of their instance "
                                    "UUIDs, so the gate cannot tell which one failed back; rename or remove the stale "
                                    "copies")
    assert vms.facts("ghost") == {"found": False, "problem": "it was not found in vCenter", "name": "ghost"}
