# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tests run the collection's modules through ansible on the lab."""

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)
COLLECTIONS = os.path.join(ROOT, ".venv", "collections")

from tests.lab import dvs  # noqa: E402
from tests.lab import spec as specmod  # noqa: E402
from tests.lab.calls import NO_MUTATIONS, CallWatch  # noqa: E402
from tests.lab.vcenter import Simulator  # noqa: E402


def run_module(module, args=None, env=None, check=False, tmp_dir=None, diff=False):
    """Run one module through ansible-playbook on localhost; return (rc, result) where rc is 0
    unless the module failed. The result is the registered task result."""
    work = tempfile.mkdtemp(prefix="it-", dir=tmp_dir)
    out = os.path.join(work, "result.json")
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "module under test", "siterecovery.failback." + module: args or {}, "register": "result",
             "ignore_errors": True, "check_mode": check, "diff": diff},
            {"name": "save result", "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": out},
             "check_mode": False},
        ],
    }]
    playbook = os.path.join(work, "play.yml")
    with open(playbook, "w") as handle:
        json.dump(play, handle)
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
                    ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    for name in list(full_env):
        if name.startswith(("VMWARE_", "AZURE_")):
            del full_env[name]
    full_env.update(env or {})
    proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           playbook], check=False, env=full_env, capture_output=True, text=True, timeout=600)
    if not os.path.exists(out):
        raise AssertionError("ansible-playbook wrote no result:\n%s\n%s" % (proc.stdout, proc.stderr))
    with open(out) as handle:
        result = json.load(handle)
    return (1 if result.get("failed") else 0), result


def watch_calls(target):
    """Count the calls that reach ``target`` (a ``full_lab`` Lab or a ``lab_vcenter`` Simulator) from now
    on: ``watch.since()`` is every call, ``watch.mutations()`` only the mutating ones (tests/lab/calls.py)."""
    return CallWatch.of(target)


def run_check_mode(module, args, target, env=None, **kwargs):
    """Run ``module`` in check mode on ``target`` (a Lab or Simulator) and prove it changed nothing:
    no mutating vSphere call (any *_Task but datastore searches, CreateFolder, MakeDirectory, ...) and
    no ARM write (PUT/PATCH/POST/DELETE outside /_lab and the token endpoint) reached the lab.
    Returns (rc, result) as run_module does."""
    watch = watch_calls(target)
    rc, result = run_module(module, args, env=target.env() if env is None else env, check=True, **kwargs)
    calls = watch.since()
    assert any(calls["soap"].values()) or calls["arm"], "no call reached the watched lab: %s" % result
    mutations = watch.mutations(calls)
    assert mutations == NO_MUTATIONS, "%s in check mode made mutating calls: %s" % (module, mutations)
    return rc, result


@pytest.fixture(scope="session")
def vcenter(tmp_path_factory):
    with Simulator(os.path.join(ROOT, "tests", "lab", "vcsim", "sample.json"),
                   workdir=str(tmp_path_factory.mktemp("vcsim"))) as sim:
        yield sim


@pytest.fixture(scope="session")
def esxi(tmp_path_factory):
    with Simulator(os.path.join(ROOT, "tests", "lab", "vcsim", "sample-esx.json"),
                   workdir=str(tmp_path_factory.mktemp("esx"))) as sim:
        yield sim


def start_vcenter(spec_name, workdir):
    """A vCenter simulator for a lab spec (tests/lab/specs); returns (simulator, normalized spec)."""
    spec = specmod.load(spec_name)
    os.makedirs(str(workdir), exist_ok=True)
    path = os.path.join(str(workdir), "vcenter.json")
    with open(path, "w") as handle:
        json.dump(specmod.launcher_inventories(spec)["vcenter"], handle)
    simulator = Simulator(path, workdir=str(workdir))
    simulator.start()
    dvs.apply(simulator.info, spec)  # the spec's distributed switches, if any (tests/lab/dvs.py)
    return simulator, spec


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The default lab site, shared by read-only tests."""
    simulator, spec = start_vcenter("default.yml", tmp_path_factory.mktemp("site"))
    simulator.spec = spec
    yield simulator
    simulator.stop()


@pytest.fixture
def lab_vcenter(tmp_path):
    """A fresh vCenter per test from a named spec: ``sim = lab_vcenter("memory-short.yml")``."""
    started = []

    def start(spec_name="default.yml"):
        simulator, spec = start_vcenter(spec_name, tmp_path / ("vc%d" % len(started)))
        simulator.spec = spec
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


FAST_TIMINGS = {"timings": {"job_seconds": 0.2, "initial_replication_seconds": 0.3, "recovery_point_seconds": 0.5,
                            "agent_registration_seconds": 2, "retry_after_seconds": 0}}


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory):
    """One default.yml lab (jobs fast) for a whole test module, for refusals that must each leave it exactly as it
    was (every such test checks it)."""
    from tests.lab.lab import Lab
    lab = Lab("default.yml", workdir=str(tmp_path_factory.mktemp("module-lab")), overrides=specmod.merge(FAST_TIMINGS, {}))
    os.makedirs(lab.workdir, exist_ok=True)
    lab.start()
    yield lab
    lab.stop()


@pytest.fixture
def full_lab(tmp_path):
    """A whole lab (vCenter simulator, Azure emulator, side effects) per test, jobs fast:
    ``lab = full_lab("default.yml")``; ``lab.env()`` has VMWARE_*, AZURE_* and LAB_CONTROL_URL."""
    from tests.lab.lab import Lab
    started = []

    def start(spec_name="default.yml", overrides=None):
        merged = specmod.merge(FAST_TIMINGS, overrides or {})
        lab = Lab(spec_name, workdir=str(tmp_path / ("lab%d" % len(started))), overrides=merged)
        os.makedirs(lab.workdir, exist_ok=True)
        lab.start()
        started.append(lab)
        return lab

    yield start
    for lab in started:
        lab.stop()


def playbook_command(playbook, extra_vars, env, options=()):
    """``(argv, environment)`` that run a collection playbook by FQCN on localhost with the lab's ``env`` (no
    VMWARE_/AZURE_ variable of the caller's environment leaks in); ``options``: more ansible-playbook arguments."""
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
                    ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    for name in list(full_env):
        if name.startswith(("VMWARE_", "AZURE_")):
            del full_env[name]
    full_env.update(env)
    argv = [os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", "localhost,", "siterecovery.failback." + playbook,
            "-e", json.dumps(extra_vars), *options]
    return argv, full_env


def run_playbook(playbook, extra_vars, env, timeout=900, options=()):
    """Run a collection playbook by FQCN (``options``: more ansible-playbook arguments, e.g. --check);
    returns (rc, stdout+stderr)."""
    argv, full_env = playbook_command(playbook, extra_vars, env, options)
    proc = subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def lab_control(lab, method, path, body=None):
    """A request to the lab's control API (``LAB_CONTROL_URL``, tests/lab/README.md); its JSON answer or None."""
    env = lab.env()
    response = requests.request(method, env["LAB_CONTROL_URL"] + path, json=body, verify=env["AZURE_CA_BUNDLE"],
                                timeout=30)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def lab_state(lab):
    """The emulator's whole state, read through its control API (GET /_lab/state)."""
    return lab_control(lab, "GET", "/state")


def lab_requests(lab):
    """``{"METHOD path": count}`` of the requests the emulator answered (GET /_lab/stats)."""
    return lab_control(lab, "GET", "/stats")["requests"]


def wait_until(predicate, what, seconds=300):
    """Poll ``predicate`` every 0.3 s until it is true; AssertionError naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError("timed out waiting for " + what)


def vcenter_layout(lab):
    """Every VM's disks in disk order, read from vCenter through the property collector:
    ``{vm name: [(bus, unit, file, capacity in KB, backing uuid)]}``."""
    from pyVmomi import vim

    from tests.lab.effects import Site
    site = Site("vcenter", lab.effects.endpoints["vcenter"])
    try:
        result = {}
        for row in site.read(vim.VirtualMachine, ["name", "config.hardware.device"]):
            devices = row.get("config.hardware.device") or []
            buses = {d.key: d.busNumber for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)}
            result[row["name"]] = sorted((buses.get(d.controllerKey), d.unitNumber, d.backing.fileName, d.capacityInKB,
                                          d.backing.uuid) for d in devices if isinstance(d, vim.vm.device.VirtualDisk))
        return result
    finally:
        site.close()
