# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resolve user identifiers (name, MOID or instance UUID) to objects in one read.

The matching is pure (plain dicts), so it is unit-tested without a server.
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import identity
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
VM_PATHS = ("name", "config.instanceUuid", "config.uuid")


def norm_uuid(value):
    """A UUID as :func:`resolve` compares it: lower case, no dashes ("" for none)."""
    return (value or "").replace("-", "").lower()


def _candidate(row):
    """A property row as a ``domain.identity`` candidate, with what the row holds."""
    power = row.get("runtime.powerState")
    return {"moid": row["moid"], "name": row.get("name"), "instance_uuid": row.get("config.instanceUuid"),
            "folder": row.get("folder"), "vmx": row.get("config.files.vmPathName"), "host": row.get("host"),
            "power_state": str(power) if power else None, "row": row}


def resolve(identifiers, rows, kind="VM", uuid_paths=("config.instanceUuid",), candidate=None):
    """Match each identifier against rows (dicts with moid, name and the uuid paths).

    Order of matching: MOID, then UUID (for identifiers shaped like one), then name - a name by
    ``domain.identity.resolve`` (the one rule for names; an ambiguous name is refused naming every VM of it).
    ``candidate(row)``: the row as an identity candidate (folder, host, ...; default: what the row holds).
    Returns (found, problems): found maps identifier -> row, problems lists
    readable messages for identifiers that are unknown or ambiguous.
    """
    candidate = candidate or _candidate
    by_moid = {}
    by_uuid = {}
    for row in rows:
        by_moid[row["moid"]] = row
        for path in uuid_paths:
            if row.get(path):
                by_uuid.setdefault(norm_uuid(row[path]), []).append(row)
    candidates = None
    found = {}
    problems = []
    for ident in identifiers:
        if ident in by_moid:
            found[ident] = by_moid[ident]
            continue
        matches = by_uuid.get(norm_uuid(ident), []) if UUID_RE.match(ident or "") else []
        if len(matches) == 1:
            found[ident] = matches[0]
            continue
        candidates = candidates if candidates is not None else [candidate(row) for row in rows]
        decided = identity.resolve(ident, candidates)
        if decided.found:
            found[ident] = decided.vm["row"]
        elif decided.how == identity.AMBIGUOUS:
            problems.append("%s name '%s' is ambiguous: %d VMs have it: %s. Nothing was changed. Rename or remove the "
                            "stale copy, or give the MOID or instance UUID instead." % (
                                kind, ident, len(decided.same_name),
                                "; ".join(identity.describe(c) for c in decided.same_name)))
        else:
            problems.append("%s '%s' was not found by MOID, instance UUID or name." % (kind, ident))
    return found, problems


def find(client, vim_type, identifiers, paths=(), kind=None, uuid_paths=()):
    """Read paths (plus name) of all objects of vim_type once and resolve identifiers.

    Raises :class:`VSphereError` naming every identifier that cannot be resolved.
    """
    kind = kind or vim_type.__name__.rsplit(".", 1)[-1]
    wanted = list(dict.fromkeys(["name", *list(uuid_paths), *list(paths)]))
    rows = client.retrieve(vim_type, wanted)
    found, problems = resolve(identifiers, rows, kind=kind, uuid_paths=uuid_paths)
    if problems:
        raise VSphereError(" ".join(problems), not_found=[i for i in identifiers if i not in found])
    return found


def find_vms(client, identifiers, paths=()):
    """VMs by name, MOID or instance UUID (BIOS UUID also accepted), one property read."""
    return find(client, vim.VirtualMachine, identifiers, paths=paths, kind="VM",
                uuid_paths=("config.instanceUuid", "config.uuid"))
