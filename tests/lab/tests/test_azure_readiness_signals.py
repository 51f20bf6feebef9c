# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a preflight can read before any job runs: a VM missing from the configuration server's
database (an item health error) and a FAT32 retention volume (a master target validation error)."""


def test_vm_not_in_cs_database_is_an_item_health_error(lab_factory):
    lab = lab_factory({"asr": {"items": [{"name": "app01", "in_cs_database": False}]}})
    item = lab.item("app01").properties
    assert [e.error_code for e in item.health_errors] == ["VmNotInConfigurationServerDatabase"]
    assert item.health_errors[0].error_level == "Critical" and "app01" in item.health_errors[0].error_message
    assert item.replication_health == "Critical"
    other = lab.item("web02").properties
    assert other.health_errors == [] and other.replication_health == "Normal"


def test_fat32_retention_volume_is_a_master_target_validation_error(lab_factory):
    lab = lab_factory({"asr": {"master_targets": [
        {"vm": "mt-win01", "retention_volumes": [{"name": "R:", "capacity_gb": 500, "free_gb": 400, "file_system": "FAT32"}]}]}})
    servers = {s.name: s for s in lab.fabric_details().master_target_servers}
    errors = servers["mt-win01"].validation_errors
    assert [e.error_code for e in errors] == ["RetentionVolumeFileSystemNotSupported"]
    assert "'R:'" in errors[0].error_message and "FAT32" in errors[0].error_message
    assert [v.volume_name for v in servers["mt-win01"].retention_volumes] == ["R:"]
    assert servers["mt-lin01"].validation_errors == []
