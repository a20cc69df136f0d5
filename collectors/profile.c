/*
 * Profile files: lookup, parsing and listing (profile.h).
 */
#include "profile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "allocators.h"

#define PROFILE_SUFFIX ".profile"

/* strlcpy: copies what fits, always terminates. */
static void copy_text(char *dst, size_t len, const char *src) {
    size_t n = strlen(src);
    if (n >= len) n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *profile_dir(char *buf, size_t len) {
    const char *env = getenv("HAK_PROFILES_DIR");
    if (env && *env) {
        copy_text(buf, len, env);
        return buf;
    }
    char exe[PROFILE_PATH_MAX];
    if (hak_exe_dir(exe, sizeof exe) == 0) {
        /* build/bin -> source tree root */
        char guess[PROFILE_PATH_MAX + 32], real[PATH_MAX];
        snprintf(guess, sizeof guess, "%s/../../datasets/profiles", exe);
        if (is_dir(guess) && realpath(guess, real)) {
            copy_text(buf, len, real);
            return buf;
        }
        /* make install: PREFIX/bin -> PREFIX/share/hakmem/profiles */
        snprintf(guess, sizeof guess, "%s/../share/hakmem/profiles", exe);
        if (is_dir(guess) && realpath(guess, real)) {
            copy_text(buf, len, real);
            return buf;
        }
    }
    snprintf(buf, len, "datasets/profiles");
    return buf;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    *end = '\0';
    return s;
}

/* Comma-separated names of the available profiles, for "not found" messages. */
static void collect_name(const char *name, const char *description, void *arg) {
    (void)description;
    char *buf = arg;
    size_t used = strlen(buf);
    if (used + strlen(name) + 3 < 512)
        snprintf(buf + used, 512 - used, "%s%s", used ? ", " : "", name);
}

static int name_is_plain(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static int parse_file(FILE *f, struct profile *p, char *err, size_t err_len) {
    char line[1024];
    int lineno = 0;
    struct profile_section *cur = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, err_len, "%s:%d: line too long", p->path, lineno);
            return -1;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *s = trim(line);
        if (!*s) continue;

        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || *trim(close + 1)) {
                snprintf(err, err_len,
                         "%s:%d: bad section header '%s' (expected [larson], [battle], [bigbuf] or [decay])", p->path,
                         lineno, s);
                return -1;
            }
            *close = '\0';
            const char *bench = trim(s + 1);
            const struct bench_spec *spec = bench_spec_find(bench);
            if (!spec) {
                snprintf(err, err_len, "%s:%d: unknown benchmark '%s' (known: larson, battle, bigbuf, decay)",
                         p->path, lineno, bench);
                return -1;
            }
            if (p->nsections == PROFILE_MAX_SECTIONS) {
                snprintf(err, err_len, "%s:%d: too many sections (at most %d)", p->path, lineno,
                         PROFILE_MAX_SECTIONS);
                return -1;
            }
            cur = &p->sections[p->nsections++];
            cur->spec = spec;
            bench_defaults(spec, cur->values);
            continue;
        }

        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, err_len, "%s:%d: expected 'key = value', got '%s'", p->path, lineno, s);
            return -1;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key || !*value) {
            snprintf(err, err_len, "%s:%d: expected 'key = value'", p->path, lineno);
            return -1;
        }
        if (!cur) {
            if (strcmp(key, "description") == 0) {
                copy_text(p->description, sizeof p->description, value);
                continue;
            }
            snprintf(err, err_len,
                     "%s:%d: '%s' outside a section (top-level keys: description; benchmark "
                     "parameters go under [larson], [battle], [bigbuf] or [decay])",
                     p->path, lineno, key);
            return -1;
        }
        char why[512];
        if (bench_set_param(cur->spec, cur->values, key, value, why, sizeof why) != 0) {
            snprintf(err, err_len, "%s:%d: %s", p->path, lineno, why);
            return -1;
        }
    }
    if (p->nsections == 0) {
        snprintf(err, err_len, "%s: no benchmark section ([larson], [battle], [bigbuf] or [decay])", p->path);
        return -1;
    }
    for (int i = 0; i < p->nsections; i++) {
        const struct profile_section *sec = &p->sections[i];
        char why[512];
        if (sec->spec->check && sec->spec->check(sec->values, why, sizeof why) != 0) {
            snprintf(err, err_len, "%s: [%s] %s", p->path, sec->spec->name, why);
            return -1;
        }
    }
    return 0;
}

int profile_load(const char *name_or_path, struct profile *p, char *err, size_t err_len) {
    memset(p, 0, sizeof *p);
    char dir[PROFILE_PATH_MAX];
    if (strchr(name_or_path, '/') || ends_with(name_or_path, PROFILE_SUFFIX)) {
        copy_text(p->path, sizeof p->path, name_or_path);
    } else {
        if (!name_is_plain(name_or_path)) {
            snprintf(err, err_len, "bad profile name '%s'", name_or_path);
            return -1;
        }
        snprintf(p->path, sizeof p->path, "%s/%s%s", profile_dir(dir, sizeof dir), name_or_path,
                 PROFILE_SUFFIX);
    }
    const char *base = strrchr(p->path, '/');
    base = base ? base + 1 : p->path;
    copy_text(p->name, sizeof p->name, base);
    if (ends_with(p->name, PROFILE_SUFFIX))
        p->name[strlen(p->name) - strlen(PROFILE_SUFFIX)] = '\0';

    FILE *f = fopen(p->path, "r");
    if (!f) {
        if (errno == ENOENT && !strchr(name_or_path, '/') &&
            !ends_with(name_or_path, PROFILE_SUFFIX)) {
            char names[512] = "";
            profile_list(collect_name, names);
            snprintf(err, err_len, "unknown profile '%s' (available: %s; directory %s)",
                     name_or_path, names[0] ? names : "none", profile_dir(dir, sizeof dir));
        } else {
            snprintf(err, err_len, "cannot read profile %s: %s", p->path, strerror(errno));
        }
        return -1;
    }
    int r = parse_file(f, p, err, err_len);
    fclose(f);
    return r;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int profile_list(void (*fn)(const char *name, const char *description, void *arg), void *arg) {
    char dir[PROFILE_PATH_MAX];
    DIR *d = opendir(profile_dir(dir, sizeof dir));
    if (!d) return -1;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, PROFILE_SUFFIX)) continue;
        names[n] = strdup(e->d_name);
        if (names[n]) names[n][strlen(names[n]) - strlen(PROFILE_SUFFIX)] = '\0', n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], compare_names);
    for (int i = 0; i < n; i++) {
        struct profile p;
        char err[512];
        char path[PROFILE_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s%s", dir, names[i], PROFILE_SUFFIX);
        const char *description = profile_load(path, &p, err, sizeof err) == 0
                                      ? p.description
                                      : "(does not parse; hak bench NAME says why)";
        fn(names[i], description, arg);
        free(names[i]);
    }
    return n;
}
