# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One rule for the preflight and the step: the same vault and the same names through the preflight
(readiness_context) and the reprotect to on-premises. Every blocker the preflight reports about a name the reprotect
takes is in the reprotect's refusal, in the same sentence; and what the reprotect refuses, the preflight reported
(the four inputs of the new-user try of issue 13, and more of their kind)."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils import readiness_context
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import fakes
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils.asr import test_reprotect as rp

VM2 = rp.VM2


def no_vsphere():
    raise FailbackError("vSphere is not part of this test")


def preflight(vault, names, vms, location="original"):
    params = dict(names, location=location, vms=list(vms))
    return readiness_context.run(vault, fakes.FakeAzureVms(), no_vsphere, params)


def blockers(result, vm, rules):
    return [f for f in result["findings"] if f["vm"] == vm and f["severity"] == "blocker" and f["rule"] in rules]


def sentence(finding):
    return "%s %s" % (finding["message"], finding["remedy"]) if finding["remedy"] else finding["message"]


def test_every_bad_name_is_reported_by_both_in_the_same_sentences():
    client, vault = rp.classic_setup(rp.running_in_azure())
    names = rp.names(placements={fakes.FORWARD_VM: {"master_target": "mt-nope", "process_server": "ps-nope",
                                                    "run_as_account": "nobody", "retention_volume": "Z:"}})
    [refusal] = rp.refusals(vault, given=names, vms=[fakes.FORWARD_VM])
    found = blockers(preflight(vault, names, [fakes.FORWARD_VM]), fakes.FORWARD_VM,
                     ("master_target_available", "process_server", "run_as_account", "mt_retention_volume"))
    assert [f["rule"] for f in found] == ["master_target_available", "mt_retention_volume", "process_server",
                                          "run_as_account"]
    for finding in found:
        if finding["rule"] != "mt_retention_volume":  # the reprotect cannot look for Z: on a master target it lacks
            assert sentence(finding) in refusal, (finding, refusal)
    assert "Z:" in found[1]["message"] and "mt-nope" in found[1]["message"]
    assert client.actions == []


def test_a_vm_placed_on_a_master_target_of_another_os():
    client, vault = rp.classic_setup(rp.running_in_azure(), fabric=rp.linux_fabric())
    names = rp.names(placements={fakes.FORWARD_VM: {"master_target": "mt-linux01"}})
    [refusal] = rp.refusals(vault, given=names, vms=[fakes.FORWARD_VM])
    [finding] = blockers(preflight(vault, names, [fakes.FORWARD_VM]), fakes.FORWARD_VM, ("mt_os",))
    assert finding["message"] == "VM V2A-W2K19-202 runs Windows but master target mt-linux01 runs Linux."
    assert refusal == sentence(finding)
    assert client.actions == []


def test_a_named_retention_volume_of_a_registered_master_target():
    _client, vault = rp.classic_setup(rp.running_in_azure())
    names = rp.names(master_target=fakes.PS, retention_volume="R")
    [refusal] = rp.refusals(vault, given=names, vms=[fakes.FORWARD_VM])
    [finding] = blockers(preflight(vault, names, [fakes.FORWARD_VM]), fakes.FORWARD_VM, ("mt_retention_volume",))
    assert finding["message"] == "Master target V2A-PS-200 has no retention volume R (it has: F)."
    assert refusal == sentence(finding)


@pytest.mark.parametrize("plans", [[], ["rp-sql"]])
def test_part_of_a_replication_group_named_without_its_plan(plans):
    a, b = rp.running_in_azure(group="grp-sql"), rp.running_in_azure(rp.ITEM2, VM2, group="grp-sql")
    client, vault = rp.classic_setup(a, b)
    client.plans = [fakes.recovery_plan(name, [a, b]) for name in plans]
    names = rp.names(master_target=fakes.PS)
    [refusal] = rp.refusals(vault, given=names, vms=[fakes.FORWARD_VM])
    result = preflight(vault, names, [fakes.FORWARD_VM])
    [finding] = blockers(result, fakes.FORWARD_VM, ("replication_group_plan",))
    assert finding["message"] == refusal
    assert client.actions == []
    if plans:  # the whole group by name, held whole by its plan: the preflight lets it through, as the reprotect does
        assert blockers(preflight(vault, names, [fakes.FORWARD_VM, VM2]), fakes.FORWARD_VM, ("replication_group_plan",)) == []


def test_a_modernized_reprotect_without_a_log_storage_account():
    client, vault = rp.rcm_setup(rp.rcm_running_in_azure())
    names = rp.names(datastore="SharedDS-84-85")
    [refusal] = rp.refusals(vault, given=names, vms=[fakes.RCM_FORWARD_VM])
    [finding] = blockers(preflight(vault, names, [fakes.RCM_FORWARD_VM]), fakes.RCM_FORWARD_VM, ("log_storage_account",))
    assert refusal == sentence(finding)
    assert "log_storage_account_id" in refusal
    assert client.actions == []


def test_a_modernized_reprotect_through_an_unknown_appliance():
    client, vault = rp.rcm_setup(rp.rcm_running_in_azure())
    names = rp.names(datastore="SharedDS-84-85", log_storage_account_id=fakes.LOG_STORAGE,
                     placements={fakes.RCM_FORWARD_VM: {"appliance": "Rcm-App-999"}})
    [refusal] = rp.refusals(vault, given=names, vms=[fakes.RCM_FORWARD_VM])
    [finding] = blockers(preflight(vault, names, [fakes.RCM_FORWARD_VM]), fakes.RCM_FORWARD_VM, ("appliance_available",))
    assert refusal == sentence(finding)
    assert finding["message"] == ("Replication appliance Rcm-App-999 is not registered in the vault (appliances: "
                                  "Rcm-App-150, Rcm-App-151).")
    assert client.actions == []
