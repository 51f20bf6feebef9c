# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.lock: which lock is taken, refreshed, broken or refused, and what is written to the Azure VM's tags."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import lock
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes

NOW = 1764140000.0  # 2025-11-26 06:53:20 UTC
TAG = "siterecovery-failback-lock"
APP = fakes.azure_vm("app01")
WEB = fakes.azure_vm("web01")


def selected(*names):
    return [(None, {"name": name, "item_name": "item-" + name}) for name in names]


def vms(tags=None, **found):
    """FakeAzureVms where item-<name> finds ``found[name]``; ``tags``: {vm name: lock value}."""
    by_item = {"item-" + name: vm for name, vm in found.items()}
    by_id = {found[name]["id"]: {TAG: value} for name, value in (tags or {}).items()}
    return fakes.FakeAzureVms(by_item, tags=by_id)


def acquire(azure_vms, names, owner="run-2", ttl=3600, check_mode=False, break_lock=False, now=NOW):
    return lock.acquire(azure_vms, selected(*names), owner, ttl, check_mode, break_lock=break_lock,
                        clock=FakeClock(now))


# ------------------------------------------------------------------------------------------------ parse
@pytest.mark.parametrize("value, expected", [
    ("run-1|1764140000", ("run-1", 1764140000.0)),
    ("awx|job|1764140000", ("awx|job", 1764140000.0)),   # the expiry is after the last bar
    ("run-1|1764140000.5", ("run-1", 1764140000.5)),
    ("|1764140000", (None, 1764140000.0)),
    ("1764140000", (None, 1764140000.0)),
    ("run-1|", (None, 0.0)),
    ("run-1|tomorrow", (None, 0.0)),
    ("", (None, 0.0)),
    (None, (None, 0.0)),
])
def test_parse(value, expected):
    assert lock.parse(value) == expected


# ------------------------------------------------------------------------------------------------ acquire
def test_a_free_vm_is_locked_for_the_ttl():
    azure_vms = vms(app01=APP)
    changed, results = acquire(azure_vms, ["app01"], ttl=3600)
    assert changed is True
    assert results == [{"name": "app01", "azure_vm": APP["id"], "status": "acquired", "broken": None}]
    assert azure_vms.writes() == [("set_tags", APP["id"], {TAG: "run-2|1764143600"}, [])]
    # the tag is read back after the cache is dropped
    assert azure_vms.calls.index(("forget",)) > azure_vms.calls.index(azure_vms.writes()[0])


def test_the_expiry_is_written_in_whole_seconds():
    azure_vms = vms(app01=APP)
    acquire(azure_vms, ["app01"], ttl=60, now=1000.9)
    assert azure_vms.tags[APP["id"]][TAG] == "run-2|1060"


def test_our_own_live_lock_is_left_as_it_is():
    azure_vms = vms(tags={"app01": "run-2|1764140001"}, app01=APP)
    changed, results = acquire(azure_vms, ["app01"], ttl=7200)
    assert changed is False  # a re-run of the same run changes nothing
    assert results == [{"name": "app01", "azure_vm": APP["id"], "status": "held_by_us"}]
    assert azure_vms.writes() == []
    assert azure_vms.tags[APP["id"]][TAG] == "run-2|1764140001"


@pytest.mark.parametrize("expiry", ["1764140000", "1000"])
def test_our_own_expired_lock_is_renewed(expiry):
    azure_vms = vms(tags={"app01": "run-2|" + expiry}, app01=APP)
    changed, results = acquire(azure_vms, ["app01"], ttl=7200)
    assert changed is True
    assert results == [{"name": "app01", "azure_vm": APP["id"], "status": "held_by_us"}]
    assert azure_vms.writes() == [("set_tags", APP["id"], {TAG: "run-2|1764147200"}, [])]


def test_another_runs_live_lock_refuses_and_changes_nothing():
    azure_vms = vms(tags={"app01": "run-1|1764143600"}, app01=APP, web01=WEB)
    with pytest.raises(AzureError) as caught:
        acquire(azure_vms, ["web01", "app01"])
    error = caught.value
    assert error.details["refusals"] == [
        "VM app01 is being failed back by run run-1 (lock on app01 until 2025-11-26 07:53:20 UTC). Two runs must not "
        "act on the same VM: wait for that run, or if it died, re-run after the lock expires or with lock_break: true."]
    assert error.msg.startswith("Refusing to start; nothing was changed: VM app01 is being failed back by run run-1")
    assert azure_vms.writes() == []  # not even the free web01
    assert [r["status"] for r in error.details["vms"]] == ["acquired", "skipped"]
    assert azure_vms.tags[APP["id"]][TAG] == "run-1|1764143600"


def test_every_live_lock_is_named():
    azure_vms = vms(tags={"app01": "run-1|1764143600", "web01": "run-3|1764143600"}, app01=APP, web01=WEB)
    with pytest.raises(AzureError) as caught:
        acquire(azure_vms, ["app01", "web01"])
    refusals = caught.value.details["refusals"]
    assert [r.split(" ")[1] for r in refusals] == ["app01", "web01"]
    assert caught.value.msg == "Refusing to start; nothing was changed: " + " ".join(refusals)


def test_a_live_lock_is_not_broken_unless_asked():
    azure_vms = vms(tags={"app01": "run-1|1764143600"}, app01=APP)
    with pytest.raises(AzureError):
        lock.acquire(azure_vms, selected("app01"), "run-2", 3600, False, clock=FakeClock(NOW))
    assert azure_vms.writes() == []


def test_a_lock_one_second_from_expiry_is_live():
    azure_vms = vms(tags={"app01": "run-1|1764140001"}, app01=APP)
    with pytest.raises(AzureError, match="being failed back by run run-1"):
        acquire(azure_vms, ["app01"])


def test_a_lock_that_expires_now_is_taken_over_without_breaking():
    azure_vms = vms(tags={"app01": "run-1|1764140000"}, app01=APP)
    changed, results = acquire(azure_vms, ["app01"])
    assert changed is True
    assert results[0]["status"] == "acquired" and results[0]["broken"] is None
    assert azure_vms.tags[APP["id"]][TAG] == "run-2|1764143600"


def test_lock_break_takes_a_live_lock_and_says_whose():
    azure_vms = vms(tags={"app01": "run-1|1764143600"}, app01=APP)
    changed, results = acquire(azure_vms, ["app01"], break_lock=True)
    assert changed is True
    assert results == [{"name": "app01", "azure_vm": APP["id"], "status": "acquired", "broken": "run-1"}]
    assert azure_vms.tags[APP["id"]][TAG] == "run-2|1764143600"


def test_lock_break_of_an_expired_lock_breaks_nothing():
    azure_vms = vms(tags={"app01": "run-1|1764139999"}, app01=APP)
    assert acquire(azure_vms, ["app01"], break_lock=True)[1][0]["broken"] is None


def test_a_tag_that_is_no_lock_is_overwritten():
    azure_vms = vms(tags={"app01": "garbage"}, app01=APP)
    results = acquire(azure_vms, ["app01"])[1]
    assert results[0]["status"] == "acquired" and results[0]["broken"] is None
    assert azure_vms.tags[APP["id"]][TAG] == "run-2|1764143600"


def test_a_live_expiry_without_an_owner_is_no_lock():
    azure_vms = vms(tags={"app01": "|1764143600"}, app01=APP)
    results = acquire(azure_vms, ["app01"])[1]
    assert results[0]["status"] == "acquired" and results[0]["broken"] is None


def test_committed_vms_are_skipped_nothing_to_lock():
    gone = fakes.azure_vm("web01", exists=False)
    azure_vms = vms(app01=None, web01=gone)
    changed, results = acquire(azure_vms, ["app01", "web01"])
    assert changed is False
    assert results == [{"name": "app01", "azure_vm": None, "status": "skipped"},
                       {"name": "web01", "azure_vm": None, "status": "skipped"}]
    assert azure_vms.writes() == []


def test_a_deleted_vm_with_a_stale_lock_tag_is_skipped():
    gone = fakes.azure_vm("web01", exists=False)
    azure_vms = vms(tags={"web01": "run-1|1764143600"}, web01=gone)
    assert acquire(azure_vms, ["web01"]) == (False, [{"name": "web01", "azure_vm": None, "status": "skipped"}])


def test_check_mode_predicts_and_writes_nothing():
    azure_vms = vms(tags={"web01": "run-1|1764139000"}, app01=APP, web01=WEB)
    changed, results = acquire(azure_vms, ["app01", "web01"], check_mode=True)
    assert changed is True
    assert [r["status"] for r in results] == ["acquired", "acquired"]
    assert azure_vms.calls == [("find", "item-app01"), ("find", "item-web01")]
    assert azure_vms.tags[WEB["id"]][TAG] == "run-1|1764139000"


def test_check_mode_still_refuses_a_live_lock():
    azure_vms = vms(tags={"app01": "run-1|1764143600"}, app01=APP)
    with pytest.raises(AzureError):
        acquire(azure_vms, ["app01"], check_mode=True)


def test_losing_a_race_for_the_tag_stops_the_run():
    azure_vms = vms(app01=APP, web01=WEB)

    def other_run(fake, vm_id):
        if vm_id == WEB["id"]:
            fake.tags[vm_id][TAG] = "run-1|1764143600"
    azure_vms.on_set_tags = other_run
    with pytest.raises(AzureError) as caught:
        acquire(azure_vms, ["app01", "web01"])
    assert caught.value.msg == "Another run took the lock of web01 at the same moment; this run stops."
    assert [r["name"] for r in caught.value.details["vms"]] == ["app01", "web01"]


def test_losing_every_lock_names_them_all():
    azure_vms = vms(app01=APP, web01=WEB)

    def other_run(fake, vm_id):
        fake.tags[vm_id][TAG] = "run-1|1764143600"
    azure_vms.on_set_tags = other_run
    with pytest.raises(AzureError, match=r"^Another run took the lock of app01, web01 at the same moment"):
        acquire(azure_vms, ["app01", "web01"])


# ------------------------------------------------------------------------------------------------ release
def release(azure_vms, names, owner="run-2", check_mode=False):
    return lock.release(azure_vms, selected(*names), owner, check_mode)


def test_release_removes_our_lock_only():
    azure_vms = vms(tags={"app01": "run-2|1764143600", "web01": "run-1|1764143600"}, app01=APP, web01=WEB)
    changed, results = release(azure_vms, ["app01", "web01"])
    assert changed is True
    assert results == [{"name": "app01", "azure_vm": APP["id"], "status": "released"},
                       {"name": "web01", "azure_vm": WEB["id"], "status": "not_ours"}]
    assert azure_vms.writes() == [("set_tags", APP["id"], {}, [TAG])]
    assert TAG not in azure_vms.tags[APP["id"]]
    assert azure_vms.tags[WEB["id"]][TAG] == "run-1|1764143600"


def test_release_without_a_lock_changes_nothing():
    azure_vms = vms(app01=APP)
    assert release(azure_vms, ["app01"]) == (False, [{"name": "app01", "azure_vm": APP["id"], "status": "none"}])
    assert azure_vms.writes() == []


def test_release_of_another_runs_lock_changes_nothing():
    azure_vms = vms(tags={"app01": "run-1|1764143600"}, app01=APP)
    assert release(azure_vms, ["app01"]) == (False, [{"name": "app01", "azure_vm": APP["id"], "status": "not_ours"}])
    assert azure_vms.writes() == []


def test_release_skips_vms_that_are_gone():
    gone = fakes.azure_vm("web01", exists=False)
    azure_vms = vms(tags={"web01": "run-2|1764143600"}, app01=None, web01=gone)
    assert release(azure_vms, ["app01", "web01"]) == (False, [{"name": "app01", "azure_vm": None, "status": "none"},
                                                              {"name": "web01", "azure_vm": None, "status": "none"}])
    assert azure_vms.writes() == []


def test_release_in_check_mode_predicts_and_writes_nothing():
    azure_vms = vms(tags={"app01": "run-2|1764143600"}, app01=APP)
    assert release(azure_vms, ["app01"], check_mode=True) == (
        True, [{"name": "app01", "azure_vm": APP["id"], "status": "released"}])
    assert azure_vms.writes() == []
    assert azure_vms.tags[APP["id"]][TAG] == "run-2|1764143600"
