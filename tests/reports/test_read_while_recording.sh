#!/usr/bin/env bash
# Reading a run database while hak record is still writing it: hak runs, report (Markdown and
# JSON), export and plot answer from what is committed, never block the recorder, and the
# recording still completes whole (every mark, state completed).
# shellcheck source=tests/reports/lib.sh
source "$(dirname "$0")/lib.sh"

db=$WORK/live.db
# A battle run with a long idle window, so the readers below run while it is recorded.
"$HAK" record -q -o "$db" --alloc hakmem -- "$BIN/battle" --threads=2 --cycles=2 --working_set=4M \
    --churn=500 --idle_ms=800 >"$WORK/record.log" 2>&1 &
rec=$!
# Wait (without a deadline of our own: tests/run.sh has one) for the first burst mark.
until [[ -f $db ]] && [[ $(sqlite3 "file:$db?mode=ro" "SELECT count(*) FROM phases WHERE name = 'burst'" 2>/dev/null || echo 0) -ge 1 ]]; do
    kill -0 $rec 2>/dev/null || break
    sleep 0.05
done

"$HAK" runs "$db" >"$WORK/runs.txt" || fail "hak runs failed on a database being written"
"$HAK" report "$db" >"$WORK/report.md" || fail "hak report failed on a database being written"
"$HAK" report "$db" --json >"$WORK/report.json" || fail "hak report --json failed on a database being written"
python3 -m json.tool "$WORK/report.json" >/dev/null || fail "hak report --json wrote invalid JSON mid-recording"
"$HAK" export "$db" --csv "$WORK/csv" || fail "hak export failed on a database being written"
[[ -s $WORK/csv/runs.csv ]] || fail "hak export wrote no runs.csv"
"$HAK" plot "$db" -o "$WORK/charts" >/dev/null 2>"$WORK/plot.err" ||
    grep -q "nothing to draw\|no run" "$WORK/plot.err" || fail "hak plot failed on a database being written: $(cat "$WORK/plot.err")"

wait $rec || {
    cat "$WORK/record.log"
    fail "the recording failed while others read its database"
}
[[ $(sql "$db" "SELECT state || ' ' || completed FROM runs") == "completed 1" ]] ||
    fail "the run is $(sql "$db" "SELECT state FROM runs") after the readers"
marks=$(sql "$db" "SELECT count(*) FROM phases WHERE sample_seq IS NOT NULL")
printed=$(grep -c '^phase ' "$WORK/record.log")
[[ $printed -ge 10 && $marks -eq $printed ]] || fail "$marks marks with snapshots stored, the benchmark made $printed"
[[ ! -e $db-wal && ! -e $db-shm ]] || fail "WAL files were left beside the database"
echo "ok: readers ran during the recording; $marks marks stored"
