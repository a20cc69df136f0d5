/*
 * hak diff's comparison (build_diff.h): matching the groups of two sides, the figures compared,
 * their noise and verdicts, and the Markdown and JSON that show them.
 */
#include "build_diff.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"
#include "json.h"

/* The figures compared, in the order of a group's rows: per phase Rss - LazyFree and overhead,
 * then over the whole run (any run has these, marks or not) the peak Rss, ops/s, instructions
 * per op (--icount) and the allocator's CPU ns per op (--perf). */
enum figure_kind { FIG_PHASE_NET, FIG_PHASE_OVERHEAD, FIG_PEAK, FIG_OPS, FIG_ICOUNT, FIG_ALLOC_NS };
enum { NPHASE_FIGURES = 2 * RDB_NPHASES, NFIGURES = NPHASE_FIGURES + 4 };

/* Figure f of a group's rows: its kind, and for a phase figure the phase. */
static enum figure_kind figure_of(int f, int *ph) {
    assert(f >= 0 && f < NFIGURES);
    *ph = f / 2;
    if (f < NPHASE_FIGURES) return f % 2 ? FIG_PHASE_OVERHEAD : FIG_PHASE_NET;
    return (enum figure_kind)(FIG_PEAK + (f - NPHASE_FIGURES));
}
_Static_assert(FIG_PEAK + 2 == FIG_ICOUNT && FIG_OPS == FIG_PEAK + 1 && FIG_ALLOC_NS == FIG_PEAK + 3,
               "the whole-run figures follow the phase figures in this order");

/* Values of one figure over a group's usable runs. */
static int values(const struct diff_side *s, const struct rdb_group *g, enum figure_kind kind,
                  int ph, double *v) {
    if (kind == FIG_OPS) return rdb_group_ops(s->runs, g, v);
    if (kind == FIG_ICOUNT) return rdb_group_field(s->runs, g, offsetof(struct rdb_run, instr_per_op), v);
    if (kind == FIG_ALLOC_NS)
        return rdb_group_field(s->runs, g, offsetof(struct rdb_run, alloc_ns_per_op), v);
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

int diff_load_side(const char *path, struct diff_side *s, char *err, size_t errlen) {
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

int diff_keep_build(struct diff_side *s, const char *build) {
    int m = 0;
    size_t len = strlen(build);
    for (int i = 0; i < s->n; i++) {
        if (!strncmp(s->runs[i].build, build, len)) {
            if (m != i) {
                struct rdb_run tmp = s->runs[m];
                s->runs[m] = s->runs[i];
                s->runs[i] = tmp;
            }
            m++;
        }
    }
    return s->n = m;
}

int diff_two_builds(const struct diff_side *s, const char **a, const char **b) {
    const char *builds[2] = {NULL, NULL};
    int nb = 0, any_hakmem = 0;
    for (int i = 0; i < s->n; i++)
        any_hakmem |= !strcmp(s->runs[i].allocator, "hakmem");
    for (int i = 0; i < s->n; i++) {
        if (any_hakmem && strcmp(s->runs[i].allocator, "hakmem")) continue;
        int seen = 0;
        for (int k = 0; k < nb && k < 2; k++)
            seen |= !strcmp(builds[k], s->runs[i].build);
        if (!seen) {
            if (nb < 2) builds[nb] = s->runs[i].build;
            nb++;
        }
    }
    *a = builds[0];
    *b = builds[1];
    return nb;
}

/* Fills one row from the values of a figure on both sides and counts its verdict in res. */
static void judge(struct diff_row *row, enum figure_kind kind, int ph, const double *va, int ma,
                  const double *vb, int mb, struct diff_result *res) {
    row->a = rdb_median(va, ma);
    row->b = rdb_median(vb, mb);
    double spread = fmax(rdb_max(va, ma) - rdb_min(va, ma), rdb_max(vb, mb) - rdb_min(vb, mb));
    /* Instruction counts barely move run to run: 0.5 % is their floor; times 5 %. */
    double floor_ = kind == FIG_OPS || kind == FIG_ALLOC_NS ? 0.05 * fabs(row->a)
                    : kind == FIG_ICOUNT ? 0.005 * fabs(row->a)
                                         : fmax(256.0, 0.02 * fabs(row->a));
    row->noise = fmax(spread, floor_);
    row->delta = row->b - row->a;
    row->pct = row->a != 0 ? 100 * row->delta / fabs(row->a) : (row->delta != 0 ? INFINITY : 0);
    row->na = usable_count(va, ma);
    row->nb = usable_count(vb, mb);
    int worse_dir = kind == FIG_OPS ? row->delta < 0 : row->delta > 0;
    if (fabs(row->delta) <= row->noise) {
        row->verdict = "within noise";
        res->nnoise++;
    } else if (worse_dir) {
        row->verdict = "worse";
        res->nworse++;
        if (!isnan(res->fail_pct) && fabs(row->pct) > res->fail_pct) res->ngate++;
    } else {
        row->verdict = "better";
        res->nbetter++;
    }
    if (kind == FIG_OPS)
        snprintf(row->figure, sizeof row->figure, "ops/s");
    else if (kind == FIG_ICOUNT)
        snprintf(row->figure, sizeof row->figure, "instr/op");
    else if (kind == FIG_ALLOC_NS)
        snprintf(row->figure, sizeof row->figure, "alloc ns/op");
    else if (kind == FIG_PEAK)
        snprintf(row->figure, sizeof row->figure, "peak Rss");
    else
        snprintf(row->figure, sizeof row->figure, "%s %s", rdb_phase_names[ph],
                 kind == FIG_PHASE_NET ? "Rss−LazyFree" : "overhead");
}

int diff_compare(struct diff_side *a, struct diff_side *b, double fail_pct, struct diff_result *res,
                 FILE *warn) {
    memset(res, 0, sizeof *res);
    res->fail_pct = fail_pct;
    a->ng = rdb_group_runs(a->runs, a->n, &a->gs);
    b->ng = rdb_group_runs(b->runs, b->n, &b->gs);
    res->rows = calloc((size_t)(a->ng > 0 ? a->ng : 0) * NFIGURES + 1, sizeof *res->rows);
    if (!res->rows || a->ng < 0 || b->ng < 0) return -1;
    for (int i = 0; i < a->ng; i++) {
        const struct rdb_group *ga = &a->gs[i];
        const struct rdb_group *gb = NULL;
        for (int k = 0; k < b->ng; k++)
            if (!strcmp(ga->profile, b->gs[k].profile) && !strcmp(ga->bench, b->gs[k].bench) &&
                ga->variant == b->gs[k].variant && !strcmp(ga->allocator, b->gs[k].allocator))
                gb = &b->gs[k];
        if (!gb) continue;
        res->matched++;
        if (strcmp(a->runs[ga->idx[0]].params, b->runs[gb->idx[0]].params))
            fprintf(warn, "hak diff: warning: %s/%s ran with other parameters in A and B\n",
                    ga->bench, ga->allocator);
        for (int f = 0; f < NFIGURES; f++) {
            int ph;
            enum figure_kind kind = figure_of(f, &ph);
            double va[ga->n > 0 ? ga->n : 1], vb[gb->n > 0 ? gb->n : 1];
            int ma = values(a, ga, kind, ph, va), mb = values(b, gb, kind, ph, vb);
            if (!usable_count(va, ma) || !usable_count(vb, mb)) continue;
            assert(res->nrows < a->ng * NFIGURES);
            struct diff_row *row = &res->rows[res->nrows++];
            snprintf(row->bench, sizeof row->bench, "%s", ga->bench);
            if (ga->variant > 0)
                snprintf(row->bench + strlen(row->bench), sizeof row->bench - strlen(row->bench),
                         ", part %d", ga->variant + 1);
            row->allocator = ga->allocator;
            judge(row, kind, ph, va, ma, vb, mb, res);
        }
    }
    assert(res->nbetter + res->nworse + res->nnoise == res->nrows);
    return 0;
}

void diff_write_markdown(FILE *o, const struct diff_side *a, const struct diff_side *b,
                         const struct diff_result *res) {
    struct doc d = {o, 0, NULL};
    doc_heading(&d, 1, "hak diff");
    doc_para(&d,
             "A = %s, B = %s. Medians over the completed runs of each side; delta = B − A; noise "
             "= the larger min–max spread of the two sides, at least 256 KiB or 2 %% of A for "
             "sizes and 5 %% of A for throughput. Sizes in KiB (Rss − LazyFree; overhead = Rss − "
             "LazyFree − live bytes; peak Rss over the whole run); lower is better, except ops/s. "
             "instr/op (hak bench --icount): noise floor 0.5 %%, lower is better; alloc ns/op "
             "(hak bench --perf: the allocator's CPU time): noise floor 5 %%, lower is better.",
             a->label, b->label);
    static const char *const head[] = {"benchmark", "allocator", "figure", "A",        "B",
                                       "delta",     "delta %",   "noise",  "runs A/B", "verdict"};
    enum { NCOLS = sizeof head / sizeof head[0] };
    char c[NCOLS][DOC_CELL];
    for (int i = 0; i < NCOLS; i++)
        snprintf(c[i], DOC_CELL, "%s", head[i]);
    doc_table_begin(&d, "lllrrrrrrl");
    doc_row(&d, 1, NCOLS, c);
    for (int i = 0; i < res->nrows; i++) {
        const struct diff_row *r = &res->rows[i];
        snprintf(c[0], DOC_CELL, "%s", r->bench);
        snprintf(c[1], DOC_CELL, "%s", r->allocator);
        snprintf(c[2], DOC_CELL, "%s", r->figure);
        snprintf(c[3], DOC_CELL, "%.0f", r->a);
        snprintf(c[4], DOC_CELL, "%.0f", r->b);
        snprintf(c[5], DOC_CELL, "%+.0f", r->delta);
        snprintf(c[6], DOC_CELL, "%+.1f%%", r->pct);
        snprintf(c[7], DOC_CELL, "%.0f", r->noise);
        snprintf(c[8], DOC_CELL, "%d/%d", r->na, r->nb);
        snprintf(c[9], DOC_CELL, "%s", r->verdict);
        doc_row(&d, 0, NCOLS, c);
    }
    doc_table_end(&d);
    fprintf(o, "%d better, %d worse, %d within noise.\n", res->nbetter, res->nworse, res->nnoise);
    /* What each side measured: a peer's package version can differ between machines. */
    int head_done = 0;
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
        if (!head_done++) {
            static const char *const lhead[] = {"allocator", "library A", "library B"};
            fputc('\n', o);
            doc_table_begin(&d, "lll");
            doc_row_text(&d, 1, 3, lhead);
        }
        char side_b[620];
        snprintf(side_b, sizeof side_b, "%s%s", lb[0] ? lb : "unknown",
                 strcmp(ra->alloc_version, rb->alloc_version) ? " (differs)" : "");
        const char *cells[3] = {a->gs[i].allocator, la[0] ? la : "unknown", side_b};
        doc_row_text(&d, 0, 3, cells);
    }
    if (head_done) doc_table_end(&d);
}

void diff_write_json(FILE *o, const struct diff_side *a, const struct diff_side *b,
                     const struct diff_result *res) {
    fputc('{', o);
    json_key(o, 1, "a"), json_str(o, a->label);
    json_key(o, 0, "b"), json_str(o, b->label);
    json_key(o, 0, "rows"), fputc('[', o);
    for (int i = 0; i < res->nrows; i++) {
        const struct diff_row *r = &res->rows[i];
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
    json_key(o, 0, "better"), json_num(o, res->nbetter);
    json_key(o, 0, "worse"), json_num(o, res->nworse);
    json_key(o, 0, "within_noise"), json_num(o, res->nnoise);
    json_key(o, 0, "fail_if_worse_pct"), json_num(o, res->fail_pct);
    json_key(o, 0, "worse_than_gate"), json_num(o, res->ngate);
    fputs("}\n", o);
}

void diff_free(struct diff_side *a, struct diff_side *b, struct diff_result *res) {
    struct diff_side *sides[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct diff_side *s = sides[i];
        if (s->gs) rdb_free_groups(s->gs, s->ng);
        if (s->runs) rdb_free_runs(s->runs, s->ntotal);
        rdb_close(s->db);
    }
    free(res->rows);
}
