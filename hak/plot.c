/*
 * hak plot: the charts of a run database, drawn by gnuplot into a folder (PNG and SVG).  This file
 * is the verb's flow: its options, the output folder, and the list of files written; the charts
 * themselves are reports/charts.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "charts.h"
#include "hak.h"
#include "report_db.h"

static void usage(FILE *out) {
    fprintf(out, "usage: hak plot RUN.DB -o DIR [--run ID]...\n"
                 "  draws with gnuplot, for each benchmark in RUN.DB, into DIR (PNG and SVG):\n"
                 "    rss-BENCH         Rss over time of every run (and of its largest processes\n"
                 "                      where it started several), each allocator's phases above\n"
                 "    throughput-BENCH  ops/s per allocator, median with min-max whiskers\n"
                 "    tradeoff-BENCH    ops/s against peak Rss, one point per allocator\n"
                 "    overhead-BENCH    overhead per phase (baseline, heavy, idle, after flush)\n"
                 "    release-BENCH     Rss from the last load mark to the end, per allocator\n"
                 "    tiers-BENCH       hakmem's resident memory per tier over time, stacked\n");
}

int cmd_plot(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"run", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int64_t ids[256];
    int nids = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'r':
            if (rdb_add_run_id("hak plot", optarg, ids, &nids, 256) != 0) return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return hak_bad_option("plot", argv);
        }
    }
    if (optind != argc - 1 || !dir) {
        fprintf(stderr, "hak plot: %s\n",
                !dir             ? "no output folder given (-o DIR)"
                : optind >= argc ? "no run database given"
                                 : "one run database at a time");
        return 2;
    }
    struct rdb_run *runs;
    int n;
    struct rdb *db = rdb_open_runs("hak plot", argv[optind], ids, nids, &runs, &n);
    if (!db) return 1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "hak plot: cannot create %s: %s\n", dir, strerror(errno));
        rdb_free_runs(runs, n);
        rdb_close(db);
        return 1;
    }
    struct chart_image written[64];
    char err[1024];
    int nw = charts_draw(db, runs, n, dir, written, 64, err, sizeof err);
    rdb_free_runs(runs, n);
    rdb_close(db);
    if (nw < 0) {
        fprintf(stderr, "hak plot: %s\n", err);
        return 1;
    }
    for (int i = 0; i < nw; i++) {
        char *dot = strrchr(written[i].path, '.');
        printf("%s", written[i].path);
        if (dot) printf(" %.*s.svg", (int)(dot - written[i].path), written[i].path);
        printf("\n");
    }
    return 0;
}
