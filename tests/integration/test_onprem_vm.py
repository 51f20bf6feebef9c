# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""onprem_vm on the lab: power on with memory checks, disks back from the master target, creation."""

from conftest import run_check_mode, run_module


def vm_facts(sim, *names):
    rc, result = run_module("esx_host_info", {"vms": list(names)}, env=sim.env())
    assert rc == 0, result
    return {vm["name"]: vm for vm in result["vms"]}


def test_original_location_returns_disks_powers_on_and_waits_for_tools(lab_vcenter):
    sim = lab_vcenter("replicating.yml")
    args = {"vms": [{"name": "app01", "master_target": "mt-win01"}]}
    rc, check = run_check_mode("onprem_vm", args, sim)
    assert rc == 0, check
    assert check["changed"] is True
    assert check["vms"][0]["disks_returned"] == 2 and check["vms"][0]["powered_on"] is True
    before = vm_facts(sim, "app01")["app01"]
    assert before["power_state"] == "poweredOff" and before["disks"] == []

    rc, applied = run_module("onprem_vm", args, env=sim.env())
    assert rc == 0, applied
    vm = applied["vms"][0]
    assert (vm["power_state"], vm["tools_running_status"], vm["host"]) == ("poweredOn", "guestToolsRunning", "esx01.lab")
    assert applied["power_on_seconds"] is not None
    facts = vm_facts(sim, "app01")["app01"]
    assert [d["file"] for d in facts["disks"]] == ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]

    rc, again = run_module("onprem_vm", args, env=sim.env())
    assert rc == 0 and again["changed"] is False, again


def test_8038_is_refused_by_default_and_remediated_by_vmotion(lab_vcenter):
    sim = lab_vcenter("memory-short.yml")
    args = {"vms": [{"name": "app01"}]}
    rc, refused = run_module("onprem_vm", args, env=sim.env())
    assert rc != 0
    assert "VM app01 needs 16384 MB but ESXi host esx01.lab has 8192 MB free" in refused["msg"]
    assert "8038" in refused["msg"] and "nothing was changed" in refused["msg"]
    assert vm_facts(sim, "app01")["app01"]["power_state"] == "poweredOff"

    args["memory_remediation"] = "vmotion"
    rc, check = run_check_mode("onprem_vm", args, sim)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["vmotion_to"] == "esx02.lab", check
    assert vm_facts(sim, "app01")["app01"]["host"]["name"] == "esx01.lab"
    rc, applied = run_module("onprem_vm", args, env=sim.env())
    assert rc == 0, applied
    assert applied["vms"][0]["host"] == "esx02.lab"
    assert applied["vms"][0]["power_state"] == "poweredOn"
    rc, again = run_module("onprem_vm", args, env=sim.env())
    assert rc == 0 and again["changed"] is False


def test_alternate_location_creates_the_vm_on_the_master_target_host(lab_vcenter):
    sim = lab_vcenter("replicating.yml")
    args = {"vms": [{"name": "web02", "location": "alternate", "master_target": "mt-lin01", "datastore": "vmfs-01",
                     "num_cpu": 2, "memory_mb": 4096, "guest_id": "rhel8_64Guest", "firmware": "bios",
                     "networks": ["Prod-VLAN10"]}]}
    rc, check = run_check_mode("onprem_vm", args, sim)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["created"] is True, check
    rc, applied = run_module("onprem_vm", args, env=sim.env())
    assert rc == 0, applied
    vm = vm_facts(sim, "web02", "mt-lin01")
    assert vm["web02"]["host"]["name"] == vm["mt-lin01"]["host"]["name"] == "esx02.lab"
    assert [d["file"] for d in vm["web02"]["disks"]] == ["[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"]
    assert not any(d["file"].startswith("[vmfs-01] web02/") for d in vm["mt-lin01"]["disks"])
    assert (vm["web02"]["num_cpu"], vm["web02"]["memory_mb"], vm["web02"]["power_state"]) == (2, 4096, "poweredOn")
    rc, again = run_module("onprem_vm", args, env=sim.env())
    assert rc == 0 and again["changed"] is False, again


def test_refusals_change_nothing(lab_vcenter):
    sim = lab_vcenter("default.yml")
    rc, result = run_module("onprem_vm", {"vms": [{"name": "web02"}, {"name": "app01"}]}, env=sim.env())
    assert rc != 0
    assert "VM web02 does not exist; original-location failback needs it" in result["msg"]
    assert vm_facts(sim, "app01")["app01"]["power_state"] == "poweredOff"  # app01 was fine but nothing ran
    rc, result = run_module("onprem_vm", {"vms": [{"name": "web02", "location": "alternate", "master_target": "mt-lin01",
                                                   "datastore": "vmfs-01", "num_cpu": 2, "memory_mb": 4096,
                                                   "guest_id": "rhel8_64Guest"}]}, env=sim.env())
    assert rc != 0
    assert "no disk under [vmfs-01] web02/ is attached to master target mt-lin01" in result["msg"]
