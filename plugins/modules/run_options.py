#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: run_options
short_description: Check every option of a failback run before it starts
version_added: 0.2.0
description:
  - Checks the options of a whole failback run at once - types, ranges, choices, health-check URLs and ports,
    the names in C(placements) - and fails listing every problem, each naming the option, the rule and the fix.
  - The C(siterecovery.failback.failback) role calls it as its first task, before the preflight, the lock or
    any step, so a bad option can no longer stop a run after a step changed something.
  - Makes no request to Azure or vSphere and changes nothing.
  - Options left out are not checked.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  options:
    description:
      - The run's options by their name without prefix - V(vms), V(recovery_plan), V(location), V(placements),
        V(recovery_point), V(memory_remediation), V(health_checks), V(poll_interval), V(recovery_point_delay),
        V(recovery_point_timeout), V(tools_timeout), V(timeout), V(agent_registration_timeout), V(commit),
        V(reprotect_to_azure), V(preflight), V(lock_break), V(cancel_on_failure), V(report_dir).
      - V(poll_interval) and V(recovery_point_delay) are at least 0.5 seconds; timeouts are whole seconds from 0 to
        7 days; C(health_checks.tcp[].port) is 1 to 65535; C(health_checks.http[].url) is an http or https URL
        with a host; C(placements) keys are VMs of the run (when it names its VMs) and each entry has only
        V(master_target), V(process_server), V(datastore), V(retention_volume), V(run_as_account),
        V(appliance) and V(log_storage_account_id).
    type: dict
    required: true
  prefix:
    description: Put before each option's name in the messages, so they name the variable the user set.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Check the run's options before anything else
  siterecovery.failback.run_options:
    prefix: original_location_
    options:
      vms: [app01]
      poll_interval: 15
      health_checks:
        tcp: [{host: app01.example.com, port: 443}]
"""

RETURN = r"""
problems:
  description: Every problem found (empty when the run may start), each with option, rule, fix, value and message.
  returned: always
  type: list
  elements: dict
  sample: [{"option": "failback_poll_interval", "rule": "must be at least 0.5", "value": 0,
            "fix": "give a number of seconds between reads of the ASR jobs from 0.5 to 3600",
            "message": "failback_poll_interval: must be at least 0.5 (got 0); give a number of ..."}]
checked:
  description: The names of the options checked.
  returned: always
  type: list
  elements: str
  sample: [vms, poll_interval]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options as options_domain


def report_dir_problems(path, option):
    """The report directory must be creatable and writable here (where the report role writes it), or the run
    would do everything and then fail without its report. Leaves nothing behind (a probe directory is removed)."""
    if not isinstance(path, str) or not path.strip():
        return []  # check_run names an empty path
    existing = os.path.abspath(path)
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return [options_domain.Problem(option, "must be a directory (%s is a file)" % existing,
                                       "give a directory path", path)]
    try:  # a directory made and removed at once: the only sure test (root passes os.access even on /proc)
        tempfile.TemporaryDirectory(dir=existing, prefix=".failback-probe-").cleanup()
    except OSError as error:
        return [options_domain.Problem(option, "must be a directory this run can create (%s: %s)" % (
            existing, error.strerror or error), "give a directory this user can create and write", path)]
    return []


def main():
    module = AnsibleModule(argument_spec={"options": {"type": "dict", "required": True},
                                          "prefix": {"type": "str", "default": ""}},
                           supports_check_mode=True)
    given = module.params["options"]
    problems = options_domain.check_run(given, prefix=module.params["prefix"])
    if "report_dir" in given:
        problems += report_dir_problems(given["report_dir"], module.params["prefix"] + "report_dir")
    result = {"changed": False, "problems": [dict(p) for p in problems], "checked": sorted(given)}
    if problems:
        module.fail_json(msg=options_domain.summary(problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
