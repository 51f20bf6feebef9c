# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cloud endpoints: Azure public, sovereign clouds, or a custom ARM endpoint (Azure Stack Hub, the lab)."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from dataclasses import dataclass

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

# name -> (Resource Manager endpoint, AAD authority host)
CLOUDS = {
    "AzureCloud": ("https://management.azure.com", "https://login.microsoftonline.com"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}
ALIASES = {"azurepubliccloud": "AzureCloud", "azureusgovernmentcloud": "AzureUSGovernment"}
# name -> the storage endpoint suffix (``https://<account>.blob.<suffix>``), as azure-cli's cloud definitions and
# learn.microsoft.com's "Azure Government / Azure China developer guide" give them
STORAGE_SUFFIXES = {
    "AzureCloud": "core.windows.net",
    "AzureUSGovernment": "core.usgovcloudapi.net",
    "AzureChinaCloud": "core.chinacloudapi.cn",
}


@dataclass(frozen=True)
class Endpoints:
    cloud: str
    arm_endpoint: str
    authority_host: str
    custom: bool

    @property
    def credential_scope(self):
        return self.arm_endpoint + "/.default"


_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def _url(value, option):
    """``value`` as ``https://host[:port][/path]`` (no trailing slash); AzureError naming ``option`` otherwise."""
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    value = value[:value.index("://") + 3] + value[value.index("://") + 3:].rstrip("/")
    if not value.startswith("https://"):
        raise AzureError("%s %r must use https: Azure refuses bearer tokens over plain HTTP." % (option, value),
                         option=option)
    parts = urllib.parse.urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.hostname or ""
    if not host or port == -1 or parts.query or parts.fragment or " " in value or not (
            _HOST.match(host) or _is_ip(host)):
        raise AzureError("%s %r is not an https URL of a host (https://host[:port][/path], e.g. "
                         "https://management.local.azurestack.external)." % (option, value), option=option)
    return value


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def canonical_name(cloud_environment):
    """The known cloud's name for ``cloud_environment`` (any case, or an alias), or None."""
    name = cloud_environment or "AzureCloud"
    canonical = {key.lower(): key for key in CLOUDS}
    return ALIASES.get(name.lower(), canonical.get(name.lower()))


def resolve(cloud_environment="AzureCloud", arm_endpoint=None, authority_host=None):
    """Pick the endpoints; arm_endpoint and authority_host override the named cloud's.

    The name must be a known cloud (``CLOUDS``, any case, or an alias of ``ALIASES``) even when both endpoints are
    given: an unknown name is a typo or a cloud this collection does not know, never silently the public cloud.
    A custom cloud (Azure Stack Hub) keeps a known name and gives both endpoints."""
    name = canonical_name(cloud_environment)
    if name is None:
        raise AzureError(
            "Unknown cloud_environment %r: use one of %s (AZURE_CLOUD_ENVIRONMENT); for a custom cloud (Azure Stack "
            "Hub) keep AzureCloud and give both arm_endpoint and authority_host." % (
                cloud_environment, ", ".join(sorted(CLOUDS))), option="cloud_environment")
    default_arm, default_authority = CLOUDS[name]
    arm = _url(arm_endpoint or default_arm, "arm_endpoint")
    authority = _url(authority_host or default_authority, "authority_host")
    custom = (arm, authority) != (default_arm, default_authority)
    return Endpoints(cloud="custom" if custom else name, arm_endpoint=arm, authority_host=authority, custom=custom)


def blob_account_url(endpoints, account_name=None, account_url=None):
    """The Blob service URL of a storage account: ``account_url`` when given (``https://host[:port][/path]``, e.g.
    a private endpoint's or an emulator's path-style ``https://127.0.0.1:10000/account``), else
    ``https://<account_name>.blob.<suffix>`` with the storage suffix of ``endpoints.cloud`` (:data:`STORAGE_SUFFIXES`).
    A custom cloud (Azure Stack Hub: its own ARM endpoint) has no known suffix and needs ``account_url``.
    Raises AzureError naming the option."""
    if account_url:
        return _url(account_url, "state_account_url")
    if not account_name:
        raise AzureError("state_store is blob but neither state_storage_account nor state_account_url is set: name the "
                         "storage account that holds the run state.", option="state_storage_account")
    suffix = STORAGE_SUFFIXES.get(endpoints.cloud)
    if suffix is None:
        raise AzureError("The cloud of arm_endpoint %s is not a known Azure cloud, so the Blob endpoint of storage account "
                         "%s is unknown: give state_account_url (https://%s.blob.<your cloud's storage suffix>)." % (
                             endpoints.arm_endpoint, account_name, account_name), option="state_account_url")
    return "https://%s.blob.%s" % (account_name, suffix)
