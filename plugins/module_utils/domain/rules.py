# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Safety rules that both the preflight report (``domain.readiness``) and a step's own gate apply, each defined
once: plain values in, ``None`` or a :class:`Broken` (what is wrong, and the fix) out.

Sources: a Windows VM fails back through a Windows master target and a Linux VM through a Linux one ("Reprotect
from Azure to on-premises", Microsoft Learn); a master target protects at most 60 disks (``domain.limits``).
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits


class Broken:
    """A rule that does not hold: ``message`` names the objects and the rule, ``remedy`` the fix."""

    def __init__(self, rule, message, remedy):
        self.rule, self.message, self.remedy = rule, message, remedy

    def sentence(self):
        """Message and fix in one sentence, for a step's refusal."""
        return "%s %s" % (self.message, self.remedy)


def _family(os_type):
    return str(os_type or "").strip().lower()


def master_target_os(vm, vm_os, master_target, master_target_os_type):
    """Rule ``mt_os``: the VM and its master target run the same OS family. Unknown on either side holds."""
    mine, theirs = _family(vm_os), _family(master_target_os_type)
    if not mine or not theirs or mine == theirs:
        return None
    return Broken("mt_os", "%s runs %s but master target %s runs %s." % (
        vm, mine.capitalize(), master_target, theirs.capitalize()),
        "Use a %s master target: Windows VMs fail back through a Windows master target, Linux VMs through a Linux "
        "one." % mine.capitalize())


def master_target_disks(master_target, has, adding, limit=limits.MASTER_TARGET_DISK_LIMIT, vm=None):
    """Rule ``mt_disk_limit``: the master target's ``has`` disks plus the ``adding`` ones stay within ``limit``."""
    if has + adding <= limit:
        return None
    whose = " with %s's %d" % (vm, adding) if vm else " (%d now + %d)" % (has, adding)
    return Broken("mt_disk_limit", "Master target %s would hold %d disks%s; the limit is %d." % (
        master_target, has + adding, whose, limit), "Use another master target for this VM, or add one.")
