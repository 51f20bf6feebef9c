#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vsphere_connection_info
short_description: Check the connection to vCenter or a standalone ESXi host
version_added: 0.1.0
description:
  - Logs in with the connection options and reports what answered - vCenter or a standalone ESXi
    host, its product version and API version, the session user and the clock skew between the
    server and the controller.
  - Run it first in a failback runbook; it fails with a message that names the option to fix
    (credentials, TLS trust, host or port) before anything else is attempted.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.vsphere
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_VSPHERE
options: {}
"""

EXAMPLES = r"""
- name: Check that vCenter answers with a trusted certificate
  siterecovery.failback.vsphere_connection_info:
    hostname: vcenter.example.com
    username: failback@vsphere.local
    password: "{{ vcenter_password }}"
    ca_file: /etc/pki/vcenter-ca.pem
  register: vcenter

- name: Same check with the credentials set once for the whole play
  module_defaults:
    group/siterecovery.failback.vsphere:
      hostname: vcenter.example.com
      username: failback@vsphere.local
      password: "{{ vcenter_password }}"
  block:
    - name: Connect
      siterecovery.failback.vsphere_connection_info:
      register: vcenter

    - name: Stop when the server clock is off by more than 5 minutes
      ansible.builtin.assert:
        that: vcenter.clock_skew_seconds | abs < 300
        fail_msg: "vCenter clock is {{ vcenter.clock_skew_seconds }} s off the controller's."
"""

RETURN = r"""
server:
  description: What answered at O(hostname).
  returned: success
  type: dict
  contains:
    hostname:
      description: The host name connected to.
      type: str
      sample: vcenter.example.com
    port:
      description: The port connected to.
      type: int
      sample: 443
    api_type:
      description: V(VirtualCenter) for vCenter Server, V(HostAgent) for a standalone ESXi host.
      type: str
      sample: VirtualCenter
    is_vcenter:
      description: Whether the server is a vCenter Server.
      type: bool
      sample: true
    name:
      description: Product name.
      type: str
      sample: VMware vCenter Server
    full_name:
      description: Product name with version and build.
      type: str
      sample: VMware vCenter Server 8.0.2 build-22617221
    version:
      description: Product version.
      type: str
      sample: 8.0.2
    build:
      description: Build number.
      type: str
      sample: "22617221"
    api_version:
      description: vSphere API version.
      type: str
      sample: 8.0.2.0
    instance_uuid:
      description: The vCenter instance UUID (empty for ESXi).
      type: str
      sample: 5b1c3a2e-0d0e-4d8b-9d7a-1f2e3d4c5b6a
session_user:
  description: The user of the session, as the server reports it.
  returned: success
  type: str
  sample: VSPHERE.LOCAL\failback
server_time:
  description: The server's clock (ISO 8601, UTC).
  returned: success
  type: str
  sample: "2026-11-26T07:30:00.123000+00:00"
clock_skew_seconds:
  description: Server time minus controller time, in seconds (positive when the server is ahead).
  returned: success
  type: float
  sample: 0.42
tls:
  description: How the server's identity was established.
  returned: success
  type: dict
  contains:
    verified:
      description: Whether the certificate was verified (by a CA or a pinned thumbprint).
      type: bool
      sample: true
    method:
      description: V(system_ca), V(ca_file), V(thumbprint) or V(none).
      type: str
      sample: ca_file
property_reads:
  description: Property-collector round trips the module made.
  returned: success
  type: int
  sample: 1
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 0.31
"""

import datetime

from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def tls_method(params):
    if not params["validate_certs"]:
        return "none"
    if params["thumbprint"]:
        return "thumbprint"
    return "ca_file" if params["ca_file"] else "system_ca"


def gather(module):
    client = module.vsphere()
    about = client.about
    before = datetime.datetime.now(datetime.timezone.utc)
    server_time = client.server_time()
    after = datetime.datetime.now(datetime.timezone.utc)
    if server_time.tzinfo is None:
        server_time = server_time.replace(tzinfo=datetime.timezone.utc)
    midpoint = before + (after - before) / 2
    method = tls_method(module.params)
    return {
        "changed": False,
        "server": {
            "hostname": module.params["hostname"], "port": module.params["port"],
            "api_type": about.apiType, "is_vcenter": client.is_vcenter, "name": about.name,
            "full_name": about.fullName, "version": about.version, "build": about.build,
            "api_version": about.apiVersion, "instance_uuid": about.instanceUuid or "",
        },
        "session_user": client.session_user(),
        "server_time": server_time.isoformat(),
        "clock_skew_seconds": round((server_time - midpoint).total_seconds(), 3),
        "tls": {"verified": method != "none", "method": method},
        "property_reads": client.stats["property_reads"],
    }


def main():
    module = FailbackModule({}, vsphere=True, supports_check_mode=True)
    module.run(gather)


if __name__ == "__main__":
    main()
