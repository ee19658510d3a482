/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_conn.c - RFC 9293 endpoint machines and the connection update, fed
 * with hand-built segments (no frames), plus the engine's record splitting,
 * expiry and eviction.
 */
#include <arpa/inet.h>
#include <check.h>

#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "pktbuild.h"
#include "testrec.h"

#include "tcpstate/conn.h"
#include "tcpstate/endpoint.h"
#include "tcpstate/engine.h"

#define C2S 1 /* client to server */
#define S2C 0
#define SEC TCPST_NS_PER_SEC

static tcpst_segment mkseg(int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    return pb_segment(c2s, flags, seq, ack, len);
}

/* ---- a single connection driven directly ---- */

static tcpst_conn conn;
static tcpst_conn_config ccfg = {.time_wait = 60 * SEC};
static uint64_t frame;

static tcpst_time skipped; /* added to every later segment's time (skip()) */

static void feed_seg(tcpst_segment s)
{
    if (++frame == 1) {
        test_conn_init(&conn, 1, &s);
    }
    tcpst_engine_conn_segment(&conn, &s, (tcpst_time)frame * SEC + skipped, frame, &ccfg);
}

static void feed(int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    feed_seg(mkseg(c2s, flags, seq, ack, len));
}

/* A segment with the TCP timestamps option. */
static void feed_ts(int c2s, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t tsval,
                    uint32_t tsecr)
{
    tcpst_segment s = mkseg(c2s, flags, seq, ack, 0);
    s.opts.present |= TCPST_HAS_TS;
    s.opts.tsval = tsval;
    s.opts.tsecr = tsecr;
    feed_seg(s);
}

/* The next segment comes `secs` seconds later than it would. */
static void skip(tcpst_time secs)
{
    skipped += secs * SEC;
}

static void reset(void)
{
    memset(&conn, 0, sizeof conn);
    frame = 0;
    skipped = 0;
}

#define CL   (&conn.ep[0])
#define SV   (&conn.ep[1])
#define S(x) TCPST_##x

static void expect_tl(const tcpst_endpoint *e, const int *states, const int *inferred, int n)
{
    ck_assert_int_eq(e->tl_count, n);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(e->tl[i].to == states[i], "transition %d: got %s want %s", i,
                      tcpst_state_name(e->tl[i].to), tcpst_state_name((tcpst_state)states[i]));
        ck_assert_msg(e->tl[i].inferred == inferred[i], "transition %d (%s): inferred=%d", i,
                      tcpst_state_name(e->tl[i].to), e->tl[i].inferred);
        if (i > 0) {
            ck_assert_int_eq(e->tl[i].from, states[i - 1]);
        }
    }
}

static void handshake(uint32_t cisn, uint32_t sisn)
{
    feed(C2S, S(SYN), cisn, 0, 0);
    feed(S2C, S(SYN) | S(ACK), sisn, cisn + 1, 0);
    feed(C2S, S(ACK), cisn + 1, sisn + 1, 0);
}

START_TEST(normal_close_by_client)
{
    reset();
    handshake(1000, 5000);
    feed(C2S, S(ACK) | S(PSH), 1001, 5001, 100);
    feed(S2C, S(ACK) | S(PSH), 5001, 1101, 200);
    feed(C2S, S(FIN) | S(ACK), 1101, 5201, 0);
    feed(S2C, S(ACK), 5201, 1102, 0);
    ck_assert_int_eq(CL->state, S(FIN_WAIT_2));
    ck_assert_int_eq(SV->state, S(CLOSE_WAIT));
    feed(S2C, S(FIN) | S(ACK), 5201, 1102, 0);
    feed(C2S, S(ACK), 1102, 5202, 0);
    ck_assert_int_eq(CL->state, S(TIME_WAIT));
    ck_assert_int_eq(SV->state, S(CLOSED));
    ck_assert(!conn.roles_inferred);
    const int cs[] = {S(SYN_SENT), S(ESTABLISHED), S(FIN_WAIT_1), S(FIN_WAIT_2), S(TIME_WAIT)};
    const int ci[] = {0, 1, 0, 1, 1};
    expect_tl(CL, cs, ci, 5);
    const int ss[] = {S(LISTEN),     S(SYN_RECEIVED), S(ESTABLISHED),
                      S(CLOSE_WAIT), S(LAST_ACK),     S(CLOSED)};
    const int si[] = {1, 0, 1, 1, 0, 1};
    expect_tl(SV, ss, si, 6);
    /* Frame numbers point at the causing segments. */
    ck_assert_uint_eq(CL->tl[0].frame, 1);
    ck_assert_uint_eq(SV->tl[1].frame, 2);
    ck_assert_uint_eq(SV->tl[5].frame, 9);
    ck_assert(tcpst_conn_terminated(&conn));
    /* TIME_WAIT ends after 2*MSL of packet time, stamped at the exact expiry. */
    /* The client entered TIME_WAIT on receiving the server's FIN (frame 8). */
    ck_assert_uint_eq(CL->tl[4].frame, 8);
    tcpst_conn_advance(&conn, 8 * SEC + 59 * SEC, &ccfg);
    ck_assert_int_eq(CL->state, S(TIME_WAIT));
    tcpst_conn_advance(&conn, 8 * SEC + 61 * SEC, &ccfg);
    ck_assert_int_eq(CL->state, S(CLOSED));
    ck_assert_int_eq(CL->tl[5].cause, TCPST_CAUSE_TIMER);
    ck_assert_int_eq(CL->tl[5].ts, 8 * SEC + 60 * SEC);
    ck_assert_uint_eq(CL->tl[5].frame, 0);
}
END_TEST

START_TEST(normal_close_by_server)
{
    reset();
    handshake(7, 9);
    feed(S2C, S(FIN) | S(ACK), 10, 8, 0);
    ck_assert_int_eq(SV->state, S(FIN_WAIT_1));
    ck_assert_int_eq(CL->state, S(CLOSE_WAIT));
    feed(C2S, S(FIN) | S(ACK), 8, 11, 0); /* FIN+ACK together */
    ck_assert_int_eq(CL->state, S(LAST_ACK));
    /* Server: FIN_WAIT_1 -> FIN_WAIT_2 (ACK) -> TIME_WAIT (FIN), both on one segment. */
    ck_assert_int_eq(SV->state, S(TIME_WAIT));
    feed(S2C, S(ACK), 11, 9, 0);
    ck_assert_int_eq(CL->state, S(CLOSED));
}
END_TEST

START_TEST(close_wait_never_closes)
{
    reset();
    handshake(100, 200);
    feed(C2S, S(ACK) | S(PSH), 101, 201, 10);
    feed(C2S, S(FIN) | S(ACK), 111, 201, 0);
    feed(S2C, S(ACK), 201, 112, 0);
    ck_assert_int_eq(CL->state, S(FIN_WAIT_2));
    ck_assert_int_eq(SV->state, S(CLOSE_WAIT));
    ck_assert(!tcpst_conn_terminated(&conn));
}
END_TEST

START_TEST(half_close_data_after_fin)
{
    reset();
    handshake(100, 200);
    feed(C2S, S(FIN) | S(ACK) | S(PSH), 101, 201, 50); /* request + FIN */
    feed(S2C, S(ACK), 201, 152, 0);
    feed(S2C, S(ACK) | S(PSH), 201, 152, 1000);
    feed(C2S, S(ACK), 152, 1201, 0);
    feed(S2C, S(ACK) | S(PSH), 1201, 152, 1000);
    ck_assert_int_eq(CL->state, S(FIN_WAIT_2));
    ck_assert_int_eq(SV->state, S(CLOSE_WAIT));
    ck_assert_uint_eq(SV->payload_bytes, 2000);
    ck_assert_uint_eq(SV->retrans_segments, 0);
    feed(S2C, S(FIN) | S(ACK), 2201, 152, 0);
    feed(C2S, S(ACK), 152, 2202, 0);
    ck_assert_int_eq(CL->state, S(TIME_WAIT));
    ck_assert_int_eq(SV->state, S(CLOSED));
    ck_assert_uint_eq(CL->fin_seq, 151);
}
END_TEST

START_TEST(simultaneous_open)
{
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    ck_assert_int_eq(SV->state, S(LISTEN));
    feed(S2C, S(SYN), 5000, 0, 0); /* the "server" opens too: LISTEN was a wrong guess */
    ck_assert_int_eq(SV->state, S(SYN_SENT));
    ck_assert_int_eq(CL->state, S(SYN_RECEIVED));
    ck_assert_int_eq(SV->tl_count, 1);
    ck_assert_int_eq(SV->tl[0].from, S(CLOSED));
    feed(S2C, S(SYN) | S(ACK), 5000, 1001, 0);
    feed(C2S, S(SYN) | S(ACK), 1000, 5001, 0);
    ck_assert_int_eq(CL->state, S(ESTABLISHED));
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    ck_assert(conn.events & TCPST_EV_SIMUL_OPEN);
}
END_TEST

START_TEST(simultaneous_close)
{
    reset();
    handshake(100, 200);
    feed(C2S, S(FIN) | S(ACK), 101, 201, 0);
    ck_assert_int_eq(SV->state, S(CLOSE_WAIT)); /* provisional */
    feed(S2C, S(FIN) | S(ACK), 201, 101, 0);    /* does not ack the client's FIN: crossed */
    ck_assert_int_eq(SV->state, S(CLOSING));
    ck_assert_int_eq(CL->state, S(CLOSING));
    ck_assert(conn.events & TCPST_EV_SIMUL_CLOSE);
    feed(C2S, S(ACK), 102, 202, 0);
    feed(S2C, S(ACK), 202, 102, 0);
    ck_assert_int_eq(CL->state, S(TIME_WAIT));
    ck_assert_int_eq(SV->state, S(TIME_WAIT));
    const int ss[] = {S(LISTEN),     S(SYN_RECEIVED), S(ESTABLISHED),
                      S(FIN_WAIT_1), S(CLOSING),      S(TIME_WAIT)};
    const int si[] = {1, 0, 1, 0, 1, 1};
    expect_tl(SV, ss, si, 6);
}
END_TEST

START_TEST(refused)
{
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(S2C, S(RST) | S(ACK), 0, 1001, 0);
    ck_assert_int_eq(CL->state, S(CLOSED));
    ck_assert_int_eq(SV->state, S(CLOSED));
    ck_assert_uint_eq(conn.rst_not_accepted, 0);
    ck_assert(tcpst_conn_terminated(&conn));
}
END_TEST

START_TEST(rst_in_syn_sent_needs_ack_of_syn)
{
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(S2C, S(RST) | S(ACK), 0, 4242, 0); /* acks nothing we sent */
    feed(S2C, S(RST), 0, 0, 0);             /* no ACK at all */
    ck_assert_int_eq(CL->state, S(SYN_SENT));
    ck_assert_uint_eq(conn.rst_not_accepted, 2);
}
END_TEST

START_TEST(rst_acceptability_rfc5961)
{
    reset();
    handshake(100, 200);
    feed(C2S, S(ACK) | S(PSH), 101, 201, 100);
    feed(S2C, S(ACK), 201, 201, 0);
    /* Blind reset far outside the window: ignored. */
    feed(C2S, S(RST), 100000, 0, 0);
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    /* In-window but not RCV.NXT: RFC 5961 sends a challenge ACK, no reset. */
    feed(C2S, S(RST), 250, 0, 0);
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    ck_assert_uint_eq(conn.rst_not_accepted, 2);
    /* Exactly RCV.NXT: accepted, both CLOSED. */
    feed(C2S, S(RST) | S(ACK), 201, 201, 0);
    ck_assert_int_eq(CL->state, S(CLOSED));
    ck_assert_int_eq(SV->state, S(CLOSED));
    ck_assert_int_eq(CL->tl[CL->tl_count - 1].inferred, 0);
    ck_assert_int_eq(SV->tl[SV->tl_count - 1].inferred, 1);
}
END_TEST

START_TEST(rst_with_data_in_flight)
{
    reset();
    handshake(100, 200);
    /* Data not yet acknowledged, then an abortive close: RST seq = SND.NXT. */
    feed(C2S, S(ACK) | S(PSH), 101, 201, 500);
    feed(C2S, S(RST) | S(ACK), 601, 201, 0);
    ck_assert_int_eq(SV->state, S(CLOSED));
}
END_TEST

START_TEST(rst_in_syn_received_returns_to_listen)
{
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(S2C, S(SYN) | S(ACK), 5000, 1001, 0);
    feed(C2S, S(RST), 1001, 0, 0);
    ck_assert_int_eq(CL->state, S(CLOSED));
    ck_assert_int_eq(SV->state, S(LISTEN));
}
END_TEST

/* RFC 9293 3.5.1 figure 10: the server answers the SYN with an ACK of an older connection;
 * the client's <SEQ=SEG.ACK><CTL=RST> ends that one and leaves it in SYN_SENT (3.10.7.3). */
START_TEST(rst_from_syn_sent_at_stale_ack)
{
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(S2C, S(ACK), 7000, 3000, 0);
    feed(C2S, S(RST), 3000, 0, 0);
    ck_assert(conn.events & TCPST_EV_RST_STALE);
    ck_assert(!(conn.events & TCPST_EV_RST_ACCEPTED));
    ck_assert_int_eq(CL->state, S(SYN_SENT));
    ck_assert(!(CL->has & TCPST_EP_RST));
    ck_assert_int_eq(SV->state, S(LISTEN));
    /* The old connection's numbers are gone with it. */
    ck_assert(!(SV->has & (TCPST_EP_NEXT | TCPST_EP_ACK)));
    ck_assert_uint_eq(conn.rst_not_accepted, 0);
    ck_assert(!tcpst_conn_terminated(&conn));
    tcpst_segment again = mkseg(C2S, S(SYN), 1000, 0, 0);
    ck_assert(!tcpst_conn_syn_starts_new(&conn, 0, &again));
    feed(C2S, S(SYN), 1000, 0, 0); /* its SYN timer */
    ck_assert_uint_eq(CL->retrans_segments, 1);
    feed(S2C, S(SYN) | S(ACK), 9000, 1001, 0);
    ck_assert_uint_eq(SV->retrans_segments, 0);
    feed(C2S, S(ACK), 1001, 9001, 0);
    const int cs[] = {S(SYN_SENT), S(ESTABLISHED)};
    const int ci[] = {0, 1};
    expect_tl(CL, cs, ci, 2);
    const int ss[] = {S(LISTEN), S(SYN_RECEIVED), S(ESTABLISHED)};
    const int si[] = {1, 0, 1};
    expect_tl(SV, ss, si, 3);

    /* 3.5 figure 9: a SYN-ACK for an old duplicate SYN; the server returns to LISTEN. */
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(S2C, S(SYN) | S(ACK), 5000, 777, 0);
    feed(C2S, S(RST), 777, 0, 0);
    ck_assert_int_eq(CL->state, S(SYN_SENT));
    ck_assert_int_eq(SV->state, S(LISTEN));
    /* A RST at another number than the peer's ACK is judged as before. */
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(S2C, S(ACK), 7000, 3000, 0);
    feed(C2S, S(RST), 3001, 0, 0);
    ck_assert(!(conn.events & TCPST_EV_RST_STALE));
    ck_assert_int_eq(CL->state, S(CLOSED));
}
END_TEST

/* Linux drops a RST+ACK in SYN-SENT whose TSecr is not one of its TSvals (PAWS). */
START_TEST(rst_in_syn_sent_tsecr_not_sent)
{
    reset();
    feed_ts(C2S, S(SYN), 1000, 0, 500, 0);
    feed_ts(C2S, S(SYN), 1000, 0, 1500, 0); /* retry: its TSvals run 500..1500 */
    feed_ts(S2C, S(RST) | S(ACK), 0, 1001, 9, 100);
    ck_assert(conn.events & TCPST_EV_RST_IGNORED);
    ck_assert_int_eq(CL->state, S(SYN_SENT));
    ck_assert_int_eq(SV->state, S(LISTEN));
    ck_assert(!(SV->has & TCPST_EP_RST));
    ck_assert_uint_eq(conn.rst_not_accepted, 1);
    ck_assert_uint_eq(conn.rst.frame, 3);
    ck_assert_int_eq(conn.rst.reason, TCPST_RNA_TSECR_NOT_SENT);
    ck_assert_int_eq(conn.rst.state, S(SYN_SENT));
    feed_ts(S2C, S(RST) | S(ACK), 0, 1001, 9, 1501); /* beyond its clock: not sent either */
    ck_assert_int_eq(CL->state, S(SYN_SENT));
    ck_assert_uint_eq(conn.rst_not_accepted, 2);
    feed_ts(S2C, S(SYN) | S(ACK), 5000, 1001, 10, 1500);
    ck_assert_int_eq(CL->state, S(ESTABLISHED));

    /* An echo of a TSval it sent, or none (TSecr 0), and the RST is taken. */
    for (uint32_t tsecr = 0; tsecr <= 1000; tsecr += 1000) {
        reset();
        feed_ts(C2S, S(SYN), 1000, 0, 500, 0);
        feed_ts(C2S, S(SYN), 1000, 0, 1500, 0);
        feed_ts(S2C, S(RST) | S(ACK), 0, 1001, 9, tsecr);
        ck_assert_int_eq(CL->state, S(CLOSED));
        ck_assert_uint_eq(conn.rst_not_accepted, 0);
    }
}
END_TEST

/* The client's ACK of a SYN-ACK sent after the RST shows it never took the RST. */
START_TEST(rst_ignored_proven_by_ack_of_later_segment)
{
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(S2C, S(RST) | S(ACK), 0, 1001, 0);
    ck_assert_int_eq(CL->state, S(CLOSED));
    feed(S2C, S(SYN) | S(ACK), 5000, 1001, 0);
    ck_assert_uint_eq(conn.rst_not_accepted, 0);
    feed(C2S, S(ACK), 1001, 5001, 0);
    ck_assert(conn.events & TCPST_EV_RST_IGNORED);
    ck_assert(!(conn.events & TCPST_EV_RST_ACCEPTED));
    ck_assert_uint_eq(conn.rst_not_accepted, 1);
    ck_assert_int_eq(conn.rst.reason, TCPST_RNA_PEER_WENT_ON);
    ck_assert_int_eq(CL->state, S(ESTABLISHED));
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    /* The client's CLOSED is withdrawn; the server had moved on since its RST. */
    const int cs[] = {S(SYN_SENT), S(ESTABLISHED)};
    const int ci[] = {0, 0};
    expect_tl(CL, cs, ci, 2);
    const int ss[] = {S(LISTEN), S(CLOSED), S(SYN_RECEIVED), S(ESTABLISHED)};
    const int si[] = {1, 0, 0, 1};
    expect_tl(SV, ss, si, 4);
}
END_TEST

/* The FINs crossed; a RST at the server's FIN, which the client had taken (RCV.NXT is one
 * past it), is ignored: the client repeats its FIN long after, acknowledging that FIN. */
START_TEST(rst_at_taken_fin_proven_by_fin_again)
{
    reset();
    handshake(100, 200); /* round trip at the capture point: 2 s */
    feed(C2S, S(ACK) | S(PSH), 101, 201, 10);
    feed(S2C, S(ACK), 201, 111, 0);
    feed(C2S, S(FIN) | S(ACK), 111, 201, 0);
    feed(S2C, S(FIN) | S(ACK), 201, 111, 0);
    ck_assert_int_eq(CL->state, S(CLOSING));
    feed(S2C, S(RST), 201, 0, 0);
    ck_assert_int_eq(CL->state, S(CLOSED));
    ck_assert_int_eq(SV->state, S(CLOSED));
    skip(10);
    feed(C2S, S(FIN) | S(ACK), 111, 202, 0);
    ck_assert(conn.events & TCPST_EV_RST_IGNORED);
    ck_assert_uint_eq(conn.rst_not_accepted, 1);
    ck_assert_int_eq(conn.rst.reason, TCPST_RNA_FIN_ALREADY_TAKEN);
    ck_assert_int_eq(conn.rst.state, S(CLOSING));
    ck_assert_int_eq(CL->state, S(CLOSING));
    /* Nothing came from the server after its RST: it is taken back there too. */
    ck_assert(!(SV->has & TCPST_EP_RST));
    ck_assert_int_eq(SV->state, S(TIME_WAIT));
    feed(S2C, S(ACK), 202, 112, 0);
    ck_assert_int_eq(CL->state, S(TIME_WAIT));
    ck_assert_int_eq(CL->tl[CL->tl_count - 2].to, S(CLOSING));
}
END_TEST

/* A segment crossing the RST (within a round trip) proves nothing, and a RST from the
 * receiver shows it had no connection: no later segment takes the RST back. */
START_TEST(rst_crossing_segment_proves_nothing)
{
    reset();
    handshake(100, 200);
    feed(C2S, S(RST) | S(ACK), 101, 201, 0);
    ck_assert_int_eq(SV->state, S(CLOSED));
    feed(S2C, S(ACK) | S(PSH), 201, 101, 10);
    ck_assert_int_eq(SV->state, S(CLOSED));
    ck_assert_uint_eq(conn.rst_not_accepted, 0);
    ck_assert_uint_eq(conn.rst.frame, 4);
    feed(S2C, S(RST), 211, 0, 0);
    ck_assert_uint_eq(conn.rst.frame, 0);
    skip(10);
    feed(S2C, S(ACK), 211, 101, 0);
    ck_assert_int_eq(SV->state, S(CLOSED));
    ck_assert(!(conn.events & TCPST_EV_RST_IGNORED));
    /* Nor does a late segment of another sequence space. */
    reset();
    handshake(100, 200);
    feed(C2S, S(RST) | S(ACK), 101, 201, 0);
    skip(10);
    feed(S2C, S(ACK), 900000, 101, 0);
    ck_assert_int_eq(SV->state, S(CLOSED));
    ck_assert_uint_eq(conn.rst_not_accepted, 0);
}
END_TEST

START_TEST(midstream_pickup)
{
    reset();
    /* First packet: server (port 80) to client, data. */
    feed(S2C, S(ACK) | S(PSH), 5000, 1000, 100);
    ck_assert(conn.roles_inferred);
    ck_assert_uint_eq(CL->port, 40000);
    ck_assert_uint_eq(SV->port, 80);
    ck_assert_int_eq(CL->state, S(ESTABLISHED));
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    ck_assert_int_eq(SV->tl[0].cause, TCPST_CAUSE_MIDSTREAM);
    ck_assert_int_eq(SV->tl[0].inferred, 1);
    feed(C2S, S(FIN) | S(ACK), 1000, 5100, 0);
    ck_assert_int_eq(CL->state, S(FIN_WAIT_1));
    ck_assert_int_eq(SV->state, S(CLOSE_WAIT));
}
END_TEST

START_TEST(synack_without_syn)
{
    reset();
    feed(S2C, S(SYN) | S(ACK), 5000, 1001, 0);
    ck_assert(conn.roles_inferred);
    ck_assert_uint_eq(SV->port, 80);
    ck_assert_int_eq(SV->state, S(SYN_RECEIVED));
    ck_assert_int_eq(CL->state, S(ESTABLISHED));
    ck_assert(CL->has & TCPST_EP_ISN_INFERRED);
    ck_assert_uint_eq(CL->isn, 1000);
    ck_assert_int_eq(CL->tl[0].to, S(SYN_SENT));
    ck_assert_int_eq(CL->tl[0].cause, TCPST_CAUSE_ACK_IMPLIED);
    feed(C2S, S(ACK), 1001, 5001, 0);
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
}
END_TEST

/* A Linux server with a full accept queue drops the final ACK and repeats its SYN-ACK:
 * it is in SYN_RECEIVED, not ESTABLISHED, until an ACK is taken. */
START_TEST(synack_after_ack_not_taken)
{
    reset();
    handshake(100, 900);
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    feed(C2S, S(ACK) | S(PSH), 101, 901, 10); /* the client believes it is connected */
    feed(S2C, S(SYN) | S(ACK), 900, 101, 0);  /* the SYN-ACK again */
    ck_assert_int_eq(SV->state, S(SYN_RECEIVED));
    ck_assert_int_eq(CL->state, S(ESTABLISHED));
    ck_assert(conn.events & TCPST_EV_ACK_NOT_TAKEN);
    ck_assert_ptr_nonnull(
        tcpst_findings_get(&conn.findings, TCPST_A_LISTEN_QUEUE_FULL, TCPST_WHO_SERVER));
    int sv[] = {S(LISTEN), S(SYN_RECEIVED)}, inf[] = {1, 0};
    expect_tl(SV, sv, inf, 2);
    feed(C2S, S(ACK), 111, 901, 0); /* the client's ACK of the repeat: taken this time */
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    feed(S2C, S(ACK), 901, 111, 0);
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    /* An ordinary SYN-ACK retransmission (no ACK came between) changes nothing. */
    reset();
    feed(C2S, S(SYN), 100, 0, 0);
    feed(S2C, S(SYN) | S(ACK), 900, 101, 0);
    feed(S2C, S(SYN) | S(ACK), 900, 101, 0);
    ck_assert_int_eq(SV->state, S(SYN_RECEIVED));
    ck_assert(!(conn.events & TCPST_EV_ACK_NOT_TAKEN));
}
END_TEST

START_TEST(synack_lost)
{
    reset();
    feed(C2S, S(SYN), 1000, 0, 0);
    feed(C2S, S(ACK), 1001, 7001, 0); /* the SYN-ACK was not captured */
    ck_assert_int_eq(CL->state, S(ESTABLISHED));
    ck_assert_int_eq(CL->tl[CL->tl_count - 1].inferred, 0);
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
    ck_assert_uint_eq(SV->isn, 7000);
}
END_TEST

START_TEST(fin_acked_but_not_captured)
{
    reset();
    handshake(100, 200);
    feed(S2C, S(ACK) | S(PSH), 201, 101, 10);
    /* The server's FIN at 211 is lost from the capture; the client acks it. */
    feed(C2S, S(ACK), 101, 212, 0);
    ck_assert_int_eq(SV->state, S(FIN_WAIT_2));
    ck_assert_int_eq(CL->state, S(CLOSE_WAIT));
    ck_assert_int_eq(SV->tl[SV->tl_count - 2].cause, TCPST_CAUSE_ACK_IMPLIED);
    ck_assert_int_eq(CL->tl[CL->tl_count - 1].inferred, 0);
}
END_TEST

START_TEST(retransmissions_and_wrap)
{
    reset();
    uint32_t isn = 0xFFFFFFF0u; /* the sequence space wraps during the transfer */
    feed(C2S, S(SYN), isn, 0, 0);
    feed(C2S, S(SYN), isn, 0, 0); /* SYN retransmitted */
    ck_assert_uint_eq(CL->retrans_segments, 1);
    ck_assert_int_eq(CL->tl_count, 1);
    feed(S2C, S(SYN) | S(ACK), 300, isn + 1, 0);
    feed(C2S, S(ACK), isn + 1, 301, 0);
    feed(C2S, S(ACK) | S(PSH), isn + 1, 301, 100); /* crosses 2^32 */
    feed(C2S, S(ACK) | S(PSH), isn + 1, 301, 100); /* retransmission across the wrap */
    feed(C2S, S(ACK) | S(PSH), isn + 101, 301, 100);
    ck_assert_uint_eq(CL->retrans_segments, 2);
    ck_assert_uint_eq(CL->retrans_bytes, 100);
    ck_assert_uint_eq(CL->next_seq, isn + 201);
    feed(C2S, S(FIN) | S(ACK), isn + 201, 301, 0);
    feed(C2S, S(FIN) | S(ACK), isn + 201, 301, 0); /* FIN retransmitted */
    ck_assert_uint_eq(CL->retrans_segments, 3);
    ck_assert_int_eq(CL->state, S(FIN_WAIT_1));
    ck_assert_int_eq(SV->state, S(CLOSE_WAIT));
    feed(S2C, S(ACK), 301, isn + 202, 0);
    ck_assert_int_eq(CL->state, S(FIN_WAIT_2));
}
END_TEST

START_TEST(keepalive_is_not_retransmission)
{
    reset();
    handshake(100, 200);
    feed(C2S, S(ACK), 100, 201, 0);       /* SND.NXT-1, zero bytes */
    feed(C2S, S(ACK), 100, 201, 1);       /* SND.NXT-1, one garbage byte */
    ck_assert_uint_eq(CL->keepalives, 2); /* both, as the keepalive finding counts them */
    ck_assert_uint_eq(CL->retrans_segments, 0);
}
END_TEST

START_TEST(illegal_flags_change_nothing)
{
    reset();
    handshake(100, 200);
    feed(C2S, S(SYN) | S(FIN), 101, 0, 0);
    feed(C2S, S(SYN) | S(RST), 101, 0, 0);
    ck_assert_int_eq(CL->state, S(ESTABLISHED));
    ck_assert_int_eq(SV->state, S(ESTABLISHED));
}
END_TEST

START_TEST(state_names)
{
    ck_assert_str_eq(tcpst_state_name(TCPST_FIN_WAIT_1), "FIN_WAIT_1");
    ck_assert_int_eq(tcpst_state_parse("TIME_WAIT"), TCPST_TIME_WAIT);
    ck_assert_int_eq(tcpst_state_parse("TIME-WAIT"), -1);
}
END_TEST

/* ---- engine: record splitting, expiry, eviction ---- */

static tcpst_conn emitted[16];
static tcpst_finding emitted_findings[16][TCPST_FINDINGS_MAX];
static int nemitted;

static void collect(void *ctx, const tcpst_conn *c)
{
    (void)ctx;
    if (nemitted < 16) {
        emitted[nemitted] = *c; /* c is valid during the call only: its findings too */
        tcpst_findings_copy_to(&emitted[nemitted].findings, &c->findings,
                               emitted_findings[nemitted]);
    }
    nemitted++;
}

static void eng_feed(tcpst_engine *e, int c2s, uint16_t flags, uint32_t seq, uint32_t ack,
                     tcpst_time ts, uint16_t cport)
{
    tcpst_segment s = mkseg(c2s, flags, seq, ack, 0);
    if (c2s) {
        s.sport = cport;
    } else {
        s.dport = cport;
    }
    e->now = ts > e->now ? ts : e->now;
    tcpst_engine_segment(e, &s, ts, ++frame);
}

static void eng_start_soft(tcpst_engine *e, uint32_t maxc, uint32_t soft)
{
    tcpst_engine_config cfg;
    tcpst_engine_config_default(&cfg);
    cfg.max_connections = maxc;
    cfg.soft_connections = soft;
    nemitted = 0;
    frame = 0;
    ck_assert_int_eq(test_engine_init(e, &cfg, collect, NULL), 0);
}

static void eng_start(tcpst_engine *e, uint32_t maxc)
{
    eng_start_soft(e, maxc, 0);
}

static void eng_full_conn(tcpst_engine *e, uint32_t cisn, tcpst_time t0, uint16_t port)
{
    eng_feed(e, C2S, S(SYN), cisn, 0, t0, port);
    eng_feed(e, S2C, S(SYN) | S(ACK), 9000, cisn + 1, t0 + 1, port);
    eng_feed(e, C2S, S(ACK), cisn + 1, 9001, t0 + 2, port);
    eng_feed(e, C2S, S(FIN) | S(ACK), cisn + 1, 9001, t0 + 3, port);
    eng_feed(e, S2C, S(FIN) | S(ACK), 9001, cisn + 2, t0 + 4, port);
    eng_feed(e, C2S, S(ACK), cisn + 2, 9002, t0 + 5, port);
}

START_TEST(port_reuse_starts_new_record)
{
    tcpst_engine e;
    eng_start(&e, 64);
    eng_full_conn(&e, 1000, 1 * SEC, 40000);
    /* New ISN while the client is in TIME_WAIT: a new connection. */
    eng_feed(&e, C2S, S(SYN), 777777, 0, 3 * SEC, 40000);
    ck_assert_uint_eq(e.stats.connections, 2);
    ck_assert_int_eq(nemitted, 1);
    ck_assert_uint_eq(emitted[0].id, 1);
    ck_assert_int_eq(emitted[0].end_reason, TCPST_END_REUSED);
    /* Its new SYN shows the client's old TCB is gone: TIME_WAIT ended at that frame. */
    ck_assert_int_eq(emitted[0].ep[0].state, TCPST_CLOSED);
    const tcpst_transition *last = &emitted[0].ep[0].tl[emitted[0].ep[0].tl_count - 1];
    ck_assert_int_eq(last->from, TCPST_TIME_WAIT);
    ck_assert_int_eq(last->cause, TCPST_CAUSE_NEW_SYN);
    ck_assert_int_eq(last->inferred, 0);
    ck_assert_uint_eq(last->frame, frame);
    /* Refused, then the same SYN again (Windows retries so): a second attempt. */
    eng_feed(&e, S2C, S(RST) | S(ACK), 0, 777778, 4 * SEC, 40000);
    eng_feed(&e, C2S, S(SYN), 777777, 0, 5 * SEC, 40000);
    ck_assert_uint_eq(e.stats.connections, 3);
    /* While the attempt is open, a retransmitted SYN stays with it. */
    eng_feed(&e, C2S, S(SYN), 777777, 0, 6 * SEC, 40000);
    ck_assert_uint_eq(e.stats.connections, 3);
    tcpst_engine_finish(&e);
    ck_assert_int_eq(nemitted, 3);
    ck_assert_uint_eq(emitted[2].id, 3);
    ck_assert_int_eq(emitted[2].ep[0].state, TCPST_SYN_SENT);
    ck_assert_uint_eq(emitted[2].ep[0].retrans_segments, 1);
    ck_assert_int_eq(emitted[2].end_reason, TCPST_END_CAPTURE_END);
    tcpst_engine_fini(&e);
}
END_TEST

/* The client's RST to a stale ACK ends the server's old connection, not the attempt: the
 * SYN again is its retransmission in the same record, not a new connection (port_reuse). */
START_TEST(stale_ack_rst_keeps_one_record)
{
    tcpst_engine e;
    eng_start(&e, 64);
    eng_feed(&e, C2S, S(SYN), 1000, 0, 1 * SEC, 40000);
    eng_feed(&e, S2C, S(ACK), 7000, 3000, 1 * SEC + 1, 40000);
    eng_feed(&e, C2S, S(RST), 3000, 0, 1 * SEC + 2, 40000);
    eng_feed(&e, C2S, S(SYN), 1000, 0, 2 * SEC, 40000);
    eng_feed(&e, S2C, S(SYN) | S(ACK), 9000, 1001, 2 * SEC + 1, 40000);
    eng_feed(&e, C2S, S(ACK), 1001, 9001, 2 * SEC + 2, 40000);
    ck_assert_uint_eq(e.stats.connections, 1);
    tcpst_engine_finish(&e);
    ck_assert_int_eq(nemitted, 1);
    tcpst_conn *c = &emitted[0];
    ck_assert_int_eq(c->ep[0].state, TCPST_ESTABLISHED);
    ck_assert_int_eq(c->ep[1].state, TCPST_ESTABLISHED);
    ck_assert_uint_eq(c->ep[0].retrans_segments, 1);
    const tcpst_finding *f = tcpst_findings_get(&c->findings, TCPST_A_HALF_OPEN, TCPST_WHO_SERVER);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->fact[0], TCPST_HOR_ACK_TO_SYN);
    ck_assert_ptr_null(tcpst_findings_get(&c->findings, TCPST_A_PORT_REUSE, TCPST_WHO_CLIENT));
    ck_assert_ptr_null(
        tcpst_findings_get(&c->findings, TCPST_A_CONNECTION_RESET, TCPST_WHO_CLIENT));
    tcpst_engine_fini(&e);
}
END_TEST

/* The server closed first and sits in TIME_WAIT: a new SYN from the client beyond what
 * the server received is taken as a new connection (RFC 6191); one below it is not. */
START_TEST(time_wait_takes_a_new_syn)
{
    for (int beyond = 0; beyond < 2; beyond++) {
        tcpst_engine e;
        eng_start(&e, 64);
        uint32_t cisn = 5000;
        eng_feed(&e, C2S, S(SYN), cisn, 0, 1 * SEC, 40001);
        eng_feed(&e, S2C, S(SYN) | S(ACK), 9000, cisn + 1, 1 * SEC + 1, 40001);
        eng_feed(&e, C2S, S(ACK), cisn + 1, 9001, 1 * SEC + 2, 40001);
        eng_feed(&e, S2C, S(FIN) | S(ACK), 9001, cisn + 1, 1 * SEC + 3, 40001);
        eng_feed(&e, C2S, S(FIN) | S(ACK), cisn + 1, 9002, 1 * SEC + 4, 40001);
        eng_feed(&e, S2C, S(ACK), 9002, cisn + 2, 1 * SEC + 5, 40001);
        eng_feed(&e, C2S, S(SYN), beyond ? cisn + 100000 : cisn - 100000, 0, 2 * SEC, 40001);
        ck_assert_int_eq(nemitted, 1);
        const tcpst_endpoint *sv = &emitted[0].ep[1];
        if (beyond) {
            ck_assert_int_eq(sv->state, TCPST_CLOSED);
            ck_assert_int_eq(sv->tl[sv->tl_count - 1].cause, TCPST_CAUSE_NEW_SYN);
            ck_assert_int_eq(sv->tl[sv->tl_count - 1].inferred, 1);
            ck_assert_uint_eq(sv->tl[sv->tl_count - 1].frame, frame);
        } else {
            ck_assert_int_eq(sv->state, TCPST_TIME_WAIT);
        }
        tcpst_engine_fini(&e);
    }
}
END_TEST

START_TEST(zeek_split_mode)
{
    /* An unanswered SYN retried after Zeek's 5 s attempt timer: one RFC record, two rows. */
    for (int zeek = 0; zeek < 2; zeek++) {
        tcpst_engine e;
        tcpst_engine_config cfg;
        tcpst_engine_config_default(&cfg);
        cfg.split_zeek = zeek;
        nemitted = 0;
        frame = 0;
        ck_assert_int_eq(test_engine_init(&e, &cfg, collect, NULL), 0);
        eng_feed(&e, C2S, S(SYN), 1000, 0, 1 * SEC, 40000);
        eng_feed(&e, C2S, S(SYN), 1000, 0, 2 * SEC, 40000);
        eng_feed(&e, C2S, S(SYN), 1000, 0, 10 * SEC, 40000);
        tcpst_engine_finish(&e);
        ck_assert_int_eq(nemitted, zeek ? 2 : 1);
        if (zeek) {
            ck_assert_int_eq(emitted[0].end_reason, TCPST_END_ZEEK);
            ck_assert_str_eq(tcpst_zeek_conn_state(&emitted[0].zeek), "S0");
        }
        tcpst_engine_fini(&e);
    }
}
END_TEST

START_TEST(new_isn_on_unanswered_attempt)
{
    tcpst_engine e;
    eng_start(&e, 64);
    eng_feed(&e, C2S, S(SYN), 1000, 0, 1 * SEC, 40000);
    eng_feed(&e, C2S, S(SYN), 1000, 0, 2 * SEC, 40000);
    eng_feed(&e, C2S, S(SYN), 2000, 0, 3 * SEC, 40000);
    ck_assert_uint_eq(e.stats.connections, 2);
    ck_assert_uint_eq(e.stats.reused, 1);
    tcpst_engine_finish(&e);
    tcpst_engine_fini(&e);
}
END_TEST

START_TEST(idle_expiry_and_time_wait_close)
{
    tcpst_engine e;
    eng_start(&e, 64);
    eng_full_conn(&e, 1000, 1 * SEC, 40000);
    eng_feed(&e, C2S, S(SYN), 5, 0, 2 * SEC, 40001); /* unanswered */
    /* 400 s later: the terminated one (60 s) and the attempt (300 s) are due. */
    tcpst_engine_packet(&e, -1, (const uint8_t *)"", 0, 0, 400 * SEC, 99); /* clock tick */
    ck_assert_int_eq(nemitted, 2);
    ck_assert_uint_eq(emitted[0].id, 1);
    ck_assert_int_eq(emitted[0].end_reason, TCPST_END_CLOSED);
    ck_assert_int_eq(emitted[0].ep[0].state, TCPST_CLOSED); /* TIME_WAIT ran out */
    ck_assert_int_eq(emitted[1].end_reason, TCPST_END_IDLE);
    ck_assert_int_eq(emitted[1].ep[0].state, TCPST_SYN_SENT);
    ck_assert_uint_eq(e.stats.idle_expired, 1);
    ck_assert_uint_eq(e.stats.closed, 1);
    tcpst_engine_fini(&e);
}
END_TEST

static void eng_established(tcpst_engine *e, uint32_t cisn, tcpst_time t0, uint16_t port)
{
    eng_feed(e, C2S, S(SYN), cisn, 0, t0, port);
    eng_feed(e, S2C, S(SYN) | S(ACK), 9000, cisn + 1, t0 + 1, port);
    eng_feed(e, C2S, S(ACK), cisn + 1, 9001, t0 + 2, port);
}

START_TEST(full_table_writes_finished_connection_first)
{
    /* The closed connection was seen last, yet it goes before the older half-open one:
     * its record is complete. */
    tcpst_engine e;
    eng_start(&e, 2);
    eng_feed(&e, C2S, S(SYN), 1, 0, 1 * SEC, 40001);
    eng_full_conn(&e, 500, 2 * SEC, 40002);
    eng_feed(&e, C2S, S(SYN), 1, 0, 3 * SEC, 40003);
    ck_assert_int_eq(nemitted, 1);
    ck_assert_uint_eq(emitted[0].ep[0].port, 40002);
    ck_assert_int_eq(emitted[0].end_reason, TCPST_END_CLOSED);
    ck_assert_int_eq(emitted[0].ep[0].state, TCPST_TIME_WAIT); /* as of now: no timer yet */
    ck_assert_uint_eq(e.stats.closed, 1);
    ck_assert_uint_eq(e.stats.closed_early, 1);
    ck_assert_uint_eq(e.stats.evicted, 0);
    tcpst_engine_fini(&e);
}
END_TEST

START_TEST(soft_limit_spares_established)
{
    /* Above the soft limit a half-open record makes room, an older established one stays;
     * with only established ones left the table grows past the soft limit. */
    tcpst_engine e;
    eng_start_soft(&e, 8, 2);
    eng_established(&e, 100, 1 * SEC, 40001);
    eng_feed(&e, C2S, S(SYN), 1, 0, 2 * SEC, 40002);
    eng_feed(&e, C2S, S(SYN), 1, 0, 3 * SEC, 40003);
    ck_assert_int_eq(nemitted, 1);
    ck_assert_uint_eq(emitted[0].ep[0].port, 40002);
    ck_assert_int_eq(emitted[0].end_reason, TCPST_END_EVICTED);
    eng_established(&e, 200, 4 * SEC, 40011);
    eng_established(&e, 300, 5 * SEC, 40012);
    ck_assert_int_eq(nemitted, 2); /* the half-open 40003 made room */
    eng_established(&e, 400, 6 * SEC, 40013);
    ck_assert_int_eq(nemitted, 2);
    ck_assert_uint_eq(e.ft.live, 4);
    ck_assert_uint_eq(e.stats.evicted, 2);
    /* At the hard limit an established record goes too: the least recently seen. */
    tcpst_engine_fini(&e);
    eng_start_soft(&e, 2, 1);
    eng_established(&e, 100, 1 * SEC, 40001);
    eng_established(&e, 200, 2 * SEC, 40002);
    eng_feed(&e, C2S, S(SYN), 1, 0, 3 * SEC, 40003);
    ck_assert_int_eq(nemitted, 1);
    ck_assert_uint_eq(emitted[0].ep[0].port, 40001);
    ck_assert_int_eq(emitted[0].end_reason, TCPST_END_EVICTED);
    tcpst_engine_fini(&e);
}
END_TEST

START_TEST(soft_limit_keeps_fresh_handshakes)
{
    /* A handshake in progress is not cut to stay under the soft limit: only one unanswered for
     * as long as syn_unanswered waits (3 s), unless half-open records fill a quarter of it. */
    tcpst_engine e;
    eng_start_soft(&e, 64, 8);
    for (uint16_t i = 0; i < 7; i++) {
        eng_established(&e, 100u * i, (1 + i) * SEC, (uint16_t)(41000 + i));
    }
    eng_feed(&e, C2S, S(SYN), 1, 0, 10 * SEC, 42000);
    eng_feed(&e, C2S, S(SYN), 1, 0, 10 * SEC + SEC / 2, 42001); /* 42000 is fresh: grow */
    ck_assert_int_eq(nemitted, 0);
    ck_assert_uint_eq(e.ft.live, 9);
    eng_feed(&e, C2S, S(SYN), 1, 0, 13 * SEC + SEC / 5, 42002); /* 42000 waited 3.2 s */
    ck_assert_int_eq(nemitted, 1);
    ck_assert_uint_eq(emitted[0].ep[0].port, 42000);
    ck_assert_int_eq(emitted[0].end_reason, TCPST_END_EVICTED);
    /* 42001 waited 2.8 s only, but half-open records are now 2 of a soft limit of 8: a
     * flood, so the oldest goes. */
    eng_feed(&e, C2S, S(SYN), 1, 0, 13 * SEC + 3 * SEC / 10, 42003);
    ck_assert_int_eq(nemitted, 2);
    ck_assert_uint_eq(emitted[1].ep[0].port, 42001);
    tcpst_engine_fini(&e);
}
END_TEST

START_TEST(soft_limit_from_memory)
{
    ck_assert_uint_eq(tcpst_engine_soft_limit(0), 0);
    ck_assert_uint_eq(tcpst_engine_soft_limit(TCPST_MEMORY_OVERHEAD_MIB), 0);
    uint32_t d = tcpst_engine_soft_limit(TCPST_DEFAULT_MEMORY_MIB);
    ck_assert_uint_ge(d, TCPST_MIN_SOFT_CONNECTIONS);
    /* The table's share of the default, counted with a findings block per record. */
    ck_assert_uint_le((uint64_t)d * tcpst_engine_record_bytes(),
                      (uint64_t)(TCPST_DEFAULT_MEMORY_MIB - TCPST_MEMORY_OVERHEAD_MIB) << 20);
    ck_assert_uint_gt(tcpst_engine_soft_limit(2 * TCPST_DEFAULT_MEMORY_MIB), 2 * d);
    ck_assert_uint_eq(tcpst_engine_soft_limit(UINT64_C(1) << 30), TCPST_MAX_MAX_CONNECTIONS);
    /* The least accepted --memory holds the least table; one MiB less is refused. */
    uint64_t min = tcpst_engine_min_memory_mib();
    ck_assert_uint_ge(tcpst_engine_soft_limit(min), TCPST_MIN_SOFT_CONNECTIONS);
    ck_assert_uint_eq(tcpst_engine_soft_limit(min - 1), 0);
}
END_TEST

START_TEST(eviction_when_full)
{
    tcpst_engine e;
    eng_start(&e, 2);
    eng_feed(&e, C2S, S(SYN), 1, 0, 1 * SEC, 40001);
    eng_feed(&e, C2S, S(SYN), 1, 0, 2 * SEC, 40002);
    eng_feed(&e, C2S, S(SYN), 1, 0, 3 * SEC, 40003);
    ck_assert_uint_eq(e.stats.evicted, 1);
    ck_assert_int_eq(nemitted, 1);
    ck_assert_uint_eq(emitted[0].ep[0].port, 40001); /* least recently seen */
    ck_assert_int_eq(emitted[0].end_reason, TCPST_END_EVICTED);
    tcpst_engine_finish(&e);
    ck_assert_int_eq(nemitted, 3);
    ck_assert_uint_eq(emitted[1].id, 2);
    ck_assert_uint_eq(emitted[2].id, 3);
    ck_assert(e.ft.probes <= e.ft.lookups * 2);
    tcpst_engine_fini(&e);
}
END_TEST

START_TEST(many_connections_hash_chains_stay_short)
{
    tcpst_engine e;
    eng_start(&e, 1u << 14);
    for (uint32_t i = 0; i < 10000; i++) {
        eng_feed(&e, C2S, S(SYN), i, 0, (tcpst_time)i, (uint16_t)(1024 + i));
    }
    ck_assert_uint_eq(e.stats.connections, 10000);
    ck_assert_uint_eq(e.ft.live, 10000);
    /* Load <= 0.5: average chain steps per lookup must stay near 1. */
    ck_assert_msg((double)e.ft.probes / (double)e.ft.lookups < 1.5, "probes/lookup %f",
                  (double)e.ft.probes / (double)e.ft.lookups);
    tcpst_engine_finish(&e);
    ck_assert_int_eq(nemitted, 10000);
    tcpst_engine_fini(&e);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conn");
    TCase *t = tcase_create("states");
    tcase_add_test(t, normal_close_by_client);
    tcase_add_test(t, normal_close_by_server);
    tcase_add_test(t, close_wait_never_closes);
    tcase_add_test(t, half_close_data_after_fin);
    tcase_add_test(t, simultaneous_open);
    tcase_add_test(t, simultaneous_close);
    tcase_add_test(t, refused);
    tcase_add_test(t, rst_in_syn_sent_needs_ack_of_syn);
    tcase_add_test(t, rst_acceptability_rfc5961);
    tcase_add_test(t, rst_with_data_in_flight);
    tcase_add_test(t, rst_in_syn_received_returns_to_listen);
    tcase_add_test(t, rst_from_syn_sent_at_stale_ack);
    tcase_add_test(t, rst_in_syn_sent_tsecr_not_sent);
    tcase_add_test(t, rst_ignored_proven_by_ack_of_later_segment);
    tcase_add_test(t, rst_at_taken_fin_proven_by_fin_again);
    tcase_add_test(t, rst_crossing_segment_proves_nothing);
    tcase_add_test(t, midstream_pickup);
    tcase_add_test(t, synack_without_syn);
    tcase_add_test(t, synack_after_ack_not_taken);
    tcase_add_test(t, synack_lost);
    tcase_add_test(t, fin_acked_but_not_captured);
    tcase_add_test(t, retransmissions_and_wrap);
    tcase_add_test(t, keepalive_is_not_retransmission);
    tcase_add_test(t, illegal_flags_change_nothing);
    tcase_add_test(t, state_names);
    suite_add_tcase(s, t);
    TCase *en = tcase_create("engine");
    tcase_add_test(en, port_reuse_starts_new_record);
    tcase_add_test(en, stale_ack_rst_keeps_one_record);
    tcase_add_test(en, time_wait_takes_a_new_syn);
    tcase_add_test(en, zeek_split_mode);
    tcase_add_test(en, new_isn_on_unanswered_attempt);
    tcase_add_test(en, idle_expiry_and_time_wait_close);
    tcase_add_test(en, eviction_when_full);
    tcase_add_test(en, full_table_writes_finished_connection_first);
    tcase_add_test(en, soft_limit_spares_established);
    tcase_add_test(en, soft_limit_keeps_fresh_handshakes);
    tcase_add_test(en, soft_limit_from_memory);
    tcase_add_test(en, many_connections_hash_chains_stay_short);
    suite_add_tcase(s, en);
    return s;
}

int main(void)
{
    return ckrun(suite());
}
