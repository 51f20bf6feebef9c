# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Azure errors in one exception type with a readable message."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError


class AzureError(FailbackError):
    """Anything that went wrong talking to Azure Resource Manager, AAD or Site Recovery."""

    kind = "azure"


def from_exception(exc, action, obj=None):
    """Wrap an azure-core / azure-identity exception into :class:`AzureError`."""
    if isinstance(exc, FailbackError):
        return exc
    where = " %s" % obj if obj else ""
    status = getattr(exc, "status_code", None)
    code = None
    error = getattr(exc, "error", None)
    if error is not None:
        code = getattr(error, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    name = type(exc).__name__
    hint = ""
    if name in {"ClientAuthenticationError", "CredentialUnavailableError"} or status == 401:
        hint = (" Check tenant, client_id and secret (AZURE_TENANT / AZURE_CLIENT_ID / AZURE_SECRET), "
                "auth_source, and the authority host of your cloud.")
    elif status == 403:
        hint = (" The identity lacks a role on this scope (Site Recovery Contributor on the vault, "
                "Virtual Machine Contributor on the resource group).")
    elif status == 404:
        hint = " Check subscription_id, resource_group and vault_name."
    elif name in ("ServiceRequestError", "ServiceResponseError"):
        hint = " Check the ARM endpoint, the network path and, for TLS errors, ca_bundle."
    return AzureError("Could not %s%s: %s%s" % (action, where, message.strip(), hint),
                      status=status, code=code, error_type=name, action=action, object=obj)
