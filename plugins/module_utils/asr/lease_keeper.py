# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep a run's lease alive exactly as long as the run: a detached process that renews the lease
every ``interval`` seconds while the ``ansible-playbook`` process it watches lives.

When the run ends normally, the failback role releases the lease and the keeper, finding no claim
left, stops. When the run is killed (SIGKILL, a cancelled AWX job, a lost execution node), the
keeper stops renewing (or dies with the node), so the lease lapses by itself ``ttl`` seconds later and
the identical re-run proceeds without ``lock_break``.

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


def keep(renew_once, interval, watched, clock=time.monotonic, sleeper=time.sleep, max_seconds=MAX_SECONDS):
    """The keeper's loop: renew every ``interval`` s while ``watched`` lives and ``renew_once()`` says
    the run still holds claims. A failed renewal is tried again at the next tick (the lease outlives
    several ticks). Returns why it stopped: ``run ended``, ``released`` or ``too old``."""
    started = clock()
    while True:
        sleeper(interval)
        if not alive(watched):
            return "run ended"
        if clock() - started > max_seconds:
            return "too old"
        try:
            if not renew_once():
                return "released"
        except Exception:  # pylint: disable=broad-except  # a transient error: the next tick tries again
            continue


def start(renew_once, interval, watched):
    """Fork a detached keeper (double fork, new session, standard streams on /dev/null so Ansible does
    not wait for it). Returns the keeper's pid in the caller, never returns in the keeper.
    ``renew_once`` must build its own Azure session: the parent's connections are not shared."""
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
        keep(renew_once, interval, watched)
    finally:
        os._exit(0)  # pylint: disable=protected-access  # never run the module's code after the keeper
