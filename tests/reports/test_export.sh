#!/usr/bin/env bash
# hak export DB --csv DIR: every table as DIR/TABLE.csv with a header row and RFC 4180 quoting,
# read back by python3's csv module to the database's own values; bad arguments and files are one
# line and an exit code.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to read the CSV files back"

DB=$WORK/run.db
make_db "$DB" hakmem
# A command whose text holds a comma, quotes and a line break.
"$HAK" record -q -o "$DB" -- /bin/sh -c 'true "a,b" '"'\"q\"'"'
true' >/dev/null 2>&1 || fail "hak record of sh failed"
"$HAK" export "$DB" --csv "$WORK/csv" >"$WORK/export.out" 2>"$WORK/export.err" || {
    cat "$WORK/export.err"
    fail "hak export exited non-zero"
}
for t in $(sql "$DB" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"); do
    [[ -f $WORK/csv/$t.csv ]] || fail "no $t.csv"
    grep -qx "$WORK/csv/$t.csv" "$WORK/export.out" || fail "hak export did not list $t.csv"
done
sql "$DB" "SELECT run_id, command, alloc_build, wall_s FROM runs ORDER BY run_id" >"$WORK/db.txt"
python3 - "$WORK/csv" "$DB" <<'PY' || fail "the CSV files do not read back to the database's values"
import csv, sqlite3, sys
d, db = sys.argv[1], sqlite3.connect(sys.argv[2])
for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
    with open(f"{d}/{table}.csv", newline="") as f:
        rows = list(csv.reader(f))
    cur = db.execute(f'SELECT * FROM "{table}"')
    header = [c[0] for c in cur.description]
    assert rows[0] == header, (table, rows[0], header)
    want = [["" if v is None else str(v) for v in r] for r in cur.fetchall()]
    got = rows[1:]
    assert len(got) == len(want), (table, len(got), len(want))
    # Reals are written with SQLite's own text: compare numbers as numbers.
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            try:
                assert abs(float(a) - float(b)) <= 1e-9 * max(1, abs(float(b))), (table, a, b)
            except ValueError:
                assert a == b, (table, a, b)
cmd = [r for r in csv.DictReader(open(f"{d}/runs.csv", newline=""))][-1]["command"]
assert "a,b" in cmd and '"q"' in cmd and "\n" in cmd, cmd
PY

# Bad arguments and files.
bad() {
    local what=$1 want=$2
    shift 2
    rc=0
    "$HAK" export "$@" >/dev/null 2>"$WORK/bad.err" || rc=$?
    expect_one_line "$WORK/bad.err" "$what"
    [[ $rc -eq $want ]] || fail "$what: exit $rc, expected $want"
}
bad "no --csv" 2 "$DB"
bad "no database" 2 --csv "$WORK/x"
bad "an unknown option" 2 "$DB" --xml "$WORK/x"
bad "a missing database" 1 "$WORK/missing.db" --csv "$WORK/x1"
echo "not a database" >"$WORK/text.db"
bad "a text file" 1 "$WORK/text.db" --csv "$WORK/x2"
sqlite3 "$WORK/foreign.db" "CREATE TABLE t (a)"
bad "a foreign SQLite file" 1 "$WORK/foreign.db" --csv "$WORK/x3"
[[ -e $WORK/x1 || -e $WORK/x2 || -e $WORK/x3 ]] && fail "a refused export created its folder"
bad "a folder that cannot be created" 1 "$DB" --csv "$WORK/no/such/dir"
echo PASS
