/*
 * Instruction counting (hak bench --icount): runs a command under `perf stat -e instructions:u`
 * where the machine has a PMU, else under callgrind, and reads back the instructions the command
 * and its children executed.  Counts, unlike times, do not move with the machine's load, so a
 * build-to-build difference of one per cent is a real difference.  docs/benchmarks.md, "Speed".
 */
#ifndef HAK_ICOUNT_H
#define HAK_ICOUNT_H

#include <stddef.h>

enum icount_tool { ICOUNT_NONE, ICOUNT_PERF, ICOUNT_CALLGRIND };

/* What callgrind simulates besides the count: the data caches (--cachesim: first level as
 * valgrind finds it, last level shaped as this CPU's L2), or the data TLBs (--tlbsim: the same
 * simulator with a 4 KiB page as its line, shaped as a 64-entry fully associative first level
 * and a 1,536-entry 6-way second level, the data TLBs of the EPYC this project measures on).
 * Neither reads a PMU, so both work on a VM; the TLB model is a proxy (no huge pages, no page
 * walk caches, no prefetch) that counts how many distinct pages the accesses keep in play. */
enum icount_sim { ICOUNT_SIM_NONE, ICOUNT_SIM_CACHES, ICOUNT_SIM_TLB };

#define ICOUNT_MAX_PREFIX 8

struct icount {
    enum icount_tool tool;
    enum icount_sim sim; /* set before icount_open (--cachesim, --tlbsim) */
    char dir[64]; /* private directory for the counter files of one run at a time */
    char out[128];
    char arg_out[160];
    char arg_ll[64]; /* --LL=SIZE,WAYS,LINE: the simulated last level is this CPU's L2 */
    char arg_d1[64]; /* --D1=SIZE,WAYS,LINE: the simulated first level (--tlbsim) */
    const char *prefix[ICOUNT_MAX_PREFIX + 1]; /* argv to put before the command, NULL-ended */
};

/* Picks the tool: $HAK_ICOUNT_TOOL (perf or callgrind) if set, else perf when `perf stat -e
 * instructions:u true` works, else callgrind when valgrind runs.  Fills `why` with the one line
 * saying which is used and why.  0, or -1 with why saying what is missing. */
int icount_open(struct icount *ic, char *why, size_t why_len);

/* The argv to exec: the tool's prefix, then argv.  out needs ICOUNT_MAX_PREFIX + argc + 1 slots.
 * Clears the counter files of a previous run. */
void icount_wrap(struct icount *ic, char **argv, char **out);

/* What the last wrapped run's counter files say, summed over all its processes: the
 * instructions, and with a simulation its data misses, reads and writes, in the first level
 * (d1: the L1 data cache, or the first-level data TLB) and the last (ll: this CPU's L2 where
 * sysfs gives its shape, or the second-level TLB). */
struct icount_counts {
    double instructions, d1, ll;
};

/* Reads them once.  0; -1 when the tool wrote no instruction count (the run failed before it
 * ended); -2 when a simulation is on and no file had misses. */
int icount_read(struct icount *ic, struct icount_counts *out);

/* Removes the private directory. */
void icount_close(struct icount *ic);

#endif
