/*
 * Reads a running hakmem process's counter segment (allocator/include/
 * hakmem_probe.h) from another process: maps it read-only, checks its
 * version and size, and returns consistent totals by counter name and the
 * address ranges hakmem owns per tier.
 */
#ifndef HAK_COUNTER_READER_H
#define HAK_COUNTER_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hakmem_probe.h"

struct hak_reader;

/* Default place of a process's segment; HAKMEM_COUNTERS_PATH with %p
 * overrides it exactly as the allocator reads it. */
void hak_reader_path_for_pid(pid_t pid, const char *tmpl, char *out, size_t cap);

/* Opens a segment by path or by pid (tmpl NULL: the default place).  On
 * failure returns NULL and writes one line saying why into err. */
struct hak_reader *hak_reader_open(const char *path, char *err, size_t errlen);
struct hak_reader *hak_reader_open_pid(pid_t pid, const char *tmpl, char *err, size_t errlen);
void hak_reader_close(struct hak_reader *r);

const struct hak_probe_header *hak_reader_header(const struct hak_reader *r);
unsigned hak_reader_counter_count(const struct hak_reader *r);
const char *hak_reader_counter_name(const struct hak_reader *r, unsigned i);
const char *hak_reader_counter_group(const struct hak_reader *r, unsigned i);
int hak_reader_counter_index(const struct hak_reader *r, const char *name); /* -1 if none */

/* Whether the process that wrote the segment still runs (same pid and
 * start time) and has not exited. */
bool hak_reader_alive(const struct hak_reader *r);

/* Sums every thread's slot into out[counter_count]; retries while a thread
 * is folding its slot.  Returns false if no consistent snapshot came. */
bool hak_reader_totals(const struct hak_reader *r, uint64_t *out);

/* Copies up to cap regions; returns how many there are (may exceed cap),
 * or -1 if no consistent snapshot came. */
long hak_reader_regions(const struct hak_reader *r, struct hak_probe_region *out, size_t cap);

/* Name of a region tier ("tiny", "mid", "large", "huge"). */
const char *hak_reader_tier_name(uint32_t tier);

#endif
