/*
 * Page purge and exited threads' memory under load: lanes of threads allocate mixed Tiny and
 * Mid blocks, keep one in 16 for the lane's next thread (which checks and frees them after
 * their owner exited), and free the rest; meanwhile a flusher thread keeps calling malloc_trim,
 * so slabs are purged while their owners and other threads free into them, and every few
 * generations a lane thread forks: the child checks what it inherited, allocates and trims,
 * and exits.  Every block carries a pattern checked before its free; none may change, and the
 * process must end with about what it started with.
 */
#include "check.h"
#include "relay.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>

#define LANES 3
#define SLOTS 4096
#define KEEP_EVERY 16

struct lane {
    int generation, generations;
    long blocks;
    void *ptr[SLOTS / KEEP_EVERY];
    size_t size[SLOTS / KEEP_EVERY];
    uint64_t rng;
    pthread_t predecessor;
    int has_predecessor;
};

static long bad_blocks;
static int stop_flusher;
static pthread_t last_threads[LANES];
static struct relay relay = RELAY_INIT(last_threads);

static size_t block_size(uint64_t *rng) {
    if (rng_below(rng, 100) < 70) return 16 + rng_below(rng, 1009);
    return 1025 + rng_below(rng, 15360);
}

static uintptr_t seed_of(void *p, size_t n) {
    return (uintptr_t)p * 29 + n;
}

static long check_free_kept(struct lane *l) {
    long bad = 0;
    for (int k = 0; k < SLOTS / KEEP_EVERY; k++) {
        if (!l->ptr[k]) continue;
        if (pattern_check(l->ptr[k], l->size[k], seed_of(l->ptr[k], l->size[k])) != SIZE_MAX) bad++;
        free(l->ptr[k]);
        l->ptr[k] = NULL;
    }
    return bad;
}

/* The child of a fork in the middle of the churn: its copy of the kept blocks is intact, and
 * it can allocate, purge and free on its own. */
static void child_after_fork(void *arg) {
    struct lane *l = arg;
    long bad = check_free_kept(l);
    uint64_t rng = 99;
    void *v[512];
    for (int i = 0; i < 512; i++) {
        size_t n = block_size(&rng);
        REQUIRE((v[i] = malloc(n)) != NULL);
        memset(v[i], 7, n);
    }
    for (int i = 0; i < 512; i += 2)
        free(v[i]);
    malloc_trim(0);
    for (int i = 1; i < 512; i += 2) {
        if (((unsigned char *)v[i])[0] != 7) bad++;
        free(v[i]);
    }
    _exit(bad ? 1 : 0);
}

static void *lane_thread(void *arg) {
    struct lane *l = arg;
    if (l->has_predecessor) REQUIRE(pthread_join(l->predecessor, NULL) == 0);
    long bad = check_free_kept(l); /* blocks of a thread that has exited */
    static __thread void *mine[SLOTS];
    static __thread size_t sizes[SLOTS];
    for (long i = 0; i < l->blocks; i++) {
        sizes[i] = block_size(&l->rng);
        REQUIRE((mine[i] = malloc(sizes[i])) != NULL);
        pattern_fill(mine[i], sizes[i], seed_of(mine[i], sizes[i]));
    }
    int kept = 0;
    for (long i = 0; i < l->blocks; i++) {
        if (pattern_check(mine[i], sizes[i], seed_of(mine[i], sizes[i])) != SIZE_MAX) bad++;
        if (i % KEEP_EVERY == 0 && kept < SLOTS / KEEP_EVERY) {
            l->ptr[kept] = mine[i];
            l->size[kept++] = sizes[i];
        } else {
            free(mine[i]);
        }
    }
    if (l->generation % 8 == 4 && !fork_child_ok(child_after_fork, l)) bad++;
    __atomic_add_fetch(&bad_blocks, bad, __ATOMIC_RELAXED);
    if (++l->generation < l->generations) {
        pthread_t next;
        l->predecessor = pthread_self();
        l->has_predecessor = 1;
        REQUIRE(pthread_create(&next, NULL, lane_thread, l) == 0);
        return NULL;
    }
    __atomic_add_fetch(&bad_blocks, check_free_kept(l), __ATOMIC_RELAXED);
    relay_lane_finished(&relay);
    return NULL;
}

static void *flusher(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&stop_flusher, __ATOMIC_RELAXED)) {
        malloc_trim(0);
        usleep(1000);
    }
    return NULL;
}

int main(void) {
    static struct lane lanes[LANES];
    long long rss_start = rss_bytes();
    pthread_t fl;
    REQUIRE(pthread_create(&fl, NULL, flusher, NULL) == 0);
    for (int i = 0; i < LANES; i++) {
        lanes[i].generations = 24;
        lanes[i].blocks = test_scale(SLOTS) < 64 ? 64 : test_scale(SLOTS);
        lanes[i].rng = (uint64_t)i * 0x9e3779b9 + 7;
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, lane_thread, &lanes[i]) == 0);
    }
    relay_join_all(&relay, LANES);
    __atomic_store_n(&stop_flusher, 1, __ATOMIC_RELAXED);
    REQUIRE(pthread_join(fl, NULL) == 0);
    malloc_trim(0);
    long long rss_end = rss_bytes();
    printf("%d lanes x %d generations; rss %lld KiB at start, %lld KiB at end; %ld bad blocks\n",
           LANES, lanes[0].generations, rss_start / 1024, rss_end / 1024, bad_blocks);
    CHECK(bad_blocks == 0);
    /* everything is freed and trimmed: what is left is bookkeeping, a few MiB at most */
    CHECKF(rss_end - rss_start <= 8 * (1LL << 20), "rss grew %lld KiB over the run",
           (rss_end - rss_start) / 1024);
    return test_finish();
}
