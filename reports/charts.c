/*
 * The charts of a run database (charts.h): the kinds of chart, the simple ones drawn here
 * (throughput, trade-off, overhead, release, tiers, caches; the Rss chart is rss_chart.c), and the loop
 * that draws every kind for each section.  Each chart's data goes to small files that the gnuplot
 * scripts of scripts/ read, one script per kind:
 *   rss-SECTION        Rss over time of every run and its processes   (rss-timeline.gp)
 *   throughput-SECTION ops/s median per allocator, min-max whiskers    (throughput.gp)
 *   tradeoff-SECTION   ops/s against peak Rss, one point per allocator (tradeoff.gp)
 *   overhead-SECTION   overhead per phase, grouped by allocator        (overhead.gp)
 *   release-SECTION    Rss after the last load mark, per allocator     (release.gp)
 *   tiers-SECTION      hakmem's resident memory per tier, stacked      (tiers.gp)
 *   caches-SECTION     hakmem's cache capacity, free slabs, purges     (caches.gp)
 *   classes-SECTION    hakmem's cache capacity per size class          (classes.gp)
 */
#include "charts.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart.h"
#include "gnuplot.h"

/* When the load of a run ended: its last load mark (burst, warmup); NAN without one. */
static double last_load_mark(struct rdb *db, int64_t run_id) {
    char(*mn)[32];
    double *mt, at = NAN;
    int nm = rdb_marks(db, run_id, &mn, &mt);
    for (int i = 0; i < nm; i++)
        if (!strcmp(mn[i], "burst") || !strcmp(mn[i], "warmup")) at = mt[i];
    if (nm > 0) {
        free(mn);
        free(mt);
    }
    return at;
}

int chart_throughput(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "throughput.gp", base, err, errlen);
    if (!f) return -1;
    int rows = 0;
    for (int k = 0; k < s->ng; k++) {
        struct rdb_group *g = &s->gs[k];
        if (!rdb_same_section(g, s->sec)) continue;
        double v[g->n];
        int m = rdb_group_ops(s->runs, g, v);
        double med = rdb_median(v, m);
        if (isnan(med)) continue;
        char label[200];
        fprintf(f, "%d %s %.1f %.1f %.1f\n", rows++,
                chart_label(g, s->show_build, label, sizeof label), med, rdb_min(v, m),
                rdb_max(v, m));
    }
    fclose(f);
    if (!rows) return 1; /* nothing to draw */
    char title[400];
    snprintf(title, sizeof title, "Throughput: %s (median, min-max over repetitions)", c.secname);
    return chart_draw(&c, title, NULL, 0, err, errlen);
}

int chart_overhead(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "overhead.gp", base, err, errlen);
    if (!f) return -1;
    fprintf(f, "allocator baseline \"peak of the load\" \"end of idle\" \"after flush\"\n");
    int rows = 0, last_phase = 0;
    for (int k = 0; k < s->ng; k++) {
        struct rdb_group *g = &s->gs[k];
        if (!rdb_same_section(g, s->sec)) continue;
        char label[200];
        fprintf(f, "%s", chart_label(g, s->show_build, label, sizeof label));
        int any = 0;
        for (int p = 0; p < RDB_NPHASES; p++) {
            double v[g->n];
            double med = rdb_median(v, rdb_group_values(s->runs, g, p, RDB_FIG_OVERHEAD, v));
            if (isnan(med))
                fprintf(f, " ?");
            else {
                fprintf(f, " %.3f", med / 1024);
                any = 1;
                if (p > last_phase) last_phase = p;
            }
        }
        fprintf(f, "\n");
        rows += any;
    }
    fclose(f);
    if (!rows) return 1;
    char title[400], last[32];
    snprintf(title, sizeof title, "Overhead per phase, before and after flush: %s (medians)",
             c.secname);
    snprintf(last, sizeof last, "lastcol=%d", 2 + last_phase);
    const char *extra[1] = {last};
    return chart_draw(&c, title, extra, 1, err, errlen);
}

/* Throughput against peak Rss: one point per allocator at the medians, min-max bars both ways. */
int chart_tradeoff(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "tradeoff.gp", base, err, errlen);
    if (!f) return -1;
    char names[2000] = "";
    size_t no = 0;
    int rows = 0, order = 0;
    for (int k = 0; k < s->ng; k++) {
        struct rdb_group *g = &s->gs[k];
        if (!rdb_same_section(g, s->sec)) continue;
        double ops[g->n], peak[g->n];
        int m = 0;
        for (int i = 0; i < g->n; i++) {
            const struct rdb_run *r = &s->runs[g->idx[i]];
            if (!rdb_group_usable(s->runs, g, i) || isnan(r->ops_per_sec) ||
                isnan(r->whole.peak_kb))
                continue;
            ops[m] = r->ops_per_sec;
            peak[m++] = r->whole.peak_kb / 1024;
        }
        unsigned rgb = chart_group_rgb(order++);
        if (!m) continue;
        char label[200];
        fprintf(f, "%.3f %.3f %.3f %.1f %.1f %.1f %u\n", rdb_median(peak, m), rdb_min(peak, m),
                rdb_max(peak, m), rdb_median(ops, m), rdb_min(ops, m), rdb_max(ops, m), rgb);
        chart_add_word(names, sizeof names, &no,
                       chart_label(g, s->show_build, label, sizeof label));
        rows++;
    }
    fclose(f);
    if (!rows) return 1;
    char title[400];
    snprintf(title, sizeof title, "Throughput against peak Rss: %s (medians, min-max bars)",
             c.secname);
    return chart_draw_named(&c, title, names, rows, err, errlen);
}

/* hakmem's first usable run of the section, or NULL. */
static const struct rdb_run *first_hakmem_run(const struct chart_section *s) {
    for (int k = 0; k < s->ng; k++)
        if (rdb_same_section(&s->gs[k], s->sec) && !strcmp(s->gs[k].allocator, "hakmem"))
            return chart_first_usable(s->runs, &s->gs[k]);
    return NULL;
}

/* hakmem's resident memory per tier over time, stacked, from its first usable run. */
int chart_tiers(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    const struct rdb_run *r = first_hakmem_run(s);
    if (!r) return 1;
    double *t, (*kb)[RDB_NTIERS];
    int n = rdb_tier_timeline(s->db, r->run_id, &t, &kb);
    if (n <= 0) return 1;
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "tiers.gp", base, err, errlen);
    if (f) {
        /* Cumulative columns: each tier's area lies on the ones before it. */
        for (int i = 0; i < n; i++) {
            double sum = 0;
            fprintf(f, "%.3f", t[i]);
            for (int j = 0; j < RDB_NTIERS; j++)
                fprintf(f, " %.3f", (sum += kb[i][j]) / 1024);
            fprintf(f, "\n");
        }
        fclose(f);
    }
    free(t);
    free(kb);
    if (!f) return -1;
    char title[400];
    snprintf(title, sizeof title, "Resident memory of hakmem per tier: %s (run %lld)", c.secname,
             (long long)r->run_id);
    return chart_draw(&c, title, NULL, 0, err, errlen);
}

/* hakmem's thread caches over time, from the counters of its first usable run's full snapshots:
 * capacity per tier, the free slabs kept (Tiny and Mid) and the pages purged so far. */
int chart_caches(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    const struct rdb_run *r = first_hakmem_run(s);
    if (!r) return 1;
    double *t, (*kb)[RDB_NCACHE];
    int n = rdb_cache_timeline(s->db, r->run_id, &t, &kb);
    if (n <= 0) return 1;
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "caches.gp", base, err, errlen);
    if (f) {
        for (int i = 0; i < n; i++)
            fprintf(f, "%.3f %.4f %.4f %.4f %.4f\n", t[i], kb[i][RDB_CACHE_TINY_CAP] / 1024,
                    kb[i][RDB_CACHE_MID_CAP] / 1024,
                    (kb[i][RDB_CACHE_TINY_FREE] + kb[i][RDB_CACHE_MID_FREE]) / 1024,
                    (kb[i][RDB_CACHE_TINY_PURGED] + kb[i][RDB_CACHE_MID_PURGED]) / 1024);
        fclose(f);
    }
    free(t);
    free(kb);
    if (!f) return -1;
    char title[400];
    snprintf(title, sizeof title, "Thread caches of hakmem: %s (run %lld)", c.secname,
             (long long)r->run_id);
    return chart_draw(&c, title, NULL, 0, err, errlen);
}

/* hakmem's thread caches per size class over time: the capacity of the classes that grew most in
 * its first usable run, at every sample that stored them. */
enum { CHART_CLASSES_MAX = 8 };
int chart_classes(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    const struct rdb_run *r = first_hakmem_run(s);
    if (!r) return 1;
    unsigned cls[CHART_CLASSES_MAX];
    uint32_t size[CHART_CLASSES_MAX];
    int ncls;
    double *t, *kb;
    int n = rdb_size_class_timeline(s->db, r->run_id, CHART_CLASSES_MAX, cls, size, &ncls, &t, &kb);
    if (n <= 0) return 1;
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "classes.gp", base, err, errlen);
    if (f) {
        for (int i = 0; i < n; i++) {
            fprintf(f, "%.3f", t[i]);
            for (int k = 0; k < ncls; k++)
                fprintf(f, " %.3f", kb[(size_t)i * ncls + k]);
            fprintf(f, "\n");
        }
        fclose(f);
    }
    free(t);
    free(kb);
    if (!f) return -1;
    char names[CHART_CLASSES_MAX * 24] = "", word[24];
    size_t used = 0;
    for (int k = 0; k < ncls; k++) {
        snprintf(word, sizeof word, "%u:%uB", cls[k], (unsigned)size[k]);
        chart_add_word(names, sizeof names, &used, word);
    }
    char title[400];
    snprintf(title, sizeof title, "Thread caches of hakmem per size class: %s (run %lld)",
             c.secname, (long long)r->run_id);
    return chart_draw_named(&c, title, names, ncls, err, errlen);
}

/* The release curve: Rss from each allocator's last load mark to the end of its first usable run,
 * time counted from that mark. */
int chart_release(const struct chart_section *s, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = chart_open_data(&c, s, "release.gp", base, err, errlen);
    if (!f) return -1;
    char names[2000] = "";
    size_t no = 0;
    int nlines = 0, order = 0;
    for (int k = 0; k < s->ng; k++) {
        if (!rdb_same_section(&s->gs[k], s->sec)) continue;
        unsigned rgb = chart_group_rgb(order++);
        const struct rdb_run *r = chart_first_usable(s->runs, &s->gs[k]);
        double from = last_load_mark(s->db, r->run_id);
        if (isnan(from)) continue;
        double *t, *rss;
        int n = rdb_timeline(s->db, r->run_id, &t, &rss), m = 0;
        if (nlines) fprintf(f, "\n\n");
        for (int i = 0; i < n; i++)
            if (t[i] >= from) fprintf(f, "%.3f %.3f %u\n", t[i] - from, rss[i] / 1024, rgb), m++;
        if (!m) fprintf(f, "? ? 0\n");
        free(t);
        free(rss);
        char label[200];
        chart_add_word(names, sizeof names, &no,
                       chart_label(&s->gs[k], s->show_build, label, sizeof label));
        nlines++;
    }
    fclose(f);
    if (!nlines) return 1;
    char title[400];
    snprintf(title, sizeof title, "Release after the load ends: %s", c.secname);
    return chart_draw_named(&c, title, names, nlines, err, errlen);
}

/* The kinds of chart of a section, in the order they are drawn: file prefix (one word:
 * chart_of_section finds a section's charts by what follows its first '-'), what draws it, and the
 * caption, with %s for the section. */
static const struct {
    const char *prefix;
    chart_fn *draw;
    const char *caption;
} chart_kinds[] = {
    {"rss", chart_rss,
     "Rss over time of every run of %s, one colour per allocator; where a run started several "
     "processes, its largest ones (and the rest summed as others) as thinner lines, named by "
     "command and pid. The strips above the curves show each allocator's own phases (load, idle, "
     "flush), from its first run."},
    {"throughput", chart_throughput,
     "Throughput of %s per allocator: the median over the repetitions as a bar, the slowest and "
     "fastest run as a whisker."},
    {"tradeoff", chart_tradeoff,
     "Throughput against peak Rss in %s: one point per allocator at the medians, bars from the "
     "lowest to the highest run. Up and to the left is better."},
    {"overhead", chart_overhead,
     "What each allocator of %s holds beyond the benchmark's live data (Rss − LazyFree − live "
     "bytes) at baseline, at the peak of the load, at the end of the idle window and after its own "
     "release call; medians over the repetitions."},
    {"release", chart_release,
     "How %s gives memory back once the load ends: Rss of each allocator's first run from its last "
     "load mark to the end, time counted from that mark."},
    {"tiers", chart_tiers,
     "hakmem's resident memory in %s per tier (tiny, mid, large, huge), stacked, at every full "
     "snapshot of its first run, counted page by page in /proc/PID/pagemap."},
    {"caches", chart_caches,
     "hakmem's thread caches in %s over its first run, from its counters at every full snapshot: "
     "the adaptive capacity of every thread's Tiny and Mid caches, the free slabs kept for reuse, "
     "and the free pages given back inside slabs still in use so far."},
    {"classes", chart_classes,
     "hakmem's thread caches in %s per size class over its first run: the capacity (KiB, summed "
     "over the threads) of the classes that grew most, at every full snapshot."},
};

int charts_draw(struct rdb *db, const struct rdb_run *runs, int n, const char *dir,
                struct chart_image *charts, int maxc, char *err, size_t errlen) {
    char sdir[PATH_MAX];
    if (gnuplot_scripts_dir(sdir, sizeof sdir) != 0) {
        snprintf(err, errlen,
                 "cannot find the gnuplot scripts (scripts/*.gp); set HAK_SCRIPTS_DIR");
        return -1;
    }
    struct chart_section s = {.db = db, .runs = runs, .sdir = sdir, .dir = dir};
    s.ng = rdb_group_runs(runs, n, &s.gs);
    s.show_build = rdb_groups_need_build(s.gs, s.ng);
    int nw = 0, rc = 0;
    enum { NKINDS = sizeof chart_kinds / sizeof chart_kinds[0] };
    for (int k = 0; k < s.ng && rc >= 0; k++) {
        int first = 1;
        for (int j = 0; j < k; j++)
            if (rdb_same_section(&s.gs[j], &s.gs[k])) first = 0;
        if (!first) continue;
        char bench[64], base[128];
        rdb_section_name(&s.gs[k], bench, sizeof bench);
        s.sec = &s.gs[k];
        for (int kind = 0; kind < NKINDS && rc >= 0; kind++) {
            snprintf(base, sizeof base, "%s-%s", chart_kinds[kind].prefix, bench);
            rc = chart_kinds[kind].draw(&s, base, err, errlen);
            assert(rc >= -1 && rc <= 1);
            char dat[PATH_MAX + 300];
            snprintf(dat, sizeof dat, "%s/%s.dat", dir, base);
            unlink(dat);
            snprintf(dat, sizeof dat, "%s/%s.phases", dir, base);
            unlink(dat);
            if (rc == 0 && nw < maxc) {
                snprintf(charts[nw].path, sizeof charts[nw].path, "%s/%s.png", dir, base);
                snprintf(charts[nw].caption, sizeof charts[nw].caption, chart_kinds[kind].caption,
                         bench);
                nw++;
            }
            if (rc > 0) rc = 0;
        }
    }
    rdb_free_groups(s.gs, s.ng);
    return rc < 0 ? -1 : nw;
}

int chart_of_section(const char *path, const struct rdb_group *g) {
    char name[200], suffix[220];
    rdb_section_name(g, name, sizeof name);
    snprintf(suffix, sizeof suffix, "-%s.png", name);
    size_t lp = strlen(path), ls = strlen(suffix);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* The prefix is one word (rss, throughput, overhead): the suffix starts at its first '-'. */
    const char *dash = strchr(base, '-');
    return lp >= ls && dash && !strcmp(dash, suffix);
}
