# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which on-premises VM is the one Site Recovery fails back: one decision for preflight, master_target_disks,
onprem_vm and the commit gate (plain data in, the VM or a refusal out).

Facts (docs/recorded-behaviour.md): a modernized item (InMageRcm, InMageRcmFailback) names its VM's vCenter instance
UUID (``asr.items.recorded_instance_uuid``); a classic item (InMageAzureV2, InMage) records none - its
``infrastructureVmId`` is an id the configuration server mints, not ``config.instanceUuid`` - so a classic VM is
known by its name only, and two VMs of that name cannot be told apart.

The rule:

1. A VM that carries the instance UUID Site Recovery records (or the user gives) is the VM, whatever its name; the
   other VMs of the name are reported (``others``), never touched.
2. Otherwise (no UUID recorded, or no VM carries it) the one VM of the name is the VM.
3. Several VMs of the name and none carries the UUID: refused, naming every candidate (folder, .vmx, instance UUID,
   host, power state) and the fix. A refusal never advises an alternate location: that would create one more VM of
   the name.
"""

from __future__ import annotations

FOUND_BY_UUID = "instance_uuid"
FOUND_BY_NAME = "name"
NOT_FOUND = "not_found"
AMBIGUOUS = "ambiguous"


def norm_uuid(value):
    """A UUID compared as vSphere and Site Recovery write it: lower case, with or without dashes."""
    return str(value or "").replace("-", "").strip().lower()


class Resolution:
    """What :func:`resolve` decided.

    ``how``: :data:`FOUND_BY_UUID`, :data:`FOUND_BY_NAME`, :data:`NOT_FOUND` or :data:`AMBIGUOUS`; ``vm``: the
    chosen candidate (None unless found); ``same_name``: every candidate called ``name``; ``others``: candidates
    called ``name`` that are not the chosen VM (reported, never touched); ``uuid``: the instance UUID looked for
    (None: by name only); ``uuid_missing``: a UUID was looked for and no VM carries it."""

    def __init__(self, name, how, vm, same_name, uuid):
        self.name, self.how, self.vm, self.same_name, self.uuid = name, how, vm, same_name, uuid
        self.others = [c for c in same_name if vm is None or c["moid"] != vm["moid"]] if how != AMBIGUOUS else []
        self.uuid_missing = bool(uuid) and how != FOUND_BY_UUID

    @property
    def found(self):
        return self.vm is not None

    def refusal(self, fix=None, prefix=True):
        """The sentence refusing an ambiguous name (None for any other outcome): the name, every candidate and the
        fix. ``fix``: how the caller's user names the right VM (e.g. "give its instance UUID as instance_uuid");
        ``prefix``: start with "VM <name>: " (False when the caller's sentence names the VM already)."""
        if self.how != AMBIGUOUS:
            return None
        if self.uuid:
            why = "none of them carries the instance UUID %s that identifies the VM" % self.uuid
        else:
            why = ("Site Recovery records no instance UUID for a classic (InMage/InMageAzureV2) VM, so the VM it fails "
                   "back cannot be told from the others")
        remedy = "Rename or remove the stale copy (keep the VM Site Recovery protects)"
        remedy += ", or %s," % fix if fix else ","
        text = "%d VMs have that name and %s: %s. Nothing was changed. %s and re-run." % (
            len(self.same_name), why, "; ".join(describe(c) for c in self.same_name), remedy)
        return ("VM %s: %s" % (self.name, text)) if prefix else text

    def warning(self):
        """The sentence reporting the other VMs of the name when the VM was found (None when there are none)."""
        if self.vm is None or not self.others:
            return None
        how = ("by the instance UUID %s" % self.uuid) if self.how == FOUND_BY_UUID else "by its name"
        return ("VM %s was identified %s (%s); %s of the same name %s left alone: %s. Rename or remove %s when %s "
                "stale." % (self.name, how, describe(self.vm), "another VM" if len(self.others) == 1 else
                            "%d other VMs" % len(self.others), "is" if len(self.others) == 1 else "are",
                            "; ".join(describe(c) for c in self.others), "it" if len(self.others) == 1 else "them",
                            "it is" if len(self.others) == 1 else "they are"))


def describe(candidate):
    """One candidate as the messages name it: ``vm-12 (folder DC1/vm/Restored, [ds] app01/app01.vmx, instance UUID
    5003..., host esx02.lab, poweredOff)`` - MOID, then each of folder, .vmx, instance UUID, host and power state
    that is known."""
    parts = [("folder %s" % candidate["folder"]) if candidate.get("folder") else None, candidate.get("vmx"),
             "instance UUID %s" % (candidate.get("instance_uuid") or "(none)"),
             ("host %s" % candidate["host"]) if candidate.get("host") else None, candidate.get("power_state")]
    return "%s (%s)" % (candidate.get("moid"), ", ".join(p for p in parts if p))


def resolve(name, candidates, instance_uuid=None):
    """The VM called ``name`` - or carrying ``instance_uuid`` - among ``candidates``.

    ``candidates``: every VM of the vSphere server that is not a template, each a dict ``{moid, name,
    instance_uuid, folder, vmx, host, power_state}`` (plus anything the caller keeps in it, e.g. its property
    row); ``instance_uuid``: the UUID Site Recovery records (modernized items) or the user gives, else None.
    Returns a :class:`Resolution` (see the module docstring for the rule); raises nothing."""
    same_name = sorted((c for c in candidates if c.get("name") == name), key=lambda c: str(c.get("moid")))
    wanted = norm_uuid(instance_uuid)
    if wanted:
        carrying = [c for c in candidates if norm_uuid(c.get("instance_uuid")) == wanted]
        if len(carrying) == 1:
            return Resolution(name, FOUND_BY_UUID, carrying[0], same_name, instance_uuid)
    uuid = instance_uuid if wanted else None
    if len(same_name) == 1:
        return Resolution(name, FOUND_BY_NAME, same_name[0], same_name, uuid)
    if not same_name:
        return Resolution(name, NOT_FOUND, None, same_name, uuid)
    return Resolution(name, AMBIGUOUS, None, same_name, uuid)
