# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The progress file of a module that waits (reprotect, failover, commit, onprem_vm, replicated_item_info,
    # master_target_disks); its action plugin sets it and prints the progress while the module runs.
    DOCUMENTATION = r"""
options:
  progress_file:
    description:
      - A file this module replaces, at each poll of its waits, with what each VM waits for - the ASR job's name and
        ARM id, the job's current task and state, VMware Tools, the first recovery point or a vSphere task - and
        since when (JSON; see the collection's C(module_utils/progress.py)).
      - The module's action plugin sets it to a private temporary file on the controller and, while the module runs,
        prints one line per VM from it at least every 30 seconds (the variable C(failback_progress_interval), in
        seconds, 1 to 30, default 20), so a long wait is visible and AWX's idle timeout does not end the job. Set it
        yourself only to follow a run from elsewhere; unset, nothing is written.
      - A write that fails is skipped; it never fails the task.
    type: path
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on
      the controller.
    support: full
    details: The action plugin runs the module and prints its progress (O(progress_file)) while it waits.
"""
