#!/usr/bin/env bash
# Every allocation entry point is traced or counted: a program making malloc_trim, mallopt,
# malloc_usable_size and its own mmap/mremap/munmap calls gets them counted, with the bytes they
# name, by hak trace info and by the replay (which cannot make them); C++ new and sized delete
# are traced as malloc and free; a large block's resident part is replayed, not just its ends.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
build_unsupported_ops
cd "$WORK" || fail "no scratch folder"
trace_without_and_with unsupported_ops

declare -A want=([malloc_trim]=2 [mallopt]=1 [malloc_usable_size]=3 [mmap]=1 [mremap]=1 [munmap]=1)
for call in "${!want[@]}"; do
    got=$(($(unsupported_count ops.trace "$call") - $(unsupported_count base.trace "$call")))
    [[ $got == "${want[$call]}" ]] || fail "$call: counted $got more, the program made ${want[$call]}"
done
"$HAK" trace info ops.trace | grep -qE "unsupported: [0-9]+ mmap calls .*; 12288 bytes\)" ||
    fail "the program's own mmap of 3 pages is not reported with its bytes"
"$HAK" trace info ops.trace | grep -qE "unsupported: [0-9]+ mremap calls .*; 20480 bytes\)" ||
    fail "the program's mremap to 5 pages is not reported with its bytes"

# new / delete (sized) and new[] / delete[] go through malloc and free.
for kind in malloc free; do
    got=$(($(info_count ops.trace $kind) - $(info_count base.trace $kind)))
    [[ $got == 4 ]] || fail "$kind: traced $got more, the program made 4 (C malloc, new, new[], the big block)"
done

# The replay says what it does not make, on stderr, with the same counts.
"$REPLAY" --strict=1 ops.trace >out.txt 2>err.txt || fail "replay failed: $(cat err.txt)"
for call in "${!want[@]}"; do
    grep -qE "^replay: unsupported: [0-9]+ $call calls" err.txt ||
        fail "the replay does not report the $call calls: $(cat err.txt)"
done

# The 4 MiB block had 800 KiB written: the replay on glibc makes as much of it resident (two
# touched ends would be 8 KiB).
line=$(grep '^result ' out.txt)
grown=$(($(result_field "$line" replay_peak_rss_kb) - $(result_field "$line" baseline_rss_kb)))
[[ $grown -ge 600 ]] || fail "the replay's RSS grew by $grown KiB, the program wrote 800 KiB of its block"
echo PASS
