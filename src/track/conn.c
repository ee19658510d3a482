/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conn.c - per-connection update: roles, counters, both endpoint machines, timers and the
 * Zeek summary, in one fixed order.
 *
 * Order per segment (after Zeek's TCP session adapter, which has proven it): timers up to
 * the packet time -> counters -> repeated sequence space against the sender's highest
 * sequence -> SYN options -> state machines -> sequence and ACK bookkeeping -> Zeek
 * history.  Repeats are judged before the bookkeeping so that a segment is compared with
 * what was sent before it.  No detector is called from here: the engine runs them around
 * tcpst_conn_update() (engine.c), which answers with what the segment revealed.
 */
#include "tcpstate/conn.h"

#include <string.h>

#include "tcpstate/seq.h"

const char *tcpst_undecidable_name(tcpst_undecidable u)
{
    switch (u) {
        case TCPST_UNDEC_PACKETS_DROPPED:
            return "packets_dropped";
        case TCPST_UNDEC_INPUT_TRUNCATED:
            return "input_truncated";
        case TCPST_UNDEC_NONE:
        default:
            return NULL;
    }
}

const char *tcpst_end_reason_name(tcpst_end_reason r)
{
    switch (r) {
        case TCPST_END_NONE:
            return "none";
        case TCPST_END_CLOSED:
            return "closed";
        case TCPST_END_IDLE:
            return "idle_timeout";
        case TCPST_END_EVICTED:
            return "evicted";
        case TCPST_END_REUSED:
            return "port_reused";
        case TCPST_END_CAPTURE_END:
            return "capture_end";
        case TCPST_END_ZEEK:
            return "zeek_boundary";
    }
    return "?";
}

static bool port_wellknown(uint16_t p)
{
    return p < 1024;
}

/* Linux hands out 32768-60999, IANA 49152-65535: above 32767 is ephemeral. */
static bool port_ephemeral(uint16_t p)
{
    return p >= 32768;
}

/*
 * Without a bare SYN we guess which side serves: the SYN-ACK sender; else the
 * side on a well-known port; else the side on a non-ephemeral port; else the
 * lower port; on a tie the first packet's sender is the client.
 */
static bool src_is_server(const tcpst_segment *seg)
{
    if ((seg->flags & (TCPST_SYN | TCPST_ACK)) == (TCPST_SYN | TCPST_ACK)) {
        return true;
    }
    uint16_t s = seg->sport, d = seg->dport;
    if (port_wellknown(s) != port_wellknown(d)) {
        return port_wellknown(s);
    }
    if (port_ephemeral(s) != port_ephemeral(d)) {
        return !port_ephemeral(s);
    }
    return s < d;
}

void tcpst_conn_init(tcpst_conn *c, uint64_t id, const tcpst_segment *seg)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->ip_version = seg->ip_version;
    bool bare_syn = (seg->flags & (TCPST_SYN | TCPST_ACK | TCPST_RST)) == TCPST_SYN;
    bool server_first = !bare_syn && src_is_server(seg);
    c->roles_inferred = bare_syn ? 0 : 1;
    tcpst_endpoint *cl = &c->ep[0], *sv = &c->ep[1];
    cl->addr = server_first ? seg->dst : seg->src;
    cl->port = server_first ? seg->dport : seg->sport;
    sv->addr = server_first ? seg->src : seg->dst;
    sv->port = server_first ? seg->sport : seg->dport;
    c->nvlan = seg->nvlan;
    for (unsigned i = 0; i < TCPST_MAX_VLAN && i < seg->nvlan; i++) {
        c->vlan[i] = seg->vlan[i];
    }
    c->nencap = seg->nencap;
    for (unsigned i = 0; i < TCPST_ENCAP_MAX && i < seg->nencap; i++) {
        c->encap[i] = seg->encap[i];
    }
    c->key_ctx = seg->key_ctx;
    tcpst_zeek_init(&c->zeek); /* the transfer bookkeeping starts zeroed, as above */
}

tcpst_conn_ref tcpst_conn_ref_of(const tcpst_conn *c)
{
    tcpst_conn_ref r = {.id = c->id,
                        .caddr = c->ep[0].addr,
                        .saddr = c->ep[1].addr,
                        .cport = c->ep[0].port,
                        .sport = c->ep[1].port};
    return r;
}

unsigned tcpst_conn_dir(const tcpst_conn *c, const tcpst_segment *seg)
{
    return (seg->sport == c->ep[0].port && tcpst_addr_cmp(&seg->src, &c->ep[0].addr) == 0) ? 0 : 1;
}

bool tcpst_conn_terminated(const tcpst_conn *c)
{
    for (int i = 0; i < 2; i++) {
        uint8_t s = c->ep[i].state;
        if (s != TCPST_CLOSED && s != TCPST_TIME_WAIT && s != TCPST_LISTEN) {
            return false;
        }
    }
    /* A record whose sides never left CLOSED (e.g. only stray ACKs) is not over. */
    return c->ep[0].tl_count + c->ep[1].tl_count + c->ep[0].tl_dropped + c->ep[1].tl_dropped > 0;
}

bool tcpst_conn_open_at_end(const tcpst_conn *c)
{
    return c->end_reason == TCPST_END_CAPTURE_END && !tcpst_conn_terminated(c) &&
           !(c->ep[0].state == TCPST_CLOSED && c->ep[1].state == TCPST_CLOSED);
}

bool tcpst_conn_syn_starts_new(const tcpst_conn *c, unsigned from, const tcpst_segment *seg)
{
    const tcpst_endpoint *e = &c->ep[from];
    if (tcpst_conn_terminated(c)) {
        /* Even with the old ISN (Windows retries a refused connect so): the old TCB is gone. */
        return true;
    }
    if (e->has & TCPST_EP_ISN) {
        return seg->seq != e->isn; /* new ISN: the old attempt was abandoned */
    }
    /* A side seen only mid-stream now opens: a new connection on the same ports. */
    return (e->has & TCPST_EP_SENT) != 0;
}

void tcpst_conn_advance(tcpst_conn *c, tcpst_time now, const tcpst_conn_config *cfg)
{
    for (int i = 0; i < 2; i++) {
        tcpst_endpoint *e = &c->ep[i];
        if (e->state == TCPST_TIME_WAIT && now - e->state_since >= cfg->time_wait) {
            /* RFC 9293 3.10.8: the 2*MSL timer deletes the TCB. */
            tcpst_segctx sc = {.seg = NULL, .ts = e->state_since + cfg->time_wait, .frame = 0};
            tcpst_endpoint_set_state(e, TCPST_CLOSED, &sc, true, TCPST_CAUSE_TIMER);
        }
    }
}

void tcpst_conn_taken_over(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                           uint64_t frame)
{
    tcpst_endpoint *e = &c->ep[from & 1], *p = &c->ep[(from & 1) ^ 1];
    tcpst_segctx sc = {.seg = seg, .ts = ts, .frame = frame};
    if (e->state == TCPST_TIME_WAIT) {
        /* Its new SYN on the same ports: the old TCB is gone. */
        tcpst_endpoint_set_state(e, TCPST_CLOSED, &sc, false, TCPST_CAUSE_NEW_SYN);
    }
    if (p->state != TCPST_TIME_WAIT) {
        return;
    }
    /* RFC 9293 3.10.7.4 and RFC 6191 (as Linux's tcp_timewait_state_process): TIME_WAIT
     * takes a SYN beyond what it received, or with a newer timestamp, as a new connection. */
    bool beyond = (e->has & TCPST_EP_NEXT) && tcpst_seq_gt(seg->seq, e->next_seq);
    bool newer = (seg->opts.present & TCPST_HAS_TS) && (e->has & TCPST_EP_TSVAL) &&
                 tcpst_seq_gt(seg->opts.tsval, e->tsval);
    if (beyond || newer || !(e->has & TCPST_EP_NEXT)) {
        tcpst_endpoint_set_state(p, TCPST_CLOSED, &sc, true, TCPST_CAUSE_NEW_SYN);
    }
}

static void note_syn_options(tcpst_endpoint *e, const tcpst_segment *seg)
{
    const tcpst_tcpopts *o = &seg->opts;
    if (o->present & TCPST_HAS_MSS) {
        e->mss = o->mss;
        e->has |= TCPST_EP_MSS;
    }
    if (o->present & TCPST_HAS_WSCALE) {
        e->wscale = o->wscale;
        e->has |= TCPST_EP_WSCALE;
    }
    if (o->present & TCPST_HAS_SACK_PERM) {
        e->has |= TCPST_EP_SACKPERM;
    }
    if ((o->present & TCPST_HAS_TS) && !(e->has & TCPST_EP_TS)) {
        e->syn_tsval = o->tsval; /* its TSvals start here (a RST's TSecr is checked on it) */
        e->has |= TCPST_EP_TS;
    }
    if (o->present & TCPST_HAS_TFO) {
        e->has |= TCPST_EP_TFO;
    }
}

/* Times, packet and byte counts, and the SYN/FIN/RST tallies of the sender. */
static void count_segment(tcpst_conn *c, tcpst_endpoint *e, tcpst_endpoint *p,
                          const tcpst_segment *seg, tcpst_time ts, uint64_t frame)
{
    uint16_t f = seg->flags;
    if (c->first_frame == 0) {
        c->first_ts = c->last_ts = ts;
        c->first_frame = frame;
    }
    /* Capture clocks can step backwards: spans run from the earliest time to the latest. */
    c->first_ts = ts < c->first_ts ? ts : c->first_ts;
    c->last_ts = ts > c->last_ts ? ts : c->last_ts;
    c->last_frame = frame;
    if (e->packets == 0) {
        e->first_ts = e->last_ts = ts;
    }
    e->first_ts = ts < e->first_ts ? ts : e->first_ts;
    e->last_ts = ts > e->last_ts ? ts : e->last_ts;
    e->packets++;
    e->bytes += seg->ip_len;
    e->payload_bytes += seg->payload_len;
    if (f & TCPST_SYN) {
        if (e->syns && ts - e->syn_last_ts > e->syn_max_gap) {
            e->syn_max_gap = ts - e->syn_last_ts;
        }
        e->syn_last_ts = ts;
        e->syn_last_frame = frame;
    }
    e->syns += (f & TCPST_SYN) ? 1u : 0u;
    e->unanswered++;
    p->unanswered = 0;
    if (e->state == TCPST_CLOSE_WAIT) {
        e->bytes_after_peer_fin += seg->payload_len;
    }
    e->fins += (f & TCPST_FIN) ? 1u : 0u;
    e->rsts += (f & TCPST_RST) ? 1u : 0u;
    if (seg->opts.present & TCPST_HAS_TS) {
        e->tsval = seg->opts.tsval;
        e->has |= TCPST_EP_TSVAL;
    }
}

/* What the transfer detectors judged the segment to be: the counters say what the findings
 * say (a copy of the capture is no retransmission, a zero-length keep-alive is one). */
static void count_repeat(tcpst_endpoint *e, const tcpst_segment *seg, tcpst_repeat rp)
{
    switch (rp) {
        case TCPST_RP_KEEPALIVE:
            e->keepalives++;
            break;
        case TCPST_RP_RETRANSMISSION:
            e->retrans_segments++;
            e->retrans_bytes += seg->payload_len;
            e->fin_retrans += (seg->flags & TCPST_FIN) ? 1u : 0u;
            break;
        case TCPST_RP_COPY:
            e->duplicates++;
            break;
        case TCPST_RP_NONE:
        case TCPST_RP_PROBE:
        case TCPST_RP_OUT_OF_ORDER:
            break;
    }
}

/* After the machines: the sender's highest sequence, its window and its highest ACK. */
static void note_sequence(tcpst_endpoint *e, const tcpst_segment *seg)
{
    uint16_t f = seg->flags;
    if (!(f & TCPST_RST)) {
        uint32_t end = seg->seq + tcpst_seg_seqlen(seg);
        if (!(e->has & TCPST_EP_NEXT) || tcpst_seq_gt(end, e->next_seq)) {
            e->next_seq = end;
            e->has |= TCPST_EP_NEXT;
        }
        e->window = seg->window;
    }
    if ((f & TCPST_ACK) && (!(e->has & TCPST_EP_ACK) || tcpst_seq_gt(seg->ack, e->last_ack))) {
        e->last_ack = seg->ack;
        e->has |= TCPST_EP_ACK;
    }
}

/* ---- RSTs the receiver ignored ----
 * An acceptable-looking RST is applied at once; its receiver may still have ignored it (an
 * RFC 5961 receiver whose RCV.NXT had moved past the RST, a RST never delivered).  Its later
 * segments tell: a host without the connection answers everything with a RST, so a segment
 * of the connection that it can only have sent after the RST reached it proves that it
 * went on, and the RST is taken back. */

/* The RST at `frame` to endpoint `to`, then in `state`. */
static tcpst_rst_watch *rst_note(tcpst_conn *c, unsigned to, uint64_t frame, uint8_t state)
{
    tcpst_rst_watch *w = &c->rst;
    memset(w, 0, sizeof *w);
    w->frame = frame;
    w->to = (uint8_t)to;
    w->state = state;
    return w;
}

/* A RST was accepted: remember what it changed and what later segments are judged by. */
static void rst_watch(tcpst_conn *c, unsigned from, const tcpst_segment *seg, uint64_t frame,
                      uint8_t rcv_state, uint16_t rcv_tl)
{
    const tcpst_endpoint *e = &c->ep[from], *p = &c->ep[from ^ 1];
    if (p->tl_dropped || p->tl_count == rcv_tl) {
        c->rst.frame = 0;
        return; /* nothing of the receiver's to take back */
    }
    tcpst_rst_watch *w = rst_note(c, from ^ 1, frame, rcv_state);
    w->sender_next = e->next_seq;
    w->flags = (uint8_t)(((e->has & TCPST_EP_NEXT) ? TCPST_RW_SENDER_NEXT : 0u) |
                         ((p->has & TCPST_EP_FIN) ? TCPST_RW_HAD_FIN : 0u));
    /* The sender's FIN, captured before the RST, reached the receiver first: its RCV.NXT
     * was past a RST at the FIN's own sequence number (RFC 5961 3.2 wants equality). */
    bool fin_taken = (e->has & TCPST_EP_FIN) && seg->seq == e->fin_seq;
    w->reason = fin_taken ? TCPST_RNA_FIN_ALREADY_TAKEN : TCPST_RNA_PEER_WENT_ON;
}

/* Is `seq` inside e's own sequence space as far as the capture knows it? */
static bool own_space(const tcpst_endpoint *e, const tcpst_endpoint *p, uint32_t seq)
{
    if (!(e->has & TCPST_EP_NEXT) || !tcpst_seq_le(seq, e->next_seq)) {
        return false;
    }
    if (e->has & TCPST_EP_ISN) {
        return tcpst_seq_ge(seq, e->isn);
    }
    return (p->has & TCPST_EP_ACK) && tcpst_seq_ge(seq, p->last_ack);
}

/*
 * Does segment `seg` from the watched RST's receiver prove that it ignored the RST?  It must
 * be of this connection (its own sequence space, its ACKs not going back, nothing
 * acknowledged that the RST's sender had not sent), and sent after the RST arrived: it
 * acknowledges what the RST's sender sent after the RST (so it received that, after the
 * RST), or it is captured more than two handshake round trips after the RST (a segment
 * sent before the RST arrived, crossing it, comes within one; twice for queueing).
 */
static bool rst_proven_ignored(const tcpst_conn *c, const tcpst_segment *seg, tcpst_time ts)
{
    const tcpst_rst_watch *w = &c->rst;
    const tcpst_endpoint *e = &c->ep[w->to], *s = &c->ep[w->to ^ 1];
    if (e->tl_dropped || e->tl_count == 0 || e->tl[e->tl_count - 1].frame != w->frame) {
        return false; /* the receiver has moved on since: nothing to take back */
    }
    tcpst_time rst_ts = e->tl[e->tl_count - 1].ts;
    if (!(seg->flags & TCPST_ACK) || !own_space(e, s, seg->seq) ||
        ((e->has & TCPST_EP_ACK) && tcpst_seq_lt(seg->ack, e->last_ack)) ||
        !(s->has & TCPST_EP_NEXT) || tcpst_seq_gt(seg->ack, s->next_seq)) {
        return false;
    }
    bool after = (w->flags & TCPST_RW_SENDER_NEXT)
                     ? tcpst_seq_gt(seg->ack, w->sender_next)
                     : !(s->has & TCPST_EP_ISN) || tcpst_seq_gt(seg->ack, s->isn);
    bool late = c->xfer.rtt > 0 && ts - rst_ts > 2 * c->xfer.rtt;
    return after || late;
}

/* Before segment `seg` from endpoint `from` is applied: does it take a RST back? */
static unsigned rst_check(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts)
{
    tcpst_rst_watch *w = &c->rst;
    if (!w->frame || (w->flags & TCPST_RW_PROVEN) || from != w->to) {
        return 0;
    }
    if (seg->flags & (TCPST_RST | TCPST_SYN)) {
        w->frame = 0; /* it answers as a host without the connection, or opens anew */
        return 0;
    }
    tcpst_endpoint *rcv = &c->ep[w->to], *snd = &c->ep[w->to ^ 1];
    if (!rst_proven_ignored(c, seg, ts) || !tcpst_endpoint_undo_frame(rcv, w->frame)) {
        return 0;
    }
    if (!(w->flags & TCPST_RW_HAD_FIN)) {
        /* A FIN it sent meanwhile moved nothing (CLOSED): its next copy is taken anew. */
        rcv->has = (uint16_t)(rcv->has & ~TCPST_EP_FIN);
    }
    /* Like a RST that was not acceptable, it changed nothing on either side. */
    if (tcpst_endpoint_undo_frame(snd, w->frame)) {
        snd->has = (uint16_t)(snd->has & ~TCPST_EP_RST);
    }
    c->events &= ~(uint32_t)TCPST_EV_RST_ACCEPTED;
    w->flags |= TCPST_RW_PROVEN;
    return TCPST_EV_RST_IGNORED;
}

unsigned tcpst_conn_update(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                           uint64_t frame, tcpst_repeat rp, const tcpst_conn_config *cfg)
{
    from &= 1;
    tcpst_endpoint *e = &c->ep[from], *p = &c->ep[from ^ 1];

    tcpst_conn_advance(c, ts, cfg);
    count_segment(c, e, p, seg, ts, frame);
    count_repeat(e, seg, rp);
    if (seg->flags & TCPST_SYN) {
        note_syn_options(e, seg);
    }
    tcpst_segctx sc = {.seg = seg, .ts = ts, .frame = frame};
    unsigned ev = rst_check(c, from, seg, ts); /* may take an earlier RST back first */
    uint32_t events_before = c->events;
    uint8_t rcv_state = p->state;
    uint16_t rcv_tl = p->tl_count;
    unsigned seg_ev = tcpst_endpoint_process(e, p, &sc);
    ev |= seg_ev;
    c->events |= ev;
    if ((seg_ev & TCPST_EV_RST_ACCEPTED) && !(events_before & TCPST_EV_RST_ACCEPTED)) {
        rst_watch(c, from, seg, frame, rcv_state, rcv_tl);
    }
    if (seg_ev & TCPST_EV_RST_IGNORED) {
        /* Decided at once (its TSecr): nothing to take back, only to report. */
        tcpst_rst_watch *w = rst_note(c, from ^ 1, frame, rcv_state);
        w->reason = TCPST_RNA_TSECR_NOT_SENT;
        w->flags = TCPST_RW_PROVEN;
    }
    if (ev & (TCPST_EV_RST_REJECTED | TCPST_EV_RST_IGNORED)) {
        c->rst_not_accepted++;
    }
    note_sequence(e, seg);
    tcpst_zeek_update_ts(&c->zeek, from & 1, seg, ts);
    return ev;
}
