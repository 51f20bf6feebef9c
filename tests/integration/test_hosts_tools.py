# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 14, items 5, 7 and 8 on the lab: the 8038 remedy moves a VM only to a host that can run it (every datastore
of every file, every network), a guest without VMware Tools is answered at once and verified otherwise, and the
preflight refuses a master target that is off or silent and an alternate datastore without room.

End state is read from outside: vCenter through the property collector (tests/lab/effects.Site), the mutating SOAP
calls counted by the lab's launcher (tests/lab/calls.CallWatch); the preflight's findings from the readiness module.
"""

from conftest import run_check_mode, run_module, run_playbook, watch_calls
from pyVmomi import vim

from tests.lab.calls import NO_MUTATIONS
from tests.lab.effects import Site

# onprem_vm acts where Site Recovery failed the VM back: app01, db01 and web01 at failed_back, powered off as the
# failover left them (app01 and db01 could not power on at esx01: 8038; web01 was not started)
FAILED_BACK_OFF = {
    "asr": {"items": [{"name": "app01", "stage": "failed_back", "master_target": "mt-win01"},
                      {"name": "db01", "stage": "failed_back", "master_target": "mt-win01"},
                      {"name": "web01", "stage": "failed_back", "master_target": "mt-lin01"}]},
    "vcenter": {"datacenters": [{"name": "DC1", "vms": [{"name": name, "power_state": "poweredOff"}
                                                        for name in ("app01", "db01", "web01")]}]}}


def hosts_tools(full_lab):
    """hosts-tools.yml with app01, db01 and web01 failed back and powered off."""
    return full_lab("hosts-tools.yml", FAILED_BACK_OFF)


def vcenter(lab):
    """``{vm name: (power state, host name)}`` read through the property collector."""
    site = Site("vcenter", lab.simulators["vcenter"].info)
    try:
        hosts = {row["obj"]._moId: row["name"] for row in site.read(vim.HostSystem, ["name"])}
        return {row["name"]: (str(row["runtime.powerState"]), hosts.get(row["runtime.host"]._moId))
                for row in site.read(vim.VirtualMachine, ["name", "runtime.powerState", "runtime.host"])}
    finally:
        site.close()


def refused_unchanged(lab, args, *phrases):
    """Run onprem_vm, expect a refusal with ``phrases``, and prove no mutating call reached the lab."""
    before = vcenter(lab)
    watch = watch_calls(lab)
    rc, result = run_module("onprem_vm", args, env=lab.env())
    assert rc != 0, result
    for phrase in phrases:
        assert phrase in result["msg"], result["msg"]
    assert watch.mutations() == NO_MUTATIONS
    assert result.get("changed") is False
    assert vcenter(lab) == before
    return result


# -- item 7: the 8038 remedy --------------------------------------------------------------------------

def test_the_8038_remedy_moves_the_vm_to_a_host_that_has_its_network_not_the_one_with_the_most_memory(full_lab):
    lab = hosts_tools(full_lab)
    args = {"vms": [{"name": "app01"}], "memory_remediation": "vmotion"}
    assert vcenter(lab)["app01"] == ("poweredOff", "esx01.lab")

    rc, check = run_check_mode("onprem_vm", args, lab)
    assert rc == 0 and check["changed"] is True, check
    assert check["vms"][0]["vmotion_to"] == "esx03.lab"   # esx02 has more memory free but not Prod-VLAN10
    assert vcenter(lab)["app01"] == ("poweredOff", "esx01.lab")

    rc, applied = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and applied["changed"] is True, applied
    assert vcenter(lab)["app01"] == ("poweredOn", "esx03.lab")

    watch = watch_calls(lab)
    rc, again = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and again["changed"] is False, again
    assert watch.mutations() == NO_MUTATIONS


def test_a_vm_whose_vmx_datastore_no_other_host_mounts_is_refused_naming_each_host(full_lab):
    lab = hosts_tools(full_lab)
    refused_unchanged(lab, {"vms": [{"name": "db01"}], "memory_remediation": "vmotion"},
                      "VM db01 needs 32768 MB but ESXi host esx01.lab has 8192 MB free, and no other host can run it",
                      "esx02.lab (it does not mount datastore vmfs-02)",
                      "esx03.lab (it does not mount datastore vmfs-02, it does not have network Prod-VLAN20)",
                      "8038")
    assert vcenter(lab)["db01"] == ("poweredOff", "esx01.lab")


# -- item 5: VMware Tools -----------------------------------------------------------------------------

def test_a_guest_without_tools_is_refused_at_once_unless_verified_by_power(full_lab):
    lab = hosts_tools(full_lab)
    # refused before the power-on, not after waiting the whole tools_timeout
    refused_unchanged(lab, {"vms": [{"name": "web01"}], "tools_timeout": 600},
                      "Refusing to bring the VMs up; nothing was changed: VM web01: vCenter says VMware Tools are not "
                      "installed in it (guest.toolsStatus toolsNotInstalled), so its verification tools can never pass")

    args = {"vms": [{"name": "web01"}], "verification": {"default": "tools", "per_vm": {"web01": "power_only"}}}
    rc, check = run_check_mode("onprem_vm", args, lab)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["powered_on"] is True, check
    assert vcenter(lab)["web01"] == ("poweredOff", "esx03.lab")

    rc, applied = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and applied["changed"] is True, applied
    assert vcenter(lab)["web01"] == ("poweredOn", "esx03.lab")
    assert applied["vms"][0]["tools_status"] == "toolsNotInstalled"

    rc, again = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and again["changed"] is False, again


def test_a_bad_verification_is_refused_before_anything_is_read(full_lab):
    lab = hosts_tools(full_lab)
    watch = watch_calls(lab)
    rc, result = run_module("onprem_vm", {"vms": [{"name": "web01"}], "verification": {"per_vm": {"web01": "ping"}}},
                            env=lab.env())
    assert rc != 0 and "verification.per_vm.web01: must be one of tools, power_only, probe" in result["msg"], result
    calls = watch.since()
    assert not any(calls["soap"].values()) and not calls["arm"], calls  # neither vCenter nor Site Recovery was read


# -- item 8: readiness --------------------------------------------------------------------------------

def findings(result, rule_id):
    return sorted((f["vm"], f["message"]) for f in result["findings"] if f["rule"] == rule_id)


def readiness(lab, **args):
    rc, result = run_module("readiness", args, env=lab.env())
    assert rc == 0 and result["changed"] is False, result
    return result


def test_a_powered_off_or_silent_master_target_is_a_blocker_and_placement_skips_it(full_lab):
    lab = full_lab("mt-down.yml")
    off = readiness(lab, vms=["app01"], location="original", master_target="mt-win01")
    assert [vm for vm, _m in findings(off, "mt_powered_on")] == ["app01"] and findings(off, "mt_heartbeat") == []
    assert "Master target mt-win01 is poweredOff in vSphere" in findings(off, "mt_powered_on")[0][1]
    silent = readiness(lab, vms=["web01"], location="original", master_target="mt-lin01")
    assert [vm for vm, _m in findings(silent, "mt_heartbeat")] == ["web01"] and findings(silent, "mt_powered_on") == []
    assert "Master target mt-lin01 last sent a heartbeat to Site Recovery" in findings(silent, "mt_heartbeat")[0][1]

    placed = readiness(lab, vms=["app01", "web01"], location="original")
    assert {vm: p["master_target"] for vm, p in placed["placement"].items()} == {"app01": None, "web01": None}
    messages = dict(findings(placed, "master_target_available"))
    assert "skipped: Master target mt-win01 is poweredOff in vSphere" in messages["app01"]
    assert "skipped: Master target mt-lin01 last sent a heartbeat to Site Recovery" in messages["web01"]


def test_a_120_gb_vm_onto_a_datastore_with_50_gb_free_is_refused(full_lab):
    lab = full_lab("datastore-full.yml")
    full = readiness(lab, vms=["web02"], location="alternate", datastore="vmfs-02")
    assert findings(full, "alternate_datastore_space") == [
        ("web02", "VM web02: datastore vmfs-02 has 50.0 GB free; its disks need 120.0 GB (the capacities Site Recovery "
                  "reports, each counted in full).")]
    roomy = readiness(lab, vms=["web02"], location="alternate", datastore="vmfs-01")
    assert findings(roomy, "alternate_datastore_space") == []


def test_preflight_advises_only_a_host_that_can_run_the_vm(full_lab):
    lab = full_lab("hosts-tools.yml")
    result = readiness(lab, vms=["app01", "db01"], location="original")
    remedies = {f["vm"]: f["remedy"] for f in result["findings"] if f["rule"] == "host_memory"}
    # esx02 has the most memory free but not app01's port group: the advice is esx03, as onprem_vm would move it
    assert remedies["app01"].startswith("vMotion app01 to host esx03.lab (")
    assert remedies["db01"].startswith("Free memory on esx01.lab or add memory to it: no other host can run db01 (")
    assert "esx02.lab (it does not mount datastore vmfs-02)" in remedies["db01"]
    assert "esx03.lab (it does not mount datastore vmfs-02, it does not have network Prod-VLAN20)" in remedies["db01"]


def test_the_commit_refuses_a_probe_vm_without_its_probe_before_reading_anything(full_lab):
    lab = full_lab("default.yml")
    watch = watch_calls(lab)
    verification = {"default": "tools", "per_vm": {"db01": "power_only", "app01": "probe"}}
    rc, result = run_module("commit", {"vms": ["app01", "db01"], "verification": verification}, env=lab.env())
    assert rc != 0 and result.get("changed") is False, result
    assert "verification.per_vm.app01: is probe for VM app01, but no health probe names it" in result["msg"]
    assert watch.mutations() == NO_MUTATIONS and not watch.since()["arm"]


def test_a_guest_without_tools_stops_the_run_at_once_then_fails_back_and_commits_verified_by_power(full_lab, tmp_path):
    lab = full_lab("hosts-tools.yml")
    run_vars = {"original_location_vms": ["web01"], "original_location_poll_interval": 0.5,
                "original_location_recovery_point_delay": 1, "original_location_preflight": False,
                "original_location_reprotect_to_azure": False, "original_location_tools_timeout": 600,
                "original_location_report_dir": str(tmp_path / "reports")}
    rc, out = run_playbook("original_location", run_vars, lab.env())
    assert rc != 0 and "vCenter says VMware Tools are not installed in it" in out, out[-4000:]
    assert lab.azure.state()["items"]["web01"]["stage"] == "failed_back"   # not committed: the Azure VM is kept

    run_vars["original_location_verification"] = {"default": "tools", "per_vm": {"web01": "power_only"}}
    rc, out = run_playbook("original_location", run_vars, lab.env())
    assert rc == 0, out[-4000:]
    assert lab.azure.state()["items"]["web01"]["stage"] == "failback_committed"
    assert vcenter(lab)["web01"][0] == "poweredOn"


def test_the_preflight_stops_a_guest_without_tools_before_any_change_unless_verified_by_power(full_lab, tmp_path):
    """New-user try of issue 14: vCenter says toolsNotInstalled before the run starts, so the preflight says it (rule
    onprem_tools) instead of the run failing web01 over and stopping after; nothing is written, not even the lock."""
    lab = full_lab("hosts-tools.yml")
    run_vars = {"original_location_vms": ["web01"], "original_location_poll_interval": 0.5,
                "original_location_recovery_point_delay": 1, "original_location_preflight": True,
                "original_location_reprotect_to_azure": False, "original_location_commit": False,
                "original_location_report_dir": str(tmp_path / "reports")}
    before = lab.azure.state()["items"]["web01"]["stage"]
    watch = watch_calls(lab)
    rc, out = run_playbook("original_location", run_vars, lab.env())
    assert rc != 0 and "[onprem_tools] web01: vCenter says VMware Tools are not installed" in out, out[-4000:]
    assert watch.mutations() == NO_MUTATIONS  # no ARM write (not even the run lock), no vSphere change
    assert lab.azure.state()["items"]["web01"]["stage"] == before
    run_vars["original_location_verification"] = {"per_vm": {"web01": "power_only"}}
    rc, out = run_playbook("original_location", run_vars, lab.env())
    assert rc == 0, out[-4000:]
    assert lab.azure.state()["items"]["web01"]["stage"] == "failed_back"


def test_the_preflight_lets_the_run_move_a_vm_short_of_memory_to_a_host_that_can_run_it(full_lab, tmp_path):
    """memory_remediation: vmotion (the run's default) and a host that can run app01: the preflight warns, the run
    vMotions app01 there and powers it on (it blocked the run before: new-user try of issue 14)."""
    lab = full_lab("memory-short.yml")
    run_vars = {"original_location_vms": ["app01"], "original_location_poll_interval": 0.5,
                "original_location_recovery_point_delay": 1, "original_location_preflight": True,
                "original_location_reprotect_to_azure": False, "original_location_commit": False,
                "original_location_report_dir": str(tmp_path / "reports")}
    rc, out = run_playbook("original_location", run_vars, lab.env())
    assert rc == 0, out[-4000:]
    assert "the run will vMotion it to host" in out
    app01 = lab.effects.vm("app01")
    assert app01["power_state"] == "poweredOn" and lab.effects.host_of("app01")["name"] != "esx01.lab"
