/*
 * Phase protocol, benchmark side: see phase.h for the API and docs/phase-protocol.md for the wire
 * format.
 *
 * This file must not call malloc (directly or through stdio streams): it runs inside the process
 * whose allocator is being measured.  Messages are formatted into stack buffers with snprintf
 * (integer and short fixed-point conversions only, which glibc formats without allocating) and sent
 * with one write(2) each, so lines from different threads never interleave (a line is far below
 * PIPE_BUF).
 */
#include "hakphase.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PHASE_UNINIT = 0, PHASE_OFF = 1, PHASE_ON = 2 };

#define PHASE_LINE_MAX 256

static _Atomic int phase_state = PHASE_UNINIT;
static pthread_once_t phase_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t phase_lock = PTHREAD_MUTEX_INITIALIZER; /* orders seq, writes and acks */
static const char *phase_bench_name = "-";
static int phase_fd = -1;
static int phase_ack_fd = -1;
static int phase_ack_timeout_ms = HAK_PHASE_DEFAULT_ACK_TIMEOUT_MS;
static uint64_t phase_seq;
static char phase_ack_buf[PHASE_LINE_MAX]; /* partial ack line carried between reads */
static size_t phase_ack_len;

/* Writes one diagnostic line to stderr without stdio buffers. */
static void phase_warn(const char *fmt, ...) {
    char line[PHASE_LINE_MAX];
    int n = snprintf(line, sizeof line, "hak phase: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof line - 1) n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
}

static uint64_t phase_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads a descriptor number from the environment; -1 when unset or unusable (with a warning). */
static int phase_env_fd(const char *var) {
    const char *text = getenv(var);
    if (!text || !*text) return -1;
    char *end;
    errno = 0;
    long fd = strtol(text, &end, 10);
    if (errno || *end || fd < 0 || fd > 1 << 20) {
        phase_warn("%s='%s' is not a descriptor number; phase protocol disabled", var, text);
        return -1;
    }
    if (fcntl((int)fd, F_GETFD) < 0) {
        phase_warn("%s=%ld is not an open descriptor; phase protocol disabled", var, fd);
        return -1;
    }
    /* Programs the benchmark starts must not write into the collector's pipe. */
    fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    return (int)fd;
}

static int phase_timeout_from_env(void) {
    const char *text = getenv(HAK_PHASE_TIMEOUT_ENV);
    if (!text || !*text) return HAK_PHASE_DEFAULT_ACK_TIMEOUT_MS;
    char *end;
    long ms = strtol(text, &end, 10);
    if (*end || ms < 0 || ms > 3600 * 1000) {
        phase_warn("%s='%s' is not a number of milliseconds; using %d", HAK_PHASE_TIMEOUT_ENV, text,
                   HAK_PHASE_DEFAULT_ACK_TIMEOUT_MS);
        return HAK_PHASE_DEFAULT_ACK_TIMEOUT_MS;
    }
    return (int)ms;
}

/* Sends one complete line.  A collector that went away must not kill the benchmark with SIGPIPE:
 * the signal is blocked around the write and a SIGPIPE it raised is consumed.  On failure the
 * protocol is switched off.  Called with phase_lock held. */
static void phase_send_locked(const char *line, size_t len) {
    if (phase_fd < 0) return;
    sigset_t pipe_only, saved, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &saved);

    int failed = 0;
    size_t done = 0;
    while (done < len) {
        errno = 0;
        ssize_t n = write(phase_fd, line + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            failed = errno ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    if (failed == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_only, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);

    if (failed) {
        phase_warn("writing to %s=%d failed (%s); phase protocol disabled", HAK_PHASE_FD_ENV,
                   phase_fd, strerror(failed));
        phase_fd = -1;
        phase_ack_fd = -1;
        atomic_store_explicit(&phase_state, PHASE_OFF, memory_order_relaxed);
    }
}

/* Stops waiting for acknowledgements (the collector still receives messages). */
static void phase_drop_acks_locked(const char *why, const char *mark) {
    phase_warn("%s for mark '%s'; marks no longer wait for the collector", why, mark);
    phase_ack_fd = -1;
}

/* Reads ack lines until one acknowledges `seq` or later.  Called with phase_lock held. */
static void phase_wait_ack_locked(uint64_t seq, const char *mark) {
    uint64_t deadline = phase_now_ns() + (uint64_t)phase_ack_timeout_ms * 1000000u;
    while (phase_ack_fd >= 0) {
        /* Consume complete lines already buffered. */
        char *nl;
        while ((nl = memchr(phase_ack_buf, '\n', phase_ack_len)) != NULL) {
            *nl = '\0';
            char *end;
            unsigned long long acked = 0;
            int ok = strncmp(phase_ack_buf, "ack ", 4) == 0;
            if (ok) acked = strtoull(phase_ack_buf + 4, &end, 10);
            ok = ok && end != phase_ack_buf + 4;
            size_t used = (size_t)(nl - phase_ack_buf) + 1;
            memmove(phase_ack_buf, nl + 1, phase_ack_len - used);
            phase_ack_len -= used;
            if (ok && acked >= seq) return;
        }
        if (phase_ack_len == sizeof phase_ack_buf) phase_ack_len = 0; /* garbage: no newline */

        uint64_t now = phase_now_ns();
        if (now >= deadline) {
            phase_drop_acks_locked("the collector sent no acknowledgement in time", mark);
            return;
        }
        struct pollfd pfd = {.fd = phase_ack_fd, .events = POLLIN};
        int wait_ms = (int)((deadline - now + 999999u) / 1000000u);
        int r = poll(&pfd, 1, wait_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            phase_drop_acks_locked("polling the ack descriptor failed", mark);
            return;
        }
        if (r == 0) continue; /* the deadline check above reports it */
        ssize_t n =
            read(phase_ack_fd, phase_ack_buf + phase_ack_len, sizeof phase_ack_buf - phase_ack_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
            phase_drop_acks_locked("the collector closed the ack descriptor", mark);
            return;
        }
        phase_ack_len += (size_t)n;
    }
}

static void phase_init_once(void) {
    phase_fd = phase_env_fd(HAK_PHASE_FD_ENV);
    if (phase_fd < 0) {
        atomic_store_explicit(&phase_state, PHASE_OFF, memory_order_release);
        return;
    }
    phase_ack_fd = phase_env_fd(HAK_PHASE_ACK_FD_ENV);
    phase_ack_timeout_ms = phase_timeout_from_env();

    char line[PHASE_LINE_MAX];
    int n =
        snprintf(line, sizeof line, "hello %d pid=%ld bench=%s ack=%d\n",
                 HAK_PHASE_PROTOCOL_VERSION, (long)getpid(), phase_bench_name, phase_ack_fd >= 0);
    pthread_mutex_lock(&phase_lock);
    atomic_store_explicit(&phase_state, PHASE_ON, memory_order_release);
    phase_send_locked(line, (size_t)n);
    pthread_mutex_unlock(&phase_lock);
}

/* The fast path every call takes: one relaxed load when the state is known. */
static inline int phase_on(void) {
    int state = atomic_load_explicit(&phase_state, memory_order_acquire);
    if (state == PHASE_UNINIT) {
        pthread_once(&phase_once, phase_init_once);
        state = atomic_load_explicit(&phase_state, memory_order_acquire);
    }
    return state == PHASE_ON;
}

static int phase_name_ok(const char *name) {
    size_t n = 0;
    if (!name) return 0;
    for (; name[n]; n++) {
        char c = name[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
        if (!ok || n >= HAK_PHASE_NAME_MAX) return 0;
    }
    return n > 0;
}

static _Atomic int phase_bad_name_reported;

static int phase_check_name(const char *name) {
    if (phase_name_ok(name)) return 1;
    if (!atomic_exchange(&phase_bad_name_reported, 1))
        phase_warn("dropped a message with an invalid name (allowed: [A-Za-z0-9_.-], 1-%d chars)",
                   HAK_PHASE_NAME_MAX);
    return 0;
}

int hak_phase_init(const char *bench_name) {
    if (phase_name_ok(bench_name) &&
        atomic_load_explicit(&phase_state, memory_order_acquire) == PHASE_UNINIT)
        phase_bench_name = bench_name;
    return phase_on();
}

int hak_phase_active(void) {
    return phase_on();
}

static void phase_mark_common(const char *name, int has_live, uint64_t live_bytes) {
    if (!phase_on() || !phase_check_name(name)) return;
    char line[PHASE_LINE_MAX];
    pthread_mutex_lock(&phase_lock);
    uint64_t seq = ++phase_seq;
    int n;
    if (has_live)
        n = snprintf(line, sizeof line, "mark %llu %llu %s live_bytes=%llu\n",
                     (unsigned long long)seq, (unsigned long long)phase_now_ns(), name,
                     (unsigned long long)live_bytes);
    else
        n = snprintf(line, sizeof line, "mark %llu %llu %s\n", (unsigned long long)seq,
                     (unsigned long long)phase_now_ns(), name);
    phase_send_locked(line, (size_t)n);
    if (phase_fd >= 0 && phase_ack_fd >= 0) phase_wait_ack_locked(seq, name);
    pthread_mutex_unlock(&phase_lock);
}

void hak_phase_mark(const char *name) {
    phase_mark_common(name, 0, 0);
}

void hak_phase_mark_live(const char *name, uint64_t live_bytes) {
    phase_mark_common(name, 1, live_bytes);
}

static void phase_result_text(const char *key, const char *value) {
    char line[PHASE_LINE_MAX];
    pthread_mutex_lock(&phase_lock);
    uint64_t seq = ++phase_seq;
    int n = snprintf(line, sizeof line, "result %llu %llu %s %s\n", (unsigned long long)seq,
                     (unsigned long long)phase_now_ns(), key, value);
    phase_send_locked(line, (size_t)n);
    pthread_mutex_unlock(&phase_lock);
}

void hak_phase_result_u64(const char *key, uint64_t value) {
    if (!phase_on() || !phase_check_name(key)) return;
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    phase_result_text(key, text);
}

void hak_phase_result_f64(const char *key, double value) {
    if (!phase_on() || !phase_check_name(key)) return;
    /* Fixed point by hand: integer part and three decimals, no floating-point printf. */
    char text[48];
    if (!(value == value) || value > 9.0e15 || value < -9.0e15) {
        snprintf(text, sizeof text, "nan");
    } else {
        int neg = value < 0;
        double mag = neg ? -value : value;
        unsigned long long milli = (unsigned long long)(mag * 1000.0 + 0.5);
        snprintf(text, sizeof text, "%s%llu.%03llu", neg ? "-" : "", milli / 1000, milli % 1000);
    }
    phase_result_text(key, text);
}
