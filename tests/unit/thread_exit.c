/*
 * Threads that come and go: many short-lived threads each allocate and free
 * a lot; threads that exit while still holding blocks hand them to the main
 * thread, which frees them after the threads are gone.  The heap stays
 * consistent and resident memory stays bounded.
 */
#include "check.h"

#include <pthread.h>

#define MIB ((long long)1 << 20)

struct handoff {
    void **blocks;
    size_t *sizes;
    int count;
    uint64_t seed;
};

static size_t mixed_size(uint64_t *rng) {
    uint64_t r = rng_below(rng, 100);
    return r < 80   ? 1 + rng_below(rng, 1024)
           : r < 98 ? 1025 + rng_below(rng, 31744)
                    : 32769 + rng_below(rng, 256 << 10);
}

/* Allocates and frees churn, then leaves `count` live blocks behind. */
static void *short_lived(void *arg) {
    struct handoff *h = arg;
    uint64_t rng = h->seed;
    void *tmp[128] = {0};
    for (int i = 0; i < 3000; i++) {
        int slot = (int)rng_below(&rng, 128);
        free(tmp[slot]);
        size_t n = mixed_size(&rng);
        tmp[slot] = malloc(n);
        if (!tmp[slot]) return (void *)1;
        memset(tmp[slot], 0x77, n < 64 ? n : 64);
    }
    for (int i = 0; i < 128; i++)
        free(tmp[i]);
    for (int i = 0; i < h->count; i++) {
        h->sizes[i] = mixed_size(&rng);
        h->blocks[i] = malloc(h->sizes[i]);
        if (!h->blocks[i]) return (void *)1;
        pattern_fill(h->blocks[i], h->sizes[i], (uintptr_t)h->blocks[i] ^ h->seed);
    }
    return NULL;
}

int main(void) {
    long long rss_start = rss_bytes(), rss_warm = 0;
    enum { WAVES = 60, PER_WAVE = 8, HELD = 200, WARM_WAVES = 4 };
    int bad = 0;
    for (int wave = 0; wave < WAVES; wave++) {
        pthread_t t[PER_WAVE];
        struct handoff h[PER_WAVE];
        for (int i = 0; i < PER_WAVE; i++) {
            h[i].count = (wave + i) % 3 == 0 ? 0 : HELD;
            h[i].blocks = calloc(HELD, sizeof(void *));
            h[i].sizes = calloc(HELD, sizeof(size_t));
            h[i].seed = (uint64_t)wave * 1000 + (uint64_t)i + 1;
            REQUIRE(h[i].blocks && h[i].sizes);
            REQUIRE(pthread_create(&t[i], NULL, short_lived, &h[i]) == 0);
        }
        for (int i = 0; i < PER_WAVE; i++) {
            void *ret;
            REQUIRE(pthread_join(t[i], &ret) == 0);
            CHECKF(ret == NULL, "wave %d thread %d failed to allocate", wave, i);
        }
        /* the threads are gone: check and free what they left behind */
        for (int i = 0; i < PER_WAVE; i++) {
            for (int k = 0; k < h[i].count; k++) {
                if (!h[i].blocks[k]) continue;
                uintptr_t seed = (uintptr_t)h[i].blocks[k] ^ h[i].seed;
                if (pattern_check(h[i].blocks[k], h[i].sizes[k], seed) != SIZE_MAX) bad++;
                free(h[i].blocks[k]);
            }
            free(h[i].blocks);
            free(h[i].sizes);
        }
        /* and the main thread reuses the freed memory */
        uint64_t rng = (uint64_t)wave;
        for (int k = 0; k < 500; k++)
            free(malloc(mixed_size(&rng)));
        if (wave == WARM_WAVES - 1) rss_warm = rss_bytes();
    }
    CHECKF(bad == 0, "%d inherited blocks corrupted", bad);
    long long rss_end = rss_bytes();
    printf("rss: %lld KiB at start, %lld KiB after %d waves, %lld KiB after %d threads\n",
           rss_start / 1024, rss_warm / 1024, WARM_WAVES, rss_end / 1024, WAVES * PER_WAVE);
    /* the first waves size the heap; the exited threads' memory is reused afterwards, so the
     * remaining waves, fourteen times as many, add no more than the first ones did */
    long long warm = rss_warm - rss_start, later = rss_end - rss_warm;
    CHECKF(later <= (warm > 8 * MIB ? warm : 8 * MIB),
           "rss grew by %lld KiB over %d waves after growing %lld KiB in the first %d",
           later / 1024, WAVES - WARM_WAVES, warm / 1024, WARM_WAVES);
    return test_finish();
}
