# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scripted azure-core transport: the real SDK pipeline runs, answers come from a list."""

import io
import json

import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._requests_basic import RestRequestsTransportResponse


def scripted_response(request, status, headers=None, body=None):
    """A real azure-core REST response over a real requests.Response, without a network."""
    raw = requests.Response()
    raw.status_code = status
    raw.headers.update(headers or {})
    raw.reason = "scripted"
    raw.raw = io.BytesIO(json.dumps(body).encode() if body is not None else b"")
    raw.headers.setdefault("Content-Type", "application/json")
    raw.url = request.url
    return RestRequestsTransportResponse(request=request, internal_response=raw)


class ScriptedTransport(HttpTransport):
    """Each send() pops the next answer: (status, headers, body) or an exception to raise."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def send(self, request, **kwargs):
        self.requests.append((request.method, request.url))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return scripted_response(request, status, headers, body)

    def open(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass


class RecordingTransport(ScriptedTransport):
    """ScriptedTransport that also keeps each request, to check its body."""

    def __init__(self, answers):
        super().__init__(answers)
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        return super().send(request, **kwargs)


class StaticCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("token", 4102444800)

    def get_token_info(self, *scopes, **kwargs):
        from azure.core.credentials import AccessTokenInfo
        return AccessTokenInfo("token", 4102444800)
