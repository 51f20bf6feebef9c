# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""onprem_vm on the lab: power on with memory checks, disks back from the master target, creation; and the stage
gate - it acts only on a VM Site Recovery failed back (failed_back), at failover_failed only as the 8038 remedy,
skips a committed VM and refuses any other stage before anything is read in vCenter.

onprem_vm reads each VM's protected item first, so every test runs on a whole lab (vCenter simulator and Azure
emulator). End state is judged from outside: vCenter through the property collector (tests/lab/effects.Site), the
emulator's GET /_lab/state, and the calls counted by the lab (tests/lab/calls.CallWatch)."""

from conftest import NO_MUTATIONS, lab_control, lab_state, run_check_mode, run_module, watch_calls
from pyVmomi import vim

from tests.lab.effects import Site

# ASR failed the VM back (stage failed_back) but vCenter is as before the failover: a failover that stopped before
# the VM's disks left the master target (app01: original location on mt-win01; web02: alternate, on mt-lin01)
APP01_DISKS_ON_MT = {"name": "app01", "stage": "failed_back", "onprem_as_at": "replicating_to_onprem"}
WEB02_DISKS_ON_MT = {"name": "web02", "stage": "failed_back", "onprem_as_at": "replicating_to_onprem"}
APP01_FILES = ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
WEB02_FILES = ["[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"]
WEB02_ALTERNATE = {"name": "web02", "location": "alternate", "master_target": "mt-lin01", "datastore": "vmfs-01",
                   "num_cpu": 2, "memory_mb": 4096, "guest_id": "rhel8_64Guest", "firmware": "bios",
                   "networks": ["Prod-VLAN10"]}


def items(*entries):
    return {"asr": {"items": list(entries)}}


def powered_off(*names):
    """Overrides: the named VMs of DC1 are powered off (a failed_back item's VM runs unless its VM says otherwise)."""
    return {"vcenter": {"datacenters": [{"name": "DC1", "vms": [{"name": n, "power_state": "poweredOff"}
                                                                for n in names]}]}}


def overrides(*parts):
    merged = {}
    for part in parts:
        for key, value in part.items():
            merged.setdefault(key, {}).update(value)
    return merged


def vm_facts(lab, *names):
    rc, result = run_module("esx_host_info", {"vms": list(names)}, env=lab.env())
    assert rc == 0, result
    return {vm["name"]: vm for vm in result["vms"]}


def vcenter(lab):
    """``{VM name: (sorted disk files, power state, host name)}`` read through the property collector."""
    site = Site("vcenter", lab.simulators["vcenter"].info)
    try:
        hosts = {row["obj"]._moId: row["name"] for row in site.read(vim.HostSystem, ["name"])}
        return {row["name"]: (sorted(d.backing.fileName for d in row.get("config.hardware.device") or []
                                     if isinstance(d, vim.vm.device.VirtualDisk)),
                              str(row["runtime.powerState"]), hosts.get(row["runtime.host"]._moId))
                for row in site.read(vim.VirtualMachine, ["name", "config.hardware.device", "runtime.powerState",
                                                          "runtime.host"])}
    finally:
        site.close()


def refused_before_vcenter(lab, args, *phrases):
    """Run onprem_vm, expect a stage refusal naming ``phrases``: no call reached vCenter (not even a read), nothing
    could change in Azure, and vCenter is as it was."""
    before = vcenter(lab)
    watch = watch_calls(lab)
    rc, result = run_module("onprem_vm", args, env=lab.env())
    calls = watch.since()
    assert rc != 0, result
    assert result["msg"].startswith("Refusing to bring the VMs up; nothing was changed: "), result["msg"]
    for phrase in phrases:
        assert phrase in result["msg"], result["msg"]
    assert result.get("changed") is False
    assert watch.mutations(calls) == NO_MUTATIONS
    assert not any(calls["soap"].values()), calls["soap"]  # refused before anything was read in vCenter
    assert calls["arm"], "the protected items were not read"
    assert vcenter(lab) == before
    return result


def test_original_location_returns_disks_powers_on_and_waits_for_tools(full_lab):
    lab = full_lab("replicating.yml", items(APP01_DISKS_ON_MT))
    args = {"vms": [{"name": "app01", "master_target": "mt-win01"}]}
    rc, check = run_check_mode("onprem_vm", args, lab)
    assert rc == 0, check
    assert check["changed"] is True
    assert check["vms"][0]["disks_returned"] == 2 and check["vms"][0]["powered_on"] is True
    before = vm_facts(lab, "app01")["app01"]
    assert before["power_state"] == "poweredOff" and before["disks"] == []

    rc, applied = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0, applied
    vm = applied["vms"][0]
    assert (vm["power_state"], vm["tools_running_status"], vm["host"]) == ("poweredOn", "guestToolsRunning", "esx01.lab")
    assert vm["failback_stage"] == "failed_back"
    assert applied["power_on_seconds"] is not None
    facts = vm_facts(lab, "app01")["app01"]
    assert [d["file"] for d in facts["disks"]] == APP01_FILES
    state = vcenter(lab)
    assert state["app01"] == (APP01_FILES, "poweredOn", "esx01.lab")
    assert not any(f in APP01_FILES for f in state["mt-win01"][0])

    rc, again = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and again["changed"] is False, again


def test_8038_is_refused_by_default_and_remediated_by_vmotion(full_lab):
    # failed back, app01 powered off on esx01, which lacks the memory to run it (memory-short.yml)
    lab = full_lab("memory-short.yml", overrides(
        items({"name": "app01", "stage": "failed_back", "master_target": "mt-win01"}), powered_off("app01")))
    args = {"vms": [{"name": "app01"}]}
    rc, refused = run_module("onprem_vm", args, env=lab.env())
    assert rc != 0
    assert "VM app01 needs 16384 MB but ESXi host esx01.lab has 8192 MB free" in refused["msg"]
    assert "8038" in refused["msg"] and "nothing was changed" in refused["msg"]
    assert vm_facts(lab, "app01")["app01"]["power_state"] == "poweredOff"

    args["memory_remediation"] = "vmotion"
    rc, check = run_check_mode("onprem_vm", args, lab)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["vmotion_to"] == "esx02.lab", check
    assert vm_facts(lab, "app01")["app01"]["host"]["name"] == "esx01.lab"
    rc, applied = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0, applied
    assert applied["vms"][0]["host"] == "esx02.lab"
    assert applied["vms"][0]["power_state"] == "poweredOn"
    assert vcenter(lab)["app01"][1:] == ("poweredOn", "esx02.lab")
    rc, again = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and again["changed"] is False


def test_alternate_location_creates_the_vm_on_the_master_target_host(full_lab):
    lab = full_lab("replicating.yml", items(WEB02_DISKS_ON_MT))
    args = {"vms": [dict(WEB02_ALTERNATE)]}
    rc, check = run_check_mode("onprem_vm", args, lab)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["created"] is True, check
    rc, applied = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0, applied
    vm = vm_facts(lab, "web02", "mt-lin01")
    assert vm["web02"]["host"]["name"] == vm["mt-lin01"]["host"]["name"] == "esx02.lab"
    assert [d["file"] for d in vm["web02"]["disks"]] == WEB02_FILES
    assert not any(d["file"].startswith("[vmfs-01] web02/") for d in vm["mt-lin01"]["disks"])
    assert (vm["web02"]["num_cpu"], vm["web02"]["memory_mb"], vm["web02"]["power_state"]) == (2, 4096, "poweredOn")
    rc, again = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and again["changed"] is False, again


def test_refusals_change_nothing(full_lab):
    # both failed back, vCenter as before the reprotect (onprem_as_at running_in_azure): web02 (alternate location)
    # was never created and no VMDK of it is on mt-lin01; app01 is powered off on its own disks
    lab = full_lab("default.yml", items(
        {"name": "web02", "stage": "failed_back", "master_target": "mt-lin01", "datastore": "vmfs-01",
         "onprem_as_at": "running_in_azure"},
        {"name": "app01", "stage": "failed_back", "master_target": "mt-win01", "onprem_as_at": "running_in_azure"}))
    before = vcenter(lab)
    watch = watch_calls(lab)
    rc, result = run_module("onprem_vm", {"vms": [{"name": "web02"}, {"name": "app01"}]}, env=lab.env())
    assert rc != 0
    assert "VM web02 does not exist; original-location failback needs it" in result["msg"]
    assert vm_facts(lab, "app01")["app01"]["power_state"] == "poweredOff"  # app01 was fine but nothing ran
    rc, result = run_module("onprem_vm", {"vms": [{"name": "web02", "location": "alternate", "master_target": "mt-lin01",
                                                   "datastore": "vmfs-01", "num_cpu": 2, "memory_mb": 4096,
                                                   "guest_id": "rhel8_64Guest"}]}, env=lab.env())
    assert rc != 0
    assert "no disk under [vmfs-01] web02/ is attached to master target mt-lin01" in result["msg"]
    assert watch.mutations() == NO_MUTATIONS
    assert vcenter(lab) == before


# -- the stage gate -------------------------------------------------------------------------------------------------

def test_a_vm_still_replicating_to_onprem_is_refused_before_any_vcenter_read(full_lab):
    # replicating.yml: app01 (original location) and web02 (alternate) replicate to their VMDKs on the master targets;
    # taking them off would break the replication
    lab = full_lab("replicating.yml")
    before = vcenter(lab)
    assert before["app01"][:2] == ([], "poweredOff") and "web02" not in before
    assert set(APP01_FILES) <= set(before["mt-win01"][0]) and set(WEB02_FILES) <= set(before["mt-lin01"][0])
    args = {"vms": [{"name": "app01", "master_target": "mt-win01"}, dict(WEB02_ALTERNATE)], "wait_for_tools": False}
    for check in (True, False):
        watch = watch_calls(lab)
        rc, result = run_module("onprem_vm", args, env=lab.env(), check=check)
        calls = watch.since()
        assert rc != 0, result
        assert result["msg"].startswith("Refusing to bring the VMs up; nothing was changed: "), result["msg"]
        for name in ("app01", "web02"):
            assert ("VM %s is at stage replicating_to_onprem: it has not failed over to on-premises yet: its VMDKs on "
                    "the master target are Site Recovery's replica; fail it over first." % name) in result["msg"]
        assert watch.mutations(calls) == NO_MUTATIONS
        assert not any(calls["soap"].values()), calls["soap"]
        # the replica VMDKs are still on the master targets, read from vCenter
        assert vcenter(lab) == before
    state = lab_state(lab)["items"]
    assert [(state[n]["stage"], state[n]["current_job"]) for n in ("app01", "web02")] == [
        ("replicating_to_onprem", None)] * 2


def test_a_vm_whose_failback_is_committed_is_skipped(full_lab):
    # app01's failback is committed; someone has powered it off since. A re-run of the verification leaves it alone.
    # web01 is failed back and powered off: it is brought up in the same run.
    lab = full_lab("default.yml", overrides(
        items({"name": "app01", "stage": "failback_committed", "master_target": "mt-win01"},
              {"name": "web01", "stage": "failed_back", "master_target": "mt-lin01"}),
        powered_off("app01", "web01")))
    before = vcenter(lab)
    assert before["app01"] == (APP01_FILES, "poweredOff", "esx01.lab")

    watch = watch_calls(lab)
    rc, result = run_module("onprem_vm", {"vms": [{"name": "app01"}]}, env=lab.env())
    calls = watch.since()
    assert rc == 0, result
    assert result["changed"] is False
    [entry] = result["vms"]
    assert (entry["name"], entry["skipped"], entry["changed"], entry["failback_stage"]) == (
        "app01", True, False, "failback_committed")
    assert watch.mutations(calls) == NO_MUTATIONS
    assert not any(calls["soap"].values()), calls["soap"]  # nothing read in vCenter for a skipped VM
    assert vcenter(lab) == before
    assert lab_state(lab)["items"]["app01"]["stage"] == "failback_committed"

    # in one run with a VM to bring up: app01 is still skipped, web01 is powered on
    rc, result = run_module("onprem_vm", {"vms": [{"name": "app01"}, {"name": "web01"}], "wait_for_tools": False},
                            env=lab.env())
    assert rc == 0 and result["changed"] is True, result
    assert [(e["name"], e.get("skipped", False)) for e in result["vms"]] == [("app01", True), ("web01", False)]
    after = vcenter(lab)
    assert after["app01"] == before["app01"]
    assert after["web01"][1] == "poweredOn" and before["web01"][1] == "poweredOff"


def _failed_failover(lab, name):
    """Fail VM ``name`` over to on-premises, which must fail; returns the failover's result."""
    rc, result = run_module("failover", {"vms": [name], "poll_interval": 0.5}, env=lab.env())
    assert rc != 0, result
    item = lab_state(lab)["items"][name]
    # the emulator keeps the item replicating, its failover failed: Site Recovery serves UnplannedFailoverFailed
    assert (item["stage"], item["failed_scenario"], item["current_job"]) == (
        "replicating_to_onprem", "UnplannedFailover", None), item
    rc, info = run_module("replicated_item_info", {"vms": [name]}, env=lab.env())
    assert rc == 0 and [i["failback_stage"] for i in info["items"]] == ["failover_failed"], info
    return result


def test_a_vm_whose_failover_failed_is_refused_unless_the_8038_remedy_is_asked_for(full_lab):
    # memory-short.yml: the failover attaches app01's disks back, then cannot power it on at esx01 (ASR error 8038)
    lab = full_lab("memory-short.yml", items(
        {"name": "app01", "stage": "replicating_to_onprem", "master_target": "mt-win01",
         "recovery_points": [{"age_minutes": 2}]}))
    failed = _failed_failover(lab, "app01")
    assert "[8038]" in failed["msg"], failed["msg"]
    assert vcenter(lab)["app01"] == (APP01_FILES, "poweredOff", "esx01.lab")

    for args in ({"vms": [{"name": "app01"}]}, {"vms": [{"name": "app01"}], "memory_remediation": "fail"}):
        refused_before_vcenter(
            lab, args, "VM app01 is at stage failover_failed: its failover to on-premises failed; retry the failover "
                       "(onprem_vm starts a VM whose failover failed only as the remedy of ASR error 8038, with "
                       "memory_remediation: vmotion).")

    # the remedy: moved to a host with room and started; Site Recovery is not written to (the failover is re-run next)
    watch = watch_calls(lab)
    rc, applied = run_module("onprem_vm", {"vms": [{"name": "app01"}], "memory_remediation": "vmotion"}, env=lab.env())
    assert rc == 0 and applied["changed"] is True, applied
    assert applied["vms"][0]["failback_stage"] == "failover_failed"
    assert watch.mutations()["arm"] == {}
    assert vcenter(lab)["app01"] == (APP01_FILES, "poweredOn", "esx02.lab")
    assert lab_state(lab)["items"]["app01"]["failed_scenario"] == "UnplannedFailover"


def test_the_8038_remedy_refuses_to_take_disks_off_the_master_target(full_lab):
    # the failover failed at its first task: app01's VMDKs are still Site Recovery's replica on mt-win01
    lab = full_lab("replicating.yml")
    before = vcenter(lab)
    lab_control(lab, "POST", "/jobs/fail", {"item": "app01", "at_task": 1, "code": "LabInjectedFailure",
                                            "message": "injected"})
    _failed_failover(lab, "app01")
    assert vcenter(lab) == before and set(APP01_FILES) <= set(before["mt-win01"][0])

    args = {"vms": [{"name": "app01", "master_target": "mt-win01"}], "memory_remediation": "vmotion"}
    for check in (True, False):
        watch = watch_calls(lab)
        rc, result = run_module("onprem_vm", args, env=lab.env(), check=check)
        assert rc != 0, result
        assert ("VM app01: its failover to on-premises failed (stage failover_failed), and bringing it up would take "
                "2 disk(s) off its master target." in result["msg"]), result["msg"]
        assert "run the failover again instead" in result["msg"]
        assert result.get("changed") is False
        assert watch.mutations() == NO_MUTATIONS
        assert vcenter(lab) == before
