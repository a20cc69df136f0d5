/*
 * Decoding trace files (reader.h): the file header, then chunk after chunk until the data ends or
 * a chunk does not hold together.
 */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *trace_map(size_t bytes) {
    if (bytes == 0) bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void trace_unmap(void *p, size_t bytes) {
    if (p) munmap(p, bytes ? bytes : 1);
}

static const char *const kind_names[TRACE_KIND_COUNT] = {
    [TRACE_MALLOC] = "malloc",
    [TRACE_CALLOC] = "calloc",
    [TRACE_REALLOC] = "realloc",
    [TRACE_FREE] = "free",
    [TRACE_POSIX_MEMALIGN] = "posix_memalign",
    [TRACE_ALIGNED_ALLOC] = "aligned_alloc",
    [TRACE_MEMALIGN] = "memalign",
    [TRACE_VALLOC] = "valloc",
    [TRACE_PVALLOC] = "pvalloc",
    [TRACE_USABLE_SIZE] = "malloc_usable_size",
    [TRACE_UNSUPPORTED] = "unsupported",
    [TRACE_RESIDENT] = "resident",
};

const char *trace_kind_name(unsigned kind) {
    return kind < TRACE_KIND_COUNT && kind_names[kind] ? kind_names[kind] : "?";
}

static const char *const call_names[TRACE_CALL_COUNT] = {
    [TRACE_CALL_MALLOC_TRIM] = "malloc_trim",
    [TRACE_CALL_MALLOPT] = "mallopt",
    [TRACE_CALL_MMAP] = "mmap",
    [TRACE_CALL_MUNMAP] = "munmap",
    [TRACE_CALL_MREMAP] = "mremap",
};

const char *trace_call_name(unsigned call) {
    return call < TRACE_CALL_COUNT && call_names[call] ? call_names[call] : "?";
}

void trace_print_unsupported(FILE *out, const char *prefix, const struct trace *t) {
    static const char *const why[TRACE_CALL_COUNT] = {
        [TRACE_CALL_MALLOC_TRIM] = "the recording allocator's own release call",
        [TRACE_CALL_MALLOPT] = "a setting of the recording allocator",
        [TRACE_CALL_MMAP] = "anonymous memory the program mapped itself, outside malloc",
        [TRACE_CALL_MUNMAP] = "memory the program unmapped itself",
        [TRACE_CALL_MREMAP] = "mappings the program resized itself",
    };
    if (t->kinds[TRACE_USABLE_SIZE])
        fprintf(out,
                "%sunsupported: %llu malloc_usable_size calls (not replayed: what the program did "
                "with the answer cannot be reproduced)\n",
                prefix, (unsigned long long)t->kinds[TRACE_USABLE_SIZE]);
    for (unsigned c = 0; c < TRACE_CALL_COUNT; c++) {
        if (!t->calls[c]) continue;
        fprintf(out, "%sunsupported: %llu %s calls (not replayed: %s", prefix,
                (unsigned long long)t->calls[c], call_names[c], why[c]);
        if (c >= TRACE_CALL_MMAP)
            fprintf(out, "; %llu bytes", (unsigned long long)t->call_bytes[c]);
        fprintf(out, ")\n");
    }
}

static struct trace_record *grow(struct trace *t) {
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        /* mremap moves pages instead of copying them: never twice the records resident */
        void *r =
            t->rec ? mremap(t->rec, t->cap * sizeof *t->rec, cap * sizeof *t->rec, MREMAP_MAYMOVE)
                   : trace_map(cap * sizeof *t->rec);
        if (!r || r == MAP_FAILED) return NULL;
        t->rec = r;
        t->cap = cap;
    }
    return &t->rec[t->count++];
}

/* Decodes one chunk's payload.  0, or -1 naming the record that does not decode. */
static int decode_chunk(struct trace *t, const struct trace_chunk_header *h, const uint8_t *p,
                        const uint8_t *end, uint16_t image, char *why, size_t why_len) {
    uint64_t seq = h->base_seq, ns = h->base_ns, addr = 0;
    size_t first = t->count;
    for (uint32_t i = 0; i < h->records; i++) {
        uint64_t f[5] = {0};
        if (p >= end) goto bad;
        unsigned kind = *p++;
        if (kind == 0 || kind >= TRACE_KIND_COUNT) {
            snprintf(why, why_len, "record %u has unknown kind %u", i, kind);
            t->count = first;
            return -1;
        }
        int n = 2 + trace_kind_fields(kind);
        for (int k = 0; k < n; k++)
            if (trace_get_varint(&p, end, &f[k]) != 0) goto bad;
        struct trace_record *r = grow(t);
        if (!r) {
            snprintf(why, why_len, "out of memory at record %u", i);
            t->count = first;
            return -1;
        }
        memset(r, 0, sizeof *r);
        seq += f[0];
        ns += f[1];
        r->seq = seq;
        r->ns = ns;
        r->kind = (uint8_t)kind;
        r->tid = h->tid;
        r->image = image;
#define ADDR(v) (addr += (uint64_t)trace_unzigzag(v))
        switch (kind) {
        case TRACE_FREE:
        case TRACE_USABLE_SIZE:
            r->addr = ADDR(f[2]);
            break;
        case TRACE_MALLOC:
        case TRACE_CALLOC:
            r->size = f[2];
            r->result = ADDR(f[3]);
            break;
        case TRACE_UNSUPPORTED:
            if (f[2] >= TRACE_CALL_COUNT) {
                snprintf(why, why_len, "record %u names unknown call %llu", i,
                         (unsigned long long)f[2]);
                t->count = first;
                return -1;
            }
            r->call = (uint8_t)f[2];
            r->size = f[3];
            break;
        case TRACE_RESIDENT:
            r->addr = ADDR(f[2]);
            r->size = f[3];
            break;
        case TRACE_REALLOC:
            r->addr = ADDR(f[2]);
            r->size = f[3];
            r->result = ADDR(f[4]);
            break;
        default:
            r->align = f[2];
            r->size = f[3];
            r->result = ADDR(f[4]);
        }
#undef ADDR
    }
    if (p != end) {
        snprintf(why, why_len, "%zu bytes after its %u records", (size_t)(end - p), h->records);
        t->count = first;
        return -1;
    }
    return 0;
bad:
    snprintf(why, why_len, "record %zu of %u runs past the chunk", t->count - first, h->records);
    t->count = first;
    return -1;
}

static int read_header(const uint8_t *data, size_t len, const char *name, struct trace *t,
                       char *err, size_t err_len) {
    struct trace_file_header h;
    if (len < sizeof h || memcmp(data, TRACE_MAGIC, 8) != 0) {
        snprintf(err, err_len, "%s: not a hak allocation trace (no %s header)", name, TRACE_MAGIC);
        return -1;
    }
    memcpy(&h, data, sizeof h);
    if (h.version > TRACE_VERSION) {
        snprintf(err, err_len,
                 "%s: trace format version %u is newer than this hak reads (%u); use a newer hak",
                 name, h.version, TRACE_VERSION);
        return -1;
    }
    if (h.version == 0 || h.header_bytes != sizeof h) {
        snprintf(err, err_len, "%s: corrupt file header (version %u, %u header bytes)", name,
                 h.version, h.header_bytes);
        return -1;
    }
    if (t->images == 0) {
        t->pid = h.pid;
        t->ppid = h.ppid;
        t->flags = h.flags;
    }
    t->images++;
    return 0;
}

int trace_read_buffer(const uint8_t *data, size_t len, const char *name, struct trace *t, char *err,
                      size_t err_len) {
    memset(t, 0, sizeof *t);
    if (read_header(data, len, name, t, err, err_len) != 0) return -1;
    size_t off = sizeof(struct trace_file_header);
    while (off < len) {
        if (len - off >= 8 && memcmp(data + off, TRACE_MAGIC, 8) == 0) { /* an exec */
            if (t->images == UINT16_MAX ||
                read_header(data + off, len - off, name, t, err, err_len))
                return -1;
            off += sizeof(struct trace_file_header);
            continue;
        }
        struct trace_chunk_header h;
        char why[160] = "";
        if (len - off < sizeof h) {
            snprintf(why, sizeof why, "only %zu bytes of a chunk header", len - off);
        } else {
            memcpy(&h, data + off, sizeof h);
            if (h.magic != TRACE_CHUNK_MAGIC)
                snprintf(why, sizeof why, "no chunk magic");
            else if (h.payload_bytes > len - off - sizeof h)
                snprintf(why, sizeof why, "payload of %u bytes but only %zu left (torn write)",
                         h.payload_bytes, len - off - sizeof h);
            else if (trace_checksum(data + off + sizeof h, h.payload_bytes) != h.checksum)
                snprintf(why, sizeof why, "checksum mismatch");
            else {
                const uint8_t *p = data + off + sizeof h;
                decode_chunk(t, &h, p, p + h.payload_bytes, (uint16_t)(t->images - 1), why,
                             sizeof why);
            }
        }
        if (why[0]) {
            snprintf(t->note, sizeof t->note,
                     "%s: chunk %llu at byte %zu: %s; dropped it and the %zu bytes after it", name,
                     (unsigned long long)t->chunks + 1, off, why, len - off);
            break;
        }
        t->chunks++;
        off += sizeof h + h.payload_bytes;
    }
    return 0;
}

int trace_read_file(const char *path, struct trace *t, char *err, size_t err_len) {
    memset(t, 0, sizeof *t);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    void *data = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && data == MAP_FAILED) {
        snprintf(err, err_len, "%s: cannot map: %s", path, strerror(errno));
        return -1;
    }
    int rc = trace_read_buffer(data ? data : "", len, path, t, err, err_len);
    if (data) munmap(data, len);
    return rc;
}

void trace_free(struct trace *t) {
    trace_unmap(t->rec, t->cap * sizeof *t->rec);
    trace_unmap(t->slot_size, (t->count ? t->count : 1) * sizeof *t->slot_size);
    trace_unmap(t->slot_resident, (t->count ? t->count : 1) * sizeof *t->slot_resident);
    memset(t, 0, sizeof *t);
}
