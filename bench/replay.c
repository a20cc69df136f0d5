/*
 * replay: re-runs a recorded allocation trace (hak trace) on whatever allocator is preloaded.
 *
 *   replay [--strict=1] [--touch=0] [--rounds=N] FILE.trace     a trace file
 *   replay --trace=N                              datasets/traces/<name N>.trace (profiles)
 *
 * Each recorded thread becomes a thread that makes its operations in the recorded order (the
 * first one the main thread).  A free
 * or realloc of a block another thread allocated waits until that allocation has happened here
 * too (blocks are slots planned by trace/plan.c, so no address is looked up while replaying);
 * with strict=1 every operation also waits for all operations recorded before it, which makes
 * the peak of live bytes exactly the trace's.  Phases: baseline (trace loaded), replay (all
 * operations done), end (what the program still held is freed).  rounds=N replays the trace N
 * times, each from an empty heap, so that short traces run long enough to time.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <malloc.h>

#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"
#include "reader.h"

/* What the replay keeps of a record once planned: half its size, so that the replay's own tables
 * weigh little next to the heap it measures. */
struct replay_op {
    uint64_t size, align;
    uint32_t slot, target, thread;
    uint16_t image;
    uint8_t kind, op;
};

struct replay {
    struct trace t;
    struct replay_op *op; /* per record, in order; t.rec is released once these are made */
    void **ptr;           /* per slot: the block this replay got */
    atomic_uchar *state;  /* per slot: 0 not yet allocated, 1 allocated, 2 freed */
    uint32_t **ops;       /* per thread: its records, in order */
    size_t *nops;
    int strict, touch;
    _Atomic size_t turn; /* strict: the next record that may run */
    _Atomic uint64_t live, peak, oom;
};

struct worker {
    struct replay *rp;
    uint32_t thread;
    pthread_barrier_t *start;
};

static void wait_until(atomic_uchar *flag) {
    for (unsigned spins = 0; atomic_load_explicit(flag, memory_order_acquire) == 0; spins++)
        if (spins > 64) sched_yield();
}

static void add_live(struct replay *rp, uint64_t bytes) {
    uint64_t now = atomic_fetch_add_explicit(&rp->live, bytes, memory_order_relaxed) + bytes;
    uint64_t peak = atomic_load_explicit(&rp->peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &rp->peak, &peak, now, memory_order_relaxed, memory_order_relaxed)) {
    }
}

static void *allocate(const struct replay_op *r) {
    void *p = NULL;
    switch (r->kind) {
    case TRACE_MALLOC:
        return malloc(r->size);
    case TRACE_CALLOC:
        return calloc(1, r->size);
    case TRACE_POSIX_MEMALIGN:
        return posix_memalign(&p, r->align, r->size) == 0 ? p : NULL;
    case TRACE_ALIGNED_ALLOC:
        return aligned_alloc(r->align, r->size);
    case TRACE_MEMALIGN:
        return memalign(r->align, r->size);
    case TRACE_VALLOC:
        return valloc(r->size);
    case TRACE_PVALLOC:
        return pvalloc(r->size);
    default:
        return NULL;
    }
}

/* Frees the slot's block; waits first for its allocation when another thread makes it. */
static void *take(struct replay *rp, uint32_t slot) {
    wait_until(&rp->state[slot]);
    atomic_store_explicit(&rp->state[slot], 2, memory_order_relaxed);
    atomic_fetch_sub_explicit(&rp->live, rp->t.slot_size[slot], memory_order_relaxed);
    return rp->ptr[slot];
}

static void give(struct replay *rp, const struct replay_op *r, void *p) {
    if (!p && r->size) atomic_fetch_add_explicit(&rp->oom, 1, memory_order_relaxed);
    uint64_t resident = rp->t.slot_resident[r->slot];
    if (p && r->size && rp->touch) {
        /* As the program did: as many bytes as it had resident (a large block's, recorded when
         * freed) from the start, or else both ends, or every page (touch=2). */
        size_t step = rp->touch == 2 ? 4096 : r->size, upto = r->size;
        if (resident && rp->touch == 1) {
            step = 4096;
            upto = resident < r->size ? resident : r->size;
        }
        for (size_t off = 0; off < upto; off += step)
            ((volatile char *)p)[off] = 1;
        ((volatile char *)p)[r->size - 1] = 1;
    }
    rp->ptr[r->slot] = p;
    add_live(rp, r->size);
    atomic_store_explicit(&rp->state[r->slot], 1, memory_order_release);
}

static void *run_thread(void *arg) {
    struct worker *w = arg;
    struct replay *rp = w->rp;
    pthread_barrier_wait(w->start);
    for (size_t i = 0; i < rp->nops[w->thread]; i++) {
        uint32_t idx = rp->ops[w->thread][i];
        const struct replay_op *r = &rp->op[idx];
        if (rp->strict)
            for (unsigned spins = 0; atomic_load_explicit(&rp->turn, memory_order_acquire) != idx;
                 spins++)
                if (spins > 64) sched_yield();
        switch (r->op) {
        case TRACE_OP_ALLOC:
            give(rp, r, allocate(r));
            break;
        case TRACE_OP_REALLOC: {
            void *old = r->target == TRACE_NO_SLOT ? NULL : take(rp, r->target);
            give(rp, r, realloc(old, r->size));
            break;
        }
        case TRACE_OP_FREE:
            free(take(rp, r->target));
            break;
        default:
            break;
        }
        if (rp->strict) atomic_store_explicit(&rp->turn, idx + 1, memory_order_release);
    }
    return NULL;
}

/* A "VmNAME:" figure of /proc/self/status in KiB, or 0.  Read with open/read: no stdio buffer. */
static uint64_t status_kb(const char *name) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *at = strstr(buf, name);
    return at ? strtoull(at + strlen(name), NULL, 10) : 0;
}

/* Resets the kernel's RSS high-water mark (VmHWM), so that it measures the replay alone, not the
 * loading of the trace before it. */
static void reset_rss_peak(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (write(fd, "5", 1) != 1) { /* an old kernel: the peak then includes the loading */
    }
    close(fd);
}

/* datasets/traces/NAME.trace of the source tree this binary was built in. */
static void dataset_path(const char *name, char *out, size_t len) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    snprintf(out, len, "%s/../../datasets/traces/%s.trace", exe, name);
}

int main(int argc, char **argv) {
    long long values[BENCH_MAX_PARAMS];
    char path[PATH_MAX + 64] = "";
    /* A plain argument is the trace file; the rest are the spec's --name=value parameters. */
    if (argc > 1 && argv[argc - 1][0] != '-') snprintf(path, sizeof path, "%s", argv[--argc]);
    bench_parse_or_exit(&replay_spec, values, argc, argv);
    int dataset = !path[0];
    if (dataset) dataset_path(replay_trace_names[values[REPLAY_TRACE]], path, sizeof path);

    static struct replay rp;
    char err[512];
    if (trace_read_file(path, &rp.t, err, sizeof err) != 0) {
        fprintf(stderr, "replay: %s%s\n", err,
                dataset ? " (scripts/make-traces.sh records the traces of datasets/traces/)" : "");
        return 1;
    }
    if (rp.t.note[0]) fprintf(stderr, "replay: note: %s\n", rp.t.note);
    trace_plan(&rp.t);
    if (rp.t.unknown_frees) {
        const struct trace_record *r = &rp.t.rec[rp.t.first_unknown];
        fprintf(stderr,
                "replay: %s: record %zu (thread %u, seq %llu): %s(0x%llx) of a block the trace "
                "never allocated%s; skipped (%llu such records)\n",
                path, rp.t.first_unknown, r->tid, (unsigned long long)r->seq,
                trace_kind_name(r->kind), (unsigned long long)r->addr,
                rp.t.flags & TRACE_FLAG_FORKED ? " (inherited across the fork)" : "",
                (unsigned long long)rp.t.unknown_frees);
    }
    trace_print_unsupported(stderr, "replay: ", &rp.t);
    rp.strict = (int)values[REPLAY_STRICT];
    rp.touch = (int)values[REPLAY_TOUCH];
    long long rounds = values[REPLAY_ROUNDS];
    uint32_t nthreads = rp.t.nthreads ? rp.t.nthreads : 1, nslots = rp.t.nslots;
    rp.op = bench_map((rp.t.count + 1) * sizeof *rp.op);
    for (size_t i = 0; i < rp.t.count; i++) {
        const struct trace_record *r = &rp.t.rec[i];
        rp.op[i] = (struct replay_op){r->size,   r->align, r->slot, r->target,
                                      r->thread, r->image, r->kind, r->op};
    }
    trace_unmap(rp.t.rec, rp.t.cap * sizeof *rp.t.rec);
    rp.t.rec = NULL;
    rp.t.cap = 0;
    rp.ptr = bench_map((nslots + 1) * sizeof *rp.ptr);
    rp.state = bench_map(nslots + 1);
    rp.ops = bench_map(nthreads * sizeof *rp.ops);
    rp.nops = bench_map(nthreads * sizeof *rp.nops);
    for (size_t i = 0; i < rp.t.count; i++)
        rp.nops[rp.op[i].thread]++;
    for (uint32_t th = 0; th < nthreads; th++)
        rp.ops[th] = bench_map((rp.nops[th] + 1) * sizeof **rp.ops);
    /* The tables the replay writes while it runs are made resident now, before the baseline, so
     * that the RSS it gains from there is the allocator's alone. */
    memset(rp.ptr, 0, (nslots + 1) * sizeof *rp.ptr);
    memset((void *)rp.state, 0, nslots + 1);
    for (uint32_t th = 0; th < nthreads; th++)
        memset(rp.ops[th], 0, (rp.nops[th] + 1) * sizeof **rp.ops);

    printf("replay: alloc=%s %s: %zu records, %u threads, peak live %llu bytes%s\n",
           bench_alloc_name(), path, rp.t.count, nthreads, (unsigned long long)rp.t.peak_live,
           rp.strict ? ", strict order" : "");
    pthread_t *tids = bench_map(nthreads * sizeof *tids);
    struct worker *workers = bench_map(nthreads * sizeof *workers);
    hak_phase_init("replay");
    hak_phase_mark_live("baseline", 0);
    reset_rss_peak();
    uint64_t baseline_kb = status_kb("VmRSS:");
    double seconds = 0;
    uint64_t live = 0;
    /* An exec starts a new program with a new heap: each image is replayed on its own, and what
     * the old image still held is freed before the next begins. */
    for (long long round = 0; round < rounds; round++) {
        if (round > 0) { /* the next round starts from an empty heap, as the program did */
            for (uint32_t s = 0; s < nslots; s++)
                if (atomic_load(&rp.state[s]) == 1) free(take(&rp, s));
            memset((void *)rp.state, 0, nslots + 1);
        }
        for (size_t begin = 0, end; begin < rp.t.count || begin == 0; begin = end) {
            for (end = begin; end < rp.t.count && rp.op[end].image == rp.op[begin].image; end++) {
            }
            for (uint32_t th = 0; th < nthreads; th++)
                rp.nops[th] = 0;
            for (size_t i = begin; i < end; i++) {
                uint32_t th = rp.op[i].thread;
                rp.ops[th][rp.nops[th]++] = (uint32_t)i;
            }
            atomic_store(&rp.turn, begin);
            /* The program's first thread is replayed on this one, the main thread, as it ran:
             * an allocator may serve its main thread differently (glibc: the brk heap). */
            pthread_barrier_t start;
            pthread_barrier_init(&start, NULL, nthreads);
            for (uint32_t th = 0; th < nthreads; th++) {
                workers[th] = (struct worker){&rp, th, &start};
                if (th > 0 && pthread_create(&tids[th], NULL, run_thread, &workers[th]) != 0)
                    bench_fail("replay", "cannot start thread %u of %u", th + 1, nthreads);
            }
            uint64_t t0 = bench_now_ns();
            run_thread(&workers[0]);
            for (uint32_t th = 1; th < nthreads; th++)
                pthread_join(tids[th], NULL);
            seconds += (double)(bench_now_ns() - t0) / 1e9;
            pthread_barrier_destroy(&start);
            live = atomic_load(&rp.live);
            if (end >= rp.t.count) break;
            for (uint32_t s = 0; s < nslots; s++)
                if (atomic_load(&rp.state[s]) == 1) free(take(&rp, s));
        }
    }
    uint64_t peak = atomic_load(&rp.peak);
    uint64_t hwm_kb = status_kb("VmHWM:");
    hak_phase_mark_live("replay", live);
    for (uint32_t s = 0; s < nslots; s++)
        if (atomic_load(&rp.state[s]) == 1) free(rp.ptr[s]);
    hak_phase_mark_live("end", 0);

    uint64_t ops = rp.t.count * (uint64_t)rounds,
             ops_per_sec = seconds > 0 ? (uint64_t)((double)ops / seconds) : 0;
    uint64_t rss_kb = 0, lazy_kb = 0;
    bench_read_rss(&rss_kb, &lazy_kb);
    hak_phase_result_u64("ops_per_sec", ops_per_sec);
    hak_phase_result_u64("peak_live_bytes", peak);
    printf("replay: %llu operations in %.3f s: %llu ops/s, peak live %llu bytes (trace: %llu)\n",
           (unsigned long long)ops, seconds, (unsigned long long)ops_per_sec,
           (unsigned long long)peak, (unsigned long long)rp.t.peak_live);
    printf("result bench=replay alloc=%s threads=%u ops=%llu seconds=%.3f ops_per_sec=%llu "
           "peak_live_bytes=%llu trace_peak_live_bytes=%llu live_bytes=%llu rss_kb=%llu "
           "baseline_rss_kb=%llu replay_peak_rss_kb=%llu "
           "unknown_frees=%llu oom=%llu\n",
           bench_alloc_name(), nthreads, (unsigned long long)ops, seconds,
           (unsigned long long)ops_per_sec, (unsigned long long)peak,
           (unsigned long long)rp.t.peak_live, (unsigned long long)live, (unsigned long long)rss_kb,
           (unsigned long long)baseline_kb, (unsigned long long)hwm_kb,
           (unsigned long long)rp.t.unknown_frees, (unsigned long long)atomic_load(&rp.oom));
    fflush(stdout);
    return 0;
}
