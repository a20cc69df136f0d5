/*
 * mallocfree: the fast-path loop.  A fixed number of malloc/free pairs (`pairs`) over sizes
 * `min_size`..`max_size`, one thread, the same sizes in the same order on every allocator.  A
 * ring of `window` blocks is live at once: each step frees the block allocated `window` steps
 * before and allocates a new one, so blocks come back through the allocator's free lists rather
 * than one block being reused.  The work is fixed, not timed, so `hak bench --icount` can count
 * its instructions under callgrind (~50x slower) and divide by the pairs.
 *
 *   baseline  before the loop
 *   burst     the loop has run; the ring is live
 *   free      the ring freed
 *
 * Result: result bench=mallocfree alloc=NAME ops=PAIRS seconds=S ops_per_sec=N
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

/* Sizes are drawn once into a table so the loop spends its instructions in malloc and free. */
#define SIZE_TABLE 4096

int main(int argc, char **argv) {
    long long v[MALLOCFREE_PARAM_COUNT];
    bench_start(&mallocfree_spec, v, argc, argv);

    size_t window = (size_t)v[MALLOCFREE_WINDOW];
    unsigned char **ring = bench_map(window * sizeof *ring);
    uint32_t *sizes = bench_map(SIZE_TABLE * sizeof *sizes);
    struct bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)v[MALLOCFREE_SEED], 0);
    for (size_t i = 0; i < SIZE_TABLE; i++)
        sizes[i] = (uint32_t)bench_rng_range(&rng, (uint64_t)v[MALLOCFREE_MIN_SIZE],
                                             (uint64_t)v[MALLOCFREE_MAX_SIZE]);
    hak_phase_mark_live("baseline", 0);

    uint64_t pairs = (uint64_t)v[MALLOCFREE_PAIRS], oom = 0, live = 0;
    uint64_t start = bench_now_ns();
    for (uint64_t i = 0; i < pairs; i++) {
        size_t slot = i % window;
        free(ring[slot]);
        unsigned char *p = malloc(sizes[i % SIZE_TABLE]);
        if (!p)
            oom++;
        else
            p[0] = (unsigned char)i; /* touched, so the pair cannot be optimised away */
        ring[slot] = p;
    }
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    for (size_t i = 0; i < window && i < pairs; i++)
        live += sizes[(pairs - 1 - i) % SIZE_TABLE];
    hak_phase_mark_live("burst", live);
    for (size_t i = 0; i < window; i++)
        free(ring[i]);
    hak_phase_mark_live("free", 0);

    bench_speed_result("mallocfree", pairs, seconds, NULL);
    if (oom) bench_fail("mallocfree", "malloc returned NULL %llu times", (unsigned long long)oom);
    return 0;
}
