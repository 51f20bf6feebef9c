# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The deadline of a module that only reads Site Recovery (azure_connection_info, fabric_info, readiness).
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds this task may take, 0 to 604800 (7 days); every read and its retries share this deadline. A throttled
        read (HTTP 429) is retried as long as it allows; a C(Retry-After) longer than what is left of it fails at once,
        naming the value of O(timeout) that would wait it out (ARM has been seen asking for 372 s).
    type: int
    default: 300
"""
