/*
 * The slab engine shared by the Tiny and Mid tiers: SuperSlabs (2 MiB,
 * 2 MiB-aligned) cut into slabs of one size class each; refills of the
 * thread caches; frees to the owning slab (local) or to its lock-free remote
 * list (from other threads); orphaning of SuperSlabs when threads exit,
 * and the claiming of their slabs, one at a time, by other heaps; the
 * flush and decay rows that return free slabs, and the free pages inside
 * slabs still in use, to the OS; and the adaptive capacity of the thread
 * caches (docs/allocator.md, "Footprint").
 *
 * A refill looks, in order, at: the active slab's free list and unused
 * space, the active slab's remote list, partially free slabs, full slabs
 * with remote frees, a free slab of an owned SuperSlab whose pages are
 * still resident, an orphaned slab of the class with blocks on its free or
 * remote list to claim, a free slab of an orphaned SuperSlab whose pages
 * are still resident, an orphaned slab of the class with any free blocks,
 * any free slab of an owned SuperSlab, any free slab of an orphaned
 * SuperSlab, and finally a fresh SuperSlab from the OS.
 */
#include <string.h>

#include "counters.h"

/* Adaptive: a refill that finds it taken spins a while before it sleeps;
 * the holder's walk is short, and a sleep hands the core to another thread
 * (thread churn: two thousand futex waits a run, each a switch). */
static pthread_mutex_t orphan_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static struct hak_superslab *orphans[2]; /* per tier, under orphan_lock */

static const uint8_t tier_slab_shift[2] = {HAK_TINY_SLAB_SHIFT, HAK_MID_SLAB_SHIFT};

/* Whether the SuperSlab's heap is gone: its masks and counts are then
 * written under orphan_lock, as any heap may claim its slabs. */
static inline bool ss_orphaned(struct hak_superslab *ss)
{
    return atomic_load_explicit(&ss->owner, memory_order_acquire) == HAK_OWNER_ORPHAN;
}

static inline struct hak_heap *slab_owner(struct hak_slab *s)
{
    return atomic_load_explicit(&s->owner, memory_order_acquire);
}

static inline struct hak_superslab *ss_of(const void *p)
{
    return (struct hak_superslab *)((uintptr_t)p & ~(uintptr_t)HAK_SEG_MASK);
}

static inline uint32_t all_slabs_mask(const struct hak_superslab *ss)
{
    return (uint32_t)(((uint64_t)1 << ss->nslabs) - 2); /* slab 0 is the header */
}

static inline size_t slab_bytes(const struct hak_superslab *ss)
{
    return (size_t)1 << ss->slab_shift;
}

/* Free slabs whose pages may be resident, per tier: what decay can give
 * back without touching a live block (read unlocked by decay.c). */
static _Atomic size_t dirty_bytes[2];
static _Atomic size_t threads_cached[2]; /* other threads' cached bytes, at the last pass */
/* A remote list became non-empty since the last pass: the blocks on it are
 * free, and their owner may never drain them, so decay must look. */
static _Atomic int remote_pending[2];
/* Blocks came back to a slab that stays in use since the last pass that
 * purged every slab: pages of free blocks may wait inside it, which a decay
 * pass may leave (a slab used lately) and an idle pass gives back, so the
 * worker must not park before that (docs/allocator.md, "Giving memory back"). */
static _Atomic int purge_pending[2];

static void dirty_add(enum hak_tier tier, size_t bytes, bool add)
{
    if (add) atomic_fetch_add_explicit(&dirty_bytes[tier], bytes, memory_order_relaxed);
    else atomic_fetch_sub_explicit(&dirty_bytes[tier], bytes, memory_order_relaxed);
    HAK_COUNT_ADD_ID(HAK_CTR_tiny_cached + tier, add ? bytes : -(uint64_t)bytes);
}

/* Blocks came back to a slab that still holds live ones.  Not called for
 * an emptied slab: it is released, or reused by its owner, and a pass woken
 * for it could unassign the owner's active slab between the two calls of a
 * double free, which would then read as an invalid pointer. */
static inline void purge_note(enum hak_tier tier)
{
    if (!hak_cfg.purge || atomic_load_explicit(&purge_pending[tier], memory_order_relaxed)) return;
    atomic_store_explicit(&purge_pending[tier], 1, memory_order_relaxed);
    hak_tls.cached_event = true; /* the slow path wakes decay once unlocked */
}

/* Decay's clock in 32 bits, as slabs and SuperSlabs record it. */
static inline uint32_t now32(void)
{
    return (uint32_t)hak_decay_now();
}

/* Whether a stamp is at or before the cutoff of a release (wrap-safe). */
static inline bool aged(uint32_t stamp, uint64_t cutoff)
{
    return cutoff == HAK_RELEASE_ALL || (int32_t)((uint32_t)cutoff - stamp) >= 0;
}

/* ---- slab lists of a heap ------------------------------------------------ */

static struct hak_slab **list_head(struct hak_heap *h, struct hak_slab *s)
{
    struct hak_class_lists *l = &h->cls[s->cls];
    return s->list == HAK_SLAB_PARTIAL ? &l->partial : &l->full;
}

/* The partial and full lists are circular and doubly linked: a push puts
 * the slab at the head, and the full-list scan rotates the head so that
 * successive refills look at different slabs. */
static void list_push(struct hak_heap *h, struct hak_slab *s, enum hak_slab_list which)
{
    s->list = (uint8_t)which;
    if (which == HAK_SLAB_ACTIVE) {
        h->cls[s->cls].active = s;
        s->next = s->prev = NULL;
        return;
    }
    struct hak_slab **head = list_head(h, s);
    struct hak_slab *first = *head;
    if (!first) {
        s->next = s->prev = s;
    } else {
        s->next = first;
        s->prev = first->prev;
        first->prev->next = s;
        first->prev = s;
    }
    *head = s;
}

static void list_remove(struct hak_heap *h, struct hak_slab *s)
{
    if (s->list == HAK_SLAB_ACTIVE) {
        if (h->cls[s->cls].active == s) h->cls[s->cls].active = NULL;
        return;
    }
    struct hak_slab **head = list_head(h, s);
    if (s->next == s) {
        *head = NULL;
    } else {
        s->prev->next = s->next;
        s->next->prev = s->prev;
        if (*head == s) *head = s->next;
    }
    s->next = s->prev = NULL;
}

/* The end of an assigned slab's carvable area. */
static inline char *slab_end(const struct hak_superslab *ss, const struct hak_slab *s)
{
    return hak_slab_base((struct hak_superslab *)ss, hak_slab_index(ss, s)) +
           (size_t)s->capacity * s->block_size;
}

/* Bit i of a per-slab mask of the SuperSlab that other threads read:
 * hidden_mask (slab i keeps free blocks off its free list on purged pages)
 * or loose_mask (it keeps resident ones off it, returned from a cache). */
static inline bool slab_bit(const uint32_t *mask, unsigned i)
{
    return __atomic_load_n(mask, __ATOMIC_RELAXED) >> i & 1;
}

static inline void slab_bit_set(uint32_t *mask, unsigned i, bool on)
{
    if (on) __atomic_fetch_or(mask, 1u << i, __ATOMIC_RELAXED);
    else __atomic_fetch_and(mask, ~(1u << i), __ATOMIC_RELAXED);
}

/* Free blocks off the free list, found by the out bitmap: loose or hidden. */
static inline bool slab_off_list(const struct hak_superslab *ss, unsigned i)
{
    return (__atomic_load_n(&ss->hidden_mask, __ATOMIC_RELAXED) |
            __atomic_load_n(&ss->loose_mask, __ATOMIC_RELAXED)) >> i & 1;
}

/* Free blocks on resident pages: on the free list or loose. */
static inline bool slab_resident_free(const struct hak_slab *s)
{
    const struct hak_superslab *ss = ss_of(s);
    return s->free || slab_bit(&ss->loose_mask, hak_slab_index(ss, s));
}

/* Free list, loose blocks, unused space, or free blocks on purged pages. */
static inline bool slab_has_free(const struct hak_slab *s)
{
    const struct hak_superslab *ss = ss_of(s);
    return s->free || s->bump < slab_end(ss, s) || slab_off_list(ss, hak_slab_index(ss, s));
}

/* ---- SuperSlabs ---------------------------------------------------------- */

static void ss_link(struct hak_superslab **head, struct hak_superslab *ss)
{
    ss->prev = NULL;
    ss->next = *head;
    if (*head) (*head)->prev = ss;
    *head = ss;
}

static void ss_unlink(struct hak_superslab **head, struct hak_superslab *ss)
{
    if (ss->prev) ss->prev->next = ss->next;
    else *head = ss->next;
    if (ss->next) ss->next->prev = ss->prev;
    ss->next = ss->prev = NULL;
}

static struct hak_superslab *ss_new(struct hak_heap *h, enum hak_tier tier)
{
    struct hak_superslab *ss = hak_os_map_aligned(HAK_SEG_SIZE, HAK_SEG_SIZE);
    if (!ss) return NULL;
    ss->hdr.magic = HAK_SEG_MAGIC;
    ss->hdr.tier = (uint8_t)tier;
    ss->slab_shift = tier_slab_shift[tier];
    ss->slab_off_mask = (uint32_t)(((size_t)1 << ss->slab_shift) - 1);
    ss->nslabs = (uint8_t)(HAK_SEG_SIZE >> ss->slab_shift);
    ss->slab_index_shift = (uint8_t)(ss->slab_shift - 6);
    ss->slab_index_mask = (uint32_t)(ss->nslabs - 1) << 6;
    ss->out_index_shift = (uint8_t)(6 - HAK_OUT_WORDS_SHIFT(tier));
    ss->free_mask = all_slabs_mask(ss);
    ss->dirty_mask = 0;
    ss->live_slabs = 0;
    ss->empty_ms = now32();
    for (unsigned i = 0; i < ss->nslabs; i++) {
        ss->slabs[i].cls = HAK_CLASS_NONE;
    }
    atomic_store_explicit(&ss->owner, h, memory_order_release);
    if (!hak_region_register(ss, HAK_SEG_SIZE, (struct hak_segment *)ss)) {
        hak_os_unmap(ss, HAK_SEG_SIZE);
        return NULL;
    }
    hak_os_name(ss, HAK_SEG_SIZE, tier == HAK_TIER_TINY ? "hakmem-tiny" : "hakmem-mid");
    ss_link(&h->ss[tier], ss);
    h->empty_ss[tier]++;
    HAK_COUNT(superslabs_mapped);
    HAK_COUNT_ADD_ID(HAK_CTR_held_tiny + tier, HAK_SEG_SIZE);
    return ss;
}

/* Returns the bytes the SuperSlab may have had resident. */
static size_t ss_unmap(struct hak_superslab *ss)
{
    size_t dirty = (size_t)__builtin_popcount(ss->dirty_mask) * slab_bytes(ss);
    size_t bytes = HAK_PAGE + dirty;
    if (dirty) dirty_add(ss->hdr.tier, dirty, false);
    HAK_COUNT(superslabs_unmapped);
    HAK_COUNT_SUB_ID(HAK_CTR_held_tiny + ss->hdr.tier, HAK_SEG_SIZE);
    hak_region_unregister(ss, HAK_SEG_SIZE);
    hak_os_unmap(ss, HAK_SEG_SIZE);
    return bytes;
}

/* Gives back the pages of the free slabs freed at or before `cutoff`,
 * adjacent ones in one call: each call costs a TLB flush on every CPU
 * running the process, and a thread's exit gives back many at once. */
static size_t ss_decommit_free_slabs(struct hak_superslab *ss, uint64_t cutoff)
{
    /* an orphan's masks under orphan_lock; its free slabs are not claimed
     * while it is collected (orphan_busy), so the pages go outside it */
    bool orphan = ss_orphaned(ss);
    if (orphan) pthread_mutex_lock(&orphan_lock);
    uint32_t go = 0;
    for (uint32_t m = ss->dirty_mask; m; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctz(m);
        if (aged(ss->free_ms[i], cutoff)) go |= 1u << i;
    }
    ss->dirty_mask &= ~go;
    if (orphan) pthread_mutex_unlock(&orphan_lock);
    for (uint32_t m = go; m;) {
        unsigned a = (unsigned)__builtin_ctz(m);
        /* slab 0 is the header, so a >= 1 and the run ends below bit 31 of m >> a */
        unsigned len = (unsigned)__builtin_ctz(~(m >> a));
        hak_os_decommit(hak_slab_base(ss, a), (size_t)len * slab_bytes(ss));
        m &= ~(((1u << len) - 1) << a);
    }
    size_t bytes = (size_t)__builtin_popcount(go) * slab_bytes(ss);
    if (bytes) dirty_add(ss->hdr.tier, bytes, false);
    return bytes;
}

/* ---- purged pages of assigned slabs (a slab has at most 64 pages) -------- */

static inline unsigned slab_npages(const struct hak_superslab *ss)
{
    return 1u << (ss->slab_shift - HAK_PAGE_SHIFT);
}

static inline uint64_t low_bits(unsigned n) /* n <= 64 */
{
    return n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
}

/* Slab i's purged-page marks, bit k for its k-th page. */
static uint64_t purged_get(const struct hak_superslab *ss, unsigned i)
{
    unsigned first = i * slab_npages(ss);
    return (__atomic_load_n(&ss->purged_pages[first / 64], __ATOMIC_RELAXED) >> (first % 64)) &
           low_bits(slab_npages(ss));
}

/* Slab i's marks become `marks`; the word's other bits belong to other
 * slabs, which other owners may change meanwhile. */
static void purged_set(struct hak_superslab *ss, unsigned i, uint64_t marks)
{
    unsigned first = i * slab_npages(ss);
    uint64_t field = low_bits(slab_npages(ss)) << (first % 64);
    uint64_t set = marks << (first % 64) & field;
    uint64_t *w = &ss->purged_pages[first / 64];
    if (field & ~set) __atomic_fetch_and(w, ~(field & ~set), __ATOMIC_RELAXED);
    if (set) __atomic_fetch_or(w, set, __ATOMIC_RELAXED);
}

/* The pages of a slab that bytes [lo, hi) of it touch (lo < hi). */
static inline uint64_t page_span(size_t lo, size_t hi)
{
    unsigned a = (unsigned)(lo >> HAK_PAGE_SHIFT), b = (unsigned)((hi - 1) >> HAK_PAGE_SHIFT);
    return low_bits(b + 1) & ~low_bits(a);
}

/* ---- slabs ---------------------------------------------------------------- */

/* A free slab becomes h's, for `cls`: h is the SuperSlab's heap, or a
 * heap that claims it from an orphan (orphan_lock held). */
static void slab_assign(struct hak_superslab *ss, struct hak_slab *s, unsigned cls,
                        struct hak_heap *h)
{
    uint32_t size = hak_class_size[cls];
    s->cls = (uint8_t)cls;
    s->cache_off = cls * (uint32_t)sizeof(struct hak_tcache);
    s->block_size = (uint16_t)size;
    s->div_magic = UINT64_MAX / size + 1;
    s->capacity = (uint16_t)(slab_bytes(ss) / size);
    s->bump = hak_slab_base(ss, hak_slab_index(ss, s));
    s->free = NULL;
    s->used = 0;
    atomic_store_explicit(&s->owner, h, memory_order_release);
    uint32_t bit = 1u << hak_slab_index(ss, s);
    ss->free_mask &= ~bit;
    if (ss->dirty_mask & bit) dirty_add(ss->hdr.tier, slab_bytes(ss), false);
    __atomic_store_n(&ss->warm_mask, (ss->warm_mask & ~bit) | (ss->dirty_mask & bit),
                     __ATOMIC_RELAXED);
    ss->dirty_mask &= ~bit;
    ss->live_slabs++;
}

/* An empty slab goes back to its SuperSlab, free for any class.  `h` is the
 * owner (NULL for an orphan being flushed).  Returns true when the
 * SuperSlab has no live slab left. */
static bool slab_unassign(struct hak_heap *h, struct hak_superslab *ss, struct hak_slab *s,
                          bool resident)
{
    if (h) list_remove(h, s);
    s->list = HAK_SLAB_UNASSIGNED;
    s->cls = HAK_CLASS_NONE;
    s->block_size = 0;
    s->capacity = 0;
    s->div_magic = 0;
    s->free = NULL;
    s->bump = NULL;
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    unsigned i = hak_slab_index(ss, s);
    slab_bit_set(&ss->hidden_mask, i, false);
    slab_bit_set(&ss->loose_mask, i, false);
    purged_set(ss, i, 0); /* the whole slab is dirty-tracked from now on */
    hak_tls.cached_event = true; /* the slow path tells decay once unlocked */
    bool orphan = ss_orphaned(ss);
    if (orphan) pthread_mutex_lock(&orphan_lock);
    ss->free_mask |= 1u << i;
    ss->free_ms[i] = now32();
    if (resident) {
        ss->dirty_mask |= 1u << i;
        dirty_add(ss->hdr.tier, slab_bytes(ss), true);
    }
    bool empty = --ss->live_slabs == 0;
    if (empty) ss->empty_ms = ss->free_ms[i];
    if (orphan) pthread_mutex_unlock(&orphan_lock);
    return empty;
}

/* The heap's SuperSlab became empty: keep HAKMEM_SS_KEEP of them mapped. */
static void ss_now_empty(struct hak_heap *h, struct hak_superslab *ss)
{
    enum hak_tier tier = ss->hdr.tier;
    if (h->empty_ss[tier] >= (uint32_t)hak_cfg.ss_keep) {
        ss_unlink(&h->ss[tier], ss);
        size_t bytes = ss_unmap(ss);
        h->unmapped_bytes[tier] += bytes; /* the next flush reports it */
    } else {
        h->empty_ss[tier]++;
    }
}

static void slab_release(struct hak_heap *h, struct hak_superslab *ss, struct hak_slab *s)
{
    if (ss_orphaned(ss)) { /* a claimed slab goes back to its orphan */
        /* the tier is read first: once orphan_lock is dropped in
         * slab_unassign, a release pass may unmap the orphan it emptied */
        h->claimed[ss->hdr.tier]--;
        slab_unassign(h, ss, s, true);
        return;
    }
    if (slab_unassign(h, ss, s, true)) ss_now_empty(h, ss);
}

/* ---- the out bitmap: which blocks are out of their slab ------------------ */

/* The high half of a * b.  On x86-64 a written MUL with a in RAX: GCC's
 * own computes a into another register and copies it (the return loop
 * runs it for every block). */
static inline uint64_t mul_hi(uint64_t a, uint64_t b)
{
#if defined(__x86_64__)
    uint64_t hi;
    __asm__("mulq %2" : "=d"(hi), "+a"(a) : "r"(b) : "cc");
    return hi;
#else
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
#endif
}

/* Index of the block at p in a slab of offset mask `off_mask` whose
 * blocks have division magic `magic`. */
static inline uint64_t block_index_of(uintptr_t off_mask, uint64_t magic, const void *p)
{
    uint64_t off = (uintptr_t)p & off_mask;
    /* floor(off / d) is the high half of off * ceil(2^64 / d) for off < 2^18 */
    return mul_hi(off, magic);
}

/* Index of the block that starts at p (p passed hak_block_misaligned). */
static inline uint64_t block_index(const struct hak_superslab *ss, const struct hak_slab *s,
                                   const void *p)
{
    return block_index_of(hak_slab_off_mask(ss), s->div_magic, p);
}

static inline _Atomic(uint64_t) *out_word(struct hak_superslab *ss, const struct hak_slab *s,
                                          uint32_t idx)
{
    return hak_slab_out_base(ss, s) + idx / 64;
}

/* The owner's writes of the bitmap (only the owner writes it): relaxed,
 * with no locked instruction, free of data races with remote readers.  On
 * x86-64 one BTS or BTR on memory addresses the word, loads, changes and
 * stores it: four instructions less per block than the portable form (the
 * returns, refills and drains run them for every block). */

/* Clears bit idx of the bitmap at base and says whether it was set. */
static inline bool out_test_clear(_Atomic(uint64_t) *base, uint64_t idx)
{
#if defined(__x86_64__)
    bool was_set;
    __asm__ volatile("btrq %1, %2" : "=@ccc"(was_set) : "r"(idx), "m"(*base) : "memory");
    return was_set;
#else
    _Atomic(uint64_t) *w = base + idx / 64;
    uint64_t v = atomic_load_explicit(w, memory_order_relaxed), bit = (uint64_t)1 << (idx % 64);
    atomic_store_explicit(w, v & ~bit, memory_order_relaxed);
    return (v & bit) != 0;
#endif
}

/* Sets bit idx of the bitmap at base. */
static inline void out_set_at(_Atomic(uint64_t) *base, uint64_t idx)
{
#if defined(__x86_64__)
    __asm__ volatile("btsq %0, %1" : : "r"(idx), "m"(*base) : "memory", "cc");
#else
    _Atomic(uint64_t) *w = base + idx / 64;
    atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) | (uint64_t)1 << (idx % 64),
                          memory_order_relaxed);
#endif
}

/* Sets the bits of blocks [idx, idx + n): a carved run, a word at a time. */
static inline void out_set_run(_Atomic(uint64_t) *base, uint32_t idx, uint32_t n)
{
    while (n) {
        uint32_t bit = idx % 64, k = 64 - bit < n ? 64 - bit : n;
        uint64_t run = (k == 64 ? ~(uint64_t)0 : ((uint64_t)1 << k) - 1) << bit;
        _Atomic(uint64_t) *w = base + idx / 64;
        atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) | run,
                              memory_order_relaxed);
        idx += k;
        n -= k;
    }
}

/* A block of the owner's comes back to its slab: its bit must be set.  A
 * clear bit means a second free (or a block never handed out).  `base` is
 * hak_slab_out_base(ss, s). */
static inline void out_clear_checked_at(_Atomic(uint64_t) *base, struct hak_superslab *ss,
                                        struct hak_slab *s, void *p)
{
    if (unlikely(!out_test_clear(base, block_index(ss, s, p))))
        hak_fatal_pointer("free", (char *)p < s->bump ? "double free of" : "invalid pointer", p);
}

/* Whether the block at p is out of its slab, read from any thread. */
static inline bool block_is_out(struct hak_superslab *ss, const struct hak_slab *s, const void *p)
{
    uint32_t idx = block_index(ss, s, p);
    return atomic_load_explicit(out_word(ss, s, idx), memory_order_relaxed) >> (idx % 64) & 1;
}

bool hak_block_is_out(struct hak_superslab *ss, struct hak_slab *s, const void *p)
{
    return block_is_out(ss, s, p);
}

/* A block on the remote list that carries the free key may also sit in the
 * owner's thread cache (freed there first): look for it there.  `key` is
 * hak_free_key, read once per drain (the bitmap stores could alias it). */
static inline void remote_key_check(struct hak_superslab *ss, struct hak_slab *s, void **b,
                                    void *key)
{
    if (unlikely(b[1] == key) &&
        atomic_load_explicit(&s->owner, memory_order_relaxed) == hak_tls_heap && hak_tls_heap)
        hak_free_key_check("free", ss, s, b);
}

/* Moves the slab's remote frees to its local free list; returns how many.
 * Each block's out bit is cleared on the way: a block pushed twice (a
 * cross-thread double free, which makes the list a cycle) finds its bit
 * clear the second time and stops the process instead of looping.  Each
 * gets the free key, which every free block carries (take_check). */
static uint32_t slab_drain_remote(struct hak_slab *s)
{
    if (!atomic_load_explicit(hak_slab_remote(s), memory_order_relaxed)) return 0;
    void *list = atomic_exchange_explicit(hak_slab_remote(s), NULL, memory_order_acquire);
    if (!list) return 0;
    struct hak_superslab *ss = ss_of(s);
    _Atomic(uint64_t) *base = hak_slab_out_base(ss, s);
    void *key = (void *)hak_free_key;
    uint32_t n = 1;
    void **tail = list;
    remote_key_check(ss, s, tail, key);
    out_clear_checked_at(base, ss, s, tail);
    tail[1] = key; /* as every free block (take_check) */
    while (*tail) {
        tail = *tail;
        remote_key_check(ss, s, tail, key);
        out_clear_checked_at(base, ss, s, tail);
        tail[1] = key;
        n++;
    }
    *tail = s->free;
    s->free = list;
    s->used -= n;
    if (s->used) purge_note(ss->hdr.tier);
    HAK_COUNT_ADD(remote_drained, n);
    return n;
}

/* Blocks carved from the slab so far. */
static inline uint32_t slab_carved(struct hak_superslab *ss, const struct hak_slab *s)
{
    return (uint32_t)((size_t)(s->bump - hak_slab_base(ss, hak_slab_index(ss, s))) / s->block_size);
}

/* A block its slab holds as free, taken into the thread cache.  Every
 * free block carries the free key in word 1 (the cache's pushes, the
 * drain and the overflow write it), or 0 on a page a purge gave back; one
 * that carries anything else is with the program (a double free put it
 * back in the slab while it was in use: it was back in its slab when freed
 * again, and the cache then handed it out), or the program wrote it after
 * freeing it.  It stops the process before the block is handed out a
 * second time.  A purged page's block gets the key for the cache's pop
 * (tcache_pop); a block that has it is not written for it. */
static inline void take_check(void **b, void *key)
{
    void *w = b[1];
    if (unlikely(w != key)) {
        if (w) hak_cached_block_bad(b);
        b[1] = key;
    }
}

/* Takes up to `want` of the free blocks kept off the free list (loose, or
 * hidden on purged pages), in address order, so the cache hands them out
 * that way as it does a carve's.  With the free list empty, those are
 * exactly the carved blocks whose out bit is clear. */
static uint32_t slab_take_off_list(struct hak_superslab *ss, struct hak_slab *s, void **headp,
                                   uint32_t want)
{
    void *key = (void *)hak_free_key;
    unsigned i = hak_slab_index(ss, s);
    char *base = hak_slab_base(ss, i);
    uint32_t carved = slab_carved(ss, s), n = 0;
    const size_t size = s->block_size;
    const uint64_t marks = purged_get(ss, i);
    uint64_t touched = 0;
    void *chain = NULL, **tail = &chain; /* in address order: appended at its tail */
    for (uint32_t w = 0; w * 64 < carved && n < want; w++) {
        _Atomic(uint64_t) *word = out_word(ss, s, w * 64);
        uint64_t v = atomic_load_explicit(word, memory_order_relaxed);
        const uint64_t free_blocks = ~v & low_bits(carved - w * 64);
        if (!free_blocks) continue;
        char *wbase = base + (size_t)w * 64 * size;
        uint32_t m = (uint32_t)__builtin_popcountll(free_blocks);
        if (m > want - n) m = want - n;
        n += m;
        uint64_t left = free_blocks;
        if (m == 64) { /* a whole word of free blocks (a torn-down run): no bit search */
            char *b = wbase;
            for (uint32_t c = 64; c; c--, b += size) {
                take_check((void **)b, key);
                *tail = b;
                tail = (void **)b;
            }
            left = 0;
        } else {
            for (uint32_t c = m; c; c--, left &= left - 1) {
                void **b = (void **)(wbase + (size_t)__builtin_ctzll(left) * size);
                take_check(b, key);
                *tail = b;
                tail = b;
            }
        }
        uint64_t taken = free_blocks & ~left;
        atomic_store_explicit(word, v | taken, memory_order_relaxed);
        if (unlikely(marks)) /* pages an earlier purge gave back fault in again */
            for (; taken; taken &= taken - 1) {
                size_t off = (size_t)(wbase - base) + (size_t)__builtin_ctzll(taken) * size;
                touched |= page_span(off, off + size);
            }
    }
    *tail = *headp;
    if (n < want) {
        slab_bit_set(&ss->hidden_mask, i, false);
        slab_bit_set(&ss->loose_mask, i, false);
    }
    if (unlikely(touched)) purged_set(ss, i, marks & ~touched);
    *headp = chain;
    return n;
}

/* A carved block's two words: its link and the free key, as two stores
 * (b through an empty asm: GCC packs the pair into a vector otherwise,
 * three instructions for the two). */
static inline void carve_link(char *b, void *next, void *key)
{
    ((void **)b)[1] = key;
    __asm__("" : "+r"(b));
    ((void **)b)[0] = next;
}

/* Moves up to `want` blocks of the slab into the thread cache, setting
 * their out bits; the caller moves the cache's limit by as many. */
static uint32_t slab_take(struct hak_slab *s, struct hak_tcache *tc, uint32_t want)
{
    struct hak_superslab *ss = ss_of(s);
    _Atomic(uint64_t) *base = hak_slab_out_base(ss, s);
    uint32_t n = 0;
    void *head = tc->head;
    void *key = (void *)hak_free_key;
    if (s->free) {
        /* in locals: the stores into the blocks and the bitmap could alias
         * the headers */
        const uintptr_t off_mask = hak_slab_off_mask(ss);
        const uint64_t magic = s->div_magic;
        void **b = s->free, **last;
        /* the slab's list keeps its links: only the last block taken gets
         * a new one, to join the cache */
        do {
            out_set_at(base, mul_hi((uintptr_t)b & off_mask, magic)); /* its index */
            take_check(b, key);
            last = b;
            b = b[0];
        } while (++n < want && b);
        last[0] = head;
        head = s->free;
        s->free = b;
    }
    unsigned i = hak_slab_index(ss, s);
    if (n < want && slab_off_list(ss, i)) n += slab_take_off_list(ss, s, &head, want - n);
    if (n < want && s->bump < slab_end(ss, s)) {
        /* k blocks from the bump pointer, linked in address order so the
         * cache hands them out that way: a store and an add per block */
        uint32_t idx = block_index(ss, s, s->bump), room = s->capacity - idx;
        uint32_t k = want - n < room ? want - n : room;
        size_t from = (size_t)(s->bump - hak_slab_base(ss, i));
        char *first = s->bump, *last = first + (size_t)(k - 1) * s->block_size;
        size_t size = s->block_size;
        char *b = first;
        /* four links a step: a teardown's blocks come back mostly carved
         * again, so this loop runs for most allocations */
        for (uint32_t j = (k - 1) / 4; j; j--) {
            char *b1 = b + size, *b2 = b1 + size, *b3 = b2 + size, *b4 = b3 + size;
            carve_link(b, b1, key);
            carve_link(b1, b2, key);
            carve_link(b2, b3, key);
            carve_link(b3, b4, key);
            b = b4;
        }
        for (; b < last; b += size) carve_link(b, b + size, key);
        ((void **)last)[0] = head;
        ((void **)last)[1] = key;
        head = first;
        s->bump = last + size;
        n += k;
        out_set_run(base, idx, k);
        uint64_t marks = purged_get(ss, i);
        if (unlikely(marks)) /* carving into a page an earlier purge gave back */
            purged_set(ss, i, marks & ~page_span(from, (size_t)(s->bump - hak_slab_base(ss, i))));
    }
    tc->head = head;
    s->used += n;
    return n;
}

/* Whether any block in [first, last] of the slab is out of it. */
static bool out_any(struct hak_superslab *ss, const struct hak_slab *s, uint32_t first,
                    uint32_t last)
{
    for (uint32_t w = first / 64; w <= last / 64; w++) {
        uint64_t m = ~(uint64_t)0;
        if (w == first / 64) m &= ~low_bits(first % 64);
        if (w == last / 64) m &= low_bits(last % 64 + 1);
        if (atomic_load_explicit(out_word(ss, s, w * 64), memory_order_relaxed) & m) return true;
    }
    return false;
}

/* Whether slab s has a free block off its free list (`listed` blocks long)
 * on none of the `purged` pages: a loose block, resident.  The free list's
 * blocks touch no purged page, so there is one when the free blocks on
 * resident pages outnumber the list's. */
static bool slab_loose_resident(struct hak_superslab *ss, const struct hak_slab *s,
                                uint64_t purged, uint32_t listed)
{
    size_t size = s->block_size;
    uint32_t carved = slab_carved(ss, s), resident = 0;
    for (uint32_t w = 0; w * 64 < carved; w++) {
        uint64_t v = atomic_load_explicit(out_word(ss, s, w * 64), memory_order_relaxed);
        for (uint64_t f = ~v & low_bits(carved - w * 64); f; f &= f - 1) {
            size_t off = ((size_t)w * 64 + (size_t)__builtin_ctzll(f)) * size;
            if (!(page_span(off, off + size) & purged) && ++resident > listed) return true;
        }
    }
    return false;
}

/* Gives back the pages of an assigned slab on which every carved block is
 * free (docs/allocator.md, "Footprint").  Their blocks' links would read as
 * zero afterwards, so the free list is rebuilt without them; they stay
 * "hidden" until slab_take_off_list hands them out.  The slab's lock held, its
 * remote list drained.  Returns the bytes given back. */
static size_t slab_purge(struct hak_superslab *ss, struct hak_slab *s)
{
    unsigned i = hak_slab_index(ss, s);
    char *base = hak_slab_base(ss, i);
    size_t size = s->block_size, carved_bytes = (size_t)(s->bump - base);
    uint32_t carved = slab_carved(ss, s);
    if (s->used >= carved) return 0; /* no free block */
    uint64_t free_pages = 0;
    unsigned npages = (unsigned)((carved_bytes + HAK_PAGE - 1) >> HAK_PAGE_SHIFT);
    for (unsigned pg = 0; pg < npages; pg++) {
        size_t lo = (size_t)pg << HAK_PAGE_SHIFT;
        uint32_t first = (uint32_t)(lo / size), last = (uint32_t)((lo + HAK_PAGE - 1) / size);
        if (last >= carved) last = carved - 1;
        if (!out_any(ss, s, first, last)) free_pages |= (uint64_t)1 << pg;
    }
    uint64_t old = purged_get(ss, i), fresh = free_pages & ~old;
    if (!fresh) return 0;
    void *kept = NULL, **tail = &kept;
    uint32_t listed = 0;
    for (void **b = s->free, **next; b; b = next) {
        next = b[0];
        size_t off = (size_t)((char *)b - base);
        if (page_span(off, off + size) & free_pages) continue;
        *tail = b;
        tail = b;
        listed++;
    }
    *tail = NULL;
    s->free = kept;
    slab_bit_set(&ss->hidden_mask, i, true);
    /* loose blocks all on the pages going back are hidden now: the slab
     * no longer counts as holding resident free blocks */
    if (slab_bit(&ss->loose_mask, i) && !slab_loose_resident(ss, s, old | fresh, listed))
        slab_bit_set(&ss->loose_mask, i, false);
    for (uint64_t m = fresh; m;) {
        unsigned a = (unsigned)__builtin_ctzll(m);
        uint64_t run = ~(m >> a);
        unsigned len = run ? (unsigned)__builtin_ctzll(run) : 64 - a;
        hak_os_decommit(base + ((size_t)a << HAK_PAGE_SHIFT), (size_t)len << HAK_PAGE_SHIFT);
        m &= ~(low_bits(len) << a);
    }
    purged_set(ss, i, old | fresh);
    unsigned pages = (unsigned)__builtin_popcountll(fresh);
    HAK_COUNT_ADD_ID(HAK_CTR_tiny_pages_purged + ss->hdr.tier, pages);
    return (size_t)pages << HAK_PAGE_SHIFT;
}

/* Where slab_new may take a slab from. */
enum slab_source {
    SLAB_RESIDENT, /* a free slab of an owned SuperSlab whose pages are still resident */
    SLAB_OWNED,    /* any free slab of an owned SuperSlab */
    SLAB_MAP,      /* that, else a fresh SuperSlab from the OS */
};

/* A fresh slab for `cls` from an owned SuperSlab, or NULL when `from`
 * allows none. */
static struct hak_slab *slab_new(struct hak_heap *h, unsigned cls, enum slab_source from,
                                 bool *fresh_ss)
{
    enum hak_tier tier = hak_class_tier(cls);
    struct hak_superslab *pick = NULL;
    for (struct hak_superslab *ss = h->ss[tier]; ss; ss = ss->next) {
        if (!(from == SLAB_RESIDENT ? ss->free_mask & ss->dirty_mask : ss->free_mask)) continue;
        pick = ss;
        if (ss->live_slabs) break; /* prefer filling SuperSlabs in use */
    }
    if (!pick) {
        if (from != SLAB_MAP || !(pick = ss_new(h, tier))) return NULL;
        *fresh_ss = true;
    }
    if (pick->live_slabs == 0) h->empty_ss[tier]--;
    uint32_t warm = pick->free_mask & pick->dirty_mask; /* pages still resident: no fault */
    struct hak_slab *s = &pick->slabs[__builtin_ctz(warm ? warm : pick->free_mask)];
    slab_assign(pick, s, cls, h);
    return s;
}

/* Sorts a claimed or collected slab into the heap's lists. */
static void slab_file(struct hak_heap *h, struct hak_slab *s)
{
    list_push(h, s, slab_has_free(s) ? HAK_SLAB_PARTIAL : HAK_SLAB_FULL);
}

/* ---- orphans: SuperSlabs of exited threads -------------------------------- */

/* Whether an orphaned slab has free blocks: any, or (`resident`) on its
 * free or remote list, which cost no page fault. */
static inline bool orphan_slab_serves(const struct hak_slab *s, bool resident)
{
    if (slab_resident_free(s) || atomic_load_explicit(hak_slab_remote(s), memory_order_relaxed)) return true;
    return !resident && slab_has_free(s);
}

/* The classes some orphan's class mask has set, [1] of orphan_res and [0]
 * of orphan_cls: a refill of a class no orphan serves takes no lock and
 * walks no orphan list.  Set after an orphan's bit, cleared by a claim that
 * walks the list (so a bit set during its walk sets this again). */
static uint64_t orphan_any[2][2];

static inline void orphan_any_set(bool resident, unsigned word, uint64_t bits)
{
    if (bits && (__atomic_load_n(&orphan_any[resident][word], __ATOMIC_RELAXED) & bits) != bits)
        __atomic_fetch_or(&orphan_any[resident][word], bits, __ATOMIC_SEQ_CST);
}

/* The class index: each orphan on a list holds a slot (the first
 * ORPHAN_SLOTS to come), and for each class and kind a bitmap of the slots
 * whose orphan's class mask has the class, so a claim finds a serving
 * orphan without walking the list (a Mid claim walked ten SuperSlab
 * headers, two cache misses each, under the lock).  Slots and orphans
 * under orphan_lock; bits set with the masks' bits (after them), cleared
 * under the lock.  Orphans beyond the slots are walked as before. */
#define ORPHAN_SLOTS 256
#define ORPHAN_SLOT_WORDS (ORPHAN_SLOTS / 64)
static struct hak_superslab *orphan_slot_ss[ORPHAN_SLOTS];
static uint64_t orphan_slot_used[ORPHAN_SLOT_WORDS];
static uint64_t orphan_by_class[2][HAK_NUM_CLASSES][ORPHAN_SLOT_WORDS];
static uint32_t orphans_unslotted[2]; /* per tier: orphans on the list without a slot */

/* Sets or clears orphan ss's bit for `cls` in the class index (slot + 1 = ss->orphan_slot). */
static inline void orphan_slot_mark(unsigned slot1, bool resident, unsigned cls, bool on)
{
    unsigned slot = slot1 - 1;
    uint64_t *w = &orphan_by_class[resident][cls][slot / 64], bit = (uint64_t)1 << (slot % 64);
    if (on) {
        if (!(__atomic_load_n(w, __ATOMIC_RELAXED) & bit)) __atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST);
    } else if (__atomic_load_n(w, __ATOMIC_RELAXED) & bit) {
        __atomic_fetch_and(w, ~bit, __ATOMIC_RELAXED);
    }
}

/* Orphan ss's class masks, copied to its slot's bits (a slot just taken, or
 * masks just noted anew). */
static void orphan_slot_copy(struct hak_superslab *ss)
{
    unsigned slot1 = __atomic_load_n(&ss->orphan_slot, __ATOMIC_SEQ_CST);
    if (!slot1) return;
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        uint64_t bit = (uint64_t)1 << (c % 64);
        orphan_slot_mark(slot1, false, c, __atomic_load_n(&ss->orphan_cls[c / 64], __ATOMIC_SEQ_CST) & bit);
        orphan_slot_mark(slot1, true, c, __atomic_load_n(&ss->orphan_res[c / 64], __ATOMIC_SEQ_CST) & bit);
    }
}

/* An orphan joins its list with a slot when one is free (orphan_lock held). */
static void orphan_slot_take(enum hak_tier tier, struct hak_superslab *ss)
{
    for (unsigned w = 0; w < ORPHAN_SLOT_WORDS; w++) {
        if (orphan_slot_used[w] == ~(uint64_t)0) continue;
        unsigned slot = w * 64 + (unsigned)__builtin_ctzll(~orphan_slot_used[w]);
        orphan_slot_used[w] |= (uint64_t)1 << (slot % 64);
        orphan_slot_ss[slot] = ss;
        /* stored before the masks are read: a remote free that set a mask
         * bit after they were read sees the slot and sets its bit */
        __atomic_store_n(&ss->orphan_slot, (uint16_t)(slot + 1), __ATOMIC_SEQ_CST);
        orphan_slot_copy(ss);
        return;
    }
    orphans_unslotted[tier]++;
}

/* An orphan leaves its list to be unmapped (orphan_lock held): nothing of
 * it is live, so no free notes a class of it meanwhile. */
static void orphan_slot_give(enum hak_tier tier, struct hak_superslab *ss)
{
    unsigned slot1 = ss->orphan_slot;
    if (!slot1) {
        orphans_unslotted[tier]--;
        return;
    }
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        orphan_slot_mark(slot1, false, c, false);
        orphan_slot_mark(slot1, true, c, false);
    }
    orphan_slot_used[(slot1 - 1) / 64] &= ~((uint64_t)1 << ((slot1 - 1) % 64));
    orphan_slot_ss[slot1 - 1] = NULL;
    ss->orphan_slot = 0;
}

/* The classes an orphan's own slabs have free blocks of (or remote frees
 * for), noted when it joins the orphan list and when a pass collected it:
 * a refill claims a slab of its class from an orphan whose bit is set
 * (docs/allocator.md, "Exited threads").  Nobody touches the orphan's own
 * slabs then but remote frees, which this may miss; slabs claimed by live
 * heaps are theirs. */
static void orphan_note_classes(struct hak_superslab *ss)
{
    uint64_t m[2] = {0, 0}, res[2] = {0, 0};
    for (unsigned i = 1; i < ss->nslabs; i++) {
        struct hak_slab *s = &ss->slabs[i];
        if (slab_owner(s) != HAK_OWNER_ORPHAN || s->cls == HAK_CLASS_NONE) continue;
        uint64_t bit = (uint64_t)1 << (s->cls % 64);
        if (orphan_slab_serves(s, true)) res[s->cls / 64] |= bit;
        if (orphan_slab_serves(s, false)) m[s->cls / 64] |= bit;
    }
    for (unsigned w = 0; w < 2; w++) {
        __atomic_store_n(&ss->orphan_cls[w], m[w], __ATOMIC_SEQ_CST);
        __atomic_store_n(&ss->orphan_res[w], res[w], __ATOMIC_SEQ_CST);
        orphan_any_set(false, w, m[w]);
        orphan_any_set(true, w, res[w]);
    }
    orphan_slot_copy(ss);
}

/* An orphaned slab of class `cls` has (or may have) free blocks. */
static void orphan_note_class(struct hak_superslab *ss, unsigned cls, bool resident)
{
    uint64_t bit = (uint64_t)1 << (cls % 64);
    if (!(__atomic_load_n(&ss->orphan_cls[cls / 64], __ATOMIC_RELAXED) & bit))
        __atomic_fetch_or(&ss->orphan_cls[cls / 64], bit, __ATOMIC_SEQ_CST);
    unsigned slot1 = __atomic_load_n(&ss->orphan_slot, __ATOMIC_SEQ_CST);
    if (slot1) orphan_slot_mark(slot1, false, cls, true);
    orphan_any_set(false, cls / 64, bit);
    if (!resident) return;
    if (!(__atomic_load_n(&ss->orphan_res[cls / 64], __ATOMIC_RELAXED) & bit))
        __atomic_fetch_or(&ss->orphan_res[cls / 64], bit, __ATOMIC_SEQ_CST);
    slot1 = __atomic_load_n(&ss->orphan_slot, __ATOMIC_SEQ_CST);
    if (slot1) orphan_slot_mark(slot1, true, cls, true);
    orphan_any_set(true, cls / 64, bit);
}

/* A remote free started a slab's remote list: if the slab is an orphan,
 * its class now has a free block there. */
static void orphan_note_free(struct hak_superslab *ss, const struct hak_slab *s)
{
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) != HAK_OWNER_ORPHAN) return;
    orphan_note_class(ss, s->cls, true);
}

static void orphan_push(enum hak_tier tier, struct hak_superslab *ss)
{
    orphan_note_classes(ss);
    pthread_mutex_lock(&orphan_lock);
    ss_link(&orphans[tier], ss);
    orphan_slot_take(tier, ss);
    pthread_mutex_unlock(&orphan_lock);
}

/* `n` slabs of orphan ss became h's (orphan_lock held until here): the
 * orphan moves to the head of its list, where the next claim looks first:
 * an orphan that served one claim often holds more of the kind. */
static void claim_done(struct hak_heap *h, struct hak_superslab *ss, unsigned n)
{
    struct hak_superslab **head = &orphans[ss->hdr.tier];
    if (*head != ss) {
        ss_unlink(head, ss);
        ss_link(head, ss);
    }
    pthread_mutex_unlock(&orphan_lock);
    h->claimed[ss->hdr.tier] += n;
    HAK_COUNT_ADD(slabs_claimed, n);
}

/* Takes the slabs of `cls` of orphan ss that serve a claim (see
 * claim_orphan_slab) for h, up to CLAIM_BATCH of them under one hold of
 * orphan_lock, and returns the first; orphan_lock held, dropped by
 * claim_done when it does.  Each taken slab's remote frees are drained and
 * it joins h's lists: when threads come and go, one orphan holds many
 * slabs of a class, and a claim of each would take the lock as often.
 * NULL, with the orphan's stale bits cleared, when none serves. */
static struct hak_slab *orphan_take_slab(struct hak_heap *h, struct hak_superslab *ss,
                                         unsigned cls, bool resident)
{
    enum { CLAIM_BATCH = 4 };
    uint64_t bit = (uint64_t)1 << (cls % 64);
    uint64_t *mask = resident ? &ss->orphan_res[cls / 64] : &ss->orphan_cls[cls / 64];
    if (ss->orphan_busy || !(__atomic_load_n(mask, __ATOMIC_RELAXED) & bit)) return NULL;
    struct hak_slab *got[CLAIM_BATCH];
    unsigned n = 0;
    for (unsigned i = 1; i < ss->nslabs && n < CLAIM_BATCH; i++) {
        struct hak_slab *s = &ss->slabs[i];
        /* the owner first: a claimed slab's fields are its claimer's */
        if (slab_owner(s) != HAK_OWNER_ORPHAN || s->cls != cls || !orphan_slab_serves(s, resident))
            continue;
        atomic_store_explicit(&s->owner, h, memory_order_release);
        got[n++] = s;
    }
    if (!n) {
        __atomic_fetch_and(mask, ~bit, __ATOMIC_RELAXED);
        if (ss->orphan_slot) orphan_slot_mark(ss->orphan_slot, resident, cls, false);
        return NULL;
    }
    orphan_any_set(resident, cls / 64, bit); /* this orphan may hold more */
    claim_done(h, ss, n);
    for (unsigned k = 0; k < n; k++) {
        slab_drain_remote(got[k]);
        slab_file(h, got[k]);
    }
    return got[0];
}

/* Claims an orphaned slab of `cls` with free blocks (with `resident`, on
 * its free or remote list): the head orphan's first (the last to serve a
 * claim), then those of the orphans the class index points to, then the
 * slotless orphans' on the list.  An orphan whose mask was stale loses the
 * bit.  NULL when none. */
static struct hak_slab *claim_orphan_slab(struct hak_heap *h, unsigned cls, bool resident)
{
    enum hak_tier tier = hak_class_tier(cls);
    uint64_t bit = (uint64_t)1 << (cls % 64);
    uint64_t *any = &orphan_any[resident][cls / 64];
    if (!(__atomic_load_n(any, __ATOMIC_RELAXED) & bit)) return NULL;
    pthread_mutex_lock(&orphan_lock);
    /* cleared with a full barrier before the masks are read: an orphan's
     * bit set after its mask was read here sets it again */
    __atomic_fetch_and(any, ~bit, __ATOMIC_SEQ_CST);
    struct hak_superslab *head = orphans[tier];
    struct hak_slab *s;
    if (head && (s = orphan_take_slab(h, head, cls, resident))) return s;
    const uint64_t *idx = orphan_by_class[resident][cls];
    for (unsigned w = 0; w < ORPHAN_SLOT_WORDS; w++) {
        for (uint64_t m = __atomic_load_n(&idx[w], __ATOMIC_RELAXED); m; m &= m - 1) {
            struct hak_superslab *ss = orphan_slot_ss[w * 64 + (unsigned)__builtin_ctzll(m)];
            if (ss && ss != head && (s = orphan_take_slab(h, ss, cls, resident))) return s;
        }
    }
    if (orphans_unslotted[tier])
        for (struct hak_superslab *ss = orphans[tier]; ss; ss = ss->next)
            if (!ss->orphan_slot && ss != head && (s = orphan_take_slab(h, ss, cls, resident)))
                return s;
    pthread_mutex_unlock(&orphan_lock);
    return NULL;
}

/* Claims a free slab of an orphan for `cls` (with `resident`, one whose
 * pages are still resident): exited threads' free slabs serve any class.
 * NULL when none. */
static struct hak_slab *claim_free_slab(struct hak_heap *h, unsigned cls, bool resident)
{
    enum hak_tier tier = hak_class_tier(cls);
    pthread_mutex_lock(&orphan_lock);
    for (struct hak_superslab *ss = orphans[tier]; ss; ss = ss->next) {
        uint32_t warm = ss->free_mask & ss->dirty_mask;
        if (ss->orphan_busy || !(resident ? warm : ss->free_mask)) continue;
        struct hak_slab *s = &ss->slabs[__builtin_ctz(warm ? warm : ss->free_mask)];
        slab_assign(ss, s, cls, h);
        claim_done(h, ss, 1);
        return s;
    }
    pthread_mutex_unlock(&orphan_lock);
    return NULL;
}

/* Looks at the next few of the class's full slabs for remote frees:
 * drained slabs move to the partial list (or back to their SuperSlab when
 * nothing in them is live), the others rotate to the tail.  Run on every
 * refill that needs another slab, so blocks freed by other threads do not
 * sit unused in full slabs while the owner carves fresh memory. */
static bool scan_full_for_remote(struct hak_heap *h, unsigned cls)
{
    struct hak_class_lists *l = &h->cls[cls];
    bool found = false;
    for (unsigned seen = 0; l->full && seen < 8; seen++) {
        struct hak_slab *s = l->full;
        if (!slab_drain_remote(s)) {
            l->full = s->next;
            continue;
        }
        found = true;
        struct hak_superslab *ss = ss_of(s);
        if (s->used == 0) {
            slab_release(h, ss, s);
        } else {
            list_remove(h, s);
            list_push(h, s, HAK_SLAB_PARTIAL);
        }
    }
    return found;
}

static uint32_t refill_batch(const struct hak_tcache *tc)
{
    return tc->cap > 2 ? tc->cap / 2 : 1;
}

/* Fills the thread cache of `cls` from heap `h` and returns one block, or
 * NULL when the OS has no memory left. */
static void *refill(struct hak_heap *h, unsigned cls)
{
    if (cls < HAK_NUM_TINY && !hak_cfg.tiny_use_superslab) {
        HAK_COUNT(early_class_disabled);
        cls = HAK_NUM_TINY;
    }
    struct hak_tcache *tc = &hak_tls_cache[cls];
    struct hak_class_lists *l = &h->cls[cls];
    enum hak_tier tier = hak_class_tier(cls);
    /* The stage that found the memory; counted once the blocks are taken. */
    unsigned stage = HAK_CTR_TIER(tiny_refill_slab_free, tier);
    uint32_t taken = 0;
    if (tc->head) HAK_COUNT_ID(HAK_CTR_TIER(tiny_refill_tcache, tier));
    else HAK_COUNT_ID(HAK_CTR_TIER(tiny_refill, tier));
    bool claimed = false;
    while (!tc->head) {
        struct hak_slab *s = l->active;
        if (s && !slab_resident_free(s) && s->bump < slab_end(ss_of(s), s) &&
            !(__atomic_load_n(&ss_of(s)->warm_mask, __ATOMIC_RELAXED) >>
                  hak_slab_index(ss_of(s), s) & 1) &&
            !atomic_load_explicit(hak_slab_remote(s), memory_order_relaxed)) {
            /* the active slab would carve pages never touched (or given
             * back): resident free blocks of the class first, a partial
             * slab's, else an orphaned slab's (one claim per refill) */
            struct hak_slab *p = l->partial;
            for (unsigned k = 0; p && !slab_resident_free(p) && k < 4; k++)
                p = p->next != l->partial ? p->next : NULL;
            if (p && slab_resident_free(p)) {
                list_remove(h, p);
                list_remove(h, s);
                list_push(h, s, HAK_SLAB_PARTIAL);
                l->partial = s->next; /* the carving slab goes to the tail */
                list_push(h, p, HAK_SLAB_ACTIVE);
                ss_of(p)->active_ms[hak_slab_index(ss_of(p), p)] = now32();
                s = p;
            } else if (!claimed && claim_orphan_slab(h, cls, true)) {
                claimed = true;
                HAK_COUNT_ID(HAK_CTR_TIER(tiny_refill_adopt, tier));
                continue;
            }
        }
        if (s) {
            uint32_t n = slab_take(s, tc, refill_batch(tc));
            if (n) {
                taken = n;
                HAK_COUNT_ID(stage);
                HAK_COUNT_ADD_ID(HAK_CTR_TIER(tiny_refill_blocks, tier), n);
                break;
            }
            if (slab_drain_remote(s)) {
                stage = HAK_CTR_TIER(tiny_refill_remote_drain, tier);
                continue;
            }
            HAK_COUNT(early_slab_exhausted);
            list_remove(h, s);
            list_push(h, s, HAK_SLAB_FULL);
        }
        stage = HAK_CTR_TIER(tiny_refill_partial, tier);
        if (scan_full_for_remote(h, cls) && l->partial)
            stage = HAK_CTR_TIER(tiny_refill_full_scan, tier);
        if ((s = l->partial) != NULL) {
            list_remove(h, s);
            list_push(h, s, HAK_SLAB_ACTIVE);
            ss_of(s)->active_ms[hak_slab_index(ss_of(s), s)] = now32();
            continue;
        }
        /* resident memory first (no fault): an owned free slab, an
         * orphaned slab with blocks of the class on its free or remote
         * list, an orphan's free slab; then an orphaned slab with any free
         * blocks of the class, any owned free slab, any orphan's free
         * slab, then the OS */
        bool fresh_ss = false;
        if (!(s = slab_new(h, cls, SLAB_RESIDENT, &fresh_ss))) {
            if (claim_orphan_slab(h, cls, true) ||
                (!(s = claim_free_slab(h, cls, true)) && claim_orphan_slab(h, cls, false))) {
                stage = HAK_CTR_TIER(tiny_refill_adopt, tier);
                HAK_COUNT_ID(stage);
                continue;
            }
            if (!s) s = slab_new(h, cls, SLAB_OWNED, &fresh_ss);
        }
        if (!s && !(s = claim_free_slab(h, cls, false))) {
            HAK_COUNT(early_no_orphan);
            if (!(s = slab_new(h, cls, SLAB_MAP, &fresh_ss))) {
                HAK_COUNT(early_refill_oom);
                return NULL;
            }
        }
        stage = fresh_ss ? HAK_CTR_TIER(tiny_refill_fresh_ss, tier)
                         : HAK_CTR_TIER(tiny_refill_fresh_slab, tier);
        list_push(h, s, HAK_SLAB_ACTIVE);
        ss_of(s)->active_ms[hak_slab_index(ss_of(s), s)] = now32();
    }
    void **b = tc->head;
    /* the cache may have held blocks already (a probe answered, a Tiny
     * request served by the Mid tier): checked as tcache_pop checks them */
    if (unlikely(b[1] != (void *)hak_free_key)) hak_cached_block_bad(b);
    tc->head = b[0];
    hak_tcache_room(&hak_tls, cls, 1 - (int64_t)taken); /* a miss: no hit to derive */
    b[1] = HAK_LIVE_MARK;
    return b;
}

/* ---- adaptive thread-cache capacity (docs/allocator.md, "Footprint") ----- */

/* A refill found the class's cache empty or a free found it full (the
 * owner, h->lock held).  Every second such miss between two probes doubles
 * the capacity, up to the class's configured bound, so a runaway rate
 * never grows a cache past it. */
static void tcache_miss(unsigned cls)
{
    struct hak_tcache_adapt *a = &hak_tls.adapt[cls];
    if (++a->misses & 1) return;
    uint32_t bound = hak_tcache_cap(cls);
    if (a->target >= bound) return;
    hak_tcache_set_target(cls, a->target > bound / 2 ? bound : a->target * 2);
    hak_tcache_set_cap(&hak_tls, cls, a->target);
    HAK_COUNT(tcache_grows);
}

void *hak_slab_alloc_slow(unsigned cls)
{
    struct hak_heap *h = hak_tls_heap;
    if (unlikely(!h) && hak_tls.exiting) {
        /* the thread's caches have capacity 0 now: a refill takes one block */
        h = hak_heap_late_lock();
        void *p = refill(h, cls);
        hak_heap_late_unlock();
        hak_decay_start();
        return p;
    }
    if (!h && !(h = hak_heap_get())) return NULL;
    pthread_mutex_lock(&h->lock);
    hak_heap_answer_probe(h);
    if (!hak_tls_cache[cls].head) tcache_miss(cls);
    void *p = refill(h, cls);
    pthread_mutex_unlock(&h->lock);
    hak_decay_start();
    hak_decay_activity();
    hak_cached_event_done();
    return p;
}

/* ---- frees ---------------------------------------------------------------- */

/* `k` blocks of slab s came back from the owner's cache (loose). */
static inline void slab_blocks_back(struct hak_heap *h, struct hak_superslab *ss,
                                    struct hak_slab *s, uint32_t k)
{
    s->used -= k;
    if (s->used == 0 && s->list != HAK_SLAB_ACTIVE) {
        slab_release(h, ss, s);
        return;
    }
    if (s->used) purge_note(ss->hdr.tier);
    if (s->list == HAK_SLAB_FULL) {
        list_remove(h, s);
        list_push(h, s, HAK_SLAB_PARTIAL);
    }
}

/* The slow ends of a remote free, out of line so that the push itself
 * needs no stack frame. */
static HAK_COLD void remote_double_free(void *p)
{
    hak_fatal_pointer("free", "double free of", p);
}

/* The push of a remote free that the one-exchange path left: its
 * compare-and-swap failed (`busy`: another thread pushed, or the owner
 * drained, in between), or the list looked empty, so this push may start
 * it.  What a started list needs is done before the push, while the block
 * being pushed still pins the SuperSlab (an orphan's slab advertises its
 * class; the tier is read): once the block is on the list a pass may drain
 * it, empty the slab and unmap the SuperSlab, so nothing after the push
 * touches the SuperSlab. */
static HAK_NOINLINE void remote_push_slow(struct hak_superslab *ss, struct hak_slab *s, void **b,
                                          void *old, bool busy)
{
    HAK_COUNT(free_ss_remote);
    if (busy) HAK_COUNT(early_remote_busy);
    enum hak_tier tier = (enum hak_tier)ss->hdr.tier;
    for (;;) {
        if (unlikely(old == b)) remote_double_free(b);
        if (!old) orphan_note_free(ss, s);
        b[0] = old;
        if (atomic_compare_exchange_weak_explicit(hak_slab_remote(s), &old, b, memory_order_release,
                                                  memory_order_relaxed))
            break;
        HAK_COUNT(early_remote_busy);
    }
    if (!old && !atomic_load_explicit(&remote_pending[tier], memory_order_relaxed)) {
        atomic_store_explicit(&remote_pending[tier], 1, memory_order_relaxed);
        hak_decay_cached(); /* decay must come for the list */
    }
}

#if HAKMEM_COUNTERS
/* The count of a remote free by a thread without a counter slot: slot 0
 * takes it with a locked add.  A thread that keeps freeing without
 * allocating (a consumer) gets its heap at its SLOT_AFTER-th such free,
 * and with the heap a slot of its own, given back at its exit like any
 * thread's; one that frees a few blocks and exits takes none. */
static HAK_NOINLINE void remote_count_shared(void)
{
    enum { SLOT_AFTER = 64 };
    if (++hak_tls.shared_frees == SLOT_AFTER && !hak_tls_heap && !hak_tls.exiting) hak_heap_get();
    HAK_COUNT(free_ss_remote);
}
#endif

/* A block freed by another thread: one atomic push onto the slab's remote
 * list (ss_remote); the owner drains it when it refills. */
void hak_slab_free_remote(void *p, struct hak_slab *s, struct hak_superslab *ss)
{
    void **b = p;
    /* a block already back in its slab was freed before; one freed twice
     * before its owner drained it is caught by the drain */
    if (unlikely(!block_is_out(ss, s, p))) remote_double_free(p);
    void *old = atomic_load_explicit(hak_slab_remote(s), memory_order_relaxed);
    if (unlikely(old == p)) remote_double_free(p);
    if (unlikely(!old)) {
        remote_push_slow(ss, s, b, old, false); /* may start the list */
        return;
    }
    b[0] = old;
    if (unlikely(!atomic_compare_exchange_strong_explicit(hak_slab_remote(s), &old, b, memory_order_release,
                                                          memory_order_relaxed))) {
        remote_push_slow(ss, s, b, old, true);
        return;
    }
    /* counted last (the thread's own slot, not the SuperSlab): the count's
     * out-of-line case is then a tail call, and the push needs no frame */
#if HAKMEM_COUNTERS
    if (likely(hak_ctr != NULL)) hak_ctr[HAK_CTR_free_ss_remote]++;
    else remote_count_shared();
#endif
}

/* A free of a block of the calling thread's own SuperSlab that the fast
 * path did not take: a double free (the block heads the cache), a full
 * cache, or a reclaimer's probe (fast_cache is hak_tcache_none).  Under the heap's lock, so a
 * reclaimer never works on the cache at the same time. */
void hak_slab_free_owned(struct hak_superslab *ss, struct hak_slab *s, void *p, const char *fn)
{
    struct hak_heap *h = hak_tls_heap;
    struct hak_tcache *tc = &hak_tls_cache[s->cls];
    void **b = p;
    pthread_mutex_lock(&h->lock);
    hak_heap_answer_probe(h);
    /* a block back in its slab, or one the cache may hold (it heads it, or
     * carries the key): freed before */
    if (b[1] == (void *)hak_free_key || b == tc->head || !block_is_out(ss, s, p))
        hak_free_key_check(fn, ss, s, p);
    if (tc->pushes == tc->limit) tcache_miss(s->cls);
    bool overflow = tc->pushes == tc->limit;
    if (overflow) {
        hak_tcache_overflow(tc, p);
    } else {
        b[0] = tc->head;
        b[1] = (void *)hak_free_key;
        tc->head = b;
        tc->pushes++; /* free_tls_sll */
    }
    pthread_mutex_unlock(&h->lock);
    if (overflow) hak_decay_activity();
    hak_cached_event_done();
}

/* A block the trim found back in its slab already (its out bit clear): a
 * second free, or a pointer past the slab's carved blocks.  Stops. */
static HAK_COLD __attribute__((noreturn)) void trim_bad_block(const struct hak_slab *s, void *p)
{
    hak_fatal_pointer("free", (char *)p < s->bump ? "double free of" : "invalid pointer", p);
}

/* Returns the first *n (at most INT32_MAX) blocks of the list at `rest` (all of it if shorter)
 * to their slabs (h the owner, h->lock held); returns the list that
 * follows them, and how many went in *n.  A cache
 * freed in a burst holds runs of blocks of one slab: each block's out bit
 * is checked and cleared (ss_local), and no block is written; the slab is
 * marked loose, and the next refill takes its free blocks by their clear
 * bits, in address order (slab_take_off_list). */
static void **blocks_return(struct hak_heap *h, void **rest, uint32_t *n)
{
    uint32_t left = *n;
    while (left && rest) {
        struct hak_superslab *ss = ss_of(rest);
        struct hak_slab *s = hak_slab_of(ss, rest);
        _Atomic(uint64_t) *base = hak_slab_out_base(ss, s);
        /* in locals: the stores into the blocks could alias the headers */
        const uintptr_t off_mask = hak_slab_off_mask(ss);
        const uintptr_t slab_lo = (uintptr_t)rest & ~off_mask;
        const uint64_t magic = s->div_magic;
        const uint32_t before = left;
        /* an empty asm makes base opaque: GCC keeps it in one register
         * instead of adding the slab's word offset to ss for every block */
        __asm__("" : "+r"(base));
        /* the block's offset in the slab: its index, and whether the next
         * block is in the same slab (NULL is not).  Added to the slab's
         * negated base, one LEA into the multiply's register, where a
         * subtraction needs a copy first (the empty asm keeps GCC from
         * turning the sum back into one). */
        uintptr_t neg_lo = -slab_lo;
        __asm__("" : "+r"(neg_lo));
        uintptr_t off = (uintptr_t)rest + neg_lo;
        /* one block: its bit checked and cleared, the next one's offset */
#define RETURN_ONE()                                                                    \
    do {                                                                                \
        void **next = rest[0];                                                          \
        uint64_t idx = mul_hi(off, magic);                                              \
        if (unlikely(!out_test_clear(base, idx))) trim_bad_block(s, rest);              \
        rest = next;                                                                    \
        off = (uintptr_t)rest + neg_lo;                                                 \
    } while (0)
        /* two blocks a step while the budget holds two: one count and one
         * test a pair (`pair` is the budget less the step's two) */
        int32_t pair = (int32_t)left - 2;
        for (;;) {
            if (pair < 0) { /* a budget of one (-1) or none (-2) left */
                if (pair == -1) RETURN_ONE();
                left = 0;
                break;
            }
            RETURN_ONE();
            if (off > off_mask) {
                left = (uint32_t)pair + 1;
                break;
            }
            RETURN_ONE();
            if (off > off_mask) {
                left = (uint32_t)pair;
                break;
            }
            pair -= 2;
        }
#undef RETURN_ONE
        /* loose: the next refill finds them by their clear bits, in
         * address order (set before a release clears the slab's masks) */
        unsigned i = hak_slab_index(ss, s);
        if (!slab_bit(&ss->loose_mask, i)) slab_bit_set(&ss->loose_mask, i, true);
        slab_blocks_back(h, ss, s, before - left);
    }
    *n -= left;
    HAK_COUNT_ADD(free_ss_local, *n);
    return rest;
}

/* Keeps the oldest `keep` blocks of thread t's cache of class `cls` and
 * returns the newest others to their slabs; returns how many went.  Returning from the head
 * needs no walk to a cut: the loop that returns the blocks finds the new
 * head.  h->lock held. */
static uint32_t tcache_trim(struct hak_heap *h, struct hak_thread *t, unsigned cls, uint32_t keep)
{
    struct hak_tcache *tc = &t->caches[cls];
    uint32_t count = hak_tcache_count(tc);
    if (count <= keep) return 0;
    uint32_t n = count - keep;
    tc->head = blocks_return(h, tc->head, &n);
    hak_tcache_room(t, cls, n);
    return n;
}

/* Moves the newest half of a full thread cache (with `p`) back to the
 * slabs.  h->lock held. */
void hak_tcache_overflow(struct hak_tcache *tc, void *p)
{
    void **b = p;
    b[0] = tc->head;
    b[1] = (void *)hak_free_key;
    tc->head = b;
    tc->pushes++; /* free_tls_sll; the cache holds cap + 1 until the trim */
    HAK_COUNT_FAST(early_tcache_full);
    tcache_trim(hak_tls_heap, &hak_tls, (unsigned)(tc - hak_tls_cache), tc->cap / 2);
}

/* Returns every block of the caches of classes [first, last) to its slab
 * and the bytes they held.  `caches` is the owner's (h->lock held, and the
 * owner out of its fast path when it is another thread's). */
static size_t tcache_return(struct hak_heap *h, struct hak_thread *t, unsigned first,
                            unsigned last)
{
    size_t bytes = 0;
    for (unsigned c = first; c < last; c++)
        bytes += (size_t)tcache_trim(h, t, c, 0) * hak_class_size[c];
    return bytes;
}

/* Returns the blocks of another thread's Tiny caches behind the first two
 * of each, and the bytes they held (h->lock held, a probe standing that a
 * barrier covers, `busy` clear).  The owner may still be inside one Tiny
 * cache operation that read fast_cache before the barrier (pre-empted, or
 * in a signal handler), and it has no flag that says so (hak_cache_enter):
 * a pop of the head A, which reads A's link, or a push onto A.  Either touches only the
 * head and A's link, so the blocks behind the second are the reclaimer's,
 * and the link cut there (the second block's) is written by no one else.
 * A's link is read before A's word 1: the pop writes HAK_LIVE_MARK there
 * before the head moves, and the program can write A only after that, so
 * while word 1 still holds the key the link read is A's (stores become
 * visible in program order: x86; elsewhere the Tiny operations set `busy`
 * too).  `head`, `limit` and `pushes` stay the owner's: what went is
 * counted in `taken` (hak_tcache_take), which the owner's answer to the
 * probe turns into room.  A program that writes a block it was just given
 * with non-temporal stores and no fence could show the reclaimer its own
 * data as A's link while the mark is still on its way: hakmem assumes
 * ordinary stores. */
static size_t tcache_steal(struct hak_heap *h, struct hak_thread *t)
{
    size_t bytes = 0;
    for (unsigned c = 0; c < HAK_NUM_TINY; c++) {
        void ***head = (void ***)&t->caches[c].head;
        void **a = __atomic_load_n(head, __ATOMIC_ACQUIRE);
        if (!a) continue;
        void **second = __atomic_load_n((void ***)&a[0], __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&a[1], __ATOMIC_ACQUIRE) != (void *)hak_free_key) {
            HAK_COUNT(quiet_reclaim_busy); /* A on its way out: the next pass */
            continue;
        }
        void **rest = second ? second[0] : NULL;
        if (!rest) continue;
        uint32_t n = INT32_MAX; /* to the end of the list (the budget's pairs are signed) */
        blocks_return(h, rest, &n);
        second[0] = NULL;
        hak_tcache_take(t, c, n);
        bytes += (size_t)n * hak_class_size[c];
    }
    return bytes;
}

/* Returns every block the calling thread caches of classes [first, last). */
void hak_tcache_return_all(struct hak_heap *h, unsigned first, unsigned last)
{
    pthread_mutex_lock(&h->lock);
    hak_heap_answer_probe(h);
    tcache_return(h, &hak_tls, first, last);
    pthread_mutex_unlock(&h->lock);
    hak_cached_event_done();
}

static bool tcache_holds(const struct hak_tcache *tc, const void *p)
{
    uint32_t n = 0, count = hak_tcache_count(tc);
    for (void **b = tc->head; b && n <= count; b = b[0], n++)
        if (b == p) return true;
    return false;
}

/* The block may be free already: word 1 holds the free key, it heads the
 * cache, or its bit says it is back in its slab.  Stops the process if it
 * is in the owner's (the calling thread's) cache or back in its slab. */
void hak_free_key_check(const char *fn, struct hak_superslab *ss, struct hak_slab *s, void *p)
{
    if (tcache_holds(&hak_tls_cache[s->cls], p) || !hak_block_is_out(ss, s, p))
        hak_fatal_pointer(fn, "double free of", p);
    HAK_COUNT_FAST(early_double_free_suspect);
}

/* Also a refill's: a block its slab holds as free without the key. */
void *hak_cached_block_bad(void *p)
{
    hak_fatal_pointer("malloc", "double free (or write after free) of", p);
}

/* HAKMEM_CHECK=1 (every free, as the thread caches are off): the block must
 * have been carved from the slab and be out of it now.  The default free
 * path has already checked its class and its boundary. */
void hak_slab_check_block(const char *fn, struct hak_superslab *ss, struct hak_slab *s, void *p)
{
    if ((char *)p >= s->bump) hak_fatal_pointer(fn, "invalid pointer", p);
    if (!hak_block_is_out(ss, s, p)) hak_fatal_pointer(fn, "double free of", p);
}

/* The slow end of hak_slab_check_live: p is not plainly a live block of
 * slab s.  Stops the process when it is no block, is back in its slab, or
 * (free key in word 1) sits in the calling thread's cache; a live block
 * whose data happens to hold the key returns. */
void hak_slab_check_slow(const char *fn, struct hak_superslab *ss, struct hak_slab *s, void *p)
{
    if (hak_block_misaligned(ss, s, p) || (char *)p >= s->bump)
        hak_fatal_pointer(fn, "invalid pointer", p);
    if (!block_is_out(ss, s, p)) hak_fatal_pointer(fn, "freed pointer", p);
    struct hak_heap *h = hak_tls_heap;
    if (h && atomic_load_explicit(&s->owner, memory_order_relaxed) == h) {
        pthread_mutex_lock(&h->lock); /* no reclaimer walks the cache meanwhile */
        bool cached = tcache_holds(&hak_tls_cache[s->cls], p);
        pthread_mutex_unlock(&h->lock);
        if (cached) hak_fatal_pointer(fn, "freed pointer", p);
    }
}

/* ---- collection, decay, flush, orphaning ---------------------------------- */

/* Resident free slabs, per tier, under which an exiting thread leaves its
 * free slabs resident for the next threads' claims instead of giving their
 * pages back (docs/allocator.md, "Exited threads"): Larson's successor
 * threads fault them in again at once otherwise; the Tiny tier keeps 2 MiB,
 * Larson's peak grows with more.  Mid blocks are large, so a wave of threads
 * that each free a burst of them leaves tens of MiB that the next wave takes
 * again: the Mid tier keeps 32 MiB (thread churn: half the page faults, the
 * same peak). */
static const size_t exit_keep_bytes[2] = {(size_t)2 << 20, (size_t)32 << 20};

static inline bool exit_keeps(enum hak_tier tier)
{
    return atomic_load_explicit(&dirty_bytes[tier], memory_order_relaxed) < exit_keep_bytes[tier];
}

/* Drains the remote list of an assigned slab of heap h (NULL: an orphan's
 * slab, or a slab of a heap being orphaned) and purges its free pages; an
 * emptied slab is unassigned instead.  Returns the bytes given back; sets
 * *unassigned when the slab went back to its SuperSlab (after which a slab
 * of an orphan must not be read: a pass may unmap the orphan) and *emptied
 * when that left the SuperSlab with no live slab. */
static size_t slab_collect(struct hak_heap *h, struct hak_superslab *ss, struct hak_slab *s,
                           uint64_t cutoff, bool purge, bool idle_owner, bool *unassigned,
                           bool *emptied)
{
    uint32_t drained = slab_drain_remote(s);
    if (s->used == 0) {
        *unassigned = true;
        *emptied = slab_unassign(h, ss, s, true);
        /* other threads' frees emptied it and its owner is gone or sleeps:
         * no refill of the owner's wants it, so it goes with this pass;
         * an orphan's Mid slab stays while the tier's resident free slabs
         * are under the exit's bound, for the next threads' claims (thread
         * churn's faults; Larson's Tiny peak grows when Tiny slabs stay) */
        bool stays = !h && ss->hdr.tier == HAK_TIER_MID && exit_keeps(HAK_TIER_MID);
        if (drained && idle_owner && !stays) ss->free_ms[hak_slab_index(ss, s)] = (uint32_t)cutoff;
        return 0;
    }
    if (drained && h && s->list == HAK_SLAB_FULL) {
        list_remove(h, s);
        list_push(h, s, HAK_SLAB_PARTIAL);
    }
    /* a decay pass leaves the slab refills carve from, slabs they used
     * lately and slabs orphaned lately (the next threads claim them) */
    if (purge && (cutoff == HAK_RELEASE_ALL ||
                  ((!h || s->list != HAK_SLAB_ACTIVE) &&
                   aged(ss->active_ms[hak_slab_index(ss, s)], cutoff))))
        return slab_purge(ss, s);
    return 0;
}

/* Collects the slabs of one SuperSlab that `owner` owns (its heap, or
 * HAK_OWNER_ORPHAN), h being their heap for the lists (or NULL); with
 * `decommit`, returns the pages of the free slabs freed at or before
 * `cutoff` to the OS, and with `idle_owner` those the drain of remote
 * frees emptied too.  Returns the bytes given back. */
static size_t ss_collect(struct hak_heap *h, struct hak_heap *owner, struct hak_superslab *ss,
                         bool decommit, uint64_t cutoff, bool purge, bool idle_owner)
{
    size_t bytes = 0;
    for (unsigned i = 1; i < ss->nslabs; i++) {
        struct hak_slab *s = &ss->slabs[i];
        if (slab_owner(s) != owner || s->cls == HAK_CLASS_NONE) continue;
        bool unassigned = false, emptied = false;
        bytes += slab_collect(h, ss, s, cutoff, purge, idle_owner, &unassigned, &emptied);
        if (emptied && h) h->empty_ss[ss->hdr.tier]++;
    }
    return bytes + (decommit ? ss_decommit_free_slabs(ss, cutoff) : 0);
}

/* Collects the slabs h claimed from orphans, in its lists of the tier;
 * emptied ones go back to their orphans. */
static size_t heap_claimed_release(struct hak_heap *h, enum hak_tier tier, uint64_t cutoff)
{
    unsigned first = tier == HAK_TIER_TINY ? 0 : HAK_NUM_TINY;
    unsigned last = tier == HAK_TIER_TINY ? HAK_NUM_TINY : HAK_NUM_CLASSES;
    size_t bytes = 0;
    for (unsigned c = first; c < last && h->claimed[tier]; c++) {
        struct hak_class_lists *l = &h->cls[c];
        struct hak_slab *one[1] = {l->active};
        struct hak_slab **heads[3] = {&one[0], &l->partial, &l->full};
        for (unsigned k = 0; k < 3; k++) {
            struct hak_slab *s = *heads[k];
            unsigned n = 0;
            if (s) do n++; while (k && (s = s->next) != *heads[k]);
            s = *heads[k];
            /* a collected slab may leave the list (freed, or moved to
             * partial): the next one is read first */
            for (; n; n--) {
                struct hak_slab *next = s->next;
                struct hak_superslab *ss = ss_of(s);
                if (ss_orphaned(ss)) {
                    bool unassigned = false, emptied;
                    bytes += slab_collect(h, ss, s, cutoff, hak_cfg.purge, false, &unassigned,
                                          &emptied);
                    if (unassigned) h->claimed[tier]--;
                }
                s = next;
            }
        }
    }
    return bytes;
}

/* Collects a heap's SuperSlabs of one tier (h->lock or late_lock held):
 * free slabs and empty SuperSlabs freed at or before `cutoff` go back, and
 * with `owner_waits` (the owner made no call since a probe) the slabs other
 * threads' frees emptied. */
static size_t heap_tier_release(struct hak_heap *h, enum hak_tier tier, uint64_t cutoff,
                                bool owner_waits)
{
    size_t bytes = h->unmapped_bytes[tier]; /* SuperSlabs the cache drain emptied */
    h->unmapped_bytes[tier] = 0;
    struct hak_superslab *ss = h->ss[tier], *next;
    for (; ss; ss = next) {
        next = ss->next;
        bytes += ss_collect(h, h, ss, true, cutoff, hak_cfg.purge, owner_waits);
        if (ss->live_slabs == 0 && aged(ss->empty_ms, cutoff)) {
            h->empty_ss[tier]--;
            ss_unlink(&h->ss[tier], ss);
            bytes += ss_unmap(ss);
        }
    }
    return bytes + heap_claimed_release(h, tier, cutoff);
}

/* The orphaned SuperSlabs of a tier, collected the same way.  Each stays
 * on the list while it is collected, marked busy so that no refill adopts
 * it meanwhile: the others remain adoptable, and a wave of new threads
 * does not map fresh SuperSlabs while a pass purges the orphans.  A fork
 * in the middle leaves that one busy in the child, never adopted there
 * (its blocks stay valid; the pass used to hold the whole list then). */
static struct hak_superslab *orphan_next_idle(struct hak_superslab *ss)
{
    while (ss && ss->orphan_busy) ss = ss->next;
    if (ss) ss->orphan_busy = 1;
    return ss;
}

static size_t orphans_release(enum hak_tier tier, uint64_t cutoff)
{
    size_t bytes = 0;
    pthread_mutex_lock(&orphan_lock);
    struct hak_superslab *ss = orphan_next_idle(orphans[tier]), *next;
    pthread_mutex_unlock(&orphan_lock);
    for (; ss; ss = next) {
        bytes += ss_collect(NULL, HAK_OWNER_ORPHAN, ss, true, cutoff, hak_cfg.purge, true);
        orphan_note_classes(ss);
        pthread_mutex_lock(&orphan_lock);
        bool unmap = ss->live_slabs == 0 && aged(ss->empty_ms, cutoff);
        next = orphan_next_idle(ss->next);
        ss->orphan_busy = 0;
        if (unmap) {
            ss_unlink(&orphans[tier], ss);
            orphan_slot_give(tier, ss);
        }
        pthread_mutex_unlock(&orphan_lock);
        if (unmap) bytes += ss_unmap(ss);
    }
    return bytes;
}

/* ---- quiet threads: reclaiming other threads' caches --------------------- */
/*
 * A reclaimer (the decay worker, or a thread's flush) empties another
 * thread's caches without its help (docs/allocator.md, "Quiet threads"):
 *   1. probe: under h->lock, the owner's fast_cache to hak_tcache_none and
 *      its `reclaim` flag set, so its next fast-path operation takes a slow path, which
 *      takes h->lock and undoes the probe (hak_heap_answer_probe);
 *   2. membarrier: every operation the owner starts afterwards sees the
 *      probe, and its `busy` stores (Mid and Large operations) are visible;
 *   3. under h->lock, if the probe is still set (the owner made no call
 *      since) and `busy` is clear, the Mid caches' blocks and the Tiny
 *      caches' blocks behind the first two of each go back to their slabs
 *      (tcache_steal: the one Tiny operation the owner may still be inside
 *      touches no others).
 * Without membarrier only the owner empties its caches, at its next call.
 */

static _Atomic uint64_t probe_gen; /* numbers probes, to know which a barrier covers */

/* What a thread caches of the tier, read racily (a hint), less `keep`
 * blocks of each class when `keep` (what a reclaimer can take: the Tiny
 * blocks behind the first two of each class, tcache_steal).  The Mid
 * tier's reclaim takes the thread's Large span cache too, so it counts
 * here. */
static size_t tier_cache_bytes(struct hak_thread *t, enum hak_tier tier, bool keep)
{
    uint64_t kept = keep && tier == HAK_TIER_TINY ? 2 : 0;
    unsigned first = tier == HAK_TIER_TINY ? 0 : HAK_NUM_TINY;
    unsigned last = tier == HAK_TIER_TINY ? HAK_NUM_TINY : HAK_NUM_CLASSES;
    size_t bytes = tier == HAK_TIER_MID ? __atomic_load_n(&t->large.n, __ATOMIC_RELAXED) : 0;
    struct hak_tcache *caches = t->caches;
    for (unsigned c = first; c < last; c++) {
        uint64_t room = __atomic_load_n(&caches[c].limit, __ATOMIC_RELAXED) -
                        __atomic_load_n(&caches[c].pushes, __ATOMIC_RELAXED) +
                        __atomic_load_n(&caches[c].taken, __ATOMIC_RELAXED);
        uint32_t cap = __atomic_load_n(&caches[c].cap, __ATOMIC_RELAXED);
        bytes += (size_t)(room + kept < cap ? cap - room - kept : 0) * hak_class_size[c];
    }
    return bytes;
}

struct reclaim {
    enum hak_tier tier;
    uint64_t cutoff, now, gen;
    bool force;   /* a flush: probe now, wait for locks */
    bool barrier; /* membarrier ran after every probe numbered <= gen */
    bool pending; /* some heap holds a probe and cached blocks */
    size_t bytes, cached;
};

/* Step 1 (h->lock held).  The owner's caches themselves are left alone:
 * from its next fast-path operation on, it sees hak_tcache_none. */
static void heap_probe(struct hak_heap *h, uint64_t now)
{
    struct hak_thread *t = h->thread;
    if (atomic_load_explicit(&t->reclaim, memory_order_relaxed)) return;
    __atomic_store_n(&t->fast_cache, (struct hak_tcache *)hak_tcache_none, __ATOMIC_RELAXED);
    h->probe_ms = now;
    h->probe_gen = atomic_fetch_add(&probe_gen, 1) + 1;
    atomic_store_explicit(&t->reclaim, 1, memory_order_relaxed);
}

static bool heap_lock_for(struct hak_heap *h, const struct reclaim *r)
{
    if (r->force) pthread_mutex_lock(&h->lock);
    else if (pthread_mutex_trylock(&h->lock) != 0) return false; /* the owner is in a slow path */
    if (!h->released) return true;
    pthread_mutex_unlock(&h->lock);
    return false;
}

static void probe_cb(struct hak_heap *h, void *arg)
{
    struct reclaim *r = arg;
    if (h == hak_tls_heap || !heap_lock_for(h, r)) return;
    if (tier_cache_bytes(h->thread, r->tier, false)) heap_probe(h, r->now);
    pthread_mutex_unlock(&h->lock);
}

static void pending_cb(struct hak_heap *h, void *arg)
{
    struct reclaim *r = arg;
    if (h != hak_tls_heap && atomic_load_explicit(&h->thread->reclaim, memory_order_relaxed) &&
        tier_cache_bytes(h->thread, r->tier, true))
        r->pending = true;
}

/* Step 3, then the heap's free slabs and empty SuperSlabs; a heap with
 * cached blocks and no probe gets one for the next pass. */
static void reclaim_cb(struct hak_heap *h, void *arg)
{
    struct reclaim *r = arg;
    if (!heap_lock_for(h, r)) {
        if (!h->released) atomic_store_explicit(&remote_pending[r->tier], 1, memory_order_relaxed);
        return; /* its remote lists wait for the next pass */
    }
    struct hak_thread *t = h->thread;
    bool mine = h == hak_tls_heap;
    if (!mine && r->barrier && atomic_load_explicit(&t->reclaim, memory_order_relaxed) &&
        h->probe_gen <= r->gen && (r->cutoff == HAK_RELEASE_ALL || h->probe_ms <= r->cutoff)) {
        if (atomic_load_explicit(&t->busy, memory_order_acquire)) {
            HAK_COUNT(quiet_reclaim_busy);
        } else {
            size_t stolen = r->tier == HAK_TIER_TINY
                                ? tcache_steal(h, t)
                                : tcache_return(h, t, HAK_NUM_TINY, HAK_NUM_CLASSES) +
                                      hak_large_tcache_reclaim(&t->large);
            if (stolen && h->reclaimed_gen != h->probe_gen) HAK_COUNT(quiet_reclaims); /* once per probe, not per tier */
            if (stolen) h->reclaimed_gen = h->probe_gen;
            HAK_COUNT_ADD(quiet_reclaim_bytes, stolen);
        }
    }
    /* an owner that made no call for a quarter of HAKMEM_DECAY_MS since a probe refills
     * nothing from its free slabs: they (and its slabs' free pages) need not age the rest;
     * a thread merely waiting for a CPU answers well within that.  One that made none since
     * an earlier pass's probe (not the other tier's of this pass) loses the slabs other
     * threads' frees emptied at once: a thread that frees its own blocks keeps its slabs */
    bool standing = !mine && atomic_load_explicit(&t->reclaim, memory_order_relaxed) &&
                    h->probe_gen <= r->gen;
    bool waits = standing && h->probe_ms < r->now;
    bool quiet = standing && r->now - h->probe_ms >= (uint64_t)hak_cfg.decay_ms / 4;
    r->bytes += heap_tier_release(h, r->tier, quiet ? HAK_RELEASE_ALL : r->cutoff, waits);
    /* a thread with anything cached is probed (its answer, or none, says
     * whether it is quiet); what no reclaimer takes is not counted */
    if (!mine && !r->force && tier_cache_bytes(t, r->tier, false)) heap_probe(h, r->now);
    r->cached += mine ? 0 : tier_cache_bytes(t, r->tier, true);
    pthread_mutex_unlock(&h->lock);
}

/* One tier's release across every heap, the late heap and the orphans. */
static size_t tier_release(enum hak_tier tier, uint64_t cutoff, bool force)
{
    struct reclaim r = {.tier = tier, .cutoff = cutoff, .now = hak_decay_now(), .force = force};
    atomic_store_explicit(&remote_pending[tier], 0, memory_order_relaxed);
    if (cutoff == HAK_RELEASE_ALL) atomic_store_explicit(&purge_pending[tier], 0, memory_order_relaxed);
    if (force) hak_heaps_for_each(probe_cb, &r);
    else hak_heaps_for_each(pending_cb, &r);
    r.gen = atomic_load(&probe_gen);
    if (force || r.pending) r.barrier = hak_os_membarrier();
    hak_heaps_for_each(reclaim_cb, &r);
    r.bytes += heap_tier_release(hak_heap_late_lock(), tier, cutoff, false);
    hak_heap_late_unlock();
    r.bytes += orphans_release(tier, cutoff);
    atomic_store_explicit(&threads_cached[tier], r.cached, memory_order_relaxed);
    return r.bytes;
}

/* A check between passes: a heap whose owner made no call since a probe
 * of an earlier pass loses the slabs other threads' frees emptied, as at
 * a pass, without the pass's probes, steals and barrier.  Larson's main
 * thread waits for its workers while they free its blocks and carve slabs
 * of their own: its slabs go back a quarter of a pass interval after the
 * probe instead of a whole one. */
static void waiting_cb(struct hak_heap *h, void *arg)
{
    struct reclaim *r = arg;
    struct hak_thread *t = h->thread;
    if (h == hak_tls_heap || !atomic_load_explicit(&t->reclaim, memory_order_relaxed) ||
        !heap_lock_for(h, r))
        return;
    if (atomic_load_explicit(&t->reclaim, memory_order_relaxed) && h->probe_gen <= r->gen &&
        h->probe_ms < r->now) {
        bool quiet = r->now - h->probe_ms >= (uint64_t)hak_cfg.decay_ms / 4;
        r->bytes += heap_tier_release(h, r->tier, quiet ? HAK_RELEASE_ALL : r->cutoff, true);
    }
    pthread_mutex_unlock(&h->lock);
}

static size_t tier_release_waiting(enum hak_tier tier, uint64_t cutoff)
{
    struct reclaim r = {.tier = tier, .cutoff = cutoff, .now = hak_decay_now()};
    r.gen = atomic_load(&probe_gen);
    hak_heaps_for_each(waiting_cb, &r);
    HAK_COUNT_ADD_ID(HAK_CTR_tiny_released_decay + 4 * tier + HAK_RELEASE_DECAY, r.bytes);
    return r.bytes;
}

size_t hak_tiny_release_waiting(uint64_t cutoff)
{
    return tier_release_waiting(HAK_TIER_TINY, cutoff);
}

size_t hak_mid_release_waiting(uint64_t cutoff)
{
    return tier_release_waiting(HAK_TIER_MID, cutoff);
}

/* A flush reaches every other live thread's caches of the tier. */
size_t hak_slab_flush_others(enum hak_tier tier)
{
    return tier_release(tier, HAK_RELEASE_ALL, true);
}

/* The decay rows of the Tiny and Mid tiers (decay.c's tiers[]). */
static size_t slab_release_counted(enum hak_tier tier, uint64_t cutoff, enum hak_release_why why)
{
    size_t bytes = tier_release(tier, cutoff, false);
    HAK_COUNT_ADD_ID(HAK_CTR_tiny_released_decay + 4 * tier + why, bytes);
    return bytes;
}

size_t hak_tiny_release(uint64_t cutoff, enum hak_release_why why)
{
    return slab_release_counted(HAK_TIER_TINY, cutoff, why);
}

size_t hak_mid_release(uint64_t cutoff, enum hak_release_why why)
{
    return slab_release_counted(HAK_TIER_MID, cutoff, why);
}

/* Free slabs, other threads' cached blocks as the last pass saw them, a
 * byte for remote lists started since and a byte for slabs that got free
 * blocks back since the last pass that purged everything: while any is
 * non-zero, decay keeps running passes. */
static size_t tier_cached(enum hak_tier tier)
{
    return atomic_load_explicit(&dirty_bytes[tier], memory_order_relaxed) +
           atomic_load_explicit(&threads_cached[tier], memory_order_relaxed) +
           (size_t)atomic_load_explicit(&remote_pending[tier], memory_order_relaxed) +
           (size_t)atomic_load_explicit(&purge_pending[tier], memory_order_relaxed);
}

size_t hak_tiny_cached(void)
{
    return tier_cached(HAK_TIER_TINY);
}

size_t hak_mid_cached(void)
{
    return tier_cached(HAK_TIER_MID);
}

/* The owner's answer to a probe (its slow path, h->lock held): the caps
 * come back.  Without membarrier no one else may empty the caches, so an
 * owner back from a quiet spell (probe older than HAKMEM_DECAY_MS) does it. */
void hak_heap_answer_probe(struct hak_heap *h)
{
    if (likely(!atomic_load_explicit(&hak_tls.reclaim, memory_order_relaxed))) return;
    if (hak_os_membarrier_missing() && hak_decay_now() - h->probe_ms >= (uint64_t)hak_cfg.decay_ms)
        tcache_return(h, &hak_tls, 0, HAK_NUM_CLASSES);
    /* A probe closes the adaptive window: a class with no miss since the
     * last one halves its capacity and trims its cache to it.  What a
     * reclaimer took becomes room first. */
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        hak_tcache_taken_back(c);
        struct hak_tcache_adapt *a = &hak_tls.adapt[c];
        uint32_t floor = hak_tcache_floor(c);
        if (!a->misses && a->target > floor) {
            hak_tcache_set_target(c, a->target / 2 > floor ? a->target / 2 : floor);
            HAK_COUNT(tcache_shrinks);
            HAK_COUNT_ADD(tcache_trimmed, tcache_trim(h, &hak_tls, c, a->target));
        }
        a->misses = 0;
        hak_tcache_set_cap(&hak_tls, c, a->target);
    }
    hak_tls.fast_cache = hak_tls_cache;
    atomic_store_explicit(&hak_tls.reclaim, 0, memory_order_relaxed);
    hak_decay_activity();
}

/* The slabs h claimed from orphans go back to them: emptied ones free,
 * the others orphaned again, one by one, for another heap to claim. */
static void heap_claimed_orphan(struct hak_heap *h)
{
    for (unsigned c = 0; c < HAK_NUM_CLASSES; c++) {
        enum hak_tier tier = hak_class_tier(c);
        struct hak_class_lists *l = &h->cls[c];
        struct hak_slab *heads[3] = {l->active, l->partial, l->full};
        for (unsigned k = 0; k < 3 && h->claimed[tier]; k++) {
            struct hak_slab *s = heads[k], *next;
            for (bool more = s != NULL; more; s = next) {
                next = s->next;
                more = k && next != heads[k];
                struct hak_superslab *ss = ss_of(s);
                if (!ss_orphaned(ss)) continue;
                h->claimed[tier]--;
                slab_drain_remote(s);
                if (s->used == 0) { /* as the heap's own free slabs */
                    bool keep = exit_keeps(tier);
                    if (!keep)
                        hak_os_decommit(hak_slab_base(ss, hak_slab_index(ss, s)), slab_bytes(ss));
                    slab_unassign(NULL, ss, s, keep);
                    continue;
                }
                bool serves = orphan_slab_serves(s, false), resident = orphan_slab_serves(s, true);
                s->list = HAK_SLAB_UNASSIGNED;
                s->next = s->prev = NULL;
                ss->active_ms[hak_slab_index(ss, s)] = now32();
                /* from here a pass may collect it: nothing reads it after */
                atomic_store_explicit(&s->owner, HAK_OWNER_ORPHAN, memory_order_release);
                if (serves) orphan_note_class(ss, c, resident);
            }
        }
    }
}

/* Hands every SuperSlab of the heap to the orphan lists (thread exit, or a
 * thread that did not survive fork), its slabs orphans each; the slabs it
 * claimed from orphans go back to theirs.  Empty ones beyond
 * HAKMEM_SS_KEEP are unmapped rather than orphaned. */
void hak_heap_orphan_all(struct hak_heap *h)
{
    heap_claimed_orphan(h);
    for (unsigned tier = 0; tier < 2; tier++) {
        uint32_t empty_kept = 0;
        struct hak_superslab *ss;
        while ((ss = h->ss[tier]) != NULL) {
            ss_unlink(&h->ss[tier], ss);
            /* its free slabs wait for a claim that may not come: give them
             * back now unless the tier's resident free slabs are few (they
             * age as an orphan's then); the free pages of partly used ones
             * stay for claims until they aged as an orphan's (purging them
             * here cost churn 2x time) */
            ss_collect(NULL, h, ss, !exit_keeps(tier), HAK_RELEASE_ALL, false, false);
            if (ss->live_slabs == 0 && empty_kept++ >= (uint32_t)hak_cfg.ss_keep) {
                ss_unmap(ss);
                continue;
            }
            uint32_t now = now32();
            for (unsigned i = 1; i < ss->nslabs; i++)
                if (ss->slabs[i].cls != HAK_CLASS_NONE) {
                    ss->active_ms[i] = now;
                    atomic_store_explicit(&ss->slabs[i].owner, HAK_OWNER_ORPHAN,
                                          memory_order_relaxed);
                }
            atomic_store_explicit(&ss->owner, HAK_OWNER_ORPHAN, memory_order_release);
            HAK_COUNT(superslabs_orphaned);
            orphan_push(tier, ss);
        }
        h->empty_ss[tier] = 0;
        h->claimed[tier] = 0;
    }
    memset(h->cls, 0, sizeof(h->cls));
}

void hak_slab_locks(int op)
{
    if (op == 0) pthread_mutex_lock(&orphan_lock);
    else if (op == 1) pthread_mutex_unlock(&orphan_lock);
    else orphan_lock = (pthread_mutex_t)PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
}

/* Test seam (not exported from libhakmem.so): whether the orphan lock
 * spins before it sleeps, in this process (a fork child re-creates it). */
bool hak_test_orphan_lock_spins(void)
{
    return (orphan_lock.__data.__kind & 3) == PTHREAD_MUTEX_ADAPTIVE_NP;
}
