/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * segrows.c - per-connection segment rows for the single-connection views (segrows.h).
 */
#include "segrows.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate/types.h"

static size_t home(uint64_t id, size_t cap)
{
    return (size_t)(id * 0x9e3779b97f4a7c15u) & (cap - 1);
}

static size_t find(const tcpst__segrows *t, uint64_t id)
{
    size_t j = home(id, t->cap);
    while (t->slots[j].id && t->slots[j].id != id) {
        j = (j + 1) & (t->cap - 1);
    }
    return j;
}

static tcpst__segconn *slot_add(tcpst__segrows *t, uint64_t id)
{
    if ((t->used + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        tcpst__segconn *ns = calloc(ncap, sizeof *ns);
        if (!ns) {
            return NULL;
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (t->slots[i].id) {
                size_t j = home(t->slots[i].id, ncap);
                while (ns[j].id) {
                    j = (j + 1) & (ncap - 1);
                }
                ns[j] = t->slots[i];
            }
        }
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    size_t j = find(t, id);
    if (!t->slots[j].id) {
        memset(&t->slots[j], 0, sizeof t->slots[j]);
        t->slots[j].id = id;
        t->used++;
    }
    return &t->slots[j];
}

const tcpst__segconn *tcpst__segrows_get(const tcpst__segrows *t, uint64_t id)
{
    if (!t->cap) {
        return NULL;
    }
    size_t j = find(t, id);
    return t->slots[j].id ? &t->slots[j] : NULL;
}

/* Remove id's slot, keeping the probe chains of the others whole. */
void tcpst__segrows_drop(tcpst__segrows *t, uint64_t id)
{
    if (!t->cap) {
        return;
    }
    size_t j = find(t, id);
    if (!t->slots[j].id) {
        return;
    }
    free(t->slots[j].rows);
    memset(&t->slots[j], 0, sizeof t->slots[j]);
    t->used--;
    for (size_t k = (j + 1) & (t->cap - 1); t->slots[k].id; k = (k + 1) & (t->cap - 1)) {
        tcpst__segconn moved = t->slots[k];
        memset(&t->slots[k], 0, sizeof moved);
        size_t to = find(t, moved.id);
        t->slots[to] = moved;
    }
}

void tcpst__segrows_free(tcpst__segrows *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].rows);
    }
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}

static uint64_t finding_total(const tcpst_conn *c)
{
    uint64_t n = c->findings.n;
    for (unsigned i = 0; i < c->findings.n; i++) {
        n += c->findings.f[i].count;
    }
    return n;
}

static bool push(tcpst__segconn *l, const tcpst__segrow *r)
{
    if (!tcpst_grow(&l->rows, &l->cap, l->n, sizeof *l->rows, 16)) {
        return false;
    }
    l->rows[l->n++] = *r;
    return true;
}

/* Fold segment row r into run row `run`. */
static void run_take(tcpst__segrow *run, const tcpst__segrow *r)
{
    unsigned d = r->from;
    if (!(run->dirs & (1u << d))) {
        run->run_seq[d] = r->seq;
        run->dirs |= (uint8_t)(1u << d);
    }
    run->run_end[d] = r->seq + r->len;
    run->run_ack[d] = r->ack;
    run->run_win[d] = r->win;
    run->marks |= r->marks;
    run->count++;
    run->bytes += r->len;
    run->last_frame = r->frame;
    run->last_ts = r->ts;
}

static void run_start(tcpst__segrow *run, const tcpst__segrow *first)
{
    memset(run, 0, sizeof *run);
    run->kind = TCPST__ROW_RUN;
    run->frame = first->frame;
    run->ts = first->ts;
    run->state[0] = first->state[0];
    run->state[1] = first->state[1];
}

/* Three ordinary rows in a row become a run; later ones extend it. */
static void add_ordinary(tcpst__segconn *l, const tcpst__segrow *r)
{
    tcpst__segrow *last = l->n ? &l->rows[l->n - 1] : NULL;
    if (last && last->kind == TCPST__ROW_RUN) { /* never REST: that is the last row */
        run_take(last, r);
        return;
    }
    if (l->ordinary < 2) {
        l->ordinary += push(l, r);
        return;
    }
    tcpst__segrow run, a = l->rows[l->n - 2], b = l->rows[l->n - 1];
    run_start(&run, &a);
    run_take(&run, &a);
    run_take(&run, &b);
    run_take(&run, r);
    l->n -= 2;
    l->ordinary = 0;
    push(l, &run);
}

void tcpst__segrows_add(tcpst__segrows *t, const tcpst_conn *c, unsigned from,
                        const tcpst_segment *seg, tcpst_time ts, uint64_t frame)
{
    tcpst__segconn *l = slot_add(t, c->id);
    if (!l) {
        return;
    }
    const tcpst_endpoint *snd = &c->ep[from], *rcv = &c->ep[from ^ 1];
    if (!(l->have_base & (1u << from))) {
        l->base[from] = (snd->has & TCPST_EP_ISN) ? snd->isn : seg->seq - 1;
        l->have_base |= (uint8_t)(1u << from);
    }
    tcpst__segrow r = {.kind = TCPST__ROW_SEGMENT,
                       .from = (uint8_t)from,
                       .flags = seg->flags,
                       .seq = seg->seq,
                       .ack = seg->ack,
                       .len = seg->payload_len,
                       .frame = frame,
                       .ts = ts};
    bool scaled =
        (snd->has & TCPST_EP_WSCALE) && (rcv->has & TCPST_EP_WSCALE) && !(seg->flags & TCPST_SYN);
    r.win = scaled ? (uint32_t)seg->window << snd->wscale : seg->window;
    for (unsigned i = 0; i < 2; i++) {
        const tcpst_endpoint *e = &c->ep[i];
        r.state[i] = e->state;
        if (e->tl_count && e->tl[e->tl_count - 1].frame == frame) {
            r.changed |= (uint8_t)(1u << i);
            r.inferred |= (uint8_t)(e->tl[e->tl_count - 1].inferred << i);
        }
    }
    /* The side's counters moved: this segment is what they counted. */
    if (snd->retrans_segments != l->retrans[from]) {
        r.marks |= TCPST__MARK_RETRANS;
    }
    if (snd->keepalives != l->keepalives[from]) {
        r.marks |= TCPST__MARK_KEEPALIVE;
    }
    if (snd->duplicates != l->duplicates[from]) {
        r.marks |= TCPST__MARK_DUPLICATE;
    }
    l->retrans[from] = snd->retrans_segments;
    l->keepalives[from] = snd->keepalives;
    l->duplicates[from] = snd->duplicates;
    uint64_t total = finding_total(c);
    if (total != l->finding_count) {
        r.marks |= TCPST__MARK_FINDING;
    }
    l->finding_count = total;
    if (seg->window == 0 && !(seg->flags & TCPST_RST)) {
        r.marks |= TCPST__MARK_ZEROWIN;
    }
    l->segments++;
    if (t->max_rows && l->n + 1 >= t->max_rows) {
        /* Bounded: the rest of the connection is one last run. */
        if (l->n + 1 == t->max_rows || l->rows[l->n - 1].kind != TCPST__ROW_REST) {
            tcpst__segrow run;
            run_start(&run, &r);
            run.kind = TCPST__ROW_REST;
            if (!push(l, &run)) {
                return;
            }
        }
        run_take(&l->rows[l->n - 1], &r);
        return;
    }
    bool ordinary = !(seg->flags & ~(TCPST_ACK | TCPST_PSH)) && (seg->flags & TCPST_ACK) &&
                    r.changed == 0 && !(r.marks & (t->keep_marks | TCPST__MARK_FINDING)) &&
                    l->segments > t->raw_first;
    if (ordinary) {
        add_ordinary(l, &r);
    } else {
        l->ordinary = 0;
        push(l, &r);
    }
}
