/*
 * Per-thread heaps: each thread that allocates gets a heap (its slab lists
 * and owned SuperSlabs) and a thread cache per class, kept in its slot of
 * the counter segment (in static TLS without counters).  When
 * the thread exits, its cached blocks go back to their slabs and its
 * SuperSlabs are orphaned for other threads to adopt, so thread churn does
 * not grow memory.  Allocations a thread makes after that (later key
 * destructors) come from one shared heap without a thread cache.  Heap
 * records are pooled and reused, never freed.
 */
#include <string.h>

#include "counters.h"

HAK_TLS struct hak_thread hak_tls = {.fast_cache = (struct hak_tcache *)hak_tcache_none};
const struct hak_tcache hak_tcache_none[HAK_NUM_CLASSES];

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hak_heap *live_heaps; /* every heap a thread uses       */
static struct hak_heap *free_heaps; /* released records, for reuse    */
static pthread_key_t exit_key;
static _Atomic int exit_key_ready;

static struct hak_heap *heap_record_new(void)
{
    enum { CHUNK = 64 * 1024 };
    static char *carve, *carve_end;
    struct hak_heap *h = free_heaps;
    if (h) {
        free_heaps = h->next;
        return h;
    }
    size_t sz = hak_align_up(sizeof(*h), 64);
    if (!carve || carve + sz > carve_end) {
        carve = hak_os_map(CHUNK);
        if (!carve) return NULL;
        carve_end = carve + CHUNK;
    }
    h = (struct hak_heap *)carve;
    carve += sz;
    return h;
}

/* Thread cache sizes: Tiny about 32 KiB per class (16..1024 blocks) unless
 * HAKMEM_TINY_CACHE_MAX says otherwise; Mid HAKMEM_MID_CACHE_KB per class.
 * The adaptive cache of a class that keeps overflowing grows to this bound,
 * so the small classes' bound is their 32 KiB too (1024 blocks of 32 B):
 * each overflow and refill then moves more blocks for its fixed cost. */
uint32_t hak_tcache_cap(unsigned c)
{
    uint32_t size = hak_class_size[c];
    long cap;
    if (hak_cfg.check) return 0; /* every free reaches free_block_slow's checks */
    if (c < HAK_NUM_TINY) {
        if (!hak_cfg.tiny_use_superslab) return 0;
        cap = hak_cfg.tiny_cache_max ? hak_cfg.tiny_cache_max : 32768 / (long)size;
        if (!hak_cfg.tiny_cache_max) cap = cap < 16 ? 16 : cap > 1024 ? 1024 : cap;
    } else {
        cap = hak_cfg.mid_cache_kb * 1024 / (long)size;
        if (cap < 2) cap = 2;
    }
    return (uint32_t)cap;
}

/* Adaptive capacity starts (and shrinks back to) HAKMEM_TCACHE_MIN blocks,
 * so a thread that touches a class a few times holds a few of its blocks. */
uint32_t hak_tcache_floor(unsigned c)
{
    uint32_t bound = hak_tcache_cap(c);
    if (!hak_cfg.tcache_adapt) return bound;
    return (uint32_t)hak_cfg.tcache_min < bound ? (uint32_t)hak_cfg.tcache_min : bound;
}

/* The owner changes a class's adaptive capacity; the gauges follow. */
void hak_tcache_set_target(unsigned c, uint32_t target)
{
    struct hak_tcache_adapt *a = &hak_tls.adapt[c];
    int64_t delta = ((int64_t)target - (int64_t)a->target) * hak_class_size[c];
    HAK_COUNT_ADD_ID(HAK_CTR_tiny_tcache_cap + hak_class_tier(c), (uint64_t)delta);
    a->target = target;
}

/* A slow path moves the `limit` of a cache of thread t by `room` (blocks
 * that came or went in bulk: refill, trim, reclaim; a changed cap; the
 * block a refill hands out), its `taken` by `taken` and its cap by `grow`
 * (a cap that grew before its room would show blocks the cache does not
 * hold).  Readers derive the
 * cache hits from the limits (docs/counters.md), so the slot's hit counter
 * is offset by as much, all inside the slot's seq: no reader sees one
 * without the other.  The owner with its heap's lock held, or a reclaimer
 * (h->lock held) with a room of 0: the limit is then not written, since an
 * operation of the owner's may be adding to it.  (Out of line: only slow
 * paths call it.) */
static void tcache_update(struct hak_thread *t, unsigned cls, int64_t room, int64_t taken,
                          int64_t grow)
{
    struct hak_tcache *tc = &t->caches[cls];
#if HAKMEM_COUNTERS
    uint64_t *v = t->cache_ctr;
    if (v) {
        uint64_t *seq = t->cache_seq, s = *seq;
        __atomic_store_n(seq, s + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE); /* odd before the values change */
        if (grow) __atomic_store_n(&tc->cap, tc->cap + (uint32_t)grow, __ATOMIC_RELAXED);
        if (room) {
            __atomic_store_n(&tc->limit, tc->limit + (uint64_t)room, __ATOMIC_RELAXED);
            unsigned hit = HAK_CTR_tiny_alloc_hit + 2 * (cls >= HAK_NUM_TINY);
            __atomic_store_n(&v[hit], v[hit] - (uint64_t)room, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&tc->taken, tc->taken + (uint32_t)taken, __ATOMIC_RELAXED);
        __atomic_store_n(seq, s + 2, __ATOMIC_RELEASE);
        return;
    }
#endif
    tc->cap += (uint32_t)grow;
    if (room) tc->limit += (uint64_t)room;
    __atomic_store_n(&tc->taken, tc->taken + (uint32_t)taken, __ATOMIC_RELAXED);
}

void hak_tcache_room(struct hak_thread *t, unsigned cls, int64_t room)
{
    tcache_update(t, cls, room, 0, 0);
}

/* A reclaimer took n blocks from thread t's cache of class `cls` while the
 * owner may be inside one operation on it (slab.c, tcache_steal): they go
 * into `taken`, which the count subtracts (hak_tcache_count), not into
 * `limit`, which the owner's pop adds to; the cap stays, so the capacities
 * readers add up still match the gauges.  h->lock held. */
void hak_tcache_take(struct hak_thread *t, unsigned cls, uint32_t n)
{
    tcache_update(t, cls, 0, n, 0);
}

/* The owner (h->lock held, answering a probe): what reclaimers took
 * becomes room. */
void hak_tcache_taken_back(unsigned cls)
{
    uint32_t n = hak_tls.caches[cls].taken;
    if (n) tcache_update(&hak_tls, cls, n, -(int64_t)n, 0);
}

/* A cache's capacity changes (the owner); the room follows.  A cache is trimmed to a smaller cap first. */
void hak_tcache_set_cap(struct hak_thread *t, unsigned cls, uint32_t cap)
{
    struct hak_tcache *tc = &t->caches[cls];
    int64_t d = (int64_t)cap - (int64_t)tc->cap;
    if (d) tcache_update(t, cls, d, 0, d); /* with the room, inside the seq */
}

static void thread_exit(void *arg)
{
    struct hak_heap *h = arg;
    if (h && h == hak_tls_heap) hak_heap_release(h);
    hak_tls.exiting = true;
}

/* The heap of allocations made after a thread's exit handler ran (a later
 * key destructor, in any round, the last one included): shared by every
 * exiting thread under late_lock, and used without a thread cache, so an
 * exiting thread leaves nothing of its own behind when it is gone. */
static pthread_mutex_t late_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hak_heap late_heap;

struct hak_heap *hak_heap_late_lock(void)
{
    pthread_mutex_lock(&late_lock);
    return &late_heap;
}

void hak_heap_late_unlock(void)
{
    pthread_mutex_unlock(&late_lock);
}

/* The calling thread's heap, created on its first allocation. */
struct hak_heap *hak_heap_get(void)
{
    struct hak_heap *h = hak_tls_heap;
    if (likely(h)) return h;
    hak_ensure_init();
#if HAKMEM_COUNTERS
    hak_counters_attach(); /* the caches go into this thread's slot, before a reclaimer can see them */
#endif
    if (!hak_tls.caches) hak_tls.caches = hak_tls.own_cache;
    pthread_mutex_lock(&heap_lock);
    h = heap_record_new();
    pthread_mutex_unlock(&heap_lock);
    if (!h) return NULL;
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    h->thread = &hak_tls;
    hak_tls_heap = h; /* before pthread_setspecific, which may allocate */
    /* The caches are set up before the heap is listed: a reclaimer's probe
     * (fast_cache to hak_tcache_none, slab.c) then finds them final and
     * nothing here overwrites it.  They are empty (a slot is zeroed when
     * its thread is done with it). */
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        hak_tls.adapt[c].target = 0;
        hak_tls.adapt[c].misses = 0;
        hak_tcache_set_target(c, hak_tcache_floor(c));
        hak_tcache_set_cap(&hak_tls, c, hak_tls.adapt[c].target);
    }
    hak_tls.fast_cache = hak_tls_cache;
    pthread_mutex_lock(&heap_lock);
    h->next = live_heaps;
    if (live_heaps) live_heaps->prev = h;
    live_heaps = h;
    pthread_mutex_unlock(&heap_lock);
    if (!atomic_load(&exit_key_ready)) {
        pthread_mutex_lock(&heap_lock);
        if (!atomic_load(&exit_key_ready) && pthread_key_create(&exit_key, thread_exit) == 0)
            atomic_store(&exit_key_ready, 1);
        pthread_mutex_unlock(&heap_lock);
    }
    if (atomic_load(&exit_key_ready)) pthread_setspecific(exit_key, h);
    return h;
}

static void heap_unlink_locked(struct hak_heap *h)
{
    if (h->prev) h->prev->next = h->next;
    else live_heaps = h->next;
    if (h->next) h->next->prev = h->prev;
    h->next = free_heaps;
    h->prev = NULL;
    free_heaps = h;
}

/* Called at thread exit: cached blocks return to their slabs and the
 * SuperSlabs are orphaned for adoption (empty ones beyond HAKMEM_SS_KEEP
 * are unmapped). */
void hak_heap_release(struct hak_heap *h)
{
    hak_tcache_return_all(h, 0, HAK_NUM_CLASSES);
    hak_large_tcache_release();
    pthread_mutex_lock(&h->lock); /* a reclaim of this heap finishes first */
    hak_heap_orphan_all(h);
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        hak_tcache_set_cap(&hak_tls, c, 0);
        hak_tcache_set_target(c, 0);
    }
    hak_tls.fast_cache = (struct hak_tcache *)hak_tcache_none;
    atomic_store_explicit(&hak_tls.reclaim, 0, memory_order_relaxed);
    h->released = true;
    pthread_mutex_unlock(&h->lock);
    hak_cached_event_done(); /* free slabs left resident: decay ages them */
    hak_tls_heap = NULL;
    pthread_mutex_lock(&heap_lock);
    heap_unlink_locked(h);
    pthread_mutex_unlock(&heap_lock);
    hak_counters_detach(); /* the slot's caches are empty: later refills use own_cache */
}

/* The registry of live heaps, for the reclaimer.  A heap's thread (and
 * its TLS) stays alive while the heap is listed: unlinking takes heap_lock. */
void hak_heaps_for_each(void (*fn)(struct hak_heap *h, void *arg), void *arg)
{
    pthread_mutex_lock(&heap_lock);
    for (struct hak_heap *h = live_heaps; h; h = h->next) fn(h, arg);
    pthread_mutex_unlock(&heap_lock);
}

/* Every heap's lock too: a heap whose owner is inside a slow path at fork
 * would be orphaned half-updated in the child. */
void hak_heap_fork_prepare(void)
{
    pthread_mutex_lock(&late_lock);
    pthread_mutex_lock(&heap_lock);
    for (struct hak_heap *h = live_heaps; h; h = h->next) pthread_mutex_lock(&h->lock);
}

void hak_heap_fork_parent(void)
{
    for (struct hak_heap *h = live_heaps; h; h = h->next) pthread_mutex_unlock(&h->lock);
    pthread_mutex_unlock(&heap_lock);
    pthread_mutex_unlock(&late_lock);
}

/* In the child only the forking thread survives: the other threads' heaps
 * are orphaned so their SuperSlabs can be adopted, and their caches'
 * capacities leave the gauges (their TLS is still readable here).  Blocks
 * that sat in the dead threads' caches stay counted as used. */
void hak_heap_fork_child(void)
{
    pthread_mutex_init(&heap_lock, NULL);
    pthread_mutex_init(&late_lock, NULL);
    struct hak_heap *h = live_heaps, *next;
    for (; h; h = next) {
        next = h->next;
        pthread_mutex_init(&h->lock, NULL);
        if (h == hak_tls_heap) continue;
        for (unsigned c = 0; c < HAK_NUM_CLASSES; c++)
            HAK_COUNT_SUB_ID(HAK_CTR_tiny_tcache_cap + hak_class_tier(c),
                             (uint64_t)h->thread->adapt[c].target * hak_class_size[c]);
        hak_heap_orphan_all(h);
        heap_unlink_locked(h);
    }
}
