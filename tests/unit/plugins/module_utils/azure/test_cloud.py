# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import cloud
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError


def test_public_cloud_is_the_default():
    endpoints = cloud.resolve()
    assert endpoints.arm_endpoint == "https://management.azure.com"
    assert endpoints.authority_host == "https://login.microsoftonline.com"
    assert endpoints.credential_scope == "https://management.azure.com/.default"
    assert endpoints.custom is False


@pytest.mark.parametrize("name,arm", [
    ("AzureUSGovernment", "https://management.usgovcloudapi.net"),
    ("azurechinacloud", "https://management.chinacloudapi.cn"),
    ("AzurePublicCloud", "https://management.azure.com"),
])
def test_sovereign_clouds_by_name_or_alias(name, arm):
    assert cloud.resolve(name).arm_endpoint == arm


def test_custom_endpoints_override_and_are_marked_custom():
    endpoints = cloud.resolve("AzureCloud", arm_endpoint="127.0.0.1:8443/", authority_host="https://127.0.0.1:8444")
    assert endpoints.arm_endpoint == "https://127.0.0.1:8443"
    assert endpoints.authority_host == "https://127.0.0.1:8444"
    assert endpoints.credential_scope == "https://127.0.0.1:8443/.default"
    assert endpoints.custom is True


def test_unknown_cloud_without_endpoints_names_the_choices():
    with pytest.raises(AzureError, match="AzureChinaCloud, AzureCloud, AzureUSGovernment"):
        cloud.resolve("AzureMoon")


def test_custom_cloud_name_with_both_endpoints_is_accepted():
    endpoints = cloud.resolve("AzureStackHub", "https://management.local.azurestack.external",
                              "https://adfs.local.azurestack.external/adfs")
    assert endpoints.cloud == "custom"


def test_plain_http_is_refused():
    with pytest.raises(AzureError, match="https"):
        cloud.resolve(arm_endpoint="http://127.0.0.1:8080", authority_host="https://login")
