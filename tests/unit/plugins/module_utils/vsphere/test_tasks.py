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


def deadline(seconds=600):
    clock = FakeClock()
    return Deadline(seconds, clock=clock, sleeper=clock.sleep), clock


def test_no_task_no_read():
    client = FakeClient(scripted({}))
    assert tasks.wait_for_tasks(client, [], deadline()[0]) == []
    assert client.calls == []


def test_a_task_that_succeeds_returns_its_result_without_raising():
    client = FakeClient(scripted({"task-1": ["queued", "running", "success"]}))
    limit, _clock = deadline()
    summary = tasks.wait_for_task(client, moref(vim.Task, "task-1"), limit, "reconfigure app01")
    assert summary == {"task": "task-1", "label": "reconfigure app01", "state": "success", "result": "ok",
                       "progress": None, "error": None, "fault": None}
    assert client.stats["property_reads"] == 3


def test_the_server_enum_states_are_reported_as_their_names():
    # vim.TaskInfo.State values: queued, running, success, error
    state = vim.TaskInfo.State
    client = FakeClient(scripted({"task-1": [state.queued, state.running, state.success]}))
    [summary] = tasks.wait_for_tasks(client, [moref(vim.Task, "task-1")], deadline()[0])
    assert summary["state"] == "success"


def test_an_error_ends_the_wait_and_is_summarized_with_its_fault():
    client = FakeClient(scripted({"task-1": ["error"], "task-2": ["running", "success"]}))
    summaries = tasks.wait_for_tasks(client, [moref(vim.Task, "task-1"), moref(vim.Task, "task-2")], deadline()[0])
    assert [(s["state"], s["fault"]) for s in summaries] == [("error", "InvalidPowerState"), ("success", None)]
    assert summaries[0]["error"] == "The VM is powered on"
    # the failed task is final: the second read asks only for the other one
    assert [[t._moId for t in call[2]] for call in client.calls] == [["task-1", "task-2"], ["task-2"]]


def test_labels_default_to_the_task_ids():
    client = FakeClient(scripted({"task-7": ["success"]}))
    assert tasks.wait_for_tasks(client, [moref(vim.Task, "task-7")], deadline()[0])[0]["label"] == "task-7"


def test_a_task_missing_from_a_read_is_still_waited_for():
    seen = {"n": 0}

    def responder(obj_type, paths, objects):
        seen["n"] += 1
        if seen["n"] == 1:
            return []
        return [{"moid": o._moId, "obj": o, "info.state": "success", "info.error": None, "info.result": None,
                 "info.progress": 100} for o in objects]

    client = FakeClient(responder)
    [summary] = tasks.wait_for_tasks(client, [moref(vim.Task, "task-1")], deadline()[0])
    assert (summary["state"], summary["progress"]) == ("success", 100)
    assert client.stats["property_reads"] == 2


def test_the_task_properties_read_are_the_ones_summarized():
    client = FakeClient(scripted({"task-1": ["success"]}))
    tasks.wait_for_tasks(client, [moref(vim.Task, "task-1")], deadline()[0])
    assert set(client.calls[0][1]) >= {"info.state", "info.error", "info.result", "info.progress"}


def test_finished_tasks_return_at_once_even_on_an_expired_deadline():
    client = FakeClient(scripted({"task-1": ["success"]}))
    limit, clock = deadline(0)
    assert tasks.wait_for_tasks(client, [moref(vim.Task, "task-1")], limit)[0]["state"] == "success"
    assert clock.sleeps == []


def test_an_expired_deadline_is_checked_after_a_read_not_before():
    client = FakeClient(scripted({"task-1": ["running"]}))
    limit, clock = deadline(0)
    with pytest.raises(DeadlineExceeded) as info:
        tasks.wait_for_tasks(client, [moref(vim.Task, "task-1")], limit, labels=["detach disks from mt01"])
    assert client.stats["property_reads"] == 1
    assert clock.sleeps == []
    assert "1 of 1 vSphere task(s) still running" in info.value.msg and "detach disks from mt01" in info.value.msg
    assert info.value.partial == [{"task": "task-1", "label": "detach disks from mt01", "state": "running",
                                   "result": None, "progress": None, "error": None, "fault": None}]


def test_the_poll_interval_grows_by_half_up_to_max_poll():
    client = FakeClient(scripted({"task-1": ["running"] * 6 + ["success"]}))
    limit, clock = deadline()
    tasks.wait_for_tasks(client, [moref(vim.Task, "task-1")], limit, poll=1.0, max_poll=3.0)
    assert clock.sleeps == [1.0, 1.5, 2.25, 3.0, 3.0, 3.0]


def test_a_task_failing_with_the_servers_error_state_raises():
    # the property collector answers vim.TaskInfo.State values, not plain strings
    state = vim.TaskInfo.State
    client = FakeClient(scripted({"task-1": [state.running, state.error]}))
    with pytest.raises(VSphereError, match="vSphere task 'attach disks to mt01' failed: The VM is powered on"):
        tasks.wait_for_task(client, moref(vim.Task, "task-1"), deadline()[0], "attach disks to mt01")


def test_by_default_polls_start_at_half_a_second_and_grow_to_five():
    client = FakeClient(scripted({"task-1": ["running"] * 8 + ["success"]}))
    limit, clock = deadline()
    tasks.wait_for_tasks(client, [moref(vim.Task, "task-1")], limit)
    assert clock.sleeps == pytest.approx([0.5, 0.75, 1.125, 1.6875, 2.53125, 3.796875, 5.0, 5.0])
