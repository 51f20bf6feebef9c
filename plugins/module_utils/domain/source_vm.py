# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the alternate-location VM is created with, decided from what ASR reports about the source
machine. Pure Python: plain data in, decisions out (no SDK, no Ansible).

The source facts (``asr.items.source_facts``, returned per item by ``replicated_item_info`` as ``source``)
use ASR's own words, from the item's provider details (tests/recorded/asr):

* ``firmware_type``: ``firmwareType`` of a forward item (InMageAzureV2, InMageRcm: ``"UEFI"`` in
  item_get.InMageAzureV2.UnplannedFailoverCommitted.V2ATestSwitchProtection and item_get.InMageRcm.*).
  ``azure_vm_generation``: ``azureVmGeneration`` (InMageAzureV2) or ``targetGeneration`` (InMageRcm),
  ``"V2"`` for a UEFI source. Failback-direction items (InMage, InMageRcmFailback) carry neither: read the
  forward item before the reprotect, or give ``firmware`` yourself.
* ``os_type``: ``osType`` (``osDetails.osType`` for InMage), ``"Windows"`` or ``"Linux"``.
* ``os_name``: ``discoveredVmDetails.osName`` (modernized: vCenter's guest OS name, e.g. ``"Microsoft Windows
  Server 2016 or later (64-bit)"``) or ``osVersion`` (InMageAzureV2: the guest's own caption, e.g.
  ``"Microsoft Windows Server 2016 Datacenter"``).
* ``networks``: one entry per source NIC, the vSphere network it was on: InMageRcm ``vmNics[].sourceNetworkId``
  (``"VM Network"``), InMageRcmFailback ``vmNics[].networkName`` (null in the recordings). Classic items'
  ``vmNics[].vMNetworkName`` is the guest's adapter name (``"Intel(R) 82574L Gigabit Network Connection"``), not a
  network, and is not used.

ASR reports nothing about the source's secure boot (InMageRcm's ``targetVmSecurityProfile`` in newer API versions
describes the Azure VM, not the source), nor its SCSI controllers' type or its disks' bus and unit: the new VM is
created with secure boot off, and its controller type comes from the guest OS (:data:`SCSI_BY_GUEST_PREFIX`).
"""

from __future__ import annotations

import re

# ASR firmwareType -> vSphere config.firmware
FIRMWARE = {"uefi": "efi", "bios": "bios"}
# ASR azureVmGeneration / targetGeneration -> vSphere firmware: a Generation 2 Azure VM boots UEFI only, and ASR
# makes a UEFI source a Generation 2 VM ("Azure Site Recovery support for UEFI", Microsoft Learn)
GENERATION = {"v2": "efi", "v1": "bios"}

# guest OS ids (vim.vm.GuestOsDescriptor.GuestOsIdentifier) by the OS name ASR reports: the first pattern that
# matches (case-insensitive, on os_name) wins
GUEST_IDS = (
    (r"windows server 2025", "windows2022srvNext_64Guest"),
    (r"windows server 2022", "windows2019srvNext_64Guest"),
    (r"windows server 2019", "windows2019srv_64Guest"),
    (r"windows server 2016", "windows9Server64Guest"),  # vCenter: "Microsoft Windows Server 2016 or later (64-bit)"
    (r"windows server 2012", "windows8Server64Guest"),
    (r"windows server 2008 r2", "windows7Server64Guest"),
    (r"windows (10|11)", "windows9_64Guest"),
    (r"(red hat|rhel).*\b9\b", "rhel9_64Guest"),
    (r"(red hat|rhel).*\b8\b", "rhel8_64Guest"),
    (r"(red hat|rhel).*\b7\b", "rhel7_64Guest"),
    (r"centos.*\b8\b", "centos8_64Guest"),
    (r"centos.*\b7\b", "centos7_64Guest"),
    (r"oracle linux.*\b9\b", "oracleLinux9_64Guest"),
    (r"oracle linux.*\b8\b", "oracleLinux8_64Guest"),
    (r"(suse|sles).*\b15\b", "sles15_64Guest"),
    (r"(suse|sles).*\b12\b", "sles12_64Guest"),
    (r"debian.*\b12\b", "debian12_64Guest"),
    (r"debian.*\b11\b", "debian11_64Guest"),
    (r"debian.*\b10\b", "debian10_64Guest"),
    (r"ubuntu", "ubuntu64Guest"),
)
# an unrecognised Linux gets vSphere's generic 64-bit Linux id ("Other Linux (64-bit)"): any 64-bit kernel boots and
# open-vm-tools run under it; an unrecognised Windows is refused (no generic Windows id exists, and the id decides the
# virtual hardware Windows finds at boot)
GENERIC_LINUX = "otherLinux64Guest"

# SCSI controller of a new VM by guest id prefix (vSphere's recommended adapter for the guest): Windows Server 2008
# and later ship no driver for the parallel LSI Logic adapter, they boot from LSI Logic SAS
SCSI_BY_GUEST_PREFIX = (("windows", "lsilogic-sas"),)
DEFAULT_SCSI = "lsilogic"
SCSI_TYPES = ("lsilogic", "lsilogic-sas", "pvscsi")


def firmware(source, given=None):
    """``(vSphere firmware 'efi' | 'bios' | None, problem or None)``: ``given`` (the user's) wins; else ASR's
    ``firmware_type``, else its Azure VM generation. None with a problem when ASR reports nothing usable."""
    if given:
        return given, None
    source = source or {}
    reported = str(source.get("firmware_type") or "").strip().lower()
    if reported in FIRMWARE:
        return FIRMWARE[reported], None
    generation = str(source.get("azure_vm_generation") or "").strip().lower()
    if generation in GENERATION and not reported:
        return GENERATION[generation], None
    what = ("firmwareType %r" % source.get("firmware_type")) if reported else "no firmwareType nor VM generation"
    return None, ("ASR reports %s for the source machine (failback-direction items, InMage and InMageRcmFailback, "
                  "carry none; the forward item read before the reprotect does). Set firmware: efi (UEFI) or bios for "
                  "it, as the source VM had." % what)


def guest_id(source, given=None):
    """``(guest OS id or None, problem or None)``: ``given`` wins; else the first :data:`GUEST_IDS` pattern matching
    ASR's ``os_name``; else :data:`GENERIC_LINUX` for ``os_type`` Linux; else a problem (Windows or unknown)."""
    if given:
        return given, None
    source = source or {}
    name = str(source.get("os_name") or "")
    for pattern, value in GUEST_IDS:
        if re.search(pattern, name, re.IGNORECASE):
            return value, None
    os_type = str(source.get("os_type") or "")
    if os_type.lower() == "linux":
        return GENERIC_LINUX, None
    return None, ("ASR reports OS %r (osType %r), which has no known vSphere guest OS id. Set guest_id for it (for "
                  "example windows2019srv_64Guest), as the source VM had." % (name or None, os_type or None))


def scsi_type(guest, given=None):
    """The SCSI controller type of a new VM: ``given`` wins, else by guest id (:data:`SCSI_BY_GUEST_PREFIX`)."""
    if given:
        return given
    for prefix, value in SCSI_BY_GUEST_PREFIX:
        if str(guest or "").lower().startswith(prefix):
            return value
    return DEFAULT_SCSI


def target_networks(source, given=None, network_map=None):
    """``(target port group names in NIC order, problems)``: ``given`` (the user's port groups) wins; else each
    source NIC's network from ASR, through ``network_map`` ({source network: target port group}; a network not
    in it keeps its name). A source NIC whose network ASR does not name is a problem (no NIC is guessed)."""
    if given:
        return list(given), []
    network_map = network_map or {}
    names, problems = [], []
    for index, network in enumerate((source or {}).get("networks") or []):
        if not network:
            problems.append("ASR does not name the network of source NIC %d. Give networks: [port group, ...] for "
                            "every NIC, in order." % index)
            continue
        names.append(network_map.get(network, network))
    return names, problems


def unused_map_keys(source, network_map):
    """The source networks of ``network_map`` that no source NIC of ``source`` is on (a misspelt key maps
    nothing): sorted, empty when every key is used."""
    used = set((source or {}).get("networks") or [])
    return sorted(k for k in network_map or {} if k not in used)
