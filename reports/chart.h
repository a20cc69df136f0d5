/*
 * One chart of a section (a benchmark under one profile) of a run database: the data files it is
 * drawn from, the labels and colours of its allocators, and the gnuplot script that draws it as
 * PNG and SVG.  Each kind of chart is a function taking the section (struct chart_section) and
 * the base name of its files; charts.c lists the kinds.
 */
#ifndef HAK_CHART_H
#define HAK_CHART_H

#include <limits.h>
#include <stdio.h>

#include "report_db.h"

/* What every chart of a section draws from, and where. */
struct chart_section {
    struct rdb *db;
    const struct rdb_run *runs;
    struct rdb_group *gs; /* every group of the database; those of `sec`'s section are drawn */
    int ng;
    const struct rdb_group *sec;
    int show_build;   /* labels name the build (rdb_groups_need_build) */
    const char *sdir; /* the gnuplot scripts (gnuplot_scripts_dir) */
    const char *dir;  /* where the chart files go */
};

/* The files of one chart: data (and, for Rss, phases) written in dir, the image base name `out`,
 * the gnuplot script that draws it; and the name of its section, for the title. */
struct chart_files {
    char secname[160];
    const char *dir;
    char data[300], phases[300], out[300], script[PATH_MAX + 64];
};

/* A kind of chart: writes its data and draws it.  0 drawn, 1 nothing to draw, -1 with err set. */
typedef int chart_fn(const struct chart_section *s, const char *base, char *err, size_t errlen);
chart_fn chart_rss, chart_throughput, chart_tradeoff, chart_overhead, chart_release, chart_tiers,
    chart_caches, chart_classes;

/* Opens dir/name for writing; NULL with err set when it cannot. */
FILE *chart_open_file(const char *dir, const char *name, char *err, size_t errlen);

/* Names the files of chart `base` of a section, drawn by script (a file of s->sdir), and opens its
 * data file for writing; NULL with err set when it cannot. */
FILE *chart_open_data(struct chart_files *c, const struct chart_section *s, const char *script,
                      const char *base, char *err, size_t errlen);

/* Runs a chart's script with data, title and out defined, then the `nextra` definitions in
 * `extra` (GNUPLOT_MAX_VARS in all). */
int chart_draw(const struct chart_files *c, const char *title, const char *const *extra, int nextra,
               char *err, size_t errlen);

/* Draws a chart of n lines or points, named in the key by `names` (one word each). */
int chart_draw_named(const struct chart_files *c, const char *title, const char *names, int n,
                     char *err, size_t errlen);

/* Appends word to a space-separated list of names for gnuplot's word(); past the buffer's end the
 * remaining lines go unnamed, never overrun it. */
void chart_add_word(char *list, size_t n, size_t *used, const char *word);

/* The label of a group on a chart: its allocator (and build), as one word of safe characters. */
const char *chart_label(const struct rdb_group *g, int show_build, char *buf, size_t n);

/* The colour of the `order`th allocator of a section: readable on white, never yellow, the same
 * on every chart of the section.  Passed to gnuplot as numbers in the data files. */
unsigned chart_group_rgb(int order);

/* The first usable run of a group (its first run when none is usable). */
const struct rdb_run *chart_first_usable(const struct rdb_run *runs, const struct rdb_group *g);

#endif
