# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain.recovery_points: the point a failover takes and what readiness knows, from listed points only."""

import datetime

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import recovery_points

NOW = datetime.datetime(2021, 4, 6, 12, 2, 35, tzinfo=datetime.timezone.utc)
ITEM = "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/f/" \
       "replicationProtectionContainers/c/replicationProtectedItems/i"
POINTS = [
    {"name": "p-app", "id": ITEM + "/recoveryPoints/p-app", "type": "ApplicationConsistent", "time": "2021-04-06T11:32:35Z"},
    {"name": "p-new", "id": ITEM + "/recoveryPoints/p-new", "type": "CrashConsistent", "time": "2021-04-06T12:00:35Z"},
    {"name": "p-old", "id": ITEM + "/recoveryPoints/p-old", "type": "CrashConsistent",
     "time": datetime.datetime(2021, 4, 6, 10, 0, 0)},  # naive: UTC
    {"name": "p-none", "id": ITEM + "/recoveryPoints/p-none", "type": "CrashConsistent", "time": "not a time"},
]


def test_choose():
    assert recovery_points.choose(POINTS, "latest_processed")["name"] == "p-new"
    assert recovery_points.choose(POINTS, "latest_app_consistent")["name"] == "p-app"
    assert recovery_points.choose(POINTS, "P-OLD")["name"] == "p-old"
    assert recovery_points.choose(POINTS, POINTS[2]["id"].replace("/Subscriptions/", "/subscriptions/"))["name"] == "p-old"
    assert recovery_points.choose(POINTS, "p-missing") is None
    assert recovery_points.choose([], "latest_processed") is None
    assert recovery_points.choose(POINTS[1:], "latest_app_consistent") is None
    # unreadable times sort last
    assert [p["name"] for p in recovery_points.newest_first(POINTS)] == ["p-new", "p-app", "p-old", "p-none"]


def test_app_consistent_names():
    names = ("ApplicationConsistent", "applicationconsistent", "Application_Consistent", "AppConsistent")
    assert all(recovery_points.is_app_consistent(k) for k in names)
    others = ("CrashConsistent", None, "", "fileSystem606c46c6", "LatestTag")
    assert not any(recovery_points.is_app_consistent(k) for k in others)


def test_facts():
    assert recovery_points.facts(POINTS, False, NOW) == {
        "has_point": True, "count": 4, "app_consistent_count": 1, "latest_app_consistent_age_minutes": 30.0}
    # a point stamped after this machine's clock is fresh, not of negative age
    ahead = [{"type": "ApplicationConsistent", "time": "2021-04-06T16:52:06Z"}]
    assert recovery_points.facts(ahead, False, NOW)["latest_app_consistent_age_minutes"] == 0.0
    # an app-consistent point without a readable time: it exists, its age is unknown
    assert recovery_points.facts([{"type": "ApplicationConsistent", "time": None}], False, NOW) == {
        "has_point": True, "count": 1, "app_consistent_count": 1, "latest_app_consistent_age_minutes": None}
    assert recovery_points.facts([], True, NOW)["has_point"] is True


def test_moment():
    expected = datetime.datetime(2021, 4, 6, 11, 32, 35, tzinfo=datetime.timezone.utc)
    assert recovery_points.moment("2021-04-06T11:32:35Z") == expected
    assert recovery_points.moment("yesterday") is None and recovery_points.moment(None) is None
    assert recovery_points.moment(12) is None
