/*
 * Which allocator library a run measured, exactly: its file and, for a library a Debian package
 * ships, the package and its version (dpkg-query, run without a shell).  Recorded with every run
 * (runs.alloc_file, alloc_package, alloc_version) so that a figure names the build it came from.
 */
#ifndef HAK_PEER_IDENTITY_H
#define HAK_PEER_IDENTITY_H

#include <stddef.h>

struct hak_peer_identity {
    char file[4096];   /* the library's real path; empty when unknown */
    char package[128]; /* "libmimalloc2.0:amd64"; empty when no package owns the file */
    char version[128]; /* the package's version; empty when unknown */
};

/* Identifies the library at `lib` (a path that may be a symlink), or glibc's libc when lib is NULL
 * or empty and `allocator` is "glibc".  Unknown parts stay empty; never fails. */
void hak_peer_identify(const char *allocator, const char *lib, struct hak_peer_identity *out);

#endif
