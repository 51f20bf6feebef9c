# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ASR does for each item action of the classic flow: the job's tasks, their checks and
side effects, and the stage the item ends in. Inputs arrive validated (actions.py).

Jobs (scenarioName / friendlyName, customDetails):
  reprotect (either direction)  Reprotect / Reprotect, AsrJobDetails
  unplanned failover            UnplannedFailover / Failover, FailoverJobDetails
  commit                        CommitFailover / Commit, AsrJobDetails
"""

import re
import time

from ..jobs import Job, JobFailed, Task
from . import errors
from .serialize import point_id

GUESTS = {"Windows": "windows2019srv_64Guest", "Linux": "rhel8_64Guest"}


class Flows:
    def __init__(self, world, engine, effects=None):
        self.world = world
        self.engine = engine
        self.effects = effects
        self.compute = world.compute

    # ------------------------------------------------------------------ shared checks (run inside tasks)
    def check_cs(self):
        cs = self.world.asr["configuration_server"]
        if cs["service_status"] != "Running":
            raise errors.cs_not_running(cs)

    def check_in_database(self, item):
        if not item["spec"]["in_cs_database"]:
            raise errors.not_in_cs_database(item, self.world.asr["configuration_server"])

    def check_vcenters(self, item, master_target=None):
        names = []
        entry = self.world.vcenter_entry(item)
        if entry is not None and item["spec"]["source"] != "physical":
            names.append(entry)
        if master_target is not None:
            lab = next((v for v in self.world.asr["vcenters"] if v["name"] == self.world.spec["vcenter"]["name"]), None)
            if lab is not None:
                names.append(lab)
        for vc in names:
            if not vc["connected"]:
                raise errors.vcenter_not_connected(vc["name"])

    def azure_vm(self, item):
        """The failed-over VM where ASR recorded it; AzureVmNotFound when moved or deleted."""
        avm = item["azure_vm"] or {}
        vm = self.compute.find_vm(avm.get("resource_group", ""), avm.get("name", item["name"]))
        if vm is not None:
            return vm
        with self.world.lock:
            moved = [v for v in self.compute.vms.values() if v["name"].lower() == avm.get("name", "").lower()]
        raise errors.azure_vm_missing(item, moved[0]["resource_group"] if moved else None)

    @staticmethod
    def original_location(item):
        """Original location when ASR knows the on-prem VM (the spec's ``original_location``): ASR knows the VM by
        identity, so a stray VM of the same name in vCenter does not make it original."""
        return bool(item["spec"]["original_location"]) and item["spec"]["source"] != "physical"

    def choose_point(self, item, params):
        points = self.world.points(item)
        kind = params.get("recovery_point_type", "LatestTime")
        if kind == "Custom":
            wanted = params["recovery_point_id"].rstrip("/").rsplit("/", 1)[-1].lower()
            point = next((p for p in points if p["name"].lower() == wanted), None)
            if point is None:
                raise errors.recovery_point_not_found(item, params["recovery_point_id"])
            return point
        if kind in ("LatestTag", "LatestApplicationConsistent"):
            points = [p for p in points if p["type"] == "ApplicationConsistent"]
            if not points:
                raise errors.no_recovery_point(item, "application-consistent recovery point")
        if not points:
            raise errors.no_recovery_point(item)
        return points[0]

    def _job(self, item, scenario, friendly, tasks, details="AsrJobDetails", on_success=None, on_failure=None,
             restart=None, failback=True, params=None):
        affected = {"primaryFabricProviderId": "VMware", "recoveryFabricProviderId": "VMware" if failback else "Azure",
                    "protectedItemFriendlyName": item["name"]}

        def point_details():
            chosen = (params or {}).get("chosen")
            entry = {"name": item["item_name"], "friendlyName": item["name"]}
            if chosen:
                entry["recoveryPointId"] = point_id(item, chosen)
                entry["recoveryPointTime"] = chosen["time"]
            return [entry]
        return Job(self.world, scenario, friendly, "item", item, tasks, details_type=details, affected=affected,
                   locks=[item], on_success=on_success, on_failure=on_failure, restart=restart, point_details=point_details)

    def _vm_task(self, item, name, friendly, run=None, skip=False):
        return Task(name, friendly, run=run, skip=skip, item=item)

    # ------------------------------------------------------------------ reprotect Azure -> on-prem (InMage)
    def reprotect_to_onprem(self, item, params):
        mt = params["master_target"]
        state = {}

        def prerequisites():
            self.check_cs()
            self.check_in_database(item)
            if item["spec"]["source"] == "physical" and re.search(r"2008 R2", item["spec"]["os_name"]):
                raise errors.os_not_supported(item)
            vm = self.azure_vm(item)
            if vm["power_state"] != "running":
                raise errors.azure_vm_not_running(item, vm["power_state"])
            self.check_vcenters(item, mt)
            if mt["os"] != item["spec"]["os"]:
                raise errors.master_target_os_mismatch(item, mt)
            state["original"] = self.original_location(item)
            if not state["original"] and not params.get("datastore"):
                raise JobFailed("DatastoreRequired", "The on-premises VM '%s' does not exist; choose a datastore of the "
                                "master target to recover it to an alternate location." % item["name"])
            if self.effects is not None:
                self.effects.check_reprotect(item["name"], mt["vm"], datastore=params.get("datastore"),
                                             original_location=state["original"])

        def prepare():
            with self.world.lock:
                item["stage"] = "reprotecting_to_onprem"
                item["master_target"] = mt["vm"]
                item["datastore"] = params.get("datastore")
                item["process_server_id"] = params["process_server"]["id"]
                item["retention_drive"] = params["retention_drive"]
                item["run_as_account_id"] = params.get("run_as_account_id")
                item["failback_policy_id"] = params["policy"]["id"]
            if self.effects is not None:
                if state["original"]:
                    self.effects.prepare_original_location(item["name"], mt["vm"])
                else:
                    self.effects.prepare_alternate_location(item["name"], mt["vm"], params["datastore"],
                                                            item["spec"]["disk_sizes_gb"])

        def succeeded(job):
            item["stage"] = "replicating_to_onprem"
            item["failed_scenario"] = None
            self.world.clear_points(item)
            self.world.start_replication(item, time.time(), initial=True)

        def failed(job):
            item["stage"] = "running_in_azure"
            item["failed_scenario"] = "Reprotect"

        tasks = [self._vm_task(item, "VmReprotectPrerequisitesCheck", "Prerequisites check for reprotect", prerequisites),
                 self._vm_task(item, "VmPrepareMasterTargetForReprotect", "Prepare the master target", prepare),
                 self._vm_task(item, "VmUpdateReplicationDirection", "Update the replication direction"),
                 self._vm_task(item, "VmStartReplication", "Start the replication")]
        return self._job(item, "Reprotect", "Reprotect", tasks, on_success=succeeded, on_failure=failed,
                         restart=lambda: self.reprotect_to_onprem(item, params))

    # ------------------------------------------------------------------ unplanned failover Azure -> on-prem (InMage)
    def failover_steps(self, item, params):
        """(prerequisites, shutdown, synchronize, failover, start) callables shared by item and plan jobs."""
        mt = self.world.master_target(item["master_target"])

        def prerequisites():
            self.check_cs()
            self.check_vcenters(item, mt)
            params["chosen"] = self.choose_point(item, params)
            self.azure_vm(item)

        def shutdown():
            vm = self.azure_vm(item)
            self.compute.set_power(vm["resource_group"], vm["name"], "stopped")

        def synchronize():
            with self.world.lock:
                self.world.stop_replication(item)

        def failover():
            with self.world.lock:
                params["chosen"] = self.choose_point(item, params)
                self.world.stop_replication(item)
            if self.effects is None:
                return
            if self.original_location(item):
                self.effects.restore_original_location(item["name"], mt["vm"])
            else:
                src = self.world.source_vm(item)
                size = (item["azure_vm"] or {}).get("size", "")
                digits = re.search(r"(\d+)", size)
                cpu = src["num_cpu"] if src else (int(digits.group(1)) if digits else 2)
                self.effects.create_vm_from_master_target(
                    item["name"], mt["vm"], item["datastore"], cpu, src["memory_mb"] if src else cpu * 4096,
                    src["guest_id"] if src else GUESTS[item["spec"]["os"]],
                    firmware=src["firmware"] if src else "bios")

        def start():
            if self.effects is not None:
                self.effects.power_on(item["name"])
            with self.world.lock:
                item["onprem_on_since"] = time.time()

        return prerequisites, shutdown, synchronize, failover, start

    def mark_failed_back(self, item, params):
        item["stage"] = "failed_back"
        item["failed_scenario"] = None
        item["last_failover_time"] = time.time()
        chosen = params.get("chosen")
        item["failover_point_id"] = point_id(item, chosen) if chosen else None

    def failover_to_onprem(self, item, params):
        prerequisites, shutdown, synchronize, failover, start = self.failover_steps(item, params)
        skip = params["source_site_operations"] == "NotRequired"

        def failed(job):
            item["failed_scenario"] = "UnplannedFailover"
            if item["rp_stop"] is not None:
                item["rp_stop"] = None

        tasks = [self._vm_task(item, "VmUfoPrerequisitesCheck", "Prerequisites check for unplanned failover", prerequisites),
                 self._vm_task(item, "VmShutdownVmOnPrimary", "Shut down the virtual machine", shutdown, skip=skip),
                 self._vm_task(item, "VmPrepareForUnPlannedFailover", "Synchronizing the latest changes", synchronize,
                               skip=skip),
                 self._vm_task(item, "VmFailover", "Fail over", failover),
                 self._vm_task(item, "VmFoStartVmOnSecondary", "Start the replica virtual machine", start)]
        return self._job(item, "UnplannedFailover", "Failover", tasks, details="FailoverJobDetails",
                         on_success=lambda job: self.mark_failed_back(item, params), on_failure=failed,
                         restart=lambda: self.failover_to_onprem(item, params), params=params)

    # ------------------------------------------------------------------ commit
    def commit_step(self, item):
        def commit():
            if item["stage"] == "failed_back":
                avm = item["azure_vm"] or {}
                for rg in (avm.get("resource_group"), avm.get("moved_to_resource_group")):
                    if rg and self.compute.find_vm(rg, avm["name"]) is not None:
                        self.compute.delete_vm(rg, avm["name"])
                        break
        return commit

    def mark_committed(self, item):
        item["failed_scenario"] = None
        if item["stage"] == "failed_back":
            item["stage"] = "failback_committed"
            self.world.clear_points(item)
        else:
            item["stage"] = "running_in_azure"

    def commit(self, item):
        failback = item["stage"] == "failed_back"

        def prerequisites():
            self.check_cs()

        tasks = [self._vm_task(item, "VmCommitPrerequisitesCheck", "Prerequisites check for commit", prerequisites),
                 self._vm_task(item, "VmCommit", "Commit", self.commit_step(item))]
        return self._job(item, "CommitFailover", "Commit", tasks, on_success=lambda job: self.mark_committed(item),
                         restart=lambda: self.commit(item), failback=failback)

    # ------------------------------------------------------------------ reprotect on-prem -> Azure (InMageAzureV2)
    def reprotect_to_azure(self, item, params):
        def prerequisites():
            self.check_cs()
            self.check_in_database(item)
            since = item["onprem_on_since"]
            wait = float(self.world.timings["agent_registration_seconds"])
            left = (since + wait - time.time()) if since is not None else wait
            if since is None or left > 0:
                raise errors.agent_not_registered(item, left)

        def succeeded(job):
            item["stage"] = "reprotected_to_azure"
            item["failed_scenario"] = None
            item["forward_policy_id"] = params["policy"]["id"]
            item["master_target"] = None
            self.world.clear_points(item)
            self.world.start_replication(item, time.time(), initial=True)

        tasks = [self._vm_task(item, "VmReprotectPrerequisitesCheck", "Prerequisites check for reprotect", prerequisites),
                 self._vm_task(item, "VmUpdateReplicationDirection", "Update the replication direction"),
                 self._vm_task(item, "VmStartReplication", "Start the replication")]
        return self._job(item, "Reprotect", "Reprotect", tasks, on_success=succeeded,
                         restart=lambda: self.reprotect_to_azure(item, params), failback=False)

    # ------------------------------------------------------------------ forward failover on-prem -> Azure (InMageAzureV2)
    def forward_steps(self, item, params):
        def prerequisites():
            self.check_cs()
            params["chosen"] = self.choose_point(item, params)

        def shutdown():
            if self.effects is not None and item["spec"]["source"] != "physical":
                self.effects.power_off(item["name"])

        def synchronize():
            with self.world.lock:
                self.world.stop_replication(item)

        def failover():
            with self.world.lock:
                params["chosen"] = self.choose_point(item, params)
                self.world.stop_replication(item)
                if item["azure_vm"] is None:
                    item["azure_vm"] = self.world.default_azure_vm(item)
                item["azure_vm"]["moved_to_resource_group"] = None
                template = self.compute.template(dict(item["spec"], azure_vm=item["azure_vm"]))
                template["power_state"] = "stopped"
                self.compute.create_vm(template)

        def start():
            avm = item["azure_vm"]
            self.compute.set_power(avm["resource_group"], avm["name"], "running")
        return prerequisites, shutdown, synchronize, failover, start

    def mark_failed_over(self, item, params):
        item["stage"] = "failed_over_to_azure"
        item["failed_scenario"] = None
        item["last_failover_time"] = time.time()
        chosen = params.get("chosen")
        item["failover_point_id"] = point_id(item, chosen) if chosen else None

    def failover_to_azure(self, item, params):
        prerequisites, shutdown, synchronize, failover, start = self.forward_steps(item, params)
        skip = params["source_site_operations"] == "NotRequired"

        def failed(job):
            item["failed_scenario"] = "UnplannedFailover"
            item["rp_stop"] = None

        tasks = [self._vm_task(item, "VmUfoPrerequisitesCheck", "Prerequisites check for unplanned failover", prerequisites),
                 self._vm_task(item, "VmShutdownVmOnPrimary", "Shut down the virtual machine", shutdown, skip=skip),
                 self._vm_task(item, "VmPrepareForUnPlannedFailover", "Synchronizing the latest changes", synchronize,
                               skip=skip),
                 self._vm_task(item, "VmFailover", "Fail over", failover),
                 self._vm_task(item, "VmFoStartVmOnSecondary", "Start the replica virtual machine", start)]
        return self._job(item, "UnplannedFailover", "Failover", tasks, details="FailoverJobDetails",
                         on_success=lambda job: self.mark_failed_over(item, params), on_failure=failed,
                         restart=lambda: self.failover_to_azure(item, params), failback=False, params=params)
