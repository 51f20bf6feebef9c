# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load the recorded Azure Site Recovery bodies of ``tests/recorded/asr/`` (provenance in its README.md).

Two file shapes live there:

* corpus files: ``{"_source": {recording, commit, entry, request, status, headers, recorded, note, ...}, "body": ...}``;
* the copies of the shared fixtures (``SHARED``): the body's own keys beside ``"_source": "<text>"``, and for the
  202 files ``request``/``status``/``headers``/``body`` beside it.

``load`` hides the difference: it returns ``(body, source)`` with ``source`` always a dict (a shared copy's text is
under ``"text"``, its request/status/headers under the same keys as in corpus files).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import pathlib

DIRECTORY = pathlib.Path(__file__).resolve().parent / "asr"

# copies of /shared/fixtures/asr-recorded (names and _source kept; subscription GUIDs replaced as everywhere here)
SHARED = frozenset((
    "container_mappings_list.V2ATestFailback",
    "container_mappings_list.modernized.TestV2ARCMFailback",
    "containers_list.V2ATestFailback",
    "fabric_get.InMageRcm.TestV2ARCMFailback",
    "fabrics_list.V2ATestFailback",
    "item_get.InMage.replicating_to_onprem.V2ATestFailback",
    "item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback",
    "items_list.V2ATestFailback.before_failover",
    "items_list.modernized.TestV2ARCMFailback",
    "job.commit.inprogress.V2ATestFailback",
    "job.commit.notstarted_first_poll.V2ATestFailback",
    "job.commit.succeeded.V2ATestFailback",
    "job.failback_failover.inprogress_first_poll.V2ATestFailback",
    "job.failback_failover.inprogress_mid.V2ATestFailback",
    "job.failback_failover.succeeded.V2ATestFailback",
    "job.modernized_planned_failover.inprogress.TestV2ARCMFailback",
    "lro_202.failoverCommit.V2ATestFailback",
    "lro_202.plannedFailover.modernized.TestV2ARCMFailback",
    "lro_202.unplannedFailover.V2ATestFailback",
    "policies.classic.V2ATestFailback",
    "policies.modernized.TestV2ARCMFailback",
))
_ENVELOPE = ("request", "status", "headers")


def path(name: str) -> pathlib.Path:
    """The file of ``name`` (with or without ``.json``); KeyError when there is none."""
    stem = name[:-5] if name.endswith(".json") else name
    found = DIRECTORY / (stem + ".json")
    if not found.is_file():
        raise KeyError("no recorded body named %r in %s" % (stem, DIRECTORY))
    return found


def names(pattern: str = "*") -> list[str]:
    """Sorted names (file names without ``.json``) matching the shell-style ``pattern``."""
    return sorted(p.stem for p in DIRECTORY.glob("*.json") if fnmatch.fnmatchcase(p.stem, pattern))


def raw(name: str) -> dict:
    """The parsed file, as stored."""
    with path(name).open(encoding="utf-8") as handle:
        return json.load(handle)


def load(name: str) -> tuple[object, dict]:
    """``(body, source)`` of one recorded response; both are fresh copies the caller may change.

    ``body`` is what the service sent, parsed (``""`` for the empty body of a 202)."""
    data = raw(name)
    source = data["_source"]
    if isinstance(source, dict):
        return copy.deepcopy(data["body"]), copy.deepcopy(source)
    meta = {"text": source}
    if "body" in data and all(key in data for key in _ENVELOPE):  # a shared 202 file
        meta.update({key: copy.deepcopy(data[key]) for key in _ENVELOPE})
        return copy.deepcopy(data["body"]), meta
    return {key: copy.deepcopy(value) for key, value in data.items() if key != "_source"}, meta
