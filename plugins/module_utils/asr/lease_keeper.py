# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep a run's lease alive exactly as long as the run: a detached process that renews the lease
every ``interval`` seconds while the ``ansible-playbook`` process it watches lives.

When the run ends normally, the failback role releases the lease and the keeper, finding no claim
left, stops. When the run is killed or cancelled (SIGKILL or SIGINT of ``ansible-playbook``, a cancelled
AWX job), the keeper goes on renewing while a process that ran below ``ansible-playbook`` lives (a worker or a
module that outlived it may still act), then ends the lease at once (``lock.lapse``): the
identical re-run proceeds at once, without ``lock_break``. When the keeper dies too (a lost execution
node), the lease lapses by itself ``ttl`` seconds after its last renewal.

Linux only for finding the playbook process (``/proc``); elsewhere no keeper starts and the lease
lasts its ttl from each ``run_lock`` call.
"""

from __future__ import annotations

import os
import time

RUNNER = "ansible-playbook"
MAX_SECONDS = 48 * 3600  # a keeper never outlives two days, whatever it watches


def _parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses; the fields after the last ')' do not
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[1]) if len(fields) > 1 else None


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def playbook_pid(start=None):
    """The ``ansible-playbook`` process this module runs under, or None (not found, or no ``/proc``).

    Ansible forks a worker per task from the playbook process, and a forked worker keeps its parent's
    command line: the playbook is the *outermost* ancestor whose command line runs ``ansible-playbook``
    (under ansible-runner or ansible-navigator too, which start it as a child).
    """
    pid = _parent(start or os.getpid())
    seen, found = set(), None
    while pid and pid > 1 and pid not in seen:
        seen.add(pid)
        if RUNNER in _cmdline(pid):
            found = pid
        pid = _parent(pid)
    return found


def alive(pid):
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True  # no /proc: kill(0) said it exists


def _stat(pid):
    """``(state, ppid, start time in clock ticks)`` of ``pid`` from ``/proc``, or None."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[-1].split()
        return fields[0], int(fields[1]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def descendants(pid):
    """``{pid: start time}`` of the live processes below ``pid`` (its workers, the modules they run); reads
    ``/proc``. The start time tells a process from a later one that reuses its pid."""
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return {}
    stats = {p: _stat(p) for p in pids}
    children = {}
    for child, stat in stats.items():
        if stat and stat[0] != "Z":
            children.setdefault(stat[1], []).append(child)
    found, todo = {}, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        if child not in found and child != os.getpid():
            found[child] = stats[child][2]
            todo.extend(children.get(child, []))
    return found


def any_alive(known):
    """True while a process of ``known`` (``descendants``' answer) still runs - the same process, not a reuse of
    its pid."""
    for pid, started in known.items():
        stat = _stat(pid)
        if stat and stat[0] != "Z" and stat[2] == started:
            return True
    return False


def keep(renew_once, interval, watched, clock=time.monotonic, sleeper=time.sleep, max_seconds=MAX_SECONDS,
         lapse=None):
    """The keeper's loop: renew every ``interval`` s while ``watched`` - or a process that ran below it when it was
    last seen alive (a worker or a module that outlives a killed ``ansible-playbook`` and may still act) - lives,
    and ``renew_once(ending)`` says the run still holds claims. ``ending`` is true when the playbook is gone and
    only what ran below it lives: the lease says so (``lock.ENDING``), and a run waiting for it waits on instead of
    refusing. A failed renewal is tried again at the next tick (the lease outlives several ticks). When the run is
    gone, ``lapse()`` ends the lease at once (an error there leaves it to lapse by itself). Returns why it
    stopped: ``run ended``, ``released`` or ``too old``."""
    started = clock()
    below = {}
    while True:
        sleeper(interval)
        playbook = alive(watched)
        if playbook:
            below = descendants(watched)
        elif not any_alive(below):
            if lapse is not None:
                try:
                    lapse()
                except Exception:  # pylint: disable=broad-except  # the lease then lapses by itself
                    pass
            return "run ended"
        if clock() - started > max_seconds:
            return "too old"
        try:
            if not renew_once(ending=not playbook):
                return "released"
        except Exception:  # pylint: disable=broad-except  # a transient error: the next tick tries again
            continue


def start(renew_once, interval, watched, lapse=None):
    """Fork a detached keeper (double fork, new session, standard streams on /dev/null so Ansible does
    not wait for it) that watches ``watched`` and the processes below it. Returns the keeper's pid in the caller,
    never returns in the keeper. ``renew_once`` and ``lapse`` must build their own Azure session: the parent's
    connections are not shared."""

    read_end, write_end = os.pipe()
    first = os.fork()
    if first:
        os.close(write_end)
        with os.fdopen(read_end) as handle:
            pid = handle.read().strip()
        os.waitpid(first, 0)
        return int(pid) if pid else None
    try:  # the first child: detach and fork the keeper
        os.close(read_end)
        os.setsid()
        second = os.fork()
        if second:
            os.write(write_end, str(second).encode())
            os._exit(0)  # pylint: disable=protected-access  # leave at once, without the module's exit handlers
        os.close(write_end)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 1024)
        keep(renew_once, interval, watched, lapse=lapse)
    finally:
        os._exit(0)  # pylint: disable=protected-access  # never run the module's code after the keeper
