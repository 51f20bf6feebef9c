# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - Which credential to use.
      - V(auto) uses a service principal when O(tenant), O(client_id) and O(secret) (or
        O(x509_certificate_path)) are given, else a user name and password when O(ad_user) and O(ad_password)
        are given, a user-assigned managed identity when only O(client_id)
        is given, else the Azure CLI login when C(az) is installed, else the managed identity.
      - V(env) requires a complete service principal, or a user name and password, from the options or the
        E(AZURE_*) variables (the two forms of AWX's Microsoft Azure Resource Manager credential).
      - V(cli) uses the Azure CLI login; V(msi) the managed identity of the machine.
      - If not set, the value of E(ANSIBLE_AZURE_AUTH_SOURCE) is used.
    type: str
    choices: [auto, env, cli, msi]
    default: auto
  subscription_id:
    description:
      - The subscription that holds the Recovery Services vault and the failed-over VMs, by its id (a GUID; its
        name is refused before any request).
      - If not set, the value of E(AZURE_SUBSCRIPTION_ID) is used.
    type: str
  tenant:
    description:
      - The Microsoft Entra ID (Azure AD) tenant of the service principal, by id (a GUID) or domain name
        (V(contoso.onmicrosoft.com)).
      - If not set, the value of E(AZURE_TENANT) is used.
    type: str
  client_id:
    description:
      - The application (client) id (a GUID) of the service principal, or of a user-assigned managed identity.
      - If not set, the value of E(AZURE_CLIENT_ID) is used.
    type: str
  secret:
    description:
      - The client secret of the service principal.
      - If not set, the value of E(AZURE_SECRET) is used.
    type: str
  x509_certificate_path:
    description:
      - A PEM or PKCS12 certificate (with its private key) of the service principal, instead of O(secret).
      - If not set, the value of E(AZURE_X509_CERTIFICATE_PATH) is used.
    type: path
  x509_certificate_password:
    description:
      - The password of O(x509_certificate_path), if it has one.
      - If not set, the value of E(AZURE_X509_CERTIFICATE_PASSWORD) is used.
    type: str
  ad_user:
    description:
      - A Microsoft Entra ID user principal name (V(operator@contoso.com)) to sign in with, with O(ad_password),
        instead of a service principal - the user name form of AWX's Microsoft Azure Resource Manager credential.
      - Signs in through the public client O(client_id) (default the Azure CLI's, V(04b07795-8ddb-461a-bbee-02f9e1bf7b46),
        as AWX and azure.azcollection do) and the tenant O(tenant) (default the user's home tenant).
      - An account with multi-factor authentication enforced (a Conditional Access policy, security defaults), a
        federated or a personal Microsoft account cannot sign in this way; use a service principal.
      - If not set, the value of E(AZURE_AD_USER) is used.
    type: str
  ad_password:
    description:
      - The password of O(ad_user).
      - Named C(ad_password), not C(password) as in azure.azcollection, because modules that also talk to vCenter
        take the vCenter password as O(ignore:password).
      - If not set, the value of E(AZURE_PASSWORD) is used.
    type: str
  cloud_environment:
    description:
      - The Azure cloud, V(AzureCloud), V(AzureUSGovernment) or V(AzureChinaCloud).
      - For Azure Stack Hub or another custom cloud, keep this one and set O(arm_endpoint) and O(authority_host).
      - Any other name (also with O(arm_endpoint) and O(authority_host)) is refused before any request.
      - If not set, the value of E(AZURE_CLOUD_ENVIRONMENT) is used.
    type: str
    default: AzureCloud
  arm_endpoint:
    description:
      - The Azure Resource Manager endpoint, overriding the one of O(cloud_environment),
        for example V(https://management.local.azurestack.external).
      - If not set, the value of E(AZURE_ARM_ENDPOINT) is used.
    type: str
  authority_host:
    description:
      - The Microsoft Entra ID authority, overriding the one of O(cloud_environment).
        A custom authority skips Microsoft's instance discovery.
      - If not set, the value of E(AZURE_AUTHORITY_HOST) is used.
    type: str
  ca_bundle:
    description:
      - A PEM bundle of CAs to verify the TLS certificates of the authority and Resource Manager
        (a TLS-inspecting proxy, Azure Stack Hub). TLS is always verified; no option turns it off.
      - If not set, the value of E(AZURE_CA_BUNDLE) is used.
    type: path
notes:
  - Throttled (HTTP 429) requests are retried until the module's deadline (its O(ignore:timeout) option), waiting as long
    as the C(Retry-After) header says; a C(Retry-After) beyond the deadline fails at once, naming the O(ignore:timeout)
    that would wait it out. Failed (HTTP 5xx) requests are retried up to 10 times, never past the deadline.
  - A connection that cannot be opened (refused, 30 s connect timeout, name not resolved) is tried three times, then
    fails naming the endpoint. A TLS verification failure is not retried and names O(ca_bundle).
  - A token Resource Manager rejects as expired (HTTP 401 C(ExpiredAuthenticationToken)) is renewed once and the
    request sent again, so long waits outlive a token.
  - Options are checked before any request - O(cloud_environment), O(arm_endpoint), O(authority_host) (https URLs of a
    host), O(subscription_id), O(tenant), O(client_id), O(ad_user) (a user principal name), that O(ad_user) and
    O(ad_password) come together, and that O(ca_bundle) exists.
requirements:
  - azure-identity >= 1.15.0
  - azure-mgmt-recoveryservicessiterecovery >= 2.0, < 3
  - azure-mgmt-compute >= 33.0.0
"""

    # The same options for inventory plugins, which read the environment through the options' env entries.
    PLUGIN = r"""
options:
  auth_source:
    description:
      - Which credential to use, as for the modules - V(auto), V(env), V(cli) or V(msi).
      - V(auto) uses a service principal when O(tenant), O(client_id) and O(secret) (or O(x509_certificate_path)) are
        given, else a user name and password when O(ad_user) and O(ad_password) are given, a user-assigned managed
        identity when only O(client_id) is given, else the Azure CLI login when C(az) is installed, else the managed
        identity.
    type: str
    choices: [auto, env, cli, msi]
    default: auto
    env:
      - name: ANSIBLE_AZURE_AUTH_SOURCE
  subscription_id:
    description: The subscription that holds the vaults, by id (a GUID).
    type: str
    env:
      - name: AZURE_SUBSCRIPTION_ID
  tenant:
    description: The Microsoft Entra ID tenant, by id (a GUID) or domain name.
    type: str
    env:
      - name: AZURE_TENANT
  client_id:
    description: The application (client) id of the service principal or of a user-assigned managed identity.
    type: str
    env:
      - name: AZURE_CLIENT_ID
  secret:
    description: The client secret of the service principal.
    type: str
    env:
      - name: AZURE_SECRET
  x509_certificate_path:
    description: A PEM or PKCS12 certificate (with its private key) of the service principal, instead of O(secret).
    type: path
    env:
      - name: AZURE_X509_CERTIFICATE_PATH
  x509_certificate_password:
    description: The password of O(x509_certificate_path).
    type: str
    env:
      - name: AZURE_X509_CERTIFICATE_PASSWORD
  ad_user:
    description:
      - A user principal name (V(operator@contoso.com)) to sign in with, with O(ad_password) - the user name form of
        AWX's Microsoft Azure Resource Manager credential; through the public client O(client_id) (default the Azure
        CLI's, as AWX and azure.azcollection use).
      - An account with multi-factor authentication enforced, a federated or a personal Microsoft account cannot sign
        in this way; use a service principal.
    type: str
    env:
      - name: AZURE_AD_USER
  ad_password:
    description: The password of O(ad_user).
    type: str
    env:
      - name: AZURE_PASSWORD
  cloud_environment:
    description: The Azure cloud, V(AzureCloud), V(AzureUSGovernment) or V(AzureChinaCloud).
    type: str
    default: AzureCloud
    env:
      - name: AZURE_CLOUD_ENVIRONMENT
  arm_endpoint:
    description: The Azure Resource Manager endpoint, overriding the one of O(cloud_environment).
    type: str
    env:
      - name: AZURE_ARM_ENDPOINT
  authority_host:
    description: The Microsoft Entra ID authority, overriding the one of O(cloud_environment).
    type: str
    env:
      - name: AZURE_AUTHORITY_HOST
  ca_bundle:
    description: A PEM bundle of CAs to verify the TLS certificates of the authority and Resource Manager; TLS is always verified.
    type: path
    env:
      - name: AZURE_CA_BUNDLE
requirements:
  - azure-identity >= 1.15.0
  - azure-mgmt-recoveryservicessiterecovery >= 2.0, < 3
"""
