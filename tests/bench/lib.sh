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
# On any exit, a failed check included: the background commands still running are stopped, and
# the processes they started (a recorder's command), so that none is left polling for a file in
# the removed WORK; then WORK goes.
finish() {
    local p pids
    pids=$(jobs -p)
    disown -a # no "Killed" notices in the log
    for p in $pids; do
        pkill -KILL -P "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap finish EXIT

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

# Writes a profile of small fixed-work sections to FILE: small_profile FILE DESCRIPTION BENCH...
# (mallocfree, prodcons, smallobj), each a fraction of a second on any allocator.
small_profile() {
    local file=$1 description=$2
    shift 2
    echo "description = $description" >"$file"
    for b in "$@"; do
        case $b in
        mallocfree) printf '[mallocfree]\npairs    = 20000\nmin_size = 8\nmax_size = 1000\nwindow   = 64\nseed     = 1\n' ;;
        prodcons) printf '[prodcons]\nblocks     = 20000\nblock_size = 64\nqueue      = 1024\npairs      = 1\n' ;;
        smallobj) printf '[smallobj]\ntrees   = 2\ndepth   = 8\nnumbers = 2000\nseed    = 1\n' ;;
        *) fail "small_profile: no small section for '$b'" ;;
        esac
    done >>"$file"
}
