# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""esx_host_info on the default lab site and on rule specs."""

from conftest import run_module


def test_vm_and_master_target_facts(site):
    rc, result = run_module("esx_host_info", {"vms": ["app01", "app02"], "master_targets": ["mt-win01"]},
                            env=site.env())
    assert rc == 0, result
    assert result["changed"] is False
    app01 = result["vms"][0]
    assert app01["name"] == "app01"
    assert app01["power_state"] == "poweredOff"
    assert app01["os_family"] == "windows"
    assert app01["firmware"] == "efi"
    host = app01["host"]
    assert (host["name"], host["cluster"], host["datacenter"]) == ("esx01.lab", "Cluster1", "DC1")
    assert host["managed_by_vcenter"] is True
    assert (host["memory_total_mb"], host["memory_used_mb"], host["memory_free_mb"]) == (262144, 98304, 163840)
    assert {d["name"]: d["type"] for d in host["datastores"]} == {
        "vmfs-01": "VMFS", "vmfs-02": "VMFS", "vsan-01": "vsan", "nfs-01": "NFS"}
    assert [(d["file"], d["size_gb"], d["backing"], d["datastore_type"], d["controller_type"]) for d in app01["disks"]] == [
        ("[vmfs-01] app01/app01.vmdk", 100.0, "flat", "VMFS", "lsilogic"),
        ("[vmfs-01] app01/app01_1.vmdk", 250.0, "flat", "VMFS", "lsilogic")]
    mt = result["master_targets"][0]
    assert mt["disk_count"] == 2 and mt["disk_limit"] == 60 and mt["disk_slots_left"] == 58
    assert mt["only_lsi_logic_controllers"] is True
    assert mt["disk_enable_uuid"] is True
    assert mt["snapshot_count"] == 0
    assert mt["tools_installed"] is True
    assert result["reachability"] == [
        {"vm": "app01", "master_target": "mt-win01", "reachable": ["vmfs-01"], "unreachable": [], "all_reachable": True},
        {"vm": "app02", "master_target": "mt-win01", "reachable": ["vmfs-02"], "unreachable": [], "all_reachable": True}]


def test_lookup_by_moid_and_instance_uuid(site):
    rc, first = run_module("esx_host_info", {"vms": ["db01"]}, env=site.env())
    assert rc == 0, first
    db01 = first["vms"][0]
    rc, again = run_module("esx_host_info", {"vms": [db01["moid"], db01["instance_uuid"].upper()]}, env=site.env())
    assert rc == 0, again
    assert [v["name"] for v in again["vms"]] == ["db01", "db01"]


def test_property_reads_do_not_grow_with_the_number_of_vms(site):
    rc, one = run_module("esx_host_info", {"vms": ["app01"]}, env=site.env())
    rc2, many = run_module("esx_host_info", {"vms": ["app01", "app02", "db01", "web01", "web03"],
                                             "master_targets": ["mt-win01", "mt-lin01"]}, env=site.env())
    assert rc == rc2 == 0
    assert one["property_reads"] == many["property_reads"] == 6


def test_unreachable_datastore_and_master_target_problems_are_reported(lab_vcenter):
    sim = lab_vcenter("datastore-unreachable.yml")
    rc, result = run_module("esx_host_info", {"vms": ["app02"], "master_targets": ["mt-win01"]}, env=sim.env())
    assert rc == 0, result
    assert result["reachability"][0]["unreachable"] == ["vmfs-02"]
    assert result["reachability"][0]["all_reachable"] is False
    sim = lab_vcenter("mt-snapshots.yml")
    rc, result = run_module("esx_host_info", {"master_targets": ["mt-win01"]}, env=sim.env())
    assert result["master_targets"][0]["snapshot_count"] == 1


def test_unknown_vm_is_refused_with_its_name(site):
    rc, result = run_module("esx_host_info", {"vms": ["app01", "ghost01"]}, env=site.env())
    assert rc != 0
    assert "VM 'ghost01' was not found by MOID, instance UUID or name." in result["msg"]
    assert result["error"]["not_found"] == ["ghost01"]
