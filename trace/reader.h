/*
 * Reading an allocation trace (trace/format.h) and planning its replay: the records in the order
 * they happened, and for each one the block ("slot") it creates and the block it frees, so that a
 * replay or a summary needs no addresses any more.
 *
 * All memory here comes from mmap, never malloc: the replayer runs on the allocator it measures,
 * and its own bookkeeping must not land in that heap.
 */
#ifndef HAK_TRACE_READER_H
#define HAK_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "format.h"

#define TRACE_NO_SLOT UINT32_MAX

struct trace_record {
    uint64_t seq, ns;
    uint64_t addr;   /* the block freed, reallocated or asked about */
    uint64_t size;   /* bytes asked for */
    uint64_t align;  /* aligned kinds only */
    uint64_t result; /* the block returned; 0 when the call failed */
    uint32_t tid;
    uint16_t image; /* 0, then one more after each exec */
    uint8_t kind;
    uint8_t call; /* TRACE_UNSUPPORTED: enum trace_call */
    /* Filled by trace_plan: */
    uint8_t op;      /* enum trace_op */
    uint32_t thread; /* 0..nthreads-1, in order of first appearance */
    uint32_t slot;   /* the block this record creates, or TRACE_NO_SLOT */
    uint32_t target; /* the block it frees or reallocates, or TRACE_NO_SLOT */
};

/* What a replay does for a record. */
enum trace_op {
    TRACE_OP_SKIP,    /* failed or unsupported call, or a free of an unknown block */
    TRACE_OP_ALLOC,   /* malloc / calloc / aligned kinds: creates slot */
    TRACE_OP_REALLOC, /* frees target (may be none), creates slot */
    TRACE_OP_FREE,    /* frees target */
};

struct trace {
    struct trace_record *rec; /* in (image, seq) order once planned */
    size_t count, cap;
    uint32_t pid, ppid, flags, images;
    uint64_t chunks;
    char note[256]; /* why the tail was dropped (torn or corrupt chunk), or "" */

    /* trace_plan's results */
    uint32_t nthreads, nslots;
    uint64_t *slot_size;     /* bytes of each slot */
    uint64_t *slot_resident; /* bytes of it resident when freed (TRACE_RESIDENT), or 0: unknown */
    uint64_t kinds[TRACE_KIND_COUNT];
    uint64_t size_hist[65]; /* [k]: sizes in [2^(k-1), 2^k), [0]: size 0 */
    uint64_t peak_live, final_live, duration_ns;
    uint64_t failed;        /* calls that returned no block */
    uint64_t unknown_frees; /* frees/reallocs of blocks the trace never allocated */
    size_t first_unknown;   /* index (after planning) of the first */
    uint64_t reused_live;   /* results that were live already (a torn race or a lost free) */
    uint64_t calls[TRACE_CALL_COUNT];      /* unsupported calls, by enum trace_call */
    uint64_t call_bytes[TRACE_CALL_COUNT]; /* and the bytes they named */
};

/* Reads a trace from memory.  0, or -1 with one line in err (not a trace, newer version); a torn
 * or corrupt chunk ends the reading with a note in t->note, not an error.  name labels messages. */
int trace_read_buffer(const uint8_t *data, size_t len, const char *name, struct trace *t, char *err,
                      size_t err_len);

/* Same, from a file. */
int trace_read_file(const char *path, struct trace *t, char *err, size_t err_len);

/* Orders the records, assigns threads and slots, and fills the summary. */
void trace_plan(struct trace *t);

void trace_free(struct trace *t);

/* Bookkeeping memory from mmap (zeroed); NULL on failure. */
void *trace_map(size_t bytes);
void trace_unmap(void *p, size_t bytes);

/* Name of a record kind ("malloc"), or "?". */
const char *trace_kind_name(unsigned kind);

/* Name of an unsupported call ("malloc_trim"), or "?". */
const char *trace_call_name(unsigned call);

/* Writes one line per kind of call a replay cannot make (malloc_usable_size and the unsupported
 * calls: malloc_trim, mallopt, the program's own mmap, munmap, mremap), each starting with
 * prefix: "PREFIXunsupported: N NAME calls (...)".  Nothing when there are none. */
void trace_print_unsupported(FILE *out, const char *prefix, const struct trace *t);

#endif
