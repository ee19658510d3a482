/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_hotpath.c - the per-packet path allocates nothing.
 *
 * This binary is linked with --wrap for malloc/calloc/realloc, so every call
 * made by tcpstate's own code (the static library) goes through the counters
 * below.  Thousands of frames of complete connections - handshakes, data,
 * retransmissions, closes, resets, port reuse, expiry and eviction - are fed
 * through tcpst_engine_packet() and the count must not move.  The same frames, plus IPv4
 * fragments and a corrupt checksum, also go through tcpst_engine_prepare() and
 * tcpst_engine_prepared() (the read-ahead thread's split) with only the bytes prepare asks
 * to keep: the results must be the same.
 */
#include <check.h>
#include <stdbool.h>

#include "ckrun.h"
#include "testrec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"
#include "tcpstate/engine.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static unsigned long allocs;

void *__wrap_malloc(size_t n)
{
    allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    allocs++;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocs++;
    return __real_realloc(p, n);
}

#define MAXF 16000
static uint8_t frames[MAXF][192];
static size_t lens[MAXF];
static int nframes;

/* A frame of a connection to 443; with a VLAN tag when `vlan` is not 0. */
static void add_tagged(uint16_t vlan, int v6, int c2s, uint16_t cport, uint16_t flags, uint32_t seq,
                       uint32_t ack, uint32_t len)
{
    pb_seg s;
    memset(&s, 0, sizeof s);
    const char *a = v6 ? "2001:db8::1" : "198.18.0.1";
    const char *b = v6 ? "2001:db8::2" : "198.18.0.2";
    s.src = c2s ? a : b;
    s.dst = c2s ? b : a;
    s.sport = c2s ? cport : 443;
    s.dport = c2s ? 443 : cport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.win = 1000;
    s.payload_len = len;
    ck_assert_int_lt(nframes, MAXF);
    lens[nframes] = vlan ? pb_build_vlan(frames[nframes], sizeof frames[0], &vlan, 1, &s)
                         : pb_build(frames[nframes], sizeof frames[0], TCPST_LT_ETHERNET, &s);
    ck_assert_uint_gt(lens[nframes], 0);
    nframes++;
}

static void add(int v6, int c2s, uint16_t cport, uint16_t flags, uint32_t seq, uint32_t ack,
                uint32_t len)
{
    add_tagged(0, v6, c2s, cport, flags, seq, ack, len);
}

static void build_traffic(void)
{
    nframes = 0;
    for (uint16_t i = 0; i < 1200; i++) {
        int v6 = i % 3 == 0;
        uint16_t p = (uint16_t)(20000 + i % 700); /* ports repeat: reuse splits */
        uint32_t c = 1000u * i, s = 7777u * i;
        add(v6, 1, p, TCPST_SYN, c, 0, 0);
        add(v6, 0, p, TCPST_SYN | TCPST_ACK, s, c + 1, 0);
        add(v6, 1, p, TCPST_ACK, c + 1, s + 1, 0);
        add(v6, 1, p, TCPST_ACK | TCPST_PSH, c + 1, s + 1, 40);
        add(v6, 1, p, TCPST_ACK | TCPST_PSH, c + 1, s + 1, 40); /* retransmission */
        add(v6, 0, p, TCPST_ACK | TCPST_PSH, s + 1, c + 41, 60);
        if (i % 5 == 0) {
            add(v6, 1, p, TCPST_RST | TCPST_ACK, c + 41, s + 61, 0);
            continue;
        }
        add(v6, 1, p, TCPST_FIN | TCPST_ACK, c + 41, s + 61, 0);
        if (i % 7 != 0) { /* some servers never close */
            add(v6, 0, p, TCPST_FIN | TCPST_ACK, s + 61, c + 42, 0);
            add(v6, 1, p, TCPST_ACK, c + 42, s + 62, 0);
        }
    }
}

/* Cut the IPv4 datagram of VLAN-tagged frame `f` into two fragments at `at` payload bytes. */
static void add_fragments(const uint8_t *f, size_t len, size_t at)
{
    const size_t eth = 18, ihl = 20;
    size_t rest = len - eth - ihl - at;
    ck_assert_int_lt(nframes + 2, MAXF);
    for (int k = 0; k < 2; k++) {
        uint8_t *o = frames[nframes];
        size_t plen = k == 0 ? at : rest;
        memcpy(o, f, eth + ihl);
        memcpy(o + eth + ihl, f + eth + ihl + (k == 0 ? 0 : at), plen);
        uint8_t *ip = o + eth;
        size_t tot = ihl + plen;
        ip[2] = (uint8_t)(tot >> 8);
        ip[3] = (uint8_t)tot;
        unsigned fo = k == 0 ? 0x2000u : (unsigned)(at / 8); /* MF on the first */
        ip[6] = (uint8_t)(fo >> 8);
        ip[7] = (uint8_t)fo;
        pb_ipv4_checksum(ip);
        lens[nframes++] = eth + tot;
    }
}

/* Connections whose segments come as fragments, and one segment with a corrupt checksum.
 * The VLAN tag is a layer outside the fragment that the reassembled datagram must keep. */
static void build_awkward(void)
{
    for (uint16_t i = 0; i < 20; i++) {
        uint16_t p = (uint16_t)(50000 + i);
        add_tagged(7, 0, 1, p, TCPST_SYN, 5, 0, 0);
        add_tagged(7, 0, 0, p, TCPST_SYN | TCPST_ACK, 900, 6, 0);
        add_tagged(7, 0, 1, p, TCPST_ACK | TCPST_PSH, 6, 901, 100);
        nframes--; /* replaced by its two fragments */
        add_fragments(frames[nframes], lens[nframes], 48);
    }
    add_tagged(7, 0, 1, 50000, TCPST_ACK, 106, 901, 8);
    frames[nframes - 1][lens[nframes - 1] - 1] ^= 0xFF; /* the payload no longer sums */
}

static unsigned long emitted;
static uint64_t digest;      /* of the records written, in order */
static unsigned long joined; /* fragmented connections whose data reached their record */

static void count_emit(void *ctx, const tcpst_conn *c)
{
    (void)ctx;
    emitted++;
    joined += c->ep[0].port >= 50000 && c->nvlan == 1 && c->ep[0].payload_bytes >= 100;
    const uint64_t v[] = {c->id,
                          c->end_reason,
                          c->ep[0].state,
                          c->ep[1].state,
                          c->ep[0].packets,
                          c->ep[1].packets,
                          c->ep[0].bytes,
                          c->ep[1].payload_bytes,
                          c->findings.n,
                          c->nvlan,
                          c->nvlan ? c->vlan[0] : 0u};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        digest = (digest ^ v[i]) * 0x100000001B3u;
    }
}

START_TEST(no_malloc_per_packet)
{
    build_traffic();
    tcpst_engine_config cfg;
    tcpst_engine_config_default(&cfg);
    cfg.max_connections = 500; /* small: eviction runs too */
    cfg.timeout[TCPST_LRU_CLOSED] = TCPST_NS_PER_SEC / 100;
    tcpst_engine e;
    ck_assert_int_eq(test_engine_init(&e, &cfg, count_emit, NULL), 0);
    allocs = 0;
    for (int i = 0; i < nframes; i++) {
        tcpst_engine_packet(&e, TCPST_LT_ETHERNET, frames[i], (uint32_t)lens[i], (uint32_t)lens[i],
                            (tcpst_time)i * 1000000, (uint64_t)i + 1);
    }
    ck_assert_msg(allocs == 0, "%lu allocations while feeding %d frames", allocs, nframes);
    ck_assert_uint_eq(e.stats.tcp, (uint64_t)nframes);
    ck_assert_uint_gt(e.stats.evicted + e.stats.closed, 0);
    ck_assert_uint_gt(e.stats.reused, 0);
    ck_assert_uint_gt(emitted, 0);
    tcpst_engine_finish(&e);
    ck_assert_uint_eq(emitted, e.stats.connections);
    tcpst_engine_fini(&e);
}
END_TEST

/* Both paths over the same frames; returns the engine's stats after finish. */
static tcpst_engine_stats run_paths(bool split, const tcpst_engine_config *cfg, uint64_t *dg,
                                    unsigned long *kept_frames)
{
    static tcpst_prepared prep;
    static uint8_t copy[192];
    tcpst_engine e;
    ck_assert_int_eq(test_engine_init(&e, cfg, count_emit, NULL), 0);
    emitted = 0;
    joined = 0;
    digest = 14695981039346656037u;
    *kept_frames = 0;
    bool over = false;
    allocs = 0;
    for (int i = 0; i < nframes; i++) {
        tcpst_time ts = (tcpst_time)i * 1000000;
        if (!split) {
            tcpst_engine_packet(&e, TCPST_LT_ETHERNET, frames[i], (uint32_t)lens[i],
                                (uint32_t)lens[i], ts, (uint64_t)i + 1);
            continue;
        }
        uint32_t keep = tcpst_engine_prepare(cfg, TCPST_LT_ETHERNET, frames[i], (uint32_t)lens[i],
                                             (uint32_t)lens[i], &prep);
        over |= keep > lens[i]; /* (asserting here would allocate: Check's own bookkeeping) */
        /* What the reader thread copies, and garbage where it copies nothing. */
        memset(copy, 0xA5, sizeof copy);
        memcpy(copy, frames[i], keep);
        *kept_frames += keep != 0;
        tcpst_engine_prepared(&e, &prep, copy, keep, ts, (uint64_t)i + 1);
    }
    ck_assert_msg(allocs == 0, "%lu allocations while feeding %d frames", allocs, nframes);
    ck_assert_msg(!over, "prepare kept more than the frame");
    tcpst_engine_finish(&e);
    tcpst_engine_stats st = e.stats;
    *dg = digest ^ emitted;
    tcpst_engine_fini(&e);
    return st;
}

START_TEST(prepared_path_matches)
{
    build_traffic();
    int plain = nframes;
    build_awkward();
    for (int verify = 0; verify < 2; verify++) {
        tcpst_engine_config cfg;
        tcpst_engine_config_default(&cfg);
        cfg.verify_checksums = verify;
        uint64_t d1, d2;
        unsigned long k1, k2;
        tcpst_engine_stats a = run_paths(false, &cfg, &d1, &k1);
        tcpst_engine_stats b = run_paths(true, &cfg, &d2, &k2);
        ck_assert_uint_eq(d1, d2);
        ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
        ck_assert_uint_eq(b.frag.reassembled, 20);
        ck_assert_uint_eq(joined, 20); /* same key as the SYN: the VLAN layer was kept */
        ck_assert_uint_eq(b.connections, a.connections);
        ck_assert_uint_eq(b.tcp, (uint64_t)(plain + 20 * 3 + 1)); /* the corrupt one too */
        ck_assert_uint_eq(b.bad_checksum, (uint64_t)verify);
        /* Whole frames are kept for the fragments (40), or for every segment to verify. */
        ck_assert_uint_eq(k2, verify ? (unsigned long)nframes : 40u);
    }
}
END_TEST

START_TEST(wrapper_counts)
{
    /* The wrapper must see calls, or the test above would pass vacuously. */
    allocs = 0;
    tcpst_engine e;
    tcpst_engine_config cfg;
    tcpst_engine_config_default(&cfg);
    cfg.max_connections = 8;
    ck_assert_int_eq(test_engine_init(&e, &cfg, NULL, NULL), 0);
    ck_assert_uint_ge(allocs, 2);
    tcpst_engine_fini(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hotpath");
    TCase *t = tcase_create("alloc");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, wrapper_counts);
    tcase_add_test(t, no_malloc_per_packet);
    tcase_add_test(t, prepared_path_matches);
    suite_add_tcase(s, t);
    return ckrun(s);
}
