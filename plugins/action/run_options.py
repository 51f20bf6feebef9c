# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of ``siterecovery.failback.run_options``: collects a failback run's options from the task's
variables by their prefix and hands them to the module, which fills the defaults, checks them and returns them.

Why on the controller: the options are variables (``original_location_vms`` from ``-e``, a play, the inventory or
an ``include_role``'s ``vars``), and only the controller sees the task's variables with Ansible's precedence. The
list of options is ``OPTIONS`` in ``module_utils/domain/options.py``: the roles no longer rename each option
through three layers.
"""

from __future__ import annotations

import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options as options_domain
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.connection import tls_warning

try:  # what gather_facts uses to apply module_defaults to a module it runs itself
    from ansible.executor.module_common import _apply_action_arg_defaults
except ImportError:  # pragma: no cover - another ansible-core: the environment alone decides
    _apply_action_arg_defaults = None


def collect(variables, prefix, resolve):
    """The run's options set as variables, and the variables of another prefix that are set (and not read).

    ``variables``: the task's variables (a mapping of names; only membership is used); ``prefix``: the prefix of
    the variables to read (``original_location_``); ``resolve(name)``: the variable's value, templated.

    Returns ``(given, ignored, unread)``: ``given`` is ``{option: value}`` for each option of ``OPTIONS`` whose
    variable ``prefix + option`` is defined (an unset one is left out, so the module gives it its default);
    ``ignored`` is the sorted names of the variables of another known prefix (``PREFIXES``) naming an option a user
    sets (``LOCATION_ROLE_OPTIONS``: ``failback_location`` is set by the location roles themselves); ``unread`` is
    ``{variable: value}`` of the variables the run does not read although they look like its options (a misspelling,
    a step's own wait, or an option of another prefix: ``domain.options.looks_like_an_option``), which the module
    refuses - the commit cannot be undone, so an ignored ``failback_commit: false`` must not let it run. With an
    empty ``prefix`` nothing is read (the options are then given directly).
    """
    if not prefix:
        return {}, [], {}
    given = {name: resolve(prefix + name) for name in options_domain.OPTIONS if prefix + name in variables}
    ignored = sorted(other + name for other in options_domain.PREFIXES if other != prefix
                     for name in options_domain.LOCATION_ROLE_OPTIONS if other + name in variables)
    unread = {name: _shown(variables, name) for name in variables
              if options_domain.looks_like_an_option(name, prefix)}
    return given, ignored, unread


def _shown(variables, name):
    """A variable's value as a message shows it (not templated: a misspelled variable is not read)."""
    value = variables[name]
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)


def on_controller(given, cwd, environ=None):
    """``given`` with its report directory decided on the controller (``domain.options.report_directory``): the
    ``report_dir`` given, made absolute against ``cwd`` (the directory ansible-playbook runs in, not wherever a
    module or file task runs: the collection's playbooks directory); unset, the job's artifact directory under
    ansible-runner (``AWX_ISOLATED_DATA_DIR`` of ``environ``, default this process's environment), else ``cwd``.
    Returns ``(given, source)``."""
    path, source = options_domain.report_directory(given.get("report_dir"), os.environ if environ is None else environ,
                                                   cwd)
    return dict(given, report_dir=path), source


def vsphere_tls_warning(defaults, environ):
    """The TLS warning (vsphere.connection.tls_warning) for the vSphere connection the run's modules will use, else None.

    ``defaults``: the options ``module_defaults`` give a vSphere module of the collection (its group
    ``group/siterecovery.failback.vsphere`` included), which win over ``environ`` (the controller's environment, which
    the modules, run on the controller, inherit: VMWARE_HOST, VMWARE_VALIDATE_CERTS, VMWARE_THUMBPRINT)."""
    def value(option, variable):
        given = defaults.get(option)
        return given if given not in (None, "") else environ.get(variable)

    validate = value("validate_certs", "VMWARE_VALIDATE_CERTS")
    try:
        validate = True if validate in (None, "") else boolean(validate, strict=True)
    except TypeError:
        validate = True  # the module refuses a value that is not a boolean, naming it
    return tls_warning(value("hostname", "VMWARE_HOST"), validate, value("thumbprint", "VMWARE_THUMBPRINT"))


def play_hosts(task_vars, resolve, evaluate):
    """``[[host, VM name], ...]`` of the run's hosts: ``siterecovery_failback_play_hosts``, which the failback
    playbooks set (they gather the hosts of their first play - after ``--limit`` and a job slice - and run the failback
    once, on the first of them); ``[]`` without it (a play of the user's own runs on whatever host it likes, with
    the VMs in the options). A host's VM name is its ``asr_vm_name`` variable (the inventory plugin
    ``siterecovery.failback.replicated_items`` sets it), else the host name. ``resolve(name)``: a variable's value,
    templated; ``evaluate(expression)``: an expression's value (the collection's own expression, trusted)."""
    if "siterecovery_failback_play_hosts" not in task_vars:
        return []
    result = []
    for host in resolve("siterecovery_failback_play_hosts") or []:
        vm = evaluate("hostvars[%r].asr_vm_name | default('')" % str(host))
        result.append([str(host), str(vm) if vm else str(host)])
    return result


class ActionModule(ActionBase):
    """Reads ``prefix + option`` for every option of the run from the task's variables (templated), merges the
    options given in ``options`` over them, and runs the module on the result; check mode runs as a normal run
    (the module changes nothing either way)."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("options", "prefix", "location", "read_variables"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars if task_vars is not None else {}
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        validation, args = self.validate_argument_spec(argument_spec={
            "options": {"type": "dict", "default": {}},
            "prefix": {"type": "str", "default": ""},
            "location": {"type": "str"},
            "read_variables": {"type": "bool", "default": True},
        })
        del validation  # a bad argument has already raised
        prefix = args["prefix"]
        templar = self._templar.copy_with_new_env(available_variables=task_vars)
        given, ignored, unread = collect(task_vars, prefix if args["read_variables"] else "",
                                         templar.resolve_variable_expression)
        given.update(args["options"])
        # the report goes where the user or the job's engine says, decided here on the controller
        given, source = on_controller(given, os.getcwd())
        del ignored  # each is in unread: the module refuses them, naming the variable this run reads
        module_args = {"prefix": prefix, "options": given, "unread": unread, "report_dir_source": source}
        module_args["play_hosts"] = play_hosts(task_vars, templar.resolve_variable_expression,
                                               lambda expression: templar.evaluate_expression(trust_as_template(expression)))
        job = task_vars.get("awx_job_id", task_vars.get("tower_job_id"))
        if job not in (None, ""):
            module_args["awx_job_id"] = str(job)
        if args["location"] is not None:
            module_args["location"] = args["location"]
        result.update(self._execute_module(module_name="siterecovery.failback.run_options", module_args=module_args,
                                           task_vars=task_vars))
        warning = vsphere_tls_warning(self._vsphere_defaults(templar), os.environ)
        if warning:  # once at the start of every run (each module that connects says it again)
            result["warnings"] = [*(result.get("warnings") or []), warning]
        return result

    def _vsphere_defaults(self, templar):
        """The module_defaults a vSphere module of the collection gets in this task's play, or {}."""
        if _apply_action_arg_defaults is None:
            return {}
        try:
            return _apply_action_arg_defaults("siterecovery.failback.vsphere_connection_info", self._task, {}, templar)
        except Exception:  # pylint: disable=broad-except  # no defaults readable: the environment decides
            return {}
