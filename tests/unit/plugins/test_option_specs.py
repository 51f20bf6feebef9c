# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of a run exist once, in ``domain/options.py`` (``OPTIONS``); each role that takes them documents
them in ``meta/argument_specs.yml`` (what ``ansible-doc -t role`` shows and what Ansible validates). This test
forces the two to agree: adding an option is ``OPTIONS`` plus the three argument specs, and nothing else to rename.
"""

import os

import pytest
import yaml

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles")
# role -> the prefix of its variables; the location roles set ``location`` themselves, the failback role takes it.
ROLE_PREFIXES = {"original_location": "original_location_", "alternate_location": "alternate_location_",
                 "failback": "failback_"}
# A role's own variables that are not options of the run.
ROLE_OWN = {"failback": {"failback_option_prefix"}}
# A role may require an option instead of defaulting it (Ansible's argument validation then refuses a run
# without it): alternate_location needs the datastore that receives the disks.
REQUIRED = {("alternate_location", "datastore")}


def role_options(role):
    """(the prefix of the role's variables, the options it must document), read from OPTIONS now."""
    names = [name for name in options.OPTIONS if role == "failback" or name != "location"]
    return ROLE_PREFIXES[role], names


def documented(role):
    with open(os.path.join(ROLES, role, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("role", sorted(ROLE_PREFIXES))
def test_the_role_documents_every_option_and_no_other(role):
    prefix, names = role_options(role)
    specs = set(documented(role)) - ROLE_OWN.get(role, set())
    expected = {prefix + name for name in names}
    assert sorted(expected - specs) == [], "%s's meta/argument_specs.yml lacks these options of OPTIONS" % role
    assert sorted(specs - expected) == [], "%s's meta/argument_specs.yml documents options OPTIONS lacks" % role


@pytest.mark.parametrize("role", sorted(ROLE_PREFIXES))
def test_each_documented_option_has_the_type_default_and_choices_of_options_py(role):
    prefix, names = role_options(role)
    specs = documented(role)
    for name in names:
        spec, option = specs.get(prefix + name, {}), options.OPTIONS[name]
        where = "%s: %s" % (role, prefix + name)
        assert spec.get("type") == option.kind, where
        assert spec.get("elements") == option.elements, where
        assert sorted(spec.get("choices") or []) == sorted(option.choices or []), where
        if (role, name) in REQUIRED:
            assert spec.get("required") is True and "default" not in spec, where
        else:
            assert not spec.get("required"), where
            assert "default" in spec, where
            assert spec["default"] == option.default, where
            if isinstance(option.default, bool):
                assert isinstance(spec["default"], bool), where


def test_the_location_roles_set_no_option_themselves():
    # the options reach the failback role only through run_options (by prefix): no role renames them again
    for role in ("original_location", "alternate_location"):
        with open(os.path.join(ROLES, role, "tasks", "main.yml")) as handle:
            tasks = yaml.safe_load(handle)
        assert len(tasks) == 1, role
        assert sorted(tasks[0]["vars"]) == ["failback_location", "failback_option_prefix"], role
        assert not os.path.exists(os.path.join(ROLES, role, "defaults", "main.yml")), role
    with open(os.path.join(ROLES, "failback", "defaults", "main.yml")) as handle:
        assert sorted(yaml.safe_load(handle)) == ["failback_option_prefix"]


def test_the_test_can_fail_on_a_missing_or_different_option(monkeypatch):
    # an option added to OPTIONS but not documented, and a changed default, are both caught
    monkeypatch.setitem(options.OPTIONS, "new_option", options.Option("int", 5))
    with pytest.raises(AssertionError):
        test_the_role_documents_every_option_and_no_other("failback")
    monkeypatch.delitem(options.OPTIONS, "new_option")
    monkeypatch.setitem(options.OPTIONS, "poll_interval", options.Option("float", 10))
    with pytest.raises(AssertionError):
        test_each_documented_option_has_the_type_default_and_choices_of_options_py("original_location")
