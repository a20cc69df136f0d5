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
 */
#ifndef HAKMEM_PROBE_H
#define HAKMEM_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HAK_PROBE_MAGIC "HAKMEMCS"
#define HAK_PROBE_MEMFD_NAME "hakmem-counters" /* /proc/PID/fd shows "/memfd:hakmem-counters" */
#define HAK_PROBE_VERSION 1
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
};

struct hak_probe_counter {
    char name[HAK_PROBE_NAME_LEN];
    char group[HAK_PROBE_GROUP_LEN];
    char desc[HAK_PROBE_DESC_LEN];
};

struct hak_probe_slot {
    uint32_t in_use;
    int32_t tid;
    uint64_t reserved;
    uint64_t values[]; /* counter_count values */
};

struct hak_probe_region {
    uint64_t start;
    uint64_t size;
    uint32_t tier; /* enum hak_probe_tier */
    uint32_t reserved;
};

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
