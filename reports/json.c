/*
 * JSON text for --json: see json.h.
 */
#include "json.h"

#include <math.h>

void json_str(FILE *out, const char *s) {
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            /* Other control characters have no short escape; bytes >= 0x80 pass (UTF-8). */
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void json_num(FILE *out, double v) {
    if (!isfinite(v))
        fputs("null", out);
    else if (v == (double)(long long)v && fabs(v) < 1e15)
        fprintf(out, "%lld", (long long)v);
    else
        fprintf(out, "%.17g", v);
}

void json_key(FILE *out, int first, const char *key) {
    if (!first) fputc(',', out);
    json_str(out, key);
    fputc(':', out);
}
