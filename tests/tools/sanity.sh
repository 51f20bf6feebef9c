#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection laid out as
# ansible_collections/siterecovery/failback (ansible-test needs that path).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/siterecovery/failback
mkdir -p "$dest"
# Tracked and new (not ignored) files only: build outputs and venvs stay out.
# A tracked file deleted in the working tree (not yet committed) is left out, not an error.
(cd "$root" && git ls-files -co --exclude-standard -z | while IFS= read -r -d '' file; do
  if [ -e "$file" ]; then printf '%s\0' "$file"; fi
done | tar -cf - --null -T -) | tar -xf - -C "$dest"
# ansible-test reads the git metadata of the collection; give the copy its own repository.
(cd "$dest" && git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity)
cd "$dest"
"$venv/bin/ansible-test" sanity --local --python "${PYTHON_VERSION:-3.11}" --color no "$@"
