# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's ids of a classic item's machine, as the service mints them (tests/recorded/asr facts 21-22):
vmId = infrastructureVmId, a time-based UUID of the configuration server, never the vCenter instance UUID; a new one
after the reprotect to on-premises (the InMage item's replicaId and the failback jobs' recoveryVmId keep the old
one), with discoveryType Physical and no vCenter id for a vCenter VM; the on-prem VM itself is still found by the
lab's own record of its instance UUID."""

import uuid

from tests.lab import spec as lab_spec

from . import conformance


def test_the_reprotect_to_onprem_mints_a_new_vm_id_and_the_item_says_physical():
    vault = conformance.Vault("default.yml", [{"name": "app01", "stage": "running_in_azure"}])
    try:
        vm = next(v for v in vault.spec["vcenter"]["datacenters"][0]["vms"] if v["name"] == "app01")
        before = vault.get(vault.item("app01"))["properties"]["providerSpecificDetails"]
        assert (before["discoveryType"], before["vCenterInfrastructureId"]) == ("vCenter", "9")
        forward = before["vmId"]
        assert before["infrastructureVmId"] == forward != vm["instance_uuid"]
        assert uuid.UUID(forward).version == 1
        mt = vault.world.master_target("mt-win01")
        cs = vault.spec["asr"]["configuration_server"]
        policy = next(p["id"] for p in vault.spec["asr"]["policies"] if p["provider"] == "InMage")
        job, _accepted = vault.post(vault.item("app01") + "/reProtect", {"properties": {
            "failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": {
                "instanceType": "InMage", "masterTargetId": mt["id"], "processServerId": cs["id"],
                "retentionDrive": mt["retention_volumes"][0]["name"], "runAsAccountId": "2", "datastoreName": "vmfs-01",
                "profileId": policy}}})
        assert vault.finished(job)["properties"]["state"] == "Succeeded"
        item = vault.get(vault.item("app01"))
        after = item["properties"]["providerSpecificDetails"]
        assert after["instanceType"] == "InMage"
        assert (after["discoveryType"], after["vCenterInfrastructureId"]) == ("Physical", None)  # as recorded
        assert after["vmId"] == after["infrastructureVmId"] != forward
        assert uuid.UUID(after["vmId"]).version == 1 and uuid.UUID(after["vmId"]).node == uuid.UUID(forward).node
        assert uuid.UUID(after["vmId"]).time > uuid.UUID(forward).time
        assert after["replicaId"] == forward and item["properties"]["protectableItemId"].endswith("/" + after["vmId"])
        # the disks keep their ids, and ASR's effects still act on the VM the lab knows by its instance UUID
        assert sorted(d["diskId"] for d in after["protectedDisks"]) == sorted(d["diskId"] for d in before["protectedDisks"])
        assert vault.world.source_vm(vault.world.items["app01"])["instance_uuid"] == vm["instance_uuid"]
    finally:
        vault.stop()


def test_machine_id_is_a_time_based_uuid_of_the_configuration_server():
    first = uuid.UUID(lab_spec.machine_id("cs01", lab_spec.DISCOVERY_TIME))
    later = uuid.UUID(lab_spec.machine_id("cs01", 1.8e9))
    other = uuid.UUID(lab_spec.machine_id("cs02", lab_spec.DISCOVERY_TIME))
    assert (first.version, later.version) == (1, 1) and first.node == later.node != other.node
    assert first.clock_seq == later.clock_seq and later.time > first.time
    assert not first.node & (1 << 40)  # a unicast MAC, as the recorded 00-0d-3a-d7-8f-ab
