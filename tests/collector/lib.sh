# shellcheck shell=bash
# Sourced by the tests in tests/collector/: `hak record`, `hak bench -o` and the run database.
# Builds on tests/bench/lib.sh (paths, WORK, skip/fail, field); adds sqlite3 queries.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../bench/lib.sh"

command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed (scripts/install-deps.sh installs it)"

# sql DB QUERY: one value per line, columns separated by '|'.
sql() {
    sqlite3 -batch "$1" "$2"
}

# expect_one_line FILE WHAT: the file holds exactly one line (an error message), shown in the log.
expect_one_line() {
    cat "$1"
    [[ $(wc -l <"$1") -eq 1 ]] || fail "$2: expected one line on stderr, got $(wc -l <"$1")"
}

# expect_fail STATUS WHAT CMD...: CMD exits STATUS with exactly one line on stderr ($WORK/err).
expect_fail() {
    local want=$1 what=$2 rc=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [[ $rc -eq $want ]] || { cat "$WORK/err"; fail "$what: exit $rc, expected $want"; }
    expect_one_line "$WORK/err" "$what"
}

# wait_file FILE: waits until FILE exists (a command's signal that it reached a state); the bound
# only keeps a broken recorder from hanging the test.
wait_file() {
    for ((i = 0; i < 1200; i++)); do
        [[ -e $1 ]] && return 0
        sleep 0.05
    done
    fail "timed out waiting for $1"
}
