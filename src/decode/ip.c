/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip.c - the IP layer: IPv4 (RFC 791) or IPv6 with its extension header chain
 * (RFC 8200 4), then the fixed TCP header (RFC 9293 3.1), whose options go to
 * tcpopt.c; and the checksum check of a decoded segment.
 *
 * Lengths come from the innermost enclosing length field (IP, UDP, GTP-U),
 * never from the captured size, so Ethernet padding never becomes payload
 * and snapped payload is still counted.  An IP protocol other than TCP goes
 * to tunnel.c, which may bring the cursor back here for the inner packet.
 *
 * What it does not do: reassemble fragments (ipreasm.c, driven by the engine,
 * which then calls tcpst_decode_ip), verify checksums other than on request
 * (tcpst_decode_checksum), or keep any state between frames.
 */
#include "cursor.h"

#define IPV4_MIN_HLEN 20
#define IPV4_MF       0x2000u
#define IPV4_DF       0x4000u
#define IPV4_OFFMASK  0x1FFFu
#define TCP_MIN_HLEN  20

/* IPv6 next-header values walked as extension headers (RFC 8200 4, RFC 7045). */
#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_AH       51 /* RFC 4302 2.2: length in 4-byte units minus 2 */
#define NH_DSTOPTS  60
#define NH_MOBILITY 135 /* RFC 6275 */
#define NH_HIP      139 /* RFC 7401 */
#define NH_SHIM6    140 /* RFC 5533 */
#define V6FRAG_LEN  8

/* ---- IP layer -------------------------------------------------------------- */

/* What an IP header leads to. */
typedef struct ipinfo {
    size_t off;    /* upper-layer header */
    size_t end;    /* end of the IP packet per its length fields */
    uint8_t proto; /* upper-layer protocol */
    bool frag;     /* a fragment that is not the whole datagram */
} ipinfo;

static tcpst_decode_status ipv4(dctx *c, size_t off, ipinfo *ip)
{
    const frame *f = &c->f;
    tcpst_segment *seg = c->seg;
    size_t ihl = (size_t)(get8(f, off) & 0x0Fu) * 4;
    size_t wire = c->lim > off ? c->lim - off : 0;
    size_t tot;
    uint16_t frag;

    if (ihl < IPV4_MIN_HLEN) {
        return TCPST_DEC_BAD_IP_HLEN;
    }
    if (!have(f, off, IPV4_MIN_HLEN)) {
        return TCPST_DEC_TRUNC_IP;
    }
    const uint8_t *h = f->data + off; /* IPV4_MIN_HLEN bytes captured */
    seg->ip_version = 4;
    seg->ttl = h[8];
    seg->ip_id = be16(h + 4);
    seg->src.family = 4;
    seg->dst.family = 4;
    memcpy(seg->src.bytes, h + 12, 4);
    memcpy(seg->dst.bytes, h + 16, 4);

    /* RFC 791 3.1: total length counts header and data.  0 is what captures
     * of TSO/GSO super-packets show (the NIC fills it in later); when the
     * whole frame was captured its length is the only truthful one, as
     * Wireshark and Zeek also assume.  Inside a tunnel the outer lengths
     * were filled in, so an inner 0 is simply wrong. */
    tot = be16(h + 2);
    if (tot == 0 && !c->bounded && f->caplen == f->wirelen && wire >= IPV4_MIN_HLEN &&
        wire <= 0xFFFFu) {
        tot = wire;
        seg->ipflags |= TCPST_IP_LEN_FROM_FRAME;
    }
    if (tot < IPV4_MIN_HLEN) {
        return TCPST_DEC_BAD_IP_LEN;
    }
    if (ihl > tot) {
        return TCPST_DEC_BAD_IP_HLEN;
    }
    if (tot > wire) {
        return TCPST_DEC_BAD_IP_LEN;
    }
    if (!have(f, off, ihl)) {
        return TCPST_DEC_TRUNC_IP; /* options cut by the snaplen */
    }
    seg->ip_len = (uint32_t)tot;
    frag = be16(h + 6);
    if (ihl > IPV4_MIN_HLEN) {
        seg->ipflags |= TCPST_IP_HAS_OPTIONS;
    }
    if (frag & IPV4_DF) {
        seg->ipflags |= TCPST_IP_DF;
    }
    ip->proto = h[9];
    ip->frag = (frag & (IPV4_MF | IPV4_OFFMASK)) != 0;
    ip->off = off + ihl;
    ip->end = off + tot;
    return TCPST_DEC_OK;
}

/* Length of the extension header `nh` whose second byte is `b1`; 0 if not one. */
static size_t v6ext_len(uint8_t nh, uint8_t b1)
{
    switch (nh) {
        case NH_HOPOPTS:
        case NH_ROUTING:
        case NH_DSTOPTS:
        case NH_MOBILITY:
        case NH_HIP:
        case NH_SHIM6:
            return ((size_t)b1 + 1) * 8; /* RFC 8200 4.3: 8-octet units, first excluded */
        case NH_AH:
            return ((size_t)b1 + 2) * 4;
        case NH_FRAGMENT:
            return V6FRAG_LEN;
        default:
            return 0;
    }
}

/* Upper-layer protocols worth reassembling a fragmented datagram for. */
static bool frag_wanted(const dctx *c, uint8_t proto)
{
    if (proto == IPPROTO_TCP_) {
        return true;
    }
    if (!c->cfg->tunnels) {
        return false;
    }
    return proto == IPPROTO_IPIP_ || proto == IPPROTO_IPV6_ || proto == IPPROTO_GRE_ ||
           proto == IPPROTO_UDP_;
}

/*
 * The extension header chain (RFC 8200 4) from `cur` to `end`, the payload
 * length's end, starting with next header `nh`.  59 (no next header), ESP
 * (its payload is opaque) and every upper layer end the walk; the caller
 * decides what they are.
 */
static tcpst_decode_status v6_exts(dctx *c, uint8_t nh, size_t cur, size_t end, ipinfo *ip)
{
    const frame *f = &c->f;
    unsigned nexts = 0;

    ip->frag = false;
    while (v6ext_len(nh, 0) != 0) {
        size_t hlen;
        if (++nexts > TCPST_MAX_IPV6_EXT) {
            return TCPST_DEC_IPV6_EXT_LIMIT;
        }
        c->seg->ipflags |= TCPST_IP_HAS_EXTHDR;
        if (!have(f, cur, 2) || end - cur < 2) {
            return TCPST_DEC_IPV6_EXT_TRUNC;
        }
        hlen = v6ext_len(nh, get8(f, cur + 1));
        if (hlen > end - cur || !have(f, cur, hlen)) {
            return TCPST_DEC_IPV6_EXT_TRUNC;
        }
        if (nh == NH_FRAGMENT) {
            /* RFC 8200 4.5: offset in bits 15..3, M in bit 0.  Offset 0 with
             * M clear is an atomic fragment (RFC 6946) and is a whole packet. */
            uint16_t fo = get16(f, cur + 2);
            uint8_t inner = get8(f, cur);
            if (fo & 0xFFF9u) {
                ip->frag = true;
                /* An extension header may still hide the upper layer. */
                ip->proto = v6ext_len(inner, 0) != 0 ? IPPROTO_TCP_ : inner;
                ip->off = cur;
                ip->end = end;
                return TCPST_DEC_OK;
            }
        }
        nh = get8(f, cur);
        cur += hlen;
    }
    ip->proto = nh;
    ip->off = cur;
    ip->end = end;
    return TCPST_DEC_OK;
}

static tcpst_decode_status ipv6(dctx *c, size_t off, ipinfo *ip)
{
    const frame *f = &c->f;
    tcpst_segment *seg = c->seg;
    size_t wire = c->lim > off ? c->lim - off : 0;
    size_t plen;
    uint8_t nh;

    if (!have(f, off, IPV6_HLEN)) {
        return TCPST_DEC_TRUNC_IP;
    }
    seg->ip_version = 6;
    seg->ttl = get8(f, off + 7);
    seg->ip_id = 0;
    seg->src.family = 6;
    seg->dst.family = 6;
    get_bytes(f, off + 8, seg->src.bytes, 16);
    get_bytes(f, off + 24, seg->dst.bytes, 16);

    plen = get16(f, off + 4);
    nh = get8(f, off + 6);
    /* Payload length 0 is a jumbogram (RFC 2675: hop-by-hop first) or a
     * TSO/GSO super-packet when it carries TCP; we decode neither.  With any
     * other next header it is simply an empty packet (RFC 8200 3). */
    if ((plen == 0 && (nh == IPPROTO_TCP_ || nh == NH_HOPOPTS)) || IPV6_HLEN + plen > wire) {
        return TCPST_DEC_BAD_IP_LEN;
    }
    seg->ip_len = (uint32_t)(IPV6_HLEN + plen);
    return v6_exts(c, nh, off + IPV6_HLEN, off + IPV6_HLEN + plen, ip);
}

/* ---- TCP ----------------------------------------------------------------- */

static tcpst_decode_status tcp(const dctx *c, size_t off, size_t len)
{
    const frame *f = &c->f;
    tcpst_segment *seg = c->seg;
    size_t hlen, captured, pay;

    if (off > 0xFFFFu) {
        return TCPST_DEC_BAD_LINK; /* beyond what l4_off (and any real link) can hold */
    }
    seg->l4_off = (uint16_t)off;
    if (!have(f, off, 13)) {
        /* Not even the data offset byte: bad if the IP length cannot hold a
         * minimal header, otherwise cut by the snaplen. */
        return len < TCP_MIN_HLEN ? TCPST_DEC_BAD_TCP_HLEN : TCPST_DEC_TRUNC_TCP;
    }
    hlen = (size_t)(get8(f, off + 12) >> 4) * 4;
    if (hlen < TCP_MIN_HLEN || hlen > len) {
        return TCPST_DEC_BAD_TCP_HLEN;
    }
    if (!have(f, off, hlen)) {
        /* Options carry window scale and SACK state: a cut header is unusable. */
        return TCPST_DEC_TRUNC_TCP;
    }
    const uint8_t *h = f->data + off; /* hlen >= TCP_MIN_HLEN bytes captured */
    seg->sport = be16(h);
    seg->dport = be16(h + 2);
    seg->seq = be32(h + 4);
    seg->ack = be32(h + 8);
    /* Byte 13 holds CWR..FIN; the low bit of byte 12 is AE (was NS, RFC 3540). */
    seg->flags = (uint16_t)(h[13] | (h[12] & 0x01u) << 8);
    seg->window = be16(h + 14);
    seg->checksum = be16(h + 16);
    seg->urgptr = be16(h + 18);
    seg->tcp_hlen = (uint8_t)hlen;
    tcpst_tcpopt_parse(f->data + off + TCP_MIN_HLEN, hlen - TCP_MIN_HLEN, &seg->opts);

    pay = len - hlen;
    captured = f->caplen - off - hlen;
    seg->payload_len = (uint32_t)pay;
    if (captured < pay) {
        seg->payload_caplen = (uint32_t)captured;
        seg->ipflags |= TCPST_IP_PAYLOAD_TRUNC;
    } else {
        seg->payload_caplen = (uint32_t)pay; /* trailing bytes are link padding */
    }
    return TCPST_DEC_OK;
}

/* One IP header and what follows it: TCP, a tunnel, or the end. */
tcpst_decode_status tcpst__ip(dctx *c, cursor *cur)
{
    tcpst_segment *seg = c->seg;
    size_t off = cur->off;
    tcpst_decode_status st;
    ipinfo ip;
    int version;

    if (!have(&c->f, off, 1)) {
        return c->bounded && off >= c->lim ? TCPST_DEC_BAD_IP_LEN : TCPST_DEC_TRUNC_IP;
    }
    if (off > 0xFFFFu) {
        return TCPST_DEC_BAD_LINK; /* beyond what l3_off (and any real link) can hold */
    }
    version = get8(&c->f, off) >> 4;
    if (cur->version != 0 && version != cur->version) {
        return TCPST_DEC_BAD_IP_VERSION;
    }
    seg->ipflags = 0; /* the innermost IP header's facts are the ones that count */
    seg->l3_off = (uint16_t)off;
    if (version == 4) {
        st = ipv4(c, off, &ip);
    } else if (version == 6) {
        st = ipv6(c, off, &ip);
    } else {
        return TCPST_DEC_BAD_IP_VERSION;
    }
    if (st != TCPST_DEC_OK) {
        return st;
    }
    if (ip.frag) {
        return frag_wanted(c, ip.proto) ? TCPST_DEC_IP_FRAGMENT : TCPST_DEC_NOT_TCP;
    }
    c->lim = ip.end;
    c->bounded = true;
    if (ip.proto == IPPROTO_TCP_) {
        cur->at = AT_DONE;
        return tcp(c, ip.off, ip.end - ip.off);
    }
    if (!c->cfg->tunnels) {
        return TCPST_DEC_NOT_TCP;
    }
    return tcpst__ip_tunnel(c, cur, ip.proto, ip.off);
}

/* ---- checksums ------------------------------------------------------------- */

/* RFC 1071 one's-complement sum, continued from `sum`. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

tcpst_csum tcpst_decode_checksum(const uint8_t *data, size_t caplen, const tcpst_segment *seg)
{
    size_t l3 = seg->l3_off, l4 = seg->l4_off;
    size_t tcplen = (size_t)seg->tcp_hlen + seg->payload_len;
    if (l4 + tcplen > caplen || l4 < l3) {
        return TCPST_CSUM_UNVERIFIABLE;
    }
    uint8_t pseudo[40];
    size_t plen;
    if (seg->ip_version == 4) {
        if (csum_fold(csum_add(0, data + l3, l4 - l3)) != 0) {
            return TCPST_CSUM_BAD_IP;
        }
        memcpy(pseudo, seg->src.bytes, 4);
        memcpy(pseudo + 4, seg->dst.bytes, 4);
        pseudo[8] = 0;
        pseudo[9] = 6;
        pseudo[10] = (uint8_t)(tcplen >> 8);
        pseudo[11] = (uint8_t)tcplen;
        plen = 12;
    } else {
        memcpy(pseudo, seg->src.bytes, 16);
        memcpy(pseudo + 16, seg->dst.bytes, 16);
        pseudo[32] = (uint8_t)(tcplen >> 24);
        pseudo[33] = (uint8_t)(tcplen >> 16);
        pseudo[34] = (uint8_t)(tcplen >> 8);
        pseudo[35] = (uint8_t)tcplen;
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = 6;
        plen = 40;
    }
    uint32_t sum = csum_add(csum_add(0, pseudo, plen), data + l4, tcplen);
    return csum_fold(sum) == 0 ? TCPST_CSUM_OK : TCPST_CSUM_BAD_TCP;
}
