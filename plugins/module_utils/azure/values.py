# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Values of SDK models as the service sent them.

The SDK turns a known string of an enum-typed field (a process server's or appliance's ``health``,
``agentVersionDetails.status``, a plan group's ``groupType``...) into an enum member, which formats
as ``ProtectionHealth.NORMAL``; messages and results carry the service's own string instead.
"""

from __future__ import annotations

import enum


def plain(value):
    """``ProtectionHealth.NORMAL`` -> ``'Normal'``; any other value unchanged."""
    return value.value if isinstance(value, enum.Enum) else value
