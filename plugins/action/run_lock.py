# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of ``siterecovery.failback.run_lock``: runs the module and prints its progress while it waits for
another run's lease to end (``plugins/plugin_utils/progress.py``)."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.plugin_utils.progress import ProgressAction


class ActionModule(ProgressAction):
    """Prints a progress line per VM at least every 30 s while the module runs."""

    STAGE = "lock"
