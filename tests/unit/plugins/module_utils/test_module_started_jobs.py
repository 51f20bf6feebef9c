# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A failure after an ASR job started reports changed true, the job and how to follow it (module.FailbackModule.fail)."""

import types

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import operations
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule
from ansible_collections.siterecovery.failback.tests.unit.helpers import run_module

JOB_ID = ("/subscriptions/00000000-0000-4000-8000-000000000003/resourceGroups/rg-dr/providers/"
          "Microsoft.RecoveryServices/vaults/vault-dr/replicationJobs/job-1")


class FakeSession:
    def __init__(self):
        self.started_jobs = []

    def job_started(self, name, resource_group, vault, target=None):
        from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
        AzureSession.job_started(types.SimpleNamespace(
            started_jobs=self.started_jobs, params=types.SimpleNamespace(
                subscription_id="00000000-0000-4000-8000-000000000003")), name, resource_group, vault, target)

    def close(self):
        pass


def main_with(start_a_job):
    def main():
        module = FailbackModule({})
        module._azure = FakeSession()
        vault = types.SimpleNamespace(session=module._azure, resource_group="rg-dr", name="vault-dr")

        def body(_module):
            if start_a_job:
                operations._started(vault, "job-1", "unplanned_failover of item abc")
            raise AzureError("Could not read ASR job job-1: (ExpiredAuthenticationToken) ...", status=401)
        module.run(body)
    return main


def test_a_failure_after_a_job_started_is_changed_and_names_the_job(capsys):
    failed, result = run_module(main_with(True), {}, capsys)
    assert failed
    assert result["changed"] is True
    assert result["started_jobs"] == [{"name": "job-1", "id": JOB_ID, "target": "unplanned_failover of item abc",
                                       "resource_group": "rg-dr", "vault": "vault-dr"}]
    assert "job-1 (unplanned_failover of item abc)" in result["msg"]
    assert "Get-AzRecoveryServicesAsrJob" in result["msg"] and "vault vault-dr" in result["msg"]


def test_a_failure_before_any_job_changed_nothing(capsys):
    failed, result = run_module(main_with(False), {}, capsys)
    assert failed
    assert result.get("changed") is not True
    assert "started_jobs" not in result
