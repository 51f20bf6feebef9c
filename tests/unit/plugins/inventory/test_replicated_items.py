# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The replicated_items inventory plugin run by Ansible's InventoryManager on recorded list shapes
(tests/recorded/asr): host variables and groups, filters, keyed_groups/compose/groups, the fixed number of reads,
details, cache hits that read nothing, and refusals naming the option."""

import datetime
import importlib
import json
import os
import sys

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.recorded_sdk import body, models_of, sdk

COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".venv", "collections"))
MODERN = "items_list.modernized.TestV2ARCMFailback"
CLASSIC = "items_list.after_failback_committed.V2ATestReprotect"
PLAN = "recovery_plan_get.InMageRcm.TestV2ARCMRecoveryPlan"


PREFIX = "ansible_collections.siterecovery.failback.plugins."
M = {}


@pytest.fixture(autouse=True, scope="module")
def collection_loader():
    """Ansible's collection loader, as ansible-inventory installs it (the plugin is found by its FQCN, and its
    imports go through the loader); the collection's modules imported before (through sys.path) are put aside
    meanwhile and restored after, so that other test files keep the module objects they patch."""
    saved = {name: module for name, module in sys.modules.items() if name.startswith("ansible_collections")}
    for name in saved:
        del sys.modules[name]
    init_plugin_loader([COLLECTIONS])
    M["plugin"] = importlib.import_module(PREFIX + "inventory.replicated_items")
    M["inventory"] = importlib.import_module(PREFIX + "module_utils.asr.inventory")
    M["vault"] = importlib.import_module(PREFIX + "module_utils.asr.vault")
    M["errors"] = importlib.import_module(PREFIX + "module_utils.azure.errors")
    yield
    for name in [n for n in sys.modules if n.startswith("ansible_collections")]:
        del sys.modules[name]
    sys.modules.update(saved)
    _AnsibleCollectionFinder._remove()  # pylint: disable=protected-access


class Pager(list):
    pass


class Client:
    """The Site Recovery client calls the plugin may make, each counted: lists answer the recorded lists."""

    def __init__(self, items, plans, fabrics=(), gets=None, points=None):
        self.calls = []
        test = self

        class Items:
            def list(self, rg, vault):
                test.calls.append(("items.list", rg, vault))
                return Pager(items)

            def get(self, rg, vault, fabric, container, name):
                test.calls.append(("items.get", name))
                return (gets or {})[name]

        class Plans:
            def list(self, rg, vault):
                test.calls.append(("plans.list", rg, vault))
                return Pager(plans)

        class Fabrics:
            def list(self, rg, vault):
                test.calls.append(("fabrics.list", rg, vault))
                return Pager(fabrics)

        class Points:
            def list_by_replication_protected_items(self, rg, vault, fabric, container, name):
                test.calls.append(("points.list", name))
                return Pager((points or {}).get(name, []))

        self.replication_protected_items = Items()
        self.replication_recovery_plans = Plans()
        self.replication_fabrics = Fabrics()
        self.recovery_points = Points()


class Session:
    def __init__(self, client):
        self.site_recovery = client
        self.closed = 0

    def close(self):
        self.closed += 1


def run(tmp_path, monkeypatch, config, client, name="dr.replicated_items.yml", cache=True):
    """``(inventory, client)``: the config file parsed by InventoryManager with the plugin's session on ``client``."""
    sessions = []

    def session(self, timeout):
        sessions.append(timeout)
        return Session(client)

    monkeypatch.setattr(M["plugin"].InventoryModule, "_session", session)
    path = tmp_path / name
    path.write_text(json.dumps(dict({"plugin": "siterecovery.failback.replicated_items", "resource_group": "V2A-ECY",
                                     "vault_name": "Rcm-Vault-150"}, **config)))
    return parse(path, cache)


def parse(path, cache=True):
    """What ansible-inventory does with one source: the plugin (by its FQCN, through Ansible's loader) parses it into
    an InventoryData, then writes its cache if it changed. Errors raise as the plugin raises them."""
    from ansible.inventory.data import InventoryData
    from ansible.plugins.loader import inventory_loader
    inventory = InventoryData()
    source = inventory_loader.get("siterecovery.failback.replicated_items")
    assert source.verify_file(str(path))
    source.parse(inventory, DataLoader(), str(path), cache=cache)
    if source.get_option("cache"):  # InventoryManager calls it, ignoring a plugin without a cache
        source.update_cache_if_changed()
    return inventory


def hostvars(inventory, host):
    return inventory.get_host(host).get_vars()


def groups_of(inventory, host):
    return sorted(g.name for g in inventory.get_host(host).get_groups() if g.name not in ("all", "ungrouped"))


def modern_client(**kwargs):
    return Client(models_of("item", MODERN), models_of("plan", PLAN), **kwargs)


def test_modernized_list_hosts_vars_and_groups(tmp_path, monkeypatch):
    client = modern_client()
    inventory = run(tmp_path, monkeypatch, {}, client)
    assert sorted(inventory.hosts) == ["Rcm-Ub18-154", "Rcm-W2K16-153", "Rcm-W2K19-152", "Rcm-W2K19-155"]
    # one item list and one plan list: nothing per item without details
    assert [c[0] for c in client.calls] == ["items.list", "plans.list"]
    w16 = hostvars(inventory, "Rcm-W2K16-153")
    # recorded: InMageRcm, Protected / Primary, never failed over -> replicating to Azure (fact 1)
    assert (w16["asr_stage"], w16["asr_provider"], w16["asr_flow"]) == ("protected_to_azure", "InMageRcm", "modernized")
    assert w16["asr_os_type"] == "Windows" and w16["asr_source_type"] == "vmware_vm"
    # the recorded plan v2arcm-pwsh-rp has this item (and only it) in its one Boot group
    assert w16["asr_recovery_plans"] == ["v2arcm-pwsh-rp"] and w16["asr_boot_groups"] == {"v2arcm-pwsh-rp": 1}
    assert w16["asr_onprem_vm_uuid"] == "50159b46-9b4c-de0a-71bb-0bb32fe964af"  # the item name's tail (fact 22)
    assert w16["asr_latest_recovery_point"]["time"].startswith("2021-08-26T08:07:58")
    assert w16["asr_latest_recovery_point"]["name"] == "d38458c5-934d-4e45-a358-fecfd45cb933"
    assert w16["asr_latest_recovery_point"]["type"] is None  # the list names no point type
    assert w16["asr_latest_recovery_point_age_minutes"] > 60 * 24 * 365  # recorded in 2021
    assert w16["asr_azure_vm_id"].endswith("/resourceGroups/V2A-ECY/providers/Microsoft.Compute/virtualMachines/Rcm-W2K16-153")
    assert w16["ansible_connection"] == "local" and w16["asr_host_name_changed"] is None
    assert groups_of(inventory, "Rcm-W2K16-153") == ["asr_flow_modernized", "asr_os_windows", "asr_plan_v2arcm_pwsh_rp",
                                                     "asr_plan_v2arcm_pwsh_rp_boot_group_1", "asr_source_vmware_vm",
                                                     "asr_stage_protected_to_azure", "replicated_items"]
    back = hostvars(inventory, "Rcm-W2K19-152")
    # recorded: InMageRcmFailback Protected / Primary -> replicating to on-premises, appliance Rcm-App-150
    assert (back["asr_stage"], back["asr_appliance"]) == ("replicating_to_onprem", "Rcm-App-150")
    assert back["asr_azure_vm_id"].endswith("/virtualMachines/Rcm-W2K19-152")
    assert back["asr_source_type"] == "unknown"  # a failback item does not say (fact 21)
    assert back["asr_latest_recovery_point"] is None  # listed per item only: needs details
    assert back["asr_recovery_plans"] == [] and back["asr_replication_group"] is None
    assert "asr_source_unknown" in groups_of(inventory, "Rcm-W2K19-152")
    assert "asr_stage_replicating_to_onprem" in groups_of(inventory, "Rcm-W2K19-152")
    for host in inventory.hosts:
        text = json.dumps(hostvars(inventory, host))
        assert "secret" not in text.lower() and "password" not in text.lower()


def test_classic_list(tmp_path, monkeypatch):
    client = Client(models_of("item", CLASSIC), [])
    inventory = run(tmp_path, monkeypatch, {}, client)
    back = hostvars(inventory, "V2A-W2K16-201")
    # recorded: InMage UnplannedFailoverCommitted / Recovery -> failback committed; the list leaves osDetails and
    # masterTargetId empty (fact 2)
    assert (back["asr_stage"], back["asr_flow"], back["asr_os_type"], back["asr_master_target"]) == (
        "failback_committed", "classic", None, None)
    assert "asr_os_unknown" in groups_of(inventory, "V2A-W2K16-201")
    forward = hostvars(inventory, "V2A-W2K19-202")
    assert (forward["asr_stage"], forward["asr_os_type"], forward["asr_source_type"]) == (
        "protected_to_azure", "Windows", "vmware_vm")
    # the list's targetVmId ends in ".../virtualMachines/" (empty name): the id is built from the recorded
    # recoveryAzureVMName and recoveryAzureResourceGroupId
    assert forward["asr_azure_vm_id"].endswith(
        "/resourceGroups/PwsTestRG/providers/Microsoft.Compute/virtualMachines/V2A-W2K19-202")
    # a classic item without a user replication group has its own id as group name: no group
    assert forward["asr_replication_group"] is None
    assert not [g for g in groups_of(inventory, "V2A-W2K19-202") if "replication_group" in g]


def test_details_read_os_master_target_disks_and_points(tmp_path, monkeypatch):
    listed = models_of("item", CLASSIC)
    got = sdk("item", body("item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect"))
    forward = next(m for m in listed if m.properties.friendly_name == "V2A-W2K19-202")
    gets = {got.name: got, forward.name: forward}
    fabric = models_of("fabric", "fabric_get.VMware.healthy.v2aFailbackReprotect")
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=12)
    point = sdk_point(got.id + "/recoveryPoints/p1", when)
    client = Client([got if m.name == got.name else m for m in listed], [], fabrics=fabric, gets=gets,
                    points={got.name: [point]})
    inventory = run(tmp_path, monkeypatch, {"details": True, "details_concurrency": 2}, client)
    kinds = sorted(c[0] for c in client.calls)
    assert kinds == ["fabrics.list", "items.get", "items.get", "items.list", "plans.list", "points.list", "points.list"]
    back = hostvars(inventory, "V2A-W2K16-201")
    assert back["asr_os_type"] == "Windows"  # osDetails of the GET
    assert back["asr_latest_recovery_point"]["type"] == "CrashConsistent"
    assert 11.5 <= back["asr_latest_recovery_point_age_minutes"] <= 13
    master = (got.properties.provider_specific_details.master_target_id or "").lower()
    names = {s.id.lower(): s.name for f in fabric for s in f.properties.custom_details.master_target_servers or []}
    assert back["asr_master_target"] == names.get(master)
    assert back["asr_details"] is True


def sdk_point(point_id, when):
    return sdk_recovery_point({"id": point_id, "name": point_id.rsplit("/", 1)[-1],
                               "properties": {"recoveryPointTime": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                              "recoveryPointType": "CrashConsistent"}})


def sdk_recovery_point(data):
    from azure.mgmt.recoveryservicessiterecovery import models
    from azure.mgmt.recoveryservicessiterecovery._utils.model_base import _deserialize
    return _deserialize(models.RecoveryPoint, data)


def test_filters_keyed_groups_compose_groups(tmp_path, monkeypatch):
    client = modern_client()
    config = {"filters": ["asr_stage != 'protected_to_azure' or asr_os_type == 'Linux'"],
              "keyed_groups": [{"key": "asr_appliance", "prefix": "appliance", "default_value": "none"}],
              "compose": {"fail_back_first": "asr_stage == 'replicating_to_onprem'"},
              "groups": {"linux": "asr_os_type == 'Linux'"}, "local_connection": False}
    inventory = run(tmp_path, monkeypatch, config, client)
    assert sorted(inventory.hosts) == ["Rcm-Ub18-154", "Rcm-W2K19-152", "Rcm-W2K19-155"]
    assert "appliance_Rcm_App_150" in groups_of(inventory, "Rcm-W2K19-152")
    assert "appliance_none" in groups_of(inventory, "Rcm-Ub18-154")
    assert hostvars(inventory, "Rcm-W2K19-152")["fail_back_first"] is True
    assert hostvars(inventory, "Rcm-Ub18-154")["fail_back_first"] is False
    assert [h.name for h in inventory.groups["linux"].get_hosts()] == ["Rcm-Ub18-154"]
    assert "ansible_connection" not in hostvars(inventory, "Rcm-Ub18-154")


def test_a_broken_filter_names_itself(tmp_path, monkeypatch):
    with pytest.raises(Exception) as caught:
        run(tmp_path, monkeypatch, {"filters": ["asr_stage =="]}, modern_client())
    assert "asr_stage ==" in str(caught.value)


def test_cache_hit_makes_no_call(tmp_path, monkeypatch):
    config = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"),
              "cache_timeout": 600}
    first = modern_client()
    inventory = run(tmp_path, monkeypatch, config, first)
    assert len(first.calls) == 2 and len(inventory.hosts) == 4
    cached = os.listdir(tmp_path / "cache")
    assert cached, "the jsonfile cache was not written"
    assert "secret" not in (tmp_path / "cache" / cached[0]).read_text().lower()
    second = modern_client()
    again = run(tmp_path, monkeypatch, config, second)
    assert second.calls == []  # a cache hit reads nothing
    assert sorted(again.hosts) == sorted(inventory.hosts)
    assert hostvars(again, "Rcm-W2K19-152")["asr_stage"] == "replicating_to_onprem"
    third = modern_client()
    run(tmp_path, monkeypatch, config, third, cache=False)  # --flush-cache: read again
    assert len(third.calls) == 2


def test_several_vaults_and_duplicate_names(tmp_path, monkeypatch):
    client = modern_client()
    config = {"vaults": [{"resource_group": "rg-two", "vault_name": "Rcm-Vault-150"}]}
    inventory = run(tmp_path, monkeypatch, config, client)
    # the same four VM names, and item names, in two vaults: every host is suffixed with its vault and item name
    assert len(inventory.hosts) == 8
    assert "Rcm-W2K19-152_rg-two_Rcm-Vault-150_vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8" in inventory.hosts
    assert "Rcm-W2K19-152_V2A-ECY_Rcm-Vault-150_vcenter67_50158471-87c2-d4ad-caa2-abe22face6d8" in inventory.hosts
    assert {hostvars(inventory, h)["asr_host_name_changed"] for h in inventory.hosts} == {"duplicate_vm_name"}
    assert sorted({hostvars(inventory, h)["asr_resource_group"] for h in inventory.hosts}) == ["V2A-ECY", "rg-two"]
    assert [c[0] for c in client.calls] == ["items.list", "plans.list", "items.list", "plans.list"]


@pytest.mark.parametrize("config, words", [
    ({"resource_group": None, "vault_name": None}, ["No vault given", "AZURE_SITE_RECOVERY_VAULT"]),
    ({"vault_name": None}, ["vault_name is missing"]),
    ({"vaults": [{"resource_group": "rg"}]}, ["vaults[0]", "vault_name"]),
    ({"vaults": [{"resource_group": "rg", "vault_name": "v", "vault": "x"}]}, ["vaults[0]", "unknown keys vault"]),
    ({"timeout": 0}, ["timeout 0", "1 to 3600"]),
    ({"details_concurrency": 99}, ["details_concurrency 99", "1 to 32"]),
])
def test_refusals_name_the_option(tmp_path, monkeypatch, config, words):
    monkeypatch.delenv("AZURE_SITE_RECOVERY_RESOURCE_GROUP", raising=False)
    monkeypatch.delenv("AZURE_SITE_RECOVERY_VAULT", raising=False)
    client = modern_client()
    with pytest.raises(Exception) as caught:
        run(tmp_path, monkeypatch, config, client)
    for word in words:
        assert word in str(caught.value)
    assert client.calls == []


def test_an_azure_error_names_the_vault(tmp_path, monkeypatch):
    AzureError = M["errors"].AzureError  # the class the plugin catches

    class Failing(Client):
        def __init__(self):
            super().__init__([], [])

            class Items:
                def list(self, rg, vault):
                    raise AzureError("The Resource 'Microsoft.RecoveryServices/vaults/%s' was not found." % vault)
            self.replication_protected_items = Items()

    with pytest.raises(Exception) as caught:
        run(tmp_path, monkeypatch, {}, Failing())
    assert "vault V2A-ECY/Rcm-Vault-150" in str(caught.value)


def test_a_real_session_refuses_bad_credentials_before_any_call(tmp_path, monkeypatch):
    """Without the patched session: the plugin's options reach credentials.validate (nothing is sent)."""
    for name in list(os.environ):
        if name.startswith("AZURE_"):
            monkeypatch.delenv(name)
    path = tmp_path / "x.replicated_items.yml"
    path.write_text(json.dumps({"plugin": "siterecovery.failback.replicated_items", "resource_group": "rg",
                                "vault_name": "v", "subscription_id": "my-subscription", "ad_user": "operator",
                                "ad_password": "hunter2-secret"}))
    with pytest.raises(Exception) as caught:
        parse(path)
    text = str(caught.value)
    assert "subscription_id 'my-subscription'" in text and "ad_user 'operator'" in text and "vault rg/v" in text
    assert "hunter2" not in text


def test_host_names_of_invalid_and_duplicate_vm_names():
    records = [{"asr_vm_name": "app 01", "asr_item_name": "i1"}, {"asr_vm_name": "db:01", "asr_item_name": "i2"},
               {"asr_vm_name": "web", "asr_item_name": "i3"}, {"asr_vm_name": "WEB", "asr_item_name": "i4"},
               {"asr_vm_name": None, "asr_item_name": "i5"},
               {"asr_vm_name": "x", "asr_item_name": "i6", "asr_resource_group": "rg", "asr_vault": "v1"},
               {"asr_vm_name": "x", "asr_item_name": "i6", "asr_resource_group": "rg", "asr_vault": "v2"}]
    named = M["inventory"].host_names(records)
    assert [n for n, _r in named] == ["app_01", "db_01", "web_i3", "WEB_i4", "i5", "x_rg_v1_i6", "x_rg_v2_i6"]
    assert [r["asr_host_name_changed"] for _n, r in named] == ["invalid_characters", "invalid_characters",
                                                               "duplicate_vm_name", "duplicate_vm_name", None,
                                                               "duplicate_vm_name", "duplicate_vm_name"]
    assert named[0][1]["asr_vm_name"] == "app 01"


def test_flow_and_source_type():
    assert M["inventory"].flow_of("InMage") == "classic" and M["inventory"].flow_of("InMageRcmFailback") == "modernized"
    assert M["inventory"].flow_of("A2A") is None
    assert M["inventory"].source_type({"provider": "InMageAzureV2", "discovery_type": "Physical"}) == "physical"
    assert M["inventory"].source_type({"provider": "InMageRcm", "discovery_type": "VCenter"}) == "vmware_vm"
    assert M["inventory"].source_type({"provider": "InMage", "discovery_type": "Physical"}) == "unknown"


def test_read_vault_on_a_vault_object_counts_reads():
    client = modern_client()
    vault = M["vault"].Vault(Session(client), "V2A-ECY", "Rcm-Vault-150")
    records = M["inventory"].read_vault(vault)
    assert len(records) == 4 and len(client.calls) == 2
    assert M["inventory"].with_ages([{"asr_latest_recovery_point": None}])[0]["asr_latest_recovery_point_age_minutes"] is None
