# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the unit tests' line and branch coverage per package, and hold the code that changes
things (starts ASR operations, deletes Azure VMs by commit, moves disks, takes locks, builds
request bodies and reconfigure specs) to a branch-coverage floor.

Usage: coverage_report.py COVERAGE_JSON   (the output of ``coverage json``)
Exit status 1 when a file of GATED is under FLOOR % branch coverage, or is missing.
"""

import collections
import json
import sys

FLOOR = 90.0
# Every module under plugins/module_utils/ that changes anything (a write to ARM, a vSphere
# task or the spec of one). Read-only modules are reported, not gated.
GATED = (
    "plugins/module_utils/asr/azure_vms.py",         # tag writes (run lock, item record)
    "plugins/module_utils/asr/blob_state.py",        # blob writes (run lock, item record in the blob store)
    "plugins/module_utils/asr/commit.py",            # commit: ASR deletes the Azure VMs
    "plugins/module_utils/asr/failover.py",          # failover / cancel request bodies
    "plugins/module_utils/asr/lock.py",              # the run lock
    "plugins/module_utils/asr/operations.py",        # starts every ASR operation
    "plugins/module_utils/asr/providers/classic.py",     # classic request bodies
    "plugins/module_utils/asr/providers/modernized.py",  # modernized request bodies
    "plugins/module_utils/asr/reprotect.py",         # reprotect request bodies, placement
    "plugins/module_utils/asr/runner.py",            # every ASR step: skip, refuse, act, verify
    "plugins/module_utils/domain/commit_gate.py",    # whether the Azure VM may be deleted
    "plugins/module_utils/azure/jobs.py",            # starts every ASR begin_* call, reads its job
    "plugins/module_utils/vsphere/disks.py",         # reconfigure specs for disk moves
    "plugins/module_utils/vsphere/master_target.py",  # disk moves off the master target
    "plugins/module_utils/vsphere/onprem.py",        # VM creation, power, vMotion
    "plugins/module_utils/vsphere/tasks.py",         # waits on vSphere tasks
)


def percent(covered, total):
    return 100.0 * covered / total if total else 100.0


def main(path):
    with open(path) as handle:
        files = json.load(handle)["files"]
    packages = collections.defaultdict(lambda: [0, 0, 0, 0])
    for name, data in files.items():
        summary = data["summary"]
        row = packages[name.rsplit("/", 1)[0]]
        row[0] += summary["covered_lines"]
        row[1] += summary["num_statements"]
        row[2] += summary["covered_branches"]
        row[3] += summary["num_branches"]
    print("%-40s %14s %16s" % ("package (unit tests)", "lines", "branches"))
    for package in sorted(packages):
        lines, statements, branches, arcs = packages[package]
        print("%-40s %6.1f %% %4d/%-4d %6.1f %% %4d/%-4d" % (
            package, percent(lines, statements), lines, statements, percent(branches, arcs), branches, arcs))
    print("\nfiles that change things (floor: %.0f %% branch coverage)" % FLOOR)
    low = []
    for name in GATED:
        data = files.get(name)
        if data is None:
            low.append("%s: not measured (no unit test imports it)" % name)
            continue
        summary = data["summary"]
        branch = percent(summary["covered_branches"], summary["num_branches"])
        print("%-52s %6.1f %% lines %6.1f %% branches" % (
            name, percent(summary["covered_lines"], summary["num_statements"]), branch))
        if branch < FLOOR:
            low.append("%s: %.1f %% branch coverage, under the %.0f %% floor" % (name, branch, FLOOR))
    for line in low:
        print("coverage: " + line, file=sys.stderr)
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
