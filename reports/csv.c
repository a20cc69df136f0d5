/*
 * hak export --csv: every table of a run database as one CSV file (RFC 4180 quoting, a header row
 * of column names, NULL as an empty field), for tools that do not read SQLite.  The reading is
 * schema-agnostic: whatever tables the database has are written, so a newer column needs nothing
 * here.
 */
#include "csv.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "report_db.h"

/* One field: quoted when it holds a comma, a quote or a line break, inner quotes doubled. */
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Writes one table (its name already checked to be one of the database's) to f. */
static int export_table(sqlite3 *db, const char *table, FILE *f, char *err, size_t errlen) {
    char quoted[600], sql[700];
    size_t o = 0;
    quoted[o++] = '"';
    for (const char *c = table; *c && o + 3 < sizeof quoted; c++) {
        if (*c == '"') quoted[o++] = '"';
        quoted[o++] = *c;
    }
    quoted[o++] = '"';
    quoted[o] = 0;
    snprintf(sql, sizeof sql, "SELECT * FROM %s", quoted);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "table %s: %s", table, sqlite3_errmsg(db));
        return -1;
    }
    int ncol = sqlite3_column_count(st);
    for (int c = 0; c < ncol; c++) {
        if (c) fputc(',', f);
        csv_field(f, sqlite3_column_name(st, c));
    }
    fputc('\n', f);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < ncol; c++) {
            if (c) fputc(',', f);
            const unsigned char *v = sqlite3_column_text(st, c);
            if (v) csv_field(f, (const char *)v);
        }
        fputc('\n', f);
    }
    if (rc != SQLITE_DONE) snprintf(err, errlen, "table %s: %s", table, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int csv_export(const char *db_path, const char *dir, int (*written)(const char *path), char *err,
               size_t errlen) {
    /* The reports' own check first: a missing, foreign or newer file is refused the same way. */
    struct rdb *check = rdb_open(db_path, err, errlen);
    if (!check) return -1;
    rdb_close(check);
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *tables;
    int n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                           "'sqlite_%' ORDER BY name",
                           -1, &tables, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    while (n >= 0 && sqlite3_step(tables) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(tables, 0);
        /* A table name becomes a file name: one that could leave dir is not written. */
        if (!table || !*table || strchr(table, '/') || table[0] == '.') continue;
        char path[4400];
        snprintf(path, sizeof path, "%.4000s/%.300s.csv", dir, table);
        FILE *f = fopen(path, "w");
        if (!f) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            n = -1;
            break;
        }
        int rc = export_table(db, table, f, err, errlen);
        if (fclose(f) != 0 && rc == 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            rc = -1;
        }
        if (rc != 0)
            n = -1;
        else {
            n++;
            if (written) written(path);
        }
    }
    sqlite3_finalize(tables);
    sqlite3_close(db);
    return n;
}
