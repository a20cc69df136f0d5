#!/usr/bin/env bash
# Larson and battle run under every available allocator on the quick profile, exit 0 and produce a
# result: `hak bench quick` checks each run's result line names the allocator it preloaded.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

mapfile -t allocs < <(available_allocators)
[[ ${#allocs[@]} -ge 1 ]] || fail "no allocator available"
echo "allocators: ${allocs[*]}"
list=$(IFS=,; echo "${allocs[*]}")

"$HAK" bench quick --alloc "$list" --repeat 1 --csv "$WORK/runs.csv" >"$WORK/table.txt" 2>"$WORK/err.txt" ||
    { cat "$WORK/err.txt" "$WORK/table.txt"; fail "hak bench quick failed"; }
cat "$WORK/table.txt"

for a in "${allocs[@]}"; do
    for bench in larson battle; do
        row=$(grep -E "^quick,$bench,$a,1," "$WORK/runs.csv") || fail "no $bench run for $a in the CSV"
        [[ $row == *'"ok"'* ]] || fail "$bench under $a did not succeed: $row"
        ops=$(cut -d, -f6 <<<"$row")
        [[ $ops -gt 0 ]] || fail "$bench under $a reported no throughput: $row"
    done
    [[ $(grep -cE "^$a +1/1 " "$WORK/table.txt") -eq 2 ]] || fail "$a is missing from a table"
done

# The thin runner reaches the same code.
REPEAT=1 scripts/larson.sh quick glibc >"$WORK/sh.txt" 2>&1 || { cat "$WORK/sh.txt"; fail "scripts/larson.sh quick glibc failed"; }
grep -qE '^glibc +1/1 ' "$WORK/sh.txt" || { cat "$WORK/sh.txt"; fail "scripts/larson.sh printed no glibc row"; }
echo "ok"
