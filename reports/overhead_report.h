/*
 * The overhead report of a set of runs (hak report): Markdown, or HTML with the charts inline,
 * written through the document writer.
 */
#ifndef HAK_OVERHEAD_REPORT_H
#define HAK_OVERHEAD_REPORT_H

#include "charts.h"
#include "document.h"
#include "report_db.h"

/* The whole report of runs[0..n) of db into d; with HTML, the charts (charts_draw) of each section
 * go inline after its tables. */
void report_write(struct doc *d, struct rdb *db, struct rdb_run *runs, int n,
                  const struct chart_image *charts, int ncharts);

#endif
