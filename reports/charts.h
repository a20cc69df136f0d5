/*
 * The charts of a run database, drawn by gnuplot: six kinds per section (benchmark and profile),
 * each as PNG and SVG.  hak plot writes them into a folder; hak report --html draws them into a
 * temporary one and puts the SVGs inline with their captions.
 */
#ifndef HAK_CHARTS_H
#define HAK_CHARTS_H

#include <stddef.h>

#include "report_db.h"

/* A chart written by charts_draw: its PNG (the SVG lies beside it) and what it shows. */
struct chart_image {
    char path[256];
    char caption[512];
};

/* Draws the charts of a set of runs with gnuplot into dir (PNG and SVG), up to maxc of them into
 * charts.  Returns how many charts were written, or -1 with err set. */
int charts_draw(struct rdb *db, const struct rdb_run *runs, int n, const char *dir,
                struct chart_image *charts, int maxc, char *err, size_t errlen);

/* Whether a chart file (PREFIX-SECTION.png) belongs to the section of group g. */
int chart_of_section(const char *path, const struct rdb_group *g);

#endif
