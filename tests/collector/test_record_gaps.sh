#!/usr/bin/env bash
# No silent loss: a recording whose sampling stopped for longer than a few intervals (here the
# recorder itself is stopped with SIGSTOP while the command runs) is flagged in runs.note, in the
# summary line (even with -q) and in the report; the ticks it did handle still all have samples.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

db=$WORK/gaps.db
"$HAK" record -q -o "$db" -- sh -c "touch $WORK/up; while [ ! -e $WORK/end ]; do sleep 0.02; done" 2>"$WORK/err" &
rec=$!
wait_file "$WORK/up"
kill -STOP "$rec"
sleep 0.6 # the gap: 60 intervals without a sample
kill -CONT "$rec"
sleep 0.1
touch "$WORK/end"
wait "$rec" || fail "hak record failed"
cat "$WORK/err"
sql "$db" "SELECT gaps, longest_gap_ms, note FROM runs"
[[ $(sql "$db" "SELECT gaps >= 1 AND longest_gap_ms >= 500 FROM runs") == 1 ]] || fail "the gap was not counted"
sql "$db" "SELECT note FROM runs" | grep -q "sampling gaps" || fail "runs.note does not flag the gap"
grep -q "INCOMPLETE" "$WORK/err" || fail "the summary line does not flag the gap"
"$HAK" report "$db" | grep -q "Incomplete recording" || fail "the report does not flag the gap"
[[ $(sql "$db" "SELECT count(*) FROM samples WHERE kind = 'timer'") -eq \
    $(sql "$db" "SELECT timer_ticks - timer_misses FROM runs") ]] || fail "timer samples != ticks - misses"
echo "PASS"
