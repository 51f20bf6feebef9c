# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which VMs of a failed failover were short of memory (ASR 8038), decided in Python, not in a role's Jinja."""

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import failover_outcome


def vm(name, state=None, *codes):
    job = {"state": state, "errors": [{"code": code, "message": "m"} for code in codes]} if state else None
    return {"name": name, "job": job}


def test_only_8038_means_moving_the_vms_fixes_it():
    outcome = failover_outcome.classify([vm("app01", "Failed", "8038"), vm("db01", "Succeeded"), vm("web01")])
    assert outcome == {"short_of_memory": [{"name": "app01"}], "failed_otherwise": [], "vmotion_fixes_all": True}


def test_another_failure_means_it_does_not():
    outcome = failover_outcome.classify([vm("app01", "Failed", "8038"), vm("db01", "Failed", "LabInjectedFailure")])
    assert outcome["short_of_memory"] == [{"name": "app01"}] and outcome["failed_otherwise"] == ["db01"]
    assert outcome["vmotion_fixes_all"] is False


def test_a_failed_job_without_errors_and_no_vms_at_all():
    assert failover_outcome.classify([vm("app01", "Cancelled")])["failed_otherwise"] == ["app01"]
    assert failover_outcome.classify(None) == {"short_of_memory": [], "failed_otherwise": [], "vmotion_fixes_all": False}


def test_per_vm_code_and_remedy():
    assert failover_outcome.per_vm(vm("app01", "Succeeded")) == {"error_code": None, "remedy": None}
    assert failover_outcome.per_vm(vm("app01")) == {"error_code": None, "remedy": None}
    short = failover_outcome.per_vm(vm("app01", "Failed", "8038"))
    assert short["error_code"] == "8038" and "vMotion" in short["remedy"]
    silent = failover_outcome.per_vm(vm("app01", "Failed"))
    assert silent["error_code"] is None and "Failed" in silent["remedy"]
