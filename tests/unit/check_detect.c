/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_detect.c - lifecycle and header anomaly detectors, one test per type,
 * plus a clean connection that must raise nothing.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "ckrun.h"
#include "pktbuild.h"
#include "tcpstate/detect.h"
#include "tcpstate/engine.h"
#include "testrec.h"

#define C2S  1
#define S2C  0
#define SEC  TCPST_NS_PER_SEC
#define S(x) TCPST_##x

static tcpst_conn conn;
static tcpst_conn_config cfg;
static uint64_t frame;
static tcpst_time now;

static tcpst_segment mkseg(int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    tcpst_segment s = pb_segment(c2s, flags, seq, ack, len);
    s.window = 1000;
    return s;
}

static void reset(void)
{
    memset(&conn, 0, sizeof conn);
    memset(&cfg, 0, sizeof cfg);
    cfg.time_wait = 60 * SEC;
    tcpst_detect_config_default(&cfg);
    frame = 0;
    now = 1000 * SEC;
}

/* Feed a segment `dt` seconds after the previous one. */
static void feed_seg(double dt, tcpst_segment s)
{
    now += (tcpst_time)(dt * 1e9);
    if (++frame == 1) {
        test_conn_init(&conn, 1, &s);
    }
    tcpst_engine_conn_segment(&conn, &s, now, frame, &cfg);
}

static void feed(double dt, int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    feed_seg(dt, mkseg(c2s, flags, seq, ack, len));
}

static void finish(double after, tcpst_end_reason why)
{
    conn.end_ts = now + (tcpst_time)(after * 1e9);
    conn.end_reason = (uint8_t)why;
    tcpst_detect_finish(&conn, &cfg);
}

static const tcpst_finding *get(tcpst_anomaly_type t, tcpst_who who)
{
    return tcpst_findings_get(&conn.findings, t, who);
}

static void handshake(void)
{
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(0.01, C2S, S(ACK), 101, 501, 0);
}

START_TEST(clean_connection_raises_nothing)
{
    reset();
    handshake();
    feed(0.01, C2S, S(ACK) | S(PSH), 101, 501, 100);
    feed(0.01, S2C, S(ACK) | S(PSH), 501, 201, 300);
    feed(0.01, C2S, S(FIN) | S(ACK), 201, 801, 0);
    feed(0.01, S2C, S(FIN) | S(ACK), 801, 202, 0);
    feed(0.01, C2S, S(ACK), 202, 802, 0);
    finish(100, TCPST_END_CAPTURE_END);
    ck_assert_msg(conn.findings.n == 0, "unexpected %s",
                  tcpst_anomaly_id((tcpst_anomaly_type)conn.findings.f[0].type));
}
END_TEST

START_TEST(close_wait_stuck_with_duration)
{
    reset();
    handshake();
    feed(0.01, C2S, S(FIN) | S(ACK), 101, 501, 0); /* frame 4: server -> CLOSE_WAIT */
    feed(0.01, S2C, S(ACK), 501, 102, 0);
    feed(5, S2C, S(ACK) | S(PSH), 501, 102, 40); /* still sending after the peer's FIN */
    finish(40, TCPST_END_CAPTURE_END);
    const tcpst_finding *f = get(TCPST_A_CLOSE_WAIT_STUCK, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->first_frame, 4);
    ck_assert(f->still_at_end);
    ck_assert_int_eq(f->fact[0], (tcpst_time)(45.01 * 1e9));
    ck_assert_int_eq(f->fact[1], 40); /* bytes_after_peer_fin */
    /* The client is in FIN_WAIT_2 just as long. */
    ck_assert_ptr_nonnull(get(TCPST_A_FIN_WAIT_2_STUCK, TCPST_WHO_CLIENT));
    ck_assert_int_eq(tcpst_anomaly_severity(TCPST_A_CLOSE_WAIT_STUCK), TCPST_SEV_ERROR);
}
END_TEST

START_TEST(stuck_threshold_and_per_state_override)
{
    reset();
    cfg.stuck_after[TCPST_CLOSE_WAIT] = 60 * SEC;
    handshake();
    feed(0.01, C2S, S(FIN) | S(ACK), 101, 501, 0);
    feed(0.01, S2C, S(ACK), 501, 102, 0);
    finish(45, TCPST_END_CAPTURE_END);
    ck_assert_ptr_null(get(TCPST_A_CLOSE_WAIT_STUCK, TCPST_WHO_SERVER));
    ck_assert_ptr_nonnull(get(TCPST_A_FIN_WAIT_2_STUCK, TCPST_WHO_CLIENT)); /* default 30 s */
}
END_TEST

START_TEST(close_wait_left_in_time_is_not_stuck_but_long_one_is)
{
    reset();
    handshake();
    feed(0.01, C2S, S(FIN) | S(ACK), 101, 501, 0);
    feed(0.01, S2C, S(ACK), 501, 102, 0);
    feed(31, S2C, S(FIN) | S(ACK), 501, 102, 0); /* closed after 31 s */
    feed(0.01, C2S, S(ACK), 102, 502, 0);
    finish(0, TCPST_END_CAPTURE_END);
    const tcpst_finding *f = get(TCPST_A_CLOSE_WAIT_STUCK, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert(!f->still_at_end);
    ck_assert_uint_eq(f->last_frame, 6);
}
END_TEST

START_TEST(fin_wait_1_and_last_ack_stuck)
{
    reset();
    handshake();
    feed(0.01, C2S, S(FIN) | S(ACK), 101, 501, 0);
    feed(1, C2S, S(FIN) | S(ACK), 101, 501, 0); /* FIN retransmitted, never acked */
    feed(2, C2S, S(FIN) | S(ACK), 101, 501, 0);
    finish(40, TCPST_END_CAPTURE_END);
    const tcpst_finding *f = get(TCPST_A_FIN_WAIT_1_STUCK, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 2);

    reset();
    handshake();
    feed(0.01, C2S, S(FIN) | S(ACK), 101, 501, 0);
    feed(0.01, S2C, S(FIN) | S(ACK), 501, 102, 0); /* server LAST_ACK */
    feed(1, S2C, S(FIN) | S(ACK), 501, 102, 0);    /* the final ACK never comes */
    finish(40, TCPST_END_CAPTURE_END);
    f = get(TCPST_A_LAST_ACK_STUCK, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 1);
}
END_TEST

START_TEST(syn_unanswered_with_retries)
{
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(1, C2S, S(SYN), 100, 0, 0);
    feed(2, C2S, S(SYN), 100, 0, 0);
    feed(4, C2S, S(SYN), 100, 0, 0);
    finish(1, TCPST_END_CAPTURE_END);
    const tcpst_finding *f = get(TCPST_A_SYN_UNANSWERED, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 1);
    ck_assert_int_eq(f->fact[1], 3);
    ck_assert_int_eq(f->fact[2], 8 * SEC);
    ck_assert_int_eq(f->fact[3], 4 * SEC);
    ck_assert_uint_eq(f->first_frame, 1);
    ck_assert_uint_eq(f->last_frame, 4);
    /* Answered by a RST instead: rejected, not unanswered. */
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(1, C2S, S(SYN), 100, 0, 0);
    feed(0.001, S2C, S(RST) | S(ACK), 0, 101, 0);
    finish(10, TCPST_END_CAPTURE_END);
    ck_assert_ptr_null(get(TCPST_A_SYN_UNANSWERED, TCPST_WHO_CLIENT));
    f = get(TCPST_A_CONNECTION_REJECTED, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 1);
    /* A capture that ends 0.5 s after the SYN proves nothing yet. */
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    finish(0.5, TCPST_END_CAPTURE_END);
    ck_assert_int_eq(conn.findings.n, 0);
}
END_TEST

START_TEST(handshake_incomplete)
{
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(1, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(2, S2C, S(SYN) | S(ACK), 500, 101, 0);
    finish(2, TCPST_END_CAPTURE_END);
    const tcpst_finding *f = get(TCPST_A_HANDSHAKE_INCOMPLETE, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 2); /* SYN-ACK retries */
    ck_assert(f->still_at_end);
}
END_TEST

START_TEST(handshake_invalid)
{
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 999, 0);
    const tcpst_finding *f = get(TCPST_A_HANDSHAKE_INVALID, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 1);
    ck_assert_int_eq(f->fact[1], 101);
    ck_assert_int_eq(f->fact[2], 999);
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_HANDSHAKE_INVALID, f->fact[0]),
                     "synack_wrong_ack");
    /* TCP Fast Open: the SYN-ACK acknowledges the SYN and its 20 data bytes. */
    reset();
    tcpst_segment tfo = mkseg(C2S, S(SYN), 100, 0, 20);
    tfo.opts.present = TCPST_HAS_TFO;
    feed_seg(0, tfo);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 121, 0);
    ck_assert_ptr_null(get(TCPST_A_HANDSHAKE_INVALID, TCPST_WHO_SERVER));
    /* The client answers with a SYN-ACK of its own to a server that never sent a SYN. */
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, C2S, S(SYN) | S(ACK), 100, 7, 0);
    f = get(TCPST_A_HANDSHAKE_INVALID, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 2);
    /* Third segment acks the wrong number. */
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(0.01, C2S, S(ACK), 101, 777, 0);
    f = get(TCPST_A_HANDSHAKE_INVALID, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 3);
}
END_TEST

START_TEST(reset_and_data_after_reset)
{
    reset();
    handshake();
    feed(0.01, C2S, S(ACK) | S(PSH), 101, 501, 100); /* unacked when the reset comes */
    feed(0.01, C2S, S(RST) | S(ACK), 201, 501, 0);
    const tcpst_finding *f = get(TCPST_A_CONNECTION_RESET, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], TCPST_ESTABLISHED);
    ck_assert_int_eq(f->fact[2], 100);
    feed(0.01, S2C, S(ACK) | S(PSH), 501, 201, 10);
    ck_assert_ptr_nonnull(get(TCPST_A_DATA_AFTER_RESET, TCPST_WHO_SERVER));
}
END_TEST

/* The rst_not_accepted finding of `who`, with its reason and the state it kept. */
static const tcpst_finding *rst_not_accepted(tcpst_who who, const char *reason, int state)
{
    const tcpst_finding *f = get(TCPST_A_RST_NOT_ACCEPTED, who);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_RST_NOT_ACCEPTED, f->fact[0]), reason);
    ck_assert_int_eq(f->fact[1], state);
    return f;
}

/* The server's RST looked accepted; the client's repeat of its data a second later (50
 * round trips) shows it never took it: the reset and the data after it are withdrawn. */
START_TEST(rst_not_accepted_withdraws_what_it_caused)
{
    reset();
    handshake();                                     /* round trip 20 ms */
    feed(0.01, C2S, S(ACK) | S(PSH), 101, 501, 100); /* frame 4 */
    feed(0.01, S2C, S(RST) | S(ACK), 501, 201, 0);   /* frame 5 */
    ck_assert_ptr_nonnull(get(TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER));
    tcpst_time rst_at = now;
    feed(0.001, C2S, S(ACK) | S(PSH), 201, 501, 50); /* crossing the RST */
    ck_assert_ptr_nonnull(get(TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT));
    feed(1.0, C2S, S(ACK) | S(PSH), 201, 501, 50); /* frame 7: its RTO */
    ck_assert_ptr_null(get(TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER));
    ck_assert_ptr_null(get(TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT));
    ck_assert_ptr_null(get(TCPST_A_DATA_AFTER_CLOSE, TCPST_WHO_CLIENT));
    const tcpst_finding *f = rst_not_accepted(TCPST_WHO_CLIENT, "peer_went_on", TCPST_ESTABLISHED);
    ck_assert_uint_eq(f->first_frame, 5);
    ck_assert_int_eq(f->first_ts, rst_at);
    ck_assert_uint_eq(f->last_frame, 7);
    ck_assert_int_eq(f->last_ts, now);
    ck_assert_uint_eq(f->nevidence, 2);
    ck_assert_uint_eq(f->evidence[1], 7);
    ck_assert_uint_eq(conn.rst_not_accepted, 1);
    ck_assert_int_eq(conn.ep[0].state, TCPST_ESTABLISHED);
    ck_assert_int_eq(conn.ep[1].state, TCPST_ESTABLISHED);
    /* What comes after is the connection's own data again. */
    feed(0.01, C2S, S(ACK) | S(PSH), 251, 501, 50);
    ck_assert_ptr_null(get(TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT));
    ck_assert_int_eq(tcpst_anomaly_severity(TCPST_A_RST_NOT_ACCEPTED), TCPST_SEV_WARNING);
}
END_TEST

/* A RST+ACK echoing a TSecr the client never sent: no rejection, a RST not accepted. */
START_TEST(rst_not_accepted_tsecr)
{
    reset();
    tcpst_segment syn = mkseg(C2S, S(SYN), 100, 0, 0);
    syn.opts.present |= TCPST_HAS_TS;
    syn.opts.tsval = 7000;
    feed_seg(0, syn);
    tcpst_segment rst = mkseg(S2C, S(RST) | S(ACK), 0, 101, 0);
    rst.opts.present |= TCPST_HAS_TS;
    rst.opts.tsval = 1;
    rst.opts.tsecr = 6000;
    feed_seg(0.0003, rst);
    ck_assert_ptr_null(get(TCPST_A_CONNECTION_REJECTED, TCPST_WHO_SERVER));
    ck_assert_ptr_null(get(TCPST_A_RST_OUT_OF_WINDOW, TCPST_WHO_SERVER));
    const tcpst_finding *f = rst_not_accepted(TCPST_WHO_CLIENT, "tsecr_not_sent", TCPST_SYN_SENT);
    ck_assert_uint_eq(f->nevidence, 1);
    feed(0.002, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(0.002, C2S, S(ACK), 101, 501, 0);
    feed(0.002, S2C, S(ACK) | S(PSH), 501, 101, 100);
    ck_assert_ptr_null(get(TCPST_A_DATA_AFTER_RESET, TCPST_WHO_SERVER));
}
END_TEST

/* The server answers the SYN with an ACK of an older connection (RFC 9293 3.5.1 figure 10). */
START_TEST(half_open_ack_to_syn)
{
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(ACK), 7000, 3000, 0);
    feed(0.0001, C2S, S(RST), 3000, 0, 0); /* frame 3 */
    const tcpst_finding *f = get(TCPST_A_HALF_OPEN, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_HALF_OPEN, f->fact[0]), "ack_to_syn");
    ck_assert_uint_eq(f->first_frame, 3);
    ck_assert_ptr_null(get(TCPST_A_CONNECTION_RESET, TCPST_WHO_CLIENT));
    ck_assert_ptr_null(get(TCPST_A_RST_OUT_OF_WINDOW, TCPST_WHO_CLIENT));
    feed(1, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(0.01, C2S, S(ACK), 101, 501, 0);
    feed(0.01, C2S, S(ACK) | S(PSH), 101, 501, 100);
    ck_assert_ptr_null(get(TCPST_A_DATA_AFTER_RESET, TCPST_WHO_CLIENT));
    ck_assert_ptr_null(get(TCPST_A_HANDSHAKE_INVALID, TCPST_WHO_SERVER));
    /* The old duplicate SYN of figure 9 is no half-open connection. */
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 77, 0);
    feed(0.0001, C2S, S(RST), 77, 0, 0);
    ck_assert_ptr_null(get(TCPST_A_HALF_OPEN, TCPST_WHO_SERVER));
    ck_assert_ptr_null(get(TCPST_A_CONNECTION_RESET, TCPST_WHO_CLIENT));
}
END_TEST

START_TEST(rst_out_of_window_and_rst_with_data)
{
    reset();
    handshake();
    feed(0.01, S2C, S(RST), 123456789, 0, 0);
    const tcpst_finding *f = get(TCPST_A_RST_OUT_OF_WINDOW, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], 123456789);
    ck_assert_int_eq(f->fact[1], 0);
    /* In the receiver's window (client acked 101, advertised 1000) but not at RCV.NXT. */
    feed(0.01, S2C, S(RST), 700, 0, 0);
    ck_assert_uint_eq(f->count, 2);
    ck_assert_int_eq(f->fact[1], 1);
    ck_assert_ptr_null(get(TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER));
    feed(0.01, S2C, S(RST) | S(ACK), 501, 101, 5);
    ck_assert_ptr_nonnull(get(TCPST_A_RST_WITH_DATA, TCPST_WHO_SERVER));
    ck_assert_ptr_nonnull(get(TCPST_A_CONNECTION_RESET, TCPST_WHO_SERVER));
}
END_TEST

START_TEST(half_open_peer_lost_connection)
{
    reset();
    handshake();
    feed(0.01, C2S, S(ACK) | S(PSH), 101, 501, 50);
    /* The server rebooted: it answers data with a bare RST at SEG.ACK. */
    feed(0.01, S2C, S(RST), 501, 0, 0);
    const tcpst_finding *f = get(TCPST_A_HALF_OPEN, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_HALF_OPEN, f->fact[0]), "rst_to_data");
}
END_TEST

START_TEST(half_open_into_silence)
{
    reset();
    handshake();
    feed(0.01, C2S, S(ACK) | S(PSH), 101, 501, 50);
    for (int i = 0; i < 5; i++) {
        feed(8, C2S, S(ACK) | S(PSH), 101, 501, 50); /* retransmitted, never answered */
    }
    finish(1, TCPST_END_CAPTURE_END);
    const tcpst_finding *f = get(TCPST_A_HALF_OPEN, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[1], 7); /* the handshake ACK, the data, five retries */
    ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_HALF_OPEN, f->fact[0]), "into_silence");
}
END_TEST

START_TEST(data_after_close_and_before_established)
{
    reset();
    handshake();
    feed(0.01, C2S, S(FIN) | S(ACK), 101, 501, 0);
    feed(0.01, C2S, S(ACK) | S(PSH), 102, 501, 20); /* new data beyond its own FIN */
    ck_assert_ptr_nonnull(get(TCPST_A_DATA_AFTER_CLOSE, TCPST_WHO_CLIENT));

    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(0.01, S2C, S(ACK) | S(PSH), 501, 101, 30); /* server data before the client's ACK */
    ck_assert_ptr_null(get(TCPST_A_DATA_BEFORE_ESTABLISHED, TCPST_WHO_SERVER));
    /* Data on a SYN without Fast Open is too early; with a TFO cookie it is by design. */
    reset();
    feed(0, C2S, S(SYN), 100, 0, 20);
    ck_assert_ptr_nonnull(get(TCPST_A_DATA_BEFORE_ESTABLISHED, TCPST_WHO_CLIENT));
    reset();
    tcpst_segment tfo = mkseg(C2S, S(SYN), 100, 0, 20);
    tfo.opts.present = TCPST_HAS_TFO;
    feed_seg(0, tfo);
    feed(0.01, S2C, S(SYN) | S(ACK), 500, 121, 0);
    ck_assert_ptr_null(get(TCPST_A_DATA_BEFORE_ESTABLISHED, TCPST_WHO_CLIENT));
}
END_TEST

START_TEST(header_anomalies)
{
    reset();
    handshake();
    feed(0.01, C2S, S(SYN) | S(FIN), 101, 0, 0);
    feed(0.01, C2S, 0, 101, 0, 0);
    feed(0.01, C2S, S(FIN) | S(PSH) | S(URG), 101, 0, 0);
    const tcpst_finding *f = get(TCPST_A_ILLEGAL_FLAGS, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 3);
    ck_assert_uint_eq(f->nevidence, 3);
    ck_assert_uint_eq(f->evidence[2], 6);
    tcpst_segment bad = mkseg(S2C, S(ACK), 501, 101, 0);
    bad.opts.malformed = TCPST_OPTBAD_MSS_LEN;
    feed_seg(0.01, bad);
    f = get(TCPST_A_MALFORMED_OPTIONS, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], TCPST_OPTBAD_MSS_LEN);
}
END_TEST

START_TEST(simultaneous_open_and_close_are_info)
{
    reset();
    feed(0, C2S, S(SYN), 100, 0, 0);
    feed(0.001, S2C, S(SYN), 500, 0, 0);
    feed(0.001, S2C, S(SYN) | S(ACK), 500, 101, 0);
    feed(0.001, C2S, S(SYN) | S(ACK), 100, 501, 0);
    feed(0.001, C2S, S(FIN) | S(ACK), 101, 501, 0);
    feed(0.001, S2C, S(FIN) | S(ACK), 501, 101, 0);
    ck_assert_ptr_nonnull(get(TCPST_A_SIMULTANEOUS_OPEN, TCPST_WHO_BOTH));
    ck_assert_ptr_nonnull(get(TCPST_A_SIMULTANEOUS_CLOSE, TCPST_WHO_BOTH));
    ck_assert_ptr_null(get(TCPST_A_HANDSHAKE_INVALID, TCPST_WHO_CLIENT));
    ck_assert_int_eq(tcpst_findings_max_severity(&conn.findings), TCPST_SEV_INFO);
}
END_TEST

START_TEST(aggregation_and_caps)
{
    tcpst_findings fs;
    memset(&fs, 0, sizeof fs);
    fs.pool = test_pool();
    for (int i = 1; i <= 12; i++) {
        tcpst_findings_add(&fs, TCPST_A_KEEPALIVE, TCPST_WHO_CLIENT, i, (uint64_t)i);
    }
    ck_assert_uint_eq(fs.n, 1);
    ck_assert_uint_eq(fs.f[0].count, 12);
    ck_assert_uint_eq(fs.f[0].nevidence, TCPST_EVIDENCE_MAX);
    ck_assert_uint_eq(fs.evidence_dropped, 12 - TCPST_EVIDENCE_MAX);
    ck_assert_uint_eq(fs.f[0].first_frame, 1);
    ck_assert_uint_eq(fs.f[0].last_frame, 12);
    for (int t = 0; t < TCPST_FINDINGS_MAX + 2; t++) {
        tcpst_findings_add(&fs, (tcpst_anomaly_type)t, TCPST_WHO_SERVER, 1, 1);
    }
    ck_assert_uint_eq(fs.n, TCPST_FINDINGS_MAX);
    ck_assert_uint_eq(fs.dropped, 3);
    ck_assert_int_eq(tcpst_anomaly_parse("close_wait_stuck"), TCPST_A_CLOSE_WAIT_STUCK);
    ck_assert_int_eq(tcpst_anomaly_parse("close-wait"), -1);
    for (int t = 0; t < TCPST_A__COUNT; t++) {
        ck_assert_int_eq(tcpst_anomaly_parse(tcpst_anomaly_id((tcpst_anomaly_type)t)), t);
    }
}
END_TEST

/* Engine-level: port reuse within 2*MSL and a SYN inside an open connection. */
static tcpst_conn out[8];
static tcpst_finding out_findings[8][TCPST_FINDINGS_MAX];
static int nout;

static void collect(void *ctx, const tcpst_conn *c)
{
    (void)ctx;
    if (nout < 8) {
        out[nout] = *c; /* c is valid during the call only: its findings too */
        tcpst_findings_copy_to(&out[nout].findings, &c->findings, out_findings[nout]);
    }
    nout++;
}

START_TEST(port_reuse_and_syn_inside_connection)
{
    tcpst_engine e;
    tcpst_engine_config ec;
    tcpst_engine_config_default(&ec);
    nout = 0;
    ck_assert_int_eq(test_engine_init(&e, &ec, collect, NULL), 0);
    tcpst_segment s = mkseg(C2S, S(SYN), 100, 0, 0);
    tcpst_engine_segment(&e, &s, 1 * SEC, 1);
    s = mkseg(S2C, S(SYN) | S(ACK), 500, 101, 0);
    tcpst_engine_segment(&e, &s, 1 * SEC + 1000, 2);
    s = mkseg(C2S, S(ACK), 101, 501, 0);
    tcpst_engine_segment(&e, &s, 1 * SEC + 2000, 3);
    s = mkseg(C2S, S(SYN), 90000, 0, 0); /* new ISN while established */
    tcpst_engine_segment(&e, &s, 2 * SEC, 4);
    tcpst_engine_finish(&e);
    ck_assert_int_eq(nout, 2);
    const tcpst_finding *f =
        tcpst_findings_get(&out[0].findings, TCPST_A_SYN_INSIDE_CONNECTION, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], TCPST_ESTABLISHED);
    f = tcpst_findings_get(&out[1].findings, TCPST_A_PORT_REUSE, TCPST_WHO_CLIENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[2], 1);
    tcpst_engine_fini(&e);
}
END_TEST

static void frame_in(tcpst_engine *e, int c2s, uint16_t flags, uint32_t seq, uint32_t ack, bool bad,
                     uint64_t fno)
{
    pb_seg s;
    memset(&s, 0, sizeof s);
    s.src = c2s ? "198.18.0.1" : "198.18.0.2";
    s.dst = c2s ? "198.18.0.2" : "198.18.0.1";
    s.sport = c2s ? 40000 : 80;
    s.dport = c2s ? 80 : 40000;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.win = 1000;
    s.bad_tcp_csum = bad;
    uint8_t buf[256];
    size_t n = pb_build(buf, sizeof buf, TCPST_LT_ETHERNET, &s);
    ck_assert_uint_gt(n, 0);
    tcpst_engine_packet(e, TCPST_LT_ETHERNET, buf, (uint32_t)n, (uint32_t)n, (tcpst_time)fno * SEC,
                        fno);
}

START_TEST(bad_checksum_segments_are_ignored)
{
    for (int verify = 0; verify < 2; verify++) {
        tcpst_engine e;
        tcpst_engine_config ec;
        tcpst_engine_config_default(&ec);
        ec.verify_checksums = verify;
        nout = 0;
        ck_assert_int_eq(test_engine_init(&e, &ec, collect, NULL), 0);
        frame_in(&e, C2S, S(SYN), 100, 0, false, 1);
        frame_in(&e, S2C, S(SYN) | S(ACK), 500, 101, false, 2);
        frame_in(&e, C2S, S(ACK), 101, 501, false, 3);
        frame_in(&e, C2S, S(FIN) | S(ACK), 101, 501, true, 4); /* corrupt FIN */
        tcpst_engine_finish(&e);
        ck_assert_int_eq(nout, 1);
        const tcpst_finding *f =
            tcpst_findings_get(&out[0].findings, TCPST_A_BAD_CHECKSUM, TCPST_WHO_CLIENT);
        if (verify) {
            /* Dropped as the server would drop it: nobody is closing. */
            ck_assert_int_eq(out[0].ep[0].state, TCPST_ESTABLISHED);
            ck_assert_int_eq(out[0].ep[1].state, TCPST_ESTABLISHED);
            ck_assert_ptr_nonnull(f);
            ck_assert_uint_eq(f->first_frame, 4);
            ck_assert_str_eq(tcpst_anomaly_reason(TCPST_A_BAD_CHECKSUM, f->fact[0]), "tcp");
            ck_assert_uint_eq(e.stats.bad_checksum, 1);
        } else {
            ck_assert_int_eq(out[0].ep[0].state, TCPST_FIN_WAIT_1);
            ck_assert_ptr_null(f);
        }
        tcpst_engine_fini(&e);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("detect");
    TCase *t = tcase_create("lifecycle");
    tcase_add_test(t, clean_connection_raises_nothing);
    tcase_add_test(t, close_wait_stuck_with_duration);
    tcase_add_test(t, stuck_threshold_and_per_state_override);
    tcase_add_test(t, close_wait_left_in_time_is_not_stuck_but_long_one_is);
    tcase_add_test(t, fin_wait_1_and_last_ack_stuck);
    tcase_add_test(t, syn_unanswered_with_retries);
    tcase_add_test(t, handshake_incomplete);
    tcase_add_test(t, handshake_invalid);
    tcase_add_test(t, reset_and_data_after_reset);
    tcase_add_test(t, rst_out_of_window_and_rst_with_data);
    tcase_add_test(t, rst_not_accepted_withdraws_what_it_caused);
    tcase_add_test(t, rst_not_accepted_tsecr);
    tcase_add_test(t, half_open_ack_to_syn);
    tcase_add_test(t, half_open_peer_lost_connection);
    tcase_add_test(t, half_open_into_silence);
    tcase_add_test(t, data_after_close_and_before_established);
    tcase_add_test(t, header_anomalies);
    tcase_add_test(t, simultaneous_open_and_close_are_info);
    tcase_add_test(t, aggregation_and_caps);
    tcase_add_test(t, port_reuse_and_syn_inside_connection);
    tcase_add_test(t, bad_checksum_segments_are_ignored);
    suite_add_tcase(s, t);
    return ckrun(s);
}
