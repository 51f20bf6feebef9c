# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

from ansible_collections.siterecovery.failback.plugins.modules import azure_connection_info
from ansible_collections.siterecovery.failback.tests.unit.helpers import run_module, run_module_unmasked
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import (
    ScriptedTransport,
    StaticCredential,
)

BUILD = "ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials.build_credential"
SUB, TENANT, CLIENT = ("00000000-0000-4000-8000-000000000003", "72f988bf-0000-4000-8000-000000000001",
                       "5a1f0000-0000-4000-8000-000000000002")
ARGS = {"subscription_id": SUB, "tenant": TENANT, "client_id": CLIENT, "secret": "Hunter2Hunter2",
        "arm_endpoint": "https://127.0.0.1:9443", "authority_host": "https://127.0.0.1:9443"}
FABRICS = {"value": [{"name": "a1b2", "id": "/x/replicationFabrics/a1b2",
                      "properties": {"friendlyName": "cs01", "customDetails": {"instanceType": "VMware"}}}]}


def patch(monkeypatch, answers):
    transport = ScriptedTransport(answers)
    original = azure_connection_info.FailbackModule.azure

    def azure(self, deadline=None):
        session = original(self, deadline=deadline)
        session.client_kwargs_extra = {"transport": transport}
        return session

    monkeypatch.setattr(azure_connection_info.FailbackModule, "azure", azure)
    monkeypatch.setattr(BUILD, lambda params, endpoints: (StaticCredential(), "secret"))
    return transport


def test_token_only(monkeypatch, capsys):
    patch(monkeypatch, [])
    failed, result = run_module(azure_connection_info.main, ARGS, capsys)
    assert not failed
    assert result["auth_source"] == "secret"
    assert result["cloud"] == "custom"
    assert result["token_expires_on"].startswith("2100-01-01")
    assert "vault" not in result
    assert result["api_calls"] == 0


def test_vault_fabrics_are_listed(monkeypatch, capsys):
    transport = patch(monkeypatch, [(200, {}, FABRICS)])
    failed, result = run_module(azure_connection_info.main, {**ARGS, "resource_group": "rg", "vault_name": "v"}, capsys)
    assert not failed
    assert result["vault"]["fabrics"] == [{"name": "a1b2", "friendly_name": "cs01", "type": "VMware"}]
    assert result["api_calls"] == 1
    assert "/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics" in transport.requests[0][1]


def test_missing_vault_names_the_fix_and_hides_the_secret(monkeypatch, capsys):
    patch(monkeypatch, [(404, {}, {"error": {"code": "ResourceNotFound", "message": "vault v not found"}})])
    # the result as the module built it: Ansible's own no_log masking would hide a secret copied into it
    failed, result, module = run_module_unmasked(azure_connection_info.main,
                                                 {**ARGS, "resource_group": "rg", "vault_name": "v"}, capsys)
    assert failed
    assert "list the Site Recovery fabrics of vault rg/v" in result["msg"]
    assert "resource_group and vault_name" in result["msg"]
    assert result["error"]["status"] == 404
    assert "Hunter2Hunter2" not in json.dumps(result)
    assert module["argument_spec"]["secret"]["no_log"] is True and "Hunter2Hunter2" in module["no_log_values"]


def test_a_successful_result_carries_no_secret(monkeypatch, capsys):
    patch(monkeypatch, [(200, {}, FABRICS)])
    failed, result, module = run_module_unmasked(azure_connection_info.main,
                                                 {**ARGS, "resource_group": "rg", "vault_name": "v"}, capsys)
    assert not failed and result["vault"]["fabrics"], result
    assert "Hunter2Hunter2" not in json.dumps(result)
    assert module["argument_spec"]["secret"]["no_log"] is True


def test_vault_name_requires_resource_group(monkeypatch, capsys):
    patch(monkeypatch, [])
    monkeypatch.delenv("AZURE_SITE_RECOVERY_RESOURCE_GROUP", raising=False)
    failed, result = run_module(azure_connection_info.main, {**ARGS, "vault_name": "v"}, capsys)
    assert failed
    assert "resource_group" in result["msg"]
