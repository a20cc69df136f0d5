/*
 * battle: the battle test.  Cycles of
 *
 *   burst  every thread allocates its share of `working_set` in a mix of Tiny (8 B-1 KiB),
 *          Mid (1-32 KiB) and Large (32 KiB-1 MiB) blocks, then replaces `churn` random blocks;
 *   free   every block is freed, `remote_pct` of them by a thread that did not allocate them;
 *          `keep_pct` of them stay alive (spread evenly, to pin partly used slabs: fragmentation)
 *          until the next cycle's free phase;
 *   idle   nothing happens for `idle_ms` (an allocator with decay may give memory back now);
 *   flush  every thread, then the main thread, calls the allocator's own release (flush.h).
 *
 * The test knows the bytes it holds at every moment: each thread counts what it allocates and frees
 * (`live_bytes`), and at every phase mark the count is checked against a walk over all the block
 * tables; a mismatch is a failure.  Each block carries a check word at its start and a check byte
 * at its end, verified at free, so an allocator that hands out overlapping blocks fails the test.
 *
 * At each phase it prints one line with live bytes, usable bytes (malloc_usable_size), RSS and
 * LazyFree from /proc/self/smaps_rollup, and marks the phase for a collector (phase.h).  The last
 * line is the result `hak bench` parses:
 *   result bench=battle alloc=NAME ops_per_sec=N peak_live_bytes=N rss_free_kb=N rss_flush_kb=N ...
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

enum { TIER_TINY, TIER_MID, TIER_LARGE, TIER_COUNT };

static const size_t tier_min[TIER_COUNT] = {BATTLE_TINY_MIN, BATTLE_TINY_MAX + 1,
                                            BATTLE_MID_MAX + 1};
static const size_t tier_max[TIER_COUNT] = {BATTLE_TINY_MAX, BATTLE_MID_MAX, BATTLE_LARGE_MAX};

#define CHECK_MAGIC 0x68616B6D656D2121ULL /* "hakmem!!" */

struct battle_block {
    unsigned char *p;
    uint32_t size;
    uint32_t tier;
};

/* A growable table of blocks in mmap'ed memory (never in the allocator under test). */
struct battle_list {
    struct battle_block *b;
    size_t n, cap;
};

struct battle_worker {
    int id;
    pthread_t thread;
    struct bench_rng rng;
    struct battle_list set;  /* this cycle's working set                       */
    struct battle_list kept; /* blocks kept alive by the previous free phase    */
    int64_t live;            /* bytes this thread allocated minus bytes it freed */
    uint64_t ops;            /* mallocs + frees in burst and free phases         */
    uint64_t corrupt, oom;
    size_t flushed;
    int flush_reported;
} __attribute__((aligned(64)));

enum battle_cmd { CMD_BURST, CMD_FREE, CMD_FLUSH, CMD_TEARDOWN, CMD_EXIT };

static struct {
    long long v[BATTLE_PARAM_COUNT];
    int nthreads;
    struct battle_worker *workers;
    pthread_barrier_t start, done, workers_only;
    enum battle_cmd cmd;
    uint64_t t0;
} battle;

static void list_push(struct battle_list *l, struct battle_block blk) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        l->b = bench_remap(l->b, l->cap * sizeof *l->b, cap * sizeof *l->b);
        l->cap = cap;
    }
    l->b[l->n++] = blk;
}

static inline uint64_t check_word(const unsigned char *p, size_t size) {
    return (uint64_t)(uintptr_t)p ^ ((uint64_t)size << 40) ^ CHECK_MAGIC;
}

static void block_alloc(struct battle_worker *w, struct battle_block *out, int tier) {
    size_t size = (size_t)bench_rng_range(&w->rng, tier_min[tier], tier_max[tier]);
    unsigned char *p = malloc(size);
    w->ops++;
    if (!p) {
        w->oom++;
        out->p = NULL;
        out->size = 0;
        return;
    }
    uint64_t word = check_word(p, size);
    if (battle.v[BATTLE_TOUCH]) memset(p, (int)(word & 0xFF), size);
    memcpy(p, &word, sizeof word); /* every size class starts at 8 bytes */
    if (size > sizeof word) p[size - 1] = (unsigned char)(word >> 8);
    out->p = p;
    out->size = (uint32_t)size;
    out->tier = (uint32_t)tier;
    w->live += (int64_t)size;
}

/* Frees a block on behalf of worker w (which need not be the one that allocated it). */
static void block_free(struct battle_worker *w, struct battle_block *blk) {
    if (!blk->p) return;
    uint64_t word, want = check_word(blk->p, blk->size);
    memcpy(&word, blk->p, sizeof word);
    if (word != want ||
        (blk->size > sizeof word && blk->p[blk->size - 1] != (unsigned char)(want >> 8))) {
        if (__atomic_fetch_add(&w->corrupt, 1, __ATOMIC_RELAXED) == 0)
            fprintf(stderr, "battle: block %p (%u bytes) was overwritten while allocated\n",
                    (void *)blk->p, blk->size);
    }
    free(blk->p);
    w->ops++;
    w->live -= (int64_t)blk->size;
    blk->p = NULL;
    blk->size = 0;
}

/* Blocks kept alive: exactly keep_pct % of indices, spread evenly over the table. */
static inline int keep_index(size_t j) {
    uint64_t k = (uint64_t)battle.v[BATTLE_KEEP_PCT];
    return (j + 1) * k / 100 > j * k / 100;
}

/* Blocks freed by the neighbouring thread: remote_pct % of indices, scattered. */
static inline int remote_index(size_t j) {
    uint64_t h = (uint64_t)(j + 1) * 0x9E3779B97F4A7C15ULL;
    return (int)((h >> 32) % 100) < battle.v[BATTLE_REMOTE_PCT];
}

static void worker_burst(struct battle_worker *w) {
    const long long *v = battle.v;
    long long share = v[BATTLE_WORKING_SET] / battle.nthreads;
    long long budget[TIER_COUNT] = {share * v[BATTLE_TINY_PCT] / 100,
                                    share * v[BATTLE_MID_PCT] / 100,
                                    share * v[BATTLE_LARGE_PCT] / 100};
    /* Tiers interleave at random, in proportion to the bytes each still has to allocate. */
    for (;;) {
        long long left = 0;
        for (int t = 0; t < TIER_COUNT; t++)
            left += budget[t] > 0 ? budget[t] : 0;
        if (left <= 0) break;
        long long pick = (long long)(bench_rng_next(&w->rng) % (uint64_t)left);
        int tier = 0;
        for (; tier < TIER_COUNT - 1; tier++) {
            long long b = budget[tier] > 0 ? budget[tier] : 0;
            if (pick < b) break;
            pick -= b;
        }
        struct battle_block blk;
        block_alloc(w, &blk, tier);
        if (!blk.p) break; /* out of memory: stop the burst, reported at the end */
        budget[tier] -= blk.size;
        list_push(&w->set, blk);
    }
    for (long long i = 0; i < v[BATTLE_CHURN] && w->set.n; i++) {
        struct battle_block *blk = &w->set.b[bench_rng_next(&w->rng) % w->set.n];
        int tier = (int)blk->tier;
        block_free(w, blk);
        block_alloc(w, blk, tier);
    }
}

static void worker_free(struct battle_worker *w) {
    /* What the previous cycle kept alive goes now. */
    for (size_t j = 0; j < w->kept.n; j++)
        block_free(w, &w->kept.b[j]);
    w->kept.n = 0;

    struct battle_worker *prev = &battle.workers[(w->id + battle.nthreads - 1) % battle.nthreads];
    for (size_t j = 0; j < w->set.n; j++)
        if (!remote_index(j) && !keep_index(j)) block_free(w, &w->set.b[j]);
    for (size_t j = 0; j < prev->set.n; j++)
        if (remote_index(j) && !keep_index(j)) block_free(w, &prev->set.b[j]);

    /* Once every thread is done with the others' tables, keep the survivors for the next cycle. */
    pthread_barrier_wait(&battle.workers_only);
    for (size_t j = 0; j < w->set.n; j++)
        if (w->set.b[j].p) list_push(&w->kept, w->set.b[j]);
    w->set.n = 0;
}

static void worker_teardown(struct battle_worker *w) {
    for (size_t j = 0; j < w->kept.n; j++)
        block_free(w, &w->kept.b[j]);
    for (size_t j = 0; j < w->set.n; j++)
        block_free(w, &w->set.b[j]);
    w->kept.n = w->set.n = 0;
}

static void *worker_main(void *arg) {
    struct battle_worker *w = arg;
    for (;;) {
        pthread_barrier_wait(&battle.start);
        switch (battle.cmd) {
        case CMD_BURST:
            worker_burst(w);
            break;
        case CMD_FREE:
            worker_free(w);
            break;
        case CMD_FLUSH:
            w->flushed = bench_flush(&w->flush_reported);
            break;
        case CMD_TEARDOWN:
            worker_teardown(w);
            break;
        case CMD_EXIT:
            return NULL;
        }
        pthread_barrier_wait(&battle.done);
    }
}

/* Runs one command on every worker and waits for all of them; returns the time it took. */
static uint64_t run_all(enum battle_cmd cmd) {
    uint64_t t = bench_now_ns();
    battle.cmd = cmd;
    pthread_barrier_wait(&battle.start);
    if (cmd == CMD_EXIT) return 0;
    pthread_barrier_wait(&battle.done);
    return bench_now_ns() - t;
}

struct snapshot {
    uint64_t live, usable, rss_kb, lazyfree_kb;
};

/* Sums what the workers hold and checks the two bookkeepings agree.  Workers are parked. */
static struct snapshot take_snapshot(const char *phase, int cycle) {
    struct snapshot s = {0, 0, 0, 0};
    int64_t counted = 0;
    uint64_t walked = 0;
    for (int i = 0; i < battle.nthreads; i++) {
        struct battle_worker *w = &battle.workers[i];
        counted += w->live;
        const struct battle_list *lists[2] = {&w->set, &w->kept};
        for (int l = 0; l < 2; l++)
            for (size_t j = 0; j < lists[l]->n; j++) {
                const struct battle_block *blk = &lists[l]->b[j];
                if (!blk->p) continue;
                walked += blk->size;
                s.usable += malloc_usable_size(blk->p);
            }
    }
    if (counted < 0 || (uint64_t)counted != walked)
        bench_fail("battle", "cycle %d %s: live_bytes %lld does not match the %llu bytes held",
                   cycle, phase, (long long)counted, (unsigned long long)walked);
    if (s.usable < walked)
        bench_fail("battle",
                   "cycle %d %s: malloc_usable_size sums to %llu, less than the %llu bytes "
                   "requested",
                   cycle, phase, (unsigned long long)s.usable, (unsigned long long)walked);
    s.live = walked;
    bench_read_rss(&s.rss_kb, &s.lazyfree_kb);
    return s;
}

static struct snapshot report_phase(const char *phase, int cycle) {
    struct snapshot s = take_snapshot(phase, cycle);
    printf("phase cycle=%d name=%s t_ms=%.1f live_bytes=%llu usable_bytes=%llu rss_kb=%llu "
           "lazyfree_kb=%llu check=ok\n",
           cycle, phase, (double)(bench_now_ns() - battle.t0) / 1e6, (unsigned long long)s.live,
           (unsigned long long)s.usable, (unsigned long long)s.rss_kb,
           (unsigned long long)s.lazyfree_kb);
    fflush(stdout);
    hak_phase_mark_live(phase, s.live);
    return s;
}

int main(int argc, char **argv) {
    bench_parse_or_exit(&battle_spec, battle.v, argc, argv);
    const long long *v = battle.v;
    battle.nthreads = (int)v[BATTLE_THREADS];
    battle.t0 = bench_now_ns();

    char params[1024];
    bench_format_params(&battle_spec, v, params, sizeof params);
    printf("battle: alloc=%s %s\n", bench_alloc_name(), params);
    printf("battle: flush adapter %s: %s\n", bench_alloc_name(), bench_flush_call());
    fflush(stdout);
    hak_phase_init("battle");

    battle.workers = bench_map(sizeof *battle.workers * (size_t)battle.nthreads);
    pthread_barrier_init(&battle.start, NULL, (unsigned)battle.nthreads + 1);
    pthread_barrier_init(&battle.done, NULL, (unsigned)battle.nthreads + 1);
    pthread_barrier_init(&battle.workers_only, NULL, (unsigned)battle.nthreads);
    for (int i = 0; i < battle.nthreads; i++) {
        struct battle_worker *w = &battle.workers[i];
        w->id = i;
        bench_rng_seed(&w->rng, (uint64_t)v[BATTLE_SEED], (uint64_t)i);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            bench_fail("battle", "cannot start worker thread %d of %d", i + 1, battle.nthreads);
    }

    report_phase("baseline", 0);
    uint64_t work_ns = 0, peak_live = 0, flushed = 0;
    int flush_reported = 0;
    struct snapshot burst = {0, 0, 0, 0}, freed = burst, idle = burst, flush = burst;
    for (int cycle = 1; cycle <= v[BATTLE_CYCLES]; cycle++) {
        work_ns += run_all(CMD_BURST);
        burst = report_phase("burst", cycle);
        if (burst.live > peak_live) peak_live = burst.live;

        work_ns += run_all(CMD_FREE);
        freed = report_phase("free", cycle);

        bench_sleep_ms((uint64_t)v[BATTLE_IDLE_MS]);
        idle = report_phase("idle", cycle);

        if (v[BATTLE_FLUSH]) {
            run_all(CMD_FLUSH);
            int reported;
            flushed = bench_flush(&reported);
            for (int i = 0; i < battle.nthreads; i++)
                flushed += battle.workers[i].flushed;
            flush_reported = reported;
            flush = report_phase("flush", cycle);
        }
    }
    run_all(CMD_TEARDOWN);
    report_phase("end", (int)v[BATTLE_CYCLES]);
    run_all(CMD_EXIT);
    for (int i = 0; i < battle.nthreads; i++)
        pthread_join(battle.workers[i].thread, NULL);

    uint64_t ops = 0, corrupt = 0, oom = 0;
    for (int i = 0; i < battle.nthreads; i++) {
        ops += battle.workers[i].ops;
        corrupt += battle.workers[i].corrupt;
        oom += battle.workers[i].oom;
    }
    double seconds = (double)work_ns / 1e9;
    uint64_t ops_per_sec = seconds > 0 ? (uint64_t)((double)ops / seconds) : 0;
    hak_phase_result_u64("ops_per_sec", ops_per_sec);
    hak_phase_result_u64("peak_live_bytes", peak_live);

    if (v[BATTLE_FLUSH]) {
        if (flush_reported)
            printf("battle: flush (%s) gave back %llu bytes in the last cycle\n",
                   bench_alloc_name(), (unsigned long long)flushed);
        else
            printf("battle: flush (%s) does not report the bytes it gives back\n",
                   bench_alloc_name());
    }
    printf("battle: %llu mallocs+frees in %.3f s of burst and free phases\n",
           (unsigned long long)ops, seconds);
    printf("result bench=battle alloc=%s flush=%s threads=%d cycles=%lld ops=%llu seconds=%.3f "
           "ops_per_sec=%llu peak_live_bytes=%llu rss_burst_kb=%llu rss_free_kb=%llu "
           "rss_idle_kb=%llu",
           bench_alloc_name(), v[BATTLE_FLUSH] ? bench_alloc_name() : "off", battle.nthreads,
           v[BATTLE_CYCLES], (unsigned long long)ops, seconds, (unsigned long long)ops_per_sec,
           (unsigned long long)peak_live, (unsigned long long)burst.rss_kb,
           (unsigned long long)freed.rss_kb, (unsigned long long)idle.rss_kb);
    if (v[BATTLE_FLUSH]) /* no flush phase, no flush figures */
        printf(" rss_flush_kb=%llu lazyfree_flush_kb=%llu", (unsigned long long)flush.rss_kb,
               (unsigned long long)flush.lazyfree_kb);
    printf(" corrupt=%llu oom=%llu\n", (unsigned long long)corrupt, (unsigned long long)oom);
    fflush(stdout);

    if (corrupt) bench_fail("battle", "%llu blocks were corrupted", (unsigned long long)corrupt);
    if (oom) bench_fail("battle", "malloc returned NULL %llu times", (unsigned long long)oom);
    return 0;
}
