/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * readahead.c - read a source on a thread of its own (tcpst_capture_start_reader()), and
 * hand its records to the caller's thread through a ring.
 *
 * The thread runs the opened source's next() - libpcap, the merge of several files, the
 * BPF filter - and the caller's prep step, and writes each record into a ring of 1 MiB
 * chunks, while the caller's thread analyses.  This file is then the source capture.c
 * reads, and it hands the records out as the thread wrote them: frame numbers, per-input
 * counters and the damage of a truncated file are still applied by capture.c as it takes
 * them, in stream order, so a run that stops early (a signal, --count) reports exactly
 * what the same run without the thread would.  Locks are taken once per chunk, not per
 * packet, and the chunks are allocated once.
 *
 * Not done here: anything live (a live source cannot be read ahead: its packets must
 * reach the analysis as they come, and so must a pipe's), -w (not with the thread).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define RD_CHUNK_SIZE ((size_t)1 << 20) /* > libpcap's largest record (256 KiB) */
#define RD_CHUNKS     8
#define RD_PREP_MAX   4096

/* A record in a chunk: this header, the prep output of a passed packet, then its bytes
 * (or an error's text), padded to 8 bytes. */
struct rec {
    uint32_t kind;    /* tcpst__rec_kind */
    uint32_t input;   /* index into the inputs */
    uint32_t caplen;  /* PACKET: frame bytes that follow (after the prep output);
                         ERROR: message length + 1 */
    uint32_t wirelen; /* original length */
    tcpst_time ts;
    int32_t linktype; /* PACKET, FILTERED: its link type (pcapng inputs have several) */
    uint32_t pad;
};

struct chunk {
    _Alignas(TCPST__LINE) uint8_t *buf; /* the reader fills one while the consumer reads
                                           another */
    size_t len;
    bool full; /* written by the reader, not yet given back by the consumer */
};

struct reader {
    tcpst__source base;      /* the consumer's side, read by capture.c */
    tcpst__source *inner;    /* read on the thread; not owned */
    tcpst_capture_prep prep; /* fn NULL: none; both sides read these, nobody writes */
    size_t prep_size;        /* prep.size rounded up to keep the frame 8-byte aligned */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop; /* the consumer is closing: the reader quits at its next chunk */
    struct chunk chunk[RD_CHUNKS];
    uint64_t wseq;                       /* chunk the reader fills next (mod RD_CHUNKS) */
    _Alignas(TCPST__LINE) uint64_t rseq; /* chunk the consumer reads */
    bool holding;                        /* the consumer is reading chunk rseq */
    size_t pos;                          /* consumer's offset in it */
};

static size_t rec_size(size_t payload)
{
    return (sizeof(struct rec) + payload + 7) & ~(size_t)7;
}

/* Bytes of prep output after a record's header: passed packets, when there is a step. */
static size_t prep_bytes(const struct reader *rd, uint32_t kind)
{
    return kind == TCPST__REC_PACKET && rd->prep.fn != NULL ? rd->prep_size : 0;
}

/* ---- the reader's side ---------------------------------------------------------- */

/* Hand the chunk being filled to the consumer and wait for the next one to be free.
 * Returns false when the consumer asked to stop. */
static bool rd_publish(struct reader *rd, struct chunk **cur)
{
    pthread_mutex_lock(&rd->mu);
    (*cur)->full = true;
    rd->wseq++;
    pthread_cond_broadcast(&rd->cv);
    struct chunk *next = &rd->chunk[rd->wseq % RD_CHUNKS];
    while (next->full && !rd->stop) {
        pthread_cond_wait(&rd->cv, &rd->mu);
    }
    bool go = !rd->stop;
    pthread_mutex_unlock(&rd->mu);
    next->len = 0;
    *cur = next;
    return go;
}

/* Make room for `need` bytes in the chunk being filled; false when the consumer asked to
 * stop. */
static bool rd_room(struct reader *rd, struct chunk **cur, size_t need)
{
    return (*cur)->len + need <= RD_CHUNK_SIZE || rd_publish(rd, cur);
}

/* Append a record: its header, the prep output of a passed packet, then `data` (of such a
 * packet only the bytes the prep step says the consumer needs); false when the consumer
 * asked to stop. */
static bool rd_put(struct reader *rd, struct chunk **cur, const struct rec *h_in, int linktype,
                   const void *data)
{
    struct rec h = *h_in;
    size_t ps = prep_bytes(rd, h.kind);
    size_t most = RD_CHUNK_SIZE - sizeof h - ps;
    if (h.caplen > most) {
        /* libpcap never hands out more than 256 KiB for the link types read here; should
         * it, the record is cut rather than written past the chunk. */
        h.caplen = (uint32_t)most;
    }
    /* Room for the whole frame: how much the prep step keeps is known only after it. */
    if (!rd_room(rd, cur, rec_size(ps + h.caplen))) {
        return false;
    }
    uint8_t *p = (*cur)->buf + (*cur)->len;
    if (ps) {
        uint32_t keep =
            rd->prep.fn(rd->prep.ctx, linktype, data, h.caplen, h.wirelen, p + sizeof h);
        h.caplen = keep < h.caplen ? keep : h.caplen;
    }
    memcpy(p, &h, sizeof h);
    if (h.caplen) {
        memcpy(p + sizeof h + ps, data, h.caplen);
    }
    (*cur)->len += rec_size(ps + h.caplen);
    return true;
}

/* Write one record of the inner source into the ring; false when the consumer asked to
 * stop. */
static bool rd_put_rec(struct reader *rd, struct chunk **cur, const tcpst__rec *r)
{
    if (r->kind == TCPST__REC_ERROR) {
        struct rec h = {
            .kind = TCPST__REC_ERROR, .input = r->input, .caplen = (uint32_t)strlen(r->error) + 1};
        return rd_put(rd, cur, &h, 0, r->error);
    }
    bool pass = r->kind == TCPST__REC_PACKET;
    struct rec h = {.kind = r->kind,
                    .input = r->input,
                    .caplen = pass ? r->caplen : 0,
                    .wirelen = r->wirelen,
                    .ts = r->ts,
                    .linktype = r->linktype};
    return rd_put(rd, cur, &h, r->linktype, r->data);
}

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    struct chunk *cur = &rd->chunk[rd->wseq % RD_CHUNKS];
    cur->len = 0;
    for (;;) {
        tcpst__rec r;
        rd->inner->ops->next(rd->inner, &r);
        if (r.kind == TCPST__REC_END) {
            struct rec h = {.kind = TCPST__REC_END};
            if (rd_put(rd, &cur, &h, 0, NULL)) {
                (void)rd_publish(rd, &cur);
            }
            return NULL;
        }
        if (!rd_put_rec(rd, &cur, &r)) {
            return NULL;
        }
    }
}

/* ---- the consumer's side -------------------------------------------------------- */

/* The chunk holding the next record, waiting for the reader if it has none yet. */
static struct chunk *hold_chunk(struct reader *rd)
{
    for (;;) {
        struct chunk *ch = &rd->chunk[rd->rseq % RD_CHUNKS];
        if (!rd->holding) {
            pthread_mutex_lock(&rd->mu);
            while (!ch->full) {
                pthread_cond_wait(&rd->cv, &rd->mu);
            }
            pthread_mutex_unlock(&rd->mu);
            rd->holding = true;
            rd->pos = 0;
        }
        if (rd->pos < ch->len) {
            return ch;
        }
        /* Done with it (the last packet handed out pointed into it: that is allowed to
         * end now). */
        pthread_mutex_lock(&rd->mu);
        ch->full = false;
        rd->rseq++;
        rd->holding = false;
        pthread_cond_broadcast(&rd->cv);
        pthread_mutex_unlock(&rd->mu);
    }
}

static void ra_next(tcpst__source *s, tcpst__rec *rec)
{
    struct reader *rd = (struct reader *)s;
    struct chunk *ch = hold_chunk(rd);
    struct rec h;
    memcpy(&h, ch->buf + rd->pos, sizeof h);
    const uint8_t *data = ch->buf + rd->pos + sizeof h;
    *rec = (tcpst__rec){.kind = (tcpst__rec_kind)h.kind,
                        .input = h.input,
                        .wirelen = h.wirelen,
                        .ts = h.ts,
                        .linktype = h.linktype};
    switch (h.kind) {
        case TCPST__REC_END:
            return; /* stays on the END record: later calls return END too */
        case TCPST__REC_ERROR:
            rec->error = (const char *)data;
            break;
        case TCPST__REC_PACKET: {
            size_t ps = prep_bytes(rd, h.kind);
            rec->data = data + ps;
            rec->caplen = h.caplen;
            rec->prep = ps ? data : NULL;
            rd->pos += rec_size(ps + h.caplen);
            return;
        }
        default: /* FILTERED */
            break;
    }
    rd->pos += rec_size(h.caplen);
}

static void reader_free(struct reader *rd)
{
    for (int k = 0; k < RD_CHUNKS; k++) {
        free(rd->chunk[k].buf);
    }
    free(rd);
}

/* Stops the thread; the inner source stays open (capture.c closes it next). */
static void ra_close(tcpst__source *s)
{
    struct reader *rd = (struct reader *)s;
    pthread_mutex_lock(&rd->mu);
    rd->stop = true;
    pthread_cond_broadcast(&rd->cv);
    pthread_mutex_unlock(&rd->mu);
    pthread_join(rd->tid, NULL);
    pthread_cond_destroy(&rd->cv);
    pthread_mutex_destroy(&rd->mu);
    reader_free(rd);
}

static const tcpst__source_ops ra_ops = {
    .next = ra_next,
    .close = ra_close,
};

/* ---- starting ----------------------------------------------------------------------- */

static struct reader *reader_new(const tcpst_capture_prep *prep)
{
    struct reader *rd = tcpst__alloc_lines(sizeof *rd);
    if (rd == NULL) {
        return NULL;
    }
    for (int k = 0; k < RD_CHUNKS; k++) {
        rd->chunk[k].buf = malloc(RD_CHUNK_SIZE);
        if (rd->chunk[k].buf == NULL) {
            reader_free(rd);
            return NULL;
        }
    }
    if (prep != NULL && prep->fn != NULL) {
        rd->prep = *prep;
        rd->prep_size = (prep->size + 7) & ~(size_t)7;
    }
    rd->base.ops = &ra_ops;
    return rd;
}

int tcpst_capture_start_reader(tcpst_capture *cap, const tcpst_capture_prep *prep, tcpst_error *err)
{
    tcpst__source *src = cap->src;
    if (src->ops->read_ahead_ok == NULL || cap->dump != NULL || cap->top != src) {
        return tcpst_error_set(err, TCPST_EUSAGE, TCPST__READ_AHEAD_FILES_ONLY);
    }
    if (prep != NULL && prep->fn != NULL && prep->size > RD_PREP_MAX) {
        return tcpst_error_set(err, TCPST_EUSAGE, "read-ahead prep output above 4 KiB");
    }
    int rc = src->ops->read_ahead_ok(src, err);
    if (rc != 0) {
        return rc;
    }
    struct reader *rd = reader_new(prep);
    if (rd == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory for the read-ahead buffers");
    }
    rd->inner = src;
    pthread_mutex_init(&rd->mu, NULL);
    pthread_cond_init(&rd->cv, NULL);
    rc = tcpst__thread_start(&rd->tid, reader_main, rd);
    if (rc != 0) {
        pthread_cond_destroy(&rd->cv);
        pthread_mutex_destroy(&rd->mu);
        reader_free(rd);
        return tcpst_error_set(err, TCPST_ENOMEM, "cannot start the reader thread: %s",
                               strerror(rc));
    }
    cap->top = &rd->base;
    return 0;
}
