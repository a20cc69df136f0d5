/*
 * Planning a replay (reader.h): records in the order they happened, threads numbered, and every
 * block named by a slot instead of its address.  Addresses are only meaningful while a block is
 * live (the program's allocator reuses them), so a hash table maps each live address to its slot
 * as the records go by; the replay then needs no table, only an array of slots.
 */
#include "reader.h"

#include <string.h>

static int before(const struct trace_record *a, const struct trace_record *b) {
    return a->image != b->image ? a->image < b->image : a->seq < b->seq;
}

static void swap(struct trace_record *a, struct trace_record *b) {
    struct trace_record t = *a;
    *a = *b;
    *b = t;
}

static void sift_down(struct trace_record *r, size_t i, size_t n) {
    for (;;) {
        size_t big = i, l = 2 * i + 1, rr = l + 1;
        if (l < n && before(&r[big], &r[l])) big = l;
        if (rr < n && before(&r[big], &r[rr])) big = rr;
        if (big == i) return;
        swap(&r[i], &r[big]);
        i = big;
    }
}

/* Heap sort: no allocation (qsort may malloc), and the threads' runs are long and sorted. */
static void sort_records(struct trace_record *r, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        sift_down(r, i, n);
    for (size_t end = n; end-- > 1;) {
        swap(&r[0], &r[end]);
        sift_down(r, 0, end);
    }
}

/* Open-addressing table: address -> slot + 1 (0 empty, UINT32_MAX a deleted entry). */
struct addr_map {
    uint64_t *key;
    uint32_t *val;
    size_t mask;
};

#define MAP_DELETED UINT32_MAX

static size_t hash(uint64_t a, size_t mask) {
    return (size_t)((a >> 4) * 0x9E3779B97F4A7C15ULL >> 20) & mask;
}

static uint32_t *map_find(struct addr_map *m, uint64_t a, int insert) {
    uint32_t *tomb = NULL;
    for (size_t i = hash(a, m->mask);; i = (i + 1) & m->mask) {
        if (m->val[i] == 0) {
            if (!insert) return NULL;
            if (tomb) {
                m->key[tomb - m->val] = a;
                return tomb;
            }
            m->key[i] = a;
            return &m->val[i];
        }
        if (m->val[i] == MAP_DELETED) {
            if (!tomb) tomb = &m->val[i];
        } else if (m->key[i] == a) {
            return &m->val[i];
        }
    }
}

static unsigned log2_bucket(uint64_t size) {
    unsigned k = 0;
    while (size) {
        k++;
        size >>= 1;
    }
    return k;
}

void trace_plan(struct trace *t) {
    sort_records(t->rec, t->count);
    /* Threads: tids in order of first appearance (a linear scan; programs have few threads). */
    uint32_t tids[4096];
    t->nthreads = 0;
    /* Slots: every record creates at most one. */
    t->slot_size = trace_map((t->count ? t->count : 1) * sizeof *t->slot_size);
    t->slot_resident = trace_map((t->count ? t->count : 1) * sizeof *t->slot_resident);
    struct addr_map m;
    size_t cap = 1024;
    while (cap < 2 * t->count + 2)
        cap *= 2;
    m.key = trace_map(cap * sizeof *m.key);
    m.val = trace_map(cap * sizeof *m.val);
    m.mask = cap - 1;
    if (!t->slot_size || !t->slot_resident || !m.key || !m.val) {
        t->count = 0; /* out of memory: an empty plan rather than a crash */
    }
    uint64_t live = 0;
    uint16_t image = 0;
    for (size_t i = 0; i < t->count; i++) {
        struct trace_record *r = &t->rec[i];
        uint32_t th = 0;
        while (th < t->nthreads && tids[th] != r->tid)
            th++;
        if (th == t->nthreads && t->nthreads < 4096) tids[t->nthreads++] = r->tid;
        r->thread = th < 4096 ? th : 4095;
        r->slot = r->target = TRACE_NO_SLOT;
        r->op = TRACE_OP_SKIP;
        t->kinds[r->kind]++;
        if (r->image != image) { /* an exec: the old heap is gone with the old image */
            image = r->image;
            memset(m.val, 0, cap * sizeof *m.val);
            live = 0;
        }
        if (r->kind == TRACE_USABLE_SIZE) continue;
        if (r->kind == TRACE_RESIDENT) { /* comes just before the block's free */
            uint32_t *v = map_find(&m, r->addr, 0);
            if (v && *v != MAP_DELETED) t->slot_resident[*v - 1] = r->size;
            continue;
        }
        if (r->kind == TRACE_UNSUPPORTED) {
            t->calls[r->call]++;
            t->call_bytes[r->call] += r->size;
            continue;
        }
        if (r->kind == TRACE_FREE || (r->kind == TRACE_REALLOC && r->addr)) {
            uint32_t *v = map_find(&m, r->addr, 0);
            if (v) {
                r->target = *v - 1;
                live -= t->slot_size[r->target];
                *v = MAP_DELETED;
            } else if (r->kind == TRACE_FREE || r->result) {
                if (t->unknown_frees++ == 0) t->first_unknown = i;
                if (r->kind == TRACE_FREE) continue;
            }
            if (r->kind == TRACE_FREE) {
                r->op = TRACE_OP_FREE;
                continue;
            }
        }
        if (r->kind != TRACE_FREE && r->size)
            t->size_hist[log2_bucket(r->size)]++;
        else if (r->kind != TRACE_FREE)
            t->size_hist[0]++;
        if (!r->result) {
            /* realloc(p, 0) that returned nothing freed p; any other empty result failed */
            if (r->kind == TRACE_REALLOC && r->size == 0 && r->target != TRACE_NO_SLOT)
                r->op = TRACE_OP_FREE;
            else {
                t->failed++;
                if (r->target != TRACE_NO_SLOT) { /* failed realloc: the old block stays */
                    *map_find(&m, r->addr, 1) = r->target + 1;
                    live += t->slot_size[r->target];
                    r->target = TRACE_NO_SLOT;
                }
            }
            continue;
        }
        r->op = r->kind == TRACE_REALLOC ? TRACE_OP_REALLOC : TRACE_OP_ALLOC;
        r->slot = t->nslots++;
        t->slot_size[r->slot] = r->size;
        uint32_t *v = map_find(&m, r->result, 1);
        if (*v != 0 && *v != MAP_DELETED) { /* handed out while live: a free we never saw */
            t->reused_live++;
            live -= t->slot_size[*v - 1];
        }
        *v = r->slot + 1;
        live += r->size;
        if (live > t->peak_live) t->peak_live = live;
    }
    t->final_live = live;
    if (t->count) t->duration_ns = t->rec[t->count - 1].ns - t->rec[0].ns;
    trace_unmap(m.key, cap * sizeof *m.key);
    trace_unmap(m.val, cap * sizeof *m.val);
}
