/*
 * Phase protocol, collector side (phase_reader.h).
 */
#include "phase_reader.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hak_phase_reader_init(struct hak_phase_reader *r, int fd) {
    r->fd = fd;
    r->eof = 0;
    r->used = 0;
}

int hak_phase_reader_fill(struct hak_phase_reader *r) {
    if (r->eof) return -1;
    int got = 0;
    for (;;) {
        if (r->used == sizeof r->buf) {
            /* A line longer than the protocol allows: drop what is buffered. */
            r->used = 0;
        }
        ssize_t n = read(r->fd, r->buf + r->used, sizeof r->buf - r->used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return got;
        if (n <= 0) {
            r->eof = 1;
            return got ? 1 : -1;
        }
        r->used += (size_t)n;
        got = 1;
    }
}

/* A name as the protocol allows it: [A-Za-z0-9_.-]{1,63}. */
static int valid_name(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return n >= 1 && n <= HAK_PHASE_NAME_MAX;
}

static int parse_u64(const char *s, uint64_t *out) {
    if (!*s || *s == '-') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

/* A CLOCK_MONOTONIC time: like parse_u64, but within int64_t, as the collector subtracts it from
 * its own start time. */
static int parse_time(const char *s, uint64_t *out) {
    return parse_u64(s, out) || *out > INT64_MAX ? -1 : 0;
}

/* Splits line into at most max space-separated fields (in a copy held by msg). */
static int split(char *copy, char **fields, int max) {
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok && n < max;
         tok = strtok_r(NULL, " ", &save))
        fields[n++] = tok;
    return n;
}

enum hak_phase_kind hak_phase_parse(const char *line, struct hak_phase_msg *msg) {
    memset(msg, 0, sizeof *msg);
    snprintf(msg->line, sizeof msg->line, "%s", line);
    char copy[HAK_PHASE_LINE_MAX];
    snprintf(copy, sizeof copy, "%s", line);
    char *f[8];
    int n = split(copy, f, 8);
    msg->kind = HAK_PHASE_BAD;
    if (n >= 2 && strcmp(f[0], "hello") == 0) {
        /* A version that is no number, or does not fit an int, must not wrap round to 1. */
        uint64_t v, pid;
        if (parse_u64(f[1], &v) || v > INT_MAX) return msg->kind;
        msg->version = (int)v;
        snprintf(msg->name, sizeof msg->name, "-");
        for (int i = 2; i < n; i++) {
            if (strncmp(f[i], "pid=", 4) == 0) {
                if (parse_u64(f[i] + 4, &pid) == 0 && pid <= LONG_MAX) msg->pid = (long)pid;
            } else if (strncmp(f[i], "bench=", 6) == 0 && valid_name(f[i] + 6))
                snprintf(msg->name, sizeof msg->name, "%s", f[i] + 6);
            else if (strncmp(f[i], "ack=", 4) == 0)
                msg->ack = strcmp(f[i] + 4, "1") == 0;
        }
        msg->kind = HAK_PHASE_HELLO;
    } else if (n >= 4 && strcmp(f[0], "mark") == 0) {
        if (parse_u64(f[1], &msg->seq) || parse_time(f[2], &msg->t_ns) || !valid_name(f[3]))
            return msg->kind;
        snprintf(msg->name, sizeof msg->name, "%s", f[3]);
        for (int i = 4; i < n; i++)
            if (strncmp(f[i], "live_bytes=", 11) == 0 &&
                parse_u64(f[i] + 11, &msg->live_bytes) == 0)
                msg->has_live = 1;
        msg->kind = HAK_PHASE_MARK;
    } else if (n >= 5 && strcmp(f[0], "result") == 0) {
        if (parse_u64(f[1], &msg->seq) || parse_time(f[2], &msg->t_ns) || !valid_name(f[3]))
            return msg->kind;
        snprintf(msg->name, sizeof msg->name, "%s", f[3]);
        snprintf(msg->value, sizeof msg->value, "%s", f[4]);
        if (strcmp(f[4], "nan") == 0) {
            msg->number = NAN;
        } else {
            char *end;
            msg->number = strtod(f[4], &end);
            if (*end || end == f[4]) return msg->kind;
        }
        msg->kind = HAK_PHASE_RESULT;
    }
    return msg->kind;
}

int hak_phase_reader_next(struct hak_phase_reader *r, struct hak_phase_msg *msg) {
    char *nl = memchr(r->buf, '\n', r->used);
    size_t len;
    if (nl) {
        len = (size_t)(nl - r->buf);
    } else if (r->eof && r->used > 0) {
        len = r->used;
    } else {
        return 0;
    }
    char line[HAK_PHASE_LINE_MAX];
    size_t copy = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, r->buf, copy);
    line[copy] = '\0';
    size_t consumed = nl ? len + 1 : len;
    memmove(r->buf, r->buf + consumed, r->used - consumed);
    r->used -= consumed;
    hak_phase_parse(line, msg);
    return 1;
}

int hak_phase_send_ack(int ack_fd, uint64_t seq) {
    char line[48];
    int n = snprintf(line, sizeof line, "ack %llu\n", (unsigned long long)seq);
    for (;;) {
        ssize_t w = write(ack_fd, line, (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        return w == n ? 0 : -1;
    }
}
