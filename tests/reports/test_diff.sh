#!/usr/bin/env bash
# hak diff: a database against itself is within noise everywhere and exits 0; a constructed
# regression (idle Rss doubled) is called worse, and --fail-if-worse turns it into exit 1.
source "$(dirname "$0")/lib.sh"

DB=$WORK/a.db
make_db "$DB" hakmem glibc
"$HAK" diff "$DB" "$DB" --fail-if-worse 1 >"$WORK/self.md" 2>"$WORK/self.err" || {
    cat "$WORK/self.md" "$WORK/self.err"
    fail "diff of a database with itself exited non-zero"
}
cat "$WORK/self.md"
grep -q "| within noise |" "$WORK/self.md" || fail "self diff says nothing is within noise"
grep -qE "\| (worse|better) \|" "$WORK/self.md" && fail "self diff calls a figure better or worse"
grep -q "idle overhead" "$WORK/self.md" || fail "diff lacks the idle overhead"

# B: the same runs with Rss at the idle mark doubled.
cp "$DB" "$WORK/b.db"
sql "$WORK/b.db" "UPDATE samples SET rss_kb = rss_kb * 2, rss_net_kb = rss_net_kb * 2
    WHERE (run_id, seq) IN (SELECT run_id, sample_seq FROM phases WHERE name = 'idle')"
rc=0
"$HAK" diff "$DB" "$WORK/b.db" --fail-if-worse 10 >"$WORK/reg.md" 2>"$WORK/reg.err" || rc=$?
cat "$WORK/reg.md" "$WORK/reg.err"
[[ $rc -ne 0 ]] || fail "--fail-if-worse 10 passed a 100 % regression"
grep -qE "\| hakmem \| idle Rss−LazyFree \|.*\| worse \|" "$WORK/reg.md" || fail "regression not called worse"
"$HAK" diff "$DB" "$WORK/b.db" >/dev/null || fail "without --fail-if-worse a regression must not fail"
# The improvement direction: B against A is better.
"$HAK" diff "$WORK/b.db" "$DB" --fail-if-worse 10 >"$WORK/imp.md" || fail "an improvement failed the gate"
grep -qE "\| idle Rss−LazyFree \|.*\| better \|" "$WORK/imp.md" || fail "improvement not called better"

# Two builds in one database: two hakmem runs, the second relabelled as another build.
make_db "$WORK/two.db" hakmem hakmem
sql "$WORK/two.db" "UPDATE runs SET alloc_build = 'feedbeef0000 COUNTERS=1 OPT=-O2' WHERE run_id = 2"
"$HAK" diff "$WORK/two.db" >"$WORK/two.md" 2>"$WORK/two.err" || {
    cat "$WORK/two.md" "$WORK/two.err"
    fail "diff of two builds in one database failed"
}
cat "$WORK/two.md"
grep -q "B = feedbeef0000" "$WORK/two.md" || fail "second build not found in the database"
grep -q "| battle | hakmem | idle overhead |" "$WORK/two.md" || fail "two-build diff lacks hakmem's idle overhead"
"$HAK" diff "$WORK/two.db" "$(sql "$WORK/two.db" "SELECT alloc_build FROM runs WHERE run_id = 1" | cut -c1-8)" \
    feedbeef >/dev/null || fail "diff with build prefixes failed"
rc=0
"$HAK" diff "$WORK/two.db" nosuchbuild feedbeef >/dev/null 2>"$WORK/nb.err" || rc=$?
[[ $rc -eq 1 ]] || fail "an unknown build should exit 1"
expect_one_line "$WORK/nb.err" "unknown build"
rc=0
"$HAK" diff "$DB" >/dev/null 2>"$WORK/one.err" || rc=$?
[[ $rc -eq 1 ]] || fail "diff of a one-build database without build ids should exit 1"
expect_one_line "$WORK/one.err" "one-build diff"
echo PASS
