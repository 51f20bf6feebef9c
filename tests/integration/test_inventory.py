# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The replicated_items inventory plugin through ansible-inventory on the lab, and the credentials as AWX injects
them: hosts, variables and groups judged against the emulator's GET /_lab/state and the spec the test wrote; the
same number of ARM calls for a small and a larger vault (the emulator's request counter); the user name and
password form of AWX's Azure credential; the TLS warning in a playbook run."""

import json
import os
import subprocess
import sys

from conftest import COLLECTIONS, lab_requests, lab_state, playbook_command

PUBLIC = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

# default.yml (7 items, plan rp-app: [db01, app02] [app01, web01], replication group rg-app = db01 + app02) plus
# a second plan and replication group
SMALL = {"asr": {"items": [{"name": "web02", "replication_group": "rg-web"}, {"name": "web03", "replication_group": "rg-web"}],
                 "recovery_plans": [{"name": "rp-web", "groups": [{"items": ["web02", "web03"]}, {"items": ["fs01"]}]}]}}


def larger():
    """SMALL plus 15 physical servers (no vCenter VM needed) in a third plan of three boot groups, five of them in a
    replication group: 22 items."""
    extra = [{"name": "srv%02d" % n, "source": "physical", "os": "Linux" if n % 2 else "Windows",
              "os_name": "Ubuntu 22.04" if n % 2 else "Windows Server 2019", "disk_sizes_gb": [40],
              "stage": "running_in_azure", "azure_vm": {"resource_group": "rg-recovery-big"},
              "replication_group": "rg-big" if n <= 5 else None} for n in range(1, 16)]
    plan = {"name": "rp-big", "groups": [{"items": ["srv%02d" % n for n in range(1, 6)]},
                                         {"items": ["srv%02d" % n for n in range(6, 11)]},
                                         {"items": ["srv%02d" % n for n in range(11, 16)]}]}
    return {"asr": {"items": SMALL["asr"]["items"] + extra, "recovery_plans": SMALL["asr"]["recovery_plans"] + [plan]}}


def inventory(lab, tmp_path, config=None, env=None, name="lab.replicated_items.yml"):
    """``(rc, parsed --list output or None, stderr)`` of ansible-inventory on a config file of the plugin."""
    path = tmp_path / name
    path.write_text(json.dumps(dict({"plugin": "siterecovery.failback.replicated_items"}, **(config or {}))))
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
                    ANSIBLE_NOCOLOR="1")
    for key in list(full_env):
        if key.startswith(("VMWARE_", "AZURE_")):
            del full_env[key]
    full_env.update(lab.env() if env is None else env)
    proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-inventory"), "-i", str(path), "--list"],
                          env=full_env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, (plain(json.loads(proc.stdout)) if proc.returncode == 0 else None), proc.stderr


def plain(value):
    """ansible-inventory's JSON with ansible-core 2.19's ``{"__ansible_unsafe": value}`` wrappers (inventory data is
    never templated) taken off."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return plain(value["__ansible_unsafe"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def arm_calls(before, after):
    """ARM requests between two /_lab/stats readings (the identity provider's and the control API's left out)."""
    def arm(key):
        return "/subscriptions/" in key.lower()
    return sum(count - before.get(key, 0) for key, count in after.items() if arm(key))


def members(listing, group):
    return sorted((listing.get(group) or {}).get("hosts") or [])


def check_against_lab(lab, listing, spec_overrides):
    """Every host, variable and group against the emulator's state and the spec the test asked for."""
    state = lab_state(lab)["items"]
    hostvars = listing["_meta"]["hostvars"]
    assert sorted(hostvars) == sorted(state)  # one host per item the vault lists, named after the VM
    spec_items = {i["name"]: i for i in lab.spec["asr"]["items"]}
    for name, variables in hostvars.items():
        assert variables["asr_stage"] == state[name]["stage"], name
        assert variables["asr_provider"] == state[name]["provider"], name
        assert variables["asr_item_name"] == state[name]["item_name"], name
        assert variables["asr_flow"] == "classic" and variables["ansible_connection"] == "local"
        assert variables["asr_os_type"] == spec_items[name]["os"], name
        assert variables["asr_replication_group"] == spec_items[name].get("replication_group"), name
        assert variables["asr_azure_vm_id"].lower() == spec_items[name]["azure_vm"]["id"].lower(), name
        assert variables["asr_source_type"] == ("physical" if spec_items[name]["source"] == "physical" else "vmware_vm")
        assert name in members(listing, "asr_stage_" + state[name]["stage"])
    plans = {p["name"]: p for p in lab.spec["asr"]["recovery_plans"]}
    assert set(plans) >= {p["name"] for p in spec_overrides["asr"]["recovery_plans"]}
    for plan in plans.values():
        group = "asr_plan_" + plan["name"].replace("-", "_")
        assert members(listing, group) == sorted(n for g in plan["groups"] for n in g["items"]), plan["name"]
        for index, boot in enumerate(plan["groups"], start=1):
            assert members(listing, "%s_boot_group_%d" % (group, index)) == sorted(boot["items"])
            for vm in boot["items"]:
                assert hostvars[vm]["asr_boot_groups"][plan["name"]] == index
    groups = {}
    for name, item in spec_items.items():
        if item.get("replication_group"):
            groups.setdefault(item["replication_group"], []).append(name)
    for group, vms in groups.items():
        assert members(listing, "asr_replication_group_" + group.replace("-", "_")) == sorted(vms)
    for os_type in ("Windows", "Linux"):
        assert members(listing, "asr_os_" + os_type.lower()) == sorted(n for n, i in spec_items.items() if i["os"] == os_type)
    assert members(listing, "asr_source_physical") == sorted(n for n, i in spec_items.items() if i["source"] == "physical")


def test_hosts_vars_groups_and_a_fixed_number_of_calls(full_lab, tmp_path):
    counts = {}
    for label, overrides in (("small", SMALL), ("larger", larger())):
        lab = full_lab("default.yml", overrides)
        before = lab_requests(lab)
        rc, listing, stderr = inventory(lab, tmp_path, name="%s.replicated_items.yml" % label)
        assert rc == 0, stderr
        counts[label] = (arm_calls(before, lab_requests(lab)), len(listing["_meta"]["hostvars"]))
        check_against_lab(lab, listing, overrides)
        assert "lab-secret" not in json.dumps(listing)
        lab.stop()
    assert counts["small"][1] == 7 and counts["larger"][1] == 22
    # the item list and the plan list, whatever the number of items
    assert counts["small"][0] == counts["larger"][0] == 2, counts


def test_details_and_constructed_options(full_lab, tmp_path):
    lab = full_lab("replicating.yml")
    before = lab_requests(lab)
    config = {"details": True, "details_concurrency": 3,
              "filters": ["asr_stage == 'replicating_to_onprem'"],
              "keyed_groups": [{"key": "asr_master_target", "prefix": "mt"}],
              "groups": {"has_point": "asr_latest_recovery_point is not none"}}
    rc, listing, stderr = inventory(lab, tmp_path, config)
    assert rc == 0, stderr
    state = lab_state(lab)["items"]
    expected = sorted(n for n, s in state.items() if s["stage"] == "replicating_to_onprem")
    assert expected and sorted(listing["_meta"]["hostvars"]) == expected
    listed = len(state)
    # item list, plan list, fabric list; then a GET and a recovery point list for every listed item
    assert arm_calls(before, lab_requests(lab)) == 3 + 2 * listed
    for name in expected:
        variables = listing["_meta"]["hostvars"][name]
        assert variables["asr_master_target"] == state[name]["master_target"]
        assert name in members(listing, "mt_" + state[name]["master_target"].replace("-", "_"))
        has_point = state[name]["recovery_points"] > 0
        assert (variables["asr_latest_recovery_point"] is not None) == has_point
        assert (name in members(listing, "has_point")) == has_point
        assert variables["asr_os_type"] in ("Windows", "Linux")  # the list leaves an InMage item's OS empty


def test_awx_user_name_and_password_credential(full_lab, tmp_path):
    """AWX's Microsoft Azure Resource Manager credential, user name form: AZURE_SUBSCRIPTION_ID, AZURE_AD_USER,
    AZURE_PASSWORD (+ AZURE_CLOUD_ENVIRONMENT); no tenant, no client id, no secret."""
    lab = full_lab("default.yml")
    env = {k: v for k, v in lab.env().items() if k not in ("AZURE_TENANT", "AZURE_CLIENT_ID", "AZURE_SECRET")}
    user = lab.spec["azure"]["users"][0]
    env.update(AZURE_AD_USER=user["name"], AZURE_PASSWORD=user["password"], AZURE_CLOUD_ENVIRONMENT="AzureCloud")
    before = lab_requests(lab)
    rc, listing, stderr = inventory(lab, tmp_path, env=env)
    assert rc == 0, stderr
    assert sorted(listing["_meta"]["hostvars"]) == sorted(lab_state(lab)["items"])
    after = lab_requests(lab)
    token_posts = sum(c - before.get(k, 0) for k, c in after.items() if k.startswith("POST") and "/oauth2/v2.0/token" in k)
    assert token_posts >= 1
    assert user["password"] not in json.dumps(listing) and user["password"] not in stderr

    # a module takes the same form
    _argv, full_env = playbook_command("preflight", {}, env)
    module = subprocess.run([os.path.join(sys.prefix, "bin", "ansible"), "localhost", "-i", "localhost,", "-c", "local",
                             "-e", "ansible_python_interpreter=" + sys.executable, "-m",
                             "siterecovery.failback.azure_connection_info"],
                            env=full_env, capture_output=True, text=True, timeout=600, check=False)
    assert module.returncode == 0, module.stdout + module.stderr
    assert user["password"] not in module.stdout

    wrong = dict(env, AZURE_PASSWORD="not-the-password")
    rc, _listing, stderr = inventory(lab, tmp_path, env=wrong, name="wrong.replicated_items.yml")
    assert rc != 0 and "not-the-password" not in stderr
    assert "AADSTS50126" in stderr or "invalid username or password" in stderr

    mfa = lab.spec["azure"]["users"][1]
    rc, _listing, stderr = inventory(lab, tmp_path, env=dict(env, AZURE_AD_USER=mfa["name"], AZURE_PASSWORD=mfa["password"]),
                                     name="mfa.replicated_items.yml")
    assert rc != 0 and "multi-factor" in stderr and mfa["password"] not in stderr

    half = {k: v for k, v in env.items() if k != "AZURE_PASSWORD"}
    before = lab_requests(lab)
    rc, _listing, stderr = inventory(lab, tmp_path, env=half, name="half.replicated_items.yml")
    assert rc != 0 and "ad_password missing" in stderr and "AZURE_PASSWORD" in stderr
    assert lab_requests(lab) == before  # refused before any request


def test_tls_verification_off_warns_in_the_run(full_lab):
    """AWX's VMware vCenter credential injects VMWARE_VALIDATE_CERTS=False: the run says so, and the extra variable
    turns verification back on (the warning goes)."""
    lab = full_lab("default.yml")
    env = dict(lab.env(), VMWARE_VALIDATE_CERTS="False")
    argv, full_env = playbook_command("preflight", {"preflight_vms": ["app01"]}, env)
    proc = subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert "TLS verification of %s is OFF" % env["VMWARE_HOST"] in output, output[-3000:]
    assert "failback_vcenter_validate_certs=true" in output
    argv, full_env = playbook_command("preflight", {"preflight_vms": ["app01"], "failback_vcenter_validate_certs": True}, env)
    proc = subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert "TLS verification of" not in output
    assert "PLAY RECAP" in output
