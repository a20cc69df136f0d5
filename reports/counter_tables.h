/*
 * Report tables of a group of runs (same benchmark, allocator and build) from what they counted:
 * hakmem's counters at exit, by group of allocator/counters.def, and the perf events per phase.
 */
#ifndef HAK_COUNTER_TABLES_H
#define HAK_COUNTER_TABLES_H

#include "document.h"
#include "report_db.h"

/* One table per counter group, in the order the library declares them: a group of event counts
 * shows each one's share of the group; a group that holds amounts (bytes, held_*) shows values.
 * Counters that stayed 0 are left out; nothing for a group without counters (not hakmem). */
void counter_digest(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g);

/* The counting perf events between the marks (start-up, load, idle, flush, to exit), medians;
 * nothing when the runs counted none. */
void events_table(struct doc *d, const struct rdb_run *runs, const struct rdb_group *g);

#endif
