# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every endpoint's body deserialises into the SDK models with no unknown keys."""

import pytest

from .models import assert_known

EVERY_STAGE = {"asr": {"items": [
    {"name": "s1", "source": "physical", "stage": "replicating_to_azure", "recovery_points": [{"age_minutes": 2}]},
    {"name": "s2", "source": "physical", "stage": "failed_over_to_azure", "recovery_points": [{"age_minutes": 2}]},
    {"name": "s3", "source": "physical", "stage": "failback_committed", "master_target": "mt-win01",
     "datastore": "vmfs-01"},
    {"name": "s4", "source": "physical", "stage": "reprotected_to_azure"},
    {"name": "s5", "source": "physical", "stage": "failed_back", "master_target": "mt-win01", "datastore": "vmfs-01"},
    {"name": "s6", "source": "physical", "stage": "running_in_azure", "migration_completed": True},
    {"name": "s7", "source": "physical", "stage": "running_in_azure", "protection_disabled": True},
]}}


def test_every_asr_endpoint_deserialises_cleanly(lab_factory, effects):
    lab = lab_factory(EVERY_STAGE, effects=effects)
    asr, rg, vault = lab.asr, lab.rg, lab.vault
    fabrics = list(asr.replication_fabrics.list(rg, vault))
    assert len(fabrics) == 1 and fabrics[0].properties.custom_details.instance_type == "VMware"
    fabric = asr.replication_fabrics.get(rg, vault, lab.fabric)
    assert_known(*fabrics, fabric)
    details = fabric.properties.custom_details
    servers = {m.name: m for m in details.master_target_servers}
    assert {d.symbolic_name for d in servers["mt-win01"].data_stores} == {"vmfs-01", "vsan-01"}
    assert servers["mt-win01"].retention_volumes[0].volume_name == "R:"
    # the configuration server is a master target too, first, with its own id and no datastores (recorded, fact 15)
    cs = details.master_target_servers[0]
    assert cs.name == "cs01" and cs.data_stores == [] and cs.disk_count == 0
    assert cs.id == next(p.id for p in details.process_servers if p.friendly_name == "cs01")
    assert details.cs_service_status == "Running" and details.run_as_accounts[1].account_id == "2"

    vcenters = list(asr.replicationv_centers.list_by_replication_fabrics(rg, vault, lab.fabric))
    vcenters += list(asr.replicationv_centers.list(rg, vault))
    vcenters.append(asr.replicationv_centers.get(rg, vault, lab.fabric, "vcenter01.lab"))
    assert_known(*vcenters)
    containers = list(asr.replication_protection_containers.list_by_replication_fabrics(rg, vault, lab.fabric))
    containers += list(asr.replication_protection_containers.list(rg, vault))
    containers.append(asr.replication_protection_containers.get(rg, vault, lab.fabric, lab.container))
    assert_known(*containers)
    mappings = list(asr.replication_protection_container_mappings.list_by_replication_protection_containers(
        rg, vault, lab.fabric, lab.container))
    assert {m.properties.policy_id.rsplit("/", 1)[1] for m in mappings} == {"policy-24h", "policy-24h-failback"}
    mappings.append(asr.replication_protection_container_mappings.get(rg, vault, lab.fabric, lab.container,
                                                                      mappings[0].name))
    assert_known(*mappings)
    policies = list(asr.replication_policies.list(rg, vault))
    policies.append(asr.replication_policies.get(rg, vault, "policy-24h-failback"))
    assert_known(*policies)
    assert policies[-1].properties.provider_specific_details.instance_type == "InMage"

    items = list(asr.replication_protected_items.list(rg, vault))
    items += list(asr.replication_protected_items.list_by_replication_protection_containers(rg, vault, lab.fabric,
                                                                                            lab.container))
    assert_known(*items)
    names = {i.properties.friendly_name for i in items}
    assert "s7" not in names and {"app01", "db01", "s1", "s6"} <= names
    by_name = {i.properties.friendly_name: i for i in items}
    assert by_name["s6"].properties.protection_state == "MigrationCompleted"
    assert by_name["s6"].properties.allowed_operations == []
    assert by_name["db01"].properties.provider_specific_details.instance_type == "InMage"
    assert by_name["db01"].properties.provider_specific_details.active_site_type == "Azure"
    # a list leaves the provider details a GET has empty or null (tests/recorded/asr, fact 2)
    assert by_name["s5"].properties.provider_specific_details.os_details is None
    assert by_name["s5"].properties.provider_specific_details.protected_disks == []
    got = asr.replication_protected_items.get(rg, vault, lab.fabric, lab.container, by_name["s5"].name)
    assert got.properties.provider_specific_details.os_details.os_type == "Windows"
    assert len(got.properties.provider_specific_details.protected_disks) == 2
    assert by_name["app01"].properties.provider_specific_details.azure_vm_disk_details is None
    forward = asr.replication_protected_items.get(rg, vault, lab.fabric, lab.container,
                                                  by_name["app01"].name).properties.provider_specific_details
    assert forward.target_vm_id.endswith("/resourceGroups/rg-recovery/providers/Microsoft.Compute/virtualMachines/app01")
    # the Azure disks are named in azureVMDiskDetails; protectedManagedDisks name none (as recorded)
    assert forward.azure_vm_disk_details[1].target_disk_name == "app01-datadisk-0"
    assert all(d.target_disk_name is None for d in forward.protected_managed_disks)
    assert forward.discovery_type == "vCenter" and by_name["s1"].properties.provider_specific_details.discovery_type == \
        "Physical"
    for item in items:
        assert_known(asr.replication_protected_items.get(rg, vault, lab.fabric, lab.container, item.name))
        points = list(asr.recovery_points.list_by_replication_protected_items(rg, vault, lab.fabric, lab.container,
                                                                              item.name))
        assert_known(*points)
        for point in points[:1]:
            assert_known(asr.recovery_points.get(rg, vault, lab.fabric, lab.container, item.name, point.name))
    filtered = list(asr.replication_protected_items.list(rg, vault, filter="RecoveryPlanName eq 'rp-app'"))
    assert sorted(i.properties.friendly_name for i in filtered) == ["app02", "db01"]

    plans = list(asr.replication_recovery_plans.list(rg, vault))
    plans.append(asr.replication_recovery_plans.get(rg, vault, "rp-app"))
    assert_known(*plans)
    assert plans[-1].properties.allowed_operations == ["UnplannedFailover"]

    poller, job_name, _headers = lab.item_call("failover_commit", "s5")
    assert_known(poller.result())
    job = lab.wait_job(job_name)
    assert_known(job, *asr.replication_jobs.list(rg, vault))


def test_compute_and_network_bodies(lab):
    compute = lab.compute
    vm = compute.virtual_machines.get("rg-recovery", "app01", expand="instanceView")
    assert_known(vm)
    assert vm.hardware_profile.vm_size == "Standard_D4s_v5" and vm.vm_id
    assert vm.storage_profile.os_disk.managed_disk.id.endswith("/disks/app01-osdisk")
    assert [d.managed_disk.id.rsplit("/", 1)[1] for d in vm.storage_profile.data_disks] == ["app01-datadisk-0"]
    assert vm.network_profile.network_interfaces[0].id.endswith("/networkInterfaces/app01-nic0")
    assert "PowerState/running" in [s.code for s in vm.instance_view.statuses]
    assert_known(*compute.virtual_machines.list("rg-recovery"))
    assert_known(compute.virtual_machines.instance_view("rg-recovery", "app01"))
    disks = [d for d in compute.disks.list_by_resource_group("rg-recovery") if d.name.startswith("app01")]
    assert sorted(d.name for d in disks) == ["app01-datadisk-0", "app01-osdisk"]
    assert_known(*disks, compute.disks.get("rg-recovery", "app01-osdisk"))
    assert disks[0].managed_by.endswith("/virtualMachines/app01")
    from azure.core.rest import HttpRequest
    response = lab.compute._client.send_request(HttpRequest(  # pylint: disable=protected-access
        "GET", lab.url + "/subscriptions/%s/resourceGroups/rg-recovery/providers/Microsoft.Network/networkInterfaces/app01-nic0"
        "?api-version=2024-05-01" % lab.env["AZURE_SUBSCRIPTION_ID"]))
    assert response.status_code == 200
    assert response.json()["properties"]["virtualMachine"]["id"].endswith("/virtualMachines/app01")


def test_compute_power_operations_and_deletes(lab):
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    vms = lab.compute.virtual_machines

    def power(name):
        view = vms.instance_view("rg-recovery", name)
        return next(s.code for s in view.statuses if s.code.startswith("PowerState/"))

    vms.begin_power_off("rg-recovery", "app01").result()
    assert power("app01") == "PowerState/stopped"
    vms.begin_deallocate("rg-recovery", "app01").result()
    assert power("app01") == "PowerState/deallocated"
    vms.begin_start("rg-recovery", "app01").result()
    assert power("app01") == "PowerState/running"
    with pytest.raises(HttpResponseError) as refused:
        lab.compute.disks.begin_delete("rg-recovery", "app01-osdisk").result()
    assert refused.value.status_code == 409
    with pytest.raises(ResourceNotFoundError) as missing:
        vms.get("rg-recovery", "nope")
    assert missing.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as missing:
        vms.get("rg-nowhere", "app01")
    assert missing.value.error.code == "ResourceGroupNotFound"
    vms.begin_delete("rg-recovery", "app01").result()
    with pytest.raises(ResourceNotFoundError):
        vms.get("rg-recovery", "app01")
    lab.compute.disks.begin_delete("rg-recovery", "app01-osdisk").result()
    assert [d.name for d in lab.compute.disks.list_by_resource_group("rg-recovery") if d.name.startswith("app01")] == [
        "app01-datadisk-0"]
