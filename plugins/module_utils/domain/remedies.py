# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ASR's documented failback errors and what to do about them (failback-domain.md, asr-api.md §6)."""

from __future__ import annotations

REMEDIES = {
    "8038": "The on-premises VM could not be started: its ESXi host lacks memory. Add memory to the host or vMotion the "
            "VM to a host with enough free memory (onprem_vm memory_remediation: vmotion), then retry the failover.",
    "78052": "A VM with the same name already exists on the master target's ESXi host. Choose a master target on "
             "another host, vMotion the master target, or rename the other VM, then retry the reprotect.",
    "78093": "The Azure VM is stopped, hung or unreachable, so the mobility service cannot register. Start (or restart) "
             "the Azure VM, then retry the reprotect.",
    "8061": "The datastore is not reachable from the master target's ESXi host. Choose a master target whose host "
            "mounts the datastore (esx_host_info reports reachability), then retry the reprotect.",
    "95226": "The failed-over Azure VM cannot reach the configuration server, or the InMage Scout application service "
             "is not running on it. Fix the VPN/ExpressRoute path and start the service (startup type Automatic), "
             "then retry the reprotect.",
    "AgentNotRegistered": "The mobility agent has not registered with the configuration server yet; it can take up to "
                          "15 minutes after the VM boots. Retry later (reprotect retries within "
                          "agent_registration_timeout).",
    "MasterTargetHasSnapshots": "Delete the snapshots of the master target, then retry.",
    "VCenterNotConnected": "Reconnect vCenter to the configuration server (check its discovery account), then retry.",
    "ConfigurationServerNotRunning": "Start the configuration server's services and make sure it is connected to the "
                                     "vault, then retry.",
    "VmNotInConfigurationServerDatabase": "The configuration server no longer knows this VM: it was rebuilt or replaced. "
                                          "Restore it from backup with the same IP address; failback only works "
                                          "through the original configuration server.",
    "NoRecoveryPoint": "Wait for the first recovery point after reprotect (replicated_item_info shows them).",
    "AzureVmNotFound": "The Azure VM was moved to another resource group or deleted; failback of this VM is impossible.",
}


def code_of(error):
    """The most specific code of a summarized job error (provider number first)."""
    provider = error.get("provider_error_code")
    if provider not in (None, 0, "0") and str(provider) in REMEDIES:
        return str(provider)
    return str(error.get("code") or provider or "")


def is_agent_not_registered(error):
    code = code_of(error)
    text = " ".join(str(error.get(k) or "") for k in ("message", "provider_message")).lower()
    return code == "AgentNotRegistered" or ("agent" in text and ("not registered" in text or "not installed" in text
                                                                 or "isn't installed" in text))


def explain(errors):
    """Job errors with a ``remedy`` each: ASR's recommended action, else ours."""
    result = []
    for error in errors:
        code = code_of(error)
        remedy = REMEDIES.get(code) or error.get("recommended_action") or error.get("provider_recommended_action")
        result.append(dict(error, code=code or error.get("code"), remedy=remedy))
    return result


def summary(errors):
    """One line per error: 'code: message Remedy: ...'."""
    return " ".join("[%s] %s Remedy: %s" % (e["code"], (e.get("provider_message") or e.get("message") or "").strip(),
                                            e.get("remedy") or "see the job in the Azure portal.") for e in errors)
