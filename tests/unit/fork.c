/*
 * fork() from a multithreaded process: while other threads allocate and free
 * across all tiers, the child of a fork can allocate, free (including blocks
 * its parent allocated) and exit 0, and the parent keeps working.  A child
 * that deadlocks on an allocator lock held at fork time is killed by alarm().
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define WORKERS 4
static volatile int stop_workers;

static size_t any_tier_size(uint64_t *rng) {
    uint64_t r = rng_below(rng, 100);
    return r < 70   ? 1 + rng_below(rng, 1024)
           : r < 95 ? 1025 + rng_below(rng, 31744)
           : r < 99 ? 32769 + rng_below(rng, 1 << 20)
                    : (2 << 20) + rng_below(rng, 1 << 20);
}

static void *worker(void *arg) {
    uint64_t rng = (uintptr_t)arg * 1000 + 1;
    void *live[64] = {0};
    while (!__atomic_load_n(&stop_workers, __ATOMIC_RELAXED)) {
        int slot = (int)rng_below(&rng, 64);
        free(live[slot]);
        size_t n = any_tier_size(&rng);
        live[slot] = malloc(n);
        if (live[slot]) memset(live[slot], slot, n < 256 ? n : 256);
    }
    for (int i = 0; i < 64; i++)
        free(live[i]);
    return NULL;
}

/* What a child does: all tiers, its parent's blocks, then exit. */
static int child_work(void **inherited, int n_inherited, int round) {
    alarm(20);
    uint64_t rng = (uint64_t)round * 77 + 3;
    for (int i = 0; i < n_inherited; i++) {
        unsigned char *b = inherited[i];
        if (b[0] != (unsigned char)i) return 10; /* parent's data visible */
        free(inherited[i]);
    }
    void *live[256] = {0};
    for (int i = 0; i < 20000; i++) {
        int slot = (int)rng_below(&rng, 256);
        free(live[slot]);
        size_t n = any_tier_size(&rng);
        live[slot] = malloc(n);
        if (!live[slot]) return 11;
        memset(live[slot], 0xC5, n < 512 ? n : 512);
    }
    for (int i = 0; i < 256; i++)
        free(live[i]);
    /* a thread in the child works too */
    pthread_t t;
    stop_workers = 0;
    if (pthread_create(&t, NULL, worker, (void *)(uintptr_t)99) != 0) return 12;
    for (int i = 0; i < 1000; i++)
        free(malloc(any_tier_size(&rng)));
    __atomic_store_n(&stop_workers, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    return 0;
}

int main(void) {
    pthread_t workers[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        REQUIRE(pthread_create(&workers[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0);

    uint64_t rng = 1234;
    for (int round = 0; round < 40; round++) {
        enum { INHERITED = 32 };
        void *inherited[INHERITED];
        for (int i = 0; i < INHERITED; i++) {
            size_t n = any_tier_size(&rng);
            inherited[i] = malloc(n);
            REQUIRE(inherited[i] != NULL);
            memset(inherited[i], i, n < 128 ? n : 128);
        }
        fflush(stdout);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) _exit(child_work(inherited, INHERITED, round));
        /* the parent keeps allocating while the child runs */
        for (int i = 0; i < 2000; i++) {
            void *p = malloc(any_tier_size(&rng));
            REQUIRE(p != NULL);
            free(p);
        }
        int status;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d: child %s %d", round,
               WIFSIGNALED(status) ? "killed by signal" : "exited with",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        for (int i = 0; i < INHERITED; i++) {
            CHECK(((unsigned char *)inherited[i])[0] == (unsigned char)i);
            free(inherited[i]);
        }
    }
    __atomic_store_n(&stop_workers, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i], NULL);
    return test_finish();
}
