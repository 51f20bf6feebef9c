# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ASR does for each item action of the modernized flow (replication appliance): the
job's tasks, their checks and side effects, and the stage the item ends in. Inputs arrive
validated (modern_actions.py). Commit, reprotect to Azure and the forward failover are the
classic flows' (flows.py): they do the same things for InMageRcm/InMageRcmFailback items.

Jobs as recorded (tests/recorded/asr; scenarioName / friendlyName; tasks taskId/name "friendlyName"):
  reprotect to on-premises    SwitchReplicationGroupProtection / Reprotect (flows.switch_protection; no child jobs)
  planned failover (failback) PlannedFailover / Planned failover, FailoverJobDetails:
                              PlannedFailoverPreflightChecksTask/VmPfoPrerequisitesCheck, PrepareForFailoverTask/
                              VmPrepareForFailover "Start failover", FailoverTask/VmFailover "Shut down the Azure virtual
                              machine", PrepareProtectedEntitiesTask/VmPrepareProtectedEntitiesTask "Preparing on-premise
                              virtual machine", StartVmOnSecondary/VmFoStartVmOnSecondary "Starting on-premise virtual
                              machine"
  cancel failover             CancelFailover / Cancel failover and resume replication, AsrJobDetails:
                              CancelFailoverPreflightChecksTask, CancelFailoverRecovery, CancelFailoverPrimary/
                              CancelFailoverPrimaryTask, StartVmOnPrimary

Side effects: the appliance replicates straight into the on-prem VM's own disks, so the
reprotect of an original-location item only powers the VM off; an alternate-location VM is
created at the failover (``effects.create_vm_on_datastore``). A planned failover always shuts
the Azure VM down. A failed planned failover is cancelled at once (the Azure VM is started
again, replication resumes, ``lastPlannedFailoverStatus: Failed``); a cancel powers the
on-prem VM off, starts the Azure VM and resumes replication (the disks are not reverted in
the lab: nothing wrote to them).
"""

import re
import time
import uuid

from ..compute import iso
from . import errors, modern
from .flows import _task
from .serialize import point_id
from .serialize_modern import appliance_health, disk_uuid


class ModernFlows:
    def __init__(self, flows):
        self.flows = flows
        self.world = flows.world
        self.effects = flows.effects
        self.compute = flows.compute

    # ------------------------------------------------------------------ shared checks (run inside tasks)
    def check_appliance(self, entry):
        health = appliance_health(entry)[0]
        if health == "Critical":
            raise errors.appliance_not_healthy(entry, health, entry["heartbeat_age_seconds"])

    def _azure_power(self, item, state):
        avm = item["azure_vm"] or {}
        if self.compute.find_vm(avm.get("resource_group", ""), avm.get("name", "")) is not None:
            self.compute.set_power(avm["resource_group"], avm["name"], state)

    # ------------------------------------------------------------------ reprotect Azure -> on-prem (InMageRcm)
    def reprotect_to_onprem(self, item, params):
        """``params``: appliance, datastore, log_storage_account_id, policy."""
        agent = params["appliance"]
        original = self.flows.original_location(item)

        def preflight():
            self.check_appliance(agent)
            if item["spec"]["source"] == "physical" and re.search(r"2008 R2", item["spec"]["os_name"]):
                raise errors.os_not_supported(item)
            vm = self.flows.azure_vm(item)
            if vm["power_state"] != "running":
                raise errors.azure_vm_not_running(item, vm["power_state"])
            self.flows.check_vcenters(item, master_target=agent)
            with self.world.lock:
                used = modern.appliance_disks(self.world, agent)
            adding = len(item["spec"]["disk_sizes_gb"])
            if used + adding > modern.APPLIANCE_DISK_LIMIT:
                raise errors.appliance_disk_limit(agent, used, adding, modern.APPLIANCE_DISK_LIMIT)

        def protect():
            with self.world.lock:
                item["stage"] = "reprotecting_to_onprem"
                item["appliance"] = agent["name"]
                item["datastore"] = params["datastore"]
                item["log_storage_account_id"] = params["log_storage_account_id"]
                item["process_server_id"] = agent["process_server_id"]
                item["failback_policy_id"] = params["policy"]["id"]
            if self.effects is not None and original:
                self.effects.power_off(item["name"], uuid=item["instance_uuid"])

        def succeeded(job):
            self.flows.replicating_to_onprem(item)

        def failed(job):
            if item["stage"] == "reprotecting_to_onprem":
                item["stage"] = "running_in_azure"
            item["failed_scenario"] = "Reprotect"

        return self.flows.switch_protection(item, preflight, None, protect, succeeded, failed,
                                            restart=lambda: self.reprotect_to_onprem(item, params))

    # ------------------------------------------------------------------ planned failover Azure -> on-prem
    def failover_steps(self, item, params, sync=None):
        """(prerequisites, shutdown, synchronize, failover, start) callables shared by item and plan jobs.
        ``params``: recovery_point_type; ``sync``: a dict shared by a plan's items for one multi-VM sync moment."""
        agent = modern.appliance(self.world, item.get("appliance"))

        def prerequisites():
            if agent is not None:
                self.check_appliance(agent)
            self.flows.check_vcenters(item, master_target=agent)
            if not self.world.points(item):
                raise errors.no_recovery_point(item)
            self.flows.azure_vm(item)

        def shutdown():
            vm = self.flows.azure_vm(item)
            if vm["power_state"] == "running":
                params["stopped_azure_vm"] = True
            self.compute.set_power(vm["resource_group"], vm["name"], "stopped")

        def synchronize():
            """Pending changes reach on-premises and a fresh point of the requested type is taken."""
            with self.world.lock:
                moment = sync.setdefault("moment", time.time()) if sync is not None else time.time()
                point = {"name": str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/pfo/%f" % (item["item_name"], moment))),
                         "time": iso(moment), "epoch": moment, "type": params["recovery_point_type"]}
                item["points"].append(point)
                self.world.stop_replication(item, moment)
                params["chosen"] = point

        def failover():
            if self.effects is None or self.flows.original_location(item):
                return  # original location: the disks already hold the data
            cpu, memory, guest, firmware = self.flows.new_vm_shape(item)
            created = self.effects.create_vm_on_datastore(
                item["name"], item["datastore"], cpu, memory, guest, list(item["spec"]["disk_sizes_gb"]),
                firmware=firmware, uuid=item["instance_uuid"],
                disk_uuids=[disk_uuid(item, i) for i in range(len(item["spec"]["disk_sizes_gb"]))],
                nics=item["spec"]["alternate_nics"])
            with self.world.lock:
                item["instance_uuid"] = created or item["instance_uuid"]

        def start():
            if self.effects is not None:
                self.effects.power_on(item["name"], uuid=item["instance_uuid"])
            with self.world.lock:
                item["onprem_on_since"] = time.time()

        return prerequisites, shutdown, synchronize, failover, start

    def mark_failed_back(self, item, params):
        item["stage"] = "failed_back"
        item["failed_scenario"] = None
        item["pf_status"] = "Succeeded"
        item["last_failover_time"] = time.time()
        item["failed_over_once"] = True
        chosen = params.get("chosen")
        item["failover_point_id"] = point_id(item, chosen) if chosen else None

    def revert(self, item, params, status):
        """Back to replicating to on-premises: the Azure VM runs again (when the failover had stopped it or
        ``params`` is None: a cancel), replication resumes, the status is recorded."""
        if params is None or params.get("stopped_azure_vm"):
            self._azure_power(item, "running")
        item["stage"] = "replicating_to_onprem"
        item["pf_status"] = status
        item["onprem_on_since"] = None
        item["failover_point_id"] = None
        item["rp_stop"] = None

    def planned_failover(self, item, params):
        prerequisites, shutdown, synchronize, failover, start = self.failover_steps(item, params)
        item["pf_start"] = time.time()

        def shut_down_and_sync():
            shutdown()
            synchronize()

        tasks = [_task("PlannedFailoverPreflightChecksTask", "VmPfoPrerequisitesCheck",
                       "Prerequisites check for planned failover", prerequisites),
                 _task("PrepareForFailoverTask", "VmPrepareForFailover", "Start failover"),
                 _task("FailoverTask", "VmFailover", "Shut down the Azure virtual machine", shut_down_and_sync),
                 _task("PrepareProtectedEntitiesTask", "VmPrepareProtectedEntitiesTask",
                       "Preparing on-premise virtual machine", failover),
                 _task("StartVmOnSecondary", "VmFoStartVmOnSecondary", "Starting on-premise virtual machine", start)]
        return self.flows._job(item, "PlannedFailover", "Planned failover", tasks, details="FailoverJobDetails",
                               on_success=lambda job: self.mark_failed_back(item, params),
                               on_failure=lambda job: self.revert(item, params, "Failed"),
                               restart=lambda: self.planned_failover(item, params))

    # ------------------------------------------------------------------ cancel a failback
    def cancel_step(self, item):
        def run():
            if self.effects is not None:
                self.effects.power_off(item["name"], uuid=item["instance_uuid"])
        return run

    def cancel(self, item):
        def resume():
            self._azure_power(item, "running")

        tasks = [_task("CancelFailoverPreflightChecksTask", "CancelFailoverPreflightChecksTask",
                       "Prerequisites check for cancel failover"),
                 _task("CancelFailoverRecovery", "CancelFailoverRecovery", "Cancel failover recovery", self.cancel_step(item)),
                 _task("CancelFailoverPrimary", "CancelFailoverPrimaryTask", "Cancel failover primary"),
                 _task("StartVmOnPrimary", "StartVmOnPrimary", "Starting the virtual machine", resume)]
        return self.flows._job(item, "CancelFailover", "Cancel failover and resume replication", tasks,
                               on_success=lambda job: self.revert(item, None, "Cancelled"),
                               restart=lambda: self.cancel(item))
