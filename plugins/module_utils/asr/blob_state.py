# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run state in an Azure Blob Storage container, for subscriptions whose policy forbids tag writes.

Used through ``azure-storage-blob`` with the run's own Azure credential (an Entra ID token for
``https://storage.azure.com/.default``); the identity needs **Storage Blob Data Contributor** on the
container. One folder per vault (docs/locking.md, "The blob store"):

``<subscription>/<vault resource group>/<vault>/`` (lower case), then

- ``claims/<Azure VM resource group>/<Azure VM name>``: ``{"owner", "azure_vm"}``, one per claimed VM;
- ``leases/<owner>``: ``{"owner", "value", "anchor"}``, one per run (``value`` as :func:`lock.format_lease`);
- ``items/<protected item name>``: ``{"item", "azure_vm", "name", "resource_group"}``, the Azure VM identity
  record that :meth:`AzureVms.record` writes before the first reprotect.

Every write is conditional on the ETag read with the state: ``If-None-Match: *`` to create a blob
(``409 BlobAlreadyExists`` when another run created it first), ``If-Match: <ETag>`` to replace or delete one
(``412 ConditionNotMet`` when it changed since, ``404 BlobNotFound`` when it was deleted since); each of these is
a :class:`lock.Conflict`, so ``lock.acquire`` / ``renew`` / ``release`` keep their semantics unchanged.
"""

from __future__ import annotations

import json
import time
import urllib.parse

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import ids, lock
from ansible_collections.siterecovery.failback.plugins.module_utils.azure import cloud
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError, from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.domain.options import CONTAINER_NAME, STORAGE_ACCOUNT_NAME
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import MissingLibraryError

STORES = ("tags", "blob")
DEFAULT_CONTAINER = "siterecovery-failback"
ROLE = "Storage Blob Data Contributor"
STORAGE_SCOPE = "https://storage.azure.com/.default"
# seconds to open a connection to the Blob endpoint (the Azure session's ARM value)
CONNECTION_TIMEOUT = 30
READ_TIMEOUT = 60


def validate(params):
    """Check the store options (``state_store``, ``state_storage_account``, ``state_container``, ``state_account_url``)
    before any call. Returns a list of problems, each naming the option, the rule and the fix (empty: valid)."""
    problems = []
    store = params.get("state_store") or "tags"
    account, container, url = (params.get("state_storage_account"), params.get("state_container"),
                               params.get("state_account_url"))
    if store not in STORES:
        problems.append("state_store %r: use tags or blob." % store)
    if account is not None and not STORAGE_ACCOUNT_NAME.match(account):
        problems.append("state_storage_account %r: a storage account name is 3 to 24 lower-case letters and digits "
                        "(the first label of <account>.blob.core.windows.net)." % account)
    if container is not None and not CONTAINER_NAME.match(container):
        problems.append("state_container %r: a container name is 3 to 63 characters of lower-case letters, digits and "
                        "single hyphens, starting and ending with a letter or digit (e.g. %s)." % (container, DEFAULT_CONTAINER))
    if url:
        try:
            cloud._url(url, "state_account_url")  # pylint: disable=protected-access  # one URL rule for every endpoint
        except AzureError as exc:
            problems.append(exc.msg)
    if store == "blob" and not account and not url:
        problems.append("state_store is blob: set state_storage_account (the storage account that holds the run state) "
                        "or state_account_url.")
    return problems


def _quote(name):
    return urllib.parse.quote(name, safe="-_.~@+=")


def vault_prefix(subscription_id, resource_group, vault_name):
    """``<subscription>/<resource group>/<vault>/``, lower case: one folder per vault."""
    return "%s/%s/%s/" % (_quote((subscription_id or "").lower()), _quote(resource_group.lower()), _quote(vault_name.lower()))


class BlobContainer:
    """One container of the state, reached with the session's credential; blob names relative to ``prefix``.

    ``get(name)`` -> ``(dict, etag)`` or ``(None, None)``; ``put(name, body, etag=None)`` creates (no ``etag``:
    ``If-None-Match: *``) or replaces (``If-Match``); ``delete(name, etag)``; ``names(folder)`` lists. A lost
    condition raises :class:`lock.Conflict`; every other failure an AzureError naming the cause and the fix.
    ``stats["calls"]`` counts the requests."""

    def __init__(self, session, account_url, container, prefix, client=None):
        self.session = session
        self.account_url = account_url
        self.container = container
        self.prefix = prefix
        self.stats = session.stats if session is not None else {"calls": 0}
        self._client = client

    @property
    def client(self):
        if self._client is None:
            try:
                from azure.storage.blob import ContainerClient  # pylint: disable=import-outside-toplevel  # optional SDK
            except ImportError as exc:
                raise MissingLibraryError("azure-storage-blob", exc) from exc
            kwargs = {"connection_timeout": CONNECTION_TIMEOUT, "read_timeout": READ_TIMEOUT, "retry_total": 3}
            if self.session.params.ca_bundle:
                kwargs["connection_verify"] = self.session.params.ca_bundle
            self._client = ContainerClient(self.account_url, self.container, credential=self.session.credential,
                                           audience="https://storage.azure.com/", **kwargs)
            self.session.closes(self._client)  # its HTTP transport closes with the session's clients
        return self._client

    def where(self, name=""):
        return "%s/%s/%s%s" % (self.account_url.rstrip("/"), self.container, self.prefix, name)

    def _fail(self, exc, action, name, conflict_on=()):
        status = getattr(exc, "status_code", None)
        code = getattr(exc, "error_code", None) or _header_code(exc)
        code = getattr(code, "value", code)  # azure-storage-blob's StorageErrorCode (a str enum)
        if status in conflict_on or code in ("ConditionNotMet", "BlobAlreadyExists"):
            return lock.Conflict("The blob %s changed since it was read (%s %s)." % (self.where(name), status, code),
                                 key=name, status=status, code=code)
        if status == 403 and code in ("AuthorizationPermissionMismatch", "AuthorizationFailure"):
            return AzureError(
                "Could not %s blob %s: %s (403 %s). The run's identity needs the role %s on container %s (or its "
                "storage account): assign it (az role assignment create --role '%s' --assignee <client id> --scope "
                "<storage account id>/blobServices/default/containers/%s), or use state_store: tags." % (
                    action, self.where(name), _first_line(exc), code, ROLE, self.container, ROLE, self.container),
                status=status, code=code, role=ROLE, container=self.container, rule="state_store_role")
        if status == 404 and code == "ContainerNotFound":
            return AzureError("Could not %s blob %s: the container %s does not exist in %s. Create it (az storage container "
                              "create --name %s --account-name <account> --auth-mode login) or set state_container to "
                              "an existing one." % (action, self.where(name), self.container, self.account_url,
                                                    self.container), status=status, code=code, option="state_container")
        error = from_exception(exc, "%s blob" % action, self.where(name))
        if status is None and error.details.get("endpoint") is None:
            error.msg += " (the Blob endpoint: state_storage_account / state_account_url)"
        return error

    def get(self, name):
        self.stats["calls"] = self.stats.get("calls", 0) + 1
        try:
            downloader = self.client.get_blob_client(self.prefix + name).download_blob()
            data = downloader.readall()
        except Exception as exc:  # pylint: disable=broad-except  # one readable error
            if getattr(exc, "status_code", None) == 404 and (getattr(exc, "error_code", None) or _header_code(exc)) \
                    in ("BlobNotFound", None):
                return None, None
            raise self._fail(exc, "read", name) from exc
        try:
            body = json.loads(data.decode("utf-8"))
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AzureError("The blob %s does not hold a JSON object: it is not a record of this collection; move it "
                             "out of the folder %s." % (self.where(name), self.where()), rule="state_store_record")
        return body, downloader.properties.etag

    def put(self, name, body, etag=None):
        """Create (``etag`` None) or replace (``If-Match: etag``) the blob; returns its new ETag."""
        from azure.core import MatchConditions  # pylint: disable=import-outside-toplevel  # loaded with the SDK
        data = json.dumps(body, sort_keys=True).encode("utf-8")
        kwargs = {"overwrite": False} if etag is None else {
            "overwrite": True, "etag": etag, "match_condition": MatchConditions.IfNotModified}
        self.stats["calls"] = self.stats.get("calls", 0) + 1
        try:
            from azure.storage.blob import ContentSettings  # pylint: disable=import-outside-toplevel  # loaded above
            result = self.client.get_blob_client(self.prefix + name).upload_blob(
                data, content_settings=ContentSettings(content_type="application/json"), **kwargs)
        except Exception as exc:  # pylint: disable=broad-except  # one readable error
            raise self._fail(exc, "write", name, conflict_on=(409, 412) if etag is None else (404, 412)) from exc
        return result.get("etag")

    def delete(self, name, etag):
        from azure.core import MatchConditions  # pylint: disable=import-outside-toplevel  # loaded with the SDK
        self.stats["calls"] = self.stats.get("calls", 0) + 1
        try:
            self.client.get_blob_client(self.prefix + name).delete_blob(etag=etag,
                                                                        match_condition=MatchConditions.IfNotModified)
        except Exception as exc:  # pylint: disable=broad-except  # one readable error
            raise self._fail(exc, "delete", name, conflict_on=(404, 412)) from exc

    def names(self, folder):
        """The names (relative to the prefix) of the blobs under ``folder`` (``claims/``)."""
        self.stats["calls"] = self.stats.get("calls", 0) + 1
        try:
            return [blob.name[len(self.prefix):] for blob in self.client.list_blobs(name_starts_with=self.prefix + folder)]
        except Exception as exc:  # pylint: disable=broad-except  # one readable error
            raise self._fail(exc, "list", folder) from exc


def _header_code(exc):
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    return headers.get("x-ms-error-code")


def _first_line(exc):
    message = getattr(exc, "message", None) or str(exc)
    return message.strip().splitlines()[0].rstrip(".") if message.strip() else type(exc).__name__


def claim_name(vm_id):
    """``claims/<resource group>/<name>`` of an Azure VM id (lower case)."""
    rg, name = ids.vm_path(vm_id)
    return "claims/%s/%s" % (_quote((rg or "").lower()), _quote((name or "").lower()))


def lease_name(owner):
    return "leases/" + _quote(owner)


def item_name(item):
    return "items/" + _quote(item)


class BlobStore:
    """Claims and leases as blobs of the vault's folder (``lock.acquire`` / ``renew`` / ``release`` take it as
    they take ``lock.TagStore``). A claim or lease written as tags by a tags-store run is read too (the VM list
    is read anyway): a blob-store run refuses a VM a live tags-store run holds, and never writes tags."""

    kind = "blob"

    def __init__(self, container, azure_vms, clock=time.time):
        self.blobs = container
        self.vms = azure_vms
        self.clock = clock
        self._cache = {}
        self._leases = None

    def refresh(self):
        self.vms.forget()
        self._cache = {}
        self._leases = None

    def _read(self, name):
        if name not in self._cache:
            self._cache[name] = self.blobs.get(name)
        return self._cache[name]

    def key(self, item):
        vm = self.vms.find(item)
        return vm["id"] if vm and vm.get("exists") else None

    def claim(self, key):
        body, _etag = self._read(claim_name(key))
        if body and body.get("owner"):
            return body["owner"]
        return self.vms.tag(key, lock.TAG_LOCK)  # a tags-store run's claim

    def leases(self):
        if self._leases is None:
            found = {}
            for vm in self.vms.all():  # the tags-store runs' leases
                lease = lock.parse_lease(vm["tags"].get(lock.TAG_LEASE))
                if lease and lease["until"] >= found.get(lease["owner"], {}).get("until", -1):
                    found[lease["owner"]] = dict(lease, key=vm["id"], store="tags")
            for name in self.blobs.names("leases/"):
                body, _etag = self._read(name)
                lease = lock.parse_lease((body or {}).get("value"))
                if lease and lease["until"] >= found.get(lease["owner"], {}).get("until", -1):
                    found[lease["owner"]] = dict(lease, key=body.get("anchor"), store="blob")
            self._leases = found
        return self._leases

    def _set(self, name, body):
        _old, etag = self._read(name)
        new = self.blobs.put(name, body, etag=etag)
        self._cache[name] = (body, new)

    def _drop(self, name):
        body, etag = self._read(name)
        if body is None:
            return
        self.blobs.delete(name, etag)
        self._cache[name] = (None, None)

    def write(self, key, claim=None, lease=None, drop_claim=False, drop_lease=False, owner=None):
        """Conditional writes of the claim blob of ``key`` and of the lease blob of ``owner`` (the lease's owner
        when ``lease`` is given); raises :class:`lock.Conflict` when one lost.

        Unlike a tag, a claim blob outlives its Azure VM: dropping the lease also deletes the run's claims on
        VMs that are gone (committed). A lease created without a claim in the same call (a renewal that found
        no lease) is kept only while the run still claims a VM: a renewal racing the run's release leaves no
        lease behind."""
        if claim is not None:
            self._set(claim_name(key), {"owner": claim, "azure_vm": key})
        if drop_claim:
            self._drop(claim_name(key))
        if lease is not None:
            run = lock.parse_lease(lease)["owner"]
            created = self._read(lease_name(run))[1] is None
            self._set(lease_name(run), {"owner": run, "value": lease, "anchor": key})
            if created and claim is None and not self._claims_now(run):
                self._drop(lease_name(run))
                self._leases = None
                raise lock.Conflict("Run %s released its claims while its lease was renewed." % run, key=key)
        if drop_lease and owner:
            self._drop(lease_name(owner))
            self._sweep()  # with no lease left, the run's claims on committed (gone) VMs go too
        self._leases = None

    def _sweep(self):
        """Tidy up after runs that died (a killed run's records do not vanish with its Azure VMs, as tags do):
        delete the leases that lapsed, and the claims of runs without a live lease on VMs that are gone. Each
        delete is conditional on the ETag read; one that loses is left for the next release (nothing depends on
        it: a lapsed lease holds nothing)."""
        now = self.clock()
        live = set()
        for name in self.blobs.names("leases/"):
            body, _etag = self._read(name)
            lease = lock.parse_lease((body or {}).get("value"))
            if lease and lease["until"] > now:
                live.add(lease["owner"])
                continue
            try:
                self._drop(name)
            except lock.Conflict:
                continue
        for name in self.blobs.names("claims/"):
            body, _etag = self._read(name)
            if body and body.get("owner") not in live and self._gone(body.get("azure_vm")):
                try:
                    self._drop(name)
                except lock.Conflict:
                    continue

    def _gone(self, vm_id):
        return not any(vm["id"].lower() == (vm_id or "").lower() for vm in self.vms.all())

    def _claim_names(self, owner):
        names = []
        for name in self.blobs.names("claims/"):
            body, _etag = self._read(name)
            if body and body.get("owner") == owner and body.get("azure_vm"):
                names.append(name)
        return names

    def _claims_now(self, owner):
        """Whether ``owner`` claims a VM that exists, read again now (no cache)."""
        for name in [cached for cached in self._cache if cached.startswith("claims/")]:
            del self._cache[name]
        return bool(self.claimed_by(owner))

    def claimed_by(self, owner):
        """The Azure VM ids ``owner`` claims whose VM still exists (a committed VM needs no claim)."""
        return [self._read(name)[0]["azure_vm"] for name in self._claim_names(owner)
                if not self._gone(self._read(name)[0]["azure_vm"])]


class BlobRecords:
    """The Azure VM identity records (``items/<item>``) that ``AzureVms.record`` writes and ``find`` reads."""

    def __init__(self, container):
        self.blobs = container
        self._cache = {}

    def get(self, item):
        """``{item, azure_vm, name, resource_group}`` recorded for the protected item ``item``, or None."""
        if item not in self._cache:
            self._cache[item] = self.blobs.get(item_name(item))
        return self._cache[item][0]

    def put(self, item, record):
        """Write the record of ``item`` (conditional on what was read); True when it wrote, False when it was there."""
        current, etag = self._cache.get(item) or self.blobs.get(item_name(item))
        if current == record:
            return False
        new = self.blobs.put(item_name(item), record, etag=etag)
        self._cache[item] = (record, new)
        return True


def container_for(session, params, resource_group, vault_name):
    """The vault's :class:`BlobContainer` from the module options, or None for ``state_store: tags``.
    Raises AzureError (naming every bad option) before any call."""
    problems = validate(params)
    if problems:
        raise AzureError("Invalid state store options: " + " ".join(problems), problems=problems, option="state_store")
    if (params.get("state_store") or "tags") != "blob":
        return None
    url = cloud.blob_account_url(session.endpoints, params.get("state_storage_account"), params.get("state_account_url"))
    return BlobContainer(session, url, params.get("state_container") or DEFAULT_CONTAINER,
                         vault_prefix(session.params.subscription_id, resource_group, vault_name))


def with_switch_hint(error, prefix=""):
    """``error`` (an AzureError) with :func:`switch_hint` added when it is a tag-deny policy's refusal; True when it
    was one."""
    if error.details.get("policy_violations") is None:
        return False
    error.msg = "%s %s" % (error.msg.rstrip(), switch_hint(prefix))
    return True


def switch_hint(prefix=""):
    """What a refusal caused by a tag-deny policy adds: the variables (or options) that move the state to blobs."""
    return ("To run where tags cannot be written, keep the lease and the Azure VM identity records in a blob container "
            "instead: set %sstate_store: blob and %sstate_storage_account: <account> (and %sstate_container, default %s; "
            "or %sstate_account_url for a private endpoint); the run's identity needs %s on that container "
            "(docs/locking.md)." % (prefix, prefix, prefix, DEFAULT_CONTAINER, prefix, ROLE))
