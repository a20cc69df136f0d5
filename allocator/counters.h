/*
 * Counter hooks.  Every counter of counters.def has an id; HAK_COUNT(name)
 * adds one to the calling thread's slot of the counter segment with a plain
 * store.  Only a thread with a heap has a slot (attached when the heap is
 * created, folded into slot 0 when it is released); events of threads
 * without one (a thread that only frees, or code running after the heap's
 * release at thread exit) are added atomically to slot 0.  HAK_COUNT_FAST is
 * for paths that only run in a thread with a heap.  With COUNTERS=0 all of
 * it compiles to nothing.
 */
#ifndef HAKMEM_COUNTERS_H
#define HAKMEM_COUNTERS_H

#include <stdint.h>

#include "hakmem_internal.h"

enum hak_counter_id {
#define HAK_COUNTER(name, group, desc) HAK_CTR_##name,
#include "counters.def"
#undef HAK_COUNTER
    HAK_NUM_COUNTERS
};

#if HAKMEM_COUNTERS
#define hak_ctr (hak_tls.ctr)
uint64_t *hak_counters_attach(void);
void hak_counters_detach(void);
void hak_counters_fork_prepare(void);
void hak_counters_add_shared(unsigned id, uint64_t n);
void hak_counters_ensure_segment(void);
void hak_counters_mark_exited(void);
void hak_counters_fork_child(void);
void hak_counters_region_add(struct hak_segment *seg, void *base, size_t size);
void hak_counters_region_remove(struct hak_segment *seg);
void hak_counters_totals(uint64_t out[HAK_NUM_COUNTERS]);
const char *hak_counter_name(unsigned i);
const char *hak_counter_group(unsigned i);
int hak_counters_shared_fd(void); /* the memfd, or -1 when private */

static inline void hak_count_add(unsigned id, uint64_t n)
{
    uint64_t *c = hak_ctr;
    if (likely(c != NULL)) c[id] += n;
    else hak_counters_add_shared(id, n);
}
#define HAK_COUNT_FAST(name) (hak_ctr[HAK_CTR_##name]++)
#define HAK_COUNT(name) hak_count_add(HAK_CTR_##name, 1)
#define HAK_COUNT_ADD(name, n) hak_count_add(HAK_CTR_##name, (uint64_t)(n))
#define HAK_COUNT_ID(id) hak_count_add((id), 1)
#define HAK_COUNT_SUB(name, n) hak_count_add(HAK_CTR_##name, -(uint64_t)(n))
#define HAK_COUNT_ADD_ID(id, n) hak_count_add((id), (uint64_t)(n))
#define HAK_COUNT_SUB_ID(id, n) hak_count_add((id), -(uint64_t)(n))
#else
#define HAK_COUNT_ADD_ID(id, n) ((void)(id), (void)(n))
#define HAK_COUNT_SUB_ID(id, n) ((void)(id), (void)(n))
#define HAK_COUNT_FAST(name) ((void)0)
#define HAK_COUNT(name) ((void)0)
#define HAK_COUNT_ADD(name, n) ((void)(n))
#define HAK_COUNT_ID(id) ((void)(id))
#define HAK_COUNT_SUB(name, n) ((void)(n))
static inline void hak_counters_detach(void) {}
static inline void hak_counters_fork_prepare(void) {}
static inline void hak_counters_fork_child(void) {}
static inline void hak_counters_region_add(struct hak_segment *seg, void *base, size_t size)
{
    (void)seg, (void)base, (void)size;
}
static inline void hak_counters_region_remove(struct hak_segment *seg)
{
    (void)seg;
}
static inline void hak_counters_mark_exited(void) {}
#endif

/* Slow paths change a cache's room and capacity through these (heap.c). */
void hak_tcache_room(struct hak_thread *t, unsigned cls, int64_t room);
void hak_tcache_set_cap(struct hak_thread *t, unsigned cls, uint32_t cap);
void hak_tcache_take(struct hak_thread *t, unsigned cls, uint32_t n); /* a reclaimer's */
void hak_tcache_taken_back(unsigned cls);                             /* the owner's */

/* Tier-relative counter ids: the Tiny and Mid entries of a family sit at a
 * fixed distance in counters.def. */
#define HAK_CTR_TIER(tiny_name, tier)                                                          \
    (HAK_CTR_##tiny_name + ((tier) == HAK_TIER_MID) * (HAK_CTR_mid_refill - HAK_CTR_tiny_refill))

#endif
