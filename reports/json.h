/*
 * Writing JSON for the verbs' --json output: strings escaped per RFC 8259, numbers that are not
 * finite written as null (JSON has no NaN).  Names read from a database pass through json_str.
 */
#ifndef HAK_JSON_H
#define HAK_JSON_H

#include <stdio.h>

/* s as a JSON string, quotes included; NULL as null. */
void json_str(FILE *out, const char *s);

/* v as a JSON number (%.17g keeps a double exact), null when NaN or infinite. */
void json_num(FILE *out, double v);

/* "key": before a value; first is 1 for the first member of an object (no comma). */
void json_key(FILE *out, int first, const char *key);

#endif
