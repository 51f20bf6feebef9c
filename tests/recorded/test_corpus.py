# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The recorded corpus stays loadable, traceable and sanitized (asr/README.md says what each file is)."""

import json
import re

import pytest

from . import asr

RECORDINGS = "src/RecoveryServices/RecoveryServices.SiteRecovery.Test/SessionRecords/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALL = asr.names()
CORPUS = [name for name in ALL if name not in asr.SHARED]
SUBSCRIPTION = re.compile(r"subscriptions/([0-9a-f-]{36})", re.I)
PLACEHOLDER = re.compile(r"00000000-0000-0000-0000-0000000000\d\d")


def test_the_corpus_is_there():
    assert len(ALL) >= 40
    assert not asr.SHARED - set(ALL), sorted(asr.SHARED - set(ALL))


@pytest.mark.parametrize("name", ALL)
def test_every_file_parses_and_loads(name):
    data = asr.raw(name)
    assert "_source" in data
    body, source = asr.load(name)
    assert isinstance(source, dict)
    assert body == "" or isinstance(body, (dict, list))
    assert asr.names(name) == [name]


@pytest.mark.parametrize("name", sorted(asr.SHARED))
def test_shared_copies_keep_their_source_text(name):
    source = asr.raw(name)["_source"]
    assert isinstance(source, str)
    assert "V2ATestFailback" in source or "TestV2ARCMFailback" in source


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_source_is_complete(name):
    source = asr.raw(name)["_source"]
    assert isinstance(source, dict), "a corpus file's _source is an object"
    assert source["recording"].startswith(RECORDINGS) and source["recording"].endswith(".json")
    assert source["recording"].rsplit("/", 1)[1][:-5] in name, "the name ends with the recording"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    entry = source["entry"]
    assert entry is None or isinstance(entry, int)
    if entry is None:
        assert isinstance(source["offset"], int) and source["offset"] >= 0, "an uncounted entry gives its offset"
    method, _space, target = source["request"].partition(" ")
    assert method in METHODS and target.startswith("/")
    assert isinstance(source["status"], int) and 200 <= source["status"] < 600
    assert isinstance(source["headers"], dict)
    for header, values in source["headers"].items():
        assert isinstance(header, str) and isinstance(values, list) and values
        assert all(isinstance(value, str) for value in values)
    assert isinstance(source["recorded"], str) and source["recorded"][:2] == "20"
    assert isinstance(source["note"], str) and len(source["note"]) > 40
    assert "body" in asr.raw(name)


@pytest.mark.parametrize("name", [n for n in CORPUS if asr.raw(n)["_source"]["status"] == 202]
                         + [n for n in sorted(asr.SHARED) if n.startswith("lro_202.")])
def test_accepted_operations_carry_the_polling_headers(name):
    body, source = asr.load(name)
    assert body == ""
    headers = {key.lower(): value for key, value in source["headers"].items()}
    assert headers["retry-after"] == ["30"]
    job = headers["location"][0].rsplit("/operationresults/", 1)[1].split("?", 1)[0]
    assert headers["azure-asyncoperation"][0].split("?", 1)[0].endswith("/replicationOperationStatus/" + job)
    assert headers["x-ms-request-id"]


@pytest.mark.parametrize("name", [n for n in CORPUS if "content_length" in asr.raw(n)["_source"]])
def test_bodies_are_byte_faithful(name):
    """The recorder pretty-printed the wire body; compacted again it has the recorded Content-Length
    (the subscription placeholders keep every GUID's length)."""
    body, source = asr.load(name)
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert len(compact) == source["content_length"]


@pytest.mark.parametrize("name", ALL)
def test_no_real_subscription_ids(name):
    text = asr.path(name).read_text(encoding="utf-8")
    for found in SUBSCRIPTION.findall(text):
        assert PLACEHOLDER.fullmatch(found), found


def test_the_readme_describes_every_file():
    readme = (asr.DIRECTORY / "README.md").read_text(encoding="utf-8")
    missing = [name for name in ALL if name + ".json" not in readme]
    assert not missing, missing


def test_load_returns_copies():
    name = CORPUS[0]
    _body, source = asr.load(name)
    source["note"] = "changed"
    assert asr.load(name)[1]["note"] != "changed"


def test_unknown_names_are_refused():
    with pytest.raises(KeyError):
        asr.load("no.such.recording")
