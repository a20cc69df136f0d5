#!/usr/bin/env bash
# The unified runner: one profile, several allocators, side by side.
#
#   scripts/larson.sh PROFILE [ALLOCATOR...]
#   REPEAT=5 scripts/larson.sh larson-server hakmem mimalloc
#
# PROFILE is a name from datasets/profiles/ (scripts/larson.sh --list shows them) or a path to a
# .profile file; ALLOCATORs are hakmem, glibc, mimalloc, jemalloc, tcmalloc (default: every one
# installed).  REPEAT (default 3) runs per allocator, interleaved.  Extra hak bench options go in
# HAK_BENCH_OPTS, e.g. HAK_BENCH_OPTS="--threads 4 --csv out/larson.csv".
# This is a thin wrapper: the work is done by `build/bin/hak bench` (docs/benchmarks.md).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
hak=${HAK:-$root/build/bin/hak}

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    echo "usage: scripts/larson.sh PROFILE [ALLOCATOR...]   (REPEAT=N, HAK_BENCH_OPTS=...)" >&2
    exit 2
fi
if [[ ! -x $hak ]]; then
    echo "larson.sh: $hak is not built (run make)" >&2
    exit 2
fi
if [[ $1 == --list ]]; then
    exec "$hak" bench --list
fi

profile=$1
shift
args=(bench "$profile" --repeat "${REPEAT:-3}")
if [[ $# -gt 0 ]]; then
    allocs=$(IFS=,; echo "$*")
    args+=(--alloc "$allocs")
fi
# shellcheck disable=SC2206 # HAK_BENCH_OPTS is a list of words on purpose
args+=(${HAK_BENCH_OPTS:-})
exec "$hak" "${args[@]}"
