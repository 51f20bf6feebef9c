# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A deadline on the monotonic clock, shared by every wait in the collection."""

from __future__ import annotations

import time

from ansible_collections.siterecovery.failback.plugins.module_utils.progress import NONE


class Deadline:
    """``Deadline(300)`` expires 300 s from now; ``Deadline(None)`` never expires.

    ``clock`` and ``sleeper`` are injectable so tests run without real waiting. ``option`` names the module
    option that sets it (``timeout`` in every module): messages about a deadline too short name it. ``progress``
    (a :class:`module_utils.progress.Progress`) is where the waits under this deadline record what they wait for
    (default: nowhere).
    """

    def __init__(self, seconds, clock=time.monotonic, sleeper=time.sleep, option="timeout", progress=None):
        if seconds is not None and seconds < 0:
            raise ValueError("a deadline cannot be negative: %r" % (seconds,))
        self._clock = clock
        self._sleep = sleeper
        self.seconds = seconds
        self.option = option
        self.progress = NONE if progress is None else progress
        self.started = clock()
        self.ends = None if seconds is None else self.started + seconds

    def remaining(self):
        """Seconds left (never negative), or ``None`` for no deadline."""
        if self.ends is None:
            return None
        return max(0.0, self.ends - self._clock())

    def expired(self):
        return self.ends is not None and self._clock() >= self.ends

    def elapsed(self):
        return self._clock() - self.started

    def sleep(self, seconds):
        """Sleep ``seconds`` but never past the deadline; returns the time slept."""
        remaining = self.remaining()
        if remaining is not None:
            seconds = min(seconds, remaining)
        seconds = max(0.0, seconds)
        if seconds:
            self._sleep(seconds)
        return seconds
