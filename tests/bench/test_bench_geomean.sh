#!/usr/bin/env bash
# A profile of several tables (like `speed`) ends with one line: the geometric mean of hakmem's
# throughput over the best peer's across the tables, and the table where it stands lowest.  The
# line is checked against the per-table "hakmem: throughput Nx the best peer" lines of the same
# output (two decimals each, so the recomputed mean may differ by rounding only).  No timing is
# asserted: whatever the ratios are, they must agree.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

small_profile "$WORK/three.profile" "three small tables" mallocfree prodcons smallobj
"$HAK" bench "$WORK/three.profile" --alloc hakmem,glibc -q >"$WORK/out" 2>"$WORK/err" ||
    { cat "$WORK/out" "$WORK/err"; fail "hak bench failed"; }
cat "$WORK/out"
mapfile -t ratios < <(sed -n 's/^hakmem: throughput \([0-9.]*\)x the best peer.*/\1/p' "$WORK/out")
[[ ${#ratios[@]} -eq 3 ]] || fail "expected 3 per-table ratios, found ${#ratios[@]}"
line=$(grep '^hakmem: throughput over' "$WORK/out") || fail "no geometric-mean line"
read -r n geo low table < <(sed -n \
    's/^hakmem: throughput over \([0-9]*\) tables: geometric mean \([0-9.]*\)x the best peer, lowest \([0-9.]*\)x (table \([0-9]*\), .*/\1 \2 \3 \4/p' \
    <<<"$line")
[[ $n == 3 ]] || fail "the line counts '$n' tables, not 3: $line"
awk -v g="$geo" -v a="${ratios[0]}" -v b="${ratios[1]}" -v c="${ratios[2]}" 'BEGIN {
    want = exp((log(a) + log(b) + log(c)) / 3)
    d = g - want; if (d < 0) d = -d
    exit !(d <= 0.02 * want + 0.006) }' ||
    fail "geometric mean $geo does not match the tables' ratios ${ratios[*]}"
awk -v l="$low" -v a="${ratios[0]}" -v b="${ratios[1]}" -v c="${ratios[2]}" -v t="$table" 'BEGIN {
    m = a; k = 1; if (b < m) { m = b; k = 2 } if (c < m) { m = c; k = 3 }
    exit !(l == m && (t == k || (t == 1 && a == m) || (t == 2 && b == m) || (t == 3 && c == m))) }' ||
    fail "lowest $low (table $table) is not the smallest of ${ratios[*]}"

# One table: no geometric-mean line.
"$HAK" bench prodcons --set blocks=20000 --alloc hakmem,glibc -q >"$WORK/one" 2>&1 || fail "single table failed"
! grep -q '^hakmem: throughput over' "$WORK/one" || fail "a single table printed a geometric mean"
echo "PASS"
