#!/usr/bin/env bash
# The allocation traces of datasets/traces/ (docs/traces.md): python3 running a short script,
# sqlite3 building indexes, gcc's compiler proper (cc1) compiling a file, sort ordering numbers.
#
#   scripts/make-traces.sh [OUT_DIR]           records them with `hak trace` (re-run after a format
#                                              change); each is the trace of the process that does
#                                              the work (the largest of the command's traces)
#   scripts/make-traces.sh --only NAME [OUT_DIR] records that one (make records python3 this way:
#                                              its trace is too big to keep in the repository)
#   scripts/make-traces.sh --fidelity [R]      heap high-water of each program and of the replay of
#                                              its trace on glibc, medians of R runs (default 5)
#   scripts/make-traces.sh --overhead S [R]    each program on S times its input, R times untraced
#                                              and R times under `hak trace`: elapsed s and max RSS
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HAK=$ROOT/build/bin/hak
MODE=record SCALE=1 REPEAT=5 ONLY=
case ${1:-} in
--fidelity) MODE=fidelity REPEAT=${2:-5} ;;
--overhead) MODE=overhead SCALE=${2:?--overhead needs a scale} REPEAT=${3:-5} ;;
--only)
    ONLY=${2:?--only needs a trace name (python3, sqlite3, gcc, sort)}
    shift 2
    ;;
esac
OUT=$ROOT/datasets/traces
[[ $MODE == record && -n ${1:-} ]] && OUT=$1
[[ -x $HAK ]] || { echo "make-traces: $HAK is missing (run make)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-traces.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

# record NAME CMD...: traces CMD in $WORK and keeps its largest process trace as OUT/NAME.trace.
record() {
    local name=$1
    shift
    [[ -z $ONLY || $ONLY == "$name" ]] || return 0
    (cd "$WORK" && "$HAK" trace -o "$name.trace" -- "$@" >/dev/null 2>"$name.err") ||
        { cat "$WORK/$name.err"; echo "make-traces: $name failed"; exit 1; }
    local biggest=$WORK/$name.trace f
    for f in "$WORK/$name.trace".*; do
        [[ -f $f && $(stat -c %s "$f") -gt $(stat -c %s "$biggest") ]] && biggest=$f
    done
    cp "$biggest" "$OUT/$name.trace"
    echo "make-traces: $OUT/$name.trace ($(stat -c %s "$OUT/$name.trace") bytes, from ${biggest##*/})"
}

# stats: "median (min–max)" of the numbers on stdin, one a line.
stats() {
    sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
        printf "%g (%g–%g)", m, v[1], v[NR]}'
}

# fidelity NAME CMD...: the program's heap high-water (libheapprobe.so: peak anonymous RSS less
# anonymous RSS before its first allocation, of its largest process) against the strict replay's
# (replay_peak_rss_kb - baseline_rss_kb), both on glibc, medians of REPEAT runs.
fidelity() {
    local name=$1 i line
    shift
    [[ -f $OUT/$name.trace ]] || { echo "make-traces: no $OUT/$name.trace"; exit 1; }
    : >"$WORK/$name.prog"
    : >"$WORK/$name.replay"
    for ((i = 0; i < REPEAT; i++)); do
        rm -f "$WORK/probe.txt" "$WORK/index.db" # sqlite3 starts from no database, as recorded
        (cd "$WORK" && HAK_HEAPPROBE_OUT=$WORK/probe.txt LD_PRELOAD=$ROOT/build/libheapprobe.so \
            "$@" >/dev/null 2>&1) || { echo "make-traces: $name failed"; exit 1; }
        tr ' ' '\n' <"$WORK/probe.txt" | sed -n 's/^heap_peak_kb=//p' | sort -g | tail -1 >>"$WORK/$name.prog"
        line=$("$ROOT/build/bin/replay" --strict=1 --rounds=1 "$OUT/$name.trace" 2>/dev/null | grep '^result ')
        tr ' ' '\n' <<<"$line" | awk -F= '$1 == "baseline_rss_kb" {b = $2} $1 == "replay_peak_rss_kb" {p = $2}
            END {print p - b}' >>"$WORK/$name.replay"
    done
    local prog replay
    prog=$(stats <"$WORK/$name.prog")
    replay=$(stats <"$WORK/$name.replay")
    printf '| %s | %s | %s | %+.1f %% |\n' "$name" "$prog" "$replay" \
        "$(awk -v p="${prog%% *}" -v r="${replay%% *}" 'BEGIN {print p ? (r - p) * 100 / p : 0}')"
}

# overhead NAME CMD...: elapsed seconds and max RSS (KiB) of CMD untraced and under hak trace,
# the two alternating run by run so that a busy machine weighs on both alike.
overhead() {
    local name=$1 i how
    shift
    : >"$WORK/$name.plain"
    : >"$WORK/$name.traced"
    for ((i = 0; i < REPEAT; i++)); do
        for how in plain traced; do
            rm -f "$WORK/index.db" # sqlite3 starts from no database, as recorded
            if [[ $how == plain ]]; then
                (cd "$WORK" && /usr/bin/time -o time.txt -f '%e %M' "$@" >/dev/null 2>&1)
            else
                (cd "$WORK" && /usr/bin/time -o time.txt -f '%e %M' \
                    "$HAK" trace -o "$name.trace" -- "$@" >/dev/null 2>&1)
            fi || { echo "make-traces: $name ($how) failed"; exit 1; }
            cat "$WORK/time.txt" >>"$WORK/$name.$how"
        done
    done
    printf '| %s | %s | %s | %s | %s |\n' "$name" \
        "$(cut -d' ' -f1 "$WORK/$name.plain" | stats)" "$(cut -d' ' -f1 "$WORK/$name.traced" | stats)" \
        "$(cut -d' ' -f2 "$WORK/$name.plain" | stats)" "$(cut -d' ' -f2 "$WORK/$name.traced" | stats)"
}

# The programs, each run as "$RUN NAME CMD...", on SCALE times the recorded input.
programs() {
    # The interpreter itself, not a version manager's shim script in front of it.  PYTHONMALLOC=
    # malloc sends every object through malloc: CPython's own small-object allocator would serve
    # them from arenas it maps itself, which no malloc trace sees.
    local python
    python=$(python3 -c 'import sys; print(sys.executable)')
    PYTHONMALLOC=malloc $RUN python3 "$python" -c '
import json, collections
words = ["w%d" % (i * 7919 % 5000) for i in range(60000 * '"$SCALE"')]
counts = collections.Counter(words)
doc = json.dumps({w: [c, w.upper()] for w, c in counts.items()})
print(len(json.loads(doc)), sorted(counts.values())[-3:])'

    cat >"$WORK/build.sql" <<SQL
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000 * $SCALE)
INSERT INTO t SELECT x, (x * 7919) % 1000, 'name-' || ((x * 31) % 5000) FROM c;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_name ON t(name);
SELECT count(*), count(DISTINCT name) FROM t;
SQL
    $RUN sqlite3 sqlite3 "$WORK/index.db" ".read $WORK/build.sql"

    # SCALE compilations of the same file: one cc1 each.
    local sources=() i
    for ((i = 1; i <= SCALE; i++)); do
        cp "$ROOT/trace/plan.c" "$WORK/plan$i.c"
        sources+=("$WORK/plan$i.c")
    done
    if ((SCALE == 1)); then
        $RUN gcc gcc -O0 -c "${sources[0]}" -I"$ROOT/trace" -o "$WORK/plan.o"
    else
        $RUN gcc gcc -O0 -c "${sources[@]}" -I"$ROOT/trace"
    fi

    seq 1 $((60000 * SCALE)) | awk '{print ($1 * 7919) % 100003}' >"$WORK/numbers.txt"
    $RUN sort sort -n "$WORK/numbers.txt"
}

case $MODE in
record) RUN=record ;;
fidelity)
    echo "| trace | program heap KiB | replay heap KiB | replay vs program |"
    echo "|---|---|---|---|"
    RUN=fidelity
    ;;
overhead)
    echo "| program (x$SCALE, $REPEAT runs) | untraced s | traced s | untraced max RSS KiB | traced max RSS KiB |"
    echo "|---|---|---|---|---|"
    RUN=overhead
    ;;
esac
programs
