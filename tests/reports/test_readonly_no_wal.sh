#!/usr/bin/env bash
# The read-only verbs leave nothing beside a run database: a closed recording is a plain file
# (the writer returns it to a rollback journal), so report, plot and diff create no -wal or -shm.
# A crashed run's note reads as a sentence.
source "$(dirname "$0")/lib.sh"

db=$WORK/run.db
"$HAK" record -q -o "$db" -- true || fail "hak record of true failed"
[[ ! -e $db-wal && ! -e $db-shm ]] || fail "hak record left -wal/-shm behind after it closed"
"$HAK" report "$db" >"$WORK/report.md" || fail "hak report failed"
"$HAK" diff "$db" "$db" >/dev/null 2>&1 || true
"$HAK" plot "$db" -o "$WORK/charts" >/dev/null 2>&1 || true
ls "$WORK" | grep -E 'run\.db-(wal|shm)' && fail "a read-only verb left -wal/-shm beside the database"

# A run that did not complete: "partial and are used ...", words apart.
"$HAK" record -q -o "$db" -- sh -c 'exit 3' || true
"$HAK" report "$db" >"$WORK/report.md" || fail "hak report of a failed run failed"
grep -q "partial and are used" "$WORK/report.md" || fail "the partial-run note runs words together"
ls "$WORK" | grep -E 'run\.db-(wal|shm)' && fail "a read-only verb left -wal/-shm beside the database"
echo ok
