/*
 * hak diff: compares two builds on the same profile — two run databases, or two builds recorded
 * in one — per benchmark, allocator and phase: both medians, the delta, the run-to-run spread and
 * a verdict.  A difference no larger than the noise is never called better or worse: the noise is
 * the larger min-max spread of the two sides, and at least a floor (256 KiB or 2 % for sizes, 5 %
 * for throughput) so that single runs are not over-read.  --fail-if-worse PCT makes it a gate.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hak.h"
#include "json.h"
#include "report_db.h"

struct side {
    struct rdb *db;
    struct rdb_run *runs;
    int n, ntotal;
    struct rdb_group *gs;
    int ng;
    const char *label;
};

/* The figures compared: per phase Rss - LazyFree and overhead, then over the whole run (any run
 * has these, marks or not) the peak Rss, then ops/s. */
enum { FIG_PHASE_NET, FIG_PHASE_OVERHEAD, FIG_PEAK, FIG_OPS, FIG_ICOUNT };
enum { NFIGURES = 2 * RDB_NPHASES + 3 };

/* One line of the diff. */
struct diff_row {
    const char *bench, *allocator;
    char figure[64];
    double a, b, delta, pct, noise;
    int na, nb;
    const char *verdict;
};

/* Values of one figure over a group's usable runs. */
static int values(const struct side *s, const struct rdb_group *g, int kind, int ph, double *v) {
    if (kind == FIG_OPS) return rdb_group_ops(s->runs, g, v);
    if (kind == FIG_ICOUNT) return rdb_group_icount(s->runs, g, v);
    if (kind == FIG_PEAK) {
        int m = 0;
        for (int i = 0; i < g->n; i++)
            if (rdb_group_usable(s->runs, g, i)) v[m++] = s->runs[g->idx[i]].whole.peak_kb;
        return m;
    }
    return rdb_group_values(s->runs, g, ph,
                            kind == FIG_PHASE_NET ? RDB_FIG_RSS_NET : RDB_FIG_OVERHEAD, v);
}

static int usable_count(const double *v, int n) {
    int m = 0;
    for (int i = 0; i < n; i++)
        m += !isnan(v[i]);
    return m;
}

/* Keeps the runs whose build starts with `build` (all when NULL). */
static int filter_build(struct rdb_run *runs, int n, const char *build) {
    if (!build) return n;
    int m = 0;
    size_t len = strlen(build);
    for (int i = 0; i < n; i++) {
        if (!strncmp(runs[i].build, build, len)) {
            if (m != i) {
                struct rdb_run tmp = runs[m];
                runs[m] = runs[i];
                runs[i] = tmp;
            }
            m++;
        }
    }
    return m;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: hak diff A.DB B.DB [--fail-if-worse PCT]\n"
            "       hak diff RUN.DB [BUILD_A BUILD_B] [--fail-if-worse PCT]\n"
            "  compares B against A per benchmark, allocator and phase (Rss - LazyFree, overhead,\n"
            "  ops/s): medians, delta, run-to-run spread, verdict better / worse / within noise.\n"
            "  With one database, BUILD_A and BUILD_B are build ids (or prefixes) of its runs;\n"
            "  without them the database must hold exactly two builds of hakmem (peers are then\n"
            "  left out; a git sha prefix as BUILD selects hakmem and the peers of that tree).\n"
            "  --fail-if-worse PCT  exit 1 when a figure is worse by more than PCT %% (and the "
            "noise)\n"
            "  --json               one JSON document on stdout instead of Markdown\n"
            "Exit 2 when nothing could be compared.\n");
}

static void diff_markdown(FILE *o, const struct side *a, const struct side *b,
                          const struct diff_row *rows, int n, int nbetter, int nworse, int nnoise) {
    fprintf(o,
            "# hak diff\n\nA = %s, B = %s. Medians over the completed runs of each side; delta = B "
            "− A; noise = the larger min–max spread of the two sides, at least 256 KiB or 2 %% of "
            "A for sizes and 5 %% of A for throughput. Sizes in KiB (Rss − LazyFree; overhead = "
            "Rss − LazyFree − live bytes; peak Rss over the whole run); lower is better, except "
            "ops/s. instr/op (hak bench --icount): noise floor 0.5 %%, lower is better.\n\n",
            a->label, b->label);
    fprintf(o, "| benchmark | allocator | figure | A | B | delta | delta %% | noise | runs A/B | "
               "verdict |\n"
               "|---|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < n; i++) {
        const struct diff_row *r = &rows[i];
        fprintf(o, "| %s | %s | %s | %.0f | %.0f | %+.0f | %+.1f%% | %.0f | %d/%d | %s |\n",
                r->bench, r->allocator, r->figure, r->a, r->b, r->delta, r->pct, r->noise, r->na,
                r->nb, r->verdict);
    }
    fprintf(o, "\n%d better, %d worse, %d within noise.\n", nbetter, nworse, nnoise);
    /* What each side measured: a peer's package version can differ between machines. */
    int head = 0;
    for (int i = 0; i < a->ng; i++) {
        int seen = 0; /* one row per allocator, whatever its benchmarks */
        for (int j = 0; j < i; j++)
            seen |= !strcmp(a->gs[j].allocator, a->gs[i].allocator);
        if (seen) continue;
        const struct rdb_run *ra = &a->runs[a->gs[i].idx[0]], *rb = NULL;
        for (int k = 0; k < b->ng && !rb; k++)
            if (!strcmp(b->gs[k].allocator, a->gs[i].allocator)) rb = &b->runs[b->gs[k].idx[0]];
        char la[600], lb[600];
        if (!rb || (!rdb_library(ra, la, sizeof la)[0] && !rdb_library(rb, lb, sizeof lb)[0]))
            continue;
        rdb_library(ra, la, sizeof la);
        rdb_library(rb, lb, sizeof lb);
        if (!head++) fprintf(o, "\n| allocator | library A | library B |\n|---|---|---|\n");
        fprintf(o, "| %s | %s | %s%s |\n", a->gs[i].allocator, la[0] ? la : "unknown",
                lb[0] ? lb : "unknown",
                strcmp(ra->alloc_version, rb->alloc_version) ? " (differs)" : "");
    }
}

/* hak diff --json: one document (docs/reports.md). */
static void diff_json(FILE *o, const struct side *a, const struct side *b,
                      const struct diff_row *rows, int n, int nbetter, int nworse, int nnoise,
                      int ngate, double fail_pct) {
    fputc('{', o);
    json_key(o, 1, "a"), json_str(o, a->label);
    json_key(o, 0, "b"), json_str(o, b->label);
    json_key(o, 0, "rows"), fputc('[', o);
    for (int i = 0; i < n; i++) {
        const struct diff_row *r = &rows[i];
        fputs(i ? ",\n{" : "\n{", o);
        json_key(o, 1, "benchmark"), json_str(o, r->bench);
        json_key(o, 0, "allocator"), json_str(o, r->allocator);
        json_key(o, 0, "figure"), json_str(o, r->figure);
        json_key(o, 0, "a"), json_num(o, r->a);
        json_key(o, 0, "b"), json_num(o, r->b);
        json_key(o, 0, "delta"), json_num(o, r->delta);
        json_key(o, 0, "delta_pct"), json_num(o, r->pct);
        json_key(o, 0, "noise"), json_num(o, r->noise);
        json_key(o, 0, "runs_a"), json_num(o, r->na);
        json_key(o, 0, "runs_b"), json_num(o, r->nb);
        json_key(o, 0, "verdict"), json_str(o, r->verdict);
        fputc('}', o);
    }
    fputc(']', o);
    json_key(o, 0, "better"), json_num(o, nbetter);
    json_key(o, 0, "worse"), json_num(o, nworse);
    json_key(o, 0, "within_noise"), json_num(o, nnoise);
    json_key(o, 0, "fail_if_worse_pct"), json_num(o, fail_pct);
    json_key(o, 0, "worse_than_gate"), json_num(o, ngate);
    fputs("}\n", o);
}

static int load_side(const char *path, struct side *s, char *err, size_t errlen) {
    s->db = rdb_open(path, err, errlen);
    if (!s->db) return -1;
    s->n = rdb_load_runs(s->db, NULL, 0, &s->runs, err, errlen);
    if (s->n < 0) return -1;
    s->ntotal = s->n;
    if (s->n == 0) {
        snprintf(err, errlen, "%s: no runs recorded in this database yet", path);
        return -1;
    }
    return 0;
}

int cmd_diff(int argc, char **argv) {
    static const struct option opts[] = {{"fail-if-worse", required_argument, NULL, 'f'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    double fail_pct = NAN;
    int c, json = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            char *end;
            errno = 0;
            fail_pct = strtod(optarg, &end);
            if (errno || *end || !(fail_pct >= 0)) {
                fprintf(stderr, "hak diff: --fail-if-worse wants a percentage (e.g. 5), not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "hak diff: unknown or incomplete option '%s' (hak diff --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    int npos = argc - optind;
    char **pos = argv + optind;
    if (npos != 1 && npos != 2 && npos != 3) {
        fprintf(stderr, "hak diff: %s\n",
                npos == 0 ? "no run database given" : "too many arguments");
        return 2;
    }
    char err[1024];
    struct side a = {0}, b = {0};
    int rc = 1;
    char labels[2][200];
    if (npos == 2) {
        if (load_side(pos[0], &a, err, sizeof err) || load_side(pos[1], &b, err, sizeof err)) {
            fprintf(stderr, "hak diff: %s\n", err);
            goto out;
        }
        snprintf(labels[0], sizeof labels[0], "%s", pos[0]);
        snprintf(labels[1], sizeof labels[1], "%s", pos[1]);
    } else {
        if (load_side(pos[0], &a, err, sizeof err) || load_side(pos[0], &b, err, sizeof err)) {
            fprintf(stderr, "hak diff: %s\n", err);
            goto out;
        }
        const char *ba, *bb;
        if (npos == 3) {
            ba = pos[1];
            bb = pos[2];
        } else {
            /* The two builds of the database, in order of first appearance. */
            const char *builds[2] = {NULL, NULL};
            int nb = 0;
            /* hakmem's library builds when there are hakmem runs: peers have no build of
             * their own, only the tree hak was built in. */
            int any_hakmem = 0;
            for (int i = 0; i < a.n; i++)
                any_hakmem |= !strcmp(a.runs[i].allocator, "hakmem");
            for (int i = 0; i < a.n; i++) {
                if (any_hakmem && strcmp(a.runs[i].allocator, "hakmem")) continue;
                int seen = 0;
                for (int k = 0; k < nb && k < 2; k++)
                    seen |= !strcmp(builds[k], a.runs[i].build);
                if (!seen) {
                    if (nb < 2) builds[nb] = a.runs[i].build;
                    nb++;
                }
            }
            if (nb != 2) {
                fprintf(stderr,
                        "hak diff: %s holds %d build%s; name the two to compare "
                        "(hak diff %s BUILD_A BUILD_B) or give two databases\n",
                        pos[0], nb, nb == 1 ? "" : "s", pos[0]);
                goto out;
            }
            ba = builds[0];
            bb = builds[1];
        }
        snprintf(labels[0], sizeof labels[0], "%s", ba);
        snprintf(labels[1], sizeof labels[1], "%s", bb);
        a.n = filter_build(a.runs, a.n, labels[0]);
        b.n = filter_build(b.runs, b.n, labels[1]);
        if (!a.n || !b.n) {
            fprintf(stderr, "hak diff: %s: no runs of build '%s'\n", pos[0],
                    !a.n ? labels[0] : labels[1]);
            goto out;
        }
    }
    a.label = labels[0];
    b.label = labels[1];
    a.ng = rdb_group_runs(a.runs, a.n, &a.gs);
    b.ng = rdb_group_runs(b.runs, b.n, &b.gs);

    struct diff_row *rows = calloc((size_t)a.ng * NFIGURES + 1, sizeof *rows);
    int nrows = 0, nbetter = 0, nworse = 0, nnoise = 0, ngate = 0, matched = 0;
    for (int i = 0; rows && i < a.ng; i++) {
        const struct rdb_group *ga = &a.gs[i];
        const struct rdb_group *gb = NULL;
        for (int k = 0; k < b.ng; k++)
            if (!strcmp(ga->profile, b.gs[k].profile) && !strcmp(ga->bench, b.gs[k].bench) &&
                !strcmp(ga->allocator, b.gs[k].allocator))
                gb = &b.gs[k];
        if (!gb) continue;
        matched++;
        if (strcmp(a.runs[ga->idx[0]].params, b.runs[gb->idx[0]].params))
            fprintf(stderr, "hak diff: warning: %s/%s ran with other parameters in A and B\n",
                    ga->bench, ga->allocator);
        for (int f = 0; f < NFIGURES; f++) {
            int kind = f == NFIGURES - 1   ? FIG_ICOUNT
                       : f == NFIGURES - 2 ? FIG_OPS
                       : f == NFIGURES - 3 ? FIG_PEAK
                       : f % 2             ? FIG_PHASE_OVERHEAD
                                           : FIG_PHASE_NET;
            int ph = f / 2;
            double va[ga->n > 0 ? ga->n : 1], vb[gb->n > 0 ? gb->n : 1];
            int ma = values(&a, ga, kind, ph, va), mb = values(&b, gb, kind, ph, vb);
            if (!usable_count(va, ma) || !usable_count(vb, mb)) continue;
            struct diff_row *row = &rows[nrows++];
            row->bench = ga->bench;
            row->allocator = ga->allocator;
            row->a = rdb_median(va, ma);
            row->b = rdb_median(vb, mb);
            double spread =
                fmax(rdb_max(va, ma) - rdb_min(va, ma), rdb_max(vb, mb) - rdb_min(vb, mb));
            /* Instruction counts barely move run to run: 0.5 % is their floor. */
            double floor_ = kind == FIG_OPS      ? 0.05 * fabs(row->a)
                            : kind == FIG_ICOUNT ? 0.005 * fabs(row->a)
                                                 : fmax(256.0, 0.02 * fabs(row->a));
            row->noise = fmax(spread, floor_);
            row->delta = row->b - row->a;
            row->pct = row->a != 0 ? 100 * row->delta / fabs(row->a)
                                   : (row->delta != 0 ? INFINITY : 0);
            row->na = usable_count(va, ma);
            row->nb = usable_count(vb, mb);
            int worse_dir = kind == FIG_OPS ? row->delta < 0 : row->delta > 0;
            if (fabs(row->delta) <= row->noise) {
                row->verdict = "within noise";
                nnoise++;
            } else if (worse_dir) {
                row->verdict = "worse";
                nworse++;
                if (!isnan(fail_pct) && fabs(row->pct) > fail_pct) ngate++;
            } else {
                row->verdict = "better";
                nbetter++;
            }
            if (kind == FIG_OPS)
                snprintf(row->figure, sizeof row->figure, "ops/s");
            else if (kind == FIG_ICOUNT)
                snprintf(row->figure, sizeof row->figure, "instr/op");
            else if (kind == FIG_PEAK)
                snprintf(row->figure, sizeof row->figure, "peak Rss");
            else
                snprintf(row->figure, sizeof row->figure, "%s %s", rdb_phase_names[ph],
                         kind == FIG_PHASE_NET ? "Rss−LazyFree" : "overhead");
        }
    }
    /* A gate that compared nothing must not pass: that is a usage error, not a verdict. */
    if (!nrows) {
        fprintf(stderr, "hak diff: nothing to compare: %s\n",
                matched ? "A and B share benchmarks and allocators but no figure measured on both"
                        : "A and B have no benchmark/allocator/profile in common");
        free(rows);
        rc = 2;
        goto out;
    }
    if (json)
        diff_json(stdout, &a, &b, rows, nrows, nbetter, nworse, nnoise, ngate, fail_pct);
    else
        diff_markdown(stdout, &a, &b, rows, nrows, nbetter, nworse, nnoise);
    free(rows);
    rc = 0;
    if (!isnan(fail_pct) && ngate) {
        fprintf(stderr, "hak diff: %d figure%s worse than A by more than %g%% (and the noise)\n",
                ngate, ngate == 1 ? " is" : "s are", fail_pct);
        rc = 1;
    }
out:
    if (a.gs) rdb_free_groups(a.gs, a.ng);
    if (b.gs) rdb_free_groups(b.gs, b.ng);
    if (a.runs) rdb_free_runs(a.runs, a.ntotal);
    if (b.runs) rdb_free_runs(b.runs, b.ntotal);
    rdb_close(a.db);
    rdb_close(b.db);
    return rc;
}
