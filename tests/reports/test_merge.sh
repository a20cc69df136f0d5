#!/usr/bin/env bash
# hak merge OUT.db IN.db...: runs from two machines land in one database with new run ids, every
# row of theirs copied, host and build kept; a bad input (not a hak database, another schema
# version, missing) is refused with one line before anything is written.
source "$(dirname "$0")/lib.sh"

A=$WORK/a.db
B=$WORK/b.db
make_db "$A" hakmem
make_db "$B" glibc
# B stands for another machine.
sql "$B" "UPDATE runs SET host = 'other-machine'"
OUT=$WORK/out.db
"$HAK" merge "$OUT" "$A" "$B" >"$WORK/merge.out" 2>"$WORK/merge.err" || {
    cat "$WORK/merge.err"
    fail "hak merge exited non-zero"
}
cat "$WORK/merge.out"
[[ $(sql "$OUT" "SELECT group_concat(run_id || ':' || allocator || ':' || host, ' ') FROM runs") == \
    "1:hakmem:$(hostname) 2:glibc:other-machine" ]] ||
    fail "merged runs: $(sql "$OUT" "SELECT run_id, allocator, host FROM runs")"
[[ $(sql "$OUT" "SELECT alloc_build FROM runs WHERE run_id = 1") == \
    "$(sql "$A" "SELECT alloc_build FROM runs")" ]] || fail "hakmem's build was not kept"
# Every row of every table came along, under the new id.
for t in samples mappings hakmem_tiers hakmem_classes counters counter_names events phases results process_samples; do
    a=$(sql "$A" "SELECT count(*) FROM $t")
    b=$(sql "$B" "SELECT count(*) FROM $t")
    o1=$(sql "$OUT" "SELECT count(*) FROM $t WHERE run_id = 1")
    o2=$(sql "$OUT" "SELECT count(*) FROM $t WHERE run_id = 2")
    [[ $o1 -eq $a && $o2 -eq $b ]] || fail "$t: $a and $b rows in, $o1 and $o2 out"
done
[[ $(sql "$OUT" "SELECT sum(rss_kb) FROM samples WHERE run_id = 2") == \
    "$(sql "$B" "SELECT sum(rss_kb) FROM samples")" ]] || fail "run 2's samples are not B's"
"$HAK" report "$OUT" >"$WORK/report.md" 2>&1 || fail "hak report cannot read the merged database"
grep -q "2 runs" "$WORK/report.md" || fail "the report of the merged database does not see both runs"

# Merging into an existing database appends after its runs.
"$HAK" merge "$OUT" "$B" >/dev/null 2>&1 || fail "a second merge into OUT failed"
[[ $(sql "$OUT" "SELECT max(run_id) FROM runs") -eq 3 ]] || fail "the second merge did not add run 3"

# Bad inputs: one line, exit 1, nothing written (OUT not even created).
before=$(sql "$OUT" "SELECT count(*) FROM runs")
check_refused() {
    local what=$1 in=$2 out=$3
    rc=0
    "$HAK" merge "$out" "$A" "$in" >/dev/null 2>"$WORK/bad.err" || rc=$?
    expect_one_line "$WORK/bad.err" "$what"
    [[ $rc -ne 0 ]] || fail "$what: hak merge accepted it"
    [[ $rc -eq 1 ]] || fail "$what: exit $rc, expected 1"
}
OLD=$WORK/old.db
cp "$A" "$OLD"
sql "$OLD" "PRAGMA user_version = 2" >/dev/null
check_refused "an older schema" "$OLD" "$WORK/new1.db"
grep -q "schema version 2" "$WORK/bad.err" || fail "the refusal does not name the schema version"
sqlite3 "$WORK/foreign.db" "CREATE TABLE t (a)"
check_refused "a foreign SQLite file" "$WORK/foreign.db" "$WORK/new2.db"
echo "not a database" >"$WORK/text.db"
check_refused "a text file" "$WORK/text.db" "$WORK/new3.db"
check_refused "a missing file" "$WORK/missing.db" "$WORK/new4.db"
check_refused "a foreign file into an existing OUT" "$WORK/foreign.db" "$OUT"
for i in 1 2 3 4; do
    [[ -e $WORK/new$i.db ]] && fail "a refused merge created OUT (new$i.db)"
done
[[ $(sql "$OUT" "SELECT count(*) FROM runs") -eq $before ]] || fail "a refused merge wrote into OUT"
"$HAK" merge "$OUT" "$OUT" 2>"$WORK/self.err" && fail "hak merge merged a database into itself"
expect_one_line "$WORK/self.err" "OUT as its own input"
rc=0
"$HAK" merge "$OUT" 2>"$WORK/usage.err" || rc=$?
[[ $rc -eq 2 ]] || fail "hak merge without an input did not exit 2"
expect_one_line "$WORK/usage.err" "no input"
echo PASS
