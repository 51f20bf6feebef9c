# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The same playbooks and modules on ASR's modernized flow (replication appliance)."""

import re

from conftest import run_check_mode, run_module, run_playbook

LOG = ("/subscriptions/00000000-0000-4000-8000-000000000003/resourceGroups/rg-dr/providers/"
       "Microsoft.Storage/storageAccounts/failbacklog")
FINAL = "reprotected_to_azure"


def stages(lab):
    return {name: item["stage"] for name, item in lab.azure.state()["items"].items()}


def recap(output, host="localhost"):
    """The PLAY RECAP counters of ``host``: {"ok": n, "changed": n, "unreachable": n, "failed": n, ...}."""
    assert "PLAY RECAP" in output, output[-3000:]
    line = re.search(r"^%s\s+:\s+(.*)$" % re.escape(host), output.rsplit("PLAY RECAP", 1)[1], re.MULTILINE)
    assert line, output[-3000:]
    return {name: int(value) for name, value in re.findall(r"(\w+)=(\d+)", line.group(1))}


def test_original_and_alternate_location_playbooks_on_the_modernized_flow(full_lab, tmp_path):
    lab = full_lab("modernized.yml")
    common = {"poll_interval": 0.5, "recovery_point_delay": 1, "report_dir": str(tmp_path), "log_storage_account_id": LOG}
    original = {"original_location_" + k: v for k, v in dict(common, vms=["app01"], datastore="vmfs-01").items()}
    rc, out = run_playbook("original_location", original, lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["app01"] == FINAL
    assert lab.effects.vm("app01")["power_state"] == "poweredOn"
    rc, again = run_playbook("original_location", original, lab.env())
    assert rc == 0, again[-2000:]
    counters = recap(again)
    assert (counters["changed"], counters["failed"]) == (0, 0), again[-2000:]
    alternate = {"alternate_location_" + k: v for k, v in dict(common, vms=["web02"], datastore="vmfs-01").items()}
    rc, out = run_playbook("alternate_location", alternate, lab.env())
    assert rc == 0, out[-4000:]
    assert stages(lab)["web02"] == FINAL
    assert lab.effects.vm("web02")["power_state"] == "poweredOn"


def test_planned_failover_then_cancel_then_failover_again(full_lab):
    lab = full_lab("modernized.yml")
    env = lab.env()
    reprotect = {"vms": ["app01"], "direction": "to_onprem", "datastore": "vmfs-01", "log_storage_account_id": LOG,
                 "poll_interval": 0.5}
    rc, check = run_check_mode("reprotect", reprotect, lab)
    assert rc == 0 and check["changed"] is True and stages(lab)["app01"] == "running_in_azure", check
    rc, result = run_module("reprotect", reprotect, env=env)
    assert rc == 0, result
    # both appliances reach vmfs-01 and replicate nothing yet: the fewest protected items, then the name, decide
    assert result["vms"][0]["appliance"] == "appl01"
    rc, again = run_module("reprotect", reprotect, env=env)
    assert rc == 0 and again["changed"] is False, again
    rc, result = run_module("failover", {"vms": ["app01"], "recovery_point": "some-point", "poll_interval": 0.5}, env=env)
    assert rc != 0 and "planned failover to the latest crash- or application-consistent point" in result["msg"]
    rc, check = run_check_mode("failover", {"vms": ["app01"], "poll_interval": 0.5}, lab)
    assert rc == 0 and check["changed"] is True and stages(lab)["app01"] == "replicating_to_onprem", check
    rc, result = run_module("failover", {"vms": ["app01"], "poll_interval": 0.5}, env=env)
    assert rc == 0, result
    assert result["vms"][0]["stage_after"] == "failed_back" and result["vms"][0]["job"]["scenario"]
    rc, again = run_module("failover", {"vms": ["app01"], "poll_interval": 0.5}, env=env)
    assert rc == 0 and again["changed"] is False, again
    rc, check = run_check_mode("failover", {"vms": ["app01"], "cancel": True, "poll_interval": 0.5}, lab)
    assert rc == 0 and check["changed"] is True and stages(lab)["app01"] == "failed_back"
    rc, cancelled = run_module("failover", {"vms": ["app01"], "cancel": True, "poll_interval": 0.5}, env=env)
    assert rc == 0, cancelled
    assert cancelled["vms"][0]["stage_after"] == "replicating_to_onprem"
    assert lab.effects.vm("app01")["power_state"] == "poweredOff"
    rc, again = run_module("failover", {"vms": ["app01"], "cancel": True, "poll_interval": 0.5}, env=env)
    assert rc == 0 and again["changed"] is False
    rc, result = run_module("failover", {"vms": ["app01"], "poll_interval": 0.5}, env=env)
    assert rc == 0 and result["vms"][0]["stage_after"] == "failed_back", result


def test_classic_failback_cannot_be_cancelled(full_lab):
    lab = full_lab("replicating.yml")
    env = lab.env()
    rc, result = run_module("failover", {"vms": ["app01"], "poll_interval": 0.5}, env=env)
    assert rc == 0, result
    rc, result = run_module("failover", {"vms": ["app01"], "cancel": True, "poll_interval": 0.5}, env=env)
    assert rc != 0 and "classic flow, whose failback cannot be cancelled" in result["msg"]
    assert stages(lab)["app01"] == "failed_back"


def test_readiness_applies_the_appliance_rules(full_lab):
    lab = full_lab("modernized-appliance-unhealthy.yml")
    rc, result = run_module("readiness", {"vms": ["app01"], "location": "original", "datastore": "vmfs-01"},
                            env=lab.env())
    assert rc == 0, result
    rules = {f["rule"] for f in result["findings"] if f["vm"] == "app01"}
    assert "modernized_guest_changes" in rules
    assert not {r for r in rules if r.startswith(("mt_", "master_target"))}, rules


def test_failed_verification_cancels_the_failback_only_when_asked(full_lab, tmp_path):
    # app01's guest has no VMware Tools: after the failback it never reports Tools running
    lab = full_lab("modernized.yml", overrides={"vcenter": {"datacenters": [
        {"name": "DC1", "vms": [{"name": "app01", "tools_status": "toolsNotInstalled"}]}]}})
    args = {"original_location_" + k: v for k, v in {
        "vms": ["app01"], "datastore": "vmfs-01", "log_storage_account_id": LOG, "poll_interval": 0.5,
        "recovery_point_delay": 1, "report_dir": str(tmp_path), "tools_timeout": 3, "cancel_on_failure": True,
        "preflight": False}.items()}  # the preflight would stop it first (rule onprem_tools): this is the way back
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc != 0
    assert "The failback was cancelled" in out, out[-3000:]
    assert stages(lab)["app01"] == "replicating_to_onprem"
    assert lab.effects.vm("app01")["power_state"] == "poweredOff"
    # without cancel_on_failure the failback stays (not committed, the Azure VM kept) for a fix and a re-run
    rc, out = run_playbook("original_location", dict(args, original_location_cancel_on_failure=False), lab.env())
    assert rc != 0
    assert "the failback is not committed; the Azure VMs are kept" in out, out[-3000:]
    assert stages(lab)["app01"] == "failed_back"


def test_a_run_stopped_before_the_commit_is_resumed_on_the_modernized_flow(full_lab, tmp_path):
    lab = full_lab("modernized.yml")
    args = {"original_location_" + k: v for k, v in {
        "vms": ["app01"], "datastore": "vmfs-01", "log_storage_account_id": LOG, "poll_interval": 0.5,
        "recovery_point_delay": 1, "report_dir": str(tmp_path)}.items()}
    rc, out = run_playbook("original_location", dict(args, original_location_commit=False), lab.env())
    assert rc == 0, out[-3000:]
    assert stages(lab)["app01"] == "failed_back"
    rc, out = run_playbook("original_location", args, lab.env())
    assert rc == 0, out[-3000:]
    assert stages(lab)["app01"] == FINAL
