# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that a response deserialised into an SDK "hybrid" model left nothing unknown."""


def _fields(cls):
    return {rf._rest_name: attr for attr, rf in cls._attr_to_rest_field.items()}  # pylint: disable=protected-access


def unknown_keys(model, path="$"):
    """Every raw key that is not a rest_field of its (resolved) model class, recursively."""
    problems = []
    fields = _fields(type(model))
    for key in list(model.keys()):
        if key not in fields:
            problems.append("%s.%s (not a field of %s)" % (path, key, type(model).__name__))
            continue
        problems.extend(_walk(getattr(model, fields[key]), "%s.%s" % (path, key)))
    return problems


def _walk(value, path):
    if hasattr(type(value), "_attr_to_rest_field"):
        return unknown_keys(value, path)
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _walk(v, "%s[%d]" % (path, i))]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _walk(v, "%s[%s]" % (path, k))]
    return []


def assert_known(*models):
    problems = [p for m in models for p in unknown_keys(m, "$" + type(m).__name__)]
    assert not problems, "\n".join(problems)
