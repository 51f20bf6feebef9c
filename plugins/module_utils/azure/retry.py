# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retry throttled (429) and failed (5xx) ARM calls, honouring Retry-After, within a deadline."""

from __future__ import annotations

import email.utils
import threading
import time

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
    """Retries 408/429/5xx (any method) and connection errors (before sending: any method;
    after sending: idempotent methods only). Waits what Retry-After says, else exponential
    backoff; never sleeps past deadline; counts what it did in stats."""

    def __init__(self, max_retries=10, backoff=1.0, max_backoff=60.0, deadline=None, stats=None, sleeper=None):
        super().__init__(retry_total=max_retries)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.deadline = deadline
        self.stats = stats if stats is not None else {}
        self.sleeper = sleeper or (time.sleep)

    def _delay(self, attempt, response=None):
        delay = retry_after_seconds(response.http_response.headers) if response is not None else None
        if delay is None:
            delay = min(self.max_backoff, self.backoff * (2 ** attempt))
        return delay

    def _can_wait(self, delay):
        remaining = self.deadline.remaining() if self.deadline is not None else None
        return remaining is None or delay <= remaining

    def send(self, request):
        attempt = 0
        while True:
            try:
                response = self.next.send(request)
            except Exception as exc:  # pylint: disable=broad-except  # filtered just below
                retryable = isinstance(exc, ServiceRequestError) or (
                    isinstance(exc, ServiceResponseError) and request.http_request.method.upper() in IDEMPOTENT)
                delay = self._delay(attempt)
                if not retryable or attempt >= self.max_retries or not self._can_wait(delay):
                    raise
                self.stats["connection_retries"] = self.stats.get("connection_retries", 0) + 1
            else:
                status = response.http_response.status_code
                if status not in RETRY_STATUS or attempt >= self.max_retries:
                    return response
                delay = self._delay(attempt, response)
                if not self._can_wait(delay):
                    return response
                key = "throttled" if status == 429 else "server_errors"
                self.stats[key] = self.stats.get(key, 0) + 1
            self.stats["retry_wait_seconds"] = self.stats.get("retry_wait_seconds", 0.0) + delay
            self.sleeper(delay)
            attempt += 1


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
