# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The commit module validates every option before it builds a client: nothing is read or changed."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.plugins.modules import commit
from ansible_collections.siterecovery.failback.tests.unit.helpers import run_module

ARGS = {"resource_group": "rg-dr", "vault_name": "vault-dr", "vms": ["app01"]}


@pytest.fixture(autouse=True)
def no_clients(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a client was built")
    monkeypatch.setattr(FailbackModule, "azure", refuse)
    monkeypatch.setattr(FailbackModule, "vsphere", refuse)


@pytest.mark.parametrize("extra, fragment", [
    ({"health_checks": {"tcp": [{"host": "app01", "port": "http"}]}}, "health_checks.tcp[0].port: must be a whole"),
    ({"health_checks": {"http": [{"url": "htp//app01/health"}]}}, "url: must start with http:// or https://"),
    ({"health_checks": {"tcp": [{"host": "db01", "port": 1433, "vm": "db01"}]}}, "names VM db01, which is not selected"),
    ({"poll_interval": 0}, "poll_interval: must be at least 0.5"),
    ({"timeout": -1}, "timeout: must be at least 0"),
    ({"probe_timeout": -5}, "probe_timeout: must be at least 0"),
])
def test_bad_options_are_refused_before_anything_is_read(capsys, extra, fragment):
    failed, result = run_module(commit.main, dict(ARGS, **extra), capsys)
    assert failed is True
    assert result["msg"].startswith("Refusing to start the commit (nothing was read); nothing was changed. ")
    assert fragment in result["msg"], result["msg"]
    assert result["error"]["rule"] == "options_valid"


def test_every_problem_is_named_at_once(capsys):
    failed, result = run_module(commit.main, dict(ARGS, poll_interval=0, health_checks={
        "tcp": [{"host": "app01", "port": "http"}], "http": [{"url": "http://app01:99999/"}]}), capsys)
    assert failed is True and len(result["error"]["problems"]) == 3
