#!/usr/bin/env bash
# Memory pressure from a real memory cgroup: a program whose cgroup is near
# its limit gives its cached free memory back at the next decay pass, counted
# as pressure; the same program in an unlimited cgroup keeps it.  Uses the
# cgroup v2 memory controller where the machine has one, else cgroup v1's.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/../compat/lib.sh"

[[ $(id -u) -eq 0 ]] || skip "needs root to create a memory cgroup"
need cc
A=$BUILD_DIR/libhakmem.a
[[ -f $A ]] || fail "$A is missing: run make"

# The memory controller's directory for this process, and its file names.
mount_of() { # fstype [super option]
    awk -v t="$1" -v o="${2:-}" '{ for (i = 1; $i != "-"; i++); if ($(i+1) == t && (o == "" || index("," $(i+3) ",", "," o ","))) { print $5; exit } }' /proc/self/mountinfo
}
v2=$(mount_of cgroup2)
v1=$(mount_of cgroup memory)
parent=""
if [[ -n $v2 ]] && grep -qw memory "$v2/cgroup.controllers" 2>/dev/null; then
    parent=$v2$(sed -n 's/^0:://p' /proc/self/cgroup)
    parent=${parent%/}
    usage_file=memory.current limit_file=memory.max
    grep -qw memory "$parent/cgroup.subtree_control" 2>/dev/null ||
        echo +memory >"$parent/cgroup.subtree_control" 2>/dev/null || parent=""
elif [[ -n $v1 ]]; then
    parent=$v1$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
    parent=${parent%/}
    usage_file=memory.usage_in_bytes limit_file=memory.limit_in_bytes
fi
[[ -n $parent && -d $parent ]] || skip "no memory cgroup controller this test can use"
cg=$parent/hakmem-test-$$
mkdir "$cg" 2>/dev/null || skip "cannot create a cgroup under $parent"
trap 'rmdir "$cg" 2>/dev/null; rm -rf "$WORK"' EXIT

cat >"$WORK/prog.c" <<'C'
/* Fills the cache until the cgroup's usage nears `stop` bytes (or a fixed
 * amount without one), frees everything, runs one decay pass and prints the
 * counters that say what the pass gave back and why. */
#include "check.h"
#include <stdint.h>
#include <time.h>
size_t hak_test_decay_pass(void);
void hak_test_set_clock(uint64_t (*now_ms)(void));
/* Two seconds on: past the once-a-second limit on reading the cgroup's
 * files (a pass during the filling may have just read them), far short of
 * HAKMEM_DECAY_MS. */
static uint64_t later_ms;
static uint64_t later(void) {
    return later_ms;
}
static long long rss_kb(void) {
    char line[128];
    long long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lld", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}
static long long usage(const char *file) {
    long long v = -1;
    FILE *f = fopen(file, "r");
    if (f && fscanf(f, "%lld", &v) != 1) v = -1;
    if (f) fclose(f);
    return v;
}
int main(int argc, char **argv) {
    const char *usage_file = argc > 2 ? argv[1] : NULL;
    long long stop = argc > 2 ? atoll(argv[2]) : 0;
    enum { TINY = 65536, HUGE = 64 };
    static char *tiny[TINY], *huge[HUGE];
    for (int i = 0; i < TINY; i++) { /* 4 MiB of 64-byte blocks */
        tiny[i] = malloc(64);
        memset(tiny[i], 1, 64);
    }
    int n = 0;
    while (n < HUGE && (usage_file ? usage(usage_file) < stop : n < 20)) {
        huge[n] = malloc(2 << 20);
        memset(huge[n++], 2, 2 << 20);
    }
    for (int i = 0; i < TINY; i++) free(tiny[i]);
    for (int i = 0; i < n; i++) free(huge[i]);
    long long before = rss_kb(), cached = hak_counter("huge_cached");
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    later_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 2000;
    hak_test_set_clock(later);
    hak_test_decay_pass();
    printf("huge_blocks=%d huge_cached=%lld rss_before_kb=%lld rss_after_kb=%lld pressure_events=%lld "
           "huge_released_pressure=%lld tiny_released_pressure=%lld huge_released_decay=%lld "
           "tiny_released_decay=%lld\n",
           n, cached, before, rss_kb(), hak_counter("pressure_events"),
           hak_counter("huge_released_pressure"), hak_counter("tiny_released_pressure"),
           hak_counter("huge_released_decay"), hak_counter("tiny_released_decay"));
    return 0;
}
C
cc -O1 -fno-builtin -DHAKMEM_LINKED=1 -I"$ROOT/tests/common" -I"$ROOT/allocator/include" \
    -o "$WORK/prog" "$WORK/prog.c" "$A" -pthread || fail "cannot build the test program"

# Only a pass the program runs itself, long decay, no idle trigger: what goes
# back can only be pressure.
export HAKMEM_BACKGROUND=0 HAKMEM_IDLE_MS=0 HAKMEM_DECAY_MS=600000
limit=$((96 << 20))
echo $limit >"$cg/$limit_file" || skip "cannot set $limit_file on $cg"
# Stop filling at 1/32 under the limit: past 1/16 under it counts as near.
(echo $BASHPID >"$cg/cgroup.procs" && exec "$WORK/prog" "$cg/$usage_file" $((limit - limit / 32))) >"$WORK/limited" ||
    fail "the program failed in the limited cgroup"
"$WORK/prog" >"$WORK/free" || fail "the program failed outside the limited cgroup"
echo "limited:   $(cat "$WORK/limited")"
echo "unlimited: $(cat "$WORK/free")"

val() { sed -n "s/.*\b$2=\([0-9-]*\).*/\1/p" "$WORK/$1"; }
[[ $(val limited huge_blocks) -ge 8 ]] || fail "the limited program cached only $(val limited huge_blocks) Huge blocks"
[[ $(val limited pressure_events) -ge 1 ]] || fail "a cgroup near its limit was not seen as memory pressure"
[[ $(val limited huge_released_pressure) -eq $(val limited huge_cached) ]] ||
    fail "pressure gave back $(val limited huge_released_pressure) of $(val limited huge_cached) cached Huge bytes"
[[ $(val limited tiny_released_pressure) -gt 0 ]] || fail "pressure gave back no Tiny memory"
[[ $(val limited rss_after_kb) -lt $(($(val limited rss_before_kb) - $(val limited huge_blocks) * 1024)) ]] ||
    fail "RSS did not drop under pressure"
[[ $(val free pressure_events) -eq 0 && $(val free huge_released_pressure) -eq 0 ]] ||
    fail "an unlimited cgroup was seen as memory pressure"
echo ok
