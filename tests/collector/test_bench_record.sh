#!/usr/bin/env bash
# hak bench -o DB records every allocator x repetition of a profile into one database through the
# same recorder as hak record: one session, interleaved runs, each with its phase snapshots, the
# benchmark's results (from the phase protocol and from its result line) and the profile's
# parameters.  A second session appends to the same file.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"

db=$WORK/bench.db
set_args=(--set runtime=1 --set blocks=500 --set rounds=10 --set working_set=4M --set churn=500 --set idle_ms=10)
"$HAK" bench quick --alloc hakmem,glibc --repeat 2 -o "$db" "${set_args[@]}" >"$WORK/out" 2>"$WORK/err" ||
    { cat "$WORK/out" "$WORK/err"; fail "hak bench -o failed"; }
cat "$WORK/err" "$WORK/out"
grep -q "8 runs recorded in $db" "$WORK/err" || fail "no line saying where the runs went"

echo "-- runs"
sql "$db" "SELECT run_id, session, profile, bench, allocator, rep, state, samples FROM runs"
[[ $(sql "$db" "SELECT count(*), count(DISTINCT session) FROM runs") == "8|1" ]] || fail "expected 8 runs in one session"
[[ $(sql "$db" "SELECT count(*) FROM runs WHERE state = 'completed' AND completed = 1 AND profile = 'quick'") -eq 8 ]] ||
    fail "not every run completed"
# Interleaved as hak bench runs them: per repetition, per benchmark, the allocators in rotation.
order=$(sql "$db" "SELECT group_concat(bench || ':' || allocator || ':' || rep, ' ') FROM (SELECT * FROM runs ORDER BY run_id)")
want="larson:hakmem:1 larson:glibc:1 battle:hakmem:1 battle:glibc:1 larson:glibc:2 larson:hakmem:2 battle:glibc:2 battle:hakmem:2"
[[ $order == "$want" ]] || fail "run order: $order"
params=$(sql "$db" "SELECT params FROM runs WHERE bench = 'larson' LIMIT 1")
[[ $params == *"runtime=1 "*"blocks=500 "* ]] || fail "larson parameters recorded as: $params"

echo "-- marks and results"
bad=$(sql "$db" "SELECT count(*) FROM phases WHERE sample_seq IS NULL")
[[ $bad -eq 0 ]] || fail "$bad marks without a snapshot"
larson_marks=$(sql "$db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM phases WHERE run_id = 1 ORDER BY seq)")
[[ $larson_marks == "baseline warmup burst free" ]] || fail "larson marks: $larson_marks"
battle_marks=$(sql "$db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM phases WHERE run_id = 3 ORDER BY seq)")
[[ $battle_marks == "baseline burst free idle flush end" ]] || fail "battle marks: $battle_marks"
# ops_per_sec arrives twice: through the phase protocol and in the result line; they agree.
disagree=$(sql "$db" "SELECT count(*) FROM results p JOIN results l ON l.run_id = p.run_id AND l.key = p.key
    WHERE p.key = 'ops_per_sec' AND p.source = 'phase' AND l.source = 'result_line' AND p.value != l.value")
with_both=$(sql "$db" "SELECT count(DISTINCT run_id) FROM results WHERE key = 'ops_per_sec'")
[[ $with_both -eq 8 && $disagree -eq 0 ]] || fail "ops_per_sec: $with_both runs with results, $disagree disagree"
[[ $(sql "$db" "SELECT count(*) FROM results WHERE key = 'rss_flush_kb' AND source = 'result_line'") -eq 4 ]] ||
    fail "battle's rss_flush_kb is missing from the results"
[[ $(sql "$db" "SELECT count(DISTINCT run_id) FROM counters") -eq 4 ]] || fail "counters recorded for other than the 4 hakmem runs"

echo "-- a second session appends"
"$HAK" bench quick --alloc glibc -o "$db" -q "${set_args[@]}" >/dev/null 2>&1 || fail "second hak bench -o failed"
[[ $(sql "$db" "SELECT count(*), count(DISTINCT session) FROM runs") == "10|2" ]] || fail "the second session did not append"
[[ $(sql "$db" "PRAGMA integrity_check") == ok ]] || fail "integrity_check"

echo "-- SIGINT in the middle of a session"
"$HAK" bench quick --alloc hakmem,glibc --repeat 3 -o "$WORK/int.db" "${set_args[@]}" >"$WORK/int.out" 2>&1 &
bench=$!
# Wait for the first recorded run to finish, then interrupt the session.
for _ in $(seq 1 100); do
    [[ $(sqlite3 "$WORK/int.db" "SELECT count(*) FROM runs WHERE state = 'completed'" 2>/dev/null || echo 0) -ge 1 ]] && break
    sleep 0.1
done
kill -INT "$bench"
rc=0
wait "$bench" || rc=$?
tail -n 3 "$WORK/int.out"
[[ $rc -eq 130 ]] || fail "hak bench -o exited $rc after SIGINT, expected 130"
grep -q "interrupted after .* runs; recorded so far" "$WORK/int.out" || fail "no line saying the session was interrupted"
[[ $(sql "$WORK/int.db" "PRAGMA integrity_check") == ok ]] || fail "integrity_check after SIGINT"
sql "$WORK/int.db" "SELECT run_id, bench, allocator, state FROM runs"
[[ $(sql "$WORK/int.db" "SELECT count(*) FROM runs WHERE state NOT IN ('completed', 'interrupted')") -eq 0 ]] ||
    fail "runs other than completed and interrupted"
[[ $(sql "$WORK/int.db" "SELECT count(*) FROM runs WHERE state = 'interrupted'") -le 1 ]] || fail "more than one run interrupted"
[[ $(sql "$WORK/int.db" "SELECT count(*) FROM runs") -lt 12 ]] || fail "the session ran to its end after SIGINT"

echo "-- bad inputs"
rc=0
"$HAK" bench quick --alloc glibc -o "$db" --events bogus-event >/dev/null 2>"$WORK/err" || rc=$?
expect_one_line "$WORK/err" "unknown event"
[[ $rc -eq 2 ]] || fail "unknown event: exit $rc, expected 2"
echo "garbage" >"$WORK/bad.db"
rc=0
"$HAK" bench quick --alloc glibc -o "$WORK/bad.db" >/dev/null 2>"$WORK/err" || rc=$?
expect_one_line "$WORK/err" "bad database"
[[ $rc -eq 1 ]] || fail "bad database: exit $rc, expected 1"
echo "ok"
