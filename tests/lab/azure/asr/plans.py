# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery plan jobs: one plan job whose tasks cover every item, groups in order.

Unplanned failover: a prerequisites task (every item's checks), a shutdown group task (one
child per item; skipped with sourceSiteOperations NotRequired), then one group task per
boot group, "Group N: Start", whose child task per item fails it over and starts it. An item
moves to its next stage as soon as its own child task succeeds. Commit: a prerequisites
task and one commit group task with a child per item.
"""

import uuid

from ..jobs import Job, Task


class PlanFlows:
    def __init__(self, world, flows):
        self.world = world
        self.flows = flows

    def _job(self, plan, scenario, friendly, tasks, items, details, on_success=None, on_failure=None, restart=None,
             failback=True, params=None):
        """A plan job. affectedObjectDetails as the recorded plan job (SaveRecoveryPlan) shows them: the fabrics'
        ids, names and providers, no item."""
        world = self.world
        vmm = world.asr["container_name"].split("_", 1)[-1]
        name = world.asr["fabric_name"] if world.modernized else world.asr["configuration_server"]["name"]
        onprem = "InMageRcm" if world.modernized else "VMware"
        affected = {"primaryVmmId": vmm, "primaryVmmName": name,
                    "recoveryVmmId": vmm if failback else "21a9403c-6ec1-44f2-b744-b4e50b792387",
                    "recoveryVmmName": name if failback else "Microsoft Azure", "primaryFabricProviderId": onprem,
                    "recoveryFabricProviderId": onprem if failback else "Azure"}
        return Job(world, scenario, friendly, "plan", plan, tasks, details_type=details, affected=affected,
                   locks=[plan, *items], on_success=on_success, on_failure=on_failure, restart=restart,
                   target_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, plan["spec"]["id"])))

    @staticmethod
    def _group(kind, name, group_id, children, skip=False):
        # always RecoveryPlanGroupTaskDetails: SDK 2.0.0 cannot resolve its RecoveryPlanShutdownGroupTaskDetails
        # subclass from a GroupTaskDetails field (one discriminator level only); rpGroupType tells them apart
        details = {"instanceType": "RecoveryPlanGroupTaskDetails", "name": name, "groupId": group_id, "rpGroupType": kind}
        task_name = "RecoveryPlanShutdownGroupTask" if kind == "Shutdown" else "RecoveryPlanGroupTask"
        friendly = "Shut down the virtual machines" if kind == "Shutdown" else name
        return Task(task_name, friendly, children=children, group=details, skip=skip, task_id=task_name)

    def unplanned_failover(self, plan, params):
        """``params``: source_site_operations, recovery_point_type, failback (bool)."""
        groups = self.world.plan_items(plan)
        items = [i for g in groups for i in g]
        failback = params["failback"]
        per_item = {i["name"]: {"recovery_point_type": params["recovery_point_type"]} for i in items}
        steps = {i["name"]: (self.flows.failover_steps(i, per_item[i["name"]]) if failback
                             else self.flows.forward_steps(i, per_item[i["name"]])) for i in items}
        skip = params["source_site_operations"] == "NotRequired"

        def prerequisites():
            for item in items:
                steps[item["name"]][0]()

        def child(item):
            failover, start = steps[item["name"]][3:]

            def run():
                failover()
                start()
                with self.world.lock:
                    if failback:
                        self.flows.mark_failed_back(item, per_item[item["name"]])
                    else:
                        self.flows.mark_failed_over(item, per_item[item["name"]])
            return Task("VmFailover", "Fail over and start '%s'" % item["name"], run=run, item=item)

        def shutdown_child(item):
            def run():
                steps[item["name"]][1]()
                steps[item["name"]][2]()
            return Task("VmShutdownVmOnPrimary", "Shut down '%s'" % item["name"], run=run, item=item, skip=skip)

        def succeeded(job):
            import time
            plan["last_unplanned"] = time.time()
            plan["last_job"] = job.name

        def failed(job):
            plan["last_job"] = job.name
            for item in items:
                if item["stage"] in ("replicating_to_onprem", "replicating_to_azure", "reprotected_to_azure"):
                    item["failed_scenario"] = "UnplannedFailover"
                    item["rp_stop"] = None

        tasks = [Task("RecoveryPlanPrerequisitesCheck", "Prerequisites check for the recovery plan", run=prerequisites),
                 self._group("Shutdown", "Shutdown", "Shutdown",
                             [shutdown_child(i) for i in items], skip=skip)]
        for number, group in enumerate(groups, 1):
            if group:
                tasks.append(self._group("Boot", "Group %d: Start" % number, str(number),
                                         [child(i) for i in group]))
        return self._job(plan, "UnplannedFailover", "Failover", tasks, items, "FailoverJobDetails",
                         on_success=succeeded, on_failure=failed, restart=lambda: self.unplanned_failover(plan, params),
                         failback=failback, params=per_item)

    def commit(self, plan):
        items = [i for g in self.world.plan_items(plan) for i in g]
        failback = all(i["stage"] == "failed_back" for i in items)

        def prerequisites():
            self.flows.check_cs()

        def child(item):
            def run():
                self.flows.commit_step(item)()
                with self.world.lock:
                    self.flows.mark_committed(item)
            return Task("VmCommit", "Commit '%s'" % item["name"], run=run, item=item)

        def finished(job):
            plan["last_job"] = job.name

        tasks = [Task("RecoveryPlanCommitPrerequisitesCheck", "Prerequisites check for commit", run=prerequisites),
                 self._group("Boot", "Commit", "1", [child(i) for i in items])]
        return self._job(plan, "CommitFailover", "Commit", tasks, items, "AsrJobDetails", on_success=finished,
                         on_failure=finished, restart=lambda: self.commit(plan), failback=failback)
