/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_encap.c - unit tests for the encapsulations and tunnels in src/decode/:
 * VLAN, MPLS (with and without pseudowire control word), PPPoE, PBB,
 * FabricPath, VN-Tag, LLC/SNAP, GRE (key, checksum, sequence, PPTP, ERSPAN
 * I/II/III, GRE-in-UDP), IP-in-IP, VXLAN, Geneve, GTP-U, Teredo and AYIYA.
 *
 * Frames come from pb_build_encap (tests/support/pktbuild).  Each case checks
 * the inner segment, the l3/l4 offsets (through tcpst_decode_checksum), the
 * encap chain and the key; then every caplen prefix of the frame must give a
 * truncation status (never OK, never an out-of-bounds read: every decode runs
 * on a heap copy of exactly caplen bytes, for AddressSanitizer), and every
 * header byte set to a few values must decode to something coherent.  The
 * rest covers ports, configuration, depth limits, bad headers, fragments and
 * tcpst_decode_ip on a reassembled datagram.
 *
 * It does not read capture files: the Zeek tunnel traces are checked by the
 * Zeek conformance test through the whole program.
 */
#include <check.h>

#include "ckrun.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "decode/cursor.h"
#include "pktbuild.h"
#include "tcpstate/decode.h"

#define IN4A    "10.10.10.1"
#define IN4B    "10.10.10.2"
#define IN6A    "2001:db8:1::1"
#define IN6B    "2001:db8:2::2"
#define OUT4A   "192.0.2.1"
#define OUT4B   "192.0.2.2"
#define OUT6A   "2001:db8:f::1"
#define OUT6B   "2001:db8:f::2"
#define TEREDO6 "2001:0:4137:9e50:8000:f12a:b9c8:2815"

#define MAXL 16

static uint8_t fb[PB_MAX_FRAME];
static tcpst_segment seg;
static pb_layout lay;
static size_t offs[MAXL];
static tcpst_decode_config cfg;

/* Decode from a heap copy of exactly caplen bytes. */
static tcpst_decode_status dec_cfg(const tcpst_decode_config *c, int lt, const uint8_t *f,
                                   size_t caplen, size_t wirelen, tcpst_segment *out)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    tcpst_decode_status st;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, f, caplen);
    st = tcpst_decode_ex(c, lt, caplen ? copy : NULL, caplen, wirelen, out);
    free(copy);
    return st;
}

static tcpst_decode_status dec(int lt, size_t n)
{
    return dec_cfg(&cfg, lt, fb, n, n, &seg);
}

#define ASSERT_ST(got, want)                                                                       \
    ck_assert_msg((got) == (want), "status %s, want %s", tcpst_decode_status_name(got),            \
                  tcpst_decode_status_name(want))

static pb_seg inner(int fam)
{
    pb_seg s = {
        .src = fam == 4 ? IN4A : IN6A,
        .dst = fam == 4 ? IN4B : IN6B,
        .sport = 40001,
        .dport = 8080,
        .seq = 0x01020304u,
        .ack = 0xA0B0C0D0u,
        .flags = TCPST_PSH | TCPST_ACK,
        .win = 1234,
        .payload_len = 17,
        .ttl = 61,
    };
    return s;
}

static void assert_addr(const tcpst_addr *a, const char *txt)
{
    uint8_t want[16] = {0};
    int fam = inet_pton(AF_INET, txt, want) == 1 ? 4 : 6;

    if (fam == 6) {
        ck_assert_int_eq(inet_pton(AF_INET6, txt, want), 1);
    }
    ck_assert_uint_eq(a->family, (unsigned)fam);
    ck_assert_int_eq(memcmp(a->bytes, want, fam == 4 ? 4 : 16), 0);
}

/* The inner segment, where it is in the frame, and that its checksums verify there. */
static void check_inner(const pb_seg *s, size_t n)
{
    assert_addr(&seg.src, s->src);
    assert_addr(&seg.dst, s->dst);
    ck_assert_uint_eq(seg.sport, s->sport);
    ck_assert_uint_eq(seg.dport, s->dport);
    ck_assert_uint_eq(seg.seq, s->seq);
    ck_assert_uint_eq(seg.ack, s->ack);
    ck_assert_uint_eq(seg.flags, s->flags);
    ck_assert_uint_eq(seg.window, s->win);
    ck_assert_uint_eq(seg.ttl, s->ttl);
    ck_assert_uint_eq(seg.payload_len, s->payload_len);
    ck_assert_uint_eq(seg.payload_caplen, s->payload_len);
    ck_assert_uint_eq(seg.l3_off, lay.l3);
    ck_assert_uint_eq(seg.l4_off, lay.l4);
    ck_assert_int_eq(tcpst_decode_checksum(fb, n, &seg), TCPST_CSUM_OK);
}

typedef struct want_encap {
    tcpst_encap_type type;
    int has_id; /* -1: the layer has no id */
    uint32_t id;
    int in_key;
} want_encap;

#define NOID(t)                                                                                    \
    {                                                                                              \
        (t), -1, 0, 0                                                                              \
    }
#define ID(t, i, k)                                                                                \
    {                                                                                              \
        (t), 1, (i), (k)                                                                           \
    }

static void check_chain(const want_encap *w, size_t n)
{
    ck_assert_uint_eq(seg.nencap, n);
    for (size_t i = 0; i < n; i++) {
        const tcpst_encap *e = &seg.encap[i];
        ck_assert_msg(e->type == w[i].type, "layer %zu: %s, want %s", i,
                      tcpst_encap_type_name((tcpst_encap_type)e->type),
                      tcpst_encap_type_name(w[i].type));
        ck_assert_uint_eq(e->has_id, w[i].has_id == 1);
        ck_assert_uint_eq(e->id, w[i].has_id == 1 ? w[i].id : 0);
        ck_assert_uint_eq(e->in_key, (unsigned)w[i].in_key);
    }
}

/* ---- one frame per encapsulation --------------------------------------------------- */

typedef struct enc_case {
    const char *name;
    int lt;
    int fam; /* inner family */
    pb_layer l[MAXL];
    size_t nl;
    want_encap w[TCPST_ENCAP_MAX];
    size_t nw;
    bool guessed; /* Teredo found by its payload: a cut inner header is NOT_TCP */
} enc_case;

#define L(...) .l = {__VA_ARGS__}, .nl = (sizeof((pb_layer[]){__VA_ARGS__}) / sizeof(pb_layer))
#define W(...) .w = {__VA_ARGS__}, .nw = (sizeof((want_encap[]){__VA_ARGS__}) / sizeof(want_encap))
#define IP4                                                                                        \
    {                                                                                              \
        .kind = PB_IP, .src = OUT4A, .dst = OUT4B                                                  \
    }
#define IP6                                                                                        \
    {                                                                                              \
        .kind = PB_IP, .src = OUT6A, .dst = OUT6B                                                  \
    }
#define UDP(d)                                                                                     \
    {                                                                                              \
        .kind = PB_UDP, .sport = 50000, .dport = (d)                                               \
    }
#define ETH                                                                                        \
    {                                                                                              \
        .kind = PB_ETH                                                                             \
    }

static const enc_case cases[] = {
    {"vlan", TCPST_LT_ETHERNET, 4, L({.kind = PB_VLAN, .id = 100}),
     W(ID(TCPST_ENCAP_VLAN, 100, 1))},
    {"qinq", TCPST_LT_ETHERNET, 6,
     L({.kind = PB_VLAN, .id = 10, .tpid = 0x88A8}, {.kind = PB_VLAN, .id = 20}),
     W(ID(TCPST_ENCAP_VLAN, 10, 1), ID(TCPST_ENCAP_VLAN, 20, 1))},
    {"mpls ip", TCPST_LT_ETHERNET, 4, L({.kind = PB_MPLS, .id = 16}, {.kind = PB_MPLS, .id = 17}),
     W(ID(TCPST_ENCAP_MPLS, 16, 0), ID(TCPST_ENCAP_MPLS, 17, 0))},
    {"mpls ipv6", TCPST_LT_ETHERNET, 6, L({.kind = PB_MPLS, .id = 0xFFFFF}),
     W(ID(TCPST_ENCAP_MPLS, 0xFFFFF, 0))},
    {"mpls pw cw", TCPST_LT_ETHERNET, 4,
     L({.kind = PB_MPLS, .id = 100}, {.kind = PB_PWCW}, ETH, {.kind = PB_VLAN, .id = 6}),
     W(ID(TCPST_ENCAP_MPLS, 100, 0), ID(TCPST_ENCAP_VLAN, 6, 1))},
    {"mpls pw no cw", TCPST_LT_ETHERNET, 4, L({.kind = PB_MPLS, .id = 101}, ETH),
     W(ID(TCPST_ENCAP_MPLS, 101, 0))},
    /* The builder's destination MAC starts with nibble 0, like a control word would. */
    {"mpls pw no cw nibble 0", TCPST_LT_ETHERNET, 6,
     L({.kind = PB_MPLS, .id = 102}, ETH, {.kind = PB_VLAN, .id = 3}),
     W(ID(TCPST_ENCAP_MPLS, 102, 0), ID(TCPST_ENCAP_VLAN, 3, 1))},
    {"mpls in sll", TCPST_LT_LINUX_SLL, 4, L({.kind = PB_MPLS, .id = 5}),
     W(ID(TCPST_ENCAP_MPLS, 5, 0))},
    {"pppoe over qinq", TCPST_LT_ETHERNET, 4,
     L({.kind = PB_VLAN, .id = 3704}, {.kind = PB_VLAN, .id = 2474},
       {.kind = PB_PPPOE, .id = 0xF07}),
     W(ID(TCPST_ENCAP_VLAN, 3704, 1), ID(TCPST_ENCAP_VLAN, 2474, 1),
       ID(TCPST_ENCAP_PPPOE, 0xF07, 0))},
    {"pppoe v6", TCPST_LT_ETHERNET, 6, L({.kind = PB_PPPOE, .id = 1}),
     W(ID(TCPST_ENCAP_PPPOE, 1, 0))},
    {"pbb", TCPST_LT_ETHERNET, 4,
     L({.kind = PB_VLAN, .id = 4051, .tpid = 0x88A8}, {.kind = PB_PBB, .id = 0x1EBB44}, ETH,
       {.kind = PB_VLAN, .id = 4020}),
     W(ID(TCPST_ENCAP_VLAN, 4051, 1), ID(TCPST_ENCAP_PBB, 0x1EBB44, 0),
       ID(TCPST_ENCAP_VLAN, 4020, 1))},
    {"fabricpath", TCPST_LT_ETHERNET, 6, L({.kind = PB_FABRICPATH, .id = 0x1D6}, ETH),
     W(ID(TCPST_ENCAP_FABRICPATH, 0x1D6, 0))},
    {"vntag", TCPST_LT_ETHERNET, 4,
     L({.kind = PB_VLAN, .id = 250}, {.kind = PB_VNTAG, .id = 0x2ABC},
       {.kind = PB_VLAN, .id = 250}),
     W(ID(TCPST_ENCAP_VLAN, 250, 1), ID(TCPST_ENCAP_VNTAG, 0x2ABC, 0),
       ID(TCPST_ENCAP_VLAN, 250, 1))},
    {"llc snap", TCPST_LT_ETHERNET, 4, L({.kind = PB_LLC}), W(NOID(TCPST_ENCAP_LLC))},
    {"llc snap vlan", TCPST_LT_ETHERNET, 6, L({.kind = PB_VLAN, .id = 9}, {.kind = PB_LLC}),
     W(ID(TCPST_ENCAP_VLAN, 9, 1), NOID(TCPST_ENCAP_LLC))},
    {"gre", TCPST_LT_ETHERNET, 4, L(IP4, {.kind = PB_GRE}), W(NOID(TCPST_ENCAP_GRE))},
    {"gre key", TCPST_LT_ETHERNET, 6, L(IP4, {.kind = PB_GRE, .key = true, .id = 7}),
     W(ID(TCPST_ENCAP_GRE, 7, 1))},
    {"gre csum key seq", TCPST_LT_RAW, 4,
     L(IP6, {.kind = PB_GRE, .csum = true, .key = true, .seq = true, .id = 0xFFFFFFFF}),
     W(ID(TCPST_ENCAP_GRE, 0xFFFFFFFF, 1))},
    {"gre csum seq", TCPST_LT_RAW, 4, L(IP4, {.kind = PB_GRE, .csum = true, .seq = true}),
     W(NOID(TCPST_ENCAP_GRE))},
    {"gretap", TCPST_LT_ETHERNET, 4, L(IP4, {.kind = PB_GRE, .key = true, .id = 8}, ETH),
     W(ID(TCPST_ENCAP_GRE, 8, 1))},
    {"gre mpls", TCPST_LT_ETHERNET, 4, L(IP4, {.kind = PB_GRE}, {.kind = PB_MPLS, .id = 30}),
     W(NOID(TCPST_ENCAP_GRE), ID(TCPST_ENCAP_MPLS, 30, 0))},
    {"erspan type i", TCPST_LT_ETHERNET, 4, L(IP4, {.kind = PB_GRE}, {.kind = PB_ERSPAN1}, ETH),
     W(NOID(TCPST_ENCAP_GRE), NOID(TCPST_ENCAP_ERSPAN))},
    {"erspan type ii", TCPST_LT_ETHERNET, 4,
     L(IP4, {.kind = PB_GRE}, {.kind = PB_ERSPAN2, .id = 55}, ETH),
     W(NOID(TCPST_ENCAP_GRE), ID(TCPST_ENCAP_ERSPAN, 55, 1))},
    {"erspan type iii", TCPST_LT_ETHERNET, 6,
     L(IP6, {.kind = PB_GRE}, {.kind = PB_ERSPAN3, .id = 1023}, ETH),
     W(NOID(TCPST_ENCAP_GRE), ID(TCPST_ENCAP_ERSPAN, 1023, 1))},
    {"erspan type iii platform", TCPST_LT_ETHERNET, 4,
     L(IP4, {.kind = PB_GRE}, {.kind = PB_ERSPAN3, .id = 56, .opt = true}, ETH),
     W(NOID(TCPST_ENCAP_GRE), ID(TCPST_ENCAP_ERSPAN, 56, 1))},
    {"pptp", TCPST_LT_ETHERNET, 4, L(IP4, {.kind = PB_GRE, .pptp = true, .id = 0x4242}),
     W(ID(TCPST_ENCAP_GRE, 0x4242, 0))},
    {"4in4", TCPST_LT_ETHERNET, 4, L(IP4), W(NOID(TCPST_ENCAP_IP))},
    {"6in4", TCPST_LT_ETHERNET, 6, L(IP4), W(NOID(TCPST_ENCAP_IP))},
    {"4in6", TCPST_LT_ETHERNET, 4, L(IP6), W(NOID(TCPST_ENCAP_IP))},
    {"6in6", TCPST_LT_RAW, 6, L(IP6), W(NOID(TCPST_ENCAP_IP))},
    {"vxlan", TCPST_LT_ETHERNET, 4, L(IP4, UDP(4789), {.kind = PB_VXLAN, .id = 42}, ETH),
     W(ID(TCPST_ENCAP_VXLAN, 42, 1))},
    {"vxlan over v6", TCPST_LT_ETHERNET, 6, L(IP6, UDP(4789), {.kind = PB_VXLAN, .id = 43}, ETH),
     W(ID(TCPST_ENCAP_VXLAN, 43, 1))},
    {"geneve", TCPST_LT_ETHERNET, 4,
     L(IP4, UDP(6081), {.kind = PB_GENEVE, .id = 77, .opt_words = 5}, ETH),
     W(ID(TCPST_ENCAP_GENEVE, 77, 1))},
    {"geneve ip", TCPST_LT_ETHERNET, 6, L(IP4, UDP(6081), {.kind = PB_GENEVE, .id = 0xC012E}),
     W(ID(TCPST_ENCAP_GENEVE, 0xC012E, 1))},
    {"gtpu", TCPST_LT_ETHERNET, 4, L(IP4, UDP(2152), {.kind = PB_GTPU, .id = 0x8C610000u}),
     W(ID(TCPST_ENCAP_GTPU, 0x8C610000u, 0))},
    {"gtpu seq", TCPST_LT_ETHERNET, 6, L(IP4, UDP(2152), {.kind = PB_GTPU, .id = 2, .seq = true}),
     W(ID(TCPST_ENCAP_GTPU, 2, 0))},
    {"gtpu ext", TCPST_LT_ETHERNET, 4, L(IP6, UDP(2152), {.kind = PB_GTPU, .id = 3, .n_ext = 2}),
     W(ID(TCPST_ENCAP_GTPU, 3, 0))},
    {"teredo", TCPST_LT_ETHERNET, 6, L(IP4, UDP(3544), {.kind = PB_TEREDO}),
     W(NOID(TCPST_ENCAP_TEREDO))},
    {"teredo auth origin", TCPST_LT_ETHERNET, 6,
     L(IP4, UDP(3544), {.kind = PB_TEREDO, .auth = true, .opt = true}),
     W(NOID(TCPST_ENCAP_TEREDO))},
    {"ayiya v6", TCPST_LT_ETHERNET, 6, L(IP4, UDP(5072), {.kind = PB_AYIYA}),
     W(NOID(TCPST_ENCAP_AYIYA))},
    {"ayiya v4", TCPST_LT_ETHERNET, 4, L(IP6, UDP(5072), {.kind = PB_AYIYA}),
     W(NOID(TCPST_ENCAP_AYIYA))},
    {"gre in udp", TCPST_LT_ETHERNET, 4, L(IP4, UDP(4754), {.kind = PB_GRE, .key = true, .id = 5}),
     W(ID(TCPST_ENCAP_GRE, 5, 1))},
    /* Nesting. */
    {"vlan mpls pw ethernet", TCPST_LT_ETHERNET, 6,
     L({.kind = PB_VLAN, .id = 5}, {.kind = PB_MPLS, .id = 100}, {.kind = PB_MPLS, .id = 200},
       {.kind = PB_PWCW}, ETH, {.kind = PB_VLAN, .id = 6}),
     W(ID(TCPST_ENCAP_VLAN, 5, 1), ID(TCPST_ENCAP_MPLS, 100, 0), ID(TCPST_ENCAP_MPLS, 200, 0),
       ID(TCPST_ENCAP_VLAN, 6, 1))},
    {"vxlan in gre", TCPST_LT_ETHERNET, 4,
     L({.kind = PB_VLAN, .id = 1}, IP4, {.kind = PB_GRE, .key = true, .id = 3}, IP6, UDP(4789),
       {.kind = PB_VXLAN, .id = 9}, ETH),
     W(ID(TCPST_ENCAP_VLAN, 1, 1), ID(TCPST_ENCAP_GRE, 3, 1), ID(TCPST_ENCAP_VXLAN, 9, 1))},
    {"gtpu in 6in4", TCPST_LT_RAW, 4, L(IP4, IP6, UDP(2152), {.kind = PB_GTPU, .id = 4}),
     W(NOID(TCPST_ENCAP_IP), ID(TCPST_ENCAP_GTPU, 4, 0))},
};

#define NCASES (sizeof cases / sizeof cases[0])

static size_t build_case(const enc_case *c, const pb_seg *s)
{
    size_t n = pb_build_encap(fb, sizeof fb, c->lt, c->l, c->nl, s, &lay, offs);
    ck_assert_msg(n != 0, "%s: not built", c->name);
    return n;
}

START_TEST(test_case_decodes)
{
    const enc_case *c = &cases[_i];
    pb_seg s = inner(c->fam);
    size_t n;
    tcpst_decode_status st;

    if (strcmp(c->name, "mpls pw no cw") == 0) {
        /* 0x02 would read as a control word nibble; a DA starting 0xA lets Ethernet be tried. */
        n = build_case(c, &s);
        fb[lay.l3 - 14] = 0xA2;
    } else {
        n = build_case(c, &s);
    }
    st = dec(c->lt, n);
    ck_assert_msg(st == TCPST_DEC_OK, "%s: %s", c->name, tcpst_decode_status_name(st));
    check_inner(&s, n);
    check_chain(c->w, c->nw);
    ck_assert_uint_eq(seg.ip_version, (unsigned)c->fam);
    ck_assert_uint_eq(seg.ip_len, lay.payload + s.payload_len - lay.l3);
    ck_assert_uint_eq(seg.key_ctx == 0, c->w[0].in_key == 0 && (c->nw < 2 || !c->w[1].in_key) &&
                                            (c->nw < 3 || !c->w[2].in_key) &&
                                            (c->nw < 4 || !c->w[3].in_key));

    /* The other direction of the same connection has the same key. */
    {
        pb_seg r = pb_reverse(&s);
        uint32_t key = seg.key_ctx;
        n = build_case(c, &r);
        if (strcmp(c->name, "mpls pw no cw") == 0) {
            fb[lay.l3 - 14] = 0xA2;
        }
        ASSERT_ST(dec(c->lt, n), TCPST_DEC_OK);
        ck_assert_uint_eq(seg.key_ctx, key);
        ck_assert_uint_eq(seg.sport, s.dport);
    }

    /* key_encap off: same chain, nothing keyed. */
    cfg.key_encap = false;
    n = build_case(c, &s);
    if (strcmp(c->name, "mpls pw no cw") == 0) {
        fb[lay.l3 - 14] = 0xA2;
    }
    ASSERT_ST(dec(c->lt, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.key_ctx, 0);
    ck_assert_uint_eq(seg.nencap, c->nw);
    for (size_t i = 0; i < seg.nencap; i++) {
        ck_assert_uint_eq(seg.encap[i].in_key, 0);
        ck_assert_uint_eq(seg.encap[i].type, c->w[i].type);
    }
}
END_TEST

/* Is a status allowed for a frame cut at caplen c (wire frame complete)? */
static bool cut_status_ok(const enc_case *c, size_t cl, tcpst_decode_status st)
{
    switch (st) {
        case TCPST_DEC_TRUNC_LINK:
        case TCPST_DEC_TRUNC_ENCAP:
        case TCPST_DEC_TRUNC_IP:
        case TCPST_DEC_TRUNC_TCP:
        case TCPST_DEC_IPV6_EXT_TRUNC:
            return true;
        case TCPST_DEC_NOT_TCP:
            /* UDP ports not captured: cannot be told from other UDP.  A payload-detected
             * Teredo header cut: cannot be told either. */
            for (size_t i = 0; i < c->nl; i++) {
                if (c->l[i].kind == PB_UDP && cl < offs[i] + 4) {
                    return true;
                }
            }
            return c->guessed && cl < lay.l3 + 40;
        default:
            return false;
    }
}

/* Every prefix of every case: a truncation status until the TCP header is whole, then OK. */
START_TEST(test_case_prefixes)
{
    const enc_case *c = &cases[_i];
    pb_seg s = inner(c->fam);
    size_t n = build_case(c, &s);

    if (strcmp(c->name, "mpls pw no cw") == 0) {
        fb[lay.l3 - 14] = 0xA2;
    }
    for (size_t cl = 0; cl <= n; cl++) {
        tcpst_decode_status st = dec_cfg(&cfg, c->lt, fb, cl, n, &seg);
        if (cl < lay.payload) {
            ck_assert_msg(cut_status_ok(c, cl, st), "%s caplen %zu/%zu: %s", c->name, cl, n,
                          tcpst_decode_status_name(st));
        } else {
            ck_assert_msg(st == TCPST_DEC_OK, "%s caplen %zu: %s", c->name, cl,
                          tcpst_decode_status_name(st));
            ck_assert_uint_eq(seg.seq, s.seq);
            ck_assert_uint_eq(seg.payload_caplen, cl - lay.payload);
            check_chain(c->w, c->nw);
        }
        /* A frame that really was that short on the wire is never OK. */
        st = dec_cfg(&cfg, c->lt, fb, cl, cl, &seg);
        if (cl < n) {
            ck_assert_msg(st != TCPST_DEC_OK, "%s: short wire %zu decoded", c->name, cl);
        }
    }
}
END_TEST

/* Every header byte set to a few values: no crash, no over-read, and OK results coherent. */
START_TEST(test_case_mutations)
{
    static const uint8_t vals[] = {0x00, 0x01, 0x08, 0x21, 0x45, 0x65, 0x88, 0xFF};
    const enc_case *c = &cases[_i];
    pb_seg s = inner(c->fam);
    size_t n = build_case(c, &s);

    for (size_t pos = 0; pos < lay.payload; pos++) {
        uint8_t orig = fb[pos];
        for (size_t k = 0; k < sizeof vals; k++) {
            tcpst_decode_status st;
            fb[pos] = vals[k];
            st = dec(c->lt, n);
            ck_assert_int_lt((int)st, TCPST_DEC__COUNT);
            ck_assert_uint_le(seg.nencap, TCPST_ENCAP_MAX);
            if (st == TCPST_DEC_OK) {
                ck_assert_uint_ge(seg.tcp_hlen, 20);
                ck_assert_uint_le((size_t)seg.l4_off + seg.tcp_hlen, n);
                ck_assert_uint_lt(seg.l3_off, seg.l4_off);
                ck_assert_uint_le(seg.payload_caplen, seg.payload_len);
                ck_assert_uint_le(seg.ip_len, n - seg.l3_off);
            }
        }
        fb[pos] = orig;
    }
}
END_TEST

/* ---- keys ------------------------------------------------------------------------ */

static uint32_t key_of(const pb_layer *l, size_t nl, int lt)
{
    pb_seg s = inner(4);
    size_t n = pb_build_encap(fb, sizeof fb, lt, l, nl, &s, &lay, NULL);

    ck_assert_uint_ne(n, 0);
    ASSERT_ST(dec(lt, n), TCPST_DEC_OK);
    return seg.key_ctx;
}

START_TEST(test_keys)
{
    const pb_layer vx42[] = {IP4, UDP(4789), {.kind = PB_VXLAN, .id = 42}, ETH};
    const pb_layer vx42b[] = {{.kind = PB_IP, .src = "198.51.100.7", .dst = "198.51.100.8"},
                              {.kind = PB_UDP, .sport = 1, .dport = 4789},
                              {.kind = PB_VXLAN, .id = 42},
                              ETH};
    const pb_layer vx43[] = {IP4, UDP(4789), {.kind = PB_VXLAN, .id = 43}, ETH};
    const pb_layer gn42[] = {IP4, UDP(6081), {.kind = PB_GENEVE, .id = 42}, ETH};
    const pb_layer v100[] = {{.kind = PB_VLAN, .id = 100}};
    const pb_layer v101[] = {{.kind = PB_VLAN, .id = 101}};
    const pb_layer v100vx42[] = {
        {.kind = PB_VLAN, .id = 100}, IP4, UDP(4789), {.kind = PB_VXLAN, .id = 42}, ETH};
    const pb_layer v100vx43[] = {
        {.kind = PB_VLAN, .id = 100}, IP4, UDP(4789), {.kind = PB_VXLAN, .id = 43}, ETH};
    const pb_layer gre7[] = {IP4, {.kind = PB_GRE, .key = true, .id = 7}};
    const pb_layer gre8[] = {IP4, {.kind = PB_GRE, .key = true, .id = 8}};
    const pb_layer ers55[] = {IP4, {.kind = PB_GRE}, {.kind = PB_ERSPAN2, .id = 55}, ETH};
    const pb_layer ers56[] = {IP4, {.kind = PB_GRE}, {.kind = PB_ERSPAN2, .id = 56}, ETH};
    const pb_layer gtp1[] = {IP4, UDP(2152), {.kind = PB_GTPU, .id = 1}};
    const pb_layer gtp2[] = {IP4, UDP(2152), {.kind = PB_GTPU, .id = 2}};
    const pb_layer mpls[] = {{.kind = PB_MPLS, .id = 16}};
    uint32_t k;

    k = key_of(vx42, 4, TCPST_LT_ETHERNET);
    ck_assert_uint_ne(k, 0);
    /* Equal ids: equal keys, whatever the outer addresses and ports. */
    ck_assert_uint_eq(key_of(vx42b, 4, TCPST_LT_RAW), k);
    /* Different ids or layer types: different keys. */
    ck_assert_uint_ne(key_of(vx43, 4, TCPST_LT_ETHERNET), k);
    ck_assert_uint_ne(key_of(gn42, 4, TCPST_LT_ETHERNET), k);
    ck_assert_uint_ne(key_of(v100, 1, TCPST_LT_ETHERNET), key_of(v101, 1, TCPST_LT_ETHERNET));
    ck_assert_uint_ne(key_of(v100vx42, 5, TCPST_LT_ETHERNET),
                      key_of(v100vx43, 5, TCPST_LT_ETHERNET));
    ck_assert_uint_ne(key_of(v100vx42, 5, TCPST_LT_ETHERNET), k);
    ck_assert_uint_ne(key_of(v100vx42, 5, TCPST_LT_ETHERNET), key_of(v100, 1, TCPST_LT_ETHERNET));
    ck_assert_uint_ne(key_of(gre7, 2, TCPST_LT_RAW), key_of(gre8, 2, TCPST_LT_RAW));
    ck_assert_uint_ne(key_of(ers55, 4, TCPST_LT_RAW), key_of(ers56, 4, TCPST_LT_RAW));
    /* GTP-U TEIDs differ per direction, so they are recorded but not keyed. */
    ck_assert_uint_eq(key_of(gtp1, 3, TCPST_LT_RAW), 0);
    ck_assert_uint_eq(key_of(gtp2, 3, TCPST_LT_RAW), 0);
    ck_assert_uint_eq(seg.encap[0].id, 2);
    /* MPLS labels change hop by hop: no key. */
    ck_assert_uint_eq(key_of(mpls, 1, TCPST_LT_ETHERNET), 0);
    /* No layer at all. */
    ck_assert_uint_eq(key_of(NULL, 0, TCPST_LT_ETHERNET), 0);
    /* key_encap off. */
    cfg.key_encap = false;
    ck_assert_uint_eq(key_of(v100vx42, 5, TCPST_LT_ETHERNET), 0);
}
END_TEST

/*
 * The key values themselves: connection keys (and so the flow table's order and every report)
 * depend on them, so a change of hash must be a decision, not an accident.  Computed from
 * the definition: FNV-1a over (type, id big-endian) from the previous key or the basis, then
 * murmur3's finaliser.
 */
START_TEST(test_key_values)
{
    const pb_layer vx42[] = {IP4, UDP(4789), {.kind = PB_VXLAN, .id = 42}, ETH};
    const pb_layer v100[] = {{.kind = PB_VLAN, .id = 100}};
    const pb_layer v100vx42[] = {
        {.kind = PB_VLAN, .id = 100}, IP4, UDP(4789), {.kind = PB_VXLAN, .id = 42}, ETH};
    const pb_layer gre7[] = {IP4, {.kind = PB_GRE, .key = true, .id = 7}};

    ck_assert_uint_eq(key_of(v100, 1, TCPST_LT_ETHERNET), 0x8ec67025u);
    ck_assert_uint_eq(key_of(vx42, 4, TCPST_LT_ETHERNET), 0x43fe7669u);
    ck_assert_uint_eq(key_of(v100vx42, 5, TCPST_LT_ETHERNET), 0x3cd97f8bu);
    ck_assert_uint_eq(key_of(gre7, 2, TCPST_LT_RAW), 0x7f44bd18u);
}
END_TEST

/* A thousand VNIs give a thousand keys (the mix spreads small ids). */
START_TEST(test_key_spread)
{
    static uint32_t keys[1000];
    pb_layer l[] = {IP4, UDP(4789), {.kind = PB_VXLAN}, ETH};

    for (uint32_t i = 0; i < 1000; i++) {
        l[2].id = i;
        keys[i] = key_of(l, 4, TCPST_LT_ETHERNET);
        ck_assert_uint_ne(keys[i], 0);
        for (uint32_t j = 0; j < i; j++) {
            ck_assert_msg(keys[i] != keys[j], "VNI %u and %u share a key", i, j);
        }
    }
}
END_TEST

/* VLAN tags inside a tunnel are both layers and seg->vlan entries. */
START_TEST(test_vlan_fields_across_tunnel)
{
    const pb_layer l[] = {{.kind = PB_VLAN, .id = 5},  IP4, UDP(4789),
                          {.kind = PB_VXLAN, .id = 1}, ETH, {.kind = PB_VLAN, .id = 6}};
    pb_seg s = inner(4);
    size_t n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 6, &s, &lay, NULL);
    const want_encap w[] = {ID(TCPST_ENCAP_VLAN, 5, 1), ID(TCPST_ENCAP_VXLAN, 1, 1),
                            ID(TCPST_ENCAP_VLAN, 6, 1)};

    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    check_chain(w, 3);
    ck_assert_uint_eq(seg.nvlan, 2);
    ck_assert_uint_eq(seg.vlan[0], 5);
    ck_assert_uint_eq(seg.vlan[1], 6);
}
END_TEST

/* ---- ports and configuration --------------------------------------------------------- */

START_TEST(test_ports)
{
    pb_layer l[] = {IP4, UDP(4790), {.kind = PB_VXLAN, .id = 42}, ETH};
    pb_seg s = inner(4);
    size_t n;

    /* Not a configured port: plain UDP, as before. */
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 4, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_NOT_TCP);
    /* Configured: followed; the default port is then no longer one. */
    cfg.vxlan_ports[0] = 4790;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.encap[0].id, 42);
    l[1].dport = 4789;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 4, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_NOT_TCP);
    /* Any slot, and the source port counts too. */
    tcpst_decode_config_default(&cfg);
    cfg.vxlan_ports[0] = 1;
    cfg.vxlan_ports[3] = 4789;
    l[1].sport = 4789;
    l[1].dport = 33333;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 4, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    /* A GTP-U port on a VXLAN packet reads it as GTP-U: the destination decides first. */
    tcpst_decode_config_default(&cfg);
    l[1].sport = 4789;
    l[1].dport = 2152;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 4, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_ENCAP); /* VXLAN flags: not version 1 */
}
END_TEST

/* The builder's layer for a UDP tunnel's encap type. */
static pb_layer_kind udp_tunnel_kind(tcpst_encap_type t)
{
    switch (t) {
        case TCPST_ENCAP_VXLAN:
            return PB_VXLAN;
        case TCPST_ENCAP_GENEVE:
            return PB_GENEVE;
        case TCPST_ENCAP_GTPU:
            return PB_GTPU;
        case TCPST_ENCAP_TEREDO:
            return PB_TEREDO;
        case TCPST_ENCAP_AYIYA:
            return PB_AYIYA;
        case TCPST_ENCAP_GRE:
            return PB_GRE;
        default:
            ck_abort_msg("no builder layer for encap type %d", (int)t);
            return PB_ETH;
    }
}

/* Every UDP tunnel on a port of its own choosing: followed only once its row's ports hold
 * it, and recorded as the row's type. */
START_TEST(test_nonstandard_ports)
{
    for (size_t i = 0; i < tcpst__nudp_tunnels; i++) {
        const tcpst__udp_tunnel *t = &tcpst__udp_tunnels[i];
        pb_layer_kind kind = udp_tunnel_kind(t->type);
        pb_layer l[4] = {IP4, UDP(9999), {.kind = kind, .id = 3}, ETH};
        int fam = kind == PB_TEREDO ? 6 : 4;
        pb_seg s = inner(fam);
        size_t nl = kind == PB_GENEVE || kind == PB_VXLAN ? 4 : 3;
        size_t n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, nl, &s, &lay, NULL);

        ck_assert_uint_ne(n, 0);
        tcpst_decode_config_default(&cfg);
        cfg.teredo_detect = false; /* the port alone must decide */
        ck_assert_msg(dec(TCPST_LT_ETHERNET, n) == TCPST_DEC_NOT_TCP, "kind %d", kind);
        ((uint16_t *)(void *)((char *)&cfg + t->ports))[1] = 9999;
        ck_assert_ptr_eq(tcpst__udp_ports(&cfg, t), (char *)&cfg + t->ports);
        ck_assert_msg(dec(TCPST_LT_ETHERNET, n) == TCPST_DEC_OK, "kind %d: %s", kind,
                      tcpst_decode_status_name(dec(TCPST_LT_ETHERNET, n)));
        ck_assert_uint_eq(seg.encap[0].type, t->type);
        check_inner(&s, n);
    }
}
END_TEST

/*
 * One row per `*_ports` field: the port arrays open tcpst_decode_config, so rows at distinct
 * array offsets that fill everything before `tunnels` cover every field.  A new field
 * without a row fails here.  Every default tunnel has a default port.
 */
START_TEST(test_udp_tunnel_table)
{
    const size_t arr = sizeof cfg.vxlan_ports;
    tcpst_decode_config d;

    tcpst_decode_config_default(&d);
    ck_assert_uint_eq(tcpst__nudp_tunnels * arr, offsetof(tcpst_decode_config, tunnels));
    for (size_t i = 0; i < tcpst__nudp_tunnels; i++) {
        const tcpst__udp_tunnel *t = &tcpst__udp_tunnels[i];

        ck_assert(t->parse != NULL);
        ck_assert_uint_eq(t->ports % arr, 0);
        ck_assert_uint_lt(t->ports, offsetof(tcpst_decode_config, tunnels));
        ck_assert_uint_ne(tcpst__udp_ports(&d, t)[0], 0);
        for (size_t j = 0; j < i; j++) {
            ck_assert_uint_ne(tcpst__udp_tunnels[j].ports, t->ports);
        }
    }
    /* The order ports are tried in: the first row wins a port two tunnels share.  A Geneve
     * header reads as a VXLAN one without the I flag, and Ethernet follows in both. */
    ck_assert_uint_eq(tcpst__udp_tunnels[0].ports, offsetof(tcpst_decode_config, vxlan_ports));
    ck_assert_uint_eq(tcpst__udp_tunnels[1].ports, offsetof(tcpst_decode_config, geneve_ports));
    {
        pb_layer l[] = {IP4, UDP(6081), {.kind = PB_GENEVE, .id = 3}, ETH};
        pb_seg s = inner(4);
        size_t n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 4, &s, &lay, NULL);

        ck_assert_uint_ne(n, 0);
        ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
        ck_assert_uint_eq(seg.encap[0].type, TCPST_ENCAP_GENEVE);
        cfg.vxlan_ports[1] = 6081;
        ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
        ck_assert_uint_eq(seg.encap[0].type, TCPST_ENCAP_VXLAN);
        ck_assert_uint_eq(seg.encap[0].has_id, 0);
    }
}
END_TEST

/* Teredo relays use any port: found by an IPv6 header with a Teredo address. */
START_TEST(test_teredo_detect)
{
    pb_layer l[] = {IP4, {.kind = PB_UDP, .sport = 3797, .dport = 32900}, {.kind = PB_TEREDO}};
    pb_seg s = inner(6);
    size_t n;
    enc_case c = {"teredo relay",
                  TCPST_LT_ETHERNET,
                  6,
                  L(IP4, UDP(32900), {.kind = PB_TEREDO}),
                  W(NOID(TCPST_ENCAP_TEREDO)),
                  .guessed = true};

    s.src = TEREDO6;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 3, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    check_inner(&s, n);
    ck_assert_uint_eq(seg.nencap, 1);
    ck_assert_uint_eq(seg.encap[0].type, TCPST_ENCAP_TEREDO);
    /* Origin indication in front is fine too. */
    l[2].opt = true;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 3, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    /* Without the detection: plain UDP. */
    cfg.teredo_detect = false;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_NOT_TCP);
    cfg.teredo_detect = true;
    /* No Teredo address: plain UDP. */
    s.src = IN6A;
    l[2].opt = false;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 3, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_NOT_TCP);
    /* Teredo address but the IPv6 length does not fit the UDP payload: plain UDP. */
    s.dst = TEREDO6;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 3, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    fb[lay.l3 + 5]++; /* IPv6 payload length one more than there is */
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_NOT_TCP);
    /* Every prefix: truncation, or NOT_TCP while the inner header is incomplete. */
    s = inner(6);
    s.src = TEREDO6;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, c.l, c.nl, &s, &lay, offs);
    for (size_t cl = 0; cl < lay.payload; cl++) {
        tcpst_decode_status st = dec_cfg(&cfg, TCPST_LT_ETHERNET, fb, cl, n, &seg);
        ck_assert_msg(cut_status_ok(&c, cl, st), "caplen %zu: %s", cl,
                      tcpst_decode_status_name(st));
    }
}
END_TEST

/* tunnels = false: tunnels are plain IP again; link-level encapsulations still work. */
START_TEST(test_tunnels_off)
{
    cfg.tunnels = false;
    for (size_t i = 0; i < NCASES; i++) {
        const enc_case *c = &cases[i];
        pb_seg s = inner(c->fam);
        size_t n = build_case(c, &s);
        bool tunnel = false;
        tcpst_decode_status st;
        for (size_t k = 0; k < c->nl; k++) {
            tunnel |= c->l[k].kind == PB_IP;
        }
        if (strcmp(c->name, "mpls pw no cw") == 0) {
            fb[lay.l3 - 14] = 0xA2;
        }
        st = dec(c->lt, n);
        if (tunnel) {
            ck_assert_msg(st == TCPST_DEC_NOT_TCP, "%s: %s", c->name, tcpst_decode_status_name(st));
            /* Only the link-level layers in front of the outer IP header. */
            ck_assert_uint_le(seg.nencap, c->nw);
            for (size_t k = 0; k < seg.nencap; k++) {
                ck_assert_uint_eq(seg.encap[k].type, c->w[k].type);
                ck_assert_uint_le(seg.encap[k].type, TCPST_ENCAP_LLC);
            }
        } else {
            ck_assert_msg(st == TCPST_DEC_OK, "%s: %s", c->name, tcpst_decode_status_name(st));
            check_chain(c->w, c->nw);
        }
    }
}
END_TEST

START_TEST(test_config_default)
{
    tcpst_decode_config d;

    memset(&d, 0xAB, sizeof d);
    tcpst_decode_config_default(&d);
    ck_assert_uint_eq(d.vxlan_ports[0], 4789);
    ck_assert_uint_eq(d.geneve_ports[0], 6081);
    ck_assert_uint_eq(d.gtpu_ports[0], 2152);
    ck_assert_uint_eq(d.teredo_ports[0], 3544);
    ck_assert_uint_eq(d.ayiya_ports[0], 5072);
    ck_assert_uint_eq(d.gre_udp_ports[0], 4754);
    for (int i = 1; i < TCPST_DECODE_PORTS_MAX; i++) {
        ck_assert_uint_eq(d.vxlan_ports[i] | d.geneve_ports[i] | d.gtpu_ports[i] |
                              d.teredo_ports[i] | d.ayiya_ports[i] | d.gre_udp_ports[i],
                          0);
    }
    ck_assert(d.tunnels);
    ck_assert(d.key_encap);
    ck_assert(d.teredo_detect);
}
END_TEST

/* tcpst_decode is tcpst_decode_ex with the defaults; a NULL config means the defaults too. */
START_TEST(test_decode_is_defaults)
{
    for (size_t i = 0; i < NCASES; i++) {
        pb_seg s = inner(cases[i].fam);
        size_t n = build_case(&cases[i], &s);
        tcpst_segment a, b, d;
        tcpst_decode_status sa = tcpst_decode(cases[i].lt, fb, n, n, &a);
        tcpst_decode_status sb = tcpst_decode_ex(&cfg, cases[i].lt, fb, n, n, &b);
        tcpst_decode_status sd = tcpst_decode_ex(NULL, cases[i].lt, fb, n, n, &d);
        ck_assert_int_eq(sa, sb);
        ck_assert_int_eq(sa, sd);
        ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
        ck_assert_int_eq(memcmp(&a, &d, sizeof a), 0);
    }
}
END_TEST

/* ---- depth ---------------------------------------------------------------------------- */

START_TEST(test_depth)
{
    pb_layer l[MAXL];
    pb_seg s = inner(4);
    size_t n;

    /* TCPST_ENCAP_MAX labels are fine, one more is too deep. */
    for (int i = 0; i < MAXL; i++) {
        l[i] = (pb_layer){.kind = PB_MPLS, .id = (uint32_t)(1000 + i)};
    }
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, TCPST_ENCAP_MAX, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.nencap, TCPST_ENCAP_MAX);
    ck_assert_uint_eq(seg.encap[TCPST_ENCAP_MAX - 1].id, 1000 + TCPST_ENCAP_MAX - 1);
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, TCPST_ENCAP_MAX + 1, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_ENCAP_DEPTH);
    ck_assert_uint_eq(seg.nencap, TCPST_ENCAP_MAX);

    /* IP in IP eight deep, then a ninth. */
    for (int i = 0; i < MAXL; i++) {
        l[i] = (pb_layer){.kind = PB_IP, .src = OUT4A, .dst = OUT4B};
    }
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_RAW, l, TCPST_ENCAP_MAX, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_OK); /* the outermost IP is no layer */
    ck_assert_uint_eq(seg.nencap, TCPST_ENCAP_MAX);
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_RAW, l, TCPST_ENCAP_MAX + 1, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_ENCAP_DEPTH);

    /* A VLAN tag plus a tunnel stack that fills the rest. */
    l[0] = (pb_layer){.kind = PB_VLAN, .id = 1};
    for (int i = 1; i < MAXL; i++) {
        l[i] = (pb_layer){.kind = PB_MPLS, .id = 7};
    }
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, TCPST_ENCAP_MAX, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, TCPST_ENCAP_MAX + 1, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_ENCAP_DEPTH);

    /* Nine VLAN tags stay VLAN_DEPTH (the older, more precise status). */
    for (int i = 0; i < MAXL; i++) {
        l[i] = (pb_layer){.kind = PB_VLAN, .id = (uint32_t)i};
    }
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, TCPST_MAX_VLAN_SKIP + 1, &s, &lay,
                       NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_VLAN_DEPTH);
}
END_TEST

/* ---- bad and non-TCP headers ------------------------------------------------------------- */

/* Build, patch one byte at offset `at` past the start of layer `li`, decode. */
static tcpst_decode_status patched(const pb_layer *l, size_t nl, int fam, size_t li, size_t at,
                                   uint8_t val)
{
    pb_seg s = inner(fam);
    size_t n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, nl, &s, &lay, offs);

    ck_assert_uint_ne(n, 0);
    fb[offs[li] + at] = val;
    return dec(TCPST_LT_ETHERNET, n);
}

START_TEST(test_bad_headers)
{
    const pb_layer gre[] = {IP4, {.kind = PB_GRE}};
    const pb_layer ers2[] = {IP4, {.kind = PB_GRE}, {.kind = PB_ERSPAN2, .id = 1}, ETH};
    const pb_layer ers3[] = {IP4, {.kind = PB_GRE}, {.kind = PB_ERSPAN3, .id = 1}, ETH};
    const pb_layer pptp[] = {IP4, {.kind = PB_GRE, .pptp = true, .id = 1}};
    const pb_layer gen[] = {IP4, UDP(6081), {.kind = PB_GENEVE, .id = 1}, ETH};
    const pb_layer gtp[] = {IP4, UDP(2152), {.kind = PB_GTPU, .id = 1}};
    const pb_layer gtpx[] = {IP4, UDP(2152), {.kind = PB_GTPU, .id = 1, .n_ext = 1}};
    const pb_layer vx[] = {IP4, UDP(4789), {.kind = PB_VXLAN, .id = 1}, ETH};
    const pb_layer ter[] = {IP4, UDP(3544), {.kind = PB_TEREDO}};
    const pb_layer ay[] = {IP4, UDP(5072), {.kind = PB_AYIYA}};
    const pb_layer pppoe[] = {{.kind = PB_PPPOE, .id = 1}};
    const pb_layer llc[] = {{.kind = PB_LLC}};
    const pb_layer mpls[] = {{.kind = PB_MPLS, .id = 1}};
    const pb_layer ipip[] = {IP4};

    /* GRE: version 2, routing, a reserved flag, acknowledgment in version 0. */
    ASSERT_ST(patched(gre, 2, 4, 1, 1, 0x02), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(gre, 2, 4, 1, 0, 0x40), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(gre, 2, 4, 1, 1, 0x08), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(gre, 2, 4, 1, 1, 0x80), TCPST_DEC_BAD_ENCAP);
    /* GRE with an unknown protocol type: not IP. */
    ASSERT_ST(patched(gre, 2, 4, 1, 2, 0x82), TCPST_DEC_NOT_IP);
    /* PPTP: without key, with a non-PPP type, with an LCP payload, acknowledgment only. */
    ASSERT_ST(patched(pptp, 2, 4, 1, 0, 0x10), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(pptp, 2, 4, 1, 3, 0x0C), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(pptp, 2, 4, 1, 14, 0xC0), TCPST_DEC_NOT_IP);
    ASSERT_ST(patched(pptp, 2, 4, 1, 0, 0x20), TCPST_DEC_NOT_TCP);
    ASSERT_ST(patched(pptp, 2, 4, 1, 13, 0x00), TCPST_DEC_BAD_ENCAP); /* FF 00: not UI */
    /* ERSPAN: wrong versions; type III frame type 1 (unknown). */
    ASSERT_ST(patched(ers2, 4, 4, 2, 0, 0x20), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(ers3, 4, 4, 2, 0, 0x10), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(ers3, 4, 4, 2, 10, 0x04), TCPST_DEC_NOT_IP);
    /* Geneve version 1; options longer than the packet. */
    ASSERT_ST(patched(gen, 4, 4, 2, 0, 0x40), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(gen, 4, 4, 2, 0, 0x3F), TCPST_DEC_BAD_ENCAP);
    /* Geneve carrying ARP. */
    ASSERT_ST(patched(gen, 4, 4, 2, 3, 0x06), TCPST_DEC_NOT_IP);
    /* GTP-U: version 2, PT 0, echo request, length beyond UDP, extension of length 0. */
    ASSERT_ST(patched(gtp, 3, 4, 2, 0, 0x50), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(gtp, 3, 4, 2, 0, 0x20), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(gtp, 3, 4, 2, 1, 1), TCPST_DEC_NOT_TCP);
    ASSERT_ST(patched(gtp, 3, 4, 2, 2, 0xFF), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(gtpx, 3, 4, 2, 12, 0), TCPST_DEC_BAD_ENCAP);
    /* GTP-U with a non-IP T-PDU. */
    ASSERT_ST(patched(gtp, 3, 4, 2, 8, 0x00), TCPST_DEC_NOT_IP);
    /* UDP length beyond the IP payload, or below its own header. */
    ASSERT_ST(patched(vx, 4, 4, 1, 4, 0x7F), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(vx, 4, 4, 1, 5, 0x04), TCPST_DEC_BAD_ENCAP); /* 0x0004 < 8 */
    /* UDP length that ends inside the VXLAN header. */
    {
        pb_seg s = inner(4);
        size_t n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, vx, 4, &s, &lay, offs);
        fb[offs[1] + 4] = 0;
        fb[offs[1] + 5] = 12;
        ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_BAD_ENCAP);
    }
    /* VXLAN without I: followed, but the VNI is not an id. */
    ASSERT_ST(patched(vx, 4, 4, 2, 0, 0x00), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.encap[0].has_id, 0);
    ck_assert_uint_eq(seg.key_ctx, 0);
    /* Teredo on its port with something else than IPv6: plain UDP. */
    ASSERT_ST(patched(ter, 3, 6, 2, 0, 0x45), TCPST_DEC_NOT_TCP);
    /* AYIYA: a heartbeat (opcode 0), a UDP payload (next header 17). */
    ASSERT_ST(patched(ay, 3, 4, 2, 2, 0x10), TCPST_DEC_NOT_TCP);
    ASSERT_ST(patched(ay, 3, 4, 2, 3, 17), TCPST_DEC_NOT_IP);
    /* PPPoE: discovery code, wrong version; an LCP frame. */
    ASSERT_ST(patched(pppoe, 1, 4, 0, 1, 0x09), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(pppoe, 1, 4, 0, 0, 0x21), TCPST_DEC_BAD_ENCAP);
    ASSERT_ST(patched(pppoe, 1, 4, 0, 6, 0xC0), TCPST_DEC_NOT_IP);
    /* LLC: not SNAP, a vendor OUI. */
    ASSERT_ST(patched(llc, 1, 4, 0, 0, 0x42), TCPST_DEC_NOT_IP);
    ASSERT_ST(patched(llc, 1, 4, 0, 5, 0x0C), TCPST_DEC_NOT_IP);
    /* MPLS then the pseudowire associated channel (first nibble 1). */
    ASSERT_ST(patched(mpls, 1, 4, 0, 4, 0x10), TCPST_DEC_NOT_IP);
    /* Inner IPv4 longer than the outer payload; inner version not 4. */
    ASSERT_ST(patched(ipip, 1, 4, 0, 20 + 2, 0x7F), TCPST_DEC_BAD_IP_LEN);
    ASSERT_ST(patched(ipip, 1, 4, 0, 20, 0x65), TCPST_DEC_BAD_IP_VERSION);
}
END_TEST

/* ---- fragments and tcpst_decode_ip ------------------------------------------------------ */

START_TEST(test_outer_fragments)
{
    pb_layer l[] = {{.kind = PB_VLAN, .id = 7}, IP4, UDP(4789), {.kind = PB_VXLAN, .id = 42}, ETH};
    pb_layer gre[] = {IP6, {.kind = PB_GRE, .key = true, .id = 3}, IP4};
    pb_seg s = inner(4);
    size_t n;
    uint32_t vlan_key;

    {
        const pb_layer v[] = {{.kind = PB_VLAN, .id = 7}};
        vlan_key = key_of(v, 1, TCPST_LT_ETHERNET);
    }
    /* First, middle and last fragments of the outer UDP datagram. */
    for (int k = 0; k < 3; k++) {
        l[1].mf = k < 2;
        l[1].frag_off = (uint16_t)(k * 100);
        n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 5, &s, &lay, offs);
        ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_IP_FRAGMENT);
        ck_assert_uint_eq(seg.l3_off, offs[1]);
        ck_assert_uint_eq(seg.l3_off, 18);
        ck_assert_uint_eq(seg.nencap, 1);
        ck_assert_uint_eq(seg.encap[0].type, TCPST_ENCAP_VLAN);
        ck_assert_uint_eq(seg.key_ctx, vlan_key);
        assert_addr(&seg.src, OUT4A);
    }
    /* IPv6 outer with a fragment header. */
    l[1] = (pb_layer){.kind = PB_IP, .src = OUT6A, .dst = OUT6B, .mf = true};
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, l, 5, &s, &lay, offs);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_IP_FRAGMENT);
    ck_assert_uint_eq(seg.l3_off, 18);
    /* With tunnels off, a UDP fragment is not worth reassembling. */
    cfg.tunnels = false;
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_NOT_TCP);
    cfg.tunnels = true;
    /* A fragment inside a tunnel: l3_off is the inner header, the chain the layers outside. */
    gre[2].mf = true;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, gre, 3, &s, &lay, offs);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_IP_FRAGMENT);
    ck_assert_uint_eq(seg.l3_off, offs[2]);
    ck_assert_uint_eq(seg.nencap, 1);
    ck_assert_uint_eq(seg.encap[0].id, 3);
    /* Fragmented GRE and IP-in-IP outer packets too. */
    gre[0].mf = true;
    gre[2].mf = false;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, gre, 3, &s, &lay, offs);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_IP_FRAGMENT);
    ck_assert_uint_eq(seg.l3_off, 14);
    gre[1] = (pb_layer){.kind = PB_IP, .src = OUT4A, .dst = OUT4B, .frag_off = 10};
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_RAW, gre, 2, &s, &lay, offs);
    ASSERT_ST(dec(TCPST_LT_RAW, n), TCPST_DEC_IP_FRAGMENT);
    ck_assert_uint_eq(seg.l3_off, 0);
}
END_TEST

/* The engine's path: fragment -> reassembled datagram -> tcpst_decode_ip with the same seg. */
START_TEST(test_decode_ip_extends)
{
    const pb_layer full[] = {{.kind = PB_VLAN, .id = 100}, IP4, UDP(4789),
                             {.kind = PB_VXLAN, .id = 42}, ETH, {.kind = PB_VLAN, .id = 9}};
    pb_layer frag[6];
    const want_encap w[] = {ID(TCPST_ENCAP_VLAN, 100, 1), ID(TCPST_ENCAP_VXLAN, 42, 1),
                            ID(TCPST_ENCAP_VLAN, 9, 1)};
    pb_seg s = inner(6);
    size_t n;
    uint32_t want_key;
    static uint8_t dgram[PB_MAX_FRAME];
    size_t dlen;
    pb_layout dl;

    /* What the whole frame decodes to. */
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, full, 6, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_OK);
    want_key = seg.key_ctx;
    /* The first fragment of it. */
    memcpy(frag, full, sizeof frag);
    frag[1].mf = true;
    n = pb_build_encap(fb, sizeof fb, TCPST_LT_ETHERNET, frag, 6, &s, &lay, NULL);
    ASSERT_ST(dec(TCPST_LT_ETHERNET, n), TCPST_DEC_IP_FRAGMENT);
    ck_assert_uint_eq(seg.nencap, 1);
    ck_assert_uint_eq(seg.nvlan, 1);
    /* The reassembled datagram, as the reassembler hands it out: starts at its IP header. */
    dlen = pb_build_encap(dgram, sizeof dgram, TCPST_LT_RAW, full + 1, 5, &s, &dl, NULL);
    ck_assert_uint_ne(dlen, 0);
    ASSERT_ST(tcpst_decode_ip(&cfg, dgram, dlen, &seg), TCPST_DEC_OK);
    check_chain(w, 3);
    ck_assert_uint_eq(seg.key_ctx, want_key);
    ck_assert_uint_eq(seg.nvlan, 2);
    ck_assert_uint_eq(seg.vlan[0], 100);
    ck_assert_uint_eq(seg.vlan[1], 9);
    ck_assert_uint_eq(seg.l3_off, dl.l3);
    ck_assert_uint_eq(seg.l4_off, dl.l4);
    ck_assert_uint_eq(seg.seq, s.seq);
    assert_addr(&seg.src, IN6A);
    ck_assert_int_eq(tcpst_decode_checksum(dgram, dlen, &seg), TCPST_CSUM_OK);

    /* A hand-made chain is kept and extended; nothing else of the old seg survives. */
    memset(&seg, 0x5A, sizeof seg);
    seg.nencap = 1;
    seg.encap[0] = (tcpst_encap){.type = TCPST_ENCAP_MPLS, .has_id = 1, .in_key = 0, .id = 77};
    seg.nvlan = 0;
    seg.key_ctx = 0;
    ASSERT_ST(tcpst_decode_ip(&cfg, dgram, dlen, &seg), TCPST_DEC_OK);
    ck_assert_uint_eq(seg.nencap, 3);
    ck_assert_uint_eq(seg.encap[0].id, 77);
    ck_assert_uint_eq(seg.encap[1].type, TCPST_ENCAP_VXLAN);
    ck_assert_uint_eq(seg.encap[2].type, TCPST_ENCAP_VLAN);
    ck_assert_uint_eq(seg.nvlan, 1);
    ck_assert_uint_eq(seg.vlan[0], 9);
    ck_assert_uint_eq(seg.ipflags, 0);
    ck_assert_uint_eq(seg.payload_caplen, s.payload_len);
    ck_assert_uint_ne(seg.key_ctx, 0);
    /* The chain is full: the datagram's own layers go beyond the limit. */
    seg.nencap = TCPST_ENCAP_MAX;
    ASSERT_ST(tcpst_decode_ip(&cfg, dgram, dlen, &seg), TCPST_DEC_ENCAP_DEPTH);
    /* A cut datagram. */
    seg.nencap = 0;
    ASSERT_ST(tcpst_decode_ip(&cfg, dgram, 10, &seg), TCPST_DEC_TRUNC_IP);
    ASSERT_ST(tcpst_decode_ip(&cfg, NULL, 0, &seg), TCPST_DEC_TRUNC_IP);
}
END_TEST

/* ---- names ----------------------------------------------------------------------------- */

START_TEST(test_names)
{
    static const char *const want[] = {"vlan",  "mpls",     "pppoe", "pbb",    "fabricpath",
                                       "vntag", "llc_snap", "gre",   "erspan", "ip",
                                       "vxlan", "geneve",   "gtpu",  "teredo", "ayiya"};

    ck_assert_int_eq(TCPST_ENCAP__COUNT, sizeof want / sizeof want[0]);
    for (int i = 0; i < TCPST_ENCAP__COUNT; i++) {
        ck_assert_str_eq(tcpst_encap_type_name((tcpst_encap_type)i), want[i]);
    }
    ck_assert_str_eq(tcpst_encap_type_name(TCPST_ENCAP__COUNT), "unknown");
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC_ENCAP_DEPTH),
                     "encapsulation_depth_exceeded");
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC_TRUNC_ENCAP),
                     "truncated_encapsulation_header");
    ck_assert_str_eq(tcpst_decode_status_name(TCPST_DEC_BAD_ENCAP), "bad_encapsulation_header");
    ck_assert(tcpst_decode_is_problem(TCPST_DEC_BAD_ENCAP));
    ck_assert(tcpst_decode_is_problem(TCPST_DEC_TRUNC_ENCAP));
    ck_assert(tcpst_decode_is_problem(TCPST_DEC_ENCAP_DEPTH));
}
END_TEST

static void setup(void)
{
    tcpst_decode_config_default(&cfg);
    memset(&seg, 0, sizeof seg);
}

static Suite *suite(void)
{
    Suite *s = suite_create("encap");
    TCase *tc = tcase_create("cases");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_case_decodes, 0, (int)NCASES);
    tcase_add_loop_test(tc, test_case_prefixes, 0, (int)NCASES);
    tcase_add_loop_test(tc, test_case_mutations, 0, (int)NCASES);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("behaviour");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_keys);
    tcase_add_test(tc, test_key_values);
    tcase_add_test(tc, test_key_spread);
    tcase_add_test(tc, test_vlan_fields_across_tunnel);
    tcase_add_test(tc, test_ports);
    tcase_add_test(tc, test_nonstandard_ports);
    tcase_add_test(tc, test_udp_tunnel_table);
    tcase_add_test(tc, test_teredo_detect);
    tcase_add_test(tc, test_tunnels_off);
    tcase_add_test(tc, test_config_default);
    tcase_add_test(tc, test_decode_is_defaults);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_bad_headers);
    tcase_add_test(tc, test_outer_fragments);
    tcase_add_test(tc, test_decode_ip_extends);
    tcase_add_test(tc, test_names);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(suite());
}
