/*
 * A private directory under /tmp for the files a wrapped run writes (hak bench --icount's counter
 * files, --perf's samples): made once, emptied before each run, removed at the end.
 */
#ifndef HAK_SCRATCH_DIR_H
#define HAK_SCRATCH_DIR_H

#include <stddef.h>

/* Makes /tmp/hak-NAME-XXXXXX into dir (at least 64 bytes).  0, or -1 with errno. */
int scratch_dir_make(char *dir, size_t len, const char *name);

/* Removes every file in dir. */
void scratch_dir_clear(const char *dir);

/* Removes its files, then dir itself; dir becomes "". */
void scratch_dir_remove(char *dir);

#endif
