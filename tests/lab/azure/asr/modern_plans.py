# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery plan jobs of the modernized flow: planned failover (the failback) and cancel
failover; commit is the classic plan commit (plans.py).

Planned failover: a prerequisites task (every item's checks), a shutdown group task (one child
per item: shut the Azure VM down, take the fresh recovery point; with ``useMultiVmSyncPoint:
Enable`` every item's point has the same moment), then "Group N: Start" per boot group, whose
child per item creates/powers on the on-prem VM. An item is failed back as soon as its own
child succeeds; when the job fails, the items not failed back yet are cancelled (as ASR does
for a failed planned failover). Cancel: a prerequisites task and one group task with a child
per item."""

import time

from ..jobs import Task


class ModernPlanFlows:
    def __init__(self, plan_flows, modern_flows):
        self.plan_flows = plan_flows
        self.modern = modern_flows
        self.world = plan_flows.world

    def planned_failover(self, plan, params):
        """``params``: recovery_point_type, use_multi_vm_sync_point (bool)."""
        groups = self.world.plan_items(plan)
        items = [i for g in groups for i in g]
        per_item = {i["name"]: {"recovery_point_type": params["recovery_point_type"]} for i in items}
        sync = {} if params["use_multi_vm_sync_point"] else None
        steps = {i["name"]: self.modern.failover_steps(i, per_item[i["name"]], sync) for i in items}
        now = time.time()
        for item in items:
            item["pf_start"] = now

        def prerequisites():
            for item in items:
                steps[item["name"]][0]()

        def shutdown_child(item):
            def run():
                steps[item["name"]][1]()
                steps[item["name"]][2]()
            return Task("VmShutdownVmOnPrimary", "Shut down '%s'" % item["name"], run=run, item=item)

        def child(item):
            failover, start = steps[item["name"]][3:]

            def run():
                failover()
                start()
                with self.world.lock:
                    self.modern.mark_failed_back(item, per_item[item["name"]])
            return Task("VmFailover", "Fail over and start '%s'" % item["name"], run=run, item=item)

        def succeeded(job):
            plan["last_planned"] = time.time()
            plan["last_job"] = job.name

        def failed(job):
            plan["last_job"] = job.name
            for item in items:
                if item["stage"] == "replicating_to_onprem":
                    self.modern.revert(item, per_item[item["name"]], "Failed")

        tasks = [Task("RecoveryPlanPrerequisitesCheck", "Prerequisites check for the recovery plan", run=prerequisites),
                 self.plan_flows._group("Shutdown", "Shutdown", "Shutdown", [shutdown_child(i) for i in items])]
        for number, group in enumerate(groups, 1):
            if group:
                tasks.append(self.plan_flows._group("Boot", "Group %d: Start" % number, str(number),
                                                    [child(i) for i in group]))
        return self.plan_flows._job(plan, "PlannedFailover", "Planned failover", tasks, items, "FailoverJobDetails",
                                    on_success=succeeded, on_failure=failed,
                                    restart=lambda: self.planned_failover(plan, params), params=per_item)

    def cancel(self, plan):
        items = [i for g in self.world.plan_items(plan) for i in g]

        def child(item):
            def run():
                self.modern.cancel_step(item)()
                with self.world.lock:
                    self.modern.revert(item, None, "Cancelled")
            return Task("VmCancelFailover", "Cancel the failover of '%s'" % item["name"], run=run, item=item)

        def finished(job):
            plan["last_job"] = job.name

        tasks = [Task("RecoveryPlanCancelFailoverPrerequisitesCheck", "Prerequisites check for cancel failover"),
                 self.plan_flows._group("Boot", "Cancel failover", "1", [child(i) for i in items])]
        return self.plan_flows._job(plan, "CancelFailover", "Cancel failover", tasks, items, "AsrJobDetails",
                                    on_success=finished, on_failure=finished, restart=lambda: self.cancel(plan))
