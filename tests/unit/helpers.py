# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers: a fake clock, and running a module's main() to its JSON result."""

import copy
import json
from unittest import mock

import pytest
from ansible.module_utils.basic import AnsibleModule
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


def run_module_unmasked(main, args, capsys, check_mode=False):
    """Run ``main()`` like :func:`run_module`; return ``(failed, result, module)`` where ``result`` is the dict the
    module handed to exit_json / fail_json *before* Ansible masked its no_log values (what Ansible prints has every
    copy of a secret replaced by ``********``, which would hide a module that copies a secret into its result) and
    ``module`` is {"argument_spec", "no_log_values"} of the AnsibleModule the module built."""
    seen = {}
    original = AnsibleModule._return_formatted

    def capture(self, kwargs):
        seen["result"] = copy.deepcopy(kwargs)
        seen["module"] = {"argument_spec": self.argument_spec, "no_log_values": set(self.no_log_values)}
        return original(self, kwargs)

    with mock.patch.object(AnsibleModule, "_return_formatted", capture):
        failed, _printed = run_module(main, args, capsys, check_mode=check_mode)
    return failed, seen["result"], seen["module"]
