/*
 * Parameter tables of the benchmarks and the parser they share with `hak bench` (bench_params.h).
 * docs/benchmarks.md explains what each parameter does to the workload.
 */
#include "bench_params.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define BIG (1LL << 40)

static const struct bench_param larson_params[LARSON_PARAM_COUNT] = {
    [LARSON_RUNTIME] = {"runtime", 5, 1, 3600, "s", "seconds the threads run"},
    [LARSON_MIN_SIZE] = {"min_size", 8, 1, 1LL << 30, "B", "smallest block size"},
    [LARSON_MAX_SIZE] = {"max_size", 1000, 1, 1LL << 30, "B", "largest block size"},
    [LARSON_BLOCKS] = {"blocks", 5000, 1, 1 << 24, "", "blocks each thread owns"},
    [LARSON_ROUNDS] =
        {"rounds", 100, 1, 1 << 24, "",
         "rounds (of `blocks` replacements) before a thread hands over to a successor"},
    [LARSON_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
    [LARSON_THREADS] = {"threads", 2, 1, 1024, "", "concurrent threads"},
};

static const struct bench_param battle_params[BATTLE_PARAM_COUNT] = {
    [BATTLE_THREADS] = {"threads", 4, 1, 256, "", "worker threads"},
    [BATTLE_CYCLES] = {"cycles", 3, 1, 10000, "", "burst/free/idle/flush cycles"},
    [BATTLE_WORKING_SET] = {"working_set", 64LL << 20, 4096, BIG, "B",
                            "bytes allocated by all threads together in each burst"},
    [BATTLE_TINY_PCT] = {"tiny_pct", 50, 0, 100, "%",
                         "share of working_set in Tiny blocks (8-1024 B)"},
    [BATTLE_MID_PCT] = {"mid_pct", 30, 0, 100, "%", "share in Mid blocks (1-32 KiB)"},
    [BATTLE_LARGE_PCT] = {"large_pct", 20, 0, 100, "%", "share in Large blocks (32 KiB-1 MiB)"},
    [BATTLE_CHURN] = {"churn", 20000, 0, BIG, "",
                      "replacements (free + malloc) each thread does after filling its share"},
    [BATTLE_REMOTE_PCT] =
        {"remote_pct", 25, 0, 100, "%",
         "share of blocks freed by another thread than the one that allocated them"},
    [BATTLE_KEEP_PCT] = {"keep_pct", 0, 0, 100, "%",
                         "share of blocks kept alive through idle and flush (fragmentation)"},
    [BATTLE_IDLE_MS] = {"idle_ms", 200, 0, 3600 * 1000, "ms", "idle time after the free phase"},
    [BATTLE_FLUSH] = {"flush", 1, 0, 1, "bool", "call the allocator's own flush after idle"},
    [BATTLE_TOUCH] = {"touch", 1, 0, 1, "bool",
                      "write every byte of every block (else only its ends)"},
    [BATTLE_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
};

static int larson_check(const long long *v, char *err, size_t err_len) {
    if (v[LARSON_MIN_SIZE] > v[LARSON_MAX_SIZE]) {
        snprintf(err, err_len, "min_size (%lld) is larger than max_size (%lld)", v[LARSON_MIN_SIZE],
                 v[LARSON_MAX_SIZE]);
        return -1;
    }
    return 0;
}

static int battle_check(const long long *v, char *err, size_t err_len) {
    long long sum = v[BATTLE_TINY_PCT] + v[BATTLE_MID_PCT] + v[BATTLE_LARGE_PCT];
    if (sum != 100) {
        snprintf(err, err_len, "tiny_pct + mid_pct + large_pct must be 100 (it is %lld)", sum);
        return -1;
    }
    return 0;
}

static const char *const larson_classic[] = {"runtime", "min_size", "max_size", "blocks",
                                             "rounds",  "seed",     "threads",  NULL};

const struct bench_spec larson_spec = {
    "larson",
    "Larson-Krishnan server workload: threads replace random blocks, successors inherit them",
    larson_params,
    LARSON_PARAM_COUNT,
    larson_check,
    larson_classic,
};

const struct bench_spec battle_spec = {
    "battle",
    "battle test: burst / free / idle / flush cycles over a mixed Tiny-Mid-Large working set",
    battle_params,
    BATTLE_PARAM_COUNT,
    battle_check,
    NULL,
};

static const struct bench_param bigbuf_params[BIGBUF_PARAM_COUNT] = {
    [BIGBUF_BUFFERS] = {"buffers", 12, 1, 4096, "", "buffers in the ring"},
    [BIGBUF_MIN_SIZE] = {"min_size", 2LL << 20, 4096, BIG, "B", "smallest buffer"},
    [BIGBUF_MAX_SIZE] = {"max_size", 16LL << 20, 4096, BIG, "B", "largest buffer"},
    [BIGBUF_ROUNDS] = {"rounds", 100, 1, 1 << 24, "", "times every buffer of the ring is replaced"},
    [BIGBUF_IDLE_MS] = {"idle_ms", 1000, 0, 3600 * 1000, "ms",
                        "idle time after everything is freed (no release call)"},
    [BIGBUF_FLUSH] = {"flush", 1, 0, 1, "bool", "call the allocator's own flush after idle"},
    [BIGBUF_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
};

static int bigbuf_check(const long long *v, char *err, size_t err_len) {
    if (v[BIGBUF_MIN_SIZE] > v[BIGBUF_MAX_SIZE]) {
        snprintf(err, err_len, "min_size (%lld) is above max_size (%lld)", v[BIGBUF_MIN_SIZE],
                 v[BIGBUF_MAX_SIZE]);
        return -1;
    }
    return 0;
}

const struct bench_spec bigbuf_spec = {
    "bigbuf",
    "big-buffer loop: a ring of big buffers replaced round after round, every page written",
    bigbuf_params,
    BIGBUF_PARAM_COUNT,
    bigbuf_check,
    NULL,
};

static const struct bench_param decay_params[DECAY_PARAM_COUNT] = {
    [DECAY_THREADS] = {"threads", 2, 1, 64, "", "worker threads"},
    [DECAY_BURST] = {"burst", 64LL << 20, 4096, BIG, "B", "bytes each worker allocates"},
    [DECAY_TINY_PCT] = {"tiny_pct", 80, 0, 100, "%", "blocks of 1 KiB or less"},
    [DECAY_MID_PCT] = {"mid_pct", 17, 0, 100, "%", "blocks of 1 KiB + 1 to 32 KiB (the rest: up to 1 MiB)"},
    [DECAY_BLOCK_SIZE] = {"block_size", 0, 0, 1 << 20, "B", "every block this size, 8 or more (0: the mix above)"},
    [DECAY_REMOTE_PCT] = {"remote_pct", 50, 0, 100, "%", "blocks freed by the next worker rather than their allocator"},
    [DECAY_IDLE_MS] = {"idle_ms", 500, 0, 3600 * 1000, "ms",
                       "idle time after everything is freed (no call, workers blocked or exited)"},
    [DECAY_EXIT_THREADS] = {"exit_threads", 0, 0, 1, "bool", "workers exit after their frees instead of blocking"},
    [DECAY_FLUSH] = {"flush", 1, 0, 1, "bool", "call the allocator's own flush from the main thread after idle"},
    [DECAY_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
};

static int decay_check(const long long *v, char *err, size_t err_len) {
    if (v[DECAY_BLOCK_SIZE] && v[DECAY_BLOCK_SIZE] < 8) {
        snprintf(err, err_len, "block_size must be 0 or at least 8 (it is %lld)", v[DECAY_BLOCK_SIZE]);
        return -1;
    }
    if (v[DECAY_TINY_PCT] + v[DECAY_MID_PCT] > 100) {
        snprintf(err, err_len, "tiny_pct + mid_pct must be at most 100 (it is %lld)",
                 v[DECAY_TINY_PCT] + v[DECAY_MID_PCT]);
        return -1;
    }
    return 0;
}

const struct bench_spec decay_spec = {
    "decay",
    "give-back test: workers allocate a mixed burst, free it (partly from another thread), go quiet",
    decay_params,
    DECAY_PARAM_COUNT,
    decay_check,
    NULL,
};

static const struct bench_param churn_params[CHURN_PARAM_COUNT] = {
    [CHURN_THREADS] = {"threads", 8, 1, 256, "", "threads per wave"},
    [CHURN_WAVES] = {"waves", 40, 1, 100000, "", "waves of threads, one after another"},
    [CHURN_BLOCKS] = {"blocks", 4000, 1, 1 << 24, "", "blocks each thread allocates"},
    [CHURN_SMALL_PCT] = {"small_pct", 90, 0, 100, "%", "blocks of 16 B to 4 KiB (the rest: 4 to 32 KiB)"},
    [CHURN_KEEP_PCT] = {"keep_pct", 20, 0, 100, "%", "blocks left to the next wave, freed after their thread exited"},
    [CHURN_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
};

const struct bench_spec churn_spec = {
    "churn",
    "thread churn: waves of threads allocate, free most, and leave the rest to the next wave",
    churn_params,
    CHURN_PARAM_COUNT,
    NULL,
    NULL,
};

static const struct bench_param mallocfree_params[MALLOCFREE_PARAM_COUNT] = {
    [MALLOCFREE_PAIRS] = {"pairs", 2000000, 1, BIG, "", "malloc/free pairs, a fixed amount of work"},
    [MALLOCFREE_MIN_SIZE] = {"min_size", 8, 1, 1LL << 30, "B", "smallest block"},
    [MALLOCFREE_MAX_SIZE] = {"max_size", 1000, 1, 1LL << 30, "B", "largest block"},
    [MALLOCFREE_WINDOW] = {"window", 64, 1, 1 << 20, "",
                           "blocks live at once: each malloc frees the block allocated `window` steps before"},
    [MALLOCFREE_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
};

static int mallocfree_check(const long long *v, char *err, size_t err_len) {
    if (v[MALLOCFREE_MIN_SIZE] > v[MALLOCFREE_MAX_SIZE]) {
        snprintf(err, err_len, "min_size (%lld) is above max_size (%lld)", v[MALLOCFREE_MIN_SIZE],
                 v[MALLOCFREE_MAX_SIZE]);
        return -1;
    }
    return 0;
}

const struct bench_spec mallocfree_spec = {
    "mallocfree",
    "fast-path loop: a fixed number of malloc/free pairs, one thread, deterministic sizes",
    mallocfree_params,
    MALLOCFREE_PARAM_COUNT,
    mallocfree_check,
    NULL,
};

static const struct bench_param prodcons_params[PRODCONS_PARAM_COUNT] = {
    [PRODCONS_BLOCKS] = {"blocks", 2000000, 1, BIG, "", "blocks the producer allocates and the consumer frees"},
    [PRODCONS_BLOCK_SIZE] = {"block_size", 64, 8, 1 << 20, "B", "size of every block"},
    [PRODCONS_QUEUE] = {"queue", 1024, 2, 1 << 20, "", "slots of the bounded queue between the two threads"},
    [PRODCONS_PAIRS] = {"pairs", 1, 1, 64, "", "producer/consumer thread pairs"},
};

const struct bench_spec prodcons_spec = {
    "prodcons",
    "producer/consumer: one thread allocates, another frees, through a bounded lock-free queue",
    prodcons_params,
    PRODCONS_PARAM_COUNT,
    NULL,
    NULL,
};

static const struct bench_param smallobj_params[SMALLOBJ_PARAM_COUNT] = {
    [SMALLOBJ_TREES] = {"trees", 40, 1, 1 << 20, "", "binary trees built and torn down one after another"},
    [SMALLOBJ_DEPTH] = {"depth", 16, 1, 24, "", "depth of each tree (2^depth - 1 nodes)"},
    [SMALLOBJ_NUMBERS] = {"numbers", 200000, 0, BIG, "",
                          "bignum additions/multiplications between trees (short-lived digit arrays)"},
    [SMALLOBJ_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
};

const struct bench_spec smallobj_spec = {
    "smallobj",
    "small-object program: trees of nodes with strings, and bignum arithmetic with temporaries",
    smallobj_params,
    SMALLOBJ_PARAM_COUNT,
    NULL,
    NULL,
};

static const struct bench_param reallocgrow_params[REALLOCGROW_PARAM_COUNT] = {
    [REALLOCGROW_BUFFERS] = {"buffers", 20000, 1, BIG, "", "buffers grown from empty and freed"},
    [REALLOCGROW_STEP] = {"step", 16, 1, 1 << 20, "B", "bytes appended per realloc (string builder)"},
    [REALLOCGROW_MAX_SIZE] = {"max_size", 16384, 1, 1LL << 30, "B",
                              "largest final size (each buffer's final size is random up to it)"},
    [REALLOCGROW_LIVE] = {"live", 8, 1, 4096, "", "buffers growing at once, interleaved"},
    [REALLOCGROW_SEED] = {"seed", 4141, 0, LLONG_MAX, "", "random seed"},
};

static int reallocgrow_check(const long long *v, char *err, size_t err_len) {
    if (v[REALLOCGROW_STEP] > v[REALLOCGROW_MAX_SIZE]) {
        snprintf(err, err_len, "step (%lld) is above max_size (%lld)", v[REALLOCGROW_STEP],
                 v[REALLOCGROW_MAX_SIZE]);
        return -1;
    }
    return 0;
}

const struct bench_spec reallocgrow_spec = {
    "reallocgrow",
    "realloc growth: buffers grown step by step with realloc, like string builders and vectors",
    reallocgrow_params,
    REALLOCGROW_PARAM_COUNT,
    reallocgrow_check,
    NULL,
};

const struct bench_spec *bench_spec_find(const char *name) {
    static const struct bench_spec *const speed[] = {&mallocfree_spec, &prodcons_spec,
                                                     &smallobj_spec, &reallocgrow_spec};
    for (size_t i = 0; i < sizeof speed / sizeof speed[0]; i++)
        if (strcmp(name, speed[i]->name) == 0) return speed[i];
    if (strcmp(name, churn_spec.name) == 0) return &churn_spec;
    if (strcmp(name, decay_spec.name) == 0) return &decay_spec;
    if (strcmp(name, larson_spec.name) == 0) return &larson_spec;
    if (strcmp(name, battle_spec.name) == 0) return &battle_spec;
    if (strcmp(name, bigbuf_spec.name) == 0) return &bigbuf_spec;
    if (strcmp(name, replay_spec.name) == 0) return &replay_spec;
    return NULL;
}

int bench_param_index(const struct bench_spec *spec, const char *name) {
    for (size_t i = 0; i < spec->count; i++)
        if (strcmp(spec->params[i].name, name) == 0) return (int)i;
    return -1;
}

void bench_defaults(const struct bench_spec *spec, long long *values) {
    for (size_t i = 0; i < spec->count; i++)
        values[i] = spec->params[i].def;
}

int bench_parse_number(const char *text, long long *out) {
    /* A digit first: strtoll would skip leading white space and accept a sign after it. */
    if (!text || !(*text >= '0' && *text <= '9')) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text) return -1;
    int shift = 0;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        return -1;
    }
    if (*end) return -1;
    if (shift && v > (LLONG_MAX >> shift)) return -1;
    *out = v << shift;
    return 0;
}

static const char *param_names(const struct bench_spec *spec, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < spec->count && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", spec->params[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
    return buf;
}

int bench_set_param(const struct bench_spec *spec, long long *values, const char *name,
                    const char *text, char *err, size_t err_len) {
    int i = bench_param_index(spec, name);
    if (i < 0) {
        char names[512];
        snprintf(err, err_len, "unknown parameter '%s' (%s knows: %s)", name, spec->name,
                 param_names(spec, names, sizeof names));
        return -1;
    }
    const struct bench_param *p = &spec->params[i];
    long long v;
    if (bench_parse_number(text, &v) != 0) {
        snprintf(err, err_len, "bad value '%s' for %s (expected a non-negative integer%s)", text,
                 name, strcmp(p->unit, "B") == 0 ? ", optional K/M/G suffix" : "");
        return -1;
    }
    if (v < p->min || v > p->max) {
        snprintf(err, err_len, "%s=%s is out of range [%lld, %lld]", name, text, p->min, p->max);
        return -1;
    }
    values[i] = v;
    return 0;
}

static int all_numeric(int argc, char **argv) {
    long long ignored;
    for (int i = 1; i < argc; i++)
        if (bench_parse_number(argv[i], &ignored) != 0) return 0;
    return argc > 1;
}

int bench_parse_args(const struct bench_spec *spec, long long *values, int argc, char **argv,
                     char *err, size_t err_len) {
    bench_defaults(spec, values);

    if (spec->classic && all_numeric(argc, argv)) {
        size_t want = 0;
        while (spec->classic[want])
            want++;
        if ((size_t)(argc - 1) != want) {
            snprintf(err, err_len, "the classic command line takes %zu numbers, got %d", want,
                     argc - 1);
            return -1;
        }
        for (size_t i = 0; i < want; i++)
            if (bench_set_param(spec, values, spec->classic[i], argv[i + 1], err, err_len) != 0)
                return -1;
        return spec->check ? spec->check(values, err, err_len) : 0;
    }

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return 1;
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            snprintf(err, err_len, "unexpected argument '%s' (parameters are --name=value)", arg);
            return -1;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(arg + 2, '=');
        size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, arg + 2, n);
        name[n] = '\0';
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(err, err_len, "--%s needs a value", name);
            return -1;
        }
        if (bench_set_param(spec, values, name, value, err, err_len) != 0) return -1;
    }
    return spec->check ? spec->check(values, err, err_len) : 0;
}

const char *bench_format_params(const struct bench_spec *spec, const long long *values, char *buf,
                                size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < spec->count && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s=%lld", i ? " " : "", spec->params[i].name,
                         values[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
    return buf;
}

void bench_print_usage(const struct bench_spec *spec, FILE *out) {
    fprintf(out, "usage: %s [--name=value ...]\n", spec->name);
    if (spec->classic) {
        fprintf(out, "       %s", spec->name);
        for (size_t i = 0; spec->classic[i]; i++)
            fprintf(out, " %s", spec->classic[i]);
        fprintf(out, "   (classic positional form)\n");
    }
    fprintf(out, "%s\n\nparameters (integers; sizes take K/M/G suffixes):\n", spec->summary);
    for (size_t i = 0; i < spec->count; i++) {
        const struct bench_param *p = &spec->params[i];
        fprintf(out, "  --%-12s default %-10lld %-4s %s\n", p->name, p->def, p->unit, p->help);
    }
}

/* A profile names a trace by number (parameters are integers): 0 = datasets/traces/python3.trace. */
const char *const replay_trace_names[REPLAY_TRACE_COUNT] = {"python3", "sqlite3", "gcc", "sort"};

static const struct bench_param replay_params[REPLAY_PARAM_COUNT] = {
    [REPLAY_TRACE] = {"trace", 0, 0, REPLAY_TRACE_COUNT - 1, "",
                      "recorded trace: 0 python3, 1 sqlite3, 2 gcc, 3 sort (datasets/traces/)"},
    [REPLAY_STRICT] = {"strict", 0, 0, 1, "bool",
                       "1: every operation waits for all earlier ones (exact peak live bytes)"},
    [REPLAY_TOUCH] = {"touch", 1, 0, 2, "",
                      "0 no writes, 1 each block's first and last byte, 2 a byte in every page"},
    [REPLAY_ROUNDS] = {"rounds", 1, 1, 1000000, "", "times the trace is replayed, each from an empty heap"},
};

const struct bench_spec replay_spec = {
    "replay",
    "replays a recorded allocation trace: same operations, threads and cross-thread frees",
    replay_params,
    REPLAY_PARAM_COUNT,
    NULL,
    NULL,
};
