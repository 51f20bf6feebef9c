# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Distributed switches of a lab spec, made through the simulator's own API once it runs (the launcher builds
standard port groups only).

Spec, per datacenter::

    distributed_switches:
      - name: DSwitch-A
        port_groups: [DPG-Prod]
        hosts: [esx02.lab]        # default: every host of the datacenter
        folder: Site-B            # optional: a folder of the network folder to create it in

vCenter keeps network names unique per folder, not per datacenter: two switches in different network folders
can both have a port group called DPG-Prod (then ``govc`` says "path resolves to multiple networks").

Each switch is created in the datacenter's network folder (CreateDVS_Task), its hosts join it
(ReconfigureDvs_Task), then its port groups are added (AddDVPortgroup_Task): vcsim gives every member host the
switch's port groups in ``HostSystem.network``, as vCenter does. The same port-group name may sit on two switches.
"""

from __future__ import annotations

import ssl
import time

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim


def _wait(task, what, timeout=60):
    ends = time.monotonic() + timeout
    while task.info.state in (vim.TaskInfo.State.queued, vim.TaskInfo.State.running):
        if time.monotonic() > ends:
            raise RuntimeError("lab: %s did not finish in %d s" % (what, timeout))
        time.sleep(0.05)
    if task.info.state != vim.TaskInfo.State.success:
        raise RuntimeError("lab: %s failed: %s" % (what, task.info.error))
    return task.info.result


def validate(spec):
    """Refuse a switch naming a host its datacenter does not have."""
    for dc in spec["vcenter"]["datacenters"]:
        names = {h["name"] for h in dc.get("hosts") or []}
        for switch in dc.get("distributed_switches") or []:
            unknown = [h for h in switch.get("hosts") or [] if h not in names]
            if unknown:
                raise ValueError("distributed switch %s names unknown host(s) %s of datacenter %s"
                                 % (switch["name"], ", ".join(unknown), dc["name"]))


def apply(info, spec):
    """Create the spec's distributed switches on the running simulator ``info`` (its ready line)."""
    wanted = [(dc, s) for dc in spec["vcenter"]["datacenters"] for s in dc.get("distributed_switches") or []]
    if not wanted:
        return
    validate(spec)
    si = SmartConnect(host=info["host"], port=info["port"], user=info["username"], pwd=info["password"],
                      sslContext=ssl.create_default_context(cafile=info["ca_file"]))
    try:
        content = si.RetrieveContent()
        datacenters = {d.name: d for d in content.rootFolder.childEntity if isinstance(d, vim.Datacenter)}
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
        hosts = {h.name: h for h in view.view}
        view.Destroy()
        for dc, switch in wanted:
            folder = datacenters[dc["name"]].networkFolder
            if switch.get("folder"):
                folder = next((f for f in folder.childEntity if isinstance(f, vim.Folder) and f.name == switch["folder"]),
                              None) or folder.CreateFolder(switch["folder"])
            created = _wait(folder.CreateDVS_Task(vim.DistributedVirtualSwitch.CreateSpec(
                configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name=switch["name"]))),
                "create distributed switch %s" % switch["name"])
            members = switch.get("hosts") or [h["name"] for h in dc.get("hosts") or []]
            _wait(created.ReconfigureDvs_Task(vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
                configVersion=created.config.configVersion,
                host=[vim.dvs.HostMember.ConfigSpec(operation="add", host=hosts[name]) for name in members])),
                "add hosts to %s" % switch["name"])
            _wait(created.AddDVPortgroup_Task([vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
                name=name, type="earlyBinding", numPorts=16) for name in switch.get("port_groups") or []]),
                "add port groups to %s" % switch["name"])
    finally:
        Disconnect(si)
