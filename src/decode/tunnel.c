/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tunnel.c - the tunnels an IP packet can carry: IP-in-IP, GRE (with ERSPAN
 * and PPTP), and the UDP tunnels (VXLAN, Geneve, GTP-U, Teredo, AYIYA,
 * GRE-in-UDP), chosen by the configured ports.
 *
 * Each parser checks its header against the enclosing length, records its
 * layer (tcpst__push) and leaves the cursor at the inner Ethernet frame,
 * ethertype or IP packet, which link.c and ip.c then take.  A tunnel that
 * limits its payload (UDP, GTP-U, PPTP) narrows c->lim for what follows.
 *
 * What it does not do: follow tunnels when cfg->tunnels is off (ip.c asks
 * first), decode 802.11 (Aruba GRE) or other non-IP payloads, or keep any
 * state between frames.
 */
#include "cursor.h"

#define ETHERTYPE_TEB     0x6558u /* transparent Ethernet bridging (GRE, Geneve) */
#define ETHERTYPE_ERSPAN2 0x88BEu /* ERSPAN type II, or type I without sequence number */
#define ETHERTYPE_ERSPAN3 0x22EBu
#define ETHERTYPE_PPP     0x880Bu /* PPTP enhanced GRE payload (RFC 2637 4.1) */
#define UDP_HLEN          8

/* GRE flag bits of the first 16-bit word (RFC 2784 2, RFC 2890 2, RFC 2637 4.1). */
#define GRE_C       0x8000u /* checksum + reserved1 present */
#define GRE_R       0x4000u /* RFC 1701 routing: deprecated, not decoded */
#define GRE_K       0x2000u /* key present */
#define GRE_S       0x1000u /* sequence number present */
#define GRE_SSR     0x0800u /* RFC 1701 strict source route */
#define GRE_A       0x0080u /* acknowledgment number present (version 1 only) */
#define GRE_RSVD    0x0078u
#define GRE_VERSION 0x0007u
#define GRE_HLEN    4

#define VXLAN_HLEN    8 /* RFC 7348 5 */
#define VXLAN_I       0x08u
#define GENEVE_HLEN   8 /* RFC 8926 3.4 */
#define GTPU_HLEN     8 /* 3GPP TS 29.281 5.1 */
#define GTPU_OPT_LEN  4
#define GTPU_GPDU     255
#define AYIYA_HLEN    8
#define ERSPAN2_HLEN  8
#define ERSPAN3_HLEN  12
#define ERSPAN3_PLAT  8  /* optional platform-specific subheader (O bit) */
#define TEREDO_ORIGIN 8  /* RFC 4380 5.1.1 origin indication */
#define TEREDO_AUTH   13 /* RFC 4380 5.1.1 authentication, without id and value */

/* ---- tunnels over IP ------------------------------------------------------------ */

/* ERSPAN type II (8 bytes, version 1) or III (12 bytes, version 2, optional
 * 8-byte platform subheader when O is set); the session id is 10 bits. */
static tcpst_decode_status erspan(dctx *c, cursor *cur, size_t off, bool type3)
{
    size_t hlen = type3 ? ERSPAN3_HLEN : ERSPAN2_HLEN;
    tcpst_decode_status st = span_encap(c, off, hlen);
    unsigned ft = 0;

    if (st != TCPST_DEC_OK) {
        return st;
    }
    if ((get8(&c->f, off) >> 4) != (type3 ? 2u : 1u)) {
        return TCPST_DEC_BAD_ENCAP;
    }
    if (type3) {
        ft = (get8(&c->f, off + 10) >> 2) & 0x1Fu; /* frame type: 0 Ethernet, 2 IP */
        if (get8(&c->f, off + 11) & 0x01u) {
            hlen += ERSPAN3_PLAT;
            if ((st = span_encap(c, off, hlen)) != TCPST_DEC_OK) {
                return st;
            }
        }
    }
    st = tcpst__push(c, TCPST_ENCAP_ERSPAN, true, get16(&c->f, off + 2) & 0x03FFu, true);
    cur->off = off + hlen;
    if (ft == 0) {
        cur->at = AT_ETHER;
    } else if (ft == 2) {
        cur->at = AT_IP;
        cur->version = 0;
    } else {
        return TCPST_DEC_NOT_IP;
    }
    return st;
}

/*
 * PPTP's enhanced GRE after its header (RFC 2637 4.1): the key's high half is
 * the payload length, its low half the call id (not keyed: each direction of
 * a call has its own); only packets with a sequence number carry payload.
 */
static tcpst_decode_status pptp(dctx *c, cursor *cur, size_t off, unsigned fv, uint32_t key)
{
    size_t plen = key >> 16;
    tcpst_decode_status st = tcpst__push(c, TCPST_ENCAP_GRE, true, key & 0xFFFFu, false);

    if (st != TCPST_DEC_OK) {
        return st;
    }
    if (!(fv & GRE_S) || plen == 0) {
        return TCPST_DEC_NOT_TCP; /* an acknowledgment only */
    }
    if (plen > c->lim - off) {
        return TCPST_DEC_BAD_ENCAP;
    }
    c->lim = off + plen;
    return tcpst__ppp(c, cur, off);
}

/*
 * GRE (RFC 2784 2, RFC 2890 2) and PPTP's enhanced GRE (RFC 2637 4.1).
 * Version 0: optional checksum, key, sequence; the protocol type is an
 * ethertype, plus 0x6558 (Ethernet) and ERSPAN.  Version 1: key always (its
 * high half is the payload length, its low half the call id), PPP payload.
 * Routing (RFC 1701) and the reserved flags are rejected, as Zeek does.
 */
static tcpst_decode_status gre(dctx *c, cursor *cur, size_t off)
{
    tcpst_decode_status st = span_encap(c, off, GRE_HLEN);
    unsigned fv, ver;
    uint16_t ptype;
    size_t hlen = GRE_HLEN, keyoff;
    uint32_t key;

    if (st != TCPST_DEC_OK) {
        return st;
    }
    fv = get16(&c->f, off);
    ptype = get16(&c->f, off + 2);
    ver = fv & GRE_VERSION;
    if (ver > 1 || (fv & (GRE_R | GRE_SSR | GRE_RSVD)) || (ver == 0 && (fv & GRE_A)) ||
        (ver == 1 && (!(fv & GRE_K) || (fv & GRE_C) || ptype != ETHERTYPE_PPP))) {
        return TCPST_DEC_BAD_ENCAP;
    }
    hlen += (fv & GRE_C) ? 4 : 0;
    keyoff = off + hlen;
    hlen += (fv & GRE_K) ? 4 : 0;
    hlen += (fv & GRE_S) ? 4 : 0;
    hlen += (fv & GRE_A) ? 4 : 0;
    if ((st = span_encap(c, off, hlen)) != TCPST_DEC_OK) {
        return st;
    }
    key = get32(&c->f, keyoff);
    off += hlen;
    if (ver == 1) {
        return pptp(c, cur, off, fv, key);
    }
    if ((st = tcpst__push(c, TCPST_ENCAP_GRE, (fv & GRE_K) != 0, key, true)) != TCPST_DEC_OK) {
        return st;
    }
    cur->off = off;
    switch (ptype) {
        case ETHERTYPE_TEB:
            cur->at = AT_ETHER;
            return TCPST_DEC_OK;
        case ETHERTYPE_ERSPAN2:
            if (fv & GRE_S) {
                return erspan(c, cur, off, false);
            }
            /* Type I: no ERSPAN header and no sequence number, Ethernet at once. */
            cur->at = AT_ETHER;
            return tcpst__push(c, TCPST_ENCAP_ERSPAN, false, 0, false);
        case ETHERTYPE_ERSPAN3:
            return erspan(c, cur, off, true);
        default:
            cur->at = AT_ETYPE; /* IPv4, IPv6, MPLS (RFC 4023), ... */
            cur->etype = ptype;
            return TCPST_DEC_OK;
    }
}

/* VXLAN (RFC 7348 5): flags with I (the VNI is valid), 24-bit VNI, Ethernet. */
static tcpst_decode_status vxlan(dctx *c, cursor *cur, size_t off)
{
    tcpst_decode_status st = span_encap(c, off, VXLAN_HLEN);

    if (st != TCPST_DEC_OK) {
        return st;
    }
    /* Reserved bits are ignored on receipt (5), so only I is looked at. */
    st = tcpst__push(c, TCPST_ENCAP_VXLAN, (get8(&c->f, off) & VXLAN_I) != 0,
                     get32(&c->f, off + 4) >> 8, true);
    cur->at = AT_ETHER;
    cur->off = off + VXLAN_HLEN;
    return st;
}

/* Geneve (RFC 8926 3.4): version 0, options length in 4-byte words, protocol type, VNI. */
static tcpst_decode_status geneve(dctx *c, cursor *cur, size_t off)
{
    tcpst_decode_status st = span_encap(c, off, GENEVE_HLEN);
    size_t hlen;

    if (st != TCPST_DEC_OK) {
        return st;
    }
    if (get8(&c->f, off) >> 6 != 0) {
        return TCPST_DEC_BAD_ENCAP; /* 3.4: unknown versions MUST be dropped */
    }
    hlen = GENEVE_HLEN + (size_t)(get8(&c->f, off) & 0x3Fu) * 4;
    if ((st = span_encap(c, off, hlen)) != TCPST_DEC_OK) {
        return st;
    }
    st = tcpst__push(c, TCPST_ENCAP_GENEVE, true, get32(&c->f, off + 4) >> 8, true);
    cur->off = off + hlen;
    cur->etype = get16(&c->f, off + 2);
    cur->at = cur->etype == ETHERTYPE_TEB ? AT_ETHER : AT_ETYPE;
    return st;
}

/* GTP-U's optional fields (when E, S or PN is set, first byte b0) and extension headers
 * from *next, which ends after them. */
static tcpst_decode_status gtpu_exts(const dctx *c, unsigned b0, size_t *next)
{
    tcpst_decode_status st;
    uint8_t ext = 0;

    if (b0 & 0x07u) {
        if ((st = span_encap(c, *next, GTPU_OPT_LEN)) != TCPST_DEC_OK) {
            return st;
        }
        ext = (b0 & 0x04u) ? get8(&c->f, *next + 3) : 0;
        *next += GTPU_OPT_LEN;
    }
    while (ext != 0) {
        size_t elen;
        if ((st = span_encap(c, *next, 1)) != TCPST_DEC_OK) {
            return st;
        }
        elen = (size_t)get8(&c->f, *next) * 4;
        if (elen == 0) {
            return TCPST_DEC_BAD_ENCAP;
        }
        if ((st = span_encap(c, *next, elen)) != TCPST_DEC_OK) {
            return st;
        }
        ext = get8(&c->f, *next + elen - 1);
        *next += elen;
    }
    return TCPST_DEC_OK;
}

/*
 * GTP-U (3GPP TS 29.281 5.1): version 1, PT 1; only the G-PDU (255) carries
 * user data.  The length counts the bytes after the mandatory 8.  With E, S
 * or PN set the sequence number, N-PDU number and next extension type follow;
 * each extension header (5.2) gives its length in 4-byte units (0 is
 * invalid) and ends with the next type.  The payload is IP (or, in 5G,
 * Ethernet/unstructured PDUs, which are not decoded).
 */
static tcpst_decode_status gtpu(dctx *c, cursor *cur, size_t off)
{
    tcpst_decode_status st = span_encap(c, off, GTPU_HLEN);
    unsigned b0;
    size_t glen, next;

    if (st != TCPST_DEC_OK) {
        return st;
    }
    b0 = get8(&c->f, off);
    if ((b0 >> 5) != 1 || !(b0 & 0x10u)) {
        return TCPST_DEC_BAD_ENCAP; /* GTP' or another version on the GTP-U port */
    }
    glen = get16(&c->f, off + 2);
    if (glen > c->lim - off - GTPU_HLEN) {
        return TCPST_DEC_BAD_ENCAP;
    }
    if (get8(&c->f, off + 1) != GTPU_GPDU) {
        return TCPST_DEC_NOT_TCP; /* echo, error indication, end marker */
    }
    c->lim = off + GTPU_HLEN + glen;
    next = off + GTPU_HLEN;
    if ((st = gtpu_exts(c, b0, &next)) != TCPST_DEC_OK) {
        return st;
    }
    /* The TEID names the receiving side's tunnel end: the two directions of
     * one connection carry different TEIDs, so it cannot be part of the key. */
    if ((st = tcpst__push(c, TCPST_ENCAP_GTPU, true, get32(&c->f, off + 4), false)) !=
        TCPST_DEC_OK) {
        return st;
    }
    if (next >= c->lim) {
        return TCPST_DEC_NOT_TCP; /* no T-PDU */
    }
    if (have(&c->f, next, 1)) {
        unsigned v = get8(&c->f, next) >> 4;
        if (v != 4 && v != 6) {
            return TCPST_DEC_NOT_IP;
        }
    }
    return at_ip(cur, next, 0);
}

/*
 * Teredo (RFC 4380 5.1.1): optional authentication (00 01, id and value
 * lengths, id, value, 8-byte nonce, confirmation), optional origin indication
 * (00 00, port, address), then IPv6.  A port match alone is weak evidence,
 * so anything that does not parse as this is a non-Teredo UDP packet
 * (NOT_TCP); only bytes missing from the capture make it truncated.
 */
static tcpst_decode_status teredo(dctx *c, cursor *cur, size_t off)
{
    tcpst_decode_status st;
    uint16_t tag;

    if (c->lim - off < 2) {
        return TCPST_DEC_NOT_TCP;
    }
    if (!have(&c->f, off, 2)) {
        return TCPST_DEC_TRUNC_ENCAP;
    }
    tag = get16(&c->f, off);
    if (tag == 0x0001) {
        size_t alen;
        if ((st = span(c, off, 4, TCPST_DEC_NOT_TCP, TCPST_DEC_TRUNC_ENCAP)) != TCPST_DEC_OK) {
            return st;
        }
        alen = TEREDO_AUTH + (size_t)get8(&c->f, off + 2) + get8(&c->f, off + 3);
        if ((st = span(c, off, alen, TCPST_DEC_NOT_TCP, TCPST_DEC_TRUNC_ENCAP)) != TCPST_DEC_OK) {
            return st;
        }
        off += alen;
        if (c->lim - off < 2) {
            return TCPST_DEC_NOT_TCP;
        }
        if (!have(&c->f, off, 2)) {
            return TCPST_DEC_TRUNC_ENCAP;
        }
        tag = get16(&c->f, off);
    }
    if (tag == 0x0000) {
        if ((st = span(c, off, TEREDO_ORIGIN, TCPST_DEC_NOT_TCP, TCPST_DEC_TRUNC_ENCAP)) !=
            TCPST_DEC_OK) {
            return st;
        }
        off += TEREDO_ORIGIN;
    }
    if (c->lim - off < IPV6_HLEN) {
        return TCPST_DEC_NOT_TCP;
    }
    if (!have(&c->f, off, 1)) {
        return TCPST_DEC_TRUNC_ENCAP;
    }
    if (get8(&c->f, off) >> 4 != 6) {
        return TCPST_DEC_NOT_TCP;
    }
    if ((st = tcpst__push(c, TCPST_ENCAP_TEREDO, false, 0, false)) != TCPST_DEC_OK) {
        return st;
    }
    return at_ip(cur, off, 6);
}

/*
 * AYIYA (draft-massar-v6ops-ayiya 4): identity length 2^n and signature
 * length 4n from the first two nibbles, opcode, next header (IPPROTO), epoch
 * time, identity, signature, payload.  Opcodes 1 (forward) and 3 (echo
 * request and forward) carry a packet; the others are control traffic.
 */
static tcpst_decode_status ayiya(dctx *c, cursor *cur, size_t off)
{
    tcpst_decode_status st = span_encap(c, off, AYIYA_HLEN);
    size_t hlen;
    unsigned op;
    uint8_t nh;

    if (st != TCPST_DEC_OK) {
        return st;
    }
    op = get8(&c->f, off + 2) & 0x0Fu;
    if (op != 1 && op != 3) {
        return TCPST_DEC_NOT_TCP;
    }
    hlen = AYIYA_HLEN + ((size_t)1 << (get8(&c->f, off) >> 4)) +
           (size_t)(get8(&c->f, off + 1) >> 4) * 4;
    if ((st = span_encap(c, off, hlen)) != TCPST_DEC_OK) {
        return st;
    }
    nh = get8(&c->f, off + 3);
    if (nh != IPPROTO_IPIP_ && nh != IPPROTO_IPV6_) {
        return TCPST_DEC_NOT_IP;
    }
    if ((st = tcpst__push(c, TCPST_ENCAP_AYIYA, false, 0, false)) != TCPST_DEC_OK) {
        return st;
    }
    return at_ip(cur, off + hlen, nh == IPPROTO_IPIP_ ? 4 : 6);
}

/* An address in the Teredo prefix 2001:0::/32 (RFC 4380 2.13). */
static bool teredo_addr(const dctx *c, size_t off)
{
    return get32(&c->f, off) == 0x20010000u;
}

/*
 * Teredo between a client and a relay runs on any ports (RFC 4380 5.2.4,
 * 5.4): it is recognised as Zeek's DPD recognises it, by an IPv6 header, after
 * an optional origin indication, that has a Teredo source or destination and
 * fits the UDP payload.  Random UDP payloads almost never pass all three.
 */
static bool teredo_guess(const dctx *c, size_t off)
{
    if (c->lim - off >= TEREDO_ORIGIN && have(&c->f, off, 2) && get16(&c->f, off) == 0) {
        off += TEREDO_ORIGIN;
    }
    if (c->lim < off || c->lim - off < IPV6_HLEN || !have(&c->f, off, IPV6_HLEN)) {
        return false;
    }
    if (get8(&c->f, off) >> 4 != 6 || IPV6_HLEN + (size_t)get16(&c->f, off + 4) > c->lim - off) {
        return false;
    }
    return teredo_addr(c, off + 8) || teredo_addr(c, off + 24);
}

/*
 * The UDP tunnels, in the order their ports are tried (a port configured for
 * two of them goes to the first): the config field with the tunnel's ports,
 * the parser for the UDP payload, and the layer that parser records.
 * Adding a UDP tunnel is its parser, a `*_ports` field in
 * tcpst_decode_config (with its default in walk.c) and one row here.
 */
const tcpst__udp_tunnel tcpst__udp_tunnels[] = {
    {offsetof(tcpst_decode_config, vxlan_ports), vxlan, TCPST_ENCAP_VXLAN},
    {offsetof(tcpst_decode_config, geneve_ports), geneve, TCPST_ENCAP_GENEVE},
    {offsetof(tcpst_decode_config, gtpu_ports), gtpu, TCPST_ENCAP_GTPU},
    {offsetof(tcpst_decode_config, teredo_ports), teredo, TCPST_ENCAP_TEREDO},
    {offsetof(tcpst_decode_config, ayiya_ports), ayiya, TCPST_ENCAP_AYIYA},
    {offsetof(tcpst_decode_config, gre_udp_ports), gre, TCPST_ENCAP_GRE}, /* RFC 8086 */
};
const size_t tcpst__nudp_tunnels = sizeof tcpst__udp_tunnels / sizeof tcpst__udp_tunnels[0];

static bool port_in(const uint16_t *ports, uint16_t p)
{
    for (size_t i = 0; i < TCPST_DECODE_PORTS_MAX; i++) {
        if (ports[i] != 0 && ports[i] == p) {
            return true;
        }
    }
    return false;
}

/* The parser of the tunnel a UDP port is configured for, or NULL. */
static tcpst__udp_fn udp_kind(const tcpst_decode_config *cfg, uint16_t port)
{
    for (size_t i = 0; i < tcpst__nudp_tunnels; i++) {
        const tcpst__udp_tunnel *t = &tcpst__udp_tunnels[i];
        if (port_in(tcpst__udp_ports(cfg, t), port)) {
            return t->parse;
        }
    }
    return NULL;
}

/*
 * UDP (RFC 768) is followed only when a tunnel port matches, destination
 * first (VXLAN and GRE-in-UDP vary the source port for entropy), or when
 * teredo_detect finds Teredo by its payload.  Ports not captured cannot be
 * told from any other UDP: NOT_TCP, as every UDP was.
 */
static tcpst_decode_status udp(dctx *c, cursor *cur, size_t off)
{
    tcpst__udp_fn kind;
    tcpst_decode_status st;
    size_t ulen;
    bool guessed;

    if (c->lim - off < 4 || !have(&c->f, off, 4)) {
        return TCPST_DEC_NOT_TCP;
    }
    kind = udp_kind(c->cfg, get16(&c->f, off + 2));
    if (kind == NULL) {
        kind = udp_kind(c->cfg, get16(&c->f, off));
    }
    guessed = kind == NULL;
    if (guessed && !c->cfg->teredo_detect) {
        return TCPST_DEC_NOT_TCP;
    }
    if ((st = span_encap(c, off, UDP_HLEN)) != TCPST_DEC_OK) {
        return guessed ? TCPST_DEC_NOT_TCP : st;
    }
    ulen = get16(&c->f, off + 4);
    if (ulen == 0) {
        ulen = c->lim - off; /* RFC 2675 4: IPv6 jumbograms; elsewhere lenient */
    }
    if (ulen < UDP_HLEN || ulen > c->lim - off) {
        return guessed ? TCPST_DEC_NOT_TCP : TCPST_DEC_BAD_ENCAP;
    }
    c->lim = off + ulen;
    if (guessed) {
        if (!teredo_guess(c, off + UDP_HLEN)) {
            return TCPST_DEC_NOT_TCP;
        }
        kind = teredo;
    }
    return kind(c, cur, off + UDP_HLEN);
}

/* An IP protocol that carries a tunnel (the caller has checked cfg->tunnels). */
tcpst_decode_status tcpst__ip_tunnel(dctx *c, cursor *cur, uint8_t proto, size_t off)
{
    tcpst_decode_status st;

    switch (proto) {
        case IPPROTO_IPIP_:
        case IPPROTO_IPV6_:
            /* RFC 2003 / RFC 4213 / RFC 2473: the payload is the inner packet. */
            if ((st = tcpst__push(c, TCPST_ENCAP_IP, false, 0, false)) != TCPST_DEC_OK) {
                return st;
            }
            return at_ip(cur, off, proto == IPPROTO_IPIP_ ? 4 : 6);
        case IPPROTO_GRE_:
            return gre(c, cur, off);
        case IPPROTO_UDP_:
            return udp(c, cur, off);
        default:
            return TCPST_DEC_NOT_TCP;
    }
}
