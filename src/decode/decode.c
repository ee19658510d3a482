/*
 * decode.c - one captured frame to a flat tcpst_segment, through any
 * encapsulations between the link layer and the TCP segment.
 *
 * Layers: the capture's link header (Ethernet, Linux cooked v1/v2, raw IP,
 * BSD NULL, OpenBSD LOOP, FDDI with LLC/SNAP); then, as often as they nest,
 * the link-level encapsulations (802.1Q/802.1ad tags, 802.3 LLC/SNAP, MPLS
 * label stacks with or without a pseudowire control word, PPPoE sessions,
 * 802.1ah PBB, Cisco FabricPath, VN-Tag) and the tunnels (IP-in-IP, GRE with
 * ERSPAN and PPTP, GRE-in-UDP, VXLAN, Geneve, GTP-U, Teredo, AYIYA); IPv4
 * (RFC 791) or IPv6 with its extension header chain (RFC 8200 4); finally the
 * fixed TCP header (RFC 9293 3.1), whose options go to tcpopt.c.
 *
 * The walk is a loop over a cursor (where we are, at which offset) rather
 * than recursion: each step either consumes a header or records an encap
 * layer, and both are bounded, so a hostile frame cannot make it spin.
 * Every byte is read through the bounds-checked getters below against the
 * captured length; packet bytes are never cast to structs.  "Truncated" (a
 * header cut by the snaplen) and "bad" (a header that contradicts the
 * length fields or its own protocol) are separate outcomes, as in tcpdump.
 * Lengths come from the innermost enclosing length field (IP, UDP, GTP-U),
 * never from the captured size, so Ethernet padding never becomes payload
 * and snapped payload is still counted.
 *
 * What it does not do: reassemble fragments (ipreasm.c, driven by the
 * engine, which then calls tcpst_decode_ip), verify checksums other than on
 * request (tcpst_decode_checksum), decode 802.11 (Aruba GRE) or other
 * non-IP payloads, or keep any state between frames.
 */
#include "tcpstate/decode.h"
#include "tcpstate/hash.h"

#include <stdbool.h>
#include <string.h>

#define ETH_HLEN             14
#define ETH_MIN_TYPE         0x0600u /* below: an 802.3 length field (IEEE 802.3 3.2.6) */
#define ETH_MAX_LEN          1500u   /* largest 802.3 length; 1501..1535 are undefined */
#define ETHERTYPE_IPV4       0x0800u
#define ETHERTYPE_IPV6       0x86DDu
#define ETHERTYPE_8021Q      0x8100u /* C-tag */
#define ETHERTYPE_8021AD     0x88A8u /* S-tag */
#define ETHERTYPE_QINQ_OLD   0x9100u
#define ETHERTYPE_MPLS_UC    0x8847u /* RFC 3032 5 */
#define ETHERTYPE_MPLS_MC    0x8848u
#define ETHERTYPE_PPPOE_SESS 0x8864u /* RFC 2516 4 (0x8863 discovery carries no IP) */
#define ETHERTYPE_PBB        0x88E7u /* IEEE 802.1ah I-TAG */
#define ETHERTYPE_FABRICPATH 0x8903u /* Cisco FabricPath: 16-byte outer header */
#define ETHERTYPE_VNTAG      0x8926u /* Cisco VN-Tag (802.1Qbh draft) */
#define ETHERTYPE_TEB        0x6558u /* transparent Ethernet bridging (GRE, Geneve) */
#define ETHERTYPE_ERSPAN2    0x88BEu /* ERSPAN type II, or type I without sequence number */
#define ETHERTYPE_ERSPAN3    0x22EBu
#define ETHERTYPE_PPP        0x880Bu /* PPTP enhanced GRE payload (RFC 2637 4.1) */
#define FABRICPATH_TAG       2       /* FTag/TTL after the ethertype */
#define VLAN_TAG_LEN         4
#define VLAN_MAX_SKIP        TCPST_MAX_VLAN_SKIP
#define MPLS_LSE_LEN         4 /* label stack entry, RFC 3032 2.1 */
#define MPLS_BOS             0x100u
#define PW_CW_LEN            4 /* pseudowire control word, RFC 4385 3 */
#define PPPOE_HLEN           6
#define PBB_ITAG_LEN         4
#define VNTAG_LEN            4
#define SLL_HLEN             16
#define SLL2_HLEN            20
#define NULL_HLEN            4
#define FDDI_HLEN            13 /* frame control + two MACs */
#define SNAP_HLEN            8  /* 802.2 LLC AA AA 03 + OUI + ethertype (RFC 1042) */
#define PPP_IPV4             0x0021u
#define PPP_IPV6             0x0057u

/* Address family values seen in DLT_NULL / DLT_LOOP headers. */
#define BSD_AF_INET          2
#define BSD_AF_INET6_BSD     24 /* NetBSD, OpenBSD */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN  30

#define IPV4_MIN_HLEN 20
#define IPV4_MF       0x2000u
#define IPV4_DF       0x4000u
#define IPV4_OFFMASK  0x1FFFu
#define IPV6_HLEN     40
#define IPPROTO_IPIP_ 4
#define IPPROTO_TCP_  6
#define IPPROTO_UDP_  17
#define IPPROTO_IPV6_ 41
#define IPPROTO_GRE_  47
#define TCP_MIN_HLEN  20
#define UDP_HLEN      8

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

/* More steps than any frame within the layer limits can take; a guard, not a rule. */
#define WALK_MAX_STEPS 64

static const tcpst_decode_config default_cfg = {
    .vxlan_ports = {4789},   /* RFC 7348 5 (IANA) */
    .geneve_ports = {6081},  /* RFC 8926 3.3 */
    .gtpu_ports = {2152},    /* 3GPP TS 29.281 4.4.2.3 */
    .teredo_ports = {3544},  /* RFC 4380 4 */
    .ayiya_ports = {5072},   /* IANA "ayiya" */
    .gre_udp_ports = {4754}, /* RFC 8086 3 */
    .tunnels = true,
    .key_encap = true,
    .teredo_detect = true,
};

/* The frame as the getters see it: wirelen is never below caplen. */
typedef struct frame {
    const uint8_t *data;
    size_t caplen;
    size_t wirelen;
} frame;

/* Decoding state of one call. */
typedef struct dctx {
    const tcpst_decode_config *cfg;
    frame f;
    tcpst_segment *seg;
    size_t lim;    /* end of the innermost enclosing payload (wire bytes) */
    bool bounded;  /* lim comes from a length field (IP, UDP, GTP-U, PPTP), not the frame */
    bool tunneled; /* crossed a layer other than VLAN/FabricPath: link problems are encap ones */
    size_t mac;    /* start of the latest Ethernet header (FabricPath reads its switch id) */
} dctx;

/* Where the walk is. */
typedef enum where { AT_ETHER, AT_ETYPE, AT_IP, AT_DONE } where;

typedef struct cursor {
    where at;
    size_t off;     /* start of the next header */
    uint16_t etype; /* AT_ETYPE: the protocol announced before off */
    int version;    /* AT_IP: 4, 6, or 0 = read it from the version nibble */
} cursor;

static bool have(const frame *f, size_t off, size_t n)
{
    return off <= f->caplen && n <= f->caplen - off;
}

/* Getters return 0 outside the captured bytes; callers check have() first. */
static uint8_t get8(const frame *f, size_t off)
{
    return have(f, off, 1) ? f->data[off] : 0;
}

static uint16_t get16(const frame *f, size_t off)
{
    if (!have(f, off, 2)) {
        return 0;
    }
    return (uint16_t)((unsigned)f->data[off] << 8 | f->data[off + 1]);
}

static uint32_t get32(const frame *f, size_t off)
{
    if (!have(f, off, 4)) {
        return 0;
    }
    return (uint32_t)f->data[off] << 24 | (uint32_t)f->data[off + 1] << 16 |
           (uint32_t)f->data[off + 2] << 8 | f->data[off + 3];
}

static uint32_t get32le(const frame *f, size_t off)
{
    if (!have(f, off, 4)) {
        return 0;
    }
    return (uint32_t)f->data[off + 3] << 24 | (uint32_t)f->data[off + 2] << 16 |
           (uint32_t)f->data[off + 1] << 8 | f->data[off];
}

/* Unchecked big-endian reads, for fields of a header whose bytes have() has already
 * vouched for: the common IPv4/TCP path reads a dozen fields per packet. */
static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void get_bytes(const frame *f, size_t off, uint8_t *dst, size_t n)
{
    if (have(f, off, n)) {
        memcpy(dst, f->data + off, n);
    }
}

/*
 * n header bytes at off: inside the enclosing payload (else `bad`, or
 * `trunc` when only the frame's end bounds it) and captured (else `trunc`).
 */
static tcpst_decode_status span(const dctx *c, size_t off, size_t n, tcpst_decode_status bad,
                                tcpst_decode_status trunc)
{
    if (off > c->lim || n > c->lim - off) {
        return c->bounded ? bad : trunc;
    }
    return have(&c->f, off, n) ? TCPST_DEC_OK : trunc;
}

/* Encapsulation headers: both problems have their own statuses. */
static tcpst_decode_status span_encap(const dctx *c, size_t off, size_t n)
{
    return span(c, off, n, TCPST_DEC_BAD_ENCAP, TCPST_DEC_TRUNC_ENCAP);
}

/* Ethernet headers and VLAN tags: link problems in the capture's own link
 * layer (as before tunnels were decoded), encapsulation problems inside one. */
static tcpst_decode_status span_link(const dctx *c, size_t off, size_t n)
{
    if (c->tunneled) {
        return span_encap(c, off, n);
    }
    return span(c, off, n, TCPST_DEC_BAD_LINK, TCPST_DEC_TRUNC_LINK);
}

/* ---- encapsulation chain and key --------------------------------------------- */

/*
 * One keyed layer folded into the key: FNV-1a over (type, id big-endian)
 * from the previous key (or the FNV basis), then the finalizer.  A fold, so
 * tcpst_decode_ip can extend a key it was handed; never 0, which means "no
 * keyed layer".
 */
static uint32_t key_step(uint32_t h, uint8_t type, uint32_t id)
{
    const uint8_t b[5] = {type, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
                          (uint8_t)id};

    h = tcpst_fmix32(tcpst_fnv1a32(h != 0 ? h : TCPST_FNV32_BASIS, b, sizeof b));
    return h ? h : 1;
}

/*
 * Record a stripped layer.  `keyed`: its id separates connections (when the
 * configuration asks for it); ids that differ between the two directions of
 * one connection (GTP-U TEIDs, PPTP call ids) must not be keyed.
 */
static tcpst_decode_status push(dctx *c, tcpst_encap_type type, bool has_id, uint32_t id,
                                bool keyed)
{
    tcpst_segment *s = c->seg;
    tcpst_encap *e;

    if (s->nencap >= TCPST_ENCAP_MAX) {
        return TCPST_DEC_ENCAP_DEPTH;
    }
    e = &s->encap[s->nencap++];
    e->type = (uint8_t)type;
    e->has_id = has_id ? 1 : 0;
    e->in_key = has_id && keyed && c->cfg->key_encap ? 1 : 0;
    e->pad_ = 0;
    e->id = has_id ? id : 0;
    if (e->in_key) {
        s->key_ctx = key_step(s->key_ctx, e->type, id);
    }
    if (type != TCPST_ENCAP_VLAN && type != TCPST_ENCAP_FABRICPATH) {
        c->tunneled = true;
    }
    return TCPST_DEC_OK;
}

/* ---- link-level encapsulations ---------------------------------------------------- */

/* IEEE 802.2 LLC after an 802.3 length field: only SNAP with an ethertype OUI
 * (RFC 1042: 0, or 0xF8 for 802.1H) carries IP. */
static tcpst_decode_status llc_snap(dctx *c, cursor *cur, uint16_t len)
{
    size_t off = cur->off;
    tcpst_decode_status st;
    uint32_t oui;

    if (len > ETH_MAX_LEN) {
        return TCPST_DEC_NOT_IP; /* neither a length nor an ethertype */
    }
    if ((st = span_link(c, off, 3)) != TCPST_DEC_OK) {
        return st;
    }
    if (get8(&c->f, off) != 0xAA || get8(&c->f, off + 1) != 0xAA || get8(&c->f, off + 2) != 0x03) {
        return TCPST_DEC_NOT_IP; /* plain 802.2: spanning tree, NetBIOS, IPX... */
    }
    if (len < SNAP_HLEN) {
        return TCPST_DEC_NOT_IP;
    }
    if ((st = span_encap(c, off, SNAP_HLEN)) != TCPST_DEC_OK) {
        return st;
    }
    oui = get32(&c->f, off + 2) & 0x00FFFFFFu;
    if (oui != 0 && oui != 0xF8) {
        return TCPST_DEC_NOT_IP; /* a vendor's protocol space, e.g. Cisco CDP */
    }
    if ((st = push(c, TCPST_ENCAP_LLC, false, 0, false)) != TCPST_DEC_OK) {
        return st;
    }
    cur->at = AT_ETYPE;
    cur->etype = get16(&c->f, off + 6);
    cur->off = off + SNAP_HLEN;
    return TCPST_DEC_OK;
}

/* A whole Ethernet header at cur->off (RFC 894; 802.3 with LLC, RFC 1042). */
static tcpst_decode_status ether(dctx *c, cursor *cur)
{
    tcpst_decode_status st = span_link(c, cur->off, ETH_HLEN);
    uint16_t type;

    if (st != TCPST_DEC_OK) {
        return st;
    }
    c->mac = cur->off;
    type = get16(&c->f, cur->off + 12);
    cur->off += ETH_HLEN;
    if (type < ETH_MIN_TYPE) {
        return llc_snap(c, cur, type);
    }
    cur->at = AT_ETYPE;
    cur->etype = type;
    return TCPST_DEC_OK;
}

/* 802.1Q / 802.1ad / pre-standard 0x9100 tag: TCI, then the next type. */
static tcpst_decode_status vlan_tag(dctx *c, cursor *cur)
{
    tcpst_segment *s = c->seg;
    tcpst_decode_status st;
    uint16_t id;

    if (s->nvlan >= VLAN_MAX_SKIP) {
        return TCPST_DEC_VLAN_DEPTH;
    }
    if ((st = span_link(c, cur->off, VLAN_TAG_LEN)) != TCPST_DEC_OK) {
        return st;
    }
    id = get16(&c->f, cur->off) & 0x0FFFu; /* drop PCP and DEI */
    if (s->nvlan < TCPST_MAX_VLAN) {
        s->vlan[s->nvlan] = id;
    }
    s->nvlan++;
    if ((st = push(c, TCPST_ENCAP_VLAN, true, id, true)) != TCPST_DEC_OK) {
        return st;
    }
    cur->etype = get16(&c->f, cur->off + 2);
    cur->off += VLAN_TAG_LEN;
    if (cur->etype < ETH_MIN_TYPE) {
        return llc_snap(c, cur, cur->etype); /* a tagged 802.3 frame */
    }
    return TCPST_DEC_OK;
}

/* Is there an Ethernet type we follow at off (IP or a link-level encapsulation)? */
static bool followed_type(const dctx *c, size_t off)
{
    if (!have(&c->f, off, 2) || off + 2 > c->lim) {
        return false;
    }
    switch (get16(&c->f, off)) {
        case ETHERTYPE_IPV4:
        case ETHERTYPE_IPV6:
        case ETHERTYPE_8021Q:
        case ETHERTYPE_8021AD:
        case ETHERTYPE_QINQ_OLD:
        case ETHERTYPE_MPLS_UC:
        case ETHERTYPE_MPLS_MC:
        case ETHERTYPE_PPPOE_SESS:
        case ETHERTYPE_PBB:
        case ETHERTYPE_VNTAG:
            return true;
        default:
            return false;
    }
}

/*
 * MPLS label stack (RFC 3032 2.1): entries up to the one with S set.  The
 * payload type is not in the header; RFC 4928 keeps the first nibble of IP
 * apart from pseudowire traffic, and RFC 4385 3 starts the Ethernet
 * pseudowire control word with 0000 and the associated channel with 0001.
 * Any other nibble is taken as an Ethernet pseudowire without control word
 * (as Zeek falls back to Ethernet).
 */
static tcpst_decode_status mpls(dctx *c, cursor *cur)
{
    size_t off = cur->off;
    tcpst_decode_status st;
    uint32_t lse;
    unsigned nibble;

    do {
        if ((st = span_encap(c, off, MPLS_LSE_LEN)) != TCPST_DEC_OK) {
            return st;
        }
        lse = get32(&c->f, off);
        if ((st = push(c, TCPST_ENCAP_MPLS, true, lse >> 12, false)) != TCPST_DEC_OK) {
            return st;
        }
        off += MPLS_LSE_LEN;
    } while (!(lse & MPLS_BOS));

    if ((st = span_encap(c, off, 1)) != TCPST_DEC_OK) {
        return st;
    }
    nibble = get8(&c->f, off) >> 4;
    cur->off = off;
    if (nibble == 4 || nibble == 6) {
        cur->at = AT_IP;
        cur->version = (int)nibble;
    } else if (nibble == 0) {
        /* A control word (RFC 4448 4.6: its first 16 bits are 0 for Ethernet),
         * or an Ethernet destination MAC that starts with a 0 nibble, as most
         * OUIs do: without the zero word, a type we follow after the MACs
         * means Ethernet without control word. */
        if ((st = span_encap(c, off, PW_CW_LEN)) != TCPST_DEC_OK) {
            return st;
        }
        cur->at = AT_ETHER;
        if (get16(&c->f, off) == 0 || !followed_type(c, off + 12)) {
            cur->off = off + PW_CW_LEN;
        }
    } else if (nibble == 1) {
        return TCPST_DEC_NOT_IP; /* pseudowire associated channel: OAM */
    } else {
        cur->at = AT_ETHER;
    }
    return TCPST_DEC_OK;
}

/*
 * PPP frame: optional address/control FF 03 (RFC 1662 3.1; absent with ACFC),
 * then the protocol, one byte when compressed (RFC 1661 6.5: odd first byte).
 */
static tcpst_decode_status ppp(dctx *c, cursor *cur, size_t off)
{
    tcpst_decode_status st;
    uint16_t proto;

    if ((st = span_encap(c, off, 1)) != TCPST_DEC_OK) {
        return st;
    }
    if (get8(&c->f, off) == 0xFF) {
        if ((st = span_encap(c, off, 2)) != TCPST_DEC_OK) {
            return st;
        }
        if (get8(&c->f, off + 1) != 0x03) {
            return TCPST_DEC_BAD_ENCAP;
        }
        off += 2;
        if ((st = span_encap(c, off, 1)) != TCPST_DEC_OK) {
            return st;
        }
    }
    if (get8(&c->f, off) & 1) {
        proto = get8(&c->f, off);
        off += 1;
    } else {
        if ((st = span_encap(c, off, 2)) != TCPST_DEC_OK) {
            return st;
        }
        proto = get16(&c->f, off);
        off += 2;
    }
    if (proto != PPP_IPV4 && proto != PPP_IPV6) {
        return TCPST_DEC_NOT_IP; /* LCP, IPCP, CHAP, compressed data... */
    }
    cur->at = AT_IP;
    cur->off = off;
    cur->version = proto == PPP_IPV4 ? 4 : 6;
    return TCPST_DEC_OK;
}

/* PPPoE session stage (RFC 2516 4): VER 1, TYPE 1, CODE 0, session id, length. */
static tcpst_decode_status pppoe(dctx *c, cursor *cur)
{
    size_t off = cur->off;
    tcpst_decode_status st = span_encap(c, off, PPPOE_HLEN);

    if (st != TCPST_DEC_OK) {
        return st;
    }
    if (get8(&c->f, off) != 0x11 || get8(&c->f, off + 1) != 0x00) {
        return TCPST_DEC_BAD_ENCAP;
    }
    if ((st = push(c, TCPST_ENCAP_PPPOE, true, get16(&c->f, off + 2), false)) != TCPST_DEC_OK) {
        return st;
    }
    return ppp(c, cur, off + PPPOE_HLEN);
}

/* 802.1ah I-TAG: PCP/DEI/UCA/reserved, 24-bit I-SID, then the customer's MACs and type. */
static tcpst_decode_status pbb(dctx *c, cursor *cur)
{
    tcpst_decode_status st = span_encap(c, cur->off, PBB_ITAG_LEN);

    if (st != TCPST_DEC_OK) {
        return st;
    }
    st = push(c, TCPST_ENCAP_PBB, true, get32(&c->f, cur->off) & 0x00FFFFFFu, false);
    cur->at = AT_ETHER;
    cur->off += PBB_ITAG_LEN;
    return st;
}

/* VN-Tag: D, P, 14-bit destination VIF, L, R, version, source VIF; then the type. */
static tcpst_decode_status vntag(dctx *c, cursor *cur)
{
    tcpst_decode_status st = span_encap(c, cur->off, VNTAG_LEN + 2);

    if (st != TCPST_DEC_OK) {
        return st;
    }
    st = push(c, TCPST_ENCAP_VNTAG, true, get16(&c->f, cur->off) & 0x3FFFu, false);
    cur->etype = get16(&c->f, cur->off + VNTAG_LEN);
    cur->off += VNTAG_LEN + 2;
    return st;
}

/*
 * Cisco FabricPath: the outer MACs (whose destination holds the 12-bit
 * destination switch id in its second and third bytes), the ethertype and an
 * FTag/TTL word, then a whole inner Ethernet frame.  Zeek decodes it, so the
 * corpus needs it.  Only valid right after an Ethernet header's type field.
 */
static tcpst_decode_status fabricpath(dctx *c, cursor *cur)
{
    tcpst_decode_status st;
    uint32_t sw;

    if (c->mac > c->f.caplen || cur->off != c->mac + ETH_HLEN) {
        return TCPST_DEC_NOT_IP;
    }
    if ((st = span_link(c, cur->off, FABRICPATH_TAG + ETH_HLEN)) != TCPST_DEC_OK) {
        return st;
    }
    sw = (uint32_t)(get8(&c->f, c->mac + 1) & 0x0Fu) << 8 | get8(&c->f, c->mac + 2);
    st = push(c, TCPST_ENCAP_FABRICPATH, true, sw, false);
    cur->at = AT_ETHER;
    cur->off += FABRICPATH_TAG;
    return st;
}

/* What an ethertype (or GRE / Geneve protocol type) leads to. */
static tcpst_decode_status etype(dctx *c, cursor *cur)
{
    switch (cur->etype) {
        case ETHERTYPE_IPV4:
            cur->at = AT_IP;
            cur->version = 4;
            return TCPST_DEC_OK;
        case ETHERTYPE_IPV6:
            cur->at = AT_IP;
            cur->version = 6;
            return TCPST_DEC_OK;
        case ETHERTYPE_8021Q:
        case ETHERTYPE_8021AD:
        case ETHERTYPE_QINQ_OLD:
            return vlan_tag(c, cur);
        case ETHERTYPE_MPLS_UC:
        case ETHERTYPE_MPLS_MC:
            return mpls(c, cur);
        case ETHERTYPE_PPPOE_SESS:
            return pppoe(c, cur);
        case ETHERTYPE_PBB:
            return pbb(c, cur);
        case ETHERTYPE_VNTAG:
            return vntag(c, cur);
        case ETHERTYPE_FABRICPATH:
            return fabricpath(c, cur);
        default:
            return TCPST_DEC_NOT_IP;
    }
}

/* ---- capture link layer ------------------------------------------------------------ */

/* BSD address family to IP version; IPv6 has three values across the BSDs. */
static tcpst_decode_status bsd_af(uint32_t af, cursor *cur)
{
    cur->at = AT_IP;
    cur->off = NULL_HLEN;
    switch (af) {
        case BSD_AF_INET:
            cur->version = 4;
            return TCPST_DEC_OK;
        case BSD_AF_INET6_BSD:
        case BSD_AF_INET6_FREEBSD:
        case BSD_AF_INET6_DARWIN:
            cur->version = 6;
            return TCPST_DEC_OK;
        default:
            return TCPST_DEC_NOT_IP;
    }
}

/*
 * FDDI carries IP only in LLC/SNAP (RFC 1188, RFC 1042): DSAP and SSAP 0xAA,
 * UI control 0x03, an OUI of 0 (or 0x0000F8, 802.1H), then the ethertype.
 * This LLC is FDDI's own framing, so it is not recorded as an encapsulation.
 */
static tcpst_decode_status fddi(const frame *f, cursor *cur)
{
    uint32_t oui;

    if (!have(f, 0, FDDI_HLEN + SNAP_HLEN)) {
        return TCPST_DEC_TRUNC_LINK;
    }
    if (get8(f, FDDI_HLEN) != 0xAA || get8(f, FDDI_HLEN + 1) != 0xAA ||
        get8(f, FDDI_HLEN + 2) != 0x03) {
        return TCPST_DEC_NOT_IP;
    }
    oui = get32(f, FDDI_HLEN + 2) & 0x00FFFFFFu;
    if (oui != 0 && oui != 0xF8) {
        return TCPST_DEC_NOT_IP;
    }
    cur->at = AT_ETYPE;
    cur->etype = get16(f, FDDI_HLEN + 6);
    cur->off = FDDI_HLEN + SNAP_HLEN;
    return TCPST_DEC_OK;
}

static tcpst_decode_status link_layer(int linktype, const frame *f, cursor *cur)
{
    uint32_t af;

    cur->at = AT_IP;
    cur->off = 0;
    cur->version = 0;
    cur->etype = 0;
    switch (linktype) {
        case TCPST_LT_ETHERNET:
            cur->at = AT_ETHER;
            return TCPST_DEC_OK;
        case TCPST_LT_LINUX_SLL:
            if (!have(f, 0, SLL_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            /* Protocol at offset 14; libpcap re-inserts stripped VLAN tags after it. */
            cur->at = AT_ETYPE;
            cur->etype = get16(f, 14);
            cur->off = SLL_HLEN;
            return TCPST_DEC_OK;
        case TCPST_LT_LINUX_SLL2:
            if (!have(f, 0, SLL2_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            cur->at = AT_ETYPE;
            cur->etype = get16(f, 0);
            cur->off = SLL2_HLEN;
            return TCPST_DEC_OK;
        case TCPST_LT_FDDI:
            return fddi(f, cur);
        case TCPST_LT_NULL:
            if (!have(f, 0, NULL_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            /* Host byte order of the capturing machine, which we do not know:
             * every valid AF is small, so the reading that fits in 16 bits wins. */
            af = get32le(f, 0);
            if (af > 0xFFFFu) {
                af = get32(f, 0);
            }
            return bsd_af(af, cur);
        case TCPST_LT_LOOP:
            if (!have(f, 0, NULL_HLEN)) {
                return TCPST_DEC_TRUNC_LINK;
            }
            return bsd_af(get32(f, 0), cur); /* always network byte order */
        case TCPST_LT_RAW:
        case TCPST_LT_DLT_RAW_12:
        case TCPST_LT_DLT_RAW_14:
            return TCPST_DEC_OK; /* version nibble decides */
        case TCPST_LT_IPV4:
            cur->version = 4;
            return TCPST_DEC_OK;
        case TCPST_LT_IPV6:
            cur->version = 6;
            return TCPST_DEC_OK;
        default:
            return TCPST_DEC_BAD_LINK;
    }
}

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

static tcpst_decode_status ipv6(dctx *c, size_t off, ipinfo *ip)
{
    const frame *f = &c->f;
    tcpst_segment *seg = c->seg;
    size_t wire = c->lim > off ? c->lim - off : 0;
    size_t plen, cur, end;
    unsigned nexts = 0;
    uint8_t nh;

    if (!have(f, off, IPV6_HLEN)) {
        return TCPST_DEC_TRUNC_IP;
    }
    seg->ip_version = 6;
    seg->ttl = get8(f, off + 7);
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
    cur = off + IPV6_HLEN;
    end = cur + plen;
    ip->frag = false;

    /* 59 (no next header), ESP (its payload is opaque) and every upper layer
     * end the walk; the caller decides what they are. */
    while (v6ext_len(nh, 0) != 0) {
        size_t hlen;
        if (++nexts > TCPST_MAX_IPV6_EXT) {
            return TCPST_DEC_IPV6_EXT_LIMIT;
        }
        seg->ipflags |= TCPST_IP_HAS_EXTHDR;
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
    st = push(c, TCPST_ENCAP_ERSPAN, true, get16(&c->f, off + 2) & 0x03FFu, true);
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
        size_t plen = key >> 16;
        if ((st = push(c, TCPST_ENCAP_GRE, true, key & 0xFFFFu, false)) != TCPST_DEC_OK) {
            return st;
        }
        if (!(fv & GRE_S) || plen == 0) {
            return TCPST_DEC_NOT_TCP; /* an acknowledgment only */
        }
        if (plen > c->lim - off) {
            return TCPST_DEC_BAD_ENCAP;
        }
        c->lim = off + plen;
        return ppp(c, cur, off);
    }
    if ((st = push(c, TCPST_ENCAP_GRE, (fv & GRE_K) != 0, key, true)) != TCPST_DEC_OK) {
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
            return push(c, TCPST_ENCAP_ERSPAN, false, 0, false);
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
    st = push(c, TCPST_ENCAP_VXLAN, (get8(&c->f, off) & VXLAN_I) != 0, get32(&c->f, off + 4) >> 8,
              true);
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
    st = push(c, TCPST_ENCAP_GENEVE, true, get32(&c->f, off + 4) >> 8, true);
    cur->off = off + hlen;
    cur->etype = get16(&c->f, off + 2);
    cur->at = cur->etype == ETHERTYPE_TEB ? AT_ETHER : AT_ETYPE;
    return st;
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
    uint8_t ext = 0;

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
    if (b0 & 0x07u) {
        if ((st = span_encap(c, next, GTPU_OPT_LEN)) != TCPST_DEC_OK) {
            return st;
        }
        ext = (b0 & 0x04u) ? get8(&c->f, next + 3) : 0;
        next += GTPU_OPT_LEN;
    }
    while (ext != 0) {
        size_t elen;
        if ((st = span_encap(c, next, 1)) != TCPST_DEC_OK) {
            return st;
        }
        elen = (size_t)get8(&c->f, next) * 4;
        if (elen == 0) {
            return TCPST_DEC_BAD_ENCAP;
        }
        if ((st = span_encap(c, next, elen)) != TCPST_DEC_OK) {
            return st;
        }
        ext = get8(&c->f, next + elen - 1);
        next += elen;
    }
    /* The TEID names the receiving side's tunnel end: the two directions of
     * one connection carry different TEIDs, so it cannot be part of the key. */
    if ((st = push(c, TCPST_ENCAP_GTPU, true, get32(&c->f, off + 4), false)) != TCPST_DEC_OK) {
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
    cur->at = AT_IP;
    cur->off = next;
    cur->version = 0;
    return TCPST_DEC_OK;
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
    if ((st = push(c, TCPST_ENCAP_TEREDO, false, 0, false)) != TCPST_DEC_OK) {
        return st;
    }
    cur->at = AT_IP;
    cur->off = off;
    cur->version = 6;
    return TCPST_DEC_OK;
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
    if ((st = push(c, TCPST_ENCAP_AYIYA, false, 0, false)) != TCPST_DEC_OK) {
        return st;
    }
    cur->at = AT_IP;
    cur->off = off + hlen;
    cur->version = nh == IPPROTO_IPIP_ ? 4 : 6;
    return TCPST_DEC_OK;
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

static bool port_in(const uint16_t *ports, uint16_t p)
{
    for (size_t i = 0; i < TCPST_DECODE_PORTS_MAX; i++) {
        if (ports[i] != 0 && ports[i] == p) {
            return true;
        }
    }
    return false;
}

typedef tcpst_decode_status (*udp_tunnel)(dctx *, cursor *, size_t);

/* The tunnel a UDP port is configured for, or NULL. */
static udp_tunnel udp_kind(const tcpst_decode_config *cfg, uint16_t port)
{
    if (port_in(cfg->vxlan_ports, port)) {
        return vxlan;
    }
    if (port_in(cfg->geneve_ports, port)) {
        return geneve;
    }
    if (port_in(cfg->gtpu_ports, port)) {
        return gtpu;
    }
    if (port_in(cfg->teredo_ports, port)) {
        return teredo;
    }
    if (port_in(cfg->ayiya_ports, port)) {
        return ayiya;
    }
    if (port_in(cfg->gre_udp_ports, port)) {
        return gre;
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
    udp_tunnel kind;
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

/* One IP header and what follows it: TCP, a tunnel, or the end. */
static tcpst_decode_status ip_layer(dctx *c, cursor *cur)
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
    switch (ip.proto) {
        case IPPROTO_IPIP_:
        case IPPROTO_IPV6_:
            /* RFC 2003 / RFC 4213 / RFC 2473: the payload is the inner packet. */
            cur->at = AT_IP;
            cur->off = ip.off;
            cur->version = ip.proto == IPPROTO_IPIP_ ? 4 : 6;
            return push(c, TCPST_ENCAP_IP, false, 0, false);
        case IPPROTO_GRE_:
            return gre(c, cur, ip.off);
        case IPPROTO_UDP_:
            return udp(c, cur, ip.off);
        default:
            return TCPST_DEC_NOT_TCP;
    }
}

/* Follow the cursor to the TCP header. */
static tcpst_decode_status walk(dctx *c, cursor *cur)
{
    for (int steps = 0; steps < WALK_MAX_STEPS; steps++) {
        tcpst_decode_status st;
        switch (cur->at) {
            case AT_ETHER:
                st = ether(c, cur);
                break;
            case AT_ETYPE:
                st = etype(c, cur);
                break;
            case AT_IP:
                st = ip_layer(c, cur);
                break;
            default:
                return TCPST_DEC_OK;
        }
        if (st != TCPST_DEC_OK || cur->at == AT_DONE) {
            return st;
        }
    }
    return TCPST_DEC_ENCAP_DEPTH;
}

/* ---- entry points ---------------------------------------------------------- */

void tcpst_decode_config_default(tcpst_decode_config *cfg)
{
    *cfg = default_cfg;
}

static void ctx_init(dctx *c, const tcpst_decode_config *cfg, const uint8_t *data, size_t caplen,
                     size_t wirelen, tcpst_segment *seg)
{
    c->cfg = cfg != NULL ? cfg : &default_cfg;
    c->f.data = data;
    c->f.caplen = data != NULL ? caplen : 0;
    /* libpcap guarantees caplen <= len; a file that breaks it gets no trust. */
    c->f.wirelen = wirelen < c->f.caplen ? c->f.caplen : wirelen;
    c->seg = seg;
    c->lim = c->f.wirelen;
    c->bounded = false;
    c->tunneled = false;
    c->mac = (size_t)-1;
}

tcpst_decode_status tcpst_decode_ex(const tcpst_decode_config *cfg, int linktype,
                                    const uint8_t *data, size_t caplen, size_t wirelen,
                                    tcpst_segment *seg)
{
    dctx c;
    cursor cur;
    tcpst_decode_status st;

    memset(seg, 0, sizeof *seg);
    ctx_init(&c, cfg, data, caplen, wirelen, seg);
    st = link_layer(linktype, &c.f, &cur);
    if (st != TCPST_DEC_OK) {
        return st;
    }
    return walk(&c, &cur);
}

tcpst_decode_status tcpst_decode(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
                                 tcpst_segment *seg)
{
    return tcpst_decode_ex(&default_cfg, linktype, data, caplen, wirelen, seg);
}

tcpst_decode_status tcpst_decode_ip(const tcpst_decode_config *cfg, const uint8_t *ip, size_t len,
                                    tcpst_segment *seg)
{
    tcpst_encap encap[TCPST_ENCAP_MAX];
    uint16_t vlan[TCPST_MAX_VLAN];
    uint8_t nencap = seg->nencap < TCPST_ENCAP_MAX ? seg->nencap : TCPST_ENCAP_MAX;
    uint8_t nvlan = seg->nvlan;
    uint32_t key = seg->key_ctx;
    dctx c;
    cursor cur = {.at = AT_IP, .off = 0, .etype = 0, .version = 0};

    memcpy(encap, seg->encap, sizeof encap);
    memcpy(vlan, seg->vlan, sizeof vlan);
    memset(seg, 0, sizeof *seg);
    memcpy(seg->encap, encap, sizeof encap);
    memcpy(seg->vlan, vlan, sizeof vlan);
    seg->nencap = nencap;
    seg->nvlan = nvlan;
    seg->key_ctx = key;
    ctx_init(&c, cfg, ip, len, len, seg);
    for (size_t i = 0; i < nencap; i++) {
        if (encap[i].type != TCPST_ENCAP_VLAN && encap[i].type != TCPST_ENCAP_FABRICPATH) {
            c.tunneled = true;
        }
    }
    return walk(&c, &cur);
}

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

static const char *const status_names[] = {
#define TCPST_X_NAME(name, str) str,
    TCPST_DECODE_STATUS_MAP(TCPST_X_NAME)
#undef TCPST_X_NAME
};

const char *tcpst_decode_status_name(tcpst_decode_status st)
{
    if ((unsigned)st >= (unsigned)TCPST_DEC__COUNT) {
        return "unknown";
    }
    return status_names[st];
}

static const char *const encap_names[] = {
#define TCPST_X_NAME(name, str, idkey) str,
    TCPST_ENCAP_TYPE_MAP(TCPST_X_NAME)
#undef TCPST_X_NAME
};

static const char *const encap_id_names[] = {
#define TCPST_X_IDKEY(name, str, idkey) idkey,
    TCPST_ENCAP_TYPE_MAP(TCPST_X_IDKEY)
#undef TCPST_X_IDKEY
};

const char *tcpst_encap_type_name(tcpst_encap_type t)
{
    if ((unsigned)t >= (unsigned)TCPST_ENCAP__COUNT) {
        return "unknown";
    }
    return encap_names[t];
}

const char *tcpst_encap_id_name(tcpst_encap_type t)
{
    return (unsigned)t < (unsigned)TCPST_ENCAP__COUNT ? encap_id_names[t] : NULL;
}

int tcpst_decode_linktype_supported(int linktype)
{
    switch (linktype) {
        case TCPST_LT_NULL:
        case TCPST_LT_ETHERNET:
        case TCPST_LT_FDDI:
        case TCPST_LT_RAW:
        case TCPST_LT_DLT_RAW_12:
        case TCPST_LT_DLT_RAW_14:
        case TCPST_LT_LOOP:
        case TCPST_LT_LINUX_SLL:
        case TCPST_LT_IPV4:
        case TCPST_LT_IPV6:
        case TCPST_LT_LINUX_SLL2:
            return 1;
        default:
            return 0;
    }
}
