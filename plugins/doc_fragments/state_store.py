# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Where a run keeps its lease and the Azure VM identity records (run_lock, reprotect, and every module that
    # finds a failed-over Azure VM). See docs/locking.md.
    DOCUMENTATION = r"""
options:
  state_store:
    description:
      - Where the run's lease (claims and lease of C(run_lock)) and the Azure VM identity record (written before the
        first reprotect, read to find the Azure VM afterwards) live.
      - V(tags) - tags of the failed-over Azure VMs. Needs nothing else; fails where an Azure Policy denies tag writes
        (C(403 RequestDisallowedByPolicy)).
      - V(blob) - blobs of the container O(state_container) of the storage account O(state_storage_account), in one
        folder per vault (C(<subscription>/<resource group>/<vault>/)); no tag is written. The run's identity needs the
        role C(Storage Blob Data Contributor) on the container. Identity records and live claims written as tags by
        earlier or other runs are still read.
      - If not set, the value of E(AZURE_SITE_RECOVERY_STATE_STORE) is used.
    type: str
    choices: [tags, blob]
    default: tags
  state_storage_account:
    description:
      - The storage account of the blob store (3 to 24 lower-case letters and digits); its Blob endpoint is
        C(https://<account>.blob.<storage suffix of cloud_environment>) (C(core.windows.net), C(core.usgovcloudapi.net),
        C(core.chinacloudapi.cn)).
      - Required with O(state_store=blob) unless O(state_account_url) is given.
      - If not set, the value of E(AZURE_SITE_RECOVERY_STATE_STORAGE_ACCOUNT) is used.
    type: str
  state_container:
    description:
      - The blob container of the blob store (3 to 63 lower-case letters, digits and single hyphens). It must exist.
      - If not set, the value of E(AZURE_SITE_RECOVERY_STATE_CONTAINER) is used.
    type: str
    default: siterecovery-failback
  state_account_url:
    description:
      - The Blob endpoint of the storage account, C(https://...), instead of the one derived from
        O(state_storage_account) - a private endpoint's name, a custom cloud (Azure Stack Hub), or an emulator's
        path-style URL (C(https://127.0.0.1:10000/account)).
      - If not set, the value of E(AZURE_SITE_RECOVERY_STATE_ACCOUNT_URL) is used.
    type: str
"""
