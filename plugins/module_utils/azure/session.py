# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One Azure session per module run: credential, endpoints and lazily built SDK clients."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.azure import cloud, credentials
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError, from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.retry import CallCounter, ThrottleRetryPolicy
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import MissingLibraryError


class AzureSession:
    """Builds the Site Recovery and Compute clients on first use (a module that needs only
    one SDK does not fail because another is missing) and shares one credential, one retry
    policy and one call counter between them."""

    def __init__(self, params, deadline=None, credential=None, polling_interval=None, max_retries=10):
        if not params.subscription_id:
            raise AzureError("subscription_id is required: set the option, module_defaults for "
                             "group/siterecovery.failback.azure, or AZURE_SUBSCRIPTION_ID.", option="subscription_id")
        self.params = params
        self.endpoints = cloud.resolve(params.cloud_environment, params.arm_endpoint, params.authority_host)
        self.deadline = deadline
        self.polling_interval = polling_interval
        self.max_retries = max_retries
        self.stats = {"calls": 0}
        self._credential = credential
        self.auth_source = "given" if credential is not None else None
        self._clients = {}
        # extra keyword arguments for every SDK client (a transport in tests, a proxy)
        self.client_kwargs_extra = {}

    @property
    def credential(self):
        if self._credential is None:
            self._credential, self.auth_source = credentials.build_credential(self.params, self.endpoints)
        return self._credential

    def client_kwargs(self):
        kwargs = {
            "base_url": self.endpoints.arm_endpoint,
            "credential_scopes": [self.endpoints.credential_scope],
            "retry_policy": ThrottleRetryPolicy(max_retries=self.max_retries, deadline=self.deadline, stats=self.stats),
            "per_retry_policies": [CallCounter(self.stats)],
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

    def get_token(self):
        """Acquire an ARM token (proves the credential works); returns its expiry (epoch seconds)."""
        try:
            return self.credential.get_token(self.endpoints.credential_scope).expires_on
        except Exception as exc:  # pylint: disable=broad-except  # one readable error for any auth failure
            raise from_exception(exc, "get a token for", self.endpoints.arm_endpoint) from exc

    def close(self):
        for client in self._clients.values():
            try:
                client.close()
            except Exception:  # pylint: disable=broad-except  # closing is best effort
                pass
        self._clients = {}
