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
 * Every free page remembers when it was freed, so decay (decay.c) can give
 * back the pages that stayed free longer than HAKMEM_DECAY_MS, and unmap a
 * segment that has been empty that long.  Huge allocations are in huge.c.
 */
#include <string.h>

#include "counters.h"

#define SEG_PAGES (HAK_SEG_SIZE / HAK_PAGE)
#define WORDS (SEG_PAGES / 64)

struct large_seg {
    struct hak_segment hdr;
    uint32_t index; /* its entry in seg_index */
    uint64_t used[WORDS];  /* pages inside a live span              */
    uint64_t dirty[WORDS]; /* free pages that may still be resident  */
    uint16_t span_pages[SEG_PAGES]; /* at a span's first page: its length */
    uint32_t freed_at[SEG_PAGES];   /* low 32 bits of hak_decay_now() at the page's last free */
    uint32_t last_free;             /* the same, for the segment's last free  */
};
_Static_assert(sizeof(struct large_seg) <= HAK_PAGE, "a Large segment's header fits its page 0");

/* The segments, in a compact array so a search reads 16 bytes per segment
 * instead of each segment's header (a page and a TLB entry apiece). */
struct seg_entry {
    struct large_seg *g;
    uint32_t used_pages;  /* including the header page                   */
    uint32_t no_run_from; /* no unaligned free run of this many pages    */
};
#define MAX_SEGS (1u << 16) /* 128 GiB of Large segments */

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seg_entry *seg_index;
static uint32_t nsegs;
static size_t dirty_bytes; /* free pages kept resident for reuse */
static size_t live_bytes;  /* pages inside live spans             */
static uint32_t empty_segs; /* mapped segments without a live span */
static _Atomic size_t cached_bytes; /* dirty_bytes plus the empty segments' header pages, for decay */

/* Every change of the free resident bytes goes through here: the gauge
 * and decay's unlocked view follow it.  large_lock held. */
static void dirty_add(ptrdiff_t delta)
{
    dirty_bytes += (size_t)delta;
    HAK_COUNT_ADD(large_cached, (uint64_t)(int64_t)delta);
    atomic_store_explicit(&cached_bytes, dirty_bytes + (size_t)empty_segs * HAK_PAGE,
                          memory_order_relaxed);
}

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

static inline struct seg_entry *entry_of(const struct large_seg *g)
{
    return &seg_index[g->index];
}

static struct large_seg *seg_new(void)
{
    if (!seg_index && !(seg_index = hak_os_map(MAX_SEGS * sizeof(*seg_index)))) return NULL;
    if (nsegs == MAX_SEGS) return NULL;
    struct large_seg *g = hak_os_map_aligned(HAK_SEG_SIZE, HAK_SEG_SIZE);
    if (!g) return NULL;
    g->hdr.magic = HAK_SEG_MAGIC;
    g->hdr.tier = HAK_TIER_LARGE;
    bit_set(g->used, 0); /* the header page */
    if (!hak_region_register(g, HAK_SEG_SIZE, (struct hak_segment *)g)) {
        hak_os_unmap(g, HAK_SEG_SIZE);
        return NULL;
    }
    hak_os_name(g, HAK_SEG_SIZE, "hakmem-large");
    HAK_COUNT_ADD(held_large, HAK_SEG_SIZE);
    empty_segs++;
    g->index = nsegs++;
    seg_index[g->index] = (struct seg_entry){g, 1, SEG_PAGES};
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
    size_t dirty = seg_dirty_pages(g);
    size_t bytes = (dirty + 1) * HAK_PAGE;
    empty_segs--; /* only an empty segment is unmapped */
    dirty_add(-(ptrdiff_t)(dirty * HAK_PAGE));
    uint32_t i = g->index, last = --nsegs;
    if (i != last) {
        seg_index[i] = seg_index[last];
        seg_index[i].g->index = i;
    }
    hak_region_unregister(g, HAK_SEG_SIZE);
    hak_os_unmap(g, HAK_SEG_SIZE);
    HAK_COUNT_SUB(held_large, HAK_SEG_SIZE);
    return bytes;
}

/* The first page at or after `from` whose bit is `set`, or SEG_PAGES. */
static unsigned next_bit(const uint64_t *m, unsigned from, bool set)
{
    while (from < SEG_PAGES) {
        unsigned w = from / 64;
        uint64_t word = (set ? m[w] : ~m[w]) & (~(uint64_t)0 << (from % 64));
        if (word) return w * 64 + (unsigned)__builtin_ctzll(word);
        from = (w + 1) * 64;
    }
    return SEG_PAGES;
}

/* First run of `pages` free pages starting on a multiple of `step`, or 0.
 * Walks free runs a word at a time; a failed unaligned search is
 * remembered until the segment frees pages again. */
static unsigned seg_find_run(struct seg_entry *e, unsigned pages, unsigned step)
{
    const struct large_seg *g = e->g;
    if (pages >= e->no_run_from || SEG_PAGES - e->used_pages < pages) return 0;
    unsigned pos = 1;
    while (pos < SEG_PAGES) {
        unsigned start = next_bit(g->used, pos, false);
        start = (unsigned)hak_align_up(start, step);
        if (start + pages > SEG_PAGES) break;
        unsigned end = next_bit(g->used, start, true);
        if (end >= start + pages) return start;
        pos = end;
    }
    if (step == 1) e->no_run_from = pages;
    return 0;
}

/* Whether a time stamp is at or before a decay cutoff; stamps keep 32 bits
 * of milliseconds, compared modulo 2^32 (good for 24 days). */
static inline bool freed_before(uint32_t stamp, uint64_t cutoff)
{
    return cutoff == HAK_RELEASE_ALL || (int32_t)((uint32_t)cutoff - stamp) >= 0;
}

/* Returns the dirty pages of [first, first + count) freed before `cutoff`
 * to the OS, in as few calls as runs. */
static size_t seg_decommit_dirty(struct large_seg *g, unsigned first, unsigned count,
                                 uint64_t cutoff)
{
    size_t bytes = 0;
    unsigned i = first, end = first + count;
    while (i < end) {
        if (!bit_get(g->dirty, i) || !freed_before(g->freed_at[i], cutoff)) {
            i++;
            continue;
        }
        unsigned j = i;
        while (j < end && bit_get(g->dirty, j) && freed_before(g->freed_at[j], cutoff))
            bit_clear(g->dirty, j++);
        hak_os_decommit((char *)g + (size_t)i * HAK_PAGE, (size_t)(j - i) * HAK_PAGE);
        bytes += (size_t)(j - i) * HAK_PAGE;
        i = j;
    }
    dirty_add(-(ptrdiff_t)bytes);
    return bytes;
}

/* Pages [first, first + count) of g, all free, join a live span; returns
 * the bytes of them that were resident.  large_lock held. */
static size_t pages_take_locked(struct large_seg *g, unsigned first, unsigned count)
{
    size_t reused = 0;
    for (unsigned i = first; i < first + count; i++) {
        if (bit_get(g->dirty, i)) {
            reused += HAK_PAGE;
            bit_clear(g->dirty, i);
        }
        bit_set(g->used, i);
    }
    struct seg_entry *e = entry_of(g);
    if (e->used_pages == 1) empty_segs--;
    dirty_add(-(ptrdiff_t)reused);
    e->used_pages += count;
    live_bytes += (size_t)count * HAK_PAGE;
    return reused;
}

static void *tcache_take(unsigned pages);

/* A span of at least `size` bytes aligned to `align` (a power of two up to
 * 1 MiB); *zeroed tells whether its pages are known to read as zero. */
void *hak_large_alloc(size_t size, size_t align, bool *zeroed)
{
    unsigned pages = size ? (unsigned)(hak_align_up(size, HAK_PAGE) >> HAK_PAGE_SHIFT) : 1;
    unsigned step = align > HAK_PAGE ? (unsigned)(align >> HAK_PAGE_SHIFT) : 1;
    hak_decay_activity();
    void *cached = step == 1 ? tcache_take(pages) : NULL;
    if (cached) {
        HAK_COUNT(large_alloc);
        HAK_COUNT(large_alloc_reuse);
        if (zeroed) *zeroed = false;
        return cached;
    }
    hak_decay_alloc_slow();
    pthread_mutex_lock(&large_lock);
    struct large_seg *g = NULL;
    unsigned start = 0;
    for (uint32_t i = 0; i < nsegs; i++) {
        if ((start = seg_find_run(&seg_index[i], pages, step)) != 0) {
            g = seg_index[i].g;
            break;
        }
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
    bool clean = pages_take_locked(g, start, pages) == 0;
    g->span_pages[start] = (uint16_t)pages;
    pthread_mutex_unlock(&large_lock);
    HAK_COUNT(large_alloc);
    if (!clean) HAK_COUNT(large_alloc_reuse);
    if (zeroed) *zeroed = clean;
    return (char *)g + (size_t)start * HAK_PAGE;
}

static unsigned span_start_checked(struct large_seg *g, const void *p, const char *fn,
                                   const char *freed)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)g;
    unsigned page = (unsigned)(off >> HAK_PAGE_SHIFT);
    if ((off & (HAK_PAGE - 1)) || page == 0) hak_fatal_pointer(fn, "invalid pointer", p);
    /* a page no span holds: a span freed already, back in its segment (out
     * of a full thread cache, or freed while a probe stood) */
    if (g->span_pages[page] == 0)
        hak_fatal_pointer(fn, bit_get(g->used, page) ? "invalid pointer" : freed, p);
    return page;
}

/* Returns pages [first, first + count) of a span (all of it, or its tail)
 * to the segment, stamped with `now`; tells whether they stayed resident
 * (cached).  large_lock held. */
static bool pages_release_locked(struct large_seg *g, unsigned first, unsigned count, uint32_t now)
{
    for (unsigned i = first; i < first + count; i++) {
        bit_clear(g->used, i);
        bit_set(g->dirty, i);
        g->freed_at[i] = now;
    }
    g->last_free = now;
    struct seg_entry *e = entry_of(g);
    e->used_pages -= count;
    e->no_run_from = SEG_PAGES;
    live_bytes -= (size_t)count * HAK_PAGE;
    if (e->used_pages == 1) empty_segs++;
    dirty_add((ptrdiff_t)count * (ptrdiff_t)HAK_PAGE);
    if (dirty_bytes <= dirty_limit()) return true;
    if (e->used_pages == 1) seg_unmap(g); /* an empty segment goes whole */
    else seg_decommit_dirty(g, first, count, HAK_RELEASE_ALL);
    return false;
}

static bool span_release_locked(struct large_seg *g, unsigned start, uint32_t now)
{
    unsigned pages = g->span_pages[start];
    g->span_pages[start] = 0;
    return pages_release_locked(g, start, pages, now);
}

/* realloc of a live span to `size` bytes (a Large size) without moving it:
 * it gives back its tail, or grows into the free pages that follow it.
 * Returns false, changing nothing, when those pages are not free. */
bool hak_large_resize(struct hak_segment *seg, void *p, size_t size, const char *fn)
{
    struct large_seg *g = (struct large_seg *)seg;
    unsigned want = (unsigned)(hak_align_up(size, HAK_PAGE) >> HAK_PAGE_SHIFT);
    uint32_t now = (uint32_t)hak_decay_now();
    bool cached = false, done = true;
    hak_decay_activity();
    pthread_mutex_lock(&large_lock);
    unsigned start = span_start_checked(g, p, fn, "freed pointer"), pages = g->span_pages[start];
    if (want < pages) {
        g->span_pages[start] = (uint16_t)want;
        cached = pages_release_locked(g, start + want, pages - want, now);
    } else if (want > pages) {
        done = start + want <= SEG_PAGES && next_bit(g->used, start + pages, true) >= start + want;
        if (done) {
            pages_take_locked(g, start + pages, want - pages);
            g->span_pages[start] = (uint16_t)want;
        }
    }
    pthread_mutex_unlock(&large_lock);
    if (done) HAK_COUNT(large_realloc_in_place);
    if (cached) hak_decay_cached();
    return done;
}

/* Returns whether the span stayed cached (decay must be told, by the
 * caller, once it holds no heap lock: a piggy-backed pass takes them). */
static bool span_release_quiet(void *p)
{
    struct large_seg *g = (struct large_seg *)((uintptr_t)p & ~(uintptr_t)HAK_SEG_MASK);
    uint32_t now = (uint32_t)hak_decay_now();
    pthread_mutex_lock(&large_lock);
    bool cached = span_release_locked(g, (unsigned)(((uintptr_t)p - (uintptr_t)g) >> HAK_PAGE_SHIFT), now);
    pthread_mutex_unlock(&large_lock);
    return cached;
}

static void span_release(void *p)
{
    if (span_release_quiet(p)) hak_decay_cached();
}

/* A span of `pages` (or up to a quarter more) from the thread's cache. */
/* The thread's span cache is reclaimed like its Tiny/Mid caches (slab.c,
 * "quiet threads"): busy around each use, and unused while probed. */
static void *tcache_take(unsigned pages)
{
    struct hak_large_tcache *t = &hak_tls.large;
    void *p = NULL;
    hak_fast_enter();
    if (!atomic_load_explicit(&hak_tls.reclaim, memory_order_relaxed)) {
        for (uint32_t i = 0; i < t->n; i++) {
            if (t->pages[i] < pages || t->pages[i] > pages + pages / 4) continue;
            p = t->span[i];
            t->n--;
            t->span[i] = t->span[t->n];
            t->pages[i] = t->pages[t->n];
            break;
        }
    }
    hak_fast_leave();
    return p;
}

/* Keeps a freed span in the thread's cache; a full cache gives its oldest
 * entry back to the tier. */
static bool tcache_put(void *p, unsigned pages)
{
    struct hak_large_tcache *t = &hak_tls.large;
    if (!hak_tls.heap || pages > HAK_LARGE_TCACHE_MAX_PAGES) return false;
    hak_fast_enter();
    bool put = !atomic_load_explicit(&hak_tls.reclaim, memory_order_relaxed);
    if (put) {
        for (uint32_t i = 0; i < t->n; i++)
            if (t->span[i] == p) hak_fatal_pointer("free", "double free of", p);
        if (t->n < HAK_LARGE_TCACHE) {
            t->span[t->n] = p;
            t->pages[t->n++] = (uint16_t)pages;
        } else {
            uint32_t i = t->evict++ % HAK_LARGE_TCACHE;
            span_release(t->span[i]);
            t->span[i] = p;
            t->pages[i] = (uint16_t)pages;
        }
    }
    hak_fast_leave();
    return put;
}

/* Empties another thread's span cache (its heap's lock held, the owner out
 * of tcache_take/tcache_put and probed); returns the bytes.  The reclaimer
 * is a decay pass or a flush: it does not wake decay. */
size_t hak_large_tcache_reclaim(struct hak_large_tcache *t)
{
    size_t bytes = 0;
    while (t->n) {
        t->n--;
        bytes += (size_t)t->pages[t->n] * HAK_PAGE;
        span_release_quiet(t->span[t->n]);
    }
    return bytes;
}

/* Gives the calling thread's cached spans back (flush, thread exit). */
/* Under the heap's lock: a reclaimer may be emptying the same cache. */
void hak_large_tcache_release(void)
{
    struct hak_large_tcache *t = &hak_tls.large;
    struct hak_heap *h = hak_tls.heap;
    bool cached = false;
    if (h) pthread_mutex_lock(&h->lock);
    while (t->n) cached |= span_release_quiet(t->span[--t->n]);
    if (h) pthread_mutex_unlock(&h->lock);
    if (cached) hak_decay_cached();
}

void hak_large_free(struct hak_segment *seg, void *p, const char *fn)
{
    struct large_seg *g = (struct large_seg *)seg;
    /* span_pages of a live span is only written by its allocation */
    unsigned start = span_start_checked(g, p, fn, "double free of");
    HAK_COUNT(free_large);
    hak_decay_activity();
    if (tcache_put(p, g->span_pages[start])) return;
    span_release(p);
}

size_t hak_large_usable(struct hak_segment *seg, const void *p, const char *fn)
{
    struct large_seg *g = (struct large_seg *)seg;
    pthread_mutex_lock(&large_lock);
    size_t n = (size_t)g->span_pages[span_start_checked(g, p, fn, "freed pointer")] * HAK_PAGE;
    pthread_mutex_unlock(&large_lock);
    return n;
}

/* Decay's release for Large: gives back the free pages freed before
 * `cutoff` and unmaps the segments empty since before it. */
size_t hak_large_release(uint64_t cutoff, enum hak_release_why why)
{
    size_t bytes = 0;
    pthread_mutex_lock(&large_lock);
    for (uint32_t i = nsegs; i-- > 0;) { /* backwards: an unmap moves the last entry */
        struct large_seg *g = seg_index[i].g;
        if (seg_index[i].used_pages == 1 && freed_before(g->last_free, cutoff))
            bytes += seg_unmap(g);
        else bytes += seg_decommit_dirty(g, 1, SEG_PAGES - 1, cutoff);
    }
    pthread_mutex_unlock(&large_lock);
    HAK_COUNT_ADD_ID(HAK_CTR_large_released_decay + why, bytes);
    return bytes;
}

size_t hak_large_cached(void)
{
    return atomic_load_explicit(&cached_bytes, memory_order_relaxed);
}

/* Returns every free Large page to the OS and unmaps empty segments. */
size_t hak_large_flush_all(void)
{
    hak_large_tcache_release();
    return hak_large_release(HAK_RELEASE_ALL, HAK_RELEASE_FLUSH);
}

void hak_large_locks(int op)
{
    if (op == 0) pthread_mutex_lock(&large_lock);
    else if (op == 1) pthread_mutex_unlock(&large_lock);
    else pthread_mutex_init(&large_lock, NULL);
}
