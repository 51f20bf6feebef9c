# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_options and failback_report as modules, and the modules that take intervals and timeouts refusing bad ones
before their first request (no Azure answer is scripted: a request would fail differently)."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options as options_domain
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.modules import (
    failback_report,
    failover,
    replicated_item_info,
    reprotect,
    run_options,
)
from ansible_collections.siterecovery.failback.tests.unit.helpers import run_module

SUB, TENANT, CLIENT = ("00000000-0000-4000-8000-000000000003", "72f988bf-0000-4000-8000-000000000001",
                       "5a1f0000-0000-4000-8000-000000000002")
VAULT = {"resource_group": "rg-dr", "vault_name": "vault-dr", "subscription_id": SUB, "tenant": TENANT,
         "client_id": CLIENT, "secret": "Hunter2Hunter2", "arm_endpoint": "https://127.0.0.1:1", "authority_host": "https://127.0.0.1:1"}


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """Each test runs in its own directory: run without its action plugin, run_options makes the default report
    directory where it runs (failback-reports), which must not land in the checkout (nor its built artifact)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWX_ISOLATED_DATA_DIR", raising=False)


def test_run_options_without_its_action_plugin_decides_and_makes_the_report_directory(tmp_path, capsys,
                                                                                      monkeypatch):
    failed, result = run_module(run_options.main, {"prefix": "failback_", "options": {"vms": ["app01"]}}, capsys)
    assert not failed and result["options"]["report_dir"] == str(tmp_path / "failback-reports")
    assert result["report_dir_source"] == "cwd" and (tmp_path / "failback-reports").is_dir()
    monkeypatch.setenv("AWX_ISOLATED_DATA_DIR", str(tmp_path / "artifacts" / "9"))
    failed, result = run_module(run_options.main, {"prefix": "failback_", "options": {"vms": ["app01"]}}, capsys)
    assert result["options"]["report_dir"] == str(tmp_path / "artifacts" / "9" / "failback-reports")
    assert result["report_dir_source"] == "AWX_ISOLATED_DATA_DIR"
    assert (tmp_path / "artifacts" / "9" / "failback-reports").is_dir()


def test_a_report_directory_that_vanishes_between_the_check_and_its_making_is_refused(
        tmp_path, capsys, monkeypatch):
    def refuse(path, exist_ok=False):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(run_options.os, "makedirs", refuse)
    failed, result = run_module(run_options.main, {"prefix": "original_location_", "options": {
        "vms": ["app01"], "report_dir": str(tmp_path / "r")}}, capsys)
    assert failed and [p["option"] for p in result["problems"]] == ["original_location_report_dir"]
    assert "Permission denied" in result["msg"]


def test_the_issue16_misspelled_variable_is_refused_by_the_module(capsys):
    failed, result = run_module(run_options.main, {"prefix": "original_location_", "options": {},
                                                   "unread": {"original_location_vm": ["app01"]}}, capsys)
    assert failed and result["problems"][0]["option"] == "original_location_vm"
    assert "did you mean original_location_vms?" in result["msg"]


def no_network(monkeypatch, module):
    def refuse(*args, **kwargs):
        raise AssertionError("the module reached for Azure before checking its options")
    monkeypatch.setattr(module.FailbackModule, "azure", refuse)


def test_run_options_lists_every_problem_and_changes_nothing(capsys):
    failed, result = run_module(run_options.main, {"prefix": "original_location_", "options": {
        "vms": ["app01"], "poll_interval": 0, "recovery_point_delay": 0, "tools_timeout": -1,
        "health_checks": {"tcp": [{"host": "db01", "port": "http"}]}}}, capsys)
    assert failed and result["changed"] is False
    assert [p["option"] for p in result["problems"]] == [
        "original_location_poll_interval", "original_location_recovery_point_delay", "original_location_tools_timeout",
        "original_location_health_checks.tcp[0].port"]
    assert result["msg"].startswith("Refusing to start the run; nothing was changed. 4 option problem(s)")


def test_run_options_passes_good_options_in_check_mode(capsys):
    failed, result = run_module(run_options.main, {"options": {"vms": ["app01"], "poll_interval": "15"}}, capsys,
                                check_mode=True)
    assert not failed and result["problems"] == [] and result["checked"] == ["poll_interval", "vms"]


@pytest.mark.parametrize("module,args,option", [
    (failover, {"vms": ["app01"], "poll_interval": 0}, "poll_interval"),
    (failover, {"vms": ["app01"], "timeout": -1}, "timeout"),
    (reprotect, {"vms": ["app01"], "direction": "to_onprem", "poll_interval": 0}, "poll_interval"),
    (reprotect, {"vms": ["app01"], "direction": "to_azure", "agent_registration_timeout": -5},
     "agent_registration_timeout"),
    (reprotect, {"vms": ["app01"], "direction": "to_onprem", "placements": {"app01": {"master_taget": "mt"}}},
     "placements.app01.master_taget"),
    (reprotect, {"vms": ["app01"], "direction": "to_onprem", "placements": {"db01": {"master_target": "mt"}}},
     "placements.db01"),
    (replicated_item_info, {"vms": ["app01"], "wait_for_recovery_points": True, "poll_interval": 0}, "poll_interval"),
    (replicated_item_info, {"vms": ["app01"], "wait_for_recovery_points": True, "timeout": -1}, "timeout"),
])
def test_a_direct_module_call_is_protected_too(monkeypatch, capsys, module, args, option):
    no_network(monkeypatch, module)
    failed, result = run_module(module.main, dict(VAULT, **args), capsys)
    assert failed, result
    assert [p["option"] for p in result["error"]["problems"]] == [option], result
    assert "nothing was changed" in result["msg"]


def test_failover_failure_returns_per_vm_results_at_the_top_level():
    error = FailbackError("Failover to on-premises failed for app01.", vms=[
        {"name": "app01", "job": {"state": "Failed", "errors": [{"code": "8038", "message": "m"}]}},
        {"name": "db01", "job": {"state": "Succeeded", "errors": []}}])
    out = failover.per_vm_failure(error)
    assert [(vm["name"], vm["error_code"]) for vm in out["vms"]] == [("app01", "8038"), ("db01", None)]
    assert out["short_of_memory"] == [{"name": "app01"}] and out["vmotion_fixes_all"] is True


def test_failback_report_without_a_vault_still_reports(monkeypatch, capsys):
    monkeypatch.delenv("AZURE_SITE_RECOVERY_RESOURCE_GROUP", raising=False)
    monkeypatch.delenv("AZURE_SITE_RECOVERY_VAULT", raising=False)
    failed, result = run_module(failback_report.main, {
        "vms": ["app01"], "name": "original-location", "started": "1764500000", "result": "failed",
        "failed_stage": "Stop - the failover to on-premises failed", "failed_message": "throttled",
        "steps": {"reprotect_to_onprem": {"vms": [{"name": "app01", "action": "already_done", "job": None,
                                                   "stage_before": "replicating_to_onprem"}]}}}, capsys,
        check_mode=True)
    assert not failed and result["changed"] is False
    data = result["report"]
    assert data["run"]["result"] == "failed" and data["run"]["stages_read_error"].startswith("no vault")
    assert data["vms"][0]["failure"] == {"step": "Stop - the failover to on-premises failed", "message": "throttled"}
    assert result["lines"][0].startswith("app01 at replicating_to_onprem - the run stopped at 'Stop - the failover")


def test_failback_report_reads_the_stage_from_site_recovery_and_survives_a_failed_read(monkeypatch, capsys):
    monkeypatch.setattr(failback_report.FailbackModule, "vault", lambda self, deadline=None: object())
    asked = []
    monkeypatch.setattr(failback_report.asr_items, "select", lambda vault, vms=(), plan=None, details=True: asked.append(
        details) or [(None, {"name": "app01", "failback_stage": "failed_back"})])
    failed, result = run_module(failback_report.main, dict(VAULT, vms=["app01"], result="success"), capsys)
    assert not failed and result["report"]["vms"][0]["stage"] == "failed_back"
    assert asked == [False]  # the stage comes from the item list: no GET per item
    assert result["report"]["run"]["stages_read_from"] == "site_recovery"

    def throttled(vault, vms=(), plan=None, details=True):
        raise FailbackError("Could not list the protected items: throttled")
    monkeypatch.setattr(failback_report.asr_items, "select", throttled)
    failed, result = run_module(failback_report.main, dict(VAULT, vms=["app01"], result="failed"), capsys)
    assert not failed
    assert result["report"]["run"]["stages_read_error"] == (
        "Site Recovery could not be read: Could not list the protected items: throttled")


class Model:  # an item or plan model, as far as the report reads one
    def __init__(self, **fields):
        self.__dict__.update(fields)


def test_failback_report_of_a_plan_reads_its_boot_groups_and_returns_the_timeline(monkeypatch, capsys):
    ids = {name: "/vaults/v/replicationProtectedItems/%s-item" % name for name in ("db01", "app01", "gone01")}
    groups = [Model(group_type="Shutdown", replication_protected_items=[]),
              Model(group_type="Failover", replication_protected_items=[]),
              Model(group_type="Boot", replication_protected_items=[Model(id=ids["db01"].upper())]),
              Model(group_type="Boot", replication_protected_items=[Model(id=ids["app01"]), Model(id=ids["gone01"])])]
    plan = Model(name="rp-app", properties=Model(groups=groups))

    class Vault:
        def plan(self, name):
            assert name == "rp-app"
            return plan
    monkeypatch.setattr(failback_report.FailbackModule, "vault", lambda self, deadline=None: Vault())
    monkeypatch.setattr(failback_report.asr_items, "select", lambda vault, vms=(), plan=None, details=True: [
        (Model(id=ids[name]), {"name": name, "failback_stage": "reprotected_to_azure"}) for name in ("app01", "db01")])
    failed, result = run_module(failback_report.main, dict(VAULT, recovery_plan="rp-app", started="1764500000"), capsys)
    assert not failed
    run = result["report"]["run"]
    assert run["recovery_plan"] == "rp-app" and run["boot_groups"] == [["db01"], ["app01"]]
    assert [row["vm"] for row in result["timeline"]["rows"]] == ["db01", "app01"]
    assert [g["label"] for g in result["timeline"]["groups"]] == ["Boot group 1", "Boot group 2"]
    assert result["summary"]["recovery_plan"] == "rp-app" and [v["name"] for v in result["summary"]["vms"]] == [
        "app01", "db01"]

    def unreadable(self, deadline=None):  # a plan Site Recovery cannot read: still named, with no boot groups
        raise FailbackError("throttled")
    monkeypatch.setattr(failback_report.FailbackModule, "vault", unreadable)
    failed, result = run_module(failback_report.main, dict(VAULT, recovery_plan="rp-app"), capsys)
    assert not failed and result["report"]["run"]["recovery_plan"] == "rp-app"
    assert result["report"]["run"]["boot_groups"] == [] and result["timeline"]["rows"] == []


def test_a_report_dir_that_cannot_be_written_is_refused_at_the_start(tmp_path, capsys):
    afile = tmp_path / "not-a-dir"
    afile.write_text("x")
    failed, result = run_module(run_options.main, {"prefix": "alternate_location_",
                                                   "options": {"vms": ["web02"], "report_dir": str(afile / "reports")}},
                                capsys)
    assert failed and [p["option"] for p in result["problems"]] == ["alternate_location_report_dir"]
    assert "is a file" in result["problems"][0]["rule"]
    # the review's example: nobody, root included, creates a directory under /proc
    problems = run_options.report_dir_problems("/proc/nope", "report_dir")
    assert [p["option"] for p in problems] == ["report_dir"] and "/proc" in problems[0]["rule"]
    assert run_options.report_dir_problems(str(tmp_path / "a" / "b"), "report_dir") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-dir"]  # the check left nothing behind


def test_run_options_fills_every_default_from_options_py_and_returns_the_options_normalized(tmp_path, capsys):
    failed, result = run_module(run_options.main, {"prefix": "original_location_", "location": "original", "options": {
        "vms": ["app01"], "poll_interval": "20", "tools_timeout": "0", "commit": "no",
        "report_dir": str(tmp_path / "reports")}}, capsys, check_mode=True)
    assert not failed and result["changed"] is False, result
    got = result["options"]
    assert sorted(got) == sorted(options_domain.OPTIONS)
    assert (got["poll_interval"], got["tools_timeout"], got["commit"]) == (20.0, 0, False)
    assert isinstance(got["tools_timeout"], int) and isinstance(got["poll_interval"], float)
    # the options not given: their defaults, as options.py declares them
    assert got["recovery_point_delay"] == 30.0 and got["memory_remediation"] == "vmotion" and got["placements"] == {}
    assert got["location"] == "original" and got["preflight"] is True and got["owner"] == ""
    assert result["checked"] == ["commit", "location", "poll_interval", "report_dir", "tools_timeout", "vms"]


def test_run_options_checks_the_defaults_with_what_was_given(capsys):
    # nothing selects VMs: the defaults (no VMs, no plan) are refused as an empty run, naming the variable
    failed, result = run_module(run_options.main, {"prefix": "alternate_location_", "location": "alternate"}, capsys)
    assert failed and [p["option"] for p in result["problems"]] == ["alternate_location_vms"]
    assert "options" not in result


def test_run_options_refuses_a_misspelled_option_given_directly(capsys):
    failed, result = run_module(run_options.main, {"prefix": "failback_", "options": {
        "vms": ["app01"], "pol_interval": 5, "timeout": 60}}, capsys)
    assert failed and [p["option"] for p in result["problems"]] == ["failback_pol_interval"]
    assert result["problems"][0]["rule"] == "is not an option of the run"


def test_run_options_refuses_a_bad_location(capsys):
    failed, result = run_module(run_options.main, {"prefix": "failback_", "location": "elsewhere",
                                                   "options": {"vms": ["app01"]}}, capsys)
    assert failed and [p["option"] for p in result["problems"]] == ["failback_location"]


def test_run_options_reads_a_list_given_as_text_as_ansible_does(capsys):
    # -e original_location_vms=app01,db01 gives text: a list option splits it at its commas
    failed, result = run_module(run_options.main, {"prefix": "original_location_", "options": {
        "vms": "app01, db01", "report_dir": "./failback-reports"}}, capsys, check_mode=True)
    assert not failed and result["options"]["vms"] == ["app01", "db01"], result


def test_run_options_returns_the_runs_plans_in_order(capsys):
    failed, result = run_module(run_options.main, {"options": {"recovery_plan": "rp-a", "recovery_plans": "rp-b,rp-c"}},
                                capsys)
    assert not failed and result["run"]["plans"] == ["rp-a", "rp-b", "rp-c"]
    failed, result = run_module(run_options.main, {"prefix": "failback_", "options": {
        "waves": '[["rp-db"], ["rp-app", "rp-db"]]', "wave_pause": True}}, capsys)
    assert failed and "names recovery plan rp-db more than once (wave 1, wave 2)" in result["msg"]


def test_failback_report_of_several_plans_reports_each_plan(monkeypatch, capsys):
    ids = {name: "/vaults/v/replicationProtectedItems/%s-item" % name for name in ("a1", "b1", "c1")}

    def plan(name, *vms):
        return Model(name=name, properties=Model(friendly_name=name, groups=[
            Model(group_type="Boot", replication_protected_items=[Model(id=ids[vm]) for vm in vms])]))

    class Vault:
        def items(self):
            return [Model(id=ids[name], properties=Model(friendly_name=name)) for name in ids]

        def plans(self):
            return [plan("rp-a", "a1"), plan("rp-b", "b1"), plan("rp-c", "c1")]

    monkeypatch.setattr(failback_report.FailbackModule, "vault", lambda self, deadline=None: Vault())
    asked = []

    def select(vault, vms=(), plan=None, details=True):
        asked.append(plan)
        return [(Model(id=ids[name]), {"name": name, "failback_stage": stage})
                for name, stage in (("a1", "reprotected_to_azure"), ("b1", "failover_failed"))]
    monkeypatch.setattr(failback_report.asr_items, "select", select)
    steps = {"failover_to_onprem": {"failed": True, "continue_with": ["a1"], "plans": [
        {"name": "rp-a", "vms": ["a1"], "outcome": "done"},
        {"name": "rp-b", "vms": ["b1"], "outcome": "stopped", "why": "job failed: injected"}],
        "vms": [{"name": "a1", "action": "failover"}, {"name": "b1", "action": "failover", "stopped": "injected"}]}}
    failed, result = run_module(failback_report.main, dict(VAULT, recovery_plan=["rp-a", "rp-b"], waves=[], steps=steps,
                                                           result="failed"), capsys)
    assert not failed and asked == [["rp-a", "rp-b"]]
    assert result["report"]["run"]["recovery_plan"] == "rp-a, rp-b" and result["report"]["run"]["boot_groups"] == []
    assert [(p["name"], p["outcome"], p["vms"]) for p in result["report"]["plans"]] == [
        ("rp-a", "done", ["a1"]), ("rp-b", "stopped", ["b1"])]
    assert result["plan_lines"][1] == "rp-b: stopped at failover_to_onprem - job failed: injected (1 VM(s): b1)."
    # waves: every plan of every wave is reported, the waves not run as not started
    failed, result = run_module(failback_report.main, dict(VAULT, waves=[["rp-a"], ["rp-c"]], blocked="Wave 2 does not "
                                                           "start: plan rp-a of wave 1 is not committed."), capsys)
    assert not failed
    plans = {p["name"]: p for p in result["report"]["plans"]}
    assert plans["rp-c"]["outcome"] == "not_started" and plans["rp-c"]["vms"] == ["c1"] and plans["rp-c"]["wave"] == 2
    assert plans["rp-c"]["why"].startswith("Wave 2 does not start")
