# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a waiting module records for the controller to show (module_utils/progress.py), from the recorded ASR jobs:
expected tasks and times are copied by hand from the recordings (tests/recorded/asr)."""

import calendar
import time

from ansible_collections.siterecovery.failback.plugins.module_utils import progress
from ansible_collections.siterecovery.failback.plugins.module_utils.azure import jobs
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk as rec

COMMIT_JOB = "a422ca87-173b-4a70-80fd-4ce89bfa1c52"
# job.commit.inprogress.V2ATestFailback: startTime 2021-04-06T12:06:12.4149852Z
COMMIT_STARTED = calendar.timegm((2021, 4, 6, 12, 6, 12)) + 0.4149852


def summary(name):
    return jobs.summarize(rec.one("job", name))


def test_the_current_task_of_the_recorded_jobs():
    # tasks: Prerequisite check Succeeded, Commit InProgress
    assert progress.current_task(summary("job.commit.inprogress.V2ATestFailback")) == "Commit"
    # tasks: Prerequisites check Succeeded, Shut down Other, Synchronizing Other, Start failover InProgress, ...
    assert progress.current_task(summary("job.failback_failover.inprogress_mid.V2ATestFailback")) == "Start failover"
    assert progress.current_task({"tasks": []}) is None
    # nothing in progress: the last started; nothing started: the first
    assert progress.current_task({"tasks": [{"name": "a", "state": "Succeeded"}, {"name": "b", "state": "NotStarted"}]}) == "a"
    assert progress.current_task({"tasks": [{"name": "a", "state": "NotStarted"}, {"name": "b", "state": "NotStarted"}]}) == "a"


def test_the_wait_records_each_jobs_vm_job_task_and_start(tmp_path):
    polls = [rec.one("job", "job.commit.notstarted_first_poll.V2ATestFailback"),
             rec.one("job", "job.commit.inprogress.V2ATestFailback"),
             rec.one("job", "job.commit.succeeded.V2ATestFailback")]
    path = str(tmp_path / "progress.json")
    seen = []

    class Jobs:
        def get(self, rg, vault, name):
            seen.append(progress.read(path))
            return polls[min(len(seen), len(polls)) - 1]

    client = type("Client", (), {"replication_jobs": Jobs()})()
    clock = FakeClock()
    deadline = Deadline(600, clock=clock, sleeper=clock.sleep, progress=progress.Progress(path, "commit"))
    jobs.wait(client, "PwsTestRG", "PwsTestVault", [COMMIT_JOB], deadline, poll=1)
    # before the first read nothing; after the first (NotStarted, no tasks yet) and the second poll, the job
    assert seen[0] is None and len(seen) == 3
    # the first poll's job names no target yet (recorded: no targetObjectName): kept under the job's name
    assert list(seen[1]["items"]) == [COMMIT_JOB] and seen[1]["items"][COMMIT_JOB]["state"] == "NotStarted"
    assert list(seen[2]["items"]) == ["V2A-W2K16-201"]
    item = seen[2]["items"]["V2A-W2K16-201"]
    assert seen[2]["stage"] == "commit"
    assert item["what"] == "ASR job" and item["job"] == COMMIT_JOB and item["job_id"].endswith("/replicationJobs/" + COMMIT_JOB)
    assert item["task"] == "Commit" and item["state"] == "InProgress"
    assert abs(item["since"] - COMMIT_STARTED) < 0.001
    # the finished job is no longer waited for
    assert progress.read(path)["items"]["V2A-W2K16-201"] == item


def test_items_keep_their_start_while_they_wait_for_the_same_thing(tmp_path):
    now = [100.0]
    recorder = progress.Progress(str(tmp_path / "p.json"), "on-premises VM", clock=lambda: now[0])
    recorder.item("app01", "VMware Tools", state="guestToolsNotRunning")
    now[0] = 160.0
    recorder.item("app01", "VMware Tools", state="guestToolsNotRunning")
    assert progress.read(recorder.path)["items"]["app01"]["since"] == 100.0
    recorder.item("app01", "vSphere task", job="task-12")
    assert progress.read(recorder.path)["items"]["app01"] == {"what": "vSphere task", "since": 160.0, "job": "task-12"}
    recorder.item("", "x")  # no name: nothing recorded
    assert list(progress.read(recorder.path)["items"]) == ["app01"]


def test_without_a_file_nothing_is_written_and_a_failed_write_never_raises(tmp_path):
    progress.NONE.item("app01", "VMware Tools")
    progress.NONE.jobs([{"name": "j", "target": "app01"}])
    assert progress.NONE.items == {}
    broken = progress.Progress(str(tmp_path / "missing" / "p.json"), "failover")
    broken.jobs([{"name": "j", "id": "/x/j", "target": "app01", "tasks": [], "state": "InProgress",
                  "start_epoch": None}])
    assert broken.failed_writes == 1 and not (tmp_path / "missing").exists()
    assert progress.read(str(tmp_path / "missing" / "p.json")) is None
    (tmp_path / "half.json").write_text("{\"stage")
    assert progress.read(str(tmp_path / "half.json")) is None
    (tmp_path / "list.json").write_text("[]")
    assert progress.read(str(tmp_path / "list.json")) is None


def test_the_lines_name_each_vm_its_stage_job_task_and_elapsed_time():
    document = {"stage": "failover", "items": {
        "db01": {"what": "ASR job", "job": "a2e9", "job_id": "/jobs/a2e9", "task": "Start failover",
                 "state": "InProgress", "since": 1000.0},
        "app01": {"what": "VMware Tools", "state": "guestToolsNotRunning", "since": 1890.0},
        "web01": {"what": "ASR job", "since": "garbage"}, "odd": "not a dict"}}
    assert progress.lines(document, "step", now=4725.0, started=4700.0) == [
        "app01: failover - waiting for VMware Tools, guestToolsNotRunning, 47m15s elapsed",
        "db01: failover - waiting for ASR job, job a2e9 (/jobs/a2e9), task 'Start failover', InProgress, "
        "1h02m05s elapsed",
        "odd: failover - waiting for ?, 25s elapsed",
        "web01: failover - waiting for ASR job, 25s elapsed"]
    assert progress.lines(None, "commit", now=130.0, started=100.0) == [
        "commit: running, 30s elapsed (no wait recorded yet)"]
    assert progress.duration(-3) == "0s" and progress.duration(59.9) == "59s" and progress.duration(3600) == "1h00m00s"


def test_a_real_clock_by_default(tmp_path):
    recorder = progress.Progress(str(tmp_path / "p.json"), "commit")
    before = time.time()
    recorder.item("app01", "ASR job")
    assert before <= progress.read(recorder.path)["items"]["app01"]["since"] <= time.time()


def test_a_plan_job_is_recorded_under_each_of_its_vms_naming_the_plan(tmp_path):
    path = str(tmp_path / "progress.json")
    recorder = progress.Progress(path, "failover")
    recorder.members("rp-app", ["db01", "app02"])
    job = {"name": "job-1", "id": "/replicationJobs/job-1", "target": "rp-app", "state": "InProgress",
           "start_epoch": 1000.0, "tasks": [{"name": "Group 1: Start", "state": "InProgress"}]}
    recorder.jobs([job])
    items = progress.read(path)["items"]
    assert sorted(items) == ["app02", "db01"]
    assert items["db01"]["plan"] == "rp-app" and items["db01"]["task"] == "Group 1: Start"
    lines = progress.lines(progress.read(path), "failover", now=1065.0, started=1000.0)
    assert lines[1] == ("db01: failover - waiting for ASR job, job job-1 (/replicationJobs/job-1) of recovery plan "
                        "rp-app, task 'Group 1: Start', InProgress, 1m05s elapsed")
