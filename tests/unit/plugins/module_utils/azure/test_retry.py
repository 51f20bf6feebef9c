# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import email.utils

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline import Pipeline
from azure.core.rest import HttpRequest

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
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


def test_a_wait_longer_than_the_deadline_is_not_started():
    clock = FakeClock()
    deadline = Deadline(10, clock=clock, sleeper=clock.sleep)
    pipe, policy_clock = pipeline([(429, {"Retry-After": "60"}, None)], deadline=deadline)[0::2]
    assert send(pipe).status_code == 429
    assert policy_clock.sleeps == []


def test_connection_errors_before_sending_are_retried_for_any_method():
    pipe, _transport, _clock, stats = pipeline([ServiceRequestError("refused"), (202, {}, None)])
    assert send(pipe, "POST").status_code == 202
    assert stats["connection_retries"] == 1


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
    session = AzureSession(AzureParams(subscription_id="sub", arm_endpoint="https://arm.lab",
                                       authority_host="https://login.lab"), credential=StaticCredential())
    session.client_kwargs_extra = {"transport": transport}
    client = session.site_recovery
    result = client.replication_jobs.get("rg", "vault", "job-1")
    assert result.properties.state == "Succeeded"
    assert session.stats["throttled"] == 3
    assert session.stats["calls"] == 4
    assert [s for s in clock.sleeps if s == 2] == [2, 2, 2]
    assert all(url.startswith("https://arm.lab/subscriptions/sub/") for method, url in transport.requests if method)
