/*
 * hak plot: charts of a run database, drawn by gnuplot.  This file exports the figures from
 * report_db.c as small data files and runs the gnuplot scripts on them, one chart kind
 * per script in scripts/ (each writes PNG and SVG):
 *   rss-BENCH        Rss over time of every run, each allocator's phases     (rss-timeline.gp)
 *   throughput-BENCH ops/s median per allocator with min-max whiskers        (throughput.gp)
 *   tradeoff-BENCH   ops/s against peak Rss, one point per allocator         (tradeoff.gp)
 *   overhead-BENCH   overhead per phase, grouped by allocator                (overhead.gp)
 *   release-BENCH    Rss after the last load mark, per allocator             (release.gp)
 *   tiers-BENCH      hakmem's resident memory per tier, stacked              (tiers.gp)
 * hak report --html embeds the SVGs, with captions, through hak_plot_charts.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hak.h"
#include "report_db.h"

/* scripts/ next to the build (build/bin/hak -> ../../scripts), or where make install put them
 * (PREFIX/bin/hak -> ../share/hakmem); HAK_SCRIPTS_DIR overrides. */
static int scripts_dir(char *out, size_t n) {
    const char *env = getenv("HAK_SCRIPTS_DIR");
    if (env && *env) {
        /* Absolute, since gnuplot runs in the chart folder. */
        char abs[PATH_MAX];
        if (!realpath(env, abs)) return -1;
        snprintf(out, n, "%s", abs);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return -1;
    exe[len] = 0;
    char *bin = strrchr(exe, '/');
    if (bin) {
        *bin = 0;
        snprintf(out, n, "%.3800s/../share/hakmem/rss-timeline.gp", exe);
        if (access(out, R_OK) == 0 && realpath(exe, out)) {
            char *slash = strrchr(out, '/'); /* PREFIX/bin -> PREFIX */
            if (slash) *slash = 0;
            size_t used = strlen(out);
            snprintf(out + used, n - used, "/share/hakmem");
            return 0;
        }
        *bin = '/';
    }
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash) return -1;
        *slash = 0;
        snprintf(out, n, "%.3800s/scripts/rss-timeline.gp", exe);
        if (access(out, R_OK) == 0) {
            snprintf(out, n, "%.3800s/scripts", exe);
            return 0;
        }
    }
    return -1;
}

/* Runs gnuplot in folder `cwd` with -e DEFINITION for each of vars, then the script (an absolute
 * path).  The chart files are named relative to cwd, so no user path reaches gnuplot's parser.
 * 0 on success. */
static int run_gnuplot(const char *script, const char *cwd, const char *const *vars, int nvars,
                       char *err, size_t errlen) {
    char *argv[2 * 16 + 3];
    int a = 0;
    argv[a++] = "gnuplot";
    for (int i = 0; i < nvars && i < 16; i++) {
        argv[a++] = "-e";
        argv[a++] = (char *)vars[i];
    }
    argv[a++] = (char *)script;
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (chdir(cwd) != 0) _exit(126);
        execvp("gnuplot", argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        snprintf(err, errlen,
                 "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)");
        return -1;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 126) {
        snprintf(err, errlen, "cannot enter %s to draw its charts", cwd);
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, errlen, "gnuplot failed on %s", script);
        return -1;
    }
    return 0;
}

/* Text read from a run database, made safe to show on a chart: every byte outside a small set
 * becomes '_', so no quote, backquote, newline or other gnuplot syntax survives.  Spaces are kept
 * only where asked (titles); labels are words in data files and in `names`. */
static void chart_text(char *out, size_t n, const char *in, int keep_spaces) {
    size_t o = 0;
    for (; *in && o + 1 < n; in++) {
        char ch = *in;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 (ch && strchr("._:+=/,()@-", ch)) || (ch == ' ' && keep_spaces);
        out[o++] = ok ? ch : '_';
    }
    out[o] = 0;
}

/* A gnuplot -e definition name='value'.  Single-quoted gnuplot strings expand no backquotes, and
 * chart_text leaves no quote in the value, so the value stays data. */
static void gp_str(char *out, size_t n, const char *name, const char *value) {
    char safe[2000];
    chart_text(safe, sizeof safe, value, 1);
    snprintf(out, n, "%s='%s'", name, safe);
}

/* The label of a group on a chart: its allocator (and build), as one word of safe characters. */
static const char *label_of(const struct rdb_group *g, int show_build, char *buf, size_t n) {
    char raw[200];
    if (show_build)
        snprintf(raw, sizeof raw, "%.150s@%.12s", g->allocator, g->build);
    else
        snprintf(raw, sizeof raw, "%s", g->allocator);
    chart_text(buf, n, raw, 0);
    return buf;
}

/* The first usable run of a group. */
static const struct rdb_run *first_usable(const struct rdb_run *runs, const struct rdb_group *g) {
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i)) return &runs[g->idx[i]];
    return &runs[g->idx[0]];
}

/* Colours readable on white, none of them yellow; a section's allocators take them in order, so an
 * allocator has one colour on every chart of its section.  Passed to gnuplot as numbers in the
 * data files (lc rgb variable). */
static unsigned group_rgb(int order) {
    static const unsigned palette[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7,
                                       0x000000, 0x8C564B, 0x56B4E9, 0x7F7F7F};
    return palette[order % (int)(sizeof palette / sizeof palette[0])];
}

/* The band colour of the phase a mark ends, 0 for one that is not shaded. */
static unsigned shade_rgb(const char *mark) {
    if (!strcmp(mark, "burst") || !strcmp(mark, "warmup")) return 0xD55E00; /* load */
    if (!strcmp(mark, "idle")) return 0x56B4E9;
    if (!strcmp(mark, "flush")) return 0x009E73;
    return 0;
}

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

/* The files of one chart: data (and, for Rss, phases) written here, the image base name `out`,
 * the gnuplot script that draws it; and the name of its section, for the title. */
struct chart_files {
    char secname[160];
    const char *dir;
    char data[300], phases[300], out[300], script[PATH_MAX + 64];
};

/* Opens dir/name for writing; NULL with err set when it cannot. */
static FILE *open_in(const char *dir, const char *name, char *err, size_t errlen) {
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return f;
}

/* Names the files of chart `base` (section `sec`, drawn by sdir/script) in dir and opens its data
 * file for writing; NULL with err set when it cannot. */
static FILE *open_chart_data(struct chart_files *c, const struct rdb_group *sec, const char *sdir,
                             const char *script, const char *dir, const char *base, char *err,
                             size_t errlen) {
    rdb_section_name(sec, c->secname, sizeof c->secname);
    c->dir = dir;
    snprintf(c->data, sizeof c->data, "%s.dat", base);
    snprintf(c->phases, sizeof c->phases, "%s.phases", base);
    snprintf(c->out, sizeof c->out, "%s", base);
    snprintf(c->script, sizeof c->script, "%s/%s", sdir, script);
    return open_in(dir, c->data, err, errlen);
}

/* Runs a chart's script with data, title and out defined, then the `nextra` definitions in
 * `extra` (run_gnuplot takes 16 in all). */
static int draw_chart(const struct chart_files *c, const char *title, const char *const *extra,
                      int nextra, char *err, size_t errlen) {
    char v[3][2100];
    gp_str(v[0], sizeof v[0], "data", c->data);
    gp_str(v[1], sizeof v[1], "title", title);
    gp_str(v[2], sizeof v[2], "out", c->out);
    const char *vars[16] = {v[0], v[1], v[2]};
    int n = 3;
    for (int i = 0; i < nextra && n < 16; i++)
        vars[n++] = extra[i];
    return run_gnuplot(c->script, c->dir, vars, n, err, errlen);
}

/* Appends word to a space-separated list of names for gnuplot's word(); past the buffer's end the
 * remaining lines go unnamed, never overrun it. */
static void add_word(char *list, size_t n, size_t *used, const char *word) {
    if (*used < n)
        *used += (size_t)snprintf(list + *used, n - *used, "%s%s", *used ? " " : "", word);
}

/* Rss over time: every usable run of the section, one colour per allocator, and above the curves
 * one strip per allocator with its own phases, taken from its first usable run. */
static int plot_rss(struct rdb *db, const struct rdb_run *runs, struct rdb_group *gs, int ng,
                    const struct rdb_group *sec, int show_build, const char *sdir, const char *dir,
                    const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = open_chart_data(&c, sec, sdir, "rss-timeline.gp", dir, base, err, errlen);
    if (!f) return -1;
    char titles[2000] = "";
    size_t no = 0;
    int nblocks = 0, order = 0;
    double ymax = 1;
    for (int k = 0; k < ng; k++) {
        if (!rdb_same_section(&gs[k], sec)) continue;
        char label[200];
        label_of(&gs[k], show_build, label, sizeof label);
        int titled = 0;
        for (int i = 0; i < gs[k].n; i++) {
            if (!rdb_group_usable(runs, &gs[k], i)) continue;
            const struct rdb_run *r = &runs[gs[k].idx[i]];
            double *t, *rss;
            int n = rdb_timeline(db, r->run_id, &t, &rss);
            if (nblocks) fprintf(f, "\n\n");
            fprintf(f, "# run %lld %s\n", (long long)r->run_id, label);
            if (n <= 0) fprintf(f, "? ? 0\n");
            for (int j = 0; j < n; j++) {
                fprintf(f, "%.3f %.3f %u\n", t[j], rss[j] / 1024, group_rgb(order));
                /* ymax goes to gnuplot as a number: an absurd Rss must not make it "inf". */
                if (rss[j] / 1024 > ymax && rss[j] < 1e300) ymax = rss[j] / 1024;
            }
            free(t);
            free(rss);
            /* The key names an allocator once, at its first run. */
            add_word(titles, sizeof titles, &no, titled ? "-" : label);
            titled = 1;
            nblocks++;
        }
        order++;
    }
    fclose(f);
    f = open_in(dir, c.phases, err, errlen);
    if (!f) return -1;
    /* Block 0: "start end phase rgb strip" bands; block 1: "strip allocator" names. */
    int strip = 0, shaded = 0;
    char strips[2000] = "";
    size_t ns = 0;
    for (int k = 0; k < ng; k++) {
        if (!rdb_same_section(&gs[k], sec)) continue;
        char(*mn)[32];
        double *mt;
        int nm = rdb_marks(db, first_usable(runs, &gs[k])->run_id, &mn, &mt);
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
        add_word(strips, sizeof strips, &ns, label_of(&gs[k], show_build, label, sizeof label));
        strip++;
    }
    if (!shaded) fprintf(f, "? ? - 0 0\n");
    fclose(f);
    char v[5][2100], title[400];
    snprintf(title, sizeof title, "Rss over time: %s, every run, with the phases of each allocator",
             c.secname);
    gp_str(v[0], sizeof v[0], "phases", c.phases);
    gp_str(v[1], sizeof v[1], "titles", titles);
    gp_str(v[2], sizeof v[2], "strips", strips);
    snprintf(v[3], sizeof v[3], "n=%d", nblocks);
    snprintf(v[4], sizeof v[4], "ymax=%.3f", ymax * 1.05);
    const char *extra[5] = {v[0], v[1], v[2], v[3], v[4]};
    return draw_chart(&c, title, extra, 5, err, errlen);
}

static int plot_throughput(const struct rdb_run *runs, struct rdb_group *gs, int ng,
                           const struct rdb_group *sec, int show_build, const char *sdir,
                           const char *dir, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = open_chart_data(&c, sec, sdir, "throughput.gp", dir, base, err, errlen);
    if (!f) return -1;
    int rows = 0;
    for (int k = 0; k < ng; k++) {
        struct rdb_group *g = &gs[k];
        if (!rdb_same_section(g, sec)) continue;
        double v[g->n];
        int m = rdb_group_ops(runs, g, v);
        double med = rdb_median(v, m);
        if (isnan(med)) continue;
        char label[200];
        fprintf(f, "%d %s %.1f %.1f %.1f\n", rows++, label_of(g, show_build, label, sizeof label),
                med, rdb_min(v, m), rdb_max(v, m));
    }
    fclose(f);
    if (!rows) return 1; /* nothing to draw */
    char title[400];
    snprintf(title, sizeof title, "Throughput: %s (median, min-max over repetitions)", c.secname);
    return draw_chart(&c, title, NULL, 0, err, errlen);
}

static int plot_overhead(const struct rdb_run *runs, struct rdb_group *gs, int ng,
                         const struct rdb_group *sec, int show_build, const char *sdir,
                         const char *dir, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = open_chart_data(&c, sec, sdir, "overhead.gp", dir, base, err, errlen);
    if (!f) return -1;
    fprintf(f, "allocator baseline \"peak of the load\" \"end of idle\" \"after flush\"\n");
    int rows = 0, last_phase = 0;
    for (int k = 0; k < ng; k++) {
        struct rdb_group *g = &gs[k];
        if (!rdb_same_section(g, sec)) continue;
        char label[200];
        fprintf(f, "%s", label_of(g, show_build, label, sizeof label));
        int any = 0;
        for (int p = 0; p < RDB_NPHASES; p++) {
            double v[g->n];
            double med = rdb_median(v, rdb_group_values(runs, g, p, RDB_FIG_OVERHEAD, v));
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
    return draw_chart(&c, title, extra, 1, err, errlen);
}

/* Draws a chart of n allocators' lines or points, named in the key by `names` (one word each). */
static int draw_named_chart(const struct chart_files *c, const char *title, const char *names,
                            int n, char *err, size_t errlen) {
    char v[2][2100];
    gp_str(v[0], sizeof v[0], "names", names);
    snprintf(v[1], sizeof v[1], "n=%d", n);
    const char *extra[2] = {v[0], v[1]};
    return draw_chart(c, title, extra, 2, err, errlen);
}

/* Throughput against peak Rss: one point per allocator at the medians, min-max bars both ways. */
static int plot_tradeoff(const struct rdb_run *runs, struct rdb_group *gs, int ng,
                         const struct rdb_group *sec, int show_build, const char *sdir,
                         const char *dir, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = open_chart_data(&c, sec, sdir, "tradeoff.gp", dir, base, err, errlen);
    if (!f) return -1;
    char names[2000] = "";
    size_t no = 0;
    int rows = 0, order = 0;
    for (int k = 0; k < ng; k++) {
        struct rdb_group *g = &gs[k];
        if (!rdb_same_section(g, sec)) continue;
        double ops[g->n], peak[g->n];
        int m = 0;
        for (int i = 0; i < g->n; i++) {
            const struct rdb_run *r = &runs[g->idx[i]];
            if (!rdb_group_usable(runs, g, i) || isnan(r->ops_per_sec) || isnan(r->whole.peak_kb))
                continue;
            ops[m] = r->ops_per_sec;
            peak[m++] = r->whole.peak_kb / 1024;
        }
        unsigned rgb = group_rgb(order++);
        if (!m) continue;
        char label[200];
        fprintf(f, "%.3f %.3f %.3f %.1f %.1f %.1f %u\n", rdb_median(peak, m), rdb_min(peak, m),
                rdb_max(peak, m), rdb_median(ops, m), rdb_min(ops, m), rdb_max(ops, m), rgb);
        add_word(names, sizeof names, &no, label_of(g, show_build, label, sizeof label));
        rows++;
    }
    fclose(f);
    if (!rows) return 1;
    char title[400];
    snprintf(title, sizeof title, "Throughput against peak Rss: %s (medians, min-max bars)",
             c.secname);
    return draw_named_chart(&c, title, names, rows, err, errlen);
}

/* hakmem's resident memory per tier over time, stacked, from its first usable run. */
static int plot_tiers(struct rdb *db, const struct rdb_run *runs, struct rdb_group *gs, int ng,
                      const struct rdb_group *sec, const char *sdir, const char *dir,
                      const char *base, char *err, size_t errlen) {
    const struct rdb_run *r = NULL;
    for (int k = 0; k < ng && !r; k++)
        if (rdb_same_section(&gs[k], sec) && !strcmp(gs[k].allocator, "hakmem"))
            r = first_usable(runs, &gs[k]);
    if (!r) return 1;
    double *t, (*kb)[RDB_NTIERS];
    int n = rdb_tier_timeline(db, r->run_id, &t, &kb);
    if (n <= 0) return 1;
    struct chart_files c;
    FILE *f = open_chart_data(&c, sec, sdir, "tiers.gp", dir, base, err, errlen);
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
    return draw_chart(&c, title, NULL, 0, err, errlen);
}

/* The release curve: Rss from each allocator's last load mark to the end of its first usable run,
 * time counted from that mark. */
static int plot_release(struct rdb *db, const struct rdb_run *runs, struct rdb_group *gs, int ng,
                        const struct rdb_group *sec, int show_build, const char *sdir,
                        const char *dir, const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = open_chart_data(&c, sec, sdir, "release.gp", dir, base, err, errlen);
    if (!f) return -1;
    char names[2000] = "";
    size_t no = 0;
    int nlines = 0, order = 0;
    for (int k = 0; k < ng; k++) {
        if (!rdb_same_section(&gs[k], sec)) continue;
        unsigned rgb = group_rgb(order++);
        const struct rdb_run *r = first_usable(runs, &gs[k]);
        double from = last_load_mark(db, r->run_id);
        if (isnan(from)) continue;
        double *t, *rss;
        int n = rdb_timeline(db, r->run_id, &t, &rss), m = 0;
        if (nlines) fprintf(f, "\n\n");
        for (int i = 0; i < n; i++)
            if (t[i] >= from) fprintf(f, "%.3f %.3f %u\n", t[i] - from, rss[i] / 1024, rgb), m++;
        if (!m) fprintf(f, "? ? 0\n");
        free(t);
        free(rss);
        char label[200];
        add_word(names, sizeof names, &no, label_of(&gs[k], show_build, label, sizeof label));
        nlines++;
    }
    fclose(f);
    if (!nlines) return 1;
    char title[400];
    snprintf(title, sizeof title, "Release after the load ends: %s", c.secname);
    return draw_named_chart(&c, title, names, nlines, err, errlen);
}

/* The kinds of chart of a section: file prefix (one word, report.c finds a section's charts by
 * what follows its first '-') and the caption, with %s for the section. */
static const struct {
    const char *prefix, *caption;
} chart_kinds[] = {
    {"rss", "Rss over time of every run of %s, one colour per allocator. The strips above the "
            "curves show each allocator's own phases (load, idle, flush), from its first run."},
    {"throughput", "Throughput of %s per allocator: the median over the repetitions as a bar, the "
                   "slowest and fastest run as a whisker."},
    {"tradeoff", "Throughput against peak Rss in %s: one point per allocator at the medians, bars "
                 "from the lowest to the highest run. Up and to the left is better."},
    {"overhead", "What each allocator of %s holds beyond the benchmark's live data (Rss − LazyFree "
                 "− live bytes) at baseline, at the peak of the load, at the end of the idle "
                 "window and after its own release call; medians over the repetitions."},
    {"release", "How %s gives memory back once the load ends: Rss of each allocator's first run "
                "from its last load mark to the end, time counted from that mark."},
    {"tiers", "hakmem's resident memory in %s per tier (tiny, mid, large, huge), stacked, at every "
              "full snapshot of its first run, counted page by page in /proc/PID/pagemap."},
};

int hak_plot_charts(struct rdb *db, const struct rdb_run *runs, int n, const char *dir,
                    struct hak_chart *charts, int maxc, char *err, size_t errlen) {
    char sdir[PATH_MAX];
    if (scripts_dir(sdir, sizeof sdir) != 0) {
        snprintf(err, errlen,
                 "cannot find the gnuplot scripts (scripts/*.gp); set HAK_SCRIPTS_DIR");
        return -1;
    }
    struct rdb_group *gs;
    int ng = rdb_group_runs(runs, n, &gs);
    int show_build = rdb_groups_need_build(gs, ng);
    int nw = 0, rc = 0;
    enum { NKINDS = sizeof chart_kinds / sizeof chart_kinds[0] };
    for (int k = 0; k < ng && rc >= 0; k++) {
        int first = 1;
        for (int j = 0; j < k; j++)
            if (rdb_same_section(&gs[j], &gs[k])) first = 0;
        if (!first) continue;
        char bench[64], base[128];
        rdb_section_name(&gs[k], bench, sizeof bench);
        const struct rdb_group *sec = &gs[k];
        for (int kind = 0; kind < NKINDS && rc >= 0; kind++) {
            const char *prefix = chart_kinds[kind].prefix;
            snprintf(base, sizeof base, "%s-%s", prefix, bench);
            if (!strcmp(prefix, "rss"))
                rc = plot_rss(db, runs, gs, ng, sec, show_build, sdir, dir, base, err, errlen);
            else if (!strcmp(prefix, "throughput"))
                rc = plot_throughput(runs, gs, ng, sec, show_build, sdir, dir, base, err, errlen);
            else if (!strcmp(prefix, "tradeoff"))
                rc = plot_tradeoff(runs, gs, ng, sec, show_build, sdir, dir, base, err, errlen);
            else if (!strcmp(prefix, "overhead"))
                rc = plot_overhead(runs, gs, ng, sec, show_build, sdir, dir, base, err, errlen);
            else if (!strcmp(prefix, "release"))
                rc = plot_release(db, runs, gs, ng, sec, show_build, sdir, dir, base, err, errlen);
            else
                rc = plot_tiers(db, runs, gs, ng, sec, sdir, dir, base, err, errlen);
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
    rdb_free_groups(gs, ng);
    return rc < 0 ? -1 : nw;
}

static void usage(FILE *out) {
    fprintf(out, "usage: hak plot RUN.DB -o DIR [--run ID]...\n"
                 "  draws with gnuplot, for each benchmark in RUN.DB, into DIR (PNG and SVG):\n"
                 "    rss-BENCH         Rss over time of every run, each allocator's phases above\n"
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
            fprintf(stderr, "hak plot: unknown or incomplete option '%s' (hak plot --help)\n",
                    argv[optind - 1]);
            return 2;
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
    struct hak_chart written[64];
    char err[1024];
    int nw = hak_plot_charts(db, runs, n, dir, written, 64, err, sizeof err);
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
