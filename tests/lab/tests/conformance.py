# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator against the recordings: for every recorded body of ``tests/recorded/asr``, the emulator's
answer to the same request in the same stage, and the differences of structure between them (shapes.py).

``differences()`` returns ``{(recording, path, difference)}``; ``python -m tests.lab.tests.conformance``
prints them as the rows of the table in ``tests/lab/README.md`` ("Where the emulator still differs from the
recordings"), which test_conformance.py holds as its allow-list.

Each recording has a scenario below: a small vault (the default or modernized spec with the items the
recording needs, in their stages), the request the recording shows, and for jobs the moment of the job the
recording shows (the control API's hold keeps the job at that task). Expected values are the recordings';
nothing here reads what the emulator is expected to answer from the emulator.
"""

import copy
import re
import sys
import tempfile
import time

import requests

from tests.lab import spec as lab_spec
from tests.lab.azure import AzureEmulator
from tests.recorded import asr as recorded

from . import shapes

API = "2025-08-01"
NOT_SERVED = "request not served by the lab"
FAST = {"job_seconds": 0, "agent_registration_seconds": 0, "initial_replication_seconds": 0.2,
        "recovery_point_seconds": 0.3, "app_consistent_every": 1, "retry_after_seconds": 0, "job_start_seconds": 0}
LRO_HEADERS = ("Location", "Azure-AsyncOperation", "Retry-After", "x-ms-request-id", "Content-Length")
DEADLINE = 60.0


class FakeEffects:
    """No vCenter: side effects succeed and a created VM gets an instance UUID."""

    def __init__(self):
        self.on_effect = lambda label: None

    def __getattr__(self, name):
        def call(*args, **kwargs):
            if name.startswith("create_vm"):
                return "50%s" % time.time_ns()
            return None
        return call


# --------------------------------------------------------------------------- vaults
class Vault:
    """One running emulator over a spec whose items are exactly ``items``; raw HTTP with a valid token."""

    def __init__(self, spec_name, items, plans=(), extra=None, workdir=None):
        raw = lab_spec.read(spec_name)
        raw["asr"]["items"] = copy.deepcopy(list(items))
        raw["asr"]["recovery_plans"] = copy.deepcopy(list(plans))
        raw["timings"] = dict(raw.get("timings") or {}, **FAST)
        if extra:
            raw = lab_spec.merge(raw, extra)
        self.spec = lab_spec.normalize(raw)
        self.emulator = AzureEmulator(self.spec, effects=FakeEffects(), workdir=workdir or tempfile.mkdtemp())
        self.emulator.start()
        self.world = self.emulator.world
        self.token = "conformance-token"
        with self.emulator.directory.lock:
            self.emulator.directory.tokens[self.token] = time.time() + 86400

    def stop(self):
        self.emulator.stop()

    # paths
    def vault(self):
        return self.world.vault_id

    def fabric(self):
        return self.world.fabric_id

    def container(self):
        return self.world.container_id

    def item(self, name):
        return self.world.items[name]["id"]

    def request(self, method, path, body=None, query=None):
        params = dict(query or {}, **{"api-version": API})
        response = requests.request(method, self.emulator.url + path, params=params, json=body, verify=self.emulator.ca_file,
                                    headers={"Authorization": "Bearer " + self.token}, timeout=30)
        headers = {name: response.raw.headers.getlist(name) for name in LRO_HEADERS if name in response.raw.headers}
        return response.status_code, headers, (response.json() if response.content else "")

    def get(self, path, query=None):
        status, _headers, body = self.request("GET", path, query=query)
        assert status == 200, (path, status, body)
        return body

    def post(self, path, body=None):
        status, headers, answer = self.request("POST", path, body)
        assert status == 202, (path, status, answer)
        job = re.search(r"/operationresults/([^/?]+)", headers["Location"][0]).group(1)
        return job, {"status": status, "headers": lro_view(headers), "body": answer}

    def action(self, item, action, body=None, hold=None, fail=None):
        """POST an item action; with ``hold`` the job waits at that task, with ``fail`` = (task, code, message)
        it fails there. Returns (job name, the 202 as lro_view)."""
        if hold is not None:
            self.emulator.engine.arm_hold("item", item, hold)
        if fail is not None:
            self.emulator.engine.arm_failure("item", item, *fail)
        return self.post(self.item(item) + "/" + action, body)

    def job(self, name):
        return self.get(self.vault() + "/replicationJobs/" + name)

    def held(self, name):
        """The job's body once it waits at its hold point."""
        job = self.world.jobs[name]
        assert job.held.wait(DEADLINE), "job %s never reached its hold point" % name
        return self.job(name)

    def finished(self, name):
        job = self.world.jobs[name]
        self.emulator.engine.release(job)
        assert job.done.wait(DEADLINE), "job %s did not finish" % name
        return self.job(name)

    def wait_points(self, item):
        ends = time.monotonic() + DEADLINE
        while not self.world.points(self.world.items[item]):
            assert time.monotonic() < ends, "no recovery point for %s" % item
            time.sleep(0.05)


def lro_view(headers):
    """The parts of a 202's headers that the recordings fix: which headers, how many values, their form."""
    view = {}
    location = (headers.get("Location") or [""])[0]
    job = re.search(r"/operationresults/([^/?]+)", location)
    job = job.group(1) if job else None
    for name in LRO_HEADERS:
        if name not in headers:
            continue
        view[name] = [_header_form(name, value, job) for value in headers[name]]
    return view


def _header_form(name, value, job):
    if name == "Location":
        match = re.match(r"^https://[^/]+/Subscriptions/.*/(\w+)/[^/]+/operationresults/[^/?]+\?api-version=(.+)$", value)
        return "operationresults under %s, api-version %s" % match.groups() if match else "other: " + value
    if name == "Azure-AsyncOperation":
        match = re.match(r"^https://[^/]+/Subscriptions/.*/vaults/[^/]+/replicationOperationStatus/([^/?]+)"
                         r"\?api-version=(.+)$", value)
        return ("replicationOperationStatus of the job, api-version %s" % match.group(2)
                if match and match.group(1) == job else "other: " + value)
    if name == "Retry-After":
        return "seconds" if value.isdigit() else value
    if name == "x-ms-request-id":
        return ("the job's ARM id" if job and re.match(r"^/Subscriptions/.*/replicationJobs/%s$" % re.escape(job), value)
                else "not the job's id")
    return value


def recorded_view(name):
    body, source = recorded.load(name)
    if name.startswith("lro_202."):
        return {"status": source["status"], "headers": lro_view(source["headers"]), "body": body}
    return body


# --------------------------------------------------------------------------- scenarios
# items of the small vaults (default.yml's VMs). The recorded items are all of VMware VMs: their InMage items (after
# the reprotect) are compared with lab VMs of vCenter at the same stage, never with physical servers (an InMage item
# says discoveryType Physical for both, so only a vCenter VM shows whether the lab sends what ASR sends for one)
POINTS = [{"age_minutes": 3}, {"age_minutes": 20, "type": "ApplicationConsistent"},
          {"age_minutes": 40, "type": "ApplicationConsistent"}]
# the recorded VMs are UEFI: so are the lab's here
# (and have two disks at least, as the recorded ones)
UEFI = {"vcenter": {"datacenters": [{"name": "DC1", "vms": [{"name": name, "firmware": "efi"} for name in (
    "app01", "app02", "db01", "web03")] + [{"name": "web01", "firmware": "efi", "disks": [{"size_gb": 40}, {"size_gb": 20}]}]}]}}
CLASSIC = {
    "running": {"name": "app01", "stage": "running_in_azure"},
    "pending": {"name": "app02", "stage": "failed_over_to_azure"},
    "forward": {"name": "app01", "stage": "replicating_to_azure", "recovery_points": POINTS},
    "onprem": {"name": "app02", "stage": "replicating_to_onprem", "master_target": "mt-win01", "recovery_points": POINTS},
    "onprem2": {"name": "fs02", "source": "physical", "os": "Windows", "disk_sizes_gb": [30, 5],
                "stage": "replicating_to_onprem", "master_target": "mt-win01", "datastore": "vmfs-01",
                "recovery_points": POINTS},
    "back": {"name": "db01", "stage": "failed_back", "master_target": "mt-win01"},
    "back2": {"name": "web03", "stage": "failed_back", "master_target": "mt-lin01"},
    "back3": {"name": "app02", "stage": "failed_back", "master_target": "mt-win01"},
    "committed": {"name": "db01", "stage": "failback_committed", "master_target": "mt-win01"},
}
MODERN = {
    "forward": {"name": "db01", "stage": "replicating_to_azure", "recovery_points": POINTS},
    "pending": {"name": "app02", "stage": "failed_over_to_azure"},
    "running": {"name": "app01", "stage": "running_in_azure"},
    "onprem": {"name": "web03", "stage": "replicating_to_onprem", "appliance": "appl01", "recovery_points": POINTS,
               "last_planned_failover": {"status": "Succeeded", "age_minutes": 90}},
    "onprem_new": {"name": "web01", "stage": "replicating_to_onprem", "appliance": "appl02", "recovery_points": POINTS},
    "back": {"name": "app01", "stage": "failed_back", "appliance": "appl01"},
}
LOG_SA = "/subscriptions/00000000-0000-4000-8000-000000000003/resourceGroups/rg-dr/providers/Microsoft.Storage/" \
         "storageAccounts/asrlog01"


class Scenarios:
    """Runs every scenario once, each in the vault it needs; ``result(name)`` is the lab's body for a recording."""

    def __init__(self):
        self.results = {}
        self.vaults = []

    def vault(self, spec_name, items, plans=(), extra=None):
        made = Vault(spec_name, items, plans, lab_spec.merge(UEFI, extra or {}))
        self.vaults.append(made)
        return made

    def close(self):
        for made in self.vaults:
            made.stop()

    def run(self):
        try:
            for step in (self.classic_infrastructure, self.classic_items, self.classic_reprotect_to_onprem,
                         self.classic_failover, self.classic_commit, self.classic_reprotect_to_azure, self.classic_errors,
                         self.modern_infrastructure, self.modern_items, self.modern_reprotect_to_onprem,
                         self.modern_planned_failover, self.modern_cancel, self.modern_commit,
                         self.modern_reprotect_to_azure):
                step()
        finally:
            self.close()
        return self.results

    # ------------------------------------------------------------------ classic
    def classic_infrastructure(self):
        vault = self.vault("default.yml", [CLASSIC["running"]])
        self.results["fabric_get.VMware.healthy.v2aFailbackReprotect"] = vault.get(vault.fabric())
        self.results["fabrics_list.V2ATestFailback"] = vault.get(vault.vault() + "/replicationFabrics")
        self.results["containers_list.V2ATestFailback"] = vault.get(vault.fabric() + "/replicationProtectionContainers")
        self.results["container_mappings_list.V2ATestFailback"] = vault.get(
            vault.container() + "/replicationProtectionContainerMappings")
        self.results["policies.classic.V2ATestFailback"] = vault.get(vault.vault() + "/replicationPolicies")
        self.results["vcenter_get.classic.V2AVCenterTest"] = vault.get(vault.fabric() + "/replicationvCenters/vcenter01.lab")
        unhealthy = self.vault("cs-unhealthy.yml", [CLASSIC["running"]])
        self.results["fabric_get.VMware.unhealthy_cs.V2AFabricTests"] = unhealthy.get(unhealthy.fabric())

    def classic_items(self):
        vault = self.vault("default.yml", [CLASSIC["running"], CLASSIC["onprem"], CLASSIC["committed"]])
        self.results["item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection"] = vault.get(
            vault.item("app01"))
        self.results["item_get.InMage.replicating_to_onprem.V2ATestFailback"] = vault.get(vault.item("app02"))
        self.results["item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect"] = vault.get(vault.item("db01"))
        before = self.vault("default.yml", [CLASSIC["onprem"], CLASSIC["forward"]])
        self.results["items_list.V2ATestFailback.before_failover"] = before.get(
            before.container() + "/replicationProtectedItems")
        after = self.vault("default.yml", [CLASSIC["committed"], CLASSIC["forward"]])
        self.results["items_list.after_failback_committed.V2ATestReprotect"] = after.get(
            after.container() + "/replicationProtectedItems")

    def _classic_reprotect_input(self, vault, master_target="mt-win01", datastore="vmfs-01"):
        mt = vault.world.master_target(master_target)
        policy = next(p["id"] for p in vault.spec["asr"]["policies"] if p["provider"] == "InMage")
        cs = vault.spec["asr"]["configuration_server"]
        return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMage", "masterTargetId": mt["id"], "processServerId": cs["id"],
            "retentionDrive": mt["retention_volumes"][0]["name"], "runAsAccountId": "2", "datastoreName": datastore,
            "diskExclusionInput": {"volumeOptions": [{"volumeLabel": "Temporary Storage", "onlyExcludeIfSingleVolume": "Yes"}]},
            "profileId": policy}}}

    def classic_reprotect_to_onprem(self):
        vault = self.vault("default.yml", [CLASSIC["running"]])
        job, accepted = vault.action("app01", "reProtect", self._classic_reprotect_input(vault), hold="DiscoverReplicaTask")
        self.results["lro_202.reProtect.to_onprem.InMage.V2ATestSwitchProtection"] = accepted
        self.results["job.reprotect_to_onprem.inprogress_first_poll.child_job.InMageAzureV2.V2ATestSwitchProtection"] = \
            vault.held(job)
        vault.finished(job)

    def classic_failover(self):
        vault = self.vault("default.yml", [CLASSIC["onprem"], CLASSIC["onprem2"]])
        body = {"properties": {"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
                               "providerSpecificDetails": {"instanceType": "InMage", "recoveryPointType": "LatestTime"}}}
        first, accepted = vault.action("app02", "unplannedFailover", body, hold=1)
        self.results["lro_202.unplannedFailover.V2ATestFailback"] = accepted
        self.results["job.failback_failover.inprogress_first_poll.V2ATestFailback"] = vault.held(first)
        mid, _accepted = vault.action("fs02", "unplannedFailover", body, hold="FailoverTask")
        self.results["job.failback_failover.inprogress_mid.V2ATestFailback"] = vault.held(mid)
        self.results["job.failback_failover.succeeded.V2ATestFailback"] = vault.finished(mid)
        vault.finished(first)

    def classic_commit(self):
        vault = self.vault("default.yml", [CLASSIC["back"], CLASSIC["back2"]])
        job, accepted = vault.action("db01", "failoverCommit", hold=0)
        self.results["lro_202.failoverCommit.V2ATestFailback"] = accepted
        self.results["job.commit.notstarted_first_poll.V2ATestFailback"] = vault.held(job)
        vault.finished(job)
        job, _accepted = vault.action("web03", "failoverCommit", hold=2)
        self.results["job.commit.inprogress.V2ATestFailback"] = vault.held(job)
        self.results["job.commit.succeeded.V2ATestFailback"] = vault.finished(job)
        failing = self.vault("default.yml", [CLASSIC["back3"]])
        body, _source = recorded.load("job.commit_failback.failed_with_errors.V2ATestJob")
        error = body["properties"]["errors"][0]["serviceErrorDetails"]  # the recorded failure, injected
        job, _accepted = failing.action("app02", "failoverCommit", fail=(1, error["code"], error["message"]))
        self.results["job.commit_failback.failed_with_errors.V2ATestJob"] = failing.finished(job)

    def classic_reprotect_to_azure(self):
        vault = self.vault("default.yml", [CLASSIC["committed"]])
        cs = vault.spec["asr"]["configuration_server"]
        policy = next(p["id"] for p in vault.spec["asr"]["policies"] if p["provider"] == "InMageAzureV2")
        body = {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMageAzureV2", "masterTargetId": cs["id"], "processServerId": cs["id"],
            "runAsAccountId": "2", "policyId": policy}}}
        job, accepted = vault.action("db01", "reProtect", body, hold="ProtectReplicaTask")
        self.results["lro_202.reProtect.to_azure.InMageAzureV2.V2ATestReprotect"] = accepted
        self.results["job.reprotect_to_azure.inprogress_first_poll.child_job.InMage.V2ATestReprotect"] = vault.held(job)
        self.results["job.reprotect_to_azure.succeeded.child_job.InMage.V2ATestReprotect"] = vault.finished(job)

    def classic_errors(self):
        vault = self.vault("default.yml", [CLASSIC["running"]])
        status, _headers, body = vault.request("GET", vault.vault() + "/replicationRecoveryPlans/RPSwag96")
        assert status == 404, (status, body)
        self.results["error.404_not_found.recovery_plan.TestEnumerateRP"] = body

    # ------------------------------------------------------------------ modernized
    def modern_infrastructure(self):
        vault = self.vault("modernized.yml", [MODERN["forward"]],
                           plans=[{"name": "v2arcm-pwsh-rp", "groups": [{"items": ["db01"]}]}])
        self.results["fabric_get.InMageRcm.TestV2ARCMFailback"] = vault.get(vault.fabric())
        self.results["container_mappings_list.modernized.TestV2ARCMFailback"] = vault.get(
            vault.container() + "/replicationProtectionContainerMappings")
        self.results["policies.modernized.TestV2ARCMFailback"] = vault.get(vault.vault() + "/replicationPolicies")
        self.results["recovery_plan_get.InMageRcm.TestV2ARCMRecoveryPlan"] = vault.get(
            vault.vault() + "/replicationRecoveryPlans/v2arcm-pwsh-rp")

    def modern_items(self):
        vault = self.vault("modernized.yml", [MODERN["forward"], MODERN["pending"], MODERN["running"], MODERN["onprem"],
                                              dict(MODERN["back"], name="web01")])
        self.results["item_get.InMageRcm.Protected.TestV2ARCMRecoveryPlan"] = vault.get(vault.item("db01"))
        self.results["item_get.InMageRcm.UnplannedFailoverCommitPendingStatesBegin.TestV2ARCMCommit"] = vault.get(
            vault.item("app02"))
        self.results["item_get.InMageRcm.UnplannedFailoverCommitted.TestV2ARCMReprotect"] = vault.get(vault.item("app01"))
        self.results["item_get.InMageRcmFailback.replicating_to_onprem.TestV2ARCMFailback"] = vault.get(
            vault.item("web03"))
        self.results["item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect"] = vault.get(
            vault.item("web01"))
        bios = {"vcenter": {"datacenters": [{"name": "DC1", "vms": [{"name": "app02", "firmware": "bios"}]}]}}
        listed = self.vault("modernized.yml", [MODERN["forward"], dict(MODERN["forward"], name="app02"),
                                               MODERN["onprem"], MODERN["onprem_new"]], extra=bios)
        self.results["items_list.modernized.TestV2ARCMFailback"] = listed.get(
            listed.container() + "/replicationProtectedItems")

    def _modern_reprotect_input(self, vault, appliance="appl01", datastore="vmfs-01"):
        agent = next(a for a in vault.spec["asr"]["appliances"] if a["name"] == appliance)
        policy = next(p["id"] for p in vault.spec["asr"]["policies"] if p["provider"] == "InMageRcmFailback")
        return {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
            "instanceType": "InMageRcm", "reprotectAgentId": agent["id"], "datastoreName": datastore,
            "logStorageAccountId": LOG_SA, "policyId": policy}}}

    def modern_reprotect_to_onprem(self):
        vault = self.vault("modernized.yml", [MODERN["running"]])
        job, accepted = vault.action("app01", "reProtect", self._modern_reprotect_input(vault), hold=1)
        self.results["lro_202.reProtect.to_onprem.InMageRcm.TestV2ARCMReprotect"] = accepted
        self.results["job.reprotect_to_onprem.inprogress_first_poll.InMageRcm.TestV2ARCMReprotect"] = vault.held(job)
        items = vault.get(vault.container() + "/replicationProtectedItems")["value"]
        self.results["item while a job runs"] = next(i for i in items if i["properties"]["friendlyName"] == "app01")
        self.results["job running on the item"] = job
        vault.finished(job)

    def modern_planned_failover(self):
        vault = self.vault("modernized.yml", [MODERN["onprem"]])
        body = {"properties": {"providerSpecificDetails": {"instanceType": "InMageRcmFailback",
                                                           "recoveryPointType": "ApplicationConsistent"}}}
        job, accepted = vault.action("web03", "plannedFailover", body, hold=1)
        self.results["lro_202.plannedFailover.modernized.TestV2ARCMFailback"] = accepted
        self.results["job.modernized_planned_failover.inprogress.TestV2ARCMFailback"] = vault.held(job)
        vault.finished(job)

    def modern_cancel(self):
        vault = self.vault("modernized.yml", [MODERN["back"]])
        job, _accepted = vault.action("app01", "failoverCancel", hold=2)
        self.results["job.cancel_failback_modernized.inprogress_first_poll.InMageRcmFailback.TestV2ARCMCancelFailover"] = \
            vault.held(job)
        vault.finished(job)

    def modern_commit(self):
        vault = self.vault("modernized.yml", [MODERN["pending"]])
        job, accepted = vault.action("app02", "failoverCommit")
        self.results["lro_202.failoverCommit.modernized.TestV2ARCMCommit"] = accepted
        self.results["job.commit_modernized.succeeded.InMageRcm.TestV2ARCMCommit"] = vault.finished(job)

    def modern_reprotect_to_azure(self):
        vault = self.vault("modernized.yml", [MODERN["back"]])
        agent = vault.spec["asr"]["appliances"][0]
        policy = next(p["id"] for p in vault.spec["asr"]["policies"] if p["provider"] == "InMageRcm")
        body = {"properties": {"providerSpecificDetails": {
            "instanceType": "InMageRcmFailback", "processServerId": agent["process_server_id"], "runAsAccountId": "1",
            "policyId": policy}}}
        job, accepted = vault.action("app01", "reProtect", body, hold=1)
        self.results["lro_202.reProtect.to_azure.InMageRcmFailback.TestV2ARCM540Reprotect"] = accepted
        self.results["job.reprotect_to_azure.inprogress_first_poll.InMageRcmFailback.TestV2ARCM540Reprotect"] = \
            vault.held(job)
        vault.finished(job)


# the requests of recordings the lab does not serve: it emulates failback, not vault administration nor enabling
# protection (the job-running shape of items_list_entry... is checked by test_conformance on a lab job instead)
NOT_SERVED_BY_THE_LAB = ("job.recovery_plan_save.succeeded_first_poll.TestV2ARCMRecoveryPlan",
                         "job.remove_vcenter.succeeded.V2AVCenterTest", "lro_202.add_vcenter.V2AVCenterTest",
                         "items_list_entry.InMageRcm.UnprotectedStatesBegin_job_running.TestV2ARCMTestFailover")


def differences(results=None):
    """``{(recording, path, difference)}`` for every recorded body."""
    results = Scenarios().run() if results is None else results
    found = set()
    for name in recorded.names():
        if name in NOT_SERVED_BY_THE_LAB:
            found.add((name, "$", NOT_SERVED))
            continue
        if name not in results:
            found.add((name, "$", "no scenario"))
            continue
        in_job = name.startswith("job.")
        for path, difference in shapes.diff(recorded_view(name), results[name], in_job=in_job):
            found.add((name, path, difference))
    return found


# --------------------------------------------------------------------------- the README's table
README = "tests/lab/README.md"
BEGIN = "<!-- conformance-table:begin -->"
END = "<!-- conformance-table:end -->"


def _cell(text):
    return text.replace("|", "\\|")


def _uncell(text):
    return text.strip().replace("\\|", "|").strip("`")


def table_rows(path=README):
    """``{(recording, path, difference): reason}`` from the table between the markers of the README."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    body = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = {}
    for raw in body.splitlines():
        line = raw.strip()
        if not line.startswith("|") or line.startswith("| recording") or set(line) <= set("|- "):
            continue
        cells = [_uncell(c) for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if len(cells) != 4:
            raise ValueError("a row of the conformance table needs 4 cells: %s" % line)
        rows[tuple(cells[:3])] = cells[3]
    return rows


def markdown(found, reasons=None):
    reasons = reasons or {}
    lines = ["| recording | path | difference | reason |", "|---|---|---|---|"]
    for row in sorted(found):
        lines.append("| %s | `%s` | %s | %s |" % (row[0], _cell(row[1]), _cell(row[2]), reasons.get(row, "")))
    return "\n".join(lines)


if __name__ == "__main__":  # print the current differences as the README's table (reasons kept where known)
    try:
        known = table_rows()
    except (OSError, IndexError):
        known = {}
    print(markdown(differences(), known))
    sys.exit(0)
