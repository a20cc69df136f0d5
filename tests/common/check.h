/*
 * Helpers shared by the C tests: a non-fatal CHECK that counts failures,
 * RSS readers, a small PRNG, fill/verify patterns and access to hakmem's own
 * API whether hakmem is linked in (HAKMEM_LINKED=1) or preloaded.
 *
 * A test's main() ends with `return test_finish();`, which prints a summary
 * and exits 1 if any CHECK failed.  A test that cannot run here calls
 * test_skip(reason), which exits 77.
 */
#ifndef HAKMEM_TESTS_CHECK_H
#define HAKMEM_TESTS_CHECK_H

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAKMEM_LINKED
#include "hakmem.h"
#endif

static int test_failures;
static int test_checks;

/* Line-buffered stdout keeps a test's log in the order things happened. */
__attribute__((constructor)) static void test_line_buffer_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        __atomic_add_fetch(&test_checks, 1, __ATOMIC_RELAXED);                                     \
        if (!(cond)) {                                                                             \
            __atomic_add_fetch(&test_failures, 1, __ATOMIC_RELAXED);                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* CHECK with a printf-style explanation printed on failure. */
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        __atomic_add_fetch(&test_checks, 1, __ATOMIC_RELAXED);                                     \
        if (!(cond)) {                                                                             \
            __atomic_add_fetch(&test_failures, 1, __ATOMIC_RELAXED);                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* Stops the test at once: for states that make further checks meaningless. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static inline int test_finish(void) {
    int failed = __atomic_load_n(&test_failures, __ATOMIC_RELAXED);
    int checks = __atomic_load_n(&test_checks, __ATOMIC_RELAXED);
    if (failed) {
        fprintf(stderr, "%d of %d checks failed\n", failed, checks);
        return 1;
    }
    printf("all %d checks passed\n", checks);
    return 0;
}

__attribute__((noreturn)) static inline void test_skip(const char *reason) {
    printf("SKIP: %s\n", reason);
    fflush(stdout);
    exit(77);
}

/* Runs this program again with HAKMEM_DECAY_MS=0 (no decay passes) unless
 * the variable is set: for a test whose figures a pass could move between
 * two reads (a release, a drain).  Skips when it cannot. */
static inline void test_without_decay(char **argv) {
    if (getenv("HAKMEM_DECAY_MS")) return;
    setenv("HAKMEM_DECAY_MS", "0", 1);
    execv("/proc/self/exe", argv);
    test_skip("cannot exec itself with HAKMEM_DECAY_MS=0");
}

/* Hides a value from the optimiser so that it cannot fold malloc arguments,
 * elide malloc/free pairs or warn about deliberately bad frees. */
#define OPAQUE(x)                                                                                  \
    ({                                                                                             \
        __auto_type opaque_v_ = (x);                                                               \
        __asm__ volatile("" : "+r"(opaque_v_));                                                    \
        opaque_v_;                                                                                 \
    })

/* Percentage by which stress tests scale their work (TEST_SCALE, default 100
 * or the build's TEST_DEFAULT_SCALE). */
#ifndef TEST_DEFAULT_SCALE
#define TEST_DEFAULT_SCALE 100
#endif
static inline long test_scale(long n) {
    const char *s = getenv("TEST_SCALE");
    long pct = s ? strtol(s, NULL, 10) : TEST_DEFAULT_SCALE;
    if (pct <= 0) pct = TEST_DEFAULT_SCALE;
    long r = n * pct / 100;
    return r > 0 ? r : 1;
}

/* ---- Child processes ------------------------------------------------------ */

/* Forks a child whose stderr goes into a pipe, after flushing this process's stdio so that
 * nothing buffered is written twice.  Returns the child's pid (0 in the child); the parent gets
 * the pipe's read end in *errfd. */
static inline pid_t fork_capturing_stderr(int *errfd) {
    int errpipe[2];
    REQUIRE(pipe(errpipe) == 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(errpipe[1], 2);
        close(errpipe[0]);
        return 0;
    }
    close(errpipe[1]);
    *errfd = errpipe[0];
    return pid;
}

/* Reads a child's stderr (errfd from fork_capturing_stderr) to its end into buf, NUL-terminated
 * and cut to fit, then reaps the child into *status. */
static inline void wait_child_stderr(pid_t pid, int errfd, char *buf, size_t size, int *status) {
    size_t len = 0;
    ssize_t got;
    while ((got = read(errfd, buf + len, size - 1 - len)) > 0)
        len += (size_t)got;
    buf[len] = 0;
    close(errfd);
    REQUIRE(waitpid(pid, status, 0) == pid);
}

/* Runs the program `self` with the argument `part` in a child with the NAME=VALUE strings of
 * `env` (NULL-terminated) added to its environment; its stderr goes into err (may be NULL).
 * Returns its exit status, or 128 + the signal that ended it. */
static inline int run_part(const char *self, const char *part, const char *const *env, char *err,
                           size_t errlen) {
    int errfd;
    pid_t pid = fork_capturing_stderr(&errfd);
    if (pid == 0) {
        for (const char *const *e = env; *e; e++)
            putenv((char *)*e);
        execl(self, self, part, (char *)NULL);
        _exit(127);
    }
    int status;
    static char local[4096];
    wait_child_stderr(pid, errfd, err ? err : local, err ? errlen : sizeof local, &status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Forks a child that runs child(arg), which ends it with _exit; returns whether the child exited
 * with status 0. */
static inline bool fork_child_ok(void (*child)(void *), void *arg) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        child(arg);
        _exit(127);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Two threads of a test take turns: one waits for a stage number the other sets. */
static pthread_mutex_t test_stage_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t test_stage_cv = PTHREAD_COND_INITIALIZER;
static int test_stage;

static inline void wait_stage(int s) {
    pthread_mutex_lock(&test_stage_mu);
    while (test_stage < s)
        pthread_cond_wait(&test_stage_cv, &test_stage_mu);
    pthread_mutex_unlock(&test_stage_mu);
}

static inline void set_stage(int s) {
    pthread_mutex_lock(&test_stage_mu);
    test_stage = s;
    pthread_cond_broadcast(&test_stage_cv);
    pthread_mutex_unlock(&test_stage_mu);
}

/* How many lines (newlines) a text holds. */
static inline int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- RSS ------------------------------------------------------------- */

/* Reads a "Key:   N kB" field of /proc/self/smaps_rollup, in bytes; -1 if absent. */
static inline long long smaps_rollup_field(const char *key) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) return -1;
    char line[256];
    size_t klen = strlen(key);
    long long val = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            val = strtoll(line + klen + 1, NULL, 10) * 1024;
            break;
        }
    }
    fclose(f);
    return val;
}

/* Resident set size of this process in bytes. */
static inline long long rss_bytes(void) {
    return smaps_rollup_field("Rss");
}

/* ---- PRNG and patterns ------------------------------------------------- */

static inline uint64_t rng_next(uint64_t *s) {
    /* splitmix64: tiny, good enough to pick sizes and lifetimes */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n) {
    return rng_next(s) % n;
}

static inline unsigned char pattern_byte(uintptr_t seed, size_t i) {
    uint64_t x = (uint64_t)seed * 0x9e3779b97f4a7c15ULL + i * 0x2545F491ULL;
    return (unsigned char)(x >> 56 ^ x >> 13 ^ i);
}

/* Positions written and checked in a block of n bytes: every byte of small
 * blocks; the first and last 256 bytes plus one byte per 512 in big ones. */
#define PATTERN_FULL_LIMIT 4096

static inline void pattern_fill(void *p, size_t n, uintptr_t seed) {
    unsigned char *b = (unsigned char *)p;
    if (n <= PATTERN_FULL_LIMIT) {
        for (size_t i = 0; i < n; i++)
            b[i] = pattern_byte(seed, i);
        return;
    }
    for (size_t i = 0; i < 256; i++)
        b[i] = pattern_byte(seed, i);
    for (size_t i = 256; i < n - 256; i += 512)
        b[i] = pattern_byte(seed, i);
    for (size_t i = n - 256; i < n; i++)
        b[i] = pattern_byte(seed, i);
}

/* Returns the first offset whose byte differs from the pattern, or SIZE_MAX. */
static inline size_t pattern_check(const void *p, size_t n, uintptr_t seed) {
    const unsigned char *b = (const unsigned char *)p;
    if (n <= PATTERN_FULL_LIMIT) {
        for (size_t i = 0; i < n; i++)
            if (b[i] != pattern_byte(seed, i)) return i;
        return SIZE_MAX;
    }
    for (size_t i = 0; i < 256; i++)
        if (b[i] != pattern_byte(seed, i)) return i;
    for (size_t i = 256; i < n - 256; i += 512)
        if (b[i] != pattern_byte(seed, i)) return i;
    for (size_t i = n - 256; i < n; i++)
        if (b[i] != pattern_byte(seed, i)) return i;
    return SIZE_MAX;
}

/* ---- hakmem's own API ---------------------------------------------------- */

struct hak_api {
    size_t (*tiny_flush)(void);
    size_t (*mid_flush)(void);
    size_t (*large_flush)(void);
    size_t (*flush_all)(void);
    const char *(*tier_of_size)(size_t);
};

/* Fills `api` and returns 1 when hakmem serves this process's malloc, either
 * linked in or preloaded; returns 0 under another allocator. */
static inline int hak_api_get(struct hak_api *api) {
#ifdef HAKMEM_LINKED
    api->tiny_flush = hak_tiny_flush;
    api->mid_flush = hak_mid_flush;
    api->large_flush = hak_large_flush;
    api->flush_all = hak_flush_all;
    api->tier_of_size = hak_tier_of_size;
    return 1;
#else
    memset(api, 0, sizeof *api);
    *(void **)&api->tiny_flush = dlsym(RTLD_DEFAULT, "hak_tiny_flush");
    *(void **)&api->mid_flush = dlsym(RTLD_DEFAULT, "hak_mid_flush");
    *(void **)&api->large_flush = dlsym(RTLD_DEFAULT, "hak_large_flush");
    *(void **)&api->flush_all = dlsym(RTLD_DEFAULT, "hak_flush_all");
    *(void **)&api->tier_of_size = dlsym(RTLD_DEFAULT, "hak_tier_of_size");
    return api->tiny_flush && api->mid_flush && api->large_flush && api->flush_all &&
           api->tier_of_size;
#endif
}

/* Skips the test (exit 77) unless hakmem serves malloc. */
static inline void require_hakmem(struct hak_api *api) {
    if (!hak_api_get(api)) test_skip("hakmem is not the allocator of this process");
}

/* ---- hakmem's counters ----------------------------------------------------- */

#ifdef HAKMEM_LINKED
/* One counter of allocator/counters.def, read through hak_stats_print as a
 * test linked with libhakmem.a sees its own totals; skips the test in a build
 * without counters.  The stream is opened once and unbuffered, so reading a
 * counter allocates nothing after the first call and moves no counter. */
static inline long long hak_counter(const char *name) {
    static char buf[1 << 16];
    static FILE *f;
    if (!f) {
        REQUIRE((f = fmemopen(buf, sizeof buf, "w")) != NULL);
        setvbuf(f, NULL, _IONBF, 0);
    }
    rewind(f);
    hak_stats_print(f);
    fputc(0, f);
    if (strstr(buf, "compiled out")) test_skip("counters are compiled out of this build");
    char group[64], counter[64];
    long long v;
    for (char *line = buf; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        if (sscanf(line, " %63s %63s %lld", group, counter, &v) == 3 && strcmp(counter, name) == 0)
            return v;
    return 0; /* the table leaves out counters that are zero */
}
#endif

#endif
