/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipreasm.c - bounded IPv4/IPv6 fragment reassembly (RFC 791 3.2, RFC 8200 4.5,
 * RFC 5722); the rules are listed in ipreasm.h.
 *
 * Each datagram in progress owns a slot reserved at init: a buffer holding
 * the payload at a fixed offset with room before it for the output header,
 * and three bitmaps over 8-byte blocks (covered, a fragment starts here, a
 * fragment ends here).  Blocks work because every fragment starts on an
 * 8-byte boundary and only the last one may end inside a block.  Slots are
 * found through a hash index (chains of slot numbers, so a lookup costs one
 * short chain walk) and aged through a list in the order they were started,
 * whose head is both the next to time out and the one to evict.
 *
 * Does not: verify input checksums, reassemble jumbograms, look past the
 * fragment header, or keep any pointer to the caller's bytes.
 */
#include "tcpstate/ipreasm.h"
#include "tcpstate/hash.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define IPV4_MIN_HLEN 20
#define IPV6_HLEN     40
#define V6FRAG_LEN    8
#define IPV4_MF       0x2000u
#define IPV4_OFFMASK  0x1FFFu
#define IPV4_KEEP     0xC000u /* reserved + DF survive reassembly */
#define NH_HOPOPTS    0
#define NH_ROUTING    43
#define NH_FRAGMENT   44
#define NH_DSTOPTS    60
#define MAX_PAYLOAD   65535u
#define MAX_PACKET    65535u
/* Room for the biggest output header: an IPv6 header and TCPST_REASM_MAX_EXT
 * extension headers of 2048 bytes each (RFC 8200 4.3: (255 + 1) * 8). */
#define HDR_ROOM   (IPV6_HLEN + TCPST_REASM_MAX_EXT * 2048)
#define NBLOCKS    ((MAX_PAYLOAD + 7) / 8)
#define BITMAP_LEN ((NBLOCKS + 7) / 8)
#define SLOT_BUF   (HDR_ROOM + MAX_PAYLOAD)
#define NONE       (-1)

/* ---- bounds-checked reads ------------------------------------------------ */

static bool get8(const uint8_t *p, size_t len, size_t off, uint8_t *v)
{
    if (off >= len) {
        return false;
    }
    *v = p[off];
    return true;
}

static bool get16(const uint8_t *p, size_t len, size_t off, uint16_t *v)
{
    if (len < 2 || off > len - 2) {
        return false;
    }
    *v = (uint16_t)((unsigned)p[off] << 8 | p[off + 1]);
    return true;
}

static bool get32(const uint8_t *p, size_t len, size_t off, uint32_t *v)
{
    if (len < 4 || off > len - 4) {
        return false;
    }
    *v = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 |
         p[off + 3];
    return true;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---- parsing one fragment ------------------------------------------------ */

/* What one fragment says, all offsets already checked against its length. */
typedef struct frag {
    uint8_t version, proto; /* proto: IPv4 protocol; IPv6: fragment header's next header */
    uint8_t src[16], dst[16];
    uint32_t id;
    uint32_t off, len; /* payload offset and length in bytes */
    bool more;
    const uint8_t *hdr; /* output header: IPv4 header, IPv6 unfragmentable part */
    size_t hdr_len;
    size_t nh_pos; /* IPv6: where in hdr the next header pointing at 44 sits */
    const uint8_t *data;
} frag;

static bool parse_v4(const uint8_t *ip, size_t len, frag *f)
{
    uint8_t b0, proto;
    uint16_t tot, fl, id;
    if (!get8(ip, len, 0, &b0) || !get16(ip, len, 2, &tot) || !get16(ip, len, 4, &id) ||
        !get16(ip, len, 6, &fl) || !get8(ip, len, 9, &proto) || len < IPV4_MIN_HLEN) {
        return false;
    }
    size_t ihl = (size_t)(b0 & 0x0F) * 4;
    /* RFC 791 3.1: IHL counts 32-bit words, at least 5; total length covers
     * header and data and must have been captured whole. */
    if (ihl < IPV4_MIN_HLEN || tot < ihl || tot > len) {
        return false;
    }
    f->version = 4;
    f->proto = proto;
    memset(f->src, 0, sizeof f->src);
    memset(f->dst, 0, sizeof f->dst);
    memcpy(f->src, ip + 12, 4);
    memcpy(f->dst, ip + 16, 4);
    f->id = id;
    f->off = (uint32_t)(fl & IPV4_OFFMASK) * 8;
    f->len = (uint32_t)(tot - ihl);
    f->more = (fl & IPV4_MF) != 0;
    f->hdr = ip;
    f->hdr_len = ihl;
    f->nh_pos = 9;
    f->data = ip + ihl;
    return true;
}

static bool parse_v6(const uint8_t *ip, size_t len, frag *f)
{
    uint16_t plen, fo;
    uint8_t nh;
    uint32_t id;
    if (!get16(ip, len, 4, &plen) || !get8(ip, len, 6, &nh) || len < IPV6_HLEN) {
        return false;
    }
    /* Payload length 0 is a jumbogram, which RFC 2675 3 forbids to fragment. */
    if (plen == 0 || (size_t)IPV6_HLEN + plen > len) {
        return false;
    }
    size_t end = (size_t)IPV6_HLEN + plen, pos = IPV6_HLEN, nh_pos = 6;
    for (int n = 0; nh != NH_FRAGMENT; n++) {
        uint8_t next, hl;
        /* RFC 8200 4.1: only hop-by-hop (first), routing and destination
         * options belong to the unfragmentable part. */
        bool ok = nh == NH_ROUTING || nh == NH_DSTOPTS || (nh == NH_HOPOPTS && n == 0);
        if (!ok || n >= TCPST_REASM_MAX_EXT || !get8(ip, end, pos, &next) ||
            !get8(ip, end, pos + 1, &hl)) {
            return false;
        }
        size_t hlen = ((size_t)hl + 1) * 8; /* RFC 8200 4.3: 8-octet units, first excluded */
        if (hlen > end - pos) {
            return false;
        }
        nh_pos = pos;
        nh = next;
        pos += hlen;
    }
    if (end - pos < V6FRAG_LEN || !get8(ip, end, pos, &nh) || !get16(ip, end, pos + 2, &fo) ||
        !get32(ip, end, pos + 4, &id)) {
        return false;
    }
    f->version = 6;
    f->proto = nh;
    memcpy(f->src, ip + 8, 16);
    memcpy(f->dst, ip + 24, 16);
    f->id = id;
    /* RFC 8200 4.5: offset in 8-octet units in bits 15..3, M in bit 0. */
    f->off = (uint32_t)(fo & 0xFFF8u);
    f->more = (fo & 1u) != 0;
    f->len = (uint32_t)(end - pos - V6FRAG_LEN);
    f->hdr = ip;
    f->hdr_len = pos;
    f->nh_pos = nh_pos;
    f->data = ip + pos + V6FRAG_LEN;
    return true;
}

static bool parse(const uint8_t *ip, size_t len, frag *f)
{
    uint8_t b0;
    if (!ip || !get8(ip, len, 0, &b0)) {
        return false;
    }
    bool ok = (b0 >> 4) == 4 ? parse_v4(ip, len, f) : (b0 >> 4) == 6 && parse_v6(ip, len, f);
    if (!ok) {
        return false;
    }
    /* RFC 8200 4.5 (and RFC 791 3.2 by construction): non-last fragments
     * carry a positive multiple of 8 bytes, and no byte lies past 65535. */
    if ((f->more && (f->len == 0 || f->len % 8 != 0)) || f->off + f->len > MAX_PAYLOAD) {
        return false;
    }
    return true;
}

/* The packet rebuilt from header `hdr_len` and `payload` bytes would not fit
 * its length field (IPv4 total length; IPv6 payload length, RFC 8200 4.5). */
static bool too_big(uint8_t version, size_t hdr_len, uint32_t payload)
{
    size_t total = hdr_len + payload;
    return version == 4 ? total > MAX_PACKET : total - IPV6_HLEN > MAX_PACKET;
}

/* The output header length to size a datagram by before its offset-0
 * fragment is seen: IPv6 fragments all carry the unfragmentable part (RFC
 * 8200 4.5 checks each against it); IPv4 ones may drop options, so assume
 * the minimum. */
static size_t hdr_guess(const frag *f)
{
    return f->off == 0 || f->version == 6 ? f->hdr_len : IPV4_MIN_HLEN;
}

/* ---- the slot table ------------------------------------------------------ */

typedef struct slot {
    int32_t hnext;        /* next slot in the same hash chain */
    int32_t older, newer; /* age list, oldest first */
    uint32_t hash;
    bool used;
    /* key */
    uint8_t version, proto; /* proto only keys IPv4 */
    uint32_t ctx, id;
    uint8_t src[16], dst[16];
    /* progress */
    tcpst_time first; /* when the first fragment came */
    bool have_first, have_end;
    uint8_t frag_nh;  /* IPv6: next header from the offset-0 fragment header */
    uint32_t hdr_len; /* output header bytes, stored just before the payload */
    uint32_t nh_pos;  /* IPv6: next-header byte in the header to rewrite */
    uint32_t end;     /* payload length, once the last fragment came */
    uint32_t max_end; /* highest byte end any fragment reached */
    uint32_t covered; /* blocks covered */
    uint8_t *buf;     /* SLOT_BUF bytes: HDR_ROOM header room, then the payload */
    uint8_t cov[BITMAP_LEN], starts[BITMAP_LEN], ends[BITMAP_LEN];
} slot;

struct tcpst_reasm {
    tcpst_reasm_config cfg;
    tcpst_reasm_stats stats;
    slot *slots;
    uint32_t nslots;
    int32_t *buckets; /* heads of hash chains */
    uint32_t bmask;   /* bucket count - 1 (a power of two) */
    int32_t oldest, newest;
    int32_t freelist; /* chained through hnext */
    uint8_t *scratch; /* SLOT_BUF bytes for packets returned whole */
    uint8_t *mem;     /* all slot buffers in one block */
};

static bool bit(const uint8_t *m, uint32_t i)
{
    return ((unsigned)m[i / 8] >> (i % 8)) & 1u;
}

static void setbit(uint8_t *m, uint32_t i)
{
    m[i / 8] = (uint8_t)(m[i / 8] | (1u << (i % 8)));
}

/* FNV-1a over the key.  Unseeded: chains are bounded by max_datagrams, so a
 * crafted collision costs at most a walk over the (small) table. */
static uint32_t key_hash(const frag *f, uint32_t ctx)
{
    uint8_t k[4 + 1 + 1 + 4 + 32];
    size_t n = 0;
    memcpy(k + n, &ctx, 4);
    n += 4;
    k[n++] = f->version;
    k[n++] = f->version == 4 ? f->proto : 0;
    memcpy(k + n, &f->id, 4);
    n += 4;
    memcpy(k + n, f->src, 16);
    memcpy(k + n + 16, f->dst, 16);
    n += 32;
    return tcpst_fnv1a32(TCPST_FNV32_BASIS, k, n);
}

static bool key_eq(const slot *s, const frag *f, uint32_t ctx)
{
    return s->ctx == ctx && s->version == f->version && s->id == f->id &&
           (f->version == 6 || s->proto == f->proto) && memcmp(s->src, f->src, 16) == 0 &&
           memcmp(s->dst, f->dst, 16) == 0;
}

static int32_t lookup(const tcpst_reasm *r, const frag *f, uint32_t ctx, uint32_t h)
{
    for (int32_t i = r->buckets[h & r->bmask]; i != NONE; i = r->slots[i].hnext) {
        if (r->slots[i].hash == h && key_eq(&r->slots[i], f, ctx)) {
            return i;
        }
    }
    return NONE;
}

/* Forget a datagram; its buffer keeps its bytes until the slot is reused. */
static void release(tcpst_reasm *r, int32_t i)
{
    slot *s = &r->slots[i];
    int32_t *pp = &r->buckets[s->hash & r->bmask];
    while (*pp != i) {
        pp = &r->slots[*pp].hnext;
    }
    *pp = s->hnext;
    if (s->older != NONE) {
        r->slots[s->older].newer = s->newer;
    } else {
        r->oldest = s->newer;
    }
    if (s->newer != NONE) {
        r->slots[s->newer].older = s->older;
    } else {
        r->newest = s->older;
    }
    s->used = false;
    s->hnext = r->freelist;
    r->freelist = i;
}

static int32_t start(tcpst_reasm *r, const frag *f, uint32_t ctx, uint32_t h, tcpst_time now)
{
    if (r->freelist == NONE) {
        release(r, r->oldest);
        r->stats.evicted++;
    }
    int32_t i = r->freelist;
    slot *s = &r->slots[i];
    r->freelist = s->hnext;
    uint8_t *buf = s->buf;
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->used = true;
    s->hash = h;
    s->ctx = ctx;
    s->version = f->version;
    s->proto = f->version == 4 ? f->proto : 0;
    s->id = f->id;
    memcpy(s->src, f->src, 16);
    memcpy(s->dst, f->dst, 16);
    s->first = now;
    s->hnext = r->buckets[h & r->bmask];
    r->buckets[h & r->bmask] = i;
    s->newer = NONE;
    s->older = r->newest;
    if (r->newest != NONE) {
        r->slots[r->newest].newer = i;
    } else {
        r->oldest = i;
    }
    r->newest = i;
    return i;
}

/* ---- public API ---------------------------------------------------------- */

void tcpst_reasm_config_default(tcpst_reasm_config *cfg)
{
    cfg->max_datagrams = 64;
    cfg->timeout = 30 * TCPST_NS_PER_SEC;
}

int tcpst_reasm_init(tcpst_reasm **out, const tcpst_reasm_config *cfg, tcpst_error *err)
{
    tcpst_reasm_config def;
    *out = NULL;
    if (!cfg) {
        tcpst_reasm_config_default(&def);
        cfg = &def;
    }
    if (cfg->max_datagrams == 0 || cfg->max_datagrams > TCPST_REASM_MAX_DATAGRAMS) {
        return tcpst_error_set(err, TCPST_EUSAGE,
                               "fragment reassembly: max datagrams must be 1..%u, not %u",
                               TCPST_REASM_MAX_DATAGRAMS, cfg->max_datagrams);
    }
    if (cfg->timeout <= 0) {
        return tcpst_error_set(err, TCPST_EUSAGE, "fragment reassembly: timeout must be > 0");
    }
    tcpst_reasm *r = calloc(1, sizeof *r);
    if (!r) {
        goto nomem;
    }
    r->cfg = *cfg;
    r->nslots = cfg->max_datagrams;
    uint32_t nb = 1;
    while (nb < 2 * r->nslots) {
        nb *= 2;
    }
    r->bmask = nb - 1;
    r->slots = calloc(r->nslots, sizeof *r->slots);
    r->buckets = malloc((size_t)nb * sizeof *r->buckets);
    /* One block for every slot buffer plus the scratch buffer. */
    r->mem = malloc(((size_t)r->nslots + 1) * SLOT_BUF);
    if (!r->slots || !r->buckets || !r->mem) {
        goto nomem;
    }
    for (uint32_t b = 0; b < nb; b++) {
        r->buckets[b] = NONE;
    }
    for (uint32_t i = 0; i < r->nslots; i++) {
        r->slots[i].buf = r->mem + (size_t)i * SLOT_BUF;
        r->slots[i].hnext = i + 1 < r->nslots ? (int32_t)(i + 1) : NONE;
    }
    r->scratch = r->mem + (size_t)r->nslots * SLOT_BUF;
    r->freelist = 0;
    r->oldest = r->newest = NONE;
    *out = r;
    return 0;
nomem:
    tcpst_reasm_free(r);
    return tcpst_error_set(err, TCPST_ENOMEM, "fragment reassembly: out of memory for %u datagrams",
                           cfg->max_datagrams);
}

void tcpst_reasm_free(tcpst_reasm *r)
{
    if (!r) {
        return;
    }
    free(r->mem);
    free(r->buckets);
    free(r->slots);
    free(r);
}

const tcpst_reasm_stats *tcpst_reasm_get_stats(const tcpst_reasm *r)
{
    return &r->stats;
}

static bool expired(const tcpst_reasm *r, const slot *s, tcpst_time now)
{
    /* The difference in unsigned arithmetic cannot overflow for any pair of
     * int64 times with now >= first. */
    return now >= s->first && (uint64_t)now - (uint64_t)s->first >= (uint64_t)r->cfg.timeout;
}

void tcpst_reasm_expire(tcpst_reasm *r, tcpst_time now)
{
    while (r->oldest != NONE && expired(r, &r->slots[r->oldest], now)) {
        release(r, r->oldest);
        r->stats.timed_out++;
    }
}

static uint16_t ipv4_checksum(const uint8_t *h, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)h[i] << 8 | h[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xFFFFu) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Turn header `h` (hdr_len bytes, directly followed by `payload` bytes) into
 * an unfragmented packet header. */
static void rewrite_header(uint8_t *h, uint8_t version, size_t hdr_len, size_t nh_pos,
                           uint8_t frag_nh, uint32_t payload)
{
    if (version == 4) {
        uint16_t fl = (uint16_t)((unsigned)h[6] << 8 | h[7]);
        put16(h + 2, (uint16_t)(hdr_len + payload));
        put16(h + 6, (uint16_t)(fl & IPV4_KEEP));
        put16(h + 10, 0);
        put16(h + 10, ipv4_checksum(h, hdr_len));
    } else {
        h[nh_pos] = frag_nh;
        put16(h + 4, (uint16_t)(hdr_len - IPV6_HLEN + payload));
    }
}

/* A whole packet: copied to the scratch buffer (IPv6 loses its fragment header). */
static int whole(tcpst_reasm *r, const frag *f, const uint8_t **out, size_t *outlen)
{
    uint8_t *p = r->scratch;
    memcpy(p, f->hdr, f->hdr_len);
    memcpy(p + f->hdr_len, f->data, f->len);
    if (f->version == 6) {
        rewrite_header(p, 6, f->hdr_len, f->nh_pos, f->proto, f->len);
    }
    r->stats.unfragmented++;
    *out = p;
    *outlen = f->hdr_len + f->len;
    return 1;
}

typedef enum { ADD_HELD, ADD_CONFLICT, ADD_TOO_BIG } add_result;

/* Checks fragment `f` against what slot `s` holds: end consistency, then
 * the overlapped bytes.  Sets *overlap when it covers data already held. */
static add_result check(const slot *s, const frag *f, bool *overlap)
{
    uint32_t fe = f->off + f->len;
    *overlap = false;
    if (!f->more && ((s->have_end && s->end != fe) || s->max_end > fe)) {
        return ADD_CONFLICT; /* a second, different end, or data past this end */
    }
    if (f->more && s->have_end && fe > s->end) {
        return ADD_CONFLICT; /* data past the end the last fragment set */
    }
    size_t hl = s->have_first ? s->hdr_len : hdr_guess(f);
    if (too_big(f->version, hl, fe > s->max_end ? fe : s->max_end)) {
        return ADD_TOO_BIG;
    }
    if (f->len == 0) {
        return ADD_HELD;
    }
    uint32_t b0 = f->off / 8, b1 = (fe - 1) / 8; /* first and last block */
    uint32_t seen = 0;
    for (uint32_t b = b0; b <= b1; b++) {
        if (!bit(s->cov, b)) {
            continue;
        }
        /* A covered block holds data up to fe: only a last fragment ends
         * inside a block, and the end checks above made the ends agree. */
        uint32_t lo = b * 8, hi = lo + 8 < fe ? lo + 8 : fe;
        if (memcmp(s->buf + HDR_ROOM + lo, f->data + (lo - f->off), hi - lo) != 0) {
            return ADD_CONFLICT;
        }
        seen++;
    }
    if (seen == 0) {
        return ADD_HELD;
    }
    *overlap = true;
    if (f->version == 6) {
        /* RFC 5722 / RFC 8200 4.5: only an exact duplicate is tolerated.
         * Held IPv6 fragments never overlap, so one fragment spans exactly
         * [off, fe) when it starts at b0, ends in b1, and none starts or
         * ends in between, with every block covered. */
        if (seen != b1 - b0 + 1 || !bit(s->starts, b0) || !bit(s->ends, b1)) {
            return ADD_CONFLICT;
        }
        for (uint32_t b = b0; b < b1; b++) {
            if (bit(s->ends, b) || bit(s->starts, b + 1)) {
                return ADD_CONFLICT;
            }
        }
    }
    return ADD_HELD;
}

/* Merges an already checked fragment into slot `s`. */
static void merge(slot *s, const frag *f)
{
    uint32_t fe = f->off + f->len;
    if (f->len > 0) {
        uint32_t b0 = f->off / 8, b1 = (fe - 1) / 8;
        memcpy(s->buf + HDR_ROOM + f->off, f->data, f->len);
        for (uint32_t b = b0; b <= b1; b++) {
            if (!bit(s->cov, b)) {
                setbit(s->cov, b);
                s->covered++;
            }
        }
        setbit(s->starts, b0);
        setbit(s->ends, b1);
    }
    if (fe > s->max_end) {
        s->max_end = fe;
    }
    if (!f->more) {
        s->have_end = true;
        s->end = fe;
    }
    if (f->off == 0 && !s->have_first) {
        s->have_first = true;
        s->hdr_len = (uint32_t)f->hdr_len;
        s->nh_pos = (uint32_t)f->nh_pos;
        s->frag_nh = f->proto;
        memcpy(s->buf + HDR_ROOM - f->hdr_len, f->hdr, f->hdr_len);
    }
}

int tcpst_reasm_add(tcpst_reasm *r, const uint8_t *ip, size_t len, uint32_t ctx, tcpst_time now,
                    const uint8_t **out, size_t *outlen)
{
    frag f;
    *out = NULL;
    *outlen = 0;
    r->stats.fragments++;
    tcpst_reasm_expire(r, now);
    if (!parse(ip, len, &f)) {
        r->stats.malformed++;
        return 0;
    }
    if (!f.more && f.off == 0) {
        return whole(r, &f, out, outlen);
    }
    uint32_t h = key_hash(&f, ctx);
    int32_t i = lookup(r, &f, ctx, h);
    if (i == NONE) {
        /* A datagram is only started by a fragment that could belong to one. */
        if (too_big(f.version, hdr_guess(&f), f.off + f.len)) {
            r->stats.too_big++;
            return 0;
        }
        i = start(r, &f, ctx, h, now);
    }
    slot *s = &r->slots[i];
    bool overlap;
    switch (check(s, &f, &overlap)) {
        case ADD_CONFLICT:
            release(r, i);
            r->stats.conflicts++;
            return 0;
        case ADD_TOO_BIG:
            release(r, i);
            r->stats.too_big++;
            return 0;
        case ADD_HELD:
            break;
    }
    r->stats.overlaps += overlap;
    merge(s, &f);
    if (!s->have_end || s->covered != (s->end + 7) / 8) {
        return 0;
    }
    /* No hole: block 0 is covered, so the offset-0 header is held too. */
    uint8_t *p = s->buf + HDR_ROOM - s->hdr_len;
    rewrite_header(p, s->version, s->hdr_len, s->nh_pos, s->frag_nh, s->end);
    *out = p;
    *outlen = s->hdr_len + s->end;
    release(r, i);
    r->stats.reassembled++;
    return 1;
}
