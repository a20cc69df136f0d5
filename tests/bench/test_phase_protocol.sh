#!/usr/bin/env bash
# The phase protocol (docs/phase-protocol.md), benchmark side:
#  - without a collector the benchmarks run unchanged, and a bad HAK_PHASE_FD only warns;
#  - with one, marks and results arrive in order, with live_bytes equal to what the benchmark
#    prints, and results equal to its result line;
#  - with an ack descriptor every mark waits for its acknowledgement: the benchmark is seen
#    blocked on the ack descriptor with nothing sent after the mark, and goes on once acked;
#  - a collector that never acknowledges, or goes away, does not stop or kill the benchmark.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

battle_args=(--threads=2 --cycles=1 --working_set=4M --churn=1000 --idle_ms=0)
larson_args=(--runtime=1 --blocks=500 --rounds=10 --threads=2)

echo "== no collector"
env -u HAK_PHASE_FD -u HAK_PHASE_ACK_FD "$BIN/battle" "${battle_args[@]}" >"$WORK/plain.out" 2>"$WORK/plain.err" ||
    fail "battle without a collector failed"
[[ ! -s $WORK/plain.err ]] || { cat "$WORK/plain.err"; fail "battle without a collector wrote to stderr"; }

echo "== HAK_PHASE_FD names a closed descriptor"
HAK_PHASE_FD=97 "$BIN/battle" "${battle_args[@]}" >"$WORK/bad.out" 2>"$WORK/bad.err" ||
    fail "battle with HAK_PHASE_FD=97 failed"
cat "$WORK/bad.err"
grep -q 'HAK_PHASE_FD=97 is not an open descriptor; phase protocol disabled' "$WORK/bad.err" ||
    fail "no warning for a closed HAK_PHASE_FD"

echo "== collector without acks (battle)"
HAK_PHASE_FD=5 "$BIN/battle" "${battle_args[@]}" >"$WORK/async.out" 5>"$WORK/async.log" ||
    fail "battle with a collector failed"
cat "$WORK/async.log"
[[ $(head -n1 "$WORK/async.log") =~ ^hello\ 1\ pid=[0-9]+\ bench=battle\ ack=0$ ]] ||
    fail "first message is not the hello"
marks=$(awk '$1 == "mark" { printf "%s ", $4 }' "$WORK/async.log")
[[ $marks == "baseline burst free idle flush end " ]] || fail "marks arrived as: $marks"
awk 'NR > 1 && $2 != prev + 1 { bad = 1 } NR > 1 { prev = $2 } NR == 2 && $2 != 1 { bad = 1 }
     END { exit bad }' "$WORK/async.log" || fail "sequence numbers are not 1, 2, 3, ..."
# live_bytes of each mark equals the benchmark's own phase line.
paste -d' ' <(awk '$1 == "mark" { print $4, $5 }' "$WORK/async.log") \
    <(awk '$1 == "phase" { print $3, $5 }' "$WORK/async.out") |
    while read -r m_name m_live p_name p_live; do
        [[ "name=$m_name" == "$p_name" && "$m_live" == "$p_live" ]] ||
            fail "mark $m_name $m_live does not match phase line $p_name $p_live"
    done
ops_msg=$(awk '$1 == "result" && $4 == "ops_per_sec" { print $5 }' "$WORK/async.log")
ops_out=$(field ops_per_sec "$(grep '^result ' "$WORK/async.out")")
[[ -n $ops_msg && $ops_msg == "$ops_out" ]] || fail "ops_per_sec result $ops_msg != result line $ops_out"

echo "== collector without acks (larson)"
HAK_PHASE_FD=5 "$BIN/larson" "${larson_args[@]}" >"$WORK/larson.out" 5>"$WORK/larson.log" ||
    fail "larson with a collector failed"
cat "$WORK/larson.log"
marks=$(awk '$1 == "mark" { printf "%s ", $4 }' "$WORK/larson.log")
[[ $marks == "baseline warmup burst free " ]] || fail "larson marks arrived as: $marks"
ops_msg=$(awk '$1 == "result" && $4 == "ops_per_sec" { print $5 }' "$WORK/larson.log")
ops_out=$(field ops_per_sec "$(grep '^result ' "$WORK/larson.out")")
[[ -n $ops_msg && $ops_msg == "$ops_out" ]] || fail "larson ops_per_sec result $ops_msg != $ops_out"

echo "== collector with acks: every mark waits"
# blocked_in_poll PID: a thread of PID sleeps in poll/ppoll (syscalls 7 and 271 on x86-64, 73 and
# 414 on arm64) -- where the benchmark waits for an ack.
blocked_in_poll() {
    local f nr
    for f in /proc/"$1"/task/*/syscall; do
        read -r nr _ <"$f" 2>/dev/null || continue
        [[ $nr == 7 || $nr == 271 || $nr == 73 || $nr == 414 ]] && return 0
    done
    return 1
}
mkfifo "$WORK/marks" "$WORK/acks"
HAK_PHASE_FD=5 HAK_PHASE_ACK_FD=6 "$BIN/battle" "${battle_args[@]}" \
    5>"$WORK/marks" 6<"$WORK/acks" >"$WORK/sync.out" &
pid=$!
exec 7<"$WORK/marks" 8>"$WORK/acks"
trap '' PIPE # a benchmark that did not wait may be gone before its ack
while IFS= read -r line <&7; do
    echo "$line" >>"$WORK/sync.log"
    read -r kind seq _ <<<"$line"
    if [[ $kind == mark ]]; then
        # Order, not time: the benchmark must reach its wait with nothing sent after the mark.
        # The bound only keeps a benchmark that never waits from hanging the test.
        for ((i = 0; i < 600; i++)); do
            read -r -t 0 <&7 && break
            blocked_in_poll "$pid" && break
            sleep 0.05
        done
        blocked_in_poll "$pid" || echo "NOWAIT mark $seq: the benchmark never waited" >>"$WORK/sync.log"
        read -r -t 0 <&7 && echo "EARLY mark $seq: a message came before its ack" >>"$WORK/sync.log"
        echo "ack $seq" >&8 || true
    fi
done
exec 7<&- 8>&-
trap - PIPE
wait "$pid" || fail "battle with an acking collector failed"
cat "$WORK/sync.log"
head -n1 "$WORK/sync.log" | grep -q ' ack=1$' || fail "hello does not announce acks"
! grep -q '^NOWAIT\|^EARLY' "$WORK/sync.log" || fail "a mark did not wait for its acknowledgement"
[[ $(grep -c '^mark ' "$WORK/sync.log") -eq 6 ]] || fail "not every mark arrived"

echo "== collector that never acknowledges"
HAK_PHASE_FD=5 HAK_PHASE_ACK_FD=6 HAK_PHASE_ACK_TIMEOUT_MS=200 "$BIN/battle" "${battle_args[@]}" \
    5>/dev/null 6< <(sleep 3) >"$WORK/noack.out" 2>"$WORK/noack.err" || fail "battle with a silent collector failed"
cat "$WORK/noack.err"
grep -q "sent no acknowledgement in time for mark 'baseline'; marks no longer wait" "$WORK/noack.err" ||
    fail "no warning about the missing acknowledgement"
[[ $(grep -c 'acknowledgement' "$WORK/noack.err") -eq 1 ]] || fail "the timeout was reported more than once"

echo "== collector that goes away"
rc=0
HAK_PHASE_FD=5 "$BIN/larson" "${larson_args[@]}" 5> >(head -n1 >/dev/null) >"$WORK/gone.out" 2>"$WORK/gone.err" || rc=$?
cat "$WORK/gone.err"
[[ $rc -eq 0 ]] || fail "larson exited $rc when the collector went away (SIGPIPE must not kill it)"
grep -q '^result bench=larson ' "$WORK/gone.out" || fail "larson gave no result after the collector went away"
echo "ok"
