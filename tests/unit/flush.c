/*
 * hakmem's flush calls give freed memory back to the OS: after a working set
 * is touched, freed and flushed, resident memory is back within half of the
 * working set of where it started, and the call reports the bytes released.
 * Each tier's flush releases that tier's memory, and hak_flush_all leaves no
 * tier for a later tier flush to find.  A flush also releases blocks freed by
 * another thread, and blocks an exited thread left live that another thread
 * freed afterwards.  It runs with HAKMEM_DECAY_MS=0 (it execs itself so).
 */
#include "check.h"

#include <pthread.h>
#include <sys/mman.h>

#define MIB ((size_t)1 << 20)

/* Pointer arrays live in their own mapping so they stay out of the heap. */
static void **ptr_array(size_t n) {
    void *a =
        mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(a != MAP_FAILED);
    return a;
}

struct working_set {
    size_t lo, hi; /* block sizes drawn from [lo, hi] */
    size_t bytes;  /* total requested */
    void **blocks;
    size_t count;
    size_t cap;
};

/* A size in [lo, hi], log-uniform so that every size range of a mixed set
 * (tiny, mid, large) gets its share of blocks. */
static size_t pick_size(size_t lo, size_t hi, uint64_t *seed) {
    size_t a = lo;
    size_t steps = 0;
    while (a * 2 <= hi) {
        a *= 2;
        steps++;
    }
    size_t base = lo << rng_below(seed, steps + 1);
    size_t top = base * 2 - 1 < hi ? base * 2 - 1 : hi;
    return base + rng_below(seed, top - base + 1);
}

static void ws_alloc(struct working_set *ws, uint64_t seed) {
    ws->cap = ws->bytes / ws->lo + 1;
    ws->blocks = ptr_array(ws->cap);
    ws->count = 0;
    size_t total = 0;
    while (total < ws->bytes && ws->count < ws->cap) {
        size_t n = pick_size(ws->lo, ws->hi, &seed);
        char *p = malloc(n);
        REQUIRE(p != NULL);
        memset(p, 0x5C, n); /* touch every page */
        ws->blocks[ws->count++] = p;
        total += n;
    }
}

/* Frees the blocks in a shuffled order so that no slab empties in sequence. */
static void ws_free(struct working_set *ws, uint64_t seed) {
    for (size_t i = ws->count; i > 1; i--) {
        size_t j = rng_below(&seed, i);
        void *t = ws->blocks[i - 1];
        ws->blocks[i - 1] = ws->blocks[j];
        ws->blocks[j] = t;
    }
    for (size_t i = 0; i < ws->count; i++)
        free(ws->blocks[i]);
    munmap(ws->blocks, ws->cap * sizeof(void *));
    ws->blocks = NULL;
}

/* Allocates, touches and frees a working set, flushes with `flush`, and
 * checks that the RSS it added is gone within half the working set, and that
 * the bytes the flush reports account for at least half of the RSS it cut. */
static void check_flush_releases(const char *what, size_t lo, size_t hi, size_t bytes,
                                 size_t (*flush)(void), size_t (*flush_all)(void)) {
    flush_all();
    long long rss0 = rss_bytes();
    struct working_set ws = {.lo = lo, .hi = hi, .bytes = bytes};
    ws_alloc(&ws, 7);
    long long rss1 = rss_bytes();
    ws_free(&ws, 11);
    long long rss2 = rss_bytes();
    size_t released = flush();
    long long rss3 = rss_bytes();
    printf("%-6s blocks %zu..%zu, %zu MiB: rss %lld -> %lld (touched) -> %lld (freed) -> %lld "
           "(flushed) KiB; flush reported %zu KiB\n",
           what, lo, hi, bytes / MIB, rss0 / 1024, rss1 / 1024, rss2 / 1024, rss3 / 1024,
           released / 1024);
    CHECKF(rss1 - rss0 >= (long long)bytes / 2, "%s: touching %zu MiB added only %lld KiB", what,
           bytes / MIB, (rss1 - rss0) / 1024);
    CHECKF(released > 0, "%s: flush released nothing", what);
    /* the count is what the toolkit reports as "released by flush" */
    CHECKF((long long)released >= (rss2 - rss3) / 2,
           "%s: flush reported %zu KiB but resident memory fell by %lld KiB", what, released / 1024,
           (rss2 - rss3) / 1024);
    CHECKF(rss3 - rss0 <= (long long)bytes / 2,
           "%s: %lld KiB still resident after flush (working set %zu KiB)", what,
           (rss3 - rss0) / 1024, bytes / 1024);
}

/* After hak_flush_all, each tier's own flush finds next to nothing: every tier
 * was flushed.  The figures are compared within this run, against the
 * working set just freed. */
static void check_flush_all_covers_tiers(const struct hak_api *api) {
    const size_t bytes = 48 * MIB;
    struct working_set ws = {.lo = 16, .hi = 256 * 1024, .bytes = bytes};
    ws_alloc(&ws, 21);
    ws_free(&ws, 22);
    size_t all = api->flush_all();
    long long rss0 = rss_bytes();
    size_t tiny = api->tiny_flush(), mid = api->mid_flush(), large = api->large_flush();
    long long rss1 = rss_bytes();
    printf("flush_all released %zu KiB; then tiny %zu, mid %zu, large %zu KiB, rss %lld -> %lld "
           "KiB\n",
           all / 1024, tiny / 1024, mid / 1024, large / 1024, rss0 / 1024, rss1 / 1024);
    CHECKF(tiny < MIB / 2, "hak_flush_all left %zu KiB for hak_tiny_flush", tiny / 1024);
    CHECKF(mid < MIB / 2, "hak_flush_all left %zu KiB for hak_mid_flush", mid / 1024);
    CHECKF(large < MIB / 2, "hak_flush_all left %zu KiB for hak_large_flush", large / 1024);
    CHECKF(rss0 - rss1 < (long long)MIB, "the tier flushes after hak_flush_all cut RSS by %lld KiB",
           (rss0 - rss1) / 1024);
}

struct thread_arg {
    struct working_set *ws;
    size_t bytes;
};

/* Flushes every tier and prints how RSS went from rss0 through rss1 (after
 * `between`) to after the flush; returns RSS after the flush. */
static long long flush_all_reporting(const struct hak_api *api, const char *what,
                                     const char *between, long long rss0, long long rss1) {
    size_t released = api->flush_all();
    long long rss2 = rss_bytes();
    printf("%s: rss %lld -> %lld (%s) -> %lld (flushed) KiB; flush reported %zu KiB\n", what,
           rss0 / 1024, rss1 / 1024, between, rss2 / 1024, released / 1024);
    return rss2;
}

/* Runs fn(arg) on a new thread and waits for the thread to exit. */
static void run_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, fn, arg) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
}

static void *thread_alloc_free_exit(void *arg) {
    struct thread_arg *ta = arg;
    struct working_set ws = {.lo = 16, .hi = 64 * 1024, .bytes = ta->bytes};
    ws_alloc(&ws, 99);
    ws_free(&ws, 100);
    return NULL;
}

static void *thread_alloc_exit_live(void *arg) {
    struct thread_arg *ta = arg;
    ws_alloc(ta->ws, 101);
    for (size_t i = 0; i < ta->ws->count; i += 2) {
        free(ta->ws->blocks[i]);
        ta->ws->blocks[i] = NULL;
    }
    return NULL;
}

static void *thread_free_all(void *arg) {
    struct working_set *ws = arg;
    for (size_t i = 0; i < ws->count; i++)
        free(ws->blocks[i]);
    return NULL;
}

static void check_flush_after_thread_exit(const struct hak_api *api) {
    api->flush_all();
    long long rss0 = rss_bytes();
    struct thread_arg ta = {.bytes = 32 * MIB};
    run_thread(thread_alloc_free_exit, &ta);
    long long rss1 = rss_bytes();
    long long rss2 = flush_all_reporting(api, "thread exit, 32 MiB", "thread gone", rss0, rss1);
    CHECKF(rss2 - rss0 <= (long long)ta.bytes / 2,
           "%lld KiB of an exited thread's memory still resident after hak_flush_all",
           (rss2 - rss0) / 1024);
}

/* A thread exits while it still owns live blocks (its SuperSlabs become
 * orphans); this thread frees them afterwards, and a flush gives them back. */
static void check_flush_of_orphans(const struct hak_api *api) {
    const size_t bytes = 32 * MIB;
    struct working_set ws = {.lo = 16, .hi = 32 * 1024, .bytes = bytes};
    struct thread_arg ta = {.ws = &ws};
    api->flush_all();
    long long rss0 = rss_bytes();
    run_thread(thread_alloc_exit_live, &ta);
    long long rss1 = rss_bytes();
    for (size_t i = 1; i < ws.count; i += 2)
        free(ws.blocks[i]);
    munmap(ws.blocks, ws.cap * sizeof(void *));
    long long rss2 =
        flush_all_reporting(api, "orphans, 32 MiB", "thread gone, half live", rss0, rss1);
    CHECKF(rss1 - rss0 >= (long long)bytes / 4, "the exited thread's live half is not resident");
    CHECKF(rss2 - rss0 <= (long long)bytes / 8,
           "%lld KiB of an exited thread's blocks, freed by another thread, still resident after "
           "hak_flush_all",
           (rss2 - rss0) / 1024);
}

/* Blocks of this thread freed by another one (remote frees) are released by
 * this thread's flush. */
static void check_flush_of_remote_frees(const struct hak_api *api) {
    const size_t bytes = 32 * MIB;
    struct working_set ws = {.lo = 16, .hi = 32 * 1024, .bytes = bytes};
    api->flush_all();
    long long rss0 = rss_bytes();
    ws_alloc(&ws, 103);
    run_thread(thread_free_all, &ws);
    munmap(ws.blocks, ws.cap * sizeof(void *));
    long long rss1 = rss_bytes();
    long long rss2 =
        flush_all_reporting(api, "remote frees, 32 MiB", "freed by another thread", rss0, rss1);
    CHECKF(rss2 - rss0 <= (long long)bytes / 8,
           "%lld KiB of blocks freed by another thread still resident after hak_flush_all",
           (rss2 - rss0) / 1024);
}

int main(int argc, char **argv) {
    (void)argc;
    /* a decay pass between two reads of resident memory would give back
     * what the flush is to report */
    test_without_decay(argv);
    struct hak_api api;
    require_hakmem(&api);
    REQUIRE(rss_bytes() > 0);

    check_flush_releases("tiny", 16, 1024, 32 * MIB, api.tiny_flush, api.flush_all);
    check_flush_releases("mid", 1025, 32768, 32 * MIB, api.mid_flush, api.flush_all);
    check_flush_releases("large", 32769, 256 * 1024, 32 * MIB, api.large_flush, api.flush_all);
    check_flush_releases("all", 16, 256 * 1024, 64 * MIB, api.flush_all, api.flush_all);
    check_flush_all_covers_tiers(&api);
    check_flush_after_thread_exit(&api);
    check_flush_of_orphans(&api);
    check_flush_of_remote_frees(&api);

    /* flushing with nothing to release is harmless, and the heap still works */
    api.flush_all();
    api.flush_all();
    void *p = malloc(100);
    CHECK(p != NULL);
    free(p);
    return test_finish();
}
