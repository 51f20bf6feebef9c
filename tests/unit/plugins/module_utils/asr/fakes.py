# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fakes for the asr tests.

The bodies below are the service's recorded responses (shared/fixtures/asr-recorded, from the public
azure-powershell session records V2ATestFailback.json and TestV2ARCMFailback.json), trimmed to the fields
the code reads; every value kept is verbatim. Where no recording shows a state (an InMage item failed
back but not committed, a failed job, a recovery-point list of a failback item) the body is built from
asr-api.md and says so. Nothing here comes from the lab emulator.

``FakeSiteRecovery`` stands in for ``session.site_recovery`` under the real ``Vault``: it serves the
lists, records every ``begin_*`` call with its body, answers it like ASR does (202 with ``Location``
naming the job) and serves the job from ``replication_jobs.get``.
"""

import copy
import itertools
import types

from azure.mgmt.recoveryservicessiterecovery import models

from ansible_collections.siterecovery.failback.plugins.module_utils.asr.vault import Vault
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.tests.unit.helpers import FakeClock

# ---------------------------------------------------------------------------------------------- classic (V2A)
SUB = "/Subscriptions/b8aef8e1-37df-4f17-a537-f10e183c8eca"
RG = "PwsTestRG"
VAULT_NAME = "PwsTestVault"
VAULT_ID = SUB + "/resourceGroups/PwsTestRG/providers/Microsoft.RecoveryServices/vaults/PwsTestVault"
FABRIC = "9a60d28b65543435e52e1b81073c6a3aca7dd5d00d201e49fbe4e86848c495ed"
CONTAINER = "cloud_01fbe5d9-6391-45fc-a729-bef0b458c9fe"
CONTAINER_ID = VAULT_ID + "/replicationFabrics/" + FABRIC + "/replicationProtectionContainers/" + CONTAINER
CS = "PwsTestCS"                                  # the configuration server: fabric friendlyName
CS_PS_ID = "14968BDF-E18E-7F45-A9B0E3EFAC2DDCA2"  # its own process server (and master target)
PS = "V2A-PS-200"                                 # the other process server (and master target)
PS_ID = "30AE6187-5869-8E44-B8AF6AA66E3ECC8F"
FAILBACK_POLICY = VAULT_ID + "/replicationPolicies/Ploicyv2a-failback"  # InMage (the recording's spelling)
FORWARD_POLICY = VAULT_ID + "/replicationPolicies/Policyv2a"            # InMageAzureV2
ITEM = "V2A-W2K16-201-new"      # the InMage (failback) item
VM = "V2A-W2K16-201"
FORWARD_ITEM = "V2A-W2K19-202"  # the InMageAzureV2 item of the same list
FORWARD_VM = "V2A-W2K19-202"
AZURE_VM_ID = "/subscriptions/b8aef8e1-37df-4f17-a537-f10e183c8eca/resourceGroups/PwsTestRG/providers/" \
              "Microsoft.Compute/virtualMachines/"  # targetVmId as recorded before failover: no name yet

# ---------------------------------------------------------------------------------------------- modernized (RCM)
RCM_SUB = "/Subscriptions/b364ed8d-4279-4bf8-8fd1-56f8fa0ae05c"
RCM_VAULT_ID = RCM_SUB + "/resourceGroups/V2A-ECY/providers/Microsoft.RecoveryServices/vaults/Rcm-Vault-150"
RCM_FABRIC = "Rcm-Vault-150-vmwarefabric"
RCM_CONTAINER = "Rcm-Vault-4678replicationcontainer"
RCM_CONTAINER_ID = RCM_VAULT_ID + "/replicationFabrics/" + RCM_FABRIC + "/replicationProtectionContainers/" + RCM_CONTAINER
RCM_ITEM = "vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8"  # InMageRcmFailback, Rcm-W2K19-152
RCM_VM = "Rcm-W2K19-152"
RCM_FORWARD_ITEM = "vcenter67_50159b46-9b4c-de0a-71bb-0bb32fe964af"  # InMageRcm, Rcm-W2K16-153
RCM_FORWARD_VM = "Rcm-W2K16-153"
APPLIANCE_150 = ("7d30ec24-f20e-4c17-8dfd-d7ccb444b072", "Rcm-App-150")
APPLIANCE_151 = ("c145803b-80bc-4a11-b8ae-d2a4d150700e", "Rcm-App-151")
RCM_FORWARD_POLICY = RCM_VAULT_ID + "/replicationPolicies/24-hour-replication-policy"
RCM_APP_FAILBACK_POLICY = RCM_VAULT_ID + "/replicationPolicies/appconsistency-policy-failback"
RCM_CRASH_FAILBACK_POLICY = RCM_VAULT_ID + "/replicationPolicies/crashconsistency-policy-failback"
LOG_STORAGE = "/subscriptions/b364ed8d-4279-4bf8-8fd1-56f8fa0ae05c/resourceGroups/V2A-ECY/providers/" \
              "Microsoft.Storage/storageAccounts/v2aecystor"

IDLE = {"scenarioName": "None", "jobId": VAULT_ID + "/replicationJobs/None", "startTime": "1753-01-01T01:01:01Z"}

# Item states. Recorded: REPLICATING_TO_ONPREM (item_get.InMage...), PROTECTED (items_list, forward),
# RCM_REPLICATING_TO_ONPREM (item_get.InMageRcmFailback...); COMMITTED is asr-api.md 3.2 (REC-RP).
REPLICATING_TO_ONPREM = {"protectionState": "Protected", "protectionStateDescription": "Protected",
                         "activeLocation": "Primary", "allowedOperations": ["UnplannedFailover", "DisableProtection"]}
COMMITTED = {"protectionState": "UnplannedFailoverCommitted", "protectionStateDescription": "Failover committed",
             "activeLocation": "Recovery", "allowedOperations": ["CompleteMigration", "DisableProtection", "SwitchProtection"]}
PROTECTED = {"protectionState": "Protected", "protectionStateDescription": "Protected", "activeLocation": "Primary",
             "allowedOperations": ["UnplannedFailover", "DisableProtection", "TestFailover"]}
RCM_REPLICATING_TO_ONPREM = {"protectionState": "Protected", "protectionStateDescription": "Protected",
                             "activeLocation": "Primary", "allowedOperations": ["PlannedFailover", "DisableProtection"]}
# Not in any recording (asr-api.md 3.2 marks them UNCONFIRMED); the operation names are the SDK's
# ReplicationProtectedItemOperation values (asr-api.md 3.1), the state strings asr-api.md 3.1 lists.
FAILED_BACK = {"protectionState": None, "protectionStateDescription": None, "activeLocation": "Recovery",
               "allowedOperations": ["Commit", "DisableProtection"]}
RCM_FAILED_BACK = {"protectionState": None, "protectionStateDescription": None, "activeLocation": "Recovery",
                   "allowedOperations": ["Commit", "CancelFailover", "DisableProtection"]}
FAILOVER_FAILED = {"protectionState": "UnplannedFailoverFailed", "protectionStateDescription": None,
                   "activeLocation": "Primary", "allowedOperations": ["UnplannedFailover", "DisableProtection"]}
RUNNING_IN_AZURE = {"protectionState": "UnplannedFailoverCommitted", "protectionStateDescription": "Failover committed",
                    "activeLocation": "Recovery", "allowedOperations": ["ReverseReplicate", "DisableProtection"]}
MIGRATED = {"protectionState": "MigrationCompleted", "protectionStateDescription": None, "activeLocation": "Recovery",
            "allowedOperations": ["DisableProtection"]}


def running(scenario, job="0c8d4d5e-1111-4a6f-9d1b-2f5d8c9e0a11"):
    """``currentScenario`` while a job runs (asr-api.md 3.1: it names the scenario and the job)."""
    return {"currentScenario": {"scenarioName": scenario, "jobId": VAULT_ID + "/replicationJobs/" + job,
                                "startTime": "2021-04-06T12:02:36Z"}}


def _item(container_id, name, friendly, props, details):
    body = {"friendlyName": friendly, "currentScenario": IDLE, "replicationHealth": "Normal",
            "failoverHealth": "Normal", "healthErrors": []}
    body.update(copy.deepcopy(props))
    body["providerSpecificDetails"] = copy.deepcopy(details)
    return models.ReplicationProtectedItem({
        "id": "%s/replicationProtectedItems/%s" % (container_id, name), "name": name,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
                "replicationProtectedItems",
        "properties": body})


def inmage_item(state=None, name=ITEM, friendly=VM, group=None, details=None, **props):
    """The InMage item of item_get.InMage.replicating_to_onprem (reprotected to on-premises)."""
    merged = dict(REPLICATING_TO_ONPREM, policyId=FAILBACK_POLICY, policyFriendlyName="Ploicyv2a-failback")
    merged.update(state or {})
    merged.update(props)
    provider = {
        "instanceType": "InMage", "activeSiteType": "Azure", "osDetails": {"osVhdId": None, "osType": "Windows",
                                                                           "vhdName": None},
        "vmId": "35dd7b4c-96c2-11eb-a892-000d3ad78fab", "infrastructureVmId": "35dd7b4c-96c2-11eb-a892-000d3ad78fab",
        "vCenterInfrastructureId": None, "discoveryType": "Physical", "datastores": ["datastore1"],
        "processServerId": CS_PS_ID, "masterTargetId": PS_ID,
        "multiVmGroupId": "826b9831-3f12-4bd2-aa80-77ae9e925548",
        "multiVmGroupName": group or "826b9831-3f12-4bd2-aa80-77ae9e925548",
        "protectedDisks": [{"diskId": "{5D628CF2-6CAA-468D-9E7A-35881C0D00DE}", "diskName": "Disk2"},
                           {"diskId": "{A0F5A31E-BE66-4F83-A382-F3478D1C800F}", "diskName": "Disk0"}]}
    provider.update(details or {})
    return _item(CONTAINER_ID, name, friendly, merged, provider)


def forward_item(state=None, name=FORWARD_ITEM, friendly=FORWARD_VM, group=None, details=None, **props):
    """The InMageAzureV2 item of items_list.V2ATestFailback (recorded Protected; pass a state to move it)."""
    merged = dict(PROTECTED, policyId=FORWARD_POLICY, policyFriendlyName="Policyv2a")
    merged.update(state or {})
    merged.update(props)
    provider = {
        "instanceType": "InMageAzureV2", "infrastructureVmId": "d375a4fa-963a-11eb-a892-000d3ad78fab",
        "vCenterInfrastructureId": "9", "vmId": "d375a4fa-963a-11eb-a892-000d3ad78fab", "processServerId": PS_ID,
        "multiVmGroupId": "460b58e0-ecf3-47c4-b1c7-ed3467eaf0d5",
        "multiVmGroupName": group or "460b58e0-ecf3-47c4-b1c7-ed3467eaf0d5", "protectedDisks": [],
        "masterTargetId": None, "osType": "Windows", "recoveryAzureVMName": friendly, "discoveryType": "vCenter",
        "datastores": ["datastore1"], "targetVmId": AZURE_VM_ID,
        "recoveryAzureResourceGroupId": "/subscriptions/b8aef8e1-37df-4f17-a537-f10e183c8eca/resourceGroups/PwsTestRG"}
    provider.update(details or {})
    return _item(CONTAINER_ID, name, friendly, merged, provider)


def rcm_item(state=None, name=RCM_ITEM, friendly=RCM_VM, details=None, **props):
    """The InMageRcmFailback item of item_get.InMageRcmFailback.replicating_to_onprem."""
    merged = dict(RCM_REPLICATING_TO_ONPREM, policyId=RCM_APP_FAILBACK_POLICY,
                  lastSuccessfulFailoverTime="2021-08-26T07:42:34.5911733Z")
    merged.update(state or {})
    merged.update(props)
    provider = {
        "instanceType": "InMageRcmFailback",
        "azureVirtualMachineId": "/subscriptions/b364ed8d-4279-4bf8-8fd1-56f8fa0ae05c/resourceGroups/V2A-ECY/providers/"
                                 "Microsoft.Compute/virtualMachines/Rcm-W2K19-152",
        "multiVmGroupName": None, "reprotectAgentId": APPLIANCE_150[0], "reprotectAgentName": APPLIANCE_150[1],
        "osType": "Windows", "logStorageAccountId": LOG_STORAGE, "targetDataStoreName": "SharedDS-84-85",
        "targetVmName": "Rcm-W2K19-152",
        "protectedDisks": [{"diskId": "{6FF6083E-D5EF-4388-9699-232B33441056}"},
                           {"diskId": "{F3A82FA8-88DC-42F9-9464-5E6893CAAF33}"}]}
    provider.update(details or {})
    return _item(RCM_CONTAINER_ID, name, friendly, merged, provider)


def rcm_forward_item(state=None, name=RCM_FORWARD_ITEM, friendly=RCM_FORWARD_VM, **props):
    """The InMageRcm item of items_list.modernized (recorded Protected; pass a state to move it)."""
    merged = dict(PROTECTED, policyId=RCM_FORWARD_POLICY)
    merged.update(state or {})
    merged.update(props)
    provider = {
        "instanceType": "InMageRcm", "multiVmGroupName": None, "discoveryType": "VCenter",
        "processServerId": APPLIANCE_151[0], "processServerName": APPLIANCE_151[1], "osType": "Windows",
        "targetVmName": friendly,
        "targetResourceGroupId": "/subscriptions/b364ed8d-4279-4bf8-8fd1-56f8fa0ae05c/resourceGroups/V2A-ECY",
        "protectedDisks": []}
    return _item(RCM_CONTAINER_ID, name, friendly, merged, provider)


# ---------------------------------------------------------------------------------------------- fabrics
def classic_fabric(process_servers=False, master_targets=False, accounts=False):
    """fabrics_list.V2ATestFailback: the configuration server PwsTestCS, its own process server and master
    target, and V2A-PS-200 (process server and master target with two VMFS datastores)."""
    details = {
        "instanceType": "VMware",
        "processServers": [{"friendlyName": PS, "id": PS_ID, "ipAddress": "10.150.108.21", "osType": "Windows",
                            "health": "Normal", "psServiceStatus": "Running"},
                           {"friendlyName": CS, "id": CS_PS_ID, "ipAddress": "10.144.130.132", "osType": "Windows",
                            "health": "Normal", "psServiceStatus": "Running"}],
        "masterTargetServers": [
            {"id": CS_PS_ID, "ipAddress": "10.144.130.132", "name": CS, "osType": "Windows",
             "retentionVolumes": [{"volumeName": "D", "capacityInBytes": 34357637120, "freeSpaceInBytes": 31186448384,
                                   "thresholdPercentage": None}],
             "dataStores": [], "diskCount": 0},
            {"id": PS_ID, "ipAddress": "10.150.108.21", "name": PS, "osType": "Windows",
             "retentionVolumes": [{"volumeName": "F", "capacityInBytes": 10734268416, "freeSpaceInBytes": 10275106816,
                                   "thresholdPercentage": 80}],
             "dataStores": [{"symbolicName": "datastore1", "uuid": "6005a082-e4a06cce-c50c-f0d4e2e6578e",
                             "capacity": "439.5", "freeSpace": "158.21", "type": "VMFS"},
                            {"symbolicName": "DS-77", "uuid": "5c5d35b2-509cd314-afbf-f8bc124d5eea",
                             "capacity": "2047.75", "freeSpace": "250.58", "type": "VMFS"}],
             "diskCount": 5}],
        "runAsAccounts": [{"accountId": "1", "accountName": "vcenteruser"}, {"accountId": "2", "accountName": "windowsuser"},
                          {"accountId": "3", "accountName": "linuxuser"}]}
    if process_servers is not False:  # None: the fabric reports none
        details["processServers"] = process_servers
    if master_targets is not False:
        details["masterTargetServers"] = master_targets
    if accounts is not False:
        details["runAsAccounts"] = accounts
    return models.Fabric({"id": VAULT_ID + "/replicationFabrics/" + FABRIC, "name": FABRIC,
                          "type": "Microsoft.RecoveryServices/vaults/replicationFabrics",
                          "properties": {"friendlyName": CS, "bcdrState": "Valid", "health": "Normal",
                                         "customDetails": details}})


def rcm_fabric(agents=None, process_servers=False):
    """fabric_get.InMageRcm.TestV2ARCMFailback: two appliances, each a process server and a reprotect agent."""
    if agents is None:
        agents = [{"id": APPLIANCE_150[0], "name": APPLIANCE_150[1], "health": "Normal",
                   "accessibleDatastores": ["datastore-85", "SharedDS-84-85", "DS-84-85", "DS-5TB-84-85"]},
                  {"id": APPLIANCE_151[0], "name": APPLIANCE_151[1], "health": "Normal",
                   "accessibleDatastores": ["datastore-84", "SharedDS-84-85", "DS-84-85", "DS-5TB-84-85"]}]
    return models.Fabric({"id": RCM_VAULT_ID + "/replicationFabrics/" + RCM_FABRIC, "name": RCM_FABRIC,
                          "properties": {"friendlyName": RCM_FABRIC, "customDetails": {
                              "instanceType": "InMageRcm",
                              "processServers": [{"id": APPLIANCE_150[0], "name": APPLIANCE_150[1], "health": "Normal"},
                                                 {"id": APPLIANCE_151[0], "name": APPLIANCE_151[1], "health": "Normal"}]
                              if process_servers is False else process_servers,
                              "reprotectAgents": agents}}})


# ---------------------------------------------------------------------------------------------- policies, mappings
def policy(policy_id, instance_type):
    return models.Policy({"id": policy_id, "name": policy_id.rsplit("/", 1)[1],
                          "properties": {"friendlyName": policy_id.rsplit("/", 1)[1],
                                         "providerSpecificDetails": {"instanceType": instance_type}}})


def classic_policies():
    """policies.classic.V2ATestFailback."""
    return [policy(FAILBACK_POLICY, "InMage"), policy(FORWARD_POLICY, "InMageAzureV2")]


def rcm_policies():
    """policies.modernized.TestV2ARCMFailback."""
    return [policy(RCM_VAULT_ID + "/replicationPolicies/v2aRcm-pwsh-testpolicy", "InMageRcm"),
            policy(RCM_FORWARD_POLICY, "InMageRcm"), policy(RCM_APP_FAILBACK_POLICY, "InMageRcmFailback"),
            policy(RCM_CRASH_FAILBACK_POLICY, "InMageRcmFailback")]


def mapping(container_id, name, policy_id, target):
    return models.ProtectionContainerMapping({
        "id": container_id + "/replicationProtectionContainerMappings/" + name, "name": name,
        "properties": {"targetProtectionContainerId": target, "policyId": policy_id, "state": "Paired"}})


def classic_mappings():
    """container_mappings_list.V2ATestFailback: the failback mapping of the container onto itself, then the
    forward one to Azure."""
    return [mapping(CONTAINER_ID, "reverseMapv2a", FAILBACK_POLICY, CONTAINER_ID),
            mapping(CONTAINER_ID, "pcmmappingv2a", FORWARD_POLICY, "Microsoft Azure")]


def rcm_mappings():
    """container_mappings_list.modernized.TestV2ARCMFailback."""
    return [mapping(RCM_CONTAINER_ID, "appconsistency-failback-containerpairing", RCM_APP_FAILBACK_POLICY,
                    RCM_CONTAINER_ID),
            mapping(RCM_CONTAINER_ID, "default-failover-containerpairing", RCM_FORWARD_POLICY, "Microsoft Azure"),
            mapping(RCM_CONTAINER_ID, "crashconsistency-failback-containerpairing", RCM_CRASH_FAILBACK_POLICY,
                    RCM_CONTAINER_ID)]


# ---------------------------------------------------------------------------------------------- points, plans
def point(item, name, when, kind="CrashConsistent"):
    """A recovery point as asr-api.md 4 documents it (no recording lists a failback item's points)."""
    return models.RecoveryPoint({"id": item.id + "/recoveryPoints/" + name, "name": name,
                                 "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/"
                                         "replicationProtectionContainers/replicationProtectedItems/recoveryPoints",
                                 "properties": {"recoveryPointTime": when, "recoveryPointType": kind}})


def recovery_plan(name, *groups):
    """A recovery plan (asr-api.md 5): Shutdown and Failover groups, then one Boot group per argument."""
    return models.RecoveryPlan({"id": VAULT_ID + "/replicationRecoveryPlans/" + name, "name": name, "properties": {
        "friendlyName": name, "groups": [{"groupType": "Shutdown", "replicationProtectedItems": []},
                                         {"groupType": "Failover", "replicationProtectedItems": []}] + [
            {"groupType": "Boot", "replicationProtectedItems": [{"id": m.id} for m in group]} for group in groups]}})


# ---------------------------------------------------------------------------------------------- jobs
# The recorded jobs' scenario names (job.failback_failover.*, job.commit.*, job.modernized_planned_failover.*);
# the others are not recorded and only need to be strings.
SCENARIOS = {"unplanned_failover": ("UnplannedFailover", "Failover"), "failover_commit": ("CommitFailover", "Commit"),
             "planned_failover": ("PlannedFailover", "Planned failover"), "reprotect": ("Reprotect", "Reprotect"),
             "failover_cancel": ("CancelFailover", "Cancel failover")}


def job_error(code, message, provider_code=None, provider_message=None, action=None):
    """A JobErrorDetails (asr-api.md 1.3); no recording shows a failed job, so the values are the docs' codes."""
    return {"serviceErrorDetails": {"code": code, "message": message, "recommendedAction": action},
            "providerErrorDetails": {"errorCode": provider_code, "errorMessage": provider_message}
            if provider_code is not None else None, "errorLevel": "Error"}


def job_body(name, scenario, state, target, errors=()):
    scenario_name, friendly = SCENARIOS.get(scenario, (scenario, scenario))
    return models.Job({"id": VAULT_ID + "/replicationJobs/" + name, "name": name,
                       "type": "Microsoft.RecoveryServices/vaults/replicationJobs",
                       "properties": {"scenarioName": scenario_name, "friendlyName": friendly, "state": state,
                                      "stateDescription": "Completed" if state == "Succeeded" else state,
                                      "startTime": "2021-04-06T12:02:36.6318218Z", "endTime": "2021-04-06T12:06:11Z",
                                      "targetObjectName": target, "allowedActions": [], "errors": [],
                                      "tasks": [{"name": "VmFailover", "friendlyName": "Failover", "state": state,
                                                 "errors": list(errors)}]}})


class _Http:
    def __init__(self, status, headers):
        self.status_code = status
        self.headers = headers


class _PipelineResponse:
    def __init__(self, status, headers):
        self.http_response = _Http(status, headers)


class FakeSiteRecovery:
    """``session.site_recovery`` for the real Vault.

    ``after``: {item name: model} put in place of the item once an action starts on it (what ASR did).
    ``outcomes``: {item or plan name: [state or (state, [errors])]} one per action on it, the last repeated;
    no entry: Succeeded. ``answer_200``: item names whose action ASR answers 200 without a job.
    """

    def __init__(self, items=(), fabrics=(), policies=(), mappings=(), points=None, plans=(), vcenters=()):
        self.items = list(items)
        self.vcenters = list(vcenters)
        self.fabrics = list(fabrics)
        self.policies = list(policies)
        self.mappings = list(mappings)
        self.points = dict(points or {})
        self.plans = list(plans)
        self.after = {}
        self.gets = {}      # {item name: model} the item GET answers instead of the listed model
        self.outcomes = {}
        self.answer_200 = set()
        self.first_polls = []  # states every job shows before its outcome (job.commit.notstarted_first_poll: NotStarted)
        self._polls = {}
        self.actions = []   # (method, target name, body, path args) in call order
        self.reads = []     # what was listed, in order
        self.jobs = {}
        self._ids = itertools.count(1)
        self.replication_protected_items = _ProtectedItems(self)
        self.replication_recovery_plans = _Plans(self)
        self.replication_jobs = types.SimpleNamespace(get=self._job)
        self.replication_fabrics = types.SimpleNamespace(list=lambda rg, vault: self._read("fabrics", self.fabrics))
        self.replication_policies = types.SimpleNamespace(list=lambda rg, vault: self._read("policies", self.policies))
        self.replicationv_centers = types.SimpleNamespace(list=lambda rg, vault: self._read("vcenters", self.vcenters))
        self.replication_protection_container_mappings = types.SimpleNamespace(
            list_by_replication_protection_containers=lambda rg, vault, fabric, container: self._read(
                "mappings/%s/%s" % (fabric, container), [m for m in self.mappings if (
                    "/replicationFabrics/%s/replicationProtectionContainers/%s/" % (fabric, container)).lower()
                    in m.id.lower()]))
        self.recovery_points = types.SimpleNamespace(
            list_by_replication_protected_items=lambda rg, vault, fabric, container, item: self._read(
                "points/" + item, self.points.get(item, [])))

    def _read(self, what, value):
        self.reads.append(what)
        return iter(list(value))

    def _start(self, method, target, body, args, hook, members, location):
        self.actions.append((method, target, body, args))
        for name in members:
            if name in self.after:
                self.items = [self.after[name] if m.name == name else m for m in self.items]
                self.gets.pop(name, None)  # the GET answers what ASR made of the item too
        if target in self.answer_200:
            hook(_PipelineResponse(200, {}))
            return
        job = "a2e9f617-66a6-4933-9ffc-%012d" % next(self._ids)
        script = self.outcomes.get(target) or ["Succeeded"]
        outcome = script.pop(0) if len(script) > 1 else script[0]
        state, errors = outcome if isinstance(outcome, tuple) else (outcome, [])
        self.jobs[job] = job_body(job, method, state, target, errors)
        # the shape of lro_202.*: Location names the job after operationresults/
        hook(_PipelineResponse(202, {
            "Location": "https://centraluseuap.management.azure.com%s/operationresults/%s?api-version=2021-06-01" % (
                location, job),
            "Retry-After": "30", "x-ms-request-id": VAULT_ID + "/replicationJobs/" + job}))

    def _job(self, rg, vault, name):
        seen = self._polls.get(name, 0)
        self._polls[name] = seen + 1
        if seen < len(self.first_polls):
            final = self.jobs[name]
            return job_body(name, "", self.first_polls[seen], final.properties.target_object_name)
        return self.jobs[name]

    def action_bodies(self, method=None):
        """``{target: body}`` of the actions started (of ``method``)."""
        return {target: body for m, target, body, _path in self.actions if method in (None, m)}


class _ProtectedItems:
    def __init__(self, owner):
        self._owner = owner

    def list(self, rg, vault):
        return self._owner._read("items", self._owner.items)

    def get(self, rg, vault, fabric, container, item):
        """The item's GET: ``gets`` {item name: model} when given (a full body beside a sparse list entry), else the
        listed model."""
        self._owner.reads.append("item/" + item)
        name = item.lower()
        found = self._owner.gets.get(item) or next((m for m in self._owner.items if m.name.lower() == name), None)
        if found is None:
            raise LookupError("(NotFound) protected item %s" % item)
        return found

    def __getattr__(self, attr):
        if not attr.startswith("begin_"):
            raise AttributeError(attr)
        method = attr[len("begin_"):]

        def begin(rg, vault, fabric, container, item, *body, polling=True, raw_response_hook=None):
            assert polling is False, "the collection follows the job, not the SDK poller"
            location = "%s/replicationFabrics/%s/replicationProtectionContainers/%s/replicationProtectedItems/%s" % (
                VAULT_ID, fabric, container, item)
            self._owner._start(method, item, body[0] if body else None, (rg, vault, fabric, container, item),
                               raw_response_hook, [item], location)
        begin.__name__ = attr
        return begin


class _Plans:
    def __init__(self, owner):
        self._owner = owner

    def list(self, rg, vault):
        return self._owner._read("plans", self._owner.plans)

    def __getattr__(self, attr):
        if not attr.startswith("begin_"):
            raise AttributeError(attr)
        method = attr[len("begin_"):]

        def begin(rg, vault, plan_name, *body, polling=True, raw_response_hook=None):
            assert polling is False, "the collection follows the job, not the SDK poller"
            plan = next(p for p in self._owner.plans if p.name == plan_name)
            members = [m.name for m in self._owner.items
                       if m.id.lower() in {e.id.lower() for g in plan.properties.groups
                                           for e in g.replication_protected_items or []}]
            self._owner._start(method, plan_name, body[0] if body else None, (rg, vault, plan_name),
                               raw_response_hook, members, VAULT_ID + "/replicationRecoveryPlans/" + plan_name)
        begin.__name__ = attr
        return begin


def vault(client):
    """The real Vault over ``client``."""
    return Vault(types.SimpleNamespace(site_recovery=client), RG, VAULT_NAME)


def deadline(seconds=3600, clock=None):
    clock = clock or FakeClock()
    return Deadline(seconds, clock=clock, sleeper=clock.sleep)


class FakeAzureVms:
    """The AzureVms interface over plain dicts.

    ``vms``: {item name: find() result or None}; ``after_forget``: the same, in force after ``forget()``
    (what Compute shows after ASR acted). Tags live in ``tags`` {vm id: {name: value}}.
    """

    def __init__(self, vms=None, after_forget=None, tags=None, leftovers=None):
        self.vms = dict(vms or {})
        self.after_forget = after_forget
        self.tags = {k: dict(v) for k, v in (tags or {}).items()}
        self._leftovers = leftovers or {"disks": [{"name": "left-osdisk"}], "nics": [], "resource_groups": []}
        self.calls = []
        self.on_set_tags = None   # called after each set_tags: simulates another run writing at the same moment

    def find(self, item):
        self.calls.append(("find", item["item_name"]))
        found = self.vms.get(item["item_name"])
        return dict(found) if found else found

    def forget(self):
        self.calls.append(("forget",))
        if self.after_forget is not None:
            self.vms = dict(self.after_forget)

    def leftovers(self, vm, disk_names=()):
        self.calls.append(("leftovers", vm["id"], list(disk_names)))
        return self._leftovers

    def tag(self, vm_id, name):
        return self.tags.get(vm_id, {}).get(name)

    def set_tags(self, vm_id, wanted, remove=()):
        self.calls.append(("set_tags", vm_id, dict(wanted), list(remove)))
        current = self.tags.setdefault(vm_id, {})
        for name in remove:
            current.pop(name, None)
        current.update(wanted)
        if self.on_set_tags is not None:
            self.on_set_tags(self, vm_id)

    def writes(self):
        return [c for c in self.calls if c[0] == "set_tags"]


def azure_vm(name, rg="PwsTestRG", exists=True, power_state="running"):
    """A find() result (asr.azure_vms.AzureVms.find)."""
    vm_id = "/subscriptions/b8aef8e1-37df-4f17-a537-f10e183c8eca/resourceGroups/%s/providers/Microsoft.Compute/" \
            "virtualMachines/%s" % (rg, name)
    return {"id": vm_id, "resource_group": rg, "name": name, "power_state": power_state if exists else None,
            "exists": exists, "moved": False, "recorded_resource_group": rg, "found_by": "tag" if exists else None}


def reprotect_names(**given):
    """The names a reprotect takes (asr.reprotect.ensure's ``names``): every one None, no placements, then ``given``."""
    base = dict.fromkeys(("master_target", "process_server", "datastore", "retention_volume", "run_as_account",
                          "appliance", "log_storage_account_id"))
    base["placements"] = {}
    base.update(given)
    return base
