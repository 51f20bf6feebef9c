# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The recorded bodies of tests/recorded/asr (the live service, see its README) as the SDK builds them.

Models come from the SDK's own deserializer (``_deserialize``, what ``replication_protected_items.get`` and the
list pagers call on a response), so enum-typed fields arrive as SDK enums exactly as in a real run."""

from azure.mgmt.recoveryservicessiterecovery import models
from azure.mgmt.recoveryservicessiterecovery._utils.model_base import _deserialize

from ansible_collections.siterecovery.failback.tests.recorded import asr

KINDS = {"item": models.ReplicationProtectedItem, "fabric": models.Fabric, "job": models.Job,
         "plan": models.RecoveryPlan, "vcenter": models.VCenter, "policy": models.Policy,
         "mapping": models.ProtectionContainerMapping, "container": models.ProtectionContainer}


def sdk(kind, body):
    """One SDK model of ``kind`` (a key of KINDS) from a response body."""
    return _deserialize(KINDS[kind], body)


def bodies(name):
    """The resource bodies of one recorded file: the ``value`` of a list, else the body itself."""
    body, _source = asr.load(name)
    return list(body["value"]) if isinstance(body, dict) and "value" in body else [body]


def models_of(kind, name):
    return [sdk(kind, body) for body in bodies(name)]


def one(kind, name, friendly=None):
    """The model of ``name`` (the one whose friendlyName is ``friendly`` in a list)."""
    found = [m for m in models_of(kind, name)
             if friendly is None or m.properties.get("friendlyName") == friendly]
    assert len(found) == 1, (name, friendly, len(found))
    return found[0]


def body(name, friendly=None):
    """A recorded resource body (a fresh copy), by friendlyName in a list."""
    found = [b for b in bodies(name) if friendly is None or b["properties"].get("friendlyName") == friendly]
    assert len(found) == 1, (name, friendly, len(found))
    return found[0]


def source(name):
    return asr.load(name)[1]
