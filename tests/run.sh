#!/usr/bin/env bash
# Runs hakmem's tests: every executable in build/tests/ and every
# tests/*/test_*.sh script.  Exit status 0 = pass, 77 = skipped, anything
# else = fail.  One line per test; full logs in build/test-logs/.
#
#   tests/run.sh            run everything
#   tests/run.sh FILTER     run the tests whose name contains FILTER
#
# Environment: TEST_BUILD_DIR (default build), TESTS_BIN_DIR (default
# $TEST_BUILD_DIR/tests), TESTS_SCRIPTS=0 to leave out the shell tests,
# TEST_TIMEOUT seconds per test (default 300), TEST_SCALE percent of the
# stress tests' default work (default 100).  Shell tests find the build
# through TEST_ROOT, TEST_BUILD_DIR and TEST_LIB (the preloadable library).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
FILTER=${1:-}
BUILD_DIR=$(cd "${TEST_BUILD_DIR:-build}" 2>/dev/null && pwd) || {
    echo "build folder ${TEST_BUILD_DIR:-build} is missing: run make test-build"
    echo "0 passed, 1 failed"
    exit 1
}
BIN_DIR=${TESTS_BIN_DIR:-$BUILD_DIR/tests}
LOG_DIR=$BUILD_DIR/test-logs
TIMEOUT=${TEST_TIMEOUT:-300}

export TEST_ROOT="$ROOT"
export TEST_BUILD_DIR="$BUILD_DIR"
export TEST_LIB="$BUILD_DIR/libhakmem.so"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mkdir -p "$LOG_DIR"

names=()
cmds=()
if [[ -d "$BIN_DIR" ]]; then
    for f in "$BIN_DIR"/*; do
        [[ -f "$f" && -x "$f" ]] || continue
        names+=("$(basename "$f")")
        cmds+=("$f")
    done
fi
if [[ "${TESTS_SCRIPTS:-1}" != 0 ]]; then
    for f in tests/*/test_*.sh; do
        [[ -f "$f" ]] || continue
        name=${f#tests/}
        names+=("${name%.sh}")
        cmds+=("bash $f")
    done
fi

passed=0
failed=0
skipped=0
ran=0
failed_names=()

for i in "${!names[@]}"; do
    name=${names[$i]}
    [[ -z "$FILTER" || "$name" == *"$FILTER"* ]] || continue
    ran=$((ran + 1))
    log="$LOG_DIR/${name//\//_}.log"
    start=$(date +%s.%N)
    # The subshell reports a test killed by a signal ("Aborted") into the log,
    # not onto the runner's output.
    # shellcheck disable=SC2086  # cmds holds "bash script" for shell tests
    (
        timeout -k 10 "$TIMEOUT" ${cmds[$i]} </dev/null
        exit $?
    ) >"$log" 2>&1
    rc=$?
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    if [[ $rc -eq 0 ]]; then
        echo "PASS $name (${secs}s)"
        passed=$((passed + 1))
    elif [[ $rc -eq 77 ]]; then
        reason=$(grep -m1 '^SKIP: ' "$log" | sed 's/^SKIP: //')
        echo "SKIP $name: ${reason:-no reason given}"
        skipped=$((skipped + 1))
    else
        case $rc in
        124 | 137) why="timed out after ${TIMEOUT}s" ;;
        *) why="exit $rc" ;;
        esac
        if [[ $rc -gt 128 && $rc -ne 137 ]]; then
            why="killed by signal $((rc - 128))"
        fi
        echo "FAIL $name (${secs}s, $why; full log: $log)"
        tail -n 20 "$log" | sed 's/^/    | /'
        failed=$((failed + 1))
        failed_names+=("$name")
    fi
done

if [[ $ran -eq 0 ]]; then
    echo "no tests found${FILTER:+ matching \"$FILTER\"} (looked in $BIN_DIR and tests/*/test_*.sh)"
    echo "0 passed, 1 failed"
    exit 1
fi

if [[ $failed -gt 0 ]]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
