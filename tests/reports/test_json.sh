#!/usr/bin/env bash
# hak report --json and hak diff --json: one JSON document each, holding the database's figures,
# with names that carry quotes, backslashes and control characters escaped.  hak diff with
# nothing comparable exits 2 with one line, --fail-if-worse or not: a gate never passes empty.
source "$(dirname "$0")/lib.sh"

db=$WORK/run.db
make_db "$db" hakmem
# A command line nobody would choose: quotes, a backslash, a tab and a newline.
"$HAK" record -q -o "$db" -- sh -c 'true "q\"b\\	x
y"' || fail "hak record of sh failed"
"$HAK" report "$db" --json >"$WORK/report.json" || fail "hak report --json failed"
python3 - "$WORK/report.json" "$db" <<'PY' || fail "hak report --json does not hold the database's figures"
import json, sqlite3, sys
doc = json.load(open(sys.argv[1]))
con = sqlite3.connect(sys.argv[2])
runs = {r["run_id"]: r for r in doc["runs"]}
assert sorted(runs) == [r for (r,) in con.execute("SELECT run_id FROM runs ORDER BY run_id")], runs.keys()
for rid, r in runs.items():
    cmd, wall = con.execute("SELECT command, wall_s FROM runs WHERE run_id = ?", (rid,)).fetchone()
    assert r["command"] == cmd, (r["command"], cmd)
    assert abs(r["wall_s"] - wall) < 1e-9
    peak = con.execute("SELECT max(rss_kb) FROM samples WHERE run_id = ?", (rid,)).fetchone()[0]
    assert r["peak_rss_kb"] == peak, (r["peak_rss_kb"], peak)
battle = runs[1]
assert set(battle["phases"]) == {"baseline", "heavy", "idle", "after flush"}, battle["phases"]
base = con.execute("SELECT rss_kb FROM phase_samples WHERE run_id = 1 AND phase = 'baseline' "
                   "ORDER BY phase_seq LIMIT 1").fetchone()[0]
assert battle["phases"]["baseline"]["rss_kb"] == base
assert battle["counters"], "no hakmem counters"
assert '\n' in runs[2]["command"] and '\t' in runs[2]["command"]
assert runs[2]["phases"] == {}
PY

echo "== diff --json"
"$HAK" diff "$db" "$db" --json >"$WORK/diff.json" || fail "hak diff --json failed"
python3 - "$WORK/diff.json" <<'PY' || fail "hak diff --json is not the expected document"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["rows"]
assert rows and all(r["verdict"] == "within noise" for r in rows), rows
assert doc["within_noise"] == len(rows) and doc["worse"] == 0 and doc["better"] == 0
assert any(r["figure"] == "peak Rss" for r in rows)
PY

echo "== nothing comparable"
"$HAK" record -q -o "$WORK/other.db" --alloc glibc -- true || fail "hak record of true failed"
for gate in "" "--fail-if-worse 1"; do
    rc=0
    # shellcheck disable=SC2086
    "$HAK" diff "$db" "$WORK/other.db" $gate >"$WORK/out" 2>"$WORK/err" || rc=$?
    [[ $rc -eq 2 ]] || fail "diff with nothing comparable ($gate): exit $rc, expected 2"
    expect_one_line "$WORK/err" "diff with nothing comparable"
    grep -q "nothing to compare" "$WORK/err" || fail "the line does not say there was nothing to compare"
done
echo ok
