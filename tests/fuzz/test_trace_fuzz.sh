#!/usr/bin/env bash
# A short libFuzzer run of the allocation trace reader (tests/fuzz/trace.mk): the committed seeds
# of tests/fuzz/corpus/trace once, then FUZZ_TEST_SECONDS (default 10) of fuzzing.  A crash, a
# leak, undefined behaviour or a 5 s hang fails the test; the input is kept in build/fuzz/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

make -s fuzz-trace-build FUZZ_CC="$CC_FUZZ" || fail "the trace fuzz harness does not build"
build/fuzz/trace_fuzz -runs=0 -timeout=5 tests/fuzz/corpus/trace >"$WORK/replay.log" 2>&1 || {
    tail -n 30 "$WORK/replay.log"
    fail "a committed input fails again"
}
build/fuzz/trace_fuzz -max_total_time="${FUZZ_TEST_SECONDS:-10}" -timeout=5 \
    -artifact_prefix=build/fuzz/trace- "$WORK" tests/fuzz/corpus/trace >"$WORK/fuzz.log" 2>&1 || {
    tail -n 30 "$WORK/fuzz.log"
    fail "the fuzzer found an input that breaks the trace reader (kept in build/fuzz/)"
}
grep -E '^#[0-9]+ +DONE' "$WORK/fuzz.log" || true
echo PASS
