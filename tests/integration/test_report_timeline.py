# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTML report of a recovery-plan failback (issue 16): its SVG timeline's bars stand where the ASR jobs ran, as
the emulator's job list shows them (not the module's report), the plan is named, each VM has its own RTO; a failed
run shows the failure in red, names the failed task and says what to do next."""

import datetime
import glob
import json
import xml.etree.ElementTree as ET

from conftest import lab_control, run_playbook

SVG = "{http://www.w3.org/2000/svg}"
PLAN = "rp-app"
SLOW = {"timings": {"job_seconds": 1.5}}  # jobs long enough to be bars, not slivers


def run_plan(lab, tmp_path):
    """Fail back the plan, the custom stats (set_stats: what AWX keeps as the job's artifacts) printed at the end."""
    return run_playbook("recovery_plan", {"recovery_plan": PLAN, "failback_poll_interval": 0.5,
                                          "failback_recovery_point_delay": 1, "failback_preflight": False,
                                          "failback_report_dir": str(tmp_path / "reports")},
                        dict(lab.env(), ANSIBLE_SHOW_CUSTOM_STATS="true"))


def custom_stats(lab, out):
    """The run's custom stats as printed, checked to hold no secret of the lab's environment."""
    assert "CUSTOM STATS" in out, out[-2000:]
    stats = out[out.index("CUSTOM STATS"):]
    env = lab.env()
    for name in ("AZURE_SECRET", "VMWARE_PASSWORD", "AZURE_CLIENT_ID", "AZURE_TENANT"):
        assert env[name] not in stats, name
    return stats


def report_files(tmp_path):
    html = sorted(glob.glob(str(tmp_path / "reports" / "*.html")))
    assert len(html) == 1, html
    base = html[0][:-len(".html")]
    with open(html[0]) as handle:
        page = handle.read()
    with open(base + ".md") as handle:
        markdown = handle.read()
    return page, markdown


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_json(tmp_path):
    with open(glob.glob(str(tmp_path / "reports" / "*.json"))[0]) as handle:
        return json.load(handle)


def svg_of(page):
    start = page.index("<svg")
    end = page.index("</svg>") + len("</svg>")
    return ET.fromstring(page[start:end])


def asr(lab):
    """The Site Recovery client bound to the emulator, as any Azure client would be."""
    from azure.identity import ClientSecretCredential
    from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient
    env = lab.env()
    credential = ClientSecretCredential(env["AZURE_TENANT"], env["AZURE_CLIENT_ID"], env["AZURE_SECRET"],
                                        authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
                                        connection_verify=env["AZURE_CA_BUNDLE"])
    return SiteRecoveryManagementClient(credential, env["AZURE_SUBSCRIPTION_ID"], base_url=env["AZURE_ARM_ENDPOINT"],
                                        credential_scopes=[env["AZURE_ARM_ENDPOINT"].rstrip("/") + "/.default"],
                                        connection_verify=env["AZURE_CA_BUNDLE"])


def emulator_jobs(lab):
    env = lab.env()
    client = asr(lab)
    rg, vault = env["AZURE_SITE_RECOVERY_RESOURCE_GROUP"], env["AZURE_SITE_RECOVERY_VAULT"]
    # the list leaves each job's tasks and errors empty (as ASR's does): its GET has them
    return {job.name: client.replication_jobs.get(rg, vault, job.name)
            for job in client.replication_jobs.list(rg, vault)}, client


def boot_groups(lab, client):
    """{VM name: boot group number} from the emulator's recovery plan (its Boot groups in order)."""
    env = lab.env()
    plan = client.replication_recovery_plans.get(env["AZURE_SITE_RECOVERY_RESOURCE_GROUP"],
                                                 env["AZURE_SITE_RECOVERY_VAULT"], PLAN)
    items = {item.name.lower(): item.properties.friendly_name for item in client.replication_protected_items.list(
        env["AZURE_SITE_RECOVERY_RESOURCE_GROUP"], env["AZURE_SITE_RECOVERY_VAULT"])}
    groups, number = {}, 0
    for group in plan.properties.groups:
        if getattr(group.group_type, "value", group.group_type) == "Boot":
            number += 1
            for member in group.replication_protected_items or []:
                groups[items[member.id.rstrip("/").rsplit("/", 1)[-1].lower()]] = number
    return groups


def axis(svg):
    """``x(epoch)`` from the axis' own tick labels: two labelled ticks fix the offset and the scale."""
    texts = [t for t in svg.iter(SVG + "text") if t.get("class") == "tick-label"]
    assert len(texts) >= 2, "the axis needs at least two ticks"
    first = datetime.datetime.strptime(texts[0].text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    second_label = texts[1].text.split(" ")[-1]
    second = datetime.datetime.combine(first.date(), datetime.datetime.strptime(second_label, "%H:%M:%S").time(),
                                       tzinfo=datetime.timezone.utc)
    if second < first:  # the second tick is on the next day
        second += datetime.timedelta(days=1)
    x1, x2 = float(texts[0].get("x")), float(texts[1].get("x"))
    scale = (x2 - x1) / (second - first).total_seconds()
    return scale, lambda epoch: x1 + (epoch - first.timestamp()) * scale


def bars_by_vm(svg):
    rows = {}
    for group in svg.iter(SVG + "g"):
        if group.get("class") == "row":
            rows[group.get("data-vm")] = [r for r in group.iter(SVG + "rect") if "bar" in (r.get("class") or "").split()]
    return rows


def test_the_timeline_of_a_recovery_plan_run_places_every_job_at_its_time(full_lab, tmp_path):
    lab = full_lab("default.yml", SLOW)
    rc, out = run_plan(lab, tmp_path)
    assert rc == 0, out[-4000:]
    page, markdown = report_files(tmp_path)
    svg = svg_of(page)
    jobs, client = emulator_jobs(lab)
    scale, x_of = axis(svg)
    rows = bars_by_vm(svg)
    assert sorted(rows) == ["app01", "app02", "db01", "web01"]
    for vm, bars in rows.items():
        assert len(bars) == 4, (vm, [b.attrib for b in bars])  # reprotect, failover (the plan's), commit, reprotect
        for rect in bars:
            job = jobs[rect.get("data-job")]
            start, end = job.properties.start_time.timestamp(), job.properties.end_time.timestamp()
            assert abs(float(rect.get("x")) - x_of(start)) < 0.5, (vm, rect.get("data-stage"), rect.get("x"), x_of(start))
            assert abs(float(rect.get("data-width")) - (end - start) * scale) < 0.5, (vm, rect.get("data-stage"))
        stages = [b.get("data-stage") for b in bars]
        assert stages == ["reprotect_to_onprem", "failover_to_onprem", "commit", "reprotect_to_azure"], stages
    # every VM's failover bar is the plan's one failover job
    failover = {b.get("data-job") for bars in rows.values() for b in bars if b.get("data-stage") == "failover_to_onprem"}
    assert len(failover) == 1 and jobs[failover.pop()].properties.scenario_name == "UnplannedFailover"
    # rows in boot order, under their boot group's heading
    groups = boot_groups(lab, client)
    order = [g.get("data-vm") for g in svg.iter(SVG + "g") if g.get("class") == "row"]
    assert [groups[vm] for vm in order] == sorted(groups[vm] for vm in order) and set(groups.values()) == {1, 2}
    headings = [t.text for t in svg.iter(SVG + "text") if t.get("class") == "group"]
    assert headings == ["Boot group 1", "Boot group 2"]
    # the plan is named; each VM has its own RTO: its failover's start to its boot group's start task's end
    assert "recovery plan <strong>%s</strong>" % PLAN in page and "Recovery plan: **%s**" % PLAN in markdown
    plan_job = next(j for j in jobs.values() if j.properties.scenario_name == "UnplannedFailover")
    group_end = {int(t.friendly_name.split()[1].rstrip(":")): t.end_time.timestamp()
                 for t in plan_job.properties.tasks if t.friendly_name.startswith("Group ")}
    report = report_json(tmp_path)
    rto = {vm["name"]: vm["rto_seconds"] for vm in report["vms"]}
    for vm, number in groups.items():
        expected = group_end[number] - plan_job.properties.start_time.timestamp()
        assert abs(rto[vm] - expected) <= 0.11, (vm, rto[vm], expected)
    assert max(rto[vm] for vm in groups if groups[vm] == 1) < min(rto[vm] for vm in groups if groups[vm] == 2)
    for vm in groups:
        assert "<td class=\"n\">%s s</td>" % rto[vm] in page and "| %s |" % rto[vm] in markdown
    # the outage, per VM: from the plan job's start to its boot group's start, in words and shaded
    for vm, number in groups.items():
        window = "%s to %s" % (iso(plan_job.properties.start_time.timestamp()), iso(group_end[number]))
        assert window in page and window in markdown, (vm, window)
    outages = {r.get("data-vm"): r for r in svg.iter(SVG + "rect") if r.get("class") == "outage"}
    for vm, number in groups.items():
        assert abs(float(outages[vm].get("x")) - x_of(plan_job.properties.start_time.timestamp())) < 0.5
        expected = (group_end[number] - plan_job.properties.start_time.timestamp()) * scale
        assert abs(float(outages[vm].get("width")) - expected) < 0.5 + 0.1 * scale, vm
    assert "FAILED" not in page and 'class="alert"' not in page
    # AWX's artifacts: the short form, with the plan, each VM's RTO and the report's files
    stats = custom_stats(lab, out)
    assert "'failback_report'" in stats or '"failback_report"' in stats, stats[:2000]
    assert PLAN in stats and "next_action" in stats and str(tmp_path / "reports") in stats
    assert "'stages'" not in stats and '"stages"' not in stats  # the short form, not the whole report


def test_a_failed_plan_run_shows_the_failure_in_red_the_failed_task_and_the_next_action(full_lab, tmp_path):
    lab = full_lab("default.yml")
    # the plan's next job (its failover: the reprotects run per item) fails at its 4th task, "Group 2: Start"
    lab_control(lab, "POST", "/jobs/fail", {"plan": PLAN, "at_task": 4, "code": "LabInjectedFailure",
                                            "message": "injected: the boot group did not start"})
    rc, out = run_plan(lab, tmp_path)
    assert rc != 0, out[-3000:]
    page, markdown = report_files(tmp_path)
    jobs, _client = emulator_jobs(lab)
    plan_job = next(j for j in jobs.values() if j.properties.scenario_name == "UnplannedFailover")
    assert plan_job.properties.state == "Failed"
    failed_task = next(t.friendly_name for t in plan_job.properties.tasks if t.state == "Failed")
    state = lab_control(lab, "GET", "/state")["items"]
    alert = page[page.index('<div class="alert">'):page.index("</div>")]
    assert "FAILED at: Stop - the failover to on-premises failed" in alert
    assert "task &laquo;%s&raquo; failed" % failed_task in alert and "injected: the boot group did not start" in alert
    svg = svg_of(page)
    failed_bars = [r for r in svg.iter(SVG + "rect") if "failed" in (r.get("class") or "").split()]
    assert failed_bars and all(r.get("fill") == "#c62828" and r.get("data-job") == plan_job.name for r in failed_bars)
    for vm in ("app01", "web01"):  # boot group 2: its Azure VM is the running copy, the failback not committed
        assert state[vm]["stage"] != "failed_back"
        item = alert[alert.index("<strong>%s</strong>" % vm):]
        item = item[:item.index("</li>")]
        assert "Azure VM (still exists" in item and "not committed" in item, item
        assert "Next: <strong>Fix what failed at %s" % failed_task in item and "re-run the playbook" in item, item
        assert "**%s** - **failover_to_onprem (task \"%s\") failed**" % (vm, failed_task) in markdown
    report = report_json(tmp_path)
    # the outage: ended for boot group 1 (ASR started db01 and app02 on-premises), still open for boot group 2
    rows = {}
    for line in markdown.splitlines():  # a VM's first row: the table of where each VM stands
        if line.startswith("| "):
            rows.setdefault(line.split(" | ")[0].lstrip("| "), line)
    group_end = {t.friendly_name: t.end_time.timestamp() for t in plan_job.properties.tasks}
    for vm in ("db01", "app02"):
        assert "%s to %s" % (iso(plan_job.properties.start_time.timestamp()), iso(group_end["Group 1: Start"])) \
            in rows[vm], rows[vm]
    for vm in ("app01", "web01"):
        assert "to no on-premises VM running by the end" in rows[vm], rows[vm]
    stats = custom_stats(lab, out)
    assert failed_task in stats and "Fix what failed at" in stats
    for vm in report["vms"]:
        assert vm["failure"]["task"] == failed_task and vm["committed"] is False and vm["next_action"]
