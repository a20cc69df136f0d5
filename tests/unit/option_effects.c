/*
 * Each of hakmem's sizing options (allocator/config.def) takes effect, shown
 * through its counters: the same operations run in a child process under two
 * settings of an option, and what the counters say each kept differs as the
 * option says it must.  HAKMEM_CHECK=1 stops an interior free of a Tiny
 * block that the unchecked fast path cannot see; interior frees into Large
 * and Huge blocks are stopped whatever the options.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("options exist only in hakmem builds");
}
#else

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#define MIB ((size_t)1 << 20)
enum { K = 600 };
static void *blocks[K];

/* Frees K blocks of `size` from an emptied cache; prints how many of them the
 * thread cache kept (the rest went back to their slabs as free_ss_local). */
static void cache_kept(size_t size, size_t (*flush)(void)) {
    flush();
    for (int i = 0; i < K; i++)
        REQUIRE((blocks[i] = malloc(OPAQUE(size))) != NULL);
    long long local0 = hak_counter("free_ss_local");
    for (int i = 0; i < K; i++)
        free(blocks[i]);
    printf("%lld\n", K - (hak_counter("free_ss_local") - local0));
}

/* Frees 20 touched Large spans of 512 KiB (too big for the Large thread
 * cache); prints the bytes the frees gave back to the OS at once. */
static void large_released(void) {
    enum { SPANS = 20 };
    for (int i = 0; i < SPANS; i++) {
        REQUIRE((blocks[i] = malloc(OPAQUE(512 * 1024))) != NULL);
        memset(blocks[i], 1, 512 * 1024);
    }
    long long r0 = hak_counter("bytes_decommitted") + hak_counter("bytes_munmapped");
    for (int i = 0; i < SPANS; i++)
        free(blocks[i]);
    printf("%lld\n", hak_counter("bytes_decommitted") + hak_counter("bytes_munmapped") - r0);
}

/* A thread fills three SuperSlabs' worth of Tiny blocks, frees them and exits. */
static void *fill_free_exit(void *arg) {
    (void)arg;
    enum { N = 6 * 1024 };
    void **v = malloc(N * sizeof *v);
    REQUIRE(v != NULL);
    for (int i = 0; i < N; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)1000))) != NULL);
    for (int i = 0; i < N; i++)
        free(v[i]);
    free(v);
    return NULL;
}

/* Prints "mapped kept": the SuperSlabs the thread mapped, and how many of
 * them stay mapped after it exited with all of them empty. */
static void superslabs_kept(void) {
    long long m0 = hak_counter("superslabs_mapped"), u0 = hak_counter("superslabs_unmapped");
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, fill_free_exit, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    long long m = hak_counter("superslabs_mapped") - m0;
    printf("%lld %lld\n", m, m - (hak_counter("superslabs_unmapped") - u0));
}

/* Frees a pointer `offset` bytes into a block of `size`; the process must not survive it. */
static void interior_free(size_t size, size_t offset) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    char *p = malloc(OPAQUE(size));
    REQUIRE(p != NULL);
    free(OPAQUE(p + offset));
    printf("survived\n");
}

static int run_scenario(const char *name) {
    if (!strcmp(name, "tiny_cache"))
        cache_kept(32, hak_tiny_flush);
    else if (!strcmp(name, "mid_cache"))
        cache_kept(4096, hak_mid_flush);
    else if (!strcmp(name, "large_cache"))
        large_released();
    else if (!strcmp(name, "ss_keep"))
        superslabs_kept();
    else if (!strcmp(name, "interior_free"))
        interior_free(64, 16);
    else if (!strcmp(name, "interior_free_large_page"))
        interior_free(100 * 1024, 4096);
    else if (!strcmp(name, "interior_free_large"))
        interior_free(100 * 1024, 48);
    else if (!strcmp(name, "interior_free_huge"))
        interior_free(4 * MIB, 4096);
    else
        return 2;
    return 0;
}

/* Runs this program's scenario `name` in a child with `option` (NAME=VALUE,
 * several separated by spaces) in its environment; its stdout goes to `out`, its stderr to `err`. */
static int run_child(const char *name, const char *option, char *out, size_t outsz, char *err,
                     size_t errsz) {
    int outpipe[2], errfd, status;
    REQUIRE(pipe(outpipe) == 0);
    pid_t pid = fork_capturing_stderr(&errfd);
    if (pid == 0) {
        dup2(outpipe[1], 1);
        close(outpipe[0]);
        static char vars[256];
        snprintf(vars, sizeof vars, "%s", option);
        for (char *v = strtok(vars, " "); v; v = strtok(NULL, " "))
            putenv(v);
        setenv("HAKMEM_COUNTERS_SHARED", "0", 1);
        execl("/proc/self/exe", "option_effects", name, (char *)NULL);
        _exit(127);
    }
    close(outpipe[1]);
    size_t len = 0;
    ssize_t got;
    while ((got = read(outpipe[0], out + len, outsz - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = 0;
    close(outpipe[0]);
    wait_child_stderr(pid, errfd, err, errsz, &status);
    printf("%s with %s: %s", name, option, out[0] ? out : "(nothing)\n");
    return status;
}

static long long child_value(const char *name, const char *option) {
    char out[256], err[4096];
    int status = run_child(name, option, out, sizeof out, err, sizeof err);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s with %s failed: %s", name, option,
           err);
    return strtoll(out, NULL, 10);
}

int main(int argc, char **argv) {
    if (argc == 2) return run_scenario(argv[1]);
    hak_counter("flush_calls"); /* skips here when counters are compiled out */

    /* Thread caches hold at most their bound; a large bound keeps every block
     * when the capacity does not adapt, and part of them when it starts small. */
    long long small = child_value("tiny_cache", "HAKMEM_TINY_CACHE_MAX=16");
    long long big = child_value("tiny_cache", "HAKMEM_TINY_CACHE_MAX=4096 HAKMEM_TCACHE_ADAPT=0");
    long long grown = child_value("tiny_cache", "HAKMEM_TINY_CACHE_MAX=4096");
    CHECKF(small <= 16, "a Tiny cache bounded to 16 blocks kept %lld", small);
    CHECKF(big == K, "a Tiny cache of 4096 blocks kept %lld of %d frees", big, K);
    CHECKF(grown > 16 && grown < K, "an adaptive Tiny cache kept %lld of %d frees", grown, K);
    small = child_value("mid_cache", "HAKMEM_MID_CACHE_KB=64");
    big = child_value("mid_cache", "HAKMEM_MID_CACHE_KB=16384 HAKMEM_TCACHE_ADAPT=0");
    CHECKF(small <= 16, "a Mid cache of 64 KiB kept %lld blocks of 4 KiB", small);
    CHECKF(big == K, "a Mid cache of 16 MiB kept %lld of %d frees of 4 KiB", big, K);

    /* Without a Large cache freed spans go back at once; with one, none do. */
    long long none = child_value("large_cache", "HAKMEM_LARGE_CACHE_MB=0");
    long long kept = child_value("large_cache", "HAKMEM_LARGE_CACHE_MB=64");
    CHECKF(none >= (long long)(5 * MIB), "without a Large cache frees of 10 MiB released %lld",
           none);
    CHECKF(kept == 0, "a 64 MiB Large cache still released %lld bytes", kept);

    /* An exited thread's empty SuperSlabs: SS_KEEP=2 keeps two more than SS_KEEP=0 (which
     * keeps only SuperSlabs with live blocks, such as the thread's own bookkeeping). */
    char out[256], err[4096];
    long long mapped0 = -1, left0 = -1, mapped2 = -1, left2 = -1;
    run_child("ss_keep", "HAKMEM_SS_KEEP=0", out, sizeof out, err, sizeof err);
    CHECK(sscanf(out, "%lld %lld", &mapped0, &left0) == 2);
    run_child("ss_keep", "HAKMEM_SS_KEEP=2", out, sizeof out, err, sizeof err);
    CHECK(sscanf(out, "%lld %lld", &mapped2, &left2) == 2);
    CHECKF(mapped0 >= 4 && mapped2 == mapped0 && left2 - left0 == 2,
           "SuperSlabs kept: %lld of %lld with HAKMEM_SS_KEEP=0, %lld of %lld with 2", left0,
           mapped0, left2, mapped2);

    /* HAKMEM_CHECK=1 sees a free into the middle of a Tiny block. */
    static const char *const stopped[][2] = {
        {"interior_free", "HAKMEM_CHECK=1"},
        {"interior_free_large_page", "HAKMEM_CHECK=0"},
        {"interior_free_large", "HAKMEM_CHECK=0"},
        {"interior_free_huge", "HAKMEM_CHECK=0"},
    };
    for (size_t i = 0; i < sizeof stopped / sizeof stopped[0]; i++) {
        int status = run_child(stopped[i][0], stopped[i][1], out, sizeof out, err, sizeof err);
        fputs(err, stdout);
        CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
               "%s with %s was not stopped (%s)", stopped[i][0], stopped[i][1], out);
        CHECKF(strstr(err, "hakmem: free(): invalid pointer 0x") != NULL, "%s: stderr: %s",
               stopped[i][0], err);
    }
    return test_finish();
}
#endif
