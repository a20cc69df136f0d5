/*
 * Reads a running hakmem process's counter segment (allocator/include/
 * hakmem_probe.h) from another process: finds the memfd among the
 * process's open files, maps it read-only, and returns consistent totals by
 * counter name and the address ranges hakmem owns per tier.
 *
 * The segment is written by another process and every byte of it is
 * treated as hostile: the header is copied and checked once at open, and
 * every later read is bounded by that copy, never by the shared bytes.
 */
#ifndef HAK_COUNTER_READER_H
#define HAK_COUNTER_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hakmem_probe.h"

struct hak_reader;

/* Opens the counter segment of process `pid`.  On failure returns NULL and
 * writes one line saying why into err (no such process, not allowed to
 * read it, not a hakmem process, a segment that fails the checks). */
struct hak_reader *hak_reader_open_pid(pid_t pid, char *err, size_t errlen);

/* Opens a segment from a descriptor the caller keeps (tests and the fuzz
 * harness feed memfds; hak_reader_open_pid comes here).  The file must be a
 * regular file sealed against shrinking, owned by the caller (unless the
 * caller is root), and must pass every header check. */
struct hak_reader *hak_reader_open_fd(int fd, char *err, size_t errlen);
void hak_reader_close(struct hak_reader *r);

/* The header as copied and checked at open.  Its live fields (fold_seq,
 * region_seq, region_count, state) are as they were then. */
const struct hak_probe_header *hak_reader_header(const struct hak_reader *r);
const char *hak_reader_build_id(const struct hak_reader *r); /* NUL-terminated copy */
unsigned hak_reader_counter_count(const struct hak_reader *r);
const char *hak_reader_counter_name(const struct hak_reader *r, unsigned i);
const char *hak_reader_counter_group(const struct hak_reader *r, unsigned i);
const char *hak_reader_counter_desc(const struct hak_reader *r, unsigned i);
int hak_reader_counter_index(const struct hak_reader *r, const char *name); /* -1 if none */

/* Whether the process that wrote the segment still runs (same pid and
 * start time) and has not exited. */
bool hak_reader_alive(const struct hak_reader *r);

/* Sums every thread's slot into out[hak_reader_counter_count(r)] (exactly
 * that many values); retries while a thread is folding its slot.  Returns
 * false if no consistent snapshot came. */
bool hak_reader_totals(const struct hak_reader *r, uint64_t *out);

/* The size classes of the thread caches: how many, and each one's block
 * size in bytes (0 for a class out of range). */
unsigned hak_reader_class_count(const struct hak_reader *r);
uint32_t hak_reader_class_size(const struct hak_reader *r, unsigned cls);

/* One size class's thread caches summed over the live threads: how many
 * threads have a cache of it with a capacity, their capacities and the
 * blocks they hold now, in blocks. */
struct hak_reader_class {
    uint64_t threads, capacity, cached;
};
/* Fills out[hak_reader_class_count(r)]; a slot whose thread is changing a
 * cache is read again.  false if no consistent read came. */
bool hak_reader_classes(const struct hak_reader *r, struct hak_reader_class *out);

/* Slots (threads with a heap) in use now, slot 0 not counted. */
unsigned hak_reader_slots_in_use(const struct hak_reader *r);

/* Copies up to cap regions; returns how many there are (at most the
 * region capacity, may exceed cap), or -1 if no consistent snapshot came. */
long hak_reader_regions(const struct hak_reader *r, struct hak_probe_region *out, size_t cap);

/* Name of a region tier ("tiny", "mid", "large", "huge"). */
const char *hak_reader_tier_name(uint32_t tier);

#endif
