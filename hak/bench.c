/*
 * hak bench: runs a profile once per allocator x repetition and prints throughput and peak RSS,
 * median and min-max per allocator.
 *
 *   hak bench PROFILE [--alloc LIST] [--repeat N] [--threads N] [--set KEY=VALUE]...
 *                     [--csv FILE] [-o RUN.DB [--interval MS] [--events LIST]]
 *                     [--timeout S] [--icount] [--cachesim | --tlbsim] [--perf] [--verbose]
 *                     [--quiet]
 *   hak bench --list
 *
 * Each run is a fresh benchmark process (build/bin/larson or build/bin/battle next to hak) with the
 * allocator chosen by LD_PRELOAD (none for glibc).  Repetitions are interleaved: every allocator
 * runs once before any runs twice, and the starting allocator rotates, so drift in the machine
 * (thermal, other load) hits all allocators alike.  Throughput is the benchmark's own `result`
 * line; peak RSS is the child's ru_maxrss from wait4().  docs/benchmarks.md has the details.
 *
 * With -o every run is recorded into one run database by the recorder (collectors/recorder.h), the
 * same code `hak record` uses: samples, phase snapshots, counters and events per run, plus the
 * fields of the benchmark's result line.
 *
 * With --icount every run goes under an instruction counter (collectors/icount.h) and the table
 * shows instructions per operation, stored with -o as the result `instr_per_op` (source 'icount')
 * that hak diff compares.  --cachesim runs it under callgrind's cache simulation and adds the
 * simulated data-cache misses per operation (results `d1_miss_per_op`, `ll_miss_per_op`);
 * --tlbsim runs the same simulator shaped as the data TLBs and adds the simulated TLB misses per
 * operation (results `dtlb_miss_per_op`, `stlb_miss_per_op`, source 'tlbsim').
 *
 * With --perf every run goes under `perf record -e cpu-clock` (collectors/time_split.h) and the
 * table shows the allocator's CPU time per operation and the shares of the run's CPU time spent in
 * the allocator and in the kernel (results `alloc_ns_per_op`, `alloc_time_share`,
 * `kernel_time_share`, source 'perf').
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "allocators.h"
#include "bench_params.h"
#include "hak.h"
#include "icount.h"
#include "launcher.h"
#include "profile.h"
#include "recorder.h"
#include "run_db.h"
#include "time_split.h"

#define MAX_SETS 32
#define MAX_REPEAT 1000
#define DEFAULT_TIMEOUT_S 600


struct bench_opts {
    const char *profile;
    const char *alloc_list;
    int repeat;
    const char *threads;
    const char *sets[MAX_SETS];
    int nsets;
    const char *csv;
    const char *db_path; /* -o: record every run into this database */
    double interval_ms;
    const char *events;
    int events_named; /* --events given: say on stderr when one is unsupported */
    int timeout_s;
    int verbose, quiet, list;
    struct icount *icount; /* --icount: the counter every run goes under (its `sim`: what it
                            * simulates too, --cachesim or --tlbsim); NULL without */
    struct time_split *perf; /* --perf: the sampler every run goes under; NULL without */
};

/* Result fields shown as extra table columns (RSS in KiB, printed as MiB medians). */
struct extra_column {
    const char *bench, *field, *title;
};

static const struct extra_column extra_columns[] = {
    {"battle", "rss_free_kb", "RSS free"},
    {"battle", "rss_flush_kb", "RSS flush"},
    {"bigbuf", "rss_baseline_kb", "RSS base"},
    {"bigbuf", "rss_idle_kb", "RSS idle"},
    {"decay", "rss_baseline_kb", "RSS base"},
    {"decay", "rss_idle_kb", "RSS idle"},
    {"decay", "rss_flush_kb", "RSS flush"},
};

#define EXTRA_COUNT (sizeof extra_columns / sizeof extra_columns[0])

struct run_result {
    int ok;
    int interrupted; /* the recording was stopped by SIGINT/SIGTERM: stop the session */
    double ops_per_sec;
    double ops;           /* the result line's operation count, 0 if it has none */
    double ops_per_cpu_s; /* operations per second of CPU time (user + system), 0 if unknown */
    double cpu_s;
    double extra_kb[EXTRA_COUNT]; /* -1 when the result line lacks the field */
    long peak_rss_kb;
    double wall_s;
    double instr_per_op; /* --icount: instructions / the ops of the result line; 0 without */
    double d1_per_op, ll_per_op; /* --cachesim, --tlbsim: simulated misses / ops; 0 without */
    /* --perf: the allocator's CPU time per op, and the shares of the run's CPU time spent in
     * the allocator and in the kernel (0 to 1); -1 without */
    double alloc_ns_per_op, alloc_share, kernel_share;
    char status[160];
    char result_line[1024];
};

static void bench_usage(FILE *out) {
    fprintf(out,
            "usage: hak bench PROFILE [options]\n"
            "       hak bench --list\n"
            "\n"
            "Runs PROFILE (a name from datasets/profiles/, or a path to a .profile file) once per\n"
            "allocator and repetition, then prints throughput and peak RSS per allocator.\n"
            "\n"
            "  -a, --alloc LIST     allocators, comma-separated, or 'all' (default: all that are\n"
            "                       installed): hakmem, glibc, mimalloc, jemalloc, tcmalloc;\n"
            "                       NAME=PATH adds a library of your own as a peer named NAME\n"
            "                       (e.g. hakmem,base=/tmp/old/build/libhakmem.so)\n"
            "  -r, --repeat N       runs per allocator (default 1)\n"
            "  -t, --threads N      override the profile's thread count\n"
            "  -s, --set KEY=VALUE  override a benchmark parameter (repeatable)\n"
            "      --csv FILE       also write one CSV row per run\n"
            "  -o, --output DB      record every run into the run database DB (hak record)\n"
            "      --interval MS    with -o: sampling interval (default %g ms)\n"
            "      --events LIST    with -o: perf events (default %s)\n"
            "      --timeout S      kill a run after S seconds (default %d)\n"
            "      --icount         count instructions per operation (perf, else callgrind:\n"
            "                       ~50x slower; use a fixed-work profile such as icount)\n"
            "      --cachesim       --icount under callgrind's cache simulation, adding data-cache\n"
            "                       misses per operation: first level, and last level shaped as\n"
            "                       this CPU's L2 (for machines without a PMU)\n"
            "      --tlbsim         the same simulation shaped as the data TLBs (pages as lines:\n"
            "                       64 entries, then 1,536), adding TLB misses per operation\n"
            "      --perf           sample each run with perf record -e cpu-clock, adding the\n"
            "                       allocator's CPU time per operation and the shares of CPU\n"
            "                       time in the allocator and in the kernel\n"
            "  -v, --verbose        show the benchmarks' output\n"
            "  -q, --quiet          no progress lines\n"
            "      --list           list profiles and allocators\n",
            HAK_RECORD_DEFAULT_INTERVAL_MS, HAK_RECORD_DEFAULT_EVENTS, DEFAULT_TIMEOUT_S);
}

/* One line on stderr, exit status 2. */
static int bad_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "hak bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

/* The same for a malformed command line, pointing at --help. */
static int bad_option(const char *fmt, const char *arg) {
    fprintf(stderr, "hak bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see hak bench --help)\n");
    return 2;
}

/* Matches "--name=value", "--name value" or "-s value"; advances *i past a separate value. */
static int option_value(const char *longname, const char *shortname, int argc, char **argv, int *i,
                        const char **value, int *missing) {
    const char *arg = argv[*i];
    size_t n = strlen(longname);
    if (strncmp(arg, longname, n) == 0 && arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (strcmp(arg, longname) == 0 || (shortname && strcmp(arg, shortname) == 0)) {
        if (*i + 1 >= argc) {
            *missing = 1;
            return 1;
        }
        *value = argv[++*i];
        return 1;
    }
    return 0;
}

static int parse_int(const char *text, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static struct icount counter; /* --icount, --cachesim and --tlbsim */
static struct time_split sampler; /* --perf */

static int parse_options(int argc, char **argv, struct bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->alloc_list = "all";
    o->repeat = 1;
    o->timeout_s = DEFAULT_TIMEOUT_S;
    o->interval_ms = HAK_RECORD_DEFAULT_INTERVAL_MS;
    o->events = HAK_RECORD_DEFAULT_EVENTS;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        int missing = 0;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            bench_usage(stdout);
            exit(0);
        } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            o->verbose = 1;
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(arg, "--list") == 0) {
            o->list = 1;
        } else if (strcmp(arg, "--icount") == 0) {
            o->icount = &counter;
        } else if (strcmp(arg, "--perf") == 0) {
            o->perf = &sampler;
        } else if (strcmp(arg, "--cachesim") == 0 || strcmp(arg, "--tlbsim") == 0) {
            enum icount_sim sim = arg[2] == 'c' ? ICOUNT_SIM_CACHES : ICOUNT_SIM_TLB;
            if (counter.sim && counter.sim != sim) return bad_option("%s: --cachesim and --tlbsim exclude each other", arg);
            o->icount = &counter;
            counter.sim = sim;
        } else if (option_value("--alloc", "-a", argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs a list of allocators", arg);
            o->alloc_list = value;
        } else if (option_value("--repeat", "-r", argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs a number", arg);
            if (parse_int(value, 1, MAX_REPEAT, &o->repeat) != 0)
                return bad_option("bad --repeat value '%s' (expected 1 to 1000)", value);
        } else if (option_value("--threads", "-t", argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs a number", arg);
            o->threads = value;
        } else if (option_value("--set", "-s", argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs KEY=VALUE", arg);
            if (!strchr(value, '='))
                return bad_option("bad --set '%s' (expected KEY=VALUE)", value);
            if (o->nsets == MAX_SETS)
                return bad_option("too many --set options (at most %s)", "32");
            o->sets[o->nsets++] = value;
        } else if (option_value("--csv", NULL, argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs a file name", arg);
            o->csv = value;
        } else if (option_value("--output", "-o", argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs a database file name", arg);
            o->db_path = value;
        } else if (option_value("--interval", NULL, argc, argv, &i, &value, &missing)) {
            char *end;
            if (missing) return bad_option("%s needs milliseconds", arg);
            o->interval_ms = strtod(value, &end);
            if (*end || end == value || !(o->interval_ms >= 0.1 && o->interval_ms <= 60000))
                return bad_option("bad --interval value '%s' (milliseconds, 0.1 to 60000)", value);
        } else if (option_value("--events", NULL, argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs a list of events", arg);
            o->events = value;
            o->events_named = 1;
        } else if (option_value("--timeout", NULL, argc, argv, &i, &value, &missing)) {
            if (missing) return bad_option("%s needs a number of seconds", arg);
            if (parse_int(value, 1, 86400, &o->timeout_s) != 0)
                return bad_option("bad --timeout value '%s' (expected seconds, 1 to 86400)", value);
        } else if (arg[0] == '-' && arg[1]) {
            return bad_option("unknown option '%s'", arg);
        } else if (!o->profile) {
            o->profile = arg;
        } else {
            return bad_option("unexpected argument '%s' (one profile per run)", arg);
        }
    }
    if (!o->profile && !o->list) return bad_option("%s", "no profile given");
    if (o->perf && o->icount)
        return bad_option("%s: perf samples times, valgrind counts: one or the other per run",
                          counter.sim == ICOUNT_SIM_CACHES ? "--perf with --cachesim"
                          : counter.sim == ICOUNT_SIM_TLB  ? "--perf with --tlbsim"
                                                           : "--perf with --icount");
    return 0;
}

/* Applies --threads and --set to every section that has the parameter. */
static int apply_overrides(const struct bench_opts *o, struct profile *p) {
    char err[512];
    for (int s = -1; s < o->nsets; s++) {
        char key[64];
        const char *value;
        if (s < 0) {
            if (!o->threads) continue;
            snprintf(key, sizeof key, "threads");
            value = o->threads;
        } else {
            const char *eq = strchr(o->sets[s], '=');
            size_t n = (size_t)(eq - o->sets[s]);
            if (n == 0 || n >= sizeof key) return bad_usage("bad --set '%s'", o->sets[s]);
            memcpy(key, o->sets[s], n);
            key[n] = '\0';
            value = eq + 1;
        }
        int known = 0;
        for (int i = 0; i < p->nsections; i++) {
            struct profile_section *sec = &p->sections[i];
            if (bench_param_index(sec->spec, key) < 0) continue;
            known = 1;
            if (bench_set_param(sec->spec, sec->values, key, value, err, sizeof err) != 0)
                return bad_usage("%s", err);
        }
        if (!known) {
            size_t used = (size_t)snprintf(err, sizeof err,
                                           "unknown parameter '%s' for profile %s (", key, p->name);
            for (int i = 0; i < p->nsections && used < sizeof err; i++) {
                const struct bench_spec *spec = p->sections[i].spec;
                used += (size_t)snprintf(err + used, sizeof err - used,
                                         "%s%s knows:", i ? "; " : "", spec->name);
                for (size_t k = 0; k < spec->count && used < sizeof err; k++)
                    used += (size_t)snprintf(err + used, sizeof err - used, "%s %s", k ? "," : "",
                                             spec->params[k].name);
            }
            if (used < sizeof err) snprintf(err + used, sizeof err - used, ")");
            return bad_usage("%s", err);
        }
    }
    for (int i = 0; i < p->nsections; i++) {
        struct profile_section *sec = &p->sections[i];
        if (sec->spec->check && sec->spec->check(sec->values, err, sizeof err) != 0)
            return bad_usage("%s", err);
    }
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Value of `key=` in a result line, or NULL. */
static const char *result_field(const char *line, const char *key, char *buf, size_t len) {
    size_t n = strlen(key);
    for (const char *p = line; (p = strstr(p, key)) != NULL; p += n) {
        if ((p == line || p[-1] == ' ') && p[n] == '=') {
            size_t m = strcspn(p + n + 1, " \n");
            if (m >= len) m = len - 1;
            memcpy(buf, p + n + 1, m);
            buf[m] = '\0';
            return buf;
        }
    }
    return NULL;
}

static void describe_status(int status, char *buf, size_t len) {
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(buf, len, "wait status %#x", status);
}

/* Takes the complete lines of buf (NUL-terminated): shows them with --verbose and keeps the result
 * line.  Moves an incomplete last line to the start of buf and returns its length. */
static size_t scan_lines(char *buf, const struct bench_opts *o, struct run_result *r) {
    char *line = buf, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
        *nl = '\0';
        if (o->verbose) fprintf(stderr, "    | %s\n", line);
        if (strncmp(line, "result ", 7) == 0)
            snprintf(r->result_line, sizeof r->result_line, "%s", line);
        line = nl + 1;
    }
    size_t used = strlen(line);
    memmove(buf, line, used + 1);
    return used;
}

static void judge_run(struct run_result *r, int status, int timed_out,
                      const struct hak_allocator *alloc, const struct bench_opts *o);

/* --icount: instructions per op of a run judged ok, or the run fails saying why. */
static void judge_icount(struct run_result *r, const struct bench_opts *o) {
    struct icount_counts c;
    if (!o->icount || !r->ok) return;
    int got = icount_read(o->icount, &c);
    if (got == -1) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "the instruction counter wrote no count");
    } else if (got == -2) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "%s: the simulation wrote no misses",
                 o->icount->sim == ICOUNT_SIM_TLB ? "--tlbsim" : "--cachesim");
    } else if (r->ops <= 0) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "--icount: the result line has no ops count");
    } else {
        r->instr_per_op = c.instructions / r->ops;
        if (!o->icount->sim) return;
        r->d1_per_op = c.d1 / r->ops;
        r->ll_per_op = c.ll / r->ops;
    }
}

/* --perf: where the CPU time of a run judged ok went, or the run fails saying why.  Each sample
 * is TIME_SPLIT_PERIOD_NS of CPU time. */
static void judge_perf(struct run_result *r, const struct bench_opts *o, const char *preload) {
    struct time_split_samples t;
    r->alloc_ns_per_op = r->alloc_share = r->kernel_share = -1;
    if (!o->perf || !r->ok) return;
    if (time_split_read(o->perf, preload, &t) != 0) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "--perf: perf wrote no samples");
    } else if (r->ops <= 0) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "--perf: the result line has no ops count");
    } else {
        /* perf's own work (writing and closing the sample file) is in the wait status's CPU
         * time; the samples are the benchmark's alone */
        r->cpu_s = t.total * TIME_SPLIT_PERIOD_NS / 1e9;
        r->ops_per_cpu_s = r->ops / r->cpu_s;
        r->alloc_ns_per_op = t.alloc * TIME_SPLIT_PERIOD_NS / r->ops;
        r->alloc_share = t.alloc / t.total;
        r->kernel_share = t.kernel / t.total;
    }
}

/* Set by SIGINT/SIGTERM/SIGHUP between recorded runs (during one, the recorder takes them). */
static volatile sig_atomic_t session_stop;

static void stop_session(int sig) {
    session_stop = sig;
}

/* What a recorded run needs besides the benchmark: the database and the run's metadata. */
struct record_ctx {
    struct run_db *db;
    const char *session, *profile;
    int rep;
};

/* Stores the numeric fields of the result line ("ops_per_sec=123") as results of the run. */
static void store_result_line(struct run_db *db, int64_t run_id, const char *line) {
    char copy[sizeof((struct run_result *)0)->result_line];
    snprintf(copy, sizeof copy, "%s", line);
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '='), *end;
        if (!eq) continue;
        *eq = '\0';
        double v = strtod(eq + 1, &end);
        run_db_add_result(db, run_id, -1, -1, tok, end != eq + 1 && !*end ? v : NAN, eq + 1,
                          "result_line");
    }
    run_db_commit(db);
}

/* Runs one benchmark process under the recorder (hak bench -o) and fills r. */
static void run_recorded(char **argv, const struct profile_section *sec,
                         const struct hak_allocator *alloc, const char *preload,
                         const struct bench_opts *o, const struct record_ctx *ctx,
                         struct run_result *r) {
    int out = memfd_create("hak-bench-output", MFD_CLOEXEC);
    if (out < 0) {
        snprintf(r->status, sizeof r->status, "cannot set up the run: %s", strerror(errno));
        return;
    }
    char params[1024];
    bench_format_params(sec->spec, sec->values, params, sizeof params);
    struct hak_record_opts ro;
    hak_record_defaults(&ro);
    ro.hak_build = hak_build_id;
    ro.argv = argv;
    ro.allocator = alloc->name;
    ro.preload = preload;
    ro.interval_ms = o->interval_ms;
    ro.events = o->events;
    ro.events_named = o->events_named;
    ro.session = ctx->session;
    ro.profile = ctx->profile;
    ro.bench = sec->spec->name;
    ro.params = params;
    ro.rep = ctx->rep;
    ro.timeout_s = o->timeout_s;
    ro.stdout_fd = out;
    ro.prog = "hak bench";
    ro.quiet = o->quiet;
    struct hak_record_result res;
    int rc = hak_record_run(ctx->db, &ro, &res);

    /* The benchmark's output, from the memory file it wrote. */
    char buf[8192];
    size_t used = 0;
    ssize_t n;
    off_t off = 0;
    while ((n = pread(out, buf + used, sizeof buf - 1 - used, off)) > 0) {
        off += n;
        used += (size_t)n;
        buf[used] = '\0';
        used = scan_lines(buf, o, r);
        if (used == sizeof buf - 1) used = 0;
    }
    close(out);
    if (rc != 0) {
        snprintf(r->status, sizeof r->status, "%.159s", res.error);
        return;
    }
    r->wall_s = res.wall_s;
    r->peak_rss_kb = res.ru.ru_maxrss;
    r->cpu_s = (double)res.ru.ru_utime.tv_sec + (double)res.ru.ru_utime.tv_usec / 1e6 +
               (double)res.ru.ru_stime.tv_sec + (double)res.ru.ru_stime.tv_usec / 1e6;
    if (res.interrupted) {
        r->interrupted = 1;
        snprintf(r->status, sizeof r->status, "interrupted by signal %d", res.interrupted);
        return;
    }
    judge_run(r, res.wait_status, res.timed_out, alloc, o);
    judge_icount(r, o);
    judge_perf(r, o, preload);
    if (r->alloc_share >= 0) {
        run_db_add_result(ctx->db, res.run_id, -1, -1, "alloc_ns_per_op", r->alloc_ns_per_op, NULL,
                          "perf");
        run_db_add_result(ctx->db, res.run_id, -1, -1, "alloc_time_share", r->alloc_share, NULL,
                          "perf");
        run_db_add_result(ctx->db, res.run_id, -1, -1, "kernel_time_share", r->kernel_share, NULL,
                          "perf");
    }
    if (r->instr_per_op > 0)
        run_db_add_result(ctx->db, res.run_id, -1, -1, "instr_per_op", r->instr_per_op, NULL,
                          "icount");
    if (r->d1_per_op > 0) {
        int tlb = o->icount->sim == ICOUNT_SIM_TLB;
        const char *source = tlb ? "tlbsim" : "cachesim";
        run_db_add_result(ctx->db, res.run_id, -1, -1, tlb ? "dtlb_miss_per_op" : "d1_miss_per_op",
                          r->d1_per_op, NULL, source);
        run_db_add_result(ctx->db, res.run_id, -1, -1, tlb ? "stlb_miss_per_op" : "ll_miss_per_op",
                          r->ll_per_op, NULL, source);
    }
    if (res.db_failed && r->ok) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "writing the run database failed");
    }
    if (r->result_line[0]) store_result_line(ctx->db, res.run_id, r->result_line);
}

/* Runs one benchmark process and fills r (recorded when ctx->db is set). */
static void run_one(const char *bin, const struct profile_section *sec,
                    const struct hak_allocator *alloc, const char *preload,
                    const struct bench_opts *o, const struct record_ctx *ctx,
                    struct run_result *r) {
    memset(r, 0, sizeof *r);
    char args[BENCH_MAX_PARAMS][96];
    char *argv_buf[BENCH_MAX_PARAMS + 2], **argv = argv_buf;
    argv[0] = (char *)bin;
    for (size_t i = 0; i < sec->spec->count; i++) {
        snprintf(args[i], sizeof args[i], "--%s=%lld", sec->spec->params[i].name, sec->values[i]);
        argv[i + 1] = args[i];
    }
    argv[sec->spec->count + 1] = NULL;
    char *wrapped[TIME_SPLIT_MAX_PREFIX + ICOUNT_MAX_PREFIX + BENCH_MAX_PARAMS + 2];
    if (o->icount) {
        icount_wrap(o->icount, argv, wrapped);
        argv = wrapped;
    } else if (o->perf) {
        time_split_wrap(o->perf, preload, argv, wrapped);
        argv = wrapped;
    }
    if (ctx->db) {
        run_recorded(argv, sec, alloc, preload, o, ctx, r);
        return;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        snprintf(r->status, sizeof r->status, "cannot set up the run: %s", strerror(errno));
        return;
    }
    /* The same launcher as hak record's: environment, exec and its verdict are one code. */
    struct hak_launch_opts lo = {
        .argv = argv, .preload = preload, .phase_fd = -1, .ack_fd = -1, .stdout_fd = out[1]};
    struct hak_launch launch;
    double start = now_s();
    int launched = hak_launch_start(&launch, &lo);
    close(out[1]);
    int status = 0;
    int exec_errno = launched == 0 ? hak_launch_go(&launch, &status) : errno;
    if (launched != 0 || exec_errno) {
        snprintf(r->status, sizeof r->status, "cannot run %.100s: %.40s", bin, strerror(exec_errno));
        close(out[0]);
        return;
    }
    pid_t pid = launch.pid;

    /* Read its stdout until EOF, killing it when it overstays the timeout. */
    char buf[8192];
    size_t used = 0;
    int timed_out = 0;
    for (;;) {
        double left = (double)o->timeout_s - (now_s() - start);
        if (left <= 0) {
            kill(pid, SIGKILL);
            timed_out = 1;
            break;
        }
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        int pr = poll(&pfd, 1, left > 1.0 ? 1000 : (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        ssize_t n = read(out[0], buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += (size_t)n;
        buf[used] = '\0';
        used = scan_lines(buf, o, r);
        if (used == sizeof buf - 1) used = 0; /* a line longer than the buffer: drop it */
    }
    close(out[0]);

    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    r->wall_s = now_s() - start;
    r->peak_rss_kb = ru.ru_maxrss;
    r->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    judge_run(r, status, timed_out, alloc, o);
    judge_icount(r, o);
    judge_perf(r, o, preload);
}

/* Decides whether a finished run counts, from its wait status and its result line. */
static void judge_run(struct run_result *r, int status, int timed_out,
                      const struct hak_allocator *alloc, const struct bench_opts *o) {
    char field[64];
    if (timed_out) {
        snprintf(r->status, sizeof r->status, "timed out after %d s (--timeout)", o->timeout_s);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        describe_status(status, r->status, sizeof r->status);
    } else if (!r->result_line[0]) {
        snprintf(r->status, sizeof r->status, "no result line in the benchmark's output");
    } else if (!result_field(r->result_line, "alloc", field, sizeof field) ||
               !hak_allocator_ran(alloc, field)) {
        snprintf(r->status, sizeof r->status,
                 "preload did not take effect: the benchmark ran on '%s', not %s",
                 result_field(r->result_line, "alloc", field, sizeof field) ? field : "?",
                 alloc->name);
    } else if (!result_field(r->result_line, "ops_per_sec", field, sizeof field)) {
        snprintf(r->status, sizeof r->status, "result line without ops_per_sec");
    } else {
        r->ops_per_sec = strtod(field, NULL);
        if (result_field(r->result_line, "ops", field, sizeof field))
            r->ops = strtod(field, NULL);
        if (r->ops > 0 && r->cpu_s > 0) r->ops_per_cpu_s = r->ops / r->cpu_s;
        for (size_t e = 0; e < EXTRA_COUNT; e++)
            r->extra_kb[e] =
                result_field(r->result_line, extra_columns[e].field, field, sizeof field)
                    ? strtod(field, NULL)
                    : -1;
        r->ok = 1;
        snprintf(r->status, sizeof r->status, "ok");
    }
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct summary {
    int ok, total;
    double extra_med[EXTRA_COUNT];    /* MiB, -1 when absent */
    double med, min, max;             /* ops/s */
    double cpu_med;                   /* ops per CPU-second */
    double rss_med, rss_min, rss_max; /* MiB */
    double ipo_med, ipo_min, ipo_max; /* instructions per op (--icount) */
    double d1_med, ll_med;            /* simulated misses per op (--cachesim, --tlbsim) */
    double ans_med, ans_min, ans_max; /* the allocator's CPU ns per op (--perf) */
    double alloc_share_med, kernel_share_med;
};

static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct summary summarize(const struct run_result *runs, int n) {
    struct summary s;
    memset(&s, 0, sizeof s);
    double ops[MAX_REPEAT], cpu[MAX_REPEAT], rss[MAX_REPEAT], extra[EXTRA_COUNT][MAX_REPEAT];
    double ipo[MAX_REPEAT], d1[MAX_REPEAT], ll[MAX_REPEAT];
    double ans[MAX_REPEAT], ash[MAX_REPEAT], ksh[MAX_REPEAT];
    s.total = n;
    for (int i = 0; i < n; i++) {
        if (!runs[i].ok) continue;
        ops[s.ok] = runs[i].ops_per_sec;
        cpu[s.ok] = runs[i].ops_per_cpu_s;
        rss[s.ok] = (double)runs[i].peak_rss_kb / 1024.0;
        ipo[s.ok] = runs[i].instr_per_op;
        d1[s.ok] = runs[i].d1_per_op;
        ll[s.ok] = runs[i].ll_per_op;
        ans[s.ok] = runs[i].alloc_ns_per_op;
        ash[s.ok] = runs[i].alloc_share;
        ksh[s.ok] = runs[i].kernel_share;
        for (size_t e = 0; e < EXTRA_COUNT; e++)
            extra[e][s.ok] = runs[i].extra_kb[e] / 1024.0;
        s.ok++;
    }
    if (s.ok == 0) return s;
    for (size_t e = 0; e < EXTRA_COUNT; e++)
        s.extra_med[e] = median_of(extra[e], s.ok);
    s.med = median_of(ops, s.ok);
    s.cpu_med = median_of(cpu, s.ok);
    s.min = ops[0];
    s.max = ops[s.ok - 1];
    s.rss_med = median_of(rss, s.ok);
    s.rss_min = rss[0];
    s.rss_max = rss[s.ok - 1];
    s.ipo_med = median_of(ipo, s.ok);
    s.ipo_min = ipo[0];
    s.ipo_max = ipo[s.ok - 1];
    s.d1_med = median_of(d1, s.ok);
    s.ll_med = median_of(ll, s.ok);
    s.ans_med = median_of(ans, s.ok);
    s.ans_min = ans[0];
    s.ans_max = ans[s.ok - 1];
    s.alloc_share_med = median_of(ash, s.ok);
    s.kernel_share_med = median_of(ksh, s.ok);
    return s;
}

static const char *human_rate(double v, char *buf, size_t len) {
    if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
    return buf;
}

static double estimate_seconds(const struct profile_section *sec) {
    if (sec->spec == &mallocfree_spec || sec->spec == &prodcons_spec ||
        sec->spec == &smallobj_spec || sec->spec == &reallocgrow_spec)
        return 1.0; /* fixed work, about a second on the profiles' defaults */
    if (sec->spec == &larson_spec) return (double)sec->values[LARSON_RUNTIME] + 0.3;
    if (sec->spec == &decay_spec) return (double)sec->values[DECAY_IDLE_MS] / 1000.0 + 1.0;
    if (sec->spec == &bigbuf_spec)
        return (double)sec->values[BIGBUF_IDLE_MS] / 1000.0 + (double)sec->values[BIGBUF_ROUNDS] *
                   (double)sec->values[BIGBUF_BUFFERS] * 0.002;
    return (double)sec->values[BATTLE_CYCLES] *
           ((double)sec->values[BATTLE_IDLE_MS] / 1000.0 + 0.5);
}

/* A table row assembled piecewise and printed without trailing blanks. */
struct row {
    char text[512];
    size_t len;
};

static void row_add(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void row_add(struct row *r, const char *fmt, ...) {
    if (r->len >= sizeof r->text) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
    va_end(ap);
    if (n > 0) r->len += (size_t)n;
    if (r->len >= sizeof r->text) r->len = sizeof r->text - 1;
}

static void row_print(struct row *r) {
    while (r->len > 0 && r->text[r->len - 1] == ' ')
        r->len--;
    r->text[r->len] = '\0';
    puts(r->text);
    r->len = 0;
}

/* hakmem's throughput over a peer's, repetition by repetition: within a repetition the two ran
 * within seconds of each other (interleaved), so a slow spell of a shared machine that spans both
 * runs cancels out of their ratio.  Fills out[] with one ratio per repetition where both ran and
 * returns how many. */
static int paired_ratios(const struct run_result *hak, const struct run_result *peer, int repeat,
                         double *out) {
    int n = 0;
    for (int r = 0; r < repeat; r++)
        if (hak[r].ok && peer[r].ok && peer[r].ops_per_sec > 0)
            out[n++] = hak[r].ops_per_sec / peer[r].ops_per_sec;
    return n;
}

/* Where hakmem stands in one table: its median throughput over the best peer's, and the median
 * of the paired ratios (0 when fewer than two repetitions paired). */
struct standing {
    double vs_best, paired;
};

/* Prints one section's table (icount: 0, 1 with instructions per op, 2 with simulated cache
 * misses too, 3 with simulated TLB misses too; perf: the CPU-time split too); returns where
 * hakmem stands (zeros when the table has no hakmem or no peer that ran). */
static struct standing print_table(const struct profile_section *sec,
                                   const struct hak_allocator **allocs, int nalloc,
                                   struct run_result *runs, int repeat, int icount, int perf) {
    char params[1024];
    bench_format_params(sec->spec, sec->values, params, sizeof params);
    printf("\n[%s] %s\n", sec->spec->name, params);
    struct row row = {.len = 0};
    row_add(&row, "%-10s %5s  %10s  %-19s  %5s  %9s  %9s  %-15s", "allocator", "runs", "ops/s",
            "(min - max)", "rel", "ops/cpu-s", "peak RSS", "(min - max) MiB");
    for (size_t e = 0; e < EXTRA_COUNT; e++)
        if (strcmp(extra_columns[e].bench, sec->spec->name) == 0)
            row_add(&row, "  %9s", extra_columns[e].title);
    if (icount) row_add(&row, "  %9s  %-17s", "instr/op", "(min - max)");
    if (icount == 2) row_add(&row, "  %10s  %10s", "D1 miss/op", "LL miss/op");
    if (icount == 3) row_add(&row, "  %12s  %12s", "dTLB miss/op", "STLB miss/op");
    if (perf) row_add(&row, "  %11s  %-15s  %7s  %8s", "alloc ns/op", "(min - max)", "alloc %", "kernel %");
    row_print(&row);

    struct summary sums[HAK_ALLOC_MAX];
    double best = 0;
    for (int a = 0; a < nalloc; a++) {
        sums[a] = summarize(&runs[a * repeat], repeat);
        if (sums[a].ok && sums[a].med > best) best = sums[a].med;
    }
    for (int a = 0; a < nalloc; a++) {
        const struct summary *s = &sums[a];
        char runs_col[16], med[16], lo[16], hi[16], range[40], rss_range[40];
        snprintf(runs_col, sizeof runs_col, "%d/%d", s->ok, s->total);
        if (!s->ok) {
            row_add(&row, "%-10s %5s  %10s  %s", allocs[a]->name, runs_col, "-",
                    "(all runs failed)");
            row_print(&row);
            continue;
        }
        snprintf(range, sizeof range, "(%s - %s)", human_rate(s->min, lo, sizeof lo),
                 human_rate(s->max, hi, sizeof hi));
        snprintf(rss_range, sizeof rss_range, "(%.1f - %.1f)", s->rss_min, s->rss_max);
        char cpu_rate[16];
        row_add(&row, "%-10s %5s  %10s  %-19s  %5.2f  %9s  %9.1f  %-15s", allocs[a]->name, runs_col,
                human_rate(s->med, med, sizeof med), range, best > 0 ? s->med / best : 0,
                human_rate(s->cpu_med, cpu_rate, sizeof cpu_rate), s->rss_med, rss_range);
        for (size_t e = 0; e < EXTRA_COUNT; e++) {
            if (strcmp(extra_columns[e].bench, sec->spec->name) != 0) continue;
            if (s->extra_med[e] < 0)
                row_add(&row, "  %9s", "-");
            else
                row_add(&row, "  %9.1f", s->extra_med[e]);
        }
        if (icount) {
            char ipo_range[40];
            snprintf(ipo_range, sizeof ipo_range, "(%.1f - %.1f)", s->ipo_min, s->ipo_max);
            row_add(&row, "  %9.1f  %-17s", s->ipo_med, ipo_range);
        }
        if (icount > 1)
            row_add(&row, icount == 2 ? "  %10.3f  %10.3f" : "  %12.3f  %12.3f", s->d1_med, s->ll_med);
        if (perf) {
            char ans_range[40];
            snprintf(ans_range, sizeof ans_range, "(%.1f - %.1f)", s->ans_min, s->ans_max);
            row_add(&row, "  %11.1f  %-15s  %7.1f  %8.1f", s->ans_med, ans_range,
                    100 * s->alloc_share_med, 100 * s->kernel_share_med);
        }
        row_print(&row);
    }

    /* Where hakmem stands against the peers (the project's targets are in docs/benchmarks.md). */
    int hak = -1, best_peer = -1, tc = -1;
    for (int a = 0; a < nalloc; a++) {
        if (!sums[a].ok) continue;
        if (strcmp(allocs[a]->name, "hakmem") == 0) {
            hak = a;
            continue;
        }
        if (strcmp(allocs[a]->name, "tcmalloc") == 0) tc = a;
        if (best_peer < 0 || sums[a].med > sums[best_peer].med) best_peer = a;
    }
    struct standing st = {0, 0};
    if (hak >= 0 && best_peer >= 0) {
        st.vs_best = sums[hak].med / sums[best_peer].med;
        printf("hakmem: throughput %.2fx the best peer (%s)", st.vs_best, allocs[best_peer]->name);
        if (tc >= 0) printf(", peak RSS %.2fx tcmalloc's", sums[hak].rss_med / sums[tc].rss_med);
        printf("\n");
        double ratio[MAX_REPEAT];
        int n = paired_ratios(&runs[hak * repeat], &runs[best_peer * repeat], repeat, ratio);
        if (n >= 2) {
            st.paired = median_of(ratio, n); /* sorts ratio[] */
            printf("hakmem: paired by repetition %.2fx %s's (%.2f - %.2f, %d pairs)\n", st.paired,
                   allocs[best_peer]->name, ratio[0], ratio[n - 1], n);
        }
    }
    /* Instructions: fewer is better, so the best peer is the one with the fewest. */
    int fewest = -1;
    for (int a = 0; icount && a < nalloc; a++)
        if (sums[a].ok && a != hak && (fewest < 0 || sums[a].ipo_med < sums[fewest].ipo_med))
            fewest = a;
    if (hak >= 0 && fewest >= 0)
        printf("hakmem: %.1f instructions per op, %.2fx the best peer (%s, %.1f)\n",
               sums[hak].ipo_med, sums[hak].ipo_med / sums[fewest].ipo_med, allocs[fewest]->name,
               sums[fewest].ipo_med);
    /* The allocator's CPU time: less is better, as for instructions. */
    int least = -1;
    for (int a = 0; perf && a < nalloc; a++)
        if (sums[a].ok && a != hak && (least < 0 || sums[a].ans_med < sums[least].ans_med))
            least = a;
    if (hak >= 0 && least >= 0 && sums[least].ans_med > 0)
        printf("hakmem: %.1f ns of allocator CPU time per op, %.2fx the least among the peers "
               "(%s, %.1f)\n",
               sums[hak].ans_med, sums[hak].ans_med / sums[least].ans_med, allocs[least]->name,
               sums[least].ans_med);
    return st;
}

/* The geometric mean of the ratios above 0 among v[0..n) into *mean, the lowest one's index
 * into *low; returns how many count. */
static int geomean_of(const double *v, int n, double *mean, int *low) {
    double log_sum = 0;
    int k = 0;
    *low = -1;
    for (int s = 0; s < n; s++) {
        if (!(v[s] > 0)) continue;
        log_sum += log(v[s]);
        k++;
        if (*low < 0 || v[s] < v[*low]) *low = s;
    }
    *mean = k ? exp(log_sum / k) : 0;
    return k;
}

/* A profile of several tables ends with one figure for all of them: the geometric mean of
 * hakmem's throughput over the best peer's (a ratio per table, so no workload's scale
 * weighs more than another's), and the table where hakmem stands lowest; then the same over
 * the paired ratios, when every one of those tables has them. */
static void print_geomean(const struct profile *p, const struct standing *st) {
    double vs_best[PROFILE_MAX_SECTIONS], paired[PROFILE_MAX_SECTIONS], mean;
    for (int s = 0; s < p->nsections; s++) {
        vs_best[s] = st[s].vs_best;
        paired[s] = st[s].vs_best > 0 ? st[s].paired : 0;
    }
    int low, n = geomean_of(vs_best, p->nsections, &mean, &low);
    if (n < 2) return;
    printf("\nhakmem: throughput over %d tables: geometric mean %.2fx the best peer, lowest %.2fx "
           "(table %d, %s)\n",
           n, mean, vs_best[low], low + 1, p->sections[low].spec->name);
    if (geomean_of(paired, p->nsections, &mean, &low) != n) return;
    printf("hakmem: paired by repetition over %d tables: geometric mean %.2fx, lowest %.2fx "
           "(table %d, %s)\n",
           n, mean, paired[low], low + 1, p->sections[low].spec->name);
}

static void list_profile(const char *name, const char *description, void *arg) {
    (void)arg;
    printf("  %-18s %s\n", name, description);
}

static int list_everything(void) {
    char dir[PROFILE_PATH_MAX];
    printf("profiles (%s):\n", profile_dir(dir, sizeof dir));
    if (profile_list(list_profile, NULL) < 0) printf("  (cannot read the directory)\n");
    printf("\nallocators:\n");
    for (size_t i = 0; i < hak_allocator_count(); i++) {
        const struct hak_allocator *a = hak_allocator_at(i);
        char path[HAK_ALLOC_PATH_MAX], why[512];
        if (hak_allocator_resolve(a, path, sizeof path, why, sizeof why) == 0)
            printf("  %-9s %s\n", a->name, path[0] ? path : "(no preload: the C library's malloc)");
        else
            printf("  %-9s missing: %s\n", a->name, why);
    }
    return 0;
}

/* One line on stderr per finished run; failures are shown even with --quiet. */
static void report_progress(const struct bench_opts *o, int done, int total, const char *bench,
                            const char *alloc, int rep, const struct run_result *res) {
    int width = total >= 100 ? 3 : total >= 10 ? 2 : 1;
    if (!res->ok) {
        fprintf(stderr, "hak bench: [%*d/%d] %-6s %-9s rep %d/%d: FAILED: %s\n", width, done, total,
                bench, alloc, rep + 1, o->repeat, res->status);
    } else if (!o->quiet) {
        char rate[16];
        fprintf(stderr,
                "hak bench: [%*d/%d] %-6s %-9s rep %d/%d: %s ops/s, peak RSS %.1f MiB, %.1f s\n",
                width, done, total, bench, alloc, rep + 1, o->repeat,
                human_rate(res->ops_per_sec, rate, sizeof rate), (double)res->peak_rss_kb / 1024.0,
                res->wall_s);
    }
}

int cmd_bench(int argc, char **argv) {
    struct bench_opts o;
    int r = parse_options(argc, argv, &o);
    if (r != 0) return r;
    if (o.list) return list_everything();

    static struct profile p; /* large: keep it off the stack */
    char err[1024];
    if (profile_load(o.profile, &p, err, sizeof err) != 0) return bad_usage("%s", err);
    if ((r = apply_overrides(&o, &p)) != 0) return r;

    const struct hak_allocator *allocs[HAK_ALLOC_MAX];
    char skipped[2048];
    int nalloc = hak_allocator_parse_list(o.alloc_list, allocs, HAK_ALLOC_MAX, err, sizeof err,
                                          skipped, sizeof skipped);
    if (nalloc < 0) return bad_usage("%s", err);
    if (skipped[0])
        for (char *line = strtok(skipped, "\n"); line; line = strtok(NULL, "\n"))
            fprintf(stderr, "hak bench: skipping %s\n", line);
    if (nalloc == 0) {
        fprintf(stderr, "hak bench: no allocator available\n");
        return 2;
    }
    static char preload[HAK_ALLOC_MAX][HAK_ALLOC_PATH_MAX];
    for (int a = 0; a < nalloc; a++) {
        char why[512];
        if (hak_allocator_resolve(allocs[a], preload[a], sizeof preload[a], why, sizeof why) != 0) {
            fprintf(stderr, "hak bench: %s\n", why);
            return 2;
        }
    }

    char exe_dir[HAK_ALLOC_PATH_MAX];
    static char bins[PROFILE_MAX_SECTIONS][HAK_ALLOC_PATH_MAX + 64];
    if (hak_exe_dir(exe_dir, sizeof exe_dir) != 0) {
        fprintf(stderr, "hak bench: cannot find the directory of the hak binary\n");
        return 1;
    }
    for (int s = 0; s < p.nsections; s++) {
        snprintf(bins[s], sizeof bins[s], "%s/%s", exe_dir, p.sections[s].spec->name);
        /* make install keeps the workloads out of PATH: PREFIX/libexec/hakmem. */
        if (access(bins[s], X_OK) != 0)
            snprintf(bins[s], sizeof bins[s], "%s/../libexec/hakmem/%s", exe_dir,
                     p.sections[s].spec->name);
        if (access(bins[s], X_OK) != 0) {
            fprintf(stderr, "hak bench: benchmark %s is missing (run make)\n",
                    p.sections[s].spec->name);
            return 1;
        }
    }

    /* -o: every run goes into one database, under one session id. */
    struct record_ctx ctx = {.db = NULL, .session = NULL, .profile = p.name, .rep = 0};
    char session[160];
    if (o.db_path) {
        if (hak_record_check_events(o.events, err, sizeof err) != 0) return bad_usage("%s", err);
        ctx.db = run_db_open(o.db_path, RUN_DB_CREATE, err, sizeof err);
        if (!ctx.db) {
            fprintf(stderr, "hak bench: %s\n", err);
            return 1;
        }
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(session, sizeof session, "bench-%.80s-%s-%d", p.name, stamp, (int)getpid());
        ctx.session = session;
        /* A signal between two runs ends the session cleanly too, with the database closed. */
        struct sigaction sa = {.sa_handler = stop_session};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }

    if (o.icount) {
        if (icount_open(o.icount, err, sizeof err) != 0) return bad_usage("%s", err);
        fprintf(stderr, "hak bench: %s\n", err);
    }
    if (o.perf) {
        if (time_split_open(o.perf, err, sizeof err) != 0) return bad_usage("%s", err);
        fprintf(stderr, "hak bench: sampling CPU time with perf record -e cpu-clock (every %d us)\n",
                TIME_SPLIT_PERIOD_NS / 1000);
    }

    FILE *csv = NULL;
    if (o.csv) {
        csv = fopen(o.csv, "w");
        if (!csv) {
            fprintf(stderr, "hak bench: cannot write %s: %s\n", o.csv, strerror(errno));
            return 1;
        }
        fprintf(csv, "profile,bench,allocator,rep,status,ops_per_sec,peak_rss_kb,wall_s,cpu_s,"
                     "ops_per_cpu_s,library\n");
    }

    int total = o.repeat * p.nsections * nalloc;
    struct run_result *runs = calloc((size_t)total, sizeof *runs);
    if (!runs) {
        fprintf(stderr, "hak bench: out of memory\n");
        return 1;
    }
    double estimate = 0;
    for (int s = 0; s < p.nsections; s++)
        estimate += estimate_seconds(&p.sections[s]);
    estimate *= o.repeat * nalloc;
    if (!o.quiet)
        fprintf(stderr,
                "hak bench: %s: %d runs (%d allocators x %d repetitions x %d benchmarks), "
                "about %.0f s\n",
                p.name, total, nalloc, o.repeat, p.nsections, estimate);

    /* Interleaved: repetition-major, starting allocator rotating each repetition. */
    int done = 0, failed = 0, interrupted = 0;
    for (int rep = 0; rep < o.repeat && !interrupted; rep++)
        for (int s = 0; s < p.nsections && !interrupted; s++)
            for (int k = 0; k < nalloc && !interrupted; k++) {
                int a = (k + rep) % nalloc;
                struct run_result *res = &runs[(s * nalloc + a) * o.repeat + rep];
                ctx.rep = rep + 1;
                if (session_stop) {
                    interrupted = 1;
                    break;
                }
                run_one(bins[s], &p.sections[s], allocs[a], preload[a], &o, &ctx, res);
                interrupted = res->interrupted || session_stop;
                done++;
                if (!res->ok) failed++;
                report_progress(&o, done, total, p.sections[s].spec->name, allocs[a]->name, rep,
                                res);
                if (csv)
                    fprintf(csv, "%s,%s,%s,%d,\"%s\",%.0f,%ld,%.3f,%.3f,%.0f,\"%s\"\n", p.name,
                            p.sections[s].spec->name, allocs[a]->name, rep + 1, res->status,
                            res->ops_per_sec, res->peak_rss_kb, res->wall_s, res->cpu_s,
                            res->ops_per_cpu_s, preload[a]);
                if (csv) fflush(csv); /* rows survive an interrupted session */
            }

    if (o.icount) icount_close(o.icount);
    if (o.perf) time_split_close(o.perf);
    if (ctx.db && run_db_close(ctx.db) != 0)
        fprintf(stderr, "hak bench: closing %s failed; the last runs may be incomplete\n",
                o.db_path);
    if (interrupted) {
        fprintf(stderr, "hak bench: interrupted after %d of %d runs%s%s\n", done, total,
                o.db_path ? "; recorded so far: " : "", o.db_path ? o.db_path : "");
        if (csv) fclose(csv);
        free(runs);
        return 130;
    }
    if (o.db_path && !o.quiet)
        fprintf(stderr, "hak bench: %d runs recorded in %s (session %s)\n", done, o.db_path,
                session);

    struct utsname u;
    uname(&u);
    printf("profile  %s%s%s\n", p.name, p.description[0] ? ": " : "", p.description);
    printf("host     %ld CPUs, %s %s, hak %s\n", sysconf(_SC_NPROCESSORS_ONLN), u.sysname,
           u.release, hak_build_id);
    printf("runs     %d per allocator, interleaved; ops/s = throughput median (min - max), "
           "rel = median / best median,\n         ops/cpu-s = operations per CPU-second of the "
           "benchmark (median), peak RSS = ru_maxrss median (min - max)\n",
           o.repeat);
    struct standing standing[PROFILE_MAX_SECTIONS];
    for (int s = 0; s < p.nsections; s++)
        standing[s] = print_table(&p.sections[s], allocs, nalloc, &runs[s * nalloc * o.repeat],
                                 o.repeat, counter.sim ? 1 + (int)counter.sim : o.icount != NULL,
                                 o.perf != NULL);
    print_geomean(&p, standing);
    fflush(stdout);

    if (csv && fclose(csv) != 0) fprintf(stderr, "hak bench: writing %s failed\n", o.csv);
    free(runs);
    if (failed) {
        fprintf(stderr, "hak bench: %d of %d runs failed\n", failed, total);
        return 1;
    }
    return 0;
}
