# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's Blob service through azure-storage-blob, as the collection uses it: Put / Get / Get Properties /
Delete / List Blobs, the conditional headers and their errors, bearer tokens, the request counters and faults."""

import pytest
import requests
from azure.core import MatchConditions
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import ContainerClient


def client(lab, container="siterecovery-failback", credential=None):
    return ContainerClient(lab.url + "/labstate", container, credential=credential or lab.credential,
                           connection_verify=lab.ca, retry_total=0)


def test_put_get_properties_list_and_delete(lab):
    blobs = client(lab)
    first = blobs.get_blob_client("v/claims/rg/app01").upload_blob(b'{"owner": "run-1"}', overwrite=False)
    downloaded = blobs.get_blob_client("v/claims/rg/app01").download_blob()
    assert downloaded.readall() == b'{"owner": "run-1"}' and downloaded.properties.etag == first["etag"]
    properties = blobs.get_blob_client("v/claims/rg/app01").get_blob_properties()
    assert (properties.size, properties.etag, properties.blob_type) == (18, first["etag"], "BlockBlob")
    blobs.get_blob_client("v/leases/run-1").upload_blob(b"{}")
    blobs.get_blob_client("other/x").upload_blob(b"{}")
    assert [b.name for b in blobs.list_blobs(name_starts_with="v/")] == ["v/claims/rg/app01", "v/leases/run-1"]
    listed = next(iter(blobs.list_blobs(name_starts_with="v/claims/")))
    assert listed.size == 18 and listed.etag.strip('"') == first["etag"].strip('"')
    blobs.get_blob_client("v/claims/rg/app01").delete_blob(etag=first["etag"], match_condition=MatchConditions.IfNotModified)
    assert [b.name for b in blobs.list_blobs(name_starts_with="v/")] == ["v/leases/run-1"]
    stats = lab.control("GET", "/stats")["requests"]
    assert stats["PUT /labstate/siterecovery-failback/v/claims/rg/app01"] == 1
    assert stats["DELETE /labstate/siterecovery-failback/v/claims/rg/app01"] == 1
    assert lab.emulator.state()["blobs"]["labstate/siterecovery-failback"]["v/leases/run-1"]["text"] == "{}"


def test_list_blobs_pages_with_maxresults_and_the_next_marker(lab):
    blobs = client(lab)
    for name in ("p/a", "p/b", "p/c"):
        blobs.get_blob_client(name).upload_blob(b"{}")
    pages = blobs.list_blobs(name_starts_with="p/", results_per_page=2).by_page()
    assert [[b.name for b in page] for page in pages] == [["p/a", "p/b"], ["p/c"]]


def test_conditional_writes_fail_as_the_service_answers(lab):
    blob = client(lab).get_blob_client("c/x")
    first = blob.upload_blob(b"1")
    with pytest.raises(ResourceExistsError) as exists:
        blob.upload_blob(b"2", overwrite=False)
    assert (exists.value.status_code, exists.value.error_code) == (409, "BlobAlreadyExists")
    second = blob.upload_blob(b"2", overwrite=True, etag=first["etag"], match_condition=MatchConditions.IfNotModified)
    with pytest.raises(ResourceModifiedError) as stale:
        blob.upload_blob(b"3", overwrite=True, etag=first["etag"], match_condition=MatchConditions.IfNotModified)
    assert (stale.value.status_code, stale.value.error_code) == (412, "ConditionNotMet")
    with pytest.raises(ResourceModifiedError):
        blob.delete_blob(etag=first["etag"], match_condition=MatchConditions.IfNotModified)
    blob.delete_blob(etag=second["etag"], match_condition=MatchConditions.IfNotModified)
    with pytest.raises(ResourceNotFoundError) as gone:
        blob.download_blob()
    assert gone.value.error_code == "BlobNotFound"


def test_errors_carry_the_code_header_and_the_xml_body(lab):
    token = lab.credential.get_token("https://storage.azure.com/.default").token
    url = lab.url + "/labstate/nope/x"
    response = requests.get(url, headers={"Authorization": "Bearer " + token, "x-ms-version": "2025-01-05"},
                            verify=lab.ca, timeout=10)
    assert response.status_code == 404 and response.headers["x-ms-error-code"] == "ContainerNotFound"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?><Error><Code>ContainerNotFound</Code>')
    assert "RequestId:%s" % response.headers["x-ms-request-id"] in response.text
    anonymous = requests.get(lab.url + "/labstate/siterecovery-failback/x", verify=lab.ca, timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["x-ms-error-code"] == "NoAuthenticationInformation"
    assert "resource_id=https://storage.azure.com" in anonymous.headers["WWW-Authenticate"]
    forged = requests.get(lab.url + "/labstate/siterecovery-failback/x", headers={"Authorization": "Bearer forged"},
                          verify=lab.ca, timeout=10)
    assert forged.headers["x-ms-error-code"] == "InvalidAuthenticationInfo"
    no_type = requests.put(lab.url + "/labstate/siterecovery-failback/x", data=b"1", verify=lab.ca, timeout=10,
                           headers={"Authorization": "Bearer " + token})
    assert no_type.status_code == 400 and no_type.headers["x-ms-error-code"] == "MissingRequiredHeader"


def test_expired_tokens_are_refused(lab):
    blobs = client(lab)
    blobs.get_blob_client("t/x").upload_blob(b"1")
    lab.control("POST", "/tokens/expire")
    with pytest.raises((ClientAuthenticationError, HttpResponseError)) as caught:
        blobs.get_blob_client("t/x").download_blob()
    assert caught.value.status_code == 401


def test_a_read_only_account_and_an_injected_403_answer_authorization_permission_mismatch(lab_factory):
    lab = lab_factory({"storage": {"accounts": [{"name": "labstate", "containers": ["siterecovery-failback"],
                                                 "read_only": True}]}})
    blob = client(lab).get_blob_client("x")
    with pytest.raises(HttpResponseError) as caught:
        blob.upload_blob(b"1")
    assert (caught.value.status_code, caught.value.error_code) == (403, "AuthorizationPermissionMismatch")
    other = lab_factory()
    other.control("POST", "/faults", {"method": "PUT", "path_regex": "^/labstate/", "kind": "status", "status": 403,
                                      "code": "AuthorizationPermissionMismatch", "times": 1})
    with pytest.raises(HttpResponseError) as injected:
        client(other).get_blob_client("x").upload_blob(b"1")
    assert (injected.value.status_code, injected.value.error_code) == (403, "AuthorizationPermissionMismatch")
    client(other).get_blob_client("x").upload_blob(b"1")  # the fault was for one request
