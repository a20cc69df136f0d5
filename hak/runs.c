/*
 * hak runs DB: one line per run of a run database — what `--run ID` of the other verbs picks
 * from.  Read-only; the figures are report_db.c's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hak.h"
#include "report_db.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: hak runs RUN.DB\n"
            "  lists the runs of RUN.DB: id, state, allocator, build, the allocator library's\n"
            "  version, wall time, peak Rss and the command, one line each\n");
}

int cmd_runs(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "hak runs: %s (hak runs --help)\n",
                argc < 2 ? "no run database given"
                : argc > 2 ? "one run database at a time"
                           : "unknown option");
        return 2;
    }
    struct rdb_run *runs;
    int n;
    struct rdb *db = rdb_open_runs("hak runs", argv[1], NULL, 0, &runs, &n);
    if (!db) return 1;
    printf("%-5s %-11s %-10s %-24s %-20s %9s %12s  %s\n", "id", "state", "allocator", "build",
           "library version", "wall s", "peak Rss KiB", "command");
    for (int i = 0; i < n; i++) {
        const struct rdb_run *r = &runs[i];
        char wall[32] = "-", peak[32] = "-";
        if (!isnan(r->wall_s)) snprintf(wall, sizeof wall, "%.2f", r->wall_s);
        if (!isnan(r->whole.peak_kb)) snprintf(peak, sizeof peak, "%.0f", r->whole.peak_kb);
        printf("%-5lld %-11s %-10s %-24.24s %-20.20s %9s %12s  %s\n", (long long)r->run_id,
               r->state, r->allocator, r->build[0] ? r->build : "-",
               r->alloc_version[0] ? r->alloc_version : "-", wall, peak, r->command);
    }
    rdb_free_runs(runs, n);
    rdb_close(db);
    return 0;
}
