# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Configuration is checked before any request (credentials.validate, called by AzureSession)."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams, validate
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession

SUB = "00000000-0000-4000-8000-000000000003"
TENANT = "72f988bf-0000-4000-8000-000000000001"
CLIENT = "5a1f0000-0000-4000-8000-000000000002"


def good(**kwargs):
    values = {"subscription_id": SUB, "tenant": TENANT, "client_id": CLIENT, "secret": "s"}
    values.update(kwargs)
    return AzureParams(**values)


def test_good_values_pass():
    validate(good())
    validate(good(tenant="contoso.onmicrosoft.com"))
    endpoints = validate(good(cloud_environment="azureusgovernment"))
    assert (endpoints.cloud, endpoints.arm_endpoint) == ("AzureUSGovernment", "https://management.usgovcloudapi.net")


@pytest.mark.parametrize("field,value,option,words", [
    ("subscription_id", "Production", "subscription_id", "is not a subscription id"),
    ("subscription_id", None, "subscription_id", "AZURE_SUBSCRIPTION_ID"),
    ("tenant", "not a tenant!", "tenant", "neither a tenant id (GUID) nor a domain name"),
    ("client_id", "my-app", "client_id", "not an application (client) id"),
    ("cloud_environment", "AzureMoon", "cloud_environment", "Unknown cloud_environment 'AzureMoon'"),
    ("arm_endpoint", "http://127.0.0.1:8080", "arm_endpoint", "must use https"),
    ("ca_bundle", "/nonexistent/ca.pem", "ca_bundle", "does not exist"),
    ("ad_user", "operator", "ad_user", "is not a user principal name"),
    ("ad_user", "CONTOSO\\operator", "ad_user", "AZURE_AD_USER"),
])
def test_each_bad_value_is_named_with_its_option(field, value, option, words):
    with pytest.raises(AzureError) as info:
        validate(good(**{field: value}))
    assert words in info.value.msg
    assert info.value.details["option"] == option


def test_a_user_principal_name_passes():
    validate(AzureParams(subscription_id=SUB, ad_user="operator@contoso.onmicrosoft.com", ad_password="pw"))


def test_every_problem_is_named_at_once():
    with pytest.raises(AzureError) as info:
        validate(good(subscription_id="prod", client_id="app", cloud_environment="AzureMoon"))
    assert info.value.msg.startswith("Invalid Azure configuration, nothing was sent:")
    assert [p["option"] for p in info.value.details["problems"]] == ["subscription_id", "client_id", "cloud_environment"]


def test_the_session_refuses_before_building_anything(monkeypatch):
    built = []
    monkeypatch.setattr("ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials."
                        "build_credential", lambda *a, **k: built.append(a))
    with pytest.raises(AzureError, match="AzureMoon"):
        AzureSession(good(cloud_environment="AzureMoon", arm_endpoint="https://127.0.0.1:9443",
                          authority_host="https://127.0.0.1:9443"))
    assert built == []
