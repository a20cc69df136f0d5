#!/usr/bin/env bash
# Bad inputs to hak record each give one line on stderr and their exit status, before anything
# runs: unknown event (2), unknown allocator (2), missing -o or command (2), a command that cannot
# be started (127 not found, 126 not executable), a database that is not one, a corrupt one, one
# that cannot be created or is read-only (1).
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

# expect STATUS WHAT PATTERN -- ARGS...: hak record ARGS exits STATUS with one line matching PATTERN.
expect() {
    local want=$1 what=$2 pattern=$3
    shift 4
    local rc=0
    "$HAK" record "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    echo "-- $what: exit $rc"
    expect_one_line "$WORK/err" "$what"
    [[ $rc -eq $want ]] || fail "$what: exit status $rc, expected $want"
    grep -qE "$pattern" "$WORK/err" || fail "$what: message does not match '$pattern'"
}

db=$WORK/ok.db
marker=$WORK/ran
expect 2 "unknown event" "unknown event 'no-such-event'" -- -o "$db" -e cycles,no-such-event -- touch "$marker"
expect 2 "unknown allocator" "unknown allocator 'nosuch'" -- -o "$db" --alloc nosuch -- touch "$marker"
expect 2 "no output" "no output database" -- -- touch "$marker"
expect 2 "no command" "no command given" -- -o "$db"
expect 2 "bad interval" "bad --interval" -- -o "$db" --interval 0 -- touch "$marker"
expect 127 "command not found" "cannot run no-such-command-here: command not found" -- -o "$db" -- no-such-command-here
expect 127 "missing path" "cannot run $WORK/missing: No such file" -- -o "$db" -- "$WORK/missing"
touch "$WORK/not-executable"
expect 126 "not executable" "cannot run .*not-executable: Permission denied" -- -o "$db" -- "$WORK/not-executable"
[[ ! -e $marker ]] || fail "a command ran although the command line was refused"
[[ ! -e $db ]] || fail "a refused command line created the database"

echo "not a database" >"$WORK/text.db"
expect 1 "not a database" "text.db: not an SQLite database" -- -o "$WORK/text.db" -- touch "$marker"
expect 1 "uncreatable path" "cannot open or create" -- -o /proc/no-such-dir/run.db -- touch "$marker"

# A real run database with damaged pages.
"$HAK" record -q -o "$WORK/damaged.db" --events none -- "$BIN/battle" --threads=1 --cycles=1 \
    --working_set=1M --churn=10 --idle_ms=0 >/dev/null || fail "recording the reference run failed"
sqlite3 "$WORK/damaged.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
pages=$(sqlite3 "$WORK/damaged.db" "PRAGMA page_count")
[[ $pages -gt 6 ]] || fail "the reference database has only $pages pages"
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(3 * 4096); f.write(b"\xff" * 4096 * 3)' \
    "$WORK/damaged.db"
expect 1 "corrupt database" "damaged.db: (corrupt run database|not an SQLite database, or a corrupt one)" -- -o "$WORK/damaged.db" -- touch "$marker"

# An SQLite database of something else.
sqlite3 "$WORK/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
expect 1 "foreign database" "other.db: an SQLite database, but not a hak run database" -- -o "$WORK/other.db" -- touch "$marker"

# A run database from a newer hak (schema version 99).
sqlite3 "$WORK/newer.db" "CREATE TABLE runs (x); PRAGMA user_version = 99;"
expect 1 "newer schema" "newer.db: schema version 99 is newer than this hak understands" -- -o "$WORK/newer.db" -- touch "$marker"
[[ $(sqlite3 "$WORK/newer.db" "PRAGMA user_version") -eq 99 ]] || fail "the newer database was changed"

# Read-only: a file without write permission (root ignores permissions, so run as nobody).
mkdir "$WORK/ro"
"$HAK" record -q -o "$WORK/ro/run.db" --events none -- true || fail "creating a database failed"
chmod 0444 "$WORK/ro/run.db"
chmod 0755 "$WORK/ro"
chmod 0755 "$WORK"
as_user=()
if [[ $(id -u) -eq 0 ]]; then
    command -v setpriv >/dev/null || skip "running as root without setpriv: cannot test a read-only database"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
# The checkout may sit below a directory nobody cannot enter: run a copy from $WORK.
cp "$HAK" "$WORK/hak" && chmod 0755 "$WORK/hak"
"${as_user[@]}" test -x "$WORK/hak" || skip "user nobody cannot run $WORK/hak"
rc=0
"${as_user[@]}" "$WORK/hak" record -o "$WORK/ro/run.db" -- touch "$marker" >"$WORK/out" 2>"$WORK/err" || rc=$?
echo "-- read-only database: exit $rc"
expect_one_line "$WORK/err" "read-only database"
[[ $rc -eq 1 ]] || fail "read-only database: exit status $rc, expected 1"
grep -q "run.db: read-only: cannot write the run database" "$WORK/err" || fail "read-only database: wrong message"
[[ ! -e $marker ]] || fail "a command ran although its database could not be written"
echo "ok"
