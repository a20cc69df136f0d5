/*
 * hak plot: charts of a run database, drawn by gnuplot.  This file exports the figures from
 * report_db.c as small data files and runs the gnuplot scripts on them, one chart kind
 * per script in scripts/ (each writes PNG and SVG):
 *   rss-BENCH        Rss over time, one line per allocator, phases shaded    (rss-timeline.gp)
 *   throughput-BENCH ops/s median per allocator with min-max whiskers        (throughput.gp)
 *   overhead-BENCH   overhead per phase, grouped by allocator                (overhead.gp)
 * hak report --html embeds the PNGs through hak_plot_charts.
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

/* scripts/ next to the build: build/bin/hak -> ../../scripts; HAK_SCRIPTS_DIR overrides. */
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
    char safe[1100];
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

static int shade_colour(const char *mark) {
    if (!strcmp(mark, "burst") || !strcmp(mark, "warmup")) return 7; /* load */
    if (!strcmp(mark, "idle")) return 3;
    if (!strcmp(mark, "flush")) return 2;
    return 0;
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
    char v[3][1200];
    gp_str(v[0], sizeof v[0], "data", c->data);
    gp_str(v[1], sizeof v[1], "title", title);
    gp_str(v[2], sizeof v[2], "out", c->out);
    const char *vars[16] = {v[0], v[1], v[2]};
    int n = 3;
    for (int i = 0; i < nextra && n < 16; i++)
        vars[n++] = extra[i];
    return run_gnuplot(c->script, c->dir, vars, n, err, errlen);
}

static int plot_rss(struct rdb *db, const struct rdb_run *runs, struct rdb_group *gs, int ng,
                    const struct rdb_group *sec, int show_build, const char *sdir, const char *dir,
                    const char *base, char *err, size_t errlen) {
    struct chart_files c;
    FILE *f = open_chart_data(&c, sec, sdir, "rss-timeline.gp", dir, base, err, errlen);
    if (!f) return -1;
    char names[1000] = "";
    size_t no = 0;
    int nlines = 0;
    double ymax = 1;
    const struct rdb_run *ref = NULL;
    for (int k = 0; k < ng; k++) {
        if (!rdb_same_section(&gs[k], sec)) continue;
        const struct rdb_run *r = first_usable(runs, &gs[k]);
        if (!ref || !strcmp(gs[k].allocator, "hakmem"))
            ref = ref && !strcmp(ref->allocator, "hakmem") ? ref : r;
        double *t, *rss;
        int n = rdb_timeline(db, r->run_id, &t, &rss);
        if (nlines) fprintf(f, "\n\n");
        char label[200];
        label_of(&gs[k], show_build, label, sizeof label);
        fprintf(f, "# run %lld %s\n", (long long)r->run_id, label);
        if (n <= 0) fprintf(f, "? ?\n");
        for (int i = 0; i < n; i++) {
            fprintf(f, "%.3f %.3f\n", t[i], rss[i] / 1024);
            /* ymax goes to gnuplot as a number: an absurd Rss must not make it "inf". */
            if (rss[i] / 1024 > ymax && rss[i] < 1e300) ymax = rss[i] / 1024;
        }
        free(t);
        free(rss);
        /* Past the buffer's end the remaining lines go unnamed, never overrun it. */
        if (no < sizeof names)
            no += (size_t)snprintf(names + no, sizeof names - no, "%s%s", nlines ? " " : "", label);
        nlines++;
    }
    fclose(f);
    f = open_in(dir, c.phases, err, errlen);
    if (!f) return -1;
    char(*mn)[32];
    double *mt;
    int nm = ref ? rdb_marks(db, ref->run_id, &mn, &mt) : 0;
    int shaded = 0;
    for (int i = 1; i < nm; i++) {
        int colour = shade_colour(mn[i]);
        if (!colour) continue;
        fprintf(f, "%.3f %.3f %s %d\n", mt[i - 1], mt[i], !strcmp(mn[i], "burst") ? "load" : mn[i],
                colour);
        shaded++;
    }
    if (!shaded) fprintf(f, "? ? - 0\n");
    if (nm > 0) {
        free(mn);
        free(mt);
    }
    fclose(f);
    char v[4][1200], title[400];
    snprintf(title, sizeof title, "Rss over time: %s (phases shaded from %s run %lld)", c.secname,
             ref ? ref->allocator : "?", ref ? (long long)ref->run_id : 0LL);
    gp_str(v[0], sizeof v[0], "phases", c.phases);
    gp_str(v[1], sizeof v[1], "names", names);
    snprintf(v[2], sizeof v[2], "n=%d", nlines);
    snprintf(v[3], sizeof v[3], "ymax=%.3f", ymax * 1.1);
    const char *extra[4] = {v[0], v[1], v[2], v[3]};
    return draw_chart(&c, title, extra, 4, err, errlen);
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
    fprintf(f, "allocator baseline heavy idle after_flush\n");
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

int hak_plot_charts(struct rdb *db, const struct rdb_run *runs, int n, const char *dir,
                    char (*written)[256], int maxw, char *err, size_t errlen) {
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
    for (int k = 0; k < ng && rc >= 0; k++) {
        int first = 1;
        for (int j = 0; j < k; j++)
            if (rdb_same_section(&gs[j], &gs[k])) first = 0;
        if (!first) continue;
        char bench[64], base[128];
        rdb_section_name(&gs[k], bench, sizeof bench);
        for (int kind = 0; kind < 3 && rc >= 0; kind++) {
            static const char *const prefix[] = {"rss", "throughput", "overhead"};
            snprintf(base, sizeof base, "%s-%s", prefix[kind], bench);
            if (kind == 0)
                rc = plot_rss(db, runs, gs, ng, &gs[k], show_build, sdir, dir, base, err, errlen);
            else if (kind == 1)
                rc =
                    plot_throughput(runs, gs, ng, &gs[k], show_build, sdir, dir, base, err, errlen);
            else
                rc = plot_overhead(runs, gs, ng, &gs[k], show_build, sdir, dir, base, err, errlen);
            char dat[PATH_MAX + 300];
            snprintf(dat, sizeof dat, "%s/%s.dat", dir, base);
            unlink(dat);
            snprintf(dat, sizeof dat, "%s/%s.phases", dir, base);
            unlink(dat);
            if (rc == 0 && nw < maxw) snprintf(written[nw++], 256, "%s/%s.png", dir, base);
            if (rc > 0) rc = 0;
        }
    }
    rdb_free_groups(gs, ng);
    return rc < 0 ? -1 : nw;
}

static void usage(FILE *out) {
    fprintf(out, "usage: hak plot RUN.DB -o DIR [--run ID]...\n"
                 "  draws with gnuplot, for each benchmark in RUN.DB, into DIR (PNG and SVG):\n"
                 "    rss-BENCH         Rss over time, one line per allocator, phases shaded\n"
                 "    throughput-BENCH  ops/s per allocator, median with min-max whiskers\n"
                 "    overhead-BENCH    overhead per phase (baseline, heavy, idle, after flush)\n");
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
    char written[64][256], err[1024];
    int nw = hak_plot_charts(db, runs, n, dir, written, 64, err, sizeof err);
    rdb_free_runs(runs, n);
    rdb_close(db);
    if (nw < 0) {
        fprintf(stderr, "hak plot: %s\n", err);
        return 1;
    }
    for (int i = 0; i < nw; i++) {
        char *dot = strrchr(written[i], '.');
        printf("%s", written[i]);
        if (dot) printf(" %.*s.svg", (int)(dot - written[i]), written[i]);
        printf("\n");
    }
    return 0;
}
