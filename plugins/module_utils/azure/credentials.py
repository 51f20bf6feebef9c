# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The credential chain, with the option names azure.azcollection users already know."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import MissingLibraryError

AUTH_SOURCES = ("auto", "env", "cli", "msi")


@dataclass
class AzureParams:
    auth_source: str = "auto"
    subscription_id: str = None
    tenant: str = None
    client_id: str = None
    secret: str = None
    x509_certificate_path: str = None
    x509_certificate_password: str = None
    cloud_environment: str = "AzureCloud"
    arm_endpoint: str = None
    authority_host: str = None
    ca_bundle: str = None

    def __repr__(self):  # secrets never reach a traceback or a log
        return "AzureParams(auth_source=%r, subscription_id=%r, tenant=%r, client_id=%r, cloud_environment=%r)" % (
            self.auth_source, self.subscription_id, self.tenant, self.client_id, self.cloud_environment)


def _identity():
    try:
        from azure import identity
    except ImportError as exc:
        raise MissingLibraryError("azure-identity", exc) from exc
    return identity


def choose_source(params, which=shutil.which):
    """Decide which credential params describe; returns one of 'secret', 'certificate', 'cli', 'msi'."""
    source = params.auth_source or "auto"
    if source not in AUTH_SOURCES:
        raise AzureError("auth_source %r is not one of %s." % (source, ", ".join(AUTH_SOURCES)), option="auth_source")
    if source in ("cli", "msi"):
        return source
    if params.tenant and params.client_id and params.secret:
        return "secret"
    if params.tenant and params.client_id and params.x509_certificate_path:
        return "certificate"
    # A client_id alone names a user-assigned managed identity; anything more is a half-given principal.
    if source == "env" or params.tenant or params.secret or params.x509_certificate_path:
        missing = [name for name, value in (("tenant", params.tenant), ("client_id", params.client_id)) if not value]
        if not (params.secret or params.x509_certificate_path):
            missing.append("secret or x509_certificate_path")
        raise AzureError(
            "Incomplete service principal: %s missing (options, or AZURE_TENANT / AZURE_CLIENT_ID / "
            "AZURE_SECRET / AZURE_X509_CERTIFICATE_PATH)." % ", ".join(missing), option="auth_source")
    if params.client_id:
        return "msi"
    return "cli" if which("az") else "msi"


def build_credential(params, endpoints, identity=None, which=shutil.which):
    """Return (credential, source) for params against endpoints (see cloud.resolve)."""
    identity = identity or _identity()
    source = choose_source(params, which=which)
    common = {"authority": endpoints.authority_host}
    if params.ca_bundle:
        common["connection_verify"] = params.ca_bundle
    if endpoints.custom:
        # A custom authority (Azure Stack Hub ADFS/AAD, the lab) is not in Microsoft's instance list.
        common["disable_instance_discovery"] = True
    if source == "secret":
        credential = identity.ClientSecretCredential(params.tenant, params.client_id, params.secret, **common)
    elif source == "certificate":
        credential = identity.CertificateCredential(params.tenant, params.client_id,
                                                    certificate_path=params.x509_certificate_path,
                                                    password=params.x509_certificate_password, **common)
    elif source == "cli":
        credential = identity.AzureCliCredential(tenant_id=params.tenant)
    else:
        kwargs = {"client_id": params.client_id} if params.client_id else {}
        if params.ca_bundle:
            kwargs["connection_verify"] = params.ca_bundle
        credential = identity.ManagedIdentityCredential(**kwargs)
    return credential, source
