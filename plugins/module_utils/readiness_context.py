# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the readiness rules need, gathered in few calls: fixed lists plus per-VM reads (no Ansible imports).

Azure: the fabric list, the vCenter list, the item list (plus the plan list for a plan, or when a VM of a
replication group is named without one), one list
of the subscription's VMs, then a GET of each selected item (the list leaves its disks, OS, master
target and recovery-point facts empty) and, for classic VMs replicating to on-premises, the item's
recovery-point list (the only place point types are named), both concurrently. vSphere: one login,
the six property reads of :class:`Inventory` and one of the networks (which hosts have each), whatever the
number of VMs.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric, ids
from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.asr.vault import parallel
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import (
    identity,
    limits,
    placement,
    readiness,
    readiness_modern,
    recovery_points,
    rules,
    stages,
)
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import facts
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim

# importing readiness_modern registers the modernized flow's rules next to the classic ones
MODERN_RULES = readiness_modern.RULE_IDS


def _details(model):
    return getattr(model.properties, "provider_specific_details", None)


def item_extras(model):
    """Facts of an item (its GET) that ``items.normalize`` leaves out: OS name, memory, validation errors, fabric,
    and the capacity of each protected disk in bytes (``protectedDisks[].diskCapacityInBytes``, InMageRcmFailback
    ``capacityInBytes``; the rule alternate_datastore_space)."""
    details = _details(model)
    return {
        "disk_capacities_bytes": [getattr(d, "disk_capacity_in_bytes", None) or getattr(d, "capacity_in_bytes", None)
                                  for d in getattr(details, "protected_disks", None) or []],
        "os_name": getattr(details, "os_name", None) or getattr(details, "os_version", None),
        "memory_mb": getattr(details, "source_vm_ram_size_in_mb", None),
        "validation_errors": asr_items.health_errors(getattr(details, "validation_errors", None)),
        "fabric_name": ids.item_path(model.id)[0],
    }


def needs_points(item):
    """A classic item replicating to on-premises: its failover chooses among its listed recovery points."""
    return item["failback_stage"] in readiness.REPLICATING and item["provider"] not in (
        stages.MODERN_FORWARD + stages.MODERN_FAILBACK)


def point_facts(listed, evidence, now):
    """``{has_point, count, app_consistent_count, latest_app_consistent_age_minutes, listed}`` from the recovery-point list
    (``listed``: RecoveryPoint models, or None when it was not read) and the item GET's evidence of a point."""
    points = [{"name": p.name, "id": p.id, "type": p.properties.recovery_point_type,
               "time": p.properties.recovery_point_time} for p in listed or []]
    result = recovery_points.facts(points, evidence, now)
    # the points themselves, for a recovery point named by name or id (rule named_recovery_point); None: not read
    result["listed"] = points if listed is not None else None
    return result


def _select(vault, vms, plan):
    """``[(name, model or None, item or None, missing message or None)]`` in the order asked; each item found in
    the list is read with a GET (concurrently)."""
    plan_of = asr_items.plan_units(vault, plan)  # {item ARM id: its plan}, the steps' own (runner.PerVm)
    wanted = [("item", ids.last(arm_id)) for name in asr_items.plan_names(plan)
              for arm_id, _group in asr_items.plan_members(vault.plan(name))]
    wanted.extend(("vm", name) for name in vms or [])
    resolved = asr_items.resolve(vault, wanted)
    unique = {}
    for _name, listed, _problem in resolved:
        if listed is not None:
            unique.setdefault(listed.name.lower(), listed)
    read = dict(zip(unique, asr_items.read(vault, list(unique.values())), strict=True))
    result = []
    seen = set()
    for name, listed, problem in resolved:
        if listed is None:
            result.append((name, None, None, problem))
            continue
        model, item = read[listed.name.lower()]
        if item["item_name"] not in seen:
            seen.add(item["item_name"])
            result.append((item["name"], model, dict(item, plan=plan_of.get((item["id"] or "").lower())), None))
    return result


def _vsphere(connect, hostname):
    """``(inventory or None, {connected, error, hostname, is_vcenter})``."""
    try:
        from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory
        client = connect()
        inventory = Inventory(client)
    except FailbackError as error:
        return None, {"connected": False, "error": error.msg, "hostname": hostname, "is_vcenter": None}
    return inventory, {"connected": True, "error": None, "hostname": hostname, "is_vcenter": inventory.is_vcenter}


def _networks(inventory):
    """``({host moid: [network names]}, {network moid: name})``: the networks (standard and distributed port groups)
    of each ESXi host, for the rule of ``domain.hosts``, in one read (``Network.host``); none without hosts."""
    if not inventory.hosts:
        return {}, {}
    by_host, names = {}, {}
    for row in inventory.client.retrieve(vim.Network, ["name", "host"]):
        names[row["moid"]] = row["name"]
        for ref in row.get("host") or []:
            by_host.setdefault(ref._moId, []).append(row["name"])
    return {moid: sorted(found) for moid, found in by_host.items()}, names


def _run_needs(inventory, onprem, names):
    """Add to a VM's facts what an ESXi host must offer to run it (``domain.hosts``): ``file_datastores``, the
    datastore of every file (its .vmx directory and every disk), and ``networks``, the network of every adapter."""
    row = inventory.vms.get(onprem["moid"]) if inventory is not None and onprem else None
    if row is None:
        return
    files = [row.get("config.files.vmPathName")] + [d.get("file") for d in onprem.get("disks") or []]
    onprem["file_datastores"] = sorted({facts.datastore_of_file(f) for f in files if f} - {None, ""})
    onprem["networks"] = sorted({names[r._moId] for r in row.get("network") or [] if r._moId in names})


def _hosts(inventory, networks):
    result = {}
    datastores = {}
    for row in inventory.hosts.values():
        host = facts.host_facts(inventory, row)
        host["vms"] = sorted(vm["name"] for vm in inventory.vms_on_host(row))
        host["networks"] = networks.get(row["moid"], [])
        result[host["name"]] = host
    for row in inventory.datastores.values():
        store = facts.datastore_facts(row)
        datastores[store["name"]] = store
    return result, datastores


def _master_targets(vault, infra, inventory):
    """{name: {name, asr, vm, ambiguous}} for every master target of the vault; validation errors from the fabric
    models. ``ambiguous``: the VMs of vSphere that have the master target's name, each described by
    ``domain.identity.describe``, when there are several (a stale copy), else None; ``vm`` is then None."""
    validation = {}
    for fab in vault.fabrics():
        details = getattr(fab.properties, "custom_details", None)
        for server in getattr(details, "master_target_servers", None) or []:
            validation[server.name] = [{"code": getattr(e, "error_code", None), "level": getattr(e, "error_level", None),
                                        "message": " ".join(m for m in (getattr(e, "summary_message", None),
                                                                        getattr(e, "error_message", None)) if m)}
                                       for e in server.validation_errors or []]
    result = {}
    for mt in infra["master_targets"]:
        entry = dict(mt, validation_errors=validation.get(mt["name"], []))
        found = inventory.resolve_vm(mt["name"]) if inventory else None
        row = found.vm["row"] if found is not None and found.vm is not None else None
        result[mt["name"]] = {"name": mt["name"], "asr": entry,
                              "vm": facts.master_target_facts(inventory, row) if row is not None else None,
                              "ambiguous": [identity.describe(c) for c in found.same_name]
                              if found is not None and found.how == identity.AMBIGUOUS else None}
    return result


def _onprem(inventory, item):
    """``(VM facts or None, instance UUID of a VM of that name that is not the one ASR records, [VMs of that name when
    several have it and none can be chosen], warning or None)`` for the item's on-premises VM in vSphere.

    The VM is the one ``domain.identity.resolve`` finds - the rule master_target_disks, onprem_vm and the commit gate
    use too: a modernized item names its VM's instance UUID (``items.recorded_instance_uuid``), which wins over any
    name; a classic item records none - ``infrastructureVmId`` is the configuration server's own id of the machine, not
    ``config.instanceUuid`` (docs/recorded-behaviour.md) - so its VM is the one VM of its name; several VMs of that
    name are listed (``{name, moid, instance_uuid, host, folder, vmx, power_state}``) and none is chosen. Before a
    reprotect, a VM found by name that does not carry the UUID a modernized item records is another VM (its UUID is
    returned; the rule original_vm_present refuses it)."""
    if inventory is None or item is None:
        return None, None, [], None
    wanted = item["onprem"].get("instance_uuid")
    found = inventory.resolve_vm(item["name"], wanted)
    if found.how == identity.AMBIGUOUS:
        return None, None, [{k: c.get(k) for k in ("name", "moid", "instance_uuid", "host", "folder", "vmx",
                                                   "power_state")} for c in found.same_name], None
    if found.vm is None:
        return None, None, [], None
    if found.uuid_missing:
        return None, found.vm.get("instance_uuid"), [], None
    return facts.vm_facts(inventory, found.vm["row"]), None, [], found.warning()


def _place(entries, master_targets, params, groups=None):
    """Choose the master target of each VM: the one given (its ``placements`` entry, else the run's; by name or id,
    as the reprotect finds it), else the one ASR recorded for a failback item, else automatic placement
    (domain.placement) among the fabric's master targets for the VMs still to reprotect - on the datastore named
    for each VM at an alternate location. A replication group is placed whole: its members still to reprotect that
    the run does not hold (``groups``, from :func:`_groups`) count too - their OS, disks and datastores - as the
    group fails back through one master target."""
    def names(entry):  # what gather gave it, else the run's names (an entry built without them)
        return entry.get("placement") or placement.names_for(params, entry["name"])

    by_id = {(m["asr"].get("id") or "").lower(): name for name, m in master_targets.items()}
    registered = [dict(m["asr"], name=name) for name, m in master_targets.items()]
    todo = []
    for entry in entries:
        item = entry.get("item")
        if item is None:
            continue
        given = names(entry)["master_target"]
        if given:
            found = rules.find_master_target(given, registered)[0]
            entry["master_target"], entry["master_target_source"] = (found["name"] if found else given), "given"
        elif item["provider"] in stages.FAILBACK and by_id.get((item["onprem"].get("master_target_id") or "").lower()):
            # a failback item's masterTargetId is its failback master target; a forward item's (its GET has one) is the
            # process server that replicated it to Azure (recorded: masterTargetId = processServerId), not a choice
            entry["master_target"] = by_id[item["onprem"]["master_target_id"].lower()]
            entry["master_target_source"] = "asr"
        elif item["failback_stage"] in readiness.BEFORE_REPROTECT:
            todo.append(entry)
    if not todo:
        return

    def datastore(entry):
        return names(entry)["datastore"] if params.get("location") == "alternate" else None

    vms = [{"name": e["name"], "os_type": e["item"]["os_type"], "group": e["item"]["replication_group"],
            "disk_count": e["item"]["disk_count"], "alternate": bool(datastore(e)), "memory_mb": e["item"].get("memory_mb"),
            "datastores": [datastore(e)] if datastore(e) else list(e["item"]["onprem"]["datastores"])} for e in todo]
    vms += placement.companions([dict(e["item"], name=e["name"]) for e in todo], groups, readiness.BEFORE_REPROTECT,
                                by_id)
    limit = {"heartbeat_max_age_seconds": params.get("heartbeat_max_age_seconds",
                                                     readiness.DEFAULT_HEARTBEAT_MAX_AGE_SECONDS)}
    mts = []
    for name, m in master_targets.items():
        # powered off, or its agent silent: skipped, and the refusal says so
        broken = readiness.mt_problem(dict(m, name=name), limit, unknown_heartbeat_holds=True)
        host = (m.get("vm") or {}).get("host")
        mts.append({"name": name, "os_type": m["asr"].get("os_type"), "disk_count": m["asr"].get("disk_count") or 0,
                    "datastores": [d["name"] for d in m["asr"].get("datastores") or []
                                   if limits.is_failback_datastore_type(d.get("type"))],
                    "unusable": broken.message if broken else None,
                    "host": dict(host, datastores=[d["name"] for d in host.get("datastores") or []]) if host else None})
    choice, problems = placement.place(vms, mts)
    for entry in todo:
        if entry["name"] in choice:
            entry["master_target"], entry["master_target_source"] = choice[entry["name"]], "placement"
            continue
        mine = [p for p in problems if ("VM %s" % entry["name"]) in p or (" %s," % entry["name"]) in p
                or ("(%s" % entry["name"]) in p or (" %s)" % entry["name"]) in p]
        if not any("mixes operating systems" in p for p in mine):
            entry["placement_problem"] = " ".join(mine) or "Automatic placement found no master target for %s." % entry["name"]


def _groups(vault, entries):
    """``asr.items.group_members`` of the run's items (see there): rules replication_group and replication_group_whole,
    and placement's sizing of a group."""
    return asr_items.group_members(vault, [e["item"] for e in entries if e.get("item")])


def _plans(vault, entries):
    """``({plan name: set of lower-case item ids}, {lower-case item id: VM name})`` of the recovery plans holding a VM
    of a replication group that is named without a plan (the rule replication_group_plan): the plan list, read
    only then (one list call; the item list is read already). ``(None, None)`` otherwise."""
    grouped = {e["item"]["id"].lower() for e in entries if e.get("item") and e["item"].get("replication_group")
               and not e.get("plan")}
    if not grouped:
        return None, None
    plans = {}
    for plan in vault.plans():
        members = {(arm_id or "").lower() for arm_id, _group in asr_items.plan_members(plan)}
        if members & grouped:
            plans[plan.name] = members
    return plans, {(m.id or "").lower(): m.properties.friendly_name for m in vault.items()}


def gather(vault, azure_vms, connect, params, now=None):
    """The readiness context (see ``domain.readiness``) for ``params`` (the module's parameters)."""
    infra = fabric.describe(vault, now)  # ``now`` pins the heartbeat ages too (a test at the recorded time)
    now = now or fabric.now_utc()
    selected = _select(vault, params.get("vms") or [], params.get("recovery_plan"))
    inventory, vsphere = _vsphere(connect, params.get("hostname"))
    networks, network_names = _networks(inventory) if inventory else ({}, {})
    hosts, datastores = _hosts(inventory, networks) if inventory else ({}, {})
    master_targets = _master_targets(vault, infra, inventory)
    listed = [model for _name, model, item, _missing in selected if item is not None and needs_points(item)]
    points = dict(zip((m.id.lower() for m in listed), parallel(vault.recovery_points, listed), strict=True))
    entries = []
    for name, model, item, missing in selected:
        # the names the reprotect will use for it: the run's, with its placements entry over them
        chosen = placement.names_for(params, name)
        entry = {"name": name, "missing": missing, "item": None, "plan": (item or {}).get("plan"), "azure_vm": None,
                 "onprem": None, "same_name_uuid": None,
                 "same_name_vms": [], "same_name_warning": None, "appliance": chosen["appliance"], "placement": chosen,
                 "points": {}, "master_target": None, "master_target_source": None, "placement_problem": None}
        if item is not None:
            entry["item"] = dict(item, **item_extras(model))
            entry["points"] = point_facts(points.get(model.id.lower()), asr_items.point_evidence(model), now)
            entry["azure_vm"] = azure_vms.find(item)
            entry["onprem"], entry["same_name_uuid"], entry["same_name_vms"], entry["same_name_warning"] = _onprem(
                inventory, item)
            _run_needs(inventory, entry["onprem"], network_names)
        entries.append(entry)
    groups = _groups(vault, entries)
    _place(entries, master_targets, params, groups)
    plans, item_names = _plans(vault, entries)
    ctx = {
        "location": params["location"], "datastore": params.get("datastore"),
        "recovery_point": params.get("recovery_point") or "latest_processed",
        "app_consistent_max_age_minutes": params.get("app_consistent_max_age_minutes"),
        "heartbeat_max_age_seconds": params.get("heartbeat_max_age_seconds", readiness.DEFAULT_HEARTBEAT_MAX_AGE_SECONDS),
        "memory_remediation": params.get("memory_remediation") or "fail",
        "verification": params.get("verification"),
        "plan": ", ".join(asr_items.plan_names(params.get("recovery_plan"))) or None, "vsphere": vsphere,
        "configuration_servers": infra["configuration_servers"], "vcenters": infra["vcenters"],
        "hosts": hosts, "datastores": datastores, "master_targets": master_targets, "vms": entries,
        "appliances": infra.get("appliances") or [],
        "process_servers": infra.get("process_servers") or [], "run_as_accounts": infra.get("run_as_accounts") or [],
    }
    if plans is not None:
        ctx["plans"], ctx["item_names"] = plans, item_names
    if groups:
        ctx["groups"] = {g: [{k: v for k, v in m.items() if k != "item"} for m in members] for g, members in groups.items()}
    return ctx


def run(vault, azure_vms, connect, params, now=None):
    """Gather, then evaluate: ``{findings, verdicts, summary, master_targets}``."""
    ctx = gather(vault, azure_vms, connect, params, now)
    result = readiness.evaluate(ctx)
    result["placement"] = {e["name"]: {"master_target": e["master_target"], "source": e["master_target_source"]}
                           for e in ctx["vms"] if e.get("item") is not None}
    return result
