# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wait for the first recovery points: a deadline, a pause between reads, no division anywhere."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import point_wait
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock

POINT = {"name": "p1", "type": "CrashConsistent"}


def item(name, stage, point=None):
    return {"name": name, "failback_stage": stage, "latest_recovery_point": point}


def test_waiting_names_items_reprotecting_or_replicating_without_a_point():
    items = [item("a", "reprotecting_to_onprem", POINT), item("b", "replicating_to_onprem"),
             item("c", "replicating_to_onprem", POINT), item("d", "failed_back"), item("e", "running_in_azure")]
    assert point_wait.waiting(items) == ["a", "b"]


class FakeVault:
    def __init__(self):
        self.forgotten = 0

    def forget(self, *keys):
        self.forgotten += 1


calls_details = []


def scripted(monkeypatch, answers):
    calls = []
    calls_details.clear()

    def describe(vault, azure_vms, vms=(), item_names=(), plan=None, with_points=True, details=True):
        calls.append((tuple(vms), plan, with_points))
        calls_details.append(details)
        return {"items": answers[min(len(calls), len(answers)) - 1], "summary": {}}

    monkeypatch.setattr(point_wait.item_info, "describe", describe)
    return calls


def test_reads_again_after_each_pause_until_every_point_is_there(monkeypatch):
    calls = scripted(monkeypatch, [[item("app01", "reprotecting_to_onprem")], [item("app01", "replicating_to_onprem")],
                                   [item("app01", "replicating_to_onprem", POINT)]])
    clock = FakeClock()
    vault = FakeVault()
    result = point_wait.wait(vault, None, Deadline(3600, clock=clock, sleeper=clock.sleep), 30, vms=["app01"])
    assert result["polls"] == 3 and len(calls) == 3 and calls[0] == (("app01",), None, True)
    assert clock.sleeps == [30, 30] and vault.forgotten == 2  # fresh reads each time
    assert result["waited_seconds"] == 60.0


def test_the_deadline_ends_the_wait_naming_each_vm_and_its_stage(monkeypatch):
    calls = scripted(monkeypatch, [[item("app01", "replicating_to_onprem"), item("db01", "failed_back")]])
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded) as raised:
        point_wait.wait(FakeVault(), None, Deadline(100, clock=clock, sleeper=clock.sleep), 30, vms=["app01", "db01"])
    assert "app01 (replicating_to_onprem)" in raised.value.msg and "db01" not in raised.value.msg
    assert raised.value.details["waiting"] == ["app01"]
    # the last pause is cut at the deadline: 30+30+30+10 s, 5 reads - not thousands
    assert clock.sleeps == [30, 30, 30, 10] and len(calls) == 5


def test_a_zero_timeout_reads_once(monkeypatch):
    calls = scripted(monkeypatch, [[item("app01", "reprotecting_to_onprem")]])
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded):
        point_wait.wait(FakeVault(), None, Deadline(0, clock=clock, sleeper=clock.sleep), 30, vms=["app01"])
    assert len(calls) == 1 and clock.sleeps == []


def test_nothing_to_wait_for_returns_at_once(monkeypatch):
    scripted(monkeypatch, [[item("app01", "failback_committed")]])
    clock = FakeClock()
    result = point_wait.wait(FakeVault(), None, Deadline(10, clock=clock, sleeper=clock.sleep), 30, plan="rp-app")
    assert result["polls"] == 1 and clock.sleeps == []


def test_the_gets_point_evidence_ends_the_wait_without_a_point_list():
    items = [dict(item("a", "replicating_to_onprem"), recovery_point_evidence=True),
             dict(item("b", "replicating_to_onprem"), recovery_point_evidence=False),
             dict(item("c", "reprotecting_to_onprem"), recovery_point_evidence=True)]
    assert point_wait.waiting(items) == ["b", "c"]


def test_a_modernized_item_replicating_waits_for_no_point_but_one_reprotecting_still_waits():
    # the GET of an InMageRcmFailback item shows no consistency points: waiting for them would never end
    items = [dict(item("m1", "replicating_to_onprem"), provider="InMageRcmFailback", recovery_point_evidence=False),
             dict(item("m2", "reprotecting_to_onprem"), provider="InMageRcmFailback", recovery_point_evidence=False),
             dict(item("c1", "replicating_to_onprem"), provider="InMage", recovery_point_evidence=False)]
    assert point_wait.waiting(items) == ["m2", "c1"]


def test_without_point_lists_the_wait_gets_only_the_items_replicating_to_onprem(monkeypatch):
    calls = scripted(monkeypatch, [[dict(item("app01", "replicating_to_onprem"), recovery_point_evidence=True)]])
    clock = FakeClock()
    point_wait.wait(FakeVault(), None, Deadline(3600, clock=clock, sleeper=clock.sleep), 30, vms=["app01"],
                    with_points=False)
    assert calls == [(("app01",), None, False)]
    wanted = calls_details[0]
    assert wanted({"failback_stage": "replicating_to_onprem"}) and not wanted({"failback_stage": "reprotecting_to_onprem"})
