/*
 * One writer for the reports' documents, as Markdown or as HTML: headings, paragraphs and tables
 * of plain-text cells.  A report written through it says the same in both forms; the HTML page
 * around it (head, style) is doc_html_begin / doc_html_end.  Numbers are formatted here too, with
 * "—" for what was not measured.
 */
#ifndef HAK_DOCUMENT_H
#define HAK_DOCUMENT_H

#include <stdio.h>

struct doc {
    FILE *out;
    int html;
    const char *align; /* of the table being written: see doc_table_begin */
};

/* The size of one table cell, its terminating 0 included. */
enum { DOC_CELL = 64 };

void doc_heading(struct doc *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void doc_para(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A table: doc_table_begin, a header row (header = 1), rows of ncols cells, doc_table_end.  align
 * says per column whether Markdown aligns it left ('l', text) or right ('r', numbers); NULL or a
 * column past its end: the first column left, the others right. */
void doc_table_begin(struct doc *d, const char *align);
void doc_row(struct doc *d, int header, int ncols, char cells[][DOC_CELL]);
/* The same for cells of any length. */
void doc_row_text(struct doc *d, int header, int ncols, const char *const *cells);
void doc_table_end(struct doc *d);

/* Writes s with <, >, & and " escaped for HTML. */
void doc_html_escape(FILE *out, const char *s);
/* The page around an HTML document: head with `title` and the style, then the body; its end. */
void doc_html_begin(FILE *out, const char *title);
void doc_html_end(FILE *out);

/* Numbers into a cell: printf format `fmt`; a rate as 1.23M / 4.5k / 678; seconds as "850 ms" or
 * "12.30 s".  Each writes "—" for NAN (not measured). */
void fmt_num(char *cell, double v, const char *fmt);
void fmt_rate(char *cell, double v);
void fmt_seconds(char *cell, double s);

#endif
