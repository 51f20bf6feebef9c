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


def test_custom_cloud_keeps_a_known_name_with_both_endpoints():
    endpoints = cloud.resolve("AzureCloud", "https://management.local.azurestack.external",
                              "https://adfs.local.azurestack.external/adfs")
    assert endpoints.cloud == "custom"
    assert endpoints.authority_host == "https://adfs.local.azurestack.external/adfs"


def test_unknown_cloud_is_refused_even_with_both_endpoints():
    # AzureMoon with the lab's endpoints ran on as if it were a custom cloud (issue 15)
    with pytest.raises(AzureError) as info:
        cloud.resolve("AzureMoon", "https://127.0.0.1:8443", "https://127.0.0.1:8443")
    assert "Unknown cloud_environment 'AzureMoon'" in info.value.msg
    assert "AzureChinaCloud, AzureCloud, AzureUSGovernment" in info.value.msg
    assert info.value.details["option"] == "cloud_environment"


@pytest.mark.parametrize("value", ["https://", "https://host name", "https://arm.example:99999", "https://arm.example/?x=1",
                                   "https://-bad-.example"])
def test_an_endpoint_that_is_not_a_host_url_is_refused_naming_the_option(value):
    with pytest.raises(AzureError) as info:
        cloud.resolve("AzureCloud", arm_endpoint=value, authority_host="https://login.example")
    assert info.value.details["option"] == "arm_endpoint"
    assert "https://host[:port]" in info.value.msg


def test_plain_http_is_refused():
    with pytest.raises(AzureError, match="https"):
        cloud.resolve(arm_endpoint="http://127.0.0.1:8080", authority_host="https://login")
