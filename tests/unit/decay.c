/*
 * Decay gives freed Large/Huge memory back with no call from the program,
 * and a freed Huge mapping is reused while the program is busy.  Time and
 * memory pressure come from hakmem's test seams (a fake clock, a fake
 * pressure source), passes are run by hand: nothing here sleeps to see a
 * timer fire.  Everything is checked through the counters.
 *   - a freed Huge block's mapping serves the next Huge request that fits
 *     (same address, huge_alloc_reuse), calloc on it still reads zero;
 *   - decay is gradual: a pass releases what stayed free past
 *     HAKMEM_DECAY_MS and keeps what was freed later; gauges back to 0;
 *   - idle: no Large/Huge activity for HAKMEM_IDLE_MS releases the rest;
 *   - pressure: a pressure signal releases everything, counted;
 *   - fork with the worker running: the child allocates and frees, and gets
 *     a worker of its own with its first allocation's slow path;
 *   - the worker never starts from a free: glibc frees inside its
 *     thread-stack lock, which pthread_create takes (waves of detached
 *     threads exiting before anything else was freed);
 *   - bad option values: one warning line each, defaults used.
 * Each part runs in a child started with its own HAKMEM_* environment.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("decay exists only in hakmem builds");
}
#else

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <malloc.h>
#include <stdbool.h>

/* Test seams of allocator/decay.c (linked from libhakmem.a). */
void hak_test_set_clock(uint64_t (*now_ms)(void));
void hak_test_set_pressure(bool (*under_pressure)(void));
size_t hak_test_decay_pass(void);

#define MIB ((size_t)1 << 20)
#define KIB ((size_t)1 << 10)

static uint64_t fake_ms = 1000000;
static uint64_t fake_clock(void) {
    return fake_ms;
}
static bool fake_pressure_on;
static bool fake_pressure(void) {
    return fake_pressure_on;
}

/* ---- parts (each in its own process) ----------------------------------------------- */

static void part_reuse(void) {
    hak_test_set_clock(fake_clock);
    long long reuse0 = hak_counter("huge_alloc_reuse");
    char *p = malloc(8 * MIB);
    REQUIRE(p != NULL);
    memset(p, 0xA5, 8 * MIB);
    free(p);
    /* 8 MiB + the header page, rounded to 2 MiB: 10 MiB kept */
    CHECKF(hak_counter("huge_cached") == (long long)(10 * MIB), "huge_cached %lld after the free",
           hak_counter("huge_cached"));
    char *q = malloc(6 * MIB); /* takes 8 MiB of it; 2 MiB stay kept */
    CHECKF(q == p, "a fitting Huge request reuses the freed mapping (%p, was %p)", (void *)q,
           (void *)p);
    CHECK(hak_counter("huge_alloc_reuse") == reuse0 + 1);
    CHECK(hak_counter("huge_cached") == (long long)(2 * MIB));
    CHECK(malloc_usable_size(q) >= 6 * MIB && malloc_usable_size(q) < 8 * MIB);
    free(q);
    /* calloc on a reused, dirty mapping still reads zero */
    char *z = calloc(1, 9 * MIB);
    REQUIRE(z != NULL);
    CHECK(z == p);
    size_t nonzero = 0;
    for (size_t i = 0; i < 9 * MIB; i += 512)
        nonzero += z[i] != 0;
    CHECKF(nonzero == 0, "%zu non-zero bytes in a calloc'ed reused mapping", nonzero);
    /* a request bigger than anything kept maps fresh memory */
    char *big = malloc(32 * MIB);
    CHECK(big != NULL && hak_counter("huge_alloc_reuse") == reuse0 + 2);
    free(big);
    free(z);
}

/* Large activity that leaves nothing cached in the tier (the span goes to
 * the thread's own cache): the process is busy, not idle. */
static void busy(void) {
    free(malloc(40 * KIB));
}

/* HAKMEM_DECAY_MS=10000 HAKMEM_IDLE_MS=3000 HAKMEM_BACKGROUND=0 */
static void part_decay(void) {
    hak_test_set_clock(fake_clock);
    hak_test_set_pressure(fake_pressure);
    hak_flush_all();
    hak_test_decay_pass();
    long long dec_huge = hak_counter("huge_released_decay"), dec_large = hak_counter("large_released_decay");
    long long idle_huge = hak_counter("huge_released_idle");
    /* sep keeps a's and b's mappings apart, so they are not merged when kept */
    char *a = malloc(4 * MIB), *sep = malloc(3 * MIB), *b = malloc(12 * MIB);
    char *l = malloc(512 * KIB); /* a Large span past the thread cache's size */
    REQUIRE(a && b && l);
    memset(a, 1, 4 * MIB);
    memset(b, 2, 12 * MIB);
    memset(l, 3, 512 * KIB);

    uint64_t t0 = fake_ms;
    free(a);
    free(l);
    fake_ms = t0 + 6000;
    free(b); /* b is kept until t0 + 16000, a until t0 + 10000 */
    long long cached_both = hak_counter("huge_cached");
    CHECKF(cached_both == (long long)(20 * MIB), "huge_cached %lld", cached_both);
    CHECK(hak_counter("large_cached") >= (long long)(512 * KIB));

    fake_ms = t0 + 9000; /* nothing is older than 10 s yet */
    busy();
    hak_test_decay_pass();
    CHECK(hak_counter("huge_released_decay") == dec_huge);
    CHECK(hak_counter("huge_cached") == cached_both);

    fake_ms = t0 + 11000; /* a has stayed free 11 s: it goes; b (5 s) stays */
    busy();
    hak_test_decay_pass();
    CHECKF(hak_counter("huge_released_decay") - dec_huge == (long long)(6 * MIB),
           "decay released %lld Huge bytes, expected a's 6 MiB mapping",
           hak_counter("huge_released_decay") - dec_huge);
    CHECK(hak_counter("huge_cached") == (long long)(14 * MIB));
    /* busy()'s span took 40 KiB of l's pages; the rest goes */
    CHECKF(hak_counter("large_released_decay") - dec_large >= (long long)(512 * KIB - 40 * KIB),
           "decay released %lld Large bytes", hak_counter("large_released_decay") - dec_large);
    CHECK(hak_counter("large_cached") == 0);

    /* no Large/Huge activity since the last pass: 3 s later the process is idle */
    fake_ms = t0 + 12000;
    hak_test_decay_pass();
    CHECK(hak_counter("huge_cached") == (long long)(14 * MIB)); /* 1 s quiet is not idle */
    fake_ms = t0 + 14500;
    hak_test_decay_pass();
    CHECKF(hak_counter("huge_released_idle") - idle_huge == (long long)(14 * MIB),
           "idle released %lld Huge bytes", hak_counter("huge_released_idle") - idle_huge);
    CHECK(hak_counter("huge_cached") == 0);
    CHECK(hak_counter("huge_released_decay") - dec_huge == (long long)(6 * MIB));
    free(sep);

    /* pressure: everything free goes at once, whatever its age */
    long long press = hak_counter("huge_released_pressure"), events = hak_counter("pressure_events");
    hak_flush_all();
    char *c = malloc(3 * MIB);
    free(c);
    CHECK(hak_counter("huge_cached") == (long long)(4 * MIB));
    fake_pressure_on = true;
    fake_ms += 10;
    hak_test_decay_pass();
    fake_pressure_on = false;
    CHECK(hak_counter("huge_released_pressure") - press == (long long)(4 * MIB));
    CHECK(hak_counter("pressure_events") == events + 1);
    CHECK(hak_counter("huge_cached") == 0);
    CHECK(hak_counter("decay_worker_starts") == 0); /* HAKMEM_BACKGROUND=0 */

    /* flush releases kept Huge mappings too, counted as flush */
    long long fl = hak_counter("huge_released_flush");
    free(malloc(5 * MIB));
    CHECK(hak_flush_all() >= 6 * MIB);
    CHECK(hak_counter("huge_released_flush") - fl == (long long)(6 * MIB));
}

/* The threads of this process, read without allocating (opendir would
 * allocate, and an allocation may start the worker being counted). */
static int count_tasks(void) {
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    int n = 0;
    char buf[4096];
    long got;
    while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long off = 0; off < got;) {
            struct dirent64 *e = (struct dirent64 *)(buf + off);
            n += e->d_name[0] != '.';
            off += e->d_reclen;
        }
    close(fd);
    return n;
}

/* HAKMEM_BACKGROUND=1: the worker starts with the first allocation's slow
 * path, and a fork child gets its own with its first one. */
static void part_fork(void) {
    CHECK(count_tasks() == 1);
    void *first = malloc(3 * MIB);
    CHECK(hak_counter("decay_worker_starts") == 1);
    CHECK(count_tasks() == 2);
    /* nothing cached yet: the worker waits for it before its first pass */
    usleep(50000);
    CHECK(hak_counter("decay_passes") == 0);
    free(first);
    CHECK(hak_counter("decay_worker_starts") == 1);
    for (int round = 0; round < 8; round++) {
        char *keep = malloc(5 * MIB);
        memset(keep, round, 5 * MIB);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            /* the parent's worker did not follow: one thread here */
            if (count_tasks() != 1) _exit(3);
            for (int i = 0; i < 20; i++) {
                char *p = malloc((size_t)(2 + i % 5) * MIB);
                if (!p) _exit(4);
                memset(p, i, 2 * MIB);
                free(p);
            }
            if (keep[5 * MIB - 1] != (char)round) _exit(5);
            free(keep);
            /* A start made inside hak_stats_print is not always counted in
             * the child's fresh counter segment: the thread count is what
             * shows the child's own worker. */
            if (count_tasks() != 2) _exit(7);
            _exit(0);
        }
        int status;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child %d status %d", round,
               status);
        free(keep);
    }
}

/* HAKMEM_BACKGROUND=1, nothing freed yet: waves of detached threads that
 * exit together.  glibc frees the thread vectors of its cached stacks (the
 * main thread allocated them) from an exiting thread while it holds its
 * stack-cache lock; a worker started from one of those frees would wait
 * on that lock forever.  The alarm turns such a hang into a failure. */
static pthread_barrier_t wave;
static void *wave_member(void *arg) {
    pthread_barrier_wait(&wave);
    return arg;
}

static void part_stacks(void) {
    alarm(60);
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, 16 * MIB) == 0); /* 3 pass glibc's 40 MiB */
    long long remote = hak_counter("free_ss_remote");
    for (int w = 0; w < 12; w++) {
        REQUIRE(pthread_barrier_init(&wave, NULL, 9) == 0);
        for (int i = 0; i < 8; i++) {
            pthread_t t;
            REQUIRE(pthread_create(&t, &attr, wave_member, NULL) == 0);
        }
        pthread_barrier_wait(&wave);
        for (int spins = 0; count_tasks() > 2 && spins < 1000; spins++) usleep(1000);
        pthread_barrier_destroy(&wave);
    }
    /* the exiting threads freed the main thread's blocks: the case happened */
    CHECK(hak_counter("free_ss_remote") > remote);
    CHECK(hak_counter("decay_worker_starts") == 1);
    alarm(0);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        if (!strcmp(argv[1], "reuse")) part_reuse();
        else if (!strcmp(argv[1], "decay")) part_decay();
        else if (!strcmp(argv[1], "fork")) part_fork();
        else if (!strcmp(argv[1], "stacks")) part_stacks();
        else if (!strcmp(argv[1], "noop")) free(malloc(3 * MIB));
        return test_finish();
    }
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = 0;
    static const char *const quiet[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=3000",
                                        "HAKMEM_BACKGROUND=0", "HAKMEM_PRESSURE=1", NULL};
    static const char *const worker[] = {"HAKMEM_DECAY_MS=10000", "HAKMEM_IDLE_MS=3000",
                                         "HAKMEM_BACKGROUND=1", NULL};
    char err[4096];
    int rc = run_part(self, "reuse", quiet, err, sizeof err);
    CHECKF(rc == 0, "Huge reuse part: exit %d\n%s", rc, err);
    rc = run_part(self, "decay", quiet, err, sizeof err);
    CHECKF(rc == 0, "decay part: exit %d\n%s", rc, err);
    rc = run_part(self, "fork", worker, err, sizeof err);
    CHECKF(rc == 0, "fork part: exit %d\n%s", rc, err);
    rc = run_part(self, "stacks", worker, err, sizeof err);
    CHECKF(rc == 0, "thread stacks part: exit %d (a hang ends in SIGALRM, 14)\n%s", rc, err);

    static const char *const bad[] = {"HAKMEM_DECAY_MS=soon", "HAKMEM_IDLE_MS=-5",
                                      "HAKMEM_PRESSURE=maybe", "HAKMEM_BACKGROUND=2",
                                      "HAKMEM_HUGE_CACHE_MB=1e9", NULL};
    rc = run_part(self, "noop", bad, err, sizeof err);
    CHECKF(rc == 0, "bad options: exit %d", rc);
    CHECKF(count_lines(err) == 5, "one warning line per bad option, got:\n%s", err);
    CHECK(strstr(err, "HAKMEM_DECAY_MS='soon' is not valid") != NULL);
    CHECK(strstr(err, "using default 1000") != NULL);
    CHECK(strstr(err, "HAKMEM_HUGE_CACHE_MB='1e9'") != NULL);
    return test_finish();
}
#endif
