/*
 * Benchmark parameters, declared once.  Each benchmark (larson, battle) has a table of named
 * integer parameters with defaults and ranges; the benchmark parses its command line with it and
 * `hak bench` checks a profile against the same table before it starts anything, so a typo in a
 * profile is reported once, up front, in the same words.
 *
 * Values are integers with an optional binary suffix: 64K = 65536, 8M, 1G.
 */
#ifndef HAK_BENCH_PARAMS_H
#define HAK_BENCH_PARAMS_H

#include <stddef.h>
#include <stdio.h>

struct bench_param {
    const char *name; /* as written in a profile and after -- on a command line */
    long long def, min, max;
    const char *unit; /* "s", "ms", "B", "%", "bool", "" */
    const char *help;
};

struct bench_spec {
    const char *name;    /* "larson": also the binary's name in build/bin/ */
    const char *summary; /* one line */
    const struct bench_param *params;
    size_t count;
    /* Checks relations between parameters (min <= max, ...).  0 or -1 with a message. */
    int (*check)(const long long *values, char *err, size_t err_len);
    /* Parameter names of the classic positional command line, or NULL. */
    const char *const *classic;
};

#define BENCH_MAX_PARAMS 32

enum larson_param {
    LARSON_RUNTIME,
    LARSON_MIN_SIZE,
    LARSON_MAX_SIZE,
    LARSON_BLOCKS,
    LARSON_ROUNDS,
    LARSON_SEED,
    LARSON_THREADS,
    LARSON_PARAM_COUNT
};

enum battle_param {
    BATTLE_THREADS,
    BATTLE_CYCLES,
    BATTLE_WORKING_SET,
    BATTLE_TINY_PCT,
    BATTLE_MID_PCT,
    BATTLE_LARGE_PCT,
    BATTLE_CHURN,
    BATTLE_REMOTE_PCT,
    BATTLE_KEEP_PCT,
    BATTLE_IDLE_MS,
    BATTLE_FLUSH,
    BATTLE_TOUCH,
    BATTLE_SEED,
    BATTLE_PARAM_COUNT
};

enum bigbuf_param {
    BIGBUF_BUFFERS,
    BIGBUF_MIN_SIZE,
    BIGBUF_MAX_SIZE,
    BIGBUF_ROUNDS,
    BIGBUF_IDLE_MS,
    BIGBUF_FLUSH,
    BIGBUF_SEED,
    BIGBUF_PARAM_COUNT
};

/* Size classes of the battle test's mix, matching hakmem's tiers (allocator/include/hakmem.h). */
#define BATTLE_TINY_MIN 8
#define BATTLE_TINY_MAX 1024
#define BATTLE_MID_MAX (32 * 1024)
#define BATTLE_LARGE_MAX (1024 * 1024)

extern const struct bench_spec larson_spec;
extern const struct bench_spec battle_spec;
extern const struct bench_spec bigbuf_spec;

enum decay_param {
    DECAY_THREADS,
    DECAY_BURST,
    DECAY_TINY_PCT,
    DECAY_MID_PCT,
    DECAY_BLOCK_SIZE,
    DECAY_REMOTE_PCT,
    DECAY_IDLE_MS,
    DECAY_EXIT_THREADS,
    DECAY_FLUSH,
    DECAY_SEED,
    DECAY_PARAM_COUNT
};

extern const struct bench_spec decay_spec;

enum churn_param {
    CHURN_THREADS,
    CHURN_WAVES,
    CHURN_BLOCKS,
    CHURN_SMALL_PCT,
    CHURN_KEEP_PCT,
    CHURN_SEED,
    CHURN_PARAM_COUNT
};

extern const struct bench_spec churn_spec;

/* The benchmark with this name, or NULL. */
const struct bench_spec *bench_spec_find(const char *name);

/* Index of a parameter in spec->params, or -1. */
int bench_param_index(const struct bench_spec *spec, const char *name);

/* Fills values[] with the defaults. */
void bench_defaults(const struct bench_spec *spec, long long *values);

/* Parses "123", "64K", "8M", "1G".  0 or -1. */
int bench_parse_number(const char *text, long long *out);

/* Sets one parameter from text, range-checked.  0 or -1 with a one-line message in err. */
int bench_set_param(const struct bench_spec *spec, long long *values, const char *name,
                    const char *text, char *err, size_t err_len);

/* Parses a benchmark command line: `--name=value`, `--name value`, or the classic positional form
 * when every argument is a number.  Returns 0, 1 when --help was asked, or -1 with err filled.
 * Runs spec->check at the end. */
int bench_parse_args(const struct bench_spec *spec, long long *values, int argc, char **argv,
                     char *err, size_t err_len);

/* Writes "name=value name=value ..." (every parameter) into buf. */
const char *bench_format_params(const struct bench_spec *spec, const long long *values, char *buf,
                                size_t len);

/* Usage text listing every parameter with its default, range and meaning. */
void bench_print_usage(const struct bench_spec *spec, FILE *out);

enum replay_param { REPLAY_TRACE, REPLAY_STRICT, REPLAY_TOUCH, REPLAY_ROUNDS, REPLAY_PARAM_COUNT };

/* The recorded traces of datasets/traces/, by the number a profile's `trace =` gives. */
#define REPLAY_TRACE_COUNT 4
extern const char *const replay_trace_names[REPLAY_TRACE_COUNT];

extern const struct bench_spec replay_spec;

/* The speed workloads (docs/benchmarks.md, "Speed"). */
enum mallocfree_param {
    MALLOCFREE_PAIRS,
    MALLOCFREE_MIN_SIZE,
    MALLOCFREE_MAX_SIZE,
    MALLOCFREE_WINDOW,
    MALLOCFREE_SEED,
    MALLOCFREE_PARAM_COUNT
};

enum prodcons_param {
    PRODCONS_BLOCKS,
    PRODCONS_BLOCK_SIZE,
    PRODCONS_QUEUE,
    PRODCONS_PAIRS,
    PRODCONS_PARAM_COUNT
};

enum smallobj_param {
    SMALLOBJ_TREES,
    SMALLOBJ_DEPTH,
    SMALLOBJ_NUMBERS,
    SMALLOBJ_SEED,
    SMALLOBJ_PARAM_COUNT
};

enum reallocgrow_param {
    REALLOCGROW_BUFFERS,
    REALLOCGROW_STEP,
    REALLOCGROW_MAX_SIZE,
    REALLOCGROW_LIVE,
    REALLOCGROW_SEED,
    REALLOCGROW_PARAM_COUNT
};

extern const struct bench_spec mallocfree_spec;
extern const struct bench_spec prodcons_spec;
extern const struct bench_spec smallobj_spec;
extern const struct bench_spec reallocgrow_spec;

#endif
