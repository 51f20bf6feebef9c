# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - The vCenter Server or standalone ESXi host to connect to.
      - If not set, the value of E(VMWARE_HOST) is used.
    type: str
  username:
    description:
      - The user to log in as.
      - If not set, the value of E(VMWARE_USER) is used.
    type: str
    aliases: [user]
  password:
    description:
      - The password of O(username).
      - If not set, the value of E(VMWARE_PASSWORD) is used.
    type: str
    aliases: [pass]
  port:
    description:
      - The HTTPS port of the server.
      - If not set, the value of E(VMWARE_PORT) is used.
    type: int
    default: 443
  validate_certs:
    description:
      - Verify the server's TLS certificate against the system trust store or O(ca_file).
      - Set to V(false) only in a lab; a failback moves disks and deletes Azure VMs, so the
        server must be the one you think it is.
      - If not set, the value of E(VMWARE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_file:
    description:
      - A PEM file of the CA (or the certificate itself) that signed the server's certificate,
        used instead of the system trust store.
      - If not set, the value of E(VMWARE_CA_FILE) is used.
    type: path
  thumbprint:
    description:
      - The SHA-1, SHA-256 or SHA-512 fingerprint of the server's certificate (colons optional).
        When the certificate does not verify against a CA, the connection is accepted only if
        the certificate matches this fingerprint.
      - If not set, the value of E(VMWARE_THUMBPRINT) is used.
    type: str
  connection_timeout:
    description:
      - Seconds to wait for the server to answer a request.
      - If not set, the value of E(VMWARE_CONNECTION_TIMEOUT) is used.
    type: int
    default: 60
notes:
  - Works against vCenter Server and standalone ESXi hosts; the result says which one answered.
  - All reads use the vSphere property collector with explicit property paths, in a fixed number
    of round trips whatever the number of objects.
requirements:
  - pyvmomi >= 8.0.1.0
"""
