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

# The execution environment (execution-environment.yml) installs this artifact: ansible-builder writes the build
# context (no container engine needed for that); check it pins its base image and installs the artifact just built,
# not a collection from a Galaxy server.
mkdir -p build/ee
cp "$tarball" build/ee/siterecovery-failback.tar.gz
ansible-builder create -f execution-environment.yml --context "$work/ee" >/dev/null
containerfile=$work/ee/Containerfile
[ -f "$containerfile" ] || containerfile=$work/ee/Dockerfile
base=$(sed -n 's/^ARG EE_BASE_IMAGE="\(.*\)"$/\1/p' "$containerfile")
# pinned: a digest, or a tag that is not "latest" (the part after the last "/" names the tag)
if ! grep -Eq '(@sha256:[0-9a-f]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]*)$' <<<"${base##*/}" || [[ "$base" == *:latest ]]; then
  echo "build: the execution environment's base image is not pinned to a tag or digest: '$base'" >&2
  exit 1
fi
if ! cmp -s "$tarball" "$work/ee/_build/collections/siterecovery-failback.tar.gz"; then
  echo "build: the execution environment's context does not hold the artifact just built" >&2; exit 1
fi
python - "$work/ee/_build/requirements.yml" <<'PY'
import sys, yaml
wanted = yaml.safe_load(open(sys.argv[1]))["collections"]
ours = [c for c in wanted if "siterecovery" in c["name"]]
if ours != [{"name": "/build/collections/siterecovery-failback.tar.gz", "type": "file"}]:
    sys.exit("build: the execution environment must install the built artifact, not %r" % ours)
PY
grep -q '^azure-storage-blob' "$work/ee/_build/requirements.txt" \
  || { echo "build: the execution environment's Python requirements miss requirements.txt" >&2; exit 1; }
echo "execution environment: base $base, installs $(basename "$tarball") from its build context"
