/*
 * decay: does a program's small-object memory come back once it goes quiet?  `threads` workers
 * each allocate `burst` bytes (by count, `tiny_pct` % of the blocks 1 KiB or less, `mid_pct` %
 * up to 32 KiB, the rest up to 1 MiB; or every block `block_size` bytes), every byte written;
 * then each frees the blocks of its own it keeps (100 - `remote_pct` %) and those the previous
 * worker passed to it (remote frees).  Then nothing is called for `idle_ms`: the workers stay
 * alive, blocked on a condition variable (or have exited, with `exit_threads`), and the main
 * thread sleeps.  Last, the main thread makes the allocator's own release call.
 *
 *   baseline  workers started, nothing allocated yet
 *   burst     every block live
 *   free      every block freed
 *   idle      `idle_ms` later, with no call
 *   flush     after the release call (flush.h) from the main thread, when `flush` is set
 *
 * The last line is the result `hak bench` parses:
 *   result bench=decay alloc=NAME ops_per_sec=N rss_baseline_kb=N rss_idle_kb=N ...
 * where ops are allocations and frees and the time is the burst's and the frees' wall time.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

struct worker {
    pthread_t tid;
    int index;
    void **blocks;
    size_t nblocks, cap;
    uint64_t bytes;
    uint64_t corrupt;
};

static long long v[DECAY_PARAM_COUNT];
static struct worker *workers;
static int nworkers;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int step, arrived; /* the main thread moves `step`; workers count `arrived` */
static uint64_t t0;

static void wait_step(int s) {
    pthread_mutex_lock(&mu);
    while (step < s)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void arrive(void) {
    pthread_mutex_lock(&mu);
    arrived++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void main_wait_arrived(int n) {
    pthread_mutex_lock(&mu);
    while (arrived < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void main_set_step(int s) {
    pthread_mutex_lock(&mu);
    step = s;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static size_t block_size(struct bench_rng *rng) {
    if (v[DECAY_BLOCK_SIZE]) return (size_t)v[DECAY_BLOCK_SIZE];
    uint64_t r = bench_rng_range(rng, 0, 99);
    if (r < (uint64_t)v[DECAY_TINY_PCT])
        return bench_rng_range(rng, 8, 1024); /* 8+: room for the tag and size */
    if (r < (uint64_t)(v[DECAY_TINY_PCT] + v[DECAY_MID_PCT]))
        return bench_rng_range(rng, 1025, 32768);
    return bench_rng_range(rng, 32769, 1 << 20);
}

/* A block's first and last bytes carry a tag from its index, checked before it is freed. */
static unsigned char tag_of(size_t i) {
    return (unsigned char)(i * 131 + 7);
}

static void free_block(struct worker *w, size_t i) {
    unsigned char *p = w->blocks[i];
    size_t size = (size_t)p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16;
    if (p[0] != tag_of(i) || size < 5 || p[size - 1] != tag_of(i)) w->corrupt++;
    free(p);
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)v[DECAY_SEED], (uint64_t)w->index + 1);
    wait_step(1);
    while (w->bytes < (uint64_t)v[DECAY_BURST]) {
        size_t size = block_size(&rng);
        if (w->nblocks == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 65536;
            w->blocks = bench_remap(w->blocks, w->cap * sizeof(void *), cap * sizeof(void *));
            w->cap = cap;
        }
        unsigned char *p = malloc(size);
        if (!p) {
            w->corrupt++;
            break;
        }
        memset(p, (int)tag_of(w->nblocks), size);
        p[1] = (unsigned char)size; /* byte 0 and the last byte: the tag; bytes 1-3: the size */
        p[2] = (unsigned char)(size >> 8);
        p[3] = (unsigned char)(size >> 16);
        w->blocks[w->nblocks++] = p;
        w->bytes += size;
    }
    arrive();
    wait_step(2);
    /* own blocks kept, then those the previous worker passed on */
    struct worker *prev = &workers[(w->index + nworkers - 1) % nworkers];
    uint64_t keep = (uint64_t)(100 - v[DECAY_REMOTE_PCT]);
    for (size_t i = 0; i < w->nblocks; i++)
        if (i * 2654435761u % 100 < keep) free_block(w, i);
    for (size_t i = 0; i < prev->nblocks; i++)
        if (i * 2654435761u % 100 >= keep) free_block(prev, i);
    arrive();
    if (v[DECAY_EXIT_THREADS]) return NULL;
    wait_step(3); /* quiet: blocked until the end */
    return NULL;
}

int main(int argc, char **argv) {
    bench_start(&decay_spec, v, argc, argv);
    t0 = bench_now_ns();

    nworkers = (int)v[DECAY_THREADS];
    workers = bench_map((size_t)nworkers * sizeof *workers);
    for (int i = 0; i < nworkers; i++) {
        workers[i].index = i;
        if (pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) != 0)
            bench_fail("decay", "pthread_create failed");
    }
    uint64_t rss_baseline = bench_report_phase("baseline", 0, t0);

    uint64_t start = bench_now_ns();
    main_set_step(1);
    main_wait_arrived(nworkers);
    uint64_t live = 0, ops = 0;
    for (int i = 0; i < nworkers; i++) {
        live += workers[i].bytes;
        ops += 2 * workers[i].nblocks;
    }
    double burst_s = (double)(bench_now_ns() - start) / 1e9;
    uint64_t rss_burst = bench_report_phase("burst", live, t0);

    start = bench_now_ns();
    main_set_step(2);
    main_wait_arrived(2 * nworkers);
    double seconds = burst_s + (double)(bench_now_ns() - start) / 1e9;
    uint64_t corrupt = 0;
    for (int i = 0; i < nworkers; i++) {
        corrupt += workers[i].corrupt;
        bench_unmap(workers[i].blocks, workers[i].cap * sizeof(void *)); /* not the allocator's */
        workers[i].blocks = NULL;
    }
    if (v[DECAY_EXIT_THREADS])
        for (int i = 0; i < nworkers; i++)
            pthread_join(workers[i].tid, NULL);
    uint64_t rss_free = bench_report_phase("free", 0, t0);

    struct bench_idle_tail tail;
    bench_idle_then_flush((uint64_t)v[DECAY_IDLE_MS], (int)v[DECAY_FLUSH], t0, &tail);
    if (!v[DECAY_EXIT_THREADS]) {
        main_set_step(3);
        for (int i = 0; i < nworkers; i++)
            pthread_join(workers[i].tid, NULL);
    }

    uint64_t ops_per_sec = seconds > 0 ? (uint64_t)((double)ops / seconds) : 0;
    hak_phase_result_u64("ops_per_sec", ops_per_sec);
    printf("result bench=decay alloc=%s threads=%d ops=%llu seconds=%.3f ops_per_sec=%llu "
           "rss_baseline_kb=%llu rss_burst_kb=%llu rss_free_kb=%llu rss_idle_kb=%llu "
           "rss_flush_kb=%llu idle_cpu_ms=%.1f corrupt=%llu\n",
           bench_alloc_name(), nworkers, (unsigned long long)ops, seconds,
           (unsigned long long)ops_per_sec, (unsigned long long)rss_baseline,
           (unsigned long long)rss_burst, (unsigned long long)rss_free,
           (unsigned long long)tail.rss_idle_kb, (unsigned long long)tail.rss_flush_kb,
           tail.idle_cpu_ms, (unsigned long long)corrupt);
    fflush(stdout);
    if (corrupt)
        bench_fail("decay", "%llu blocks were corrupted or not allocated",
                   (unsigned long long)corrupt);
    return 0;
}
