# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock


def test_remaining_and_expiry_follow_the_clock():
    clock = FakeClock()
    deadline = Deadline(10, clock=clock, sleeper=clock.sleep)
    assert deadline.remaining() == 10
    assert not deadline.expired()
    clock.now += 9.5
    assert deadline.remaining() == pytest.approx(0.5)
    clock.now += 0.5
    assert deadline.expired()
    assert deadline.remaining() == 0


def test_sleep_never_passes_the_deadline():
    clock = FakeClock()
    deadline = Deadline(3, clock=clock, sleeper=clock.sleep)
    assert deadline.sleep(2) == 2
    assert deadline.sleep(5) == pytest.approx(1)
    assert clock.sleeps == [2, pytest.approx(1)]
    assert deadline.sleep(5) == 0  # expired: no more sleeping
    assert clock.sleeps == [2, pytest.approx(1)]


def test_no_deadline_never_expires():
    clock = FakeClock()
    deadline = Deadline(None, clock=clock, sleeper=clock.sleep)
    clock.now += 10 ** 9
    assert not deadline.expired()
    assert deadline.remaining() is None
    assert deadline.sleep(7) == 7


def test_negative_deadline_is_refused():
    with pytest.raises(ValueError, match="negative"):
        Deadline(-1)
