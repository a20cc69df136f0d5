# shellcheck shell=bash
# Shared by tests/trace/test_*.sh: the build, a scratch folder, and the traced test program.
ROOT=${TEST_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${TEST_BUILD_DIR:-$ROOT/build}
source "$ROOT/tests/common/lib.sh"
HAK=$BUILD/bin/hak
REPLAY=$BUILD/bin/replay
[[ -x $HAK && -x $REPLAY && -f $BUILD/libhaktrace.so ]] || skip "hak, replay or libhaktrace.so is not built (make)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-trace.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Builds tests/trace/traced_ops.c into $WORK/traced_ops.
build_traced_ops() {
    ${CC:-cc} -std=gnu11 -O0 -fno-builtin -pthread -Wno-deprecated-declarations \
        "$ROOT/tests/trace/traced_ops.c" -o "$WORK/traced_ops" || fail "traced_ops does not build"
}

# info_count FILE KIND: the count `hak trace info` gives for KIND (0 when absent).
info_count() {
    "$HAK" trace info "$1" 2>/dev/null | awk -v k="$2" '$1 == k && NF == 2 {print $2; f=1} END {if (!f) print 0}'
}

# info_field FILE "peak live bytes": the value after the label.
info_field() {
    "$HAK" trace info "$1" 2>/dev/null | sed -n "s/^  $2: \([0-9]*\).*/\1/p"
}

# result_field LINE NAME: NAME=VALUE from a result line.
result_field() {
    tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

# Builds tests/trace/unsupported_ops.cc into $WORK/unsupported_ops.
build_unsupported_ops() {
    ${CXX:-c++} -std=gnu++17 -O0 -fno-builtin "$ROOT/tests/trace/unsupported_ops.cc" \
        -o "$WORK/unsupported_ops" || fail "unsupported_ops does not build"
}

# unsupported_count FILE NAME: N from the "unsupported: N NAME calls" line of hak trace info (0 if none).
unsupported_count() {
    "$HAK" trace info "$1" 2>/dev/null | sed -n "s/^  unsupported: \([0-9]*\) $2 calls.*/\1/p" |
        awk '{n = $1} END {print n + 0}'
}

# trace_without_and_with PROGRAM: traces ./PROGRAM 0 (start and exit only) into base.trace and
# ./PROGRAM 1 (the counted operations) into ops.trace, in the current folder.
trace_without_and_with() {
    "$HAK" trace -o base.trace -- "./$1" 0 2>/dev/null || fail "tracing $1 0 failed"
    "$HAK" trace -o ops.trace -- "./$1" 1 2>/dev/null || fail "tracing $1 1 failed"
}
