# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's timeline as geometry: times in, SVG coordinates out.

Pure Python. :func:`layout` takes the report :func:`report.assemble` returns (epoch seconds: ``run.started_epoch``,
``run.finished_epoch``; per VM ``stages[].start_epoch`` / ``end_epoch`` - the ASR jobs' start and end times - and
``outage``; ``run.boot_groups``) and returns plain numbers and strings that the role's HTML template prints as an
inline SVG, no computation left to Jinja:

- a time axis in UTC with labelled ticks at round steps (1 s to 1 day), a tick's label carrying the date on the
  first tick and wherever the day changes (a run crossing midnight);
- one row per VM, rows grouped by the plan's boot groups in boot order (VMs in no boot group after them);
- per row one bar per stage that ran an ASR job, from the job's start to its end (a job still running when the run
  ended reaches the axis end, class ``running``; a zero-length job keeps its exact ``x`` and ``width`` 0 and is drawn
  ``draw_width`` wide); waiting (the VM had no job running between two of its jobs, or before its first) as a thin
  line; the outage (its failover's start to its on-premises VM running; open to the axis end when it never was)
  shaded behind the bars.

x of a time ``t``: ``left + (t - axis start) * scale`` with ``scale = plot_width / (axis end - axis start)``, in
SVG user units (pixels).
"""

from __future__ import annotations

import datetime
import math

# Tick steps, seconds: the smallest giving at most MAX_TICKS ticks over the axis is used.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_TICKS = 10
MIN_BAR = 2.0  # drawn width of a zero-length (or sub-pixel) job, pixels

LABEL_WIDTH = 130.0  # the VM names' column
PLOT_WIDTH = 900.0
ROW_HEIGHT = 26.0
BAR_HEIGHT = 14.0
GROUP_HEIGHT = 22.0  # a boot group's heading row
AXIS_HEIGHT = 34.0  # the tick labels above the rows
RIGHT_MARGIN = 30.0  # room for the last tick's label

# A bar's fill: by result where it says more than the stage (failed, still running, skipped), else by stage.
FILL_BY_RESULT = {"failed": "#c62828", "running": "url(#stripes)", "skipped": "#aaaaaa"}
FILL_BY_STAGE = {"reprotect_to_onprem": "#5c8fc4", "failover_to_onprem": "#1f5f99", "commit": "#6a4c93",
                 "reprotect_to_azure": "#3c8d5a"}

# A bar's text, when it fits (the legend and the bar's title give the whole name).
STAGE_TEXT = {"reprotect_to_onprem": "reprotect", "failover_to_onprem": "failover", "commit": "commit",
              "reprotect_to_azure": "reprotect"}

# A bar's label, by stage (the report's step names).
STAGE_LABELS = {
    "reprotect_to_onprem": "reprotect to on-premises",
    "failover_to_onprem": "failover to on-premises",
    "commit": "commit",
    "reprotect_to_azure": "reprotect to Azure",
}


def _utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


def _fmt(epoch):
    return _utc(epoch).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds):
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "%.1f s" % seconds
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return ("%d h %02d min %02d s" % (hours, minutes, rest)) if hours else "%d min %02d s" % (minutes, rest)


def step_for(span):
    """The tick step (seconds) for an axis ``span`` seconds long: the smallest of STEPS with at most MAX_TICKS
    ticks; a day for longer spans."""
    for step in STEPS:
        if span / step <= MAX_TICKS:
            return step
    return STEPS[-1] * max(1, math.ceil(span / STEPS[-1] / MAX_TICKS))


def ticks(start, end, left=LABEL_WIDTH, plot_width=PLOT_WIDTH):
    """``[{x, epoch, label}]``: the axis ticks at every multiple of the step (UTC) in ``[start, end]``. A label is
    ``HH:MM:SS`` (``HH:MM`` for steps of a minute or more); the first and any tick on a new UTC day carry the date
    too (``YYYY-MM-DD HH:MM``)."""
    span = max(end - start, 1e-9)
    step = step_for(span)
    scale = plot_width / span
    out = []
    value = math.ceil(start / step) * step
    last_day = None
    while value <= end + 1e-9:
        moment = _utc(value)
        label = moment.strftime("%H:%M:%S" if step < 60 else "%H:%M")
        if moment.date() != last_day:
            label = moment.strftime("%Y-%m-%d ") + label
            last_day = moment.date()
        out.append({"x": round(left + (value - start) * scale, 2), "epoch": value, "label": label})
        value += step
    return out


def _groups(report):
    """``[(label or None, [vm entries])]`` in boot order: the plan's boot groups, then the VMs in none."""
    vms = report.get("vms") or []
    boot_groups = (report.get("run") or {}).get("boot_groups") or []
    by_name = {vm["name"]: vm for vm in vms}
    out, placed = [], set()
    for number, names in enumerate(boot_groups, 1):
        members = [by_name[name] for name in names if name in by_name]
        placed.update(vm["name"] for vm in members)
        if members:
            out.append(("Boot group %d" % number, members))
    rest = [vm for vm in vms if vm["name"] not in placed]
    if rest:
        out.append(("Not in a boot group" if out else None, rest))
    return out


def _span(report):
    """``(axis start, axis end, now)``: the run's start and end, widened to every job's start and end."""
    run = report.get("run") or {}
    finished = float(run.get("finished_epoch") or 0.0)
    started = float(run.get("started_epoch") or finished)
    times = [started, finished]
    for vm in report.get("vms") or []:
        for stage in vm.get("stages") or []:
            times.extend(t for t in (stage.get("start_epoch"), stage.get("end_epoch")) if t is not None)
    start, end = min(times), max(times)
    if end - start < 1.0:
        end = start + 1.0
    return start, end, finished


def layout(report, left=LABEL_WIDTH, plot_width=PLOT_WIDTH):
    """The timeline of ``report`` as geometry.

    Returns ``{width, height, left, plot_width, start_epoch, end_epoch, scale, start, end, axis_y, ticks[],
    groups[] ({label, y}), rows[] ({vm, label, y, bar_y, result, outage ({x, width, title}) or None, bars[]
    ({x, width, draw_width, y, height, css, fill, stage, job, title, text, text_x, start_epoch,
    end_epoch}), waits[] ({x1, x2, y, title})}),
    legend[]}``: SVG user units (pixels) with the origin top left; epochs in seconds.
    """
    start, end, now = _span(report)
    scale = plot_width / (end - start)

    def x_of(epoch):
        return round(left + (epoch - start) * scale, 2)

    y = AXIS_HEIGHT
    groups, rows = [], []
    for label, members in _groups(report):
        if label:
            groups.append({"label": label, "y": y})
            y += GROUP_HEIGHT
        for vm in members:
            rows.append(_row(vm, y, x_of, scale, start, end, now))
            y += ROW_HEIGHT
    return {
        "width": round(left + plot_width + RIGHT_MARGIN, 2), "height": round(y + 8, 2), "left": left,
        "plot_width": plot_width, "start_epoch": start, "end_epoch": end, "scale": scale,
        "start": _fmt(start), "end": _fmt(end), "axis_y": AXIS_HEIGHT - 6,
        "ticks": ticks(start, end, left, plot_width), "groups": groups, "rows": rows,
    }


def _row(vm, y, x_of, scale, start, end, now):
    bar_y = round(y + (ROW_HEIGHT - BAR_HEIGHT) / 2, 2)
    bars, waits = [], []
    timed = sorted((s for s in vm.get("stages") or [] if s.get("start_epoch") is not None),
                   key=lambda s: s["start_epoch"])
    previous_end = start
    for stage in timed:
        first, running = stage["start_epoch"], stage.get("end_epoch") is None
        last = max(now, first) if running else stage["end_epoch"]
        if first > previous_end:
            waits.append({"x1": x_of(previous_end), "x2": x_of(first), "y": round(y + ROW_HEIGHT / 2, 2),
                          "title": "%s waiting %s (no job running for it)" % (vm["name"], _duration(first - previous_end))})
        previous_end = max(previous_end, last)
        width = round((last - first) * scale, 2)
        css = "running" if running or stage.get("result") == "running" else stage.get("result") or "done"
        title = "%s - %s: %s, %s to %s (%s)%s" % (
            vm["name"], STAGE_LABELS.get(stage["stage"], stage["stage"]), css, _fmt(first),
            "still running at the run's end" if running else _fmt(last), _duration(last - first),
            ", job %s" % stage["job"] if stage.get("job") else "")
        text = STAGE_TEXT.get(stage["stage"], stage["stage"])
        bars.append({"x": x_of(first), "width": width, "draw_width": max(width, MIN_BAR), "y": bar_y,
                     "height": BAR_HEIGHT, "css": css, "stage": stage["stage"], "title": title,
                     "fill": FILL_BY_RESULT.get(css) or FILL_BY_STAGE.get(stage["stage"], "#2b7bb9"),
                     # the stage's name inside the bar when it fits (about 6.5 px a character at 11 px)
                     "text": text if width >= len(text) * 6.5 + 8 else "", "text_x": round(x_of(first) + 4, 2),
                     "start_epoch": first, "end_epoch": None if running else last, "job": stage.get("job")})
    outage = None
    window = vm.get("outage") or {}
    if window.get("start_epoch") is not None:
        first = float(window["start_epoch"])
        closed = window.get("end_epoch") is not None
        last = float(window["end_epoch"]) if closed else end
        outage = {"x": x_of(first), "width": round(max(0.0, last - first) * scale, 2), "y": y,
                  "height": ROW_HEIGHT, "title": "%s outage: %s" % (vm["name"], (
                      "from its failover's start %s to its on-premises VM running %s (%s)" % (
                          _fmt(first), _fmt(last), _duration(last - first))) if closed else (
                      "from its failover's start %s; no on-premises VM running by the run's end" % _fmt(first)))}
    failed = [stage for stage in vm.get("stages") or [] if stage.get("result") in ("failed", "refused")]
    return {"vm": vm["name"], "label": vm["name"], "y": y, "bar_y": bar_y, "text_y": round(y + ROW_HEIGHT / 2 + 4, 2),
            "result": "failed" if failed or vm.get("failure") else "ok", "outage": outage, "bars": bars,
            "waits": waits}
