# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Azure side under real conditions (issue 15): a token expired mid-wait, a closed or TLS-intercepted endpoint,
an unknown cloud, throttling during a plan's failover wait, a Retry-After beyond the deadline.

Judged from outside: the emulator's state (items, jobs, faults met) and its request counters (GET /_lab/stats),
and the module's message only for what it must say to the user."""

import socket
import threading
import time

import pytest
from conftest import lab_control as control
from conftest import lab_requests, lab_state, run_module, wait_until

FAST = {"poll_interval": 0.5}
REPROTECTED = {"asr": {"items": [{"name": "app01", "stage": "replicating_to_onprem", "master_target": "mt-win01",
                                  "recovery_points": [{"age_minutes": 2}]}]}}
PLAN_ITEMS = (("db01", "mt-win01"), ("app02", "mt-win01"), ("app01", "mt-win01"), ("web01", "mt-lin01"))
PLAN_REPROTECTED = {"asr": {"items": [{"name": name, "stage": "replicating_to_onprem", "master_target": mt,
                                       "recovery_points": [{"age_minutes": 2}]} for name, mt in PLAN_ITEMS]}}


def token_requests(lab):
    return sum(n for key, n in lab_requests(lab).items() if key.startswith("POST ") and key.endswith("/oauth2/v2.0/token"))


def when_started(lab, action, then, stop):
    """Once a POST ending in ``action`` reached the emulator (the job was started and is held), run ``then()`` and
    release the held jobs."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not stop.is_set():
        if any(key.startswith("POST ") and key.endswith(action) for key in lab_requests(lab)):
            then()
            control(lab, "POST", "/jobs/release", {})
            return
        time.sleep(0.05)


def run_while_held(lab, hold, action, then, module, args):
    """Run ``module`` with its job held at its first task (``hold``: {item | plan}); ``then()`` runs once the job
    was started, before it is released."""
    control(lab, "POST", "/jobs/hold", dict(hold, at_task=1))
    control(lab, "DELETE", "/stats")
    stop = threading.Event()
    helper = threading.Thread(target=when_started, args=(lab, action, then, stop), daemon=True)
    helper.start()
    try:
        return run_module(module, args, env=lab.env())
    finally:
        stop.set()
        helper.join(timeout=30)
        control(lab, "POST", "/jobs/release", {})


def test_a_token_expired_during_the_failover_wait_is_renewed_and_the_wait_goes_on(full_lab):
    lab = full_lab("default.yml", overrides=REPROTECTED)
    rc, result = run_while_held(lab, {"item": "app01"}, "/unplannedFailover",
                                lambda: control(lab, "POST", "/tokens/expire", {}), "failover", dict(FAST, vms=["app01"]))
    assert rc == 0, result.get("msg")
    state = lab_state(lab)
    assert state["items"]["app01"]["stage"] == "failed_back"
    assert token_requests(lab) == 2  # the first token, and one renewal after ARM said it expired
    assert sum(n for key, n in lab_requests(lab).items() if key.endswith("/unplannedFailover")) == 1


def test_a_failure_after_the_job_started_reports_changed_and_the_job(full_lab):
    """The token expires mid-wait and the token endpoint now refuses the client: the module fails, but the failover
    job it started runs on - changed true, the job named with how to follow it."""
    lab = full_lab("default.yml", overrides=REPROTECTED)

    def expire_and_refuse():
        control(lab, "POST", "/faults", {"method": "POST", "path_regex": "/oauth2/v2.0/token$", "kind": "status",
                                         "status": 401, "code": "invalid_client", "message": "AADSTS7000222: expired"})
        control(lab, "POST", "/tokens/expire", {})

    rc, result = run_while_held(lab, {"item": "app01"}, "/unplannedFailover", expire_and_refuse, "failover",
                                dict(FAST, vms=["app01"]))
    assert rc != 0, result
    assert result["changed"] is True
    state = lab_state(lab)
    [job_name] = list(state["jobs"])  # the one job of this lab: the failover the module started
    [started] = result["started_jobs"]
    assert started["name"] == job_name
    assert started["id"].endswith("/vaults/vault-dr/replicationJobs/%s" % job_name)
    assert job_name in result["msg"] and "Get-AzRecoveryServicesAsrJob" in result["msg"], result["msg"]
    # the job goes on in Azure whatever failed here
    wait_until(lambda: lab_state(lab)["items"]["app01"]["stage"] == "failed_back", "app01 failed back", 120)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_closed_arm_endpoint_fails_after_three_attempts_naming_it(full_lab):
    lab = full_lab("default.yml")
    port = closed_port()
    env = dict(lab.env(), AZURE_ARM_ENDPOINT="https://127.0.0.1:%d" % port)
    rc, result = run_module("azure_connection_info", {}, env=env)
    assert rc != 0, result
    assert "https://127.0.0.1:%d" % port in result["msg"], result["msg"]
    assert "connection refused" in result["msg"] and "arm_endpoint" in result["msg"], result["msg"]
    assert result["error"]["attempts"] == 3


def test_a_dropped_connection_is_tried_three_times_counted_by_the_endpoint(full_lab):
    lab = full_lab("default.yml")
    control(lab, "POST", "/faults", {"method": "GET", "path_regex": "/replicationFabrics$", "kind": "reset"})
    control(lab, "DELETE", "/stats")
    rc, result = run_module("fabric_info", {}, env=lab.env())
    assert rc != 0, result
    fabric_reads = sum(n for key, n in lab_requests(lab).items()
                       if key.startswith("GET ") and key.endswith("/replicationFabrics"))
    assert fabric_reads == 3
    assert lab.env()["AZURE_ARM_ENDPOINT"].rstrip("/") in result["msg"], result["msg"]


def test_a_tls_failure_names_ca_bundle(full_lab):
    lab = full_lab("default.yml")
    env = {k: v for k, v in lab.env().items() if k != "AZURE_CA_BUNDLE"}
    control(lab, "DELETE", "/stats")
    rc, result = run_module("azure_connection_info", {}, env=env)
    assert rc != 0, result
    assert "TLS verification" in result["msg"] and "ca_bundle" in result["msg"], result["msg"]
    assert "AZURE_CA_BUNDLE" in result["msg"]
    assert "Check tenant, client_id and secret" not in result["msg"]
    assert control(lab, "GET", "/stats")["total"] == 0  # no request got through the handshake


def test_an_unknown_cloud_is_refused_before_any_call(full_lab):
    lab = full_lab("default.yml")
    control(lab, "DELETE", "/stats")
    env = dict(lab.env(), AZURE_CLOUD_ENVIRONMENT="AzureMoon")
    rc, result = run_module("replicated_item_info", {"vms": ["app01"]}, env=env)
    assert rc != 0, result
    assert "Unknown cloud_environment 'AzureMoon'" in result["msg"], result["msg"]
    assert control(lab, "GET", "/stats")["total"] == 0


def test_25_throttled_reads_during_a_plan_failover_wait_are_ridden_out(full_lab):
    """Throttling that starts during the wait: 25 reads of the plan's job and the 25 next reads of the protected items
    (the reads after the job) answer 429 with Retry-After 1 - more than the 10 retries a request had; ASR finishes the
    failover well within the 3600 s deadline, and so must the run."""
    lab = full_lab("default.yml", overrides=PLAN_REPROTECTED)

    def throttle():
        for path in ("/replicationJobs/", "/replicationProtectedItems"):
            control(lab, "POST", "/faults", {"method": "GET", "path_regex": path, "kind": "throttle", "retry_after": 1,
                                             "times": 25})

    rc, result = run_while_held(lab, {"plan": "rp-app"}, "/replicationRecoveryPlans/rp-app/unplannedFailover", throttle,
                                "failover", dict(FAST, recovery_plan="rp-app", timeout=3600))
    assert rc == 0, result.get("msg")
    assert control(lab, "GET", "/faults")["value"] == []  # all 50 throttled answers were met
    seen = lab_requests(lab)
    assert sum(n for key, n in seen.items() if key.startswith("GET ") and "/replicationJobs/" in key) >= 26
    assert sum(n for key, n in seen.items() if key.startswith("GET ") and "/replicationProtectedItems" in key) >= 26
    state = lab_state(lab)
    assert {name: state["items"][name]["stage"] for name, _mt in PLAN_ITEMS} == dict.fromkeys(
        [name for name, _mt in PLAN_ITEMS], "failed_back")
    assert sum(n for key, n in seen.items() if key.endswith("/unplannedFailover")) == 1


@pytest.mark.parametrize("module,args", [("replicated_item_info", {"vms": ["app01"], "timeout": 120}),
                                         ("fabric_info", {"timeout": 120})])
def test_a_retry_after_beyond_the_deadline_fails_naming_the_option(full_lab, module, args):
    lab = full_lab("default.yml")
    control(lab, "POST", "/faults", {"method": "GET", "path_regex": "/replication", "kind": "throttle", "retry_after": 372})
    control(lab, "DELETE", "/stats")
    rc, result = run_module(module, args, env=lab.env())
    assert rc != 0, result
    assert "retry after 372 s (Retry-After)" in result["msg"], result["msg"]
    assert "Set timeout to at least" in result["msg"], result["msg"]
    assert sum(n for key, n in lab_requests(lab).items() if key.startswith("GET ") and "/replication" in key) == 1
