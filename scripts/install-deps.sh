#!/usr/bin/env bash
# Installs the Debian 12 packages hakmem needs to build, test and measure.
# Quiet when everything is present.  As root it installs what is missing;
# otherwise it prints the command to run and exits 1.
set -euo pipefail

# The one list of packages the project needs.
PACKAGES=(
    # build
    gcc make
    # runtime and tests
    python3 sqlite3 git g++ valgrind
    # make mutants applies its breakages with patch(1)
    patch
    # peer allocators measured side by side
    libmimalloc-dev libjemalloc-dev libtcmalloc-minimal4
    # measurement toolkit
    libsqlite3-dev gnuplot-nox libpfm4-dev chromium
    # hak bench --perf samples CPU time with perf record -e cpu-clock
    linux-perf
    # make install's test compiles a program with pkg-config --cflags --libs hakphase
    pkg-config
    # fuzz harnesses (clang's libFuzzer and sanitizer runtimes)
    clang libclang-rt-14-dev
)

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: dpkg-query not found; this script supports Debian 12 only." >&2
    echo "install-deps: install these packages by hand: ${PACKAGES[*]}" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
