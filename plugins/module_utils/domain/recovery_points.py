# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery points: which one a failover takes, and what readiness needs to know about them.

A point's type comes from the item's recovery-point list (``recoveryPointType``; asr-api.md section 4
documents ``ApplicationConsistent`` and ``CrashConsistent``). The item's ``consistencyPoints`` map is
keyed by tag names (``fileSystem<hex>``, ``systemLevelTag<hex>``, tests/recorded/asr fact 3) that say
nothing about application consistency, and its times are not comparable with the clock: it counts
only as evidence that a point exists. Pure Python: points arrive as plain dicts.
"""

from __future__ import annotations

import datetime
import re

APP_CONSISTENT = ("applicationconsistent", "appconsistent")


def _key(kind):
    return re.sub(r"[^a-z]", "", str(getattr(kind, "value", kind) or "").lower())


def is_app_consistent(kind):
    """Whether a ``recoveryPointType`` names an application-consistent point (any case, SDK enum or string)."""
    return _key(kind) in APP_CONSISTENT


def moment(value):
    """A datetime (naive means UTC) from a datetime or an ISO string; None when absent or unreadable."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)


def newest_first(points):
    """``points`` (dicts with ``time``) newest first; points without a readable time last."""
    epoch = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)
    return sorted(points, key=lambda p: moment(p.get("time")) or epoch, reverse=True)


def choose(points, wanted):
    """The point ``wanted`` selects among ``points`` ([{name, id, type, time}]): ``latest_processed`` (the newest),
    ``latest_app_consistent`` (the newest application-consistent one) or a point's name or ARM id (ASR writes ids
    with ``/Subscriptions/``, request paths use ``/subscriptions/``: compared case-insensitively). None when none fits."""
    ordered = newest_first(points)
    if wanted == "latest_processed":
        return ordered[0] if ordered else None
    if wanted == "latest_app_consistent":
        return next((p for p in ordered if is_app_consistent(p.get("type"))), None)
    key = (wanted or "").lower()
    return next((p for p in ordered if key in ((p.get("name") or "").lower(), (p.get("id") or "").lower())), None)


def facts(points, evidence, now):
    """What readiness needs: ``{has_point, count, app_consistent_count, latest_app_consistent_age_minutes}``.

    ``points``: the listed points ([{type, time}]); ``evidence``: the item's GET shows a point (consistency points or
    a retention window) - a point exists when either says so. The age is that of the newest application-consistent
    listed point, never below 0 (a point stamped a little ahead of this machine's clock is fresh, not future)."""
    app = newest_first([p for p in points if is_app_consistent(p.get("type"))])
    when = moment(app[0].get("time")) if app else None
    age = max(0.0, (now - when).total_seconds()) if when is not None else None
    return {"has_point": bool(points) or bool(evidence), "count": len(points), "app_consistent_count": len(app),
            "latest_app_consistent_age_minutes": round(age / 60.0, 1) if age is not None else None}
