/*
 * The Large tier (above 32 KiB up to 1 MiB) and Huge allocations (above).
 *
 * Large requests get page-granular spans inside 2 MiB Large segments (page
 * 0 is the header, pages 1..511 carry spans).  A freed span stays resident
 * for reuse while the tier's free resident pages stay under its cache limit
 * (HAKMEM_LARGE_CACHE_MB, or a quarter of the live spans when larger); past
 * it the span is returned to the OS at once, and a segment left empty is
 * unmapped.  One lock guards the tier.
 *
 * Huge requests map their own region (2 MiB-aligned, header in the first
 * page) and unmap it when freed.
 */
#include <string.h>

#include "counters.h"

#define SEG_PAGES (HAK_SEG_SIZE / HAK_PAGE)
#define WORDS (SEG_PAGES / 64)

struct large_seg {
    struct hak_segment hdr;
    struct large_seg *next, *prev;
    uint32_t used_pages;
    uint64_t used[WORDS];  /* pages inside a live span              */
    uint64_t dirty[WORDS]; /* free pages that may still be resident  */
    uint16_t span_pages[SEG_PAGES]; /* at a span's first page: its length */
};

struct huge_header {
    struct hak_segment hdr;
    size_t map_size;
    char *user;
};

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static struct large_seg *segs;
static size_t dirty_bytes; /* free pages kept resident for reuse */
static size_t live_bytes;  /* pages inside live spans             */

/* Free pages the tier keeps resident: HAKMEM_LARGE_CACHE_MB, or a quarter
 * of the live spans' size when the tier is busier than that. */
static size_t dirty_limit(void)
{
    size_t floor = (size_t)hak_cfg.large_cache_mb << 20;
    return live_bytes / 4 > floor ? live_bytes / 4 : floor;
}

static inline bool bit_get(const uint64_t *m, unsigned i)
{
    return (m[i / 64] >> (i % 64)) & 1;
}
static inline void bit_set(uint64_t *m, unsigned i)
{
    m[i / 64] |= (uint64_t)1 << (i % 64);
}
static inline void bit_clear(uint64_t *m, unsigned i)
{
    m[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static struct large_seg *seg_new(void)
{
    struct large_seg *g = hak_os_map_aligned(HAK_SEG_SIZE, HAK_SEG_SIZE);
    if (!g) return NULL;
    g->hdr.magic = HAK_SEG_MAGIC;
    g->hdr.tier = HAK_TIER_LARGE;
    bit_set(g->used, 0);
    g->used_pages = 1; /* the header page */
    if (!hak_region_register(g, HAK_SEG_SIZE, (struct hak_segment *)g)) {
        hak_os_unmap(g, HAK_SEG_SIZE);
        return NULL;
    }
    hak_os_name(g, HAK_SEG_SIZE, "hakmem-large");
    HAK_COUNT_ADD(held_large, HAK_SEG_SIZE);
    g->next = segs;
    if (segs) segs->prev = g;
    segs = g;
    return g;
}

static size_t seg_dirty_pages(const struct large_seg *g)
{
    size_t n = 0;
    for (unsigned w = 0; w < WORDS; w++) n += (size_t)__builtin_popcountll(g->dirty[w]);
    return n;
}

static size_t seg_unmap(struct large_seg *g)
{
    size_t bytes = (seg_dirty_pages(g) + 1) * HAK_PAGE;
    dirty_bytes -= seg_dirty_pages(g) * HAK_PAGE;
    if (g->prev) g->prev->next = g->next;
    else segs = g->next;
    if (g->next) g->next->prev = g->prev;
    hak_region_unregister(g, HAK_SEG_SIZE);
    hak_os_unmap(g, HAK_SEG_SIZE);
    HAK_COUNT_SUB(held_large, HAK_SEG_SIZE);
    return bytes;
}

/* First run of `pages` free pages starting on a multiple of `step`, or 0. */
static unsigned seg_find_run(const struct large_seg *g, unsigned pages, unsigned step)
{
    unsigned start = step;
    while (start + pages <= SEG_PAGES) {
        unsigned i = 0;
        while (i < pages && !bit_get(g->used, start + i)) i++;
        if (i == pages) return start;
        start = hak_align_up(start + i + 1, step);
    }
    return 0;
}

/* Returns the pages of a free run to the OS, in as few calls as runs. */
static size_t seg_decommit_dirty(struct large_seg *g, unsigned first, unsigned count)
{
    size_t bytes = 0;
    unsigned i = first, end = first + count;
    while (i < end) {
        if (!bit_get(g->dirty, i)) {
            i++;
            continue;
        }
        unsigned j = i;
        while (j < end && bit_get(g->dirty, j)) bit_clear(g->dirty, j++);
        hak_os_decommit((char *)g + (size_t)i * HAK_PAGE, (size_t)(j - i) * HAK_PAGE);
        bytes += (size_t)(j - i) * HAK_PAGE;
        i = j;
    }
    dirty_bytes -= bytes;
    return bytes;
}

/* A span of at least `size` bytes aligned to `align` (a power of two up to
 * 1 MiB); *zeroed tells whether its pages are known to read as zero. */
void *hak_large_alloc(size_t size, size_t align, bool *zeroed)
{
    unsigned pages = size ? (unsigned)(hak_align_up(size, HAK_PAGE) >> HAK_PAGE_SHIFT) : 1;
    unsigned step = align > HAK_PAGE ? (unsigned)(align >> HAK_PAGE_SHIFT) : 1;
    pthread_mutex_lock(&large_lock);
    struct large_seg *g;
    unsigned start = 0;
    for (g = segs; g; g = g->next) {
        if (SEG_PAGES - g->used_pages < pages) continue;
        if ((start = seg_find_run(g, pages, step)) != 0) break;
    }
    if (!g) {
        HAK_COUNT(early_large_no_fit);
        g = seg_new();
        if (!g) {
            pthread_mutex_unlock(&large_lock);
            return NULL;
        }
        start = step;
    }
    bool clean = true;
    for (unsigned i = start; i < start + pages; i++) {
        if (bit_get(g->dirty, i)) {
            clean = false;
            bit_clear(g->dirty, i);
            dirty_bytes -= HAK_PAGE;
        }
        bit_set(g->used, i);
    }
    g->used_pages += pages;
    live_bytes += (size_t)pages * HAK_PAGE;
    g->span_pages[start] = (uint16_t)pages;
    pthread_mutex_unlock(&large_lock);
    HAK_COUNT(large_alloc);
    if (!clean) HAK_COUNT(large_alloc_reuse);
    if (zeroed) *zeroed = clean;
    return (char *)g + (size_t)start * HAK_PAGE;
}

static unsigned span_start_checked(struct large_seg *g, const void *p, const char *fn)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)g;
    unsigned page = (unsigned)(off >> HAK_PAGE_SHIFT);
    if ((off & (HAK_PAGE - 1)) || page == 0 || g->span_pages[page] == 0)
        hak_fatal_pointer(fn, "invalid pointer", p);
    return page;
}

void hak_large_free(struct hak_segment *seg, void *p, const char *fn)
{
    struct large_seg *g = (struct large_seg *)seg;
    pthread_mutex_lock(&large_lock);
    unsigned start = span_start_checked(g, p, fn);
    unsigned pages = g->span_pages[start];
    HAK_COUNT(free_large);
    g->span_pages[start] = 0;
    for (unsigned i = start; i < start + pages; i++) {
        bit_clear(g->used, i);
        bit_set(g->dirty, i);
    }
    g->used_pages -= pages;
    live_bytes -= (size_t)pages * HAK_PAGE;
    dirty_bytes += (size_t)pages * HAK_PAGE;
    if (dirty_bytes > dirty_limit()) {
        if (g->used_pages == 1) seg_unmap(g); /* an empty segment goes whole */
        else seg_decommit_dirty(g, start, pages);
    }
    pthread_mutex_unlock(&large_lock);
}

size_t hak_large_usable(struct hak_segment *seg, const void *p, const char *fn)
{
    struct large_seg *g = (struct large_seg *)seg;
    pthread_mutex_lock(&large_lock);
    size_t n = (size_t)g->span_pages[span_start_checked(g, p, fn)] * HAK_PAGE;
    pthread_mutex_unlock(&large_lock);
    return n;
}

/* Returns every free Large page to the OS and unmaps empty segments. */
size_t hak_large_flush_all(void)
{
    size_t bytes = 0;
    pthread_mutex_lock(&large_lock);
    struct large_seg *g = segs, *next;
    for (; g; g = next) {
        next = g->next;
        if (g->used_pages == 1) {
            bytes += seg_unmap(g);
        } else {
            bytes += seg_decommit_dirty(g, 1, SEG_PAGES - 1);
        }
    }
    pthread_mutex_unlock(&large_lock);
    return bytes;
}

void hak_large_locks(int op)
{
    if (op == 0) pthread_mutex_lock(&large_lock);
    else if (op == 1) pthread_mutex_unlock(&large_lock);
    else pthread_mutex_init(&large_lock, NULL);
}

/* ---- Huge ------------------------------------------------------------------ */

void *hak_huge_alloc(size_t size, size_t align)
{
    size_t offset = align > HAK_PAGE ? align : HAK_PAGE;
    if (size > SIZE_MAX / 2 - offset) return NULL;
    size_t total = hak_align_up(offset + size, HAK_PAGE);
    char *base = hak_os_map_aligned(total, align > HAK_SEG_SIZE ? align : HAK_SEG_SIZE);
    if (!base) return NULL;
    struct huge_header *h = (struct huge_header *)base;
    h->hdr.magic = HAK_SEG_MAGIC;
    h->hdr.tier = HAK_TIER_HUGE;
    h->map_size = total;
    h->user = base + offset;
    if (!hak_region_register(base, total, (struct hak_segment *)h)) {
        hak_os_unmap(base, total);
        return NULL;
    }
    hak_os_name(base, total, "hakmem-huge");
    HAK_COUNT(huge_alloc);
    HAK_COUNT_ADD(held_huge, total);
    return h->user;
}

static struct huge_header *huge_checked(struct hak_segment *seg, const void *p, const char *fn)
{
    struct huge_header *h = (struct huge_header *)seg;
    if (h->user != p) hak_fatal_pointer(fn, "invalid pointer", p);
    return h;
}

void hak_huge_free(struct hak_segment *seg, void *p, const char *fn)
{
    struct huge_header *h = huge_checked(seg, p, fn);
    size_t total = h->map_size;
    hak_region_unregister(h, total);
    hak_os_unmap(h, total);
    HAK_COUNT(free_huge);
    HAK_COUNT_SUB(held_huge, total);
}

size_t hak_huge_usable(struct hak_segment *seg, const void *p, const char *fn)
{
    struct huge_header *h = huge_checked(seg, p, fn);
    return h->map_size - (size_t)(h->user - (char *)h);
}
