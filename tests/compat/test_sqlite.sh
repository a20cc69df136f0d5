#!/usr/bin/env bash
# sqlite3 builds and queries a 100k-row table the same way with and without hakmem.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/lib.sh"
need sqlite3
assert_preloaded

cat >"$WORK/script.sql" <<'SQL'
PRAGMA synchronous = OFF;
PRAGMA journal_mode = MEMORY;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, val REAL, blob BLOB);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t
SELECT x, (x * 7919) % 1000, 'name-' || ((x * 31) % 5000) || substr('abcdefghijklmnopqrstuvwxyz', 1 + x % 26),
       x * 1.5, zeroblob(x % 700)
FROM c;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(k), total(val), count(DISTINCT name), sum(length(blob)) FROM t;
SELECT k, count(*), avg(val) FROM t GROUP BY k ORDER BY count(*) DESC, k LIMIT 5;
SELECT name, count(*), min(id), max(id) FROM t WHERE k < 10 GROUP BY name ORDER BY name LIMIT 5;
SELECT length(group_concat(name, ',')) FROM (SELECT name FROM t ORDER BY name DESC LIMIT 20000);
UPDATE t SET name = upper(name) WHERE id % 10 = 0;
DELETE FROM t WHERE k % 8 = 1;
SELECT count(*), count(DISTINCT name), max(name) FROM t;
SELECT a.k % 10, count(*) FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.id < 20000 GROUP BY 1 ORDER BY 1;
VACUUM;
PRAGMA integrity_check;
SQL

run_sqlite() {
    local db
    db=$(mktemp "$WORK/db.XXXXXX")
    rm -f "$db"
    sqlite3 "$db" <"$WORK/script.sql"
}
same_output sqlite run_sqlite
