# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ARM ids of Site Recovery objects, parsed without regard to the case ASR writes them in."""

from __future__ import annotations

import re

_SEGMENTS = re.compile(r"/([^/]+)/([^/]+)")


def parse(arm_id):
    """'/subscriptions/s/resourceGroups/rg/.../replicationProtectedItems/i' -> {lower-cased key: value}."""
    result = {}
    for key, value in _SEGMENTS.findall(arm_id or ""):
        result[key.lower()] = value
    return result


def item_path(arm_id):
    """``(fabric, container, item)`` names of a protected item's ARM id."""
    parts = parse(arm_id)
    return parts.get("replicationfabrics"), parts.get("replicationprotectioncontainers"), parts.get(
        "replicationprotecteditems")


def vm_path(arm_id):
    """``(resource group, VM name)`` of a Compute VM's ARM id; ``(None, None)`` when it names no VM."""
    parts = parse(arm_id)
    name = parts.get("virtualmachines")
    return (parts.get("resourcegroups"), name) if name else (None, None)


def last(arm_id):
    return (arm_id or "").rstrip("/").rsplit("/", 1)[-1] or None
