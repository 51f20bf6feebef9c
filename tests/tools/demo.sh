#!/usr/bin/env bash
# `make demo`: the main job on the lab. Until the lab and the failback roles exist, it shows
# what exists and says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
echo "== siterecovery.failback demo =="
echo "The lab (vCenter simulator + Azure/ASR emulator) and the failback roles are not built yet;"
echo "this demo shows what exists today: the collection's modules, built and documented."
tests/tools/build.sh
ansible-doc -l siterecovery.failback
