#!/usr/bin/env bash
# Records the allocation traces of datasets/traces/ on this machine with `hak trace`: python3
# running a short script, sqlite3 building indexes, gcc's compiler proper (cc1) compiling a file,
# sort ordering numbers.  Each is the trace of the process that does the work (the largest of the
# command's process traces).  Re-run after a format change:  scripts/make-traces.sh [OUT_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HAK=$ROOT/build/bin/hak
OUT=${1:-$ROOT/datasets/traces}
[[ -x $HAK ]] || { echo "make-traces: $HAK is missing (run make)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-traces.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

# record NAME CMD...: traces CMD in $WORK and keeps its largest process trace as OUT/NAME.trace.
record() {
    local name=$1
    shift
    (cd "$WORK" && "$HAK" trace -o "$name.trace" -- "$@" >/dev/null 2>"$name.err") ||
        { cat "$WORK/$name.err"; echo "make-traces: $name failed"; exit 1; }
    local biggest=$WORK/$name.trace f
    for f in "$WORK/$name.trace".*; do
        [[ -f $f && $(stat -c %s "$f") -gt $(stat -c %s "$biggest") ]] && biggest=$f
    done
    cp "$biggest" "$OUT/$name.trace"
    echo "make-traces: $OUT/$name.trace ($(stat -c %s "$OUT/$name.trace") bytes, from ${biggest##*/})"
}

# The interpreter itself, not a version manager's shim script in front of it.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
record python3 "$PYTHON" -c '
import json, collections
words = ["w%d" % (i * 7919 % 5000) for i in range(60000)]
counts = collections.Counter(words)
doc = json.dumps({w: [c, w.upper()] for w, c in counts.items()})
print(len(json.loads(doc)), sorted(counts.values())[-3:])'

cat >"$WORK/build.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000)
INSERT INTO t SELECT x, (x * 7919) % 1000, 'name-' || ((x * 31) % 5000) FROM c;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_name ON t(name);
SELECT count(*), count(DISTINCT name) FROM t;
SQL
record sqlite3 sqlite3 "$WORK/index.db" ".read $WORK/build.sql"

record gcc gcc -O0 -c "$ROOT/trace/plan.c" -I"$ROOT/trace" -o "$WORK/plan.o"

seq 1 60000 | awk '{print ($1 * 7919) % 100003}' >"$WORK/numbers.txt"
record sort sort -n "$WORK/numbers.txt"
