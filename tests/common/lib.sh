# shellcheck shell=bash
# Shared by the shell tests' lib.sh files: the result conventions of tests/run.sh
# (exit 77 = skipped, printing "SKIP: reason"; exit 1 = failed).

skip() {
    echo "SKIP: $*"
    exit 77
}

fail() {
    echo "FAIL: $*"
    exit 1
}
