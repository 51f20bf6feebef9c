# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures: a small fast spec, the emulator, the real Azure clients, a fake effects object."""

import copy
import time

import pytest
import requests

from tests.lab import spec as lab_spec
from tests.lab.azure import AzureEmulator

TIMINGS = {"job_seconds": 0.04, "agent_registration_seconds": 0.6, "initial_replication_seconds": 0.1,
           "recovery_point_seconds": 0.15, "app_consistent_every": 2, "retry_after_seconds": 0, "job_start_seconds": 0.05}


def _vm(name, host, guest="windows2019srv_64Guest", disks=(60, 100), **extra):
    return dict({"name": name, "host": host, "datastore": "vmfs-01", "guest_id": guest,
                 "disks": [{"size_gb": size} for size in disks]}, **extra)


BASE = {
    "name": "unit",
    "timings": TIMINGS,
    "vcenter": {"name": "vcenter01.lab", "datacenters": [{
        "name": "DC1",
        "clusters": [{"name": "Cluster1", "hosts": ["esx01.lab", "esx02.lab"]}],
        "hosts": [{"name": "esx01.lab"}, {"name": "esx02.lab"}],
        "datastores": [{"name": "vmfs-01", "type": "VMFS", "capacity_gb": 4096, "free_gb": 2048},
                       {"name": "vsan-01", "type": "vsan", "hosts": ["esx01.lab"]},
                       {"name": "nfs-01", "type": "NFS"}],
        "vms": [_vm("mt-win01", "esx01.lab", disks=(80, 500)),
                _vm("mt-lin01", "esx02.lab", guest="rhel8_64Guest", disks=(80, 500)),
                _vm("app01", "esx01.lab", firmware="efi"),
                _vm("db01", "esx01.lab", disks=(80, 200, 50)),
                _vm("app02", "esx02.lab")]}]},
    "asr": {
        "process_servers": [{"name": "ps-azure01", "ip": "10.1.0.4", "location": "azure"},
                            {"name": "cs01", "ip": "10.0.0.10", "location": "onprem"}],
        "master_targets": [{"vm": "mt-win01"}, {"vm": "mt-lin01"}],
        "run_as_accounts": [{"id": "1", "name": "vcenter-discovery"}, {"id": "2", "name": "windows-push"}],
        "items": [
            {"name": "app01", "stage": "running_in_azure", "azure_vm": {"resource_group": "rg-recovery"}},
            {"name": "web02", "source": "vcenter", "os": "Linux", "disk_sizes_gb": [40, 80], "stage": "running_in_azure",
             "azure_vm": {"resource_group": "rg-recovery-web", "size": "Standard_B2s"}},
            {"name": "db01", "stage": "replicating_to_onprem", "replication_group": "rg-app", "master_target": "mt-win01",
             "recovery_points": [{"age_minutes": 3}, {"age_minutes": 30, "type": "ApplicationConsistent"}]},
            {"name": "app02", "stage": "replicating_to_onprem", "replication_group": "rg-app", "master_target": "mt-win01",
             "recovery_points": [{"age_minutes": 4}]},
        ],
        "recovery_plans": [{"name": "rp-app", "groups": [{"items": ["db01"]}, {"items": ["app02"]}]}],
    },
}


def make_spec(changes=None):
    """The normalized BASE spec, deep-merged with ``changes`` (lists of named objects merge by name)."""
    raw = copy.deepcopy(BASE)
    if changes:
        raw = lab_spec.merge(raw, changes)
    return lab_spec.normalize(raw)


class FakeEffects:
    """Records every call; ``raises[name] = EffectError(...)`` makes that call fail; each mutation
    goes through ``on_effect`` first, as the real VCenterEffects does. ``uuids`` records the instance UUID (and the
    master target's) each call named: the emulator finds VMs by the UUID ASR recorded, as ASR does."""

    def __init__(self):
        self.calls = []
        self.uuids = []
        self.done = []
        self.raises = {}
        self.created = 0
        self.on_effect = lambda label: None

    def _call(self, name, *args, uuid=None, mt_uuid=None):
        self.calls.append((name, *args))
        self.uuids.append((name, uuid, mt_uuid))
        if name in self.raises:
            raise self.raises[name]

    def _mutate(self, label):
        self.on_effect(label)
        self.done.append(label)

    def names(self):
        return [c[0] for c in self.calls]

    def vm(self, name, uuid=None):
        raise NotImplementedError

    def check_reprotect(self, vm_name, master_target, datastore=None, original_location=True, uuid=None, mt_uuid=None):
        self._call("check_reprotect", vm_name, master_target, datastore, original_location, uuid=uuid, mt_uuid=mt_uuid)

    def prepare_original_location(self, vm_name, master_target, uuid=None, mt_uuid=None):
        self._call("prepare_original_location", vm_name, master_target, uuid=uuid, mt_uuid=mt_uuid)
        self._mutate("power off %s" % vm_name)
        for index in range(2):
            self._mutate("detach disk %d of %s" % (index, vm_name))
            self._mutate("attach disk %d to %s" % (index, master_target))

    def prepare_alternate_location(self, vm_name, master_target, datastore, disk_sizes_gb, mt_uuid=None):
        self._call("prepare_alternate_location", vm_name, master_target, datastore, list(disk_sizes_gb), mt_uuid=mt_uuid)
        for index in range(len(disk_sizes_gb)):
            self._mutate("create disk %d of %s" % (index, vm_name))

    def restore_original_location(self, vm_name, master_target, uuid=None, mt_uuid=None):
        self._call("restore_original_location", vm_name, master_target, uuid=uuid, mt_uuid=mt_uuid)
        self._mutate("move disks of %s back" % vm_name)

    def _new_uuid(self, vm_name):
        self.created += 1
        return "50%06d-0000-4000-8000-%012d" % (self.created, abs(hash(vm_name)) % 10 ** 12)

    def create_vm_from_master_target(self, vm_name, master_target, datastore, num_cpu, memory_mb, guest_id, firmware="bios",
                                     mt_uuid=None, uuid=None, nics=1, disk_moves="at_creation", created=None):
        self._call("create_vm_from_master_target", vm_name, master_target, datastore, num_cpu, memory_mb, guest_id, firmware,
                   uuid=uuid, mt_uuid=mt_uuid)
        if uuid:
            return uuid
        self._mutate("create vm %s" % vm_name)
        return self._new_uuid(vm_name)

    def create_vm_on_datastore(self, vm_name, datastore, num_cpu, memory_mb, guest_id, disk_sizes_gb, firmware="bios",
                               host=None, uuid=None, disk_uuids=None, nics=1):
        self._call("create_vm_on_datastore", vm_name, datastore, num_cpu, memory_mb, guest_id, list(disk_sizes_gb), firmware,
                   uuid=uuid)
        if uuid:
            return uuid
        self._mutate("create vm %s on %s" % (vm_name, datastore))
        return self._new_uuid(vm_name)

    def power_on(self, vm_name, uuid=None):
        self._call("power_on", vm_name, uuid=uuid)
        self._mutate("power on %s" % vm_name)

    def power_off(self, vm_name, uuid=None):
        self._call("power_off", vm_name, uuid=uuid)
        self._mutate("power off %s" % vm_name)


class Lab:
    """A running emulator with the real clients bound to it."""

    def __init__(self, emulator):
        from azure.identity import ClientSecretCredential
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

        self.emulator = emulator
        self.env = emulator.env()
        self.url = emulator.url
        self.ca = emulator.ca_file
        self.rg = self.env["AZURE_SITE_RECOVERY_RESOURCE_GROUP"]
        self.vault = self.env["AZURE_SITE_RECOVERY_VAULT"]
        self.credential = ClientSecretCredential(self.env["AZURE_TENANT"], self.env["AZURE_CLIENT_ID"], self.env["AZURE_SECRET"],
                                                 authority=self.url, disable_instance_discovery=True,
                                                 connection_verify=self.ca)
        options = {"base_url": self.url, "credential_scopes": [self.url + "/.default"], "connection_verify": self.ca}
        self.asr = SiteRecoveryManagementClient(self.credential, self.env["AZURE_SUBSCRIPTION_ID"], polling_interval=0.02,
                                                retry_backoff_factor=0.05, **options)
        self.compute = ComputeManagementClient(self.credential, self.env["AZURE_SUBSCRIPTION_ID"], polling_interval=0.02,
                                               retry_backoff_factor=0.05, **options)
        world = emulator.world
        self.fabric = world.asr["fabric_name"]
        self.container = world.asr["container_name"]

    # ------------------------------------------------------------------ control API
    def control(self, method, path, body=None):
        response = requests.request(method, self.env["LAB_CONTROL_URL"] + path, json=body, verify=self.ca, timeout=10)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    # ------------------------------------------------------------------ ASR helpers
    def item_name(self, name):
        return self.emulator.world.items[name]["item_name"]

    def item(self, name):
        return self.asr.replication_protected_items.get(self.rg, self.vault, self.fabric, self.container, self.item_name(name))

    def item_call(self, method, name, *args, **kwargs):
        """Call ``begin_<method>`` on the item; returns (poller, job name from the 202's headers)."""
        seen = {}

        def hook(response):
            headers = response.http_response.headers
            if "Location" in headers and "operationresults" in headers["Location"] and "job" not in seen:
                seen["job"] = headers["Location"].split("operationresults/", 1)[1].split("?", 1)[0]
                seen["headers"] = dict(headers)
        operation = getattr(self.asr.replication_protected_items, "begin_" + method)
        poller = operation(self.rg, self.vault, self.fabric, self.container, self.item_name(name), *args,
                           raw_response_hook=hook, **kwargs)
        return poller, seen.get("job"), seen.get("headers")

    def plan_call(self, method, plan, *args, **kwargs):
        seen = {}

        def hook(response):
            headers = response.http_response.headers
            if "Location" in headers and "operationresults" in headers["Location"] and "job" not in seen:
                seen["job"] = headers["Location"].split("operationresults/", 1)[1].split("?", 1)[0]
        operation = getattr(self.asr.replication_recovery_plans, "begin_" + method)
        poller = operation(self.rg, self.vault, plan, *args, raw_response_hook=hook, **kwargs)
        return poller, seen.get("job")

    def wait_job(self, job_name, timeout=300):
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            job = self.asr.replication_jobs.get(self.rg, self.vault, job_name)
            if job.properties.state not in ("NotStarted", "InProgress"):
                return job
            time.sleep(0.02)
        raise AssertionError("job %s did not finish" % job_name)

    def fabric_details(self):
        return self.asr.replication_fabrics.get(self.rg, self.vault, self.fabric).properties.custom_details

    def stage(self, name):
        return self.emulator.world.items[name]["stage"]

    def wait_points(self, name, count=1, timeout=300):
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            points = list(self.asr.recovery_points.list_by_replication_protected_items(
                self.rg, self.vault, self.fabric, self.container, self.item_name(name)))
            if len(points) >= count:
                return points
            time.sleep(0.05)
        raise AssertionError("no recovery point for %s" % name)


@pytest.fixture
def effects():
    return FakeEffects()


@pytest.fixture
def lab_factory(tmp_path):
    started = []

    def factory(changes=None, effects=None):
        emulator = AzureEmulator(make_spec(changes), effects=effects, workdir=str(tmp_path / ("az%d" % len(started))))
        emulator.start()
        started.append(emulator)
        return Lab(emulator)
    yield factory
    for emulator in started:
        emulator.stop()


@pytest.fixture
def lab(lab_factory, effects):
    return lab_factory(effects=effects)
