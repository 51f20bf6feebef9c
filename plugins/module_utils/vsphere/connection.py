# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connect to vCenter or a standalone ESXi host with pyVmomi, TLS verified by default."""

from __future__ import annotations

import hashlib
import re
import ssl
from dataclasses import dataclass

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import sdk
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.client import VSphereClient
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError, from_exception


@dataclass
class ConnectionParams:
    hostname: str = None
    username: str = None
    password: str = None
    port: int = 443
    validate_certs: bool = True
    ca_file: str = None
    thumbprint: str = None
    timeout: int = 60

    def __repr__(self):  # never show the password in a traceback or a log
        return "ConnectionParams(hostname=%r, username=%r, port=%r, validate_certs=%r)" % (
            self.hostname, self.username, self.port, self.validate_certs)


_HEX = re.compile(r"^[0-9a-f]+$")


def normalize_thumbprint(value):
    """'AA:bb:..' -> 'aabb..'; SHA-1, SHA-256 or SHA-512 hex digests only."""
    digest = re.sub(r"[:\s-]", "", value or "").lower()
    if len(digest) not in (40, 64, 128) or not _HEX.match(digest):
        raise VSphereError(
            "thumbprint %r is not a SHA-1, SHA-256 or SHA-512 hex digest of the server certificate "
            "(e.g. 'AB:CD:...' from 'openssl x509 -fingerprint -sha256')." % (value,), option="thumbprint")
    return digest


class ThumbprintMismatchError(ssl.SSLError):
    """The server's certificate is not the pinned one."""


class PinnedContext(ssl.SSLContext):
    """A TLS context that accepts exactly one certificate: the one whose digest is pinned.

    The digest is checked after every handshake, so every connection pyVmomi opens (the
    version probe, the login, each later request) is pinned, not only the first one.
    """

    pinned = None

    def check_certificate(self, der_cert):
        algorithm = {40: hashlib.sha1, 64: hashlib.sha256, 128: hashlib.sha512}[len(self.pinned)]
        actual = algorithm(der_cert).hexdigest()
        if actual != self.pinned:
            raise ThumbprintMismatchError("expected %s, got %s" % (self.pinned, actual))

    def wrap_socket(self, *args, **kwargs):
        tls = super().wrap_socket(*args, **kwargs)
        try:
            self.check_certificate(tls.getpeercert(binary_form=True))
        except Exception:
            tls.close()
            raise
        return tls


def tls_warning(hostname, validate_certs, thumbprint=None):
    """The warning every run prints while TLS verification of vCenter / ESXi is off, else None.

    Off means ``validate_certs`` false without a ``thumbprint`` (a thumbprint pins the certificate: verified). AWX's
    "VMware vCenter" credential injects ``VMWARE_VALIDATE_CERTS=False`` unless told otherwise, so a job template runs
    unverified by default; the message says how to turn verification on, in each place the value can come from."""
    if validate_certs or thumbprint:
        return None
    return ("TLS verification of %s is OFF (validate_certs false, e.g. VMWARE_VALIDATE_CERTS=False, which AWX's VMware "
            "vCenter credential injects by default): any server that answers at that address gets the vCenter password "
            "and is trusted with the failback. Turn it on: validate_certs true (VMWARE_VALIDATE_CERTS=True, or in the "
            "collection's playbooks the extra variable failback_vcenter_validate_certs=true, which overrides the "
            "credential), with the vCenter's CA in ca_file (VMWARE_CA_FILE, or failback_vcenter_ca_file) unless the "
            "system trusts it, or pin the certificate with thumbprint (VMWARE_THUMBPRINT). See docs/credentials.md."
            % (hostname or "vCenter"))


def ssl_context(params):
    """The TLS context for ``params``: verified against the system store or ``ca_file``,
    pinned to ``thumbprint``, or (``validate_certs: false``) not verified at all."""
    if params.thumbprint:
        context = PinnedContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.pinned = normalize_thumbprint(params.thumbprint)
        return context
    if not params.validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=params.ca_file) if params.ca_file else ssl.create_default_context()


def connect(params, smart_connect=None):
    """Log in and return a :class:`VSphereClient`; raises :class:`VSphereError` with a readable message."""
    sdk.require_pyvmomi()
    missing = [name for name in ("hostname", "username", "password") if not getattr(params, name)]
    if missing:
        env = {"hostname": "VMWARE_HOST", "username": "VMWARE_USER", "password": "VMWARE_PASSWORD"}
        raise VSphereError("Missing vSphere connection option(s) %s: set them as module options, in "
                           "module_defaults for group/siterecovery.failback.vsphere, or as %s."
                           % (", ".join(missing), ", ".join(env[m] for m in missing)), missing=missing)
    smart_connect = smart_connect or sdk.pyvim_connect.SmartConnect
    try:
        si = smart_connect(host=params.hostname, port=params.port, user=params.username, pwd=params.password,
                           sslContext=ssl_context(params), httpConnectionTimeout=params.timeout)
    except Exception as exc:  # pylint: disable=broad-except  # every failure becomes one readable VSphereError
        raise from_exception(exc, "log in to", "%s:%s as %s" % (params.hostname, params.port, params.username)) from exc
    return VSphereClient(si, hostname=params.hostname)
