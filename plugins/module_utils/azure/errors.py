# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Azure errors in one exception type with a readable message: what failed, why, and the fix.

Shapes read here (the sources of each fact):

- ARM error body ``{"error": {"code", "message", "target", "details", "additionalInfo": [{"type", "info"}]}}``
  (ARM RPC, common-api-details.md "Error Response Content"; azure-mgmt-core's ``ARMErrorFormat`` parses
  ``additionalInfo`` into ``TypedErrorInfo(type, info)``).
- Azure Policy deny: 403 ``RequestDisallowedByPolicy`` with one ``additionalInfo`` entry of type ``PolicyViolation``
  per denying assignment, whose ``info`` holds ``policyAssignmentName``, ``policyAssignmentId``,
  ``policyAssignmentDisplayName``, ``policyAssignmentScope``, ``policyDefinitionName``, ``policyDefinitionId``,
  ``policyDefinitionDisplayName``, ``policyDefinitionEffect`` (Azure Automation's documented example of the
  error, MicrosoftDocs enforce-job-execution-hybrid-worker.md); the message repeats them as
  ``Policy identifiers: '[{"policyAssignment":{"name","id"},"policyDefinition":{"name","id"}}]'``.
- An expired bearer token: 401 ``ExpiredAuthenticationToken`` "The access token expiry UTC time '...' is earlier
  than current UTC time '...'." (public reports of ARM answers); ``InvalidAuthenticationTokenExpired`` is taken as
  the same condition.
"""

from __future__ import annotations

import json
import re
import ssl

from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError

# ARM 401 codes that mean "this token is too old": a new token cures them (azure/credentials.py renews once).
EXPIRED_TOKEN_CODES = frozenset(("ExpiredAuthenticationToken", "InvalidAuthenticationTokenExpired"))
# ARM's answers to a token it no longer takes: expired, or invalid (a token the service no longer knows - revoked
# sessions, a key rollover); each is worth one fresh token before the request fails (azure/auth.py)
RENEWABLE_TOKEN_CODES = EXPIRED_TOKEN_CODES | frozenset(("InvalidAuthenticationToken",))
POLICY_DENIED_CODE = "RequestDisallowedByPolicy"
CA_BUNDLE_HINT = ("give the CA certificate (PEM) that signed the endpoint's certificate - the TLS-inspecting proxy's "
                  "root CA, or Azure Stack Hub's - with the ca_bundle option (or the AZURE_CA_BUNDLE environment "
                  "variable); verification is never turned off")


class AzureError(FailbackError):
    """Anything that went wrong talking to Azure Resource Manager, AAD or Site Recovery."""

    kind = "azure"


def _chain(exc):
    """``exc`` and every exception it was raised from or during (azure-core wraps requests wraps urllib3 wraps ssl)."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = getattr(exc, "inner_exception", None) or exc.__cause__ or exc.__context__
    return seen


def tls_failure(exc):
    """The TLS verification failure behind ``exc`` (its text), or None."""
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            return getattr(link, "verify_message", None) or str(link)
        if isinstance(link, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(link):
            text = str(link)
            match = re.search(r"certificate verify failed: ([^(\]')\"]+)", text)
            return match.group(1).strip() if match else text
    return None


def connection_failure(exc):
    """A short reason for a failed connection behind ``exc`` (refused, timed out, name not resolved), or None."""
    for link in _chain(exc):
        text = str(link)
        for marker, reason in (("Connection refused", "connection refused"), ("Errno 111", "connection refused"),
                               ("timed out", "connection timed out"), ("Name or service not known", "name not resolved"),
                               ("nodename nor servname", "name not resolved"),
                               ("Temporary failure in name resolution", "name not resolved"),
                               ("No route to host", "no route to host"), ("Network is unreachable", "network unreachable"),
                               ("Connection reset", "connection reset")):
            if marker in text:
                return reason
    return None


def _error_body(exc):
    """The ARM error object (``{"code", "message", "additionalInfo"...}``) of an HttpResponseError, or {}."""
    response = getattr(exc, "response", None)
    if response is None:
        return {}
    try:
        body = json.loads(response.text())
    except Exception:  # pylint: disable=broad-except  # not JSON: nothing more to read
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return body if isinstance(body, dict) else {}


def policy_violations(exc):
    """Every denying policy of a ``RequestDisallowedByPolicy`` error: a list of dicts with ``assignment_name``,
    ``assignment_id``, ``assignment_display_name``, ``assignment_scope``, ``definition_name``, ``definition_id``,
    ``definition_display_name``, ``effect`` (None where ARM gave none). Read from ``additionalInfo`` entries of type
    ``PolicyViolation`` (azure-mgmt-core's parsed ``error.additional_info``, else the response body), else from the
    ``Policy identifiers: '[...]'`` JSON in the message."""
    infos = []
    error = getattr(exc, "error", None)
    for typed in getattr(error, "additional_info", None) or []:
        if getattr(typed, "type", None) == "PolicyViolation" and isinstance(getattr(typed, "info", None), dict):
            infos.append(typed.info)
    if not infos:
        body = _error_body(exc)
        entries = list(body.get("additionalInfo") or [])
        for detail in body.get("details") or []:
            entries.extend(detail.get("additionalInfo") or [] if isinstance(detail, dict) else [])
        infos = [e.get("info") for e in entries
                 if isinstance(e, dict) and e.get("type") == "PolicyViolation" and isinstance(e.get("info"), dict)]
    found = [{"assignment_name": info.get("policyAssignmentName"), "assignment_id": info.get("policyAssignmentId"),
              "assignment_display_name": info.get("policyAssignmentDisplayName"),
              "assignment_scope": info.get("policyAssignmentScope"),
              "definition_name": info.get("policyDefinitionName"), "definition_id": info.get("policyDefinitionId"),
              "definition_display_name": info.get("policyDefinitionDisplayName"),
              "effect": info.get("policyDefinitionEffect")} for info in infos]
    if found:
        return found
    message = getattr(exc, "message", None) or str(exc)
    match = re.search(r"Policy identifiers: '(\[.*?\])'", message, re.S)
    if match:
        try:
            identifiers = json.loads(match.group(1))
        except ValueError:
            identifiers = []
        for entry in identifiers if isinstance(identifiers, list) else []:
            assignment = entry.get("policyAssignment") or {}
            definition = entry.get("policyDefinition") or {}
            assignment_id = assignment.get("id")
            found.append({"assignment_name": assignment_id.rsplit("/", 1)[-1] if assignment_id else assignment.get("name"),
                          "assignment_id": assignment_id, "assignment_display_name": assignment.get("name"),
                          "assignment_scope": None, "definition_name": definition.get("name"),
                          "definition_id": definition.get("id"), "definition_display_name": None, "effect": None})
    return found


def _policy_message(action, where, violations):
    named = []
    for v in violations:
        label = v["assignment_display_name"] or v["assignment_name"] or "an unnamed assignment"
        extra = [x for x in (("name %s" % v["assignment_name"]) if v["assignment_name"] and v["assignment_name"] != label
                             else None, v["assignment_id"],
                             ("definition %s" % (v["definition_display_name"] or v["definition_name"]))
                             if (v["definition_display_name"] or v["definition_name"]) else None,
                             ("effect %s" % v["effect"]) if v["effect"] else None) if x]
        named.append("'%s'%s" % (label, " (%s)" % ", ".join(extra) if extra else ""))
    which = ("policy assignment %s" % named[0]) if len(named) == 1 else \
        ("policy assignments %s" % "; ".join(named)) if named else "a policy assignment ARM did not name"
    return ("Could not %s%s: Azure Policy denied the request (403 RequestDisallowedByPolicy) by %s. This is a policy "
            "decision, not a missing role: ask the policy's owner for an exemption covering this resource (or a change "
            "of the assignment's scope or parameters); retrying or granting roles does not help." % (action, where, which))


def _endpoint_of(exc):
    """``scheme://host[:port]`` of the request behind ``exc`` when azure-core kept it, else None."""
    for link in _chain(exc):
        for holder in (getattr(link, "request", None), getattr(getattr(link, "response", None), "request", None)):
            url = getattr(holder, "url", None)
            if url:
                match = re.match(r"^([a-z]+://[^/?#]+)", str(url), re.I)
                if match:
                    return match.group(1)
    return None


def from_exception(exc, action, obj=None):
    """Wrap an azure-core / azure-identity exception into :class:`AzureError`.

    ``action`` completes "Could not ..." (``"read ASR job"``), ``obj`` names what it acted on. The message names
    the cause and the fix: a policy denial names the denying assignment(s) (``details["policy_violations"]``); a TLS
    failure the ``ca_bundle`` option; a connection failure the endpoint; an AAD/401 failure the credential options.
    """
    if isinstance(exc, FailbackError):
        return exc
    where = " %s" % obj if obj else ""
    status = getattr(exc, "status_code", None)
    code = None
    error = getattr(exc, "error", None)
    if error is not None:
        code = getattr(error, "code", None)
    if code is None and status is not None:
        code = _error_body(exc).get("code")
    message = getattr(exc, "message", None) or str(exc)
    # azure-mgmt-core appends "Additional Information:" (the whole policy evaluation) to the message: keep it short
    message = message.split("\nAdditional Information:", 1)[0]
    name = type(exc).__name__
    details = {"status": status, "code": code, "error_type": name, "action": action, "object": obj}
    tls = tls_failure(exc)
    if tls is not None:
        endpoint = _endpoint_of(exc)
        return AzureError("Could not %s%s: TLS verification of %s failed (%s): %s." % (
            action, where, endpoint or "the Azure endpoint", tls, CA_BUNDLE_HINT), tls_error=tls, endpoint=endpoint,
            option="ca_bundle", **details)
    if status == 403 and code == POLICY_DENIED_CODE:
        violations = policy_violations(exc)
        return AzureError(_policy_message(action, where, violations), policy_violations=violations, **details)
    hint = ""
    if status == 401 and code in EXPIRED_TOKEN_CODES:
        hint = (" ARM rejected the access token as expired even after it was renewed: check the controller's clock "
                "(NTP) and the authority host of your cloud.")
    elif name in {"ClientAuthenticationError", "CredentialUnavailableError"} or status == 401:
        reason = connection_failure(exc) if status is None else None
        if reason:
            hint = (" The token endpoint could not be reached (%s): check authority_host / cloud_environment and the "
                    "network path (proxy, firewall) to it." % reason)
        else:
            hint = (" Check tenant, client_id and secret (AZURE_TENANT / AZURE_CLIENT_ID / AZURE_SECRET), or ad_user and "
                    "ad_password (AZURE_AD_USER / AZURE_PASSWORD; an account with MFA enforced cannot sign in with a "
                    "password), auth_source, and the authority host of your cloud.")
    elif status == 403:
        hint = (" The identity lacks a role on this scope (Site Recovery Contributor on the vault, "
                "Virtual Machine Contributor on the resource group).")
    elif status == 404:
        hint = " Check subscription_id, resource_group and vault_name."
    elif name in ("ServiceRequestError", "ServiceResponseError"):
        endpoint = _endpoint_of(exc)
        reason = connection_failure(exc)
        details.update(endpoint=endpoint)
        hint = " Could not reach %s%s: check arm_endpoint / cloud_environment and the network path (proxy, firewall)." % (
            endpoint or "the ARM endpoint", " (%s)" % reason if reason else "")
    return AzureError("Could not %s%s: %s%s" % (action, where, message.strip(), hint), **details)
