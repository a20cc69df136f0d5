#!/usr/bin/env bash
# SIGINT (and SIGTERM) to hak record in the middle of a run: the command is stopped, everything
# sampled up to the signal is committed, the database passes PRAGMA integrity_check, and the run
# row says "interrupted" (not completed), and every tick of the sampling timer up to the signal left
# its sample.  The signal is sent once ten marks are in the database, not after a fixed time, and
# nothing here depends on how fast the machine is.  A command that crashes is recorded with its signal.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"

# A battle run that would last minutes: 1000 cycles of 100 ms idle.
args=(--threads=2 --cycles=1000 --working_set=4M --churn=500 --idle_ms=100)

for sig in INT TERM; do
    echo "== SIG$sig once ten marks are committed"
    db=$WORK/interrupt-$sig.db
    "$HAK" record -o "$db" --alloc hakmem -- "$BIN/battle" "${args[@]}" >"$WORK/out" 2>"$WORK/err" &
    rec=$!
    # Waits for the run's tenth mark snapshot (the run would last minutes); the bound only keeps a
    # broken collector from hanging the test.
    for ((i = 0; i < 600; i++)); do
        committed=0
        [[ -f $db ]] && committed=$(sql "$db" "SELECT count(*) FROM phases WHERE sample_seq IS NOT NULL" 2>/dev/null || echo 0)
        [[ ${committed:-0} -ge 10 ]] && break
        kill -0 "$rec" 2>/dev/null || break
        sleep 0.1
    done
    [[ ${committed:-0} -ge 10 ]] || { kill -KILL "$rec"; fail "ten marks never reached the database"; }
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
    # Samples up to the signal: one per tick of the collector's own timer, and the marks'.
    n=$(sql "$db" "SELECT count(*) FROM samples WHERE kind != 'exit'")
    timer=$(sql "$db" "SELECT count(*) FROM samples WHERE kind = 'timer'")
    ticks=$(sql "$db" "SELECT timer_ticks FROM runs")
    misses=$(sql "$db" "SELECT timer_misses FROM runs")
    marks=$(sql "$db" "SELECT count(*) FROM phases WHERE sample_seq IS NOT NULL")
    stored=$(sql "$db" "SELECT samples FROM runs")
    between=$(sql "$db" "SELECT count(*) FROM samples WHERE kind = 'timer' AND
        t_ns > (SELECT min(t_ns) FROM phase_samples) AND t_ns < (SELECT max(t_ns) FROM phase_samples)")
    echo "$n samples: $timer from $ticks timer ticks, $misses missed ($between between the first and last mark), $marks marks with snapshots"
    [[ $marks -ge 10 ]] || fail "only $marks marks have snapshots"
    # Every tick that could read the process left a sample, and most ticks could.
    [[ $ticks -ge 1 && $timer -eq $((ticks - misses)) ]] ||
        fail "$timer timer samples stored for $ticks timer ticks of which $misses missed the process"
    [[ $((misses * 4)) -le $((ticks + 8)) ]] || fail "$misses of $ticks timer ticks could not read the process"
    [[ $between -ge 1 ]] || fail "no timer sample between the marks: the timer stopped while the command ran"
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
