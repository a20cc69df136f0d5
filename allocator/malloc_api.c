/*
 * The C allocation API with glibc's contracts.  malloc and free of Tiny and
 * Mid blocks take the fast path at the top of this file: one table load for
 * the class, then a push or pop on the thread cache (tls_sll), with no lock
 * and no atomic instruction.  Everything else is in the slow paths below.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"

/* ---- fast paths ------------------------------------------------------------ */

/* The thread's cache of class `cls` as the fast paths see it: read after
 * hak_cache_enter, so a reclaimer's probe (hak_tcache_none) is seen.  A
 * plain load (one aligned pointer, read by one instruction, which the
 * compiler fence in hak_cache_enter makes afresh for each operation):
 * unlike a relaxed atomic load it folds into the add that indexes the
 * array. */
static inline struct hak_tcache *fast_cache(unsigned cls)
{
    return hak_tls.fast_cache + cls;
}

/* A pop from the thread cache whose byte offset in the cache array is `off`
 * (hak_tiny_cache_off, hak_mid_cache_off); none while a reclaimer's probe
 * stands.  It counts nothing: the pop's one add to `limit` is the hit count
 * readers derive (docs/counters.md).  Every cached block carries the free
 * key in word 1, and the pop replaces it with HAK_LIVE_MARK: a block that
 * comes up without the key was handed out already (a double free put it
 * in the cache twice) or written after its free, and stops the process
 * before it is handed out (again).  The test reads the line the link is
 * read from, so free need not read the block at all. */
static inline void *tcache_pop(size_t off, bool mid)
{
    hak_cache_enter(mid);
#if defined(__x86_64__)
    /* the cache's address out of rax, where the block is returned: else
     * GCC loads the block elsewhere and copies it back (one instruction) */
    __asm__("" : "+d"(off));
#endif
    struct hak_tcache *tc = (struct hak_tcache *)((char *)fast_cache(0) + off);
    void **b = tc->head;
    if (likely(b != NULL)) {
        if (unlikely(b[1] != (void *)hak_free_key)) {
            hak_cache_leave(mid);
            return hak_cached_block_bad(b);
        }
        void *next = b[0];
        /* the mark before the head moves: a reclaimer that still reads the
         * key after the link read the block's link (slab.c, tcache_steal) */
        b[1] = HAK_LIVE_MARK;
        atomic_signal_fence(memory_order_release); /* in this order, in every inlined copy */
        tc->head = next;
        tc->limit++; /* one more block of room */
    }
    hak_cache_leave(mid);
    return b;
}

/* Adds one to *v in memory: GCC keeps a compared count in a register and
 * adds and stores it back, one instruction more on free's fast path. */
static inline void count_up(uint64_t *v)
{
#if defined(__x86_64__)
    __asm__("addq $1, %0" : "+m"(*v));
#else
    (*v)++;
#endif
}

/* Counter id of a Tiny or Mid class's front counter (hit or miss). */
#define FRONT_ID(counter, cls) (HAK_CTR_##counter + 2 * ((cls) >= HAK_NUM_TINY))

static HAK_NOINLINE void *alloc_class_slow(unsigned cls)
{
    /* with HAKMEM_TINY_USE_SUPERSLAB=0 a Tiny request is a Mid miss */
    bool to_mid = cls < HAK_NUM_TINY && !hak_cfg.tiny_use_superslab;
    HAK_COUNT_ID(FRONT_ID(tiny_alloc_miss, to_mid ? HAK_NUM_TINY : cls));
    void *p = hak_slab_alloc_slow(cls);
    if (unlikely(!p)) errno = ENOMEM;
    return p;
}

static HAK_NOINLINE void *alloc_small_slow(size_t n)
{
    hak_ensure_init(); /* the class tables are filled at init */
    return alloc_class_slow(hak_class_of(n));
}

static void *alloc_big(size_t n, size_t align, bool zero);

/* malloc's body, inline where hakmem allocates for itself (realloc's move):
 * a call to the exported malloc goes through the PLT. */
static inline void *malloc_inline(size_t n)
{
    if (likely(n <= HAK_TINY_MAX)) {
        void *p = tcache_pop(hak_tiny_cache_off[n], false);
        if (likely(p != NULL)) return p;
        return alloc_small_slow(n);
    }
    if (likely(n <= HAK_MID_MAX)) {
        void *p = tcache_pop(hak_mid_cache_off[(n + 127) >> 7], true);
        if (likely(p != NULL)) return p;
        return alloc_small_slow(n);
    }
    return alloc_big(n, HAK_ALIGN, false);
}

HAK_API void *malloc(size_t n)
{
    return malloc_inline(n);
}

/* Every free of a Tiny or Mid block that is not the common case: a bad
 * pointer (no class, or not the start of a block), HAKMEM_CHECK=1, a block of another heap's slab (pushed
 * onto its slab's remote list), the block heading the cache already (a
 * double free), or a full thread cache. */
static HAK_NOINLINE void free_block_slow(void *p, struct hak_slab *s, struct hak_superslab *ss,
                                         const char *fn)
{
    if (s->cls >= HAK_NUM_CLASSES || hak_block_misaligned(ss, s, p))
        hak_fatal_pointer(fn, "invalid pointer", p);
    if (hak_cfg.check) hak_slab_check_block(fn, ss, s, p);
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) != hak_tls_heap) {
        hak_slab_free_remote(p, s, ss);
        return;
    }
    hak_slab_free_owned(ss, s, p, fn);
}

/* Pushes block b onto this thread's cache at byte offset `off` (its
 * slab's cache_off: no multiply of its class), marked with the free key;
 * false when the cache is full (or a reclaimer's probe stands), or when b
 * heads it already (freed twice in a row).  The block is only written: a
 * load of a block the program has not touched for long would miss the
 * caches and hold up the free until it arrives. */
static inline bool tcache_push_at(uint32_t off, void **b, void *key, bool mid)
{
    hak_cache_enter(mid);
    struct hak_tcache *tc = (struct hak_tcache *)((char *)fast_cache(0) + off);
    void *head = tc->head;
    if (likely(tc->pushes != tc->limit) && likely(head != b)) {
        b[1] = key;
        /* b through an empty asm: GCC no longer knows the two stores
         * adjacent, and keeps them two (it packs them into a vector, four
         * instructions) */
        __asm__("" : "+r"(b));
        b[0] = head;
        /* after b's words: a reclaimer may read them once it is (the fence
         * keeps the order in every inlined copy) */
        atomic_signal_fence(memory_order_release);
        tc->head = b;
        count_up(&tc->pushes); /* free_tls_sll, as readers derive it */
        hak_cache_leave(mid);
        return true;
    }
    hak_cache_leave(mid);
    return false;
}

/* Whether a cache offset (a slab's cache_off) is a Mid class's. */
static inline bool cache_off_mid(uint32_t off)
{
    return off >= HAK_NUM_TINY * sizeof(struct hak_tcache);
}

/* The push of block b of slab s, which this thread's heap owns (realloc's:
 * free tests the tier first). */
static inline bool tcache_push(struct hak_slab *s, void **b, void *key)
{
    return tcache_push_at(s->cache_off, b, key, cache_off_mid(s->cache_off));
}

/* Free of a Mid block of slab s, which this thread's heap owns: the push
 * with the `busy` stores, out of free's line, which Tiny blocks keep. */
static HAK_NOINLINE void free_mid_owned(void *p, struct hak_slab *s, struct hak_superslab *ss,
                                        const char *fn)
{
    if (likely(tcache_push_at(s->cache_off, p, (void *)hak_free_key, true))) return;
    free_block_slow(p, s, ss, fn);
}

/* Frees a Tiny or Mid block of slab s.  The fast path pushes it onto the
 * thread cache when this thread's heap owns its slab; it calls nothing, so
 * it needs no stack frame.  A block freed twice is caught by the pop that
 * would hand it out twice (tcache_pop), or at once when it heads the cache
 * or the free takes the slow path (docs/allocator.md, "Invalid frees").
 * HAKMEM_CHECK=1 gives every cache a capacity of 0, so all frees take the
 * slow path and its checks.  `live` (a constant) says the caller found p
 * plainly live (hak_slab_plainly_live), so the boundary test is not made
 * again. */
static inline void free_block_of(struct hak_superslab *ss, struct hak_slab *s, void *p, bool live,
                                 const char *fn)
{
    void **b = p;
    void *key = (void *)hak_free_key;
    /* an unassigned slab (and the header slab) has div_magic 0, which every
     * pointer fails, so s->cls is a class here */
    if (likely(live || !hak_block_misaligned(ss, s, p))) {
        if (likely(atomic_load_explicit(&s->owner, memory_order_relaxed) == hak_tls_heap)) {
            uint32_t off = s->cache_off;
            if (unlikely(cache_off_mid(off))) {
                free_mid_owned(p, s, ss, fn);
                return;
            }
            if (likely(tcache_push_at(off, b, key, false))) return;
        } else if (likely(!hak_cfg.check)) {
            /* another thread's block (or a thread without a heap): straight
             * to its slab's remote list, without the slow path's checks */
            hak_slab_free_remote(p, s, ss);
            return;
        }
    }
    free_block_slow(p, s, ss, fn);
}

static inline void free_block(struct hak_superslab *ss, void *p, const char *fn)
{
    free_block_of(ss, hak_slab_of(ss, p), p, false, fn);
}

static HAK_NOINLINE void free_big(struct hak_segment *seg, void *p, const char *fn)
{
    if (seg->tier == HAK_TIER_LARGE) hak_large_free(seg, p, fn);
    else hak_huge_free(seg, p, fn);
}

static inline struct hak_segment *segment_checked(void *p, const char *fn)
{
    struct hak_segment *seg = hak_region_lookup(p);
    if (unlikely(!seg)) hak_fatal_pointer(fn, "invalid pointer", p);
    return seg;
}

/* Every free that does not point into a SuperSlab: NULL, Large and Huge
 * blocks, pointers hakmem does not own. */
static HAK_NOINLINE void free_other(void *p)
{
    if (!p) return;
    struct hak_segment *seg = segment_checked(p, "free");
    if (seg->tier <= HAK_TIER_MID) free_block((struct hak_superslab *)seg, p, "free");
    else free_big(seg, p, "free");
}

/* free's body, inline for realloc's move (as malloc_inline) */
static inline void free_inline(void *p)
{
    /* the SuperSlab from the map's index shifted back: no copy of p to mask */
    uintptr_t chunk = (uintptr_t)p >> HAK_SEG_SHIFT;
    if (likely(hak_in_superslab(p))) {
        __asm__("" : "+r"(chunk)); /* else GCC masks a copy of p again */
        free_block((struct hak_superslab *)(chunk << HAK_SEG_SHIFT), p, "free");
    } else free_other(p);
}

HAK_API void free(void *p)
{
    free_inline(p);
}

/* ---- slow paths --------------------------------------------------------------- */

/* Large spans for requests up to 1 MiB (and alignments up to 1 MiB), Huge
 * mappings beyond.  `zero` asks for cleared memory. */
static void *alloc_big(size_t n, size_t align, bool zero)
{
    hak_ensure_init();
    bool zeroed = true;
    void *p;
    if (n == 0) n = 1; /* aligned requests of 0 bytes still get a block of their own */
    if (n > (size_t)PTRDIFF_MAX) p = NULL;
    else if (n <= HAK_LARGE_MAX && align <= HAK_LARGE_MAX) p = hak_large_alloc(n, align, &zeroed);
    else p = hak_huge_alloc(n, align, &zeroed);
    if (unlikely(!p)) {
        errno = ENOMEM;
        return NULL;
    }
    if (zero && !zeroed) memset(p, 0, n);
    return p;
}

/* A Tiny or Mid block's usable size, after checking it is live. */
static inline size_t small_usable(struct hak_superslab *ss, void *p, const char *fn)
{
    struct hak_slab *s = hak_slab_of(ss, p);
    hak_slab_check_live(fn, ss, s, p);
    return s->block_size;
}

static inline size_t usable_size(void *p, const char *fn)
{
    /* a SuperSlab's block is found by its bit, as free finds it */
    if (likely(hak_in_superslab(p))) {
        uintptr_t ss = (uintptr_t)p & ~(uintptr_t)HAK_SEG_MASK;
        return small_usable((struct hak_superslab *)ss, p, fn);
    }
    struct hak_segment *seg = segment_checked(p, fn);
    if (seg->tier <= HAK_TIER_MID) return small_usable((struct hak_superslab *)seg, p, fn);
    if (seg->tier == HAK_TIER_LARGE) return hak_large_usable(seg, p, fn);
    return hak_huge_usable(seg, p, fn);
}

HAK_API size_t malloc_usable_size(void *p)
{
    return p ? usable_size(p, "malloc_usable_size") : 0;
}

HAK_API void *calloc(size_t nmemb, size_t size)
{
    size_t n;
    if (unlikely(__builtin_mul_overflow(nmemb, size, &n))) {
        errno = ENOMEM;
        return NULL;
    }
    if (n > HAK_MID_MAX) return alloc_big(n, HAK_ALIGN, true);
    /* malloc's body, not the exported malloc: no call through the PLT, and
     * a preloaded wrapper of malloc and calloc sees one call, not two */
    void *p = malloc_inline(n);
    if (unlikely(!p)) return NULL;
    return memset(p, 0, n); /* a tail call */
}

/* Whether a block of `usable` bytes should keep serving a request of `n`:
 * it must fit, and not waste more than half of the block. */
static inline bool fits_in_place(size_t n, size_t usable)
{
    return n <= usable && (n >= usable / 2 || usable <= 64);
}

/* The size to allocate when a block of `usable` bytes must move to hold
 * `n`: a Tiny or Mid block that grows gets room for a quarter more than it
 * had, so a buffer grown a little at a time moves every few classes, not
 * at each (docs/allocator.md, "realloc"). */
static inline size_t grown_size(size_t n, size_t usable)
{
    if (n <= usable || n > HAK_MID_MAX) return n;
    size_t room = usable + usable / 4;
    return room <= n ? n : room <= HAK_MID_MAX ? room : HAK_MID_MAX;
}

/* realloc's move to a new block, out of line so that a realloc served in
 * place needs no stack frame.  A Large span (the only blocks above the Mid
 * limit and at most the Large one) asked for another Large size first
 * tries to stay where it is: its tail goes back, or it grows into the free
 * pages after it. */
static HAK_NOINLINE void *realloc_move(void *p, size_t n, size_t usable)
{
    if (usable > HAK_MID_MAX && usable <= HAK_LARGE_MAX && n > HAK_MID_MAX && n <= HAK_LARGE_MAX) {
        struct hak_segment *seg = hak_region_lookup(p);
        if (seg->tier == HAK_TIER_LARGE && hak_large_resize(seg, p, n, "realloc")) return p;
    }
    void *q = malloc_inline(grown_size(n, usable));
    if (!q) return NULL;
    memcpy(q, p, n < usable ? n : usable);
    free_inline(p);
    return q;
}

/* realloc_move of a SuperSlab block of slab s that realloc_impl found
 * plainly live: the old block goes back by free's push without the tests
 * that found it live (the SuperSlab map, the boundary). */
static HAK_NOINLINE void *realloc_move_live(void *p, size_t n, struct hak_slab *s)
{
    size_t usable = s->block_size;
    void *q = malloc_inline(grown_size(n, usable));
    if (!q) return NULL;
    memcpy(q, p, n < usable ? n : usable);
    /* "realloc" for reallocarray too: a live block fails no check */
    free_block_of((struct hak_superslab *)((uintptr_t)p & ~(uintptr_t)HAK_SEG_MASK), s, p, true,
                  "realloc");
    return q;
}

/* The end of a realloc_shrink_live whose old block p did not fit the
 * thread cache: free's slow path, then the new block q. */
static HAK_NOINLINE void *realloc_free_live(void *p, struct hak_slab *s, void *q)
{
    free_block_slow(p, s, (struct hak_superslab *)((uintptr_t)p & ~(uintptr_t)HAK_SEG_MASK),
                    "realloc");
    return q;
}

/* Longest move realloc_shrink_live makes itself: past it memcpy's wider
 * moves win. */
#define SHRINK_INLINE_MAX 128

/* realloc_move_live of a block shrunk below half of it to at most
 * SHRINK_INLINE_MAX bytes, the common move (python's strings, shrunk from
 * 160 bytes to 48): a cached block, and the old block pushed onto this
 * thread's cache.  Tiny blocks are 16-byte aligned and a multiple of 16
 * bytes long, so the copy moves whole 16-byte units, a fixed number in
 * each of three size ranges; it calls nothing and every other way out is
 * a tail call, so it needs no stack frame. */
static HAK_NOINLINE void *realloc_shrink_live(void *p, size_t n, struct hak_slab *s)
{
    if (unlikely(n > SHRINK_INLINE_MAX)) return realloc_move_live(p, n, s);
    void *q = tcache_pop(hak_tiny_cache_off[n], false);
    if (unlikely(!q)) return realloc_move_live(p, n, s);
    /* n taken up to whole units, as two runs that may overlap: the
     * first and the last 16, 32 or 64 bytes */
    size_t r = (n + 15) & ~(size_t)15;
    char *to = q;
    const char *from = p;
    if (r <= 32) {
        __builtin_memcpy(to, from, 16);
        __builtin_memcpy(to + r - 16, from + r - 16, 16);
    } else if (r <= 64) {
        __builtin_memcpy(to, from, 32);
        __builtin_memcpy(to + r - 32, from + r - 32, 32);
    } else {
        __builtin_memcpy(to, from, 64);
        __builtin_memcpy(to + r - 64, from + r - 64, 64);
    }
    if (likely(atomic_load_explicit(&s->owner, memory_order_relaxed) == hak_tls_heap) &&
        likely(tcache_push(s, p, (void *)hak_free_key)))
        return q;
    return realloc_free_live(p, s, q);
}

/* realloc of NULL, to 0 bytes, of a block outside the SuperSlabs, or of
 * one that is not plainly live (the checks stop the process or pass). */
static HAK_NOINLINE void *realloc_other(void *p, size_t n, const char *fn)
{
    if (!p) return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    size_t usable = usable_size(p, fn);
    if (fits_in_place(n, usable)) return p;
    return realloc_move(p, n, usable);
}

/* A Tiny or Mid block is checked and, most often, kept in place inline;
 * every call on that path is a tail call, so it needs no stack frame. */
static inline void *realloc_impl(void *p, size_t n, const char *fn)
{
    if (likely(n && hak_in_superslab(p))) { /* NULL is in no SuperSlab */
        struct hak_superslab *ss = (struct hak_superslab *)((uintptr_t)p & ~(uintptr_t)HAK_SEG_MASK);
        struct hak_slab *s = hak_slab_of(ss, p);
        if (likely(hak_slab_plainly_live(ss, s, p))) {
            size_t usable = s->block_size;
            if (fits_in_place(n, usable)) return p;
            if (n < usable) return realloc_shrink_live(p, n, s);
            return realloc_move_live(p, n, s);
        }
    }
    return realloc_other(p, n, fn); /* the checks' messages too */
}

HAK_API void *realloc(void *p, size_t n)
{
    return realloc_impl(p, n, "realloc");
}

HAK_API void *reallocarray(void *p, size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_impl(p, n, "reallocarray");
}

/* `align` is a power of two. */
static void *aligned_impl(size_t align, size_t n)
{
    if (align <= HAK_ALIGN) return malloc(n);
    hak_ensure_init();
    unsigned c = hak_class_for_aligned(n, align);
    if (c != HAK_CLASS_NONE) {
        void *p = tcache_pop(c * sizeof(struct hak_tcache), c >= HAK_NUM_TINY);
        return p ? p : alloc_class_slow(c);
    }
    return alloc_big(n, align, false);
}

HAK_API int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    int saved = errno;
    void *p = aligned_impl(align, n);
    errno = saved;
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

HAK_API void *aligned_alloc(size_t align, size_t n)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_impl(align, n);
}

HAK_API void *memalign(size_t align, size_t n)
{
    if (align > (size_t)1 << 62) {
        errno = EINVAL;
        return NULL;
    }
    size_t a = HAK_ALIGN;
    while (a < align) a <<= 1; /* glibc rounds an odd alignment up */
    return aligned_impl(a, n);
}

HAK_API void *valloc(size_t n)
{
    return aligned_impl(HAK_PAGE, n);
}

HAK_API void *pvalloc(size_t n)
{
    if (n > SIZE_MAX - HAK_PAGE) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned_impl(HAK_PAGE, n ? hak_align_up(n, HAK_PAGE) : HAK_PAGE);
}

HAK_API int malloc_trim(size_t pad)
{
    (void)pad;
    return hak_flush_all() > 0;
}
