/*
 * A free from another thread writes nothing on the cache line of the block's
 * slab (docs/allocator.md, "SuperSlabs, slabs and thread caches"): the push
 * goes to the slab's remote list, which lies on a line of its own, so the
 * owner's frees, which read the slab's line, do not lose it to the other
 * core.  The test reads hakmem's SuperSlab layout, so it includes the
 * allocator's internal header; it runs with HAKMEM_DECAY_MS=0 (it execs
 * itself) so that no decay pass drains the list while it looks.
 */
#include "check.h"

#ifndef HAKMEM_LINKED
int main(void) {
    test_skip("the slab layout is hakmem's");
}
#else

#include "../../allocator/hakmem_internal.h"

enum { SIZE = 48 };

static void *remote_free(void *p) {
    free(p);
    return NULL;
}

int main(int argc, char **argv) {
    (void)argc;
    test_without_decay(argv);
    /* two blocks: the slab keeps one, so the remote free cannot empty it */
    void *keep = malloc(OPAQUE((size_t)SIZE)), *p = malloc(OPAQUE((size_t)SIZE));
    REQUIRE(keep && p);
    struct hak_superslab *ss = (struct hak_superslab *)((uintptr_t)p & ~(uintptr_t)HAK_SEG_MASK);
    struct hak_slab *s = hak_slab_of(ss, p);
    REQUIRE(s == hak_slab_of(ss, keep));
    _Atomic(void *) *remote = hak_slab_remote(s);
    CHECKF((uintptr_t)remote / 64 != (uintptr_t)s / 64, "the remote list shares the slab's line");
    CHECK(atomic_load(remote) == NULL);

    unsigned char line[64];
    memcpy(line, s, sizeof line);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, remote_free, p) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECKF(atomic_load(remote) == p, "the block is on the slab's remote list");
    CHECKF(memcmp(line, s, sizeof line) == 0, "a remote free wrote on the slab's line");

    free(keep);
    return test_finish();
}
#endif
