/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_zeekcompat.c - Zeek conn_state, history, direction, packet counts and
 * record boundaries, fed with hand-filled segments (no frames).
 *
 * Endpoint 0 ("A") is 198.18.0.1:40000, endpoint 1 ("B") is 198.18.0.2 on
 * port_b (5555, not a likely server port, unless a test sets 80).  A's ISN is
 * 1000 and B's 5000 throughout.  Expected strings follow Zeek's documented
 * behaviour (docs/zeek-compat.md); several are Zeek baselines from the corpus.
 */
#include <arpa/inet.h>
#include <check.h>

#include "ckrun.h"
#include <string.h>

#include "tcpstate/zeekcompat.h"

#define SEC TCPST_NS_PER_SEC
#define A   0u
#define B   1u
#define S   TCPST_SYN
#define F   TCPST_FIN
#define R   TCPST_RST
#define P   TCPST_PSH
#define K   TCPST_ACK

static tcpst_zeek z;
static uint16_t port_b;
static tcpst_time now;
static uint16_t window;

static void setup(void)
{
    tcpst_zeek_init(&z);
    port_b = 5555;
    now = 1000 * SEC;
    window = 8192;
}

static tcpst_segment mkseg(unsigned from, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    tcpst_segment s;
    memset(&s, 0, sizeof s);
    tcpst_addr a = {.family = 4}, b = {.family = 4};
    inet_pton(AF_INET, "198.18.0.1", a.bytes);
    inet_pton(AF_INET, "198.18.0.2", b.bytes);
    s.src = from == A ? a : b;
    s.dst = from == A ? b : a;
    s.sport = from == A ? 40000 : port_b;
    s.dport = from == A ? port_b : 40000;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = window;
    s.payload_len = len;
    s.payload_caplen = len;
    s.ip_version = 4;
    s.ip_len = 40 + len;
    s.tcp_hlen = 20;
    return s;
}

/* One segment 10 ms after the previous one. */
static void feed(unsigned from, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    now += SEC / 100;
    tcpst_segment s = mkseg(from, flags, seq, ack, len);
    tcpst_zeek_update_ts(&z, from, &s, now);
}

/* Would Zeek split before this segment, sent `after` ns after the previous one? */
static tcpst_zeek_split split_after(tcpst_time after, unsigned from, uint16_t flags, uint32_t seq,
                                    uint32_t ack, uint32_t len)
{
    tcpst_segment s = mkseg(from, flags, seq, ack, len);
    return tcpst_zeek_check_split(&z, from, &s, now + after);
}

static void handshake(void)
{
    feed(A, S, 1000, 0, 0);
    feed(B, S | K, 5000, 1001, 0);
    feed(A, K, 1001, 5001, 0);
}

#define ck_state(st) ck_assert_str_eq(tcpst_zeek_conn_state(&z), (st))
#define ck_hist(h)   ck_assert_str_eq(z.hist, (h))

/* ---- every conn_state value ---- */

START_TEST(state_s0)
{
    feed(A, S, 1000, 0, 0);
    feed(A, S, 1000, 0, 0); /* retransmission: same ISN, no new letter */
    ck_hist("S");
    ck_state("S0");
    ck_assert_uint_eq(tcpst_zeek_orig_pkts(&z), 2);
    ck_assert_uint_eq(tcpst_zeek_resp_pkts(&z), 0);
    ck_assert_uint_eq(z.orig, A);
}
END_TEST

START_TEST(state_s1)
{
    handshake();
    feed(A, P | K, 1001, 5001, 100);
    feed(B, K, 5001, 1101, 0);
    feed(B, P | K, 5001, 1101, 200);
    feed(A, K, 1101, 5201, 0);
    ck_hist("ShADad");
    ck_state("S1");
}
END_TEST

START_TEST(state_sf)
{
    handshake();
    feed(A, P | K, 1001, 5001, 100);
    feed(B, K, 5001, 1101, 0);
    feed(B, P | K, 5001, 1101, 200);
    feed(A, F | K, 1101, 5201, 0);
    feed(B, F | K, 5201, 1102, 0);
    feed(A, K, 1102, 5202, 0);
    ck_hist("ShADadFf");
    ck_state("SF");
    ck_assert_uint_eq(tcpst_zeek_orig_pkts(&z), 5);
    ck_assert_uint_eq(tcpst_zeek_resp_pkts(&z), 4);
}
END_TEST

START_TEST(state_sf_rst_after_fins)
{
    handshake();
    feed(A, F | K, 1001, 5001, 0);
    feed(B, F | K, 5001, 1002, 0);
    feed(B, R, 5002, 0, 0); /* a RST after a full FIN exchange changes nothing */
    ck_hist("ShAFfr");
    ck_state("SF");
}
END_TEST

START_TEST(state_rej)
{
    feed(A, S, 1000, 0, 0);
    feed(B, R | K, 0, 1001, 0);
    ck_hist("Sr");
    ck_state("REJ");
}
END_TEST

START_TEST(state_s2_s3)
{
    handshake();
    feed(A, F | K, 1001, 5001, 0);
    ck_hist("ShAF");
    ck_state("S2");
    setup();
    handshake();
    feed(B, F | K, 5001, 1001, 0);
    ck_hist("ShAf");
    ck_state("S3");
}
END_TEST

START_TEST(state_rsto_rstr)
{
    handshake();
    feed(A, R | K, 1001, 5001, 0);
    ck_hist("ShAR");
    ck_state("RSTO");
    setup();
    handshake();
    feed(B, R | K, 5001, 1001, 0);
    ck_hist("ShAr");
    ck_state("RSTR");
}
END_TEST

START_TEST(state_rstos0)
{
    feed(A, S, 1000, 0, 0);
    feed(A, R, 1001, 0, 0);
    ck_hist("SR");
    ck_state("RSTOS0");
    /* A responder ACK before any SYN-ACK is not activity; 'a' keeps the pattern. */
    setup();
    feed(A, S, 1000, 0, 0);
    feed(B, K, 5000, 1001, 0);
    feed(A, R, 1001, 0, 0);
    ck_hist("SaR");
    ck_state("RSTOS0");
    ck_assert_uint_eq(z.state[B], TCPST_Z_INACTIVE);
}
END_TEST

START_TEST(state_syn_ack_fin_rst_is_oth)
{
    feed(A, S, 1000, 0, 0);
    feed(B, K, 5000, 1001, 0);
    feed(A, F | K, 1001, 5000, 0);
    feed(A, R, 1002, 0, 0);
    ck_hist("SaFR"); /* the F breaks the RSTOS0 pattern */
    ck_state("OTH");
}
END_TEST

START_TEST(state_rstrh_shr)
{
    port_b = 80; /* SYN-ACK from a likely server port: flipped at once */
    feed(B, S | K, 5000, 1001, 0);
    feed(B, R, 5001, 0, 0);
    ck_hist("^hr");
    ck_state("RSTRH");
    ck_assert_uint_eq(z.orig, A);
    setup();
    port_b = 80;
    feed(B, S | K, 5000, 1001, 0);
    feed(B, F | K, 5001, 1001, 0);
    ck_hist("^hf");
    ck_state("SHR");
}
END_TEST

START_TEST(state_sh)
{
    feed(A, S, 1000, 0, 0);
    feed(A, K, 1001, 5001, 0);
    feed(A, P | K, 1001, 5001, 50);
    feed(A, F | K, 1051, 5001, 0);
    ck_hist("SADF");
    ck_state("SH");
    ck_assert_uint_eq(z.state[A], TCPST_Z_CLOSED);
}
END_TEST

START_TEST(state_oth)
{
    feed(A, R, 1000, 0, 0);
    ck_hist("R"); /* a lone RST */
    ck_state("OTH");
    setup();
    feed(A, P | K, 1001, 5001, 10);
    feed(B, P | K, 5001, 1011, 10);
    ck_hist("Dd"); /* mid-stream, never closed */
    ck_state("OTH");
    feed(A, R | K, 1011, 5011, 0);
    ck_hist("DdR");
    ck_state("OTH"); /* the responder never left PARTIAL: not RSTO */
    setup();
    feed(A, P | K, 1001, 5001, 10);
    feed(A, R | K, 1011, 5001, 0);
    ck_hist("DR"); /* mid-stream RST from the originator, silent responder */
    ck_state("OTH");
}
END_TEST

/* ---- letters ---- */

START_TEST(letters_once_and_by_sequence)
{
    feed(A, S, 1000, 0, 0);
    feed(A, S, 1000, 0, 0);
    /* A new ISN from a side still in SYN_SENT restarts its numbering at the new
     * SYN, so Zeek sees the same relative position (and starts a new row). */
    feed(A, S, 3000, 0, 0);
    ck_hist("S");
    feed(B, S | K, 5000, 3001, 0);
    feed(B, S | K, 5000, 3001, 0);
    ck_hist("Sh");
    setup();
    handshake();
    for (int i = 0; i < 5; i++) {
        feed(A, P | K, 1001u + 10u * (uint32_t)i, 5001, 10);
        feed(B, K, 5001, 1011u + 10u * (uint32_t)i, 0);
    }
    ck_hist("ShADa");
    /* A FIN's position is after its payload: the bare retransmission is the same FIN. */
    feed(A, F | P | K, 1051, 5001, 10);
    feed(A, F | K, 1061, 5001, 0);
    ck_hist("ShADaF");
    feed(A, F | K, 1070, 5001, 0); /* a FIN somewhere else */
    ck_hist("ShADaFF");
    feed(B, R, 5001, 0, 0);
    feed(B, R, 5001, 0, 0);
    feed(B, R, 5009, 0, 0);
    ck_hist("ShADaFFrr");
}
END_TEST

START_TEST(letters_flag_combinations)
{
    feed(A, S | F, 1000, 0, 0);
    feed(A, S | R, 1000, 0, 0);
    feed(B, F | R | K, 5000, 1001, 0);
    feed(B, F | R | K, 5000, 1001, 0);
    ck_hist("Qi"); /* Q and I once per side; a flagless empty packet adds nothing */
    feed(A, 0, 1001, 0, 0);
    ck_hist("Qi");
}
END_TEST

START_TEST(letters_retransmission_logarithmic)
{
    handshake();
    feed(A, P | K, 1001, 5001, 100);
    feed(A, P | K, 1001, 5001, 100);
    ck_hist("ShADT");
    for (int i = 0; i < 8; i++) {
        feed(A, P | K, 1001, 5001, 100);
    }
    ck_hist("ShADT");               /* nine so far */
    feed(A, P | K, 1051, 5001, 50); /* tenth: ends inside what was seen */
    ck_hist("ShADTT");
    feed(A, P | K, 1101, 5001, 10); /* new data is no retransmission */
    ck_hist("ShADTT");
    ck_assert_uint_eq(z.ep[A].cnt[2], 10);
}
END_TEST

START_TEST(letters_zero_window)
{
    handshake();
    window = 0;
    feed(B, K, 5001, 1001, 0);
    ck_hist("ShAaw");
    feed(B, R, 5001, 0, 0); /* ignored with a RST ... */
    ck_hist("ShAawr");
    feed(B, K, 5001, 1001, 0); /* ... and after it */
    ck_hist("ShAawr");
    setup();
    handshake();
    feed(A, F | K, 1001, 5001, 0);
    window = 0;
    feed(B, K, 5001, 1002, 0); /* after the peer's FIN */
    ck_hist("ShAFa");
    feed(A, K, 1002, 5001, 0); /* a closed side's own zero window counts */
    ck_hist("ShAFaW");
}
END_TEST

START_TEST(letters_content_gap)
{
    handshake();
    feed(A, P | K, 1001, 5001, 100);
    feed(B, K, 5001, 1101, 0);
    ck_hist("ShADa");
    feed(B, K, 5001, 1301, 0); /* acknowledges 200 bytes never captured */
    ck_hist("ShADaG");
    feed(B, K, 5001, 1301, 0);
    ck_hist("ShADaG");
    /* A hole below captured data is reported when the ACK passes it. */
    feed(A, P | K, 1401, 5001, 100); /* 1301..1401 missing */
    feed(B, K, 5001, 1501, 0);
    ck_assert_uint_eq(z.ep[A].cnt[1], 2);
    /* A late copy of data already delivered is neither a gap nor new data. */
    feed(A, P | K, 1401, 5001, 100);
    ck_hist("ShADaGT");
}
END_TEST

START_TEST(letters_no_gap_unless_established)
{
    /* Mid-stream: both sides PARTIAL, so Zeek does not believe gaps. */
    feed(A, P | K, 1001, 5001, 100);
    feed(B, P | K, 5001, 1501, 100);
    ck_hist("Dd");
    ck_assert_uint_eq(z.state[A], TCPST_Z_PARTIAL);
}
END_TEST

START_TEST(letters_history_is_capped)
{
    for (uint32_t i = 0; i < 100; i++) {
        feed(A, R, 1000 + 7 * i, 0, 0); /* each RST at a new position adds an R */
    }
    ck_assert_uint_eq(z.hlen, TCPST_ZEEK_HIST_MAX);
    ck_assert_uint_eq(strlen(z.hist), TCPST_ZEEK_HIST_MAX);
    ck_assert_uint_eq(tcpst_zeek_orig_pkts(&z), 100);
}
END_TEST

/* ---- direction ---- */

START_TEST(flip_after_lone_syn_ack)
{
    feed(B, S | K, 5000, 1001, 0);
    ck_hist("H");
    ck_assert_uint_eq(z.orig, B);
    feed(A, K, 1001, 5001, 0);
    ck_hist("^hA");
    ck_assert_uint_eq(z.orig, A);
    feed(A, P | K, 1001, 5001, 10);
    feed(B, P | K, 5001, 1011, 10);
    ck_hist("^hADd");
    ck_assert_uint_eq(tcpst_zeek_orig_pkts(&z), 2);
    ck_assert_uint_eq(tcpst_zeek_resp_pkts(&z), 2);
}
END_TEST

START_TEST(flip_one_sided)
{
    /* Only the server is captured: SYN-ACK, ACK, FIN (Zeek baseline "^haf", 0/3). */
    feed(B, S | K, 5000, 1001, 0);
    feed(B, K, 5001, 1053, 0);
    feed(B, F | K, 5001, 1054, 0);
    ck_hist("^haf");
    ck_assert_uint_eq(tcpst_zeek_orig_pkts(&z), 0);
    ck_assert_uint_eq(tcpst_zeek_resp_pkts(&z), 3);
}
END_TEST

START_TEST(no_late_flip_on_rst)
{
    feed(B, S | K, 5000, 1001, 0);
    feed(A, R, 1001, 0, 0);
    ck_hist("Hr");
    ck_assert_uint_eq(z.orig, B);
}
END_TEST

START_TEST(flip_midstream_from_server_port)
{
    port_b = 80;
    feed(B, P | K, 5001, 1001, 100);
    ck_hist("^d");
    ck_assert_uint_eq(z.orig, A);
    feed(A, K, 1001, 5101, 0);
    ck_hist("^dA");
    ck_assert_uint_eq(tcpst_zeek_orig_pkts(&z), 1);
    ck_assert_uint_eq(tcpst_zeek_resp_pkts(&z), 1);
    /* From the client side it stays as it is. */
    setup();
    port_b = 80;
    feed(A, P | K, 1001, 5001, 100);
    ck_hist("D");
    ck_assert_uint_eq(z.orig, A);
}
END_TEST

START_TEST(no_flip_on_bare_syn_or_both_server_ports)
{
    port_b = 80;
    feed(B, S, 5000, 0, 0);
    ck_hist("S");
    ck_assert_uint_eq(z.orig, B);
    ck_assert(tcpst_zeek_likely_server_port(80));
    ck_assert(tcpst_zeek_likely_server_port(22));
    ck_assert(tcpst_zeek_likely_server_port(443));
    ck_assert(!tcpst_zeek_likely_server_port(5555));
    ck_assert(!tcpst_zeek_likely_server_port(40000));
}
END_TEST

START_TEST(likely_server_port_table)
{
    /* Full-mode Zeek's TCP likely_server_ports (docs/zeek-compat.md); all must be found. */
    static const uint16_t ports[] = {21,   22,   25,   53,   79,   80,   81,   88,   110,  135,
                                     139,  143,  389,  443,  445,  502,  563,  585,  587,  614,
                                     631,  636,  989,  990,  992,  993,  995,  1080, 1434, 1883,
                                     2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 6379, 6666,
                                     6667, 6668, 6669, 8000, 8080, 8888, 20000};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        ck_assert_msg(tcpst_zeek_likely_server_port(ports[i]), "port %u", ports[i]);
    }
    ck_assert(!tcpst_zeek_likely_server_port(0));
    ck_assert(!tcpst_zeek_likely_server_port(65535));
    ck_assert(!tcpst_zeek_likely_server_port(1433));
    ck_assert(!tcpst_zeek_likely_server_port(8118));
    ck_assert(!tcpst_zeek_likely_server_port(49152));
}
END_TEST

START_TEST(syn_syn_ack_reordered)
{
    feed(B, S | K, 5000, 1001, 0);
    feed(A, S, 1000, 0, 0);
    ck_hist("Hs^");
    ck_assert_uint_eq(z.orig, A);
    feed(A, K, 1001, 5001, 0);
    feed(A, P | K, 1001, 5001, 10);
    feed(B, P | K, 5001, 1011, 10);
    ck_hist("Hs^ADd");
    ck_state("S1");
    ck_assert_uint_eq(tcpst_zeek_orig_pkts(&z), 3);
    ck_assert_uint_eq(tcpst_zeek_resp_pkts(&z), 2);
}
END_TEST

START_TEST(update_without_time_matches)
{
    tcpst_segment s1 = mkseg(A, S, 1000, 0, 0), s2 = mkseg(B, S | K, 5000, 1001, 0);
    tcpst_segment s3 = mkseg(A, K, 1001, 5001, 0);
    tcpst_zeek_update(&z, A, &s1);
    tcpst_zeek_update(&z, B, &s2);
    tcpst_zeek_update(&z, A, &s3);
    ck_hist("ShA");
    ck_state("S1");
}
END_TEST

/* ---- record boundaries ---- */

START_TEST(split_unanswered_attempt)
{
    feed(A, S, 1000, 0, 0);
    ck_assert_int_eq(split_after(4 * SEC, A, P | K, 1001, 5001, 10), TCPST_ZSPLIT_NONE);
    ck_assert_int_eq(split_after(5 * SEC, A, P | K, 1001, 5001, 10), TCPST_ZSPLIT_ATTEMPT);
    ck_assert_str_eq(tcpst_zeek_split_name(TCPST_ZSPLIT_ATTEMPT), "attempt");
    /* Data within 5 s keeps it an attempt (SYN_SENT), so it still expires. */
    feed(A, P | K, 1001, 5001, 10);
    ck_assert_int_eq(split_after(5 * SEC, A, F | K, 1011, 5001, 0), TCPST_ZSPLIT_ATTEMPT);
    /* Answered: no longer an attempt. */
    setup();
    feed(A, S, 1000, 0, 0);
    feed(B, S | K, 5000, 1001, 0);
    ck_assert_int_eq(split_after(10 * SEC, A, K, 1001, 5001, 0), TCPST_ZSPLIT_NONE);
}
END_TEST

START_TEST(split_after_close)
{
    handshake();
    feed(A, R | K, 1001, 5001, 0);
    ck_assert_int_eq(split_after(4 * SEC, B, P | K, 5001, 1001, 10), TCPST_ZSPLIT_NONE);
    ck_assert_int_eq(split_after(5 * SEC, B, P | K, 5001, 1001, 10), TCPST_ZSPLIT_CLOSED);
    /* A SYN after the close starts over at once, even with the same ISN. */
    ck_assert_int_eq(split_after(SEC / 2, A, S, 1000, 0, 0), TCPST_ZSPLIT_REUSE);
    setup();
    handshake();
    feed(A, F | K, 1001, 5001, 0);
    feed(B, F | K, 5001, 1002, 0);
    feed(A, K, 1002, 5002, 0); /* last activity is frozen at the second FIN */
    ck_assert_int_eq(split_after(5 * SEC - SEC / 100, B, K, 5002, 1002, 0), TCPST_ZSPLIT_CLOSED);
}
END_TEST

START_TEST(split_reuse_by_isn)
{
    feed(A, S, 1000, 0, 0);
    ck_assert_int_eq(split_after(SEC, A, S, 1000, 0, 0), TCPST_ZSPLIT_NONE);
    ck_assert_int_eq(split_after(SEC, A, S, 9000, 0, 0), TCPST_ZSPLIT_REUSE);
    ck_assert_int_eq(split_after(SEC, A, P | K, 1001, 5001, 1), TCPST_ZSPLIT_NONE);
    /* The SYN of a reordered SYN-ACK is not a reuse. */
    setup();
    feed(B, S | K, 5000, 1001, 0);
    ck_assert_int_eq(split_after(SEC / 100, A, S, 1000, 0, 0), TCPST_ZSPLIT_NONE);
}
END_TEST

START_TEST(split_inactivity)
{
    handshake();
    feed(A, P | K, 1001, 5001, 10);
    ck_assert_int_eq(split_after(299 * SEC, A, P | K, 1011, 5001, 10), TCPST_ZSPLIT_NONE);
    ck_assert_int_eq(split_after(300 * SEC, A, P | K, 1001, 5001, 10), TCPST_ZSPLIT_INACTIVITY);
    /* Mid-stream data plus an ACK, the same data 300 s later (corpus: two "OTH" rows). */
    setup();
    feed(A, P | K, 1001, 2001, 18);
    feed(B, K, 2001, 1019, 0);
    ck_hist("Da");
    ck_assert_int_eq(split_after(300 * SEC, A, P | K, 1001, 2001, 18), TCPST_ZSPLIT_INACTIVITY);
}
END_TEST

START_TEST(split_reset_after_own_fin)
{
    handshake();
    feed(A, F | K, 1001, 5001, 0); /* half close: the row stays while B is active */
    ck_assert_int_eq(split_after(60 * SEC, B, K, 5001, 1002, 0), TCPST_ZSPLIT_NONE);
    feed(A, R, 1002, 0, 0); /* RST after its own FIN, peer still open */
    ck_state("RSTO");
    ck_assert_int_eq(split_after(4 * SEC, B, K, 5001, 1002, 0), TCPST_ZSPLIT_NONE);
    ck_assert_int_eq(split_after(5 * SEC, B, K, 5001, 1002, 0), TCPST_ZSPLIT_RESET_TIMER);
}
END_TEST

START_TEST(split_names)
{
    ck_assert_str_eq(tcpst_zeek_split_name(TCPST_ZSPLIT_NONE), "none");
    ck_assert_str_eq(tcpst_zeek_split_name(TCPST_ZSPLIT_REUSE), "reuse");
    ck_assert_str_eq(tcpst_zeek_split_name(TCPST_ZSPLIT_CLOSED), "closed");
    ck_assert_str_eq(tcpst_zeek_split_name(TCPST_ZSPLIT_INACTIVITY), "inactivity");
    ck_assert_str_eq(tcpst_zeek_split_name(TCPST_ZSPLIT_EXPIRE), "expire");
    ck_assert_str_eq(tcpst_zeek_split_name(TCPST_ZSPLIT_RESET_TIMER), "reset_timer");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("zeekcompat");
    TCase *st = tcase_create("conn_state");
    tcase_add_checked_fixture(st, setup, NULL);
    tcase_add_test(st, state_s0);
    tcase_add_test(st, state_s1);
    tcase_add_test(st, state_sf);
    tcase_add_test(st, state_sf_rst_after_fins);
    tcase_add_test(st, state_rej);
    tcase_add_test(st, state_s2_s3);
    tcase_add_test(st, state_rsto_rstr);
    tcase_add_test(st, state_rstos0);
    tcase_add_test(st, state_syn_ack_fin_rst_is_oth);
    tcase_add_test(st, state_rstrh_shr);
    tcase_add_test(st, state_sh);
    tcase_add_test(st, state_oth);
    suite_add_tcase(s, st);

    TCase *lt = tcase_create("history");
    tcase_add_checked_fixture(lt, setup, NULL);
    tcase_add_test(lt, letters_once_and_by_sequence);
    tcase_add_test(lt, letters_flag_combinations);
    tcase_add_test(lt, letters_retransmission_logarithmic);
    tcase_add_test(lt, letters_zero_window);
    tcase_add_test(lt, letters_content_gap);
    tcase_add_test(lt, letters_no_gap_unless_established);
    tcase_add_test(lt, letters_history_is_capped);
    suite_add_tcase(s, lt);

    TCase *dt = tcase_create("direction");
    tcase_add_checked_fixture(dt, setup, NULL);
    tcase_add_test(dt, flip_after_lone_syn_ack);
    tcase_add_test(dt, flip_one_sided);
    tcase_add_test(dt, no_late_flip_on_rst);
    tcase_add_test(dt, flip_midstream_from_server_port);
    tcase_add_test(dt, no_flip_on_bare_syn_or_both_server_ports);
    tcase_add_test(dt, likely_server_port_table);
    tcase_add_test(dt, syn_syn_ack_reordered);
    tcase_add_test(dt, update_without_time_matches);
    suite_add_tcase(s, dt);

    TCase *bt = tcase_create("boundaries");
    tcase_add_checked_fixture(bt, setup, NULL);
    tcase_add_test(bt, split_unanswered_attempt);
    tcase_add_test(bt, split_after_close);
    tcase_add_test(bt, split_reuse_by_isn);
    tcase_add_test(bt, split_inactivity);
    tcase_add_test(bt, split_reset_after_own_fin);
    tcase_add_test(bt, split_names);
    suite_add_tcase(s, bt);
    return s;
}

int main(void)
{
    return ckrun(suite());
}
