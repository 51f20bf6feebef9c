# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""failback_waves on recorded ASR bodies: two Resource Manager calls (the item list, the plan list), the stages of the
list entries, a plan the vault lacks refused by name."""

import copy
import json
import os

from ansible_collections.siterecovery.failback.plugins.modules import failback_waves
from ansible_collections.siterecovery.failback.tests.unit.helpers import run_module
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import (
    ScriptedTransport,
    StaticCredential,
)

RECORDED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "recorded", "asr")
BUILD = "ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials.build_credential"
ARGS = {"subscription_id": "00000000-0000-4000-8000-000000000003", "tenant": "72f988bf-0000-4000-8000-000000000001",
        "client_id": "5a1f0000-0000-4000-8000-000000000002", "secret": "Hunter2Hunter2",
        "arm_endpoint": "https://127.0.0.1:9443", "authority_host": "https://127.0.0.1:9443",
        "resource_group": "rg", "vault_name": "v"}


def recorded(name):
    with open(os.path.join(RECORDED, name)) as handle:
        return json.load(handle)["body"]


ITEMS = recorded("items_list.after_failback_committed.V2ATestReprotect.json")  # an InMage item, failback committed
ITEM = ITEMS["value"][0]


def plan(name, *item_ids):
    body = copy.deepcopy(recorded("recovery_plan_get.InMageRcm.TestV2ARCMRecoveryPlan.json"))
    body["name"] = body["properties"]["friendlyName"] = name
    body["id"] = body["id"].rsplit("/", 1)[0] + "/" + name
    body["properties"]["groups"] = [{"groupType": "Boot", "replicationProtectedItems": [
        {"id": item_id} for item_id in item_ids], "startGroupActions": [], "endGroupActions": []}]
    return body


def patch(monkeypatch, answers):
    transport = ScriptedTransport(answers)
    original = failback_waves.FailbackModule.azure

    def azure(self, deadline=None):
        session = original(self, deadline=deadline)
        session.client_kwargs_extra = {"transport": transport}
        return session

    monkeypatch.setattr(failback_waves.FailbackModule, "azure", azure)
    monkeypatch.setattr(BUILD, lambda params, endpoints: (StaticCredential(), "secret"))
    return transport


def test_two_calls_decide_the_waves_from_the_list_entries_stages(monkeypatch, capsys):
    missing_item = ITEM["id"].rsplit("/", 1)[0] + "/gone-item"
    plans = {"value": [plan("rp-a", ITEM["id"]), plan("rp-b", missing_item)]}
    transport = patch(monkeypatch, [(200, {}, ITEMS), (200, {}, plans)])
    failed, result = run_module(failback_waves.main, dict(ARGS, waves=[["rp-a"], ["rp-b"]], wave=2), capsys)
    assert not failed, result
    assert result["api_calls"] == 2 and len(transport.requests) == 2
    first, second = result["waves"]
    assert first["plans"][0]["stages"] == {ITEM["properties"]["friendlyName"]: "failback_committed"}
    assert first["state"] == "at_gate" and second["plans"][0]["vms"] == ["item gone-item"]
    assert result["done"] == [1] and result["next"] == 2 and result["run"] == [1, 2]  # wave 1 still to reprotect
    assert result["start"] is True and result["why"] is None and result["stopped"] == []
    assert result["changed"] is False


def test_check_mode_judges_the_next_wave_by_the_predicted_stages(monkeypatch, capsys):
    plans = {"value": [plan("rp-a", ITEM["id"]), plan("rp-b", ITEM["id"])]}
    patch(monkeypatch, [(200, {}, ITEMS), (200, {}, plans)])
    name = ITEM["properties"]["friendlyName"]
    args = dict(ARGS, waves=[["rp-a"], ["rp-b"]], wave=2, _ansible_check_mode=True,
                assume_stages={name: "failover_failed"})
    failed, result = run_module(failback_waves.main, args, capsys)
    assert not failed, result
    assert result["start"] is False and "plan rp-a of wave 1 is not committed: %s at failover_failed" % name in result["why"]
    assert result["stopped"] == [{"name": "rp-a", "wave": 1, "why": "not committed: %s at failover_failed" % name}]


def test_a_plan_the_vault_lacks_is_refused_by_name(monkeypatch, capsys):
    patch(monkeypatch, [(200, {}, ITEMS), (200, {}, {"value": [plan("rp-a", ITEM["id"])]})])
    failed, result = run_module(failback_waves.main, dict(ARGS, waves=[["rp-a", "rp-zz"]]), capsys)
    assert failed
    assert "Recovery plan(s) rp-zz of the waves were not found in vault rg/v" in result["msg"]


def test_bad_waves_are_refused_before_any_call(monkeypatch, capsys):
    transport = patch(monkeypatch, [])
    failed, result = run_module(failback_waves.main, dict(ARGS, waves=[["rp-a"], ["rp-a"]]), capsys)
    assert failed and "names recovery plan rp-a more than once (wave 1, wave 2)" in result["msg"]
    assert transport.requests == []
