# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that a response deserialised into an SDK "hybrid" model left nothing unknown, except the keys the live
service itself sends beyond the SDK's models (found in the recordings of tests/recorded/asr, e.g. a list's
``historicHealth`` or ``vCenterFQDN``)."""

import functools

from tests.recorded import asr as recorded


def _fields(cls):
    return {rf._rest_name: attr for attr, rf in cls._attr_to_rest_field.items()}  # pylint: disable=protected-access


def _unknown(model, path="$"):
    """``[(path, key, model class name)]`` for every raw key that is not a rest_field of its (resolved) model class."""
    problems = []
    fields = _fields(type(model))
    for key in list(model.keys()):
        if key not in fields:
            problems.append((path, key, type(model).__name__))
            continue
        problems.extend(_walk(getattr(model, fields[key]), "%s.%s" % (path, key)))
    return problems


def _walk(value, path):
    if hasattr(type(value), "_attr_to_rest_field"):
        return _unknown(value, path)
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _walk(v, "%s[%d]" % (path, i))]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _walk(v, "%s[%s]" % (path, k))]
    return []


def unknown_keys(model, path="$"):
    return ["%s.%s (not a field of %s)" % problem for problem in _unknown(model, path)]


@functools.lru_cache(maxsize=1)
def recorded_unknown():
    """``{(model class name, key)}`` that the recorded bodies themselves carry beyond the SDK's models."""
    from azure.mgmt.recoveryservicessiterecovery import models

    kinds = (("item_get", models.ReplicationProtectedItem), ("items_list", models.ReplicationProtectedItem),
             ("job", models.Job), ("fabric", models.Fabric), ("vcenter", models.VCenter),
             ("containers", models.ProtectionContainer), ("container_mappings", models.ProtectionContainerMapping),
             ("policies", models.Policy), ("recovery_plan", models.RecoveryPlan))
    found = set()
    for name in recorded.names():
        cls = next((c for prefix, c in kinds if name.startswith(prefix)), None)
        if cls is None:
            continue
        body = recorded.load(name)[0]
        for element in (body["value"] if isinstance(body, dict) and "value" in body else [body]):
            found |= {(kind, key) for _path, key, kind in _unknown(cls(element))}
    return frozenset(found)


def assert_known(*models):
    allowed = recorded_unknown()
    problems = ["%s.%s (not a field of %s)" % p for m in models for p in _unknown(m, "$" + type(m).__name__)
                if (p[2], p[1]) not in allowed]
    assert not problems, "\n".join(problems)
