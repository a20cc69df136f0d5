/*
 * Tiny and Mid give memory back by themselves, quiet threads included.
 * The clock is hakmem's fake-clock seam and passes are run by hand
 * (hak_test_decay_pass): nothing here sleeps to see a timer fire.  Checked
 * through the counters and RSS against a baseline taken in the same run:
 *   - decay: free slabs go once they stayed free past HAKMEM_DECAY_MS, not
 *     before; idle: the rest goes, tiny_cached/mid_cached back to 0;
 *   - a quiet thread (blocked on a condition variable) has its caches
 *     reclaimed by a pass once it made no call for HAKMEM_DECAY_MS, then it
 *     wakes and allocates and frees correctly;
 *   - hak_flush_all from the main thread reaches another live thread's caches;
 *   - without membarrier (test seam) no reclaimer touches the caches; the
 *     thread empties them itself at its next call;
 *   - a probed thread's next malloc answers the probe, even a cache hit;
 *   - a reclaim leaves the first two blocks of a cache, and only those.
 * Each part runs in a child started with its own HAKMEM_* environment.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("Tiny/Mid decay exists only in hakmem builds");
}
#else

#include <pthread.h>
#include <stdbool.h>

void hak_test_set_clock(uint64_t (*now_ms)(void));
size_t hak_test_decay_pass(void);
void hak_test_set_membarrier(bool available);

#define MIB ((size_t)1 << 20)
#define KIB ((size_t)1 << 10)

static uint64_t fake_ms = 1000000;
static uint64_t fake_clock(void) {
    return fake_ms;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    REQUIRE(f != NULL);
    long size = 0, res = 0;
    REQUIRE(fscanf(f, "%ld %ld", &size, &res) == 2);
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* `n` blocks of `size` bytes, each filled with its index; freed later. */
static void **fill_blocks(size_t n, size_t size) {
    void **v = malloc(n * sizeof *v);
    REQUIRE(v != NULL);
    for (size_t i = 0; i < n; i++) {
        v[i] = malloc(size);
        REQUIRE(v[i] != NULL);
        memset(v[i], (int)(i & 0xff), size);
    }
    return v;
}

static void free_blocks(void **v, size_t n, size_t size) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += ((unsigned char *)v[i])[size - 1] != (unsigned char)(i & 0xff);
        free(v[i]);
    }
    free(v);
    CHECKF(bad == 0, "%zu blocks of %zu bytes lost their contents", bad, size);
}

/* HAKMEM_DECAY_MS=10000 HAKMEM_IDLE_MS=3000 HAKMEM_BACKGROUND=0 */
static void part_decay(void) {
    hak_test_set_clock(fake_clock);
    free(malloc(16)); /* the heap and counters exist before the baseline */
    hak_flush_all();
    hak_test_decay_pass();
    long long dec_t = hak_counter("tiny_released_decay"), dec_m = hak_counter("mid_released_decay");
    long long idle_t = hak_counter("tiny_released_idle"), idle_m = hak_counter("mid_released_idle");
    long base = rss_kb(); /* after the first counter read: stdio and the segment are paged in */

    void **a = fill_blocks(200000, 16); /* about 3 MiB of Tiny */
    void **b = fill_blocks(400, 8 * KIB); /* about 3 MiB of Mid */
    CHECK(rss_kb() > base + 4 * 1024);
    uint64_t t0 = fake_ms;
    free_blocks(a, 200000, 16);
    free_blocks(b, 400, 8 * KIB);
    CHECKF(hak_counter("tiny_cached") >= (long long)(2 * MIB), "tiny_cached %lld after the frees",
           hak_counter("tiny_cached"));
    CHECK(hak_counter("mid_cached") >= (long long)(2 * MIB));

    fake_ms = t0 + 9000; /* nothing has been free 10 s yet */
    free(malloc(20 * KIB)); /* activity: not idle */
    hak_test_decay_pass();
    CHECK(hak_counter("tiny_released_decay") == dec_t);
    CHECK(hak_counter("mid_released_decay") == dec_m);

    fake_ms = t0 + 11000;
    free(malloc(20 * KIB));
    hak_test_decay_pass();
    CHECKF(hak_counter("tiny_released_decay") - dec_t >= (long long)(2 * MIB),
           "decay released %lld Tiny bytes", hak_counter("tiny_released_decay") - dec_t);
    CHECK(hak_counter("mid_released_decay") - dec_m >= (long long)(2 * MIB));
    CHECKF(hak_counter("tiny_cached") < (long long)(256 * KIB), "tiny_cached %lld after decay",
           hak_counter("tiny_cached"));

    /* idle: 3 s with no call gives the rest back */
    void **c = fill_blocks(20000, 48);
    free_blocks(c, 20000, 48);
    fake_ms += 1000;
    hak_test_decay_pass();
    fake_ms += 3500;
    hak_test_decay_pass();
    CHECKF(hak_counter("tiny_released_idle") - idle_t > 0, "idle released %lld Tiny bytes",
           hak_counter("tiny_released_idle") - idle_t);
    CHECK(hak_counter("mid_released_idle") >= idle_m);
    CHECKF(hak_counter("tiny_cached") == 0 && hak_counter("mid_cached") == 0,
           "gauges after idle: tiny %lld mid %lld", hak_counter("tiny_cached"), hak_counter("mid_cached"));
    CHECKF(rss_kb() <= base + 1024, "RSS %ld KiB after idle, baseline %ld KiB", rss_kb(), base);
}

/* A thread that allocates and frees, then blocks until told to go on (wait_stage, check.h). */

/* Frees keep its caches full of 32-byte and 2 KiB blocks; `live` stays allocated. */
static void *quiet_thread(void *arg) {
    void ***live = arg;
    for (int round = 0; round < 2; round++) {
        void **a = fill_blocks(5000, 32), **b = fill_blocks(300, 2 * KIB);
        free_blocks(a, 5000, 32);
        free_blocks(b, 300, 2 * KIB);
        *live = fill_blocks(100, 64);
        set_stage(round * 2 + 1);
        wait_stage(round * 2 + 2);
        free_blocks(*live, 100, 64);
    }
    return NULL;
}

/* HAKMEM_DECAY_MS=10000 HAKMEM_IDLE_MS=0 HAKMEM_BACKGROUND=0: a pass
 * reclaims the quiet thread's caches once it made no call for 10 s. */
static void part_quiet(void) {
    hak_test_set_clock(fake_clock);
    void **live;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, quiet_thread, &live) == 0);
    for (int round = 0; round < 2; round++) {
        wait_stage(round * 2 + 1);
        long long n = hak_counter("quiet_reclaims"), bytes = hak_counter("quiet_reclaim_bytes");
        hak_test_decay_pass(); /* probes the thread */
        fake_ms += 5000;
        hak_test_decay_pass();
        CHECKF(hak_counter("quiet_reclaims") == n, "reclaimed after 5 s quiet (round %d)", round);
        fake_ms += 6000;
        hak_test_decay_pass();
        CHECKF(hak_counter("quiet_reclaims") == n + 1, "quiet_reclaims %lld, expected %lld (round %d)",
               hak_counter("quiet_reclaims"), n + 1, round);
        CHECKF(hak_counter("quiet_reclaim_bytes") - bytes >= (long long)(64 * KIB),
               "reclaimed %lld bytes", hak_counter("quiet_reclaim_bytes") - bytes);
        /* its 64-byte blocks are still live and intact; it frees them on waking */
        set_stage(round * 2 + 2);
    }
    REQUIRE(pthread_join(t, NULL) == 0);
}

/* Fills its 32-byte cache, blocks; on waking makes one malloc that the
 * cache could serve, keeps the block and blocks again. */
static void *probed_thread(void *arg) {
    void **kept = arg;
    void **a = fill_blocks(200, 32);
    free_blocks(a, 200, 32);
    set_stage(1);
    wait_stage(2);
    *kept = malloc(32);
    REQUIRE(*kept != NULL);
    set_stage(3);
    wait_stage(4);
    free(*kept);
    return NULL;
}

/* A probed thread's next malloc answers the probe, even one its cache could
 * serve: a thread that made a call since the probe is not quiet, and a
 * later pass does not take its caches. */
static void part_probe_answer(void) {
    hak_test_set_clock(fake_clock);
    void *kept;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, probed_thread, &kept) == 0);
    wait_stage(1);
    hak_test_decay_pass(); /* probes the thread */
    long long n = hak_counter("quiet_reclaims");
    set_stage(2);
    wait_stage(3);
    fake_ms += 11000;
    hak_test_decay_pass();
    CHECKF(hak_counter("quiet_reclaims") == n,
           "a thread that called malloc after the probe had its caches reclaimed");
    set_stage(4);
    REQUIRE(pthread_join(t, NULL) == 0);
}

/* hak_flush_all from the main thread empties another live thread's caches. */
static void part_flush_other(void) {
    void **live;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, quiet_thread, &live) == 0);
    wait_stage(1);
    long long n = hak_counter("quiet_reclaims"), bytes = hak_counter("quiet_reclaim_bytes");
    size_t released = hak_flush_all();
    CHECKF(hak_counter("quiet_reclaims") == n + 1, "flush reclaimed %lld caches",
           hak_counter("quiet_reclaims") - n);
    CHECK(hak_counter("quiet_reclaim_bytes") - bytes >= (long long)(64 * KIB));
    CHECKF(released >= 64 * KIB, "flush gave back %zu bytes", released);
    CHECK(hak_counter("tiny_released_flush") > 0);
    set_stage(2);
    wait_stage(3);
    set_stage(4);
    REQUIRE(pthread_join(t, NULL) == 0);
}

/* membarrier missing (seam): passes never touch the quiet thread's caches;
 * it empties them itself at its next call after a quiet spell. */
static void part_fallback(void) {
    hak_test_set_clock(fake_clock);
    hak_test_set_membarrier(false);
    void **live;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, quiet_thread, &live) == 0);
    wait_stage(1);
    hak_test_decay_pass();
    fake_ms += 11000;
    hak_test_decay_pass();
    hak_flush_all();
    CHECK(hak_counter("quiet_reclaims") == 0);
    long long local = hak_counter("free_ss_local");
    set_stage(2); /* it frees its live blocks: the first call answers the probe */
    wait_stage(3);
    CHECKF(hak_counter("free_ss_local") - local >= 1000,
           "the thread returned %lld blocks at its next call", hak_counter("free_ss_local") - local);
    CHECK(hak_counter("quiet_reclaims") == 0);
    set_stage(4);
    REQUIRE(pthread_join(t, NULL) == 0);
}

/* Frees ten 48-byte blocks in order, so the last one heads its cache, and
 * blocks; on waking allocates three and reports whether the first two are
 * the last two it freed and the third is not the one before them. */
static void *keeper_thread(void *arg) {
    bool *ok = arg;
    void *b[10];
    for (int i = 0; i < 10; i++) REQUIRE((b[i] = malloc(48)) != NULL);
    for (int i = 0; i < 10; i++) free(b[i]);
    set_stage(1);
    wait_stage(2);
    void *x = malloc(48), *y = malloc(48), *z = malloc(48);
    REQUIRE(x && y && z);
    ok[0] = x == b[9];
    ok[1] = y == b[8];
    ok[2] = z != b[7];
    free(x);
    free(y);
    free(z);
    set_stage(3);
    return NULL;
}

/* A reclaimer takes what lies behind a cache's first two blocks and leaves
 * those two: the owner may be inside a pop or push that touches them
 * (docs/allocator.md, "Quiet threads"). */
static void part_steal_keeps_two(void) {
    bool ok[3] = {false, false, false};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, keeper_thread, ok) == 0);
    wait_stage(1);
    long long bytes = hak_counter("quiet_reclaim_bytes");
    hak_flush_all();
    CHECKF(hak_counter("quiet_reclaim_bytes") - bytes >= 8 * 48, "a flush took %lld bytes of the thread's cache",
           hak_counter("quiet_reclaim_bytes") - bytes);
    set_stage(2);
    wait_stage(3);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(ok[0]); /* the head stayed */
    CHECK(ok[1]); /* and the block behind it */
    CHECKF(ok[2], "the third block freed last was left in the cache");
}

int main(int argc, char **argv) {
    if (argc > 1) {
        if (!strcmp(argv[1], "decay")) part_decay();
        else if (!strcmp(argv[1], "quiet")) part_quiet();
        else if (!strcmp(argv[1], "flush")) part_flush_other();
        else if (!strcmp(argv[1], "fallback")) part_fallback();
        else if (!strcmp(argv[1], "probe_answer")) part_probe_answer();
        else if (!strcmp(argv[1], "steal_keeps_two")) part_steal_keeps_two();
        return test_finish();
    }
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = 0;
    static const char *const decay[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=3000",
                                        "HAKMEM_BACKGROUND=0", "HAKMEM_PRESSURE=0", NULL};
    static const char *const quiet[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=0",
                                        "HAKMEM_BACKGROUND=0", "HAKMEM_PRESSURE=0", NULL};
    static const char *const parts[] = {"decay",        "quiet",          "flush", "fallback",
                                        "probe_answer", "steal_keeps_two"};
    for (unsigned i = 0; i < sizeof parts / sizeof *parts; i++) {
        char err[4096] = "";
        int rc = run_part(self, parts[i], i == 0 ? decay : quiet, err, sizeof err);
        CHECKF(rc == 0, "%s part: exit %d\n%s", parts[i], rc, err);
    }
    return test_finish();
}
#endif
