#!/usr/bin/env bash
# Integration tests: the lab's own tests, then the collection's modules driven on the lab.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
python tests/lab/vcsim/smoke.py
pytest -p no:cacheprovider tests/lab/tests
pytest -p no:cacheprovider -n 2 tests/integration
