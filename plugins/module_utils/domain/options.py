# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of a whole failback run, checked at its start - before the preflight, the lock or any step.

Pure Python: plain values in (as a user wrote them in YAML or JSON: numbers may arrive as strings), a list of
problems out. Each problem names the option, the rule and the fix, so a run refuses once listing all of them
instead of failing on the first one after a step already changed something.

``OPTIONS`` is the one list of a run's options, their types and defaults: the run_options module fills the
defaults from it, its action plugin reads the variables it names, and a unit test holds the roles'
``meta/argument_specs.yml`` to it.

Where the rules come from:

* ``placements``: the per-VM names the reprotect module reads (``asr/reprotect.py`` ``_place``: master target,
  process server, datastore, retention volume, run-as account, and the modernized flow's appliance and log
  storage account); any other key was silently ignored before.
* ``health_checks``: what the commit gate probes with (``roles/commit``: ``ansible.builtin.wait_for`` for C(tcp)
  host and port, ``ansible.builtin.uri`` for C(http) url, status and validate_certs; both take a timeout).
* Intervals and timeouts: a wait polls every ``poll_interval`` seconds (0 polled ASR hundreds of times in one
  short run) and a timeout is a number of seconds a wait may last (a negative one was refused only by the step
  that used it, after the steps before had run).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import time
from collections import namedtuple
from urllib.parse import urlsplit

LOCATIONS = ("original", "alternate")
MEMORY_REMEDIATIONS = ("vmotion", "fail")
RECOVERY_POINT_KEYWORDS = ("latest_processed", "latest_app_consistent")
# The per-VM names of ``placements``; the reprotect reads exactly these (asr/reprotect.py _place).
PLACEMENT_KEYS = ("master_target", "process_server", "datastore", "retention_volume", "run_as_account", "appliance",
                  "log_storage_account_id")
HEALTH_CHECK_KINDS = ("tcp", "http")
STATE_STORES = ("tags", "blob")
# When wave N+1 of a run's waves starts (domain.waves): every plan of wave N committed (ASR deleted its Azure VMs), or
# its VMs failed back and verified running on-premises (the commits and reprotects of every wave then run at the end).
WAVE_GATES = ("committed", "verified")
# learn.microsoft.com: "Storage account name" (3-24 lower-case letters and digits) and "Container names" (3-63 lower-case
# letters, digits and single hyphens, starting and ending with a letter or digit)
STORAGE_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
# ``vm``: the VM the probe gates (default every VM); ``ca_file``: the CA of the server's certificate (the commit
# module's probes, domain.commit_gate).
TCP_KEYS = ("host", "port", "timeout", "vm")
HTTP_KEYS = ("url", "status", "validate_certs", "ca_file", "timeout", "vm")
HTTP_SCHEMES = ("http", "https")
# A wait reads ASR at most this often: below it a run floods the service (and is throttled) for no gain.
MIN_POLL_INTERVAL = 0.5
# The longest wait any option may ask for (seconds): 7 days; more is a typo, not a plan.
MAX_TIMEOUT = 7 * 24 * 3600
MAX_PORT = 65535
# How close (difflib's ratio) a variable's name must be to an option's to be taken for its misspelling.
SPELLING_CUTOFF = 0.8
_HOST = re.compile(r"^[A-Za-z0-9_.:\[\]-]+$")
_BOOL_STRINGS = ("yes", "no", "true", "false", "on", "off", "1", "0", "y", "n")

# The numeric options of a run: name -> (kind, minimum, exclusive minimum?, maximum, what it is).
NUMBERS = {
    "poll_interval": ("float", MIN_POLL_INTERVAL, False, 3600, "seconds between reads of the ASR jobs"),
    "recovery_point_delay": ("float", MIN_POLL_INTERVAL, False, 3600,
                             "seconds between checks for the first recovery points"),
    "recovery_point_timeout": ("int", 0, False, MAX_TIMEOUT, "seconds to wait for the first recovery points"),
    "tools_timeout": ("int", 0, False, MAX_TIMEOUT, "seconds to wait for VMware Tools in each failed-back VM"),
    "timeout": ("int", 0, False, MAX_TIMEOUT, "seconds to wait for the ASR jobs"),
    "agent_registration_timeout": ("int", 0, False, MAX_TIMEOUT,
                                   "seconds during which an 'agent not registered' failure is retried"),
    "probe_timeout": ("int", 0, False, MAX_TIMEOUT, "seconds each health probe may take"),
    "lease_seconds": ("int", 30, False, 86400, "seconds the run's lease lasts after its last renewal"),
    # no documented limit on concurrent recovery-plan failovers; more than 1,000 at once is a typo, not a plan
    "plan_concurrency": ("int", 1, False, 1000, "recovery plans failing over at once"),
    "request_budget": ("int", 0, False, 10 ** 7, "Resource Manager requests the run may make (0: no check)"),
}


# One option of a failback run in the terms of a role's meta/argument_specs.yml: ``kind`` is its ``type`` (str, raw,
# path, list, dict, bool, int or float), ``default`` its default, ``elements`` and ``choices`` as there.
Option = namedtuple("Option", "kind default elements choices", defaults=(None, None))


# Every option of a failback run, ONCE: its type and default. The original_location and alternate_location roles
# read them with their prefix (``original_location_vms``), the failback role with ``failback_``; the run_options
# action plugin collects them from the task's variables and the run_options module fills the defaults from here.
# Each role's meta/argument_specs.yml documents them (for ansible-doc); a unit test
# (tests/unit/plugins/test_option_specs.py) fails when one of them lacks an option, has one more, or differs in
# type, default or choices. ``location`` is the failback role's own: the two location roles set it themselves.
OPTIONS = {
    "location": Option("str", "original", choices=LOCATIONS),
    "vms": Option("list", [], elements="str"),
    "recovery_plan": Option("str", ""),
    # several recovery plans in one run, failed over concurrently (up to plan_concurrency), each plan one unit
    "recovery_plans": Option("list", [], elements="str"),
    # ASR documents up to 100 VMs per plan and no limit on concurrent plan failovers: 10 plans of 100 VMs = 1,000 VMs
    "plan_concurrency": Option("int", 10),
    # ARM's documented per-subscription read budget per hour (12,000); 0: no check (run_lock estimates the run)
    "request_budget": Option("int", 12000),
    # ordered groups of plans: wave N+1 starts when every plan of wave N reached wave_gate (domain.waves)
    "waves": Option("list", [], elements="list"),
    "wave_gate": Option("str", "committed", choices=WAVE_GATES),
    # stop (successfully) after each wave reaches its gate; the same command run again starts the next wave
    "wave_pause": Option("bool", False),
    "master_target": Option("str", ""),
    "process_server": Option("str", ""),
    "datastore": Option("str", ""),
    "retention_volume": Option("str", ""),
    "placements": Option("dict", {}),
    "recovery_point": Option("str", "latest_processed"),
    "memory_remediation": Option("str", "vmotion", choices=MEMORY_REMEDIATIONS),
    "health_checks": Option("dict", {}),
    "commit": Option("bool", True),
    "reprotect_to_azure": Option("bool", True),
    "preflight": Option("bool", True),
    # where the run's reports go; empty: chosen on the controller at the run's start (report_directory)
    "report_dir": Option("path", ""),
    "poll_interval": Option("float", 15),
    "recovery_point_delay": Option("float", 30),
    "owner": Option("str", ""),
    "lock_break": Option("bool", False),
    "lease_seconds": Option("int", 180),
    "cancel_on_failure": Option("bool", False),
    "appliance": Option("str", ""),
    "log_storage_account_id": Option("str", ""),
    "tools_timeout": Option("int", 600),
    # how each VM is verified on-premises (onprem_vm, the commit gate): a mode, or {default, per_vm}
    # (domain.verification); raw, as a role's argument spec types a value that is a string or a dictionary
    "verification": Option("raw", "tools"),
    # the VMDKs of each classic VM's protected disks, for a VM whose disks this collection did not record (its
    # reprotect and failover ran elsewhere): {vm: [file]} (domain.commit_gate rule protected_disks_recorded)
    "protected_disk_files": Option("dict", {}),
    # where the lease and the Azure VM identity records live (asr/blob_state.py, docs/locking.md): the VMs' tags, or
    # blobs of a container; '' leaves an option to the modules (their defaults and AZURE_SITE_RECOVERY_STATE_*)
    "state_store": Option("str", "tags", choices=STATE_STORES),
    "state_storage_account": Option("str", ""),
    "state_container": Option("str", ""),
    "state_account_url": Option("str", ""),
}
# The options a user sets on original_location / alternate_location (each role sets ``location`` itself).
LOCATION_ROLE_OPTIONS = tuple(name for name in OPTIONS if name != "location")
# The prefixes of the roles that take a run's options.
PREFIXES = ("original_location_", "alternate_location_", "failback_")
# Options ``run_options`` also takes when given directly (a step's own waits; no role option sets them).
EXTRA_OPTIONS = ("recovery_point_timeout", "timeout", "agent_registration_timeout")
# The prefixes no other variable shares: every variable named with one that is no option of the run is refused
# (``original_location_vm``, issue 16). ``failback_`` also names the playbooks' vault variables
# (``failback_resource_group``, ``failback_vault_name``), the failback role's own facts and the progress interval:
# of that prefix only a near-miss of an option (``failback_comit``) is refused.
EXACT_PREFIXES = ("original_location_", "alternate_location_")
# Variables of the ``failback_`` prefix that are no option and no misspelling of one, whatever their spelling.
RESERVED = ("failback_option_prefix", "failback_location", "failback_resource_group", "failback_vault_name",
            "failback_progress_interval")
# How close (difflib's ratio) a known name must be to an unknown variable's to be suggested in the refusal.
SUGGESTION_CUTOFF = 0.6


def with_defaults(given):
    """``given`` (the options a user set, by name without prefix) completed with the default of every other
    option of ``OPTIONS`` (a fresh copy of each list or dict default). Returns a new dict."""
    options = {name: _copy(option.default) for name, option in OPTIONS.items() if name not in given}
    options.update(given)
    return options


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def split_lists(given):
    """``given`` with each list option given as text split at its commas, as Ansible reads a ``type: list``
    (``-e original_location_vms=app01,db01`` names two VMs); an empty text is an empty list. A list of lists
    (``waves``) given as text is read as JSON (``-e 'failback_waves=[["rp-db"], ["rp-app"]]'``); text that is no JSON
    list is left as given, for :func:`check_run` to refuse. Returns a new dict."""
    out = dict(given)
    for name, value in given.items():
        if name not in OPTIONS or OPTIONS[name].kind != "list" or not isinstance(value, str):
            continue
        if OPTIONS[name].elements == "list":
            try:
                parsed = json.loads(value) if value.strip() else []
            except ValueError:
                parsed = None
            out[name] = parsed if isinstance(parsed, list) else value
        else:
            out[name] = [part.strip() for part in value.split(",") if part.strip()]
    return out


def unknown_options(given, prefix=""):
    """Problems of the names in ``given`` that are not options of a run (a misspelled one would be ignored)."""
    known = tuple(OPTIONS) + EXTRA_OPTIONS
    return [Problem(prefix + name, "is not an option of the run", "use one of %s (check the spelling)" % ", ".join(
        prefix + key for key in known), given[name]) for name in sorted(given) if name not in known]


def _closest(name):
    """The option ``name`` misspells (difflib, :data:`SPELLING_CUTOFF`), or None."""
    close = difflib.get_close_matches(name, list(OPTIONS), n=1, cutoff=SPELLING_CUTOFF)
    return close[0] if close else None


def unknown_variables(variables, prefix, known):
    """The variables of ``variables`` (names; a mapping's keys) named with ``prefix`` whose rest is not in ``known``
    (the names a role's argument spec gives, without the prefix): ``[(variable, closest known variable or None)]``,
    sorted. The closest is the known name most like the rest (difflib ratio at least :data:`SUGGESTION_CUTOFF`).

    ``unknown_variables({"original_location_vm": [...]}, "original_location_", OPTIONS)`` is
    ``[("original_location_vm", "original_location_vms")]``. Pure: nothing is read but the arguments."""
    found = []
    for variable in sorted(variables):
        if not variable.startswith(prefix) or variable[len(prefix):] in known:
            continue
        found.append((variable, _suggestion(variable[len(prefix):], known, prefix)))
    return found


def _suggestion(name, known, prefix=""):
    """The known name ``name`` was meant as: one whose words (split at ``_``) hold all of ``name``'s (``plan`` ->
    ``recovery_plan``), else the closest by difflib (:data:`SUGGESTION_CUTOFF`); ``prefix`` + it, or None."""
    words = set(name.split("_"))
    holding = sorted(key for key in known if words <= set(key.split("_")))
    if len(holding) > 1:  # plan: recovery_plan (its last word, what it is), not plan_concurrency
        holding = [key for key in holding if key.split("_")[-1] == name.split("_")[-1]] or holding
    if len(holding) == 1:
        return prefix + holding[0]
    shared = {key: len(words & set(key.split("_"))) for key in known}
    best = max(shared.values(), default=0)
    tied = [key for key, count in shared.items() if best and count == best]
    if len(tied) > 1:  # a misspelling (plan_concurency), else what it is: plan_name's last word is recovery_plan's
        close = difflib.get_close_matches(name, tied, n=1, cutoff=SPELLING_CUTOFF)
        tied = close or [key for key in tied if key.split("_")[-1] in words] or tied
    if len(tied) == 1:  # the one name sharing most words (plan_name: recovery_plan)
        return prefix + tied[0]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=SUGGESTION_CUTOFF)
    return prefix + close[0] if close else None


def report_directory(value, environ, cwd):
    """Where a run writes its reports: ``(absolute path, source)``.

    ``value`` (the ``report_dir`` option) when given: ``~`` is the controller user's home and a relative path is
    taken from ``cwd``, the directory ansible-playbook runs in (source ``report_dir``); else, under ansible-runner
    (the engine of AWX and Automation Controller), ``failback-reports`` in the job's artifact directory, which
    ansible-runner names in the ``AWX_ISOLATED_DATA_DIR`` variable of ``environ`` (ansible_runner/config/_base.py
    sets it for every run; AWX keeps the artifacts with the job; source ``AWX_ISOLATED_DATA_DIR``); else
    ``failback-reports`` in ``cwd`` (source ``cwd``). Never the playbook's directory, which is inside the
    installed collection when its playbooks run, and may be read-only. A value that is not a non-empty text is
    returned as given, for :func:`check_run` to refuse."""
    if value not in (None, "") and not (isinstance(value, str) and value.strip()):
        return value, "report_dir"
    if isinstance(value, str) and value.strip():
        return os.path.normpath(os.path.join(cwd, os.path.expanduser(value.strip()))), "report_dir"
    artifacts = str(environ.get("AWX_ISOLATED_DATA_DIR") or "").strip()
    if artifacts and os.path.isabs(artifacts):
        return os.path.join(os.path.normpath(artifacts), "failback-reports"), "AWX_ISOLATED_DATA_DIR"
    return os.path.join(os.path.normpath(cwd), "failback-reports"), "cwd"


def unread_variables(variables, prefix):
    """Problems of the variables a run does not read although they look like its options (``variables``: ``{full
    variable name: value}``, from :func:`looks_like_an_option`): of this run's ``prefix``, a misspelled option
    (``original_location_comit`` would be ignored, and the VM committed against the user's intent) or a step's own
    wait (``timeout``, ``recovery_point_timeout``, ``agent_registration_timeout``: the roles do not read them); of
    another role's prefix (``failback_commit`` in an ``original_location_`` run), an option or its misspelling."""
    problems = []
    for variable in sorted(variables):
        value = variables[variable]
        if variable.startswith(prefix):
            name = variable[len(prefix):]
            if name in EXTRA_OPTIONS:
                problems.append(Problem(variable, "is not read from variables (a step's own wait, which the roles "
                                        "leave at the module's default)", "drop it, or give %s to the step's module "
                                        "directly" % name, value))
            else:
                meant = _suggestion(name, OPTIONS)
                problems.append(Problem(variable, "is not an option of the run (it would be ignored)",
                                        "did you mean %s%s?" % (prefix, meant) if meant else "name one of the run's "
                                        "options (ansible-doc -t role siterecovery.failback.%s lists them)"
                                        % prefix.rstrip("_"), value))
            continue
        other = next(p for p in PREFIXES if variable.startswith(p))
        name = variable[len(other):]
        meant = name if name in OPTIONS else _closest(name)
        problems.append(Problem(variable, "is not read by this run, which reads the variables named %s... (it would "
                                "be ignored)" % prefix, "name it %s%s" % (prefix, meant), value))
    return problems


def looks_like_an_option(variable, prefix):
    """Whether a variable the run does not read looks like one of its options: of ``prefix``, a misspelled option or
    a step's own wait, and (a prefix of ``EXACT_PREFIXES``) any name that is no option (:func:`unknown_variables`);
    of another role's prefix (``PREFIXES``), an option a user sets (``LOCATION_ROLE_OPTIONS``: ``failback_location``
    is the location roles' own) or its misspelling. The names of ``RESERVED`` never."""
    if variable in RESERVED:
        return False
    if variable.startswith(prefix):
        name = variable[len(prefix):]
        if prefix in EXACT_PREFIXES:
            return bool(unknown_variables([variable], prefix, OPTIONS))
        return name not in OPTIONS and (name in EXTRA_OPTIONS or _closest(name) is not None)
    other = next((p for p in PREFIXES if variable.startswith(p)), None)
    if other is None:
        return False
    name = variable[len(other):]
    return name in LOCATION_ROLE_OPTIONS or (name not in OPTIONS and _closest(name) is not None)


def normalize(options):
    """``options`` (checked by :func:`check_run`, so every value is valid) with each bool and number as its
    type: ``"yes"`` -> True, ``"15"`` -> 15.0 for a float option, ``"600"`` -> 600 for an int one. Other values
    are returned as given."""
    out = dict(options)
    for name, value in options.items():
        kind = OPTIONS[name].kind if name in OPTIONS else NUMBERS[name][0] if name in NUMBERS else None
        if kind == "bool" and not _is_bool(value) and value is not None:
            out[name] = str(value).lower() in ("yes", "true", "on", "1", "y")
        elif kind in ("int", "float") and value is not None and number(value, kind) is not None:
            out[name] = number(value, kind)
    return out


class Problem(dict):
    """One refused option: ``{option, rule, fix, value, message}`` (a dict, so modules return it as is)."""

    def __init__(self, option, rule, fix, value):
        super().__init__(option=option, rule=rule, fix=fix, value=value,
                         message="%s: %s (got %s); %s." % (option, rule, _show(value), fix))


def _show(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_bool(value):
    return isinstance(value, bool)


def number(value, kind="float"):
    """``value`` as an int or float (``kind``), from a number or a numeric string; None when it is not one.

    Booleans are not numbers here (YAML's ``yes`` for a timeout is a mistake); an ``int`` refuses a fraction."""
    if _is_bool(value) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if re.match(r"^[+-]?\d+$", text) else float(text)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                return None
            value = int(value)
        return value
    return float(value)


def check_number(option, value, name=None):
    """Problems of one numeric option, by the rule of ``NUMBERS[name or option]``; ``option`` is the name shown."""
    kind, low, exclusive, high, what = NUMBERS[name or option]
    parsed = number(value, kind)
    fix = "give %s %s from %s to %s" % ("a whole number of" if kind == "int" else "a number of", what, low, high)
    if parsed is None:
        return [Problem(option, "must be %s" % ("a whole number" if kind == "int" else "a number"), fix, value)]
    if parsed < low or (exclusive and parsed == low):
        rule = "must be at least %s" % low if not exclusive else "must be more than %s" % low
        if (name or option) in ("poll_interval", "recovery_point_delay"):
            rule += " (0 or less makes a wait poll ASR without pause, or divide by zero)"
        return [Problem(option, rule, fix, value)]
    if parsed > high:
        return [Problem(option, "must be at most %s" % high, fix, value)]
    return []


def _text(value):
    return isinstance(value, str) and value.strip() != ""


def check_url(option, value):
    """Problems of an HTTP health-check URL: an http or https URL with a host (and a valid port, if any)."""
    fix = "give a URL such as https://app01.example.com/health"
    if not _text(value):
        return [Problem(option, "must be a non-empty URL", fix, value)]
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as error:
        return [Problem(option, "is not a valid URL (%s)" % error, fix, value)]
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return [Problem(option, "must start with http:// or https://", fix, value)]
    if not parts.hostname or not _HOST.match(parts.hostname):
        return [Problem(option, "must name a host", fix, value)]
    if port is not None and not 1 <= port <= MAX_PORT:
        return [Problem(option, "has a port outside 1-%d" % MAX_PORT, fix, value)]
    return []


def check_port(option, value):
    fix = "give the TCP port as a whole number from 1 to %d, for example 443" % MAX_PORT
    parsed = number(value, "int")
    if parsed is None:
        return [Problem(option, "must be a whole number", fix, value)]
    if not 1 <= parsed <= MAX_PORT:
        return [Problem(option, "must be from 1 to %d" % MAX_PORT, fix, value)]
    return []


def check_status(option, value):
    fix = "give the HTTP status the probe expects as a whole number from 100 to 599 (or a list of them), e.g. 200"
    values = value if isinstance(value, list) and value else [value]
    for one in values:
        parsed = number(one, "int")
        if parsed is None or not 100 <= parsed <= 599:
            return [Problem(option, "must be an HTTP status code from 100 to 599", fix, value)]
    return []


def _unknown_keys(option, entry, known, what):
    return [Problem("%s.%s" % (option, key), "is not a %s key" % what,
                    "use only %s (check the spelling)" % ", ".join(known), entry[key])
            for key in entry if key not in known]


def _check_probe(kind, where, entry, vms=None):
    """Problems of one probe of ``kind`` (tcp or http); ``vms``: the run's VMs, when it names them."""
    problems = _unknown_keys(where, entry, TCP_KEYS if kind == "tcp" else HTTP_KEYS, "%s probe" % kind)
    if kind == "tcp":
        if not _text(entry.get("host")):
            problems.append(Problem(where + ".host", "must be a non-empty host name or address",
                                    "name the host the probe connects to", entry.get("host")))
        problems += check_port(where + ".port", entry.get("port"))
    else:
        problems += check_url(where + ".url", entry.get("url"))
        if "status" in entry:
            problems += check_status(where + ".status", entry["status"])
        if "validate_certs" in entry:
            problems += _bool(where + ".validate_certs", entry["validate_certs"])
    if "timeout" in entry:
        problems += check_number(where + ".timeout", entry["timeout"], "probe_timeout")
    if entry.get("ca_file") is not None and not _text(entry["ca_file"]):
        problems.append(Problem(where + ".ca_file", "must be a non-empty file path",
                                "give the PEM file of the CA that signed the server's certificate", entry["ca_file"]))
    if entry.get("vm") is not None:
        if not _text(entry["vm"]):
            problems.append(Problem(where + ".vm", "must be a non-empty VM name",
                                    "give the name of the VM the probe gates, or leave vm out to gate every VM",
                                    entry["vm"]))
        elif vms is not None and entry["vm"] not in vms:
            problems.append(Problem(where + ".vm", "names a VM that is not in this run (its VMs: %s)" % ", ".join(vms),
                                    "use the VM's name as in vms, or leave vm out to gate every VM", entry["vm"]))
    return problems


def check_health_checks(option, checks, vms=None):
    """Problems of the commit gate's probes: ``{tcp: [{host, port, timeout, vm}], http: [{url, status,
    validate_certs, ca_file, timeout, vm}]}``; ``vms``: the run's VMs (a probe's ``vm`` must be one), or None."""
    if checks in (None, ""):
        return []
    if not isinstance(checks, dict):
        return [Problem(option, "must be a dictionary with tcp and/or http lists",
                        "give e.g. {tcp: [{host: db01, port: 1433}], http: [{url: 'https://app01/health'}]}", checks)]
    problems = [Problem("%s.%s" % (option, key), "is not a kind of health check",
                        "use tcp or http (check the spelling)", checks[key]) for key in checks if key not in HEALTH_CHECK_KINDS]
    for kind in HEALTH_CHECK_KINDS:
        entries = checks.get(kind)
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append(Problem("%s.%s" % (option, kind), "must be a list of probes",
                                    "give a list, one dictionary per probe", entries))
            continue
        for index, entry in enumerate(entries):
            where = "%s.%s[%d]" % (option, kind, index)
            if isinstance(entry, dict):
                problems += _check_probe(kind, where, entry, vms)
            else:
                problems.append(Problem(where, "must be a dictionary", "give %s" % (
                    "host and port" if kind == "tcp" else "url (and status)"), entry))
    return problems


def _vm_of_run(where, vm, vms):
    """A per-VM entry keyed by ``vm`` must name a VM of the run (``vms``: its VMs, or None when it names none)."""
    if vms is None or vm in vms:
        return []
    return [Problem(where, "names a VM that is not in this run (its VMs: %s)" % (", ".join(vms) or "none"),
                    "use the VM's name as in vms, or drop the entry", vm)]


def check_placements(option, placements, vms=None):
    """Problems of per-VM placements ``{vm: {master_target, datastore, ...}}``: known keys, string values, and
    (when the run names its VMs in ``vms``) a VM of the run."""
    if placements in (None, ""):
        return []
    if not isinstance(placements, dict):
        return [Problem(option, "must be a dictionary keyed by VM name",
                        "give e.g. {app01: {master_target: mt-win01, datastore: vmfs-02}}", placements)]
    problems = []
    for vm, entry in placements.items():
        where = "%s.%s" % (option, vm)
        problems += _vm_of_run(where, vm, vms)
        if not isinstance(entry, dict):
            problems.append(Problem(where, "must be a dictionary of names",
                                    "give e.g. {master_target: mt-win01}", entry))
            continue
        problems += _unknown_keys(where, entry, PLACEMENT_KEYS, "placement")
        for key in PLACEMENT_KEYS:
            if key in entry and entry[key] is not None and not _text(entry[key]):
                problems.append(Problem("%s.%s" % (where, key), "must be a non-empty name",
                                        "give the name as registered with Site Recovery, or drop the key", entry[key]))
    return problems


_VMDK_FILE = re.compile(r"^\[[^\]]+\] ?\S.*\.vmdk$")
# a VMDK's extent or side file, not the descriptor a disk's backing names (vSphere: name-flat.vmdk, -delta, -ctk,
# -sesparse, -rdm / -rdmp, name-s001.vmdk of a split disk)
_VMDK_EXTENT = re.compile(r"-(flat|delta|ctk|sesparse|rdmp?|s\d{3})\.vmdk$", re.IGNORECASE)


def check_disk_files(option, value, vms=None):
    """Problems of ``protected_disk_files`` ``{vm: ["[datastore] folder/name.vmdk", ...]}``: the VMDK files of a
    classic VM's protected disks, as the operator checked them (``domain.commit_gate`` rule
    ``protected_disks_recorded``); each VM (when the run names its VMs in ``vms``) a VM of the run, each file a
    vSphere datastore path (``[datastore] path``, vSphere's ``backing.fileName``) ending in ``.vmdk``, named once."""
    if value in (None, ""):
        return []
    example = "give e.g. {app01: ['[vmfs-01] app01/app01.vmdk', '[vmfs-01] app01/app01_1.vmdk']}"
    if not isinstance(value, dict):
        return [Problem(option, "must be a dictionary of VM name to a list of VMDK files", example, value)]
    problems = []
    owners = {}
    for vm, files in value.items():
        where = "%s.%s" % (option, vm)
        problems += _vm_of_run(where, vm, vms)
        if not isinstance(files, list) or not files:
            problems.append(Problem(where, "must be a non-empty list of VMDK files", example, files))
            continue
        for index, file_name in enumerate(files):
            if not isinstance(file_name, str) or not _VMDK_FILE.match(file_name.strip()):
                problems.append(Problem("%s[%d]" % (where, index), "must be a VMDK's datastore path, as vCenter "
                                        "shows a disk's file: [datastore] folder/name.vmdk",
                                        "copy the disk's file from the VM's settings in vCenter", file_name))
            elif _VMDK_EXTENT.search(file_name.strip()):
                problems.append(Problem("%s[%d]" % (where, index), "names a VMDK's extent or side file, not the "
                                        "disk's descriptor that vCenter shows as the disk's file",
                                        "give the descriptor, e.g. [datastore] folder/name.vmdk", file_name))
            elif owners.setdefault(file_name.strip(), vm) != vm:
                problems.append(Problem("%s[%d]" % (where, index), "names a VMDK listed for VM %s too: one VMDK "
                                        "holds the data of one VM" % owners[file_name.strip()],
                                        "list each VMDK under the VM it belongs to", file_name))
        texts = [f.strip() for f in files if isinstance(f, str)]
        twice = sorted({f for f in texts if texts.count(f) > 1})
        if twice:
            problems.append(Problem(where, "names %s more than once" % ", ".join(twice), "name each VMDK once", files))
    return problems


def _choice(option, value, choices):
    if value in choices:
        return []
    return [Problem(option, "must be one of %s" % ", ".join(choices), "give one of %s" % ", ".join(choices), value)]


def _bool(option, value):
    if _is_bool(value) or str(value).lower() in _BOOL_STRINGS:
        return []
    return [Problem(option, "must be true or false", "give true or false", value)]


def run_plans(options):
    """The recovery plans a run names, in order: ``recovery_plan``, then ``recovery_plans``, then every wave's
    (``waves``); the names that are not texts are left out (:func:`check_plans` refuses them)."""
    named = [options.get("recovery_plan")] if _text(options.get("recovery_plan")) else []
    plans = options.get("recovery_plans")
    named += [plan for plan in plans if _text(plan)] if isinstance(plans, list) else []
    for wave in options.get("waves") if isinstance(options.get("waves"), list) else []:
        named += [plan for plan in wave if _text(plan)] if isinstance(wave, list) else []
    return named


def _check_selection(options, name):
    """``(problems, vms)``: the run names its VMs, a recovery plan, recovery plans or waves of plans; ``vms`` is the
    list of names, or None."""
    vms = options.get("vms")
    if vms is not None and (not isinstance(vms, list) or not all(_text(vm) for vm in vms)):
        return [Problem(name("vms"), "must be a list of VM names", "give e.g. [app01, db01]", vms)], None
    if not any(key in options for key in ("vms", "recovery_plan", "recovery_plans", "waves")):
        return [], vms
    problems = []
    if not vms and not run_plans(options) and not check_plans(options, name):
        fix = "give the VMs to fail back (%s), a recovery plan (%s) or several (%s)" % (
            name("vms"), name("recovery_plan"), name("recovery_plans"))
        return [Problem(name("vms"), "is empty and no recovery plan is named", fix, vms)], vms
    if vms and len(set(vms)) != len(vms):
        twice = sorted({vm for vm in vms if vms.count(vm) > 1})
        problems.append(Problem(name("vms"), "names %s more than once" % ", ".join(twice), "name each VM once", vms))
    return problems, vms


def _names_list(option, value, example):
    """Problems of a list of recovery plan names (``recovery_plans``, one wave)."""
    if not isinstance(value, list) or not all(_text(plan) for plan in value):
        return [Problem(option, "must be a list of recovery plan names", "give e.g. %s" % example, value)]
    return []


def check_plans(options, name=lambda key: key):
    """Problems of the plan options: ``recovery_plans`` a list of names; ``waves`` a list of non-empty lists of names,
    without ``vms``, ``recovery_plan`` or ``recovery_plans`` (the waves name every plan of the run); no plan named
    twice (in one list, in two waves, or in ``recovery_plan`` and ``recovery_plans``); ``wave_gate`` committed needs
    the commit (``commit`` true) when there is a wave after the first; ``wave_pause`` needs waves."""
    problems = []
    plans, waves = options.get("recovery_plans"), options.get("waves")
    if plans not in (None, "", []):
        problems += _names_list(name("recovery_plans"), plans, "[rp-app, rp-web]")
    if waves not in (None, "", []):
        problems += _check_waves(options, waves, name)
    problems += _twice(options, name)
    if _waves_count(waves) > 1 and options.get("wave_gate", "committed") == "committed" and str(
            options.get("commit", True)).lower() in ("false", "no", "off", "0", "n"):
        problems.append(Problem(name("wave_gate"), "is committed (the next wave waits for each plan's commit), but %s "
                                "is false: the second wave would never start" % name("commit"),
                                "set %s to verified (the commits then wait for the last wave), or %s to true"
                                % (name("wave_gate"), name("commit")), options.get("wave_gate", "committed")))
    if "wave_gate" in options:
        problems += _choice(name("wave_gate"), options["wave_gate"], WAVE_GATES)
    if "wave_pause" in options:
        problems += _bool(name("wave_pause"), options["wave_pause"])
        if str(options["wave_pause"]).lower() in ("true", "yes", "on", "1", "y") and not _waves_count(waves):
            problems.append(Problem(name("wave_pause"), "pauses between waves, and %s names none" % name("waves"),
                                    "give the waves (%s: %s), or drop %s" % (
                                        name("waves"), WAVE_EXAMPLE, name("wave_pause")), options["wave_pause"]))
    return problems


WAVE_EXAMPLE = "[[rp-db], [rp-app, rp-web]] (each wave a list of recovery plans, in the order they run)"


def _check_waves(options, waves, name):
    """Problems of a non-empty ``waves``: a list of non-empty lists of names, without vms or other plan options."""
    if not isinstance(waves, list):
        return [Problem(name("waves"), "must be a list of waves, each a list of recovery plan names",
                        "give e.g. %s" % WAVE_EXAMPLE, waves)]
    problems = []
    for index, wave in enumerate(waves):
        if isinstance(wave, list) and not wave:
            problems.append(Problem("%s[%d]" % (name("waves"), index), "is an empty wave",
                                    "give each wave at least one recovery plan, or drop it", wave))
        else:
            problems += _names_list("%s[%d]" % (name("waves"), index), wave, WAVE_EXAMPLE)
    if options.get("vms"):
        problems.append(Problem(name("vms"), "is set with %s: waves fail back recovery plans only" % name("waves"),
                                "put the VMs in a recovery plan of a wave, or fail them back in a run of their own "
                                "without waves", options.get("vms")))
    for key in ("recovery_plan", "recovery_plans"):
        if options.get(key) not in (None, "", []):
            problems.append(Problem(name(key), "is set with %s, which name every plan of the run" % name("waves"),
                                    "put the plan in the wave it belongs to and drop %s" % name(key),
                                    options.get(key)))
    return problems


def _waves_count(waves):
    return len(waves) if isinstance(waves, list) else 0


def _twice(options, name):
    """Problems of a plan named more than once: in ``recovery_plan`` and ``recovery_plans``, twice in one of them,
    twice in one wave, or in two waves."""
    seen = {}
    for key in ("recovery_plan", "recovery_plans"):
        value = options.get(key)
        for plan in [value] if key == "recovery_plan" else value if isinstance(value, list) else []:
            if _text(plan):
                seen.setdefault(plan.strip(), []).append(name(key))
    waves = options.get("waves")
    for index, wave in enumerate(waves if isinstance(waves, list) else [], 1):
        for plan in wave if isinstance(wave, list) else []:
            if _text(plan):
                seen.setdefault(plan.strip(), []).append("wave %d" % index)
    problems = []
    for plan, where in seen.items():
        if len(where) > 1:
            places = list(dict.fromkeys(where))
            problems.append(Problem(name("waves") if any(w.startswith("wave ") for w in where) else name(
                "recovery_plans"), "names recovery plan %s more than once (%s)" % (
                plan, ", ".join(places) if len(places) > 1 else "twice in %s" % places[0]),
                "name each recovery plan once: a plan fails back as one unit, in one wave", plan))
    return problems


def _check_recovery_point(point, vms, plan, option):
    if not _text(point):
        return [Problem(option, "must be latest_processed, latest_app_consistent or a recovery point name",
                        "give latest_processed (the default)", point)]
    if point not in RECOVERY_POINT_KEYWORDS and (_text(plan) or not vms or len(vms) != 1):
        return [Problem(option, "names one recovery point, which only a single VM can fail over to",
                        "give latest_processed or latest_app_consistent, or fail back one VM (without a recovery "
                        "plan)", point)]
    return []


def check_run(options, prefix=""):
    """Every problem of a run's options, in a stable order; ``[]`` when the run may start.

    ``options`` holds the failback role's options without their prefix (``vms``, ``recovery_plan``, ``location``,
    ``placements``, ``recovery_point``, ``memory_remediation``, ``health_checks``, ``poll_interval``,
    ``recovery_point_delay``, ``tools_timeout``, ...); absent ones are not checked. ``prefix`` is prepended to
    every option name in the messages (``original_location_`` names what the user set).
    """
    def name(key):
        return prefix + key

    problems, vms = _check_selection(options, name)
    problems += check_plans(options, name)
    plan = options.get("recovery_plan")
    for key, choices in (("location", LOCATIONS), ("memory_remediation", MEMORY_REMEDIATIONS)):
        if key in options:
            problems += _choice(name(key), options[key], choices)
    plans = run_plans(options)
    if "recovery_point" in options:
        problems += _check_recovery_point(options["recovery_point"], vms, plans[0] if plans else plan,
                                          name("recovery_point"))
    for key in NUMBERS:
        if key in options and key != "probe_timeout":
            problems += check_number(name(key), options[key], key)
    for key in ("commit", "reprotect_to_azure", "preflight", "lock_break", "cancel_on_failure"):
        if key in options:
            problems += _bool(name(key), options[key])
    if "report_dir" in options and not (_text(options["report_dir"]) or options["report_dir"] in ("", None)):
        problems.append(Problem(name("report_dir"), "must be a directory path", "give an absolute path such as "
                                "/var/lib/failback/reports, or leave it unset", options["report_dir"]))
    if "placements" in options:
        problems += check_placements(name("placements"), options["placements"], vms if vms and not plans else None)
    if "health_checks" in options:
        problems += check_health_checks(name("health_checks"), options["health_checks"],
                                        vms if vms and not plans else None)
    if "protected_disk_files" in options:
        problems += check_disk_files(name("protected_disk_files"), options["protected_disk_files"],
                                     vms if vms and not plans else None)
    problems += check_state_store(options, name)
    if "verification" in options:
        # imported here: domain.verification builds its problems with this module's Problem
        from ansible_collections.siterecovery.failback.plugins.module_utils.domain import verification
        problems += verification.check(name("verification"), options["verification"],
                                       vms if vms and not plans else None,
                                       verification.probe_vm_names(options.get("health_checks")))
    return problems


def check_state_store(options, name=lambda key: key):
    """Problems of the store options (``state_store``, ``state_storage_account``, ``state_container``,
    ``state_account_url``; empty or absent ones are not checked, but ``blob`` needs an account or a URL)."""
    problems = []
    store = options.get("state_store")
    if "state_store" in options:
        problems += _choice(name("state_store"), store, STATE_STORES)
    account, container, url = (options.get(key)
                               for key in ("state_storage_account", "state_container", "state_account_url"))
    if _text(account) and not STORAGE_ACCOUNT_NAME.match(account):
        problems.append(Problem(name("state_storage_account"), "is not a storage account name (3 to 24 lower-case letters "
                                "and digits)", "give the account's name, e.g. contosofailback", account))
    if _text(container) and not CONTAINER_NAME.match(container):
        problems.append(Problem(name("state_container"), "is not a container name (3 to 63 lower-case letters, digits and "
                                "single hyphens, starting and ending with a letter or digit)",
                                "give e.g. siterecovery-failback", container))
    if _text(url) and (not str(url).startswith("https://") or not urlsplit(str(url)).hostname):
        problems.append(Problem(name("state_account_url"), "must be an https URL of the Blob endpoint (bearer tokens "
                                "are refused over http)", "give e.g. https://contosofailback.blob.core.windows.net", url))
    if store == "blob" and not _text(account) and not _text(url):
        problems.append(Problem(name("state_storage_account"), "must be set when %s is blob" % name("state_store"),
                                "name the storage account that holds the run state (or give %s)"
                                % name("state_account_url"), account))
    return problems


def check_module(params, names):
    """Problems of a module's own numeric options ``names`` (keys of ``NUMBERS``) in ``params``; a module
    calls it before its first request so a direct call is protected as a run is."""
    problems = []
    for key in names:
        if params.get(key) is not None:
            problems += check_number(key, params[key], key)
    return problems


def summary(problems, what="the run"):
    """One message listing every problem: ``"Refusing to start the run; nothing was changed. 2 option problem(s):
    - ...``."""
    return "Refusing to start %s; nothing was changed. %d option problem(s): %s" % (
        what, len(problems), " ".join("- %s" % p["message"] for p in problems))


def run_identity(owner, awx_job_id, environ, now, token):
    """Who this run is, for its lease and its reports: ``{"id", "source"}``.

    ``owner`` (the run's option) wins; then the AWX / Automation Controller job: the ``awx_job_id`` (or
    ``tower_job_id``) extra variable AWX sets on every job, or the ``JOB_ID`` / ``AWX_JOB_ID`` variable of
    ``environ`` (its execution environment's); else ``run-<UTC time of now (epoch s)>-<token>``.
    """
    if str(owner or "").strip():
        return {"id": str(owner).strip(), "source": "owner"}
    if str(awx_job_id or "").strip():
        return {"id": "awx-job-%s" % str(awx_job_id).strip(), "source": "awx_job_id"}
    for name in ("JOB_ID", "AWX_JOB_ID"):
        if str(environ.get(name) or "").strip():
            return {"id": "awx-job-%s" % environ[name].strip(), "source": name}
    return {"id": "run-%s-%s" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)), token), "source": "generated"}


CONTROLLER_HOSTS = ("localhost", "127.0.0.1", "::1")


def play_selection(hosts, given, prefix=""):
    """Which VMs a run fails back when its play runs against inventory hosts (one host per VM: the inventory plugin
    ``siterecovery.failback.replicated_items``, or any inventory whose hosts are the VMs), and what is wrong with it.

    ``hosts``: ``[[host, VM name], ...]`` of the run's hosts (the failback playbooks' first play, so ``--limit``, a
    job slice and "relaunch on failed hosts" decide), in play order; a host's VM name is its ``asr_vm_name``
    variable, else the host name. The controller (``localhost``) is not a VM. ``given``: the run's
    options as set (without defaults). Returns ``(selection, problems)``: ``selection`` is ``None`` when the play
    runs on the controller alone (the VMs come from the ``vms`` / ``recovery_plan`` options, as always), else
    ``{"hosts": {host: VM}, "vms": [VM, ...], "plan_vms": [...]}``: with a recovery plan (or several:
    ``recovery_plans``) the run keeps the plans (their boot order) and ``plan_vms`` are the VMs the plans must hold
    exactly (the lock refuses a plan only partly in the
    play: a slice never fails over part of a plan); without one, ``vms`` are the run's VMs. Replication groups are
    judged against Site Recovery by the preflight and the reprotect (a part of a group is refused naming it).
    ``waves`` are refused against inventory hosts: a run does one wave or more of them, not its hosts' VMs."""
    vm_hosts = [(str(host), str(vm or host)) for host, vm in hosts if str(host) not in CONTROLLER_HOSTS]
    if not vm_hosts:
        return None, []
    by_vm = {}
    for host, vm in vm_hosts:
        by_vm.setdefault(vm, []).append(host)
    twice = sorted(vm for vm, names in by_vm.items() if len(names) > 1)
    problems = [Problem(prefix + "vms", "is decided by the play's hosts, and hosts %s name the same VM %s" % (
        ", ".join(by_vm[vm]), vm), "give each VM one inventory host", [h for h, _vm in vm_hosts]) for vm in twice]
    if given.get("vms"):
        problems.append(Problem(prefix + "vms", "is set, but the play runs against inventory hosts (%s), which are the "
                                "run's VMs" % ", ".join(h for h, _vm in vm_hosts),
                                "drop %svms and choose the VMs with the play's hosts (--limit, failback_hosts), or run "
                                "against localhost (failback_hosts=localhost) to name them in %svms" % (prefix, prefix),
                                given.get("vms")))
    if given.get("waves"):
        problems.append(Problem(prefix + "waves", "are set, but the play runs against inventory hosts (%s): a run of "
                                "waves does one wave or more of them, so its hosts could not be its VMs"
                                % ", ".join(h for h, _vm in vm_hosts), "run the waves against the controller "
                                "(failback_hosts=localhost): the waves' recovery plans name the VMs", given.get("waves")))
    names = list(by_vm)
    planned = _text(given.get("recovery_plan")) or bool(given.get("recovery_plans"))
    selection = {"hosts": dict(vm_hosts), "vms": [] if planned else names, "plan_vms": names if planned else []}
    return selection, problems
