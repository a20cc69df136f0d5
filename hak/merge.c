/*
 * hak merge OUT.db IN.db...: run databases from many machines (or sessions) into one, so that one
 * report or diff sees them all.  Every input is checked before OUT is opened, so a bad input leaves
 * OUT as it was (or not created); the copying is collectors/run_db.c's.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hak.h"
#include "run_db.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: hak merge OUT.db IN.db...\n"
            "  copies every run of each IN.db, with all its samples, marks, counters and\n"
            "  events, into OUT.db (created if missing) under new run ids; host and builds\n"
            "  are kept.  Every IN.db must be a hak run database of this hak's schema version.\n");
}

/* Whether two paths name one file (a merge of a database into itself would read its own rows). */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int cmd_merge(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-') {
            fprintf(stderr, "hak merge: unknown option '%s' (hak merge --help)\n", argv[i]);
            return 2;
        }
    if (argc < 3) {
        fprintf(stderr, "hak merge: %s (hak merge --help)\n",
                argc < 2 ? "no output database given" : "no input database given");
        return 2;
    }
    const char *out = argv[1];
    char err[1024];
    for (int i = 2; i < argc; i++) {
        if (same_file(out, argv[i])) {
            fprintf(stderr, "hak merge: %s is the output database itself\n", argv[i]);
            return 1;
        }
        if (run_db_check_merge_input(argv[i], err, sizeof err) != 0) {
            fprintf(stderr, "hak merge: %s; nothing written\n", err);
            return 1;
        }
    }
    struct run_db *db = run_db_open(out, RUN_DB_CREATE, err, sizeof err);
    if (!db) {
        fprintf(stderr, "hak merge: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) {
        int n = run_db_merge(db, argv[i], err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "hak merge: %s\n", err);
            rc = 1;
        } else
            printf("%s: %d run%s merged into %s\n", argv[i], n, n == 1 ? "" : "s", out);
    }
    if (run_db_close(db) != 0 && rc == 0) {
        fprintf(stderr, "hak merge: cannot finish writing %s\n", out);
        rc = 1;
    }
    return rc;
}
