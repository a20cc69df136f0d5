/*
 * Blocks a full thread cache sends back to their slab come out of it again in address order
 * (docs/allocator.md, "Tiny and Mid"): a program that tears one structure down and builds the
 * next gets it laid out as densely as from a fresh carve, whatever order it freed the old one in.
 * One block in 64 stays live, so every slab stays assigned and its blocks are handed out again
 * rather than carved anew.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("the order of handed-out blocks is hakmem's");
}
#else

#include <malloc.h>

enum { N = 4096, SIZE = 48, KEEP = 64, STRIDE = 2749 /* odd: a permutation of N */ };
static void *v[N], *w[N];

int main(void) {
    for (int i = 0; i < N; i++)
        REQUIRE((v[i] = malloc(OPAQUE((size_t)SIZE))) != NULL);
    ptrdiff_t block = (ptrdiff_t)malloc_usable_size(v[0]);
    for (int k = 0; k < N; k++) { /* a scrambled teardown */
        int i = (int)((long)k * STRIDE % N);
        if (i % KEEP) free(v[i]);
    }
    int m = N - N / KEEP, adjacent = 0;
    for (int i = 0; i < m; i++) {
        REQUIRE((w[i] = malloc(OPAQUE((size_t)SIZE))) != NULL);
        if (i && (char *)w[i] - (char *)w[i - 1] == block) adjacent++;
    }
    /* the blocks the cache still held come first, in the order they were freed; every refill
     * after them hands out the next free blocks of a slab by address */
    CHECKF(adjacent >= m / 2, "%d of %d blocks followed the one before them in memory", adjacent,
           m - 1);
    for (int i = 0; i < m; i++)
        free(w[i]);
    for (int i = 0; i < N; i += KEEP)
        free(v[i]);
    return test_finish();
}
#endif
