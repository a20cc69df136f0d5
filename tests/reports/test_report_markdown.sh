#!/usr/bin/env bash
# hak report: the Markdown holds the four phases of the overhead table with the figures stored in
# the run database, the idle/flush table, hakmem's counter digest and the allocators side by side.
source "$(dirname "$0")/lib.sh"

DB=$WORK/run.db
make_db "$DB" hakmem glibc
"$HAK" report "$DB" >"$WORK/report.md" 2>"$WORK/report.err" || {
    cat "$WORK/report.err"
    fail "hak report exited non-zero"
}
cat "$WORK/report.md"

hak_run=$(sql "$DB" "SELECT run_id FROM runs WHERE allocator = 'hakmem'")
# The figures as docs/schema.md defines them: baseline = first baseline mark, heavy = the burst
# mark with the highest Rss, idle and after flush = the last idle / flush mark.
q() { sql "$DB" "SELECT rss_kb, rss_net_kb FROM phase_samples WHERE run_id = $hak_run AND $1"; }
check_phase() {
    local label=$1 row=$2 rss net
    IFS='|' read -r rss net <<<"$row"
    [[ -n $rss ]] || fail "no $label mark in the database"
    grep -qF "| $label | $rss | $net |" "$WORK/report.md" ||
        fail "report lacks the $label row with Rss $rss and Rss-LazyFree $net"
}
check_phase baseline "$(q "phase = 'baseline' ORDER BY phase_seq LIMIT 1")"
check_phase heavy "$(q "phase = 'burst' ORDER BY rss_kb DESC LIMIT 1")"
check_phase idle "$(q "phase = 'idle' ORDER BY phase_seq DESC LIMIT 1")"
check_phase "after flush" "$(q "phase = 'flush' ORDER BY phase_seq DESC LIMIT 1")"

# hakmem's thread caches per phase: the heavy row holds the capacity and purge counters stored
# at the heavy snapshot (bytes and 4 KiB pages, shown in KiB).
heavy_seq=$(sql "$DB" "SELECT sample_seq FROM phase_samples WHERE run_id = $hak_run AND phase = 'burst' ORDER BY rss_kb DESC LIMIT 1")
kib() { sql "$DB" "SELECT printf('%.0f', value * $2) FROM counters WHERE run_id = $hak_run AND sample_seq = $heavy_seq AND name = '$1'"; }
row="| heavy | $(kib tiny_tcache_cap '1 / 1024.0') | $(kib mid_tcache_cap '1 / 1024.0') | $(kib tiny_cached '1 / 1024.0') | $(kib mid_cached '1 / 1024.0') | $(kib tiny_pages_purged 4) | $(kib mid_pages_purged 4) |"
[[ $(kib mid_tcache_cap 1) -gt 0 ]] || fail "hakmem's Mid caches had no capacity at the heavy mark"
grep -qF -- "$row" "$WORK/report.md" || fail "report lacks the thread-cache row '$row'"
grep -qF "| phase | tiny cache capacity | mid cache capacity |" "$WORK/report.md" ||
    fail "report lacks the thread-cache table's heading"

# hakmem's caches per size class: the class with the largest capacity at the heavy mark has its
# row, "capacity / cached" in KiB as stored in hakmem_classes.
read -r cls size cap held < <(sql "$DB" "SELECT cls, size, printf('%.0f', capacity * size / 1024.0),
    printf('%.0f', cached * size / 1024.0) FROM hakmem_classes WHERE run_id = $hak_run AND sample_seq = $heavy_seq
    ORDER BY capacity * size DESC, cls LIMIT 1" | tr '|' ' ')
[[ -n $cls ]] || fail "no size class stored at the heavy mark"
grep -qF "| $cls: $size B | " "$WORK/report.md" || fail "report lacks the size-class row of class $cls"
grep -F "| $cls: $size B | " "$WORK/report.md" | grep -qF "| $cap / $held |" ||
    fail "class $cls's row lacks the heavy cell '$cap / $held': $(grep -F "| $cls: $size B |" "$WORK/report.md")"

for want in "## battle" "### Side by side" "### Idle Rss before and after flush" \
    "### hakmem: overhead by phase" "### glibc: overhead by phase" "| free |" \
    "| refill |" "| held_tiny |" "| task-clock (ms) |"; do
    grep -qF -- "$want" "$WORK/report.md" || fail "report lacks '$want'"
done
grep -q '^| hakmem | 1/1 |' "$WORK/report.md" || fail "side-by-side table lacks hakmem's row"
grep -q '^| glibc | 1/1 |' "$WORK/report.md" || fail "side-by-side table lacks glibc's row"

# --run selects runs; an unknown one is a one-line error.
"$HAK" report "$DB" --run "$hak_run" >"$WORK/one.md" || fail "hak report --run $hak_run failed"
grep -q "glibc: overhead" "$WORK/one.md" && fail "--run $hak_run still reports glibc"
echo PASS
