# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The commit gate: the rules that must hold for a VM before ASR deletes its Azure VM.

Pure: plain data in, decisions out (no Ansible, no SDK, no network). The commit module is the only
caller that can start a commit, and it asks :func:`decide` for every VM first.

The rules, each named by its ``rule`` string in refusals:

* ``onprem_vm_found`` - the on-premises VM exists in vCenter, once (a name two VMs share is resolved by the
  instance UUID ASR records, ``infrastructureVmId``).
* ``protected_disks_known`` - ASR's GET of the item lists its protected disks (InMage and InMageRcmFailback items
  always do, tests/recorded/asr fact 2; a list leaves them empty, so the gate never decides on a list).
* ``protected_disks_attached`` - every protected disk is attached to the on-premises VM: matched by disk UUID where
  ASR gives one (InMageRcmFailback ``protectedDisks[].diskUuid`` is the VMDK's ``backing.uuid``), else by capacity
  (InMage ``diskCapacityInBytes``: ASR gives no UUID nor file for classic disks); and every VMDK known to be the VM's
  (its failback manifest, extraConfig ``siterecovery.failback.disks``, and the VMDKs named after it in its
  directory) is attached to it, not to another VM (the master target) nor to nothing. **force never overrides it.**
* ``protected_disks_recorded`` - for a classic item (a protected disk without a UUID), something other than the
  disks' names says which VMDKs hold the VM's data: its failback manifest (written before the failover, when this
  collection moved its disks to the master target, or right after the failover it ran: the disks ASR attached), else
  the operator's list
  (``protected_disk_files``). Without either, a blank disk named like the VM's could stand in for one of its
  disks. force never overrides it.
* ``onprem_vm_powered_on`` - vCenter says ``poweredOn``. force never overrides it.
* ``vmware_tools_running`` - ``guest.toolsRunningStatus`` is ``guestToolsRunning`` (the VM's verification
  ``tools``, the default; ``power_only`` and ``probe`` skip it for guests without Tools, ``domain.verification``).
  force overrides it.
* ``onprem_vm_network`` - the powered-on VM has a network adapter, and vCenter says each of its adapters is
  connected (``connectable.connected``): a VM without one serves nobody, whatever its guest says (an
  alternate-location VM gets the adapters its creator gave it). force overrides it.
* ``health_probes_answer`` - every TCP / HTTP probe of the VM (or of all VMs) answered; a VM verified by ``probe``
  needs at least one probe. force never overrides it.
"""

from __future__ import annotations

import re

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import verification as verifications

RULE_VM = "onprem_vm_found"
RULE_DISKS_KNOWN = "protected_disks_known"
RULE_DISKS = "protected_disks_attached"
RULE_RECORDED = "protected_disks_recorded"
RULE_POWER = "onprem_vm_powered_on"
RULE_TOOLS = "vmware_tools_running"
RULE_PROBES = "health_probes_answer"
RULE_NETWORK = "onprem_vm_network"
FORCEABLE = (RULE_TOOLS, RULE_NETWORK)

VERIFICATIONS = verifications.MODES
POWERED_ON = "poweredOn"
TOOLS_RUNNING = "guestToolsRunning"
GB = 1024 ** 3
# probe keys the commit gate adds to the run's health checks (domain.options checks the others)
EXTRA_KEYS = {"tcp": ("vm",), "http": ("vm", "ca_file")}
WHY_MANIFEST = "recorded in its failback manifest"
WHY_NAMED = "named after the VM in its directory"
WHY_GIVEN = "named in protected_disk_files"

DISK_FIX = ("The commit deletes the Azure VM, so it waits until every protected disk is back: re-run the failover "
            "(siterecovery.failback.failover) and the on-premises verification (siterecovery.failback.onprem_vm, "
            "which attaches the VM's own VMDKs left attached to nothing) - a re-run of the failback does both - then "
            "re-run the commit. force: true does not override this rule.")


# ------------------------------------------------------------------------------------------------ options
def _extra_keys(checks):
    """The probe keys only the commit gate knows (``vm``, ``ca_file``), checked here; ``domain.options`` checks the
    rest. Returns ``(checks without them, problems)``."""
    if not isinstance(checks, dict):
        return checks, []
    stripped, problems = {}, []
    for kind, entries in checks.items():
        if kind not in EXTRA_KEYS or not isinstance(entries, list):
            stripped[kind] = entries
            continue
        stripped[kind] = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                stripped[kind].append(entry)
                continue
            where = "health_checks.%s[%d]" % (kind, index)
            for key in EXTRA_KEYS[kind]:
                if key in entry and entry[key] is not None and not (isinstance(entry[key], str) and entry[key].strip()):
                    problems.append(options.Problem(
                        "%s.%s" % (where, key), "must be a non-empty %s" % ("VM name" if key == "vm" else "file path"),
                        "give the name of the VM the probe gates, or leave vm out to gate every VM" if key == "vm"
                        else "give the PEM file of the CA that signed the server's certificate", entry[key]))
            stripped[kind].append({k: v for k, v in entry.items() if k not in EXTRA_KEYS[kind]})
    return stripped, problems


def _probe(kind, entry, default_timeout):
    timeout = options.number(entry.get("timeout"), "int") if entry.get("timeout") is not None else default_timeout
    if kind == "tcp":
        port = options.number(entry.get("port"), "int")
        return {"kind": "tcp", "host": entry["host"].strip(), "port": port, "timeout": timeout, "vm": entry.get("vm"),
                "label": "tcp %s:%s" % (entry["host"].strip(), port)}
    status = entry.get("status", 200)
    statuses = [options.number(one, "int") for one in (status if isinstance(status, list) else [status])]
    validate = entry.get("validate_certs", True)
    if not isinstance(validate, bool):
        validate = str(validate).lower() not in ("no", "false", "off", "0", "n")
    return {"kind": "http", "url": entry["url"].strip(), "status": statuses, "validate_certs": validate,
            "ca_file": entry.get("ca_file"), "timeout": timeout, "vm": entry.get("vm"),
            "label": "http %s" % entry["url"].strip()}


def validate_options(health_checks=None, probe_timeout=60, timeout=1800, poll_interval=15, verification="tools",
                     vms=None, protected_disk_files=None):
    """Check the commit's options before anything is read or changed, by the run's own rules (``domain.options``:
    numbers, URLs, ports, status codes, known keys) plus the commit gate's (``verification``, a probe's ``vm`` and
    ``ca_file``).

    ``protected_disk_files``: ``{vm: [VMDK file]}`` (``domain.options.check_disk_files``; a key must be one of
    ``vms`` when given). ``verification`` is a mode or ``{default, per_vm: {vm: mode}}`` (``domain.verification``);
    a VM verified by ``probe`` must have a probe naming it. ``vms``: the VMs selected by name (a ``per_vm`` key
    must be one), or None.

    ``health_checks`` is ``{"tcp": [{host, port, timeout?, vm?}], "http": [{url, status?, validate_certs?,
    ca_file?, timeout?, vm?}]}``; ``probe_timeout`` (s) is a probe's default timeout, ``timeout`` (s) the wait for
    the commit jobs, ``poll_interval`` (s) the time between job reads.

    Returns ``(probes, problems)``: the probes as plain dicts (``kind`` tcp|http, ``label``, ``timeout``, ``vm``
    or None for every VM, and host/port or url/status/validate_certs/ca_file; empty when a problem was found) and
    the problems (``domain.options.Problem``: option, rule, fix, value, message)."""
    problems = options.check_module({"timeout": timeout, "poll_interval": poll_interval, "probe_timeout": probe_timeout},
                                    ("timeout", "poll_interval", "probe_timeout"))
    problems += verifications.check("verification", verification, vms, verifications.probe_vm_names(health_checks))
    stripped, extra = _extra_keys(health_checks)
    problems += options.check_health_checks("health_checks", stripped) + extra
    problems += options.check_disk_files("protected_disk_files", protected_disk_files, vms)
    if problems:
        return [], problems
    default_timeout = options.number(probe_timeout, "int") or 0
    probes = []
    for kind in ("tcp", "http"):
        for entry in (health_checks or {}).get(kind) or []:
            probes.append(_probe(kind, entry, default_timeout))
    return probes, []


def probes_of(name, probes):
    """The probes that gate VM ``name``: those naming it and those naming no VM."""
    return [p for p in probes if p.get("vm") in (None, name)]


def unknown_probe_vms(probes, names):
    """Problems for probes naming a VM that is not among ``names`` (the VMs selected)."""
    return [options.Problem("health_checks (%s).vm" % p["label"], "names VM %s, which is not selected for this commit"
                            % p["vm"], "fix the vm key or select the VM", p["vm"])
            for p in probes if p.get("vm") is not None and p["vm"] not in names]


# ------------------------------------------------------------------------------------------------ disks
def _uuid_key(value):
    """A disk UUID as 32 lower-case hex digits ("6000C29b-29e4-..." and "6000c29b29e4..." are the same disk)."""
    digits = re.sub(r"[^0-9a-fA-F]", "", value or "").lower()
    return digits if len(digits) == 32 else None


def _gb(capacity):
    return round(capacity / float(GB), 1) if capacity else None


def describe(disk):
    """'Disk0 ({5D62...}, 40.0 GB)': a protected disk in ASR's terms."""
    facts = [disk.get("id")] if disk.get("id") else []
    facts += ["uuid %s" % disk["uuid"]] if disk.get("uuid") else []
    facts += ["%s GB" % _gb(disk["capacity_bytes"])] if disk.get("capacity_bytes") else []
    return "%s (%s)" % (disk.get("name") or disk.get("id") or "disk", ", ".join(facts)) if facts else str(
        disk.get("name") or "disk")


def match_disks(protected, attached):
    """Pair each protected disk with a distinct disk attached to the VM.

    ``protected``: ``[{id, name, capacity_bytes, uuid}]`` (uuid None when ASR gives none); ``attached``: the VM's
    disks ``[{file, uuid, capacity_bytes}]``. A protected disk with a UUID matches only the attached disk with that
    UUID; the others match an attached disk of the same capacity, then (a disk grown on-premises) the smallest
    larger one left - only a disk that is the VM's own VMDK (``own_by`` set, vsphere.verify; a disk without the
    key counts as the VM's): ASR names no file nor UUID for those, and a blank disk of the same size is not the
    VM's data. Returns ``(pairs, missing)``: ``[(protected, attached)]`` and ``[protected]``."""
    free = list(attached)
    sized = [a for a in attached if a.get("own_by", "given")]
    pairs, missing, by_size = [], [], []
    for disk in protected:
        key = _uuid_key(disk.get("uuid"))
        if key is None:
            by_size.append(disk)
            continue
        hit = next((a for a in free if _uuid_key(a.get("uuid")) == key), None)
        if hit is None:
            missing.append(disk)
        else:
            free.remove(hit)
            pairs.append((disk, hit))
    rest = []
    for disk in by_size:
        hit = next((a for a in free if a in sized and disk.get("capacity_bytes")
                    and a.get("capacity_bytes") == disk["capacity_bytes"]), None)
        if hit is None:
            rest.append(disk)
        else:
            free.remove(hit)
            pairs.append((disk, hit))
    for disk in sorted(rest, key=lambda d: -(d.get("capacity_bytes") or 0)):
        fits = sorted((a for a in free if a in sized and (a.get("capacity_bytes") or 0) >= (disk.get("capacity_bytes")
                                                                                            or 0)),
                      key=lambda a: a.get("capacity_bytes") or 0)
        if fits:
            free.remove(fits[0])
            pairs.append((disk, fits[0]))
        else:
            missing.append(disk)
    order = {id(d): i for i, d in enumerate(protected)}
    pairs.sort(key=lambda p: order[id(p[0])])
    missing.sort(key=lambda d: order[id(d)])
    return pairs, missing


def _holder_text(name, entry):
    holder = entry.get("holder")
    return "attached to %s, not to %s" % (holder, name) if holder else "attached to no VM"


def _strangers_text(strangers, recorded):
    """Why the disks ``strangers`` attached to the VM are not taken for a protected disk, and what to do."""
    one = len(strangers) == 1
    files, verb, pronoun, subject = ", ".join(strangers), "is" if one else "are", "it" if one else "them", (
        "it is" if one else "they are")
    if recorded:
        return ("; attached %s %s not recorded as the VM's (its failback manifest and protected_disk_files do not "
                "list %s, or list another disk UUID), so %s not taken for one. A VMDK found attached to no VM that no "
                "run pinned is not recorded: when it is the VM's replica (check it), name it, with the VM's other "
                "VMDKs, in protected_disk_files" % (files, verb, pronoun, subject))
    return "; attached %s %s not the VM's own VMDK (not named after it), so %s not taken for one" % (files, verb, subject)


def disk_problems(name, protected, onprem):
    """What the ``protected_disks_attached`` rule finds wrong for VM ``name`` (empty when it holds), and the per
    disk report ``[{id, name, capacity_gb, uuid, file, matched_by}]`` (file None for a missing disk).

    ``onprem`` (vsphere.verify.OnPremVms.facts): ``disks`` (attached to the VM), ``known`` (VMDKs that are the VM's by
    its manifest or name: ``[{file, uuid, holder, why}]``) and ``elsewhere`` (every disk attached to another VM:
    ``[{file, uuid, holder}]``)."""
    attached = onprem.get("disks") or []
    pairs, missing = match_disks(protected, attached)
    report = []
    for disk, hit in pairs:
        report.append({"id": disk.get("id"), "name": disk.get("name"), "capacity_gb": _gb(disk.get("capacity_bytes")),
                       "uuid": disk.get("uuid"), "file": hit.get("file"),
                       "matched_by": "uuid" if _uuid_key(disk.get("uuid")) else "capacity"})
    problems = []
    # the disks of every other VM by UUID: built only when a protected disk with a UUID is missing (the list is every
    # disk of every other VM - building it for each VM would make a commit gate of N VMs cost N squared)
    elsewhere = {}
    if any(_uuid_key(disk.get("uuid")) for disk in missing):
        for entry in onprem.get("elsewhere") or []:
            if _uuid_key(entry.get("uuid")):
                elsewhere.setdefault(_uuid_key(entry["uuid"]), entry)
    for disk in missing:
        report.append({"id": disk.get("id"), "name": disk.get("name"), "capacity_gb": _gb(disk.get("capacity_bytes")),
                       "uuid": disk.get("uuid"), "file": None, "matched_by": None})
        where = elsewhere.get(_uuid_key(disk.get("uuid"))) if _uuid_key(disk.get("uuid")) else None
        if _uuid_key(disk.get("uuid")):
            fact = ("its VMDK %s is %s" % (where["file"], _holder_text(name, where)) if where else
                    "no disk of VM %s has that UUID" % name)
        else:
            strangers = [a["file"] for a in attached if not a.get("own_by", "given") and a.get("file")
                         and not a.get("recorded_uuid")]
            fact = "no disk of VM %s of that capacity is left to match it (ASR gives no UUID for this disk)%s" % (
                name, _strangers_text(strangers, onprem.get("recorded")) if strangers else "")
        problems.append("protected disk %s is not attached: %s" % (describe(disk), fact))
    for disk in attached:
        if disk.get("recorded_uuid"):
            problems.append("attached VMDK %s has disk UUID %s, but the VM's record (its failback manifest) gives %s: "
                            "the file at that path is not the disk recorded (it was replaced). Find the VMDK whose disk "
                            "UUID is %s - Site Recovery's replica - and attach it in its place; never commit on the "
                            "file there now" % (disk.get("file"), disk.get("uuid"), disk["recorded_uuid"],
                                                disk["recorded_uuid"]))
    attached_files = {a.get("file") for a in attached}
    for entry in onprem.get("known") or []:
        if entry.get("file") in attached_files:
            continue
        stale = (" (if it was removed from the VM on purpose, drop it from the VM's extraConfig %s)"
                 % entry["manifest_key"] if entry.get("manifest_key") else "")
        problems.append("VMDK %s (%s) is %s%s" % (entry["file"], entry.get("why") or "the VM's",
                                                  _holder_text(name, entry), stale))
    order = {disk.get("id") or index: index for index, disk in enumerate(protected)}
    report.sort(key=lambda entry: order.get(entry["id"], len(order)))
    return problems, report


def network_problem(name, onprem):
    """The ``onprem_vm_network`` refusal of powered-on VM ``name`` (None when it holds, or when ``onprem`` carries
    no ``nics``: not read)."""
    nics = onprem.get("nics")
    if nics is None:
        return None
    if not nics:
        return ("VM %s has no network adapter on-premises, so nothing can reach what it serves (its guest may run, "
                "but no one can use it). Add a network adapter on its port group in vCenter, connected, and re-run; "
                "or force: true to commit anyway." % name)
    down = [n for n in nics if not n.get("connected")]
    if not down:
        return None
    return ("VM %s: network adapter(s) %s not connected although the VM runs, so nothing can reach it through them. "
            "Connect them in vCenter (check the port group has free ports) and re-run; or force: true to commit "
            "anyway." % (name, ", ".join("%s (%s)" % (n["label"], n.get("network") or "no network") for n in down)))


def unrecorded_message(name, onprem):
    """The ``protected_disks_recorded`` refusal of VM ``name``: why, and the disks now attached to it (to check)."""
    attached = [d["file"] for d in onprem.get("disks") or [] if d.get("file") and d.get("backing", "flat") == "flat"]
    return ("VM %s: ASR names no file nor UUID for a classic (InMage) protected disk, and nothing records which "
            "VMDKs hold this VM's disks: the VM carries no failback manifest (extraConfig siterecovery.failback.disks, "
            "which this collection writes when its reprotect moves the VM's disks to the master target, or right "
            "after a failover it ran: siterecovery.failback.onprem_vm given the failover's verify_onprem - here "
            "neither happened) and protected_disk_files names none for it. A blank "
            "disk named like one of its VMDKs could stand in for it, and the commit deletes the Azure VM. Check in "
            "vCenter that each disk of the VM holds its data (attached now: %s), name those VMDKs in "
            "protected_disk_files (e.g. protected_disk_files: {%s: ['[datastore] %s/%s.vmdk', ...]}; "
            "failback_protected_disk_files in a failback run) and re-run; force: true does not override this rule."
            % (name, ", ".join(attached) or "none", name, name, name))


# ------------------------------------------------------------------------------------------------ decision
def _refusal(rule, message):
    return {"rule": rule, "message": message}


def _guest_rules(name, onprem, mode, force, refusals):
    """The rules on the running VM - powered on, VMware Tools (its verification ``mode``), a connected network
    adapter - appending their refusals to ``refusals``; returns True when ``force`` overrode one."""
    forced = False
    if onprem.get("power_state") != POWERED_ON:
        refusals.append(_refusal(RULE_POWER, "VM %s is %s on-premises; the commit deletes its Azure VM, so it runs "
                                 "only when the on-premises VM is powered on. Start it (siterecovery.failback."
                                 "onprem_vm) and re-run; force: true does not override this rule." % (
                                     name, onprem.get("power_state"))))
    elif mode == verifications.TOOLS and onprem.get("tools_running_status") != TOOLS_RUNNING:
        if force:
            forced = True
        else:
            refusals.append(_refusal(RULE_TOOLS, "VM %s: VMware Tools are %s, so vCenter cannot say that its guest "
                                     "came up. Wait for the guest (or check its console) and re-run; for a guest "
                                     "without Tools give it verification power_only or probe (with a health probe "
                                     "naming it), or force: true to commit anyway." % (
                                         name, onprem.get("tools_running_status") or "not reported")))
    network = network_problem(name, onprem) if onprem.get("power_state") == POWERED_ON else None
    if network and force:
        forced = True
    elif network:
        refusals.append(_refusal(RULE_NETWORK, network))
    return forced


def decide(name, protected, onprem, verification="tools", force=False, probes=None):
    """Whether VM ``name`` may be committed, with every refusal.

    ``protected``: ASR's protected disks of the item (``[{id, name, capacity_bytes, uuid}]``, asr.commit);
    ``onprem``: vsphere.verify.OnPremVms.facts (``found``, ``problem``, ``power_state``, ``tools_running_status``,
    ``disks``, ``known``, ``elsewhere``, ``recorded``, ``nics``) or None when vCenter was not read; ``verification``: the run's
    verification (a mode or ``{default, per_vm}``, ``domain.verification``), of which this VM's mode applies;
    ``probes``: the answers of the VM's health probes ``[{label, ok, fact}]`` (None: not run yet). ``force``
    overrides ``vmware_tools_running`` and ``onprem_vm_network`` only.

    Returns ``{name, commit, forced, refusals: [{rule, message}], disks, power_state, tools_running_status,
    verification, probes}``; ``commit`` is True only when no rule refuses (probes must have run and answered)."""
    refusals = []
    mode = verifications.mode_of(verification, name)
    result = {"name": name, "commit": False, "forced": False, "refusals": refusals, "disks": [],
              "power_state": None, "tools_running_status": None, "verification": mode, "probes": probes}
    if not onprem or not onprem.get("found"):
        fact = (onprem or {}).get("problem") or "it was not found in vCenter"
        refusals.append(_refusal(RULE_VM, "VM %s: %s; the commit deletes its Azure VM, so it runs only when the "
                                 "on-premises VM is there. Re-run the failover (or check the vCenter you connect to), "
                                 "then the commit." % (name, fact)))
        return result
    result["power_state"] = onprem.get("power_state")
    result["tools_running_status"] = onprem.get("tools_running_status")
    if not protected:
        refusals.append(_refusal(RULE_DISKS_KNOWN, "VM %s: ASR's item lists no protected disk, so the gate cannot "
                                 "verify that every disk is back on-premises. Read the item again later (a list "
                                 "leaves the disks out; its GET has them) and re-run." % name))
    else:
        problems, report = disk_problems(name, protected, onprem)
        result["disks"] = report
        if problems:
            refusals.append(_refusal(RULE_DISKS, "VM %s: %d of ASR's %d protected disk(s) attached; %s. %s" % (
                name, len([r for r in report if r["file"]]), len(protected), "; ".join(problems), DISK_FIX)))
    if protected and any(_uuid_key(d.get("uuid")) is None for d in protected) and not onprem.get("recorded"):
        refusals.append(_refusal(RULE_RECORDED, unrecorded_message(name, onprem)))
    forced = _guest_rules(name, onprem, mode, force, refusals)
    if probes is not None and mode == verifications.PROBE and not probes:
        refusals.append(_refusal(RULE_PROBES, "VM %s is verified by probe, but no health probe gates it: nothing "
                                 "proves that its guest came up. Add a health probe with vm: %s and re-run; force: "
                                 "true does not override this rule." % (name, name)))
    if probes is not None:
        failed = [p for p in probes if not p.get("ok")]
        if failed:
            refusals.append(_refusal(RULE_PROBES, "VM %s: health probe(s) did not answer: %s. Check the application "
                                     "(or the probe), then re-run; force: true does not override this rule." % (
                                         name, "; ".join("%s: %s" % (p["label"], p.get("fact")) for p in failed))))
    result["commit"] = not refusals and probes is not None
    result["forced"] = forced and not refusals
    return result


def ready_for_probes(decision):
    """True when only the probes are left to check (no other rule refuses)."""
    return not decision["refusals"]
