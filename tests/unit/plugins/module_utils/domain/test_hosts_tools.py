# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 14, items 5, 7 and 8 in pure Python: the per-VM verification (domain.verification, the commit gate, the
run's options), the one rule of which host can run a VM (domain.hosts, used by preflight's advice and placement),
and the readiness rules mt_powered_on, mt_heartbeat and alternate_datastore_space."""

import copy

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate as gate
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import (
    hosts,
    options,
    placement,
    readiness,
    rules,
    verification,
)
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.domain.test_readiness import (
    found,
    host,
    mt_vm,
    run,
    site,
    vm_of,
)

GB = 1024 ** 3


# -- domain.verification ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, vm, mode", [
    (None, "db01", "tools"),
    ("tools", "db01", "tools"),
    ("power", "db01", "power_only"),           # the commit module's former name
    ("power_only", "db01", "power_only"),
    ({"default": "tools", "per_vm": {"db01": "power_only", "app01": "probe"}}, "db01", "power_only"),
    ({"default": "tools", "per_vm": {"db01": "power_only", "app01": "probe"}}, "app01", "probe"),
    ({"default": "tools", "per_vm": {"db01": "power_only", "app01": "probe"}}, "web01", "tools"),
    ({"per_vm": {"db01": "power_only"}}, "web01", "tools"),
    ({"default": "power_only"}, "web01", "power_only"),
])
def test_the_mode_of_each_vm(value, vm, mode):
    assert verification.mode_of(value, vm) == mode


def messages(problems):
    return [p["message"] for p in problems]


def test_the_issue_example_is_valid_with_a_probe_for_app01():
    value = {"default": "tools", "per_vm": {"db01": "power_only", "app01": "probe"}}
    assert verification.check("verification", value, ["db01", "app01"], {"app01"}) == []


def test_probe_without_a_probe_naming_the_vm_is_refused_at_the_start():
    value = {"default": "tools", "per_vm": {"db01": "power_only", "app01": "probe"}}
    assert messages(verification.check("verification", value, ["db01", "app01"], {"db01"})) == [
        "verification.per_vm.app01: is probe for VM app01, but no health probe names it: the probes are then the only "
        "proof that its guest came up (got 'probe'); add a health probe with vm: app01 (health_checks.tcp or http), "
        "or choose tools or power_only for it."]
    # probe for every VM: each VM of the run needs its own probe
    assert [p["option"] for p in verification.check("verification", "probe", ["db01", "app01"], {"app01"})] == [
        "verification"]
    # a recovery plan names no VM: at least one probe must name one
    assert len(verification.check("verification", "probe", None, set())) == 1
    assert verification.check("verification", "probe", None, {"app01"}) == []


@pytest.mark.parametrize("value, fragment", [
    ("guest", "verification: must be one of tools, power_only, probe"),
    (["tools"], "verification: must be a mode or a dictionary"),
    ({"defualt": "tools"}, "verification.defualt: is not a verification key"),
    ({"default": "fast"}, "verification.default: must be one of tools, power_only, probe"),
    ({"per_vm": ["db01"]}, "verification.per_vm: must be a dictionary keyed by VM name"),
    ({"per_vm": {"db01": "maybe"}}, "verification.per_vm.db01: must be one of"),
    ({"per_vm": {"db02": "power_only"}}, "verification.per_vm.db02: names a VM that is not in this run"),
])
def test_each_bad_verification_is_refused(value, fragment):
    found_problems = messages(verification.check("verification", value, ["db01"], set()))
    assert len(found_problems) == 1 and found_problems[0].startswith(fragment), found_problems


def test_the_run_options_check_the_verification_with_the_probes():
    run_options = {"vms": ["db01", "app01"], "verification": {"per_vm": {"app01": "probe"}}, "health_checks": {}}
    assert [p["option"] for p in options.check_run(run_options, "failback_")] == ["failback_verification.per_vm.app01"]
    run_options["health_checks"] = {"tcp": [{"host": "app01.example.com", "port": 443, "vm": "app01"}]}
    assert options.check_run(run_options, "failback_") == []
    assert options.OPTIONS["verification"].default == "tools"


def test_tools_not_installed_is_known_at_once():
    assert verification.tools_never_run("toolsNotInstalled")
    assert not verification.tools_never_run("toolsNotRunning") and not verification.tools_never_run(None)


# -- the commit gate, per VM -----------------------------------------------------------------------

PROTECTED = [{"id": "d0", "name": "Disk0", "capacity_bytes": 40 * GB, "uuid": None}]


def onprem(tools="guestToolsNotRunning"):
    return {"found": True, "power_state": "poweredOn", "tools_running_status": tools,
            "disks": [{"file": "[vmfs-01] db01/db01.vmdk", "uuid": None, "capacity_bytes": 40 * GB}], "known": [],
            "elsewhere": [], "recorded": "manifest"}


def test_the_gate_applies_each_vms_own_mode():
    value = {"default": "tools", "per_vm": {"db01": "power_only", "app01": "probe"}}
    db01 = gate.decide("db01", PROTECTED, onprem(), value, probes=[])
    assert db01["commit"] is True and db01["verification"] == "power_only"
    web01 = gate.decide("web01", PROTECTED, onprem(), value, probes=[])
    assert [r["rule"] for r in web01["refusals"]] == [gate.RULE_TOOLS]
    assert "give it verification power_only or probe" in web01["refusals"][0]["message"]
    answered = [{"label": "tcp app01:443", "ok": True, "fact": "connected"}]
    assert gate.decide("app01", PROTECTED, onprem(), value, probes=answered)["commit"] is True
    failed = [{"label": "tcp app01:443", "ok": False, "fact": "refused"}]
    assert [r["rule"] for r in gate.decide("app01", PROTECTED, onprem(), value, probes=failed)["refusals"]] == [
        gate.RULE_PROBES]
    # a probe VM without any probe is never committed: nothing proves its guest came up
    none = gate.decide("app01", PROTECTED, onprem(), value, probes=[])
    assert none["commit"] is False and [r["rule"] for r in none["refusals"]] == [gate.RULE_PROBES]


def test_the_commit_options_refuse_a_probe_vm_without_its_probe_and_keep_power():
    _probes, problems = gate.validate_options({}, verification={"per_vm": {"app01": "probe"}}, vms=["app01"])
    assert [p["option"] for p in problems] == ["verification.per_vm.app01"]
    _probes, problems = gate.validate_options({}, verification="power")
    assert problems == []


# -- domain.hosts ----------------------------------------------------------------------------------

VM = {"name": "app01", "memory_mb": 16384, "cluster": "Cluster1", "datastores": ["vmfs-01", "vmfs-02"],
      "networks": ["Prod-VLAN10"]}


def offer(name, **changes):
    result = {"name": name, "cluster": "Cluster1", "connection_state": "connected", "maintenance_mode": False,
              "memory_free_mb": 100000, "datastores": ["vmfs-01", "vmfs-02"], "networks": ["Prod-VLAN10", "VM Network"]}
    result.update(changes)
    return result


@pytest.mark.parametrize("changes, reason", [
    ({}, None),
    ({"connection_state": "disconnected"}, "it is disconnected"),
    ({"maintenance_mode": True}, "it is in maintenance mode"),
    ({"cluster": "Cluster2"}, "it is not in cluster Cluster1"),
    ({"memory_free_mb": 16383}, "it has 16383 MB free of the 16384 MB the VM needs"),
    ({"memory_free_mb": None}, "it has unknown MB free of the 16384 MB the VM needs"),
    # the .vmx directory's datastore counts as much as a disk's
    ({"datastores": ["vmfs-01"]}, "it does not mount datastore vmfs-02"),
    ({"networks": ["VM Network"]}, "it does not have network Prod-VLAN10"),
])
def test_each_condition_of_the_one_host_rule(changes, reason):
    assert hosts.reasons(VM, offer("esx02", **changes)) == ([reason] if reason else [])


def test_exactly_the_memory_needed_is_enough_and_a_vm_in_no_cluster_has_no_host():
    assert hosts.can_run(VM, offer("esx02", memory_free_mb=16384))
    assert hosts.reasons(dict(VM, cluster=None), offer("esx02", cluster=None)) == [
        "the VM's host is in no cluster, so no host shares one with it"]
    assert hosts.can_run(dict(VM, cluster=None), offer("esx02", cluster=None), same_cluster=False)


def test_the_roomiest_host_that_can_run_the_vm_is_chosen_and_the_others_explained():
    candidates = [offer("esx01", memory_free_mb=8192), offer("esx02", memory_free_mb=50000),
                  offer("esx03", memory_free_mb=200000, networks=["VM Network"]),
                  offer("esx04", memory_free_mb=300000, datastores=["vmfs-01"])]
    chosen, rejected = hosts.choose(VM, candidates, exclude={"esx01"})
    assert chosen["name"] == "esx02"
    assert hosts.explain(rejected) == ("esx03 (it does not have network Prod-VLAN10); "
                                       "esx04 (it does not mount datastore vmfs-02)")
    # network ids are shown by name
    assert hosts.reasons(dict(VM, networks=["network-7"]), offer("esx02", networks=[]), {"network-7": "Prod-VLAN10"}) == [
        "it does not have network Prod-VLAN10"]


# -- preflight's advice uses the one rule ------------------------------------------------------------

def test_host_memory_does_not_advise_a_host_without_the_vms_network_or_vmx_datastore():
    ctx = site()
    ctx["hosts"]["esx01"]["memory_free_mb"] = 100
    ctx["hosts"]["esx01"]["networks"] = ["Prod-VLAN10"]
    ctx["hosts"]["esx02"]["networks"] = ["VM Network"]           # lacks app01's network
    ctx["hosts"]["esx03"] = dict(host("esx03", free=200000, datastores=("vmfs-01",)), networks=["Prod-VLAN10"])
    app01 = vm_of(ctx, "app01")["onprem"]
    app01.update(networks=["Prod-VLAN10"], file_datastores=["vmfs-01", "vmfs-02"])  # its .vmx is on vmfs-02
    result = run(ctx)
    remedy = next(f["remedy"] for f in result["findings"] if f["rule"] == "host_memory" and f["vm"] == "app01")
    assert remedy == ("Free memory on esx01 or add memory to it: no other host can run app01 (esx02 (it does not have "
                      "network Prod-VLAN10); esx03 (it does not mount datastore vmfs-02)).")
    ctx["hosts"]["esx03"]["datastores"].append({"name": "vmfs-02", "type": "VMFS"})
    remedy = next(f["remedy"] for f in run(ctx)["findings"] if f["rule"] == "host_memory" and f["vm"] == "app01")
    assert remedy.startswith("vMotion app01 to host esx03 (200000 MB free")


# -- master target powered on, heartbeat fresh -------------------------------------------------------

def test_a_powered_off_master_target_is_a_blocker():
    ctx = site()
    ctx["master_targets"]["mt-win01"]["vm"] = mt_vm("mt-win01", host("esx01"), power_state="poweredOff")
    result = run(ctx)
    assert found(result, "mt_powered_on") == ["app01"] and found(result, "mt_heartbeat") == []
    assert "Master target mt-win01 is poweredOff in vSphere" in next(
        f["message"] for f in result["findings"] if f["rule"] == "mt_powered_on")


@pytest.mark.parametrize("age, blocked", [(900, False), (901, True), (None, True), (5 * 3600, True)])
def test_master_target_heartbeat_at_the_limit_passes_one_second_over_fails(age, blocked):
    ctx = site()  # heartbeat_max_age_seconds: 900
    ctx["master_targets"]["mt-lin01"]["asr"]["heartbeat_age_seconds"] = age
    assert found(run(ctx), "mt_heartbeat") == (["web01"] if blocked else [])


def test_placement_skips_a_master_target_that_is_off_or_silent_and_says_why():
    mts = [{"name": "mt-win01", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 2,
            "unusable": "Master target mt-win01 is poweredOff in vSphere: it cannot receive or hand back disks."},
           {"name": "mt-win02", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 50}]
    vm = {"name": "app01", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 2, "group": None}
    assert placement.place([vm], mts) == ({"app01": "mt-win02"}, [])
    mts[1]["unusable"] = rules.master_target_running("mt-win02", "poweredOn", 18000, 1800).message
    choice, problems = placement.place([vm], mts)
    assert choice == {} and len(problems) == 1
    assert "mt-win01 Windows, 2/60 disks, reaches vmfs-01, skipped: Master target mt-win01 is poweredOff" in problems[0]
    assert "skipped: Master target mt-win02 last sent a heartbeat to Site Recovery 18000 s ago" in problems[0]


def test_placement_at_an_alternate_location_needs_a_host_that_can_run_the_new_vms():
    esx = {"name": "esx01", "connection_state": "connected", "maintenance_mode": False, "memory_free_mb": 4096,
           "datastores": ["vmfs-01"]}
    mts = [{"name": "mt-win01", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 2, "host": esx}]
    vm = {"name": "app01", "os_type": "Windows", "datastores": ["vmfs-01"], "disk_count": 2, "group": None,
          "alternate": True, "memory_mb": 8192}
    choice, problems = placement.place([vm], mts)
    assert choice == {} and "its ESXi host esx01 cannot run them: it has 4096 MB free of the 8192 MB" in problems[0]
    assert placement.place([dict(vm, alternate=False)], mts)[0] == {"app01": "mt-win01"}  # original: disks only
    esx["memory_free_mb"] = 8192
    assert placement.place([vm], mts)[0] == {"app01": "mt-win01"}


# -- alternate datastore space -----------------------------------------------------------------------

def alternate(ctx, free_gb, *capacities_gb):
    ctx["location"], ctx["datastore"] = "alternate", "vmfs-01"
    ctx["datastores"]["vmfs-01"].update(free_gb=free_gb)
    for entry, capacities in zip(ctx["vms"], capacities_gb, strict=True):
        entry["item"]["disk_capacities_bytes"] = [c * GB for c in capacities]
    return ctx


def test_a_120_gb_vm_onto_a_datastore_with_50_gb_free_is_refused():
    ctx = alternate(site(), 50, [40, 80], [])
    result = run(ctx)
    assert found(result, "alternate_datastore_space") == ["app01"]
    finding = next(f for f in result["findings"] if f["rule"] == "alternate_datastore_space")
    assert finding["message"] == ("VM app01: datastore vmfs-01 has 50.0 GB free; its disks need 120.0 GB (the capacities "
                                  "Site Recovery reports, each counted in full).")


def test_datastore_space_counts_the_vms_before_and_the_exact_fit_passes():
    assert found(run(alternate(site(), 120, [40, 80], [])), "alternate_datastore_space") == []
    ctx = alternate(site(), 150, [40, 80], [40])   # 120 fits, 120 + 40 does not
    assert found(run(ctx), "alternate_datastore_space") == ["web01"]
    original = copy.deepcopy(ctx)
    original["location"] = "original"
    assert found(run(original), "alternate_datastore_space") == []


def test_the_new_rules_are_registered_and_classic_only_where_they_concern_a_master_target():
    assert {"mt_powered_on", "mt_heartbeat", "alternate_datastore_space"} <= set(readiness.RULE_IDS)
    assert {"mt_powered_on", "mt_heartbeat"} <= set(readiness.CLASSIC_ONLY)
