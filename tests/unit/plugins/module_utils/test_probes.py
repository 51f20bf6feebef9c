# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""probes: TCP and HTTP probes retry until they answer or their timeout; a bad certificate fails at once."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import requests

from ansible_collections.siterecovery.failback.plugins.module_utils import probes
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock


def clock_and_sleep():
    clock = FakeClock()
    return clock, clock.sleep


def test_tcp_retries_until_the_port_opens():
    clock, sleep = clock_and_sleep()
    attempts = []

    def connect(address, timeout):
        attempts.append(address)
        if len(attempts) < 3:
            raise ConnectionRefusedError(111, "Connection refused")
        return socket.socket()

    assert probes.tcp("app01", 443, 60, clock=clock, sleep=sleep, connect=connect) == (True, "connected")
    assert attempts == [("app01", 443)] * 3 and clock.sleeps == [2.0, 2.0]


def test_tcp_gives_up_at_its_timeout():
    clock, sleep = clock_and_sleep()

    def connect(address, timeout):
        raise ConnectionRefusedError(111, "Connection refused")

    ok, fact = probes.tcp("app01", 443, 5, clock=clock, sleep=sleep, connect=connect)
    assert ok is False and fact == "connection failed: Connection refused (for 5 s)"


def test_http_waits_for_the_expected_status():
    clock, sleep = clock_and_sleep()
    answers = [requests.exceptions.ConnectionError("refused"), 503, 200]
    asked = []

    def get(url, seconds, verify):
        asked.append(verify)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert probes.http("http://app01/", [200], 60, clock=clock, sleep=sleep, get=get) == (True, "status 200")
    assert asked == [True, True, True]  # verification is on by default
    clock2, sleep2 = clock_and_sleep()
    ok, fact = probes.http("http://app01/", [200, 204], 3, clock=clock2, sleep=sleep2, get=lambda *args: 500)
    assert ok is False and fact == "status 500, expected 200 or 204 (for 3 s)"


def test_a_certificate_that_does_not_verify_fails_at_once():
    clock, sleep = clock_and_sleep()

    def get(url, seconds, verify):
        assert verify == "/etc/ssl/app-ca.pem"  # the probe's ca_file is what verifies
        raise requests.exceptions.SSLError("certificate verify failed: self-signed certificate")

    ok, fact = probes.http("https://app01/", [200], 60, ca_file="/etc/ssl/app-ca.pem", clock=clock, sleep=sleep,
                           get=get)
    assert ok is False and clock.sleeps == []
    assert fact == ("TLS certificate not verified (certificate verify failed: self-signed certificate); give the "
                    "probe a ca_file, or validate_certs: false in a lab")


def test_validate_certs_false_turns_verification_off():
    seen = []
    probes.http("https://app01/", [200], 5, validate_certs=False, get=lambda url, seconds, verify: seen.append(verify)
                or 200)
    assert seen == [False]


def test_run_probes_a_real_local_server_side_by_side():
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(204 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        found = probes.run([
            {"kind": "tcp", "host": "127.0.0.1", "port": port, "timeout": 5, "label": "tcp", "vm": None},
            {"kind": "http", "url": "http://127.0.0.1:%d/health" % port, "status": [204], "timeout": 5,
             "validate_certs": True, "ca_file": None, "label": "ok", "vm": "app01"},
            {"kind": "http", "url": "http://127.0.0.1:%d/nope" % port, "status": [200], "timeout": 1,
             "validate_certs": True, "ca_file": None, "label": "missing", "vm": None}])
    finally:
        server.shutdown()
    assert [(f["label"], f["ok"]) for f in found] == [("tcp", True), ("ok", True), ("missing", False)]
    assert found[2]["fact"].startswith("status 404, expected 200")
    assert probes.run([]) == []
