#!/usr/bin/env bash
# hak plot: gnuplot writes the eight charts of each benchmark, as valid PNG and SVG files: Rss of
# every run with each allocator's own phases, throughput, throughput against peak Rss, overhead per
# phase (legend in words), the release curve, hakmem's tiers, its thread caches and their capacity
# per size class.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to check the PNG files"

DB=$WORK/run.db
make_db "$DB" hakmem hakmem glibc
"$HAK" plot "$DB" -o "$WORK/charts" >"$WORK/plot.out" 2>"$WORK/plot.err" || {
    cat "$WORK/plot.err"
    fail "hak plot exited non-zero"
}
cat "$WORK/plot.out"
for chart in rss-battle throughput-battle tradeoff-battle overhead-battle release-battle tiers-battle \
    caches-battle classes-battle; do
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
    grep -q ">$a<" "$WORK/charts/tradeoff-battle.svg" || fail "trade-off chart has no point for $a"
    grep -q ">$a<" "$WORK/charts/release-battle.svg" || fail "release chart has no line for $a"
done
# Every run is drawn: the two phase layers, then one plot per run (hakmem twice, glibc once).
plots=$(grep -c '<g id="gnuplot_plot_' "$WORK/charts/rss-battle.svg")
[[ $plots -eq 5 ]] || fail "Rss chart draws $plots plots, expected 2 phase layers + 3 runs"
# Each allocator's own phases: an idle band for hakmem and one for glibc.
idles=$(grep -c '>idle<' "$WORK/charts/rss-battle.svg")
[[ $idles -eq 2 ]] || fail "Rss chart shows $idles idle bands, expected one per allocator (2)"
grep -q ">after flush<" "$WORK/charts/overhead-battle.svg" || fail "overhead legend is not in words"
grep -q "after_flush" "$WORK/charts/overhead-battle.svg" && fail "overhead legend says after_flush"
grep -q "peak Rss (MiB)" "$WORK/charts/tradeoff-battle.svg" || fail "trade-off chart lacks its axis"
grep -q "time since the load ended (ms)" "$WORK/charts/release-battle.svg" ||
    fail "release chart lacks its time axis"
for t in tiny mid large huge; do
    grep -q ">$t<" "$WORK/charts/tiers-battle.svg" || fail "tier chart has no area for $t"
done
for t in tiny-cache-capacity mid-cache-capacity free-slabs-kept pages-purged-so-far; do
    grep -q ">$t<" "$WORK/charts/caches-battle.svg" || fail "cache chart has no line for $t"
done
# The size-class chart names the classes with the largest capacity of hakmem's first run, as
# "CLASS:SIZEB", one line each.
hak1=$(sql "$DB" "SELECT min(run_id) FROM runs WHERE allocator = 'hakmem'")
mapfile -t top < <(sql "$DB" "SELECT cls || ':' || max(size) || 'B' FROM hakmem_classes WHERE run_id = $hak1
    GROUP BY cls ORDER BY max(capacity * size) DESC, cls LIMIT 8")
[[ ${#top[@]} -eq 8 ]] || fail "hakmem's first run stored ${#top[@]} size classes, expected at least 8"
for t in "${top[@]}"; do
    grep -q ">$t<" "$WORK/charts/classes-battle.svg" || fail "size-class chart has no line for class $t"
done
# glibc has no counters: the cache charts are hakmem's only.
"$HAK" plot "$DB" --run "$(sql "$DB" "SELECT run_id FROM runs WHERE allocator = 'glibc'")" \
    -o "$WORK/glibc" >/dev/null 2>&1 || fail "hak plot of the glibc run failed"
[[ -e $WORK/glibc/caches-battle.svg ]] && fail "a cache chart was drawn for glibc"
[[ -e $WORK/glibc/classes-battle.svg ]] && fail "a size-class chart was drawn for glibc"
# No yellow: gnuplot's default yellow (#F0E442 / #FFFF00) is not one of the colours.
grep -qi "f0e442\|ffff00" "$WORK/charts/rss-battle.svg" && fail "Rss chart uses yellow"
echo PASS
