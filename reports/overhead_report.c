/*
 * The overhead report (overhead_report.h): per benchmark, the allocators side by side, idle and
 * flush, the charts (HTML), then per allocator and build the whole runs, the phases, events and
 * hakmem's counters.  Every figure comes from report_db.c; this file lays them out through the
 * document writer, so the Markdown and the HTML page hold the same numbers.
 */
#include "overhead_report.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "counter_tables.h"

/* A per-phase figure of one class or tier is read through one int: phase * PHASE_STRIDE + index. */
enum { PHASE_STRIDE = 16 };
_Static_assert((int)RDB_NCLASSES <= (int)PHASE_STRIDE && (int)RDB_NTIERS <= (int)PHASE_STRIDE &&
                   (int)RDB_NCACHE <= (int)PHASE_STRIDE,
               "a class index must fit below the phase stride");

static const char *group_label(const struct rdb_group *g, int show_build, char *buf, size_t n) {
    if (show_build)
        snprintf(buf, n, "%s @ %s", g->allocator, g->build[0] ? g->build : "?");
    else
        snprintf(buf, n, "%s", g->allocator);
    return buf;
}

static double get_class(const struct rdb_run *r, int arg) {
    return r->ph[arg / PHASE_STRIDE].class_kb[arg % PHASE_STRIDE];
}
static double get_held(const struct rdb_run *r, int arg) {
    return r->ph[arg / PHASE_STRIDE].held_kb[arg % PHASE_STRIDE];
}
static double get_tier_rss(const struct rdb_run *r, int arg) {
    return r->ph[arg / PHASE_STRIDE].tier_rss_kb[arg % PHASE_STRIDE];
}
static double get_cache(const struct rdb_run *r, int arg) {
    return r->ph[arg / PHASE_STRIDE].cache_kb[arg % PHASE_STRIDE];
}
/* Per size class: phase * RDB_NSIZE_CLASSES + class. */
static double get_size_cap(const struct rdb_run *r, int arg) {
    return r->ph[arg / RDB_NSIZE_CLASSES].size_cap_kb[arg % RDB_NSIZE_CLASSES];
}
static double get_size_cached(const struct rdb_run *r, int arg) {
    return r->ph[arg / RDB_NSIZE_CLASSES].size_cached_kb[arg % RDB_NSIZE_CLASSES];
}

/* hakmem's thread caches per size class and phase (medians of the group's runs): the classes
 * with the largest capacity in any phase, each cell "capacity / cached" in KiB.  Nothing when the
 * runs stored no class (schema before 5, or no snapshot at a mark). */
enum { SIZE_TABLE_ROWS = 12 };
static void size_class_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    double cap[RDB_NPHASES][RDB_NSIZE_CLASSES], held[RDB_NPHASES][RDB_NSIZE_CLASSES];
    double top[RDB_NSIZE_CLASSES];
    int used = 0;
    for (int k = 0; k < RDB_NSIZE_CLASSES; k++) {
        top[k] = NAN;
        for (int p = 0; p < RDB_NPHASES; p++) {
            cap[p][k] = rdb_group_median(runs, g, get_size_cap, p * RDB_NSIZE_CLASSES + k);
            held[p][k] = rdb_group_median(runs, g, get_size_cached, p * RDB_NSIZE_CLASSES + k);
            if (!isnan(cap[p][k]) && (isnan(top[k]) || cap[p][k] > top[k])) top[k] = cap[p][k];
        }
        used += !isnan(top[k]);
    }
    if (!used) return;
    /* The rows: the SIZE_TABLE_ROWS largest capacities, in class order. */
    int row[RDB_NSIZE_CLASSES] = {0}, nrows = 0;
    while (nrows < SIZE_TABLE_ROWS && nrows < used) {
        int best = -1;
        for (int k = 0; k < RDB_NSIZE_CLASSES; k++)
            if (!isnan(top[k]) && !row[k] && (best < 0 || top[k] > top[best])) best = k;
        row[best] = 1;
        nrows++;
    }
    doc_para(d,
             "hakmem's thread caches per size class (KiB, capacity / cached, summed over the "
             "threads; the %d of %d classes with the largest capacity, every class in table "
             "hakmem_classes):",
             nrows, used);
    char c[1 + RDB_NPHASES][DOC_CELL];
    int n = 0;
    snprintf(c[n++], DOC_CELL, "class");
    int cols[RDB_NPHASES], ncols = 0;
    for (int p = 0; p < RDB_NPHASES; p++)
        if (runs[g->idx[0]].ph[p].present) {
            cols[ncols++] = p;
            snprintf(c[n++], DOC_CELL, "%s", rdb_phase_names[p]);
        }
    doc_table_begin(d, NULL);
    doc_row(d, 1, n, c);
    const struct rdb_run *r0 = &runs[g->idx[0]];
    for (int k = 0; k < RDB_NSIZE_CLASSES; k++) {
        if (!row[k]) continue;
        n = 0;
        snprintf(c[n++], DOC_CELL, "%u: %u B", (unsigned)k, (unsigned)r0->class_size[k]);
        for (int i = 0; i < ncols; i++) {
            int p = cols[i];
            if (isnan(cap[p][k]))
                snprintf(c[n++], DOC_CELL, "-");
            else
                snprintf(c[n++], DOC_CELL, "%.0f / %.0f", cap[p][k],
                         isnan(held[p][k]) ? 0.0 : held[p][k]);
        }
        doc_row(d, 0, n, c);
    }
    doc_table_end(d);
}

/* A table of one per-tier (or per-cache) figure of hakmem at each phase (medians of the group's
 * runs), n columns headed by heads; nothing when no phase has it. */
enum { PHASE_TABLE_MAX = 8 };
static void phase_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g,
                        double (*get)(const struct rdb_run *, int), const char *const *heads,
                        int n, const char *title) {
    assert(n <= PHASE_TABLE_MAX);
    char c[1 + PHASE_TABLE_MAX][DOC_CELL];
    double v[RDB_NPHASES][PHASE_TABLE_MAX];
    int any = 0;
    for (int p = 0; p < RDB_NPHASES; p++)
        for (int t = 0; t < n; t++) {
            v[p][t] = rdb_group_median(runs, g, get, p * PHASE_STRIDE + t);
            if (!isnan(v[p][t])) any = 1;
        }
    if (!any) return;
    doc_para(d, "%s", title);
    snprintf(c[0], DOC_CELL, "phase");
    for (int t = 0; t < n; t++)
        snprintf(c[1 + t], DOC_CELL, "%s", heads[t]);
    doc_table_begin(d, NULL);
    doc_row(d, 1, 1 + n, c);
    for (int p = 0; p < RDB_NPHASES; p++) {
        if (!runs[g->idx[0]].ph[p].present) continue;
        snprintf(c[0], DOC_CELL, "%s", rdb_phase_names[p]);
        for (int t = 0; t < n; t++)
            fmt_num(c[1 + t], v[p][t], "%.0f");
        doc_row(d, 0, 1 + n, c);
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
/* The overhead table of one group: the four phases, medians over its usable runs. */
static void overhead_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    /* Wide enough for the six columns of the phases and the classes' phase + one per class. */
    _Static_assert(1 + RDB_NCLASSES >= 6, "the overhead table has six columns");
    char c[1 + RDB_NCLASSES][DOC_CELL];
    int hak = !strcmp(g->allocator, "hakmem");
    const char *head[] = {"phase",    "Rss KiB",      "Rss−LazyFree KiB",
                          "live KiB", "overhead KiB", "overhead/live"};
    int nc = 6;
    for (int i = 0; i < nc; i++)
        snprintf(c[i], DOC_CELL, "%s", head[i]);
    doc_table_begin(d, NULL);
    doc_row(d, 1, nc, c);
    for (int p = 0; p < RDB_NPHASES; p++) {
        double v[g->n];
        snprintf(c[0], DOC_CELL, "%s", rdb_phase_names[p]);
        enum rdb_figure figs[] = {RDB_FIG_RSS, RDB_FIG_RSS_NET, RDB_FIG_LIVE, RDB_FIG_OVERHEAD};
        double med[4];
        for (int f = 0; f < 4; f++) {
            int m = rdb_group_values(runs, g, p, figs[f], v);
            med[f] = rdb_median(v, m);
            fmt_num(c[1 + f], med[f], "%.0f");
        }
        if (isnan(med[0])) {
            snprintf(c[1], DOC_CELL, "not in this benchmark");
            for (int f = 2; f < nc; f++)
                snprintf(c[f], DOC_CELL, "—");
        } else if (!isnan(med[3]) && med[2] > 0)
            snprintf(c[5], DOC_CELL, "%.2f", med[3] / med[2]);
        else
            snprintf(c[5], DOC_CELL, "—");
        doc_row(d, 0, nc, c);
    }
    doc_table_end(d);

    /* Breakdown: the classes that hold anything at any phase. */
    int used[RDB_NCLASSES] = {0};
    double cls[RDB_NPHASES][RDB_NCLASSES];
    for (int p = 0; p < RDB_NPHASES; p++)
        for (int k = 0; k < RDB_NCLASSES; k++) {
            cls[p][k] = rdb_group_median(runs, g, get_class, p * PHASE_STRIDE + k);
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
        snprintf(c[n++], DOC_CELL, "phase");
        for (int k = 0; k < RDB_NCLASSES; k++)
            if (used[k]) snprintf(c[n++], DOC_CELL, "%s", rdb_class_names[k]);
        doc_table_begin(d, NULL);
        doc_row(d, 1, n, c);
        for (int p = 0; p < RDB_NPHASES; p++) {
            if (isnan(cls[p][HAK_MAP_TINY]) && isnan(cls[p][HAK_MAP_HEAP]) &&
                isnan(cls[p][HAK_MAP_ANON]))
                continue;
            n = 0;
            snprintf(c[n++], DOC_CELL, "%s", rdb_phase_names[p]);
            for (int k = 0; k < RDB_NCLASSES; k++)
                if (used[k]) fmt_num(c[n++], cls[p][k], "%.0f");
            doc_row(d, 0, n, c);
        }
        doc_table_end(d);
    }
    if (hak) {
        phase_table(d, runs, g, get_tier_rss, rdb_class_names, RDB_NTIERS,
                    "What each hakmem tier holds resident, per phase (KiB, counted page by page "
                    "in /proc/PID/pagemap over the regions hakmem publishes):");
        phase_table(d, runs, g, get_held, rdb_class_names, RDB_NTIERS,
                    "Memory each hakmem tier has mapped (held_* counters, KiB), per phase:");
        phase_table(d, runs, g, get_cache, rdb_cache_labels, RDB_NCACHE,
                    "hakmem's thread caches per phase (KiB): the adaptive capacity of every "
                    "thread's caches, free slabs kept for reuse, and free pages given back inside "
                    "slabs still in use so far (tcache_cap, *_cached and *_pages_purged counters):");
        size_class_table(d, runs, g);
    }
}

/* Idle Rss before and after flush, side by side for every group of a benchmark. */
static void idle_table(struct doc *d, const struct rdb_run *runs, struct rdb_group *gs, int ng,
                       const struct rdb_group *sec, int show_build) {
    char c[8][DOC_CELL], label[200];
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
        snprintf(c[i], DOC_CELL, "%s", head[i]);
    doc_table_begin(d, NULL);
    doc_row(d, 1, 7, c);
    for (int k = 0; k < ng; k++) {
        struct rdb_group *g = &gs[k];
        if (!rdb_same_section(g, sec)) continue;
        double v[g->n];
        double end = rdb_group_median(runs, g, get_load_end, 0);
        double idle = rdb_median(v, rdb_group_values(runs, g, RDB_IDLE, RDB_FIG_RSS_NET, v));
        double fl = rdb_median(v, rdb_group_values(runs, g, RDB_FLUSH, RDB_FIG_RSS_NET, v));
        double settle = rdb_group_median(runs, g, get_settle, 0);
        snprintf(c[0], DOC_CELL, "%.63s", group_label(g, show_build, label, sizeof label));
        fmt_num(c[1], end, "%.0f");
        fmt_num(c[2], idle, "%.0f");
        fmt_num(c[3], fl, "%.0f");
        fmt_num(c[4], end - idle, "%.0f");
        fmt_num(c[5], idle - fl, "%.0f");
        if (isnan(settle) && !isnan(idle))
            snprintf(c[6], DOC_CELL, "not settled");
        else
            fmt_num(c[6], settle, "%.0f");
        doc_row(d, 0, 7, c);
    }
    doc_table_end(d);
}

/* One row per run of a group: what every run has, marks or not — Rss over the whole run, times
 * and how well it was sampled. */
static void whole_run_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    char c[12][DOC_CELL];
    const char *head[] = {"run",
                          "wall",
                          "CPU user + sys",
                          "peak Rss KiB",
                          "peak at",
                          "peak Rss−LazyFree KiB",
                          "final Rss KiB",
                          "final Rss−LazyFree KiB",
                          "mean Rss KiB",
                          "samples",
                          "gaps (longest)"};
    int nc = 11;
    for (int i = 0; i < nc; i++)
        snprintf(c[i], DOC_CELL, "%s", head[i]);
    doc_para(d,
             "The whole run, from every sample that measured Rss (mean over the timer samples):");
    doc_table_begin(d, NULL);
    doc_row(d, 1, nc, c);
    for (int i = 0; i < g->n; i++) {
        const struct rdb_run *r = &runs[g->idx[i]];
        const struct rdb_whole *w = &r->whole;
        snprintf(c[0], DOC_CELL, "%lld", (long long)r->run_id);
        fmt_seconds(c[1], r->wall_s);
        fmt_seconds(c[2], w->user_s + w->sys_s);
        fmt_num(c[3], w->peak_kb, "%.0f");
        fmt_seconds(c[4], w->peak_t_ms / 1e3);
        fmt_num(c[5], w->peak_net_kb, "%.0f");
        fmt_num(c[6], w->final_kb, "%.0f");
        fmt_num(c[7], w->final_net_kb, "%.0f");
        fmt_num(c[8], w->mean_kb, "%.0f");
        snprintf(c[9], DOC_CELL, "%lld", (long long)w->samples);
        if (w->gaps < 0)
            snprintf(c[10], DOC_CELL, "—");
        else if (w->gaps == 0)
            snprintf(c[10], DOC_CELL, "0");
        else
            snprintf(c[10], DOC_CELL, "%lld (%.0f ms)", (long long)w->gaps, w->longest_gap_ms);
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
    char c[10][DOC_CELL], label[200];
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
        snprintf(c[i], DOC_CELL, "%s", head[i]);
    doc_table_begin(d, NULL);
    doc_row(d, 1, 9, c);
    for (int k = 0; k < ng; k++) {
        struct rdb_group *g = &gs[k];
        if (!rdb_same_section(g, sec)) continue;
        double v[g->n];
        int m = rdb_group_ops(runs, g, v);
        snprintf(c[0], DOC_CELL, "%.63s", group_label(g, show_build, label, sizeof label));
        snprintf(c[1], DOC_CELL, "%d/%d", g->ncompleted, g->n);
        fmt_rate(c[2], rdb_median(v, m));
        char lo[DOC_CELL], hi[DOC_CELL];
        fmt_rate(lo, rdb_min(v, m));
        fmt_rate(hi, rdb_max(v, m));
        snprintf(c[3], DOC_CELL, "%.24s – %.24s", lo, hi);
        fmt_num(c[4], rdb_group_median(runs, g, get_peak, 0), "%.0f");
        fmt_num(c[5], rdb_median(v, rdb_group_values(runs, g, RDB_BASELINE, RDB_FIG_RSS_NET, v)),
                "%.0f");
        for (int p = RDB_HEAVY; p < RDB_NPHASES; p++)
            fmt_num(c[6 + p - RDB_HEAVY],
                    rdb_median(v, rdb_group_values(runs, g, p, RDB_FIG_OVERHEAD, v)), "%.0f");
        doc_row(d, 0, 9, c);
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
                                    k ? ", " : "", r->procs[k].comm[0] ? r->procs[k].comm : "?",
                                    (long long)r->procs[k].pid, r->procs[k].peak_kb);
        doc_para(
            d,
            "Run %lld sampled %d program images (the command, what it exec'd and its descendants): "
            "its figures are their total. Largest Rss per process: %s.",
            (long long)r->run_id, r->processes, list);
    }
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
    doc_html_escape(d->out, chart->caption);
    fprintf(d->out, "</figcaption></figure>\n");
}

void report_write(struct doc *d, struct rdb *db, struct rdb_run *runs, int n,
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
            if (rdb_same_section(&gs[j], &gs[k])) first = 0;
        if (!first) continue;
        const char *bench = gs[k].bench;
        char part[32] = "";
        if (gs[k].variant > 0) snprintf(part, sizeof part, ", part %d", gs[k].variant + 1);
        doc_heading(d, 2, "%s%s%s%s", bench, gs[k].profile[0] ? " — profile " : "", gs[k].profile,
                    part);
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
