/*
 * The reports' reading side of the run database: every query that turns the schema of
 * docs/schema.md into phase figures, timelines, counters and events.  See report_db.h for what
 * each phase means.
 */
#include "report_db.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "schema.h"

/* The newest schema this reader understands (docs/schema.md, "History"). */

const char *const rdb_phase_names[RDB_NPHASES] = {"baseline", "heavy", "idle", "after flush"};
const char *const rdb_interval_names[RDB_NINTERVALS] = {"start-up", "load", "idle", "flush",
                                                        "to exit"};
static const char *const held_counters[RDB_NTIERS] = {
#define HAK_TIER(upper, lower) "held_" #lower,
#include "tiers.def"
#undef HAK_TIER
};

const char *const rdb_cache_names[RDB_NCACHE] = {
    "tiny_tcache_cap", "mid_tcache_cap",    "tiny_cached",
    "mid_cached",      "tiny_pages_purged", "mid_pages_purged"};
const char *const rdb_cache_labels[RDB_NCACHE] = {
    "tiny cache capacity", "mid cache capacity", "tiny free slabs",
    "mid free runs",       "tiny purged",        "mid purged"};
/* KiB per unit of each counter: the gauges count bytes, the purges 4 KiB pages. */
static const double cache_kib_per_unit[RDB_NCACHE] = {1 / 1024.0, 1 / 1024.0, 1 / 1024.0,
                                                      1 / 1024.0, 4,          4};

struct rdb {
    sqlite3 *db;
    int version; /* schema version of the file: older ones lack the process tables */
    char path[512];
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int query_int(sqlite3 *db, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

struct rdb *rdb_open(const char *path, char *err, size_t errlen) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        seterr(err, errlen, "%s: no such file (record one with hak record -o or hak bench -o)",
               path);
        return NULL;
    }
    if (S_ISDIR(sb.st_mode)) {
        seterr(err, errlen, "%s: is a directory, not a run database", path);
        return NULL;
    }
    struct rdb *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    snprintf(r->path, sizeof r->path, "%s", path);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        seterr(err, errlen, "%s: cannot open (%s)", path, sqlite3_errmsg(r->db));
        rdb_close(r);
        return NULL;
    }
    sqlite3_busy_timeout(r->db, 2000);
    int64_t version = 0, tables = 0;
    if (query_int(r->db, "PRAGMA user_version", &version) != 0 ||
        query_int(r->db, "SELECT count(*) FROM sqlite_master", &tables) != 0) {
        seterr(err, errlen, "%s: not an SQLite database, or a corrupt one (%s)", path,
               sqlite3_errmsg(r->db));
        rdb_close(r);
        return NULL;
    }
    int64_t has_runs = 0;
    query_int(
        r->db,
        "SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name IN "
        "(" RUN_DB_CORE_TABLES ")",
        &has_runs);
    if (tables == 0 && version == 0) {
        seterr(err, errlen, "%s: an empty database, not a hak run database (no runs recorded)",
               path);
        rdb_close(r);
        return NULL;
    }
    if (version == 0 || has_runs < RUN_DB_CORE_TABLE_COUNT) {
        seterr(err, errlen, "%s: an SQLite database, but not a hak run database", path);
        rdb_close(r);
        return NULL;
    }
    if (version > RUN_DB_SCHEMA_VERSION) {
        seterr(err, errlen,
               "%s: schema version %lld is newer than this hak understands (%d); use a newer hak",
               path, (long long)version, RUN_DB_SCHEMA_VERSION);
        rdb_close(r);
        return NULL;
    }
    r->version = (int)version;
    return r;
}

void rdb_close(struct rdb *r) {
    if (!r) return;
    sqlite3_close(r->db);
    free(r);
}

const char *rdb_path(const struct rdb *r) {
    return r->path;
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static double col_num(sqlite3_stmt *st, int col) {
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

static void phase_init(struct rdb_phase_fig *f) {
    memset(f, 0, sizeof *f);
    f->sample_seq = -1;
    f->t_ms = f->rss_kb = f->rss_net_kb = f->lazyfree_kb = f->live_kb = f->overhead_kb = NAN;
    for (int i = 0; i < RDB_NCLASSES; i++)
        f->class_kb[i] = NAN;
    for (int i = 0; i < RDB_NTIERS; i++)
        f->held_kb[i] = f->tier_rss_kb[i] = NAN;
    for (int i = 0; i < RDB_NCACHE; i++)
        f->cache_kb[i] = NAN;
    for (int i = 0; i < RDB_NSIZE_CLASSES; i++)
        f->size_cap_kb[i] = f->size_cached_kb[i] = NAN;
}

/* One mark with its snapshot, as read from phase_samples. */
struct mark {
    char name[32];
    int occurrence;
    double t_ms, live_bytes, rss, net, lazy;
    int64_t sample_seq;
};

static void fill_phase(struct rdb_phase_fig *f, const struct mark *m) {
    f->present = 1;
    f->sample_seq = m->sample_seq;
    f->t_ms = m->t_ms;
    f->rss_kb = m->rss;
    f->lazyfree_kb = isnan(m->lazy) ? 0 : m->lazy;
    f->rss_net_kb = isnan(m->net) ? m->rss - f->lazyfree_kb : m->net;
    f->live_kb = isnan(m->live_bytes) ? NAN : m->live_bytes / 1024.0;
    f->overhead_kb = isnan(f->live_kb) ? NAN : f->rss_net_kb - f->live_kb;
}

static int load_phases(sqlite3 *db, struct rdb_run *r) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT phase, occurrence, t_ns / 1e6, live_bytes, rss_kb, rss_net_kb, "
                           "lazyfree_kb, sample_seq FROM phase_samples WHERE run_id = ? AND "
                           "sample_seq IS NOT NULL AND rss_kb IS NOT NULL ORDER BY phase_seq",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, r->run_id);
    struct mark *marks = NULL;
    int n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct mark *nm = realloc(marks, cap * sizeof *marks);
            if (!nm) break;
            marks = nm;
        }
        struct mark *m = &marks[n++];
        copy_text(m->name, sizeof m->name, st, 0);
        m->occurrence = sqlite3_column_int(st, 1);
        m->t_ms = col_num(st, 2);
        m->live_bytes = col_num(st, 3);
        m->rss = col_num(st, 4);
        m->net = col_num(st, 5);
        m->lazy = col_num(st, 6);
        m->sample_seq = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);

    int base = -1, heavy = -1, heavy_any = -1, idle = -1, flush = -1;
    for (int i = 0; i < n; i++) {
        if (base < 0 && strcmp(marks[i].name, "baseline") == 0) base = i;
        if (strcmp(marks[i].name, "burst") == 0 && (heavy < 0 || marks[i].rss > marks[heavy].rss))
            heavy = i;
        if (heavy_any < 0 || marks[i].rss > marks[heavy_any].rss) heavy_any = i;
        if (strcmp(marks[i].name, "idle") == 0) idle = i;
        if (strcmp(marks[i].name, "flush") == 0) flush = i;
    }
    if (heavy < 0) heavy = heavy_any;
    int pick[RDB_NPHASES] = {base, heavy, idle, flush};
    for (int p = 0; p < RDB_NPHASES; p++)
        if (pick[p] >= 0) fill_phase(&r->ph[p], &marks[pick[p]]);

    /* The load ends at the last `free` mark before the idle mark. */
    if (idle >= 0) {
        int load_end = -1;
        for (int i = 0; i < idle; i++)
            if (strcmp(marks[i].name, "free") == 0) load_end = i;
        if (load_end >= 0) {
            r->load_end_ms = marks[load_end].t_ms;
            struct rdb_phase_fig tmp;
            phase_init(&tmp);
            fill_phase(&tmp, &marks[load_end]);
            r->load_end_net_kb = tmp.rss_net_kb;
        }
    }
    free(marks);
    return 0;
}

/* Readies a query on (run_id, sample_seq) for the snapshot of phase f of run r. */
static void bind_phase_snapshot(sqlite3_stmt *st, const struct rdb_run *r,
                                const struct rdb_phase_fig *f) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, r->run_id);
    sqlite3_bind_int64(st, 2, f->sample_seq);
}

/* For each phase's snapshot runs `sql` (bound to the run and the snapshot), whose rows are (name,
 * value), and stores each value under the tier whose name in `names` matches, into the per-tier
 * array at byte `offset` of the phase's figures. */
/* Figures named by the rows of sql (name, value) at each phase's snapshot: out[i] of the phase
 * (at offset in struct rdb_phase_fig) is the value of names[i], times scale[i] (1 without). */
static int load_named_figures(sqlite3 *db, struct rdb_run *r, const char *sql,
                              const char *const *names, int n, const double *scale,
                              size_t offset) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    for (int p = 0; p < RDB_NPHASES; p++) {
        struct rdb_phase_fig *f = &r->ph[p];
        if (!f->present) continue;
        double *out = (double *)((char *)f + offset);
        bind_phase_snapshot(st, r, f);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char name[64];
            copy_text(name, sizeof name, st, 0);
            for (int t = 0; t < n; t++)
                if (strcmp(name, names[t]) == 0) out[t] = col_num(st, 1) * (scale ? scale[t] : 1);
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* Rss - LazyFree per mapping class at each phase's snapshot. */
static int load_classes(sqlite3 *db, struct rdb_run *r) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "SELECT class, sum(rss_kb) - coalesce(sum(lazyfree_kb), 0) FROM mappings "
            "WHERE run_id = ? AND sample_seq = ? GROUP BY class",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    for (int p = 0; p < RDB_NPHASES; p++) {
        struct rdb_phase_fig *f = &r->ph[p];
        if (!f->present) continue;
        bind_phase_snapshot(st, r, f);
        int any = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            char cls[32];
            copy_text(cls, sizeof cls, st, 0);
            for (int c = 0; c < RDB_NCLASSES; c++)
                if (strcmp(cls, rdb_class_names[c]) == 0) {
                    f->class_kb[c] = sqlite3_column_double(st, 1);
                    any = 1;
                }
        }
        if (any)
            for (int c = 0; c < RDB_NCLASSES; c++)
                if (isnan(f->class_kb[c])) f->class_kb[c] = 0;
    }
    sqlite3_finalize(st);

    /* hakmem's held_<tier> gauges, and what each tier holds resident counted page by page (exact
     * where mapping classes are not: the kernel merges adjacent regions of different tiers). */
    static const char counters_sql[] =
        "SELECT name, value FROM counters WHERE run_id = ? AND sample_seq = ?";
    static const double per_kib[RDB_NTIERS] = {[0 ... RDB_NTIERS - 1] = 1 / 1024.0};
    if (load_named_figures(db, r, counters_sql, held_counters, RDB_NTIERS, per_kib,
                           offsetof(struct rdb_phase_fig, held_kb)) ||
        load_named_figures(db, r,
                           "SELECT tier, rss_kb FROM hakmem_tiers WHERE run_id = ? AND sample_seq = ?",
                           rdb_class_names, RDB_NTIERS, NULL,
                           offsetof(struct rdb_phase_fig, tier_rss_kb)) ||
        load_named_figures(db, r, counters_sql, rdb_cache_names, RDB_NCACHE, cache_kib_per_unit,
                           offsetof(struct rdb_phase_fig, cache_kb)))
        return -1;
    return 0;
}

/* How long after the load ended Rss took to settle: the first sample from which every sample up
 * to the idle mark stays within max(2 %, 256 KiB) of Rss at the idle mark. */
static int load_settle(sqlite3 *db, struct rdb_run *r) {
    const struct rdb_phase_fig *idle = &r->ph[RDB_IDLE];
    if (!idle->present || isnan(r->load_end_ms)) return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT t_ns / 1e6, rss_kb FROM samples WHERE run_id = ? AND rss_kb IS "
                           "NOT NULL AND t_ns >= ? AND t_ns <= ? ORDER BY t_ns",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, r->run_id);
    /* Bound as doubles: a database may hold any time, and a huge one must not overflow an int. */
    sqlite3_bind_double(st, 2, r->load_end_ms * 1e6);
    sqlite3_bind_double(st, 3, idle->t_ms * 1e6 + 1);
    double tol = fmax(0.02 * idle->rss_kb, 256.0), settled_at = NAN;
    while (sqlite3_step(st) == SQLITE_ROW) {
        double t = sqlite3_column_double(st, 0), rss = sqlite3_column_double(st, 1);
        if (fabs(rss - idle->rss_kb) > tol)
            settled_at = NAN;
        else if (isnan(settled_at))
            settled_at = t;
    }
    sqlite3_finalize(st);
    r->settle_ms = isnan(settled_at) ? NAN : fmax(0, settled_at - r->load_end_ms);
    return 0;
}

/* Appends a zeroed element to an array of named figures that grows by doubling from `first`;
 * NULL when out of memory, the array left as it was. */
static struct rdb_named *append_named(struct rdb_named **arr, int *n, int *cap, int first) {
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : first;
        struct rdb_named *a = realloc(*arr, ncap * sizeof *a);
        if (!a) return NULL;
        *arr = a;
        *cap = ncap;
    }
    struct rdb_named *e = &(*arr)[(*n)++];
    memset(e, 0, sizeof *e);
    return e;
}

static int load_counters(sqlite3 *db, struct rdb_run *r) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT c.name, coalesce(n.grp, ''), c.value FROM counters c "
                           "JOIN samples s ON s.run_id = c.run_id AND s.seq = c.sample_seq "
                           "LEFT JOIN counter_names n ON n.run_id = c.run_id AND n.name = c.name "
                           "WHERE c.run_id = ?1 AND s.seq = (SELECT max(s2.seq) FROM samples s2 "
                           "JOIN counters c2 ON c2.run_id = s2.run_id AND c2.sample_seq = s2.seq "
                           "WHERE s2.run_id = ?1) ORDER BY n.rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, r->run_id);
    int cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct rdb_named *c = append_named(&r->counters, &r->ncounters, &cap, 64);
        if (!c) break;
        copy_text(c->name, sizeof c->name, st, 0);
        copy_text(c->grp, sizeof c->grp, st, 1);
        c->value = sqlite3_column_double(st, 2);
    }
    sqlite3_finalize(st);
    return 0;
}

/* Events are cumulative from exec: the count of an interval is the difference between the
 * snapshots at its ends (start-up counts from 0; "to exit" ends at the exit sample). */
static int load_events(sqlite3 *db, struct rdb_run *r) {
    sqlite3_stmt *names, *val;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM event_names WHERE run_id = ? AND state = 'counting' "
                           "ORDER BY rowid",
                           -1, &names, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT value FROM events WHERE run_id = ?1 AND name = ?2 AND "
                           "sample_seq = ?3",
                           -1, &val, NULL) != SQLITE_OK) {
        sqlite3_finalize(names);
        return -1;
    }
    int64_t exit_seq = -1;
    {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db,
                               "SELECT max(seq) FROM samples WHERE run_id = ? AND kind = 'exit'",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, r->run_id);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
                exit_seq = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_bind_int64(names, 1, r->run_id);
    int cap = 0;
    while (sqlite3_step(names) == SQLITE_ROW) {
        struct rdb_named *e = append_named(&r->events, &r->nevents, &cap, 8);
        if (!e) break;
        copy_text(e->name, sizeof e->name, names, 0);
        int64_t seqs[RDB_NINTERVALS];
        for (int p = 0; p < RDB_NPHASES; p++)
            seqs[p] = r->ph[p].present ? r->ph[p].sample_seq : -1;
        seqs[RDB_NPHASES] = exit_seq;
        double prev = 0;
        for (int i = 0; i < RDB_NINTERVALS; i++) {
            e->interval[i] = NAN;
            if (seqs[i] < 0) continue;
            sqlite3_reset(val);
            sqlite3_bind_int64(val, 1, r->run_id);
            sqlite3_bind_text(val, 2, e->name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(val, 3, seqs[i]);
            if (sqlite3_step(val) == SQLITE_ROW && sqlite3_column_type(val, 0) != SQLITE_NULL) {
                double v = sqlite3_column_double(val, 0);
                e->interval[i] = v - prev;
                prev = v;
                e->value = v;
            }
        }
    }
    sqlite3_finalize(names);
    sqlite3_finalize(val);
    return 0;
}

/* The order of a run's process images (pid, comm as c): largest peak first, ties by pid and name,
 * so the images drawn on their own and the ones summed as others never overlap. */
#define IMAGE_ORDER "ORDER BY max(rss_kb) DESC, pid, c"

/* The processes a run sampled (schema 3 on), the largest first. */
static void load_processes(sqlite3 *db, struct rdb_run *r) {
    r->processes = 1;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT pid, coalesce(comm, '') AS c, max(rss_kb), count(*) FROM "
                           "process_samples WHERE run_id = ?1 GROUP BY pid, comm " IMAGE_ORDER,
                           -1, &q, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(q, 1, r->run_id);
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (n < RDB_MAX_PROCS) {
            struct rdb_proc *p = &r->procs[r->nprocs++];
            p->pid = sqlite3_column_int64(q, 0);
            copy_text(p->comm, sizeof p->comm, q, 1);
            p->peak_kb = sqlite3_column_double(q, 2);
            p->samples = sqlite3_column_int64(q, 3);
        }
        n++;
    }
    sqlite3_finalize(q);
    if (n > 1) r->processes = n;
}

static int load_one(sqlite3 *db, sqlite3_stmt *st, struct rdb_run *r) {
    memset(r, 0, sizeof *r);
    r->run_id = sqlite3_column_int64(st, 0);
    copy_text(r->allocator, sizeof r->allocator, st, 1);
    if (!r->allocator[0]) snprintf(r->allocator, sizeof r->allocator, "default");
    copy_text(r->bench, sizeof r->bench, st, 2);
    if (!r->bench[0]) copy_text(r->bench, sizeof r->bench, st, 12);
    if (!r->bench[0]) snprintf(r->bench, sizeof r->bench, "command");
    copy_text(r->profile, sizeof r->profile, st, 3);
    copy_text(r->state, sizeof r->state, st, 4);
    copy_text(r->build, sizeof r->build, st, 5);
    copy_text(r->session, sizeof r->session, st, 6);
    copy_text(r->host, sizeof r->host, st, 7);
    copy_text(r->params, sizeof r->params, st, 8);
    r->rep = sqlite3_column_int(st, 9);
    r->completed = sqlite3_column_int(st, 10);
    r->wall_s = col_num(st, 11);
    copy_text(r->note, sizeof r->note, st, 13);
    r->ops_per_sec = r->load_end_ms = r->load_end_net_kb = r->settle_ms = NAN;
    r->instr_per_op = r->alloc_ns_per_op = NAN;
    for (int p = 0; p < RDB_NPHASES; p++)
        phase_init(&r->ph[p]);

    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT value FROM results WHERE run_id = ? AND key = 'ops_per_sec' AND "
                           "value IS NOT NULL ORDER BY source = 'result_line' DESC LIMIT 1",
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, r->run_id);
        if (sqlite3_step(q) == SQLITE_ROW) r->ops_per_sec = sqlite3_column_double(q, 0);
        sqlite3_finalize(q);
    }
    /* the results of a wrapped run: --icount's count, --perf's allocator time */
    static const struct {
        const char *key, *source;
        size_t offset;
    } wrapped[] = {{"instr_per_op", "icount", offsetof(struct rdb_run, instr_per_op)},
                   {"alloc_ns_per_op", "perf", offsetof(struct rdb_run, alloc_ns_per_op)}};
    for (size_t k = 0; k < sizeof wrapped / sizeof wrapped[0]; k++) {
        if (sqlite3_prepare_v2(db,
                               "SELECT value FROM results WHERE run_id = ? AND key = ? "
                               "AND source = ? AND value IS NOT NULL LIMIT 1",
                               -1, &q, NULL) != SQLITE_OK)
            continue;
        sqlite3_bind_int64(q, 1, r->run_id);
        sqlite3_bind_text(q, 2, wrapped[k].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, wrapped[k].source, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            *(double *)((char *)r + wrapped[k].offset) = sqlite3_column_double(q, 0);
        sqlite3_finalize(q);
    }
    if (load_phases(db, r) || load_classes(db, r) || load_settle(db, r) || load_counters(db, r) ||
        load_events(db, r))
        return -1;
    return 0;
}

/* Runs one query bound to a run id; calls back for its one row. */
static void query_row(sqlite3 *db, const char *sql, struct rdb_run *r,
                      void (*row)(sqlite3_stmt *, struct rdb_run *)) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return;
    sqlite3_bind_int64(q, 1, r->run_id);
    if (sqlite3_step(q) == SQLITE_ROW) row(q, r);
    sqlite3_finalize(q);
}

static void row_totals(sqlite3_stmt *q, struct rdb_run *r) {
    r->whole.peak_kb = col_num(q, 0);
    r->whole.samples = sqlite3_column_int64(q, 1);
    r->whole.mean_kb = col_num(q, 2);
    r->whole.mean_net_kb = col_num(q, 3);
}
static void row_peak(sqlite3_stmt *q, struct rdb_run *r) {
    r->whole.peak_net_kb = col_num(q, 0);
    r->whole.peak_t_ms = col_num(q, 1);
}
static void row_final(sqlite3_stmt *q, struct rdb_run *r) {
    r->whole.final_kb = col_num(q, 0);
    r->whole.final_net_kb = col_num(q, 1);
}
static void row_cpu(sqlite3_stmt *q, struct rdb_run *r) {
    r->whole.user_s = col_num(q, 0);
    r->whole.sys_s = col_num(q, 1);
    copy_text(r->command, sizeof r->command, q, 2);
}
static void row_gaps(sqlite3_stmt *q, struct rdb_run *r) {
    r->whole.gaps = sqlite3_column_type(q, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 0);
    r->whole.longest_gap_ms = r->whole.gaps > 0 ? col_num(q, 1) : NAN;
}

static void row_library(sqlite3_stmt *q, struct rdb_run *r) {
    copy_text(r->alloc_file, sizeof r->alloc_file, q, 0);
    copy_text(r->alloc_package, sizeof r->alloc_package, q, 1);
    copy_text(r->alloc_version, sizeof r->alloc_version, q, 2);
}

const char *rdb_library(const struct rdb_run *r, char *buf, size_t n) {
    const char *sep = r->alloc_package[0] && r->alloc_version[0] ? " " : "";
    if (!r->alloc_package[0] && r->alloc_version[0]) sep = "build ";
    if (!r->alloc_package[0] && !r->alloc_version[0])
        snprintf(buf, n, "%s", r->alloc_file);
    else if (r->alloc_package[0])
        snprintf(buf, n, "%s%s%s%s%s%s", r->alloc_package, sep, r->alloc_version,
                 r->alloc_file[0] ? " (" : "", r->alloc_file, r->alloc_file[0] ? ")" : "");
    else
        snprintf(buf, n, "%s%s%s%s%s", sep, r->alloc_version, r->alloc_file[0] ? " (" : "",
                 r->alloc_file, r->alloc_file[0] ? ")" : "");
    return buf;
}

/* The figures of the whole run, from its samples and its row: they need no phase marks. */
static void load_whole(struct rdb *db, struct rdb_run *r) {
#define NET "coalesce(rss_net_kb, rss_kb - coalesce(lazyfree_kb, 0))"
    struct rdb_whole *w = &r->whole;
    w->peak_kb = w->peak_net_kb = w->peak_t_ms = w->final_kb = w->final_net_kb = NAN;
    w->mean_kb = w->mean_net_kb = w->user_s = w->sys_s = w->longest_gap_ms = NAN;
    w->gaps = -1;
    query_row(db->db,
              "SELECT max(rss_kb), count(*), "
              "coalesce(avg(CASE WHEN kind = 'timer' THEN rss_kb END), avg(rss_kb)), "
              "coalesce(avg(CASE WHEN kind = 'timer' THEN " NET " END), avg(" NET ")) "
              "FROM samples WHERE run_id = ? AND rss_kb IS NOT NULL",
              r, row_totals);
    query_row(db->db,
              "SELECT " NET ", t_ns / 1e6 FROM samples WHERE run_id = ? AND rss_kb IS NOT NULL "
              "ORDER BY rss_kb DESC, seq LIMIT 1",
              r, row_peak);
    query_row(db->db,
              "SELECT rss_kb, " NET " FROM samples WHERE run_id = ? AND rss_kb IS NOT NULL "
              "ORDER BY seq DESC LIMIT 1",
              r, row_final);
    query_row(db->db, "SELECT child_user_s, child_sys_s, command FROM runs WHERE run_id = ?", r,
              row_cpu);
    if (db->version >= 3)
        query_row(db->db, "SELECT gaps, longest_gap_ms FROM runs WHERE run_id = ?", r, row_gaps);
#undef NET
}

/* hakmem's thread caches per size class at each phase's snapshot (schema 5 on). */
static void load_size_classes(sqlite3 *db, struct rdb_run *r) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT cls, size, capacity * size / 1024.0, cached * size / 1024.0 "
                           "FROM hakmem_classes WHERE run_id = ? AND sample_seq = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    for (int p = 0; p < RDB_NPHASES; p++) {
        struct rdb_phase_fig *f = &r->ph[p];
        if (!f->present) continue;
        bind_phase_snapshot(st, r, f);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t c = sqlite3_column_int64(st, 0);
            if (c < 0 || c >= RDB_NSIZE_CLASSES) continue;
            r->class_size[c] = (uint32_t)sqlite3_column_int64(st, 1);
            f->size_cap_kb[c] = col_num(st, 2);
            f->size_cached_kb[c] = col_num(st, 3);
        }
    }
    sqlite3_finalize(st);
}

/* What a run's row cannot say by itself: the processes it sampled (schema 3 on), hakmem's caches
 * per size class (schema 5 on), and the figures of the whole run. */
static void load_extras(struct rdb *db, struct rdb_run *r) {
    if (db->version >= 5) load_size_classes(db->db, r);
    if (db->version >= 3) load_processes(db->db, r);
    else r->processes = 1;
    if (db->version >= 4)
        query_row(db->db,
                  "SELECT alloc_file, alloc_package, alloc_version FROM runs WHERE run_id = ?", r,
                  row_library);
    load_whole(db, r);
}

int rdb_load_runs(struct rdb *db, const int64_t *ids, int nids, struct rdb_run **out, char *err,
                  size_t errlen) {
    /* The build of a run: libhakmem's own id for hakmem runs, else the tree hak came from. */
    static const char *const sql =
        "SELECT run_id, allocator, bench, profile, state, "
        "coalesce(alloc_build, source_git, hak_build, ''), session, host, params, rep, completed, "
        "wall_s, bench_reported, note FROM runs";
    *out = NULL;
    int64_t total = 0;
    if (query_int(db->db, "SELECT count(*) FROM runs", &total) != 0) {
        seterr(err, errlen, "%s: cannot read runs (%s)", db->path, sqlite3_errmsg(db->db));
        return -1;
    }
    int n = nids ? nids : (int)total;
    struct rdb_run *runs = calloc(n ? n : 1, sizeof *runs);
    if (!runs) return -1;
    char q[512];
    snprintf(q, sizeof q, "%s %s", sql, nids ? "WHERE run_id = ?" : "ORDER BY run_id");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, q, -1, &st, NULL) != SQLITE_OK) {
        seterr(err, errlen, "%s: cannot read runs (%s)", db->path, sqlite3_errmsg(db->db));
        free(runs);
        return -1;
    }
    int got = 0;
    for (int i = 0; i < (nids ? nids : 1); i++) {
        sqlite3_reset(st);
        if (nids) sqlite3_bind_int64(st, 1, ids[i]);
        int found = 0;
        while (got < n && sqlite3_step(st) == SQLITE_ROW) {
            found = 1;
            int rc = load_one(db->db, st, &runs[got++]);
            if (rc == 0) load_extras(db, &runs[got - 1]);
            if (rc != 0) {
                seterr(err, errlen, "%s: cannot read run %lld (%s)", db->path,
                       (long long)runs[got - 1].run_id, sqlite3_errmsg(db->db));
                sqlite3_finalize(st);
                rdb_free_runs(runs, got);
                return -1;
            }
        }
        if (nids && !found) {
            seterr(err, errlen, "%s: no run %lld (hak report %s lists the runs)", db->path,
                   (long long)ids[i], db->path);
            sqlite3_finalize(st);
            rdb_free_runs(runs, got);
            return -1;
        }
    }
    sqlite3_finalize(st);
    *out = runs;
    return got;
}

void rdb_free_runs(struct rdb_run *runs, int n) {
    for (int i = 0; i < n; i++) {
        free(runs[i].counters);
        free(runs[i].events);
    }
    free(runs);
}

int rdb_add_run_id(const char *verb, const char *arg, int64_t *ids, int *nids, int max) {
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || *end || v <= 0 || *nids == max) {
        fprintf(stderr, "%s: --run wants a run id (a positive number), not '%s'\n", verb, arg);
        return -1;
    }
    ids[(*nids)++] = v;
    return 0;
}

struct rdb *rdb_open_runs(const char *verb, const char *path, const int64_t *ids, int nids,
                          struct rdb_run **runs, int *n) {
    char err[1024];
    struct rdb *db = rdb_open(path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "%s: %s\n", verb, err);
        return NULL;
    }
    *n = rdb_load_runs(db, ids, nids, runs, err, sizeof err);
    if (*n < 0) {
        fprintf(stderr, "%s: %s\n", verb, err);
        rdb_close(db);
        return NULL;
    }
    if (*n == 0) {
        fprintf(stderr, "%s: %s: no runs recorded in this database yet\n", verb, path);
        rdb_free_runs(*runs, *n);
        rdb_close(db);
        return NULL;
    }
    return db;
}

/* Reads the (ms, KiB) rows of a prepared statement into parallel arrays; finalizes it.  The rows
 * come in time order (each query orders them), which the charts rely on to draw lines. */
static int read_series(sqlite3_stmt *st, double **t_ms, double **kb) {
    int n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            double *a = realloc(*t_ms, cap * sizeof *a), *b;
            if (!a) break;
            *t_ms = a;
            b = realloc(*kb, cap * sizeof *b);
            if (!b) break;
            *kb = b;
        }
        (*t_ms)[n] = sqlite3_column_double(st, 0);
        (*kb)[n] = sqlite3_column_double(st, 1);
        assert(n == 0 || (*t_ms)[n] >= (*t_ms)[n - 1]);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

/* Prepares a series query whose ?1 is the run (NULL when it fails, or when the database predates
 * the tables it reads: schema `since`), with the output arrays empty until read_series fills them. */
static sqlite3_stmt *series_query(struct rdb *db, int since, const char *sql, int64_t run_id,
                                  double **t_ms, double **kb) {
    *t_ms = *kb = NULL;
    sqlite3_stmt *st;
    if (db->version < since || sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(st, 1, run_id);
    return st;
}

int rdb_timeline(struct rdb *db, int64_t run_id, double **t_ms, double **rss_kb) {
    sqlite3_stmt *st = series_query(db, 1,
                                    "SELECT t_ns / 1e6, rss_kb FROM samples WHERE run_id = ?1 AND "
                                    "rss_kb IS NOT NULL ORDER BY t_ns",
                                    run_id, t_ms, rss_kb);
    return st ? read_series(st, t_ms, rss_kb) : -1;
}

/* The first ?2 process images of run ?1 in the order of rdb_run.procs (IMAGE_ORDER). */
#define TOP_IMAGES                                                                                 \
    "SELECT pid, coalesce(comm, '') AS c FROM process_samples WHERE run_id = ?1 GROUP BY pid, "    \
    "comm " IMAGE_ORDER " LIMIT ?2"

int rdb_process_timeline(struct rdb *db, const struct rdb_run *r, int k, double **t_ms,
                         double **rss_kb) {
    assert(k >= 0 && k < r->nprocs);
    sqlite3_stmt *st = series_query(
        db, 3,
        "SELECT s.t_ns / 1e6, p.rss_kb FROM process_samples p JOIN samples s ON s.run_id = "
        "p.run_id AND s.seq = p.sample_seq WHERE p.run_id = ?1 AND p.pid = ?2 AND "
        "coalesce(p.comm, '') = ?3 AND p.rss_kb IS NOT NULL ORDER BY s.t_ns, s.seq",
        r->run_id, t_ms, rss_kb);
    if (!st) return -1;
    sqlite3_bind_int64(st, 2, r->procs[k].pid);
    sqlite3_bind_text(st, 3, r->procs[k].comm, -1, SQLITE_TRANSIENT);
    return read_series(st, t_ms, rss_kb);
}

int rdb_other_processes_timeline(struct rdb *db, const struct rdb_run *r, int nkept, double **t_ms,
                                 double **rss_kb) {
    sqlite3_stmt *st = series_query(
        db, 3,
        "WITH kept AS (" TOP_IMAGES ") SELECT s.t_ns / 1e6, sum(p.rss_kb) FROM process_samples p "
        "JOIN samples s ON s.run_id = p.run_id AND s.seq = p.sample_seq WHERE p.run_id = ?1 AND "
        "p.rss_kb IS NOT NULL AND (p.pid, coalesce(p.comm, '')) NOT IN (SELECT pid, c FROM kept) "
        "GROUP BY s.seq ORDER BY s.t_ns, s.seq",
        r->run_id, t_ms, rss_kb);
    if (!st) return -1;
    sqlite3_bind_int(st, 2, nkept);
    return read_series(st, t_ms, rss_kb);
}

/* Rows of sql (sample seq, ms, name, value) for one run, pivoted: one row of n values per sample
 * (names[i] in column i, times scale[i] where scale is given, 0 where the sample lacks it).
 * Returns the rows, or -1. */
static int named_timeline(struct rdb *db, const char *sql, int64_t run_id,
                          const char *const *names, int n, const double *scale, double **t_ms,
                          double **vals) {
    *t_ms = NULL;
    *vals = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int rows = 0, cap = 0;
    int64_t last_seq = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        if (seq != last_seq) {
            if (rows == cap) {
                cap = cap ? cap * 2 : 64;
                double *a = realloc(*t_ms, cap * sizeof *a);
                if (!a) break;
                *t_ms = a;
                double *b = realloc(*vals, (size_t)cap * n * sizeof *b);
                if (!b) break;
                *vals = b;
            }
            (*t_ms)[rows] = sqlite3_column_double(st, 1);
            for (int i = 0; i < n; i++)
                (*vals)[(size_t)rows * n + i] = 0;
            last_seq = seq;
            rows++;
        }
        const char *name = (const char *)sqlite3_column_text(st, 2);
        for (int i = 0; name && i < n; i++)
            if (!strcmp(name, names[i]))
                (*vals)[(size_t)(rows - 1) * n + i] =
                    sqlite3_column_double(st, 3) * (scale ? scale[i] : 1);
    }
    sqlite3_finalize(st);
    return rows;
}

int rdb_tier_timeline(struct rdb *db, int64_t run_id, double **t_ms,
                      double (**tier_kb)[RDB_NTIERS]) {
    double *v;
    int n = named_timeline(db,
                           "SELECT s.seq, s.t_ns / 1e6, h.tier, h.rss_kb FROM hakmem_tiers h "
                           "JOIN samples s ON s.run_id = h.run_id AND s.seq = h.sample_seq "
                           "WHERE h.run_id = ? ORDER BY s.t_ns, s.seq",
                           run_id, rdb_class_names, RDB_NTIERS, NULL, t_ms, &v);
    *tier_kb = (double(*)[RDB_NTIERS])v;
    return n;
}

int rdb_cache_timeline(struct rdb *db, int64_t run_id, double **t_ms,
                       double (**kb)[RDB_NCACHE]) {
    double *v;
    int n = named_timeline(db,
                           "SELECT s.seq, s.t_ns / 1e6, c.name, c.value FROM counters c "
                           "JOIN samples s ON s.run_id = c.run_id AND s.seq = c.sample_seq "
                           "WHERE c.run_id = ? ORDER BY s.t_ns, s.seq",
                           run_id, rdb_cache_names, RDB_NCACHE, cache_kib_per_unit, t_ms, &v);
    *kb = (double(*)[RDB_NCACHE])v;
    return n;
}

int rdb_size_class_timeline(struct rdb *db, int64_t run_id, int max, unsigned *cls,
                            uint32_t *size, int *ncls, double **t_ms, double **kb) {
    *t_ms = NULL;
    *kb = NULL;
    *ncls = 0;
    if (db->version < 5 || max <= 0) return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT cls, max(size) FROM (SELECT cls, size FROM hakmem_classes "
                           "WHERE run_id = ? GROUP BY cls ORDER BY max(capacity * size) DESC, cls "
                           "LIMIT ?) GROUP BY cls ORDER BY cls",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int(st, 2, max);
    char names[max][16];
    const char *name_of[max];
    while (*ncls < max && sqlite3_step(st) == SQLITE_ROW) {
        cls[*ncls] = (unsigned)sqlite3_column_int64(st, 0);
        size[*ncls] = (uint32_t)sqlite3_column_int64(st, 1);
        snprintf(names[*ncls], sizeof names[0], "%u", cls[*ncls]);
        name_of[*ncls] = names[*ncls];
        (*ncls)++;
    }
    sqlite3_finalize(st);
    if (!*ncls) return 0;
    return named_timeline(db,
                          "SELECT s.seq, s.t_ns / 1e6, CAST(c.cls AS TEXT), "
                          "c.capacity * c.size / 1024.0 FROM hakmem_classes c "
                          "JOIN samples s ON s.run_id = c.run_id AND s.seq = c.sample_seq "
                          "WHERE c.run_id = ? ORDER BY s.t_ns, s.seq",
                          run_id, name_of, *ncls, NULL, t_ms, kb);
}

int rdb_marks(struct rdb *db, int64_t run_id, char (**names)[32], double **t_ms) {
    *names = NULL;
    *t_ms = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT name, t_ns / 1e6 FROM phases WHERE run_id = ? ORDER BY seq", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char(*a)[32] = realloc(*names, cap * sizeof *a);
            if (!a) break;
            *names = a;
            double *b = realloc(*t_ms, cap * sizeof *b);
            if (!b) break;
            *t_ms = b;
        }
        copy_text((*names)[n], 32, st, 0);
        (*t_ms)[n] = sqlite3_column_double(st, 1);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int rdb_group_runs(const struct rdb_run *runs, int n, struct rdb_group **out) {
    struct rdb_group *g = calloc(n ? n : 1, sizeof *g);
    int ng = 0;
    if (!g) return -1;
    for (int i = 0; i < n; i++) {
        const struct rdb_run *r = &runs[i];
        int k;
        for (k = 0; k < ng; k++)
            if (!strcmp(g[k].profile, r->profile) && !strcmp(g[k].bench, r->bench) &&
                !strcmp(g[k].params, r->params) && !strcmp(g[k].allocator, r->allocator) &&
                !strcmp(g[k].build, r->build))
                break;
        if (k == ng) {
            /* the variant of an earlier group with these parameters, else the next one */
            int variant = -1, next = 0;
            for (int j = 0; j < ng && variant < 0; j++) {
                if (strcmp(g[j].profile, r->profile) || strcmp(g[j].bench, r->bench)) continue;
                if (!strcmp(g[j].params, r->params)) variant = g[j].variant;
                if (g[j].variant >= next) next = g[j].variant + 1;
            }
            g[ng].variant = variant >= 0 ? variant : next;
            g[ng].profile = r->profile;
            g[ng].bench = r->bench;
            g[ng].params = r->params;
            g[ng].allocator = r->allocator;
            g[ng].build = r->build;
            g[ng].idx = calloc(n, sizeof(int));
            ng++;
        }
        g[k].idx[g[k].n++] = i;
        if (r->completed && !strcmp(r->state, "completed")) g[k].ncompleted++;
    }
    *out = g;
    return ng;
}

void rdb_free_groups(struct rdb_group *g, int n) {
    for (int i = 0; i < n; i++)
        free(g[i].idx);
    free(g);
}

int rdb_group_usable(const struct rdb_run *runs, const struct rdb_group *g, int i) {
    const struct rdb_run *r = &runs[g->idx[i]];
    if (g->ncompleted == 0) return 1;
    return r->completed && !strcmp(r->state, "completed");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double rdb_median(const double *v, int n) {
    double *s = malloc((n ? n : 1) * sizeof *s);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) s[m++] = v[i];
    double med = NAN;
    if (m) {
        qsort(s, m, sizeof *s, cmp_double);
        med = m % 2 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
    }
    free(s);
    return med;
}

double rdb_min(const double *v, int n) {
    double m = NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]) && (isnan(m) || v[i] < m)) m = v[i];
    return m;
}

double rdb_max(const double *v, int n) {
    double m = NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]) && (isnan(m) || v[i] > m)) m = v[i];
    return m;
}

double rdb_phase_value(const struct rdb_phase_fig *f, enum rdb_figure fig) {
    if (!f->present) return NAN;
    switch (fig) {
    case RDB_FIG_RSS:
        return f->rss_kb;
    case RDB_FIG_RSS_NET:
        return f->rss_net_kb;
    case RDB_FIG_LIVE:
        return f->live_kb;
    case RDB_FIG_OVERHEAD:
        return f->overhead_kb;
    }
    return NAN;
}

int rdb_group_values(const struct rdb_run *runs, const struct rdb_group *g, int ph,
                     enum rdb_figure fig, double *v) {
    int m = 0;
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i)) v[m++] = rdb_phase_value(&runs[g->idx[i]].ph[ph], fig);
    return m;
}

double rdb_group_median(const struct rdb_run *runs, const struct rdb_group *g,
                        double (*get)(const struct rdb_run *, int), int arg) {
    double v[g->n > 0 ? g->n : 1];
    int m = 0;
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i)) v[m++] = get(&runs[g->idx[i]], arg);
    return rdb_median(v, m);
}

int rdb_group_field(const struct rdb_run *runs, const struct rdb_group *g, size_t offset,
                    double *v) {
    int m = 0;
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i))
            v[m++] = *(const double *)((const char *)&runs[g->idx[i]] + offset);
    return m;
}

int rdb_group_ops(const struct rdb_run *runs, const struct rdb_group *g, double *v) {
    return rdb_group_field(runs, g, offsetof(struct rdb_run, ops_per_sec), v);
}

double rdb_counter(const struct rdb_run *r, const char *name) {
    for (int i = 0; i < r->ncounters; i++)
        if (!strcmp(r->counters[i].name, name)) return r->counters[i].value;
    return NAN;
}

int rdb_same_section(const struct rdb_group *a, const struct rdb_group *b) {
    return !strcmp(a->profile, b->profile) && !strcmp(a->bench, b->bench) &&
           a->variant == b->variant;
}

void rdb_section_name(const struct rdb_group *g, char *buf, size_t n) {
    size_t o = 0;
    const char *parts[2] = {g->profile, g->bench};
    for (int p = 0; p < 2; p++) {
        if (!parts[p][0]) continue;
        if (o && o + 1 < n) buf[o++] = '-';
        for (const char *s = parts[p]; *s && o + 1 < n; s++)
            buf[o++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'
                                  ? *s
                                  : '_');
    }
    buf[o] = 0;
    if (g->variant > 0) snprintf(buf + o, n - o, "-%d", g->variant + 1);
}

int rdb_groups_need_build(const struct rdb_group *g, int n) {
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (rdb_same_section(&g[a], &g[b]) && !strcmp(g[a].allocator, g[b].allocator)) return 1;
    return 0;
}
