# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ASR does for each item action of the modernized flow (replication appliance): the
job's tasks, their checks and side effects, and the stage the item ends in. Inputs arrive
validated (modern_actions.py). Commit, reprotect to Azure and the forward failover are the
classic flows' (flows.py): they do the same things for InMageRcm/InMageRcmFailback items.

Jobs (scenarioName / friendlyName, customDetails):
  reprotect to on-premises   Reprotect / Reprotect, AsrJobDetails
  planned failover (failback) PlannedFailover / Planned failover, FailoverJobDetails
  cancel failover            CancelFailover / Cancel failover, AsrJobDetails

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
from .flows import GUESTS
from .serialize import point_id
from .serialize_modern import appliance_health


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

        def prerequisites():
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

        def prepare():
            with self.world.lock:
                item["stage"] = "reprotecting_to_onprem"
                item["appliance"] = agent["name"]
                item["datastore"] = params["datastore"]
                item["log_storage_account_id"] = params["log_storage_account_id"]
                item["process_server_id"] = agent["process_server_id"]
                item["failback_policy_id"] = params["policy"]["id"]
                item["pf_status"] = item["pf_start"] = None
            if self.effects is not None and original:
                self.effects.power_off(item["name"])

        def succeeded(job):
            item["stage"] = "replicating_to_onprem"
            item["failed_scenario"] = None
            self.world.clear_points(item)
            self.world.start_replication(item, time.time(), initial=True)

        def failed(job):
            item["stage"] = "running_in_azure"
            item["failed_scenario"] = "Reprotect"

        tasks = [self.flows._vm_task(item, "VmReprotectPrerequisitesCheck", "Prerequisites check for reprotect",
                                     prerequisites),
                 self.flows._vm_task(item, "VmPrepareForReprotect", "Prepare the on-premises virtual machine", prepare),
                 self.flows._vm_task(item, "VmUpdateReplicationDirection", "Update the replication direction"),
                 self.flows._vm_task(item, "VmStartReplication", "Start the replication")]
        return self.flows._job(item, "Reprotect", "Reprotect", tasks, on_success=succeeded, on_failure=failed,
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
            src = self.world.source_vm(item)
            size = (item["azure_vm"] or {}).get("size", "")
            digits = re.search(r"(\d+)", size)
            cpu = src["num_cpu"] if src else (int(digits.group(1)) if digits else 2)
            self.effects.create_vm_on_datastore(
                item["name"], item["datastore"], cpu, src["memory_mb"] if src else cpu * 4096,
                src["guest_id"] if src else GUESTS[item["spec"]["os"]], list(item["spec"]["disk_sizes_gb"]))

        def start():
            if self.effects is not None:
                self.effects.power_on(item["name"])
            with self.world.lock:
                item["onprem_on_since"] = time.time()

        return prerequisites, shutdown, synchronize, failover, start

    def mark_failed_back(self, item, params):
        item["stage"] = "failed_back"
        item["failed_scenario"] = None
        item["pf_status"] = "Succeeded"
        item["last_failover_time"] = time.time()
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
        tasks = [self.flows._vm_task(item, "VmPlannedFailoverPrerequisitesCheck", "Prerequisites check for planned failover",
                                     prerequisites),
                 self.flows._vm_task(item, "VmShutdownVmOnPrimary", "Shut down the virtual machine", shutdown),
                 self.flows._vm_task(item, "VmPrepareForPlannedFailover", "Synchronizing the latest changes", synchronize),
                 self.flows._vm_task(item, "VmFailover", "Fail over", failover),
                 self.flows._vm_task(item, "VmFoStartVmOnSecondary", "Start the replica virtual machine", start)]
        return self.flows._job(item, "PlannedFailover", "Planned failover", tasks, details="FailoverJobDetails",
                               on_success=lambda job: self.mark_failed_back(item, params),
                               on_failure=lambda job: self.revert(item, params, "Failed"),
                               restart=lambda: self.planned_failover(item, params), params=params)

    # ------------------------------------------------------------------ cancel a failback
    def cancel_step(self, item):
        def run():
            if self.effects is not None:
                self.effects.power_off(item["name"])
        return run

    def cancel(self, item):
        def resume():
            self._azure_power(item, "running")

        tasks = [self.flows._vm_task(item, "VmCancelFailoverPrerequisitesCheck", "Prerequisites check for cancel failover"),
                 self.flows._vm_task(item, "VmCancelFailover", "Revert the on-premises virtual machine",
                                     self.cancel_step(item)),
                 self.flows._vm_task(item, "VmStartVmOnRecovery", "Start the Azure virtual machine", resume),
                 self.flows._vm_task(item, "VmResumeReplication", "Resume the replication")]
        return self.flows._job(item, "CancelFailover", "Cancel failover", tasks,
                               on_success=lambda job: self.revert(item, None, "Cancelled"),
                               restart=lambda: self.cancel(item))
