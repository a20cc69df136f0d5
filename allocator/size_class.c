/*
 * Size classes of the Tiny and Mid tiers, and the tables that map a request
 * size to its class with one load (and, for malloc's fast path, to the byte
 * offset of its class's thread cache).
 *
 * Tiny (classes 0..31): 16..128 in steps of 16, then eight classes per
 * doubling up to 1024 (steps 16, 32, 64).  Mid (classes 32..71): eight
 * classes per doubling from 1024 to 32768 (steps 128 .. 2048).  Above 128
 * bytes a request is rounded up by at most 12.5 %.  docs/size-classes.md
 * lists every class.
 */
#include "hakmem_internal.h"

uint8_t hak_tiny_class_of[HAK_TINY_MAX / 16 + 1];
uint8_t hak_mid_class_of[HAK_MID_MAX / 128 + 1];
uint32_t hak_class_size[HAK_NUM_CLASSES];
uint16_t hak_tiny_cache_off[HAK_TINY_MAX + 1];
uint16_t hak_mid_cache_off[HAK_MID_MAX / 128 + 1];

/* Fills hak_class_size with `count` classes per doubling from `start`,
 * beginning at class index `first`. */
static unsigned add_doublings(unsigned first, uint32_t start, uint32_t limit)
{
    unsigned c = first;
    for (uint32_t base = start; base < limit; base *= 2) {
        uint32_t step = base / 8;
        for (uint32_t s = base + step; s <= base * 2; s += step) hak_class_size[c++] = s;
    }
    return c;
}

void hak_size_classes_init(void)
{
    unsigned c = 0;
    for (uint32_t s = 16; s <= 128; s += 16) hak_class_size[c++] = s;
    c = add_doublings(c, 128, HAK_TINY_MAX);
    c = add_doublings(c, HAK_TINY_MAX, HAK_MID_MAX);

    unsigned k = 0;
    for (unsigned i = 0; i <= HAK_TINY_MAX / 16; i++) {
        size_t n = i ? (size_t)i * 16 : 1;
        while (hak_class_size[k] < n) k++;
        hak_tiny_class_of[i] = (uint8_t)k;
    }
    k = HAK_NUM_TINY;
    for (unsigned i = 0; i <= HAK_MID_MAX / 128; i++) {
        size_t n = (size_t)i * 128;
        if (n <= HAK_TINY_MAX) n = HAK_TINY_MAX + 1;
        while (hak_class_size[k] < n) k++;
        hak_mid_class_of[i] = (uint8_t)k;
    }
    for (unsigned n = 0; n <= HAK_TINY_MAX; n++)
        hak_tiny_cache_off[n] = (uint16_t)(hak_tiny_class_of[(n + 15) >> 4] * sizeof(struct hak_tcache));
    for (unsigned i = 0; i <= HAK_MID_MAX / 128; i++)
        hak_mid_cache_off[i] = (uint16_t)(hak_mid_class_of[i] * sizeof(struct hak_tcache));
}

/* Blocks of a class sit at slab_base + k * size and slab bases are aligned
 * to the slab size, so a class whose size is a multiple of `align` (up to
 * the page size) yields `align`-aligned blocks. */
unsigned hak_class_for_aligned(size_t size, size_t align)
{
    if (size > HAK_MID_MAX || align > HAK_PAGE) return HAK_CLASS_NONE;
    unsigned first = hak_class_of(size ? size : 1);
    if (first < HAK_NUM_TINY && !hak_cfg.tiny_use_superslab) first = HAK_NUM_TINY;
    for (unsigned c = first; c < HAK_NUM_CLASSES; c++)
        if (hak_class_size[c] % align == 0) return c;
    return HAK_CLASS_NONE;
}

HAK_API const char *hak_tier_of_size(size_t size)
{
    if (size <= HAK_TINY_MAX) return "tiny";
    if (size <= HAK_MID_MAX) return "mid";
    if (size <= HAK_LARGE_MAX) return "large";
    return "huge";
}
