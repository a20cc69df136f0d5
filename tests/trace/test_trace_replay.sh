#!/usr/bin/env bash
# The replay makes the trace's operations: its peak of live bytes equals the trace's (strict
# order), and what it holds at the end equals what the program held, cross-thread frees included.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
build_traced_ops
cd "$WORK" || fail "no scratch folder"
"$HAK" trace -o ops.trace -- ./traced_ops 1 2>/dev/null || fail "tracing traced_ops failed"
peak=$(info_field ops.trace "peak live bytes")
final=$(info_field ops.trace "live bytes at the end")
[[ -n $peak && $peak -gt 0 ]] || fail "no peak live bytes in hak trace info"
for strict in 1 0; do
    line=$("$REPLAY" --strict=$strict ops.trace | grep '^result ') || fail "replay (strict=$strict) failed"
    [[ $(result_field "$line" live_bytes) == "$final" ]] ||
        fail "strict=$strict: replay holds $(result_field "$line" live_bytes) bytes at the end, the program held $final"
    [[ $strict == 0 || $(result_field "$line" peak_live_bytes) == "$peak" ]] ||
        fail "replay's peak live bytes $(result_field "$line" peak_live_bytes) != the trace's $peak"
done
# Under hakmem too (LD_PRELOAD), like any workload.
line=$(LD_PRELOAD=$BUILD/libhakmem.so "$REPLAY" --strict=1 ops.trace | grep '^result ') || fail "replay on hakmem failed"
[[ $(result_field "$line" alloc) == hakmem && $(result_field "$line" peak_live_bytes) == "$peak" ]] ||
    fail "replay on hakmem: $line"
# hak replay runs the same workload.
line=$("$HAK" replay --strict=1 ops.trace | grep '^result ') || fail "hak replay failed"
[[ $(result_field "$line" peak_live_bytes) == "$peak" ]] || fail "hak replay: $line"
echo PASS
