#!/usr/bin/env bash
# hak bench --tlbsim: the table adds the simulated data-TLB misses per operation, first level (64
# entries) and second (1,536 entries), and -o stores them as results dtlb_miss_per_op and
# stlb_miss_per_op (source tlbsim).  The figures must follow the pages the workload keeps in play:
# the malloc/free loop over a ring of 64 live blocks stays on a few pages; over 4,096 blocks (about
# 2 MB, 500 pages) it misses the first level often and the second almost never; over 100,000
# blocks (about 50 MB) it misses the second level too.  With cache lines instead of pages, or the
# two levels swapped, those three do not hold together.  Counts, not times.  Skips when valgrind is
# missing.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || skip "valgrind is not installed"

for w in 64 4096 100000; do
    "$HAK" bench icount --tlbsim --alloc hakmem,glibc --set pairs=300000 --set "window=$w" -q \
        -o "$WORK/w$w.db" >"$WORK/out$w" 2>"$WORK/err$w" ||
        { cat "$WORK/out$w" "$WORK/err$w"; fail "hak bench --tlbsim failed (window $w)"; }
    cat "$WORK/out$w"
    grep -q "data TLBs" "$WORK/err$w" || fail "hak bench did not say it simulates the data TLBs"
    grep -q "dTLB miss/op  STLB miss/op" "$WORK/out$w" || fail "window $w: no TLB columns in the table"
    for a in hakmem glibc; do
        read -r d s < <(awk -v a=$a '$1 == a { print $(NF-1), $NF }' "$WORK/out$w")
        case $w in
        64) want='d < 0.02 && s <= d' ;;
        4096) want='d > 0.05 && s < d / 10' ;;
        100000) want='s > 0.05 && d > s' ;;
        esac
        awk -v d="$d" -v s="$s" "BEGIN { exit !($want) }" ||
            fail "$a, window $w: dTLB misses/op '$d', STLB '$s': expected $want"
    done
    n=$(sqlite3 "$WORK/w$w.db" "SELECT count(*) FROM results WHERE source = 'tlbsim'
        AND key IN ('dtlb_miss_per_op', 'stlb_miss_per_op')")
    [[ $n -eq 4 ]] || fail "window $w: $n TLB results stored in the run database, expected 4"
    n=$(sqlite3 "$WORK/w$w.db" "SELECT count(*) FROM results WHERE source = 'cachesim'")
    [[ $n -eq 0 ]] || fail "window $w: TLB figures stored as cache misses"
done

# The two simulations are one valgrind run each: asking for both is one line and exit 2.
rc=0
"$HAK" bench icount --cachesim --tlbsim --alloc glibc -q >"$WORK/both" 2>&1 || rc=$?
[[ $rc -eq 2 && $(wc -l <"$WORK/both") -eq 1 ]] || { cat "$WORK/both"; fail "--cachesim with --tlbsim: exit $rc"; }
grep -q "exclude each other" "$WORK/both" || fail "--cachesim with --tlbsim: the message does not say why"
echo "PASS"
