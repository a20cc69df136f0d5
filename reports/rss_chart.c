/*
 * The Rss chart (rss-SECTION): Rss over time of every usable run of a section, one colour per
 * allocator; where a run sampled several processes (a command that starts children), its
 * largest processes as thinner lines of their own beside the total; and above the curves one strip
 * per allocator with its own phases (load, idle, flush), from its first usable run.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "gnuplot.h"

/* Processes drawn on their own per run; the rest are summed into one "others" line, so a run that
 * started dozens of children stays readable.  They come from rdb_run.procs, largest peak first. */
enum { RSS_CHART_PROCS = 3 };
_Static_assert(RSS_CHART_PROCS <= RDB_MAX_PROCS, "the chart's processes come from rdb_run.procs");

/* The band colour of the phase a mark ends, 0 for one that is not shaded. */
static unsigned shade_rgb(const char *mark) {
    if (!strcmp(mark, "burst") || !strcmp(mark, "warmup")) return 0xD55E00; /* load */
    if (!strcmp(mark, "idle")) return 0x56B4E9;
    if (!strcmp(mark, "flush")) return 0x009E73;
    return 0;
}

/* The lines of one chart's data file: blocks of "ms MiB rgb", one per line drawn, in order. */
struct rss_lines {
    FILE *f;
    int nblocks;
    double ymax; /* MiB, the largest value written */
};

/* Writes one block of a series (KiB in, MiB out) under a comment line; a series without a row
 * still takes a block, so the n-th block stays the n-th title. */
static void write_series(struct rss_lines *l, const char *comment, const double *t,
                         const double *kb, int n, unsigned rgb) {
    if (l->nblocks) fprintf(l->f, "\n\n");
    fprintf(l->f, "# %s\n", comment);
    if (n <= 0) fprintf(l->f, "? ? 0\n");
    for (int j = 0; j < n; j++) {
        fprintf(l->f, "%.3f %.3f %u\n", t[j], kb[j] / 1024, rgb);
        /* ymax goes to gnuplot as a number: an absurd Rss must not make it "inf". */
        if (kb[j] / 1024 > l->ymax && kb[j] < 1e300) l->ymax = kb[j] / 1024;
    }
    l->nblocks++;
}

/* The first usable run of a group that sampled several processes; NULL when none did. */
static const struct rdb_run *run_with_processes(const struct rdb_run *runs,
                                                const struct rdb_group *g) {
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i) && runs[g->idx[i]].processes > 1) return &runs[g->idx[i]];
    return NULL;
}

/* One line per process of run r (its RSS_CHART_PROCS largest), then one for the sum of the others,
 * each named in `titles` by "comm(pid)" or "others(N)". */
static void write_processes(struct rss_lines *l, struct rdb *db, const struct rdb_run *r,
                            unsigned rgb, char *titles, size_t tn, size_t *tused) {
    int kept = r->nprocs < RSS_CHART_PROCS ? r->nprocs : RSS_CHART_PROCS;
    for (int k = 0; k < kept; k++) {
        double *t, *kb;
        char raw[64], word[64];
        snprintf(raw, sizeof raw, "%s(%lld)", r->procs[k].comm[0] ? r->procs[k].comm : "?",
                 (long long)r->procs[k].pid);
        gnuplot_safe_text(word, sizeof word, raw, 0);
        int n = rdb_process_timeline(db, r, k, &t, &kb);
        write_series(l, word, t, kb, n, rgb);
        free(t);
        free(kb);
        chart_add_word(titles, tn, tused, word);
    }
    if (r->processes <= kept) return;
    double *t, *kb;
    char word[32];
    snprintf(word, sizeof word, "others(%d)", r->processes - kept);
    int n = rdb_other_processes_timeline(db, r, kept, &t, &kb);
    write_series(l, word, t, kb, n, rgb);
    free(t);
    free(kb);
    chart_add_word(titles, tn, tused, word);
}

/* The phases file: block 0 "start end phase rgb strip" bands, one strip per allocator, named in
 * `strips`.  -1 with err set when it cannot be written. */
static int write_phases(const struct chart_section *s, const struct chart_files *c, char *strips,
                        size_t sn, char *err, size_t errlen) {
    FILE *f = chart_open_file(s->dir, c->phases, err, errlen);
    if (!f) return -1;
    int strip = 0, shaded = 0;
    size_t ns = 0;
    for (int k = 0; k < s->ng; k++) {
        if (!rdb_same_section(&s->gs[k], s->sec)) continue;
        char(*mn)[32];
        double *mt;
        int nm = rdb_marks(s->db, chart_first_usable(s->runs, &s->gs[k])->run_id, &mn, &mt);
        for (int i = 1; i < nm; i++) {
            unsigned rgb = shade_rgb(mn[i]);
            if (!rgb) continue;
            fprintf(f, "%.3f %.3f %s %u %d\n", mt[i - 1], mt[i],
                    !strcmp(mn[i], "burst") || !strcmp(mn[i], "warmup") ? "load" : mn[i], rgb,
                    strip);
            shaded++;
        }
        if (nm > 0) {
            free(mn);
            free(mt);
        }
        char label[200];
        chart_add_word(strips, sn, &ns, chart_label(&s->gs[k], s->show_build, label, sizeof label));
        strip++;
    }
    if (!shaded) fprintf(f, "? ? - 0 0\n");
    fclose(f);
    return 0;
}

int chart_rss(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "rss-timeline.gp", base, err, errlen);
    if (!f) return -1;
    struct rss_lines l = {f, 0, 1};
    char titles[2000] = "", ptitles[2000] = "";
    size_t no = 0, np = 0;
    int order = 0;
    /* The totals first: block i is run i's total, titled by its allocator at its first run. */
    for (int k = 0; k < s->ng; k++) {
        const struct rdb_group *g = &s->gs[k];
        if (!rdb_same_section(g, s->sec)) continue;
        char label[200];
        chart_label(g, s->show_build, label, sizeof label);
        int titled = 0;
        for (int i = 0; i < g->n; i++) {
            if (!rdb_group_usable(s->runs, g, i)) continue;
            const struct rdb_run *r = &s->runs[g->idx[i]];
            double *t, *rss;
            int n = rdb_timeline(s->db, r->run_id, &t, &rss);
            char comment[240];
            snprintf(comment, sizeof comment, "run %lld %s", (long long)r->run_id, label);
            write_series(&l, comment, t, rss, n, chart_group_rgb(order));
            free(t);
            free(rss);
            chart_add_word(titles, sizeof titles, &no, titled ? "-" : label);
            titled = 1;
        }
        order++;
    }
    int ntotals = l.nblocks;
    if (!(l.ymax > 0)) { /* no run was sampled (each ended before the first read): nothing to draw */
        fclose(f);
        return 1;
    }
    /* Then the processes of each allocator's first run that had several. */
    order = 0;
    for (int k = 0; k < s->ng; k++) {
        const struct rdb_group *g = &s->gs[k];
        if (!rdb_same_section(g, s->sec)) continue;
        const struct rdb_run *r = run_with_processes(s->runs, g);
        if (r) write_processes(&l, s->db, r, chart_group_rgb(order), ptitles, sizeof ptitles, &np);
        order++;
    }
    fclose(f);
    assert(l.nblocks >= ntotals);
    char strips[2000] = "";
    if (write_phases(s, &c, strips, sizeof strips, err, errlen) != 0) return -1;
    char v[7][2100], title[400];
    snprintf(title, sizeof title, "Rss over time: %s, every run, with the phases of each allocator",
             c.secname);
    gnuplot_string_def(v[0], sizeof v[0], "phases", c.phases);
    gnuplot_string_def(v[1], sizeof v[1], "titles", titles);
    gnuplot_string_def(v[2], sizeof v[2], "strips", strips);
    snprintf(v[3], sizeof v[3], "n=%d", ntotals);
    snprintf(v[4], sizeof v[4], "ymax=%.3f", l.ymax * 1.05);
    gnuplot_string_def(v[5], sizeof v[5], "ptitles", ptitles);
    snprintf(v[6], sizeof v[6], "np=%d", l.nblocks - ntotals);
    const char *extra[7] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
    return chart_draw(&c, title, extra, 7, err, errlen);
}
