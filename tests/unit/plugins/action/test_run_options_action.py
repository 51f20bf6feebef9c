# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_options action plugin: the run's options collected from the task's variables by their prefix,
templated, handed to the module; a variable of another role's prefix is named in a warning, never read."""

import os
from unittest import mock

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar, trust_as_template

from ansible_collections.siterecovery.failback.plugins.action import run_options as action
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options


def resolve_from(variables):
    return lambda name: variables[name]


def test_collect_reads_only_the_options_set_with_the_prefix():
    variables = {"original_location_vms": ["app01"], "original_location_poll_interval": "20",
                 "original_location_unknown": 1, "vms": ["x"], "recovery_plan": "rp"}
    given, ignored, unread = action.collect(variables, "original_location_", resolve_from(variables))
    # an unset option is left out (the module gives it its default); a name of the run's prefix that is no option
    # is handed to the module to refuse (issue 16)
    assert given == {"vms": ["app01"], "poll_interval": "20"}
    assert ignored == [] and unread == {"original_location_unknown": 1}


def test_collect_names_the_variables_of_another_prefix():
    variables = {"failback_vms": ["app01"], "alternate_location_datastore": "vmfs-01",
                 "failback_location": "original", "failback_option_prefix": "original_location_",
                 "failback_resource_group": "rg-dr", "original_location_vms": ["db01"]}
    given, ignored, unread = action.collect(variables, "original_location_", resolve_from(variables))
    assert given == {"vms": ["db01"]}
    # failback_location and failback_option_prefix are the location role's own; the vault names are no options
    assert ignored == ["alternate_location_datastore", "failback_vms"]
    assert unread == {"alternate_location_datastore": "vmfs-01", "failback_vms": ["app01"]}
    found = options.unread_variables(unread, "original_location_")
    assert [p["message"] for p in found] == [
        "alternate_location_datastore: is not read by this run, which reads the variables named original_location_... "
        "(it would be ignored) (got 'vmfs-01'); name it original_location_datastore.",
        "failback_vms: is not read by this run, which reads the variables named original_location_... (it would be "
        "ignored) (got ['app01']); name it original_location_vms."]


def test_collect_reads_every_option_of_options_py():
    variables = {"failback_" + name: "value-%s" % name for name in options.OPTIONS}
    given, ignored, unread = action.collect(variables, "failback_", resolve_from(variables))
    assert sorted(given) == sorted(options.OPTIONS) and ignored == [] and unread == {}
    assert given["tools_timeout"] == "value-tools_timeout"


def test_collect_without_a_prefix_reads_nothing():
    variables = {"vms": ["app01"], "failback_vms": ["db01"]}
    assert action.collect(variables, "", resolve_from(variables)) == ({}, [], {})


def test_a_misspelled_option_or_a_steps_own_wait_is_handed_to_the_module_to_refuse():
    # new-user try of issue 13: original_location_comit=false was ignored and the VM committed against the intent
    variables = {"original_location_vms": ["app01"], "original_location_comit": False,
                 "original_location_timeout": "abc", "original_location_recovery_pint": "latest",
                 # the roles' own facts of the same prefix are no misspelling of an option
                 "failback_going": [], "failback_run": {}, "failback_report": {}, "failback_stopped": []}
    _given, _ignored, unread = action.collect(variables, "original_location_", resolve_from(variables))
    assert unread == {"original_location_comit": False, "original_location_timeout": "abc",
                      "original_location_recovery_pint": "latest"}
    found = options.unread_variables(unread, "original_location_")
    assert [(p["option"], p["fix"]) for p in found] == [
        ("original_location_comit", "did you mean original_location_commit?"),
        ("original_location_recovery_pint", "did you mean original_location_recovery_point?"),
        ("original_location_timeout", "drop it, or give timeout to the step's module directly")]
    unread = action.collect(variables, "failback_", resolve_from(variables))[2]
    assert not {"failback_going", "failback_run", "failback_report", "failback_stopped"} & set(unread)


def run_action(args, task_vars, check_mode=False):
    """Run the action plugin with a real templar over ``task_vars``; returns (the module args it sent, result)."""
    task = Task()
    task.args = args
    task.action = "siterecovery.failback.run_options"
    context = PlayContext()
    context.check_mode = check_mode
    plugin = action.ActionModule(task, mock.MagicMock(), context, DataLoader(), Templar(loader=DataLoader()), None)
    sent = {}

    def execute(module_name, module_args, task_vars):
        sent.update(module_name=module_name, module_args=module_args)
        return {"changed": False, "problems": []}

    with mock.patch.object(plugin, "_execute_module", side_effect=execute):
        result = plugin.run(task_vars=task_vars)
    return sent, result


def test_the_action_templates_the_variables_and_hands_them_to_the_module():
    task_vars = {
        "original_location_vms": [trust_as_template("{{ first }}")],
        "first": "app01",
        "original_location_poll_interval": trust_as_template("{{ interval }}"),
        "interval": 20,
        "original_location_health_checks": {"tcp": [{"host": trust_as_template("{{ first }}.lab"), "port": 443}]},
    }
    sent, result = run_action({"prefix": "original_location_", "location": "original"}, task_vars)
    assert sent["module_name"] == "siterecovery.failback.run_options"
    assert sent["module_args"]["prefix"] == "original_location_" and sent["module_args"]["location"] == "original"
    given = sent["module_args"]["options"]
    assert given == {"vms": ["app01"], "poll_interval": 20,
                     "health_checks": {"tcp": [{"host": "app01.lab", "port": 443}]},
                     "report_dir": os.path.join(os.getcwd(), "failback-reports")}
    assert result["changed"] is False


def test_options_given_directly_win_over_the_variables():
    sent, _result = run_action({"prefix": "failback_", "options": {"poll_interval": 5}},
                               {"failback_poll_interval": 20, "failback_vms": ["app01"]})
    assert sent["module_args"]["options"] == {"poll_interval": 5, "vms": ["app01"],
                                              "report_dir": os.path.join(os.getcwd(), "failback-reports")}
    assert "location" not in sent["module_args"]


@pytest.mark.parametrize("given, environ, expected", [
    ({}, {}, ("/runs/here/failback-reports", "cwd")), ({"report_dir": ""}, {}, ("/runs/here/failback-reports", "cwd")),
    ({}, {"AWX_ISOLATED_DATA_DIR": "/pdd/artifacts/7"}, ("/pdd/artifacts/7/failback-reports", "AWX_ISOLATED_DATA_DIR")),
    ({"report_dir": "out/r"}, {"AWX_ISOLATED_DATA_DIR": "/pdd"}, ("/runs/here/out/r", "report_dir")),
    ({"report_dir": "/var/failback"}, {}, ("/var/failback", "report_dir")),
    ({"report_dir": "../up"}, {}, ("/runs/up", "report_dir")), ({"report_dir": 5}, {}, (5, "report_dir"))])
def test_the_report_directory_is_decided_on_the_controller(given, environ, expected):
    """Not relative to wherever a file task runs (the collection's playbooks directory, new-user try of issue 14;
    read-only under AWX, issue 16): given, made absolute; unset, the job's artifacts under ansible-runner, else where
    ansible-playbook runs. A wrong value is left for the module to refuse."""
    found, source = action.on_controller(given, "/runs/here", environ)
    assert (found["report_dir"], source) == expected
    home = action.on_controller({"report_dir": "~/reports"}, "/runs/here", {})[0]["report_dir"]
    assert home == os.path.join(os.path.expanduser("~"), "reports")


def test_the_action_reads_no_variable_when_told_not_to():
    sent, _result = run_action({"prefix": "preflight_", "read_variables": False, "options": {"vms": ["app01"]}},
                               {"preflight_vms": ["db01"], "preflight_vm": ["x"]})
    assert sent["module_args"]["options"]["vms"] == ["app01"] and sent["module_args"]["unread"] == {}


def test_a_variable_of_another_prefix_is_handed_to_the_module_to_refuse():
    # new-user re-try of issue 13: failback_commit=false in an original_location run was only warned about, and
    # failback_comit not even that; the commit, which cannot be undone, then ran
    sent, _result = run_action({"prefix": "original_location_"}, {"failback_vms": ["app01"], "failback_comit": False})
    assert sent["module_args"]["options"] == {"report_dir": os.path.join(os.getcwd(), "failback-reports")}
    assert sent["module_args"]["unread"] == {"failback_vms": ["app01"], "failback_comit": False}
    found = options.unread_variables(sent["module_args"]["unread"], "original_location_")
    assert [p["fix"] for p in found] == ["name it original_location_commit", "name it original_location_vms"]


def test_an_unknown_argument_is_refused():
    with pytest.raises(Exception, match="vms"):
        run_action({"prefix": "failback_", "vms": ["app01"]}, {})


@pytest.mark.parametrize("environ, warned", [({"VMWARE_VALIDATE_CERTS": "False", "VMWARE_HOST": "vc.lab"}, True),
                                             ({"VMWARE_VALIDATE_CERTS": "True", "VMWARE_HOST": "vc.lab"}, False),
                                             ({"VMWARE_HOST": "vc.lab"}, False)])
def test_the_run_warns_once_at_its_start_while_vcenter_tls_is_not_verified(monkeypatch, environ, warned):
    """AWX's VMware vCenter credential injects VMWARE_VALIDATE_CERTS=False: the failback's first task says so."""
    monkeypatch.delenv("VMWARE_VALIDATE_CERTS", raising=False)
    monkeypatch.delenv("VMWARE_THUMBPRINT", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    _sent, result = run_action({"prefix": "failback_"}, {"failback_vms": ["app01"]})
    warnings = [w for w in result.get("warnings", []) if "TLS verification of vc.lab is OFF" in w]
    assert len(warnings) == (1 if warned else 0)


def test_play_hosts_come_only_from_the_failback_playbooks_variable_with_each_host_s_vm_name():
    variables = {"siterecovery_failback_play_hosts": ["app_01", "web01"]}
    names = {"hostvars['app_01'].asr_vm_name | default('')": "app 01", "hostvars['web01'].asr_vm_name | default('')": ""}
    got = action.play_hosts(variables, resolve_from(variables), names.__getitem__)
    assert got == [["app_01", "app 01"], ["web01", "web01"]]
    # a play of the user's own (no such variable): the options name the VMs, whatever hosts the play has
    assert action.play_hosts({"ansible_play_batch": ["app01"]}, resolve_from({}), names.__getitem__) == []
