/*
 * libFuzzer harness for the readers of a run database: hak report, hak diff and the data side of
 * hak plot (reports/report_db.c, report.c, diff.c).  A run database is a file users pass around,
 * so whatever it holds must end in a report or a one-line error, never a crash.
 *
 * The input is a small program over a valid, empty schema (made once by collectors/run_db.c):
 * insert rows of odd values (NULLs, negative and huge numbers, NaN, text in number columns, bytes
 * that are not UTF-8), plant a canned realistic run, delete rows, drop a table, set the schema
 * version.  An input whose first byte is odd is instead the database file's bytes as they are.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hak.h"
#include "report_db.h"
#include "run_db.h"

static char db_path[64], template_path[64];
static unsigned char *template_bytes;
static size_t template_len;

/* The input, read front to back; reads past its end give zeros. */
struct cursor {
    const uint8_t *p;
    size_t n;
};

static uint8_t take_u8(struct cursor *c) {
    if (!c->n) return 0;
    c->n--;
    return *c->p++;
}

static uint64_t take_u64(struct cursor *c) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take_u8(c);
    return v;
}

static const char *const tables[] = {"runs",          "samples",     "mappings", "hakmem_tiers",
                                     "counter_names", "counters",    "event_names", "events",
                                     "phases",        "results",     "meta",
                                     "hakmem_classes"};
enum { NTABLES = sizeof tables / sizeof tables[0] };

/* Words the readers look for, so the fuzzer reaches the code behind each comparison. */
static const char *const words[] = {
    "baseline", "burst",   "free",     "idle",      "flush",     "end",       "warmup",
    "hakmem",   "glibc",   "battle",   "larson",    "quick",     "completed", "running",
    "tiny",     "mid",     "large",    "huge",      "heap",      "anon",      "stack",
    "code",     "data",    "special",  "held_tiny", "held_mid",  "held_large", "held_huge",
    "timer",    "mark",    "exit",     "ops_per_sec", "bench",   "phase",     "counted",
    "cycles",   "",        "schema_version"};
enum { NWORDS = sizeof words / sizeof words[0] };

static const int64_t numbers[] = {0, 1, 2, 3, -1, INT64_MAX, INT64_MIN, 1000000000, 4096};

/* Binds parameter i of st to a value chosen by the input. */
static void bind_value(sqlite3_stmt *st, int i, struct cursor *c) {
    uint8_t kind = take_u8(c) % 7;
    switch (kind) {
    case 0:
        sqlite3_bind_null(st, i);
        break;
    case 1:
        sqlite3_bind_int64(st, i, (int8_t)take_u8(c));
        break;
    case 2:
        sqlite3_bind_int64(st, i, (int64_t)take_u64(c));
        break;
    case 3: {
        uint64_t bits = take_u64(c);
        double d;
        memcpy(&d, &bits, sizeof d);
        sqlite3_bind_double(st, i, d);
        break;
    }
    case 4: {
        size_t len = take_u8(c) % 80;
        if (len > c->n) len = c->n;
        sqlite3_bind_text(st, i, (const char *)c->p, (int)len, SQLITE_TRANSIENT);
        c->p += len;
        c->n -= len;
        break;
    }
    case 5:
        sqlite3_bind_text(st, i, words[take_u8(c) % NWORDS], -1, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_int64(st, i, numbers[take_u8(c) % (sizeof numbers / sizeof numbers[0])]);
        break;
    }
}

/* Inserts one row into a table, every column's value from the input. */
static void insert_row(sqlite3 *db, const char *table, struct cursor *c) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return;
    int ncol = sqlite3_column_count(st);
    sqlite3_finalize(st);
    size_t o = (size_t)snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s VALUES (", table);
    for (int i = 0; i < ncol && o + 4 < sizeof sql; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, i ? ",?" : "?");
    snprintf(sql + o, sizeof sql - o, ")");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return;
    for (int i = 1; i <= ncol; i++)
        bind_value(st, i, c);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

/* A plausible battle run under run_id: the rows a recording writes, for the fuzzer to vary. */
static void plant_run(sqlite3 *db, int64_t id, const char *alloc) {
    char sql[2400];
    snprintf(
        sql, sizeof sql,
        "INSERT OR REPLACE INTO runs (run_id, command, allocator, alloc_build, profile, bench, "
        " params, rep, state, completed, wall_s) VALUES (%lld, 'battle', '%s', 'b%lld', 'quick', "
        " 'battle', 'threads=2', 1, 'completed', 1, 0.5);"
        "INSERT OR REPLACE INTO samples VALUES (%lld, 1, 1000000, 'mark', 1, 1, 'smaps', 1000, 900,"
        " 800, 700, 10, 0, 0, 990);"
        "INSERT OR REPLACE INTO samples VALUES (%lld, 2, 2000000, 'mark', 1, 2, 'smaps', 9000, 8900,"
        " 8800, 8700, 100, 0, 0, 8900);"
        "INSERT OR REPLACE INTO samples VALUES (%lld, 3, 3000000, 'timer', 0, NULL, 'rollup', 5000,"
        " 4900, 4800, 4700, 1000, 0, 0, 4000);"
        "INSERT OR REPLACE INTO samples VALUES (%lld, 4, 4000000, 'mark', 1, 3, 'smaps', 4000, 3900,"
        " 3800, 3700, 500, 0, 0, 3500);"
        "INSERT OR REPLACE INTO samples VALUES (%lld, 5, 5000000, 'mark', 1, 4, 'smaps', 2000, 1900,"
        " 1800, 1700, 0, 0, 0, 2000);"
        "INSERT OR REPLACE INTO phases VALUES (%lld, 1, 'baseline', 0, 1000000, 0, 1, 1);"
        "INSERT OR REPLACE INTO phases VALUES (%lld, 2, 'burst', 1, 2000000, 4000000, 2, 1);"
        "INSERT OR REPLACE INTO phases VALUES (%lld, 3, 'free', 1, 3500000, 0, 3, 1);"
        "INSERT OR REPLACE INTO phases VALUES (%lld, 4, 'idle', 1, 4000000, 0, 4, 1);"
        "INSERT OR REPLACE INTO phases VALUES (%lld, 5, 'flush', 1, 5000000, 0, 5, 1);"
        "INSERT INTO results VALUES (%lld, 6, 'ops_per_sec', 123456.0, '123456', 5000000, 'bench');"
        "INSERT OR REPLACE INTO mappings VALUES (%lld, 2, 4096, 8192, 'rw-p', 0, '00:00', 0, '',"
        " 'tiny', 4, 4, 4, 4, 4, 4, 0, 0, 0);"
        "INSERT OR REPLACE INTO hakmem_tiers VALUES (%lld, 2, 'tiny', 1, 64, 32, 0);"
        "INSERT OR REPLACE INTO hakmem_classes VALUES (%lld, 2, 3, 64, 2, 512, 100);"
        "INSERT OR REPLACE INTO counter_names VALUES (%lld, 'held_tiny', 'held', 'bytes');"
        "INSERT OR REPLACE INTO counters VALUES (%lld, 5, 'held_tiny', 65536);"
        "INSERT OR REPLACE INTO event_names VALUES (%lld, 'cycles', 'counted', 0, 'CYCLES', 0, 0,"
        " NULL);"
        "INSERT OR REPLACE INTO events VALUES (%lld, 2, 'cycles', 1000, 1000, 10, 10);",
        (long long)id, alloc, (long long)id % 3, (long long)id, (long long)id, (long long)id,
        (long long)id, (long long)id, (long long)id, (long long)id, (long long)id, (long long)id,
        (long long)id, (long long)id, (long long)id, (long long)id, (long long)id, (long long)id,
        (long long)id, (long long)id, (long long)id);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Removes the database and what SQLite keeps beside it (a raw input may ask for WAL mode). */
static void remove_db(void) {
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char p[80];
        snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
        unlink(p);
    }
}

/* Writes the database the input describes at db_path.  0, or -1 when there is nothing to read. */
static int write_db(const uint8_t *data, size_t size) {
    remove_db();
    FILE *f = fopen(db_path, "wb");
    if (!f) return -1;
    struct cursor c = {data + 1, size - 1};
    if (data[0] & 1) {
        fwrite(c.p, 1, c.n, f);
        fclose(f);
        return 0;
    }
    fwrite(template_bytes, 1, template_len, f);
    fclose(f);
    sqlite3 *db;
    if (sqlite3_open(db_path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    /* A scratch file: no fsync per input. */
    sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF; BEGIN", NULL, NULL,
                 NULL);
    for (int ops = 0; c.n && ops < 64; ops++) {
        uint8_t op = take_u8(&c);
        const char *table = tables[take_u8(&c) % NTABLES];
        char sql[128];
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
            insert_row(db, table, &c);
            break;
        case 3: {
            int64_t id = 1 + take_u8(&c) % 4;
            plant_run(db, id, take_u8(&c) & 1 ? "hakmem" : "glibc");
            break;
        }
        case 4:
            snprintf(sql, sizeof sql, "DELETE FROM %s WHERE rowid %% 3 = %d", table,
                     take_u8(&c) % 3);
            sqlite3_exec(db, sql, NULL, NULL, NULL);
            break;
        case 5:
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", (int8_t)take_u8(&c));
            sqlite3_exec(db, sql, NULL, NULL, NULL);
            break;
        case 6:
            if (take_u8(&c) % 8 == 0) {
                snprintf(sql, sizeof sql, "DROP TABLE %s", table);
                sqlite3_exec(db, sql, NULL, NULL, NULL);
            }
            break;
        default: {
            /* A column of a run rewritten: the reports read these as text and numbers. */
            static const char *const cols[] = {"allocator", "bench",  "profile", "state",
                                               "alloc_build", "params", "rep",     "completed",
                                               "wall_s",    "session", "host"};
            snprintf(sql, sizeof sql, "UPDATE runs SET %s = ? WHERE run_id = ?",
                     cols[take_u8(&c) % (sizeof cols / sizeof cols[0])]);
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
                bind_value(st, 1, &c);
                sqlite3_bind_int64(st, 2, 1 + take_u8(&c) % 4);
                sqlite3_step(st);
            }
            sqlite3_finalize(st);
            break;
        }
        }
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    snprintf(db_path, sizeof db_path, "/tmp/hak-rundb-fuzz.%ld.db", (long)getpid());
    snprintf(template_path, sizeof template_path, "/tmp/hak-rundb-fuzz.%ld.tpl", (long)getpid());
    char err[512];
    struct run_db *db = run_db_open(template_path, RUN_DB_CREATE, err, sizeof err);
    if (!db || run_db_close(db) != 0) {
        fprintf(stderr, "rundb_fuzz: cannot create the template database: %s\n", err);
        exit(1);
    }
    FILE *f = fopen(template_path, "rb");
    if (!f) exit(1);
    fseek(f, 0, SEEK_END);
    template_len = (size_t)ftell(f);
    rewind(f);
    template_bytes = malloc(template_len);
    if (!template_bytes || fread(template_bytes, 1, template_len, f) != template_len) exit(1);
    fclose(f);
    unlink(template_path);
    /* The reports print to stdout; libFuzzer speaks on stderr. */
    if (!freopen("/dev/null", "w", stdout)) exit(1);
    return 0;
}

/* What hak plot reads besides the runs: each run's timeline and marks, and the chart labels. */
static void read_plot_data(void) {
    char err[512];
    struct rdb *db = rdb_open(db_path, err, sizeof err);
    if (!db) return;
    struct rdb_run *runs;
    int n = rdb_load_runs(db, NULL, 0, &runs, err, sizeof err);
    if (n > 0) {
        for (int i = 0; i < n; i++) {
            double *t, *rss;
            int k = rdb_timeline(db, runs[i].run_id, &t, &rss);
            if (k > 0) {
                free(t);
                free(rss);
            }
            char(*names)[32];
            double *mt;
            k = rdb_marks(db, runs[i].run_id, &names, &mt);
            if (k > 0) {
                free(names);
                free(mt);
            }
        }
        struct rdb_group *gs;
        int ng = rdb_group_runs(runs, n, &gs);
        (void)rdb_groups_need_build(gs, ng);
        for (int k = 0; k < ng; k++) {
            char sec[64];
            rdb_section_name(&gs[k], sec, sizeof sec);
        }
        rdb_free_groups(gs, ng);
    }
    if (n >= 0) rdb_free_runs(runs, n);
    rdb_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || write_db(data, size) != 0) return 0;
    char *report[] = {"report", db_path, NULL};
    cmd_report(2, report);
    char *diff_two[] = {"diff", db_path, db_path, NULL};
    cmd_diff(3, diff_two);
    char *diff_one[] = {"diff", db_path, NULL};
    cmd_diff(2, diff_one);
    read_plot_data();
    remove_db();
    return 0;
}
