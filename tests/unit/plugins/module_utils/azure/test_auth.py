# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A token ARM rejects as expired is renewed once and the request sent again (azure/auth.py), through the real SDK."""

import pytest
from azure.core.credentials import AccessToken

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import credentials
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.auth import RenewableCredential
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.jobs import get as get_job
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import RecordingTransport

SUB = "00000000-0000-4000-8000-000000000003"
EXPIRED = (401, {"WWW-Authenticate": 'Bearer authorization_uri="https://login.lab/t", error="invalid_token"'},
           {"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry UTC time "
                      "'5/13/2024 6:05:58 PM' is earlier than current UTC time '5/13/2024 8:21:34 PM'."}})
JOB = (200, {}, {"name": "job-1", "id": "/x/replicationJobs/job-1", "properties": {"state": "InProgress"}})


class CachingCredential:
    """Like azure-identity's: hands out its cached token until it expires (by its own clock)."""

    built = 0

    def __init__(self):
        CachingCredential.built += 1
        self.token = "token-%d" % CachingCredential.built

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, 4102444800)


@pytest.fixture
def session(monkeypatch):
    CachingCredential.built = 0
    monkeypatch.setattr(credentials, "build_credential", lambda params, endpoints: (CachingCredential(), "secret"))
    return AzureSession(AzureParams(subscription_id=SUB, tenant="72f988bf-0000-4000-8000-000000000001",
                                    client_id="5a1f0000-0000-4000-8000-000000000002", secret="s"))


class TokenTransport(RecordingTransport):
    """Keeps the Authorization header each attempt carried (a resent request is the same object, re-authorized)."""

    def send(self, request, **kwargs):
        self.tokens = [*getattr(self, "tokens", []), request.headers.get("Authorization")]
        return super().send(request, **kwargs)


def run(session, answers):
    transport = TokenTransport(answers)
    session.client_kwargs_extra = {"transport": transport}
    return transport


def test_an_expired_token_is_renewed_once_and_the_read_goes_on(session):
    transport = run(session, [JOB, EXPIRED, JOB])
    assert get_job(session.site_recovery, "rg", "vault", "job-1")["state"] == "InProgress"
    assert get_job(session.site_recovery, "rg", "vault", "job-1")["state"] == "InProgress"
    assert transport.tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert session.stats["token_renewals"] == 1
    assert session.credential.renewals == 1


def test_a_token_still_expired_after_renewal_fails_pointing_at_the_clock(session):
    transport = run(session, [EXPIRED, EXPIRED, JOB])
    with pytest.raises(AzureError) as info:
        get_job(session.site_recovery, "rg", "vault", "job-1")
    assert len(transport.sent) == 2  # renewed once, not in a loop
    assert "ExpiredAuthenticationToken" in info.value.msg or "expired" in info.value.msg
    assert "clock" in info.value.msg
    assert info.value.details["status"] == 401


def test_an_invalid_token_is_renewed_once_and_the_wait_goes_on(session):
    invalid = (401, EXPIRED[1], {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}})
    transport = run(session, [invalid, JOB])
    assert get_job(session.site_recovery, "rg", "vault", "job-1") is not None
    assert len(transport.sent) == 2 and session.stats["token_renewals"] == 1


def test_an_invalid_token_after_its_renewal_fails_naming_the_credential(session):
    invalid = (401, EXPIRED[1], {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}})
    transport = run(session, [invalid, invalid, JOB])
    with pytest.raises(AzureError) as info:
        get_job(session.site_recovery, "rg", "vault", "job-1")
    assert len(transport.sent) == 2  # renewed once, not in a loop
    assert "Check tenant, client_id and secret" in info.value.msg


def test_another_401_is_not_renewed(session):
    failed = (401, EXPIRED[1], {"error": {"code": "AuthenticationFailed", "message": "Authentication failed."}})
    transport = run(session, [failed, JOB])
    with pytest.raises(AzureError) as info:
        get_job(session.site_recovery, "rg", "vault", "job-1")
    assert len(transport.sent) == 1
    assert "Check tenant, client_id and secret" in info.value.msg
    assert "token_renewals" not in session.stats


def test_renew_builds_a_new_credential_and_closes_the_old():
    closed = []

    class Closing(CachingCredential):
        def close(self):
            closed.append(self.token)

    CachingCredential.built = 0
    credential = RenewableCredential(Closing)
    assert credential.get_token("s").token == "token-1"
    credential.renew()
    assert credential.get_token("s").token == "token-2"
    assert closed == ["token-1"]
