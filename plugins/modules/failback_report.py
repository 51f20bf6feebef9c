#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: failback_report
short_description: Assemble the failback run report, reading where each VM stands from Site Recovery
version_added: 0.2.0
description:
  - Builds the report of a failback run - per VM and per step what the run did (action, result, job, times,
    errors), the recovery point and data-loss window, the RTO - from the steps' registered results, failed or not.
  - Reads where each VM of the run stands now from Site Recovery (one list and one GET per item, as
    M(siterecovery.failback.replicated_item_info) does, and the recovery plan from the plans' list), and adds per
    VM its C(stage), C(next_step), what failed for it (C(failure)), what a re-run will do (C(rerun)), whether its
    failback is committed, where its running copy is and the next action; for a plan its name and boot groups.
    The truth is the service's, not the run's.
  - Returns the timeline's geometry (C(timeline), SVG coordinates computed from the ASR jobs' times) for the HTML
    report, and a short form (C(summary)) for AWX's artifacts.
  - Never fails because of the run's state - it runs when the run failed, to say where each VM stands. When
    Site Recovery cannot be read (throttled, unreachable) the report is still returned, with the read error and
    the stages the steps reported.
  - Reads only; changes nothing. The role C(siterecovery.failback.report) writes the report as JSON, Markdown
    and HTML.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_AZURE
options:
  resource_group:
    description: The resource group of the Recovery Services vault (C(AZURE_SITE_RECOVERY_RESOURCE_GROUP)).
    type: str
  vault_name:
    description:
      - The Recovery Services vault (C(AZURE_SITE_RECOVERY_VAULT)). Without it and O(resource_group), the stages
        are not read.
    type: str
  vms:
    description: The run's VMs, by name.
    type: list
    elements: str
    default: []
  recovery_plan:
    description:
      - The run's recovery plan; the report names it and orders its VMs by its boot groups. Or a list of plans (a run
        of several plans - each plan's VMs are reported, and a per-plan section, C(plans) of RV(report)).
    type: list
    elements: str
    aliases: [recovery_plans]
  timeout:
    description:
      - Seconds the reads of the stages may take, 0 to 604800, retries included (a throttled read is retried as long as
        it allows). When they fail or run out of time, the report is still written, saying Site Recovery could not be
        read and why.
    type: int
    default: 120
  name:
    description: The report's name; its id is the name and the UTC end time.
    type: str
    default: failback
  started:
    description: When the run started (epoch seconds); empty for now.
    type: raw
  verified_at:
    description: When the on-premises VMs were verified running (epoch seconds), for the RTO; empty when they were not.
    type: raw
  result:
    description: The run's result.
    type: str
    choices: [success, failed]
    default: success
  hosts:
    description:
      - "The play's VM hosts, C({host: VM name}), when the playbook ran against inventory hosts (C(run_options)'
        C(run.hosts)); the module then says per host whether its VM failed back (RV(host_outcomes))."
    type: dict
    default: {}
  unlock_error:
    description: Why the run's locks could not be released, if they could not; every host's outcome says it.
    type: str
    default: ""
  failed_stage:
    description: The task the run failed at, if it failed.
    type: str
    default: ""
  failed_message:
    description: Its message.
    type: str
    default: ""
  steps:
    description:
      - The steps' registered results by step - V(reprotect_to_onprem), V(failover_to_onprem), V(commit),
        V(reprotect_to_azure); a missing or empty one did not run. Per-VM entries are read from C(vms) (or
        C(error.vms) of an older failed result).
    type: dict
    default: {}
  onprem:
    description: The on-premises verification's registered result (C(vms) with C(name)), for the RTO.
    type: dict
    default: {}
  unit_steps:
    description:
      - A run of several units (its waves) - the steps' results of each unit before the last, in order, each as
        O(steps) (which holds the last unit's). Each step's results are merged - a VM's entry from the last unit that
        had it.
    type: list
    elements: dict
    default: []
  waves:
    description:
      - The run's waves (lists of recovery plan names). With them, or with more than one plan in O(recovery_plan), the
        report has a per-plan section (C(plans) of RV(report)) - each plan's VMs (read from Site Recovery), its wave, its
        outcome and why it stopped.
    type: list
    elements: list
    default: []
  blocked:
    description: Why a wave of the run did not start (a plan of an earlier wave did not reach the gate), if one did not.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Assemble the run report
  siterecovery.failback.failback_report:
    vms: [app01]
    name: original-location
    started: "{{ failback_started }}"
    result: failed
    failed_stage: Fail over to on-premises
    steps:
      reprotect_to_onprem: "{{ reprotect_to_onprem_result | default({}) }}"
      failover_to_onprem: "{{ failover_to_onprem_result | default({}) }}"
  register: report
"""

RETURN = r"""
report:
  description: >-
    The report - C(run) (id, name, started, finished, started_epoch, finished_epoch, duration_seconds, result,
    failed_stage, failed_message, check_mode, stages_read_from, stages_read_error, recovery_plan, boot_groups - the
    plan's VM names per boot group in boot order) and C(vms), one per VM (name, boot_group, stages[] with stage,
    action, result - done, skipped, failed, refused or running -, start, end, start_epoch, end_epoch,
    duration_seconds, job, job_state, failed_task, errors, stage_after; recovery_point, recovery_point_type,
    recovery_point_time, data_loss_window_seconds (the recovery point's time to the failover's start); outage
    {start_epoch, end_epoch, start, end}, onprem_running_at, rto_seconds (failover start to the on-premises VM running as the
    ASR job shows it - its boot group's start task, or its job's end -, once the run verified it running),
    verified_seconds when known; final_stage; stage, next_step, failure {step, message, gate, task}, rerun,
    committed, running_copy, next_action; in check mode predicted_stage, where the run would leave the VM); C(plans)
    for a run of several plans or waves (else empty), one per plan - name, wave, vms (read from Site Recovery), stages
    (each VM's now), outcome (V(done), V(stopped), V(already_done) or V(not_started)), stopped_at (the step) and why - and
    C(run.blocked) (why a wave did not start); C(run.requests) - the Resource Manager requests the reprotect, failover,
    commit and reprotect-to-Azure steps made, from their C(api_reads) / C(api_writes) - C(reads), C(writes), C(calls)
    and C(by_step).
  returned: always
  type: dict
  sample: {"run": {"id": "original-location-20261130T101500Z", "result": "failed", "recovery_plan": "rp-app"},
           "vms": [{"name": "app01", "stage": "replicating_to_onprem", "boot_group": 2, "committed": false,
                    "running_copy": "Azure VM (still exists)", "failure": {"step": "failover_to_onprem",
                    "message": "...", "task": "Group 2: Start"}, "rerun": "fail it over to on-premises ...",
                    "next_action": "Fix what failed at Group 2: Start (...), then re-run the playbook: ..."}]}
host_outcomes:
  description:
    - Per host of O(hosts), its VM, whether it failed (its VM has a failure in the report, or the locks could not be
      released) and a message naming where the VM stands, what failed and what a re-run does. Empty without
      O(hosts).
  returned: always
  type: dict
  sample: {"app01": {"vm": "app01", "failed": true,
                     "msg": "VM app01 at replicating_to_onprem - failover_to_onprem failed: ... A re-run ..."}}
plan_lines:
  description: A run of several plans - one line per plan, its wave, outcome, why it stopped and its VMs; else empty.
  returned: always
  type: list
  elements: str
  sample: ["rp-web (wave 1): stopped at failover_to_onprem - job ... failed (1 VM(s): web01)."]
lines:
  description: One line per VM - where it stands, what failed and what a re-run will do.
  returned: always
  type: list
  elements: str
  sample: ["app01 at replicating_to_onprem - failover_to_onprem failed: (...); a re-run will fail it over ..."]
summary:
  description: >-
    The short form for AWX's artifacts (the role publishes it with C(set_stats) as C(failback_report)) - run_id,
    result, recovery_plan, started, finished, failed_stage, and vms[] with name, stage, result, boot_group,
    committed, running_copy, rto_seconds, data_loss_window_seconds, failure and next_action. Names, stages, times and
    messages only; no option, address or credential.
  returned: always
  type: dict
  sample: {"run_id": "original-location-20261130T101500Z", "result": "success", "recovery_plan": "rp-app",
           "vms": [{"name": "db01", "stage": "reprotected_to_azure", "result": "done", "rto_seconds": 61.2,
                    "data_loss_window_seconds": 240.5, "next_action": "Nothing: its failback is complete."}]}
timeline:
  description: >-
    The HTML report's timeline as SVG geometry (pixels, origin top left; epochs in seconds) - width, height, left,
    plot_width, start_epoch, end_epoch, scale (pixels a second), start, end, axis_y, ticks[] (x, epoch, label in
    UTC), groups[] (a boot group's label and y), rows[] (vm, label, y, bar_y, text_y, result, outage {x, y, width,
    height, title} or null, bars[] {x, width, draw_width, y, height, css, fill, stage, job, title, text, text_x,
    start_epoch, end_epoch}, waits[] {x1, x2, y, title}). A bar's x is its ASR job's start, its width the job's
    length.
  returned: always
  type: dict
  sample: {"scale": 12.5, "ticks": [{"x": 130.0, "label": "2026-11-30 10:15:00"}],
           "rows": [{"vm": "db01", "bars": [{"stage": "failover_to_onprem", "x": 380.0, "width": 62.5}]}]}
"""

import time

from ansible.module_utils.basic import env_fallback

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import outcome, report, timeline
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def boot_groups(plan_model, selected):
    """The plan's boot groups in boot order, each the VM names of its items (``asr_items.plan_members``)."""
    names = {(model.id or "").lower(): item["name"] for model, item in selected}
    groups = {}
    for arm_id, index in asr_items.plan_members(plan_model):
        name = names.get((arm_id or "").lower())
        if name and index:
            groups.setdefault(index, []).append(name)
    return [groups[index] for index in sorted(groups)]


def read_items(module):
    """``(items, plan, error)``: the run's items as Site Recovery shows them now and the recovery plan's name and
    boot groups (``{name, boot_groups}``, None without a plan), or None, the plan as asked and why not."""
    params = module.params
    names = asr_items.plan_names(params["recovery_plan"])
    # one plan: its name and boot groups; several: the run's plans, reported per plan (plan_section)
    plan = {"name": names[0] if len(names) == 1 else ", ".join(names), "boot_groups": []} if names else None
    if not (params["vms"] or names):
        return None, plan, "the run named no VM and no recovery plan"
    if not (params["resource_group"] and params["vault_name"]):
        return None, plan, "no vault was given (resource_group, vault_name)"
    try:
        vault = module.vault(deadline=Deadline(params["timeout"]))
        # the report takes each VM's stage, which the item list gives (no GET per item: tests/recorded/asr fact 1)
        selected = asr_items.select(vault, vms=params["vms"], plan=names or None, details=False)
        if len(names) == 1:
            plan["boot_groups"] = boot_groups(vault.plan(names[0]), selected)
    except Exception as error:  # pylint: disable=broad-except  # the report is written whatever failed
        return None, plan, "Site Recovery could not be read: %s" % (getattr(error, "msg", None) or error)
    return [item for _model, item in selected], plan, None


def run_plans(params):
    """Every recovery plan of the run, in order: O(recovery_plan) (a name or a list of names), then each wave's."""
    named = asr_items.plan_names(params.get("recovery_plan"))
    return list(dict.fromkeys(named + [plan for wave in params.get("waves") or [] for plan in wave]))


def plan_vms(module, names):
    """``[{name, vms}]``: each plan's VMs in its boot order, from the vault's plan list and item list (two calls,
    whatever the number of plans); a plan that cannot be read gets no VMs (the report still says what the steps did)."""
    params = module.params
    if not (params["resource_group"] and params["vault_name"]):
        return [{"name": name, "vms": []} for name in names]
    try:
        vault = module.vault(deadline=Deadline(params["timeout"]))
        by_id = {(model.id or "").lower(): model.properties.friendly_name for model in vault.items()}
        plans = {}
        for plan in vault.plans():
            members = [by_id.get((arm_id or "").lower()) for arm_id, _group in asr_items.plan_members(plan)]
            for key in (plan.name, getattr(plan.properties, "friendly_name", None)):
                plans[key] = list(dict.fromkeys(vm for vm in members if vm))
    except Exception:  # pylint: disable=broad-except  # the report is written whatever failed
        plans = {}
    return [{"name": name, "vms": plans.get(name, [])} for name in names]


def build(module):
    params = module.params
    items, plan, error = read_items(module)
    names = run_plans(params)
    plans = plan_vms(module, names) if len(names) > 1 or params["waves"] else None
    data = report.assemble(params["name"], params["started"], time.time(), params["result"], params["failed_stage"],
                           params["failed_message"], params["steps"] or {}, onprem=params["onprem"],
                           verified_at=params["verified_at"], items=items, read_error=error,
                           check_mode=module.check_mode, plan=plan, unit_steps=params["unit_steps"], plans=plans,
                           waves=params["waves"], blocked=params["blocked"] or None)
    return {"changed": False, "report": data, "lines": report.lines(data), "summary": report.compact(data),
            "plan_lines": report.plan_lines(data),
            "timeline": timeline.layout(data),
            "host_outcomes": outcome.host_outcomes(data, params["hosts"], params["unlock_error"] or None)}


def main():
    spec = {
        "resource_group": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_RESOURCE_GROUP"])},
        "vault_name": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_VAULT"])},
        "timeout": {"type": "int", "default": 120},
        "vms": {"type": "list", "elements": "str", "default": []},
        "recovery_plan": {"type": "list", "elements": "str", "aliases": ["recovery_plans"]},
        "name": {"type": "str", "default": "failback"},
        "started": {"type": "raw"},
        "verified_at": {"type": "raw"},
        "result": {"type": "str", "choices": ["success", "failed"], "default": "success"},
        "hosts": {"type": "dict", "default": {}},
        "unlock_error": {"type": "str", "default": ""},
        "failed_stage": {"type": "str", "default": ""},
        "failed_message": {"type": "str", "default": ""},
        "steps": {"type": "dict", "default": {}},
        "onprem": {"type": "dict", "default": {}},
        "unit_steps": {"type": "list", "elements": "dict", "default": []},
        "waves": {"type": "list", "elements": "list", "default": []},
        "blocked": {"type": "str", "default": ""},
    }
    module = FailbackModule(spec, azure=True, supports_check_mode=True)
    module.run(build)


if __name__ == "__main__":
    main()
