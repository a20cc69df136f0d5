/*
 * hak report --json: the runs of a database as one JSON document, {"database": PATH, "runs":
 * [...]}, each run with its row, the whole run, the phases it marked, counters and events
 * (docs/reports.md, "JSON").
 */
#ifndef HAK_REPORT_JSON_H
#define HAK_REPORT_JSON_H

#include <stdio.h>

#include "report_db.h"

void report_json_write(FILE *o, struct rdb *db, const struct rdb_run *runs, int n);

#endif
