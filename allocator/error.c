/*
 * Fatal errors: a bad pointer handed to free, realloc or
 * malloc_usable_size ends the process with one line naming the call and the
 * pointer, as glibc does, before memory can be corrupted.  Nothing here
 * allocates.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"

void hak_write_stderr(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* Writes `v` in `base` (10 or 16) into `out` (24 bytes) and returns it. */
char *hak_fmt_u64(char *out, uint64_t v, int base)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    int i = 0;
    while (n) out[i++] = tmp[--n];
    out[i] = 0;
    return out;
}

void hak_fatal_pointer(const char *fn, const char *what, const void *p)
{
    char hex[24], line[160];
    strcpy(line, "hakmem: ");
    strcat(line, fn);
    strcat(line, "(): ");
    strcat(line, what);
    strcat(line, " 0x");
    strcat(line, hak_fmt_u64(hex, (uintptr_t)p, 16));
    strcat(line, "\n");
    hak_write_stderr(line);
    hak_counters_mark_exited(); /* readers see the segment as ended, not live */
    abort();
}
