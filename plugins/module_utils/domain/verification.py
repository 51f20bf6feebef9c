# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How each failed-back VM is verified running on-premises: one choice per VM, read by ``onprem_vm``, the commit
gate (``domain.commit_gate``) and the roles (the run option ``verification``, ``domain.options``).

Pure Python: plain values in, plain values and ``domain.options.Problem`` out.

The modes:

* ``tools`` (the default) - powered on and VMware Tools running (``guest.toolsRunningStatus`` ``guestToolsRunning``).
  A VM whose ``guest.toolsStatus`` is ``toolsNotInstalled`` can never pass it, and vCenter says so at once.
* ``power_only`` - powered on; nothing is asked of the guest (a guest without VMware Tools). ``power`` is the name
  the commit module used before: it is read as ``power_only``.
* ``probe`` - powered on, and the health probes (``health_checks``) are the proof that the guest came up: the VM must
  have at least one probe naming it (``vm: <name>``), else the run refuses at its start.

The option's shape, either::

    verification: power_only                      # every VM
    verification: {default: tools, per_vm: {db01: power_only, app01: probe}}
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options

TOOLS = "tools"
POWER_ONLY = "power_only"
PROBE = "probe"
MODES = (TOOLS, POWER_ONLY, PROBE)
# the commit module's former name of power_only (verification: tools|power)
ALIASES = {"power": POWER_ONLY}
DEFAULT = TOOLS
KEYS = ("default", "per_vm")
TOOLS_NOT_INSTALLED = "toolsNotInstalled"
FIX_MODE = "give %s" % ", ".join(MODES)


def _mode(value):
    """``value`` as a mode (an alias read as its mode); None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    text = ALIASES.get(text, text)
    return text if text in MODES else None


def check(option, value, vms=None, probe_vms=None):
    """Problems of a ``verification`` value (``option`` is the name shown in messages).

    ``vms``: the VMs of the run (a ``per_vm`` key must be one), or None when the run names none (a recovery plan);
    ``probe_vms``: the VM names that the health probes name (``health_checks.<kind>[].vm``), or None to skip the
    rule that a ``probe`` VM needs a probe of its own. Returns ``[options.Problem]``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return _mode_problems(option, value, vms, probe_vms)
    if not isinstance(value, dict):
        return [options.Problem(option, "must be a mode or a dictionary", "give e.g. power_only, or {default: tools, "
                                "per_vm: {db01: power_only, app01: probe}}", value)]
    problems = _shape_problems(option, value, vms)
    if problems or probe_vms is None:
        return problems
    per_vm = value.get("per_vm") or {}
    if _mode(value.get("default")) == PROBE:
        problems += _probe_problems(option + ".default", value["default"],
                                    [vm for vm in (vms or []) if vm not in per_vm], probe_vms, every=True)
    for vm, mode in per_vm.items():
        if _mode(mode) == PROBE:
            problems += _probe_problems("%s.per_vm.%s" % (option, vm), mode, [vm], probe_vms)
    return problems


def _mode_problems(option, value, vms, probe_vms):
    """Problems of a ``verification`` given as one mode for every VM."""
    if _mode(value) is None:
        return [options.Problem(option, "must be one of %s, or {default: <mode>, per_vm: {<vm>: <mode>}}"
                                % ", ".join(MODES), FIX_MODE, value)]
    if _mode(value) == PROBE and probe_vms is not None:
        return _probe_problems(option, value, vms or [], probe_vms, every=True)
    return []


def _shape_problems(option, value, vms):
    """Problems of a dictionary ``verification``: its keys, its modes and (``vms`` given) its VMs."""
    problems = [options.Problem("%s.%s" % (option, key), "is not a verification key",
                                "use default and per_vm (check the spelling)", value[key]) for key in value if key not in KEYS]
    if "default" in value and _mode(value["default"]) is None:
        problems.append(options.Problem(option + ".default", "must be one of %s" % ", ".join(MODES), FIX_MODE,
                                        value["default"]))
    per_vm = value.get("per_vm") or {}
    if not isinstance(per_vm, dict):
        return [*problems, options.Problem(option + ".per_vm", "must be a dictionary keyed by VM name",
                                           "give e.g. {db01: power_only}", per_vm)]
    for vm, mode in per_vm.items():
        where = "%s.per_vm.%s" % (option, vm)
        if _mode(mode) is None:
            problems.append(options.Problem(where, "must be one of %s" % ", ".join(MODES), FIX_MODE, mode))
        if vms is not None and vm not in vms:
            problems.append(options.Problem(where, "names a VM that is not in this run (its VMs: %s)" % (
                ", ".join(vms) or "none"), "use the VM's name as in vms, or drop the entry", vm))
    return problems


def _probe_problems(option, value, vms, probe_vms, every=False):
    """``probe`` needs, for each VM of ``vms``, a health probe naming it; with ``every`` and no VM named (a recovery
    plan), at least one probe naming a VM must exist."""
    missing = [vm for vm in vms if vm not in probe_vms]
    if every and not vms and not probe_vms:
        return [options.Problem(option, "is probe, but no health probe names a VM", "add a health probe with vm: "
                                "<name> for each VM (health_checks.tcp or http), or choose tools or power_only", value)]
    return [options.Problem(option, "is probe for VM %s, but no health probe names it: the probes are then the only "
                            "proof that its guest came up" % vm, "add a health probe with vm: %s (health_checks.tcp "
                            "or http), or choose tools or power_only for it" % vm, value) for vm in missing]


def mode_of(value, vm):
    """The mode of VM ``vm`` under a checked ``verification`` value (None or '' is the default, ``tools``)."""
    if isinstance(value, dict):
        per_vm = value.get("per_vm") or {}
        if vm in per_vm:
            return _mode(per_vm[vm]) or DEFAULT
        return _mode(value.get("default")) or DEFAULT
    return _mode(value) or DEFAULT


def probe_vm_names(health_checks):
    """The VM names the health probes name (``{tcp|http: [{..., vm}]}``): those a ``probe`` VM needs."""
    names = set()
    for entries in (health_checks or {}).values() if isinstance(health_checks, dict) else []:
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("vm"), str) and entry["vm"].strip():
                names.add(entry["vm"].strip())
    return names


def waits_for_tools(mode):
    """Whether a VM of ``mode`` is verified by VMware Tools (``onprem_vm`` waits for them)."""
    return mode == TOOLS


def tools_never_run(tools_status):
    """Whether vCenter says, at once, that VMware Tools cannot run in the guest (``guest.toolsStatus``)."""
    return str(tools_status or "") == TOOLS_NOT_INSTALLED
