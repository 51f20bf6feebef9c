#!/usr/bin/env bash
# Set up everything `make test` and `make demo` need on a fresh Debian machine (run as root),
# and nothing twice: each step checks first. Installs into .venv; never into the system Python.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/.venv
python=${PYTHON:-python3}

need_apt=()
command -v git >/dev/null || need_apt+=(git)
"$python" -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]} with apt-get"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

stamp=$venv/.installed
want=$(cat "$root/requirements.txt" "$root/test-requirements.txt" | sha256sum | cut -c1-16)
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing Python requirements into .venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$root/requirements.txt" -r "$root/test-requirements.txt"
  echo "$want" > "$stamp"
fi

# ansible-test fetches a pip bootstrap script from a host that may be unreachable; it uses a
# cached copy first. Ours bootstraps pip offline from ensurepip (see tests/tools/get_pip.py).
pip_version=$("$venv/bin/python" - <<'PY'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if ! cmp -s "$root/tests/tools/get_pip.py" "$cache"; then
  mkdir -p "$(dirname "$cache")"
  cp "$root/tests/tools/get_pip.py" "$cache"
fi

# The collection as Ansible and pytest import it: ansible_collections/siterecovery/failback.
link=$venv/collections/ansible_collections/siterecovery/failback
if [ "$(readlink "$link" 2>/dev/null)" != "$root" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$root" "$link"
fi
