#!/usr/bin/env bash
# hak bench --perf: every run goes under perf record -e cpu-clock, and the table adds the
# allocator's CPU time per operation and the shares of the run's CPU time in the allocator and in
# the kernel; -o stores them as results alloc_ns_per_op, alloc_time_share and kernel_time_share
# (source perf), which hak diff compares.  The split must follow where the work is: the hot
# malloc/free loop spends most of its time in the allocator (hakmem's library, or glibc's malloc
# functions inside libc.so.6) and little in the kernel; the big-buffer loop spends it in the
# kernel (page faults on fresh buffers) and almost none in the allocator.  Shares are bounds far
# from either side, not timings.  Skips when perf record cannot sample here.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

command -v perf >/dev/null || skip "perf is not installed"
perf record -q -e cpu-clock -o "$WORK/probe.data" true >/dev/null 2>&1 ||
    skip "perf record -e cpu-clock does not work here"

# column value of allocator $1 in table file $2, counted from the end ($3: 1 = last)
col() { awk -v a="$1" -v k="$3" '$1 == a { print $(NF - k + 1) }' "$2"; }

"$HAK" bench icount --perf --alloc hakmem,glibc --set pairs=3000000 -q -o "$WORK/hot.db" \
    >"$WORK/hot" 2>"$WORK/hot.err" || { cat "$WORK/hot" "$WORK/hot.err"; fail "hak bench --perf failed (hot loop)"; }
cat "$WORK/hot"
grep -q "cpu-clock" "$WORK/hot.err" || fail "hak bench did not say it samples with perf"
grep -q "alloc ns/op  (min - max)      alloc %  kernel %" "$WORK/hot" || fail "no CPU-time columns in the table"
for a in hakmem glibc; do
    alloc=$(col $a "$WORK/hot" 2) kernel=$(col $a "$WORK/hot" 1) ns=$(col $a "$WORK/hot" 6)
    awk -v al="$alloc" -v k="$kernel" -v ns="$ns" 'BEGIN { exit !(al > 30 && k < al && ns > 0.5) }' ||
        fail "$a, hot loop: alloc ${alloc}%, kernel ${kernel}%, ${ns} ns/op: expected most time in the allocator"
done
grep -q "ns of allocator CPU time per op" "$WORK/hot" || fail "no line comparing hakmem's allocator time"
n=$(sqlite3 "$WORK/hot.db" "SELECT count(*) FROM results WHERE source = 'perf'
    AND ((key = 'alloc_ns_per_op' AND value > 0)
      OR (key IN ('alloc_time_share', 'kernel_time_share') AND value BETWEEN 0 AND 1))")
[[ $n -eq 6 ]] || fail "$n CPU-time results stored in the run database, expected 6"

# hak diff compares the allocator's CPU time per op, lower being better: the same database
# passes the gate, one where hakmem's allocator took 50 % longer fails it.
cp "$WORK/hot.db" "$WORK/slow.db"
"$HAK" diff "$WORK/hot.db" "$WORK/slow.db" --fail-if-worse 10 >"$WORK/same" 2>&1 ||
    { cat "$WORK/same"; fail "identical databases failed the gate"; }
grep -q "| hakmem | alloc ns/op .*| within noise |" "$WORK/same" || { cat "$WORK/same"; fail "hak diff shows no alloc ns/op row"; }
sqlite3 "$WORK/slow.db" "UPDATE results SET value = value * 1.5 WHERE key = 'alloc_ns_per_op'
    AND run_id = (SELECT run_id FROM runs WHERE allocator = 'hakmem')"
rc=0
"$HAK" diff "$WORK/hot.db" "$WORK/slow.db" --fail-if-worse 10 >"$WORK/slower" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { cat "$WORK/slower"; fail "50 % more allocator time passed --fail-if-worse 10 (exit $rc)"; }
grep -q "| hakmem | alloc ns/op .*| worse |" "$WORK/slower" || fail "the doctored allocator time is not called worse"
grep -q "| glibc | alloc ns/op .*| within noise |" "$WORK/slower" || fail "glibc's unchanged allocator time is not within noise"

"$HAK" bench bigbuf --perf --alloc hakmem,glibc --set rounds=10 --set idle_ms=0 -q \
    >"$WORK/big" 2>"$WORK/big.err" || { cat "$WORK/big" "$WORK/big.err"; fail "hak bench --perf failed (bigbuf)"; }
cat "$WORK/big"
for a in hakmem glibc; do
    alloc=$(col $a "$WORK/big" 2) kernel=$(col $a "$WORK/big" 1)
    awk -v al="$alloc" -v k="$kernel" 'BEGIN { exit !(k > 50 && al < 10) }' ||
        fail "$a, bigbuf: alloc ${alloc}%, kernel ${kernel}%: expected most time in the kernel"
done

# Sampled times and valgrind's counts are one run each: asking for both is one line and exit 2.
rc=0
"$HAK" bench icount --perf --icount --alloc glibc -q >"$WORK/both" 2>&1 || rc=$?
[[ $rc -eq 2 && $(wc -l <"$WORK/both") -eq 1 ]] || { cat "$WORK/both"; fail "--perf with --icount: exit $rc"; }
grep -q "one or the other" "$WORK/both" || fail "--perf with --icount: the message does not say why"

# Without perf on the PATH: one line that says what to install, exit 2.
rc=0
PATH=/nonexistent "$HAK" bench icount --perf --alloc glibc -q >"$WORK/noperf" 2>&1 || rc=$?
[[ $rc -eq 2 && $(wc -l <"$WORK/noperf") -eq 1 ]] || { cat "$WORK/noperf"; fail "--perf without perf: exit $rc"; }
grep -q "linux-perf" "$WORK/noperf" || { cat "$WORK/noperf"; fail "--perf without perf: the message does not name the package"; }
echo "PASS"
