# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One Azure session per module run: credential, endpoints and lazily built SDK clients."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import credentials
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.auth import (
    RenewableCredential,
    RenewingAuthenticationPolicy,
)
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.retry import CallCounter, ThrottleRetryPolicy
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import MissingLibraryError

# Seconds to open a connection (TCP and TLS) to ARM: an endpoint that does not answer SYNs fails in this time,
# not in azure-core's default 300 s. Reads get azure-core's default 300 s.
CONNECTION_TIMEOUT = 30
READ_TIMEOUT = 300
READ_METHODS = ("GET", "HEAD")


class AzureSession:
    """Builds the Site Recovery and Compute clients on first use (a module that needs only
    one SDK does not fail because another is missing) and shares one credential, one retry
    policy and one call counter between them.

    ``params`` is checked (credentials.validate: cloud name, endpoints, GUIDs) before anything is sent.
    ``started_jobs`` lists the ASR jobs this session started (``asr.operations``), so that a failure after a job
    started says so (module.FailbackModule.fail: ``changed: true`` and the jobs)."""

    def __init__(self, params, deadline=None, credential=None, polling_interval=None, max_retries=10):
        self.endpoints = credentials.validate(params)
        self.params = params
        self.deadline = deadline
        self.polling_interval = polling_interval
        self.max_retries = max_retries
        self.stats = {"calls": 0}
        self.started_jobs = []
        self._credential = credential
        self.auth_source = "given" if credential is not None else None
        self._clients = {}
        # extra keyword arguments for every SDK client (a transport in tests, a proxy)
        self.client_kwargs_extra = {}

    @property
    def credential(self):
        if self._credential is None:
            first, self.auth_source = credentials.build_credential(self.params, self.endpoints)
            self._credential = RenewableCredential(
                lambda: credentials.build_credential(self.params, self.endpoints)[0], first=first)
        return self._credential

    def renew_credential(self):
        """Build the credential again (no cached token): ARM said the token expired (auth.RenewingAuthenticationPolicy)."""
        renew = getattr(self.credential, "renew", None)
        if renew is not None:
            renew()

    def client_kwargs(self):
        kwargs = {
            "base_url": self.endpoints.arm_endpoint,
            "credential_scopes": [self.endpoints.credential_scope],
            "retry_policy": ThrottleRetryPolicy(max_retries=self.max_retries, deadline=self.deadline, stats=self.stats),
            "per_retry_policies": [CallCounter(self.stats)],
            "authentication_policy": RenewingAuthenticationPolicy(
                self.credential, self.endpoints.credential_scope, stats=self.stats,
                renew=self.renew_credential if hasattr(self.credential, "renew") else None),
            "connection_timeout": CONNECTION_TIMEOUT,
            "read_timeout": READ_TIMEOUT,
        }
        if self.params.ca_bundle:
            kwargs["connection_verify"] = self.params.ca_bundle
        if self.polling_interval is not None:
            kwargs["polling_interval"] = self.polling_interval
        kwargs.update(self.client_kwargs_extra)
        return kwargs

    def _client(self, key, module, class_name, library):
        if key not in self._clients:
            try:
                sdk = __import__(module, fromlist=[class_name])
            except ImportError as exc:
                raise MissingLibraryError(library, exc) from exc
            factory = getattr(sdk, class_name)
            self._clients[key] = factory(self.credential, self.params.subscription_id, **self.client_kwargs())
        return self._clients[key]

    @property
    def site_recovery(self):
        return self._client("site_recovery", "azure.mgmt.recoveryservicessiterecovery",
                            "SiteRecoveryManagementClient", "azure-mgmt-recoveryservicessiterecovery")

    @property
    def compute(self):
        return self._client("compute", "azure.mgmt.compute", "ComputeManagementClient", "azure-mgmt-compute")

    def call_counts(self):
        """``{api_calls, api_reads, api_writes}``: the ARM requests this session sent (each retry too, counted by
        ``retry.CallCounter`` per method); reads are GET and HEAD, writes every other method (PUT, PATCH, POST,
        DELETE). ARM budgets reads and writes separately per subscription."""
        by_method = self.stats.get("by_method") or {}
        reads = sum(count for method, count in by_method.items() if method in READ_METHODS)
        return {"api_calls": self.stats.get("calls", 0), "api_reads": reads,
                "api_writes": sum(by_method.values()) - reads}

    def job_started(self, job_name, resource_group, vault, target=None):
        """Record an ASR job this session started (``asr.operations``): its name, ARM id and what it acts on."""
        job_id = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/replicationJobs/%s"
                  % (self.params.subscription_id, resource_group, vault, job_name)) if job_name else None
        self.started_jobs.append({"name": job_name, "id": job_id, "target": target, "resource_group": resource_group,
                                  "vault": vault})

    def get_token(self):
        """Acquire an ARM token (proves the credential works); returns its expiry (epoch seconds)."""
        try:
            return self.credential.get_token(self.endpoints.credential_scope).expires_on
        except Exception as exc:  # pylint: disable=broad-except  # one readable error for any auth failure
            raise from_exception(exc, "get a token for", self.endpoints.arm_endpoint) from exc

    def closes(self, client):
        """Close ``client`` (an SDK client built outside this session with its credential) with the session."""
        self._clients[("closes", id(client))] = client

    def close(self):
        for client in self._clients.values():
            try:
                client.close()
            except Exception:  # pylint: disable=broad-except  # closing is best effort
                pass
        self._clients = {}
