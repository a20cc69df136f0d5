/*
 * libFuzzer harness for the collector's side of the phase protocol (probes/phase_reader.c): the
 * bytes a benchmark, or any program a user records, writes on its phase descriptor.  The input is
 * fed through a non-blocking pipe in pieces, as the collector's poll loop sees it, and every line
 * taken is parsed; nothing it holds may crash the collector.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phase_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd[2];
    if (pipe2(fd, O_NONBLOCK) != 0) abort();
    struct hak_phase_reader r;
    struct hak_phase_msg msg;
    hak_phase_reader_init(&r, fd[0]);
    /* The first byte sets how much the writer sends at a time (1..256 bytes). */
    size_t piece = size ? (size_t)data[0] + 1 : 1, off = size ? 1 : 0;
    while (off < size) {
        size_t n = size - off < piece ? size - off : piece;
        ssize_t w = write(fd[1], data + off, n);
        if (w > 0) off += (size_t)w;
        hak_phase_reader_fill(&r);
        while (hak_phase_reader_next(&r, &msg) == 1) {
            if (msg.kind == HAK_PHASE_MARK || msg.kind == HAK_PHASE_RESULT)
                if (!memchr(msg.name, 0, sizeof msg.name)) abort();
        }
    }
    close(fd[1]);
    while (hak_phase_reader_fill(&r) >= 0) {
    }
    while (hak_phase_reader_next(&r, &msg) == 1) {
    }
    if (r.used != 0) abort(); /* at end of file every byte is taken as some line */
    close(fd[0]);
    return 0;
}
