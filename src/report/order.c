/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * order.c - records back in id order (order.h): a heap of the records waiting in memory,
 * packed, and one of those spilled to a temporary file in sorted runs.
 *
 * Not here: formatting (the record is handed back to the report when its turn comes) or
 * what the file is for beyond this report (it is unlinked at once, gone with the process).
 */
#include "order.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pack.h"
#include "tcpstate/heap.h"

#define SPILL_IO     ((size_t)1 << 20)   /* bytes per write to the spill file */
#define RUN_READ     ((size_t)256 << 10) /* read-ahead of one spill run */
#define RUN_READ_ALL ((size_t)2 << 20)   /* read-ahead of all runs together */

/* A record waiting for lower ids, in memory: packed (data, len), or an id with nothing to
 * write (len 0). */
struct tcpst__pending {
    uint64_t id;
    char *data;
    uint32_t len;
};

/* In the spill file each record is this header, then its len packed bytes: a run carries its
 * own ids, so nothing per spilled record stays in memory (only one head per run). */
typedef struct spill_hdr {
    uint64_t id;
    uint32_t len;
    uint32_t pad;
} spill_hdr;

/* A run: records spilled at once, sorted by id, read back front to back through a buffer of
 * its own.  Runs wait in a heap by the id at their head. */
struct tcpst__spill_run {
    uint64_t next; /* file offset of its head record */
    uint64_t end;  /* one past its last byte */
    spill_hdr head;
    char *buf; /* the file's bytes [at, at + len) */
    uint64_t at;
    size_t len, cap;
};

/* A waiting record is kept as its connection and findings, not as text: packed, that is
 * ~5x smaller than its JSON (mostly unused timeline slots and zero counters). */
struct tcpst__held {
    tcpst_conn c;
    tcpst_finding f[TCPST_FINDINGS_MAX];
};
_Static_assert(sizeof(tcpst__held) % 8 == 0, "pack.h packs whole 64-bit words");
_Static_assert(sizeof(tcpst__held) + sizeof(tcpst__held) / 64 + 8 <= SPILL_IO,
               "a packed record fits in the spill file's write buffer");

typedef tcpst__pending pending;
typedef tcpst__spill_run spill_run;

static bool id_less(const void *ctx, const pending *a, const pending *b)
{
    (void)ctx;
    return a->id < b->id;
}
TCPST_HEAP_DEFINE(pheap, pending, id_less)

/* Runs are kept by pointer (each owns its buffer); the heap orders them by head id. */
typedef spill_run *run_ptr;
static bool run_less(const void *ctx, const run_ptr *a, const run_ptr *b)
{
    (void)ctx;
    return (*a)->head.id < (*b)->head.id;
}
TCPST_HEAP_DEFINE(rheap, run_ptr, run_less)

/* What a waiting record costs in memory: its entry in the heap and its bytes.  Ids with
 * nothing to write count too, so that a million of them spill like records do. */
static size_t mem_cost(const pending *p)
{
    return sizeof *p + p->len;
}

static void fail(tcpst__order *o, int e)
{
    if (!*o->err) {
        *o->err = e ? e : EIO;
    }
}

void tcpst__order_init(tcpst__order *o, size_t mem_max, tcpst__order_fn out, void *ctx, int *err)
{
    memset(o, 0, sizeof *o);
    o->out = out;
    o->ctx = ctx;
    o->err = err;
    o->mem_max = mem_max;
    o->next_id = 1;
    o->spill_fd = -1;
}

void tcpst__order_fini(tcpst__order *o)
{
    while (o->mem.n) {
        free(o->mem.a[--o->mem.n].data);
    }
    free(o->mem.a);
    for (size_t i = 0; i < o->nruns; i++) {
        free(o->runs[i]->buf);
        free(o->runs[i]);
    }
    free(o->runs);
    if (o->spill_fd >= 0) {
        close(o->spill_fd);
    }
    free(o->spill_w);
    free(o->held); /* and packed */
    memset(o, 0, sizeof *o);
    o->spill_fd = -1;
}

static bool heap_push(tcpst__order *o, tcpst__pheap *h, pending p)
{
    if (!tcpst_grow(&h->a, &h->cap, h->n, sizeof *h->a, 64)) {
        fail(o, ENOMEM);
        return false;
    }
    pheap_push(h->a, &h->n, p, NULL);
    return true;
}

/* The lowest id waiting in memory or on disk (UINT64_MAX: none). */
static uint64_t lowest_waiting(const tcpst__order *o)
{
    uint64_t m = o->mem.n ? o->mem.a[0].id : UINT64_MAX;
    uint64_t d = o->nruns ? o->runs[0]->head.id : UINT64_MAX;
    return m < d ? m : d;
}

/* The spill file's failure, kept apart from the report's own: the message names the file
 * (its directory and pattern), not the report. */
static void spill_fail(tcpst__order *o, int e)
{
    e = e ? e : EIO;
    if (!o->spill_err) {
        o->spill_err = e;
    }
    fail(o, e);
}

static bool spill_open(tcpst__order *o)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) {
        dir = "/tmp";
    }
    char path[sizeof o->spill_name];
    if ((size_t)snprintf(path, sizeof path, "%s/tcpstate-pending-XXXXXX", dir) >= sizeof path) {
        snprintf(o->spill_name, sizeof o->spill_name, "%.200s...", dir);
        spill_fail(o, ENAMETOOLONG);
        return false;
    }
    memcpy(o->spill_name, path, sizeof path);
    int fd = mkstemp(path);
    if (fd < 0) {
        spill_fail(o, errno);
        return false;
    }
    unlink(path); /* gone with the process, whatever happens */
    o->spill_fd = fd;
    return true;
}

/* All `len` bytes at spill file offset `off`, written from buf or read into it; false
 * (error kept) on failure. */
static bool spill_io(tcpst__order *o, bool write, char *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        off_t at = (off_t)(off + done);
        ssize_t n = write ? pwrite(o->spill_fd, buf + done, len - done, at)
                          : pread(o->spill_fd, buf + done, len - done, at);
        if (n <= 0) {
            spill_fail(o, n < 0 ? errno : EIO);
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

/* Write out the records waiting in spill_w. */
static bool spill_flush(tcpst__order *o)
{
    bool ok = spill_io(o, true, o->spill_w, o->spill_wlen, o->spill_end - o->spill_wlen);
    o->spill_wlen = 0;
    return ok;
}

/* Append a packed record to the spill file (through spill_w, which always has room for
 * one: see the assertion above); false (error kept) on failure. */
static bool spill_put(tcpst__order *o, const char *data, size_t len)
{
    if (o->spill_fd < 0 && !spill_open(o)) {
        return false;
    }
    if (o->spill_w == NULL && (o->spill_w = malloc(SPILL_IO)) == NULL) {
        fail(o, ENOMEM);
        return false;
    }
    if (o->spill_wlen + len > SPILL_IO && !spill_flush(o)) {
        return false;
    }
    memcpy(o->spill_w + o->spill_wlen, data, len);
    o->spill_wlen += len;
    return true;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const pending *)a)->id, y = ((const pending *)b)->id;
    return (x > y) - (x < y);
}

/* Move every record waiting in memory to the spill file as one run, in id order; false
 * (error kept) on failure. */
static bool spill_mem(tcpst__order *o)
{
    if (o->mem.n == 0) {
        return true;
    }
    if (!tcpst_grow(&o->runs, &o->capruns, o->nruns, sizeof *o->runs, 16)) {
        fail(o, ENOMEM);
        return false;
    }
    spill_run *run = calloc(1, sizeof *run);
    if (!run) {
        fail(o, ENOMEM);
        return false;
    }
    qsort(o->mem.a, o->mem.n, sizeof *o->mem.a, by_id);
    run->next = o->spill_end;
    run->head = (spill_hdr){o->mem.a[0].id, o->mem.a[0].len, 0};
    for (size_t i = 0; i < o->mem.n; i++) {
        pending *p = &o->mem.a[i];
        spill_hdr h = {p->id, p->len, 0};
        /* spill_end counts each piece as it is buffered: a flush writes at its end. */
        if (!spill_put(o, (const char *)&h, sizeof h)) {
            free(run);
            return false; /* the error is kept: the report fails, fini cleans up */
        }
        o->spill_end += sizeof h;
        if (p->len && !spill_put(o, p->data, p->len)) {
            free(run);
            return false;
        }
        o->spill_end += p->len;
        free(p->data);
        p->data = NULL;
        p->len = 0;
    }
    o->mem.n = 0;
    o->pending_bytes = 0;
    if (o->spill_wlen && !spill_flush(o)) {
        free(run);
        return false;
    }
    run->end = o->spill_end;
    rheap_push(o->runs, &o->nruns, run, NULL);
    return true;
}

/* `need` bytes at file offset `off` of run r, from its read-ahead buffer (refilled with up
 * to its share of RUN_READ_ALL), or NULL (error kept). */
static const char *run_bytes(tcpst__order *o, spill_run *r, uint64_t off, size_t need)
{
    if (off >= r->at && off + need <= r->at + r->len) {
        return r->buf + (off - r->at);
    }
    size_t want = RUN_READ_ALL / (o->nruns ? o->nruns : 1);
    want = want < RUN_READ ? want : RUN_READ;
    want = want > need ? want : need;
    if (want > r->end - off) {
        want = (size_t)(r->end - off);
    }
    if (want < need) {
        fail(o, EIO); /* a record running past its run: the file is not what was written */
        return NULL;
    }
    if (r->cap < want || r->cap > 2 * want) {
        /* Resized to its share: buffers shrink as more runs share the budget. */
        char *b = realloc(r->buf, want);
        if (!b) {
            fail(o, ENOMEM);
            return NULL;
        }
        r->buf = b;
        r->cap = want;
    }
    r->at = off;
    r->len = 0;
    if (!spill_io(o, false, r->buf, want, off)) {
        return NULL;
    }
    r->len = want;
    return r->buf;
}

/* Hold record c (NULL: not written, but its id still takes its turn) until the lower ids
 * are out. */
static void hold(tcpst__order *o, uint64_t id, const tcpst_conn *c)
{
    if (*o->err) {
        /* The report has failed: nothing more is kept.  A spill that failed half-way left
         * records in memory whose bytes are already gone; none may be spilled again. */
        return;
    }
    pending p = {id, NULL, 0};
    if (c) {
        if (!o->held) {
            if ((o->held = malloc(sizeof *o->held + tcpst__pack_bound(sizeof *o->held))) == NULL) {
                fail(o, ENOMEM);
                return;
            }
            o->packed = (unsigned char *)(o->held + 1);
        }
        tcpst__held *h = o->held;
        h->c = *c;
        uint8_t n = c->findings.n;
        if (n) {
            memcpy(h->f, c->findings.f, n * sizeof *h->f);
        }
        memset(h->f + n, 0, (TCPST_FINDINGS_MAX - n) * sizeof *h->f);
        h->c.findings.f = NULL; /* pointers are set again on the way out */
        h->c.findings.pool = NULL;
        p.len = (uint32_t)tcpst__pack(h, sizeof *h, o->packed);
    }
    if (o->pending_bytes + mem_cost(&p) > o->mem_max && !spill_mem(o)) {
        return;
    }
    if (p.len) {
        if ((p.data = malloc(p.len)) == NULL) {
            fail(o, ENOMEM);
            return;
        }
        memcpy(p.data, o->packed, p.len);
    }
    if (!heap_push(o, &o->mem, p)) {
        free(p.data);
        return;
    }
    o->pending_bytes += mem_cost(&p);
    if (o->pending_bytes > o->mem_max) {
        spill_mem(o); /* past the limit on its own: a run of one */
    }
}

/* Hand out the id whose turn it is. */
static void out_next(tcpst__order *o, const tcpst_conn *c)
{
    o->out(o->ctx, c);
    o->next_id++;
}

/* Hand out a packed record (len 0: an id without one). */
static void out_packed(tcpst__order *o, const void *packed, uint32_t len)
{
    if (len == 0) {
        out_next(o, NULL);
        return;
    }
    if (!packed || !tcpst__unpack(packed, len, o->held, sizeof *o->held)) {
        fail(o, EIO);
        return;
    }
    o->held->c.findings.f = o->held->f;
    out_next(o, &o->held->c);
}

/* Hand out the head of the run with the lowest one, and move that run on. */
static void release_spilled(tcpst__order *o)
{
    spill_run *r = o->runs[0];
    spill_hdr h = r->head;
    uint64_t at = r->next + sizeof h;
    uint64_t after = at + h.len;
    /* The record and, when there is one, the next header in one read. */
    size_t need = h.len + (after < r->end ? sizeof(spill_hdr) : 0);
    const char *b = need ? run_bytes(o, r, at, need) : NULL;
    if (need && !b) {
        return;
    }
    out_packed(o, b, h.len);
    if (*o->err) {
        return;
    }
    (void)rheap_pop(o->runs, &o->nruns, NULL);
    if (after < r->end) {
        memcpy(&r->head, b + h.len, sizeof r->head);
        r->next = after;
        rheap_push(o->runs, &o->nruns, r, NULL);
    } else {
        free(r->buf); /* the run is done */
        free(r);
    }
}

/* Hand out the lowest waiting record, from memory or a run, and let it go. */
static void release(tcpst__order *o)
{
    if (o->mem.n && (!o->nruns || o->mem.a[0].id < o->runs[0]->head.id)) {
        pending p = pheap_pop(o->mem.a, &o->mem.n, NULL);
        o->pending_bytes -= mem_cost(&p);
        out_packed(o, p.data, p.len);
        free(p.data);
    } else {
        release_spilled(o);
    }
    if (o->mem.n == 0 && o->nruns == 0 && o->spill_end > 0 && ftruncate(o->spill_fd, 0) == 0) {
        o->spill_end = 0; /* nothing waits: the file starts over */
    }
}

void tcpst__order_add(tcpst__order *o, uint64_t id, const tcpst_conn *c)
{
    if (*o->err) {
        return; /* failed: see hold() */
    }
    if (id != o->next_id) {
        hold(o, id, c); /* until the lower ids are out */
        return;
    }
    out_next(o, c);
    while (!*o->err && lowest_waiting(o) == o->next_id) {
        release(o);
    }
}

void tcpst__order_drain(tcpst__order *o)
{
    /* Every id was added exactly once, so nothing can remain queued. */
    while (!*o->err && lowest_waiting(o) != UINT64_MAX) {
        release(o);
    }
}
