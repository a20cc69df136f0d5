#!/usr/bin/env bash
# sort(1) orders a generated 200k-line file the same way with and without hakmem.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/lib.sh"
need sort awk
assert_preloaded

awk 'BEGIN {
    x = 12345
    for (i = 0; i < 200000; i++) {
        x = (x * 1103515245 + 12345) % 2147483648
        printf "%08x %d line-%d %s\n", x, x % 9973, i, substr("qwertyuiopasdfghjklzxcvbnm", 1 + x % 20, 1 + x % 7)
    }
}' >"$WORK/input.txt"

run_sort() {
    export LC_ALL=C
    sort "$WORK/input.txt" | cksum
    sort -k2,2n -k1,1 --parallel=2 -S 8M "$WORK/input.txt" | cksum
    sort -u -k4,4 "$WORK/input.txt"
    sort -r "$WORK/input.txt" -o "$WORK/reversed.txt"
    head -n 5 "$WORK/reversed.txt"
}
same_output sort run_sort
