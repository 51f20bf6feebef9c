# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The credential chain, with the option names azure.azcollection users already know."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import cloud
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import MissingLibraryError

AUTH_SOURCES = ("auto", "env", "cli", "msi")

# The public client a user name and password sign in through when no client_id is given: the Azure CLI's, which AWX's
# Azure inventory source and azure.azcollection use for AZURE_AD_USER / AZURE_PASSWORD (a public client, no secret)
PUBLIC_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
# The authority tenant of a user name and password without a tenant: AAD finds the user's home tenant
USER_TENANT = "organizations"


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
    ad_user: str = None
    ad_password: str = None

    def __repr__(self):  # secrets never reach a traceback or a log
        return ("AzureParams(auth_source=%r, subscription_id=%r, tenant=%r, client_id=%r, ad_user=%r, "
                "cloud_environment=%r)" % (self.auth_source, self.subscription_id, self.tenant, self.client_id,
                                           self.ad_user, self.cloud_environment))


def _identity():
    try:
        from azure import identity
    except ImportError as exc:
        raise MissingLibraryError("azure-identity", exc) from exc
    return identity


def choose_source(params, which=shutil.which):
    """Decide which credential params describe; returns one of 'secret', 'certificate', 'password', 'cli', 'msi'.

    'password' is a user name and password (``ad_user`` / ``ad_password``, AZURE_AD_USER / AZURE_PASSWORD: the second
    form of AWX's Microsoft Azure Resource Manager credential); a complete service principal wins over it, as in
    azure.azcollection. One of the two alone is refused naming the other."""
    source = params.auth_source or "auto"
    if source not in AUTH_SOURCES:
        raise AzureError("auth_source %r is not one of %s." % (source, ", ".join(AUTH_SOURCES)), option="auth_source")
    if source in ("cli", "msi"):
        return source
    if params.tenant and params.client_id and params.secret:
        return "secret"
    if params.tenant and params.client_id and params.x509_certificate_path:
        return "certificate"
    if params.ad_user or params.ad_password:
        if not (params.ad_user and params.ad_password):
            missing, variable, given = (("ad_password", "AZURE_PASSWORD", "ad_user") if params.ad_user
                                        else ("ad_user", "AZURE_AD_USER", "ad_password"))
            raise AzureError("Incomplete user credential: %s missing (option %s, or %s), or remove %s." % (
                missing, missing, variable, given), option=missing)
        return "password"
    # A client_id alone names a user-assigned managed identity; anything more is a half-given principal.
    if source == "env" or params.tenant or params.secret or params.x509_certificate_path:
        missing = [name for name, value in (("tenant", params.tenant), ("client_id", params.client_id)) if not value]
        if not (params.secret or params.x509_certificate_path):
            missing.append("secret or x509_certificate_path")
        raise AzureError(
            "Incomplete service principal: %s missing (options, or AZURE_TENANT / AZURE_CLIENT_ID / "
            "AZURE_SECRET / AZURE_X509_CERTIFICATE_PATH), or a user name and password (AZURE_AD_USER / "
            "AZURE_PASSWORD)." % ", ".join(missing), option="auth_source")
    if params.client_id:
        return "msi"
    return "cli" if which("az") else "msi"


def skip_user_realm_discovery(authority_host, msal_authority=None):
    """Before a password grant MSAL asks ``https://<host>/common/userrealm/<user>`` whether the account is federated,
    with the authority's host name but without its port (msal.authority.Authority.user_realm_discovery): a custom
    authority on another port than 443 (Azure Stack Hub behind a non-standard port, a test authority) would be asked
    on port 443 and the sign-in fail with "connection refused". For such an authority MSAL is told to skip the
    question (its own list of hosts without user realm discovery), so the account is signed in as a managed (cloud)
    account - the only kind the password grant serves there. Returns whether it was skipped."""
    from urllib.parse import urlparse
    parsed = urlparse(authority_host or "")
    if not parsed.hostname or parsed.port in (None, 443):
        return False
    try:
        if msal_authority is None:
            from msal import authority as msal_authority
        msal_authority.Authority._domains_without_user_realm_discovery.add(parsed.hostname)  # pylint: disable=protected-access
    except (ImportError, AttributeError):  # another MSAL: it then asks port 443, and says so if that fails
        return False
    return True


def build_credential(params, endpoints, identity=None, which=shutil.which):
    """Return (credential, source) for params against endpoints (see cloud.resolve)."""
    identity = identity or _identity()
    source = choose_source(params, which=which)
    # connection_timeout: an authority that does not answer fails in 30 s, not azure-core's default 300 s
    common = {"authority": endpoints.authority_host, "connection_timeout": 30}
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
    elif source == "password":
        # AAD's resource owner password grant through a public client; refused by AAD for accounts with MFA enforced
        if endpoints.custom:
            skip_user_realm_discovery(endpoints.authority_host)
        credential = identity.UsernamePasswordCredential(params.client_id or PUBLIC_CLIENT_ID, params.ad_user,
                                                         params.ad_password, tenant_id=params.tenant or USER_TENANT,
                                                         **common)
    elif source == "cli":
        credential = identity.AzureCliCredential(tenant_id=params.tenant)
    else:
        kwargs = {"client_id": params.client_id} if params.client_id else {}
        if params.ca_bundle:
            kwargs["connection_verify"] = params.ca_bundle
        credential = identity.ManagedIdentityCredential(**kwargs)
    return credential, source


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_UPN = re.compile(r"^[^@\s\\]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def validate(params, exists=os.path.exists):
    """Refuse, before any request, configuration Azure would refuse later or silently read another way.

    Checked: ``ad_user`` a user principal name (``user@domain``);
    ``subscription_id`` given and a GUID (ARM subscription ids are GUIDs); ``tenant`` a GUID or a verified
    domain name (AAD accepts both in the authority URL); ``client_id`` a GUID (an application / managed identity
    client id); ``cloud_environment`` a known cloud and ``arm_endpoint`` / ``authority_host`` https URLs of a host
    (cloud.resolve); ``ca_bundle`` an existing file. Returns the endpoints (cloud.Endpoints); raises one AzureError
    naming every problem, its option, its environment variable and the fix (``details["problems"]``)."""
    problems, endpoints = [], None
    if not params.subscription_id:
        problems.append(("subscription_id", "subscription_id is required: set the option, module_defaults for "
                         "group/siterecovery.failback.azure, or AZURE_SUBSCRIPTION_ID."))
    elif not _GUID.match(params.subscription_id.strip()):
        problems.append(("subscription_id", "subscription_id %r is not a subscription id (a GUID such as "
                         "00000000-0000-0000-0000-000000000000; AZURE_SUBSCRIPTION_ID): copy it from the portal or "
                         "'az account show --query id' - the subscription's name is not accepted." % params.subscription_id))
    if params.tenant and not (_GUID.match(params.tenant.strip()) or _DOMAIN.match(params.tenant.strip())):
        problems.append(("tenant", "tenant %r is neither a tenant id (GUID) nor a domain name such as "
                         "contoso.onmicrosoft.com (AZURE_TENANT)." % params.tenant))
    if params.ad_user and not _UPN.match(params.ad_user.strip()):
        problems.append(("ad_user", "ad_user %r is not a user principal name such as operator@contoso.com (AZURE_AD_USER): "
                         "Entra ID signs users in by UPN; a DOMAIN\\user or bare user name is refused." % params.ad_user))
    if params.client_id and not _GUID.match(params.client_id.strip()):
        problems.append(("client_id", "client_id %r is not an application (client) id, a GUID (AZURE_CLIENT_ID): use the "
                         "app registration's or managed identity's client id, not its name." % params.client_id))
    try:
        endpoints = cloud.resolve(params.cloud_environment, params.arm_endpoint, params.authority_host)
    except AzureError as error:
        problems.append((error.details.get("option"), error.msg))
    if params.ca_bundle and not exists(params.ca_bundle):
        problems.append(("ca_bundle", "ca_bundle %r does not exist (AZURE_CA_BUNDLE): give the path of a PEM file of "
                         "the CA certificates to trust." % params.ca_bundle))
    if problems:
        if len(problems) == 1:
            msg = problems[0][1]
        else:
            msg = "Invalid Azure configuration, nothing was sent: %s" % " ".join(text for _option, text in problems)
        raise AzureError(msg, option=problems[0][0], problems=[{"option": o, "problem": t} for o, t in problems])
    return endpoints
