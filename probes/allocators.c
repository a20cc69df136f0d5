/*
 * The allocator table and library lookup behind `--alloc` (see allocators.h).
 */
#include "allocators.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct hak_allocator allocators[] = {
    {"hakmem", "libhakmem.so", "HAK_LIBHAKMEM", NULL, "hak_flush_all()", NULL},
    {"glibc", NULL, NULL, NULL, "malloc_trim(0)", NULL},
    {"mimalloc", "libmimalloc.so.2", "HAK_LIB_MIMALLOC", "libmimalloc2.0", "mi_collect(true)", NULL},
    {"jemalloc", "libjemalloc.so.2", "HAK_LIB_JEMALLOC", "libjemalloc2",
     "mallctl thread.tcache.flush + arena.<all>.purge", NULL},
    {"tcmalloc", "libtcmalloc_minimal.so.4", "HAK_LIB_TCMALLOC", "libtcmalloc-minimal4",
     "MallocExtension_MarkThreadIdle + MallocExtension_ReleaseFreeMemory", NULL},
};

#define ALLOCATOR_COUNT (sizeof allocators / sizeof allocators[0])

/* Where Debian and other distributions put shared libraries; multiarch directories first. */
static const char *const library_dirs[] = {
#if defined(__x86_64__)
    "/usr/lib/x86_64-linux-gnu",
    "/lib/x86_64-linux-gnu",
#elif defined(__aarch64__)
    "/usr/lib/aarch64-linux-gnu",
    "/lib/aarch64-linux-gnu",
#endif
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib64",
    "/usr/local/lib",
};

size_t hak_allocator_count(void) {
    return ALLOCATOR_COUNT;
}

const struct hak_allocator *hak_allocator_at(size_t i) {
    return i < ALLOCATOR_COUNT ? &allocators[i] : NULL;
}

const struct hak_allocator *hak_allocator_find(const char *name) {
    for (size_t i = 0; i < ALLOCATOR_COUNT; i++)
        if (strcmp(allocators[i].name, name) == 0) return &allocators[i];
    return NULL;
}

const char *hak_allocator_names(char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ALLOCATOR_COUNT && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", allocators[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
    return buf;
}

int hak_exe_dir(char *buf, size_t len) {
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0 || (size_t)n >= len - 1) return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash) return -1;
    *slash = '\0';
    return 0;
}

static int readable_file(const char *path) {
    return access(path, R_OK) == 0;
}

/* The entries --alloc NAME=PATH adds, for the life of the process. */
static struct custom_allocator {
    struct hak_allocator a;
    char name[16];
    char path[HAK_ALLOC_PATH_MAX];
} customs[HAK_ALLOC_MAX];
static size_t ncustoms;

static int custom_name_ok(const char *name, size_t n) {
    if (n == 0 || n > 15 || !isalpha((unsigned char)name[0])) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_') return 0;
    return 1;
}

const struct hak_allocator *hak_allocator_lookup(const char *entry, char *err, size_t err_len) {
    const char *eq = strchr(entry, '=');
    if (!eq) {
        const struct hak_allocator *a = hak_allocator_find(entry);
        char names[256];
        if (!a)
            snprintf(err, err_len,
                     "unknown allocator '%s' (known: %s), or NAME=PATH for a library of your own",
                     entry, hak_allocator_names(names, sizeof names));
        return a;
    }
    size_t n = (size_t)(eq - entry);
    if (!custom_name_ok(entry, n)) {
        snprintf(err, err_len,
                 "bad allocator name '%.*s' in '%s' (1 to 15 letters, digits, '-' or '_', "
                 "starting with a letter)",
                 (int)n, entry, entry);
        return NULL;
    }
    char name[16];
    memcpy(name, entry, n);
    name[n] = '\0';
    if (hak_allocator_find(name)) {
        snprintf(err, err_len, "'%s' is a known allocator: give the library in '%s' another name",
                 name, entry);
        return NULL;
    }
    char real[PATH_MAX];
    struct stat st;
    if (!eq[1]) {
        snprintf(err, err_len, "no library after '%s=' (NAME=PATH)", name);
        return NULL;
    }
    if (!realpath(eq + 1, real)) {
        snprintf(err, err_len, "%s: %s", entry, strerror(errno));
        return NULL;
    }
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode) || !readable_file(real)) {
        snprintf(err, err_len, "%s: not a readable file", entry);
        return NULL;
    }
    for (size_t i = 0; i < ncustoms; i++)
        if (strcmp(customs[i].name, name) == 0) { /* the list's duplicate check names it */
            if (strcmp(customs[i].path, real) == 0) return &customs[i].a;
            snprintf(err, err_len, "allocator '%s' named twice, for two libraries", name);
            return NULL;
        }
    if (ncustoms == HAK_ALLOC_MAX) {
        snprintf(err, err_len, "too many NAME=PATH allocators (at most %d)", HAK_ALLOC_MAX);
        return NULL;
    }
    struct custom_allocator *c = &customs[ncustoms++];
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->path, sizeof c->path, "%s", real);
    c->a = (struct hak_allocator){.name = c->name, .soname = c->path, .path = c->path};
    return &c->a;
}

int hak_allocator_ran(const struct hak_allocator *a, const char *reported) {
    return a->path ? strcmp(reported, "glibc") != 0 : strcmp(reported, a->name) == 0;
}

int hak_allocator_resolve(const struct hak_allocator *a, char *path, size_t path_len, char *why,
                          size_t why_len) {
    path[0] = '\0';
    if (a->path) { /* NAME=PATH: checked when the list was read; still there? */
        if (!readable_file(a->path)) {
            snprintf(why, why_len, "%s=%s: %s", a->name, a->path, strerror(errno));
            return -1;
        }
        snprintf(path, path_len, "%s", a->path);
        return 0;
    }
    if (!a->soname) return 0; /* glibc: nothing to preload */

    const char *override = a->env_path ? getenv(a->env_path) : NULL;
    if (override && *override) {
        if (override[0] != '/') {
            snprintf(why, why_len, "%s=%s must be an absolute path", a->env_path, override);
            return -1;
        }
        if (!readable_file(override)) {
            snprintf(why, why_len, "%s=%s: %s", a->env_path, override, strerror(errno));
            return -1;
        }
        snprintf(path, path_len, "%s", override);
        return 0;
    }

    if (!a->package) { /* built by this project: build/libhakmem.so next to build/bin/ */
        char dir[HAK_ALLOC_PATH_MAX];
        if (hak_exe_dir(dir, sizeof dir) != 0) {
            snprintf(why, why_len, "cannot locate the hak binary to find %s (set %s)", a->soname,
                     a->env_path);
            return -1;
        }
        char *slash = strrchr(dir, '/'); /* build/bin -> build, PREFIX/bin -> PREFIX */
        if (slash) *slash = '\0';
        /* Installed (make install): PREFIX/bin/hak and PREFIX/lib/libhakmem.so. */
        snprintf(path, path_len, "%s/lib/%s", dir, a->soname);
        if (readable_file(path)) return 0;
        snprintf(path, path_len, "%s/%s", dir, a->soname);
        if (readable_file(path)) return 0;
        snprintf(why, why_len, "%s is not built: %s is missing (run make, or set %s)", a->name,
                 path, a->env_path);
        path[0] = '\0';
        return -1;
    }

    const char *dirs = getenv("HAK_LIB_DIRS"); /* colon-separated, replaces the built-in list */
    if (dirs && *dirs) {
        for (const char *d = dirs; *d;) {
            size_t n = strcspn(d, ":");
            if (n) {
                snprintf(path, path_len, "%.*s/%s", (int)n, d, a->soname);
                if (readable_file(path)) return 0;
            }
            d += n;
            if (*d == ':') d++;
        }
    } else {
        for (size_t i = 0; i < sizeof library_dirs / sizeof library_dirs[0]; i++) {
            snprintf(path, path_len, "%s/%s", library_dirs[i], a->soname);
            if (readable_file(path)) return 0;
        }
    }
    path[0] = '\0';
    snprintf(why, why_len,
             "%s is not installed: %s not found (install the Debian package %s: "
             "apt-get install %s, or run make deps; or set %s)",
             a->name, a->soname, a->package, a->package, a->env_path);
    return -1;
}

int hak_allocator_parse_list(const char *list, const struct hak_allocator **out, size_t max,
                             char *err, size_t err_len, char *skipped, size_t skipped_len) {
    if (skipped && skipped_len) skipped[0] = '\0';

    if (strcmp(list, "all") == 0) {
        size_t count = 0, skipped_used = 0;
        for (size_t i = 0; i < ALLOCATOR_COUNT && count < max; i++) {
            char path[HAK_ALLOC_PATH_MAX], why[512];
            if (hak_allocator_resolve(&allocators[i], path, sizeof path, why, sizeof why) == 0) {
                out[count++] = &allocators[i];
            } else if (skipped && skipped_used < skipped_len) {
                int n = snprintf(skipped + skipped_used, skipped_len - skipped_used, "%s\n", why);
                if (n > 0) skipped_used += (size_t)n;
            }
        }
        return (int)count;
    }

    size_t count = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[HAK_ALLOC_PATH_MAX + 16]; /* NAME=PATH */
        if (n == 0 || n >= sizeof name) {
            snprintf(err, err_len, "bad allocator list '%s' (expected names separated by commas)",
                     list);
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        const struct hak_allocator *a = hak_allocator_lookup(name, err, err_len);
        if (!a) return -1;
        for (size_t i = 0; i < count; i++)
            if (out[i] == a) {
                snprintf(err, err_len, "allocator '%s' named twice in '%s'", name, list);
                return -1;
            }
        if (count == max) {
            snprintf(err, err_len, "too many allocators in '%s' (at most %zu)", list, max);
            return -1;
        }
        out[count++] = a;
        if (!comma) break;
        p = comma + 1;
    }
    return (int)count;
}
