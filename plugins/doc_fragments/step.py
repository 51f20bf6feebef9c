# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The options every lifecycle step (reprotect, failover, commit) shares for a whole-run check mode.
    DOCUMENTATION = r"""
options:
  assume_stages:
    description:
      - Check mode only (ignored otherwise) - the stage of each VM, by VM name, that an earlier step of the same
        check-mode run predicted (its C(predicted_stages)). A VM whose real stage is behind the one given is planned from the
        given stage, so C(ansible-playbook --check) of a whole failback shows every step. What the earlier step
        would create (recovery points, on-premises disks) is not checked then; the real run checks it before any
        change, and the VM's result says C(assumed).
    type: dict
    default: {}
  per_vm:
    description:
      - A VM that cannot take this step, or whose job fails, stops alone - with the other VMs of its replication
        group, which ASR moves together - and the other VMs go on. The module still fails, naming each VM that
        stopped, its stage and why (C(error.stopped)), and returns the VMs that go on (C(error.continue_with)), so
        a run can carry on with them and end failed.
      - Over recovery plans (O(recovery_plan)), each plan is one unit, which ASR moves as one - a plan that cannot take
        the step, or whose job fails, stops whole, and the other plans go on (C(error.plans_going), and per plan
        C(plans)).
      - Off, the first refusal refuses the whole step and nothing changes.
    type: bool
    default: false
"""
