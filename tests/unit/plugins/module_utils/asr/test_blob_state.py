# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asr.blob_state: the lease and the Azure VM identity records in a blob container - conditional writes (create vs
update, conflicts both ways), the Blob service's errors mapped to their cause and fix, lock.acquire / renew / release
over it, tags-store claims honoured, and the options checked before any call."""

import json
import types

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import azure_vms, blob_state, lock
from ansible_collections.siterecovery.failback.plugins.module_utils.azure import cloud
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options as options_domain
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr.test_azure_vms import (
    FakeCompute,
    item,
    session,
    vm,
    vm_id,
)

NOW = 1764140000.0


def http_error(status, code):
    error = HttpResponseError(message="%s\nRequestId:1\nTime:now" % code)
    error.status_code = status
    error.error_code = code
    return error


class FakeBlobClient:
    """One blob of FakeContainerClient: what BlobContainer calls of azure-storage-blob's BlobClient."""

    def __init__(self, container, name):
        self.container = container
        self.name = name

    def download_blob(self):
        self.container.calls.append(("get", self.name))
        self.container.fail("get", self.name)
        if self.name not in self.container.blobs:
            raise http_error(404, "BlobNotFound")
        data, etag = self.container.blobs[self.name]
        return types.SimpleNamespace(readall=lambda: data, properties=types.SimpleNamespace(etag=etag))

    def upload_blob(self, data, overwrite=False, etag=None, match_condition=None, content_settings=None):
        self.container.calls.append(("put", self.name, overwrite, etag, str(match_condition), content_settings.content_type))
        self.container.fail("put", self.name)
        current = self.container.blobs.get(self.name)
        if not overwrite and current is not None:
            raise http_error(409, "BlobAlreadyExists")
        if etag is not None and (current is None or current[1] != etag):
            raise http_error(412, "ConditionNotMet")
        return {"etag": self.container.store(self.name, data)}

    def delete_blob(self, etag=None, match_condition=None):
        self.container.calls.append(("delete", self.name, etag))
        current = self.container.blobs.get(self.name)
        if current is None:
            raise http_error(404, "BlobNotFound")
        if current[1] != etag:
            raise http_error(412, "ConditionNotMet")
        del self.container.blobs[self.name]


class FakeContainerClient:
    """Blobs with ETags in memory; ``failures[(op, name)] = exception`` fails one call; ``before_put`` plays another run
    writing at the same moment."""

    def __init__(self):
        self.blobs = {}
        self.calls = []
        self.failures = {}
        self.version = 0
        self.before_put = None

    def store(self, name, data):
        self.version += 1
        self.blobs[name] = (data, '"0x8D%d"' % self.version)
        return self.blobs[name][1]

    def fail(self, op, name):
        if op == "put" and self.before_put:
            hook, self.before_put = self.before_put, None
            hook(self, name)
        for key in ((op, name), (op, "*")):
            if key in self.failures:
                raise self.failures[key]

    def get_blob_client(self, name):
        return FakeBlobClient(self, name)

    def list_blobs(self, name_starts_with=""):
        self.calls.append(("list", name_starts_with))
        self.fail("list", name_starts_with)
        return [types.SimpleNamespace(name=n) for n in sorted(self.blobs) if n.startswith(name_starts_with)]


PREFIX = "sub/rg-asr/vault01/"


def container(client=None):
    return blob_state.BlobContainer(None, "https://acct.blob.core.windows.net", "siterecovery-failback", PREFIX,
                                    client=client or FakeContainerClient())


def body(client, name):
    return json.loads(client.blobs[PREFIX + name][0])


# ---------------------------------------------------------------------------------------------- BlobContainer
def test_create_sends_if_none_match_and_update_sends_if_match():
    blobs = container()
    assert blobs.get("claims/rg/app01") == (None, None)
    etag = blobs.put("claims/rg/app01", {"owner": "run-1"})
    assert blobs.client.calls[-1] == ("put", PREFIX + "claims/rg/app01", False, None, "None", "application/json")
    assert blobs.get("claims/rg/app01") == ({"owner": "run-1"}, etag)
    new = blobs.put("claims/rg/app01", {"owner": "run-2"}, etag=etag)
    assert blobs.client.calls[-1][:4] == ("put", PREFIX + "claims/rg/app01", True, etag)
    assert "IfNotModified" in blobs.client.calls[-1][4]
    assert new != etag and body(blobs.client, "claims/rg/app01") == {"owner": "run-2"}
    assert blobs.names("claims/") == ["claims/rg/app01"]
    blobs.delete("claims/rg/app01", new)
    assert blobs.names("claims/") == [] and blobs.stats["calls"] == 7


def test_a_create_that_finds_the_blob_there_is_a_conflict():
    blobs = container()
    blobs.put("leases/run-1", {"owner": "run-1"})
    with pytest.raises(lock.Conflict, match="409 BlobAlreadyExists"):
        blobs.put("leases/run-1", {"owner": "run-2"})


def test_an_update_or_delete_with_a_stale_etag_or_of_a_deleted_blob_is_a_conflict():
    blobs = container()
    old = blobs.put("claims/rg/app01", {"owner": "run-1"})
    blobs.put("claims/rg/app01", {"owner": "run-2"}, etag=old)
    with pytest.raises(lock.Conflict, match="412 ConditionNotMet"):
        blobs.put("claims/rg/app01", {"owner": "run-3"}, etag=old)
    with pytest.raises(lock.Conflict, match="412"):
        blobs.delete("claims/rg/app01", old)
    blobs.client.blobs.clear()
    with pytest.raises(lock.Conflict):
        blobs.delete("claims/rg/app01", old)
    blobs.client.failures[("put", "*")] = http_error(404, "BlobNotFound")
    with pytest.raises(lock.Conflict):
        blobs.put("claims/rg/app01", {"owner": "run-3"}, etag=old)


def test_a_missing_data_role_names_the_role_and_the_container():
    blobs = container()
    blobs.client.failures[("put", "*")] = http_error(403, "AuthorizationPermissionMismatch")
    with pytest.raises(AzureError) as caught:
        blobs.put("claims/rg/app01", {"owner": "run-1"})
    assert "Storage Blob Data Contributor" in caught.value.msg and "container siterecovery-failback" in caught.value.msg
    assert "403 AuthorizationPermissionMismatch" in caught.value.msg
    assert caught.value.details["rule"] == "state_store_role"


def test_a_missing_container_says_to_create_it():
    blobs = container()
    blobs.client.failures[("list", "*")] = http_error(404, "ContainerNotFound")
    blobs.client.failures[("get", PREFIX + "leases/x")] = http_error(404, "ContainerNotFound")
    for call in (lambda: blobs.names("leases/"), lambda: blobs.get("leases/x")):
        with pytest.raises(AzureError) as caught:
            call()
        assert "container siterecovery-failback does not exist" in caught.value.msg
        assert caught.value.details["option"] == "state_container"


def test_other_failures_name_the_blob_and_the_endpoint_options():
    blobs = container()
    blobs.client.failures[("get", "*")] = ServiceRequestError("Connection refused")
    blobs.client.failures[("get", PREFIX + "items/app01")] = ServiceRequestError("Connection refused")
    with pytest.raises(AzureError) as caught:
        blobs.get("items/app01")
    assert "https://acct.blob.core.windows.net/siterecovery-failback/%sitems/app01" % PREFIX in caught.value.msg
    blobs.client.failures[("get", PREFIX + "items/app01")] = http_error(500, "InternalError")
    with pytest.raises(AzureError, match="InternalError"):
        blobs.get("items/app01")


def test_a_blob_that_is_not_a_json_object_is_refused_naming_it():
    blobs = container()
    blobs.client.store(PREFIX + "items/app01", b"not json")
    with pytest.raises(AzureError, match="does not hold a JSON object"):
        blobs.get("items/app01")
    blobs.client.store(PREFIX + "items/app01", b"[1]")
    with pytest.raises(AzureError, match="not a record of this collection"):
        blobs.get("items/app01")


def test_blob_names_of_the_layout():
    assert blob_state.vault_prefix("SUB-1", "RG-ASR", "Vault01") == "sub-1/rg-asr/vault01/"
    assert blob_state.claim_name(vm_id("RG-Recovery", "App01")) == "claims/rg-recovery/app01"
    assert blob_state.lease_name("awx-job-1/2") == "leases/awx-job-1%2F2"
    assert blob_state.item_name("item-1") == "items/item-1"


# ---------------------------------------------------------------------------------------------- BlobStore + lock
def store_of(models, client=None):
    blobs = container(client)
    vms = azure_vms.AzureVms(session(FakeCompute(models)), records=blob_state.BlobRecords(blobs))
    return blob_state.BlobStore(blobs, vms, clock=lambda: NOW), blobs.client


def selected(*names):
    return [(None, dict(item(name="item-" + n, vm_name=n), name=n)) for n in names]


def acquire(store, names, owner="run-1", **kwargs):
    return lock.acquire(store, selected(*names), owner, 180, False, clock=lambda: NOW, sleeper=lambda s: None,
                        host="ctl01", **kwargs)


def test_acquire_writes_a_claim_per_vm_and_one_lease_and_no_tag():
    store, client = store_of([vm("rg-recovery", "app01"), vm("rg-recovery", "db01")])
    changed, results, lease = acquire(store, ["app01", "db01"])
    assert changed and [r["status"] for r in results] == ["acquired", "acquired"] and lease["store"] == "blob"
    assert body(client, "claims/rg-recovery/app01") == {"owner": "run-1", "azure_vm": vm_id("rg-recovery", "app01")}
    assert body(client, "leases/run-1") == {"owner": "run-1", "anchor": vm_id("rg-recovery", "app01"),
                                            "value": lock.format_lease("run-1", NOW, NOW + 180, "ctl01")}
    assert not [c for c in store.vms.client.virtual_machines.calls if c[0] == "begin_update"]
    # the same run again: held by us, the lease renewed by one conditional update, nothing new claimed
    changed, results, _lease = acquire(store, ["app01", "db01"])
    assert not changed and [r["status"] for r in results] == ["held_by_us", "held_by_us"]
    assert client.calls[-1][:3] == ("put", PREFIX + "leases/run-1", True)


def test_a_live_blob_lease_of_another_run_refuses_and_changes_nothing():
    store, client = store_of([vm("rg-recovery", "app01")])
    acquire(store, ["app01"], owner="run-1")
    before = dict(client.blobs)
    with pytest.raises(AzureError) as caught:
        acquire(store, ["app01"], owner="run-2")
    assert caught.value.details["refusals"][0].startswith("VM app01 is held by run run-1 on ctl01 since")
    assert client.blobs == before


def test_two_runs_at_the_same_instant_exactly_one_wins_and_the_loser_leaves_nothing():
    """run-2 creates the claim between run-1's read and its write: run-1's create gets 409, it undoes its own writes,
    reads again, and refuses on run-2's live lease."""
    store, client = store_of([vm("rg-recovery", "app01"), vm("rg-recovery", "db01")])
    other, _client = store_of([vm("rg-recovery", "app01"), vm("rg-recovery", "db01")], client=client)

    def other_run(fake, name):
        acquire(other, ["db01"], owner="run-2")
    client.before_put = other_run
    with pytest.raises(AzureError, match="held by run run-2"):
        acquire(store, ["app01", "db01"], owner="run-1")
    owners = {name[len(PREFIX):]: json.loads(data)["owner"] for name, (data, _e) in client.blobs.items()}
    assert owners == {"claims/rg-recovery/db01": "run-2", "leases/run-2": "run-2"}


def test_a_lease_renewed_by_a_conflicting_update_is_read_again():
    store, client = store_of([vm("rg-recovery", "app01")])
    acquire(store, ["app01"])

    def someone_touches_the_lease(fake, name):
        data, _etag = fake.blobs[PREFIX + "leases/run-1"]
        fake.store(PREFIX + "leases/run-1", data)
    client.before_put = someone_touches_the_lease
    assert lock.renew(store, "run-1", 180, clock=lambda: NOW + 60, host="ctl01") is True
    assert lock.parse_lease(body(client, "leases/run-1")["value"])["until"] == NOW + 240


def test_release_drops_our_claims_and_lease_and_renew_then_stops():
    store, client = store_of([vm("rg-recovery", "app01")])
    acquire(store, ["app01"])
    changed, results = lock.release(store, selected("app01"), "run-1", False)
    assert changed and results[0]["status"] == "released" and client.blobs == {}
    assert lock.renew(store, "run-1", 180, clock=lambda: NOW) is False
    assert lock.release(store, selected("app01"), "run-1", False)[0] is False


def test_the_release_after_a_commit_deletes_the_claims_of_the_vms_that_are_gone_and_renew_stops():
    """A claim blob outlives its Azure VM (a tag does not): the run's release, after the commit deleted the VM, deletes
    it with the lease; the keeper's renewal then finds nothing to renew."""
    client = FakeContainerClient()
    store, _client = store_of([vm("rg-recovery", "app01"), vm("rg-recovery", "db01")], client=client)
    acquire(store, ["app01", "db01"])
    committed, _client = store_of([vm("rg-recovery", "db01")], client=client)  # app01's Azure VM is gone
    assert committed.claimed_by("run-1") == [vm_id("rg-recovery", "db01")]
    changed, results = lock.release(committed, selected("app01", "db01"), "run-1", False)
    assert changed and [r["status"] for r in results] == ["none", "released"]
    assert client.blobs == {}
    assert lock.renew(committed, "run-1", 180, clock=lambda: NOW) is False


def test_a_release_tidies_up_after_dead_runs_and_leaves_live_ones_alone():
    """A killed run's lease and its claim on a committed VM do not vanish with the VM as tags do: the next release
    deletes the lapsed lease and that claim; a live run's lease and claims stay."""
    client = FakeContainerClient()
    store, _client = store_of([vm("rg-recovery", "app01"), vm("rg-recovery", "db01"), vm("rg-recovery", "web01")],
                              client=client)
    lock.acquire(store, selected("web01"), "dead-run", 180, False, clock=lambda: NOW - 1000, sleeper=lambda s: None,
                 host="ctl09")
    acquire(store, ["db01"], owner="live-run")
    acquire(store, ["app01"], owner="run-1")
    after, _client = store_of([vm("rg-recovery", "app01"), vm("rg-recovery", "db01")], client=client)  # web01 committed
    lock.release(after, selected("app01"), "run-1", False)
    assert sorted(name[len(PREFIX):] for name in client.blobs) == ["claims/rg-recovery/db01", "leases/live-run"]


def test_a_renewal_racing_the_release_leaves_no_lease_behind():
    """The keeper read the run's claim, then the run released claim and lease: the renewal's create of the lease
    finds no claim any more, deletes what it created and stops."""
    store, client = store_of([vm("rg-recovery", "app01")])
    acquire(store, ["app01"])
    store.refresh()
    assert store.claimed_by("run-1") == [vm_id("rg-recovery", "app01")]
    client.blobs.clear()  # the release, between the keeper's read and its write
    store._cache[blob_state.lease_name("run-1")] = (None, None)  # pylint: disable=protected-access
    with pytest.raises(lock.Conflict):
        store.write(vm_id("rg-recovery", "app01"), lease=lock.format_lease("run-1", NOW, NOW + 180, "ctl01"),
                    owner="run-1")
    assert client.blobs == {}
    assert lock.renew(store, "run-1", 180, clock=lambda: NOW) is False


def test_a_live_claim_written_as_tags_by_a_tags_store_run_is_honoured():
    lease = lock.format_lease("awx-job-7", NOW - 10, NOW + 100, "ctl02")
    store, client = store_of([vm("rg-recovery", "app01", tags={lock.TAG_LOCK: "awx-job-7", lock.TAG_LEASE: lease})])
    with pytest.raises(AzureError) as caught:
        acquire(store, ["app01"], owner="run-1")
    assert "held by run awx-job-7 on ctl02" in caught.value.msg and client.blobs == {}
    # lapsed: taken, in the blob store (the tags stay: this run writes none)
    expired = lock.format_lease("awx-job-7", NOW - 500, NOW - 100, "ctl02")
    store, client = store_of([vm("rg-recovery", "app01", tags={lock.TAG_LOCK: "awx-job-7", lock.TAG_LEASE: expired})])
    assert acquire(store, ["app01"], owner="run-1")[0] is True
    assert body(client, "claims/rg-recovery/app01")["owner"] == "run-1"
    assert store.claim(vm_id("rg-recovery", "app01")) == "run-1"


# ---------------------------------------------------------------------------------------------- identity records
def test_record_writes_the_blob_and_no_tag_and_find_reads_it_back():
    blobs = container()
    compute = FakeCompute([vm("rg-recovery", "app01")])
    vms = azure_vms.AzureVms(session(compute), records=blob_state.BlobRecords(blobs))
    assert vms.record(vms.find(item()), item()) is True
    expected = {"item": "item-1", "azure_vm": vm_id("rg-recovery", "app01"), "name": "app01",
                "resource_group": "rg-recovery"}
    assert body(blobs.client, "items/item-1") == expected
    assert vms.record(vms.find(item()), item()) is False  # already there: no write
    assert not [c for c in compute.virtual_machines.calls if c[0] == "begin_update"]
    after_reprotect = item(vm_name=None)  # ASR no longer names the Azure VM
    fresh = azure_vms.AzureVms(session(FakeCompute([vm("rg-moved", "app01")])), records=blob_state.BlobRecords(blobs))
    moved = {"item": "item-1", "azure_vm": vm_id("rg-moved", "app01"), "name": "app01", "resource_group": "rg-recovery"}
    blobs.client.store(PREFIX + "items/item-1", json.dumps(moved).encode())
    found = fresh.find(after_reprotect)
    assert (found["found_by"], found["exists"], found["moved"], found["recorded_resource_group"]) == (
        "record", True, True, "rg-recovery")


def test_find_still_honours_tags_written_by_earlier_runs():
    tags = {azure_vms.TAG_ITEM: "item-1", azure_vms.TAG_RESOURCE_GROUP: "rg-recovery"}
    vms = azure_vms.AzureVms(session(FakeCompute([vm("rg-recovery", "app01", tags=tags)])),
                             records=blob_state.BlobRecords(container()))
    assert vms.find(item(vm_name=None))["found_by"] == "tag"


# ---------------------------------------------------------------------------------------------- options
@pytest.mark.parametrize("params, words", [
    ({"state_store": "blob"}, ["state_storage_account"]),
    ({"state_store": "files"}, ["tags or blob"]),
    ({"state_store": "blob", "state_storage_account": "Contoso_1"}, ["Contoso_1", "3 to 24"]),
    ({"state_store": "blob", "state_storage_account": "ab"}, ["3 to 24"]),
    ({"state_store": "blob", "state_storage_account": "contoso", "state_container": "-abc"}, ["-abc"]),
    ({"state_store": "blob", "state_storage_account": "contoso", "state_container": "a--b"}, ["a--b"]),
    ({"state_store": "blob", "state_storage_account": "contoso", "state_container": "Abc"}, ["Abc"]),
    ({"state_store": "blob", "state_account_url": "http://127.0.0.1:10000/acct"}, ["https"]),
])
def test_bad_options_are_refused_naming_the_option_and_the_rule(params, words):
    problems = blob_state.validate(params)
    assert problems
    for word in words:
        assert word in " ".join(problems)
    with pytest.raises(AzureError, match="Invalid state store options"):
        blob_state.container_for(None, params, "rg", "vault")


def test_good_options_and_the_tags_default():
    assert blob_state.validate({"state_store": "blob", "state_storage_account": "contoso01",
                                "state_container": "siterecovery-failback"}) == []
    assert blob_state.validate({}) == []
    assert blob_state.container_for(None, {"state_store": "tags"}, "rg", "vault") is None


def test_the_blob_endpoint_follows_the_cloud_and_an_explicit_url_wins():
    def endpoints(name):
        return cloud.resolve(name)
    assert cloud.blob_account_url(endpoints("AzureCloud"), "contoso") == "https://contoso.blob.core.windows.net"
    assert cloud.blob_account_url(endpoints("AzureUSGovernment"), "contoso") == "https://contoso.blob.core.usgovcloudapi.net"
    assert cloud.blob_account_url(endpoints("AzureChinaCloud"), "contoso") == "https://contoso.blob.core.chinacloudapi.cn"
    custom = cloud.resolve("AzureCloud", "https://management.local.azurestack.external", "https://login.local")
    with pytest.raises(AzureError, match="give state_account_url"):
        cloud.blob_account_url(custom, "contoso")
    assert cloud.blob_account_url(custom, None, "https://10.0.0.5/acct/") == "https://10.0.0.5/acct"
    with pytest.raises(AzureError, match="neither state_storage_account"):
        cloud.blob_account_url(endpoints("AzureCloud"))


def test_container_for_builds_the_vaults_folder():
    fake = types.SimpleNamespace(endpoints=cloud.resolve("AzureUSGovernment"), stats={"calls": 0},
                                 params=types.SimpleNamespace(subscription_id="SUB"))
    blobs = blob_state.container_for(fake, {"state_store": "blob", "state_storage_account": "contoso"}, "RG", "V1")
    assert (blobs.account_url, blobs.container, blobs.prefix) == (
        "https://contoso.blob.core.usgovcloudapi.net", "siterecovery-failback", "sub/rg/v1/")


def test_the_run_options_check_the_store_options_with_the_prefix():
    problems = options_domain.check_state_store({"state_store": "blob", "state_storage_account": "",
                                                 "state_container": "x", "state_account_url": "ftp://a"},
                                                lambda key: "original_location_" + key)
    assert [p["option"] for p in problems] == ["original_location_state_container", "original_location_state_account_url"]
    problems = options_domain.check_state_store({"state_store": "blob", "state_storage_account": "Bad"})
    assert [p["option"] for p in problems] == ["state_storage_account"] and "3 to 24" in problems[0]["message"]
    problems = options_domain.check_state_store({"state_store": "blob", "state_storage_account": ""})
    assert [p["option"] for p in problems] == ["state_storage_account"] and "must be set" in problems[0]["message"]
    assert options_domain.check_state_store({"state_store": "tags", "state_storage_account": "",
                                             "state_container": "", "state_account_url": ""}) == []


def test_the_switch_hint_names_the_variables_and_the_role():
    hint = blob_state.switch_hint("original_location_")
    assert "original_location_state_store: blob" in hint and "original_location_state_storage_account" in hint
    assert "Storage Blob Data Contributor" in hint


def test_the_container_client_uses_the_runs_credential_and_ca_bundle():
    closed_with_session = []
    fake = types.SimpleNamespace(credential=types.SimpleNamespace(get_token=lambda *s, **k: None), stats={"calls": 0},
                                 params=types.SimpleNamespace(ca_bundle="/etc/ca.pem"), closes=closed_with_session.append)
    blobs = blob_state.BlobContainer(fake, "https://127.0.0.1:10000/labstate", "siterecovery-failback", PREFIX)
    client = blobs.client
    assert client is blobs.client  # built once
    assert closed_with_session == [client]  # its transport closes with the session
    assert (client.container_name, client.primary_hostname) == ("siterecovery-failback", "127.0.0.1:10000/labstate")
    assert client.credential is fake.credential
    config = client._pipeline._transport.connection_config  # pylint: disable=protected-access
    assert (config.verify, config.timeout) == ("/etc/ca.pem", blob_state.CONNECTION_TIMEOUT)


def test_a_tag_record_denied_by_policy_says_how_to_run_without_tags():
    compute = FakeCompute([vm("rg-recovery", "app01")])

    def denied(rg, name, update, **kwargs):
        raise AzureError("Could not tag the Azure VM: Azure Policy denied the request by policy assignment 'deny-tags'.",
                         policy_violations=[{"assignment_name": "deny-tags"}])
    compute.virtual_machines.begin_update = denied
    vms = azure_vms.AzureVms(session(compute))
    with pytest.raises(AzureError) as caught:
        vms.record(vms.find(item()), item())
    assert "'deny-tags'" in caught.value.msg and "state_store: blob" in caught.value.msg

    def failed(rg, name, update, **kwargs):
        raise AzureError("Could not tag: 500")
    compute.virtual_machines.begin_update = failed
    with pytest.raises(AzureError) as other:
        vms.record(vms.find(item()), item())
    assert "state_store" not in other.value.msg
