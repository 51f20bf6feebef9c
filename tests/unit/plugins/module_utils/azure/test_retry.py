# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import email.utils
import ssl

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline import Pipeline
from azure.core.rest import HttpRequest

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import jobs
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.retry import (
    CallCounter,
    ThrottleRetryPolicy,
    retry_after_seconds,
)
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import (
    ScriptedTransport,
    StaticCredential,
)


@pytest.mark.parametrize("headers,expected", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"x-ms-retry-after-ms": "250", "Retry-After": "9"}, 0.25),
    ({}, None),
    ({"Retry-After": "soon"}, None),
])
def test_retry_after_forms(headers, expected):
    assert retry_after_seconds(headers) == expected


def test_retry_after_http_date():
    now = 1_800_000_000
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds({"Retry-After": header}, now=now) == pytest.approx(30)


def pipeline(answers, **policy_kwargs):
    clock = FakeClock()
    stats = {}
    transport = ScriptedTransport(answers)
    policy = ThrottleRetryPolicy(stats=stats, sleeper=clock.sleep, **policy_kwargs)
    return Pipeline(transport, policies=[CallCounter(stats), policy]), transport, clock, stats


def send(pipe, method="GET"):
    return pipe.run(HttpRequest(method, "https://arm.example/x")).http_response


def test_429_waits_exactly_what_retry_after_says():
    pipe, transport, clock, stats = pipeline([(429, {"Retry-After": "7"}, None), (429, {"Retry-After": "3"}, None),
                                              (200, {}, {})])
    assert send(pipe).status_code == 200
    assert clock.sleeps == [7.0, 3.0]
    assert stats["throttled"] == 2
    assert len(transport.requests) == 3


def test_5xx_without_retry_after_backs_off_exponentially_then_gives_up():
    pipe, transport, clock, stats = pipeline([(503, {}, None)] * 4, max_retries=3, backoff=1.0)
    assert send(pipe, "POST").status_code == 503
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert stats["server_errors"] == 3
    assert len(transport.requests) == 4


def test_client_errors_are_not_retried():
    pipe, clock = pipeline([(404, {}, None)])[0::2]
    assert send(pipe).status_code == 404
    assert clock.sleeps == []


def test_a_retry_after_beyond_the_deadline_fails_at_once_naming_the_option():
    clock = FakeClock()
    deadline = Deadline(300, clock=clock, sleeper=clock.sleep)
    clock.now += 200  # 100 s left
    pipe, transport, policy_clock = pipeline([(429, {"Retry-After": "372"}, None)], deadline=deadline)[0:3]
    with pytest.raises(AzureError) as info:
        send(pipe)
    assert policy_clock.sleeps == []
    assert len(transport.requests) == 1
    msg = info.value.msg
    assert "retry after 372 s (Retry-After)" in msg
    assert "more than the 100 s left of this task's deadline (timeout: 300 s)" in msg
    assert "Set timeout to at least 632" in msg  # 200 s elapsed + 372 s asked + 60 s margin
    assert "GET /x" in msg
    assert info.value.details["option"] == "timeout"
    assert not jobs.transient(info.value)  # a wait does not poll on: it could never wait that long


def test_an_own_backoff_beyond_the_deadline_returns_the_last_answer():
    clock = FakeClock()
    deadline = Deadline(1, clock=clock, sleeper=clock.sleep)
    pipe, _transport, policy_clock = pipeline([(503, {}, None)], deadline=deadline, backoff=5.0)[0:3]
    assert send(pipe).status_code == 503
    assert policy_clock.sleeps == []


def test_throttling_is_ridden_out_until_the_deadline_whatever_max_retries():
    clock = FakeClock()
    deadline = Deadline(3600, clock=clock, sleeper=clock.sleep)
    answers = [(429, {"Retry-After": "5"}, None)] * 25 + [(200, {}, {})]
    pipe, transport, policy_clock, stats = pipeline(answers, deadline=deadline, max_retries=10)
    assert send(pipe).status_code == 200
    assert len(transport.requests) == 26
    assert stats["throttled"] == 25
    assert policy_clock.sleeps == [5.0] * 25


def test_without_a_deadline_throttling_stops_after_max_retries():
    pipe, transport = pipeline([(429, {"Retry-After": "1"}, None)] * 4, max_retries=3)[0:2]
    assert send(pipe).status_code == 429
    assert len(transport.requests) == 4


def test_connection_errors_before_sending_are_retried_for_any_method():
    pipe, _transport, _clock, stats = pipeline([ServiceRequestError("refused"), (202, {}, None)])
    assert send(pipe, "POST").status_code == 202
    assert stats["connection_retries"] == 1


def refused():
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as cause:
        try:
            raise ServiceRequestError("<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new "
                                      "connection: [Errno 111] Connection refused", error=cause) from cause
        except ServiceRequestError as exc:
            return exc


def test_a_closed_endpoint_fails_after_three_attempts_naming_it():
    # ten retries with exponential backoff took 252 s on a closed ARM endpoint (issue 15)
    pipe, transport, clock, _stats = pipeline([refused() for _attempt in range(11)])
    with pytest.raises(AzureError) as info:
        send(pipe)
    assert len(transport.requests) == 3
    assert clock.sleeps == [1.0, 2.0]
    msg = info.value.msg
    assert "https://arm.example" in msg
    assert "connection refused" in msg
    assert "after 3 attempt(s) of GET /x" in msg
    assert "arm_endpoint" in msg
    assert info.value.details["attempts"] == 3
    assert jobs.transient(info.value)  # a job wait polls on (until its deadline) after a network blip


def test_a_tls_verification_failure_is_not_retried_and_names_ca_bundle():
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                                            "self-signed certificate in certificate chain (_ssl.c:1000)")
    cause.verify_message = "self-signed certificate in certificate chain"
    failure = None
    try:
        raise ServiceRequestError("SSLError", error=cause) from cause
    except ServiceRequestError as exc:
        failure = exc
    pipe, transport = pipeline([failure, (200, {}, {})])[0:2]
    with pytest.raises(AzureError) as info:
        send(pipe)
    assert len(transport.requests) == 1
    msg = info.value.msg
    assert "TLS verification of https://arm.example failed (self-signed certificate in certificate chain)" in msg
    assert "ca_bundle" in msg and "AZURE_CA_BUNDLE" in msg
    assert info.value.details["option"] == "ca_bundle"
    assert not jobs.transient(info.value)


def test_a_reset_after_sending_is_retried_only_for_reads():
    pipe = pipeline([ServiceResponseError("reset"), (200, {}, {})])[0]
    assert send(pipe, "GET").status_code == 200
    pipe = pipeline([ServiceResponseError("reset"), (200, {}, {})])[0]
    with pytest.raises(ServiceResponseError):
        send(pipe, "POST")  # the POST may have started an ASR job: never send it twice


def test_the_real_sdk_client_uses_the_policy_on_a_429_storm(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr("time.sleep", clock.sleep)
    job = {"name": "job-1", "id": "/x/replicationJobs/job-1", "properties": {"state": "Succeeded"}}
    transport = ScriptedTransport([(429, {"Retry-After": "2"}, None)] * 3 + [(200, {}, job)])
    session = AzureSession(AzureParams(subscription_id="00000000-0000-4000-8000-0000000000a1", arm_endpoint="https://arm.lab",
                                       authority_host="https://login.lab"), credential=StaticCredential())
    session.client_kwargs_extra = {"transport": transport}
    client = session.site_recovery
    result = client.replication_jobs.get("rg", "vault", "job-1")
    assert result.properties.state == "Succeeded"
    assert session.stats["throttled"] == 3
    assert session.stats["calls"] == 4
    assert [s for s in clock.sleeps if s == 2] == [2, 2, 2]
    assert all(url.startswith("https://arm.lab/subscriptions/00000000-0000-4000-8000-0000000000a1/")
               for method, url in transport.requests if method)
