#!/usr/bin/env bash
# `make demo`: the main job on the lab. The failback roles and the Azure/ASR emulator are not
# built yet, so today it shows what exists: the collection built and installed, and its
# connection check run by FQCN against the lab's vCenter simulator over verified TLS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
echo "== siterecovery.failback demo =="
echo "Not built yet: the Azure / ASR emulator and the failback roles (issues 3 to 7)."
echo "Shown now: the built collection, and vsphere_connection_info against the lab vCenter."
tests/tools/build.sh
work=$(mktemp -d)
python - "$work" <<'PY'
import json, subprocess, sys, os
sys.path.insert(0, os.getcwd())
from tests.lab.vcenter import Simulator
work = sys.argv[1]
with Simulator("tests/lab/vcsim/sample.json", workdir=work) as sim:
    print("lab vCenter: %s (CA %s)" % (sim.info["url"], sim.info["ca_file"]))
    env = dict(os.environ, **sim.env())
    subprocess.run(["ansible", "localhost", "-m", "siterecovery.failback.vsphere_connection_info"], env=env, check=True)
PY
rm -rf "$work"
echo "demo: done"
