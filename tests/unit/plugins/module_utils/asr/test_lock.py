# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.lock: claims and a run's lease, taken with conditional writes, waited for, refused, renewed, released."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import lock
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock

NOW = 1764140000.0  # 2025-11-26 06:53:20 UTC


class Store:
    """An in-memory record store with ETags: ``records[key] = {"claim", "lease"}``; a write whose ETag
    (read at the last refresh) is stale raises Conflict, as ARM's If-Match does. ``before_write(store, key)``
    lets a test play another run writing at the same moment."""

    kind = "memory"

    def __init__(self, records=None, gone=()):
        self.records = {key: dict(value) for key, value in (records or {}).items()}
        self.versions = dict.fromkeys(self.records, 1)
        self.gone = set(gone)
        self.seen = {}
        self.writes = []
        self.before_write = None
        self.refreshes = 0

    def refresh(self):
        self.refreshes += 1
        self.seen = dict(self.versions)

    def key(self, item):
        key = item["name"]
        return None if key in self.gone else key

    def claim(self, key):
        return self.records.get(key, {}).get("claim")

    def leases(self):
        found = {}
        for key, record in self.records.items():
            lease = lock.parse_lease(record.get("lease"))
            if lease:
                found[lease["owner"]] = dict(lease, key=key)
        return found

    def claimed_by(self, owner):
        return [k for k, r in self.records.items() if lock.parse_claim(r.get("claim"))[0] == owner]

    def other_run_writes(self, key, **fields):
        self.records.setdefault(key, {}).update(fields)
        self.versions[key] = self.versions.get(key, 1) + 1

    def write(self, key, claim=None, lease=None, drop_claim=False, drop_lease=False, owner=None):
        if self.before_write:
            hook, self.before_write = self.before_write, None
            hook(self, key)
        if self.versions.get(key, 1) != self.seen.get(key, 1):
            raise lock.Conflict("changed", key=key)
        record = self.records.setdefault(key, {})
        if claim is not None:
            record["claim"] = claim
        if lease is not None:
            record["lease"] = lease
        if drop_claim:
            record.pop("claim", None)
        if drop_lease:
            record.pop("lease", None)
        self.versions[key] = self.versions.get(key, 1) + 1
        self.seen[key] = self.versions[key]
        self.writes.append((key, claim, lease, drop_claim, drop_lease))


def selected(*names):
    return [(None, {"name": name, "item_name": "item-" + name}) for name in names]


def acquire(store, names, owner="run-2", ttl=180, check_mode=False, break_lock=False, wait=0, clock=None):
    clock = clock or FakeClock(NOW)
    return lock.acquire(store, selected(*names), owner, ttl, check_mode, break_lock=break_lock, wait_seconds=wait,
                        clock=clock, sleeper=clock.sleep, host="ctl01", variable="original_location_lock_break")


def live(owner="run-1", until=NOW + 100, since=NOW - 600):
    return lock.format_lease(owner, since, until, "ctl09")


# ------------------------------------------------------------------------------------------------ parse
@pytest.mark.parametrize("value, expected", [
    ("run-1", ("run-1", None)),
    ("run-1|1764140000", ("run-1", 1764140000.0)),      # the lock of releases before 0.9
    ("awx|job|1764140000", ("awx|job", 1764140000.0)),
    ("run|tomorrow", ("run|tomorrow", None)),
    ("", (None, None)),
    (None, (None, None)),
])
def test_parse_claim(value, expected):
    assert lock.parse_claim(value) == expected


def test_lease_round_trip_and_garbage():
    assert lock.parse_lease(lock.format_lease("awx-job-7", 1000.4, 1180.9, "ee|1")) == {
        "owner": "awx-job-7", "since": 1000.0, "until": 1180.0, "host": "ee_1"}
    assert lock.parse_lease("run-1|x|1|h") is None
    assert lock.parse_lease("|1|2|h") is None
    assert lock.parse_lease("run-1|1") is None


# ------------------------------------------------------------------------------------------------ acquire
def test_free_vms_are_claimed_and_the_lease_rides_on_the_first():
    store = Store()
    changed, results, lease = acquire(store, ["web01", "app01"])
    assert changed is True
    expected = [("web01", "acquired", None), ("app01", "acquired", None)]
    assert [(r["name"], r["status"], r["broken"]) for r in results] == expected
    assert store.records["app01"] == {"claim": "run-2", "lease": "run-2|1764140000|1764140180|ctl01"}
    assert store.records["web01"] == {"claim": "run-2"}
    assert lease == {"owner": "run-2", "since": "2025-11-26 06:53:20 UTC", "until": "2025-11-26 06:56:20 UTC",
                     "host": "ctl01", "store": "memory"}


def test_a_rerun_of_the_same_run_renews_its_lease_and_reports_no_change():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2", NOW + 10)}})
    changed, results, _lease = acquire(store, ["app01"])
    assert changed is False and results[0]["status"] == "held_by_us"
    assert lock.parse_lease(store.records["app01"]["lease"])["until"] == NOW + 180
    assert lock.parse_lease(store.records["app01"]["lease"])["since"] == NOW - 600  # the run's start is kept


def test_a_live_lease_of_another_run_refuses_at_once_without_wait_and_changes_nothing():
    store = Store({"app01": {"claim": "run-1", "lease": live()}})
    with pytest.raises(AzureError) as caught:
        acquire(store, ["web01", "app01"])
    error = caught.value
    assert error.details["rule"] == "run_lease_held"
    assert error.details["refusals"] == [
        "VM app01 is held by run run-1 on ctl09 since 2025-11-26 06:43:20 UTC (lease until 2025-11-26 06:55:00 UTC); "
        "its lease lapses at 2025-11-26 06:55:00 UTC unless that run renews it: if it died, the re-run after that time "
        "proceeds by itself. If you know that run is gone, set original_location_lock_break: true to take its VMs."]
    assert store.writes == []  # not even the free web01


def test_a_dead_runs_lease_is_waited_out_and_the_vms_taken():
    store = Store({"app01": {"claim": "run-1", "lease": live(until=NOW + 100)}})
    clock = FakeClock(NOW)
    changed, results, _lease = acquire(store, ["app01"], wait=300, clock=clock)
    assert changed is True and results[0]["status"] == "acquired" and results[0]["broken"] is None
    # read again every POLL_SECONDS (a live holder's renewal shows at once), until the lease lapsed
    assert clock.sleeps == [lock.POLL_SECONDS] * 10
    assert store.records["app01"]["claim"] == "run-2"


def test_a_renewal_is_seen_at_the_next_poll_not_when_the_lease_would_have_lapsed():
    store = Store({"app01": {"claim": "run-1", "lease": live(until=NOW + 170)}})
    clock = FakeClock(NOW)
    waits = []

    def renewing_sleep(seconds):
        clock.sleep(seconds)
        if clock.now >= NOW + 36:  # the holder's keeper renews every 36 s (ttl 180 / 5)
            store.other_run_writes("app01", lease=live(until=clock.now + 180))
    with pytest.raises(AzureError, match="it renewed its lease while this run waited, so it is alive"):
        lock.acquire(store, selected("app01"), "run-2", 180, False, wait_seconds=600, clock=clock,
                     sleeper=renewing_sleep, on_wait=waits.append)
    assert clock.now - NOW <= 36 + lock.POLL_SECONDS  # refused at the first read after the renewal
    assert len(waits) == 4 and waits[0][0][1][0] == "run-1"  # each pause said who it waits for


def test_a_lease_renewed_while_we_wait_is_a_live_run_and_refuses():
    store = Store({"app01": {"claim": "run-1", "lease": live(until=NOW + 100)}})
    clock = FakeClock(NOW)

    def renewing_sleep(seconds):
        clock.sleep(seconds)
        store.other_run_writes("app01", lease=live(until=clock.now + 180))
    with pytest.raises(AzureError, match="it renewed its lease while this run waited, so it is alive"):
        lock.acquire(store, selected("app01"), "run-2", 180, False, wait_seconds=600, clock=clock,
                     sleeper=renewing_sleep)
    assert store.records["app01"]["claim"] == "run-1" and store.writes == []


def test_a_lease_renewed_only_for_the_steps_of_an_ended_run_is_waited_for_not_refused():
    ending = "ctl09" + lock.ENDING
    store = Store({"app01": {"claim": "run-1", "lease": lock.format_lease("run-1", NOW - 600, NOW + 30, ending)}})
    clock = FakeClock(NOW)
    ticks = []

    def finishing_sleep(seconds):
        clock.sleep(seconds)
        ticks.append(seconds)
        if len(ticks) == 1:  # the ended run's module still runs: its keeper renews, saying so
            store.other_run_writes("app01", lease=lock.format_lease("run-1", NOW - 600, clock.now + 30, ending))
        else:  # it finished: the keeper ends the lease
            store.other_run_writes("app01", lease=lock.format_lease("run-1", NOW - 600, clock.now, ending))
    changed, results, _lease = lock.acquire(store, selected("app01"), "run-2", 180, False, wait_seconds=600,
                                            clock=clock, sleeper=finishing_sleep)
    assert changed and results[0]["status"] == "acquired" and len(ticks) == 2


def test_an_ended_run_s_step_that_outlasts_the_wait_is_refused_saying_so():
    ending = "ctl09" + lock.ENDING
    store = Store({"app01": {"claim": "run-1", "lease": lock.format_lease("run-1", NOW - 600, NOW + 900, ending)}})
    with pytest.raises(AzureError) as refused:
        acquire(store, ["app01"], wait=60)
    assert "on ctl09 since" in refused.value.msg and "its ansible-playbook has ended, but a step it started still runs" \
        in refused.value.msg


def test_a_lease_that_outlasts_the_wait_refuses_without_sleeping():
    store = Store({"app01": {"claim": "run-1", "lease": live(until=NOW + 1000)}})
    clock = FakeClock(NOW)
    with pytest.raises(AzureError, match="held by run run-1"):
        acquire(store, ["app01"], wait=300, clock=clock)
    assert clock.sleeps == []


def test_a_claim_without_a_lease_is_free():
    store = Store({"app01": {"claim": "run-1"}})
    expected = {"name": "app01", "azure_vm": "app01", "status": "acquired", "broken": None}
    assert acquire(store, ["app01"])[1][0] == expected


def test_a_lapsed_lease_frees_its_claims_without_breaking():
    store = Store({"app01": {"claim": "run-1", "lease": live(until=NOW)}})
    assert acquire(store, ["app01"])[1][0]["broken"] is None


def test_a_legacy_lock_holds_until_its_own_expiry():
    store = Store({"app01": {"claim": "run-1|%d" % (NOW + 60)}})
    with pytest.raises(AzureError, match="held by run run-1"):
        acquire(store, ["app01"])
    store = Store({"app01": {"claim": "run-1|%d" % (NOW - 1)}})
    assert acquire(store, ["app01"])[1][0]["status"] == "acquired"


def test_lock_break_takes_a_live_claim_and_says_whose():
    store = Store({"app01": {"claim": "run-1", "lease": live()}})
    changed, results, _lease = acquire(store, ["app01"], break_lock=True)
    assert changed is True and results[0]["broken"] == "run-1"
    assert store.records["app01"]["claim"] == "run-2"


def test_committed_vms_are_skipped_and_nothing_is_written():
    store = Store(gone={"app01"})
    changed, results, _lease = acquire(store, ["app01"])
    assert changed is False and results[0]["status"] == "skipped" and store.writes == []


def test_check_mode_predicts_and_writes_nothing_but_still_refuses():
    store = Store()
    changed, results, _lease = acquire(store, ["app01"], check_mode=True)
    assert changed is True and results[0]["status"] == "acquired" and store.writes == []
    store = Store({"app01": {"claim": "run-1", "lease": live()}})
    with pytest.raises(AzureError):
        acquire(store, ["app01"], check_mode=True)


def test_two_runs_at_the_same_instant_exactly_one_wins():
    """run-1 writes web01 between our read and our write: our conditional write of web01 loses, we undo
    app01, read again, find web01 held by a live run and refuse - run-1 keeps web01, app01 is free."""
    store = Store()

    def run1(fake, key):
        fake.other_run_writes("web01", claim="run-1", lease=live("run-1"))
    store.before_write = run1
    # our first write (app01, the anchor) succeeds only if run-1's write touched another key; make it web01 first
    with pytest.raises(AzureError, match="held by run run-1"):
        acquire(store, ["app01", "web01"])
    assert store.records["web01"]["claim"] == "run-1"
    assert "claim" not in store.records.get("app01", {}) and "lease" not in store.records.get("app01", {})
    assert store.writes[0][0] == "app01" and store.writes[-1] == ("app01", None, None, True, True)  # undone


def test_a_conflict_with_a_run_that_then_released_retries_and_wins():
    store = Store()

    def touch(fake, key):
        fake.other_run_writes(key)  # someone changed the VM (another tag): our ETag is stale
    store.before_write = touch
    changed, _results, _lease = acquire(store, ["app01"])
    assert changed is True and store.records["app01"]["claim"] == "run-2" and store.refreshes == 2


def test_endless_conflicts_give_up_with_a_clear_error():
    store = Store()

    class Always:
        def __bool__(self):
            return True

        def __call__(self, fake, key):
            fake.other_run_writes(key)
            fake.before_write = self
    store.before_write = Always()
    with pytest.raises(AzureError, match="other runs kept changing the VMs"):
        acquire(store, ["app01"])


# ------------------------------------------------------------------------------------------------ renew
def test_renew_moves_the_lease_end_and_keeps_its_start():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2", NOW + 5)}, "web01": {"claim": "run-2"}})
    assert lock.renew(store, "run-2", 180, clock=FakeClock(NOW + 50), host="ctl01") is True
    lease = lock.parse_lease(store.records["app01"]["lease"])
    assert lease["until"] == NOW + 230 and lease["since"] == NOW - 600


def test_renew_moves_the_lease_when_its_vm_was_committed():
    store = Store({"web01": {"claim": "run-2"}, "zz01": {"lease": live("run-2")}})
    assert lock.renew(store, "run-2", 180, clock=FakeClock(NOW), host="ctl01") is True
    assert lock.parse_lease(store.records["web01"]["lease"])["owner"] == "run-2"


def test_renew_stops_when_the_run_holds_nothing():
    store = Store({"app01": {"claim": "run-1", "lease": live()}})
    assert lock.renew(store, "run-2", 180, clock=FakeClock(NOW)) is False
    assert store.writes == []


# ------------------------------------------------------------------------------------------------ lapse
def test_lapse_ends_the_gone_run_s_lease_now_and_keeps_who_and_since():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2", NOW + 170)},
                   "web01": {"claim": "run-1", "lease": live()}})
    assert lock.lapse(store, "run-2", clock=FakeClock(NOW + 10)) is True
    lease = lock.parse_lease(store.records["app01"]["lease"])
    assert (lease["owner"], lease["since"], lease["until"], lease["host"]) == ("run-2", NOW - 600, NOW + 10, "ctl09")
    assert store.records["app01"]["claim"] == "run-2" and store.records["web01"]["lease"] == live()
    # the next run takes the VM at once: no wait for the ttl
    clock = FakeClock(NOW + 11)
    changed, results, _lease = lock.acquire(store, selected("app01"), "run-3", 180, False, wait_seconds=240, clock=clock,
                                            sleeper=clock.sleep, host="ctl02", variable="x_lock_break")
    assert changed and results[0]["status"] == "acquired" and clock.sleeps == []


def test_lapse_of_no_or_an_already_lapsed_lease_writes_nothing():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2", NOW - 1)}})
    assert lock.lapse(store, "run-2", clock=FakeClock(NOW)) is False
    assert lock.lapse(store, "run-9", clock=FakeClock(NOW)) is False
    assert store.writes == []


def test_lapse_reads_again_after_a_conflict():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2", NOW + 100)}})
    store.before_write = lambda st, key: st.other_run_writes("app01", claim="run-2")
    assert lock.lapse(store, "run-2", clock=FakeClock(NOW)) is True
    assert store.refreshes == 2 and lock.parse_lease(store.records["app01"]["lease"])["until"] == NOW


# ------------------------------------------------------------------------------------------------ release
def test_release_drops_our_claims_and_lease_only():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2")}, "web01": {"claim": "run-1", "lease": live()}})
    changed, results = lock.release(store, selected("app01", "web01"), "run-2", False)
    assert changed is True
    assert [r["status"] for r in results] == ["released", "not_ours"]
    assert store.records["app01"] == {} and store.records["web01"]["claim"] == "run-1"


def test_release_without_a_claim_changes_nothing_and_check_mode_writes_nothing():
    store = Store()
    assert lock.release(store, selected("app01"), "run-2", False) == (
        False, [{"name": "app01", "azure_vm": "app01", "status": "none"}])
    store = Store({"app01": {"claim": "run-2"}})
    assert lock.release(store, selected("app01"), "run-2", True)[0] is True and store.writes == []


def test_renew_after_a_conflict_reads_again_and_renews():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2", NOW + 5)}})
    store.before_write = lambda fake, key: fake.other_run_writes(key)  # an unrelated tag write in between
    assert lock.renew(store, "run-2", 180, clock=FakeClock(NOW), host="ctl01") is True
    assert lock.parse_lease(store.records["app01"]["lease"])["until"] == NOW + 180 and store.refreshes == 2


def test_release_after_a_conflict_reads_again_and_endless_conflicts_fail():
    store = Store({"app01": {"claim": "run-2", "lease": live("run-2")}})
    store.before_write = lambda fake, key: fake.other_run_writes(key)
    assert lock.release(store, selected("app01"), "run-2", False)[0] is True and store.records["app01"] == {}

    class Always:
        def __call__(self, fake, key):
            fake.other_run_writes(key)
            fake.before_write = self
    store = Store({"app01": {"claim": "run-2"}})
    store.before_write = Always()
    with pytest.raises(AzureError, match="Could not release the lease of run run-2"):
        lock.release(store, selected("app01"), "run-2", False)


def test_release_skips_committed_vms():
    store = Store({"app01": {"claim": "run-2"}}, gone={"app01"})
    assert lock.release(store, selected("app01"), "run-2", False) == (
        False, [{"name": "app01", "azure_vm": None, "status": "none"}])


def test_a_refusal_without_a_lease_record_names_the_claims_own_expiry():
    store = Store({"app01": {"claim": "run-1|%d" % (NOW + 60)}})
    with pytest.raises(AzureError) as caught:
        acquire(store, ["app01"])
    assert caught.value.details["refusals"][0].startswith(
        "VM app01 is held by run run-1 (lease until 2025-11-26 06:54:20 UTC); its lease lapses at")


class FakeVms:
    """What TagStore uses of AzureVms: a listed VM per id with tags, find by item, conditional set_tags."""

    def __init__(self, vms, found):
        self.vms = vms
        self.found = found
        self.calls = []

    def forget(self):
        self.calls.append("forget")

    def find(self, item):
        return self.found.get(item["item_name"])

    def tag(self, vm_id, name):
        return self.vms[vm_id]["tags"].get(name)

    def all(self):
        return list(self.vms.values())

    def set_tags(self, vm_id, wanted, remove=(), conditional=False):
        self.calls.append(("set_tags", vm_id, wanted, list(remove), conditional))


def test_tag_store_reads_claims_and_the_latest_lease_and_writes_conditionally():
    vms = FakeVms({"/vm/a": {"id": "/vm/a", "tags": {lock.TAG_LOCK: "run-1", lock.TAG_LEASE: live(until=NOW + 10)}},
                   "/vm/b": {"id": "/vm/b", "tags": {lock.TAG_LEASE: live(until=NOW + 99), lock.TAG_LOCK: "run-1"}},
                   "/vm/c": {"id": "/vm/c", "tags": {lock.TAG_LEASE: "garbage"}}},
                  {"item-app01": {"id": "/vm/a", "exists": True}, "item-web01": {"id": "/vm/x", "exists": False}})
    store = lock.TagStore(vms)
    store.refresh()
    assert store.key({"item_name": "item-app01"}) == "/vm/a"
    assert store.key({"item_name": "item-web01"}) is None and store.key({"item_name": "none"}) is None
    assert store.claim("/vm/a") == "run-1"
    assert store.leases() == {"run-1": dict(lock.parse_lease(live(until=NOW + 99)), key="/vm/b")}
    assert sorted(store.claimed_by("run-1")) == ["/vm/a", "/vm/b"]
    store.write("/vm/a", claim="run-2", lease="L", drop_claim=False)
    store.write("/vm/b", drop_claim=True, drop_lease=True)
    assert vms.calls == ["forget", ("set_tags", "/vm/a", {lock.TAG_LOCK: "run-2", lock.TAG_LEASE: "L"}, [], True),
                         ("set_tags", "/vm/b", {}, [lock.TAG_LOCK, lock.TAG_LEASE], True)]
