/*
 * Private scratch directories for wrapped runs (scratch_dir.h).
 */
#include "scratch_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int scratch_dir_make(char *dir, size_t len, const char *name) {
    snprintf(dir, len, "/tmp/hak-%s-XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

void scratch_dir_clear(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

void scratch_dir_remove(char *dir) {
    if (!dir[0]) return;
    scratch_dir_clear(dir);
    rmdir(dir);
    dir[0] = '\0';
}
