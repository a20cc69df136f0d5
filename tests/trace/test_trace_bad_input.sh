#!/usr/bin/env bash
# Bad traces give one line naming the problem, never a crash: truncated (the torn tail is dropped
# with a note), corrupt (a checksum mismatch names the chunk), a newer format version, not a trace;
# a crashing program's trace stays readable; a free the trace never saw allocated is named.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
build_traced_ops
cd "$WORK" || fail "no scratch folder"

# one_line_from WHAT EXPECTED_RC CMD...: the command exits EXPECTED_RC with exactly one stderr line
# matching the pattern in $pattern.
one_line_from() {
    local what=$1 want_rc=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local rc=$?
    [[ $rc == "$want_rc" ]] || fail "$what: exit $rc, wanted $want_rc ($(cat err.txt))"
    [[ $(wc -l <err.txt) == 1 ]] || fail "$what: wanted one line on stderr, got: $(cat err.txt)"
    grep -qE "$pattern" err.txt || fail "$what: '$(cat err.txt)' does not say /$pattern/"
}

"$HAK" trace -o crash.trace -- ./traced_ops crash 2>/dev/null
[[ $? -gt 128 ]] || fail "the crashing program did not crash"
mallocs=$(info_count crash.trace malloc)
[[ $mallocs -ge 10000 ]] || fail "the crashed program's trace holds $mallocs mallocs, wanted the flushed ones (>= 10000 of 20000)"

size=$(stat -c %s crash.trace)
head -c $((size - 100)) crash.trace >cut.trace
pattern='cut.trace: chunk [0-9]+ at byte [0-9]+: payload .*torn'
one_line_from "truncated, info" 0 "$HAK" trace info cut.trace
pattern='note: cut.trace: chunk'
one_line_from "truncated, replay" 0 "$REPLAY" cut.trace

cp crash.trace bad.trace
printf '\xff\xff\xff' | dd of=bad.trace bs=1 seek=$((size / 2)) conv=notrunc status=none
pattern='bad.trace: chunk [0-9]+ at byte [0-9]+: checksum mismatch'
one_line_from "corrupt" 0 "$HAK" trace info bad.trace
one_line_from "corrupt, replay" 0 "$REPLAY" bad.trace

cp crash.trace new.trace
printf '\x63' | dd of=new.trace bs=1 seek=8 conv=notrunc status=none
pattern='new.trace: trace format version 99 is newer'
one_line_from "newer version" 1 "$HAK" trace info new.trace
one_line_from "newer version, replay" 1 "$REPLAY" new.trace

echo "hello" >text.trace
pattern='text.trace: not a hak allocation trace'
one_line_from "not a trace" 1 "$HAK" trace info text.trace

"$HAK" trace -o ops.trace -- ./traced_ops 1 2>/dev/null || fail "tracing traced_ops failed"
pattern='record [0-9]+ \(thread [0-9]+, seq [0-9]+\): free\(0x[0-9a-f]+\) of a block the trace never allocated'
one_line_from "unknown free" 0 "$REPLAY" ops.trace.*
echo PASS
