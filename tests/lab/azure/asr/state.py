# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vault's state: protected items and their lifecycle stage, recovery points, plans, jobs.

Stages are the README's (spec.STAGES) plus the transient ``reprotecting_to_onprem`` that an
item is in while its reprotect job runs past the prerequisites check. Recovery points of a
replicating item are computed lazily from the clock (see ``points``).
"""

import time
import uuid
from collections.abc import Sequence

from ..compute import iso
from ..server import ArmError, asr_not_found
from .modern import COMMITTED, MODERN_ACCEPTS, MODERN_STAGE_TABLE, PENDING_COMMIT, PROTECTED_FORWARD

# stage -> provider, protectionState, description, activeLocation, allowedOperations: the strings ASR sends
# (tests/recorded/asr, fact 1). Not recorded, the lab's choice: failed_over_to_azure for InMageAzureV2 and
# failed_back for InMage take the recorded InMageRcm pending-commit row; reprotecting_to_onprem is the lab's own.
STAGE_TABLE = {
    "replicating_to_azure": ("InMageAzureV2", *PROTECTED_FORWARD),
    "failed_over_to_azure": ("InMageAzureV2", *PENDING_COMMIT),
    "running_in_azure": ("InMageAzureV2", *COMMITTED),
    "reprotecting_to_onprem": ("InMage", "ReprotectInProgress", "Reprotect in progress", "Primary", []),
    "replicating_to_onprem": ("InMage", "Protected", "Protected", "Primary", ["UnplannedFailover", "DisableProtection"]),
    "failed_back": ("InMage", *PENDING_COMMIT),
    "failback_committed": ("InMage", *COMMITTED),
    "reprotected_to_azure": ("InMageAzureV2", *PROTECTED_FORWARD),
}
# what each stage accepts: ASR accepts a reprotect (SwitchProtection) on an uncommitted failover and commits it first
# (the reprotect job's CommitFailoverTask runs, recorded in lro_202.reProtect.to_azure.InMageRcmFailback...)
ACCEPTS = {
    "replicating_to_azure": {"unplannedFailover"},
    "failed_over_to_azure": {"failoverCommit", "reProtect"},
    "running_in_azure": {"reProtect"},
    "replicating_to_onprem": {"unplannedFailover"},
    "failed_back": {"failoverCommit", "reProtect"},
    "failback_committed": {"reProtect"},
    "reprotected_to_azure": {"unplannedFailover"},
}
REPLICATING = ("replicating_to_azure", "replicating_to_onprem", "reprotected_to_azure")
ONPREM_ON = ("replicating_to_azure", "failed_back", "failback_committed", "reprotected_to_azure")
MAX_GENERATED_POINTS = 500


class World:
    """Everything ASR knows, guarded by one re-entrant lock shared with Compute."""

    def __init__(self, spec, compute, lock):
        self.spec = spec
        self.asr = spec["asr"]
        self.timings = spec["timings"]
        self.compute = compute
        self.lock = lock
        self.loaded = time.time()
        self.vault_id = self.asr["vault_id"]
        self.modernized = self.asr.get("flow") == "modernized"
        self.stage_table = MODERN_STAGE_TABLE if self.modernized else STAGE_TABLE
        self.accepts = MODERN_ACCEPTS if self.modernized else ACCEPTS
        self.forward_provider, self.failback_provider = (("InMageRcm", "InMageRcmFailback") if self.modernized
                                                         else ("InMageAzureV2", "InMage"))
        self.fabric_id = "%s/replicationFabrics/%s" % (self.vault_id, self.asr["fabric_name"])
        self.container_id = "%s/replicationProtectionContainers/%s" % (self.fabric_id, self.asr["container_name"])
        # on-prem VMs by instance UUID (ASR's identity of a VM); by name only where one VM has the name
        self.vms_by_uuid = {}
        names = {}
        for vm in [vm for dc in spec["vcenter"]["datacenters"] for vm in dc["vms"]] + \
                [vm for esx in spec["standalone_hosts"] for vm in esx["vms"]]:
            self.vms_by_uuid[vm["instance_uuid"].lower()] = vm
            names.setdefault(vm["name"], []).append(vm)
        self.vms = {name: found[0] for name, found in names.items() if len(found) == 1}
        self.items = {}
        for entry in self.asr["items"]:
            if not entry["protection_disabled"]:
                self.items[entry["name"]] = self._item(entry)
        self.by_arm_name = {i["item_name"].lower(): i for i in self.items.values()}
        self.cs_master_target = self._cs_master_target()
        self.plans = {p["name"]: {"name": p["name"], "id": p["id"], "spec": p, "current_job": None, "last_job": None,
                                  "last_unplanned": None} for p in self.asr["recovery_plans"]}
        self.jobs = {}
        self.operations = {}

    def _item(self, entry):
        policies = self.asr["policies"]
        stage = entry["stage"]
        # vmId: the configuration server's id of the machine the item replicates - the on-prem VM forward, the Azure
        # VM once reprotected to on-premises (a new id, recorded; minted again by each reprotect, World.mint_vm_id)
        failback = self.stage_table[stage][0] == self.failback_provider
        item = {"name": entry["name"], "item_name": entry["item_name"],
                "vm_id": entry["failback_vm_id"] if failback else entry["vm_id"], "spec": entry,
                "stage": stage,
                "id": "%s/replicationProtectedItems/%s" % (self.container_id, entry["item_name"]),
                "master_target": entry["master_target"], "datastore": entry["datastore"],
                "process_server_id": None, "retention_drive": None, "run_as_account_id": None,
                "forward_policy_id": next(p["id"] for p in policies if p["provider"] == self.forward_provider),
                "failback_policy_id": next(p["id"] for p in policies if p["provider"] == self.failback_provider),
                "current_job": None, "failed_scenario": None, "last_failover_time": None,
                "failover_point_id": None, "onprem_on_since": None,
                "points": [dict(p, epoch=_epoch(p["time"])) for p in entry["recovery_points"]],
                "rp_origin": None, "rp_first_delay": 0.0, "rp_stop": None, "rp_seq": 0,
                "azure_vm": entry.get("azure_vm"),
                # the on-prem VM ASR knows (instance UUID): the original VM, or the one a failback created
                "instance_uuid": entry.get("instance_uuid"), "firmware": entry.get("firmware", "bios"),
                "test_failover_time": None, "retention_window": (None, None),
                "failed_over_once": stage != "replicating_to_azure"}
        if self.modernized:  # the reprotect agent and the failback's record (modern_flows.py)
            last = entry.get("last_planned_failover")
            item.update(appliance=entry.get("appliance"), log_storage_account_id=entry.get("log_storage_account"),
                        pf_status=last["status"] if last else None,
                        pf_start=self.loaded - 60 * float(last["age_minutes"]) if last else None)
        # lastSuccessfulFailoverTime is the last failover of the item's current provider (recorded): none while it
        # replicates to on-premises before its failback, nor before its first failover to Azure
        if stage in ("failed_over_to_azure", "running_in_azure", "failed_back", "failback_committed",
                     "reprotected_to_azure"):
            item["last_failover_time"] = self.loaded - 3600.0
        if self.modernized and stage == "replicating_to_onprem" and item["pf_start"]:
            item["last_failover_time"] = item["pf_start"]
        if stage == "failback_committed":  # the retention window the failback left (InMage keeps showing it)
            item["retention_window"] = (iso(self.loaded - 3600), iso(self.loaded - 300))
        # a test failover before the failover to Azure (as every recorded failed-over item shows)
        if entry.get("test_failover", stage in ("failed_over_to_azure", "running_in_azure")):
            item["test_failover_time"] = self.loaded - 7200.0
        if stage in FAILBACK_STAGES and self.modernized:
            found = next((a for a in self.asr["appliances"] if a["name"] == entry.get("appliance")), None)
            item["process_server_id"] = found["process_server_id"] if found else None
        elif stage in FAILBACK_STAGES:
            ps = self.process_servers("azure") or self.process_servers()
            item["process_server_id"] = ps[0]["id"] if ps else None
        if stage in REPLICATING:
            self.start_replication(item, self.loaded, initial=not item["points"])
        if stage in ONPREM_ON:
            item["onprem_on_since"] = 0.0  # long before the lab started: the agent is registered
        return item

    # ------------------------------------------------------------------ lookups
    def process_servers(self, location=None):
        return [p for p in self.asr["process_servers"] if location is None or p["location"] == location]

    def _cs_master_target(self):
        """The configuration server listed as a master target (classic flow, ``configuration_server.master_target``):
        same id as the CS, no datastores, no VM of the lab behind it."""
        cs = self.asr["configuration_server"]
        if self.modernized or not cs.get("master_target"):
            return None
        return {"id": cs["id"], "vm": None, "name": cs["name"], "os": "Windows", "version": cs["version"],
                "version_status": cs["version_status"], "heartbeat_age_seconds": cs["heartbeat_age_seconds"] + 60,
                "retention_volumes": cs["retention_volumes"], "host": None, "ip": cs["ip"], "configuration_server": True}

    def master_targets(self):
        """Every master target ASR lists: the configuration server first (as recorded), then the spec's."""
        return ([self.cs_master_target] if self.cs_master_target else []) + list(self.asr["master_targets"])

    def master_target(self, key):
        """The master target by id (any case) or by name."""
        for mt in self.master_targets():
            if key and (mt["id"].lower() == key.lower() or key in (mt["vm"], mt["name"])):
                return mt
        return None

    def policy(self, key):
        for policy in self.asr["policies"]:
            if key and (policy["id"].lower() == key.lower() or policy["name"].lower() == key.lower()):
                return policy
        return None

    def check_fabric(self, fabric, container=None):
        if fabric.lower() != self.asr["fabric_name"].lower():
            raise asr_not_found("The fabric '%s' was not found in vault '%s'." % (fabric, self.asr["vault"]))
        if container is not None and container.lower() != self.asr["container_name"].lower():
            raise asr_not_found("The protection container '%s' was not found in fabric '%s'." % (container, fabric))

    def item_by_arm_name(self, fabric, container, name):
        self.check_fabric(fabric, container)
        item = self.by_arm_name.get(name.lower())
        if item is None:
            raise asr_not_found("The replication protected item '%s' was not found in protection container '%s'. The "
                                "item may not exist or its protection may have been disabled." % (name, container))
        return item

    def plan(self, name):
        for key, plan in self.plans.items():
            if key.lower() == name.lower():
                return plan
        raise asr_not_found("The recovery plan '%s' was not found in vault '%s'." % (name, self.asr["vault"]))

    def lookup_target(self, kind, name):
        if kind == "plan":
            return self.plan(name)
        item = self.items.get(name) or self.by_arm_name.get(name.lower())
        if item is None:
            raise asr_not_found("No protected item named '%s'." % name)
        return item

    def plan_items(self, plan):
        """The plan's groups as lists of items (items whose protection was disabled are gone)."""
        return [[self.items[n] for n in group["items"] if n in self.items] for group in plan["spec"]["groups"]]

    def source_vm(self, item):
        """The spec's on-prem VM of an original-location item, found by the instance UUID ASR recorded."""
        if not item["spec"]["original_location"] or not item["spec"].get("instance_uuid"):
            return None
        return self.vms_by_uuid.get(item["spec"]["instance_uuid"].lower())

    def mint_vm_id(self):
        """A new vmId / infrastructureVmId as the configuration server mints it (a time-based UUID of now; the
        modernized flow's internalIdentifier stays name-based)."""
        from ...spec import machine_id
        return machine_id(self.asr["configuration_server"]["name"], time.time())

    def master_target_uuid(self, mt):
        return mt.get("instance_uuid")

    def vcenter_entry(self, item):
        """The discovered vCenter (or standalone host) the item's on-prem VM belongs to."""
        name = self.spec["vcenter"]["name"]
        if item["spec"]["source"] == "standalone":
            for esx in self.spec["standalone_hosts"]:
                if any(vm["name"] == item["name"] for vm in esx["vms"]):
                    name = esx["name"]
        return next((v for v in self.asr["vcenters"] if v["name"] == name), None)

    def default_azure_vm(self, item):
        """The Azure VM a forward failover creates for an item that never had one in the spec."""
        sub = self.spec["azure"]["subscription_id"]
        name, rg = item["name"], "rg-recovery"
        base = "/subscriptions/%s/resourceGroups/%s/providers" % (sub, rg)
        sizes = item["spec"]["disk_sizes_gb"] or [64]
        avm = {"name": name, "resource_group": rg, "size": "Standard_D4s_v5", "power_state": "running",
               "data_disks": len(sizes) - 1, "moved_to_resource_group": None, "deleted": False,
               "vm_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "azure-vm/" + name)),
               "id": "%s/Microsoft.Compute/virtualMachines/%s" % (base, name)}
        avm["recorded_id"] = avm["id"]
        avm["os_disk"] = {"name": "%s-osdisk" % name, "size_gb": round(sizes[0]),
                          "id": "%s/Microsoft.Compute/disks/%s-osdisk" % (base, name)}
        avm["data_disk_list"] = [{"name": "%s-datadisk-%d" % (name, lun), "lun": lun, "size_gb": round(size),
                                  "id": "%s/Microsoft.Compute/disks/%s-datadisk-%d" % (base, name, lun)}
                                 for lun, size in enumerate(sizes[1:])]
        avm["nics"] = [{"name": "%s-nic0" % name, "id": "%s/Microsoft.Network/networkInterfaces/%s-nic0" % (base, name)}]
        return avm

    # ------------------------------------------------------------------ recovery points
    def start_replication(self, item, origin, initial=True):
        item["rp_origin"] = origin
        item["rp_first_delay"] = float(self.timings["initial_replication_seconds"] if initial
                                       else self.timings["recovery_point_seconds"])
        item["rp_stop"] = None
        item["rp_seq"] += 1

    def stop_replication(self, item, when=None):
        if item["rp_origin"] is not None and item["rp_stop"] is None:
            item["rp_stop"] = when or time.time()

    def points(self, item, now=None):
        """All recovery points of the item's current direction, newest first: a :class:`Points` sequence whose
        generated points are made only when read (a GET of an item reads the newest and the oldest, not all 500)."""
        now = now or time.time()
        generated = None
        if item["rp_origin"] is not None:
            period = max(float(self.timings["recovery_point_seconds"]), 0.001)
            every = max(int(self.timings["app_consistent_every"]), 1)
            first = item["rp_origin"] + item["rp_first_delay"]
            end = min(now, item["rp_stop"]) if item["rp_stop"] else now
            count = int((end - first) // period) + 1 if end >= first else 0
            generated = (item["item_name"], item["rp_seq"], first, period, every, max(0, count - MAX_GENERATED_POINTS),
                         count)
        return Points(item["points"], generated)

    def clear_points(self, item):
        points = self.points(item)
        if points:  # InMage keeps showing its last retention window after the commit (recorded)
            item["retention_window"] = (points[-1]["time"], points[0]["time"])
        item["points"] = []
        item["rp_origin"] = None
        item["rp_stop"] = None

    # ------------------------------------------------------------------ stage
    def stage_row(self, item):
        return self.stage_table[item["stage"]]

    def provider(self, item):
        return self.stage_table[item["stage"]][0]

    def allowed_operations(self, item):
        if item["spec"]["migration_completed"] or item["current_job"]:
            return []
        return list(self.stage_table[item["stage"]][4])

    def check_action(self, item, action, label):
        """Refuse ``action`` unless the item's stage accepts it (400/409 ARM errors)."""
        if item["current_job"]:
            job = self.jobs[item["current_job"]]
            raise ArmError(409, "OperationInProgress",
                           "Another operation (%s, job %s) is in progress on the replication protected item '%s'. "
                           "Wait for the job to finish and retry." % (job.scenario, job.name, item["name"]))
        if item["spec"]["migration_completed"]:
            raise ArmError(400, "OperationNotAllowed",
                           "The replication protected item '%s' has completed migration; no operation is allowed on it."
                           % item["name"])
        if action not in self.accepts.get(item["stage"], ()):
            allowed = self.allowed_operations(item)
            raise ArmError(400, "OperationNotAllowed",
                           "%s is not allowed on the replication protected item '%s' in its current state (%s). "
                           "Allowed operations: %s." % (label, item["name"], self.stage_table[item["stage"]][1],
                                                        ", ".join(allowed) or "none"))

    def state(self):
        """The world as JSON for /_lab/state."""
        with self.lock:
            items = {}
            for name, item in self.items.items():
                items[name] = {k: item[k] for k in ("stage", "item_name", "master_target", "datastore", "process_server_id",
                                                    "current_job", "failed_scenario", "last_failover_time",
                                                    "failover_point_id")}
                items[name]["provider"] = self.provider(item)
                if self.modernized:
                    items[name].update(appliance=item["appliance"], planned_failover_status=item["pf_status"])
                items[name]["recovery_points"] = len(self.points(item))
            return {"items": items,
                    "plans": {n: {"current_job": p["current_job"], "last_job": p["last_job"]} for n, p in self.plans.items()},
                    "jobs": {n: j.summary() for n, j in self.jobs.items()}}


class Points(Sequence):
    """The recovery points of an item, newest first, as a read-only sequence: the spec's (and the synchronised)
    points of ``fixed`` merged by time with the points replication generated, ``generated`` = (item name, sequence,
    first moment, period, app-consistent every, first index, count) or None. A generated point is a dict made on
    access (its name a UUID5 of the item, sequence and index); the order is ``sorted(fixed + all generated, key=epoch,
    reverse=True)``'s, ties putting a fixed point first."""

    def __init__(self, fixed, generated):
        self.fixed = sorted(fixed, key=lambda p: p["epoch"], reverse=True)
        self.generated = generated
        self.low, self.high = (generated[5], generated[6]) if generated else (0, 0)
        # where each fixed point sits in the merged order: its rank plus the generated points newer than it
        self.slots = {}
        for rank, point in enumerate(self.fixed):
            self.slots[rank + self._newer_than(point["epoch"])] = point

    def _epoch(self, index):
        return self.generated[2] + index * self.generated[3]

    def _newer_than(self, epoch):
        """How many generated points have an epoch above ``epoch``."""
        low, high = self.low, self.high  # epochs rise with the index: find the first index above ``epoch``
        while low < high:
            middle = (low + high) // 2
            if self._epoch(middle) > epoch:
                high = middle
            else:
                low = middle + 1
        return self.high - low

    def _make(self, index):
        name, seq, _first, _period, every, _low, _high = self.generated
        moment = self._epoch(index)
        return {"name": str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s/%d" % (name, seq, index))),
                "time": iso(moment), "epoch": moment,
                "type": "ApplicationConsistent" if (index + 1) % every == 0 else "CrashConsistent"}

    def __len__(self):
        return len(self.fixed) + self.high - self.low

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        size = len(self)
        if position < 0:
            position += size
        if not 0 <= position < size:
            raise IndexError("recovery point index out of range")
        if position in self.slots:
            return self.slots[position]
        before = sum(1 for slot in self.slots if slot < position)  # fixed points ahead of this one
        return self._make(self.high - 1 - (position - before))

    def __iter__(self):
        for position in range(len(self)):
            yield self[position]

    def __eq__(self, other):
        return list(self) == list(other)

    __hash__ = None


FAILBACK_STAGES = ("reprotecting_to_onprem", "replicating_to_onprem", "failed_back", "failback_committed")


def _epoch(text):
    import datetime
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
