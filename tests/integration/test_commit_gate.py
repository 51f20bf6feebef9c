# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The commit gate on the whole lab (issue 13, item 8): the Azure VM is never deleted while a protected disk is
missing on-premises, nor while the VM is off, nor when a probe fails; bad probe options are refused before any
read; the healthy path commits once and a re-run changes nothing.

Judged from outside: the emulator's GET /_lab/state (does the Azure VM still exist, the item's stage), vCenter
through the property collector (lab.effects.vm), and the lab's call counters (CallWatch)."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from conftest import NO_MUTATIONS, lab_state, run_check_mode, run_module, vcenter_layout, watch_calls
from conftest import lab_control as control
from pyVmomi import vim

from tests.lab.effects import Site

FAST = {"poll_interval": 0.5}


def azure_vm_exists(lab, key):
    return key in lab_state(lab)["compute"]["virtual_machines"]


def stage(lab, name):
    return lab_state(lab)["items"][name]["stage"]


def vcenter_disks(lab, name):
    vm = lab.effects.vm(name)
    return sorted(d["file"] for d in vm["disks"]) if vm else None


def refused_without_change(lab, args):
    """Run the commit, expect a refusal, and prove nothing reached the lab that could change it."""
    watch = watch_calls(lab)
    rc, result = run_module("commit", dict(FAST, **args), env=lab.env())
    assert rc != 0, result
    assert watch.mutations() == NO_MUTATIONS, result
    return result


def test_a_partially_moved_failover_is_never_committed_even_with_force(full_lab):
    lab = full_lab("replicating.yml")
    # web02 (alternate location, disks of 40 and 80 GB on mt-lin01): the failover job stops right after its first
    # side effect - the first VMDK detached from the master target, attached to nothing
    control(lab, "POST", "/jobs/stop_after_effect", {"effects": 1})
    rc, failed = run_module("failover", dict(FAST, vms=["web02"]), env=lab.env())
    assert rc != 0, failed
    on_mt = [f for f in vcenter_disks(lab, "mt-lin01") if f.startswith("[vmfs-01] web02/")]
    assert on_mt == ["[vmfs-01] web02/web02_1.vmdk"], failed["msg"]
    assert on_mt == ["[vmfs-01] web02/web02_1.vmdk"]
    # the re-run of the failover creates web02 from what is left on the master target and starts it
    rc, rerun = run_module("failover", dict(FAST, vms=["web02"]), env=lab.env())
    assert rc == 0, rerun
    assert stage(lab, "web02") == "failed_back"
    assert vcenter_disks(lab, "web02") == ["[vmfs-01] web02/web02_1.vmdk"]
    assert lab.effects.vm("web02")["power_state"] == "poweredOn"

    for force in (False, True):
        result = refused_without_change(lab, {"vms": ["web02"], "force": force})
        assert "VM web02: 1 of ASR's 2 protected disk(s) attached; protected disk Disk0 (" in result["msg"], result["msg"]
        assert "40.0 GB) is not attached" in result["msg"]
        assert "re-run the failover" in result["msg"] and "force: true does not override this rule" in result["msg"]
        refusal = result["vms"][0]["refusals"]  # per-VM results at the top level on a refusal too
        assert [r["rule"] for r in refusal] == ["protected_disks_attached"] and result["refused"] == ["web02"]
        assert result["changed"] is False
        assert azure_vm_exists(lab, "rg-recovery-web/web02")
        assert stage(lab, "web02") == "failed_back"

    # check mode fails on the refusal as the real run would, with the per-VM prediction, and changes nothing
    rc, check = run_check_mode("commit", dict(FAST, vms=["web02"]), lab)
    assert rc != 0 and check["changed"] is False and check["refused"] == ["web02"], check
    assert check["predicted_stages"] == {"web02": "failed_back"} and "1 of ASR's 2 protected disk(s)" in check["msg"]
    assert [d["file"] for d in check["vms"][0]["disks"]] == [None, "[vmfs-01] web02/web02_1.vmdk"]
    assert azure_vm_exists(lab, "rg-recovery-web/web02")


def test_a_vm_powered_off_is_not_committed_even_with_force(full_lab):
    lab = full_lab("replicating.yml")
    rc, done = run_module("failover", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc == 0, done
    lab.effects.power_off("app01")
    assert lab.effects.vm("app01")["power_state"] == "poweredOff"
    for force in (False, True):
        result = refused_without_change(lab, {"vms": ["app01"], "force": force})
        assert "VM app01 is poweredOff on-premises" in result["msg"], result["msg"]
        assert [r["rule"] for r in result["vms"][0]["refusals"]] == ["onprem_vm_powered_on"]
        assert azure_vm_exists(lab, "rg-recovery/app01") and stage(lab, "app01") == "failed_back"


def nic_states(lab, name):
    """Each network adapter of VM ``name`` as vCenter reports it: ``(connected, network name)``."""
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        row = next(r for r in site.read(vim.VirtualMachine, ["name", "config.hardware.device"]) if r["name"] == name)
    finally:
        site.close()
    return [(d.connectable.connected, d.backing.deviceName) for d in row["config.hardware.device"]
            if isinstance(d, vim.vm.device.VirtualEthernetCard)]


def test_a_vm_without_a_network_adapter_is_committed_only_when_forced(full_lab):
    # new-user try of issue 14: the VM created at an alternate location had no network adapter, and passed every rule
    lab = full_lab("replicating.yml", {"asr": {"items": [{"name": "web02", "alternate_nics": 0}]}})
    rc, done = run_module("failover", dict(FAST, vms=["web02"]), env=lab.env())
    assert rc == 0, done
    rc, verified = run_module("onprem_vm", {"vms": done["verify_onprem"], "tools_timeout": 60}, env=lab.env())
    assert rc == 0, verified
    assert nic_states(lab, "web02") == [] and lab.effects.vm("web02")["power_state"] == "poweredOn"
    result = refused_without_change(lab, {"vms": ["web02"]})
    assert [r["rule"] for r in result["vms"][0]["refusals"]] == ["onprem_vm_network"], result["msg"]
    assert "VM web02 has no network adapter on-premises" in result["msg"]
    assert azure_vm_exists(lab, "rg-recovery-web/web02") and stage(lab, "web02") == "failed_back"
    rc, forced = run_module("commit", dict(FAST, vms=["web02"], force=True), env=lab.env())
    assert rc == 0 and forced["forced"] == ["web02"], forced
    assert not azure_vm_exists(lab, "rg-recovery-web/web02") and stage(lab, "web02") == "failback_committed"


def test_the_vm_created_at_an_alternate_location_has_its_adapter_connected_once_it_runs(full_lab):
    lab = full_lab("replicating.yml")
    rc, done = run_module("failover", dict(FAST, vms=["web02"]), env=lab.env())
    assert rc == 0, done
    mt = nic_states(lab, "mt-lin01")
    assert nic_states(lab, "web02") == [(True, mt[0][1])]
    lab.effects.power_off("web02")
    assert nic_states(lab, "web02") == [(False, mt[0][1])]


@pytest.mark.parametrize("checks, fragment", [
    ({"tcp": [{"host": "app01.lab", "port": "http"}]},
     "health_checks.tcp[0].port: must be a whole number (got 'http'); give the TCP port as a whole number"),
    ({"http": [{"url": "htp//app01.lab/health"}]},
     "health_checks.http[0].url: must start with http:// or https:// (got 'htp//app01.lab/health')"),
    ({"http": [{"url": "https://app01.lab:99999/health"}]}, "health_checks.http[0].url: is not a valid URL"),
], ids=["tcp-port-http", "malformed-url", "url-port"])
def test_a_bad_probe_is_refused_before_any_read_or_change(full_lab, checks, fragment):
    lab = full_lab("replicating.yml")
    rc, done = run_module("failover", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc == 0, done
    watch = watch_calls(lab)
    rc, result = run_module("commit", dict(FAST, vms=["app01"], health_checks=checks), env=lab.env())
    assert rc != 0, result
    assert result["msg"].startswith("Refusing to start the commit (nothing was read); nothing was changed."), result
    assert fragment in result["msg"], result["msg"]
    calls = watch.since()
    assert calls["arm"] == {} and not any(calls["soap"].values()), calls  # not even a read
    assert azure_vm_exists(lab, "rg-recovery/app01") and stage(lab, "app01") == "failed_back"


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def app_endpoints():
    """An HTTP server (/health answers 200, anything else 503) and a listening TCP port, standing in for the
    application on the failed-back VM."""
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield {"http": "http://127.0.0.1:%d" % server.server_address[1], "tcp": listener.getsockname()[1]}
    server.shutdown()
    listener.close()


def test_the_healthy_path_commits_once_and_a_rerun_changes_nothing(full_lab, app_endpoints, tmp_path):
    lab = full_lab("replicating.yml")
    rc, done = run_module("failover", dict(FAST, vms=["app01"]), env=lab.env())
    assert rc == 0, done
    disks = vcenter_disks(lab, "app01")
    assert disks == ["[vmfs-01] app01/app01.vmdk", "[vmfs-01] app01/app01_1.vmdk"]
    checks = {"tcp": [{"host": "127.0.0.1", "port": app_endpoints["tcp"]}],
              "http": [{"url": app_endpoints["http"] + "/health", "vm": "app01"}]}

    # a probe that does not answer as expected stops the commit; while the probes retried, the progress file named
    # the VM and the probe it waited for (what the action plugin prints every 30 s at most, issue 16)
    failing = {"http": [{"url": app_endpoints["http"] + "/down", "timeout": 2, "vm": "app01"}]}
    progress_file = str(tmp_path / "progress.json")
    result = refused_without_change(lab, {"vms": ["app01"], "health_checks": failing, "progress_file": progress_file})
    assert "health probe(s) did not answer" in result["msg"] and "status 503, expected 200" in result["msg"], result["msg"]
    with open(progress_file) as handle:
        waited = json.load(handle)["items"]
    assert waited["app01"]["what"] == "health probes" and waited["app01"]["task"] == "http %s/down" % app_endpoints["http"]
    assert azure_vm_exists(lab, "rg-recovery/app01")

    rc, check = run_check_mode("commit", dict(FAST, vms=["app01"], health_checks=checks), lab)
    assert rc == 0 and check["changed"] is True and check["refused"] == [], check
    assert check["vms"][0]["action"] == "commit" and [p["ok"] for p in check["vms"][0]["probes"]] == [True, True]
    assert azure_vm_exists(lab, "rg-recovery/app01") and stage(lab, "app01") == "failed_back"

    rc, committed = run_module("commit", dict(FAST, vms=["app01"], health_checks=checks), env=lab.env())
    assert rc == 0, committed
    assert stage(lab, "app01") == "failback_committed"
    assert not azure_vm_exists(lab, "rg-recovery/app01")
    assert vcenter_disks(lab, "app01") == disks and lab.effects.vm("app01")["power_state"] == "poweredOn"

    watch = watch_calls(lab)
    rc, again = run_module("commit", dict(FAST, vms=["app01"], health_checks=checks), env=lab.env())
    assert rc == 0 and again["changed"] is False and again["vms"][0]["action"] == "already_done", again
    assert watch.mutations() == NO_MUTATIONS


WEB02 = ["[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"]


def test_the_verification_repairs_a_vm_with_a_vmdk_of_its_own_attached_to_nothing_then_it_commits(full_lab):
    # the new-user review's case (issue 13): the re-run of a part-way failover left web02 with one of its two disks,
    # its first VMDK on the datastore attached to nothing; the on-premises verification (the role's onprem_vm step)
    # attaches it again, in disk order, and only then may the commit delete the Azure VM
    lab = full_lab("replicating.yml")
    own = {f: (capacity, uuid) for _bus, _unit, f, capacity, uuid in vcenter_layout(lab)["mt-lin01"] if f in WEB02}
    assert sorted(own) == WEB02
    control(lab, "POST", "/jobs/stop_after_effect", {"effects": 1})
    rc, failed = run_module("failover", dict(FAST, vms=["web02"]), env=lab.env())
    assert rc != 0, failed
    rc, rerun = run_module("failover", dict(FAST, vms=["web02"]), env=lab.env())
    assert rc == 0, rerun
    partway = vcenter_layout(lab)
    assert [(bus, unit, f) for bus, unit, f, _c, _u in partway["web02"]] == [(0, 0, WEB02[1])]
    assert not any(f == WEB02[0] for disks in partway.values() for _b, _u, f, _c, _i in disks)  # attached to nothing
    verify = {"vms": [{"name": "web02"}], "tools_timeout": 60}

    # check mode reports the repair (and the diff) and changes nothing
    rc, check = run_check_mode("onprem_vm", verify, lab, diff=True)
    assert rc == 0 and check["changed"] is True, check
    assert check["vms"][0]["disks_attached"] == [WEB02[0]] and check["vms"][0]["powered_off"] is True, check
    assert check["diff"]["after"] == {"web02": {"scsi0:0": WEB02[0], "scsi0:1": WEB02[1]}}, check["diff"]
    assert vcenter_layout(lab) == partway

    rc, repaired = run_module("onprem_vm", verify, env=lab.env())
    assert rc == 0, repaired
    after = vcenter_layout(lab)
    # every disk in order, each VMDK attached exactly once (none lost, none duplicated), as the same disk it was
    assert [(bus, unit, f) for bus, unit, f, _c, _u in after["web02"]] == [(0, 0, WEB02[0]), (0, 1, WEB02[1])]
    attached = [f for disks in after.values() for _b, _u, f, _c, _i in disks]
    assert [attached.count(f) for f in WEB02] == [1, 1], after
    assert {f: (capacity, uuid) for _b, _u, f, capacity, uuid in after["web02"]} == own
    vm = lab.effects.vm("web02")
    assert vm["power_state"] == "poweredOn" and vm["tools_running_status"] == "guestToolsRunning", vm
    rc, again = run_module("onprem_vm", verify, env=lab.env())
    assert rc == 0 and again["changed"] is False, again

    # the Azure VM was kept until now; the commit gate finds every protected disk and the commit goes through
    assert azure_vm_exists(lab, "rg-recovery-web/web02") and stage(lab, "web02") == "failed_back"
    rc, committed = run_module("commit", dict(FAST, vms=["web02"]), env=lab.env())
    assert rc == 0, committed
    assert stage(lab, "web02") == "failback_committed"
    assert not azure_vm_exists(lab, "rg-recovery-web/web02")
    assert vcenter_layout(lab)["web02"] == after["web02"]
