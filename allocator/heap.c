/*
 * Per-thread heaps: each thread that allocates gets a heap (its slab lists
 * and owned SuperSlabs) and a thread cache per class in static TLS.  When
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

/* Thread cache sizes: Tiny about 32 KiB per class (16..256 blocks) unless
 * HAKMEM_TINY_CACHE_MAX says otherwise; Mid HAKMEM_MID_CACHE_KB per class. */
uint32_t hak_tcache_cap(unsigned c)
{
    uint32_t size = hak_class_size[c];
    long cap;
    if (hak_cfg.check) return 0; /* every free reaches free_block_slow's checks */
    if (c < HAK_NUM_TINY) {
        if (!hak_cfg.tiny_use_superslab) return 0;
        cap = hak_cfg.tiny_cache_max ? hak_cfg.tiny_cache_max : 32768 / (long)size;
        if (!hak_cfg.tiny_cache_max) cap = cap < 16 ? 16 : cap > 256 ? 256 : cap;
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
    pthread_mutex_lock(&heap_lock);
    h = heap_record_new();
    if (h) {
        memset(h, 0, sizeof(*h));
        pthread_mutex_init(&h->lock, NULL);
        h->thread = &hak_tls;
        h->next = live_heaps;
        if (live_heaps) live_heaps->prev = h;
        live_heaps = h;
    }
    pthread_mutex_unlock(&heap_lock);
    if (!h) return NULL;
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        hak_tls_cache[c].head = NULL;
        hak_tls_cache[c].count = 0;
    }
    hak_tls_heap = h; /* before pthread_setspecific, which may allocate */
#if HAKMEM_COUNTERS
    hak_counters_attach(); /* the fast paths count into this thread's slot */
#endif
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        hak_tls.adapt[c].target = 0;
        hak_tls.adapt[c].misses = 0;
        hak_tcache_set_target(c, hak_tcache_floor(c));
        hak_tls_cache[c].cap = hak_tls.adapt[c].target;
    }
    hak_tls.fast_cache = hak_tls_cache;
    h->ctr_slot = hak_counters_slot_index();
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
        hak_tls_cache[c].cap = 0;
        hak_tcache_set_target(c, 0);
    }
    atomic_store_explicit(&hak_tls.reclaim, 0, memory_order_relaxed);
    h->released = true;
    pthread_mutex_unlock(&h->lock);
    hak_tls_heap = NULL;
    pthread_mutex_lock(&heap_lock);
    heap_unlink_locked(h);
    pthread_mutex_unlock(&heap_lock);
    hak_counters_detach();
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
