/*
 * Blocks for the stress tests: each carries a pattern from its address and
 * size, written every `step` bytes and at its last byte, and checked before
 * it is freed, so a block handed out twice or memory released under a live
 * block shows as a broken pattern.  Blocks also move between threads
 * through a shared exchange.
 */
#ifndef HAKMEM_TEST_BLOCKS_H
#define HAKMEM_TEST_BLOCKS_H

#include "check.h"

#include <pthread.h>

struct block {
    unsigned char *p;
    size_t size;
};

static inline void block_stamp(struct block *b, size_t step) {
    uintptr_t seed = (uintptr_t)b->p ^ b->size;
    for (size_t i = 0; i < b->size; i += step)
        b->p[i] = pattern_byte(seed, i);
    b->p[b->size - 1] = pattern_byte(seed, b->size - 1);
}

static inline int block_intact(const struct block *b, size_t step) {
    uintptr_t seed = (uintptr_t)b->p ^ b->size;
    for (size_t i = 0; i < b->size; i += step)
        if (b->p[i] != pattern_byte(seed, i)) return 0;
    return b->p[b->size - 1] == pattern_byte(seed, b->size - 1);
}

/* Checks and frees a block (if any), counting a broken one in *bad. */
static inline void block_release(struct block *b, size_t step, long *bad) {
    if (!b->p) return;
    if (!block_intact(b, step)) __atomic_add_fetch(bad, 1, __ATOMIC_RELAXED);
    free(b->p);
    b->p = NULL;
}

/* Swaps a thread's block with a random one of the shared exchange. */
static inline void block_trade(struct block *b, struct block *exchange, size_t n,
                               pthread_mutex_t *lock, uint64_t *rng) {
    pthread_mutex_lock(lock);
    struct block *x = &exchange[rng_below(rng, n)];
    struct block t = *x;
    *x = *b;
    *b = t;
    pthread_mutex_unlock(lock);
}

#endif
