#!/usr/bin/env bash
# With hakmem preloaded, the battle test's flush phase (hak_flush_all on every thread) gives memory
# back: RSS after flush is below RSS after free, in every cycle.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"

out=$WORK/battle.txt
LD_PRELOAD=$LIBHAKMEM "$BIN/battle" --threads=2 --cycles=2 --working_set=32M --idle_ms=0 \
    --tiny_pct=60 --mid_pct=30 --large_pct=10 >"$out" || { cat "$out"; fail "battle under hakmem failed"; }
cat "$out"
grep -q '^battle: flush adapter hakmem: hak_flush_all()' "$out" || fail "the flush adapter is not hakmem's"
for cycle in 1 2; do
    free_kb=$(field rss_kb "$(grep "^phase cycle=$cycle name=free " "$out")")
    flush_kb=$(field rss_kb "$(grep "^phase cycle=$cycle name=flush " "$out")")
    echo "cycle $cycle: RSS after free $free_kb KiB, after flush $flush_kb KiB"
    [[ -n $free_kb && -n $flush_kb ]] || fail "cycle $cycle: missing free or flush phase"
    [[ $flush_kb -lt $free_kb ]] || fail "cycle $cycle: RSS after flush ($flush_kb KiB) is not below RSS after free ($free_kb KiB)"
done
echo "ok"
