/*
 * libheapprobe.so: preloaded into a program, it measures the program's heap high-water the way a
 * replay of its trace measures it (docs/traces.md, "Replay fidelity"): anonymous RSS at its peak
 * minus anonymous RSS before the first allocation.
 *
 * The constructor (before main, before the program allocates) reads RssAnon; the destructor (after
 * the program's own destructors: a preloaded library is finalized last) reads the kernel's
 * whole-process high-water VmHWM and the file and shared-memory RSS then, and writes one line:
 *
 *   heapprobe: comm=NAME pid=N start_anon_kb=A hwm_kb=H end_file_kb=F end_shmem_kb=S
 *              stack_growth_kb=G heap_peak_kb=P
 *
 * with P = H - F - S - A - G: the peak of anonymous RSS less what it held before, counting the
 * file pages the program had mapped at its end (code and libraries, which only grow in these
 * programs) and what the main thread's stack grew by (which a replay does not reproduce and
 * which stays resident once touched).  The line goes to the
 * file HAK_HEAPPROBE_OUT (appended, one line per process) or stderr.  No malloc: the figures are
 * read and written with open/read/write.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t start_anon_kb, start_stack_kb;

/* A "Name:" figure of /proc/self/status in KiB, or 0. */
static uint64_t status_kb(const char *buf, const char *name) {
    const char *at = strstr(buf, name);
    return at ? strtoull(at + strlen(name), NULL, 10) : 0;
}

static void read_status(char *buf, size_t len) {
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
    if (fd >= 0) close(fd);
    buf[n > 0 ? n : 0] = '\0';
}

/* Rss of the main thread's stack in KiB, from /proc/self/smaps, read into a mapping that is gone
 * again before the caller reads anything else. */
static uint64_t stack_kb(void) {
    size_t cap = 4 << 20, len = 0;
    char *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) return 0;
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    for (ssize_t n = 1; fd >= 0 && n > 0 && len < cap - 1; len += (size_t)n)
        n = read(fd, buf + len, cap - 1 - len);
    if (fd >= 0) close(fd);
    buf[len] = '\0';
    const char *at = strstr(buf, "[stack]");
    uint64_t kb = at ? status_kb(at, "Rss:") : 0;
    munmap(buf, cap);
    return kb;
}

__attribute__((constructor)) static void heapprobe_start(void) {
    char buf[4096];
    read_status(buf, sizeof buf);
    start_anon_kb = status_kb(buf, "RssAnon:");
    start_stack_kb = stack_kb();
}

__attribute__((destructor)) static void heapprobe_end(void) {
    char buf[4096], comm[64] = "?", line[512];
    read_status(buf, sizeof buf);
    uint64_t hwm = status_kb(buf, "VmHWM:"), file = status_kb(buf, "RssFile:"),
             shmem = status_kb(buf, "RssShmem:");
    const char *name = strstr(buf, "Name:");
    if (name) sscanf(name, "Name: %63s", comm);
    uint64_t stack = stack_kb(), stack_growth = stack > start_stack_kb ? stack - start_stack_kb : 0;
    uint64_t others = file + shmem + start_anon_kb + stack_growth;
    int n = snprintf(line, sizeof line,
                     "heapprobe: comm=%s pid=%d start_anon_kb=%llu hwm_kb=%llu end_file_kb=%llu "
                     "end_shmem_kb=%llu stack_growth_kb=%llu heap_peak_kb=%llu\n",
                     comm, (int)getpid(), (unsigned long long)start_anon_kb,
                     (unsigned long long)hwm, (unsigned long long)file, (unsigned long long)shmem,
                     (unsigned long long)stack_growth,
                     (unsigned long long)(hwm > others ? hwm - others : 0));
    const char *out = getenv("HAK_HEAPPROBE_OUT");
    int fd = out && *out ? open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : 2;
    if (fd < 0) return;
    if (write(fd, line, (size_t)n) != n) { /* nothing to do about a full disk here */
    }
    if (fd != 2) close(fd);
}
