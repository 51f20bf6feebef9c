# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GET routes of the vault, and the registration of every Site Recovery route.

Lists are paged with ``nextLink`` (``timings.page_size``, default 100). The vault-wide item
list takes ``$filter=RecoveryPlanName eq 'name'``; the job list takes conjunctions of
``startTime ge|eq '...'`` (jobs started from then), ``endTime``, ``jobStatus``, ``affectedObjectTypes``, ``fabricId``,
``jobName``, ``jobOutputType``, ``timezoneOffset`` (the SDK's JobQueryParameter) and ``targetObjectName`` (``eq``,
joined by ``and``); anything else is a 400 as in ARM. Listed jobs carry empty ``tasks`` and ``errors``, as
ReplicationJobs_List.json shows; their GET has them.
"""

import datetime
import re
import urllib.parse

from ..server import ArmError, asr_not_found
from . import serialize

VAULT = (r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.RecoveryServices/"
         r"vaults/(?P<vault>[^/]+)")
FABRIC = VAULT + r"/replicationFabrics/(?P<fabric>[^/]+)"
CONTAINER = FABRIC + r"/replicationProtectionContainers/(?P<container>[^/]+)"
ITEM = CONTAINER + r"/replicationProtectedItems/(?P<item>[^/]+)"
PLAN = VAULT + r"/replicationRecoveryPlans/(?P<plan>[^/]+)"
JOB = VAULT + r"/replicationJobs/(?P<job>[^/]+)"
CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ge|le|gt|lt)\s+'([^']*)'\s*$", re.IGNORECASE)


def page(request, values, render=None):
    """One page of ``values`` (``render``, when given, turns each value of the page into its body: a list of N
    items costs its page, not N bodies per page)."""
    size = int(request.app_page_size)
    start = int(request.query.get("$skiptoken") or 0)
    chosen = values[start:start + size]
    body = {"value": [render(v) for v in chosen] if render else chosen,
            "nextLink": None}  # ASR sends nextLink null on the last page
    if start + size < len(values):
        parts = urllib.parse.urlsplit(request.raw_path)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "$skiptoken"]
        query.append(("$skiptoken", str(start + size)))
        body["nextLink"] = "%s%s?%s" % (request.base_url, parts.path, urllib.parse.urlencode(query))
    return body


def parse_filter(text):
    clauses = []
    if not text:
        return clauses
    for part in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        match = CLAUSE.match(part)
        if not match:
            raise ArmError(400, "InvalidFilter", "The $filter '%s' is not valid: '%s' is not of the form name eq 'value'."
                           % (text, part.strip()))
        clauses.append((match.group(1).lower(), match.group(2).lower(), match.group(3)))
    return clauses


class Reads:
    def __init__(self, world, actions):
        self.world = world
        self.actions = actions

    def _vault(self, handler):
        def wrapped(request, sub, rg, vault, **groups):
            asr = self.world.asr
            if sub.lower() != self.world.spec["azure"]["subscription_id"].lower():
                raise ArmError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % sub)
            if rg.lower() != asr["resource_group"].lower():
                raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg)
            if vault.lower() != asr["vault"].lower():
                raise ArmError(404, "ResourceNotFound", "The Resource 'Microsoft.RecoveryServices/vaults/%s' under resource "
                               "group '%s' was not found." % (vault, rg))
            request.app_page_size = self.world.timings.get("page_size", 100)
            with self.world.lock:
                return handler(request, **groups)
        return wrapped

    # ------------------------------------------------------------------ infrastructure
    def fabrics(self, request):
        return page(request, [serialize.fabric(self.world, listed=True)])

    def fabric(self, request, fabric):
        self.world.check_fabric(fabric)
        return serialize.fabric(self.world)

    def vcenters(self, request, fabric=None):
        if fabric is not None:
            self.world.check_fabric(fabric)
        return page(request, [serialize.vcenter(self.world, v) for v in self.world.asr["vcenters"]])

    def vcenter(self, request, fabric, vcenter):
        self.world.check_fabric(fabric)
        for entry in self.world.asr["vcenters"]:
            if entry["name"].lower() == vcenter.lower():
                return serialize.vcenter(self.world, entry)
        raise asr_not_found("The vCenter '%s' was not found in fabric '%s'." % (vcenter, fabric))

    def containers(self, request, fabric=None):
        if fabric is not None:
            self.world.check_fabric(fabric)
        return page(request, [serialize.container(self.world)])

    def container(self, request, fabric, container):
        self.world.check_fabric(fabric, container)
        return serialize.container(self.world)

    def mappings(self, request, fabric, container):
        self.world.check_fabric(fabric, container)
        return page(request, serialize.mappings(self.world))

    def mapping(self, request, fabric, container, mapping):
        self.world.check_fabric(fabric, container)
        for body in serialize.mappings(self.world):
            if body["name"].lower() == mapping.lower():
                return body
        raise asr_not_found("The protection container mapping '%s' was not found." % mapping)

    def policies(self, request):
        return page(request, [serialize.policy(self.world, p) for p in self.world.asr["policies"]])

    def policy(self, request, policy):
        found = next((p for p in self.world.asr["policies"] if p["name"].lower() == policy.lower()), None)
        if found is None:
            raise asr_not_found("The replication policy '%s' was not found." % policy)
        return serialize.policy(self.world, found)

    # ------------------------------------------------------------------ items and points
    def items(self, request, fabric=None, container=None):
        if fabric is not None:
            self.world.check_fabric(fabric, container)
        chosen = list(self.world.items.values())
        for key, op, value in parse_filter(request.query.get("$filter")):
            if key == "recoveryplanname" and op == "eq":
                plan = self.world.plan(value)
                names = {i["name"] for g in self.world.plan_items(plan) for i in g}
                chosen = [i for i in chosen if i["name"] in names]
            else:
                raise ArmError(400, "InvalidFilter", "The $filter property '%s' is not supported here." % key)
        return page(request, chosen, lambda i: serialize.protected_item(self.world, i, listed=True))

    def item(self, request, fabric, container, item):
        return serialize.protected_item(self.world, self.world.item_by_arm_name(fabric, container, item))

    def points(self, request, fabric, container, item):
        found = self.world.item_by_arm_name(fabric, container, item)
        return page(request, self.world.points(found), lambda p: serialize.recovery_point(self.world, found, p))

    def point(self, request, fabric, container, item, point):
        found = self.world.item_by_arm_name(fabric, container, item)
        for entry in self.world.points(found):
            if entry["name"].lower() == point.lower():
                return serialize.recovery_point(self.world, found, entry)
        raise asr_not_found("The recovery point '%s' was not found for the replication protected item '%s'."
                            % (point, found["name"]))

    # ------------------------------------------------------------------ plans and jobs
    def plans(self, request):
        return page(request, list(self.world.plans.values()), lambda p: serialize.recovery_plan(self.world, p))

    def plan(self, request, plan):
        return serialize.recovery_plan(self.world, self.world.plan(plan))

    def jobs(self, request):
        chosen = sorted(self.world.jobs.values(), key=lambda j: j.start, reverse=True)
        for key, op, value in parse_filter(request.query.get("$filter")):
            chosen = [j for j in chosen if self._job_matches(j, key, op, value)]
        return page(request, chosen, render=lambda job: self._listed(job.body()))  # only the page's jobs rendered

    @staticmethod
    def _listed(body):
        """A job as the list gives it: ``tasks`` and ``errors`` empty, every other field as its GET (azure-rest-api-specs,
        recoveryservicessiterecovery stable/2025-01-01 examples/ReplicationJobs_List.json); its GET has them."""
        return dict(body, properties=dict(body["properties"], tasks=[], errors=[]))

    @staticmethod
    def _job_matches(job, key, op, value):
        if key in ("starttime", "endtime"):
            try:
                moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ArmError(400, "InvalidFilter", "'%s' is not a date and time." % value) from exc
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.timezone.utc)
            if key == "starttime":
                return job.start >= moment.timestamp()
            return job.end is not None and job.end <= moment.timestamp()
        kind = job.target_type.lower()  # protectionentity, recoveryplan, or vm (a reprotect's child job)
        matchers = {
            "jobstatus": lambda: job.state.lower() in [v.strip().lower() for v in value.split(",")],
            "affectedobjecttypes": lambda: value.lower() in ("", "all", kind),
            "fabricid": lambda: True,
            "targetobjectname": lambda: job.target_name.lower() == value.lower(),
            # JobQueryParameter's other fields (azure-mgmt-recoveryservicessiterecovery models): jobName names the
            # job's scenario (or the job); jobOutputType and timezoneOffset shape an export, not the list
            "jobname": lambda: value.lower() in (job.scenario.lower(), job.name.lower()),
            "joboutputtype": lambda: True,
            "timezoneoffset": lambda: True,
            "scenarioname": lambda: job.scenario.lower() == value.lower(),
        }
        if key not in matchers:
            raise ArmError(400, "InvalidFilter", "The $filter property '%s' is not supported for jobs." % key)
        return matchers[key]()

    def job(self, request, job):
        found = self.actions.find_job(job)
        body = found.body()
        found.polled.set()  # a job NotStarted at its first poll starts now (jobs.Engine._run)
        return body

    # ------------------------------------------------------------------ routes
    def register(self, router):
        actions = self.actions
        v = self._vault
        routes = [
            ("GET", VAULT + r"/replicationFabrics", self.fabrics),
            ("GET", FABRIC, self.fabric),
            ("GET", FABRIC + r"/replicationvCenters", self.vcenters),
            ("GET", FABRIC + r"/replicationvCenters/(?P<vcenter>[^/]+)", self.vcenter),
            ("GET", VAULT + r"/replicationvCenters", self.vcenters),
            ("GET", FABRIC + r"/replicationProtectionContainers", self.containers),
            ("GET", VAULT + r"/replicationProtectionContainers", self.containers),
            ("GET", CONTAINER, self.container),
            ("GET", CONTAINER + r"/replicationProtectionContainerMappings", self.mappings),
            ("GET", CONTAINER + r"/replicationProtectionContainerMappings/(?P<mapping>[^/]+)", self.mapping),
            ("GET", VAULT + r"/replicationPolicies", self.policies),
            ("GET", VAULT + r"/replicationPolicies/(?P<policy>[^/]+)", self.policy),
            ("GET", CONTAINER + r"/replicationProtectedItems", self.items),
            ("GET", VAULT + r"/replicationProtectedItems", self.items),
            ("GET", ITEM, self.item),
            ("GET", ITEM + r"/recoveryPoints", self.points),
            ("GET", ITEM + r"/recoveryPoints/(?P<point>[^/]+)", self.point),
            ("GET", ITEM + r"/operationresults/(?P<op>[^/]+)", actions.operation_result),
            ("POST", ITEM + r"/reProtect", actions.item_reprotect),
            ("POST", ITEM + r"/unplannedFailover", actions.item_unplanned_failover),
            ("POST", ITEM + r"/failoverCommit", actions.item_commit),
            ("POST", ITEM + r"/(?P<action>plannedFailover|failoverCancel|applyRecoveryPoint|testFailover|"
                            r"testFailoverCleanup)", actions.item_refused),
            ("GET", VAULT + r"/replicationRecoveryPlans", self.plans),
            ("GET", PLAN, self.plan),
            ("GET", PLAN + r"/operationresults/(?P<op>[^/]+)", actions.operation_result),
            ("POST", PLAN + r"/unplannedFailover", actions.plan_unplanned_failover),
            ("POST", PLAN + r"/failoverCommit", actions.plan_commit),
            ("POST", PLAN + r"/(?P<action>reProtect|plannedFailover|failoverCancel|testFailover|testFailoverCleanup)",
             actions.plan_refused),
            ("GET", VAULT + r"/replicationJobs", self.jobs),
            ("GET", JOB, self.job),
            ("GET", JOB + r"/operationresults/(?P<op>[^/]+)", actions.operation_result),
            ("POST", JOB + r"/cancel", actions.job_cancel),
            ("POST", JOB + r"/restart", actions.job_restart),
            ("POST", JOB + r"/resume", actions.job_resume),
            ("GET", VAULT + r"/replicationOperationStatus/(?P<op>[^/]+)", actions.operation_status),
        ]
        for method, pattern, handler in routes:
            router.add(method, pattern, v(handler))
