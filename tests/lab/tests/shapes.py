# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The structure of a JSON body, compared with a recorded one: which keys are present or absent,
the type of every value, and the value of every enum-like field (ASR's state strings, operation
names, task names...). Values that are data (names, ids, times, sizes) are compared by type only.

``diff(recorded, lab)`` returns ``{(path, difference)}``: paths are JSONPath-like with list indices
collapsed to ``[]`` (``$.properties.tasks[].state``), differences are short sentences:
``missing in the lab``, ``not sent by ASR``, ``type str (ASR) vs null (lab)``, ``value 'A' (ASR) vs 'B' (lab)``,
``empty in ASR``, ``empty in the lab``, ``length 5 (ASR) vs 4 (lab)``.
"""

import re

UNSET_TIME = "0001-01-01T00:00:00"
GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")

# keys whose string values are a closed set (compared by value wherever they appear)
ENUM_KEYS = frozenset((
    "instanceType", "protectionState", "protectionStateDescription", "activeLocation", "allowedOperations",
    "allowedActions", "state", "stateDescription", "scenarioName", "jobScenarioName", "taskType", "targetInstanceType",
    "replicationHealth", "failoverHealth", "health", "historicHealth", "testFailoverState", "testFailoverStateDescription",
    "switchProviderState", "activeSiteType", "protectionStage", "vmProtectionState", "vmProtectionStateDescription",
    "resyncRequired", "diskResized", "multiVmSyncStatus", "discoveryType", "primaryFabricProvider", "errorLevel",
    "groupType", "versionStatus", "status", "csServiceStatus", "psServiceStatus", "marsCommunicationStatus",
    "marsRegistrationStatus", "discoveryStatus", "firmwareType", "azureVmGeneration", "targetGeneration",
    "useManagedDisks", "failoverDeploymentModel", "replicationProviders", "pairingStatus", "role", "fabricType",
    "kekState", "bcdrState", "currentScenarioStatus", "currentScenarioStatusDescription", "systemLoadStatus",
    "cpuLoadStatus", "memoryUsageStatus", "spaceUsageStatus", "throughputStatus", "webLoadStatus",
    "databaseServerLoadStatus", "enableRdpOnTargetOption", "isAgentUpdateRequired", "isRebootAfterUpdateRequired",
    "rebootAfterUpdateStatus", "agentUpdateStatus", "postUpdateRebootStatus", "progressHealth", "progressStatus",
    "totalProgressHealth", "selectionType", "ipAddressType", "recoveryIPAddressType", "vhdType", "rebootStatus",
    "initialReplicationType", "resyncState", "agentUpgradeState", "initialReplicationProgressHealth",
    "resyncProgressHealth", "diskState", "isOSDisk", "isInitialReplicationComplete", "isUpgradeable", "isPrimaryNic",
    "isSelectedForFailover", "powerStatus", "vmwareToolsStatus", "lastPlannedFailoverStatus", "protectedItemType",
    "failoverDirection", "code", "errorCategory", "customerResolvability", "clientAuthenticationType", "rpGroupType",
    "recoveryPointType", "isMultiVmSyncPoint", "enableMultiVmSync", "dataStores.type", "licenseType",
    "sqlServerLicenseType", "linuxLicenseType", "isLastUpgradeSuccessful", "isAgentRegistrationSuccessfulAfterFailover",
    # values that say what a thing is, where the lab's scenario has the recorded kind of thing (an item's OS, which
    # stack a job's item is on, an error's category, a disk's health code, a server's resource usage)
    "osType", "primaryFabricProviderId", "recoveryFabricProviderId", "PrimaryFabricProviderId",
    "RecoveryFabricProviderId", "category", "healthErrorCode", "diskUsageStatus", "processorUsageStatus",
    "sourceIPAddressType", "targetIPAddressType", "testIPAddressType",
))
# an ARM resource's type (the body itself or an element of a list), compared by value: "$.type", "$.value[].type"
RESOURCE_TYPE = re.compile(r"^\$(\.value\[\])?\.type$")
# keys compared by value inside jobs only (a task's name is its kind; elsewhere a name is data)
JOB_ENUM_KEYS = frozenset(("name", "friendlyName", "taskId"))
# ...except in a child task, whose name is the VM's
CHILD_TASK = "childTasks[]"
# lists whose order is meaning (a job's tasks): elements are paired by index and the lengths compared
ORDERED_LISTS = frozenset(("tasks", "childTasks"))
# maps whose keys are data: the key is reduced to its pattern (consistencyPoints: fileSystem<hex>, systemLevelTag<hex>)
DYNAMIC_KEYS = {"consistencyPoints": re.compile(r"^([A-Za-z]+?)([0-9a-f]{8})$")}


TYPES = ((bool, "bool"), (int, "int"), (float, "float"), (dict, "object"), (list, "list"))  # bool before int


def kind(value):
    """A value's type as compared: null, bool, int, float, object, list, or for a string: str, "empty string" or
    ASR's unset time (a task not started yet)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return {"": "empty string", UNSET_TIME: "unset time %s" % UNSET_TIME}.get(value, "str")
    return next((name for cls, name in TYPES if isinstance(value, cls)), type(value).__name__)


def _enum_value(value):
    if isinstance(value, str) and GUID.match(value):
        return "<guid>"
    return value


def _qualified(path):
    """``parent.key`` of a value's path, list marks dropped: ``$.a.dataStores[].type`` -> ``dataStores.type``."""
    parts = path.split(".")
    return ".".join(part.replace("[]", "") for part in parts[-2:]) if len(parts) > 2 else None


def _is_enum(key, in_job, path=""):
    if key in ("name", "friendlyName") and path.rsplit(".", 1)[0].endswith(CHILD_TASK):
        return False
    if key == "type" and RESOURCE_TYPE.match(path):
        return True
    return key in ENUM_KEYS or _qualified(path) in ENUM_KEYS or (in_job and key in JOB_ENUM_KEYS)


def _normalize_keys(key, value):
    pattern = DYNAMIC_KEYS.get(key)
    if pattern is None or not isinstance(value, dict):
        return value
    result = {}
    for name, item in value.items():
        match = pattern.match(name)
        result[(match.group(1) + "<hex>") if match else name] = item
    return result


def diff(recorded, lab, path="$", key=None, in_job=False):
    """``{(path, difference)}`` between a recorded body and the lab's (see the module docstring)."""
    found = set()
    recorded, lab = _normalize_keys(key, recorded), _normalize_keys(key, lab)
    k_rec, k_lab = kind(recorded), kind(lab)
    if k_rec != k_lab:
        found.add((path, "type %s (ASR) vs %s (lab)" % (k_rec, k_lab)))
        return found
    if isinstance(recorded, dict):
        for name in recorded:
            if name not in lab:
                found.add(("%s.%s" % (path, name), "missing in the lab"))
        for name in lab:
            if name not in recorded:
                found.add(("%s.%s" % (path, name), "not sent by ASR"))
        for name in recorded:
            if name in lab:
                found |= diff(recorded[name], lab[name], "%s.%s" % (path, name), name, in_job)
        return found
    if isinstance(recorded, list):
        return found | _list_diff(recorded, lab, path, key, in_job)
    if key is not None and _is_enum(key, in_job, path) and _enum_value(recorded) != _enum_value(lab):
        found.add((path, "value %r (ASR) vs %r (lab)" % (_enum_value(recorded), _enum_value(lab))))
    return found


def _list_diff(recorded, lab, path, key, in_job):
    found = set()
    scalars = all(not isinstance(v, (dict, list)) for v in recorded + lab)
    if key is not None and _is_enum(key, in_job, path) and scalars:
        rec_values, lab_values = [_enum_value(v) for v in recorded], [_enum_value(v) for v in lab]
        if rec_values != lab_values:
            found.add((path, "values %s (ASR) vs %s (lab)" % (rec_values, lab_values)))
        return found
    if not recorded or not lab:
        if recorded or lab:
            found.add((path, "empty in ASR" if not recorded else "empty in the lab"))
        return found
    element = path + "[]"
    if key in ORDERED_LISTS:
        if len(recorded) != len(lab):
            found.add((path, "length %d (ASR) vs %d (lab)" % (len(recorded), len(lab))))
        for rec_item, lab_item in zip(recorded, lab, strict=False):
            found |= diff(rec_item, lab_item, element, None, in_job)
        return found
    # unordered: every element on either side is compared with its closest counterpart on the other (the one whose
    # enum values agree most, then the one with the fewest differences)
    for rec_item in recorded:
        found |= min((diff(rec_item, lab_item, element, None, in_job) for lab_item in lab), key=_distance)
    for lab_item in lab:
        found |= min((diff(rec_item, lab_item, element, None, in_job) for rec_item in recorded), key=_distance)
    return found


DISCRIMINATORS = ("instanceType", "protectionState", "taskId")


def _distance(found):
    """How far apart two elements are: first by their kind (instanceType, protectionState...), then by their
    differences, those of enum values counting twice."""
    values = [path for path, text in found if text.startswith("value")]
    return (sum(1 for path in values if path.rsplit(".", 1)[-1] in DISCRIMINATORS), len(values) + len(found))
