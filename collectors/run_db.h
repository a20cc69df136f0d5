/*
 * The run database: one SQLite file that holds any number of recorded runs, each with its
 * metadata, timer samples, per-mapping snapshots, hakmem counters, perf events, phase marks and
 * results.  This file and run_db.c are the only place that knows SQL; the schema, its version and
 * the migration policy are documented in docs/schema.md.
 *
 * Writes are batched: run_db_begin / run_db_commit bracket one batch (a group of timer samples, or
 * one phase snapshot).  The database is in WAL mode with synchronous=NORMAL: a commit is one
 * append to the log, and a crash of the collector loses at most the batch in progress.
 */
#ifndef HAK_RUN_DB_H
#define HAK_RUN_DB_H

#include <stddef.h>
#include <stdint.h>

/* Only pointers to these cross this interface (their headers: smaps.h, events.h, phase_reader.h).
 */
struct hak_smaps_fields;
struct hak_mapping;
struct hak_tier_rss;
struct hak_event;
struct hak_event_value;
struct hak_phase_msg;

#include "schema.h"

struct run_db;

enum run_db_flags {
    RUN_DB_CREATE = 0, /* open for writing, create the file and the schema, migrate an older one */
    RUN_DB_READONLY = 1, /* open an existing database for reading; no migration */
};

/* Opens (and for writing creates or migrates) a run database.  On failure returns NULL and writes
 * one line into err: "run.db: not an SQLite database (or corrupt)", "run.db: read-only", "run.db:
 * schema version 7 is newer than this hak understands (1)", ... */
struct run_db *run_db_open(const char *path, int flags, char *err, size_t errlen);

/* Commits anything pending and closes.  0, or -1 when the last commit failed. */
int run_db_close(struct run_db *db);

/* The schema version of the open database (RUN_DB_SCHEMA_VERSION after a write open). */
int run_db_schema_version(const struct run_db *db);

/* The last SQLite error message. */
const char *run_db_error(const struct run_db *db);

/* hak merge: copies every run of the database at in_path, with all its rows, into db under new
 * run ids that follow db's own (order, host, builds and everything else kept).  The input must be a
 * hak run database at this schema version; a failed merge writes nothing of it.  Returns the
 * number of runs copied, or -1 with one line in err.  run_db_check_merge_input is the check
 * alone, so a verb can refuse all its inputs before writing anything. */
int run_db_merge(struct run_db *db, const char *in_path, char *err, size_t errlen);
int run_db_check_merge_input(const char *in_path, char *err, size_t errlen);

/* What is known about a run before it starts (NULL strings become SQL NULL). */
struct run_db_run {
    const char *session;    /* one id per hak invocation: hak bench's runs share it */
    const char *command;    /* the command line, shell-quoted */
    const char *allocator;  /* short name, or NULL when the command ran on whatever it links */
    const char *preload;    /* LD_PRELOAD given to it */
    const char *hak_build;  /* build of the hak binary */
    const char *source_git; /* git describe of the source tree, when it is a git checkout */
    const char *profile, *bench, *params;
    int rep; /* repetition number (hak bench), 0 otherwise */
    const char *host, *kernel;
    int cpus;
    double interval_ms;
    int smaps_every;
    double max_cpu_pct;
    const char *events; /* as requested */
    int64_t start_unix_ns;
    const char *start_utc; /* ISO 8601 */
    /* The allocator library: real path, the Debian package that ships it, its version. */
    const char *alloc_file, *alloc_package, *alloc_version;
};

/* How a run ended. */
struct run_db_end {
    const char
        *state;      /* "completed", "failed", "crashed", "interrupted", "timeout", "not_started" */
    int completed;   /* 1 when the command ran to its own end */
    int exit_code;   /* -1: none */
    int term_signal; /* 0: none */
    int64_t end_unix_ns;
    const char *end_utc;
    double wall_s;
    double child_user_s, child_sys_s;
    long child_maxrss_kb;
    double collector_cpu_s;
    long samples, snapshots;
    long timer_ticks;  /* sampling timer expirations handled while the command ran */
    long timer_misses; /* of those, ticks that could not read the process (no sample) */
    int attached;      /* the process was already running (hak record -p) */
    long processes;    /* distinct processes sampled: the command and its descendants */
    long execs;        /* execs noticed (the sampled files reopened) */
    long gaps;         /* intervals between samples longer than the gap threshold */
    double longest_gap_ms;
    const char *note; /* NULL or one line */
};

/* Inserts a run in state "running" and commits it, so a collector killed outright still leaves a
 * row that says the run did not complete.  Returns the run id, or -1. */
int64_t run_db_begin_run(struct run_db *db, const struct run_db_run *run);

int run_db_set_pid(struct run_db *db, int64_t run_id, long pid);
int run_db_set_alloc_build(struct run_db *db, int64_t run_id, const char *build_id);
int run_db_set_hello(struct run_db *db, int64_t run_id, const struct hak_phase_msg *hello);

/* Fills in how the run ended and commits. */
int run_db_end_run(struct run_db *db, int64_t run_id, const struct run_db_end *end);

/* Batches.  run_db_begin is a no-op inside a batch; run_db_commit outside one. */
int run_db_begin(struct run_db *db);
int run_db_commit(struct run_db *db);
int run_db_in_batch(const struct run_db *db);

/* One process's figures within a sample (process_samples); the sample's row holds the total. */
int run_db_add_process_sample(struct run_db *db, int64_t run_id, long sample_seq, long pid,
                              long ppid, const char *comm, const char *source,
                              const struct hak_smaps_fields *f);

/* kind: "timer", "mark", "exit".  source: "rollup" (smaps_rollup), "smaps" (the sum of the
 * mappings of this sample's walk) or "statm" (Rss and Anonymous only; the others are stored as
 * NULL).  rollup NULL: no memory figures (the exit
 * snapshot, when the process has no address space any more).  phase_seq < 0: none. */
int run_db_add_sample(struct run_db *db, int64_t run_id, long seq, int64_t t_ns, const char *kind,
                      int full, int64_t phase_seq, const char *source,
                      const struct hak_smaps_fields *rollup, int processes);
int run_db_add_mapping(struct run_db *db, int64_t run_id, long sample_seq,
                       const struct hak_mapping *m);
/* What hakmem holds in one tier ("tiny", ...) at a full snapshot, resident bytes from pagemap. */
int run_db_add_tier(struct run_db *db, int64_t run_id, long sample_seq, const char *tier,
                    const struct hak_tier_rss *t);
int run_db_add_counter_name(struct run_db *db, int64_t run_id, const char *name, const char *group,
                            const char *description);
int run_db_add_counter(struct run_db *db, int64_t run_id, long sample_seq, const char *name,
                       int64_t value);
/* One size class of hakmem's thread caches at a snapshot (hakmem_classes): its block size, the
 * threads with a cache of it, their capacities and the blocks they hold, in blocks. */
int run_db_add_class(struct run_db *db, int64_t run_id, long sample_seq, unsigned cls,
                     uint32_t size, uint64_t threads, uint64_t capacity, uint64_t cached);
int run_db_add_event_name(struct run_db *db, int64_t run_id, const struct hak_event *ev);
int run_db_add_event(struct run_db *db, int64_t run_id, long sample_seq, const char *name,
                     const struct hak_event_value *v);
/* sample_seq < 0: the mark arrived when no snapshot could be taken. */
int run_db_add_phase(struct run_db *db, int64_t run_id, const struct hak_phase_msg *mark,
                     int64_t t_ns, int occurrence, long sample_seq, int acked);
/* seq and t_ns < 0: unknown (results parsed from the benchmark's output). */
int run_db_add_result(struct run_db *db, int64_t run_id, int64_t seq, int64_t t_ns, const char *key,
                      double value, const char *text, const char *source);

#endif
