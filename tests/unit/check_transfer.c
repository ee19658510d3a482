/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_transfer.c - the data-transfer detectors (transfer.c), driven through
 * whole connections with hand-built segments: one test per anomaly type with
 * its facts and evidence frames, plus the negative cases (a clean bulk
 * transfer raises nothing; keep-alives, zero-window probes, reordering and
 * duplicated copies are not retransmissions).
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "ckrun.h"
#include "detect/xfer.h"
#include "pktbuild.h"
#include "tcpstate/conn.h"
#include "tcpstate/engine.h"
#include "tcpstate/transfer.h"
#include "testrec.h"

#define C2S  1
#define S2C  0
#define SEC  TCPST_NS_PER_SEC
#define MS   (SEC / 1000)
#define S(x) TCPST_##x
#define A(x) TCPST_A_##x
#define CL   TCPST_WHO_CLIENT
#define SV   TCPST_WHO_SERVER

/* Client ISN 1000, server ISN 5000: data starts at C0 and S0. */
#define C0 1001u
#define S0 5001u

static tcpst_conn conn;
static tcpst_conn_config cfg;
static uint64_t frame;
static const tcpst_time T0 = 1000 * SEC;
static bool use_ts; /* add a TCP timestamp option (TSval = milliseconds) */

static void reset(void)
{
    memset(&conn, 0, sizeof conn);
    memset(&cfg, 0, sizeof cfg);
    cfg.time_wait = 60 * SEC;
    cfg.xfer.zero_window_stall = 10 * SEC;
    frame = 0;
    use_ts = false;
}

static tcpst_segment mk(int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                        uint16_t win)
{
    tcpst_segment s = pb_segment(c2s, flags, seq, ack, len);
    s.window = win;
    return s;
}

/* Feed `s` at `ms` milliseconds after T0; returns its frame number. */
static uint64_t send_at(double ms, tcpst_segment s)
{
    if (++frame == 1) {
        test_conn_init(&conn, 1, &s);
    }
    tcpst_engine_conn_segment(&conn, &s, T0 + (tcpst_time)(ms * 1e6), frame, &cfg);
    return frame;
}

static uint64_t tx(double ms, int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                   uint16_t win)
{
    tcpst_segment s = mk(c2s, flags, seq, ack, len, win);
    if (use_ts) {
        s.opts.present |= TCPST_HAS_TS;
        s.opts.tsval = (uint32_t)ms + (c2s ? 100000u : 700000u);
    }
    return send_at(ms, s);
}

/* Three-way handshake: SYN at 0, SYN-ACK at rtt/2, final ACK at rtt (ms).
 * Window scale shifts: -1 = option absent. */
static void open_conn(int wsc, int wss, double rtt, uint16_t cwin)
{
    tcpst_segment s = mk(C2S, S(SYN), C0 - 1, 0, 0, 65535);
    s.opts.present = TCPST_HAS_MSS | TCPST_HAS_SACK_PERM | (use_ts ? TCPST_HAS_TS : 0);
    s.opts.mss = 1460;
    s.opts.tsval = 100000;
    if (wsc >= 0) {
        s.opts.present |= TCPST_HAS_WSCALE;
        s.opts.wscale = (uint8_t)wsc;
    }
    send_at(0, s);
    s = mk(S2C, S(SYN) | S(ACK), S0 - 1, C0, 0, 65535);
    s.opts.present = TCPST_HAS_MSS | TCPST_HAS_SACK_PERM | (use_ts ? TCPST_HAS_TS : 0);
    s.opts.mss = 1460;
    s.opts.tsval = 700000;
    if (wss >= 0) {
        s.opts.present |= TCPST_HAS_WSCALE;
        s.opts.wscale = (uint8_t)wss;
    }
    send_at(rtt / 2, s);
    tx(rtt, C2S, S(ACK), C0, S0, 0, cwin);
}

static const tcpst_finding *get(tcpst_anomaly_type t, tcpst_who who)
{
    return tcpst_findings_get(&conn.findings, t, who);
}

static const tcpst_anomaly_type xfer_types[] = {
    A(RETRANSMISSION),       A(OUT_OF_ORDER), A(SEGMENT_NOT_CAPTURED),
    A(ACK_OF_UNSEEN_DATA),   A(ZERO_WINDOW),  A(ZERO_WINDOW_STALL),
    A(WINDOW_SHRINK),        A(KEEPALIVE),    A(OUT_OF_WINDOW_SEGMENT),
    A(TIMESTAMP_REGRESSION),
};

static void expect_no_transfer_findings(void)
{
    for (unsigned i = 0; i < conn.findings.n; i++) {
        const tcpst_finding *f = &conn.findings.f[i];
        for (unsigned k = 0; k < sizeof xfer_types / sizeof xfer_types[0]; k++) {
            ck_assert_msg(f->type != xfer_types[k], "unexpected %s (who %d, first frame %llu)",
                          tcpst_anomaly_id((tcpst_anomaly_type)f->type), f->who,
                          (unsigned long long)f->first_frame);
        }
    }
}

static void expect_evidence(const tcpst_finding *f, const uint64_t *frames, unsigned n)
{
    ck_assert_uint_eq(f->nevidence, n);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_msg(f->evidence[i] == frames[i], "evidence[%u] = %llu, want %llu", i,
                      (unsigned long long)f->evidence[i], (unsigned long long)frames[i]);
    }
}

/* ---- negative: nothing to report ---- */

START_TEST(struct_stays_small)
{
    ck_assert_uint_le(sizeof(tcpst_xfer_dir), 112);
}
END_TEST

START_TEST(clean_bulk_transfer_raises_nothing)
{
    reset();
    use_ts = true;
    open_conn(7, 7, 20, 512);
    ck_assert_int_eq(conn.xfer.rtt, 20 * MS);
    tx(21, C2S, S(ACK) | S(PSH), C0, S0, 100, 512);
    tx(30, S2C, S(ACK), S0, C0 + 100, 0, 512);
    uint16_t win = 512;
    for (unsigned i = 0; i < 20; i++) {
        tx(31 + i * 0.1, S2C, S(ACK), S0 + i * 1000, C0 + 100, 1000, 512);
        if (i % 2 == 1) {
            /* Delayed ACK every second segment; the window closes slower than
             * the ACK advances, so the right edge still moves right. */
            win = (uint16_t)(win - 5);
            tx(41 + i * 0.1, C2S, S(ACK), C0 + 100, S0 + (i + 1) * 1000, 0, win);
        }
    }
    /* A window update: same ACK, bigger window, no data - not a duplicate ACK. */
    tx(60, C2S, S(ACK), C0 + 100, S0 + 20000, 0, 600);
    tx(70, S2C, S(FIN) | S(ACK), S0 + 20000, C0 + 100, 0, 512);
    tx(71, C2S, S(ACK), C0 + 100, S0 + 20001, 0, 600);
    tx(72, C2S, S(FIN) | S(ACK), C0 + 100, S0 + 20001, 0, 600);
    tx(80, S2C, S(ACK), S0 + 20001, C0 + 101, 0, 512);
    ck_assert_int_eq(conn.ep[0].state, S(CLOSED));
    ck_assert_int_eq(conn.ep[1].state, S(TIME_WAIT));
    expect_no_transfer_findings();
    tcpst__xfer_finish(&conn.xfer, &conn.findings, T0 + 100 * SEC, true, &cfg.xfer);
    expect_no_transfer_findings();
}
END_TEST

START_TEST(keepalives_are_not_retransmissions)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    tx(20, C2S, S(ACK) | S(PSH), C0, S0, 10, 65535);
    tx(21, S2C, S(ACK), S0, C0 + 10, 0, 65535);
    /* Linux: zero bytes at SND.NXT-1; Windows: one (already acked) byte there. */
    uint64_t k1 = tx(7200000, C2S, S(ACK), C0 + 9, S0, 0, 65535);
    tx(7200001, S2C, S(ACK), S0, C0 + 10, 0, 65535);
    uint64_t k2 = tx(7275000, C2S, S(ACK), C0 + 9, S0, 1, 65535);
    tx(7275001, S2C, S(ACK), S0, C0 + 10, 0, 65535);
    const tcpst_finding *f = get(A(KEEPALIVE), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 2);
    const uint64_t ev[] = {k1, k2};
    expect_evidence(f, ev, 2);
    ck_assert_ptr_null(get(A(RETRANSMISSION), CL));
    ck_assert_uint_eq(tcpst_anomaly_severity(A(KEEPALIVE)), TCPST_SEV_INFO);

    /* One unacknowledged byte sent again is a retransmission, not a keep-alive. */
    tx(7300000, C2S, S(ACK) | S(PSH), C0 + 10, S0, 1, 65535);
    uint64_t r = tx(7300300, C2S, S(ACK) | S(PSH), C0 + 10, S0, 1, 65535);
    f = get(A(RETRANSMISSION), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->evidence[0], r);
    ck_assert_int_eq(f->fact[0], 1); /* timeout */
    ck_assert_int_eq(f->fact[3], 1);
    ck_assert_uint_eq(get(A(KEEPALIVE), CL)->count, 2);
}
END_TEST

START_TEST(duplicated_copies_are_not_retransmissions)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    tx(20, S2C, S(ACK), S0, C0, 1000, 65535);
    tx(20.001, S2C, S(ACK), S0, C0, 1000, 65535); /* the same frame captured twice */
    tx(20.002, S2C, S(ACK), S0, C0, 1000, 65535);
    ck_assert_ptr_null(get(A(RETRANSMISSION), SV));
    uint64_t r = tx(400, S2C, S(ACK), S0, C0, 1000, 65535); /* the RTO fired */
    const tcpst_finding *f = get(A(RETRANSMISSION), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->first_frame, r);
    ck_assert_int_eq(f->fact[0], 1);
}
END_TEST

/* A BSD stack sets FIN again on the ACK of the peer's FIN while its own FIN is
 * unacknowledged: the new ACK proves the stack sent it again, so it is a
 * retransmission (spurious or not), as is the same FIN the timer sends later. */
START_TEST(fin_with_a_new_ack_is_a_retransmission)
{
    reset();
    open_conn(-1, -1, 1, 65535);
    tx(20, C2S, S(FIN) | S(ACK), C0, S0, 0, 65535);
    tx(30, S2C, S(FIN) | S(ACK), S0, C0, 0, 65535); /* crossed: does not ack the FIN */
    uint64_t r1 = tx(30.5, C2S, S(FIN) | S(ACK), C0, S0 + 1, 0, 65535);
    const tcpst_finding *f = get(A(RETRANSMISSION), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->first_frame, r1);
    uint64_t r2 = tx(400, C2S, S(FIN) | S(ACK), C0, S0 + 1, 0, 65535);
    ck_assert_uint_eq(f->count, 2);
    ck_assert_uint_eq(f->last_frame, r2);
    ck_assert_uint_eq(conn.ep[0].retrans_segments, 2);
    ck_assert_uint_eq(conn.ep[0].fin_retrans, 2);
    ck_assert_uint_eq(conn.ep[0].duplicates, 0);
}
END_TEST

/* Feed the server's data segment [S0, S0+1000) with these header fields. */
static uint64_t data_with(double ms, uint16_t ip_id, uint32_t tsval, uint32_t ack)
{
    tcpst_segment s = mk(S2C, S(ACK), S0, ack, 1000, 65535);
    s.ip_id = ip_id;
    if (tsval) {
        s.opts.present |= TCPST_HAS_TS;
        s.opts.tsval = tsval;
    }
    return send_at(ms, s);
}

/* Only byte-identical headers within TCPST_XFER_COPY_WINDOW are copies; a new IPv4 ID,
 * a newer TSval or another ACK prove that the sender sent the segment again. */
START_TEST(header_evidence_tells_resends_from_copies)
{
    static const struct {
        uint16_t ip_id;
        uint32_t tsval;
        uint32_t ack;
        bool copy;
    } cases[] = {
        {0x1234, 0, C0, true},      /* the same bytes: a copy */
        {0x1235, 0, C0, false},     /* the next IP ID */
        {0x1234, 0, C0 + 1, false}, /* another ACK */
        {0, 0, C0, true},           /* IP ID 0 both times (IPv6, or a stack's choice) */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset();
        open_conn(-1, -1, 10, 65535);
        data_with(20, cases[i].ip_id ? 0x1234 : 0, 0, C0);
        data_with(20.5, cases[i].ip_id, cases[i].tsval, cases[i].ack);
        const tcpst_finding *f = get(A(RETRANSMISSION), SV);
        ck_assert_msg((f == NULL) == cases[i].copy, "case %u", i);
        ck_assert_uint_eq(conn.ep[1].duplicates, cases[i].copy ? 1 : 0);
        ck_assert_uint_eq(conn.ep[1].retrans_segments, cases[i].copy ? 0 : 1);
        ck_assert_uint_eq(conn.ep[1].retrans_bytes, cases[i].copy ? 0 : 1000);
    }
    /* A newer TSval, same IP ID. */
    reset();
    open_conn(-1, -1, 10, 65535);
    data_with(20, 7, 700020, C0);
    data_with(20.5, 7, 700020, C0);
    ck_assert_uint_eq(conn.ep[1].duplicates, 1);
    data_with(21, 7, 700021, C0);
    ck_assert_ptr_nonnull(get(A(RETRANSMISSION), SV));
    ck_assert_uint_eq(conn.ep[1].retrans_segments, 1);
}
END_TEST

/* Copies of a pure ACK are no duplicate ACKs (they would fake a fast retransmit), but
 * byte-identical ACKs from a stack that puts no ID in them are, unless they share the
 * capture instant. */
START_TEST(ack_copies_are_not_duplicate_acks)
{
    for (int copies = 0; copies < 2; copies++) {
        reset();
        open_conn(-1, -1, 10, 65535);
        for (uint32_t k = 0; k < 4; k++) {
            tx(20 + 0.1 * k, S2C, S(ACK), S0 + 1000 * k, C0, 1000, 65535);
        }
        for (int k = 0; k < 4; k++) { /* the segment at S0 never arrived */
            tcpst_segment a = mk(C2S, S(ACK), C0, S0, 0, 65535);
            a.ip_id = copies ? 0x50 : 0;
            send_at(copies ? 21 : 21 + 0.1 * k, a);
        }
        tx(21.5, S2C, S(ACK), S0, C0, 1000, 65535);
        const tcpst_finding *f = get(A(RETRANSMISSION), SV);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(f->fact[1], copies ? 0 : 1); /* fast */
        ck_assert_int_eq(f->fact[0], copies ? 1 : 0); /* timeout */
        ck_assert_uint_eq(conn.ep[0].duplicates, copies ? 3 : 0);
    }
}
END_TEST

/* The copy window is fixed: a long handshake round trip does not turn a resend into a
 * copy, and a copy is not recognised later than the window, however long the RTT. */
START_TEST(copy_window_does_not_follow_the_rtt)
{
    for (int slow = 0; slow < 2; slow++) {
        reset();
        open_conn(-1, -1, slow ? 150 : 4, 65535);
        data_with(200, 0x10, 0, C0);
        data_with(220, 0x11, 0, C0); /* resent 20 ms later */
        const tcpst_finding *f = get(A(RETRANSMISSION), SV);
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(f->count, 1);
        data_with(240, 0x11, 0, C0); /* identical, but 20 ms later */
        ck_assert_uint_eq(f->count, 2);
        data_with(240 + (double)TCPST_XFER_COPY_WINDOW / MS, 0x11, 0, C0); /* at the edge */
        ck_assert_uint_eq(f->count, 2);
        ck_assert_uint_eq(conn.ep[1].duplicates, 1);
        ck_assert_uint_eq(conn.ep[1].retrans_segments, 2);
    }
}
END_TEST

/* The endpoint's counters count what the findings count: zero-length keep-alives too,
 * and neither zero-window probes, out-of-order originals nor copies as retransmissions. */
START_TEST(counters_agree_with_findings)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    tx(20, C2S, S(ACK) | S(PSH), C0, S0, 10, 65535);
    tx(21, S2C, S(ACK), S0, C0 + 10, 0, 65535);
    tx(45000, C2S, S(ACK), C0 + 9, S0, 0, 65535); /* Linux keep-alives, 45 s apart */
    tx(45001, S2C, S(ACK), S0, C0 + 10, 0, 65535);
    tx(90000, C2S, S(ACK), C0 + 9, S0, 0, 65535);
    tx(90001, S2C, S(ACK), S0, C0 + 10, 0, 65535);
    ck_assert_uint_eq(get(A(KEEPALIVE), CL)->count, 2);
    ck_assert_uint_eq(conn.ep[0].keepalives, 2);
    ck_assert_uint_eq(conn.ep[0].retrans_segments, 0);

    /* The server's window closes; the client's Linux probes are no keep-alives. */
    tx(91000, S2C, S(ACK), S0, C0 + 10, 0, 0);
    tx(91200, C2S, S(ACK), C0 + 9, S0, 0, 65535);
    tx(91600, C2S, S(ACK), C0 + 9, S0, 0, 65535);
    ck_assert_uint_eq(conn.ep[0].keepalives, 2);
    ck_assert_uint_eq(get(A(KEEPALIVE), CL)->count, 2);
    tx(92000, S2C, S(ACK), S0, C0 + 10, 0, 65535);

    /* Out of order: the second half first, then the original of the hole. */
    tx(92100, S2C, S(ACK), S0 + 500, C0 + 10, 500, 65535);
    tx(92100.2, S2C, S(ACK), S0, C0 + 10, 500, 65535);
    ck_assert_ptr_nonnull(get(A(OUT_OF_ORDER), SV));
    ck_assert_ptr_null(get(A(RETRANSMISSION), SV));
    ck_assert_uint_eq(conn.ep[1].retrans_segments, 0);
    ck_assert_uint_eq(conn.ep[1].duplicates, 0);
}
END_TEST

/* ---- retransmission subtypes ---- */

START_TEST(retransmission_fast_timeout_spurious)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    for (unsigned i = 0; i < 5; i++) {
        tx(20 + i * 0.1, S2C, S(ACK), S0 + i * 1000, C0, 1000, 65535);
    }
    tx(30, C2S, S(ACK), C0, S0 + 1000, 0, 65535);
    /* Segment 2 was lost after the capture point: three duplicate ACKs. */
    tx(30.2, C2S, S(ACK), C0, S0 + 1000, 0, 65535);
    tx(30.3, C2S, S(ACK), C0, S0 + 1000, 0, 65535);
    tx(30.4, C2S, S(ACK), C0, S0 + 1000, 0, 65535);
    uint64_t fast1 = tx(40, S2C, S(ACK), S0 + 1000, C0, 1000, 65535);
    /* Partial ACK (RFC 6582): segment 4 is missing too, repaired at once. */
    tx(50, C2S, S(ACK), C0, S0 + 3000, 0, 65535);
    uint64_t fast2 = tx(50.1, S2C, S(ACK), S0 + 3000, C0, 1000, 65535);
    /* The same head again with no ACK in between: the timer fired. */
    uint64_t rto = tx(300, S2C, S(ACK), S0 + 3000, C0, 1000, 65535);
    tx(310, C2S, S(ACK), C0, S0 + 5000, 0, 65535);
    /* Segment 5 was acknowledged already: spurious. */
    uint64_t spur = tx(320, S2C, S(ACK), S0 + 4000, C0, 1000, 65535);

    const tcpst_finding *f = get(A(RETRANSMISSION), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 4);
    ck_assert_int_eq(f->fact[0], 1); /* timeout */
    ck_assert_int_eq(f->fact[1], 2); /* fast */
    ck_assert_int_eq(f->fact[2], 1); /* spurious */
    ck_assert_int_eq(f->fact[3], 4000);
    const uint64_t ev[] = {fast1, fast2, rto, spur};
    expect_evidence(f, ev, 4);
    ck_assert_ptr_null(get(A(RETRANSMISSION), CL));
    ck_assert_ptr_null(get(A(OUT_OF_ORDER), SV));
    const char *names[] = {"timeout", "fast", "spurious", "bytes"};
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_str_eq(tcpst_anomaly_facts(A(RETRANSMISSION))[i].name, names[i]);
    }
}
END_TEST

/* A full ACK (RFC 6582) ends recovery: a later repair is the timer's again. */
START_TEST(recovery_ends_with_full_ack)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    for (unsigned i = 0; i < 4; i++) {
        tx(20 + i * 0.1, S2C, S(ACK), S0 + i * 1000, C0, 1000, 65535);
    }
    for (unsigned i = 0; i < 4; i++) {
        tx(30 + i * 0.1, C2S, S(ACK), C0, S0, 0, 65535); /* an ACK, then 3 duplicates */
    }
    tx(40, S2C, S(ACK), S0, C0, 1000, 65535);
    tx(50, C2S, S(ACK), C0, S0 + 4000, 0, 65535); /* everything up to the recovery point */
    tx(60, S2C, S(ACK), S0 + 4000, C0, 1000, 65535);
    tx(70, C2S, S(ACK), C0, S0 + 4000, 0, 65535);
    /* 30 ms after an ACK, but no recovery and no SACK: a timer (e.g. a tail
     * loss probe) sent it. */
    uint64_t r = tx(100, S2C, S(ACK), S0 + 4000, C0, 1000, 65535);
    const tcpst_finding *f = get(A(RETRANSMISSION), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 2);
    ck_assert_int_eq(f->fact[1], 1);
    ck_assert_int_eq(f->fact[0], 1);
    ck_assert_uint_eq(f->last_frame, r);
}
END_TEST

START_TEST(handshake_repeats)
{
    /* A simultaneous open's SYN-ACK repeats the sender's SYN by design. */
    reset();
    send_at(0, mk(C2S, S(SYN), C0 - 1, 0, 0, 65535));
    send_at(1, mk(S2C, S(SYN), S0 - 1, 0, 0, 65535));
    send_at(2, mk(S2C, S(SYN) | S(ACK), S0 - 1, C0, 0, 65535));
    send_at(3, mk(C2S, S(SYN) | S(ACK), C0 - 1, S0, 0, 65535));
    ck_assert_ptr_null(get(A(RETRANSMISSION), CL));
    ck_assert_ptr_null(get(A(RETRANSMISSION), SV));
    /* A passive side's repeated SYN-ACK is a timer retransmission. */
    reset();
    send_at(0, mk(C2S, S(SYN), C0 - 1, 0, 0, 65535));
    send_at(1, mk(S2C, S(SYN) | S(ACK), S0 - 1, C0, 0, 65535));
    uint64_t r = send_at(1001, mk(S2C, S(SYN) | S(ACK), S0 - 1, C0, 0, 65535));
    const tcpst_finding *f = get(A(RETRANSMISSION), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->first_frame, r);
    ck_assert_int_eq(f->fact[0], 1);
}
END_TEST

/*
 * Two duplicate ACKs: below DupThresh (RFC 5681 3.2), unless their SACK blocks
 * show (DupThresh - 1) * SMSS bytes received above the segment (RFC 6675 4).
 */
static const tcpst_finding *two_dupacks_then_retransmit(bool sack, unsigned above)
{
    reset();
    open_conn(-1, -1, 10, 65535); /* SMSS 1460 from the MSS option */
    for (unsigned i = 0; i < 4; i++) {
        tx(20 + i * 0.1, S2C, S(ACK), S0 + i * 1460, C0, 1460, 65535);
    }
    tx(30, C2S, S(ACK), C0, S0 + 1460, 0, 65535);
    for (unsigned i = 0; i < 2; i++) {
        tcpst_segment d = mk(C2S, S(ACK), C0, S0 + 1460, 0, 65535);
        if (sack) {
            d.opts.present = TCPST_HAS_SACK;
            d.opts.sack_count = 1;
            d.opts.sack[0][0] = S0 + 2 * 1460;
            d.opts.sack[0][1] = S0 + (2 + i + above) * 1460;
        }
        send_at(30.1 + i * 0.1, d);
    }
    tx(35, S2C, S(ACK), S0 + 1460, C0, 1460, 65535);
    return get(A(RETRANSMISSION), SV);
}

START_TEST(two_dupacks_fast_only_with_sack)
{
    const tcpst_finding *f = two_dupacks_then_retransmit(true, 1);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 1);
    /* Only one segment SACKed above it: not yet lost by RFC 6675. */
    f = two_dupacks_then_retransmit(true, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 0);
    f = two_dupacks_then_retransmit(false, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 0);
    ck_assert_int_eq(f->fact[0], 1);
}
END_TEST

/* Linux grows its window on every SACK-bearing duplicate ACK: still duplicates
 * (RFC 6675 2), and three of them make a fast retransmit at any delay. */
START_TEST(sack_dupacks_with_growing_window)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    for (unsigned i = 0; i < 5; i++) {
        tx(20 + i * 0.1, S2C, S(ACK), S0 + i * 100, C0, 100, 65535);
    }
    tx(30, C2S, S(ACK), C0, S0 + 100, 0, 30000);
    for (unsigned i = 0; i < 3; i++) {
        tcpst_segment d = mk(C2S, S(ACK), C0, S0 + 100, 0, (uint16_t)(30001 + i));
        d.opts.present = TCPST_HAS_SACK;
        d.opts.sack_count = 1;
        d.opts.sack[0][0] = S0 + 200;
        d.opts.sack[0][1] = S0 + 300 + i * 100;
        send_at(30.1 + i * 0.1, d);
    }
    tx(300, S2C, S(ACK), S0 + 100, C0, 100, 65535); /* long after: not ACK-clocked */
    const tcpst_finding *f = get(A(RETRANSMISSION), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 1);
}
END_TEST

/* A window update with the same ACK number is no duplicate ACK (RFC 5681 2). */
START_TEST(window_updates_are_not_dupacks)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    for (unsigned i = 0; i < 3; i++) {
        tx(20 + i * 0.1, S2C, S(ACK), S0 + i * 1000, C0, 1000, 65535);
    }
    tx(30, C2S, S(ACK), C0, S0 + 1000, 0, 30000);
    tx(30.1, C2S, S(ACK), C0, S0 + 1000, 0, 40000);
    tx(30.2, C2S, S(ACK), C0, S0 + 1000, 0, 50000);
    tx(30.3, C2S, S(ACK), C0, S0 + 1000, 0, 60000);
    tx(31, S2C, S(ACK), S0 + 1000, C0, 1000, 65535);
    const tcpst_finding *f = get(A(RETRANSMISSION), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 0);
}
END_TEST

/* ---- reordering and capture gaps ---- */

START_TEST(out_of_order_versus_retransmission)
{
    reset();
    open_conn(-1, -1, 50, 65535); /* handshake RTT 50 ms: the reordering window */
    ck_assert_int_eq(conn.xfer.rtt, 50 * MS);
    tx(100, S2C, S(ACK), S0, C0, 1000, 65535);
    uint64_t g1 = tx(100.5, S2C, S(ACK), S0 + 2000, C0, 1000, 65535);
    uint64_t o1 = tx(130, S2C, S(ACK), S0 + 1000, C0, 1000, 65535); /* 29.5 ms later */
    uint64_t g2 = tx(200, S2C, S(ACK), S0 + 4000, C0, 1000, 65535);
    uint64_t r = tx(300, S2C, S(ACK), S0 + 3000, C0, 1000, 65535); /* 100 ms: a repair */

    const tcpst_finding *f = get(A(OUT_OF_ORDER), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->evidence[0], o1);
    ck_assert_int_eq(f->fact[0], 1000);
    f = get(A(RETRANSMISSION), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->evidence[0], r);
    ck_assert_int_eq(f->fact[0], 1);
    /* Both gaps were filled by captured data: lost before the capture point. */
    f = get(A(SEGMENT_NOT_CAPTURED), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 2);
    const uint64_t ev[] = {g1, g2};
    expect_evidence(f, ev, 2);
    ck_assert_int_eq(f->fact[0], 2000);
    ck_assert_int_eq(f->fact[1], 0);
    ck_assert_int_eq(f->fact[2], 2000);
}
END_TEST

START_TEST(reordered_syn_is_out_of_order)
{
    reset();
    /* The SYN-ACK reaches the capture point before the SYN it answers. */
    send_at(0, mk(S2C, S(SYN) | S(ACK), S0 - 1, C0, 0, 65535));
    send_at(0.3, mk(C2S, S(SYN), C0 - 1, 0, 0, 65535));
    tx(1, C2S, S(ACK), C0, S0, 0, 65535);
    ck_assert_ptr_null(get(A(RETRANSMISSION), CL));
    const tcpst_finding *f = get(A(OUT_OF_ORDER), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->first_frame, 2);
}
END_TEST

START_TEST(capture_loss_and_acks_of_unseen_data)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    tx(100, S2C, S(ACK), S0, C0, 1000, 65535);
    uint64_t g1 = tx(101, S2C, S(ACK), S0 + 2000, C0, 1000, 65535);
    tx(110, C2S, S(ACK), C0, S0 + 3000, 0, 65535); /* the gap reached the client */
    const tcpst_finding *f = get(A(SEGMENT_NOT_CAPTURED), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 1000);
    ck_assert_int_eq(f->fact[1], 1000);

    /* Segment 4 never captured; the client's ACK covers it. */
    uint64_t a = tx(130, C2S, S(ACK), C0, S0 + 4000, 0, 65535);
    tx(131, C2S, S(ACK), C0, S0 + 4000, 0, 65535); /* same ACK: nothing new */
    f = get(A(ACK_OF_UNSEEN_DATA), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->evidence[0], a);
    ck_assert_int_eq(f->fact[0], 1000);
    /* The next segment shows the gap, which the client had acknowledged already. */
    uint64_t g2 = tx(140, S2C, S(ACK), S0 + 4000, C0, 1000, 65535);
    /* The server's FIN counts one: acknowledging it is not unseen data. */
    tx(150, S2C, S(FIN) | S(ACK), S0 + 5000, C0, 0, 65535);
    tx(151, C2S, S(ACK), C0, S0 + 5001, 0, 65535);
    f = get(A(SEGMENT_NOT_CAPTURED), SV);
    ck_assert_uint_eq(f->count, 2);
    const uint64_t ev[] = {g1, g2};
    expect_evidence(f, ev, 2);
    ck_assert_int_eq(f->fact[0], 2000);
    ck_assert_int_eq(f->fact[1], 2000);
    ck_assert_int_eq(f->fact[2], 0);
    ck_assert_uint_eq(get(A(ACK_OF_UNSEEN_DATA), CL)->count, 1);
    ck_assert_ptr_null(get(A(RETRANSMISSION), SV));
    ck_assert_ptr_null(get(A(OUT_OF_ORDER), SV));
    /* One-sided capture: nothing of the server was ever captured, so its data
     * being unseen proves nothing. */
    reset();
    send_at(0, mk(C2S, S(SYN), C0 - 1, 0, 0, 65535));
    tx(10, C2S, S(ACK), C0, S0, 0, 65535); /* answers a SYN-ACK never captured */
    tx(20, C2S, S(ACK), C0, S0 + 500, 0, 65535);
    ck_assert_ptr_null(get(A(ACK_OF_UNSEEN_DATA), CL));
    /* An ACK beyond the uncaptured FIN: one byte of unseen data. */
    reset();
    open_conn(-1, -1, 10, 65535);
    tx(100, S2C, S(ACK), S0, C0, 10, 65535);
    tx(110, C2S, S(ACK), C0, S0 + 11, 0, 65535);
    f = get(A(ACK_OF_UNSEEN_DATA), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 1);
}
END_TEST

/* ---- zero windows ---- */

/* Client closes its window at 21 ms; returns the frame that closed it. */
static uint64_t zero_window_setup(void)
{
    reset();
    /* The server fills the window; the right edge stays put (no shrinking). */
    open_conn(-1, -1, 10, 1000);
    tx(20, S2C, S(ACK), S0, C0, 1000, 65535);
    return tx(21, C2S, S(ACK), C0, S0 + 1000, 0, 0);
}

START_TEST(zero_window_stall_with_linux_probes)
{
    uint64_t closed = zero_window_setup();
    uint64_t p[3];
    const double at[3] = {221, 621, 1421};
    for (unsigned i = 0; i < 3; i++) {
        /* Linux: zero bytes at SND.NXT-1 - a probe, not a keep-alive. */
        p[i] = tx(at[i], S2C, S(ACK), S0 + 999, C0, 0, 65535);
        tx(at[i] + 0.1, C2S, S(ACK), C0, S0 + 1000, 0, 0);
    }
    uint64_t reopened = tx(40021, C2S, S(ACK), C0, S0 + 1000, 0, 65535);

    const tcpst_finding *f = get(A(ZERO_WINDOW), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->evidence[0], closed);
    ck_assert_int_eq(f->fact[0], 40 * SEC);
    ck_assert_int_eq(f->fact[1], 3);
    f = get(A(ZERO_WINDOW_STALL), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_int_eq(f->fact[0], 40 * SEC);
    ck_assert_int_eq(f->fact[1], 3);
    ck_assert_int_eq(f->first_ts, T0 + 21 * MS);
    ck_assert_int_eq(f->last_ts, T0 + 40021 * MS);
    ck_assert_uint_eq(f->last_frame, reopened);
    ck_assert(!f->still_at_end);
    const uint64_t ev[] = {closed, p[0], p[2], reopened};
    expect_evidence(f, ev, 4);
    ck_assert_ptr_null(get(A(KEEPALIVE), SV));
    ck_assert_ptr_null(get(A(RETRANSMISSION), SV));
    ck_assert_ptr_null(get(A(ZERO_WINDOW), SV));
    ck_assert_ptr_null(get(A(WINDOW_SHRINK), CL));
    ck_assert_uint_eq(tcpst_anomaly_severity(A(ZERO_WINDOW_STALL)), TCPST_SEV_ERROR);
}
END_TEST

START_TEST(zero_window_classic_probes_short_episode)
{
    zero_window_setup();
    /* One new byte at SND.NXT, then that byte again (now SND.NXT-1). */
    tx(221, S2C, S(ACK), S0 + 1000, C0, 1, 65535);
    tx(221.1, C2S, S(ACK), C0, S0 + 1000, 0, 0);
    tx(621, S2C, S(ACK), S0 + 1000, C0, 1, 65535);
    tx(621.1, C2S, S(ACK), C0, S0 + 1000, 0, 0);
    tx(1421, S2C, S(ACK), S0 + 1000, C0, 1, 65535);
    tx(1421.1, C2S, S(ACK), C0, S0 + 1000, 0, 0);
    tx(5021, C2S, S(ACK), C0, S0 + 1000, 0, 1000); /* 5 s: below the stall threshold */
    tx(5022, S2C, S(ACK), S0 + 1000, C0, 1000, 65535);
    const tcpst_finding *f = get(A(ZERO_WINDOW), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 3);
    ck_assert_int_eq(f->fact[0], 5 * SEC);
    ck_assert_ptr_null(get(A(ZERO_WINDOW_STALL), CL));
    ck_assert_ptr_null(get(A(RETRANSMISSION), SV));
    ck_assert_ptr_null(get(A(KEEPALIVE), SV));
    ck_assert_ptr_null(get(A(OUT_OF_WINDOW_SEGMENT), SV));
    ck_assert_ptr_null(get(A(WINDOW_SHRINK), CL));
    /* A second episode counts again. */
    tx(6000, C2S, S(ACK), C0, S0 + 2000, 0, 0);
    tx(7000, C2S, S(ACK), C0, S0 + 2000, 0, 100);
    f = get(A(ZERO_WINDOW), CL);
    ck_assert_uint_eq(f->count, 2);
    ck_assert_int_eq(f->fact[0], 6 * SEC);
    ck_assert_ptr_null(get(A(WINDOW_SHRINK), CL));
}
END_TEST

START_TEST(zero_window_still_open_at_end)
{
    uint64_t closed = zero_window_setup();
    uint64_t p1 = tx(221, S2C, S(ACK), S0 + 999, C0, 0, 65535);
    uint64_t p2 = tx(621, S2C, S(ACK), S0 + 999, C0, 0, 65535);
    tcpst__xfer_finish(&conn.xfer, &conn.findings, T0 + 60 * SEC, true, &cfg.xfer);
    const tcpst_finding *f = get(A(ZERO_WINDOW_STALL), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert(f->still_at_end);
    ck_assert_int_eq(f->fact[0], 60 * SEC - 21 * MS);
    ck_assert_int_eq(f->fact[1], 2);
    ck_assert_int_eq(f->last_ts, T0 + 60 * SEC);
    const uint64_t ev[] = {closed, p1, p2};
    expect_evidence(f, ev, 3);
    ck_assert(tcpst_anomaly_has_duration(A(ZERO_WINDOW_STALL)));
    /* Finishing twice adds nothing. */
    tcpst__xfer_finish(&conn.xfer, &conn.findings, T0 + 90 * SEC, true, &cfg.xfer);
    ck_assert_uint_eq(get(A(ZERO_WINDOW_STALL), CL)->count, 1);
    ck_assert_int_eq(get(A(ZERO_WINDOW), CL)->fact[0], 60 * SEC - 21 * MS);
}
END_TEST

START_TEST(zero_window_ended_by_reset_and_default_threshold)
{
    zero_window_setup();
    uint64_t rst = tx(20021, S2C, S(RST) | S(ACK), S0 + 1000, C0, 0, 0);
    const tcpst_finding *f = get(A(ZERO_WINDOW_STALL), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert(!f->still_at_end);
    ck_assert_uint_eq(f->last_frame, rst);
    ck_assert_int_eq(f->fact[0], 20 * SEC);
    /* zero_window_stall = 0 means 30 s: a 20 s episode is no stall. */
    zero_window_setup();
    cfg.xfer.zero_window_stall = 0;
    tx(20021, C2S, S(ACK), C0, S0 + 1000, 0, 1000);
    ck_assert_ptr_nonnull(get(A(ZERO_WINDOW), CL));
    ck_assert_ptr_null(get(A(ZERO_WINDOW_STALL), CL));
    zero_window_setup();
    cfg.xfer.zero_window_stall = 0;
    tx(31021, C2S, S(ACK), C0, S0 + 1000, 0, 1000);
    ck_assert_ptr_nonnull(get(A(ZERO_WINDOW_STALL), CL));
}
END_TEST

START_TEST(zero_window_after_fin_is_ignored)
{
    reset();
    open_conn(-1, -1, 10, 65535);
    tx(20, S2C, S(ACK) | S(FIN), S0, C0, 0, 65535);
    tx(21, C2S, S(ACK), C0, S0 + 1, 0, 0);
    /* SYN segments and RSTs with window 0 are no zero-window advertisements. */
    tx(22, C2S, S(RST) | S(ACK), C0, S0 + 1, 0, 0);
    ck_assert_ptr_null(get(A(ZERO_WINDOW), CL));
    ck_assert_ptr_null(get(A(ZERO_WINDOW), SV));
}
END_TEST

/* ---- windows ---- */

START_TEST(window_shrink_beyond_one_scale_unit)
{
    reset();
    open_conn(7, 7, 10, 512);                          /* right edge S0 + 512*128 */
    uint64_t s1 = tx(20, C2S, S(ACK), C0, S0, 0, 510); /* 256 bytes to the left */
    tx(21, C2S, S(ACK), C0, S0, 0, 509);               /* one unit: rounding, allowed */
    tx(22, S2C, S(ACK), S0, C0, 1000, 512);
    tx(23, C2S, S(ACK), C0, S0 + 1000, 0, 517); /* moved right */
    const tcpst_finding *f = get(A(WINDOW_SHRINK), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->evidence[0], s1);
    ck_assert_int_eq(f->fact[0], 256);
    ck_assert_ptr_null(get(A(WINDOW_SHRINK), SV));
    /* The handshake's unscaled SYN-ACK window (65535) is not shrunk by a
     * scaled 512 (65536) either. */
    ck_assert_ptr_null(get(A(OUT_OF_WINDOW_SEGMENT), SV));
}
END_TEST

/* ACKs reordered at the capture point carry stale windows. */
START_TEST(reordered_acks_do_not_shrink)
{
    reset();
    open_conn(-1, -1, 10, 1000);
    tx(20, S2C, S(ACK), S0, C0, 3000, 65535);
    tx(30, C2S, S(ACK), C0, S0 + 2000, 0, 1000);
    tx(30.1, C2S, S(ACK), C0, S0 + 1000, 0, 1500); /* sent before the previous one */
    tx(30.2, C2S, S(ACK), C0, S0 + 2000, 0, 900);  /* so may this one have been */
    ck_assert_ptr_null(get(A(WINDOW_SHRINK), CL));
    tx(40, C2S, S(ACK), C0, S0 + 3000, 0, 1000); /* the ACK moves on: windows are news again */
    uint64_t s1 = tx(41, C2S, S(ACK), C0, S0 + 3000, 0, 900);
    const tcpst_finding *f = get(A(WINDOW_SHRINK), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->first_frame, s1);
    ck_assert_int_eq(f->fact[0], 100);
}
END_TEST

START_TEST(no_window_checks_without_the_handshake)
{
    reset();
    /* Picked up mid-stream: the scale is unknown, so is the window. */
    tx(0, S2C, S(ACK), 90000, 7000, 1000, 100);
    tx(1, C2S, S(ACK), 7000, 91000, 0, 1000);
    tx(2, C2S, S(ACK), 7000, 91000, 0, 10);
    tx(3, S2C, S(ACK), 91000, 7000, 5000, 100);
    ck_assert_ptr_null(get(A(WINDOW_SHRINK), CL));
    ck_assert_ptr_null(get(A(OUT_OF_WINDOW_SEGMENT), SV));
}
END_TEST

START_TEST(out_of_window_segment)
{
    reset();
    open_conn(-1, -1, 10, 2000); /* the client accepts S0 .. S0+2000 */
    tx(20, S2C, S(ACK), S0, C0, 1000, 65535);
    tx(20.1, S2C, S(ACK), S0 + 1000, C0, 1000, 65535); /* ends on the right edge */
    ck_assert_ptr_null(get(A(OUT_OF_WINDOW_SEGMENT), SV));
    uint64_t o = tx(20.2, S2C, S(ACK), S0 + 2000, C0, 500, 65535);
    const tcpst_finding *f = get(A(OUT_OF_WINDOW_SEGMENT), SV);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 1);
    ck_assert_uint_eq(f->evidence[0], o);
    ck_assert_int_eq(f->fact[0], 500);
    ck_assert_int_eq(f->fact[1], 0);
    /* The window opens; data inside it is fine; data below the ACK is a
     * (spurious) retransmission, not out of window. */
    tx(30, C2S, S(ACK), C0, S0 + 2500, 0, 2000);
    tx(31, S2C, S(ACK), S0 + 2500, C0, 1000, 65535);
    tx(400, S2C, S(ACK), S0, C0, 1000, 65535);
    ck_assert_uint_eq(get(A(OUT_OF_WINDOW_SEGMENT), SV)->count, 1);
    ck_assert_int_eq(get(A(RETRANSMISSION), SV)->fact[2], 1);
    /* Far beyond: the distance past the right edge is kept. */
    tx(401, S2C, S(ACK), S0 + 3500 + 2000 + 300, C0, 100, 65535);
    f = get(A(OUT_OF_WINDOW_SEGMENT), SV);
    ck_assert_uint_eq(f->count, 1); /* a gap first: window updates may be lost too */
    uint64_t o2 = tx(402, S2C, S(ACK), S0 + 5900, C0, 100, 65535);
    ck_assert_uint_eq(f->count, 2);
    ck_assert_uint_eq(f->last_frame, o2);
    ck_assert_int_eq(f->fact[0], 600);
    ck_assert_int_eq(f->fact[1], 5900 - 4500);
}
END_TEST

/* ---- timestamps ---- */

static uint64_t tx_ts(double ms, int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                      uint32_t tsval)
{
    tcpst_segment s = mk(c2s, flags, seq, ack, len, 65535);
    s.opts.present = TCPST_HAS_TS;
    s.opts.tsval = tsval;
    return send_at(ms, s);
}

START_TEST(timestamp_regression)
{
    reset();
    use_ts = true;
    open_conn(-1, -1, 10, 65535); /* client TSvals 100000, 100010 */
    tx_ts(20, C2S, S(ACK), C0, S0, 100, 100020);
    uint64_t r1 = tx_ts(21, C2S, S(ACK), C0 + 100, S0, 100, 100015);
    uint64_t r2 = tx_ts(22, C2S, S(ACK), C0 + 200, S0, 100, 99990);
    tx_ts(23, C2S, S(ACK), C0 + 300, S0, 100, 100030);
    tx_ts(24, C2S, S(RST), C0 + 400, 0, 0, 5); /* RSTs are exempt */
    const tcpst_finding *f = get(A(TIMESTAMP_REGRESSION), CL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 2);
    const uint64_t ev[] = {r1, r2};
    expect_evidence(f, ev, 2);
    ck_assert_int_eq(f->fact[0], 30);
    ck_assert_ptr_null(get(A(TIMESTAMP_REGRESSION), SV));

    /* A segment reordered in the network carries its older TSval: no regression. */
    reset();
    open_conn(-1, -1, 10, 65535);
    tx_ts(20, S2C, S(ACK), S0, C0, 1000, 500);
    tx_ts(20.5, S2C, S(ACK), S0 + 2000, C0, 1000, 502);
    tx_ts(21, S2C, S(ACK), S0 + 1000, C0, 1000, 501);
    ck_assert_ptr_nonnull(get(A(OUT_OF_ORDER), SV));
    ck_assert_ptr_null(get(A(TIMESTAMP_REGRESSION), SV));

    /* Timestamps overrule timing: a higher TSval is a repair even within the
     * reordering window, a lower one an original even long after. */
    reset();
    open_conn(-1, -1, 10, 65535);
    tx_ts(20, S2C, S(ACK), S0, C0, 1000, 500);
    tx_ts(20.5, S2C, S(ACK), S0 + 2000, C0, 1000, 502);
    uint64_t rep = tx_ts(21, S2C, S(ACK), S0 + 1000, C0, 1000, 503);
    tx_ts(30, S2C, S(ACK), S0 + 4000, C0, 1000, 510);
    uint64_t late = tx_ts(300, S2C, S(ACK), S0 + 3000, C0, 1000, 505);
    ck_assert_uint_eq(get(A(RETRANSMISSION), SV)->first_frame, rep);
    ck_assert_uint_eq(get(A(RETRANSMISSION), SV)->count, 1);
    ck_assert_uint_eq(get(A(OUT_OF_ORDER), SV)->first_frame, late);
    ck_assert_ptr_null(get(A(TIMESTAMP_REGRESSION), SV));

    /* Serial arithmetic: the clock wrapping is no regression. */
    reset();
    open_conn(-1, -1, 10, 65535);
    tx_ts(20, C2S, S(ACK), C0, S0, 100, 0xFFFFFFF0u);
    tx_ts(21, C2S, S(ACK), C0 + 100, S0, 100, 0x10u);
    ck_assert_ptr_null(get(A(TIMESTAMP_REGRESSION), CL));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("transfer");
    TCase *neg = tcase_create("negative");
    tcase_add_test(neg, struct_stays_small);
    tcase_add_test(neg, clean_bulk_transfer_raises_nothing);
    tcase_add_test(neg, keepalives_are_not_retransmissions);
    tcase_add_test(neg, duplicated_copies_are_not_retransmissions);
    tcase_add_test(neg, fin_with_a_new_ack_is_a_retransmission);
    tcase_add_test(neg, header_evidence_tells_resends_from_copies);
    tcase_add_test(neg, copy_window_does_not_follow_the_rtt);
    tcase_add_test(neg, ack_copies_are_not_duplicate_acks);
    tcase_add_test(neg, counters_agree_with_findings);
    tcase_add_test(neg, window_updates_are_not_dupacks);
    tcase_add_test(neg, sack_dupacks_with_growing_window);
    tcase_add_test(neg, reordered_acks_do_not_shrink);
    tcase_add_test(neg, no_window_checks_without_the_handshake);
    suite_add_tcase(s, neg);
    TCase *rt = tcase_create("loss");
    tcase_add_test(rt, retransmission_fast_timeout_spurious);
    tcase_add_test(rt, two_dupacks_fast_only_with_sack);
    tcase_add_test(rt, recovery_ends_with_full_ack);
    tcase_add_test(rt, handshake_repeats);
    tcase_add_test(rt, out_of_order_versus_retransmission);
    tcase_add_test(rt, reordered_syn_is_out_of_order);
    tcase_add_test(rt, capture_loss_and_acks_of_unseen_data);
    suite_add_tcase(s, rt);
    TCase *zw = tcase_create("windows");
    tcase_add_test(zw, zero_window_stall_with_linux_probes);
    tcase_add_test(zw, zero_window_classic_probes_short_episode);
    tcase_add_test(zw, zero_window_still_open_at_end);
    tcase_add_test(zw, zero_window_ended_by_reset_and_default_threshold);
    tcase_add_test(zw, zero_window_after_fin_is_ignored);
    tcase_add_test(zw, window_shrink_beyond_one_scale_unit);
    tcase_add_test(zw, out_of_window_segment);
    suite_add_tcase(s, zw);
    TCase *ts = tcase_create("timestamps");
    tcase_add_test(ts, timestamp_regression);
    suite_add_tcase(s, ts);
    return s;
}

int main(void)
{
    return ckrun(suite());
}
