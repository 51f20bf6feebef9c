# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who may hand a failed-back VM one of its own VMDKs: the decision ``onprem_vm`` takes for a VM that exists
with fewer disks than it should, when a VMDK of it (``[ds] name/name[_N].vmdk`` in the directory of its .vmx) is
attached to another VM.

Site Recovery's alternate-location failover takes the VM's VMDKs off the master target and attaches them to the VM
it creates. A job that stopped after moving some of them leaves the others attached to the master target, and the
failover run again leaves the VM it created as it is (issue 15). At stage ``failed_back`` (the only stage at which
``onprem_vm`` takes a disk off a master target, ``domain.lifecycle.onprem_decision``) Site Recovery no longer
writes to them, so they are taken off the master target and attached to the VM, as the original-location return
does. Only from the master target Site Recovery names for the item (its ``masterTargetId``,
``asr.fabric.master_target_of``) or the one the user names (``master_target``): a VMDK attached to any other VM
is that VM's, and never taken.

Plain data in, decisions out.
"""

from __future__ import annotations

TAKE, REFUSE = "take", "refuse"


def decide(vm_name, file_name, holder, item_master_target=None, given_master_target=None):
    """``(TAKE, None)`` when VM ``vm_name``'s VMDK ``file_name``, attached to VM ``holder``, is to be taken off it
    and attached to ``vm_name``: ``holder`` is the master target Site Recovery names for the VM's item
    (``item_master_target``) or the one given (``given_master_target``). Else ``(REFUSE, sentence)`` naming the VM,
    the VMDK, the holder, the rule and the fix. Names are VM names as vCenter shows them; None is no name."""
    if holder and holder in {item_master_target, given_master_target} - {None, ""}:
        return TAKE, None
    if item_master_target:
        why = ("Site Recovery names master target %s for its item, and a VMDK of the VM is taken only off that one: "
               "%s is not it." % (item_master_target, holder))
        fix = ("If %s holds it by mistake, detach it from %s without deleting it and re-run; if %s holds Site "
               "Recovery's replica, give master_target: %s for %s." % (holder, holder, holder, holder, vm_name))
    else:
        why = "Site Recovery names no master target for its item, so nothing says %s holds its replica." % holder
        fix = ("If %s is the master target that holds Site Recovery's replica, give master_target: %s for %s "
               "(onprem_vm then takes the VMDK off it); otherwise detach it from %s without deleting it and re-run."
               % (holder, holder, vm_name, holder))
    return REFUSE, "VM %s: its VMDK %s is attached to VM %s. %s %s" % (vm_name, file_name, holder, why, fix)
