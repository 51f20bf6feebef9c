#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: azure_connection_info
short_description: Check the Azure credentials and, optionally, the Recovery Services vault
version_added: 0.1.0
description:
  - Acquires a Resource Manager token with the credential options and reports which credential
    and endpoints were used.
  - With O(resource_group) and O(vault_name), also lists the vault's Site Recovery fabrics, which
    proves the identity can read the vault.
  - Run it first in a failback runbook; it fails with a message that names the option to fix.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.deadline
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_AZURE
options:
  resource_group:
    description:
      - The resource group of the Recovery Services vault to check.
      - If not set, the value of E(AZURE_SITE_RECOVERY_RESOURCE_GROUP) is used.
    type: str
  vault_name:
    description:
      - The Recovery Services vault to check. Requires O(resource_group).
      - If not set, the value of E(AZURE_SITE_RECOVERY_VAULT) is used.
    type: str
"""

EXAMPLES = r"""
- name: Check the service principal and the vault
  siterecovery.failback.azure_connection_info:
    subscription_id: 00000000-0000-0000-0000-000000000000
    tenant: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    secret: "{{ azure_secret }}"
    resource_group: rg-dr
    vault_name: vault-dr
  register: azure

- name: Use the credentials exported as AZURE_* variables (for example by an AWX credential)
  siterecovery.failback.azure_connection_info:
    resource_group: rg-dr
    vault_name: vault-dr

- name: Azure Stack Hub or another custom cloud
  siterecovery.failback.azure_connection_info:
    arm_endpoint: https://management.local.azurestack.external
    authority_host: https://adfs.local.azurestack.external/adfs
    ca_bundle: /etc/pki/azurestack-ca.pem
"""

RETURN = r"""
subscription_id:
  description: The subscription used.
  returned: success
  type: str
  sample: 00000000-0000-0000-0000-000000000000
auth_source:
  description: The credential used, V(secret), V(certificate), V(cli) or V(msi).
  returned: success
  type: str
  sample: secret
cloud:
  description: The cloud name, or V(custom) for custom endpoints.
  returned: success
  type: str
  sample: AzureCloud
arm_endpoint:
  description: The Resource Manager endpoint used.
  returned: success
  type: str
  sample: https://management.azure.com
authority_host:
  description: The authority used for tokens.
  returned: success
  type: str
  sample: https://login.microsoftonline.com
token_expires_on:
  description: When the acquired token expires (ISO 8601, UTC). The token itself is never returned.
  returned: success
  type: str
  sample: "2026-11-26T08:30:00+00:00"
vault:
  description: The vault's fabrics, when O(vault_name) is given.
  returned: when O(vault_name) is given
  type: dict
  contains:
    resource_group:
      description: The vault's resource group.
      type: str
      sample: rg-dr
    name:
      description: The vault's name.
      type: str
      sample: vault-dr
    fabrics:
      description: The vault's Site Recovery fabrics.
      type: list
      elements: dict
      sample: [{"name": "a1b2c3", "friendly_name": "cs01", "type": "VMware"}]
api_calls:
  description: Resource Manager requests made (retries included).
  returned: success
  type: int
  sample: 1
api_reads:
  description: The GET (and HEAD) requests among RV(api_calls); ARM budgets reads per subscription and hour.
  returned: success, and on a failure after the module made a request
  type: int
  sample: 2
api_writes:
  description: The PUT, PATCH, POST and DELETE requests among RV(api_calls).
  returned: success, and on a failure after the module made a request
  type: int
  sample: 0
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 0.8
"""

import datetime

from ansible.module_utils.basic import env_fallback

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def list_fabrics(session, resource_group, vault_name):
    try:
        fabrics = list(session.site_recovery.replication_fabrics.list(resource_group, vault_name))
    except Exception as exc:  # pylint: disable=broad-except  # one readable error
        raise from_exception(exc, "list the Site Recovery fabrics of vault", "%s/%s" % (resource_group, vault_name)) from exc
    result = []
    for fabric in fabrics:
        props = fabric.properties
        details = getattr(props, "custom_details", None)
        result.append({"name": fabric.name, "friendly_name": getattr(props, "friendly_name", None),
                       "type": getattr(details, "instance_type", None)})
    return result


def gather(module):
    problems = options.check_module(module.params, ("timeout",))
    if problems:
        raise FailbackError(options.summary(problems, "the connection check"), problems=problems)
    session = module.azure(deadline=Deadline(module.params["timeout"]))
    expires = session.get_token()
    result = {
        "changed": False,
        "subscription_id": session.params.subscription_id,
        "auth_source": session.auth_source,
        "cloud": session.endpoints.cloud,
        "arm_endpoint": session.endpoints.arm_endpoint,
        "authority_host": session.endpoints.authority_host,
        "token_expires_on": datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).isoformat(),
    }
    if module.params["vault_name"]:
        rg, vault = module.params["resource_group"], module.params["vault_name"]
        result["vault"] = {"resource_group": rg, "name": vault, "fabrics": list_fabrics(session, rg, vault)}
    result.update(session.call_counts())
    return result


def main():
    spec = {
        "resource_group": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_RESOURCE_GROUP"])},
        "vault_name": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_VAULT"])},
        "timeout": {"type": "int", "default": 300},
    }
    module = FailbackModule(spec, azure=True, supports_check_mode=True,
                            required_by={"vault_name": "resource_group"})
    module.run(gather)


if __name__ == "__main__":
    main()
