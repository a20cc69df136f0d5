#!/usr/bin/env bash
# hak bench --cachesim: the table adds the simulated data-cache misses per operation, first level
# and last level (shaped as this CPU's L2), and -o stores them as results d1_miss_per_op and
# ll_miss_per_op (source cachesim).  The figures must follow the workload: the malloc/free loop
# over a ring of 64 live blocks stays in cache, the same loop over 100,000 blocks (about 50 MB)
# misses the last level on most operations; a last-level miss is also a first-level miss, so the
# first column is the larger.  Counts, not times: nothing here depends on the machine's load.
# Skips when valgrind is missing.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || skip "valgrind is not installed"

declare -A ll
for w in 64 100000; do
    "$HAK" bench icount --cachesim --alloc hakmem,glibc --set pairs=300000 --set "window=$w" -q \
        -o "$WORK/w$w.db" >"$WORK/out$w" 2>"$WORK/err$w" ||
        { cat "$WORK/out$w" "$WORK/err$w"; fail "hak bench --cachesim failed (window $w)"; }
    cat "$WORK/out$w"
    grep -q -- "--cache-sim=yes" "$WORK/err$w" || fail "hak bench did not say it simulates the caches"
    grep -q "D1 miss/op  LL miss/op" "$WORK/out$w" || fail "window $w: no miss columns in the table"
    for a in hakmem glibc; do
        read -r d1 l < <(awk -v a=$a '$1 == a { print $(NF-1), $NF }' "$WORK/out$w")
        awk -v d="$d1" -v l="$l" 'BEGIN { exit !(d + 0 > 0 && l + 0 >= 0 && d + 0 > l + 0) }' ||
            fail "$a, window $w: D1 misses/op '$d1' must be positive and above LL's '$l'"
        ll[$a.$w]=$l
    done
    n=$(sqlite3 "$WORK/w$w.db" "SELECT count(*) FROM results WHERE source = 'cachesim' AND value > 0
        AND key IN ('d1_miss_per_op', 'll_miss_per_op')")
    [[ $n -eq 4 ]] || fail "window $w: $n miss results stored in the run database, expected 4"
done
for a in hakmem glibc; do
    awk -v s="${ll[$a.64]}" -v b="${ll[$a.100000]}" 'BEGIN { exit !(b > 1.0 && b > 4 * s) }' ||
        fail "$a: LL misses/op ${ll[$a.100000]} over 100,000 live blocks against ${ll[$a.64]} over 64"
done

# Without valgrind's tool the option cannot run: a bad forced tool is one line and exit 2.
if HAK_ICOUNT_TOOL=nonsense "$HAK" bench icount --icount --alloc glibc --set pairs=1000 -q \
    >"$WORK/bad" 2>&1; then
    fail "a bad HAK_ICOUNT_TOOL was accepted"
fi
echo "PASS"
