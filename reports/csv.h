/*
 * A run database as CSV files (hak export --csv): reports/csv.c.
 */
#ifndef HAK_CSV_H
#define HAK_CSV_H
#include <stddef.h>

/* Writes every table of the run database at db_path as dir/TABLE.csv (dir created if missing),
 * calling written(path) after each.  Returns the number of files, or -1 with one line in err (a
 * missing or foreign file, a newer schema, a folder that cannot be written). */
int csv_export(const char *db_path, const char *dir, int (*written)(const char *path), char *err,
               size_t errlen);

#endif
