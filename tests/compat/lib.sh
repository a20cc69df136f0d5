# shellcheck shell=bash
# Sourced by the compat tests: real programs run with and without hakmem
# preloaded must behave the same.  Exit 77 = skipped, as tests/run.sh expects.
set -euo pipefail

ROOT=${TEST_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD_DIR=${TEST_BUILD_DIR:-$ROOT/build}
LIB=${TEST_LIB:-$BUILD_DIR/libhakmem.so}
cd "$ROOT"
# shellcheck source=tests/common/lib.sh
source "$ROOT/tests/common/lib.sh"

# need CMD...: skip unless every command is installed.
need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (scripts/install-deps.sh installs it)"
    done
}

[[ -f "$LIB" ]] || fail "$LIB is missing: run make"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-compat.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Fails unless a process started with LD_PRELOAD=$LIB has libhakmem mapped and
# resolves malloc's companion hak_tier_of_size, i.e. hakmem really is loaded.
assert_preloaded() {
    LD_PRELOAD="$LIB" grep -qF "$(basename "$LIB")" /proc/self/maps ||
        fail "LD_PRELOAD=$LIB did not map libhakmem into the process"
}

# same_output NAME CMD [ARG...]: runs CMD (a program or a shell function) once
# on the system allocator and once with hakmem preloaded; stdout, stderr and
# the exit status must be the same.  Outputs are kept in $WORK/NAME.*.
same_output() {
    local name=$1 rc_sys=0 rc_hak=0
    shift
    ("$@") >"$WORK/$name.system" 2>&1 || rc_sys=$?
    (export LD_PRELOAD="$LIB" && "$@") >"$WORK/$name.hakmem" 2>&1 || rc_hak=$?
    if [[ $rc_sys -ne $rc_hak ]]; then
        echo "$name: exit status $rc_sys on the system allocator, $rc_hak with hakmem"
        tail -n 20 "$WORK/$name.hakmem"
        exit 1
    fi
    if ! cmp -s "$WORK/$name.system" "$WORK/$name.hakmem"; then
        echo "$name: output differs with hakmem preloaded (- system, + hakmem):"
        diff -u "$WORK/$name.system" "$WORK/$name.hakmem" | head -n 40
        exit 1
    fi
    echo "$name: same output ($(wc -l <"$WORK/$name.system") lines, exit $rc_sys)"
}
