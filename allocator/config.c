/*
 * Options: the HAKMEM_* environment variables of config.def, read once at
 * start-up.  A value that does not parse or is out of range gives one
 * warning line naming the variable and the default used instead.
 *
 * A secure-execution process (setuid, setgid or with file capabilities:
 * AT_SECURE) reads none of them: its environment belongs to a less
 * privileged user, and options can place files or change checks.
 */
#include <stdlib.h>
#include <string.h>

#include "hakmem_internal.h"

struct hak_config hak_cfg = {
#define HAK_OPTION(field, env, kind, def, lo, hi, text) .field = def,
#include "config.def"
#undef HAK_OPTION
};

enum option_kind { BOOL, INT, STR };

static bool parse_bool(const char *s, long *out) {
    static const char *const yes[] = {"1", "yes", "on", "true"};
    static const char *const no[] = {"0", "no", "off", "false"};
    for (unsigned i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) return *out = 1, true;
        if (!strcasecmp(s, no[i])) return *out = 0, true;
    }
    return false;
}

static bool parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    if (!*s) return false;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static void warn_bad_value(const char *env, const char *value, enum option_kind kind, long lo,
                           long hi, long def) {
    char a[24], b[24], d[24], line[512];
    strcpy(line, "hakmem: ");
    strncat(line, env, 64);
    strcat(line, "='");
    strncat(line, value, 64);
    strcat(line, "' is not valid (expected ");
    if (kind == BOOL) {
        strcat(line, "0 or 1");
    } else {
        strcat(line, "an integer ");
        strcat(line, hak_fmt_u64(a, (uint64_t)lo, 10));
        strcat(line, "..");
        strcat(line, hak_fmt_u64(b, (uint64_t)hi, 10));
    }
    strcat(line, "); using default ");
    strcat(line, hak_fmt_u64(d, (uint64_t)def, 10));
    strcat(line, "\n");
    hak_write_stderr(line);
}

/* How each kind of option takes its value from the environment string v. */
#define LOAD_BOOL(field, env, def, lo, hi)                                                         \
    if (parse_bool(v, &parsed))                                                                    \
        hak_cfg.field = parsed;                                                                    \
    else                                                                                           \
        warn_bad_value(env, v, BOOL, lo, hi, def);
#define LOAD_INT(field, env, def, lo, hi)                                                          \
    if (parse_int(v, lo, hi, &parsed))                                                             \
        hak_cfg.field = parsed;                                                                    \
    else                                                                                           \
        warn_bad_value(env, v, INT, lo, hi, def);
#define LOAD_STR(field, env, def, lo, hi)                                                          \
    if (*v) hak_cfg.field = v;

/* Reads every option from the environment; secure_getenv does not allocate
 * and answers NULL for every variable in a secure-execution process. */
void hak_config_load(void) {
    const char *v;
    long parsed;
#define HAK_OPTION(field, env, kind, def, lo, hi, text)                                            \
    if ((v = secure_getenv(env)) != NULL) {                                                        \
        LOAD_##kind(field, env, def, lo, hi)                                                       \
    }
#include "config.def"
#undef HAK_OPTION
}
