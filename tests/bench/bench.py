# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: fail back 10 to 1,000 VMs on the lab with zero-length jobs and print, per size, wall time,
Ansible tasks, Resource Manager calls (reads and writes), vCenter SOAP calls, the lab's and the playbook's CPU.

    python tests/bench/bench.py                      # 10 50 100 200 500 1000
    python tests/bench/bench.py 10 100               # chosen sizes
    python tests/bench/bench.py 100 --breakdown      # ARM calls by kind (method and route, names collapsed)
    python tests/bench/bench.py 100 --profile DIR    # cProfile every Python process of the playbook run

Sizes up to 100 are one recovery plan (groups of 10 VMs); larger sizes are 10 recovery plans of N/10 VMs (more
plans when N/10 would pass ASR's limit of 100 VMs per plan), run in one playbook run with ``recovery_plans``.
The bench only prints: it asserts no timing (tests/bench/README.md explains the columns and the profile)."""

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tests.lab import calls  # noqa: E402
from tests.lab.lab import Lab  # noqa: E402

DEFAULT_SIZES = (10, 50, 100, 200, 500, 1000)
PLAN_LIMIT = 100  # ASR: at most 100 protected items in one recovery plan
MULTI_PLAN_FROM = 200  # sizes from here on run as 10 plans (or more, to keep each under PLAN_LIMIT)
GROUP = 10  # VMs per boot group of a plan
ZERO = {"job_seconds": 0, "initial_replication_seconds": 0, "recovery_point_seconds": 0.2, "app_consistent_every": 2,
        "agent_registration_seconds": 0, "retry_after_seconds": 0}
PROFILE_ENV = "SITERECOVERY_BENCH_PROFILE_DIR"


# ---------------------------------------------------------------------- the site
def plan_names(count, plans=None):
    """The recovery plans of a bench of ``count`` VMs: one up to 100 VMs, else 10 (or ceil(count/100)); ``plans``
    forces a number (1: one plan of every VM, past ASR's limit - the lab does not enforce it)."""
    if plans == 1 or (plans is None and count < MULTI_PLAN_FROM):
        return ["rp-bench"]
    plans = plans or max(10, -(-count // PLAN_LIMIT))
    return ["rp-bench-%02d" % (i + 1) for i in range(plans)]


def spec(count, plans=None):
    """A site with ``count`` protected Windows VMs in its recovery plans (boot groups of 10), master targets enough
    for their disks (2 each, at most 50 per master target)."""
    hosts = ["esx%02d.lab" % i for i in range(1, 5)]
    masters = max(1, -(-count * 2 // 50))
    vms = [{"name": "mt%02d" % i, "host": hosts[i % len(hosts)], "guest_id": "windows2019srv_64Guest", "memory_mb": 8192,
            "extra_config": {"disk.EnableUUID": "TRUE"}, "disks": [{"size_gb": 40}]} for i in range(masters)]
    vms += [{"name": "vm%04d" % i, "host": hosts[i % len(hosts)], "guest_id": "windows2019srv_64Guest", "memory_mb": 1024,
             "num_cpu": 1, "disks": [{"size_gb": 20}, {"size_gb": 10}]} for i in range(count)]
    names = ["vm%04d" % i for i in range(count)]
    plans = plan_names(count, plans)
    per_plan = -(-count // len(plans))
    recovery_plans = []
    for index, plan in enumerate(plans):
        members = names[index * per_plan:(index + 1) * per_plan]
        recovery_plans.append({"name": plan, "groups": [{"items": members[i:i + GROUP]}
                                                        for i in range(0, len(members), GROUP)]})
    return {
        "name": "bench%d" % count, "timings": ZERO,
        "vcenter": {"datacenters": [{
            "name": "DC1", "clusters": [{"name": "Cluster1", "hosts": hosts}],
            "hosts": [{"name": h, "memory_mb": 1048576, "memory_used_mb": 65536} for h in hosts],
            "datastores": [{"name": "vmfs-01", "type": "VMFS", "capacity_gb": 65536 * 4, "free_gb": 32768 * 4}],
            "vms": vms}]},
        "asr": {
            "process_servers": [{"name": "ps-azure01", "location": "azure"}, {"name": "cs01", "location": "onprem"}],
            "master_targets": [{"vm": "mt%02d" % i} for i in range(masters)],
            "items": [{"name": name, "stage": "running_in_azure"} for name in names],
            "recovery_plans": recovery_plans,
        },
    }


# ---------------------------------------------------------------------- what the lab itself costs
class LabSoapCalls:
    """SOAP calls the lab's own side effects (tests/lab/effects.py, in this process) make to the simulators, so that
    the launcher's counts, which see every client, can be split into the playbook's and the lab's."""

    def __init__(self):
        from pyVmomi import SoapAdapter
        self.adapter = SoapAdapter.SoapStubAdapter
        self.original = self.adapter.InvokeMethod
        self.lock = threading.Lock()
        self.count = 0
        watch = self

        def counted(stub, *args, **kwargs):
            with watch.lock:
                watch.count += 1
            return watch.original(stub, *args, **kwargs)

        self.adapter.InvokeMethod = counted

    def close(self):
        self.adapter.InvokeMethod = self.original


def _cpu_of(pid):
    """CPU seconds (user + system) of a running process, from /proc (Linux); 0.0 where unreadable."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _simulators_cpu(lab):
    return sum(_cpu_of(sim.proc.pid) for sim in lab.simulators.values() if sim.proc is not None)


def _soap_total(lab):
    return sum(sum(calls.soap_calls(sim.info).values()) for sim in lab.simulators.values())


# ---------------------------------------------------------------------- profiling the playbook's processes
SITECUSTOMIZE = r'''
"""Written by tests/bench/bench.py --profile: cProfile (CPU time per thread) of every Python process started with
%(env)s set: ansible-playbook, its forked workers and each AnsiballZ module; one file per process."""
import os
if os.environ.get("%(env)s"):
    import atexit, cProfile, marshal, sys, threading, time
    _profiles = []
    _lock = threading.Lock()
    _thread_run = threading.Thread.run

    def _start():
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        return profile

    def _run(self):
        profile = _start()
        try:
            _thread_run(self)
        finally:
            profile.disable()
            with _lock:
                _profiles.append(profile)

    threading.Thread.run = _run

    def _dump():
        main.disable()
        with _lock:
            done = list(_profiles) + [main]
        stats = {}
        for profile in done:
            profile.create_stats()
            for key, (cc, nc, tt, ct, callers) in profile.stats.items():
                old = stats.get(key)
                if old is None:
                    stats[key] = (cc, nc, tt, ct, dict(callers))
                else:
                    merged = dict(old[4])
                    for caller, value in callers.items():
                        prev = merged.get(caller)
                        merged[caller] = value if prev is None else tuple(a + b for a, b in zip(prev, value))
                    stats[key] = (old[0] + cc, old[1] + nc, old[2] + tt, old[3] + ct, merged)
        name = os.path.basename(sys.argv[0] or "python") or "python"
        path = os.path.join(os.environ["%(env)s"], "%%s-%%d-%%d.prof" %% (name, os.getpid(), int(time.time() * 1000)))
        with open(path, "wb") as handle:
            marshal.dump(stats, handle)

    main = _start()
    atexit.register(_dump)

    def _after_fork():  # an Ansible worker: a fresh profile, dumped when the worker process ends (os._exit)
        global main
        main.disable()
        del _profiles[:]
        main = _start()
        import multiprocessing.process as mp
        bootstrap = mp.BaseProcess._bootstrap

        def _bootstrap(self, *args, **kwargs):
            try:
                return bootstrap(self, *args, **kwargs)
            finally:
                sys.argv[0] = "ansible-worker"
                _dump()
        mp.BaseProcess._bootstrap = _bootstrap

    os.register_at_fork(after_in_child=_after_fork)
''' % {"env": PROFILE_ENV}

GROUPS = (
    ("our code", lambda f, n: "ansible_collections/siterecovery/" in f),
    ("Azure SDK", lambda f, n: re.search(r"(^|/)(azure|msrest|msal|isodate)[/_]", f) is not None),
    ("pyVmomi", lambda f, n: re.search(r"(^|/)(pyVmomi|pyVim)/", f) is not None),
    ("module start-up/imports", lambda f, n: f.startswith("<frozen") or "zipimport" in f or n == "<module>"
     or "AnsiballZ_" in f or re.search(r"marshal|_imp\.|builtins\.(exec|compile|__import__)", n) is not None),
    ("Ansible", lambda f, n: re.search(r"(^|/)ansible/|(^|/)ansible_collections/ansible/", f) is not None),
)


def group_of(filename, name):
    for group, test in GROUPS:
        if test(filename, name):
            return group
    return OTHER


OTHER = "other (stdlib, requests, urllib3, ...)"


def _plain(key):
    """A profile key with the per-process parts of its file name removed (an AnsiballZ module's payload directory,
    the remote temporary directory, site-packages), so that one function is one entry across processes."""
    filename, line, name = key
    filename = re.sub(r"^.*_payload\.zip/", "", filename)
    filename = re.sub(r"^.*/ansible-tmp-[^/]+/", "", filename)
    filename = re.sub(r"^.*/(site-packages|lib/python3\.\d+)/", "", filename)
    return filename, line, name


def merged(entries):
    """``pstats`` entries merged under :func:`_plain` keys (calls, times and callers added)."""
    result = {}
    for key, (cc, nc, tt, ct, raw_callers) in entries.items():
        plain = _plain(key)
        callers = {}
        for raw, value in raw_callers.items():
            caller = _plain(raw)
            callers[caller] = tuple(a + b for a, b in zip(callers[caller], value, strict=True)) \
                if caller in callers else value
        if plain not in result:
            result[plain] = (cc, nc, tt, ct, callers)
            continue
        old = result[plain]
        joined = dict(old[4])
        for caller, value in callers.items():
            joined[caller] = tuple(a + b for a, b in zip(joined[caller], value, strict=True)) \
                if caller in joined else value
        result[plain] = (old[0] + cc, old[1] + nc, old[2] + tt, old[3] + ct, joined)
    return result


def charged_by_group(entries):
    """Self CPU seconds by group; a function of no group (built-ins, the standard library, requests...) charges
    its time to its callers' groups, in proportion to the time each caller spent in it (recursively)."""
    shares = {}

    def share(key, seen):
        if key in shares:
            return shares[key]
        group = group_of(key[0], key[2])
        callers = entries[key][4] if key in entries else {}
        if group != OTHER or not callers or key in seen or len(seen) > 40:
            return {group: 1.0}
        seen = seen | {key}
        weights = {caller: value[2] for caller, value in callers.items()}  # value: (cc, nc, tt, ct)
        if sum(weights.values()) <= 0:
            weights = dict.fromkeys(callers, 1.0)
        total = sum(weights.values())
        mixed = Counter()
        for caller, weight in weights.items():
            for name, part in share(caller, seen).items():
                mixed[name] += part * weight / total
        shares[key] = dict(mixed)
        return shares[key]

    totals = Counter()
    for key, (_cc, _nc, tottime, _ct, _callers) in entries.items():
        for group, part in share(key, frozenset()).items():
            totals[group] += tottime * part
    return totals


def profile_report(directory, top=15):
    """The merged profiles of ``directory``: CPU seconds by group (self time) and the top entries by cumulative time,
    each with its group. Returns the lines to print."""
    import pstats
    files = sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".prof"))
    if not files:
        return ["no profiles were written to %s" % directory]
    stats = pstats.Stats(files[0])
    for path in files[1:]:
        stats.add(path)
    kinds = Counter(re.sub(r"-\d+-\d+\.prof$", "", os.path.basename(f)) for f in files)
    entries = merged(stats.stats)
    totals = charged_by_group(entries)
    whole = sum(totals.values()) or 1.0
    lines = ["profiles: %d processes (%s); %.1f CPU seconds profiled (profiling slows every call: compare shares, "
             "not seconds)" % (len(files), ", ".join("%s x%d" % kv for kv in sorted(kinds.items())), whole),
             "", "CPU by group (self time; the standard library's and built-ins' charged to the group that called "
             "them):"]
    lines += ["  %-40s %8.1f s  %5.1f %%" % (group, seconds, 100.0 * seconds / whole)
              for group, seconds in totals.most_common()]
    ranked = sorted(entries.items(), key=lambda kv: kv[1][3], reverse=True)
    lines += ["", "top %d by cumulative time, per group (cumulative s, self s, calls, function):" % top]
    by_group = {}
    for (filename, line, name), (_cc, calls_, tottime, cumtime, _callers) in ranked:
        group = group_of(filename, name)
        if len(by_group.setdefault(group, [])) < top:
            short = re.sub(r"^.*/ansible_collections/", "", filename)
            by_group[group].append("    %8.1f %8.1f %9d  %s:%d(%s)" % (cumtime, tottime, calls_, short, line, name))
    for group, _seconds in totals.most_common():
        lines += ["  %s:" % group, *by_group.get(group, [])]
    return lines


# ---------------------------------------------------------------------- ARM calls by kind
def route_kind(key):
    """'METHOD /path' with names collapsed, from the provider on: 'GET Microsoft.RecoveryServices/vaults/{}/
    replicationJobs/{}' (after ``providers/<namespace>`` the path alternates resource type and name)."""
    method, _space, path = key.partition(" ")
    parts = [p for p in path.split("?")[0].split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" in lowered:
        at = lowered.index("providers")
        namespace, rest = parts[at + 1:at + 2], parts[at + 2:]
        return "%s %s" % (method, "/".join(namespace + [p if i % 2 == 0 else "{}" for i, p in enumerate(rest)]))
    return "%s %s" % (method, "/".join(p if i % 2 == 0 else "{}" for i, p in enumerate(parts)))


def breakdown(requests_by_route):
    kinds = Counter()
    for key, count in requests_by_route.items():
        if "/subscriptions/" in key.lower():
            kinds[route_kind(key)] += count
    return kinds


# ---------------------------------------------------------------------- one run
def run(count, profile_dir=None, keep=False, plans=None):
    workdir = tempfile.mkdtemp(prefix="bench%d-" % count)
    path = os.path.join(workdir, "spec.yml")
    with open(path, "w") as handle:
        json.dump(spec(count, plans), handle)  # JSON is YAML
    plans = plan_names(count, plans)
    started_lab = time.monotonic()
    try:
        with Lab(path, workdir=workdir) as lab:
            lab_start = time.monotonic() - started_lab
            env = dict(os.environ, **lab.env())
            env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".venv", "collections"), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
            if profile_dir:
                site_dir = os.path.join(workdir, "sitecustomize")
                os.makedirs(site_dir)
                with open(os.path.join(site_dir, "sitecustomize.py"), "w") as handle:
                    handle.write(SITECUSTOMIZE)
                os.makedirs(profile_dir, exist_ok=True)
                env["PYTHONPATH"] = os.pathsep.join(p for p in (site_dir, env.get("PYTHONPATH")) if p)
                env[PROFILE_ENV] = os.path.abspath(profile_dir)
            extra = {"failback_poll_interval": 0.5, "failback_recovery_point_delay": 0.5,
                     "failback_report_dir": os.path.join(workdir, "reports"),
                     "failback_preflight": os.environ.get("BENCH_PREFLIGHT", "true") == "true",
                     # the bench measures the calls a run makes: no refusal by the request budget (0 = no check)
                     "failback_request_budget": 0}
            if len(plans) == 1:
                extra["recovery_plan"] = plans[0]
            else:
                extra["recovery_plans"] = plans
            control = lab.env()["LAB_CONTROL_URL"]
            ca_file = lab.env()["AZURE_CA_BUNDLE"]
            requests.delete(control + "/stats", verify=ca_file, timeout=30)  # the lab's start is not the run's
            for sim in lab.simulators.values():
                calls.reset_soap_calls(sim.info)
            lab_soap = LabSoapCalls()
            self_before = resource.getrusage(resource.RUSAGE_SELF)
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            sims_before = _simulators_cpu(lab)
            started = time.monotonic()
            try:
                proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", "localhost,",
                                       "siterecovery.failback.recovery_plan", "-e", json.dumps(extra)], env=env,
                                      capture_output=True, text=True, timeout=7200, check=False)
            finally:
                wall = time.monotonic() - started
                self_after = resource.getrusage(resource.RUSAGE_SELF)
                children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
                sims_cpu = _simulators_cpu(lab) - sims_before
                lab_soap.close()
            stats = requests.get(control + "/stats", verify=ca_file, timeout=30).json()
            soap_total = _soap_total(lab)
            final = lab.azure.state()["items"]
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    done = sum(1 for item in final.values() if item["stage"] == "reprotected_to_azure")
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)", proc.stdout)
    tasks = len(re.findall(r"^TASK \[", proc.stdout, re.M))
    arm = {route: n for route, n in stats["requests"].items() if "/subscriptions/" in route.lower()}
    writes = sum(n for route, n in arm.items() if calls.is_arm_write(route))
    total = sum(arm.values())

    def cpu(after, before):
        return round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)

    return {"vms": count, "plans": len(plans), "lab_start_seconds": round(lab_start, 1), "wall_seconds": round(wall, 1),
            "tasks": tasks, "api_calls": total, "api_calls_per_vm": round(total / count, 1), "arm_reads": total - writes,
            "arm_writes": writes, "soap_calls": soap_total - lab_soap.count, "lab_soap_calls": lab_soap.count,
            "emulator_cpu": cpu(self_after, self_before), "vcsim_cpu": round(sims_cpu, 1),
            "playbook_cpu": cpu(children_after, children_before), "failed_back": done, "rc": proc.returncode,
            "arm_by_route": arm, "recap": recap.group(0) if recap else None,
            "tail": _why(proc) if proc.returncode else ""}


def _why(proc):
    """What a failed run says: its first failures (the task's error, not only the per-VM lines), then its end."""
    failures = [line[:1500] for line in proc.stdout.splitlines() if line.startswith("fatal:") or "FAILED!" in line]
    return "\n".join([*failures[:2], "...", proc.stdout[-2000:], proc.stderr[-1000:]])


HEADER = ("| VMs | plans | wall (s) | Ansible tasks | ARM calls | per VM | ARM reads | ARM writes | vCenter SOAP calls "
          "| playbook CPU (s) | emulator CPU (s) | vcsim CPU (s) | failed back |")


def row_line(row):
    return ("| %(vms)d | %(plans)d | %(wall_seconds)s | %(tasks)d | %(api_calls)d | %(api_calls_per_vm)s | %(arm_reads)d "
            "| %(arm_writes)d | %(soap_calls)d | %(playbook_cpu)s | %(emulator_cpu)s | %(vcsim_cpu)s "
            "| %(failed_back)d/%(vms)d |" % row)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python tests/bench/bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, help="numbers of VMs (default: %s)"
                        % " ".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--profile", metavar="DIR", help="cProfile every Python process of each playbook run into "
                        "DIR/<size>/ and print where the CPU went, by group")
    parser.add_argument("--top", type=int, default=15, help="entries per group in the profile report (default 15)")
    parser.add_argument("--breakdown", action="store_true", help="print each run's ARM calls by kind")
    parser.add_argument("--plans", type=int, help="recovery plans per size (default: 1 up to 100 VMs, else 10); "
                        "--plans 1 measures one plan of any size (past ASR's 100-VM limit)")
    parser.add_argument("--keep", action="store_true", help="keep each run's lab directory (spec, logs, reports)")
    args = parser.parse_args(argv)
    sizes = args.sizes or list(DEFAULT_SIZES)
    rows = []
    for count in sizes:
        profile_dir = os.path.join(args.profile, str(count)) if args.profile else None
        row = run(count, profile_dir=profile_dir, keep=args.keep, plans=args.plans)
        rows.append(row)
        print("%d VMs: %s" % (count, json.dumps({k: v for k, v in row.items() if k not in ("arm_by_route", "tail")})),
              flush=True)
        if args.breakdown:
            print("\nARM calls of %d VMs by kind:" % count)
            for kind, n in breakdown(row["arm_by_route"]).most_common():
                print("%7d  %s" % (n, kind))
            print(flush=True)
        if profile_dir:
            print("\nprofile of %d VMs (%s):" % (count, profile_dir))
            print("\n".join(profile_report(profile_dir, args.top)), flush=True)
    print("\n" + HEADER)
    print("|" + "---|" * HEADER.count(" | ") + "---|")
    for row in rows:
        print(row_line(row))
    failed = [row for row in rows if row["rc"] != 0 or row["failed_back"] != row["vms"]]
    for row in failed:
        print("\nbench %d VMs did not finish (rc %s, %s):\n%s" % (row["vms"], row["rc"], row["recap"], row["tail"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
