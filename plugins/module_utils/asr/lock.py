# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A run's lease on the VMs it fails back, so two runs never act on the same VM at once.

Two records, both in Azure so that a run from any AWX node or controller sees them (docs/locking.md):

- a **claim** per VM, naming the run that holds it (tag ``siterecovery-failback-lock: <owner>`` on the
  VM's failed-over Azure VM with :class:`TagStore`, or a blob of the vault's folder with
  ``asr/blob_state.BlobStore``);
- one **lease** per run: ``<owner>|<since>|<until>|<host>`` (epoch seconds, the controller's host
  name), renewed while the run lives (asr/lease_keeper.py) and lapsing by itself ``ttl`` seconds after
  its last renewal when the run dies. A claim holds only while its run's lease is live.

Every write is conditional (``If-Match`` on the ETag read with the state): of two runs that read the
same free VM, exactly one write lands and the other run re-reads and finds the VM held. A run takes
its claims all or nothing, in a fixed order, and undoes what it took when it loses one.

A VM whose Azure VM is gone (committed) needs no claim: nothing is left that two runs could both do.
"""

from __future__ import annotations

import socket
import time

from ansible_collections.siterecovery.failback.plugins.module_utils.azure.errors import AzureError

TAG_LOCK = "siterecovery-failback-lock"
TAG_LEASE = "siterecovery-failback-lease"
CONFLICT_RETRIES = 5


class Conflict(AzureError):
    """A conditional write lost: the record changed since it was read (HTTP 412 / 409)."""


def utc(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def parse_claim(value):
    """``'run-1'`` -> ``('run-1', None)``; the lock of releases before 0.9, ``'run-1|1764140000'``, ->
    ``('run-1', 1764140000.0)`` (a claim that carried its own expiry); empty -> ``(None, None)``."""
    value = (value or "").strip()
    owner, sep, expiry = value.rpartition("|")
    if sep:
        try:
            return (owner or None), float(expiry)
        except ValueError:
            pass
    return (value or None), None


def format_lease(owner, since, until, host):
    return "%s|%d|%d|%s" % (owner, since, until, (host or "").replace("|", "_"))


def parse_lease(value):
    """``'run-1|1764140000|1764140180|ctl01'`` -> ``{owner, since, until, host}``; anything else -> None."""
    parts = (value or "").rsplit("|", 3)
    if len(parts) != 4 or not parts[0]:
        return None
    try:
        return {"owner": parts[0], "since": float(parts[1]), "until": float(parts[2]), "host": parts[3] or None}
    except ValueError:
        return None


class TagStore:
    """Claims and leases as tags of the failed-over Azure VMs (``AzureVms``), written with ``If-Match``.

    A run's lease rides on one of the VMs it claims (its *anchor*); the subscription's VM list (one
    paged call) gives every claim and lease at once.
    """

    kind = "tags"

    def __init__(self, azure_vms):
        self.vms = azure_vms
        self.identities = {}  # Azure VM id -> the identity tags of its item (AzureVms.identity_tags)

    def refresh(self):
        self.vms.forget()

    def key(self, item):
        """The Azure VM id that carries the item's claim, or None (no Azure VM: nothing to claim)."""
        vm = self.vms.find(item)
        if not (vm and vm.get("exists")):
            return None
        self.identities[vm["id"]] = identity_of(self.vms, vm, item)
        return vm["id"]

    def _identity(self, key):
        """The identity tags of the VM ``key`` that it does not carry yet ({} when it does, or there are none)."""
        wanted = self.identities.get(key) or {}
        return {name: value for name, value in wanted.items() if self.vms.tag(key, name) != value}

    def claim(self, key):
        return self.vms.tag(key, TAG_LOCK)

    def leases(self):
        """``{owner: {owner, since, until, host, key}}``: the latest lease of each run."""
        found = {}
        for vm in self.vms.all():
            lease = parse_lease(vm["tags"].get(TAG_LEASE))
            if lease and lease["until"] >= found.get(lease["owner"], {}).get("until", -1):
                found[lease["owner"]] = dict(lease, key=vm["id"])
        return found

    def write(self, key, claim=None, lease=None, drop_claim=False, drop_lease=False, owner=None):
        """One conditional PATCH of the VM ``key``: set or drop its claim and its lease (the one lease tag the VM
        carries; ``owner``, the run, is what a store keeping one record per run needs)."""
        wanted = {}
        if claim is not None:
            wanted[TAG_LOCK] = claim
            wanted.update(self._identity(key))  # the identity record rides on the claim's PATCH
        if lease is not None:
            wanted[TAG_LEASE] = lease
        remove = ([TAG_LOCK] if drop_claim else []) + ([TAG_LEASE] if drop_lease else [])
        self.vms.set_tags(key, wanted, remove=remove, conditional=True)  # raises Conflict on a 412

    def claimed_by(self, owner):
        """The keys (Azure VM ids) that ``owner`` claims."""
        return [vm["id"] for vm in self.vms.all() if parse_claim(vm["tags"].get(TAG_LOCK))[0] == owner]


def identity_of(azure_vms, vm, item):
    """The identity record of ``item`` as tags of ``vm`` (``AzureVms.identity_tags``; None with a blob record or a store
    that keeps none): a claim written with them spares the reprotect its own PATCH of the same VM."""
    tags = getattr(azure_vms, "identity_tags", None)
    return tags(vm, item) if tags is not None else None


def _holders(store, keys, owner, now):
    """Per key: ``(holder, until)`` of a live claim by another run, ``'ours'``, or None (free)."""
    leases = store.leases()
    state = {}
    for key in keys:
        holder, own_expiry = parse_claim(store.claim(key))
        if not holder:
            state[key] = None
        elif holder == owner:
            state[key] = "ours"
        else:
            lease = leases.get(holder)
            until = max(own_expiry or 0.0, lease["until"] if lease else 0.0)
            state[key] = (holder, until, lease) if until > now else None
    return state, leases


ENDING = " (ending)"  # the lease's host when its ansible-playbook is gone and a step it started still runs


def ending(lease):
    """True when ``lease`` is renewed only for the steps its gone run left running (``lease_keeper``): a run that
    waits for it keeps waiting instead of refusing."""
    return bool(lease and (lease.get("host") or "").endswith(ENDING))


def _refusal(item_name, holder, until, lease, renewed, variable):
    since = " since %s" % utc(lease["since"]) if lease else ""
    host = " on %s" % lease["host"][:-len(ENDING)] if ending(lease) else (
        " on %s" % lease["host"] if lease and lease.get("host") else "")
    if ending(lease):
        alive = ("its ansible-playbook has ended, but a step it started still runs there and keeps the lease until it "
                 "finishes (at the latest %s unless renewed): wait for it and re-run" % utc(until))
    elif renewed:
        alive = "it renewed its lease while this run waited, so it is alive: wait for it to finish"
    else:
        alive = ("its lease lapses at %s unless that run renews it: if it died, the re-run after that time proceeds by "
                 "itself" % utc(until))
    return ("VM %s is held by run %s%s%s (lease until %s); %s. If you know that run is gone, set %s: true to take "
            "its VMs." % (item_name, holder, host, since, utc(until), alive, variable))


def _read(store, selected, owner, now):
    """``(results, keyed, state, leases)`` of the selected items as the store stands now."""
    store.refresh()
    results, keyed = [], []
    for _model, item in selected:
        key = store.key(item)
        result = {"name": item["name"], "azure_vm": key, "status": "skipped", "broken": None}
        results.append(result)
        if key:
            keyed.append((key, item, result))
    state, leases = _holders(store, [k for k, _i, _r in keyed], owner, now)
    return results, keyed, state, leases


def _pause(held, first_seen, deadline, now, variable, results):
    """Seconds to wait for the holders' leases to lapse; raise the refusal when one was renewed meanwhile
    (a live run) or would outlast ``deadline``."""
    renewed = {h[0] for _i, h in held if h[1] > first_seen.get(h[0], h[1]) and not ending(h[2])}
    lapses = max(h[1] for _i, h in held)
    if renewed or lapses > deadline:
        refusals = [_refusal(item["name"], h[0], h[1], h[2], h[0] in renewed, variable) for item, h in held]
        raise AzureError("Refusing to start; nothing was changed: " + " ".join(refusals), refusals=refusals,
                         vms=results, rule="run_lease_held")
    for _i, h in held:
        first_seen.setdefault(h[0], h[1])
    return max(1.0, min(lapses - now + 1.0, deadline - now))


def _take(store, to_claim, anchor, value):
    """Write the claims and the lease (anchor first in key order); on a lost write undo ours and raise Conflict."""
    written = []
    owner = owner_of(value)
    try:
        for key in sorted(set(to_claim) | {anchor}):
            store.write(key, claim=owner if key in to_claim else None, lease=value if key == anchor else None,
                        owner=owner)
            written.append(key)
    except Conflict:
        for key in written:  # another run got in between: undo, read again and decide again
            store.write(key, drop_claim=key in to_claim, drop_lease=key == anchor, owner=owner)
        raise


def owner_of(lease_value):
    return parse_lease(lease_value)["owner"]


POLL_SECONDS = 10.0  # how often a waiting run reads the holders' leases again (a live holder renews every <= 60 s)


def acquire(store, selected, owner, ttl_seconds, check_mode, break_lock=False, wait_seconds=0.0, clock=time.time,
            sleeper=time.sleep, host=None, variable="lock_break", on_wait=None):
    """Claim every selected item's VM for ``owner`` and start (or renew) its lease.

    A VM held by another run whose lease is live: the call waits up to ``wait_seconds`` for that lease
    to lapse (a dead run's does within its ttl) and then proceeds; it refuses at once, changing nothing,
    when the lease is renewed while it waits (that run is alive - unless only a step its ended run left running
    renews it: ``ending``, waited for too) or would outlast the wait. Returns
    ``(changed, results, lease)``; raises AzureError (``refusals``) on a refusal. While it waits it reads the
    leases again every ``POLL_SECONDS`` (a renewal shows within one of the holder's intervals) and calls
    ``on_wait(held)`` (``[(item, (holder, until, lease))]``) before each pause.
    """
    host = host or socket.gethostname()
    deadline = clock() + max(0.0, wait_seconds or 0.0)
    first_seen = {}
    conflicts = 0
    while conflicts <= CONFLICT_RETRIES:  # a wait for a lease is bounded by its deadline, a lost write by this count
        now = clock()
        results, keyed, state, leases = _read(store, selected, owner, now)
        held = [(item, state[key]) for key, item, _r in keyed if state[key] not in (None, "ours")]
        if held and not break_lock:
            pause = _pause(held, first_seen, deadline, now, variable, results)
            if on_wait is not None:
                on_wait(held)
            sleeper(min(pause, POLL_SECONDS))
            continue
        to_claim = []
        for key, _item, result in keyed:
            result["status"] = "held_by_us" if state[key] == "ours" else "acquired"
            if state[key] != "ours":
                result["broken"] = state[key][0] if state[key] else None
                to_claim.append(key)
        ours = [k for k, _i, _r in keyed]
        lease = leases.get(owner)
        since = lease["since"] if lease else now
        lease_out = {"owner": owner, "since": utc(since), "until": utc(now + ttl_seconds), "host": host,
                     "store": store.kind}
        if check_mode or not ours:
            return bool(to_claim), results, lease_out
        anchor = lease["key"] if lease and lease["key"] in ours else sorted(ours)[0]
        try:
            _take(store, to_claim, anchor, format_lease(owner, since, now + ttl_seconds, host))
        except Conflict:
            conflicts += 1
            continue
        return bool(to_claim), results, lease_out
    raise AzureError("Could not take the lease of %s: other runs kept changing the VMs (%d tries)."
                     % (", ".join(item["name"] for _m, item in selected), CONFLICT_RETRIES + 1), rule="run_lease_contended")


def renew(store, owner, ttl_seconds, clock=time.time, host=None):
    """Move the run's lease end to ``now + ttl``. Returns False when the run holds no claim any more
    (released, or every VM committed): the keeper stops."""
    host = host or socket.gethostname()
    for _attempt in range(CONFLICT_RETRIES + 1):
        store.refresh()
        keys = store.claimed_by(owner)
        if not keys:
            return False
        lease = store.leases().get(owner)
        now = clock()
        anchor = lease["key"] if lease and lease["key"] in keys else sorted(keys)[0]
        try:
            store.write(anchor, lease=format_lease(owner, lease["since"] if lease else now, now + ttl_seconds, host),
                        owner=owner)
        except Conflict:
            continue
        return True
    return True


def lapse(store, owner, clock=time.time):
    """End ``owner``'s lease now: its run is gone (the keeper saw every process of it end - a cancelled AWX job, a
    killed ansible-playbook), so another run need not wait ``ttl`` for it. The lease record stays, with its end set
    to now, so a refusal or a report still says who held the VMs and until when; the claims stay and count for
    nothing without a live lease. Returns True when a live lease was ended."""
    for _attempt in range(CONFLICT_RETRIES + 1):
        store.refresh()
        lease = store.leases().get(owner)
        now = clock()
        if not lease or lease["until"] <= now:
            return False
        try:
            store.write(lease["key"], lease=format_lease(owner, lease["since"], now, lease["host"]), owner=owner)
        except Conflict:
            continue
        return True
    return False


def release(store, selected, owner, check_mode):
    """Drop ``owner``'s claims on the selected items' VMs and its lease (other runs' records stay)."""
    for _attempt in range(CONFLICT_RETRIES + 1):
        store.refresh()
        results, changed, writes = [], False, {}
        for _model, item in selected:
            key = store.key(item)
            result = {"name": item["name"], "azure_vm": key, "status": "none"}
            results.append(result)
            if not key:
                continue
            holder, _expiry = parse_claim(store.claim(key))
            if holder != owner:
                result["status"] = "not_ours" if holder else "none"
                continue
            result["status"] = "released"
            changed = True
            writes.setdefault(key, {})["drop_claim"] = True
        lease = store.leases().get(owner)
        if lease:
            changed = True
            writes.setdefault(lease["key"], {})["drop_lease"] = True
        if check_mode:
            return changed, results
        try:
            for key in sorted(writes):
                store.write(key, owner=owner, **writes[key])
        except Conflict:
            continue
        return changed, results
    raise AzureError("Could not release the lease of run %s: the VMs kept changing." % owner, rule="run_lease_contended")
