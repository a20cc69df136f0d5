/*
 * Helpers the benchmarks share: clock, random numbers, bookkeeping memory that bypasses malloc,
 * this process's RSS, and the one result line `hak bench` parses.
 *
 * Bookkeeping (block tables) is mapped with mmap, never malloc'ed, so the allocator under test
 * serves the workload's blocks and nothing else, and `live_bytes` is exactly what the workload
 * holds.
 */
#ifndef HAK_BENCH_COMMON_H
#define HAK_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "bench_params.h"

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* Sleeps for ms milliseconds (restarts after signals). */
void bench_sleep_ms(uint64_t ms);

/* xorshift64* generator: small, fast, and the same sequence on every allocator. */
struct bench_rng {
    uint64_t state;
};

void bench_rng_seed(struct bench_rng *rng, uint64_t seed, uint64_t stream);

static inline uint64_t bench_rng_next(struct bench_rng *rng) {
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [lo, hi]. */
static inline uint64_t bench_rng_range(struct bench_rng *rng, uint64_t lo, uint64_t hi) {
    return lo + bench_rng_next(rng) % (hi - lo + 1);
}

/* Zeroed memory straight from mmap; exits with a message on failure. */
void *bench_map(size_t bytes);
void bench_unmap(void *p, size_t bytes);
/* Grows a mapping from old_bytes to new_bytes, keeping its contents. */
void *bench_remap(void *p, size_t old_bytes, size_t new_bytes);

/* This process's resident memory from /proc/self/smaps_rollup, in KiB: Rss and LazyFree (pages
 * released with MADV_FREE that still count in Rss).  0 or -1 (values set to 0). */
int bench_read_rss(uint64_t *rss_kb, uint64_t *lazyfree_kb);

/* Prints "prog: message" on stderr and exits with status 2 (bad usage) or 1 (failure). */
void bench_die_usage(const char *prog, const char *message);
void bench_fail(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses argv with the spec (see bench_params.h); prints usage and exits on --help or error. */
void bench_parse_or_exit(const struct bench_spec *spec, long long *values, int argc, char **argv);

/* A workload's start: parses argv with the spec (exits on --help or error), prints
 * "NAME: alloc=A PARAMS" and joins the phase protocol as NAME. */
void bench_start(const struct bench_spec *spec, long long *values, int argc, char **argv);

/* The speed workloads' end (docs/benchmarks.md, "Speed"): sends ops_per_sec through the phase
 * protocol and prints "result bench=NAME alloc=A ops=N seconds=S ops_per_sec=R EXTRA". */
void bench_speed_result(const char *bench, uint64_t ops, double seconds, const char *extra);

/* The end of a speed workload that frees as it goes: the burst and free marks (nothing live),
 * the result with "COUNT_NAME=COUNT corrupt=N" (no count when count_name is NULL), and a failure
 * naming what corrupt counts when it is not 0. */
void bench_speed_end(const char *bench, uint64_t ops, double seconds, const char *count_name,
                     uint64_t count, uint64_t corrupt, const char *corrupt_what);

/* Marks a phase with the bytes the workload holds and prints "phase name=P t_ms=T live_bytes=L
 * rss_kb=R lazyfree_kb=Z" (t_ms from t0_ns); returns the Rss in KiB. */
uint64_t bench_report_phase(const char *phase, uint64_t live, uint64_t t0_ns);

/* The quiet end of the memory workloads (bigbuf, decay): idle_ms with no call, the "idle" phase,
 * then with flush the allocator's release call and the "flush" phase. */
struct bench_idle_tail {
    uint64_t rss_idle_kb, rss_flush_kb; /* rss_flush_kb is rss_idle_kb without flush */
    double idle_cpu_ms;                 /* CPU the process used while idle (its own threads') */
};
void bench_idle_then_flush(uint64_t idle_ms, int flush, uint64_t t0_ns,
                           struct bench_idle_tail *out);

#endif
