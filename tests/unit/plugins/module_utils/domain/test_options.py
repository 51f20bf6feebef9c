# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run's options are refused at its start, each problem naming the option, the rule and the fix."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options

GOOD = {"location": "original", "vms": ["app01", "db01"], "recovery_plan": "", "placements": {},
        "recovery_point": "latest_processed", "memory_remediation": "vmotion", "health_checks": {},
        "commit": True, "reprotect_to_azure": True, "preflight": True, "report_dir": "/srv/failback-reports",
        "poll_interval": 15, "recovery_point_delay": 30, "tools_timeout": 600, "lock_break": False,
        "cancel_on_failure": False}


def problems(**changes):
    return options.check_run(dict(GOOD, **changes), prefix="failback_")


def named(found):
    return [p["option"] for p in found]


def test_the_defaults_pass():
    assert problems() == []


# the examples of issue 13, kept as they were found
@pytest.mark.parametrize("changes,option,rule", [
    ({"recovery_point_delay": 0}, "failback_recovery_point_delay", "must be at least 0.5"),
    ({"tools_timeout": -1}, "failback_tools_timeout", "must be at least 0"),
    ({"poll_interval": 0}, "failback_poll_interval", "must be at least 0.5"),
    ({"health_checks": {"http": [{"url": "htp:/app01/health"}]}}, "failback_health_checks.http[0].url",
     "must start with http:// or https://"),
    ({"health_checks": {"tcp": [{"host": "db01", "port": "http"}]}}, "failback_health_checks.tcp[0].port",
     "must be a whole number"),
    ({"placements": {"app01": {"master_taget": "mt-win01"}}}, "failback_placements.app01.master_taget",
     "is not a placement key"),
])
def test_each_example_of_the_issue_is_refused_naming_option_rule_and_fix(changes, option, rule):
    found = problems(**changes)
    assert named(found) == [option]
    assert found[0]["rule"].startswith(rule)
    assert found[0]["fix"] and option in found[0]["message"] and found[0]["fix"] in found[0]["message"]


def test_every_problem_is_listed_at_once():
    found = problems(poll_interval=0, recovery_point_delay=0, tools_timeout=-1, location="elsewhere",
                     memory_remediation="reboot", health_checks={"tcp": [{"host": "", "port": 0}]},
                     placements={"web09": {"datastore": "vmfs-01"}})
    assert named(found) == ["failback_location", "failback_memory_remediation", "failback_poll_interval",
                            "failback_recovery_point_delay", "failback_tools_timeout", "failback_placements.web09",
                            "failback_health_checks.tcp[0].host", "failback_health_checks.tcp[0].port"]
    message = options.summary(found)
    assert message.startswith("Refusing to start the run; nothing was changed. 8 option problem(s):")


@pytest.mark.parametrize("value", [0, -1, 0.1, "0", "abc", None, True, float("nan"), float("inf"), 3601])
def test_poll_interval_out_of_range_or_not_a_number(value):
    assert named(problems(poll_interval=value)) == ["failback_poll_interval"]


@pytest.mark.parametrize("value", [0.5, 1, "2.5", 3600])
def test_poll_interval_in_range(value):
    assert problems(poll_interval=value) == []


@pytest.mark.parametrize("value", [-1, 1.5, "ten", 7 * 24 * 3600 + 1, False])
def test_timeouts_are_whole_seconds_from_zero_to_a_week(value):
    assert named(problems(tools_timeout=value)) == ["failback_tools_timeout"]
    assert options.check_run({"timeout": value, "recovery_point_timeout": value,
                              "agent_registration_timeout": value}) != []


@pytest.mark.parametrize("value", [0, "600", 600.0, 7 * 24 * 3600])
def test_timeouts_in_range(value):
    assert problems(tools_timeout=value) == []


@pytest.mark.parametrize("url,rule", [
    ("app01/health", "must start with http:// or https://"),
    ("ftp://app01/health", "must start with http:// or https://"),
    ("http:///health", "must name a host"),
    ("https://app01:99999/health", "is not a valid URL"),
    ("https://app 01/health", "must name a host"),
    ("", "must be a non-empty URL"),
    (None, "must be a non-empty URL"),
])
def test_http_probe_urls(url, rule):
    found = options.check_health_checks("hc", {"http": [{"url": url}]})
    assert named(found) == ["hc.http[0].url"]
    assert found[0]["rule"].startswith(rule), found[0]


@pytest.mark.parametrize("url", ["http://app01/health", "https://app01.example.com:8443/health?deep=1",
                                 "HTTPS://10.0.0.5/", "http://[fe80::1]:8080/"])
def test_good_http_probe_urls(url):
    assert options.check_health_checks("hc", {"http": [{"url": url, "status": 200, "validate_certs": False,
                                                        "timeout": 30}]}) == []


@pytest.mark.parametrize("port", ["http", 0, 65536, -1, 1.5, None, True])
def test_tcp_ports(port):
    assert named(options.check_health_checks("hc", {"tcp": [{"host": "db01", "port": port}]})) == ["hc.tcp[0].port"]


@pytest.mark.parametrize("port", [1, 1433, "443", 65535])
def test_good_tcp_ports(port):
    assert options.check_health_checks("hc", {"tcp": [{"host": "db01", "port": port}]}) == []


def test_http_status_and_probe_keys():
    found = options.check_health_checks("hc", {
        "http": [{"url": "http://a/", "status": "ok"}, {"url": "http://a/", "status": [200, 700]},
                 {"url": "http://a/", "validate_certs": "maybe", "timout": 5}],
        "tpc": [], "tcp": {"host": "db01"}})
    assert named(found) == ["hc.tpc", "hc.tcp", "hc.http[0].status", "hc.http[1].status", "hc.http[2].timout",
                            "hc.http[2].validate_certs"]


def test_health_checks_must_be_a_dictionary_of_lists_of_dictionaries():
    assert named(options.check_health_checks("hc", ["http://a/"])) == ["hc"]
    assert named(options.check_health_checks("hc", {"http": ["http://a/"]})) == ["hc.http[0]"]
    assert options.check_health_checks("hc", None) == [] and options.check_health_checks("hc", {}) == []


def test_placements_keys_values_and_vms():
    found = options.check_placements("p", {"app01": {"master_target": "mt-win01", "datastore": "", "mastertarget": "x"},
                                           "db01": "mt-win01", "web09": {"datastore": "vmfs-01"}},
                                     vms=["app01", "db01"])
    assert named(found) == ["p.app01.mastertarget", "p.app01.datastore", "p.db01", "p.web09"]
    assert "its VMs: app01, db01" in found[3]["rule"]


def test_placements_accept_every_key_the_reprotect_reads():
    entry = dict.fromkeys(options.PLACEMENT_KEYS, "name")
    assert options.check_placements("p", {"app01": entry}, vms=["app01"]) == []


def test_placements_of_a_recovery_plan_are_not_checked_against_vm_names():
    # the plan's VMs are known only to Site Recovery: the keys are still checked
    found = problems(vms=[], recovery_plan="rp-app", placements={"db01": {"datastore": "vmfs-01", "datstore": "x"}})
    assert named(found) == ["failback_placements.db01.datstore"]


def test_vms_or_plan_and_recovery_points():
    assert named(problems(vms=[], recovery_plan="")) == ["failback_vms"]
    assert named(problems(vms=["app01", "app01"])) == ["failback_vms"]
    assert named(problems(vms="app01")) == ["failback_vms"]
    assert named(problems(recovery_point="")) == ["failback_recovery_point"]
    # a recovery point by name is for one VM only (the failover refused it after the reprotect had run)
    assert named(problems(recovery_point="9c0e-point")) == ["failback_recovery_point"]
    assert named(problems(vms=[], recovery_plan="rp-app", recovery_point="9c0e-point")) == ["failback_recovery_point"]
    assert problems(vms=["app01"], recovery_point="9c0e-point") == []
    assert problems(vms=[], recovery_plan="rp-app", recovery_point="latest_app_consistent") == []


def test_booleans_and_report_dir():
    found = problems(commit="sure", lock_break=2, report_dir=5)
    assert named(found) == ["failback_commit", "failback_lock_break", "failback_report_dir"]
    assert problems(commit="yes", preflight="False") == []
    # empty: chosen on the controller at the run's start (report_directory)
    assert problems(report_dir="") == [] and problems(report_dir="   ") != []


@pytest.mark.parametrize("value, environ, expected", [
    # under ansible-runner (AWX): the job's artifact directory, which AWX keeps with the job
    ("", {"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/42"},
     ("/runner/artifacts/42/failback-reports", "AWX_ISOLATED_DATA_DIR")),
    (None, {"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/42/"},
     ("/runner/artifacts/42/failback-reports", "AWX_ISOLATED_DATA_DIR")),
    # plain ansible-playbook: where it runs, never the playbook's directory (inside the installed collection)
    ("", {}, ("/work/here/failback-reports", "cwd")),
    ("", {"AWX_ISOLATED_DATA_DIR": "relative/artifacts"}, ("/work/here/failback-reports", "cwd")),
    # given: wins over the job's directory; a relative one is taken from where ansible-playbook runs
    ("out/r", {"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/42"}, ("/work/here/out/r", "report_dir")),
    ("/var/failback/", {}, ("/var/failback", "report_dir")),
    ("../up", {}, ("/work/up", "report_dir")),
    (5, {}, (5, "report_dir")), ("  ", {}, ("  ", "report_dir"))])
def test_the_report_directory_is_absolute_and_never_the_playbooks(value, environ, expected):
    assert options.report_directory(value, environ, "/work/here") == expected


def test_the_report_directory_of_home():
    import os
    assert options.report_directory("~/r", {}, "/x") == (os.path.join(os.path.expanduser("~"), "r"), "report_dir")


def test_unknown_variables_of_a_prefix_name_the_closest_known_one():
    given = {"original_location_vm": ["app01"], "original_location_vms": ["db01"], "original_location_plan": "rp",
             "original_location_zzz": 1, "alternate_location_vm": ["x"], "failback_vm": ["y"], "vms": []}
    assert options.unknown_variables(given, "original_location_", options.OPTIONS) == [
        ("original_location_plan", "original_location_recovery_plan"), ("original_location_vm", "original_location_vms"),
        ("original_location_zzz", None)]
    assert options.unknown_variables(given, "preflight_", ["vms"]) == []
    # the one known name that shares most words, before spelling: plan_name -> recovery_plan
    assert options.unknown_variables(["original_location_plan_name", "original_location_report_directory",
                                      "original_location_timeout_tools"], "original_location_", options.OPTIONS) == [
        ("original_location_plan_name", "original_location_recovery_plan"),
        ("original_location_report_directory", "original_location_report_dir"),
        ("original_location_timeout_tools", "original_location_tools_timeout")]
    # a correct name is no problem
    assert options.unknown_variables({"original_location_vms": []}, "original_location_", options.OPTIONS) == []


def test_issue16_original_location_vm_is_refused_naming_original_location_vms():
    # issue 16: `original_location_vm` ran, failed late with "one of the following is required: vms,
    # recovery_plan", and wrote a "0 VM(s)" report
    assert options.looks_like_an_option("original_location_vm", "original_location_")
    found = options.unread_variables({"original_location_vm": ["app01"]}, "original_location_")
    assert [(p["option"], p["fix"]) for p in found] == [("original_location_vm", "did you mean original_location_vms?")]
    assert found[0]["message"].startswith("original_location_vm: is not an option of the run (it would be ignored)")


@pytest.mark.parametrize("variable, prefix, refused", [
    # the run's own prefix (one no other variable shares): every name that is no option, near or not
    ("original_location_vm", "original_location_", True),
    ("original_location_vm_list", "original_location_", True),
    ("alternate_location_datastores", "alternate_location_", True),
    ("original_location_vms", "original_location_", False),
    ("original_location_report_dir", "original_location_", False),
    # another role's prefix: an option a user sets, or its near-miss
    ("alternate_location_vms", "original_location_", True),
    ("failback_vm", "original_location_", True),
    ("failback_vault_name", "original_location_", False),
    # failback_: shared with the playbooks' vault variables and the role's facts - near-misses only
    ("failback_comit", "failback_", True),
    ("failback_going", "failback_", False),
    ("failback_progress_interval", "failback_", False),
    ("failback_resource_group", "failback_", False),
    ("unrelated_vm", "original_location_", False)])
def test_the_kind_of_unknown_variable(variable, prefix, refused):
    assert options.looks_like_an_option(variable, prefix) is refused


def test_an_unknown_variable_far_from_every_option_is_refused_pointing_at_the_role_docs():
    found = options.unread_variables({"original_location_zzz": 1}, "original_location_")
    assert found[0]["fix"] == ("name one of the run's options (ansible-doc -t role siterecovery.failback."
                               "original_location lists them)")


def test_options_left_out_are_not_checked():
    assert options.check_run({}) == []


def test_module_options_use_the_same_rules():
    assert named(options.check_module({"timeout": -5, "poll_interval": 0, "other": "x"},
                                      ("timeout", "poll_interval"))) == ["timeout", "poll_interval"]
    assert options.check_module({"timeout": None, "poll_interval": 15}, ("timeout", "poll_interval")) == []


def test_number_parsing():
    assert options.number("15") == 15.0 and options.number(" 2 ", "int") == 2
    assert options.number("1.0", "int") == 1 and options.number("1.5", "int") is None
    assert options.number(True) is None and options.number([1]) is None and options.number("1e400") is None


def test_a_probe_may_gate_one_vm_of_the_run_and_name_its_ca():
    good = {"tcp": [{"host": "db01", "port": 1433, "vm": "db01"}],
            "http": [{"url": "https://app01/health", "ca_file": "/etc/pki/corp-ca.pem", "vm": "app01"}]}
    assert problems(health_checks=good) == []
    bad = {"tcp": [{"host": "db01", "port": 1433, "vm": "db02"}], "http": [{"url": "https://a/", "ca_file": "", "vm": ""}]}
    assert named(problems(health_checks=bad)) == ["failback_health_checks.tcp[0].vm",
                                                  "failback_health_checks.http[0].ca_file",
                                                  "failback_health_checks.http[0].vm"]
    # a plan's VMs are known only to Site Recovery: the probe's vm is checked by the commit
    assert problems(vms=[], recovery_plan="rp-app", health_checks={"tcp": [{"host": "db01", "port": 1, "vm": "x"}]}) == []


def test_protected_disk_files_are_checked_at_the_runs_start():
    assert problems(protected_disk_files={"app01": ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]}) == []
    found = problems(protected_disk_files={"web09": ["[vmfs-01] web09/web09.vmdk"], "db01": ["db01.vmdk"]})
    assert named(found) == ["failback_protected_disk_files.web09", "failback_protected_disk_files.db01[0]"]
    assert found[0]["rule"].startswith("names a VM that is not in this run")
    assert found[1]["rule"].startswith("must be a VMDK's datastore path")


# ------------------------------------------------------------------------------------------------ run identity
@pytest.mark.parametrize("owner, awx_job_id, environ, expected", [
    ("dr-night-1", "77", {"JOB_ID": "88"}, {"id": "dr-night-1", "source": "owner"}),
    ("  ", "77", {"JOB_ID": "88"}, {"id": "awx-job-77", "source": "awx_job_id"}),
    ("", None, {"JOB_ID": "88", "AWX_JOB_ID": "99"}, {"id": "awx-job-88", "source": "JOB_ID"}),
    ("", "", {"JOB_ID": " ", "AWX_JOB_ID": "99"}, {"id": "awx-job-99", "source": "AWX_JOB_ID"}),
    (None, None, {}, {"id": "run-20251126T065320Z-a1b2c3", "source": "generated"}),
])
def test_run_identity_prefers_owner_then_the_awx_job_then_a_generated_id(owner, awx_job_id, environ, expected):
    assert options.run_identity(owner, awx_job_id, environ, 1764140000.0, "a1b2c3") == expected
