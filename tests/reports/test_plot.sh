#!/usr/bin/env bash
# hak plot: gnuplot writes the three charts of each benchmark, as valid PNG and SVG files.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to check the PNG files"

DB=$WORK/run.db
make_db "$DB" hakmem glibc
"$HAK" plot "$DB" -o "$WORK/charts" >"$WORK/plot.out" 2>"$WORK/plot.err" || {
    cat "$WORK/plot.err"
    fail "hak plot exited non-zero"
}
cat "$WORK/plot.out"
for chart in rss-battle throughput-battle overhead-battle; do
    png_ok "$WORK/charts/$chart.png" || fail "$chart.png is not a valid PNG image"
    grep -q "<svg" "$WORK/charts/$chart.svg" || fail "$chart.svg is not an SVG image"
    grep -qF "$chart.png" "$WORK/plot.out" || fail "hak plot did not list $chart.png"
done
# Axis labels with units, and one line per allocator.
grep -q "Rss (MiB)" "$WORK/charts/rss-battle.svg" || fail "Rss chart lacks its axis label"
grep -q "time since start (ms)" "$WORK/charts/rss-battle.svg" || fail "Rss chart lacks its time axis"
grep -q "ops/s" "$WORK/charts/throughput-battle.svg" || fail "throughput chart lacks its unit"
for a in hakmem glibc; do
    grep -q ">$a<" "$WORK/charts/rss-battle.svg" || fail "Rss chart has no line for $a"
done
echo PASS
