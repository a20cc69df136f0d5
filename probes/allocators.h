/*
 * The allocators the toolkit measures, in one table: short name, the library to LD_PRELOAD, the
 * Debian package that ships it.  `hak bench --alloc` and `hak record --alloc` both resolve names
 * here, so every verb agrees on what "jemalloc" means.
 *
 * Library lookup, first hit wins:
 *   1. HAK_LIB_<NAME> (e.g. HAK_LIB_MIMALLOC, HAK_LIBHAKMEM for hakmem): an explicit path;
 *   2. hakmem: <dir of the running hak binary>/../lib/libhakmem.so (installed) or
 *      <dir of the running hak binary>/../libhakmem.so, i.e. build/libhakmem.so;
 *      peers: the soname in the usual library directories (Debian multiarch first), or in the
 *      colon-separated directories of HAK_LIB_DIRS when that is set.
 * glibc needs no library: it is what runs when nothing is preloaded.
 *
 * A list may also name a library of the user's own as NAME=PATH ("base=/tmp/old/libhakmem.so"):
 * it is measured like the peers, under NAME, so two builds of hakmem run side by side.
 */
#ifndef HAK_ALLOCATORS_H
#define HAK_ALLOCATORS_H

#include <stddef.h>

struct hak_allocator {
    const char *name;     /* short name used on command lines: "jemalloc"                   */
    const char *soname;   /* library file to preload; NULL for glibc                         */
    const char *env_path; /* environment variable that overrides the library path            */
    const char *package;  /* Debian package that ships the library; NULL if built here/none  */
    const char *flush;    /* the allocator's own release call, as the battle test invokes it */
    const char *path;     /* NAME=PATH entries: the library, an absolute path; NULL otherwise */
};

#define HAK_ALLOC_PATH_MAX 4096
#define HAK_ALLOC_MAX 16 /* most allocators one --alloc list may name */

/* Number of known allocators and the i-th one, in table order (hakmem first). */
size_t hak_allocator_count(void);
const struct hak_allocator *hak_allocator_at(size_t i);

/* The allocator with this short name, or NULL. */
const struct hak_allocator *hak_allocator_find(const char *name);

/* One entry of an --alloc list: a known name, or NAME=PATH for a library of the user's own (NAME
 * of 1 to 15 letters, digits, '-' or '_', not a known allocator's; PATH a readable file, kept as
 * an absolute path).  NULL with one sentence in err when the entry is bad. */
const struct hak_allocator *hak_allocator_lookup(const char *entry, char *err, size_t err_len);

/* Whether a benchmark that reports running on `reported` (its result line's alloc= field) ran on
 * allocator a: a known allocator reports its own name; a NAME=PATH library any allocator but
 * glibc (what runs when a preload did not take). */
int hak_allocator_ran(const struct hak_allocator *a, const char *reported);

/* "hakmem, glibc, mimalloc, jemalloc, tcmalloc" into buf (for error messages). */
const char *hak_allocator_names(char *buf, size_t len);

/* Finds the library to preload.  Returns 0 and writes the path into `path` (an empty string for
 * glibc), or -1 and writes into `why` one sentence naming what is missing and how to get it. */
int hak_allocator_resolve(const struct hak_allocator *a, char *path, size_t path_len, char *why,
                          size_t why_len);

/* Parses a comma-separated list ("hakmem,glibc", entries as hak_allocator_lookup takes them) or
 * "all".  Unknown names and duplicates are
 * errors (-1, message in err); "all" expands to every allocator whose library resolves, and
 * `skipped` (may be NULL) receives the missing ones' messages, one per line.  Returns the number of
 * allocators written to out. */
int hak_allocator_parse_list(const char *list, const struct hak_allocator **out, size_t max,
                             char *err, size_t err_len, char *skipped, size_t skipped_len);

/* Directory holding the running executable (from /proc/self/exe), without a trailing slash.
 * Returns 0 or -1. */
int hak_exe_dir(char *buf, size_t len);

#endif
