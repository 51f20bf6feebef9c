# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A logged-in vSphere session: the service content, read helpers and call counters."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import properties


class VSphereClient:
    """Wraps a pyVmomi ServiceInstance.

    stats counts round trips by kind so tests and benchmarks can prove that the
    number of reads does not grow with the number of VMs.
    """

    def __init__(self, service_instance, hostname=None):
        self.si = service_instance
        self.hostname = hostname
        self.content = service_instance.RetrieveContent()
        self.about = self.content.about
        self.stats = {"property_reads": 0, "tasks": 0}

    @property
    def api_type(self):
        """'VirtualCenter' for vCenter, 'HostAgent' for a standalone ESXi host."""
        return self.about.apiType

    @property
    def is_vcenter(self):
        return self.api_type == "VirtualCenter"

    def retrieve(self, obj_type, paths, objects=None, container=None):
        """Read paths of every obj_type (or of objects) in one property-collector call.

        Returns a list of dicts: {"obj": moref, "moid": str, "<path>": value, ...}.
        """
        self.stats["property_reads"] += 1
        return properties.retrieve(self.content, obj_type, paths, objects=objects, container=container)

    def server_time(self):
        return self.si.CurrentTime()

    def session_user(self):
        session = properties.retrieve(self.content, None, ["currentSession"], objects=[self.content.sessionManager])
        self.stats["property_reads"] += 1
        current = session[0].get("currentSession") if session else None
        return getattr(current, "userName", None)

    def disconnect(self):
        try:
            self.content.sessionManager.Logout()
        except Exception:  # pylint: disable=broad-except  # logging out is best effort
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.disconnect()
