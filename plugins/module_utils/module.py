# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module wrapper: merges connection specs, builds clients, turns errors into fail_json."""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.siterecovery.failback.plugins.module_utils import argspec
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError


def follow_jobs(started):
    """The sentence that tells how to follow ``started`` (AzureSession.started_jobs) after a failure."""
    first = started[0]
    return ("This task had started %d ASR job(s), which run on in Azure whatever failed here: %s. Follow them in the "
            "portal (vault %s > Site Recovery jobs) or with Get-AzRecoveryServicesAsrJob -Name <job> after "
            "Set-AzRecoveryServicesAsrVaultContext; re-running this task reads each VM's state first and continues from "
            "where the jobs leave it." % (len(started), "; ".join("%s (%s)" % (j["name"], j["target"]) for j in started),
                                          first["vault"]))


class FailbackModule:
    """``FailbackModule(spec, vsphere=True)`` gives a module with the vSphere options;
    ``azure=True`` adds the Azure options, ``vault=True`` the vault options and ``state_store=True`` the
    options of where the lease and the Azure VM identity records live (checked before the module's body runs).

    Clients are built on first use and closed by :meth:`exit` / :meth:`fail`.
    """

    def __init__(self, argument_spec, vsphere=False, azure=False, vault=False, state_store=False, **kwargs):
        spec = {}
        if vsphere:
            spec.update(argspec.vsphere_argument_spec())
        if azure:
            spec.update(argspec.azure_argument_spec())
        if vault:
            spec.update(argspec.vault_argument_spec())
        if state_store:
            spec.update(argspec.state_store_argument_spec())
        spec.update(argument_spec)
        self._state_store = state_store
        self.started = time.monotonic()
        self.ansible = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.ansible.params
        self.check_mode = self.ansible.check_mode
        self.diff_mode = self.ansible._diff
        self._vsphere = None
        self._azure = None

    def vsphere(self):
        if self._vsphere is None:
            from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.connection import connect, tls_warning
            params = argspec.vsphere_params(self.params)
            warning = tls_warning(params.hostname, params.validate_certs, params.thumbprint)
            if warning:  # before connecting: a run that then fails says it too
                self.ansible.warn(warning)
            self._vsphere = connect(params)
        return self._vsphere

    def azure(self, deadline=None):
        if self._azure is None:
            from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
            self._azure = AzureSession(argspec.azure_params(self.params), deadline=deadline)
        return self._azure

    def vault(self, deadline=None):
        """The Recovery Services vault of the ``resource_group`` / ``vault_name`` options (cached reads)."""
        from ansible_collections.siterecovery.failback.plugins.module_utils.asr.vault import Vault
        return Vault(self.azure(deadline=deadline), self.params["resource_group"], self.params["vault_name"])

    def progress(self, stage):
        """Where this run's waits record their progress (:class:`module_utils.progress.Progress`): the
        ``progress_file`` option's file (nothing when unset), under ``stage`` (the step's name)."""
        from ansible_collections.siterecovery.failback.plugins.module_utils.progress import Progress
        return Progress(self.params.get("progress_file"), stage)

    def azure_vms(self, deadline=None):
        """The subscription's Azure VMs (asr/azure_vms.AzureVms) whose identity records live where ``state_store`` says."""
        from ansible_collections.siterecovery.failback.plugins.module_utils.asr import azure_vms
        return azure_vms.for_state(self.azure(deadline=deadline), self.params)[1]

    def selection(self):
        """The protected items the ``vms``, ``items`` and ``recovery_plan`` options select (for asr.items.select)."""
        return {"vms": self.params.get("vms") or [], "item_names": self.params.get("items") or [],
                "plan": self.params.get("recovery_plan")}

    def _close(self):
        if self._vsphere is not None:
            self._vsphere.disconnect()
        if self._azure is not None:
            self._azure.close()

    def _timing(self, result):
        result.setdefault("duration_seconds", round(time.monotonic() - self.started, 3))
        return result

    def exit(self, **result):
        self._close()
        self.ansible.exit_json(**self._timing(result))

    def started_jobs(self):
        """The ASR jobs this run started (AzureSession.started_jobs), in start order."""
        return list(self._azure.started_jobs) if self._azure is not None else []

    def fail(self, error, **result):
        """Fail with a :class:`FailbackError` (message, structured ``error``) or a plain message.

        After an ASR job was started, whatever failed: ``changed: true``, ``started_jobs`` (name, ARM id, target) and
        a message that names each job and how to follow it - the job runs on in Azure whatever failed here."""
        started = self.started_jobs()
        if self._azure is not None and hasattr(self._azure, "call_counts"):
            # the requests a failed step made count too (the run's report sums them: run.requests)
            for key, value in self._azure.call_counts().items():
                result.setdefault(key, value)
        self._close()
        if isinstance(error, FailbackError):
            result["error"] = error.to_dict()
            msg = error.msg
            # per-VM results at the top level on failure as on success, and (per_vm) who stopped and who goes on
            for key in ("vms", "stopped", "continue_with", "predicted_stages", "plans", "plans_going"):
                if isinstance(error.details.get(key), (list, dict)):
                    result.setdefault(key, error.details[key])
        else:
            msg = str(error)
        if started:
            result["changed"] = True
            result["started_jobs"] = started
            msg = "%s %s" % (msg.rstrip(), follow_jobs(started))
        self.ansible.fail_json(msg=msg, **self._timing(result))

    def run(self, body):
        """Run ``body(self)`` -> result dict; any FailbackError becomes a readable failure."""
        if self._state_store:
            from ansible_collections.siterecovery.failback.plugins.module_utils.asr import blob_state
            problems = blob_state.validate(self.params)
            if problems:  # before any call
                self.fail("Invalid state store options: " + " ".join(problems), problems=problems)
                return
        try:
            result = body(self)
        except FailbackError as error:
            self.fail(error)
        except Exception as error:  # pylint: disable=broad-except  # unexpected: keep the traceback for the user
            self.fail("Unexpected error: %s" % error, exception=traceback.format_exc())
        else:
            self.exit(**result)
