/*
 * The run database's schema identity, defined once: its version and the tables and views a hak run
 * database has.  The writer (collectors/run_db.c) migrates to this version; the reader
 * (reports/report_db.c) refuses newer ones and recognises a run database by these names.
 * docs/schema.md describes every table.
 */
#ifndef HAK_SCHEMA_H
#define HAK_SCHEMA_H

/* 3 added processes (samples.processes, process_samples), attach and sampling-gap columns; 4 the
 * allocator library's identity (runs.alloc_file, alloc_package, alloc_version); 5 hakmem's thread
 * caches per size class (hakmem_classes). */
#define RUN_DB_SCHEMA_VERSION 5

/* The tables (and the view) every run database has since version 1, listed once: as an SQL list
 * for `name IN (...)` (its last entry '' names nothing) and how many there are. */
#define RUN_DB_CORE_TABLE_NAMES(X)                                                                 \
    X(runs) X(phases) X(samples) X(mappings) X(counters) X(events) X(results) X(phase_samples)
#define RUN_DB_SQL_NAME(table) "'" #table "',"
#define RUN_DB_COUNT_ONE(table) +1
#define RUN_DB_CORE_TABLES RUN_DB_CORE_TABLE_NAMES(RUN_DB_SQL_NAME) "''"
#define RUN_DB_CORE_TABLE_COUNT (0 RUN_DB_CORE_TABLE_NAMES(RUN_DB_COUNT_ONE))

#endif
