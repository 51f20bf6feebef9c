# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers: a fake clock, and running a module's main() to its JSON result."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def run_module(main, args, capsys, check_mode=False):
    """Run ``main()`` with ``args``; return ``(failed, result)`` from the JSON it printed."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        main()
    out = capsys.readouterr().out
    result = json.loads(out)
    return exit_info.value.code != 0, result
