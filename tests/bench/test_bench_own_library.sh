#!/usr/bin/env bash
# `--alloc NAME=PATH` measures a library of the user's own as a peer named NAME: two builds of
# hakmem side by side.  The table has a row NAME, the CSV rows carry NAME and the library, and
# hakmem's standing (and its paired figure) is taken against it when it is the only peer.  A
# library that does not replace malloc fails its runs ("preload did not take effect"); `hak
# record --alloc NAME=PATH` records the run under NAME.  No timing is asserted.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

# A second copy of the library under another path, as a build elsewhere would be.
cp "$LIBHAKMEM" "$WORK/libhakmem-base.so"
small_profile "$WORK/one.profile" "one small table" mallocfree
"$HAK" bench "$WORK/one.profile" --alloc "hakmem,base=$WORK/libhakmem-base.so" --repeat 2 -q \
    --csv "$WORK/runs.csv" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; fail "hak bench failed"; }
cat "$WORK/out"
grep -Eq '^base +2/2 ' "$WORK/out" || fail "no row 'base' with 2 of 2 runs"
grep -Eq '^hakmem +2/2 ' "$WORK/out" || fail "no row 'hakmem' with 2 of 2 runs"
grep -q "^hakmem: throughput [0-9.]*x the best peer (base)" "$WORK/out" ||
    fail "hakmem's standing is not taken against base"
grep -q "^hakmem: paired by repetition [0-9.]*x base's (.*, 2 pairs)" "$WORK/out" ||
    fail "no paired figure against base"
rows=$(awk -F, 'NR > 1 && $3 == "base"' "$WORK/runs.csv" | wc -l)
[[ $rows -eq 2 ]] || fail "the CSV has $rows rows for base, not 2"
grep -q "$WORK/libhakmem-base.so" "$WORK/runs.csv" || fail "the CSV does not name base's library"

# A library that is no malloc: every run of it fails, and says why.
zlib=
for f in /usr/lib/*-linux-gnu/libz.so.1 /lib/*-linux-gnu/libz.so.1 /usr/lib64/libz.so.1 /usr/lib/libz.so.1; do
    [[ -r $f ]] && { zlib=$f; break; }
done
if [[ -n $zlib ]]; then
    rc=0
    "$HAK" bench "$WORK/one.profile" --alloc "glibc,notmalloc=$zlib" >"$WORK/out2" 2>&1 || rc=$?
    [[ $rc -ne 0 ]] || fail "a run on a library that is no malloc counted"
    grep -q "preload did not take effect: the benchmark ran on 'glibc', not notmalloc" "$WORK/out2" ||
        { cat "$WORK/out2"; fail "no 'preload did not take effect' for notmalloc"; }
    echo "notmalloc=$zlib: its runs fail, as they should"
else
    fail "no libz.so.1 found to stand for a library that is no malloc"
fi

# The recorder takes the same entries.
"$HAK" record -o "$WORK/r.db" --alloc "base=$WORK/libhakmem-base.so" -- "$BIN/mallocfree" --pairs=20000 \
    >"$WORK/rec" 2>&1 || { cat "$WORK/rec"; fail "hak record --alloc base=PATH failed"; }
got=$(sqlite3 "$WORK/r.db" 'SELECT allocator FROM runs')
[[ $got == base ]] || fail "the run was recorded under '$got', not base"
echo "PASS"
