#!/usr/bin/env bash
# With two repetitions or more each table adds "hakmem: paired by repetition Rx PEER's (MIN - MAX,
# N pairs)": hakmem's throughput over the best peer's, repetition by repetition (the two ran
# side by side, interleaved), median and range; a profile of several tables adds the geometric
# mean of those medians.  Every figure is recomputed here from the runs' own CSV rows (--csv), so
# a ratio taken across repetitions, or from the wrong allocator, fails.  No timing is asserted.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

small_profile "$WORK/two.profile" "two small tables" mallocfree smallobj
"$HAK" bench "$WORK/two.profile" --alloc hakmem,glibc --repeat 3 -q --csv "$WORK/runs.csv" \
    >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; fail "hak bench failed"; }
cat "$WORK/out"

# The paired figures the CSV gives: per bench, hakmem's ops/s over glibc's of the same repetition.
awk -F, 'NR > 1 { ops[$2 "," $3 "," $4] = $6; benches[$2] = 1 }
    END {
        for (b in benches) {
            n = 0
            for (r = 1; r <= 3; r++) {
                h = ops[b ",hakmem," r]; g = ops[b ",glibc," r]
                if (h > 0 && g > 0) v[++n] = h / g
            }
            # sort the n ratios (insertion sort), then median, min, max
            for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
            printf "%s %d %.6f %.6f %.6f\n", b, n, v[int((n + 1) / 2)], v[1], v[n]
        }
    }' "$WORK/runs.csv" | sort >"$WORK/want"

mapfile -t lines < <(grep '^hakmem: paired by repetition [0-9.]*x' "$WORK/out")
[[ ${#lines[@]} -eq 2 ]] || fail "expected 2 per-table paired lines, found ${#lines[@]}"
mapfile -t benches < <(sed -n 's/^\[\([a-z]*\)\].*/\1/p' "$WORK/out")
[[ ${#benches[@]} -eq 2 ]] || fail "expected 2 tables, found ${#benches[@]}"
medians=()
for k in 0 1; do
    read -r med peer lo hi n < <(sed -n \
        's/^hakmem: paired by repetition \([0-9.]*\)x \([a-z]*\)'"'"'s (\([0-9.]*\) - \([0-9.]*\), \([0-9]*\) pairs)$/\1 \2 \3 \4 \5/p' \
        <<<"${lines[$k]}")
    [[ $peer == glibc ]] || fail "table ${benches[$k]}: paired with '$peer', not the only peer glibc: ${lines[$k]}"
    read -r _ wn wmed wlo whi < <(grep "^${benches[$k]} " "$WORK/want") ||
        fail "no CSV rows for ${benches[$k]}"
    [[ $n == "$wn" ]] || fail "table ${benches[$k]}: $n pairs, the CSV has $wn"
    awk -v a="$med" -v b="$wmed" -v c="$lo" -v d="$wlo" -v e="$hi" -v f="$whi" 'BEGIN {
        exit !((a - b) ^ 2 <= 0.006 ^ 2 && (c - d) ^ 2 <= 0.006 ^ 2 && (e - f) ^ 2 <= 0.006 ^ 2) }' ||
        fail "table ${benches[$k]}: printed $med ($lo - $hi), the CSV's repetitions give $wmed ($wlo - $whi)"
    medians+=("$wmed")
done

line=$(grep '^hakmem: paired by repetition over' "$WORK/out") || fail "no paired geometric-mean line"
read -r n geo < <(sed -n 's/^hakmem: paired by repetition over \([0-9]*\) tables: geometric mean \([0-9.]*\)x.*/\1 \2/p' <<<"$line")
[[ $n == 2 ]] || fail "the paired line counts '$n' tables, not 2: $line"
awk -v g="$geo" -v a="${medians[0]}" -v b="${medians[1]}" 'BEGIN {
    d = g - sqrt(a * b); exit !(d * d <= 0.006 ^ 2) }' ||
    fail "paired geometric mean $geo is not that of ${medians[*]}"

# One repetition: nothing to pair, no paired line.
"$HAK" bench "$WORK/two.profile" --alloc hakmem,glibc -q >"$WORK/one" 2>&1 || fail "one repetition failed"
! grep -q 'paired by repetition' "$WORK/one" || fail "a single repetition printed a paired figure"
echo "PASS"
