# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's timeline geometry: given job times in, SVG coordinates out (issue 16)."""

import datetime

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import timeline

T0 = datetime.datetime(2026, 11, 30, 10, 0, 0, tzinfo=datetime.timezone.utc).timestamp()
LEFT, PLOT = 100.0, 600.0


def stage(name, start, end, result="done", job=None):
    return {"stage": name, "result": result, "start_epoch": None if start is None else T0 + start,
            "end_epoch": None if end is None else T0 + end, "job": job or "job-%s" % name}


def report(vms, started=0.0, finished=600.0, boot_groups=()):
    return {"run": {"started_epoch": T0 + started, "finished_epoch": T0 + finished,
                    "boot_groups": [list(group) for group in boot_groups]},
            "vms": vms}


def test_a_bar_stands_at_its_jobs_start_and_is_as_wide_as_the_job_lasted():
    vm = {"name": "app01", "stages": [stage("reprotect_to_onprem", 60, 240), stage("failover_to_onprem", 300, 420),
                                      stage("commit", 450, 480)]}
    geometry = timeline.layout(report([vm]), left=LEFT, plot_width=PLOT)
    assert geometry["scale"] == 1.0 and geometry["start_epoch"] == T0 and geometry["end_epoch"] == T0 + 600
    bars = geometry["rows"][0]["bars"]
    # 600 s over 600 px: 1 px a second from x = 100
    assert [(b["stage"], b["x"], b["width"]) for b in bars] == [
        ("reprotect_to_onprem", 160.0, 180.0), ("failover_to_onprem", 400.0, 120.0), ("commit", 550.0, 30.0)]
    assert bars[0]["job"] == "job-reprotect_to_onprem" and bars[0]["css"] == "done"
    assert "app01 - reprotect to on-premises: done, 2026-11-30 10:01:00 UTC to 2026-11-30 10:04:00 UTC (3 min 00 s)" \
        in bars[0]["title"]
    # waiting between the jobs (and before the first): from one job's end to the next one's start
    assert [(w["x1"], w["x2"]) for w in geometry["rows"][0]["waits"]] == [(100.0, 160.0), (340.0, 400.0),
                                                                          (520.0, 550.0)]
    assert "waiting 1 min 00 s" in geometry["rows"][0]["waits"][0]["title"]


def test_another_scale_and_a_job_before_the_runs_clock_widen_the_axis():
    vm = {"name": "db01", "stages": [stage("failover_to_onprem", -30, 90)]}
    geometry = timeline.layout(report([vm], finished=270), left=LEFT, plot_width=PLOT)
    # the axis runs from the job's start (30 s before the run's) to the run's end: 300 s over 600 px
    assert geometry["start_epoch"] == T0 - 30 and geometry["scale"] == 2.0
    drawn = geometry["rows"][0]["bars"][0]
    assert (drawn["x"], drawn["width"]) == (100.0, 240.0)


def test_a_zero_length_job_keeps_its_place_and_is_drawn_visible():
    vm = {"name": "app01", "stages": [stage("commit", 120, 120)]}
    drawn = timeline.layout(report([vm]), left=LEFT, plot_width=PLOT)["rows"][0]["bars"][0]
    assert (drawn["x"], drawn["width"], drawn["draw_width"]) == (220.0, 0.0, timeline.MIN_BAR)
    assert drawn["text"] == ""  # no room for its name


def test_a_job_still_running_at_the_runs_end_reaches_the_end_as_running():
    vm = {"name": "app01", "stages": [stage("failover_to_onprem", 400, None, result="running")]}
    geometry = timeline.layout(report([vm], finished=500), left=LEFT, plot_width=PLOT)
    drawn = geometry["rows"][0]["bars"][0]
    assert geometry["end_epoch"] == T0 + 500
    assert (drawn["x"], drawn["width"], drawn["css"], drawn["end_epoch"]) == (580.0, 120.0, "running", None)
    assert "still running at the run's end" in drawn["title"] and drawn["fill"] == "url(#stripes)"


def test_a_failed_job_is_red_and_its_row_is_marked_failed():
    vm = {"name": "app01", "stages": [stage("failover_to_onprem", 10, 20, result="failed")],
          "failure": {"step": "failover_to_onprem", "message": "8038"}}
    row = timeline.layout(report([vm, {"name": "db01", "stages": []}]))["rows"]
    assert row[0]["bars"][0]["fill"] == timeline.FILL_BY_RESULT["failed"] and row[0]["result"] == "failed"
    assert row[1]["result"] == "ok" and row[1]["bars"] == []


def test_a_stage_that_ran_no_job_has_no_bar():
    vm = {"name": "web02", "stages": [stage("commit", None, None, result="refused")]}
    row = timeline.layout(report([vm]))["rows"][0]
    assert row["bars"] == [] and row["result"] == "failed"


def test_the_outage_is_shaded_from_the_failovers_start_to_the_vm_running():
    closed = {"name": "db01", "stages": [], "outage": {"start_epoch": T0 + 300, "end_epoch": T0 + 360}}
    still = {"name": "app01", "stages": [], "outage": {"start_epoch": T0 + 300, "end_epoch": None}}
    rows = timeline.layout(report([closed, still]), left=LEFT, plot_width=PLOT)["rows"]
    assert (rows[0]["outage"]["x"], rows[0]["outage"]["width"]) == (400.0, 60.0)
    assert "to its on-premises VM running 2026-11-30 10:06:00 UTC (1 min 00 s)" in rows[0]["outage"]["title"]
    # never verified running by the run's end: open to the axis' end
    assert (rows[1]["outage"]["x"], rows[1]["outage"]["width"]) == (400.0, 300.0)
    assert "no on-premises VM running by the run's end" in rows[1]["outage"]["title"]
    assert timeline.layout(report([{"name": "x", "stages": []}]))["rows"][0]["outage"] is None


def test_rows_follow_the_plans_boot_groups_in_boot_order():
    vms = [{"name": name, "stages": []} for name in ("web01", "app01", "db01", "app02", "lone01")]
    geometry = timeline.layout(report(vms, boot_groups=[["db01", "app02"], ["app01", "web01"], ["gone01"]]))
    assert [row["vm"] for row in geometry["rows"]] == ["db01", "app02", "app01", "web01", "lone01"]
    assert [group["label"] for group in geometry["groups"]] == ["Boot group 1", "Boot group 2", "Not in a boot group"]
    # each heading sits above its rows; rows one row height apart, a heading's height between groups
    ys = [row["y"] for row in geometry["rows"]]
    heading = timeline.GROUP_HEIGHT
    assert geometry["groups"][0]["y"] == timeline.AXIS_HEIGHT and ys[0] == timeline.AXIS_HEIGHT + heading
    assert ys[1] - ys[0] == timeline.ROW_HEIGHT and ys[2] - ys[1] == timeline.ROW_HEIGHT + heading
    assert geometry["height"] == ys[-1] + timeline.ROW_HEIGHT + 8


def test_without_a_plan_there_is_no_heading():
    geometry = timeline.layout(report([{"name": "app01", "stages": []}]))
    assert geometry["groups"] == [] and geometry["rows"][0]["y"] == timeline.AXIS_HEIGHT


@pytest.mark.parametrize("span, step", [(0.5, 1), (10, 1), (11, 2), (60, 10), (600, 60), (3600, 600), (6001, 900),
                                        (7 * 3600, 3600), (10 * 86400, 86400), (30 * 86400, 3 * 86400)])
def test_the_tick_step_gives_at_most_ten_ticks(span, step):
    assert timeline.step_for(span) == step


def test_ticks_are_round_utc_times_with_the_date_on_the_first():
    ticks = timeline.ticks(T0 + 7, T0 + 67, left=LEFT, plot_width=PLOT)
    # 60 s: a tick every 10 s at 10:00:10 ... 10:01:00, 10 px a second from x = 100 at 10:00:07
    assert [t["label"] for t in ticks] == ["2026-11-30 10:00:10", "10:00:20", "10:00:30", "10:00:40", "10:00:50",
                                           "10:01:00"]
    assert [t["x"] for t in ticks] == [130.0, 230.0, 330.0, 430.0, 530.0, 630.0]
    hourly = timeline.ticks(T0, T0 + 3 * 3600, left=LEFT, plot_width=PLOT)
    assert [t["label"] for t in hourly][:3] == ["2026-11-30 10:00", "10:30", "11:00"]


def test_a_run_crossing_midnight_labels_the_new_day():
    before = datetime.datetime(2026, 11, 30, 23, 50, tzinfo=datetime.timezone.utc).timestamp()
    vm = {"name": "app01", "stages": [{"stage": "failover_to_onprem", "result": "done", "start_epoch": before + 300,
                                       "end_epoch": before + 900, "job": "j"}]}
    geometry = timeline.layout({"run": {"started_epoch": before, "finished_epoch": before + 1200}, "vms": [vm]},
                               left=LEFT, plot_width=PLOT)
    labels = [t["label"] for t in geometry["ticks"]]
    assert labels == ["2026-11-30 23:50", "23:52", "23:54", "23:56", "23:58", "2026-12-01 00:00", "00:02", "00:04",
                      "00:06", "00:08", "00:10"]
    drawn = geometry["rows"][0]["bars"][0]
    assert (drawn["x"], drawn["width"]) == (250.0, 300.0)  # 0.5 px a second: 23:55 to 00:05
    assert geometry["start"] == "2026-11-30 23:50:00 UTC" and geometry["end"] == "2026-12-01 00:10:00 UTC"


def test_a_run_of_no_length_still_has_an_axis():
    geometry = timeline.layout({"run": {"finished_epoch": T0}, "vms": []}, left=LEFT, plot_width=PLOT)
    assert geometry["end_epoch"] - geometry["start_epoch"] == 1.0 and geometry["rows"] == []
    assert [t["label"] for t in geometry["ticks"]] == ["2026-11-30 10:00:00", "10:00:01"]


def test_durations_read_in_hours_and_minutes():
    assert timeline._duration(42.04) == "42.0 s"
    assert timeline._duration(3725) == "1 h 02 min 05 s"
