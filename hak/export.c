/*
 * hak export DB --csv DIR: a run database's tables as CSV files, for spreadsheets, pandas or any
 * tool without SQLite.  The writing is reports/csv.c's.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "hak.h"

static void usage(FILE *out) {
    fprintf(out, "usage: hak export RUN.DB --csv DIR\n"
                 "  writes every table of RUN.DB as DIR/TABLE.csv (DIR created if missing): a\n"
                 "  header row of column names, RFC 4180 quoting, NULL as an empty field\n");
}

static int print_path(const char *path) {
    return printf("%s\n", path);
}

int cmd_export(int argc, char **argv) {
    static const struct option opts[] = {{"csv", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "hak export: unknown or incomplete option '%s' (hak export --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1 || !dir) {
        fprintf(stderr, "hak export: %s (hak export --help)\n",
                !dir             ? "no format given (--csv DIR)"
                : optind >= argc ? "no run database given"
                                 : "one run database at a time");
        return 2;
    }
    char err[1024];
    int n = csv_export(argv[optind], dir, print_path, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "hak export: %s\n", err);
        return 1;
    }
    return 0;
}
