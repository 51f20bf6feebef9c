# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vSphere faults turned into one exception type with a readable message."""

from __future__ import annotations

import socket
import ssl

from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vmodl


class VSphereError(FailbackError):
    """Anything that went wrong talking to vCenter or ESXi."""

    kind = "vsphere"


def fault_name(fault):
    """The vSphere fault's type name, e.g. 'InvalidLogin' or 'NotFound'."""
    name = type(fault).__name__
    # pyVmomi names its classes 'vim.fault.InvalidLogin'; keep the last part.
    return name.rsplit(".", 1)[-1]


def fault_message(fault):
    """The most useful text a vSphere fault carries."""
    parts = []
    msg = getattr(fault, "msg", None)
    if msg:
        parts.append(str(msg))
    for fmsg in getattr(fault, "faultMessage", None) or []:
        text = getattr(fmsg, "message", None)
        if text and text not in parts:
            parts.append(str(text))
    if not parts:
        parts.append(fault_name(fault))
    return "; ".join(parts)


def from_exception(exc, action, obj=None):
    """Wrap exc (a vSphere fault, TLS or socket error) into :class:`VSphereError`.

    action is a verb phrase ("reconfigure VM"), obj names the object.
    """
    if isinstance(exc, VSphereError):
        return exc
    where = " %s" % obj if obj else ""
    if type(exc).__name__ in ("ThumbprintMismatchError", "ThumbprintMismatchException"):
        return VSphereError(
            "Refusing to %s%s: the server certificate does not match the pinned thumbprint (%s). "
            "If the certificate was replaced on purpose, update thumbprint; otherwise do not connect."
            % (action, where, exc), fault="ThumbprintMismatch", action=action, object=obj)
    if isinstance(exc, ssl.SSLError):
        return VSphereError(
            "Could not %s%s: TLS verification failed (%s). Give the server's CA with ca_file, "
            "pin its certificate with thumbprint, or (lab only) set validate_certs: false." % (action, where, exc),
            fault="SSLError", action=action, object=obj)
    if isinstance(exc, (socket.error, OSError)) and not _is_fault(exc):
        return VSphereError("Could not %s%s: cannot reach the server (%s). Check hostname, port and the network path."
                            % (action, where, exc), fault=type(exc).__name__, action=action, object=obj)
    if _is_fault(exc):
        name = fault_name(exc)
        hint = _HINTS.get(name, "")
        return VSphereError("Could not %s%s: %s (%s)%s" % (action, where, fault_message(exc), name, hint),
                            fault=name, action=action, object=obj)
    return VSphereError("Could not %s%s: %s" % (action, where, exc), fault=type(exc).__name__, action=action, object=obj)


def _is_fault(exc):
    return vmodl is not None and isinstance(exc, vmodl.MethodFault)


_HINTS = {
    "InvalidLogin": ". Check username and password (VMWARE_USER / VMWARE_PASSWORD).",
    "NoPermission": ". The account lacks a privilege on this object; grant it in vCenter.",
    "HostNotConnected": ". Reconnect the ESXi host in vCenter and retry.",
    "InvalidPowerState": ". The VM is in the wrong power state for this operation.",
    "FileNotFound": ". The VMDK is not where vCenter expects it; check the datastore path.",
    "ManagedObjectNotFound": ". The object was removed or its MOID is wrong.",
}
