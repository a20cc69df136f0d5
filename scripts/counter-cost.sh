#!/usr/bin/env bash
# Measures what the counters cost: builds libhakmem with COUNTERS=0 into build-nc/ and runs the same
# Larson command under both builds, alternating, REPEAT times each.  Prints median and min-max of
# ops/s per build and the median ratio.
#   scripts/counter-cost.sh [REPEAT] [larson positional args...]
# default: 7 repetitions of `larson 3 8 1000 5000 100 4141 2` (classic server profile, 2 threads).
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-7}
shift || true
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(3 8 1000 5000 100 4141 2)
case "$repeat" in ''|*[!0-9]*) echo "counter-cost.sh: REPEAT must be a number, got '$repeat'" >&2; exit 2;; esac

make -s all >/dev/null
make -s COUNTERS=0 BUILD=build-nc build-nc/libhakmem.so >/dev/null

run() { # $1 = library; prints ops/s
    LD_PRELOAD="$PWD/$1" build/bin/larson "${args[@]}" |
        sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p'
}
on=() off=()
for i in $(seq 1 "$repeat"); do
    printf 'run %d/%d\r' "$i" "$repeat" >&2
    on+=("$(run build/libhakmem.so)")
    off+=("$(run build-nc/libhakmem.so)")
done
printf '\n' >&2
stats() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.0f %d %d\n", m, v[1], v[NR]}'; }
read -r m1 lo1 hi1 < <(stats "${on[@]}")
read -r m0 lo0 hi0 < <(stats "${off[@]}")
printf '%-12s %14s %14s %14s\n' build median min max
printf '%-12s %14s %14s %14s\n' COUNTERS=1 "$m1" "$lo1" "$hi1"
printf '%-12s %14s %14s %14s\n' COUNTERS=0 "$m0" "$lo0" "$hi0"
awk -v a="$m1" -v b="$m0" 'BEGIN { printf "counters cost: %.2f %% of throughput (median ratio %.4f)\n", (1 - a / b) * 100, a / b }'
