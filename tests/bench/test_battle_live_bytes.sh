#!/usr/bin/env bash
# The battle test's live_bytes is what it holds: it checks the count against a walk over its own
# block tables at every phase (check=ok), and here the numbers are checked against the parameters:
# a burst holds at least the working set, nothing is held after a full free, and keep_pct keeps
# that share of the blocks alive.  Under every available allocator.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

ws=$((4 * 1024 * 1024))
threads=2
large_max=$((1024 * 1024))
common=(--threads="$threads" --cycles=2 --working_set="$ws" --churn=0 --idle_ms=0 --touch=0)

for a in $(available_allocators); do
    pre=$(preload_of "$a")
    echo "== $a"

    out=$WORK/$a.full
    LD_PRELOAD=$pre "$BIN/battle" "${common[@]}" --keep_pct=0 >"$out" || { cat "$out"; fail "battle under $a failed"; }
    grep -q "^result bench=battle alloc=$a " "$out" || { cat "$out"; fail "battle under $a ran on another allocator"; }
    phases=$(grep -c '^phase ' "$out")
    [[ $phases -eq 10 ]] || fail "$a: expected 10 phase lines (baseline, 2x burst/free/idle/flush, end), got $phases"
    ! grep '^phase ' "$out" | grep -v 'check=ok' || fail "$a: a phase without check=ok"
    while read -r line; do
        name=$(field name "$line")
        live=$(field live_bytes "$line")
        usable=$(field usable_bytes "$line")
        [[ $usable -ge $live ]] || fail "$a: usable_bytes < live_bytes: $line"
        case $name in
        burst)
            # Each thread fills its share; the last block of each tier may overshoot.
            [[ $live -ge $((ws - 3 * threads)) ]] || fail "$a: burst holds less than the working set: $line"
            [[ $live -le $((ws + threads * 3 * large_max)) ]] || fail "$a: burst holds too much: $line"
            ;;
        *) [[ $live -eq 0 ]] || fail "$a: $name should hold nothing: $line" ;;
        esac
    done < <(grep '^phase ' "$out")

    out=$WORK/$a.keep
    LD_PRELOAD=$pre "$BIN/battle" "${common[@]}" --keep_pct=30 >"$out" || { cat "$out"; fail "battle keep_pct=30 under $a failed"; }
    burst=$(field live_bytes "$(grep -m1 ' name=burst ' "$out")")
    kept=$(field live_bytes "$(grep -m1 ' name=free ' "$out")")
    idle=$(field live_bytes "$(grep -m1 ' name=idle ' "$out")")
    flushed=$(field live_bytes "$(grep -m1 ' name=flush ' "$out")")
    end=$(field live_bytes "$(grep ' name=end ' "$out")")
    pct=$((100 * kept / burst))
    echo "$a: burst $burst B, kept $kept B ($pct %)"
    [[ $pct -ge 20 && $pct -le 40 ]] || fail "$a: keep_pct=30 kept $pct % of the bytes"
    [[ $idle -eq $kept && $flushed -eq $kept ]] || fail "$a: kept bytes changed through idle/flush"
    [[ $end -eq 0 ]] || fail "$a: bytes still held at the end: $end"
done
echo "ok"
