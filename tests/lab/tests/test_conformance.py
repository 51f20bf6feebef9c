# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reality as the oracle: for every recorded body of tests/recorded/asr, the emulator's answer to the same request
in the same stage has the same structure (keys present or absent, value types, enum values). The differences that
remain are exactly the rows of the table in tests/lab/README.md ("Where the emulator still differs from the
recordings"), each with its reason: a new difference fails, and so does a row that no longer matches one."""

import re

import pytest

from tests.recorded import asr as recorded

from . import conformance, shapes


@pytest.fixture(scope="module")
def results():
    return conformance.Scenarios().run()


def _pattern(cell):
    """A table cell as a regular expression: ``*`` matches anything, everything else is literal."""
    return re.compile("^%s$" % ".*".join(re.escape(part) for part in cell.split("*")))


def _matches(row, difference):
    return all(_pattern(cell).match(value) for cell, value in zip(row, difference, strict=True))


def test_the_differences_are_exactly_the_readme_table(results):
    found = conformance.differences(results)
    table = conformance.table_rows()
    assert all(reason.strip() for reason in table.values()), "every row of the table needs its reason"
    assert all(any(_pattern(row[0]).match(name) for name in recorded.names()) for row in table), \
        "a row names a recording that does not exist"
    unlisted = sorted(d for d in found if sum(_matches(row, d) for row in table) != 1)
    stale = sorted(row for row in table if not any(_matches(row, d) for d in found))
    assert not unlisted and not stale, (
        "\nnew differences (fix the emulator, or add a row with its reason to %s):\n%s"
        "\nrows that match no difference any more (remove them):\n%s"
        % (conformance.README, conformance.markdown(unlisted), conformance.markdown(stale)))


def test_every_recorded_body_has_a_scenario_or_is_not_served(results):
    for name in recorded.names():
        assert name in results or name in conformance.NOT_SERVED_BY_THE_LAB, name


def test_the_comparison_can_fail():
    body = {"properties": {"protectionState": "Protected", "allowedOperations": ["SwitchProtection"],
                           "tasks": [{"name": "A", "startTime": shapes.UNSET_TIME}], "count": 1,
                           "consistencyPoints": {"fileSystem606c46c6": "2021-04-06T16:52:06Z"}}}
    assert shapes.diff(body, body, in_job=True) == set()
    assert shapes.diff(body, {"properties": dict(body["properties"], protectionState="Other")}) == {
        ("$.properties.protectionState", "value 'Protected' (ASR) vs 'Other' (lab)")}
    assert shapes.diff(body, {"properties": dict(body["properties"], allowedOperations=["ReverseReplicate"])}) == {
        ("$.properties.allowedOperations", "values ['SwitchProtection'] (ASR) vs ['ReverseReplicate'] (lab)")}
    assert shapes.diff(body, {"properties": dict(body["properties"], count="1")}) == {
        ("$.properties.count", "type int (ASR) vs str (lab)")}
    renamed = dict(body["properties"], consistencyPoints={"ApplicationConsistent": "2021-04-06T16:52:06Z"})
    assert ("$.properties.consistencyPoints.fileSystem<hex>", "missing in the lab") in shapes.diff(
        body, {"properties": renamed})
    started = dict(body["properties"], tasks=[{"name": "A", "startTime": "2021-04-06T16:52:06Z"}])
    assert shapes.diff(body, {"properties": started}) == {
        ("$.properties.tasks[].startTime", "type unset time 0001-01-01T00:00:00 (ASR) vs str (lab)")}
    assert shapes.diff(body, {"properties": dict(body["properties"], location="westeurope")}) == {
        ("$.properties.location", "not sent by ASR")}


def test_enum_keys_named_with_their_parent_and_resource_types_are_compared_by_value():
    # "dataStores.type" in ENUM_KEYS never matched: diff() passed the bare key "type"
    recorded_mt = {"masterTargetServers": [{"dataStores": [{"type": "VMFS", "symbolicName": "datastore1"}]}]}
    lab_mt = {"masterTargetServers": [{"dataStores": [{"type": "NFS", "symbolicName": "nfs-01"}]}]}
    assert shapes.diff(recorded_mt, lab_mt) == {
        ("$.masterTargetServers[].dataStores[].type", "value 'VMFS' (ASR) vs 'NFS' (lab)")}
    # an ARM resource's type says what it is; a "type" elsewhere stays data
    item = {"type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
                    "replicationProtectedItems", "properties": {"type": "x"}}
    other = {"type": "Microsoft.RecoveryServices/vaults/replicationJobs", "properties": {"type": "y"}}
    assert shapes.diff(item, other) == {("$.type", "value %r (ASR) vs %r (lab)" % (item["type"], other["type"]))}
    assert shapes.diff({"value": [item]}, {"value": [other]}) == {
        ("$.value[].type", "value %r (ASR) vs %r (lab)" % (item["type"], other["type"]))}
    # what the service says a VM is: an InMage item of a vCenter VM is Physical, and the lab must say so too
    inmage = {"providerSpecificDetails": {"discoveryType": "Physical", "vCenterInfrastructureId": None,
                                          "osType": "Windows"}}
    vcenter = {"providerSpecificDetails": {"discoveryType": "vCenter", "vCenterInfrastructureId": "9",
                                           "osType": "Linux"}}
    assert shapes.diff(inmage, vcenter) == {
        ("$.providerSpecificDetails.discoveryType", "value 'Physical' (ASR) vs 'vCenter' (lab)"),
        ("$.providerSpecificDetails.vCenterInfrastructureId", "type null (ASR) vs str (lab)"),
        ("$.providerSpecificDetails.osType", "value 'Windows' (ASR) vs 'Linux' (lab)")}


def test_the_recorded_inmage_items_of_a_vmware_vm_are_compared_with_a_vcenter_vm_of_the_lab(results):
    """The recorded InMage items (V2A-W2K16-201, a VMware VM reprotected) against a lab VM of vCenter at the same
    stage: Physical, no vCenter id, the configuration server's own ids (vmId = infrastructureVmId, replicaId = the
    forward vmId), as recorded; never a physical lab item, which would agree for the wrong reason."""
    for name in ("item_get.InMage.replicating_to_onprem.V2ATestFailback",
                 "item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect"):
        lab = results[name]
        assert lab["properties"]["friendlyName"] in [vm["name"] for vm in conformance.UEFI["vcenter"]["datacenters"][0]["vms"]]
        details, expected = lab["properties"]["providerSpecificDetails"], recorded.load(name)[0]["properties"][
            "providerSpecificDetails"]
        assert (details["discoveryType"], details["vCenterInfrastructureId"]) == (
            expected["discoveryType"], expected["vCenterInfrastructureId"]) == ("Physical", None)
        assert details["infrastructureVmId"] == details["vmId"] != details["replicaId"]
        assert lab["properties"]["protectableItemId"].endswith("/" + details["vmId"])
        assert details["datastores"] and expected["datastores"]


def test_an_item_while_a_job_runs_shows_what_asr_shows(results):
    """The recorded list entry of an item whose job runs (EnableProtection, which the lab does not emulate): nothing
    is allowed and currentScenario names the job, its id and its start, instead of None."""
    entry = recorded.load("items_list_entry.InMageRcm.UnprotectedStatesBegin_job_running.TestV2ARCMTestFailover")[0]
    expected = entry["properties"]
    item = results["item while a job runs"]["properties"]
    assert item["allowedOperations"] == expected["allowedOperations"] == []
    scenario = item["currentScenario"]
    assert set(scenario) == set(expected["currentScenario"])
    assert scenario["jobId"].rsplit("/", 1)[1] == results["job running on the item"]
    assert scenario["scenarioName"] != "None" and not scenario["startTime"].startswith("1753")
    assert shapes.diff(expected["currentScenario"], scenario) == {
        ("$.scenarioName", "value 'EnableProtection' (ASR) vs 'SwitchReplicationGroupProtection' (lab)")}
