/*
 * The layout of hakmem's counter segment: a memfd named
 * HAK_PROBE_MEMFD_NAME, sealed against shrinking and growing, that a running
 * hakmem process keeps open and mapped shared, so another process allowed to
 * read its /proc/PID/fd can map it read-only and read the counters and the
 * address ranges hakmem owns while it runs.  docs/counters.md describes it;
 * probes/counter_reader.h reads it.
 *
 *   header | counter names | slots (slot 0: exited threads) | region table
 *
 * Each thread increments its own slot with plain stores.  A reader sums all
 * slots; fold_seq is odd while an exiting thread moves its slot into slot 0,
 * and a reader that sees it change retries.  region_seq does the same for
 * the region table.
 *
 * A slot also holds its thread's caches (struct hak_probe_cache, one per
 * size class, at cache_offset from the slot's start).  Three counters are
 * not counted but derived from them (hak_probe_slot_read): free_tls_sll
 * (push_counter) adds every cache's `pushes`, tiny_alloc_hit / mid_alloc_hit
 * (hit_counter) add the `limit` of the tier's caches.  A slot's `seq` is odd
 * while its thread changes a limit together with the value that offsets it.
 */
#ifndef HAKMEM_PROBE_H
#define HAKMEM_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HAK_PROBE_MAGIC "HAKMEMCS"
#define HAK_PROBE_MEMFD_NAME "hakmem-counters" /* /proc/PID/fd shows "/memfd:hakmem-counters" */
#define HAK_PROBE_VERSION 2
#define HAK_PROBE_NAME_LEN 48
#define HAK_PROBE_GROUP_LEN 16
#define HAK_PROBE_DESC_LEN 128

enum hak_probe_state { HAK_PROBE_LIVE = 1, HAK_PROBE_EXITED = 2 };
enum hak_probe_tier { HAK_PROBE_TIER_TINY, HAK_PROBE_TIER_MID, HAK_PROBE_TIER_LARGE, HAK_PROBE_TIER_HUGE };

struct hak_probe_header {
    char magic[8];             /* HAK_PROBE_MAGIC, no terminator          */
    uint32_t version;          /* HAK_PROBE_VERSION                        */
    uint32_t header_size;      /* sizeof(struct hak_probe_header)          */
    uint64_t total_size;       /* bytes of the whole file                  */
    uint32_t counter_count;
    uint32_t slot_count;       /* including slot 0                         */
    uint32_t slot_stride;      /* bytes from one slot to the next          */
    uint32_t region_capacity;
    uint64_t names_offset;     /* struct hak_probe_counter[counter_count]  */
    uint64_t slots_offset;     /* struct hak_probe_slot, slot_stride apart */
    uint64_t regions_offset;   /* struct hak_probe_region[region_capacity] */
    int64_t pid;
    uint64_t start_ticks;      /* the process's start time, /proc/PID/stat field 22 */
    uint64_t fold_seq;
    uint64_t region_seq;
    uint32_t region_count;
    uint32_t state;            /* enum hak_probe_state                     */
    char build_id[64];
    uint64_t cache_offset;     /* struct hak_probe_cache[cache_count], from a slot's start */
    uint32_t cache_count;      /* caches per slot (Tiny and Mid size classes) */
    uint32_t cache_tiny;       /* the first cache_tiny of them are Tiny's  */
    uint32_t hit_counter[2];   /* ids of tiny_alloc_hit and mid_alloc_hit  */
    uint32_t push_counter;     /* id of free_tls_sll                       */
    uint32_t class_sizes_offset; /* uint32_t[cache_count]: each cache's block size, from the start */
    /* Slots [0, slots_used) have been taken at some time: readers read no
     * further, so the pages of slots never used stay untouched (a read of
     * a memfd's hole allocates a page, charged to the process's cgroup). */
    uint32_t slots_used;
    uint32_t reserved;
};

struct hak_probe_counter {
    char name[HAK_PROBE_NAME_LEN];
    char group[HAK_PROBE_GROUP_LEN];
    char desc[HAK_PROBE_DESC_LEN];
};

struct hak_probe_slot {
    uint32_t in_use;
    int32_t tid;
    uint64_t seq;      /* odd while a cache's limit and its offset change */
    uint64_t values[]; /* counter_count values */
};

/* A thread cache of one size class: `pushes` blocks freed into it since
 * the slot was taken, and `limit`, which a cache hit raises by one. */
struct hak_probe_cache {
    uint64_t head; /* the thread's first cached block */
    uint64_t pushes;
    uint64_t limit;
    uint32_t cap;
    uint32_t taken; /* blocks a reclaimer took, not yet room: not cached */
};

struct hak_probe_region {
    uint64_t start;
    uint64_t size;
    uint32_t tier; /* enum hak_probe_tier */
    uint32_t reserved;
};

/* Adds one slot's counters to out[counter_count], the derived ones
 * included.  `h` is a header already checked (ids below counter_count,
 * caches inside the slot).  Returns 0, adding nothing, when the slot's
 * thread was changing it: the caller reads again. */
static inline int hak_probe_slot_read(const struct hak_probe_header *h,
                                      const struct hak_probe_slot *s, uint64_t *out,
                                      uint64_t *scratch)
{
    uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (seq & 1) return 0;
    for (uint32_t c = 0; c < h->counter_count; c++)
        scratch[c] = __atomic_load_n(&s->values[c], __ATOMIC_RELAXED);
    const struct hak_probe_cache *tc =
        (const struct hak_probe_cache *)((const char *)s + h->cache_offset);
    for (uint32_t i = 0; i < h->cache_count; i++) {
        scratch[h->push_counter] += __atomic_load_n(&tc[i].pushes, __ATOMIC_RELAXED);
        scratch[h->hit_counter[i >= h->cache_tiny]] += __atomic_load_n(&tc[i].limit, __ATOMIC_RELAXED);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the reads above happen before the re-check */
    if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq) return 0;
    for (uint32_t c = 0; c < h->counter_count; c++) out[c] += scratch[c];
    return 1;
}

/* The process start time (field 22) in the text of /proc/PID/stat, or 0;
 * with the pid it names a process even after the pid is reused. */
static inline uint64_t hak_probe_stat_start_ticks(const char *stat)
{
    const char *p = strrchr(stat, ')'); /* the command name may hold spaces */
    if (!p) return 0;
    for (int field = 2; *p && field < 22; p++)
        if (*p == ' ') field++;
    return strtoull(p, NULL, 10);
}

#endif
