#!/usr/bin/env bash
# A short libFuzzer run of each reader of the toolkit's file formats (tests/fuzz/formats.mk):
# run databases, the phase protocol, /proc text, profiles.  First every committed input in
# tests/fuzz/corpus/NAME/ (each once a crash, hang or overflow, now fixed) runs once, then each
# harness fuzzes for FUZZ_TEST_SECONDS (default 10).  A crash, a leak, undefined behaviour or a
# 5 s hang fails the test; the input that did it is kept in build/fuzz/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

make -s fuzz-formats-build FUZZ_CC="$CC_FUZZ" || fail "the fuzz harnesses do not build"
SECONDS_EACH=${FUZZ_TEST_SECONDS:-10}
for f in rundb phase smaps profile; do
    seeds=(tests/fuzz/corpus/$f)
    [[ $f == profile ]] && seeds+=(datasets/profiles)
    mkdir -p "$WORK/$f"
    echo "== $f: committed inputs, then $SECONDS_EACH s of fuzzing"
    build/fuzz/${f}_fuzz -runs=0 -timeout=5 -close_fd_mask=3 -artifact_prefix=build/fuzz/$f- \
        "${seeds[@]}" >"$WORK/$f-replay.log" 2>&1 || {
        tail -n 30 "$WORK/$f-replay.log"
        fail "$f: a committed input fails again"
    }
    build/fuzz/${f}_fuzz -max_total_time="$SECONDS_EACH" -timeout=5 -close_fd_mask=3 \
        -artifact_prefix=build/fuzz/$f- "$WORK/$f" "${seeds[@]}" >"$WORK/$f.log" 2>&1 || {
        tail -n 30 "$WORK/$f.log"
        fail "$f: the fuzzer found an input that breaks the reader (kept in build/fuzz/)"
    }
    grep -E '^#[0-9]+ +DONE' "$WORK/$f.log" || true
done
echo PASS
