/*
 * Counter hooks.  Every counter of counters.def has an id; HAK_COUNT(name)
 * adds one to the calling thread's slot of the counter segment with a plain
 * store.  HAK_COUNT_FAST is for paths that only run in a thread that already
 * has a heap (and so a slot); the others attach a slot first if needed.
 * With COUNTERS=0 all of it compiles to nothing.
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
void hak_counters_fork_child(void);
void hak_counters_region_add(struct hak_segment *seg, void *base, size_t size);
void hak_counters_region_remove(struct hak_segment *seg);
void hak_counters_totals(uint64_t out[HAK_NUM_COUNTERS]);
const char *hak_counter_name(unsigned i);
const char *hak_counter_group(unsigned i);
const char *hak_counters_path(void);

static inline uint64_t *hak_ctr_slot(void)
{
    uint64_t *c = hak_ctr;
    return likely(c != NULL) ? c : hak_counters_attach();
}
#define HAK_COUNT_FAST(name) (hak_ctr[HAK_CTR_##name]++)
#define HAK_COUNT_FAST_ID(id) (hak_ctr[(id)]++)
#define HAK_COUNT(name) (hak_ctr_slot()[HAK_CTR_##name]++)
#define HAK_COUNT_ADD(name, n) (hak_ctr_slot()[HAK_CTR_##name] += (uint64_t)(n))
#define HAK_COUNT_ID(id) (hak_ctr_slot()[(id)]++)
#define HAK_COUNT_SUB(name, n) (hak_ctr_slot()[HAK_CTR_##name] -= (uint64_t)(n))
#define HAK_COUNT_ADD_ID(id, n) (hak_ctr_slot()[(id)] += (uint64_t)(n))
#define HAK_COUNT_SUB_ID(id, n) (hak_ctr_slot()[(id)] -= (uint64_t)(n))
#else
#define HAK_COUNT_ADD_ID(id, n) ((void)(id), (void)(n))
#define HAK_COUNT_SUB_ID(id, n) ((void)(id), (void)(n))
#define HAK_COUNT_FAST(name) ((void)0)
#define HAK_COUNT_FAST_ID(id) ((void)(id))
#define HAK_COUNT(name) ((void)0)
#define HAK_COUNT_ADD(name, n) ((void)(n))
#define HAK_COUNT_ID(id) ((void)(id))
#define HAK_COUNT_SUB(name, n) ((void)(n))
static inline void hak_counters_detach(void) {}
static inline void hak_counters_fork_child(void) {}
static inline void hak_counters_region_add(struct hak_segment *seg, void *base, size_t size)
{
    (void)seg, (void)base, (void)size;
}
static inline void hak_counters_region_remove(struct hak_segment *seg)
{
    (void)seg;
}
#endif

/* Tier-relative counter ids: the Tiny and Mid entries of a family sit at a
 * fixed distance in counters.def. */
#define HAK_CTR_TIER(tiny_name, tier)                                                          \
    (HAK_CTR_##tiny_name + ((tier) == HAK_TIER_MID) * (HAK_CTR_mid_refill - HAK_CTR_tiny_refill))

#endif
