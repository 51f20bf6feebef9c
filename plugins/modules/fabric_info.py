#!/usr/bin/python
# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: fabric_info
short_description: Report the configuration servers, process servers, master targets and vCenters of a vault
version_added: 0.1.0
description:
  - Describes the on-premises failback infrastructure that Azure Site Recovery knows about in a
    Recovery Services vault, the classic VMware/physical-to-Azure scenario.
  - One entry per configuration server (each VMware fabric of the vault) with its service status,
    heartbeat, version and health; the process servers, master targets (OS, version, disk count
    against the limit of 60, datastores, retention volumes), run-as accounts and the vCenter servers
    and ESXi hosts the configuration server has discovered, with their discovery status.
  - Fabrics of other types (for example the modernized V(InMageRcm) appliance) are not reported.
  - Reads the vault in two list calls (fabrics and vCenters), whatever the number of servers.
  - Heartbeat ages are computed against the clock of the controller that runs the module, so a skewed
    controller clock skews them.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - siterecovery.failback.azure
  - siterecovery.failback.vault
  - siterecovery.failback.deadline
  - siterecovery.failback.attributes
  - siterecovery.failback.attributes.INFO_MODULE
  - siterecovery.failback.attributes.ACTION_GROUP_AZURE
"""

EXAMPLES = r"""
- name: Read the failback infrastructure of the vault
  siterecovery.failback.fabric_info:
    resource_group: rg-dr
    vault_name: vault-dr
  register: fabric

- name: Stop when a configuration server is not running or has not been heard of for 15 minutes
  ansible.builtin.assert:
    that:
      - fabric.configuration_servers | rejectattr('service_status', 'equalto', 'Running') | list | length == 0
      - fabric.configuration_servers | selectattr('heartbeat_age_seconds', 'gt', 1800) | list | length == 0
    fail_msg: "A configuration server is down: {{ fabric.configuration_servers }}"

- name: Master targets with room for 10 more disks
  ansible.builtin.debug:
    msg: "{{ fabric.master_targets | selectattr('disk_count', 'le', 50) | map(attribute='name') | list }}"
"""

RETURN = r"""
appliances:
  description: The replication appliances (reprotect agents) of ASR's modernized flow; empty for a classic vault.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Appliance name.
      type: str
      sample: appliance01
    id:
      description: Reprotect agent id (what a modernized reprotect names).
      type: str
      sample: 8e3f0c2a-1b2c-4d5e-8f90-123456789abc
    fabric_name:
      description: The InMageRcm fabric it belongs to.
      type: str
      sample: site01-fabric
    health:
      description: V(Normal), V(Warning) or V(Critical).
      type: str
      sample: Normal
    last_heartbeat:
      description: Last heartbeat (ISO 8601).
      type: str
      sample: "2026-11-26T07:20:00+00:00"
    heartbeat_age_seconds:
      description: Seconds since the last heartbeat, against the controller clock.
      type: int
      sample: 30
    version:
      description: Appliance version.
      type: str
      sample: 9.62.7172.1
    accessible_datastores:
      description: The datastores the appliance can write to.
      type: list
      elements: str
      sample: [vmfs-01]
    protected_item_count:
      description: Items the appliance protects.
      type: int
      sample: 12
    vcenter_id:
      description: The vCenter the appliance discovered.
      type: str
      sample: vcenter01
    health_errors:
      description: Health errors of the appliance.
      type: list
      elements: dict
      sample: []
configuration_servers:
  description: One entry per configuration server (VMware fabric) of the vault.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The configuration server's name (the fabric's friendly name).
      type: str
      sample: cs01
    fabric_name:
      description: The fabric's ARM name (a 64-character hash).
      type: str
      sample: 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
    service_status:
      description: The configuration server's service status, V(Running) or V(Stopped).
      type: str
      sample: Running
    last_heartbeat:
      description: When the configuration server last reported (ISO 8601).
      type: str
      sample: "2026-11-26T08:30:00+00:00"
    heartbeat_age_seconds:
      description: Seconds since the last heartbeat, by the controller's clock; null when ASR reports none.
      type: int
      sample: 30
    version:
      description: The configuration server's agent version.
      type: str
      sample: 9.62.7172.1
    version_status:
      description: V(Supported), V(NotSupported), V(Deprecated), V(UpdateRequired) or V(SecurityUpdateRequired).
      type: str
      sample: Supported
    agent_version_status:
      description: The status of the agent version details (same values as RV(configuration_servers[].version_status)).
      type: str
      sample: Supported
    ip_address:
      description: The configuration server's IP address.
      type: str
      sample: 10.0.0.10
    health:
      description: The fabric's health, V(Normal), V(Warning) or V(Critical).
      type: str
      sample: Normal
    health_errors:
      description: The fabric's health errors, each with code, level, category, message and recommended_action.
      type: list
      elements: dict
      sample: [{"code": "ConfigurationServerNotRunning", "level": "Critical", "category": "Configuration",
                "message": "The configuration server is not running.",
                "recommended_action": "Start the configuration server's services."}]
process_servers:
  description: The process servers of every configuration server.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Process server name.
      type: str
      sample: ps-azure01
    id:
      description: Process server id (a GUID), the value reprotect takes as C(processServerId).
      type: str
      sample: 30AE6187-0000-4000-8000-000000000001
    fabric_name:
      description: The ARM name of the fabric (configuration server) it belongs to.
      type: str
      sample: 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
    ip:
      description: IP address.
      type: str
      sample: 10.1.0.4
    health:
      description: V(None), V(Normal), V(Warning) or V(Critical).
      type: str
      sample: Normal
    service_status:
      description: The process server's service status.
      type: str
      sample: Running
    last_heartbeat:
      description: When the process server last reported (ISO 8601).
      type: str
      sample: "2026-11-26T08:30:00+00:00"
    heartbeat_age_seconds:
      description: Seconds since the last heartbeat, by the controller's clock.
      type: int
      sample: 30
    version_status:
      description: Version support status.
      type: str
      sample: Supported
    os_type:
      description: Operating system type.
      type: str
      sample: Windows
    health_errors:
      description: Health errors (code, level, category, message, recommended_action).
      type: list
      elements: dict
      sample: []
master_targets:
  description: The master target servers of every configuration server.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Master target name.
      type: str
      sample: mt-win01
    id:
      description: Master target id (a GUID), the value reprotect takes as C(masterTargetId).
      type: str
      sample: 30AE6187-0000-4000-8000-000000000002
    fabric_name:
      description: The ARM name of the fabric (configuration server) it belongs to.
      type: str
      sample: 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
    ip:
      description: IP address.
      type: str
      sample: 10.0.0.30
    os_type:
      description: V(Windows) or V(Linux); a Linux VM needs a Linux master target.
      type: str
      sample: Windows
    os_version:
      description: Operating system version.
      type: str
      sample: Windows Server 2019
    version:
      description: Agent version.
      type: str
      sample: 9.62.7172.1
    version_status:
      description: Version support status.
      type: str
      sample: Supported
    last_heartbeat:
      description: When the master target last reported (ISO 8601).
      type: str
      sample: "2026-11-26T08:30:00+00:00"
    heartbeat_age_seconds:
      description: Seconds since the last heartbeat, by the controller's clock.
      type: int
      sample: 30
    disk_count:
      description: Disks attached to the master target, as ASR counts them.
      type: int
      sample: 2
    disk_limit:
      description: The most disks a master target may have attached (60).
      type: int
      sample: 60
    datastores:
      description: >-
        The datastores the master target can fail back to (ASR lists VMFS and vSAN only), each with
        name, type, capacity_gb and free_gb.
      type: list
      elements: dict
      sample: [{"name": "vmfs-01", "type": "VMFS", "capacity_gb": 8192.0, "free_gb": 4096.0}]
    retention_volumes:
      description: Retention volumes, each with name, capacity_gb, free_gb and threshold_percentage.
      type: list
      elements: dict
      sample: [{"name": "R:", "capacity_gb": 500.0, "free_gb": 420.0, "threshold_percentage": 80}]
    validation_errors:
      description: >-
        Problems Site Recovery found with the master target's configuration (for example an unusable retention
        volume), each with code, level, category, message and recommended_action.
      type: list
      elements: dict
      sample: []
    health_errors:
      description: Health errors (code, level, category, message, recommended_action).
      type: list
      elements: dict
      sample: []
run_as_accounts:
  description: The run-as accounts of every configuration server.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Account id, the value reprotect takes as C(runAsAccountId).
      type: str
      sample: "1"
    name:
      description: Account name.
      type: str
      sample: vcenter-discovery
    fabric_name:
      description: The ARM name of the fabric (configuration server) it belongs to.
      type: str
      sample: 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
vcenters:
  description: The vCenter servers and ESXi hosts the configuration servers discovered.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The vCenter or ESXi host name as ASR knows it.
      type: str
      sample: vcenter01.lab
    fabric_name:
      description: The ARM name of the fabric (configuration server) that discovered it.
      type: str
      sample: 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
    ip:
      description: IP address.
      type: str
      sample: 10.0.0.20
    port:
      description: Port ASR connects to.
      type: str
      sample: "443"
    discovery_status:
      description: Discovery status, for example V(Completed), V(Pending) or V(Failed).
      type: str
      sample: Completed
    last_heartbeat:
      description: When ASR last reached it (ISO 8601).
      type: str
      sample: "2026-11-26T08:30:00+00:00"
    heartbeat_age_seconds:
      description: Seconds since the last heartbeat, by the controller's clock.
      type: int
      sample: 120
    run_as_account_id:
      description: The run-as account used for discovery.
      type: str
      sample: "1"
    process_server_id:
      description: The process server that discovers it.
      type: str
      sample: 30AE6187-0000-4000-8000-000000000003
    internal_id:
      description: ASR's internal id of the vCenter.
      type: str
      sample: "9"
    health_errors:
      description: Health errors (code, level, category, message, recommended_action).
      type: list
      elements: dict
      sample: [{"code": "VCenterNotConnected", "level": "Error", "category": "Configuration",
                "message": "The vCenter server is not connected.", "recommended_action": "Reconnect the vCenter server."}]
api_calls:
  description: Resource Manager requests made (retries and pages included); two lists whatever the number of servers.
  returned: success
  type: int
  sample: 2
api_reads:
  description: The GET (and HEAD) requests among RV(api_calls); ARM budgets reads per subscription and hour.
  returned: success, and on a failure after the module made a request
  type: int
  sample: 2
api_writes:
  description: The PUT, PATCH, POST and DELETE requests among RV(api_calls).
  returned: success, and on a failure after the module made a request
  type: int
  sample: 0
duration_seconds:
  description: Time the module took, in seconds.
  returned: always
  type: float
  sample: 0.8
"""

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import fabric
from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import options
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.module import FailbackModule


def gather(module):
    problems = options.check_module(module.params, ("timeout",))
    if problems:
        raise FailbackError(options.summary(problems, "the fabric report"), problems=problems)
    session = module.azure(deadline=Deadline(module.params["timeout"]))
    vault = module.vault()
    result = fabric.describe(vault)
    result["changed"] = False
    result.update(session.call_counts())
    return result


def main():
    module = FailbackModule({"timeout": {"type": "int", "default": 300}}, azure=True, vault=True, supports_check_mode=True)
    module.run(gather)


if __name__ == "__main__":
    main()
