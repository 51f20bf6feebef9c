# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lifecycle table: each step's decision per stage, the rules' stages derived from it, and the step table
of docs/failback.md printed from it. Expected decisions are written from docs/failback.md's stage table (what is
left to do at each stage) and ASR's order of operations (reprotect, fail over, commit, reprotect)."""

import pathlib
import re

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import (
    lifecycle,
    readiness,
    readiness_modern,
    stages,
)

ROOT = pathlib.Path(__file__).resolve().parents[5]
A, S, R = lifecycle.ACT, lifecycle.SKIP, lifecycle.REFUSE

# stage -> decision of each failback step, in the order reprotect_to_onprem, failover, verify_onprem, commit,
# reprotect_to_azure
EXPECTED = {
    "protected_to_azure": (S, S, S, S, S),  # nothing to fail back
    "failed_over_to_azure": (R, R, R, R, R),
    "running_in_azure": (A, R, R, R, R),
    "reprotecting_to_onprem": (S, R, R, R, R),
    "replicating_to_onprem": (S, A, R, R, R),
    "failover_failed": (S, A, R, R, R),
    "failed_back": (S, S, A, A, R),
    "failback_committed": (S, S, S, S, A),
    "reprotected_to_azure": (S, S, S, S, S),
    "job_running": (R, R, R, R, R),
    "migration_completed": (R, R, R, R, R),
    "unknown": (R, R, R, R, R),
}


@pytest.mark.parametrize("stage", stages.STAGES)
def test_each_step_decides_each_stage(stage):
    assert tuple(lifecycle.step(name).decide(stage)[0] for name in lifecycle.FAILBACK) == EXPECTED[stage]


@pytest.mark.parametrize("stage", stages.STAGES)
def test_every_refusal_gives_a_reason_and_no_other_decision_does(stage):
    for item in lifecycle.STEPS:
        action, why = item.decide(stage)
        assert (why is not None) == (action == R)
        if action == R:
            assert item.refusal("vm1", stage) == "VM vm1 is at stage %s: %s." % (stage, why)


def test_a_committed_failback_cannot_be_cancelled_and_an_uncommitted_one_can():
    cancel = lifecycle.step("cancel")
    assert cancel.decide("failed_back") == (A, None)
    assert cancel.decide("replicating_to_onprem") == (S, None)
    action, why = cancel.decide("failback_committed")
    assert action == R and "cannot be cancelled" in why


def test_readiness_stages_come_from_the_steps():
    assert readiness.BEFORE_REPROTECT == ("running_in_azure",)
    assert set(readiness.REPLICATING) == {"replicating_to_onprem", "failover_failed"}
    assert set(readiness.PENDING) == {"running_in_azure", "reprotecting_to_onprem", "replicating_to_onprem",
                                      "failover_failed", "job_running"}
    assert set(readiness.DONE) == {"failed_back", "failback_committed", "reprotected_to_azure", "protected_to_azure"}


def test_gates_follow_the_rules_stages():
    rules = [{"id": "always", "when": None}, {"id": "before", "when": ("running_in_azure",)},
             {"id": "points", "when": ("replicating_to_onprem",)}]
    gated = lifecycle.gates(rules)
    assert gated["reprotect_to_onprem"] == ["always", "before"]
    assert gated["failover"] == ["always", "points"]
    assert gated["commit"] == ["always"]


def test_an_unknown_stage_name_in_the_table_is_caught(monkeypatch):
    stray = lifecycle.Step("x", "x", ("nowhere",), "failed_back", ())
    monkeypatch.setattr(lifecycle, "STEPS", (*lifecycle.STEPS, stray))
    with pytest.raises(ValueError, match="nowhere"):
        lifecycle.check_table()


def test_the_documented_step_table_is_the_one_the_code_prints():
    text = (ROOT / "docs" / "failback.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- step-table:begin -->\n(.*?)<!-- step-table:end -->", text, re.S)
    assert found, "docs/failback.md has no step-table markers"
    # the modernized flow's rules are registered too (importing readiness_modern registers them)
    assert set(readiness_modern.RULE_IDS) <= {r["id"] for r in readiness.RULES}
    assert found.group(1) == lifecycle.markdown_table(readiness.RULES)


# -- onprem_vm (verify on-premises, and the 8038 remedy) ------------------------------------------------------------
# Expected from the lifecycle of docs/failback.md: the on-premises VM is brought up once Site Recovery failed it back
# (failover done, not committed); before that its VMDKs on the master target are the replica; after the commit there
# is nothing left to verify. The 8038 remedy (move the VM, start it, fail over again) is for a failed failover only.

@pytest.mark.parametrize("stage, remediation, expected", [
    ("failed_back", "fail", (A, False)),
    ("failed_back", "vmotion", (A, False)),
    ("failover_failed", "vmotion", (A, True)),
    ("failover_failed", "fail", (R, False)),
    ("replicating_to_onprem", "vmotion", (R, False)),
    ("replicating_to_onprem", "fail", (R, False)),
    ("running_in_azure", "fail", (R, False)),
    ("reprotecting_to_onprem", "fail", (R, False)),
    ("job_running", "vmotion", (R, False)),
    ("unknown", "fail", (R, False)),
    ("failback_committed", "fail", (S, False)),
    ("reprotected_to_azure", "vmotion", (S, False)),
    ("protected_to_azure", "fail", (S, False)),
])
def test_onprem_vm_acts_only_on_a_vm_failed_back_or_short_of_memory_after_a_failed_failover(stage, remediation,
                                                                                            expected):
    action, reason, remedy_only = lifecycle.onprem_decision(stage, remediation)
    assert (action, remedy_only) == expected
    assert (reason is not None) == (action == R)


def test_onprem_gate_sorts_the_vms_and_names_each_refused_one_with_its_stage():
    gate = lifecycle.onprem_gate({"app01": "failed_back", "web01": "replicating_to_onprem", "db01": "failover_failed",
                                  "web03": "failback_committed"}, "fail")
    assert gate["act"] == ["app01"] and gate["remedy_only"] == []
    assert gate["skip"] == {"web03": "failback_committed"}
    assert len(gate["refusals"]) == 2
    web01, db01 = gate["refusals"]
    assert web01.startswith("VM web01 is at stage replicating_to_onprem: ") and "fail it over first" in web01
    assert db01.startswith("VM db01 is at stage failover_failed: ") and "retry the failover" in db01
    assert "memory_remediation: vmotion" in db01


def test_onprem_gate_lets_the_8038_remedy_start_a_vm_whose_failover_failed():
    gate = lifecycle.onprem_gate({"app01": "failover_failed", "db01": "failed_back"}, "vmotion")
    assert gate == {"act": ["app01", "db01"], "remedy_only": ["app01"], "skip": {}, "refusals": []}


@pytest.mark.parametrize("stage", stages.STAGES)
def test_the_replica_is_taken_off_a_master_target_only_where_site_recovery_no_longer_uses_it(stage):
    # it writes to them from the reprotect to the failover; a failed failover is run again from them; a running job
    # may be either (docs/failback.md: the lifecycle)
    in_use = {"reprotecting_to_onprem", "replicating_to_onprem", "failover_failed", "job_running"}
    refusal = lifecycle.detach_refusal("app01", stage)
    assert (refusal is not None) == (stage in in_use)
    if refusal:
        assert refusal.startswith("VM app01 is at stage %s: its VMDKs on the master target are Site Recovery's "
                                  "replica" % stage)
