#!/usr/bin/env bash
# A run that crashes, runs on the wrong allocator or overstays its timeout is reported as it
# happens, counted in the table (ok/total), and makes `hak bench` exit 1; the other allocators'
# runs still complete and are tabulated.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

ulimit -c 0 # the crashing runs must not leave core files behind
command -v cc >/dev/null 2>&1 || skip "no C compiler to build the crashing test library"
printf '#include <stdlib.h>\n__attribute__((constructor)) static void crash(void) { abort(); }\n' >"$WORK/crash.c"
cc -shared -fPIC -o "$WORK/crash.so" "$WORK/crash.c" || fail "cannot build the crashing test library"
printf 'description = one short larson run\n[larson]\nruntime = 1\nblocks = 500\nrounds = 10\n' >"$WORK/short.profile"

echo "== an allocator whose library aborts the process"
rc=0
HAK_LIBHAKMEM=$WORK/crash.so "$HAK" bench "$WORK/short.profile" --alloc hakmem,glibc -q \
    >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err" "$WORK/out"
[[ $rc -eq 1 ]] || fail "expected exit status 1, got $rc"
grep -q 'larson hakmem    rep 1/1: FAILED: killed by signal 6' "$WORK/err" || fail "the crash was not reported"
grep -q '1 of 2 runs failed' "$WORK/err" || fail "no failure count"
grep -qE '^hakmem +0/1 +- +\(all runs failed\)$' "$WORK/out" || fail "the table does not show hakmem's failed run"
grep -qE '^glibc +1/1 ' "$WORK/out" || fail "glibc's run is missing from the table"

echo "== a library that is not the allocator asked for"
pre=$(preload_of glibc)
other=""
for a in mimalloc jemalloc tcmalloc; do
    other=$(preload_of "$a")
    [[ -n $other ]] && break
done
if [[ -n $other ]]; then
    rc=0
    HAK_LIBHAKMEM=$other "$HAK" bench "$WORK/short.profile" --alloc hakmem -q >"$WORK/out" 2>"$WORK/err" || rc=$?
    cat "$WORK/err"
    [[ $rc -eq 1 ]] || fail "expected exit status 1, got $rc"
    grep -q "FAILED: preload did not take effect: the benchmark ran on '$a', not hakmem" "$WORK/err" ||
        fail "a run on the wrong allocator was not caught"
else
    echo "(no peer installed to stand in for hakmem: part skipped)"
fi
[[ -z $pre ]] || fail "glibc should need no preload, got '$pre'"

echo "== a run that overstays --timeout"
rc=0
"$HAK" bench "$WORK/short.profile" --alloc glibc --set runtime=30 --timeout 1 -q >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err"
[[ $rc -eq 1 ]] || fail "expected exit status 1, got $rc"
grep -q 'FAILED: timed out after 1 s' "$WORK/err" || fail "the timeout was not reported"
echo "ok"
