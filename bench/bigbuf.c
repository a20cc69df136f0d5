/*
 * bigbuf: the big-buffer loop.  A ring of `buffers` buffers of `min_size`..`max_size` bytes
 * (2-16 MiB by default: beyond every small-object tier) is replaced one buffer at a time for
 * `rounds` rounds, and every page of each new buffer is written, the way a program that keeps
 * re-creating big buffers (decoders, image pipelines, per-request arenas) works.  An allocator
 * that gives each buffer a fresh mapping pays a page fault per page; one that keeps freed
 * mappings must still give them back once the program stops.
 *
 *   baseline  before the loop
 *   burst     the loop has run; the ring is live
 *   free      every buffer freed
 *   idle      nothing happens for `idle_ms`, and no release call is made
 *   flush     the allocator's own release call (flush.h), when `flush` is set
 *
 * The last line is the result `hak bench` parses:
 *   result bench=bigbuf alloc=NAME ops_per_sec=N seconds=S rss_baseline_kb=N rss_idle_kb=N ...
 * where ops are buffer replacements (a free and a malloc) and seconds the loop's wall time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

struct buffer {
    unsigned char *p;
    size_t size;
};

static uint64_t t0;

/* RSS at a phase, printed and marked for a collector. */
/* Writes one byte per page (and the last byte), so every page is faulted in, and a check byte. */
static void fill(struct buffer *b, unsigned char tag) {
    for (size_t i = 0; i < b->size; i += 4096)
        b->p[i] = tag;
    b->p[b->size - 1] = tag;
}

static int intact(const struct buffer *b, unsigned char tag) {
    return b->p[0] == tag && b->p[b->size - 1] == tag && b->p[b->size / 2 & ~(size_t)4095] == tag;
}

int main(int argc, char **argv) {
    long long v[BIGBUF_PARAM_COUNT];
    bench_start(&bigbuf_spec, v, argc, argv);
    t0 = bench_now_ns();

    size_t n = (size_t)v[BIGBUF_BUFFERS];
    struct buffer *ring = bench_map(n * sizeof *ring);
    struct bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)v[BIGBUF_SEED], 0);
    uint64_t rss_baseline = bench_report_phase("baseline", 0, t0);

    uint64_t corrupt = 0, oom = 0, live = 0, ops = 0;
    uint64_t start = bench_now_ns();
    for (long long round = 0; round < v[BIGBUF_ROUNDS]; round++) {
        for (size_t i = 0; i < n; i++) {
            struct buffer *b = &ring[i];
            if (b->p) {
                if (!intact(b, (unsigned char)(i + 1))) corrupt++;
                free(b->p);
                live -= b->size;
            }
            b->size = (size_t)bench_rng_range(&rng, (uint64_t)v[BIGBUF_MIN_SIZE],
                                              (uint64_t)v[BIGBUF_MAX_SIZE]);
            b->p = malloc(b->size);
            if (!b->p) {
                oom++;
                b->size = 0;
                continue;
            }
            fill(b, (unsigned char)(i + 1));
            live += b->size;
            ops++;
        }
    }
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    uint64_t rss_burst = bench_report_phase("burst", live, t0);

    for (size_t i = 0; i < n; i++) {
        if (ring[i].p && !intact(&ring[i], (unsigned char)(i + 1))) corrupt++;
        free(ring[i].p);
        ring[i].p = NULL;
    }
    uint64_t rss_free = bench_report_phase("free", 0, t0);

    struct bench_idle_tail tail;
    bench_idle_then_flush((uint64_t)v[BIGBUF_IDLE_MS], (int)v[BIGBUF_FLUSH], t0, &tail);

    uint64_t ops_per_sec = seconds > 0 ? (uint64_t)((double)ops / seconds) : 0;
    hak_phase_result_u64("ops_per_sec", ops_per_sec);
    printf("result bench=bigbuf alloc=%s buffers=%zu rounds=%lld ops=%llu seconds=%.3f "
           "ops_per_sec=%llu rss_baseline_kb=%llu rss_burst_kb=%llu rss_free_kb=%llu "
           "rss_idle_kb=%llu rss_flush_kb=%llu idle_cpu_ms=%.1f corrupt=%llu oom=%llu\n",
           bench_alloc_name(), n, v[BIGBUF_ROUNDS], (unsigned long long)ops, seconds,
           (unsigned long long)ops_per_sec, (unsigned long long)rss_baseline,
           (unsigned long long)rss_burst, (unsigned long long)rss_free,
           (unsigned long long)tail.rss_idle_kb, (unsigned long long)tail.rss_flush_kb,
           tail.idle_cpu_ms, (unsigned long long)corrupt, (unsigned long long)oom);
    fflush(stdout);
    if (corrupt) bench_fail("bigbuf", "%llu buffers were corrupted", (unsigned long long)corrupt);
    if (oom) bench_fail("bigbuf", "malloc returned NULL %llu times", (unsigned long long)oom);
    return 0;
}
