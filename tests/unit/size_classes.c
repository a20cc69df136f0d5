/*
 * hakmem's size classes and tiers: malloc_usable_size(malloc(n)) is the size
 * class of n for every n up to 32 KiB, and hak_tier_of_size draws the tier
 * boundaries at 1 KiB, 32 KiB and 1 MiB, where malloc really serves each
 * size from the tier named (its counters say so).
 *
 * Classes: multiples of 16 up to 128, then 8 per doubling (steps of 16, 32,
 * 64 up to 1 KiB in Tiny; 128 .. 2048 up to 32 KiB in Mid), so rounding
 * wastes at most 12.5% above 128 bytes.
 */
#include "check.h"

#include <malloc.h>

/* The class a request of n bytes (1 <= n <= 32768) is rounded up to. */
static size_t expected_class(size_t n) {
    if (n <= 128) return (n + 15) & ~(size_t)15;
    size_t base = 128;
    while (base * 2 < n)
        base *= 2; /* base < n <= 2 * base */
    size_t step = base / 8;
    return (n + step - 1) / step * step;
}

static void test_examples(void) {
    static const size_t want[][2] = {
        {1, 16},      {16, 16},     {17, 32},     {100, 112},     {128, 128},     {129, 144},
        {256, 256},   {257, 288},   {513, 576},   {1000, 1024},   {1024, 1024},   {1025, 1152},
        {1100, 1152}, {2049, 2304}, {5000, 5120}, {16385, 18432}, {30000, 30720}, {32768, 32768},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECKF(expected_class(want[i][0]) == want[i][1], "model class(%zu)", want[i][0]);
        void *p = malloc(OPAQUE(want[i][0]));
        REQUIRE(p != NULL);
        size_t u = malloc_usable_size(p);
        CHECKF(u == want[i][1], "usable(malloc(%zu)) = %zu, want %zu", want[i][0], u, want[i][1]);
        free(p);
    }
}

static void test_every_size(void) {
    int bad = 0;
    for (size_t n = 1; n <= 32768; n++) {
        void *p = malloc(OPAQUE(n));
        REQUIRE(p != NULL);
        size_t u = malloc_usable_size(p);
        if (u != expected_class(n) && bad++ < 10)
            fprintf(stderr, "usable(malloc(%zu)) = %zu, want %zu\n", n, u, expected_class(n));
        /* waste bound the classes promise */
        if (n >= 128 && (u - n) * 8 > n && bad++ < 10)
            fprintf(stderr, "usable(malloc(%zu)) = %zu wastes more than 12.5%%\n", n, u);
        free(p);
    }
    CHECKF(bad == 0, "%d sizes off their class", bad);

    /* calloc and realloc land in the same classes */
    for (size_t n = 1; n <= 32768; n = n * 3 / 2 + 1) {
        void *p = calloc(1, OPAQUE(n));
        REQUIRE(p != NULL);
        CHECKF(malloc_usable_size(p) == expected_class(n), "calloc %zu", n);
        void *q = realloc(p, OPAQUE(n + 1));
        REQUIRE(q != NULL);
        CHECKF(malloc_usable_size(q) >= expected_class(n + 1), "realloc %zu", n + 1);
        free(q);
    }
}

/* Checks that malloc(size) is counted in `tier`'s allocation counters.  Only
 * when hakmem is linked in: preloaded, the test reads no counters. */
static void check_served_by(size_t size, const char *tier) {
#ifdef HAKMEM_LINKED
    const char *a = "huge_alloc", *b = NULL;
    if (!strcmp(tier, "tiny"))
        a = "tiny_alloc_hit", b = "tiny_alloc_miss";
    else if (!strcmp(tier, "mid"))
        a = "mid_alloc_hit", b = "mid_alloc_miss";
    else if (!strcmp(tier, "large"))
        a = "large_alloc";
    long long before = hak_counter(a) + (b ? hak_counter(b) : 0);
    void *p = malloc(OPAQUE(size));
    REQUIRE(p != NULL);
    CHECKF(hak_counter(a) + (b ? hak_counter(b) : 0) - before == 1,
           "malloc(%zu) not counted in the %s tier", size, tier);
    free(p);
#else
    (void)size, (void)tier;
#endif
}

static void test_tiers(const struct hak_api *api) {
    static const struct {
        size_t size;
        const char *tier;
    } want[] = {
        {1, "tiny"},
        {16, "tiny"},
        {1024, "tiny"},
        {1025, "mid"},
        {4096, "mid"},
        {32768, "mid"},
        {32769, "large"},
        {65536, "large"},
        {1048576, "large"},
        {1048577, "huge"},
        {(size_t)1 << 30, "huge"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *t = api->tier_of_size(want[i].size);
        CHECKF(t && strcmp(t, want[i].tier) == 0, "tier_of_size(%zu) = %s, want %s", want[i].size,
               t ? t : "(null)", want[i].tier);
        if (want[i].size < ((size_t)1 << 30)) check_served_by(want[i].size, want[i].tier);
    }
}

int main(void) {
    struct hak_api api;
    require_hakmem(&api);
    test_examples();
    test_every_size();
    test_tiers(&api);
    return test_finish();
}
