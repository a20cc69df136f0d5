#!/usr/bin/env bash
# The unit tests, built against plain glibc (build/tests-glibc/), pass with
# hakmem preloaded: the shared library replaces every API call, C++ new and
# delete included, and the hakmem-only checks find hakmem through dlsym and
# run too.  A test that needs hakmem linked in may skip (exit 77), but
# unit_size_classes must pass: it fails unless hakmem serves malloc.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/lib.sh"
assert_preloaded

dir=$BUILD_DIR/tests-glibc
shopt -s nullglob
units=("$dir"/unit_*)
[[ ${#units[@]} -gt 0 ]] || fail "no unit tests in $dir: run make test-build"
[[ -x "$dir/unit_size_classes" ]] || fail "$dir/unit_size_classes is missing: run make test-build"

failed=0
for t in "${units[@]}"; do
    name=$(basename "$t")
    rc=0
    (LD_PRELOAD="$LIB" timeout 120 "$t"; exit $?) >"$WORK/$name.log" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then
        echo "ok   $name"
    elif [[ $rc -eq 77 && $name != unit_size_classes ]]; then
        echo "skip $name: $(grep -m1 '^SKIP: ' "$WORK/$name.log" | sed 's/^SKIP: //')"
    else
        echo "FAIL $name (exit $rc under LD_PRELOAD)"
        tail -n 15 "$WORK/$name.log" | sed 's/^/     | /'
        failed=1
    fi
done
exit $failed
