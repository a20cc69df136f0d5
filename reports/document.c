/*
 * The document writer of the reports (document.h): Markdown or HTML from the same calls.
 */
#include "document.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void doc_html_escape(FILE *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

void doc_heading(struct doc *d, int level, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (d->html) {
        fprintf(d->out, "<h%d>", level);
        doc_html_escape(d->out, buf);
        fprintf(d->out, "</h%d>\n", level);
    } else {
        for (int i = 0; i < level; i++)
            fputc('#', d->out);
        fprintf(d->out, " %s\n\n", buf);
    }
}

void doc_para(struct doc *d, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (d->html) {
        fputs("<p>", d->out);
        doc_html_escape(d->out, buf);
        fputs("</p>\n", d->out);
    } else {
        fprintf(d->out, "%s\n\n", buf);
    }
}

void doc_row_text(struct doc *d, int header, int ncols, const char *const *cells) {
    if (d->html) {
        fputs("<tr>", d->out);
        for (int i = 0; i < ncols; i++) {
            fputs(header ? "<th>" : "<td>", d->out);
            doc_html_escape(d->out, cells[i]);
            fputs(header ? "</th>" : "</td>", d->out);
        }
        fputs("</tr>\n", d->out);
        return;
    }
    fputc('|', d->out);
    for (int i = 0; i < ncols; i++)
        fprintf(d->out, " %s |", cells[i]);
    fputc('\n', d->out);
    if (header) {
        fputc('|', d->out);
        for (int i = 0; i < ncols; i++) {
            int left = d->align && i < (int)strlen(d->align) ? d->align[i] == 'l' : i == 0;
            fputs(left ? "---|" : "---:|", d->out);
        }
        fputc('\n', d->out);
    }
}

void doc_row(struct doc *d, int header, int ncols, char cells[][DOC_CELL]) {
    const char *text[ncols > 0 ? ncols : 1];
    for (int i = 0; i < ncols; i++)
        text[i] = cells[i];
    doc_row_text(d, header, ncols, text);
}

void doc_table_begin(struct doc *d, const char *align) {
    assert(!align || strspn(align, "lr") == strlen(align));
    d->align = align;
    if (d->html) fputs("<table>\n", d->out);
}

void doc_table_end(struct doc *d) {
    fputs(d->html ? "</table>\n" : "\n", d->out);
}

void fmt_num(char *cell, double v, const char *fmt) {
    if (isnan(v))
        snprintf(cell, DOC_CELL, "—");
    else
        snprintf(cell, DOC_CELL, fmt, v);
}

void fmt_rate(char *cell, double v) {
    if (isnan(v))
        snprintf(cell, DOC_CELL, "—");
    else if (v >= 1e6)
        snprintf(cell, DOC_CELL, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(cell, DOC_CELL, "%.1fk", v / 1e3);
    else
        snprintf(cell, DOC_CELL, "%.0f", v);
}

void fmt_seconds(char *cell, double s) {
    if (isnan(s))
        snprintf(cell, DOC_CELL, "—");
    else if (s < 1)
        snprintf(cell, DOC_CELL, "%.0f ms", s * 1e3);
    else
        snprintf(cell, DOC_CELL, "%.2f s", s);
}

void doc_html_begin(FILE *out, const char *title) {
    fprintf(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    doc_html_escape(out, title);
    fprintf(out, "</title>\n<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
                 "table{border-collapse:collapse;margin:0.5em 0 1em}"
                 "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}"
                 "td:first-child,th:first-child{text-align:left}"
                 "svg{max-width:100%%;height:auto}figcaption{margin:0.3em 0 "
                 "1.5em}</style></head><body>\n");
}

void doc_html_end(FILE *out) {
    fprintf(out, "</body></html>\n");
}
