# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cloud endpoints: Azure public, sovereign clouds, or a custom ARM endpoint (Azure Stack Hub, the lab)."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

# name -> (Resource Manager endpoint, AAD authority host)
CLOUDS = {
    "AzureCloud": ("https://management.azure.com", "https://login.microsoftonline.com"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}
ALIASES = {"azurepubliccloud": "AzureCloud", "azureusgovernmentcloud": "AzureUSGovernment"}


@dataclass(frozen=True)
class Endpoints:
    cloud: str
    arm_endpoint: str
    authority_host: str
    custom: bool

    @property
    def credential_scope(self):
        return self.arm_endpoint + "/.default"


def _url(value):
    value = value.strip().rstrip("/")
    if "://" not in value:
        value = "https://" + value
    if not value.startswith("https://"):
        raise AzureError("Endpoint %r must use https: Azure refuses bearer tokens over plain HTTP." % value)
    return value


def resolve(cloud_environment="AzureCloud", arm_endpoint=None, authority_host=None):
    """Pick the endpoints; arm_endpoint and authority_host override the named cloud's."""
    name = cloud_environment or "AzureCloud"
    canonical = {key.lower(): key for key in CLOUDS}
    name = ALIASES.get(name.lower(), canonical.get(name.lower(), name))
    if name not in CLOUDS and not (arm_endpoint and authority_host):
        raise AzureError(
            "Unknown cloud_environment %r: use one of %s, or give both arm_endpoint and authority_host "
            "for a custom cloud (Azure Stack Hub)." % (cloud_environment, ", ".join(sorted(CLOUDS))),
            option="cloud_environment")
    default_arm, default_authority = CLOUDS.get(name, (None, None))
    arm = _url(arm_endpoint or default_arm)
    authority = _url(authority_host or default_authority)
    custom = (arm, authority) != (default_arm, default_authority)
    return Endpoints(cloud="custom" if custom else name, arm_endpoint=arm, authority_host=authority, custom=custom)
