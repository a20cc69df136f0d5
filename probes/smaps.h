/*
 * Reads a process's memory map from /proc/PID/smaps_rollup (one line of totals, cheap enough for a
 * 10 ms timer) and /proc/PID/smaps (one entry per mapping), and classifies each mapping: a hakmem
 * tier (from the region list hakmem publishes in its counter segment), the brk heap, other
 * anonymous memory, the main stack, file-backed code or data, or a kernel special mapping.
 *
 * All sizes are in KiB, as the kernel prints them.  The parser works on text, so reports and tests
 * can feed it a saved file (hak_smaps_parse); the readers keep the /proc files open and re-read
 * them from offset 0, so a sample costs one pread and no path lookup.
 */
#ifndef HAK_SMAPS_H
#define HAK_SMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hakmem_probe.h"

/* The fields the toolkit keeps of a smaps entry or of the rollup (KiB). */
struct hak_smaps_fields {
    uint64_t size; /* mappings only: virtual size */
    uint64_t rss;
    uint64_t pss;
    uint64_t anonymous;
    uint64_t private_dirty;
    uint64_t lazyfree; /* MADV_FREE'd pages that still count in Rss */
    uint64_t anon_huge;
    uint64_t swap;
};

/* What a mapping is: first hakmem's tiers (tiers.def, numbered as enum hak_probe_tier), then what
 * the kernel says. */
enum hak_map_class {
#define HAK_TIER(upper, lower) HAK_MAP_##upper = HAK_PROBE_TIER_##upper,
#include "tiers.def"
#undef HAK_TIER
    HAK_MAP_HEAP,    /* [heap]: the brk heap (glibc's main arena)                   */
    HAK_MAP_ANON,    /* other anonymous memory: mmap'ed arenas, thread stacks, ...  */
    HAK_MAP_STACK,   /* [stack]: the main thread's stack                            */
    HAK_MAP_CODE,    /* file-backed and executable                                  */
    HAK_MAP_DATA,    /* file-backed, not executable (rodata, data, shared files)    */
    HAK_MAP_SPECIAL, /* [vdso], [vvar], [vsyscall] and other kernel mappings       */
    HAK_MAP_COUNTERS, /* hakmem's counter segment, /memfd:hakmem-counters          */
    HAK_MAP_CLASS_COUNT
};

/* How many tiers tiers.def lists. */
enum {
#define HAK_TIER(upper, lower) HAK_TIER_INDEX_##upper,
#include "tiers.def"
#undef HAK_TIER
    HAK_TIER_COUNT
};
/* The classes after the tiers must not collide with a tier's number. */
_Static_assert((int)HAK_MAP_HEAP == (int)HAK_TIER_COUNT, "tiers.def lists the tiers 0..N-1 in order");
_Static_assert((int)HAK_MAP_HUGE == (int)HAK_PROBE_TIER_HUGE && HAK_TIER_COUNT == 4,
               "tiers.def follows enum hak_probe_tier");

/* The names of the classes, in enum order (hak_map_class_name; the reports' columns). */
extern const char *const hak_map_class_names[HAK_MAP_CLASS_COUNT];

struct hak_mapping {
    uint64_t start, end; /* [start, end) */
    uint64_t offset;
    uint64_t inode;
    char perms[5];
    char dev[16];
    const char *path; /* "" for anonymous memory; points into the hak_smaps buffer */
    struct hak_smaps_fields f;
    enum hak_map_class cls;
    uint64_t hakmem_kb; /* KiB of [start, end) covered by hakmem regions */
};

struct hak_smaps {
    struct hak_mapping *maps;
    size_t count, cap;
    char *text; /* the file's text; paths point into it */
    size_t text_len, text_cap;
};

/* Open descriptors of one process's smaps_rollup, smaps, statm and pagemap. */
struct hak_smaps_source {
    int rollup_fd;
    int smaps_fd;
    int statm_fd;
    int pagemap_fd; /* -1 when the kernel refuses it: then hak_smaps_tier_rss fails */
    long page_kb;
    char *buf; /* rollup text */
    size_t buf_cap;
};

/* Opens /proc/PID/smaps_rollup, /proc/PID/smaps, /proc/PID/statm and /proc/PID/pagemap.  The kernel
 * binds them to the process's address space at open, so open after exec.  0, or -1 with errno. */
int hak_smaps_open(struct hak_smaps_source *src, pid_t pid);
void hak_smaps_close(struct hak_smaps_source *src);

/* Whether the address space the files were opened on is still the process's: an exec replaces it,
 * and then smaps, smaps_rollup and pagemap read nothing until reopened (statm follows the pid).
 * Costs one 8-byte pread of pagemap.  1 same, 0 gone (exec or exit), -1 unknown (no pagemap). */
int hak_smaps_same_mm(struct hak_smaps_source *src);

/* Reads the rollup.  0, or -1 when the process has gone (no address space, no file). */
int hak_smaps_read_rollup(struct hak_smaps_source *src, struct hak_smaps_fields *out);

/* Reads /proc/PID/statm: Rss and Anonymous from the kernel's counters, in constant time (the
 * rollup walks every page table entry: about 1 ms per 64 MiB resident on a VM).  The other fields
 * stay 0.  0, or -1 when the process has gone. */
int hak_smaps_read_statm(struct hak_smaps_source *src, struct hak_smaps_fields *out);

/* Reads every mapping into s (reusing its memory) and classifies it against no regions; call
 * hak_smaps_classify afterwards to attribute hakmem's.  0, or -1 when the process has gone. */
int hak_smaps_read(struct hak_smaps_source *src, struct hak_smaps *s);

/* Parses smaps text (modified in place: paths are terminated in it).  s takes ownership of text,
 * which must come from malloc.  Returns the number of mappings. */
size_t hak_smaps_parse(struct hak_smaps *s, char *text, size_t len);

/* Parses rollup text (or any smaps entry) into out; missing fields stay 0. */
void hak_smaps_parse_fields(const char *text, struct hak_smaps_fields *out);

/* Classifies every mapping of s.  regions: hakmem's region list sorted by start (may be NULL).  A
 * mapping overlapped by regions takes the tier covering most of its bytes when they cover at least
 * half of it (the kernel merges adjacent anonymous mappings, so a mapping may hold more than one
 * region, or a region and something else); hakmem_kb says how much of it they cover. */
void hak_smaps_classify(struct hak_smaps *s, const struct hak_probe_region *regions, size_t n);

/* Sums the fields of every mapping: what smaps_rollup would have said at the instant of this one
 * walk (Pss differs by the kernel's rounding of each mapping to KiB). */
void hak_smaps_sum(const struct hak_smaps *s, struct hak_smaps_fields *out);

/* Adds f to sum, field by field (the total of several processes). */
void hak_smaps_add(struct hak_smaps_fields *sum, const struct hak_smaps_fields *f);

/* What hakmem holds per tier: its regions, their bytes, and how many of those are resident. */
struct hak_tier_rss {
    uint64_t regions;
    uint64_t mapped_kb;
    uint64_t rss_kb;  /* pages present (from /proc/PID/pagemap) */
    uint64_t swap_kb; /* pages swapped out */
};

/* Counts, per tier, the resident pages of hakmem's regions (sorted by start) in
 * /proc/PID/pagemap: exact even where the kernel merged regions of several tiers, or a region and
 * foreign memory, into one mapping, which smaps cannot split.  8 bytes read per page of the
 * regions.  0, or -1 when pagemap cannot be read. */
int hak_smaps_tier_rss(struct hak_smaps_source *src, const struct hak_probe_region *regions,
                       size_t n, struct hak_tier_rss out[4]);

/* Sorts a region list by start address, as hak_smaps_classify needs it. */
void hak_regions_sort(struct hak_probe_region *regions, size_t n);

void hak_smaps_free(struct hak_smaps *s);

/* "tiny", "mid", "large", "huge", "heap", "anon", "stack", "code", "data", "special",
 * "counters". */
const char *hak_map_class_name(enum hak_map_class c);

#endif
