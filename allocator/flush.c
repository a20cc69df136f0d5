/*
 * The flush API (hakmem.h): give the calling thread's cached memory and the
 * tiers' global caches back to the OS.
 */
#include "counters.h"

static size_t counted(size_t bytes)
{
    HAK_COUNT(flush_calls);
    HAK_COUNT_ADD(flush_bytes, bytes);
    return bytes;
}

/* The calling thread's caches go back to their slabs; the other live
 * threads' caches are reclaimed (slab.c, "quiet threads"); then every
 * heap's, the exiting threads' and the orphans' free memory goes back. */
static size_t flush_slab_tier(enum hak_tier tier)
{
    hak_ensure_init();
    struct hak_heap *h = hak_tls_heap;
    if (h) {
        if (tier == HAK_TIER_TINY) hak_tcache_return_all(h, 0, HAK_NUM_TINY);
        else hak_tcache_return_all(h, HAK_NUM_TINY, HAK_NUM_CLASSES);
    }
    size_t bytes = hak_slab_flush_others(tier);
    HAK_COUNT_ADD_ID(HAK_CTR_tiny_released_flush + 4 * tier, bytes);
    return counted(bytes);
}

HAK_API size_t hak_tiny_flush(void)
{
    return flush_slab_tier(HAK_TIER_TINY);
}

HAK_API size_t hak_mid_flush(void)
{
    return flush_slab_tier(HAK_TIER_MID);
}

HAK_API size_t hak_large_flush(void)
{
    hak_ensure_init();
    return counted(hak_large_flush_all() + hak_huge_release(HAK_RELEASE_ALL, HAK_RELEASE_FLUSH));
}

HAK_API size_t hak_flush_all(void)
{
    return hak_tiny_flush() + hak_mid_flush() + hak_large_flush();
}
