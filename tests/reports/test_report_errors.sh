#!/usr/bin/env bash
# hak report / plot / diff on bad input: a missing file, an SQLite file of something else, an empty
# run database, an unknown run id, a bad flag — one line on stderr and a non-zero exit, never a
# crash; an interrupted run is reported with a note saying so.
source "$(dirname "$0")/lib.sh"

expect_error() { # STATUS WHAT CMD...: the command exits STATUS with one line on stderr
    local want=$1 what=$2 rc=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [[ $rc -eq $want ]] || { cat "$WORK/err"; fail "$what: exit $rc, expected $want"; }
    expect_one_line "$WORK/err" "$what"
}

for verb in report plot diff; do
    extra=()
    [[ $verb == plot ]] && extra=(-o "$WORK/charts")
    expect_error 1 "$verb of a missing file" "$HAK" "$verb" "$WORK/nope.db" "${extra[@]}"
    grep -q "no such file" "$WORK/err" || fail "$verb: missing file not named as such"
done

sqlite3 "$WORK/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
expect_error 1 "report of a foreign SQLite file" "$HAK" report "$WORK/other.db"
grep -q "not a hak run database" "$WORK/err" || fail "foreign file not named as such"
echo "plain text" >"$WORK/text.db"
expect_error 1 "report of a text file" "$HAK" report "$WORK/text.db"
: >"$WORK/zero.db"
expect_error 1 "report of an empty file" "$HAK" report "$WORK/zero.db"
grep -q "empty" "$WORK/err" || fail "empty file not named as such"

# A run database with the schema but no runs (made from a real one).
make_db "$WORK/real.db" hakmem
sqlite3 "$WORK/real.db" .schema | grep -v '^CREATE TABLE sqlite_' | sqlite3 "$WORK/norun.db"
sqlite3 "$WORK/norun.db" "PRAGMA user_version = $(sql "$WORK/real.db" 'PRAGMA user_version')"
expect_error 1 "report of a database without runs" "$HAK" report "$WORK/norun.db"
grep -q "no runs" "$WORK/err" || fail "database without runs not named as such"
expect_error 1 "diff of a database without runs" "$HAK" diff "$WORK/norun.db" "$WORK/real.db"

expect_error 1 "unknown run id" "$HAK" report "$WORK/real.db" --run 999
grep -q "no run 999" "$WORK/err" || fail "unknown run id not named"
expect_error 2 "bad --run" "$HAK" report "$WORK/real.db" --run abc
expect_error 2 "unknown flag" "$HAK" report "$WORK/real.db" --bogus
expect_error 2 "plot without -o" "$HAK" plot "$WORK/real.db"
expect_error 2 "bad --fail-if-worse" "$HAK" diff "$WORK/real.db" "$WORK/real.db" --fail-if-worse x

# An interrupted recording: reported, with a note, not a crash.
"$HAK" record -q -o "$WORK/int.db" --alloc hakmem -- "$BIN/battle" --threads=2 --cycles=1 \
    --working_set=4M --idle_ms=20000 >"$WORK/int.log" 2>&1 &
rec=$!
for _ in $(seq 100); do
    [[ $(sql "$WORK/int.db" "SELECT count(*) FROM phases WHERE name = 'idle'" 2>/dev/null || echo 0) -gt 0 ||
        $(sql "$WORK/int.db" "SELECT count(*) FROM phases WHERE name = 'free'" 2>/dev/null || echo 0) -gt 0 ]] && break
    sleep 0.1
done
kill -INT "$rec"
wait "$rec" || true
[[ $(sql "$WORK/int.db" "SELECT state FROM runs") == interrupted ]] || fail "run not recorded as interrupted"
"$HAK" report "$WORK/int.db" >"$WORK/int.md" 2>"$WORK/int.err" || {
    cat "$WORK/int.err"
    fail "report of an interrupted run failed"
}
grep -q "is interrupted" "$WORK/int.md" || fail "report does not say the run was interrupted"
grep -qF "| baseline |" "$WORK/int.md" || fail "report of the interrupted run lacks its baseline"
"$HAK" plot "$WORK/int.db" -o "$WORK/int-charts" >/dev/null 2>"$WORK/int-plot.err" || {
    cat "$WORK/int-plot.err"
    fail "plot of an interrupted run failed"
}
echo PASS
