# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load a lab spec: defaults, `extends`, references checked, ids derived, the world made to
agree with each protected item's stage. See README.md for the format."""

import copy
import datetime
import hashlib
import json
import os
import uuid

import yaml

from . import spec_modern

HERE = os.path.dirname(os.path.abspath(__file__))
SPECS = os.path.join(HERE, "specs")
NAMESPACE = uuid.UUID("6f0b6c1e-3a53-4e8e-9d0c-5a7f4f0e2b11")

STAGES = ("replicating_to_azure", "failed_over_to_azure", "running_in_azure", "replicating_to_onprem",
          "failed_back", "failback_committed", "reprotected_to_azure")
# stages in which the on-prem copy of the VM receives the data (its disks are on the master target)
DISKS_ON_MASTER_TARGET = ("replicating_to_onprem",)
# stages in which the on-prem VM runs
ONPREM_RUNNING = ("replicating_to_azure", "failed_back", "failback_committed", "reprotected_to_azure")
FAILBACK_PROVIDER_STAGES = ("replicating_to_onprem", "failed_back", "failback_committed")

TIMINGS = {"job_seconds": 3.0, "agent_registration_seconds": 10.0, "initial_replication_seconds": 3.0,
           "recovery_point_seconds": 5.0, "app_consistent_every": 3,
           # ASR's 202s say Retry-After: 30 (tests/recorded/asr, fact 9); tests set 0 to stay fast
           "retry_after_seconds": 30,
           # a job stays NotStarted until its first poll (as the recorded commit's first poll shows it), at most this
           "job_start_seconds": 1.0}
AZURE = {"tenant": "72f988bf-0000-4000-8000-000000000001", "client_id": "5a1f0000-0000-4000-8000-000000000002",
         "secret": "lab-secret", "subscription_id": "00000000-0000-4000-8000-000000000003", "location": "westeurope",
         # Entra ID's client-credentials tokens say expires_in 3599 (one hour less the second it took)
         "token_lifetime_seconds": 3599,
         # users who sign in with a user name and password (the resource owner password grant, through a public
         # client: AWX's AZURE_AD_USER / AZURE_PASSWORD); mfa: true answers as Entra ID does when MFA is enforced
         "users": [{"name": "operator@lab.onmicrosoft.com", "password": "lab-user-password", "mfa": False},
                   {"name": "mfa-user@lab.onmicrosoft.com", "password": "lab-mfa-password", "mfa": True}]}
# heartbeat ages at read time in the recordings (tests/recorded/asr, fact 17): a healthy classic configuration
# server, process server and master target 8 to 13 minutes, a vCenter 29 s, a replication appliance 0 to 2.3 min
HEARTBEATS = {"configuration_server": 480, "process_server": 600, "master_target": 540, "vcenter": 30}
FIRMWARE = ("bios", "efi")
ALTERNATE_DISK_MOVES = ("at_creation", "one_by_one")


class SpecError(ValueError):
    """The spec is inconsistent; the message names the object and the problem."""


def guid(*parts, upper=False):
    value = str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))
    return value.upper() if upper else value


# the configuration server's ids of the machines it replicates (vmId = infrastructureVmId = the tail of
# protectableItemId): time-based (version 1) UUIDs it mints itself, its own node and clock sequence in every one
# (tests/recorded/asr: d3731098-963a-11eb-a892-000d3ad78fab and d375a4fa-963a-11eb-a892-000d3ad78fab, two VMs found
# 17 ms apart by the vCenter discovery; a new one, 35dd7b4c-96c2-11eb-..., for the Azure VM at the reprotect to
# on-premises). They are not the vCenter instance UUID. The lab's discovery moment is fixed so a spec always
# normalizes to the same ids.
DISCOVERY_TIME = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.timezone.utc)
DISCOVERY_STEP_SECONDS = 0.017
REPROTECT_AFTER_SECONDS = 86400.0  # the reprotect of an item a spec starts after it (a day later)
_UUID_EPOCH = datetime.datetime(1582, 10, 15, tzinfo=datetime.timezone.utc)


def machine_id(configuration_server, when):
    """The time-based UUID configuration server ``configuration_server`` (its name) mints at ``when`` (a datetime,
    or Unix seconds): the time in 100 ns steps since 1582-10-15, the server's node and clock sequence."""
    if not isinstance(when, datetime.datetime):
        when = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    delta = when - _UUID_EPOCH
    ticks = (delta.days * 86400 + delta.seconds) * 10 ** 7 + delta.microseconds * 10
    seed = hashlib.sha256(("cs-node/%s" % configuration_server).encode()).digest()
    node = int.from_bytes(seed[:6], "big") & ~(1 << 40)  # a unicast MAC, as the recorded 00-0d-3a-d7-8f-ab
    clock_seq = int.from_bytes(seed[6:8], "big") & 0x3FFF
    return str(uuid.UUID(fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, ((ticks >> 48) & 0x0FFF) | 0x1000,
                                 0x80 | (clock_seq >> 8), clock_seq & 0xFF, node)))


def server_id(*parts):
    """A process server / master target id as ASR writes them: 8-4-4-16 upper-case hex, not a GUID
    (``30AE6187-5869-8E44-B8AF6AA66E3ECC8F``, tests/recorded/asr fact 8)."""
    digits = uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)).hex.upper()
    return "%s-%s-%s-%s" % (digits[:8], digits[8:12], digits[12:16], digits[16:])


def _merge_named(base, override):
    """Merge two lists of dicts by their 'name' (or 'vm') key; other lists are replaced."""
    key = None
    for candidate in ("name", "vm"):
        if all(isinstance(x, dict) and candidate in x for x in list(base) + list(override)):
            key = candidate
            break
    if key is None:
        return copy.deepcopy(override)

    def ident(entry):  # two VMs may share a name in different folders: the folder is part of a VM's identity
        return (entry[key], entry.get("folder"))

    result = [copy.deepcopy(x) for x in base]
    index = {ident(x): i for i, x in enumerate(result)}
    for item in override:
        if item.get("remove"):
            if ident(item) in index:
                result[index[ident(item)]] = None
            continue
        if ident(item) in index:
            result[index[ident(item)]] = merge(result[index[ident(item)]], item)
        else:
            result.append(copy.deepcopy(item))
    return [x for x in result if x is not None]


def merge(base, override):
    """Deep merge: dicts by key, lists of named dicts by name, anything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = copy.deepcopy(base)
        for key, value in override.items():
            result[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return result
    if isinstance(base, list) and isinstance(override, list):
        return _merge_named(base, override)
    return copy.deepcopy(override)


def read(path):
    """The raw spec with `extends` resolved (relative to the file)."""
    if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(SPECS, path)
    with open(path) as handle:
        raw = yaml.safe_load(handle) or {}
    parent = raw.pop("extends", None)
    if parent:
        base = read(os.path.join(os.path.dirname(os.path.abspath(path)), parent))
        base.pop("name", None)
        base.pop("description", None)
        raw = merge(base, raw)
    return raw


def load(path, now=None):
    """The normalized spec (see README.md) for the file at ``path``."""
    return normalize(read(path), now=now)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _vm_defaults(vm, datastore=None, host=None):
    name = vm["name"]
    vm.setdefault("host", host)
    vm.setdefault("datastore", datastore)
    vm.setdefault("folder", None)
    vm.setdefault("guest_id", "otherLinux64Guest")
    vm.setdefault("num_cpu", 2)
    vm.setdefault("memory_mb", 4096)
    vm.setdefault("firmware", "bios")
    vm.setdefault("power_state", "poweredOn")
    vm.setdefault("tools_status", "toolsOk")
    vm.setdefault("tools_running_status",
                  "guestToolsRunning" if vm["power_state"] == "poweredOn" else "guestToolsNotRunning")
    # a second VM of the same name lives in another folder: its own identity
    vm.setdefault("instance_uuid", guid("instance", name, vm["folder"]) if vm["folder"] else guid("instance", name))
    vm.setdefault("bios_uuid", guid("bios", name))
    vm.setdefault("extra_config", {})
    vm.setdefault("scsi_controllers", [{"bus": 0, "type": "lsilogic"}])
    vm.setdefault("snapshots", [])
    vm.setdefault("nics", [{"network": "VM Network"}])
    for index, nic in enumerate(vm["nics"]):
        digest = hashlib.sha256(("%s/%d" % (name, index)).encode()).hexdigest()
        nic.setdefault("mac", "00:50:56:%s:%s:%s" % (digest[0:2], digest[2:4], digest[4:6]))
    units = {}
    for index, disk in enumerate(vm.setdefault("disks", [])):
        disk.setdefault("bus", 0)
        unit = disk.get("unit")
        if unit is None:
            unit = units.get(disk["bus"], 0)
            if unit == 7:  # unit 7 is the controller itself
                unit = 8
        disk["unit"] = unit
        units[disk["bus"]] = unit + 1 if unit + 1 != 7 else 8
        disk.setdefault("datastore", vm["datastore"])
        disk.setdefault("backing", "flat")
        disk.setdefault("thin", True)
        suffix = "" if index == 0 else "_%d" % index
        disk.setdefault("file", "%s/%s%s.vmdk" % (name, name, suffix))
        if "size_gb" not in disk and "size_mb" not in disk:
            disk["size_gb"] = 40
        if disk["backing"] == "rdm":
            lun = hashlib.sha256(("lun/%s/%d" % (name, index)).encode()).hexdigest()
            disk.setdefault("lun_uuid", "0200000000600a0980" + lun[:32])
            disk.setdefault("device_name", "/vmfs/devices/disks/naa.600a0980" + lun[:24])
        else:
            disk.setdefault("uuid", "6000C29" + guid("disk", name, index)[7:])
    filler = vm.pop("filler_disks", None)
    if filler:  # many small disks spread over the controllers: a master target near its 60-disk limit
        taken = {(d["bus"], d["unit"]) for d in vm["disks"]}
        free = [(c["bus"], unit) for c in vm["scsi_controllers"] for unit in range(16)
                if unit != 7 and (c["bus"], unit) not in taken]
        for number in range(filler["count"]):
            bus, unit = free[number]
            vm["disks"].append({"bus": bus, "unit": unit, "size_gb": filler.get("size_gb", 1), "thin": True,
                                "datastore": vm["datastore"], "backing": "flat",
                                "file": "%s/%s_filler%d.vmdk" % (name, name, number),
                                "uuid": "6000C29" + guid("filler", name, number)[7:]})
    return vm


def _all_vms(spec):
    for dc in spec["vcenter"]["datacenters"]:
        for vm in dc.get("vms", []):
            yield vm, dc, None
    for esx in spec.get("standalone_hosts", []):
        for vm in esx.get("vms", []):
            yield vm, None, esx


def normalize(raw, now=None):
    """Fill defaults, derive ids, check references and stage consistency."""
    spec = copy.deepcopy(raw)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    spec.setdefault("name", "lab")
    spec.setdefault("description", "")
    spec["timings"] = dict(TIMINGS, **(spec.get("timings") or {}))
    spec["azure"] = dict(AZURE, **(spec.get("azure") or {}))

    vc = spec.setdefault("vcenter", {})
    vc.setdefault("name", "vcenter01.lab")
    vc.setdefault("username", "administrator@vsphere.local")
    vc.setdefault("password", "lab-password")
    vc.setdefault("api_version", "7.0.3.0")
    vc.setdefault("datacenters", [])
    hosts = {}
    datastores = {}
    for dc in vc["datacenters"]:
        dc.setdefault("clusters", [])
        dc.setdefault("standalone_hosts", [])
        dc.setdefault("networks", ["VM Network"])
        dc.setdefault("vms", [])
        clustered = {h for c in dc["clusters"] for h in c["hosts"]}
        for host in dc.setdefault("hosts", []):
            host.setdefault("memory_mb", 131072)
            host.setdefault("memory_used_mb", 16384)
            host.setdefault("cpu_cores", 16)
            host.setdefault("connection_state", "connected")
            host.setdefault("maintenance_mode", False)
            # the port groups the host has (default: every network of the datacenter)
            host.setdefault("networks", list(dc["networks"]))
            for network in host["networks"]:
                if network not in dc["networks"]:
                    raise SpecError("host %s has network %s, which is not a network of datacenter %s"
                                    % (host["name"], network, dc["name"]))
            if host["name"] not in clustered and host["name"] not in dc["standalone_hosts"]:
                dc["standalone_hosts"].append(host["name"])
            hosts[host["name"]] = dict(host, datacenter=dc["name"])
        for ds in dc.setdefault("datastores", []):
            ds.setdefault("type", "VMFS")
            ds.setdefault("capacity_gb", 2048)
            ds.setdefault("free_gb", ds["capacity_gb"] // 2)
            ds.setdefault("hosts", [h["name"] for h in dc["hosts"]])
            for host in ds["hosts"]:
                if host not in hosts:
                    raise SpecError("datastore %s is mounted on unknown host %s" % (ds["name"], host))
            datastores[ds["name"]] = ds
        for vm in dc["vms"]:
            if vm.get("host") not in hosts:
                raise SpecError("VM %s is on unknown host %r" % (vm["name"], vm.get("host")))
            first = next((d for d in datastores.values() if vm["host"] in d["hosts"]), None)
            _vm_defaults(vm, datastore=first["name"] if first else None)
            for disk in vm["disks"]:
                if disk["datastore"] not in datastores:
                    raise SpecError("disk %s of VM %s is on unknown datastore %r" % (disk["file"], vm["name"], disk["datastore"]))

    for esx in spec.setdefault("standalone_hosts", []):
        esx.setdefault("username", "root")
        esx.setdefault("password", "esx-password")
        esx.setdefault("api_version", vc["api_version"])
        host = dict({"memory_mb": 65536, "memory_used_mb": 4096, "cpu_cores": 8, "connection_state": "connected",
                     "maintenance_mode": False}, **(esx.get("host") or {}))
        host["name"] = esx["name"]
        esx["host"] = host
        esx.setdefault("datastores", [{"name": "datastore1", "type": "VMFS", "capacity_gb": 500, "free_gb": 400}])
        for ds in esx["datastores"]:
            ds.setdefault("type", "VMFS")
            ds.setdefault("capacity_gb", 500)
            ds.setdefault("free_gb", ds["capacity_gb"] // 2)
            ds["hosts"] = [esx["name"]]
        esx.setdefault("networks", ["VM Network"])
        for vm in esx.setdefault("vms", []):
            _vm_defaults(vm, datastore=esx["datastores"][0]["name"], host=esx["name"])
            vm["host"] = esx["name"]

    vms = {}
    for vm, dc, esx in _all_vms(spec):
        vms.setdefault(vm["name"], []).append((vm, dc, esx))
        if dc is not None and vm["host"] is not None:
            host = hosts[vm["host"]]
            for nic in vm["nics"]:
                if nic["network"] not in host["networks"]:
                    raise SpecError("VM %s has a NIC on %s, which host %s does not have"
                                    % (vm["name"], nic["network"], vm["host"]))
    seen = set()
    for vm, _dc, _esx in _all_vms(spec):
        key = (vm["name"], vm["folder"])
        if key in seen:
            raise SpecError("two VMs are named %s in the same folder (%s)" % (vm["name"], vm["folder"] or "the root"))
        seen.add(key)
    # VMs by name; a name two VMs share (in different folders) maps to both: whoever refers to it must say which
    vms = _Vms(vms)

    _normalize_asr(spec, vms, hosts, datastores, now)
    return spec


class _Vms(dict):
    """``name -> (vm, dc, esx)`` for names one VM has; :meth:`pick` also resolves a shared name."""

    def __init__(self, by_name):
        super().__init__({name: found[0] for name, found in by_name.items() if len(found) == 1})
        self.shared = {name: found for name, found in by_name.items() if len(found) > 1}

    def __contains__(self, name):
        return dict.__contains__(self, name) or name in self.shared

    def __getitem__(self, name):
        if name in self.shared:
            raise SpecError("%d VMs are named %s (folders %s); say which one with vm_folder"
                            % (len(self.shared[name]), name, ", ".join(str(v[0]["folder"]) for v in self.shared[name])))
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def pick(self, name, folder=None, given=False):
        """The VM ``name`` in ``folder`` (``given``: the caller named a folder, None = the root folder)."""
        found = self.shared.get(name) or ([dict.__getitem__(self, name)] if dict.__contains__(self, name) else [])
        if given:
            found = [entry for entry in found if entry[0]["folder"] == folder]
        if len(found) > 1:
            return self[name]  # raises: ambiguous
        return found[0] if found else None


def _normalize_asr(spec, vms, hosts, datastores, now):
    asr = spec.setdefault("asr", {})
    asr.setdefault("resource_group", "rg-dr")
    asr.setdefault("vault", "vault-dr")
    flow = spec_modern.check_flow(asr)
    cs = asr.setdefault("configuration_server", {})
    cs.setdefault("name", "cs01")
    cs.setdefault("ip", "10.0.0.10")
    cs.setdefault("service_status", "Running")
    cs.setdefault("heartbeat_age_seconds", HEARTBEATS["configuration_server"])
    cs.setdefault("version", "9.62.7172.1")
    cs.setdefault("version_status", "Supported")
    # the configuration server is always a process server and a master target too (same id; as a master target it
    # has no datastores and no disks, so failback disks go to a scale-out master target), as every recorded
    # classic fabric shows (tests/recorded/asr fact 15)
    cs.setdefault("master_target", True)
    cs.setdefault("retention_volumes", [{"name": "D", "capacity_gb": 32, "free_gb": 29}])
    for volume in cs["retention_volumes"]:
        volume.setdefault("file_system", "NTFS")
        volume.setdefault("threshold_percentage", None)
    cs["id"] = server_id("cs", cs["name"])
    asr["fabric_name"] = hashlib.sha256(("fabric/" + cs["name"]).encode()).hexdigest()
    asr["container_name"] = "cloud_" + guid("container", cs["name"])
    asr["vault_id"] = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
        spec["azure"]["subscription_id"], asr["resource_group"], asr["vault"])

    servers = asr.setdefault("process_servers", [])
    if flow == "classic" and not any(ps["name"] == cs["name"] for ps in servers):
        servers.append({"name": cs["name"], "ip": cs["ip"], "location": "onprem"})
    for ps in servers:
        own = ps["name"] == cs["name"]  # the configuration server's own process server
        ps.setdefault("ip", cs["ip"] if own else "10.1.0.4")
        ps.setdefault("location", "onprem" if own else "azure")
        ps.setdefault("health", "Normal")
        ps.setdefault("service_status", "Running")
        ps.setdefault("heartbeat_age_seconds", HEARTBEATS["process_server"] + (-30 if own else 0))
        ps.setdefault("version_status", "Supported")
        ps["id"] = cs["id"] if own else server_id("ps", ps["name"])
    for mt in asr.setdefault("master_targets", []):
        if mt["vm"] not in vms:
            raise SpecError("master target %s is not a VM of the lab" % mt["vm"])
        vm = vms[mt["vm"]][0]
        mt.setdefault("name", mt["vm"])
        mt.setdefault("os", "Windows" if vm["guest_id"].startswith("windows") else "Linux")
        mt.setdefault("version", cs["version"])
        mt.setdefault("version_status", "Supported")
        mt.setdefault("heartbeat_age_seconds", HEARTBEATS["master_target"])
        mt.setdefault("retention_volumes", [{"name": "R:" if mt["os"] == "Windows" else "/mnt/retention",
                                             "capacity_gb": 500, "free_gb": 400}])
        for volume in mt["retention_volumes"]:
            volume.setdefault("file_system", "NTFS" if mt["os"] == "Windows" else "ext4")
            volume.setdefault("threshold_percentage", None)  # null in the recorded fabric GET
        mt["id"] = server_id("mt", mt["vm"])
        mt["host"] = vm["host"]
        mt["instance_uuid"] = vm["instance_uuid"]
    accounts = asr.setdefault("run_as_accounts", [{"id": "1", "name": "vcenter-discovery"}])
    for account in accounts:
        account["id"] = str(account["id"])
    vcenters = asr.setdefault("vcenters", [{"name": spec["vcenter"]["name"]}])
    for entry in vcenters:
        entry.setdefault("standalone", False)
        entry.setdefault("discovery_status", "Completed")
        entry.setdefault("heartbeat_age_seconds", HEARTBEATS["vcenter"])
        entry.setdefault("connected", True)
        entry.setdefault("ip", "10.0.0.20")
        entry.setdefault("run_as_account", accounts[0]["id"] if accounts else None)
        entry["internal_id"] = guid("vcenter", entry["name"])
    spec_modern.normalize_appliances(spec, asr, vms, hosts, datastores)
    policies = asr.setdefault("policies", copy.deepcopy(spec_modern.DEFAULT_POLICIES) if flow == "modernized" else [
        {"name": "policy-24h", "provider": "InMageAzureV2"}, {"name": "policy-24h-failback", "provider": "InMage"}])
    for policy in policies:
        policy.setdefault("rpo_threshold_minutes", 15)
        policy.setdefault("recovery_point_history_minutes", 1440)
        policy.setdefault("app_consistent_frequency_minutes", 60)
        policy["id"] = "%s/replicationPolicies/%s" % (asr["vault_id"], policy["name"])
    forward, failback = spec_modern.providers(asr)
    if not any(p["provider"] == failback for p in policies):
        raise SpecError("asr.policies needs an %s (failback) policy" % failback)
    if not any(p["provider"] == forward for p in policies):
        raise SpecError("asr.policies needs an %s (forward) policy" % forward)

    items = asr.setdefault("items", [])
    names = set()
    for item in items:
        _normalize_item(spec, asr, item, vms, datastores, now)
        if item["name"] in names:
            raise SpecError("two protected items are named %s" % item["name"])
        names.add(item["name"])
    for plan in asr.setdefault("recovery_plans", []):
        plan["id"] = "%s/replicationRecoveryPlans/%s" % (asr["vault_id"], plan["name"])
        for group in plan.setdefault("groups", []):
            group.setdefault("type", "Boot")
            for name in group["items"]:
                if name not in names:
                    raise SpecError("recovery plan %s names unknown item %s" % (plan["name"], name))
    _apply_stages(spec, asr, vms, datastores)


def _normalize_item(spec, asr, item, vms, datastores, now):
    name = item["name"]
    # the VM ASR protects: ASR knows it by its instance UUID, so when two VMs share the name (a stale copy in
    # another folder) the spec says which with vm_folder (None: the datacenter's root VM folder)
    picked = vms.pick(name, item.get("vm_folder"), given="vm_folder" in item)
    item.setdefault("vm_folder", picked[0]["folder"] if picked else None)
    item.setdefault("source", "physical" if picked is None else ("standalone" if picked[2] else "vcenter"))
    item.setdefault("stage", "running_in_azure")
    if item["stage"] not in STAGES:
        raise SpecError("item %s: stage %r is not one of %s" % (name, item["stage"], ", ".join(STAGES)))
    vm = picked[0] if picked else None
    item.setdefault("os", "Windows" if vm is None or vm["guest_id"].startswith("windows") else "Linux")
    item.setdefault("os_name", "Windows Server 2019" if item["os"] == "Windows" else "Red Hat Enterprise Linux 8")
    item.setdefault("replication_group", None)
    item.setdefault("master_target", None)
    item.setdefault("datastore", None)
    item.setdefault("protection_disabled", False)
    item.setdefault("migration_completed", False)
    item.setdefault("in_cs_database", True)
    item.setdefault("failback_manifest", True)
    item.setdefault("alternate_nics", 1)
    # the order of the alternate-location failover's vCenter operations (no recording shows ASR's): at_creation
    # detaches every VMDK from the master target, then creates the VM with them; one_by_one creates the VM, then
    # moves each VMDK (detach from the master target, attach to the VM) as the original-location failover does
    item.setdefault("alternate_disk_moves", "at_creation")
    if item["alternate_disk_moves"] not in ALTERNATE_DISK_MOVES:
        raise SpecError("item %s: alternate_disk_moves %r is not one of %s" % (
            name, item["alternate_disk_moves"], ", ".join(ALTERNATE_DISK_MOVES)))
    # a failover that stopped before moving the disks: Site Recovery says the item's stage, vCenter looks as at this
    # one (classic flow; None: as at the item's stage)
    item.setdefault("onprem_as_at", None)
    if item["onprem_as_at"] not in (None, *STAGES):
        raise SpecError("item %s: onprem_as_at %r is not one of %s" % (name, item["onprem_as_at"], ", ".join(STAGES)))
    # original location: the source VM still exists (ASR knows it by identity, so a stray VM of the
    # same name is not it: such a spec says original_location: false)
    item.setdefault("original_location", vm is not None and item["source"] != "physical")
    if not item["original_location"]:
        vm = None
    if item["source"] == "standalone" and vm is None:
        raise SpecError("item %s is from a standalone host but no standalone host has that VM" % name)
    # UEFI sources fail back as UEFI VMs: firmware of the source VM, or given for a VM that is gone or physical
    item.setdefault("firmware", vm["firmware"] if vm else "bios")
    if item["firmware"] not in FIRMWARE:
        raise SpecError("item %s: firmware %r is not one of %s" % (name, item["firmware"], ", ".join(FIRMWARE)))
    item["item_name"] = guid("item", name)
    if asr["flow"] == "modernized" and vm is not None and item["source"] != "physical":
        # recorded: a modernized item is named after the machine the appliance discovered, <vCenter>_<instance UUID>
        # (vcenter67_50158471-87c2-..., tests/recorded/asr): how the service names the VM it protects
        item["item_name"] = "%s_%s" % (spec["vcenter"]["name"], vm["instance_uuid"])
    if asr["flow"] == "modernized":  # internalIdentifier: name-based (recorded version-5 UUIDs)
        item["replica_id"] = guid("replica", name)
        item["vm_id"] = guid("vm", name)
        item["failback_vm_id"] = item["vm_id"]
        item["infrastructure_vm_id"] = (vm["instance_uuid"] if vm else guid("physical", name))
    else:
        # vmId / infrastructureVmId: the configuration server's id of the machine (machine_id above), minted at the
        # discovery in the order of the items; failback_vm_id: the one of the Azure VM, minted at the reprotect to
        # on-premises (an item a spec starts at a failback stage has it); the InMage replicaId, a failback job's
        # recoveryVmId and the reprotect to Azure's EnableDr target are the first (recorded)
        index = next(n for n, other in enumerate(asr["items"]) if other is item)
        found = DISCOVERY_TIME + datetime.timedelta(seconds=index * DISCOVERY_STEP_SECONDS)
        cs_name = asr["configuration_server"]["name"]
        item["vm_id"] = machine_id(cs_name, found)
        item["failback_vm_id"] = machine_id(cs_name, found + datetime.timedelta(seconds=REPROTECT_AFTER_SECONDS))
        item["infrastructure_vm_id"] = item["vm_id"]
        item["replica_id"] = item["vm_id"]
    # the on-prem VM's instance UUID as ASR records it (None until an alternate-location failback creates one)
    item["instance_uuid"] = vm["instance_uuid"] if vm else None
    item["multi_vm_group_id"] = guid("group", item["replication_group"]) if item["replication_group"] else item["vm_id"]
    item["multi_vm_group_name"] = item["replication_group"] or item["multi_vm_group_id"]
    item["disk_sizes_gb"] = ([(d.get("size_gb") or d.get("size_mb", 0) / 1024.0) for d in vm["disks"]]
                             if vm else item.get("disk_sizes_gb", [64, 128]))
    # ASR's record of the on-prem disks of an original-location VM: file, size and slot
    item["disks"] = [{"file": "[%s] %s" % (d["datastore"], d["file"]), "size_gb": d.get("size_gb") or d["size_mb"] / 1024.0,
                      "bus": d["bus"], "unit": d["unit"], "uuid": d.get("uuid"), "datastore": d["datastore"]}
                     for d in (vm["disks"] if vm else []) if d["backing"] == "flat"]
    if asr["flow"] == "modernized":
        spec_modern.normalize_item(asr, item, vm, datastores, item["stage"] in FAILBACK_PROVIDER_STAGES)
    elif item["stage"] in FAILBACK_PROVIDER_STAGES:
        mts = {m["vm"]: m for m in asr["master_targets"]}
        if item["master_target"] not in mts:
            raise SpecError("item %s at stage %s needs master_target (one of %s)"
                            % (name, item["stage"], ", ".join(sorted(mts)) or "none defined"))
        if not item["original_location"] and item["datastore"] not in datastores:
            raise SpecError("item %s (alternate location) at stage %s needs datastore" % (name, item["stage"]))
    points = item.setdefault("recovery_points", [])
    for index, point in enumerate(points):
        point.setdefault("type", "CrashConsistent")
        point.setdefault("age_minutes", 5 * (index + 1))
        point["time"] = _iso(now - datetime.timedelta(minutes=point["age_minutes"]))
        point["name"] = guid("rp", name, index, point["age_minutes"])
    # an Azure VM exists from the failover to Azure until the failback is committed
    if item["stage"] in ("replicating_to_azure", "failback_committed", "reprotected_to_azure"):
        item["azure_vm"] = None
    else:
        item["azure_vm"] = item.get("azure_vm") or {}
        _normalize_azure_vm(spec, item)


def _normalize_azure_vm(spec, item):
    avm = item["azure_vm"]
    avm.setdefault("name", item["name"])
    avm.setdefault("resource_group", "rg-recovery")
    avm.setdefault("size", "Standard_D4s_v5")
    avm.setdefault("power_state", "running")
    avm.setdefault("data_disks", max(0, len(item["disk_sizes_gb"]) - 1))
    avm.setdefault("moved_to_resource_group", None)
    avm.setdefault("deleted", False)
    avm["vm_uuid"] = guid("azure-vm", item["name"])
    rg = avm["moved_to_resource_group"] or avm["resource_group"]
    base = "/subscriptions/%s/resourceGroups/%s/providers" % (spec["azure"]["subscription_id"], rg)
    avm["id"] = "%s/Microsoft.Compute/virtualMachines/%s" % (base, avm["name"])
    # the id ASR recorded at failover: the original resource group, even if the VM moved since
    avm["recorded_id"] = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        spec["azure"]["subscription_id"], avm["resource_group"], avm["name"])
    sizes = item["disk_sizes_gb"] or [64]
    avm["os_disk"] = {"name": "%s-osdisk" % avm["name"], "size_gb": round(sizes[0]),
                      "id": "%s/Microsoft.Compute/disks/%s-osdisk" % (base, avm["name"])}
    avm["data_disk_list"] = [
        {"name": "%s-datadisk-%d" % (avm["name"], lun), "lun": lun,
         "size_gb": round(sizes[lun + 1]) if lun + 1 < len(sizes) else 128,
         "id": "%s/Microsoft.Compute/disks/%s-datadisk-%d" % (base, avm["name"], lun)}
        for lun in range(avm["data_disks"])]
    avm["nics"] = [{"name": "%s-nic0" % avm["name"],
                    "id": "%s/Microsoft.Network/networkInterfaces/%s-nic0" % (base, avm["name"])}]


def _apply_stages(spec, asr, vms, datastores):
    """Make vCenter agree with each item's stage (see README: the world a stage implies)."""
    mts = {m["vm"]: m for m in asr["master_targets"]}
    for item in asr["items"]:
        stage = item["onprem_as_at"] or item["stage"]
        if asr["flow"] == "modernized":
            spec_modern.apply_stage(item, _item_vm(vms, item) if item["original_location"] else None, ONPREM_RUNNING)
            continue
        if not item["original_location"]:
            if stage in DISKS_ON_MASTER_TARGET:
                mt_vm = vms[item["master_target"]][0]
                _attach_to_master_target(mt_vm, [
                    {"size_gb": size, "datastore": item["datastore"], "thin": True,
                     "file": "%s/%s%s.vmdk" % (item["name"], item["name"], "" if i == 0 else "_%d" % i),
                     "uuid": "6000C29" + guid("disk", item["name"], i)[7:], "backing": "flat"}
                    for i, size in enumerate(item["disk_sizes_gb"])])
            continue
        vm = _item_vm(vms, item)
        if stage in (*DISKS_ON_MASTER_TARGET, "failed_back") and item["failback_manifest"]:
            _record_manifest(vm)
        if stage in DISKS_ON_MASTER_TARGET:
            vm["power_state"] = "poweredOff"
            mt_vm = vms[mts[item["master_target"]]["vm"]][0]
            moved = [dict(d) for d in vm["disks"] if d["backing"] == "flat"]
            vm["disks"] = [d for d in vm["disks"] if d["backing"] != "flat"]
            _attach_to_master_target(mt_vm, moved)
        elif stage in ONPREM_RUNNING:
            vm["power_state"] = vm.get("power_state") or "poweredOn"
        else:
            vm["power_state"] = "poweredOff"
        if vm["power_state"] != "poweredOn":
            vm["tools_running_status"] = "guestToolsNotRunning"


MANIFEST_KEY = "siterecovery.failback.disks"


def _record_manifest(vm):
    """What the collection's reprotect leaves on a classic original-location VM whose disks it moved to the master
    target: extraConfig ``siterecovery.failback.disks``, a compact JSON list of each flat disk's ``{bus, file,
    size_gb, unit, uuid}`` as it sat on the VM (the record the commit gate trusts over a disk's name)."""
    disks = [{"bus": d["bus"], "file": "[%s] %s" % (d["datastore"], d["file"]),
              "size_gb": d.get("size_gb") or d["size_mb"] / 1024.0, "unit": d["unit"], "uuid": d.get("uuid")}
             for d in vm["disks"] if d["backing"] == "flat"]
    vm["extra_config"][MANIFEST_KEY] = json.dumps(disks, sort_keys=True, separators=(",", ":"))


def _item_vm(vms, item):
    return vms.pick(item["name"], item["vm_folder"], given=True)[0]


def _attach_to_master_target(mt_vm, disks):
    """Put ``disks`` on the master target's LSI Logic controllers (bus 1.. added as needed)."""
    used = {(d["bus"], d["unit"]) for d in mt_vm["disks"]}
    buses = [c["bus"] for c in mt_vm["scsi_controllers"] if c["type"].startswith("lsilogic")]
    for disk in disks:
        placed = False
        while not placed:
            for bus in buses:
                for unit in [u for u in range(16) if u != 7]:
                    if (bus, unit) not in used:
                        disk["bus"], disk["unit"] = bus, unit
                        used.add((bus, unit))
                        placed = True
                        break
                if placed:
                    break
            if not placed:
                bus = max([c["bus"] for c in mt_vm["scsi_controllers"]] + [-1]) + 1
                if bus > 3:
                    raise SpecError("master target %s has no free SCSI slot for another disk" % mt_vm["name"])
                mt_vm["scsi_controllers"].append({"bus": bus, "type": "lsilogic"})
                buses.append(bus)
        mt_vm["disks"].append(disk)


def _creation_order(vms):
    """VMs whose home directory holds another VM's disks (a VM whose disks sit on a master target)
    are created first, so the simulator gives them their own directory and not "name (0)"."""
    homes = {d["file"].split("/", 1)[0] for vm in vms for d in vm["disks"] if "/" in d["file"]}
    borrowed = {home for vm in vms for home in homes
                if any(d["file"].startswith(home + "/") for d in vm["disks"]) and home != vm["name"]}
    return sorted(vms, key=lambda vm: 0 if vm["name"] in borrowed else 1)


def launcher_inventories(spec):
    """``{"vcenter": {...}, "<standalone host>": {...}}``: the launcher JSON of each simulator."""
    vc = spec["vcenter"]
    datacenters = [dict(dc, vms=_creation_order(dc["vms"])) for dc in vc["datacenters"]]
    inventories = {"vcenter": {
        "mode": "vcenter", "username": vc["username"], "password": vc["password"],
        "api_version": vc["api_version"], "datacenters": datacenters}}
    for esx in spec["standalone_hosts"]:
        inventories[esx["name"]] = {
            "mode": "esx", "username": esx["username"], "password": esx["password"],
            "api_version": esx["api_version"],
            "datacenters": [{"name": "ha-datacenter", "standalone_hosts": [esx["name"]], "hosts": [esx["host"]],
                             "datastores": esx["datastores"], "networks": esx["networks"], "vms": esx["vms"]}]}
    return inventories
