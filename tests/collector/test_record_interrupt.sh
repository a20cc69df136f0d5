#!/usr/bin/env bash
# SIGINT (and SIGTERM) to hak record in the middle of a run: the command is stopped, everything
# sampled up to the signal is committed, the database passes PRAGMA integrity_check, and the run
# row says "interrupted" (not completed).  A command that crashes is recorded with its signal.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"

# A battle run that would last minutes: 1000 cycles of 100 ms idle.
args=(--threads=2 --cycles=1000 --working_set=4M --churn=500 --idle_ms=100)

for sig in INT TERM; do
    echo "== SIG$sig after 1.5 s"
    db=$WORK/interrupt-$sig.db
    "$HAK" record -o "$db" --alloc hakmem -- "$BIN/battle" "${args[@]}" >"$WORK/out" 2>"$WORK/err" &
    rec=$!
    sleep 1.5
    kill -"$sig" "$rec"
    rc=0
    wait "$rec" || rc=$?
    cat "$WORK/err"
    want=$((128 + $(kill -l "$sig")))
    [[ $rc -eq $want ]] || fail "hak record exited $rc after SIG$sig, expected $want"
    grep -q "interrupted by signal" "$WORK/err" || fail "no line saying the run was interrupted"

    [[ $(sql "$db" "PRAGMA integrity_check") == ok ]] || fail "integrity_check failed"
    row=$(sql "$db" "SELECT state, completed, ifnull(exit_code, '-'), term_signal FROM runs")
    echo "run: $row"
    [[ $row == "interrupted|0|-|15" ]] || fail "run row: $row (expected interrupted, the command stopped by SIGTERM)"
    pid=$(sql "$db" "SELECT pid FROM runs")
    ! kill -0 "$pid" 2>/dev/null || fail "the command (pid $pid) still runs"
    [[ ! -e /dev/shm/hakmem-$pid.seg ]] || fail "the stopped command's counter segment was left in /dev/shm"

    # Samples up to the signal: the timer ran the whole 1.5 s, marks were snapshotted.
    read -r n first last < <(sql "$db" "SELECT count(*), min(t_ns), max(t_ns) FROM samples WHERE kind != 'exit'" | tr '|' ' ')
    marks=$(sql "$db" "SELECT count(*) FROM phases WHERE sample_seq IS NOT NULL")
    stored=$(sql "$db" "SELECT samples FROM runs")
    echo "$n samples from $((first / 1000000)) ms to $((last / 1000000)) ms, $marks marks with snapshots"
    [[ $n -ge 50 ]] || fail "only $n samples in 1.5 s at a 10 ms interval"
    [[ $last -ge 1300000000 ]] || fail "the last sample is at $((last / 1000000)) ms, the signal came at 1500 ms"
    [[ $marks -ge 10 ]] || fail "only $marks marks have snapshots"
    [[ $stored -eq $((n + 1)) ]] || fail "the run row counts $stored samples, the table holds $n + 1 exit snapshot"
done

echo "== a command that crashes"
db=$WORK/crash.db
rc=0
"$HAK" record -o "$db" -- sh -c 'kill -SEGV $$' 2>"$WORK/err" || rc=$?
cat "$WORK/err"
[[ $rc -eq 139 ]] || fail "hak record exited $rc for a command killed by SIGSEGV, expected 139"
grep -q 'killed by signal 11' "$WORK/err" || fail "no line naming the signal"
row=$(sql "$db" "SELECT state, completed, term_signal FROM runs")
[[ $row == "crashed|0|11" ]] || fail "run row: $row"

echo "== a command that fails"
rc=0
"$HAK" record -q -o "$db" -- sh -c 'exit 3' || rc=$?
[[ $rc -eq 3 ]] || fail "hak record exited $rc, the command 3"
row=$(sql "$db" "SELECT state, completed, exit_code FROM runs WHERE run_id = 2")
[[ $row == "failed|1|3" ]] || fail "run row: $row"
echo "ok"
