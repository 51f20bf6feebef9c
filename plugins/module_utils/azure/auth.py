# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bearer tokens that outlive a long wait: an ARM 401 saying the token expired (or is invalid) renews it once and
resends.

ARM answers a token it holds for expired with 401 and ``{"error": {"code": "ExpiredAuthenticationToken", "message":
"The access token expiry UTC time '...' is earlier than current UTC time '...'."}}`` (public reports of ARM
answers); azure-core's policy only drops its own copy of the token, and the credential would hand the same cached
token back. :class:`RenewableCredential` builds a fresh credential (no cache) on :meth:`~RenewableCredential.renew`;
:class:`RenewingAuthenticationPolicy` calls it once per such answer and resends the request with the new token.
"""

from __future__ import annotations

import json

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import RENEWABLE_TOKEN_CODES

try:
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
except ImportError:  # pragma: no cover - the session reports the missing library
    ARMChallengeAuthenticationPolicy = object


class RenewableCredential:
    """A credential built by ``build()`` that can be built again (``renew``), dropping every cached token."""

    def __init__(self, build, first=None):
        self._build = build
        self._inner = first
        self.renewals = 0

    @property
    def inner(self):
        if self._inner is None:
            self._inner = self._build()
        return self._inner

    def get_token(self, *scopes, **kwargs):
        return self.inner.get_token(*scopes, **kwargs)

    def renew(self):
        old, self._inner = self._inner, None
        self.renewals += 1
        close = getattr(old, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # pylint: disable=broad-except  # closing the old one is best effort
                pass
        return self.inner

    def close(self):
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def expired_token_code(http_response):
    """The ARM error code of a 401 answer when it says the token expired or is no longer valid
    (``RENEWABLE_TOKEN_CODES``), else None."""
    if http_response.status_code != 401:
        return None
    try:
        read = getattr(http_response, "read", None)
        if read is not None:
            read()  # a REST response is read after the pipeline: read the (small) 401 body here
        body = json.loads(http_response.text())
    except Exception:  # pylint: disable=broad-except  # no JSON body: not ARM's expiry answer
        return None
    code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
    return code if code in RENEWABLE_TOKEN_CODES else None


class RenewingAuthenticationPolicy(ARMChallengeAuthenticationPolicy):
    """ARM's bearer policy, plus: a 401 whose code says the token expired or is invalid (``RENEWABLE_TOKEN_CODES``)
    renews the
    credential once (``renew``, e.g. :meth:`RenewableCredential.renew`) and sends the request again with a new
    token. A second expiry answer is returned as is (the SDK raises it; errors.from_exception says to check the
    clock). ``stats["token_renewals"]`` counts the renewals."""

    def __init__(self, credential, *scopes, renew=None, stats=None, **kwargs):
        super().__init__(credential, *scopes, **kwargs)
        self._renew = renew
        self._stats = stats if stats is not None else {}

    def send(self, request):
        response = super().send(request)
        if self._renew is None or expired_token_code(response.http_response) is None:
            return response
        self._renew()
        self._stats["token_renewals"] = self._stats.get("token_renewals", 0) + 1
        self._token = None  # the policy's own copy is the expired one
        self.on_request(request)  # authorizes the request with a token of the renewed credential
        try:
            response = self.next.send(request)
            self.on_response(request, response)
        except Exception:
            self.on_exception(request)
            raise
        return response
