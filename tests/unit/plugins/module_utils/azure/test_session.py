# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.retry import ThrottleRetryPolicy
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import StaticCredential


def lab_params(**kwargs):
    return AzureParams(subscription_id="00000000-0000-4000-8000-0000000000a1", arm_endpoint="https://127.0.0.1:9443",
                       authority_host="https://127.0.0.1:9443", **kwargs)


def test_subscription_is_required_and_the_message_names_the_variable():
    with pytest.raises(AzureError, match="AZURE_SUBSCRIPTION_ID"):
        AzureSession(AzureParams())


def test_clients_are_built_lazily_once_with_the_session_endpoints(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    session = AzureSession(lab_params(ca_bundle=str(ca)), credential=StaticCredential())
    assert session._clients == {}
    client = session.site_recovery
    assert session.site_recovery is client
    assert set(session._clients) == {"site_recovery"}
    assert client._config.credential_scopes == ["https://127.0.0.1:9443/.default"]
    assert client._config.base_url == "https://127.0.0.1:9443"
    assert isinstance(client._config.retry_policy, ThrottleRetryPolicy)
    transport = client._client._pipeline._transport
    assert transport.connection_config.verify == str(ca)
    compute = session.compute
    assert compute._config.base_url == "https://127.0.0.1:9443"
    assert set(session._clients) == {"site_recovery", "compute"}


def test_credential_is_built_from_params_on_first_use(monkeypatch):
    built = []

    def fake_build(params, endpoints):
        built.append(endpoints.authority_host)
        return StaticCredential(), "secret"

    monkeypatch.setattr(
        "ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials.build_credential", fake_build)
    session = AzureSession(lab_params(tenant="72f988bf-0000-4000-8000-000000000001",
                                      client_id="5a1f0000-0000-4000-8000-000000000002", secret="s"))
    assert built == []
    assert session.get_token() == 4102444800
    assert session.auth_source == "secret"
    assert built == ["https://127.0.0.1:9443"]


def test_token_failure_is_readable():
    class Refusing:
        def get_token(self, *scopes, **kwargs):
            from azure.core.exceptions import ClientAuthenticationError
            raise ClientAuthenticationError("AADSTS7000215: Invalid client secret provided.")

    session = AzureSession(lab_params(), credential=Refusing())
    with pytest.raises(AzureError) as info:
        session.get_token()
    assert "AADSTS7000215" in info.value.msg
    assert "AZURE_SECRET" in info.value.msg


def test_a_client_built_outside_the_session_closes_with_it():
    closed = []

    class Client:
        def __init__(self, name):
            self.name = name

        def close(self):
            closed.append(self.name)
    session = AzureSession(lab_params(), credential=StaticCredential())
    session.closes(Client("blob"))
    session.closes(Client("other blob"))
    session.close()
    assert closed == ["blob", "other blob"]
    session.close()  # once
    assert closed == ["blob", "other blob"]
