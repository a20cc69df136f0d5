/*
 * Mixed work over every tier and every allocation call: threads keep a set
 * of live blocks made by malloc, calloc, realloc, aligned_alloc,
 * posix_memalign and memalign, and trade blocks through a shared exchange so
 * that a block is often freed by a thread that did not allocate it.  Each
 * block carries a pattern derived from its address and size, checked before
 * it is freed; calloc'd blocks are checked for zeros first.
 */
#include "check.h"

#include <malloc.h>
#include <pthread.h>

#define THREADS 4
#define LIVE 1024
#define EXCHANGE 256

struct block {
    void *ptr;
    size_t size;
};

/* Blocks parked here by one thread are picked up and freed by another. */
static struct block *exchange[EXCHANGE];
static long bad_blocks, ops_done;

static size_t mixed_size(uint64_t *rng) {
    uint64_t r = rng_below(rng, 1000);
    if (r < 750) return rng_below(rng, 1025);                      /* tiny, 0 included */
    if (r < 950) return 1025 + rng_below(rng, 31744);              /* mid */
    if (r < 998) return 32769 + rng_below(rng, (1 << 20) - 32768); /* large */
    return (1 << 20) + 1 + rng_below(rng, 2 << 20);                /* huge */
}

static uintptr_t seed_of(const struct block *b) {
    return (uintptr_t)b->ptr + b->size;
}

static void note_bad(const struct block *b, const char *why, size_t off) {
    if (__atomic_add_fetch(&bad_blocks, 1, __ATOMIC_RELAXED) <= 10)
        fprintf(stderr, "block %p size %zu: %s at offset %zu\n", b->ptr, b->size, why, off);
}

static void release(struct block *b) {
    size_t off = pattern_check(b->ptr, b->size, seed_of(b));
    if (off != SIZE_MAX) note_bad(b, "pattern broken", off);
    free(b->ptr);
    b->ptr = NULL;
}

/* Makes a new block with a randomly chosen call; returns 0 on failure. */
static int make(struct block *b, uint64_t *rng) {
    size_t n = mixed_size(rng);
    size_t align = (size_t)16 << rng_below(rng, 9); /* 16 .. 4096 */
    b->size = n;
    switch (rng_below(rng, 10)) {
    case 0:
    case 1: {
        unsigned char *p = calloc(1, n);
        if (!p) return 0;
        for (size_t i = 0; i < n; i += (n > 4096 ? 509 : 1))
            if (p[i]) {
                struct block z = {p, n};
                note_bad(&z, "calloc memory not zero", i);
                break;
            }
        b->ptr = p;
        break;
    }
    case 2:
        b->ptr = aligned_alloc(align, (n + align - 1) / align * align);
        if (b->ptr && ((uintptr_t)b->ptr & (align - 1))) note_bad(b, "misaligned", align);
        break;
    case 3:
        if (posix_memalign(&b->ptr, align, n) != 0) b->ptr = NULL;
        if (b->ptr && ((uintptr_t)b->ptr & (align - 1))) note_bad(b, "misaligned", align);
        break;
    case 4:
        b->ptr = memalign(align, n);
        if (b->ptr && ((uintptr_t)b->ptr & (align - 1))) note_bad(b, "misaligned", align);
        break;
    default:
        b->ptr = malloc(n);
        break;
    }
    if (!b->ptr) return n == 0; /* a 0-byte request may return NULL */
    if (((uintptr_t)b->ptr & 15) != 0) note_bad(b, "not 16-byte aligned", 0);
    if (malloc_usable_size(b->ptr) < n) note_bad(b, "usable size too small", n);
    pattern_fill(b->ptr, n, seed_of(b));
    return 1;
}

static void *worker(void *arg) {
    uint64_t rng = (uintptr_t)arg * 0x9E37 + 5;
    struct block *live = calloc(LIVE, sizeof *live);
    REQUIRE(live != NULL);
    long ops = test_scale(150000);
    for (long k = 0; k < ops; k++) {
        struct block *b = &live[rng_below(&rng, LIVE)];
        uint64_t action = rng_below(&rng, 100);
        if (action < 10 && b->ptr) {
            /* park it in the exchange; free whatever was parked there */
            struct block *parked = malloc(sizeof *parked);
            REQUIRE(parked != NULL);
            *parked = *b;
            b->ptr = NULL;
            struct block *old =
                __atomic_exchange_n(&exchange[rng_below(&rng, EXCHANGE)], parked, __ATOMIC_ACQ_REL);
            if (old) {
                release(old);
                free(old);
            }
        } else if (action < 25 && b->ptr) {
            size_t m = mixed_size(&rng);
            size_t keep = m < b->size ? m : b->size;
            void *p = realloc(b->ptr, m);
            REQUIRE(p != NULL || m == 0);
            if (!p) {
                b->ptr = NULL;
                continue;
            }
            /* the kept prefix moved intact: check, then re-pattern for the new address */
            struct block old = {b->ptr, b->size};
            size_t dense = keep < 256 ? keep : 256;
            for (size_t i = 0; i < dense; i++)
                if (((unsigned char *)p)[i] != pattern_byte(seed_of(&old), i)) {
                    note_bad(&old, "realloc lost data", i);
                    break;
                }
            b->ptr = p;
            b->size = m;
            pattern_fill(p, m, seed_of(b));
        } else {
            if (b->ptr) release(b);
            REQUIRE(make(b, &rng));
        }
    }
    for (int i = 0; i < LIVE; i++)
        if (live[i].ptr) release(&live[i]);
    free(live);
    __atomic_add_fetch(&ops_done, ops, __ATOMIC_RELAXED);
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < EXCHANGE; i++)
        if (exchange[i]) {
            release(exchange[i]);
            free(exchange[i]);
        }
    printf("%ld operations, %ld bad blocks\n", ops_done, bad_blocks);
    CHECK(bad_blocks == 0);
    return test_finish();
}
