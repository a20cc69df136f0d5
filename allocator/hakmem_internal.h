/*
 * hakmem internals: the types every allocator file shares, the geometry
 * constants of the tiers, and the small inline helpers of the fast paths.
 * docs/allocator.md explains the structure these types describe.
 */
#ifndef HAKMEM_INTERNAL_H
#define HAKMEM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hakmem.h"

/* Everything declared below is defined inside libhakmem.so (built with
 * -fvisibility=hidden): declared hidden, a global such as hak_free_key is
 * read with one PC-relative load instead of a GOT load and a second load. */
#pragma GCC visibility push(hidden)

#define HAK_API __attribute__((visibility("default")))
#define HAK_TLS __thread __attribute__((tls_model("initial-exec")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define HAK_NOINLINE __attribute__((noinline))
#define HAK_COLD __attribute__((cold, noinline))

/* ---- geometry --------------------------------------------------------- */

#define HAK_PAGE_SHIFT 12
#define HAK_PAGE ((size_t)1 << HAK_PAGE_SHIFT)
#define HAK_SEG_SHIFT 21 /* every hakmem region starts on a 2 MiB boundary */
#define HAK_SEG_SIZE ((size_t)1 << HAK_SEG_SHIFT)
#define HAK_SEG_MASK (HAK_SEG_SIZE - 1)

#define HAK_ALIGN 16
#define HAK_TINY_MAX 1024
#define HAK_MID_MAX 32768
#define HAK_LARGE_MAX ((size_t)1 << 20)

#define HAK_TINY_SLAB_SHIFT 16 /* 64 KiB Tiny slabs, 32 per SuperSlab  */
#define HAK_MID_SLAB_SHIFT 16  /* 64 KiB Mid page runs, 32 per SuperSlab (docs/allocator.md) */
#define HAK_MAX_SLABS 32

#define HAK_NUM_TINY 32
#define HAK_NUM_MID 40
#define HAK_NUM_CLASSES (HAK_NUM_TINY + HAK_NUM_MID)
#define HAK_CLASS_NONE 0xff

enum hak_tier { HAK_TIER_TINY, HAK_TIER_MID, HAK_TIER_LARGE, HAK_TIER_HUGE, HAK_NUM_TIERS };

#define HAK_SEG_MAGIC 0x68616b6du /* "hakm" */

/* ---- size classes (size_class.c) -------------------------------------- */

extern uint8_t hak_tiny_class_of[HAK_TINY_MAX / 16 + 1]; /* by (n + 15) >> 4   */
extern uint8_t hak_mid_class_of[HAK_MID_MAX / 128 + 1];  /* by (n + 127) >> 7  */
/* malloc's fast path: the byte offset of the class's struct hak_tcache in a
 * thread's cache array, Tiny by n itself, Mid by (n + 127) >> 7; all 0 (class
 * 0, which hak_tcache_none leaves empty) until the tables are filled at init */
extern uint16_t hak_tiny_cache_off[HAK_TINY_MAX + 1];
extern uint16_t hak_mid_cache_off[HAK_MID_MAX / 128 + 1];
extern uint32_t hak_class_size[HAK_NUM_CLASSES];
void hak_size_classes_init(void);
/* Smallest class of at least `size` bytes whose blocks are `align`-aligned,
 * or HAK_CLASS_NONE when no Tiny/Mid class fits. */
unsigned hak_class_for_aligned(size_t size, size_t align);

static inline unsigned hak_class_of(size_t n)
{
    return n <= HAK_TINY_MAX ? hak_tiny_class_of[(n + 15) >> 4] : hak_mid_class_of[(n + 127) >> 7];
}
static inline enum hak_tier hak_class_tier(unsigned c)
{
    return c < HAK_NUM_TINY ? HAK_TIER_TINY : HAK_TIER_MID;
}

/* ---- segments, SuperSlabs and slabs ------------------------------------ */

/* First fields of every 2 MiB-aligned region hakmem maps. */
struct hak_segment {
    uint32_t magic;
    uint8_t tier;         /* enum hak_tier                          */
    uint32_t region_slot; /* its entry in the published region table */
};

enum hak_slab_list { HAK_SLAB_UNASSIGNED, HAK_SLAB_ACTIVE, HAK_SLAB_PARTIAL, HAK_SLAB_FULL };

struct hak_heap;
#define HAK_OWNER_ORPHAN ((struct hak_heap *)1)

/* One slab of a SuperSlab: blocks of one size class, owned by one heap
 * (docs/allocator.md, "SuperSlabs, slabs and thread caches").  Only the
 * owner touches the plain fields; other threads push onto its remote list
 * (hak_slab_remote). */
struct hak_slab {
    void *free;             /* blocks returned by the owner           */
    char *bump;             /* next never-used block                  */
    uint32_t cache_off;     /* cls * sizeof(struct hak_tcache): free's
                             * offset of the class's thread cache */
    uint32_t spare;         /* unused: slabs[] strides 64 bytes       */
    struct hak_slab *next, *prev;
    /* a heap, HAK_OWNER_ORPHAN once its heap's thread exited, NULL while
     * unassigned: free's fast path pushes onto the thread cache when the
     * calling thread's heap owns the block's slab */
    _Atomic(struct hak_heap *) owner;
    uint16_t used;     /* blocks out: with the user or in a cache */
    uint16_t capacity; /* blocks the slab holds (at most 4096)    */
    uint16_t block_size;
    uint8_t cls;        /* HAK_CLASS_NONE while unassigned */
    uint8_t list;       /* enum hak_slab_list                   */
    uint64_t div_magic; /* ceil(2^64 / block_size); 0 while unassigned */
};
/* owner, cache_off and div_magic, which every free reads, share one cache
 * line (slabs[] is 64-byte aligned) */
_Static_assert(sizeof(struct hak_slab) == 64, "struct hak_slab grew");

/* A slab's remote list (blocks freed by other threads, MPSC), alone on a
 * cache line: a remote push writes it, and on the slab's line it would take
 * that line from the owner, whose every free reads owner and div_magic
 * there (docs/allocator.md, "SuperSlabs, slabs and thread caches"). */
struct hak_slab_remote {
    _Alignas(64) _Atomic(void *) head;
};
_Static_assert(sizeof(struct hak_slab_remote) == 64, "a remote list takes one cache line");

/* A 2 MiB SuperSlab.  Slab 0 holds this header; slabs 1.. carry blocks.
 * Its heap (`owner`) owns every assigned slab and its free slabs, and
 * alone writes the masks and counts below; once that heap's thread exited
 * (HAK_OWNER_ORPHAN), any heap may claim a slab of it, and those fields
 * are written under slab.c's orphan_lock.  hidden_mask, loose_mask and purged_pages
 * hold bits per slab, each slab's written by the slab's owner, so they are
 * changed with atomic operations. */
struct hak_superslab {
    struct hak_segment hdr;
    uint8_t slab_shift;
    uint8_t nslabs;
    _Atomic(struct hak_heap *) owner; /* a heap, or HAK_OWNER_ORPHAN    */
    struct hak_superslab *next, *prev;
    uint32_t free_mask;  /* unassigned slabs                            */
    uint32_t dirty_mask; /* unassigned slabs whose pages may be resident */
    uint32_t live_slabs;
    uint32_t slab_off_mask; /* slab size - 1: a pointer's offset in its slab */
    /* hak_slab_of in two operations: a pointer shifted right by
     * slab_index_shift (slab_shift - 6) and masked with slab_index_mask
     * ((nslabs - 1) << 6) is its slab's byte offset in slabs[]. */
    uint8_t slab_index_shift;
    /* a slab's byte offset in slabs[] shifted right by out_index_shift is
     * the index of its first out_bits word (6 - HAK_OUT_WORDS_SHIFT) */
    uint8_t out_index_shift;
    uint32_t slab_index_mask;
    uint32_t empty_ms;      /* when live_slabs last became 0 (hak_decay_now, 32 bits) */
    uint32_t free_ms[HAK_MAX_SLABS]; /* when each unassigned slab was last freed */
    /* Page purge (docs/allocator.md, "Footprint"): slabs with free blocks
     * kept off their free list because they lie on purged pages; when each
     * slab last became a refill's active slab; pages given back while
     * their slab stayed assigned (one bit per 4 KiB page of the 2 MiB). */
    uint32_t hidden_mask;
    /* slabs with resident free blocks off their free list, returned by a
     * cache's overflow, flush or exit: found by their clear out bits */
    uint32_t loose_mask;
    uint32_t warm_mask; /* assigned slabs whose uncarved pages are resident (reused free slabs) */
    uint32_t active_ms[HAK_MAX_SLABS];
    uint64_t purged_pages[(HAK_SEG_SIZE >> HAK_PAGE_SHIFT) / 64];
    uint64_t orphan_cls[2]; /* an orphan's classes with free blocks (slab.c) */
    uint64_t orphan_res[2]; /* of those, the classes with blocks on free or remote lists */
    uint8_t orphan_busy;    /* an orphan being collected (none of its slabs is claimed
                             * meanwhile), under slab.c's orphan_lock */
    uint16_t orphan_slot;   /* an orphan's slot in slab.c's class index, plus one (0: none) */
    _Alignas(64) struct hak_slab slabs[HAK_MAX_SLABS];
    /* slab i's remote list: right after slabs[], so it lies a constant
     * distance from the slab (hak_slab_remote) */
    struct hak_slab_remote remote[HAK_MAX_SLABS];
    /* One bit per block, set while the block is out of its slab (with the
     * user, in a thread cache or on the remote list): a block coming back
     * whose bit is clear was freed twice.  Written by the owner only, read
     * by remote frees; HAK_OUT_WORDS(tier) words per slab. */
    _Atomic(uint64_t) out_bits[];
};
/* The remote list of slab s: HAK_MAX_SLABS lines past it, no index computed. */
static inline _Atomic(void *) *hak_slab_remote(const struct hak_slab *s)
{
    uintptr_t line = (uintptr_t)s + sizeof(((struct hak_superslab *)0)->slabs);
    return &((struct hak_slab_remote *)line)->head;
}
_Static_assert(offsetof(struct hak_superslab, remote) ==
                   offsetof(struct hak_superslab, slabs) + HAK_MAX_SLABS * sizeof(struct hak_slab),
               "a slab's remote list lies HAK_MAX_SLABS slabs past it");

/* Words of out_bits per slab: a Tiny slab holds up to 4096 blocks, a Mid one 56 (four words). */
#define HAK_OUT_WORDS_SHIFT(tier) ((tier) == HAK_TIER_TINY ? 6 : 2)
#define HAK_SS_HEADER_BYTES (sizeof(struct hak_superslab) + HAK_MAX_SLABS * 64 * sizeof(uint64_t))
_Static_assert(HAK_SS_HEADER_BYTES <= (1u << HAK_TINY_SLAB_SHIFT), "SuperSlab header exceeds slab 0");

/* The first out_bits word of slab s: a shift of the slab's byte offset in
 * slabs[] by a header byte, no tier test.  Loops over a slab's blocks
 * compute it once (the bitmap stores may alias the header, so the compiler
 * does not hoist it). */
static inline _Atomic(uint64_t) *hak_slab_out_base(struct hak_superslab *ss, const struct hak_slab *s)
{
    size_t byte = (size_t)((const char *)s - (const char *)ss->slabs);
    return &ss->out_bits[byte >> ss->out_index_shift];
}

/* Tiny and Mid slabs of one size: a pointer's slab and its offset in it come
 * from constants, not from the SuperSlab's header (two loads fewer on every
 * free, and registers the shift by %cl no longer needs). */
#if HAK_TINY_SLAB_SHIFT == HAK_MID_SLAB_SHIFT
#define HAK_SLAB_SHIFT_FIXED HAK_TINY_SLAB_SHIFT
#endif

/* slab_off_mask of ss */
static inline uintptr_t hak_slab_off_mask(const struct hak_superslab *ss)
{
#ifdef HAK_SLAB_SHIFT_FIXED
    (void)ss;
    return ((uintptr_t)1 << HAK_SLAB_SHIFT_FIXED) - 1;
#else
    return ss->slab_off_mask;
#endif
}

static inline struct hak_slab *hak_slab_of(struct hak_superslab *ss, const void *p)
{
#ifdef HAK_SLAB_SHIFT_FIXED
    uintptr_t byte = ((uintptr_t)p >> (HAK_SLAB_SHIFT_FIXED - 6)) &
                     ((uintptr_t)((HAK_SEG_SIZE >> HAK_SLAB_SHIFT_FIXED) - 1) << 6);
#else
    uintptr_t byte = ((uintptr_t)p >> ss->slab_index_shift) & ss->slab_index_mask;
#endif
    return (struct hak_slab *)((char *)ss->slabs + byte);
}
static inline char *hak_slab_base(struct hak_superslab *ss, unsigned i)
{
    return (char *)ss + ((size_t)i << ss->slab_shift);
}

static inline unsigned hak_slab_index(const struct hak_superslab *ss, const struct hak_slab *s)
{
    return (unsigned)(s - ss->slabs);
}

/* True when p is not the start of a block of slab s (every free checks it).
 * With off = p's offset in the slab (< 2^18) and d = block_size (< 2^16),
 * off is a multiple of d exactly when off * ceil(2^64 / d) mod 2^64 is
 * below ceil(2^64 / d) (Lemire's divisibility test, exact as 18 + 16 bits
 * <= 64): one multiply and one compare.  An unassigned slab (magic 0)
 * rejects every pointer. */
static inline bool hak_block_misaligned(const struct hak_superslab *ss, const struct hak_slab *s,
                                        const void *p)
{
    uint64_t off = (uintptr_t)p & hak_slab_off_mask(ss);
#if defined(__x86_64__)
    /* the magic read by the multiply and the compare from memory: GCC
     * loads it into a register first, one instruction more on free */
    __asm__("imulq %1, %0" : "+r"(off) : "m"(s->div_magic));
    return off >= s->div_magic;
#else
    return off * s->div_magic >= s->div_magic;
#endif
}

/* ---- per-thread state (heap.c) ----------------------------------------- */

/* The thread cache of one class: the singly linked tls_sll.  Word 0 of a
 * cached block links the list; word 1 holds hak_free_key (double frees).
 * The fast paths keep no count: a free adds one to `pushes` and finds the
 * cache full when pushes == limit, a pop adds one to `limit`, so
 * limit - pushes is the room left and cap - room the blocks held.  The
 * slow paths move `limit` when blocks come or go in bulk or `cap` changes
 * (hak_tcache_room).  With counters the caches sit in the thread's slot
 * of the counter segment, where readers derive free_tls_sll and the cache
 * hits from pushes and limit (docs/counters.md).  Same layout as struct
 * hak_probe_cache. */
struct hak_tcache {
    void *head;
    uint64_t pushes;
    uint64_t limit;
    uint32_t cap; /* written by slow paths only */
    /* blocks reclaimers took (slab.c, tcache_steal) that are not room yet:
     * the owner's answer to the probe makes them room */
    uint32_t taken;
};
_Static_assert(sizeof(struct hak_tcache) == 32, "struct hak_tcache must stay 32 bytes");

/* The blocks a cache holds (also for a transiently overfull cache: the
 * arithmetic is modulo 2^32). */
static inline uint32_t hak_tcache_count(const struct hak_tcache *tc)
{
    return tc->cap - (uint32_t)(tc->limit - tc->pushes) - tc->taken;
}

/* The adaptive capacity of one class's cache (docs/allocator.md,
 * "Footprint"): `target` is what `cap` returns to after a probe; `misses`
 * counts refills and overflows since the owner last answered one. */
struct hak_tcache_adapt {
    uint32_t target;
    uint32_t misses;
};

struct hak_class_lists {
    struct hak_slab *active;  /* slab refills carve from            */
    struct hak_slab *partial; /* slabs with blocks on `free`         */
    struct hak_slab *full;    /* slabs without; may have remote frees */
};

struct hak_thread;
struct hak_heap {
    /* Taken by the owner's slow paths and by a reclaimer (decay, another
     * thread's flush) that works on the heap; never by the fast paths. */
    pthread_mutex_t lock;
    struct hak_thread *thread; /* the owner's TLS, valid while the heap is live */
    uint64_t probe_ms;         /* when the reclaimer last set thread->reclaim   */
    uint64_t probe_gen;        /* that probe's number                           */
    uint64_t reclaimed_gen;    /* the probe whose reclaim was last counted      */
    bool released;             /* the owner's exit handler ran                  */
    struct hak_class_lists cls[HAK_NUM_CLASSES];
    struct hak_superslab *ss[2]; /* owned SuperSlabs, Tiny and Mid */
    uint32_t empty_ss[2];        /* owned SuperSlabs with no live slab */
    uint32_t claimed[2];         /* slabs it owns in orphaned SuperSlabs, per tier */
    size_t unmapped_bytes[2];    /* per tier, unmapped by frees since the last flush */
    struct hak_heap *next, *prev; /* live heaps / free pool          */
};

/* All of a thread's allocator state in one TLS object, so a fast path
 * finds its cache, heap and counter slot from one thread-pointer offset. */
/* A thread's cache of freed Large spans (large.c): taken without the
 * tier's lock by the same thread's next Large request of a similar size. */
#define HAK_LARGE_TCACHE 8
#define HAK_LARGE_TCACHE_MAX_PAGES 64 /* spans up to 256 KiB are cached */
struct hak_large_tcache {
    void *span[HAK_LARGE_TCACHE];
    uint16_t pages[HAK_LARGE_TCACHE];
    uint32_t n, evict;
};

struct hak_thread {
    struct hak_heap *heap;
    uint64_t *ctr;   /* this thread's counter slot (counters.h)        */
    /* The thread's caches: in its counter slot while it has one, else
     * own_cache.  cache_ctr and cache_seq are the values and the seq of
     * the slot that holds them (NULL when no reader sums them). */
    struct hak_tcache *caches;
    uint64_t *cache_ctr;
    uint64_t *cache_seq;
    /* The caches the fast paths use: `caches` while the thread has a heap
     * and no probe stands; hak_tcache_none (no block, no room, never
     * written) before the heap exists and from a reclaimer's probe until
     * the owner answers it, so the next cache operation takes a slow path
     * with no flag tested on the fast path. */
    struct hak_tcache *fast_cache;
    bool exiting;    /* the thread-exit handler has released the heap */
    /* The quiet-thread reclaim handshake (docs/allocator.md, "Quiet
     * threads"): a reclaimer sets `reclaim` and fast_cache to
     * hak_tcache_none under heap->lock, which diverts the owner's next
     * operation to a slow path that takes the lock; membarrier makes the
     * stores visible.  The owner sets `busy` with plain stores around each
     * use of its Mid caches and Large span cache (hak_cache_enter). */
    _Atomic uint8_t busy;
    _Atomic uint8_t reclaim;
    bool cached_event; /* a slab or SuperSlab became free: tell decay after unlocking */
    uint32_t shared_frees; /* remote frees counted in slot 0, before the thread had a slot */
    struct hak_tcache own_cache[HAK_NUM_CLASSES];
    struct hak_tcache_adapt adapt[HAK_NUM_CLASSES]; /* read by slow paths only */
    struct hak_large_tcache large;
};
extern HAK_TLS struct hak_thread hak_tls;
extern const struct hak_tcache hak_tcache_none[HAK_NUM_CLASSES];
#define hak_tls_cache (hak_tls.caches)
#define hak_tls_heap (hak_tls.heap)
extern uintptr_t hak_free_key;
/* Word 1 of a block a cache hands out: neither the free key nor 0, so a
 * refill that finds it on a block its slab holds as free has found a block
 * handed out twice (slab.c, slab_take_off_list).  A constant: its store
 * costs no more than a store of 0, and it tells the program nothing. */
#define HAK_LIVE_MARK ((void *)2)

/* Around a use of the Large span cache: a plain store each (no fence, no
 * locked instruction); the reclaimer's membarrier supplies the ordering. */
static inline void hak_fast_enter(void)
{
    atomic_store_explicit(&hak_tls.busy, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
}
static inline void hak_fast_leave(void)
{
    atomic_store_explicit(&hak_tls.busy, 0, memory_order_release);
}

/* Around a push or pop on a thread cache: `mid` (a constant where the
 * caller knows the tier) says a Mid class's.  A Mid operation sets `busy`,
 * as a use of the Large cache does.  A Tiny one, where stores become
 * visible in program order (x86), has a compiler fence alone: each
 * operation loads fast_cache afresh, so at most one is under way when a
 * probe's barrier has run, and the reclaimer leaves the two blocks that
 * one can touch (slab.c, tcache_steal); Mid blocks are too big to leave. */
#if defined(__x86_64__) || defined(__i386__)
#define HAK_TINY_NEEDS_BUSY 0
#else
#define HAK_TINY_NEEDS_BUSY 1
#endif
static inline void hak_cache_enter(bool mid)
{
    if (mid || HAK_TINY_NEEDS_BUSY) hak_fast_enter();
    else atomic_signal_fence(memory_order_seq_cst);
}
static inline void hak_cache_leave(bool mid)
{
    if (mid || HAK_TINY_NEEDS_BUSY) hak_fast_leave();
}

struct hak_heap *hak_heap_get(void); /* creates the thread's heap */
uint32_t hak_tcache_cap(unsigned cls);   /* a class's configured capacity: the adaptive bound */
uint32_t hak_tcache_floor(unsigned cls); /* the capacity a cache starts at and shrinks to */
void hak_tcache_set_target(unsigned cls, uint32_t target); /* the owner; keeps the gauges */
/* Calls fn on every live heap, under the registry lock (quiet-thread reclaim). */
void hak_heaps_for_each(void (*fn)(struct hak_heap *h, void *arg), void *arg);
void hak_heap_answer_probe(struct hak_heap *h); /* the owner, h->lock held */
/* The heap shared by threads whose exit handler ran, locked and unlocked. */
struct hak_heap *hak_heap_late_lock(void);
void hak_heap_late_unlock(void);
void hak_heap_release(struct hak_heap *h);
void hak_heap_fork_prepare(void);
void hak_heap_fork_parent(void);
void hak_heap_fork_child(void);

/* ---- slab engine (slab.c), shared by Tiny and Mid ---------------------- */

void *hak_slab_alloc_slow(unsigned cls);
void hak_tcache_overflow(struct hak_tcache *tc, void *p);
/* p first: free keeps the block in the first argument's register from entry to this tail call */
void hak_slab_free_remote(void *p, struct hak_slab *s, struct hak_superslab *ss);
HAK_COLD void hak_free_key_check(const char *fn, struct hak_superslab *ss, struct hak_slab *s, void *p);
/* A free block without the free key, found by a pop or a refill: stops the process.
 * Declared as returning (a block, never NULL) so that the pop reaches it
 * by a jump: a call would give malloc a stack frame. */
HAK_COLD __attribute__((returns_nonnull)) void *hak_cached_block_bad(void *p);
bool hak_block_is_out(struct hak_superslab *ss, struct hak_slab *s, const void *p);
void hak_slab_check_block(const char *fn, struct hak_superslab *ss, struct hak_slab *s, void *p);
HAK_COLD void hak_slab_check_slow(const char *fn, struct hak_superslab *ss, struct hak_slab *s, void *p);
void hak_slab_free_owned(struct hak_superslab *ss, struct hak_slab *s, void *p, const char *fn);
void hak_tcache_return_all(struct hak_heap *h, unsigned first, unsigned last);
size_t hak_slab_flush_others(enum hak_tier tier); /* the tier in every live heap, others' caches too */
void hak_heap_orphan_all(struct hak_heap *h);
void hak_slab_locks(int op); /* 0 lock, 1 unlock, 2 reinit */

/* ---- Large spans and Huge mappings (large.c) --------------------------- */

void *hak_large_alloc(size_t size, size_t align, bool *zeroed);
void hak_large_free(struct hak_segment *seg, void *p, const char *fn);
size_t hak_large_usable(struct hak_segment *seg, const void *p, const char *fn);
bool hak_large_resize(struct hak_segment *seg, void *p, size_t size, const char *fn);
size_t hak_large_flush_all(void);
void hak_large_tcache_release(void);
size_t hak_large_tcache_reclaim(struct hak_large_tcache *t);
void *hak_huge_alloc(size_t size, size_t align, bool *zeroed);
void hak_huge_free(struct hak_segment *seg, void *p, const char *fn);
size_t hak_huge_usable(struct hak_segment *seg, const void *p, const char *fn);
void hak_large_locks(int op);
void hak_huge_locks(int op);

/* ---- decay (decay.c): giving free memory back with no call from the program */

/* Why a tier releases memory; the tiers count released bytes per reason. */
enum hak_release_why { HAK_RELEASE_DECAY, HAK_RELEASE_IDLE, HAK_RELEASE_PRESSURE, HAK_RELEASE_FLUSH };
#define HAK_RELEASE_ALL UINT64_MAX /* a cutoff that releases everything free */

/* A tier's part in decay: give back what has been free since before
 * `cutoff` (a hak_decay_now() time, or HAK_RELEASE_ALL), count it under
 * `why`, return the bytes given back; and the bytes it holds free. */
size_t hak_large_release(uint64_t cutoff, enum hak_release_why why);
size_t hak_large_cached(void);
size_t hak_huge_release(uint64_t cutoff, enum hak_release_why why);
size_t hak_huge_cached(void);
size_t hak_tiny_release(uint64_t cutoff, enum hak_release_why why);
size_t hak_tiny_cached(void);
size_t hak_mid_release(uint64_t cutoff, enum hak_release_why why);
size_t hak_mid_cached(void);
/* Between passes: quiet owners' slabs that other threads' frees emptied. */
size_t hak_tiny_release_waiting(uint64_t cutoff);
size_t hak_mid_release_waiting(uint64_t cutoff);

uint64_t hak_decay_now(void); /* milliseconds, through the test seam */
void hak_decay_cached(void);  /* a free left memory cached; call outside tier locks */

/* A slow path's tier lock is released: if it left a slab or SuperSlab
 * free (hak_tls.cached_event), decay hears of it now. */
static inline void hak_cached_event_done(void)
{
    if (unlikely(hak_tls.cached_event)) {
        hak_tls.cached_event = false;
        hak_decay_cached();
    }
}
void hak_decay_alloc_slow(void);
void hak_decay_start(void); /* an allocation slow path, outside every lock */
void hak_decay_locks(int op);
void hak_decay_fork_child(void);

/* Memory pressure (pressure.c): PSI avg10 (unless the caller polls a
 * trigger) or the memory cgroup's usage near its limit, v2 or v1. */
bool hak_pressure_read(bool have_trigger);
int hak_pressure_trigger_open(void); /* a PSI trigger fd to poll for POLLPRI, or -1 */

/* Marks Large/Huge activity for idle detection: one shared flag, written
 * only when a pass has cleared it, so busy threads mostly just read it. */
extern _Atomic int hak_decay_active;
static inline void hak_decay_activity(void)
{
    if (!atomic_load_explicit(&hak_decay_active, memory_order_relaxed))
        atomic_store_explicit(&hak_decay_active, 1, memory_order_relaxed);
}

/* ---- region map (region_map.c) ------------------------------------------ */

#define HAK_MAP_BITS 47
#define HAK_MAP_LEAF_BITS 13
#define HAK_MAP_TOP_BITS (HAK_MAP_BITS - HAK_SEG_SHIFT - HAK_MAP_LEAF_BITS)

extern _Atomic(struct hak_segment **) hak_region_top[1u << HAK_MAP_TOP_BITS];

/* The segment header of a pointer hakmem owns, or NULL. */
static inline struct hak_segment *hak_region_lookup(const void *p)
{
    /* one compare bounds the pointer and the top index */
    uintptr_t top = (uintptr_t)p >> (HAK_SEG_SHIFT + HAK_MAP_LEAF_BITS);
    if (unlikely(top >= (1u << HAK_MAP_TOP_BITS))) return NULL;
    struct hak_segment **leaf = atomic_load_explicit(&hak_region_top[top], memory_order_acquire);
    if (unlikely(!leaf)) return NULL;
    uintptr_t chunk = ((uintptr_t)p >> HAK_SEG_SHIFT) & ((1u << HAK_MAP_LEAF_BITS) - 1);
    return __atomic_load_n(&leaf[chunk], __ATOMIC_ACQUIRE);
}
/* One byte per 2 MiB chunk of the 47-bit space, 1 while a Tiny or Mid
 * SuperSlab starts there: free's fast path finds the SuperSlab of a block
 * with one shift, one byte load and a mask instead of the two-level walk.
 * 64 MiB of zero-initialised address space, of which a page is written per
 * 8 GiB of address space that holds SuperSlabs. */
#define HAK_SUPERSLAB_CHUNKS (1ull << (HAK_MAP_BITS - HAK_SEG_SHIFT))
extern _Atomic uint8_t hak_superslab_map[HAK_SUPERSLAB_CHUNKS];

/* Whether p points into a SuperSlab (false for NULL and every pointer
 * hakmem does not own); the SuperSlab is then p's 2 MiB chunk. */
static inline bool hak_in_superslab(const void *p)
{
    uintptr_t chunk = (uintptr_t)p >> HAK_SEG_SHIFT;
    if (unlikely(chunk >= HAK_SUPERSLAB_CHUNKS)) return false; /* beyond 47 bits */
    return ((const uint8_t *)hak_superslab_map)[chunk] != 0; /* a plain byte load */
}
bool hak_region_register(void *base, size_t size, struct hak_segment *seg);
void hak_region_unregister(void *base, size_t size);
void hak_region_locks(int op);

/* ---- OS layer (os.c): the only file that maps memory ------------------- */

void *hak_os_map(size_t size);                   /* page-aligned, zeroed    */
void *hak_os_map_aligned(size_t size, size_t align); /* `align`-aligned, zeroed */
void *hak_os_map_shared(int fd, size_t size);
void hak_os_unmap(void *p, size_t size);
void hak_os_decommit(void *p, size_t size); /* MADV_DONTNEED: RSS drops now */
void hak_os_name(void *p, size_t size, const char *name);
void hak_os_random(void *buf, size_t n);
/* membarrier(PRIVATE_EXPEDITED): a full barrier on every running thread of
 * the process; false where the kernel does not offer it (registers once). */
bool hak_os_membarrier(void);
bool hak_os_membarrier_missing(void); /* known to be unavailable */
void hak_os_membarrier_fork_child(void);

/* ---- configuration (config.c) ------------------------------------------- */

#define HAK_OPTION_TYPE_BOOL long
#define HAK_OPTION_TYPE_INT long
#define HAK_OPTION_TYPE_STR const char *
struct hak_config {
#define HAK_OPTION(field, env, kind, def, lo, hi, text) HAK_OPTION_TYPE_##kind field;
#include "config.def"
#undef HAK_OPTION
};
extern struct hak_config hak_cfg;
void hak_config_load(void);

/* ---- start-up and errors (init.c, error.c) ------------------------------ */

extern _Atomic int hak_ready;
void hak_init_slow(void);
static inline void hak_ensure_init(void)
{
    if (unlikely(!atomic_load_explicit(&hak_ready, memory_order_acquire))) hak_init_slow();
}
__attribute__((noreturn)) HAK_COLD void hak_fatal_pointer(const char *fn, const char *what,
                                                          const void *p);
void hak_write_stderr(const char *s);
char *hak_fmt_u64(char *out, uint64_t v, int base);

/* Whether p is plainly a live block of slab s, the test of realloc and
 * malloc_usable_size, inline so that the in-place realloc most calls are
 * takes no call and no stack frame.  One product for the first two
 * tests: its low half is the boundary test of hak_block_misaligned (which
 * an unassigned or header slab, magic 0, fails), its high half the
 * block's index, whose out bit must be set.  A block with the free key in
 * word 1 is not plainly live: it may sit in the owner's cache, which
 * hak_slab_check_slow looks at. */
static inline bool hak_slab_plainly_live(struct hak_superslab *ss, struct hak_slab *s, void *p)
{
    uint64_t magic = s->div_magic;
    unsigned __int128 prod = (unsigned __int128)((uintptr_t)p & hak_slab_off_mask(ss)) * magic;
    if ((uint64_t)prod >= magic || (char *)p >= s->bump) return false;
    uint32_t idx = (uint32_t)(prod >> 64);
    return (atomic_load_explicit(hak_slab_out_base(ss, s) + idx / 64, memory_order_relaxed) >>
                (idx % 64) & 1) &&
           ((void **)p)[1] != (void *)hak_free_key;
}

/* Stops the process unless p is a live block of slab s. */
static inline void hak_slab_check_live(const char *fn, struct hak_superslab *ss,
                                       struct hak_slab *s, void *p)
{
    if (unlikely(!hak_slab_plainly_live(ss, s, p))) hak_slab_check_slow(fn, ss, s, p);
}

/* ---- helpers ------------------------------------------------------------ */

static inline size_t hak_align_up(size_t n, size_t a)
{
    return (n + a - 1) & ~(a - 1);
}

#pragma GCC visibility pop

#endif
