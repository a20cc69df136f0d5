#!/usr/bin/env bash
# A short run (25 s) of the allocator op-sequence fuzzer: random sequences of
# malloc/calloc/realloc/free/aligned allocations over all tiers, remote frees
# and flushes, checked against a shadow table of the live blocks.  Skipped
# where clang's libFuzzer is not installed.
# shellcheck source=tests/common/lib.sh
source "$(dirname "$0")/../common/lib.sh"

build=${TEST_BUILD_DIR:-build}
bin=$build/fuzz/alloc_ops_fuzz
if [[ ! -x $bin ]]; then
    command -v clang >/dev/null 2>&1 || skip "clang is not installed (scripts/install-deps.sh installs clang and libclang-rt-14-dev)"
    skip "$bin is missing: libFuzzer not found (libclang-rt-14-dev), or run make test-build"
fi
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
# -seed fixed per day: a failure can be rerun the same day with the logged seed
"$bin" -max_total_time="${FUZZ_SECONDS:-25}" -max_len=4096 -timeout=60 -seed="$(date +%Y%m%d)" \
    -artifact_prefix="$build/fuzz/" -print_final_stats=1 "$corpus" 2>&1 | tail -n 30
rc=${PIPESTATUS[0]}
[[ $rc -eq 0 ]] || fail "alloc_ops_fuzz exited with $rc (the failing input is saved as $build/fuzz/crash-*)"
echo "alloc_ops_fuzz: no failure in ${FUZZ_SECONDS:-25} s"
