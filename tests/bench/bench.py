# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: fail back recovery plans of 10, 50 and 100 VMs on the lab with zero-length jobs
and print wall time, Ansible tasks run and API calls per VM."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tests.lab.lab import Lab  # noqa: E402

ZERO = {"job_seconds": 0, "initial_replication_seconds": 0, "recovery_point_seconds": 0.2, "app_consistent_every": 2,
        "agent_registration_seconds": 0, "retry_after_seconds": 0}


def spec(count):
    """A site with ``count`` protected Windows VMs in one recovery plan (groups of 10), master
    targets enough for their disks (2 each, at most 50 per master target)."""
    hosts = ["esx%02d.lab" % i for i in range(1, 5)]
    masters = max(1, -(-count * 2 // 50))
    vms = [{"name": "mt%02d" % i, "host": hosts[i % len(hosts)], "guest_id": "windows2019srv_64Guest", "memory_mb": 8192,
            "extra_config": {"disk.EnableUUID": "TRUE"}, "disks": [{"size_gb": 40}]} for i in range(masters)]
    vms += [{"name": "vm%03d" % i, "host": hosts[i % len(hosts)], "guest_id": "windows2019srv_64Guest", "memory_mb": 1024,
             "num_cpu": 1, "disks": [{"size_gb": 20}, {"size_gb": 10}]} for i in range(count)]
    names = ["vm%03d" % i for i in range(count)]
    return {
        "name": "bench%d" % count, "timings": ZERO,
        "vcenter": {"datacenters": [{
            "name": "DC1", "clusters": [{"name": "Cluster1", "hosts": hosts}],
            "hosts": [{"name": h, "memory_mb": 1048576, "memory_used_mb": 65536} for h in hosts],
            "datastores": [{"name": "vmfs-01", "type": "VMFS", "capacity_gb": 65536, "free_gb": 32768}],
            "vms": vms}]},
        "asr": {
            "process_servers": [{"name": "ps-azure01", "location": "azure"}, {"name": "cs01", "location": "onprem"}],
            "master_targets": [{"vm": "mt%02d" % i} for i in range(masters)],
            "items": [{"name": name, "stage": "running_in_azure"} for name in names],
            "recovery_plans": [{"name": "rp-bench", "groups": [{"items": names[i:i + 10]}
                                                               for i in range(0, count, 10)]}],
        },
    }


def run(count):
    workdir = tempfile.mkdtemp(prefix="bench%d-" % count)
    path = os.path.join(workdir, "spec.yml")
    with open(path, "w") as handle:
        json.dump(spec(count), handle)  # JSON is YAML
    with Lab(path, workdir=workdir) as lab:
        env = dict(os.environ, **lab.env())
        env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".venv", "collections"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        extra = {"recovery_plan": "rp-bench", "failback_poll_interval": 0.5, "failback_recovery_point_delay": 0.5,
                 "failback_report_dir": os.path.join(workdir, "reports"),
                 "failback_preflight": os.environ.get("BENCH_PREFLIGHT", "true") == "true"}
        started = time.monotonic()
        proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", "localhost,",
                               "siterecovery.failback.recovery_plan", "-e", json.dumps(extra)], env=env,
                              capture_output=True, text=True, timeout=1800, check=False)
        wall = time.monotonic() - started
        stats = requests.get(lab.env()["LAB_CONTROL_URL"] + "/stats", verify=lab.env()["AZURE_CA_BUNDLE"], timeout=30).json()
        final = lab.azure.state()["items"]
    done = sum(1 for item in final.values() if item["stage"] == "reprotected_to_azure")
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)", proc.stdout)
    tasks = len(re.findall(r"^TASK \[", proc.stdout, re.M))
    calls = sum(count for route, count in stats["requests"].items() if "/subscriptions/" in route.lower())
    return {"vms": count, "wall_seconds": round(wall, 1), "tasks": tasks, "api_calls": calls,
            "api_calls_per_vm": round(calls / count, 1), "failed_back": done, "rc": proc.returncode,
            "recap": recap.group(0) if recap else None, "tail": proc.stdout[-1500:] if proc.returncode else ""}


def main():
    sizes = [int(s) for s in (sys.argv[1:] or ["10", "50", "100"])]
    rows = [run(count) for count in sizes]
    print("\n| VMs | wall time (s) | Ansible tasks | ARM API calls | calls per VM | failed back |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| %(vms)d | %(wall_seconds)s | %(tasks)d | %(api_calls)d | %(api_calls_per_vm)s | %(failed_back)d/%(vms)d |" % row)
    for row in rows:
        if row["rc"] != 0 or row["failed_back"] != row["vms"]:
            print("\nbench %d VMs did not finish (rc %s):\n%s" % (row["vms"], row["rc"], row["tail"]))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
