# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Put VMs' disks on master targets (and take them off): the rules, the plan, the apply.

One inventory read (six property-collector calls) before and one after, whatever the number
of VMs; one reconfigure task per VM and per master target, each phase's tasks started together
and awaited with one property read per poll. Every rule is checked for every VM before anything
changes, so a refusal changes nothing.
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits, rules
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import disks as diskops
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import facts
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError, fault_message
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim, vmodl
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.tasks import wait_for_tasks


class Found(dict):
    """What a datastore search found: ``{"[ds] folder/": [file name, ...]}``, and in ``sizes`` the
    capacity in GB of each ``"[ds] folder/name.vmdk"`` the server reported."""

    def __init__(self, folders=None, sizes=None):
        super().__init__(folders or {})
        self.sizes = dict(sizes or {})

    def exists(self, file_name):
        directory, _slash, base = (file_name or "").rpartition("/")
        return base in self.get(directory + "/", [])


class Request:
    """One VM's wanted state, with the module-level defaults applied."""

    def __init__(self, entry, defaults):
        self.name = entry["name"]
        self.master_target = entry.get("master_target") or defaults.get("master_target")
        self.location = entry.get("location") or defaults.get("location") or "original"
        self.datastore = entry.get("datastore") or defaults.get("datastore")
        self.disk_sizes_gb = entry.get("disk_sizes_gb") or []
        self.instance_uuid = entry.get("instance_uuid")  # the VM's identity when two VMs share its name
        if not self.master_target:
            raise VSphereError("VM %s: no master_target given (per VM or for the module)." % self.name,
                               vm=self.name, rule="master_target_required")
        if self.location == "alternate" and not self.datastore:
            raise VSphereError("VM %s: alternate location needs a datastore (a VMFS or vSAN datastore the master "
                               "target's host mounts)." % self.name, vm=self.name, rule="datastore_required")


class Plan:
    """What to change: per VM and per master target, device changes and the world after."""

    def __init__(self):
        self.vm_changes = {}      # moid -> (row, [changes], extra options)
        self.mt_changes = {}      # moid -> (row, [disks to attach], create flag list, [devices to remove])
        self.vm_attach = {}       # moid -> (row, [disks]) (reattach)
        self.directories = []     # (datacenter row, "[ds] name") to create for new VMDKs
        self.attach_changes = {}  # moid -> device changes planned for mt_changes / vm_attach (slots taken at plan)
        self.existing = set()     # VMDK files known to exist: never attached with fileOperation create
        self.results = []

    def changed(self):
        return bool(self.vm_changes or self.mt_changes or self.vm_attach)


def _host_problems(inventory, row, role):
    host = inventory.host_of(row)
    if host is None:
        return ["%s %s has no ESXi host in the inventory" % (role, row["name"])]
    state = str(host.get("runtime.connectionState"))
    if state != "connected":
        return ["%s %s: its ESXi host %s is %s; disks cannot be detached or attached until the host (and vCenter) "
                "is connected. Reconnect it and re-run." % (role, row["name"], host["name"], state)]
    return []


def _check_master_target(inventory, mt_row, planned_new):
    mt = facts.master_target_facts(inventory, mt_row)
    problems = _host_problems(inventory, mt_row, "Master target")
    if mt["snapshot_count"]:
        problems.append("Master target %s has %d snapshot(s); ASR fails reprotect and failback through a master target "
                        "with snapshots. Delete its snapshots and re-run." % (mt["name"], mt["snapshot_count"]))
    broken = rules.master_target_disks(mt["name"], mt["disk_count"], planned_new)
    if broken:
        problems.append(broken.sentence())
    return problems


def _inspect_original(inventory, req, vm_row, mt, found):
    """Original location: the VM's flat disks wherever they are, and what forbids moving them."""
    if vm_row is None:
        raise VSphereError("VM %s was not found: original-location failback needs the on-premises VM. Use "
                           "location: alternate if it no longer exists." % req.name, vm=req.name,
                           rule="original_vm_missing")
    vm = facts.vm_facts(inventory, vm_row)
    problems = _host_problems(inventory, vm_row, "VM")
    directory = diskops.vm_directory(vm_row.get("config.files.vmPathName"))
    owned = diskops.vm_disk_set(vm["disks"], mt["disks"], diskops.manifest(vm_row.get("config.extraConfig")), directory)
    known = {d["file"] for d in owned}
    owned += [dict(d, size_gb=getattr(found, "sizes", {}).get(d["file"], 0))
              for d in diskops.orphans(req.name, directory, found, inventory.attached_files()) if d["file"] not in known]
    for disk in vm["disks"]:
        broken = rules.original_disk(req.name, disk["file"], disk["backing"], disk["datastore"], disk["datastore_type"])
        if broken:
            problems.append(broken.sentence())
    to_move = [d for d in owned if d["where"] != "mt"]
    if vm["power_state"] != "poweredOff" and any(d["where"] == "vm" for d in to_move):
        problems.append("VM %s is %s; its disks can only be moved to the master target while it is powered off "
                        "(reprotect powers it off). Power it off and re-run." % (req.name, vm["power_state"]))
    wanted = sorted({facts.datastore_of_file(d["file"]) for d in owned})
    return owned, to_move, wanted, problems


def _inspect_alternate(inventory, req, vm_row, mt, mt_datastores, found):
    """Alternate location: the VMDKs ``[datastore] name/name[_N].vmdk`` for the master target - attached
    as they are when they exist (on the datastore, attached to nothing: a run that stopped half-way),
    created (``create``) when they do not - and what forbids it."""
    problems = []
    sizes = req.disk_sizes_gb or ([d["size_gb"] for d in facts.vm_facts(inventory, vm_row)["disks"]]
                                  if vm_row is not None else [])
    if not sizes:
        problems.append("VM %s: give disk_sizes_gb for alternate location (the sizes of the source disks)." % req.name)
    target = mt_datastores.get(req.datastore) or next(
        (facts.datastore_facts(d) for d in inventory.datastores.values() if d["name"] == req.datastore), None)
    if target is None:
        problems.append("VM %s: datastore %s does not exist." % (req.name, req.datastore))
    elif rules.datastore_kind(req.name, req.datastore, target["type"]):
        problems.append(rules.datastore_kind(req.name, req.datastore, target["type"]).sentence())
    on_mt = {m["file"] for m in mt["disks"]}
    owned = []
    for disk in diskops.alternate_files(req.name, req.datastore, sizes):
        holder = (inventory.holder_of(disk["file"])[0] or {}).get("name")
        if disk["file"] in on_mt:
            owned.append(dict(disk, where="mt", create=False))
        elif holder is not None:
            problems.append("VM %s: VMDK %s is attached to VM %s; alternate-location failback attaches it to master "
                            "target %s only when no other VM uses it. Detach it from %s (without deleting it) or use "
                            "location: original for an existing VM."
                            % (req.name, disk["file"], holder, mt["name"], holder))
        elif found.exists(disk["file"]):  # on the datastore, attached to nothing: attach it as it is
            owned.append(dict(disk, where="none", create=False, attach_gb=found.sizes.get(disk["file"], 0)))
        else:
            owned.append(dict(disk, where="none", create=True))
    new_gb = sum(float(d["size_gb"] or 0) for d in owned if d.get("create"))
    if target is not None and new_gb > (target.get("free_gb") or 0):
        problems.append("VM %s: datastore %s has %.1f GB free; the new VMDKs need %.1f GB (replication fills them). "
                        "Free space on it or choose another datastore." % (req.name, req.datastore,
                                                                           target.get("free_gb") or 0, new_gb))
    return owned, [d for d in owned if d["where"] != "mt"], [req.datastore], problems


def orphan_search(client, inventory, requests, deadline):
    """Search for VMDKs that exist but are attached to nothing (a disk move that stopped half-way):
    the datastores holding original-location VMs' directories, and each alternate-location datastore.
    Returns a :class:`Found` (read-only: SearchDatastoreSubFolders tasks)."""
    names = set()
    for req in requests:
        row = inventory.vm_by_name(req.name, req.instance_uuid)
        if req.location == "original" and row is not None:
            names.add(facts.datastore_of_file(row.get("config.files.vmPathName")))
        elif req.location == "alternate" and req.datastore:
            names.add(req.datastore)
    names = [n for n in names if n]
    if not names:
        return Found()
    sizes = {}
    return Found(diskops.search_vmdks(client, inventory, names, deadline, sizes=sizes), sizes)


def plan_attach(inventory, requests, found=None):
    """Check every rule for every request, then plan the moves and the SCSI slot of every disk;
    raise listing every refusal (nothing changed)."""
    found = found if isinstance(found, Found) else Found(found)
    plan = Plan()
    refusals = []
    per_mt_new = {}
    staged = []
    rows, warnings = _resolve(inventory, requests, refusals)
    for req, vm_row in [(r, rows[r.name]) for r in requests if r.name in rows]:
        mt_row = inventory.find_vms([req.master_target], kind="Master target")[req.master_target]
        mt = facts.master_target_facts(inventory, mt_row)
        mt_datastores = {d["name"]: d for d in (mt["host"] or {}).get("datastores", [])}
        if req.location == "original":
            owned, to_move, wanted, problems = _inspect_original(inventory, req, vm_row, mt, found)
        else:
            owned, to_move, wanted, problems = _inspect_alternate(inventory, req, vm_row, mt, mt_datastores, found)
        broken = rules.datastore_reach(req.name, wanted, list(mt_datastores), "ESXi host %s of master target %s" % (
            (mt["host"] or {}).get("name"), mt["name"]))
        if broken:
            problems.append(broken.sentence())
        per_mt_new[mt_row["moid"]] = per_mt_new.get(mt_row["moid"], 0) + len(to_move)
        refusals += problems
        staged.append((req, vm_row, mt_row, owned, to_move))
    for moid, count in per_mt_new.items():
        refusals += _check_master_target(inventory, inventory.vms[moid], count)
    if refusals:
        raise VSphereError("Refusing to attach disks; nothing was changed: " + " ".join(dict.fromkeys(refusals)),
                           refusals=list(dict.fromkeys(refusals)))
    for req, vm_row, mt_row, owned, to_move in staged:
        _stage_attach(inventory, plan, req, vm_row, mt_row, owned, to_move)
    _warn(plan, warnings)
    plan.existing = _existing_files(inventory, found)
    for moid, (mt_row, wanted, creates) in plan.mt_changes.items():
        try:
            plan.attach_changes[moid] = _attach_changes(mt_row, wanted, creates)
        except VSphereError as error:
            refusals.append(error.msg)
    if refusals:
        raise VSphereError("Refusing to attach disks; nothing was changed: " + " ".join(dict.fromkeys(refusals)),
                           refusals=list(dict.fromkeys(refusals)))
    return plan


def _existing_files(inventory, found):
    """Every VMDK known to exist: attached to a VM of the inventory, or found by a datastore search."""
    files = {f for f in inventory.attached_files() if f}
    files.update(folder + name for folder, names in found.items() for name in names)
    return files


def _stage_attach(inventory, plan, req, vm_row, mt_row, owned, to_move):
    if req.location == "original":
        devices = {d.key: d for d in vm_row.get("config.hardware.device") or []}
        on_vm = [d for d in facts.disks(vm_row.get("config.hardware.device")) if d["backing"] == "flat"]
        removes = [diskops.remove_spec(devices[d["key"]]) for d in on_vm if any(m["file"] == d["file"] for m in to_move)]
        if removes:
            record = diskops.manifest_option(owned)
            plan.vm_changes[vm_row["moid"]] = (vm_row, removes, [record])
    elif any(d.get("create") for d in to_move):
        datacenter = inventory.datacenter_of(inventory.compute_of(inventory.host_of(mt_row)) or mt_row)
        plan.directories.append((datacenter, "[%s] %s" % (req.datastore, req.name)))
    if to_move:
        entry = plan.mt_changes.setdefault(mt_row["moid"], [mt_row, [], []])
        entry[1].extend(to_move)
        entry[2].extend([bool(d.get("create")) for d in to_move])
    plan.results.append({"name": req.name, "master_target": mt_row["name"], "location": req.location,
                         "state": "attached", "changed": bool(to_move),
                         "disks": [{"file": d["file"], "size_gb": d["size_gb"], "before": d["where"], "after": "mt"}
                                   for d in owned]})


def _owned(req, vm_row, mt_disks, found, attached):
    """``(the VM's disks to take off its master target, or found attached to no VM, problem or None)``: each
    ``{file, size_gb, uuid, bus, unit, where (mt | vm | none)}``."""
    if req.location == "original":
        if vm_row is None:
            return [], "VM %s was not found; original-location disks are detached back to it." % req.name
        vm_disks = facts.disks(vm_row.get("config.hardware.device"))
        directory = diskops.vm_directory(vm_row.get("config.files.vmPathName"))
        owned = diskops.vm_disk_set(vm_disks, mt_disks, diskops.manifest(vm_row.get("config.extraConfig")),
                                    directory)
        known = {d["file"] for d in owned}
        owned += [dict(d, size_gb=found.sizes.get(d["file"], 0))
                  for d in diskops.orphans(req.name, directory, found, attached) if d["file"] not in known]
    else:
        sizes = req.disk_sizes_gb or [d["size_gb"] for d in mt_disks]
        names = {d["file"] for d in diskops.alternate_files(req.name, req.datastore, sizes)}
        owned = [{"file": d["file"], "size_gb": d["size_gb"], "uuid": d["uuid"], "bus": None, "unit": None,
                  "where": "mt"} for d in mt_disks if d["file"] in names]
        if vm_row is not None:
            vm_files = {d["file"] for d in facts.disks(vm_row.get("config.hardware.device"))}
            owned += [{"file": f, "size_gb": 0, "where": "vm"} for f in sorted(names & vm_files)]
        known = {d["file"] for d in owned}
        owned += [{"file": f, "size_gb": found.sizes.get(f, 0), "uuid": None, "bus": None, "unit": None,
                   "where": "none"} for f in sorted(names - known - attached) if found.exists(f)]
    return owned, None


def plan_detach(inventory, requests, reattach, found=None):
    """Plan taking the VMs' disks off their master targets (and, with ``reattach``, back onto the VMs
    on their recorded slots, or free ones, chosen now); raise listing every refusal (nothing changed).
    ``found`` (:func:`orphan_search`) adds the VMDKs of a move that stopped half-way: on the datastore,
    attached to nothing."""
    found = found if isinstance(found, Found) else Found(found)
    attached = inventory.attached_files()
    plan = Plan()
    refusals = []
    rows, warnings = _resolve(inventory, requests, refusals)
    pinned = {}  # master target moid -> the disks taken off it (their UUIDs are pinned on it in the same reconfigure)
    for req, vm_row in [(r, rows[r.name]) for r in requests if r.name in rows]:
        mt_row = inventory.find_vms([req.master_target], kind="Master target")[req.master_target]
        mt_disks = facts.disks(mt_row.get("config.hardware.device"))
        owned, problem = _owned(req, vm_row, mt_disks, found, attached)
        if problem:
            refusals.append(problem)
            continue
        refusals += _host_problems(inventory, mt_row, "Master target")
        if reattach and vm_row is None:
            refusals.append("VM %s does not exist, so its disks cannot be reattached to it." % req.name)
        if reattach and vm_row is not None:
            refusals += _host_problems(inventory, vm_row, "VM")
        on_mt = {d["file"] for d in owned if d["where"] == "mt"}
        devices = {d.key: d for d in mt_row.get("config.hardware.device") or []}
        taken = [d for d in mt_disks if d["file"] in on_mt]
        removes = [diskops.remove_spec(devices[d["key"]]) for d in taken]
        if removes:
            entry = plan.vm_changes.setdefault(mt_row["moid"], (mt_row, [], []))
            entry[1].extend(removes)
            pinned.setdefault(mt_row["moid"], []).extend(taken)
        back = [d for d in owned if d["where"] in ("mt", "none")] if reattach else []
        if back and vm_row is not None:  # no VM: refused above (reattach needs it)
            plan.vm_attach[vm_row["moid"]] = (vm_row, back)
            changes = diskops.attach_specs(vm_row.get("config.hardware.device"), back, keep_slots=True,
                                           any_controller=True)
            if changes is None:
                refusals.append("VM %s has no free SCSI slot for its %d disk(s) (%d controllers x %d disks, unit %d "
                                "reserved). Free a slot on it and re-run." % (
                                    vm_row["name"], len(back), limits.SCSI_MAX_CONTROLLERS,
                                    limits.SCSI_UNITS_PER_CONTROLLER, limits.SCSI_RESERVED_UNIT))
            else:
                plan.attach_changes[vm_row["moid"]] = changes
        plan.results.append({"name": req.name, "master_target": mt_row["name"], "location": req.location,
                             "state": "detached", "changed": bool(removes or back),
                             "disks": [{"file": d["file"], "size_gb": d["size_gb"], "before": d["where"],
                                        "after": "vm" if (reattach or d["where"] == "vm") else "none"} for d in owned]})
    if refusals:
        raise VSphereError("Refusing to detach disks; nothing was changed: " + " ".join(dict.fromkeys(refusals)),
                           refusals=list(dict.fromkeys(refusals)))
    for moid, disks in pinned.items():  # a move that stops after this reconfigure leaves them pinned (diskops.pinned)
        mt_row, _removes, options = plan.vm_changes[moid]
        options.append(diskops.pin_option(mt_row, disks, attached))
    plan.existing = _existing_files(inventory, found)
    _warn(plan, warnings)
    return plan


def _resolve(inventory, requests, refusals):
    """``({VM name: its row, or None when it does not exist}, {VM name: [warning]})`` for the requests by
    ``domain.identity`` (its instance UUID wins over its name); a name several VMs share is left out and refused into
    ``refusals``, naming each VM of it; the warnings name the other VMs of a name whose VM was found."""
    rows, warnings = {}, {}
    for req in requests:
        found = inventory.resolve_vm(req.name, req.instance_uuid)
        if found.refusal():
            refusals.append(found.refusal("give the instance UUID of the right one as instance_uuid"))
            continue
        if found.warning():
            warnings[req.name] = [found.warning()]
        rows[req.name] = found.vm["row"] if found.vm is not None else None
    return rows, warnings


def _warn(plan, warnings):
    for result in plan.results:
        if warnings.get(result["name"]):
            result["warnings"] = warnings[result["name"]]


def _reconfigure(row, changes, options=None, existing=()):
    """Start one ReconfigVM_Task after the two safety checks no code path may break: no VMDK destroyed,
    no VMDK of ``existing`` (known to exist) created again."""
    spec = vim.vm.ConfigSpec(deviceChange=changes)
    if options:
        spec.extraConfig = options
    if not diskops.never_destroys(spec):
        raise VSphereError("Internal safety check: a reconfigure of %s would destroy a VMDK; refused." % row["name"])
    over = diskops.creates_existing(spec, set(existing))
    if over:
        raise VSphereError("Internal safety check: a reconfigure of %s would create %s, which exist(s); an existing "
                           "VMDK is attached as it is. Refused." % (row["name"], ", ".join(over)))
    return row["obj"].ReconfigVM_Task(spec=spec)


def _run(client, batch, deadline, limit=None):
    """Start the reconfigure tasks of ``batch`` and wait for them with one property read per poll for all that run;
    raise on the first failure. ``limit``: at most that many at a time (the next ones start once those end); None
    (the default) starts them all together - vCenter queues what it cannot run at once - so the reads do not grow
    with the number of VMs."""
    results = []
    limit = limit or max(1, len(batch))
    for start in range(0, len(batch), limit):
        chunk = batch[start:start + limit]
        tasks = [start_task() for start_task, _label in chunk]
        client.stats["tasks"] += len(tasks)
        summaries = wait_for_tasks(client, tasks, deadline, labels=[label for _start, label in chunk])
        failed = [s for s in summaries if s["state"] == "error"]
        if failed:
            raise VSphereError("vSphere task(s) failed: " + "; ".join(
                "%s: %s" % (s["label"], s["error"]) for s in failed), failed=[s["label"] for s in failed],
                completed=[s["label"] for s in summaries if s["state"] == "success"] + results)
        results.extend(s["label"] for s in summaries)
    return results


def apply(client, plan, deadline, concurrency=None):
    """Detach first (VMs, or the master target when detaching), then attach; returns the task labels. Each phase's
    reconfigures start together (``concurrency``: at most that many at a time; None: all, see :func:`_run`)."""
    done = []
    detach = [(lambda row=row, changes=changes, options=options: _reconfigure(row, changes, options),
               "detach disks from %s" % row["name"]) for row, changes, options in plan.vm_changes.values()]
    done += _run(client, detach, deadline, concurrency)
    for datacenter, path in plan.directories:
        try:
            client.content.fileManager.MakeDirectory(name=path, datacenter=datacenter["obj"] if datacenter else None,
                                                     createParentDirectories=True)
        except vim.fault.FileAlreadyExists:
            pass
        except vmodl.MethodFault as error:
            raise VSphereError("Could not make directory %s for the new VMDKs: %s. Nothing was attached; re-run when "
                               "it is fixed." % (path, fault_message(error)), failed=["make directory %s" % path],
                               completed=done) from None
    attach = []
    for moid, (mt_row, wanted, creates) in plan.mt_changes.items():
        changes = plan.attach_changes.get(moid) or _attach_changes(mt_row, wanted, creates)
        attach.append((lambda row=mt_row, changes=changes: _reconfigure(row, changes, existing=plan.existing),
                       "attach %d disk(s) to %s" % (len(wanted), mt_row["name"])))
    for moid, (vm_row, back) in plan.vm_attach.items():
        changes = plan.attach_changes.get(moid)
        if changes is None:  # a plan built without its slots: refuse rather than guess
            raise VSphereError("Internal error: no SCSI slots were planned for VM %s; nothing was attached to it."
                               % vm_row["name"])
        attach.append((lambda row=vm_row, changes=changes: _reconfigure(row, changes, existing=plan.existing),
                       "attach %d disk(s) to %s" % (len(back), vm_row["name"])))
    done += _run(client, attach, deadline, concurrency)
    return done


def _attach_changes(mt_row, wanted, creates):
    """Device changes attaching ``wanted`` to free LSI Logic slots of the master target (new LSI Logic
    controllers on free buses when needed); raise VSphereError when a disk has no slot."""
    allocator = diskops.SlotAllocator(mt_row.get("config.hardware.device"))
    changes = []
    for index, (wanted_disk, create) in enumerate(zip(wanted, creates, strict=True)):
        disk = wanted_disk
        slot = allocator.take()
        if slot is None:
            raise VSphereError("Master target %s has no free SCSI slot (%d controllers x %d disks, LSI Logic only). "
                               "Use another master target for some VMs." % (
                                   mt_row["name"], limits.SCSI_MAX_CONTROLLERS, limits.SCSI_UNITS_PER_CONTROLLER))
        if not create and "attach_gb" in wanted_disk:  # an existing VMDK: its own capacity (0 when unknown)
            disk = dict(wanted_disk, size_gb=wanted_disk["attach_gb"])
        changes.append(diskops.attach_spec(disk, slot, -100 - index, create=create))
    return [diskops.controller_spec(c) for c in allocator.new_controllers] + changes


def ensure(client, entries, defaults, state, reattach, check_mode, deadline):
    """The module's whole job: returns ``{changed, vms, diff, tasks}``."""
    requests = [Request(entry, defaults) for entry in entries]
    before = Inventory(client)
    if state == "attached":
        plan = plan_attach(before, requests, orphan_search(client, before, requests, deadline))
    else:
        plan = plan_detach(before, requests, reattach,
                           orphan_search(client, before, requests, deadline) if reattach else None)
    result = {"changed": plan.changed(), "vms": plan.results, "tasks": [],
              "diff": {"before": _disk_map(before, requests), "after": None}}
    if not plan.changed():
        result["diff"]["after"] = result["diff"]["before"]
    elif check_mode:
        result["diff"]["after"] = _predicted(result["diff"]["before"], plan.results)
    else:
        result["tasks"] = apply(client, plan, deadline)
        result["diff"]["after"] = _disk_map(Inventory(client), requests)
    return result


def _disk_map(inventory, requests):
    names = sorted({r.name for r in requests} | {r.master_target for r in requests})
    uuids = {r.name: r.instance_uuid for r in requests}
    result = {}
    for name in names:
        row = inventory.vm_by_name(name, uuids.get(name))
        result[name] = sorted(d["file"] for d in facts.disks(row.get("config.hardware.device"))) if row else None
    return result


def _predicted(before, results):
    after = {name: list(files) if files is not None else None for name, files in before.items()}
    for result in results:
        for disk in result["disks"]:
            for holder in (result["name"], result["master_target"]):
                if after.get(holder) is not None and disk["file"] in after[holder]:
                    after[holder].remove(disk["file"])
            holder = result["master_target"] if disk["after"] == "mt" else result["name"] if disk["after"] == "vm" else None
            if holder and after.get(holder) is not None:
                after[holder].append(disk["file"])
    return {name: sorted(files) if files is not None else None for name, files in after.items()}
