#!/usr/bin/env bash
# hak plot on a run that started several processes (sh -c 'A & B & ...; wait'): the Rss chart
# draws, beside the total, one line per process for the largest ones, named by command and pid as
# the database has them, and the rest summed into one "others" line; each line is that process's
# own Rss, so the lines stand in the order of the processes' peaks.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
PY=/usr/bin/python3
[[ -x $PY ]] || skip "$PY is not installed"

# A program that holds MiB of memory (every page touched) for a while, then exits.
hold() { # MIB
    echo "$PY -c 'import time; x=bytearray($1<<20); x[::4096]=b\"x\"*len(x[::4096]); time.sleep(0.5)'"
}
DB=$WORK/procs.db
"$HAK" record -q -o "$DB" -- sh -c "$(hold 64) & $(hold 40) & $(hold 24) & $(hold 1) & $(hold 1); wait" \
    >"$WORK/record.log" 2>&1 || {
    cat "$WORK/record.log"
    fail "hak record of sh -c with five children failed"
}
sql "$DB" "SELECT pid, comm, max(rss_kb) FROM process_samples GROUP BY pid, comm ORDER BY 3 DESC, pid"
images=$(sql "$DB" "SELECT count(*) FROM (SELECT 1 FROM process_samples GROUP BY pid, comm)")
[[ $images -ge 6 ]] || fail "the recording holds $images process images, expected sh and five children"
"$HAK" plot "$DB" -o "$WORK/charts" >"$WORK/plot.out" 2>"$WORK/plot.err" || {
    cat "$WORK/plot.err"
    fail "hak plot exited non-zero"
}
svg=$WORK/charts/rss-command.svg
[[ -f $svg ]] || fail "no Rss chart (rss-command.svg)"
# The three largest images by peak, as "comm(pid)", then "others(N)" for the rest.
mapfile -t top < <(sql "$DB" "SELECT comm || '(' || pid || ')' FROM process_samples
    GROUP BY pid, comm ORDER BY max(rss_kb) DESC, pid LIMIT 3")
others="others($((images - 3)))"
# Every line of the chart (gnuplot names each plot's group by its key title), with the highest
# point it reaches: the smallest y in the SVG's pixels.
python3 - "$svg" "default" "${top[@]}" "$others" <<'PY' || fail "the Rss chart's lines are not the processes' own Rss"
import re, sys
svg = open(sys.argv[1]).read()
want = sys.argv[2:]
peaks = {}
for m in re.finditer(r"<g id=\"gnuplot_plot_\d+\" ><title>([^<]*)</title>(.*?)(?=<g id=\"gnuplot_plot_|\Z)", svg, re.S):
    paths = re.findall(r"<path[^>]* d='([^']*)'", m.group(2))
    if not paths:
        continue
    pts = [tuple(map(float, p)) for p in re.findall(r"([\d.]+),([\d.]+)", paths[0])]
    # The first segment is the line's sample in the key; the rest is the data.
    peaks[m.group(1)] = min(y for _, y in pts[2:])
print("lines and their highest point (px from the top):", peaks)
missing = [w for w in want if w not in peaks]
assert not missing, f"no line titled {missing}"
assert len(peaks) == len(want), f"{len(peaks)} lines, expected {len(want)}: {want}"
total, p1, p2, p3, rest = (peaks[w] for w in want)
assert total <= p1 + 0.5, "a process line reaches above the total"
assert p1 < p2 - 3 and p2 < p3 - 3, "the process lines are not in the order of their peaks"
assert p3 < rest - 3, "the others line is not the sum of the small processes only"
PY
grep -q "stroke-width=\"1.00\"" "$svg" || fail "the process lines are not drawn thinner than the totals"
echo PASS
