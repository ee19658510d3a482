/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * detect.c - lifecycle and header anomaly detectors.
 *
 * Segment detectors compare the connection just before and just after a
 * segment (tcpst_detect_pre), so they see what the segment changed without
 * the state machines knowing about anomalies.  Duration detectors ("stuck")
 * run when a record is written out and read the endpoint timelines: each
 * transition starts an interval in its `to` state that lasts until the next
 * transition, or until the record's end.
 */
#include "tcpstate/detect.h"

#include <string.h>

#include "tcpstate/seq.h"
#include "xfer.h"

void tcpst_detect_config_default(tcpst_conn_config *cfg)
{
    for (int s = 0; s < TCPST_STATE__COUNT; s++) {
        cfg->stuck_after[s] = TCPST_DEFAULT_STUCK_AFTER;
    }
    cfg->stuck_after[TCPST_SYN_SENT] = TCPST_DEFAULT_STUCK_HANDSHAKE;
    cfg->stuck_after[TCPST_SYN_RECEIVED] = TCPST_DEFAULT_STUCK_HANDSHAKE;
    cfg->xfer.zero_window_stall = TCPST_DEFAULT_STUCK_AFTER;
}

void tcpst_detect_snapshot(const tcpst_conn *c, tcpst_detect_pre *pre)
{
    for (int i = 0; i < 2; i++) {
        pre->state[i] = c->ep[i].state;
        pre->has[i] = c->ep[i].has;
        pre->next_seq[i] = c->ep[i].next_seq;
        pre->last_ack[i] = c->ep[i].last_ack;
        pre->window[i] = c->ep[i].window;
        pre->ntl[i] = (uint16_t)(c->ep[i].tl_count + c->ep[i].tl_dropped);
        pre->tl_ts[i] = c->ep[i].tl_count ? c->ep[i].tl[c->ep[i].tl_count - 1].ts : 0;
    }
    pre->events = c->events;
}

static tcpst_finding *add(tcpst_conn *c, tcpst_anomaly_type t, unsigned who, tcpst_time ts,
                          uint64_t frame)
{
    return tcpst_findings_add(&c->findings, t, (tcpst_who)who, ts, frame);
}

static bool synchronized(uint8_t s)
{
    return s >= TCPST_ESTABLISHED;
}

/* SYN+FIN, SYN+RST, FIN without ACK, no flags at all, Xmas (FIN+PSH+URG). */
static bool illegal_flags(uint16_t f)
{
    uint16_t ctl = f & (TCPST_SYN | TCPST_FIN | TCPST_RST | TCPST_PSH | TCPST_ACK | TCPST_URG);
    if (ctl == 0) {
        return true;
    }
    if ((f & TCPST_SYN) && (f & (TCPST_FIN | TCPST_RST))) {
        return true;
    }
    return (f & TCPST_FIN) && !(f & TCPST_ACK);
}

static void header_checks(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                          uint64_t frame)
{
    tcpst_finding *f;
    if (illegal_flags(seg->flags) && (f = add(c, TCPST_A_ILLEGAL_FLAGS, from, ts, frame))) {
        f->fact[0] = seg->flags;
    }
    if (seg->opts.malformed && (f = add(c, TCPST_A_MALFORMED_OPTIONS, from, ts, frame))) {
        f->fact[0] |= seg->opts.malformed;
    }
    if ((seg->flags & TCPST_RST) && seg->payload_len &&
        (f = add(c, TCPST_A_RST_WITH_DATA, from, ts, frame))) {
        f->fact[0] += seg->payload_len;
    }
}

/*
 * Does `ack` acknowledge the peer's SYN and nothing it has not sent?  RFC 9293
 * 3.10.7.3: ISS < SEG.ACK =< SND.NXT, so data on the SYN (TCP Fast Open) may
 * be acknowledged along with it.
 */
static bool handshake_ack_ok(const tcpst_endpoint *peer, const tcpst_detect_pre *pre, unsigned p,
                             uint32_t ack)
{
    if (!tcpst_seq_gt(ack, peer->isn)) {
        return false;
    }
    return !(pre->has[p] & TCPST_EP_NEXT) || tcpst_seq_le(ack, pre->next_seq[p]);
}

static void handshake_checks(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                             uint64_t frame, const tcpst_detect_pre *pre)
{
    const tcpst_endpoint *peer = &c->ep[from ^ 1];
    uint16_t f = seg->flags;
    tcpst_finding *x;
    if ((f & (TCPST_SYN | TCPST_ACK | TCPST_RST | TCPST_FIN)) == (TCPST_SYN | TCPST_ACK)) {
        bool peer_isn =
            (pre->has[from ^ 1] & TCPST_EP_ISN) && !(pre->has[from ^ 1] & TCPST_EP_ISN_INFERRED);
        if (from == 0 && pre->state[1] != TCPST_SYN_SENT && !(c->events & TCPST_EV_SIMUL_OPEN)) {
            /* The client answers a SYN nobody sent (RFC 9293 3.5: only the
             * passive side, or both in a simultaneous open, send SYN-ACKs). */
            if ((x = add(c, TCPST_A_HANDSHAKE_INVALID, from, ts, frame))) {
                x->fact[0] = TCPST_HSR_SYNACK_FROM_CLIENT;
            }
        } else if (peer_isn && !handshake_ack_ok(peer, pre, from ^ 1, seg->ack)) {
            if ((x = add(c, TCPST_A_HANDSHAKE_INVALID, from, ts, frame))) {
                x->fact[0] = TCPST_HSR_SYNACK_WRONG_ACK;
                x->fact[1] = (uint32_t)(peer->isn + 1);
                x->fact[2] = seg->ack;
            }
        }
        return;
    }
    if (!(f & (TCPST_SYN | TCPST_RST)) && (f & TCPST_ACK) &&
        pre->state[from ^ 1] == TCPST_SYN_RECEIVED && (pre->has[from ^ 1] & TCPST_EP_ISN) &&
        !(pre->has[from ^ 1] & TCPST_EP_ISN_INFERRED) &&
        !handshake_ack_ok(peer, pre, from ^ 1, seg->ack)) {
        /* While the peer waits in SYN_RECEIVED it has sent nothing but its SYN:
         * the handshake's third segment must acknowledge exactly that. */
        if ((x = add(c, TCPST_A_HANDSHAKE_INVALID, from, ts, frame))) {
            x->fact[0] = TCPST_HSR_FINAL_ACK_WRONG;
            x->fact[1] = (uint32_t)(peer->isn + 1);
            x->fact[2] = seg->ack;
        }
    }
}

static void rst_checks(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                       uint64_t frame, const tcpst_detect_pre *pre, unsigned ev)
{
    unsigned peer = from ^ 1;
    tcpst_finding *x;
    if (ev & TCPST_EV_RST_STALE) {
        /* The client's RST answers the ACK a listener sent to its SYN: the server still had
         * an older connection on these ports, which the client had lost (RFC 9293 3.5.1
         * figure 10).  The RST ends that one; the attempt goes on. */
        if (pre->state[peer] == TCPST_LISTEN && (x = add(c, TCPST_A_HALF_OPEN, peer, ts, frame))) {
            x->fact[0] = TCPST_HOR_ACK_TO_SYN;
        }
        return;
    }
    if (ev & TCPST_EV_RST_REJECTED) {
        if ((seg->flags & TCPST_SYN) == 0 &&
            (x = add(c, TCPST_A_RST_OUT_OF_WINDOW, from, ts, frame))) {
            x->fact[0] = seg->seq;
            /* Inside the receiver's window but not at RCV.NXT: a challenge-ACK
             * case.  The window is the one the receiver advertised, scaled when
             * both SYNs carried window scale (RFC 7323 2.2). */
            const tcpst_endpoint *rcv = &c->ep[peer];
            uint32_t wnd = pre->window[peer];
            wnd <<= tcpst_endpoint_wshift(rcv, &c->ep[from]);
            x->fact[1] = (pre->has[peer] & TCPST_EP_ACK) &&
                         tcpst_seq_in_range(seg->seq, pre->last_ack[peer], wnd ? wnd : 1u);
        }
        return;
    }
    if (!(ev & TCPST_EV_RST_ACCEPTED)) {
        return;
    }
    if (pre->state[peer] == TCPST_SYN_SENT) {
        if ((x = add(c, TCPST_A_CONNECTION_REJECTED, from, ts, frame))) {
            x->fact[0] = c->ep[peer].syns ? c->ep[peer].syns - 1 : 0;
        }
        return;
    }
    if (pre->state[from] == TCPST_CLOSED && pre->state[peer] == TCPST_CLOSED) {
        return; /* a RST with no connection around it: nothing was reset */
    }
    if ((x = add(c, TCPST_A_CONNECTION_RESET, from, ts, frame))) {
        x->fact[0] = pre->state[from];
        x->fact[1] = pre->state[peer];
        /* Data the resetter had sent that the peer had not acknowledged yet. */
        int32_t out = 0;
        if ((pre->has[from] & TCPST_EP_NEXT) && (pre->has[peer] & TCPST_EP_ACK)) {
            out = tcpst_seq_diff(pre->next_seq[from], pre->last_ack[peer]);
        }
        /* Never more than it actually sent (a bogus ACK can make the gap huge). */
        uint64_t sent = c->ep[from].payload_bytes;
        x->fact[2] = out > 0 ? ((uint64_t)out < sent ? out : (int64_t)sent) : 0;
    }
    /*
     * A RST without ACK answering data comes from a host that has no
     * connection for the segment (RFC 9293 3.10.7.1: <SEQ=SEG.ACK><CTL=RST>):
     * the peer lost the connection while this side still had it open.
     */
    if (!(seg->flags & TCPST_ACK) &&
        (pre->state[from] == TCPST_ESTABLISHED || pre->state[from] == TCPST_CLOSE_WAIT) &&
        !(pre->has[from] & TCPST_EP_FIN) && c->ep[peer].payload_bytes > 0 &&
        (pre->has[peer] & TCPST_EP_ACK) && seg->seq == pre->last_ack[peer] &&
        (x = add(c, TCPST_A_HALF_OPEN, from, ts, frame))) {
        x->fact[0] = TCPST_HOR_RST_TO_DATA;
    }
}

/*
 * The receiver of a RST did not take it: decided at once (its TSecr), or proven by this
 * segment of the receiver's, which the connection has just taken the RST back for (conn.c).
 * What the RST caused is withdrawn: the rejection or reset it seemed to be, and the data
 * after it, which was the connection's data after all.
 */
static void rst_ignored(tcpst_conn *c, tcpst_time ts, uint64_t frame, const tcpst_detect_pre *pre)
{
    const tcpst_rst_watch *w = &c->rst;
    /* Proven later: the RST's time is that of the receiver's transition it just took back. */
    tcpst_time rst_ts = frame == w->frame ? ts : pre->tl_ts[w->to];
    tcpst_who rcv = (tcpst_who)w->to, snd = (tcpst_who)(w->to ^ 1);
    const tcpst_anomaly_type caused[] = {TCPST_A_CONNECTION_REJECTED, TCPST_A_CONNECTION_RESET};
    for (size_t i = 0; i < sizeof caused / sizeof caused[0]; i++) {
        const tcpst_finding *f = tcpst_findings_get(&c->findings, caused[i], snd);
        if (f && f->first_frame == w->frame) {
            tcpst_findings_remove(&c->findings, caused[i], snd);
        }
    }
    tcpst_findings_remove(&c->findings, TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT);
    tcpst_findings_remove(&c->findings, TCPST_A_DATA_AFTER_RESET, TCPST_WHO_SERVER);
    tcpst_finding *x = add(c, TCPST_A_RST_NOT_ACCEPTED, rcv, rst_ts, w->frame);
    if (!x) {
        return;
    }
    x->fact[0] = w->reason;
    x->fact[1] = w->state;
    if (frame != w->frame) {
        x->last_ts = ts;
        x->last_frame = frame;
        tcpst_finding_add_evidence(&c->findings, x, frame);
    }
}

static void data_checks(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                        uint64_t frame, const tcpst_detect_pre *pre, unsigned ev)
{
    const tcpst_endpoint *e = &c->ep[from];
    tcpst_finding *x;
    uint32_t len = seg->payload_len;
    if (!len || (seg->flags & TCPST_RST)) {
        return;
    }
    if ((pre->events & TCPST_EV_RST_ACCEPTED) && !(ev & TCPST_EV_RST_IGNORED)) {
        if ((x = add(c, TCPST_A_DATA_AFTER_RESET, from, ts, frame))) {
            x->fact[0] += len;
        }
        return;
    }
    /* New data beyond the sender's own FIN, or from a side whose TCB is gone. */
    bool beyond_fin = (pre->has[from] & TCPST_EP_FIN) && tcpst_seq_gt(seg->seq + len, e->fin_seq);
    bool gone = (pre->state[from] == TCPST_TIME_WAIT || pre->state[from] == TCPST_CLOSED) &&
                pre->ntl[from] > 0 && !(ev & TCPST_EV_RST_IGNORED); /* CLOSED taken back */
    if ((beyond_fin || gone) && (x = add(c, TCPST_A_DATA_AFTER_CLOSE, from, ts, frame))) {
        x->fact[0] += len;
        return;
    }
    /* Still not synchronized after this segment: the data came too early.
     * TCP Fast Open (RFC 7413) puts data on the SYN by design. */
    bool syn = (seg->flags & TCPST_SYN) != 0;
    bool tfo = syn && (seg->opts.present & TCPST_HAS_TFO);
    /* A peer never captured may have answered unseen: only a SYN's data is certain. */
    bool peer_seen = syn || c->ep[from ^ 1].packets;
    if (!tfo && peer_seen && !synchronized(e->state) && e->state != TCPST_CLOSED &&
        (x = add(c, TCPST_A_DATA_BEFORE_ESTABLISHED, from, ts, frame))) {
        x->fact[0] += len;
    }
}

void tcpst_detect_segment(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                          uint64_t frame, const tcpst_detect_pre *pre, unsigned ev)
{
    header_checks(c, from, seg, ts, frame);
    handshake_checks(c, from, seg, ts, frame, pre);
    if (seg->flags & TCPST_RST) {
        rst_checks(c, from, seg, ts, frame, pre, ev);
    }
    if (ev & TCPST_EV_RST_IGNORED) {
        rst_ignored(c, ts, frame, pre);
    }
    data_checks(c, from, seg, ts, frame, pre, ev);
    tcpst_finding *x;
    if ((ev & TCPST_EV_ACK_NOT_TAKEN) && (x = add(c, TCPST_A_LISTEN_QUEUE_FULL, from, ts, frame))) {
        x->fact[0]++;
    }
    if ((ev & TCPST_EV_SIMUL_OPEN) && !(pre->events & TCPST_EV_SIMUL_OPEN)) {
        add(c, TCPST_A_SIMULTANEOUS_OPEN, TCPST_WHO_BOTH, ts, frame);
    }
    if ((ev & TCPST_EV_SIMUL_CLOSE) && !(pre->events & TCPST_EV_SIMUL_CLOSE)) {
        add(c, TCPST_A_SIMULTANEOUS_CLOSE, TCPST_WHO_BOTH, ts, frame);
    }
}

void tcpst_detect_bad_checksum(tcpst_conn *c, unsigned from, tcpst_csum cs, tcpst_time ts,
                               uint64_t frame)
{
    tcpst_finding *x = add(c, TCPST_A_BAD_CHECKSUM, from, ts, frame);
    if (x) {
        x->fact[0] = cs == TCPST_CSUM_BAD_IP ? TCPST_CKR_IP : TCPST_CKR_TCP;
    }
}

/* ---- when a record is written out ---- */

/* The states whose duration is judged, and the finding each one gives when held too long
 * (TCPST_A__COUNT: not watched).  SYN_SENT is judged as a whole (syn_unanswered), the
 * others interval by interval (stuck_intervals). */
static tcpst_anomaly_type duration_type(uint8_t state)
{
    switch (state) {
        case TCPST_CLOSE_WAIT:
            return TCPST_A_CLOSE_WAIT_STUCK;
        case TCPST_FIN_WAIT_1:
            return TCPST_A_FIN_WAIT_1_STUCK;
        case TCPST_FIN_WAIT_2:
            return TCPST_A_FIN_WAIT_2_STUCK;
        case TCPST_LAST_ACK:
            return TCPST_A_LAST_ACK_STUCK;
        case TCPST_SYN_RECEIVED:
            return TCPST_A_HANDSHAKE_INCOMPLETE;
        case TCPST_SYN_SENT:
            return TCPST_A_SYN_UNANSWERED;
        default:
            return TCPST_A__COUNT;
    }
}

bool tcpst_detect_duration_due(const tcpst_conn *c, tcpst_time now, const tcpst_conn_config *cfg)
{
    for (unsigned who = 0; who < 2; who++) {
        const tcpst_endpoint *ep = &c->ep[who];
        if (duration_type(ep->state) != TCPST_A__COUNT &&
            now - ep->state_since >= cfg->stuck_after[ep->state]) {
            return true;
        }
    }
    /* An open zero-window episode may become a stall (transfer.c decides). */
    return tcpst__xfer_zero_window_open(&c->xfer);
}

/* How long state `to` may be held: an interval still open at the end of a `-- COMMAND`
 * run is a leak whatever its age (end_any_age, docs/ci.md). */
static tcpst_time threshold(const tcpst_conn_config *cfg, uint8_t to, bool open_at_end)
{
    return cfg->end_any_age && open_at_end ? 0 : cfg->stuck_after[to];
}

/* One finding per interval an endpoint spent in a watched state for too long. */
static void stuck_intervals(tcpst_conn *c, unsigned who, const tcpst_conn_config *cfg,
                            bool at_capture_end)
{
    const tcpst_endpoint *e = &c->ep[who];
    if (c->ep[0].packets == 0 || c->ep[1].packets == 0) {
        return; /* one direction not captured: its silence proves nothing */
    }
    for (unsigned i = 0; i < e->tl_count; i++) {
        const tcpst_transition *t = &e->tl[i];
        tcpst_anomaly_type type = duration_type(t->to);
        if (type == TCPST_A__COUNT || type == TCPST_A_SYN_UNANSWERED) {
            continue;
        }
        bool last = i + 1 == e->tl_count && e->tl_dropped == 0;
        tcpst_time until = last ? c->end_ts : e->tl[i + 1].ts;
        uint64_t until_frame = last ? c->last_frame : e->tl[i + 1].frame;
        tcpst_time held = until - t->ts;
        if (held < threshold(cfg, t->to, last && at_capture_end)) {
            continue;
        }
        if (type == TCPST_A_HANDSHAKE_INCOMPLETE && !last && e->tl[i + 1].to == TCPST_ESTABLISHED) {
            continue; /* it completed, only slowly */
        }
        tcpst_finding *x = add(c, type, who, t->ts, t->frame);
        if (!x) {
            return;
        }
        x->last_ts = until;
        if (until_frame && until_frame != t->frame) {
            x->last_frame = until_frame;
            tcpst_finding_add_evidence(&c->findings, x, until_frame);
        }
        x->fact[0] += held;
        x->still_at_end = last && at_capture_end;
        if (type == TCPST_A_CLOSE_WAIT_STUCK) {
            x->fact[1] = (int64_t)e->bytes_after_peer_fin;
        } else if (type == TCPST_A_FIN_WAIT_1_STUCK || type == TCPST_A_LAST_ACK_STUCK) {
            x->fact[1] = e->fin_retrans;
        } else if (type == TCPST_A_HANDSHAKE_INCOMPLETE) {
            x->fact[1] = e->syns ? e->syns - 1 : 0;
        }
    }
}

static void syn_unanswered(tcpst_conn *c, const tcpst_conn_config *cfg, bool at_capture_end)
{
    const tcpst_endpoint *cl = &c->ep[0];
    if (cl->state != TCPST_SYN_SENT || c->ep[1].packets > 0 || cl->tl_count == 0) {
        return;
    }
    const tcpst_transition *t = &cl->tl[cl->tl_count - 1];
    tcpst_time waited = c->end_ts - t->ts;
    if (waited < threshold(cfg, TCPST_SYN_SENT, at_capture_end)) {
        return;
    }
    tcpst_finding *x = add(c, TCPST_A_SYN_UNANSWERED, TCPST_WHO_CLIENT, t->ts, t->frame);
    if (!x) {
        return;
    }
    if (cl->syn_last_frame && cl->syn_last_frame != t->frame) {
        x->last_frame = cl->syn_last_frame;
        tcpst_finding_add_evidence(&c->findings, x, cl->syn_last_frame);
    }
    x->last_ts = cl->syn_last_ts;
    x->fact[0] = 1; /* retries of one ISN are one attempt; a new ISN is a new record */
    x->fact[1] = cl->syns ? cl->syns - 1 : 0;
    x->fact[2] = waited;
    x->fact[3] = cl->syn_max_gap;
    x->still_at_end = at_capture_end;
}

/* One side keeps sending (and retransmitting) while the other stays silent. */
static void into_silence(tcpst_conn *c, const tcpst_conn_config *cfg)
{
    for (unsigned who = 0; who < 2; who++) {
        const tcpst_endpoint *e = &c->ep[who], *p = &c->ep[who ^ 1];
        if (e->unanswered < TCPST_SILENCE_MIN_SEGMENTS || e->retrans_segments == 0 ||
            p->packets == 0 || (e->state != TCPST_ESTABLISHED && e->state != TCPST_CLOSE_WAIT)) {
            continue;
        }
        tcpst_time silent = e->last_ts - p->last_ts;
        if (silent < cfg->stuck_after[TCPST_ESTABLISHED]) {
            continue;
        }
        tcpst_finding *x = add(c, TCPST_A_HALF_OPEN, who, p->last_ts, 0);
        if (x) {
            x->last_ts = e->last_ts;
            x->last_frame = c->last_frame;
            x->fact[0] = TCPST_HOR_INTO_SILENCE;
            x->fact[1] = e->unanswered;
            x->fact[2] = silent;
        }
    }
}

void tcpst_detect_finish(tcpst_conn *c, const tcpst_conn_config *cfg)
{
    bool at_end = c->end_reason == TCPST_END_CAPTURE_END;
    for (unsigned who = 0; who < 2; who++) {
        stuck_intervals(c, who, cfg, at_end);
    }
    syn_unanswered(c, cfg, at_end);
    into_silence(c, cfg);
    tcpst__xfer_finish(&c->xfer, &c->findings, c->end_ts, at_end, &cfg->xfer);
}

/* States the kernel and the capture name differently for the same fact: no socket, or
 * only a listener, is CLOSED; a TIME_WAIT may be ended early by either (RFC 6191 reuse,
 * --time-wait shorter than the kernel's). */
static unsigned state_class(unsigned s)
{
    return s == TCPST_LISTEN || s == TCPST_TIME_WAIT ? TCPST_CLOSED : s;
}

void tcpst_detect_host(tcpst_conn *c)
{
    for (unsigned who = 0; who < 2; who++) {
        const tcpst_hostview *v = &c->host[who];
        unsigned want = TCPST_HV_KSTATE | TCPST_HV_SETTLED;
        if ((v->flags & want) != want || state_class(v->kstate) == state_class(c->ep[who].state) ||
            tcpst_findings_get(&c->findings, TCPST_A_KERNEL_STATE_MISMATCH, who)) {
            continue;
        }
        tcpst_finding *x = add(c, TCPST_A_KERNEL_STATE_MISMATCH, who, c->end_ts, c->last_frame);
        if (x) {
            x->fact[0] = c->ep[who].state;
            x->fact[1] = v->kstate;
        }
    }
}

void tcpst_detect_before_reuse(tcpst_conn *old, unsigned from, const tcpst_segment *seg,
                               tcpst_time ts, uint64_t frame, tcpst_reuse_info *info)
{
    info->id = old->id;
    info->sender_state = old->ep[from].state;
    info->terminated = tcpst_conn_terminated(old);
    info->last_ts = old->last_ts;
    if (!info->terminated && (synchronized(old->ep[0].state) || synchronized(old->ep[1].state))) {
        tcpst_finding *x = add(old, TCPST_A_SYN_INSIDE_CONNECTION, from, ts, frame);
        if (x) {
            x->fact[0] = old->ep[from].state;
            x->fact[1] = seg->seq;
        }
    }
}

void tcpst_detect_after_reuse(tcpst_conn *fresh, const tcpst_reuse_info *info, tcpst_time ts,
                              uint64_t frame, const tcpst_conn_config *cfg)
{
    tcpst_time since = ts - info->last_ts;
    if (info->terminated && since >= cfg->time_wait) {
        return;
    }
    tcpst_finding *x = add(fresh, TCPST_A_PORT_REUSE, TCPST_WHO_CLIENT, ts, frame);
    if (x) {
        x->fact[0] = info->sender_state;
        x->fact[1] = info->terminated ? since : 0;
        x->fact[2] = (int64_t)info->id;
    }
}
