/*
 * larson: the Larson-Krishnan server benchmark ("Memory Allocation for Long-Running Server
 * Applications", ISMM 1998), written from its published description.
 *
 * Each of `threads` chains owns an array of `blocks` blocks.  The main thread fills every array,
 * then starts one thread per chain.  A thread repeatedly picks a random slot, frees its block and
 * puts a new block of random size in [min_size, max_size] there.  After `rounds` x `blocks` such
 * replacements it starts a successor thread that inherits the array and exits; so blocks are freed
 * by threads that did not allocate them, and threads are created and destroyed all the time, as in
 * a server that hands connections from worker to worker.  After `runtime` seconds every thread
 * stops; throughput is replacements per second (one replacement = one free + one malloc).
 *
 * Every block carries a check byte at both ends, verified when it is freed, so an allocator that
 * hands out overlapping blocks is caught instead of timed.
 *
 * Output: human-readable lines, then one line `hak bench` parses:
 *   result bench=larson alloc=NAME ops=N seconds=S ops_per_sec=N ...
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

struct larson_block {
    unsigned char *p;
    size_t size;
};

struct larson_chain {
    struct larson_block *blocks; /* bookkeeping, mmap'ed */
    size_t nblocks;
    struct bench_rng rng;
    uint64_t ops;          /* replacements done by all generations of this chain */
    uint64_t generations;  /* threads that ran this chain */
    uint64_t spawn_failed; /* successors that could not be started (the thread went on itself) */
    uint64_t corrupt;      /* blocks whose check bytes were overwritten */
    uint64_t oom;          /* malloc returned NULL */
};

static struct {
    long long v[LARSON_PARAM_COUNT];
    struct larson_chain *chains;
    pthread_attr_t detached;
    _Atomic int stop;
    pthread_mutex_t lock;
    pthread_cond_t all_done;
    int running; /* chains whose current thread has not finished */
} larson = {.lock = PTHREAD_MUTEX_INITIALIZER, .all_done = PTHREAD_COND_INITIALIZER};

static inline unsigned char check_byte(size_t slot, size_t size) {
    return (unsigned char)(0xA5u ^ slot ^ (size >> 3) ^ size);
}

static void block_fill(struct larson_block *b, size_t slot, size_t size, unsigned char *p) {
    unsigned char c = check_byte(slot, size);
    p[0] = c;
    p[size - 1] = c;
    b->p = p;
    b->size = size;
}

/* Frees the block in `slot` after checking both of its check bytes. */
static void block_release(struct larson_chain *chain, size_t slot) {
    struct larson_block *b = &chain->blocks[slot];
    if (!b->p) return;
    unsigned char c = check_byte(slot, b->size);
    if (b->p[0] != c || b->p[b->size - 1] != c) {
        if (chain->corrupt++ == 0)
            fprintf(stderr,
                    "larson: block %p (%zu bytes) was overwritten while allocated "
                    "(check bytes %02x/%02x, expected %02x)\n",
                    (void *)b->p, b->size, b->p[0], b->p[b->size - 1], c);
    }
    free(b->p);
    b->p = NULL;
    b->size = 0;
}

static size_t random_size(struct bench_rng *rng) {
    return (size_t)bench_rng_range(rng, (uint64_t)larson.v[LARSON_MIN_SIZE],
                                   (uint64_t)larson.v[LARSON_MAX_SIZE]);
}

static void chain_finished(void) {
    pthread_mutex_lock(&larson.lock);
    if (--larson.running == 0) pthread_cond_signal(&larson.all_done);
    pthread_mutex_unlock(&larson.lock);
}

/* One generation of a chain; starts its successor when its rounds are done. */
static void *larson_thread(void *arg) {
    struct larson_chain *chain = arg;
    const uint64_t per_generation = (uint64_t)larson.v[LARSON_ROUNDS] * chain->nblocks;
    chain->generations++;
    for (;;) {
        for (uint64_t i = 0; i < per_generation; i++) {
            if (atomic_load_explicit(&larson.stop, memory_order_relaxed)) goto stopped;
            size_t slot = (size_t)(bench_rng_next(&chain->rng) % chain->nblocks);
            block_release(chain, slot);
            size_t size = random_size(&chain->rng);
            unsigned char *p = malloc(size);
            if (!p) {
                chain->oom++;
                atomic_store(&larson.stop, 1);
                goto stopped;
            }
            block_fill(&chain->blocks[slot], slot, size, p);
            chain->ops++;
        }
        /* pthread_create orders this thread's writes to *chain before the successor's reads. */
        pthread_t successor;
        if (pthread_create(&successor, &larson.detached, larson_thread, chain) == 0) return NULL;
        chain->spawn_failed++;
    }
stopped:
    chain_finished();
    return NULL;
}

static uint64_t held_bytes(int nchains) {
    uint64_t bytes = 0;
    for (int c = 0; c < nchains; c++)
        for (size_t i = 0; i < larson.chains[c].nblocks; i++)
            bytes += larson.chains[c].blocks[i].size;
    return bytes;
}

int main(int argc, char **argv) {
    bench_parse_or_exit(&larson_spec, larson.v, argc, argv);
    const long long *v = larson.v;
    const int nchains = (int)v[LARSON_THREADS];
    const size_t nblocks = (size_t)v[LARSON_BLOCKS];

    char params[512];
    bench_format_params(&larson_spec, v, params, sizeof params);
    printf("larson: alloc=%s %s\n", bench_alloc_name(), params);
    fflush(stdout);

    hak_phase_init("larson");
    hak_phase_mark_live("baseline", 0);

    /* The main thread allocates every block; the workers free them: the first remote frees. */
    larson.chains = bench_map(sizeof *larson.chains * (size_t)nchains);
    for (int c = 0; c < nchains; c++) {
        struct larson_chain *chain = &larson.chains[c];
        chain->nblocks = nblocks;
        chain->blocks = bench_map(sizeof *chain->blocks * nblocks);
        bench_rng_seed(&chain->rng, (uint64_t)v[LARSON_SEED], (uint64_t)c);
        for (size_t i = 0; i < nblocks; i++) {
            size_t size = random_size(&chain->rng);
            unsigned char *p = malloc(size);
            if (!p) bench_fail("larson", "malloc(%zu) failed while filling the arrays", size);
            block_fill(&chain->blocks[i], i, size, p);
        }
    }
    hak_phase_mark_live("warmup", held_bytes(nchains));

    pthread_attr_init(&larson.detached);
    pthread_attr_setdetachstate(&larson.detached, PTHREAD_CREATE_DETACHED);
    larson.running = nchains;
    uint64_t start = bench_now_ns();
    for (int c = 0; c < nchains; c++) {
        pthread_t t;
        if (pthread_create(&t, &larson.detached, larson_thread, &larson.chains[c]) != 0)
            bench_fail("larson", "cannot start thread %d of %d", c + 1, nchains);
    }

    /* Sleep for the runtime, waking early only if every chain stopped (out of memory). */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)v[LARSON_RUNTIME];
    pthread_mutex_lock(&larson.lock);
    while (larson.running > 0 && !atomic_load(&larson.stop))
        if (pthread_cond_timedwait(&larson.all_done, &larson.lock, &until) != 0) break;
    atomic_store(&larson.stop, 1);
    while (larson.running > 0)
        pthread_cond_wait(&larson.all_done, &larson.lock);
    pthread_mutex_unlock(&larson.lock);
    uint64_t elapsed_ns = bench_now_ns() - start;

    uint64_t ops = 0, generations = 0, spawn_failed = 0, corrupt = 0, oom = 0;
    for (int c = 0; c < nchains; c++) {
        ops += larson.chains[c].ops;
        generations += larson.chains[c].generations;
        spawn_failed += larson.chains[c].spawn_failed;
        oom += larson.chains[c].oom;
    }
    uint64_t live = held_bytes(nchains);
    hak_phase_mark_live("burst", live);

    uint64_t rss_kb, lazy_kb;
    bench_read_rss(&rss_kb, &lazy_kb);

    for (int c = 0; c < nchains; c++) {
        for (size_t i = 0; i < nblocks; i++)
            block_release(&larson.chains[c], i);
        corrupt += larson.chains[c].corrupt;
        bench_unmap(larson.chains[c].blocks, sizeof *larson.chains[c].blocks * nblocks);
    }
    hak_phase_mark_live("free", 0);

    double seconds = (double)elapsed_ns / 1e9;
    uint64_t ops_per_sec = (uint64_t)((double)ops / seconds);
    hak_phase_result_u64("ops_per_sec", ops_per_sec);
    hak_phase_result_u64("live_bytes", live);

    printf("larson: %llu replacements in %.3f s by %llu thread generations%s\n",
           (unsigned long long)ops, seconds, (unsigned long long)generations,
           spawn_failed ? " (some successors could not be started)" : "");
    printf("larson: throughput %llu ops/s, %llu bytes live at the end, RSS %llu KiB\n",
           (unsigned long long)ops_per_sec, (unsigned long long)live, (unsigned long long)rss_kb);
    printf("result bench=larson alloc=%s threads=%d ops=%llu seconds=%.3f ops_per_sec=%llu "
           "generations=%llu live_bytes=%llu rss_kb=%llu corrupt=%llu oom=%llu\n",
           bench_alloc_name(), nchains, (unsigned long long)ops, seconds,
           (unsigned long long)ops_per_sec, (unsigned long long)generations,
           (unsigned long long)live, (unsigned long long)rss_kb, (unsigned long long)corrupt,
           (unsigned long long)oom);
    fflush(stdout);

    if (corrupt) bench_fail("larson", "%llu blocks were corrupted", (unsigned long long)corrupt);
    if (oom) bench_fail("larson", "malloc returned NULL %llu times", (unsigned long long)oom);
    return 0;
}
