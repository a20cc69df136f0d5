/*
 * The standard allocation API keeps glibc's contracts: alignment, errno on
 * failure, realloc semantics, usable size, aligned allocation.  Passes under
 * glibc too; the few points where hakmem is stricter than glibc 2.36 are
 * checked only when hakmem serves malloc.
 */
#include "check.h"

#include <malloc.h>
#include <stdint.h>
#include <sys/mman.h>

static int hakmem;

static int aligned(const void *p, size_t a) {
    return ((uintptr_t)p & (a - 1)) == 0;
}

/* Sizes on and around every tier boundary, plus a spread in between. */
static const size_t boundary_sizes[] = {
    1,     2,      8,      15,     16,      17,      31,      32,      33,      48,      64,
    100,   112,    127,    128,    129,     255,     256,     257,     511,     512,     513,
    1000,  1023,   1024,   1025,   1100,    2047,    2048,    2049,    4095,    4096,    4097,
    5000,  8191,   8192,   16383,  16384,   16385,   32767,   32768,   32769,   65535,   65536,
    65537, 131072, 262144, 524288, 1048575, 1048576, 1048577, 2097152, 4194304, 8388609,
};
#define NSIZES (sizeof boundary_sizes / sizeof boundary_sizes[0])

static void test_malloc_alignment_and_usable(void) {
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = boundary_sizes[i];
        void *ps[8];
        for (int k = 0; k < 8; k++) {
            ps[k] = malloc(OPAQUE(n));
            CHECKF(ps[k] != NULL, "malloc(%zu)", n);
            if (!ps[k]) return;
            CHECKF(aligned(ps[k], 16), "malloc(%zu) = %p not 16-byte aligned", n, ps[k]);
            size_t u = malloc_usable_size(ps[k]);
            CHECKF(u >= n, "usable(%zu) = %zu", n, u);
            /* every usable byte is writable and belongs to this block only */
            memset(ps[k], 0x40 + k, u);
        }
        for (int k = 0; k < 8; k++) {
            size_t u = malloc_usable_size(ps[k]);
            unsigned char *b = ps[k];
            size_t bad = SIZE_MAX;
            for (size_t j = 0; j < u; j++)
                if (b[j] != 0x40 + k) {
                    bad = j;
                    break;
                }
            CHECKF(bad == SIZE_MAX, "size %zu block %d overwritten at %zu", n, k, bad);
        }
        for (int k = 0; k < 8; k++)
            free(ps[k]);
    }
}

static void test_malloc_zero(void) {
    void *a = malloc(OPAQUE((size_t)0));
    void *b = malloc(OPAQUE((size_t)0));
    CHECK(a != NULL);
    CHECK(b != NULL);
    CHECK(a != b);
    CHECK(aligned(a, 16) && aligned(b, 16));
    free(a);
    free(b);
    free(NULL);
}

static void test_malloc_failure(void) {
    errno = 0;
    void *p = malloc(OPAQUE(SIZE_MAX));
    CHECK(p == NULL);
    CHECK(errno == ENOMEM);
    errno = 0;
    p = malloc(OPAQUE(SIZE_MAX - 4095));
    CHECK(p == NULL);
    CHECK(errno == ENOMEM);
    errno = 0;
    p = malloc(OPAQUE((size_t)PTRDIFF_MAX + 1));
    CHECK(p == NULL);
    CHECK(errno == ENOMEM);
    /* a failed request leaves the allocator working */
    p = malloc(OPAQUE((size_t)64));
    CHECK(p != NULL);
    free(p);
}

static void test_calloc(void) {
    /* memory handed out again after free still comes back zeroed */
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = boundary_sizes[i];
        unsigned char *d = malloc(OPAQUE(n));
        REQUIRE(d != NULL);
        memset(d, 0xA5, n);
        free(d);
        unsigned char *z = calloc(1, OPAQUE(n));
        CHECKF(z != NULL, "calloc(1, %zu)", n);
        if (!z) continue;
        CHECK(aligned(z, 16));
        size_t bad = SIZE_MAX;
        for (size_t j = 0; j < n; j++)
            if (z[j]) {
                bad = j;
                break;
            }
        CHECKF(bad == SIZE_MAX, "calloc(1, %zu) byte %zu not zero", n, bad);
        free(z);
    }
    unsigned char *z = calloc(OPAQUE((size_t)1000), sizeof(int));
    CHECK(z != NULL);
    free(z);

    errno = 0;
    CHECK(calloc(OPAQUE(SIZE_MAX / 2 + 2), 2) == NULL);
    CHECK(errno == ENOMEM);
    errno = 0;
    CHECK(calloc(OPAQUE((size_t)1 << 33), (size_t)1 << 33) == NULL);
    CHECK(errno == ENOMEM);
    errno = 0;
    CHECK(calloc(1, OPAQUE(SIZE_MAX)) == NULL);
    CHECK(errno == ENOMEM);

    void *p = calloc(OPAQUE((size_t)0), 16);
    CHECK(p != NULL);
    free(p);
}

/* The first offset below `keep` where a block filled with pattern_fill(from)
 * differs, checking only the positions pattern_fill wrote; SIZE_MAX if none. */
static size_t pattern_check_prefix(const unsigned char *b, size_t from, size_t keep,
                                   uintptr_t seed) {
    if (from <= PATTERN_FULL_LIMIT) return pattern_check(b, keep, seed);
    for (size_t i = 0; i < keep; i++) {
        int written = i < 256 || i >= from - 256 || (i - 256) % 512 == 0;
        if (written && b[i] != pattern_byte(seed, i)) return i;
    }
    return SIZE_MAX;
}

static void test_realloc(void) {
    /* realloc(NULL, n) is malloc(n) */
    unsigned char *p = realloc(NULL, OPAQUE((size_t)100));
    CHECK(p != NULL);
    CHECK(aligned(p, 16));
    CHECK(malloc_usable_size(p) >= 100);
    free(p);

    /* every growth and shrink between boundary sizes keeps the common prefix */
    for (size_t i = 0; i < NSIZES; i++) {
        for (size_t j = 0; j < NSIZES; j += 3) {
            size_t from = boundary_sizes[i], to = boundary_sizes[(i * 7 + j) % NSIZES];
            unsigned char *a = malloc(OPAQUE(from));
            REQUIRE(a != NULL);
            pattern_fill(a, from, from * 31 + to);
            unsigned char *b = realloc(a, OPAQUE(to));
            CHECKF(b != NULL, "realloc %zu -> %zu", from, to);
            if (!b) {
                free(a);
                continue;
            }
            CHECK(aligned(b, 16));
            CHECKF(malloc_usable_size(b) >= to, "realloc %zu -> %zu usable %zu", from, to,
                   malloc_usable_size(b));
            size_t keep = from < to ? from : to;
            /* a shrunk block keeps the whole prefix of the larger block's pattern */
            size_t bad = pattern_check_prefix(b, from, keep, from * 31 + to);
            CHECKF(bad == SIZE_MAX, "realloc %zu -> %zu lost byte %zu", from, to, bad);
            memset(b, 0x5A, to); /* the new size is fully writable */
            free(b);
        }
    }

    /* a buffer grown 16 bytes at a time from 16 B to 16 KiB moves every few size classes, not
     * at each (63 moves): each move leaves room for a quarter more (docs/allocator.md) */
    unsigned char *g = malloc(OPAQUE((size_t)16));
    REQUIRE(g != NULL);
    size_t moves = 0;
    for (size_t n = 32; n <= 16384; n += 16) {
        unsigned char *h = realloc(g, OPAQUE(n));
        REQUIRE(h != NULL);
        moves += h != g;
        g = h;
        g[n - 1] = 1;
    }
    if (hakmem) CHECKF(moves <= 32, "a 16 B-step buffer moved %zu times up to 16 KiB", moves);
    free(g);

    /* a Large buffer grown 4 KiB at a time from 64 KiB to 1 MiB grows into the free pages
     * after it instead of moving at each step (240 moves), and keeps every byte; shrunk
     * below half, it gives back its tail and stays where it is (docs/allocator.md) */
    unsigned char *big = malloc(OPAQUE((size_t)65536));
    REQUIRE(big != NULL);
    pattern_fill(big, 65536, 77);
    moves = 0;
    for (size_t n = 65536 + 4096; n <= 1048576; n += 4096) {
        unsigned char *h = realloc(big, OPAQUE(n));
        REQUIRE(h != NULL);
        moves += h != big;
        big = h;
        pattern_fill(big + n - 4096, 4096, n);
    }
    if (hakmem) CHECKF(moves <= 16, "a 4 KiB-step Large buffer moved %zu times up to 1 MiB", moves);
    size_t bad = pattern_check(big, 65536, 77);
    for (size_t n = 65536 + 4096; bad == SIZE_MAX && n <= 1048576; n += 4096)
        if (pattern_check(big + n - 4096, 4096, n) != SIZE_MAX) bad = n;
    CHECKF(bad == SIZE_MAX, "the grown Large buffer lost its bytes at %zu", bad);
    unsigned char *small = realloc(big, OPAQUE((size_t)40000));
    REQUIRE(small != NULL);
    if (hakmem) {
        CHECKF(small == big, "a Large block shrunk to 40000 bytes moved");
        CHECKF(malloc_usable_size(small) == 40960, "shrunk Large block usable %zu",
               malloc_usable_size(small));
    }
    CHECK(pattern_check_prefix(small, 65536, 40000, 77) == SIZE_MAX);
    /* a Large block grown over the pages of the block after it moves, and both keep their bytes.
     * The block after it: 64 KiB blocks are taken until one lies in the pages the growth would
     * want (spans the thread cached earlier, which the decay may or may not have evicted yet,
     * come first). */
    enum { SPARE = 64 };
    unsigned char *next = NULL, *spare[SPARE];
    int nspare = 0;
    while (!next && nspare < SPARE) {
        unsigned char *b = malloc(OPAQUE((size_t)65536));
        REQUIRE(b != NULL);
        if (b > small && b < small + 300000) next = b;
        else spare[nspare++] = b;
    }
    if (hakmem) REQUIRE(next != NULL); /* the test needs a block inside the growth's pages */
    if (!next) next = spare[--nspare]; /* another allocator: both still keep their bytes */
    pattern_fill(next, 65536, 78);
    unsigned char *grown = realloc(small, OPAQUE((size_t)300000));
    REQUIRE(grown != NULL);
    CHECK(pattern_check_prefix(grown, 65536, 40000, 77) == SIZE_MAX);
    memset(grown + 40000, 0x33, 300000 - 40000);
    CHECK(pattern_check(next, 65536, 78) == SIZE_MAX);
    free(next);
    free(grown);
    while (nspare) free(spare[--nspare]);

    /* a failed realloc leaves the old block intact */
    unsigned char *q = malloc(OPAQUE((size_t)200));
    REQUIRE(q != NULL);
    memset(q, 7, 200);
    errno = 0;
    void *r = realloc(OPAQUE(q), OPAQUE(SIZE_MAX));
    CHECK(r == NULL);
    CHECK(errno == ENOMEM);
    CHECK(q[0] == 7 && q[199] == 7);
    free(q);

    /* realloc(p, 0) frees p and returns NULL, as glibc does (C23 leaves it open; programs
     * written for glibc rely on it) */
    size_t zero_sizes[] = {50, 3000, 100000, 2 << 20};
    for (size_t i = 0; i < sizeof zero_sizes / sizeof zero_sizes[0]; i++) {
        q = malloc(OPAQUE(zero_sizes[i]));
        REQUIRE(q != NULL);
        r = realloc(q, OPAQUE((size_t)0));
        CHECKF(r == NULL, "realloc(%zu-byte block, 0) returned %p, not NULL", zero_sizes[i], r);
        if (r) free(r);
    }

    /* a block from memalign or posix_memalign keeps its contents when realloc moves it */
    static const size_t aligns[] = {64, 4096, 65536};
    static const size_t asizes[] = {100, 5000, 100000};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            size_t n = asizes[j];
            void *a = NULL;
            if (j % 2) REQUIRE(posix_memalign(&a, aligns[i], n) == 0);
            else a = memalign(aligns[i], n);
            REQUIRE(a != NULL);
            pattern_fill(a, n, n + aligns[i]);
            unsigned char *m = realloc(a, OPAQUE(n * 40));
            REQUIRE(m != NULL);
            size_t bad = pattern_check(m, n, n + aligns[i]);
            CHECKF(bad == SIZE_MAX, "realloc of a %zu-aligned %zu-byte block to %zu lost byte %zu",
                   aligns[i], n, n * 40, bad);
            free(m);
        }
}

static void test_reallocarray(void) {
    int *p = reallocarray(NULL, OPAQUE((size_t)100), sizeof(int));
    CHECK(p != NULL);
    for (int i = 0; i < 100; i++)
        p[i] = i;
    int *q = reallocarray(p, OPAQUE((size_t)5000), sizeof(int));
    CHECK(q != NULL);
    if (q) {
        int ok = 1;
        for (int i = 0; i < 100; i++)
            ok &= q[i] == i;
        CHECK(ok);
        p = q;
    }
    errno = 0;
    q = reallocarray(OPAQUE(p), OPAQUE(SIZE_MAX / 4), 8);
    CHECK(q == NULL);
    CHECK(errno == ENOMEM);
    CHECK(p[99] == 99); /* untouched on failure */
    free(p);
}

static void test_posix_memalign(void) {
    for (size_t a = sizeof(void *); a <= ((size_t)1 << 21); a <<= 1) {
        static const size_t sizes[] = {0, 1, 24, 100, 1024, 1025, 4096, 40000, 1 << 20, 3 << 20};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = (void *)1;
            int rc = posix_memalign(&p, OPAQUE(a), OPAQUE(sizes[i]));
            CHECKF(rc == 0, "posix_memalign(%zu, %zu) = %d", a, sizes[i], rc);
            if (rc) continue;
            CHECKF(sizes[i] == 0 || p != NULL, "posix_memalign(%zu, %zu)", a, sizes[i]);
            CHECKF(aligned(p, a), "posix_memalign(%zu, %zu) = %p", a, sizes[i], p);
            if (p) {
                CHECK(malloc_usable_size(p) >= sizes[i]);
                memset(p, 0x11, sizes[i]);
            }
            free(p);
        }
    }
    /* not a power of two, or not a multiple of sizeof(void *) */
    static const size_t bad[] = {0, 1, 2, 4, 12, 24, 48, 96, 100, 4097};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sizeof(void *) == 4 && bad[i] == 4) continue;
        void *p = NULL;
        int rc = posix_memalign(&p, OPAQUE(bad[i]), 64);
        CHECKF(rc == EINVAL, "posix_memalign(align %zu) = %d", bad[i], rc);
        if (rc == 0) free(p);
    }
    void *p = NULL;
    CHECK(posix_memalign(&p, 64, OPAQUE(SIZE_MAX - 100)) == ENOMEM);
}

static void test_aligned_alloc_family(void) {
    for (size_t a = 1; a <= ((size_t)1 << 20); a <<= 1) {
        size_t n = a * 3;
        void *p = aligned_alloc(OPAQUE(a), n);
        CHECKF(p != NULL && aligned(p, a), "aligned_alloc(%zu, %zu) = %p", a, n, p);
        if (p) {
            CHECK(aligned(p, 16));
            memset(p, 0x22, n);
        }
        free(p);

        p = memalign(OPAQUE(a), 77);
        CHECKF(p != NULL && aligned(p, a), "memalign(%zu, 77) = %p", a, p);
        if (p) memset(p, 0x33, 77);
        free(p);
    }
    /* many small aligned blocks at once do not overlap */
    void *blocks[64];
    for (int i = 0; i < 64; i++) {
        blocks[i] = aligned_alloc(64, 64);
        REQUIRE(blocks[i] != NULL);
        CHECK(aligned(blocks[i], 64));
        memset(blocks[i], i, 64);
    }
    for (int i = 0; i < 64; i++) {
        CHECK(((unsigned char *)blocks[i])[0] == i && ((unsigned char *)blocks[i])[63] == i);
        free(blocks[i]);
    }

    if (hakmem) {
        /* glibc 2.36 rounds such alignments up; hakmem rejects them as C and glibc 2.38 do */
        errno = 0;
        void *p = aligned_alloc(OPAQUE((size_t)24), 48);
        CHECK(p == NULL);
        CHECK(errno == EINVAL);
        free(p);
        errno = 0;
        p = aligned_alloc(OPAQUE((size_t)0), 48);
        CHECK(p == NULL);
        CHECK(errno == EINVAL);
        free(p);
    }

    long page = sysconf(_SC_PAGESIZE);
    for (size_t n = 1; n < 300000; n = n * 5 + 3) {
        void *v = valloc(OPAQUE(n));
        CHECKF(v != NULL && aligned(v, (size_t)page), "valloc(%zu) = %p", n, v);
        if (v) memset(v, 1, n);
        free(v);

        void *pv = pvalloc(OPAQUE(n));
        CHECKF(pv != NULL && aligned(pv, (size_t)page), "pvalloc(%zu) = %p", n, pv);
        if (pv) {
            size_t rounded = (n + (size_t)page - 1) & ~((size_t)page - 1);
            size_t u = malloc_usable_size(pv);
            CHECKF(u >= rounded, "pvalloc(%zu) usable %zu < %zu", n, u, rounded);
            memset(pv, 2, rounded);
        }
        free(pv);
    }
}

/* malloc_trim gives freed memory back: resident memory falls by most of a
 * freed working set, and it says so by returning 1. */
static void test_malloc_trim_releases(void) {
    enum { N = 2000 };
    static void *blocks[N];
    malloc_trim(0);
    long long rss0 = rss_bytes();
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)64 << (i % 10); /* 64 B .. 32 KiB: Tiny and Mid */
        REQUIRE((blocks[i] = malloc(OPAQUE(n))) != NULL);
        memset(blocks[i], 1, n);
        total += n;
    }
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    long long rss1 = rss_bytes();
    int rc = malloc_trim(0);
    long long rss2 = rss_bytes();
    printf("malloc_trim: %zu KiB freed, rss %lld -> %lld -> %lld KiB, returned %d\n", total / 1024,
           rss0 / 1024, rss1 / 1024, rss2 / 1024, rc);
    CHECKF(rc == 1, "malloc_trim returned %d after %zu KiB were freed", rc, total / 1024);
    CHECKF(rss2 - rss0 <= (long long)total / 4, "%lld KiB still resident after malloc_trim",
           (rss2 - rss0) / 1024);
}

static void test_usable_size_misc(void) {
    CHECK(malloc_usable_size(NULL) == 0);
    int rc = malloc_trim(0);
    CHECK(rc == 0 || rc == 1);
    /* trim with blocks live and after churn */
    void *keep[100];
    for (int i = 0; i < 100; i++)
        keep[i] = malloc(OPAQUE((size_t)(i * 700 + 1)));
    for (int i = 0; i < 100; i += 2)
        free(keep[i]);
    rc = malloc_trim(OPAQUE((size_t)4096));
    CHECK(rc == 0 || rc == 1);
    for (int i = 1; i < 100; i += 2) {
        memset(keep[i], 3, (size_t)(i * 700 + 1));
        free(keep[i]);
    }
}

static void test_many_live_blocks_distinct(void) {
    /* 20000 live blocks of mixed sizes; each keeps its own contents */
    enum { N = 20000 };
    void **p = malloc(N * sizeof *p);
    size_t *sz = malloc(N * sizeof *sz);
    REQUIRE(p && sz);
    uint64_t rng = 42;
    for (int i = 0; i < N; i++) {
        uint64_t r = rng_below(&rng, 100);
        sz[i] = r < 80   ? 1 + rng_below(&rng, 1024)
                : r < 97 ? 1025 + rng_below(&rng, 31744)
                         : 32769 + rng_below(&rng, 200000);
        p[i] = malloc(sz[i]);
        REQUIRE(p[i] != NULL);
        pattern_fill(p[i], sz[i], (uintptr_t)i);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        if (pattern_check(p[i], sz[i], (uintptr_t)i) != SIZE_MAX) bad++;
        free(p[i]);
    }
    CHECKF(bad == 0, "%d blocks overwritten", bad);
    free(p);
    free(sz);
}

int main(void) {
    struct hak_api api;
    hakmem = hak_api_get(&api);
    printf("allocator: %s\n", hakmem ? "hakmem" : "other (hakmem-only checks off)");
    test_malloc_alignment_and_usable();
    test_malloc_zero();
    test_malloc_failure();
    test_calloc();
    test_realloc();
    test_reallocarray();
    test_posix_memalign();
    test_aligned_alloc_family();
    test_usable_size_misc();
    if (hakmem) test_malloc_trim_releases(); /* glibc keeps small chunks in its bins */
    test_many_live_blocks_distinct();
    return test_finish();
}
