#!/usr/bin/env bash
# hak plot and hak report --html on a run database whose allocator and build names hold gnuplot
# and shell syntax: nothing they hold runs, and the charts are still drawn with the names shown
# in a sanitised form (and with one absurd Rss value).  (A database is a file users pass around; the build name can come from the
# recorded program's own counter segment.)
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to check the PNG files"

DB=$WORK/run.db
make_db "$DB" glibc glibc glibc
# Two runs share an allocator name, so the charts label them with their builds too.
nl=$'\n'
sql "$DB" "UPDATE runs SET allocator = 'a\`touch pwned\`', alloc_build = '\$(touch pwned2)''\"x'
           WHERE run_id = 1;
           UPDATE runs SET allocator = 'a\`touch pwned\`', alloc_build = 'b${nl}system(\"touch pwned3\")'
           WHERE run_id = 2;
           UPDATE runs SET allocator = 'q''\"${nl}\`touch pwned4\`system(\"touch pwned5\")'
           WHERE run_id = 3;"
# And an infinite Rss (9e999 reads as Inf), which must not reach gnuplot as ymax=inf.
sql "$DB" "UPDATE samples SET rss_kb = 9e999 WHERE run_id = 3 AND seq = (SELECT max(seq) FROM samples
           WHERE run_id = 3 AND rss_kb IS NOT NULL)"
[[ $(sql "$DB" "SELECT count(*) FROM runs WHERE allocator LIKE '%touch%'") -eq 3 ]] ||
    fail "could not plant the names"

# Run from an empty folder: a command that did run would leave its file here or in the charts.
mkdir "$WORK/cwd" "$WORK/tmp"
cd "$WORK/cwd"
plot_rc=0 report_rc=0
"$HAK" plot "$DB" -o "$WORK/charts" >"$WORK/plot.out" 2>"$WORK/plot.err" || plot_rc=$?
TMPDIR=$WORK/tmp "$HAK" report "$DB" --html "$WORK/report.html" >"$WORK/report.md" \
    2>"$WORK/report.err" || report_rc=$?
cat "$WORK/plot.err" "$WORK/report.err"
pwned=$(find "$WORK" "$ROOT" /tmp -maxdepth 2 -name 'pwned*' 2>/dev/null || true)
[[ -z $pwned ]] || fail "a name from the database ran as a command: $pwned"
[[ $plot_rc -eq 0 ]] || fail "hak plot exited $plot_rc"
[[ $report_rc -eq 0 ]] || fail "hak report --html exited $report_rc"

for chart in rss-battle throughput-battle tradeoff-battle overhead-battle release-battle; do
    png_ok "$WORK/charts/$chart.png" || fail "$chart.png is not a valid PNG image"
done
# The names are shown, their odd characters replaced.
for chart in rss-battle throughput-battle tradeoff-battle overhead-battle release-battle; do
    grep -q 'a_touch_pwned_' "$WORK/charts/$chart.svg" || fail "$chart.svg does not name the allocator"
done
grep -q 'q_*touch_pwned4_system' "$WORK/charts/rss-battle.svg" || fail "rss-battle.svg lacks the third run"
for svg in "$WORK"/charts/*.svg; do
    grep -q '[`$]' "$svg" && fail "$(basename "$svg") shows an unsanitised name"
done
grep -q "charts left out" "$WORK/report.err" && fail "hak report --html left its charts out"
[[ $(grep -c '<svg' "$WORK/report.html") -ge 5 ]] ||
    fail "the page does not hold the battle charts as inline SVG"
# The report's temporary chart folder (in TMPDIR) is gone.
[[ -z $(ls -A "$WORK/tmp") ]] || fail "hak report --html left $(ls -A "$WORK/tmp") in TMPDIR"
echo PASS
