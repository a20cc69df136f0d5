/*
 * The run database (run_db.h): schema, migrations and every insert.  docs/schema.md describes the
 * tables; a change to them is a new entry in `migrations` below plus a line in that document.
 */
#include "run_db.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "events.h"
#include "phase_reader.h"
#include "smaps.h"

/* Schema version N is reached by applying migrations[0 .. N-1] in order to an empty database; an
 * existing database at version K gets migrations[K .. RUN_DB_SCHEMA_VERSION-1].  Never edit an
 * entry once released: append one. */
static const char *const migrations[RUN_DB_SCHEMA_VERSION] = {
    /* 1: the first schema. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE runs ("
    "  run_id INTEGER PRIMARY KEY,"
    "  session TEXT, command TEXT NOT NULL, allocator TEXT, preload TEXT,"
    "  alloc_build TEXT, hak_build TEXT, source_git TEXT,"
    "  profile TEXT, bench TEXT, params TEXT, rep INTEGER,"
    "  host TEXT, kernel TEXT, cpus INTEGER,"
    "  interval_ms REAL, smaps_every INTEGER, max_cpu_pct REAL, events TEXT,"
    "  pid INTEGER, bench_reported TEXT, protocol_version INTEGER,"
    "  start_unix_ns INTEGER, start_utc TEXT, end_unix_ns INTEGER, end_utc TEXT, wall_s REAL,"
    "  state TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER, term_signal INTEGER,"
    "  child_user_s REAL, child_sys_s REAL, child_maxrss_kb INTEGER, collector_cpu_s REAL,"
    "  samples INTEGER, snapshots INTEGER, note TEXT);"
    "CREATE TABLE samples ("
    "  run_id INTEGER NOT NULL REFERENCES runs(run_id), seq INTEGER NOT NULL,"
    "  t_ns INTEGER NOT NULL, kind TEXT NOT NULL, full INTEGER NOT NULL, phase_seq INTEGER,"
    "  source TEXT,"
    "  rss_kb INTEGER, pss_kb INTEGER, anon_kb INTEGER, private_dirty_kb INTEGER,"
    "  lazyfree_kb INTEGER, anon_huge_kb INTEGER, swap_kb INTEGER, rss_net_kb INTEGER,"
    "  PRIMARY KEY (run_id, seq));"
    "CREATE TABLE mappings ("
    "  run_id INTEGER NOT NULL, sample_seq INTEGER NOT NULL,"
    "  start_addr INTEGER NOT NULL, end_addr INTEGER NOT NULL, perms TEXT, offset INTEGER,"
    "  dev TEXT, inode INTEGER, path TEXT, class TEXT NOT NULL, hakmem_kb INTEGER,"
    "  size_kb INTEGER, rss_kb INTEGER, pss_kb INTEGER, anon_kb INTEGER,"
    "  private_dirty_kb INTEGER, lazyfree_kb INTEGER, anon_huge_kb INTEGER, swap_kb INTEGER);"
    "CREATE INDEX mappings_by_sample ON mappings (run_id, sample_seq);"
    "CREATE TABLE hakmem_tiers ("
    "  run_id INTEGER NOT NULL, sample_seq INTEGER NOT NULL, tier TEXT NOT NULL,"
    "  regions INTEGER, mapped_kb INTEGER, rss_kb INTEGER, swap_kb INTEGER,"
    "  PRIMARY KEY (run_id, sample_seq, tier)) WITHOUT ROWID;"
    "CREATE TABLE counter_names ("
    "  run_id INTEGER NOT NULL, name TEXT NOT NULL, grp TEXT, description TEXT,"
    "  PRIMARY KEY (run_id, name));"
    "CREATE TABLE counters ("
    "  run_id INTEGER NOT NULL, sample_seq INTEGER NOT NULL, name TEXT NOT NULL,"
    "  value INTEGER NOT NULL, PRIMARY KEY (run_id, sample_seq, name)) WITHOUT ROWID;"
    "CREATE TABLE event_names ("
    "  run_id INTEGER NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,"
    "  fallback INTEGER NOT NULL, pfm_name TEXT, type INTEGER, config INTEGER, error TEXT,"
    "  PRIMARY KEY (run_id, name));"
    "CREATE TABLE events ("
    "  run_id INTEGER NOT NULL, sample_seq INTEGER NOT NULL, name TEXT NOT NULL,"
    "  value INTEGER, raw INTEGER, enabled_ns INTEGER, running_ns INTEGER,"
    "  PRIMARY KEY (run_id, sample_seq, name)) WITHOUT ROWID;"
    "CREATE TABLE phases ("
    "  run_id INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,"
    "  occurrence INTEGER NOT NULL, t_ns INTEGER, live_bytes INTEGER, sample_seq INTEGER,"
    "  acked INTEGER NOT NULL, PRIMARY KEY (run_id, seq));"
    "CREATE TABLE results ("
    "  run_id INTEGER NOT NULL, seq INTEGER, key TEXT NOT NULL, value REAL, text TEXT,"
    "  t_ns INTEGER, source TEXT NOT NULL);"
    "CREATE INDEX results_by_run ON results (run_id, key);"
    "CREATE VIEW phase_samples AS"
    "  SELECT p.run_id, p.seq AS phase_seq, p.name AS phase, p.occurrence, p.live_bytes,"
    "         s.seq AS sample_seq, s.t_ns, s.source, s.rss_kb, s.pss_kb, s.anon_kb, "
    "s.private_dirty_kb,"
    "         s.lazyfree_kb, s.anon_huge_kb, s.swap_kb, s.rss_net_kb"
    "  FROM phases p JOIN samples s ON s.run_id = p.run_id AND s.seq = p.sample_seq;",
    /* 2: the sampling timer's tick count, against which the timer samples can be checked, and
     * how many of those ticks found the process unreadable. */
    "ALTER TABLE runs ADD COLUMN timer_ticks INTEGER;"
    "ALTER TABLE runs ADD COLUMN timer_misses INTEGER;",
    /* 3: every process of the run (the command after its execs, and its descendants): a sample's
     * row is the total over `processes` processes, process_samples holds each one; attach, exec
     * and sampling-gap bookkeeping on the run. */
    "ALTER TABLE samples ADD COLUMN processes INTEGER;"
    "ALTER TABLE runs ADD COLUMN attached INTEGER;"
    "ALTER TABLE runs ADD COLUMN processes INTEGER;"
    "ALTER TABLE runs ADD COLUMN execs INTEGER;"
    "ALTER TABLE runs ADD COLUMN gaps INTEGER;"
    "ALTER TABLE runs ADD COLUMN longest_gap_ms REAL;"
    "CREATE TABLE process_samples ("
    "  run_id INTEGER NOT NULL, sample_seq INTEGER NOT NULL, pid INTEGER NOT NULL,"
    "  ppid INTEGER, comm TEXT, source TEXT,"
    "  rss_kb INTEGER, pss_kb INTEGER, anon_kb INTEGER, private_dirty_kb INTEGER,"
    "  lazyfree_kb INTEGER, anon_huge_kb INTEGER, swap_kb INTEGER, rss_net_kb INTEGER,"
    "  PRIMARY KEY (run_id, sample_seq, pid));",
    /* 4: which allocator library a run measured: its file, the Debian package that ships it and
     * that package's version (hakmem: its build id). */
    "ALTER TABLE runs ADD COLUMN alloc_file TEXT;"
    "ALTER TABLE runs ADD COLUMN alloc_package TEXT;"
    "ALTER TABLE runs ADD COLUMN alloc_version TEXT;",
    /* 5: hakmem's thread caches per size class at every snapshot that stores counters: the
     * threads with a cache of the class, their capacities and the blocks they hold. */
    "CREATE TABLE hakmem_classes ("
    "  run_id INTEGER NOT NULL, sample_seq INTEGER NOT NULL, cls INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, threads INTEGER, capacity INTEGER, cached INTEGER,"
    "  PRIMARY KEY (run_id, sample_seq, cls)) WITHOUT ROWID;",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == RUN_DB_SCHEMA_VERSION,
               "one migration per schema version");

enum stmt_id {
    ST_BEGIN_RUN,
    ST_SET_PID,
    ST_SET_BUILD,
    ST_SET_HELLO,
    ST_END_RUN,
    ST_SAMPLE,
    ST_MAPPING,
    ST_TIER,
    ST_COUNTER_NAME,
    ST_COUNTER,
    ST_CLASS,
    ST_EVENT_NAME,
    ST_EVENT,
    ST_PHASE,
    ST_RESULT,
    ST_PROCESS_SAMPLE,
    ST_COUNT
};

static const char *const stmt_sql[] = {
    [ST_BEGIN_RUN] =
        "INSERT INTO runs (session, command, allocator, preload, hak_build, source_git, profile,"
        " bench, params, rep, host, kernel, cpus, interval_ms, smaps_every, max_cpu_pct, events,"
        " start_unix_ns, start_utc, alloc_file, alloc_package, alloc_version, state, completed)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'running',0)",
    [ST_SET_PID] = "UPDATE runs SET pid = ? WHERE run_id = ?",
    /* hakmem's version is its build id, known once its counter segment is read. */
    [ST_SET_BUILD] = "UPDATE runs SET alloc_build = ?1, alloc_version = CASE WHEN allocator = "
                     "'hakmem' THEN ?1 ELSE alloc_version END WHERE run_id = ?2",
    [ST_SET_HELLO] = "UPDATE runs SET bench_reported = ?, protocol_version = ? WHERE run_id = ?",
    [ST_END_RUN] = "UPDATE runs SET state = ?, completed = ?, exit_code = ?, term_signal = ?,"
                   " end_unix_ns = ?, end_utc = ?, wall_s = ?, child_user_s = ?, child_sys_s = ?,"
                   " child_maxrss_kb = ?, collector_cpu_s = ?, samples = ?, snapshots = ?,"
                   " timer_ticks = ?, timer_misses = ?, attached = ?, processes = ?, execs = ?,"
                   " gaps = ?, longest_gap_ms = ?, note = ? WHERE run_id = ?",
    [ST_SAMPLE] = "INSERT INTO samples (run_id, seq, t_ns, kind, full, phase_seq, source, rss_kb,"
                  " pss_kb, anon_kb, private_dirty_kb, lazyfree_kb, anon_huge_kb, swap_kb,"
                  " rss_net_kb, processes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_PROCESS_SAMPLE] =
        "INSERT OR REPLACE INTO process_samples VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_MAPPING] = "INSERT INTO mappings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_TIER] = "INSERT OR REPLACE INTO hakmem_tiers VALUES (?,?,?,?,?,?,?)",
    [ST_COUNTER_NAME] = "INSERT OR REPLACE INTO counter_names VALUES (?,?,?,?)",
    [ST_COUNTER] = "INSERT OR REPLACE INTO counters VALUES (?,?,?,?)",
    [ST_CLASS] = "INSERT OR REPLACE INTO hakmem_classes VALUES (?,?,?,?,?,?,?)",
    [ST_EVENT_NAME] = "INSERT OR REPLACE INTO event_names VALUES (?,?,?,?,?,?,?,?)",
    [ST_EVENT] = "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?)",
    [ST_PHASE] = "INSERT OR REPLACE INTO phases VALUES (?,?,?,?,?,?,?,?)",
    [ST_RESULT] = "INSERT INTO results VALUES (?,?,?,?,?,?,?)",
};

_Static_assert(sizeof stmt_sql / sizeof stmt_sql[0] == ST_COUNT, "one SQL text per statement");

struct run_db {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    int in_batch;
    int version;
    char path[512];
};

const char *run_db_error(const struct run_db *db) {
    return db && db->db ? sqlite3_errmsg(db->db) : "no database";
}

int run_db_schema_version(const struct run_db *db) {
    return db->version;
}

/* One line for a failed open: what the file is, in words a user acts on. */
static void open_error(const char *path, sqlite3 *db, int rc, char *err, size_t errlen) {
    int code = rc & 0xff;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (db && sqlite3_errcode(db) == SQLITE_OK) /* our own verdict, not SQLite's */
        msg = code == SQLITE_READONLY ? "no write permission" : sqlite3_errstr(rc);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        snprintf(err, errlen, "%s: not an SQLite database, or a corrupt one (%s)", path, msg);
    else if (code == SQLITE_READONLY)
        snprintf(err, errlen, "%s: read-only: cannot write the run database (%s)", path, msg);
    else if (code == SQLITE_CANTOPEN)
        snprintf(err, errlen, "%s: cannot open or create the run database (%s)", path, msg);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
}

static int exec_sql(sqlite3 *db, const char *sql) {
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int query_int(sqlite3 *db, const char *sql, int *out) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Brings the schema to RUN_DB_SCHEMA_VERSION in one transaction.  SQLite result code. */
static int migrate(struct run_db *d, char *err, size_t errlen) {
    int rc = exec_sql(d->db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) return rc;
    int version = 0, tables = 0;
    if ((rc = query_int(d->db, "PRAGMA user_version", &version)) != SQLITE_OK ||
        (rc = query_int(d->db, "SELECT count(*) FROM sqlite_master", &tables)) != SQLITE_OK)
        goto rollback;
    if (version == 0 && tables > 0) {
        snprintf(err, errlen, "%s: an SQLite database, but not a hak run database", d->path);
        exec_sql(d->db, "ROLLBACK");
        return -1;
    }
    if (version > RUN_DB_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s: schema version %d is newer than this hak understands (%d); use a newer hak",
                 d->path, version, RUN_DB_SCHEMA_VERSION);
        exec_sql(d->db, "ROLLBACK");
        return -1;
    }
    for (int v = version; v < RUN_DB_SCHEMA_VERSION; v++)
        if ((rc = exec_sql(d->db, migrations[v])) != SQLITE_OK) goto rollback;
    if (version < RUN_DB_SCHEMA_VERSION) {
        char sql[256];
        snprintf(
            sql, sizeof sql,
            "PRAGMA user_version = %d;"
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', '%d');"
            "INSERT OR IGNORE INTO meta VALUES ('created', strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ'));"
            "INSERT OR IGNORE INTO meta VALUES ('format', 'hak run database');",
            RUN_DB_SCHEMA_VERSION, RUN_DB_SCHEMA_VERSION);
        if ((rc = exec_sql(d->db, sql)) != SQLITE_OK) goto rollback;
    }
    if ((rc = exec_sql(d->db, "COMMIT")) != SQLITE_OK) goto rollback;
    d->version = RUN_DB_SCHEMA_VERSION;
    return SQLITE_OK;
rollback:
    exec_sql(d->db, "ROLLBACK");
    return rc;
}

/* Databases up to this size are checked page by page when opened for writing, so a corrupt file
 * is refused before a run starts rather than failing in the middle of it. */
#define QUICK_CHECK_MAX_BYTES (256ll << 20)

/* PRAGMA quick_check(1) on a database small enough to read in a moment.  SQLite result code, or
 * -1 with err filled when the check found damage. */
static int check_pages(struct run_db *d, char *err, size_t errlen) {
    struct stat st;
    if (stat(d->path, &st) != 0 || st.st_size == 0 || st.st_size > QUICK_CHECK_MAX_BYTES)
        return SQLITE_OK;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(d->db, "PRAGMA quick_check(1)", -1, &q, NULL);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(q, 0);
        rc = SQLITE_OK;
        if (!verdict || strcmp(verdict, "ok") != 0) {
            snprintf(err, errlen, "%s: corrupt run database (quick_check: %.200s)", d->path,
                     verdict ? verdict : "?");
            for (char *c = err; *c; c++) /* SQLite's verdict spans lines: keep one */
                if (*c == '\n') *c = ' ';
            rc = -1;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* Checks a database opened for reading: a hak schema this build can read. */
static int check_readable(struct run_db *d, char *err, size_t errlen) {
    int version = 0;
    int rc = query_int(d->db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK) return rc;
    if (version == 0 || version > RUN_DB_SCHEMA_VERSION) {
        if (version == 0)
            snprintf(err, errlen, "%s: not a hak run database (no schema version)", d->path);
        else
            snprintf(err, errlen,
                     "%s: schema version %d is newer than this hak understands (%d); use a "
                     "newer hak",
                     d->path, version, RUN_DB_SCHEMA_VERSION);
        return -1;
    }
    d->version = version;
    return SQLITE_OK;
}

struct run_db *run_db_open(const char *path, int flags, char *err, size_t errlen) {
    struct run_db *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(d->path, sizeof d->path, "%s", path);
    int readonly = flags & RUN_DB_READONLY;
    int oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &d->db, oflags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(d->db, 1);
        sqlite3_busy_timeout(d->db, 5000);
    }
    if (rc == SQLITE_OK && !readonly && sqlite3_db_readonly(d->db, "main") == 1)
        rc = SQLITE_READONLY;
    if (rc == SQLITE_OK && readonly) {
        rc = check_readable(d, err, errlen);
    } else if (rc == SQLITE_OK) {
        /* WAL: readers (hak report) never block the collector, and a commit is one append. */
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(d->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
                rc = SQLITE_READONLY; /* the journal mode cannot change: nowhere to write */
            else if (rc == SQLITE_ROW)
                rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        if (rc == SQLITE_OK) rc = exec_sql(d->db, "PRAGMA synchronous=NORMAL");
        if (rc == SQLITE_OK) rc = check_pages(d, err, errlen);
        if (rc == SQLITE_OK) rc = migrate(d, err, errlen);
    }
    for (int i = 0; rc == SQLITE_OK && !readonly && i < ST_COUNT; i++)
        rc = sqlite3_prepare_v3(d->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &d->st[i], NULL);
    if (rc != SQLITE_OK) {
        if (rc != -1) open_error(path, d->db, rc, err, errlen);
        for (int i = 0; i < ST_COUNT; i++)
            sqlite3_finalize(d->st[i]);
        sqlite3_close(d->db);
        free(d);
        return NULL;
    }
    return d;
}

int run_db_close(struct run_db *d) {
    if (!d) return 0;
    int rc = 0;
    if (d->in_batch && run_db_commit(d) != 0) rc = -1;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(d->st[i]);
    /* Back to a rollback journal, so that the read-only verbs find a plain file and leave no
     * -wal/-shm beside it; fails harmlessly (busy) while another connection still has it open. */
    sqlite3_busy_timeout(d->db, 0);
    exec_sql(d->db, "PRAGMA journal_mode=DELETE");
    if (sqlite3_close(d->db) != SQLITE_OK) rc = -1;
    free(d);
    return rc;
}

int run_db_begin(struct run_db *d) {
    if (d->in_batch) return 0;
    if (exec_sql(d->db, "BEGIN") != SQLITE_OK) return -1;
    d->in_batch = 1;
    return 0;
}

int run_db_commit(struct run_db *d) {
    if (!d->in_batch) return 0;
    d->in_batch = 0;
    if (exec_sql(d->db, "COMMIT") == SQLITE_OK) return 0;
    exec_sql(d->db, "ROLLBACK");
    return -1;
}

int run_db_in_batch(const struct run_db *d) {
    return d->in_batch;
}

/* Binding helpers: NULL strings and negative "unknown" numbers become SQL NULL. */
static void bind_text(sqlite3_stmt *st, int i, const char *s) {
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_i64(sqlite3_stmt *st, int i, int64_t v) {
    sqlite3_bind_int64(st, i, v);
}

static void bind_opt_i64(sqlite3_stmt *st, int i, int64_t v) {
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

static void bind_double(sqlite3_stmt *st, int i, double v) {
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* Runs a bound statement once and resets it.  0 or -1. */
static int step(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A statement outside any batch commits on its own (autocommit). */
int64_t run_db_begin_run(struct run_db *d, const struct run_db_run *r) {
    sqlite3_stmt *st = d->st[ST_BEGIN_RUN];
    int i = 1;
    bind_text(st, i++, r->session);
    bind_text(st, i++, r->command);
    bind_text(st, i++, r->allocator);
    bind_text(st, i++, r->preload);
    bind_text(st, i++, r->hak_build);
    bind_text(st, i++, r->source_git);
    bind_text(st, i++, r->profile);
    bind_text(st, i++, r->bench);
    bind_text(st, i++, r->params);
    bind_i64(st, i++, r->rep);
    bind_text(st, i++, r->host);
    bind_text(st, i++, r->kernel);
    bind_i64(st, i++, r->cpus);
    bind_double(st, i++, r->interval_ms);
    bind_i64(st, i++, r->smaps_every);
    bind_double(st, i++, r->max_cpu_pct);
    bind_text(st, i++, r->events);
    bind_i64(st, i++, r->start_unix_ns);
    bind_text(st, i++, r->start_utc);
    bind_text(st, i++, r->alloc_file);
    bind_text(st, i++, r->alloc_package);
    bind_text(st, i++, r->alloc_version);
    int was_batch = d->in_batch;
    if (was_batch && run_db_commit(d) != 0) return -1;
    if (step(st) != 0) return -1;
    return sqlite3_last_insert_rowid(d->db);
}

int run_db_set_pid(struct run_db *d, int64_t run_id, long pid) {
    sqlite3_stmt *st = d->st[ST_SET_PID];
    bind_i64(st, 1, pid);
    bind_i64(st, 2, run_id);
    return step(st);
}

int run_db_set_alloc_build(struct run_db *d, int64_t run_id, const char *build_id) {
    sqlite3_stmt *st = d->st[ST_SET_BUILD];
    bind_text(st, 1, build_id);
    bind_i64(st, 2, run_id);
    return step(st);
}

int run_db_set_hello(struct run_db *d, int64_t run_id, const struct hak_phase_msg *hello) {
    sqlite3_stmt *st = d->st[ST_SET_HELLO];
    bind_text(st, 1, hello->name);
    bind_i64(st, 2, hello->version);
    bind_i64(st, 3, run_id);
    return step(st);
}

int run_db_end_run(struct run_db *d, int64_t run_id, const struct run_db_end *e) {
    if (run_db_commit(d) != 0) return -1;
    sqlite3_stmt *st = d->st[ST_END_RUN];
    int i = 1;
    bind_text(st, i++, e->state);
    bind_i64(st, i++, e->completed);
    bind_opt_i64(st, i++, e->exit_code);
    if (e->term_signal > 0)
        bind_i64(st, i++, e->term_signal);
    else
        sqlite3_bind_null(st, i++);
    bind_i64(st, i++, e->end_unix_ns);
    bind_text(st, i++, e->end_utc);
    bind_double(st, i++, e->wall_s);
    bind_double(st, i++, e->child_user_s);
    bind_double(st, i++, e->child_sys_s);
    bind_opt_i64(st, i++, e->child_maxrss_kb);
    bind_double(st, i++, e->collector_cpu_s);
    bind_i64(st, i++, e->samples);
    bind_i64(st, i++, e->snapshots);
    bind_i64(st, i++, e->timer_ticks);
    bind_i64(st, i++, e->timer_misses);
    bind_i64(st, i++, e->attached);
    bind_i64(st, i++, e->processes);
    bind_i64(st, i++, e->execs);
    bind_i64(st, i++, e->gaps);
    bind_double(st, i++, e->longest_gap_ms);
    bind_text(st, i++, e->note);
    bind_i64(st, i++, run_id);
    return step(st);
}

/* Binds the eight memory columns from parameter i on (statm knows Rss and Anonymous only; the
 * rest stays NULL, as does everything when f is NULL).  Returns the next parameter. */
static int bind_fields(sqlite3_stmt *st, int i, const char *source,
                       const struct hak_smaps_fields *f) {
    if (f && source && strcmp(source, "statm") == 0) {
        bind_i64(st, i, (int64_t)f->rss);
        bind_i64(st, i + 2, (int64_t)f->anonymous);
    } else if (f) {
        bind_i64(st, i, (int64_t)f->rss);
        bind_i64(st, i + 1, (int64_t)f->pss);
        bind_i64(st, i + 2, (int64_t)f->anonymous);
        bind_i64(st, i + 3, (int64_t)f->private_dirty);
        bind_i64(st, i + 4, (int64_t)f->lazyfree);
        bind_i64(st, i + 5, (int64_t)f->anon_huge);
        bind_i64(st, i + 6, (int64_t)f->swap);
        bind_i64(st, i + 7, (int64_t)f->rss - (int64_t)f->lazyfree);
    }
    return i + 8;
}

int run_db_add_sample(struct run_db *d, int64_t run_id, long seq, int64_t t_ns, const char *kind,
                      int full, int64_t phase_seq, const char *source,
                      const struct hak_smaps_fields *r, int processes) {
    sqlite3_stmt *st = d->st[ST_SAMPLE];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_i64(st, i++, seq);
    bind_i64(st, i++, t_ns);
    bind_text(st, i++, kind);
    bind_i64(st, i++, full);
    bind_opt_i64(st, i++, phase_seq);
    bind_text(st, i++, r ? source : NULL);
    i = bind_fields(st, i, source, r);
    if (r)
        bind_i64(st, i, processes);
    else
        sqlite3_bind_null(st, i);
    return step(st);
}

int run_db_add_process_sample(struct run_db *d, int64_t run_id, long sample_seq, long pid,
                              long ppid, const char *comm, const char *source,
                              const struct hak_smaps_fields *f) {
    sqlite3_stmt *st = d->st[ST_PROCESS_SAMPLE];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_i64(st, i++, sample_seq);
    bind_i64(st, i++, pid);
    bind_opt_i64(st, i++, ppid);
    bind_text(st, i++, comm);
    bind_text(st, i++, source);
    bind_fields(st, i, source, f);
    return step(st);
}

int run_db_add_mapping(struct run_db *d, int64_t run_id, long sample_seq,
                       const struct hak_mapping *m) {
    sqlite3_stmt *st = d->st[ST_MAPPING];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_i64(st, i++, sample_seq);
    /* Addresses above 2^63 ([vsyscall]) wrap to negative integers; see docs/schema.md. */
    bind_i64(st, i++, (int64_t)m->start);
    bind_i64(st, i++, (int64_t)m->end);
    bind_text(st, i++, m->perms);
    bind_i64(st, i++, (int64_t)m->offset);
    bind_text(st, i++, m->dev);
    bind_i64(st, i++, (int64_t)m->inode);
    bind_text(st, i++, m->path);
    bind_text(st, i++, hak_map_class_name(m->cls));
    bind_i64(st, i++, (int64_t)m->hakmem_kb);
    bind_i64(st, i++, (int64_t)m->f.size);
    bind_i64(st, i++, (int64_t)m->f.rss);
    bind_i64(st, i++, (int64_t)m->f.pss);
    bind_i64(st, i++, (int64_t)m->f.anonymous);
    bind_i64(st, i++, (int64_t)m->f.private_dirty);
    bind_i64(st, i++, (int64_t)m->f.lazyfree);
    bind_i64(st, i++, (int64_t)m->f.anon_huge);
    bind_i64(st, i++, (int64_t)m->f.swap);
    return step(st);
}

int run_db_add_tier(struct run_db *d, int64_t run_id, long sample_seq, const char *tier,
                    const struct hak_tier_rss *t) {
    sqlite3_stmt *st = d->st[ST_TIER];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_i64(st, i++, sample_seq);
    bind_text(st, i++, tier);
    bind_i64(st, i++, (int64_t)t->regions);
    bind_i64(st, i++, (int64_t)t->mapped_kb);
    bind_i64(st, i++, (int64_t)t->rss_kb);
    bind_i64(st, i++, (int64_t)t->swap_kb);
    return step(st);
}

int run_db_add_counter_name(struct run_db *d, int64_t run_id, const char *name, const char *group,
                            const char *description) {
    sqlite3_stmt *st = d->st[ST_COUNTER_NAME];
    bind_i64(st, 1, run_id);
    bind_text(st, 2, name);
    bind_text(st, 3, group);
    bind_text(st, 4, description);
    return step(st);
}

int run_db_add_counter(struct run_db *d, int64_t run_id, long sample_seq, const char *name,
                       int64_t value) {
    sqlite3_stmt *st = d->st[ST_COUNTER];
    bind_i64(st, 1, run_id);
    bind_i64(st, 2, sample_seq);
    bind_text(st, 3, name);
    bind_i64(st, 4, value);
    return step(st);
}

int run_db_add_class(struct run_db *d, int64_t run_id, long sample_seq, unsigned cls,
                     uint32_t size, uint64_t threads, uint64_t capacity, uint64_t cached) {
    sqlite3_stmt *st = d->st[ST_CLASS];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_i64(st, i++, sample_seq);
    bind_i64(st, i++, cls);
    bind_i64(st, i++, size);
    bind_i64(st, i++, (int64_t)threads);
    bind_i64(st, i++, (int64_t)capacity);
    bind_i64(st, i++, (int64_t)cached);
    return step(st);
}

int run_db_add_event_name(struct run_db *d, int64_t run_id, const struct hak_event *ev) {
    sqlite3_stmt *st = d->st[ST_EVENT_NAME];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_text(st, i++, ev->name);
    bind_text(st, i++, hak_event_state_name(ev->state));
    bind_i64(st, i++, ev->fallback);
    bind_text(st, i++, ev->pfm_name);
    bind_i64(st, i++, ev->attr.type);
    bind_i64(st, i++, (int64_t)ev->attr.config);
    bind_text(st, i++, ev->state == HAK_EVENT_UNSUPPORTED ? strerror(ev->open_errno) : NULL);
    return step(st);
}

int run_db_add_event(struct run_db *d, int64_t run_id, long sample_seq, const char *name,
                     const struct hak_event_value *v) {
    sqlite3_stmt *st = d->st[ST_EVENT];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_i64(st, i++, sample_seq);
    bind_text(st, i++, name);
    bind_i64(st, i++, (int64_t)v->value);
    bind_i64(st, i++, (int64_t)v->raw);
    bind_i64(st, i++, (int64_t)v->enabled_ns);
    bind_i64(st, i++, (int64_t)v->running_ns);
    return step(st);
}

int run_db_add_phase(struct run_db *d, int64_t run_id, const struct hak_phase_msg *m, int64_t t_ns,
                     int occurrence, long sample_seq, int acked) {
    sqlite3_stmt *st = d->st[ST_PHASE];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_i64(st, i++, (int64_t)m->seq);
    bind_text(st, i++, m->name);
    bind_i64(st, i++, occurrence);
    bind_i64(st, i++, t_ns);
    if (m->has_live)
        bind_i64(st, i++, (int64_t)m->live_bytes);
    else
        sqlite3_bind_null(st, i++);
    bind_opt_i64(st, i++, sample_seq);
    bind_i64(st, i++, acked);
    return step(st);
}

int run_db_add_result(struct run_db *d, int64_t run_id, int64_t seq, int64_t t_ns, const char *key,
                      double value, const char *text, const char *source) {
    sqlite3_stmt *st = d->st[ST_RESULT];
    int i = 1;
    bind_i64(st, i++, run_id);
    bind_opt_i64(st, i++, seq);
    bind_text(st, i++, key);
    bind_double(st, i++, value);
    bind_text(st, i++, text);
    bind_opt_i64(st, i++, t_ns);
    bind_text(st, i++, source);
    return step(st);
}

/* --- merging run databases (hak merge) --- */

int run_db_check_merge_input(const char *in_path, char *err, size_t errlen) {
    struct run_db *in = run_db_open(in_path, RUN_DB_READONLY, err, errlen);
    if (!in) return -1;
    int tables = 0, rc = 0;
    if (query_int(in->db,
                  "SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name IN "
                  "(" RUN_DB_CORE_TABLES ")",
                  &tables) != SQLITE_OK ||
        tables != RUN_DB_CORE_TABLE_COUNT) {
        snprintf(err, errlen, "%s: an SQLite database, but not a hak run database", in_path);
        rc = -1;
    } else if (in->version != RUN_DB_SCHEMA_VERSION) {
        /* Copying rows between schemas would drop or invent columns: one version only. */
        snprintf(err, errlen,
                 "%s: schema version %d, but this hak merges version %d only; record into it "
                 "once with this hak to migrate it, or merge with the hak that wrote it",
                 in_path, in->version, RUN_DB_SCHEMA_VERSION);
        rc = -1;
    }
    run_db_close(in);
    return rc;
}

/* An SQL identifier in double quotes, inner quotes doubled: names read from a database stay names.
 */
static void quote_ident(char *out, size_t n, const char *name) {
    size_t o = 0;
    if (o + 1 < n) out[o++] = '"';
    for (; *name && o + 3 < n; name++) {
        if (*name == '"') out[o++] = '"';
        out[o++] = *name;
    }
    if (o + 1 < n) out[o++] = '"';
    out[o] = 0;
}

/* Copies table `table` of the attached database `src` into main, run ids shifted by offset.  Both
 * have the table (same schema version): the columns are src's, in its order. */
static int merge_table(sqlite3 *db, const char *table, int64_t offset) {
    sqlite3_stmt *cols;
    int rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, 'src') ORDER BY cid",
                                -1, &cols, NULL);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_text(cols, 1, table, -1, SQLITE_STATIC);
    size_t cap = 8192;
    char *names = malloc(cap), *values = malloc(cap), q[300];
    size_t nn = 0, nv = 0;
    if (!names || !values) rc = SQLITE_NOMEM;
    while (rc == SQLITE_OK && sqlite3_step(cols) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(cols, 0);
        quote_ident(q, sizeof q, col ? col : "");
        int is_run = col && !strcmp(col, "run_id");
        int a = snprintf(names + nn, cap - nn, "%s%s", nn ? "," : "", q);
        int b = is_run ? snprintf(values + nv, cap - nv, "%s%s + %lld", nv ? "," : "", q,
                                  (long long)offset)
                       : snprintf(values + nv, cap - nv, "%s%s", nv ? "," : "", q);
        if (a < 0 || b < 0 || nn + (size_t)a >= cap || nv + (size_t)b >= cap) rc = SQLITE_TOOBIG;
        nn += (size_t)a;
        nv += (size_t)b;
    }
    sqlite3_finalize(cols);
    if (rc == SQLITE_OK) {
        quote_ident(q, sizeof q, table);
        size_t len = 2 * cap + 700;
        char *sql = malloc(len);
        if (!sql)
            rc = SQLITE_NOMEM;
        else {
            snprintf(sql, len, "INSERT INTO main.%s (%s) SELECT %s FROM src.%s", q, names, values,
                     q);
            rc = exec_sql(db, sql);
            free(sql);
        }
    }
    free(names);
    free(values);
    return rc;
}

int run_db_merge(struct run_db *d, const char *in_path, char *err, size_t errlen) {
    if (run_db_check_merge_input(in_path, err, errlen) != 0) return -1;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(d->db, "ATTACH ?1 AS src", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, in_path, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(d->db);
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot read it for merging (%s)", in_path,
                 sqlite3_errmsg(d->db));
        return -1;
    }
    int copied = 0;
    rc = exec_sql(d->db, "BEGIN IMMEDIATE");
    /* New ids follow the largest in OUT, so the merged runs keep their order after its own. */
    int64_t offset = 0;
    if (rc == SQLITE_OK &&
        (rc = sqlite3_prepare_v2(d->db, "SELECT coalesce(max(run_id), 0) FROM main.runs", -1, &st,
                                 NULL)) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) offset = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    /* Every table of the input that holds runs' rows; runs first. */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(d->db,
                                "SELECT m.name FROM src.sqlite_master m WHERE m.type = 'table' "
                                "AND EXISTS (SELECT 1 FROM pragma_table_info(m.name, 'src') "
                                "WHERE name = 'run_id') ORDER BY m.name <> 'runs', m.name",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            const char *table = (const char *)sqlite3_column_text(st, 0);
            rc = merge_table(d->db, table, offset);
            if (rc == SQLITE_OK && !strcmp(table, "runs")) copied = sqlite3_changes(d->db);
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK) rc = exec_sql(d->db, "COMMIT");
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "merging %s: %s; nothing of it was written", in_path,
                 sqlite3_errmsg(d->db));
        exec_sql(d->db, "ROLLBACK");
    }
    exec_sql(d->db, "DETACH src");
    return rc == SQLITE_OK ? copied : -1;
}
