# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ASR does for each item action of the classic flow: the job's tasks, their checks and
side effects, and the stage the item ends in. Inputs arrive validated (actions.py).

Jobs as recorded (tests/recorded/asr; scenarioName / friendlyName, customDetails; tasks taskId/name):
  reprotect (either direction)  SwitchReplicationGroupProtection / Reprotect, SwitchProtectionJobDetails:
                                SwitchReplicationGroupProtectionPreflightTask, CommitFailoverTask/VmCommitFailover
                                (skipped when the failover was committed, else it commits it), DiscoverReplicaTask,
                                GetSwitchProtectionRequirementsTask, ProtectReplicaTask. Classic to on-premises the
                                discovery is a group task whose child is a separate DiscoverReplica job; classic back
                                to Azure the protection is one whose child is a separate EnableDr job.
  unplanned failover            UnplannedFailover / Failover, FailoverJobDetails (protectedItemDetails []):
                                UnplannedFailoverPreflightChecksTask/VmUfoPrerequisitesCheck,
                                ShutdownVmOnPrimaryForUFO/VmShutdownVmOnPrimary, PrepareForUnPlannedFailoverTask/
                                VmPrepareForUnPlannedFailover (both Other/Skipped with sourceSiteOperations NotRequired),
                                FailoverTask/VmFailover, StartVmOnSecondary/VmFoStartVmOnSecondary
  commit                        CommitFailover / Commit, AsrJobDetails: VmCommitPrerequisitesCheck, VmCommit (GUID ids)

The on-prem VM is found by the instance UUID ASR recorded (``item["instance_uuid"]``), never by name alone.
"""

import re
import time
import uuid

from ..jobs import Job, JobFailed, Task
from . import errors
from .serialize import point_id

GUESTS = {"Windows": "windows2019srv_64Guest", "Linux": "rhel8_64Guest"}
AZURE_CLOUD = ("d38048d4-b460-4791-8ece-108395ee8478", "Microsoft Azure")  # ASR's ids of the Azure side (recorded)
AZURE_VMM = ("21a9403c-6ec1-44f2-b744-b4e50b792387", "Microsoft Azure")
FAILBACK_PROVIDERS = ("InMage", "InMageRcmFailback")
PENDING = ("failed_over_to_azure", "failed_back")


def _task(task_id, name, friendly, run=None, skip=False, **kwargs):
    return Task(name, friendly, run=run, skip=skip, task_id=task_id, **kwargs)


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
            point = next((p for p in points if p["type"] == "ApplicationConsistent"), None)
            if point is None:
                raise errors.no_recovery_point(item, "application-consistent recovery point")
            return point
        if not points:
            raise errors.no_recovery_point(item)
        return points[0]

    def new_vm_shape(self, item):
        """(cpu, memory MB, guest id, firmware) of the VM an alternate-location failback creates: the source VM's
        when the spec has one, else from the Azure VM's size and the item's OS and firmware."""
        src = self.world.source_vm(item)
        size = (item["azure_vm"] or {}).get("size", "")
        digits = re.search(r"(\d+)", size)
        cpu = src["num_cpu"] if src else (int(digits.group(1)) if digits else 2)
        return (cpu, src["memory_mb"] if src else cpu * 4096, src["guest_id"] if src else GUESTS[item["spec"]["os"]],
                item["firmware"])

    # ------------------------------------------------------------------ jobs
    def affected(self, item):
        """ASR's affectedObjectDetails of an item job (recorded keys). The recovery side is on-premises while the
        item replicates with a failback provider, Azure otherwise."""
        world = self.world
        failback = world.provider(item) in FAILBACK_PROVIDERS
        container = world.asr["container_name"]
        vmm = container.split("_", 1)[-1]
        name = world.asr["fabric_name"] if world.modernized else world.asr["configuration_server"]["name"]
        cloud_name = container if world.modernized else world.asr["configuration_server"]["name"]
        onprem = "InMageRcm" if world.modernized else "VMware"
        recovery_cloud = (container, cloud_name) if failback else AZURE_CLOUD
        recovery_vmm = (vmm, name) if failback else AZURE_VMM
        return {"primaryVmId": item["vm_id"], "primaryVmName": item["name"],
                "recoveryVmId": item["spec"]["replica_id"] if world.provider(item) == "InMage" else "",
                "recoveryVmName": item["name"],
                "protectionProfileId": str(uuid.uuid5(uuid.NAMESPACE_URL, item["failback_policy_id"] if failback
                                                      else item["forward_policy_id"])),
                "primaryCloudId": container, "primaryCloudName": cloud_name,
                "recoveryCloudId": recovery_cloud[0], "recoveryCloudName": recovery_cloud[1],
                "primaryVmmId": vmm, "primaryVmmName": name, "recoveryVmmId": recovery_vmm[0],
                "recoveryVmmName": recovery_vmm[1], "primaryFabricProviderId": onprem,
                "recoveryFabricProviderId": onprem if failback else "Azure"}

    def _job(self, item, scenario, friendly, tasks, details="AsrJobDetails", on_success=None, on_failure=None,
             restart=None):
        return Job(self.world, scenario, friendly, "item", item, tasks, details_type=details,
                   affected=self.affected(item), locks=[item], on_success=on_success, on_failure=on_failure,
                   restart=restart, target_object_id=item["vm_id"])

    def child_job(self, item, scenario, friendly, target_object_id):
        """A separate job that a task of a reprotect job runs (DiscoverReplica, EnableDr): GET-able, listed."""
        job = Job(self.world, scenario, friendly, "child", item, [], affected=self.affected(item),
                  target_object_id=target_object_id, target_type="Vm")
        return self.engine.register(job)

    # ------------------------------------------------------------------ reprotect (SwitchProtection), both directions
    def switch_protection(self, item, preflight, discover, protect, succeeded, failed=None, restart=None,
                          discover_child=None, protect_child=None):
        """The recorded reprotect job: preflight, commit the failover if it is not committed yet, discover the
        replica, get the requirements, protect. ``discover_child`` / ``protect_child`` = (scenario, friendly,
        targetObjectId) of the separate job that task runs."""
        pending = item["stage"] in PENDING

        def commit():
            self.commit_step(item)()
            with self.world.lock:
                self.mark_committed(item)

        def step(task_id, name, friendly, run, child):
            if child is None:
                return _task(task_id, name, friendly, run)
            child_job = self.child_job(item, *child)
            return _task(task_id, name, friendly + " (1)", children=[
                _task(child_job.scenario, item["name"], item["name"], run, child_job=child_job)])

        tasks = [_task("SwitchReplicationGroupProtectionPreflightTask", "SwitchReplicationGroupProtectionPreflightTask",
                       "Prerequisite check", preflight),
                 _task("CommitFailoverTask", "VmCommitFailover", "Committing failover", commit, skip=not pending),
                 step("DiscoverReplicaTask", "DiscoverReplicaTask", "Discovering replica virtual machine", discover,
                      discover_child),
                 _task("GetSwitchProtectionRequirementsTask", "GetSwitchProtectionRequirementsTask",
                       "Getting reprotection requirements"),
                 step("ProtectReplicaTask", "ProtectReplicaTask", "Reprotecting virtual machine", protect, protect_child)]

        def done(job):
            job.new_item_id = item["id"]  # the same item: it keeps its ARM name across reprotect (fact 8)
            succeeded(job)
        return self._job(item, "SwitchReplicationGroupProtection", "Reprotect", tasks, "SwitchProtectionJobDetails",
                         on_success=done, on_failure=failed, restart=restart)

    # ------------------------------------------------------------------ reprotect Azure -> on-prem (InMage)
    def reprotect_to_onprem(self, item, params):
        mt = params["master_target"]
        state = {}

        def preflight():
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

        def discover():
            """The replica (the on-prem VM, or the place of a new one) as the master target sees it."""
            if mt.get("configuration_server"):
                raise errors.master_target_without_datastores(item, mt)
            if self.effects is not None:
                self.effects.check_reprotect(item["name"], mt["vm"], datastore=params.get("datastore"),
                                             original_location=state["original"], uuid=item["instance_uuid"],
                                             mt_uuid=mt.get("instance_uuid"))

        def protect():
            with self.world.lock:
                item["stage"] = "reprotecting_to_onprem"
                item["vm_id"] = self.world.mint_vm_id()  # the Azure VM, a new machine to the configuration server
                item["master_target"] = mt["vm"]
                item["datastore"] = params.get("datastore")
                item["process_server_id"] = params["process_server"]["id"]
                item["retention_drive"] = params["retention_drive"]
                item["run_as_account_id"] = params.get("run_as_account_id")
                item["failback_policy_id"] = params["policy"]["id"]
            if self.effects is not None:
                if state["original"]:
                    self.effects.prepare_original_location(item["name"], mt["vm"], uuid=item["instance_uuid"],
                                                           mt_uuid=mt.get("instance_uuid"))
                else:
                    self.effects.prepare_alternate_location(item["name"], mt["vm"], params["datastore"],
                                                            item["spec"]["disk_sizes_gb"], mt_uuid=mt.get("instance_uuid"))

        def succeeded(job):
            self.replicating_to_onprem(item)

        def failed(job):
            if item["stage"] == "reprotecting_to_onprem":
                item["stage"] = "running_in_azure"
                item["vm_id"] = item["spec"]["vm_id"]
            item["failed_scenario"] = "Reprotect"

        ip = "10.0.1.%d" % (10 + list(self.world.items).index(item["name"]))  # the Azure VM's IP, as recorded
        return self.switch_protection(item, preflight, discover, protect, succeeded, failed,
                                      restart=lambda: self.reprotect_to_onprem(item, params),
                                      discover_child=("DiscoverReplica", None, ip))

    def replicating_to_onprem(self, item):
        """The end of a reprotect to on-premises: the failback provider's history starts (no failover yet, no test
        failover: the recorded InMage item shows neither; a modernized item keeps its last planned failover)."""
        item["stage"] = "replicating_to_onprem"
        item["failed_scenario"] = None
        item["last_failover_time"] = item.get("pf_start")
        item["test_failover_time"] = None
        self.world.clear_points(item)
        self.world.start_replication(item, time.time(), initial=True)

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
                self.effects.restore_original_location(item["name"], mt["vm"], uuid=item["instance_uuid"],
                                                       mt_uuid=mt.get("instance_uuid"))
            else:
                cpu, memory, guest, firmware = self.new_vm_shape(item)

                def record(uuid):  # ASR records the VM it created, before it moves the disks (one_by_one)
                    with self.world.lock:
                        item["instance_uuid"] = uuid or item["instance_uuid"]

                record(self.effects.create_vm_from_master_target(
                    item["name"], mt["vm"], item["datastore"], cpu, memory, guest, firmware=firmware,
                    mt_uuid=mt.get("instance_uuid"), uuid=item["instance_uuid"], nics=item["spec"]["alternate_nics"],
                    disk_moves=item["spec"]["alternate_disk_moves"], created=record))

        def start():
            if self.effects is not None:
                self.effects.power_on(item["name"], uuid=item["instance_uuid"])
            with self.world.lock:
                item["onprem_on_since"] = time.time()

        return prerequisites, shutdown, synchronize, failover, start

    def mark_failed_back(self, item, params):
        item["stage"] = "failed_back"
        item["failed_scenario"] = None
        item["last_failover_time"] = time.time()
        item["failed_over_once"] = True
        chosen = params.get("chosen")
        item["failover_point_id"] = point_id(item, chosen) if chosen else None

    def unplanned_tasks(self, item, steps, skip):
        prerequisites, shutdown, synchronize, failover, start = steps
        return [_task("UnplannedFailoverPreflightChecksTask", "VmUfoPrerequisitesCheck",
                      "Prerequisites check for failover", prerequisites),
                _task("ShutdownVmOnPrimaryForUFO", "VmShutdownVmOnPrimary", "Shut down the virtual machine", shutdown,
                      skip=skip),
                _task("PrepareForUnPlannedFailoverTask", "VmPrepareForUnPlannedFailover", "Synchronizing the latest changes",
                      synchronize, skip=skip),
                _task("FailoverTask", "VmFailover", "Start failover", failover),
                _task("StartVmOnSecondary", "VmFoStartVmOnSecondary", "Start the replica virtual machine", start)]

    def failover_to_onprem(self, item, params):
        skip = params["source_site_operations"] == "NotRequired"

        def failed(job):
            item["failed_scenario"] = "UnplannedFailover"
            if item["rp_stop"] is not None:
                item["rp_stop"] = None

        return self._job(item, "UnplannedFailover", "Failover",
                         self.unplanned_tasks(item, self.failover_steps(item, params), skip), details="FailoverJobDetails",
                         on_success=lambda job: self.mark_failed_back(item, params), on_failure=failed,
                         restart=lambda: self.failover_to_onprem(item, params))

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
        elif item["stage"] == "failed_over_to_azure":
            item["stage"] = "running_in_azure"

    def commit_tasks(self, item):
        return [_task(str(uuid.uuid4()), "VmCommitPrerequisitesCheck", "Prerequisite check", self.check_cs),
                _task(str(uuid.uuid4()), "VmCommit", "Commit", self.commit_step(item))]

    def commit(self, item):
        return self._job(item, "CommitFailover", "Commit", self.commit_tasks(item),
                         on_success=lambda job: self.mark_committed(item), restart=lambda: self.commit(item))

    # ------------------------------------------------------------------ reprotect on-prem -> Azure (InMageAzureV2)
    def check_agent(self, item):
        since = item["onprem_on_since"]
        wait = float(self.world.timings["agent_registration_seconds"])
        left = (since + wait - time.time()) if since is not None else wait
        if since is None or left > 0:
            raise errors.agent_not_registered(item, left)

    def protected_to_azure(self, item, params):
        item["stage"] = "reprotected_to_azure"
        if not self.world.modernized:  # the on-prem VM again: the replica the configuration server knew (EnableDr)
            item["vm_id"] = item["spec"]["vm_id"]
        item["failed_scenario"] = None
        item["forward_policy_id"] = params["policy"]["id"]
        item["master_target"] = None
        item["test_failover_time"] = None
        self.world.clear_points(item)
        self.world.start_replication(item, time.time(), initial=True)

    def reprotect_to_azure(self, item, params):
        def preflight():
            self.check_cs()
            self.check_in_database(item)

        return self.switch_protection(item, preflight, lambda: self.check_agent(item), None,
                                      lambda job: self.protected_to_azure(item, params),
                                      restart=lambda: self.reprotect_to_azure(item, params),
                                      protect_child=None if self.world.modernized else
                                      ("EnableDr", "Enable replication", item["spec"]["replica_id"]))

    # ------------------------------------------------------------------ forward failover on-prem -> Azure (InMageAzureV2)
    def forward_steps(self, item, params):
        def prerequisites():
            self.check_cs()
            params["chosen"] = self.choose_point(item, params)

        def shutdown():
            if self.effects is not None and item["spec"]["source"] != "physical":
                self.effects.power_off(item["name"], uuid=item["instance_uuid"])

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
        item["failed_over_once"] = True
        chosen = params.get("chosen")
        item["failover_point_id"] = point_id(item, chosen) if chosen else None

    def failover_to_azure(self, item, params):
        skip = params["source_site_operations"] == "NotRequired"

        def failed(job):
            item["failed_scenario"] = "UnplannedFailover"
            item["rp_stop"] = None

        return self._job(item, "UnplannedFailover", "Failover",
                         self.unplanned_tasks(item, self.forward_steps(item, params), skip), details="FailoverJobDetails",
                         on_success=lambda job: self.mark_failed_over(item, params), on_failure=failed,
                         restart=lambda: self.failover_to_azure(item, params))
