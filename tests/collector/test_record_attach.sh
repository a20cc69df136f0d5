#!/usr/bin/env bash
# hak record -p PID samples a process that is already running: until --duration ends (state
# detached) or until the process exits (state exited), with hakmem's counters when it runs on
# hakmem.  A pid that does not exist, or that belongs to another user, is one line on stderr, exit
# status 1, and a run row marked not_started that says why; the database stays consistent.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"
db=$WORK/attach.db


echo "== attach to a hakmem process for 0.3 s"
LD_PRELOAD=$LIBHAKMEM sh -c "touch $WORK/started; while [ ! -e $WORK/end ]; do sleep 0.02; done" &
target=$!
wait_file "$WORK/started"
"$HAK" record -o "$db" -p "$target" --duration 0.3 2>"$WORK/err" || fail "hak record -p failed: $(cat "$WORK/err")"
cat "$WORK/err"
kill -0 "$target" || fail "the attached process did not survive the recording"
row=$(sql "$db" "SELECT state, completed, attached, pid, samples FROM runs WHERE run_id = 1")
echo "run 1: $row"
[[ $row == "detached|1|1|$target|"* ]] || fail "run 1 is not a detached attached run of $target"
[[ $(sql "$db" "SELECT count(*) FROM samples WHERE run_id = 1 AND kind = 'timer'") -ge 1 ]] || fail "no samples"
[[ $(sql "$db" "SELECT count(*) FROM samples WHERE run_id = 1 AND kind = 'timer'") -eq \
    $(sql "$db" "SELECT timer_ticks - timer_misses FROM runs WHERE run_id = 1") ]] || fail "timer samples != ticks - misses"
[[ $(sql "$db" "SELECT count(*) FROM counter_names WHERE run_id = 1") -gt 0 ]] ||
    fail "hakmem's counters were not found through /proc/$target/fd"

echo "== the process exits while recorded"
"$HAK" record -o "$db" -p "$target" 2>"$WORK/err" &
rec=$!
for ((i = 0; i < 600; i++)); do
    [[ $(sql "$db" "SELECT count(*) FROM samples WHERE run_id = 2" 2>/dev/null || echo 0) -ge 1 ]] && break
    sleep 0.05
done
touch "$WORK/end"
wait "$target" || true
wait "$rec" || fail "hak record -p failed when the process exited"
cat "$WORK/err"
grep -q "exited while recorded" "$WORK/err" || fail "no line saying the process exited"
[[ $(sql "$db" "SELECT state, completed FROM runs WHERE run_id = 2") == "exited|1" ]] || fail "run 2 is not marked exited"

echo "== a pid that does not exist"
rc=0
"$HAK" record -o "$db" -p 4194303 2>"$WORK/err" || rc=$?
expect_one_line "$WORK/err" "missing pid"
[[ $rc -eq 1 ]] || fail "exit status $rc for a missing pid, expected 1"
grep -q "no such process" "$WORK/err" || fail "the line does not say the process does not exist"
[[ $(sql "$db" "SELECT state, completed FROM runs WHERE run_id = 3") == "not_started|0" ]] || fail "run 3 is not marked not_started"

echo "== another user's process"
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
    sleep 30 &
    mine=$!
    chmod 777 "$WORK"
    rc=0
    setpriv --reuid=65534 --regid=65534 --clear-groups "$HAK" record -o "$WORK/nobody.db" -p "$mine" 2>"$WORK/err" || rc=$?
    kill "$mine"
    expect_one_line "$WORK/err" "foreign pid"
    [[ $rc -eq 1 ]] || fail "exit status $rc for another user's pid, expected 1"
    grep -q "permission denied" "$WORK/err" || fail "the line does not say permission denied"
    [[ $(sql "$WORK/nobody.db" "SELECT state FROM runs") == not_started ]] || fail "the run is not marked not_started"
else
    echo "(not root, or no setpriv: the other-user case is not run)"
fi
[[ $(sql "$db" "PRAGMA integrity_check") == ok ]] || fail "integrity_check failed"

echo "== usage"
rc=0
"$HAK" record -o "$db" -p 1 -- true 2>"$WORK/err" || rc=$?
expect_one_line "$WORK/err" "-p with a command"
[[ $rc -eq 2 ]] || fail "-p with a command: exit $rc, expected 2"
echo "PASS"
