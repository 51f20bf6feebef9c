# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vCenter round trips independent of the number of VMs (issue 17), counted on the lab.

The failover (its vSphere part: the replicas' disk UUIDs pinned on the master target before the job, each classic
VM's disks recorded in its failback manifest after it), onprem_vm and the commit gate each run for 2 VMs, then for 6
others of the same site; the read calls that reach the vCenter simulator (every SOAP method of
``tests.lab.calls.READ_ONLY_SOAP``: logins, property-collector reads, views, datastore searches) must be the same
for both. A change is per VM by nature (a reconfigure writes one VM's extraConfig) and is counted as such.

The launcher counts every SOAP call by method (``GET /_lab/soap-calls``); the lab's own side effects of ASR's jobs
run in this process through pyVmomi, so they are counted here (:func:`own_calls`) and left out. The end state is
read from vCenter through the property collector (``tests.lab.effects.Site``), not from the modules' reports.
"""

import collections
import contextlib
import json
from unittest import mock

from conftest import run_module, watch_calls
from pyVmomi import vim
from pyVmomi.SoapAdapter import SoapStubAdapter

from tests.lab.calls import READ_ONLY_SOAP
from tests.lab.effects import Site

MANIFEST_KEY = "siterecovery.failback.disks"
FIRST = ["vm01", "vm02"]
OTHERS = ["vm03", "vm04", "vm05", "vm06", "vm07", "vm08"]
TIMINGS = {"job_seconds": 0.2, "retry_after_seconds": 0, "initial_replication_seconds": 0,
           "recovery_point_seconds": 0.2, "agent_registration_seconds": 0}


def spec(names):
    """A site of classic VMs (2 disks each) whose disks sit on one master target, replicating to on-premises, none
    carrying a failback manifest (so the failover records each VM's disks)."""
    hosts = ["esx01.lab", "esx02.lab"]
    vms = [{"name": "mt01", "host": hosts[0], "guest_id": "windows2019srv_64Guest", "memory_mb": 8192,
            "extra_config": {"disk.EnableUUID": "TRUE"}, "disks": [{"size_gb": 40}]}]
    vms += [{"name": name, "host": hosts[index % 2], "guest_id": "windows2019srv_64Guest", "memory_mb": 1024,
             "num_cpu": 1, "disks": [{"size_gb": 20}, {"size_gb": 10}]} for index, name in enumerate(names)]
    return {"name": "round-trips", "timings": TIMINGS,
            "vcenter": {"datacenters": [{
                "name": "DC1", "clusters": [{"name": "Cluster1", "hosts": hosts}],
                "hosts": [{"name": host, "memory_mb": 262144} for host in hosts],
                "datastores": [{"name": "vmfs-01", "type": "VMFS", "capacity_gb": 4096, "free_gb": 2048}],
                "vms": vms}]},
            "asr": {"master_targets": [{"vm": "mt01"}],
                    "items": [{"name": name, "stage": "replicating_to_onprem", "master_target": "mt01",
                               "failback_manifest": False} for name in names]}}


@contextlib.contextmanager
def own_calls():
    """The SOAP calls this process makes meanwhile (the lab's side effects of ASR's jobs), by method."""
    counts = collections.Counter()
    original = SoapStubAdapter.InvokeMethod

    def counting(self, mo, info, args, outerStub=None):
        counts[info.wsdlName] += 1
        return original(self, mo, info, args, outerStub)

    with mock.patch.object(SoapStubAdapter, "InvokeMethod", counting):
        yield counts


def run_counted(lab, module, args):
    """Run ``module``; return ``(result, {method: calls of the module to vCenter}, {method: reads of them})``."""
    with own_calls() as lab_made:
        watch = watch_calls(lab)
        rc, result = run_module(module, args, env=lab.env())
        seen = watch.since()["soap"]["vcenter"]
    assert rc == 0, result
    made = {method: count - lab_made.get(method, 0) for method, count in seen.items()
            if count - lab_made.get(method, 0) > 0}
    return result, made, {method: count for method, count in made.items() if method in READ_ONLY_SOAP}


def manifests(lab):
    """``{VM name: [files its failback manifest lists]}`` read from vCenter (None: it carries none)."""
    site = Site("vcenter", lab.simulators["vcenter"].info)
    try:
        rows = site.read(vim.VirtualMachine, ["name", "config.extraConfig"])
    finally:
        site.close()
    result = {}
    for row in rows:
        options = {o.key: o.value for o in row.get("config.extraConfig") or []}
        result[row["name"]] = ([e["file"] for e in json.loads(options[MANIFEST_KEY])]
                               if MANIFEST_KEY in options else None)
    return result


def test_vcenter_reads_of_the_failover_onprem_vm_and_the_commit_gate_do_not_grow_with_the_vms(full_lab, tmp_path):
    path = tmp_path / "round-trips.json"
    path.write_text(json.dumps(spec(FIRST + OTHERS)))
    lab = full_lab(str(path))
    assert {name for name, files in manifests(lab).items() if files} == set()

    # the failover: one pin per master target and one record per VM are writes; the reads stay the same
    _result, made_2, reads_2 = run_counted(lab, "failover", {"vms": FIRST, "poll_interval": 0.5})
    _result, made_6, reads_6 = run_counted(lab, "failover", {"vms": OTHERS, "poll_interval": 0.5})
    assert reads_6 == reads_2, (reads_2, reads_6)
    assert (made_2.get("ReconfigVM_Task"), made_6.get("ReconfigVM_Task")) == (1 + 2, 1 + 6)
    recorded = manifests(lab)
    for name in FIRST + OTHERS:
        assert recorded[name] == ["[vmfs-01] %s/%s.vmdk" % (name, name), "[vmfs-01] %s/%s_1.vmdk" % (name, name)]

    # onprem_vm verifies them (nothing left to change) and the commit gate reads them, each in one inventory read
    _result, made_2, reads_2 = run_counted(lab, "onprem_vm", {"vms": [{"name": name} for name in FIRST]})
    _result, made_6, reads_6 = run_counted(lab, "onprem_vm", {"vms": [{"name": name} for name in OTHERS]})
    assert reads_6 == reads_2 and made_2 == reads_2 and made_6 == reads_6, (made_2, made_6)
    assert reads_2.get("RetrievePropertiesEx"), reads_2
    # the commit gate in check mode (it reads vCenter as the real run does, and changes nothing)
    with own_calls() as lab_made:
        watch = watch_calls(lab)
        rc_2, check_2 = run_module("commit", {"vms": FIRST, "poll_interval": 0.5}, env=lab.env(), check=True)
        reads_2 = watch.since()["soap"]["vcenter"]
        watch = watch_calls(lab)
        rc_6, check_6 = run_module("commit", {"vms": OTHERS, "poll_interval": 0.5}, env=lab.env(), check=True)
        reads_6 = watch.since()["soap"]["vcenter"]
    assert rc_2 == 0 and rc_6 == 0, (check_2, check_6)
    assert not lab_made  # no job ran, so nothing of the lab's own
    assert reads_6 == reads_2 and set(reads_2) <= READ_ONLY_SOAP and reads_2.get("RetrievePropertiesEx"), reads_2
    assert [vm["refusals"] for vm in check_6["vms"]] == [[]] * len(OTHERS), check_6
