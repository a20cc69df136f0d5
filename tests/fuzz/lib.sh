# shellcheck shell=bash
# Shared by the libFuzzer test scripts of tests/fuzz/: runs from the tree's root with a scratch
# folder $WORK, and skips (77) unless $CC_FUZZ (FUZZ_CC, default clang) can build a harness with
# the fuzzer, address and undefined sanitizers.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
source tests/common/lib.sh

CC_FUZZ=${FUZZ_CC:-clang}
command -v "$CC_FUZZ" >/dev/null 2>&1 || skip "$CC_FUZZ is not installed (scripts/install-deps.sh installs clang)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    >"$WORK/probe.c"
"$CC_FUZZ" -fsanitize=fuzzer,address,undefined "$WORK/probe.c" -o "$WORK/probe" 2>"$WORK/probe.err" ||
    skip "$CC_FUZZ cannot build libFuzzer harnesses ($(head -n1 "$WORK/probe.err"); scripts/install-deps.sh installs libclang-rt-14-dev)"
