#!/usr/bin/env bash
# A run without phase marks (a program that is none of our benchmarks) is still reported: peak,
# final and mean Rss, the peak's time, wall and CPU time with units, samples and gaps; hak runs
# lists every run of a database; bad arguments are one line and exit 2, a missing file exit 1.
source "$(dirname "$0")/lib.sh"

db=$WORK/plain.db
# 32 MiB touched, held a moment, then the program ends.
"$HAK" record -q -o "$db" -- python3 -c 'import time; x = bytearray(32 << 20); time.sleep(0.3)' ||
    fail "hak record of a python program failed"
"$HAK" record -q -o "$db" -- sh -c 'exit 0' || fail "hak record of sh failed"
"$HAK" report "$db" >"$WORK/report.md" || fail "hak report failed"
cat "$WORK/report.md"

peak=$(sql "$db" "SELECT max(rss_kb) FROM samples WHERE run_id = 1")
# The row of run 1 in the whole-run table: | 1 | wall | cpu | peak | at | ...
row=$(grep -E '^\| 1 \| [0-9.]+ (ms|s) \|' "$WORK/report.md") || fail "no whole-run row for run 1"
[[ $(echo "$row" | awk -F'|' '{gsub(/ /, "", $5); print $5}') == "$peak" ]] ||
    fail "the peak Rss shown ($row) is not the database's $peak"
[[ $peak -gt 32768 ]] || fail "the peak $peak KiB is below the 32 MiB the program touched"
echo "$row" | awk -F'|' '{exit !($6 ~ /[0-9] (ms|s) *$/)}' || fail "the peak's time has no unit: $row"
echo "$row" | awk -F'|' '{exit !($4 ~ /[0-9] (ms|s) *$/)}' || fail "the CPU time has no unit: $row"
samples=$(sql "$db" "SELECT count(*) FROM samples WHERE run_id = 1 AND rss_kb IS NOT NULL")
echo "$row" | grep -q "| $samples | 0 |" || fail "samples ($samples) and gaps (0) not shown: $row"
grep -q "No phase marks" "$WORK/report.md" || fail "a run without marks is not said to have none"
grep -q "not in this benchmark" "$WORK/report.md" && fail "empty phase rows printed for unmarked runs"
grep -q "task-clock (ms)" "$WORK/report.md" || fail "task-clock without its unit"

echo "== hak runs"
"$HAK" runs "$db" >"$WORK/runs.txt" || fail "hak runs failed"
cat "$WORK/runs.txt"
[[ $(wc -l <"$WORK/runs.txt") -eq 3 ]] || fail "hak runs: not a header and one line per run"
grep -qE "^1 +completed +default .* $peak +python3 -c" "$WORK/runs.txt" || fail "run 1 not listed with its peak"
grep -qE "^2 +completed .* sh -c" "$WORK/runs.txt" || fail "run 2 not listed"

expect_fail 2 "hak runs without a database" "$HAK" runs
expect_fail 2 "hak runs with two databases" "$HAK" runs "$db" "$db"
expect_fail 2 "hak runs with an option" "$HAK" runs --bogus
expect_fail 1 "hak runs of a missing file" "$HAK" runs "$WORK/nope.db"
sqlite3 "$WORK/other.db" "CREATE TABLE t (x)"
expect_fail 1 "hak runs of a foreign database" "$HAK" runs "$WORK/other.db"
echo ok
