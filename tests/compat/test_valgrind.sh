#!/usr/bin/env bash
# Memcheck over hakmem's own code.  The tests linked with libhakmem.a run under
# valgrind with --soname-synonyms=somalloc=nouserintercepts, which stops
# valgrind from swapping in its own malloc for the one in the executable, so
# hakmem really runs and memcheck watches its reads and writes: uses of
# uninitialised values, accesses outside any mapping, bad syscall arguments.
# (Memcheck cannot see overruns between blocks inside hakmem's own mappings;
# the pattern checks of the stress tests cover those.)
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/lib.sh"
need valgrind

dir=$BUILD_DIR/tests
for t in unit_size_classes unit_api stress_mixed_tiers stress_cross_thread; do
    [[ -x "$dir/$t" ]] || fail "$dir/$t is missing: run make test-build"
done

failed=0
run_memcheck() {
    local name=$1 rc=0
    shift
    TEST_SCALE=${VALGRIND_TEST_SCALE:-5} timeout 240 valgrind -q --error-exitcode=99 \
        --soname-synonyms=somalloc=nouserintercepts --track-origins=yes \
        "$dir/$name" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "FAIL $name under memcheck (exit $rc)"
        grep -v '^==[0-9]*== *$' "$WORK/$name.log" | head -n 60
        failed=1
        return
    fi
    echo "ok   $name under memcheck"
}

# unit_size_classes fails if valgrind's malloc (exact usable sizes) stood in
# for hakmem's (size classes): proof that hakmem is what memcheck watched.
run_memcheck unit_size_classes
run_memcheck unit_api
run_memcheck stress_mixed_tiers
run_memcheck stress_cross_thread
exit $failed
