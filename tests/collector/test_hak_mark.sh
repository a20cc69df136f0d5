#!/usr/bin/env bash
# hak mark from a shell script under hak record: each mark is stored in order with a snapshot taken
# before the mark returned, --live and --value reach the database, marks of several hak mark
# processes never collide, and the run keeps its own name.  Outside a recording, and on bad
# arguments, one line and a non-zero exit.  The Python snippet of docs/phase-protocol.md works too.
source "$(dirname "$0")/lib.sh"

db=$WORK/marks.db
cat >"$WORK/script.sh" <<SH
#!/bin/sh
"$HAK" mark baseline
"$HAK" mark burst --live 4096 --value ops_per_sec=1234.5
"$HAK" mark idle
SH
chmod +x "$WORK/script.sh"
"$HAK" record -q -o "$db" -- "$WORK/script.sh" || fail "hak record of a script with hak mark failed"
marks=$(sql "$db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM phases WHERE run_id = 1 ORDER BY seq)")
[[ $marks == "baseline burst idle" ]] || fail "marks stored: '$marks'"
[[ $(sql "$db" "SELECT count(*) FROM phases WHERE run_id = 1 AND sample_seq IS NOT NULL AND acked = 1") -eq 3 ]] ||
    fail "not every mark has an acknowledged snapshot"
[[ $(sql "$db" "SELECT live_bytes FROM phases WHERE name = 'burst'") -eq 4096 ]] || fail "--live not stored"
[[ $(sql "$db" "SELECT value FROM results WHERE key = 'ops_per_sec'") == 1234.5 ]] || fail "--value not stored"
[[ -z $(sql "$db" "SELECT ifnull(bench_reported, '') FROM runs WHERE run_id = 1") ]] ||
    fail "hak mark's hello renamed the run"
"$HAK" report "$db" >"$WORK/report.md" || fail "hak report failed"
grep -q "^| baseline | [0-9]" "$WORK/report.md" || fail "the report has no baseline figures from the marks"

echo "== the Python snippet of docs/phase-protocol.md"
awk '/^```python$/ { on = 1; next } /^```$/ { on = 0 } on' "$TEST_ROOT/docs/phase-protocol.md" >"$WORK/hakphase.py"
[[ -s $WORK/hakphase.py ]] || fail "no python snippet in docs/phase-protocol.md"
printf 'import hakphase\nhakphase.mark("baseline")\nx = bytearray(8 << 20)\nhakphase.mark("burst", live_bytes=len(x))\n' >"$WORK/prog.py"
(cd "$WORK" && "$HAK" record -q -o "$WORK/py.db" -- python3 prog.py) || fail "hak record of the python program failed"
[[ $(sql "$WORK/py.db" "SELECT group_concat(name || ':' || acked || ':' || ifnull(live_bytes, ''), ' ') FROM (SELECT * FROM phases ORDER BY seq)") == "baseline:1: burst:1:8388608" ]] ||
    fail "the python snippet's marks: $(sql "$WORK/py.db" "SELECT name, acked, live_bytes FROM phases")"

echo "== errors"
expect_fail 1 "outside a recording" env -u HAK_PHASE_FD "$HAK" mark idle
grep -q "not running under hak record" "$WORK/err" || fail "outside a recording: not said so"
expect_fail 1 "a closed descriptor" env HAK_PHASE_FD=97 "$HAK" mark idle
expect_fail 2 "no name" "$HAK" mark
expect_fail 2 "a bad name" "$HAK" mark "two words"
expect_fail 2 "two names" "$HAK" mark a b
expect_fail 2 "a bad --value" "$HAK" mark a --value ops
expect_fail 2 "a bad --live" "$HAK" mark a --live lots
expect_fail 2 "an unknown option" "$HAK" mark a --bogus
echo ok
