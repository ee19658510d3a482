/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * join.c - the two directions of one connection under two connection keys (asymmetric
 * encapsulation: a VLAN tag or a tunnel on one direction only, as a SPAN port or a
 * router-on-a-stick shows them) taken into one record.
 *
 * Only whether a segment is the other direction of a record, and what the record keeps of
 * it; finding the record is the table's (flowtab.c), deciding to look is the engine's.
 * The rule is in conn.h (tcpst_conn_join_fits) and docs/encapsulations.md.
 */
#include <string.h>

#include "tcpstate/conn.h"
#include "tcpstate/seq.h"

/* How far apart two sequence numbers of one connection may be and still relate: more than
 * any window in flight (16 MiB), a small part of the 2^32 space of a random ISN. */
#define JOIN_SLACK (UINT32_C(1) << 24)

/* Does seg's ACK lie within what the talking endpoint p sent?  From its ISN + 1 when its SYN
 * was seen (a SYN-ACK must ack exactly that, or a TFO SYN's data), else from JOIN_SLACK
 * below the first sequence number it can have sent, up to the highest it sent. */
static bool ack_fits(const tcpst_endpoint *p, const tcpst_segment *seg)
{
    uint32_t hi = p->next_seq, lo;
    if ((p->has & TCPST_EP_ISN) && !(p->has & TCPST_EP_ISN_INFERRED)) {
        lo = p->isn + 1;
    } else {
        /* Each segment it sent reached at most its own length below next_seq. */
        uint64_t span = p->payload_bytes + p->syns + p->fins;
        lo = hi - (span > JOIN_SLACK ? JOIN_SLACK : (uint32_t)span) - JOIN_SLACK;
    }
    return tcpst_seq_ge(seg->ack, lo) && tcpst_seq_le(seg->ack, hi);
}

bool tcpst_conn_join_fits(const tcpst_conn *c, const tcpst_segment *seg)
{
    unsigned from = tcpst_conn_dir(c, seg);
    const tcpst_endpoint *e = &c->ep[from], *p = &c->ep[from ^ 1];
    if (c->joined || e->packets != 0 || p->packets == 0) {
        return false; /* not one-sided, or seg comes from the side that talks */
    }
    bool related = false;
    if ((seg->flags & TCPST_ACK) && (p->has & TCPST_EP_NEXT)) {
        if (!ack_fits(p, seg)) {
            return false;
        }
        related = true;
    }
    if (p->has & TCPST_EP_ACK) {
        /* What p acknowledged of seg's sender: seg starts near it (before it when it
         * repeats, after it by what is in flight). */
        if (!tcpst_seq_in_range(seg->seq, p->last_ack - JOIN_SLACK, 2 * JOIN_SLACK)) {
            return false;
        }
        related = true;
    }
    return related;
}

void tcpst_conn_join(tcpst_conn *c, const tcpst_segment *seg)
{
    unsigned from = tcpst_conn_dir(c, seg);
    c->joined = (uint8_t)(1 + from);
    c->key_alt = seg->key_ctx;
    c->nencap_alt = seg->nencap < TCPST_ENCAP_MAX ? seg->nencap : TCPST_ENCAP_MAX;
    memcpy(c->encap_alt, seg->encap, sizeof c->encap_alt);
}

unsigned tcpst_conn_layers_of(const tcpst_conn *c, unsigned who, const tcpst_encap **out)
{
    if (c->joined == 1 + who) {
        *out = c->encap_alt;
        return c->nencap_alt;
    }
    *out = c->encap;
    return c->nencap < TCPST_ENCAP_MAX ? c->nencap : TCPST_ENCAP_MAX;
}
