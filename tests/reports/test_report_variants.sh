#!/usr/bin/env bash
# A profile that runs one benchmark with two sets of parameters (as `speed` runs four replays and
# `decay` three parts): the report keeps them apart, one section each with its own parameters and
# runs (never a median over both), hak plot draws each its own charts, and hak diff pairs each
# part with the same part of the other database.
source "$(dirname "$0")/lib.sh"

cat >"$WORK/two.profile" <<'P'
description = one benchmark, two sets of parameters
[mallocfree]
pairs    = 20000
min_size = 8
max_size = 1000
window   = 64
seed     = 1
[mallocfree]
pairs    = 30000
min_size = 8
max_size = 64
window   = 64
seed     = 1
P
DB=$WORK/two.db
"$HAK" bench "$WORK/two.profile" --alloc hakmem,glibc -q -o "$DB" >"$WORK/bench.out" 2>&1 ||
    { cat "$WORK/bench.out"; fail "hak bench failed"; }
"$HAK" report "$DB" >"$WORK/report.md" 2>"$WORK/report.err" ||
    { cat "$WORK/report.err"; fail "hak report failed"; }
grep -E '^## |^Parameters|^\| (hakmem|glibc) \|' "$WORK/report.md"

[[ $(grep -c '^## mallocfree — profile two$' "$WORK/report.md") -eq 1 ]] || fail "no section for the first set"
[[ $(grep -c '^## mallocfree — profile two, part 2$' "$WORK/report.md") -eq 1 ]] ||
    fail "no section of its own for the second set"
# Each section names its own parameters, right under its heading.
grep -A2 '^## mallocfree — profile two$' "$WORK/report.md" | grep -q '^Parameters: pairs=20000 ' ||
    fail "the first section does not show pairs=20000"
grep -A2 '^## mallocfree — profile two, part 2$' "$WORK/report.md" | grep -q '^Parameters: pairs=30000 ' ||
    fail "the second section does not show pairs=30000"
# One run per allocator in each section: two sets merged would read 2/2.
[[ $(grep -c '^| hakmem | 1/1 |' "$WORK/report.md") -eq 2 ]] || fail "hakmem's runs are not one per section"
grep -q '^| hakmem | 2/2 |' "$WORK/report.md" && fail "a section merges the two sets of parameters"

if command -v gnuplot >/dev/null 2>&1; then
    "$HAK" plot "$DB" -o "$WORK/charts" >"$WORK/plot.out" 2>&1 || { cat "$WORK/plot.out"; fail "hak plot failed"; }
    for f in throughput-two-mallocfree throughput-two-mallocfree-2; do
        [[ -s $WORK/charts/$f.svg ]] || fail "hak plot drew no $f chart"
    done
fi

"$HAK" diff "$DB" "$DB" >"$WORK/diff.out" 2>&1 || { cat "$WORK/diff.out"; fail "hak diff of a database with itself failed"; }
grep -q 'mallocfree, part 2' "$WORK/diff.out" || fail "hak diff has no row for the second set"
grep -q 'other parameters' "$WORK/diff.out" && fail "hak diff paired the two sets with each other"
echo PASS
