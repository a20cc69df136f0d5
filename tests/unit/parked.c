/*
 * Parked blocks (docs/allocator.md, "Parked blocks"): a full thread cache
 * sets its newest blocks aside in its heap instead of sending them back to
 * their slabs, and the class's next refill takes them first.  Checked
 * through the counters, in children started with their own HAKMEM_*
 * environment:
 *   - reuse: a teardown of blocks parks them (none goes through its slab),
 *     the next allocations get exactly those blocks back, and the gauge
 *     tiny_parked follows to the byte, back to 0;
 *   - flush: hak_tiny_flush / hak_mid_flush put parked blocks back in their
 *     slabs and give the emptied slabs back;
 *   - exit: a thread's parked blocks go back to their slabs when it exits;
 *   - decay: a pass returns them once nothing was parked for
 *     HAKMEM_DECAY_MS, not before; an idle pass at once (fake clock);
 *   - bound: HAKMEM_PARK_KB bounds what a tier parks; 0 parks nothing;
 *   - fork: the blocks parked by a thread that does not survive fork go
 *     back to their slabs in the child, and leave its gauge.
 * That a parked block freed again, reallocated or asked its size stops the
 * process is checked in tests/unit/invalid_free.c.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("parked blocks exist only in hakmem builds");
}
#else

#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>

void hak_test_set_clock(uint64_t (*now_ms)(void));
size_t hak_test_decay_pass(void);

enum { N = 4096, SIZE = 48 };
static void *blocks[N];

static uint64_t fake_ms = 1000000;
static uint64_t fake_clock(void) {
    return fake_ms;
}

static void alloc_all(size_t size) {
    for (int i = 0; i < N; i++) {
        REQUIRE((blocks[i] = malloc(OPAQUE(size))) != NULL);
        memset(blocks[i], i & 0xff, size);
    }
}

static void free_all(void) {
    for (int i = 0; i < N; i++)
        free(blocks[i]);
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* HAKMEM_TCACHE_ADAPT=0 HAKMEM_TINY_CACHE_MAX=64 */
static void part_reuse(void) {
    hak_tiny_flush();
    alloc_all(SIZE);
    long long local0 = hak_counter("free_ss_local"), parked0 = hak_counter("blocks_parked");
    free_all();
    long long parked = hak_counter("blocks_parked") - parked0;
    CHECKF(parked >= N - 64, "%lld of %d freed blocks parked", parked, N);
    CHECKF(hak_counter("free_ss_local") == local0, "%lld blocks went back to their slabs",
           hak_counter("free_ss_local") - local0);
    CHECKF(hak_counter("tiny_parked") == parked * SIZE, "tiny_parked %lld for %lld blocks",
           hak_counter("tiny_parked"), parked);

    static void *freed[N];
    memcpy(freed, blocks, sizeof blocks);
    qsort(freed, N, sizeof *freed, cmp_ptr);
    long long taken0 = hak_counter("tiny_refill_parked"), fresh0 = hak_counter("tiny_refill_slab_free");
    alloc_all(SIZE);
    int reused = 0;
    for (int i = 0; i < N; i++)
        reused += bsearch(&blocks[i], freed, N, sizeof *freed, cmp_ptr) != NULL;
    /* the first allocations' last refill left up to 63 blocks in the cache that were
     * never handed out: they come back first, the parked ones after them */
    CHECKF(reused >= N - 64, "%d of %d allocations reused the freed blocks", reused, N);
    CHECKF(hak_counter("tiny_refill_parked") > taken0, "no refill took parked blocks");
    CHECKF(hak_counter("tiny_refill_slab_free") == fresh0, "%lld refills went to a slab",
           hak_counter("tiny_refill_slab_free") - fresh0);
    void *more[64];
    for (int i = 0; i < 64; i++)
        REQUIRE((more[i] = malloc(OPAQUE((size_t)SIZE))) != NULL);
    CHECKF(hak_counter("tiny_parked") == 0, "tiny_parked %lld with every block taken",
           hak_counter("tiny_parked"));
    for (int i = 0; i < 64; i++)
        free(more[i]);
    free_all();
}

/* defaults, HAKMEM_BACKGROUND=0 */
static void part_flush(void) {
    alloc_all(SIZE);
    free_all();
    CHECKF(hak_counter("tiny_parked") > 0, "nothing parked");
    long long local0 = hak_counter("free_ss_local"), parked = hak_counter("tiny_parked");
    size_t released = hak_tiny_flush();
    CHECKF(hak_counter("tiny_parked") == 0, "tiny_parked %lld after the flush", hak_counter("tiny_parked"));
    CHECKF(hak_counter("free_ss_local") - local0 >= parked / SIZE,
           "%lld blocks back in their slabs, %lld were parked", hak_counter("free_ss_local") - local0,
           parked / SIZE);
    CHECKF(released >= (size_t)(N * SIZE) / 2, "the flush gave back %zu bytes", released);

    for (int i = 0; i < 600; i++)
        REQUIRE((blocks[i] = malloc(OPAQUE((size_t)4096))) != NULL);
    for (int i = 0; i < 600; i++)
        free(blocks[i]);
    CHECKF(hak_counter("mid_parked") > 0, "no Mid block parked");
    hak_mid_flush();
    CHECKF(hak_counter("mid_parked") == 0, "mid_parked %lld after the flush", hak_counter("mid_parked"));
}

static void *park_and_exit(void *arg) {
    (void)arg;
    alloc_all(SIZE);
    free_all();
    REQUIRE(hak_counter("tiny_parked") > 0);
    return NULL;
}

/* defaults, HAKMEM_BACKGROUND=0 */
static void part_exit(void) {
    free(malloc(16));
    hak_tiny_flush();
    long long local0 = hak_counter("free_ss_local");
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, park_and_exit, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECKF(hak_counter("tiny_parked") == 0, "tiny_parked %lld after the thread exited",
           hak_counter("tiny_parked"));
    CHECKF(hak_counter("free_ss_local") - local0 >= N - 256, "%lld blocks back in their slabs",
           hak_counter("free_ss_local") - local0);
}

/* HAKMEM_DECAY_MS=10000 HAKMEM_IDLE_MS=3000 HAKMEM_BACKGROUND=0 */
static void part_decay(void) {
    hak_test_set_clock(fake_clock);
    free(malloc(16));
    hak_flush_all();
    alloc_all(SIZE);
    free_all();
    long long parked = hak_counter("tiny_parked");
    CHECKF(parked > 0, "nothing parked");
    uint64_t t0 = fake_ms;
    fake_ms = t0 + 9000; /* parked 9 s ago: kept */
    free(malloc(20 * 1024)); /* activity: not idle */
    hak_test_decay_pass();
    CHECKF(hak_counter("tiny_parked") == parked, "tiny_parked %lld, was %lld, before HAKMEM_DECAY_MS",
           hak_counter("tiny_parked"), parked);
    fake_ms = t0 + 11000;
    free(malloc(20 * 1024));
    hak_test_decay_pass();
    CHECKF(hak_counter("tiny_parked") == 0, "tiny_parked %lld after HAKMEM_DECAY_MS",
           hak_counter("tiny_parked"));

    /* idle: 3 s with no call returns them at once */
    alloc_all(SIZE);
    free_all();
    CHECKF(hak_counter("tiny_parked") > 0, "nothing parked the second time");
    fake_ms += 1000;
    hak_test_decay_pass();
    fake_ms += 3500;
    hak_test_decay_pass();
    CHECKF(hak_counter("tiny_parked") == 0 && hak_counter("tiny_cached") == 0,
           "after idle: tiny_parked %lld, tiny_cached %lld", hak_counter("tiny_parked"),
           hak_counter("tiny_cached"));
}

/* HAKMEM_PARK_KB=64 (and a child with 0) */
static void part_bound(void) {
    long long local0 = hak_counter("free_ss_local");
    alloc_all(SIZE);
    free_all();
    long long kb = atoll(getenv("HAKMEM_PARK_KB"));
    CHECKF(hak_counter("tiny_parked") <= kb * 1024, "tiny_parked %lld with HAKMEM_PARK_KB=%lld",
           hak_counter("tiny_parked"), kb);
    CHECKF(kb == 0 || hak_counter("tiny_parked") > 0, "nothing parked with HAKMEM_PARK_KB=%lld", kb);
    CHECKF(kb != 0 || hak_counter("blocks_parked") == 0, "%lld blocks parked with HAKMEM_PARK_KB=0",
           hak_counter("blocks_parked"));
    CHECKF(hak_counter("free_ss_local") - local0 >= N / 2, "only %lld blocks went back to their slabs",
           hak_counter("free_ss_local") - local0);
}

static void *park_and_wait(void *arg) {
    (void)arg;
    alloc_all(SIZE);
    free_all();
    set_stage(1);
    wait_stage(2);
    return NULL;
}

/* defaults, HAKMEM_BACKGROUND=0 */
static void part_fork(void) {
    free(malloc(16));
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, park_and_wait, NULL) == 0);
    wait_stage(1);
    long long parked = hak_counter("tiny_parked");
    CHECKF(parked > 0, "the thread parked nothing");
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* the thread's heap did not survive: its parked blocks went back */
        long long left = hak_counter("tiny_parked");
        void *p = malloc(SIZE); /* the child allocates as usual */
        _exit(left == 0 && p != NULL ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child saw parked blocks of a dead thread");
    CHECK(hak_counter("tiny_parked") == parked); /* the parent's thread keeps its own */
    set_stage(2);
    REQUIRE(pthread_join(t, NULL) == 0);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        if (!strcmp(argv[1], "reuse")) part_reuse();
        else if (!strcmp(argv[1], "flush")) part_flush();
        else if (!strcmp(argv[1], "exit")) part_exit();
        else if (!strcmp(argv[1], "decay")) part_decay();
        else if (!strcmp(argv[1], "bound")) part_bound();
        else if (!strcmp(argv[1], "fork")) part_fork();
        else return 2;
        return test_finish();
    }
    hak_counter("flush_calls"); /* skips here when counters are compiled out */
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = 0;
    /* parking is off by default: every part but "none" sets a bound */
    static const char *const fixed[] = {"HAKMEM_TCACHE_ADAPT=0", "HAKMEM_TINY_CACHE_MAX=64",
                                        "HAKMEM_PARK_KB=16384", "HAKMEM_BACKGROUND=0",
                                        "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const plain[] = {"HAKMEM_PARK_KB=16384", "HAKMEM_BACKGROUND=0",
                                        "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const decay[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=3000",
                                        "HAKMEM_PARK_KB=16384", "HAKMEM_BACKGROUND=0",
                                        "HAKMEM_PRESSURE=0", "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const bound[] = {"HAKMEM_PARK_KB=64", "HAKMEM_BACKGROUND=0",
                                        "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const none[] = {"HAKMEM_PARK_KB=0", "HAKMEM_BACKGROUND=0",
                                       "HAKMEM_COUNTERS_SHARED=0", NULL};
    static const char *const parts[] = {"reuse", "flush", "exit", "decay", "bound", "bound", "fork"};
    const char *const *envs[] = {fixed, plain, plain, decay, bound, none, plain};
    for (unsigned i = 0; i < sizeof parts / sizeof *parts; i++) {
        char err[4096] = "";
        int rc = run_part(self, parts[i], envs[i], err, sizeof err);
        printf("part %s: exit %d\n%s", parts[i], rc, err);
        CHECKF(rc == 0, "part %s failed (exit %d)", parts[i], rc);
    }
    return test_finish();
}
#endif
