# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fabric_info on the whole lab: the default site, a stopped configuration server, a lost vCenter."""

from conftest import run_module


def _without_ages(value):
    if isinstance(value, dict):
        return {k: _without_ages(v) for k, v in value.items()
                if k not in ("heartbeat_age_seconds", "last_heartbeat", "duration_seconds")}
    if isinstance(value, list):
        return [_without_ages(v) for v in value]
    return value


def test_default_site(full_lab):
    lab = full_lab("default.yml")
    rc, result = run_module("fabric_info", {}, env=lab.env())
    assert rc == 0, result
    assert result["changed"] is False
    asr = lab.spec["asr"]
    cs = result["configuration_servers"]
    assert len(cs) == 1
    assert (cs[0]["name"], cs[0]["fabric_name"], cs[0]["ip_address"]) == ("cs01", asr["fabric_name"], "10.0.0.10")
    assert (cs[0]["service_status"], cs[0]["health"], cs[0]["health_errors"]) == ("Running", "Normal", [])
    assert (cs[0]["version_status"], cs[0]["agent_version_status"]) == ("Supported", "Supported")
    # a healthy configuration server was recorded 8 to 13 min after its last heartbeat (tests/recorded/asr/README.md)
    assert 8 * 60 <= cs[0]["heartbeat_age_seconds"] <= 13 * 60
    # as recorded for the failback item: the configuration server's own process server is the only one
    assert {p["name"]: p["ip"] for p in result["process_servers"]} == {"cs01": "10.0.0.10"}
    assert {p["id"] for p in result["process_servers"]} == {p["id"] for p in asr["process_servers"]}
    assert all(p["service_status"] == "Running" and p["health"] == "Normal" for p in result["process_servers"])
    mts = {m["name"]: m for m in result["master_targets"]}
    assert sorted(mts) == ["cs01", "mt-lin01", "mt-win01"]  # as recorded, the configuration server is also a master target
    win = mts["mt-win01"]
    assert (win["os_type"], win["disk_count"], win["disk_limit"]) == ("Windows", 2, 60)
    assert win["id"] == next(m["id"] for m in asr["master_targets"] if m["vm"] == "mt-win01")
    # NFS is never offered for failback
    assert {d["name"]: d["type"] for d in win["datastores"]} == {"vmfs-01": "VMFS", "vmfs-02": "VMFS", "vsan-01": "vsan"}
    assert next(d for d in win["datastores"] if d["name"] == "vmfs-01")["free_gb"] == 4096.0
    # the recorded fabric GET sends thresholdPercentage null
    assert win["retention_volumes"] == [{"name": "R:", "capacity_gb": 500.0, "free_gb": 420.0, "threshold_percentage": None}]
    assert win["validation_errors"] == [] and win["health_errors"] == []
    assert mts["mt-lin01"]["os_type"] == "Linux"
    assert [(a["id"], a["name"]) for a in result["run_as_accounts"]] == [
        ("1", "vcenter-discovery"), ("2", "windows-push"), ("3", "linux-push")]
    vc = result["vcenters"]
    assert [(v["name"], v["discovery_status"], v["port"]) for v in vc] == [("vcenter01.lab", "Completed", "443")]
    assert vc[0]["health_errors"] == [] and vc[0]["fabric_name"] == asr["fabric_name"]
    assert vc[0]["run_as_account_id"] == "1"
    # one fabric list and one vCenter list
    assert result["api_calls"] == 2


def test_check_mode_gives_the_same_answer(full_lab):
    lab = full_lab("default.yml")
    rc, normal = run_module("fabric_info", {}, env=lab.env())
    rc2, check = run_module("fabric_info", {}, env=lab.env(), check=True)
    assert rc == rc2 == 0
    assert _without_ages(check) == _without_ages(normal)


def test_configuration_server_stopped(full_lab):
    lab = full_lab("cs-unhealthy.yml")
    rc, result = run_module("fabric_info", {}, env=lab.env())
    assert rc == 0, result
    cs = result["configuration_servers"][0]
    assert cs["service_status"] == "Stopped"
    assert cs["heartbeat_age_seconds"] >= 7200
    assert cs["health"] == "Error"  # the recorded unhealthy configuration server reports Error
    assert [e["code"] for e in cs["health_errors"]] == ["ConfigurationServerNotRunning"]
    assert cs["health_errors"][0]["level"] == "Error"


def test_vcenter_disconnected(full_lab):
    lab = full_lab("vcenter-disconnected.yml")
    rc, result = run_module("fabric_info", {}, env=lab.env())
    assert rc == 0, result
    vc = result["vcenters"][0]
    assert (vc["name"], vc["discovery_status"]) == ("vcenter01.lab", "Failed")
    assert vc["heartbeat_age_seconds"] >= 7200
    assert [e["code"] for e in vc["health_errors"]] == ["VCenterNotConnected"]
    assert result["configuration_servers"][0]["service_status"] == "Running"


def test_unknown_vault_fails_naming_it(full_lab):
    lab = full_lab("default.yml")
    rc, result = run_module("fabric_info", {"vault_name": "no-such-vault"}, env=lab.env())
    assert rc == 1
    assert "no-such-vault" in result["msg"]
