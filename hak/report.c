/*
 * hak report: turns a run database into the overhead analysis — Markdown on stdout, or with
 * --html one self-contained page with the charts inline.  The figures come from report_db.c; this
 * file only lays them out.  One writer (struct doc) renders headings, paragraphs and tables as
 * either Markdown or HTML, so both outputs always hold the same numbers.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hak.h"
#include "charts.h"
#include "json.h"
#include "report_db.h"

struct doc {
    FILE *out;
    int html;
};

static void html_escape(FILE *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static void doc_heading(struct doc *d, int level, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (d->html) {
        fprintf(d->out, "<h%d>", level);
        html_escape(d->out, buf);
        fprintf(d->out, "</h%d>\n", level);
    } else {
        for (int i = 0; i < level; i++)
            fputc('#', d->out);
        fprintf(d->out, " %s\n\n", buf);
    }
}

static void doc_para(struct doc *d, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (d->html) {
        fputs("<p>", d->out);
        html_escape(d->out, buf);
        fputs("</p>\n", d->out);
    } else {
        fprintf(d->out, "%s\n\n", buf);
    }
}

/* Tables: a header row, then rows of cells; cells are plain text. */
static void doc_row(struct doc *d, int header, int ncols, char cells[][64]) {
    if (d->html) {
        fputs("<tr>", d->out);
        for (int i = 0; i < ncols; i++) {
            fputs(header ? "<th>" : "<td>", d->out);
            html_escape(d->out, cells[i]);
            fputs(header ? "</th>" : "</td>", d->out);
        }
        fputs("</tr>\n", d->out);
        return;
    }
    fputc('|', d->out);
    for (int i = 0; i < ncols; i++)
        fprintf(d->out, " %s |", cells[i]);
    fputc('\n', d->out);
    if (header) {
        fputc('|', d->out);
        for (int i = 0; i < ncols; i++)
            fputs(i ? "---:|" : "---|", d->out);
        fputc('\n', d->out);
    }
}

static void doc_table_begin(struct doc *d) {
    if (d->html) fputs("<table>\n", d->out);
}

static void doc_table_end(struct doc *d) {
    fputs(d->html ? "</table>\n" : "\n", d->out);
}

/* Numbers: "—" for not measured. */
static void fmt_num(char *buf, double v, const char *fmt) {
    if (isnan(v))
        snprintf(buf, 64, "—");
    else
        snprintf(buf, 64, fmt, v);
}

static void fmt_rate(char *buf, double v) {
    if (isnan(v))
        snprintf(buf, 64, "—");
    else if (v >= 1e6)
        snprintf(buf, 64, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, 64, "%.1fk", v / 1e3);
    else
        snprintf(buf, 64, "%.0f", v);
}

static const char *group_label(const struct rdb_group *g, int show_build, char *buf, size_t n) {
    if (show_build)
        snprintf(buf, n, "%s @ %s", g->allocator, g->build[0] ? g->build : "?");
    else
        snprintf(buf, n, "%s", g->allocator);
    return buf;
}

/* Median over a group's usable runs of any per-run value. */
static double group_median(const struct rdb_run *runs, const struct rdb_group *g,
                           double (*get)(const struct rdb_run *, int), int arg) {
    double v[g->n];
    int m = 0;
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i)) v[m++] = get(&runs[g->idx[i]], arg);
    return rdb_median(v, m);
}

static double get_class(const struct rdb_run *r, int arg) {
    return r->ph[arg / 16].class_kb[arg % 16];
}
static double get_held(const struct rdb_run *r, int arg) {
    return r->ph[arg / 16].held_kb[arg % 16];
}
static double get_tier_rss(const struct rdb_run *r, int arg) {
    return r->ph[arg / 16].tier_rss_kb[arg % 16];
}

/* A table of one per-tier figure of hakmem at each phase (medians of the group's runs); nothing
 * when no phase has it. */
static void tier_phase_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g,
                             double (*get)(const struct rdb_run *, int), const char *title) {
    char c[1 + RDB_NTIERS][64];
    double v[RDB_NPHASES][RDB_NTIERS];
    int any = 0;
    for (int p = 0; p < RDB_NPHASES; p++)
        for (int t = 0; t < RDB_NTIERS; t++) {
            v[p][t] = group_median(runs, g, get, p * 16 + t);
            if (!isnan(v[p][t])) any = 1;
        }
    if (!any) return;
    doc_para(d, "%s", title);
    snprintf(c[0], 64, "phase");
    for (int t = 0; t < RDB_NTIERS; t++)
        snprintf(c[1 + t], 64, "%s", rdb_class_names[t]);
    doc_table_begin(d);
    doc_row(d, 1, 1 + RDB_NTIERS, c);
    for (int p = 0; p < RDB_NPHASES; p++) {
        if (!runs[g->idx[0]].ph[p].present) continue;
        snprintf(c[0], 64, "%s", rdb_phase_names[p]);
        for (int t = 0; t < RDB_NTIERS; t++)
            fmt_num(c[1 + t], v[p][t], "%.0f");
        doc_row(d, 0, 1 + RDB_NTIERS, c);
    }
    doc_table_end(d);
}
static double get_settle(const struct rdb_run *r, int arg) {
    (void)arg;
    return r->settle_ms;
}
static double get_load_end(const struct rdb_run *r, int arg) {
    (void)arg;
    return r->load_end_net_kb;
}
static double get_counter_idx(const struct rdb_run *r, int arg);
static const char *counter_arg_name;
static double get_counter_idx(const struct rdb_run *r, int arg) {
    (void)arg;
    return rdb_counter(r, counter_arg_name);
}
static double group_counter(const struct rdb_run *runs, const struct rdb_group *g,
                            const char *name) {
    counter_arg_name = name;
    return group_median(runs, g, get_counter_idx, 0);
}

/* The overhead table of one group: the four phases, medians over its usable runs. */
static void overhead_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    char c[16][64];
    int hak = !strcmp(g->allocator, "hakmem");
    const char *head[] = {"phase",    "Rss KiB",      "Rss−LazyFree KiB",
                          "live KiB", "overhead KiB", "overhead/live"};
    int nc = 6;
    for (int i = 0; i < nc; i++)
        snprintf(c[i], 64, "%s", head[i]);
    doc_table_begin(d);
    doc_row(d, 1, nc, c);
    for (int p = 0; p < RDB_NPHASES; p++) {
        double v[g->n];
        snprintf(c[0], 64, "%s", rdb_phase_names[p]);
        enum rdb_figure figs[] = {RDB_FIG_RSS, RDB_FIG_RSS_NET, RDB_FIG_LIVE, RDB_FIG_OVERHEAD};
        double med[4];
        for (int f = 0; f < 4; f++) {
            int m = rdb_group_values(runs, g, p, figs[f], v);
            med[f] = rdb_median(v, m);
            fmt_num(c[1 + f], med[f], "%.0f");
        }
        if (isnan(med[0])) {
            snprintf(c[1], 64, "not in this benchmark");
            for (int f = 2; f < nc; f++)
                snprintf(c[f], 64, "—");
        } else if (!isnan(med[3]) && med[2] > 0)
            snprintf(c[5], 64, "%.2f", med[3] / med[2]);
        else
            snprintf(c[5], 64, "—");
        doc_row(d, 0, nc, c);
    }
    doc_table_end(d);

    /* Breakdown: the classes that hold anything at any phase. */
    int used[RDB_NCLASSES] = {0};
    double cls[RDB_NPHASES][RDB_NCLASSES];
    for (int p = 0; p < RDB_NPHASES; p++)
        for (int k = 0; k < RDB_NCLASSES; k++) {
            cls[p][k] = group_median(runs, g, get_class, p * 16 + k);
            if (!isnan(cls[p][k]) && cls[p][k] > 0) used[k] = 1;
        }
    int ncls = 0;
    for (int k = 0; k < RDB_NCLASSES; k++)
        ncls += used[k];
    if (ncls) {
        doc_para(
            d, "Where Rss − LazyFree sits, by mapping class (KiB; %s):",
            hak ? "tiny / mid / large / huge are hakmem's tiers, from the regions it publishes"
                : "anon = anonymous mappings such as the allocator's arenas and thread stacks");
        int n = 0;
        snprintf(c[n++], 64, "phase");
        for (int k = 0; k < RDB_NCLASSES; k++)
            if (used[k]) snprintf(c[n++], 64, "%s", rdb_class_names[k]);
        doc_table_begin(d);
        doc_row(d, 1, n, c);
        for (int p = 0; p < RDB_NPHASES; p++) {
            if (isnan(cls[p][0]) && isnan(cls[p][4]) && isnan(cls[p][5])) continue;
            n = 0;
            snprintf(c[n++], 64, "%s", rdb_phase_names[p]);
            for (int k = 0; k < RDB_NCLASSES; k++)
                if (used[k]) fmt_num(c[n++], cls[p][k], "%.0f");
            doc_row(d, 0, n, c);
        }
        doc_table_end(d);
    }
    if (hak) {
        tier_phase_table(d, runs, g, get_tier_rss,
                         "What each hakmem tier holds resident, per phase (KiB, counted page by page "
                         "in /proc/PID/pagemap over the regions hakmem publishes):");
        tier_phase_table(d, runs, g, get_held,
                         "Memory each hakmem tier has mapped (held_* counters, KiB), per phase:");
    }
}

/* Idle Rss before and after flush, side by side for every group of a benchmark. */
static void idle_table(struct doc *d, const struct rdb_run *runs, struct rdb_group *gs, int ng,
                       const struct rdb_group *sec, int show_build) {
    char c[8][64], label[200];
    int any = 0;
    for (int k = 0; k < ng; k++)
        if (rdb_same_section(&gs[k], sec) && runs[gs[k].idx[0]].ph[RDB_IDLE].present) any = 1;
    if (!any) return;
    doc_heading(d, 3, "Idle Rss before and after flush");
    doc_para(d, "Rss − LazyFree in KiB, medians. load end = the last free mark before idle; idling "
                "gave back = load end − idle; flush gave back = idle − after flush; settled = ms "
                "after the load ended until Rss stayed within 2%% (at least 256 KiB) of its idle "
                "value.");
    const char *head[] = {"allocator",        "load end",        "idle",      "after flush",
                          "idling gave back", "flush gave back", "settled ms"};
    for (int i = 0; i < 7; i++)
        snprintf(c[i], 64, "%s", head[i]);
    doc_table_begin(d);
    doc_row(d, 1, 7, c);
    for (int k = 0; k < ng; k++) {
        struct rdb_group *g = &gs[k];
        if (!rdb_same_section(g, sec)) continue;
        double v[g->n];
        double end = group_median(runs, g, get_load_end, 0);
        double idle = rdb_median(v, rdb_group_values(runs, g, RDB_IDLE, RDB_FIG_RSS_NET, v));
        double fl = rdb_median(v, rdb_group_values(runs, g, RDB_FLUSH, RDB_FIG_RSS_NET, v));
        double settle = group_median(runs, g, get_settle, 0);
        snprintf(c[0], 64, "%.63s", group_label(g, show_build, label, sizeof label));
        fmt_num(c[1], end, "%.0f");
        fmt_num(c[2], idle, "%.0f");
        fmt_num(c[3], fl, "%.0f");
        fmt_num(c[4], end - idle, "%.0f");
        fmt_num(c[5], idle - fl, "%.0f");
        if (isnan(settle) && !isnan(idle))
            snprintf(c[6], 64, "not settled");
        else
            fmt_num(c[6], settle, "%.0f");
        doc_row(d, 0, 7, c);
    }
    doc_table_end(d);
}

/* Seconds with a unit that suits them: "850 ms", "12.3 s". */
static void fmt_seconds(char *buf, double s) {
    if (isnan(s))
        snprintf(buf, 64, "—");
    else if (s < 1)
        snprintf(buf, 64, "%.0f ms", s * 1e3);
    else
        snprintf(buf, 64, "%.2f s", s);
}

/* One row per run of a group: what every run has, marks or not — Rss over the whole run, times
 * and how well it was sampled. */
static void whole_run_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    char c[12][64];
    const char *head[] = {"run",        "wall",         "CPU user + sys", "peak Rss KiB",
                          "peak at",    "peak Rss−LazyFree KiB", "final Rss KiB",
                          "final Rss−LazyFree KiB", "mean Rss KiB", "samples", "gaps (longest)"};
    int nc = 11;
    for (int i = 0; i < nc; i++)
        snprintf(c[i], 64, "%s", head[i]);
    doc_para(d, "The whole run, from every sample that measured Rss (mean over the timer samples):");
    doc_table_begin(d);
    doc_row(d, 1, nc, c);
    for (int i = 0; i < g->n; i++) {
        const struct rdb_run *r = &runs[g->idx[i]];
        const struct rdb_whole *w = &r->whole;
        snprintf(c[0], 64, "%lld", (long long)r->run_id);
        fmt_seconds(c[1], r->wall_s);
        fmt_seconds(c[2], w->user_s + w->sys_s);
        fmt_num(c[3], w->peak_kb, "%.0f");
        fmt_seconds(c[4], w->peak_t_ms / 1e3);
        fmt_num(c[5], w->peak_net_kb, "%.0f");
        fmt_num(c[6], w->final_kb, "%.0f");
        fmt_num(c[7], w->final_net_kb, "%.0f");
        fmt_num(c[8], w->mean_kb, "%.0f");
        snprintf(c[9], 64, "%lld", (long long)w->samples);
        if (w->gaps < 0)
            snprintf(c[10], 64, "—");
        else if (w->gaps == 0)
            snprintf(c[10], 64, "0");
        else
            snprintf(c[10], 64, "%lld (%.0f ms)", (long long)w->gaps, w->longest_gap_ms);
        doc_row(d, 0, nc, c);
    }
    doc_table_end(d);
}

static double get_peak(const struct rdb_run *r, int arg) {
    (void)arg;
    return r->whole.peak_kb;
}

/* Whether any run of a group has a mark the overhead analysis can use. */
static int group_has_phases(const struct rdb_run *runs, const struct rdb_group *g) {
    for (int i = 0; i < g->n; i++)
        for (int p = 0; p < RDB_NPHASES; p++)
            if (runs[g->idx[i]].ph[p].present) return 1;
    return 0;
}

/* Allocators side by side: overhead per phase and throughput. */
static void side_by_side(struct doc *d, const struct rdb_run *runs, struct rdb_group *gs, int ng,
                         const struct rdb_group *sec, int show_build) {
    char c[10][64], label[200];
    doc_heading(d, 3, "Side by side");
    doc_para(d, "Medians over the repetitions; overhead = Rss − LazyFree − live bytes (KiB); ops/s "
                "median (min – max).");
    const char *head[] = {"allocator",
                          "runs",
                          "ops/s",
                          "min – max",
                          "peak Rss KiB",
                          "baseline Rss−LazyFree KiB",
                          "heavy overhead KiB",
                          "idle overhead KiB",
                          "flush overhead KiB"};
    for (int i = 0; i < 9; i++)
        snprintf(c[i], 64, "%s", head[i]);
    doc_table_begin(d);
    doc_row(d, 1, 9, c);
    for (int k = 0; k < ng; k++) {
        struct rdb_group *g = &gs[k];
        if (!rdb_same_section(g, sec)) continue;
        double v[g->n];
        int m = rdb_group_ops(runs, g, v);
        snprintf(c[0], 64, "%.63s", group_label(g, show_build, label, sizeof label));
        snprintf(c[1], 64, "%d/%d", g->ncompleted, g->n);
        fmt_rate(c[2], rdb_median(v, m));
        char lo[64], hi[64];
        fmt_rate(lo, rdb_min(v, m));
        fmt_rate(hi, rdb_max(v, m));
        snprintf(c[3], 64, "%.24s – %.24s", lo, hi);
        fmt_num(c[4], group_median(runs, g, get_peak, 0), "%.0f");
        fmt_num(c[5], rdb_median(v, rdb_group_values(runs, g, RDB_BASELINE, RDB_FIG_RSS_NET, v)),
                "%.0f");
        for (int p = RDB_HEAVY; p < RDB_NPHASES; p++)
            fmt_num(c[6 + p - RDB_HEAVY],
                    rdb_median(v, rdb_group_values(runs, g, p, RDB_FIG_OVERHEAD, v)), "%.0f");
        doc_row(d, 0, 9, c);
    }
    doc_table_end(d);
}

/* Share of each named counter in their sum, as "name N (P%)" rows. */
static void counter_shares(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g,
                           const char *title, const char *const *names, int n) {
    char c[3][64];
    double v[32], sum = 0;
    for (int i = 0; i < n; i++) {
        v[i] = group_counter(runs, g, names[i]);
        if (!isnan(v[i])) sum += v[i];
    }
    snprintf(c[0], 64, "%s", title);
    snprintf(c[1], 64, "count");
    snprintf(c[2], 64, "share");
    doc_table_begin(d);
    doc_row(d, 1, 3, c);
    for (int i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        snprintf(c[0], 64, "%s", names[i]);
        fmt_num(c[1], v[i], "%.0f");
        if (sum > 0)
            snprintf(c[2], 64, "%.1f%%", 100 * v[i] / sum);
        else
            snprintf(c[2], 64, "—");
        doc_row(d, 0, 3, c);
    }
    doc_table_end(d);
}

/* What the reader must know before trusting a group's figures: runs whose sampling had gaps or
 * lost writes, and runs that followed several processes (their figures are totals). */
static void recording_notes(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    for (int i = 0; i < g->n; i++) {
        const struct rdb_run *r = &runs[g->idx[i]];
        if (strstr(r->note, "sampling gaps") || strstr(r->note, "database writes failed"))
            doc_para(d, "Incomplete recording, run %lld: %s.", (long long)r->run_id, r->note);
        if (r->processes <= 1) continue;
        char list[512];
        size_t off = 0;
        list[0] = '\0';
        for (int k = 0; k < r->nprocs && off < sizeof list - 64; k++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s (pid %lld) %.0f KiB",
                                    k ? ", " : "", r->procs[k].comm[0] ? r->procs[k].comm : "?", (long long)r->procs[k].pid,
                                    r->procs[k].peak_kb);
        doc_para(d,
                 "Run %lld sampled %d program images (the command, what it exec'd and its descendants): "
                 "its figures are their total. Largest Rss per process: %s.",
                 (long long)r->run_id, r->processes, list);
    }
}

/* A counter measured in bytes or a gauge of what is held: shown in KiB, never as a share. */
static int counter_is_amount(const char *name) {
    return strstr(name, "bytes") != NULL || !strncmp(name, "held_", 5);
}

/* One table per counter group of allocator/counters.def (counter_names.grp), in the order the
 * library declares them: a group of event counts shows each one's share of the group; a group
 * that holds amounts (bytes, held_*) shows values.  Counters that stayed 0 are left out. */
static void counter_digest(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    const struct rdb_run *r0 = &runs[g->idx[0]];
    if (!r0->ncounters) return;
    doc_heading(d, 4, "hakmem counters (at exit, medians, by group of counters.def)");
    for (int i = 0; i < r0->ncounters; i++) {
        const char *grp = r0->counters[i].grp;
        int first = 1;
        for (int j = 0; j < i && first; j++)
            if (!strcmp(r0->counters[j].grp, grp)) first = 0;
        if (!first) continue;
        const char *names[64];
        int n = 0, amounts = 0;
        for (int j = i; j < r0->ncounters && n < 64; j++) {
            const char *name = r0->counters[j].name;
            if (strcmp(r0->counters[j].grp, grp)) continue;
            amounts |= counter_is_amount(name);
            double v = group_counter(runs, g, name);
            if (!isnan(v) && v != 0) names[n++] = name;
        }
        const char *title = grp[0] ? grp : "other";
        if (n == 0) {
            doc_para(d, "%s: none.", title);
        } else if (!amounts) {
            counter_shares(d, runs, g, title, names, n);
        } else {
            char c[2][64];
            snprintf(c[0], 64, "%s", title);
            snprintf(c[1], 64, "at exit");
            doc_table_begin(d);
            doc_row(d, 1, 2, c);
            for (int k = 0; k < n; k++) {
                double v = group_counter(runs, g, names[k]);
                snprintf(c[0], 64, "%s", names[k]);
                if (counter_is_amount(names[k]))
                    snprintf(c[1], 64, "%.0f KiB", v / 1024);
                else
                    fmt_num(c[1], v, "%.0f");
                doc_row(d, 0, 2, c);
            }
            doc_table_end(d);
        }
    }
}

static void events_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    const struct rdb_run *r0 = &runs[g->idx[0]];
    if (!r0->nevents) return;
    char c[RDB_NINTERVALS + 1][64];
    doc_para(d, "Events per phase (counted between the marks, medians; start-up = exec to "
                "baseline, load = baseline to heavy, idle = heavy to idle, flush = idle to after "
                "flush):");
    snprintf(c[0], 64, "event");
    for (int i = 0; i < RDB_NINTERVALS; i++)
        snprintf(c[1 + i], 64, "%s", rdb_interval_names[i]);
    doc_table_begin(d);
    doc_row(d, 1, RDB_NINTERVALS + 1, c);
    for (int e = 0; e < r0->nevents; e++) {
        /* task-clock counts nanoseconds: shown in ms, like perf stat */
        int clock = !strcmp(r0->events[e].name, "task-clock");
        snprintf(c[0], 64, "%.55s%s", r0->events[e].name, clock ? " (ms)" : "");
        for (int i = 0; i < RDB_NINTERVALS; i++) {
            double v[g->n];
            int m = 0;
            for (int k = 0; k < g->n; k++) {
                if (!rdb_group_usable(runs, g, k)) continue;
                const struct rdb_run *r = &runs[g->idx[k]];
                for (int j = 0; j < r->nevents; j++)
                    if (!strcmp(r->events[j].name, r0->events[e].name))
                        v[m++] = r->events[j].interval[i];
            }
            double med = rdb_median(v, m);
            if (clock)
                fmt_num(c[1 + i], med / 1e6, "%.1f");
            else
                fmt_num(c[1 + i], med, "%.0f");
        }
        doc_row(d, 0, RDB_NINTERVALS + 1, c);
    }
    doc_table_end(d);
}

/* A chart inline as SVG (text, sharp at any size, searchable), with its caption; the SVG file lies
 * beside the PNG.  gnuplot's prologue (XML declaration, doctype) is left out: inside HTML only the
 * <svg> element belongs. */
static void embed_svg(struct doc *d, const struct chart_image *chart) {
    char path[300];
    const char *dot = strrchr(chart->path, '.');
    snprintf(path, sizeof path, "%.*s.svg",
             dot ? (int)(dot - chart->path) : (int)strlen(chart->path), chart->path);
    FILE *f = fopen(path, "r");
    if (!f) return;
    fprintf(d->out, "<figure>\n");
    char line[4096];
    int in_svg = 0;
    while (fgets(line, sizeof line, f)) {
        if (!in_svg && strstr(line, "<svg")) in_svg = 1;
        if (in_svg) fputs(line, d->out);
    }
    fclose(f);
    fprintf(d->out, "<figcaption>");
    html_escape(d->out, chart->caption);
    fprintf(d->out, "</figcaption></figure>\n");
}

/* nftw callback: removes one entry of a temporary folder (children first, with FTW_DEPTH). */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) != 0) {
        /* a file left behind in the temporary folder is harmless */
    }
    return 0;
}

/* One run as a JSON object: its row, the whole run, the phases it marked, counters and events. */
static void json_run(FILE *o, const struct rdb_run *r) {
    const struct rdb_whole *w = &r->whole;
    json_key(o, 1, "run_id"), json_num(o, (double)r->run_id);
    json_key(o, 0, "command"), json_str(o, r->command);
    json_key(o, 0, "allocator"), json_str(o, r->allocator);
    json_key(o, 0, "bench"), json_str(o, r->bench);
    json_key(o, 0, "profile"), json_str(o, r->profile);
    json_key(o, 0, "params"), json_str(o, r->params);
    json_key(o, 0, "rep"), json_num(o, r->rep);
    json_key(o, 0, "build"), json_str(o, r->build);
    json_key(o, 0, "host"), json_str(o, r->host);
    json_key(o, 0, "alloc_file"), json_str(o, r->alloc_file);
    json_key(o, 0, "alloc_package"), json_str(o, r->alloc_package);
    json_key(o, 0, "alloc_version"), json_str(o, r->alloc_version);
    json_key(o, 0, "state"), json_str(o, r->state);
    json_key(o, 0, "completed"), fputs(r->completed ? "true" : "false", o);
    json_key(o, 0, "note"), json_str(o, r->note);
    json_key(o, 0, "wall_s"), json_num(o, r->wall_s);
    json_key(o, 0, "cpu_user_s"), json_num(o, w->user_s);
    json_key(o, 0, "cpu_sys_s"), json_num(o, w->sys_s);
    json_key(o, 0, "peak_rss_kb"), json_num(o, w->peak_kb);
    json_key(o, 0, "peak_rss_net_kb"), json_num(o, w->peak_net_kb);
    json_key(o, 0, "peak_t_ms"), json_num(o, w->peak_t_ms);
    json_key(o, 0, "final_rss_kb"), json_num(o, w->final_kb);
    json_key(o, 0, "final_rss_net_kb"), json_num(o, w->final_net_kb);
    json_key(o, 0, "mean_rss_kb"), json_num(o, w->mean_kb);
    json_key(o, 0, "mean_rss_net_kb"), json_num(o, w->mean_net_kb);
    json_key(o, 0, "samples"), json_num(o, (double)w->samples);
    json_key(o, 0, "gaps"), json_num(o, w->gaps < 0 ? NAN : (double)w->gaps);
    json_key(o, 0, "longest_gap_ms"), json_num(o, w->longest_gap_ms);
    json_key(o, 0, "processes"), json_num(o, r->processes);
    json_key(o, 0, "ops_per_sec"), json_num(o, r->ops_per_sec);
    json_key(o, 0, "phases"), fputc('{', o);
    int first = 1;
    for (int p = 0; p < RDB_NPHASES; p++) {
        const struct rdb_phase_fig *f = &r->ph[p];
        if (!f->present) continue;
        json_key(o, first, rdb_phase_names[p]), fputc('{', o);
        first = 0;
        json_key(o, 1, "t_ms"), json_num(o, f->t_ms);
        json_key(o, 0, "rss_kb"), json_num(o, f->rss_kb);
        json_key(o, 0, "rss_net_kb"), json_num(o, f->rss_net_kb);
        json_key(o, 0, "live_kb"), json_num(o, f->live_kb);
        json_key(o, 0, "overhead_kb"), json_num(o, f->overhead_kb);
        fputc('}', o);
    }
    fputc('}', o);
    json_key(o, 0, "counters"), fputc('{', o);
    for (int i = 0; i < r->ncounters; i++)
        json_key(o, !i, r->counters[i].name), json_num(o, r->counters[i].value);
    fputc('}', o);
    json_key(o, 0, "events"), fputc('{', o);
    for (int i = 0; i < r->nevents; i++)
        json_key(o, !i, r->events[i].name), json_num(o, r->events[i].value);
    fputc('}', o);
}

/* hak report --json: one document, {"database": PATH, "runs": [...]} (docs/reports.md). */
static void write_json(FILE *o, struct rdb *db, const struct rdb_run *runs, int n) {
    fputc('{', o);
    json_key(o, 1, "database"), json_str(o, rdb_path(db));
    json_key(o, 0, "runs"), fputc('[', o);
    for (int i = 0; i < n; i++) {
        fputs(i ? ",\n{" : "\n{", o);
        json_run(o, &runs[i]);
        fputc('}', o);
    }
    fputs("]}\n", o);
}

static void usage(FILE *out) {
    fprintf(out, "usage: hak report RUN.DB [--run ID]... [--json] [--html OUT.html]\n"
                 "  writes the overhead analysis of the runs in RUN.DB as Markdown on stdout;\n"
                 "  --run ID     only this run (repeatable; default: every run)\n"
                 "  --json       one JSON document on stdout instead (docs/reports.md)\n"
                 "  --html FILE  also write one self-contained HTML page with the charts inline\n");
}

/* The whole report of runs[0..n) into d. */
static void write_report(struct doc *d, struct rdb *db, struct rdb_run *runs, int n,
                         const struct chart_image *charts, int ncharts) {
    struct rdb_group *gs;
    int ng = rdb_group_runs(runs, n, &gs);
    doc_heading(d, 1, "Memory report: %s", rdb_path(db));
    int states[4] = {0};
    for (int i = 0; i < n; i++) {
        if (!strcmp(runs[i].state, "completed"))
            states[0]++;
        else
            states[1]++;
    }
    doc_para(d,
             "%d runs (%d completed) on host %s. Phases: baseline = after start-up; heavy = "
             "peak during load (the burst mark with the highest Rss); idle = end of the idle "
             "window, before flush; after flush = after the allocator's own release call. "
             "Sizes in KiB; overhead = Rss − LazyFree − the benchmark's live bytes.",
             n, states[0], n ? runs[0].host : "?");
    for (int i = 0; i < n; i++) {
        const struct rdb_run *r = &runs[i];
        if (!strcmp(r->state, "completed")) continue;
        const char *why = !strcmp(r->state, "running")
                              ? "the collector was killed before the run ended"
                          : !strcmp(r->state, "interrupted") ? "the recording was interrupted"
                                                             : "the command did not succeed";
        doc_para(d, "Note: run %lld (%s, %s) is %s: %s; its figures are partial%s.",
                 (long long)r->run_id, r->allocator, r->bench, r->state, why,
                 " and are used only where no run of its allocator completed");
    }
    /* Which builds: a label shows the build when one bench/allocator has several. */
    int show_build = rdb_groups_need_build(gs, ng);

    for (int k = 0; k < ng; k++) {
        /* One section per benchmark, in order of first appearance. */
        int first = 1;
        for (int j = 0; j < k; j++)
            if (!strcmp(gs[j].bench, gs[k].bench) && !strcmp(gs[j].profile, gs[k].profile))
                first = 0;
        if (!first) continue;
        const char *bench = gs[k].bench;
        doc_heading(d, 2, "%s%s%s", bench, gs[k].profile[0] ? " — profile " : "", gs[k].profile);
        if (runs[gs[k].idx[0]].params[0]) doc_para(d, "Parameters: %s", runs[gs[k].idx[0]].params);
        side_by_side(d, runs, gs, ng, &gs[k], show_build);
        idle_table(d, runs, gs, ng, &gs[k], show_build);
        if (d->html)
            for (int c = 0; c < ncharts; c++)
                if (chart_of_section(charts[c].path, &gs[k])) embed_svg(d, &charts[c]);
        for (int j = k; j < ng; j++) {
            struct rdb_group *g = &gs[j];
            if (strcmp(g->bench, bench) || strcmp(g->profile, gs[k].profile)) continue;
            char label[200], ids[256] = "";
            size_t off = 0;
            for (int i = 0; i < g->n && off < sizeof ids - 24; i++)
                off += snprintf(ids + off, sizeof ids - off, "%s%lld", i ? ", " : "",
                                (long long)runs[g->idx[i]].run_id);
            doc_heading(d, 3, "%s: overhead by phase",
                        group_label(g, show_build, label, sizeof label));
            doc_para(d, "Runs %s (%d completed); build %s. Medians over the completed runs.", ids,
                     g->ncompleted, g->build[0] ? g->build : "unknown");
            char lib[600];
            if (rdb_library(&runs[g->idx[0]], lib, sizeof lib)[0])
                doc_para(d, "Allocator library: %s.", lib);
            recording_notes(d, runs, g);
            whole_run_table(d, runs, g);
            if (group_has_phases(runs, g))
                overhead_table(d, runs, g);
            else
                doc_para(d, "No phase marks, so no figures per phase: a program marks phases with "
                            "libhakphase, a shell script with hak mark (docs/phase-protocol.md).");
            events_table(d, runs, g);
            if (!strcmp(g->allocator, "hakmem")) counter_digest(d, runs, g);
        }
    }
    if (d->html && ncharts == 0)
        doc_para(d, "No charts: gnuplot did not produce any (is gnuplot installed?).");
    rdb_free_groups(gs, ng);
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
            fprintf(stderr, "hak report: unknown or incomplete option '%s' (hak report --help)\n",
                    argv[optind - 1]);
            return 2;
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
    struct doc md = {stdout, 0};
    if (json)
        write_json(stdout, db, runs, n);
    else
        write_report(&md, db, runs, n, NULL, 0);
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
            struct doc h = {f, 1};
            fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hak report: ");
            html_escape(f, path);
            fprintf(f,
                    "</title>\n<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
                    "table{border-collapse:collapse;margin:0.5em 0 1em}"
                    "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}"
                    "td:first-child,th:first-child{text-align:left}"
                    "svg{max-width:100%%;height:auto}figcaption{margin:0.3em 0 "
                    "1.5em}</style></head><body>\n");
            write_report(&h, db, runs, n, charts, nch);
            fprintf(f, "</body></html>\n");
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
