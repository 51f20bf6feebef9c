# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs for the connection options (Ansible glue), mirrored by the doc fragments."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AUTH_SOURCES, AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.connection import ConnectionParams


def vsphere_argument_spec():
    """Connection options for vCenter or a standalone ESXi host (doc fragment: vsphere)."""
    return {
        "hostname": {"type": "str", "fallback": (env_fallback, ["VMWARE_HOST"])},
        "username": {"type": "str", "aliases": ["user"], "fallback": (env_fallback, ["VMWARE_USER"])},
        "password": {"type": "str", "aliases": ["pass"], "no_log": True, "fallback": (env_fallback, ["VMWARE_PASSWORD"])},
        "port": {"type": "int", "default": 443, "fallback": (env_fallback, ["VMWARE_PORT"])},
        "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["VMWARE_VALIDATE_CERTS"])},
        "ca_file": {"type": "path", "fallback": (env_fallback, ["VMWARE_CA_FILE"])},
        "thumbprint": {"type": "str", "fallback": (env_fallback, ["VMWARE_THUMBPRINT"])},
        "connection_timeout": {"type": "int", "default": 60, "fallback": (env_fallback, ["VMWARE_CONNECTION_TIMEOUT"])},
    }


def azure_argument_spec():
    """Credential and endpoint options for Azure (doc fragment: azure)."""
    return {
        "auth_source": {"type": "str", "default": "auto", "choices": list(AUTH_SOURCES),
                        "fallback": (env_fallback, ["ANSIBLE_AZURE_AUTH_SOURCE"])},
        "subscription_id": {"type": "str", "fallback": (env_fallback, ["AZURE_SUBSCRIPTION_ID"])},
        "tenant": {"type": "str", "fallback": (env_fallback, ["AZURE_TENANT"])},
        "client_id": {"type": "str", "fallback": (env_fallback, ["AZURE_CLIENT_ID"])},
        "secret": {"type": "str", "no_log": True, "fallback": (env_fallback, ["AZURE_SECRET"])},
        "x509_certificate_path": {"type": "path", "fallback": (env_fallback, ["AZURE_X509_CERTIFICATE_PATH"])},
        "x509_certificate_password": {"type": "str", "no_log": True,
                                      "fallback": (env_fallback, ["AZURE_X509_CERTIFICATE_PASSWORD"])},
        "ad_user": {"type": "str", "fallback": (env_fallback, ["AZURE_AD_USER"])},
        # not "password": modules with the vSphere options already take the vCenter password under that name
        "ad_password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["AZURE_PASSWORD"])},
        "cloud_environment": {"type": "str", "default": "AzureCloud", "fallback": (env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])},
        "arm_endpoint": {"type": "str", "fallback": (env_fallback, ["AZURE_ARM_ENDPOINT"])},
        "authority_host": {"type": "str", "fallback": (env_fallback, ["AZURE_AUTHORITY_HOST"])},
        "ca_bundle": {"type": "path", "fallback": (env_fallback, ["AZURE_CA_BUNDLE"])},
    }


def vault_argument_spec():
    """The Recovery Services vault that holds the replicated items (doc fragment: vault)."""
    return {
        "resource_group": {"type": "str", "required": True, "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_RESOURCE_GROUP"])},
        "vault_name": {"type": "str", "required": True, "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_VAULT"])},
    }


def state_store_argument_spec():
    """Where the run's lease and the Azure VM identity records live (doc fragment: state_store)."""
    return {
        "state_store": {"type": "str", "default": "tags", "choices": ["tags", "blob"],
                        "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_STATE_STORE"])},
        "state_storage_account": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_STATE_STORAGE_ACCOUNT"])},
        "state_container": {"type": "str", "default": "siterecovery-failback",
                            "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_STATE_CONTAINER"])},
        "state_account_url": {"type": "str", "fallback": (env_fallback, ["AZURE_SITE_RECOVERY_STATE_ACCOUNT_URL"])},
    }


def vsphere_params(params):
    return ConnectionParams(hostname=params.get("hostname"), username=params.get("username"),
                            password=params.get("password"), port=params.get("port"),
                            validate_certs=params.get("validate_certs"), ca_file=params.get("ca_file"),
                            thumbprint=params.get("thumbprint"), timeout=params.get("connection_timeout"))


def azure_params(params):
    return AzureParams(**{name: params.get(name) for name in azure_argument_spec()})
