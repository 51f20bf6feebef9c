# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Entra ID (AAD v2) for one tenant and one app: OpenID discovery and the token endpoint with the client-credentials
grant and the resource owner password grant (user name and password, through a public client: the Azure CLI's, as
AWX and azure.azcollection use it), with the user realm discovery MSAL makes before the latter. Tokens are opaque
random strings with an expiry; ARM routes check them."""

import base64
import datetime
import json
import secrets
import threading
import time
import urllib.parse
import uuid

from .server import ArmError, Response


def _arm_time(epoch):
    """ARM's en-US time text of an expiry answer: ``5/13/2024 6:05:58 PM``."""
    when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return "%d/%d/%d %d:%02d:%02d %s" % (when.month, when.day, when.year, (when.hour % 12) or 12, when.minute,
                                         when.second, "AM" if when.hour < 12 else "PM")


# the public clients Entra ID lets sign users in with a password (no secret): the Azure CLI's
PUBLIC_CLIENTS = ("04b07795-8ddb-461a-bbee-02f9e1bf7b46",)


class Directory:
    """The tenant, its one confidential client, and the tokens handed out."""

    def __init__(self, azure, token_seconds=None):
        self.tenant = azure["tenant"]
        self.client_id = azure["client_id"]
        self.secret = azure["secret"]
        # the spec's azure.token_lifetime_seconds (Entra ID says expires_in 3599); the control API can change it
        self.users = {u["name"].lower(): u for u in azure.get("users") or []}
        self.token_seconds = int(token_seconds if token_seconds is not None else azure.get("token_lifetime_seconds", 3599))
        self.tokens = {}
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ AAD error bodies
    @staticmethod
    def _aad_error(status, error, code, description):
        now = datetime.datetime.now(datetime.timezone.utc)
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        text = "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
            code, description, trace, correlation, now.strftime("%Y-%m-%d %H:%M:%SZ"))
        return Response(status, {"error": error, "error_description": text, "error_codes": [code],
                                 "timestamp": now.strftime("%Y-%m-%d %H:%M:%SZ"), "trace_id": trace,
                                 "correlation_id": correlation,
                                 "error_uri": "https://login.microsoftonline.com/error?code=%d" % code})

    def _check_tenant(self, tenant):
        if tenant.lower() not in (self.tenant.lower(), "organizations", "common"):
            return self._aad_error(400, "invalid_tenant", 90002,
                                   "Tenant '%s' not found. Check to make sure you have the correct tenant ID." % tenant)
        return None

    # ------------------------------------------------------------------ routes
    def openid_configuration(self, request, tenant):
        refused = self._check_tenant(tenant)
        if refused:
            return refused
        base = "%s/%s" % (request.base_url, self.tenant)
        return {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": base + "/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": request.base_url + "/oidc/userinfo",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
            "kerberos_endpoint": base + "/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "lab.local",
            "cloud_graph_host_name": "graph.lab.local",
            "msgraph_host": "graph.lab.local",
            "rbac_url": request.base_url,
        }

    def instance_discovery(self, request):
        host = request.base_url.split("://", 1)[1]
        return {"tenant_discovery_endpoint": "%s/%s/v2.0/.well-known/openid-configuration" % (request.base_url, self.tenant),
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]}

    def _check_client(self, form):
        """An AAD error response for a bad client-credentials request, or None."""
        scope = form.get("scope", "")
        checks = [
            (form.get("grant_type") != "client_credentials", 400, "unsupported_grant_type", 70003,
             "The app requested an unsupported grant type '%s'." % form.get("grant_type")),
            (form.get("client_id") != self.client_id, 400, "unauthorized_client", 700016,
             "Application with identifier '%s' was not found in the directory '%s'." % (form.get("client_id"), self.tenant)),
            ("client_secret" not in form, 401, "invalid_client", 7000218,
             "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
            (not secrets.compare_digest(form.get("client_secret", ""), self.secret), 401, "invalid_client", 7000215,
             "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
             "not the client secret ID, for a secret added to app '%s'." % self.client_id),
            (not scope.strip().endswith("/.default"), 400, "invalid_scope", 1002012,
             "The provided value for scope %s is not valid. Client credential flows must have a scope value with "
             "/.default suffixed to the resource identifier." % scope),
        ]
        for failed, status, error, code, description in checks:
            if failed:
                return self._aad_error(status, error, code, description)
        return None

    def _check_user(self, form):
        """An AAD error response for a bad password-grant request, or None. Error codes and texts as Entra ID sends
        them (AADSTS700016 unknown client, 50034 unknown user, 50126 wrong password, 50076 MFA required)."""
        user = self.users.get((form.get("username") or "").lower())
        checks = [
            (form.get("client_id") not in PUBLIC_CLIENTS, 400, "unauthorized_client", 700016,
             "Application with identifier '%s' was not found in the directory '%s'." % (form.get("client_id"), self.tenant)),
            (user is None, 400, "invalid_grant", 50034,
             "The user account %s does not exist in the %s directory. To sign into this application, the account must be "
             "added to the directory." % (form.get("username"), self.tenant)),
            (user is not None and not secrets.compare_digest(form.get("password", ""), user["password"]), 400,
             "invalid_grant", 50126, "Error validating credentials due to invalid username or password."),
            (user is not None and user.get("mfa"), 400, "invalid_grant", 50076,
             "Due to a configuration change made by your administrator, or because you moved to a new location, you must "
             "use multi-factor authentication to access 'https://management.core.windows.net/'."),
        ]
        for failed, status, error, code, description in checks:
            if failed:
                return self._aad_error(status, error, code, description)
        return None

    def user_realm(self, request, user):
        """MSAL's user realm discovery before a password grant: every lab user is a managed (cloud) account."""
        name = urllib.parse.unquote(user)
        domain = name.rpartition("@")[2]
        return {"ver": "1.0", "account_type": "Managed", "domain_name": domain, "cloud_instance_name": "lab.local",
                "cloud_audience_urn": "urn:federation:MicrosoftOnline"}

    def token(self, request, tenant):
        refused = self._check_tenant(tenant)
        form = request.form()
        if not refused and form.get("grant_type") == "password":
            refused = self._check_user(form)
        else:
            refused = refused or self._check_client(form)
        if refused:
            return refused
        value = secrets.token_urlsafe(48)
        with self.lock:
            now = time.time()
            self.tokens = {k: v for k, v in self.tokens.items() if v > now}
            self.tokens[value] = now + self.token_seconds
        answer = {"token_type": "Bearer", "expires_in": self.token_seconds, "ext_expires_in": self.token_seconds,
                  "access_token": value}
        if form.get("grant_type") == "password":
            answer.update(self._user_tokens(request, form, int(now)))
        return answer

    def _user_tokens(self, request, form, now):
        """What Entra ID adds for a user (MSAL builds its account from them): scope, refresh_token, id_token (a JWT;
        the lab does not sign it, MSAL does not check signatures) and client_info (base64url {uid, utid})."""
        def b64(data):
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, form["username"].lower()))
        claims = {"aud": form.get("client_id"), "iss": "%s/%s/v2.0" % (request.base_url, self.tenant), "iat": now,
                  "nbf": now, "exp": now + self.token_seconds, "oid": oid, "sub": oid, "tid": self.tenant,
                  "preferred_username": form["username"], "name": form["username"].partition("@")[0], "ver": "2.0"}
        return {"scope": form.get("scope", ""), "refresh_token": secrets.token_urlsafe(48),
                "id_token": "%s.%s." % (b64({"typ": "JWT", "alg": "none"}), b64(claims)),
                "client_info": b64({"uid": oid, "utid": self.tenant})}

    # ------------------------------------------------------------------ ARM side
    def authenticate(self, request):
        """The bearer token of ``request`` if valid; raise a 401 ArmError otherwise."""
        header = request.headers.get("Authorization") or ""
        challenge = {"WWW-Authenticate": 'Bearer authorization_uri="%s/%s", error="invalid_token", '
                                         'error_description="The authentication failed"' % (request.base_url, self.tenant)}
        if not header:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           headers=challenge)
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                           headers=challenge)
        with self.lock:
            expiry = self.tokens.get(value.strip())
        if expiry is None:
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.", headers=challenge)
        now = time.time()
        if expiry < now:
            # the shape of ARM's answer in public reports: the two times as M/d/yyyy h:mm:ss AM/PM (UTC)
            raise ArmError(401, "ExpiredAuthenticationToken",
                           "The access token expiry UTC time '%s' is earlier than current UTC time '%s'." % (
                               _arm_time(expiry), _arm_time(now)), headers=challenge)
        return value

    def expire_all(self):
        with self.lock:
            # one second in the past, not 0: the expiry answer names a real time (the epoch would read 1/1/1970)
            self.tokens = dict.fromkeys(self.tokens, time.time() - 1)

    def register(self, router):
        router.add("GET", r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration", self.openid_configuration,
                   arm=False)
        router.add("GET", r"/common/discovery/instance", self.instance_discovery, arm=False)
        router.add("GET", r"/common/userrealm/(?P<user>[^/?]+)", self.user_realm, arm=False)
        router.add("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", self.token, arm=False)
