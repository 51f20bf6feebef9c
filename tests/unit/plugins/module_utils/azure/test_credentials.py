# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import cloud, credentials
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

NO_AZ = {"which": lambda name: None}
WITH_AZ = {"which": lambda name: "/usr/bin/az"}


def p(**kwargs):
    return credentials.AzureParams(subscription_id="sub", **kwargs)


@pytest.mark.parametrize("kwargs,which,expected", [
    ({"tenant": "t", "client_id": "c", "secret": "s"}, NO_AZ, "secret"),
    ({"tenant": "t", "client_id": "c", "x509_certificate_path": "/k.pem"}, NO_AZ, "certificate"),
    ({"client_id": "c"}, WITH_AZ, "msi"),
    ({}, WITH_AZ, "cli"),
    ({}, NO_AZ, "msi"),
    ({"auth_source": "cli", "tenant": "t", "client_id": "c", "secret": "s"}, NO_AZ, "cli"),
    ({"auth_source": "msi"}, WITH_AZ, "msi"),
    ({"auth_source": "env", "tenant": "t", "client_id": "c", "secret": "s"}, NO_AZ, "secret"),
    # AWX's Azure credential, user name form: AZURE_SUBSCRIPTION_ID, AZURE_AD_USER, AZURE_PASSWORD only
    ({"ad_user": "u@contoso.com", "ad_password": "pw"}, WITH_AZ, "password"),
    ({"auth_source": "env", "ad_user": "u@contoso.com", "ad_password": "pw"}, NO_AZ, "password"),
    ({"tenant": "t", "ad_user": "u@contoso.com", "ad_password": "pw"}, NO_AZ, "password"),
    ({"client_id": "c", "ad_user": "u@contoso.com", "ad_password": "pw"}, NO_AZ, "password"),
    # a complete service principal wins (as in azure.azcollection)
    ({"tenant": "t", "client_id": "c", "secret": "s", "ad_user": "u@contoso.com", "ad_password": "pw"}, NO_AZ, "secret"),
])
def test_choose_source(kwargs, which, expected):
    assert credentials.choose_source(p(**kwargs), **which) == expected


@pytest.mark.parametrize("kwargs,missing", [
    ({"tenant": "t", "secret": "s"}, "client_id missing"),
    ({"client_id": "c", "secret": "s"}, "tenant missing"),
    ({"tenant": "t", "client_id": "c", "auth_source": "env"}, "secret or x509_certificate_path missing"),
    ({"auth_source": "env"}, "tenant, client_id, secret or x509_certificate_path missing"),
])
def test_half_given_service_principal_is_refused(kwargs, missing):
    with pytest.raises(AzureError, match=missing):
        credentials.choose_source(p(**kwargs), **WITH_AZ)


@pytest.mark.parametrize("kwargs,words", [
    ({"ad_user": "u@contoso.com"}, ["ad_password missing", "AZURE_PASSWORD"]),
    ({"ad_password": "pw"}, ["ad_user missing", "AZURE_AD_USER"]),
    ({"ad_password": "pw", "auth_source": "env"}, ["ad_user missing"]),
])
def test_half_given_user_credential_is_refused(kwargs, words):
    with pytest.raises(AzureError) as caught:
        credentials.choose_source(p(**kwargs), **WITH_AZ)
    for word in words:
        assert word in caught.value.msg
    assert "pw" not in caught.value.msg.replace("password", "")


def test_user_credential_signs_in_through_the_public_client():
    identity = FakeIdentity()
    endpoints = cloud.resolve(arm_endpoint="https://127.0.0.1:9443", authority_host="https://127.0.0.1:9443")
    credential, source = credentials.build_credential(p(ad_user="u@contoso.com", ad_password="pw", ca_bundle="/ca.pem"),
                                                      endpoints, identity=identity, **NO_AZ)
    assert (credential, source) == ("UsernamePasswordCredential", "password")
    _name, args, kwargs = identity.built[0]
    # the Azure CLI's public client id, the one AWX and azure.azcollection sign users in through
    assert args == ("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "u@contoso.com", "pw")
    assert kwargs == {"tenant_id": "organizations", "authority": "https://127.0.0.1:9443", "connection_verify": "/ca.pem",
                      "disable_instance_discovery": True, "connection_timeout": 30}


def test_user_credential_takes_a_given_client_and_tenant():
    identity = FakeIdentity()
    credentials.build_credential(p(ad_user="u@contoso.com", ad_password="pw", client_id="c", tenant="t"),
                                 cloud.resolve(), identity=identity, **NO_AZ)
    _name, args, kwargs = identity.built[0]
    assert args == ("c", "u@contoso.com", "pw") and kwargs["tenant_id"] == "t"


def test_unknown_auth_source_is_refused():
    with pytest.raises(AzureError, match="auth_source 'kerberos'"):
        credentials.choose_source(p(auth_source="kerberos"))


class FakeIdentity:
    """Records which azure.identity class was built with which arguments."""

    def __init__(self):
        self.built = []
        for name in ("ClientSecretCredential", "CertificateCredential", "AzureCliCredential",
                     "ManagedIdentityCredential", "UsernamePasswordCredential"):
            setattr(self, name, self._factory(name))

    def _factory(self, name):
        def build(*args, **kwargs):
            self.built.append((name, args, kwargs))
            return name
        return build


def test_secret_credential_uses_the_custom_authority_and_ca_bundle():
    identity = FakeIdentity()
    endpoints = cloud.resolve(arm_endpoint="https://127.0.0.1:9443", authority_host="https://127.0.0.1:9443")
    credential, source = credentials.build_credential(
        p(tenant="t", client_id="c", secret="s", ca_bundle="/ca.pem"), endpoints, identity=identity, **NO_AZ)
    assert (credential, source) == ("ClientSecretCredential", "secret")
    _name, args, kwargs = identity.built[0]
    assert args == ("t", "c", "s")
    assert kwargs == {"authority": "https://127.0.0.1:9443", "connection_verify": "/ca.pem",
                      "disable_instance_discovery": True, "connection_timeout": 30}


def test_public_cloud_keeps_instance_discovery_on():
    identity = FakeIdentity()
    credentials.build_credential(p(tenant="t", client_id="c", secret="s"), cloud.resolve(), identity=identity, **NO_AZ)
    assert identity.built[0][2] == {"authority": "https://login.microsoftonline.com", "connection_timeout": 30}


def test_certificate_credential_gets_path_and_password():
    identity = FakeIdentity()
    credentials.build_credential(p(tenant="t", client_id="c", x509_certificate_path="/sp.pem",
                                   x509_certificate_password="pw"), cloud.resolve(), identity=identity, **NO_AZ)
    name, kwargs = identity.built[0][0], identity.built[0][2]
    assert name == "CertificateCredential"
    assert kwargs["certificate_path"] == "/sp.pem" and kwargs["password"] == "pw"


def test_user_assigned_managed_identity_gets_its_client_id():
    identity = FakeIdentity()
    credentials.build_credential(p(client_id="c"), cloud.resolve(), identity=identity, **WITH_AZ)
    assert identity.built[0] == ("ManagedIdentityCredential", (), {"client_id": "c"})


def test_params_repr_hides_secrets():
    text = repr(p(tenant="t", client_id="c", secret="hunter2", x509_certificate_password="pw2", ad_user="u@c.com",
                  ad_password="pw3"))
    assert "hunter2" not in text and "pw2" not in text and "pw3" not in text and "u@c.com" in text


def test_user_realm_discovery_is_skipped_only_for_an_authority_on_another_port():
    class Authority:
        _domains_without_user_realm_discovery = set()

    class Msal:
        pass

    Msal.Authority = Authority
    assert credentials.skip_user_realm_discovery("https://127.0.0.1:9443", Msal) is True
    assert Authority._domains_without_user_realm_discovery == {"127.0.0.1"}
    assert credentials.skip_user_realm_discovery("https://login.microsoftonline.com", Msal) is False
    assert credentials.skip_user_realm_discovery("https://adfs.contoso.com:443", Msal) is False
    assert credentials.skip_user_realm_discovery("https://x.example:8443", object()) is False  # no such MSAL internals
    assert Authority._domains_without_user_realm_discovery == {"127.0.0.1"}
