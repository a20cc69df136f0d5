/*
 * The recorder (recorder.h): starts a command with the phase channel and perf events attached,
 * then runs one event loop until it exits:
 *
 *   poll(signalfd, pidfd, phase channel, timerfd)
 *     timer    -> a rollup sample; every smaps_every-th a full snapshot; commit every 100 ms
 *     mark     -> full snapshot, commit, then "ack SEQ" to the benchmark
 *     result   -> a results row
 *     SIGINT / SIGTERM / SIGHUP -> stop the command (SIGTERM, SIGKILL 2 s later), keep what we have
 *     pidfd    -> the command exited: reap it, take the exit snapshot (counters, events), close
 *
 * The command is forked, then waits on a pipe until its perf events are attached; its exec is
 * confirmed through a close-on-exec pipe that carries errno when exec fails.
 */
#include "recorder.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "allocators.h"
#include "counter_reader.h"
#include "events.h"
#include "launcher.h"
#include "peer_identity.h"
#include "phase_reader.h"
#include "process_tree.h"
#include "smaps.h"

#define COMMIT_EVERY_NS 250000000ll /* timer samples are committed in batches this long */
#define PENDING_MAX 256             /* timer samples held in memory between commits */
#define STOP_GRACE_NS 2000000000ll  /* SIGTERM, then SIGKILL this much later */
#define MAX_PHASE_NAMES 128
#define MAX_PROCESSES 512           /* processes followed at once (4 descriptors each) */
#define GAP_INTERVALS 5             /* a gap: no sample for this many intervals ... */
#define GAP_MIN_NS 100000000ll      /* ... and at least this long */

void hak_record_defaults(struct hak_record_opts *o) {
    memset(o, 0, sizeof *o);
    o->interval_ms = HAK_RECORD_DEFAULT_INTERVAL_MS;
    o->smaps_every = HAK_RECORD_DEFAULT_SMAPS_EVERY;
    o->max_cpu_pct = HAK_RECORD_DEFAULT_MAX_CPU_PCT;
    o->events = HAK_RECORD_DEFAULT_EVENTS;
    o->stdout_fd = -1;
    o->prog = "hak record";
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int64_t unix_ns(char *utc, size_t len) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(utc, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static double cpu_seconds(const struct rusage *ru) {
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static int64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static double self_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return cpu_seconds(&ru);
}

int hak_record_check_events(const char *events, char *err, size_t errlen) {
    static struct hak_event_set set; /* large: not on the stack */
    return hak_events_init(&set, events, err, errlen);
}

int hak_record_check_command(const char *argv0, char *err, size_t errlen, int *status) {
    char path[4096];
    int found_not_exec = 0;
    if (strchr(argv0, '/')) {
        struct stat st;
        if (stat(argv0, &st) != 0) {
            snprintf(err, errlen, "cannot run %s: %s", argv0, strerror(errno));
            *status = 127;
            return -1;
        }
        if (S_ISDIR(st.st_mode) || access(argv0, X_OK) != 0) {
            snprintf(err, errlen, "cannot run %s: %s", argv0,
                     S_ISDIR(st.st_mode) ? "Is a directory" : strerror(EACCES));
            *status = 126;
            return -1;
        }
        return 0;
    }
    const char *dirs = getenv("PATH");
    if (!dirs || !*dirs) dirs = "/usr/local/bin:/usr/bin:/bin";
    for (const char *d = dirs; *d;) {
        size_t n = strcspn(d, ":");
        snprintf(path, sizeof path, "%.*s/%s", (int)(n ? n : 1), n ? d : ".", argv0);
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
            if (access(path, X_OK) == 0) return 0;
            found_not_exec = 1;
        }
        d += n;
        if (*d == ':') d++;
    }
    snprintf(err, errlen, "cannot run %s: %s", argv0,
             found_not_exec ? "Permission denied" : "command not found in PATH");
    *status = found_not_exec ? 126 : 127;
    return -1;
}

/* The command line, shell-quoted where needed. */
static void join_command(char *const *argv, char *out, size_t len) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; argv[i] && used + 4 < len; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        for (const char *c = a; *c; c++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+%@",
                        *c))
                plain = 0;
        if (i) out[used++] = ' ';
        if (plain) {
            used += (size_t)snprintf(out + used, len - used, "%s", a);
        } else {
            out[used++] = '\'';
            for (const char *c = a; *c && used + 6 < len; c++) {
                if (*c == '\'')
                    used += (size_t)snprintf(out + used, len - used, "'\\''");
                else
                    out[used++] = *c;
            }
            out[used++] = '\'';
        }
        if (used >= len) used = len - 1;
        out[used] = '\0';
    }
}

/* The command line of a running process, from /proc/PID/cmdline; "pid N" when it cannot be read. */
static void attached_command(pid_t pid, char *out, size_t len) {
    char path[64], buf[4096];
    char *args[256];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) {
        snprintf(out, len, "pid %d", (int)pid);
        return;
    }
    buf[n] = '\0';
    int argc = 0;
    for (char *a = buf; a < buf + n && argc < 255; a += strlen(a) + 1)
        args[argc++] = a;
    args[argc] = NULL;
    join_command(args, out, len);
}

/* git describe of the source tree the hak binary was built in (<exe>/../..), once per process.
 * git runs without a shell, so no character of the path is ever parsed as a command. */
static const char *source_git(void) {
    static int done;
    static char sha[128];
    if (done) return sha[0] ? sha : NULL;
    done = 1;
    char dir[HAK_ALLOC_PATH_MAX], tree[HAK_ALLOC_PATH_MAX + 8];
    if (hak_exe_dir(dir, sizeof dir) != 0) return NULL;
    snprintf(tree, sizeof tree, "%s/../..", dir);
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) != 0) return NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (dup2(fd[1], 1) < 0 || null < 0 || dup2(null, 2) < 0 || dup2(null, 0) < 0) _exit(127);
        execlp("git", "git", "-C", tree, "describe", "--always", "--dirty", "--abbrev=40",
               (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t got = 0;
    if (pid > 0) {
        ssize_t r;
        while (got + 1 < sizeof sha &&
               ((r = read(fd[0], sha + got, sizeof sha - 1 - got)) > 0 || (r < 0 && errno == EINTR)))
            if (r > 0) got += (size_t)r;
    }
    close(fd[0]);
    sha[got] = '\0';
    int st = 1;
    if (pid > 0)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
    if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) sha[0] = '\0';
    sha[strcspn(sha, "\n")] = '\0';
    return sha[0] ? sha : NULL;
}

/* ---- one recording --------------------------------------------------------------------------- */

/* A timer sample waiting for the next commit.  Inserting a row right after a 10 ms sleep costs
 * tens of microseconds of cold caches; inserting a batch costs a few per row. */
struct pending_sample {
    long seq;
    int processes; /* how many processes the figures sum */
    int64_t t_ns;
    const char *source;
    struct hak_smaps_fields f;
};

/* One process's figures of a sample, waiting for the next commit like the sample itself. */
struct pending_process {
    long seq;
    pid_t pid, ppid;
    char comm[HAK_PROC_COMM_MAX + 1];
    const char *source;
    struct hak_smaps_fields f;
};

struct phase_count {
    char name[HAK_PHASE_NAME_MAX + 1];
    int count;
};

struct recording {
    const struct hak_record_opts *o;
    struct hak_record_result *res;
    struct run_db *db;
    int64_t run_id;
    pid_t pid;
    int64_t t0; /* CLOCK_MONOTONIC at the fork */
    int alive;  /* the command has not exited */
    int stopping;
    int64_t kill_at; /* when to send SIGKILL, once stopping */

    struct hak_process_tree tree; /* the command and its descendants; procs[0] is the command */
    int tree_open;
    struct hak_smaps smaps;

    struct hak_reader *reader; /* hakmem's counter segment, kept mapped until the end */
    uint64_t *totals;
    struct hak_reader_class *classes; /* one per size class of its thread caches */
    struct hak_probe_region *regions;
    size_t region_cap;

    struct hak_event_set events;

    struct hak_phase_reader phases;
    int ack_fd;
    int bench_acks; /* the benchmark said ack=1 */
    int hello_stored;   /* the first hello names the run; later ones (hak mark, children) do not */
    uint64_t mark_seq;   /* the last phases.seq stored: marks of several processes never collide */
    struct phase_count counts[MAX_PHASE_NAMES];
    int ncounts;

    struct pending_sample pending[PENDING_MAX];
    int npending;
    struct pending_process *pending_procs;
    size_t npending_procs, pending_procs_cap;
    int64_t last_sample_t; /* t_ns of the last sample with memory figures; -1: none yet */
    long gaps;
    int64_t longest_gap_ns;
    int detached;          /* attached (-p): --duration ended or a signal asked to stop */
    long seq; /* next sample number */
    long timer_ticks;
    long timer_misses; /* ticks that could not read the process */
    int full_due;         /* a periodic full snapshot waits for CPU allowance */
    int64_t allowance_ns; /* CPU the timer may still spend (token bucket, --max-cpu) */
    int64_t last_tick;
    int64_t last_commit;
    int db_warned;
    char events_note[512];
};

/* Notes a failed write once; the run goes on, the row will say it is incomplete. */
static void db_check(struct recording *r, int rc) {
    if (rc == 0) return;
    r->res->db_failed = 1;
    if (!r->db_warned) {
        fprintf(stderr, "%s: writing the run database failed: %s; the run is incomplete\n",
                r->o->prog, run_db_error(r->db));
        r->db_warned = 1;
    }
}

/* Lets hakmem's counter segment go, with what was read from it. */
static void segment_close(struct recording *r) {
    if (r->reader) hak_reader_close(r->reader);
    r->reader = NULL;
    free(r->totals);
    free(r->regions);
    free(r->classes);
    r->totals = NULL;
    r->regions = NULL;
    r->classes = NULL;
}

/* Opens hakmem's counter segment of the command once it exists (after its first allocation). */
static void try_open_segment(struct recording *r) {
    if (r->reader || !r->alive) return;
    char err[600];
    r->reader = hak_reader_open_pid(r->pid, err, sizeof err);
    if (!r->reader) return;
    const struct hak_probe_header *h = hak_reader_header(r->reader);
    r->totals = calloc(h->counter_count ? h->counter_count : 1, sizeof *r->totals);
    r->region_cap = h->region_capacity;
    r->regions = calloc(r->region_cap ? r->region_cap : 1, sizeof *r->regions);
    unsigned ncls = hak_reader_class_count(r->reader);
    r->classes = calloc(ncls ? ncls : 1, sizeof *r->classes);
    if (!r->totals || !r->regions || !r->classes) {
        segment_close(r);
        return;
    }
    run_db_begin(r->db);
    db_check(r, run_db_set_alloc_build(r->db, r->run_id, hak_reader_build_id(r->reader)));
    for (unsigned i = 0; i < hak_reader_counter_count(r->reader); i++)
        db_check(r, run_db_add_counter_name(r->db, r->run_id, hak_reader_counter_name(r->reader, i),
                                            hak_reader_counter_group(r->reader, i),
                                            hak_reader_counter_desc(r->reader, i)));
}

/* The counters' totals, and the thread caches of every size class that some thread caches or
 * has a capacity for (a class no thread uses stores no row). */
static void store_counters(struct recording *r, long seq) {
    if (!r->reader || !hak_reader_totals(r->reader, r->totals)) return;
    for (unsigned i = 0; i < hak_reader_counter_count(r->reader); i++)
        db_check(r, run_db_add_counter(r->db, r->run_id, seq, hak_reader_counter_name(r->reader, i),
                                       (int64_t)r->totals[i]));
    if (!hak_reader_classes(r->reader, r->classes)) return;
    for (unsigned c = 0; c < hak_reader_class_count(r->reader); c++) {
        const struct hak_reader_class *k = &r->classes[c];
        if (k->capacity || k->cached)
            db_check(r, run_db_add_class(r->db, r->run_id, seq, c,
                                         hak_reader_class_size(r->reader, c), k->threads,
                                         k->capacity, k->cached));
    }
}

static void store_events(struct recording *r, long seq) {
    for (int i = 0; i < r->events.count; i++) {
        struct hak_event_value v;
        if (hak_events_read(&r->events, i, &v) == 0)
            db_check(r, run_db_add_event(r->db, r->run_id, seq, r->events.ev[i].name, &v));
    }
}

/* The command's process: procs[0] while it lives, NULL once it is gone or before it started. */
static struct hak_proc *root_proc(struct recording *r) {
    if (!r->tree_open || r->tree.count == 0 || r->tree.procs[0].pid != r->pid) return NULL;
    return &r->tree.procs[0];
}

/* Notices an exec of p (or reopens after a failed read).  An exec of the command replaces
 * hakmem's counter segment too: the old one is let go, and the new image's is looked for. */
static int refresh_process(struct recording *r, struct hak_proc *p, int failed) {
    int rc = hak_tree_refresh(&r->tree, p, failed);
    if (rc == 1 && p->pid == r->pid && r->reader) segment_close(r);
    return rc;
}

/* Reads one process's figures (rollup, or statm when `rollup` is 0), following an exec.  0, or -1
 * when it could not be read (exiting, gone). */
static int read_process(struct recording *r, struct hak_proc *p, int rollup,
                        struct hak_smaps_fields *out) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (refresh_process(r, p, attempt) < 0 || !p->open) return -1;
        int rc = rollup ? hak_smaps_read_rollup(&p->src, out) : hak_smaps_read_statm(&p->src, out);
        if (rc == 0) return 0;
    }
    return -1;
}

/* Keeps one process's figures of sample seq until the next commit. */
static void pend_process(struct recording *r, long seq, const struct hak_proc *p,
                         const char *source, const struct hak_smaps_fields *f) {
    if (r->npending_procs == r->pending_procs_cap) {
        size_t cap = r->pending_procs_cap ? r->pending_procs_cap * 2 : 256;
        struct pending_process *v = realloc(r->pending_procs, cap * sizeof *v);
        if (!v) {
            r->res->db_failed = 1; /* the run will say figures are missing */
            return;
        }
        r->pending_procs = v;
        r->pending_procs_cap = cap;
    }
    struct pending_process *q = &r->pending_procs[r->npending_procs++];
    q->seq = seq;
    q->pid = p->pid;
    q->ppid = p->ppid;
    memcpy(q->comm, p->comm, sizeof q->comm);
    q->source = source;
    q->f = *f;
}

/* Counts a gap when no sample came for GAP_INTERVALS intervals (and GAP_MIN_NS): the collector
 * was starved, stopped, or could not read the process.  Such runs are flagged (runs.note). */
static void note_sample_time(struct recording *r, int64_t t) {
    int64_t limit = (int64_t)(r->o->interval_ms * 1e6) * GAP_INTERVALS;
    if (limit < GAP_MIN_NS) limit = GAP_MIN_NS;
    /* One thread takes every sample, each time read after the one before. */
    assert(r->last_sample_t < 0 || t >= r->last_sample_t);
    int64_t since = r->last_sample_t >= 0 ? r->last_sample_t : 0;
    if (t - since > limit) {
        r->gaps++;
        if (t - since > r->longest_gap_ns) r->longest_gap_ns = t - since;
    }
    r->last_sample_t = t;
}

/* Stores every mapping, classified against hakmem's regions when it publishes them, and what
 * each of hakmem's tiers holds resident (exact, from pagemap, where mappings are merged). */
static void store_mappings(struct recording *r, long seq) {
    size_t n = 0;
    if (r->reader) {
        long got = hak_reader_regions(r->reader, r->regions, r->region_cap);
        if (got > 0) n = (size_t)got < r->region_cap ? (size_t)got : r->region_cap;
        hak_regions_sort(r->regions, n);
        struct hak_tier_rss tiers[HAK_TIER_COUNT];
        struct hak_proc *root = root_proc(r);
        if (got >= 0 && root && hak_smaps_tier_rss(&root->src, r->regions, n, tiers) == 0)
            for (uint32_t t = 0; t < HAK_TIER_COUNT; t++)
                db_check(
                    r, run_db_add_tier(r->db, r->run_id, seq, hak_reader_tier_name(t), &tiers[t]));
    }
    hak_smaps_classify(&r->smaps, r->reader ? r->regions : NULL, n);
    for (size_t i = 0; i < r->smaps.count; i++)
        db_check(r, run_db_add_mapping(r->db, r->run_id, seq, &r->smaps.maps[i]));
}

/* A full snapshot: every mapping, the totals, counters, events.  At a mark the process is parked,
 * so the totals come from smaps_rollup read right after smaps, and the two walks agree.  A timer
 * snapshot catches the process moving: its totals are the sum of this one walk (source "smaps"),
 * so they agree by construction and the second walk is saved.  Returns the sample number, or -1
 * when the process has no address space any more. */
static long snapshot(struct recording *r, const char *kind, int64_t phase_seq) {
    struct hak_proc *root = root_proc(r);
    if (!r->alive || !root) return -1;
    try_open_segment(r);
    int64_t t = mono_ns() - r->t0;
    int read = -1;
    for (int attempt = 0; attempt < 2 && read != 0; attempt++)
        if (refresh_process(r, root, attempt) >= 0 && root->open)
            read = hak_smaps_read(&root->src, &r->smaps);
    if (read != 0) return -1;
    try_open_segment(r); /* an exec just noticed replaced the segment */
    struct hak_smaps_fields totals, mine;
    const char *source = phase_seq >= 0 ? "rollup" : "smaps";
    if (phase_seq < 0)
        hak_smaps_sum(&r->smaps, &mine);
    else if (hak_smaps_read_rollup(&root->src, &mine) != 0)
        return -1;
    long seq = r->seq++;
    totals = mine;
    int processes = 1;
    pend_process(r, seq, root, source, &mine);
    /* The descendants: their rollups (no mappings: those are the command's). */
    for (size_t i = 1; i < r->tree.count; i++) {
        struct hak_smaps_fields f;
        if (read_process(r, &r->tree.procs[i], 1, &f) != 0) continue;
        hak_smaps_add(&totals, &f);
        pend_process(r, seq, &r->tree.procs[i], "rollup", &f);
        processes++;
    }
    run_db_begin(r->db);
    db_check(r, run_db_add_sample(r->db, r->run_id, seq, t, kind, 1, phase_seq, source, &totals,
                                  processes));
    store_mappings(r, seq);
    store_counters(r, seq);
    store_events(r, seq);
    note_sample_time(r, t);
    r->res->samples++;
    r->res->snapshots++;
    return seq;
}

/* Inserts the timer samples held in memory and commits everything of this batch. */
static void commit(struct recording *r) {
    if (r->npending) run_db_begin(r->db);
    for (int i = 0; i < r->npending; i++) {
        const struct pending_sample *p = &r->pending[i];
        assert(i == 0 || p->seq > r->pending[i - 1].seq); /* timer samples queue in order */
        db_check(r, run_db_add_sample(r->db, r->run_id, p->seq, p->t_ns, "timer", 0, -1, p->source,
                                      &p->f, p->processes));
    }
    if (r->npending_procs) run_db_begin(r->db);
    for (size_t i = 0; i < r->npending_procs; i++) {
        const struct pending_process *q = &r->pending_procs[i];
        assert(q->seq < r->seq); /* a process row belongs to a sample already numbered */
        db_check(r, run_db_add_process_sample(r->db, r->run_id, q->seq, q->pid, q->ppid, q->comm,
                                              q->source, &q->f));
    }
    r->npending = 0;
    r->npending_procs = 0;
    db_check(r, run_db_commit(r->db));
    r->last_commit = mono_ns();
}

/* One timer tick.  The rollup walks every page table entry of the process, so its cost grows
 * with RSS (about 1 ms per 64 MiB on a VM).  Those walks are metered against --max-cpu (a token
 * bucket refilled at max_cpu_pct of one CPU); a tick without allowance reads statm (constant
 * time: Rss and Anonymous only) instead.  Periodic full snapshots wait for allowance the same
 * way.  The fixed cost of a tick (wake-up, statm, batched insert) is not metered: it does not
 * grow with the process (docs/collector.md has the figures). */
static void timer_sample(struct recording *r) {
    int64_t now = mono_ns(), cpu0 = 0;
    double share = r->o->max_cpu_pct / 100.0;
    int unmetered = share >= 1.0;
    if (r->last_tick) r->allowance_ns += (int64_t)((double)(now - r->last_tick) * share);
    if (r->allowance_ns > (int64_t)(share * 1e9)) r->allowance_ns = (int64_t)(share * 1e9);
    r->last_tick = now;
    long tick = r->timer_ticks++;
    if (r->o->smaps_every > 0 && tick % r->o->smaps_every == 0) r->full_due = 1;
    int afford = unmetered || r->allowance_ns >= 0;
    if (r->full_due && afford) {
        r->full_due = 0;
        cpu0 = thread_cpu_ns();
        if (snapshot(r, "timer", -1) < 0) r->timer_misses++;
        r->allowance_ns -= thread_cpu_ns() - cpu0;
    } else if (r->alive && r->tree_open) {
        /* A failed open costs tens of microseconds: every tick for the first second (hakmem
         * maps its segment at its first allocation), then every tenth. */
        if (tick < 100 || tick % 10 == 0) try_open_segment(r);
        hak_tree_scan(&r->tree);
        int64_t t = mono_ns() - r->t0;
        const char *source = afford ? "rollup" : "statm";
        if (afford) cpu0 = thread_cpu_ns();
        struct hak_smaps_fields total;
        memset(&total, 0, sizeof total);
        int processes = 0;
        long seq = r->seq;
        for (size_t i = 0; i < r->tree.count; i++) {
            struct hak_smaps_fields m;
            if (read_process(r, &r->tree.procs[i], afford, &m) != 0) continue;
            hak_smaps_add(&total, &m);
            pend_process(r, seq, &r->tree.procs[i], source, &m);
            processes++;
        }
        if (afford) r->allowance_ns -= thread_cpu_ns() - cpu0;
        if (processes > 0) {
            assert(r->npending < PENDING_MAX); /* commit() empties the queue when it fills */
            struct pending_sample *p = &r->pending[r->npending++];
            p->seq = r->seq++;
            p->t_ns = t;
            p->source = source;
            p->f = total;
            p->processes = processes;
            note_sample_time(r, t);
            r->res->samples++;
            if (afford) r->res->rollups++;
        } else {
            r->timer_misses++;
        }
    } else {
        r->timer_misses++; /* not started yet, or gone */
    }
    if (r->npending == PENDING_MAX || mono_ns() - r->last_commit >= COMMIT_EVERY_NS) commit(r);
}

/* Which time this mark name comes in the run: 1, 2, ... (battle's cycle); 0 past the table. */
static int occurrence(struct recording *r, const char *name) {
    for (int i = 0; i < r->ncounts; i++)
        if (strcmp(r->counts[i].name, name) == 0) return ++r->counts[i].count;
    if (r->ncounts == MAX_PHASE_NAMES) return 0;
    struct phase_count *c = &r->counts[r->ncounts++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->count = 1;
    return 1;
}

/* Handles one message.  A mark is snapshotted and committed before it is acknowledged. */
static void handle_message(struct recording *r, const struct hak_phase_msg *m) {
    switch (m->kind) {
    case HAK_PHASE_HELLO:
        r->bench_acks = m->ack;
        if (r->hello_stored || !strcmp(m->name, HAK_PHASE_MARK_TOOL)) break;
        r->hello_stored = 1;
        run_db_begin(r->db);
        db_check(r, run_db_set_hello(r->db, r->run_id, m));
        break;
    case HAK_PHASE_MARK: {
        /* Each process numbers its own messages from 1 (every `hak mark` of a script is one):
         * a number that does not follow the last mark's is replaced by the next one. */
        struct hak_phase_msg stored = *m;
        if (stored.seq <= r->mark_seq) stored.seq = r->mark_seq + 1;
        r->mark_seq = stored.seq;
        long seq = r->stopping ? -1 : snapshot(r, "mark", (int64_t)stored.seq);
        run_db_begin(r->db);
        int acked = r->bench_acks && r->alive && r->ack_fd >= 0;
        db_check(r, run_db_add_phase(r->db, r->run_id, &stored, (int64_t)m->t_ns - r->t0,
                                     occurrence(r, m->name), seq, acked));
        commit(r);
        r->res->marks++;
        if (acked) hak_phase_send_ack(r->ack_fd, m->seq);
        break;
    }
    case HAK_PHASE_RESULT:
        run_db_begin(r->db);
        db_check(r, run_db_add_result(r->db, r->run_id, (int64_t)m->seq, (int64_t)m->t_ns - r->t0,
                                      m->name, m->number, m->value, "phase"));
        break;
    case HAK_PHASE_BAD:
        break;
    }
}

static void read_phases(struct recording *r) {
    hak_phase_reader_fill(&r->phases);
    struct hak_phase_msg m;
    while (hak_phase_reader_next(&r->phases, &m))
        handle_message(r, &m);
}

/* runs.note: what is missing or unusual about the run, most important first, "; " between. */
static void compose_note(const struct recording *r, char *note, size_t len) {
    const struct hak_record_result *res = r->res;
    size_t used = 0;
    note[0] = '\0';
#define NOTE_ADD(...)                                                                              \
    do {                                                                                           \
        if (used < len)                                                                            \
            used += (size_t)snprintf(note + used, len - used, "%s", used ? "; " : "");             \
        if (used < len) used += (size_t)snprintf(note + used, len - used, __VA_ARGS__);           \
    } while (0)
    if (res->db_failed) NOTE_ADD("database writes failed: samples are missing");
    if (r->gaps)
        NOTE_ADD("sampling gaps: %ld without a sample for over %d intervals, the longest %.0f ms",
                 r->gaps, GAP_INTERVALS, (double)r->longest_gap_ns / 1e6);
    if (r->tree.seen == 0)
        NOTE_ADD("the command ended before it could be read: no memory sample (rusage only)");
    if (r->tree.untracked)
        NOTE_ADD("%ld descendant processes not followed (over %d at once)", r->tree.untracked,
                 MAX_PROCESSES);
    if (r->events_note[0]) NOTE_ADD("%s", r->events_note);
#undef NOTE_ADD
}

/* The state and flags a run ends with. */
static void classify_end(const struct recording *r, struct run_db_end *e) {
    const struct hak_record_result *res = r->res;
    int st = res->wait_status;
    e->exit_code = -1;
    e->term_signal = 0;
    e->completed = 0;
    if (WIFEXITED(st)) e->exit_code = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) e->term_signal = WTERMSIG(st);
    if (r->o->attach_pid > 0) {
        /* Sampling a process we did not start: it ends by its own exit, or we let go of it. */
        e->state = r->alive ? "detached" : "exited";
        e->term_signal = 0;
        e->completed = 1;
    } else if (res->interrupted) {
        e->state = "interrupted";
    } else if (res->timed_out) {
        e->state = "timeout";
    } else if (WIFSIGNALED(st)) {
        e->state = "crashed";
    } else {
        e->state = e->exit_code == 0 ? "completed" : "failed";
        e->completed = 1; /* it ran to its own end, successful or not */
    }
}

/* Handles a stop request: SIGTERM to the command now, SIGKILL after the grace period. */
static void request_stop(struct recording *r, int sig) {
    if (!r->res->interrupted && !r->res->timed_out) r->res->interrupted = sig;
    if (r->stopping) { /* asked twice: no more grace */
        if (r->alive) kill(r->pid, SIGKILL);
        r->kill_at = 0;
        return;
    }
    r->stopping = 1;
    if (r->alive) kill(r->pid, sig == SIGKILL ? SIGKILL : SIGTERM);
    r->kill_at = mono_ns() + STOP_GRACE_NS;
}

static void event_loop(struct recording *r, int sig_fd, int pid_fd, int phase_fd, int timer_fd) {
    const struct hak_record_opts *o = r->o;
    int64_t deadline = o->timeout_s > 0 ? r->t0 + (int64_t)o->timeout_s * 1000000000ll : 0;
    int attached = o->attach_pid > 0;
    if (attached) deadline = o->duration_s > 0 ? r->t0 + (int64_t)(o->duration_s * 1e9) : 0;
    while (r->alive && !r->detached) {
        struct pollfd p[4] = {{sig_fd, POLLIN, 0},
                              {pid_fd, POLLIN, 0},
                              {r->phases.eof ? -1 : phase_fd, POLLIN, 0},
                              {r->stopping ? -1 : timer_fd, POLLIN, 0}};
        int wait_ms = pid_fd < 0 ? (int)(o->interval_ms > 1 ? o->interval_ms : 1) : 1000;
        int rc = poll(p, 4, wait_ms);
        if (rc < 0 && errno != EINTR) break;
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sig_fd, &si, sizeof si) == sizeof si) {
                if (attached) /* the process is not ours to stop: let go of it */
                    r->detached = 1;
                else
                    request_stop(r, (int)si.ssi_signo);
            }
        }
        if (p[2].revents & (POLLIN | POLLHUP)) read_phases(r);
        if (p[3].revents & POLLIN) {
            uint64_t expirations;
            if (read(timer_fd, &expirations, sizeof expirations) == sizeof expirations &&
                !r->stopping)
                timer_sample(r);
        }
        int64_t now = mono_ns();
        if (attached) {
            if (deadline && now >= deadline) r->detached = 1;
            if ((p[1].revents & POLLIN) || (pid_fd < 0 && kill(r->pid, 0) != 0 && errno == ESRCH))
                r->alive = 0;
            continue;
        }
        if (deadline && now >= deadline && !r->stopping) {
            r->res->timed_out = 1;
            r->stopping = 1;
            kill(r->pid, SIGKILL);
            r->kill_at = 0;
        }
        if (r->stopping && r->kill_at && now >= r->kill_at) {
            kill(r->pid, SIGKILL);
            r->kill_at = 0;
        }
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if ((pid_fd < 0 || (p[1].revents & POLLIN)) &&
            waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == r->pid)
            r->alive = 0;
    }
}

/* The exit snapshot: the command is gone, its counter segment is still mapped here. */
static void exit_snapshot(struct recording *r) {
    if (!r->reader && r->events.count == 0) return;
    long seq = r->seq++;
    run_db_begin(r->db);
    db_check(
        r, run_db_add_sample(r->db, r->run_id, seq, mono_ns() - r->t0, "exit", 0, -1, NULL, NULL, 0));
    store_counters(r, seq);
    store_events(r, seq);
    r->res->samples++;
}

static void recording_free(struct recording *r) {
    if (r->tree_open) hak_tree_free(&r->tree);
    r->tree_open = 0;
    free(r->pending_procs);
    r->pending_procs = NULL;
    hak_smaps_free(&r->smaps);
    hak_events_close(&r->events);
    segment_close(r);
}

/* The allocator library's identity, asked of dpkg once per library: hak bench records the same
 * few libraries many times. */
static const struct hak_peer_identity *peer_identity(const char *allocator, const char *lib) {
    static struct hak_peer_identity id;
    static char last_alloc[64], last_lib[4096];
    static int known;
    if (!known || strcmp(last_alloc, allocator) || strcmp(last_lib, lib ? lib : "")) {
        hak_peer_identify(allocator, lib, &id);
        snprintf(last_alloc, sizeof last_alloc, "%s", allocator);
        snprintf(last_lib, sizeof last_lib, "%s", lib ? lib : "");
        known = 1;
    }
    return &id;
}

static const char *or_null(const char *s) {
    return s && *s ? s : NULL;
}

static void fill_run_row(const struct hak_record_opts *o, struct run_db_run *row, char *command,
                         size_t command_len, struct utsname *u, char *utc, size_t utc_len,
                         char *session, size_t session_len) {
    memset(row, 0, sizeof *row);
    if (o->attach_pid > 0)
        attached_command(o->attach_pid, command, command_len);
    else
        join_command(o->argv, command, command_len);
    uname(u);
    row->start_unix_ns = unix_ns(utc, utc_len);
    if (o->session) {
        snprintf(session, session_len, "%s", o->session);
    } else {
        snprintf(session, session_len, "%s-%d", utc, (int)getpid());
    }
    row->session = session;
    row->command = command;
    row->allocator = o->allocator;
    row->preload = o->preload && o->preload[0] ? o->preload : NULL;
    row->hak_build = o->hak_build;
    row->source_git = source_git();
    row->profile = o->profile;
    row->bench = o->bench;
    row->params = o->params;
    row->rep = o->rep;
    row->host = u->nodename;
    row->kernel = u->release;
    row->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    row->interval_ms = o->interval_ms;
    row->smaps_every = o->smaps_every;
    row->max_cpu_pct = o->max_cpu_pct;
    row->events = o->events && o->events[0] ? o->events : "none";
    row->start_utc = utc;
    if (o->allocator) {
        const struct hak_peer_identity *id = peer_identity(o->allocator, row->preload);
        row->alloc_file = or_null(id->file);
        row->alloc_package = or_null(id->package);
        row->alloc_version = or_null(id->version);
    }
}

/* Closes whichever descriptors are open (>= 0). */
static void close_fds(int *fds, int n) {
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* Attaches to a running process (hak record -p): checks that it exists and that its /proc files
 * can be read, and opens them.  0, or -1 with errno (ESRCH, EPERM, EACCES, ...). */
static int attach(struct recording *r, int *sig_fd, const sigset_t *block) {
    pid_t pid = r->o->attach_pid;
    if (kill(pid, 0) != 0) return -1;
    if (hak_tree_init(&r->tree, pid, MAX_PROCESSES) != 0) {
        /* /proc/PID/stat is readable by all: a zombie, or a process that just went, reads as
         * gone; one we may not read as another user's. */
        if (errno == ENOENT) errno = ESRCH;
        return -1;
    }
    r->tree_open = 1;
    r->pid = pid;
    r->t0 = mono_ns();
    if ((*sig_fd = signalfd(-1, block, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) return -1;
    db_check(r, run_db_set_pid(r->db, r->run_id, pid));
    return 0;
}

/* One line for a process that cannot be attached to. */
static void attach_error(pid_t pid, int err, char *out, size_t len) {
    if (err == ESRCH)
        snprintf(out, len, "cannot attach to process %d: no such process", (int)pid);
    else if (err == EPERM || err == EACCES)
        snprintf(out, len,
                 "cannot attach to process %d: permission denied (another user's process; run "
                 "hak record as that user or as root)",
                 (int)pid);
    else
        snprintf(out, len, "cannot attach to process %d: %s", (int)pid, strerror(err));
}

int hak_record_run(struct run_db *db, const struct hak_record_opts *o,
                   struct hak_record_result *res) {
    static int events_note_shown; /* "cycles not supported" is said once per hak invocation */
    static struct recording rec;  /* large (event set, phase buffer): not on the stack */
    struct recording *r = &rec;
    memset(res, 0, sizeof *res);
    memset(r, 0, sizeof *r);
    res->run_id = -1;
    res->state = "not_started";
    r->o = o;
    r->res = res;
    r->db = db;
    r->ack_fd = -1;
    r->last_sample_t = -1;

    if (hak_events_init(&r->events, o->events, res->error, sizeof res->error) != 0) return -1;

    char command[4096], utc[64], session[128];
    struct utsname u;
    struct run_db_run row;
    fill_run_row(o, &row, command, sizeof command, &u, utc, sizeof utc, session, sizeof session);
    r->run_id = res->run_id = run_db_begin_run(db, &row);
    if (r->run_id < 0) {
        snprintf(res->error, sizeof res->error, "cannot write the run database: %s",
                 run_db_error(db));
        return -1;
    }

    /* Descriptors: [0..1] phase (we read, it writes), [2..3] acks (it reads, we write),
     * [4..7] unused, then signalfd, pidfd, timerfd. */
    int fds[11] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    struct sigaction ignore_pipe = {.sa_handler = SIG_IGN}, old_pipe;
    sigemptyset(&ignore_pipe.sa_mask);
    sigaction(SIGPIPE, &ignore_pipe, &old_pipe);
    sigprocmask(SIG_BLOCK, &block, &old_mask);

    struct hak_launch launch;
    const char *failure = NULL;
    int start_errno = 0;
    if (o->attach_pid > 0) {
        if (attach(r, &fds[8], &block) != 0) {
            failure = "cannot attach to";
            start_errno = errno;
        }
    } else if (pipe2(&fds[0], O_CLOEXEC) != 0 || pipe2(&fds[2], O_CLOEXEC) != 0 ||
               (fds[8] = signalfd(-1, &block, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        failure = "cannot set up the channels";
        start_errno = errno;
    }
    if (!failure && o->attach_pid <= 0) {
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        fcntl(fds[3], F_SETFL, O_NONBLOCK); /* an ack never blocks the collector */
        struct hak_launch_opts lo = {
            .argv = o->argv,
            .preload = o->preload ? o->preload : o->allocator ? "" : NULL,
            .phase_fd = fds[1],
            .ack_fd = fds[2],
            .stdout_fd = o->stdout_fd,
            .mask = &old_mask,
        };
        r->t0 = mono_ns();
        if (hak_launch_start(&launch, &lo) != 0) {
            failure = "cannot start";
            start_errno = errno;
        }
        r->pid = launch.pid;
    }
    if (!failure && o->attach_pid <= 0) {
        int child_ends[2] = {fds[1], fds[2]};
        close_fds(child_ends, 2);
        fds[1] = fds[2] = -1;
        db_check(r, run_db_set_pid(db, r->run_id, r->pid));
        char *note = r->events_note;
        hak_events_open(&r->events, r->pid, note, sizeof r->events_note);
        if (note[0] && o->events_named && !events_note_shown && !o->quiet)
            fprintf(stderr, "%s: %s\n", o->prog, note);
        if (note[0]) events_note_shown = 1;
        for (int i = 0; i < r->events.count; i++)
            db_check(r, run_db_add_event_name(db, r->run_id, &r->events.ev[i]));
        int exec_errno = hak_launch_go(&launch, &res->wait_status);
        if (exec_errno) {
            failure = "cannot run";
            start_errno = res->exec_errno = exec_errno;
        }
    }
    if (failure && o->attach_pid > 0) {
        attach_error(o->attach_pid, start_errno, res->error, sizeof res->error);
    } else if (failure) {
        snprintf(res->error, sizeof res->error, "%s %s: %s", failure, o->argv[0],
                 strerror(start_errno));
    }
    if (failure) {
        struct run_db_end e = {.state = "not_started", .exit_code = -1, .note = res->error};
        char end_utc[64];
        e.end_unix_ns = unix_ns(end_utc, sizeof end_utc);
        e.end_utc = end_utc;
        db_check(r, run_db_end_run(db, r->run_id, &e));
        close_fds(fds, 11);
        recording_free(r);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        sigaction(SIGPIPE, &old_pipe, NULL);
        return -1;
    }

    /* Started. */
    res->started = 1;
    r->alive = 1;
    double cpu0 = self_cpu_s();
    int64_t started_at = mono_ns();
    if (!r->tree_open) r->tree_open = hak_tree_init(&r->tree, r->pid, MAX_PROCESSES) == 0;
    hak_phase_reader_init(&r->phases, fds[0]);
    r->ack_fd = fds[3];
    fds[9] = (int)syscall(SYS_pidfd_open, r->pid, 0);
    fds[10] = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    long period_ns = (long)(o->interval_ms * 1e6);
    if (period_ns < 100000) period_ns = 100000;
    struct itimerspec its = {.it_interval = {period_ns / 1000000000, period_ns % 1000000000},
                             .it_value = {0, 1000}};
    timerfd_settime(fds[10], 0, &its, NULL);
    r->last_commit = mono_ns();

    event_loop(r, fds[8], fds[9], fds[0], fds[10]);

    /* An attached process is not ours to reap: it has no wait status or rusage here. */
    while (o->attach_pid <= 0 && wait4(r->pid, &res->wait_status, 0, &res->ru) < 0 &&
           errno == EINTR) {
    }
    int64_t ended_at = mono_ns();
    /* Messages written just before the exit (results, a last mark) are still in the pipe. */
    if (o->attach_pid <= 0) read_phases(r);
    exit_snapshot(r);
    /* A signal that came while the command was exiting still counts as an interruption. */
    struct signalfd_siginfo si;
    if (read(fds[8], &si, sizeof si) == sizeof si && !res->interrupted)
        res->interrupted = (int)si.ssi_signo;

    commit(r);
    res->wall_s = (double)(ended_at - started_at) / 1e9;
    res->collector_cpu_s = self_cpu_s() - cpu0;
    char end_utc[64];
    struct run_db_end e = {0};
    classify_end(r, &e);
    e.end_unix_ns = unix_ns(end_utc, sizeof end_utc);
    e.end_utc = end_utc;
    e.wall_s = res->wall_s;
    e.child_user_s = (double)res->ru.ru_utime.tv_sec + (double)res->ru.ru_utime.tv_usec / 1e6;
    e.child_sys_s = (double)res->ru.ru_stime.tv_sec + (double)res->ru.ru_stime.tv_usec / 1e6;
    e.child_maxrss_kb = o->attach_pid > 0 ? -1 : res->ru.ru_maxrss;
    e.collector_cpu_s = res->collector_cpu_s;
    e.samples = res->samples;
    e.snapshots = res->snapshots;
    e.timer_ticks = r->timer_ticks;
    e.timer_misses = r->timer_misses;
    /* The time from the last sample to the end is a gap too: sampling that stopped early. */
    note_sample_time(r, ended_at - r->t0);
    res->gaps = r->gaps;
    res->longest_gap_ms = (double)r->longest_gap_ns / 1e6;
    res->processes = r->tree.seen;
    res->execs = r->tree.execs;
    e.attached = o->attach_pid > 0;
    e.processes = res->processes;
    e.execs = res->execs;
    e.gaps = res->gaps;
    e.longest_gap_ms = res->longest_gap_ms;
    compose_note(r, res->note, sizeof res->note);
    e.note = res->note[0] ? res->note : NULL;
    res->state = e.state;
    db_check(r, run_db_end_run(db, r->run_id, &e));

    close_fds(fds, 11);
    recording_free(r);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return 0;
}
