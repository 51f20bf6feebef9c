#!/usr/bin/env bash
# Integration tests: pytest suites that drive the modules on the lab (tests/integration).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if ! ls tests/integration/test_*.py >/dev/null 2>&1; then
  echo "integration: no integration tests yet (they arrive with the lab, tests/lab)"
  exit 0
fi
pytest tests/integration
