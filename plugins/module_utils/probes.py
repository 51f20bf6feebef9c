# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Health probes run by the controller before a commit: a TCP connect, an HTTP(S) GET with the expected status.

Each probe retries until it answers or its timeout (seconds) runs out, as ``wait_for`` does; probes run side by
side. TLS certificates are verified unless the probe says ``validate_certs: false``; a certificate that does not
verify is reported at once (it does not fix itself by waiting). Probes come validated by
``domain.commit_gate.validate_options``.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.siterecovery.failback.plugins.module_utils.errors import MissingLibraryError

try:
    import requests
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the sanity import test
    requests = None
    REQUESTS_IMPORT_ERROR = exc

RETRY_SECONDS = 2.0
ATTEMPT_SECONDS = 10.0


def _wait(timeout, attempt, clock, sleep):
    """Call ``attempt(seconds) -> (done, ok, fact)`` until done or ``timeout`` seconds passed."""
    ends = clock() + timeout
    fact = "no answer"
    while True:
        remaining = ends - clock()
        done, ok, fact = attempt(max(0.1, min(ATTEMPT_SECONDS, remaining)))
        if done:
            return ok, fact
        remaining = ends - clock()
        if remaining <= 0:
            return False, "%s (for %d s)" % (fact, timeout)
        sleep(min(RETRY_SECONDS, remaining))


def tcp(host, port, timeout, clock=time.monotonic, sleep=time.sleep, connect=socket.create_connection):
    """``(ok, fact)``: whether a TCP connection to ``host``:``port`` opened within ``timeout`` seconds."""
    def attempt(seconds):
        try:
            connection = connect((host, port), timeout=seconds)
        except OSError as error:
            return False, False, "connection failed: %s" % (error.strerror or error)
        connection.close()
        return True, True, "connected"
    return _wait(timeout, attempt, clock, sleep)


def _get(url, seconds, verify):
    """One GET of ``url`` (requests, redirects followed), returning its status code."""
    return requests.get(url, timeout=seconds, verify=verify,
                        headers={"User-Agent": "siterecovery.failback-probe"}).status_code


def http(url, statuses, timeout, validate_certs=True, ca_file=None, clock=time.monotonic, sleep=time.sleep, get=_get):
    """``(ok, fact)``: whether a GET of ``url`` answered one of ``statuses`` within ``timeout`` seconds.

    TLS: verified against the system's CAs, or ``ca_file`` when given; ``validate_certs: false`` turns it off."""
    if REQUESTS_IMPORT_ERROR is not None:  # pragma: no cover - requests comes with the Azure SDK
        raise MissingLibraryError("requests", REQUESTS_IMPORT_ERROR)
    verify = (ca_file or True) if validate_certs else False

    def attempt(seconds):
        try:
            status = get(url, seconds, verify)
        except requests.exceptions.SSLError as error:
            return True, False, ("TLS certificate not verified (%s); give the probe a ca_file, or validate_certs: "
                                 "false in a lab" % error)
        except (requests.exceptions.RequestException, OSError) as error:
            return False, False, "no answer: %s" % error
        if status in statuses:
            return True, True, "status %d" % status
        return False, False, "status %d, expected %s" % (status, " or ".join(str(s) for s in statuses))
    return _wait(timeout, attempt, clock, sleep)


def run_one(probe):
    if probe["kind"] == "tcp":
        ok, fact = tcp(probe["host"], probe["port"], probe["timeout"])
    else:
        ok, fact = http(probe["url"], probe["status"], probe["timeout"], probe.get("validate_certs", True),
                        probe.get("ca_file"))
    return {"label": probe["label"], "vm": probe.get("vm"), "ok": ok, "fact": fact}


def run(probes, runner=run_one, workers=8):
    """Run ``probes`` side by side; ``[{label, vm, ok, fact}]`` in the same order."""
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(probes))) as pool:
        return list(pool.map(runner, probes))
