# shellcheck shell=bash
# Sourced by the tests in tests/bench/: the benchmarks, the phase protocol and `hak bench`.
# Exit 77 = skipped, as tests/run.sh expects; a skip prints "SKIP: reason".
set -euo pipefail

ROOT=${HAKMEM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$ROOT"
BIN=$ROOT/build/bin
HAK=$BIN/hak
# shellcheck disable=SC2034 # used by the tests that source this file
LIBHAKMEM=${HAKMEM_LIB:-$ROOT/build/libhakmem.so}
# shellcheck source=tests/common/lib.sh
source "$ROOT/tests/common/lib.sh"

for b in hak larson battle; do
    [[ -x $BIN/$b ]] || fail "$BIN/$b is missing: run make"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Allocators whose library is present, as `hak bench --list` resolves them (glibc always).
available_allocators() {
    "$HAK" bench --list | awk '/^allocators:/ { on = 1; next } on && NF && $2 != "missing:" { print $1 }'
}

# The LD_PRELOAD value for an allocator name ("" for glibc).
preload_of() {
    "$HAK" bench --list | awk -v a="$1" '/^allocators:/ { on = 1; next }
        on && $1 == a { if ($2 ~ /^\//) print $2; exit }'
}

# field NAME LINE: the value of NAME=... in a key=value line.
field() {
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -n1
}
