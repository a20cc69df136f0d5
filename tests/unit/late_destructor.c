/*
 * Threads whose pthread key destructors allocate in every destructor round,
 * the last one included (glibc runs PTHREAD_DESTRUCTOR_ITERATIONS = 4), and
 * whose C++-style thread_local destructors (__cxa_thread_atexit) allocate:
 * memory they allocate there must not pile up once the threads are gone.
 * The check compares the resident growth over most of the threads with a
 * baseline taken after the first tenth, so it needs no fixed ceiling.
 */
#include "check.h"

#include <limits.h>
#include <pthread.h>

#ifndef PTHREAD_DESTRUCTOR_ITERATIONS
#define PTHREAD_DESTRUCTOR_ITERATIONS 4
#endif

static pthread_key_t late_key;
static void *volatile sink;

/* A few blocks of Tiny, Mid and Large sizes, freed again. */
static void churn(int salt) {
    static const size_t sizes[] = {16, 48, 200, 1000, 3000, 20000, 70000};
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = malloc(OPAQUE(sizes[i] + (size_t)salt));
        if (p[i]) memset(p[i], salt, 16);
        sink = p[i];
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        free(p[i]);
}

/* Allocates in each round and asks for the next one, up to the last. */
static void late_destructor(void *arg) {
    intptr_t round = (intptr_t)arg;
    churn((int)round);
    if (round < PTHREAD_DESTRUCTOR_ITERATIONS) pthread_setspecific(late_key, (void *)(round + 1));
}

extern int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso) __attribute__((weak));
extern void *__dso_handle __attribute__((weak));

static void thread_local_destructor(void *arg) {
    (void)arg;
    churn(7);
}

static void *thread_body(void *arg) {
    (void)arg;
    churn(1);
    if (__cxa_thread_atexit_impl) __cxa_thread_atexit_impl(thread_local_destructor, NULL, &__dso_handle);
    pthread_setspecific(late_key, (void *)1);
    return NULL;
}

/* Runs `n` threads, four at a time. */
static void run_threads(long n) {
    for (long i = 0; i < n; i += 4) {
        pthread_t t[4];
        int k = 0;
        for (; k < 4 && i + k < n; k++)
            REQUIRE(pthread_create(&t[k], NULL, thread_body, NULL) == 0);
        while (k--)
            REQUIRE(pthread_join(t[k], NULL) == 0);
    }
}

int main(void) {
    /* allocating first gives hakmem's exit key a lower index than late_key, so in the
     * last round hakmem's destructor has already run when late_destructor allocates */
    churn(0);
    REQUIRE(pthread_key_create(&late_key, late_destructor) == 0);
    long threads = test_scale(2000);
    if (threads < 100) threads = 100;
    long warmup = threads / 10;
    long long rss_start = rss_bytes();
    run_threads(warmup);
    long long rss_base = rss_bytes();
    run_threads(threads - warmup);
    long long rss_end = rss_bytes();
    long long per_thread = (rss_end - rss_base) / (threads - warmup);
    printf("rss: %lld KiB at start, %lld KiB after %ld threads, %lld KiB after %ld "
           "(%lld bytes per thread after the first %ld)\n",
           rss_start / 1024, rss_base / 1024, warmup, rss_end / 1024, threads, per_thread, warmup);
    /* a thread that kept what its destructors allocated leaves 8 KiB or more (a heap's
     * slabs); under 4 KiB leaves room for a SuperSlab or two mapped meanwhile by others */
    CHECKF(per_thread < 4096, "resident memory grows by %lld bytes per exited thread", per_thread);
    return test_finish();
}
