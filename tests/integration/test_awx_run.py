# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A run AWX can live with (issue 16, point 3), on the lab: the collection installed from its built artifact on a
read-only file system writes its reports to the configured absolute place; under ansible-runner (AWX's engine)
with an idle timeout shorter than a held ASR job the run is not killed, its progress lines are events of the job
naming each VM's stage, ASR job and task, and its reports are in the job's artifacts. End state is judged from
outside: the emulator's stages, the files on disk, ansible-runner's artifacts."""

import glob
import json
import os
import re
import subprocess
import sys
import threading
import time

import ansible_runner
import pytest
from conftest import ROOT, lab_control, lab_requests, playbook_command, wait_until

FINAL = "reprotected_to_azure"
PROGRESS = "[failback progress] "


def stages(lab):
    return {name: item["stage"] for name, item in lab.azure.state()["items"].items()}


def run_vars(**extra):
    base = {"vms": ["app01"], "poll_interval": 0.5, "recovery_point_delay": 1}
    base.update(extra)
    return {"original_location_" + key: value for key, value in base.items()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection as a user gets it: built with ansible-galaxy and installed from the tarball into a scratch
    collections path (tests/tools/build.sh builds it the same way)."""
    work = tmp_path_factory.mktemp("artifact")
    galaxy = os.path.join(sys.prefix, "bin", "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--output-path", str(work / "dist"), ROOT], check=True,
                   capture_output=True)
    [tarball] = glob.glob(str(work / "dist" / "siterecovery-failback-*.tar.gz"))
    subprocess.run([galaxy, "collection", "install", "--offline", "-p", str(work / "collections"), tarball],
                   check=True, capture_output=True, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(work / "collections")))
    return str(work / "collections")


def test_a_read_only_collection_writes_its_reports_to_the_configured_absolute_place(full_lab, installed, tmp_path):
    """issue 16: with the collection on a read-only file system the run stopped at the preflight
    (``Read-only file system: b'./failback-reports'``) and the report role failed too. The installed copy is
    bound read-only (a private mount namespace; root ignores file modes) and the run goes from a working directory
    that is not the report directory."""
    lab = full_lab("default.yml")
    reports = tmp_path / "reports"
    workdir = tmp_path / "work"
    workdir.mkdir()
    argv, env = playbook_command("original_location", run_vars(report_dir=str(reports), preflight=True), lab.env())
    env["ANSIBLE_COLLECTIONS_PATH"] = installed
    env["HOME"] = str(tmp_path / "home")
    script = 'mount --bind -o ro "$0" "$0" && touch "$0/probe" 2>/dev/null && exit 97; exec "$@"'
    # the failover job of app01 waits until a progress line naming it is in ansible-playbook's output
    lab_control(lab, "POST", "/jobs/hold", {"item": "app01", "at_task": 1, "scenario": "UnplannedFailover"})
    argv = [*argv, "-e", json.dumps({"failback_progress_interval": 1})]
    proc = subprocess.Popen(["unshare", "-rm", "sh", "-c", script, installed, *argv], env=env, cwd=str(workdir),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any(PROGRESS + "app01: failover - waiting for ASR job, job " in line for line in lines)
                   or proc.poll() is not None, "a progress line of the held failover", seconds=600)
    finally:
        lab_control(lab, "POST", "/jobs/release", {})
        proc.wait(timeout=900)
        reader.join(60)
    out = "".join(lines)
    assert proc.returncode != 97, "the collection path was writable: the test proves nothing"
    assert proc.returncode == 0, out[-4000:]
    assert any(line.startswith(PROGRESS + "app01: failover - waiting for ASR job, job ") and ", task '" in line
               for line in lines), out[-4000:]
    assert "Read-only file system" not in out
    assert stages(lab)["app01"] == FINAL
    names = sorted(os.listdir(reports))
    run_files = [name for name in names if name.startswith("original-location-")]
    assert sorted(name.rsplit(".", 1)[1] for name in run_files) == ["html", "json", "md"], names
    assert sorted(name.rsplit(".", 1)[1] for name in names if name.startswith("preflight-")) == ["json", "md"], names
    report = json.loads((reports / next(n for n in run_files if n.endswith(".json"))).read_text())
    assert report["run"]["result"] == "success" and [vm["name"] for vm in report["vms"]] == ["app01"]
    # the run's id ends every file name, so a second run in the same directory never overwrites these
    run_id = run_files[0][:-len(".html")].split("Z-", 1)[1]
    assert run_id.startswith("run-") and all(name.endswith((run_id + ".json", run_id + ".md", run_id + ".html"))
                                             for name in names), names
    assert os.listdir(workdir) == []  # nothing written where ansible-playbook ran: the configured place was used
    # the preflight playbook alone, nothing configured: where ansible-playbook runs, never the playbook's directory
    argv, env2 = playbook_command("preflight", {"preflight_vms": ["app01"]}, lab.env())
    env.update({key: value for key, value in env2.items() if key.startswith(("VMWARE_", "AZURE_"))})
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script, installed, *argv], env=env, cwd=str(workdir),
                          capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 97 and "Read-only file system" not in out, out[-4000:]
    found = sorted(os.listdir(workdir / "failback-reports"))
    assert [name.rsplit(".", 1)[1] for name in found] == ["json", "md"] and found[0].startswith("preflight-run-"), found
    assert not glob.glob(os.path.join(installed, "**", "failback-reports"), recursive=True)


def guide_files():
    """``{path: text}`` of the files docs/awx.md gives (a ``<!-- file: path -->`` line before a yaml code block)."""
    with open(os.path.join(ROOT, "docs", "awx.md")) as handle:
        guide = handle.read()
    found = dict(re.findall(r"<!-- file: (\S+) -->\n```yaml\n(.*?)```", guide, flags=re.S))
    assert set(found) == {"project/failback.yml", "inventory/dr.replicated_items.yml"}, found
    return found


def progress_events(events):
    return [event for event in events if event.get("event") == "verbose" and PROGRESS in (event.get("stdout") or "")]


def test_under_ansible_runner_an_idle_timeout_shorter_than_a_stage_does_not_kill_the_run(full_lab, tmp_path):
    """AWX's engine kills a job that prints nothing for idle_timeout seconds. The job's inventory is the plugin's
    (one host per replicated item) and it runs on two of them. The failover job of app01 is held
    (POST /jobs/hold) for more than three idle timeouts: the run prints a progress line per VM every 2 s, is not
    killed, and finishes; the lines are events of the job naming the VM, the stage, the held ASR job (name and ARM
    id), its task and the time elapsed; the reports are in the job's artifact directory (no report_dir given)."""
    lab = full_lab("default.yml")
    idle = 8
    private = tmp_path / "private"
    # docs/awx.md's project playbook and inventory source, as the guide gives them
    for name, text in guide_files().items():
        (private / name).parent.mkdir(parents=True, exist_ok=True)
        (private / name).write_text(text)
    _argv, env = playbook_command("original_location", {}, lab.env())
    env["HOME"] = str(tmp_path / "home")
    # the job template's inventory source is the collection's inventory plugin, one host per replicated item; the
    # job runs on two of them (--limit), which are the run's VMs (no original_location_vms)
    lab_control(lab, "POST", "/jobs/hold", {"item": "app01", "at_task": 1, "scenario": "UnplannedFailover"})
    extravars = {key: value for key, value in run_vars(preflight=True).items() if key != "original_location_vms"}
    thread, runner = ansible_runner.run_async(
        private_data_dir=str(private), playbook="failback.yml", ident="awx-1", envvars=env, quiet=True,
        inventory=str(private / "inventory" / "dr.replicated_items.yml"), limit="app01,web01",
        extravars=dict(extravars, failback_progress_interval=2), settings={"idle_timeout": idle})
    held = []
    try:
        wait_until(lambda: any(k.startswith("POST ") and k.endswith("/unplannedFailover") for k in lab_requests(lab)),
                   "the failover started", seconds=600)
        wait_until(lambda: held.extend(job for job in lab.azure.world.jobs.values() if job.held.is_set()) or held,
                   "the failover job held")
        # the hold outlasts three idle timeouts (a wait, not an assertion: the events' times are checked below)
        time.sleep(3 * idle + 2)
    finally:
        lab_control(lab, "POST", "/jobs/release", {})
        thread.join(900)
    assert runner.status == "successful" and runner.rc == 0, (runner.status, runner.rc)
    assert stages(lab)["app01"] == FINAL and stages(lab)["web01"] == FINAL
    assert stages(lab)["web03"] == "running_in_azure"  # in the inventory, outside the --limit: untouched
    job = held[0]
    assert job.scenario == "UnplannedFailover" and job.target_name == "app01"
    events = list(runner.events)
    lines = [event["stdout"] for event in progress_events(events)]
    mine = [line for line in lines if "app01: failover - waiting for ASR job, job %s (" % job.name in line]
    assert len(mine) >= 3, lines
    assert any(job.name in line and "/replicationJobs/%s)" % job.name in line and ", task '" in line
               and "InProgress" in line for line in mine), mine
    # the held stage lasted longer than the idle timeout: the first and last line of it are that far apart
    held_events = [event for event in progress_events(events) if job.name in event["stdout"]]
    first, last = (time.mktime(time.strptime(event["created"][:19], "%Y-%m-%dT%H:%M:%S")) for event in
                   (held_events[0], held_events[-1]))
    assert last - first > idle, (held_events[0]["created"], held_events[-1]["created"])
    # each line's elapsed time grows while the job is held (one VM, one job: the lines are in order)
    elapsed = [line.rsplit(", ", 1)[1] for line in mine]
    assert elapsed[-1] != elapsed[0], elapsed
    # the events are in the job's artifacts, where AWX reads them
    on_disk = [json.loads(path.read_text()) for path in (private / "artifacts" / "awx-1" / "job_events").glob("*.json")]
    assert len(progress_events(on_disk)) == len(progress_events(events))
    reports = private / "artifacts" / "awx-1" / "failback-reports"
    names = sorted(os.listdir(reports))
    assert sorted(name.rsplit(".", 1)[1] for name in names if name.startswith("original-location-")) == [
        "html", "json", "md"], names
    assert sorted(name.rsplit(".", 1)[1] for name in names if name.startswith("preflight-")) == ["json", "md"], names
    assert not (private / "project" / "failback-reports").exists()
    # per-host events per VM: each VM's host has its own outcome (AWX's host summary), the controller none
    outcome = {event["event_data"]["host"]: event["event"] for event in events
               if event.get("event", "").startswith("runner_on_")
               and event["event_data"].get("task", "").startswith("Per VM - this host's VM failed back")}
    assert outcome == {"app01": "runner_on_ok", "web01": "runner_on_ok"}, outcome
    stats = [event for event in events if event.get("event") == "playbook_on_stats"]
    assert {"app01", "web01"} <= set(stats[-1]["event_data"]["ok"]) and not stats[-1]["event_data"]["failures"]
    assert stats and "failback_report" in json.dumps(stats[-1]["event_data"].get("artifact_data", {}))
