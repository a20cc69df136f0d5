/*
 * The recorder: runs one command and, until it exits, samples it into a run database
 * (run_db.h).  `hak record` is a command line around it; `hak bench -o` calls it once per
 * allocator x repetition, so every run of a benchmark session lands in one database the same way.
 *
 * What is sampled when (docs/collector.md):
 *   every interval          /proc/PID/smaps_rollup, or statm when the rollup (samples)
 *                           would exceed the CPU budget (max_cpu_pct)
 *   every smaps_every-th,   + /proc/PID/smaps per mapping, classified      (mappings)
 *   and at each phase mark  + hakmem's counter segment, when present       (counters)
 *                           + perf events                                  (events)
 *   after the exit          counters (the segment stays mapped) and events
 * A phase mark is acknowledged after its snapshot is committed, so the snapshot shows the process
 * exactly at the mark.
 */
#ifndef HAK_RECORDER_H
#define HAK_RECORDER_H

#include <stdint.h>
#include <sys/resource.h>

#include "run_db.h"

#define HAK_RECORD_DEFAULT_INTERVAL_MS 10.0
#define HAK_RECORD_DEFAULT_SMAPS_EVERY 100
#define HAK_RECORD_DEFAULT_EVENTS "cycles,instructions,cache-misses"
#define HAK_RECORD_DEFAULT_MAX_CPU_PCT 0.5

struct hak_record_opts {
    char *const *argv;     /* the command; argv[0] is looked up in PATH */
    const char *allocator; /* short name for the run row; NULL: the command's own malloc */
    const char *preload;   /* library to LD_PRELOAD; "" removes LD_PRELOAD; NULL leaves the
                              environment's (when allocator is NULL) */
    double interval_ms;    /* timer period */
    int smaps_every;       /* full snapshot every N timer samples; 0: at phase marks only */
    double max_cpu_pct;    /* CPU the timer may use, % of one CPU; >= 100: unmetered */
    const char *events;    /* comma-separated event names; "" or "none": no events */
    int events_named;      /* the user named the events (-e): an unsupported one is said on
                              stderr; the default set falls back quietly (runs.note keeps it) */
    const char *session;   /* groups the runs of one invocation; NULL: made up */
    const char *profile, *bench, *params; /* metadata for hak bench runs (NULL otherwise) */
    int rep;
    int timeout_s;    /* kill the command after this long; 0: never */
    int attach_pid;   /* > 0: sample this running process instead of starting argv */
    double duration_s; /* attached: stop sampling after this long; 0: until it exits */
    int stdout_fd;    /* the command's stdout; -1: ours */
    const char *prog; /* prefix of messages: "hak record" */
    const char *hak_build; /* build of the recording binary, for the run row */
    int quiet;        /* no notes on stderr (warnings about lost data are still printed) */
};

/* Sets every field to its default (argv NULL). */
void hak_record_defaults(struct hak_record_opts *o);

struct hak_record_result {
    int64_t run_id;         /* -1 when no run row was written */
    int started;            /* the command was executed */
    int exec_errno;         /* why exec failed (the command did not start), else 0 */
    int wait_status;        /* from wait4, when started */
    int interrupted;        /* the signal (SIGINT, SIGTERM, SIGHUP) that stopped the recording */
    int timed_out;          /* killed after timeout_s */
    int db_failed;          /* a write to the database failed: the run is incomplete */
    struct rusage ru;       /* the command's, from wait4 */
    double wall_s;          /* from exec to exit */
    double collector_cpu_s; /* this process's CPU time (user + system) during the run */
    long samples, snapshots, marks;
    long rollups;      /* timer samples read from smaps_rollup (the rest from statm) */
    long processes;    /* distinct processes sampled (the command and its descendants) */
    long execs;        /* execs noticed and followed */
    long gaps;         /* stretches without a sample longer than a few intervals */
    double longest_gap_ms;
    char note[1024];   /* as stored in runs.note ("" for none) */
    const char *state; /* as stored: "completed", "failed", "crashed", ... */
    char error[600];   /* why the command did not start or the database failed */
};

/* Checks an event list before anything starts.  0, or -1 with one line in err. */
int hak_record_check_events(const char *events, char *err, size_t errlen);

/* Looks argv0 up as execvp would.  0, or -1 with "cannot run X: ..." in err and the status a
 * shell would give (127 not found, 126 not executable) in *status. */
int hak_record_check_command(const char *argv0, char *err, size_t errlen, int *status);

/* Runs and records one command.  Returns 0 when the run was recorded (whatever the command did:
 * see res->state), -1 when it could not be (res->error says why; res->run_id >= 0 if a row says
 * "not_started"). */
int hak_record_run(struct run_db *db, const struct hak_record_opts *o,
                   struct hak_record_result *res);

#endif
