#!/usr/bin/env bash
# No silent loss: a command that ends before the recorder first reads it (here `true`, which on a
# loaded machine is usually gone before the first read) has no memory sample; such a run says so in
# runs.note and in the summary line, even with -q, and a run that was read says neither.  Whether a
# given run is read in time is up to the scheduler: the test checks every run of ten either way.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

db=$WORK/quick.db
for i in $(seq 10); do
    "$HAK" record -q -o "$db" -- true 2>"$WORK/err.$i" || fail "hak record failed"
    if grep -q "NOT SAMPLED" "$WORK/err.$i"; then flagged[i]=1; else flagged[i]=0; fi
done
for i in $(seq 10); do
    procs=$(sql "$db" "SELECT processes FROM runs WHERE run_id = $i")
    noted=$(sql "$db" "SELECT coalesce(note, '') LIKE '%ended before it could be read%' FROM runs WHERE run_id = $i")
    if [[ $procs -eq 0 ]]; then
        [[ $noted -eq 1 ]] || fail "run $i read no process but runs.note does not say so"
        [[ ${flagged[i]} -eq 1 ]] || fail "run $i read no process but the summary line does not say so"
    else
        [[ $noted -eq 0 && ${flagged[i]} -eq 0 ]] || fail "run $i was read ($procs processes) but is flagged as not sampled"
    fi
done
echo "unsampled runs: $(sql "$db" "SELECT count(*) FROM runs WHERE processes = 0") of 10"
echo "PASS"
