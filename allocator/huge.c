/*
 * Huge allocations (above 1 MiB): each is a mapping of its own, 2 MiB
 * aligned, with its header in the first page.
 *
 * A freed mapping is kept for reuse (HAKMEM_DECAY_MS > 0) instead of being
 * unmapped, so a program that keeps re-creating big buffers does not fault
 * every page in again.  Kept mappings are 2 MiB multiples: adjacent ones
 * merge, and a request takes the best-fitting one, split on a 2 MiB
 * boundary so a block never carries more than 2 MiB of slack.  The cache
 * holds at most max(HAKMEM_HUGE_CACHE_MB, the recent peak of live Huge
 * bytes), oldest first out; decay (decay.c) unmaps what stays unused.
 */
#include "counters.h"

struct huge_header {
    struct hak_segment hdr;
    size_t map_size;
    char *user;
};

struct kept_map {
    char *base;
    size_t size;
    uint64_t freed_at; /* hak_decay_now() when it was (last) freed */
};
#define KEEP_SLOTS 64

static pthread_mutex_t huge_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept_map kept[KEEP_SLOTS];
static unsigned nkept;
static _Atomic size_t kept_bytes;
static size_t live_bytes; /* mapped bytes of live Huge blocks            */
static size_t peak_live;  /* their peak since the last decay pass        */

static bool cache_on(void)
{
    return hak_cfg.decay_ms != 0;
}

static size_t keep_limit(void)
{
    size_t floor = (size_t)hak_cfg.huge_cache_mb << 20;
    return peak_live > floor ? peak_live : floor;
}

static void kept_remove(unsigned i)
{
    atomic_fetch_sub_explicit(&kept_bytes, kept[i].size, memory_order_relaxed);
    HAK_COUNT_SUB(huge_cached, kept[i].size);
    kept[i] = kept[--nkept];
}

/* The best-fitting kept mapping for `need` bytes (a 2 MiB multiple), split
 * so the rest stays kept; NULL when none fits.  huge_lock held. */
static char *kept_take(size_t need)
{
    unsigned best = KEEP_SLOTS;
    for (unsigned i = 0; i < nkept; i++)
        if (kept[i].size >= need && (best == KEEP_SLOTS || kept[i].size < kept[best].size)) best = i;
    if (best == KEEP_SLOTS) return NULL;
    char *base = kept[best].base;
    if (kept[best].size > need) {
        kept[best].base += need;
        kept[best].size -= need;
        atomic_fetch_sub_explicit(&kept_bytes, need, memory_order_relaxed);
        HAK_COUNT_SUB(huge_cached, need);
    } else {
        kept_remove(best);
    }
    return base;
}

/* Keeps a freed mapping, merged with kept neighbours.  huge_lock held. */
static void kept_put(char *base, size_t size, uint64_t now)
{
    atomic_fetch_add_explicit(&kept_bytes, size, memory_order_relaxed);
    HAK_COUNT_ADD(huge_cached, size);
    for (unsigned i = 0; i < nkept;) {
        if (kept[i].base + kept[i].size == base || base + size == kept[i].base) {
            if (kept[i].base < base) base = kept[i].base;
            size += kept[i].size;
            nkept--; /* removed without touching the byte totals: it stays kept */
            kept[i] = kept[nkept];
            i = 0;
            continue;
        }
        i++;
    }
    kept[nkept++] = (struct kept_map){base, size, now};
}

/* Removes the oldest kept mappings until the cache fits its bound (and a
 * slot is free), into `out`; returns how many.  huge_lock held. */
static unsigned kept_trim(struct kept_map *out)
{
    unsigned n = 0;
    while (nkept && (nkept == KEEP_SLOTS || atomic_load(&kept_bytes) > keep_limit())) {
        unsigned oldest = 0;
        for (unsigned i = 1; i < nkept; i++)
            if (kept[i].freed_at < kept[oldest].freed_at) oldest = i;
        out[n++] = kept[oldest];
        kept_remove(oldest);
    }
    return n;
}

static size_t unmap_all(const struct kept_map *m, unsigned n)
{
    size_t bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        hak_os_unmap(m[i].base, m[i].size);
        bytes += m[i].size;
    }
    HAK_COUNT_SUB(held_huge, bytes);
    return bytes;
}

void *hak_huge_alloc(size_t size, size_t align, bool *zeroed)
{
    size_t offset = align > HAK_PAGE ? align : HAK_PAGE;
    if (size > SIZE_MAX / 2 - offset) return NULL;
    bool keep = cache_on();
    size_t total = hak_align_up(offset + size, keep ? HAK_SEG_SIZE : HAK_PAGE);
    char *base = NULL;
    if (keep) {
        hak_decay_activity();
        hak_decay_alloc_slow();
        pthread_mutex_lock(&huge_lock);
        if (align <= HAK_SEG_SIZE) base = kept_take(total);
        live_bytes += total;
        if (live_bytes > peak_live) peak_live = live_bytes;
        pthread_mutex_unlock(&huge_lock);
    }
    *zeroed = base == NULL;
    if (base) {
        HAK_COUNT(huge_alloc_reuse);
    } else {
        base = hak_os_map_aligned(total, align > HAK_SEG_SIZE ? align : HAK_SEG_SIZE);
        if (base) {
            hak_os_name(base, total, "hakmem-huge");
            HAK_COUNT_ADD(held_huge, total);
        }
    }
    struct huge_header *h = (struct huge_header *)base;
    if (base) { /* the header first: registering publishes it to the region table */
        h->hdr.magic = HAK_SEG_MAGIC;
        h->hdr.tier = HAK_TIER_HUGE;
        h->map_size = total;
        h->user = base + offset;
    }
    if (!base || !hak_region_register(base, total, (struct hak_segment *)h)) {
        if (base) {
            hak_os_unmap(base, total);
            HAK_COUNT_SUB(held_huge, total);
        }
        if (keep) {
            pthread_mutex_lock(&huge_lock);
            live_bytes -= total;
            pthread_mutex_unlock(&huge_lock);
        }
        return NULL;
    }
    HAK_COUNT(huge_alloc);
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
    char *base = (char *)h;
    HAK_COUNT(free_huge);
    /* Unregistered first: a second free of p is an invalid pointer from now on. */
    hak_region_unregister(h, total);
    if (!cache_on()) {
        hak_os_unmap(h, total);
        HAK_COUNT_SUB(held_huge, total);
        return;
    }
    hak_decay_activity();
    uint64_t now = hak_decay_now();
    struct kept_map out[KEEP_SLOTS];
    pthread_mutex_lock(&huge_lock);
    live_bytes -= total;
    kept_put(base, total, now);
    unsigned n = kept_trim(out);
    pthread_mutex_unlock(&huge_lock);
    if (n) HAK_COUNT_ADD(huge_cache_evict, n);
    unmap_all(out, n);
    hak_decay_cached();
}

size_t hak_huge_usable(struct hak_segment *seg, const void *p, const char *fn)
{
    struct huge_header *h = huge_checked(seg, p, fn);
    return h->map_size - (size_t)(h->user - (char *)h);
}

/* Decay's release for Huge: unmaps kept mappings freed before `cutoff`. */
size_t hak_huge_release(uint64_t cutoff, enum hak_release_why why)
{
    struct kept_map out[KEEP_SLOTS];
    unsigned n = 0;
    pthread_mutex_lock(&huge_lock);
    for (unsigned i = 0; i < nkept;) {
        if (cutoff == HAK_RELEASE_ALL || kept[i].freed_at <= cutoff) {
            out[n++] = kept[i];
            kept_remove(i);
        } else {
            i++;
        }
    }
    peak_live = live_bytes; /* the bound follows the peak since the last pass */
    pthread_mutex_unlock(&huge_lock);
    size_t bytes = unmap_all(out, n);
    HAK_COUNT_ADD_ID(HAK_CTR_huge_released_decay + why, bytes);
    return bytes;
}

size_t hak_huge_cached(void)
{
    return atomic_load_explicit(&kept_bytes, memory_order_relaxed);
}

void hak_huge_locks(int op)
{
    if (op == 0) pthread_mutex_lock(&huge_lock);
    else if (op == 1) pthread_mutex_unlock(&huge_lock);
    else pthread_mutex_init(&huge_lock, NULL);
}
