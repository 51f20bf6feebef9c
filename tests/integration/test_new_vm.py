# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""issue 14: the alternate-location VM onprem_vm creates - firmware, guest OS, SCSI controllers, disk order and
networks from what Site Recovery reports about the source - judged through vCenter's property collector.

onprem_vm reads each VM's protected item first: its tests run on a whole lab in which Site Recovery failed web02 back
while its VMDKs are still on mt-lin01 (a failover that stopped before moving them)."""

import ssl

from conftest import NO_MUTATIONS, run_check_mode, run_module, watch_calls
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

# what Site Recovery reports about a source, shaped as replicated_item_info returns it (``source``):
# a classic forward item (InMageAzureV2) of a UEFI Windows Server 2019 machine: firmwareType UEFI, azureVmGeneration
# V2, osVersion "Microsoft Windows Server 2019 Datacenter", and no network (its vMNetworkName is the guest's adapter)
UEFI_WINDOWS = {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
                "os_name": "Microsoft Windows Server 2019 Datacenter", "networks": None}
# the classic failback item (InMage) of the same machine: osDetails.osType only
INMAGE_FAILBACK = {"firmware_type": None, "azure_vm_generation": None, "os_type": "Windows", "os_name": None,
                   "networks": None}
# a modernized forward item (InMageRcm) of a BIOS Linux machine: vmNics[].sourceNetworkId "VM Network"
RCM_LINUX = {"firmware_type": "BIOS", "azure_vm_generation": "V1", "os_type": "Linux",
             "os_name": "Red Hat Enterprise Linux 8 (64-bit)", "networks": ["VM Network"]}
WEB0, WEB1 = "[vmfs-01] web02/web02.vmdk", "[vmfs-01] web02/web02_1.vmdk"
# ASR says web02 failed back; vCenter is as while it replicated: its VMDKs on mt-lin01, no VM web02
FAILED_BACK_DISKS_ON_MT = {"asr": {"items": [
    {"name": "web02", "stage": "failed_back", "onprem_as_at": "replicating_to_onprem"}]}}


def web02(**changes):
    entry = {"name": "web02", "location": "alternate", "master_target": "mt-lin01", "datastore": "vmfs-01",
             "num_cpu": 2, "memory_mb": 4096}
    entry.update(changes)
    return {"vms": [entry], "wait_for_tools": False}


def start(full_lab, spec_name):
    """A whole lab from ``spec_name`` (one that extends replicating.yml) with web02 failed back, its VMDKs on mt-lin01."""
    return full_lab(spec_name, FAILED_BACK_DISKS_ON_MT)


def read_vms(lab, *names):
    """``{name: {path: value}}`` of firmware, guest, boot options and devices, by one property-collector read."""
    info = lab.simulators["vcenter"].info
    si = SmartConnect(host=info["host"], port=info["port"], user=info["username"], pwd=info["password"],
                      sslContext=ssl.create_default_context(cafile=info["ca_file"]))
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[
                pc.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)])],
            propSet=[pc.PropertySpec(type=vim.VirtualMachine, all=False, pathSet=[
                "name", "config.firmware", "config.guestId", "config.bootOptions", "config.hardware.device"])])
        rows = {}
        for obj in content.propertyCollector.RetrieveContents([spec]):
            row = {p.name: p.val for p in obj.propSet}
            if row["name"] in names:
                rows[row["name"]] = row
        switches = {}
        dvs_view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
        for switch in dvs_view.view:
            switches[switch.uuid] = (switch.name, {pg.key: pg.name for pg in switch.portgroup})
        for row in rows.values():
            row["switches"] = switches
        return rows
    finally:
        Disconnect(si)


def layout(row):
    """``[(controller class name, bus, [(unit, file) ...])]`` in bus order, from config.hardware.device."""
    devices = row["config.hardware.device"]
    controllers = sorted((d for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)),
                         key=lambda c: c.busNumber)
    return [(type(c).__name__.split(".")[-1], c.busNumber,
             sorted((d.unitNumber, d.backing.fileName) for d in devices
                    if isinstance(d, vim.vm.device.VirtualDisk) and d.controllerKey == c.key)) for c in controllers]


def nics(row):
    """Each NIC's network: ``("standard", port group name)`` or ``("distributed", switch name, port group name)``."""
    result = []
    for device in row["config.hardware.device"]:
        if not isinstance(device, vim.vm.device.VirtualEthernetCard):
            continue
        backing = device.backing
        if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
            switch, groups = row["switches"][backing.port.switchUuid]
            result.append(("distributed", switch, groups[backing.port.portgroupKey]))
        else:
            result.append(("standard", backing.deviceName))
    return result


def mt_files(lab):
    return [f for _type, _bus, disks in layout(read_vms(lab, "mt-lin01")["mt-lin01"]) for _unit, f in disks]


def refused(lab, args):
    """Run ``args``, expect a refusal, and prove no mutating call reached the lab; returns the message."""
    watch = watch_calls(lab)
    rc, result = run_module("onprem_vm", args, env=lab.env())
    assert rc != 0, result
    assert watch.mutations() == NO_MUTATIONS
    assert "nothing was changed" in result["msg"], result["msg"]
    assert "web02" not in read_vms(lab, "web02")
    assert WEB0 in mt_files(lab) and WEB1 in mt_files(lab)
    return result["msg"]


def test_a_uefi_source_is_created_efi_with_its_guest_os_and_an_lsi_logic_sas_controller(full_lab):
    lab = start(full_lab, "alternate-uefi.yml")
    args = web02(source=UEFI_WINDOWS, networks=["Prod-VLAN10"])
    rc, check = run_check_mode("onprem_vm", args, lab)
    assert rc == 0 and check["changed"] is True and check["vms"][0]["created"] is True, check
    assert "web02" not in read_vms(lab, "web02")

    rc, applied = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and applied["changed"] is True, applied
    vm = read_vms(lab, "web02")["web02"]
    assert (vm["config.firmware"], vm["config.guestId"]) == ("efi", "windows2019srv_64Guest")
    # Site Recovery reports nothing about secure boot: it is left off
    assert not (vm["config.bootOptions"] and vm["config.bootOptions"].efiSecureBootEnabled)
    assert layout(vm) == [("VirtualLsiLogicSASController", 0, [(0, WEB0), (1, WEB1)])]
    assert nics(vm) == [("standard", "Prod-VLAN10")]
    assert WEB0 not in mt_files(lab)

    rc, again = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and again["changed"] is False, again


def test_the_users_firmware_and_guest_id_win_over_what_site_recovery_reports(full_lab):
    lab = start(full_lab, "alternate-uefi.yml")
    # ASR names no network for a classic source: networks [] asks for a VM without an adapter
    rc, applied = run_module("onprem_vm", web02(source=UEFI_WINDOWS, firmware="bios", guest_id="rhel8_64Guest",
                                                networks=[]), env=lab.env())
    assert rc == 0, applied
    vm = read_vms(lab, "web02")["web02"]
    assert (vm["config.firmware"], vm["config.guestId"]) == ("bios", "rhel8_64Guest")
    assert layout(vm) == [("VirtualLsiLogicController", 0, [(0, WEB0), (1, WEB1)])]


def test_a_source_site_recovery_reports_no_firmware_for_is_refused_before_any_change(full_lab):
    lab = start(full_lab, "alternate-uefi.yml")
    message = refused(lab, web02(source=INMAGE_FAILBACK))
    assert ("VM web02 cannot be created: ASR reports no firmwareType nor VM generation for the source machine"
            in message)
    assert "Set firmware: efi (UEFI) or bios for it" in message
    assert "ASR reports OS None (osType 'Windows'), which has no known vSphere guest OS id. Set guest_id" in message


def test_one_port_group_name_on_two_distributed_switches_is_refused_naming_both(full_lab):
    lab = start(full_lab, "dvs-same-name.yml")
    message = refused(lab, web02(source=RCM_LINUX, network_map={"VM Network": "DPG-Prod"}))
    assert ("VM web02: 2 port groups of ESXi host esx02.lab are called DPG-Prod (on distributed switch DSwitch-A "
            "and distributed switch DSwitch-B), so the NIC's network is ambiguous." in message)
    # named with its distributed switch, the port group is that one (new-user try of issue 14)
    rc, applied = run_module("onprem_vm", web02(source=RCM_LINUX, network_map={"VM Network": "DSwitch-B/DPG-Prod"}),
                             env=lab.env())
    assert rc == 0, applied
    assert nics(read_vms(lab, "web02")["web02"]) == [("distributed", "DSwitch-B", "DPG-Prod")]


def test_a_source_network_is_mapped_to_a_distributed_port_group_of_the_host(full_lab):
    lab = start(full_lab, "network-mapped.yml")
    # the host the VM is created on (esx02.lab) does not have Prod-VLAN20: refused before any change
    message = refused(lab, web02(source=RCM_LINUX, network_map={"VM Network": "Prod-VLAN20"}))
    assert "VM web02: network Prod-VLAN20 is not a port group of ESXi host esx02.lab, where the VM is created" in message
    # a key no source NIC is on maps nothing: refused
    message = refused(lab, web02(source=RCM_LINUX, network_map={"VM Netwrok": "DPG-Prod-VLAN10"}))
    assert "VM web02: network_map maps VM Netwrok, but ASR reports its NICs on VM Network." in message

    args = web02(source=RCM_LINUX, network_map={"VM Network": "DPG-Prod-VLAN10"})
    rc, check = run_check_mode("onprem_vm", args, lab)
    assert rc == 0 and check["changed"] is True, check
    rc, applied = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0, applied
    vm = read_vms(lab, "web02")["web02"]
    assert nics(vm) == [("distributed", "DSwitch-A", "DPG-Prod-VLAN10")]
    assert (vm["config.firmware"], vm["config.guestId"]) == ("bios", "rhel8_64Guest")
    assert layout(vm) == [("VirtualLsiLogicController", 0, [(0, WEB0), (1, WEB1)])]
    rc, again = run_module("onprem_vm", args, env=lab.env())
    assert rc == 0 and again["changed"] is False, again


def test_the_source_network_keeps_its_name_when_not_mapped(full_lab):
    lab = start(full_lab, "network-mapped.yml")
    rc, applied = run_module("onprem_vm", web02(source=RCM_LINUX), env=lab.env())
    assert rc == 0, applied
    assert nics(read_vms(lab, "web02")["web02"]) == [("standard", "VM Network")]


def test_replicated_item_info_reports_the_source_as_the_service_does(full_lab):
    """The forward item (InMageAzureV2) of app01, a UEFI Windows Server 2019 VM: firmwareType UEFI, generation V2,
    osVersion; no network (classic items name the guest's adapter, not a network). Web02 (RHEL 8) is BIOS."""
    lab = full_lab("default.yml")
    rc, result = run_module("replicated_item_info", {"vms": ["app01", "web02"]}, env=lab.env())
    assert rc == 0, result
    sources = {item["name"]: item["source"] for item in result["items"]}
    assert sources["app01"] == {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
                                "os_name": "Microsoft Windows Server 2019", "networks": None}
    assert sources["web02"] == {"firmware_type": "BIOS", "azure_vm_generation": "V1", "os_type": "Linux",
                                "os_name": "Red Hat Enterprise Linux 8", "networks": None}


def test_a_modernized_item_names_each_source_nics_network(full_lab):
    """InMageRcm: vmNics[].sourceNetworkId is the source NIC's vSphere network, discoveredVmDetails.osName vCenter's
    guest OS name (item_get.InMageRcm.*); app01 was on Prod-VLAN10, UEFI, Windows Server 2019."""
    lab = full_lab("modernized.yml")
    rc, result = run_module("replicated_item_info", {"vms": ["app01"]}, env=lab.env())
    assert rc == 0, result
    item, = result["items"]
    assert item["provider"] == "InMageRcm"
    assert item["source"] == {"firmware_type": "UEFI", "azure_vm_generation": "V2", "os_type": "Windows",
                              "os_name": "Microsoft Windows Server 2019 (64-bit)", "networks": ["Prod-VLAN10"]}
