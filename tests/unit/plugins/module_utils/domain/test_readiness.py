# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every readiness rule over plain dicts: a ready site, then one change per rule, edges included."""

import copy
import os
import re

import pytest

# readiness_modern is imported for its side effect: it registers the modernized rules in readiness.RULES
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import (  # pylint: disable=unused-import
    readiness,
    readiness_modern,  # noqa: F401
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
# the modernized flow's rules are registered as in the module (readiness_context imports them): a classic site
# must still be checked against the classic rules only


def documented_rule_ids():
    """The rule ids of docs/readiness.md's table (first column), read independently of the code."""
    with open(os.path.join(ROOT, "docs", "readiness.md")) as handle:
        return re.findall(r"^\| `([a-z0-9_]+)` \|", handle.read(), flags=re.MULTILINE)


def host(name, cluster="Cluster1", free=100000, datastores=("vmfs-01", "vmfs-02"), vms=(), state="connected"):
    return {"name": name, "cluster": cluster, "connection_state": state, "maintenance_mode": False,
            "memory_free_mb": free, "datastores": [{"name": d, "type": "VMFS"} for d in datastores], "vms": list(vms)}


def mt_vm(name, host_row, **changes):
    facts = {"name": name, "host": host_row, "disks": [{"key": 1}, {"key": 2}], "snapshot_count": 0,
             "scsi_controllers": [{"key": 1000, "bus": 0, "type": "lsilogic"}], "has_lsi_logic_controller": True,
             "only_lsi_logic_controllers": True, "disk_enable_uuid": True, "tools_status": "toolsOk",
             "tools_installed": True, "os_family": "windows"}
    facts.update(changes)
    return facts


def item(name, os_type="Windows", stage="running_in_azure", disks=2, group=None, physical=False, datastores=("vmfs-01",)):
    return {"name": name, "item_name": name + "-guid", "provider": "InMageAzureV2", "failback_stage": stage,
            "os_type": os_type, "discovery_type": "Physical" if physical else "vCenter", "disk_count": disks,
            "replication_group": group, "health_errors": [], "validation_errors": [], "current_scenario": "None",
            "os_name": "Windows Server 2019", "memory_mb": 8192, "fabric_name": "fab",
            "onprem": {"infrastructure_vm_id": "uuid-" + name, "datastores": list(datastores), "master_target_id": None}}


def onprem(name, host_row, memory=16384, disks=None):
    return {"name": name, "host": host_row, "memory_mb": memory, "power_state": "poweredOff", "os_family": "windows",
            "datastores": ["vmfs-01"], "disks": disks or [{"file": "[vmfs-01] %s/%s.vmdk" % (name, name), "backing": "flat",
                                                           "datastore": "vmfs-01", "datastore_type": "VMFS"}]}


def vm_entry(name, mt="mt-win01", **kwargs):
    esx01 = host("esx01")
    return {"name": name, "missing": None, "item": item(name, **kwargs), "onprem": onprem(name, esx01),
            "azure_vm": {"name": name, "exists": True, "moved": False, "resource_group": "rg", "recorded_resource_group": "rg",
                         "power_state": "running"},
            "same_name_uuid": None, "points": {"has_point": False, "latest_app_consistent_age_minutes": None},
            "master_target": mt, "master_target_source": "placement", "placement_problem": None}


def site():
    """A ready site: one CS, one vCenter, two hosts, two master targets, app01 (Windows) and web01 (Linux)."""
    esx01, esx02 = host("esx01", vms=["mt-win01", "app01"]), host("esx02", vms=["mt-lin01"])
    web01 = vm_entry("web01", mt="mt-lin01", os_type="Linux")
    web01["onprem"].update(os_family="linux", host=esx02)
    return {
        "location": "original", "datastore": None, "recovery_point": "latest_processed",
        "app_consistent_max_age_minutes": None, "heartbeat_max_age_seconds": 900, "plan": None,
        "vsphere": {"connected": True, "error": None, "hostname": "vcenter01.lab", "is_vcenter": True},
        "configuration_servers": [{"name": "cs01", "fabric_name": "fab", "service_status": "Running",
                                   "heartbeat_age_seconds": 30, "version": "9.62.7172.1", "health": "Normal",
                                   "health_errors": []}],
        "vcenters": [{"name": "vcenter01.lab", "ip": "10.0.0.20", "discovery_status": "Completed", "health_errors": [],
                      "heartbeat_age_seconds": 29}],
        "hosts": {"esx01": esx01, "esx02": esx02},
        "datastores": {"vmfs-01": {"name": "vmfs-01", "type": "VMFS"}, "vsan-01": {"name": "vsan-01", "type": "vsan"},
                       "nfs-01": {"name": "nfs-01", "type": "NFS"}},
        "master_targets": {
            "mt-win01": {"name": "mt-win01", "vm": mt_vm("mt-win01", esx01),
                         "asr": {"os_type": "Windows", "version": "9.62.7172.1", "disk_count": 2, "validation_errors": [],
                                 "heartbeat_age_seconds": 540,
                                 "retention_volumes": [{"name": "R:", "capacity_gb": 500, "free_gb": 420,
                                                        "threshold_percentage": 80}]}},
            "mt-lin01": {"name": "mt-lin01", "vm": mt_vm("mt-lin01", esx02, os_family="linux"),
                         "asr": {"os_type": "Linux", "version": "9.62.7172.1", "disk_count": 2, "validation_errors": [],
                                 "heartbeat_age_seconds": 540,
                                 "retention_volumes": [{"name": "/mnt/retention", "capacity_gb": 500, "free_gb": 450,
                                                        "threshold_percentage": 80}]}},
        },
        "vms": [vm_entry("app01"), web01],
    }


def run(ctx):
    return readiness.evaluate(ctx)


def found(result, rule_id, severity=readiness.BLOCKER):
    return sorted((f["vm"] for f in result["findings"] if f["rule"] == rule_id and f["severity"] == severity), key=str)


def blocker_rules(result):
    return sorted({f["rule"] for f in result["findings"] if f["severity"] == readiness.BLOCKER})


def message(result, rule_id):
    return next(f["message"] for f in result["findings"] if f["rule"] == rule_id)


def vm_of(ctx, name):
    return next(v for v in ctx["vms"] if v["name"] == name)


# ---------------------------------------------------------------------- the whole
def test_a_ready_site_has_no_blocker_only_the_recovery_point_warning():
    result = run(site())
    assert blocker_rules(result) == []
    assert found(result, "recovery_point", readiness.WARNING) == ["app01", "web01"]
    assert [v["ready"] for v in result["verdicts"]] == [True, True]
    # a classic site is checked against every rule docs/readiness.md lists (33 rows), not the modernized ones
    assert result["summary"] == {"vms": 2, "ready": 2, "not_ready": 0, "blockers": 0, "warnings": 2,
                                 "rules": len(documented_rule_ids())}


def test_rule_ids_are_unique_and_are_the_documented_ones():
    documented = documented_rule_ids()
    assert len(documented) == 47 and len(set(documented)) == len(documented)  # the table of docs/readiness.md
    assert len(set(readiness.RULE_IDS)) == len(readiness.RULE_IDS)
    assert sorted(readiness.RULE_IDS) == sorted(documented)


def test_a_site_blocker_makes_every_vm_not_ready():
    ctx = site()
    ctx["configuration_servers"][0]["service_status"] = "Stopped"
    result = run(ctx)
    assert found(result, "cs_running") == [None]
    assert not any(v["ready"] for v in result["verdicts"])
    assert result["verdicts"][0]["blockers"][0].startswith("cs_running: Configuration server cs01")


# ---------------------------------------------------------------------- configuration server, vCenter
def test_cs_running():
    ctx = site()
    ctx["configuration_servers"][0].update(health="Critical", health_errors=[{"code": "ConfigurationServerNotRunning"}])
    assert found(run(ctx), "cs_running") == [None]
    ctx["configuration_servers"] = []
    assert "no configuration server" in run(ctx)["findings"][0]["message"]


@pytest.mark.parametrize(("age", "blocked"), [(900, False), (901, True), (None, True)])
def test_cs_heartbeat_at_the_threshold_passes_one_second_over_fails(age, blocked):
    ctx = site()
    ctx["configuration_servers"][0]["heartbeat_age_seconds"] = age
    assert found(run(ctx), "cs_heartbeat") == ([None] if blocked else [])


def test_cs_heartbeat_limit_is_configurable():
    ctx = site()
    ctx["heartbeat_max_age_seconds"] = 29
    assert found(run(ctx), "cs_heartbeat") == [None]


def test_vsphere_connected_skips_the_vsphere_rules():
    ctx = site()
    ctx["vsphere"] = {"connected": False, "error": "InvalidLogin", "hostname": "vcenter01.lab", "is_vcenter": None}
    vm_of(ctx, "app01")["master_target"] = "mt-win01"
    ctx["master_targets"]["mt-win01"]["vm"]["snapshot_count"] = 3
    result = run(ctx)
    assert found(result, "vsphere_connected") == [None] and "InvalidLogin" in result["findings"][0]["message"]
    assert found(result, "mt_snapshots") == []


@pytest.mark.parametrize("change", [{"discovery_status": "Failed"}, {"health_errors": [{"code": "VCenterNotConnected"}]}])
def test_vcenter_connected_as_asr_sees_it(change):
    ctx = site()
    ctx["vcenters"][0].update(change)
    assert found(run(ctx), "vcenter_connected") == [None]


def test_vcenter_connected_looks_at_the_connected_vcenter_when_asr_knows_it():
    ctx = site()
    ctx["vcenters"].append({"name": "other.lab", "ip": "10.9.9.9", "discovery_status": "Failed", "health_errors": []})
    assert found(run(ctx), "vcenter_connected") == []
    ctx["vsphere"]["hostname"] = "127.0.0.1"  # unknown name: every discovered vCenter counts
    assert found(run(ctx), "vcenter_connected") == [None]


# ---------------------------------------------------------------------- the item
def test_protection_enabled_and_nothing_else_for_a_missing_vm():
    ctx = site()
    ctx["vms"].append({"name": "web03", "missing": "VM web03 has no protected item in vault rg/v.", "item": None})
    result = run(ctx)
    assert found(result, "protection_enabled") == ["web03"]
    assert [f["rule"] for f in result["findings"] if f["vm"] == "web03"] == ["protection_enabled"]


def test_migration_not_completed():
    ctx = site()
    vm_of(ctx, "app01")["item"]["failback_stage"] = "migration_completed"
    result = run(ctx)
    assert found(result, "migration_not_completed") == ["app01"]
    assert [f["rule"] for f in result["findings"] if f["vm"] == "app01"] == ["migration_not_completed"]


@pytest.mark.parametrize(("stage", "severity"), [
    ("failed_over_to_azure", readiness.BLOCKER), ("unknown", readiness.BLOCKER),
    # protected_to_azure: nothing to fail back (never failed over, or reprotected back with its failover time cleared)
    ("protected_to_azure", readiness.WARNING),
    ("job_running", readiness.WARNING), ("failed_back", readiness.WARNING), ("reprotected_to_azure", readiness.WARNING)])
def test_failback_stage(stage, severity):
    ctx = site()
    vm_of(ctx, "app01")["item"]["failback_stage"] = stage
    assert found(run(ctx), "failback_stage", severity) == ["app01"]


@pytest.mark.parametrize("stage", ["running_in_azure", "replicating_to_onprem", "failover_failed"])
def test_failback_stage_fine(stage):
    ctx = site()
    vm_of(ctx, "app01")["item"]["failback_stage"] = stage
    assert found(run(ctx), "failback_stage") == found(run(ctx), "failback_stage", readiness.WARNING) == []


def test_target_is_vmware():
    ctx = site()
    vm_of(ctx, "app01")["item"]["provider"] = "HyperVReplicaAzure"
    result = run(ctx)
    assert found(result, "target_is_vmware") == ["app01"] and "Hyper-V" in message(result, "target_is_vmware")


def test_original_infrastructure_other_fabric():
    ctx = site()
    vm_of(ctx, "app01")["item"]["fabric_name"] = "new-cs-fabric"
    assert found(run(ctx), "original_infrastructure") == ["app01"]


def test_original_infrastructure_other_vcenter():
    ctx = site()
    ctx["vsphere"]["hostname"] = "esx-edge01.lab"
    assert found(run(ctx), "original_infrastructure") == []  # the VM and the master targets are there
    for mt in ctx["master_targets"].values():
        mt["vm"] = None
    vm_of(ctx, "app01")["onprem"] = None
    result = run(ctx)
    assert found(result, "original_infrastructure") == ["app01"]


@pytest.mark.parametrize("where", ["health_errors", "validation_errors"])
def test_vm_in_cs_database(where):
    ctx = site()
    vm_of(ctx, "web01")["item"][where] = [{"code": "VmNotInConfigurationServerDatabase"}]
    result = run(ctx)
    assert found(result, "vm_in_cs_database") == ["web01"] and "cs01" in message(result, "vm_in_cs_database")


@pytest.mark.parametrize(("azure_vm", "severity", "text"), [
    ({"name": "app01", "exists": False, "moved": False, "recorded_resource_group": "rg"}, readiness.BLOCKER, "deleted"),
    ({"name": "app01", "exists": True, "moved": True, "resource_group": "rg-moved", "recorded_resource_group": "rg"},
     readiness.BLOCKER, "rg-moved"),
    (None, readiness.BLOCKER, "names no Azure VM")])
def test_azure_vm_present(azure_vm, severity, text):
    ctx = site()
    vm_of(ctx, "app01")["azure_vm"] = azure_vm
    result = run(ctx)
    assert found(result, "azure_vm_present", severity) == ["app01"]
    assert text in next(f["message"] for f in result["findings"] if f["rule"] == "azure_vm_present")


def test_azure_vm_unnamed_after_reprotect_is_a_warning():
    ctx = site()
    entry = vm_of(ctx, "app01")
    entry["item"]["failback_stage"] = "replicating_to_onprem"
    entry["points"]["has_point"] = True
    entry["azure_vm"] = None
    assert found(run(ctx), "azure_vm_present", readiness.WARNING) == ["app01"]


def test_physical_alternate_only():
    ctx = site()
    entry = vm_of(ctx, "app01")
    entry["item"]["discovery_type"] = "Physical"
    entry["onprem"] = None
    assert found(run(ctx), "physical_alternate_only") == ["app01"]
    ctx.update(location="alternate", datastore="vmfs-01")
    assert found(run(ctx), "physical_alternate_only") == []


@pytest.mark.parametrize(("os_name", "physical", "blocked"), [
    ("Windows Server 2008 R2 SP1", True, True), ("Windows Server 2008 R2 Service Pack 1", True, True),
    ("Windows Server 2008 R2 SP1", False, False), ("Windows Server 2016", True, False)])
def test_physical_os_supported(os_name, physical, blocked):
    ctx = site()
    ctx.update(location="alternate", datastore="vmfs-01")
    entry = vm_of(ctx, "app01")
    entry["item"].update(os_name=os_name, discovery_type="Physical" if physical else "vCenter")
    assert found(run(ctx), "physical_os_supported") == (["app01"] if blocked else [])


# ---------------------------------------------------------------------- hosts
def test_standalone_host_discovered():
    ctx = site()
    ctx["vsphere"].update(is_vcenter=False, hostname="127.0.0.1")
    vm_of(ctx, "app01")["onprem"]["host"] = host("esx-edge01.lab")
    assert found(run(ctx), "standalone_host_discovered") == ["app01", "web01"]
    ctx["vcenters"].append({"name": "esx-edge01.lab", "ip": "10.0.0.30", "discovery_status": "Completed"})
    assert found(run(ctx), "standalone_host_discovered") == ["web01"]  # web01's host esx01 is not discovered


@pytest.mark.parametrize("change", [{"connection_state": "notResponding"}, {"maintenance_mode": True}])
def test_esx_host_connected(change):
    ctx = site()
    ctx["hosts"]["esx02"].update(change)  # mt-lin01's host
    result = run(ctx)
    assert found(result, "esx_host_connected") == ["web01"]
    assert "esx02" in message(result, "esx_host_connected")


# ---------------------------------------------------------------------- recovery points
def test_recovery_point_blocks_a_replicating_vm_without_one():
    ctx = site()
    ctx["plan"] = "rp-app"
    for entry in ctx["vms"]:
        entry["item"]["failback_stage"] = "replicating_to_onprem"
    vm_of(ctx, "app01")["points"]["has_point"] = True
    result = run(ctx)
    assert found(result, "recovery_point") == ["web01"]
    assert "recovery plan rp-app" in next(f["message"] for f in result["findings"] if f["rule"] == "recovery_point")


@pytest.mark.parametrize(("age", "limit", "blocked"), [(60.0, 60, False), (60.1, 60, True), (None, 60, True),
                                                       (500.0, None, False)])
def test_app_consistent_point_age_at_the_limit_passes(age, limit, blocked):
    ctx = site()
    ctx.update(recovery_point="latest_app_consistent", app_consistent_max_age_minutes=limit)
    entry = vm_of(ctx, "app01")
    entry["item"]["failback_stage"] = "replicating_to_onprem"
    entry["points"] = {"has_point": True, "latest_app_consistent_age_minutes": age}
    assert found(run(ctx), "app_consistent_point_age") == (["app01"] if blocked else [])


def test_app_consistent_point_age_only_when_asked():
    ctx = site()
    entry = vm_of(ctx, "app01")
    entry["item"]["failback_stage"] = "replicating_to_onprem"
    entry["points"] = {"has_point": True, "latest_app_consistent_age_minutes": None}
    assert found(run(ctx), "app_consistent_point_age") == []


# ---------------------------------------------------------------------- master target
def test_master_target_available():
    ctx = site()
    vm_of(ctx, "app01")["master_target"] = "mt-nope"
    assert found(run(ctx), "master_target_available") == ["app01"]
    ctx = site()
    vm_of(ctx, "app01").update(master_target=None, placement_problem="No master target can take VM app01: ...")
    assert found(run(ctx), "master_target_available") == ["app01"]
    ctx = site()
    ctx["master_targets"]["mt-win01"]["vm"] = None
    assert "not a VM of vSphere server" in message(run(ctx), "master_target_available")
    # new-user try of issue 14: a stale VM with the master target's name is named, not taken for a missing VM
    ctx["master_targets"]["mt-win01"]["ambiguous"] = ["vm-3 ([vmfs-01] mt-win01/mt-win01.vmx, poweredOn)",
                                                      "vm-9 (folder DC1/vm/old, poweredOff)"]
    text = message(run(ctx), "master_target_available")
    assert text.startswith("Master target mt-win01: 2 VMs of vSphere server ")
    assert "cannot be told from the others: vm-3 ([vmfs-01] mt-win01/mt-win01.vmx, poweredOn); vm-9 (" in text
    assert "not a VM of vSphere server" not in text


@pytest.mark.parametrize(("rule_id", "change", "severity"), [
    ("mt_snapshots", {"snapshot_count": 1}, readiness.BLOCKER),
    ("mt_controller", {"scsi_controllers": [{"type": "pvscsi"}], "has_lsi_logic_controller": False,
                       "only_lsi_logic_controllers": False}, readiness.BLOCKER),
    ("mt_controller", {"scsi_controllers": [{"type": "lsilogic"}, {"type": "pvscsi"}], "only_lsi_logic_controllers": False},
     readiness.WARNING),
    ("mt_enable_uuid", {"disk_enable_uuid": False}, readiness.BLOCKER),
    ("mt_tools", {"tools_installed": False, "tools_status": "toolsNotInstalled"}, readiness.BLOCKER),
])
def test_master_target_vm_rules(rule_id, change, severity):
    ctx = site()
    ctx["master_targets"]["mt-win01"]["vm"].update(change)
    result = run(ctx)
    assert found(result, rule_id, severity) == ["app01"]
    assert "mt-win01" in next(f["message"] for f in result["findings"] if f["rule"] == rule_id)


def test_mt_os():
    ctx = site()
    vm_of(ctx, "app01")["master_target"] = "mt-lin01"
    result = run(ctx)
    assert found(result, "mt_os") == ["app01"]
    assert "Windows but master target mt-lin01 runs Linux" in message(result, "mt_os")


@pytest.mark.parametrize(("version", "blocked"), [("9.62.7172.1", False), ("9.61.9999.9", False), ("9.62.7172.2", True),
                                                  ("9.63.0.0", True)])
def test_mt_version_not_newer_than_the_cs(version, blocked):
    ctx = site()
    ctx["master_targets"]["mt-win01"]["asr"]["version"] = version
    assert found(run(ctx), "mt_version") == (["app01"] if blocked else [])


@pytest.mark.parametrize(("base", "blocked"), [(58, False), (59, True)])
def test_mt_disk_limit_exactly_sixty_passes_sixty_one_fails(base, blocked):
    ctx = site()
    ctx["master_targets"]["mt-win01"]["asr"]["disk_count"] = base  # app01 brings 2
    assert found(run(ctx), "mt_disk_limit") == (["app01"] if blocked else [])


def test_mt_disk_limit_counts_the_vms_before_in_order_and_the_larger_count():
    ctx = site()
    ctx["master_targets"]["mt-win01"]["asr"]["disk_count"] = 55
    ctx["vms"].insert(1, vm_entry("db01", disks=3))  # 55 + 2 (app01) + 3 (db01) = 60
    assert found(run(ctx), "mt_disk_limit") == []
    ctx["vms"].insert(2, vm_entry("app02", disks=1))
    assert found(run(ctx), "mt_disk_limit") == ["app02"]  # after app01 and db01 (60), app02 makes 61
    ctx = site()
    ctx["master_targets"]["mt-win01"]["vm"]["disks"] = [{}] * 59  # vCenter sees more than ASR: that counts
    assert found(run(ctx), "mt_disk_limit") == ["app01"]


@pytest.mark.parametrize(("volumes", "errors", "blocked"), [
    ([{"name": "R:", "capacity_gb": 500, "free_gb": 101, "threshold_percentage": 80}], [], False),
    ([{"name": "R:", "capacity_gb": 500, "free_gb": 100, "threshold_percentage": 80}], [], True),  # 80% used
    ([{"name": "R:", "capacity_gb": 500, "free_gb": 0}], [], True),
    ([], [], True),
    ([{"name": "R:", "capacity_gb": 500, "free_gb": 400}],
     [{"code": "RetentionVolumeFileSystemNotSupported", "message": "The retention volume 'R:' uses the FAT32 file system."}],
     True),
    ([{"name": "R:", "capacity_gb": 500, "free_gb": 400}, {"name": "S:", "capacity_gb": 100, "free_gb": 90}],
     [{"code": "x", "message": "The retention volume 'R:' of the master target uses the FAT file system."}], False),
])
def test_mt_retention_volume(volumes, errors, blocked):
    ctx = site()
    ctx["master_targets"]["mt-win01"]["asr"].update(retention_volumes=volumes, validation_errors=errors)
    assert found(run(ctx), "mt_retention_volume") == (["app01"] if blocked else [])


def test_replication_group_one_os_and_one_master_target():
    ctx = site()
    vm_of(ctx, "app01")["item"]["replication_group"] = "rg-app"
    vm_of(ctx, "web01")["item"]["replication_group"] = "rg-app"
    result = run(ctx)
    assert found(result, "replication_group") == ["app01", "web01"]
    assert "Linux: web01" in message(result, "replication_group")
    ctx = site()
    ctx["vms"].append(vm_entry("db01", mt="mt-win02", group="rg-app"))
    vm_of(ctx, "app01")["item"]["replication_group"] = "rg-app"
    assert found(run(ctx), "replication_group") == ["app01", "db01"]


# ---------------------------------------------------------------------- original location
def test_original_vm_present():
    ctx = site()
    entry = vm_of(ctx, "app01")
    entry.update(onprem=None, same_name_uuid="uuid-other")
    result = run(ctx)
    assert found(result, "original_vm_present") == ["app01"]
    assert "uuid-other" in next(f["message"] for f in result["findings"] if f["rule"] == "original_vm_present")
    ctx.update(location="alternate", datastore="vmfs-01")
    assert found(run(ctx), "original_vm_present") == []


def test_datastore_reachable():
    ctx = site()
    vm_of(ctx, "app01")["item"]["onprem"]["datastores"] = ["vmfs-01", "vmfs-09"]
    result = run(ctx)
    assert found(result, "datastore_reachable") == ["app01"]
    assert "datastore vmfs-09 is not mounted on ESXi host esx01" in message(result, "datastore_reachable")


@pytest.mark.parametrize("disk", [{"file": "[vmfs-01] a.vmdk", "backing": "rdm", "datastore": "vmfs-01"},
                                  {"file": "[vsan-01] a.vmdk", "backing": "flat", "datastore": "vsan-01",
                                   "datastore_type": "vsan"}])
def test_original_disk_types(disk):
    ctx = site()
    vm_of(ctx, "app01")["onprem"]["disks"].append(disk)
    assert found(run(ctx), "original_disk_types") == ["app01"]


# ---------------------------------------------------------------------- alternate location
@pytest.mark.parametrize(("datastore", "blocked", "text"), [
    ("vmfs-01", False, None), ("vsan-01", True, "is not mounted on ESXi host esx01"),
    ("nfs-01", True, "NFS"), (None, True, "needs a target"),
    ("gone", True, "does not exist")])
def test_alternate_datastore(datastore, blocked, text):
    ctx = site()
    ctx.update(location="alternate", datastore=datastore)
    result = run(ctx)
    assert found(result, "alternate_datastore") == (["app01", "web01"] if blocked else [])
    if text:
        assert text in next(f["message"] for f in result["findings"] if f["rule"] == "alternate_datastore")


def test_alternate_datastore_vsan_on_the_master_target_host_is_fine():
    ctx = site()
    ctx["hosts"]["esx01"]["datastores"].append({"name": "vsan-01", "type": "vsan"})
    ctx.update(location="alternate", datastore="vsan-01")
    assert found(run(ctx), "alternate_datastore") == ["web01"]


def test_name_clash_only_for_alternate_location():
    ctx = site()
    ctx["hosts"]["esx02"]["vms"].append("web01")
    assert found(run(ctx), "name_clash") == []
    ctx.update(location="alternate", datastore="vmfs-01")
    result = run(ctx)
    assert found(result, "name_clash") == ["app01", "web01"]  # app01 itself sits on mt-win01's host
    assert "78052" in message(result, "name_clash")


# ---------------------------------------------------------------------- memory
def test_host_memory_names_the_host_to_move_to():
    ctx = site()
    ctx["hosts"]["esx01"]["memory_free_mb"] = 16383  # app01 needs 16384
    ctx["hosts"]["esx03"] = host("esx03", free=200000, datastores=("vmfs-02",))  # does not mount vmfs-01
    ctx["hosts"]["esx04"] = host("esx04", cluster="Other", free=300000)  # another cluster
    result = run(ctx)
    assert found(result, "host_memory") == ["app01"]
    finding = next(f for f in result["findings"] if f["rule"] == "host_memory")
    assert "esx01" in finding["message"] and "8038" in finding["message"]
    assert "vMotion app01 to host esx02" in finding["remedy"]


def test_host_memory_edges():
    ctx = site()
    ctx["hosts"]["esx01"]["memory_free_mb"] = 16384  # exactly enough
    assert found(run(ctx), "host_memory") == []
    ctx["hosts"]["esx01"]["memory_free_mb"] = 100
    ctx["hosts"]["esx02"]["memory_free_mb"] = 100
    result = run(ctx)
    assert next(f["remedy"] for f in result["findings"] if f["rule"] == "host_memory").startswith(
        "Free memory on esx01 or add memory to it: no other host can run app01 (esx02 (it has 100 MB free of the "
        "16384 MB the VM needs)")
    vm_of(ctx, "app01")["onprem"]["power_state"] = "poweredOn"  # already running: its memory is counted
    assert found(run(ctx), "host_memory") == ["web01"]  # web01 (8192 MB on esx01) still needs room


def test_host_memory_alternate_location_uses_the_master_target_host_and_asr_memory():
    ctx = site()
    ctx.update(location="alternate", datastore="vmfs-01")
    ctx["hosts"]["esx02"]["memory_free_mb"] = 8191  # web01 (item memory 8192) is created on mt-lin01's host
    assert found(run(ctx), "host_memory") == ["web01"]


def test_evaluate_does_not_change_the_context():
    ctx = site()
    before = copy.deepcopy(ctx)
    run(ctx)
    assert ctx == before


def test_onprem_tools_blocks_a_vm_verified_by_tools_without_them_and_names_the_per_vm_choice():
    ctx = site()
    vm_of(ctx, "web01")["onprem"]["tools_status"] = "toolsNotInstalled"
    assert found(run(ctx), "onprem_tools") == ["web01"]
    assert "verification: {per_vm: {web01: power_only}}" in next(
        f["remedy"] for f in run(ctx)["findings"] if f["rule"] == "onprem_tools")
    for choice in ({"per_vm": {"web01": "power_only"}}, "probe", {"default": "power_only"}):
        ctx["verification"] = choice
        assert found(run(ctx), "onprem_tools") == []
    ctx.update(verification={"default": "power_only", "per_vm": {"web01": "tools"}}, location="alternate")
    assert found(run(ctx), "onprem_tools") == []  # the new VM does not exist yet


def test_host_memory_is_a_warning_when_the_run_will_vmotion_the_vm_to_a_host_that_can_run_it():
    ctx = site()
    ctx["hosts"]["esx01"]["memory_free_mb"] = 16383  # app01 needs 16384; esx02 can run it
    ctx["memory_remediation"] = "vmotion"
    result = run(ctx)
    assert found(result, "host_memory") == [] and found(result, "host_memory", readiness.WARNING) == ["app01"]
    assert "the run will vMotion it to host esx02" in message(result, "host_memory")
    # no host can run it: a blocker whatever the remediation
    ctx["hosts"]["esx02"]["memory_free_mb"] = 100
    assert "app01" in found(run(ctx), "host_memory")
    # memory_remediation: fail stops the run, as before
    ctx = site()
    ctx["hosts"]["esx01"]["memory_free_mb"] = 16383
    ctx["memory_remediation"] = "fail"
    assert found(run(ctx), "host_memory") == ["app01"]
