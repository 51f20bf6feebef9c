#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: failback_waves
short_description: Decide which waves of recovery plans a failback run takes, from where Site Recovery shows their VMs
version_added: 0.4.0
description:
  - A failback run's O(waves) are ordered groups of recovery plans; wave N+1 starts when every plan of wave N reached
    the O(wave_gate). This module says which waves are done (at the gate, or complete), which comes next, which this
    run takes (RV(run)), which plans the run's lock must take (RV(lock_plans)) and - given O(wave) - whether that
    wave may start now, naming each plan of an earlier wave that stopped and why (RV(start), RV(why)).
  - The truth is Site Recovery's, not a file's - each plan's members and each VM's failback stage come from the vault's
    recovery plan list and protected item list (two Resource Manager calls, paged, whatever the number of plans or
    VMs). A re-run after a partial failure or a pause reads them again and finishes the unfinished wave first.
  - O(wave_gate=committed) - every VM of the plan is committed (stage C(failback_committed) or
    C(reprotected_to_azure)); O(wave_gate=verified) - every VM failed back (C(failed_back) or later) - the run verified
    each one running on-premises right after its failover, and the commit gate verifies it again before its commit.
  - The decision is the collection's C(module_utils/domain/waves.py) (pure Python); this module only reads.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.deadline
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_AZURE
options:
  waves:
    description:
      - The run's waves in order, each a list of recovery plan names (the plan's name or its friendly name). No plan
        in two waves (the run's options refuse it first).
    type: list
    elements: list
    required: true
  wave_gate:
    description: When the next wave starts - V(committed) or V(verified).
    type: str
    choices: [committed, verified]
    default: committed
  wave_pause:
    description: The run stops after one wave reached the gate (RV(run) holds one wave to start, RV(after) the next).
    type: bool
    default: false
  commit:
    description: Whether the run commits (what C(complete) means for a plan; the run's C(commit) option).
    type: bool
    default: true
  reprotect_to_azure:
    description: Whether the run reprotects to Azure after the commit (the run's C(reprotect_to_azure) option).
    type: bool
    default: true
  wave:
    description:
      - The wave (1-based) about to start; the module then says whether it may (RV(start)) - every plan of every
        earlier wave at the gate - and, if not, why (RV(why)). V(0) asks nothing. The end of a run with
        O(wave_gate=verified) asks for the wave after the last (the commits of every wave).
    type: int
    default: 0
  assume_stages:
    description:
      - "C({VM name: stage}) that override what Site Recovery shows: in check mode the stages the run's earlier steps
        predict (nothing changed, so the next wave is judged as if they had run)."
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Which waves does this run take?
  siterecovery.failback.failback_waves:
    resource_group: rg-dr
    vault_name: vault-dr
    waves: [[rp-db], [rp-app, rp-web]]
    wave_gate: committed
    wave_pause: true
  register: failback_waves_plan

- name: May wave 2 start?
  siterecovery.failback.failback_waves:
    waves: [[rp-db], [rp-app, rp-web]]
    wave: 2
  register: failback_wave_go
"""

RETURN = r"""
waves:
  description: Each wave as Site Recovery shows it now.
  returned: success
  type: list
  elements: dict
  contains:
    index:
      description: The wave's number, from 1.
      type: int
    state:
      description:
        - V(complete) (nothing left to do), V(at_gate) (every plan reached the gate, a later step is left),
          V(untouched) (every VM still runs in Azure) or V(unfinished).
      type: str
    plans:
      description: Per plan - C(name), C(vms) (in plan order), C(stages) (C({VM - stage})), C(at_gate), C(complete),
        C(untouched) and C(why) (which VMs stand where, when the plan is not at the gate).
      type: list
      elements: dict
  sample: [{"index": 1, "state": "at_gate", "plans": [{"name": "rp-db", "vms": ["db01"], "at_gate": true,
            "complete": false, "untouched": false, "stages": {"db01": "failback_committed"}, "why": null}]}]
done:
  description: The waves at the gate or complete.
  returned: success
  type: list
  elements: int
  sample: [1]
next:
  description: The first wave not at the gate; null when every wave reached it.
  returned: success
  type: int
  sample: 2
run:
  description:
    - The waves this run takes, in order - with O(wave_gate=committed) first the waves before RV(next) still to
      reprotect to Azure, then RV(next) and (without O(wave_pause)) every wave after it.
  returned: success
  type: list
  elements: int
  sample: [2, 3]
finish:
  description:
    - Whether this run ends with the commits and reprotects to Azure of every wave's plans (O(wave_gate=verified), the
      commit on, and no wave left after RV(run)).
  returned: success
  type: bool
  sample: false
lock_plans:
  description: Every plan this run acts on - the plans of RV(run), and every plan when RV(finish).
  returned: success
  type: list
  elements: str
  sample: [rp-app, rp-web]
units:
  description:
    - What the run does, in order - each wave of RV(run) (C(index), C(plans), C(steps) - all four with
      O(wave_gate=committed), C(reprotect_to_onprem) and C(failover_to_onprem) with V(verified) - and C(finish) false),
      then, when RV(finish), the end (C(index) the wave after the last, every plan, C(steps) C(commit) and
      C(reprotect_to_azure), C(finish) true).
  returned: success
  type: list
  elements: dict
  sample: [{"index": 2, "plans": [rp-app, rp-web], "finish": false,
            "steps": [reprotect_to_onprem, failover_to_onprem, commit, reprotect_to_azure]}]
after:
  description: The wave a paused run leaves for the next run of the same command; null when none is left.
  returned: success
  type: int
  sample: 3
message:
  description: What the run does, in one sentence.
  returned: success
  type: str
  sample: "Next: wave 2 (rp-app, rp-web). This run takes wave(s) 2. It stops when wave 2 reached the gate ..."
start:
  description: With O(wave) - whether that wave may start now (every plan of every earlier wave at the gate).
  returned: success
  type: bool
  sample: true
why:
  description: With O(wave) and RV(start) false - each plan of an earlier wave that did not reach the gate, where its
    VMs stand and what to do; else null.
  returned: success
  type: str
  sample: "Wave 2 does not start: plan rp-db of wave 1 is not committed: db01 at failover_failed. ..."
stopped:
  description:
    - "With O(wave) - the plans of the earlier waves that did not reach the gate: C([{name, wave, why}])."
  returned: success
  type: list
  elements: dict
  sample: [{"name": "rp-db", "wave": 1, "why": "not committed: db01 at failover_failed"}]
api_calls:
  description: The Resource Manager requests the module made (the item list and the plan list, a call per page).
  returned: success
  type: int
  sample: 2
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import items as asr_items
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options, waves
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def memberships(vault, names):
    """``({plan: [VM name, ...]}, {VM name: stage})`` of the plans ``names``, from the vault's plan list and item list
    (each one call, paged): a plan's members in its boot order, each VM's stage as its list entry shows it
    (``asr.items.normalize``; the list carries the provider, state, operations and scenario the stage is derived from).
    A plan the vault lacks is left out of the first; a member no item protects is left out of the second."""
    wanted = set(names)
    by_id = {(model.id or "").lower(): asr_items.normalize(model) for model in vault.items()}
    members = {}
    for plan in vault.plans():
        for name in [key for key in dict.fromkeys((plan.name, getattr(plan.properties, "friendly_name", None)))
                     if key in wanted]:
            vms = []
            for arm_id, _group in asr_items.plan_members(plan):
                item = by_id.get((arm_id or "").lower())
                vms.append(item["name"] if item else "item %s" % (arm_id or "").rsplit("/", 1)[-1])
            members[name] = list(dict.fromkeys(vms))
    stages = {item["name"]: item["failback_stage"] for item in by_id.values()}
    return members, stages


def decide(module):
    params = module.params
    problems = options.check_module(params, ("timeout",))
    problems += options.check_plans({"waves": params["waves"], "wave_gate": params["wave_gate"],
                                     "commit": params["commit"]})
    if problems:
        raise FailbackError(options.summary(problems, "the waves"), problems=problems)
    session = module.azure(deadline=Deadline(params["timeout"]))
    plans = [plan for wave in params["waves"] for plan in wave]
    members, stages = memberships(module.vault(), plans)
    missing = [plan for plan in plans if plan not in members]
    if missing:
        where = "%s/%s" % (params["resource_group"], params["vault_name"])
        raise FailbackError("Recovery plan(s) %s of the waves were not found in vault %s; name each plan as Site "
                            "Recovery does (its name or friendly name)." % (", ".join(missing), where),
                            plans=missing, rule="plan_not_found")
    stages.update(params["assume_stages"] or {})
    decision = waves.plan_run(params["waves"], members, stages, params["wave_gate"], params["wave_pause"],
                              params["commit"], params["reprotect_to_azure"])
    result = dict(decision, changed=False, api_calls=session.stats["calls"], start=True, why=None, stopped=[])
    if params["wave"]:
        result["start"], result["why"] = waves.may_start(decision, params["wave"])
        result["stopped"] = waves.stopped_plans(decision, range(1, params["wave"]))
    return result


def main():
    module = FailbackModule({
        "timeout": {"type": "int", "default": 300},
        "waves": {"type": "list", "elements": "list", "required": True},
        "wave_gate": {"type": "str", "choices": list(waves.GATES), "default": "committed"},
        "wave_pause": {"type": "bool", "default": False},
        "commit": {"type": "bool", "default": True},
        "reprotect_to_azure": {"type": "bool", "default": True},
        "wave": {"type": "int", "default": 0},
        "assume_stages": {"type": "dict", "default": {}},
    }, azure=True, vault=True, supports_check_mode=True)
    module.run(decide)


if __name__ == "__main__":
    main()
