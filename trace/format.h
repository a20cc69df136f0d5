/*
 * The allocation trace file format (docs/traces.md), shared by the tracer that writes it
 * (trace/tracer.c) and the reader (trace/reader.c).
 *
 * A file is a header followed by chunks.  Each thread of the traced process fills its own buffer
 * and writes it out as one chunk: a fixed chunk header (magic, payload length, thread id, record
 * count, the sequence number and time the deltas start from, a checksum of the payload) and the
 * records, varint- and delta-encoded.  A chunk decodes on its own, so a file cut short by a crash
 * loses only its torn last chunk, which the checksum or the length gives away.  A second file
 * header in the middle of the file marks an exec: a new program image with a new heap.
 *
 * Own encoding rather than zlib: the tracer writes from inside malloc, where a compressor that
 * allocates cannot run, and deltas + varints already take a record to ~6 bytes.
 */
#ifndef HAK_TRACE_FORMAT_H
#define HAK_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_MAGIC "HAKTRACE"
#define TRACE_VERSION 2 /* 2: TRACE_UNSUPPORTED, TRACE_RESIDENT; version 1 files read the same */
#define TRACE_RESIDENT_MIN (64 * 1024) /* blocks from this size get a TRACE_RESIDENT record */
#define TRACE_CHUNK_MAGIC 0x4b434854u  /* "THCK" little-endian */
#define TRACE_FLAG_FORKED 1u           /* the process began as a fork: inherited blocks exist */

/* File header, little-endian, written once per program image. */
struct trace_file_header {
    char magic[8];
    uint32_t version;
    uint32_t header_bytes; /* sizeof this struct: lets a later version grow it */
    uint32_t pid, ppid;
    uint32_t flags;
    uint32_t reserved;
    uint64_t start_ns; /* CLOCK_MONOTONIC at the image's first record */
};

/* Chunk header; payload_bytes of records follow. */
struct trace_chunk_header {
    uint32_t magic;
    uint32_t payload_bytes;
    uint32_t tid;
    uint32_t records;
    uint64_t base_seq; /* the first record's seq is base_seq + its delta */
    uint64_t base_ns;
    uint32_t checksum; /* trace_checksum of the payload */
    uint32_t reserved;
};

/* Record kinds: one byte, then varint fields (seq delta, time delta, then per kind). */
enum trace_kind {
    TRACE_MALLOC = 1,     /* size, result */
    TRACE_CALLOC,         /* size (nmemb * size), result */
    TRACE_REALLOC,        /* old, size, result */
    TRACE_FREE,           /* ptr */
    TRACE_POSIX_MEMALIGN, /* alignment, size, result */
    TRACE_ALIGNED_ALLOC,  /* alignment, size, result */
    TRACE_MEMALIGN,       /* alignment, size, result */
    TRACE_VALLOC,         /* alignment, size, result */
    TRACE_PVALLOC,        /* alignment, size, result */
    TRACE_USABLE_SIZE,    /* ptr: malloc_usable_size, which a replay cannot reproduce */
    TRACE_UNSUPPORTED,    /* call (enum trace_call), bytes: counted, never replayed */
    TRACE_RESIDENT,       /* ptr, bytes: how much of a large block was resident when freed */
    TRACE_KIND_COUNT
};

/* Calls the tracer sees but a replay cannot make: what they do to memory is outside the trace. */
enum trace_call {
    TRACE_CALL_MALLOC_TRIM, /* bytes: the pad asked for */
    TRACE_CALL_MALLOPT,     /* bytes: the parameter number */
    TRACE_CALL_MMAP,        /* anonymous mappings the program makes itself; bytes: length */
    TRACE_CALL_MUNMAP,      /* bytes: length */
    TRACE_CALL_MREMAP,      /* bytes: the new length */
    TRACE_CALL_COUNT
};

/* Largest encoded record: kind byte + 5 varints of at most 10 bytes. */
#define TRACE_RECORD_MAX 51

/* FNV-1a, 32 bits: enough to tell a torn or overwritten chunk, cheap to compute on exit. */
static inline uint32_t trace_checksum(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static inline uint8_t *trace_put_varint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Signed deltas (addresses jump both ways) as zigzag varints. */
static inline uint64_t trace_zigzag(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t trace_unzigzag(uint64_t v) {
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Reads a varint from [*p, end).  0, or -1 when it runs past end or over 64 bits. */
static inline int trace_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Fields after the seq and time deltas, per kind. */
static inline int trace_kind_fields(unsigned kind) {
    switch (kind) {
    case TRACE_FREE:
    case TRACE_USABLE_SIZE:
        return 1;
    case TRACE_MALLOC:
    case TRACE_CALLOC:
    case TRACE_UNSUPPORTED:
    case TRACE_RESIDENT:
        return 2;
    default:
        return 3;
    }
}

#endif
