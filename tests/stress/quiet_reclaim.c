/*
 * Quiet-thread reclaim under fire.  Decay runs every millisecond
 * (HAKMEM_DECAY_MS=2, HAKMEM_IDLE_MS=1 unless the environment sets them),
 * so the worker keeps probing threads and emptying the caches of those
 * that paused, and the main thread calls hak_flush_all, which reclaims
 * every live thread's caches, in a loop.  Meanwhile:
 *   - worker threads allocate and free Tiny/Mid blocks in bursts and pause
 *     between them (a short sleep makes them quiet), so they keep waking up
 *     while their caches are being reclaimed;
 *   - some of them exit and are replaced (exit during a reclaim);
 *   - blocks move between threads (remote frees onto reclaimed heaps);
 *   - a thread forks now and then; the child allocates, checks and frees,
 *     and exits (fork during a reclaim).
 * Every block carries a pattern from its address, checked before it is
 * freed: a block handed out twice, or returned to its slab under its
 * owner, breaks it.  The process ends in a few seconds at TEST_SCALE=100.
 */
#include "blocks.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>

#define SLOTS 4      /* worker threads alive at a time */
#define LIVE 64      /* blocks a worker holds */
#define EXCHANGE 64  /* blocks in transit between threads */
/* Sixteen pattern bytes per block (every byte of a small one). */
#define STEP(b) ((b)->size > 256 ? (b)->size / 16 : 1)

static struct block exchange[EXCHANGE];
static pthread_mutex_t exchange_lock = PTHREAD_MUTEX_INITIALIZER;
static long bad_blocks, forks_done, ops_done;
static long ops_per_life;
static volatile int stop;

/* Mostly Tiny, some Mid. */
static size_t small_size(uint64_t *rng) {
    if (rng_below(rng, 5)) return 1 + rng_below(rng, 1024);
    return 1025 + rng_below(rng, 32768 - 1025);
}

static int renew(struct block *b, uint64_t *rng) {
    block_release(b, STEP(b), &bad_blocks);
    b->size = small_size(rng);
    b->p = malloc(b->size);
    if (!b->p) return 0;
    block_stamp(b, STEP(b));
    return 1;
}

/* A fork child: the blocks it inherited are intact, and it can allocate. */
static void child_work(struct block *live, uint64_t rng) {
    for (int i = 0; i < LIVE; i++)
        if (live[i].p && !block_intact(&live[i], STEP(&live[i]))) _exit(3);
    for (int i = 0; i < 2000; i++)
        if (!renew(&live[rng_below(&rng, LIVE)], &rng)) _exit(4);
    for (int i = 0; i < LIVE; i++)
        block_release(&live[i], STEP(&live[i]), &bad_blocks);
    _exit(bad_blocks ? 5 : 0);
}

static void *worker(void *arg) {
    uint64_t rng = (uint64_t)(uintptr_t)arg * 7919 + 1;
    struct block live[LIVE] = {{0}};
    for (long op = 0; op < ops_per_life; op++) {
        struct block *b = &live[rng_below(&rng, LIVE)];
        if (rng_below(&rng, 8) == 0) { /* trade with another thread */
            block_trade(b, exchange, EXCHANGE, &exchange_lock, &rng);
        }
        if (!renew(b, &rng)) __atomic_add_fetch(&bad_blocks, 1, __ATOMIC_RELAXED);
        if (rng_below(&rng, 2048) == 0) usleep(1000 + (useconds_t)rng_below(&rng, 2000)); /* go quiet */
        if (rng_below(&rng, 40000) == 0) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) child_work(live, rng);
            int status = 0;
            if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
                WEXITSTATUS(status) != 0)
                __atomic_add_fetch(&bad_blocks, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&forks_done, 1, __ATOMIC_RELAXED);
        }
    }
    __atomic_add_fetch(&ops_done, ops_per_life, __ATOMIC_RELAXED);
    for (int i = 0; i < LIVE; i++)
        block_release(&live[i], STEP(&live[i]), &bad_blocks);
    return NULL;
}

/* Flushes from the main thread while the workers run. */
static void *flusher(void *arg) {
    (void)arg;
    while (!stop) {
#ifdef HAKMEM_LINKED
        hak_flush_all();
#else
        malloc_trim(0);
#endif
        usleep(500);
    }
    return NULL;
}

static int churn(void) {
    long lives = test_scale(24); /* threads started in all, SLOTS at a time */
    ops_per_life = 100000;       /* 2.4 M renewals at TEST_SCALE=100 */
    pthread_t f, t[SLOTS];
    REQUIRE(pthread_create(&f, NULL, flusher, NULL) == 0);
    long started = 0;
    for (int i = 0; i < SLOTS; i++, started++)
        REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(started + 1)) == 0);
    for (long done = 0; done < lives; done++) { /* replace each thread as it exits */
        int i = (int)(done % SLOTS);
        pthread_join(t[i], NULL);
        if (started < lives) REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(++started)) == 0);
        else if (done + SLOTS >= lives) continue;
    }
    stop = 1;
    pthread_join(f, NULL);
    for (int i = 0; i < EXCHANGE; i++)
        block_release(&exchange[i], STEP(&exchange[i]), &bad_blocks);
    printf("quiet_reclaim: %ld renewals, %ld forks\n", ops_done, forks_done);
    CHECKF(bad_blocks == 0, "%ld blocks lost their pattern, could not be allocated, or a fork child failed",
           bad_blocks);
    return test_finish();
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "churn") == 0) return churn();
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = 0;
    fflush(stdout);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* short timeouts unless the caller chose its own */
        if (!getenv("HAKMEM_DECAY_MS")) putenv("HAKMEM_DECAY_MS=2");
        if (!getenv("HAKMEM_IDLE_MS")) putenv("HAKMEM_IDLE_MS=1");
        execl(self, self, "churn", (char *)NULL);
        _exit(127);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    CHECKF(rc == 0, "churn with 2 ms decay: exit %d", rc);
    return test_finish();
}
