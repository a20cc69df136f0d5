#!/usr/bin/env bash
# hak trace records every allocation call of a program with known operations (threads with
# cross-thread frees, realloc, every aligned kind, a fork), and hak trace info counts them exactly:
# the difference between a run with the operations and one without is exactly what the program made.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
build_traced_ops
cd "$WORK" || fail "no scratch folder"
trace_without_and_with traced_ops

declare -A want=([malloc]=15 [calloc]=1 [realloc]=2 [free]=22 [posix_memalign]=1
    [aligned_alloc]=1 [memalign]=1 [valloc]=1 [pvalloc]=1)
for kind in "${!want[@]}"; do
    got=$(($(info_count ops.trace "$kind") - $(info_count base.trace "$kind")))
    [[ $got == "${want[$kind]}" ]] || fail "$kind: traced $got more calls, the program made ${want[$kind]}"
done
threads=$(info_field ops.trace threads)
[[ $threads -ge 3 ]] || fail "threads: $threads, the program ran 3"

# The fork: one child trace, with its 3 mallocs and 3 frees (one of an inherited block).
children=(ops.trace.*)
[[ ${#children[@]} == 1 && -f ${children[0]} ]] || fail "expected one child trace, found: ${children[*]}"
base_children=(base.trace.*)
for kind in malloc free; do
    got=$(($(info_count "${children[0]}" $kind) - $(info_count "${base_children[0]}" $kind)))
    [[ $got == 3 ]] || fail "child $kind: traced $got more, the child made 3"
done
"$HAK" trace info "${children[0]}" | grep -q "never allocated: 1 (blocks inherited across the fork)" ||
    fail "the child's free of an inherited block is not reported"
"$HAK" trace info ops.trace | grep -q "processes: 2" || fail "info does not count the child's trace"
echo PASS
