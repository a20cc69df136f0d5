#!/usr/bin/env bash
# A run database written before version 3 (no process columns) is read by the reports as it is,
# and brought to the current version when hak record appends to it: its runs stay, the new run has
# its processes.  The version-2 file is made by taking the additions of versions 3 to 5 out of a
# fresh one.  The new run lives half a second: a command that ends before the recorder first reads it
# has no process to count, and this test is about the migration.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

db=$WORK/old.db
"$HAK" record -q -o "$db" -- sh -c 'true' 2>/dev/null || fail "hak record failed"
sql "$db" "DROP TABLE process_samples; ALTER TABLE samples DROP COLUMN processes;
    ALTER TABLE runs DROP COLUMN attached; ALTER TABLE runs DROP COLUMN processes;
    ALTER TABLE runs DROP COLUMN execs; ALTER TABLE runs DROP COLUMN gaps;
    ALTER TABLE runs DROP COLUMN longest_gap_ms;
    ALTER TABLE runs DROP COLUMN alloc_file; ALTER TABLE runs DROP COLUMN alloc_package;
    ALTER TABLE runs DROP COLUMN alloc_version; DROP TABLE hakmem_classes;
    UPDATE meta SET value = '2' WHERE key = 'schema_version'; PRAGMA user_version = 2;"
[[ $(sql "$db" "PRAGMA user_version") -eq 2 ]] || fail "could not make a version 2 database"
"$HAK" report "$db" >"$WORK/report.md" || fail "hak report cannot read a version 2 database"

"$HAK" record -q -o "$db" -- sh -c 'sh -c "sleep 0.5"' 2>/dev/null || fail "hak record cannot append to a version 2 database"
[[ $(sql "$db" "PRAGMA user_version") -eq 5 ]] || fail "the database was not migrated to version 5"
[[ $(sql "$db" "SELECT value FROM meta WHERE key = 'schema_version'") -eq 5 ]] || fail "meta.schema_version is not 5"
[[ $(sql "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'hakmem_classes'") -eq 1 ]] ||
    fail "the migration did not create hakmem_classes"
[[ $(sql "$db" "SELECT count(*) FROM runs") -eq 2 ]] || fail "the old run was lost"
[[ $(sql "$db" "SELECT processes IS NULL FROM runs WHERE run_id = 1") -eq 1 ]] || fail "the old run claims processes"
[[ $(sql "$db" "SELECT processes >= 1 FROM runs WHERE run_id = 2") -eq 1 ]] || fail "the new run has no processes"
[[ $(sql "$db" "PRAGMA integrity_check") == ok ]] || fail "integrity_check failed"
"$HAK" report "$db" >"$WORK/report.md" || fail "hak report cannot read the migrated database"
echo "PASS"
