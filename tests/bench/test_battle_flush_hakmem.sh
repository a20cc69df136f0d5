#!/usr/bin/env bash
# With hakmem preloaded, the battle test's flush phase (hak_flush_all on every thread) gives memory
# back: in every cycle RSS after flush is back within an eighth of what the burst added to the
# baseline RSS of the same run (a tier the flush skips holds far more than that).
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"

out=$WORK/battle.txt
LD_PRELOAD=$LIBHAKMEM "$BIN/battle" --threads=2 --cycles=2 --working_set=32M --idle_ms=0 \
    --tiny_pct=60 --mid_pct=30 --large_pct=10 >"$out" || { cat "$out"; fail "battle under hakmem failed"; }
cat "$out"
grep -q '^battle: flush adapter hakmem: hak_flush_all()' "$out" || fail "the flush adapter is not hakmem's"
base_kb=$(field rss_kb "$(grep "^phase cycle=0 name=baseline " "$out")")
for cycle in 1 2; do
    burst_kb=$(field rss_kb "$(grep "^phase cycle=$cycle name=burst " "$out")")
    free_kb=$(field rss_kb "$(grep "^phase cycle=$cycle name=free " "$out")")
    flush_kb=$(field rss_kb "$(grep "^phase cycle=$cycle name=flush " "$out")")
    echo "cycle $cycle: RSS at baseline $base_kb KiB, burst $burst_kb KiB, after free $free_kb KiB, after flush $flush_kb KiB"
    [[ -n $base_kb && -n $burst_kb && -n $free_kb && -n $flush_kb ]] || fail "cycle $cycle: missing a phase"
    [[ $flush_kb -lt $free_kb ]] || fail "cycle $cycle: RSS after flush ($flush_kb KiB) is not below RSS after free ($free_kb KiB)"
    [[ $((flush_kb - base_kb)) -le $(((burst_kb - base_kb) / 8)) ]] ||
        fail "cycle $cycle: $((flush_kb - base_kb)) KiB above the baseline after flush; the burst added $((burst_kb - base_kb)) KiB"
done
echo "ok"
