/*
 * Phase protocol, collector side: reads the benchmark's hello / mark / result lines from the
 * message descriptor and writes acknowledgements (docs/phase-protocol.md).  The benchmark side is
 * phase.h.
 *
 * The reader never blocks: the collector polls the descriptor together with its sampling timer
 * and calls hak_phase_reader_fill when it is readable, then takes messages with
 * hak_phase_reader_next until none is left.
 */
#ifndef HAK_PHASE_READER_H
#define HAK_PHASE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "hakphase.h"

#define HAK_PHASE_LINE_MAX 256

enum hak_phase_kind { HAK_PHASE_HELLO, HAK_PHASE_MARK, HAK_PHASE_RESULT, HAK_PHASE_BAD };

struct hak_phase_msg {
    enum hak_phase_kind kind;
    uint64_t seq;                      /* mark, result */
    uint64_t t_ns;                     /* mark, result: the benchmark's CLOCK_MONOTONIC */
    char name[HAK_PHASE_NAME_MAX + 1]; /* mark name, result key, hello bench name */
    int has_live;                      /* mark: live_bytes=N was given */
    uint64_t live_bytes;
    char value[64];                /* result: as sent ("1234", "12.500", "nan") */
    double number;                 /* result: the value as a number (NaN for "nan") */
    int version;                   /* hello */
    long pid;                      /* hello */
    int ack;                       /* hello: 1 when the benchmark waits for acknowledgements */
    char line[HAK_PHASE_LINE_MAX]; /* the line as received (for HAK_PHASE_BAD) */
};

struct hak_phase_reader {
    int fd;
    int eof; /* the writer closed the channel */
    size_t used;
    char buf[8192];
};

void hak_phase_reader_init(struct hak_phase_reader *r, int fd);

/* Reads what is available without blocking (fd must be O_NONBLOCK).  Returns 1 when bytes
 * arrived, 0 when none were there, -1 at end of file or on an error (r->eof set). */
int hak_phase_reader_fill(struct hak_phase_reader *r);

/* Takes the next complete line.  1 with *msg filled, 0 when no complete line is buffered.  At end
 * of file a last line without a newline is returned too. */
int hak_phase_reader_next(struct hak_phase_reader *r, struct hak_phase_msg *msg);

/* Parses one line (without its newline).  Returns msg->kind; HAK_PHASE_BAD for anything malformed.
 */
enum hak_phase_kind hak_phase_parse(const char *line, struct hak_phase_msg *msg);

/* Writes "ack SEQ\n" to the benchmark's ack descriptor.  0, or -1 when it is gone (EPIPE: the
 * caller must ignore SIGPIPE). */
int hak_phase_send_ack(int ack_fd, uint64_t seq);

#endif
