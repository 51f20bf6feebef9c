# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTPS server of the emulator: a small regex router, JSON in and out, ARM-style errors.

One port serves Entra ID, ARM (Compute, Network, Site Recovery), the Blob service (path-style, blob.py) and the
lab's control API.
Every response carries ``x-ms-request-id``. Routes marked ``arm`` require a valid bearer
token and an ``api-version`` query parameter, as ARM does.
"""

import http.server
import json
import re
import socket
import ssl
import struct
import threading
import time
import urllib.parse
import uuid


class ArmError(Exception):
    """An error answered as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status, code, message, headers=None, body=None):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.body = body

    def response(self):
        body = self.body if self.body is not None else {"error": {"code": self.code, "message": self.message}}
        return Response(self.status, body, dict(self.headers))


def not_found(kind, name):
    return ArmError(404, "NotFound", "The %s '%s' was not found." % (kind, name))


def asr_not_found(message):
    """Site Recovery's 404 (recorded): ``NotFound`` with one ``details`` entry ``ArmResourceDoesNotExist`` carrying the
    possible causes, the recommended action, the client request id and the activity id."""
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return ArmError(404, "NotFound", message, body={"error": {"code": "NotFound", "message": message, "details": [{
        "code": "ArmResourceDoesNotExist", "message": message, "possibleCauses": "Ensure correct resource name was specified.",
        "recommendedAction": "Verify ARM resource name details.", "clientRequestId": "%s-%s-P" % (uuid.uuid4(), now),
        "activityId": str(uuid.uuid4())}]}})


class Response:
    """Status, a JSON-able body (or None for an empty one) and headers."""

    def __init__(self, status=200, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = headers or {}


class Request:
    """One parsed request as handlers see it."""

    def __init__(self, method, raw_path, headers, body, base_url):
        self.method = method
        parts = urllib.parse.urlsplit(raw_path)
        self.path = urllib.parse.unquote(parts.path)
        self.raw_path = raw_path
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.query = {k.lower(): v[-1] for k, v in query.items()}
        self.headers = headers
        self.body = body
        self.base_url = base_url
        self.token = None

    def json(self, required=False):
        if not self.body:
            if required:
                raise ArmError(400, "InvalidRequestContent", "The request content was empty.")
            return {}
        try:
            value = json.loads(self.body.decode("utf-8"))
        except ValueError as exc:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid JSON: %s" % exc) from exc
        if not isinstance(value, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        return value

    def form(self):
        return {k: v[-1] for k, v in urllib.parse.parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


class Route:
    def __init__(self, method, pattern, handler, arm):
        self.method = method
        self.regex = re.compile("^" + pattern + "$", re.IGNORECASE)
        self.handler = handler
        self.arm = arm


class Router:
    """Routes by method and a regex of the unquoted path (case-insensitive, as ARM is)."""

    def __init__(self):
        self.routes = []

    def add(self, method, pattern, handler, arm=True):
        self.routes.append(Route(method, pattern, handler, arm))

    def find(self, method, path):
        """``(route, groups)`` or raise 404/405."""
        allowed = set()
        for route in self.routes:
            match = route.regex.match(path)
            if match:
                if route.method == method:
                    return route, match.groupdict()
                allowed.add(route.method)
        if allowed:
            raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % method)
        raise ArmError(404, "NotFound", "No HTTP resource was found that matches the request URI '%s'." % path)


class Stats:
    """Request counts per 'METHOD /path' (query removed) for benchmarks."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.total = 0

    def count(self, method, path):
        key = "%s %s" % (method, path)
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.total += 1

    def snapshot(self):
        with self.lock:
            return {"total": self.total, "requests": dict(sorted(self.counts.items()))}

    def reset(self):
        with self.lock:
            self.counts = {}
            self.total = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LabAzureEmulator/1.0"

    def log_message(self, *args):
        self.server.app.log("%s %s" % (self.address_string(), args[0] % args[1:]))

    def _handle(self):
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body, app.base_url)
        response = app.dispatch(request)
        if response is None:  # a 'reset' fault: drop the connection without an answer
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            return
        self._send(response)

    def _send(self, response):
        data = b""
        if response.body is not None:
            data = response.body if isinstance(response.body, bytes) else json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        headers = {k.lower(): (k, v) for k, v in response.headers.items()}
        if "x-ms-request-id" not in headers:
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
        client_id = self.headers.get("x-ms-client-request-id")
        if client_id:
            self.send_header("x-ms-client-request-id", client_id)
        self.send_header("x-ms-correlation-request-id", str(uuid.uuid4()))
        for name, value in headers.values():
            for one in (value if isinstance(value, (list, tuple)) else [value]):  # a list: the header repeated
                self.send_header(name, str(one))
        if "content-type" not in headers and response.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        if "content-length" not in headers:  # a HEAD answer gives the resource's length, with no body
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app, cert_file, key_file):
        self.app = app
        super().__init__(address, Handler)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_file, key_file)

    def finish_request(self, request, client_address):
        # the TLS handshake runs in the connection's own thread, so a slow client blocks no one
        try:
            request.settimeout(30)
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stall between headers and body
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # clients that give up (timeouts, resets) are normal here; keep stderr quiet
        self.app.log("connection error from %s" % (client_address,))


class App:
    """Dispatch: count, apply faults, authenticate ARM routes, call the handler, map errors."""

    def __init__(self, router, authenticate, faults=None, log_file=None):
        self.router = router
        self.authenticate = authenticate
        self.faults = faults
        self.stats = Stats()
        self.base_url = None
        self.log_lock = threading.Lock()
        self.log_file = log_file

    def log(self, line):
        if self.log_file:
            with self.log_lock, open(self.log_file, "a") as handle:
                handle.write("%s %s\n" % (time.strftime("%H:%M:%S"), line))

    def dispatch(self, request):
        control = request.path.startswith("/_lab/")
        if not control:
            self.stats.count(request.method, request.path)
            fault = self.faults.match(request.method, request.path) if self.faults else None
            if fault is not None:
                answer = fault.apply(request)
                if answer != "pass":
                    return answer
        try:
            route, groups = self.router.find(request.method, request.path)
            if route.arm:
                request.token = self.authenticate(request)
                if "api-version" not in request.query:
                    raise ArmError(400, "MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required for all requests.")
            result = route.handler(request, **groups)
        except ArmError as exc:
            return exc.response()
        except Exception as exc:  # a bug in the emulator: answer 500 the way ARM would, and log it
            import traceback
            self.log("500 on %s %s:\n%s" % (request.method, request.path, traceback.format_exc()))
            return Response(500, {"error": {"code": "InternalServerError", "message": "Emulator error: %r" % exc}})
        if isinstance(result, Response):
            return result
        return Response(200, result)


def serve(app, host, port, cert_file, key_file):
    """Start serving in a daemon thread; returns ``(server, thread)``."""
    server = TLSServer((host, port), app, cert_file, key_file)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                              name="azure-emulator")
    thread.start()
    return server, thread
