/*
 * hak report: the overhead analysis of a run database, as Markdown on stdout, as JSON (--json), or
 * with --html as one self-contained page with the charts inline.  This file is the verb's flow:
 * its options, the temporary folder the page's charts are drawn in, and the output files; the
 * report itself is reports/overhead_report.c, the JSON reports/report_json.c.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "charts.h"
#include "document.h"
#include "hak.h"
#include "overhead_report.h"
#include "report_db.h"
#include "report_json.h"

/* nftw callback: removes one entry of a temporary folder (children first, with FTW_DEPTH). */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) != 0) {
        /* a file left behind in the temporary folder is harmless */
    }
    return 0;
}

static void usage(FILE *out) {
    fprintf(out, "usage: hak report RUN.DB [--run ID]... [--json] [--html OUT.html]\n"
                 "  writes the overhead analysis of the runs in RUN.DB as Markdown on stdout;\n"
                 "  --run ID     only this run (repeatable; default: every run)\n"
                 "  --json       one JSON document on stdout instead (docs/reports.md)\n"
                 "  --html FILE  also write one self-contained HTML page with the charts inline\n");
}

int cmd_report(int argc, char **argv) {
    static const struct option opts[] = {{"run", required_argument, NULL, 'r'},
                                         {"html", required_argument, NULL, 'H'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int64_t ids[256];
    int nids = 0;
    const char *html = NULL;
    int c, json = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "r:H:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (rdb_add_run_id("hak report", optarg, ids, &nids, 256) != 0) return 2;
            break;
        case 'H':
            html = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return hak_bad_option("report", argv);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "hak report: %s\n",
                optind >= argc ? "no run database given" : "one run database at a time");
        return 2;
    }
    const char *path = argv[optind];
    struct rdb_run *runs;
    int n;
    struct rdb *db = rdb_open_runs("hak report", path, ids, nids, &runs, &n);
    if (!db) return 1;
    struct doc md = {stdout, 0, NULL};
    if (json)
        report_json_write(stdout, db, runs, n);
    else
        report_write(&md, db, runs, n, NULL, 0);
    int rc = 0;
    if (html) {
        char err[1024];
        char dir[PATH_MAX];
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/hak-report.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        struct chart_image charts[64];
        int nch = 0;
        int made = mkdtemp(dir) != NULL;
        if (made) {
            nch = charts_draw(db, runs, n, dir, charts, 64, err, sizeof err);
            if (nch < 0) {
                fprintf(stderr, "hak report: charts left out: %s\n", err);
                nch = 0;
            }
        }
        FILE *f = fopen(html, "w");
        if (!f) {
            fprintf(stderr, "hak report: cannot write %s: %s\n", html, strerror(errno));
            rc = 1;
        } else {
            struct doc h = {f, 1, NULL};
            char title[PATH_MAX + 16];
            snprintf(title, sizeof title, "hak report: %s", path);
            doc_html_begin(f, title);
            report_write(&h, db, runs, n, charts, nch);
            doc_html_end(f);
            if (fclose(f) != 0) {
                fprintf(stderr, "hak report: cannot write %s: %s\n", html, strerror(errno));
                rc = 1;
            }
        }
        /* The charts' PNG and SVG files, then the folder; no shell sees the path. */
        if (made) nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    }
    rdb_free_runs(runs, n);
    rdb_close(db);
    return rc;
}
