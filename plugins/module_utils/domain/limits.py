# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failback's fixed limits, defined once. Pure Python: no SDK, no Ansible.

Sources:

* Failback datastores: ASR fails back to VMFS or vSAN datastores only, never NFS ("Reprotect from
  Azure to on-premises", Microsoft Learn; ASR lists the master target's datastores with their
  ``type`` as vSphere reports it: ``VMFS``, ``vsan``, ``NFS``...). vSphere spells the type
  ``VMFS`` and ``vsan``, ASR and users spell it in other cases: compare with
  :func:`is_failback_datastore_type`, never with ``in`` on a raw value.
* 60 disks: a master target (classic) or replication appliance (modernized) protects at most 60
  disks (the VMware-to-Azure support matrix, "Master target server": "up to 60 disks").
* SCSI: a VMware SCSI controller has 16 units, 0 to 15, of which unit 7 is the controller's own,
  so 15 disks per controller; a VM has at most 4 SCSI controllers, buses 0 to 3 (vSphere
  "Configuration Maximums": 4 SCSI adapters per VM, 15 targets per adapter) - 60 disks.
"""

from __future__ import annotations

FAILBACK_DATASTORE_TYPES = ("vmfs", "vsan")  # lower case: see is_failback_datastore_type
MASTER_TARGET_DISK_LIMIT = 60
SCSI_RESERVED_UNIT = 7
SCSI_UNITS = tuple(unit for unit in range(16) if unit != SCSI_RESERVED_UNIT)  # the 15 units a disk may take
SCSI_UNITS_PER_CONTROLLER = len(SCSI_UNITS)
SCSI_MAX_CONTROLLERS = 4
SCSI_BUSES = tuple(range(SCSI_MAX_CONTROLLERS))  # bus numbers 0-3
SCSI_MAX_DISKS = SCSI_UNITS_PER_CONTROLLER * SCSI_MAX_CONTROLLERS  # 60


def datastore_type(value):
    """The one normalization of a datastore type: a lower-case string without surrounding blanks
    ('VMFS' -> 'vmfs', ' vSAN' -> 'vsan'); '' for None."""
    return str(value or "").strip().lower()


def is_failback_datastore_type(value):
    """True when a datastore of type ``value`` (any case) can hold failed-back disks: VMFS or vSAN."""
    return datastore_type(value) in FAILBACK_DATASTORE_TYPES


def scsi_controllers_needed(disk_count):
    """How many SCSI controllers ``disk_count`` disks need (15 per controller); None above 4 controllers."""
    needed = max(1, -(-int(disk_count) // SCSI_UNITS_PER_CONTROLLER))
    return needed if needed <= SCSI_MAX_CONTROLLERS else None
