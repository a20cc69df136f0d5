/*
 * Reading a run database for the reports (hak report, hak plot, hak diff).  This file and
 * report_db.c are the one place on the reading side that knows the schema (docs/schema.md): what
 * "RSS at a phase", "live bytes at a phase", "overhead", "settling time" or "the counters at exit"
 * mean in SQL.  The verbs only see the structures below.
 *
 * The four phases of the overhead analysis, chosen from a run's phase marks:
 *   baseline     the first `baseline` mark (after start-up)
 *   heavy        the `burst` mark with the highest Rss (peak during load); without burst marks,
 *                the mark with the highest Rss
 *   idle         the last `idle` mark (end of the idle window, before flush)
 *   after flush  the last `flush` mark
 * A phase the benchmark does not have (Larson has no idle window) is marked absent.
 */
#ifndef HAK_REPORT_DB_H
#define HAK_REPORT_DB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smaps.h"

enum rdb_phase { RDB_BASELINE, RDB_HEAVY, RDB_IDLE, RDB_FLUSH, RDB_NPHASES };
extern const char *const rdb_phase_names[RDB_NPHASES];

/* Mapping classes as the collector stores them (mappings.class); the first four are hakmem's tiers.
 */
enum { RDB_NTIERS = HAK_TIER_COUNT, RDB_NCLASSES = HAK_MAP_CLASS_COUNT };
#define rdb_class_names hak_map_class_names /* smaps.h: one list of classes */

/* hakmem's thread caches and what it purged, from its counters (allocator/counters.def): the
 * adaptive capacity of every thread's caches per tier, the free slabs (Mid: page runs) kept, and
 * the pages of free blocks given back inside slabs still in use (cumulative).  All in KiB. */
enum {
    RDB_CACHE_TINY_CAP,
    RDB_CACHE_MID_CAP,
    RDB_CACHE_TINY_FREE,
    RDB_CACHE_MID_FREE,
    RDB_CACHE_TINY_PURGED,
    RDB_CACHE_MID_PURGED,
    RDB_NCACHE
};
extern const char *const rdb_cache_names[RDB_NCACHE];  /* the counters */
extern const char *const rdb_cache_labels[RDB_NCACHE]; /* their column headings, in words */

/* hakmem's size classes as hakmem_classes numbers them (schema 5 on): at most this many. */
enum { RDB_NSIZE_CLASSES = 128 };

/* One phase of one run.  Sizes in KiB; NAN where not measured. */
struct rdb_phase_fig {
    int present;
    int64_t sample_seq;
    double t_ms;
    double rss_kb, rss_net_kb, lazyfree_kb; /* rss_net = Rss - LazyFree */
    double live_kb;                         /* the benchmark's live bytes / 1024 */
    double overhead_kb;            /* rss_net - live: what the allocator holds beyond the data */
    double class_kb[RDB_NCLASSES]; /* Rss - LazyFree of the mappings of each class */
    double held_kb[RDB_NTIERS];    /* hakmem's held_<tier> counters (bytes mapped), KiB */
    double tier_rss_kb[RDB_NTIERS]; /* resident per hakmem tier (hakmem_tiers, pagemap), KiB */
    double cache_kb[RDB_NCACHE];    /* hakmem's thread caches and purges (rdb_cache_names), KiB */
    /* hakmem's thread caches per size class (hakmem_classes), summed over the threads: their
     * capacity and the blocks they hold, KiB; NAN for a class with no row. */
    double size_cap_kb[RDB_NSIZE_CLASSES], size_cached_kb[RDB_NSIZE_CLASSES];
};

/* The counter events per phase: deltas of the cumulative counts between the marks. */
enum { RDB_NINTERVALS = RDB_NPHASES + 1 }; /* start->baseline, ->heavy, ->idle, ->flush, ->exit */
extern const char *const rdb_interval_names[RDB_NINTERVALS];

struct rdb_named {
    char name[64];
    char grp[32];
    double value;
    double interval[RDB_NINTERVALS]; /* events only */
};

#define RDB_MAX_PROCS 8 /* process images of a run listed in reports, the largest peak first */

/* One process of a run that followed several (process_samples). */
struct rdb_proc {
    int64_t pid, samples;
    char comm[24];
    double peak_kb; /* largest Rss sampled */
};

/* The whole run, marks or not: every sample that measured Rss (KiB; times in ms since the start;
 * NAN where not measured).  mean is over the timer samples, which are evenly spaced. */
struct rdb_whole {
    double peak_kb, peak_net_kb, peak_t_ms; /* the largest Rss, its Rss - LazyFree, when */
    double final_kb, final_net_kb;          /* the last sample before the exit */
    double mean_kb, mean_net_kb;
    double user_s, sys_s;                   /* the command's CPU time (rusage) */
    int64_t samples;
    int64_t gaps;          /* stretches without a sample (schema 3 on; -1 before) */
    double longest_gap_ms; /* NAN when no gap */
};

struct rdb_run {
    int64_t run_id;
    char command[256];
    struct rdb_whole whole;
    char allocator[32], bench[32], profile[64], state[16], build[160], session[128], host[64];
    char params[512];
    /* The allocator library (schema 4 on; empty when unknown): real path, Debian package, its
     * version (hakmem: its build id). */
    char alloc_file[256], alloc_package[96], alloc_version[128];
    int rep, completed;
    double wall_s;
    struct rdb_phase_fig ph[RDB_NPHASES];
    uint32_t class_size[RDB_NSIZE_CLASSES]; /* hakmem's block size per class; 0 where unknown */
    double ops_per_sec;         /* NAN if the run reported none */
    double instr_per_op;        /* hak bench --icount's result; NAN without */
    double alloc_ns_per_op;     /* hak bench --perf's: the allocator's CPU ns per op; NAN without */
    double load_end_ms;         /* the last `free` mark before idle: the load has ended */
    double load_end_net_kb;     /* Rss - LazyFree at that mark */
    double settle_ms;           /* after load end, until Rss stayed within tolerance of idle; NAN */
    struct rdb_named *counters; /* hakmem counters at exit (grp set) */
    int ncounters;
    struct rdb_named *events; /* counting perf events, per interval */
    int nevents;
    char note[512];   /* runs.note: sampling gaps, lost writes, unsupported events */
    int processes;    /* processes sampled: 1, or how many a run followed (schema 3 on) */
    struct rdb_proc procs[RDB_MAX_PROCS];
    int nprocs;
};

struct rdb;

/* Opens a run database read-only.  NULL with one line in err: missing file, not SQLite, not a hak
 * run database, or a newer schema than this hak reads. */
struct rdb *rdb_open(const char *path, char *err, size_t errlen);
void rdb_close(struct rdb *db);
const char *rdb_path(const struct rdb *db);

/* Loads runs (all when nids == 0, else the listed ids, in that order).  Returns the number
 * loaded, or -1 with err set (an id that is not in the database, an SQL error). */
int rdb_load_runs(struct rdb *db, const int64_t *ids, int nids, struct rdb_run **out, char *err,
                  size_t errlen);
void rdb_free_runs(struct rdb_run *runs, int n);

/* For a verb's command line (`verb` is "hak plot", "hak report"...); both print one line on
 * stderr when they fail.
 * rdb_add_run_id: appends the run id of a --run argument (a positive number) to ids, which has
 * room for `max`; 0, or -1 when arg is not a run id or ids is full.
 * rdb_open_runs: opens `path` and loads its runs (all when nids == 0); the database, or NULL when
 * it cannot be read or holds no runs yet. */
int rdb_add_run_id(const char *verb, const char *arg, int64_t *ids, int *nids, int max);
struct rdb *rdb_open_runs(const char *verb, const char *path, const int64_t *ids, int nids,
                          struct rdb_run **runs, int *n);

/* Rss over time of one run: parallel arrays (ms, KiB) of every sample that measured Rss. */
int rdb_timeline(struct rdb *db, int64_t run_id, double **t_ms, double **rss_kb);

/* Rss over time of process image k of a run (r->procs[k]: one pid under one name; an exec starts a
 * new image), and the sum over every image of the run but the first `nkept` of r->procs at each
 * sample that read one of them.  Parallel arrays (ms, KiB) in time order; 0 rows, or -1, for a
 * database before schema 3. */
int rdb_process_timeline(struct rdb *db, const struct rdb_run *r, int k, double **t_ms,
                         double **rss_kb);
int rdb_other_processes_timeline(struct rdb *db, const struct rdb_run *r, int nkept, double **t_ms,
                                 double **rss_kb);

/* hakmem's resident KiB per tier over time (hakmem_tiers at each full snapshot): parallel arrays
 * of times (ms) and per-tier KiB.  0 rows for a run without tiers (not hakmem). */
int rdb_tier_timeline(struct rdb *db, int64_t run_id, double **t_ms,
                      double (**tier_kb)[RDB_NTIERS]);
/* hakmem's cache figures (RDB_CACHE_*, KiB) at every sample that read its counters (the full
 * snapshots and the exit): parallel arrays in time order.  0 rows for a run without counters. */
int rdb_cache_timeline(struct rdb *db, int64_t run_id, double **t_ms,
                       double (**kb)[RDB_NCACHE]);
/* hakmem's thread caches per size class over a run (hakmem_classes, schema 5 on): the (at most)
 * `max` classes with the largest capacity at any sample, in class order, into cls[] and size[]
 * (*ncls of them), and their capacities (KiB, summed over the threads) at every sample that stored
 * classes: parallel arrays in time order, *kb holding *ncls values per row.  0 rows when the run
 * stored none. */
int rdb_size_class_timeline(struct rdb *db, int64_t run_id, int max, unsigned *cls,
                            uint32_t *size, int *ncls, double **t_ms, double **kb);
/* Every mark of a run: name and time, for shading a chart. */
int rdb_marks(struct rdb *db, int64_t run_id, char (**names)[32], double **t_ms);

/* Runs grouped by (profile, bench, params, allocator, build): the rows of a side-by-side table.
 * A profile may run one benchmark with several sets of parameters (the `speed` profile's four
 * replays, `decay`'s three parts): each set is its own section, numbered by `variant` (0 for the
 * first set of a profile and benchmark, in order of first appearance). */
struct rdb_group {
    const char *profile, *bench, *params, *allocator, *build;
    int variant;
    int *idx; /* indexes into the runs array */
    int n, ncompleted;
};
int rdb_group_runs(const struct rdb_run *runs, int n, struct rdb_group **out);
void rdb_free_groups(struct rdb_group *g, int n);

/* Whether two groups belong to one section of a report (same profile, benchmark and parameters). */
int rdb_same_section(const struct rdb_group *a, const struct rdb_group *b);

/* The name of a section in file names: "PROFILE-BENCH", or "BENCH" without a profile; a later
 * set of parameters of the same benchmark adds its number from 2 on ("speed-replay-2"). */
void rdb_section_name(const struct rdb_group *g, char *buf, size_t n);

/* Whether labels need the build: some section holds one allocator under several builds. */
int rdb_groups_need_build(const struct rdb_group *g, int n);

/* The runs of a group whose figures count: the completed ones, or all when none completed. */
int rdb_group_usable(const struct rdb_run *runs, const struct rdb_group *g, int i);

/* The allocator library of a run in words, for reports: "libmimalloc2.0:amd64 2.0.9+ds-2
 * (/usr/lib/.../libmimalloc.so.2.0)", "build ID (/path/libhakmem.so)"; "" when unknown. */
const char *rdb_library(const struct rdb_run *r, char *buf, size_t n);
/* Statistics over values (NANs skipped).  Return NAN when no value. */
double rdb_median(const double *v, int n);
double rdb_min(const double *v, int n);
double rdb_max(const double *v, int n);

/* A figure of a phase, picked by name, for tables and diffs. */
enum rdb_figure { RDB_FIG_RSS, RDB_FIG_RSS_NET, RDB_FIG_LIVE, RDB_FIG_OVERHEAD };
double rdb_phase_value(const struct rdb_phase_fig *f, enum rdb_figure fig);

/* Collects figure `fig` of phase `ph` over a group's usable runs into v (size >= g->n); returns
 * how many. */
int rdb_group_values(const struct rdb_run *runs, const struct rdb_group *g, int ph,
                     enum rdb_figure fig, double *v);

/* The median over a group's usable runs of any per-run value, get(run, arg). */
double rdb_group_median(const struct rdb_run *runs, const struct rdb_group *g,
                        double (*get)(const struct rdb_run *, int), int arg);

/* Collects a per-run double of struct rdb_run, at byte `offset` (offsetof: instr_per_op,
 * alloc_ns_per_op), over a group's usable runs into v (size >= g->n); returns how many. */
int rdb_group_field(const struct rdb_run *runs, const struct rdb_group *g, size_t offset,
                    double *v);
/* The same for ops/s. */
int rdb_group_ops(const struct rdb_run *runs, const struct rdb_group *g, double *v);

/* Looks up a counter of a run at exit; NAN when absent. */
double rdb_counter(const struct rdb_run *r, const char *name);

#endif
