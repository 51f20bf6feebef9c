# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads of one Recovery Services vault, each made once per run and cached.

A whole vault's items come from one (paged) list call; the items a module acts on or reports are
then read again with a GET each, because the list leaves their provider details empty (no disks,
consistency points, retention window, OS or master target: tests/recorded/asr, fact 2). Those
GETs run concurrently, at most ``MAX_PARALLEL_READS`` at once, and only for the items selected.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import ids
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError, from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.values import plain

MAX_PARALLEL_READS = 8


def parallel(func, args, limit=MAX_PARALLEL_READS):
    """``[func(a) for a in args]`` with at most ``limit`` calls at once, results in order; the first error raises."""
    args = list(args)
    if len(args) <= 1:
        return [func(a) for a in args]
    with ThreadPoolExecutor(max_workers=min(limit, len(args))) as pool:
        return list(pool.map(func, args))


class Vault:
    def __init__(self, session, resource_group, name):
        self.session = session
        self.resource_group = resource_group
        self.name = name
        self._cache = {}

    @property
    def client(self):
        return self.session.site_recovery

    def _cached(self, key, action, read):
        if key not in self._cache:
            try:
                self._cache[key] = read()
            except AzureError:
                raise
            except Exception as exc:  # pylint: disable=broad-except  # one readable error per read
                raise from_exception(exc, action, "vault %s/%s" % (self.resource_group, self.name)) from exc
        return self._cache[key]

    def forget(self, *keys):
        """Drop cached reads; forgetting ``items`` drops the items' GETs too."""
        for key in keys or list(self._cache):
            self._cache.pop(key, None)
            if key == "items":
                for cached in [k for k in self._cache if k.startswith("item/")]:
                    self._cache.pop(cached, None)

    def fabrics(self):
        return self._cached("fabrics", "list the fabrics of",
                            lambda: list(self.client.replication_fabrics.list(self.resource_group, self.name)))

    def vmware_fabrics(self):
        return [f for f in self.fabrics() if plain(getattr(getattr(f.properties, "custom_details", None), "instance_type",
                                                           None)) in ("VMware", "InMageRcm")]

    def vcenters(self):
        return self._cached("vcenters", "list the vCenters of",
                            lambda: list(self.client.replicationv_centers.list(self.resource_group, self.name)))

    def items(self):
        return self._cached("items", "list the protected items of",
                            lambda: list(self.client.replication_protected_items.list(self.resource_group, self.name)))

    def plans(self):
        return self._cached("plans", "list the recovery plans of",
                            lambda: list(self.client.replication_recovery_plans.list(self.resource_group, self.name)))

    def policies(self):
        return self._cached("policies", "list the replication policies of",
                            lambda: list(self.client.replication_policies.list(self.resource_group, self.name)))

    def mappings(self, fabric, container):
        key = "mappings/%s/%s" % (fabric, container)
        return self._cached(key, "list the container mappings of", lambda: list(
            self.client.replication_protection_container_mappings.list_by_replication_protection_containers(
                self.resource_group, self.name, fabric, container)))

    def recovery_points(self, item):
        fabric, container, name = ids.item_path(item.id)
        return self._cached("points/%s" % name, "list the recovery points of item %s in" % name, lambda: list(
            self.client.recovery_points.list_by_replication_protected_items(
                self.resource_group, self.name, fabric, container, name)))

    def item(self, arm_id):
        """The protected item's GET (cached): the only read that carries its full provider details."""
        fabric, container, name = ids.item_path(arm_id)
        return self._cached("item/%s" % (arm_id or "").lower(), "read protected item %s in" % name, lambda: (
            self.client.replication_protected_items.get(self.resource_group, self.name, fabric, container, name)))

    def read_items(self, listed):
        """The GET of each listed item (models of ``items()``), in the same order, at most 8 at once."""
        return parallel(lambda model: self.item(model.id), listed)

    def plan(self, name):
        for plan in self.plans():
            if plan.name == name or getattr(plan.properties, "friendly_name", None) == name:
                return plan
        raise AzureError("Recovery plan %s was not found in vault %s/%s (plans: %s)." % (
            name, self.resource_group, self.name, ", ".join(sorted(p.name for p in self.plans())) or "none"),
            plan=name, rule="plan_not_found")
