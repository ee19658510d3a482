// SPDX-License-Identifier: BSD-3-Clause
/*
 * stream.c - a live stream on a pipe or FIFO (`tcpdump -U -w - | tcpstate -`), read on a
 * thread of its own so that a silent stream does not stop the clock
 * (tcpst_capture_start_stream()).
 *
 * Reading a pipe blocks until the writer sends more.  A live capture must keep measuring
 * stuck states while it is silent, as -i does between packets; so the thread does the
 * blocking reads and hands each record over as soon as it has it, and the caller's next()
 * waits at most the poll interval before it returns IDLE.  Each record is handed over as
 * soon as it is read, never held back for a batch, through a ring of slots (the caller may
 * still read the previous record's bytes while the thread fills the others), so a busy
 * stream does not wait on the caller record by record.
 *
 * Not done here: deciding whether the stream is live (main.c, docs/capture-end.md), the
 * clock (the caller advances the engine on IDLE), counting (capture.c, as for any source).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source.h"

#define SLOTS 64 /* records read ahead of the caller at most */

struct slot {
    bool full;      /* written by the thread, not yet given back by the caller */
    tcpst__rec rec; /* its pointers point into buf, hdr */
    struct pcap_pkthdr hdr;
    uint8_t *buf;
    size_t cap;
};

struct stream {
    tcpst__source base;
    tcpst__source *inner; /* read on the thread; not owned */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a slot filled, or one given back */
    bool stop;         /* closing: the thread quits */
    struct slot slot[SLOTS];
    unsigned w;              /* the slot the thread fills next */
    unsigned r;              /* the slot the caller takes next */
    bool holding;            /* the caller has the slot before r (its last record) */
    int poll_ms;             /* longest wait for a record before IDLE */
    atomic_bool interrupted; /* tcpst_capture_interrupt(): return IDLE at once */
};

/* Copy what `r` points at into the slot, growing its buffer when needed (rarely: only a
 * record larger than any before). */
static bool fill(struct slot *sl, const tcpst__rec *r)
{
    size_t need = r->kind == TCPST__REC_PACKET  ? r->caplen
                  : r->kind == TCPST__REC_ERROR ? strlen(r->error) + 1
                                                : 0;
    if (need > sl->cap) {
        uint8_t *nb = realloc(sl->buf, need);
        if (nb == NULL) {
            return false;
        }
        sl->buf = nb;
        sl->cap = need;
    }
    sl->rec = *r;
    if (r->kind == TCPST__REC_PACKET) {
        memcpy(sl->buf, r->data, need);
        sl->rec.data = sl->buf;
        if (r->hdr != NULL) {
            sl->hdr = *r->hdr;
            sl->rec.hdr = &sl->hdr;
        }
    } else if (r->kind == TCPST__REC_ERROR) {
        memcpy(sl->buf, r->error, need);
        sl->rec.error = (const char *)sl->buf;
    }
    return true;
}

static void *stream_main(void *arg)
{
    struct stream *st = arg;
    /* Cancelled (at close, the writer still silent) only inside the blocking read. */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    for (;;) {
        pthread_mutex_lock(&st->mu);
        struct slot *sl = &st->slot[st->w];
        while (sl->full && !st->stop) {
            pthread_cond_wait(&st->cv, &st->mu);
        }
        bool stop = st->stop;
        pthread_mutex_unlock(&st->mu);
        if (stop) {
            return NULL;
        }
        tcpst__rec r;
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
        st->inner->ops->next(st->inner, &r);
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        if (!fill(sl, &r)) {
            r = (tcpst__rec){
                .kind = TCPST__REC_ERROR, .input = r.input, .error = "out of memory for a record"};
            (void)fill(sl, &r);
        }
        pthread_mutex_lock(&st->mu);
        sl->full = true;
        st->w = (st->w + 1u) % SLOTS;
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        if (r.kind == TCPST__REC_END) {
            return NULL; /* an ERROR ends one input; the merge goes on with the others */
        }
    }
}

static struct timespec deadline_in(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void stream_next(tcpst__source *s, tcpst__rec *rec)
{
    struct stream *st = (struct stream *)s;
    pthread_mutex_lock(&st->mu);
    if (st->holding) {
        struct slot *prev = &st->slot[(st->r + SLOTS - 1u) % SLOTS];
        if (prev->rec.kind == TCPST__REC_END) {
            *rec = prev->rec; /* END stays END */
            pthread_mutex_unlock(&st->mu);
            return;
        }
        prev->full = false; /* the last record's bytes may go now */
        st->holding = false;
        pthread_cond_broadcast(&st->cv);
    }
    struct slot *sl = &st->slot[st->r];
    struct timespec until = deadline_in(st->poll_ms);
    while (!sl->full && !atomic_exchange(&st->interrupted, false)) {
        if (pthread_cond_timedwait(&st->cv, &st->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    if (!sl->full) {
        pthread_mutex_unlock(&st->mu);
        *rec = (tcpst__rec){.kind = TCPST__REC_IDLE};
        return;
    }
    *rec = sl->rec;
    st->r = (st->r + 1u) % SLOTS;
    st->holding = true;
    pthread_mutex_unlock(&st->mu);
}

static void stream_interrupt(tcpst__source *s)
{
    struct stream *st = (struct stream *)s;
    atomic_store(&st->interrupted, true); /* async-signal-safe; seen within poll_ms */
}

/* Stops the thread (cancelling a read the writer never answers); the inner source stays
 * open: capture.c closes it next. */
static void stream_close(tcpst__source *s)
{
    struct stream *st = (struct stream *)s;
    /* capture.c clears cap->wake before closing its sources: no handler reaches st now. */
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_cancel(st->tid); /* only takes effect inside the read */
    pthread_join(st->tid, NULL);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    for (unsigned i = 0; i < SLOTS; i++) {
        free(st->slot[i].buf);
    }
    free(st);
}

static const tcpst__source_ops stream_ops = {
    .next = stream_next,
    .close = stream_close,
    .interrupt = stream_interrupt,
};

int tcpst_capture_start_stream(tcpst_capture *cap, int poll_ms, tcpst_error *err)
{
    if (cap->top != cap->src || tcpst_capture_is_live(cap)) {
        return tcpst_error_set(err, TCPST_EUSAGE, "a stream reader is for pipes and FIFOs");
    }
    struct stream *st = calloc(1, sizeof *st);
    if (st == NULL) {
        return tcpst_error_set(err, TCPST_ENOMEM, "out of memory for the stream reader");
    }
    st->base.ops = &stream_ops;
    st->inner = cap->src;
    st->poll_ms = poll_ms > 0 ? poll_ms : 100;
    atomic_init(&st->interrupted, false);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = tcpst__thread_start(&st->tid, stream_main, st);
    if (rc != 0) {
        pthread_cond_destroy(&st->cv);
        pthread_mutex_destroy(&st->mu);
        free(st);
        return tcpst_error_set(err, TCPST_ENOMEM, "cannot start the stream reader: %s",
                               strerror(rc));
    }
    cap->top = &st->base;
    atomic_store(&cap->wake, &st->base);
    return 0;
}
