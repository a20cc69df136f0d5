#!/usr/bin/env bash
# A command that execs (a shim such as env, a shell ending in exec) and a command that starts
# children are recorded as a whole: after the exec the full figures (smaps_rollup) are still read
# from the new image, and a sample's total includes every child running at that moment.  Nothing
# here waits a fixed time for the recorder: each command waits for files the test creates once
# the database shows what it needs.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[[ -x $PY ]] || skip "$PY is not installed"

# wait_for COND_CMD WHAT: polls a condition (bounded only so that a broken recorder fails).
wait_for() {
    for ((i = 0; i < 600; i++)); do
        eval "$1" && return 0
        sleep 0.05
    done
    fail "timed out waiting for $2"
}

# On any exit, a failed check included, the commands below are let go (the files they wait for
# created) and end on their own before lib.sh's finish removes WORK.
let_go() {
    touch "$WORK/exec-go" "$WORK/exec-end" "$WORK/kids-end" 2>/dev/null
    wait
    finish
}
trap let_go EXIT

# A program that holds MiB of memory until the file $2 exists, after creating $3.
hold() { # MIB GO READY
    echo "$PY -c 'import os,time; x=bytearray($1<<20); x[::4096]=b\"x\"*len(x[::4096]); open(\"$3\",\"w\").close()
while not os.path.exists(\"$2\"): time.sleep(0.01)'"
}

echo "== exec: a shell is sampled, then execs python holding 64 MiB"
db=$WORK/exec.db
"$HAK" record -q -o "$db" --max-cpu 100 -- sh -c \
    "while [ ! -e $WORK/exec-go ]; do sleep 0.02; done; exec $(hold 64 "$WORK/exec-end" "$WORK/exec-ready")" &
rec=$!
wait_for "[[ -f $db ]] && [[ \$(sql $db 'SELECT count(*) FROM samples' 2>/dev/null || echo 0) -ge 3 ]]" \
    "samples of the shell before its exec"
touch "$WORK/exec-go"
wait_for "[[ -e $WORK/exec-ready ]]" "python to hold its memory"
# Samples taken after the exec reached the database (they are committed every 250 ms).
ready_rows=$(sql "$db" "SELECT count(*) FROM samples")
wait_for "[[ \$(sql $db 'SELECT count(*) FROM samples') -ge $((ready_rows + 5)) ]]" "samples after the exec"
touch "$WORK/exec-end"
wait "$rec" || fail "hak record failed"
sql "$db" "SELECT state, samples, timer_ticks, timer_misses, execs, child_maxrss_kb FROM runs"
[[ $(sql "$db" "SELECT execs >= 1 FROM runs") == 1 ]] || fail "the exec was not noticed"
# The shell's own samples exist, and the rollup of the new image was read after the exec.
[[ $(sql "$db" "SELECT count(*) FROM process_samples WHERE comm = 'sh'") -ge 1 ]] ||
    fail "no sample of the shell before its exec"
peak=$(sql "$db" "SELECT max(rss_kb) FROM samples WHERE source IN ('rollup', 'smaps')")
maxrss=$(sql "$db" "SELECT child_maxrss_kb FROM runs")
echo "largest rollup sample $peak KiB, rusage peak $maxrss KiB"
[[ $peak -ge $((64 * 1024)) ]] || fail "no rollup of the exec'd image holding 64 MiB (largest $peak KiB)"
[[ $((peak * 100)) -ge $((maxrss * 90)) ]] || fail "largest sample $peak KiB is under 90% of the peak $maxrss KiB"
[[ $(sql "$db" "SELECT count(*) FROM samples WHERE kind = 'timer'") -eq \
    $(sql "$db" "SELECT timer_ticks - timer_misses FROM runs") ]] || fail "timer samples != ticks - misses"

echo "== children: sh -c 'A & B; wait' holding 40 and 24 MiB at once"
db=$WORK/children.db
"$HAK" record -q -o "$db" -- sh -c \
    "$(hold 40 "$WORK/kids-end" "$WORK/a-ready") & $(hold 24 "$WORK/kids-end" "$WORK/b-ready"); wait" &
rec=$!
wait_for "[[ -e $WORK/a-ready && -e $WORK/b-ready ]]" "both children to hold their memory"
ready_rows=$(sql "$db" "SELECT count(*) FROM samples")
wait_for "[[ \$(sql $db 'SELECT count(*) FROM samples') -ge $((ready_rows + 5)) ]]" "samples with both children"
touch "$WORK/kids-end"
wait "$rec" || fail "hak record failed"
sql "$db" "SELECT pid, comm, max(rss_kb) FROM process_samples GROUP BY pid, comm"
both=$(sql "$db" "SELECT max(rss_kb) FROM samples WHERE processes >= 3")
echo "largest total over the shell and both children: ${both:-none} KiB"
[[ -n $both && $both -ge $(((40 + 24) * 1024)) ]] || fail "no sample whose total holds both children (${both:-none} KiB)"
# The total of a sample is the sum of its processes.
bad=$(sql "$db" "SELECT count(*) FROM samples s WHERE s.processes IS NOT NULL AND s.rss_kb !=
    (SELECT sum(p.rss_kb) FROM process_samples p WHERE p.run_id = s.run_id AND p.sample_seq = s.seq)")
[[ $bad -eq 0 ]] || fail "$bad samples whose total is not the sum of their processes"
[[ $(sql "$db" "SELECT count(*) FROM samples WHERE kind = 'timer'") -eq \
    $(sql "$db" "SELECT timer_ticks - timer_misses FROM runs") ]] || fail "timer samples != ticks - misses"
"$HAK" report "$db" | grep -q "program images" || fail "the report does not list the processes"
echo "PASS"
