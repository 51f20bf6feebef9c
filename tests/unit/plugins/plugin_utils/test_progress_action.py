# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The waiting modules' action plugins (plugin_utils/progress.py): the module runs with a private progress file and,
while it runs, a line per VM is printed at the interval; async, remote and module-less paths."""

import json
import os
import threading
import time
from unittest import mock

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar

from ansible_collections.siterecovery.failback.plugins.action import commit as commit_action
from ansible_collections.siterecovery.failback.plugins.action import failover as failover_action
from ansible_collections.siterecovery.failback.plugins.action import master_target_disks, onprem_vm, replicated_item_info
from ansible_collections.siterecovery.failback.plugins.action import reprotect as reprotect_action
from ansible_collections.siterecovery.failback.plugins.plugin_utils import progress as progress_action


@pytest.mark.parametrize("value, expected", [(None, 20.0), ("", 20.0), (5, 5.0), ("30", 30.0), (1, 1.0)])
def test_the_interval(value, expected):
    assert progress_action.interval(value) == expected


@pytest.mark.parametrize("value", [0, 31, "abc", True, 0.5, [1]])
def test_an_interval_out_of_range_is_refused_naming_the_variable(value):
    with pytest.raises(AnsibleError, match="failback_progress_interval: must be a number of seconds from 1 to 30"):
        progress_action.interval(value)


def test_the_reporter_prints_the_file_at_each_tick(tmp_path):
    path = tmp_path / "p.json"
    shown = []
    reporter = progress_action.Reporter(str(path), "failover", 20, shown.append, clock=lambda: 130.0)
    reporter.started = 100.0
    reporter.tick()
    path.write_text(json.dumps({"stage": "failover", "items": {"app01": {"what": "ASR job", "job": "j1",
                                                                         "task": "Start failover", "since": 70.0}}}))
    reporter.tick()
    assert shown == ["[failback progress] failover: running, 30s elapsed (no wait recorded yet)",
                     "[failback progress] app01: failover - waiting for ASR job, job j1, task 'Start failover', "
                     "1m00s elapsed"]
    remote = progress_action.Reporter(None, "commit", 20, shown.append, clock=lambda: 100.0)
    remote.started = 100.0
    remote.tick()
    assert shown[-1] == "[failback progress] commit: running, 0s elapsed (no wait recorded yet)"


def test_the_reporter_thread_prints_until_stopped_and_survives_a_failing_line():
    shown = []
    calls = []

    def show(line):
        calls.append(line)
        if len(calls) == 1:
            raise OSError("display closed")
        shown.append(line)

    reporter = progress_action.Reporter(None, "commit", 0.01, show).start()
    deadline = time.monotonic() + 30
    while len(shown) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    reporter.stop()
    count = len(calls)
    time.sleep(0.05)
    assert len(shown) >= 3 and len(calls) == count
    assert any("cannot show progress (display closed)" in line for line in shown)


def make_action(cls, args, transport="local", async_val=0):
    task = Task()
    task.args = args
    task.action = "siterecovery.failback.commit"
    task.async_val = async_val
    connection = mock.MagicMock()
    connection.transport = transport
    connection._load_name = "ansible.builtin." + transport
    connection.has_native_async = False
    connection._shell.tmpdir = None
    return cls(task, connection, PlayContext(), DataLoader(), Templar(loader=DataLoader()), None)


def test_the_module_runs_with_a_private_progress_file_while_lines_are_printed(tmp_path):
    plugin = make_action(commit_action.ActionModule, {"vms": ["app01"]})
    shown = []
    sent = {}

    def execute(module_args=None, task_vars=None, **kwargs):
        sent.update(module_args)
        path = module_args["progress_file"]
        sent["directory_mode"] = os.stat(os.path.dirname(path)).st_mode & 0o777
        with open(path, "w") as out:
            json.dump({"stage": "commit", "items": {"app01": {"what": "ASR job", "job": "j1", "task": "Commit",
                                                              "since": time.time()}}}, out)
        deadline = time.monotonic() + 30
        while len(shown) < 2 and time.monotonic() < deadline:  # the module "waits" until two lines came
            time.sleep(0.01)
        return {"changed": True, "invocation": {"module_args": dict(module_args)}}

    with mock.patch.object(plugin, "_execute_module", side_effect=execute), \
            mock.patch.object(progress_action.display, "display", side_effect=shown.append):
        result = plugin.run(task_vars={"failback_progress_interval": 1})
    assert result["changed"] is True and sent["vms"] == ["app01"]
    assert sent["directory_mode"] == 0o700 and not os.path.exists(sent["progress_file"])
    assert all(line.startswith("[failback progress] app01: commit - waiting for ASR job, job j1, task 'Commit'")
               for line in shown[:2])
    assert "progress_file" not in result["invocation"]["module_args"]
    assert plugin._task.args == {"vms": ["app01"]}  # the task's own arguments are untouched


def test_a_progress_file_given_is_kept_and_an_async_task_runs_the_module_unchanged(tmp_path):
    plugin = make_action(failover_action.ActionModule, {"progress_file": str(tmp_path / "mine.json")})
    with mock.patch.object(plugin, "_execute_module", return_value={"changed": False}) as execute:
        plugin.run(task_vars={})
    assert execute.call_args.kwargs["module_args"] == {"progress_file": str(tmp_path / "mine.json")}
    plugin = make_action(reprotect_action.ActionModule, {"vms": ["app01"]}, async_val=600)
    with mock.patch.object(plugin, "_execute_module", return_value={"ansible_job_id": "1"}) as execute:
        result = plugin.run(task_vars={})
    assert result["ansible_job_id"] == "1" and "module_args" not in execute.call_args.kwargs
    assert execute.call_args.kwargs["wrap_async"] is True


def test_a_module_on_another_host_gets_no_file_but_the_lines_still_come():
    plugin = make_action(onprem_vm.ActionModule, {"vms": []}, transport="ssh")
    shown = []

    def execute(module_args=None, task_vars=None, **kwargs):
        deadline = time.monotonic() + 30
        while not shown and time.monotonic() < deadline:
            time.sleep(0.01)
        return {"changed": False, "args": dict(module_args)}

    with mock.patch.object(plugin, "_execute_module", side_effect=execute), \
            mock.patch.object(progress_action.display, "display", side_effect=shown.append):
        result = plugin.run(task_vars={"failback_progress_interval": "1"})
    assert "progress_file" not in result["args"]
    assert shown[0].startswith("[failback progress] on-premises VM: running, ")


def test_a_failing_module_stops_the_lines_and_removes_the_file():
    plugin = make_action(replicated_item_info.ActionModule, {})
    seen = {}

    def execute(module_args=None, task_vars=None, **kwargs):
        seen["path"] = module_args["progress_file"]
        raise AnsibleError("connection lost")

    threads = threading.active_count()
    with mock.patch.object(plugin, "_execute_module", side_effect=execute), pytest.raises(AnsibleError):
        plugin.run(task_vars={})
    assert not os.path.exists(os.path.dirname(seen["path"])) and threading.active_count() == threads


def test_each_waiting_module_names_its_stage():
    assert [m.ActionModule.STAGE for m in (reprotect_action, failover_action, commit_action, onprem_vm,
                                           replicated_item_info, master_target_disks)] == [
        "reprotect", "failover", "commit", "on-premises VM", "recovery point wait", "master target disks"]
