#!/usr/bin/env bash
# A command that forks 1,000 short-lived processes: the recorder follows what it catches of them,
# lets go of every one that ended (its descriptors are closed: the recorder holds as many as
# before the storm), and every timer tick is still accounted for (samples = ticks - misses).
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

db=$WORK/forks.db
fds_of() { ls "/proc/$1/fd" | wc -l; }
# The command waits on fifos, not in sleep loops: no children but the 1,000 come and go.
mkfifo "$WORK/go" "$WORK/end"

"$HAK" record -q -o "$db" -- sh -c "touch $WORK/up; read x <$WORK/go
i=0; while [ \$i -lt 1000 ]; do (exit 0) & i=\$((i + 1)); done; wait
touch $WORK/forked; read x <$WORK/end" &
rec=$!
wait_file "$WORK/up"
sleep 0.2 # a few ticks, so the shell's own files are open
before=$(fds_of "$rec")
echo >"$WORK/go"
wait_file "$WORK/forked"
# The forks have ended; the next scans drop them.  Wait for two more commits of samples.
rows=$(sql "$db" "SELECT count(*) FROM samples")
for ((i = 0; i < 600; i++)); do
    [[ $(sql "$db" "SELECT count(*) FROM samples") -ge $((rows + 30)) ]] && break
    sleep 0.05
done
after=$(fds_of "$rec")
echo >"$WORK/end"
wait "$rec" || fail "hak record failed"
echo "recorder descriptors: $before before the forks, $after after"
sql "$db" "SELECT samples, timer_ticks, timer_misses, processes, gaps, note FROM runs"
# A scan may hold /proc open at the moment of counting: one descriptor of slack.
[[ $after -le $((before + 1)) ]] || fail "the recorder holds $after descriptors after the forks, $before before: a leak"
[[ $(sql "$db" "SELECT count(*) FROM samples WHERE kind = 'timer'") -eq \
    $(sql "$db" "SELECT timer_ticks - timer_misses FROM runs") ]] || fail "timer samples != ticks - misses"
[[ $(sql "$db" "SELECT processes FROM runs") -ge 2 ]] || fail "no forked process was followed"
[[ $(sql "$db" "PRAGMA integrity_check") == ok ]] || fail "integrity_check failed"
echo "PASS"
