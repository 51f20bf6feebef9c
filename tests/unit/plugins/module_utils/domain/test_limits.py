# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failback's limits, from their sources (domain/limits.py docstring), written here by hand."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import limits


@pytest.mark.parametrize("value", ["VMFS", "vmfs", "vsan", "vSAN", "VSAN", " VMFS "])
def test_vmfs_and_vsan_hold_failed_back_disks_in_any_case(value):
    assert limits.is_failback_datastore_type(value) is True


@pytest.mark.parametrize("value", ["NFS", "NFS41", "vvol", "VVOL", "other", "", None, "vmfs-01"])
def test_other_datastore_types_do_not(value):
    assert limits.is_failback_datastore_type(value) is False


def test_scsi_units_skip_the_controllers_own_unit_7():
    assert limits.SCSI_UNITS == (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)
    assert (limits.SCSI_UNITS_PER_CONTROLLER, limits.SCSI_MAX_CONTROLLERS, limits.SCSI_MAX_DISKS) == (15, 4, 60)


def test_sixty_disks_per_master_target():
    assert limits.MASTER_TARGET_DISK_LIMIT == 60


@pytest.mark.parametrize("count,needed", [(0, 1), (1, 1), (15, 1), (16, 2), (30, 2), (31, 3), (60, 4), (61, None)])
def test_controllers_needed(count, needed):
    assert limits.scsi_controllers_needed(count) == needed
