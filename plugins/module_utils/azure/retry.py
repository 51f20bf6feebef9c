# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retry throttled (429) and failed (5xx) ARM calls, honouring Retry-After, within a deadline; bounded
connection retries; TLS failures never retried."""

from __future__ import annotations

import email.utils
import math
import threading
import time
import urllib.parse

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import (
    CA_BUNDLE_HINT,
    AzureError,
    connection_failure,
    tls_failure,
)

try:
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError
    from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
except ImportError:  # pragma: no cover - the session reports the missing library
    RetryPolicy = SansIOHTTPPolicy = object
    ServiceRequestError = ServiceResponseError = None

RETRY_STATUS = frozenset((408, 429, 500, 502, 503, 504))
IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS"))


def retry_after_seconds(headers, now=None):
    """Seconds the server asks us to wait, from retry-after-ms, x-ms-retry-after-ms or Retry-After."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / 1000.0)
            except ValueError:
                pass
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class ThrottleRetryPolicy(RetryPolicy):
    """Retries what may answer on a later try, within ``deadline``, and counts what it did in ``stats``:

    - 429 (throttled): as long as the deadline allows (``max_retries`` bounds it only without a deadline), each
      time waiting what Retry-After says (ARM's throttling guidance: honour Retry-After), else exponential backoff;
    - 408 / 5xx: up to ``max_retries`` times, any method (ARM did not act on a request it answered 5xx);
    - a failed connection: ``connect_retries`` times (1 s, 2 s...), then :class:`AzureError` naming the endpoint and
      the attempts (a closed or unreachable endpoint does not answer on the eleventh try either) - before sending
      for any method, after sending only for idempotent ones (a POST may have started an ASR job);
    - a TLS verification failure: never (it fails the same way each time); :class:`AzureError` names ``ca_bundle``.

    A Retry-After longer than what is left of the deadline is not waited: :class:`AzureError` says so and names
    the option that sets the deadline (``deadline.option``). A backoff of our own longer than that returns the last
    answer. Never sleeps past the deadline."""

    def __init__(self, max_retries=10, backoff=1.0, max_backoff=60.0, deadline=None, stats=None, sleeper=None,
                 connect_retries=2):
        super().__init__(retry_total=max_retries)
        self.max_retries = max_retries
        self.connect_retries = connect_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.deadline = deadline
        self.stats = stats if stats is not None else {}
        self.sleeper = sleeper or (time.sleep)

    def _backoff(self, attempt):
        return min(self.max_backoff, self.backoff * (2 ** attempt))

    def _remaining(self):
        return self.deadline.remaining() if self.deadline is not None else None

    def _can_wait(self, delay):
        remaining = self._remaining()
        return remaining is None or delay <= remaining

    def _too_long(self, request, status, asked):
        """The AzureError for a Retry-After of ``asked`` seconds beyond the deadline."""
        remaining = self._remaining() or 0.0
        option = getattr(self.deadline, "option", None) or "timeout"
        total = getattr(self.deadline, "seconds", None)
        elapsed = self.deadline.elapsed() if hasattr(self.deadline, "elapsed") else 0.0
        wanted = math.ceil(elapsed + asked + 60)
        what = "throttled the request (429)" if status == 429 else "answered %d" % status
        total_text = "none" if total is None else str(round(total))
        return AzureError(
            "ARM %s on %s %s and asks to retry after %.0f s (Retry-After), more than the %.0f s left of this task's "
            "deadline (%s: %s s). Set %s to at least %d to wait it out, or re-run later." % (
                what, request.method, _path(request.url), asked, remaining, option,
                total_text, option, wanted),
            status=None, http_status=status, code="RetryAfterBeyondDeadline", retry_after=asked,
            remaining_seconds=round(remaining, 1), option=option, suggested=wanted)

    def send(self, request):
        attempt = 0
        connect_attempts = 0
        http = request.http_request
        while True:
            try:
                response = self.next.send(request)
            except Exception as exc:  # pylint: disable=broad-except  # filtered just below
                if tls_failure(exc) is not None:
                    raise unreachable(exc, http.method, http.url, connect_attempts + 1) from exc
                retryable = isinstance(exc, ServiceRequestError) or (
                    isinstance(exc, ServiceResponseError) and http.method.upper() in IDEMPOTENT)
                if not retryable:
                    raise
                delay = self._backoff(connect_attempts)
                connect_attempts += 1
                if connect_attempts > self.connect_retries or not self._can_wait(delay):
                    raise unreachable(exc, http.method, http.url, connect_attempts) from exc
                self.stats["connection_retries"] = self.stats.get("connection_retries", 0) + 1
            else:
                status = response.http_response.status_code
                if status not in RETRY_STATUS:
                    return response
                asked = retry_after_seconds(response.http_response.headers)
                bounded = self._remaining() is not None
                if attempt >= self.max_retries and not (status == 429 and bounded):
                    return response
                delay = asked if asked is not None else self._backoff(attempt)
                if not self._can_wait(delay):
                    if asked is not None:
                        raise self._too_long(http, status, asked)
                    return response
                key = "throttled" if status == 429 else "server_errors"
                self.stats[key] = self.stats.get(key, 0) + 1
                attempt += 1
            self.stats["retry_wait_seconds"] = self.stats.get("retry_wait_seconds", 0.0) + delay
            self.sleeper(delay)


def _path(url):
    """The path of ``url`` without its query (the api-version adds nothing to a message)."""
    return urllib.parse.urlsplit(str(url)).path or "/"


def unreachable(exc, method, url, attempts):
    """The AzureError for a request to ``url`` that got no answer after ``attempts`` tries: a TLS verification
    failure names ``ca_bundle``; any other names the endpoint, the reason and the options that choose it."""
    parts = urllib.parse.urlsplit(str(url))
    endpoint = "%s://%s" % (parts.scheme, parts.netloc)
    tls = tls_failure(exc)
    if tls is not None:
        return AzureError("TLS verification of %s failed (%s) on %s %s: %s." % (
            endpoint, tls, method, parts.path or "/", CA_BUNDLE_HINT), endpoint=endpoint, tls_error=tls,
            option="ca_bundle", attempts=attempts, error_type="TLSVerificationError")
    reason = connection_failure(exc) or ("%s: %s" % (type(exc).__name__, str(exc).strip()[:200]))
    return AzureError(
        "Could not reach the Azure Resource Manager endpoint %s (%s) after %d attempt(s) of %s %s: check arm_endpoint "
        "(or cloud_environment), that the endpoint is up, and the network path to it (proxy, firewall, DNS)." % (
            endpoint, reason, attempts, method, parts.path or "/"),
        endpoint=endpoint, attempts=attempts, reason=reason, error_type=type(exc).__name__)


class CallCounter(SansIOHTTPPolicy):
    """Counts HTTP requests (each retry too) per method, so benchmarks can report API calls per VM.
    Item GETs run on several threads at once (asr/vault.py): the counts are kept under a lock."""

    def __init__(self, stats):
        super().__init__()
        self.stats = stats
        self._lock = threading.Lock()

    def on_request(self, request):
        method = request.http_request.method.upper()
        with self._lock:
            self.stats["calls"] = self.stats.get("calls", 0) + 1
            by_method = self.stats.setdefault("by_method", {})
            by_method[method] = by_method.get(method, 0) + 1
