# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  resource_group:
    description:
      - The resource group of the Recovery Services vault.
      - If not set, the value of E(AZURE_SITE_RECOVERY_RESOURCE_GROUP) is used.
    type: str
    required: true
  vault_name:
    description:
      - The name of the Recovery Services vault that holds the replicated items.
      - If not set, the value of E(AZURE_SITE_RECOVERY_VAULT) is used.
    type: str
    required: true
"""
