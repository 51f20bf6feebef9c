# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options: env fallbacks, no_log, and docs that say what the spec does."""

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.siterecovery.failback.plugins.doc_fragments import azure as azure_doc
from ansible_collections.siterecovery.failback.plugins.doc_fragments import vault as vault_doc
from ansible_collections.siterecovery.failback.plugins.doc_fragments import vsphere as vsphere_doc
from ansible_collections.siterecovery.failback.plugins.module_utils import argspec

VSPHERE_ENV = {
    "VMWARE_HOST": ("hostname", "vc.lab", "vc.lab"),
    "VMWARE_USER": ("username", "bob", "bob"),
    "VMWARE_PASSWORD": ("password", "pw", "pw"),
    "VMWARE_PORT": ("port", "8443", 8443),
    "VMWARE_VALIDATE_CERTS": ("validate_certs", "false", False),
    "VMWARE_CA_FILE": ("ca_file", "/etc/ca.pem", "/etc/ca.pem"),
    "VMWARE_THUMBPRINT": ("thumbprint", "AA:BB", "AA:BB"),
    "VMWARE_CONNECTION_TIMEOUT": ("connection_timeout", "5", 5),
}
AZURE_ENV = {
    "ANSIBLE_AZURE_AUTH_SOURCE": ("auth_source", "env", "env"),
    "AZURE_SUBSCRIPTION_ID": ("subscription_id", "sub", "sub"),
    "AZURE_TENANT": ("tenant", "ten", "ten"),
    "AZURE_CLIENT_ID": ("client_id", "cid", "cid"),
    "AZURE_SECRET": ("secret", "sec", "sec"),
    "AZURE_X509_CERTIFICATE_PATH": ("x509_certificate_path", "/sp.pem", "/sp.pem"),
    "AZURE_X509_CERTIFICATE_PASSWORD": ("x509_certificate_password", "cpw", "cpw"),
    "AZURE_CLOUD_ENVIRONMENT": ("cloud_environment", "AzureUSGovernment", "AzureUSGovernment"),
    "AZURE_ARM_ENDPOINT": ("arm_endpoint", "https://arm", "https://arm"),
    "AZURE_AUTHORITY_HOST": ("authority_host", "https://login", "https://login"),
    "AZURE_CA_BUNDLE": ("ca_bundle", "/ca.pem", "/ca.pem"),
    "AZURE_SITE_RECOVERY_RESOURCE_GROUP": ("resource_group", "rg", "rg"),
    "AZURE_SITE_RECOVERY_VAULT": ("vault_name", "v", "v"),
}


def params_from_env(monkeypatch, spec, env):
    for name, triple in env.items():
        raw = triple[1]
        monkeypatch.setenv(name, raw)
    with patch_module_args({}):
        return AnsibleModule(argument_spec=spec).params


def test_every_vsphere_option_falls_back_to_its_variable(monkeypatch):
    params = params_from_env(monkeypatch, argspec.vsphere_argument_spec(), VSPHERE_ENV)
    for option, _raw, expected in VSPHERE_ENV.values():
        assert params[option] == expected, option


def test_every_azure_option_falls_back_to_its_variable(monkeypatch):
    spec = argspec.azure_argument_spec()
    spec.update(argspec.vault_argument_spec())
    params = params_from_env(monkeypatch, spec, AZURE_ENV)
    for option, _raw, expected in AZURE_ENV.values():
        assert params[option] == expected, option


@pytest.mark.parametrize("spec_fn", [argspec.vsphere_argument_spec, argspec.azure_argument_spec,
                                     argspec.vault_argument_spec])
def test_every_option_has_an_env_fallback(spec_fn):
    assert all("fallback" in option for option in spec_fn().values())


def test_secrets_are_no_log_and_nothing_else_is():
    specs = {**argspec.vsphere_argument_spec(), **argspec.azure_argument_spec()}
    assert sorted(name for name, option in specs.items() if option.get("no_log")) == [
        "ad_password", "password", "secret", "x509_certificate_password"]


def test_tls_verification_is_on_by_default(monkeypatch):
    monkeypatch.delenv("VMWARE_VALIDATE_CERTS", raising=False)
    with patch_module_args({}):
        assert AnsibleModule(argument_spec=argspec.vsphere_argument_spec()).params["validate_certs"] is True


@pytest.mark.parametrize("spec_fn,fragment", [
    (argspec.vsphere_argument_spec, vsphere_doc),
    (argspec.azure_argument_spec, azure_doc),
    (argspec.vault_argument_spec, vault_doc),
])
def test_doc_fragment_documents_the_spec_truthfully(spec_fn, fragment):
    docs = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    spec = spec_fn()
    assert sorted(docs) == sorted(spec)
    for name, option in spec.items():
        doc = docs[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name
        assert sorted(doc.get("aliases", [])) == sorted(option.get("aliases", [])), name
        assert bool(doc.get("required")) == bool(option.get("required")), name
        for variable in option["fallback"][1]:
            assert "E(%s)" % variable in " ".join(doc["description"]), (name, variable)
