# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Blob service of the emulator, path-style as Azurite serves it: ``https://127.0.0.1:<port>/<account>/<container>/<blob>``.

What it answers, in the shapes of the Azure Storage REST reference (learn.microsoft.com/rest/api/storageservices):

- Put Blob (``PUT``, ``x-ms-blob-type: BlockBlob``): 201 with ``ETag``, ``Last-Modified``, ``Content-MD5``,
  ``x-ms-request-server-encrypted``;
- Get Blob (``GET``; ``x-ms-range`` / ``Range`` -> 206 with ``Content-Range``) and Get Blob Properties (``HEAD``);
- Delete Blob (``DELETE``): 202 with ``x-ms-delete-type-permanent``;
- List Blobs (``GET ?restype=container&comp=list``, ``prefix``, ``maxresults``, ``marker``): the
  ``EnumerationResults`` XML (``Etag`` there without quotes, as the service lists it);
- conditional headers (``If-Match``, ``If-None-Match``; "Specifying conditional headers for Blob service operations"):
  412 ``ConditionNotMet``, 409 ``BlobAlreadyExists`` (Put Blob with ``If-None-Match: *`` on an existing blob), 304 for a
  read whose ``If-None-Match`` matches;
- errors as the service sends them: the ``x-ms-error-code`` header and an XML ``<Error><Code/><Message/></Error>`` body
  whose message ends with ``RequestId:`` and ``Time:`` lines (none on ``HEAD``); ``BlobNotFound``,
  ``ContainerNotFound``, ``MissingRequiredHeader``, ``AuthorizationPermissionMismatch`` (an identity without a data
  role on the container: the spec's ``storage.accounts[].readers``), ``NoAuthenticationInformation`` /
  ``InvalidAuthenticationInfo`` (401, with the ``WWW-Authenticate`` Bearer challenge naming the tenant and
  ``resource_id=https://storage.azure.com``).

The bearer token is checked by the emulator's Entra ID as ARM's is (aad.Directory.authenticate). The accounts and
containers come from the spec's ``storage`` (default: account ``labstate`` with container ``siterecovery-failback``).
"""

import base64
import email.utils
import hashlib
import itertools
import re
import threading
import time
import uuid
from xml.sax.saxutils import escape

from .server import ArmError, Response

DEFAULT_STORAGE = {"accounts": [{"name": "labstate", "containers": ["siterecovery-failback"]}]}
VERSION = "2025-01-05"
MESSAGES = {
    "BlobNotFound": "The specified blob does not exist.",
    "ContainerNotFound": "The specified container does not exist.",
    "BlobAlreadyExists": "The specified blob already exists.",
    "ConditionNotMet": "The condition specified using HTTP conditional header(s) is not met.",
    "MissingRequiredHeader": "An HTTP header that's mandatory for this request is not specified.",
    "AuthorizationPermissionMismatch": "This request is not authorized to perform this operation using this permission.",
    "NoAuthenticationInformation": "Server failed to authenticate the request. Please refer to the information in the "
                                   "www-authenticate header.",
    "InvalidAuthenticationInfo": "Server failed to authenticate the request. Please refer to the information in the "
                                 "www-authenticate header.",
    "InvalidQueryParameterValue": "Value for one of the query parameters specified in the request URI is invalid.",
}


def http_date(epoch):
    return email.utils.formatdate(epoch, usegmt=True)


def error_xml(code, message=None):
    """``(body bytes, request id)`` of a Blob service error."""
    request_id = str(uuid.uuid4())
    when = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())
    text = "%s\nRequestId:%s\nTime:%s" % (message or MESSAGES.get(code, code), request_id, when)
    body = '<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>' % (
        escape(code), escape(text))
    return body.encode("utf-8"), request_id


def storage_error(status, code, message=None, method="GET", headers=None):
    """An ArmError the server answers in the Blob service's shape (no body on HEAD)."""
    body, request_id = error_xml(code, message)
    all_headers = {"x-ms-error-code": code, "x-ms-request-id": request_id, "x-ms-version": VERSION,
                   "Content-Type": "application/xml"}
    all_headers.update(headers or {})
    return ArmError(status, code, message or MESSAGES.get(code, code), headers=all_headers,
                    body=None if method == "HEAD" else body)


class BlobService:
    """The blobs of every account and container, behind one lock; ``state()`` for tests."""

    def __init__(self, spec, directory):
        storage = spec.get("storage") or DEFAULT_STORAGE
        self.directory = directory
        self.lock = threading.Lock()
        self.containers = {}
        self.readers = {}
        for account in storage.get("accounts") or []:
            for container in account.get("containers") or []:
                self.containers[(account["name"], container)] = {}
            self.readers[account["name"]] = bool(account.get("read_only"))
        self.accounts = sorted({name for name, _c in self.containers} | set(self.readers))
        self.counter = itertools.count(int(time.time() * 1000) % 10 ** 9)

    # ------------------------------------------------------------------ plumbing
    def _etag(self):
        return '"0x8D%013X"' % next(self.counter)

    def _authenticate(self, request):
        try:
            return self.directory.authenticate(request)
        except ArmError as exc:
            code = "NoAuthenticationInformation" if not request.headers.get("Authorization") else "InvalidAuthenticationInfo"
            challenge = {"WWW-Authenticate": "Bearer authorization_uri=%s/%s/oauth2/authorize resource_id="
                                             "https://storage.azure.com" % (request.base_url, self.directory.tenant)}
            message = None if code == "NoAuthenticationInformation" else "%s\n%s" % (MESSAGES[code], exc.message)
            raise storage_error(401, code, message, request.method, challenge) from exc

    def _container(self, request, account, container):
        self._authenticate(request)
        blobs = self.containers.get((account.lower(), container))
        if blobs is None:
            raise storage_error(404, "ContainerNotFound", method=request.method)
        return blobs

    def _write_allowed(self, request, account):
        if self.readers.get(account.lower()):
            raise storage_error(403, "AuthorizationPermissionMismatch", method=request.method)

    @staticmethod
    def _headers(blob, extra=None):
        headers = {"ETag": blob["etag"], "Last-Modified": http_date(blob["modified"]), "x-ms-version": VERSION}
        headers.update(extra or {})
        return headers

    @staticmethod
    def _match(etag, header):
        wanted = [value.strip() for value in (header or "").split(",") if value.strip()]
        return "*" in wanted or any(value.strip('"') == etag.strip('"') for value in wanted)

    def _conditions(self, request, blob, write):
        """Apply If-Match / If-None-Match to ``blob`` (None: absent). Raises the service's answer."""
        if_match = request.headers.get("If-Match")
        if_none = request.headers.get("If-None-Match")
        if if_match is not None and (blob is None or not self._match(blob["etag"], if_match)):
            raise storage_error(412, "ConditionNotMet", method=request.method)
        if if_none is not None and blob is not None and self._match(blob["etag"], if_none):
            if not write:
                raise ArmError(304, "NotModified", "", headers=self._headers(blob), body=None)
            if if_none.strip() == "*":
                raise storage_error(409, "BlobAlreadyExists", method=request.method)
            raise storage_error(412, "ConditionNotMet", method=request.method)

    # ------------------------------------------------------------------ operations
    def put_blob(self, request, account, container, blob):
        with self.lock:
            blobs = self._container(request, account, container)
            if not request.headers.get("x-ms-blob-type"):
                raise storage_error(400, "MissingRequiredHeader", method=request.method,
                                    headers={})
            self._write_allowed(request, account)
            current = blobs.get(blob)
            self._conditions(request, current, write=True)
            now = time.time()
            data = request.body or b""
            md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # nosec B324 - Content-MD5 is MD5 by definition
            blobs[blob] = {"data": data, "etag": self._etag(), "modified": now,
                           "created": current["created"] if current else now, "md5": md5,
                           "content_type": request.headers.get("x-ms-blob-content-type") or "application/octet-stream"}
            extra = {"Content-MD5": md5, "x-ms-request-server-encrypted": "true"}
            return Response(201, None, self._headers(blobs[blob], extra))

    def _properties(self, stored):
        return {"Content-Type": stored["content_type"], "Content-MD5": stored["md5"], "x-ms-blob-type": "BlockBlob",
                "x-ms-creation-time": http_date(stored["created"]), "x-ms-lease-status": "unlocked",
                "x-ms-lease-state": "available", "x-ms-server-encrypted": "true", "Accept-Ranges": "bytes"}

    def get_blob(self, request, account, container, blob):
        with self.lock:
            blobs = self._container(request, account, container)
            stored = blobs.get(blob)
            if stored is None:
                raise storage_error(404, "BlobNotFound", method=request.method)
            self._conditions(request, stored, write=False)
            stored = dict(stored)
        data = stored["data"]
        headers = self._headers(stored, self._properties(stored))
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(data))
            return Response(200, None, headers)
        wanted = request.headers.get("x-ms-range") or request.headers.get("Range")
        match = re.match(r"^bytes=(\d+)-(\d*)$", wanted or "")
        if not match:
            return Response(200, data, headers)
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
        if start >= len(data):
            raise storage_error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.",
                                method=request.method, headers={"Content-Range": "bytes */%d" % len(data)})
        headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
        return Response(206, data[start:end + 1], headers)

    def delete_blob(self, request, account, container, blob):
        with self.lock:
            blobs = self._container(request, account, container)
            self._write_allowed(request, account)
            stored = blobs.get(blob)
            if stored is None:
                raise storage_error(404, "BlobNotFound", method=request.method)
            self._conditions(request, stored, write=True)
            del blobs[blob]
        return Response(202, None, {"x-ms-delete-type-permanent": "true", "x-ms-version": VERSION})

    def list_blobs(self, request, account, container):
        if request.query.get("restype") != "container" or request.query.get("comp") != "list":
            raise storage_error(400, "InvalidQueryParameterValue", method=request.method)
        prefix = request.query.get("prefix") or ""
        marker = request.query.get("marker") or ""
        try:
            limit = int(request.query.get("maxresults") or 5000)
        except ValueError:
            limit = 0
        if limit < 1:
            raise storage_error(400, "InvalidQueryParameterValue", method=request.method)
        with self.lock:
            blobs = self._container(request, account, container)
            names = sorted(name for name in blobs if name.startswith(prefix) and name >= marker)
            page, rest = names[:limit], names[limit:]
            entries = [(name, dict(blobs[name])) for name in page]
        parts = ['<?xml version="1.0" encoding="utf-8"?>',
                 '<EnumerationResults ServiceEndpoint="%s/%s/" ContainerName="%s">' % (
                     escape(request.base_url), escape(account), escape(container))]
        if prefix:
            parts.append("<Prefix>%s</Prefix>" % escape(prefix))
        if marker:
            parts.append("<Marker>%s</Marker>" % escape(marker))
        if request.query.get("maxresults"):
            parts.append("<MaxResults>%d</MaxResults>" % limit)
        parts.append("<Blobs>")
        for name, stored in entries:
            parts.append(
                "<Blob><Name>%s</Name><Properties><Creation-Time>%s</Creation-Time><Last-Modified>%s</Last-Modified>"
                "<Etag>%s</Etag><Content-Length>%d</Content-Length><Content-Type>%s</Content-Type><Content-Encoding />"
                "<Content-Language /><Content-CRC64 /><Content-MD5>%s</Content-MD5><Cache-Control /><Content-Disposition />"
                "<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>"
                "<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>"
                "</Properties><OrMetadata /></Blob>" % (
                    escape(name), http_date(stored["created"]), http_date(stored["modified"]), stored["etag"].strip('"'),
                    len(stored["data"]), escape(stored["content_type"]), stored["md5"]))
        parts.append("</Blobs>")
        parts.append("<NextMarker>%s</NextMarker>" % escape(rest[0]) if rest else "<NextMarker />")
        parts.append("</EnumerationResults>")
        return Response(200, "".join(parts).encode("utf-8"), {"Content-Type": "application/xml", "x-ms-version": VERSION})

    # ------------------------------------------------------------------ lab side
    def state(self):
        """``{"<account>/<container>": {blob: {"text", "etag"}}}``."""
        with self.lock:
            return {"%s/%s" % key: {name: {"text": b["data"].decode("utf-8", "replace"), "etag": b["etag"]}
                                    for name, b in sorted(blobs.items())}
                    for key, blobs in sorted(self.containers.items())}

    def path_regex(self):
        """The paths this service answers (the faults' and the server's XML errors use it)."""
        return r"^/(?:%s)/" % "|".join(re.escape(a) for a in self.accounts) if self.accounts else r"^$"

    def register(self, router):
        accounts = "|".join(re.escape(a) for a in self.accounts) or "(?!)"
        container = r"/(?P<account>%s)/(?P<container>[^/]+)" % accounts
        router.add("GET", container, self.list_blobs, arm=False)
        for method, handler in (("PUT", self.put_blob), ("GET", self.get_blob), ("HEAD", self.get_blob),
                                ("DELETE", self.delete_blob)):
            router.add(method, container + r"/(?P<blob>.+)", handler, arm=False)
