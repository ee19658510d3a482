/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * endpoint.c - one side's RFC 9293 state machine, driven by captured segments.
 *
 * Every segment drives the sender's machine from what it chose to send
 * (observed) and then the receiver's machine from what receiving it does
 * (inferred, RFC 9293 section 3.10.7).  Two inferences can later prove wrong
 * when a segment shows the peer acted before it received ours: a peer that
 * opens actively although we guessed LISTEN (simultaneous open, 3.5 fig. 8)
 * and a peer that sends its FIN before our FIN reached it (simultaneous
 * close, 3.6 fig. 13).  Only then is the provisional inferred transition
 * withdrawn and replaced by the observed path.
 *
 * Not here: retransmission counting and sequence bookkeeping (conn.c), table
 * management (flowtab.c), anomaly findings (later modules).
 */
#include "tcpstate/endpoint.h"

#include <string.h>

#include "tcpstate/seq.h"

/* tcpst_transition stores states and causes in bit-fields (conn.h). */
_Static_assert(TCPST_STATE__COUNT <= 16, "a state must fit tcpst_transition.from/to");
_Static_assert(TCPST_CAUSE_ACK_IMPLIED < 8, "a cause must fit tcpst_transition.cause");

static const char *const state_names[TCPST_STATE__COUNT] = {
#define TCPST_X_NAME(name) #name,
    TCPST_STATE_MAP(TCPST_X_NAME)
#undef TCPST_X_NAME
};

const char *tcpst_state_name(tcpst_state s)
{
    return (unsigned)s < TCPST_STATE__COUNT ? state_names[s] : "?";
}

int tcpst_state_parse(const char *name)
{
    for (int i = 0; i < TCPST_STATE__COUNT; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *tcpst_cause_name(tcpst_cause c)
{
    switch (c) {
        case TCPST_CAUSE_SEGMENT:
            return "segment";
        case TCPST_CAUSE_MIDSTREAM:
            return "midstream";
        case TCPST_CAUSE_TIMER:
            return "timer";
        case TCPST_CAUSE_ACK_IMPLIED:
            return "ack_implied";
        case TCPST_CAUSE_NEW_SYN:
            return "new_syn";
    }
    return "?";
}

void tcpst_endpoint_set_state(tcpst_endpoint *e, tcpst_state to, const tcpst_segctx *sc,
                              bool inferred, tcpst_cause cause)
{
    if (e->state == to) {
        return;
    }
    if (e->tl_count < TCPST_TIMELINE_MAX) {
        tcpst_transition *t = &e->tl[e->tl_count++];
        memset(t, 0, sizeof *t);
        t->ts = sc->ts;
        t->frame = sc->frame;
        if (sc->seg) {
            t->seq = sc->seg->seq;
            t->ack = sc->seg->ack;
            t->len = sc->seg->payload_len;
            t->flags = sc->seg->flags;
        }
        t->from = e->state & 0xFu;
        t->to = (unsigned)to & 0xFu;
        t->inferred = inferred ? 1u : 0u;
        t->cause = (unsigned)cause & 0x7u;
    } else {
        e->tl_dropped++;
    }
    e->state = (uint8_t)to;
    e->state_since = sc->ts;
}

/* Never had a state of its own and never sent anything: a blank side. */
static bool fresh(const tcpst_endpoint *e)
{
    return e->tl_count == 0 && e->tl_dropped == 0 && !(e->has & TCPST_EP_SENT);
}

/*
 * Withdraw the last transition if it was an inference into `state` that the
 * endpoint's own segment has just contradicted.  Only possible while the
 * timeline is complete; otherwise the later observed transition simply
 * follows the inferred one.
 */
/* Take the latest transition back: the endpoint is where it was before it. */
static void pop_transition(tcpst_endpoint *e)
{
    e->state = e->tl[e->tl_count - 1].from;
    e->tl_count--;
    e->state_since = e->tl_count ? e->tl[e->tl_count - 1].ts : e->first_ts;
}

static bool retract(tcpst_endpoint *e, tcpst_state state)
{
    if (e->tl_dropped || e->tl_count == 0 || e->state != state) {
        return false;
    }
    const tcpst_transition *t = &e->tl[e->tl_count - 1];
    if (!t->inferred || t->to != state) {
        return false;
    }
    pop_transition(e);
    return true;
}

bool tcpst_endpoint_undo_frame(tcpst_endpoint *e, uint64_t frame)
{
    bool undone = false;
    while (frame && !e->tl_dropped && e->tl_count && e->tl[e->tl_count - 1].frame == frame) {
        pop_transition(e);
        undone = true;
    }
    return undone;
}

static bool acks_syn(const tcpst_endpoint *p, uint32_t ack)
{
    /* RFC 9293 3.10.7.3: acceptable if ISS < SEG.ACK =< SND.NXT. */
    if (!(p->has & TCPST_EP_ISN)) {
        return true;
    }
    if (!tcpst_seq_gt(ack, p->isn)) {
        return false;
    }
    return !(p->has & TCPST_EP_NEXT) || tcpst_seq_le(ack, p->next_seq);
}

static bool acks_fin(const tcpst_endpoint *p, const tcpst_segment *seg)
{
    return (seg->flags & TCPST_ACK) && (p->has & TCPST_EP_FIN) &&
           tcpst_seq_gt(seg->ack, p->fin_seq);
}

bool tcpst_endpoint_rst_acceptable(const tcpst_endpoint *e, const tcpst_endpoint *peer,
                                   const tcpst_segment *seg)
{
    if (peer->state == TCPST_SYN_SENT) {
        /* RFC 9293 3.10.7.3: in SYN-SENT a RST counts only if it acks our SYN. */
        return (seg->flags & TCPST_ACK) && acks_syn(peer, seg->ack);
    }
    if (peer->state == TCPST_LISTEN || fresh(peer)) {
        return true; /* nothing to check against; LISTEN ignores it anyway */
    }
    /*
     * RFC 5961 3.2: in synchronized states a RST resets only when SEG.SEQ ==
     * RCV.NXT.  The receiver's RCV.NXT lies between what it last acknowledged
     * and what the sender has sent (data in flight at the capture point).
     */
    bool have_lo = (peer->has & TCPST_EP_ACK) != 0;
    bool have_hi = (e->has & TCPST_EP_NEXT) != 0;
    if (!have_lo && !have_hi) {
        return true;
    }
    uint32_t lo = have_lo ? peer->last_ack : e->next_seq;
    uint32_t hi = have_hi ? e->next_seq : peer->last_ack;
    if (tcpst_seq_lt(hi, lo)) {
        uint32_t t = lo;
        lo = hi;
        hi = t;
    }
    return tcpst_seq_ge(seg->seq, lo) && tcpst_seq_le(seg->seq, hi);
}

/*
 * RFC 9293 3.10.7.3: in SYN-SENT an ACK that does not acknowledge our SYN is answered with
 * <SEQ=SEG.ACK><CTL=RST>, the segment is dropped and the state stays SYN-SENT.  A RST from
 * SYN_SENT at the peer's acknowledgement number is that answer: it ends the peer's older
 * connection on these ports (3.5.1 figure 10, half-open discovery; 3.5 figure 9, an old
 * duplicate SYN), not this attempt.
 */
static bool answers_stale_ack(const tcpst_endpoint *e, const tcpst_endpoint *p,
                              const tcpst_segment *seg)
{
    return e->state == TCPST_SYN_SENT && (p->has & TCPST_EP_ACK) && seg->seq == p->last_ack &&
           !acks_syn(e, p->last_ack);
}

static unsigned reset_stale(tcpst_endpoint *p, const tcpst_segctx *sc)
{
    if (p->state == TCPST_SYN_RECEIVED && (p->has & TCPST_EP_PASSIVE)) {
        tcpst_endpoint_set_state(p, TCPST_LISTEN, sc, true, TCPST_CAUSE_SEGMENT);
    } else if (p->state != TCPST_LISTEN) {
        tcpst_endpoint_set_state(p, TCPST_CLOSED, sc, true, TCPST_CAUSE_SEGMENT);
    }
    /* Its sequence and acknowledgement numbers were the old connection's: the listener
     * answers the SYN again from its own new ISN. */
    p->has = (uint16_t)(p->has & ~(TCPST_EP_NEXT | TCPST_EP_ACK));
    return TCPST_EV_RST_STALE;
}

/*
 * Linux checks the echoed timestamp of an ACK in SYN-SENT before it looks at the RST bit
 * (tcp_rcv_synsent_state_process, PAWSActiveRejected): a TSecr other than 0 must lie between
 * the TSval of its first SYN and its clock.  A RST+ACK echoing a TSval the client never
 * sent (stale, or forged) is dropped and the handshake goes on.
 */
static bool tsecr_not_sent(const tcpst_endpoint *p, const tcpst_segment *seg)
{
    const tcpst_tcpopts *o = &seg->opts;
    if (p->state != TCPST_SYN_SENT || !(o->present & TCPST_HAS_TS) || o->tsecr == 0 ||
        (p->has & (TCPST_EP_TS | TCPST_EP_TSVAL)) != (TCPST_EP_TS | TCPST_EP_TSVAL)) {
        return false;
    }
    return tcpst_seq_lt(o->tsecr, p->syn_tsval) || tcpst_seq_gt(o->tsecr, p->tsval);
}

static unsigned process_rst(tcpst_endpoint *e, tcpst_endpoint *p, const tcpst_segctx *sc)
{
    const tcpst_segment *seg = sc->seg;
    if (!(seg->flags & TCPST_SYN) && answers_stale_ack(e, p, seg)) {
        return reset_stale(p, sc);
    }
    if ((seg->flags & TCPST_SYN) || !tcpst_endpoint_rst_acceptable(e, p, seg)) {
        /* SYN+RST is no legal segment; an unacceptable RST changes nothing. */
        return TCPST_EV_RST_REJECTED;
    }
    if (tsecr_not_sent(p, seg)) {
        return TCPST_EV_RST_IGNORED; /* changes nothing either */
    }
    e->has |= TCPST_EP_RST;
    tcpst_endpoint_set_state(e, TCPST_CLOSED, sc, false, TCPST_CAUSE_SEGMENT);
    if (p->state == TCPST_LISTEN || fresh(p)) {
        return TCPST_EV_RST_ACCEPTED;
    }
    if (p->state == TCPST_SYN_RECEIVED && (p->has & TCPST_EP_PASSIVE)) {
        /* RFC 9293 3.10.7.4: a passively opened connection returns to LISTEN. */
        tcpst_endpoint_set_state(p, TCPST_LISTEN, sc, true, TCPST_CAUSE_SEGMENT);
    } else {
        tcpst_endpoint_set_state(p, TCPST_CLOSED, sc, true, TCPST_CAUSE_SEGMENT);
    }
    return TCPST_EV_RST_ACCEPTED;
}

/*
 * The passive side repeats its SYN-ACK after the peer's ACK made it ESTABLISHED (an
 * inference): it never took that ACK in.  Linux drops the final ACK when the listen
 * queue is full and stays in SYN_RECEIVED, retransmitting its SYN-ACK, while the client
 * believes it is ESTABLISHED.  Withdraw the inference: the side is in SYN_RECEIVED until
 * an ACK is taken (the next one moves it on again).
 */
static bool ack_not_taken(tcpst_endpoint *e, const tcpst_segment *seg)
{
    if (!(e->has & TCPST_EP_PASSIVE) || !(e->has & TCPST_EP_ISN) || seg->seq != e->isn ||
        !(e->has & TCPST_EP_NEXT) || e->next_seq != e->isn + 1 || e->tl_count == 0 ||
        e->tl[e->tl_count - 1].from != TCPST_SYN_RECEIVED) {
        return false; /* it has sent more than its SYN since, or was not waiting */
    }
    return retract(e, TCPST_ESTABLISHED);
}

/* The sender's own SYN or SYN-ACK. */
static unsigned send_syn(tcpst_endpoint *e, tcpst_endpoint *p, const tcpst_segctx *sc)
{
    const tcpst_segment *seg = sc->seg;
    unsigned ev = 0;
    if (!(seg->flags & TCPST_ACK)) {
        if (e->state == TCPST_LISTEN && retract(e, TCPST_LISTEN)) {
            /* We guessed LISTEN from the peer's SYN; a bare SYN shows an active open. */
            ev |= TCPST_EV_SIMUL_OPEN;
        }
        if (e->state == TCPST_CLOSED || e->state == TCPST_LISTEN) {
            e->isn = seg->seq;
            e->has = (uint16_t)((e->has | TCPST_EP_ISN) & ~TCPST_EP_ISN_INFERRED);
            tcpst_endpoint_set_state(e, TCPST_SYN_SENT, sc, false, TCPST_CAUSE_SEGMENT);
        }
        return ev;
    }
    /* SYN-ACK: the sender has received a SYN. */
    if (e->state == TCPST_ESTABLISHED && ack_not_taken(e, seg)) {
        return TCPST_EV_ACK_NOT_TAKEN;
    }
    if (e->state != TCPST_CLOSED && e->state != TCPST_LISTEN && e->state != TCPST_SYN_SENT) {
        return ev; /* retransmission, or nonsense in a later state */
    }
    if (fresh(p) || (p->state == TCPST_CLOSED && !(p->has & TCPST_EP_ISN))) {
        /* The SYN it answers was not captured: the peer must be SYN_SENT. */
        p->isn = seg->ack - 1;
        p->next_seq = seg->ack;
        p->has |= TCPST_EP_ISN | TCPST_EP_ISN_INFERRED | TCPST_EP_NEXT;
        tcpst_endpoint_set_state(p, TCPST_SYN_SENT, sc, true, TCPST_CAUSE_ACK_IMPLIED);
    }
    if (e->state != TCPST_SYN_SENT) {
        e->has |= TCPST_EP_PASSIVE;
    }
    e->isn = seg->seq;
    e->has |= TCPST_EP_ISN;
    tcpst_endpoint_set_state(e, TCPST_SYN_RECEIVED, sc, false, TCPST_CAUSE_SEGMENT);
    return ev;
}

/* A non-SYN segment proves the sender is past the handshake. */
static void send_nonsyn(tcpst_endpoint *e, tcpst_endpoint *p, const tcpst_segctx *sc)
{
    const tcpst_segment *seg = sc->seg;
    if (!(seg->flags & TCPST_ACK)) {
        return; /* RFC 9293 3.10.7.4: segments without ACK are dropped once synchronized */
    }
    switch (e->state) {
        case TCPST_SYN_SENT:
            if (p->state == TCPST_LISTEN || fresh(p) ||
                (p->state == TCPST_CLOSED && !(p->has & TCPST_EP_ISN))) {
                /* Its ACK answers a SYN-ACK we never captured. */
                p->isn = seg->ack - 1;
                p->next_seq = seg->ack;
                p->has |= TCPST_EP_ISN | TCPST_EP_ISN_INFERRED | TCPST_EP_NEXT | TCPST_EP_PASSIVE;
                tcpst_endpoint_set_state(p, TCPST_SYN_RECEIVED, sc, true, TCPST_CAUSE_ACK_IMPLIED);
            }
            if (acks_syn(p, seg->ack)) {
                tcpst_endpoint_set_state(e, TCPST_ESTABLISHED, sc, false, TCPST_CAUSE_SEGMENT);
            }
            break;
        case TCPST_SYN_RECEIVED:
            if (acks_syn(p, seg->ack)) {
                tcpst_endpoint_set_state(e, TCPST_ESTABLISHED, sc, false, TCPST_CAUSE_SEGMENT);
            }
            break;
        case TCPST_CLOSED:
        case TCPST_LISTEN:
            if (e->tl_count != 0 || e->tl_dropped != 0) {
                break; /* it had a connection and lost it: not a pickup */
            }
            /* Capture started mid-stream: the connection was already open. */
            tcpst_endpoint_set_state(e, TCPST_ESTABLISHED, sc, true, TCPST_CAUSE_MIDSTREAM);
            if (fresh(p)) {
                tcpst_endpoint_set_state(p, TCPST_ESTABLISHED, sc, true, TCPST_CAUSE_MIDSTREAM);
            }
            break;
        default:
            break;
    }
}

/* The peer's FIN, never captured, is proven by an ACK one past its data. */
static void ack_implied_fin(tcpst_endpoint *e, tcpst_endpoint *p, const tcpst_segctx *sc)
{
    const tcpst_segment *seg = sc->seg;
    if (!(seg->flags & TCPST_ACK) || !(p->has & TCPST_EP_NEXT) || (p->has & TCPST_EP_FIN) ||
        seg->ack != p->next_seq + 1) {
        return;
    }
    if (p->state != TCPST_ESTABLISHED && p->state != TCPST_CLOSE_WAIT) {
        return;
    }
    if (e->state != TCPST_ESTABLISHED && e->state != TCPST_FIN_WAIT_1 &&
        e->state != TCPST_FIN_WAIT_2) {
        return;
    }
    p->fin_seq = p->next_seq;
    p->next_seq += 1;
    p->has |= TCPST_EP_FIN;
    tcpst_endpoint_set_state(p, p->state == TCPST_CLOSE_WAIT ? TCPST_LAST_ACK : TCPST_FIN_WAIT_1,
                             sc, true, TCPST_CAUSE_ACK_IMPLIED);
    /* The ACK is the sender's own word that it received that FIN. */
    switch (e->state) {
        case TCPST_ESTABLISHED:
            tcpst_endpoint_set_state(e, TCPST_CLOSE_WAIT, sc, false, TCPST_CAUSE_SEGMENT);
            break;
        case TCPST_FIN_WAIT_1:
            /* Its own FIN is not acknowledged yet, or it would be in FIN_WAIT_2. */
            tcpst_endpoint_set_state(e, TCPST_CLOSING, sc, false, TCPST_CAUSE_SEGMENT);
            break;
        case TCPST_FIN_WAIT_2:
            tcpst_endpoint_set_state(e, TCPST_TIME_WAIT, sc, false, TCPST_CAUSE_SEGMENT);
            break;
        default:
            break;
    }
}

/* The sender's own FIN (RFC 9293 3.10.4 CLOSE call). Returns true if simultaneous close. */
static bool send_fin(tcpst_endpoint *e, tcpst_endpoint *p, const tcpst_segctx *sc)
{
    const tcpst_segment *seg = sc->seg;
    switch (e->state) {
        case TCPST_SYN_RECEIVED:
        case TCPST_ESTABLISHED:
            tcpst_endpoint_set_state(e, TCPST_FIN_WAIT_1, sc, false, TCPST_CAUSE_SEGMENT);
            return false;
        case TCPST_CLOSE_WAIT:
            if ((p->has & TCPST_EP_FIN) && (seg->flags & TCPST_ACK) &&
                !tcpst_seq_gt(seg->ack, p->fin_seq) && retract(e, TCPST_CLOSE_WAIT)) {
                /* It closed before the peer's FIN reached it: the FINs crossed. */
                tcpst_endpoint_set_state(e, TCPST_FIN_WAIT_1, sc, false, TCPST_CAUSE_SEGMENT);
                tcpst_endpoint_set_state(e, TCPST_CLOSING, sc, true, TCPST_CAUSE_SEGMENT);
                return true;
            }
            tcpst_endpoint_set_state(e, TCPST_LAST_ACK, sc, false, TCPST_CAUSE_SEGMENT);
            return false;
        default:
            return false;
    }
}

/* What receiving the segment does to the peer (RFC 9293 3.10.7.2-3.10.7.4). */
static void receive(tcpst_endpoint *p, const tcpst_segctx *sc, bool new_syn, bool new_fin)
{
    const tcpst_segment *seg = sc->seg;
    uint16_t f = seg->flags;
    if (f & TCPST_SYN) {
        if (f & TCPST_FIN) {
            return; /* SYN+FIN: no legal processing path */
        }
        if (!(f & TCPST_ACK)) {
            if (fresh(p)) {
                tcpst_endpoint_set_state(p, TCPST_LISTEN, sc, true, TCPST_CAUSE_SEGMENT);
            } else if (p->state == TCPST_SYN_SENT && new_syn) {
                tcpst_endpoint_set_state(p, TCPST_SYN_RECEIVED, sc, true, TCPST_CAUSE_SEGMENT);
            }
            return;
        }
        if ((p->state == TCPST_SYN_SENT || p->state == TCPST_SYN_RECEIVED) &&
            acks_syn(p, seg->ack)) {
            tcpst_endpoint_set_state(p, TCPST_ESTABLISHED, sc, true, TCPST_CAUSE_SEGMENT);
        }
        return;
    }
    if (f & TCPST_ACK) {
        switch (p->state) {
            case TCPST_SYN_RECEIVED:
                /* RFC 9293 3.10.7.4 fifth check: SND.UNA < SEG.ACK =< SND.NXT. */
                if ((p->has & TCPST_EP_ISN) && acks_syn(p, seg->ack)) {
                    tcpst_endpoint_set_state(p, TCPST_ESTABLISHED, sc, true, TCPST_CAUSE_SEGMENT);
                }
                break;
            case TCPST_FIN_WAIT_1:
                if (acks_fin(p, seg)) {
                    tcpst_endpoint_set_state(p, TCPST_FIN_WAIT_2, sc, true, TCPST_CAUSE_SEGMENT);
                }
                break;
            case TCPST_CLOSING:
                if (acks_fin(p, seg)) {
                    tcpst_endpoint_set_state(p, TCPST_TIME_WAIT, sc, true, TCPST_CAUSE_SEGMENT);
                }
                break;
            case TCPST_LAST_ACK:
                if (acks_fin(p, seg)) {
                    tcpst_endpoint_set_state(p, TCPST_CLOSED, sc, true, TCPST_CAUSE_SEGMENT);
                }
                break;
            default:
                break;
        }
    }
    if ((f & TCPST_FIN) && new_fin) {
        switch (p->state) {
            case TCPST_SYN_RECEIVED:
            case TCPST_ESTABLISHED:
                tcpst_endpoint_set_state(p, TCPST_CLOSE_WAIT, sc, true, TCPST_CAUSE_SEGMENT);
                break;
            case TCPST_FIN_WAIT_1:
                tcpst_endpoint_set_state(p, TCPST_CLOSING, sc, true, TCPST_CAUSE_SEGMENT);
                break;
            case TCPST_FIN_WAIT_2:
                tcpst_endpoint_set_state(p, TCPST_TIME_WAIT, sc, true, TCPST_CAUSE_SEGMENT);
                break;
            default:
                break;
        }
    }
}

unsigned tcpst_endpoint_process(tcpst_endpoint *e, tcpst_endpoint *p, const tcpst_segctx *sc)
{
    const tcpst_segment *seg = sc->seg;
    uint16_t f = seg->flags;
    bool fresh_sender = fresh(e);
    e->has |= TCPST_EP_SENT;
    if (f & TCPST_RST) {
        return process_rst(e, p, sc);
    }
    if (f & TCPST_SYN) {
        if (f & TCPST_FIN) {
            return 0; /* SYN+FIN: no legal processing path */
        }
        uint8_t before = e->state;
        unsigned ev = send_syn(e, p, sc);
        receive(p, sc, e->state != before || fresh_sender, false);
        return ev;
    }
    unsigned ev = 0;
    send_nonsyn(e, p, sc);
    ack_implied_fin(e, p, sc);
    bool new_fin = (f & TCPST_FIN) && !(e->has & TCPST_EP_FIN);
    if (new_fin) {
        e->fin_seq = seg->seq + seg->payload_len;
        e->has |= TCPST_EP_FIN;
        if (send_fin(e, p, sc)) {
            ev |= TCPST_EV_SIMUL_CLOSE;
        }
    }
    receive(p, sc, false, new_fin);
    return ev;
}

tcpst_seqspace tcpst_endpoint_seqspace(const tcpst_endpoint *e, const tcpst_segment *seg)
{
    uint32_t seqlen = tcpst_seg_seqlen(seg);
    if ((seg->flags & TCPST_RST) || seqlen == 0 || !(e->has & TCPST_EP_NEXT)) {
        return TCPST_SPACE_NONE;
    }
    if (!tcpst_seq_le(seg->seq + seqlen, e->next_seq)) {
        return TCPST_SPACE_NEW;
    }
    bool ctl = (seg->flags & (TCPST_SYN | TCPST_FIN)) != 0;
    if (seg->payload_len <= 1 && !ctl && seg->seq == e->next_seq - 1) {
        return TCPST_SPACE_KEEPALIVE;
    }
    return TCPST_SPACE_REPEAT;
}

unsigned tcpst_endpoint_wshift(const tcpst_endpoint *adv, const tcpst_endpoint *other)
{
    if (!(adv->has & TCPST_EP_WSCALE) || !(other->has & TCPST_EP_WSCALE)) {
        return 0;
    }
    return adv->wscale > 14 ? 14u : adv->wscale;
}
