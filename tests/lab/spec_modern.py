# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modernized flow's part of a spec (``asr.flow: modernized``): replication appliances
(ASR's reprotect agents) instead of master targets, and what each stage implies in vCenter.
spec.py calls these; see README.md, "The modernized flow"."""

FLOWS = ("classic", "modernized")
HEALTH = ("None", "Normal", "Warning", "Critical")
APPLIANCE_DISK_LIMIT = 60
DEFAULT_POLICIES = [{"name": "policy-24h", "provider": "InMageRcm"},
                    {"name": "policy-24h-failback", "provider": "InMageRcmFailback"}]
# (forward provider, failback provider) per flow
PROVIDERS = {"classic": ("InMageAzureV2", "InMage"), "modernized": ("InMageRcm", "InMageRcmFailback")}


def providers(asr):
    return PROVIDERS[asr.get("flow", "classic")]


def _guid(*parts, upper=False):
    from .spec import guid
    return guid(*parts, upper=upper)


def _cluster_hosts(spec, host):
    """The hosts of ``host``'s cluster (``[host]`` when it is not in a cluster)."""
    for dc in spec["vcenter"]["datacenters"]:
        for cluster in dc["clusters"]:
            if host in cluster["hosts"]:
                return list(cluster["hosts"])
    return [host]


def normalize_appliances(spec, asr, vms, hosts, datastores):
    """Defaults and ids of ``asr.appliances`` (every flow accepts the key; only modernized uses it)."""
    from .spec import SpecError
    first_host = next(iter(hosts), None)
    for index, appliance in enumerate(asr.setdefault("appliances", [])):
        name = appliance["name"]
        vm = vms[appliance["vm"]][0] if appliance.get("vm") in vms else None
        if appliance.get("vm") and vm is None:
            raise SpecError("appliance %s runs as VM %s, which is not a VM of the lab" % (name, appliance["vm"]))
        appliance.setdefault("vm", None)
        appliance.setdefault("host", vm["host"] if vm else first_host)
        if appliance["host"] not in hosts:
            raise SpecError("appliance %s is on unknown host %r" % (name, appliance["host"]))
        appliance.setdefault("health", "Normal")
        if appliance["health"] not in HEALTH:
            raise SpecError("appliance %s: health %r is not one of %s" % (name, appliance["health"], ", ".join(HEALTH)))
        appliance.setdefault("heartbeat_age_seconds", 60)  # recorded: 0 to 2.3 min
        appliance.setdefault("version", "9.63.7187.1")
        appliance.setdefault("fqdn", "%s.lab" % name if "." not in name else name)
        appliance.setdefault("ip", "10.0.0.%d" % (40 + index))
        cluster = _cluster_hosts(spec, appliance["host"])
        appliance.setdefault("accessible_datastores", sorted(
            ds["name"] for ds in datastores.values()
            if ds["type"].lower() in ("vmfs", "vsan") and any(h in cluster for h in ds["hosts"])))
        for ds in appliance["accessible_datastores"]:
            if ds not in datastores:
                raise SpecError("appliance %s lists unknown datastore %s" % (name, ds))
        appliance.setdefault("disk_count", None)  # None: the disks of the items it replicates
        appliance.setdefault("protected_item_count", None)  # None: the items it replicates
        appliance["id"] = _guid("reprotect-agent", name)
        appliance["process_server_id"] = appliance["id"]  # one id for every component of an appliance (recorded)
        appliance["bios_id"] = vm["bios_uuid"] if vm else _guid("appliance-bios", name)
        appliance["fabric_object_id"] = _guid("appliance-object", name)
    names = [a["name"] for a in asr["appliances"]]
    if len(set(names)) != len(names):
        raise SpecError("two appliances share a name")


def check_flow(asr):
    from .spec import SpecError
    asr.setdefault("flow", "classic")
    if asr["flow"] not in FLOWS:
        raise SpecError("asr.flow %r is not one of %s" % (asr["flow"], ", ".join(FLOWS)))
    return asr["flow"]


def normalize_item(asr, item, vm, datastores, failback_stage):
    """Modernized items: ``appliance`` (the reprotect agent) and ``datastore`` (targetDataStoreName) from the
    reprotect to on-premises on; an original-location item's datastore defaults to its VM's first disk's."""
    from .spec import SpecError
    item.setdefault("appliance", None)
    item.setdefault("log_storage_account", None)
    # the item's last planned failover (InMageRcmFailback lastPlannedFailoverStartTime / Status): ASR keeps it across
    # later reprotects; an item failed back (or committed) got there by one
    default = {"status": "Succeeded", "age_minutes": 30} if item["stage"] in ("failed_back", "failback_committed") else None
    item.setdefault("last_planned_failover", default)
    if item["last_planned_failover"]:
        item["last_planned_failover"].setdefault("status", "Succeeded")
        item["last_planned_failover"].setdefault("age_minutes", 30)
    if vm is not None and not item["datastore"] and vm["disks"]:
        item["datastore"] = vm["disks"][0]["datastore"]
    if failback_stage:
        appliances = {a["name"] for a in asr["appliances"]}
        if item["appliance"] not in appliances:
            raise SpecError("item %s at stage %s needs appliance (one of %s)"
                            % (item["name"], item["stage"], ", ".join(sorted(appliances)) or "none defined"))
        if item["datastore"] not in datastores:
            raise SpecError("item %s at stage %s needs datastore" % (item["name"], item["stage"]))


def apply_stage(item, vm, onprem_running):
    """Make the on-prem VM agree with a modernized item's stage: from the reprotect to on-premises until
    the failback it is off, its disks in place (the appliance replicates straight into them)."""
    if vm is None:  # alternate location: the VM is created at the failback
        return
    if item["stage"] in onprem_running:
        vm["power_state"] = vm.get("power_state") or "poweredOn"
    else:
        vm["power_state"] = "poweredOff"
    if vm["power_state"] != "poweredOn":
        vm["tools_running_status"] = "guestToolsNotRunning"
