/*
 * hak report --json (report_json.h): every run of a database as one JSON document.
 */
#include "report_json.h"

#include <math.h>

#include "json.h"

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

void report_json_write(FILE *o, struct rdb *db, const struct rdb_run *runs, int n) {
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
