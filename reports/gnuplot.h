/*
 * Driving gnuplot: finding the chart scripts, running one on data files, and making text from a run
 * database safe to hand to gnuplot.  A run database is data, never code: no name read from one
 * reaches gnuplot's parser or a shell except through gnuplot_safe_text.
 */
#ifndef HAK_GNUPLOT_H
#define HAK_GNUPLOT_H

#include <stddef.h>

/* The folder of the gnuplot scripts, as an absolute path: HAK_SCRIPTS_DIR when set, else
 * scripts/ next to the build (build/bin/hak -> ../../scripts) or where make install put them
 * (PREFIX/bin/hak -> PREFIX/share/hakmem).  0, or -1 when none is found. */
int gnuplot_scripts_dir(char *out, size_t n);

/* Runs gnuplot in folder `cwd` with -e DEFINITION for each of vars (16 at most), then the script
 * (an absolute path).  The chart files are named relative to cwd, so no user path reaches
 * gnuplot's parser.  0 on success, -1 with err set. */
enum { GNUPLOT_MAX_VARS = 16 };
int gnuplot_run(const char *script, const char *cwd, const char *const *vars, int nvars, char *err,
                size_t errlen);

/* Copies `in` keeping only A-Z a-z 0-9 and ._:+=/,()@- (and spaces where keep_spaces), each other
 * byte as '_', so no quote, backquote, newline or other gnuplot syntax survives.  Labels are
 * words (no spaces) in data files and in word() lists; titles keep their spaces. */
void gnuplot_safe_text(char *out, size_t n, const char *in, int keep_spaces);

/* A gnuplot -e definition name='value'.  Single-quoted gnuplot strings expand no backquotes, and
 * gnuplot_safe_text leaves no quote in the value, so the value stays data. */
void gnuplot_string_def(char *out, size_t n, const char *name, const char *value);

#endif
