# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether an ESXi host can run a VM: ONE rule, used by the 8038 remedy (``vsphere.onprem``: the vMotion to a
host with memory), preflight's advice (``domain.readiness`` ``host_memory``) and the choice of a master target
whose host receives an alternate-location VM (``domain.placement``).

Pure: plain dicts in, reasons out. vCenter refuses a vMotion (and a power-on) to a host that lacks any of these,
and the vCenter simulator accepts some of them (govmomi 0.24 moves a VM to a host that does not mount its
datastores), so the callers check before they ask. The sources: "vMotion requirements" and "Virtual machine
conditions and limitations for vMotion" (VMware vSphere documentation) - the destination host is connected and
not in maintenance mode, reaches every file of the VM (its .vmx directory, every disk), has every network the VM's
adapters use, and (for the 8038 remedy, which moves the VM within its cluster, ASR's documented fix) is in the same
cluster; "Troubleshoot failback" (Microsoft Learn, error 8038) - the host has the VM's memory free.

The shapes::

    vm    {name, memory_mb, cluster (name or id, or None), cluster_name (shown when cluster is an id),
           datastores: [name of the datastore of every file of the VM - its .vmx directory and every disk],
           networks: [network of every adapter]}
    host  {name, cluster, connection_state, maintenance_mode, memory_free_mb, datastores: [names it mounts],
           networks: [networks it has]}

Networks are compared as given: names (preflight, from the readiness context) or managed object ids (onprem,
which reads them); ``network_names`` maps an id to the name shown in a reason.
"""

from __future__ import annotations


def reasons(vm, host, network_names=None, same_cluster=True):
    """Why ``host`` cannot run ``vm`` - a list of short English reasons, empty when it can.

    ``same_cluster``: the host must be in the VM's cluster (a VM in no cluster has no such host). Memory is
    checked only when the VM's ``memory_mb`` is known; a host whose free memory is unknown lacks it."""
    names = network_names or {}
    found = []
    state = str(host.get("connection_state") or "unknown")
    if state.lower() != "connected":
        found.append("it is %s" % state)
    if host.get("maintenance_mode"):
        found.append("it is in maintenance mode")
    if same_cluster and not vm.get("cluster"):
        found.append("the VM's host is in no cluster, so no host shares one with it")
    elif same_cluster and host.get("cluster") != vm["cluster"]:
        found.append("it is not in cluster %s" % (vm.get("cluster_name") or vm["cluster"]))
    needed = vm.get("memory_mb")
    free = host.get("memory_free_mb")
    if needed and (free is None or free < needed):
        found.append("it has %s MB free of the %d MB the VM needs" % ("unknown" if free is None else int(free), needed))
    mounted = set(host.get("datastores") or [])
    missing = sorted({d for d in vm.get("datastores") or [] if d} - mounted)
    if missing:
        found.append("it does not mount datastore %s" % ", ".join(missing))
    present = set(host.get("networks") or [])
    lacking = sorted({names.get(n, n) for n in vm.get("networks") or [] if n and n not in present})
    if lacking:
        found.append("it does not have network %s" % ", ".join(lacking))
    return found


def can_run(vm, host, network_names=None, same_cluster=True):
    """True when :func:`reasons` finds nothing."""
    return not reasons(vm, host, network_names, same_cluster)


def choose(vm, hosts, exclude=(), network_names=None, same_cluster=True):
    """The host of ``hosts`` that can run ``vm`` with the most free memory (ties by name), skipping the names in
    ``exclude`` (the VM's own host). Returns ``(host or None, {host name: [reasons]})`` - the reasons of every host
    that was not chosen because it cannot run the VM, for the refusal's message."""
    rejected = {}
    fit = []
    for host in hosts:
        if host["name"] in exclude:
            continue
        why = reasons(vm, host, network_names, same_cluster)
        if why:
            rejected[host["name"]] = why
        else:
            fit.append(host)
    fit.sort(key=lambda h: (-(h.get("memory_free_mb") or 0), h["name"]))
    return (fit[0] if fit else None), rejected


def explain(rejected, limit=6):
    """'esx02 (it does not mount datastore vmfs-02); esx03 (it is in maintenance mode)' for a message."""
    items = sorted(rejected.items())
    text = "; ".join("%s (%s)" % (name, ", ".join(why)) for name, why in items[:limit])
    if len(items) > limit:
        text += "; and %d more" % (len(items) - limit)
    return text
