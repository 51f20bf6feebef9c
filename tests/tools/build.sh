#!/usr/bin/env bash
# Build the collection artifact, install it into a scratch path and render every module's
# documentation from the installed copy: what a user gets from Galaxy must work.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
ansible-galaxy collection build --output-path "$work/dist" . >/dev/null
tarball=$(ls "$work"/dist/siterecovery-failback-*.tar.gz)
echo "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
# Nothing of the developer's machine may ship: venvs, lab build outputs, CI files.
if tar -tzf "$tarball" | grep -E '^(\.venv|\.ci|\.git|tests/lab/\.build|\.ansible)/' ; then
  echo "build: the artifact contains files that build_ignore should keep out" >&2
  exit 1
fi
ANSIBLE_COLLECTIONS_PATH=$work/installed ansible-galaxy collection install --offline -p "$work/installed" "$tarball" >/dev/null
modules=$(cd plugins/modules && find . -maxdepth 1 -name '*.py' -printf '%f\n' | LC_ALL=C sort | sed 's/\.py$//')
for module in $modules; do
  out=$(ANSIBLE_COLLECTIONS_PATH=$work/installed ansible-doc -t module "siterecovery.failback.$module")
  if ! grep -q "EXAMPLES" <<<"$out" || ! grep -q "RETURN VALUES" <<<"$out"; then
    echo "build: ansible-doc did not render EXAMPLES and RETURN VALUES for $module" >&2; exit 1
  fi
done
echo "installed the artifact and rendered the docs of $(wc -w <<<"$modules") module(s)"
