/*
 * realloc across tier boundaries: chains that grow a block from 1 byte to
 * 4 MiB and shrink it back, and random walks of many blocks, in two threads.
 * Every step checks that the bytes both sizes share survived the move.
 *
 * Contents follow one rule for any size: byte i of a block with seed s is
 * pattern_byte(s, i) for i < 64 KiB and at every 64th offset beyond, so a
 * prefix can be checked after any resize.
 */
#include "check.h"

#include <malloc.h>
#include <pthread.h>

#define DENSE_LIMIT 65536
#define SPARSE_STEP 64

static void fill_range(unsigned char *b, size_t from, size_t to, uintptr_t seed) {
    size_t i = from;
    for (; i < to && i < DENSE_LIMIT; i++)
        b[i] = pattern_byte(seed, i);
    i = (i + SPARSE_STEP - 1) / SPARSE_STEP * SPARSE_STEP;
    for (; i < to; i += SPARSE_STEP)
        b[i] = pattern_byte(seed, i);
}

/* Returns the first bad offset below n, or SIZE_MAX. */
static size_t check_prefix(const unsigned char *b, size_t n, uintptr_t seed) {
    size_t i = 0;
    for (; i < n && i < DENSE_LIMIT; i++)
        if (b[i] != pattern_byte(seed, i)) return i;
    for (; i < n; i += SPARSE_STEP)
        if (b[i] != pattern_byte(seed, i)) return i;
    return SIZE_MAX;
}

static long bad_steps;

static void report(const char *what, size_t from, size_t to, size_t off) {
    if (__atomic_add_fetch(&bad_steps, 1, __ATOMIC_RELAXED) <= 10)
        fprintf(stderr, "%s: realloc %zu -> %zu lost byte %zu\n", what, from, to, off);
}

/* Grows one block from 1 byte to `top` by steps of about 1/4, then shrinks it. */
static void chain(uintptr_t seed, size_t top, uint64_t *rng) {
    size_t n = 1;
    unsigned char *b = malloc(n);
    REQUIRE(b != NULL);
    fill_range(b, 0, n, seed);
    while (n < top) {
        size_t m = n + n / 4 + 1 + rng_below(rng, 64);
        unsigned char *c = realloc(b, m);
        REQUIRE(c != NULL);
        size_t off = check_prefix(c, n, seed);
        if (off != SIZE_MAX) report("grow", n, m, off);
        CHECK(malloc_usable_size(c) >= m);
        fill_range(c, n, m, seed);
        b = c;
        n = m;
    }
    while (n > 1) {
        size_t m = n - n / 3 - rng_below(rng, 16);
        if (m < 1 || m >= n) m = n - 1;
        unsigned char *c = realloc(b, m);
        REQUIRE(c != NULL);
        size_t off = check_prefix(c, m, seed);
        if (off != SIZE_MAX) report("shrink", n, m, off);
        b = c;
        n = m;
    }
    free(b);
}

/* A size whose log is uniform in [1, 2 MiB]: every tier gets its share. */
static size_t walk_size(uint64_t *rng) {
    size_t base = (size_t)1 << rng_below(rng, 21);
    return base + rng_below(rng, base);
}

static void random_walk(uint64_t seed, long steps) {
    enum { N = 64 };
    unsigned char *b[N];
    size_t n[N];
    uintptr_t s[N];
    uint64_t rng = seed;
    for (int i = 0; i < N; i++) {
        n[i] = walk_size(&rng);
        s[i] = (uintptr_t)rng_next(&rng);
        b[i] = malloc(n[i]);
        REQUIRE(b[i] != NULL);
        fill_range(b[i], 0, n[i], s[i]);
    }
    for (long k = 0; k < steps; k++) {
        int i = (int)rng_below(&rng, N);
        size_t m = walk_size(&rng);
        unsigned char *c = realloc(b[i], m);
        REQUIRE(c != NULL);
        size_t keep = m < n[i] ? m : n[i];
        size_t off = check_prefix(c, keep, s[i]);
        if (off != SIZE_MAX) report("walk", n[i], m, off);
        if (m > n[i]) fill_range(c, n[i], m, s[i]);
        b[i] = c;
        n[i] = m;
    }
    for (int i = 0; i < N; i++) {
        size_t off = check_prefix(b[i], n[i], s[i]);
        if (off != SIZE_MAX) report("final", n[i], n[i], off);
        free(b[i]);
    }
}

static void *worker(void *arg) {
    uint64_t rng = (uintptr_t)arg;
    for (int c = 0; c < 6; c++)
        chain((uintptr_t)rng_next(&rng), (size_t)4 << 20, &rng);
    random_walk(rng_next(&rng), test_scale(15000));
    return NULL;
}

int main(void) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 17)) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECKF(bad_steps == 0, "%ld realloc steps lost data", bad_steps);
    return test_finish();
}
