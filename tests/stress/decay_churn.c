/*
 * Large and Huge blocks churned by several threads while decay gives
 * memory back underneath them: HAKMEM_DECAY_MS and HAKMEM_IDLE_MS are a few
 * milliseconds, so the background worker releases kept Huge mappings and
 * free Large pages all the time, and Huge requests are split from kept
 * mappings.  Blocks also move between threads.  Every block carries a
 * pattern from its address and size, checked before it is freed: a block
 * handed out twice, or memory released under a live block, breaks it.
 * Runs once with the short timeouts and once more with HAKMEM_CHECK=1.
 */
#include "blocks.h"

#include <pthread.h>

#define THREADS 4
#define LIVE 24
#define EXCHANGE 16
/* A pattern byte at every page start (and at both ends) is enough to see a
 * page lost (it reads as zero) or a block shared by two owners. */
#define STEP 4096

static struct block exchange[EXCHANGE];
static pthread_mutex_t exchange_lock = PTHREAD_MUTEX_INITIALIZER;
static long bad_blocks;
static long rounds_per_thread;

/* Large (32 KiB-1 MiB) or Huge (1-9 MiB), about half each. */
static size_t big_size(uint64_t *rng) {
    if (rng_below(rng, 2)) return 32769 + rng_below(rng, (1 << 20) - 32769);
    return (1 << 20) + 1 + rng_below(rng, 8 << 20);
}

static void *worker(void *arg) {
    uint64_t rng = (uint64_t)(uintptr_t)arg * 7919 + 1;
    struct block live[LIVE] = {{0}};
    for (long r = 0; r < rounds_per_thread; r++) {
        struct block *b = &live[rng_below(&rng, LIVE)];
        if (rng_below(&rng, 4) == 0) { /* trade with another thread */
            block_trade(b, exchange, EXCHANGE, &exchange_lock, &rng);
        }
        block_release(b, STEP, &bad_blocks);
        b->size = big_size(&rng);
        b->p = malloc(b->size);
        if (!b->p) {
            __atomic_add_fetch(&bad_blocks, 1, __ATOMIC_RELAXED);
            continue;
        }
        block_stamp(b, STEP);
        if (rng_below(&rng, 64) == 0) usleep(2000); /* let idle passes happen mid-run */
    }
    for (int i = 0; i < LIVE; i++)
        block_release(&live[i], STEP, &bad_blocks);
    return NULL;
}

static int churn(void) {
    rounds_per_thread = test_scale(400);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < EXCHANGE; i++)
        block_release(&exchange[i], STEP, &bad_blocks);
    CHECKF(bad_blocks == 0, "%ld blocks lost their pattern or could not be allocated", bad_blocks);
    return test_finish();
}

/* Runs the churn in a child with the given environment; its exit status. */
static int run_child(const char *self, const char *const *env) {
    fflush(stdout);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        for (const char *const *e = env; *e; e++)
            putenv((char *)*e);
        execl(self, self, "churn", (char *)NULL);
        _exit(127);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "churn") == 0) return churn();
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = 0;
    static const char *const fast[] = {"HAKMEM_DECAY_MS=5", "HAKMEM_IDLE_MS=3",
                                       "HAKMEM_HUGE_CACHE_MB=16", NULL};
    static const char *const checked[] = {"HAKMEM_DECAY_MS=5", "HAKMEM_IDLE_MS=3",
                                          "HAKMEM_CHECK=1", NULL};
    static const char *const piggyback[] = {"HAKMEM_DECAY_MS=5", "HAKMEM_BACKGROUND=0", NULL};
    int rc = run_child(self, fast);
    CHECKF(rc == 0, "churn with 5 ms decay: exit %d", rc);
    rc = run_child(self, checked);
    CHECKF(rc == 0, "churn with 5 ms decay and HAKMEM_CHECK=1: exit %d", rc);
    rc = run_child(self, piggyback);
    CHECKF(rc == 0, "churn with decay on the allocation paths: exit %d", rc);
    return test_finish();
}
