/*
 * What every chart shares (chart.h): its files, the labels and colours of its allocators, and the
 * call that has gnuplot draw it.
 */
#include "chart.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gnuplot.h"

FILE *chart_open_file(const char *dir, const char *name, char *err, size_t errlen) {
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return f;
}

FILE *chart_open_data(struct chart_files *c, const struct chart_section *s, const char *script,
                      const char *base, char *err, size_t errlen) {
    rdb_section_name(s->sec, c->secname, sizeof c->secname);
    c->dir = s->dir;
    snprintf(c->data, sizeof c->data, "%s.dat", base);
    snprintf(c->phases, sizeof c->phases, "%s.phases", base);
    snprintf(c->out, sizeof c->out, "%s", base);
    snprintf(c->script, sizeof c->script, "%s/%s", s->sdir, script);
    return chart_open_file(s->dir, c->data, err, errlen);
}

int chart_draw(const struct chart_files *c, const char *title, const char *const *extra, int nextra,
               char *err, size_t errlen) {
    char v[3][2100];
    gnuplot_string_def(v[0], sizeof v[0], "data", c->data);
    gnuplot_string_def(v[1], sizeof v[1], "title", title);
    gnuplot_string_def(v[2], sizeof v[2], "out", c->out);
    const char *vars[GNUPLOT_MAX_VARS] = {v[0], v[1], v[2]};
    int n = 3;
    for (int i = 0; i < nextra && n < GNUPLOT_MAX_VARS; i++)
        vars[n++] = extra[i];
    return gnuplot_run(c->script, c->dir, vars, n, err, errlen);
}

int chart_draw_named(const struct chart_files *c, const char *title, const char *names, int n,
                     char *err, size_t errlen) {
    char v[2][2100];
    gnuplot_string_def(v[0], sizeof v[0], "names", names);
    snprintf(v[1], sizeof v[1], "n=%d", n);
    const char *extra[2] = {v[0], v[1]};
    return chart_draw(c, title, extra, 2, err, errlen);
}

void chart_add_word(char *list, size_t n, size_t *used, const char *word) {
    if (*used < n)
        *used += (size_t)snprintf(list + *used, n - *used, "%s%s", *used ? " " : "", word);
}

const char *chart_label(const struct rdb_group *g, int show_build, char *buf, size_t n) {
    char raw[200];
    if (show_build)
        snprintf(raw, sizeof raw, "%.150s@%.12s", g->allocator, g->build);
    else
        snprintf(raw, sizeof raw, "%s", g->allocator);
    gnuplot_safe_text(buf, n, raw, 0);
    return buf;
}

unsigned chart_group_rgb(int order) {
    static const unsigned palette[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7,
                                       0x000000, 0x8C564B, 0x56B4E9, 0x7F7F7F};
    return palette[order % (int)(sizeof palette / sizeof palette[0])];
}

const struct rdb_run *chart_first_usable(const struct rdb_run *runs, const struct rdb_group *g) {
    for (int i = 0; i < g->n; i++)
        if (rdb_group_usable(runs, g, i)) return &runs[g->idx[i]];
    return &runs[g->idx[0]];
}
