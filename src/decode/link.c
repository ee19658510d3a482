/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * link.c - Ethernet and the link-level encapsulations, from an Ethernet header
 * or an ethertype to the IP header: wherever they appear, after the capture's
 * link header (linktype.c) or inside a tunnel (tunnel.c).
 *
 * As often as they nest: 802.1Q/802.1ad tags, 802.3 LLC/SNAP, MPLS label
 * stacks with or without a pseudowire control word, PPPoE sessions (and the
 * PPP frame PPTP shares), 802.1ah PBB, Cisco FabricPath, VN-Tag.  Each parser
 * consumes its header and leaves the cursor at what follows: another Ethernet
 * header, an ethertype, or an IP header.
 *
 * What it does not do: the capture's own link header (linktype.c), IP and
 * anything above it (ip.c, tunnel.c), 802.11 or other non-IP payloads, or
 * keep any state between frames.
 */
#include "cursor.h"

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
#define FABRICPATH_TAG       2       /* FTag/TTL after the ethertype */
#define VLAN_TAG_LEN         4
#define VLAN_MAX_SKIP        TCPST_MAX_VLAN_SKIP
#define MPLS_LSE_LEN         4 /* label stack entry, RFC 3032 2.1 */
#define MPLS_BOS             0x100u
#define PW_CW_LEN            4 /* pseudowire control word, RFC 4385 3 */
#define PPPOE_HLEN           6
#define PBB_ITAG_LEN         4
#define VNTAG_LEN            4
#define PPP_IPV4             0x0021u
#define PPP_IPV6             0x0057u

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
    if ((st = tcpst__push(c, TCPST_ENCAP_LLC, false, 0, false)) != TCPST_DEC_OK) {
        return st;
    }
    cur->at = AT_ETYPE;
    cur->etype = get16(&c->f, off + 6);
    cur->off = off + SNAP_HLEN;
    return TCPST_DEC_OK;
}

/* A whole Ethernet header at cur->off (RFC 894; 802.3 with LLC, RFC 1042). */
tcpst_decode_status tcpst__ether(dctx *c, cursor *cur)
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
    if ((st = tcpst__push(c, TCPST_ENCAP_VLAN, true, id, true)) != TCPST_DEC_OK) {
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
        if ((st = tcpst__push(c, TCPST_ENCAP_MPLS, true, lse >> 12, false)) != TCPST_DEC_OK) {
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
tcpst_decode_status tcpst__ppp(dctx *c, cursor *cur, size_t off)
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
    return at_ip(cur, off, proto == PPP_IPV4 ? 4 : 6);
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
    if ((st = tcpst__push(c, TCPST_ENCAP_PPPOE, true, get16(&c->f, off + 2), false)) !=
        TCPST_DEC_OK) {
        return st;
    }
    return tcpst__ppp(c, cur, off + PPPOE_HLEN);
}

/* 802.1ah I-TAG: PCP/DEI/UCA/reserved, 24-bit I-SID, then the customer's MACs and type. */
static tcpst_decode_status pbb(dctx *c, cursor *cur)
{
    tcpst_decode_status st = span_encap(c, cur->off, PBB_ITAG_LEN);

    if (st != TCPST_DEC_OK) {
        return st;
    }
    st = tcpst__push(c, TCPST_ENCAP_PBB, true, get32(&c->f, cur->off) & 0x00FFFFFFu, false);
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
    st = tcpst__push(c, TCPST_ENCAP_VNTAG, true, get16(&c->f, cur->off) & 0x3FFFu, false);
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
    st = tcpst__push(c, TCPST_ENCAP_FABRICPATH, true, sw, false);
    cur->at = AT_ETHER;
    cur->off += FABRICPATH_TAG;
    return st;
}

/* What an ethertype (or GRE / Geneve protocol type) leads to. */
tcpst_decode_status tcpst__etype(dctx *c, cursor *cur)
{
    switch (cur->etype) {
        case ETHERTYPE_IPV4:
            return at_ip(cur, cur->off, 4);
        case ETHERTYPE_IPV6:
            return at_ip(cur, cur->off, 6);
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
