/*
 * Region map: which 2 MiB chunks of the address space hakmem owns, and the
 * segment header each belongs to.  A two-level radix table over the 47-bit
 * user address space; leaves are mapped on first use and never freed, so a
 * lookup (free, realloc, malloc_usable_size) takes no lock.
 */
#include "counters.h"

_Atomic(struct hak_segment **) hak_region_top[1u << HAK_MAP_TOP_BITS];
_Atomic uint8_t hak_superslab_map[HAK_SUPERSLAB_CHUNKS];
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;

#define LEAF_ENTRIES (1u << HAK_MAP_LEAF_BITS)

static struct hak_segment **leaf_for(uintptr_t chunk, bool create)
{
    _Atomic(struct hak_segment **) *slot = &hak_region_top[chunk >> HAK_MAP_LEAF_BITS];
    struct hak_segment **leaf = atomic_load_explicit(slot, memory_order_acquire);
    if (leaf || !create) return leaf;
    leaf = hak_os_map(LEAF_ENTRIES * sizeof(*leaf));
    if (leaf) atomic_store_explicit(slot, leaf, memory_order_release);
    return leaf;
}

static void clear_entries(uintptr_t first, uintptr_t last)
{
    for (uintptr_t c = first; c <= last; c++) {
        struct hak_segment **leaf = leaf_for(c, false);
        if (leaf) __atomic_store_n(&leaf[c & (LEAF_ENTRIES - 1)], NULL, __ATOMIC_RELEASE);
    }
}

/* Records that [base, base + size) belongs to `seg`.  base is 2 MiB aligned. */
bool hak_region_register(void *base, size_t size, struct hak_segment *seg)
{
    uintptr_t first = (uintptr_t)base >> HAK_SEG_SHIFT;
    uintptr_t last = ((uintptr_t)base + size - 1) >> HAK_SEG_SHIFT;
    if (last >> (HAK_MAP_BITS - HAK_SEG_SHIFT)) return false;
    pthread_mutex_lock(&region_lock);
    for (uintptr_t c = first; c <= last; c++) {
        struct hak_segment **leaf = leaf_for(c, true);
        if (!leaf) {
            if (c > first) clear_entries(first, c - 1);
            pthread_mutex_unlock(&region_lock);
            return false;
        }
        __atomic_store_n(&leaf[c & (LEAF_ENTRIES - 1)], seg, __ATOMIC_RELEASE);
    }
    if (seg->tier <= HAK_TIER_MID) /* a SuperSlab is one chunk */
        atomic_store_explicit(&hak_superslab_map[first], 1, memory_order_relaxed);
    hak_counters_region_add(seg, base, size);
    pthread_mutex_unlock(&region_lock);
    return true;
}

/* Forgets [base, base + size); `base` starts with its segment header. */
void hak_region_unregister(void *base, size_t size)
{
    pthread_mutex_lock(&region_lock);
    hak_counters_region_remove(base);
    uintptr_t first = (uintptr_t)base >> HAK_SEG_SHIFT;
    atomic_store_explicit(&hak_superslab_map[first], 0, memory_order_relaxed);
    clear_entries((uintptr_t)base >> HAK_SEG_SHIFT, ((uintptr_t)base + size - 1) >> HAK_SEG_SHIFT);
    pthread_mutex_unlock(&region_lock);
}

void hak_region_locks(int op)
{
    if (op == 0) pthread_mutex_lock(&region_lock);
    else if (op == 1) pthread_mutex_unlock(&region_lock);
    else pthread_mutex_init(&region_lock, NULL);
}
