/*
 * hakmem's counters after known operations, read back in the same process
 * (hak_stats_print): each tier's allocation and free counters move by the
 * number of calls made into that tier, and flush_bytes equals the sum of what
 * the flush calls returned.  Reports and `hak diff` rest on these figures.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("counters exist only in hakmem builds");
}
#else

#define MIB ((size_t)1 << 20)
enum { N = 100 };
static void *blocks[N];

struct tier_case {
    const char *tier;
    size_t size;
    const char *alloc_counters[2]; /* their sum counts the tier's allocations */
    const char *free_counter;      /* NULL: Tiny and Mid frees share free_tls_sll and ss_remote */
};

static const struct tier_case cases[] = {
    {"tiny", 64, {"tiny_alloc_hit", "tiny_alloc_miss"}, NULL},
    {"mid", 4096, {"mid_alloc_hit", "mid_alloc_miss"}, NULL},
    {"large", 100 * 1024, {"large_alloc", NULL}, "free_large"},
    {"huge", 2 * MIB, {"huge_alloc", NULL}, "free_huge"},
};

static long long sum(const char *const names[2]) {
    return hak_counter(names[0]) + (names[1] ? hak_counter(names[1]) : 0);
}

static long long small_frees(void) {
    return hak_counter("free_tls_sll") + hak_counter("free_ss_remote");
}

static void check_tier_counts(const struct tier_case *c) {
    CHECKF(!strcmp(hak_tier_of_size(c->size), c->tier), "%zu bytes served by %s", c->size,
           hak_tier_of_size(c->size));
    long long a0 = sum(c->alloc_counters);
    for (int i = 0; i < N; i++)
        REQUIRE((blocks[i] = malloc(OPAQUE(c->size))) != NULL);
    long long allocated = sum(c->alloc_counters) - a0;
    long long f0 = c->free_counter ? hak_counter(c->free_counter) : small_frees();
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    long long freed = (c->free_counter ? hak_counter(c->free_counter) : small_frees()) - f0;
    printf("%-5s %6zu bytes: %d mallocs counted %lld, %d frees counted %lld\n", c->tier, c->size, N,
           allocated, N, freed);
    CHECKF(allocated == N, "%s: %lld allocations counted for %d", c->tier, allocated, N);
    CHECKF(freed == N, "%s: %lld frees counted for %d", c->tier, freed, N);
}

/* A realloc that moves a Tiny or Mid block frees the old one: one small
 * free counted per move, and the old block is free again (no leak).  A
 * block grown from Tiny to Mid, and one shrunk below half to a few units
 * (realloc_move_live's own copy and push, not memcpy and free's). */
static void check_realloc_move_frees(size_t from, size_t to) {
    for (int i = 0; i < N; i++)
        REQUIRE((blocks[i] = malloc(OPAQUE(from))) != NULL);
    long long f0 = small_frees();
    for (int i = 0; i < N; i++) {
        void *q = realloc(blocks[i], OPAQUE(to));
        REQUIRE(q != NULL);
        CHECKF(q != blocks[i], "realloc %zu -> %zu stayed in place", from, to);
        blocks[i] = q;
    }
    long long freed = small_frees() - f0;
    printf("%d moving reallocs %zu -> %zu counted %lld small frees\n", N, from, to, freed);
    CHECKF(freed == N, "%lld frees counted for %d moving reallocs %zu -> %zu", freed, N, from,
           to);
    for (int i = 0; i < N; i++)
        free(blocks[i]);
}

/* Allocates, touches and frees a mix of every tier so that a flush has work. */
static void churn(void) {
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)16 << (i % 15); /* 16 B .. 256 KiB */
        REQUIRE((blocks[i] = malloc(OPAQUE(n))) != NULL);
        memset(blocks[i], 1, n);
    }
    for (int i = 0; i < N; i++)
        free(blocks[i]);
}

static void check_flush_bytes(void) {
    long long bytes0 = hak_counter("flush_bytes"), calls0 = hak_counter("flush_calls");
    size_t returned = 0;
    churn();
    returned += hak_tiny_flush();
    returned += hak_mid_flush();
    churn();
    returned += hak_large_flush();
    churn();
    returned += hak_flush_all(); /* three tier flushes */
    long long counted = hak_counter("flush_bytes") - bytes0;
    printf("flush calls returned %zu bytes, flush_bytes counted %lld\n", returned, counted);
    CHECKF(returned > 0, "the flushes released nothing");
    CHECKF(counted == (long long)returned, "flush_bytes %lld, the calls returned %zu", counted,
           returned);
    CHECK(hak_counter("flush_calls") - calls0 == 6);
}

int main(void) {
    hak_counter("flush_calls"); /* skips here when counters are compiled out */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_tier_counts(&cases[i]);
    check_realloc_move_frees(48, 2000); /* Tiny -> Mid */
    check_realloc_move_frees(160, 48);  /* shrunk below half */
    check_flush_bytes();
    return test_finish();
}
#endif
