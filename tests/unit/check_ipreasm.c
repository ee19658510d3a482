/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_ipreasm.c - IPv4/IPv6 fragment reassembly (ipreasm.h).
 *
 * Each test builds an original unfragmented packet, cuts it into fragments
 * the way a router would (RFC 791 3.2, RFC 8200 4.5), feeds them in some
 * order and compares the result byte for byte with the original, whose
 * header already holds what reassembly must rewrite (total/payload length,
 * next header, checksum).  Also: overlaps, conflicts, timeouts, eviction,
 * size limits, malformed and truncated fragments.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "pktbuild.h"
#include "tcpstate/ipreasm.h"

#define SEC     TCPST_NS_PER_SEC
#define MAXPKT  (65535 + 64)
#define MAXFRAG 128

static const uint8_t SRC4[4] = {192, 0, 2, 1}, DST4[4] = {198, 51, 100, 7};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* ---- packet building ----------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

/* Ones' complement sum over a header (RFC 791 3.1); 0xFFFF when it verifies. */
static uint32_t sum16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += get16(p + i);
    }
    while (s >> 16) {
        s = (s & 0xFFFF) + (s >> 16);
    }
    return s;
}

/* Payload bytes that differ per seed, so mixed datagrams would show. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

/* IPv4 packet with `optlen` bytes of options (NOPs, then EOL) and `plen` payload. */
static size_t build_v4(uint8_t *p, size_t plen, uint16_t id, uint8_t proto, size_t optlen)
{
    size_t hl = 20 + optlen;
    memset(p, 0, hl);
    p[0] = (uint8_t)(0x40 | hl / 4);
    put16(p + 2, (uint32_t)(hl + plen));
    put16(p + 4, id);
    put16(p + 6, 0x4000); /* DF: must survive reassembly */
    p[8] = 64;
    p[9] = proto;
    memcpy(p + 12, SRC4, 4);
    memcpy(p + 16, DST4, 4);
    memset(p + 20, 1, optlen); /* NOP ... */
    if (optlen) {
        p[hl - 1] = 0; /* ... EOL */
    }
    fill(p + hl, plen, id + proto);
    pb_ipv4_checksum(p);
    return hl + plen;
}

/* One IPv4 fragment of `orig`: payload bytes [off, off+n); options only in
 * the first when `strip` (RFC 791 3.1: options without the copy flag). */
static size_t frag_v4(uint8_t *out, const uint8_t *orig, size_t off, size_t n, bool more,
                      bool strip)
{
    size_t ohl = (size_t)(orig[0] & 0xF) * 4;
    size_t hl = strip && off > 0 ? 20 : ohl;
    memcpy(out, orig, 20);
    memcpy(out + 20, orig + 20, hl - 20);
    out[0] = (uint8_t)(0x40 | hl / 4);
    memcpy(out + hl, orig + ohl + off, n);
    put16(out + 2, (uint32_t)(hl + n));
    put16(out + 6, (get16(orig + 6) & 0xC000) | (more ? 0x2000 : 0) | (uint32_t)(off / 8));
    pb_ipv4_checksum(out);
    return hl + n;
}

/* IPv6 packet: header, then when `ext` a hop-by-hop (PadN) and a routing
 * header (type 253, segments left 0), then `plen` bytes of upper layer. */
static size_t build_v6(uint8_t *p, size_t plen, uint32_t seed, bool ext, size_t *unfrag,
                       size_t *nh_pos)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    p[7] = 64;
    memcpy(p + 8, SRC6, 16);
    memcpy(p + 24, DST6, 16);
    size_t pos = 40;
    if (ext) {
        p[6] = 0;                                                        /* hop-by-hop */
        memcpy(p + 40, (const uint8_t[8]){43, 0, 1, 4, 0, 0, 0, 0}, 8);  /* -> routing, PadN */
        memcpy(p + 48, (const uint8_t[8]){6, 0, 253, 0, 0, 0, 0, 0}, 8); /* -> TCP */
        *nh_pos = 48;
        pos = 56;
    } else {
        p[6] = 6;
        *nh_pos = 6;
    }
    *unfrag = pos;
    fill(p + pos, plen, seed);
    put16(p + 4, (uint32_t)(pos - 40 + plen));
    return pos + plen;
}

/* One IPv6 fragment: the unfragmentable part, a fragment header (RFC 8200
 * 4.5) with the original next header, then bytes [off, off+n) of the rest. */
static size_t frag_v6(uint8_t *out, const uint8_t *orig, size_t unfrag, size_t nh_pos, size_t off,
                      size_t n, bool more, uint32_t id)
{
    memcpy(out, orig, unfrag);
    out[nh_pos] = 44;
    uint8_t *fh = out + unfrag;
    fh[0] = orig[nh_pos];
    fh[1] = 0;
    put16(fh + 2, (uint32_t)off | (more ? 1u : 0u));
    fh[4] = (uint8_t)(id >> 24);
    fh[5] = (uint8_t)(id >> 16);
    fh[6] = (uint8_t)(id >> 8);
    fh[7] = (uint8_t)id;
    memcpy(fh + 8, orig + unfrag + off, n);
    put16(out + 4, (uint32_t)(unfrag - 40 + 8 + n));
    return unfrag + 8 + n;
}

/* A set of fragments. */
typedef struct fset {
    size_t n;
    size_t len[MAXFRAG];
    uint8_t *pkt[MAXFRAG];
} fset;

static void fset_free(fset *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->pkt[i]);
    }
    fs->n = 0;
}

static void fset_add(fset *fs, const uint8_t *p, size_t len)
{
    ck_assert_uint_lt(fs->n, MAXFRAG);
    fs->pkt[fs->n] = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    ck_assert_ptr_nonnull(fs->pkt[fs->n]);
    memcpy(fs->pkt[fs->n], p, len);
    fs->len[fs->n++] = len;
}

/* Cut an IPv4 packet into fragments of `size` payload bytes. */
static void split_v4(fset *fs, const uint8_t *orig, size_t olen, size_t size, bool strip)
{
    static uint8_t buf[MAXPKT];
    size_t plen = olen - (size_t)(orig[0] & 0xF) * 4;
    for (size_t off = 0; off < plen; off += size) {
        size_t n = plen - off < size ? plen - off : size;
        fset_add(fs, buf, frag_v4(buf, orig, off, n, off + n < plen, strip));
    }
}

static void split_v6(fset *fs, const uint8_t *orig, size_t olen, size_t unfrag, size_t nh_pos,
                     size_t size, uint32_t id)
{
    static uint8_t buf[MAXPKT];
    size_t plen = olen - unfrag;
    for (size_t off = 0; off < plen; off += size) {
        size_t n = plen - off < size ? plen - off : size;
        fset_add(fs, buf, frag_v6(buf, orig, unfrag, nh_pos, off, n, off + n < plen, id));
    }
}

static void shuffle(size_t *order, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    uint32_t x = seed;
    for (size_t i = n; i > 1; i--) {
        x = x * 1103515245u + 12345u;
        size_t j = (x >> 8) % i;
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

static tcpst_reasm *mk(uint32_t max, tcpst_time timeout)
{
    tcpst_reasm_config cfg;
    tcpst_reasm_config_default(&cfg);
    if (max) {
        cfg.max_datagrams = max;
    }
    if (timeout) {
        cfg.timeout = timeout;
    }
    tcpst_reasm *r = NULL;
    tcpst_error err;
    ck_assert_int_eq(tcpst_reasm_init(&r, &cfg, &err), 0);
    ck_assert_ptr_nonnull(r);
    return r;
}

static int add(tcpst_reasm *r, const fset *fs, size_t i, uint32_t ctx, tcpst_time now,
               const uint8_t **out, size_t *outlen)
{
    return tcpst_reasm_add(r, fs->pkt[i], fs->len[i], ctx, now, out, outlen);
}

/* Feed all fragments in `order`; only the last may complete, and the result
 * must equal `orig`. */
static void feed_expect(tcpst_reasm *r, const fset *fs, const size_t *order, uint32_t ctx,
                        const uint8_t *orig, size_t olen)
{
    const uint8_t *out = NULL;
    size_t outlen = 0;
    for (size_t k = 0; k < fs->n; k++) {
        int rc = add(r, fs, order[k], ctx, 0, &out, &outlen);
        if (k + 1 < fs->n) {
            ck_assert_msg(rc == 0, "completed early at fragment %zu of %zu", k, fs->n);
            ck_assert_ptr_null(out);
        } else {
            ck_assert_msg(rc == 1, "not complete after all %zu fragments", fs->n);
        }
    }
    ck_assert_uint_eq(outlen, olen);
    ck_assert_msg(memcmp(out, orig, olen) == 0, "reassembled bytes differ");
    if ((out[0] >> 4) == 4) {
        ck_assert_uint_eq(sum16(out, (size_t)(out[0] & 0xF) * 4), 0xFFFF);
    }
}

/* ---- orders -------------------------------------------------------------- */

static void orders_v4(size_t plen, size_t size, size_t optlen, bool strip)
{
    static uint8_t orig[MAXPKT];
    size_t olen = build_v4(orig, plen, 0x1234, 6, optlen);
    fset fs = {0};
    split_v4(&fs, orig, olen, size, strip);
    ck_assert_uint_gt(fs.n, 2);
    size_t order[MAXFRAG];
    tcpst_reasm *r = mk(0, 0);
    for (int mode = 0; mode < 6; mode++) {
        shuffle(order, fs.n, (uint32_t)mode * 7919u);
        if (mode < 2) {
            for (size_t i = 0; i < fs.n; i++) {
                order[i] = mode == 0 ? i : fs.n - 1 - i; /* in order, reverse */
            }
        }
        feed_expect(r, &fs, order, 0, orig, olen);
    }
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    ck_assert_uint_eq(st->reassembled, 6);
    ck_assert_uint_eq(st->fragments, 6 * fs.n);
    ck_assert_uint_eq(st->overlaps + st->conflicts + st->malformed + st->too_big, 0);
    tcpst_reasm_free(r);
    fset_free(&fs);
}

START_TEST(v4_orders)
{
    orders_v4(1000, 208, 0, false);
    orders_v4(1001, 8, 0, false); /* 126 fragments, last one 1 byte */
    orders_v4(3000, 1480, 0, false);
}
END_TEST

START_TEST(v4_options_first_only)
{
    /* The output header is the offset-0 fragment's, options included. */
    orders_v4(777, 96, 8, true);
    orders_v4(777, 96, 40, false);
}
END_TEST

static void orders_v6(size_t plen, size_t size, bool ext)
{
    static uint8_t orig[MAXPKT];
    size_t unfrag, nh_pos;
    size_t olen = build_v6(orig, plen, 9, ext, &unfrag, &nh_pos);
    fset fs = {0};
    split_v6(&fs, orig, olen, unfrag, nh_pos, size, 0xCAFEBABE);
    ck_assert_uint_gt(fs.n, 2);
    size_t order[MAXFRAG];
    tcpst_reasm *r = mk(0, 0);
    for (int mode = 0; mode < 6; mode++) {
        shuffle(order, fs.n, (uint32_t)mode * 31u);
        if (mode == 0 || mode == 1) {
            for (size_t i = 0; i < fs.n; i++) {
                order[i] = mode == 0 ? i : fs.n - 1 - i;
            }
        }
        feed_expect(r, &fs, order, 0, orig, olen);
    }
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    ck_assert_uint_eq(st->reassembled, 6);
    ck_assert_uint_eq(st->overlaps + st->conflicts + st->malformed + st->too_big, 0);
    tcpst_reasm_free(r);
    fset_free(&fs);
}

START_TEST(v6_orders)
{
    orders_v6(1000, 208, true); /* hop-by-hop + routing before the fragment header */
    orders_v6(1000, 208, false);
    orders_v6(5003, 1232, true);
}
END_TEST

/* ---- whole packets ------------------------------------------------------- */

START_TEST(unfragmented_returned_whole)
{
    static uint8_t orig[2048], pkt[2048];
    tcpst_reasm *r = mk(0, 0);
    const uint8_t *out;
    size_t outlen;
    /* IPv4 MF=0 offset 0, with Ethernet padding after the total length. */
    size_t olen = build_v4(orig, 100, 7, 6, 0);
    memcpy(pkt, orig, olen);
    memset(pkt + olen, 0xEE, 6);
    ck_assert_int_eq(tcpst_reasm_add(r, pkt, olen + 6, 0, 0, &out, &outlen), 1);
    ck_assert_uint_eq(outlen, olen);
    ck_assert_mem_eq(out, orig, olen);
    /* IPv6 atomic fragment (RFC 6946): returned without its fragment header. */
    size_t unfrag, nh_pos;
    olen = build_v6(orig, 300, 3, true, &unfrag, &nh_pos);
    size_t flen = frag_v6(pkt, orig, unfrag, nh_pos, 0, olen - unfrag, false, 77);
    ck_assert_int_eq(tcpst_reasm_add(r, pkt, flen, 0, 0, &out, &outlen), 1);
    ck_assert_uint_eq(outlen, olen);
    ck_assert_mem_eq(out, orig, olen);
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    ck_assert_uint_eq(st->unfragmented, 2);
    ck_assert_uint_eq(st->reassembled, 0);
    ck_assert_uint_eq(st->fragments, 2);
    tcpst_reasm_free(r);
}
END_TEST

START_TEST(atomic_fragment_leaves_datagram_alone)
{
    /* RFC 6946 4: an atomic fragment with the id of a datagram in progress
     * must not disturb it. */
    static uint8_t orig[2048], pkt[2048];
    size_t unfrag, nh_pos;
    size_t olen = build_v6(orig, 64, 1, false, &unfrag, &nh_pos);
    fset fs = {0};
    split_v6(&fs, orig, olen, unfrag, nh_pos, 16, 5);
    tcpst_reasm *r = mk(0, 0);
    const uint8_t *out;
    size_t outlen;
    ck_assert_int_eq(add(r, &fs, 0, 0, 0, &out, &outlen), 0);
    size_t flen = frag_v6(pkt, orig, unfrag, nh_pos, 0, 16, false, 5);
    ck_assert_int_eq(tcpst_reasm_add(r, pkt, flen, 0, 0, &out, &outlen), 1);
    ck_assert_uint_eq(outlen, 40 + 16);
    fset rest = {3, {fs.len[1], fs.len[2], fs.len[3]}, {fs.pkt[1], fs.pkt[2], fs.pkt[3]}};
    ck_assert_int_eq(add(r, &rest, 0, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &rest, 1, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &rest, 2, 0, 0, &out, &outlen), 1);
    ck_assert_uint_eq(outlen, olen);
    ck_assert_mem_eq(out, orig, olen);
    tcpst_reasm_free(r);
    fset_free(&fs);
}
END_TEST

/* ---- duplicates, overlaps, conflicts ------------------------------------- */

START_TEST(duplicates)
{
    static uint8_t o4[2048], o6[2048];
    size_t l4 = build_v4(o4, 100, 42, 17, 0), unfrag, nh_pos;
    size_t l6 = build_v6(o6, 100, 42, true, &unfrag, &nh_pos);
    fset f4 = {0}, f6 = {0};
    split_v4(&f4, o4, l4, 32, false); /* 4 fragments */
    split_v6(&f6, o6, l6, unfrag, nh_pos, 32, 42);
    ck_assert_uint_eq(f4.n, 4);
    ck_assert_uint_eq(f6.n, 4);
    tcpst_reasm *r = mk(0, 0);
    const uint8_t *out;
    size_t outlen;
    /* Every fragment twice, the last one too: exact duplicates are accepted
     * for IPv4 and, as RFC 8200 4.5 allows, for IPv6. */
    const fset *sets[2] = {&f4, &f6};
    const uint8_t *origs[2] = {o4, o6};
    size_t lens[2] = {l4, l6};
    for (int v = 0; v < 2; v++) {
        size_t seq[] = {1, 1, 0, 3, 3, 0, 2};
        for (size_t k = 0; k < 6; k++) {
            ck_assert_int_eq(add(r, sets[v], seq[k], 0, 0, &out, &outlen), 0);
        }
        ck_assert_int_eq(add(r, sets[v], 2, 0, 0, &out, &outlen), 1);
        ck_assert_uint_eq(outlen, lens[v]);
        ck_assert_mem_eq(out, origs[v], lens[v]);
        /* Late copy after completion: a fresh datagram that stays incomplete. */
        ck_assert_int_eq(add(r, sets[v], 1, 0, 0, &out, &outlen), 0);
    }
    /* A second offset-0 fragment with another TTL (a different path): the
     * first one's header is kept. */
    static uint8_t other[2048];
    memcpy(other, f4.pkt[0], f4.len[0]);
    other[8] = 3;
    pb_ipv4_checksum(other);
    fset o = {1, {f4.len[0]}, {other}};
    ck_assert_int_eq(add(r, &f4, 0, 5, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &o, 0, 5, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &f4, 1, 5, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &f4, 2, 5, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &f4, 3, 5, 0, &out, &outlen), 1);
    ck_assert_uint_eq(outlen, l4);
    ck_assert_mem_eq(out, o4, l4);
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    ck_assert_uint_eq(st->overlaps, 7);
    ck_assert_uint_eq(st->reassembled, 3);
    ck_assert_uint_eq(st->conflicts, 0);
    tcpst_reasm_free(r);
    fset_free(&f4);
    fset_free(&f6);
}
END_TEST

START_TEST(v4_identical_overlaps)
{
    static uint8_t orig[2048], buf[2048];
    size_t olen = build_v4(orig, 100, 9, 6, 0);
    fset fs = {0};
    /* [0,48) [40,64) [16,32) [56,100): each overlaps the data before it. */
    fset_add(&fs, buf, frag_v4(buf, orig, 0, 48, true, false));
    fset_add(&fs, buf, frag_v4(buf, orig, 40, 24, true, false));
    fset_add(&fs, buf, frag_v4(buf, orig, 16, 16, true, false));
    fset_add(&fs, buf, frag_v4(buf, orig, 56, 44, false, false));
    size_t order[] = {0, 1, 2, 3}, rev[] = {3, 2, 1, 0};
    tcpst_reasm *r = mk(0, 0);
    feed_expect(r, &fs, order, 0, orig, olen);
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->overlaps, 3);
    feed_expect(r, &fs, rev, 0, orig, olen);
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->overlaps, 5); /* [16,32) inside no one yet */
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->conflicts, 0);
    tcpst_reasm_free(r);
    fset_free(&fs);
}
END_TEST

START_TEST(v4_conflicting_overlap)
{
    static uint8_t orig[2048], bad[2048], buf[2048];
    size_t olen = build_v4(orig, 100, 9, 6, 0);
    memcpy(bad, orig, olen);
    bad[20 + 45] ^= 0x55; /* payload byte 45 tells another story */
    fset fs = {0};
    fset_add(&fs, buf, frag_v4(buf, orig, 0, 48, true, false));   /* 0 */
    fset_add(&fs, buf, frag_v4(buf, bad, 40, 24, true, false));   /* 1: differs at 45 */
    fset_add(&fs, buf, frag_v4(buf, orig, 64, 36, false, false)); /* 2 */
    fset_add(&fs, buf, frag_v4(buf, orig, 40, 24, true, false));  /* 3: good copy */
    tcpst_reasm *r = mk(0, 0);
    const uint8_t *out;
    size_t outlen;
    for (uint32_t rev = 0; rev < 2; rev++) { /* one ctx per round */
        ck_assert_int_eq(add(r, &fs, rev ? 1 : 0, rev, 0, &out, &outlen), 0);
        ck_assert_int_eq(add(r, &fs, rev ? 0 : 1, rev, 0, &out, &outlen), 0); /* conflict */
        ck_assert_uint_eq(tcpst_reasm_get_stats(r)->conflicts, (uint64_t)rev + 1);
        /* Forgotten: what follows starts over and lacks offset 0. */
        ck_assert_int_eq(add(r, &fs, 2, rev, 0, &out, &outlen), 0);
        ck_assert_int_eq(add(r, &fs, 3, rev, 0, &out, &outlen), 0);
    }
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->reassembled, 0);
    /* Sanity: without the bad copy the same fragments do complete. */
    fset g = {3, {fs.len[0], fs.len[3], fs.len[2]}, {fs.pkt[0], fs.pkt[3], fs.pkt[2]}};
    size_t order[] = {0, 1, 2};
    feed_expect(r, &g, order, 2, orig, olen);
    tcpst_reasm_free(r);
    fset_free(&fs);
}
END_TEST

START_TEST(v6_overlap_rules)
{
    /* RFC 5722: any IPv6 overlap drops the datagram, even with equal bytes,
     * unless it is an exact duplicate; a duplicate with other bytes too. */
    static uint8_t orig[2048], bad[2048], buf[2048];
    size_t unfrag, nh_pos;
    size_t olen = build_v6(orig, 96, 4, true, &unfrag, &nh_pos);
    memcpy(bad, orig, olen);
    bad[unfrag + 20] ^= 1;
    fset fs = {0};
    fset_add(&fs, buf, frag_v6(buf, orig, unfrag, nh_pos, 0, 32, true, 1));   /* 0 */
    fset_add(&fs, buf, frag_v6(buf, orig, unfrag, nh_pos, 24, 16, true, 1));  /* 1 partial */
    fset_add(&fs, buf, frag_v6(buf, orig, unfrag, nh_pos, 0, 16, true, 1));   /* 2 inside 0 */
    fset_add(&fs, buf, frag_v6(buf, bad, unfrag, nh_pos, 0, 32, true, 1));    /* 3 dup, bad */
    fset_add(&fs, buf, frag_v6(buf, orig, unfrag, nh_pos, 32, 64, false, 1)); /* 4 the rest */
    fset_add(&fs, buf, frag_v6(buf, orig, unfrag, nh_pos, 16, 16, true, 1));  /* 5 */
    /* Each sequence ends in a conflict; the last, [0,16) [16,32) then [0,32),
     * covers exactly what is held but is no duplicate of one fragment. */
    static const size_t seqs[][3] = {{0, 1, 9}, {0, 2, 9}, {0, 3, 9}, {2, 5, 0}};
    const uint8_t *out;
    size_t outlen;
    tcpst_reasm *r = mk(0, 0);
    for (uint32_t k = 0; k < 4; k++) { /* one ctx per sequence */
        for (size_t j = 0; j < 3 && seqs[k][j] != 9; j++) {
            ck_assert_int_eq(add(r, &fs, seqs[k][j], k, 0, &out, &outlen), 0);
        }
        ck_assert_uint_eq(tcpst_reasm_get_stats(r)->conflicts, k + 1);
        /* Nothing remembered: [0,32) was held, so with the rest it would complete. */
        ck_assert_int_eq(add(r, &fs, 4, k, 0, &out, &outlen), 0);
    }
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->overlaps, 0);
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->reassembled, 0);
    /* Sanity: the held pieces do complete without the overlapping one. */
    ck_assert_int_eq(add(r, &fs, 2, 9, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 5, 9, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 4, 9, 0, &out, &outlen), 1);
    ck_assert_uint_eq(outlen, olen);
    ck_assert_mem_eq(out, orig, olen);
    tcpst_reasm_free(r);
    fset_free(&fs);
}
END_TEST

START_TEST(end_conflicts)
{
    static uint8_t orig[2048], buf[2048];
    size_t olen = build_v4(orig, 100, 3, 6, 0);
    ck_assert_uint_eq(olen, 120);
    fset fs = {0};
    fset_add(&fs, buf, frag_v4(buf, orig, 0, 48, true, false));   /* 0 */
    fset_add(&fs, buf, frag_v4(buf, orig, 48, 52, false, false)); /* 1 last, end 100 */
    fset_add(&fs, buf, frag_v4(buf, orig, 48, 44, false, false)); /* 2 last, end 92 */
    fset_add(&fs, buf, frag_v4(buf, orig, 88, 8, true, false));   /* 3 non-last to 96 */
    fset_add(&fs, buf, frag_v4(buf, orig, 48, 40, true, false));  /* 4 non-last to 88 */
    const uint8_t *out;
    size_t outlen;
    tcpst_reasm *r = mk(0, 0);
    /* Two last fragments with different ends. */
    ck_assert_int_eq(add(r, &fs, 1, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 2, 0, 0, &out, &outlen), 0);
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->conflicts, 1);
    /* Data past the end a last fragment set (either order). */
    ck_assert_int_eq(add(r, &fs, 2, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 3, 0, 0, &out, &outlen), 0);
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->conflicts, 2);
    ck_assert_int_eq(add(r, &fs, 3, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 2, 0, 0, &out, &outlen), 0);
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->conflicts, 3);
    /* A non-last fragment ending exactly at a multiple of 8 before the end is fine. */
    fset g = {3, {fs.len[0], fs.len[2], fs.len[4]}, {fs.pkt[0], fs.pkt[2], fs.pkt[4]}};
    ck_assert_int_eq(add(r, &g, 1, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &g, 2, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &g, 0, 0, 0, &out, &outlen), 1);
    ck_assert_uint_eq(outlen, 20 + 92);
    ck_assert_mem_eq(out + 20, orig + 20, 92);
    ck_assert_uint_eq(get16(out + 2), 112);
    ck_assert_uint_eq(sum16(out, 20), 0xFFFF);
    tcpst_reasm_free(r);
    fset_free(&fs);
}
END_TEST

/* ---- keys ---------------------------------------------------------------- */

START_TEST(interleaved_not_mixed)
{
    /* Same addresses: ids 1 and 2; id 1 under ctx 7; id 1 as UDP; id 1 from
     * another source.  Payloads differ per datagram, so any mixing shows. */
    enum { N = 5 };
    static uint8_t orig[N][2048];
    size_t olen[N];
    fset fs[N];
    uint32_t ctx[N] = {0, 0, 7, 0, 0};
    memset(fs, 0, sizeof fs);
    for (int d = 0; d < N; d++) {
        olen[d] = build_v4(orig[d], 400, d == 1 ? 2 : 1, d == 3 ? 17 : 6, 0);
        if (d == 2) {
            fill(orig[d] + 20, 400, 99); /* other payload under the same header */
        }
        if (d == 4) {
            orig[d][15] = 9; /* another source address */
            fill(orig[d] + 20, 400, 98);
        }
        pb_ipv4_checksum(orig[d]);
        split_v4(&fs[d], orig[d], olen[d], 80, false);
        ck_assert_uint_eq(fs[d].n, 5);
    }
    tcpst_reasm *r = mk(0, 0);
    const uint8_t *out;
    size_t outlen;
    int done[N] = {0};
    for (size_t k = 0; k < 5; k++) {
        for (int d = 0; d < N; d++) {
            size_t i = (k + (size_t)d) % 5; /* each datagram in its own rotation */
            int rc = add(r, &fs[d], i, ctx[d], 0, &out, &outlen);
            ck_assert_int_eq(rc, k == 4);
            if (rc) {
                ck_assert_uint_eq(outlen, olen[d]);
                ck_assert_mem_eq(out, orig[d], olen[d]);
                done[d] = 1;
            }
        }
    }
    for (int d = 0; d < N; d++) {
        ck_assert(done[d]);
        fset_free(&fs[d]);
    }
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->reassembled, N);
    tcpst_reasm_free(r);
}
END_TEST

START_TEST(many_in_flight)
{
    /* As many datagrams as slots, interleaved: every hash chain and the age
     * list stay consistent and nothing is evicted. */
    enum { N = 64 };
    static uint8_t orig[N][256];
    static fset fs[N];
    tcpst_reasm *r = mk(N, 0);
    const uint8_t *out;
    size_t outlen;
    for (int d = 0; d < N; d++) {
        build_v4(orig[d], 100, (uint16_t)(d * 977), 6, 0);
        memset(&fs[d], 0, sizeof fs[d]);
        split_v4(&fs[d], orig[d], 120, 24, false);
    }
    for (size_t k = 0; k < fs[0].n; k++) {
        for (int d = 0; d < N; d++) {
            size_t i = fs[0].n - 1 - k;
            int rc = add(r, &fs[d], i, 0, 0, &out, &outlen);
            ck_assert_int_eq(rc, k + 1 == fs[0].n);
            if (rc) {
                ck_assert_mem_eq(out, orig[d], 120);
            }
        }
    }
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->reassembled, N);
    ck_assert_uint_eq(tcpst_reasm_get_stats(r)->evicted, 0);
    for (int d = 0; d < N; d++) {
        fset_free(&fs[d]);
    }
    tcpst_reasm_free(r);
}
END_TEST

/* ---- time and space ------------------------------------------------------ */

START_TEST(timeout_expiry)
{
    static uint8_t orig[2048];
    size_t olen = build_v4(orig, 100, 5, 6, 0);
    fset fs = {0};
    split_v4(&fs, orig, olen, 48, false); /* 3 fragments */
    tcpst_reasm *r = mk(0, 30 * SEC);
    const uint8_t *out;
    size_t outlen;
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    /* Just inside the timeout: completes. */
    tcpst_time t0 = 1000 * SEC;
    ck_assert_int_eq(add(r, &fs, 0, 0, t0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 1, 0, t0 + 29 * SEC, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 2, 0, t0 + 30 * SEC - 1, &out, &outlen), 1);
    /* At the timeout (counted from the first fragment): dropped first. */
    ck_assert_int_eq(add(r, &fs, 0, 0, t0, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 1, 0, t0 + 10 * SEC, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 2, 0, t0 + 30 * SEC, &out, &outlen), 0);
    ck_assert_uint_eq(st->timed_out, 1);
    /* Fragment 2 began a new datagram at t0+30: tcpst_reasm_expire drops it. */
    tcpst_reasm_expire(r, t0 + 60 * SEC - 1);
    ck_assert_uint_eq(st->timed_out, 1);
    tcpst_reasm_expire(r, t0 + 60 * SEC);
    ck_assert_uint_eq(st->timed_out, 2);
    /* Time running backwards expires nothing. */
    ck_assert_int_eq(add(r, &fs, 0, 0, t0 + 100 * SEC, &out, &outlen), 0);
    tcpst_reasm_expire(r, 0);
    tcpst_reasm_expire(r, INT64_MIN);
    ck_assert_uint_eq(st->timed_out, 2);
    ck_assert_int_eq(add(r, &fs, 1, 0, t0 + 100 * SEC, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs, 2, 0, t0 + 100 * SEC, &out, &outlen), 1);
    tcpst_reasm_expire(r, INT64_MAX);
    ck_assert_uint_eq(st->timed_out, 2); /* nothing was left */
    ck_assert_uint_eq(st->reassembled, 2);
    tcpst_reasm_free(r);
    fset_free(&fs);
}
END_TEST

START_TEST(eviction_when_full)
{
    static uint8_t orig[3][2048];
    fset fs[3];
    memset(fs, 0, sizeof fs);
    for (int d = 0; d < 3; d++) {
        build_v4(orig[d], 64, (uint16_t)(100 + d), 6, 0);
        split_v4(&fs[d], orig[d], 84, 32, false); /* 2 fragments */
    }
    tcpst_reasm *r = mk(2, 0);
    const uint8_t *out;
    size_t outlen;
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    ck_assert_int_eq(add(r, &fs[0], 0, 0, 1, &out, &outlen), 0);
    ck_assert_int_eq(add(r, &fs[1], 0, 0, 2, &out, &outlen), 0);
    ck_assert_uint_eq(st->evicted, 0);
    ck_assert_int_eq(add(r, &fs[2], 0, 0, 3, &out, &outlen), 0); /* evicts the oldest, 0 */
    ck_assert_uint_eq(st->evicted, 1);
    ck_assert_int_eq(add(r, &fs[1], 1, 0, 4, &out, &outlen), 1);
    ck_assert_mem_eq(out, orig[1], 84);
    ck_assert_int_eq(add(r, &fs[2], 1, 0, 5, &out, &outlen), 1);
    ck_assert_mem_eq(out, orig[2], 84);
    ck_assert_int_eq(add(r, &fs[0], 1, 0, 6, &out, &outlen), 0); /* its start is gone */
    ck_assert_uint_eq(st->evicted, 1);
    ck_assert_uint_eq(st->reassembled, 2);
    for (int d = 0; d < 3; d++) {
        fset_free(&fs[d]);
    }
    tcpst_reasm_free(r);
}
END_TEST

START_TEST(size_limits)
{
    static uint8_t orig[MAXPKT], buf[MAXPKT];
    tcpst_reasm *r = mk(0, 0);
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    const uint8_t *out;
    size_t outlen;
    fset fs = {0};
    size_t order[MAXFRAG];
    /* The biggest IPv4 datagram: 65535 bytes in all. */
    size_t olen = build_v4(orig, 65515, 1, 6, 0);
    split_v4(&fs, orig, olen, 1480, false);
    shuffle(order, fs.n, 5);
    feed_expect(r, &fs, order, 0, orig, olen);
    fset_free(&fs);
    /* One byte more (ping of death): a last fragment ending at 65516 is too
     * big even with a minimal header, whether it comes first or not. */
    for (int rev = 0; rev < 2; rev++) {
        fset_add(&fs, buf, frag_v4(buf, orig, 0, 1480, true, false));
        fset_add(&fs, buf, frag_v4(buf, orig, 65496, 20, false, false));
        ck_assert_int_eq(add(r, &fs, rev ? 1 : 0, 0, 0, &out, &outlen), 0);
        ck_assert_int_eq(add(r, &fs, rev ? 0 : 1, 0, 0, &out, &outlen), 0);
        ck_assert_uint_eq(st->too_big, (uint64_t)rev + 1);
        fset_free(&fs);
    }
    /* With 8 bytes of options in the first fragment, 65512 payload bytes fit
     * only as far as the offset-0 fragment does not say otherwise. */
    build_v4(orig, 8, 2, 6, 8);
    fset_add(&fs, buf, frag_v4(buf, orig, 0, 8, true, true));
    fset_add(&fs, buf, frag_v4(buf, orig, 0, 8, false, true)); /* reused below */
    put16(fs.pkt[1] + 6, 65504 / 8);                           /* last, at 65504, 8 bytes */
    pb_ipv4_checksum(fs.pkt[1]);
    ck_assert_int_eq(add(r, &fs, 1, 0, 0, &out, &outlen), 0); /* 20 + 65512 <= 65535 */
    ck_assert_uint_eq(st->too_big, 2);
    ck_assert_int_eq(add(r, &fs, 0, 0, 0, &out, &outlen), 0); /* 28 + 65512 > 65535 */
    ck_assert_uint_eq(st->too_big, 3);
    fset_free(&fs);
    /* IPv6: payload length counts extension headers too (RFC 8200 4.5).
     * 65535 bytes after a bare header fit; after 16 bytes of headers not. */
    size_t unfrag, nh_pos;
    olen = build_v6(orig, 65535, 8, false, &unfrag, &nh_pos);
    split_v6(&fs, orig, olen, unfrag, nh_pos, 1232, 8);
    shuffle(order, fs.n, 3);
    feed_expect(r, &fs, order, 0, orig, olen);
    fset_free(&fs);
    build_v6(orig, 1000, 8, true, &unfrag, &nh_pos);
    fset_add(&fs, buf, frag_v6(buf, orig, unfrag, nh_pos, 0, 8, false, 9));
    put16(fs.pkt[0] + unfrag + 2, 65528); /* last fragment at 65528, 8 bytes: ends 65536 */
    ck_assert_int_eq(add(r, &fs, 0, 0, 0, &out, &outlen), 0);
    ck_assert_uint_eq(st->malformed, 1); /* past 65535 is malformed, not too big */
    fset_free(&fs);
    fset_add(&fs, buf, frag_v6(buf, orig, unfrag, nh_pos, 0, 7, false, 9));
    put16(fs.pkt[0] + unfrag + 2, 65528); /* ends at 65535, + 16 bytes of headers */
    ck_assert_int_eq(add(r, &fs, 0, 0, 0, &out, &outlen), 0);
    ck_assert_uint_eq(st->too_big, 4);
    fset_free(&fs);
    ck_assert_uint_eq(st->reassembled, 2);
    tcpst_reasm_free(r);
}
END_TEST

/* ---- malformed ----------------------------------------------------------- */

/* IPv6 fragment [16,48) M behind `ndst` destination options headers. */
static size_t v6_dstopts_chain(uint8_t *p, const uint8_t *o6, size_t unfrag, int ndst)
{
    memcpy(p, o6, 40);
    p[6] = 60;
    size_t pos = 40;
    for (int e = 0; e < ndst; e++) {
        const uint8_t d[8] = {e + 1 < ndst ? 60 : 44, 0, 1, 4, 0, 0, 0, 0}; /* PadN */
        memcpy(p + pos, d, 8);
        pos += 8;
    }
    memcpy(p + pos, (const uint8_t[8]){6, 0, 0, 16 | 1, 0, 0, 0, 11}, 8);
    memcpy(p + pos + 8, o6 + unfrag + 16, 32);
    put16(p + 4, (uint32_t)(pos + 40 - 40));
    return pos + 40;
}

/* Case k damages a copy of a valid fragment (IPv4 [16,48) MF, or IPv6
 * [16,48) M behind hop-by-hop + routing: header 40, HbH at 40, routing at
 * 48, fragment header at 56); returns its name, NULL past the last case. */
static const char *damage(int k, uint8_t *p, size_t *len, const uint8_t *o4, const uint8_t *o6,
                          size_t unfrag, size_t nh_pos)
{
    bool v4 = k < 10;
    *len =
        v4 ? frag_v4(p, o4, 16, 32, true, false) : frag_v6(p, o6, unfrag, nh_pos, 16, 32, true, 11);
    const char *what = NULL;
    switch (k) {
        case 0:
            what = "v4 version 5";
            p[0] = 0x55;
            break;
        case 1:
            what = "v4 IHL 4";
            p[0] = 0x44;
            break;
        case 2:
            what = "v4 IHL past total length";
            p[0] = 0x4F;
            break;
        case 3:
            what = "v4 total length below 20";
            put16(p + 2, 19);
            break;
        case 4:
            what = "v4 total length past len";
            put16(p + 2, 53);
            break;
        case 5:
            what = "v4 truncated";
            *len = 51;
            break;
        case 6:
            what = "v4 non-last, 28 bytes";
            put16(p + 2, 20 + 28);
            break;
        case 7:
            what = "v4 zero-length non-last";
            put16(p + 2, 20);
            break;
        case 8:
            what = "v4 offset 65528 + 32 > 65535";
            put16(p + 6, 0x3FFF);
            break;
        case 9:
            what = "empty";
            *len = 0;
            break;
        case 10:
            what = "v6 payload length 0";
            put16(p + 4, 0);
            break;
        case 11:
            what = "v6 payload length past len";
            put16(p + 4, 57);
            break;
        case 12:
            what = "v6 chain: TCP before the fragment header";
            p[48] = 6;
            break;
        case 13:
            what = "v6 chain: hop-by-hop not first";
            p[40] = 0;
            break;
        case 14:
            what = "v6 chain: ESP";
            p[6] = 50;
            break;
        case 15:
            what = "v6 chain: AH before the fragment header";
            p[40] = 51;
            break;
        case 16:
            what = "v6 routing header runs past the packet";
            p[49] = 9;
            break;
        case 17:
            what = "v6 fragment header cut by the length";
            put16(p + 4, 16 + 4);
            break;
        case 18:
            what = "v6 non-last, 31 bytes";
            put16(p + 4, 16 + 8 + 31);
            break;
        case 19:
            what = "v6 zero-length non-last";
            put16(p + 4, 16 + 8);
            break;
        case 20:
            what = "v6 offset 65528 + 32 > 65535";
            put16(p + 58, 0xFFF9);
            break;
        case 21:
            what = "v6 truncated";
            *len = 95;
            break;
        case 22:
            what = "v6 claiming version 4";
            p[0] = 0x40;
            break;
        case 23:
            *len = v6_dstopts_chain(p, o6, unfrag, TCPST_REASM_MAX_EXT + 1);
            what = "v6 too many extension headers";
            break;
        default:
            return NULL;
    }
    if (v4) {
        pb_ipv4_checksum(p);
    }
    return what;
}

START_TEST(malformed_fragments)
{
    static uint8_t o4[2048], o6[2048], p[2048];
    build_v4(o4, 100, 11, 6, 0);
    size_t unfrag, nh_pos, len;
    build_v6(o6, 100, 11, true, &unfrag, &nh_pos);
    ck_assert_uint_eq(unfrag, 56);
    tcpst_reasm *r = mk(0, 0);
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    const uint8_t *out;
    size_t outlen;
    /* The longest accepted chain is held, so the limit is where it says. */
    len = v6_dstopts_chain(p, o6, unfrag, TCPST_REASM_MAX_EXT);
    ck_assert_int_eq(tcpst_reasm_add(r, p, len, 1, 0, &out, &outlen), 0);
    ck_assert_uint_eq(st->malformed, 0);
    int k;
    const char *what;
    for (k = 0; (what = damage(k, p, &len, o4, o6, unfrag, nh_pos)) != NULL; k++) {
        uint8_t *copy = malloc(len ? len : 1); /* exactly len bytes, for ASan */
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, p, len);
        int rc = tcpst_reasm_add(r, copy, len, 0, 0, &out, &outlen);
        free(copy);
        ck_assert_msg(rc == 0 && out == NULL && outlen == 0, "%s: accepted", what);
        ck_assert_msg(st->malformed == (uint64_t)k + 1, "%s: not counted malformed", what);
    }
    ck_assert_int_eq(k, 24);
    /* Undamaged, both base fragments are held. */
    ck_assert_int_eq(
        tcpst_reasm_add(r, p, frag_v4(p, o4, 16, 32, true, false), 0, 0, &out, &outlen), 0);
    len = frag_v6(p, o6, unfrag, nh_pos, 16, 32, true, 11);
    ck_assert_int_eq(tcpst_reasm_add(r, p, len, 0, 0, &out, &outlen), 0);
    ck_assert_int_eq(tcpst_reasm_add(r, NULL, 0, 0, 0, &out, &outlen), 0);
    ck_assert_uint_eq(st->malformed, 25);
    ck_assert_uint_eq(st->fragments, 28);
    ck_assert_uint_eq(st->reassembled + st->conflicts + st->too_big, 0);
    tcpst_reasm_free(r);
}
END_TEST

START_TEST(truncation_sweep)
{
    /* Every length short of the whole fragment is malformed, and no read
     * goes past `len` (each copy is exactly len bytes, for ASan). */
    static uint8_t o4[2048], o6[2048], p4[2048], p6[2048];
    size_t unfrag, nh_pos;
    build_v4(o4, 200, 12, 6, 12);
    build_v6(o6, 200, 12, true, &unfrag, &nh_pos);
    size_t l4 = frag_v4(p4, o4, 0, 64, true, false);
    size_t l6 = frag_v6(p6, o6, unfrag, nh_pos, 64, 64, true, 12);
    const uint8_t *pk[2] = {p4, p6};
    size_t full[2] = {l4, l6};
    tcpst_reasm *r = mk(0, 0);
    const tcpst_reasm_stats *st = tcpst_reasm_get_stats(r);
    const uint8_t *out;
    size_t outlen;
    for (int v = 0; v < 2; v++) {
        for (size_t len = 0; len < full[v]; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            ck_assert_ptr_nonnull(copy);
            memcpy(copy, pk[v], len);
            uint64_t before = st->malformed;
            ck_assert_int_eq(tcpst_reasm_add(r, copy, len, 0, 0, &out, &outlen), 0);
            ck_assert_msg(st->malformed == before + 1, "v%d len %zu not malformed", v, len);
            free(copy);
        }
        /* In full it is held. */
        uint8_t *copy = malloc(full[v]);
        memcpy(copy, pk[v], full[v]);
        ck_assert_int_eq(tcpst_reasm_add(r, copy, full[v], 0, 0, &out, &outlen), 0);
        free(copy);
    }
    ck_assert_uint_eq(st->malformed, l4 + l6);
    tcpst_reasm_free(r);
}
END_TEST

START_TEST(config)
{
    tcpst_reasm_config cfg;
    tcpst_reasm_config_default(&cfg);
    ck_assert_uint_eq(cfg.max_datagrams, 64);
    ck_assert_int_eq(cfg.timeout, 30 * SEC);
    tcpst_reasm *r = (tcpst_reasm *)&cfg;
    tcpst_error err = {0};
    cfg.max_datagrams = 0;
    ck_assert_int_eq(tcpst_reasm_init(&r, &cfg, &err), TCPST_EUSAGE);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(err.code, TCPST_EUSAGE);
    ck_assert(strlen(err.msg) > 0);
    cfg.max_datagrams = TCPST_REASM_MAX_DATAGRAMS + 1;
    ck_assert_int_eq(tcpst_reasm_init(&r, &cfg, NULL), TCPST_EUSAGE);
    cfg.max_datagrams = 1;
    cfg.timeout = 0;
    ck_assert_int_eq(tcpst_reasm_init(&r, &cfg, NULL), TCPST_EUSAGE);
    ck_assert_int_eq(tcpst_reasm_init(&r, NULL, NULL), 0);
    ck_assert_ptr_nonnull(r);
    tcpst_reasm_free(r);
    tcpst_reasm_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ipreasm");
    TCase *t = tcase_create("reassembly");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, v4_orders);
    tcase_add_test(t, v4_options_first_only);
    tcase_add_test(t, v6_orders);
    tcase_add_test(t, unfragmented_returned_whole);
    tcase_add_test(t, atomic_fragment_leaves_datagram_alone);
    tcase_add_test(t, duplicates);
    tcase_add_test(t, v4_identical_overlaps);
    tcase_add_test(t, v4_conflicting_overlap);
    tcase_add_test(t, v6_overlap_rules);
    tcase_add_test(t, end_conflicts);
    tcase_add_test(t, interleaved_not_mixed);
    tcase_add_test(t, many_in_flight);
    tcase_add_test(t, timeout_expiry);
    tcase_add_test(t, eviction_when_full);
    tcase_add_test(t, size_limits);
    tcase_add_test(t, malformed_fragments);
    tcase_add_test(t, truncation_sweep);
    tcase_add_test(t, config);
    suite_add_tcase(s, t);
    return ckrun(s);
}
