#!/usr/bin/env bash
# A short libFuzzer run of the counter segment reader (segment_reader_fuzz.c): arbitrary bytes as
# a sealed segment must never crash the reader or make it touch memory it does not own.
# `make fuzz` runs the same harness for longer.  Skips where clang's libFuzzer is missing.
set -uo pipefail
# shellcheck source=../common/lib.sh
. "$(dirname "$0")/../common/lib.sh"

ROOT=${TEST_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${TEST_BUILD_DIR:-$ROOT/build}
SECONDS_TO_RUN=${FUZZ_TEST_SECONDS:-20}

command -v clang >/dev/null || skip "clang is not installed (scripts/install-deps.sh installs it)"
probe=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-fuzz.XXXXXX")
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
    >"$probe/probe.c"
clang -fsanitize=fuzzer "$probe/probe.c" -o "$probe/probe" 2>"$probe/err" ||
    skip "clang cannot link libFuzzer: $(head -n1 "$probe/err")"

make -s -C "$ROOT" BUILD="$BUILD_DIR" "$BUILD_DIR/fuzz/segment_reader_fuzz" >"$probe/build" 2>&1 ||
    fail "building the harness failed: $(tail -n3 "$probe/build")"
mkdir -p "$probe/corpus"
"$BUILD_DIR/fuzz/segment_reader_fuzz" -max_total_time="$SECONDS_TO_RUN" -timeout=10 \
    -rss_limit_mb=1024 "$probe/corpus" >"$probe/log" 2>&1
rc=$?
tail -n 5 "$probe/log"
[[ $rc -eq 0 ]] || { grep -m5 -E "ERROR|SUMMARY|runtime error" "$probe/log"; fail "the reader crashed on fuzzed input (exit $rc)"; }
grep -q "Done [0-9]* runs" "$probe/log" || fail "the fuzzer did not finish its run"
echo "ok"
