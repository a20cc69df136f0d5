/*
 * Comparing two builds on the same profile (hak diff): two run databases, or two builds recorded
 * in one, per benchmark, allocator and figure (each phase's Rss - LazyFree and overhead, the peak
 * Rss, ops/s, instructions per op): both medians, the delta, the run-to-run noise and a verdict.
 * A difference no larger than the noise is never called better or worse: the noise is the larger
 * min-max spread of the two sides, and at least a floor (256 KiB or 2 % for sizes, 5 % for
 * throughput, 0.5 % for instruction counts) so that single runs are not over-read.
 */
#ifndef HAK_BUILD_DIFF_H
#define HAK_BUILD_DIFF_H

#include <stddef.h>
#include <stdio.h>

#include "report_db.h"

/* One side of a diff: the runs of a database (all, or those of one build), grouped. */
struct diff_side {
    struct rdb *db;
    struct rdb_run *runs;
    int n, ntotal; /* the runs compared (first in runs), and all that were loaded */
    struct rdb_group *gs;
    int ng;
    const char *label;
};

/* One line of the diff. */
struct diff_row {
    const char *allocator;
    char bench[48]; /* the benchmark, with ", part N" for a later set of its parameters */
    char figure[64];
    double a, b, delta, pct, noise;
    int na, nb;
    const char *verdict; /* "better", "worse", "within noise" */
};

struct diff_result {
    struct diff_row *rows;
    int nrows, nbetter, nworse, nnoise;
    int ngate;       /* rows worse than A by more than fail_pct */
    int matched;     /* benchmark/allocator/profile groups found on both sides */
    double fail_pct; /* --fail-if-worse; NAN without */
};

/* Opens a database and loads every run of it into s; -1 with err set (no runs is an error). */
int diff_load_side(const char *path, struct diff_side *s, char *err, size_t errlen);

/* Keeps the runs of s whose build starts with `build` (moved to the front); how many. */
int diff_keep_build(struct diff_side *s, const char *build);

/* The builds of one database to compare when none are named: hakmem's library builds when it has
 * hakmem runs (peers have no build of their own), in order of first appearance.  Returns how many
 * builds there are; a and b are set when there are exactly two. */
int diff_two_builds(const struct diff_side *s, const char **a, const char **b);

/* Groups both sides and compares them into res (fail_pct: NAN, or the gate's percentage).  A
 * group whose parameters differ between A and B gets one warning line on `warn`.  0, or -1 when
 * out of memory. */
int diff_compare(struct diff_side *a, struct diff_side *b, double fail_pct, struct diff_result *res,
                 FILE *warn);

/* The diff as Markdown (a table of rows, the totals, the allocator libraries of both sides), or
 * as one JSON document (docs/reports.md). */
void diff_write_markdown(FILE *o, const struct diff_side *a, const struct diff_side *b,
                         const struct diff_result *res);
void diff_write_json(FILE *o, const struct diff_side *a, const struct diff_side *b,
                     const struct diff_result *res);

/* Frees what diff_load_side and diff_compare allocated (each may be NULL / empty). */
void diff_free(struct diff_side *a, struct diff_side *b, struct diff_result *res);

#endif
