#!/usr/bin/env bash
# The stress tests, at a quarter of their work, under each non-default
# setting of hakmem's options (allocator/config.def): checking mode, Tiny
# served by Mid, minimal caches, no retained Large spans or SuperSlabs.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/../compat/lib.sh"

dir=$BUILD_DIR/tests
variants=(
    HAKMEM_CHECK=1
    HAKMEM_TINY_USE_SUPERSLAB=0
    HAKMEM_TINY_CACHE_MAX=1
    HAKMEM_MID_CACHE_KB=0
    HAKMEM_LARGE_CACHE_MB=0
    HAKMEM_SS_KEEP=0
)
tests=(stress_mixed_tiers stress_cross_thread stress_thread_churn stress_realloc_chain stress_quiet_reclaim stress_purge_churn)
for t in "${tests[@]}"; do
    [[ -x "$dir/$t" ]] || fail "$dir/$t is missing: run make test-build"
done

failed=0
for v in "${variants[@]}"; do
    for t in "${tests[@]}"; do
        rc=0
        (env "$v" TEST_SCALE=25 timeout 120 "$dir/$t"; exit $?) >"$WORK/$t.log" 2>&1 || rc=$?
        if [[ $rc -eq 0 ]]; then
            echo "ok   $v $t"
        else
            echo "FAIL $v $t (exit $rc)"
            tail -n 10 "$WORK/$t.log" | sed 's/^/     | /'
            failed=1
        fi
    done
done
exit $failed
