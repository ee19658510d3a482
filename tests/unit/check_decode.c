/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_decode.c - unit tests for src/decode/ (link, IP and TCP header decoding)
 * and for the frame builder in tests/support/pktbuild.
 *
 * Frames come from pktbuild and are then patched where a test needs a broken
 * header.  Every decode runs on a heap copy of exactly caplen bytes so that an
 * over-read is caught under AddressSanitizer.  The prefix sweep decodes every
 * truncation of several frames per link type.  The pcap round trip reads the
 * builder's files back through libpcap.  The Zeek padding trace is used when
 * ../shared/corpus is present next to the source tree.
 */
#include <check.h>

#include "ckrun.h"
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/cursor.h"
#include "pktbuild.h"
#include "tcpstate/decode.h"

#ifndef TCPSTATE_SOURCE_DIR
#define TCPSTATE_SOURCE_DIR "."
#endif

#define V4A "192.0.2.1"
#define V4B "198.51.100.2"
#define V6A "2001:db8::1"
#define V6B "2001:db8:ffff::2"

static uint8_t fb[PB_MAX_FRAME];
static tcpst_segment seg;
static pb_layout lay;
static uint8_t syn_opts[20];

/* Decode from a heap copy of exactly caplen bytes. */
static tcpst_decode_status dec2(int lt, const uint8_t *f, size_t caplen, size_t wirelen)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    tcpst_decode_status st;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, f, caplen);
    st = tcpst_decode(lt, caplen ? copy : NULL, caplen, wirelen, &seg);
    free(copy);
    return st;
}

static tcpst_decode_status dec(int lt, size_t len)
{
    return dec2(lt, fb, len, len);
}

static pb_seg base(int fam)
{
    pb_seg s = {
        .src = fam == 4 ? V4A : V6A,
        .dst = fam == 4 ? V4B : V6B,
        .sport = 40000,
        .dport = 443,
        .seq = 0xFFFFFFF0u,
        .ack = 12345,
        .flags = TCPST_PSH | TCPST_ACK,
        .win = 502,
        .payload_len = 10,
        .opts = syn_opts,
        .optlen = 20,
        .ttl = 63,
    };
    return s;
}

static size_t build(int lt, const pb_seg *s)
{
    size_t n = pb_build_ex(fb, sizeof fb, lt, NULL, 0, s, &lay);
    ck_assert_uint_ne(n, 0);
    return n;
}

static void setup(void)
{
    ck_assert_uint_eq(pb_opt_syn(syn_opts, 1460, 7, 1111, 2222), 20);
}

#define ASSERT_ST(got, want)                                                                       \
    ck_assert_msg((got) == (want), "status %s, want %s", tcpst_decode_status_name(got),            \
                  tcpst_decode_status_name(want))

static void assert_addr(const tcpst_addr *a, const char *txt)
{
    char out[TCPST_ADDR_STRLEN];

    tcpst_addr_format(a, out);
    ck_assert_str_eq(out, txt);
}

/* Every field of an OK segment against what the builder was asked for. */
static void check_fields(const pb_seg *s, int fam)
{
    const uint8_t *t = fb + lay.l4;

    assert_addr(&seg.src, s->src);
    assert_addr(&seg.dst, s->dst);
    ck_assert_uint_eq(seg.src.family, (unsigned)fam);
    ck_assert_uint_eq(seg.ip_version, (unsigned)fam);
    ck_assert_uint_eq(seg.sport, s->sport);
    ck_assert_uint_eq(seg.dport, s->dport);
    ck_assert_uint_eq(seg.seq, s->seq);
    ck_assert_uint_eq(seg.ack, s->ack);
    ck_assert_uint_eq(seg.flags, s->flags);
    ck_assert_uint_eq(seg.window, s->win);
    ck_assert_uint_eq(seg.urgptr, s->urgptr);
    ck_assert_uint_eq(seg.checksum, (unsigned)(t[16] << 8 | t[17]));
    ck_assert_uint_eq(seg.ttl, s->ttl ? s->ttl : 64);
    ck_assert_uint_eq(seg.tcp_hlen, lay.payload - lay.l4);
    ck_assert_uint_eq(seg.ip_len, lay.payload + s->payload_len - lay.l3);
    ck_assert_uint_eq(seg.payload_len, s->payload_len);
    ck_assert_uint_eq(seg.payload_caplen, s->payload_len);
    ck_assert_uint_eq(seg.ipflags & TCPST_IP_PAYLOAD_TRUNC, 0);
}

/* ---- link types ----------------------------------------------------------- */

static const struct lt_case {
    const char *name;
    int lt;
    int fam;
    uint32_t af;
    bool null_be;
} lt_cases[] = {
    {"ethernet v4", TCPST_LT_ETHERNET, 4, 0, false},
    {"ethernet v6", TCPST_LT_ETHERNET, 6, 0, false},
    {"sll v4", TCPST_LT_LINUX_SLL, 4, 0, false},
    {"sll v6", TCPST_LT_LINUX_SLL, 6, 0, false},
    {"sll2 v4", TCPST_LT_LINUX_SLL2, 4, 0, false},
    {"sll2 v6", TCPST_LT_LINUX_SLL2, 6, 0, false},
    {"raw v4", TCPST_LT_RAW, 4, 0, false},
    {"raw v6", TCPST_LT_RAW, 6, 0, false},
    {"dlt raw 12 v4", TCPST_LT_DLT_RAW_12, 4, 0, false},
    {"dlt raw 12 v6", TCPST_LT_DLT_RAW_12, 6, 0, false},
    {"dlt raw 14 v4", TCPST_LT_DLT_RAW_14, 4, 0, false},
    {"dlt raw 14 v6", TCPST_LT_DLT_RAW_14, 6, 0, false},
    {"ipv4", TCPST_LT_IPV4, 4, 0, false},
    {"ipv6", TCPST_LT_IPV6, 6, 0, false},
    {"null le v4", TCPST_LT_NULL, 4, 2, false},
    {"null be v4", TCPST_LT_NULL, 4, 2, true},
    {"null le v6 24", TCPST_LT_NULL, 6, 24, false},
    {"null be v6 24", TCPST_LT_NULL, 6, 24, true},
    {"null le v6 28", TCPST_LT_NULL, 6, 28, false},
    {"null be v6 28", TCPST_LT_NULL, 6, 28, true},
    {"null le v6 30", TCPST_LT_NULL, 6, 30, false},
    {"null be v6 30", TCPST_LT_NULL, 6, 30, true},
    {"loop v4", TCPST_LT_LOOP, 4, 2, false},
    {"loop v6", TCPST_LT_LOOP, 6, 24, false},
    {"fddi v4", TCPST_LT_FDDI, 4, 0, false},
    {"fddi v6", TCPST_LT_FDDI, 6, 0, false},
    {"ppp v4", TCPST_LT_PPP, 4, 0, false},
    {"ppp v6", TCPST_LT_PPP, 6, 0, false},
    {"ppp hdlc v4", TCPST_LT_PPP_HDLC, 4, 0, false},
    {"ppp hdlc v6", TCPST_LT_PPP_HDLC, 6, 0, false},
    {"pppoe v4", TCPST_LT_PPP_ETHER, 4, 0, false},
    {"pppoe v6", TCPST_LT_PPP_ETHER, 6, 0, false},
    {"cisco hdlc v4", TCPST_LT_C_HDLC, 4, 0, false},
    {"cisco hdlc v6", TCPST_LT_C_HDLC, 6, 0, false},
    {"nflog v4", TCPST_LT_NFLOG, 4, 0, false},
    {"nflog v6", TCPST_LT_NFLOG, 6, 0, false},
    {"802.11 v4", TCPST_LT_IEEE802_11, 4, 0, false},
    {"802.11 v6", TCPST_LT_IEEE802_11, 6, 0, false},
    {"radiotap qos v4", TCPST_LT_RADIOTAP, 4, 0, false},
    {"radiotap qos v6", TCPST_LT_RADIOTAP, 6, 0, false},
    {"ppi v4", TCPST_LT_PPI, 4, 0, false},
    {"ppi v6", TCPST_LT_PPI, 6, 0, false},
    {"prism v4", TCPST_LT_PRISM, 4, 0, false},
    {"prism v6", TCPST_LT_PRISM, 6, 0, false},
    {"avs v4", TCPST_LT_AVS, 4, 0, false},
    {"avs v6", TCPST_LT_AVS, 6, 0, false},
    {"pflog v4", TCPST_LT_PFLOG, 4, 0, false},
    {"pflog v6 24", TCPST_LT_PFLOG, 6, 0, false},
    {"pflog v6 28", TCPST_LT_PFLOG, 6, 28, false},
    {"pflog v6 30", TCPST_LT_PFLOG, 6, 30, false},
    {"enc le v4", TCPST_LT_ENC, 4, 0, false},
    {"enc be v4", TCPST_LT_ENC, 4, 0, true},
    {"enc le v6", TCPST_LT_ENC, 6, 0, false},
    {"enc be v6", TCPST_LT_ENC, 6, 0, true},
    {"arcnet v4", TCPST_LT_ARCNET_LINUX, 4, 0, false},
    {"arcnet v6", TCPST_LT_ARCNET_LINUX, 6, 0, false},
    {"juniper ether v4", TCPST_LT_JUNIPER_ETHER, 4, 0, false},
    {"juniper ether v6", TCPST_LT_JUNIPER_ETHER, 6, 0, false},
    {"ipoib v4", TCPST_LT_IPOIB, 4, 0, false},
    {"ipoib v6", TCPST_LT_IPOIB, 6, 0, false},
    {"erf ethernet v4", TCPST_LT_ERF, 4, 0, false},
    {"erf ethernet v6", TCPST_LT_ERF, 6, 0, false},
};

START_TEST(test_linktypes)
{
    const struct lt_case *c = &lt_cases[_i];
    pb_seg s = base(c->fam);
    size_t n;
    tcpst_decode_status st;

    s.link_af = c->af;
    s.null_be = c->null_be;
    n = build(c->lt, &s);
    st = dec(c->lt, n);
    ck_assert_msg(st == TCPST_DEC_OK, "%s: %s", c->name, tcpst_decode_status_name(st));
    check_fields(&s, c->fam);
    ck_assert_uint_eq(seg.nvlan, 0);
    ck_assert_uint_eq(seg.ipflags, 0);
    ck_assert_uint_eq(seg.opts.present,
                      TCPST_HAS_MSS | TCPST_HAS_SACK_PERM | TCPST_HAS_TS | TCPST_HAS_WSCALE);
    ck_assert_uint_eq(seg.opts.mss, 1460);
    ck_assert_uint_eq(seg.opts.wscale, 7);
    ck_assert_uint_eq(seg.opts.tsval, 1111);
    ck_assert_uint_eq(seg.opts.tsecr, 2222);
    ck_assert(tcpst_decode_linktype_supported(c->lt));
}
END_TEST

/* PPP, Cisco HDLC, PPPoE and NFLOG framing that carries no IP, or is cut or malformed. */
START_TEST(test_linktype_ppp_nflog_edges)
{
    static const uint8_t lcp[] = {0xFF, 0x03, 0xC0, 0x21, 1, 1, 0, 4};
    static const uint8_t pfc[] = {0x21, 0x45}; /* compressed protocol: IPv4, then a cut header */
    static const uint8_t cut[] = {0xFF, 0x03, 0x00};
    static const uint8_t bad_hdlc[] = {0x42, 0x03, 0x00, 0x21};
    static const uint8_t discovery[] = {0x11, 0x09, 0, 0, 0, 0, 0x00, 0x21};
    static const uint8_t nfl_unspec[] = {0, 0, 0, 5, 8, 0, 9, 0, 0x45, 0, 0, 0};
    static const uint8_t nfl_nopayload[] = {2, 0, 0, 5, 8, 0, 10, 0, 'a', 'b', 0, 0};
    static const uint8_t nfl_zero_len[] = {2, 0, 0, 5, 0, 0, 9, 0};
    ASSERT_ST(dec2(TCPST_LT_PPP, lcp, sizeof lcp, sizeof lcp), TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_PPP, pfc, sizeof pfc, 40), TCPST_DEC_TRUNC_IP);
    ASSERT_ST(dec2(TCPST_LT_PPP_HDLC, cut, sizeof cut, 40), TCPST_DEC_TRUNC_LINK);
    ASSERT_ST(dec2(TCPST_LT_PPP_HDLC, bad_hdlc, sizeof bad_hdlc, sizeof bad_hdlc),
              TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_PPP_ETHER, discovery, sizeof discovery, sizeof discovery),
              TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_C_HDLC, cut, sizeof cut, 40), TCPST_DEC_TRUNC_LINK);
    ASSERT_ST(dec2(TCPST_LT_NFLOG, nfl_unspec, sizeof nfl_unspec, sizeof nfl_unspec),
              TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_NFLOG, nfl_nopayload, sizeof nfl_nopayload, sizeof nfl_nopayload),
              TCPST_DEC_TRUNC_LINK);
    ASSERT_ST(dec2(TCPST_LT_NFLOG, nfl_zero_len, sizeof nfl_zero_len, sizeof nfl_zero_len),
              TCPST_DEC_BAD_LINK);
}
END_TEST

/* The IPv4 segment of base(4) behind the link header hdr (hlen bytes), and `tail` bytes after
 * it (an FCS), in fb; returns the frame's length.  lay describes the bare IP packet. */
static size_t behind(const uint8_t *hdr, size_t hlen, size_t tail)
{
    static uint8_t ip[256];
    pb_seg s = base(4);
    size_t n = pb_build_ex(ip, sizeof ip, TCPST_LT_RAW, NULL, 0, &s, &lay);

    ck_assert_uint_ne(n, 0);
    memcpy(fb, hdr, hlen);
    memcpy(fb + hlen, ip, n);
    memset(fb + hlen + n, 0xA5, tail);
    return hlen + n + tail;
}

/* Decodes to the segment of base(4) with its IP header at l3. */
static void assert_ok_at(int lt, size_t n, size_t l3)
{
    ASSERT_ST(dec(lt, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.l3_off, l3);
    ck_assert_uint_eq(seg.payload_len, 10);
    ck_assert_uint_eq(seg.payload_caplen, 10);
    ck_assert_uint_eq(seg.sport, 40000);
}

#define WLAN_DATA(fc0, fc1)                                                                        \
    (fc0), (fc1), 0, 0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 7, 1, 2, 3, 4, 5, 6, 0, 0
#define SNAP_V4 0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00

/* 802.11 frames that carry no IP, are protected, cut or malformed; the header's variants. */
START_TEST(test_linktype_wlan_edges)
{
    static const uint8_t addr4[] = {WLAN_DATA(0x08, 0x03), 1, 2, 3, 4, 5, 8, SNAP_V4};
    static const uint8_t qos_htc[] = {WLAN_DATA(0x88, 0x82), 0x05, 0, 0, 0, 0, 0, SNAP_V4};
    static const uint8_t order[] = {WLAN_DATA(0x08, 0x81), SNAP_V4}; /* no QoS: no HT control */
    static const uint8_t amsdu[] = {WLAN_DATA(0x88, 0x01), 0x80, 0, SNAP_V4};
    static const uint8_t eapol[] = {WLAN_DATA(0x08, 0x01), 0xAA, 0xAA, 0x03, 0, 0, 0, 0x88, 0x8E};
    static const uint8_t cisco[] = {WLAN_DATA(0x08, 0x01), 0xAA, 0xAA, 0x03, 0, 0, 0x0C, 8, 0};
    static const uint8_t stp[] = {WLAN_DATA(0x08, 0x01), 0x42, 0x42, 0x03, 0, 0, 0, 0, 0};
    static const struct {
        uint8_t fc0, fc1;
        tcpst_decode_status want;
    } fc[] = {
        {0x80, 0x00, TCPST_DEC_NOT_IP},    /* beacon */
        {0xD4, 0x00, TCPST_DEC_NOT_IP},    /* ACK */
        {0x48, 0x01, TCPST_DEC_NOT_IP},    /* null function */
        {0xC8, 0x01, TCPST_DEC_NOT_IP},    /* QoS null */
        {0x0C, 0x01, TCPST_DEC_NOT_IP},    /* extension frame */
        {0x09, 0x01, TCPST_DEC_BAD_LINK},  /* protocol version 1 */
        {0x08, 0x41, TCPST_DEC_ENCRYPTED}, /* protected */
        {0x08, 0x42, TCPST_DEC_ENCRYPTED},
    };
    pb_seg s = base(4);
    size_t n = build(TCPST_LT_IEEE802_11, &s);

    for (size_t i = 0; i < sizeof fc / sizeof fc[0]; i++) {
        fb[0] = fc[i].fc0;
        fb[1] = fc[i].fc1;
        ck_assert_msg(dec(TCPST_LT_IEEE802_11, n) == fc[i].want, "fc %02x %02x", fc[i].fc0,
                      fc[i].fc1);
    }
    ASSERT_ST(dec2(TCPST_LT_IEEE802_11, fb, 1, n), TCPST_DEC_TRUNC_LINK);
    /* A protected QoS frame cut before its QoS control: the header is cut first. */
    fb[0] = 0x88;
    fb[1] = 0x41;
    ASSERT_ST(dec2(TCPST_LT_IEEE802_11, fb, 25, n), TCPST_DEC_TRUNC_LINK);
    assert_ok_at(TCPST_LT_IEEE802_11, behind(addr4, sizeof addr4, 0), sizeof addr4);
    assert_ok_at(TCPST_LT_IEEE802_11, behind(qos_htc, sizeof qos_htc, 0), sizeof qos_htc);
    assert_ok_at(TCPST_LT_IEEE802_11, behind(order, sizeof order, 0), sizeof order);
    ASSERT_ST(dec(TCPST_LT_IEEE802_11, behind(amsdu, sizeof amsdu, 0)), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec(TCPST_LT_IEEE802_11, behind(eapol, sizeof eapol, 0)), TCPST_DEC_NOT_IP);
    ASSERT_ST(dec(TCPST_LT_IEEE802_11, behind(cisco, sizeof cisco, 0)), TCPST_DEC_NOT_IP);
    ASSERT_ST(dec(TCPST_LT_IEEE802_11, behind(stp, sizeof stp, 0)), TCPST_DEC_NOT_IP);
}
END_TEST

/* Radiotap, PPI, Prism and AVS: FCS and data pad flags, field walks, bad headers. */
START_TEST(test_linktype_radio_edges)
{
    /* Flags (FCS at the end), then a data frame. */
    static const uint8_t rt_fcs[] = {0,      0, 9, 0, 0x02, 0, 0, 0, 0x10, WLAN_DATA(0x08, 0x01),
                                     SNAP_V4};
    /* TSFT, Flags, a second present word: TSFT at 16 (aligned to 8), Flags (FCS) at 24. */
    static const uint8_t rt_tsft[] = {
        0,      0, 25, 0, 0x03, 0, 0, 0x80, 0, 0, 0, 0,    0,
        0,      0, 0,  1, 2,    3, 4, 5,    6, 7, 8, 0x10, WLAN_DATA(0x08, 0x01),
        SNAP_V4};
    /* Data pad: the 26-byte QoS header is padded to 28. */
    static const uint8_t rt_pad[] = {0, 0, 9, 0, 0x02,   0, 0, 0, 0x20, WLAN_DATA(0x88, 0x01),
                                     0, 0, 0, 0, SNAP_V4};
    static const uint8_t rt_badfcs[] = {0,      0, 9, 0, 0x02, 0, 0, 0, 0x40, WLAN_DATA(0x08, 0x01),
                                        SNAP_V4};
    static const uint8_t rt_words[] = {0, 0, 8, 0, 0, 0, 0, 0x80}; /* present words past it_len */
    static const uint8_t rt_v1[] = {1, 0, 8, 0, 0, 0, 0, 0};
    static const uint8_t rt_short[] = {0, 0, 4, 0, 0, 0, 0, 0};
    static const uint8_t rt_long[] = {0, 0, 200, 0, 0, 0, 0, 0};
    /* PPI: Ethernet inside; an odd field padded (aligned flag), then 802.11-Common with FCS. */
    static const uint8_t ppi_eth[] = {0, 0, 8, 0, 1, 0, 0, 0, 2, 0,    0,
                                      0, 0, 1, 4, 0, 0, 0, 0, 2, 0x08, 0x00};
    static const uint8_t ppi_fcs[] = {0,
                                      1,
                                      40,
                                      0,
                                      105,
                                      0,
                                      0,
                                      0,
                                      99,
                                      0,
                                      1,
                                      0,
                                      0x5A,
                                      0,
                                      0,
                                      0,
                                      2,
                                      0,
                                      20,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0x01,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      WLAN_DATA(0x08, 0x01),
                                      SNAP_V4};
    static const uint8_t ppi_inner[] = {0, 0, 8, 0, 127, 0, 0, 0};
    static const uint8_t ppi_field[] = {0, 0, 12, 0, 105, 0, 0, 0, 2, 0, 20, 0};
    static const uint8_t avs[] = {0x80,   0x21, 0x10, 0x02, 0, 0, 0, 8, WLAN_DATA(0x08, 0x01),
                                  SNAP_V4};
    static const uint8_t avs_magic[] = {0x80, 0x21, 0x10, 0x07, 0, 0, 0, 8};
    static const uint8_t avs_short[] = {0x80, 0x21, 0x10, 0x01, 0, 0, 0, 4};
    uint8_t hdr[64];
    size_t n;

    n = behind(rt_fcs, sizeof rt_fcs, 4);
    assert_ok_at(TCPST_LT_RADIOTAP, n, sizeof rt_fcs);
    /* An IPv4 total length of 0 (TSO) is the frame's length: without the FCS. */
    fb[sizeof rt_fcs + 2] = 0;
    fb[sizeof rt_fcs + 3] = 0;
    ASSERT_ST(dec(TCPST_LT_RADIOTAP, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.ip_len, n - sizeof rt_fcs - 4);
    ck_assert_uint_eq(seg.payload_caplen, 10);
    assert_ok_at(TCPST_LT_RADIOTAP, behind(rt_tsft, sizeof rt_tsft, 4), sizeof rt_tsft);
    assert_ok_at(TCPST_LT_RADIOTAP, behind(rt_pad, sizeof rt_pad, 0), sizeof rt_pad);
    ASSERT_ST(dec(TCPST_LT_RADIOTAP, behind(rt_badfcs, sizeof rt_badfcs, 4)), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_RADIOTAP, rt_words, sizeof rt_words, 64), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_RADIOTAP, rt_v1, sizeof rt_v1, 64), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_RADIOTAP, rt_short, sizeof rt_short, 64), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_RADIOTAP, rt_long, sizeof rt_long, 300), TCPST_DEC_TRUNC_LINK);

    assert_ok_at(TCPST_LT_PPI, behind(ppi_eth, sizeof ppi_eth, 0), sizeof ppi_eth);
    n = behind(ppi_fcs, sizeof ppi_fcs, 4);
    assert_ok_at(TCPST_LT_PPI, n, sizeof ppi_fcs);
    fb[28] = 0x04; /* FCS invalid */
    ASSERT_ST(dec(TCPST_LT_PPI, n), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec(TCPST_LT_PPI, behind(ppi_inner, sizeof ppi_inner, 0)), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec(TCPST_LT_PPI, behind(ppi_field, sizeof ppi_field, 0)), TCPST_DEC_BAD_LINK);
    memcpy(hdr, ppi_eth, sizeof ppi_eth);
    hdr[0] = 1; /* version */
    ASSERT_ST(dec(TCPST_LT_PPI, behind(hdr, sizeof ppi_eth, 0)), TCPST_DEC_BAD_LINK);

    /* Linux writes AVS headers under the Prism link type too. */
    assert_ok_at(TCPST_LT_PRISM, behind(avs, sizeof avs, 0), sizeof avs);
    assert_ok_at(TCPST_LT_AVS, behind(avs, sizeof avs, 0), sizeof avs);
    n = build(TCPST_LT_PRISM, &(pb_seg){.src = V4A, .dst = V4B, .sport = 1, .dport = 2});
    ASSERT_ST(dec2(TCPST_LT_PRISM, fb, 100, n), TCPST_DEC_TRUNC_LINK);
    ASSERT_ST(dec2(TCPST_LT_AVS, avs_magic, sizeof avs_magic, 64), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_AVS, avs_short, sizeof avs_short, 64), TCPST_DEC_BAD_LINK);
}
END_TEST

/* PFLOG, ENC, ARCnet, Juniper and ERF: their variants, frames without IP, bad headers. */
START_TEST(test_linktype_bsd_arcnet_juniper_erf_edges)
{
    static const uint8_t arc1051[] = {1, 2, 0, 0, 0xF0};
    static const uint8_t arc_arp[] = {1, 2, 0, 0, 0xD5, 0, 0, 1, 0, 7, 0x08, 0, 1, 4, 0, 1};
    static const uint8_t arc_cut[] = {1, 2, 0, 0, 0xD4, 0};
    static const uint8_t jnx_plain[] = {'M', 'G', 'C', 0x00, 2, 2, 2, 2,    2,
                                        2,   4,   4,   4,    4, 4, 4, 0x08, 0x00};
    static const uint8_t jnx_nol2[] = {'M', 'G', 'C', 0x82, 0, 3, 1, 1, 9, 2, 0, 0, 0};
    static const uint8_t jnx_mpls[] = {'M', 'G', 'C', 0x02, 0, 0, 0, 5, 0, 0, 0x11, 0x40};
    static const uint8_t jnx_clnp[] = {'M', 'G', 'C', 0x02, 10, 0, 0, 0, 0x81, 0, 0, 0};
    static const uint8_t jnx_magic[] = {'M', 'G', 'X', 0x00, 2, 2, 2, 2, 2, 2, 4, 4};
    static const uint8_t jnx_ext[] = {'M', 'G', 'C', 0x80, 0x01, 0x00, 1, 4};
    static const uint8_t erf_v4[] = {0, 0, 0, 0, 0, 0, 0, 0, 22, 0x04, 0, 0, 0, 0, 0, 0};
    static const uint8_t erf_pos[] = {0, 0, 0, 0, 0, 0, 0,    0,    1,    0x04,
                                      0, 0, 0, 0, 0, 0, 0xFF, 0x03, 0x00, 0x21};
    static const uint8_t erf_chdlc[] = {0, 0, 0, 0, 0, 0, 0,    0,    15,   0,
                                        0, 0, 0, 0, 0, 0, 0x0F, 0x00, 0x08, 0x00};
    static const uint8_t erf_mc[] = {0, 0, 0, 0, 0, 0, 0, 0, 5,    0,    0,    0,
                                     0, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0x03, 0x00, 0x21};
    /* Two extension headers (the first says another follows), then an Ethernet record. */
    static const uint8_t erf_ext[] = {0,    0, 0, 0, 0, 0, 0, 0, 0x82, 0, 0, 0, 0, 0, 0,    0,
                                      0x81, 1, 2, 3, 4, 5, 6, 7, 0x01, 1, 2, 3, 4, 5, 6,    7,
                                      0,    0, 2, 2, 2, 2, 2, 2, 4,    4, 4, 4, 4, 4, 0x08, 0x00};
    static const uint8_t erf_ext_cut[] = {0, 0, 0,    0, 0, 0, 0, 0, 0x82, 0, 0,    0, 0, 0,
                                          0, 0, 0x81, 1, 2, 3, 4, 5, 6,    7, 0x01, 1, 2};
    static const uint8_t erf_rxe[] = {0, 0, 0, 0, 0, 0, 0, 0, 22, 0x10, 0, 0, 0, 0, 0, 0};
    static const uint8_t erf_atm[] = {0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t erf_pad[] = {0, 0, 0, 0, 0, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0};
    pb_seg s = base(4);
    uint8_t hdr[100] = {0};
    size_t n;

    /* PFLOG: its own length (OpenBSD's 100 here), at least 45; the AF after it. */
    hdr[0] = 100;
    hdr[1] = 2;
    assert_ok_at(TCPST_LT_PFLOG, behind(hdr, 100, 0), 100);
    hdr[0] = 45; /* rounded up to 48 */
    assert_ok_at(TCPST_LT_PFLOG, behind(hdr, 48, 0), 48);
    hdr[0] = 44;
    ASSERT_ST(dec(TCPST_LT_PFLOG, behind(hdr, 48, 0)), TCPST_DEC_BAD_LINK);
    hdr[0] = 61;
    hdr[1] = 10; /* Linux's AF_INET6 is no BSD's */
    ASSERT_ST(dec(TCPST_LT_PFLOG, behind(hdr, 64, 0)), TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_PFLOG, hdr, 50, 200), TCPST_DEC_TRUNC_LINK);
    ASSERT_ST(dec2(TCPST_LT_PFLOG, hdr, 1, 200), TCPST_DEC_TRUNC_LINK);

    /* ENC: an AF that is neither; a cut header. */
    s.link_af = 7;
    n = build(TCPST_LT_ENC, &s);
    ASSERT_ST(dec(TCPST_LT_ENC, n), TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_ENC, fb, 8, n), TCPST_DEC_TRUNC_LINK);

    /* ARCnet: RFC 1051 IP has no fragmentation header; ARP is not IP. */
    assert_ok_at(TCPST_LT_ARCNET_LINUX, behind(arc1051, sizeof arc1051, 0), sizeof arc1051);
    ASSERT_ST(dec2(TCPST_LT_ARCNET_LINUX, arc_arp, sizeof arc_arp, sizeof arc_arp),
              TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_ARCNET_LINUX, arc_cut, sizeof arc_cut, 60), TCPST_DEC_TRUNC_LINK);

    /* Juniper: without extensions; without a link header (IPv4 little-endian, MPLS
     * big-endian, CLNP); a bad magic; extensions longer than the frame. */
    assert_ok_at(TCPST_LT_JUNIPER_ETHER, behind(jnx_plain, sizeof jnx_plain, 0), sizeof jnx_plain);
    assert_ok_at(TCPST_LT_JUNIPER_ETHER, behind(jnx_nol2, sizeof jnx_nol2, 0), sizeof jnx_nol2);
    assert_ok_at(TCPST_LT_JUNIPER_ETHER, behind(jnx_mpls, sizeof jnx_mpls, 0), sizeof jnx_mpls);
    ck_assert_uint_eq(seg.nencap, 1);
    ck_assert_uint_eq(seg.encap[0].type, TCPST_ENCAP_MPLS);
    ASSERT_ST(dec2(TCPST_LT_JUNIPER_ETHER, jnx_clnp, sizeof jnx_clnp, 60), TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_JUNIPER_ETHER, jnx_magic, sizeof jnx_magic, 60), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_JUNIPER_ETHER, jnx_ext, sizeof jnx_ext, 400), TCPST_DEC_TRUNC_LINK);

    /* ERF: raw IP, PoS HDLC (PPP and Cisco), multichannel HDLC, extension headers. */
    assert_ok_at(TCPST_LT_ERF, behind(erf_v4, sizeof erf_v4, 0), sizeof erf_v4);
    assert_ok_at(TCPST_LT_ERF, behind(erf_pos, sizeof erf_pos, 0), sizeof erf_pos);
    assert_ok_at(TCPST_LT_ERF, behind(erf_chdlc, sizeof erf_chdlc, 0), sizeof erf_chdlc);
    assert_ok_at(TCPST_LT_ERF, behind(erf_mc, sizeof erf_mc, 0), sizeof erf_mc);
    assert_ok_at(TCPST_LT_ERF, behind(erf_ext, sizeof erf_ext, 0), sizeof erf_ext);
    ASSERT_ST(dec2(TCPST_LT_ERF, erf_ext_cut, sizeof erf_ext_cut, 100), TCPST_DEC_TRUNC_LINK);
    ASSERT_ST(dec(TCPST_LT_ERF, behind(erf_rxe, sizeof erf_rxe, 0)), TCPST_DEC_BAD_LINK);
    ASSERT_ST(dec2(TCPST_LT_ERF, erf_atm, sizeof erf_atm, 68), TCPST_DEC_NOT_IP);
    ASSERT_ST(dec2(TCPST_LT_ERF, erf_pad, sizeof erf_pad, 64), TCPST_DEC_NOT_IP);
}
END_TEST

START_TEST(test_linktype_supported)
{
    static const int unsupported[] = {-1, 2, 8, 11, 100, 106, 113 + 1, 126, 228 + 2, 275, 277};

    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        ck_assert_msg(!tcpst_decode_linktype_supported(unsupported[i]), "%d", unsupported[i]);
        ASSERT_ST(dec2(unsupported[i], fb, 64, 64), TCPST_DEC_BAD_LINK);
    }
}
END_TEST

/*
 * The link-type table is the one list: every row is supported and named, numbers are
 * unique, anything else is neither; every lt_cases entry has a row.  Names are libpcap's,
 * so where libpcap names the value itself they must agree (the capture reports those).
 */
START_TEST(test_linktype_table)
{
    ck_assert_uint_gt(tcpst__nlinktypes, 0);
    for (size_t i = 0; i < tcpst__nlinktypes; i++) {
        const tcpst__linktype *r = &tcpst__linktypes[i];
        const char *pname = pcap_datalink_val_to_name(r->linktype);

        ck_assert_ptr_nonnull(r->name);
        ck_assert(r->parse != NULL);
        ck_assert(tcpst_decode_linktype_supported(r->linktype));
        ck_assert_str_eq(tcpst_decode_linktype_name(r->linktype), r->name);
        if (pname != NULL) {
            ck_assert_str_eq(r->name, pname);
        }
        if (i > 0) {
            ck_assert_int_lt(tcpst__linktypes[i - 1].linktype, r->linktype); /* LINKTYPE order */
        }
    }
    for (size_t i = 0; i < sizeof lt_cases / sizeof lt_cases[0]; i++) {
        ck_assert_ptr_nonnull(tcpst_decode_linktype_name(lt_cases[i].lt));
    }
    ck_assert_str_eq(tcpst_decode_linktype_name(TCPST_LT_ETHERNET), "EN10MB");
    ck_assert_str_eq(tcpst_decode_linktype_name(TCPST_LT_RAW), "RAW");
    ck_assert_ptr_null(tcpst_decode_linktype_name(147));
    ck_assert_ptr_null(tcpst_decode_linktype_name(-1));
}
END_TEST

START_TEST(test_ip_version_mismatch)
{
    pb_seg s4 = base(4), s6 = base(6);
    size_t n;

    n = build(TCPST_LT_IPV4, &s6);
    ASSERT_ST(dec(TCPST_LT_IPV4, n), TCPST_DEC_BAD_IP_VERSION);
    n = build(TCPST_LT_IPV6, &s4);
    ASSERT_ST(dec(TCPST_LT_IPV6, n), TCPST_DEC_BAD_IP_VERSION);
    s6.ethertype = 0x0800; /* ethertype says v4, header says v6 */
    n = build(TCPST_LT_ETHERNET, &s6);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_IP_VERSION);
    s4.link_af = 24; /* NULL AF says v6, header says v4 */
    n = build(TCPST_LT_NULL, &s4);
    ASSERT_ST(dec(TCPST_LT_NULL, n), TCPST_DEC_BAD_IP_VERSION);
    s4 = base(4);
    n = build(TCPST_LT_RAW, &s4);
    fb[0] = (uint8_t)(0x50 | (fb[0] & 0x0F));
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_BAD_IP_VERSION);
    fb[0] = 0x05;
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_BAD_IP_VERSION);
}
END_TEST

START_TEST(test_non_ip_link)
{
    static const struct {
        int lt;
        uint16_t et;
    } cases[] = {
        {TCPST_LT_ETHERNET, 0x0806},                                 /* ARP */
        {TCPST_LT_ETHERNET, 0x88CC},                                 /* LLDP */
        {TCPST_LT_ETHERNET, 0x88B5},                                 /* local experimental */
        {TCPST_LT_ETHERNET, 0x002E},                                 /* 802.3 length field */
        {TCPST_LT_ETHERNET, 0x05DC},                                 /* 1500, still a length */
        {TCPST_LT_LINUX_SLL, 0x0806},  {TCPST_LT_LINUX_SLL, 0x0004}, /* 802.2 LLC in cooked captures
                                                                      */
        {TCPST_LT_LINUX_SLL2, 0x0806}, {TCPST_LT_LINUX_SLL2, 0x0003},    {TCPST_LT_FDDI, 0x0806},
        {TCPST_LT_IEEE802_11, 0x0806}, {TCPST_LT_RADIOTAP, 0x888E}, /* EAPOL */
        {TCPST_LT_PPI, 0x0806},        {TCPST_LT_JUNIPER_ETHER, 0x0806}, {TCPST_LT_IPOIB, 0x0806},
        {TCPST_LT_ERF, 0x88CC},
    };
    pb_seg s = base(4);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        s.ethertype = cases[i].et;
        n = build(cases[i].lt, &s);
        ck_assert_msg(dec(cases[i].lt, n) == TCPST_DEC_NOT_IP, "lt %d ethertype 0x%04x",
                      cases[i].lt, cases[i].et);
    }
}
END_TEST

START_TEST(test_null_loop_af)
{
    pb_seg s = base(4);
    size_t n;

    s.link_af = 7; /* neither AF_INET nor an AF_INET6 value */
    n = build(TCPST_LT_NULL, &s);
    ASSERT_ST(dec(TCPST_LT_NULL, n), TCPST_DEC_NOT_IP);
    s.null_be = true;
    n = build(TCPST_LT_NULL, &s);
    ASSERT_ST(dec(TCPST_LT_NULL, n), TCPST_DEC_NOT_IP);
    s.link_af = 10; /* Linux AF_INET6 is not a BSD value */
    n = build(TCPST_LT_NULL, &s);
    ASSERT_ST(dec(TCPST_LT_NULL, n), TCPST_DEC_NOT_IP);
    /* LOOP is always network byte order: a little-endian 2 is not AF_INET. */
    s = base(4);
    s.link_af = 0x02000000u;
    n = build(TCPST_LT_LOOP, &s);
    ASSERT_ST(dec(TCPST_LT_LOOP, n), TCPST_DEC_NOT_IP);
}
END_TEST

START_TEST(test_trunc_link)
{
    static const struct {
        int lt;
        size_t hlen;
    } cases[] = {
        {TCPST_LT_ETHERNET, 14},   {TCPST_LT_LINUX_SLL, 16},   {TCPST_LT_LINUX_SLL2, 20},
        {TCPST_LT_NULL, 4},        {TCPST_LT_LOOP, 4},         {TCPST_LT_FDDI, 21},
        {TCPST_LT_IEEE802_11, 32}, {TCPST_LT_RADIOTAP, 44},    {TCPST_LT_PPI, 64},
        {TCPST_LT_PRISM, 176},     {TCPST_LT_AVS, 96},         {TCPST_LT_PFLOG, 64},
        {TCPST_LT_ENC, 12},        {TCPST_LT_ARCNET_LINUX, 8}, {TCPST_LT_JUNIPER_ETHER, 26},
        {TCPST_LT_IPOIB, 44},      {TCPST_LT_ERF, 32},
    };
    pb_seg s = base(4);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = build(cases[i].lt, &s);
        for (size_t c = 0; c < cases[i].hlen; c++) {
            ck_assert_msg(dec2(cases[i].lt, fb, c, n) == TCPST_DEC_TRUNC_LINK, "lt %d caplen %zu",
                          cases[i].lt, c);
        }
        /* Link header complete, nothing of IP. */
        ASSERT_ST(dec2(cases[i].lt, fb, cases[i].hlen, n), TCPST_DEC_TRUNC_IP);
    }
    ASSERT_ST(dec2(TCPST_LT_RAW, fb, 0, 0), TCPST_DEC_TRUNC_IP);
    ASSERT_ST(tcpst_decode(TCPST_LT_ETHERNET, NULL, 0, 60, &seg), TCPST_DEC_TRUNC_LINK);
}
END_TEST

/* Cisco FabricPath: 16-byte outer header, then a whole Ethernet frame (Zeek corpus). */
START_TEST(test_fabricpath)
{
    static const uint8_t outer[16] = {0x02, 0, 0, 0,    0,    0x0A, 0x02, 0,
                                      0,    0, 0, 0x0B, 0x89, 0x03, 0x00, 0x40};
    uint8_t inner[256];
    pb_seg s = base(_i ? 6 : 4);
    size_t n = pb_build_ex(inner, sizeof inner, TCPST_LT_ETHERNET, NULL, 0, &s, &lay);

    ck_assert_uint_ne(n, 0);
    memcpy(fb, outer, 16);
    memcpy(fb + 16, inner, n);
    lay.l3 += 16;
    lay.l4 += 16;
    lay.payload += 16;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n + 16), TCPST_DEC_OK);
    check_fields(&s, _i ? 6 : 4);
    for (size_t c = 0; c < 30; c++) {
        ck_assert_msg(dec2(TCPST_LT_ETHERNET, fb, c, n + 16) == TCPST_DEC_TRUNC_LINK, "%zu", c);
    }
    fb[16 + 12] = 0x08;
    fb[16 + 13] = 0x06; /* inner ARP */
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n + 16), TCPST_DEC_NOT_IP);
}
END_TEST

/* FDDI: only LLC/SNAP with an ethertype OUI carries IP. */
START_TEST(test_fddi_llc)
{
    pb_seg s = base(4);
    size_t n = build(TCPST_LT_FDDI, &s);

    ASSERT_ST(dec(TCPST_LT_FDDI, n), TCPST_DEC_OK);
    fb[18] = 0xF8; /* 802.1H bridge-tunnel OUI */
    ASSERT_ST(dec(TCPST_LT_FDDI, n), TCPST_DEC_OK);
    fb[18] = 0x01; /* some vendor's protocol space */
    ASSERT_ST(dec(TCPST_LT_FDDI, n), TCPST_DEC_NOT_IP);
    fb[18] = 0x00;
    fb[15] = 0x13; /* not UI */
    ASSERT_ST(dec(TCPST_LT_FDDI, n), TCPST_DEC_NOT_IP);
    fb[15] = 0x03;
    fb[13] = 0x42; /* plain 802.2, e.g. spanning tree */
    ASSERT_ST(dec(TCPST_LT_FDDI, n), TCPST_DEC_NOT_IP);
}
END_TEST

/* ---- VLAN ----------------------------------------------------------------- */

START_TEST(test_vlan_depths)
{
    uint16_t tags[PB_MAX_VLAN];
    pb_seg s = base(_i % 2 ? 6 : 4);
    int ntags = _i / 2 + 1; /* 1..9 */
    size_t n;
    tcpst_decode_status st;

    for (int i = 0; i < PB_MAX_VLAN; i++) {
        tags[i] = (uint16_t)(100 + i);
    }
    n = pb_build_ex(fb, sizeof fb, TCPST_LT_ETHERNET, tags, ntags, &s, &lay);
    ck_assert_uint_ne(n, 0);
    st = dec(TCPST_LT_ETHERNET, n);
    if (ntags > TCPST_MAX_VLAN_SKIP) {
        ASSERT_ST(st, TCPST_DEC_VLAN_DEPTH);
        return;
    }
    ASSERT_ST(st, TCPST_DEC_OK);
    check_fields(&s, _i % 2 ? 6 : 4);
    ck_assert_uint_eq(seg.nvlan, (unsigned)ntags);
    ck_assert_uint_eq(seg.vlan[0], 100);
    ck_assert_uint_eq(seg.vlan[1], ntags > 1 ? 101 : 0);
}
END_TEST

START_TEST(test_vlan_tpids_and_pcp)
{
    static const uint16_t tags[2] = {10, 20};
    pb_seg s = base(4);
    size_t n = pb_build_vlan(fb, sizeof fb, tags, 2, &s);

    ck_assert_uint_ne(n, 0);
    /* Builder: outer 802.1ad, inner 802.1Q. */
    ck_assert_uint_eq(fb[12], 0x88);
    ck_assert_uint_eq(fb[13], 0xA8);
    ck_assert_uint_eq(fb[16], 0x81);
    ck_assert_uint_eq(fb[17], 0x00);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.vlan[0], 10);
    ck_assert_uint_eq(seg.vlan[1], 20);
    /* Old QinQ TPID 0x9100, and PCP/DEI bits that must not leak into the id. */
    fb[12] = 0x91;
    fb[13] = 0x00;
    fb[14] = (uint8_t)(0xF0 | fb[14]);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.nvlan, 2);
    ck_assert_uint_eq(seg.vlan[0], 10);
    /* A tag cut short. */
    ASSERT_ST(dec2(TCPST_LT_ETHERNET, fb, 16, n), TCPST_DEC_TRUNC_LINK);
    ASSERT_ST(dec2(TCPST_LT_ETHERNET, fb, 20, n), TCPST_DEC_TRUNC_LINK);
    /* Tagged non-IP. */
    s.ethertype = 0x0806;
    n = pb_build_vlan(fb, sizeof fb, tags, 1, &s);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_NOT_IP);
    ck_assert_uint_eq(seg.nvlan, 1);
}
END_TEST

START_TEST(test_vlan_on_cooked)
{
    static const uint16_t tags[1] = {4094};
    static const int lts[2] = {TCPST_LT_LINUX_SLL, TCPST_LT_LINUX_SLL2};
    pb_seg s = base(6);

    for (int i = 0; i < 2; i++) {
        size_t n = pb_build_ex(fb, sizeof fb, lts[i], tags, 1, &s, &lay);
        ck_assert_uint_ne(n, 0);
        ASSERT_ST(dec(lts[i], n), TCPST_DEC_OK);
        check_fields(&s, 6);
        ck_assert_uint_eq(seg.nvlan, 1);
        ck_assert_uint_eq(seg.vlan[0], 4094);
    }
}
END_TEST

/* ---- IPv4 ----------------------------------------------------------------- */

START_TEST(test_ipv4_options)
{
    static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};           /* router alert */
    static const uint8_t odd[7] = {0x01, 0x07, 0x07, 0x04, 0, 0, 0}; /* NOP + record route */
    pb_seg s = base(4);
    size_t n;

    s.ipopts = ra;
    s.ipoptlen = sizeof ra;
    n = build(TCPST_LT_ETHERNET, &s);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    check_fields(&s, 4);
    ck_assert_uint_eq(seg.ipflags, TCPST_IP_HAS_OPTIONS);
    ck_assert_uint_eq(lay.l4 - lay.l3, 24);

    s.ipopts = odd;
    s.ipoptlen = sizeof odd; /* padded to 8 */
    s.df = true;
    n = build(TCPST_LT_RAW, &s);
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_OK);
    check_fields(&s, 4);
    ck_assert_uint_eq(seg.ipflags, TCPST_IP_HAS_OPTIONS | TCPST_IP_DF);
    ck_assert_uint_eq(lay.l4 - lay.l3, 28);
    /* Options cut by the snaplen are truncation, not a bad header. */
    ASSERT_ST(dec2(TCPST_LT_RAW, fb, 22, n), TCPST_DEC_TRUNC_IP);
    ASSERT_ST(dec2(TCPST_LT_RAW, fb, 19, n), TCPST_DEC_TRUNC_IP);
}
END_TEST

START_TEST(test_ipv4_fragments)
{
    static const struct {
        const char *name;
        bool mf;
        uint16_t off;
        uint8_t proto;
        tcpst_decode_status want;
    } cases[] = {
        {"first", true, 0, 0, TCPST_DEC_IP_FRAGMENT},
        {"middle", true, 185, 0, TCPST_DEC_IP_FRAGMENT},
        {"last", false, 370, 0, TCPST_DEC_IP_FRAGMENT},
        /* UDP may carry a tunnel (VXLAN, GTP-U...), so its fragments are reassembled too. */
        {"udp first", true, 0, 17, TCPST_DEC_IP_FRAGMENT},
        {"udp last", false, 8, 17, TCPST_DEC_IP_FRAGMENT},
        {"icmp first", true, 0, 1, TCPST_DEC_NOT_TCP},
        {"whole udp", false, 0, 17, TCPST_DEC_NOT_TCP},
        {"whole icmp", false, 0, 1, TCPST_DEC_NOT_TCP},
        {"whole tcp", false, 0, 0, TCPST_DEC_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_seg s = base(4);
        size_t n;
        tcpst_decode_status st;
        s.mf = cases[i].mf;
        s.frag_off = cases[i].off;
        s.ip_proto = cases[i].proto;
        n = build(TCPST_LT_IPV4, &s);
        st = dec(TCPST_LT_IPV4, n);
        ck_assert_msg(st == cases[i].want, "%s: %s", cases[i].name, tcpst_decode_status_name(st));
        /* Addresses are known even though the segment is not tracked. */
        assert_addr(&seg.src, V4A);
        assert_addr(&seg.dst, V4B);
    }
}
END_TEST

START_TEST(test_ipv4_bad_ihl)
{
    pb_seg s = base(4);
    size_t n;

    s.payload_len = 0;
    s.optlen = 0; /* 40-byte packet */
    n = build(TCPST_LT_RAW, &s);
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        fb[0] = (uint8_t)(0x40 | ihl);
        ck_assert_msg(dec(TCPST_LT_RAW, n) == TCPST_DEC_BAD_IP_HLEN, "ihl %u", ihl);
    }
    /* IHL 15 = 60 bytes, beyond both the total length and the capture. */
    fb[0] = 0x4F;
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_BAD_IP_HLEN);
    /* IHL 11 = 44 bytes, still beyond the 40-byte packet. */
    fb[0] = 0x4B;
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_BAD_IP_HLEN);
}
END_TEST

START_TEST(test_ipv4_bad_total_length)
{
    pb_seg s = base(4);
    size_t n = build(TCPST_LT_ETHERNET, &s);
    size_t iplen = n - lay.l3;
    uint8_t *tl = fb + lay.l3 + 2;

    /* 0 is what TSO/GSO captures show: the frame length is used when fully captured. */
    tl[0] = 0;
    tl[1] = 0;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.ip_len, iplen);
    ck_assert_uint_eq(seg.payload_len, 10);
    ck_assert_uint_eq(seg.ipflags & TCPST_IP_LEN_FROM_FRAME, TCPST_IP_LEN_FROM_FRAME);
    /* ...but not when the frame was snapped: the true length is unknown. */
    ASSERT_ST(dec2(TCPST_LT_ETHERNET, fb, n, n + 100), TCPST_DEC_BAD_IP_LEN);
    tl[1] = 19;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_IP_LEN);
    /* Larger than the wire length. */
    tl[0] = (uint8_t)((iplen + 1) >> 8);
    tl[1] = (uint8_t)(iplen + 1);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_IP_LEN);
    /* ...but fine when the wire was longer than what was captured. */
    ASSERT_ST(dec2(TCPST_LT_ETHERNET, fb, n, n + 1), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.payload_len, 11);
    ck_assert_uint_eq(seg.payload_caplen, 10);
    ck_assert_uint_eq(seg.ipflags & TCPST_IP_PAYLOAD_TRUNC, TCPST_IP_PAYLOAD_TRUNC);
    /* Too short for the TCP header it claims to carry. */
    tl[0] = 0;
    tl[1] = 20 + 30;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_TCP_HLEN);
    /* Shorter than the frame: the rest is trailer, not payload. */
    tl[1] = 20 + 40 + 3;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.payload_len, 3);
    ck_assert_uint_eq(seg.payload_caplen, 3);
    ck_assert_uint_eq(seg.ip_len, 63);
}
END_TEST

START_TEST(test_ethernet_padding)
{
    for (int fam = 4; fam <= 6; fam += 2) {
        for (uint32_t pay = 0; pay <= 2; pay++) {
            pb_seg s = base(fam);
            size_t n;
            s.optlen = 0;
            s.payload_len = pay;
            s.flags = pay ? TCPST_PSH | TCPST_ACK : TCPST_ACK;
            s.min_frame = 60;
            n = build(TCPST_LT_ETHERNET, &s);
            ck_assert_uint_ge(n, 60);
            ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
            check_fields(&s, fam); /* payload_len/caplen exclude the padding */
            ck_assert(pb_tcp_checksum_ok(fb, &lay));
        }
    }
}
END_TEST

/* ---- IPv6 ----------------------------------------------------------------- */

START_TEST(test_ipv6_ext_chains)
{
    static const struct {
        const char *name;
        uint8_t ext[6];
        size_t n;
    } cases[] = {
        {"hop+dst+rt", {0, 60, 43}, 3},
        {"hop only", {0}, 1},
        {"ah", {51}, 1},
        {"dst+ah+dst", {60, 51, 60}, 3},
        {"mobility", {135}, 1},
        {"hip", {139}, 1},
        {"shim6", {140}, 1},
        {"atomic fragment", {44}, 1},
        {"hop+frag+dst", {0, 44, 60}, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_seg s = base(6);
        size_t n;
        tcpst_decode_status st;
        s.v6ext = cases[i].ext;
        s.nv6ext = cases[i].n;
        n = build(TCPST_LT_IPV6, &s);
        st = dec(TCPST_LT_IPV6, n);
        ck_assert_msg(st == TCPST_DEC_OK, "%s: %s", cases[i].name, tcpst_decode_status_name(st));
        check_fields(&s, 6);
        ck_assert_uint_eq(seg.ipflags, TCPST_IP_HAS_EXTHDR);
    }
}
END_TEST

START_TEST(test_ipv6_fragments)
{
    static const uint8_t frag[1] = {44};
    static const uint8_t frag_dst[2] = {44, 60};
    static const struct {
        const char *name;
        const uint8_t *ext;
        size_t n;
        bool mf;
        uint16_t off;
        uint8_t proto;
        tcpst_decode_status want;
    } cases[] = {
        {"atomic", frag, 1, false, 0, 0, TCPST_DEC_OK},
        {"first", frag, 1, true, 0, 0, TCPST_DEC_IP_FRAGMENT},
        {"later", frag, 1, true, 100, 0, TCPST_DEC_IP_FRAGMENT},
        {"last", frag, 1, false, 100, 0, TCPST_DEC_IP_FRAGMENT},
        {"first then dstopts", frag_dst, 2, true, 0, 0, TCPST_DEC_IP_FRAGMENT},
        {"udp fragment", frag, 1, true, 0, 17, TCPST_DEC_IP_FRAGMENT},
        {"icmpv6 fragment", frag, 1, true, 0, 58, TCPST_DEC_NOT_TCP},
        {"atomic udp", frag, 1, false, 0, 17, TCPST_DEC_NOT_TCP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_seg s = base(6);
        size_t n;
        tcpst_decode_status st;
        s.v6ext = cases[i].ext;
        s.nv6ext = cases[i].n;
        s.mf = cases[i].mf;
        s.frag_off = cases[i].off;
        s.ip_proto = cases[i].proto;
        s.ip_id = 0xABCDEF01u;
        n = build(TCPST_LT_RAW, &s);
        st = dec(TCPST_LT_RAW, n);
        ck_assert_msg(st == cases[i].want, "%s: %s", cases[i].name, tcpst_decode_status_name(st));
        assert_addr(&seg.src, V6A);
    }
}
END_TEST

START_TEST(test_ipv6_not_tcp)
{
    static const uint8_t hop[1] = {0};
    static const struct {
        const char *name;
        const uint8_t *ext;
        size_t n;
        uint8_t proto;
    } cases[] = {
        {"no next header", NULL, 0, 59},
        {"hop then no next header", hop, 1, 59},
        {"esp", NULL, 0, 50},
        {"hop then esp", hop, 1, 50},
        {"udp", NULL, 0, 17},
        {"icmpv6", hop, 1, 58},
        {"unknown 253", NULL, 0, 253},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_seg s = base(6);
        size_t n;
        tcpst_decode_status st;
        s.v6ext = cases[i].ext;
        s.nv6ext = cases[i].n;
        s.ip_proto = cases[i].proto;
        n = build(TCPST_LT_ETHERNET, &s);
        st = dec(TCPST_LT_ETHERNET, n);
        ck_assert_msg(st == TCPST_DEC_NOT_TCP, "%s: %s", cases[i].name,
                      tcpst_decode_status_name(st));
    }
}
END_TEST

START_TEST(test_ipv6_ext_trunc)
{
    static const uint8_t chain[3] = {0, 60, 43};
    pb_seg s = base(6);
    size_t n, ext0;

    s.v6ext = chain;
    s.nv6ext = 3;
    n = build(TCPST_LT_ETHERNET, &s);
    ext0 = lay.l3 + 40;
    /* Cut by the snaplen inside each extension header. */
    for (size_t c = ext0; c < ext0 + 24; c++) {
        ck_assert_msg(dec2(TCPST_LT_ETHERNET, fb, c, n) == TCPST_DEC_IPV6_EXT_TRUNC, "caplen %zu",
                      c);
    }
    /* Header length running past the payload length. */
    fb[ext0 + 8 + 1] = 200;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_IPV6_EXT_TRUNC);
    /* The last header eats the rest of the payload: no room for TCP. */
    s.payload_len = 0;
    n = build(TCPST_LT_ETHERNET, &s);
    ck_assert_uint_eq((n - ext0 - 16) % 8, 0);
    fb[ext0 + 16 + 1] = (uint8_t)((n - ext0 - 16) / 8 - 1);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_TCP_HLEN);
}
END_TEST

START_TEST(test_ipv6_ext_limit)
{
    uint8_t chain[TCPST_MAX_IPV6_EXT + 1];
    pb_seg s = base(6);
    size_t n;

    memset(chain, 60, sizeof chain);
    s.v6ext = chain;
    s.nv6ext = TCPST_MAX_IPV6_EXT;
    n = build(TCPST_LT_RAW, &s);
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_OK);
    check_fields(&s, 6);
    s.nv6ext = TCPST_MAX_IPV6_EXT + 1;
    n = build(TCPST_LT_RAW, &s);
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_IPV6_EXT_LIMIT);
}
END_TEST

START_TEST(test_ipv6_bad_lengths)
{
    pb_seg s = base(6);
    size_t n = build(TCPST_LT_IPV6, &s);
    size_t plen = n - 40;

    ASSERT_ST(dec2(TCPST_LT_IPV6, fb, 39, n), TCPST_DEC_TRUNC_IP);
    fb[4] = 0;
    fb[5] = 0; /* jumbogram marker without a jumbo option */
    ASSERT_ST(dec(TCPST_LT_IPV6, n), TCPST_DEC_BAD_IP_LEN);
    fb[4] = (uint8_t)((plen + 1) >> 8);
    fb[5] = (uint8_t)(plen + 1);
    ASSERT_ST(dec(TCPST_LT_IPV6, n), TCPST_DEC_BAD_IP_LEN);
    fb[4] = 0;
    fb[5] = 19; /* less than a TCP header */
    ASSERT_ST(dec(TCPST_LT_IPV6, n), TCPST_DEC_BAD_TCP_HLEN);
}
END_TEST

/* Payload length 0 is only suspicious for TCP (TSO) and hop-by-hop (jumbogram). */
START_TEST(test_ipv6_empty_payload)
{
    static const struct {
        uint8_t nh;
        tcpst_decode_status want;
    } cases[] = {
        {6, TCPST_DEC_BAD_IP_LEN},      {0, TCPST_DEC_BAD_IP_LEN}, {99, TCPST_DEC_NOT_TCP},
        {59, TCPST_DEC_NOT_TCP},        {17, TCPST_DEC_NOT_TCP},   {60, TCPST_DEC_IPV6_EXT_TRUNC},
        {44, TCPST_DEC_IPV6_EXT_TRUNC},
    };
    pb_seg s = base(6);
    size_t n;

    s.optlen = 0;
    s.payload_len = 0;
    n = build(TCPST_LT_ETHERNET, &s);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcpst_decode_status st;
        fb[lay.l3 + 4] = 0;
        fb[lay.l3 + 5] = 0;
        fb[lay.l3 + 6] = cases[i].nh;
        /* The TCP bytes stay in the frame as trailer (Ethernet padding). */
        st = dec(TCPST_LT_ETHERNET, n);
        ck_assert_msg(st == cases[i].want, "nh %u: %s", cases[i].nh, tcpst_decode_status_name(st));
    }
}
END_TEST

/* ---- TCP ------------------------------------------------------------------ */

START_TEST(test_tcp_bad_hlen)
{
    int fam = _i ? 6 : 4;
    pb_seg s = base(fam);
    size_t n = build(TCPST_LT_ETHERNET, &s); /* 40-byte TCP header + 10 payload */
    uint8_t *doff = fb + lay.l4 + 12;

    for (unsigned d = 0; d < 5; d++) {
        *doff = (uint8_t)(d << 4);
        ck_assert_msg(dec(TCPST_LT_ETHERNET, n) == TCPST_DEC_BAD_TCP_HLEN, "doff %u", d);
    }
    /* 60-byte header in a 50-byte IP payload. */
    *doff = 0xF0;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_TCP_HLEN);
    /* 48 bytes fit: options then run into the payload, which is legal to decode. */
    *doff = 0xC0;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.tcp_hlen, 48);
    ck_assert_uint_eq(seg.payload_len, 2);
}
END_TEST

START_TEST(test_tcp_trunc)
{
    int fam = _i ? 6 : 4;
    pb_seg s = base(fam);
    size_t n = build(TCPST_LT_LINUX_SLL, &s);

    /* Cut inside the options: options drive state tracking, so this is a problem. */
    for (size_t c = lay.l4; c < lay.payload; c++) {
        ck_assert_msg(dec2(TCPST_LT_LINUX_SLL, fb, c, n) == TCPST_DEC_TRUNC_TCP, "caplen %zu", c);
        ck_assert(tcpst_decode_is_problem(TCPST_DEC_TRUNC_TCP));
    }
    /* Exactly the header: OK with no payload captured. */
    ASSERT_ST(dec2(TCPST_LT_LINUX_SLL, fb, lay.payload, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.payload_len, 10);
    ck_assert_uint_eq(seg.payload_caplen, 0);
    ck_assert_uint_eq(seg.ipflags & TCPST_IP_PAYLOAD_TRUNC, TCPST_IP_PAYLOAD_TRUNC);
}
END_TEST

START_TEST(test_snapped_payload)
{
    int fam = _i ? 6 : 4;
    pb_seg s = base(fam);
    size_t n, snap;

    s.payload_len = 1400;
    n = build(TCPST_LT_ETHERNET, &s);
    snap = 96; /* a classic tcpdump snaplen */
    ck_assert_uint_gt(snap, lay.payload);
    ASSERT_ST(dec2(TCPST_LT_ETHERNET, fb, snap, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.payload_len, 1400);
    ck_assert_uint_eq(seg.payload_caplen, snap - lay.payload);
    ck_assert_uint_eq(seg.ip_len, n - lay.l3);
    ck_assert_uint_eq(seg.ipflags & TCPST_IP_PAYLOAD_TRUNC, TCPST_IP_PAYLOAD_TRUNC);
    /* Full capture: no flag. */
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.payload_caplen, 1400);
    ck_assert_uint_eq(seg.ipflags & TCPST_IP_PAYLOAD_TRUNC, 0);
    /* wirelen below caplen is raised to caplen (never trusted to shrink). */
    ASSERT_ST(dec2(TCPST_LT_ETHERNET, fb, n, 0), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.payload_caplen, 1400);
}
END_TEST

START_TEST(test_tcp_flags_and_fields)
{
    static const uint16_t flagsets[] = {
        0,
        TCPST_SYN,
        TCPST_SYN | TCPST_ACK,
        TCPST_FIN | TCPST_ACK,
        TCPST_RST,
        TCPST_URG | TCPST_ACK | TCPST_PSH,
        TCPST_SYN | TCPST_ECE | TCPST_CWR,
        TCPST_AE | TCPST_ACK | TCPST_ECE,
        0x1FF,
    };
    for (size_t i = 0; i < sizeof flagsets / sizeof flagsets[0]; i++) {
        pb_seg s = base(i % 2 ? 6 : 4);
        size_t n;
        s.flags = flagsets[i];
        s.urgptr = (uint16_t)(i * 1000 + 7);
        s.win = (uint16_t)(65535 - i);
        s.seq = (uint32_t)i * 0x10000001u;
        s.ack = ~s.seq;
        s.ttl = (uint8_t)(1 + i);
        s.sport = (uint16_t)(1 + i);
        s.dport = (uint16_t)(65535 - i);
        n = build(TCPST_LT_NULL, &s);
        ASSERT_ST(dec(TCPST_LT_NULL, n), TCPST_DEC_OK);
        check_fields(&s, i % 2 ? 6 : 4);
    }
}
END_TEST

START_TEST(test_tcp_options_in_segment)
{
    static const uint32_t edges[4] = {100, 200, 300, 400};
    uint8_t o[40];
    size_t k = 0;
    pb_seg s = base(4);
    size_t n;

    k += pb_opt_nop(o + k);
    k += pb_opt_nop(o + k);
    k += pb_opt_ts(o + k, 5, 6);
    k += pb_opt_nop(o + k);
    k += pb_opt_nop(o + k);
    k += pb_opt_sack(o + k, edges, 2);
    s.opts = o;
    s.optlen = k;
    n = build(TCPST_LT_ETHERNET, &s);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.tcp_hlen, 52);
    ck_assert_uint_eq(seg.opts.present, TCPST_HAS_TS | TCPST_HAS_SACK);
    ck_assert_uint_eq(seg.opts.sack_count, 2);
    ck_assert_uint_eq(seg.opts.sack[1][1], 400);
    ck_assert_uint_eq(seg.opts.tsval, 5);

    /* Malformed option area: decoded OK, flagged in opts. */
    k = pb_opt_raw(o, TCPST_OPT_WSCALE, 1, NULL, 0);
    s.optlen = k; /* padded to 4 */
    n = build(TCPST_LT_ETHERNET, &s);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.opts.malformed, TCPST_OPTBAD_LEN_SHORT);
    ck_assert_uint_eq(seg.tcp_hlen, 24);
}
END_TEST

/* ---- sweeps --------------------------------------------------------------- */

static const int sweep_lts[] = {
    TCPST_LT_ETHERNET,     TCPST_LT_LINUX_SLL,     TCPST_LT_LINUX_SLL2, TCPST_LT_RAW,
    TCPST_LT_IPV4,         TCPST_LT_IPV6,          TCPST_LT_NULL,       TCPST_LT_LOOP,
    TCPST_LT_FDDI,         TCPST_LT_IEEE802_11,    TCPST_LT_RADIOTAP,   TCPST_LT_PPI,
    TCPST_LT_PRISM,        TCPST_LT_AVS,           TCPST_LT_PFLOG,      TCPST_LT_ENC,
    TCPST_LT_ARCNET_LINUX, TCPST_LT_JUNIPER_ETHER, TCPST_LT_IPOIB,      TCPST_LT_ERF,
};

/* Frame variant v (0..3) for family fam. */
static pb_seg sweep_seg(int fam, int v)
{
    static const uint8_t ipopts[4] = {0x94, 0x04, 0, 0};
    static const uint8_t chain[3] = {0, 60, 43};
    pb_seg s = base(fam);

    switch (v) {
        case 0: /* SYN with options, no payload */
            s.flags = TCPST_SYN;
            s.payload_len = 0;
            break;
        case 1: /* data, no options */
            s.optlen = 0;
            s.payload_len = 33;
            break;
        case 2: /* IP options or extension headers */
            if (fam == 4) {
                s.ipopts = ipopts;
                s.ipoptlen = 4;
            } else {
                s.v6ext = chain;
                s.nv6ext = 3;
            }
            break;
        default: /* bare ACK */
            s.flags = TCPST_ACK;
            s.optlen = 0;
            s.payload_len = 0;
            break;
    }
    return s;
}

START_TEST(test_prefix_sweep)
{
    int lt = sweep_lts[_i];
    static const uint16_t tags[2] = {7, 8};

    for (int fam = 4; fam <= 6; fam += 2) {
        if ((lt == TCPST_LT_IPV4 && fam == 6) || (lt == TCPST_LT_IPV6 && fam == 4)) {
            continue;
        }
        for (int v = 0; v < 5; v++) {
            pb_seg s = sweep_seg(fam, v);
            int ntags = (v == 4 && lt == TCPST_LT_ETHERNET) ? 2 : 0;
            size_t n = pb_build_ex(fb, sizeof fb, lt, tags, ntags, &s, &lay);
            ck_assert_uint_ne(n, 0);
            for (size_t c = 0; c <= n; c++) {
                /* Snapped capture: the wire frame was complete. */
                tcpst_decode_status st = dec2(lt, fb, c, n);
                if (c < lay.payload) {
                    ck_assert_msg(st != TCPST_DEC_OK, "lt %d v%d fam %d caplen %zu: OK", lt, v, fam,
                                  c);
                    ck_assert_msg(tcpst_decode_is_problem(st), "lt %d caplen %zu: %s", lt, c,
                                  tcpst_decode_status_name(st));
                } else {
                    ck_assert_msg(st == TCPST_DEC_OK, "lt %d v%d caplen %zu: %s", lt, v, c,
                                  tcpst_decode_status_name(st));
                    ck_assert_uint_eq(seg.payload_len, s.payload_len);
                    ck_assert_uint_eq(seg.payload_caplen, c - lay.payload);
                }
                /* A frame that really was that short on the wire. */
                st = dec2(lt, fb, c, c);
                if (c < n) {
                    ck_assert_msg(st != TCPST_DEC_OK, "lt %d v%d short wire %zu: OK", lt, v, c);
                } else {
                    ASSERT_ST(st, TCPST_DEC_OK);
                }
            }
        }
    }
}
END_TEST

/* Every byte of a valid frame set to a few values: no crash and OK results stay coherent. */
START_TEST(test_mutation_sweep)
{
    static const uint8_t vals[] = {0x00, 0x01, 0x0F, 0x45, 0x60, 0x7F, 0x80, 0xFF};
    int lt = sweep_lts[_i];

    for (int fam = 4; fam <= 6; fam += 2) {
        pb_seg s = sweep_seg(fam, 2);
        size_t n;
        if ((lt == TCPST_LT_IPV4 && fam == 6) || (lt == TCPST_LT_IPV6 && fam == 4)) {
            continue;
        }
        n = pb_build_ex(fb, sizeof fb, lt, NULL, 0, &s, &lay);
        ck_assert_uint_ne(n, 0);
        for (size_t pos = 0; pos < lay.payload; pos++) {
            uint8_t orig = fb[pos];
            for (size_t k = 0; k < sizeof vals; k++) {
                tcpst_decode_status st;
                fb[pos] = vals[k];
                st = dec(lt, n);
                ck_assert_int_lt((int)st, TCPST_DEC__COUNT);
                if (st == TCPST_DEC_OK) {
                    ck_assert_uint_ge(seg.tcp_hlen, 20);
                    ck_assert_uint_le(seg.tcp_hlen, 60);
                    ck_assert_uint_le(seg.payload_caplen, seg.payload_len);
                    ck_assert_uint_le(seg.ip_len, n);
                    ck_assert(seg.ip_version == 4 || seg.ip_version == 6);
                }
            }
            fb[pos] = orig;
        }
    }
}
END_TEST

/* ---- status names ---------------------------------------------------------- */

START_TEST(test_status_names)
{
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC_OK), "ok");
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC_NOT_IP), "not_ip");
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC_TRUNC_TCP), "truncated_tcp_header");
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC_VLAN_DEPTH), "vlan_depth_exceeded");
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC__COUNT), "unknown");
    ck_assert_str_eq(tcpst_decode_status_name((tcpst_decode_status)-1), "unknown");
    for (int i = 0; i < TCPST_DEC__COUNT; i++) {
        const char *a = tcpst_decode_status_name((tcpst_decode_status)i);
        ck_assert_uint_gt(strlen(a), 0);
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(a, tcpst_decode_status_name((tcpst_decode_status)j));
        }
    }
    ck_assert(!tcpst_decode_is_problem(TCPST_DEC_OK));
    ck_assert(!tcpst_decode_is_problem(TCPST_DEC_NOT_TCP));
    ck_assert(tcpst_decode_is_problem(TCPST_DEC_IP_FRAGMENT));
}
END_TEST

/* ---- builder and capture files -------------------------------------------- */

START_TEST(test_builder_checksums)
{
    for (int fam = 4; fam <= 6; fam += 2) {
        pb_seg s = sweep_seg(fam, 2);
        size_t n = build(TCPST_LT_ETHERNET, &s);
        uint32_t sum = 0;
        ck_assert_uint_gt(n, 0);
        ck_assert(pb_tcp_checksum_ok(fb, &lay));
        if (fam == 4) {
            /* IPv4 header checksum: the one's complement sum over the header is 0xFFFF. */
            for (size_t i = 0; i < lay.l4 - lay.l3; i += 2) {
                sum += (uint32_t)(fb[lay.l3 + i] << 8 | fb[lay.l3 + i + 1]);
            }
            while (sum >> 16) {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            ck_assert_uint_eq(sum, 0xFFFF);
        }
        fb[lay.payload] ^= 0x01;
        ck_assert(!pb_tcp_checksum_ok(fb, &lay));
        s.bad_tcp_csum = true;
        n = build(TCPST_LT_ETHERNET, &s);
        ck_assert(!pb_tcp_checksum_ok(fb, &lay));
        fb[lay.l4 + 1] ^= 0x40; /* patch, then repair */
        pb_fix_checksums(fb, &lay);
        ck_assert(pb_tcp_checksum_ok(fb, &lay));
    }
    /* A fixed vector: values checked with tcpdump -vv ("cksum 0x96bd (correct)")
     * and an independent RFC 1071 sum when this test was written. */
    {
        pb_seg s = {.src = "10.0.0.1",
                    .dst = "10.0.0.2",
                    .sport = 1234,
                    .dport = 80,
                    .seq = 1,
                    .flags = TCPST_SYN,
                    .win = 65535};
        size_t n = build(TCPST_LT_RAW, &s);
        ck_assert_uint_eq(n, 40);
        ck_assert_uint_eq((unsigned)(fb[10] << 8 | fb[11]), 0x66CE); /* IPv4 header checksum */
        ck_assert_uint_eq((unsigned)(fb[36] << 8 | fb[37]), 0x96BD); /* TCP checksum */
    }
}
END_TEST

START_TEST(test_builder_rejects)
{
    pb_seg s = base(4);

    ck_assert_uint_eq(pb_build(fb, 10, TCPST_LT_ETHERNET, &s), 0); /* too small */
    s.dst = V6B;                                                   /* mixed families */
    ck_assert_uint_eq(pb_build(fb, sizeof fb, TCPST_LT_ETHERNET, &s), 0);
    s.dst = "not an address";
    ck_assert_uint_eq(pb_build(fb, sizeof fb, TCPST_LT_ETHERNET, &s), 0);
    s = base(4);
    s.optlen = 41;
    ck_assert_uint_eq(pb_build(fb, sizeof fb, TCPST_LT_ETHERNET, &s), 0);
    s = base(4);
    ck_assert_uint_eq(pb_build(fb, sizeof fb, 999, &s), 0);
    s.payload_len = 70000;
    ck_assert_uint_eq(pb_build(fb, sizeof fb, TCPST_LT_RAW, &s), 0);
    /* Exactly enough room works. */
    s = base(4);
    ck_assert_uint_eq(pb_build(fb, 14 + 20 + 40 + 10, TCPST_LT_ETHERNET, &s), 84);
    /* Reverse swaps the endpoints. */
    s = pb_reverse(&s);
    ck_assert_str_eq(s.src, V4B);
    ck_assert_uint_eq(s.sport, 443);
    ck_assert_uint_eq(s.dport, 40000);
}
END_TEST

static void roundtrip(int nanosecond, int ng)
{
    char path[256];
    uint8_t f1[128], f2[2000];
    pb_seg s1 = base(4), s2 = base(6);
    size_t n1, n2;
    pb_frame frames[3];
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    struct pcap_pkthdr *h;
    const u_char *data;
    int prec;

    s1.payload_len = 0;
    s2.payload_len = 1500;
    n1 = pb_build(f1, sizeof f1, TCPST_LT_ETHERNET, &s1);
    n2 = pb_build(f2, sizeof f2, TCPST_LT_ETHERNET, &s2);
    ck_assert_uint_ne(n1, 0);
    ck_assert_uint_ne(n2, 0);
    frames[0] = (pb_frame){.ts_ns = INT64_C(1700000000123456789), .data = f1, .len = n1};
    frames[1] = (pb_frame){.ts_ns = INT64_C(1700000001000000001), .data = f2, .len = n2};
    frames[2] =
        (pb_frame){.ts_ns = INT64_C(1700000002999999999), .data = f2, .len = 96, .wirelen = n2};
    ck_assert_int_eq(pb_tmpfile(path, sizeof path, ng ? ".pcapng" : ".pcap"), 0);
    if (ng) {
        ck_assert_int_eq(pb_write_pcapng(path, TCPST_LT_ETHERNET, nanosecond, frames, 3), 0);
    } else {
        ck_assert_int_eq(pb_write_pcap(path, TCPST_LT_ETHERNET, nanosecond, frames, 3), 0);
    }

    for (prec = 0; prec < 2; prec++) {
        p = prec ? pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf)
                 : pcap_open_offline(path, errbuf);
        ck_assert_msg(p != NULL, "%s", errbuf);
        ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
        for (int i = 0; i < 3; i++) {
            int64_t want_frac = frames[i].ts_ns % 1000000000;
            ck_assert_int_eq(pcap_next_ex(p, &h, &data), 1);
            ck_assert_uint_eq(h->caplen, frames[i].len);
            ck_assert_uint_eq(h->len, frames[i].wirelen ? frames[i].wirelen : frames[i].len);
            ck_assert_int_eq(memcmp(data, frames[i].data, h->caplen), 0);
            ck_assert_int_eq(h->ts.tv_sec, frames[i].ts_ns / 1000000000);
            if (!nanosecond) {
                want_frac = want_frac / 1000 * 1000; /* the file only kept microseconds */
            }
            if (prec) {
                ck_assert_int_eq(h->ts.tv_usec, want_frac);
            } else {
                ck_assert_int_eq(h->ts.tv_usec, want_frac / 1000);
            }
            /* What libpcap hands back decodes like the original frame. */
            ck_assert_int_eq(tcpst_decode(TCPST_LT_ETHERNET, data, h->caplen, h->len, &seg),
                             TCPST_DEC_OK);
            ck_assert_uint_eq(seg.payload_len, i == 0 ? 0 : 1500);
            ck_assert_uint_eq(seg.ipflags & TCPST_IP_PAYLOAD_TRUNC,
                              i == 2 ? TCPST_IP_PAYLOAD_TRUNC : 0);
        }
        ck_assert_int_eq(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
        pcap_close(p);
    }
    unlink(path);
}

START_TEST(test_pcap_roundtrip)
{
    roundtrip(_i & 1, _i >> 1); /* usec/nsec x pcap/pcapng */
}
END_TEST

/* tcp-http-with-padding: short frames padded to 60 bytes must not grow payload. */
START_TEST(test_zeek_padding_trace)
{
    const char *path =
        TCPSTATE_SOURCE_DIR "/../shared/corpus/zeek/traces/tcp-http-with-padding.pcap";
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned padded = 0, total = 0;

    if (access(path, R_OK) != 0) {
        fprintf(stderr, "skip: %s not present\n", path);
        return;
    }
    p = pcap_open_offline(path, errbuf);
    ck_assert_msg(p != NULL, "%s", errbuf);
    while (pcap_next_ex(p, &h, &data) == 1) {
        ASSERT_ST(tcpst_decode(pcap_datalink(p), data, h->caplen, h->len, &seg), TCPST_DEC_OK);
        total++;
        ck_assert_uint_eq(seg.payload_len,
                          seg.ip_len - (seg.ip_version == 4 ? 20u : 40u) - seg.tcp_hlen);
        ck_assert_uint_le(seg.payload_caplen, seg.payload_len);
        if (h->caplen > 14 + seg.ip_len) {
            padded++;
            ck_assert_uint_eq(seg.payload_caplen, seg.payload_len);
        }
    }
    pcap_close(p);
    ck_assert_uint_gt(total, 0);
    ck_assert_uint_gt(padded, 0);
}
END_TEST

/* Checksum verification against the builder's (tcpdump-verified) checksums. */
START_TEST(test_checksum_verify)
{
    static const int lts[] = {TCPST_LT_ETHERNET, TCPST_LT_LINUX_SLL2, TCPST_LT_RAW};
    for (int fam = 4; fam <= 6; fam += 2) {
        for (size_t k = 0; k < sizeof lts / sizeof lts[0]; k++) {
            pb_seg s = base(fam);
            size_t n = build(lts[k], &s);
            ASSERT_ST(tcpst_decode(lts[k], fb, n, n, &seg), TCPST_DEC_OK);
            ck_assert_int_eq(tcpst_decode_checksum(fb, n, &seg), TCPST_CSUM_OK);
            /* One flipped payload bit breaks the TCP checksum. */
            fb[n - 1] ^= 0x01;
            ck_assert_int_eq(tcpst_decode_checksum(fb, n, &seg), TCPST_CSUM_BAD_TCP);
            fb[n - 1] ^= 0x01;
            /* A snapped frame cannot be verified. */
            ASSERT_ST(tcpst_decode(lts[k], fb, n - 4, n, &seg), TCPST_DEC_OK);
            ck_assert_int_eq(tcpst_decode_checksum(fb, n - 4, &seg), TCPST_CSUM_UNVERIFIABLE);
            if (fam == 4) {
                ASSERT_ST(tcpst_decode(lts[k], fb, n, n, &seg), TCPST_DEC_OK);
                fb[lay.l3 + 8] ^= 0x01; /* TTL: only the IP header checksum covers it */
                ck_assert_int_eq(tcpst_decode_checksum(fb, n, &seg), TCPST_CSUM_BAD_IP);
            }
        }
    }
    pb_seg s = base(4);
    s.bad_tcp_csum = true;
    size_t n = build(TCPST_LT_ETHERNET, &s);
    ASSERT_ST(tcpst_decode(TCPST_LT_ETHERNET, fb, n, n, &seg), TCPST_DEC_OK);
    ck_assert_int_eq(tcpst_decode_checksum(fb, n, &seg), TCPST_CSUM_BAD_TCP);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc;

    tc = tcase_create("link");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_linktypes, 0, (int)(sizeof lt_cases / sizeof lt_cases[0]));
    tcase_add_test(tc, test_linktype_ppp_nflog_edges);
    tcase_add_test(tc, test_linktype_wlan_edges);
    tcase_add_test(tc, test_linktype_radio_edges);
    tcase_add_test(tc, test_linktype_bsd_arcnet_juniper_erf_edges);
    tcase_add_test(tc, test_linktype_supported);
    tcase_add_test(tc, test_linktype_table);
    tcase_add_test(tc, test_ip_version_mismatch);
    tcase_add_test(tc, test_non_ip_link);
    tcase_add_test(tc, test_null_loop_af);
    tcase_add_test(tc, test_trunc_link);
    tcase_add_loop_test(tc, test_fabricpath, 0, 2);
    tcase_add_test(tc, test_fddi_llc);
    tcase_add_loop_test(tc, test_vlan_depths, 0, 2 * (TCPST_MAX_VLAN_SKIP + 1));
    tcase_add_test(tc, test_vlan_tpids_and_pcp);
    tcase_add_test(tc, test_vlan_on_cooked);
    suite_add_tcase(s, tc);

    tc = tcase_create("ip");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_ipv4_options);
    tcase_add_test(tc, test_ipv4_fragments);
    tcase_add_test(tc, test_ipv4_bad_ihl);
    tcase_add_test(tc, test_ipv4_bad_total_length);
    tcase_add_test(tc, test_ethernet_padding);
    tcase_add_test(tc, test_ipv6_ext_chains);
    tcase_add_test(tc, test_ipv6_fragments);
    tcase_add_test(tc, test_ipv6_not_tcp);
    tcase_add_test(tc, test_ipv6_ext_trunc);
    tcase_add_test(tc, test_ipv6_ext_limit);
    tcase_add_test(tc, test_ipv6_bad_lengths);
    tcase_add_test(tc, test_ipv6_empty_payload);
    suite_add_tcase(s, tc);

    tc = tcase_create("tcp");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_tcp_bad_hlen, 0, 2);
    tcase_add_loop_test(tc, test_tcp_trunc, 0, 2);
    tcase_add_loop_test(tc, test_snapped_payload, 0, 2);
    tcase_add_test(tc, test_tcp_flags_and_fields);
    tcase_add_test(tc, test_tcp_options_in_segment);
    tcase_add_test(tc, test_status_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("sweep");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_prefix_sweep, 0, (int)(sizeof sweep_lts / sizeof sweep_lts[0]));
    tcase_add_loop_test(tc, test_mutation_sweep, 0, (int)(sizeof sweep_lts / sizeof sweep_lts[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("builder");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_builder_checksums);
    tcase_add_test(tc, test_builder_rejects);
    tcase_add_loop_test(tc, test_pcap_roundtrip, 0, 4);
    tcase_add_test(tc, test_zeek_padding_trace);
    tcase_add_test(tc, test_checksum_verify);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(decode_suite());
}
