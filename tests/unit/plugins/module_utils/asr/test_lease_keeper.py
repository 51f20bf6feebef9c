# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.lease_keeper's loop: renew while the run (its ansible-playbook, or a process that ran below it) lives, end
the lease at once when the run is gone, stop when the run released."""

import os
import subprocess
import sys

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import lease_keeper
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock


def loop(monkeypatch, playbook_alive, group_alive, renewals=None, lapse_error=None):
    """Run keep() with the playbook alive for ``playbook_alive`` ticks and a module below it (seen while the
    playbook lived) for ``group_alive`` ticks; returns (why, calls)."""
    calls = []
    ticks = {"n": 0}

    def alive(pid):
        return ticks["n"] <= playbook_alive

    def below(pid):
        calls.append(("below", pid))
        return {9001: 77}

    def any_alive(known):
        assert known == {9001: 77}
        return ticks["n"] <= group_alive

    def renew(ending=False):
        calls.append("renew ending" if ending else "renew")
        return renewals is None or ticks["n"] < renewals

    def lapse():
        calls.append("lapse")
        if lapse_error:
            raise lapse_error

    def sleeper(seconds):
        ticks["n"] += 1

    monkeypatch.setattr(lease_keeper, "alive", alive)
    monkeypatch.setattr(lease_keeper, "descendants", below)
    monkeypatch.setattr(lease_keeper, "any_alive", any_alive)
    clock = FakeClock()
    why = lease_keeper.keep(renew, 36, 4242, clock=clock, sleeper=sleeper, lapse=lapse)
    return why, calls


def test_a_cancelled_run_s_lease_ends_once_every_process_of_it_is_gone(monkeypatch):
    # ansible-playbook gone after tick 2, a module that ran below it until tick 4: renewed meanwhile
    why, calls = loop(monkeypatch, playbook_alive=2, group_alive=4)
    assert why == "run ended"
    # the lease says the run is ending while only the module renews it
    assert [c for c in calls if isinstance(c, str)] == ["renew"] * 2 + ["renew ending"] * 2 + ["lapse"]


def test_a_failed_lapse_is_left_to_the_ttl(monkeypatch):
    why, calls = loop(monkeypatch, playbook_alive=1, group_alive=1, lapse_error=RuntimeError("403"))
    assert why == "run ended" and calls[-1] == "lapse"


def test_a_released_run_stops_the_keeper_without_a_lapse(monkeypatch):
    why, calls = loop(monkeypatch, playbook_alive=10, group_alive=10, renewals=3)
    assert why == "released" and "lapse" not in calls


def test_descendants_are_seen_and_a_gone_one_is_not_alive():
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                               "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"])
    try:
        deadline = 100
        below = {}
        while deadline and not below:  # the grandchild starts a moment later
            below = lease_keeper.descendants(parent.pid)
            deadline -= 1
            subprocess.run([sys.executable, "-c", "pass"], check=True)
        assert len(below) == 1 and lease_keeper.any_alive(below) is True
        assert os.getpid() not in lease_keeper.descendants(os.getppid())
    finally:
        parent.kill()
        parent.wait()
        for pid in below:
            os.kill(pid, 9)
    # killed and reaped by init: gone; a pid whose start time differs is another process
    for _attempt in range(200):
        if not lease_keeper.any_alive(below):
            break
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert lease_keeper.any_alive(below) is False
    assert lease_keeper.any_alive({os.getpid(): -1}) is False
