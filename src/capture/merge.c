/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * merge.c - several sources read as one, in timestamp order: the inputs of
 * `tcpstate a.pcap b.pcap c.pcap`, one source each.
 *
 * The heap (heap.h, the project's one) holds, per child, the one record read
 * but not yet handed out.  A child keeps that record's bytes valid until its
 * next read (libpcap does), so nothing is copied, and the child whose record
 * was handed out last is read again only when the next record is asked for.
 * Ties go to the lower child index, which makes a capture rotated into several
 * files read exactly like the unsplit file: the order is total, so the records
 * leave in one order whatever the heap's layout.
 *
 * Records the filter rejected are ordered and passed on like the others
 * (capture.c numbers them), and a child's damage is passed on where it ends
 * that child's records, so the stream reads the same with or without a
 * read-ahead thread in front of the merge.
 *
 * Not done here: reading (the children), counting (capture.c).  Memory is
 * allocated only by tcpst__merge_new().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tcpstate/heap.h"

#include "source.h"

struct merge {
    tcpst__source base;
    tcpst__source **child; /* owned, and so is every child in it */
    size_t n;
    tcpst__rec *pending; /* child i's record read but not yet handed out */
    size_t *heap;        /* children with a pending record, earliest first */
    size_t len;
    bool advance_top; /* heap[0]'s record was handed out: read its next one first */
};

/* Timestamp order; ties to the lower index (ctx: the pending records). */
static bool earlier(const void *ctx, const size_t *a, const size_t *b)
{
    const tcpst__rec *p = ctx;
    tcpst_time ta = p[*a].ts;
    tcpst_time tb = p[*b].ts;
    return ta < tb || (ta == tb && *a < *b);
}

TCPST_HEAP_DEFINE(order, size_t, earlier)

/* Read child i's next record into its pending slot; false when it has none (END or
 * ERROR, which stays in the slot). */
static bool read_child(struct merge *m, size_t i)
{
    m->child[i]->ops->next(m->child[i], &m->pending[i]);
    tcpst__rec_kind k = m->pending[i].kind;
    return k == TCPST__REC_PACKET || k == TCPST__REC_FILTERED;
}

static void merge_next(tcpst__source *s, tcpst__rec *rec)
{
    struct merge *m = (struct merge *)s;
    if (m->advance_top) {
        m->advance_top = false;
        size_t i = m->heap[0];
        if (read_child(m, i)) {
            order_sift_down(m->heap, m->len, 0, m->pending);
        } else {
            (void)order_pop(m->heap, &m->len, m->pending);
            if (m->pending[i].kind == TCPST__REC_ERROR) {
                *rec = m->pending[i];
                return;
            }
        }
    }
    if (m->len == 0) {
        *rec = (tcpst__rec){.kind = TCPST__REC_END};
        return;
    }
    m->advance_top = true;
    *rec = m->pending[m->heap[0]];
}

static int merge_read_ahead_ok(const tcpst__source *s, tcpst_error *err)
{
    const struct merge *m = (const struct merge *)s;
    for (size_t i = 0; i < m->n; i++) {
        const tcpst__source *c = m->child[i];
        if (c->ops->read_ahead_ok == NULL) {
            return tcpst_error_set(err, TCPST_EUSAGE, TCPST__READ_AHEAD_FILES_ONLY);
        }
        int rc = c->ops->read_ahead_ok(c, err);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static void merge_close(tcpst__source *s)
{
    struct merge *m = (struct merge *)s;
    for (size_t i = 0; i < m->n; i++) {
        if (m->child[i] != NULL) {
            m->child[i]->ops->close(m->child[i]);
        }
    }
    free(m->child);
    free(m->pending);
    free(m->heap);
    free(m);
}

static void merge_finish(tcpst__source *s, tcpst__input *in)
{
    struct merge *m = (struct merge *)s;
    for (size_t i = 0; i < m->n; i++) {
        if (m->child[i] != NULL && m->child[i]->ops->finish != NULL) {
            m->child[i]->ops->finish(m->child[i], in);
        }
    }
}

static const tcpst__source_ops merge_ops = {
    .next = merge_next,
    .close = merge_close,
    .read_ahead_ok = merge_read_ahead_ok,
    .finish = merge_finish,
};

tcpst__source *tcpst__merge_new(tcpst__source **child, size_t n)
{
    /* On lines of its own: with read-ahead, the thread writes it for every record. */
    struct merge *m = tcpst__alloc_lines(sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    m->pending =
        n <= SIZE_MAX / sizeof(*m->pending) ? tcpst__alloc_lines(n * sizeof(*m->pending)) : NULL;
    m->heap = calloc(n, sizeof(*m->heap));
    if (m->pending == NULL || m->heap == NULL) {
        free(m->pending);
        free(m->heap);
        free(m);
        return NULL;
    }
    m->base.ops = &merge_ops;
    m->child = child;
    m->n = n;
    return &m->base;
}

void tcpst__merge_start(tcpst__source *s, tcpst__input *in)
{
    struct merge *m = (struct merge *)s;
    m->len = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (read_child(m, i)) {
            m->heap[m->len++] = i;
        } else if (m->pending[i].kind == TCPST__REC_ERROR) {
            tcpst__input_stop(&in[m->pending[i].input].info, m->pending[i].error);
        }
    }
    order_heapify(m->heap, m->len, m->pending);
}
