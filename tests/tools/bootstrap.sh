#!/usr/bin/env bash
# Set up everything `make test` and `make demo` need on a fresh Debian machine (run as root),
# and nothing twice: each step checks first. Installs into .venv; never into the system Python.
# Every one-time install and build happens here, before any test or lab timer starts; one
# progress line per step says what it does and, for the slow ones, about how long it takes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/.venv
python=${PYTHON:-python3}
steps=5
step_started=0

step() {  # step N "what" : print the progress line and start the step's clock
  step_started=$(date +%s)
  echo "bootstrap [$1/$steps] $2"
}
done_step() {  # done_step "result"
  echo "bootstrap       ${1} ($(( $(date +%s) - step_started )) s)"
}

# 1. Debian packages: git, venv and shellcheck (ansible-test sanity runs it) for the tooling, Go and govmomi's sources for the lab's
#    vCenter simulator (tests/lab/vcsim/build.sh lists the same Go packages).
step 1 "Debian packages (git, python3-venv, shellcheck, Go 1.19, govmomi 0.24 sources)"
packages=(git python3-venv shellcheck golang-go golang-github-vmware-govmomi-dev golang-github-google-uuid-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages ${missing[*]}; run as root or install them first" >&2
    exit 1
  fi
  echo "bootstrap       installing ${missing[*]} with apt-get (first time: about 1 min)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  done_step "installed ${#missing[@]} package(s)"
else
  done_step "already installed"
fi

# 2. The Python requirements in .venv (pip's cache lives under HOME, which the Makefile keeps
#    inside the checkout, so a clean clone never reuses another run's downloads).
step 2 "Python requirements in .venv (first time: about 2 to 4 min)"
stamp=$venv/.installed
want=$(cat "$root/requirements.txt" "$root/test-requirements.txt" | sha256sum | cut -c1-16)
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$root/requirements.txt" -r "$root/test-requirements.txt" 2>&1 | grep -v '^WARNING: Location' || true
  # pip's output is filtered above, so its status is checked by importing what we need.
  "$venv/bin/python" -c 'import ansible, pyVmomi, azure.mgmt.recoveryservicessiterecovery, pytest, pytest_cov' \
    || { echo "bootstrap: the Python requirements did not install (see pip's messages above)" >&2; exit 1; }
  echo "$want" > "$stamp"
  done_step "installed"
else
  done_step "up to date"
fi

# 3. ansible-test fetches a pip bootstrap script from a host that may be unreachable; it uses a
#    cached copy first. Ours bootstraps pip offline from ensurepip (see tests/tools/get_pip.py).
step 3 "ansible-test's offline pip bootstrap"
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
  done_step "placed for pip $pip_version"
else
  done_step "up to date"
fi

# 4. The collection as Ansible and pytest import it: ansible_collections/siterecovery/failback.
step 4 "collection link in .venv/collections"
link=$venv/collections/ansible_collections/siterecovery/failback
if [ "$(readlink "$link" 2>/dev/null)" != "$root" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$root" "$link"
fi
done_step "$link"

# 5. The lab's vCenter simulator, built from this checkout's sources into this checkout's
#    tests/lab/.build (the lab never builds: it refuses to start without this binary).
step 5 "vCenter simulator build, tests/lab/.build/vcsim (first time: about 1 min)"
log=$(mktemp)
if ! binary=$(bash "$root/tests/lab/vcsim/build.sh" 2>"$log" | tail -n1); then
  cat "$log" >&2
  rm -f "$log"
  echo "bootstrap: the vCenter simulator did not build (messages above)" >&2
  exit 1
fi
rm -f "$log"
done_step "$binary"
