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
  - Its action plugin collects the run's options from the task's variables by their prefix (O(prefix)), so
    C(original_location_vms) set as an extra var, a play var, an inventory var or an C(include_role) var is seen
    with Ansible's usual precedence; options given in O(options) win over the variables.
  - Fills the default of every option left unset, and returns the options of the run, checked and normalized
    (RV(options)). The list of options, their types and defaults exist once, in the collection's
    C(module_utils/domain/options.py).
  - Warns about a variable of another role's prefix (for example C(failback_vms) while C(original_location)
    runs) - it is not read.
  - Decides where the run's reports go (V(report_dir) in RV(options), always an absolute path; see O(options)), checks
    that this user can write there and creates the directory (in check mode only checks), so a run that cannot keep
    its report refuses before it changes anything.
  - Refuses every variable named with the run's prefix (V(original_location_), V(alternate_location_)) that is not
    one of the run's options, naming the closest option (C(original_location_vm) - did you mean
    C(original_location_vms)?); of the V(failback_) prefix, which also names the playbooks' vault variables, a
    misspelling of an option.
  - Makes no request to Azure or vSphere and changes nothing else.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.attributes
attributes:
  action:
    description: Indicates this has a corresponding action plugin, so some parts of the options can be executed
      on the controller.
    support: full
    details: The action plugin reads the run's options from the task's variables by their prefix.
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  options:
    description:
      - The run's options by their name without prefix - V(vms), V(recovery_plan), V(recovery_plans),
        V(plan_concurrency), V(request_budget), V(waves), V(wave_gate), V(wave_pause), V(location),
        V(master_target), V(process_server), V(datastore), V(retention_volume), V(placements), V(recovery_point),
        V(memory_remediation), V(health_checks), V(commit), V(reprotect_to_azure), V(preflight), V(report_dir),
        V(poll_interval), V(recovery_point_delay), V(owner), V(lock_break), V(lease_seconds), V(cancel_on_failure), V(appliance),
        V(log_storage_account_id), V(tools_timeout), V(verification), V(protected_disk_files); also
        V(recovery_point_timeout), V(timeout) and V(agent_registration_timeout). Any other name is refused.
      - The action plugin fills this from the variables named O(prefix) + option (what you give here wins).
        An option given neither way takes its default.
      - V(report_dir) is where the reports go (the preflight's and the run's, each file named after the run, so two
        runs never overwrite each other's). Given, a relative path is taken from the directory ansible-playbook runs
        in (never the playbook's directory, which is inside the installed collection). Unset (empty), the action
        plugin chooses on the controller - under ansible-runner (AWX, Automation Controller) C(failback-reports)
        in the job's artifact directory (the C(AWX_ISOLATED_DATA_DIR) variable ansible-runner sets), else
        C(failback-reports) in the directory ansible-playbook runs in. The run refuses a directory it cannot
        create or write, naming the variable to set.
      - V(poll_interval) and V(recovery_point_delay) are at least 0.5 seconds; timeouts are whole seconds from 0 to
        7 days; C(health_checks.tcp[].port) is 1 to 65535; C(health_checks.http[].url) is an http or https URL
        with a host; C(placements) keys are VMs of the run (when it names its VMs) and each entry has only
        V(master_target), V(process_server), V(datastore), V(retention_volume), V(run_as_account),
        V(appliance) and V(log_storage_account_id); C(protected_disk_files) keys are VMs of the run and each value
        a non-empty list of C([datastore] path.vmdk) files.
      - V(recovery_plans) is a list of plan names, V(waves) a list of waves, each a non-empty list of plan names (as
        text, JSON); no plan is named twice (in one list, in V(recovery_plan) and V(recovery_plans), or in two
        waves); V(waves) go without V(vms), V(recovery_plan) and V(recovery_plans), and not against inventory hosts
        (O(play_hosts)); V(wave_gate) V(committed) with more than one wave needs V(commit); V(wave_pause) needs
        V(waves); V(plan_concurrency) is 1 to 1000 and V(request_budget) 0 (no check) to 10000000.
    type: dict
    default: {}
  unread:
    description:
      - The variables the run does not read although they look like its options, by their full name - of O(prefix),
        a misspelled option (C(original_location_comit); it would be ignored) or a step's own wait (V(timeout),
        V(recovery_point_timeout), V(agent_registration_timeout), which the roles do not read); of another role's
        prefix, an option or its misspelling (C(failback_commit) in an C(original_location_) run). Each is refused,
        naming the variable meant. The action plugin fills it from the task's variables.
    type: dict
    default: {}
  prefix:
    description:
      - The prefix of the variables the action plugin reads (V(original_location_), V(alternate_location_) or
        V(failback_)); also put before each option's name in the messages, so they name the variable the user set.
    type: str
    default: ""
  location:
    description:
      - V(original) or V(alternate) - the run's location when the role sets it (the variable O(prefix) + V(location)
        is read otherwise).
    type: str
  play_hosts:
    description:
      - The run's hosts as C([host, VM name]) pairs. The action plugin passes the variable
        C(siterecovery_failback_play_hosts), which the collection's failback playbooks set to the hosts of their
        first play (after C(--limit) and a job slice); each host's VM is its C(asr_vm_name) variable (set by the
        inventory plugin C(siterecovery.failback.replicated_items)), else the host name.
      - When they hold hosts other than the controller (C(localhost)), those are the run's VMs - C(--limit), a job
        slice and "relaunch on failed hosts" choose them - and the C(vms) option must be left unset; with a
        C(recovery_plan) they must be exactly the plan's VMs (the lock checks it, RV(run.plan_vms)).
    type: list
    elements: list
    default: []
  read_variables:
    description:
      - Whether the action plugin reads the variables named O(prefix) + option. V(false) checks only O(options),
        with O(prefix) naming them in the messages (the preflight role run alone).
    type: bool
    default: true
  report_dir_source:
    description:
      - Where the report directory came from (the action plugin sets it) - V(report_dir), V(AWX_ISOLATED_DATA_DIR)
        or V(cwd); returned as RV(report_dir_source).
    type: str
    default: report_dir
  awx_job_id:
    description:
      - The AWX / Automation Controller job this run is (the action plugin passes the C(awx_job_id) or
        C(tower_job_id) variable). It names the run (RV(run.id)) when the run's V(owner) option is empty.
    type: str
"""

EXAMPLES = r"""
- name: Check the run's options (original_location_vms, ... from the task's variables) before anything else
  siterecovery.failback.run_options:
    prefix: original_location_
    location: original
  register: failback_run

- name: Check options given directly (the others take their defaults)
  siterecovery.failback.run_options:
    prefix: failback_
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
  description: The names of the options the run set (the others took their defaults).
  returned: always
  type: list
  elements: str
  sample: [vms, poll_interval]
options:
  description:
    - Every option of the run by its name without prefix, with its default when unset; booleans and numbers
      converted to their type.
  returned: success
  type: dict
  sample: {"location": "original", "vms": ["app01"], "recovery_plan": "", "poll_interval": 15.0,
           "tools_timeout": 600, "commit": true, "report_dir": "/runner/artifacts/42/failback-reports"}
report_dir_source:
  description:
    - Where the report directory (V(report_dir) in RV(options)) came from - V(report_dir) (given),
      V(AWX_ISOLATED_DATA_DIR) (the job's artifact directory under ansible-runner) or V(cwd) (the directory
      ansible-playbook runs in).
  returned: success
  type: str
  sample: AWX_ISOLATED_DATA_DIR
run:
  description:
    - Who this run is - the name of its lease and its reports. V(owner) when set; else the AWX job (the
      C(awx_job_id) variable, or the C(JOB_ID) / C(AWX_JOB_ID) environment variable), as C(awx-job-<id>); else a
      generated C(run-<UTC time>-<random>).
  returned: success
  type: dict
  contains:
    id:
      description: The run's id.
      type: str
      sample: awx-job-1234
    source:
      description: Where the id came from - V(owner), V(awx_job_id), V(JOB_ID), V(AWX_JOB_ID) or V(generated).
      type: str
      sample: awx_job_id
    lock_break_variable:
      description: The playbook variable that overrides another run's lease (O(prefix) + C(lock_break)).
      type: str
      sample: original_location_lock_break
    hosts:
      description:
        - "The play's VM hosts: C({host: VM name}); empty when the play runs on the controller alone (the VMs are
          then the options' C(vms) or C(recovery_plan))."
      type: dict
      sample: {"app01": "app01", "db01": "db01"}
    plan_vms:
      description:
        - The VMs the recovery plan must hold exactly - the play's VM hosts when the run names a recovery plan and
          the play runs against inventory hosts; else empty.
      type: list
      elements: str
      sample: [app01, db01]
    plans:
      description:
        - Every recovery plan the run names, in order - V(recovery_plan), then V(recovery_plans), then each wave's
          (V(waves)).
      type: list
      elements: str
      sample: [rp-db, rp-app]
"""

import os
import secrets
import tempfile
import time

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
        return [options_domain.Problem(option, "must be a directory this run can create (a directory cannot be made "
                                       "in %s: %s)" % (existing, error.strerror or error),
                                       "give a directory this user can create and write", path)]
    return []


def main():
    module = AnsibleModule(argument_spec={"options": {"type": "dict", "default": {}},
                                          "unread": {"type": "dict", "default": {}},
                                          "prefix": {"type": "str", "default": ""},
                                          "location": {"type": "str"},
                                          "awx_job_id": {"type": "str"},
                                          "play_hosts": {"type": "list", "elements": "list", "default": []},
                                          "report_dir_source": {"type": "str", "default": "report_dir"},
                                          "read_variables": {"type": "bool", "default": True}},
                           supports_check_mode=True)
    prefix = module.params["prefix"]
    given = options_domain.split_lists(module.params["options"])
    if module.params["location"] is not None:
        given["location"] = module.params["location"]
    run = options_domain.with_defaults(given)
    if isinstance(run["report_dir"], str) and not os.path.isabs(run["report_dir"]):  # run without its action plugin
        run["report_dir"], module.params["report_dir_source"] = options_domain.report_directory(
            run["report_dir"], os.environ, os.getcwd())
    # a play against inventory hosts: they are the run's VMs (--limit, a job slice, relaunch on failed hosts)
    selection, problems = options_domain.play_selection(module.params["play_hosts"], given, prefix)
    if selection and not problems:
        run["vms"] = selection["vms"]
    problems += options_domain.unread_variables(module.params["unread"], prefix)
    problems += options_domain.unknown_options(given, prefix)
    problems += options_domain.check_run({name: value for name, value in run.items() if name in
                                          options_domain.OPTIONS or name in options_domain.EXTRA_OPTIONS}, prefix=prefix)
    problems += report_dir_problems(run["report_dir"], prefix + "report_dir")
    result = {"changed": False, "problems": [dict(p) for p in problems], "checked": sorted(given)}
    if problems:
        module.fail_json(msg=options_domain.summary(problems), **result)
    try:  # checked above: a directory this user can create; the reports of this run go there, even when it fails
        if not module.check_mode:
            os.makedirs(run["report_dir"], exist_ok=True)
    except OSError as error:
        problem = options_domain.Problem(prefix + "report_dir", "must be a directory this run can create (%s)" % (
            error.strerror or error), "give a directory this user can create and write", run["report_dir"])
        module.fail_json(msg=options_domain.summary([problem]), problems=[dict(problem)], checked=sorted(given),
                         changed=False)
    identity = options_domain.run_identity(run.get("owner"), module.params["awx_job_id"], os.environ, time.time(),
                                           secrets.token_hex(3))
    module.exit_json(options=options_domain.normalize(run), run=dict(
        identity, lock_break_variable=prefix + "lock_break", hosts=selection["hosts"] if selection else {},
        plan_vms=selection["plan_vms"] if selection else [], plans=options_domain.run_plans(run)),
        report_dir_source=module.params["report_dir_source"],
        **result)


if __name__ == "__main__":
    main()
