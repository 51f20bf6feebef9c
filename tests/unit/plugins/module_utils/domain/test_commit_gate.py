# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""domain.commit_gate: the Azure VM is deleted only when every protected disk ASR lists is attached to the
on-premises VM, the VM runs (Tools or the chosen verification) and the probes answer; force overrides Tools only.

The protected disks come from the recorded item GETs of tests/recorded/asr (the live service)."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import commit
from ansible_collections.siterecovery.failback.plugins.module_utils.domain import commit_gate as gate
from ansible_collections.siterecovery.failback.tests.unit.plugins.module_utils import recorded_sdk

CLASSIC = "item_get.InMage.UnplannedFailoverCommitted.V2ATestReprotect.json"
MODERN = "item_get.InMageRcmFailback.CommitPendingStatesBegin.TestV2ARCM540Reprotect.json"
GB = 1024 ** 3


def disks_of(name, friendly=None):
    return commit.protected_disks(recorded_sdk.one("item", name, friendly))


def vm(disks, power="poweredOn", tools="guestToolsRunning", known=(), elsewhere=(), recorded="manifest"):
    return {"found": True, "problem": None, "name": "app01", "power_state": power, "tools_running_status": tools,
            "disks": list(disks), "known": list(known), "elsewhere": list(elsewhere), "recorded": recorded}


def vmdk(file_name, gb, uuid=None):
    return {"file": file_name, "uuid": uuid, "capacity_bytes": int(gb * GB), "backing": "flat"}


def rules(decision):
    return [r["rule"] for r in decision["refusals"]]


# ------------------------------------------------------------------------------------------------ recorded disks
def test_classic_items_give_disk_ids_names_and_capacities_but_no_uuid():
    # item_get.InMage.*: protectedDisks Disk2 (5 GB) then Disk0 (30 GB), no diskUuid, no file
    assert disks_of(CLASSIC) == [
        {"id": "{5D628CF2-6CAA-468D-9E7A-35881C0D00DE}", "name": "Disk2", "capacity_bytes": 5368709120, "uuid": None},
        {"id": "{A0F5A31E-BE66-4F83-A382-F3478D1C800F}", "name": "Disk0", "capacity_bytes": 32212254720, "uuid": None}]


def test_modernized_items_give_the_vmdk_uuid():
    # item_get.InMageRcmFailback.*: diskUuid is vSphere's backing.uuid format (6000C29...)
    assert [(d["capacity_bytes"], d["uuid"]) for d in disks_of(MODERN)] == [
        (5368709120, "6000C29b-29e4-3675-00d8-f8bb6b805ef2"), (32212254720, "6000C294-8c21-bed3-1909-bfcb09865eb1")]


def test_a_list_entry_has_no_protected_disks_so_the_gate_refuses():
    # fact 2: the list leaves protectedDisks empty
    listed = disks_of("items_list.after_failback_committed.V2ATestReprotect.json", "V2A-W2K16-201")
    assert listed == []
    decision = gate.decide("V2A-W2K16-201", listed, vm([vmdk("[ds] a/a.vmdk", 30)]), probes=[])
    assert rules(decision) == [gate.RULE_DISKS_KNOWN] and decision["commit"] is False


# ------------------------------------------------------------------------------------------------ disk rule
def test_every_classic_disk_attached_by_capacity_commits():
    onprem = vm([vmdk("[ds1] app01/app01.vmdk", 30), vmdk("[ds1] app01/app01_1.vmdk", 5)])
    decision = gate.decide("app01", disks_of(CLASSIC), onprem, probes=[])
    assert decision["commit"] is True and decision["refusals"] == [] and decision["forced"] is False
    assert [(d["name"], d["file"], d["matched_by"]) for d in decision["disks"]] == [
        ("Disk2", "[ds1] app01/app01_1.vmdk", "capacity"), ("Disk0", "[ds1] app01/app01.vmdk", "capacity")]


@pytest.mark.parametrize("force", [False, True])
def test_a_partially_moved_failover_is_never_committed_even_forced(force):
    # the issue's case: the failover stopped after moving one of the VM's two disks
    onprem = vm([vmdk("[ds1] app01/app01_1.vmdk", 5)])
    decision = gate.decide("app01", disks_of(CLASSIC), onprem, force=force, probes=[])
    assert decision["commit"] is False and rules(decision) == [gate.RULE_DISKS]
    message = decision["refusals"][0]["message"]
    assert message.startswith("VM app01: 1 of ASR's 2 protected disk(s) attached; protected disk Disk0 "
                              "({A0F5A31E-BE66-4F83-A382-F3478D1C800F}, 30.0 GB) is not attached")
    assert "re-run the failover" in message and "siterecovery.failback.onprem_vm" in message
    assert "force: true does not override this rule" in message
    assert [(d["name"], d["file"]) for d in decision["disks"]] == [("Disk2", "[ds1] app01/app01_1.vmdk"),
                                                                   ("Disk0", None)]


@pytest.mark.parametrize("force", [False, True])
def test_a_classic_vm_whose_vmdks_nothing_records_is_never_committed(force):
    """New-user try of issue 13: the reprotect ran outside this collection, so the VM has no failback manifest; a
    blank disk named app01_2.vmdk of the real disk's capacity was attached in its place. Nothing but the names
    tells them apart, so the gate refuses until the operator names the VM's VMDKs."""
    onprem = vm([vmdk("[ds1] app01/app01.vmdk", 30), vmdk("[ds1] app01/app01_2.vmdk", 5)], recorded=None)
    decision = gate.decide("app01", disks_of(CLASSIC), onprem, force=force, probes=[])
    assert decision["commit"] is False and rules(decision) == [gate.RULE_RECORDED]
    message = decision["refusals"][0]["message"]
    assert message.startswith("VM app01: ASR names no file nor UUID for a classic (InMage) protected disk")
    assert "siterecovery.failback.disks" in message and "protected_disk_files" in message
    assert "attached now: [ds1] app01/app01.vmdk, [ds1] app01/app01_2.vmdk" in message
    assert "force: true does not override this rule" in message
    # the operator's record (or a manifest) lets the same VM through
    for recorded in ("operator", "manifest"):
        onprem["recorded"] = recorded
        assert gate.decide("app01", disks_of(CLASSIC), onprem, force=force, probes=[])["commit"] is True


def test_a_modernized_vm_needs_no_record_asr_gives_each_disks_uuid():
    onprem = vm([vmdk("[ds] x/x.vmdk", 30, "6000C294-8C21-BED3-1909-BFCB09865EB1"),
                 vmdk("[ds] x/x_1.vmdk", 5, "6000c29b29e4367500d8f8bb6b805ef2")], recorded=None)
    assert gate.decide("Rcm-W2K19-152", disks_of(MODERN), onprem, probes=[])["commit"] is True


def test_an_unrelated_disk_of_another_size_does_not_stand_in_for_a_missing_one():
    onprem = vm([vmdk("[ds1] app01/app01_1.vmdk", 5), vmdk("[ds1] app01/scratch.vmdk", 20)])
    decision = gate.decide("app01", disks_of(CLASSIC), onprem, probes=[])
    assert rules(decision) == [gate.RULE_DISKS] and "Disk0" in decision["refusals"][0]["message"]


def test_a_disk_grown_on_premises_still_matches():
    onprem = vm([vmdk("[ds1] app01/app01.vmdk", 40), vmdk("[ds1] app01/app01_1.vmdk", 5)])
    assert gate.decide("app01", disks_of(CLASSIC), onprem, probes=[])["commit"] is True


def test_modernized_disks_match_by_uuid_only():
    wanted = disks_of(MODERN)
    same_uuids = vm([vmdk("[ds] x/x.vmdk", 30, "6000C294-8C21-BED3-1909-BFCB09865EB1"),
                     vmdk("[ds] x/x_1.vmdk", 5, "6000c29b29e4367500d8f8bb6b805ef2")])
    assert gate.decide("Rcm-W2K19-152", wanted, same_uuids, probes=[])["commit"] is True
    # same sizes, other VMDKs (other uuids): not the protected disks
    others = vm([vmdk("[ds] x/x.vmdk", 30, "6000C291-0000-0000-0000-000000000001"),
                 vmdk("[ds] x/x_1.vmdk", 5, "6000C291-0000-0000-0000-000000000002")])
    decision = gate.decide("Rcm-W2K19-152", wanted, others, probes=[])
    assert rules(decision) == [gate.RULE_DISKS]
    message = decision["refusals"][0]["message"]
    assert "0 of ASR's 2 protected disk(s) attached" in message
    assert "uuid 6000C29b-29e4-3675-00d8-f8bb6b805ef2" in message and "no disk of VM Rcm-W2K19-152 has that UUID" in message


def test_a_disk_still_on_the_master_target_is_named_with_its_holder():
    wanted = disks_of(MODERN)
    onprem = vm([vmdk("[ds] x/x.vmdk", 30, "6000C294-8c21-bed3-1909-bfcb09865eb1")],
                elsewhere=[dict(vmdk("[ds] x/x_1.vmdk", 5, "6000C29b-29e4-3675-00d8-f8bb6b805ef2"), holder="mt-win01")])
    message = gate.decide("x", wanted, onprem, force=True, probes=[])["refusals"][0]["message"]
    assert "its VMDK [ds] x/x_1.vmdk is attached to mt-win01, not to x" in message


def test_a_vmdk_known_to_be_the_vms_must_be_attached_to_it():
    # the count matches (an extra disk of that size), but the VM's own VMDK sits on the master target
    onprem = vm([vmdk("[ds1] app01/app01_1.vmdk", 5), vmdk("[ds1] app01/other.vmdk", 30)],
                known=[{"file": "[ds1] app01/app01.vmdk", "uuid": None, "holder": "mt-win01",
                        "why": "named after the VM in its directory"}])
    decision = gate.decide("app01", disks_of(CLASSIC), onprem, probes=[])
    assert rules(decision) == [gate.RULE_DISKS]
    assert ("VMDK [ds1] app01/app01.vmdk (named after the VM in its directory) is attached to mt-win01, not to "
            "app01") in decision["refusals"][0]["message"]
    orphan = vm([vmdk("[ds1] app01/app01_1.vmdk", 5), vmdk("[ds1] app01/app01.vmdk", 30)],
                known=[{"file": "[ds1] app01/app01_2.vmdk", "holder": None, "why": "recorded in its failback manifest",
                        "manifest_key": "siterecovery.failback.disks"}])
    message = gate.decide("app01", disks_of(CLASSIC), orphan, probes=[])["refusals"][0]["message"]
    assert ("VMDK [ds1] app01/app01_2.vmdk (recorded in its failback manifest) is attached to no VM (if it was removed "
            "from the VM on purpose, drop it from the VM's extraConfig siterecovery.failback.disks)") in message


# ------------------------------------------------------------------------------------------------ power, Tools, probes
ALL = [vmdk("[ds1] app01/app01.vmdk", 30), vmdk("[ds1] app01/app01_1.vmdk", 5)]


@pytest.mark.parametrize("force", [False, True])
def test_a_vm_powered_off_is_not_committed_even_forced(force):
    decision = gate.decide("app01", disks_of(CLASSIC), vm(ALL, power="poweredOff", tools="guestToolsNotRunning"),
                           force=force, probes=[])
    assert rules(decision) == [gate.RULE_POWER] and decision["commit"] is False
    assert decision["refusals"][0]["message"].startswith("VM app01 is poweredOff on-premises")


def test_tools_not_running_refuses_unless_forced_or_verified_by_power():
    onprem = vm(ALL, tools="guestToolsNotRunning")
    assert rules(gate.decide("app01", disks_of(CLASSIC), onprem, probes=[])) == [gate.RULE_TOOLS]
    forced = gate.decide("app01", disks_of(CLASSIC), onprem, force=True, probes=[])
    assert forced["commit"] is True and forced["forced"] is True
    power = gate.decide("app01", disks_of(CLASSIC), onprem, verification="power", probes=[])
    assert power["commit"] is True and power["forced"] is False


def test_probes_must_have_run_and_answered():
    pending = gate.decide("app01", disks_of(CLASSIC), vm(ALL))
    assert pending["commit"] is False and gate.ready_for_probes(pending)
    failed = gate.decide("app01", disks_of(CLASSIC), vm(ALL), force=True,
                         probes=[{"label": "tcp app01:443", "ok": True, "fact": "connected"},
                                 {"label": "http http://app01/health", "ok": False, "fact": "status 503, expected 200"}])
    assert rules(failed) == [gate.RULE_PROBES]
    assert "http http://app01/health: status 503, expected 200" in failed["refusals"][0]["message"]


def test_a_vm_not_in_vcenter_is_refused():
    decision = gate.decide("app01", disks_of(CLASSIC), {"found": False, "problem": "it was not found in vCenter"},
                           force=True, probes=[])
    assert rules(decision) == [gate.RULE_VM] and "VM app01: it was not found in vCenter" in decision["refusals"][0]["message"]
    assert rules(gate.decide("app01", disks_of(CLASSIC), None)) == [gate.RULE_VM]


def test_every_refusal_is_listed_at_once():
    decision = gate.decide("app01", disks_of(CLASSIC), vm(ALL[:1], power="poweredOff"), probes=[])
    assert rules(decision) == [gate.RULE_DISKS, gate.RULE_POWER]
    assert gate.FORCEABLE == (gate.RULE_TOOLS, gate.RULE_NETWORK)


NIC = {"label": "Network adapter 1", "network": "VM Network", "connected": True}


@pytest.mark.parametrize("nics, fragment", [
    ([], "VM app01 has no network adapter on-premises"),
    ([NIC, dict(NIC, label="Network adapter 2", network=None, connected=False)],
     "VM app01: network adapter(s) Network adapter 2 (no network) not connected although the VM runs"),
])
def test_a_running_vm_without_a_connected_network_adapter_is_refused_unless_forced(nics, fragment):
    # new-user try of issue 14: an alternate-location VM created without a NIC passed every rule
    onprem = vm(ALL) | {"nics": nics}
    decision = gate.decide("app01", disks_of(CLASSIC), onprem, probes=[])
    assert rules(decision) == [gate.RULE_NETWORK] and decision["refusals"][0]["message"].startswith(fragment)
    assert "force: true to commit anyway" in decision["refusals"][0]["message"]
    forced = gate.decide("app01", disks_of(CLASSIC), onprem, force=True, probes=[])
    assert (forced["commit"], forced["forced"]) == (True, True)
    # connected adapters pass; a VM that is off is refused by the power rule alone
    assert gate.decide("app01", disks_of(CLASSIC), onprem | {"nics": [NIC]}, probes=[])["commit"] is True
    off = gate.decide("app01", disks_of(CLASSIC), onprem | {"power_state": "poweredOff"}, probes=[])
    assert rules(off) == [gate.RULE_POWER]


# ------------------------------------------------------------------------------------------------ match_disks
def test_match_disks_pairs_exact_sizes_before_larger_ones():
    protected = [{"id": "a", "capacity_bytes": 10}, {"id": "b", "capacity_bytes": 20}]
    attached = [{"file": "big", "capacity_bytes": 25}, {"file": "ten", "capacity_bytes": 10}]
    pairs, missing = gate.match_disks(protected, attached)
    assert [(p["id"], a["file"]) for p, a in pairs] == [("a", "ten"), ("b", "big")] and missing == []
    pairs, missing = gate.match_disks(protected, [{"file": "small", "capacity_bytes": 15}])
    assert [(p["id"], a["file"]) for p, a in pairs] == [("a", "small")] and [m["id"] for m in missing] == ["b"]


def test_match_disks_by_capacity_takes_only_the_vms_own_vmdks():
    protected = [{"id": "a", "name": "Disk0", "capacity_bytes": 10}, {"id": "b", "name": "Disk1", "capacity_bytes": 20}]
    attached = [{"file": "[ds] app01/app01.vmdk", "capacity_bytes": 10, "own_by": "name"},
                {"file": "[ds] app01/blank.vmdk", "capacity_bytes": 20, "own_by": None}]
    pairs, missing = gate.match_disks(protected, attached)
    assert [(p["id"], a["file"]) for p, a in pairs] == [("a", "[ds] app01/app01.vmdk")] and [m["id"] for m in missing] == ["b"]
    problems_found, _report = gate.disk_problems("app01", protected, {"disks": attached})
    assert problems_found == ["protected disk Disk1 (b, 0.0 GB) is not attached: no disk of VM app01 of that capacity is "
                              "left to match it (ASR gives no UUID for this disk); attached [ds] app01/blank.vmdk is not "
                              "the VM's own VMDK (not named after it), so it is not taken for one"], problems_found
    # with a record: the VMDK is not in it (a loose one nothing pinned), and the fix is the operator's check
    problems_found, _report = gate.disk_problems("app01", protected, {"disks": attached, "recorded": "manifest"})
    assert "attached [ds] app01/blank.vmdk is not recorded as the VM's (its failback manifest and " \
           "protected_disk_files do not list it, or list another disk UUID)" in problems_found[0]
    assert "name it, with the VM's other VMDKs, in protected_disk_files" in problems_found[0]
    # a disk UUID ASR gives decides alone, whatever the file is called
    pairs, missing = gate.match_disks([{"id": "c", "uuid": "6000C29a-9b99-4cb2-8c1e-0f5d3a6b7c8d"}],
                                      [{"file": "[ds] x/y.vmdk", "uuid": "6000c29a-9b99-4cb2-8c1e-0f5d3a6b7c8d",
                                        "own_by": None}])
    assert len(pairs) == 1 and missing == []


# ------------------------------------------------------------------------------------------------ options
def problems(**options):
    return [p["message"] for p in gate.validate_options(**options)[1]]


def test_valid_probes_are_normalized_with_tls_verification_on():
    probes, found = gate.validate_options({"tcp": [{"host": "app01.example.com", "port": "443"}],
                                           "http": [{"url": "https://app01.example.com:8443/health", "vm": "app01",
                                                     "status": [200, "204"], "ca_file": "/etc/pki/ca.pem"}]},
                                          probe_timeout=30)
    assert found == []
    assert probes == [
        {"kind": "tcp", "host": "app01.example.com", "port": 443, "timeout": 30, "vm": None,
         "label": "tcp app01.example.com:443"},
        {"kind": "http", "url": "https://app01.example.com:8443/health", "status": [200, 204], "validate_certs": True,
         "ca_file": "/etc/pki/ca.pem", "timeout": 30, "vm": "app01", "label": "http https://app01.example.com:8443/health"}]
    probes, _found = gate.validate_options({"http": [{"url": "http://a/", "validate_certs": "no", "timeout": 5}]})
    assert (probes[0]["validate_certs"], probes[0]["status"], probes[0]["timeout"]) == (False, [200], 5)


def test_the_issues_bad_probe_inputs_are_refused_naming_the_probe_the_rule_and_the_fix():
    # issue 13: "a malformed health-check URL or a TCP port "http""
    probes, found = gate.validate_options({"tcp": [{"host": "app01", "port": "http"}],
                                           "http": [{"url": "htp//app01/health"}]})
    assert probes == []
    assert [(p["option"], p["value"]) for p in found] == [("health_checks.tcp[0].port", "http"),
                                                          ("health_checks.http[0].url", "htp//app01/health")]
    assert found[0]["message"] == ("health_checks.tcp[0].port: must be a whole number (got 'http'); give the TCP port "
                                   "as a whole number from 1 to 65535, for example 443.")
    assert found[1]["message"].startswith("health_checks.http[0].url: must start with http:// or https://")


@pytest.mark.parametrize("checks, fragment", [
    ({"tcp": [{"host": "app01", "port": 0}]}, "health_checks.tcp[0].port: must be from 1 to 65535"),
    ({"tcp": [{"host": "app01", "port": True}]}, "health_checks.tcp[0].port: must be a whole number"),
    ({"tcp": [{"port": 443}]}, "health_checks.tcp[0].host: must be a non-empty host name"),
    ({"tcp": [{"host": "app01", "port": 443, "prot": 1}]}, "health_checks.tcp[0].prot: is not a tcp probe key"),
    ({"http": [{"url": "http://app01:99999/"}]}, "health_checks.http[0].url: is not a valid URL"),
    ({"http": [{"url": "https:///health"}]}, "health_checks.http[0].url: must name a host"),
    ({"http": [{"url": "http://app01/", "status": "OK"}]}, "health_checks.http[0].status: must be an HTTP status"),
    ({"http": [{"url": "http://app01/", "validate_certs": "maybe"}]},
     "health_checks.http[0].validate_certs: must be true or false"),
    ({"http": [{"url": "http://app01/", "timeout": -1}]}, "health_checks.http[0].timeout: must be at least 0"),
    ({"http": [{"url": "http://app01/", "vm": ""}]}, "health_checks.http[0].vm: must be a non-empty VM name"),
    ({"http": [{"url": "http://app01/", "ca_file": 3}]}, "health_checks.http[0].ca_file: must be a non-empty file path"),
    ({"udp": []}, "health_checks.udp: is not a kind of health check"),
    ({"tcp": {"host": "app01"}}, "health_checks.tcp: must be a list of probes"),
    ({"tcp": ["app01:443"]}, "health_checks.tcp[0]: must be a dictionary"),
])
def test_each_kind_of_bad_probe_is_refused(checks, fragment):
    found = problems(health_checks=checks)
    assert len(found) == 1 and found[0].startswith(fragment), found


@pytest.mark.parametrize("options, fragment", [
    ({"poll_interval": 0}, "poll_interval: must be at least 0.5"),
    ({"poll_interval": "fast"}, "poll_interval: must be a number"),
    ({"timeout": -1}, "timeout: must be at least 0"),
    ({"probe_timeout": "1m"}, "probe_timeout: must be a whole number"),
    ({"verification": "guest"}, "verification: must be one of tools, power_only, probe"),
    ({"health_checks": ["tcp"]}, "health_checks: must be a dictionary"),
    ({"protected_disk_files": {"app01": "[ds] app01/app01.vmdk"}}, "protected_disk_files.app01: must be a non-empty list"),
    ({"protected_disk_files": {"app01": ["app01.vmdk"]}}, "protected_disk_files.app01[0]: must be a VMDK's datastore path"),
    ({"protected_disk_files": {"app01": ["[ds] app01/app01.vmx"]}},
     "protected_disk_files.app01[0]: must be a VMDK's datastore path"),
    ({"protected_disk_files": {"app01": ["[ds] a/a.vmdk", "[ds] a/a.vmdk"]}},
     "protected_disk_files.app01: names [ds] a/a.vmdk more than once"),
    ({"protected_disk_files": ["[ds] a/a.vmdk"]}, "protected_disk_files: must be a dictionary of VM name"),
    ({"protected_disk_files": {"app01": ["[ds] app01/app01-flat.vmdk"]}},
     "protected_disk_files.app01[0]: names a VMDK's extent or side file"),
    ({"protected_disk_files": {"app01": ["[ds] a/a.vmdk"], "db01": ["[ds] a/a.vmdk"]}},
     "protected_disk_files.db01[0]: names a VMDK listed for VM app01 too"),
    ({"protected_disk_files": {"web09": ["[ds] a/a.vmdk"]}, "vms": ["app01"]},
     "protected_disk_files.web09: names a VM that is not in this run"),
])
def test_each_bad_option_is_refused(options, fragment):
    found = problems(**options)
    assert len(found) == 1 and found[0].startswith(fragment), found


def test_probes_gate_their_vm_or_every_vm():
    probes, _found = gate.validate_options({"tcp": [{"host": "a", "port": 1, "vm": "app01"}, {"host": "b", "port": 2}]})
    assert [p["host"] for p in gate.probes_of("app01", probes)] == ["a", "b"]
    assert [p["host"] for p in gate.probes_of("web01", probes)] == ["b"]
    assert [p["message"] for p in gate.unknown_probe_vms(probes, ["web01"])] == [
        "health_checks (tcp a:1).vm: names VM app01, which is not selected for this commit (got 'app01'); fix the vm "
        "key or select the VM."]
    assert gate.unknown_probe_vms(probes, ["app01"]) == []


def test_a_vmdk_replaced_at_its_recorded_path_is_named_with_both_uuids():
    # new-user re-try of issue 13: the refusal said the file was not recorded and advised protected_disk_files
    protected = [{"id": "a", "name": "Disk0", "capacity_bytes": 10}]
    attached = [{"file": "[ds] app01/app01.vmdk", "capacity_bytes": 10, "uuid": "6000C29-blank", "own_by": None,
                 "recorded_uuid": "6000C29-replica"}]
    problems_found, _report = gate.disk_problems("app01", protected, {"disks": attached, "recorded": "manifest"})
    assert len(problems_found) == 2
    assert "protected_disk_files" not in problems_found[0]
    assert problems_found[1] == (
        "attached VMDK [ds] app01/app01.vmdk has disk UUID 6000C29-blank, but the VM's record (its failback manifest) "
        "gives 6000C29-replica: the file at that path is not the disk recorded (it was replaced). Find the VMDK whose "
        "disk UUID is 6000C29-replica - Site Recovery's replica - and attach it in its place; never commit on the file "
        "there now")
