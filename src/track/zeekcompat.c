/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zeekcompat.c - Zeek's conn_state, history, packet counts and record
 * boundaries, computed from the segments of one tcpstate record.
 *
 * Record boundaries and conn_state are in zeekrow.c.
 *
 * What it does: follows Zeek's TCP session adapter (Zeek 9.1-dev, studied as
 * documented in docs/zeek-compat.md; paraphrased, no code copied) step by
 * step for every segment: originator choice and role flips, sequence-space
 * bookkeeping per side, history letters, zero windows, retransmissions, the
 * coarse per-side state machine, content gaps as Zeek's reassembler reports
 * them, and the close handling that decides when Zeek writes the row out.
 * conn_state is then Zeek's decision list over the two coarse states.
 *
 * What it does not do: verify checksums (so the C/c letters never appear),
 * decapsulate tunnels, apply Zeek's analyzer-specific behaviour (the X
 * letter, analyzer-dependent reassembly) or keep payload.  Content gaps are
 * judged from sequence numbers alone with a small fixed block list.
 *
 * Zeek's per-side states are not RFC 9293 states (RFC 9293 section 3.3.2): a
 * side is "closed" once it sent a FIN, whatever the peer did.  Sequence
 * arithmetic is the RFC 9293 section 3.4 modular comparison (seq.h).
 */
#include "tcpstate/zeekcompat.h"

#include <stdlib.h>
#include <string.h>

#include "tcpstate/seq.h"
#include "zeek.h"

/* Zeek distrusts SYN/RST sequence jumps larger than this (1 MiB). */
#define TOO_LARGE_SEQ_DELTA 1048576

/* hist_seen bits per letter kind; the responder's are shifted left by 16. */
enum {
    H_SYN = 0x1,
    H_FIN = 0x2,
    H_RST = 0x4,
    H_FIN_RST = 0x8,
    H_DATA = 0x10,
    H_ACK = 0x20,
    H_MULTI = 0x40
};

/* Logarithmic letters, index into tcpst_zeek_ep.cnt/thr. */
enum { LOG_C = 0, LOG_G = 1, LOG_T = 2, LOG_W = 3 };

enum { LAST_SYN = 0, LAST_FIN = 1, LAST_RST = 2 };

/*
 * Likely server ports (TCP) of a full (non "-b") Zeek run: the union of the
 * ports the default protocol scripts register, which is what Zeek's first
 * packet flip heuristic consults.  Sorted for bsearch.
 */
static const uint16_t likely_ports[] = {
    21,   22,   25,   53,   79,   80,   81,   88,   110,  135,  139,  143,  389,  443,  445,   502,
    563,  585,  587,  614,  631,  636,  989,  990,  992,  993,  995,  1080, 1434, 1883, 2811,  3128,
    3268, 3306, 3389, 5222, 5223, 5269, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
};

static int cmp_port(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

bool tcpst_zeek_likely_server_port(uint16_t port)
{
    return bsearch(&port, likely_ports, sizeof likely_ports / sizeof likely_ports[0],
                   sizeof likely_ports[0], cmp_port) != NULL;
}

void tcpst_zeek_init(tcpst_zeek *z)
{
    memset(z, 0, sizeof *z);
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 4; k++) {
            z->ep[i].thr[k] = 1;
        }
        z->ep[i].reasm_seq = 1; /* relative seq 1: first byte after the SYN */
        z->ep[i].trim_seq = 1;
    }
    z->is_active = 1;
    z->inactivity = HANDSHAKE_INACTIVITY;
}

/* ---- history ---------------------------------------------------------- */

static bool is_orig(const tcpst_zeek *z, unsigned e)
{
    return e == z->orig;
}

static void add_letter(tcpst_zeek *z, char c)
{
    if (z->hlen < TCPST_ZEEK_HIST_MAX) {
        z->hist[z->hlen++] = c;
        z->hist[z->hlen] = '\0';
    }
}

static char cased(const tcpst_zeek *z, unsigned e, char upper)
{
    return is_orig(z, e) ? upper : (char)(upper - 'A' + 'a');
}

/*
 * Record a once-per-direction letter.  Returns true if it had been seen
 * already.  The bits belong to the role, not the endpoint, so after a flip
 * the same endpoint may record the letter again in its new case (as Zeek).
 */
static bool check_once(tcpst_zeek *z, unsigned e, uint32_t mask, char upper)
{
    if (!is_orig(z, e)) {
        mask <<= 16;
    }
    if (z->hist_seen & mask) {
        return true;
    }
    z->hist_seen |= mask;
    add_letter(z, cased(z, e, upper));
    return false;
}

/* C G T W: the letter at the 1st, 10th, 100th, ... occurrence per side. */
static void scaled_letter(tcpst_zeek *z, unsigned e, int kind, char upper)
{
    tcpst_zeek_ep *ep = &z->ep[e];
    if (++ep->cnt[kind] == ep->thr[kind]) {
        add_letter(z, cased(z, e, upper));
        uint32_t next = ep->thr[kind] * 10u;
        if (next <= ep->thr[kind]) {
            ep->cnt[kind] = 0; /* threshold would wrap: count again from zero */
        } else {
            ep->thr[kind] = next;
        }
    }
}

/* S/H, F, R: once, then again only when the sequence number moved. */
static void seq_letter(tcpst_zeek *z, unsigned e, uint32_t mask, int which, char upper, int64_t rel)
{
    tcpst_zeek_ep *ep = &z->ep[e];
    if (check_once(z, e, mask, upper) && rel != ep->hist_last[which]) {
        add_letter(z, cased(z, e, upper));
    }
    ep->hist_last[which] = rel;
}

static void update_history(tcpst_zeek *z, unsigned e, uint16_t f, int64_t rel_seq, uint32_t len)
{
    int nctl = !!(f & TCPST_SYN) + !!(f & TCPST_FIN) + !!(f & TCPST_RST);
    if (nctl > 1) {
        if ((f & TCPST_FIN) && (f & TCPST_RST)) {
            check_once(z, e, H_FIN_RST, 'I');
        } else {
            check_once(z, e, H_MULTI, 'Q');
        }
    } else if (f & TCPST_SYN) {
        seq_letter(z, e, H_SYN, LAST_SYN, (f & TCPST_ACK) ? 'H' : 'S', rel_seq);
    } else if (f & TCPST_FIN) {
        /* A FIN's position is after its payload. */
        seq_letter(z, e, H_FIN, LAST_FIN, 'F', rel_seq + (int64_t)len);
    } else if (f & TCPST_RST) {
        seq_letter(z, e, H_RST, LAST_RST, 'R', rel_seq);
    } else if (len > 0) {
        check_once(z, e, H_DATA, 'D');
    } else if (f & TCPST_ACK) {
        check_once(z, e, H_ACK, 'A');
    }
}

/* Swap originator and responder: '^' in the history, letters so far keep their case. */
static void flip_roles(tcpst_zeek *z)
{
    z->orig ^= 1u;
    add_letter(z, '^');
    z->is_partial = 0;
}

/* ---- sequence bookkeeping (per side, relative to its start) ----------- */

static uint64_t full_seq(uint32_t seq, uint32_t wraps)
{
    return ((uint64_t)wraps << 32) + seq;
}

/*
 * Relative position of `cur` in a side's sequence space, judged against the
 * side's last value `last` and its wrap count (a value just below a wrap
 * belongs to the previous 2^32 window, one just above to the next).
 */
static int64_t relative_seq(const tcpst_zeek_ep *ep, uint32_t cur, uint32_t last, uint32_t wraps,
                            bool *underflow)
{
    int32_t delta = tcpst_seq_diff(cur, last);
    if (delta < 0 && wraps && cur > last) {
        wraps--;
    } else if (delta > 0 && cur < last) {
        wraps++;
    }
    if (wraps == 0) {
        int32_t d = tcpst_seq_diff(cur, (uint32_t)ep->start_seq);
        if (underflow && d < 0) {
            *underflow = true;
        }
        return d;
    }
    return (int64_t)(full_seq(cur, wraps) - (uint64_t)ep->start_seq);
}

static void init_seqs(tcpst_zeek_ep *ep, uint32_t start, uint32_t last)
{
    ep->start_seq = start;
    ep->ack_seq = start;
    ep->last_seq = last;
}

static void update_last(tcpst_zeek_ep *ep, uint32_t seq)
{
    if (seq < ep->last_seq) {
        ep->seq_wraps++;
    }
    ep->last_seq = seq;
}

/* First sight of a side, or a SYN that restarts its numbering. */
static void init_endpoint(tcpst_zeek *z, unsigned e, uint16_t f, uint32_t seq, uint32_t end)
{
    tcpst_zeek_ep *ep = &z->ep[e];
    bool syn = (f & TCPST_SYN) != 0;
    switch (z->state[e]) {
        case TCPST_Z_INACTIVE:
            if (syn) {
                init_seqs(ep, seq, end);
            } else {
                /* Mid-stream: number as if a SYN preceded, first segment is not a repeat. */
                init_seqs(ep, seq - 1u, seq);
            }
            break;
        case TCPST_Z_SYN_SENT:
        case TCPST_Z_SYN_ACK_SENT:
            if (syn && seq != (uint32_t)ep->start_seq) {
                init_seqs(ep, seq, end);
            }
            break;
        case TCPST_Z_ESTABLISHED:
        case TCPST_Z_PARTIAL:
            if (syn) {
                init_seqs(ep, seq, end); /* guess: this SYN really sets it up */
            }
            break;
        case TCPST_Z_RESET:
            if (syn && ep->prev_state == TCPST_Z_INACTIVE) {
                init_seqs(ep, seq, end); /* the earlier RST may have been injected */
            }
            break;
        default:
            break;
    }
}

/* A side's first ACK fixes the peer's numbering before the peer is heard. */
static void init_peer(tcpst_zeek_ep *peer, uint32_t ack)
{
    init_seqs(peer, ack - 1u, ack - 1u);
}

static void update_ack(tcpst_zeek_ep *peer, uint32_t ack)
{
    int32_t d = tcpst_seq_diff(ack, peer->ack_seq);
    if (ack == 0 && d > TOO_LARGE_SEQ_DELTA) {
        return; /* more likely a broken ACK than a wrap landing on 0 */
    }
    if (d > 0) {
        if (ack < peer->ack_seq) {
            peer->ack_wraps++;
        }
        peer->ack_seq = ack;
    }
}

/* Advance the side's highest sequence; payload that does not advance it is a retransmission. */
static int32_t update_last_seq(tcpst_zeek *z, unsigned e, uint32_t end, uint16_t f, uint32_t len)
{
    tcpst_zeek_ep *ep = &z->ep[e];
    int32_t delta = tcpst_seq_diff(end, ep->last_seq);
    if ((f & (TCPST_SYN | TCPST_RST)) &&
        (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA)) {
        /* distrusted jump */
    } else if ((f & TCPST_FIN) && ep->last_seq == (uint32_t)ep->start_seq + 1u) {
        update_last(ep, end); /* only SYN and FIN seen: trust the FIN's position */
    } else if (z->state[e] == TCPST_Z_RESET) {
        /* nothing after a RST is trusted */
    } else if (delta > 0) {
        update_last(ep, end);
    } else if (len > 0) {
        scaled_letter(z, e, LOG_T, 'T');
    }
    return delta;
}

/* What Zeek counts as a side's payload size (for REJ). */
uint64_t tcpst__zeek_ep_size(const tcpst_zeek *z, unsigned e)
{
    const tcpst_zeek_ep *ep = &z->ep[e];
    uint64_t ack = full_seq(ep->ack_seq, ep->ack_wraps);
    uint64_t start = (uint64_t)ep->start_seq;
    bool no_data_acked = ack == start || ack == start + 1;
    if (ep->prev_state == TCPST_Z_SYN_SENT && z->state[e] == TCPST_Z_RESET &&
        z->state[e ^ 1u] == TCPST_Z_INACTIVE && !no_data_acked) {
        return 0; /* half-open attempt aborted: its numbers mean nothing */
    }
    uint64_t last = full_seq(ep->last_seq, ep->seq_wraps);
    uint64_t size = (last > ack ? last : ack) - start;
    if (size != 0) {
        size--; /* the SYN */
    }
    if (ep->fin_cnt > 0 && size != 0) {
        size--; /* the FIN */
    }
    return size;
}

/* ---- content gaps --------------------------------------------------- */

static bool clean(const tcpst_zeek *z, unsigned e)
{
    return z->state[e] == TCPST_Z_ESTABLISHED ||
           (z->state[e] == TCPST_Z_CLOSED && z->ep[e].prev_state == TCPST_Z_ESTABLISHED);
}

static void gap(tcpst_zeek *z, unsigned e)
{
    /* Gaps are only believed while both sides are established or cleanly closing. */
    if (clean(z, e) && clean(z, e ^ 1u)) {
        scaled_letter(z, e, LOG_G, 'G');
    }
}

static void drop_block(tcpst_zeek_ep *ep, unsigned i)
{
    memmove(&ep->blocks[i], &ep->blocks[i + 1], (ep->nblocks - i - 1u) * sizeof ep->blocks[0]);
    ep->nblocks--;
}

/* Deliver blocks that now touch the reassembly point. */
static void deliver_blocks(tcpst_zeek_ep *ep)
{
    while (ep->nblocks > 0 && ep->blocks[0].seq <= ep->reasm_seq) {
        if (ep->blocks[0].upper > ep->reasm_seq) {
            ep->reasm_seq = ep->blocks[0].upper;
        }
        drop_block(ep, 0);
    }
}

/* Captured payload [seq, upper) of side e, in relative sequence space. */
static void data_sent(tcpst_zeek_ep *ep, uint64_t seq, uint64_t upper)
{
    uint64_t acked = full_seq(ep->ack_seq, ep->ack_wraps) - (uint64_t)ep->start_seq;
    uint64_t floor = acked > ep->trim_seq ? acked : ep->trim_seq;
    if (upper <= floor || upper <= ep->reasm_seq) {
        return; /* already acknowledged or delivered */
    }
    if (seq < floor) {
        seq = floor;
    }
    if (seq <= ep->reasm_seq) {
        ep->reasm_seq = upper;
        deliver_blocks(ep);
        return;
    }
    /* Above a hole: keep it, merged with overlapping or touching blocks. */
    unsigned i = 0;
    while (i < ep->nblocks && ep->blocks[i].upper < seq) {
        i++;
    }
    if (i < ep->nblocks && ep->blocks[i].seq <= upper) {
        tcpst_zeek_block *b = &ep->blocks[i];
        b->seq = seq < b->seq ? seq : b->seq;
        b->upper = upper > b->upper ? upper : b->upper;
        while (i + 1u < ep->nblocks && ep->blocks[i + 1u].seq <= b->upper) {
            if (ep->blocks[i + 1u].upper > b->upper) {
                b->upper = ep->blocks[i + 1u].upper;
            }
            drop_block(ep, i + 1u);
        }
        return;
    }
    if (ep->nblocks == TCPST_ZEEK_BLOCKS) {
        /* Full: forget the highest block; at worst one gap is reported larger. */
        if (i == ep->nblocks) {
            return;
        }
        ep->nblocks--;
    }
    memmove(&ep->blocks[i + 1u], &ep->blocks[i], (ep->nblocks - i) * sizeof ep->blocks[0]);
    ep->blocks[i].seq = seq;
    ep->blocks[i].upper = upper;
    ep->nblocks++;
}

/*
 * The peer acknowledged side e up to relative `ack`: anything below it that
 * was never captured is a content gap (Zeek reports one per hole).
 */
static void ack_received(tcpst_zeek *z, unsigned e, uint64_t ack)
{
    tcpst_zeek_ep *ep = &z->ep[e];
    if (ep->fin_cnt > 0 && ack >= ep->fin_seq) {
        ack = ep->fin_seq - 1; /* the FIN itself is not data */
    }
    if (ack <= ep->trim_seq) {
        return;
    }
    ep->trim_seq = ack;
    if (ack <= ep->reasm_seq) {
        return;
    }
    if (ack <= 2 && z->is_partial) {
        return; /* mid-stream start: the first byte may not be where we guessed */
    }
    while (ep->nblocks > 0 && ep->blocks[0].seq < ack) {
        if (ep->blocks[0].seq > ep->reasm_seq) {
            gap(z, e);
        }
        if (ep->blocks[0].upper > ep->reasm_seq) {
            ep->reasm_seq = ep->blocks[0].upper;
        }
        drop_block(ep, 0);
    }
    if (ack > ep->reasm_seq) {
        gap(z, e);
        ep->reasm_seq = ack;
    }
}

/* ---- state machine (Zeek's coarse per-side states) --------------------- */

static void set_state(tcpst_zeek *z, unsigned e, uint8_t s)
{
    uint8_t old = z->state[e];
    if (s == old) {
        return;
    }
    bool hs_old = old <= TCPST_Z_SYN_ACK_SENT;
    bool hs_peer = z->state[e ^ 1u] <= TCPST_Z_SYN_ACK_SENT;
    if (s > TCPST_Z_SYN_ACK_SENT && hs_old && hs_peer) {
        z->inactivity = TCP_INACTIVITY; /* the handshake phase ends */
    }
    z->ep[e].prev_state = old;
    z->state[e] = s;
}

typedef struct step {
    tcpst_time ts;
    bool do_close, gen_event;
} step;

static void inactive_state(tcpst_zeek *z, unsigned e, const tcpst_segment *seg, step *st)
{
    unsigned p = e ^ 1u;
    uint16_t f = seg->flags;
    bool orig = is_orig(z, e);
    if (f & TCPST_SYN) {
        if (orig) {
            set_state(z, e, (f & TCPST_ACK) ? TCPST_Z_SYN_ACK_SENT : TCPST_Z_SYN_SENT);
            if (!z->attempt_at || st->ts + ATTEMPT_DELAY < z->attempt_at) {
                z->attempt_at = st->ts + ATTEMPT_DELAY;
            }
        } else {
            if (!(f & TCPST_ACK) && z->state[p] == TCPST_Z_SYN_ACK_SENT) {
                /* SYN-ACK captured before its SYN: the SYN sender is the originator. */
                flip_roles(z);
                set_state(z, p, TCPST_Z_ESTABLISHED);
                z->ep[e].sent = 1;
            }
            if (z->state[p] == TCPST_Z_SYN_SENT) {
                set_state(z, p, TCPST_Z_ESTABLISHED);
            }
            set_state(z, e, TCPST_Z_ESTABLISHED);
        }
    }
    if (f & TCPST_FIN) {
        set_state(z, e, TCPST_Z_CLOSED);
        st->do_close = st->gen_event = true;
    }
    if (f & TCPST_RST) {
        set_state(z, e, TCPST_Z_RESET);
        bool reject =
            orig ? z->state[p] == TCPST_Z_ESTABLISHED
                 : (z->state[p] == TCPST_Z_SYN_SENT || z->state[p] == TCPST_Z_SYN_ACK_SENT);
        st->do_close = true;
        st->gen_event = !reject;
    }
    if (z->state[e] == TCPST_Z_INACTIVE) {
        unsigned o = z->orig;
        if (!is_orig(z, e) && seg->payload_len == 0 && z->state[o] == TCPST_Z_SYN_SENT) {
            /* An ACK of the SYN before the SYN-ACK is not activity. */
        } else if ((f & TCPST_ACK) && z->state[p] == TCPST_Z_ESTABLISHED) {
            set_state(z, e, TCPST_Z_ESTABLISHED); /* the SYN was missed, not the handshake */
            z->is_partial = 0;
        } else {
            set_state(z, e, TCPST_Z_PARTIAL);
        }
    }
}

static void conn_reset(tcpst_zeek *z)
{
    z->is_active = 0;
}

static void syn_sent_state(tcpst_zeek *z, unsigned e, const tcpst_segment *seg, step *st)
{
    uint16_t f = seg->flags;
    if (f & TCPST_FIN) {
        set_state(z, e, TCPST_Z_CLOSED);
        st->do_close = st->gen_event = true;
    }
    if (f & TCPST_RST) {
        set_state(z, e, TCPST_Z_RESET);
        conn_reset(z);
        st->do_close = true;
    }
    /* Data here stays SYN_SENT (Zeek only notes data_before_established). */
}

static void established_state(tcpst_zeek *z, unsigned e, const tcpst_segment *seg, step *st)
{
    unsigned p = e ^ 1u;
    uint16_t f = seg->flags;
    if ((f & TCPST_SYN) && !(f & TCPST_ACK) && z->state[e] == TCPST_Z_PARTIAL &&
        z->state[p] == TCPST_Z_INACTIVE) {
        set_state(z, e, TCPST_Z_SYN_SENT); /* SYN after a mid-stream start */
    }
    if ((f & TCPST_FIN) && !(f & TCPST_RST)) {
        set_state(z, e, TCPST_Z_CLOSED);
        if (z->state[p] == TCPST_Z_RESET && z->ep[p].prev_state == TCPST_Z_CLOSED) {
            set_state(z, p, TCPST_Z_CLOSED); /* FIN then RST from the peer was a normal close */
        }
        st->do_close = st->gen_event = true;
    }
    if (f & TCPST_RST) {
        set_state(z, e, TCPST_Z_RESET);
        st->do_close = true;
        if (z->state[p] != TCPST_Z_RESET || z->ep[p].prev_state != TCPST_Z_ESTABLISHED) {
            conn_reset(z);
        }
    }
}

static void closed_state(tcpst_zeek *z, unsigned e, const tcpst_segment *seg, step *st)
{
    /* A RST after a completed FIN exchange changes nothing. */
    if ((seg->flags & TCPST_RST) && z->state[e ^ 1u] != TCPST_Z_CLOSED) {
        set_state(z, e, TCPST_Z_RESET);
        if (!z->ep[e].did_close) {
            st->do_close = true;
        }
        z->reset_at = st->ts + RESET_DELAY;
    }
}

static void state_machine(tcpst_zeek *z, unsigned e, const tcpst_segment *seg, step *st)
{
    switch (z->state[e]) {
        case TCPST_Z_INACTIVE:
            inactive_state(z, e, seg, st);
            break;
        case TCPST_Z_SYN_SENT:
        case TCPST_Z_SYN_ACK_SENT:
            syn_sent_state(z, e, seg, st);
            break;
        case TCPST_Z_ESTABLISHED:
        case TCPST_Z_PARTIAL:
            established_state(z, e, seg, st);
            break;
        case TCPST_Z_CLOSED:
            closed_state(z, e, seg, st);
            break;
        default: /* RESET: late segments change nothing */
            break;
    }
}

static void add_expire(tcpst_zeek *z, tcpst_time at)
{
    for (int i = 0; i < 3; i++) {
        if (!z->expire_at[i]) {
            z->expire_at[i] = at;
            return;
        }
    }
}

/* A side closed (FIN or RST): decide when Zeek will write the row out. */
static void connection_closed(tcpst_zeek *z, unsigned e, bool gen_event)
{
    unsigned p = e ^ 1u;
    if (z->ep[e].did_close) {
        return;
    }
    z->ep[e].did_close = 1;
    bool complete =
        z->state[e] == TCPST_Z_RESET || z->ep[p].did_close || z->state[p] == TCPST_Z_INACTIVE;
    if (complete) {
        if (gen_event &&
            (z->ep[e].prev_state != TCPST_Z_INACTIVE || z->state[p] != TCPST_Z_INACTIVE)) {
            z->is_active = 0; /* connection_finished */
        }
        /* Every other timer is cancelled; the row goes 5 s after the last activity. */
        z->attempt_at = z->reset_at = 0;
        memset(z->expire_at, 0, sizeof z->expire_at);
        z->delete_at = z->last_time + CLOSE_DELAY;
        if (!z->delete_at) {
            z->delete_at = 1; /* keep "pending" distinct from "none" at time 0 */
        }
    } else if (z->ep[e].prev_state != TCPST_Z_INACTIVE) {
        add_expire(z, z->last_time + SESSION_TIMER);
    }
    /* A first-ever FIN with an active peer would use Zeek's partial-close timer,
     * which only runs when a script handles connection_partial_close; the
     * default scripts do not. */
}

/* ---- per segment ------------------------------------------------------ */

static bool want_flip(const tcpst_segment *seg)
{
    uint16_t f = seg->flags;
    if ((f & TCPST_SYN) && !(f & TCPST_ACK)) {
        return false; /* a bare SYN names its originator */
    }
    if (!tcpst_zeek_likely_server_port(seg->sport)) {
        return false;
    }
    if (tcpst_zeek_likely_server_port(seg->dport)) {
        /* Both plausible: flip only mid-stream, towards the lower port (stealth
         * scans send SYN-ACKs, so never flip on one). */
        return !(f & TCPST_SYN) && seg->sport < seg->dport;
    }
    return true;
}

/* A connection that began with a lone SYN-ACK shows real traffic: flip it. */
static void check_late_flip(tcpst_zeek *z, const tcpst_segment *seg)
{
    uint16_t f = seg->flags;
    if (z->hlen != 1 || z->hist[0] != 'H') {
        return;
    }
    if ((f & (TCPST_SYN | TCPST_FIN | TCPST_RST)) || (!(f & TCPST_ACK) && seg->payload_len == 0)) {
        return;
    }
    z->orig ^= 1u;
    z->hist[0] = '^';
    z->hist[1] = 'h';
    z->hist[2] = '\0';
    z->hlen = 2;
    z->is_partial = 0;
}

static void set_partial_status(tcpst_zeek *z, unsigned e, uint16_t f)
{
    if (z->ep[e].sent) {
        return;
    }
    bool syn = (f & TCPST_SYN) != 0, ack = (f & TCPST_ACK) != 0;
    if (is_orig(z, e)) {
        z->is_partial = !syn || ack;
    } else if (!z->is_partial) {
        z->is_partial = !syn;
    }
}

static void process(tcpst_zeek *z, unsigned e, const tcpst_segment *seg, tcpst_time ts)
{
    unsigned p = e ^ 1u;
    tcpst_zeek_ep *ep = &z->ep[e], *pe = &z->ep[p];
    uint16_t f = seg->flags;
    uint32_t len = seg->payload_len;

    if (!z->seen) {
        z->seen = 1;
        z->orig = (uint8_t)e;
        z->last_time = ts;
        z->expire_at[0] = ts + SYN_TIMEOUT;
        if (want_flip(seg)) {
            flip_roles(z);
        }
    }
    check_late_flip(z, seg);
    ep->pkts++;
    set_partial_status(z, e, f);

    /* SYN and FIN occupy a sequence number; a RST's payload is not stream data. */
    uint32_t seg_len = len + ((f & TCPST_SYN) ? 1u : 0u) + ((f & TCPST_FIN) ? 1u : 0u);
    if (f & TCPST_RST) {
        seg_len -= len;
    }
    uint32_t end = seg->seq + seg_len;
    init_endpoint(z, e, f, seg->seq, end);

    bool underflow = false;
    int64_t rel_seq = relative_seq(ep, seg->seq, ep->last_seq, ep->seq_wraps, &underflow);
    update_history(z, e, f, rel_seq, len);

    /* Zero windows are ignored with or after a RST and after the peer's FIN. */
    if (seg->window == 0 && !(f & TCPST_RST) && z->state[p] != TCPST_Z_CLOSED &&
        z->state[e] != TCPST_Z_RESET) {
        scaled_letter(z, e, LOG_W, 'W');
    }
    if (!ep->did_close || !pe->did_close) {
        z->last_time = ts;
    }
    if (f & TCPST_FIN) {
        ep->fin_cnt++;
        ep->fin_seq = (uint64_t)(rel_seq + seg_len);
    }
    if (f & TCPST_RST) {
        ep->rst_cnt++;
    }

    int64_t rel_ack = 0;
    if (f & TCPST_ACK) {
        if (z->state[p] == TCPST_Z_INACTIVE) {
            rel_ack = 1;
            init_peer(pe, seg->ack);
        } else {
            bool ack_underflow = false;
            rel_ack = relative_seq(pe, seg->ack, pe->ack_seq, pe->ack_wraps, &ack_underflow);
            if (ack_underflow) {
                rel_ack = 0;
            } else if (!(f & TCPST_RST)) {
                update_ack(pe, seg->ack); /* ACKs on RSTs are not trusted */
            }
        }
    }

    update_last_seq(z, e, end, f, len);

    step st = {.ts = ts, .do_close = false, .gen_event = false};
    state_machine(z, e, seg, &st);

    /* Acks are applied after the state change so gaps at a FIN or RST are judged right. */
    if ((f & TCPST_ACK) && rel_ack > 0) {
        ack_received(z, p, (uint64_t)rel_ack);
    }
    if (len > 0 && !(f & TCPST_RST) && !underflow && seg->payload_caplen >= len) {
        uint64_t data_seq = (uint64_t)(rel_seq + ((f & TCPST_SYN) ? 1 : 0));
        data_sent(ep, data_seq, data_seq + len);
    }
    ep->sent = 1;
    if (st.do_close) {
        connection_closed(z, e, st.gen_event);
    }
}

void tcpst_zeek_update_ts(tcpst_zeek *z, unsigned from, const tcpst_segment *seg, tcpst_time ts)
{
    /* Timers that fired without removing the record are consumed or re-armed. */
    if (z->seen) {
        if (z->attempt_at && ts >= z->attempt_at) {
            z->attempt_at = 0;
        }
        if (z->reset_at && ts >= z->reset_at) {
            z->reset_at = 0;
        }
        for (int i = 0; i < 3; i++) {
            if (z->expire_at[i] && ts >= z->expire_at[i]) {
                /* Each run re-arms itself 6 s later while the analyzer is active. */
                tcpst_time runs = (ts - z->expire_at[i]) / SESSION_TIMER + 1;
                z->expire_at[i] = z->is_active ? z->expire_at[i] + runs * SESSION_TIMER : 0;
            }
        }
    }
    process(z, from & 1u, seg, ts);
}

void tcpst_zeek_update(tcpst_zeek *z, unsigned from, const tcpst_segment *seg)
{
    process(z, from & 1u, seg, 0);
}
