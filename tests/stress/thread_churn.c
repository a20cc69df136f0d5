/*
 * Thread churn in the manner of Larson's server benchmark: each lane holds an
 * array of live blocks that is handed from thread to thread.  A thread
 * checks and frees some of the blocks it inherited, replaces them with new
 * ones, starts its successor with the array and exits, leaving its caches
 * behind.  After all generations, resident memory must be bounded: an
 * allocator that strands exited threads' memory grows without limit here.
 * Every few generations a lane thread forks in the middle: in the child, a
 * thread frees and replaces half of the lane's blocks (slabs of threads that
 * exited or were lost in the fork, claimed one at a time) and exits, and the
 * child then checks the lane and frees it.
 */
#include "check.h"
#include "relay.h"

#include <pthread.h>
#include <stdbool.h>

#define LANES 4
#define SLOTS 2000
#define MIB ((long long)1 << 20)

struct lane {
    int id;
    int generation;
    int generations;
    long ops_per_generation;
    void *ptr[SLOTS];
    size_t size[SLOTS];
    uint64_t rng;
    pthread_t predecessor; /* joined by its successor, so exits complete in order */
    int has_predecessor;
};

static pthread_t last_threads[LANES];
static struct relay relay = RELAY_INIT(last_threads);
static long bad_blocks;
static long long peak_rss;

static size_t churn_size(uint64_t *rng) {
    uint64_t r = rng_below(rng, 100);
    if (r < 90) return 8 + rng_below(rng, 1017);
    if (r < 99) return 1025 + rng_below(rng, 31744);
    return 32769 + rng_below(rng, 100000);
}

static uintptr_t seed_of(void *p, size_t n) {
    return (uintptr_t)p * 31 + n;
}

/* Checks and frees every block of the lane's slots [from, to) that `step` selects, and
 * replaces each with a new one (or none, with `refill` false); returns the bad blocks. */
static long lane_turn(struct lane *l, int from, int step, bool refill) {
    long bad = 0;
    for (int s = from; s < SLOTS; s += step) {
        if (l->ptr[s]) {
            if (pattern_check(l->ptr[s], l->size[s], seed_of(l->ptr[s], l->size[s])) != SIZE_MAX)
                bad++;
            free(l->ptr[s]);
            l->ptr[s] = NULL;
        }
        if (!refill) continue;
        l->size[s] = churn_size(&l->rng);
        REQUIRE((l->ptr[s] = malloc(l->size[s])) != NULL);
        pattern_fill(l->ptr[s], l->size[s], seed_of(l->ptr[s], l->size[s]));
    }
    return bad;
}

static long child_bad;

static void *child_thread(void *arg) {
    child_bad += lane_turn(arg, 0, 2, true);
    return NULL;
}

/* The child of a fork in the middle of the churn: the lane's blocks are intact; a thread of
 * its own replaces half of them and exits, and the rest is checked and freed. */
static void child_after_fork(void *arg) {
    struct lane *l = arg;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, child_thread, l) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    child_bad += lane_turn(l, 0, 1, false);
    _exit(child_bad ? 1 : 0);
}

static void *lane_thread(void *arg) {
    struct lane *l = arg;
    long bad = 0;
    if (l->has_predecessor) REQUIRE(pthread_join(l->predecessor, NULL) == 0);
    for (long i = 0; i < l->ops_per_generation; i++) {
        int s = (int)rng_below(&l->rng, SLOTS);
        if (l->ptr[s]) {
            if (pattern_check(l->ptr[s], l->size[s], seed_of(l->ptr[s], l->size[s])) != SIZE_MAX)
                bad++;
            free(l->ptr[s]);
        }
        l->size[s] = churn_size(&l->rng);
        l->ptr[s] = malloc(l->size[s]);
        REQUIRE(l->ptr[s] != NULL);
        pattern_fill(l->ptr[s], l->size[s], seed_of(l->ptr[s], l->size[s]));
    }
    if (l->generation % 10 == 5 && !fork_child_ok(child_after_fork, l)) bad++;
    __atomic_add_fetch(&bad_blocks, bad, __ATOMIC_RELAXED);
    long long rss = rss_bytes();
    long long prev = __atomic_load_n(&peak_rss, __ATOMIC_RELAXED);
    while (rss > prev && !__atomic_compare_exchange_n(&peak_rss, &prev, rss, 0, __ATOMIC_RELAXED,
                                                      __ATOMIC_RELAXED)) {
    }

    if (++l->generation < l->generations) {
        pthread_t next;
        l->predecessor = pthread_self();
        l->has_predecessor = 1;
        REQUIRE(pthread_create(&next, NULL, lane_thread, l) == 0);
        return NULL;
    }
    /* last generation: free everything the lane holds */
    for (int s = 0; s < SLOTS; s++) {
        if (!l->ptr[s]) continue;
        if (pattern_check(l->ptr[s], l->size[s], seed_of(l->ptr[s], l->size[s])) != SIZE_MAX)
            __atomic_add_fetch(&bad_blocks, 1, __ATOMIC_RELAXED);
        free(l->ptr[s]);
        l->ptr[s] = NULL;
    }
    relay_lane_finished(&relay);
    return NULL;
}

int main(void) {
    static struct lane lanes[LANES];
    long long rss_start = rss_bytes();
    for (int i = 0; i < LANES; i++) {
        lanes[i].id = i;
        lanes[i].generations = 40;
        lanes[i].ops_per_generation = test_scale(15000);
        lanes[i].rng = (uint64_t)i * 0x1234567 + 1;
        /* fill the lane before the first thread inherits it */
        for (int s = 0; s < SLOTS; s++) {
            lanes[i].size[s] = churn_size(&lanes[i].rng);
            lanes[i].ptr[s] = malloc(lanes[i].size[s]);
            REQUIRE(lanes[i].ptr[s] != NULL);
            pattern_fill(lanes[i].ptr[s], lanes[i].size[s],
                         seed_of(lanes[i].ptr[s], lanes[i].size[s]));
        }
    }
    long long rss_filled = rss_bytes();
    for (int i = 0; i < LANES; i++) {
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, lane_thread, &lanes[i]) == 0);
    }
    relay_join_all(&relay, LANES);

    long long rss_end = rss_bytes();
    printf("%d lanes x %d generations; rss %lld KiB at start, %lld KiB with the lanes filled, peak "
           "%lld KiB, %lld KiB at end; %ld corrupted blocks\n",
           LANES, lanes[0].generations, rss_start / 1024, rss_filled / 1024, peak_rss / 1024,
           rss_end / 1024, bad_blocks);
    CHECK(bad_blocks == 0);
    /* the lanes hold as much at the end as when they were filled: the generations of threads
     * that inherited them must not pile up memory: at most three times the filled lanes (the run
     * ends near 1.7 times, with the last threads' caches orphaned) */
    long long filled = rss_filled - rss_start;
    CHECKF(rss_end - rss_start <= 3 * (filled > 4 * MIB ? filled : 4 * MIB),
           "rss grew %lld KiB over the run; filling the lanes took %lld KiB",
           (rss_end - rss_start) / 1024, filled / 1024);
    return test_finish();
}
