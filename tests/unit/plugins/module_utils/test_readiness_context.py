# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""readiness_context: item facts read from the item itself, master target choice."""

import datetime

from azure.mgmt.recoveryservicessiterecovery.models import RecoveryPoint, ReplicationProtectedItem

from ansible_collections.siterecovery.failback.plugins.module_utils import readiness_context

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)
ITEM_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/fab/" \
          "replicationProtectionContainers/cloud_1/replicationProtectedItems/item-1"


def model(details):
    return ReplicationProtectedItem({"id": ITEM_ID, "name": "item-1", "properties": {
        "friendlyName": "app01", "providerSpecificDetails": details}})


def test_facts_of_a_failback_item():
    extras = readiness_context.item_extras(model({
        "instanceType": "InMage", "osVersion": "Windows Server 2019", "sourceVmRamSizeInMB": 16384,
        "protectedDisks": [{"diskId": "d0", "diskCapacityInBytes": 42949672960}, {"diskId": "d1"}],
        "validationErrors": [{"errorCode": "VmNotInConfigurationServerDatabase", "summaryMessage": "gone"}]}))
    assert extras == {"os_name": "Windows Server 2019", "memory_mb": 16384, "fabric_name": "fab",
                      "disk_capacities_bytes": [42949672960, None],
                      "validation_errors": [{"code": "VmNotInConfigurationServerDatabase", "level": None,
                                             "category": None, "message": "gone", "recommended_action": None}]}
    assert readiness_context.item_extras(model({"instanceType": "InMage"}))["os_name"] is None


def point(kind, when):
    return RecoveryPoint({"id": ITEM_ID + "/recoveryPoints/p", "name": "p",
                          "properties": {"recoveryPointType": kind, "recoveryPointTime": when}})


def test_point_facts_come_from_the_recovery_point_list():
    # updated: the types used to be read from consistencyPoints keyed "ApplicationConsistent", which the service
    # never sends (its keys are tag names, tests/recorded/asr fact 3)
    listed = [point("CrashConsistent", "2026-11-26T11:58:00Z"), point("ApplicationConsistent", "2026-11-26T11:30:00Z"),
              point("ApplicationConsistent", "2026-11-26T10:30:00Z")]
    facts = readiness_context.point_facts(listed, False, NOW)
    assert {k: v for k, v in facts.items() if k != "listed"} == {
        "has_point": True, "count": 3, "app_consistent_count": 2, "latest_app_consistent_age_minutes": 30.0}
    # the points themselves, by name and id, for a recovery point the run names (rule named_recovery_point)
    assert [(p["name"], p["id"], p["type"]) for p in facts["listed"]] == [
        ("p", ITEM_ID + "/recoveryPoints/p", "CrashConsistent"), ("p", ITEM_ID + "/recoveryPoints/p", "ApplicationConsistent"),
        ("p", ITEM_ID + "/recoveryPoints/p", "ApplicationConsistent")]


def test_no_points_yet_unless_the_item_shows_one():
    assert readiness_context.point_facts([], False, NOW) == {
        "has_point": False, "count": 0, "app_consistent_count": 0, "latest_app_consistent_age_minutes": None,
        "listed": []}
    # the GET shows consistency points or a retention window: a point exists, of no known type
    assert readiness_context.point_facts(None, True, NOW) == {
        "has_point": True, "count": 0, "app_consistent_count": 0, "latest_app_consistent_age_minutes": None,
        "listed": None}


def _entry(name, stage="running_in_azure", os_type="Windows", mt_id=None, disks=2, group=None):
    return {"name": name, "master_target": None, "master_target_source": None, "placement_problem": None,
            "item": {"failback_stage": stage, "provider": "InMageAzureV2" if stage == "running_in_azure" else "InMage",
                     "os_type": os_type, "replication_group": group, "disk_count": disks,
                     "onprem": {"datastores": ["vmfs-01"], "master_target_id": mt_id}}}


MTS = {"mt-win01": {"asr": {"id": "MT-W", "os_type": "Windows", "disk_count": 57,
                            "datastores": [{"name": "vmfs-01", "type": "VMFS"}, {"name": "nfs-01", "type": "NFS"}]}},
       "mt-lin01": {"asr": {"id": "MT-L", "os_type": "Linux", "disk_count": 2,
                            "datastores": [{"name": "vmfs-01", "type": "VMFS"}]}}}


def test_master_target_given_recorded_or_placed():
    entries = [_entry("app01"), _entry("web01", os_type="Linux"), _entry("db01", stage="failed_back", mt_id="mt-l"),
               _entry("app02", stage="replicating_to_onprem"), _entry("big", disks=2)]
    readiness_context._place(entries, MTS, {"location": "original"})  # pylint: disable=protected-access
    chosen = {e["name"]: (e["master_target"], e["master_target_source"]) for e in entries}
    assert chosen == {"app01": ("mt-win01", "placement"), "web01": ("mt-lin01", "placement"), "db01": ("mt-lin01", "asr"),
                      "app02": (None, None), "big": (None, None)}
    assert "No master target can take VM big" in entries[-1]["placement_problem"]
    entries = [_entry("app01")]
    readiness_context._place(entries, MTS, {"location": "original", "master_target": "mt-x"})  # pylint: disable=protected-access
    assert (entries[0]["master_target"], entries[0]["master_target_source"]) == ("mt-x", "given")


def test_alternate_location_places_on_the_target_datastore_only():
    entries = [_entry("web02", os_type="Linux")]
    entries[0]["item"]["onprem"]["datastores"] = []
    readiness_context._place(entries, MTS, {"location": "alternate", "datastore": "nfs-01"})  # pylint: disable=protected-access
    assert entries[0]["master_target"] is None and "nfs-01" in entries[0]["placement_problem"]


def test_a_forward_items_master_target_id_is_not_its_failback_master_target():
    # the GET of a forward item names the process server that replicated it to Azure as masterTargetId (recorded:
    # item_get.InMageAzureV2.UnplannedFailoverCommitted, masterTargetId = processServerId): placement still chooses
    entries = [_entry("app01", mt_id="MT-L")]
    readiness_context._place(entries, MTS, {"location": "original"})  # pylint: disable=protected-access
    assert (entries[0]["master_target"], entries[0]["master_target_source"]) == ("mt-win01", "placement")
