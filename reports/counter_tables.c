/*
 * hakmem's counters and the perf events of a group of runs as report tables (counter_tables.h).
 */
#include "counter_tables.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A counter's median at exit over a group's usable runs; NAN when no run has it. */
static double group_counter(const struct rdb_run *runs, const struct rdb_group *g,
                            const char *name) {
    double v[g->n];
    int m = 0;
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i)) v[m++] = rdb_counter(&runs[g->idx[i]], name);
    return rdb_median(v, m);
}

/* Share of each named counter in their sum, as "name N (P%)" rows. */
static void counter_shares(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g,
                           const char *title, const char *const *names, int n) {
    char c[3][DOC_CELL];
    double v[n > 0 ? n : 1], sum = 0;
    for (int i = 0; i < n; i++) {
        v[i] = group_counter(runs, g, names[i]);
        if (!isnan(v[i])) sum += v[i];
    }
    snprintf(c[0], DOC_CELL, "%s", title);
    snprintf(c[1], DOC_CELL, "count");
    snprintf(c[2], DOC_CELL, "share");
    doc_table_begin(d, NULL);
    doc_row(d, 1, 3, c);
    for (int i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        snprintf(c[0], DOC_CELL, "%s", names[i]);
        fmt_num(c[1], v[i], "%.0f");
        if (sum > 0)
            snprintf(c[2], DOC_CELL, "%.1f%%", 100 * v[i] / sum);
        else
            snprintf(c[2], DOC_CELL, "—");
        doc_row(d, 0, 3, c);
    }
    doc_table_end(d);
}

/* A counter measured in bytes or a gauge of what is held: shown in KiB, never as a share. */
static int counter_is_amount(const char *name) {
    return strstr(name, "bytes") != NULL || !strncmp(name, "held_", 5);
}

/* One table per counter group of allocator/counters.def (counter_names.grp), in the order the
 * library declares them: a group of event counts shows each one's share of the group; a group
 * that holds amounts (bytes, held_*) shows values.  Counters that stayed 0 are left out. */
void counter_digest(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
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
            char c[2][DOC_CELL];
            snprintf(c[0], DOC_CELL, "%s", title);
            snprintf(c[1], DOC_CELL, "at exit");
            doc_table_begin(d, NULL);
            doc_row(d, 1, 2, c);
            for (int k = 0; k < n; k++) {
                double v = group_counter(runs, g, names[k]);
                snprintf(c[0], DOC_CELL, "%s", names[k]);
                if (counter_is_amount(names[k]))
                    snprintf(c[1], DOC_CELL, "%.0f KiB", v / 1024);
                else
                    fmt_num(c[1], v, "%.0f");
                doc_row(d, 0, 2, c);
            }
            doc_table_end(d);
        }
    }
}

void events_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g) {
    const struct rdb_run *r0 = &runs[g->idx[0]];
    if (!r0->nevents) return;
    char c[RDB_NINTERVALS + 1][DOC_CELL];
    doc_para(d, "Events per phase (counted between the marks, medians; start-up = exec to "
                "baseline, load = baseline to heavy, idle = heavy to idle, flush = idle to after "
                "flush):");
    snprintf(c[0], DOC_CELL, "event");
    for (int i = 0; i < RDB_NINTERVALS; i++)
        snprintf(c[1 + i], DOC_CELL, "%s", rdb_interval_names[i]);
    doc_table_begin(d, NULL);
    doc_row(d, 1, RDB_NINTERVALS + 1, c);
    for (int e = 0; e < r0->nevents; e++) {
        /* task-clock counts nanoseconds: shown in ms, like perf stat */
        int clock = !strcmp(r0->events[e].name, "task-clock");
        snprintf(c[0], DOC_CELL, "%.55s%s", r0->events[e].name, clock ? " (ms)" : "");
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
