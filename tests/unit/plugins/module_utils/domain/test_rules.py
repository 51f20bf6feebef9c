# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules the preflight and the steps share: one sentence each, from the same function."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import rules


@pytest.mark.parametrize("vm_os, mt_os, holds", [
    ("Windows", "windows", True), ("LINUX", "Linux", True), (None, "Linux", True), ("Windows", "", True),
    ("Windows", "Linux", False), ("linux", "WINDOWS", False)])
def test_master_target_os(vm_os, mt_os, holds):
    broken = rules.master_target_os("app01", vm_os, "mt-01", mt_os)
    assert (broken is None) is holds
    if broken:
        assert broken.rule == "mt_os" and broken.message.startswith("app01 runs ")
        assert broken.sentence() == broken.message + " " + broken.remedy


def test_master_target_disks_counts_to_sixty():
    assert rules.master_target_disks("mt-01", 58, 2) is None
    broken = rules.master_target_disks("mt-01", 58, 3)
    assert broken.message == "Master target mt-01 would hold 61 disks (58 now + 3); the limit is 60."
    assert rules.master_target_disks("mt-01", 57, 4, vm="db01").message == (
        "Master target mt-01 would hold 61 disks with db01's 4; the limit is 60.")
