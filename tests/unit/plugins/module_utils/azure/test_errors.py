# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""errors.from_exception: each cause named with its fix, from the real error shapes (docstring of errors.py)."""

import copy
import json
import os

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.azure.fakes import (
    RecordingTransport,
    StaticCredential,
)

DATA = os.path.join(os.path.dirname(__file__), "data")
SUB = "00000000-0000-4000-8000-000000000003"
ASSIGNMENT_ID = ("/subscriptions/%s/resourceGroups/rg-recovery/providers/Microsoft.Authorization/policyAssignments/"
                 "5f1d0c2e9a7b4c3d8e6f1a2b" % SUB)


def policy_body():
    with open(os.path.join(DATA, "policy_denied_tag_write.json")) as handle:
        body = json.load(handle)
    body.pop("_source")
    return body


def sdk_error(status, body):
    """The exception the real Compute SDK raises for ``status`` / ``body`` (a tag PATCH answered so)."""
    session = AzureSession(AzureParams(subscription_id=SUB), credential=StaticCredential())
    session.client_kwargs_extra = {"transport": RecordingTransport([(status, {}, body)])}
    with pytest.raises(Exception) as info:
        session.compute.virtual_machines.begin_update(
            "rg-recovery", "app01", {"tags": {"siterecovery-failback-lock": "run-1"}}, polling=False).result()
    return info.value


def test_a_policy_denial_names_the_assignment_not_a_role():
    error = from_exception(sdk_error(403, policy_body()), "tag the Azure VM", "rg-recovery/app01")
    msg = error.msg
    assert msg.startswith("Could not tag the Azure VM rg-recovery/app01: Azure Policy denied the request "
                          "(403 RequestDisallowedByPolicy) by policy assignment 'Deny tag changes on DR VMs'")
    assert "name 5f1d0c2e9a7b4c3d8e6f1a2b" in msg
    assert ASSIGNMENT_ID in msg
    assert "definition Deny tag changes" in msg and "effect Deny" in msg
    assert "exemption" in msg
    assert "lacks a role" not in msg  # the old hint, wrong for a policy
    assert "evaluatedExpressions" not in msg  # the evaluation details stay out of the message
    [violation] = error.details["policy_violations"]
    assert violation["assignment_name"] == "5f1d0c2e9a7b4c3d8e6f1a2b"
    assert violation["assignment_id"] == ASSIGNMENT_ID
    assert violation["assignment_scope"] == "/subscriptions/%s/resourceGroups/rg-recovery" % SUB
    assert violation["effect"] == "Deny"
    assert error.details["status"] == 403 and error.details["code"] == "RequestDisallowedByPolicy"


def test_a_policy_denial_without_additional_info_is_read_from_the_message():
    body = policy_body()
    del body["error"]["additionalInfo"]
    error = from_exception(sdk_error(403, body), "tag the Azure VM", "rg-recovery/app01")
    assert "policy assignment 'Deny tag changes on DR VMs'" in error.msg
    assert error.details["policy_violations"][0]["assignment_name"] == "5f1d0c2e9a7b4c3d8e6f1a2b"
    assert error.details["policy_violations"][0]["assignment_id"] == ASSIGNMENT_ID


def test_two_denying_assignments_are_both_named():
    body = policy_body()
    second = copy.deepcopy(body["error"]["additionalInfo"][0])
    second["info"].update(policyAssignmentDisplayName="No writes during freeze", policyAssignmentName="freeze-1",
                          policyAssignmentId="/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/"
                                             "freeze-1" % SUB)
    body["error"]["additionalInfo"].append(second)
    error = from_exception(sdk_error(403, body), "tag the Azure VM")
    assert "policy assignments 'Deny tag changes on DR VMs'" in error.msg
    assert "'No writes during freeze'" in error.msg
    assert len(error.details["policy_violations"]) == 2


def test_a_missing_role_still_says_role():
    body = {"error": {"code": "AuthorizationFailed", "message": "The client 'x' does not have authorization to perform "
                                                                "action 'Microsoft.Compute/virtualMachines/write'."}}
    error = from_exception(sdk_error(403, body), "tag the Azure VM")
    assert "lacks a role" in error.msg
    assert "policy" not in error.msg.lower()


def test_an_expired_token_that_stays_expired_points_at_the_clock():
    body = {"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry UTC time "
                      "'5/13/2024 6:05:58 PM' is earlier than current UTC time '5/13/2024 8:21:34 PM'."}}
    error = from_exception(sdk_error(401, body), "read ASR job", "job-1")
    assert "clock" in error.msg
    assert "Check tenant, client_id and secret" not in error.msg


def test_a_bad_secret_still_names_the_credential_options():
    error = from_exception(ClientAuthenticationError("AADSTS7000215: Invalid client secret provided."), "get a token")
    assert "AZURE_SECRET" in error.msg


def test_an_unreachable_token_endpoint_is_not_called_a_bad_secret():
    error = None
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as cause:
        try:
            raise ClientAuthenticationError("Authentication failed") from cause
        except ClientAuthenticationError as exc:
            error = from_exception(exc, "get a token for")
    assert "could not be reached (connection refused)" in error.msg
    assert "authority_host" in error.msg
    assert "AZURE_SECRET" not in error.msg


def test_an_http_error_without_body_keeps_the_old_shape():
    error = from_exception(HttpResponseError(message="boom"), "read")
    assert error.msg == "Could not read: boom"


def test_a_connection_error_names_the_endpoint_when_known():
    error = from_exception(ServiceRequestError("[Errno 111] Connection refused"), "start reProtect")
    assert "Could not reach the ARM endpoint (connection refused)" in error.msg
