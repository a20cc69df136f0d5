#!/usr/bin/env bash
# hak bench --icount on a tiny fixed amount of work (10 k pairs, hakmem and glibc): instructions
# per op are a positive number, stored in the run database as result instr_per_op (source
# icount), and hak diff --fail-if-worse fails a database whose count is doctored higher.
# No timing is asserted.  Skips when valgrind is missing (this machine has no PMU for perf).
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || skip "valgrind is not installed"
export HAK_ICOUNT_TOOL=callgrind

"$HAK" bench icount --icount --alloc hakmem,glibc --set pairs=10000 -q -o "$WORK/a.db" \
    >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; fail "hak bench --icount failed"; }
cat "$WORK/out"
grep -q "callgrind" "$WORK/err" || fail "hak bench did not say which counter it used"
for a in hakmem glibc; do
    v=$(awk -v a=$a '$1 == a { print $(NF-3) }' "$WORK/out")
    awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || fail "$a: instr/op '$v' is not a positive number"
done
n=$(sqlite3 "$WORK/a.db" "SELECT count(*) FROM results WHERE key = 'instr_per_op' AND source = 'icount' AND value > 0")
[[ $n -eq 2 ]] || fail "expected 2 instr_per_op results in the database, found $n"

cp "$WORK/a.db" "$WORK/b.db"
"$HAK" diff "$WORK/a.db" "$WORK/b.db" --fail-if-worse 5 >/dev/null || fail "identical databases failed the gate"
sqlite3 "$WORK/b.db" "UPDATE results SET value = value * 1.2 WHERE key = 'instr_per_op' AND run_id = (SELECT run_id FROM runs WHERE allocator = 'hakmem')"
rc=0
"$HAK" diff "$WORK/a.db" "$WORK/b.db" --fail-if-worse 5 >"$WORK/diff" 2>&1 || rc=$?
grep "instr/op" "$WORK/diff" || true
[[ $rc -eq 1 ]] || fail "a 20 % higher instruction count passed --fail-if-worse 5 (exit $rc)"
grep -q "| hakmem | instr/op .*| worse |" "$WORK/diff" || fail "the doctored count is not called worse"
echo "PASS"
