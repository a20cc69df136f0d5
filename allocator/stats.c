/*
 * The readable counter table: hak_stats_print() on demand, and at exit
 * when HAKMEM_STATS=1 (init.c).
 */
#include <stdio.h>

#include "counters.h"

HAK_API void hak_stats_print(FILE *out)
{
#if HAKMEM_COUNTERS
    uint64_t v[HAK_NUM_COUNTERS];
    hak_counters_totals(v);
    int fd = hak_counters_shared_fd();
    if (fd >= 0)
        fprintf(out, "hakmem counters (build %s, segment shared as fd %d)\n", HAKMEM_BUILD_ID, fd);
    else
        fprintf(out, "hakmem counters (build %s, segment private)\n", HAKMEM_BUILD_ID);
    fprintf(out, "  %-14s %-32s %20s\n", "group", "counter", "value");
    for (unsigned i = 0; i < HAK_NUM_COUNTERS; i++) {
        if (!v[i]) continue;
        /* held_* are gauges: a transient negative sum means another thread
         * mapped what this one unmapped; print it signed. */
        fprintf(out, "  %-14s %-32s %20lld\n", hak_counter_group(i), hak_counter_name(i),
                (long long)v[i]);
    }
#else
    fprintf(out, "hakmem: counters are compiled out of this build (COUNTERS=0)\n");
#endif
}
