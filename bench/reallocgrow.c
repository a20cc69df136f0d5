/*
 * reallocgrow: realloc growth.  Buffers start empty and grow `step` bytes at a time with
 * realloc, as string builders, vectors and read-until-EOF loops grow theirs, up to a final size
 * drawn between `step` and `max_size`; then they are checked and freed.  `live` buffers grow at
 * once, interleaved, so a buffer's neighbour is not always free to grow into.  `buffers` buffers
 * in all.
 *
 *   baseline  before the first buffer
 *   burst     every buffer has grown and been freed
 *   free      the same, for the collector's end snapshot
 *
 * Result: result bench=reallocgrow alloc=NAME ops=N seconds=S ops_per_sec=N bytes=N corrupt=N
 * where ops are realloc calls.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

struct growing {
    unsigned char *p;
    size_t len, target;
    unsigned char tag;
};

static uint64_t corrupt;

/* Every appended step is filled with the buffer's tag: a move that lost bytes shows. */
static void finish(struct growing *g) {
    if (g->p && (g->p[0] != g->tag || g->p[g->len - 1] != g->tag || g->p[g->len / 2] != g->tag))
        corrupt++;
    free(g->p);
    g->p = NULL;
    g->len = 0;
}

int main(int argc, char **argv) {
    long long v[REALLOCGROW_PARAM_COUNT];
    bench_start(&reallocgrow_spec, v, argc, argv);

    size_t live = (size_t)v[REALLOCGROW_LIVE], step = (size_t)v[REALLOCGROW_STEP];
    struct growing *g = bench_map(live * sizeof *g);
    struct bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)v[REALLOCGROW_SEED], 0);
    hak_phase_mark_live("baseline", 0);

    uint64_t started = 0, ops = 0, bytes = 0, total = (uint64_t)v[REALLOCGROW_BUFFERS];
    uint64_t start = bench_now_ns();
    for (size_t active = live; active > 0;) {
        active = 0;
        for (size_t i = 0; i < live; i++) {
            struct growing *b = &g[i];
            if (b->len >= b->target) {
                finish(b);
                b->target = 0; /* idle slot, until another buffer starts in it */
                if (started == total) continue;
                started++;
                b->target = (size_t)bench_rng_range(&rng, step, (uint64_t)v[REALLOCGROW_MAX_SIZE]);
                b->tag = (unsigned char)(started | 1);
            }
            active++;
            unsigned char *q = realloc(b->p, b->len + step);
            if (!q) bench_fail("reallocgrow", "realloc to %zu bytes returned NULL", b->len + step);
            memset(q + b->len, b->tag, step);
            b->p = q;
            b->len += step;
            bytes += step;
            ops++;
        }
    }
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    bench_speed_end("reallocgrow", ops, seconds, "bytes", bytes, corrupt,
                    "buffers lost bytes when moved");
    return 0;
}
