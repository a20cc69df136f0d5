/*
 * Where a run's CPU time goes (hak bench --perf): runs a command under `perf record -e cpu-clock`,
 * a software event every kernel has (no PMU needed, so it works on a VM), and counts how many of
 * the samples fell in the allocator's code and how many in the kernel.
 * Each sample is a fixed slice of CPU time, so the allocator's samples times the slice is the CPU
 * time spent inside the allocator.  Times, unlike instruction counts, move with the machine's
 * load: repeat and read the medians.  docs/benchmarks.md, "Where the time goes".
 */
#ifndef HAK_TIME_SPLIT_H
#define HAK_TIME_SPLIT_H

#include <stddef.h>

#include "allocators.h"

#define TIME_SPLIT_MAX_PREFIX 20
#define TIME_SPLIT_PERIOD_NS 250000 /* one sample per 250 us of CPU time: 4,000 a CPU-second */

struct time_split {
    char dir[64];   /* private directory for the sample file of one run at a time */
    char data[128]; /* the sample file */
    char preload_arg[HAK_ALLOC_PATH_MAX + 16]; /* LD_PRELOAD=... for the command alone */
    const char *prefix[TIME_SPLIT_MAX_PREFIX + 1];
};

/* Checks that `perf record -e cpu-clock` works here and makes the private directory.  0, or -1
 * with why saying what is missing (perf not installed, perf_event_open refused). */
int time_split_open(struct time_split *ts, char *why, size_t why_len);

/* The argv to exec: perf record (without the preload), then the command with `preload` (a
 * library path, or "" / NULL for none).  out needs TIME_SPLIT_MAX_PREFIX + argc + 1 slots; its
 * strings live in ts until the next call.  Removes the samples of a previous run. */
void time_split_wrap(struct time_split *ts, const char *preload, char **argv, char **out);

/* The last wrapped run's samples, by where they fell. */
struct time_split_samples {
    double total;
    double alloc;  /* the allocator: the preloaded library, or glibc's malloc functions */
    double kernel; /* system calls and page faults, whoever caused them */
};

/* Reads them with perf report.  `preload` as given to time_split_wrap.  0; -1 when there is no
 * sample file or perf report could not read it. */
int time_split_read(struct time_split *ts, const char *preload, struct time_split_samples *out);

/* Removes the private directory. */
void time_split_close(struct time_split *ts);

#endif
