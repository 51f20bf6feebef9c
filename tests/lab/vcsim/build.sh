#!/usr/bin/env bash
# Build the vcsim lab launcher (tests/lab/.build/vcsim) from Debian's
# govmomi 0.24 sources. Idempotent: installs the Debian packages only when
# missing and rebuilds only when a source file is newer than the binary.
#
# Usage: tests/lab/vcsim/build.sh [-f]   (-f forces a rebuild)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir="$(cd "$here/.." && pwd)/.build"
out="$out_dir/vcsim"
force=0
[[ "${1:-}" == "-f" ]] && force=1

# golang-github-google-uuid-dev is the only dependency of the simulator
# package outside govmomi itself; it is listed explicitly in case the
# govmomi package's dependencies ever change.
packages=(golang-go golang-github-vmware-govmomi-dev golang-github-google-uuid-dev)
gopath=/usr/share/gocode

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "build.sh: missing packages ${missing[*]}; run as root or install them" >&2
        exit 1
    fi
    echo "build.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [[ ! -d "$gopath/src/github.com/vmware/govmomi/simulator" ]]; then
    echo "build.sh: govmomi simulator sources not found under $gopath" >&2
    exit 1
fi

# The binary's stamp: a digest of the sources it was built from (content, not times), so a
# binary copied from another checkout or built from other sources is never taken as current.
sources_digest() {
    (cd "$here" && find . -maxdepth 1 \( -name '*.go' -o -name build.sh \) -print0 | LC_ALL=C sort -z |
        xargs -0 cat --) | sha256sum | cut -c1-64
}

if ((force == 0)) && [[ -x "$out" ]]; then
    if [[ "$(cat "$out.sources" 2>/dev/null)" == "$(sources_digest)" ]]; then
        echo "build.sh: $out is up to date" >&2
        echo "$out"
        exit 0
    fi
fi

mkdir -p "$out_dir"
go_bin="$(command -v go || echo /usr/lib/go/bin/go)"
cache="${GOCACHE:-$out_dir/gocache}"
echo "build.sh: building $out" >&2
(
    cd "$here"
    GOPATH="$gopath" GO111MODULE=off GOFLAGS='' GOCACHE="$cache" CGO_ENABLED=0 \
        "$go_bin" build -o "$out.tmp" .
)
mv -f "$out.tmp" "$out"
sources_digest > "$out.sources"
echo "$out"
