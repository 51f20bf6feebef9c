# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import DeadlineExceeded
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import tasks
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.vsphere.fakes import FakeClient, moref


def scripted(states):
    """states: {moid: [state per poll]}; the last state repeats."""
    polls = {"n": 0}

    def responder(obj_type, paths, objects):
        n = polls["n"]
        polls["n"] += 1
        rows = []
        for obj in objects:
            seq = states[obj._moId]
            state = seq[min(n, len(seq) - 1)]
            error = vim.fault.InvalidPowerState(msg="The VM is powered on") if state == "error" else None
            rows.append({"moid": obj._moId, "obj": obj, "info.state": state, "info.error": error,
                         "info.result": "ok" if state == "success" else None, "info.progress": None})
        return rows
    return responder


def test_waits_for_all_tasks_with_one_read_per_poll():
    task_list = [moref(vim.Task, "task-%d" % i) for i in range(5)]
    states = {t._moId: ["running"] * (i + 1) + ["success"] for i, t in enumerate(task_list)}
    client = FakeClient(scripted(states))
    clock = FakeClock()
    summaries = tasks.wait_for_tasks(client, task_list, Deadline(600, clock=clock, sleeper=clock.sleep),
                                     labels=["t%d" % i for i in range(5)])
    assert [s["state"] for s in summaries] == ["success"] * 5
    assert [s["label"] for s in summaries] == ["t0", "t1", "t2", "t3", "t4"]
    # 6 polls for the slowest task, one read each, never one read per task
    assert client.stats["property_reads"] == 6
    # later polls read only the tasks still pending
    assert len(client.calls[-1][2]) == 1


def test_a_failed_task_raises_with_its_label_and_fault():
    client = FakeClient(scripted({"task-1": ["running", "error"]}))
    clock = FakeClock()
    with pytest.raises(VSphereError) as info:
        tasks.wait_for_task(client, moref(vim.Task, "task-1"), Deadline(60, clock=clock, sleeper=clock.sleep),
                            "power on app01")
    assert "power on app01" in info.value.msg
    assert "The VM is powered on" in info.value.msg
    assert info.value.details["fault"] == "InvalidPowerState"


def test_deadline_expiry_reports_partial_results():
    task_list = [moref(vim.Task, "task-1"), moref(vim.Task, "task-2")]
    client = FakeClient(scripted({"task-1": ["success"], "task-2": ["running"]}))
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded) as info:
        tasks.wait_for_tasks(client, task_list, Deadline(10, clock=clock, sleeper=clock.sleep), labels=["a", "b"])
    assert "1 of 2 vSphere task(s) still running" in info.value.msg
    assert "b" in info.value.msg
    assert [p["state"] for p in info.value.partial] == ["success", "running"]
    assert sum(clock.sleeps) == pytest.approx(10)
