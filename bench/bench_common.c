/*
 * Helpers shared by the benchmarks (bench_common.h).
 */
#include "bench_common.h"
#include "flush.h"
#include "hakphase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_sleep_ms(uint64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void bench_rng_seed(struct bench_rng *rng, uint64_t seed, uint64_t stream) {
    /* splitmix64 of (seed, stream): distinct, never-zero states for every thread. */
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    rng->state = z ? z : 0x853C49E6748FEA9BULL;
}

void *bench_map(size_t bytes) {
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "bench: mmap of %zu bytes for bookkeeping failed: %s\n", bytes,
                strerror(errno));
        exit(1);
    }
    return p;
}

void bench_unmap(void *p, size_t bytes) {
    if (p) munmap(p, bytes ? bytes : 1);
}

void *bench_remap(void *p, size_t old_bytes, size_t new_bytes) {
    if (!p) return bench_map(new_bytes);
    void *q = mremap(p, old_bytes ? old_bytes : 1, new_bytes, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) {
        fprintf(stderr, "bench: mremap to %zu bytes for bookkeeping failed: %s\n", new_bytes,
                strerror(errno));
        exit(1);
    }
    return q;
}

/* Finds "Key:   123 kB" in an smaps_rollup text. */
static uint64_t rollup_field(const char *text, const char *key) {
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            return strtoull(line + klen + 1, NULL, 10);
        line = strchr(line, '\n');
        if (line) line++;
    }
    return 0;
}

int bench_read_rss(uint64_t *rss_kb, uint64_t *lazyfree_kb) {
    /* read(2) into a stack buffer: stdio would allocate through the allocator under test. */
    char text[4096];
    *rss_kb = *lazyfree_kb = 0;
    int fd = open("/proc/self/smaps_rollup", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t used = 0;
    ssize_t n;
    while (used < sizeof text - 1 && (n = read(fd, text + used, sizeof text - 1 - used)) > 0)
        used += (size_t)n;
    close(fd);
    text[used] = '\0';
    *rss_kb = rollup_field(text, "Rss");
    *lazyfree_kb = rollup_field(text, "LazyFree");
    return *rss_kb ? 0 : -1;
}

void bench_die_usage(const char *prog, const char *message) {
    fprintf(stderr, "%s: %s\n", prog, message);
    exit(2);
}

void bench_fail(const char *prog, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", prog, line);
    exit(1);
}

void bench_parse_or_exit(const struct bench_spec *spec, long long *values, int argc, char **argv) {
    char err[512];
    int r = bench_parse_args(spec, values, argc, argv, err, sizeof err);
    if (r == 1) {
        bench_print_usage(spec, stdout);
        exit(0);
    }
    if (r != 0) {
        fprintf(stderr, "%s: %s (see %s --help)\n", spec->name, err, spec->name);
        exit(2);
    }
}

void bench_start(const struct bench_spec *spec, long long *values, int argc, char **argv) {
    bench_parse_or_exit(spec, values, argc, argv);
    char params[1024];
    bench_format_params(spec, values, params, sizeof params);
    printf("%s: alloc=%s %s\n", spec->name, bench_alloc_name(), params);
    fflush(stdout);
    hak_phase_init(spec->name);
}

void bench_speed_result(const char *bench, uint64_t ops, double seconds, const char *extra) {
    uint64_t ops_per_sec = seconds > 0 ? (uint64_t)((double)ops / seconds) : 0;
    hak_phase_result_u64("ops_per_sec", ops_per_sec);
    printf("result bench=%s alloc=%s ops=%llu seconds=%.3f ops_per_sec=%llu%s%s\n", bench,
           bench_alloc_name(), (unsigned long long)ops, seconds, (unsigned long long)ops_per_sec,
           extra && extra[0] ? " " : "", extra ? extra : "");
    fflush(stdout);
}

void bench_speed_end(const char *bench, uint64_t ops, double seconds, const char *count_name,
                     uint64_t count, uint64_t corrupt, const char *corrupt_what) {
    hak_phase_mark_live("burst", 0);
    hak_phase_mark_live("free", 0);
    char extra[128] = "";
    int n = count_name
                ? snprintf(extra, sizeof extra, "%s=%llu ", count_name, (unsigned long long)count)
                : 0;
    snprintf(extra + n, sizeof extra - (size_t)n, "corrupt=%llu", (unsigned long long)corrupt);
    bench_speed_result(bench, ops, seconds, extra);
    if (corrupt) bench_fail(bench, "%llu %s", (unsigned long long)corrupt, corrupt_what);
}

uint64_t bench_report_phase(const char *phase, uint64_t live, uint64_t t0_ns) {
    uint64_t rss = 0, lazy = 0;
    bench_read_rss(&rss, &lazy);
    printf("phase name=%s t_ms=%.1f live_bytes=%llu rss_kb=%llu lazyfree_kb=%llu\n", phase,
           (double)(bench_now_ns() - t0_ns) / 1e6, (unsigned long long)live,
           (unsigned long long)rss, (unsigned long long)lazy);
    fflush(stdout);
    hak_phase_mark_live(phase, live);
    return rss;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void bench_idle_then_flush(uint64_t idle_ms, int flush, uint64_t t0_ns,
                           struct bench_idle_tail *out) {
    double cpu0 = cpu_seconds();
    bench_sleep_ms(idle_ms);
    out->idle_cpu_ms = (cpu_seconds() - cpu0) * 1e3;
    out->rss_idle_kb = out->rss_flush_kb = bench_report_phase("idle", 0, t0_ns);
    if (flush) {
        int reported;
        bench_flush(&reported);
        out->rss_flush_kb = bench_report_phase("flush", 0, t0_ns);
    }
}
