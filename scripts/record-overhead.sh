#!/usr/bin/env bash
# Measures what recording costs: runs a profile's Larson section with and without `hak record`
# (through `hak bench`, which records with -o), alternating which goes first, REPEAT times each.
# Prints median and min-max of ops/s and ops per CPU-second of the benchmark for both, the median
# of the per-pair ratios (each recorded run against the plain run next to it, which cancels slow
# drift of the machine), and the collector's own CPU time per run (from the run database).
#   scripts/record-overhead.sh [REPEAT] [ALLOCATOR] [PROFILE] [hak bench -o options, e.g. --interval 5]
# default: 7 repetitions of larson-server under hakmem at the default interval (10 ms).
# NOISE=1 runs plain against plain instead: the noise floor of the machine for the same pairing.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-7}
alloc=${2:-hakmem}
profile=${3:-larson-server}
shift 3 2>/dev/null || shift $#
case "$repeat" in '' | *[!0-9]*) echo "record-overhead.sh: REPEAT must be a number, got '$repeat'" >&2; exit 2 ;; esac

make -s all >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/record-overhead.XXXXXX")
trap 'rm -rf "$work"' EXIT
db=$work/runs.db

# run MODE: one hak bench run; appends "ops_per_sec ops_per_cpu_s" to $work/MODE.
run() {
    local extra=()
    [[ $1 == recorded && ${NOISE:-0} != 1 ]] && extra=(-o "$db" "${record_opts[@]}")
    build/bin/hak bench "$profile" --alloc "$alloc" -q --csv "$work/row.csv" "${extra[@]}" >/dev/null
    awk -F, 'NR == 2 && $2 == "larson" { print $6, $10 }' "$work/row.csv" >>"$work/$1"
}
record_opts=("$@")
for i in $(seq 1 "$repeat"); do
    printf 'run %d/%d\r' "$i" "$repeat" >&2
    if ((i % 2)); then run plain; run recorded; else run recorded; run plain; fi
done
printf '\n' >&2

stats() { sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.0f %.0f %.0f\n", m, v[1], v[NR]}'; }
echo "profile $profile, allocator $alloc, $repeat runs each, $(nproc) CPUs, $(uname -r)"
printf '%-10s %12s %25s %12s %25s\n' mode 'ops/s' '(min - max)' 'ops/cpu-s' '(min - max)'
for mode in plain recorded; do
    read -r m lo hi < <(cut -d' ' -f1 "$work/$mode" | stats)
    read -r cm clo chi < <(cut -d' ' -f2 "$work/$mode" | stats)
    label=$mode
    [[ ${NOISE:-0} == 1 && $mode == recorded ]] && label="plain (B)"
    printf '%-10s %12s %25s %12s %25s\n' "$label" "$m" "($lo - $hi)" "$cm" "($clo - $chi)"
done
# Per pair: recorded / plain, ops/s and ops/cpu-s.
paste -d' ' "$work/recorded" "$work/plain" | awk '{ print $1 / $3, $2 / $4 }' >"$work/ratios"
read -r r rlo rhi < <(cut -d' ' -f1 "$work/ratios" | awk '{ printf "%.0f\n", $1 * 1e6 }' | stats)
read -r c clo chi < <(cut -d' ' -f2 "$work/ratios" | awk '{ printf "%.0f\n", $1 * 1e6 }' | stats)
awk -v r="$r" -v lo="$rlo" -v hi="$rhi" -v c="$c" -v clo="$clo" -v chi="$chi" 'BEGIN {
    printf "per-pair ratio, ops/s:     median %.4f (%.4f - %.4f): %+.2f %%\n", r / 1e6, lo / 1e6, hi / 1e6, (r / 1e6 - 1) * 100
    printf "per-pair ratio, ops/cpu-s: median %.4f (%.4f - %.4f): %+.2f %%\n", c / 1e6, clo / 1e6, chi / 1e6, (c / 1e6 - 1) * 100 }'
[[ ${NOISE:-0} == 1 ]] && exit 0
sqlite3 "$db" "SELECT 'collector CPU per run: median of ' || count(*) || ' runs ' ||
    printf('%.3f s (%.2f %% of one CPU over the run), min %.3f s, max %.3f s; ', 
        (SELECT collector_cpu_s FROM runs ORDER BY collector_cpu_s LIMIT 1 OFFSET (SELECT count(*) FROM runs) / 2),
        100.0 * (SELECT collector_cpu_s / wall_s FROM runs ORDER BY collector_cpu_s LIMIT 1 OFFSET (SELECT count(*) FROM runs) / 2),
        min(collector_cpu_s), max(collector_cpu_s)) ||
    printf('%.0f samples per run (%.0f from smaps_rollup or smaps), %.0f snapshots',
        avg(samples), avg((SELECT count(*) FROM samples s WHERE s.run_id = runs.run_id AND s.source IN ('rollup', 'smaps'))),
        avg(snapshots)) FROM runs"
