/*
 * churn: thread churn with blocks that outlive their thread.  `waves` waves of `threads` threads
 * run one after another; each thread allocates `blocks` blocks (`small_pct` % of them 16 B to
 * 4 KiB, the rest 4 KiB to 32 KiB), writes every byte, frees all but `keep_pct` % of them, frees
 * the blocks the same-numbered thread of the previous wave kept (that thread has exited), and
 * exits leaving its own kept blocks to the next wave.  The main thread frees the last wave's.
 * Peak RSS against the live bytes (about `keep_pct` % of one wave plus one wave's burst) shows
 * what an allocator strands when threads come and go.
 *
 *   baseline  nothing allocated yet
 *   churn     every wave done, the last wave's kept blocks still live
 *   free      everything freed
 *
 * The last line is the result `hak bench` parses:
 *   result bench=churn alloc=NAME ops_per_sec=N rss_baseline_kb=N rss_free_kb=N ...
 * where ops are allocations and frees over the waves' wall time.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

struct lane {
    pthread_t tid;
    int index, wave;
    void **kept; /* blocks the previous wave's thread of this lane left */
    size_t nkept;
    uint64_t corrupt;
};

static long long v[CHURN_PARAM_COUNT];
static uint64_t t0;

static size_t block_size(struct bench_rng *rng) {
    if (bench_rng_range(rng, 0, 99) < (uint64_t)v[CHURN_SMALL_PCT]) return bench_rng_range(rng, 16, 4096);
    return bench_rng_range(rng, 4097, 32768);
}

/* Byte 0 and the last byte carry a tag, bytes 1-2 the size; checked before the free. */
static void check_free(struct lane *l, unsigned char *p) {
    size_t size = (size_t)p[1] | (size_t)p[2] << 8;
    if (size < 16 || p[0] != (unsigned char)size || p[size - 1] != (unsigned char)size) l->corrupt++;
    free(p);
}

static void *lane_main(void *arg) {
    struct lane *l = arg;
    struct bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)v[CHURN_SEED], (uint64_t)(l->wave * 1000 + l->index + 1));
    size_t n = (size_t)v[CHURN_BLOCKS];
    void **mine = malloc(n * sizeof *mine);
    if (!mine) {
        l->corrupt++;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t size = block_size(&rng);
        unsigned char *p = malloc(size);
        if (!p) {
            l->corrupt++;
            n = i;
            break;
        }
        memset(p, (int)(unsigned char)size, size);
        p[1] = (unsigned char)size;
        p[2] = (unsigned char)(size >> 8);
        mine[i] = p;
    }
    for (size_t i = 0; i < l->nkept; i++)
        check_free(l, l->kept[i]);
    free(l->kept);
    size_t nkept = 0;
    for (size_t i = 0; i < n; i++) {
        if (i * 2654435761u % 100 < (uint64_t)v[CHURN_KEEP_PCT]) mine[nkept++] = mine[i];
        else check_free(l, mine[i]);
    }
    l->kept = mine;
    l->nkept = nkept;
    return NULL;
}

static void report_phase(const char *phase, uint64_t *rss_out) {
    uint64_t rss = 0, lazy = 0;
    bench_read_rss(&rss, &lazy);
    printf("phase name=%s t_ms=%.1f rss_kb=%llu lazyfree_kb=%llu\n", phase,
           (double)(bench_now_ns() - t0) / 1e6, (unsigned long long)rss, (unsigned long long)lazy);
    fflush(stdout);
    hak_phase_mark(phase);
    *rss_out = rss;
}

int main(int argc, char **argv) {
    bench_start(&churn_spec, v, argc, argv);
    t0 = bench_now_ns();

    int nthreads = (int)v[CHURN_THREADS];
    struct lane *lanes = bench_map((size_t)nthreads * sizeof *lanes);
    uint64_t rss_baseline, rss_churn, rss_free, corrupt = 0;
    report_phase("baseline", &rss_baseline);
    uint64_t start = bench_now_ns();
    for (int w = 0; w < v[CHURN_WAVES]; w++) {
        for (int i = 0; i < nthreads; i++) {
            lanes[i].index = i;
            lanes[i].wave = w;
            if (pthread_create(&lanes[i].tid, NULL, lane_main, &lanes[i]) != 0)
                bench_fail("churn", "pthread_create failed");
        }
        for (int i = 0; i < nthreads; i++)
            pthread_join(lanes[i].tid, NULL);
    }
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    report_phase("churn", &rss_churn);
    for (int i = 0; i < nthreads; i++) {
        for (size_t k = 0; k < lanes[i].nkept; k++)
            check_free(&lanes[i], lanes[i].kept[k]);
        free(lanes[i].kept);
        corrupt += lanes[i].corrupt;
    }
    report_phase("free", &rss_free);

    uint64_t ops = 2 * (uint64_t)v[CHURN_WAVES] * (uint64_t)nthreads * (uint64_t)v[CHURN_BLOCKS];
    uint64_t ops_per_sec = seconds > 0 ? (uint64_t)((double)ops / seconds) : 0;
    hak_phase_result_u64("ops_per_sec", ops_per_sec);
    printf("result bench=churn alloc=%s threads=%d ops=%llu seconds=%.3f ops_per_sec=%llu "
           "rss_baseline_kb=%llu rss_churn_kb=%llu rss_free_kb=%llu corrupt=%llu\n",
           bench_alloc_name(), nthreads, (unsigned long long)ops, seconds,
           (unsigned long long)ops_per_sec, (unsigned long long)rss_baseline,
           (unsigned long long)rss_churn, (unsigned long long)rss_free, (unsigned long long)corrupt);
    fflush(stdout);
    if (corrupt) bench_fail("churn", "%llu blocks were corrupted or not allocated", (unsigned long long)corrupt);
    return 0;
}
