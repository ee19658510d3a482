/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transfer.c - data-transfer detectors: retransmissions (timeout / fast /
 * spurious), out-of-order segments, capture gaps (told apart from real loss
 * later), ACKs of data never captured, zero windows and stalls with their
 * probes, window shrinking, keep-alives, segments beyond the receiver's
 * window and TCP timestamp regressions.
 *
 * Each segment is judged against what the endpoint records held before it
 * (conn.c calls us ahead of its own bookkeeping) plus a little history per
 * direction (tcpst_xfer_dir): two uncaptured holes and when they showed, the
 * latest segment, the duplicate-ACK run and highest SACKed byte, the
 * loss-recovery point, the advertised right edge, the zero-window episode and
 * the highest TSval.
 *
 * A segment that carries sequence space but does not advance its sender's
 * highest sequence (tcpst_endpoint_seqspace) is exactly one of: zero-window probe,
 * keep-alive, out-of-order (the original of a hole, arriving late), a capture copy of the
 * latest segment (byte-identical headers within TCPST_XFER_COPY_WINDOW; not reported) or
 * a retransmission.  That verdict (tcpst_repeat) is returned, and the endpoint counters of
 * conn.c count it, so counters and findings cannot disagree.  Not here: connection life-cycle
 * anomalies (detect.c).  No allocation;
 * the rules are documented in docs/anomalies.md (RFC 9293 3.8, RFC 5681,
 * RFC 6582, RFC 6675, RFC 7323).
 */
#include "tcpstate/transfer.h"

#include <string.h>

#include "tcpstate/conn.h"
#include "tcpstate/detect.h"
#include "tcpstate/seq.h"
#include "xfer.h"

/* tcpst_xfer_dir.flags */
enum {
    XD_TSVAL = 1u << 0,    /* tsval valid */
    XD_HOLE0 = 1u << 1,    /* hole[0] in use */
    XD_HOLE1 = 1u << 2,    /* hole[1] in use (only with hole[0]) */
    XD_DUP_USED = 1u << 3, /* the current duplicate-ACK run already caused a fast retransmit */
    XD_RECOVERY = 1u << 4, /* in fast recovery (recover valid) */
    XD_SACK = 1u << 5,     /* sack_hi valid */
    XD_ZW = 1u << 6,       /* zero-window episode open */
    XD_REDGE = 1u << 7,    /* redge, redge_max valid */
    XD_SYNACK = 1u << 8,   /* it has sent a SYN-ACK */
    XD_OLD_ACK = 1u << 9,  /* an older ACK of it came after a newer one: windows unreliable */
    XD_ACK_FP = 1u << 10   /* ack_fp, ack_ts valid */
};

/* Subtypes: the retransmission finding's fact slots. */
enum { RT_TIMEOUT = 0, RT_FAST = 1, RT_SPURIOUS = 2, RT_BYTES = 3 };
/* segment_not_captured fact slots. */
enum { NC_BYTES = 0, NC_CAPTURE_LOST = 1, NC_FILLED_LATER = 2 };

/* One segment being judged. */
typedef struct judge {
    tcpst_xfer *x;
    tcpst_findings *fs;
    unsigned from;
    const tcpst_endpoint *e, *p;
    const tcpst_segment *seg;
    tcpst_time ts;
    uint64_t frame;
    uint32_t end; /* seq + payload + SYN + FIN */
    bool ooo;     /* classified out-of-order */
    bool probe;   /* classified zero-window probe */
    tcpst_repeat verdict;
    uint32_t fp; /* fingerprint(seg), for segments with sequence space */
} judge;

static tcpst_finding *add(const judge *j, tcpst_anomaly_type t, unsigned who)
{
    return tcpst_findings_add(j->fs, t, (tcpst_who)who, j->ts, j->frame);
}

static void fact_max(tcpst_finding *f, unsigned slot, int64_t v)
{
    if (v > f->fact[slot]) {
        f->fact[slot] = v;
    }
}

static tcpst_time stall_after(const tcpst_xfer_config *cfg)
{
    return cfg && cfg->zero_window_stall > 0 ? cfg->zero_window_stall
                                             : TCPST_XFER_DEFAULT_ZERO_WINDOW_STALL;
}

/*
 * Window scaling is in force only if both SYNs carried the option (RFC 7323
 * 2.2), so without both SYNs captured the scale, hence the window, is unknown.
 */
static bool handshake_seen(const tcpst_endpoint *a, const tcpst_endpoint *b)
{
    uint16_t need = TCPST_EP_ISN, bad = TCPST_EP_ISN_INFERRED;
    return (a->has & need) && (b->has & need) && !(a->has & bad) && !(b->has & bad);
}

/* ---- holes: data of one direction that was never captured ---- */

static unsigned nholes(const tcpst_xfer_dir *d)
{
    return (d->flags & XD_HOLE1) ? 2u : (d->flags & XD_HOLE0) ? 1u : 0u;
}

static void set_nholes(tcpst_xfer_dir *d, unsigned n)
{
    d->flags = (uint16_t)(d->flags & ~(XD_HOLE0 | XD_HOLE1));
    d->flags = (uint16_t)(d->flags | (n >= 1 ? XD_HOLE0 : 0) | (n >= 2 ? XD_HOLE1 : 0));
}

static void hole_remove(tcpst_xfer_dir *d, unsigned i)
{
    unsigned n = nholes(d);
    for (unsigned k = i; k + 1 < n; k++) {
        d->hole[k][0] = d->hole[k + 1][0];
        d->hole[k][1] = d->hole[k + 1][1];
        d->hole_ts[k] = d->hole_ts[k + 1];
    }
    set_nholes(d, n - 1);
}

/* Two holes are tracked; a third replaces the oldest, which stays unclassified. */
static void hole_open(tcpst_xfer_dir *d, uint32_t lo, uint32_t hi, tcpst_time ts)
{
    if (nholes(d) >= 2) {
        hole_remove(d, 0);
    }
    unsigned n = nholes(d);
    if (n >= 2) {
        return; /* cannot happen; states the bound for the compiler's array checks */
    }
    d->hole[n][0] = lo;
    d->hole[n][1] = hi;
    d->hole_ts[n] = ts;
    set_nholes(d, n + 1);
}

/* The hole `seq` falls into; -1 if none. */
static int find_hole(const tcpst_xfer_dir *d, uint32_t seq)
{
    for (unsigned i = 0; i < nholes(d); i++) {
        if (tcpst_seq_ge(seq, d->hole[i][0]) && tcpst_seq_lt(seq, d->hole[i][1])) {
            return (int)i;
        }
    }
    return -1;
}

/* Captured data [s, t) fills holes; returns how many hole bytes it covered. */
static uint32_t holes_fill(tcpst_xfer_dir *d, uint32_t s, uint32_t t)
{
    uint32_t covered = 0;
    for (unsigned i = nholes(d); i-- > 0;) {
        uint32_t lo = d->hole[i][0], hi = d->hole[i][1];
        if (tcpst_seq_le(t, lo) || tcpst_seq_ge(s, hi)) {
            continue;
        }
        uint32_t a = tcpst_seq_gt(s, lo) ? s : lo, b = tcpst_seq_lt(t, hi) ? t : hi;
        covered += b - a;
        if (tcpst_seq_le(s, lo) && tcpst_seq_ge(t, hi)) {
            hole_remove(d, i);
        } else if (tcpst_seq_le(s, lo)) {
            d->hole[i][0] = t;
        } else {
            /* Ends inside or splits the hole: keep the lower part only. */
            d->hole[i][1] = s;
        }
    }
    return covered;
}

/* The receiver acknowledged up to `ack`: hole bytes below it were delivered
 * though never captured.  Returns that byte count. */
static uint32_t holes_acked(tcpst_xfer_dir *d, uint32_t ack)
{
    uint32_t lost = 0;
    for (unsigned i = nholes(d); i-- > 0;) {
        uint32_t lo = d->hole[i][0], hi = d->hole[i][1];
        if (!tcpst_seq_gt(ack, lo)) {
            continue;
        }
        uint32_t upto = tcpst_seq_lt(ack, hi) ? ack : hi;
        lost += upto - lo;
        if (upto == hi) {
            hole_remove(d, i);
        } else {
            d->hole[i][0] = upto;
        }
    }
    return lost;
}

static void nc_fact(tcpst_findings *fs, unsigned who, unsigned slot, uint32_t bytes)
{
    tcpst_finding *f;
    if (bytes && (f = tcpst_findings_get(fs, TCPST_A_SEGMENT_NOT_CAPTURED, (tcpst_who)who))) {
        f->fact[slot] += bytes;
    }
}

/* ---- zero-window episodes ---- */

/* End the episode of advertiser `who` at (ts, frame); frame 0 = record end. */
static void zw_close(tcpst_xfer_dir *d, tcpst_findings *fs, unsigned who, tcpst_time ts,
                     uint64_t frame, bool still, const tcpst_xfer_config *cfg)
{
    tcpst_time dur = ts - d->zw_ts;
    tcpst_finding *f = tcpst_findings_get(fs, TCPST_A_ZERO_WINDOW, (tcpst_who)who);
    if (f) {
        f->fact[0] += dur;
        f->fact[1] += d->zw_probes;
    }
    if (dur >= stall_after(cfg) &&
        (f = tcpst_findings_add(fs, TCPST_A_ZERO_WINDOW_STALL, (tcpst_who)who, d->zw_ts,
                                d->zw_frame))) {
        for (unsigned i = 0; i < 2; i++) {
            tcpst_finding_add_evidence(fs, f, d->zw_probe[i] ? d->zw_frame + d->zw_probe[i] : 0);
        }
        tcpst_finding_add_evidence(fs, f, frame);
        f->last_ts = ts;
        if (frame) {
            f->last_frame = frame;
        }
        f->fact[0] += dur;
        f->fact[1] += d->zw_probes;
        f->still_at_end = still;
    }
    d->flags = (uint16_t)(d->flags & ~XD_ZW);
}

bool tcpst__xfer_zero_window_open(const tcpst_xfer *x)
{
    return ((x->d[0].flags | x->d[1].flags) & XD_ZW) != 0;
}

static void zw_probe(tcpst_xfer_dir *pd, uint64_t frame)
{
    uint64_t off = frame > pd->zw_frame ? frame - pd->zw_frame : 0;
    uint32_t o = off > UINT32_MAX ? 0 : (uint32_t)off; /* 0: not kept as evidence */
    pd->zw_probe[pd->zw_probes++ == 0 ? 0 : 1] = o;
}

/* ---- the sender's side: its data ---- */

/*
 * RFC 6675 4 IsLost(): the receiver holds at least (DupThresh - 1) * SMSS
 * bytes above this segment.  Approximated with the highest SACKed byte it
 * ever reported, which is what a SACK sender acts on.
 */
static bool sack_says_lost(const judge *j, const tcpst_xfer_dir *pd)
{
    if (!(pd->flags & XD_SACK)) {
        return false;
    }
    uint32_t smss = (j->p->has & TCPST_EP_MSS) && j->p->mss ? j->p->mss : 536u;
    return tcpst_seq_ge(pd->sack_hi, j->end + (TCPST_XFER_DUPTHRESH - 1) * smss);
}

static void retransmission(judge *j)
{
    const tcpst_endpoint *e = j->e, *p = j->p;
    const tcpst_segment *seg = j->seg;
    tcpst_xfer_dir *d = &j->x->d[j->from], *pd = &j->x->d[j->from ^ 1];
    bool pack = (p->has & TCPST_EP_ACK) != 0;
    /* ACK-clocked repairs follow an ACK; a timer fires after a silence of at
     * least one minimum RTO. */
    bool clocked = (p->has & TCPST_EP_SENT) && j->ts - p->last_ts < TCPST_XFER_MAX_REORDER;
    unsigned kind = RT_TIMEOUT;

    if (d->flags & XD_RECOVERY && (!pack || tcpst_seq_ge(p->last_ack, d->recover))) {
        d->flags = (uint16_t)(d->flags & ~XD_RECOVERY); /* RFC 6582: a full ACK ends it */
    }
    if (pack && tcpst_seq_le(j->end, p->last_ack)) {
        kind = RT_SPURIOUS; /* every byte was already acknowledged */
    } else if (seg->flags & TCPST_SYN) {
        kind = RT_TIMEOUT; /* SYNs are only ever repeated by a timer */
    } else if (!(pd->flags & XD_DUP_USED) && pack && pd->dupacks >= TCPST_XFER_DUPTHRESH &&
               p->last_ack == seg->seq) {
        /* RFC 5681 3.2 fast retransmit; opens recovery up to SND.NXT (RFC 6582). */
        kind = RT_FAST;
        pd->flags |= XD_DUP_USED;
        d->flags |= XD_RECOVERY;
        d->recover = e->next_seq;
    } else if (clocked && (sack_says_lost(j, pd) || (d->flags & XD_RECOVERY))) {
        /* SACK-based loss recovery (RFC 6675, RACK) or a NewReno partial ACK
         * (RFC 6582) repairing the next hole. */
        kind = RT_FAST;
        if (!(d->flags & XD_RECOVERY)) {
            d->flags |= XD_RECOVERY;
            d->recover = e->next_seq;
        }
    } else {
        d->flags = (uint16_t)(d->flags & ~XD_RECOVERY); /* after a timeout, go-back-N */
    }
    tcpst_finding *f = add(j, TCPST_A_RETRANSMISSION, j->from);
    if (f) {
        f->fact[kind]++;
        f->fact[RT_BYTES] += seg->payload_len;
    }
}

static tcpst_time reorder_window(const tcpst_xfer *x)
{
    /*
     * A repair needs at least one round trip to reach the capture point
     * again; the cap keeps an inflated handshake (slow accept) from hiding
     * timer retransmissions, which Linux sends after 200 ms at the earliest.
     */
    if (x->rtt <= 0) {
        return TCPST_XFER_DEFAULT_REORDER;
    }
    return x->rtt < TCPST_XFER_MAX_REORDER ? x->rtt : TCPST_XFER_MAX_REORDER;
}

/*
 * Data that fills a hole: the original arriving late, or a repair?  A repair
 * needs a round trip after the hole showed, so timing decides - unless TCP
 * timestamps (RFC 7323) tell: a repair is sent after every segment captured
 * so far and carries a TSval at least as high as theirs, an original sent
 * before the hole's end carries a lower one.  Equal values (same clock tick)
 * leave it to timing.
 */
static bool reordered(const judge *j, const tcpst_xfer_dir *d, tcpst_time since)
{
    if ((j->seg->opts.present & TCPST_HAS_TS) && (d->flags & XD_TSVAL) &&
        j->seg->opts.tsval != d->tsval) {
        return tcpst_seq_lt(j->seg->opts.tsval, d->tsval);
    }
    return since < reorder_window(j->x);
}

/*
 * The headers that tell a copy from a resend: a sender that sends a segment again gives
 * it a new IPv4 ID (Linux, Windows and the BSDs do), a newer TSval once its clock ticked,
 * or the ACK and window it has now; the TCP checksum covers the rest of the header and
 * the payload.  TTL and the IP checksum are left out: a copy taken behind a router has
 * them changed.  A 32-bit mix, so two different headers collide once in 2^32.
 */
static uint32_t fingerprint(const tcpst_segment *seg)
{
    uint32_t h = seg->seq;
    uint32_t ts = (seg->opts.present & TCPST_HAS_TS) ? seg->opts.tsval : 0;
    uint32_t tse = (seg->opts.present & TCPST_HAS_TS) ? seg->opts.tsecr : 0;
    const uint32_t w[] = {seg->ack,
                          ((uint32_t)seg->flags << 16) | seg->window,
                          ((uint32_t)seg->ip_id << 16) | seg->checksum,
                          ts,
                          tse,
                          seg->payload_len};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        h = (h ^ w[i]) * UINT32_C(0x9E3779B1);
        h ^= h >> 15;
    }
    return h;
}

/* The latest segment again, byte for byte, within TCPST_XFER_COPY_WINDOW. */
static bool capture_copy(const judge *j, const tcpst_xfer_dir *d)
{
    const tcpst_time window = TCPST_XFER_COPY_WINDOW;
    tcpst_time dt = j->ts - d->last_ts; /* merged captures may hold the copy first */
    return j->end == d->last_end && (j->seg->flags & (TCPST_SYN | TCPST_FIN)) == d->last_ctl &&
           j->fp == d->last_fp && dt <= window && dt >= -window;
}

/*
 * A pure ACK again, byte for byte.  Real duplicate ACKs can be byte-identical too (no SACK
 * blocks, no timestamp tick, no IPv4 ID), and they matter: three trigger a fast retransmit.
 * So a copy needs the same capture instant, or an IPv4 ID that a resend would not have
 * repeated.  Otherwise the ACK is remembered as the latest.
 */
static bool ack_copy(tcpst_xfer_dir *d, const tcpst_segment *seg, tcpst_time ts)
{
    if ((seg->flags & (TCPST_ACK | TCPST_SYN | TCPST_FIN | TCPST_RST)) != TCPST_ACK ||
        seg->payload_len != 0) {
        return false;
    }
    const tcpst_time window = TCPST_XFER_COPY_WINDOW;
    uint32_t fp = fingerprint(seg);
    tcpst_time dt = ts - d->ack_ts;
    if ((d->flags & XD_ACK_FP) && fp == d->ack_fp &&
        (dt == 0 || (seg->ip_id != 0 && dt <= window && dt >= -window))) {
        return true;
    }
    d->ack_fp = fp;
    d->ack_ts = ts;
    d->flags |= XD_ACK_FP;
    return false;
}

/* The latest segment that occupied sequence space: what a copy would repeat. */
static void note_latest(tcpst_xfer_dir *d, const judge *j)
{
    d->last_ts = j->ts;
    d->last_end = j->end;
    d->last_ctl = (uint8_t)(j->seg->flags & (TCPST_SYN | TCPST_FIN));
    d->last_fp = j->fp;
}

static void sender_side(judge *j)
{
    const tcpst_endpoint *e = j->e, *p = j->p;
    const tcpst_segment *seg = j->seg;
    tcpst_xfer_dir *d = &j->x->d[j->from], *pd = &j->x->d[j->from ^ 1];
    uint16_t fl = seg->flags;
    uint32_t seqlen = j->end - seg->seq;
    bool have = (e->has & TCPST_EP_NEXT) != 0;
    bool ctl = (fl & (TCPST_SYN | TCPST_FIN)) != 0;

    if (!have) {
        if ((fl & (TCPST_SYN | TCPST_ACK)) == (TCPST_SYN | TCPST_ACK)) {
            d->flags |= XD_SYNACK;
        }
        if (seqlen) {
            note_latest(d, j);
        }
        return;
    }
    uint32_t next = e->next_seq;
    int h = find_hole(d, seg->seq);
    bool hole = h >= 0;
    /* A SYN whose sequence number was only inferred from the peer's ACK was
     * never captured: like a hole, it is reordered if it comes soon after. */
    bool syn_unseen = (fl & TCPST_SYN) && (e->has & TCPST_EP_ISN_INFERRED) && seg->seq == e->isn;
    /* Time since the missing data became visible: a repair needs a round trip. */
    tcpst_time since = syn_unseen ? j->ts - p->last_ts : hole ? j->ts - d->hole_ts[h] : 0;
    /* Zero or one byte just below SND.NXT: keep-alive or probe (RFC 9293 3.8.4). */
    bool below = !ctl && seg->payload_len <= 1 && seg->seq == next - 1;
    /* Classic probe: one new byte at SND.NXT while the window is zero (RFC 9293 3.8.6.1). */
    bool first_probe = !ctl && seg->payload_len == 1 && seg->seq == next;

    if ((pd->flags & XD_ZW) && (below || first_probe)) {
        j->probe = true;
        j->verdict = TCPST_RP_PROBE;
        zw_probe(pd, j->frame);
    } else if (below && (fl & TCPST_ACK) &&
               (seg->payload_len == 0 ||
                ((p->has & TCPST_EP_ACK) && tcpst_seq_ge(p->last_ack, next)))) {
        /* A one-byte segment is a keep-alive only if that byte was already
         * acknowledged; otherwise it is the repeat of unacknowledged data. */
        j->verdict = TCPST_RP_KEEPALIVE;
        add(j, TCPST_A_KEEPALIVE, j->from);
    } else if ((fl & (TCPST_SYN | TCPST_ACK)) == (TCPST_SYN | TCPST_ACK) &&
               !(d->flags & XD_SYNACK) && !syn_unseen) {
        /* Simultaneous open (RFC 9293 3.5 fig. 8): the first SYN-ACK repeats
         * the sender's own bare SYN by design. */
    } else if (tcpst_endpoint_seqspace(e, seg) >= TCPST_SPACE_REPEAT) {
        if (((hole && !(fl & TCPST_SYN)) || syn_unseen) && reordered(j, d, since)) {
            j->ooo = true;
            j->verdict = TCPST_RP_OUT_OF_ORDER;
            tcpst_finding *f = add(j, TCPST_A_OUT_OF_ORDER, j->from);
            if (f) {
                f->fact[0] += seg->payload_len;
            }
        } else if (!hole && capture_copy(j, d)) {
            /* The network or the capture (two taps, SPAN) duplicated it: not reported.
             * Equal sequence numbers alone prove nothing: a copy with a new IP ID, a
             * newer TSval or another ACK was sent again, however soon. */
            j->verdict = TCPST_RP_COPY;
        } else {
            j->verdict = TCPST_RP_RETRANSMISSION;
            retransmission(j);
        }
    }

    if (seqlen > 0) {
        nc_fact(j->fs, j->from, NC_FILLED_LATER, holes_fill(d, seg->seq, j->end));
    }
    int32_t gap = tcpst_seq_diff(seg->seq, next);
    if (gap > 0 && !(fl & TCPST_SYN)) {
        tcpst_finding *f = add(j, TCPST_A_SEGMENT_NOT_CAPTURED, j->from);
        if (f) {
            f->fact[NC_BYTES] += gap;
        }
        /* Bytes the receiver acknowledged already were delivered: capture loss. */
        uint32_t lo = next;
        if ((p->has & TCPST_EP_ACK) && tcpst_seq_gt(p->last_ack, lo)) {
            lo = tcpst_seq_lt(p->last_ack, seg->seq) ? p->last_ack : seg->seq;
            nc_fact(j->fs, j->from, NC_CAPTURE_LOST, lo - next);
        }
        if (lo != seg->seq) {
            hole_open(d, lo, seg->seq, j->ts);
        }
    }
    if ((fl & (TCPST_SYN | TCPST_ACK)) == (TCPST_SYN | TCPST_ACK)) {
        d->flags |= XD_SYNACK;
    }
    if (seqlen > 0) {
        note_latest(d, j);
    }

    /*
     * Data entirely beyond every right edge the receiver advertised (RFC 9293
     * 3.8.6).  Not after a gap: a capture that lost data of this direction has
     * likely lost the window updates that allowed it too.
     */
    if (seg->payload_len && !(fl & TCPST_SYN) && !j->probe && (pd->flags & XD_REDGE) && gap <= 0 &&
        tcpst_seq_ge(seg->seq, pd->redge_max)) {
        tcpst_finding *f = add(j, TCPST_A_OUT_OF_WINDOW_SEGMENT, j->from);
        if (f) {
            f->fact[0] += seg->payload_len;
            fact_max(f, 1, (int64_t)(uint32_t)(seg->seq - pd->redge_max));
        }
    }
}

/* RFC 7323 5.3 (PAWS): TSval never goes backwards within a connection. */
static void timestamps(judge *j)
{
    const tcpst_segment *seg = j->seg;
    tcpst_xfer_dir *d = &j->x->d[j->from];
    if (!(seg->opts.present & TCPST_HAS_TS)) {
        return;
    }
    uint32_t v = seg->opts.tsval;
    if ((d->flags & XD_TSVAL) && tcpst_seq_lt(v, d->tsval)) {
        if (j->ooo) {
            return; /* reordered in the network: an older TSval is expected */
        }
        tcpst_finding *f = add(j, TCPST_A_TIMESTAMP_REGRESSION, j->from);
        if (f) {
            fact_max(f, 0, (int64_t)(uint32_t)(d->tsval - v));
        }
        return;
    }
    d->tsval = v;
    d->flags |= XD_TSVAL;
}

/* ---- the sender as receiver of the peer's data: its ACK and window ---- */

static void ack_side(judge *j)
{
    const tcpst_endpoint *e = j->e, *p = j->p;
    const tcpst_segment *seg = j->seg;
    tcpst_xfer_dir *d = &j->x->d[j->from], *pd = &j->x->d[j->from ^ 1];
    uint32_t ack = seg->ack;
    bool eack = (e->has & TCPST_EP_ACK) != 0;

    /* The first ACK of the passive side's SYN-ACK: SYN -> SYN-ACK -> ACK spans
     * one full round trip as seen from any capture point on the path. */
    uint16_t seen = TCPST_EP_ISN, guessed = TCPST_EP_ISN_INFERRED;
    if (j->x->rtt == 0 && (e->has & seen) && !(e->has & guessed) && (p->has & seen) &&
        !(p->has & guessed) && (p->has & TCPST_EP_PASSIVE) && !(e->has & TCPST_EP_PASSIVE) &&
        ack == p->isn + 1 && p->syn_last_ts > e->syn_last_ts) {
        j->x->rtt = j->ts - e->syn_last_ts;
    }

    /* An ACK beyond everything captured from the peer (its FIN counted); the
     * handshake's final ACK is judged by handshake_invalid instead.  A peer
     * never captured sending (a one-sided capture) proves nothing. */
    if ((p->has & TCPST_EP_NEXT) && (p->has & TCPST_EP_SENT) && tcpst_seq_gt(ack, p->next_seq) &&
        p->state != TCPST_SYN_RECEIVED) {
        uint32_t base = p->next_seq;
        if (eack && tcpst_seq_gt(e->last_ack, base)) {
            base = e->last_ack; /* those bytes were reported by an earlier ACK */
        }
        tcpst_finding *f;
        if (tcpst_seq_gt(ack, base) && (f = add(j, TCPST_A_ACK_OF_UNSEEN_DATA, j->from))) {
            f->fact[0] += (int64_t)(uint32_t)(ack - base);
        }
    }
    nc_fact(j->fs, j->from ^ 1, NC_CAPTURE_LOST, holes_acked(pd, ack));

    /* What it holds beyond the cumulative ACK (RFC 2018); D-SACKs lie below. */
    if (seg->opts.present & TCPST_HAS_SACK) {
        for (unsigned i = 0; i < seg->opts.sack_count && i < TCPST_MAX_SACK_BLOCKS; i++) {
            uint32_t right = seg->opts.sack[i][1];
            if (tcpst_seq_gt(right, ack) &&
                (!(d->flags & XD_SACK) || tcpst_seq_gt(right, d->sack_hi))) {
                d->sack_hi = right;
                d->flags |= XD_SACK;
            }
        }
    }

    /*
     * RFC 5681 2: a duplicate ACK carries no data, no SYN/FIN, the same ACK
     * number and window as before, while data is outstanding.  With SACK
     * (RFC 6675 2) an ACK reporting SACK blocks counts whatever its window:
     * Linux receivers grow the window on every such ACK while auto-tuning.
     */
    if (!eack || tcpst_seq_gt(ack, e->last_ack)) {
        /* A new ACK point: a new duplicate-ACK run. */
        d->dupacks = 0;
        d->flags = (uint16_t)(d->flags & ~XD_DUP_USED);
    } else if (ack == e->last_ack && seg->payload_len == 0 && !(seg->flags & TCPST_FIN) &&
               (seg->window == e->window || (seg->opts.present & TCPST_HAS_SACK)) &&
               (p->has & TCPST_EP_NEXT) && tcpst_seq_lt(ack, p->next_seq) && !j->probe) {
        if (d->dupacks < UINT8_MAX) {
            d->dupacks++;
        }
    }
}

static void window_side(judge *j, const tcpst_xfer_config *cfg)
{
    const tcpst_endpoint *e = j->e, *p = j->p;
    const tcpst_segment *seg = j->seg;
    tcpst_xfer_dir *d = &j->x->d[j->from];
    uint32_t ack = seg->ack;

    if (seg->flags & TCPST_SYN) {
        /* RFC 7323 2.2: the window of a SYN is never scaled. */
        if (seg->flags & TCPST_ACK) {
            d->redge = d->redge_max = ack + seg->window;
            d->flags |= XD_REDGE;
        }
        return;
    }
    if (!(seg->flags & TCPST_ACK)) {
        return;
    }

    if (seg->window == 0) {
        /* After receiving a FIN or sending a RST a closed window is no stall. */
        if (!(d->flags & XD_ZW) && !(p->has & TCPST_EP_FIN) && !(e->has & TCPST_EP_RST)) {
            d->flags |= XD_ZW;
            d->zw_ts = j->ts;
            d->zw_frame = j->frame;
            d->zw_probes = 0;
            d->zw_probe[0] = d->zw_probe[1] = 0;
            add(j, TCPST_A_ZERO_WINDOW, j->from);
        }
    } else if (d->flags & XD_ZW) {
        zw_close(d, j->fs, j->from, j->ts, j->frame, false, cfg);
    }

    if (!handshake_seen(e, p)) {
        d->flags = (uint16_t)(d->flags & ~XD_REDGE); /* scale unknown: window unknown */
        return;
    }
    if (j->ooo || ((e->has & TCPST_EP_ACK) && tcpst_seq_lt(ack, e->last_ack))) {
        /* An older segment: its window is stale (RFC 9293 3.10.7.4 SND.WL1/WL2).
         * Its ACKs are reordered at the capture point, so until the ACK moves
         * on, segments with the latest ACK may be stale too. */
        d->flags |= XD_OLD_ACK;
        return;
    }
    if (!(e->has & TCPST_EP_ACK) || tcpst_seq_gt(ack, e->last_ack)) {
        d->flags = (uint16_t)(d->flags & ~XD_OLD_ACK);
    }
    unsigned shift = tcpst_endpoint_wshift(e, p);
    uint32_t redge = ack + ((uint32_t)seg->window << shift);
    if ((d->flags & XD_REDGE) && !(d->flags & XD_OLD_ACK) && tcpst_seq_lt(redge, d->redge) &&
        (uint32_t)(d->redge - redge) > (1u << shift)) {
        /* RFC 9293 3.8.6: a receiver should not shrink its window. */
        tcpst_finding *f = add(j, TCPST_A_WINDOW_SHRINK, j->from);
        if (f) {
            fact_max(f, 0, (int64_t)(uint32_t)(d->redge - redge));
        }
    }
    if (!(d->flags & XD_REDGE) || tcpst_seq_gt(redge, d->redge_max)) {
        d->redge_max = redge;
    }
    d->redge = redge;
    d->flags |= XD_REDGE;
}

tcpst_repeat tcpst_xfer_segment(tcpst_conn *c, unsigned from, const tcpst_segment *seg,
                                tcpst_time ts, uint64_t frame, const tcpst_xfer_config *cfg)
{
    tcpst_xfer *x = &c->xfer;
    tcpst_findings *fs = &c->findings;
    from &= 1;
    if (seg->flags & TCPST_RST) {
        /* A reset ends any zero-window episode; nothing else is judged on it. */
        for (unsigned i = 0; i < 2; i++) {
            if (x->d[i].flags & XD_ZW) {
                zw_close(&x->d[i], fs, i, ts, frame, false, cfg);
            }
        }
        return TCPST_RP_NONE;
    }
    if (ack_copy(&x->d[from], seg, ts)) {
        return TCPST_RP_COPY; /* judged as the original was; nothing new to learn */
    }
    judge j = {.x = x,
               .fs = fs,
               .from = from,
               .e = &c->ep[from],
               .p = &c->ep[from ^ 1],
               .seg = seg,
               .ts = ts,
               .frame = frame,
               .end = seg->seq + tcpst_seg_seqlen(seg),
               .ooo = false,
               .probe = false,
               .verdict = TCPST_RP_NONE,
               .fp = tcpst_seg_seqlen(seg) ? fingerprint(seg) : 0};
    sender_side(&j);
    timestamps(&j);
    if ((seg->flags & (TCPST_ACK | TCPST_SYN)) == TCPST_ACK) {
        ack_side(&j);
    }
    window_side(&j, cfg);
    return j.verdict;
}

void tcpst__xfer_finish(tcpst_xfer *x, tcpst_findings *fs, tcpst_time end_ts, bool at_capture_end,
                        const tcpst_xfer_config *cfg)
{
    for (unsigned i = 0; i < 2; i++) {
        if (x->d[i].flags & XD_ZW) {
            zw_close(&x->d[i], fs, i, end_ts, 0, at_capture_end, cfg);
        }
    }
}
